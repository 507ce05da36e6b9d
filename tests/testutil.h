/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the cmocka tests: errno checks, pool creation, the set
 * of a pool's objects (to prove that every object is back exactly once), a
 * counting user handler, scaling of long tests, pseudo-random numbers, and
 * running code in a child process or this program again.
 *
 * Include after <cmocka.h>.  Header-only, so that each test binary stays a
 * single source file.
 */
#ifndef XP_TESTS_TESTUTIL_H
#define XP_TESTS_TESTUTIL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenpool/xenpool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The handlers the library always registers, to initialise an array. */
#define TU_BUILTIN_HANDLERS                                                   \
	"ring_mp_mc", "ring_sp_sc", "ring_mp_sc", "ring_sp_mc"

/* Evaluate @expr once; it must yield NULL and set errno to @err. */
#define TU_ASSERT_NULL_ERRNO(expr, err)                                       \
	do {                                                                  \
		errno = 0;                                                    \
		void *tu_p_ = (void *)(expr);                                 \
		int tu_e_ = errno;                                            \
		assert_null(tu_p_);                                           \
		assert_int_equal(tu_e_, (err));                               \
	} while (0)

/* No pool named @name exists (lookup fails with ENOENT). */
#define TU_ASSERT_NO_POOL(name)                                               \
	TU_ASSERT_NULL_ERRNO(xp_mempool_lookup(name), ENOENT)

/*
 * The default handler a process starts with: XENPOOL_DEFAULT_HANDLER when
 * set and not empty, else ring_mp_mc.
 */
static inline const char *tu_initial_def_handler(void)
{
	const char *env = getenv("XENPOOL_DEFAULT_HANDLER");

	return env != NULL && *env != '\0' ? env : "ring_mp_mc";
}

/* @name is registered: lookup finds it under that name; it has an index. */
static inline const struct xp_mempool_ops *tu_lookup_ok(const char *name)
{
	const struct xp_mempool_ops *ops = xp_mempool_handler_lookup(name);

	assert_non_null(ops);
	assert_string_equal(ops->name, name);
	assert_true(xp_mempool_handler_index(name) >= 0);
	return ops;
}

static inline int tu_count_pools_cb(struct xp_mempool *mp, void *arg)
{
	(void)mp;
	(*(unsigned int *)arg)++;
	return 0;
}

/* Number of pools in the process, by xp_mempool_walk(). */
static inline unsigned int tu_pool_count(void)
{
	unsigned int n = 0;

	assert_int_equal(xp_mempool_walk(tu_count_pools_cb, &n), 0);
	return n;
}

/* xp_mempool_create_ex() that must succeed; says why when it does not. */
static inline struct xp_mempool *
tu_mk_pool_args(const char *name, unsigned int n, size_t elt_size,
		unsigned int cache_size, unsigned int flags,
		const char *handler, const char *args)
{
	struct xp_mempool *mp;

	errno = 0;
	mp = xp_mempool_create_ex(name, n, elt_size, cache_size, 0, NULL, NULL,
				  flags, handler, args);
	if (mp == NULL)
		print_error("create %s: %s\n", name, strerror(errno));
	assert_non_null(mp);
	return mp;
}

/* tu_mk_pool_args() without handler arguments. */
static inline struct xp_mempool *tu_mk_pool(const char *name, unsigned int n,
					    size_t elt_size,
					    unsigned int cache_size,
					    unsigned int flags,
					    const char *handler)
{
	return tu_mk_pool_args(name, n, elt_size, cache_size, flags, handler,
			       NULL);
}

/*
 * Scale factor for long tests from XP_TEST_SCALE (a positive number,
 * default 1), so that slow builds (sanitizers, valgrind) can run less.
 */
static inline double tu_scale(void)
{
	const char *s = getenv("XP_TEST_SCALE");
	double v;

	if (s == NULL || *s == '\0')
		return 1.0;
	v = strtod(s, NULL);
	return v > 0 ? v : 1.0;
}

/* @n scaled by tu_scale(), at least @min. */
static inline unsigned long tu_scaled(unsigned long n, unsigned long min)
{
	double v = (double)n * tu_scale();

	return v < (double)min ? min : (unsigned long)v;
}

/*
 * Marsaglia's xorshift generators: cheap, reproducible from the seed, and
 * never 0 from a nonzero seed.
 */
