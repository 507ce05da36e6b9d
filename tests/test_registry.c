/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handler registry: registration and each of its errors, registration from
 * constructors, lookup, index, walk, the process default handler (set by
 * call and by XENPOOL_DEFAULT_HANDLER), a user handler serving a pool end to
 * end, and concurrent registration.
 *
 * Registration is permanent, so the tests run in a fixed order and the one
 * that fills the table runs last.  What a fresh process sees at start (the
 * default taken from the environment, constructor registrations) is checked
 * by running this program again with CHILD_MODE as its argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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

#define CHILD_MODE "--child-default"

static const char *const builtins[] = { TU_BUILTIN_HANDLERS };

/* ---- handlers defined by this program -------------------------------- */

/* What the "reg_user" create was last called with. */
static struct {
	unsigned int calls;
	int args_null;
	char args[64];
} user_create;

static int user_create_cb(struct xp_mempool *mp, const char *args)
{
	user_create.calls++;
	user_create.args_null = args == NULL;
	snprintf(user_create.args, sizeof(user_create.args), "%s",
		 args != NULL ? args : "");
	return tu_count_create(mp, args);
}

/* A user handler: tu_count behind a create that records its arguments. */
static const struct xp_mempool_ops user_ops =
	TU_COUNT_OPS_INIT("reg_user", user_create_cb);

static const struct xp_mempool_ops ctor_ops =
	TU_COUNT_OPS_INIT("reg_ctor", tu_count_create);
XP_MEMPOOL_REGISTER_HANDLER(ctor_ops)

/*
 * No get_count: this registration fails whatever order the constructors run
 * in, and must be counted and logged.
 */
static const struct xp_mempool_ops ctor_bad_ops = {
	.name = "reg_ctor_bad",
	.create = tu_count_create,
	.destroy = tu_count_destroy,
	.get_bulk = tu_count_get_bulk,
	.put_bulk = tu_count_put_bulk,
};
XP_MEMPOOL_REGISTER_HANDLER(ctor_bad_ops)

/* ---- helpers --------------------------------------------------------- */

/* The registry as walk sees it: names in visiting order. */
struct names {
	unsigned int n;
	char name[XP_MEMPOOL_MAX_HANDLERS + 1][XP_MEMPOOL_NAMESIZE];
};

static int collect_cb(const struct xp_mempool_ops *ops, void *arg)
{
	struct names *s = arg;

	if (s->n < ARRAY_SIZE(s->name))
		memcpy(s->name[s->n], ops->name, XP_MEMPOOL_NAMESIZE);
	s->n++;
	return 0;
}

static void collect(struct names *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(xp_mempool_handler_walk(collect_cb, s), 0);
	assert_true(s->n <= XP_MEMPOOL_MAX_HANDLERS);
}

static unsigned int handler_count(void)
{
	struct names s;

	collect(&s);
	return s.n;
}

static long find_name(const struct names *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->name[i], name) == 0)
			return i;
	return -1;
}

/* Registering @ops fails with @err and leaves the registry as it was. */
static void assert_register_fails(const struct xp_mempool_ops *ops, int err)
{
	struct names before, after;

	collect(&before);
	assert_int_equal(xp_mempool_handler_register(ops), err);
	collect(&after);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(&after, &before, sizeof(before));
}

/* user_ops under another name. */
static struct xp_mempool_ops user_ops_named(const char *name)
{
	struct xp_mempool_ops ops = user_ops;

	memset(ops.name, 0, sizeof(ops.name));
	assert_true(strlen(name) < sizeof(ops.name));
	memcpy(ops.name, name, strlen(name));
	return ops;
}

/* Register user_ops as @name; it must succeed and be found at its index. */
static int register_named(const char *name)
{
	struct xp_mempool_ops ops = user_ops_named(name);
	int idx = xp_mempool_handler_register(&ops);

	assert_true(idx >= 0);
	assert_int_equal(xp_mempool_handler_index(name), idx);
	return idx;
}

/* Create, use and free a pool on handler @handler. */
static void pool_round_trip(const char *handler)
{
	struct xp_mempool *mp;

	mp = tu_mk_pool("reg_trip", 16, 40, 0, 0, handler);
	assert_string_equal(xp_mempool_handler_name(mp), handler);
	assert_int_equal(mp->handler_idx, xp_mempool_handler_index(handler));
	tu_check_all_free(mp);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_free(mp);
}

/* ---- running this program again -------------------------------------- */

