/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Caches: the per-thread cache policy, thread-exit flush, thread slots,
 * user-owned caches, and every ring handler under concurrent get/put in the
 * patterns its contract allows, checking that no object is ever held by two
 * threads and that all objects come back exactly once.
 *
 * Worker threads never call cmocka asserts (their failure would longjmp into
 * another thread's stack): they count what they saw, and the main thread
 * asserts on the counts after pthread_join.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

#define S 16 /* cache size of the policy tests */

/* Every object is free and comes back exactly once; then free the pool. */
static void finish_pool(struct xp_mempool *mp)
{
	assert_int_equal(xp_mempool_audit(mp), 0);
	assert_int_equal(xp_mempool_avail_count(mp), mp->size);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static void *run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t th;
	void *ret;

	assert_int_equal(pthread_create(&th, NULL, fn, arg), 0);
	assert_int_equal(pthread_join(th, &ret), 0);
	return ret;
}

/* "t_putfail": tu_count whose put_bulk returns putfail_ret unless 0. */
static int putfail_ret;

static int putfail_put_bulk(struct xp_mempool *mp, void *const *objs,
			    unsigned int n)
{
	int ret = __atomic_load_n(&putfail_ret, __ATOMIC_RELAXED);

	if (ret != 0)
		return ret;
	return tu_count_put_bulk(mp, objs, n);
}

/*
 * "t_sp_count" (tu_count) and "t_sp_ring" (ring_mp_mc): handlers whose
 * put_bulk checks the single-producer promise of XP_MEMPOOL_F_SP_PUT.  A
 * thread says it may put by setting sp_may_put; a put from any other
 * thread, or two puts at once, is counted.
 */
static _Thread_local int sp_may_put;
static unsigned long sp_foreign, sp_overlap;
static unsigned int sp_inflight;
static const struct xp_mempool_ops *ring_ops;

static void sp_enter(void)
{
	if (!sp_may_put)
		__atomic_fetch_add(&sp_foreign, 1, __ATOMIC_RELAXED);
	if (__atomic_fetch_add(&sp_inflight, 1, __ATOMIC_ACQ_REL) != 0)
		__atomic_fetch_add(&sp_overlap, 1, __ATOMIC_RELAXED);
}

static void sp_leave(void)
{
	__atomic_fetch_sub(&sp_inflight, 1, __ATOMIC_ACQ_REL);
}

static int sp_count_put_bulk(struct xp_mempool *mp, void *const *objs,
			     unsigned int n)
{
	int ret;

	sp_enter();
	ret = tu_count_put_bulk(mp, objs, n);
	sp_leave();
	return ret;
}

static int sp_ring_put_bulk(struct xp_mempool *mp, void *const *objs,
			    unsigned int n)
{
	int ret;

	sp_enter();
	ret = ring_ops->put_bulk(mp, objs, n);
	sp_leave();
	return ret;
}

/* This thread may put; the counts start from zero. */
static void sp_reset(void)
{
	sp_may_put = 1;
	__atomic_store_n(&sp_foreign, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sp_overlap, 0, __ATOMIC_RELAXED);
}

static int group_setup(void **state)
{
	struct xp_mempool_ops ops = tu_count_ops("t_putfail");

	(void)state;
	ops.put_bulk = putfail_put_bulk;
	tu_register(&ops);
	tu_count_register();
	ops = tu_count_ops("t_sp_count");
	ops.put_bulk = sp_count_put_bulk;
	tu_register(&ops);
	ops = tu_ring_ops("t_sp_ring", &ring_ops);
	ops.put_bulk = sp_ring_put_bulk;
	tu_register(&ops);
	return 0;
}

/* ---- policy ---------------------------------------------------------- */

#define POL_N 40

/*
 * The policy script runs against this thread's cache (uc NULL: the
 * xp_mempool_get_bulk/put_bulk entry points) or a user-owned one.
 */
struct pol {
	struct xp_mempool *mp;
	struct xp_mempool_cache *uc;
	struct xp_mempool_cache *c; /* the cache under test */
	struct tu_count_stats st;   /* at the last pol_step() */
	/* Objects in hand: o[0..h).  One spare for a get that must fail. */
	void *o[POL_N + 1];
	unsigned int h;
};

static int pol_get(struct pol *p, void **objs, unsigned int n)
{
	if (p->uc != NULL)
		return xp_mempool_generic_get(p->mp, objs, n, p->uc);
	return xp_mempool_get_bulk(p->mp, objs, n);
}

static void pol_put(struct pol *p, void *const *objs, unsigned int n)
{
	if (p->uc != NULL)
		xp_mempool_generic_put(p->mp, objs, n, p->uc);
	else
		xp_mempool_put_bulk(p->mp, objs, n);
}

/* Handler activity since the last step: calls and objects each way. */
struct delta {
	unsigned long gets, got, puts, put;
};

static struct delta pol_step(struct pol *p)
{
	struct tu_count_stats now = tu_count_stats(p->mp);
	struct delta d = {
		.gets = now.get_bulk - p->st.get_bulk,
		.got = now.get_objs - p->st.get_objs,
		.puts = now.put_bulk - p->st.put_bulk,
		.put = now.put_objs - p->st.put_objs,
	};

	p->st = now;
	return d;
}

/*
 * Handler activity since the last step.  A miss may ask the handler more
 * than once (for S extra, then for what is missing), so calls are checked
 * as "none" or "some"; objects moved are exact.
 */
#define ASSERT_DELTA(p, calls_get, go, calls_put, po)                         \
	do {                                                                  \
		struct delta d_ = pol_step(p);                                \
		assert_int_equal(d_.gets != 0, (calls_get) != 0);             \
		assert_int_equal(d_.got, (go));                               \
		assert_int_equal(d_.puts != 0, (calls_put) != 0);             \
		assert_int_equal(d_.put, (po));                               \
	} while (0)

/* Free objects counted by avail_count: user caches are not included. */
static void pol_check_avail(struct pol *p)
{
	unsigned int want = tu_count_held(p->mp);

	if (p->uc == NULL)
		want += p->c->len;
	assert_int_equal(xp_mempool_avail_count(p->mp), want);
}

/* Get @n more objects into hand; the get's result. */
static int pol_take(struct pol *p, unsigned int n)
{
	int ret = pol_get(p, p->o + p->h, n);

	if (ret == 0)
		p->h += n;
	return ret;
}

/* Put back the last @n objects taken. */
static void pol_give(struct pol *p, unsigned int n)
{
	p->h -= n;
	pol_put(p, p->o + p->h, n);
}

/*
 * A fresh pool of POL_N objects on "tu_count", with this thread's cache of
 * size S (@user false) or a user-owned cache of size S.
 */
static void pol_begin(struct pol *p, int user)
{
	memset(p, 0, sizeof(*p));
	p->mp = tu_mk_pool(user ? "pol_user" : "pol_thread", POL_N, 64,
			   user ? 0 : S, 0, TU_COUNT_HANDLER);
	if (user) {
		p->uc = xp_mempool_cache_create(S);
		assert_non_null(p->uc);
		p->c = p->uc;
	} else {
		p->c = xp_mempool_default_cache(p->mp);
		assert_non_null(p->c);
		/* The same cache each time, the one the fast path uses. */
		assert_ptr_equal(xp_mempool_default_cache(p->mp), p->c);
		assert_ptr_equal(p->mp->cache[xp__thread_slot], p->c);
	}
	assert_int_equal(p->c->size, S);
	assert_int_equal(p->c->flushthresh, S * 3 / 2);
	assert_int_equal(p->c->capacity, 2 * S);
	assert_int_equal(p->c->len, 0);
	p->st = tu_count_stats(p->mp);
}

/* Give back the objects in hand, then check the pool and free it. */
static void pol_end(struct pol *p)
{
	while (p->h > 0)
		pol_give(p, p->h < S ? p->h : S);
	if (p->uc != NULL) {
		assert_int_equal(xp_mempool_cache_flush(p->uc, p->mp), 0);
		assert_int_equal(p->uc->len, 0);
		assert_int_equal(tu_count_held(p->mp), POL_N);
		xp_mempool_cache_free(p->uc);
	}
	finish_pool(p->mp);
}

/* Gets: refill to S on a miss, less when the handler runs short. */
static void policy_gets(int user)
{
	struct pol p;
	struct delta d;

	pol_begin(&p, user);
	/* A miss takes what is needed plus S: S remain. */
	assert_int_equal(pol_take(&p, 1), 0);
	ASSERT_DELTA(&p, 1, 1 + S, 0, 0);
	assert_int_equal(p.c->len, S);
	pol_check_avail(&p);

	/* A hit does not reach the handler. */
	assert_int_equal(pol_take(&p, S), 0);
	ASSERT_DELTA(&p, 0, 0, 0, 0);
	assert_int_equal(p.c->len, 0);

	/* The handler holds 23: it cannot give 10 + S, so exactly 10. */
	assert_int_equal(tu_count_held(p.mp), 23);
	assert_int_equal(pol_take(&p, 10), 0);
	ASSERT_DELTA(&p, 1, 10, 0, 0);
	assert_int_equal(p.c->len, 0);
	assert_int_equal(pol_take(&p, 5), 0);
	ASSERT_DELTA(&p, 1, 5, 0, 0);
	assert_int_equal(p.c->len, 0);
	assert_int_equal(tu_count_held(p.mp), 8);

	/* Two in the cache, eight in the handler: 11 is too many. */
	pol_give(&p, 2);
	ASSERT_DELTA(&p, 0, 0, 0, 0);
	assert_int_equal(p.c->len, 2);
	assert_int_equal(pol_take(&p, 11), -ENOENT);
	assert_int_equal(p.c->len, 2);
	assert_int_equal(tu_count_held(p.mp), 8);
	/* The handler may have been asked, and refused. */
	d = pol_step(&p);
	assert_int_equal(d.got, 0);
	assert_int_equal(d.puts, 0);
	pol_check_avail(&p);

	/* Exactly what is missing. */
	assert_int_equal(pol_take(&p, 10), 0);
	ASSERT_DELTA(&p, 1, 8, 0, 0);
	assert_int_equal(p.c->len, 0);
	assert_int_equal(p.h, POL_N);
	assert_int_equal(xp_mempool_avail_count(p.mp), 0);
	assert_int_equal(pol_take(&p, 1), -ENOENT);
	pol_end(&p);
}

/* Puts: kept up to 1.5 S, then flushed down so that S remain. */
static void policy_puts(int user)
{
	struct pol p;

	pol_begin(&p, user);
	/* More than S goes to the handler (the cache is empty). */
	assert_int_equal(pol_take(&p, POL_N), 0);
	ASSERT_DELTA(&p, 1, POL_N, 0, 0);
	assert_int_equal(p.c->len, 0);

	pol_give(&p, S);
	pol_give(&p, S / 2);
	ASSERT_DELTA(&p, 0, 0, 0, 0);
	assert_int_equal(p.c->len, S * 3 / 2);
	pol_check_avail(&p);

	/* One more flushes it down so that S remain after the put. */
	pol_give(&p, 1);
	ASSERT_DELTA(&p, 0, 0, 1, S / 2 + 1);
	assert_int_equal(p.c->len, S);
	pol_give(&p, S - 1);
	ASSERT_DELTA(&p, 0, 0, 1, S - 1);
	assert_int_equal(p.c->len, S);
	assert_int_equal(p.h, 0);
	assert_int_equal(tu_count_held(p.mp), POL_N - S);
	pol_check_avail(&p);
	pol_end(&p);
}

/* Bulks of more than S go to the handler. */
static void policy_big(int user)
{
	struct pol p;
	struct delta d;

	pol_begin(&p, user);
	assert_int_equal(pol_take(&p, POL_N), 0);
	pol_give(&p, 8);
	ASSERT_DELTA(&p, 1, POL_N, 0, 0);
	assert_int_equal(p.c->len, 8);

	/* Would not fit below the threshold: straight to the handler. */
	pol_give(&p, S + 1);
	ASSERT_DELTA(&p, 0, 0, 1, S + 1);
	assert_int_equal(p.c->len, 8);
	pol_check_avail(&p);

	/* The handler serves it; the cache may only help. */
	assert_int_equal(pol_take(&p, S + 1), 0);
	d = pol_step(&p);
	assert_true(d.gets > 0);
	assert_true(p.c->len <= 8);
	assert_int_equal(d.got + (8 - p.c->len), S + 1);
	pol_check_avail(&p);
	pol_end(&p);
}

/*
 * Bulks of more than S: the cache takes or serves them when it can (the
 * inline fast path does not look at S); otherwise they go to the handler
 * directly and leave the cache as it was.
 */
static void policy_big_direct(int user)
{
	struct pol p;

	pol_begin(&p, user);
	assert_int_equal(pol_take(&p, POL_N), 0);
	ASSERT_DELTA(&p, 1, POL_N, 0, 0);

	/* S + 1 fits below 1.5 S in the empty cache: cached. */
	pol_give(&p, S + 1);
	ASSERT_DELTA(&p, 0, 0, 0, 0);
	assert_int_equal(p.c->len, S + 1);

	/* Another S + 1 does not fit: to the handler, cache unchanged. */
	pol_give(&p, S + 1);
	ASSERT_DELTA(&p, 0, 0, 1, S + 1);
	assert_int_equal(p.c->len, S + 1);

	/* The cache holds S + 1: it serves a get of S + 1. */
	assert_int_equal(pol_take(&p, S + 1), 0);
	ASSERT_DELTA(&p, 0, 0, 0, 0);
	assert_int_equal(p.c->len, 0);

	/* Now it cannot: straight from the handler, no refill. */
	assert_int_equal(pol_take(&p, S + 1), 0);
	ASSERT_DELTA(&p, 1, S + 1, 0, 0);
	assert_int_equal(p.c->len, 0);
	assert_int_equal(p.h, POL_N);
	pol_end(&p);
}

static void test_policy_thread_cache(void **state)
{
	(void)state;
	policy_gets(0);
	policy_puts(0);
	policy_big(0);
}

static void test_policy_user_cache(void **state)
{
	(void)state;
	policy_gets(1);
	policy_puts(1);
	policy_big(1);
}

static void test_policy_big_direct(void **state)
{
	(void)state;
	policy_big_direct(0);
	policy_big_direct(1);
}

/* ---- threads without registration, exit flush, slots ----------------- */

struct fresh_arg {
	struct xp_mempool *mp;
	struct xp_mempool_cache *main_cache;
	unsigned int take;
	int get_rc;
	int cache_ok;
	uint32_t len_at_exit;
	void **objs; /* with take == mp->size: what was got, kept */
};

/* Take and give back objects through this thread's cache, then exit. */
static void *fresh_thread(void *arg)
{
	struct fresh_arg *a = arg;
	struct xp_mempool_cache *c;
	void *o[S];
	unsigned int i, b;

	a->get_rc = 0;
	for (i = 0; i < a->take; i += b) {
		b = a->take - i < S ? a->take - i : S;
		a->get_rc |= xp_mempool_get_bulk(a->mp, o, b);
		if (a->get_rc == 0)
			xp_mempool_put_bulk(a->mp, o, b);
	}
	c = xp_mempool_default_cache(a->mp);
	a->cache_ok = c != NULL && c != a->main_cache &&
		      a->mp->cache[xp__thread_slot] == c &&
		      xp__thread_slot != 0;
	a->len_at_exit = c != NULL ? c->len : 0;
	return NULL;
}

static void *take_all_thread(void *arg)
{
	struct fresh_arg *a = arg;

	a->get_rc = xp_mempool_get_bulk(a->mp, a->objs, a->mp->size);
	return NULL;
}

static void test_thread_exit_flush(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("exitflush", 256, 64, S, 0,
					   TU_COUNT_HANDLER);
	struct fresh_arg a = { .mp = mp, .take = 100 };
	void *objs[256];

	(void)state;
	a.main_cache = xp_mempool_default_cache(mp);
	assert_non_null(a.main_cache);
	assert_int_equal(a.main_cache->len, 0);
	run_thread(fresh_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(a.cache_ok, 1);
	assert_true(a.len_at_exit >= S);
	/* Back in the handler, not only counted. */
	assert_int_equal(tu_count_held(mp), 256);
	assert_int_equal(xp_mempool_get_ops(mp)->get_count(mp), 256);
	assert_int_equal(xp_mempool_avail_count(mp), 256);
	assert_int_equal(a.main_cache->len, 0);

	/* Another thread can take them all. */
	a.objs = objs;
	run_thread(take_all_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	xp_mempool_put_bulk(mp, objs, 256);
	finish_pool(mp);
}

/*
 * A thread with a cache for a pool that is freed, then used a new pool
 * (maybe at the same address), then exits: its exit must neither touch the
 * freed pool nor lose the new pool's objects.
 */
struct outlive {
	struct xp_mempool *mp;
	sem_t go, done;
	int rc;
};

static void *outlive_thread(void *arg)
{
	struct outlive *o = arg;
	void *objs[S];
	int round;

	for (round = 0; round < 2; round++) {
		while (sem_wait(&o->go) != 0)
			;
		o->rc |= xp_mempool_get_bulk(o->mp, objs, S);
		if (o->rc == 0)
			xp_mempool_put_bulk(o->mp, objs, S);
		if (xp_mempool_default_cache(o->mp) == NULL ||
		    xp_mempool_default_cache(o->mp)->len == 0)
			o->rc |= 1;
		sem_post(&o->done);
	}
	/* Exit when told, with objects of the second pool cached. */
	while (sem_wait(&o->go) != 0)
		;
	return NULL;
}

static void test_pool_freed_before_thread_exit(void **state)
{
	struct outlive o = { 0 };
	pthread_t th;

	(void)state;
	assert_int_equal(sem_init(&o.go, 0, 0), 0);
	assert_int_equal(sem_init(&o.done, 0, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, outlive_thread, &o), 0);
	o.mp = tu_mk_pool("outlive1", 100, 64, S, 0, TU_COUNT_HANDLER);
	sem_post(&o.go);
	while (sem_wait(&o.done) != 0)
		;
	assert_int_equal(o.rc, 0);
	/* Objects sit in the thread's cache; the pool goes anyway. */
	assert_true(tu_count_held(o.mp) < 100);
	xp_mempool_free(o.mp);
	o.mp = tu_mk_pool("outlive2", 100, 64, S, 0, TU_COUNT_HANDLER);
	sem_post(&o.go);
	while (sem_wait(&o.done) != 0)
		;
	assert_int_equal(o.rc, 0);
	assert_true(tu_count_held(o.mp) < 100);
	sem_post(&o.go);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(tu_count_held(o.mp), 100);
	sem_destroy(&o.go);
	sem_destroy(&o.done);
	finish_pool(o.mp);
}

/* Many threads in turn: slots are reused, every exit flushes. */
static void test_thread_churn(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("churn", 200, 64, S, 0, NULL);
	struct fresh_arg a = { .mp = mp, .take = 3 * S };
	unsigned int i, rounds = XP_MEMPOOL_MAX_THREADS + 100;

	(void)state;
	for (i = 0; i < rounds; i++) {
		run_thread(fresh_thread, &a);
		assert_int_equal(a.get_rc, 0);
		assert_int_equal(a.cache_ok, 1);
		assert_int_equal(xp_mempool_avail_count(mp), 200);
	}
	finish_pool(mp);
}

/* ---- single producer: an exiting thread does not put ---------------- */

#define ORPH_N 64
#define ORPH_TAKE 5

struct getter_arg {
	struct xp_mempool *mp;
	void *got[ORPH_TAKE];
	void *cached[2 * S]; /* the cache's contents at exit */
	uint32_t len_at_exit;
	int get_rc;
};

/* One get, refilling this thread's cache; exit without a put. */
static void *get_only_thread(void *arg)
{
	struct getter_arg *a = arg;
	struct xp_mempool_cache *c;

	a->get_rc = xp_mempool_get_bulk(a->mp, a->got, ORPH_TAKE);
	c = xp_mempool_default_cache(a->mp);
	a->len_at_exit = c != NULL ? c->len : 0;
	if (c != NULL && c->len <= 2 * S)
		memcpy(a->cached, xp__cache_slots(c), c->len * sizeof(void *));
	return NULL;
}

/*
 * With XP_MEMPOOL_F_SP_PUT the exited thread's cache is set aside: counted
 * as available, not in the handler, and the next gets take it first.
 */
static void test_sp_put_exit_orphans(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("orphans", ORPH_N, 64, S,
					   XP_MEMPOOL_F_SP_PUT, "t_sp_count");
	struct getter_arg a = { .mp = mp };
	struct tu_count_stats st0, st;
	void *all[ORPH_N + 1];
	struct tu_objset set;
	unsigned int rest;

	(void)state;
	sp_reset();
	tu_objset_init(&set, mp);
	st0 = tu_count_stats(mp);
	run_thread(get_only_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(a.len_at_exit, S);
	st = tu_count_stats(mp);
	/* No put at all, so none from the exiting thread. */
	assert_int_equal(st.put_bulk, st0.put_bulk);
	assert_int_equal(sp_foreign, 0);
	rest = ORPH_N - ORPH_TAKE - S;
	assert_int_equal(tu_count_held(mp), rest);
	assert_int_equal(xp_mempool_get_ops(mp)->get_count(mp), rest);
	assert_int_equal(xp_mempool_avail_count(mp), ORPH_N - ORPH_TAKE);
	assert_int_equal(xp_mempool_in_use_count(mp), ORPH_TAKE);
	assert_int_equal(xp_mempool_audit(mp), 0);

	/* One more than is free: refused, nothing taken. */
	assert_int_equal(xp_mempool_generic_get(mp, all,
						ORPH_N - ORPH_TAKE + 1, NULL),
			 -ENOENT);
	assert_int_equal(xp_mempool_avail_count(mp), ORPH_N - ORPH_TAKE);
	assert_int_equal(tu_count_held(mp), rest);

	/* The set-aside objects come first, without asking the handler. */
	st0 = tu_count_stats(mp);
	assert_int_equal(xp_mempool_generic_get(mp, all, S, NULL), 0);
	st = tu_count_stats(mp);
	assert_int_equal(st.get_objs, st0.get_objs);
	qsort(all, S, sizeof(void *), tu_ptr_cmp);
	qsort(a.cached, S, sizeof(void *), tu_ptr_cmp);
	assert_memory_equal(all, a.cached, S * sizeof(void *));
	assert_int_equal(xp_mempool_avail_count(mp), rest);

	/* The rest from the handler: each object of the pool exactly once. */
	assert_int_equal(xp_mempool_get_bulk(mp, all + S, rest), 0);
	memcpy(all + S + rest, a.got, sizeof(a.got));
	tu_objset_check_all(&set, all, ORPH_N);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	xp_mempool_put_bulk(mp, all, ORPH_N);
	assert_int_equal(sp_foreign, 0);
	tu_objset_fini(&set);
	finish_pool(mp);
}

/*
 * The same with the ring handler: the NULL-cache get, which would otherwise
 * go to the ring inline, still finds the set-aside objects, and one get of
 * everything free takes each object of the pool exactly once.
 */
static void test_sp_put_exit_orphans_ring(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("orphring", ORPH_N, 64, S,
					   XP_MEMPOOL_F_SP_PUT, "t_sp_ring");
	struct getter_arg a = { .mp = mp };
	void *all[ORPH_N + 1];
	struct tu_objset set;
	unsigned int avail = ORPH_N - ORPH_TAKE;

	(void)state;
	sp_reset();
	tu_objset_init(&set, mp);
	run_thread(get_only_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(a.len_at_exit, S);
	assert_int_equal(sp_foreign, 0);
	assert_int_equal(xp_mempool_avail_count(mp), avail);
	assert_int_equal(xp_mempool_generic_get(mp, all, avail + 1, NULL),
			 -ENOENT);
	assert_int_equal(xp_mempool_generic_get(mp, all, avail, NULL), 0);
	memcpy(all + avail, a.got, sizeof(a.got));
	tu_objset_check_all(&set, all, ORPH_N);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	xp_mempool_generic_put(mp, all, ORPH_N, NULL);
	assert_int_equal(sp_foreign, 0);
	tu_objset_fini(&set);
	finish_pool(mp);
}

/* Without the flag, the exiting thread itself puts its cache back. */
static void test_exit_flush_puts(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("exitput", ORPH_N, 64, S, 0,
					   "t_sp_count");
	struct getter_arg a = { .mp = mp };
	struct tu_count_stats st0, st;

	(void)state;
	sp_reset();
	st0 = tu_count_stats(mp);
	run_thread(get_only_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(a.len_at_exit, S);
	st = tu_count_stats(mp);
	assert_int_equal(st.put_objs - st0.put_objs, S);
	assert_int_equal(sp_foreign, 1);
	assert_int_equal(tu_count_held(mp), ORPH_N - ORPH_TAKE);
	assert_int_equal(xp_mempool_avail_count(mp), ORPH_N - ORPH_TAKE);
	xp_mempool_put_bulk(mp, a.got, ORPH_TAKE);
	finish_pool(mp);
}

/*
 * Stress: one putter getting and putting, while short-lived getters take
 * objects, hand them to the putter, and exit with their caches full.
 */
#define SPX_N 1000
#define SPX_CACHE 32
#define SPX_GETTERS 4
#define SPX_BULK 8

struct spx {
	struct xp_mempool *mp;
	pthread_mutex_t lock;
	void *stash[SPX_N]; /* got by getters, for the putter to put */
	unsigned int nstash;
	int stop;
	unsigned long putter_gets, getter_gets, exits_cached;
};

static void *spx_getter(void *arg)
{
	struct spx *x = arg;
	void *objs[SPX_BULK];
	unsigned int i, b;
	struct xp_mempool_cache *c;

	for (i = 0; i < 3; i++) {
		b = 1 + 3 * i;
		if (xp_mempool_get_bulk(x->mp, objs, b) != 0)
			continue;
		__atomic_fetch_add(&x->getter_gets, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&x->lock);
		memcpy(&x->stash[x->nstash], objs, b * sizeof(void *));
		x->nstash += b;
		pthread_mutex_unlock(&x->lock);
	}
	c = xp_mempool_default_cache(x->mp);
	if (c != NULL && c->len > 0)
		__atomic_fetch_add(&x->exits_cached, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* Put whatever the getters left; @return the objects put. */
static unsigned int spx_drain(struct spx *x)
{
	void *objs[SPX_N];
	unsigned int n;

	pthread_mutex_lock(&x->lock);
	n = x->nstash;
	memcpy(objs, x->stash, n * sizeof(void *));
	x->nstash = 0;
	pthread_mutex_unlock(&x->lock);
	xp_mempool_put_bulk(x->mp, objs, n);
	return n;
}

static void *spx_putter(void *arg)
{
	struct spx *x = arg;
	void *objs[SPX_BULK];
	unsigned int b = 1;

	sp_may_put = 1;
	while (!__atomic_load_n(&x->stop, __ATOMIC_ACQUIRE)) {
		spx_drain(x);
		b = b % SPX_BULK + 1;
		if (xp_mempool_get_bulk(x->mp, objs, b) == 0) {
			x->putter_gets++;
			xp_mempool_put_bulk(x->mp, objs, b);
		}
	}
	spx_drain(x);
	return NULL;
}

static void run_sp_exit_stress(const char *handler)
{
	struct spx *x = calloc(1, sizeof(*x));
	pthread_t putter, g[SPX_GETTERS];
	unsigned long rounds = tu_scaled(250, 20), r;
	void **all = calloc(SPX_N, sizeof(*all));
	struct tu_objset set;
	unsigned int i;

	assert_non_null(x);
	assert_non_null(all);
	sp_reset();
	x->mp = tu_mk_pool("spexit", SPX_N, 64, SPX_CACHE, XP_MEMPOOL_F_SP_PUT,
			   handler);
	pthread_mutex_init(&x->lock, NULL);
	tu_objset_init(&set, x->mp);
	/* The main thread does not touch the pool while the putter runs. */
	assert_int_equal(pthread_create(&putter, NULL, spx_putter, x), 0);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < SPX_GETTERS; i++)
			assert_int_equal(pthread_create(&g[i], NULL,
							spx_getter, x),
					 0);
		for (i = 0; i < SPX_GETTERS; i++)
			assert_int_equal(pthread_join(g[i], NULL), 0);
	}
	__atomic_store_n(&x->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(putter, NULL), 0);
	assert_int_equal(x->nstash, 0);
	assert_true(x->putter_gets > 0);
	assert_true(x->getter_gets > 0);
	assert_true(x->exits_cached > 0);
	assert_int_equal(sp_foreign, 0);
	assert_int_equal(sp_overlap, 0);

	/* Every object back exactly once, whether orphaned or in the ring. */
	assert_int_equal(xp_mempool_audit(x->mp), 0);
	assert_int_equal(xp_mempool_avail_count(x->mp), SPX_N);
	assert_int_equal(xp_mempool_get_bulk(x->mp, all, SPX_N), 0);
	tu_objset_check_all(&set, all, SPX_N);
	xp_mempool_put_bulk(x->mp, all, SPX_N);
	assert_int_equal(sp_foreign, 0);
	tu_objset_fini(&set);
	pthread_mutex_destroy(&x->lock);
	finish_pool(x->mp);
	free(all);
	free(x);
}

static void test_sp_put_exit_stress(void **state)
{
	(void)state;
	/* ring_mp_mc with its ring made single-producer by the flag. */
	run_sp_exit_stress("t_sp_ring");
	run_sp_exit_stress("ring_mp_mc");
}

/*
 * More threads alive than there are slots: the extra ones work uncached,
 * and a slot freed by an exit serves a new thread.
 */
#define CROWD (XP_MEMPOOL_MAX_THREADS + 16)

struct crowd {
	struct xp_mempool *mp;
	pthread_barrier_t bar;
	unsigned int cached;
	unsigned int failed;
};

static void *crowd_thread(void *arg)
{
	struct crowd *cr = arg;
	void *obj;

	if (xp_mempool_get(cr->mp, &obj) != 0) {
		__atomic_fetch_add(&cr->failed, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&cr->bar);
		return NULL;
	}
	if (xp_mempool_default_cache(cr->mp) != NULL)
		__atomic_fetch_add(&cr->cached, 1, __ATOMIC_RELAXED);
	/* Everyone holds a slot (or not) at the same time. */
	pthread_barrier_wait(&cr->bar);
	xp_mempool_put(cr->mp, obj);
	return NULL;
}

static void test_thread_slots(void **state)
{
	struct crowd cr = { 0 };
	pthread_attr_t attr;
	pthread_t *th = calloc(CROWD, sizeof(*th));
	struct fresh_arg a;
	unsigned int i, slots;

	(void)state;
	assert_non_null(th);
	cr.mp = tu_mk_pool("crowd", CROWD * (S + 1), 64, S, 0, NULL);
	/* Slots other threads may take: all but slot 0 and ours, if any. */
	slots = XP_MEMPOOL_MAX_THREADS - 1 - (xp__thread_slot != 0);
	assert_int_equal(pthread_barrier_init(&cr.bar, NULL, CROWD), 0);
	assert_int_equal(pthread_attr_init(&attr), 0);
	assert_int_equal(pthread_attr_setstacksize(&attr, 256 * 1024), 0);
	for (i = 0; i < CROWD; i++)
		assert_int_equal(pthread_create(&th[i], &attr, crowd_thread,
						&cr),
				 0);
	for (i = 0; i < CROWD; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_attr_destroy(&attr);
	pthread_barrier_destroy(&cr.bar);
	assert_int_equal(cr.failed, 0);
	assert_int_equal(cr.cached, slots);
	assert_int_equal(xp_mempool_avail_count(cr.mp), cr.mp->size);

	/* The slots are free again. */
	memset(&a, 0, sizeof(a));
	a.mp = cr.mp;
	a.take = 2;
	run_thread(fresh_thread, &a);
	assert_int_equal(a.get_rc, 0);
	assert_int_equal(a.cache_ok, 1);
	finish_pool(cr.mp);
	free(th);
}

/* ---- user-owned caches ----------------------------------------------- */

static void test_user_cache_create(void **state)
{
	static const unsigned int ok[] = { 1, 2, 31, 256,
					   XP_MEMPOOL_CACHE_MAX_SIZE };
	unsigned int i;

	(void)state;
	TU_ASSERT_NULL_ERRNO(xp_mempool_cache_create(0), EINVAL);
	TU_ASSERT_NULL_ERRNO(
		xp_mempool_cache_create(XP_MEMPOOL_CACHE_MAX_SIZE + 1),
		EINVAL);
	TU_ASSERT_NULL_ERRNO(xp_mempool_cache_create(UINT32_MAX), EINVAL);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct xp_mempool_cache *c = xp_mempool_cache_create(ok[i]);

		assert_non_null(c);
		assert_int_equal(c->size, ok[i]);
		assert_int_equal(c->len, 0);
		assert_int_equal(c->capacity, 2 * ok[i]);
		assert_true(c->flushthresh >= ok[i] &&
			    c->flushthresh <= c->capacity);
		if (ok[i] % 2 == 0)
			assert_int_equal(c->flushthresh, ok[i] * 3 / 2);
		/* All the storage is usable. */
		memset(xp__cache_slots(c), 0x5a, c->capacity * sizeof(void *));
		xp_mempool_cache_free(c);
	}
	xp_mempool_cache_free(NULL);
}

/*
 * The copies under the cache hit paths: a get of n right after a put of n
 * into an empty cache returns those n pointers in order, and writes nothing
 * beyond them.  Variable n takes the copy's loops; the constants below take
 * its unrolled forms (the compiler sees them through the inline calls).
 * The caller's arrays start at an offset of @p off pointers from 16-byte
 * alignment, and the cache's window at @p pre: the copy's cost must not
 * depend on them (doc/performance.md, "Burst shapes"), its result neither.
 * test_objs_copy below covers the copy alone over every count and offset.
 */
#define COPY_N 70

static void copy_round(struct xp_mempool *mp, struct xp_mempool_cache *c,
		       unsigned int n, unsigned int off, unsigned int pre)
{
	_Alignas(16) void *abuf[COPY_N + 4], *bbuf[COPY_N + 4];
	void **a = abuf + off, **b = bbuf + off, *first = NULL;
	unsigned int i;

	assert_int_equal(xp_mempool_cache_flush(c, mp), 0);
	/* pre objects first, so that the window starts at slot pre. */
	if (pre > 0) {
		assert_int_equal(xp_mempool_generic_get(mp, &first, 1, NULL),
				 0);
		xp_mempool_generic_put(mp, &first, 1, c);
	}
	for (i = pre; i < c->capacity; i++)
		xp__cache_slots(c)[i] = (void *)(uintptr_t)(0xc0 + i);
	assert_int_equal(xp_mempool_generic_get(mp, a, n, NULL), 0);
	for (i = 0; i < COPY_N + 2; i++)
		b[i] = (void *)(uintptr_t)(0xb0 + i);
	xp_mempool_generic_put(mp, a, n, c);
	assert_int_equal(c->len, pre + n);
	/* Nothing written beyond the put's slots. */
	for (i = pre + n; i < c->capacity; i++)
		assert_ptr_equal(xp__cache_slots(c)[i],
				 (void *)(uintptr_t)(0xc0 + i));
	assert_int_equal(xp_mempool_generic_get(mp, b, n, c), 0);
	assert_int_equal(c->len, pre);
	for (i = 0; i < n; i++)
		assert_ptr_equal(b[i], a[i]);
	for (; i < COPY_N + 2; i++)
		assert_ptr_equal(b[i], (void *)(uintptr_t)(0xb0 + i));
	xp_mempool_generic_put(mp, b, n, NULL);
	if (pre > 0)
		assert_ptr_equal(xp__cache_slots(c)[0], first);
}

#define COPY_ROUND_CONST(mp, c, n, off)                                       \
	do {                                                                  \
		_Alignas(16) void *abuf_[n + 2], *bbuf_[n + 3];               \
		void **a_ = abuf_ + (off), **b_ = bbuf_ + (off);              \
		unsigned int i_;                                              \
                                                                              \
		assert_int_equal(xp_mempool_cache_flush(c, mp), 0);           \
		assert_int_equal(xp_mempool_generic_get(mp, a_, n, NULL), 0); \
		b_[n] = &b_[0];                                               \
		xp_mempool_generic_put(mp, a_, n, c);                         \
		assert_int_equal(xp_mempool_generic_get(mp, b_, n, c), 0);    \
		for (i_ = 0; i_ < n; i_++)                                    \
			assert_ptr_equal(b_[i_], a_[i_]);                     \
		assert_ptr_equal(b_[n], &b_[0]);                              \
		xp_mempool_generic_put(mp, b_, n, NULL);                      \
	} while (0)

#define COPY_ROUNDS_CONST(mp, c, off)                                         \
	do {                                                                  \
		COPY_ROUND_CONST(mp, c, 1, off);                              \
		COPY_ROUND_CONST(mp, c, 2, off);                              \
		COPY_ROUND_CONST(mp, c, 3, off);                              \
		COPY_ROUND_CONST(mp, c, 4, off);                              \
		COPY_ROUND_CONST(mp, c, 7, off);                              \
		COPY_ROUND_CONST(mp, c, 8, off);                              \
		COPY_ROUND_CONST(mp, c, 9, off);                              \
		COPY_ROUND_CONST(mp, c, 31, off);                             \
		COPY_ROUND_CONST(mp, c, 32, off);                             \
		COPY_ROUND_CONST(mp, c, 33, off);                             \
		COPY_ROUND_CONST(mp, c, 64, off);                             \
		COPY_ROUND_CONST(mp, c, 65, off);                             \
	} while (0)

static void test_cache_copy_sizes(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("copysz", 4 * COPY_N, 64, 0, 0,
					   "ring_mp_mc");
	struct xp_mempool_cache *c = xp_mempool_cache_create(COPY_N);
	volatile unsigned int vn;
	unsigned int n, off;

	(void)state;
	assert_non_null(c);
	/* The storage is 16-byte aligned (a line after the header). */
	assert_int_equal((uintptr_t)xp__cache_slots(c) % 16, 0);
	/* Caller's arrays and the cache's window each at 0 or 8 modulo 16. */
	for (off = 0; off < 4; off++)
		for (n = 1; n <= COPY_N - 1; n++) {
			vn = n; /* not a constant to the compiler */
			copy_round(mp, c, vn, off & 1, off >> 1);
		}
	COPY_ROUNDS_CONST(mp, c, 0);
	COPY_ROUNDS_CONST(mp, c, 1);
	assert_int_equal(xp_mempool_cache_flush(c, mp), 0);
	xp_mempool_cache_free(c);
	finish_pool(mp);
}

/*
 * xp__objs_copy itself, the copy under the caches and the ring: every count
 * from 0 to twice the capacity of the largest cache, the source and the
 * destination each at every pointer offset within a cache line (so at both
 * alignments modulo 16 and every place of a 64-byte block), the count at
 * run time; then constant counts at every offset.  Copies exactly n
 * pointers in order, leaves the source alone, writes nothing before or
 * after the destination's n slots.
 */
#define CP_MAX (2 * 2 * XP_MEMPOOL_CACHE_MAX_SIZE)
#define CP_PAD 16
#define CP_CANARY ((void *)(uintptr_t)0xdeadbeefcafef00dull)

static _Alignas(64) void *cp_src[CP_PAD + CP_MAX + 8 + CP_PAD];
static _Alignas(64) void *cp_dst[CP_PAD + CP_MAX + 8 + CP_PAD];

static void *cp_val(unsigned int i)
{
	return (void *)(uintptr_t)(0x5000000000ull + 8u * i);
}

static void cp_prepare(void)
{
	unsigned int i;

	for (i = 0; i < sizeof(cp_src) / sizeof(cp_src[0]); i++) {
		cp_src[i] = cp_val(i);
		cp_dst[i] = CP_CANARY;
	}
}

/* Check, then put the canaries back where the copy wrote. */
static void cp_check(unsigned int so, unsigned int d0, unsigned int n)
{
	unsigned int i;

	for (i = d0 - CP_PAD; i < d0 + n + CP_PAD; i++) {
		if (i >= d0 && i < d0 + n) {
			if (cp_dst[i] != cp_val(so + i - d0))
				fail_msg("n %u: slot %u of the copy is %p", n,
					 i - d0, cp_dst[i]);
			cp_dst[i] = CP_CANARY;
		} else if (cp_dst[i] != CP_CANARY) {
			fail_msg("n %u: wrote %d slots from the copy's start",
				 n, (int)i - (int)d0);
		}
	}
	for (i = so - CP_PAD; i < so + n + CP_PAD; i++)
		if (cp_src[i] != cp_val(i))
			fail_msg("n %u: the source changed at %u", n, i);
}

#define CP_CONST(n, so, d0)                                                   \
	do {                                                                  \
		xp__objs_copy(&cp_dst[d0], &cp_src[so], n);                   \
		cp_check(so, d0, n);                                          \
	} while (0)

static void test_objs_copy(void **state)
{
	volatile unsigned int vn;
	unsigned int n, s, d;

	(void)state;
	cp_prepare();
	for (s = 0; s < 8; s++)
		for (d = 0; d < 8; d++)
			for (n = 0; n <= CP_MAX; n++) {
				vn = n; /* not a constant to the compiler */
				xp__objs_copy(&cp_dst[CP_PAD + d],
					      &cp_src[CP_PAD + s], vn);
				cp_check(CP_PAD + s, CP_PAD + d, n);
			}
	for (s = CP_PAD; s < CP_PAD + 8; s++)
		for (d = CP_PAD; d < CP_PAD + 8; d++) {
			CP_CONST(0, s, d);
			CP_CONST(1, s, d);
			CP_CONST(2, s, d);
			CP_CONST(3, s, d);
			CP_CONST(5, s, d);
			CP_CONST(8, s, d);
			CP_CONST(13, s, d);
			CP_CONST(31, s, d);
			CP_CONST(32, s, d);
			CP_CONST(33, s, d);
			CP_CONST(64, s, d);
			CP_CONST(65, s, d);
		}
}

/* A NULL cache goes straight to the handler, whatever the pool's cache. */
static void test_generic_null_cache(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("nullcache", 64, 64, S, 0,
					   TU_COUNT_HANDLER);
	struct pol p = { .mp = mp };
	void *o[40], *more[25];
	unsigned int i;

	(void)state;
	p.st = tu_count_stats(mp);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(xp_mempool_generic_get(mp, o, i, NULL), 0);
		ASSERT_DELTA(&p, 1, i, 0, 0);
		xp_mempool_generic_put(mp, o, i, NULL);
		ASSERT_DELTA(&p, 0, 0, 1, i);
	}
	assert_int_equal(xp_mempool_generic_get(mp, o, 40, NULL), 0);
	assert_int_equal(xp_mempool_generic_get(mp, more, 25, NULL),
			 -ENOENT);
	assert_int_equal(tu_count_held(mp), 24);
	xp_mempool_generic_put(mp, o, 40, NULL);
	assert_int_equal(tu_count_held(mp), 64);
	finish_pool(mp);
}

static void test_user_cache_flush(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("uflush", 100, 64, 0, 0,
					   "t_putfail");
	struct xp_mempool_cache *c = xp_mempool_cache_create(S);
	void *o[30];
	unsigned int len;

	(void)state;
	assert_non_null(c);
	assert_int_equal(xp_mempool_generic_get(mp, o, 30, c), 0);
	xp_mempool_generic_put(mp, o, 10, c);
	len = c->len;
	assert_true(len > 0);
	/* Objects in a user cache are not counted as available. */
	assert_int_equal(xp_mempool_avail_count(mp), tu_count_held(mp));
	assert_int_equal(tu_count_held(mp) + len + 20, 100);

	assert_int_equal(xp_mempool_cache_flush(NULL, mp), -EINVAL);
	assert_int_equal(xp_mempool_cache_flush(c, NULL), -EINVAL);
	assert_int_equal(c->len, len);
	assert_int_equal(tu_count_held(mp) + len + 20, 100);

	/* A handler error: the cache keeps its objects. */
	putfail_ret = -EIO;
	assert_int_equal(xp_mempool_cache_flush(c, mp), -EIO);
	assert_int_equal(c->len, len);
	assert_int_equal(tu_count_held(mp) + len + 20, 100);
	/* Not an errno: a broken handler, reported as such. */
	putfail_ret = 1;
	assert_int_equal(xp_mempool_cache_flush(c, mp), -EPROTO);
	putfail_ret = 0;
	assert_int_equal(c->len, len);
	assert_int_equal(tu_count_held(mp) + len + 20, 100);

	assert_int_equal(xp_mempool_cache_flush(c, mp), 0);
	assert_int_equal(c->len, 0);
	assert_int_equal(tu_count_held(mp), 80);
	assert_int_equal(xp_mempool_avail_count(mp), 80);
	assert_int_equal(xp_mempool_cache_flush(c, mp), 0);
	assert_int_equal(tu_count_held(mp), 80);

	xp_mempool_generic_put(mp, o + 10, 20, c);
	assert_int_equal(xp_mempool_cache_flush(c, mp), 0);
	assert_int_equal(c->len, 0);
	xp_mempool_cache_free(c);
	finish_pool(mp);
}

/* ---- concurrency ----------------------------------------------------- */

#define ELT 64
#define MAXBULK 32
#define FIFO 256 /* objects a worker may hold */
#define QBATCH 64

/*
 * A held object and the tag its holder wrote into both ends of it.  A tag
 * is unique per get (thread id, sequence number), so a second holder of the
 * same object, even the same thread, overwrites it and the first holder
 * sees the difference at put time.
 */
struct held {
	void *obj;
	uint64_t tag;
};

static void tag_set(void *obj, uint64_t tag)
{
	memcpy(obj, &tag, sizeof(tag));
	memcpy((char *)obj + ELT - sizeof(tag), &tag, sizeof(tag));
}

static int tag_ok(const void *obj, uint64_t tag)
{
	uint64_t a, b;

	memcpy(&a, obj, sizeof(a));
	memcpy(&b, (const char *)obj + ELT - sizeof(b), sizeof(b));
	return a == tag && b == tag;
}

enum cmode {
	C_THREAD, /* the pool's per-thread caches (or none if cache_size 0) */
	C_USER,   /* a user-owned cache per thread */
};

struct hq;

struct wstats {
	unsigned long gets, puts, objs, enoent;
	unsigned long bad_tag, foreign, errors;
};

struct worker {
	pthread_t th;
	struct xp_mempool *mp;
	const struct tu_objset *set;
	enum cmode mode;
	unsigned int id;
	unsigned int maxbulk;
	unsigned long ops;
	uint64_t rng, seq;
	struct xp_mempool_cache *uc;
	/* objects held, oldest first (a ring of FIFO entries) */
	struct held fifo[FIFO];
	unsigned int head, count;
	struct wstats st;
	/* handoff */
	struct hq *out;   /* getters: putters' queues */
	unsigned int nout;
	struct hq *in;    /* putters: own queue */
	sem_t release;    /* getters: may exit */
	/* relay: objects held, passed on to the next worker */
	struct held *baton;
	unsigned int *baton_n;
	int keep_baton;
};

static int w_get(struct worker *w, void **objs, unsigned int n)
{
	if (w->mode == C_USER)
		return xp_mempool_generic_get(w->mp, objs, n, w->uc);
	return xp_mempool_get_bulk(w->mp, objs, n);
}

static void w_put(struct worker *w, void *const *objs, unsigned int n)
{
	if (w->mode == C_USER)
		xp_mempool_generic_put(w->mp, objs, n, w->uc);
	else
		xp_mempool_put_bulk(w->mp, objs, n);
}

static uint64_t w_newtag(struct worker *w)
{
	return ((uint64_t)(w->id + 1) << 48) | ++w->seq;
}

static void w_hold(struct worker *w, void *obj, uint64_t tag)
{
	struct held *h = &w->fifo[(w->head + w->count) % FIFO];

	h->obj = obj;
	h->tag = tag;
	w->count++;
}

/*
 * Take @n objects: check they are the pool's, tag them, and hold them (or,
 * unless @hold, store them in fifo[0..n) for sending on).  @return the
 * objects kept, or -ENOENT.
 */
static int w_take(struct worker *w, unsigned int n, int hold)
{
	void *objs[MAXBULK];
	unsigned int i, kept = 0;
	int rc = w_get(w, objs, n);

	if (rc == -ENOENT) {
		w->st.enoent++;
		return rc;
	}
	if (rc != 0) {
		w->st.errors++;
		return rc;
	}
	w->st.gets++;
	w->st.objs += n;
	for (i = 0; i < n; i++) {
		uint64_t tag = w_newtag(w);

		if (tu_objset_find(w->set, objs[i]) < 0) {
			w->st.foreign++;
			continue;
		}
		tag_set(objs[i], tag);
		if (hold)
			w_hold(w, objs[i], tag);
		else
			w->fifo[kept] = (struct held){ objs[i], tag };
		kept++;
	}
	return (int)kept;
}

/* Give back the @n oldest held objects, checking they are still ours. */
static void w_give(struct worker *w, unsigned int n)
{
	void *objs[MAXBULK];
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct held *h = &w->fifo[w->head];

		if (!tag_ok(h->obj, h->tag))
			w->st.bad_tag++;
		objs[i] = h->obj;
		w->head = (w->head + 1) % FIFO;
		w->count--;
	}
	w_put(w, objs, n);
	w->st.puts++;
}

static void w_give_all(struct worker *w)
{
	while (w->count > 0)
		w_give(w, w->count < MAXBULK ? w->count : MAXBULK);
}

static void w_start(struct worker *w)
{
	if (w->mode == C_USER) {
		w->uc = xp_mempool_cache_create(24);
		if (w->uc == NULL)
			w->st.errors++;
	}
}

static void w_stop(struct worker *w)
{
	if (w->uc != NULL) {
		if (xp_mempool_cache_flush(w->uc, w->mp) != 0)
			w->st.errors++;
		xp_mempool_cache_free(w->uc);
		w->uc = NULL;
	}
}

/* Gets and puts at random, holding up to FIFO objects. */
static void *mixed_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long i;
	unsigned int k;

	w_start(w);
	if (w->baton != NULL) {
		for (k = 0; k < *w->baton_n; k++) {
			if (!tag_ok(w->baton[k].obj, w->baton[k].tag))
				w->st.bad_tag++;
			w_hold(w, w->baton[k].obj, w->baton[k].tag);
		}
		*w->baton_n = 0;
	}
	for (i = 0; i < w->ops; i++) {
		uint64_t r = tu_xorshift64(&w->rng);
		unsigned int b = 1 + (r >> 8) % w->maxbulk;

		if (w->count + b <= FIFO && (w->count == 0 || (r & 1)))
			(void)w_take(w, b, 1);
		else if (w->count > 0)
			w_give(w, b < w->count ? b : w->count);
	}
	if (w->keep_baton) {
		while (w->count > 0) {
			w->baton[(*w->baton_n)++] = w->fifo[w->head];
			w->head = (w->head + 1) % FIFO;
			w->count--;
		}
	} else {
		w_give_all(w);
	}
	w_stop(w);
	return NULL;
}

static void check_workers(struct worker *w, unsigned int nw)
{
	unsigned long gets = 0, puts = 0;
	unsigned int i;

	for (i = 0; i < nw; i++) {
		assert_int_equal(w[i].st.bad_tag, 0);
		assert_int_equal(w[i].st.foreign, 0);
		assert_int_equal(w[i].st.errors, 0);
		gets += w[i].st.gets;
		puts += w[i].st.puts;
	}
	/* Each side did real work. */
	assert_true(gets > 0);
	assert_true(puts > 0);
}

static void worker_init(struct worker *w, struct xp_mempool *mp,
			const struct tu_objset *set, enum cmode mode,
			unsigned int id, unsigned long ops)
{
	memset(w, 0, sizeof(*w));
	w->mp = mp;
	w->set = set;
	w->mode = mode;
	w->id = id;
	w->maxbulk = MAXBULK;
	w->ops = ops;
	w->rng = 0x9e3779b97f4a7c15ull * (id + 1) + ops;
}

/*
 * Several threads getting and putting at once (ring_mp_mc), in bulks of 1
 * to @maxbulk.
 */
static void run_mixed_bulk(const char *handler, unsigned int n,
			   unsigned int cache_size, enum cmode mode,
			   unsigned int nthreads, unsigned long ops,
			   unsigned int maxbulk)
{
	struct xp_mempool *mp = tu_mk_pool("mixed", n, ELT, cache_size, 0,
					   handler);
	struct worker *w = calloc(nthreads, sizeof(*w));
	struct tu_objset set;
	unsigned int i;

	assert_non_null(w);
	tu_objset_init(&set, mp);
	for (i = 0; i < nthreads; i++) {
		worker_init(&w[i], mp, &set, mode, i, ops);
		w[i].maxbulk = maxbulk;
		assert_int_equal(pthread_create(&w[i].th, NULL, mixed_thread,
						&w[i]),
				 0);
	}
	for (i = 0; i < nthreads; i++)
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
	check_workers(w, nthreads);
	tu_objset_fini(&set);
	free(w);
	finish_pool(mp);
}

static void run_mixed(const char *handler, unsigned int n,
		      unsigned int cache_size, enum cmode mode,
		      unsigned int nthreads, unsigned long ops)
{
	run_mixed_bulk(handler, n, cache_size, mode, nthreads, ops, MAXBULK);
}

static unsigned long mt_ops(void)
{
	return tu_scaled(150000, 2000);
}

static void test_mt_mp_mc(void **state)
{
	(void)state;
	run_mixed("ring_mp_mc", 1000, 0, C_THREAD, 4, mt_ops());
	run_mixed("ring_mp_mc", 1000, 32, C_THREAD, 4, mt_ops());
	run_mixed("ring_mp_mc", 1000, 0, C_USER, 4, mt_ops());
	/* Small bulks, no cache: as many ring operations as possible. */
	run_mixed_bulk("ring_mp_mc", 500, 0, C_THREAD, 4, mt_ops(), 4);
	/* Scarce: threads run out of objects often. */
	run_mixed("ring_mp_mc", 300, 8, C_THREAD, 4, mt_ops() / 2);
	/* The default handler with the flags that keep it multi-threaded. */
	run_mixed(NULL, 1000, 32, C_THREAD, 4, mt_ops() / 2);
}

/*
 * One thread at a time on a single-producer single-consumer pool: workers
 * run in turn, each taking over the objects the previous one held, so that
 * objects are put by other threads than got them.
 */
static void run_relay(const char *handler, unsigned int cache_size,
		      unsigned int flags, enum cmode mode, unsigned long ops)
{
	struct xp_mempool *mp = tu_mk_pool("relay", 1000, ELT, cache_size,
					   flags, handler);
	struct worker *w = calloc(4, sizeof(*w));
	struct held baton[FIFO];
	unsigned int baton_n = 0, i;
	struct tu_objset set;

	assert_non_null(w);
	tu_objset_init(&set, mp);
	for (i = 0; i < 4; i++) {
		worker_init(&w[i], mp, &set, mode, i, ops);
		w[i].baton = baton;
		w[i].baton_n = &baton_n;
		/* The last one gives everything back. */
		w[i].keep_baton = i < 3;
		assert_int_equal(pthread_create(&w[i].th, NULL, mixed_thread,
						&w[i]),
				 0);
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
	}
	check_workers(w, 4);
	tu_objset_fini(&set);
	free(w);
	finish_pool(mp);
}

/* ---- handoff: getters pass objects to putters ------------------------ */

struct hq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct held *e;
	unsigned int cap, head, len;
	unsigned int producers; /* getters still running */
};

static void hq_init(struct hq *q, unsigned int cap, unsigned int producers)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->e = calloc(cap, sizeof(*q->e));
	assert_non_null(q->e);
	q->cap = cap;
	q->head = 0;
	q->len = 0;
	q->producers = producers;
}

static void hq_fini(struct hq *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->e);
}

