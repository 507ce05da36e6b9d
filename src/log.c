/* SPDX-License-Identifier: BSD-3-Clause */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/log.h>

#include "core.h"
#include "number.h"

#define XP_LOG_UNSET (-2)

static int log_level = XP_LOG_UNSET;
static xp_log_cb_t *log_cb;
static void *log_cb_arg;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name;
	int level;
} level_names[] = {
	{"none", XP_LOG_NONE},     {"error", XP_LOG_ERR},
	{"err", XP_LOG_ERR},       {"warning", XP_LOG_WARNING},
	{"warn", XP_LOG_WARNING},  {"notice", XP_LOG_NOTICE},
	{"info", XP_LOG_INFO},     {"debug", XP_LOG_DEBUG},
};

int xp_log_level_parse(const char *name)
{
	uint64_t v;
	size_t i;

	if (name == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i].name) == 0)
			return level_names[i].level;
	/* XP_LOG_NONE is the one negative level. */
	if (name[0] == '-')
		return xp__parse_u64(name + 1, 0, 1, &v) == 0 ? -(int)v
							       : -EINVAL;
	return xp__parse_u64(name, 0, XP_LOG_DEBUG, &v) == 0 ? (int)v
							      : -EINVAL;
}

int xp_log_set_level(int level)
{
	if (level < XP_LOG_NONE || level > XP_LOG_DEBUG)
		return -EINVAL;
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
	return 0;
}

int xp_log_get_level(void)
{
	int level = __atomic_load_n(&log_level, __ATOMIC_RELAXED);
	const char *env;

	if (level != XP_LOG_UNSET)
		return level;
	level = XP_LOG_NOTICE;
	env = getenv("XENPOOL_LOG");
	if (env != NULL && *env != '\0') {
		int parsed = xp_log_level_parse(env);

		if (parsed >= XP_LOG_NONE)
			level = parsed;
		else
			fprintf(stderr,
				"xenpool: XENPOOL_LOG=%s is not a level "
				"(none, error, warning, notice, info, debug "
				"or -1..7); using notice\n",
				env);
	}
	/* A concurrent xp_log_set_level() wins over the environment. */
	int expected = XP_LOG_UNSET;
	__atomic_compare_exchange_n(&log_level, &expected, level, 0,
				    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void xp_log_set_callback(xp_log_cb_t *cb, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_cb = cb;
	log_cb_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void xp_vlog(int level, const char *fmt, va_list ap)
{
	char msg[512];
	xp_log_cb_t *cb;
	void *arg;

	if (level < 0 || level > xp_log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&log_lock);
	cb = log_cb;
	arg = log_cb_arg;
	pthread_mutex_unlock(&log_lock);
	if (cb != NULL)
		cb(level, msg, arg);
	else
		fprintf(stderr, "xenpool: %s\n", msg);
}

void xp_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xp_vlog(level, fmt, ap);
	va_end(ap);
}

const char *xp_version(void)
{
	return PACKAGE_VERSION;
}
