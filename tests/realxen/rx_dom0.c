/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xen_dom0 on a real Xen hypervisor, run in a Debian PV dom0 that
 * tests/realxen/realxen.sh boots under QEMU.
 *
 * The shim's tests check the handler against the shim's own knowledge
 * (which frame it handed out, how often each function was called, faults
 * on demand).  Real Xen has none of that, so this program checks the same
 * properties with oracles of real Xen's, independent of the handler:
 *  - bus addresses: bytes written through the pool are read back at the
 *    handler's bus address of each, through a mapping of that machine frame
 *    (libxenforeignmemory under DOMID_SELF), or, for grant-DMA addresses,
 *    through a gntdev mapping of the grant ref the address names;
 *  - grants: this domain's grant table, read here under DOMID_SELF, counts
 *    the entries in use before and after each case (nothing may stay);
 *  - logging: the process's stderr, captured around each case, stays empty.
 *
 * Usage: rx_dom0 dom0 | noxen | cross DOMU | canary | timing | jumbo MAX |
 *                grant N FILE
 *   dom0    the checks, with Xen's devices present;
 *   noxen   the fallback, run before the Xen modules are loaded;
 *   cross   the dom0 side of the cross-domain checks, with rx_domu
 *           running in domain DOMU (see rx_domu.c);
 *   canary  hold fresh patterned memory and check it until SIGTERM
 *           (nothing writes dom0's memory behind its owners' backs);
 *   timing  time to create and free pools, per page: "RX-DATA timing"
 *           lines (also runs under the shim, for comparison);
 *   jumbo   for pools of 9000-byte objects of 8..MAX objects, 10 creations
 *           each: prints "RX-DATA jumbo n=N ok=K/10 pages=P" lines;
 *   grant   share N pages with this domain itself, write their refs to
 *           FILE as R1:R2:..., then wait until killed (a guest for the
 *           CLI's map mode).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ucontext.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

#include "testutil.h"
#include "rxcross.h"

#define RX_PAGE 4096u
#define RX_SELF 0u /* dom0's numeric id: gntdev maps own grants under it */
#define RX_POOL "rx_pool"
#define RX_LIMIT_FILE "/sys/module/xen_gntalloc/parameters/limit"

static struct {
	xenforeignmemory_handle *fm;
	xc_interface *xch;
	xengnttab_handle *gt;
	xengntshr_handle *gs;
	int version;
	unsigned int baseline; /* own grant entries in use before a case */
} rx;

/* ---- log capture ------------------------------------------------------ */

static struct {
	pthread_mutex_t lock;
	unsigned int n;
	char text[64][320];
	int level[64];
} rx_log = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void rx_log_cb(int level, const char *msg, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&rx_log.lock);
	if (rx_log.n < 64) {
		rx_log.level[rx_log.n] = level;
		snprintf(rx_log.text[rx_log.n], sizeof(rx_log.text[0]), "%s",
			 msg);
	}
	rx_log.n++;
	pthread_mutex_unlock(&rx_log.lock);
}

/* Lines at @max_level or more severe containing @a (and @b if not NULL). */
static unsigned int rx_log_count(int max_level, const char *a, const char *b)
{
	unsigned int i, n = 0;

	for (i = 0; i < rx_log.n && i < 64; i++)
		if (rx_log.level[i] <= max_level &&
		    strstr(rx_log.text[i], a) != NULL &&
		    (b == NULL || strstr(rx_log.text[i], b) != NULL))
			n++;
	return n;
}

static void rx_log_print(void)
{
	unsigned int i;

	for (i = 0; i < rx_log.n && i < 64; i++)
		print_message("  log[%d]: %s\n", rx_log.level[i],
			      rx_log.text[i]);
}

/* ---- this domain's grant table, read independently of the handler ---- */

/*
 * Entries in use in the grant table of @dom (DOMID_SELF: this domain's);
 * of @refs only, when @refs is not NULL.
 */
static unsigned int rx_refs_in_use_of(uint32_t dom, const uint32_t *refs,
				      unsigned int nrefs)
{
	int version = xc_gnttab_get_version(rx.xch, dom);
	unsigned int i, n = 0, entries;
	int num = 0;
	void *t;

	assert_true(version == 1 || version == 2);
	if (version == 2)
		t = xc_gnttab_map_table_v2(rx.xch, dom, &num);
	else
		t = xc_gnttab_map_table_v1(rx.xch, dom, &num);
	assert_non_null(t);
	/* num counts 8-byte v1 entries whatever the version. */
	entries = version == 2 ? (unsigned int)num / 2 : (unsigned int)num;
	for (i = 0; i < (refs != NULL ? nrefs : entries); i++) {
		unsigned int r = refs != NULL ? refs[i] : i;
		uint16_t flags;

		assert_true(r < entries);
		flags = version == 2 ? ((grant_entry_v2_t *)t)[r].hdr.flags
				     : ((grant_entry_v1_t *)t)[r].flags;
		n += (flags & GTF_type_mask) != GTF_invalid;
	}
	munmap(t, (size_t)num * sizeof(grant_entry_v1_t));
	return n;
}

static unsigned int rx_refs_in_use(void)
{
	return rx_refs_in_use_of(DOMID_SELF, NULL, 0);
}

/*
 * gntalloc frees a grant when the last local mapping goes, unless the peer
 * still maps it; such grants are swept at the next gntalloc call.  One
 * share and unshare of a page triggers that sweep.
 */
static void rx_gntalloc_sweep(void)
{
	uint32_t ref;
	void *p = xengntshr_share_pages(rx.gs, RX_SELF, 1, &ref, 1);

	assert_non_null(p);
	assert_int_equal(xengntshr_unshare(rx.gs, p, 1), 0);
}

static void rx_case_begin(void)
{
	rx_log.n = 0;
	rx.baseline = rx_refs_in_use();
}

/*
 * Every grant taken since rx_case_begin() is back.  A grant its peer still
 * mapped is released by Linux later, on a timer (gnttab's deferred list):
 * wait for it, up to ten seconds.
 */
static void rx_assert_no_grants(void)
{
	unsigned int now, tries;

	for (tries = 0; tries < 100; tries++) {
		rx_gntalloc_sweep();
		now = rx_refs_in_use();
		if (now == rx.baseline)
			return;
		usleep(100000);
	}
	fail_msg("%u grant entries in use, %u before", now, rx.baseline);
}

/* ---- pools ---------------------------------------------------------- */

static struct xp_mempool *rx_create(unsigned int n, size_t elt,
				    const char *args)
{
	return xp_mempool_create_ex(RX_POOL, n, elt, 0, 0, NULL, NULL, 0,
				    XP_XEN_HANDLER, args);
}

