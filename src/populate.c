/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Layout and populate: objects placed in the chunks a handler gives, the
 * chunk index (sorted by address) behind virt2phy and the debug checks,
 * and the rest of the handler-side API (doc/handlers.md).  Runs while a
 * pool is created, on the creating thread, without xp__pools_lock.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xenpool/ring.h>

#include "core.h"
#include "dispatch.h"

/* Objects handed to put_bulk at once while populating. */
#define XP_POPULATE_BATCH 256u

/* ---- layout ---------------------------------------------------------- */

/* Stride and alignment for a pool, 0 on overflow. */
static size_t layout_stride(size_t elt_size, size_t guard, size_t align)
{
	if (elt_size > SIZE_MAX - guard - align)
		return 0;
	return xp__align_up(elt_size + guard, align);
}

/*
 * Object layout for the pool's handler.  The debug guard sits right after
 * each object, so it is left out of memory another party can write: there
 * it would prove nothing, and a peer could fake overruns at will.
 */
int xp__pool_layout(struct xp_mempool *mp, const struct xp_mempool_ops *ops)
{
	struct xp__mempool_core *core = mp->core;
	size_t align = (mp->flags & XP_MEMPOOL_F_NO_CACHE_ALIGN)
			       ? sizeof(void *)
			       : XP_CACHE_LINE_SIZE;
	size_t guard = (mp->flags & XP_MEMPOOL_F_DEBUG) &&
				       !(ops->flags & XP_MEMPOOL_OPS_F_SHARED_MEM)
			       ? XP_DEBUG_GUARD_SIZE
			       : 0;
	size_t stride = layout_stride(mp->elt_size, guard, align);

	/* The whole pool must be addressable: n strides fit in size_t. */
	if (stride == 0 || stride > SIZE_MAX / mp->size)
		return -EINVAL;
	mp->obj_stride = stride;
	core->align = align;
	core->guard = guard;
	core->ops = ops;
	return 0;
}

/* ---- populate -------------------------------------------------------- */

size_t xp_mempool_chunk_size(const struct xp_mempool *mp, unsigned int n)
{
	size_t tail;

	if (mp == NULL || n == 0)
		return 0;
	tail = mp->elt_size + mp->core->guard;
	if ((size_t)(n - 1) > (SIZE_MAX - tail) / mp->obj_stride)
		return 0;
	return (size_t)(n - 1) * mp->obj_stride + tail;
}

size_t xp_mempool_chunk_objs(const struct xp_mempool *mp, const void *va,
			     size_t len)
{
	uintptr_t start = (uintptr_t)va, skip;
	size_t tail;

	if (mp == NULL || len == 0 || len - 1 > UINTPTR_MAX - start)
		return 0;
	skip = xp__align_up(start, mp->core->align) - start;
	tail = mp->elt_size + mp->core->guard;
	if (skip >= len || len - skip < tail)
		return 0;
	return (len - skip - tail) / mp->obj_stride + 1;
}

unsigned int xp_mempool_populate_missing(const struct xp_mempool *mp)
{
	return mp == NULL ? 0 : mp->size - mp->core->populated;
}

static const struct xp__chunk *sorted(const struct xp__mempool_core *core,
				       unsigned int pos)
{
	return &core->chunks[core->by_va[pos]];
}

