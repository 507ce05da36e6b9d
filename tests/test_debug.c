/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Debug mode, set by XP_MEMPOOL_F_DEBUG or by XENPOOL_DEBUG=1 at creation:
 * each bad put (double put, a pointer that is not an object of the pool, an
 * object whose guard after its end was overwritten) is counted, refused,
 * logged with the pool's name and reported by xp_mempool_audit(); clean use
 * raises nothing; caches are bypassed.
 *
 * Each test uses pools of its own: a refused put marks a pool for good.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

#define N_OBJS 8
#define ELT_SIZE 40

/*
 * Messages at or above notice (those a default threshold shows), so that a
 * test can tell what one call logged.
 */
static struct {
	unsigned int n;
	char text[4096];
} logged;

static void log_cb(int level, const char *msg, void *arg)
{
	size_t len = strlen(logged.text);

	(void)arg;
	if (level > XP_LOG_NOTICE)
		return;
	logged.n++;
	snprintf(logged.text + len, sizeof(logged.text) - len, "%s\n", msg);
}

static void log_reset(void)
{
	logged.n = 0;
	logged.text[0] = '\0';
}

static struct xp_mempool *debug_pool(const char *name, size_t elt_size,
				     unsigned int cache_size)
{
	struct xp_mempool *mp;

	mp = xp_mempool_create(name, N_OBJS, elt_size, cache_size, 0, NULL,
			       NULL, XP_MEMPOOL_F_DEBUG);
	assert_non_null(mp);
	assert_true(mp->flags & XP_MEMPOOL_F_DEBUG);
	assert_int_equal(mp->elt_size, elt_size);
	log_reset();
	return mp;
}

static void assert_stats(const struct xp_mempool *mp, uint64_t double_put,
			 uint64_t foreign_put, uint64_t overrun)
{
	struct xp_mempool_debug_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(xp_mempool_get_debug_stats(mp, &st), 0);
	assert_int_equal(st.double_put, double_put);
	assert_int_equal(st.foreign_put, foreign_put);
	assert_int_equal(st.overrun, overrun);
}

/*
 * Put @bad, which @mp must refuse: free count unchanged, and a message
 * naming the pool.
 */
static void put_refused(struct xp_mempool *mp, void *bad)
{
	unsigned int avail = xp_mempool_avail_count(mp);

	log_reset();
	xp_mempool_put(mp, bad);
	assert_int_equal(xp_mempool_avail_count(mp), avail);
	assert_true(logged.n >= 1);
	assert_non_null(strstr(logged.text, mp->name));
}

/* Put @obj, which @mp must accept silently. */
static void put_accepted(struct xp_mempool *mp, void *obj)
{
	unsigned int avail = xp_mempool_avail_count(mp);

	log_reset();
	xp_mempool_put(mp, obj);
	assert_int_equal(xp_mempool_avail_count(mp), avail + 1);
	assert_int_equal(logged.n, 0);
}

/*
 * Take every object @mp hands out: there must be @expect, each an object of
 * the pool handed out once, none of them @bad.  Give them back.
 */
static void check_free_objs(struct xp_mempool *mp, unsigned int expect,
			    const void *bad)
{
	void **objs = calloc(mp->size + 1, sizeof(*objs));
	struct tu_objset s;
	unsigned int n = 0;

	assert_non_null(objs);
	tu_objset_init(&s, mp);
	tu_objset_reset(&s);
	while (n <= mp->size && xp_mempool_get(mp, &objs[n]) == 0) {
		assert_ptr_not_equal(objs[n], bad);
		tu_objset_mark(&s, &objs[n], 1);
		n++;
	}
	assert_int_equal(n, expect);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	xp_mempool_put_bulk(mp, objs, n);
	assert_int_equal(xp_mempool_avail_count(mp), expect);
	tu_objset_fini(&s);
	free(objs);
}

