/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging: level names and numbers, the threshold (set by call, or read from
 * XENPOOL_LOG on first use), delivery to a callback or to stderr, and the
 * library version string.
 *
 * What a fresh process takes from XENPOOL_LOG is checked by running this
 * program again with CHILD_MODE as its argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <xenpool/xenpool.h>

#include "testutil.h"

#define CHILD_MODE "--print-level"
#define CHILD_MODE_SET "--set-then-print-level"

static const struct {
	const char *name;
	int level;
} names[] = {
	{"none", XP_LOG_NONE},	     {"error", XP_LOG_ERR},
	{"warning", XP_LOG_WARNING}, {"notice", XP_LOG_NOTICE},
	{"info", XP_LOG_INFO},	     {"debug", XP_LOG_DEBUG},
};

static const int levels[] = {
	XP_LOG_ERR, XP_LOG_WARNING, XP_LOG_NOTICE, XP_LOG_INFO, XP_LOG_DEBUG,
};

/* Messages the callback got. */
struct record {
	unsigned int n;
	int level;
	char msg[256];
	void *arg;
};

static void record_cb(int level, const char *msg, void *arg)
{
	struct record *r = arg;

	r->n++;
	r->level = level;
	r->arg = arg;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static void vlog_wrapper(int level, const char *fmt, ...) XP_PRINTF(2, 3);

static void vlog_wrapper(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xp_vlog(level, fmt, ap);
	va_end(ap);
}

/* ---- capturing stderr and running this program again ---------------- */

/* Redirect fd 2 to a temporary file; returns the saved fd 2. */
static int stderr_capture(FILE **f)
{
	int saved;

	*f = tmpfile();
	assert_non_null(*f);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(*f), 2), 2);
	return saved;
}

/* Undo stderr_capture() and return what was written. */
static void stderr_release(int saved, FILE *f, char *buf, size_t size)
{
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	tu_slurp(f, buf, size);
}

/*
 * Run "<this program> @mode" with XENPOOL_LOG set to @env (NULL: unset);
 * return the level it prints and what it wrote to stderr.
 */
static int run_self(const char *mode, const char *env, char *err,
		    size_t errsz)
{
	const struct tu_env var = {"XENPOOL_LOG", env};
	char out[64];
	int level;

	assert_int_equal(tu_run_self(mode, &var, 1, out, sizeof(out), err,
				     errsz),
			 0);
	assert_int_equal(sscanf(out, "level=%d\n", &level), 1);
	return level;
}

/* ---- tests ----------------------------------------------------------- */

/* Must run first: nothing may have set the level yet. */
static void test_initial_level(void **state)
{
	const char *env = getenv("XENPOOL_LOG");
	int expect = XP_LOG_NOTICE;

	(void)state;
	/* The harness sets XENPOOL_LOG; a bad value is checked elsewhere. */
	if (env != NULL && xp_log_level_parse(env) >= XP_LOG_NONE)
		expect = xp_log_level_parse(env);
	assert_int_equal(xp_log_get_level(), expect);
}

static void test_parse_names(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		assert_int_equal(xp_log_level_parse(names[i].name),
				 names[i].level);
}

static void test_parse_numbers(void **state)
{
	char buf[8];
	int i;

	(void)state;
	for (i = -1; i <= 7; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		assert_int_equal(xp_log_level_parse(buf), i);
	}
}

