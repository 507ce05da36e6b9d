/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Introspection: counts, iteration over objects and chunks, audit, dump.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"
#include "dispatch.h"

unsigned int xp_mempool_avail_count(const struct xp_mempool *mp)
{
	unsigned int count;

	if (mp == NULL)
		return 0;
	count = xp__dispatch_count(mp) + xp__caches_count(mp, NULL);
	/* Counts read while threads run can add up to more than the pool. */
	return count > mp->size ? mp->size : count;
}

unsigned int xp_mempool_in_use_count(const struct xp_mempool *mp)
{
	return mp == NULL ? 0 : mp->size - xp_mempool_avail_count(mp);
}

unsigned int xp_mempool_obj_iter(struct xp_mempool *mp,
				 xp_mempool_obj_cb_t *cb, void *arg)
{
	unsigned int i, j, n = 0;

	if (mp == NULL || cb == NULL)
		return 0;
	for (i = 0; i < mp->core->nchunks; i++) {
		const struct xp__chunk *c = &mp->core->chunks[i];

		for (j = 0; j < c->nobjs; j++, n++)
			cb(mp, arg,
			   (void *)(c->first_obj + (size_t)j * mp->obj_stride),
			   c->first_idx + j);
	}
	return n;
}

unsigned int xp_mempool_mem_iter(struct xp_mempool *mp,
				 xp_mempool_mem_cb_t *cb, void *arg)
{
	unsigned int i;

	if (mp == NULL || cb == NULL)
		return 0;
	for (i = 0; i < mp->core->nchunks; i++) {
		const struct xp__chunk *c = &mp->core->chunks[i];

		cb(mp, arg, (void *)c->va, c->phys, c->len, i);
	}
	return mp->core->nchunks;
}

unsigned int xp_mempool_chunk_count(const struct xp_mempool *mp)
{
	return mp == NULL ? 0 : mp->core->nchunks;
}

int xp_mempool_chunk_info(const struct xp_mempool *mp, unsigned int idx,
			  struct xp_mempool_chunk *out)
{
	const struct xp__chunk *c;
	size_t covered;

	if (mp == NULL || out == NULL)
		return -EINVAL;
	if (idx >= mp->core->nchunks)
		return -ENOENT;
	c = &mp->core->chunks[idx];
	/* From the first object to the end of the last one's element (and
	 * debug guard): the alignment before and the tail after are waste. */
	covered = c->nobjs == 0 ? 0
				: (size_t)(c->nobjs - 1) * mp->obj_stride +
					  mp->elt_size + mp->core->guard;
	*out = (struct xp_mempool_chunk){
		.va = (void *)c->va,
		.len = c->len,
		.phys = c->phys,
		.first_obj = c->nobjs ? (void *)c->first_obj : NULL,
		.first_idx = c->first_idx,
		.nobjs = c->nobjs,
		.waste = c->len - covered,
	};
	return 0;
}

static int audit_counts(struct xp_mempool *mp)
{
	unsigned int handler = xp__dispatch_count(mp);
	int overfull = 0;
	unsigned int cached = xp__caches_count(mp, &overfull);

	if (overfull) {
		XP_ERR("pool %s: a cache holds more than its storage",
		       mp->name);
		return -ERANGE;
	}
	if (handler > mp->size || cached > mp->size - handler) {
		XP_ERR("pool %s: %u objects in the handler and %u in caches, "
		       "but the pool has %u",
		       mp->name, handler, cached, mp->size);
		return -ERANGE;
	}
	return 0;
}

int xp_mempool_audit(struct xp_mempool *mp)
{
	int ret;

	if (mp == NULL)
		return -EINVAL;
	pthread_mutex_lock(&xp__pools_lock);
	ret = audit_counts(mp);
	pthread_mutex_unlock(&xp__pools_lock);
	if (ret == 0 && (mp->flags & XP_MEMPOOL_F_DEBUG))
		ret = xp__debug_audit(mp);
	return ret;
}

void xp_mempool_dump(FILE *f, const struct xp_mempool *mp)
{
	const struct xp__mempool_core *core;
	struct xp_mempool_debug_stats st;
	unsigned int i, avail;

	if (f == NULL || mp == NULL)
		return;
	core = mp->core;
	avail = xp_mempool_avail_count(mp);
	fprintf(f, "mempool <%s>@%p\n", mp->name, (const void *)mp);
	fprintf(f, "  handler=%s (index %d)\n", core->ops->name,
		mp->handler_idx);
	fprintf(f, "  flags=0x%x%s%s%s%s\n", mp->flags,
		(mp->flags & XP_MEMPOOL_F_SP_PUT) ? " SP_PUT" : "",
		(mp->flags & XP_MEMPOOL_F_SC_GET) ? " SC_GET" : "",
		(mp->flags & XP_MEMPOOL_F_NO_CACHE_ALIGN) ? " NO_CACHE_ALIGN"
							  : "",
		(mp->flags & XP_MEMPOOL_F_DEBUG) ? " DEBUG" : "");
	fprintf(f, "  size=%u elt_size=%zu obj_stride=%zu priv_size=%zu\n",
		mp->size, mp->elt_size, mp->obj_stride, mp->priv_size);
	fprintf(f, "  avail=%u in_use=%u in_handler=%u in_caches=%u\n", avail,
		mp->size - avail, xp__dispatch_count(mp),
		xp__caches_count(mp, NULL));
	fprintf(f, "  cache_size=%u flushthresh=%u\n", mp->cache_size,
		xp__cache_flushthresh(mp->cache_size));
	fprintf(f, "  chunks=%u\n", core->nchunks);
	for (i = 0; i < core->nchunks && i < 8; i++) {
		const struct xp__chunk *c = &core->chunks[i];

		fprintf(f, "    [%u] va=%#lx len=%zu phys=", i,
			(unsigned long)c->va, c->len);
		if (c->phys == XP_BAD_PHYS)
			fprintf(f, "none");
		else
			fprintf(f, "%#llx", (unsigned long long)c->phys);
		fprintf(f, " objs=%u\n", c->nobjs);
	}
	if (core->nchunks > 8)
		fprintf(f, "    ... %u more\n", core->nchunks - 8);
	if (mp->flags & XP_MEMPOOL_F_DEBUG) {
		xp_mempool_get_debug_stats(mp, &st);
		fprintf(f,
			"  debug: double_put=%llu foreign_put=%llu "
			"overrun=%llu\n",
			(unsigned long long)st.double_put,
			(unsigned long long)st.foreign_put,
			(unsigned long long)st.overrun);
	}
}