/*
 * CHILD_MODE: report what a fresh process sees, one "key=value" a line, and
 * what happens to a pool created on the default handler.
 */
static int child_default(void)
{
	struct xp_mempool *mp;

	printf("default=%s\n", xp_mempool_get_def_handler());
	printf("ctor_errors=%u\n", xp_mempool_handler_register_errors());
	mp = xp_mempool_create("reg_child", 8, 64, 0, 0, NULL, NULL, 0);
	if (mp == NULL) {
		printf("errno=%d\n", errno);
		return 0;
	}
	printf("handler=%s\n", xp_mempool_handler_name(mp));
	xp_mempool_free(mp);
	return 0;
}

/*
 * Run CHILD_MODE with XENPOOL_DEFAULT_HANDLER set to @def (NULL: unset) and
 * check the common part of its report: default @expect_def, one failed
 * constructor registration, logged at the default threshold.
 */
static void run_child_default(const char *def, const char *expect_def,
			      char *out, size_t outsz)
{
	const struct tu_env env[] = {
		{"XENPOOL_DEFAULT_HANDLER", def},
		{"XENPOOL_LOG", "notice"},
	};
	char err[4096], line[128];

	assert_int_equal(tu_run_self(CHILD_MODE, env, ARRAY_SIZE(env), out,
				     outsz, err, sizeof(err)),
			 0);
	snprintf(line, sizeof(line), "default=%s\n", expect_def);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "ctor_errors=1\n"));
	assert_non_null(strstr(err, "reg_ctor_bad"));
}

/* ---- tests ----------------------------------------------------------- */

/* Must run before anything changes the default. */
static void test_initial_default(void **state)
{
	(void)state;
	assert_string_equal(xp_mempool_get_def_handler(),
			    tu_initial_def_handler());
}

static void test_ctor_registration(void **state)
{
	const struct xp_mempool_ops *ops;

	(void)state;
	ops = xp_mempool_handler_lookup("reg_ctor");
	assert_non_null(ops);
	assert_string_equal(ops->name, "reg_ctor");
	assert_ptr_equal(ops->create, tu_count_create);
	assert_ptr_equal(ops->get_count, tu_count_get_count);
	assert_int_equal(xp_mempool_handler_register_errors(), 1);
	TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup("reg_ctor_bad"),
			     ENOENT);
	pool_round_trip("reg_ctor");
}

static void test_builtins(void **state)
{
	const struct xp_mempool_ops *ops;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(builtins); i++) {
		ops = tu_lookup_ok(builtins[i]);
		assert_non_null(ops->create);
		assert_non_null(ops->destroy);
		assert_non_null(ops->get_bulk);
		assert_non_null(ops->put_bulk);
		assert_non_null(ops->get_count);
		assert_true(xp_mempool_handler_index(builtins[i]) <
			    XP_MEMPOOL_MAX_HANDLERS);
		pool_round_trip(builtins[i]);
	}
}

static void test_register_copies(void **state)
{
	struct xp_mempool_ops ops = user_ops_named("reg_copy");
	const struct xp_mempool_ops *found;
	unsigned int before = handler_count();
	struct names s;
	int idx;

	(void)state;
	idx = xp_mempool_handler_register(&ops);
	assert_true(idx >= 0);
	assert_true(idx < XP_MEMPOOL_MAX_HANDLERS);
	assert_int_equal(xp_mempool_handler_index("reg_copy"), idx);
	collect(&s);
	assert_int_equal(s.n, before + 1);
	assert_string_equal(s.name[s.n - 1], "reg_copy");

	/* The registry keeps its own copy: changing ours changes nothing. */
	ops.create = NULL;
	strcpy(ops.name, "reg_copy_changed");
	found = xp_mempool_handler_lookup("reg_copy");
	assert_non_null(found);
	assert_ptr_not_equal(found, &ops);
	assert_ptr_equal(found->create, user_create_cb);
	assert_ptr_equal(found->destroy, tu_count_destroy);
	assert_ptr_equal(found->get_bulk, tu_count_get_bulk);
	assert_ptr_equal(found->put_bulk, tu_count_put_bulk);
	assert_ptr_equal(found->get_count, tu_count_get_count);
	assert_null(found->virt2phy);
	assert_int_equal(found->flags, 0);
	TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup("reg_copy_changed"),
			     ENOENT);
}

