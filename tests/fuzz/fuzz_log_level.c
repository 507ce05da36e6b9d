/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: xp_log_level_parse() (src/log.c, compiled in as it is),
 * the parser of XENPOOL_LOG.  Run by `make check-fuzz`
 * (doc/building.md#fuzzing).
 *
 * The input, up to its first NUL byte, is the variable's value.  Besides
 * the sanitizers, the result is compared with the documented grammar: a
 * level name in any case, or a decimal number from -1 to 7 with nothing
 * around it (no blank, no '+'), as the project's other number parsers
 * accept.  A level parsed must also be one xp_log_set_level() takes.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/log.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name;
	int level;
} names[] = {
	{"none", XP_LOG_NONE},	   {"error", XP_LOG_ERR},
	{"err", XP_LOG_ERR},	   {"warning", XP_LOG_WARNING},
	{"warn", XP_LOG_WARNING},  {"notice", XP_LOG_NOTICE},
	{"info", XP_LOG_INFO},	   {"debug", XP_LOG_DEBUG},
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int same_name(const char *s, const char *name)
{
	while (*s != '\0' && lower((unsigned char)*s) == *name) {
		s++;
		name++;
	}
	return *s == '\0' && *name == '\0';
}

/* The grammar, written out independently of the library's parser. */
static int expected(const char *s)
{
	const char *p = s;
	int neg = 0;
	long v = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (same_name(s, names[i].name))
			return names[i].level;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (*p == '\0')
		return -EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (v < 100)
			v = v * 10 + (*p - '0');
	}
	v = neg ? -v : v;
	return v >= XP_LOG_NONE && v <= XP_LOG_DEBUG ? (int)v : -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul != NULL ? (size_t)(nul - data) : size;
	char *s = malloc(len + 1);
	int level;

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	level = xp_log_level_parse(s);
	if (level != expected(s))
		abort();
	if (level != -EINVAL &&
	    (xp_log_set_level(level) != 0 || xp_log_get_level() != level))
		abort();
	free(s);
	return 0;
}