static struct xp_mempool *rx_create_ok(unsigned int n, size_t elt,
				       const char *args)
{
	struct xp_mempool *mp;

	errno = 0;
	mp = rx_create(n, elt, args);
	if (mp == NULL) {
		rx_log_print();
		fail_msg("create %u x %zu '%s': %s", n, elt, args,
			 strerror(errno));
	}
	assert_string_equal(xp_mempool_handler_name(mp), XP_XEN_HANDLER);
	return mp;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sorted, duplicates dropped; returns the new count. */
static unsigned int u64_unique(uint64_t *v, unsigned int n)
{
	unsigned int i, k = 0;

	qsort(v, n, sizeof(*v), u64_cmp);
	for (i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* One byte written through the pool, and where the handler says it is. */
struct rx_probe {
	uint8_t *va;
	uint8_t val;
	uint64_t bus;
};

struct rx_probes {
	struct rx_probe *p;
	unsigned int n, max;
};

static void rx_probe_add(struct rx_probes *ps, struct xp_mempool *mp,
			 uint8_t *va, uint64_t *rng)
{
	struct rx_probe *p;

	if (ps->n == ps->max) {
		ps->max = ps->max ? 2 * ps->max : 1024;
		ps->p = realloc(ps->p, ps->max * sizeof(*ps->p));
		assert_non_null(ps->p);
	}
	p = &ps->p[ps->n++];
	p->va = va;
	p->val = (uint8_t)(tu_xorshift64(rng) | 1);
	p->bus = xp_mempool_virt2phy(mp, va);
	assert_true(p->bus != XP_BAD_PHYS);
	/* The offset in the page is the address's. */
	assert_int_equal(p->bus & (RX_PAGE - 1),
			 (uintptr_t)va & (RX_PAGE - 1));
	*va = p->val;
}

/*
 * Every object of @mp: its first and last byte, one in the middle and the
 * two bytes on each side of every page boundary inside it get a value;
 * an object that spans pages must be contiguous in bus addresses.
 */
static void rx_probe_objects(struct xp_mempool *mp, struct rx_probes *ps)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ mp->elt_size;
	struct tu_objset s;
	unsigned int i;

	tu_objset_init(&s, mp);
	for (i = 0; i < s.n; i++) {
		uint8_t *o = s.objs[i];
		uintptr_t b, end = (uintptr_t)o + mp->elt_size;

		rx_probe_add(ps, mp, o, &rng);
		rx_probe_add(ps, mp, o + mp->elt_size / 2, &rng);
		rx_probe_add(ps, mp, o + mp->elt_size - 1, &rng);
		for (b = ((uintptr_t)o | (RX_PAGE - 1)) + 1; b < end;
		     b += RX_PAGE) {
			uint64_t lo = xp_mempool_virt2phy(mp, (void *)(b - 1));

			rx_probe_add(ps, mp, (uint8_t *)b - 1, &rng);
			rx_probe_add(ps, mp, (uint8_t *)b, &rng);
			if (xp_mempool_virt2phy(mp, (void *)b) != lo + 1)
				fail_msg("object %p (%zu bytes) crosses a "
					 "discontinuity at %p: %#llx then "
					 "%#llx",
					 (void *)o, mp->elt_size, (void *)b,
					 (unsigned long long)lo,
					 (unsigned long long)
						 xp_mempool_virt2phy(
							 mp, (void *)b));
		}
	}
	tu_objset_fini(&s);
}

/* Bytes of @ps read back through @map, page k of which is @keys[k]. */
static void rx_probe_compare(const struct rx_probes *ps, const uint8_t *map,
			     const uint64_t *keys, unsigned int nkeys,
			     uint64_t (*key_of)(uint64_t bus))
{
	unsigned int i, bad = 0;

	for (i = 0; i < ps->n; i++) {
		uint64_t key = key_of(ps->p[i].bus);
		const uint64_t *k = bsearch(&key, keys, nkeys, sizeof(*keys),
					    u64_cmp);
		uint8_t got;

		assert_non_null(k);
		got = map[(size_t)(k - keys) * RX_PAGE +
			  (ps->p[i].bus & (RX_PAGE - 1))];
		if (got != ps->p[i].val && bad++ < 8)
			print_error("%p: wrote %#x, bus %#llx holds %#x\n",
				    (void *)ps->p[i].va, ps->p[i].val,
				    (unsigned long long)ps->p[i].bus, got);
	}
	if (bad > 0)
		fail_msg("%u of %u bytes are not at their bus address", bad,
			 ps->n);
}

static uint64_t frame_of_bus(uint64_t bus)
{
	return bus >> 12;
}

static uint64_t ref_of_bus(uint64_t bus)
{
	return (bus & ~XP_XEN_GREF_DMA_BIT) >> 12;
}

/* Frames of domain @dom (DOMID_SELF: ours): map each as a device would
 * reach it. */
static void rx_check_frames_of(const struct rx_probes *ps, uint32_t dom)
{
	uint64_t *keys = malloc(ps->n * sizeof(*keys));
	xen_pfn_t *pfns;
	unsigned int i, n;
	uint8_t *map;
	int *err;

	assert_non_null(keys);
	for (i = 0; i < ps->n; i++) {
		assert_true((ps->p[i].bus & XP_XEN_GREF_DMA_BIT) == 0);
		keys[i] = frame_of_bus(ps->p[i].bus);
	}
	n = u64_unique(keys, ps->n);
	pfns = calloc(n, sizeof(*pfns));
	err = calloc(n, sizeof(*err));
	assert_non_null(pfns);
	assert_non_null(err);
	for (i = 0; i < n; i++)
		pfns[i] = (xen_pfn_t)keys[i];
	map = xenforeignmemory_map(rx.fm, dom, PROT_READ, n, pfns, err);
	assert_non_null(map);
	for (i = 0; i < n; i++)
		if (err[i] != 0)
			fail_msg("frame %#llx cannot be mapped: %s",
				 (unsigned long long)keys[i],
				 strerror(-err[i]));
	rx_probe_compare(ps, map, keys, n, frame_of_bus);
	assert_int_equal(xenforeignmemory_unmap(rx.fm, map, n), 0);
	free(pfns);
	free(err);
	free(keys);
}

static void rx_check_frames(const struct rx_probes *ps)
{
	rx_check_frames_of(ps, DOMID_SELF);
}

/* Grant-DMA addresses name grant refs of @granter: map them through
 * gntdev (this test is their grantee) and read the bytes there. */
static void rx_check_grefs(const struct rx_probes *ps, uint32_t granter)
{
	uint64_t *keys = malloc(ps->n * sizeof(*keys));
	unsigned int i, n;
	uint32_t *refs;
	uint8_t *map;

	assert_non_null(keys);
	for (i = 0; i < ps->n; i++) {
		assert_true((ps->p[i].bus & XP_XEN_GREF_DMA_BIT) != 0);
		keys[i] = ref_of_bus(ps->p[i].bus);
	}
	n = u64_unique(keys, ps->n);
	refs = calloc(n, sizeof(*refs));
	assert_non_null(refs);
	for (i = 0; i < n; i++)
		refs[i] = (uint32_t)keys[i];
	map = xengnttab_map_domain_grant_refs(rx.gt, n, granter, refs,
					      PROT_READ);
	if (map == NULL)
		fail_msg("cannot map %u refs of domain %u: %s", n, granter,
			 strerror(errno));
	rx_probe_compare(ps, map, keys, n, ref_of_bus);
	assert_int_equal(xengnttab_unmap(rx.gt, map, n), 0);
	free(refs);
	free(keys);
}

/*
 * Every byte class of every object is at the bus address the handler
 * gives; chunks as recorded are at their own bus addresses too.
 */
static void rx_check_pool(struct xp_mempool *mp, int gref, uint32_t granter)
{
	struct rx_probes ps = {0};
	struct tu_chunk_list *chunks = tu_chunks_of(mp);
	struct xp_xen_pool_info info;
	unsigned int i;

	assert_int_equal(xp_xen_pool_info(mp, &info), 0);
	if (info.gref_frames != gref) {
		rx_log_print();
		fail_msg("bus addresses from %s, expected %s",
			 info.gref_frames ? "grant refs" : "the grant table",
			 gref ? "grant refs" : "the grant table");
	}
	for (i = 0; i < chunks->n; i++)
		assert_true(chunks->c[i].phys ==
			    xp_mempool_virt2phy(mp, chunks->c[i].va));
	free(chunks);
	rx_probe_objects(mp, &ps);
	if (gref)
		rx_check_grefs(&ps, granter);
	else
		rx_check_frames(&ps);
	free(ps.p);
}

/* ---- dom0 checks ---------------------------------------------------- */

static const size_t rx_sizes[] = {64, 2048, 4096, 6000, 9000};

/* Objects of @elt filling about @pages pages. */
static unsigned int rx_count(size_t elt, unsigned int pages)
{
	return (unsigned int)((size_t)pages * RX_PAGE / (elt + 64));
}

/* Finding 1: dom0's share-mode pools have machine frames. */
static void test_share_frames(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rx_sizes); i++) {
		struct xp_mempool *mp;

		rx_case_begin();
		tu_stderr_begin();
		mp = rx_create_ok(rx_count(rx_sizes[i], 160), rx_sizes[i],
				  "peer=0");
		tu_stderr_end_empty();
		rx_check_pool(mp, 0, RX_SELF);
		xp_mempool_free(mp);
		rx_assert_no_grants();
	}
}

/* frames=gref: grant-DMA addresses name the right refs. */
static void test_share_gref(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rx_sizes); i++) {
		struct xp_mempool *mp;

		rx_case_begin();
		mp = rx_create_ok(rx_count(rx_sizes[i], 160), rx_sizes[i],
				  "peer=0,frames=gref");
		rx_check_pool(mp, 1, RX_SELF);
		xp_mempool_free(mp);
		rx_assert_no_grants();
	}
}