/* Take an object and put it back twice: only the first put is accepted. */
static void put_back_twice(struct xp_mempool *mp)
{
	void *obj;

	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	put_accepted(mp, obj);
	put_refused(mp, obj);
}

/*
 * @n double puts counted so far, the audit reports them, and each object
 * is still free exactly once.
 */
static void check_double_puts(struct xp_mempool *mp, uint64_t n)
{
	assert_stats(mp, n, 0, 0);
	assert_int_equal(xp_mempool_audit(mp), -EILSEQ);
	check_free_objs(mp, N_OBJS, NULL);
}

static void test_clean_use(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_clean", ELT_SIZE, 0);
	void *objs[N_OBJS];
	unsigned int i;

	(void)state;
	assert_null(xp_mempool_default_cache(mp));
	assert_int_equal(xp_mempool_get_bulk(mp, objs, N_OBJS), 0);
	/* Objects may be written up to their end. */
	for (i = 0; i < N_OBJS; i++)
		memset(objs[i], 0xee, ELT_SIZE);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_put_bulk(mp, objs, N_OBJS / 2);
	for (i = N_OBJS / 2; i < N_OBJS; i++)
		put_accepted(mp, objs[i]);
	tu_check_all_free(mp);
	assert_int_equal(logged.n, 0);
	assert_int_equal(xp_mempool_audit(mp), 0);
	assert_stats(mp, 0, 0, 0);
	xp_mempool_free(mp);
}

static void test_double_put(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_double", ELT_SIZE, 0);
	struct tu_objset s;

	(void)state;
	/* An object that was never taken. */
	tu_objset_init(&s, mp);
	put_refused(mp, s.objs[0]);
	check_double_puts(mp, 1);

	/* An object put back twice. */
	put_back_twice(mp);
	check_double_puts(mp, 2);
	tu_objset_fini(&s);
	xp_mempool_free(mp);
}

static void test_double_put_in_one_bulk(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_double_bulk", ELT_SIZE, 0);
	void *objs[3];

	(void)state;
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 2), 0);
	objs[2] = objs[0];
	xp_mempool_put_bulk(mp, objs, 3);
	assert_int_equal(xp_mempool_avail_count(mp), N_OBJS);
	assert_non_null(strstr(logged.text, mp->name));
	check_double_puts(mp, 1);
	xp_mempool_free(mp);
}

/* Foreign put of @bad into a fresh pool: refused, counted, never given. */
static void check_foreign(const char *name, void *bad)
{
	struct xp_mempool *mp = debug_pool(name, ELT_SIZE, 0);

	put_refused(mp, bad);
	assert_stats(mp, 0, 1, 0);
	assert_int_equal(xp_mempool_audit(mp), -EILSEQ);
	check_free_objs(mp, N_OBJS, bad);
	xp_mempool_free(mp);
}

static void test_foreign_stack(void **state)
{
	char local[2 * ELT_SIZE];

	(void)state;
	memset(local, 0, sizeof(local));
	check_foreign("dbg_stack", local);
}

static void test_foreign_heap(void **state)
{
	void *p = aligned_alloc(XP_CACHE_LINE_SIZE, 2 * XP_CACHE_LINE_SIZE);

	(void)state;
	assert_non_null(p);
	check_foreign("dbg_heap", p);
	free(p);
}

static void test_foreign_null(void **state)
{
	(void)state;
	check_foreign("dbg_null", NULL);
}

static void test_foreign_interior(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_interior", ELT_SIZE, 0);
	char *obj;

	(void)state;
	assert_int_equal(xp_mempool_get(mp, (void **)&obj), 0);
	put_refused(mp, obj + 8);
	put_refused(mp, obj + ELT_SIZE);
	assert_stats(mp, 0, 2, 0);
	assert_int_equal(xp_mempool_audit(mp), -EILSEQ);
	/* The object itself is still held, and goes back normally. */
	put_accepted(mp, obj);
	assert_stats(mp, 0, 2, 0);
	check_free_objs(mp, N_OBJS, obj + 8);
	xp_mempool_free(mp);
}

