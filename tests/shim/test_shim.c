/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mock hypervisor shim, tested through the real Xen headers' functions
 * (this program links against the stand-ins) and the control API: share and
 * unshare, the gntalloc limit, a full table, refs from a LIFO free list,
 * unshare as munmap (pieces, pages moved with mremap, peer and gntdev views
 * of the same pages, pages the process unmapped itself), a peer mapping
 * that outlives unshare, read-only grants, map mode and its errors, a
 * domain's own numeric id against DOMID_SELF, grant-table snapshots (v1 and
 * v2), Xen absent, unprivileged, the libraries' error reports (to a logger,
 * or to stderr: tests that provoke failures with no logger print them),
 * fault injection on every shimmed function, frame contiguity and
 * numbering, the hostile peer, reset, the environment (also on first use,
 * in a child) and concurrent use.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <xenctrl.h>
#include <xengnttab.h>

#include "xpshim.h"

#define PAGE 4096u
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NO_FRAME ((uint64_t)-1)
#define SELF 0u
#define CHILD_MODE "--child-first-use"
#define RW (PROT_READ | PROT_WRITE)

/* Evaluate @expr once; it must yield NULL and set errno to @err. */
#define ASSERT_NULL_ERRNO(expr, err)                                          \
	do {                                                                  \
		errno = -12345;                                               \
		void *p_ = (void *)(expr);                                    \
		int e_ = errno;                                               \
		assert_null(p_);                                              \
		assert_int_equal(e_, (err));                                  \
	} while (0)

/* Evaluate @expr once; it must yield -1 and set errno to @err. */
#define ASSERT_FAIL_ERRNO(expr, err)                                          \
	do {                                                                  \
		errno = -12345;                                               \
		int r_ = (expr);                                              \
		int e_ = errno;                                               \
		assert_int_equal(r_, -1);                                     \
		assert_int_equal(e_, (err));                                  \
	} while (0)

/* ---- helpers ---------------------------------------------------------- */

static struct xpshim_config config(void)
{
	struct xpshim_config c;

	xpshim_default_config(&c);
	return c;
}

static void reset_default(void)
{
	struct xpshim_config c = config();

	xpshim_reset(&c);
}

static void assert_leaks(unsigned int refs, unsigned int shared,
			 unsigned int mapped, unsigned int handles,
			 unsigned int tables)
{
	struct xpshim_leaks l;

	xpshim_leaks(&l);
	assert_int_equal(l.refs, refs);
	assert_int_equal(l.shared, shared);
	assert_int_equal(l.mapped, mapped);
	assert_int_equal(l.handles, handles);
	assert_int_equal(l.tables, tables);
}

static void assert_leaks_same(const struct xpshim_leaks *before)
{
	struct xpshim_leaks now;

	xpshim_leaks(&now);
	assert_memory_equal(&now, before, sizeof(now));
}

static bool all_bytes(const void *p, size_t len, uint8_t v)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != v)
			return false;
	return true;
}

/* The permissions ("rw-s", ...) of the mapping holding @addr, "" if none. */
static void perms_of(const void *addr, char out[5])
{
	uintptr_t a = (uintptr_t)addr, lo, hi;
	char line[512], perms[5];
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi) {
			memcpy(out, perms, 5);
			break;
		}
	}
	fclose(f);
}

static uint64_t ref_frame(uint32_t granter, uint32_t ref)
{
	uint64_t frame = NO_FRAME;

	assert_int_equal(xpshim_ref_info(granter, ref, &frame, NULL, NULL), 0);
	return frame;
}

static int test_setup(void **state)
{
	(void)state;
	reset_default();
	return 0;
}

static int test_teardown(void **state)
{
	(void)state;
	xpshim_scribbler_stop();
	xpshim_fail_clear();
	return 0;
}

/* ---- share mode ------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct xpshim_config c = config();

	(void)state;
	assert_int_equal(c.self_domid, 0);
	assert_int_equal(c.limit, 1024);
	assert_int_equal(c.table_frames, 64);
	assert_int_equal(c.gnttab_version, 1);
	assert_int_equal(c.contig, XPSHIM_CONTIG_RANDOM);
	assert_int_equal(c.max_run, 16);
	assert_int_equal(c.seed, 1);
	assert_int_equal(c.hvm, 0);
	assert_int_equal(c.absent, XPSHIM_PRESENT);
	assert_int_equal(c.unprivileged, 0);
	assert_int_equal(c.log, 0);
	assert_int_equal(c.maps_text, 0);
}

static void test_share_unshare(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[4], grantee;
	unsigned int i, j;
	uint8_t *p;
	uint64_t frame;
	int ro, local;

	(void)state;
	assert_non_null(xgs);
	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(p);
	assert_true(all_bytes(p, 4 * PAGE, 0));
	memset(p, 0xa5, 4 * PAGE);
	for (i = 0; i < 4; i++) {
		assert_true(refs[i] >= 8);
		for (j = 0; j < i; j++)
			assert_int_not_equal(refs[i], refs[j]);
		assert_int_equal(xpshim_ref_info(SELF, refs[i], &frame,
						 &grantee, &ro),
				 0);
		assert_int_equal(grantee, 1);
		assert_int_equal(ro, 0);
		assert_int_equal(xpshim_frame_of(p + i * PAGE), frame);
		assert_int_equal(xpshim_frame_of(p + i * PAGE + PAGE - 1),
				 frame);
	}
	assert_int_equal(xpshim_frame_of(&local), NO_FRAME);
	assert_leaks(4, 4, 0, 1, 0);
	assert_int_equal(xpshim_calls("xengntshr_open"), 1);
	assert_int_equal(xpshim_calls("xengntshr_share_pages"), 1);
	assert_int_equal(xpshim_calls(NULL), 2);

	assert_int_equal(xengntshr_unshare(xgs, p, 4), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(xpshim_ref_info(SELF, refs[i], NULL, NULL,
						 NULL),
				 -ENOENT);
	assert_leaks(0, 0, 0, 1, 0);

	/* Fresh memory again, although the refs are reused. */
	p = xengntshr_share_pages(xgs, 1, 4, refs, 0);
	assert_non_null(p);
	assert_true(all_bytes(p, 4 * PAGE, 0));
	assert_int_equal(xpshim_ref_info(SELF, refs[0], NULL, NULL, &ro), 0);
	assert_int_equal(ro, 1);
	assert_int_equal(xengntshr_unshare(xgs, p, 4), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

static void test_share_errors(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengntshr_handle *stale = xengntshr_open(NULL, 0);
	struct xpshim_leaks before;
	uint32_t refs[3] = { 0, 0, 0 }, keep[3];
	uint8_t *p;

	(void)state;
	assert_int_equal(xengntshr_close(stale), 0);
	p = xengntshr_share_pages(xgs, 1, 3, keep, 1);
	assert_non_null(p);
	xpshim_leaks(&before);

	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, 0, refs, 1), EINVAL);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, -1, refs, 1), EINVAL);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 0x7FF1, 1, refs, 1),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(stale, 1, 1, refs, 1), EBADF);
	assert_true(all_bytes(refs, sizeof(refs), 0));

	/* Unshare is munmap: what munmap refuses. */
	ASSERT_FAIL_ERRNO(xengntshr_unshare(xgs, p, 0), EINVAL);
	ASSERT_FAIL_ERRNO(xengntshr_unshare(xgs, p + 1, 3), EINVAL);
	ASSERT_FAIL_ERRNO(xengntshr_unshare(xgs, p + PAGE - 1, 1), EINVAL);
	ASSERT_FAIL_ERRNO(xengntshr_close(stale), EBADF);
	assert_leaks_same(&before);
	assert_int_equal(xpshim_ref_info(SELF, keep[2], NULL, NULL, NULL), 0);

	/* Any handle will do, a closed one too; where nothing is mapped
	 * (any more), munmap succeeds and nothing changes. */
	assert_int_equal(xengntshr_unshare(stale, p, 3), 0);
	assert_leaks(0, 0, 0, 1, 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 3), 0);
	assert_leaks(0, 0, 0, 1, 0);
	assert_int_equal(xengntshr_close(NULL), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

static void test_limit(void **state)
{
	struct xpshim_config c = config();
	xengntshr_handle *a, *b;
	uint32_t refs[8];
	uint8_t *p, *q, *r;
	void *view;

	(void)state;
	c.limit = 8;
	xpshim_reset(&c);
	a = xengntshr_open(NULL, 0);
	b = xengntshr_open(NULL, 0);
	p = xengntshr_share_pages(a, 1, 5, refs, 1);
	assert_non_null(p);
	/* The limit counts the pages of every handle. */
	ASSERT_NULL_ERRNO(xengntshr_share_pages(b, 1, 4, refs, 1), ENOSPC);
	assert_leaks(5, 5, 0, 2, 0);
	q = xengntshr_share_pages(b, 1, 3, refs, 1);
	assert_non_null(q);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(a, 1, 1, refs, 1), ENOSPC);

	/* A page the peer still maps no longer counts once unshared. */
	assert_int_equal(xpshim_peer_map(1, SELF, refs[0], 1, &view), 0);
	assert_int_equal(xengntshr_unshare(b, q, 3), 0);
	r = xengntshr_share_pages(b, 1, 3, refs + 3, 1);
	assert_non_null(r);
	assert_leaks(9, 8, 0, 2, 0);
	assert_int_equal(xpshim_peer_unmap(1, SELF, refs[0]), 0);

	assert_int_equal(xengntshr_unshare(a, p, 5), 0);
	assert_int_equal(xengntshr_unshare(b, r, 3), 0);
	assert_int_equal(xengntshr_close(a), 0);
	assert_int_equal(xengntshr_close(b), 0);
	assert_true(xpshim_no_leaks());
}

