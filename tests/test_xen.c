/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xen_dom0 handler against the mock hypervisor (tests/shim): bus
 * addresses under every frame pattern, chunking, fault injection on every
 * Xen call, the argument string, the gntalloc limit, read-only grants, a
 * peer that keeps pages mapped, grant export, the fallback when Xen is
 * absent, debug mode and map mode.
 *
 * Each test resets the shim before each pool and checks, once the pools are
 * freed, that the handler gave back every grant, mapping and handle.
 */
/* mremap's MREMAP_FIXED, dlsym's RTLD_NEXT. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

#include "testutil.h"
#include "xentest.h"

#define GUEST 3u  /* a guest that grants pages to us (map mode) */
#define PEER 7u   /* the domain we grant pages to (share mode) */
#define OTHER 9u  /* a third domain */


/* A test's scratch directory, /tmp/xt-XXXXXX, holding at most "refs". */
static char tmp_dir[32];

/* Make tmp_dir; the path of its file "refs" into @path. */
static void tmp_make(char *path, size_t len)
{
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/xt-XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
	snprintf(path, len, "%s/refs", tmp_dir);
}

/* Remove tmp_dir, and its file if the test left it. */
static int tmp_remove(void)
{
	char path[64];

	if (tmp_dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/refs", tmp_dir);
	unlink(path);
	if (rmdir(tmp_dir) != 0)
		return -1;
	tmp_dir[0] = '\0';
	return 0;
}

/* After a failed test: drop what it left, so that the next one starts
 * clean. */
static int test_teardown(void **state)
{
	static const char *const names[] = {XT_POOL, "xt_a", "xt_b",
					    "xt_plain", "xt_ring"};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		xp_mempool_free(xp_mempool_lookup(names[i]));
	xpshim_reset(NULL);
	if (tmp_remove() != 0)
		return -1;
	return xp_mempool_def_handler(xt_default_handler);
}

/* ---- 1. virt2phy ---------------------------------------------------- */

/* Privileged: the bus addresses came from the grant table's frames. */
static void check_table_mode(struct xp_mempool *mp, uint64_t seed)
{
	struct xp_xen_pool_info info;

	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.gref_frames, 0);
	assert_true(xpshim_calls(xt_cfg.gnttab_version == 2
					 ? "xc_gnttab_map_table_v2"
					 : "xc_gnttab_map_table_v1") >= 1);
	xt_check_pool(mp, seed);
}

/* Pool of objects smaller than a page, several share batches. */
static void v2p_share_case(const char *args, uint64_t seed)
{
	struct xp_mempool *mp;

	xt_shim_reset();
	mp = xt_create_ok(300, 200, 0, 0, args);
	check_table_mode(mp, seed);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* Guest GUEST grants 24 pages; we map them. */
static void v2p_map_case(uint64_t seed)
{
	uint32_t refs[24];
	char args[512], list[256];
	struct xp_mempool *mp;

	xt_shim_reset();
	xt_guest_grant(GUEST, 24, 0, refs);
	xt_ref_list(list, sizeof(list), refs, 24);
	/* Map mode reads the guest's table only when told to trust it. */
	snprintf(args, sizeof(args), "map=%u,refs=%s,self=%u,frames=grant-table",
		 GUEST, list, xt_cfg.self_domid);
	mp = xt_create_ok(24 * 8, 200, 0, 0, args);
	check_table_mode(mp, seed);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(GUEST, 24, refs), 0);
	xt_assert_no_leaks();
}

static void test_virt2phy_patterns(void **state)
{
	unsigned int p, hvm, version;
	char args[64];

	(void)state;
	snprintf(args, sizeof(args), "peer=%u,batch=8", PEER);
	for (p = 0; p < XT_NPATTERNS; p++)
		for (hvm = 0; hvm < 2; hvm++)
			for (version = 1; version <= 2; version++) {
				xt_cfg_pattern(&xt_patterns[p]);
				xt_cfg.hvm = (int)hvm;
				xt_cfg.gnttab_version = (int)version;
				v2p_share_case(args, p * 4 + hvm * 2 + version);
				v2p_map_case(p * 4 + hvm * 2 + version);
			}
}

/*
 * Share mode reads this domain's own table under DOMID_SELF, whatever its
 * numeric id: Xen refuses a foreign mapping that names the caller's own
 * id (the shim does too), which left every dom0 pool on grant-DMA
 * addresses.  In dom0 and in a driver domain alike.
 */
static void own_grants_case(uint32_t self)
{
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	uint32_t refs[16];
	char args[256], list[128];

	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 9);
	xt_cfg.self_domid = self;
	xt_shim_reset();
	assert_int_equal(xpshim_guest_grant(self, self, 16, 0, refs), 0);
	xt_ref_list(list, sizeof(list), refs, 16);
	snprintf(args, sizeof(args),
		 "map=%u,refs=%s,self=%u,frames=grant-table", self, list, self);
	mp = xt_create_ok(16 * 8, 200, 0, 0, args);
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.gref_frames, 0);
	xt_check_pool(mp, self);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(self, 16, refs), 0);
	xt_assert_no_leaks();
}

static void test_virt2phy_own_table(void **state)
{
	unsigned int self;

	(void)state;
	for (self = 0; self <= 5; self += 5) {
		xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 3 + self);
		xt_cfg.self_domid = self;
		v2p_share_case("peer=7,batch=8", 11 + self);
		assert_int_equal(xpshim_calls("xc_gnttab_map_table_v1"),
				 xpshim_calls("xengntshr_share_pages"));
	}
	/* Map mode over this domain's own grants (a backend and frontend in
	 * one domain, as the real-Xen harness does in dom0): the guest is
	 * this domain, whose table Xen maps only as DOMID_SELF. */
	own_grants_case(5);
	/* self= names the grantee a guest's entries must carry: map mode
	 * only. */
	xt_shim_reset();
	xt_log_reset(1);
	xt_create_fails(300, 200, "peer=7,batch=8,self=0", EINVAL);
	assert_int_equal(xt_log_count(XP_LOG_ERR, "self", "map mode", NULL),
			 1);
}

/* Grant-DMA addresses: asked for, or because the table is unreadable. */
static void gref_case(int unprivileged, int map_mode)
{
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	uint32_t refs[24];
	char args[512], list[256];

	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 21);
	xt_cfg.unprivileged = unprivileged;
	xt_shim_reset();
	if (map_mode) {
		xt_guest_grant(GUEST, 24, 0, refs);
		xt_ref_list(list, sizeof(list), refs, 24);
		snprintf(args, sizeof(args), "map=%u,refs=%s,self=0%s", GUEST,
			 list,
			 unprivileged ? ",frames=grant-table" : ",frames=gref");
	} else {
		snprintf(args, sizeof(args), "peer=%u,batch=8%s", PEER,
			 unprivileged ? "" : ",frames=gref");
	}
	mp = xt_create_ok(map_mode ? 24 * 8 : 300, 200, 0, 0, args);
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.gref_frames, 1);
	/* frames=gref does not even try the grant table. */
	assert_int_equal(xpshim_calls("xc_interface_open"), unprivileged);
	assert_int_equal(xpshim_calls("xc_gnttab_map_table_v1"), 0);
	xt_check_pool(mp, 77 + unprivileged);
	xp_mempool_free(mp);
	if (map_mode)
		assert_int_equal(xpshim_guest_revoke(GUEST, 24, refs), 0);
	xt_assert_no_leaks();
}