static void test_foreign_other_pool(void **state)
{
	struct xp_mempool *a = debug_pool("dbg_pool_a", ELT_SIZE, 0);
	struct xp_mempool *b = debug_pool("dbg_pool_b", ELT_SIZE, 0);
	void *obj;

	(void)state;
	assert_int_equal(xp_mempool_get(b, &obj), 0);
	put_refused(a, obj);
	assert_stats(a, 0, 1, 0);
	assert_int_equal(xp_mempool_audit(a), -EILSEQ);
	check_free_objs(a, N_OBJS, obj);

	put_accepted(b, obj);
	assert_stats(b, 0, 0, 0);
	assert_int_equal(xp_mempool_audit(b), 0);
	check_free_objs(b, N_OBJS, NULL);
	xp_mempool_free(a);
	xp_mempool_free(b);
}

/*
 * One byte written past the end of a held object: audit sees it, its put
 * is refused; once the byte is restored the object goes back normally.
 */
static void check_overrun(const char *name, size_t elt_size)
{
	struct xp_mempool *mp = debug_pool(name, elt_size, 0);
	unsigned char *obj;
	int ret;

	assert_int_equal(xp_mempool_get(mp, (void **)&obj), 0);
	memset(obj, 0x5a, elt_size);
	assert_int_equal(xp_mempool_audit(mp), 0);
	obj[elt_size] ^= 0xff;
	assert_int_equal(xp_mempool_audit(mp), -EBADMSG);
	assert_stats(mp, 0, 0, 0);

	put_refused(mp, obj);
	assert_stats(mp, 0, 0, 1);
	ret = xp_mempool_audit(mp);
	assert_true(ret == -EBADMSG || ret == -EILSEQ);
	check_free_objs(mp, N_OBJS - 1, obj);

	obj[elt_size] ^= 0xff;
	assert_int_equal(xp_mempool_audit(mp), -EILSEQ);
	put_accepted(mp, obj);
	assert_stats(mp, 0, 0, 1);
	check_free_objs(mp, N_OBJS, NULL);
	xp_mempool_free(mp);
}

static void test_overrun(void **state)
{
	(void)state;
	check_overrun("dbg_overrun", ELT_SIZE);
}

/* An object size that is not a multiple of the guard's alignment. */
static void test_overrun_odd_size(void **state)
{
	(void)state;
	check_overrun("dbg_overrun_odd", ELT_SIZE - 3);
}

static void test_cache_bypassed(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_cache", ELT_SIZE, 4);
	struct xp_mempool_cache *uc = xp_mempool_cache_create(4);
	void *obj;

	(void)state;
	assert_null(xp_mempool_default_cache(mp));
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	assert_int_equal(xp_mempool_avail_count(mp), N_OBJS - 1);
	put_accepted(mp, obj);
	put_refused(mp, obj);
	assert_stats(mp, 1, 0, 0);
	check_free_objs(mp, N_OBJS, NULL);

	/* A user-owned cache is bypassed too. */
	assert_non_null(uc);
	assert_int_equal(xp_mempool_generic_get(mp, &obj, 1, uc), 0);
	assert_int_equal(uc->len, 0);
	assert_int_equal(xp_mempool_avail_count(mp), N_OBJS - 1);
	xp_mempool_generic_put(mp, &obj, 1, uc);
	assert_int_equal(xp_mempool_avail_count(mp), N_OBJS);
	xp_mempool_generic_put(mp, &obj, 1, uc);
	assert_int_equal(uc->len, 0);
	assert_int_equal(xp_mempool_avail_count(mp), N_OBJS);
	assert_non_null(strstr(logged.text, mp->name));
	check_double_puts(mp, 2);
	xp_mempool_cache_free(uc);
	xp_mempool_free(mp);
}

