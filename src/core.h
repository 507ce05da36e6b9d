/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the library: the pool core's own state and the contracts
 * between src/ files.  Never installed.
 *
 * The files of src/, one concern each:
 *   registry.c      the handler table, the process default (reg_lock)
 *   driver.c        loading handler drivers (shared objects)
 *   dispatch.[ch]   every call from the core into a handler
 *   pool.c          pool lifetime: create, fallback, free; the pool list,
 *                   lookup and walk (xp__pools_lock)
 *   populate.c      layout, populate, the chunk index, virt2phy, the rest
 *                   of the handler-side API (ring store, page table)
 *   cache.c         per-thread and user caches, the out-of-line get/put
 *   introspect.c    counts, iteration, audit, dump
 *   debug.c         debug mode's per-object checks
 *   ring.c          xp_ring (its fast path is inline in ring.h)
 *   handler_ring.c  the ring handlers
 *   mbuf.c          packet buffers
 *   log.c           the log
 * Which lock guards what, what runs under it and what a handler callback
 * may call there: doc/handlers.md, "Locks".
 */
#ifndef XENPOOL_SRC_CORE_H
#define XENPOOL_SRC_CORE_H

#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>

#include <xenpool/handler.h>
#include <xenpool/log.h>
#include <xenpool/mempool.h>

#define XP_ERR(...) xp_log(XP_LOG_ERR, __VA_ARGS__)
#define XP_WARN(...) xp_log(XP_LOG_WARNING, __VA_ARGS__)
#define XP_NOTICE(...) xp_log(XP_LOG_NOTICE, __VA_ARGS__)
#define XP_INFO(...) xp_log(XP_LOG_INFO, __VA_ARGS__)
#define XP_DBG(...) xp_log(XP_LOG_DEBUG, __VA_ARGS__)

/* @p v rounded up to a multiple of @p a, a power of two. */
static inline size_t xp__align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* @p bytes from aligned_alloc, cache-line aligned, rounded up to whole lines
 * as aligned_alloc requires.  NULL when out of memory. */
static inline void *xp__alloc_lines(size_t bytes)
{
	return aligned_alloc(XP_CACHE_LINE_SIZE,
			     xp__align_up(bytes, XP_CACHE_LINE_SIZE));
}

/* A cache's flush threshold: a put never leaves more than this many
 * objects in a cache of @p size (struct xp_mempool_cache, flushthresh). */
static inline uint32_t xp__cache_flushthresh(unsigned int size)
{
	return size + size / 2;
}

/* The checks of xp_mempool_create_ex() on its arguments: 0 or an errno
 * (EINVAL, ENAMETOOLONG).  For layers that must check before they take
 * anything (the packet buffer pool's rooms). */
int xp__mempool_check_args(const char *name, unsigned int n, size_t elt_size,
			   unsigned int cache_size, size_t priv_size,
			   unsigned int flags);

/* Stride, alignment and guard of @p mp for handler @p ops (populate.c):
 * 0, or -EINVAL when n objects would not be addressable. */
int xp__pool_layout(struct xp_mempool *mp, const struct xp_mempool_ops *ops);

/* Guard word written after each object of a debug pool. */
#define XP_DEBUG_GUARD 0x5a5e6ee9c0ffee11ull
#define XP_DEBUG_GUARD_SIZE 8u

/* A physically contiguous run recorded by populate. */
struct xp__chunk {
	uintptr_t va;        /* as given */
	size_t len;
	uint64_t phys;       /* bus address of va, or XP_BAD_PHYS */
	uintptr_t first_obj; /* address of the first object placed */
	unsigned int first_idx;
	unsigned int nobjs;
};

/* Memory the core mapped (populate_default) and unmaps at free. */
struct xp__anon {
	struct xp__anon *next;
	void *va;
	size_t len;
};

struct xp__mempool_core {
	struct xp_mempool *next_pool; /* pool list, under xp__pools_lock */
	const struct xp_mempool_ops *ops;
	int creating;                 /* populate allowed */
	int live;                     /* visible to lookup and walk */
	xp_mempool_obj_cb_t *obj_init;
	void *obj_init_arg;
	size_t align;
	size_t guard;                 /* XP_DEBUG_GUARD_SIZE in debug mode */
	unsigned int populated;
	int populate_err;             /* a populate failed half-way */
	char *fallback_why;           /* set by xp_mempool_handler_fallback */
	xp_mempool_free_cb_t *free_cb; /* xp_mempool_set_free_cb */
	struct xp_ring *ring;         /* xp_mempool_handler_set_ring */
	struct xp_ring *store;        /* xp_mempool_handler_ring_store: ring,
				       * owned by the core */
	void *free_cb_arg;
	struct xp__chunk *chunks;     /* in populate order */
	unsigned int *by_va;          /* indices into chunks, sorted by va */
	unsigned int nchunks;
	unsigned int chunks_cap;
	struct xp__anon *anon;
	/* Debug mode: one state byte per object (1 = free, 0 = in use),
	 * changed with atomic exchanges; counters of refused puts. */
	unsigned char *dbg_free;
	uint64_t dbg_double;
	uint64_t dbg_foreign;
	uint64_t dbg_overrun;
	/* XP_MEMPOOL_F_SP_PUT pools with caches: objects of caches whose
	 * thread exited, served to gets before the handler (an exiting
	 * thread must not become a second producer).  Under xp__pools_lock;
	 * norphans is also read without it, as a hint. */
	void **orphans;
	unsigned int norphans;
	void *priv;
};

/* Pool list (pool.c); cache.c walks it when a thread exits. */
extern pthread_mutex_t xp__pools_lock;
extern struct xp_mempool *xp__pools;

/* Registry (registry.c). */
int xp__handler_resolve(const char *name, const struct xp_mempool_ops **ops);
extern const int xp__ring_handlers_linked; /* handler_ring.c */

/* Drivers (driver.c): load the driver directories, once. */
void xp__drivers_autoload(void);
const char *xp__driver_dir(void);

/* Handler calls, with the result checked where the contract allows.
 * xp__ops_get serves orphaned objects first (cache.c). */
int xp__ops_get(struct xp_mempool *mp, void **objs, unsigned int n);


/* Caches (cache.c). */
void xp__caches_free_all(struct xp_mempool *mp);
/* Objects in per-thread caches and orphaned; sets *overfull (if not NULL)
 * when a cache holds more than its storage. */
unsigned int xp__caches_count(const struct xp_mempool *mp, int *overfull);
int xp__cache_alloc_into(struct xp_mempool_cache **out, unsigned int size);

/* Chunks and objects (populate.c). */
/* Free the ring store, if any, and forget the declared ring. */
void xp__ring_store_release(struct xp_mempool *mp);
const struct xp__chunk *xp__chunk_find(const struct xp_mempool *mp,
				       uintptr_t addr);
/* Index of the object starting exactly at @addr, or -1. */
long xp__obj_index(const struct xp_mempool *mp, const void *addr);

/* Debug mode (debug.c). */
int xp__debug_init(struct xp_mempool *mp);
void xp__debug_fini(struct xp_mempool *mp);
void xp__debug_obj_init(struct xp_mempool *mp, void *obj, unsigned int idx);
int xp__debug_get(struct xp_mempool *mp, void **objs, unsigned int n);
void xp__debug_put(struct xp_mempool *mp, void *const *objs, unsigned int n);
int xp__debug_audit(struct xp_mempool *mp);

#endif /* XENPOOL_SRC_CORE_H */