static void test_virt2phy_gref(void **state)
{
	(void)state;
	gref_case(0, 0);
	gref_case(1, 0);
	gref_case(0, 1);
	gref_case(1, 1);
}

/* ---- 2. no object crosses a discontinuity --------------------------- */

struct chunk_walk {
	struct xt_view *v;
	unsigned int n;
	int bad;
};

/* A chunk recorded by populate is contiguous pool memory, at its bus
 * address. */
static void chunk_cb(struct xp_mempool *mp, void *arg, void *va,
		     uint64_t phys, size_t len, unsigned int idx)
{
	struct chunk_walk *w = (struct chunk_walk *)arg;
	uintptr_t a = (uintptr_t)va, p;
	uint64_t first = xt_view_bus(w->v, a);

	if (idx != w->n++ || phys != first || first == XP_BAD_PHYS ||
	    phys != xp_mempool_virt2phy(mp, va)) {
		print_error("chunk %u at %p, %zu bytes: bus %#llx, expected "
			    "%#llx\n",
			    idx, va, len, (unsigned long long)phys,
			    (unsigned long long)first);
		w->bad++;
	}
	for (p = (a | (XT_PAGE - 1)) + 1; p < a + len; p += XT_PAGE) {
		uint64_t want = (first & ~(uint64_t)(XT_PAGE - 1)) +
				(p - (a & ~(XT_PAGE - 1)));

		if (xt_view_bus(w->v, p) != want) {
			print_error("chunk %u at %p, %zu bytes: page %p at "
				    "%#llx, expected %#llx\n",
				    idx, va, len, (void *)p,
				    (unsigned long long)xt_view_bus(w->v, p),
				    (unsigned long long)want);
			w->bad++;
		}
	}
}

/* The chunks of @mp, which took the share calls made since @calls were
 * counted (xpshim_calls). */
static void check_chunks(struct xp_mempool *mp, unsigned long calls)
{
	struct xt_view v;
	struct chunk_walk w = {&v, 0, 0};
	unsigned int chunks;

	xt_view_init(&v, mp);
	chunks = xp_mempool_mem_iter(mp, chunk_cb, &w);
	assert_int_equal(chunks, w.n);
	assert_int_equal(w.bad, 0);
	assert_int_equal(w.n, v.info.chunks);
	assert_int_equal(v.info.segments,
			 xpshim_calls("xengntshr_share_pages") - calls);
	xt_check_objects(mp, &v, mp->elt_size);
	xt_view_fini(&v);
}

/* Longest run of consecutive frames the pattern can give. */
static unsigned int longest_run(const struct xt_pattern *p)
{
	if (p->contig == XPSHIM_CONTIG_FULL)
		return UINT32_MAX;
	return p->contig == XPSHIM_CONTIG_NONE ? 1 : p->max_run;
}

static void test_no_crossing(void **state)
{
	static const size_t sizes[] = {64, 100, 2048, 4096, 5000, 9216};
	unsigned int p, i, built = 0, refused = 0;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t elt = sizes[i];
		unsigned int need = (unsigned int)((elt + XT_PAGE - 1) /
						   XT_PAGE);
		unsigned int n = (unsigned int)(32 * XT_PAGE / elt);

		for (p = 0; p < XT_NPATTERNS; p++) {
			struct xp_mempool *mp;

			xt_cfg_pattern(&xt_patterns[p]);
			xt_shim_reset();
			xt_log_reset(1);
			if (longest_run(&xt_patterns[p]) < need) {
				/* No run can hold an object. */
				xt_create_fails(n, elt, "peer=7,batch=8",
						EFBIG);
				refused++;
				continue;
			}
			mp = xt_create_ok(n, elt, 0, 0, "peer=7,batch=8");
			check_chunks(mp, 0);
			xp_mempool_free(mp);
			xt_assert_no_leaks();
			built++;
		}
	}
	assert_int_equal(built + refused, 6 * XT_NPATTERNS);
	assert_true(refused >= 2);
}

/*
 * Frames as Linux's gntalloc hands them out: page by page, in runs that
 * ascend or descend against the addresses, and grant refs reused last
 * freed first.  Read in address order, runs are a page long and no
 * object larger than a page fits (on real Xen 4.17, 16 x 6000 B and
 * 64 x 8192 B pools failed with EFBIG); laid out in bus-address order,
 * they do, with a batch of one page too.
 */
/* On Linux-like frames (seed @seed), after @warm pages of a pool came and
 * went: a pool of @n objects of @elt is created and checked. */
static void jumbo_case(unsigned int seed, unsigned int warm, unsigned int n,
		       size_t elt, const char *args)
{
	struct xp_mempool *mp;
	unsigned long calls;

	xt_cfg_set(XPSHIM_CONTIG_LINUX, 16, seed);
	xt_shim_reset();
	if (warm > 0)
		xp_mempool_free(xt_create_ok(warm * 2, 2048, 0, 0, "peer=7"));
	calls = xpshim_calls("xengntshr_share_pages");
	mp = xt_create_ok(n, elt, 0, 0, args);
	check_chunks(mp, calls);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

static void test_jumbo_linux(void **state)
{
	static const size_t sizes[] = {6000, 8192, 9000};
	static const unsigned int counts[] = {16, 64};
	unsigned int i, j, seed = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		for (j = 0; j < ARRAY_SIZE(counts); j++)
			jumbo_case(++seed, 0, counts[j], sizes[i], "peer=7");
	/* A batch smaller than an object. */
	jumbo_case(77, 0, 16, 9000, "peer=7,batch=1");
	/* Grant-DMA addresses from refs that come back descending. */
	jumbo_case(78, 300, 64, 9000, "peer=7,frames=gref");
}

/* Fragmented frames: more pages are shared, up to max_pages, then EFBIG. */
static void test_fragmented_bound(void **state)
{
	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_NONE, 1, 1);
	xt_shim_reset();
	xt_log_reset(1);
	xt_create_fails(10, 5000, "peer=7,batch=1,max_pages=12", EFBIG);
	/* One page per call: every page up to the bound was tried. */
	assert_int_equal(xpshim_calls("xengntshr_share_pages"), 12);
	assert_int_equal(xt_log_count(XP_LOG_ERR, "max_pages", NULL, NULL), 1);

	/* The default bound ends too. */
	xt_shim_reset();
	xt_create_fails(10, 5000, "peer=7", EFBIG);
	assert_true(xpshim_calls("xengntshr_share_pages") >= 1);

	/* Runs of 2 pages never hold a 9216-byte object. */
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 2, 4);
	xt_shim_reset();
	xt_create_fails(8, 9216, "peer=7,batch=4,max_pages=40", EFBIG);
	assert_int_equal(xpshim_calls("xengntshr_share_pages"), 10);

	/* ... while whole-pool contiguity builds the same pool in one go. */
	xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
	xt_shim_reset();
	xp_mempool_free(xt_create_ok(8, 9216, 0, 0, "peer=7,max_pages=18"));
	assert_int_equal(xpshim_calls("xengntshr_share_pages"), 1);
	xt_assert_no_leaks();
}

/* ---- fallback ------------------------------------------------------- */

/* Who serves a pool when xen_dom0 gives up: the process default, unless
 * that is xen_dom0 itself. */
static const char *fallback_target(void)
{
	const char *def = xp_mempool_get_def_handler();

	return strcmp(def, XP_XEN_HANDLER) == 0 ? "ring_mp_mc" : def;
}

