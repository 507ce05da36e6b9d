/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the xen_dom0 tests, which run the handler's real code
 * against the mock hypervisor (tests/shim): shim configuration, a log
 * capture, and the independent check of a pool's bus addresses.
 *
 * The check does not trust the handler: it finds the pool's pages by
 * asking the shim which memory it handed out (xpshim_frame_of), and derives
 * every expected bus address from the shim's frames or from the grant refs
 * the shim's grant table says back those pages.
 *
 * Include after <cmocka.h>.  Header-only, as testutil.h.
 */
#ifndef XP_TESTS_XENTEST_H
#define XP_TESTS_XENTEST_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

#include "testutil.h"
#include "xpshim.h"

#define XT_PAGE ((uintptr_t)XP_PAGE_SIZE)
#define XT_NO_FRAME ((uint64_t)-1)
#define XT_POOL "xt_pool"

/* ---- the shim ------------------------------------------------------- */

/* The configuration the shim was last reset with. */
static struct xpshim_config xt_cfg;

/* Shim defaults (not the environment's), then @contig/@max_run/@seed. */
static inline void xt_cfg_set(enum xpshim_contig contig, unsigned int max_run,
			      uint64_t seed)
{
	xpshim_default_config(&xt_cfg);
	xt_cfg.contig = contig;
	xt_cfg.max_run = max_run;
	xt_cfg.seed = seed;
}

/* Start over with xt_cfg. */
static inline void xt_shim_reset(void)
{
	xpshim_reset(&xt_cfg);
}

/*
 * libxenpool reaches the shim: its Xen libraries resolved to the stand-ins
 * (LD_LIBRARY_PATH), not to the real ones.  For group setups.
 */
static inline int xt_shim_loaded(void)
{
	struct xp_mempool *mp;
	unsigned long opens;

	xpshim_reset(NULL);
	mp = xp_mempool_create_ex("xt_probe", 1, 64, 0, 0, NULL, NULL, 0,
				  XP_XEN_HANDLER, NULL);
	opens = xpshim_calls("xengntshr_open");
	xp_mempool_free(mp);
	if (opens == 1)
		return 1;
	fprintf(stderr, "libxenpool does not use the shim's Xen libraries: "
			"put tests/shim first in LD_LIBRARY_PATH\n");
	return 0;
}

/* Everything the handler took is back. */
static inline void xt_assert_no_leaks(void)
{
	assert_true(xpshim_no_leaks());
}

/* Frame contiguity patterns the tests run under. */
struct xt_pattern {
	const char *name;
	enum xpshim_contig contig;
	unsigned int max_run;
	uint64_t seed;
};

static const struct xt_pattern xt_patterns[] = {
	{"full", XPSHIM_CONTIG_FULL, 1, 1},
	{"none", XPSHIM_CONTIG_NONE, 1, 1},
	{"random16/1", XPSHIM_CONTIG_RANDOM, 16, 1},
	{"random16/12345", XPSHIM_CONTIG_RANDOM, 16, 12345},
	{"random4/7", XPSHIM_CONTIG_RANDOM, 4, 7},
	{"random2/99", XPSHIM_CONTIG_RANDOM, 2, 99},
};
#define XT_NPATTERNS (sizeof(xt_patterns) / sizeof(xt_patterns[0]))

static inline void xt_cfg_pattern(const struct xt_pattern *p)
{
	xt_cfg_set(p->contig, p->max_run, p->seed);
}

/* Domain @guest grants @n fresh pages to this domain; refs into @refs. */
static inline void xt_guest_grant(uint32_t guest, unsigned int n,
				  int readonly, uint32_t *refs)
{
	assert_int_equal(xpshim_guest_grant(guest, xt_cfg.self_domid, n,
					    readonly, refs),
			 0);
}

/* "R1:R2:..." of @n refs into @buf. */
static inline void xt_ref_list(char *buf, size_t len, const uint32_t *refs,
			       unsigned int n)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		int k = snprintf(buf + used, len - used, "%s%u", i ? ":" : "",
				 refs[i]);

		assert_true(k > 0 && (size_t)k < len - used);
		used += (size_t)k;
	}
}

/* ---- log capture ---------------------------------------------------- */

#define XT_LOG_LINES 64
#define XT_LOG_TEXT 320

struct xt_log_line {
	int level;
	char text[XT_LOG_TEXT];
};

/*
 * Every message, at any level, since xt_log_reset(); the first
 * XT_LOG_LINES are kept.  Messages the harness' threshold would have shown
 * are also echoed to stderr, unless a test that provokes errors on purpose
 * set quiet.
 */
