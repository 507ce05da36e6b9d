/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ring handlers: a pool's free objects in the core's ring store
 * (xp_mempool_handler_ring_store()) over private memory, objects in
 * anonymous memory laid out by xp_mempool_populate_default().
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

/* The store is the core's (xp_mempool_handler_ring_store()): the ring
 * handlers are a ring variant and anonymous memory, nothing else. */
static int ring_create(struct xp_mempool *mp, unsigned int ring_flags)
{
	int ret = xp_mempool_handler_ring_store(mp, ring_flags);

	if (ret == 0)
		ret = xp_mempool_populate_default(mp);
	/* The core frees the ring and the memory after a failed create. */
	return ret < 0 ? ret : 0;
}

static int ring_create_by_flags(struct xp_mempool *mp, const char *args)
{
	return ring_create(mp, 0);
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

/* Nothing of its own to release. */
static void ring_destroy(struct xp_mempool *mp)
{
	(void)mp;
}

/* The variant a handler fixes is its contract: said in its flags. */
#define XP_RING_OPS(var, hname, createfn, opsflags)                           \
	static const struct xp_mempool_ops var = {                            \
		.name = hname,                                                \
		.create = createfn,                                           \
		.destroy = ring_destroy,                                      \
		.get_bulk = xp_mempool_ring_store_get,                        \
		.put_bulk = xp_mempool_ring_store_put,                        \
		.get_count = xp_mempool_ring_store_count,                     \
		.flags = opsflags,                                            \
	};                                                                    \
	XP_MEMPOOL_REGISTER_HANDLER(var)

XP_RING_OPS(ops_mp_mc, XP_MEMPOOL_BUILTIN_HANDLER, ring_create_by_flags, 0)
XP_RING_OPS(ops_sp_sc, "ring_sp_sc", ring_create_sp_sc,
	    XP_MEMPOOL_OPS_F_SP_PUT | XP_MEMPOOL_OPS_F_SC_GET)
XP_RING_OPS(ops_mp_sc, "ring_mp_sc", ring_create_mp_sc,
	    XP_MEMPOOL_OPS_F_SC_GET)
XP_RING_OPS(ops_sp_mc, "ring_sp_mc", ring_create_sp_mc,
	    XP_MEMPOOL_OPS_F_SP_PUT)