/* Fallback messages at notice so far in the process: "says once why". */
static unsigned int fallback_notices;

/*
 * Since the last xt_log_reset, one message said why xen_dom0 fell back
 * (@open_fn failed with @err, or with errno 0 when @err is 0), and no other
 * message about xen_dom0 was at notice or above.
 */
static void check_fallback_line(const char *open_fn, int err)
{
	const struct xt_log_line *line = NULL;

	if (xt_log_count(XP_LOG_DEBUG, XP_XEN_HANDLER, open_fn, &line) != 1 ||
	    xt_log_count(XP_LOG_NOTICE, XP_XEN_HANDLER, NULL, NULL) >
		    (line->level <= XP_LOG_NOTICE)) {
		xt_log_print();
		fail_msg("expected one message about %s", XP_XEN_HANDLER);
	}
	if (err != 0)
		assert_non_null(strstr(line->text, strerror(err)));
	else
		assert_null(strstr(line->text, strerror(0)));
	if (line->level <= XP_LOG_NOTICE)
		fallback_notices++;
	assert_true(fallback_notices <= 1);
}

/* ---- 3. fault injection --------------------------------------------- */

enum outcome { FAILS, FALLBACK, GREF, TABLE };

struct fault_mode {
	const char *args;   /* NULL: map mode over MAP_REFS guest pages */
	unsigned int n;
	size_t elt_size;
	int version;
};

#define MAP_REFS 24

/*
 * The creation failed with the injected @inject, or left a sound pool,
 * which is then freed.
 */
static enum outcome check_outcome(const struct fault_mode *m,
				  struct xp_mempool *mp, int err, int inject)
{
	struct xp_xen_pool_info info;
	enum outcome got;

	if (mp == NULL) {
		assert_int_not_equal(inject, 0);
		/* Map mode cannot fall back: a failed open is ENODEV. */
		if (!(m->args == NULL && err == ENODEV))
			assert_int_equal(err, inject);
		TU_ASSERT_NO_POOL(XT_POOL);
		return FAILS;
	}
	if (strcmp(xp_mempool_handler_name(mp), XP_XEN_HANDLER) != 0) {
		assert_string_equal(xp_mempool_handler_name(mp),
				    fallback_target());
		assert_int_equal(xp_xen_pool_info(mp, &info), -ENODEV);
		check_fallback_line(m->args ? "xengntshr_open"
					    : "xengnttab_open",
				    inject);
		tu_check_all_free(mp);
		got = FALLBACK;
	} else {
		assert_int_equal(xp_xen_pool_info(mp, &info), 0);
		xt_check_pool(mp, 5);
		tu_check_all_free(mp);
		got = info.gref_frames ? GREF : TABLE;
	}
	xp_mempool_free(mp);
	return got;
}

/*
 * Create the pool of @m with a fault armed on the @nth call of @fn (none
 * when @nth is 0); check; free.  *@calls: the calls of @fn the creation
 * made.
 */
static enum outcome fault_run(const struct fault_mode *m, const char *fn,
			      unsigned long nth, int inject, int *fired,
			      unsigned long *calls)
{
	uint32_t refs[MAP_REFS];
	char args[512], list[256];
	struct xp_mempool *mp;
	unsigned long before;
	enum outcome got;
	int err;

	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 7);
	xt_cfg.gnttab_version = m->version;
	xt_shim_reset();
	if (m->args == NULL) {
		xt_guest_grant(GUEST, MAP_REFS, 0, refs);
		xt_ref_list(list, sizeof(list), refs, MAP_REFS);
		snprintf(args, sizeof(args),
			 "map=%u,refs=%s,self=0,frames=grant-table", GUEST,
			 list);
	} else {
		snprintf(args, sizeof(args), "%s", m->args);
	}
	before = xpshim_calls(fn);
	if (nth > 0)
		xpshim_fail_nth(fn, nth, inject);
	xt_log_reset(1);
	errno = 0;
	mp = xt_create(m->n, m->elt_size, 0, 0, args);
	err = errno;
	*calls = xpshim_calls(fn) - before;
	*fired = xpshim_fail_fired();
	/* Faults are for the creation; the free must not meet one. */
	xpshim_fail_clear();
	if (mp == NULL)
		assert_true(*fired);
	got = check_outcome(m, mp, err, nth > 0 ? inject : 0);
	if (m->args == NULL)
		assert_int_equal(xpshim_guest_revoke(GUEST, MAP_REFS, refs), 0);
	if (!xpshim_no_leaks())
		fail_msg("leaks after a fault (%s) on call %lu of %s: outcome "
			 "%d",
			 strerror(inject), nth, fn != NULL ? fn : "any", got);
	return got;
}

static const struct fault_mode fault_share = {
	"peer=7,batch=4", 40, 2048, 1,
};
static const struct fault_mode fault_share_big = {
	"peer=7,batch=4", 6, 5000, 2,
};
static const struct fault_mode fault_map = {NULL, 40, 2048, 2};

/*
 * Fail the k-th Xen call of the creation, for every k: each time the
 * creation fails with the injected errno or yields a sound pool, and
 * nothing leaks.  Every call is reached once.
 */
static void sweep_any(const struct fault_mode *m, int err)
{
	unsigned long k, calls, c;
	int fired;

	assert_int_equal(fault_run(m, NULL, 0, 0, &fired, &calls), TABLE);
	assert_true(calls >= 5);
	for (k = 1; k <= calls + 1; k++) {
		fault_run(m, NULL, k, err, &fired, &c);
		assert_int_equal(fired, k <= calls);
	}
}

static void test_fault_sweep(void **state)
{
	static const int errs[] = {EIO, ENOMEM, EPERM};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		sweep_any(&fault_share, errs[i]);
		sweep_any(&fault_share_big, errs[i]);
		sweep_any(&fault_map, errs[i]);
	}
}

struct fault_expect {
	const char *fn;
	enum outcome outcome;
};

/* Fail each call of @fn in turn: each gives @expect. */
static void sweep_fn(const struct fault_mode *m, const struct fault_expect *e)
{
	unsigned long k, calls, c;
	int fired;

	assert_int_equal(fault_run(m, e->fn, 0, 0, &fired, &calls), TABLE);
	if (calls == 0)
		print_error("%s never called\n", e->fn);
	assert_true(calls >= 1);
	for (k = 1; k <= calls + 1; k++) {
		enum outcome got = fault_run(m, e->fn, k, EIO, &fired, &c);

		assert_int_equal(fired, k <= calls);
		if (!fired)
			assert_int_equal(got, TABLE);
		else if (got != e->outcome)
			fail_msg("fault on call %lu of %s: outcome %d, "
				 "expected %d",
				 k, e->fn, got, e->outcome);
	}
}

static void test_fault_each_call(void **state)
{
	static const struct fault_expect share_calls[] = {
		{"xengntshr_open", FALLBACK},
		{"xc_interface_open", GREF},
		{"xengntshr_share_pages", FAILS},
		{"xc_gnttab_get_version", GREF},
		{"xc_gnttab_map_table_v1", GREF},
		{"xc_interface_close", TABLE},
	};
	static const struct fault_expect map_calls[] = {
		{"xengnttab_open", FAILS},
		{"xc_interface_open", GREF},
		{"xengnttab_map_domain_grant_refs", FAILS},
		{"xc_gnttab_get_version", GREF},
		{"xc_gnttab_map_table_v2", GREF},
		{"xc_interface_close", TABLE},
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(share_calls) / sizeof(share_calls[0]); i++)
		sweep_fn(&fault_share, &share_calls[i]);
	for (i = 0; i < sizeof(map_calls) / sizeof(map_calls[0]); i++)
		sweep_fn(&fault_map, &map_calls[i]);
}