static void test_register_valid_edges(void **state)
{
	struct xp_mempool_ops ops = user_ops_named("reg_shared");
	char longest[XP_MEMPOOL_NAMESIZE];
	const struct xp_mempool_ops *found;

	(void)state;
	ops.flags = XP_MEMPOOL_OPS_F_MASK;
	assert_true(xp_mempool_handler_register(&ops) >= 0);
	found = xp_mempool_handler_lookup("reg_shared");
	assert_non_null(found);
	assert_int_equal(found->flags, XP_MEMPOOL_OPS_F_MASK);
	/* The built-in ring handlers say which side they serialise. */
	assert_int_equal(xp_mempool_handler_lookup("ring_mp_mc")->flags, 0);
	assert_int_equal(xp_mempool_handler_lookup("ring_sp_sc")->flags,
			 XP_MEMPOOL_OPS_F_SP_PUT | XP_MEMPOOL_OPS_F_SC_GET);
	assert_int_equal(xp_mempool_handler_lookup("ring_mp_sc")->flags,
			 XP_MEMPOOL_OPS_F_SC_GET);
	assert_int_equal(xp_mempool_handler_lookup("ring_sp_mc")->flags,
			 XP_MEMPOOL_OPS_F_SP_PUT);

	/* The longest name: NUL in the last byte. */
	memset(longest, 'L', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	register_named(longest);
	found = xp_mempool_handler_lookup(longest);
	assert_non_null(found);
	assert_string_equal(found->name, longest);
}

static void test_register_einval(void **state)
{
	struct xp_mempool_ops ops;

	(void)state;
	assert_register_fails(NULL, -EINVAL);

	ops = user_ops_named("reg_bad");
	ops.create = NULL;
	assert_register_fails(&ops, -EINVAL);
	ops = user_ops_named("reg_bad");
	ops.destroy = NULL;
	assert_register_fails(&ops, -EINVAL);
	ops = user_ops_named("reg_bad");
	ops.get_bulk = NULL;
	assert_register_fails(&ops, -EINVAL);
	ops = user_ops_named("reg_bad");
	ops.put_bulk = NULL;
	assert_register_fails(&ops, -EINVAL);
	ops = user_ops_named("reg_bad");
	ops.get_count = NULL;
	assert_register_fails(&ops, -EINVAL);

	ops = user_ops_named("reg_bad");
	ops.flags = 0x8u; /* the first bit that names nothing */
	assert_register_fails(&ops, -EINVAL);
	ops.flags = XP_MEMPOOL_OPS_F_SHARED_MEM | 0x80000000u;
	assert_register_fails(&ops, -EINVAL);

	ops = user_ops_named("");
	assert_register_fails(&ops, -EINVAL);

	ops = user_ops;
	memset(ops.name, 'N', sizeof(ops.name));
	assert_register_fails(&ops, -EINVAL);

	TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup("reg_bad"), ENOENT);
}

static void test_register_eexist(void **state)
{
	const struct xp_mempool_ops *builtin;
	struct xp_mempool_ops ops;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(builtins); i++) {
		builtin = xp_mempool_handler_lookup(builtins[i]);
		assert_non_null(builtin);
		ops = user_ops_named(builtins[i]);
		assert_register_fails(&ops, -EEXIST);
		assert_ptr_equal(xp_mempool_handler_lookup(builtins[i]),
				 builtin);
		assert_ptr_not_equal(builtin->create, user_create_cb);
	}
	/* The very same ops again, and other ops under a taken name. */
	assert_register_fails(&user_ops, -EEXIST);
	ops = user_ops_named("reg_ctor");
	ops.flags = XP_MEMPOOL_OPS_F_SHARED_MEM;
	assert_register_fails(&ops, -EEXIST);
	assert_int_equal(xp_mempool_handler_lookup("reg_ctor")->flags, 0);
}

static void test_lookup_errors(void **state)
{
	const char *const unknown[] = {
		"no_such_handler", "", "ring_mp", "ring_mp_mc_", "RING_MP_MC",
	};
	unsigned int i;

	(void)state;
	TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup(NULL), EINVAL);
	assert_int_equal(xp_mempool_handler_index(NULL), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup(unknown[i]),
				     ENOENT);
		assert_int_equal(xp_mempool_handler_index(unknown[i]),
				 -ENOENT);
	}
}

/* Visits counted; returns the value at the visit numbered stop_at. */
struct stop_arg {
	unsigned int calls;
	unsigned int stop_at;
	int ret;
};

static int stop_cb(const struct xp_mempool_ops *ops, void *arg)
{
	struct stop_arg *a = arg;

	(void)ops;
	return ++a->calls == a->stop_at ? a->ret : 0;
}

