/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A program linked against the static libxenpool.a (tests/local.mk links
 * this one with -static): the built-in handlers are registered, so is a
 * handler that a constructor of the program registers, and pools work.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

static const struct xp_mempool_ops static_ops =
	TU_COUNT_OPS_INIT("static_ctor", tu_count_create);
XP_MEMPOOL_REGISTER_HANDLER(static_ops)

/* Base address of the object (program or shared library) holding @addr. */
static void *object_base(const void *addr)
{
	Dl_info info;

	assert_int_not_equal(dladdr(addr, &info), 0);
	return info.dli_fbase;
}

/* Otherwise the other tests would prove nothing about static linking. */
static void test_linked_statically(void **state)
{
	(void)state;
	assert_ptr_equal(object_base((const void *)xp_version),
			 object_base((const void *)object_base));
	assert_ptr_equal(object_base((const void *)xp_mempool_handler_register),
			 object_base((const void *)object_base));
}

static void test_builtins(void **state)
{
	const char *const builtins[] = { TU_BUILTIN_HANDLERS };
	struct xp_mempool *mp;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(builtins); i++) {
		tu_lookup_ok(builtins[i]);
		mp = tu_mk_pool("static_builtin", 32, 64, 0, 0, builtins[i]);
		assert_string_equal(xp_mempool_handler_name(mp), builtins[i]);
		tu_check_all_free(mp);
		xp_mempool_free(mp);
	}
}

static void test_ctor_handler(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();
	const struct xp_mempool_ops *ops;
	struct xp_mempool *mp;

	(void)state;
	assert_int_equal(xp_mempool_handler_register_errors(), 0);
	ops = xp_mempool_handler_lookup("static_ctor");
	assert_non_null(ops);
	assert_ptr_equal(ops->create, tu_count_create);
	mp = tu_mk_pool("static_ctor_pool", 16, 40, 0, 0, "static_ctor");
	assert_string_equal(xp_mempool_handler_name(mp), "static_ctor");
	assert_int_equal(tu_count_held(mp), 16);
	tu_check_all_free(mp);
	assert_true(tu_count_stats(mp).get_bulk >= 1);
	xp_mempool_free(mp);
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
}

static void test_default_pool(void **state)
{
	struct xp_mempool *mp;
	void *objs[64], *extra;

	(void)state;
	assert_string_equal(xp_mempool_get_def_handler(),
			    tu_initial_def_handler());
	mp = xp_mempool_create("static_pool", 64, 32, 8, 0, NULL, NULL, 0);
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp),
			    xp_mempool_get_def_handler());
	assert_ptr_equal(xp_mempool_lookup("static_pool"), mp);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 64), 0);
	assert_int_equal(xp_mempool_avail_count(mp), 0);
	assert_int_equal(xp_mempool_get(mp, &extra), -ENOENT);
	xp_mempool_put_bulk(mp, objs, 64);
	assert_int_equal(xp_mempool_avail_count(mp), 64);
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
	TU_ASSERT_NO_POOL("static_pool");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linked_statically),
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_ctor_handler),
		cmocka_unit_test(test_default_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
