/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one strict number parser of the tree, header-only so that the
 * library, the driver, the CLI and the benchmark share it without
 * exporting it (they include it as "../src/number.h").  Never installed.
 */
#ifndef XENPOOL_SRC_NUMBER_H
#define XENPOOL_SRC_NUMBER_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * A decimal number in [min, max] and nothing else.  strtoull alone would
 * take leading blanks, a sign (and negate the value) and trailing text:
 * the first character must be a digit and the whole string a number.
 * Returns 0 with *out set, -EINVAL (not a decimal number, @s NULL) or
 * -ERANGE (a number outside [min, max]); *out is then unchanged.
 */
static inline int xp__parse_u64(const char *s, uint64_t min, uint64_t max,
				uint64_t *out)
{
	unsigned long long v;
	char *end;
	int saved = errno, range;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	range = errno == ERANGE;
	errno = saved;
	if (*end != '\0')
		return -EINVAL;
	if (range || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

#endif /* XENPOOL_SRC_NUMBER_H */