static inline uint32_t tu_xorshift32(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static inline uint64_t tu_xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- work in a child process ---------------------------------------- */

/*
 * Run @fn in a forked child and check that it exits with 0: for checks that
 * change the process for good (a resource limit).  A failed cmocka
 * assertion in the child would not fail the test in the parent, so @fn
 * returns a nonzero code of its own instead.
 */
static inline void tu_run_in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Limit the address space to what is mapped now plus @headroom bytes, so
 * that a large allocation fails with ENOMEM and small ones still work.
 * There is no going back: call it in a child.  Returns 0, or -1.
 */
static inline int tu_limit_address_space(unsigned long headroom)
{
	unsigned long pages = 0;
	struct rlimit rl;
	FILE *f = fopen("/proc/self/statm", "r");
	int ok;

	if (f == NULL)
		return -1;
	ok = fscanf(f, "%lu", &pages) == 1;
	fclose(f);
	if (!ok)
		return -1;
	rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) + headroom;
	rl.rlim_max = RLIM_INFINITY;
	return setrlimit(RLIMIT_AS, &rl);
}

/*
 * Use once, at file scope, in a program that provokes a failed allocation:
 * the sanitizers' allocators then return NULL, as libc does, instead of
 * aborting (the hooks are unused in other builds).  ASAN_OPTIONS and
 * TSAN_OPTIONS still override it.
 */
#define TU_SANITIZERS_MAY_RETURN_NULL()                                       \
	const char *__asan_default_options(void);                             \
	const char *__tsan_default_options(void);                             \
	const char *__asan_default_options(void)                              \
	{                                                                     \
		return "allocator_may_return_null=1";                         \
	}                                                                     \
	const char *__tsan_default_options(void)                              \
	{                                                                     \
		return "allocator_may_return_null=1";                         \
	}

/* ---- running this program again ------------------------------------- */

/* A variable for tu_run_self(); a NULL @value unsets it. */
struct tu_env {
	const char *name;
	const char *value;
};

/* Read @f from its start into @buf (NUL-terminated, truncated); close it. */
static inline void tu_slurp(FILE *f, char *buf, size_t size)
{
	size_t n;

	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * Run "<this program> @arg" with @env applied to a copy of our environment,
 * for what a fresh process sees at start; return its exit status and what
 * it wrote to stdout and stderr.
 */
static inline int tu_run_self(const char *arg, const struct tu_env *env,
			      unsigned int nenv, char *out, size_t outsz,
			      char *err, size_t errsz)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *fo = tmpfile(), *fe = tmpfile();
	unsigned int i;
	int status;
	pid_t pid;

	assert_true(len > 0);
	exe[len] = '\0';
	assert_non_null(fo);
	assert_non_null(fe);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {exe, (char *)arg, NULL};

		if (dup2(fileno(fo), 1) < 0 || dup2(fileno(fe), 2) < 0)
			_exit(126);
		for (i = 0; i < nenv; i++) {
			if (env[i].value != NULL)
				setenv(env[i].name, env[i].value, 1);
			else
				unsetenv(env[i].name);
		}
		execv(exe, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	tu_slurp(fo, out, outsz);
	tu_slurp(fe, err, errsz);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* ---- stderr --------------------------------------------------------- */

/*
 * The process's stderr (fd 2), captured between tu_stderr_begin() and
 * tu_stderr_end_empty(), which fails the test, showing what came, if
 * anything was written: e.g. the Xen libraries' own messages, which must
 * reach xp_log instead.
 */
static struct {
	int saved;
	FILE *tmp;
} tu_err = {-1, NULL};

static inline void tu_stderr_begin(void)
{
	fflush(stderr);
	tu_err.tmp = tmpfile();
	assert_non_null(tu_err.tmp);
	tu_err.saved = dup(2);
	assert_true(tu_err.saved >= 0);
	assert_true(dup2(fileno(tu_err.tmp), 2) == 2);
}

static inline void tu_stderr_end_empty(void)
{
	char buf[2048];
	size_t len;

	fflush(stderr);
	assert_true(dup2(tu_err.saved, 2) == 2);
	close(tu_err.saved);
	rewind(tu_err.tmp);
	len = fread(buf, 1, sizeof(buf) - 1, tu_err.tmp);
	buf[len] = '\0';
	fclose(tu_err.tmp);
	tu_err.tmp = NULL;
	if (len > 0)
		fail_msg("stderr received: %s", buf);
}

/* ---- the set of a pool's objects ----------------------------------- */

/*
 * Every object of a pool, by xp_mempool_obj_iter(), sorted by address, with
 * a mark per object so that a collection of pointers can be checked to hold
 * each object exactly once.
 */
struct tu_objset {
	void **objs;
	unsigned char *seen;
	unsigned int n;
};

static inline void tu_objset_collect_cb(struct xp_mempool *mp, void *arg,
					void *obj, unsigned int idx)
{
	struct tu_objset *s = (struct tu_objset *)arg;

	(void)mp;
	(void)idx;
	if (s->n < mp->size)
		s->objs[s->n] = obj;
	s->n++;
}

static inline int tu_ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a;
	uintptr_t y = (uintptr_t)*(void *const *)b;

	return (x > y) - (x < y);
}

/*
 * Fill @s with the objects of @mp.  Fails the test if obj_iter's count and
 * the number of visits differ from mp->size, or if an object is visited
 * twice.
 */
static inline void tu_objset_init(struct tu_objset *s, struct xp_mempool *mp)
{
	unsigned int i, ret;

	s->n = 0;
	s->objs = (void **)calloc(mp->size, sizeof(*s->objs));
	s->seen = (unsigned char *)calloc(mp->size, 1);
	assert_non_null(s->objs);
	assert_non_null(s->seen);
	ret = xp_mempool_obj_iter(mp, tu_objset_collect_cb, s);
	assert_int_equal(ret, mp->size);
	assert_int_equal(s->n, mp->size);
	qsort(s->objs, s->n, sizeof(*s->objs), tu_ptr_cmp);
	for (i = 1; i < s->n; i++)
		assert_true(s->objs[i - 1] != s->objs[i]);
}

static inline void tu_objset_fini(struct tu_objset *s)
{
	free(s->objs);
	free(s->seen);
	s->objs = NULL;
	s->seen = NULL;
	s->n = 0;
}

/* Index of @obj in @s, or -1 if it is not one of the pool's objects. */
static inline long tu_objset_find(const struct tu_objset *s, const void *obj)
{
	void **hit = (void **)bsearch(&obj, s->objs, s->n, sizeof(*s->objs),
				      tu_ptr_cmp);

	return hit == NULL ? -1 : (long)(hit - s->objs);
}

/* Forget which objects were seen. */
static inline void tu_objset_reset(struct tu_objset *s)
{
	memset(s->seen, 0, s->n);
}

/*
 * Mark @n pointers as seen: each must be an object of the pool not seen
 * since the last reset.
 */
static inline void tu_objset_mark(struct tu_objset *s, void *const *objs,
				  unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		long k = tu_objset_find(s, objs[i]);

		assert_true(k >= 0);
		assert_int_equal(s->seen[k], 0);
		s->seen[k] = 1;
	}
}

