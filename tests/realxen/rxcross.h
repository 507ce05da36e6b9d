/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the dom0 and domU sides of the cross-domain checks share: a few
 * xenstore keys to hand each other refs and to take turns, and the byte
 * pattern each side writes for the other to find.
 *
 * The keys live under /local/domain/<domU>/data/rx/, which the toolstack
 * makes writable by the domU; dom0 may write anywhere.  A turn is a key
 * written by one side and awaited by the other.  Header-only.
 */
#ifndef XP_TESTS_RXCROSS_H
#define XP_TESTS_RXCROSS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xengnttab.h>
#include <xenstore.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

struct rxs {
	struct xs_handle *xs;
	char base[64];
};

/* The key space of domU @domu. 0 or -1. */
static inline int rxs_open(struct rxs *s, unsigned int domu)
{
	s->xs = xs_open(0);
	snprintf(s->base, sizeof(s->base), "/local/domain/%u/data/rx", domu);
	return s->xs != NULL ? 0 : -1;
}

static inline void rxs_close(struct rxs *s)
{
	xs_close(s->xs);
}

/* Write @key; 0 or -1. */
static inline int rxs_say(struct rxs *s, const char *key, const char *fmt,
			  ...)
{
	char path[128], val[4096];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(val))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", s->base, key);
	if (xs_write(s->xs, XBT_NULL, path, val, (unsigned int)len))
		return 0;
	fprintf(stderr, "rxcross: xs_write %s (%d bytes): %s\n", path, len,
		strerror(errno));
	return -1;
}

/* The value of @key once it is written (malloc'd), or NULL after
 * @seconds, or as soon as the other side gave up: it wrote "result" (a
 * failure), or its domain is gone. */
static inline char *rxs_await(struct rxs *s, const char *key,
			      unsigned int seconds)
{
	char path[128], gone[160], result[128];
	unsigned int tries;

	snprintf(path, sizeof(path), "%s/%s", s->base, key);
	snprintf(result, sizeof(result), "%s/result", s->base);
	/* data/rx -> the domain's home, which goes with the domain. */
	snprintf(gone, sizeof(gone), "%.*s/domid",
		 (int)(strlen(s->base) - strlen("/data/rx")), s->base);
	for (tries = 0; tries < seconds * 20; tries++) {
		unsigned int len = 0;
		char *v = xs_read(s->xs, XBT_NULL, path, &len);

		if (v != NULL)
			return v;
		if (tries % 20 == 19 && strcmp(key, "result") != 0) {
			v = xs_read(s->xs, XBT_NULL, result, &len);
			if (v != NULL) {
				fprintf(stderr, "rxcross: waiting for %s, "
					"the other side ended: %s\n", key, v);
				free(v);
				return NULL;
			}
			v = xs_read(s->xs, XBT_NULL, gone, &len);
			if (v == NULL) {
				fprintf(stderr, "rxcross: waiting for %s: "
					"the domain is gone\n", key);
				return NULL;
			}
			free(v);
		}
		usleep(50000);
	}
	fprintf(stderr, "rxcross: no %s after %u s\n", path, seconds);
	return NULL;
}

/* Refs as "R1:R2:...", under keys @key-0, @key-1... (a xenstore value
 * holds 4096 bytes) and @key-n, the number of refs.  (Xenstore names are
 * letters, digits and "-/_@".) */
static inline int rxs_say_refs(struct rxs *s, const char *key,
			       const uint32_t *refs, unsigned int n)
{
	char sub[64], val[4000];
	unsigned int i = 0, part = 0;

	while (i < n) {
		size_t used = 0;

		for (; i < n && used + 12 < sizeof(val); i++)
			used += (size_t)snprintf(val + used,
						 sizeof(val) - used, "%s%u",
						 used ? ":" : "", refs[i]);
		snprintf(sub, sizeof(sub), "%s-%u", key, part++);
		if (rxs_say(s, sub, "%s", val) != 0)
			return -1;
	}
	snprintf(sub, sizeof(sub), "%s-n", key);
	return rxs_say(s, sub, "%u", n);
}

/* What rxs_say_refs() wrote: the count, refs in *@out (malloc'd); -1 on
 * timeout or a bad value. */
static inline int rxs_await_refs(struct rxs *s, const char *key,
				 uint32_t **out, unsigned int seconds)
{
	char sub[64], *v, *p, *end;
	unsigned int n, k = 0, part;
	uint32_t *refs;

	snprintf(sub, sizeof(sub), "%s-n", key);
	v = rxs_await(s, sub, seconds);
	if (v == NULL)
		return -1;
	n = (unsigned int)strtoul(v, NULL, 10);
	free(v);
	refs = calloc(n ? n : 1, sizeof(*refs));
	if (refs == NULL)
		return -1;
	for (part = 0; k < n; part++) {
		snprintf(sub, sizeof(sub), "%s-%u", key, part);
		v = rxs_await(s, sub, 1);
		if (v == NULL)
			break;
		for (p = v; k < n && *p != '\0'; p = end + (*end == ':')) {
			refs[k++] = (uint32_t)strtoul(p, &end, 10);
			if (end == p)
				break;
		}
		free(v);
	}
	if (k != n) {
		free(refs);
		return -1;
	}
	*out = refs;
	return (int)n;
}