/* A one-frame table holds 512 v1 or 256 v2 entries, 8 of them reserved. */
static void check_table_full(int version, unsigned int usable)
{
	struct xpshim_config c = config();
	uint32_t *refs = calloc(usable + 1, sizeof(*refs)), g;
	xengntshr_handle *xgs;
	unsigned int i;
	uint8_t *p;

	assert_non_null(refs);
	c.table_frames = 1;
	c.gnttab_version = version;
	c.limit = 4096;
	xpshim_reset(&c);
	xgs = xengntshr_open(NULL, 0);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, (int)usable + 1, refs,
						1),
			  ENOSPC);
	assert_leaks(0, 0, 0, 1, 0);
	p = xengntshr_share_pages(xgs, 1, (int)usable, refs, 1);
	assert_non_null(p);
	for (i = 0; i < usable; i++)
		assert_int_equal(refs[i], 8 + i);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, 1, refs, 1), ENOSPC);
	assert_int_equal(xengntshr_unshare(xgs, p, usable), 0);
	assert_int_equal(xengntshr_close(xgs), 0);

	/* A guest's table fills the same way. */
	assert_int_equal(xpshim_guest_grant(5, SELF, usable, 0, refs), 0);
	assert_int_equal(xpshim_guest_grant(5, SELF, 1, 0, &g), -ENOSPC);
	assert_int_equal(xpshim_guest_revoke(5, usable, refs), 0);
	assert_true(xpshim_no_leaks());
	free(refs);
}

static void test_table_full(void **state)
{
	(void)state;
	check_table_full(1, 504);
	check_table_full(2, 248);
}

