/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pool lifetime: create (layout, the handler's create with its fallback,
 * publication), free, and the list of pools (lookup, walk) under
 * xp__pools_lock.  Populate and the chunk index are in populate.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"
#include "dispatch.h"

/* Recursive: a walk callback may call avail_count, audit or dump, which take
 * the lock too. */
pthread_mutex_t xp__pools_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
struct xp_mempool *xp__pools;

static int env_debug(void)
{
	const char *v = getenv("XENPOOL_DEBUG");

	return v != NULL && strcmp(v, "1") == 0;
}

static struct xp_mempool *find_pool_locked(const char *name)
{
	struct xp_mempool *mp;

	for (mp = xp__pools; mp != NULL; mp = mp->core->next_pool)
		if (strcmp(mp->name, name) == 0)
			return mp;
	return NULL;
}

static void unlink_pool(struct xp_mempool *mp)
{
	struct xp_mempool **pp;

	pthread_mutex_lock(&xp__pools_lock);
	for (pp = &xp__pools; *pp != NULL; pp = &(*pp)->core->next_pool)
		if (*pp == mp) {
			*pp = mp->core->next_pool;
			break;
		}
	pthread_mutex_unlock(&xp__pools_lock);
}

static void release_core_memory(struct xp_mempool *mp)
{
	struct xp__mempool_core *core = mp->core;
	struct xp__anon *a, *next;

	for (a = core->anon; a != NULL; a = next) {
		next = a->next;
		munmap(a->va, a->len);
		free(a);
	}
	xp__ring_store_release(mp);
	xp__debug_fini(mp);
	free(core->fallback_why);
	free(core->orphans);
	free(core->chunks);
	free(core->by_va);
	free(core);
	free(mp);
}

int xp__mempool_check_args(const char *name, unsigned int n, size_t elt_size,
			   unsigned int cache_size, size_t priv_size,
			   unsigned int flags)
{
	/* n <= INT_MAX: populate returns counts as int, and the ring
	 * handlers hold at most XP_RING_MAX_COUNT (INT_MAX) objects. */
	if (name == NULL || name[0] == '\0' || n == 0 || n > INT_MAX ||
	    elt_size == 0 ||
	    cache_size > XP_MEMPOOL_CACHE_MAX_SIZE ||
	    (flags & ~XP_MEMPOOL_F_MASK) != 0 ||
	    priv_size > SIZE_MAX / 2)
		return -EINVAL;
	if (strnlen(name, XP_MEMPOOL_NAMESIZE) == XP_MEMPOOL_NAMESIZE)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The ring of the inline paths where the handler cannot be bypassed:
 * capacity 0, so every dequeue finds it empty and every enqueue full, before
 * writing anything (xp__ring_reserve); shared by all pools, only ever read.
 */
static struct xp_ring null_ring;

static struct xp_mempool *pool_alloc(const char *name, unsigned int n,
				     size_t elt_size, unsigned int cache_size,
				     size_t priv_size, unsigned int flags)
{
	struct xp_mempool *mp;
	struct xp__mempool_core *core;

	mp = xp__alloc_lines(sizeof(*mp));
	core = calloc(1, sizeof(*core) + priv_size);
	if (mp == NULL || core == NULL) {
		free(mp);
		free(core);
		return NULL;
	}
	memset(mp, 0, sizeof(*mp));
	strcpy(mp->name, name);
	mp->size = n;
	mp->cache_size = cache_size;
	mp->flags = flags;
	mp->elt_size = elt_size;
	mp->priv_size = priv_size;
	mp->core = core;
	mp->direct_get = &null_ring;
	mp->direct_put = &null_ring;
	mp->handler_get = &null_ring;
	mp->handler_put = &null_ring;
	core->priv = core + 1;
	return mp;
}

/*
 * The inline paths' rings (struct xp_mempool, direct_get).  They take the
 * handler's ring with its multi-thread variants, which a ring flagged for a
 * single consumer or producer would not want: those sides stay out of line,
 * where the handler calls its own variant.  A debug pool keeps every call
 * for its checks.  The pool API goes to the ring only without a cache (a
 * cached pool must reach its miss path to create a thread's cache), and the
 * NULL-cache get not in a single-producer cached pool, where objects can
 * wait as orphans beside the ring (doc/mempool.md): the out-of-line get
 * serves them.
 */
static void set_direct_rings(struct xp_mempool *mp)
{
	struct xp_ring *r = mp->core->ring;

	if (r == NULL || (mp->flags & XP_MEMPOOL_F_DEBUG))
		return;
	if (!(r->flags & XP_RING_F_SC_DEQ) && mp->core->orphans == NULL)
		mp->handler_get = r;
	if (!(r->flags & XP_RING_F_SP_ENQ))
		mp->handler_put = r;
	if (mp->cache_size == 0) {
		mp->direct_get = mp->handler_get;
		mp->direct_put = mp->handler_put;
	}
}

/* Insert under a reserved name: invisible to lookup and walk until live. */
static int pool_insert(struct xp_mempool *mp)
{
	int ret = 0;

	pthread_mutex_lock(&xp__pools_lock);
	if (find_pool_locked(mp->name) != NULL) {
		ret = -EEXIST;
	} else {
		mp->core->next_pool = xp__pools;
		xp__pools = mp;
	}
	pthread_mutex_unlock(&xp__pools_lock);
	return ret;
}

static int run_create(struct xp_mempool *mp, const char *args);

/*
 * The handler asked to be replaced (xp_mempool_handler_fallback): serve the
 * pool with the process default, or with ring_mp_mc when the default is the
 * handler that gave up.
 */
static int run_fallback(struct xp_mempool *mp)
{
	static int said;
	const struct xp_mempool_ops *from = mp->core->ops, *to = NULL;
	char *why = mp->core->fallback_why;
	int idx, err;

	mp->core->fallback_why = NULL;
	idx = xp__handler_resolve(NULL, &to);
	if (idx < 0 || to == from)
		idx = xp__handler_resolve(XP_MEMPOOL_BUILTIN_HANDLER, &to);
	if (idx < 0 || to == from) {
		free(why);
		return -ENOENT;
	}
	/* One line says why; later pools say it at info level only. */
	xp_log(__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED) ? XP_LOG_INFO
							       : XP_LOG_NOTICE,
	       "pool %s: handler %s unavailable (%s): served by %s instead",
	       mp->name, from->name, why != NULL ? why : "no reason given",
	       to->name);
	free(why);
	err = xp__pool_layout(mp, to);
	if (err != 0)
		return err;
	mp->handler_idx = idx;
	xp__ring_store_release(mp);
	/* The next handler starts afresh (a failed populate of the first
	 * one is its own: nothing was placed). */
	mp->core->populate_err = 0;
	mp->pool_data = NULL;
	mp->v2p_len = 0;
	mp->v2p_pages = NULL;
	return run_create(mp, NULL);
}