/* @objs holds each object of the pool exactly once (n == pool size). */
static inline void tu_objset_check_all(struct tu_objset *s, void *const *objs,
				       unsigned int n)
{
	assert_int_equal(n, s->n);
	tu_objset_reset(s);
	tu_objset_mark(s, objs, n);
}

/*
 * Take every object of @mp on this thread (one bulk of mp->size), check they
 * are exactly the pool's objects, and give them back.
 */
static inline void tu_check_all_free(struct xp_mempool *mp)
{
	struct tu_objset s;
	void **objs = (void **)calloc(mp->size, sizeof(*objs));

	assert_non_null(objs);
	tu_objset_init(&s, mp);
	assert_int_equal(xp_mempool_avail_count(mp), mp->size);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, mp->size), 0);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	tu_objset_check_all(&s, objs, mp->size);
	xp_mempool_put_bulk(mp, objs, mp->size);
	assert_int_equal(xp_mempool_avail_count(mp), mp->size);
	tu_objset_fini(&s);
	free(objs);
}

/* ---- a counting user handler --------------------------------------- */

/*
 * "tu_count": a mutex-protected array of free objects over
 * xp_mempool_populate_default(), counting every callback per pool.  Its
 * handler_args, when given, are "fail=N": create fails with -N.
 */
#define TU_COUNT_HANDLER "tu_count"

struct tu_count_stats {
	unsigned long create;
	unsigned long get_bulk;
	unsigned long put_bulk;
	unsigned long get_count;
	unsigned long get_objs; /* objects taken by successful get_bulk */
	unsigned long put_objs; /* objects given by put_bulk */
};

struct tu_count_data {
	pthread_mutex_t lock;
	unsigned int len;
	void **objs;
	void *mem; /* a derived handler's memory, freed with the state */
	struct tu_count_stats st;
};