static void test_peer_outlives_unshare(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[2];
	uint8_t *p, *v;
	void *other;

	(void)state;
	p = xengntshr_share_pages(xgs, 3, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(xpshim_peer_map(3, SELF, refs[0], 1, (void **)&v),
			 0);
	v[10] = 0x5a;
	assert_int_equal(p[10], 0x5a);
	p[20] = 0x33;
	assert_int_equal(v[20], 0x33);

	assert_int_equal(xpshim_peer_map(4, SELF, refs[0], 0, &other), -EPERM);
	assert_int_equal(xpshim_peer_map(3, SELF, 7, 0, &other), -ENOENT);
	assert_int_equal(xpshim_peer_map(3, SELF, 999, 0, &other), -ENOENT);
	assert_int_equal(xpshim_peer_map(3, SELF, refs[0], 0, NULL), -EINVAL);
	assert_int_equal(xpshim_peer_unmap(4, SELF, refs[0]), -ENOENT);

	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_leaks(1, 0, 0, 1, 0);
	assert_int_equal(xpshim_ref_info(SELF, refs[0], NULL, NULL, NULL), 0);
	assert_int_equal(xpshim_ref_info(SELF, refs[1], NULL, NULL, NULL),
			 -ENOENT);
	/* Still granted, still writable by the peer and by the scribbler. */
	v[0] = 0x44;
	assert_int_equal(v[0], 0x44);
	assert_int_equal(xpshim_scribble_all(0x11), 1);
	assert_true(all_bytes(v, PAGE, 0x11));

	assert_int_equal(xpshim_peer_unmap(3, SELF, refs[0]), 0);
	assert_int_equal(xpshim_ref_info(SELF, refs[0], NULL, NULL, NULL),
			 -ENOENT);
	assert_int_equal(xpshim_peer_unmap(3, SELF, refs[0]), -ENOENT);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

/* Refs come off a last-in-first-out free list, as from Linux's grant
 * allocator; a share releases its refs in ref order. */
static void test_refs_lifo(void **state)
{
	static const uint32_t again[8] = { 12, 11, 10, 9, 8, 13, 14, 15 };
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[8], g[3];
	unsigned int i;
	uint8_t *p, *q;
	void *v;

	(void)state;
	p = xengntshr_share_pages(xgs, 1, 5, refs, 1);
	assert_non_null(p);
	for (i = 0; i < 5; i++)
		assert_int_equal(refs[i], 8 + i);
	assert_int_equal(xengntshr_unshare(xgs, p, 5), 0);
	/* As measured on Linux: the released ones, last first, then fresh
	 * ones in ascending order. */
	p = xengntshr_share_pages(xgs, 1, 8, refs, 1);
	assert_non_null(p);
	assert_memory_equal(refs, again, sizeof(again));
	assert_int_equal(xengntshr_unshare(xgs, p, 8), 0);

	/* Whichever share goes last gives its refs out first. */
	p = xengntshr_share_pages(xgs, 1, 1, &refs[0], 1);
	q = xengntshr_share_pages(xgs, 1, 1, &refs[1], 1);
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal(refs[0], 15);
	assert_int_equal(refs[1], 14);
	assert_int_equal(xengntshr_unshare(xgs, q, 1), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 1), 0);
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(refs[0], 15);
	assert_int_equal(refs[1], 14);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);

	/* A ref the peer still maps goes back when the peer lets go. */
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(refs[0], 14);
	assert_int_equal(refs[1], 15);
	assert_int_equal(xpshim_peer_map(1, SELF, 15, 1, &v), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_int_equal(xpshim_peer_unmap(1, SELF, 15), 0);
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(refs[0], 15);
	assert_int_equal(refs[1], 14);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_int_equal(xengntshr_close(xgs), 0);

	/* A guest's table works the same way. */
	assert_int_equal(xpshim_guest_grant(5, SELF, 3, 0, g), 0);
	assert_int_equal(g[0], 8);
	assert_int_equal(g[1], 9);
	assert_int_equal(g[2], 10);
	assert_int_equal(xpshim_guest_revoke(5, 2, g), 0);
	assert_int_equal(xpshim_guest_grant(5, SELF, 2, 0, g), 0);
	assert_int_equal(g[0], 9);
	assert_int_equal(g[1], 8);
	assert_int_equal(xpshim_guest_grant(5, SELF, 1, 0, &refs[0]), 0);
	assert_int_equal(refs[0], 11);
	assert_int_equal(xpshim_guest_revoke(5, 2, g), 0);
	refs[1] = 10;
	assert_int_equal(xpshim_guest_revoke(5, 2, refs), 0);
	assert_true(xpshim_no_leaks());
}

/*
 * Unshare is munmap: gntalloc releases a share once every piece of its
 * mapping is gone, and not before (measured: 2 of 4 pages unmapped, the 4
 * entries stayed in use; the other 2 unmapped, all were released).
 */
static void test_unshare_pieces(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[4], again[4];
	unsigned int i;
	uint64_t f2;
	uint8_t *p;

	(void)state;
	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(p);
	f2 = ref_frame(SELF, refs[2]);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_leaks(4, 4, 0, 1, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(xpshim_ref_info(SELF, refs[i], NULL, NULL,
						 NULL),
				 0);
	assert_int_equal(xpshim_frame_of(p), NO_FRAME);
	assert_int_equal(xpshim_frame_of(p + 2 * PAGE), f2);
	p[2 * PAGE] = 1;
	/* Again: nothing is mapped there, nothing changes. */
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_leaks(4, 4, 0, 1, 0);

	/* A range wider than the rest of the share. */
	assert_int_equal(xengntshr_unshare(xgs, p + PAGE, 3), 0);
	assert_leaks(0, 0, 0, 1, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(xpshim_ref_info(SELF, refs[i], NULL, NULL,
						 NULL),
				 -ENOENT);
	/* Released in ref order: the last one comes back first. */
	p = xengntshr_share_pages(xgs, 1, 4, again, 1);
	assert_non_null(p);
	for (i = 0; i < 4; i++)
		assert_int_equal(again[i], refs[3 - i]);
	/* Pieces of two shares in one range. */
	assert_int_equal(xengntshr_unshare(xgs, p + PAGE, 2), 0);
	assert_leaks(4, 4, 0, 1, 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 4), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

/* An empty reservation of @n pages, for mremap to move pages into. */
static uint8_t *reserve(unsigned int n)
{
	void *z = mmap(NULL, (size_t)n * PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	assert_true(z != MAP_FAILED);
	return z;
}

/* Move page @from to @to (MREMAP_MAYMOVE | MREMAP_FIXED). */
static void move_page(uint8_t *from, uint8_t *to)
{
	assert_true(mremap(from, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
			   to) == (void *)to);
}

/*
 * The process moves single pages of a share elsewhere with mremap (real
 * gntalloc mappings allow it: grants keep their frames, data stays) and
 * unshares them where they are, in ranges that match no share call.
 */
static void check_unshare_moved(int maps_text)
{
	struct xpshim_config c = config();
	xengntshr_handle *xgs;
	uint32_t refs[4], again[4];
	uint64_t f[4];
	unsigned int i;
	uint8_t *p, *z;

	c.maps_text = maps_text;
	xpshim_reset(&c);
	xgs = xengntshr_open(NULL, 0);
	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(p);
	for (i = 0; i < 4; i++) {
		f[i] = ref_frame(SELF, refs[i]);
		memset(p + i * PAGE, (int)(i + 1), PAGE);
	}
	z = reserve(4);
	move_page(p + PAGE, z + 2 * PAGE);
	move_page(p + 3 * PAGE, z);
	assert_true(all_bytes(z + 2 * PAGE, PAGE, 2));
	assert_true(all_bytes(z, PAGE, 4));
	assert_int_equal(xpshim_frame_of(z + 2 * PAGE + 77), f[1]);
	assert_int_equal(xpshim_frame_of(z), f[3]);
	assert_int_equal(xpshim_frame_of(z + PAGE), NO_FRAME);
	assert_int_equal(xpshim_frame_of(p + PAGE), NO_FRAME);
	assert_int_equal(xpshim_frame_of(p + 2 * PAGE), f[2]);
	/* The hypervisor's view is the moved page's too. */
	assert_int_equal(xpshim_scribble_all(0x3c), 4);
	assert_true(all_bytes(z + 2 * PAGE, PAGE, 0x3c));

	assert_int_equal(xengntshr_unshare(xgs, p, 1), 0);
	assert_int_equal(xengntshr_unshare(xgs, p + 2 * PAGE, 2), 0);
	assert_leaks(4, 4, 0, 1, 0);
	assert_int_equal(xpshim_frame_of(z), f[3]);
	/* The last two pages, where they are now (and the reservation's
	 * holes around them). */
	assert_int_equal(xengntshr_unshare(xgs, z, 4), 0);
	assert_leaks(0, 0, 0, 1, 0);
	p = xengntshr_share_pages(xgs, 1, 4, again, 1);
	assert_non_null(p);
	for (i = 0; i < 4; i++)
		assert_int_equal(again[i], refs[3 - i]);
	assert_int_equal(xengntshr_unshare(xgs, p, 4), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

static void test_unshare_moved(void **state)
{
	(void)state;
	check_unshare_moved(0); /* PROCMAP_QUERY, where the kernel has it */
	check_unshare_moved(1); /* the text of /proc/self/maps */
}

/* A peer's view and a gntdev mapping of a share's page are the same arena
 * pages, but not the share's: unmapping them does not release it. */
static void test_unshare_foreign_views(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	uint32_t refs[2], own[2];
	uint8_t *p, *q, *m;
	void *v;

	(void)state;
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(xpshim_peer_map(1, SELF, refs[1], 1, &v), 0);
	assert_int_equal(xpshim_frame_of(v), NO_FRAME);
	assert_int_equal(xengntshr_unshare(xgs, p, 1), 0);
	assert_int_equal(xengntshr_unshare(xgs, v, 1), 0);
	assert_leaks(2, 2, 0, 2, 0);
	assert_int_equal(xpshim_frame_of(p + PAGE), ref_frame(SELF, refs[1]));
	assert_int_equal(xpshim_peer_unmap(1, SELF, refs[1]), 0);
	assert_int_equal(xengntshr_unshare(xgs, p + PAGE, 1), 0);
	assert_leaks(0, 0, 0, 2, 0);

	/* A domain maps its own grants through gntdev. */
	q = xengntshr_share_pages(xgs, SELF, 2, own, 1);
	assert_non_null(q);
	m = xengnttab_map_domain_grant_refs(xgt, 1, SELF, &own[1], RW);
	assert_non_null(m);
	assert_int_equal(xengntshr_unshare(xgs, q, 1), 0);
	assert_int_equal(xengntshr_unshare(xgs, m, 1), 0);
	assert_leaks(2, 2, 1, 2, 0);
	assert_int_equal(xengnttab_unmap(xgt, m, 1), 0);
	assert_int_equal(xengntshr_unshare(xgs, q + PAGE, 1), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_true(xpshim_no_leaks());
}

/* Unshare is munmap, and so is munmap: the shim notices pages the process
 * unmapped itself when it counts leaks, or before refusing a share. */
static void test_unmapped_by_process(void **state)
{
	struct xpshim_config c = config();
	xengntshr_handle *xgs;
	uint32_t refs[4];
	uint8_t *p, *q;

	(void)state;
	c.limit = 4;
	xpshim_reset(&c);
	xgs = xengntshr_open(NULL, 0);
	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(p);
	assert_int_equal(munmap(p, 2 * PAGE), 0);
	assert_leaks(4, 4, 0, 1, 0);
	assert_int_equal(munmap(p + 2 * PAGE, 2 * PAGE), 0);
	assert_leaks(0, 0, 0, 1, 0);

	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(p);
	assert_int_equal(munmap(p, 4 * PAGE), 0);
	q = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	assert_non_null(q);
	assert_int_equal(xengntshr_unshare(xgs, q, 4), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

static void test_readonly(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	uint32_t ref, g[2];
	uint8_t *p, *v, *m;
	char perms[5];
	int ro;

	(void)state;
	p = xengntshr_share_pages(xgs, 2, 1, &ref, 0);
	assert_non_null(p);
	assert_int_equal(xpshim_ref_info(SELF, ref, NULL, NULL, &ro), 0);
	assert_int_equal(ro, 1);
	p[0] = 7; /* the granter's own mapping stays writable */
	assert_int_equal(xpshim_peer_map(2, SELF, ref, 1, (void **)&v),
			 -EPERM);
	assert_int_equal(xpshim_peer_map(2, SELF, ref, 0, (void **)&v), 0);
	assert_int_equal(v[0], 7);
	perms_of(v, perms);
	assert_string_equal(perms, "r--s");
	assert_int_equal(xpshim_scribble_all(0xee), 0);
	assert_true(all_bytes(p + 1, PAGE - 1, 0));
	assert_int_equal(p[0], 7);
	assert_int_equal(xpshim_peer_unmap(2, SELF, ref), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 1), 0);

	/* Map mode: a guest's read-only grant is mapped read-only or not. */
	assert_int_equal(xpshim_guest_grant(5, SELF, 2, 1, g), 0);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 2, 5, g, RW),
			  EINVAL);
	assert_leaks(2, 0, 0, 2, 0);
	m = xengnttab_map_domain_grant_refs(xgt, 2, 5, g, PROT_READ);
	assert_non_null(m);
	perms_of(m, perms);
	assert_string_equal(perms, "r--s");
	perms_of(m + PAGE, perms);
	assert_string_equal(perms, "r--s");
	assert_int_equal(xpshim_scribble_all(0xee), 0);
	assert_true(all_bytes(m, 2 * PAGE, 0));
	assert_int_equal(xengnttab_unmap(xgt, m, 2), 0);
	assert_int_equal(xpshim_guest_revoke(5, 2, g), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

/* ---- map mode --------------------------------------------------------- */

static void test_map_mode(void **state)
{
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	xengnttab_handle *other = xengnttab_open(NULL, 0);
	uint32_t g[4], h, bad[2], doms[2], twice[2], grantee;
	struct xpshim_leaks before;
	uint8_t *p, *q, *r;
	unsigned int i;
	int ro;

	(void)state;
	assert_int_equal(xpshim_guest_grant(5, SELF, 4, 0, g), 0);
	assert_int_equal(xpshim_guest_grant(6, 9, 1, 0, &h), 0);
	assert_int_equal(xpshim_ref_info(5, g[0], NULL, &grantee, &ro), 0);
	assert_int_equal(grantee, SELF);
	assert_int_equal(ro, 0);
	assert_int_equal(xengnttab_set_max_grants(xgt, 16), 0);

	p = xengnttab_map_domain_grant_refs(xgt, 4, 5, g, RW);
	assert_non_null(p);
	assert_true(all_bytes(p, 4 * PAGE, 0));
	for (i = 0; i < 4; i++)
		assert_int_equal(xpshim_frame_of(p + i * PAGE + 5),
				 ref_frame(5, g[i]));
	/* The guest's (hypervisor's) view and ours are the same memory. */
	assert_int_equal(xpshim_scribble_all(0xab), 5);
	assert_true(all_bytes(p, 4 * PAGE, 0xab));
	assert_int_equal(xpshim_guest_revoke(5, 4, g), -EBUSY);
	assert_leaks(5, 0, 4, 2, 0);

	xpshim_leaks(&before);
	/* As gntdev's mmap on real Xen, every refusal is EINVAL: a reserved
	 * ref, a free one, one beyond the table, a domain that granted
	 * nothing, a ref granted to another domain, DOMID_SELF. */
	bad[0] = g[0];
	bad[1] = 7;
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 2, 5, bad, RW),
			  EINVAL);
	bad[1] = 600;
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 2, 5, bad, RW),
			  EINVAL);
	bad[1] = 64 * 512;
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 2, 5, bad, RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 1, 7, g, RW),
			  EINVAL);
	doms[0] = 5;
	doms[1] = 6;
	bad[1] = h;
	ASSERT_NULL_ERRNO(xengnttab_map_grant_refs(xgt, 2, doms, bad, RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_grant_ref(xgt, XPSHIM_DOMID_SELF, g[0],
						  RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 0, 5, g, RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 1, 0x7FF5, g,
							  RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 1, 5, g,
							  PROT_EXEC),
			  EINVAL);
	assert_leaks_same(&before);

	doms[1] = 5;
	q = xengnttab_map_grant_refs(xgt, 2, doms, g + 2, RW);
	assert_non_null(q);
	p[2 * PAGE] = 0x77;
	assert_int_equal(q[0], 0x77);
	r = xengnttab_map_grant_ref(xgt, 5, g[1], PROT_READ);
	assert_non_null(r);
	p[PAGE + 1] = 0x66;
	assert_int_equal(r[1], 0x66);
	assert_leaks(5, 0, 7, 2, 0);

	ASSERT_FAIL_ERRNO(xengnttab_unmap(xgt, q, 1), EINVAL);
	ASSERT_FAIL_ERRNO(xengnttab_unmap(xgt, q, 3), EINVAL);
	ASSERT_FAIL_ERRNO(xengnttab_unmap(xgt, q + PAGE, 1), EINVAL);
	ASSERT_FAIL_ERRNO(xengnttab_unmap(other, q, 2), EINVAL);
	assert_leaks(5, 0, 7, 2, 0);
	assert_int_equal(xengnttab_unmap(xgt, q, 2), 0);
	ASSERT_FAIL_ERRNO(xengnttab_unmap(xgt, q, 2), EINVAL);
	assert_int_equal(xengnttab_unmap(xgt, r, 1), 0);
	assert_int_equal(xengnttab_unmap(xgt, p, 4), 0);

	twice[0] = twice[1] = g[0];
	assert_int_equal(xpshim_guest_revoke(5, 2, twice), -ENOENT);
	assert_int_equal(xpshim_ref_info(5, g[0], NULL, NULL, NULL), 0);
	assert_int_equal(xpshim_guest_revoke(5, 4, g), 0);
	assert_int_equal(xpshim_guest_revoke(5, 4, g), -ENOENT);
	assert_int_equal(xpshim_guest_revoke(6, 1, &h), 0);
	assert_int_equal(xengnttab_close(other), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_true(xpshim_no_leaks());
}

/*
 * Real Xen refuses a foreign mapping that names the caller by its number,
 * so a domain reads its own table under DOMID_SELF; gntdev, on the
 * contrary, maps a domain's own grants by its number and refuses
 * DOMID_SELF.
 */
static void test_own_domid(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	grant_entry_v1_t *t;
	uint32_t own[2], other;
	uint8_t *p, *q, *m;
	int n = -1;

	(void)state;
	p = xengntshr_share_pages(xgs, SELF, 2, own, 1);
	q = xengntshr_share_pages(xgs, 1, 1, &other, 1);
	assert_non_null(p);
	assert_non_null(q);

	assert_int_equal(xc_gnttab_get_version(xch, SELF), 1);
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v1(xch, SELF, &n), ESRCH);
	assert_int_equal(n, 64 * 512);
	t = xc_gnttab_map_table_v1(xch, XPSHIM_DOMID_SELF, &n);
	assert_non_null(t);
	assert_int_equal(t[own[0]].domid, SELF);
	assert_int_equal(t[other].domid, 1);
	assert_int_equal(munmap(t, 64 * PAGE), 0);

	m = xengnttab_map_domain_grant_refs(xgt, 2, SELF, own, RW);
	assert_non_null(m);
	p[PAGE + 9] = 0x42;
	assert_int_equal(m[PAGE + 9], 0x42);
	assert_int_equal(xpshim_frame_of(m), ref_frame(SELF, own[0]));
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(
				  xgt, 2, XPSHIM_DOMID_SELF, own, RW),
			  EINVAL);
	ASSERT_NULL_ERRNO(xengnttab_map_grant_ref(xgt, XPSHIM_DOMID_SELF,
						  own[0], PROT_READ),
			  EINVAL);
	/* Granted to domain 1, not to us. */
	ASSERT_NULL_ERRNO(xengnttab_map_grant_ref(xgt, SELF, other, PROT_READ),
			  EINVAL);
	assert_leaks(3, 3, 2, 3, 0);

	assert_int_equal(xengnttab_unmap(xgt, m, 2), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_int_equal(xengntshr_unshare(xgs, q, 1), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_int_equal(xc_interface_close(xch), 0);
	assert_true(xpshim_no_leaks());
}

/* A handle closed with mappings leaves them: leaked until reset. */
static void test_close_leaves_mappings(void **state)
{
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	uint32_t g;
	void *p;

	(void)state;
	assert_int_equal(xpshim_guest_grant(5, SELF, 1, 0, &g), 0);
	p = xengnttab_map_domain_grant_refs(xgt, 1, 5, &g, RW);
	assert_non_null(p);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_leaks(1, 0, 1, 0, 0);
	ASSERT_FAIL_ERRNO(xengnttab_unmap(xgt, p, 1), EINVAL);
	assert_int_equal(xpshim_guest_revoke(5, 1, &g), -EBUSY);
	assert_false(xpshim_no_leaks());
	reset_default();
	assert_true(xpshim_no_leaks());
}

/* ---- libxenctrl ------------------------------------------------------- */

static void test_table_v1(void **state)
{
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	struct gnttab_query_size q = { .dom = SELF };
	grant_entry_v1_t *t, *t2;
	uint32_t refs[3], ro_ref;
	uint8_t *p, *pr;
	char perms[5];
	unsigned int i;
	int n = 0;

	(void)state;
	assert_non_null(xch);
	assert_int_equal(xc_gnttab_get_version(xch, SELF), 1);
	assert_int_equal(xc_gnttab_get_version(xch, XPSHIM_DOMID_SELF), 1);
	ASSERT_FAIL_ERRNO(xc_gnttab_get_version(xch, 0x7FF5), EINVAL);
	assert_int_equal(xc_gnttab_query_size(xch, &q), 0);
	assert_int_equal(q.nr_frames, 64);
	assert_int_equal(q.max_nr_frames, 64);
	assert_int_equal(q.status, GNTST_okay);

	p = xengntshr_share_pages(xgs, 4, 3, refs, 1);
	pr = xengntshr_share_pages(xgs, 5, 1, &ro_ref, 0);
	assert_non_null(p);
	assert_non_null(pr);
	/* Xen refuses a foreign mapping of our own number; libxenctrl has
	 * set the count by then. */
	n = -1;
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v1(xch, SELF, &n), ESRCH);
	assert_int_equal(n, 64 * 512);
	assert_leaks(4, 4, 0, 2, 0);
	n = 0;
	t = xc_gnttab_map_table_v1(xch, XPSHIM_DOMID_SELF, &n);
	assert_non_null(t);
	assert_int_equal(n, 64 * 512);
	for (i = 0; i < 3; i++) {
		assert_int_equal(t[refs[i]].flags, GTF_permit_access);
		assert_int_equal(t[refs[i]].domid, 4);
		assert_int_equal(t[refs[i]].frame, ref_frame(SELF, refs[i]));
	}
	assert_int_equal(t[ro_ref].flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(t[ro_ref].domid, 5);
	assert_int_equal(t[ro_ref].frame, ref_frame(SELF, ro_ref));
	for (i = 0; i < 8; i++)
		assert_int_equal(t[i].flags, 0);
	assert_int_equal(t[ro_ref + 1].flags, 0);
	perms_of(t, perms);
	assert_string_equal(perms, "r--s");
	assert_leaks(4, 4, 0, 2, 1);

	/* A snapshot: later changes do not show in it, a new one has them. */
	assert_int_equal(xengntshr_unshare(xgs, pr, 1), 0);
	assert_int_equal(t[ro_ref].flags, GTF_permit_access | GTF_readonly);
	t2 = xc_gnttab_map_table_v1(xch, XPSHIM_DOMID_SELF, &n);
	assert_non_null(t2);
	assert_int_equal(t2[ro_ref].flags, 0);
	assert_leaks(3, 3, 0, 2, 2);
	assert_int_equal(munmap(t, 64 * PAGE), 0);
	assert_leaks(3, 3, 0, 2, 1);
	/* Half unmapped is still mapped. */
	assert_int_equal(munmap(t2, 32 * PAGE), 0);
	assert_leaks(3, 3, 0, 2, 1);
	assert_int_equal(munmap(t2, 64 * PAGE), 0);
	assert_leaks(3, 3, 0, 2, 0);

	/* The other version fails first, count untouched. */
	n = -1;
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v2(xch, XPSHIM_DOMID_SELF, &n),
			  EINVAL);
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v2(xch, SELF, &n), EINVAL);
	assert_int_equal(n, -1);
	assert_leaks(3, 3, 0, 2, 0);

	assert_int_equal(xengntshr_unshare(xgs, p, 3), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xc_interface_close(xch), 0);
	ASSERT_FAIL_ERRNO(xc_gnttab_get_version(xch, SELF), EBADF);
	ASSERT_FAIL_ERRNO(xc_interface_close(xch), EBADF);
	assert_int_equal(xc_interface_close(NULL), 0);
	assert_true(xpshim_no_leaks());
}

static void test_table_v2(void **state)
{
	struct xpshim_config c = config();
	xc_interface *xch;
	xengntshr_handle *xgs;
	grant_entry_v2_t *t;
	uint32_t refs[2], g;
	unsigned int i;
	uint8_t *p;
	int n = 0;

	(void)state;
	c.gnttab_version = 2;
	c.self_domid = 3;
	xpshim_reset(&c);
	xch = xc_interface_open(NULL, NULL, 0);
	xgs = xengntshr_open(NULL, 0);
	assert_int_equal(xc_gnttab_get_version(xch, XPSHIM_DOMID_SELF), 2);
	p = xengntshr_share_pages(xgs, 0, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(xpshim_ref_info(XPSHIM_DOMID_SELF, refs[0], NULL,
					 NULL, NULL),
			 0);
	assert_int_equal(xpshim_ref_info(0, refs[0], NULL, NULL, NULL),
			 -ENOENT);
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v1(xch, 3, &n), EINVAL);
	ASSERT_NULL_ERRNO(xc_gnttab_map_table_v2(xch, 3, &n), ESRCH);
	assert_int_equal(xc_gnttab_get_version(xch, 3), 2);

	t = xc_gnttab_map_table_v2(xch, XPSHIM_DOMID_SELF, &n);
	assert_non_null(t);
	assert_int_equal(n, 64 * 512); /* v1-sized count, as libxenctrl */
	for (i = 0; i < 2; i++) {
		assert_int_equal(t[refs[i]].full_page.hdr.flags,
				 GTF_permit_access);
		assert_int_equal(t[refs[i]].hdr.domid, 0);
		assert_int_equal(t[refs[i]].full_page.frame,
				 ref_frame(3, refs[i]));
	}
	assert_int_equal(munmap(t, 64 * PAGE), 0);

	/* A guest's table, granting read-only to us. */
	assert_int_equal(xpshim_guest_grant(7, XPSHIM_DOMID_SELF, 1, 1, &g), 0);
	t = xc_gnttab_map_table_v2(xch, 7, &n);
	assert_non_null(t);
	assert_int_equal(t[g].hdr.flags, GTF_permit_access | GTF_readonly);
	assert_int_equal(t[g].hdr.domid, 3);
	assert_int_equal(t[g].full_page.frame, ref_frame(7, g));
	assert_int_equal(munmap(t, 64 * PAGE), 0);

	assert_int_equal(xpshim_guest_revoke(7, 1, &g), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xc_interface_close(xch), 0);
	assert_true(xpshim_no_leaks());
}

/* ---- Xen absent, unprivileged ------------------------------------------ */

static void test_absent(void **state)
{
	struct xpshim_config c = config();

	(void)state;
	c.absent = XPSHIM_ABSENT_ENOENT;
	xpshim_reset(&c);
	ASSERT_NULL_ERRNO(xengntshr_open(NULL, 0), ENOENT);
	ASSERT_NULL_ERRNO(xengnttab_open(NULL, 0), ENOENT);
	ASSERT_NULL_ERRNO(xc_interface_open(NULL, NULL, 0), ENOENT);

	c.absent = XPSHIM_ABSENT_NOERRNO;
	xpshim_reset(&c);
	ASSERT_NULL_ERRNO(xengntshr_open(NULL, 0), 0);
	ASSERT_NULL_ERRNO(xengnttab_open(NULL, 0), 0);
	ASSERT_NULL_ERRNO(xc_interface_open(NULL, NULL, 0), 0);
	assert_int_equal(xpshim_calls(NULL), 3);
	assert_true(xpshim_no_leaks());
}

static void test_unprivileged(void **state)
{
	struct xpshim_config c = config();
	struct gnttab_query_size q;
	xengntshr_handle *xgs;
	xengnttab_handle *xgt;
	xc_interface *xch;
	int num = 0;

	(void)state;
	c.unprivileged = 1;
	xpshim_reset(&c);
	/* As in a PV domU: privcmd opens, the hypervisor says no. */
	xch = xc_interface_open(NULL, NULL, 0);
	assert_non_null(xch);
	errno = 0;
	assert_int_equal(xc_gnttab_get_version(xch, XPSHIM_DOMID_SELF), -1);
	assert_int_equal(errno, EPERM);
	errno = 0;
	assert_null(xc_gnttab_map_table_v1(xch, XPSHIM_DOMID_SELF, &num));
	assert_int_equal(errno, EPERM);
	q.dom = XPSHIM_DOMID_SELF;
	assert_int_equal(xc_gnttab_query_size(xch, &q), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(xc_interface_close(xch), 0);
	xgs = xengntshr_open(NULL, 0);
	xgt = xengnttab_open(NULL, 0);
	assert_non_null(xgs);
	assert_non_null(xgt);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_true(xpshim_no_leaks());
}

/* ---- the libraries' error reports -------------------------------------- */

/* A xentoollog logger that keeps the last message. */
struct test_logger {
	xentoollog_logger vtable; /* first: the libraries get its address */
	unsigned int calls;
	xentoollog_level level;
	int errnoval;
	char context[16];
	char msg[128];
};

static void tl_vmessage(xentoollog_logger *lg, xentoollog_level level,
			int errnoval, const char *context, const char *format,
			va_list al)
{
	struct test_logger *t = (struct test_logger *)lg;

	t->calls++;
	t->level = level;
	t->errnoval = errnoval;
	snprintf(t->context, sizeof(t->context), "%s",
		 context != NULL ? context : "(null)");
	vsnprintf(t->msg, sizeof(t->msg), format, al);
}

/* The libraries never destroy a logger they were given. */
static void tl_destroy(xentoollog_logger *lg)
{
	((struct test_logger *)lg)->calls += 1000;
}

static void tl_init(struct test_logger *t)
{
	memset(t, 0, sizeof(*t));
	t->vtable.vmessage = tl_vmessage;
	t->vtable.destroy = tl_destroy;
}

/* Exactly one message since the last check, and it was this one. */
static void tl_check(struct test_logger *t, int errnoval, const char *context,
		     const char *msg)
{
	assert_int_equal(t->calls, 1);
	assert_int_equal(t->level, XTL_ERROR);
	assert_int_equal(t->errnoval, errnoval);
	assert_string_equal(t->context, context);
	assert_string_equal(t->msg, msg);
	t->calls = 0;
}

/* fd 2 goes to a file between capture and release. */
static struct {
	int saved;
	FILE *f;
} err_cap;

static void stderr_capture(void)
{
	fflush(stderr);
	err_cap.f = tmpfile();
	assert_non_null(err_cap.f);
	err_cap.saved = dup(2);
	assert_true(err_cap.saved >= 0);
	assert_true(dup2(fileno(err_cap.f), 2) == 2);
}

/* What was written to fd 2 since stderr_capture(), into @buf. */
static void stderr_release(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(err_cap.saved, 2) == 2);
	close(err_cap.saved);
	rewind(err_cap.f);
	n = fread(buf, 1, len - 1, err_cap.f);
	buf[n] = '\0';
	fclose(err_cap.f);
}

/* The loggers given to the open calls, NULL for none. */
struct loggers {
	struct test_logger *gntshr, *gnttab, *xc;
};

/* Failures of each reporting call, on the handles given (logger limit 2);
 * errno of each into @err; successful calls and silent failures between.
 * Each report reached the logger of its handle, if it has one. */
static void provoke_reports(xengntshr_handle *xgs, xengnttab_handle *xgt,
			    xc_interface *xch, const struct loggers *tl,
			    int err[4])
{
	uint32_t refs[3], bad = 7;
	int n = -1;
	void *p;

	errno = 0;
	assert_null(xengntshr_share_pages(xgs, 1, 3, refs, 1)); /* limit */
	err[0] = errno;
	if (tl->gntshr != NULL)
		tl_check(tl->gntshr, ENOSPC, "gntshr", "ioctl failed");
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	assert_int_equal(xengntshr_unshare(xgs, p, 2), 0);
	errno = 0;
	assert_null(xengnttab_map_domain_grant_refs(xgt, 1, 5, &bad, RW));
	err[1] = errno;
	if (tl->gnttab != NULL)
		tl_check(tl->gnttab, EINVAL, "gnttab", "mmap failed");
	errno = 0;
	assert_null(xc_gnttab_map_table_v1(xch, SELF, &n));
	err[2] = errno;
	if (tl->xc != NULL)
		tl_check(tl->xc, -1, "xc",
			 "Could not map grant table: Internal error");
	/* Silent in libxenctrl: the other version. */
	assert_null(xc_gnttab_map_table_v2(xch, XPSHIM_DOMID_SELF, &n));
	assert_int_equal(xc_gnttab_get_version(xch, SELF), 1);
	/* An injected fault says what a real failure would. */
	xpshim_fail_nth("xengntshr_share_pages", 1, EIO);
	errno = 0;
	assert_null(xengntshr_share_pages(xgs, 1, 1, refs, 1));
	err[3] = errno;
	if (tl->gntshr != NULL)
		tl_check(tl->gntshr, EIO, "gntshr", "ioctl failed");
	if (tl->gnttab != NULL)
		assert_int_equal(tl->gnttab->calls, 0);
	if (tl->xc != NULL)
		assert_int_equal(tl->xc->calls, 0);
}

/*
 * With no logger, the real libraries make a stdio logger on stderr: one
 * line a failure.  The opens fail silently when Xen is absent, and a
 * handle that is not open has no logger to report to.
 */
static void test_reports_stderr(void **state)
{
	struct xpshim_config c = config();
	const struct loggers none = { NULL, NULL, NULL };
	xengntshr_handle *xgs, *closed;
	xengnttab_handle *xgt;
	struct test_logger tl;
	xc_interface *xch;
	uint32_t ref;
	char out[1024];
	int err[4];

	(void)state;
	tl_init(&tl);
	c.limit = 2;
	xpshim_reset(&c);
	xgs = xengntshr_open(NULL, 0);
	closed = xengntshr_open(NULL, 0);
	xgt = xengnttab_open(NULL, 0);
	/* The build logger hears nothing of errors. */
	xch = xc_interface_open(NULL, &tl.vtable, 0);
	assert_non_null(xch);
	assert_int_equal(xengntshr_close(closed), 0);

	stderr_capture();
	provoke_reports(xgs, xgt, xch, &none, err);
	(void)xengntshr_share_pages(closed, 1, 1, &ref, 1);
	stderr_release(out, sizeof(out));
	assert_string_equal(out,
			    "gntshr: error: ioctl failed: No space left on "
			    "device\n"
			    "gnttab: error: mmap failed: Invalid argument\n"
			    "xc: error: Could not map grant table: Internal "
			    "error\n"
			    "gntshr: error: ioctl failed: Input/output "
			    "error\n");
	assert_int_equal(err[0], ENOSPC);
	assert_int_equal(err[1], EINVAL);
	assert_int_equal(err[2], ESRCH);
	assert_int_equal(err[3], EIO);
	assert_int_equal(tl.calls, 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_int_equal(xc_interface_close(xch), 0);

	c.absent = XPSHIM_ABSENT_ENOENT;
	xpshim_reset(&c);
	stderr_capture();
	assert_null(xengntshr_open(NULL, 0));
	assert_null(xengnttab_open(NULL, 0));
	assert_null(xc_interface_open(NULL, NULL, 0));
	stderr_release(out, sizeof(out));
	assert_string_equal(out, "");
	assert_true(xpshim_no_leaks());
}

/* A logger given to the open call hears each report; stderr nothing. */
static void test_reports_logger(void **state)
{
	struct xpshim_config c = config();
	struct test_logger gs, gt, xc, build;
	const struct loggers tl = { &gs, &gt, &xc };
	xengntshr_handle *xgs;
	xengnttab_handle *xgt;
	xc_interface *xch;
	char out[1024];
	int err[4];

	(void)state;
	tl_init(&gs);
	tl_init(&gt);
	tl_init(&xc);
	tl_init(&build);
	c.limit = 2;
	xpshim_reset(&c);
	xgs = xengntshr_open(&gs.vtable, 0);
	xgt = xengnttab_open(&gt.vtable, 0);
	xch = xc_interface_open(&xc.vtable, &build.vtable, 0);
	assert_non_null(xgs);
	assert_non_null(xgt);
	assert_non_null(xch);

	stderr_capture();
	provoke_reports(xgs, xgt, xch, &tl, err);
	stderr_release(out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(err[0], ENOSPC);
	assert_int_equal(err[1], EINVAL);
	assert_int_equal(err[2], ESRCH);
	assert_int_equal(err[3], EIO);
	assert_int_equal(build.calls, 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_int_equal(xc_interface_close(xch), 0);
	/* Closing did not destroy them. */
	assert_int_equal(gs.calls + gt.calls + xc.calls + build.calls, 0);
	assert_true(xpshim_no_leaks());
}

/* ---- fault injection --------------------------------------------------- */

/* What each faulted call may use, set up before the fault is armed. */
static struct {
	xengntshr_handle *xgs;
	xengnttab_handle *xgt;
	xc_interface *xch;
	uint32_t g[2];
} fx;

static struct xpshim_leaks fault_before;

static void fault_arm(const char *fn)
{
	xpshim_leaks(&fault_before);
	xpshim_fail_nth(fn, 1, EIO);
	assert_false(xpshim_fail_fired());
	errno = 0;
}

/* The armed call failed with EIO and changed nothing. */
static void fault_check(bool failed)
{
	assert_true(failed);
	assert_int_equal(errno, EIO);
	assert_true(xpshim_fail_fired());
	assert_leaks_same(&fault_before);
}

/* The armed close failed with EIO, and the handle is gone all the same. */
static void fault_check_closed(bool failed)
{
	struct xpshim_leaks now;

	assert_true(failed);
	assert_int_equal(errno, EIO);
	assert_true(xpshim_fail_fired());
	xpshim_leaks(&now);
	assert_int_equal(now.handles + 1, fault_before.handles);
}

static void fault_opens(void)
{
	void *h;

	fault_arm("xengntshr_open");
	fault_check(xengntshr_open(NULL, 0) == NULL);
	fault_arm("xengnttab_open");
	fault_check(xengnttab_open(NULL, 0) == NULL);
	fault_arm("xc_interface_open");
	fault_check(xc_interface_open(NULL, NULL, 0) == NULL);

	/* A close that reports an error has still closed the handle, as
	 * Xen's do: the caller cannot retry it. */
	h = xengntshr_open(NULL, 0);
	fault_arm("xengntshr_close");
	fault_check_closed(xengntshr_close(h) == -1);
	assert_int_equal(xengntshr_close(h), -1);
	h = xengnttab_open(NULL, 0);
	fault_arm("xengnttab_close");
	fault_check_closed(xengnttab_close(h) == -1);
	assert_int_equal(xengnttab_close(h), -1);
	h = xc_interface_open(NULL, NULL, 0);
	fault_arm("xc_interface_close");
	fault_check_closed(xc_interface_close(h) == -1);
	assert_int_equal(xc_interface_close(h), -1);
}

static void fault_share(void)
{
	uint32_t refs[2] = { 0, 0 };
	void *p;

	fault_arm("xengntshr_share_pages");
	fault_check(xengntshr_share_pages(fx.xgs, 1, 2, refs, 1) == NULL);
	assert_true(all_bytes(refs, sizeof(refs), 0));
	p = xengntshr_share_pages(fx.xgs, 1, 2, refs, 1);
	assert_non_null(p);
	fault_arm("xengntshr_unshare");
	fault_check(xengntshr_unshare(fx.xgs, p, 2) == -1);
	assert_int_equal(xengntshr_unshare(fx.xgs, p, 2), 0);
}

static void fault_map(void)
{
	uint32_t doms[2] = { 5, 5 };
	void *p;

	fault_arm("xengnttab_map_grant_ref");
	fault_check(xengnttab_map_grant_ref(fx.xgt, 5, fx.g[0], RW) == NULL);
	fault_arm("xengnttab_map_grant_refs");
	fault_check(xengnttab_map_grant_refs(fx.xgt, 2, doms, fx.g, RW) ==
		    NULL);
	fault_arm("xengnttab_map_domain_grant_refs");
	fault_check(xengnttab_map_domain_grant_refs(fx.xgt, 2, 5, fx.g, RW) ==
		    NULL);
	p = xengnttab_map_domain_grant_refs(fx.xgt, 2, 5, fx.g, RW);
	assert_non_null(p);
	fault_arm("xengnttab_unmap");
	fault_check(xengnttab_unmap(fx.xgt, p, 2) == -1);
	assert_int_equal(xengnttab_unmap(fx.xgt, p, 2), 0);
	fault_arm("xengnttab_set_max_grants");
	fault_check(xengnttab_set_max_grants(fx.xgt, 8) == -1);
}

static void fault_ctrl(void)
{
	struct gnttab_query_size q = { .dom = SELF, .nr_frames = 77 };
	int n = -1;

	fault_arm("xc_gnttab_get_version");
	fault_check(xc_gnttab_get_version(fx.xch, SELF) == -1);
	fault_arm("xc_gnttab_query_size");
	fault_check(xc_gnttab_query_size(fx.xch, &q) == -1);
	assert_int_equal(q.nr_frames, 77);
	fault_arm("xc_gnttab_map_table_v1");
	fault_check(xc_gnttab_map_table_v1(fx.xch, SELF, &n) == NULL);
	fault_arm("xc_gnttab_map_table_v2");
	fault_check(xc_gnttab_map_table_v2(fx.xch, SELF, &n) == NULL);
	assert_int_equal(n, -1);
}

/* Every shimmed function takes an injected fault, with no effect. */
static void test_fault_each(void **state)
{
	static const char *const fns[] = {
		"xengntshr_open",
		"xengntshr_close",
		"xengntshr_share_pages",
		"xengntshr_unshare",
		"xengnttab_open",
		"xengnttab_close",
		"xengnttab_map_grant_ref",
		"xengnttab_map_grant_refs",
		"xengnttab_map_domain_grant_refs",
		"xengnttab_unmap",
		"xengnttab_set_max_grants",
		"xc_interface_open",
		"xc_interface_close",
		"xc_gnttab_get_version",
		"xc_gnttab_query_size",
		"xc_gnttab_map_table_v1",
		"xc_gnttab_map_table_v2",
	};
	unsigned long total = 0;
	unsigned int i;

	(void)state;
	fx.xgs = xengntshr_open(NULL, 0);
	fx.xgt = xengnttab_open(NULL, 0);
	fx.xch = xc_interface_open(NULL, NULL, 0);
	assert_int_equal(xpshim_guest_grant(5, SELF, 2, 0, fx.g), 0);
	fault_opens();
	fault_share();
	fault_map();
	fault_ctrl();
	/* Every function was called, failed calls included. */
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		assert_true(xpshim_calls(fns[i]) >= 1);
		total += xpshim_calls(fns[i]);
	}
	assert_int_equal(total, xpshim_calls(NULL));
	assert_int_equal(xpshim_guest_revoke(5, 2, fx.g), 0);
	assert_int_equal(xengntshr_close(fx.xgs), 0);
	assert_int_equal(xengnttab_close(fx.xgt), 0);
	assert_int_equal(xc_interface_close(fx.xch), 0);
	assert_true(xpshim_no_leaks());
}

static void test_fault_nth(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[3];
	void *p[3];
	int i;

	(void)state;
	/* The third share fails, the others do not. */
	xpshim_fail_nth("xengntshr_share_pages", 3, ENOMEM);
	for (i = 0; i < 2; i++) {
		p[i] = xengntshr_share_pages(xgs, 1, 1, &refs[i], 1);
		assert_non_null(p[i]);
		assert_false(xpshim_fail_fired());
	}
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, 1, &refs[2], 1),
			  ENOMEM);
	assert_true(xpshim_fail_fired());
	p[2] = xengntshr_share_pages(xgs, 1, 1, &refs[2], 1);
	assert_non_null(p[2]);
	assert_int_equal(xpshim_calls("xengntshr_share_pages"), 4);

	/* Any function: the second call from now. */
	xpshim_fail_nth(NULL, 2, EAGAIN);
	assert_int_equal(xengntshr_unshare(xgs, p[0], 1), 0);
	ASSERT_FAIL_ERRNO(xengntshr_unshare(xgs, p[1], 1), EAGAIN);
	assert_int_equal(xengntshr_unshare(xgs, p[1], 1), 0);

	/* Cleared, or removed by a reset, a fault never fires. */
	xpshim_fail_nth("xengntshr_unshare", 1, EIO);
	xpshim_fail_clear();
	assert_int_equal(xengntshr_unshare(xgs, p[2], 1), 0);
	assert_false(xpshim_fail_fired());
	xpshim_fail_nth("xc_interface_open", 1, 0);
	ASSERT_NULL_ERRNO(xc_interface_open(NULL, NULL, 0), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	xpshim_fail_nth(NULL, 1, EIO);
	reset_default();
	xgs = xengntshr_open(NULL, 0);
	assert_non_null(xgs);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_false(xpshim_fail_fired());
	assert_true(xpshim_no_leaks());
}

/* ---- frames ------------------------------------------------------------ */

/* Frames of @n pages shared at once, in address order. */
static void share_frames(xengntshr_handle *xgs, unsigned int n,
			 uint64_t *frames)
{
	uint32_t *refs = calloc(n, sizeof(*refs));
	unsigned int i;
	uint8_t *p;

	assert_non_null(refs);
	p = xengntshr_share_pages(xgs, 1, (int)n, refs, 1);
	assert_non_null(p);
	for (i = 0; i < n; i++)
		frames[i] = xpshim_frame_of(p + i * PAGE);
	assert_int_equal(xengntshr_unshare(xgs, p, n), 0);
	free(refs);
}

static xengntshr_handle *reset_contig(enum xpshim_contig contig,
				      unsigned int max_run, uint64_t seed,
				      int hvm)
{
	struct xpshim_config c = config();

	c.contig = contig;
	c.max_run = max_run;
	c.seed = seed;
	c.hvm = hvm;
	xpshim_reset(&c);
	return xengntshr_open(NULL, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void test_contig_full(void **state)
{
	xengntshr_handle *xgs = reset_contig(XPSHIM_CONTIG_FULL, 1, 1, 0);
	uint64_t f[64];
	unsigned int i, k;

	(void)state;
	for (k = 0; k < 3; k++) {
		share_frames(xgs, 64, f);
		for (i = 1; i < 64; i++)
			assert_int_equal(f[i], f[0] + i);
	}
	assert_int_equal(xengntshr_close(xgs), 0);
}

static void test_contig_none(void **state)
{
	xengntshr_handle *xgs = reset_contig(XPSHIM_CONTIG_NONE, 16, 3, 0);
	uint64_t f[3 * 64];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++)
		share_frames(xgs, 64, f + 64 * i);
	/* Not even two pages of different shares are ever consecutive. */
	qsort(f, ARRAY_SIZE(f), sizeof(f[0]), cmp_u64);
	for (i = 1; i < ARRAY_SIZE(f); i++)
		assert_true(f[i] > f[i - 1] + 1);
	assert_int_equal(xengntshr_close(xgs), 0);
}

static void test_contig_random(void **state)
{
	xengntshr_handle *xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 4, 7, 0);
	uint64_t f[256], sorted[256], again[256];
	unsigned int i, run = 1, longest = 1, descents = 0;

	(void)state;
	share_frames(xgs, 256, f);
	for (i = 1; i < 256; i++) {
		run = f[i] == f[i - 1] + 1 ? run + 1 : 1;
		longest = run > longest ? run : longest;
		descents += f[i] < f[i - 1];
	}
	assert_in_range(longest, 2, 4);
	assert_true(descents > 0); /* scrambled, not merely cut */
	memcpy(sorted, f, sizeof(f));
	qsort(sorted, 256, sizeof(sorted[0]), cmp_u64);
	for (i = 1; i < 256; i++)
		assert_true(sorted[i] > sorted[i - 1]);
	assert_int_equal(xengntshr_close(xgs), 0);

	/* The seed decides. */
	xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 4, 7, 0);
	share_frames(xgs, 256, again);
	assert_memory_equal(f, again, sizeof(f));
	assert_int_equal(xengntshr_close(xgs), 0);
	xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 4, 8, 0);
	share_frames(xgs, 256, again);
	assert_memory_not_equal(f, again, sizeof(f));
	assert_int_equal(xengntshr_close(xgs), 0);
}

/* Frames of @n pages granted one or @per at a time, alternately shared
 * and granted by guest 5, in grant order; everything is released. */
static void grant_frames(xengntshr_handle *xgs, unsigned int n,
			 unsigned int per, bool guests, uint64_t *frames)
{
	uint32_t refs[8];
	unsigned int i, k;
	uint8_t *p;

	assert_true(per <= ARRAY_SIZE(refs) && n % per == 0);
	for (i = 0; i < n; i += per) {
		if (guests && (i / per) % 2 == 1) {
			assert_int_equal(xpshim_guest_grant(5, SELF, per, 0,
							    refs),
					 0);
			for (k = 0; k < per; k++)
				frames[i + k] = ref_frame(5, refs[k]);
			assert_int_equal(xpshim_guest_revoke(5, per, refs), 0);
			continue;
		}
		p = xengntshr_share_pages(xgs, 1, (int)per, refs, 1);
		assert_non_null(p);
		for (k = 0; k < per; k++)
			frames[i + k] = xpshim_frame_of(p + k * PAGE);
		assert_int_equal(xengntshr_unshare(xgs, p, per), 0);
	}
}

/*
 * Runs of frames as Linux's gntalloc gets them, a page at a time: up or
 * down, 1..max_run long, never joining; one cursor for all grants, so that
 * runs go on across calls.
 */
static void test_contig_linux(void **state)
{
	xengntshr_handle *xgs = reset_contig(XPSHIM_CONTIG_LINUX, 4, 5, 0);
	uint64_t f[240], sorted[240], again[240];
	unsigned int i, run = 1, longest = 1, ups = 0, downs = 0, across = 0;
	int step = 0, d;

	(void)state;
	grant_frames(xgs, 240, 3, true, f);
	for (i = 1; i < 240; i++) {
		d = f[i] == f[i - 1] + 1 ? 1 : f[i] + 1 == f[i - 1] ? -1 : 0;
		if (d != 0 && (run == 1 || d == step)) {
			run++;
		} else {
			/* A new run starts at a gap, not next door. */
			assert_int_equal(d == 0 || run == 1, 1);
			run = 1;
		}
		step = d;
		longest = run > longest ? run : longest;
		ups += d > 0;
		downs += d < 0;
		across += d != 0 && i % 3 == 0;
	}
	assert_int_equal(longest, 4);
	assert_true(ups > 0 && downs > 0);
	assert_true(across > 0); /* runs go on from one grant to the next */
	memcpy(sorted, f, sizeof(f));
	qsort(sorted, 240, sizeof(sorted[0]), cmp_u64);
	for (i = 1; i < 240; i++)
		assert_true(sorted[i] > sorted[i - 1]);
	assert_int_equal(xengntshr_close(xgs), 0);

	/* The seed decides. */
	xgs = reset_contig(XPSHIM_CONTIG_LINUX, 4, 5, 0);
	grant_frames(xgs, 240, 3, true, again);
	assert_memory_equal(f, again, sizeof(f));
	assert_int_equal(xengntshr_close(xgs), 0);
	xgs = reset_contig(XPSHIM_CONTIG_LINUX, 4, 6, 0);
	grant_frames(xgs, 240, 3, true, again);
	assert_memory_not_equal(f, again, sizeof(f));
	assert_int_equal(xengntshr_close(xgs), 0);

	/* One-page shares one after another: consecutive frames, which the
	 * other modes never give separate calls. */
	xgs = reset_contig(XPSHIM_CONTIG_LINUX, 64, 1, 0);
	grant_frames(xgs, 16, 1, false, f);
	for (i = 1, across = 0; i < 16; i++)
		across += f[i] == f[i - 1] + 1 || f[i] + 1 == f[i - 1];
	assert_true(across >= 8);
	assert_int_equal(xengntshr_close(xgs), 0);
	xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 64, 1, 0);
	grant_frames(xgs, 16, 1, false, f);
	for (i = 1; i < 16; i++)
		assert_true(f[i] != f[i - 1] + 1 && f[i] + 1 != f[i - 1]);
	assert_int_equal(xengntshr_close(xgs), 0);
}

static void test_pv_hvm(void **state)
{
	xengntshr_handle *xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 16, 1, 0);
	uint64_t pv[64], hvm[64];
	unsigned int i;

	(void)state;
	share_frames(xgs, 64, pv);
	assert_int_equal(xengntshr_close(xgs), 0);
	xgs = reset_contig(XPSHIM_CONTIG_RANDOM, 16, 1, 1);
	share_frames(xgs, 64, hvm);
	assert_int_equal(xengntshr_close(xgs), 0);
	for (i = 0; i < 64; i++) {
		assert_true(pv[i] >= XPSHIM_PV_FRAME_BASE);
		assert_true(hvm[i] >= XPSHIM_HVM_FRAME_BASE);
		assert_true(hvm[i] < XPSHIM_PV_FRAME_BASE);
	}
}

