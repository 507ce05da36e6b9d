/* SPDX-License-Identifier: BSD-3-Clause */
/* The xen_dom0 handler's argument string: key=value,... parsed strictly. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "../src/number.h"

#define XPX_MAX_DOMID 0x7FEFu /* DOMID_FIRST_RESERVED - 1 */
#define XPX_MAX_REFS (1u << 24) /* 64 GiB of pages: far beyond any table */

enum key_bit {
	K_PEER = 1 << 0,
	K_WRITABLE = 1 << 1,
	K_MAP = 1 << 2,
	K_REFS = 1 << 3,
	K_FRAMES = 1 << 4,
	K_SELF = 1 << 5,
	K_BATCH = 1 << 6,
	K_MAX_PAGES = 1 << 7,
	K_PUBLISH = 1 << 8,
};

static int bad(const char *key, const char *val, const char *why)
{
	xp_log(XP_LOG_ERR, "xen_dom0: argument %s=%s: %s", key, val, why);
	return -EINVAL;
}

/* A decimal number in [min, max], nothing else. */
static int parse_uint(const char *key, const char *val, unsigned long min,
		      unsigned long max, unsigned long *out)
{
	uint64_t v;
	int ret = xp__parse_u64(val, min, max, &v);

	if (ret == -EINVAL)
		return bad(key, val, "not a number");
	if (ret != 0)
		return bad(key, val, "out of range");
	*out = (unsigned long)v;
	return 0;
}

