/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dispatch: the one place the core calls a handler's callbacks, as DPDK's
 * rte_mempool_ops.c is, with each result checked here where the contract
 * allows.  Nothing else in src/ calls through struct xp_mempool_ops.
 *
 * The handler of a pool is mp->core->ops, a pointer into the registry,
 * whose entries are written once and never move: one load, no lookup.
 * (DPDK dispatches through an index into a table shared by processes;
 * pools here live in one process, and mp->handler_idx is kept for
 * introspection only.)
 *
 * get and put are inline (the cache-miss path); the rest is control path,
 * in dispatch.c.  Callers of get and put must not hold xp__pools_lock
 * unless they say why (thread exit, cache.c).
 */
#ifndef XENPOOL_DISPATCH_H
#define XENPOOL_DISPATCH_H

#include "core.h"

/* get_bulk: all @n objects, or none and -ENOBUFS (a handler that says
 * anything else than 0 gave none, by the contract). */
static inline int xp__dispatch_get(struct xp_mempool *mp, void **objs,
				   unsigned int n)
{
	return mp->core->ops->get_bulk(mp, objs, n) == 0 ? 0 : -ENOBUFS;
}

/* put_bulk: 0, or the handler's error, logged (the objects are lost). */
int xp__dispatch_put_failed(struct xp_mempool *mp, unsigned int n, int ret);

static inline int xp__dispatch_put(struct xp_mempool *mp, void *const *objs,
				   unsigned int n)
{
	int ret = mp->core->ops->put_bulk(mp, objs, n);

	return XP_LIKELY(ret == 0) ? 0 : xp__dispatch_put_failed(mp, n, ret);
}

/* create: 0 or a negative errno; a positive return is a broken contract:
 * the handler is told to destroy what it holds, and -EPROTO returned. */
int xp__dispatch_create(struct xp_mempool *mp, const char *args);
void xp__dispatch_destroy(struct xp_mempool *mp);
unsigned int xp__dispatch_count(const struct xp_mempool *mp);
/* The handler's virt2phy, or XP_BAD_PHYS... only when it has one: the
 * core answers from the chunks otherwise (xp__dispatch_has_virt2phy). */
int xp__dispatch_has_virt2phy(const struct xp_mempool *mp);
uint64_t xp__dispatch_virt2phy(const struct xp_mempool *mp, const void *addr);
void xp__dispatch_access(const struct xp_mempool *mp,
			 struct xp_mempool_access *acc);

#endif /* XENPOOL_DISPATCH_H */