/* Never full: it is as large as the pool. */
static void hq_push(struct hq *q, const struct held *h, unsigned int n)
{
	unsigned int i;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < n && q->len < q->cap; i++)
		q->e[(q->head + q->len++) % q->cap] = h[i];
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static void hq_producer_done(struct hq *q)
{
	pthread_mutex_lock(&q->lock);
	q->producers--;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Up to @max entries; waits when @wait; 0 when drained and no producer. */
static unsigned int hq_pop(struct hq *q, struct held *h, unsigned int max,
			   int wait)
{
	unsigned int n = 0;

	pthread_mutex_lock(&q->lock);
	while (wait && q->len == 0 && q->producers > 0)
		pthread_cond_wait(&q->cond, &q->lock);
	while (n < max && q->len > 0) {
		h[n++] = q->e[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Only gets; sends what it got to the putters, round robin. */
static void *getter_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long i;
	unsigned int k;

	w_start(w);
	for (i = 0; i < w->ops;) {
		unsigned int b = 1 + (tu_xorshift64(&w->rng) >> 8) % MAXBULK;

		int kept = w_take(w, b, 0);

		if (kept < 0) {
			sched_yield();
			continue;
		}
		hq_push(&w->out[i % w->nout], w->fifo, (unsigned int)kept);
		i++;
	}
	for (k = 0; k < w->nout; k++)
		hq_producer_done(&w->out[k]);
	/* Exit (which may flush our cache, a put) only when allowed. */
	while (sem_wait(&w->release) != 0)
		;
	w_stop(w);
	return NULL;
}

/* Only puts: takes over objects from its queue, holds them, puts them. */
static void *putter_thread(void *arg)
{
	struct worker *w = arg;
	struct held h[QBATCH];
	unsigned int n, k;

	w_start(w);
	for (;;) {
		unsigned int room = FIFO - w->count;

		n = hq_pop(w->in, h, room < QBATCH ? room : QBATCH,
			   w->count == 0);
		if (n == 0 && w->count == 0)
			break;
		for (k = 0; k < n; k++) {
			uint64_t tag = w_newtag(w);

			if (!tag_ok(h[k].obj, h[k].tag))
				w->st.bad_tag++;
			tag_set(h[k].obj, tag);
			w_hold(w, h[k].obj, tag);
		}
		/* Keep objects a while, but let go when nothing arrives. */
		if (w->count > FIFO / 2 || n == 0) {
			unsigned int b =
				1 + (tu_xorshift64(&w->rng) >> 8) % MAXBULK;

			w_give(w, b < w->count ? b : w->count);
		}
	}
	w_give_all(w);
	w_stop(w);
	return NULL;
}

/*
 * @ng getters and @np putters.  Putters exit first, then getters one at a
 * time, so that with a single-producer ring no two threads ever put at once
 * (a getter's exit flushes its cache: a put).
 */
static void run_handoff(const char *handler, unsigned int cache_size,
			unsigned int flags, enum cmode mode, unsigned int ng,
			unsigned int np, unsigned long ops)
{
	unsigned int n = 2000;
	struct xp_mempool *mp = tu_mk_pool("handoff", n, ELT, cache_size, flags,
					   handler);
	struct worker *w = calloc(ng + np, sizeof(*w));
	struct hq *q = calloc(np, sizeof(*q));
	struct tu_objset set;
	unsigned int i;

	assert_non_null(w);
	assert_non_null(q);
	tu_objset_init(&set, mp);
	for (i = 0; i < np; i++)
		hq_init(&q[i], n, ng);
	for (i = 0; i < ng + np; i++) {
		struct worker *x = &w[i];

		worker_init(x, mp, &set, mode, i, i < ng ? ops : 0);
		if (i < ng) {
			x->out = q;
			x->nout = np;
			assert_int_equal(sem_init(&x->release, 0, 0), 0);
			assert_int_equal(pthread_create(&x->th, NULL,
							getter_thread, x),
					 0);
		} else {
			x->in = &q[i - ng];
			assert_int_equal(pthread_create(&x->th, NULL,
							putter_thread, x),
					 0);
		}
	}
	for (i = ng; i < ng + np; i++)
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
	for (i = 0; i < ng; i++) {
		assert_int_equal(sem_post(&w[i].release), 0);
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		sem_destroy(&w[i].release);
	}
	check_workers(w, ng + np);
	for (i = 0; i < np; i++) {
		assert_int_equal(q[i].len, 0);
		hq_fini(&q[i]);
	}
	tu_objset_fini(&set);
	free(q);
	free(w);
	finish_pool(mp);
}

static unsigned long handoff_ops(void)
{
	return tu_scaled(60000, 1000);
}

static void test_mt_mp_sc(void **state)
{
	(void)state;
	run_handoff("ring_mp_sc", 0, 0, C_THREAD, 1, 3, handoff_ops());
	run_handoff("ring_mp_sc", 32, 0, C_THREAD, 1, 3, handoff_ops());
	run_handoff("ring_mp_mc", 32, XP_MEMPOOL_F_SC_GET, C_USER, 1, 3,
		    handoff_ops() / 2);
}

static void test_mt_sp_mc(void **state)
{
	(void)state;
	run_handoff("ring_sp_mc", 0, 0, C_THREAD, 3, 1, handoff_ops());
	run_handoff("ring_sp_mc", 32, 0, C_THREAD, 3, 1, handoff_ops());
	run_handoff("ring_mp_mc", 32, XP_MEMPOOL_F_SP_PUT, C_USER, 3, 1,
		    handoff_ops() / 2);
}

static void test_mt_sp_sc(void **state)
{
	(void)state;
	/* One getter and one putter at once is within the contract. */
	run_handoff("ring_sp_sc", 0, 0, C_THREAD, 1, 1, handoff_ops());
	run_handoff("ring_sp_sc", 32, 0, C_THREAD, 1, 1, handoff_ops());
	run_relay("ring_sp_sc", 32, 0, C_THREAD, mt_ops() / 2);
	run_relay("ring_sp_sc", 0, 0, C_USER, mt_ops() / 2);
	run_relay("ring_mp_mc", 32, XP_MEMPOOL_F_SP_PUT | XP_MEMPOOL_F_SC_GET,
		  C_THREAD, mt_ops() / 2);
}

static void test_mt_mp_mc_handoff(void **state)
{
	(void)state;
	run_handoff("ring_mp_mc", 32, 0, C_THREAD, 2, 2, handoff_ops());
}

/* A lost object or a broken ring can hang a thread: fail instead. */
#define WATCHDOG_S 600

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_thread_cache),
		cmocka_unit_test(test_policy_user_cache),
		cmocka_unit_test(test_policy_big_direct),
		cmocka_unit_test(test_thread_exit_flush),
		cmocka_unit_test(test_sp_put_exit_orphans),
		cmocka_unit_test(test_sp_put_exit_orphans_ring),
		cmocka_unit_test(test_exit_flush_puts),
		cmocka_unit_test(test_sp_put_exit_stress),
		cmocka_unit_test(test_thread_churn),
		cmocka_unit_test(test_pool_freed_before_thread_exit),
		cmocka_unit_test(test_thread_slots),
		cmocka_unit_test(test_user_cache_create),
		cmocka_unit_test(test_cache_copy_sizes),
		cmocka_unit_test(test_objs_copy),
		cmocka_unit_test(test_generic_null_cache),
		cmocka_unit_test(test_user_cache_flush),
		cmocka_unit_test(test_mt_mp_mc),
		cmocka_unit_test(test_mt_mp_sc),
		cmocka_unit_test(test_mt_sp_mc),
		cmocka_unit_test(test_mt_sp_sc),
		cmocka_unit_test(test_mt_mp_mc_handoff),
	};

	alarm(WATCHDOG_S);
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
