/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Debug mode: per-object state and guard checks, on every get and put (caches
 * are bypassed so that no object escapes the checks).
 *
 * Each object has one state byte in private memory, 1 while the pool holds
 * it and 0 while a user does, changed with atomic exchanges so that two
 * threads putting the same object at once cannot both succeed.  The guard is
 * an 8-byte pattern right after the object's elt_size bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "dispatch.h"

#define XP_DEBUG_BATCH 64u

int xp__debug_init(struct xp_mempool *mp)
{
	mp->core->dbg_free = calloc(mp->size, 1);
	return mp->core->dbg_free == NULL ? -ENOMEM : 0;
}

void xp__debug_fini(struct xp_mempool *mp)
{
	free(mp->core->dbg_free);
	mp->core->dbg_free = NULL;
}

/* Pools over shared memory have no guard (see xp__pool_layout()). */
static void guard_write(const struct xp_mempool *mp, void *obj)
{
	uint64_t g = XP_DEBUG_GUARD;

	if (mp->core->guard == 0)
		return;
	memcpy((char *)obj + mp->elt_size, &g, sizeof(g));
}

static int guard_ok(const struct xp_mempool *mp, const void *obj)
{
	uint64_t g;

	if (mp->core->guard == 0)
		return 1;
	memcpy(&g, (const char *)obj + mp->elt_size, sizeof(g));
	return g == XP_DEBUG_GUARD;
}

void xp__debug_obj_init(struct xp_mempool *mp, void *obj, unsigned int idx)
{
	guard_write(mp, obj);
	mp->core->dbg_free[idx] = 1;
}

int xp__debug_get(struct xp_mempool *mp, void **objs, unsigned int n)
{
	unsigned char *state = mp->core->dbg_free;
	unsigned int i;

	if (xp__ops_get(mp, objs, n) != 0)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		long idx = xp__obj_index(mp, objs[i]);

		if (idx < 0)
			XP_ERR("pool %s: handler returned %p, not an object "
			       "of the pool",
			       mp->name, objs[i]);
		else if (!__atomic_exchange_n(&state[idx], 0,
					      __ATOMIC_ACQ_REL))
			XP_ERR("pool %s: handler returned object %p, which "
			       "is in use",
			       mp->name, objs[i]);
	}
	return 0;
}

/* 0 when @obj may go back to the pool; counts and logs why not otherwise. */
static int put_check(struct xp_mempool *mp, void *obj)
{
	struct xp__mempool_core *core = mp->core;
	long idx = xp__obj_index(mp, obj);

	if (idx < 0) {
		__atomic_add_fetch(&core->dbg_foreign, 1, __ATOMIC_RELAXED);
		XP_ERR("pool %s: put of %p refused: not an object of the pool",
		       mp->name, obj);
		return -1;
	}
	/* Acquire-release: the exchange orders this thread's use of the
	 * object before whichever thread gets it next. */
	if (__atomic_exchange_n(&core->dbg_free[idx], 1, __ATOMIC_ACQ_REL)) {
		__atomic_add_fetch(&core->dbg_double, 1, __ATOMIC_RELAXED);
		XP_ERR("pool %s: put of %p refused: double put (the object is "
		       "already free)",
		       mp->name, obj);
		return -1;
	}
	if (!guard_ok(mp, obj)) {
		__atomic_store_n(&core->dbg_free[idx], 0, __ATOMIC_RELEASE);
		__atomic_add_fetch(&core->dbg_overrun, 1, __ATOMIC_RELAXED);
		XP_ERR("pool %s: put of %p refused: the guard after its %zu "
		       "bytes was overwritten",
		       mp->name, obj, mp->elt_size);
		return -1;
	}
	return 0;
}

void xp__debug_put(struct xp_mempool *mp, void *const *objs, unsigned int n)
{
	void *batch[XP_DEBUG_BATCH];
	unsigned int i, k = 0;

	for (i = 0; i < n; i++) {
		if (put_check(mp, objs[i]) == 0)
			batch[k++] = objs[i];
		if (k == XP_DEBUG_BATCH || (i + 1 == n && k > 0)) {
			(void)xp__dispatch_put(mp, batch, k);
			k = 0;
		}
	}
}

struct guard_scan {
	unsigned int bad;
	unsigned int free;
};

static void scan_obj(struct xp_mempool *mp, void *arg, void *obj,
		     unsigned int idx)
{
	struct guard_scan *scan = arg;

	if (!guard_ok(mp, obj)) {
		if (scan->bad++ < 8)
			XP_ERR("pool %s: object %p (index %u): guard after "
			       "its end overwritten",
			       mp->name, obj, idx);
	}
	scan->free += __atomic_load_n(&mp->core->dbg_free[idx],
				      __ATOMIC_ACQUIRE);
}

int xp__debug_audit(struct xp_mempool *mp)
{
	struct xp_mempool_debug_stats st;
	struct guard_scan scan = {0, 0};
	unsigned int held;

	xp_mempool_obj_iter(mp, scan_obj, &scan);
	if (scan.bad > 0) {
		XP_ERR("pool %s: %u objects with a damaged guard", mp->name,
		       scan.bad);
		return -EBADMSG;
	}
	xp_mempool_get_debug_stats(mp, &st);
	if (st.double_put + st.foreign_put + st.overrun > 0) {
		XP_ERR("pool %s: bad puts refused: %llu double, %llu foreign, "
		       "%llu overrun",
		       mp->name, (unsigned long long)st.double_put,
		       (unsigned long long)st.foreign_put,
		       (unsigned long long)st.overrun);
		return -EILSEQ;
	}
	held = xp__dispatch_count(mp);
	if (held != scan.free) {
		XP_ERR("pool %s: the handler holds %u objects but %u are "
		       "marked free",
		       mp->name, held, scan.free);
		return -EUCLEAN;
	}
	return 0;
}

int xp_mempool_get_debug_stats(const struct xp_mempool *mp,
			       struct xp_mempool_debug_stats *stats)
{
	const struct xp__mempool_core *core;

	if (mp == NULL || stats == NULL)
		return -EINVAL;
	core = mp->core;
	stats->double_put = __atomic_load_n(&core->dbg_double, __ATOMIC_RELAXED);
	stats->foreign_put =
		__atomic_load_n(&core->dbg_foreign, __ATOMIC_RELAXED);
	stats->overrun = __atomic_load_n(&core->dbg_overrun, __ATOMIC_RELAXED);
	return 0;
}