/* ---- the hostile peer -------------------------------------------------- */

static bool each_page_touched(const uint8_t *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (all_bytes(p + i * PAGE, PAGE, 0))
			return false;
	return true;
}

/* Wait up to 10 s for the scribbler to write every page of @p. */
static void wait_touched(const uint8_t *p, unsigned int n)
{
	static const struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 10000 && !each_page_touched(p, n); i++)
		nanosleep(&ms, NULL);
	assert_true(each_page_touched(p, n));
}

static void test_scribbler(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	uint32_t refs[4], ro[2], g[2], tmp[3];
	uint8_t *p, *q, *m, *t;
	unsigned int i;

	(void)state;
	p = xengntshr_share_pages(xgs, 1, 4, refs, 1);
	q = xengntshr_share_pages(xgs, 1, 2, ro, 0);
	assert_int_equal(xpshim_guest_grant(5, SELF, 2, 0, g), 0);
	m = xengnttab_map_domain_grant_refs(xgt, 2, 5, g, RW);
	assert_non_null(p);
	assert_non_null(q);
	assert_non_null(m);

	assert_int_equal(xpshim_scribble_all(0x5a), 6);
	assert_true(all_bytes(p, 4 * PAGE, 0x5a));
	assert_true(all_bytes(m, 2 * PAGE, 0x5a));
	assert_true(all_bytes(q, 2 * PAGE, 0));
	memset(p, 0, 4 * PAGE);
	memset(m, 0, 2 * PAGE);

	assert_int_equal(xpshim_scribbler_start(), 0);
	assert_int_equal(xpshim_scribbler_start(), -EBUSY);
	wait_touched(p, 4);
	wait_touched(m, 2);
	/* Written again: one full pass at least is over. */
	memset(p, 0, PAGE);
	wait_touched(p, 1);
	/* Grants come and go under it. */
	for (i = 0; i < 50; i++) {
		t = xengntshr_share_pages(xgs, 1, 3, tmp, 1);
		assert_non_null(t);
		assert_int_equal(xengntshr_unshare(xgs, t, 3), 0);
	}
	assert_true(xpshim_scribbler_stop() >= 1);
	assert_int_equal(xpshim_scribbler_stop(), 0);
	assert_true(all_bytes(q, 2 * PAGE, 0));

	assert_int_equal(xengnttab_unmap(xgt, m, 2), 0);
	assert_int_equal(xpshim_guest_revoke(5, 2, g), 0);
	assert_int_equal(xengntshr_unshare(xgs, p, 4), 0);
	assert_int_equal(xengntshr_unshare(xgs, q, 2), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xengnttab_close(xgt), 0);
	assert_true(xpshim_no_leaks());
}