static int run_create(struct xp_mempool *mp, const char *args)
{
	const struct xp_mempool_ops *ops = mp->core->ops;
	int ret;

	ret = xp__dispatch_create(mp, args);
	if (ret < 0)
		return ret;
	if (mp->core->fallback_why != NULL) {
		if (mp->core->populated != 0) {
			XP_ERR("pool %s: handler %s asked for a fallback after "
			       "populating",
			       mp->name, ops->name);
			free(mp->core->fallback_why);
			mp->core->fallback_why = NULL;
			xp__dispatch_destroy(mp);
			return -EPROTO;
		}
		return run_fallback(mp);
	}
	if (mp->core->populate_err != 0) {
		XP_ERR("pool %s: handler %s create succeeded after a failed "
		       "populate (%s)",
		       mp->name, ops->name, strerror(-mp->core->populate_err));
		xp__dispatch_destroy(mp);
		return mp->core->populate_err;
	}
	if (mp->core->populated != mp->size) {
		XP_ERR("pool %s: handler %s placed %u of %u objects",
		       mp->name, ops->name, mp->core->populated, mp->size);
		xp__dispatch_destroy(mp);
		return -EPROTO;
	}
	return 0;
}

struct xp_mempool *xp_mempool_create_ex(const char *name, unsigned int n,
					size_t elt_size,
					unsigned int cache_size,
					size_t priv_size,
					xp_mempool_obj_cb_t *obj_init,
					void *obj_init_arg, unsigned int flags,
					const char *handler,
					const char *handler_args)
{
	const struct xp_mempool_ops *ops = NULL;
	struct xp_mempool *mp;
	int err, idx;

	err = xp__mempool_check_args(name, n, elt_size, cache_size, priv_size,
				     flags);
	if (err != 0)
		goto err_out;
	idx = xp__handler_resolve(handler, &ops);
	if (idx < 0) {
		err = idx;
		goto err_out;
	}
	if (env_debug())
		flags |= XP_MEMPOOL_F_DEBUG;
	mp = pool_alloc(name, n, elt_size, cache_size, priv_size, flags);
	if (mp == NULL) {
		err = -ENOMEM;
		goto err_out;
	}
	mp->handler_idx = idx;
	err = xp__pool_layout(mp, ops);
	if (err != 0)
		goto err_free;
	mp->core->obj_init = obj_init;
	mp->core->obj_init_arg = obj_init_arg;
	if ((flags & XP_MEMPOOL_F_DEBUG) && xp__debug_init(mp) != 0) {
		err = -ENOMEM;
		goto err_free;
	}
	if ((flags & XP_MEMPOOL_F_SP_PUT) && cache_size > 0) {
		mp->core->orphans = calloc(n, sizeof(void *));
		if (mp->core->orphans == NULL) {
			err = -ENOMEM;
			goto err_free;
		}
	}
	err = pool_insert(mp);
	if (err != 0)
		goto err_free;
	err = run_create(mp, handler_args);
	if (err != 0)
		goto err_unlink;
	set_direct_rings(mp);
	/* One chunk with a bus address and no handler virt2phy: inline. */
	if (mp->v2p_pages == NULL && !xp__dispatch_has_virt2phy(mp) &&
	    mp->core->nchunks == 1 &&
	    mp->core->chunks[0].phys != XP_BAD_PHYS) {
		mp->v2p_va = mp->core->chunks[0].va;
		mp->v2p_len = mp->core->chunks[0].len;
		mp->v2p_phys = mp->core->chunks[0].phys;
	}
	pthread_mutex_lock(&xp__pools_lock);
	mp->core->live = 1;
	pthread_mutex_unlock(&xp__pools_lock);
	XP_INFO("pool %s: %u objects of %zu bytes (stride %zu) on handler %s",
		mp->name, n, elt_size, mp->obj_stride, ops->name);
	return mp;

err_unlink:
	unlink_pool(mp);
err_free:
	release_core_memory(mp);
err_out:
	/* The one place this constructor sets errno. */
	errno = -err;
	return NULL;
}