static struct {
	pthread_mutex_t lock;
	int echo_level;
	int quiet;
	unsigned int n;
	struct xt_log_line line[XT_LOG_LINES];
} xt_log = {.lock = PTHREAD_MUTEX_INITIALIZER};

static inline void xt_log_cb(int level, const char *msg, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&xt_log.lock);
	if (xt_log.n < XT_LOG_LINES) {
		xt_log.line[xt_log.n].level = level;
		snprintf(xt_log.line[xt_log.n].text, XT_LOG_TEXT, "%s", msg);
	}
	xt_log.n++;
	if (level <= xt_log.echo_level && !xt_log.quiet)
		fprintf(stderr, "xenpool[%d]: %s\n", level, msg);
	pthread_mutex_unlock(&xt_log.lock);
}

/* Capture every level from now on (call once, from a group setup). */
static inline void xt_log_capture(void)
{
	xt_log.echo_level = xp_log_get_level();
	assert_int_equal(xp_log_set_level(XP_LOG_DEBUG), 0);
	xp_log_set_callback(xt_log_cb, NULL);
}

static inline void xt_log_reset(int quiet)
{
	pthread_mutex_lock(&xt_log.lock);
	xt_log.n = 0;
	xt_log.quiet = quiet;
	pthread_mutex_unlock(&xt_log.lock);
}

/*
 * Kept lines at @max_level or more severe that contain @a and, unless
 * NULL, @b; the last one found into *@hit when @hit is not NULL.
 */
static inline unsigned int xt_log_count(int max_level, const char *a,
					const char *b,
					const struct xt_log_line **hit)
{
	unsigned int i, n = 0, kept;

	kept = xt_log.n < XT_LOG_LINES ? xt_log.n : XT_LOG_LINES;
	for (i = 0; i < kept; i++) {
		const struct xt_log_line *l = &xt_log.line[i];

		if (l->level > max_level || strstr(l->text, a) == NULL ||
		    (b != NULL && strstr(l->text, b) == NULL))
			continue;
		n++;
		if (hit != NULL)
			*hit = l;
	}
	return n;
}

/* Print what was captured (to understand a failure). */
static inline void xt_log_print(void)
{
	unsigned int i, kept;

	kept = xt_log.n < XT_LOG_LINES ? xt_log.n : XT_LOG_LINES;
	for (i = 0; i < kept; i++)
		print_message("  log[%d]: %s\n", xt_log.line[i].level,
			      xt_log.line[i].text);
}

/* ---- pools ---------------------------------------------------------- */

static inline struct xp_mempool *xt_create(unsigned int n, size_t elt_size,
					   unsigned int cache_size,
					   unsigned int flags,
					   const char *args)
{
	return xp_mempool_create_ex(XT_POOL, n, elt_size, cache_size, 0, NULL,
				    NULL, flags, XP_XEN_HANDLER, args);
}

/* As xt_create(), which must succeed on xen_dom0 itself. */
static inline struct xp_mempool *xt_create_ok(unsigned int n, size_t elt_size,
					      unsigned int cache_size,
					      unsigned int flags,
					      const char *args)
{
	struct xp_mempool *mp;

	errno = 0;
	mp = xt_create(n, elt_size, cache_size, flags, args);
	if (mp == NULL) {
		print_error("create n=%u elt_size=%zu args '%s': %s\n", n,
			    elt_size, args ? args : "(null)",
			    strerror(errno));
		xt_log_print();
	}
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), XP_XEN_HANDLER);
	return mp;
}

/* Creation fails with @err and leaves nothing behind. */
static inline void xt_create_fails(unsigned int n, size_t elt_size,
				   const char *args, int err)
{
	unsigned int pools = tu_pool_count();

	TU_ASSERT_NULL_ERRNO(xt_create(n, elt_size, 0, 0, args), err);
	TU_ASSERT_NO_POOL(XT_POOL);
	assert_int_equal(tu_pool_count(), pools);
	xt_assert_no_leaks();
}

/* ---- an independent view of a pool's pages -------------------------- */

/*
 * The pool's pages in address order, found through the shim, with the
 * grant ref of each (xp_xen_pool_grefs, checked against the shim's grant
 * table) and the pool's description.
 */
struct xt_view {
	struct xp_xen_pool_info info;
	unsigned int pages;
	uintptr_t *va;      /* page addresses, ascending */
	uint64_t *frame;    /* the shim's frame behind each */
	uint32_t *ref;      /* its grant ref */
	uint32_t granter;   /* whose table holds the refs */
	uint32_t grantee;
};

/*
 * Record page @va in @v if the shim handed it out; either way its bus
 * address must say the same: some for the pool's pages, none otherwise.
 */