/* Share @n pages with ourselves; the refs into @refs, their list into
 * @list. */
static void *rx_guest_share(unsigned int n, int writable, uint32_t *refs,
			    char *list, size_t len)
{
	void *p = xengntshr_share_pages(rx.gs, RX_SELF, (int)n, refs,
					writable);
	size_t used = 0;
	unsigned int i;

	assert_non_null(p);
	for (i = 0; i < n; i++) {
		int k = snprintf(list + used, len - used, "%s%u", i ? ":" : "",
				 refs[i]);

		assert_true(k > 0 && (size_t)k < len - used);
		used += (size_t)k;
	}
	return p;
}

/* Map mode: a "guest" (this domain) granted pages; the pool maps them. */
static void test_map_mode(void **state)
{
	static const char *const modes[] = {"", ",frames=grant-table"};
	uint32_t refs[64];
	char list[64 * 8], args[64 * 8 + 64];
	unsigned int m;

	(void)state;
	for (m = 0; m < 2; m++) {
		struct xp_mempool *mp;
		void *guest;

		rx_case_begin();
		guest = rx_guest_share(64, 1, refs, list, sizeof(list));
		snprintf(args, sizeof(args), "map=%u,refs=%s%s", RX_SELF, list,
			 modes[m]);
		tu_stderr_begin();
		mp = rx_create_ok(64 * 2, 2000, args);
		tu_stderr_end_empty();
		rx_check_pool(mp, m == 0, RX_SELF);
		xp_mempool_free(mp);
		assert_int_equal(xengntshr_unshare(rx.gs, guest, 64), 0);
		rx_assert_no_grants();
	}
}

/* A forked child reads @p: 0, or the signal that stopped it. */
static int rx_try_read(const volatile uint8_t *p)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		_exit(*p == 0x5a ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* A write through the pool's mapping: 0, or the signal that stopped it. */
static int rx_try_write(volatile uint8_t *p)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handler would report the fault as a failed test
		 * and carry on with the suite, in the child. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		*p = 0x5a;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void test_readonly(void **state)
{
	uint32_t refs[8], ref;
	char list[64], args[128];
	struct xp_mempool *mp;
	uint8_t *guest;
	void *objs[1], *m;

	(void)state;
	/* Share mode, writable=0: this process writes, the peer cannot. */
	rx_case_begin();
	mp = rx_create_ok(16, 1000, "peer=0,writable=0");
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 1), 0);
	memset(objs[0], 0x11, 1000);
	assert_int_equal(xp_xen_pool_grefs(mp, &ref, 1), 4);
	errno = 0;
	m = xengnttab_map_domain_grant_refs(rx.gt, 1, RX_SELF, &ref,
					    PROT_READ | PROT_WRITE);
	assert_null(m);
	/* Real Linux gntdev: every refused map is EINVAL (the shim too). */
	assert_int_equal(errno, EINVAL);
	m = xengnttab_map_domain_grant_refs(rx.gt, 1, RX_SELF, &ref,
					    PROT_READ);
	assert_non_null(m);
	assert_int_equal(xengnttab_unmap(rx.gt, m, 1), 0);
	xp_mempool_put_bulk(mp, objs, 1);
	xp_mempool_free(mp);
	rx_assert_no_grants();

	/* Map mode, writable=0: our mapping is read-only. */
	rx_case_begin();
	guest = rx_guest_share(8, 1, refs, list, sizeof(list));
	memset(guest, 0x77, 8 * RX_PAGE);
	snprintf(args, sizeof(args), "map=%u,refs=%s,writable=0", RX_SELF,
		 list);
	mp = rx_create_ok(8, 4000, args);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 1), 0);
	assert_int_equal(*(volatile uint8_t *)objs[0], 0x77);
	assert_int_equal(rx_try_write(objs[0]), SIGSEGV);
	xp_mempool_put_bulk(mp, objs, 1);
	xp_mempool_free(mp);
	assert_int_equal(xengntshr_unshare(rx.gs, guest, 8), 0);
	rx_assert_no_grants();
}

/*
 * A forked child shares no page of the pool (MADV_DONTFORK): a read there
 * faults, and a child still alive does not keep the grants past the
 * parent's free.
 */
static void test_fork(void **state)
{
	struct xp_mempool *mp;
	pid_t sleeper;
	void *obj;
	int status;

	(void)state;
	rx_case_begin();
	mp = rx_create_ok(64, 9000, "peer=0");
	assert_int_equal(xp_mempool_get_bulk(mp, &obj, 1), 0);
	memset(obj, 0x5a, 9000);
	assert_int_equal(rx_try_read(obj), SIGSEGV);
	sleeper = fork();
	assert_true(sleeper >= 0);
	if (sleeper == 0) {
		sleep(60);
		_exit(0);
	}
	xp_mempool_put_bulk(mp, &obj, 1);
	xp_mempool_free(mp);
	rx_assert_no_grants();
	kill(sleeper, SIGKILL);
	assert_int_equal(waitpid(sleeper, &status, 0), sleeper);
}