static void test_walk(void **state)
{
	struct stop_arg stop = {0, 2, 42};
	struct names s;
	unsigned int i, j;
	int idx_a, idx_b;

	(void)state;
	idx_a = register_named("reg_walk_a");
	idx_b = register_named("reg_walk_b");
	assert_int_not_equal(idx_a, idx_b);
	collect(&s);
	assert_true(s.n >= ARRAY_SIZE(builtins) + 2);
	/* Registration order: the two just registered come last, in order. */
	assert_string_equal(s.name[s.n - 2], "reg_walk_a");
	assert_string_equal(s.name[s.n - 1], "reg_walk_b");
	for (i = 0; i < ARRAY_SIZE(builtins); i++)
		assert_true(find_name(&s, builtins[i]) >= 0);
	assert_true(find_name(&s, "reg_ctor") >= 0);
	assert_true(find_name(&s, "reg_user") >= 0);
	/* Every handler is visited once, and is the one lookup finds. */
	for (i = 0; i < s.n; i++) {
		assert_non_null(xp_mempool_handler_lookup(s.name[i]));
		for (j = 0; j < i; j++)
			assert_string_not_equal(s.name[i], s.name[j]);
	}

	assert_int_equal(xp_mempool_handler_walk(stop_cb, &stop), 42);
	assert_int_equal(stop.calls, 2);
	stop = (struct stop_arg){0, 1, -EIO};
	assert_int_equal(xp_mempool_handler_walk(stop_cb, &stop), -EIO);
	assert_int_equal(stop.calls, 1);
	stop = (struct stop_arg){0, s.n, 1};
	assert_int_equal(xp_mempool_handler_walk(stop_cb, &stop), 1);
	assert_int_equal(stop.calls, s.n);

	assert_int_equal(xp_mempool_handler_walk(NULL, NULL), -EINVAL);
}

/* A pool from xp_mempool_create() is served by handler @expect. */
static void assert_default_serves(const char *expect)
{
	struct xp_mempool *mp;

	mp = xp_mempool_create("reg_def", 8, 64, 0, 0, NULL, NULL, 0);
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), expect);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static void test_def_handler(void **state)
{
	const char *before = xp_mempool_get_def_handler();
	char saved[XP_MEMPOOL_NAMESIZE];
	struct xp_mempool *mp;
	unsigned int calls;

	(void)state;
	assert_true(strlen(before) < sizeof(saved));
	strcpy(saved, before);
	assert_int_equal(xp_mempool_def_handler(NULL), -EINVAL);
	assert_string_equal(xp_mempool_get_def_handler(), saved);
	assert_int_equal(xp_mempool_def_handler("no_such_handler"), -ENOENT);
	assert_string_equal(xp_mempool_get_def_handler(), saved);

	assert_int_equal(xp_mempool_def_handler("reg_user"), 0);
	assert_string_equal(xp_mempool_get_def_handler(), "reg_user");
	calls = user_create.calls;
	assert_default_serves("reg_user");
	assert_int_equal(user_create.calls, calls + 1);
	assert_true(user_create.args_null);

	/* create_ex: NULL handler means the default, with its arguments. */
	mp = xp_mempool_create_ex("reg_def_ex", 8, 64, 0, 0, NULL, NULL, 0,
				  NULL, "k=v");
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), "reg_user");
	assert_false(user_create.args_null);
	assert_string_equal(user_create.args, "k=v");
	xp_mempool_free(mp);

	/* A named handler wins over the default. */
	calls = user_create.calls;
	mp = xp_mempool_create_ex("reg_def_ex", 8, 64, 0, 0, NULL, NULL, 0,
				  "ring_sp_sc", NULL);
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), "ring_sp_sc");
	assert_int_equal(user_create.calls, calls);
	xp_mempool_free(mp);

	assert_int_equal(xp_mempool_def_handler("no_such_handler"), -ENOENT);
	assert_string_equal(xp_mempool_get_def_handler(), "reg_user");

	assert_int_equal(xp_mempool_def_handler("ring_mp_sc"), 0);
	assert_default_serves("ring_mp_sc");
	assert_int_equal(xp_mempool_def_handler("ring_mp_mc"), 0);
	assert_string_equal(xp_mempool_get_def_handler(), "ring_mp_mc");
	assert_default_serves("ring_mp_mc");
}