/* Handler callbacks can run on several threads: count atomically. */
static inline void tu_count_add(unsigned long *c, unsigned long v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/*
 * Allocate the "tu_count" state of @mp (room for mp->size objects) and set
 * mp->pool_data; for handlers built on the tu_count callbacks.
 */
static inline struct tu_count_data *tu_count_data_alloc(struct xp_mempool *mp)
{
	struct tu_count_data *d;

	d = (struct tu_count_data *)calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->objs = (void **)calloc(mp->size, sizeof(*d->objs));
	if (d->objs == NULL) {
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->st.create = 1;
	mp->pool_data = d;
	return d;
}

/* Release what tu_count_data_alloc() took, and d->mem. */
static inline void tu_count_data_free(struct xp_mempool *mp)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;

	pthread_mutex_destroy(&d->lock);
	free(d->mem);
	free(d->objs);
	free(d);
	mp->pool_data = NULL;
}

static inline int tu_count_create(struct xp_mempool *mp, const char *args)
{
	int ret;

	if (args != NULL && strncmp(args, "fail=", 5) == 0)
		return -atoi(args + 5);
	if (tu_count_data_alloc(mp) == NULL)
		return -ENOMEM;
	ret = xp_mempool_populate_default(mp);
	if (ret < 0) {
		tu_count_data_free(mp);
		return ret;
	}
	return 0;
}

/*
 * Calls of destroy on any "tu_count" pool: the pool's counters are gone
 * after it, so this one lives outside the pool.
 */
static inline unsigned long *tu_count_destroyed(void)
{
	static unsigned long n;

	return &n;
}

static inline void tu_count_destroy(struct xp_mempool *mp)
{
	tu_count_add(tu_count_destroyed(), 1);
	tu_count_data_free(mp);
}

static inline int tu_count_get_bulk(struct xp_mempool *mp, void **objs,
				    unsigned int n)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;
	int ret = -ENOBUFS;

	tu_count_add(&d->st.get_bulk, 1);
	pthread_mutex_lock(&d->lock);
	if (n <= d->len) {
		d->len -= n;
		memcpy(objs, &d->objs[d->len], n * sizeof(*objs));
		tu_count_add(&d->st.get_objs, n);
		ret = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static inline int tu_count_put_bulk(struct xp_mempool *mp, void *const *objs,
				    unsigned int n)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;
	int ret = -ENOSPC;

	tu_count_add(&d->st.put_bulk, 1);
	pthread_mutex_lock(&d->lock);
	/* The core promises never to exceed the pool size. */
	if (n <= mp->size - d->len) {
		memcpy(&d->objs[d->len], objs, n * sizeof(*objs));
		d->len += n;
		tu_count_add(&d->st.put_objs, n);
		ret = 0;
	}
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static inline unsigned int tu_count_get_count(const struct xp_mempool *mp)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;
	unsigned int len;

	tu_count_add(&d->st.get_count, 1);
	pthread_mutex_lock(&d->lock);
	len = d->len;
	pthread_mutex_unlock(&d->lock);
	return len;
}

/*
 * Initialiser of the tu_count ops named @nm (a string literal) with create
 * @create_cb, for a static ops struct (XP_MEMPOOL_REGISTER_HANDLER wants one).
 */
#define TU_COUNT_OPS_INIT(nm, create_cb)                                      \
	{                                                                     \
		.name = nm,                                                   \
		.create = create_cb,                                          \
		.destroy = tu_count_destroy,                                  \
		.get_bulk = tu_count_get_bulk,                                \
		.put_bulk = tu_count_put_bulk,                                \
		.get_count = tu_count_get_count,                              \
	}

/*
 * The tu_count ops under @name, for handlers that override some callbacks
 * (a create with its own chunks, a virt2phy...).
 */
static inline struct xp_mempool_ops tu_count_ops(const char *name)
{
	struct xp_mempool_ops ops = TU_COUNT_OPS_INIT("", tu_count_create);

	strncpy(ops.name, name, sizeof(ops.name) - 1);
	return ops;
}

/* Register @ops; registering the same name again is fine. */
static inline void tu_register(const struct xp_mempool_ops *ops)
{
	int ret = xp_mempool_handler_register(ops);

	assert_true(ret >= 0 || ret == -EEXIST);
}

/* ---- chunks recorded by populate, through mem_iter ------------------ */

struct tu_chunk {
	char *va;
	uint64_t phys;
	size_t len;
};

struct tu_chunk_list {
	struct tu_chunk c[8192];
	unsigned int n;
};

static inline void tu_chunk_collect_cb(struct xp_mempool *mp, void *arg,
				       void *va, uint64_t phys, size_t len,
				       unsigned int idx)
{
	struct tu_chunk_list *l = (struct tu_chunk_list *)arg;

	(void)mp;
	assert_int_equal(idx, l->n);
	assert_true(l->n < sizeof(l->c) / sizeof(l->c[0]));
	l->c[l->n].va = (char *)va;
	l->c[l->n].phys = phys;
	l->c[l->n].len = len;
	l->n++;
}

/* The chunks of @p mp (at least one), in populate order; free() it. */
static inline struct tu_chunk_list *tu_chunks_of(struct xp_mempool *mp)
{
	struct tu_chunk_list *l =
		(struct tu_chunk_list *)calloc(1, sizeof(*l));
	unsigned int n;

	assert_non_null(l);
	n = xp_mempool_mem_iter(mp, tu_chunk_collect_cb, l);
	assert_int_equal(n, l->n);
	assert_true(l->n > 0);
	return l;
}

/* Index of the chunk holding [p, p + len), or -1. */
static inline int tu_chunk_holding(const struct tu_chunk_list *l,
				   const char *p, size_t len)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (p >= l->c[i].va && p + len <= l->c[i].va + l->c[i].len)
			return (int)i;
	return -1;
}