/* ---- 4. hostile peer, quiescent pool -------------------------------- */

static void test_scribble_quiescent(void **state)
{
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	void *objs[100];

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 8);
	xt_shim_reset();
	mp = xt_create_ok(500, 128, 32, 0, "peer=7,batch=4");
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	/* Objects in this thread's cache and in the handler. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 100), 0);
	xp_mempool_put_bulk(mp, objs, 100);
	assert_int_equal(xpshim_scribble_all(0xff), info.pages);
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);
	assert_int_equal(xpshim_scribble_all(0x00), info.pages);
	xt_check_pool(mp, 8);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* ---- 5. arguments --------------------------------------------------- */

struct bad_arg {
	const char *args;
	const char *key;  /* the message must name it */
};

static void test_bad_args(void **state)
{
	static const struct bad_arg bad[] = {
		{"bogus=1", "bogus"},
		{"peer=7,Peer=8", "Peer"},
		{"peer=abc", "peer"},
		{"peer=7x", "peer"},
		{"peer=-1", "peer"},
		{"peer= 7", "peer"},
		{"peer=", "peer"},
		{"peer=7,peer=8", "peer"},
		{"peer=32752", "peer"},
		{"peer=4294967303", "peer"},
		{"peer", "peer"},
		{"writable=2", "writable"},
		{"writable=yes", "writable"},
		{"frames=bogus", "frames"},
		{"frames=", "frames"},
		{"self=x", "self"},
		{"self=0", "self"},
		{"peer=7,self=5", "self"},
		{"batch=0", "batch"},
		{"batch=1,batch=1", "batch"},
		{"max_pages=0", "max_pages"},
		{"max_pages=12abc", "max_pages"},
		{"refs=8:9", "refs"},
		{"map=3", "map"},
		{"map=99999,refs=8", "map"},
		{"map=3,refs=", "refs"},
		{"map=3,refs=8:x:9", "refs"},
		{"map=3,refs=@/nonexistent/xt-refs", "refs"},
		{"map=3,refs=8,peer=7", "peer"},
		{"map=3,refs=8,publish=/tmp/x", "publish"},
		{"publish=", "publish"},
		{"map=3,refs=8::9", "refs"},
		{"map=3,refs=:8", "refs"},
		{"map=3,refs=8:", "refs"},
		{"map=3,refs=8 9", "refs"},
		{"map=3,refs=8:9:8", "refs"},
		{"map=3,refs=8:4294967295", "refs"},
		{"peer=7,,batch=4", "empty"},
		{",peer=7", "empty"},
		{"peer=7,", "empty"},
	};
	unsigned int i, absent;

	(void)state;
	for (absent = 0; absent < 2; absent++)
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
			/* Strict even where Xen is absent. */
			xt_cfg.absent = absent ? XPSHIM_ABSENT_ENOENT
					       : XPSHIM_PRESENT;
			xt_shim_reset();
			xt_log_reset(1);
			xt_create_fails(10, 64, bad[i].args, EINVAL);
			if (xt_log_count(XP_LOG_ERR, bad[i].key, NULL, NULL) ==
			    0) {
				xt_log_print();
				fail_msg("'%s': no message names '%s'",
					 bad[i].args, bad[i].key);
			}
			/* Nothing was asked of Xen. */
			assert_int_equal(xpshim_calls(NULL), 0);
		}
}

/* No arguments: share mode, peer 0, writable, grant-table frames. */
static void test_default_args(void **state)
{
	static const char *const none[] = {NULL, ""};
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 2);
		xt_shim_reset();
		mp = xt_create_ok(100, 64, 0, 0, none[i]);
		assert_int_equal(xp_xen_pool_info(mp, &info), 0);
		assert_int_equal(info.map_mode, 0);
		assert_int_equal(info.domid, 0);
		assert_int_equal(info.writable, 1);
		assert_int_equal(info.gref_frames, 0);
		xt_check_pool(mp, 1);
		xp_mempool_free(mp);
		xt_assert_no_leaks();
	}
}

/* refs=@FILE: the same list, with spaces and newlines. */
static void test_refs_file(void **state)
{
	char path[64], args[128];
	uint32_t refs[12], got[12];
	struct xp_mempool *mp;
	unsigned int i;
	FILE *f;

	(void)state;
	tmp_make(path, sizeof(path));
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 9);
	xt_shim_reset();
	xt_guest_grant(GUEST, 12, 0, refs);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 12; i++)
		fprintf(f, "%u%s", refs[i],
			i % 3 == 2 ? "\n" : i % 2 ? " " : ":");
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "map=%u,refs=@%s,self=0", GUEST, path);
	mp = xt_create_ok(40, 1000, 0, 0, args);
	/* Mapped in the file's order, which is the address order. */
	assert_int_equal(xp_xen_pool_grefs(mp, got, 12), 12);
	assert_memory_equal(got, refs, sizeof(refs));
	xt_check_pool(mp, 3);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(GUEST, 12, refs), 0);
	xt_assert_no_leaks();
	assert_int_equal(unlink(path), 0);
}

/*
 * refs=@FILE that is not a regular file is refused at once: a FIFO with no
 * writer used to block the open for ever (the alarm turns that into a
 * failure), a directory or a device gave other messages.  Messages name
 * the file, never what it holds.
 */
static void test_refs_file_bad(void **state)
{
	static const char long_ref[] = "123456789012345678901234567890";
	char path[64], args[128];
	const char *targets[3];
	unsigned int i;
	FILE *f;

	(void)state;
	tmp_make(path, sizeof(path));
	assert_int_equal(mkfifo(path, 0600), 0);
	targets[0] = path;
	targets[1] = tmp_dir;
	targets[2] = "/dev/null";
	alarm(30);
	for (i = 0; i < ARRAY_SIZE(targets); i++) {
		snprintf(args, sizeof(args), "map=%u,refs=@%s", GUEST,
			 targets[i]);
		xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
		xt_shim_reset();
		xt_log_reset(1);
		xt_create_fails(10, 64, args, EINVAL);
		if (xt_log_count(XP_LOG_ERR, targets[i], "not a regular file",
				 NULL) != 1) {
			xt_log_print();
			fail_msg("'%s': no message says it is not a regular "
				 "file", args);
		}
	}
	alarm(0);
	assert_int_equal(unlink(path), 0);

	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "8 %s\n", long_ref);
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "map=%u,refs=@%s", GUEST, path);
	xt_shim_reset();
	xt_log_reset(1);
	xt_create_fails(10, 64, args, EINVAL);
	assert_int_equal(xt_log_count(XP_LOG_ERR, path, "too long", NULL), 1);
	assert_int_equal(xt_log_count(XP_LOG_DEBUG, long_ref, NULL, NULL), 0);
}

/* ---- 6. gntalloc limit ---------------------------------------------- */

/* Near the limit the handler halves its batch until one page no longer
 * fits: at least @share_calls calls, then ENOSPC. */
