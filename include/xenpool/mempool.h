/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Memory pools of fixed-size objects over a handler, with per-thread caches.
 *
 * A pool holds @c n objects of @c elt_size bytes.  Its memory and its store
 * of free objects belong to a handler (see handler.h); the core lays the
 * objects out (xp_mempool_populate), keeps per-thread caches in front of the
 * handler, and answers introspection.
 *
 * Objects carry no header: the pool spends nothing per object beyond the
 * object itself (rounded up to a cache line unless XP_MEMPOOL_F_NO_CACHE_ALIGN)
 * and the handler's own store (8 bytes a pointer for the ring handlers).  The
 * bus address of an object comes from the handler, by xp_mempool_virt2phy().
 *
 * Per-thread caches: any thread gets a cache for a pool on its first get or
 * put, with no registration.  A cache hit costs a thread-local load, two
 * loads, a copy and a store: no atomic read-modify-write, no lock, no call
 * through a function pointer.  The handler runs only on a miss or a flush.
 * When a thread exits, each cache it had goes back to its pool.  Objects in
 * another thread's cache are not available to this thread (as in DPDK).
 * Policy, for a pool created with cache_size S:
 *  - the cache holds up to 2S objects of storage; a put that would take it
 *    above 1.5S (DPDK's flush threshold) first flushes it down so that it
 *    holds S after the put;
 *  - a get that the cache cannot serve takes what it needs plus S from the
 *    handler, so that S remain after the get; if the handler cannot give that
 *    much, exactly what is missing; if not even that, -ENOENT;
 *  - a get the cache can serve and a put that stays under 1.5S are served
 *    by the cache whatever their size (the inline path does not look at S);
 *    otherwise a get or put of more than S objects goes to the handler
 *    directly, without refill or flush (a get may use the cache's objects to
 *    complete what the handler alone cannot give).
 * With XP_MEMPOOL_F_SP_PUT the exiting thread must not put (it would be a
 * second producer): its cached objects are set aside in the pool's private
 * memory, counted as available, and handed to the next gets before the
 * handler is asked.
 * Thread caches exist for the first XP_MEMPOOL_MAX_THREADS - 1 threads alive
 * at once; later threads work uncached until a slot is freed by a thread exit.
 *
 * Debug mode (XP_MEMPOOL_F_DEBUG, or XENPOOL_DEBUG=1 in the environment at
 * creation): every get and put goes straight to the handler, bypassing caches,
 * and is checked.  A put of an object that is already in the pool (double
 * put), of a pointer that is not one of the pool's objects, or of an object
 * whose guard word after its end was overwritten, is logged, counted
 * (xp_mempool_get_debug_stats) and refused; xp_mempool_audit() reports it.
 * Debug pools add an 8-byte guard after each object, except on handlers whose
 * memory another party can write (XP_MEMPOOL_OPS_F_SHARED_MEM): there a guard
 * would prove nothing, so overruns are not detected; double and foreign puts
 * still are (their state is kept in private memory).
 *
 * Thread safety: get and put are safe from any number of threads (unless the
 * pool has XP_MEMPOOL_F_SP_PUT / XP_MEMPOOL_F_SC_GET, which promise one putter
 * / one getter at a time).  Create, free, lookup and walk are safe against each
 * other.  Freeing a pool while another thread still uses it is the caller's
 * bug, as with free().
 */
#ifndef XENPOOL_MEMPOOL_H
#define XENPOOL_MEMPOOL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <xenpool/common.h>
#include <xenpool/handler.h>
#include <xenpool/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest cache_size of a pool or of a user-owned cache. */
#define XP_MEMPOOL_CACHE_MAX_SIZE 512

/** Thread slots: threads alive at once that can have caches, plus one. */
#define XP_MEMPOOL_MAX_THREADS 512

/** One thread puts at a time: the ring handlers use a single-producer ring. */
#define XP_MEMPOOL_F_SP_PUT 0x1u
/** One thread gets at a time: the ring handlers use a single-consumer ring. */
#define XP_MEMPOOL_F_SC_GET 0x2u
/** Do not round objects up to a cache line (8-byte alignment only). */
#define XP_MEMPOOL_F_NO_CACHE_ALIGN 0x4u
/** Per-object checks at run time (see the file comment). */
#define XP_MEMPOOL_F_DEBUG 0x8u
/** All valid pool flags. */
#define XP_MEMPOOL_F_MASK                                                     \
	(XP_MEMPOOL_F_SP_PUT | XP_MEMPOOL_F_SC_GET |                          \
	 XP_MEMPOOL_F_NO_CACHE_ALIGN | XP_MEMPOOL_F_DEBUG)

/**
 * A cache of free objects, per thread or owned by the user.  Layout is ABI.
 * len is written only by the cache's owner; others read it (for counts) with
 * relaxed loads, which is why the owner stores it with a relaxed atomic store
 * (a plain mov on x86 and arm64; no read-modify-write, no fence).
 */
struct xp_mempool_cache {
	uint32_t len;         /**< objects held */
	uint32_t size;        /**< target fill after refill or flush */
	uint32_t flushthresh; /**< a put never leaves more than this */
	uint32_t capacity;    /**< storage entries (2 * size) */
	/* The storage, capacity pointers, starts XP_CACHE_LINE_SIZE bytes
	 * after the start of this structure: xp__cache_slots(). */
};

struct xp__mempool_core;

/**
 * A pool.  The fields documented here may be read by users and handlers;
 * handlers own pool_data.  Layout is ABI (the fast path is inline).
 */
struct xp_mempool {
	char name[XP_MEMPOOL_NAMESIZE]; /**< unique name */
	void *pool_data;                /**< the handler's state */
	unsigned int size;              /**< number of objects */
	unsigned int cache_size;        /**< per-thread cache size (0: none) */
	unsigned int flags;             /**< XP_MEMPOOL_F_* */
	int handler_idx;                /**< index in the handler registry */
	size_t elt_size;                /**< usable bytes of an object */
	size_t obj_stride;              /**< distance between adjacent objects */
	size_t priv_size;               /**< bytes of xp_mempool_get_priv() */
	struct xp__mempool_core *core;  /**< private to the core */
	/**
	 * Rings the inline paths use in place of a handler call, for handlers
	 * whose free objects are an xp_ring (xp_mempool_handler_set_ring()):
	 * direct_get and direct_put serve xp_mempool_get_bulk() and
	 * xp_mempool_put_bulk() in a pool without a cache; handler_get and
	 * handler_put serve xp_mempool_generic_get() and
	 * xp_mempool_generic_put() with a NULL cache in any pool.  Each is the
	 * handler's ring where the inline path may take it with the
	 * multi-consumer (get) or multi-producer (put) variant (not in debug
	 * mode, not for a side flagged single-threaded, not for handler_get
	 * in a cached XP_MEMPOOL_F_SP_PUT pool, whose exited threads' objects
	 * wait beside the ring), and otherwise a ring of capacity 0, always
	 * empty and always full, on which the inline attempt fails at once
	 * and the call goes out of line to the handler.  Never NULL: the
	 * dispatch is one load, with no test.
	 */
	struct xp_ring *direct_get;
	struct xp_ring *direct_put;      /**< see direct_get */
	struct xp_ring *handler_get;     /**< see direct_get */
	struct xp_ring *handler_put;     /**< see direct_get */
	/*
	 * Inline virt2phy: [v2p_va, v2p_va + v2p_len) translates either
	 * linearly to v2p_phys (v2p_pages NULL) or through v2p_pages, one bus
	 * address per page (XP_BAD_PHYS: none).  v2p_len 0: always the
	 * out-of-line path.
	 */
	uintptr_t v2p_va;
	size_t v2p_len;
	uint64_t v2p_phys;
	const uint64_t *v2p_pages;
	/** Per-thread caches by thread slot; slot 0 is never used. */
	XP_ALIGNED(XP_CACHE_LINE_SIZE)
	struct xp_mempool_cache *cache[XP_MEMPOOL_MAX_THREADS];
};

/**
 * Object initialiser, called once per object during creation.
 *
 * @param mp     the pool.
 * @param arg    obj_init_arg given at creation.
 * @param obj    the object.
 * @param obj_idx the object's index, 0 to size - 1, in the order populate
 *               placed the objects.
 */
typedef void xp_mempool_obj_cb_t(struct xp_mempool *mp, void *arg, void *obj,
				 unsigned int obj_idx);

/**
 * Chunk visitor for xp_mempool_mem_iter().
 *
 * @param va    start of the chunk as given to xp_mempool_populate().
 * @param phys  its bus address, or XP_BAD_PHYS.
 * @param len   its length in bytes.
 * @param idx   the chunk's index, in populate order.
 */
typedef void xp_mempool_mem_cb_t(struct xp_mempool *mp, void *arg, void *va,
				 uint64_t phys, size_t len, unsigned int idx);

/* ---- creation -------------------------------------------------------- */

/**
 * Create a pool on the process default handler.  Same as
 * xp_mempool_create_ex() with a NULL handler and NULL handler_args.
 */
XP_EXPORT struct xp_mempool *
xp_mempool_create(const char *name, unsigned int n, size_t elt_size,
		  unsigned int cache_size, size_t priv_size,
		  xp_mempool_obj_cb_t *obj_init, void *obj_init_arg,
		  unsigned int flags);

/**
 * Create a pool of @p n objects of @p elt_size bytes.
 *
 * @param name       unique pool name.
 * @param n          objects, 1 to INT_MAX; any value, not only 2^k - 1.
 * @param elt_size   usable bytes per object.
 * @param cache_size per-thread cache size, 0 to XP_MEMPOOL_CACHE_MAX_SIZE.
 * @param priv_size  bytes of zeroed private area (xp_mempool_get_priv()).
 * @param obj_init   called for each object during creation, or NULL.
 * @param obj_init_arg passed to @p obj_init.
 * @param flags      XP_MEMPOOL_F_*.
 * @param handler    handler name, or NULL for the process default.
 * @param handler_args handler-specific argument string, or NULL.
 * @return the pool, or NULL with errno:
 *   EINVAL  @p name NULL or empty, @p n 0 or above INT_MAX, @p elt_size 0,
 *           sizes whose layout
 *           overflows, @p cache_size above XP_MEMPOOL_CACHE_MAX_SIZE, an
 *           unknown flag;
 *   ENAMETOOLONG  @p name does not fit in XP_MEMPOOL_NAMESIZE;
 *   EEXIST  a pool of that name exists;
 *   ENOENT  no such handler (or the default named by XENPOOL_DEFAULT_HANDLER
 *           is not registered);
 *   ENOMEM  out of memory;
 *   EPROTO  the handler's create returned 0 but placed fewer than @p n
 *           objects, or returned a positive value (destroy is then called);
 *   or the (positive) errno that the handler's create returned negated.
 */
XP_EXPORT struct xp_mempool *
xp_mempool_create_ex(const char *name, unsigned int n, size_t elt_size,
		     unsigned int cache_size, size_t priv_size,
		     xp_mempool_obj_cb_t *obj_init, void *obj_init_arg,
		     unsigned int flags, const char *handler,
		     const char *handler_args);

/**
 * Free a pool: drop every cache, call the handler's destroy, release the
 * core's memory.  Objects still in use become invalid.  NULL is a no-op.
 */
XP_EXPORT void xp_mempool_free(struct xp_mempool *mp);

/* ---- for handlers ---------------------------------------------------- */

/**
 * Lay out objects in one physically contiguous chunk [va, va + len) and put
 * them into the pool.  Only valid from the handler's create.
 *
 * Objects start at the first address of the chunk aligned for the pool
 * (cache line, or 8 bytes with XP_MEMPOOL_F_NO_CACHE_ALIGN) and follow at
 * mp->obj_stride; no object (with its debug guard) crosses va + len.  Stops
 * when the pool holds mp->size objects.  Records the chunk for
 * xp_mempool_mem_iter() and the default virt2phy (first, so that obj_init
 * may already ask xp_mempool_virt2phy() about its object), calls the pool's
 * obj_init on each object and puts them through the handler's put_bulk.
 *
 * @param mp   the pool being created.
 * @param va   start of the chunk.
 * @param phys bus address of @p va, or XP_BAD_PHYS.
 * @param len  length of the chunk in bytes.
 * @return the number of objects placed (0 when none fits or the pool is
 *         already full; the chunk is then not recorded), or
 *         -EINVAL (@p mp or @p va NULL, @p len 0, [va, va+len) wraps, or
 *         it overlaps a chunk already recorded),
 *         -EBUSY (called outside the handler's create),
 *         -ENOMEM, or the handler's put_bulk error (a put_bulk of 0 or
 *         a negative errno is expected; anything else counts as -EPROTO).
 *         After a put_bulk error some objects of the chunk may already be
 *         in the handler, so the pool cannot be completed: later populate
 *         calls return the same error and the creation fails with it even
 *         if create returns 0 (destroy is then called).
 */
XP_EXPORT int xp_mempool_populate(struct xp_mempool *mp, void *va,
				  uint64_t phys, size_t len);

/**
 * Populate with anonymous private memory (mmap) big enough for the objects
 * still missing, as one chunk whose bus address is its virtual address
 * (IOVA = VA, as DPDK in IOVA-as-VA mode).  The core unmaps it when the pool
 * is freed, after the handler's destroy.  Used by the ring handlers.
 *
 * @return the number of objects placed, or -EINVAL, -EBUSY, the
 *         handler's put_bulk error (as xp_mempool_populate), -ENOMEM.
 */
XP_EXPORT int xp_mempool_populate_default(struct xp_mempool *mp);

/**
 * Bytes a chunk needs to hold @p n objects of this pool, assuming its start
 * is aligned for the pool.
 *
 * @return the size, or 0 if it overflows or @p mp is NULL.
 */
XP_EXPORT size_t xp_mempool_chunk_size(const struct xp_mempool *mp,
				       unsigned int n);

/**
 * Objects xp_mempool_populate() places in a chunk of @p len bytes at @p va,
 * by its rule (the first object at the first address aligned for the pool,
 * then one every mp->obj_stride bytes, none crossing va + len), before the
 * limit of the objects still missing.  A handler plans with it: how many
 * objects its runs of memory hold before it populates them.  @p va NULL
 * counts from a page-aligned start (pools align to at most a page).
 *
 * @return the count (0 when @p mp is NULL, @p len 0, or [va, va + len)
 *         wraps).
 */
XP_EXPORT size_t xp_mempool_chunk_objs(const struct xp_mempool *mp,
				       const void *va, size_t len);

/**
 * Objects still to be placed by populate before the pool is full.
 *
 * @return the count (0 when @p mp is NULL).
 */
XP_EXPORT unsigned int xp_mempool_populate_missing(const struct xp_mempool *mp);

/* ---- fast path (inline) ---------------------------------------------- */

/** This thread's slot (0 until its first get or put on any pool). */
XP_EXPORT extern XP_THREAD_LOCAL unsigned int xp__thread_slot;

/* Out-of-line halves of the fast path; not for direct use. */
XP_EXPORT int xp__mempool_get_miss(struct xp_mempool *mp, void **objs,
				   unsigned int n);
XP_EXPORT void xp__mempool_put_miss(struct xp_mempool *mp, void *const *objs,
				    unsigned int n);
XP_EXPORT int xp__mempool_generic_get_miss(struct xp_mempool *mp, void **objs,
					   unsigned int n,
					   struct xp_mempool_cache *cache);
XP_EXPORT void xp__mempool_generic_put_miss(struct xp_mempool *mp,
					    void *const *objs, unsigned int n,
					    struct xp_mempool_cache *cache);

/* A cache's storage (see struct xp_mempool_cache). */
XP_INLINE void **xp__cache_slots(struct xp_mempool_cache *c)
{
	return (void **)((char *)c + XP_CACHE_LINE_SIZE);
}

XP_INLINE void xp__cache_take(struct xp_mempool_cache *c, void **objs,
			      unsigned int n, uint32_t len)
{
	xp__objs_copy(objs, &xp__cache_slots(c)[len - n], n);
	__atomic_store_n(&c->len, len - n, __ATOMIC_RELAXED);
}

XP_INLINE void xp__cache_give(struct xp_mempool_cache *c, void *const *objs,
			      unsigned int n, uint32_t len)
{
	xp__objs_copy(&xp__cache_slots(c)[len], objs, n);
	__atomic_store_n(&c->len, len + n, __ATOMIC_RELAXED);
}

/**
 * Take @p n objects, all or nothing, through this thread's cache.
 *
 * @return 0, or -ENOENT (fewer than @p n available to this thread; nothing
 *         was taken and the pool is unchanged).
 */
XP_INLINE int xp_mempool_get_bulk(struct xp_mempool *mp, void **objs,
				  unsigned int n)
{
	struct xp_mempool_cache *c = mp->cache[xp__thread_slot];

	if (XP_LIKELY(c != NULL)) {
		uint32_t len = c->len;

		if (XP_LIKELY(n <= len)) {
			xp__cache_take(c, objs, n, len);
			return 0;
		}
	} else if (XP_LIKELY(xp_ring_mc_dequeue_bulk(mp->direct_get, objs, n,
						     NULL) == n)) {
		return 0;
	}
	return xp__mempool_get_miss(mp, objs, n);
}

/**
 * Return @p n objects taken from this pool, through this thread's cache.
 * Never fails for valid objects; in debug mode bad ones are refused.
 */
XP_INLINE void xp_mempool_put_bulk(struct xp_mempool *mp, void *const *objs,
				   unsigned int n)
{
	struct xp_mempool_cache *c = mp->cache[xp__thread_slot];

	if (XP_LIKELY(c != NULL)) {
		uint32_t len = c->len;

		if (XP_LIKELY(n <= c->flushthresh - len)) {
			xp__cache_give(c, objs, n, len);
			return;
		}
	} else if (XP_LIKELY(xp_ring_mp_enqueue_bulk(mp->direct_put, objs, n,
						     NULL) == n)) {
		return;
	}
	xp__mempool_put_miss(mp, objs, n);
}

/** Take one object into *@p obj.  @return 0 or -ENOENT. */
XP_INLINE int xp_mempool_get(struct xp_mempool *mp, void **obj)
{
	return xp_mempool_get_bulk(mp, obj, 1);
}

/** Return one object. */
XP_INLINE void xp_mempool_put(struct xp_mempool *mp, void *obj)
{
	xp_mempool_put_bulk(mp, &obj, 1);
}

/**
 * Take @p n objects through a user-owned @p cache (NULL: straight from the
 * handler).  Policy as for per-thread caches.  A cache must be used by one
 * thread at a time and with one pool between flushes.
 *
 * @return 0 or -ENOENT (nothing taken, pool and cache unchanged).
 */
XP_INLINE int xp_mempool_generic_get(struct xp_mempool *mp, void **objs,
				     unsigned int n,
				     struct xp_mempool_cache *cache)
{
	if (cache == NULL) {
		if (XP_LIKELY(xp_ring_mc_dequeue_bulk(mp->handler_get, objs, n,
						      NULL) == n))
			return 0;
	} else if (XP_LIKELY(!(mp->flags & XP_MEMPOOL_F_DEBUG))) {
		uint32_t len = cache->len;

		if (XP_LIKELY(n <= len)) {
			xp__cache_take(cache, objs, n, len);
			return 0;
		}
	}
	return xp__mempool_generic_get_miss(mp, objs, n, cache);
}

/** Return @p n objects through a user-owned @p cache (NULL: to the handler). */
XP_INLINE void xp_mempool_generic_put(struct xp_mempool *mp, void *const *objs,
				      unsigned int n,
				      struct xp_mempool_cache *cache)
{
	if (cache == NULL) {
		if (XP_LIKELY(xp_ring_mp_enqueue_bulk(mp->handler_put, objs, n,
						      NULL) == n))
			return;
	} else if (XP_LIKELY(!(mp->flags & XP_MEMPOOL_F_DEBUG))) {
		uint32_t len = cache->len;

		if (XP_LIKELY(n <= cache->flushthresh - len)) {
			xp__cache_give(cache, objs, n, len);
			return;
		}
	}
	xp__mempool_generic_put_miss(mp, objs, n, cache);
}

/* ---- caches ---------------------------------------------------------- */

/**
 * Create a user-owned cache.
 *
 * @param size 1 to XP_MEMPOOL_CACHE_MAX_SIZE.
 * @return the cache, or NULL with errno EINVAL (bad size) or ENOMEM.
 */
XP_EXPORT struct xp_mempool_cache *xp_mempool_cache_create(unsigned int size);

/** Free a user-owned cache (flush it first).  NULL is a no-op. */
XP_EXPORT void xp_mempool_cache_free(struct xp_mempool_cache *cache);

/**
 * Return every object of @p cache to @p mp.
 *
 * @return 0, or -EINVAL (@p cache or @p mp NULL), or the handler's put_bulk
 *         error (-EPROTO for a positive value; the cache then keeps the
 *         objects).
 */
XP_EXPORT int xp_mempool_cache_flush(struct xp_mempool_cache *cache,
				     struct xp_mempool *mp);

/**
 * This thread's cache for @p mp, created if needed.
 *
 * @return the cache, or NULL when the pool has none (cache_size 0, debug
 *         mode, no thread slot left, or out of memory).
 */
XP_EXPORT struct xp_mempool_cache *
xp_mempool_default_cache(struct xp_mempool *mp);

/* ---- introspection --------------------------------------------------- */

/** Pool-private area of priv_size bytes (zeroed at creation). */
XP_EXPORT void *xp_mempool_get_priv(struct xp_mempool *mp);

/**
 * Free objects: held by the handler plus those in per-thread caches.  Exact
 * when no thread is using the pool; objects in user-owned caches are not
 * counted.
 */
XP_EXPORT unsigned int xp_mempool_avail_count(const struct xp_mempool *mp);

/** size - xp_mempool_avail_count(). */
XP_EXPORT unsigned int xp_mempool_in_use_count(const struct xp_mempool *mp);

/* Out-of-line half of xp_mempool_virt2phy(); not for direct use. */
XP_EXPORT uint64_t xp__mempool_virt2phy(const struct xp_mempool *mp,
					const void *addr);

/**
 * Bus address of @p addr, an address inside one of the pool's objects (or
 * anywhere in its chunks), from the handler's virt2phy or, without one, from
 * the chunks recorded by populate.  Inline, without a call, for a pool in
 * one chunk (the default memory) and for a handler that published a per-page
 * table (xp_mempool_handler_set_page_table(), as xen_dom0 does).
 *
 * @return the address, or XP_BAD_PHYS (outside the pool, or memory without a
 *         bus address, or @p mp NULL).
 */
XP_INLINE uint64_t xp_mempool_virt2phy(const struct xp_mempool *mp,
				       const void *addr)
{
	uintptr_t off;

	if (XP_UNLIKELY(mp == NULL))
		return XP_BAD_PHYS;
	off = (uintptr_t)addr - mp->v2p_va;
	if (XP_LIKELY(off < mp->v2p_len)) {
		if (mp->v2p_pages == NULL)
			return mp->v2p_phys + off;
		/* Entries are page-aligned or XP_BAD_PHYS (all ones), which
		 * the OR leaves as it is: no test for it. */
		return mp->v2p_pages[off / XP_PAGE_SIZE] |
		       (off & (XP_PAGE_SIZE - 1));
	}
	return xp__mempool_virt2phy(mp, addr);
}

/**
 * Call @p cb on every object of the pool, free or not, in the order populate
 * placed them (obj_idx 0, 1, 2...).
 *
 * @return the number of objects visited (mp->size), or 0 if @p mp or @p cb
 *         is NULL.
 */
XP_EXPORT unsigned int xp_mempool_obj_iter(struct xp_mempool *mp,
					   xp_mempool_obj_cb_t *cb, void *arg);

/**
 * Call @p cb on every chunk recorded by populate, in populate order.
 *
 * @return the number of chunks, or 0 if @p mp or @p cb is NULL.
 */
XP_EXPORT unsigned int xp_mempool_mem_iter(struct xp_mempool *mp,
					   xp_mempool_mem_cb_t *cb, void *arg);

/** A chunk and the objects populate placed in it (xp_mempool_chunk_info). */
struct xp_mempool_chunk {
	void *va;           /**< start of the chunk, as given to populate */
	size_t len;         /**< its length in bytes */
	uint64_t phys;      /**< bus address of va, or XP_BAD_PHYS */
	void *first_obj;    /**< the first object placed in it, or NULL */
	unsigned int first_idx; /**< that object's index */
	unsigned int nobjs; /**< objects placed in it, mp->obj_stride apart */
	/** Bytes outside [first object, end of the last one's element):
	 *  before the first object (alignment) and after the last (a tail
	 *  too short for another object, or left over once the pool was
	 *  full).  The padding between objects (obj_stride - elt_size) is
	 *  not counted. */
	size_t waste;
};

/** Chunks recorded by populate (0 when @p mp is NULL). */
XP_EXPORT unsigned int xp_mempool_chunk_count(const struct xp_mempool *mp);

/**
 * Chunk @p idx (populate order, as xp_mempool_mem_iter() numbers them)
 * with its objects: what a tool needs to draw where a pool's objects live
 * (xenpool chunks).
 *
 * @return 0 with @p out filled, -EINVAL (@p mp or @p out NULL) or -ENOENT
 *         (@p idx not below xp_mempool_chunk_count()); @p out is then
 *         unchanged.
 */
XP_EXPORT int xp_mempool_chunk_info(const struct xp_mempool *mp,
				    unsigned int idx,
				    struct xp_mempool_chunk *out);

/**
 * Check the pool's consistency.  Meant for a quiescent pool (no thread
 * getting or putting); details of a failure are logged at XP_LOG_ERR.
 *
 * @return 0 when consistent, or
 *   -EINVAL   @p mp is NULL;
 *   -ERANGE   more objects counted free than the pool has, or a cache holds
 *             more than its storage;
 *   -EBADMSG  (debug) an object's guard after its end was overwritten;
 *   -EILSEQ   (debug) bad puts were refused since creation;
 *   -EUCLEAN  (debug) the handler holds a different number of objects than
 *             the per-object states say are free.
 */
XP_EXPORT int xp_mempool_audit(struct xp_mempool *mp);

/**
 * Print a description of the pool: handler, sizes, counts, caches, chunks.
 * Nothing is printed if @p f or @p mp is NULL.
 */
XP_EXPORT void xp_mempool_dump(FILE *f, const struct xp_mempool *mp);

/**
 * Find a pool by name.
 *
 * @return the pool, or NULL with errno EINVAL (@p name NULL) or ENOENT.
 */
XP_EXPORT struct xp_mempool *xp_mempool_lookup(const char *name);

/**
 * Call @p cb on every pool until it returns non-zero.  @p cb must not create
 * or free pools.
 *
 * @return 0 when every pool was visited, the first non-zero value of @p cb,
 *         or -EINVAL when @p cb is NULL.
 */
XP_EXPORT int xp_mempool_walk(int (*cb)(struct xp_mempool *, void *),
			      void *arg);

/** Name of the handler serving @p mp (NULL if @p mp is NULL). */
XP_EXPORT const char *xp_mempool_handler_name(const struct xp_mempool *mp);

/** How this process may touch a pool's objects, as its handler says. */
struct xp_mempool_access {
	int writable;  /**< 1: this process may write the objects; 0: a
			*   write faults (memory mapped read-only) */
	int peer_writable; /**< 1: another party (a peer domain, a device)
			    *   may write them too: metadata kept in the
			    *   objects is not safe there */
	char how[96];  /**< the handler's words for it, e.g. "read-only,
			*   mapped from domain 3's grants" */
};

/**
 * How this process may touch the objects of @p mp: whether it may write
 * them, whether someone else may, and how the handler describes their
 * memory.  Handlers that say nothing hand out private memory: writable,
 * "read-write", and peer_writable set only when the handler has
 * XP_MEMPOOL_OPS_F_SHARED_MEM.  (xen_dom0's map mode with writable=0 maps
 * a guest's pages read-only here; the guest may still write them.  Its
 * share mode with writable=0 grants them read-only: only this domain
 * writes them.)
 *
 * @return 0, or -EINVAL (@p mp or @p acc NULL).
 */
XP_EXPORT int xp_mempool_access(const struct xp_mempool *mp,
				struct xp_mempool_access *acc);

/** Called by xp_mempool_free() first, while the pool still works. */
typedef void xp_mempool_free_cb_t(struct xp_mempool *mp, void *arg);

/**
 * Have @p cb called when the pool is freed, before anything is released:
 * for a layer that keeps resources beside a pool (the packet buffer layer's
 * data rooms, for one).  One callback per pool; NULL removes it.
 *
 * @return 0, -EINVAL (@p mp NULL) or -EBUSY (a callback is already set).
 */
XP_EXPORT int xp_mempool_set_free_cb(struct xp_mempool *mp,
				     xp_mempool_free_cb_t *cb, void *arg);

/** The ops of the handler serving @p mp (NULL if @p mp is NULL). */
XP_EXPORT const struct xp_mempool_ops *
xp_mempool_get_ops(const struct xp_mempool *mp);

/** Debug-mode counters. */
struct xp_mempool_debug_stats {
	uint64_t double_put;  /**< puts of an object already free */
	uint64_t foreign_put; /**< puts of a pointer not an object of the pool */
	uint64_t overrun;     /**< puts of an object whose guard was damaged */
};

/**
 * Read the debug counters (all zero for a pool not in debug mode).
 *
 * @return 0, or -EINVAL (@p mp or @p stats NULL).
 */
XP_EXPORT int xp_mempool_get_debug_stats(const struct xp_mempool *mp,
					 struct xp_mempool_debug_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_MEMPOOL_H */