/* "R1:R2:..." of @n refs, malloc'd: the handler's refs= argument. */
static inline char *rx_ref_list(const uint32_t *refs, unsigned int n)
{
	char *list = malloc((size_t)n * 11 + 1);
	size_t used = 0;
	unsigned int i;

	if (list == NULL)
		return NULL;
	list[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)sprintf(list + used, "%s%u", i ? ":" : "",
					refs[i]);
	return list;
}

/* The byte a side writes at offset @off of the page of grant ref @ref:
 * never 0, so that a page's untouched bytes tell themselves apart. */
static inline uint8_t rx_pat(uint32_t ref, uint32_t off)
{
	uint32_t x = ref * 2654435761u ^ (off + 1) * 40503u;

	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return (uint8_t)(x % 255 + 1);
}

/* ---- the pattern, through a pool and through a raw mapping --------- */

struct rx_fill {
	unsigned long bytes;
	int bad;
};

static inline void rx_fill_cb(struct xp_mempool *mp, void *arg, void *obj,
			      unsigned int idx)
{
	struct rx_fill *f = (struct rx_fill *)arg;
	uint8_t *o = (uint8_t *)obj;
	size_t i;
	uint32_t ref = 0;

	(void)idx;
	for (i = 0; i < mp->elt_size; i++) {
		uintptr_t a = (uintptr_t)(o + i);

		if ((i == 0 || (a & 4095) == 0) &&
		    xp_xen_virt2gref(mp, o + i, &ref) != 0) {
			f->bad++;
			return;
		}
		o[i] = rx_pat(ref, (uint32_t)(a & 4095));
	}
	f->bytes += mp->elt_size;
}

/* Write the pattern into every byte of every object of @mp; the bytes
 * written, or -1 if an address had no ref. */
static inline long rx_fill_pool(struct xp_mempool *mp)
{
	struct rx_fill f = {0, 0};

	xp_mempool_obj_iter(mp, rx_fill_cb, &f);
	return f.bad ? -1 : (long)f.bytes;
}

/* What the objects of a pool mapped from a peer hold. */
struct rx_seen {
	unsigned long match;
	unsigned long bad;
};

static inline void rx_seen_cb(struct xp_mempool *mp, void *arg, void *obj,
			      unsigned int idx)
{
	struct rx_seen *s = (struct rx_seen *)arg;
	const uint8_t *o = (const uint8_t *)obj;
	uint32_t ref = 0;
	size_t i;

	(void)idx;
	for (i = 0; i < mp->elt_size; i++) {
		uintptr_t a = (uintptr_t)(o + i);

		if ((i == 0 || (a & 4095) == 0) &&
		    xp_xen_virt2gref(mp, o + i, &ref) != 0) {
			s->bad++;
			return;
		}
		if (o[i] == rx_pat(ref, (uint32_t)(a & 4095)))
			s->match++;
		else if (o[i] != 0)
			s->bad++;
	}
}

/* Bytes of @mp's objects that hold the pattern; -1 if a byte holds
 * something else than the pattern or nothing (where the granter's objects
 * did not reach). */
static inline long rx_pool_pattern(struct xp_mempool *mp)
{
	struct rx_seen s = {0, 0};

	xp_mempool_obj_iter(mp, rx_seen_cb, &s);
	return s.bad ? -1 : (long)s.match;
}

/*
 * Map @n refs of @granter through gntdev and count the bytes that hold
 * the pattern; any other non-zero byte is an error.  The mapping stays in
 * *@map (unmap with xengnttab_unmap) when @map is not NULL.  The count, or
 * -errno.
 */
static inline long rx_count_pattern(xengnttab_handle *gt, uint32_t granter,
				    uint32_t *refs, unsigned int n,
				    int writable, void **map)
{
	uint8_t *p = (uint8_t *)xengnttab_map_domain_grant_refs(
		gt, n, granter, refs, PROT_READ | (writable ? PROT_WRITE : 0));
	unsigned long match = 0, bad = 0;
	unsigned int k, off;

	if (p == NULL)
		return -errno;
	for (k = 0; k < n; k++)
		for (off = 0; off < 4096; off++) {
			uint8_t b = p[(size_t)k * 4096 + off];

			if (b == rx_pat(refs[k], off))
				match++;
			else if (b != 0)
				bad++;
		}
	if (map != NULL)
		*map = p;
	else
		xengnttab_unmap(gt, p, n);
	return bad ? -EILSEQ : (long)match;
}

#endif /* XP_TESTS_RXCROSS_H */