static void limit_fails(const char *args, unsigned long share_calls)
{
	xt_shim_reset();
	xt_log_reset(1);
	/* libxengnttab reports each refused share ("gntshr: error: ioctl
	 * failed: No space left on device"): on real Xen that went to the
	 * terminal once per halved batch. */
	tu_stderr_begin();
	xt_create_fails(20, 4096, args, ENOSPC);
	tu_stderr_end_empty();
	assert_true(xpshim_calls("xengntshr_share_pages") >= share_calls);
	if (xt_log_count(XP_LOG_ERR,
			 "/sys/module/xen_gntalloc/parameters/limit", NULL,
			 NULL) != 1) {
		xt_log_print();
		fail_msg("no single message names the gntalloc limit file");
	}
	/* The library's words arrived in the log, as a detail: the
	 * handler expected the refusals and halved its batch. */
	assert_true(xt_log_count(XP_LOG_DEBUG, "gntshr", "ioctl failed",
				 NULL) >= 2);
	assert_int_equal(xt_log_count(XP_LOG_INFO, "gntshr", NULL, NULL), 0);
}

static void test_gntalloc_limit(void **state)
{
	struct xp_mempool *a, *b;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
	xt_cfg.limit = 8;
	/* 20 pages, then 10, then 5 (fits), ... until one page fails. */
	limit_fails("peer=7", 4);
	/* Two batches of 4 fit, then 4, 2, 1 fail: all given back. */
	limit_fails("peer=7,batch=4", 5);

	/* The limit counts every pool's pages. */
	xt_shim_reset();
	a = xp_mempool_create_ex("xt_a", 6, 4096, 0, 0, NULL, NULL, 0,
				 XP_XEN_HANDLER, "peer=7");
	assert_non_null(a);
	xt_log_reset(1);
	TU_ASSERT_NULL_ERRNO(xp_mempool_create_ex("xt_b", 4, 4096, 0, 0,
						  NULL, NULL, 0,
						  XP_XEN_HANDLER, "peer=7"),
			     ENOSPC);
	TU_ASSERT_NO_POOL("xt_b");
	xp_mempool_free(a);
	b = xp_mempool_create_ex("xt_b", 4, 4096, 0, 0, NULL, NULL, 0,
				 XP_XEN_HANDLER, "peer=7");
	assert_non_null(b);
	xp_mempool_free(b);
	xt_assert_no_leaks();
}

/* ---- 7. read-only grants -------------------------------------------- */

/* ---- moving pages into bus order, when a move fails ----------------- */

/*
 * The process's mremap, which the handler calls to move pages (libc's
 * boundary, as the shim is Xen's): it can fail its Nth call with ENOMEM,
 * as when vm.max_map_count is reached, and put a sentinel page where each
 * moved page was, so that a teardown that unmaps the old places (which
 * another thread may have mapped by then) is caught.
 */
#define SENTINELS 4096

static struct {
	unsigned long calls, fail_at; /* fail_at 0: never */
	int sentinels;
	unsigned int nsent;
	struct {
		void *va;
		size_t len;
	} sent[SENTINELS];
} mr;

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	static void *(*real)(void *, size_t, size_t, int, ...);
	void *to = NULL, *ret;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		to = va_arg(ap, void *);
		va_end(ap);
	}
	if (real == NULL)
		real = (void *(*)(void *, size_t, size_t, int, ...))dlsym(
			RTLD_NEXT, "mremap");
	if (mr.fail_at != 0 && ++mr.calls == mr.fail_at) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	ret = real(old, old_len, new_len, flags, to);
	if (ret != MAP_FAILED && mr.sentinels && mr.nsent < SENTINELS &&
	    mmap(old, old_len, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) == old) {
		mr.sent[mr.nsent].va = old;
		mr.sent[mr.nsent++].len = old_len;
	}
	return ret;
}

/* Every sentinel is still mapped; then they go. */
static void sentinels_check(void)
{
	unsigned int i;

	for (i = 0; i < mr.nsent; i++) {
		assert_int_equal(msync(mr.sent[i].va, mr.sent[i].len, MS_ASYNC),
				 0);
		munmap(mr.sent[i].va, mr.sent[i].len);
	}
	mr.nsent = 0;
}

/*
 * Pages that must move (Linux-like frames, 9000-byte objects): the move
 * fails at each of its mremap calls in turn; every time the creation fails
 * with ENOMEM, gives back every grant and mapping, and unmaps nothing that
 * was not the pool's.  Then it succeeds, and its free too.
 */
static void test_layout_faults(void **state)
{
	struct xp_mempool *mp;
	unsigned long k, moves;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_LINUX, 16, 31);
	xt_shim_reset();
	mr = (__typeof__(mr)){.sentinels = 1};
	mp = xt_create_ok(48, 9000, 0, 0, "peer=7");
	moves = mr.nsent;
	assert_true(moves > 1);
	xp_mempool_free(mp);
	sentinels_check();
	xt_assert_no_leaks();
	for (k = 1; k <= moves; k += k < 8 ? 1 : moves / 8) {
		xt_shim_reset();
		xt_log_reset(1);
		mr = (__typeof__(mr)){.fail_at = k, .sentinels = 1};
		xt_create_fails(48, 9000, "peer=7", ENOMEM);
		assert_int_equal(mr.calls, k);
		assert_int_equal(xt_log_count(XP_LOG_ERR, "mremap",
					      "max_map_count", NULL),
				 1);
		sentinels_check();
		xt_assert_no_leaks();
	}
	mr.fail_at = 0;
	mr.sentinels = 0;
}

/* ---- fork: the pool's pages stay with the parent --------------------- */

/* A forked child reads @p: 0, or the signal that stopped it. */
static int child_reads(const volatile uint8_t *p)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka would catch the fault and go on with the suite. */
		signal(SIGSEGV, SIG_DFL);
		_exit(*p == 0x5a ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/*
 * A child would share the objects but not the pool's (copied) bookkeeping,
 * and keep the grants alive past the parent's free: the pages are not
 * inherited (MADV_DONTFORK), moved into bus order or not, shared or
 * mapped.
 */
static void test_fork(void **state)
{
	static const struct {
		size_t elt;
		enum xpshim_contig contig;
	} c[] = {{200, XPSHIM_CONTIG_FULL}, {9000, XPSHIM_CONTIG_LINUX}};
	struct xp_mempool *mp;
	uint32_t refs[8];
	char args[128], list[64];
	void *obj;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		xt_cfg_set(c[i].contig, 16, 5);
		xt_shim_reset();
		mp = xt_create_ok(64, c[i].elt, 0, 0, "peer=7");
		assert_int_equal(xp_mempool_get_bulk(mp, &obj, 1), 0);
		memset(obj, 0x5a, c[i].elt);
		assert_int_equal(child_reads(obj), SIGSEGV);
		xp_mempool_put_bulk(mp, &obj, 1);
		xp_mempool_free(mp);
		xt_assert_no_leaks();
	}
	xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
	xt_shim_reset();
	xt_guest_grant(GUEST, 8, 0, refs);
	xt_ref_list(list, sizeof(list), refs, 8);
	snprintf(args, sizeof(args), "map=%u,refs=%s", GUEST, list);
	mp = xt_create_ok(8, 4000, 0, 0, args);
	assert_int_equal(xp_mempool_get_bulk(mp, &obj, 1), 0);
	memset(obj, 0x5a, 4000);
	assert_int_equal(child_reads(obj), SIGSEGV);
	xp_mempool_put_bulk(mp, &obj, 1);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(GUEST, 8, refs), 0);
	xt_assert_no_leaks();
}