/* ---- reset, environment, threads ---------------------------------------- */

static void test_reset(void **state)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	xengnttab_handle *xgt = xengnttab_open(NULL, 0);
	xc_interface *xch = xc_interface_open(NULL, NULL, 0);
	uint32_t refs[2], g;
	void *p, *m, *v, *t;
	char perms[5];
	uint8_t *z;
	int n;

	(void)state;
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_int_equal(xpshim_peer_map(1, SELF, refs[1], 1, &v), 0);
	assert_int_equal(xpshim_guest_grant(5, SELF, 1, 0, &g), 0);
	m = xengnttab_map_domain_grant_refs(xgt, 1, 5, &g, RW);
	t = xc_gnttab_map_table_v1(xch, XPSHIM_DOMID_SELF, &n);
	assert_non_null(p);
	assert_non_null(m);
	assert_non_null(t);
	xpshim_fail_nth("xengntshr_open", 1, EIO);
	assert_leaks(3, 2, 1, 3, 1);

	reset_default();
	assert_true(xpshim_no_leaks());
	assert_int_equal(xpshim_calls(NULL), 0);
	assert_int_equal(xpshim_ref_info(SELF, refs[0], NULL, NULL, NULL),
			 -ENOENT);
	assert_int_equal(xpshim_frame_of(p), NO_FRAME);
	/* Handles from before are gone. */
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, 1, refs, 1), EBADF);
	ASSERT_NULL_ERRNO(xengnttab_map_domain_grant_refs(xgt, 1, 5, &g, RW),
			  EBADF);
	ASSERT_FAIL_ERRNO(xc_gnttab_get_version(xch, SELF), EBADF);
	/* The snapshot is the caller's. */
	assert_int_equal(munmap(t, 64 * PAGE), 0);

	/* A page the process moved is unmapped where it is. */
	xgs = xengntshr_open(NULL, 0);
	p = xengntshr_share_pages(xgs, 1, 2, refs, 1);
	assert_non_null(p);
	z = reserve(2);
	move_page((uint8_t *)p + PAGE, z + PAGE);
	assert_int_equal(xpshim_frame_of(z + PAGE), ref_frame(SELF, refs[1]));
	reset_default();
	perms_of(p, perms);
	assert_string_equal(perms, "");
	perms_of(z + PAGE, perms);
	assert_string_equal(perms, "");
	assert_int_equal(xpshim_frame_of(z + PAGE), NO_FRAME);
	assert_int_equal(munmap(z, PAGE), 0);

	/* The fault went too; tables start empty again. */
	xgs = xengntshr_open(NULL, 0);
	assert_non_null(xgs);
	p = xengntshr_share_pages(xgs, 1, 1, refs, 1);
	assert_non_null(p);
	assert_int_equal(refs[0], 8);
	assert_int_equal(xengntshr_unshare(xgs, p, 1), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_true(xpshim_no_leaks());
}

