/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Caches: thread slots, the out-of-line halves of get and put, user-owned
 * caches, and giving a thread's cached objects back when it exits.
 *
 * A thread gets a slot (1 to XP_MEMPOOL_MAX_THREADS - 1) on its first miss;
 * mp->cache[slot] is its cache for mp, allocated on its first miss on mp.
 * Only the owning thread writes mp->cache[slot] and the cache's contents.
 * Other threads read the pointer (acquire, pairing with the owner's release
 * store below) and the length (relaxed) under xp__pools_lock, which the
 * owner also holds when it drops its caches at exit, so a cache is never
 * freed under a reader.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "dispatch.h"

XP_THREAD_LOCAL unsigned int xp__thread_slot;

/* Misses to wait before a thread that found no free slot tries again. */
#define XP_SLOT_RETRY 1024u
static XP_THREAD_LOCAL unsigned int slot_retry;

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char slot_used[XP_MEMPOOL_MAX_THREADS];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static int exit_key_ok;

int xp__ops_get(struct xp_mempool *mp, void **objs, unsigned int n)
{
	struct xp__mempool_core *core = mp->core;
	unsigned int k;
	int ret = 0;

	if (XP_LIKELY(__atomic_load_n(&core->norphans, __ATOMIC_RELAXED) == 0))
		return xp__dispatch_get(mp, objs, n);
	pthread_mutex_lock(&xp__pools_lock);
	k = core->norphans < n ? core->norphans : n;
	if (k < n)
		ret = xp__dispatch_get(mp, objs + k, n - k);
	if (ret == 0) {
		memcpy(objs, &core->orphans[core->norphans - k],
		       k * sizeof(void *));
		__atomic_store_n(&core->norphans, core->norphans - k,
				 __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&xp__pools_lock);
	return ret;
}

/* Give a cache's objects back as its thread exits (under xp__pools_lock).
 * A single-producer pool cannot take a put from this thread, which may
 * never have put: the objects wait as orphans for the next gets. */
static void cache_return(struct xp_mempool *mp, struct xp_mempool_cache *c)
{
	struct xp__mempool_core *core = mp->core;

	if (!(mp->flags & XP_MEMPOOL_F_SP_PUT)) {
		(void)xp__dispatch_put(mp, xp__cache_slots(c), c->len);
		return;
	}
	/* orphans has room for the whole pool (allocated at creation). */
	memcpy(&core->orphans[core->norphans], xp__cache_slots(c),
	       c->len * sizeof(void *));
	__atomic_store_n(&core->norphans, core->norphans + c->len,
			 __ATOMIC_RELAXED);
}

static void cache_drop(struct xp_mempool *mp, unsigned int slot, int flush)
{
	struct xp_mempool_cache *c =
		__atomic_load_n(&mp->cache[slot], __ATOMIC_ACQUIRE);

	if (c == NULL)
		return;
	if (flush && c->len > 0)
		cache_return(mp, c);
	__atomic_store_n(&mp->cache[slot], NULL, __ATOMIC_RELEASE);
	free(c);
}

/* pthread key destructor: runs in the exiting thread. */
static void thread_exit(void *arg)
{
	unsigned int slot = (unsigned int)(uintptr_t)arg;
	struct xp_mempool *mp;

	pthread_mutex_lock(&xp__pools_lock);
	for (mp = xp__pools; mp != NULL; mp = mp->core->next_pool)
		cache_drop(mp, slot, 1);
	pthread_mutex_unlock(&xp__pools_lock);
	xp__thread_slot = 0;
	pthread_mutex_lock(&slot_lock);
	slot_used[slot] = 0;
	pthread_mutex_unlock(&slot_lock);
}

/* A library unloaded while threads still hold slots must not leave them a
 * destructor in unmapped code. */
static void __attribute__((destructor)) key_fini(void)
{
	if (exit_key_ok)
		pthread_key_delete(exit_key);
}

static void key_init(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0;
	if (!exit_key_ok)
		XP_ERR("no pthread key for thread exit: threads will not "
		       "have caches");
}

static unsigned int slot_acquire(void)
{
	unsigned int s;

	if (slot_retry > 0) {
		slot_retry--;
		return 0;
	}
	pthread_once(&key_once, key_init);
	if (!exit_key_ok)
		return 0;
	pthread_mutex_lock(&slot_lock);
	for (s = 1; s < XP_MEMPOOL_MAX_THREADS && slot_used[s]; s++)
		;
	if (s < XP_MEMPOOL_MAX_THREADS)
		slot_used[s] = 1;
	pthread_mutex_unlock(&slot_lock);
	if (s == XP_MEMPOOL_MAX_THREADS) {
		slot_retry = XP_SLOT_RETRY;
		return 0;
	}
	if (pthread_setspecific(exit_key, (void *)(uintptr_t)s) != 0) {
		pthread_mutex_lock(&slot_lock);
		slot_used[s] = 0;
		pthread_mutex_unlock(&slot_lock);
		return 0;
	}
	xp__thread_slot = s;
	return s;
}

/* The storage starts a line after the header (xp__cache_slots()). */
_Static_assert(sizeof(struct xp_mempool_cache) <= XP_CACHE_LINE_SIZE,
	       "a cache's header fits in the line before its storage");

int xp__cache_alloc_into(struct xp_mempool_cache **out, unsigned int size)
{
	struct xp_mempool_cache *c;
	/* The storage starts a cache line after the header, so that a block
	 * of the copies (xp__objs_copy) at a line-aligned window stays within
	 * one line. */
	size_t bytes = XP_CACHE_LINE_SIZE + 2 * (size_t)size * sizeof(void *);

	c = xp__alloc_lines(bytes);
	if (c == NULL)
		return -ENOMEM;
	c->len = 0;
	c->size = size;
	c->flushthresh = xp__cache_flushthresh(size);
	c->capacity = 2 * size;
	*out = c;
	return 0;
}

struct xp_mempool_cache *xp_mempool_default_cache(struct xp_mempool *mp)
{
	struct xp_mempool_cache *c;
	unsigned int s;

	if (mp == NULL || mp->cache_size == 0 ||
	    (mp->flags & XP_MEMPOOL_F_DEBUG))
		return NULL;
	s = xp__thread_slot;
	if (s == 0 && (s = slot_acquire()) == 0)
		return NULL;
	c = mp->cache[s];
	if (c != NULL)
		return c;
	if (xp__cache_alloc_into(&c, mp->cache_size) != 0)
		return NULL;
	/* Release pairs with the acquire of readers in xp__caches_count(). */
	__atomic_store_n(&mp->cache[s], c, __ATOMIC_RELEASE);
	return c;
}

static int cache_get(struct xp_mempool *mp, void **objs, unsigned int n,
		     struct xp_mempool_cache *c)
{
	uint32_t len;

	if (c == NULL)
		return xp__ops_get(mp, objs, n) == 0 ? 0 : -ENOENT;
	len = c->len;
	if (n <= len) {
		xp__cache_take(c, objs, n, len);
		return 0;
	}
	if (n <= c->size) {
		/* Refill so that size objects remain after this get:
		 * len + (n - len + size) = n + size <= capacity. */
		uint32_t req = n - len + c->size;

		if (xp__ops_get(mp, &xp__cache_slots(c)[len], req) == 0)
			len += req;
		else if (xp__ops_get(mp, &xp__cache_slots(c)[len], n - len) == 0)
			len = n;
		else
			return -ENOENT;
		xp__cache_take(c, objs, n, len);
		return 0;
	}
	/* Larger than the cache: from the handler, completed from the cache
	 * only if the handler alone cannot serve it. */
	if (xp__ops_get(mp, objs, n) == 0)
		return 0;
	if (len == 0 || xp__ops_get(mp, objs, n - len) != 0)
		return -ENOENT;
	memcpy(&objs[n - len], xp__cache_slots(c), len * sizeof(void *));
	__atomic_store_n(&c->len, 0, __ATOMIC_RELAXED);
	return 0;
}

static void cache_put(struct xp_mempool *mp, void *const *objs,
		      unsigned int n, struct xp_mempool_cache *c)
{
	uint32_t len, flush;

	if (c == NULL || n > c->size) {
		(void)xp__dispatch_put(mp, objs, n);
		return;
	}
	len = c->len;
	if (n <= c->flushthresh - len) {
		xp__cache_give(c, objs, n, len);
		return;
	}
	/* Flush the top so that size objects remain after this put:
	 * len + n > flushthresh >= size, and n <= size, so 0 < flush <= len. */
	flush = len + n - c->size;
	(void)xp__dispatch_put(mp, &xp__cache_slots(c)[len - flush], flush);
	xp__cache_give(c, objs, n, len - flush);
}

/* The misses of both APIs; static, so that the exported entry points below
 * reach it with a direct call rather than through each other's PLT slot. */
static int get_miss(struct xp_mempool *mp, void **objs, unsigned int n,
		    struct xp_mempool_cache *cache)
{
	if (n == 0)
		return 0;
	if (mp->flags & XP_MEMPOOL_F_DEBUG)
		return xp__debug_get(mp, objs, n);
	return cache_get(mp, objs, n, cache);
}

static void put_miss(struct xp_mempool *mp, void *const *objs, unsigned int n,
		     struct xp_mempool_cache *cache)
{
	if (n == 0)
		return;
	if (mp->flags & XP_MEMPOOL_F_DEBUG) {
		xp__debug_put(mp, objs, n);
		return;
	}
	cache_put(mp, objs, n, cache);
}

int xp__mempool_get_miss(struct xp_mempool *mp, void **objs, unsigned int n)
{
	/* An uncached pool goes straight to its handler: no cache to look
	 * up, and no orphans (they exist only beside caches).  get_miss()
	 * gets there too, but through two more calls and the orphan check
	 * (doc/performance.md, "Optimisation log", has the count). */
	if (XP_LIKELY(mp->cache_size == 0 &&
		      !(mp->flags & XP_MEMPOOL_F_DEBUG) && n != 0))
		return xp__dispatch_get(mp, objs, n) == 0 ? 0 : -ENOENT;
	return get_miss(mp, objs, n, xp_mempool_default_cache(mp));
}

void xp__mempool_put_miss(struct xp_mempool *mp, void *const *objs,
			  unsigned int n)
{
	if (XP_LIKELY(mp->cache_size == 0 &&
		      !(mp->flags & XP_MEMPOOL_F_DEBUG) && n != 0)) {
		(void)xp__dispatch_put(mp, objs, n);
		return;
	}
	put_miss(mp, objs, n, xp_mempool_default_cache(mp));
}

int xp__mempool_generic_get_miss(struct xp_mempool *mp, void **objs,
				 unsigned int n,
				 struct xp_mempool_cache *cache)
{
	return get_miss(mp, objs, n, cache);
}

void xp__mempool_generic_put_miss(struct xp_mempool *mp, void *const *objs,
				  unsigned int n,
				  struct xp_mempool_cache *cache)
{
	put_miss(mp, objs, n, cache);
}

struct xp_mempool_cache *xp_mempool_cache_create(unsigned int size)
{
	struct xp_mempool_cache *c;
	int ret;

	if (size == 0 || size > XP_MEMPOOL_CACHE_MAX_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	ret = xp__cache_alloc_into(&c, size);
	if (ret != 0) {
		errno = -ret;
		return NULL;
	}
	return c;
}

void xp_mempool_cache_free(struct xp_mempool_cache *cache)
{
	free(cache);
}

int xp_mempool_cache_flush(struct xp_mempool_cache *cache,
			   struct xp_mempool *mp)
{
	int ret;

	if (cache == NULL || mp == NULL)
		return -EINVAL;
	if (cache->len == 0)
		return 0;
	ret = xp__dispatch_put(mp, xp__cache_slots(cache), cache->len);
	if (ret != 0)
		return ret < 0 ? ret : -EPROTO;
	__atomic_store_n(&cache->len, 0, __ATOMIC_RELAXED);
	return 0;
}

void xp__caches_free_all(struct xp_mempool *mp)
{
	unsigned int s;

	for (s = 1; s < XP_MEMPOOL_MAX_THREADS; s++)
		cache_drop(mp, s, 0);
}

unsigned int xp__caches_count(const struct xp_mempool *mp, int *overfull)
{
	unsigned int s, len, count;

	pthread_mutex_lock(&xp__pools_lock);
	count = mp->core->norphans;
	for (s = 1; s < XP_MEMPOOL_MAX_THREADS; s++) {
		struct xp_mempool_cache *c =
			__atomic_load_n(&mp->cache[s], __ATOMIC_ACQUIRE);

		if (c == NULL)
			continue;
		len = __atomic_load_n(&c->len, __ATOMIC_RELAXED);
		if (len > c->capacity && overfull != NULL)
			*overfull = 1;
		count += len;
	}
	pthread_mutex_unlock(&xp__pools_lock);
	return count;
}