static void test_readonly(void **state)
{
	struct xp_mempool_access acc;
	struct xt_view v;
	struct xp_mempool *mp;
	void *obj, *view = NULL;
	uintptr_t off;
	unsigned int i;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 4);
	xt_shim_reset();
	/* Granted read-write: the peer may write the objects. */
	mp = xt_create_ok(64, 256, 0, 0, "peer=7");
	assert_int_equal(xp_mempool_access(mp, &acc), 0);
	assert_int_equal(acc.writable, 1);
	assert_int_equal(acc.peer_writable, 1);
	xp_mempool_free(mp);
	mp = xt_create_ok(64, 256, 0, 0, "peer=7,writable=0");
	xt_view_init(&v, mp);  /* checks readonly == 1 on every ref */
	assert_int_equal(v.info.writable, 0);
	/* Writable here, by nobody else. */
	assert_int_equal(xp_mempool_access(mp, &acc), 0);
	assert_int_equal(acc.writable, 1);
	assert_int_equal(acc.peer_writable, 0);
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	/* Our side writes; the peer reads the same bytes. */
	memset(obj, 0x5a, 256);
	off = (uintptr_t)obj & (XT_PAGE - 1);
	for (i = 0; i < v.pages; i++)
		if (v.va[i] == ((uintptr_t)obj & ~(XT_PAGE - 1)))
			break;
	assert_true(i < v.pages);
	assert_int_equal(xpshim_peer_map(PEER, xt_cfg.self_domid, v.ref[i], 1,
					 &view),
			 -EPERM);
	assert_int_equal(xpshim_peer_map(OTHER, xt_cfg.self_domid, v.ref[i],
					 0, &view),
			 -EPERM);
	assert_int_equal(xpshim_peer_map(PEER, xt_cfg.self_domid, v.ref[i], 0,
					 &view),
			 0);
	assert_memory_equal((char *)view + off, obj, 256);
	/* The peer's view is not pool memory. */
	assert_true(xp_mempool_virt2phy(mp, view) == XP_BAD_PHYS);
	/* A read-only grant is not scribbled on. */
	assert_int_equal(xpshim_scribble_all(0xff), 0);
	assert_int_equal(xpshim_peer_unmap(PEER, xt_cfg.self_domid, v.ref[i]),
			 0);
	xp_mempool_put(mp, obj);
	xt_view_fini(&v);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* ---- 8. the peer keeps a page mapped -------------------------------- */

static void test_peer_keeps_mapping(void **state)
{
	struct xpshim_leaks leaks;
	struct xp_mempool *mp;
	uint32_t ref;
	void *view = NULL;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 6);
	xt_shim_reset();
	mp = xt_create_ok(64, 256, 0, 0, "peer=7");
	assert_true(xp_xen_pool_grefs(mp, &ref, 1) >= 1);
	assert_int_equal(xpshim_peer_map(PEER, xt_cfg.self_domid, ref, 1,
					 &view),
			 0);
	assert_true(xp_mempool_virt2phy(mp, view) == XP_BAD_PHYS);
	xp_mempool_free(mp);
	xpshim_leaks(&leaks);
	assert_int_equal(leaks.shared, 0);
	assert_int_equal(leaks.mapped, 0);
	assert_int_equal(leaks.handles, 0);
	assert_int_equal(leaks.tables, 0);
	/* The grant lives until the peer lets go of the page. */
	assert_int_equal(leaks.refs, 1);
	assert_int_equal(xpshim_peer_unmap(PEER, xt_cfg.self_domid, ref), 0);
	xt_assert_no_leaks();
}

/* ---- 9. grant export ------------------------------------------------ */

static void check_grefs_api(struct xp_mempool *mp, unsigned int pages)
{
	uint32_t *refs = calloc(pages + 1, sizeof(*refs));
	uint32_t *all = calloc(pages, sizeof(*all));
	unsigned int i;

	assert_non_null(refs);
	assert_non_null(all);
	assert_int_equal(xp_xen_pool_grefs(mp, NULL, 0), (int)pages);
	assert_int_equal(xp_xen_pool_grefs(mp, NULL, 1), -EINVAL);
	assert_int_equal(xp_xen_pool_grefs(NULL, refs, pages), -EINVAL);
	assert_int_equal(xp_xen_pool_grefs(mp, all, pages), (int)pages);
	/* A short buffer gets the first refs and not a byte more. */
	for (i = 0; i <= pages; i++)
		refs[i] = 0xdeadbeef;
	assert_int_equal(xp_xen_pool_grefs(mp, refs, pages / 2), (int)pages);
	assert_memory_equal(refs, all, pages / 2 * sizeof(*refs));
	for (i = pages / 2; i <= pages; i++)
		assert_int_equal(refs[i], 0xdeadbeef);
	free(refs);
	free(all);
}

/* The file holds "R1:R2:...\n", the refs in address order. */
static void check_published(const char *path, struct xp_mempool *mp,
			    unsigned int pages)
{
	uint32_t *refs = calloc(pages, sizeof(*refs));
	char *want = malloc(pages * 11 + 2), got[8192];
	size_t len;
	FILE *f;

	assert_non_null(refs);
	assert_non_null(want);
	assert_int_equal(xp_xen_pool_grefs(mp, refs, pages), (int)pages);
	xt_ref_list(want, pages * 11 + 2, refs, pages);
	strcat(want, "\n");
	f = fopen(path, "r");
	assert_non_null(f);
	len = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[len] = '\0';
	assert_string_equal(got, want);
	free(refs);
	free(want);
}

/* virt2gref's errors, each leaving the output alone. */
static void check_virt2gref_errors(struct xp_mempool *mp)
{
	uint32_t r = 12345;
	int local = 0;
	void *obj;

	assert_int_equal(xp_mempool_get_bulk(mp, &obj, 1), 0);
	assert_int_equal(xp_xen_virt2gref(NULL, obj, &r), -EINVAL);
	assert_int_equal(xp_xen_virt2gref(mp, obj, NULL), -EINVAL);
	assert_int_equal(xp_xen_virt2gref(mp, &local, &r), -ENOENT);
	assert_int_equal(xp_xen_virt2gref(mp, NULL, &r), -ENOENT);
	assert_int_equal(r, 12345);
	assert_int_equal(xp_xen_virt2gref(mp, obj, &r), 0);
	assert_true(r != 12345);
	xp_mempool_put_bulk(mp, &obj, 1);
}