static void test_parse_invalid(void **state)
{
	/* Blanks and '+', which strtol would skip, included. */
	const char *const bad[] = {
		"", "bogus", "8", "-2", "3x", "debugx", "no", "99999999999",
		" 5", "+5", "\t-1", "- 1", "-", "5 ", "--1", "+-1",
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(xp_log_level_parse(bad[i]), -EINVAL);
	assert_int_equal(xp_log_level_parse(NULL), -EINVAL);
}

static void test_set_level(void **state)
{
	const int bad[] = {-2, 8, INT_MIN, INT_MAX};
	unsigned int i;

	(void)state;
	assert_int_equal(xp_log_set_level(XP_LOG_NONE), 0);
	assert_int_equal(xp_log_get_level(), XP_LOG_NONE);
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		assert_int_equal(xp_log_set_level(levels[i]), 0);
		assert_int_equal(xp_log_get_level(), levels[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(xp_log_set_level(bad[i]), -EINVAL);
		assert_int_equal(xp_log_get_level(), XP_LOG_DEBUG);
	}
}

/* Thresholds 0-2 (syslog's emerg, alert, crit) are valid and lie above
 * anything xenpool logs, so they silence it like XP_LOG_NONE. */
static void test_set_level_gap(void **state)
{
	struct record r = {0};
	int level;

	(void)state;
	xp_log_set_callback(record_cb, &r);
	for (level = XP_LOG_NONE + 1; level < XP_LOG_ERR; level++) {
		assert_int_equal(xp_log_set_level(level), 0);
		assert_int_equal(xp_log_get_level(), level);
		xp_log(XP_LOG_ERR, "dropped at threshold %d", level);
		assert_int_equal(r.n, 0);
	}
	xp_log_set_callback(NULL, NULL);
	assert_int_equal(xp_log_set_level(XP_LOG_INFO), 0);
}

static void test_callback(void **state)
{
	struct record r = {0};
	char expect[16];
	unsigned int i;

	(void)state;
	assert_int_equal(xp_log_set_level(XP_LOG_DEBUG), 0);
	xp_log_set_callback(record_cb, &r);
	xp_log(XP_LOG_WARNING, "value %d of %s", 42, "x");
	assert_int_equal(r.n, 1);
	assert_int_equal(r.level, XP_LOG_WARNING);
	assert_string_equal(r.msg, "value 42 of x");
	assert_ptr_equal(r.arg, &r);

	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		snprintf(expect, sizeof(expect), "v%u", i);
		vlog_wrapper(levels[i], "v%u", i);
		assert_int_equal(r.n, i + 2);
		assert_int_equal(r.level, levels[i]);
		assert_string_equal(r.msg, expect);
	}
	xp_log_set_callback(NULL, NULL);
}

static void test_threshold(void **state)
{
	struct record r = {0};
	unsigned int t, i, expect = 0;

	(void)state;
	xp_log_set_callback(record_cb, &r);
	for (t = 0; t < ARRAY_SIZE(levels); t++) {
		assert_int_equal(xp_log_set_level(levels[t]), 0);
		for (i = 0; i < ARRAY_SIZE(levels); i++) {
			xp_log(levels[i], "t%u l%u", t, i);
			vlog_wrapper(levels[i], "t%u l%u", t, i);
			if (levels[i] <= levels[t])
				expect += 2;
			assert_int_equal(r.n, expect);
		}
	}
	xp_log_set_callback(NULL, NULL);
}

static void test_none(void **state)
{
	struct record r = {0};
	unsigned int i;

	(void)state;
	xp_log_set_callback(record_cb, &r);
	assert_int_equal(xp_log_set_level(XP_LOG_NONE), 0);
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		xp_log(levels[i], "dropped");
		vlog_wrapper(levels[i], "dropped");
	}
	assert_int_equal(r.n, 0);
	xp_log_set_callback(NULL, NULL);
}

/*
 * Messages at 0 to 2 (syslog's emerg, alert, crit) are more severe than
 * XP_LOG_ERR: emitted whenever the threshold is at or above them, so at
 * the default XP_LOG_NOTICE, and dropped at XP_LOG_NONE.
 */
static void test_severe_levels(void **state)
{
	static const int thresholds[] = {
		XP_LOG_NOTICE, XP_LOG_ERR, XP_LOG_DEBUG, 2, 1, 0, XP_LOG_NONE,
	};
	struct record r = {0};
	unsigned int t, expect = 0;
	int level;

	(void)state;
	xp_log_set_callback(record_cb, &r);
	for (t = 0; t < ARRAY_SIZE(thresholds); t++) {
		assert_int_equal(xp_log_set_level(thresholds[t]), 0);
		for (level = 0; level < XP_LOG_ERR; level++) {
			xp_log(level, "severe %d", level);
			vlog_wrapper(level, "severe %d", level);
			if (level <= thresholds[t]) {
				expect += 2;
				assert_int_equal(r.level, level);
			}
			assert_int_equal(r.n, expect);
		}
	}
	xp_log_set_callback(NULL, NULL);
}

/* Negative levels are not levels: dropped whatever the threshold. */
static void test_negative_levels(void **state)
{
	static const int bad[] = {XP_LOG_NONE, -2, -100, INT_MIN};
	struct record r = {0};
	unsigned int i;

	(void)state;
	xp_log_set_callback(record_cb, &r);
	assert_int_equal(xp_log_set_level(XP_LOG_DEBUG), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		xp_log(bad[i], "negative %d", bad[i]);
		vlog_wrapper(bad[i], "negative %d", bad[i]);
	}
	assert_int_equal(r.n, 0);
	xp_log(XP_LOG_ERR, "still delivered");
	assert_int_equal(r.n, 1);
	xp_log_set_callback(NULL, NULL);
}

