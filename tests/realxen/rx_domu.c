/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The domU side of the cross-domain checks on real Xen (rx_dom0 cross is
 * the other side; tests/realxen/rxcross.h has the keys and the pattern).
 * It follows dom0's turns:
 *  A. dom0 shares a pool with us: map its refs (raw and as a map-mode
 *     xen_dom0 pool) and find dom0's bytes; keep them mapped while dom0
 *     frees its pool, then let go.
 *  B. share pools with dom0 (bus addresses as the handler decides here,
 *     and frames=gref): write the pattern, hand over the refs and every
 *     page's bus address; free them while dom0 still maps them.
 *  C. the hostile peer: map dom0's pools writable and scribble over every
 *     page until dom0 has run its traffic.
 * Prints "RX-DOMU PASS|FAIL step: why" lines on its console and writes
 * "result" = "PASS" or the first failure.  Finds its own domain id in
 * xenstore.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxcross.h"

#define WAIT 120 /* seconds for dom0's turn: emulated, and it does more */

static struct rxs rs;
static xengnttab_handle *gt;
static int failed;

static void say_result(const char *step, int ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say_result(const char *step, int ok, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	printf("RX-DOMU %s %s: %s\n", ok ? "PASS" : "FAIL", step, why);
	fflush(stdout);
	if (!ok && !failed) {
		failed = 1;
		rxs_say(&rs, "result", "FAIL %s: %s", step, why);
	}
}

static char *await(const char *key)
{
	char *v = rxs_await(&rs, key, WAIT);

	if (v == NULL)
		say_result(key, 0, "dom0 never wrote it");
	return v;
}

/* ---- A. dom0's pool, mapped here ------------------------------------ */

static int step_a(void)
{
	uint32_t *refs = NULL;
	struct xp_mempool *mp;
	char *bytes, *list, *args;
	long raw, seen;
	void *map = NULL;
	int n;

	n = rxs_await_refs(&rs, "a/refs", &refs, WAIT);
	bytes = await("a/bytes");
	if (n <= 0 || bytes == NULL)
		return -1;
	raw = rx_count_pattern(gt, 0, refs, (unsigned int)n, 1, &map);
	say_result("a-raw", raw == atol(bytes),
		   "%ld pattern bytes in %d pages mapped from dom0, %s sent",
		   raw, n, bytes);
	list = rx_ref_list(refs, (unsigned int)n);
	args = malloc(strlen(list) + 32);
	sprintf(args, "map=0,refs=%s", list);
	mp = xp_mempool_create_ex("rx_a", (unsigned int)n, 1000, 0, 0, NULL,
				  NULL, 0, XP_XEN_HANDLER, args);
	seen = mp != NULL ? rx_pool_pattern(mp) : -2;
	say_result("a-pool", seen > 0,
		   "map-mode pool of dom0's %d refs: %ld pattern bytes in "
		   "its objects (%s)",
		   n, seen, mp != NULL ? "created" : strerror(errno));
	rxs_say(&rs, "a/mapped", "1");
	/* dom0 frees its pool now; the grants must stay while we map. */
	free(await("a/freed"));
	if (map != NULL) {
		/* Still dom0's bytes after dom0 let go. */
		uint8_t b = ((uint8_t *)map)[100];

		say_result("a-after-free", b == 0 || b == rx_pat(refs[0], 100),
			   "page 0 still readable after dom0 freed its pool");
		xengnttab_unmap(gt, map, (unsigned int)n);
	}
	xp_mempool_free(mp);
	rxs_say(&rs, "a/unmapped", "1");
	free(refs);
	free(list);
	free(args);
	free(bytes);
	return 0;
}

/* ---- B. our pools, mapped by dom0 ----------------------------------- */

/* Pages holding objects: ref and bus address of each, as "R/B:R/B..." */
struct bus_list {
	char text[3500];
	size_t used;
	uint32_t last;
	int over;
};

static void bus_cb(struct xp_mempool *mp, void *arg, void *obj,
		   unsigned int idx)
{
	struct bus_list *l = arg;
	uint8_t *o = obj;
	size_t i;

	(void)idx;
	for (i = 0; i < mp->elt_size; i++) {
		uint32_t ref;

		if (i != 0 && ((uintptr_t)(o + i) & 4095) != 0)
			continue;
		if (xp_xen_virt2gref(mp, o + i, &ref) != 0 || ref == l->last)
			continue;
		l->last = ref;
		if (l->used + 32 >= sizeof(l->text)) {
			l->over = 1;
			return;
		}
		l->used += (size_t)sprintf(
			l->text + l->used, "%s%u/%llx", l->used ? ":" : "", ref,
			(unsigned long long)(xp_mempool_virt2phy(mp, o + i) &
					     ~4095ull));
	}
}

/* Share a pool with dom0, fill it, hand over refs and bus addresses. */
static struct xp_mempool *share_one(const char *name, const char *args,
				    const char *key)
{
	struct bus_list *bl = calloc(1, sizeof(*bl));
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	uint32_t *refs;
	char sub[64];
	long bytes;
	int n;

	mp = xp_mempool_create_ex(name, 40, 3000, 0, 0, NULL, NULL, 0,
				  XP_XEN_HANDLER, args);
	if (mp == NULL) {
		say_result(key, 0, "create '%s': %s", args, strerror(errno));
		free(bl);
		return NULL;
	}
	xp_xen_pool_info(mp, &info);
	bytes = rx_fill_pool(mp);
	n = xp_xen_pool_grefs(mp, NULL, 0);
	refs = calloc((size_t)n, sizeof(*refs));
	xp_xen_pool_grefs(mp, refs, (unsigned int)n);
	bl->last = UINT32_MAX;
	xp_mempool_obj_iter(mp, bus_cb, bl);
	say_result(key, bytes > 0 && !bl->over,
		   "%s: %d pages, bus addresses from %s, %ld bytes written",
		   args, n, info.gref_frames ? "grant refs" : "the grant table",
		   bytes);
	rxs_say_refs(&rs, key, refs, (unsigned int)n);
	snprintf(sub, sizeof(sub), "%s-bytes", key);
	rxs_say(&rs, sub, "%ld", bytes);
	snprintf(sub, sizeof(sub), "%s-gref", key);
	rxs_say(&rs, sub, "%d", info.gref_frames);
	snprintf(sub, sizeof(sub), "%s-bus", key);
	rxs_say(&rs, sub, "%s", bl->text);
	free(refs);
	free(bl);
	return mp;
}

static int step_b(void)
{
	struct xp_mempool *p1, *p2;

	p1 = share_one("rx_b1", "peer=0", "b1");
	p2 = share_one("rx_b2", "peer=0,frames=gref", "b2");
	rxs_say(&rs, "b/ready", "1");
	free(await("b/mapped"));
	/* Freed while dom0 maps them: dom0 checks our grants stay, then go
	 * once it lets go. */
	xp_mempool_free(p1);
	xp_mempool_free(p2);
	rxs_say(&rs, "b/freed", "1");
	free(await("b/done"));
	return 0;
}

/* ---- C. the hostile peer ------------------------------------------- */

static int step_c(void)
{
	uint64_t rng = 0x2545f4914f6cdd1dull, passes = 0;
	uint32_t *refs = NULL;
	char path[128];
	uint64_t *w;
	size_t i, words;
	char *stop = NULL;
	void *map;
	int n;

	n = rxs_await_refs(&rs, "c/refs", &refs, WAIT);
	if (n <= 0)
		return -1;
	map = xengnttab_map_domain_grant_refs(gt, (unsigned int)n, 0, refs,
					      PROT_READ | PROT_WRITE);
	if (map == NULL) {
		say_result("c-map", 0, "cannot map dom0's %d refs writable: %s",
			   n, strerror(errno));
		rxs_say(&rs, "c/scribbling", "0");
		return -1;
	}
	rxs_say(&rs, "c/scribbling", "1");
	w = map;
	words = (size_t)n * 4096 / sizeof(*w);
	/* Every page, over and over, until dom0 says stop. */
	snprintf(path, sizeof(path), "%s/c/stop", rs.base);
	while (stop == NULL) {
		unsigned int round;

		for (round = 0; round < 4; round++) {
			for (i = 0; i < words; i++) {
				rng ^= rng << 13;
				rng ^= rng >> 7;
				rng ^= rng << 17;
				w[i] = rng;
			}
			passes++;
		}
		stop = xs_read(rs.xs, XBT_NULL, path, NULL);
	}
	free(stop);
	xengnttab_unmap(gt, map, (unsigned int)n);
	say_result("c", passes > 0, "%llu passes over dom0's %d pages",
		   (unsigned long long)passes, n);
	rxs_say(&rs, "c/passes", "%llu", (unsigned long long)passes);
	free(refs);
	return 0;
}

/* What an unprivileged domain may do with libxenctrl (the shim's
 * XPSHIM_UNPRIVILEGED models it): reported, not judged. */
static void report_privilege(void)
{
	xc_interface *xch;
	int version, num = 0, e_open, e_ver, e_map;
	void *t = NULL;

	errno = 0;
	xch = xc_interface_open(NULL, NULL, 0);
	e_open = errno;
	if (xch == NULL) {
		printf("RX-DOMU info: xc_interface_open: %s\n",
		       strerror(e_open));
		return;
	}
	errno = 0;
	version = xc_gnttab_get_version(xch, DOMID_SELF);
	e_ver = errno;
	errno = 0;
	t = xc_gnttab_map_table_v1(xch, DOMID_SELF, &num);
	e_map = errno;
	printf("RX-DOMU info: xc_interface_open works; "
	       "xc_gnttab_get_version(DOMID_SELF) = %d (%s); "
	       "xc_gnttab_map_table_v1(DOMID_SELF) = %s (%s)\n",
	       version, strerror(e_ver), t != NULL ? "mapped" : "NULL",
	       strerror(e_map));
	if (t != NULL)
		munmap(t, (size_t)num * 8);
	xc_interface_close(xch);
}

int main(void)
{
	struct xs_handle *xs = xs_open(0);
	char *dom = xs != NULL ? xs_read(xs, XBT_NULL, "domid", NULL) : NULL;

	/* "domid", relative: our own entry in our home directory. */
	if (dom == NULL || rxs_open(&rs, (unsigned int)atoi(dom)) != 0) {
		printf("RX-DOMU FAIL setup: xenstore: %s\n",
		       xs == NULL ? "cannot open" : "no domid");
		return 1;
	}
	printf("RX-DOMU domain %s\n", dom);
	free(dom);
	xs_close(xs);
	gt = xengnttab_open(NULL, 0);
	if (gt == NULL) {
		say_result("setup", 0, "xengnttab_open: %s", strerror(errno));
		return 1;
	}
	report_privilege();
	rxs_say(&rs, "domu-up", "1");
	step_a();
	step_b();
	step_c();
	if (!failed)
		rxs_say(&rs, "result", "PASS");
	xengnttab_close(gt);
	rxs_close(&rs);
	return failed;
}