static void test_grant_export(void **state)
{
	char path[64], args[128], keep[16];
	struct xp_xen_pool_info info;
	struct xp_mempool *mp, *ring;
	FILE *f;

	(void)state;
	tmp_make(path, sizeof(path));
	snprintf(args, sizeof(args), "peer=%u,batch=4,publish=%s", PEER,
		 path);
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 10);
	xt_shim_reset();
	mp = xt_create_ok(200, 500, 0, 0, args);
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.map_mode, 0);
	assert_int_equal(info.domid, PEER);
	assert_int_equal(info.writable, 1);
	assert_int_equal(info.gref_frames, 0);
	assert_true(info.pages >= 200 * 512 / XP_PAGE_SIZE);
	assert_true(info.chunks >= 1 && info.chunks <= info.pages);
	assert_int_equal(info.segments, xpshim_calls("xengntshr_share_pages"));
	assert_true(info.segments >= info.pages / 4);
	check_grefs_api(mp, info.pages);
	check_published(path, mp, info.pages);
	xt_check_pool(mp, 9);  /* address order against the shim's table */
	assert_int_equal(xp_xen_pool_info(NULL, &info), -EINVAL);
	assert_int_equal(xp_xen_pool_info(mp, NULL), -EINVAL);
	check_virt2gref_errors(mp);
	xp_mempool_free(mp);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	xt_assert_no_leaks();

	/* FILE replaced since (by another pool, or anyone): the free leaves
	 * the new file alone. */
	xt_shim_reset();
	mp = xt_create_ok(20, 500, 0, 0, args);
	{
		char other[80];

		snprintf(other, sizeof(other), "%s.other", path);
		f = fopen(other, "w");
		assert_non_null(f);
		fputs("other\n", f);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(rename(other, path), 0);
	}
	xp_mempool_free(mp);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(keep, sizeof(keep), f));
	fclose(f);
	assert_string_equal(keep, "other\n");
	assert_int_equal(unlink(path), 0);
	xt_assert_no_leaks();

	/* A pool of another handler. */
	ring = xp_mempool_create_ex("xt_ring", 16, 64, 0, 0, NULL, NULL, 0,
				    "ring_mp_mc", NULL);
	assert_non_null(ring);
	assert_int_equal(xp_xen_pool_grefs(ring, NULL, 0), -ENODEV);
	assert_int_equal(xp_xen_pool_info(ring, &info), -ENODEV);
	{
		uint32_t r = 1;

		assert_int_equal(xp_xen_virt2gref(ring, ring, &r), -ENODEV);
		assert_int_equal(r, 1);
	}
	xp_mempool_free(ring);

	/* Where the file cannot be written the pool is not created. */
	snprintf(args, sizeof(args), "peer=%u,publish=%s/no/such/dir", PEER,
		 tmp_dir);
	xt_shim_reset();
	xt_log_reset(1);
	errno = 0;
	assert_null(xt_create(20, 64, 0, 0, args));
	assert_int_equal(errno, ENOENT);
	TU_ASSERT_NO_POOL(XT_POOL);
	xt_assert_no_leaks();

	/* A creation that fails before publishing (some pages shared, not
	 * all) leaves FILE alone. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("keep\n", f);
	assert_int_equal(fclose(f), 0);
	snprintf(args, sizeof(args), "peer=%u,batch=4,publish=%s", PEER,
		 path);
	xt_cfg.limit = 4;
	xt_shim_reset();
	xt_create_fails(8, 4096, args, ENOSPC);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(keep, sizeof(keep), f));
	fclose(f);
	assert_string_equal(keep, "keep\n");
}

/* ---- 10. fallback when Xen is absent -------------------------------- */

/* @on_default: create on the default handler rather than by name. */
static void fallback_case(enum xpshim_absent absent, int map_mode,
			  int on_default)
{
	const char *open_fn = map_mode ? "xengnttab_open" : "xengntshr_open";
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;

	xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
	xt_cfg.absent = absent;
	xt_shim_reset();
	xt_log_reset(1);
	errno = 0;
	if (on_default)
		mp = xp_mempool_create(XT_POOL, 100, 64, 8, 0, NULL, NULL, 0);
	else
		mp = xt_create(100, 64, 8, 0,
			       map_mode ? "map=3,refs=8:9,self=0" : "peer=7");
	if (map_mode) {
		/* A backend mapping a guest's pages gets no private stand-in:
		 * ENODEV, and nothing left behind. */
		assert_null(mp);
		assert_int_equal(errno, ENODEV);
		assert_int_equal(xpshim_calls(open_fn), 1);
		assert_int_equal(xt_log_count(XP_LOG_ERR, "map mode needs Xen",
					      NULL, NULL),
				 1);
		xt_assert_no_leaks();
		return;
	}
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), fallback_target());
	assert_int_equal(xp_xen_pool_grefs(mp, NULL, 0), -ENODEV);
	assert_int_equal(xp_xen_pool_info(mp, &info), -ENODEV);
	tu_check_all_free(mp);
	assert_int_equal(xp_mempool_audit(mp), 0);
	check_fallback_line(open_fn,
			    absent == XPSHIM_ABSENT_ENOENT ? ENOENT : 0);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_calls(open_fn), 1);
	xt_assert_no_leaks();
}

static void test_fallback(void **state)
{
	unsigned int m;

	(void)state;
	for (m = 0; m < 2; m++) {
		fallback_case(XPSHIM_ABSENT_ENOENT, (int)m, 0);
		fallback_case(XPSHIM_ABSENT_NOERRNO, (int)m, 0);
	}
	/* The process default serves instead... */
	assert_int_equal(xp_mempool_def_handler("ring_sp_mc"), 0);
	fallback_case(XPSHIM_ABSENT_ENOENT, 0, 0);
	/* ... unless it is xen_dom0 itself: then ring_mp_mc, not a loop. */
	assert_int_equal(xp_mempool_def_handler(XP_XEN_HANDLER), 0);
	fallback_case(XPSHIM_ABSENT_ENOENT, 0, 1);
	fallback_case(XPSHIM_ABSENT_NOERRNO, 0, 1);
	assert_int_equal(xp_mempool_def_handler(xt_default_handler), 0);
	assert_string_equal(xp_mempool_get_def_handler(), xt_default_handler);
	/* Said once at notice in the process, whatever came first. */
	assert_int_equal(fallback_notices, 1);
}

/* ---- 11. debug mode ------------------------------------------------- */

static void test_debug_mode(void **state)
{
	struct xp_mempool_debug_stats st;
	struct xp_mempool *mp, *plain;
	void *obj, *objs[32];
	int local;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 13);
	xt_shim_reset();
	mp = xt_create_ok(32, 64, 0, XP_MEMPOOL_F_DEBUG, "peer=7");
	plain = xp_mempool_create_ex("xt_plain", 32, 64, 0, 0, NULL, NULL, 0,
				     XP_XEN_HANDLER, "peer=7");
	assert_non_null(plain);
	/* No guard word in memory the peer can write. */
	assert_int_equal(mp->obj_stride, plain->obj_stride);
	xp_mempool_free(plain);

	/* Scribbling over every byte, guard or not, is no overrun. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 32), 0);
	assert_true(xpshim_scribble_all(0xa5) > 0);
	xp_mempool_put_bulk(mp, objs, 32);
	assert_int_equal(xp_mempool_get_debug_stats(mp, &st), 0);
	assert_true(st.overrun == 0 && st.double_put == 0 &&
		    st.foreign_put == 0);
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);

	xt_log_reset(1);
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	xp_mempool_put(mp, obj);
	xp_mempool_put(mp, obj);                 /* double */
	xp_mempool_put(mp, (char *)obj + 8);     /* inside granted memory */
	xp_mempool_put(mp, &local);              /* not the pool's at all */
	assert_int_equal(xp_mempool_get_debug_stats(mp, &st), 0);
	assert_true(st.double_put == 1);
	assert_true(st.foreign_put == 2);
	assert_true(st.overrun == 0);
	assert_int_equal(xp_mempool_avail_count(mp), 32);
	assert_int_equal(xp_mempool_audit(mp), -EILSEQ);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* ---- 12. map mode --------------------------------------------------- */

static struct xp_mempool *map_pool(const uint32_t *refs, unsigned int n,
				   unsigned int objs, const char *extra)
{
	char args[512], list[256];

	xt_ref_list(list, sizeof(list), refs, n);
	snprintf(args, sizeof(args), "map=%u,refs=%s,self=0%s", GUEST, list,
		 extra);
	errno = 0;
	return xt_create(objs, 2048, 0, 0, args);
}