static int rx_read_limit(void)
{
	FILE *f = fopen(RX_LIMIT_FILE, "r");
	int v = -1;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

static void rx_write_limit(int v)
{
	FILE *f = fopen(RX_LIMIT_FILE, "w");

	assert_non_null(f);
	assert_true(fprintf(f, "%d\n", v) > 0);
	assert_int_equal(fclose(f), 0);
}

/* Finding 4 and the gntalloc limit: ENOSPC, a message naming the limit,
 * nothing granted, nothing on stderr. */
static void test_gntalloc_limit(void **state)
{
	int limit = rx_read_limit();
	struct xp_mempool *mp;
	int err;

	(void)state;
	rx_case_begin();
	rx_write_limit(48);
	tu_stderr_begin();
	errno = 0;
	mp = rx_create(rx_count(2048, 200), 2048, "peer=0");
	err = errno;
	/* Before any check: a limit left at 48 would fail every later one. */
	rx_write_limit(limit);
	tu_stderr_end_empty();
	assert_null(mp);
	assert_int_equal(err, ENOSPC);
	if (rx_log_count(XP_LOG_ERR, RX_LIMIT_FILE, "48 pages") != 1) {
		rx_log_print();
		fail_msg("no message names the gntalloc limit");
	}
	/* libxengnttab's own words arrived, at debug level. */
	assert_true(rx_log_count(XP_LOG_DEBUG, "gntshr", "ioctl failed") > 0);
	assert_int_equal(rx_log_count(XP_LOG_NOTICE, "gntshr", NULL), 0);
	assert_null(xp_mempool_lookup(RX_POOL));
	rx_assert_no_grants();
}

/* A refused mapping: the library's message goes to xp_log, as an error. */
static void test_map_errors(void **state)
{
	uint32_t bad = 60000;
	char args[64];

	(void)state;
	rx_case_begin();
	snprintf(args, sizeof(args), "map=%u,refs=%u", RX_SELF, bad);
	tu_stderr_begin();
	errno = 0;
	assert_null(rx_create(1, 64, args));
	tu_stderr_end_empty();
	assert_int_equal(errno, EINVAL);
	assert_int_equal(rx_log_count(XP_LOG_ERR, "gnttab", "mmap failed"), 1);
	rx_assert_no_grants();
}

/* ---- the hostile peer, for real ------------------------------------- */

struct rx_hostile {
	struct xp_mempool *mp;
	uint8_t *peer;        /* the peer's writable view of every page */
	unsigned int pages;
	atomic_int stop;
	unsigned long passes;
	unsigned long rounds[2];
};

static void *rx_scribbler(void *arg)
{
	struct rx_hostile *h = arg;
	uint64_t rng = 12345;

	while (!atomic_load(&h->stop)) {
		uint64_t *w = (uint64_t *)(void *)h->peer;
		size_t i, n = (size_t)h->pages * RX_PAGE / sizeof(*w);

		for (i = 0; i < n; i++)
			w[i] = tu_xorshift64(&rng);
		h->passes++;
	}
	return NULL;
}

struct rx_worker {
	struct rx_hostile *h;
	unsigned int id;
};

static void *rx_traffic(void *arg)
{
	struct rx_worker *w = arg;
	struct rx_hostile *h = w->h;
	uint32_t rng = 7 + w->id;
	void *objs[32];
	unsigned long r;

	for (r = 0; !atomic_load(&h->stop); r++) {
		unsigned int n = 1 + tu_xorshift32(&rng) % 32, i;

		if (xp_mempool_get_bulk(h->mp, objs, n) != 0)
			continue;
		for (i = 0; i < n; i++)
			memset(objs[i], (int)r, 64);
		xp_mempool_put_bulk(h->mp, objs, n);
	}
	h->rounds[w->id] = r;
	return NULL;
}

static void test_hostile_peer(void **state)
{
	struct rx_hostile h = {0};
	struct rx_worker w[2] = {{&h, 0}, {&h, 1}};
	pthread_t scrib, t[2];
	uint64_t *before;
	uint32_t *refs;
	struct tu_objset s;
	unsigned int i;
	int n;

	(void)state;
	rx_case_begin();
	h.mp = xp_mempool_create_ex(RX_POOL, 512, 2048, 32, 0, NULL, NULL, 0,
				    XP_XEN_HANDLER, "peer=0");
	assert_non_null(h.mp);
	n = xp_xen_pool_grefs(h.mp, NULL, 0);
	assert_true(n > 0);
	h.pages = (unsigned int)n;
	refs = calloc(h.pages, sizeof(*refs));
	assert_non_null(refs);
	assert_int_equal(xp_xen_pool_grefs(h.mp, refs, h.pages), n);
	h.peer = xengnttab_map_domain_grant_refs(rx.gt, h.pages, RX_SELF,
						 refs, PROT_READ | PROT_WRITE);
	assert_non_null(h.peer);
	tu_objset_init(&s, h.mp);
	before = calloc(s.n, sizeof(*before));
	assert_non_null(before);
	for (i = 0; i < s.n; i++)
		before[i] = xp_mempool_virt2phy(h.mp, s.objs[i]);
	assert_int_equal(pthread_create(&scrib, NULL, rx_scribbler, &h), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, rx_traffic, &w[i]),
				 0);
	sleep(3);
	atomic_store(&h.stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_join(scrib, NULL);
	print_message("hostile peer: %lu passes over %u pages, %lu + %lu "
		      "rounds of traffic\n",
		      h.passes, h.pages, h.rounds[0], h.rounds[1]);
	assert_true(h.passes > 0);
	assert_true(h.rounds[0] > 0 && h.rounds[1] > 0);
	assert_int_equal(xp_mempool_audit(h.mp), 0);
	tu_check_all_free(h.mp);
	for (i = 0; i < s.n; i++)
		assert_true(xp_mempool_virt2phy(h.mp, s.objs[i]) == before[i]);
	tu_objset_fini(&s);
	free(before);
	assert_int_equal(xengnttab_unmap(rx.gt, h.peer, h.pages), 0);
	xp_mempool_free(h.mp);
	free(refs);
	rx_assert_no_grants();
}

/*
 * Freed while the peer still maps some pages: those grants stay until the
 * peer lets go, then Linux releases them (on a timer, about ten a second:
 * gnttab's deferred list), and every other grant goes at once.
 */
static void test_peer_outlives_pool(void **state)
{
	struct xp_mempool *mp;
	uint32_t refs[64];
	void *peer;
	int n;

	(void)state;
	rx_case_begin();
	mp = rx_create_ok(60, 4000, "peer=0");
	n = xp_xen_pool_grefs(mp, refs, 64);
	assert_true(n > 4 && n <= 64);
	peer = xengnttab_map_domain_grant_refs(rx.gt, 4, RX_SELF, refs,
					       PROT_READ | PROT_WRITE);
	assert_non_null(peer);
	xp_mempool_free(mp);
	rx_gntalloc_sweep();
	assert_int_equal(rx_refs_in_use(), rx.baseline + 4);
	assert_int_equal(xengnttab_unmap(rx.gt, peer, 4), 0);
	rx_assert_no_grants();
}

/* ---- packet buffers ------------------------------------------------- */

static void test_mbuf(void **state)
{
	struct xp_mbuf *m[32];
	struct rx_probes ps = {0};
	struct xp_mempool *mp;
	uint64_t rng = 99;
	unsigned int i;

	(void)state;
	rx_case_begin();
	mp = xp_pktmbuf_pool_create_ex("rx_mbuf", 255, 32, 0, 2048,
				       XP_XEN_HANDLER, "peer=0");
	assert_non_null(mp);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, m, 32), 0);
	for (i = 0; i < 32; i++) {
		uint8_t *d = (uint8_t *)xp_pktmbuf_append(m[i], 1500);
		struct rx_probe *p;

		assert_non_null(d);
		rx_probe_add(&ps, tu_mbuf_priv(mp)->room_pool, d, &rng);
		rx_probe_add(&ps, tu_mbuf_priv(mp)->room_pool, d + 1499, &rng);
		/* The mbuf's own bus address of its data is the pool's. */
		p = &ps.p[ps.n - 2];
		assert_true(xp_pktmbuf_mtophys(m[i]) == p->bus);
	}
	rx_check_frames(&ps);
	free(ps.p);
	xp_pktmbuf_free_bulk(m, 32);
	tu_mbuf_pool_check(mp);
	xp_mempool_free(mp);
	rx_assert_no_grants();
}

/* ---- jumbo objects -------------------------------------------------- */

/* Pools of 9000-byte objects, the size of a jumbo frame's buffer. */
static void test_jumbo(void **state)
{
	static const unsigned int counts[] = {16, 32, 64, 128};
	struct xp_mempool *mp;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		rx_case_begin();
		mp = rx_create_ok(counts[i], 9000, "peer=0");
		rx_check_pool(mp, 0, RX_SELF);
		xp_mempool_free(mp);
		rx_assert_no_grants();
		rx_case_begin();
		mp = rx_create_ok(counts[i], 9000, "peer=0,frames=gref");
		rx_check_pool(mp, 1, RX_SELF);
		xp_mempool_free(mp);
		rx_assert_no_grants();
	}
	/* A batch smaller than an object's pages still works. */
	rx_case_begin();
	mp = rx_create_ok(16, 9000, "peer=0,batch=1");
	rx_check_pool(mp, 0, RX_SELF);
	xp_mempool_free(mp);
	rx_assert_no_grants();
}

/*
 * The chunk map that `xenpool chunks` prints (xp_mempool_chunk_info) of a
 * jumbo pool, against the machine frames: the first and last byte of every
 * page of every chunk, written through the pool, are found at the chunk's
 * bus address plus their offset in it, through foreign mappings of those
 * frames; every object is in a chunk.
 */
static void test_chunk_map(void **state)
{
	struct rx_probes ps = {0};
	uint64_t rng = 0x5bd1e995;
	struct xp_mempool *mp;
	unsigned int i, objs = 0;

	(void)state;
	rx_case_begin();
	mp = rx_create_ok(64, 9000, "peer=0");
	for (i = 0; i < xp_mempool_chunk_count(mp); i++) {
		struct xp_mempool_chunk c;
		size_t off;

		assert_int_equal(xp_mempool_chunk_info(mp, i, &c), 0);
		assert_true(c.phys != XP_BAD_PHYS);
		for (off = 0; off < c.len; off += RX_PAGE) {
			size_t last = off + RX_PAGE - 1 < c.len
					      ? off + RX_PAGE - 1
					      : c.len - 1;

			rx_probe_add(&ps, mp, (uint8_t *)c.va + off, &rng);
			assert_true(ps.p[ps.n - 1].bus == c.phys + off);
			rx_probe_add(&ps, mp, (uint8_t *)c.va + last, &rng);
			assert_true(ps.p[ps.n - 1].bus == c.phys + last);
		}
		objs += c.nobjs;
	}
	assert_int_equal(objs, 64);
	rx_check_frames(&ps);
	free(ps.p);
	xp_mempool_free(mp);
	rx_assert_no_grants();
}

/* ---- setup ---------------------------------------------------------- */