static inline void xt_scan_page(struct xp_mempool *mp, struct xt_view *v,
				uintptr_t va, unsigned int *k)
{
	uint64_t f = xpshim_frame_of((void *)va);
	uint64_t bus = xp_mempool_virt2phy(mp, (void *)va);

	if (f == XT_NO_FRAME) {
		assert_true(bus == XP_BAD_PHYS);
		return;
	}
	assert_true(bus != XP_BAD_PHYS);
	assert_true(*k < v->pages);
	v->va[*k] = va;
	v->frame[*k] = f;
	(*k)++;
}

/*
 * Find the pool's pages: the shim hands out shared mappings (as Linux's
 * gntalloc and gntdev do), and the share calls of one pool may land far
 * apart, so look at every shared mapping of the process.
 */
static inline unsigned int xt_scan_shared(struct xp_mempool *mp,
					  struct xt_view *v)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	unsigned long lo, hi;
	unsigned int k = 0;
	char line[512], perms[8];

	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps) != NULL) {
		uintptr_t va;

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[3] != 's')
			continue;
		for (va = lo; va < hi; va += XT_PAGE)
			xt_scan_page(mp, v, va, &k);
	}
	fclose(maps);
	return k;
}

static inline int xt_va_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return (x > y) - (x < y);
}

/*
 * Record the pool's pages in @v, in address order, and check that from
 * below the first to above the last, every page that is not the pool's
 * has no bus address (holes between share calls included).
 */
static inline void xt_scan_pages(struct xp_mempool *mp, struct xt_view *v)
{
	uintptr_t va, lo, hi;
	unsigned int k;

	k = xt_scan_shared(mp, v);
	assert_int_equal(k, v->pages);
	qsort(v->va, k, sizeof(*v->va), xt_va_cmp);
	lo = v->va[0] - 16 * XT_PAGE;
	hi = v->va[k - 1] + 17 * XT_PAGE;
	/* Again in address order, frames with them. */
	k = 0;
	for (va = lo; va < hi; va += XT_PAGE)
		xt_scan_page(mp, v, va, &k);
	assert_int_equal(k, v->pages);
}

/* The shim's grant entry of each page names that page's frame. */
static inline void xt_check_refs(const struct xt_view *v)
{
	unsigned int i;

	for (i = 0; i < v->pages; i++) {
		uint64_t frame = 0;
		uint32_t grantee = 0;
		int ro = -1;

		assert_int_equal(xpshim_ref_info(v->granter, v->ref[i], &frame,
						 &grantee, &ro),
				 0);
		assert_true(frame == v->frame[i]);
		assert_int_equal(grantee, v->grantee);
		assert_int_equal(ro, !v->info.writable);
	}
}

/* Expected bus address of @addr, or XP_BAD_PHYS off the pool's pages. */
static inline uint64_t xt_view_bus(const struct xt_view *v, uintptr_t addr)
{
	uintptr_t page = addr & ~(XT_PAGE - 1), off = addr & (XT_PAGE - 1);
	unsigned int lo = 0, hi = v->pages;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (v->va[mid] < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->pages || v->va[lo] != page)
		return XP_BAD_PHYS;
	if (v->info.gref_frames)
		return XP_XEN_GREF_DMA_BIT | (uint64_t)v->ref[lo] << 12 | off;
	return v->frame[lo] << 12 | off;
}

/*
 * Build the view of @mp (a xen_dom0 pool) and check its pages: count,
 * grant refs in address order, and the bus address of each page's first
 * and last byte.
 */
static inline void xt_view_init(struct xt_view *v, struct xp_mempool *mp)
{
	unsigned int i;
	int n;

	memset(v, 0, sizeof(*v));
	assert_int_equal(xp_xen_pool_info(mp, &v->info), 0);
	v->pages = v->info.pages;
	assert_true(v->pages > 0);
	v->va = (uintptr_t *)calloc(v->pages, sizeof(*v->va));
	v->frame = (uint64_t *)calloc(v->pages, sizeof(*v->frame));
	v->ref = (uint32_t *)calloc(v->pages, sizeof(*v->ref));
	assert_non_null(v->va);
	assert_non_null(v->frame);
	assert_non_null(v->ref);
	n = xp_xen_pool_grefs(mp, v->ref, v->pages);
	assert_int_equal(n, (int)v->pages);
	if (v->info.map_mode) {
		v->granter = v->info.domid;
		v->grantee = xt_cfg.self_domid;
	} else {
		v->granter = xt_cfg.self_domid;
		v->grantee = v->info.domid;
	}
	xt_scan_pages(mp, v);
	xt_check_refs(v);
	for (i = 0; i < v->pages; i++) {
		uint64_t b = xt_view_bus(v, v->va[i]);
		uint32_t r = UINT32_MAX;

		/* The ref a peer is told for the page: the shim's. */
		assert_int_equal(xp_xen_virt2gref(mp, (void *)(v->va[i] +
							       XT_PAGE - 1),
						  &r),
				 0);
		assert_int_equal(r, v->ref[i]);

		assert_true(xp_mempool_virt2phy(mp, (void *)v->va[i]) == b);
		assert_true(xp_mempool_virt2phy(mp, (void *)(v->va[i] +
							     XT_PAGE - 1)) ==
			    (b | (XT_PAGE - 1)));
	}
}