/* Position where a chunk starting at @va goes in the sorted index. */
static unsigned int chunk_pos(const struct xp__mempool_core *core,
			      uintptr_t va)
{
	unsigned int lo = 0, hi = core->nchunks;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (sorted(core, mid)->va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int chunk_overlaps(const struct xp__mempool_core *core,
			  unsigned int pos, uintptr_t va, size_t len)
{
	if (pos > 0) {
		const struct xp__chunk *prev = sorted(core, pos - 1);

		if (prev->va + prev->len > va)
			return 1;
	}
	return pos < core->nchunks && sorted(core, pos)->va < va + len;
}

static int chunk_reserve(struct xp__mempool_core *core)
{
	struct xp__chunk *c;
	unsigned int *idx, cap;

	if (core->nchunks < core->chunks_cap)
		return 0;
	cap = core->chunks_cap ? core->chunks_cap * 2 : 8;
	c = realloc(core->chunks, (size_t)cap * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	core->chunks = c;
	idx = realloc(core->by_va, (size_t)cap * sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	core->by_va = idx;
	core->chunks_cap = cap;
	return 0;
}

static int place_objects(struct xp_mempool *mp, uintptr_t first,
			 unsigned int count)
{
	struct xp__mempool_core *core = mp->core;
	void *batch[XP_POPULATE_BATCH];
	unsigned int i, k = 0;
	int ret;

	for (i = 0; i < count; i++) {
		void *obj = (void *)(first + (size_t)i * mp->obj_stride);
		unsigned int idx = core->populated + i;

		if (core->obj_init != NULL)
			core->obj_init(mp, core->obj_init_arg, obj, idx);
		if (core->dbg_free != NULL)
			xp__debug_obj_init(mp, obj, idx);
		batch[k++] = obj;
		if (k == XP_POPULATE_BATCH || i + 1 == count) {
			ret = xp__dispatch_put(mp, batch, k);
			if (ret != 0)
				return ret;
			k = 0;
		}
	}
	return 0;
}

int xp_mempool_populate(struct xp_mempool *mp, void *va, uint64_t phys,
			size_t len)
{
	struct xp__mempool_core *core;
	uintptr_t start, first;
	unsigned int fit, pos;
	size_t room;
	int ret;

	if (mp == NULL || va == NULL || len == 0 ||
	    len - 1 > UINTPTR_MAX - (uintptr_t)va)
		return -EINVAL;
	core = mp->core;
	if (!core->creating)
		return -EBUSY;
	if (core->populate_err != 0)
		return core->populate_err;
	start = (uintptr_t)va;
	first = xp__align_up(start, core->align);
	room = xp_mempool_chunk_objs(mp, va, len);
	if (room == 0 || core->populated == mp->size)
		return 0;
	fit = room < mp->size - core->populated
		      ? (unsigned int)room
		      : mp->size - core->populated;
	pos = chunk_pos(core, start);
	if (chunk_overlaps(core, pos, start, len)) {
		XP_ERR("pool %s: chunk %p+%zu overlaps a recorded chunk",
		       mp->name, va, len);
		return -EINVAL;
	}
	ret = chunk_reserve(core);
	if (ret != 0)
		return ret;
	/* Record the chunk first: the object initialiser may ask for the
	 * bus address of its object (the mbuf layer does). */
	memmove(&core->by_va[pos + 1], &core->by_va[pos],
		(core->nchunks - pos) * sizeof(core->by_va[0]));
	core->by_va[pos] = core->nchunks;
	core->chunks[core->nchunks] = (struct xp__chunk){
		.va = start,
		.len = len,
		.phys = phys,
		.first_obj = first,
		.first_idx = core->populated,
		.nobjs = fit,
	};
	core->nchunks++;
	ret = place_objects(mp, first, fit);
	if (ret != 0) {
		/* Some objects of this chunk may be in the handler already:
		 * the creation cannot succeed any more.  Forget the chunk. */
		core->nchunks--;
		memmove(&core->by_va[pos], &core->by_va[pos + 1],
			(core->nchunks - pos) * sizeof(core->by_va[0]));
		core->populate_err = ret;
		return ret;
	}
	core->populated += fit;
	return (int)fit;
}

int xp_mempool_handler_set_page_table(struct xp_mempool *mp, const void *va,
				      size_t npages, const uint64_t *pages)
{
	size_t i;

	if (mp == NULL || va == NULL || pages == NULL || npages == 0 ||
	    ((uintptr_t)va & (XP_PAGE_SIZE - 1)) != 0 ||
	    npages > (SIZE_MAX - (uintptr_t)va) / XP_PAGE_SIZE)
		return -EINVAL;
	for (i = 0; i < npages; i++)
		if (pages[i] != XP_BAD_PHYS && (pages[i] & (XP_PAGE_SIZE - 1)))
			return -EINVAL;
	if (!mp->core->creating)
		return -EBUSY;
	mp->v2p_va = (uintptr_t)va;
	mp->v2p_len = npages * XP_PAGE_SIZE;
	mp->v2p_pages = pages;
	return 0;
}

int xp_mempool_handler_set_ring(struct xp_mempool *mp, struct xp_ring *r)
{
	if (mp == NULL || r == NULL)
		return -EINVAL;
	if (!mp->core->creating || mp->core->store != NULL)
		return -EBUSY;
	mp->core->ring = r;
	return 0;
}

int xp_mempool_handler_ring_store(struct xp_mempool *mp,
				  unsigned int ring_flags)
{
	struct xp_ring *r;

	if (mp == NULL || (ring_flags & ~(XP_RING_F_SP_ENQ | XP_RING_F_SC_DEQ)))
		return -EINVAL;
	if (!mp->core->creating || mp->core->ring != NULL)
		return -EBUSY;
	if (mp->flags & XP_MEMPOOL_F_SP_PUT)
		ring_flags |= XP_RING_F_SP_ENQ;
	if (mp->flags & XP_MEMPOOL_F_SC_GET)
		ring_flags |= XP_RING_F_SC_DEQ;
	/* Exactly mp->size fit: a put of the pool's own objects never
	 * finds it full. */
	r = xp_ring_create(mp->size, ring_flags);
	if (r == NULL)
		return -ENOMEM;
	mp->core->store = r;
	mp->core->ring = r;
	return 0;
}

void xp__ring_store_release(struct xp_mempool *mp)
{
	xp_ring_free(mp->core->store);
	mp->core->store = NULL;
	mp->core->ring = NULL;
}

int xp_mempool_ring_store_get(struct xp_mempool *mp, void **objs,
			      unsigned int n)
{
	return xp_ring_dequeue_bulk(mp->core->store, objs, n, NULL) == n
		       ? 0
		       : -ENOBUFS;
}

int xp_mempool_ring_store_put(struct xp_mempool *mp, void *const *objs,
			      unsigned int n)
{
	return xp_ring_enqueue_bulk(mp->core->store, objs, n, NULL) == n
		       ? 0
		       : -ENOBUFS;
}

unsigned int xp_mempool_ring_store_count(const struct xp_mempool *mp)
{
	return xp_ring_count(mp->core->store);
}

int xp_mempool_handler_fallback(struct xp_mempool *mp, const char *why)
{
	if (mp == NULL)
		return -EINVAL;
	if (!mp->core->creating || mp->core->populated != 0 ||
	    mp->core->fallback_why != NULL)
		return -EBUSY;
	mp->core->fallback_why = strdup(why != NULL ? why : "no reason given");
	return mp->core->fallback_why == NULL ? -ENOMEM : 0;
}

int xp_mempool_populate_default(struct xp_mempool *mp)
{
	struct xp__anon *a;
	size_t need, len;
	void *va;
	int ret;

	if (mp == NULL)
		return -EINVAL;
	if (!mp->core->creating)
		return -EBUSY;
	if (mp->core->populated == mp->size)
		return 0;
	need = xp_mempool_chunk_size(mp, mp->size - mp->core->populated);
	if (need == 0 || need > SIZE_MAX - XP_PAGE_SIZE)
		return -ENOMEM;
	/* Whole pages mapped; the chunk is what the objects need, so that
	 * it holds no waste (xp_mempool_chunk_info). */
	len = xp__align_up(need, XP_PAGE_SIZE);
	a = malloc(sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	va = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED) {
		free(a);
		return -ENOMEM;
	}
	ret = xp_mempool_populate(mp, va, (uint64_t)(uintptr_t)va, need);
	if (ret <= 0) {
		munmap(va, len);
		free(a);
		return ret < 0 ? ret : -ENOMEM;
	}
	a->va = va;
	a->len = len;
	a->next = mp->core->anon;
	mp->core->anon = a;
	return ret;
}

/* ---- lookups by address ---------------------------------------------- */

const struct xp__chunk *xp__chunk_find(const struct xp_mempool *mp,
				       uintptr_t addr)
{
	const struct xp__mempool_core *core = mp->core;
	unsigned int pos = chunk_pos(core, addr + 1);
	const struct xp__chunk *c;

	/* pos is the first chunk starting above addr; the candidate is the
	 * one before it. */
	if (pos == 0)
		return NULL;
	c = sorted(core, pos - 1);
	return addr - c->va < c->len ? c : NULL;
}

long xp__obj_index(const struct xp_mempool *mp, const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	const struct xp__chunk *c = xp__chunk_find(mp, a);
	size_t off;

	if (c == NULL || a < c->first_obj)
		return -1;
	off = a - c->first_obj;
	if (off % mp->obj_stride != 0 || off / mp->obj_stride >= c->nobjs)
		return -1;
	return (long)(c->first_idx + off / mp->obj_stride);
}

uint64_t xp__mempool_virt2phy(const struct xp_mempool *mp, const void *addr)
{
	const struct xp__chunk *c;

	if (mp == NULL)
		return XP_BAD_PHYS;
	if (xp__dispatch_has_virt2phy(mp))
		return xp__dispatch_virt2phy(mp, addr);
	/* One chunk (populate_default): no search. */
	c = mp->core->nchunks == 1 ? &mp->core->chunks[0]
				   : xp__chunk_find(mp, (uintptr_t)addr);
	if (c != NULL && (uintptr_t)addr - c->va >= c->len)
		c = NULL;
	if (c == NULL || c->phys == XP_BAD_PHYS)
		return XP_BAD_PHYS;
	return c->phys + ((uintptr_t)addr - c->va);
}