static int rx_setup(void **state)
{
	(void)state;
	rx.xch = xc_interface_open(NULL, NULL, 0);
	rx.fm = xenforeignmemory_open(NULL, 0);
	rx.gt = xengnttab_open(NULL, 0);
	rx.gs = xengntshr_open(NULL, 0);
	if (rx.xch == NULL || rx.fm == NULL || rx.gt == NULL ||
	    rx.gs == NULL) {
		fprintf(stderr, "rx_dom0: cannot open the Xen libraries\n");
		return -1;
	}
	rx.version = xc_gnttab_get_version(rx.xch, DOMID_SELF);
	if (rx.version != 1 && rx.version != 2)
		return -1;
	xp_log_set_level(XP_LOG_DEBUG);
	xp_log_set_callback(rx_log_cb, NULL);
	return 0;
}

/* After a failed test: free what it left, so that the next starts clean
 * (grants of a test's own shares go with the process). */
static int rx_test_teardown(void **state)
{
	(void)state;
	xp_mempool_free(xp_mempool_lookup(RX_POOL));
	xp_mempool_free(xp_mempool_lookup("rx_mbuf"));
	return 0;
}

static int rx_teardown(void **state)
{
	(void)state;
	xengntshr_close(rx.gs);
	xengnttab_close(rx.gt);
	xenforeignmemory_close(rx.fm);
	xc_interface_close(rx.xch);
	return 0;
}

static int run_dom0(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_share_frames, rx_test_teardown),
		cmocka_unit_test_teardown(test_share_gref, rx_test_teardown),
		cmocka_unit_test_teardown(test_map_mode, rx_test_teardown),
		cmocka_unit_test_teardown(test_readonly, rx_test_teardown),
		cmocka_unit_test_teardown(test_fork, rx_test_teardown),
		cmocka_unit_test_teardown(test_gntalloc_limit, rx_test_teardown),
		cmocka_unit_test_teardown(test_map_errors, rx_test_teardown),
		cmocka_unit_test_teardown(test_mbuf, rx_test_teardown),
		cmocka_unit_test_teardown(test_jumbo, rx_test_teardown),
		cmocka_unit_test_teardown(test_chunk_map, rx_test_teardown),
		cmocka_unit_test_teardown(test_hostile_peer, rx_test_teardown),
		cmocka_unit_test_teardown(test_peer_outlives_pool,
					  rx_test_teardown),
	};

	return cmocka_run_group_tests_name("realxen_dom0", tests, rx_setup,
					   rx_teardown);
}

/* ---- across domains: a PV domU runs rx_domu ------------------------- */

#define RX_WAIT 120 /* seconds for the domU's turn */

static struct {
	uint32_t domu;
	struct rxs rs;
} rxc;

static char *rxc_await(const char *key)
{
	char *v = rxs_await(&rxc.rs, key, RX_WAIT);

	if (v == NULL)
		fail_msg("the domU never wrote %s", key);
	return v;
}

/* A: our pool, mapped by the domU; freed here while it still maps it. */
static void test_cross_share_to_domu(void **state)
{
	struct xp_mempool *mp;
	char args[32];
	uint32_t *refs;
	long bytes;
	int n;

	(void)state;
	rx_case_begin();
	snprintf(args, sizeof(args), "peer=%u", rxc.domu);
	mp = rx_create_ok(48, 2048, args);
	rx_check_pool(mp, 0, RX_SELF);
	bytes = rx_fill_pool(mp);
	assert_true(bytes == 48 * 2048);
	n = xp_xen_pool_grefs(mp, NULL, 0);
	refs = calloc((size_t)n, sizeof(*refs));
	assert_non_null(refs);
	assert_int_equal(xp_xen_pool_grefs(mp, refs, (unsigned int)n), n);
	assert_int_equal(rxs_say_refs(&rxc.rs, "a/refs", refs, (unsigned int)n),
			 0);
	assert_int_equal(rxs_say(&rxc.rs, "a/bytes", "%ld", bytes), 0);
	free(rxc_await("a/mapped"));
	/* The domU maps every page: freeing the pool leaves the grants. */
	xp_mempool_free(mp);
	rx_gntalloc_sweep();
	assert_int_equal(rx_refs_in_use_of(DOMID_SELF, refs, (unsigned int)n),
			 (unsigned int)n);
	assert_int_equal(rxs_say(&rxc.rs, "a/freed", "1"), 0);
	free(rxc_await("a/unmapped"));
	free(refs);
	rx_assert_no_grants();
}

/* The "R/B:R/B..." list of a domU pool's pages and bus addresses: each
 * bus address is the domU's frame of that page, or its grant-DMA
 * address, as the domU's pool says. */
static void rxc_check_bus_list(const char *list, int gref, const uint32_t *refs,
			       const uint8_t *raw, unsigned int n)
{
	const char *p = list;
	unsigned int checked = 0;

	while (*p != '\0') {
		char *end;
		uint32_t ref = (uint32_t)strtoul(p, &end, 10);
		uint64_t bus;
		unsigned int k;

		assert_true(*end == '/');
		bus = strtoull(end + 1, &end, 16);
		for (k = 0; k < n && refs[k] != ref; k++)
			;
		assert_true(k < n);
		if (gref) {
			assert_true(bus == (XP_XEN_GREF_DMA_BIT |
					    (uint64_t)ref << 12));
		} else {
			xen_pfn_t pfn = (xen_pfn_t)(bus >> 12);
			int err = 0;
			uint8_t *f = xenforeignmemory_map(rx.fm, rxc.domu,
							  PROT_READ, 1, &pfn,
							  &err);

			assert_non_null(f);
			assert_int_equal(err, 0);
			/* The frame the domU names holds the page of the
			 * ref it names. */
			assert_memory_equal(f, raw + (size_t)k * RX_PAGE,
					    RX_PAGE);
			xenforeignmemory_unmap(rx.fm, f, 1);
		}
		checked++;
		p = *end == ':' ? end + 1 : end;
	}
	assert_true(checked > 0);
}

/* B: the domU's pools, mapped here; freed there while we map them. */
static void test_cross_map_from_domu(void **state)
{
	static const char *const keys[] = {"b1", "b2"};
	uint32_t *refs[2] = {NULL, NULL};
	struct xp_mempool *mp[2] = {NULL, NULL};
	void *raw[2] = {NULL, NULL};
	int n[2];
	unsigned int i;

	(void)state;
	free(rxc_await("b/ready"));
	for (i = 0; i < 2; i++) {
		char key[32], *v, *list, *args;
		long bytes, seen;
		int gref;
		struct rx_probes ps = {0};

		n[i] = rxs_await_refs(&rxc.rs, keys[i], &refs[i], 10);
		assert_true(n[i] > 0);
		snprintf(key, sizeof(key), "%s-bytes", keys[i]);
		v = rxc_await(key);
		bytes = atol(v);
		free(v);
		snprintf(key, sizeof(key), "%s-gref", keys[i]);
		v = rxc_await(key);
		gref = atoi(v);
		free(v);
		print_message("domU pool %s: %d pages, %ld bytes, bus "
			      "addresses from %s\n",
			      keys[i], n[i], bytes,
			      gref ? "grant refs" : "its grant table");
		/* frames=gref asked for grant-DMA addresses. */
		if (i == 1)
			assert_int_equal(gref, 1);
		/* Data the domU wrote through its pool, read here. */
		assert_int_equal(rx_count_pattern(rx.gt, rxc.domu, refs[i],
						  (unsigned int)n[i], 0,
						  &raw[i]),
				 bytes);
		snprintf(key, sizeof(key), "%s-bus", keys[i]);
		v = rxc_await(key);
		rxc_check_bus_list(v, gref, refs[i], raw[i],
				   (unsigned int)n[i]);
		free(v);
		/* And as a map-mode pool here, trusting the domU's table:
		 * its frames hold what the mapping shows. */
		list = rx_ref_list(refs[i], (unsigned int)n[i]);
		args = malloc(strlen(list) + 64);
		assert_non_null(args);
		sprintf(args, "map=%u,refs=%s,frames=grant-table", rxc.domu,
			list);
		rx_log.n = 0;
		mp[i] = xp_mempool_create_ex(i ? "rx_b2" : "rx_b1", 20, 3000,
					     0, 0, NULL, NULL, 0,
					     XP_XEN_HANDLER, args);
		if (mp[i] == NULL) {
			rx_log_print();
			fail_msg("map pool of the domU's refs: %s",
				 strerror(errno));
		}
		seen = rx_pool_pattern(mp[i]);
		assert_true(seen > 0);
		rx_probe_objects(mp[i], &ps);
		rx_check_frames_of(&ps, rxc.domu);
		free(ps.p);
		free(list);
		free(args);
	}
	assert_int_equal(rxs_say(&rxc.rs, "b/mapped", "1"), 0);
	free(rxc_await("b/freed"));
	/* Freed there: the grants stay while we map them. */
	for (i = 0; i < 2; i++)
		assert_int_equal(rx_refs_in_use_of(rxc.domu, refs[i],
						   (unsigned int)n[i]),
				 (unsigned int)n[i]);
	for (i = 0; i < 2; i++) {
		unsigned int tries;

		xp_mempool_free(mp[i]);
		assert_int_equal(xengnttab_unmap(rx.gt, raw[i],
						 (unsigned int)n[i]),
				 0);
		/* Then the domU's kernel lets them go (on its timer). */
		for (tries = 0; tries < 300; tries++) {
			if (rx_refs_in_use_of(rxc.domu, refs[i],
					      (unsigned int)n[i]) == 0)
				break;
			usleep(100000);
		}
		assert_int_equal(rx_refs_in_use_of(rxc.domu, refs[i],
						   (unsigned int)n[i]),
				 0);
		free(refs[i]);
	}
	assert_int_equal(rxs_say(&rxc.rs, "b/done", "1"), 0);
}