static const char *const env_names[] = {
	"XPSHIM_SELF",
	"XPSHIM_LIMIT",
	"XPSHIM_TABLE_FRAMES",
	"XPSHIM_GNTTAB_VERSION",
	"XPSHIM_CONTIG",
	"XPSHIM_MAX_RUN",
	"XPSHIM_SEED",
	"XPSHIM_MODE",
	"XPSHIM_ABSENT",
	"XPSHIM_UNPRIVILEGED",
	"XPSHIM_LOG",
	"XPSHIM_MAPS",
};

static void env_clear(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(env_names); i++)
		unsetenv(env_names[i]);
}

static void test_env(void **state)
{
	struct gnttab_query_size q = { .dom = SELF };
	xengntshr_handle *xgs;
	xc_interface *xch;
	uint32_t refs[17];
	uint64_t f[16];
	unsigned int i;
	uint8_t *p;
	void *t;
	int n;

	(void)state;
	env_clear();
	setenv("XPSHIM_SELF", "4", 1);
	setenv("XPSHIM_LIMIT", "16", 1);
	setenv("XPSHIM_TABLE_FRAMES", "2", 1);
	setenv("XPSHIM_GNTTAB_VERSION", "2", 1);
	setenv("XPSHIM_CONTIG", "full", 1);
	setenv("XPSHIM_MODE", "hvm", 1);
	setenv("XPSHIM_UNPRIVILEGED", "1", 1);
	setenv("XPSHIM_MAPS", "text", 1);
	xpshim_reset(NULL);
	xch = xc_interface_open(NULL, NULL, 0);
	assert_non_null(xch);
	errno = 0;
	assert_int_equal(xc_gnttab_get_version(xch, XPSHIM_DOMID_SELF), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(xc_interface_close(xch), 0);
	unsetenv("XPSHIM_UNPRIVILEGED");
	xpshim_reset(NULL);

	xch = xc_interface_open(NULL, NULL, 0);
	xgs = xengntshr_open(NULL, 0);
	assert_non_null(xch);
	assert_int_equal(xc_gnttab_get_version(xch, SELF), 2);
	assert_int_equal(xc_gnttab_query_size(xch, &q), 0);
	assert_int_equal(q.nr_frames, 2);
	t = xc_gnttab_map_table_v2(xch, SELF, &n);
	assert_non_null(t);
	/* libxenctrl counts v1-sized entries whatever the version. */
	assert_int_equal(n, 2 * 512);
	assert_int_equal(munmap(t, 2 * PAGE), 0);
	ASSERT_NULL_ERRNO(xengntshr_share_pages(xgs, 1, 17, refs, 1), ENOSPC);
	p = xengntshr_share_pages(xgs, 1, 16, refs, 1);
	assert_non_null(p);
	assert_int_equal(xpshim_ref_info(4, refs[0], NULL, NULL, NULL), 0);
	for (i = 0; i < 16; i++) {
		f[i] = xpshim_frame_of(p + i * PAGE);
		assert_true(f[i] < XPSHIM_PV_FRAME_BASE);
		assert_int_equal(f[i], f[0] + i);
	}
	assert_int_equal(xengntshr_unshare(xgs, p, 16), 0);
	assert_int_equal(xengntshr_close(xgs), 0);
	assert_int_equal(xc_interface_close(xch), 0);

	/* Values that do not parse are ignored: the default limit applies. */
	setenv("XPSHIM_LIMIT", "16x", 1);
	setenv("XPSHIM_MODE", "bogus", 1);
	setenv("XPSHIM_ABSENT", "enoent", 1);
	xpshim_reset(NULL);
	ASSERT_NULL_ERRNO(xengntshr_open(NULL, 0), ENOENT);
	setenv("XPSHIM_ABSENT", "0", 1);
	xpshim_reset(NULL);
	xgs = xengntshr_open(NULL, 0);
	p = xengntshr_share_pages(xgs, 1, 17, refs, 1);
	assert_non_null(p);
	assert_true(xpshim_frame_of(p) >= XPSHIM_PV_FRAME_BASE);
	assert_int_equal(xengntshr_unshare(xgs, p, 17), 0);
	assert_int_equal(xengntshr_close(xgs), 0);

	/* Linux's runs go on across share calls. */
	env_clear();
	setenv("XPSHIM_CONTIG", "linux", 1);
	setenv("XPSHIM_MAX_RUN", "1000000", 1);
	setenv("XPSHIM_MAPS", "query", 1); /* not a value: ignored */
	xpshim_reset(NULL);
	xgs = xengntshr_open(NULL, 0);
	grant_frames(xgs, 8, 1, false, f);
	for (i = 1; i < 8; i++)
		assert_true(f[i] == f[i - 1] + 1 || f[i] + 1 == f[i - 1]);
	assert_int_equal(xengntshr_close(xgs), 0);
	env_clear();
	reset_default();
	assert_true(xpshim_no_leaks());
}

/*
 * CHILD_MODE: a fresh process's first shim call reads the environment
 * (XPSHIM_SELF=7, XPSHIM_LIMIT=3, XPSHIM_LOG=1).  Exit status 0 if it saw
 * what it should, else the number of the failed check.
 */
static int child_first_use(void)
{
	xengntshr_handle *xgs = xengntshr_open(NULL, 0);
	uint32_t refs[4];
	void *p;

	if (xgs == NULL)
		return 1;
	if (xengntshr_share_pages(xgs, 1, 4, refs, 1) != NULL ||
	    errno != ENOSPC)
		return 2;
	p = xengntshr_share_pages(xgs, 1, 3, refs, 1);
	if (p == NULL)
		return 3;
	if (xpshim_ref_info(7, refs[0], NULL, NULL, NULL) != 0 ||
	    xpshim_ref_info(0, refs[0], NULL, NULL, NULL) != -ENOENT)
		return 4;
	if (xengntshr_unshare(xgs, p, 3) != 0 || xengntshr_close(xgs) != 0)
		return 5;
	return xpshim_no_leaks() ? 0 : 6;
}

static void test_env_first_use(void **state)
{
	char exe[PATH_MAX], err[8192];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *fe = tmpfile();
	int status;
	size_t n;
	pid_t pid;

	(void)state;
	assert_true(len > 0);
	exe[len] = '\0';
	assert_non_null(fe);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { exe, (char *)CHILD_MODE, NULL };

		if (dup2(fileno(fe), 2) < 0)
			_exit(126);
		env_clear();
		setenv("XPSHIM_SELF", "7", 1);
		setenv("XPSHIM_LIMIT", "3", 1);
		setenv("XPSHIM_LOG", "1", 1);
		execv(exe, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rewind(fe);
	n = fread(err, 1, sizeof(err) - 1, fe);
	err[n] = '\0';
	fclose(fe);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* XPSHIM_LOG: each call on stderr, failures with their errno. */
	assert_non_null(strstr(err, "xpshim: xengntshr_open("));
	assert_non_null(strstr(err, "xpshim: xengntshr_share_pages("));
	assert_non_null(strstr(err, "errno 28"));
	assert_non_null(strstr(err, "xpshim: xengntshr_close("));
	/* No logger: the library's own report goes to stderr. */
	assert_non_null(strstr(err, "\ngntshr: error: ioctl failed: No space "
				    "left on device\n"));
}

#define MT_THREADS 4
#define MT_ROUNDS 200

static void *mt_worker(void *arg)
{
	uint32_t refs[3], dom = (uint32_t)(uintptr_t)arg;
	unsigned int i, n;
	uint8_t *p;
	void *v;

	for (i = 0; i < MT_ROUNDS; i++) {
		xengntshr_handle *xgs = xengntshr_open(NULL, 0);

		n = 1 + i % 3;
		p = xengntshr_share_pages(xgs, dom, (int)n, refs, 1);
		if (p == NULL)
			return (void *)1;
		memset(p, (int)dom, n * PAGE);
		if (xpshim_frame_of(p + (n - 1) * PAGE) == NO_FRAME ||
		    xpshim_peer_map(dom, SELF, refs[0], 1, &v) != 0 ||
		    *(uint8_t *)v != dom)
			return (void *)2;
		if (xengntshr_unshare(xgs, p, n) != 0 ||
		    xpshim_peer_unmap(dom, SELF, refs[0]) != 0 ||
		    xengntshr_close(xgs) != 0)
			return (void *)3;
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[MT_THREADS];
	void *ret;
	int i;

	(void)state;
	for (i = 0; i < MT_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, mt_worker,
						(void *)(uintptr_t)(i + 1)),
				 0);
	for (i = 0; i < MT_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(xpshim_calls(NULL), MT_THREADS * MT_ROUNDS * 4);
	assert_true(xpshim_no_leaks());
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_share_unshare),
		T(test_share_errors),
		T(test_limit),
		T(test_table_full),
		T(test_peer_outlives_unshare),
		T(test_refs_lifo),
		T(test_unshare_pieces),
		T(test_unshare_moved),
		T(test_unshare_foreign_views),
		T(test_unmapped_by_process),
		T(test_readonly),
		T(test_map_mode),
		T(test_own_domid),
		T(test_close_leaves_mappings),
		T(test_table_v1),
		T(test_table_v2),
		T(test_absent),
		T(test_unprivileged),
		T(test_reports_stderr),
		T(test_reports_logger),
		T(test_fault_each),
		T(test_fault_nth),
		T(test_contig_full),
		T(test_contig_none),
		T(test_contig_random),
		T(test_contig_linux),
		T(test_pv_hvm),
		T(test_scribbler),
		T(test_reset),
		T(test_env),
		T(test_env_first_use),
		T(test_threads),
	};

	if (argc > 1 && strcmp(argv[1], CHILD_MODE) == 0)
		return child_first_use();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
