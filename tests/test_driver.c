/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Handler drivers: examples/stack.c, built as a shared object, loaded
 * with xp_driver_load() and by the registry itself from XENPOOL_DRIVERS
 * (a file or a directory) when a pool, the default handler or the list of
 * handlers asks for it; and every error of xp_driver_load().
 *
 * The cases that need a fresh process (the registry loads its drivers
 * once) run this program again with an argument: "child-*".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

#ifndef STACK_DRIVER
#error "STACK_DRIVER: the path of the example driver (tests/local.mk)"
#endif

/* The directory of STACK_DRIVER. */
static void driver_dir(char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", STACK_DRIVER);
	slash = strrchr(buf, '/');
	assert_non_null(slash);
	*slash = '\0';
}

/* A pool on "stack" works: every object comes back. */
static void use_stack(const char *handler)
{
	struct xp_mempool *mp;

	mp = xp_mempool_create_ex("drv_pool", 500, 64, 16, 0, NULL, NULL, 0,
				  handler, NULL);
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), "stack");
	tu_check_all_free(mp);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_free(mp);
}

static void test_load_errors(void **state)
{
	(void)state;
	assert_int_equal(xp_driver_load(NULL), -EINVAL);
	assert_int_equal(xp_driver_load(""), -EINVAL);
	assert_int_equal(xp_driver_load("/nonexistent/xp-driver.so"),
			 -ENOENT);
	/* Not a shared object: the log says what dlopen said. */
	assert_int_equal(xp_driver_load("/dev/null"), -ELIBBAD);
	/* A directory without drivers loads none. */
	assert_int_equal(xp_driver_load("/"), 0);
	assert_int_equal(xp_mempool_handler_register_errors(), 0);
}

static void test_load_file(void **state)
{
	(void)state;
	assert_null(xp_mempool_handler_lookup("stack"));
	assert_int_equal(xp_driver_load(STACK_DRIVER), 1);
	assert_non_null(xp_mempool_handler_lookup("stack"));
	use_stack("stack");
	/* Loaded again: the same object, not a second registration. */
	assert_int_equal(xp_driver_load(STACK_DRIVER), 1);
	assert_int_equal(xp_mempool_handler_register_errors(), 0);
}

/* ---- the registry loads the drivers by itself (fresh processes) ----- */

static int count_cb(const struct xp_mempool_ops *ops, void *arg)
{
	if (strcmp(ops->name, "stack") == 0)
		(*(int *)arg)++;
	return 0;
}

/* Run "child-NAME" with XENPOOL_DRIVERS=@drivers and @more: exit 0. */
static void child(const char *name, const char *drivers,
		  const struct tu_env *more, unsigned int nmore, char *err,
		  size_t errsz)
{
	struct tu_env env[4] = {{"XENPOOL_DRIVERS", drivers}};
	char out[4096];
	unsigned int i;
	int st;

	for (i = 0; i < nmore; i++)
		env[1 + i] = more[i];
	st = tu_run_self(name, env, 1 + nmore, out, sizeof(out), err, errsz);
	if (st != 0)
		fail_msg("%s: exit status %d; stdout: %s; stderr: %s", name, st,
			 out, err);
}

static void test_autoload(void **state)
{
	static const struct tu_env def = {"XENPOOL_DEFAULT_HANDLER", "stack"};
	char dir[PATH_MAX], list[2 * PATH_MAX + 2], err[4096];

	(void)state;
	driver_dir(dir, sizeof(dir));
	child("child-by-name", STACK_DRIVER, NULL, 0, err, sizeof(err));
	child("child-by-name", dir, NULL, 0, err, sizeof(err));
	/* A list; an entry that does not exist is reported, not fatal. */
	snprintf(list, sizeof(list), "/nonexistent/xp:%s", dir);
	child("child-by-name", list, NULL, 0, err, sizeof(err));
	assert_non_null(strstr(err, "/nonexistent/xp"));
	child("child-walk", dir, NULL, 0, err, sizeof(err));
	child("child-default", dir, &def, 1, err, sizeof(err));
	/* Without the driver: unknown, and the message says how to load. */
	child("child-missing", "", NULL, 0, err, sizeof(err));
	assert_non_null(strstr(err, "XENPOOL_DRIVERS"));
	assert_non_null(strstr(err, "\"stack\""));
}

static int run_child(const char *what)
{
	struct xp_mempool *mp;
	int n = 0;

	if (strcmp(what, "child-by-name") == 0) {
		mp = xp_mempool_create_ex("drv_pool", 100, 64, 0, 0, NULL, NULL,
					  0, "stack", NULL);
		if (mp == NULL)
			return 1;
		n = strcmp(xp_mempool_handler_name(mp), "stack") != 0;
		xp_mempool_free(mp);
		return n;
	}
	if (strcmp(what, "child-walk") == 0) {
		xp_mempool_handler_walk(count_cb, &n);
		return n == 1 ? 0 : 1;
	}
	if (strcmp(what, "child-default") == 0) {
		mp = xp_mempool_create("drv_pool", 100, 64, 0, 0, NULL, NULL, 0);
		if (mp == NULL)
			return 1;
		n = strcmp(xp_mempool_handler_name(mp), "stack") != 0;
		xp_mempool_free(mp);
		return n;
	}
	if (strcmp(what, "child-missing") == 0) {
		errno = 0;
		mp = xp_mempool_create_ex("drv_pool", 100, 64, 0, 0, NULL, NULL,
					  0, "stack", NULL);
		return mp == NULL && errno == ENOENT ? 0 : 1;
	}
	return 2;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_autoload),
		cmocka_unit_test(test_load_file),
	};

	if (argc == 2)
		return run_child(argv[1]);
	/* This process's own registry must not find drivers by itself. */
	unsetenv("XENPOOL_DRIVERS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