static void test_env_debug(void **state)
{
	struct xp_mempool *mp, *plain;

	(void)state;
	assert_int_equal(setenv("XENPOOL_DEBUG", "1", 1), 0);
	mp = xp_mempool_create("dbg_env", N_OBJS, ELT_SIZE, 4, 0, NULL, NULL,
			       0);
	assert_int_equal(unsetenv("XENPOOL_DEBUG"), 0);
	assert_non_null(mp);
	assert_true(mp->flags & XP_MEMPOOL_F_DEBUG);
	assert_null(xp_mempool_default_cache(mp));
	put_back_twice(mp);
	check_double_puts(mp, 1);

	/* Read at creation: a pool created without it is not in debug mode. */
	plain = xp_mempool_create("dbg_env_off", N_OBJS, ELT_SIZE, 4, 0, NULL,
				  NULL, 0);
	assert_non_null(plain);
	assert_false(plain->flags & XP_MEMPOOL_F_DEBUG);
	assert_true(mp->flags & XP_MEMPOOL_F_DEBUG);
	xp_mempool_free(plain);
	xp_mempool_free(mp);
}

static void test_not_debug(void **state)
{
	const unsigned int cache_sizes[] = {0, 4};
	struct xp_mempool *mp;
	void *objs[N_OBJS];
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		mp = xp_mempool_create("dbg_off", N_OBJS, ELT_SIZE,
				       cache_sizes[i], 0, NULL, NULL, 0);
		assert_non_null(mp);
		assert_false(mp->flags & XP_MEMPOOL_F_DEBUG);
		assert_int_equal(xp_mempool_get_bulk(mp, objs, N_OBJS), 0);
		xp_mempool_put_bulk(mp, objs, N_OBJS);
		assert_int_equal(xp_mempool_audit(mp), 0);
		assert_stats(mp, 0, 0, 0);
		xp_mempool_free(mp);
	}
}

static void test_stats_einval(void **state)
{
	struct xp_mempool *mp = debug_pool("dbg_einval", ELT_SIZE, 0);
	struct xp_mempool_debug_stats st, orig;
	void *obj;

	(void)state;
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	put_accepted(mp, obj);
	put_refused(mp, obj);
	memset(&st, 0x5a, sizeof(st));
	orig = st;
	assert_int_equal(xp_mempool_get_debug_stats(NULL, &st), -EINVAL);
	assert_memory_equal(&st, &orig, sizeof(st));
	assert_int_equal(xp_mempool_get_debug_stats(mp, NULL), -EINVAL);
	assert_int_equal(xp_mempool_get_debug_stats(NULL, NULL), -EINVAL);
	assert_stats(mp, 1, 0, 0);
	assert_int_equal(xp_mempool_audit(NULL), -EINVAL);
	xp_mempool_free(mp);
}

static int group_setup(void **state)
{
	(void)state;
	/* Debug mode must come from each test, not from the caller. */
	if (unsetenv("XENPOOL_DEBUG") != 0)
		return -1;
	if (xp_log_set_level(XP_LOG_NOTICE) != 0)
		return -1;
	xp_log_set_callback(log_cb, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	xp_log_set_callback(NULL, NULL);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_use),
		cmocka_unit_test(test_double_put),
		cmocka_unit_test(test_double_put_in_one_bulk),
		cmocka_unit_test(test_foreign_stack),
		cmocka_unit_test(test_foreign_heap),
		cmocka_unit_test(test_foreign_null),
		cmocka_unit_test(test_foreign_interior),
		cmocka_unit_test(test_foreign_other_pool),
		cmocka_unit_test(test_overrun),
		cmocka_unit_test(test_overrun_odd_size),
		cmocka_unit_test(test_cache_bypassed),
		cmocka_unit_test(test_env_debug),
		cmocka_unit_test(test_not_debug),
		cmocka_unit_test(test_stats_einval),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
