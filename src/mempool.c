/* SPDX-License-Identifier: BSD-3-Clause */
/* The pool core: create and free, populate and layout, introspection. */
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

/* Objects handed to put_bulk at once while populating. */
#define XP_POPULATE_BATCH 256u

/* Stride and alignment for a pool, 0 on overflow. */
static size_t layout_stride(size_t elt_size, size_t guard, size_t align)
{
	if (elt_size > SIZE_MAX - guard - align)
		return 0;
	return xp__align_up(elt_size + guard, align);
}

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
 * Object layout for the pool's handler.  The debug guard sits right after
 * each object, so it is left out of memory another party can write: there
 * it would prove nothing, and a peer could fake overruns at will.
 */
static int pool_layout(struct xp_mempool *mp, const struct xp_mempool_ops *ops)
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
		idx = xp__handler_resolve("ring_mp_mc", &to);
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
	err = pool_layout(mp, to);
	if (err != 0)
		return err;
	mp->handler_idx = idx;
	mp->core->ring = NULL;
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
	err = pool_layout(mp, ops);
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
	size_t room, tail;
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
	tail = mp->elt_size + core->guard;
	if (first - start >= len || len - (first - start) < tail ||
	    core->populated == mp->size)
		return 0;
	room = len - (first - start) - tail;
	fit = room / mp->obj_stride >= mp->size ? mp->size
						: (unsigned int)(room / mp->obj_stride) + 1;
	if (fit > mp->size - core->populated)
		fit = mp->size - core->populated;
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
	if (!mp->core->creating)
		return -EBUSY;
	mp->core->ring = r;
	return 0;
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
	size_t len;
	void *va;
	int ret;

	if (mp == NULL)
		return -EINVAL;
	if (!mp->core->creating)
		return -EBUSY;
	if (mp->core->populated == mp->size)
		return 0;
	len = xp_mempool_chunk_size(mp, mp->size - mp->core->populated);
	if (len == 0 || len > SIZE_MAX - XP_PAGE_SIZE)
		return -ENOMEM;
	len = xp__align_up(len, XP_PAGE_SIZE);
	a = malloc(sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	va = mmap(NULL, len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED) {
		free(a);
		return -ENOMEM;
	}
	ret = xp_mempool_populate(mp, va, (uint64_t)(uintptr_t)va, len);
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

/* ---- introspection --------------------------------------------------- */

void *xp_mempool_get_priv(struct xp_mempool *mp)
{
	return mp == NULL ? NULL : mp->core->priv;
}

unsigned int xp_mempool_avail_count(const struct xp_mempool *mp)
{
	unsigned int count;

	if (mp == NULL)
		return 0;
	count = xp__dispatch_count(mp) + xp__caches_count(mp, NULL);
	/* Counts read while threads run can add up to more than the pool. */
	return count > mp->size ? mp->size : count;
}

unsigned int xp_mempool_in_use_count(const struct xp_mempool *mp)
{
	return mp == NULL ? 0 : mp->size - xp_mempool_avail_count(mp);
}

unsigned int xp_mempool_obj_iter(struct xp_mempool *mp,
				 xp_mempool_obj_cb_t *cb, void *arg)
{
	unsigned int i, j, n = 0;

	if (mp == NULL || cb == NULL)
		return 0;
	for (i = 0; i < mp->core->nchunks; i++) {
		const struct xp__chunk *c = &mp->core->chunks[i];

		for (j = 0; j < c->nobjs; j++, n++)
			cb(mp, arg,
			   (void *)(c->first_obj + (size_t)j * mp->obj_stride),
			   c->first_idx + j);
	}
	return n;
}

unsigned int xp_mempool_mem_iter(struct xp_mempool *mp,
				 xp_mempool_mem_cb_t *cb, void *arg)
{
	unsigned int i;

	if (mp == NULL || cb == NULL)
		return 0;
	for (i = 0; i < mp->core->nchunks; i++) {
		const struct xp__chunk *c = &mp->core->chunks[i];

		cb(mp, arg, (void *)c->va, c->phys, c->len, i);
	}
	return mp->core->nchunks;
}

static int audit_counts(struct xp_mempool *mp)
{
	unsigned int handler = xp__dispatch_count(mp);
	int overfull = 0;
	unsigned int cached = xp__caches_count(mp, &overfull);

	if (overfull) {
		XP_ERR("pool %s: a cache holds more than its storage",
		       mp->name);
		return -ERANGE;
	}
	if (handler > mp->size || cached > mp->size - handler) {
		XP_ERR("pool %s: %u objects in the handler and %u in caches, "
		       "but the pool has %u",
		       mp->name, handler, cached, mp->size);
		return -ERANGE;
	}
	return 0;
}

int xp_mempool_audit(struct xp_mempool *mp)
{
	int ret;

	if (mp == NULL)
		return -EINVAL;
	pthread_mutex_lock(&xp__pools_lock);
	ret = audit_counts(mp);
	pthread_mutex_unlock(&xp__pools_lock);
	if (ret == 0 && (mp->flags & XP_MEMPOOL_F_DEBUG))
		ret = xp__debug_audit(mp);
	return ret;
}

void xp_mempool_dump(FILE *f, const struct xp_mempool *mp)
{
	const struct xp__mempool_core *core;
	struct xp_mempool_debug_stats st;
	unsigned int i, avail;

	if (f == NULL || mp == NULL)
		return;
	core = mp->core;
	avail = xp_mempool_avail_count(mp);
	fprintf(f, "mempool <%s>@%p\n", mp->name, (const void *)mp);
	fprintf(f, "  handler=%s (index %d)\n", core->ops->name,
		mp->handler_idx);
	fprintf(f, "  flags=0x%x%s%s%s%s\n", mp->flags,
		(mp->flags & XP_MEMPOOL_F_SP_PUT) ? " SP_PUT" : "",
		(mp->flags & XP_MEMPOOL_F_SC_GET) ? " SC_GET" : "",
		(mp->flags & XP_MEMPOOL_F_NO_CACHE_ALIGN) ? " NO_CACHE_ALIGN"
							  : "",
		(mp->flags & XP_MEMPOOL_F_DEBUG) ? " DEBUG" : "");
	fprintf(f, "  size=%u elt_size=%zu obj_stride=%zu priv_size=%zu\n",
		mp->size, mp->elt_size, mp->obj_stride, mp->priv_size);
	fprintf(f, "  avail=%u in_use=%u in_handler=%u in_caches=%u\n", avail,
		mp->size - avail, xp__dispatch_count(mp),
		xp__caches_count(mp, NULL));
	fprintf(f, "  cache_size=%u flushthresh=%u\n", mp->cache_size,
		mp->cache_size * 3 / 2);
	fprintf(f, "  chunks=%u\n", core->nchunks);
	for (i = 0; i < core->nchunks && i < 8; i++) {
		const struct xp__chunk *c = &core->chunks[i];

		fprintf(f, "    [%u] va=%#lx len=%zu phys=", i,
			(unsigned long)c->va, c->len);
		if (c->phys == XP_BAD_PHYS)
			fprintf(f, "none");
		else
			fprintf(f, "%#llx", (unsigned long long)c->phys);
		fprintf(f, " objs=%u\n", c->nobjs);
	}
	if (core->nchunks > 8)
		fprintf(f, "    ... %u more\n", core->nchunks - 8);
	if (mp->flags & XP_MEMPOOL_F_DEBUG) {
		xp_mempool_get_debug_stats(mp, &st);
		fprintf(f,
			"  debug: double_put=%llu foreign_put=%llu "
			"overrun=%llu\n",
			(unsigned long long)st.double_put,
			(unsigned long long)st.foreign_put,
			(unsigned long long)st.overrun);
	}
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
