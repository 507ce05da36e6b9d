/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the xen_dom0 handler's argument string, parsed by
 * xpx_args_parse() and released by xpx_args_free() (xen/args.c, compiled in
 * as it is).  Run by `make check-fuzz` (doc/building.md#fuzzing).
 *
 * Input: the argument string, then optionally a NUL byte and the contents
 * of a refs file.  Every '@' of the string becomes "@" and the path of that
 * file, so "refs=@" reads it, and "refs=@x" or "refs=@/../y" name files
 * that cannot exist (the path goes on from a regular file): the fuzzer can
 * reach no other file.
 *
 * Besides the sanitizers, the result must be one the handler can rely on:
 * on failure nothing allocated is left; on success every value is in its
 * documented range, map mode has refs and they are distinct, share mode
 * has no self=; a second parse gives the same; xpx_args_free() leaves
 * nothing and can be repeated.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096];
static char path[4096 + 8];
static int fd = -1;

static void sink(int level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

static void cleanup(void)
{
	close(fd);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/xp-fuzz-args.XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("fuzz_args: mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/refs", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror("fuzz_args: open");
		exit(1);
	}
	atexit(cleanup);
	/* Every message is formatted (the values are in them), none printed. */
	xp_log_set_callback(sink, NULL);
	xp_log_set_level(XP_LOG_DEBUG);
	return 0;
}

static void write_refs_file(const uint8_t *data, size_t size)
{
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz_args: writing the refs file");
		abort();
	}
}

/* The argument string with each '@' followed by the refs file's path. */
static char *expand(const uint8_t *data, size_t len)
{
	size_t plen = strlen(path), n = 0, i, out = 0;
	char *s;

	for (i = 0; i < len; i++)
		n += data[i] == '@' ? 1 + plen : 1;
	s = malloc(n + 1);
	if (s == NULL)
		abort();
	for (i = 0; i < len; i++) {
		s[out++] = (char)data[i];
		if (data[i] == '@') {
			memcpy(s + out, path, plen);
			out += plen;
		}
	}
	s[out] = '\0';
	return s;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void check_parsed(const struct xpx_args *a)
{
	uint32_t *sorted;
	unsigned int i;

	if (a->writable != 0 && a->writable != 1)
		abort();
	if (a->batch < 1 || a->batch > (1u << 20) || a->max_pages > INT32_MAX)
		abort();
	if (a->peer > 0x7FEF || (a->have_self && a->self > 0x7FEF))
		abort();
	if (a->publish != NULL &&
	    (*a->publish == '\0' || strchr(a->publish, ',') != NULL))
		abort();
	if (!a->map_mode) {
		if (a->refs != NULL || a->nrefs != 0 || a->have_self)
			abort();
		return;
	}
	if (a->map_domid > 0x7FEF || a->refs == NULL || a->nrefs == 0 ||
	    a->publish != NULL || a->peer != 0 || a->max_pages != 0 ||
	    a->batch != XPX_DEFAULT_BATCH)
		abort();
	sorted = malloc(a->nrefs * sizeof(*sorted));
	if (sorted == NULL)
		abort();
	memcpy(sorted, a->refs, a->nrefs * sizeof(*sorted));
	qsort(sorted, a->nrefs, sizeof(*sorted), cmp_u32);
	for (i = 1; i < a->nrefs; i++)
		if (sorted[i] == sorted[i - 1])
			abort();
	free(sorted);
}

static void check_freed(const struct xpx_args *a)
{
	if (a->refs != NULL || a->publish != NULL || a->nrefs != 0)
		abort();
}

/* Two parses of one string: the same result. */
static int same(const struct xpx_args *a, const struct xpx_args *b)
{
	return a->peer == b->peer && a->writable == b->writable &&
	       a->map_mode == b->map_mode && a->map_domid == b->map_domid &&
	       a->nrefs == b->nrefs &&
	       (a->nrefs == 0 ||
		memcmp(a->refs, b->refs, a->nrefs * sizeof(*a->refs)) == 0) &&
	       a->gref_frames == b->gref_frames &&
	       a->frames_given == b->frames_given &&
	       a->have_self == b->have_self && a->self == b->self &&
	       a->batch == b->batch && a->max_pages == b->max_pages &&
	       (a->publish == NULL) == (b->publish == NULL) &&
	       (a->publish == NULL || strcmp(a->publish, b->publish) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t len = nul != NULL ? (size_t)(nul - data) : size;
	struct xpx_args a, b;
	char *s;
	int ret;

	if (memchr(data, '@', len) != NULL) {
		if (nul != NULL)
			write_refs_file(nul + 1, size - len - 1);
		else
			write_refs_file(NULL, 0);
	}
	s = expand(data, len);
	ret = xpx_args_parse(s, &a);
	if (ret != 0) {
		if (ret != -EINVAL && ret != -ENOMEM)
			abort();
		check_freed(&a);
	} else {
		check_parsed(&a);
	}
	if (xpx_args_parse(s, &b) != ret || (ret == 0 && !same(&a, &b)))
		abort();
	xpx_args_free(&a);
	check_freed(&a);
	xpx_args_free(&a);
	xpx_args_free(&b);
	free(s);
	return 0;
}