/* C: the domU scribbles over every page of our pools while we use them. */
struct rxc_traffic {
	struct xp_mempool *mp, *mbufs;
	atomic_int stop;
	unsigned long rounds[3];
	unsigned long bad; /* packets that failed their check */
};

struct rxc_worker {
	struct rxc_traffic *t;
	unsigned int id;
};

static void *rxc_objects(void *arg)
{
	struct rxc_traffic *t = ((struct rxc_worker *)arg)->t;
	unsigned int id = ((struct rxc_worker *)arg)->id;
	uint32_t rng = 17 + id;
	void *objs[32];
	unsigned long r;

	for (r = 0; !atomic_load(&t->stop); r++) {
		unsigned int n = 1 + tu_xorshift32(&rng) % 32, i;

		if (xp_mempool_get_bulk(t->mp, objs, n) != 0)
			continue;
		for (i = 0; i < n; i++)
			memset(objs[i], 0, 64);
		xp_mempool_put_bulk(t->mp, objs, n);
	}
	t->rounds[id] = r;
	return NULL;
}

static void *rxc_packets(void *arg)
{
	struct rxc_traffic *t = ((struct rxc_worker *)arg)->t;
	struct xp_mbuf *m[32];
	unsigned long r;

	for (r = 0; !atomic_load(&t->stop); r++) {
		unsigned int i;

		if (xp_pktmbuf_alloc_bulk(t->mbufs, m, 32) != 0)
			continue;
		for (i = 0; i < 32; i++) {
			char *d = xp_pktmbuf_append(m[i], 1000);

			if (d != NULL)
				memset(d, (int)r, 1000);
			/* Not a cmocka assert: this is not the test's
			 * thread.  Counted, checked by the test. */
			if (xp_pktmbuf_check(m[i]) != 0)
				t->bad++;
		}
		xp_pktmbuf_free_bulk(m, 32);
	}
	t->rounds[2] = r;
	return NULL;
}

/* virt2phy of every object of @mp, into a new array. */
static uint64_t *rxc_bus_snapshot(struct xp_mempool *mp)
{
	struct tu_objset s;
	uint64_t *b;
	unsigned int i;

	tu_objset_init(&s, mp);
	b = calloc(s.n, sizeof(*b));
	assert_non_null(b);
	for (i = 0; i < s.n; i++)
		b[i] = xp_mempool_virt2phy(mp, s.objs[i]);
	tu_objset_fini(&s);
	return b;
}

static void rxc_bus_unchanged(struct xp_mempool *mp, const uint64_t *b)
{
	uint64_t *now = rxc_bus_snapshot(mp);

	assert_memory_equal(now, b, mp->size * sizeof(*b));
	free(now);
}

/*
 * A fault in a worker thread of a check: cmocka's handler would longjmp to
 * the main thread's test from the wrong thread and the process end without
 * a word.  Say where instead (signal, address, instruction as object and
 * offset for addr2line), then end the process.
 */
static void rx_crash_report(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	void *ip = (void *)uc->uc_mcontext.gregs[REG_RIP];
	char line[512];
	Dl_info di;
	int n;

	memset(&di, 0, sizeof(di));
	(void)dladdr(ip, &di);
	n = snprintf(line, sizeof(line),
		     "rx_dom0: signal %d (code %d) at address %p, "
		     "instruction %p = %s+%#lx (%s)\n",
		     sig, si->si_code, si->si_addr, ip,
		     di.dli_fname ? di.dli_fname : "?",
		     (unsigned long)((char *)ip - (char *)di.dli_fbase),
		     di.dli_sname ? di.dli_sname : "?");
	if (n > 0)
		(void)write(STDERR_FILENO, line, (size_t)n);
	_exit(128 + sig);
}

static void rx_report_crashes(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	struct sigaction sa;
	unsigned int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = rx_crash_report;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
}

static void test_cross_hostile_domu(void **state)
{
	struct rxc_traffic t = {0};
	struct xp_mempool *rooms;
	struct rxc_worker w[3];
	uint64_t *bus_mp, *bus_rooms;
	uint32_t *refs;
	pthread_t th[3];
	unsigned long dirty = 0;
	struct tu_objset s;
	char args[32], *v;
	int n1, n2;
	unsigned int i;
	size_t j;

	(void)state;
	rx_case_begin();
	snprintf(args, sizeof(args), "peer=%u", rxc.domu);
	t.mp = xp_mempool_create_ex(RX_POOL, 256, 2048, 32, 0, NULL, NULL, 0,
				    XP_XEN_HANDLER, args);
	assert_non_null(t.mp);
	t.mbufs = xp_pktmbuf_pool_create_ex("rx_mbuf", 255, 32, 0, 2048,
					    XP_XEN_HANDLER, args);
	assert_non_null(t.mbufs);
	rooms = tu_mbuf_priv(t.mbufs)->room_pool;
	n1 = xp_xen_pool_grefs(t.mp, NULL, 0);
	n2 = xp_xen_pool_grefs(rooms, NULL, 0);
	refs = calloc((size_t)(n1 + n2), sizeof(*refs));
	assert_non_null(refs);
	xp_xen_pool_grefs(t.mp, refs, (unsigned int)n1);
	xp_xen_pool_grefs(rooms, refs + n1, (unsigned int)n2);
	tu_objset_init(&s, t.mp);
	for (i = 0; i < s.n; i++)
		memset(s.objs[i], 0, t.mp->elt_size);
	bus_mp = rxc_bus_snapshot(t.mp);
	bus_rooms = rxc_bus_snapshot(rooms);
	assert_int_equal(rxs_say_refs(&rxc.rs, "c/refs", refs,
				      (unsigned int)(n1 + n2)),
			 0);
	v = rxc_await("c/scribbling");
	assert_string_equal(v, "1");
	free(v);
	rx_report_crashes();
	for (i = 0; i < 3; i++) {
		w[i] = (struct rxc_worker){&t, i};
		assert_int_equal(pthread_create(&th[i], NULL,
						i < 2 ? rxc_objects
						      : rxc_packets,
						&w[i]),
				 0);
	}
	sleep(5);
	atomic_store(&t.stop, 1);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(rxs_say(&rxc.rs, "c/stop", "1"), 0);
	v = rxc_await("c/passes");
	print_message("domU scribbled %s passes over %d pages; traffic: "
		      "%lu + %lu object rounds, %lu packet bursts\n",
		      v, n1 + n2, t.rounds[0], t.rounds[1], t.rounds[2]);
	assert_true(atol(v) > 0);
	free(v);
	assert_true(t.rounds[0] > 0 && t.rounds[1] > 0 && t.rounds[2] > 0);
	assert_int_equal(t.bad, 0);
	/* The scribbles reached the objects (past what the traffic
	 * zeroes)... */
	for (i = 0; i < s.n; i++)
		for (j = 64; j < t.mp->elt_size; j++)
			dirty += ((uint8_t *)s.objs[i])[j] != 0;
	assert_true(dirty > 0);
	tu_objset_fini(&s);
	/* ...and nothing of the pools' own. */
	assert_int_equal(xp_mempool_audit(t.mp), 0);
	tu_check_all_free(t.mp);
	tu_mbuf_pool_check(t.mbufs);
	rxc_bus_unchanged(t.mp, bus_mp);
	rxc_bus_unchanged(rooms, bus_rooms);
	free(bus_mp);
	free(bus_rooms);
	free(refs);
	xp_mempool_free(t.mbufs);
	xp_mempool_free(t.mp);
	rx_assert_no_grants();
}