/* ---- packet buffers ---------------------------------------------------- */

static inline struct xp_pktmbuf_pool_private *
tu_mbuf_priv(struct xp_mempool *mp)
{
	return (struct xp_pktmbuf_pool_private *)xp_mempool_get_priv(mp);
}

/* Byte @p i of a packet made with seed @p seed. */
static inline uint8_t tu_pat(uint8_t seed, uint32_t i)
{
	return (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Append @p len bytes of pattern to @p m (continuing at its pkt_len). */
static inline void tu_fill(struct xp_mbuf *m, uint16_t len, uint8_t seed)
{
	uint32_t at = m->pkt_len, i;
	uint8_t *p = (uint8_t *)xp_pktmbuf_append(m, len);

	assert_non_null(p);
	for (i = 0; i < len; i++)
		p[i] = tu_pat(seed, at + i);
}

/*
 * Every mbuf of packet pool @p mp is back exactly once and the pool is
 * consistent; so is its rooms' pool, if split, whose rooms stay taken for
 * the life of the pool.
 */
static inline void tu_mbuf_pool_check(struct xp_mempool *mp)
{
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);

	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);
	if (p->split) {
		assert_non_null(p->room_pool);
		assert_int_equal(xp_mempool_audit(p->room_pool), 0);
		assert_int_equal(xp_mempool_in_use_count(p->room_pool),
				 p->room_pool->size);
	}
}

/*
 * The ops of "ring_mp_mc" under another name, for a test handler that wraps
 * some of its callbacks; *@p base receives the original ops to call.
 */
static inline struct xp_mempool_ops
tu_ring_ops(const char *name, const struct xp_mempool_ops **base)
{
	struct xp_mempool_ops ops;

	*base = xp_mempool_handler_lookup("ring_mp_mc");
	assert_non_null(*base);
	ops = **base;
	memset(ops.name, 0, sizeof(ops.name));
	strncpy(ops.name, name, sizeof(ops.name) - 1);
	return ops;
}

/* Register "tu_count". */
static inline void tu_count_register(void)
{
	struct xp_mempool_ops ops = tu_count_ops(TU_COUNT_HANDLER);

	tu_register(&ops);
}

/* Snapshot of the counters of a pool on "tu_count". */
static inline struct tu_count_stats tu_count_stats(struct xp_mempool *mp)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;
	struct tu_count_stats st;

	st.create = __atomic_load_n(&d->st.create, __ATOMIC_RELAXED);
	st.get_bulk = __atomic_load_n(&d->st.get_bulk, __ATOMIC_RELAXED);
	st.put_bulk = __atomic_load_n(&d->st.put_bulk, __ATOMIC_RELAXED);
	st.get_count = __atomic_load_n(&d->st.get_count, __ATOMIC_RELAXED);
	st.get_objs = __atomic_load_n(&d->st.get_objs, __ATOMIC_RELAXED);
	st.put_objs = __atomic_load_n(&d->st.put_objs, __ATOMIC_RELAXED);
	return st;
}

/* Objects held by the "tu_count" handler, without counting the call. */
static inline unsigned int tu_count_held(struct xp_mempool *mp)
{
	struct tu_count_data *d = (struct tu_count_data *)mp->pool_data;
	unsigned int len;

	pthread_mutex_lock(&d->lock);
	len = d->len;
	pthread_mutex_unlock(&d->lock);
	return len;
}

#endif /* XP_TESTS_TESTUTIL_H */