static int parse_domid(const char *key, const char *val, uint32_t *out)
{
	unsigned long v;
	int ret = parse_uint(key, val, 0, XPX_MAX_DOMID, &v);

	if (ret == 0)
		*out = (uint32_t)v;
	return ret;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The same page mapped twice would put two objects in the same memory. */
static int check_unique(const char *key, const uint32_t *refs,
			unsigned int n)
{
	uint32_t *sorted = malloc(n * sizeof(*sorted));
	unsigned int i;
	int ret = 0;

	if (sorted == NULL)
		return -ENOMEM;
	memcpy(sorted, refs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	for (i = 1; i < n && ret == 0; i++)
		if (sorted[i] == sorted[i - 1]) {
			xp_log(XP_LOG_ERR,
			       "xen_dom0: argument %s: ref %u given twice", key,
			       sorted[i]);
			ret = -EINVAL;
		}
	free(sorted);
	return ret;
}

/*
 * The refs of @val: R1:R2:... inline (exactly one colon between refs), or
 * for @FILE the file's contents @list (colons, spaces, tabs or newlines,
 * any number).  Messages quote @val, not a file's contents.
 */
static int parse_ref_list(const char *key, const char *val, const char *list,
			  struct xpx_args *a)
{
	int from_file = val[0] == '@';
	const char *seps = from_file ? ": \t\r\n" : ":";
	const char *p = list;
	unsigned int cap = 0;
	uint32_t *refs = NULL, *grown;
	int ret = 0;

	while (ret == 0 && *p != '\0') {
		char num[16];
		size_t len = strcspn(p, seps);
		unsigned long v;

		if (len == 0) {
			if (!from_file) {
				ret = bad(key, val, "empty ref");
				break;
			}
			p++;
			continue;
		}
		if (len >= sizeof(num)) {
			ret = bad(key, val, "a ref is too long");
			break;
		}
		memcpy(num, p, len);
		num[len] = '\0';
		/* UINT32_MAX is no ref Xen hands out, and marks "no ref" in
		 * the pool's page table. */
		ret = parse_uint(key, num, 0, XPX_NO_REF - 1, &v);
		if (ret == 0 && a->nrefs == cap) {
			if (cap >= XPX_MAX_REFS) {
				ret = bad(key, "...", "too many refs");
				break;
			}
			cap = cap ? cap * 2 : 64;
			grown = realloc(refs, cap * sizeof(*refs));
			if (grown == NULL)
				ret = -ENOMEM;
			else
				refs = grown;
		}
		if (ret == 0)
			refs[a->nrefs++] = (uint32_t)v;
		p += len;
		/* Inline: a separator must be followed by a ref. */
		if (ret == 0 && !from_file && *p == ':' && *++p == '\0')
			ret = bad(key, val, "empty ref");
	}
	if (ret == 0 && a->nrefs == 0)
		ret = bad(key, val, "no refs");
	if (ret == 0)
		ret = check_unique(key, refs, a->nrefs);
	if (ret != 0) {
		free(refs);
		a->nrefs = 0;
		return ret;
	}
	a->refs = refs;
	return 0;
}

/*
 * refs=@FILE: a regular file only.  Opening a FIFO would block until a
 * writer came, and a device or a file in /proc has no size to read up to.
 */
static int parse_refs(const char *key, const char *val, struct xpx_args *a)
{
	struct stat st;
	size_t len, got = 0;
	char *buf;
	int fd, ret;

	if (val[0] != '@')
		return parse_ref_list(key, val, val, a);
	fd = open(val + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		xp_log(XP_LOG_ERR, "xen_dom0: argument %s=%s: %s", key, val,
		       strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bad(key, val, "not a regular file");
	}
	if (st.st_size > (1l << 24)) {
		close(fd);
		return bad(key, val, "above 16 MiB");
	}
	len = (size_t)st.st_size;
	buf = malloc(len + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != len) {
		free(buf);
		return bad(key, val, "short read");
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		free(buf);
		return bad(key, val, "the file holds a NUL byte");
	}
	ret = parse_ref_list(key, val, buf, a);
	free(buf);
	return ret;
}

static int parse_one(const char *key, const char *val, struct xpx_args *a,
		     unsigned int *seen)
{
	static const struct {
		const char *name;
		enum key_bit bit;
	} keys[] = {
		{"peer", K_PEER},     {"writable", K_WRITABLE},
		{"map", K_MAP},       {"refs", K_REFS},
		{"frames", K_FRAMES}, {"self", K_SELF},
		{"batch", K_BATCH},   {"max_pages", K_MAX_PAGES},
		{"publish", K_PUBLISH},
	};
	unsigned long v;
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i].name) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return bad(key, val, "unknown key");
	if (*seen & keys[i].bit)
		return bad(key, val, "given twice");
	*seen |= keys[i].bit;
	switch (keys[i].bit) {
	case K_PEER:
		return parse_domid(key, val, &a->peer);
	case K_WRITABLE:
		ret = parse_uint(key, val, 0, 1, &v);
		if (ret == 0)
			a->writable = (int)v;
		return ret;
	case K_MAP:
		a->map_mode = 1;
		return parse_domid(key, val, &a->map_domid);
	case K_REFS:
		return parse_refs(key, val, a);
	case K_FRAMES:
		a->frames_given = 1;
		if (strcmp(val, "gref") == 0)
			a->gref_frames = 1;
		else if (strcmp(val, "grant-table") != 0)
			return bad(key, val, "expected grant-table or gref");
		return 0;
	case K_SELF:
		a->have_self = 1;
		return parse_domid(key, val, &a->self);
	case K_BATCH:
		ret = parse_uint(key, val, 1, 1u << 20, &v);
		if (ret == 0)
			a->batch = (unsigned int)v;
		return ret;
	case K_MAX_PAGES:
		ret = parse_uint(key, val, 1, INT32_MAX, &v);
		if (ret == 0)
			a->max_pages = (unsigned int)v;
		return ret;
	case K_PUBLISH:
		if (*val == '\0')
			return bad(key, val, "empty file name");
		a->publish = strdup(val);
		return a->publish == NULL ? -ENOMEM : 0;
	}
	return bad(key, val, "unknown key");
}

static int check_combination(unsigned int seen)
{
	if ((seen & K_REFS) && !(seen & K_MAP))
		return bad("refs", "...", "needs map=DOMID");
	if ((seen & K_MAP) && !(seen & K_REFS))
		return bad("map", "...", "needs refs=...");
	if ((seen & K_MAP) && (seen & (K_PEER | K_PUBLISH | K_MAX_PAGES |
				       K_BATCH)))
		return bad("map", "...",
			   "peer, publish, batch and max_pages are for share "
			   "mode");
	/* Share mode reads this domain's own table through DOMID_SELF:
	 * Xen refuses the foreign mapping of a table that names the
	 * caller's own numeric id, so there is nothing for self= to say. */
	if ((seen & K_SELF) && !(seen & K_MAP))
		return bad("self", "...", "is for map mode");
	return 0;
}

int xpx_args_parse(const char *s, struct xpx_args *a)
{
	unsigned int seen = 0;
	char *copy, *item, *next;
	int ret = 0;

	memset(a, 0, sizeof(*a));
	a->writable = 1;
	a->batch = XPX_DEFAULT_BATCH;
	if (s == NULL || *s == '\0')
		return 0;
	copy = strdup(s);
	if (copy == NULL)
		return -ENOMEM;
	for (item = copy; ret == 0; item = next) {
		char *eq, *comma = strchr(item, ',');

		next = comma != NULL ? comma + 1 : NULL;
		if (comma != NULL)
			*comma = '\0';
		eq = strchr(item, '=');
		if (*item == '\0')
			ret = bad("(empty)", "", "empty item in the list");
		else if (eq == NULL)
			ret = bad(item, "", "expected key=value");
		else {
			*eq = '\0';
			ret = parse_one(item, eq + 1, a, &seen);
		}
		if (next == NULL)
			break;
	}
	free(copy);
	if (ret == 0)
		ret = check_combination(seen);
	if (ret != 0)
		xpx_args_free(a);
	return ret;
}

void xpx_args_free(struct xpx_args *a)
{
	free(a->refs);
	free(a->publish);
	a->refs = NULL;
	a->publish = NULL;
	a->nrefs = 0;
}