static void test_map_mode(void **state)
{
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	uint32_t refs[16], got[16];

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 14);
	xt_shim_reset();
	xt_guest_grant(GUEST, 16, 0, refs);
	mp = map_pool(refs, 16, 32, "");
	assert_non_null(mp);
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.map_mode, 1);
	/* Map mode's default: grant-DMA addresses, never the guest's own
	 * table, which the guest could rewrite (no libxenctrl at all). */
	assert_int_equal(info.gref_frames, 1);
	assert_int_equal(xpshim_calls("xc_interface_open"), 0);
	assert_int_equal(info.domid, GUEST);
	assert_int_equal(info.writable, 1);
	assert_int_equal(info.pages, 16);
	assert_int_equal(info.segments, 1);
	assert_int_equal(xp_xen_pool_grefs(mp, got, 16), 16);
	assert_memory_equal(got, refs, sizeof(refs));
	xt_check_pool(mp, 14);
	/* The guest cannot take back pages we have mapped. */
	assert_int_equal(xpshim_guest_revoke(GUEST, 16, refs), -EBUSY);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(GUEST, 16, refs), 0);
	xt_assert_no_leaks();

	/* Too few pages for the objects. */
	xt_guest_grant(GUEST, 2, 0, refs);
	xt_log_reset(1);
	assert_null(map_pool(refs, 2, 100, ""));
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(xpshim_guest_revoke(GUEST, 2, refs), 0);
	xt_assert_no_leaks();

	/* Refs granted to another domain are not ours to map (gntdev says
	 * EINVAL to every refusal). */
	assert_int_equal(xpshim_guest_grant(GUEST, OTHER, 4, 0, refs), 0);
	assert_null(map_pool(refs, 4, 4, ""));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xpshim_guest_revoke(GUEST, 4, refs), 0);
	xt_assert_no_leaks();

	/* A ref not in use. */
	xt_guest_grant(GUEST, 4, 0, refs);
	memcpy(got, refs, 4 * sizeof(*refs));
	got[3] = refs[3] + 1000;
	assert_null(map_pool(got, 4, 4, ""));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(xpshim_guest_revoke(GUEST, 4, refs), 0);
	xt_assert_no_leaks();

	/* The guest's table trusted under a wrong self=: its entries grant
	 * to another domain, so they are refused, and the mapping undone. */
	{
		char args[512], list[256];

		xt_guest_grant(GUEST, 4, 0, refs);
		xt_ref_list(list, sizeof(list), refs, 4);
		snprintf(args, sizeof(args),
			 "map=%u,refs=%s,self=9,frames=grant-table", GUEST,
			 list);
		errno = 0;
		assert_null(xt_create(4, 2048, 0, 0, args));
		assert_int_equal(errno, EPROTO);
		assert_int_equal(xpshim_guest_revoke(GUEST, 4, refs), 0);
		xt_assert_no_leaks();
	}
}

static void test_map_readonly(void **state)
{
	struct xp_mempool_access acc;
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;
	uint32_t refs[8];
	void *obj;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 4, 15);
	xt_shim_reset();
	xt_guest_grant(GUEST, 8, 1, refs);
	/* Asking to write a read-only grant fails (EINVAL, as gntdev). */
	xt_log_reset(1);
	assert_null(map_pool(refs, 8, 16, ""));
	assert_int_equal(errno, EINVAL);
	TU_ASSERT_NO_POOL(XT_POOL);
	/* writable=0 maps it. */
	mp = map_pool(refs, 8, 16, ",writable=0");
	assert_non_null(mp);
	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	assert_int_equal(info.writable, 0);
	/* What a program without <xenpool/xen.h> learns: do not write. */
	assert_int_equal(xp_mempool_access(mp, &acc), 0);
	assert_int_equal(acc.writable, 0);
	/* The guest still writes its own pages. */
	assert_int_equal(acc.peer_writable, 1);
	assert_non_null(strstr(acc.how, "read-only, mapped from domain"));
	xt_check_pool(mp, 15);  /* readonly == 1 in the guest's table */
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	assert_int_equal(*(volatile unsigned char *)obj,
			 *(volatile unsigned char *)obj);
	xp_mempool_put(mp, obj);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
	assert_int_equal(xpshim_guest_revoke(GUEST, 8, refs), 0);
	xt_assert_no_leaks();
}

/*
 * xp_mempool_chunk_info on xen_dom0, against the shim's frames: each chunk
 * lies on consecutive frames, its phys is its first byte's, the frames
 * around it are not its continuation (a chunk is a whole run), and every
 * object of the pool is in one.
 */
static void test_chunk_info_frames(void **state)
{
	static const unsigned int elts[] = { 64, 2000, 9000 };
	unsigned int e, i, k, objs;

	(void)state;
	for (e = 0; e < sizeof(elts) / sizeof(elts[0]); e++) {
		struct xp_mempool *mp;

		xt_cfg_set(XPSHIM_CONTIG_RANDOM, 6, 21 + e);
		xt_shim_reset();
		mp = xt_create_ok(elts[e] > 4096 ? 40 : 300, elts[e], 0, 0,
				  "peer=7");
		objs = 0;
		for (i = 0; i < xp_mempool_chunk_count(mp); i++) {
			struct xp_mempool_chunk c;
			uintptr_t va;
			uint64_t f0;

			assert_int_equal(xp_mempool_chunk_info(mp, i, &c), 0);
			va = (uintptr_t)c.va;
			f0 = xpshim_frame_of(c.va);
			assert_true(f0 != XT_NO_FRAME);
			assert_true(c.phys == f0 * XT_PAGE + (va & (XT_PAGE - 1)));
			for (k = 1; (va & ~(XT_PAGE - 1)) + k * XT_PAGE <
				    va + c.len;
			     k++)
				assert_true(xpshim_frame_of((void *)(
						    (va & ~(XT_PAGE - 1)) +
						    k * XT_PAGE)) == f0 + k);
			/* Every object's bus address is the chunk's plus
			 * its offset. */
			for (k = 0; k < c.nobjs; k++) {
				char *o = (char *)c.first_obj +
					  (size_t)k * mp->obj_stride;

				assert_true(xp_mempool_virt2phy(mp, o) ==
					    c.phys + (uint64_t)(o - (char *)c.va));
			}
			objs += c.nobjs;
		}
		assert_int_equal(objs, mp->size);
		xp_mempool_free(mp);
		xt_assert_no_leaks();
	}
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, xt_test_setup, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_virt2phy_patterns),
		TEST(test_virt2phy_own_table),
		TEST(test_virt2phy_gref),
		TEST(test_no_crossing),
		TEST(test_jumbo_linux),
		TEST(test_fragmented_bound),
		TEST(test_fallback),
		TEST(test_fault_sweep),
		TEST(test_fault_each_call),
		TEST(test_scribble_quiescent),
		TEST(test_bad_args),
		TEST(test_default_args),
		TEST(test_refs_file),
		TEST(test_refs_file_bad),
		TEST(test_gntalloc_limit),
		TEST(test_layout_faults),
		TEST(test_fork),
		TEST(test_readonly),
		TEST(test_peer_keeps_mapping),
		TEST(test_grant_export),
		TEST(test_debug_mode),
		TEST(test_map_mode),
		TEST(test_map_readonly),
		TEST(test_chunk_info_frames),
	};

	return cmocka_run_group_tests(tests, xt_group_setup, NULL);
}