/* What the domU found on its side. */
static void test_cross_domu_result(void **state)
{
	char *v;

	(void)state;
	v = rxc_await("result");
	if (strcmp(v, "PASS") != 0)
		fail_msg("domU: %s", v);
	free(v);
}

static int rxc_setup(void **state)
{
	char *up;

	if (rx_setup(state) != 0 || rxs_open(&rxc.rs, rxc.domu) != 0)
		return -1;
	/* The domU is up and following. */
	up = rxs_await(&rxc.rs, "domu-up", RX_WAIT);
	free(up);
	return up != NULL ? 0 : -1;
}

static int run_cross(uint32_t domu)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cross_share_to_domu,
					  rx_test_teardown),
		cmocka_unit_test(test_cross_map_from_domu),
		cmocka_unit_test_teardown(test_cross_hostile_domu,
					  rx_test_teardown),
		cmocka_unit_test(test_cross_domu_result),
	};

	rxc.domu = domu;
	return cmocka_run_group_tests_name("realxen_cross", tests, rxc_setup,
					   rx_teardown);
}

/* ---- Xen absent: the modules are not loaded yet --------------------- */

static void test_fallback(void **state)
{
	struct xp_mempool *mp;
	void *objs[8];

	(void)state;
	rx_log.n = 0;
	tu_stderr_begin();
	mp = xp_mempool_create_ex(RX_POOL, 100, 2048, 0, 0, NULL, NULL, 0,
				  XP_XEN_HANDLER, "peer=0");
	tu_stderr_end_empty();
	assert_non_null(mp);
	assert_string_not_equal(xp_mempool_handler_name(mp), XP_XEN_HANDLER);
	assert_int_equal(rx_log_count(XP_LOG_NOTICE, "xengntshr_open", NULL),
			 1);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 8), 0);
	memset(objs[7], 1, 2048);
	xp_mempool_put_bulk(mp, objs, 8);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_free(mp);
	/* A backend that asked for a guest's pages is refused. */
	errno = 0;
	assert_null(rx_create(1, 64, "map=1,refs=8"));
	assert_int_equal(errno, ENODEV);
}

static int run_noxen(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback),
	};

	xp_log_set_level(XP_LOG_DEBUG);
	xp_log_set_callback(rx_log_cb, NULL);
	return cmocka_run_group_tests_name("realxen_noxen", tests, NULL, NULL);
}

/* ---- measurement and helper modes ----------------------------------- */

static int run_jumbo(unsigned int max)
{
	unsigned int n, k, ok;

	xp_log_set_level(XP_LOG_ERR);
	for (n = 8; n <= max; n += n < 64 ? 8 : n < 256 ? 32 : 64) {
		unsigned int pages = 0;

		for (k = ok = 0; k < 10; k++) {
			struct xp_mempool *mp = rx_create(n, 9000, "peer=0");
			struct xp_xen_pool_info info;

			if (mp == NULL)
				continue;
			ok++;
			if (xp_xen_pool_info(mp, &info) == 0 &&
			    info.pages > pages)
				pages = info.pages;
			xp_mempool_free(mp);
		}
		printf("RX-DATA jumbo n=%u ok=%u/10 pages=%u\n", n, ok, pages);
		fflush(stdout);
		if (ok == 0)
			break;
	}
	return 0;
}

static double rx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Creation and free of pools, microseconds per page: medians of 7. */
static int run_timing(void)
{
	static const struct {
		unsigned int n;
		size_t elt;
		const char *args;
	} c[] = {
		{120, 2000, "peer=0"},
		{480, 2000, "peer=0"},
		{1800, 2000, "peer=0"},
		{1800, 2000, "peer=0,frames=gref"},
		{64, 9000, "peer=0"},
		{256, 9000, "peer=0"},
	};
	unsigned int i, k;

	xp_log_set_level(XP_LOG_ERR);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		double create[7], destroy[7];
		struct xp_xen_pool_info info = {0};

		for (k = 0; k < 7; k++) {
			double t0 = rx_now_us(), t1;
			struct xp_mempool *mp = rx_create(c[i].n, c[i].elt,
							  c[i].args);

			t1 = rx_now_us();
			if (mp == NULL || xp_xen_pool_info(mp, &info) != 0) {
				printf("RX-DATA timing %u x %zu '%s': %s\n",
				       c[i].n, c[i].elt, c[i].args,
				       strerror(errno));
				return 1;
			}
			xp_mempool_free(mp);
			create[k] = (t1 - t0) / info.pages;
			destroy[k] = (rx_now_us() - t1) / info.pages;
		}
		qsort(create, 7, sizeof(double), dbl_cmp);
		qsort(destroy, 7, sizeof(double), dbl_cmp);
		printf("RX-DATA timing %u x %zu B '%s': %u pages, create "
		       "%.1f us/page [%.1f-%.1f], free %.1f us/page\n",
		       c[i].n, c[i].elt, c[i].args, info.pages, create[3],
		       create[0], create[6], destroy[3]);
	}
	return 0;
}

static volatile sig_atomic_t rx_done;

static void rx_on_term(int sig);

/*
 * Canary: dom0's memory is not written behind its owners' backs.  Every
 * second this process maps a fresh block (the page allocator hands out the
 * pages freed last: those of the pools and mappings the checks just
 * released), fills it with a pattern of its addresses, and checks every
 * block it holds; the oldest goes once 16 are held.  A page written after
 * it was freed (a grant mapping that outlived its page, say) shows up
 * here.  Runs until SIGTERM; exit status 1 if any byte changed.
 */
#define RX_CANARY_BLOCK (1024u * 1024u)
#define RX_CANARY_BLOCKS 16u

static uint64_t rx_canary_word(uintptr_t a)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 29);
}

static unsigned long rx_canary_check(uint64_t *b)
{
	unsigned long bad = 0;
	size_t i, n = RX_CANARY_BLOCK / sizeof(*b);

	for (i = 0; i < n; i++)
		if (b[i] != rx_canary_word((uintptr_t)&b[i])) {
			if (bad++ < 4)
				printf("RX-DATA canary: %p holds %#llx, not "
				       "%#llx\n",
				       (void *)&b[i], (unsigned long long)b[i],
				       (unsigned long long)rx_canary_word(
					       (uintptr_t)&b[i]));
			b[i] = rx_canary_word((uintptr_t)&b[i]);
		}
	return bad;
}