struct xp_mempool *xp_mempool_create(const char *name, unsigned int n,
				     size_t elt_size, unsigned int cache_size,
				     size_t priv_size,
				     xp_mempool_obj_cb_t *obj_init,
				     void *obj_init_arg, unsigned int flags)
{
	return xp_mempool_create_ex(name, n, elt_size, cache_size, priv_size,
				    obj_init, obj_init_arg, flags, NULL, NULL);
}

void xp_mempool_free(struct xp_mempool *mp)
{
	if (mp == NULL)
		return;
	if (mp->core->free_cb != NULL)
		mp->core->free_cb(mp, mp->core->free_cb_arg);
	/* Once unlinked no exiting thread touches the pool's caches. */
	unlink_pool(mp);
	xp__caches_free_all(mp);
	xp__dispatch_destroy(mp);
	release_core_memory(mp);
}

void *xp_mempool_get_priv(struct xp_mempool *mp)
{
	return mp == NULL ? NULL : mp->core->priv;
}

struct xp_mempool *xp_mempool_lookup(const char *name)
{
	struct xp_mempool *mp;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&xp__pools_lock);
	mp = find_pool_locked(name);
	if (mp != NULL && !mp->core->live)
		mp = NULL;
	pthread_mutex_unlock(&xp__pools_lock);
	if (mp == NULL)
		errno = ENOENT;
	return mp;
}

int xp_mempool_walk(int (*cb)(struct xp_mempool *, void *), void *arg)
{
	struct xp_mempool *mp;
	int ret = 0;

	if (cb == NULL)
		return -EINVAL;
	pthread_mutex_lock(&xp__pools_lock);
	for (mp = xp__pools; mp != NULL && ret == 0; mp = mp->core->next_pool)
		if (mp->core->live)
			ret = cb(mp, arg);
	pthread_mutex_unlock(&xp__pools_lock);
	return ret;
}

int xp_mempool_set_free_cb(struct xp_mempool *mp, xp_mempool_free_cb_t *cb,
			   void *arg)
{
	if (mp == NULL)
		return -EINVAL;
	if (cb != NULL && mp->core->free_cb != NULL)
		return -EBUSY;
	mp->core->free_cb = cb;
	mp->core->free_cb_arg = arg;
	return 0;
}

const struct xp_mempool_ops *xp_mempool_get_ops(const struct xp_mempool *mp)
{
	return mp == NULL ? NULL : mp->core->ops;
}

const char *xp_mempool_handler_name(const struct xp_mempool *mp)
{
	return mp == NULL ? NULL : mp->core->ops->name;
}

int xp_mempool_access(const struct xp_mempool *mp,
		      struct xp_mempool_access *acc)
{
	if (mp == NULL || acc == NULL)
		return -EINVAL;
	xp__dispatch_access(mp, acc);
	return 0;
}