static void test_def_handler_env(void **state)
{
	char out[4096];

	(void)state;
	run_child_default(NULL, "ring_mp_mc", out, sizeof(out));
	assert_non_null(strstr(out, "handler=ring_mp_mc\n"));

	run_child_default("ring_sp_sc", "ring_sp_sc", out, sizeof(out));
	assert_non_null(strstr(out, "handler=ring_sp_sc\n"));

	/* A handler that this program's constructor registers. */
	run_child_default("reg_ctor", "reg_ctor", out, sizeof(out));
	assert_non_null(strstr(out, "handler=reg_ctor\n"));
}

static void test_def_handler_env_unknown(void **state)
{
	const struct tu_env env[] = {
		{"XENPOOL_DEFAULT_HANDLER", "no_such_handler"},
		{"XENPOOL_LOG", "notice"},
	};
	char out[4096], err[4096], line[64];

	(void)state;
	assert_int_equal(tu_run_self(CHILD_MODE, env, ARRAY_SIZE(env), out,
				     sizeof(out), err, sizeof(err)),
			 0);
	assert_non_null(strstr(out, "default=no_such_handler\n"));
	assert_null(strstr(out, "handler="));
	snprintf(line, sizeof(line), "errno=%d\n", ENOENT);
	assert_non_null(strstr(out, line));
	/* Creation says why it failed. */
	assert_non_null(strstr(err, "no_such_handler"));
}

static void test_user_handler(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();
	struct tu_count_stats st, st2;
	unsigned int calls = user_create.calls;
	struct xp_mempool *mp;
	void *objs[16];

	(void)state;
	mp = xp_mempool_create_ex("reg_user_pool", 16, 48, 0, 0, NULL, NULL, 0,
				  "reg_user", "depth=16");
	assert_non_null(mp);
	assert_int_equal(user_create.calls, calls + 1);
	assert_false(user_create.args_null);
	assert_string_equal(user_create.args, "depth=16");
	assert_string_equal(xp_mempool_handler_name(mp), "reg_user");
	assert_ptr_equal(xp_mempool_get_ops(mp),
			 xp_mempool_handler_lookup("reg_user"));
	assert_int_equal(mp->handler_idx, xp_mempool_handler_index("reg_user"));
	assert_int_equal(tu_count_held(mp), 16);
	st = tu_count_stats(mp);
	assert_int_equal(st.put_objs, 16);

	/* No cache: every get and put reaches the handler. */
	assert_int_equal(xp_mempool_get(mp, &objs[0]), 0);
	assert_int_equal(xp_mempool_get_bulk(mp, &objs[1], 3), 0);
	st2 = tu_count_stats(mp);
	assert_int_equal(st2.get_bulk, st.get_bulk + 2);
	assert_int_equal(st2.get_objs, st.get_objs + 4);
	assert_int_equal(tu_count_held(mp), 12);

	xp_mempool_put_bulk(mp, objs, 4);
	st = tu_count_stats(mp);
	assert_int_equal(st.put_bulk, st2.put_bulk + 1);
	assert_int_equal(st.put_objs, st2.put_objs + 4);

	/* avail_count asks the handler. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 5), 0);
	st = tu_count_stats(mp);
	assert_int_equal(xp_mempool_avail_count(mp), 11);
	st2 = tu_count_stats(mp);
	assert_true(st2.get_count > st.get_count);
	xp_mempool_put_bulk(mp, objs, 5);

	/* The handler's -ENOBUFS reaches the caller as the pool API's
	 * -ENOENT (DPDK's rte_mempool_get); nothing is taken. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 16), 0);
	st = tu_count_stats(mp);
	assert_int_equal(xp_mempool_get(mp, &objs[0]), -ENOENT);
	st2 = tu_count_stats(mp);
	assert_int_equal(st2.get_bulk, st.get_bulk + 1);
	assert_int_equal(st2.get_objs, st.get_objs);
	xp_mempool_put_bulk(mp, objs, 16);
	tu_check_all_free(mp);

	assert_int_equal(*tu_count_destroyed(), destroyed);
	xp_mempool_free(mp);
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
	assert_int_equal(user_create.calls, calls + 1);
	TU_ASSERT_NO_POOL("reg_user_pool");

	/* A failed create: its error, no destroy, no pool. */
	TU_ASSERT_NULL_ERRNO(xp_mempool_create_ex("reg_user_pool", 16, 48, 0,
						  0, NULL, NULL, 0, "reg_user",
						  "fail=5"),
			     5);
	assert_int_equal(user_create.calls, calls + 2);
	assert_string_equal(user_create.args, "fail=5");
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
	TU_ASSERT_NO_POOL("reg_user_pool");
}

#define MT_THREADS 8