static int run_canary(void)
{
	uint64_t *held[RX_CANARY_BLOCKS] = {NULL};
	unsigned long blocks = 0, bad = 0;
	unsigned int i;

	signal(SIGTERM, rx_on_term);
	while (!rx_done) {
		unsigned int slot = (unsigned int)(blocks % RX_CANARY_BLOCKS);
		uint64_t *b;
		size_t k;

		if (held[slot] != NULL)
			munmap(held[slot], RX_CANARY_BLOCK);
		b = mmap(NULL, RX_CANARY_BLOCK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		held[slot] = b == MAP_FAILED ? NULL : b;
		for (k = 0; held[slot] && k < RX_CANARY_BLOCK / sizeof(*b);
		     k++)
			b[k] = rx_canary_word((uintptr_t)&b[k]);
		blocks++;
		for (i = 0; i < RX_CANARY_BLOCKS; i++)
			if (held[i] != NULL)
				bad += rx_canary_check(held[i]);
		sleep(1);
	}
	for (i = 0; i < RX_CANARY_BLOCKS; i++)
		if (held[i] != NULL)
			bad += rx_canary_check(held[i]);
	printf("RX-DATA canary: %lu blocks of 1 MiB taken, %lu words "
	       "changed\n",
	       blocks, bad);
	return bad != 0;
}

/*
 * xmm: do the vector registers of a thread survive being switched out?
 * Threads, more than the vCPUs, each fill all sixteen xmm registers with a
 * pattern of their own, give the CPU away (sched_yield, and a busy wait a
 * timer interrupt ends) inside the same asm statement, and read the
 * registers back.  Every changed register is counted.  This is the
 * emulator's and the hypervisor's check, not xenpool's: a copy that holds
 * pointers in vector registers (xp__objs_copy) hands out garbage where
 * they do not survive.
 */
#define RX_XMM_THREADS 4
#define RX_XMM_SECONDS 4

static atomic_int rx_xmm_stop;

struct rx_xmm_worker {
	unsigned int id;
	unsigned long rounds, bad;
};

static void *rx_xmm_thread(void *arg)
{
	struct rx_xmm_worker *w = arg;
	uint64_t out[32];
	unsigned int k;

	while (!atomic_load(&rx_xmm_stop)) {
		uint64_t pat = ((uint64_t)w->id << 48) | (w->rounds << 8);

		__asm__ volatile(
			"movq %[p], %%xmm0\n\t"
			"punpcklqdq %%xmm0, %%xmm0\n\t"
			"pcmpeqd %%xmm15, %%xmm15\n\t"
			"psrlq $63, %%xmm15\n\t" /* 1 in each half */
			"movdqa %%xmm0, %%xmm1\n\t paddq %%xmm15, %%xmm1\n\t"
			"movdqa %%xmm1, %%xmm2\n\t paddq %%xmm15, %%xmm2\n\t"
			"movdqa %%xmm2, %%xmm3\n\t paddq %%xmm15, %%xmm3\n\t"
			"movdqa %%xmm3, %%xmm4\n\t paddq %%xmm15, %%xmm4\n\t"
			"movdqa %%xmm4, %%xmm5\n\t paddq %%xmm15, %%xmm5\n\t"
			"movdqa %%xmm5, %%xmm6\n\t paddq %%xmm15, %%xmm6\n\t"
			"movdqa %%xmm6, %%xmm7\n\t paddq %%xmm15, %%xmm7\n\t"
			"movdqa %%xmm7, %%xmm8\n\t paddq %%xmm15, %%xmm8\n\t"
			"movdqa %%xmm8, %%xmm9\n\t paddq %%xmm15, %%xmm9\n\t"
			"movdqa %%xmm9, %%xmm10\n\t paddq %%xmm15, %%xmm10\n\t"
			"movdqa %%xmm10, %%xmm11\n\t paddq %%xmm15, %%xmm11\n\t"
			"movdqa %%xmm11, %%xmm12\n\t paddq %%xmm15, %%xmm12\n\t"
			"movdqa %%xmm12, %%xmm13\n\t paddq %%xmm15, %%xmm13\n\t"
			"movdqa %%xmm13, %%xmm14\n\t paddq %%xmm15, %%xmm14\n\t"
			"movdqa %%xmm14, %%xmm15\n\t paddq %%xmm1, %%xmm15\n\t"
			"psubq %%xmm0, %%xmm15\n\t" /* xmm14 + 1 */
			"mov $24, %%eax\n\t" /* sched_yield */
			"syscall\n\t"
			"mov $200000, %%ecx\n"
			"1:\n\t dec %%ecx\n\t jnz 1b\n\t"
			"movdqu %%xmm0, 0(%[o])\n\t movdqu %%xmm1, 16(%[o])\n\t"
			"movdqu %%xmm2, 32(%[o])\n\t movdqu %%xmm3, 48(%[o])\n\t"
			"movdqu %%xmm4, 64(%[o])\n\t movdqu %%xmm5, 80(%[o])\n\t"
			"movdqu %%xmm6, 96(%[o])\n\t movdqu %%xmm7, 112(%[o])\n\t"
			"movdqu %%xmm8, 128(%[o])\n\t movdqu %%xmm9, 144(%[o])\n\t"
			"movdqu %%xmm10, 160(%[o])\n\t movdqu %%xmm11, 176(%[o])\n\t"
			"movdqu %%xmm12, 192(%[o])\n\t movdqu %%xmm13, 208(%[o])\n\t"
			"movdqu %%xmm14, 224(%[o])\n\t movdqu %%xmm15, 240(%[o])\n\t"
			:
			: [p] "r"(pat), [o] "r"(out)
			: "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2",
			  "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
			  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
		for (k = 0; k < 32; k++)
			if (out[k] != pat + k / 2) {
				if (w->bad++ < 4)
					printf("RX-DATA xmm: thread %u round %lu: "
					       "xmm%u half %u is %#llx, not "
					       "%#llx\n",
					       w->id, w->rounds, k / 2, k % 2,
					       (unsigned long long)out[k],
					       (unsigned long long)(pat + k / 2));
			}
		w->rounds++;
	}
	return NULL;
}

static int run_xmm(unsigned int seconds)
{
	struct rx_xmm_worker w[RX_XMM_THREADS];
	pthread_t th[RX_XMM_THREADS];
	unsigned long rounds = 0, bad = 0;
	unsigned int i;

	for (i = 0; i < RX_XMM_THREADS; i++) {
		w[i] = (struct rx_xmm_worker){.id = i + 1};
		if (pthread_create(&th[i], NULL, rx_xmm_thread, &w[i]) != 0)
			return 2;
	}
	sleep(seconds);
	atomic_store(&rx_xmm_stop, 1);
	for (i = 0; i < RX_XMM_THREADS; i++) {
		pthread_join(th[i], NULL);
		rounds += w[i].rounds;
		bad += w[i].bad;
	}
	printf("RX-DATA xmm: %u threads, %lu rounds of 16 registers across a "
	       "yield, %lu values changed\n",
	       RX_XMM_THREADS, rounds, bad);
	return bad != 0 || rounds == 0;
}

static void rx_on_term(int sig)
{
	(void)sig;
	rx_done = 1;
}

static int run_grant(unsigned int n, const char *file)
{
	uint32_t *refs = calloc(n, sizeof(*refs));
	char *list = malloc((size_t)n * 12 + 2);
	xengntshr_handle *gs = xengntshr_open(NULL, 0);
	void *p;
	FILE *f;

	if (refs == NULL || list == NULL || gs == NULL)
		return 1;
	rx.gs = gs;
	p = rx_guest_share(n, 1, refs, list, (size_t)n * 12 + 2);
	memset(p, 0x42, (size_t)n * RX_PAGE);
	f = fopen(file, "w");
	if (f == NULL || fprintf(f, "%s\n", list) < 0 || fclose(f) != 0)
		return 1;
	signal(SIGTERM, rx_on_term);
	while (!rx_done)
		pause();
	xengntshr_unshare(gs, p, n);
	xengntshr_close(gs);
	free(refs);
	free(list);
	return 0;
}

int main(int argc, char **argv)
{
	/* The console is the log: lines as they come, also before a crash. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "dom0") == 0)
		return run_dom0();
	if (argc == 2 && strcmp(argv[1], "noxen") == 0)
		return run_noxen();
	if (argc == 2 && strcmp(argv[1], "timing") == 0)
		return run_timing();
	if (argc == 2 && strcmp(argv[1], "canary") == 0)
		return run_canary();
	if (argc == 2 && strcmp(argv[1], "xmm") == 0)
		return run_xmm(RX_XMM_SECONDS);
	if (argc == 3 && strcmp(argv[1], "xmm") == 0)
		return run_xmm((unsigned int)strtoul(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "cross") == 0)
		return run_cross((uint32_t)strtoul(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "jumbo") == 0)
		return run_jumbo((unsigned int)strtoul(argv[2], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "grant") == 0)
		return run_grant((unsigned int)strtoul(argv[2], NULL, 10),
				 argv[3]);
	fprintf(stderr,
		"usage: %s dom0 | noxen | cross DOMU | canary | xmm [SECONDS] | timing | "
		"jumbo MAX | grant N FILE\n",
		argv[0]);
	return 2;
}