static void test_stderr(void **state)
{
	struct record r = {0};
	char buf[1024];
	FILE *f;
	int saved;

	(void)state;
	assert_int_equal(xp_log_set_level(XP_LOG_NOTICE), 0);

	/* With a callback, nothing reaches stderr. */
	xp_log_set_callback(record_cb, &r);
	saved = stderr_capture(&f);
	xp_log(XP_LOG_ERR, "to the callback %d", 1);
	stderr_release(saved, f, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(r.n, 1);

	/* NULL restores stderr: one line per message. */
	xp_log_set_callback(NULL, NULL);
	saved = stderr_capture(&f);
	xp_log(XP_LOG_ERR, "to stderr %d", 2);
	vlog_wrapper(XP_LOG_NOTICE, "to stderr %d", 3);
	xp_log(XP_LOG_INFO, "above the threshold");
	stderr_release(saved, f, buf, sizeof(buf));
	assert_int_equal(r.n, 1);
	assert_non_null(strstr(buf, "to stderr 2\n"));
	assert_non_null(strstr(buf, "to stderr 3\n"));
	assert_true(strstr(buf, "to stderr 2\n") < strstr(buf, "to stderr 3"));
	assert_null(strstr(buf, "above the threshold"));
}

/*
 * A valid XENPOOL_LOG is taken without complaint (the child may log other
 * things at a verbose level, but never about the variable).
 */
static void test_env_level(void **state)
{
	char err[4096], num[8];
	unsigned int i;
	int level;

	(void)state;
	assert_int_equal(run_self(CHILD_MODE, NULL, err, sizeof(err)),
			 XP_LOG_NOTICE);
	assert_null(strstr(err, "XENPOOL_LOG"));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		assert_int_equal(run_self(CHILD_MODE, names[i].name, err,
					  sizeof(err)),
				 names[i].level);
		assert_null(strstr(err, "XENPOOL_LOG"));
	}
	for (level = XP_LOG_NONE; level <= XP_LOG_DEBUG; level++) {
		if (level > XP_LOG_NONE && level < XP_LOG_ERR)
			continue;
		snprintf(num, sizeof(num), "%d", level);
		assert_int_equal(run_self(CHILD_MODE, num, err, sizeof(err)),
				 level);
		assert_null(strstr(err, "XENPOOL_LOG"));
	}

	/* A level set before first use wins over the environment. */
	assert_int_equal(run_self(CHILD_MODE_SET, "debug", err, sizeof(err)),
			 XP_LOG_ERR);
}

static void test_env_level_bad(void **state)
{
	const char *const bad[] = {"bogus", "8", "3x", " 5", "+5"};
	char err[4096];
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(run_self(CHILD_MODE, bad[i], err, sizeof(err)),
				 XP_LOG_NOTICE);
		assert_non_null(strstr(err, "XENPOOL_LOG"));
	}
}

/* Read once: changing the variable later changes nothing. */
static void test_env_read_once(void **state)
{
	const char *env = getenv("XENPOOL_LOG");
	char *saved = env != NULL ? strdup(env) : NULL;
	int level = xp_log_get_level();

	(void)state;
	assert_true(env == NULL || saved != NULL);
	assert_int_equal(setenv("XENPOOL_LOG", level == XP_LOG_DEBUG ?
						       "error" : "debug", 1),
			 0);
	assert_int_equal(xp_log_get_level(), level);
	if (saved != NULL)
		setenv("XENPOOL_LOG", saved, 1);
	else
		unsetenv("XENPOOL_LOG");
	free(saved);
}

static void test_version(void **state)
{
	char expect[32];

	(void)state;
	snprintf(expect, sizeof(expect), "%d.%d.%d", XP_VERSION_MAJOR,
		 XP_VERSION_MINOR, XP_VERSION_PATCH);
	assert_non_null(xp_version());
	assert_string_equal(xp_version(), expect);
#ifdef PACKAGE_VERSION
	assert_string_equal(xp_version(), PACKAGE_VERSION);
#endif
}

/* CHILD_MODE and CHILD_MODE_SET: print the threshold. */
static int child_print_level(int set_first)
{
	if (set_first && xp_log_set_level(XP_LOG_ERR) != 0)
		return 1;
	printf("level=%d\n", xp_log_get_level());
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_level),
		cmocka_unit_test(test_env_read_once),
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_set_level),
		cmocka_unit_test(test_set_level_gap),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_severe_levels),
		cmocka_unit_test(test_negative_levels),
		cmocka_unit_test(test_stderr),
		cmocka_unit_test(test_env_level),
		cmocka_unit_test(test_env_level_bad),
		cmocka_unit_test(test_version),
	};

	if (argc > 1 && strcmp(argv[1], CHILD_MODE) == 0)
		return child_print_level(0);
	if (argc > 1 && strcmp(argv[1], CHILD_MODE_SET) == 0)
		return child_print_level(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
