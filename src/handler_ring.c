/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring handlers: a pool's free objects in an xp_ring over private memory,
 * objects in anonymous memory laid out by xp_mempool_populate_default().
 *
 * "ring_mp_mc" (the default) picks its ring variant from the pool's flags:
 * XP_MEMPOOL_F_SP_PUT gives a single-producer ring, XP_MEMPOOL_F_SC_GET a
 * single-consumer one.  The three others fix the variant whatever the flags.
 */
#include "config.h"

#include <errno.h>

#include <xenpool/ring.h>

#include "core.h"

const int xp__ring_handlers_linked = 1;

static int ring_create(struct xp_mempool *mp, unsigned int ring_flags)
{
	struct xp_ring *r;
	int ret;

	/* Exactly mp->size fit: the ring never refuses a put of the pool's
	 * own objects, so put_bulk cannot fail. */
	r = xp_ring_create(mp->size, ring_flags);
	if (r == NULL)
		return -errno;
	mp->pool_data = r;
	(void)xp_mempool_handler_set_ring(mp, r);
	ret = xp_mempool_populate_default(mp);
	if (ret < 0) {
		mp->pool_data = NULL;
		xp_ring_free(r);
		return ret;
	}
	return 0;
}

static int ring_create_by_flags(struct xp_mempool *mp, const char *args)
{
	unsigned int f = 0;

	if (mp->flags & XP_MEMPOOL_F_SP_PUT)
		f |= XP_RING_F_SP_ENQ;
	if (mp->flags & XP_MEMPOOL_F_SC_GET)
		f |= XP_RING_F_SC_DEQ;
	return ring_create(mp, f);
}

static int ring_create_sp_sc(struct xp_mempool *mp, const char *args)
{
	return ring_create(mp, XP_RING_F_SP_ENQ | XP_RING_F_SC_DEQ);
}

static int ring_create_mp_sc(struct xp_mempool *mp, const char *args)
{
	return ring_create(mp, XP_RING_F_SC_DEQ);
}

static int ring_create_sp_mc(struct xp_mempool *mp, const char *args)
{
	return ring_create(mp, XP_RING_F_SP_ENQ);
}

static void ring_destroy(struct xp_mempool *mp)
{
	xp_ring_free(mp->pool_data);
	mp->pool_data = NULL;
}

static int ring_get(struct xp_mempool *mp, void **objs, unsigned int n)
{
	return xp_ring_dequeue_bulk(mp->pool_data, objs, n, NULL) == n
		       ? 0
		       : -ENOBUFS;
}

static int ring_put(struct xp_mempool *mp, void *const *objs, unsigned int n)
{
	return xp_ring_enqueue_bulk(mp->pool_data, objs, n, NULL) == n
		       ? 0
		       : -ENOBUFS;
}

static unsigned int ring_count(const struct xp_mempool *mp)
{
	return xp_ring_count(mp->pool_data);
}

/* The variant a handler fixes is its contract: said in its flags. */
#define XP_RING_OPS(var, hname, createfn, opsflags)                           \
	static const struct xp_mempool_ops var = {                            \
		.name = hname,                                                \
		.create = createfn,                                           \
		.destroy = ring_destroy,                                      \
		.get_bulk = ring_get,                                         \
		.put_bulk = ring_put,                                         \
		.get_count = ring_count,                                      \
		.flags = opsflags,                                            \
	};                                                                    \
	XP_MEMPOOL_REGISTER_HANDLER(var)

XP_RING_OPS(ops_mp_mc, "ring_mp_mc", ring_create_by_flags, 0)
XP_RING_OPS(ops_sp_sc, "ring_sp_sc", ring_create_sp_sc,
	    XP_MEMPOOL_OPS_F_SP_PUT | XP_MEMPOOL_OPS_F_SC_GET)
XP_RING_OPS(ops_mp_sc, "ring_mp_sc", ring_create_mp_sc,
	    XP_MEMPOOL_OPS_F_SC_GET)
XP_RING_OPS(ops_sp_mc, "ring_sp_mc", ring_create_sp_mc,
	    XP_MEMPOOL_OPS_F_SP_PUT)
