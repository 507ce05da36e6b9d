/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Mempool handlers: the backing store of a pool.
 *
 * A handler is a named set of callbacks (struct xp_mempool_ops) registered in
 * a process-wide table.  A pool picks one by name at creation, or gets the
 * process default.  The pool stores the handler's index in the table, never
 * the callbacks themselves.
 *
 * The callbacks and when they run:
 *  - create(mp, args): once, from xp_mempool_create_ex().  Parse @c args (may
 *    be NULL), allocate the handler's state (keep it in mp->pool_data), get
 *    memory and hand it to the core with xp_mempool_populate() (or use
 *    xp_mempool_populate_default()) until the pool holds mp->size objects.
 *    Populate lays the objects out and puts them through put_bulk.  Return 0
 *    or a negative errno; on failure release everything taken (destroy is not
 *    called after a create that returned an error).  The core calls destroy
 *    and fails the creation when create returns a positive value (EPROTO),
 *    returns 0 but placed fewer than mp->size objects (EPROTO), or returns 0
 *    after a populate failed (that populate's error).
 *  - destroy(mp): once, from xp_mempool_free(): release what create took.
 *  - get_bulk(mp, objs, n): a per-thread cache missed.  All @p n or nothing:
 *    0 or -ENOBUFS.  Called concurrently from several threads unless the pool
 *    has XP_MEMPOOL_F_SC_GET.
 *  - put_bulk(mp, objs, n): a cache flushed.  Returns 0 or a negative errno.
 *    The core never puts more objects than the pool has, so a handler that
 *    can hold mp->size objects never needs to fail.  Concurrent unless
 *    XP_MEMPOOL_F_SP_PUT.
 *  - get_count(mp): objects held by the handler (not in caches).
 *  - virt2phy(mp, addr): bus address of @p addr, or XP_BAD_PHYS.  Optional:
 *    when NULL the core answers from the chunks that populate recorded.
 *
 * Registration is thread-safe.  Handlers are never unregistered, so the ops
 * returned by lookup stay valid for the life of the process.
 */
#ifndef XENPOOL_HANDLER_H
#define XENPOOL_HANDLER_H

#include <stdint.h>

#include <xenpool/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xp_mempool;
struct xp_mempool_access;
struct xp_ring;

/** Size of a handler or pool name, including the terminating NUL. */
#define XP_MEMPOOL_NAMESIZE 32

/**
 * The built-in default handler: the process default unless
 * XENPOOL_DEFAULT_HANDLER or xp_mempool_def_handler() says otherwise, the
 * handler of a fallback when the default is the handler falling back, and
 * the handler of packet buffer headers kept out of shared memory.
 */
#define XP_MEMPOOL_BUILTIN_HANDLER "ring_mp_mc"

/** Number of handlers the registry holds. */
#define XP_MEMPOOL_MAX_HANDLERS 64

/**
 * ops flag: the handler's memory can be written by another party (a peer
 * domain, a device).  Layers above keep their metadata out of it.
 */
#define XP_MEMPOOL_OPS_F_SHARED_MEM 0x1u

/**
 * ops flag: put_bulk takes one thread at a time, whatever the pool's flags
 * (a single-producer store, as ring_sp_sc and ring_sp_mc): a program with
 * several putting threads must not use it.
 */
#define XP_MEMPOOL_OPS_F_SP_PUT 0x2u

/** ops flag: get_bulk takes one thread at a time (ring_sp_sc, ring_mp_sc). */
#define XP_MEMPOOL_OPS_F_SC_GET 0x4u

/** Every ops flag. */
#define XP_MEMPOOL_OPS_F_MASK                                                 \
	(XP_MEMPOOL_OPS_F_SHARED_MEM | XP_MEMPOOL_OPS_F_SP_PUT |              \
	 XP_MEMPOOL_OPS_F_SC_GET)

/** A handler. */
struct xp_mempool_ops {
	/** Unique name, NUL-terminated within XP_MEMPOOL_NAMESIZE. */
	char name[XP_MEMPOOL_NAMESIZE];
	/** Mandatory: set up the pool's memory and fill it. */
	int (*create)(struct xp_mempool *mp, const char *args);
	/** Mandatory: release what create took. */
	void (*destroy)(struct xp_mempool *mp);
	/** Mandatory: take @p n objects, all or nothing (0 or -ENOBUFS). */
	int (*get_bulk)(struct xp_mempool *mp, void **objs, unsigned int n);
	/** Mandatory: return @p n objects (0 or a negative errno). */
	int (*put_bulk)(struct xp_mempool *mp, void *const *objs,
			unsigned int n);
	/** Mandatory: objects held by the handler. */
	unsigned int (*get_count)(const struct xp_mempool *mp);
	/** Optional: bus address of @p addr, or XP_BAD_PHYS. */
	uint64_t (*virt2phy)(const struct xp_mempool *mp, const void *addr);
	/** XP_MEMPOOL_OPS_F_*. */
	unsigned int flags;
	/** Optional: how this process may touch the objects
	 *  (xp_mempool_access(); @p acc comes zeroed).  NULL: private
	 *  memory, read-write. */
	void (*access)(const struct xp_mempool *mp,
		       struct xp_mempool_access *acc);
};

/**
 * From a handler's create, before any populate: give up on this pool, which
 * the core then creates with the process default handler instead (or with
 * "ring_mp_mc" when the default is this handler), logging @p why once.  The
 * handler must have released everything it took, and create must then
 * return 0.  This is how a handler whose platform is absent at run time
 * (xen_dom0 without Xen) lets one binary serve everywhere.
 *
 * @return 0, -EINVAL (@p mp NULL), -EBUSY (not in create, after a populate,
 *         or asked twice) or -ENOMEM.
 */
XP_EXPORT int xp_mempool_handler_fallback(struct xp_mempool *mp,
					  const char *why);

/**
 * From a handler's create: declare that the pool's free objects are exactly
 * the contents of @p r, so that get_bulk is xp_ring_dequeue_bulk(r) (all or
 * nothing) and put_bulk is xp_ring_enqueue_bulk(r), with the variant chosen
 * by the ring's flags, and get_count is xp_ring_count(r).  The ring must
 * hold the whole pool and live until destroy.  The inline paths then get
 * and put through the ring without calling the handler, where they may use
 * its multi-consumer and multi-producer variants (struct xp_mempool,
 * direct_get): xp_mempool_get_bulk() and xp_mempool_put_bulk() in pools
 * without a cache, xp_mempool_generic_get() and xp_mempool_generic_put()
 * with a NULL cache in any pool; never in debug mode, nor for the NULL-cache
 * get of a cached XP_MEMPOOL_F_SP_PUT pool (objects of exited threads may
 * wait beside the ring, doc/mempool.md).  The dispatch costs one load.
 *
 * @return 0, -EINVAL (@p mp or @p r NULL) or -EBUSY (not in create, or
 *         the pool's ring is the core's store,
 *         xp_mempool_handler_ring_store()).
 */
XP_EXPORT int xp_mempool_handler_set_ring(struct xp_mempool *mp,
					  struct xp_ring *r);

/**
 * From a handler's create: keep the pool's free objects in a ring that the
 * core creates, declares (as xp_mempool_handler_set_ring()) and frees (after
 * destroy, after a failed create, and when the handler asks for a
 * fallback).  The ring holds exactly mp->size objects; it is
 * single-producer if the pool has XP_MEMPOOL_F_SP_PUT or @p ring_flags has
 * XP_RING_F_SP_ENQ, single-consumer likewise with XP_MEMPOOL_F_SC_GET or
 * XP_RING_F_SC_DEQ.  The handler then names xp_mempool_ring_store_get,
 * xp_mempool_ring_store_put and xp_mempool_ring_store_count as its
 * get_bulk, put_bulk and get_count, and keeps mp->pool_data for itself.
 * This is the ring handlers' store, and xen_dom0's.
 *
 * @return 0, -EINVAL (@p mp NULL, @p ring_flags other than
 *         XP_RING_F_SP_ENQ and XP_RING_F_SC_DEQ), -EBUSY (not in create,
 *         or a ring already declared) or -ENOMEM.
 */
XP_EXPORT int xp_mempool_handler_ring_store(struct xp_mempool *mp,
					    unsigned int ring_flags);

/**
 * get_bulk of a handler that keeps its objects in the core's ring
 * (xp_mempool_handler_ring_store()): all @p n objects or none.
 *
 * @return 0 or -ENOBUFS (fewer than @p n objects in the ring).
 */
XP_EXPORT int xp_mempool_ring_store_get(struct xp_mempool *mp, void **objs,
					unsigned int n);

/**
 * put_bulk of a handler that keeps its objects in the core's ring.
 *
 * @return 0, or -ENOBUFS (the ring full: more objects put than the pool
 *         has, which the core never does).
 */
XP_EXPORT int xp_mempool_ring_store_put(struct xp_mempool *mp,
					void *const *objs, unsigned int n);

/**
 * get_count of a handler that keeps its objects in the core's ring.
 *
 * @return the objects in the ring.
 */
XP_EXPORT unsigned int xp_mempool_ring_store_count(const struct xp_mempool *mp);

/**
 * From a handler's create: publish the handler's per-page bus address table
 * so that xp_mempool_virt2phy() answers inline: the page at
 * @p va + i * XP_PAGE_SIZE has bus address @p pages[i] (XP_BAD_PHYS: none),
 * for i below @p npages.  Each entry is a multiple of XP_PAGE_SIZE or
 * XP_BAD_PHYS (the inline lookup ORs the offset in, which leaves
 * XP_BAD_PHYS as it is).  It must agree with the handler's virt2phy and
 * live until destroy.
 *
 * @return 0, -EINVAL (NULL argument, @p npages 0, @p va not page-aligned,
 *         an entry neither page-aligned nor XP_BAD_PHYS) or -EBUSY (not in
 *         create).
 */
XP_EXPORT int xp_mempool_handler_set_page_table(struct xp_mempool *mp,
						const void *va, size_t npages,
						const uint64_t *pages);

/**
 * Register a handler.  The ops are copied into the registry.
 *
 * @param ops the handler.
 * @return the handler's index (>= 0), or
 *         -EINVAL: @p ops NULL, a mandatory callback missing, unknown flag,
 *                  empty name, or no NUL within XP_MEMPOOL_NAMESIZE;
 *         -EEXIST: a handler of that name is registered;
 *         -ENOSPC: the registry holds XP_MEMPOOL_MAX_HANDLERS handlers.
 */
XP_EXPORT int xp_mempool_handler_register(const struct xp_mempool_ops *ops);

/**
 * Register from a constructor (used by XP_MEMPOOL_REGISTER_HANDLER).  A
 * failure is logged at XP_LOG_ERR with the handler's name and the error, and
 * counted in xp_mempool_handler_register_errors().
 *
 * @return as xp_mempool_handler_register().
 */
XP_EXPORT int xp_mempool_handler_register_ctor(const struct xp_mempool_ops *ops);

/**
 * Register @p ops (a `static const struct xp_mempool_ops`) before main()
 * runs.  Use it at file scope.
 *
 * With a static libxenpool.a, a constructor in an object file that nothing
 * references is dropped by the linker: link your handler's object file
 * directly, or wrap its archive in -Wl,--whole-archive ... -Wl,--no-whole-archive.
 * The built-in handlers are always linked (the registry references them).
 */
#define XP_MEMPOOL_REGISTER_HANDLER(ops)                                      \
	static void __attribute__((constructor, used))                        \
	xp_register_handler_##ops(void)                                       \
	{                                                                     \
		(void)xp_mempool_handler_register_ctor(&(ops));               \
	}

/**
 * Number of registrations made from constructors that failed so far.  A
 * program that relies on its handlers can check that this is 0 at start.
 *
 * @return the count.
 */
XP_EXPORT unsigned int xp_mempool_handler_register_errors(void);

/**
 * Load handler drivers: shared objects whose constructors register
 * handlers with XP_MEMPOOL_REGISTER_HANDLER (xen_dom0's is
 * libxenpool_xen.so).  Drivers stay loaded.
 *
 * The registry also loads drivers by itself, once, the first time it is
 * asked for a handler it does not have (by name, or for the default, or
 * for the list of all): every file and directory of the environment
 * variable XENPOOL_DRIVERS (colon-separated), then the directory where
 * `make install` puts the project's drivers ($libdir/xenpool/drivers).
 *
 * @param path a driver, or a directory whose files named *.so are all
 *             loaded, in name order.
 * @return the number of drivers loaded (a directory may hold none), or
 *         -EINVAL (@p path NULL or empty), -ENOENT and the like (@p path
 *         cannot be read: stat's or opendir's errno), -ELIBBAD (the file
 *         could not be loaded; the log says why).
 */
XP_EXPORT int xp_driver_load(const char *path);

/**
 * Find a handler by name, loading the drivers first if no handler of
 * that name is registered yet (see xp_driver_load()).
 *
 * @return the registered ops (valid for the life of the process), or NULL
 *         with errno EINVAL (@p name NULL) or ENOENT (no such handler).
 */
XP_EXPORT const struct xp_mempool_ops *
xp_mempool_handler_lookup(const char *name);

/**
 * Index of a handler by name (drivers loaded as for
 * xp_mempool_handler_lookup()).
 *
 * @return the index (>= 0), -EINVAL (@p name NULL) or -ENOENT.
 */
XP_EXPORT int xp_mempool_handler_index(const char *name);

/**
 * Call @p cb for each registered handler in registration order, until it
 * returns non-zero.  The drivers are loaded first (see xp_driver_load()).
 *
 * @return 0 when every handler was visited, the first non-zero value @p cb
 *         returned, or -EINVAL when @p cb is NULL.
 */
XP_EXPORT int xp_mempool_handler_walk(int (*cb)(const struct xp_mempool_ops *,
						void *),
				      void *arg);

/**
 * Set the process default handler, used by xp_mempool_create() and by
 * xp_mempool_create_ex() with a NULL handler name.  The initial default is
 * XP_MEMPOOL_BUILTIN_HANDLER ("ring_mp_mc"), or the value of the environment variable
 * XENPOOL_DEFAULT_HANDLER when it is set and not empty (read once, at the
 * first use of the default).
 *
 * @return 0, -EINVAL (@p name NULL) or -ENOENT (no such handler; the default
 *         is unchanged).
 */
XP_EXPORT int xp_mempool_def_handler(const char *name);

/**
 * Name of the process default handler.  A name that came from
 * XENPOOL_DEFAULT_HANDLER is returned even if no such handler is registered
 * (pool creation then fails with ENOENT and says why).
 *
 * @return the name; never NULL.
 */
XP_EXPORT const char *xp_mempool_get_def_handler(void);

#ifdef __cplusplus
}
#endif

#endif /* XENPOOL_HANDLER_H */