struct mt_arg {
	pthread_barrier_t *start;
	char name[XP_MEMPOOL_NAMESIZE];
	int ret;
};

static void *mt_register(void *p)
{
	struct mt_arg *a = p;
	struct xp_mempool_ops ops = user_ops_named(a->name);

	pthread_barrier_wait(a->start);
	a->ret = xp_mempool_handler_register(&ops);
	return NULL;
}

/* Register a[i].name from MT_THREADS threads released at once. */
static void mt_run(struct mt_arg *a)
{
	pthread_t tid[MT_THREADS];
	pthread_barrier_t start;
	unsigned int i;

	assert_int_equal(pthread_barrier_init(&start, NULL, MT_THREADS), 0);
	for (i = 0; i < MT_THREADS; i++) {
		a[i].start = &start;
		assert_int_equal(pthread_create(&tid[i], NULL, mt_register,
						&a[i]),
				 0);
	}
	for (i = 0; i < MT_THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	pthread_barrier_destroy(&start);
}

static void test_register_mt_distinct(void **state)
{
	unsigned int before = handler_count();
	struct mt_arg a[MT_THREADS];
	unsigned int i, j;

	(void)state;
	memset(a, 0, sizeof(a));
	for (i = 0; i < MT_THREADS; i++)
		snprintf(a[i].name, sizeof(a[i].name), "reg_mt_%u", i);
	mt_run(a);
	for (i = 0; i < MT_THREADS; i++) {
		assert_true(a[i].ret >= 0);
		assert_int_equal(xp_mempool_handler_index(a[i].name), a[i].ret);
		for (j = 0; j < i; j++)
			assert_int_not_equal(a[i].ret, a[j].ret);
	}
	assert_int_equal(handler_count(), before + MT_THREADS);
}

static void test_register_mt_same(void **state)
{
	unsigned int before = handler_count();
	struct mt_arg a[MT_THREADS];
	unsigned int i, won = 0;

	(void)state;
	memset(a, 0, sizeof(a));
	for (i = 0; i < MT_THREADS; i++)
		strcpy(a[i].name, "reg_mt_same");
	mt_run(a);
	for (i = 0; i < MT_THREADS; i++) {
		if (a[i].ret < 0) {
			assert_int_equal(a[i].ret, -EEXIST);
			continue;
		}
		won++;
		assert_int_equal(xp_mempool_handler_index(a[i].name), a[i].ret);
	}
	assert_int_equal(won, 1);
	assert_int_equal(handler_count(), before + 1);
}

/* Last: it leaves no room in the registry. */
static void test_register_full(void **state)
{
	char name[XP_MEMPOOL_NAMESIZE];
	struct xp_mempool_ops ops;
	struct names s;
	unsigned int i, n;

	(void)state;
	for (i = 0, n = handler_count(); n < XP_MEMPOOL_MAX_HANDLERS;
	     i++, n++) {
		snprintf(name, sizeof(name), "reg_fill_%u", i);
		register_named(name);
	}
	collect(&s);
	assert_int_equal(s.n, XP_MEMPOOL_MAX_HANDLERS);
	assert_string_equal(s.name[s.n - 1], name);

	snprintf(name, sizeof(name), "reg_fill_%u", i);
	ops = user_ops_named(name);
	assert_register_fails(&ops, -ENOSPC);
	TU_ASSERT_NULL_ERRNO(xp_mempool_handler_lookup(name), ENOENT);
	assert_int_equal(xp_mempool_handler_index(name), -ENOENT);

	/* A full registry still serves its handlers. */
	pool_round_trip(s.name[s.n - 1]);
	pool_round_trip("ring_mp_mc");
}

static int group_setup(void **state)
{
	(void)state;
	return xp_mempool_handler_register(&user_ops) >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_default),
		cmocka_unit_test(test_ctor_registration),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_register_copies),
		cmocka_unit_test(test_register_valid_edges),
		cmocka_unit_test(test_register_einval),
		cmocka_unit_test(test_register_eexist),
		cmocka_unit_test(test_lookup_errors),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_def_handler),
		cmocka_unit_test(test_def_handler_env),
		cmocka_unit_test(test_def_handler_env_unknown),
		cmocka_unit_test(test_user_handler),
		cmocka_unit_test(test_register_mt_distinct),
		cmocka_unit_test(test_register_mt_same),
		cmocka_unit_test(test_register_full),
	};

	if (argc > 1 && strcmp(argv[1], CHILD_MODE) == 0)
		return child_default();
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