static inline void xt_view_fini(struct xt_view *v)
{
	free(v->va);
	free(v->frame);
	free(v->ref);
	memset(v, 0, sizeof(*v));
}

/*
 * Every object: random addresses inside it translate as the view says
 * (in grant-table mode that is also the shim's frame), and it lies in pool
 * pages whose bus addresses (and, in grant-table mode, frames) follow each
 * other, so that a device can DMA it in one piece.
 */
static inline void xt_check_objects(struct xp_mempool *mp,
				    const struct xt_view *v, uint64_t seed)
{
	struct tu_objset s;
	uint64_t rng = seed | 1;
	unsigned int i, j;

	tu_objset_init(&s, mp);
	for (i = 0; i < s.n; i++) {
		uintptr_t obj = (uintptr_t)s.objs[i];
		uintptr_t end = obj + mp->elt_size, page;
		uint64_t prev;

		for (j = 0; j < 4; j++) {
			uintptr_t a = obj + tu_xorshift64(&rng) % mp->elt_size;
			uint64_t f = xpshim_frame_of((void *)a);

			assert_true(f != XT_NO_FRAME);
			assert_true(xp_mempool_virt2phy(mp, (void *)a) ==
				    xt_view_bus(v, a));
			if (!v->info.gref_frames)
				assert_true(xp_mempool_virt2phy(mp,
								(void *)a) ==
					    (f << 12 | (a & (XT_PAGE - 1))));
		}
		assert_true(xt_view_bus(v, end - 1) != XP_BAD_PHYS);
		prev = xt_view_bus(v, obj);
		for (page = (obj | (XT_PAGE - 1)) + 1; page < end;
		     page += XT_PAGE) {
			uint64_t b = xp_mempool_virt2phy(mp, (void *)page);

			assert_true(b == (prev & ~(uint64_t)(XT_PAGE - 1)) +
						 XT_PAGE);
			if (!v->info.gref_frames)
				assert_true(xpshim_frame_of((void *)page) ==
					    1 + xpshim_frame_of((void *)(page -
									 1)));
			prev = b;
		}
	}
	tu_objset_fini(&s);
}

/* Addresses that are not the pool's have no bus address. */
static inline void xt_check_outside(struct xp_mempool *mp,
				    const struct xt_view *v)
{
	int local = 0;
	void *heap = malloc(64);

	assert_non_null(heap);
	assert_true(xp_mempool_virt2phy(mp, &local) == XP_BAD_PHYS);
	assert_true(xp_mempool_virt2phy(mp, heap) == XP_BAD_PHYS);
	assert_true(xp_mempool_virt2phy(mp, NULL) == XP_BAD_PHYS);
	assert_true(xp_mempool_virt2phy(mp, (void *)(v->va[0] - 1)) ==
		    XP_BAD_PHYS);
	assert_true(xp_mempool_virt2phy(mp, (void *)(v->va[v->pages - 1] +
						     XT_PAGE)) == XP_BAD_PHYS);
	free(heap);
}

/* Full check of a xen_dom0 pool's addresses. */
static inline void xt_check_pool(struct xp_mempool *mp, uint64_t seed)
{
	struct xt_view v;

	xt_view_init(&v, mp);
	xt_check_objects(mp, &v, seed);
	xt_check_outside(mp, &v);
	xt_view_fini(&v);
}

/* The process default handler when the group started (tests change it). */
static char xt_default_handler[XP_MEMPOOL_NAMESIZE];

/* Group setup: capture the log, remember the default handler, and refuse
 * to run unless libxenpool loaded the shim. */
static inline int xt_group_setup(void **state)
{
	(void)state;
	xt_log_capture();
	snprintf(xt_default_handler, sizeof(xt_default_handler), "%s",
		 xp_mempool_get_def_handler());
	return xt_shim_loaded() ? 0 : -1;
}

/* Each test starts with an empty log. */
static inline int xt_test_setup(void **state)
{
	(void)state;
	xt_log_reset(0);
	return 0;
}

#endif /* XP_TESTS_XENTEST_H */
