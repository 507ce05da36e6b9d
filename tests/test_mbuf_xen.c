/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet buffer pools on xen_dom0, against the mock hypervisor
 * (tests/shim): headers in private memory and rooms in granted memory, bus
 * addresses of every room from the shim's frames under each contiguity
 * pattern, no room across a frame discontinuity, a hostile peer writing
 * every granted byte (once, and all the time during an RX/TX-like loop),
 * the fallback when Xen is absent, and the rooms released with the pool.
 *
 * Expected addresses come from the shim (xpshim_frame_of), not from the
 * handler.  Each test ends with no grant, mapping or handle left.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

#include "testutil.h"
#include "xentest.h"

#define MB_POOL "xt_mbuf"
#define HR XP_PKTMBUF_HEADROOM
#define PRIV 16
#define HDR_LEN (sizeof(struct xp_mbuf) + PRIV)


/* After a failed test: drop what it left, so that the next one starts
 * clean. */
static int test_teardown(void **state)
{
	(void)state;
	xp_mempool_free(xp_mempool_lookup(MB_POOL));
	xpshim_reset(NULL);
	return xp_mempool_def_handler(xt_default_handler);
}

static struct xp_mempool *mk_pool(unsigned int n, unsigned int cache,
				  uint16_t room, const char *args)
{
	struct xp_mempool *mp;

	errno = 0;
	mp = xp_pktmbuf_pool_create_ex(MB_POOL, n, cache, PRIV, room,
				       XP_XEN_HANDLER, args);
	if (mp == NULL) {
		print_error("pktmbuf pool of %u rooms of %u, args '%s': %s\n",
			    n, room, args ? args : "(null)", strerror(errno));
		xt_log_print();
	}
	assert_non_null(mp);
	return mp;
}

/* Headers on the built-in ring, rooms in xen_dom0's granted pages. */
static struct xp_mempool *assert_split(struct xp_mempool *mp)
{
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);

	assert_int_equal(p->split, 1);
	assert_non_null(p->room_pool);
	assert_string_equal(xp_mempool_handler_name(mp), "ring_mp_mc");
	assert_string_equal(xp_mempool_handler_name(p->room_pool),
			    XP_XEN_HANDLER);
	assert_int_equal(p->room_pool->size, mp->size);
	return p->room_pool;
}

/* Every mbuf back once, both pools consistent; free; nothing leaked. */
static void pool_done(struct xp_mempool *mp)
{
	tu_mbuf_pool_check(mp);
	xp_mempool_free(mp);
	xt_assert_no_leaks();
}

/* No byte of the header or its private area is in memory the shim handed
 * out (a page boundary inside it would be at a multiple of 64). */
static void assert_header_private(const struct xp_mbuf *m)
{
	const char *h = (const char *)m;
	size_t off;

	for (off = 0; off < HDR_LEN; off += XP_CACHE_LINE_SIZE)
		assert_true(xpshim_frame_of(h + off) == XT_NO_FRAME);
	assert_true(xpshim_frame_of(h + HDR_LEN - 1) == XT_NO_FRAME);
}

/*
 * The room of @m is granted memory whose bus address is the shim's frame of
 * each of its pages, with consecutive frames from page to page, so that
 * buf_phys + offset holds over the whole room.
 */
static void assert_room(struct xp_mempool *rp, const struct xp_mbuf *m)
{
	uintptr_t a = (uintptr_t)m->buf_addr, end = a + m->buf_len, pg;
	uint64_t f = xpshim_frame_of(m->buf_addr);

	assert_true(f != XT_NO_FRAME);
	assert_true(m->buf_phys == (f << 12 | (a & 0xfff)));
	assert_true(m->buf_phys == xp_mempool_virt2phy(rp, m->buf_addr));
	assert_true(m->room_phys == m->buf_phys);
	for (pg = (a | 0xfff) + 1; pg < end; pg += XT_PAGE) {
		uint64_t g = xpshim_frame_of((void *)pg);

		assert_true(g == xpshim_frame_of((void *)(pg - 1)) + 1);
		assert_true(xp_mempool_virt2phy(rp, (void *)pg) ==
			    m->buf_phys + (pg - a));
	}
	assert_true(xpshim_frame_of((void *)(end - 1)) != XT_NO_FRAME);
	assert_true(xp_mempool_virt2phy(rp, (void *)(end - 1)) ==
		    m->buf_phys + m->buf_len - 1);
	assert_true(xp_pktmbuf_mtophys(m) ==
		    xp_mempool_virt2phy(rp, xp_pktmbuf_mtod(m, char *)));
}

/* Every mbuf of @mp, taken at once: header private, room granted. */
static void check_all_mbufs(struct xp_mempool *mp)
{
	struct xp_mempool *rp = assert_split(mp);
	struct xp_mbuf **all = calloc(mp->size, sizeof(*all));
	unsigned int i;

	assert_non_null(all);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, mp->size), 0);
	for (i = 0; i < mp->size; i++) {
		assert_header_private(all[i]);
		assert_room(rp, all[i]);
		assert_int_equal(all[i]->data_off, HR);
		assert_int_equal(xp_mbuf_refcnt_read(all[i]), 1);
	}
	xp_pktmbuf_free_bulk(all, mp->size);
	free(all);
}

/* ---- 1. layout and bus addresses ---------------------------------------- */

static void test_split_patterns(void **state)
{
	static const uint16_t rooms[] = {2048, 3000, 9000};
	struct xp_mempool *mp;
	unsigned int p, r;

	(void)state;
	for (p = 0; p < XT_NPATTERNS; p++) {
		const struct xt_pattern *pt = &xt_patterns[p];

		for (r = 0; r < ARRAY_SIZE(rooms); r++) {
			/* A room of three pages needs runs that long. */
			if (rooms[r] > XT_PAGE &&
			    pt->contig != XPSHIM_CONTIG_FULL &&
			    pt->max_run < 16)
				continue;
			xt_cfg_pattern(pt);
			xt_shim_reset();
			mp = mk_pool(200, 16, rooms[r], "peer=7,batch=16");
			check_all_mbufs(mp);
			/* The rooms' pool itself, checked independently. */
			xt_check_pool(tu_mbuf_priv(mp)->room_pool, pt->seed);
			pool_done(mp);
		}
	}
}

/* xp_pktmbuf_pool_create() on a process default of xen_dom0. */
static void test_xt_default_handler_xen(void **state)
{
	struct xp_mempool *mp;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 8, 3);
	xt_shim_reset();
	assert_int_equal(xp_mempool_def_handler(XP_XEN_HANDLER), 0);
	mp = xp_pktmbuf_pool_create(MB_POOL, 100, 8, PRIV, 2048);
	assert_non_null(mp);
	check_all_mbufs(mp);
	pool_done(mp);
	assert_int_equal(xp_mempool_def_handler(xt_default_handler), 0);
}

/* ---- 2. hostile peer ---------------------------------------------------- */

/* A copy of every header and private area of @mp. */
static char *snap_headers(struct xp_mempool *mp, struct tu_objset *set)
{
	char *copy = malloc(mp->size * HDR_LEN);
	unsigned int i;

	assert_non_null(copy);
	for (i = 0; i < set->n; i++)
		memcpy(copy + i * HDR_LEN, set->objs[i], HDR_LEN);
	return copy;
}

static void test_scribble_quiescent(void **state)
{
	enum { N = 128, NPKT = 8 };
	struct xp_xen_pool_info info;
	struct xp_mbuf *pkts[NPKT], *all[N], *m;
	struct xp_mempool *mp, *rp;
	struct tu_objset set;
	unsigned int i;
	char *copy;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 21);
	xt_shim_reset();
	mp = mk_pool(N, 16, 2048, "peer=7,batch=8");
	rp = assert_split(mp);
	assert_int_equal(xp_xen_pool_info(rp, &info), 0);
	/* In flight: chains of 1 to 4 segments and a clone of each. */
	for (i = 0; i < NPKT / 2; i++) {
		unsigned int k;

		pkts[i] = xp_pktmbuf_alloc(mp);
		assert_non_null(pkts[i]);
		tu_fill(pkts[i], 100, (uint8_t)i);
		for (k = 0; k < i; k++) {
			m = xp_pktmbuf_alloc(mp);
			assert_non_null(m);
			tu_fill(m, 50, (uint8_t)k);
			assert_int_equal(xp_pktmbuf_chain(pkts[i], m), 0);
		}
		pkts[i + NPKT / 2] = xp_pktmbuf_clone(pkts[i], mp);
		assert_non_null(pkts[i + NPKT / 2]);
	}
	tu_objset_init(&set, mp);
	for (i = 0; i < set.n; i++)
		memset(xp_mbuf_to_priv(set.objs[i]), 0x3c, PRIV);
	copy = snap_headers(mp, &set);

	/* Every writable granted page: all the rooms. */
	assert_int_equal(xpshim_scribble_all(0xff), info.pages);
	for (i = 0; i < set.n; i++)
		assert_memory_equal(set.objs[i], copy + i * HDR_LEN, HDR_LEN);
	for (i = 0; i < NPKT; i++) {
		assert_int_equal(xp_pktmbuf_check(pkts[i]), 0);
		/* The peer did reach the data. */
		assert_int_equal(*xp_pktmbuf_mtod(pkts[i], uint8_t *), 0xff);
	}
	xp_pktmbuf_free_bulk(pkts, NPKT);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	assert_int_equal(xp_mempool_audit(mp), 0);

	/* Free rooms written too: the mbufs handed out are still sound. */
	assert_int_equal(xpshim_scribble_all(0xa5), info.pages);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, N), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(xp_mbuf_refcnt_read(all[i]), 1);
		assert_null(all[i]->next);
		assert_int_equal(all[i]->data_off, HR);
		assert_int_equal(all[i]->buf_len, 2048);
		assert_ptr_equal(all[i]->buf_addr, all[i]->room);
		assert_ptr_equal(all[i]->pool, mp);
		assert_room(rp, all[i]);
	}
	xp_pktmbuf_free_bulk(all, N);
	tu_objset_fini(&set);
	free(copy);
	pool_done(mp);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define BURST 32

/* Counts of one loop, checked by the caller. */
struct loop_stats {
	unsigned long bursts;
	unsigned long bad_alloc; /* a fresh mbuf not as reset promises */
	unsigned long bad_check; /* a chain the check refused */
	unsigned long no_clone;
};

/*
 * One RX/TX-like burst: take 32 mbufs, write into each, chain four pairs,
 * clone four packets, check every chain, free everything.
 */
static void burst(struct xp_mempool *mp, struct loop_stats *st)
{
	struct xp_mbuf *pkts[BURST], *clones[4];
	unsigned int i;

	if (xp_pktmbuf_alloc_bulk(mp, pkts, BURST) != 0) {
		st->bad_alloc++;
		return;
	}
	for (i = 0; i < BURST; i++) {
		struct xp_mbuf *m = pkts[i];
		char *p;

		if (xp_mbuf_refcnt_read(m) != 1 || m->next != NULL ||
		    m->nb_segs != 1 || m->data_len != 0 ||
		    m->buf_addr != m->room || m->pool != mp ||
		    xp_mbuf_is_indirect(m))
			st->bad_alloc++;
		p = xp_pktmbuf_append(m, (uint16_t)(60 + i * 8));
		if (p == NULL)
			st->bad_alloc++;
		else
			memset(p, (int)i, 60 + i * 8);
	}
	for (i = 0; i < 8; i += 2) {
		if (xp_pktmbuf_chain(pkts[i], pkts[i + 1]) != 0)
			st->bad_check++;
		pkts[i + 1] = NULL;
	}
	for (i = 0; i < 4; i++) {
		clones[i] = xp_pktmbuf_clone(pkts[2 * i], mp);
		if (clones[i] == NULL)
			st->no_clone++;
		else if (xp_pktmbuf_check(clones[i]) != 0)
			st->bad_check++;
	}
	for (i = 0; i < BURST; i++)
		if (pkts[i] != NULL && xp_pktmbuf_check(pkts[i]) != 0)
			st->bad_check++;
	xp_pktmbuf_free_bulk(pkts, BURST);
	xp_pktmbuf_free_bulk(clones, 4);
	st->bursts++;
}

static void test_scribbler_loop(void **state)
{
	struct loop_stats st;
	struct xp_mempool *mp;
	unsigned long passes = 0;
	double until, slice, give_up;

	(void)state;
	memset(&st, 0, sizeof(st));
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 22);
	xt_shim_reset();
	mp = mk_pool(256, 32, 2048, "peer=7,batch=16");
	assert_split(mp);
	/* Slices of bursts until the peer has written everything a few
	 * times (a slow run, as under valgrind, needs more slices). */
	slice = (double)tu_scaled(500, 100) / 1000;
	give_up = now_s() + 60;
	while (passes < 3 && now_s() < give_up) {
		assert_int_equal(xpshim_scribbler_start(), 0);
		until = now_s() + slice;
		while (now_s() < until)
			burst(mp, &st);
		passes += xpshim_scribbler_stop();
	}
	assert_true(passes >= 3);
	assert_true(st.bursts > 0);
	assert_int_equal(st.bad_alloc, 0);
	assert_int_equal(st.bad_check, 0);
	assert_int_equal(st.no_clone, 0);
	check_all_mbufs(mp);
	xt_check_pool(tu_mbuf_priv(mp)->room_pool, 22);
	pool_done(mp);
}

/* ---- 3. Xen absent ------------------------------------------------------ */

static void fallback_case(enum xpshim_absent absent)
{
	const char *def = xp_mempool_get_def_handler();
	const char *target = strcmp(def, XP_XEN_HANDLER) ? def : "ring_mp_mc";
	struct xp_xen_pool_info info;
	struct xp_mempool *mp, *rp;
	struct loop_stats st;
	struct xp_mbuf *m;
	unsigned int i;

	xt_cfg_set(XPSHIM_CONTIG_FULL, 1, 1);
	xt_cfg.absent = absent;
	xt_shim_reset();
	xt_log_reset(1);
	mp = mk_pool(128, 8, 2048, "peer=7");
	/* Still split (the handler says its memory is shared), but the
	 * rooms come from the fallback. */
	rp = tu_mbuf_priv(mp)->room_pool;
	assert_int_equal(tu_mbuf_priv(mp)->split, 1);
	assert_non_null(rp);
	assert_string_equal(xp_mempool_handler_name(rp), target);
	assert_int_equal(xp_xen_pool_info(rp, &info), -ENODEV);
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 100; i++)
		burst(mp, &st);
	assert_int_equal(st.bursts, 100);
	assert_int_equal(st.bad_alloc + st.bad_check + st.no_clone, 0);
	m = xp_pktmbuf_alloc(mp);
	assert_non_null(m);
	assert_true(xpshim_frame_of(m->buf_addr) == XT_NO_FRAME);
	assert_true(m->buf_phys != XP_BAD_PHYS);
	assert_true(m->buf_phys == xp_mempool_virt2phy(rp, m->buf_addr));
	if (strncmp(target, "ring_", 5) == 0) /* IOVA = VA */
		assert_true(m->buf_phys == (uintptr_t)m->buf_addr);
	xp_pktmbuf_free(m);
	pool_done(mp);
}

static void test_fallback(void **state)
{
	(void)state;
	fallback_case(XPSHIM_ABSENT_ENOENT);
	fallback_case(XPSHIM_ABSENT_NOERRNO);
}

/* ---- 4. the rooms' pool goes with the pool ------------------------------ */

static void test_free_releases_rooms(void **state)
{
	unsigned int pools = tu_pool_count();
	char name[XP_MEMPOOL_NAMESIZE];
	struct xpshim_leaks held;
	struct xp_mempool *mp, *rp;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 23);
	xt_shim_reset();
	mp = mk_pool(100, 0, 2048, "peer=7");
	rp = assert_split(mp);
	snprintf(name, sizeof(name), "%s", rp->name);
	assert_ptr_equal(xp_mempool_lookup(name), rp);
	assert_int_equal(tu_pool_count(), pools + 2);
	xpshim_leaks(&held);
	assert_true(held.shared >= 50 && held.refs >= 50); /* the rooms */
	xp_mempool_free(mp);
	xt_assert_no_leaks();
	TU_ASSERT_NO_POOL(name);
	TU_ASSERT_NO_POOL(MB_POOL);
	assert_int_equal(tu_pool_count(), pools);
}

/* A failed creation leaves no pool and no grant behind. */
static void create_fails(unsigned int n, uint16_t priv, uint16_t room,
			 const char *name, const char *args, int err)
{
	unsigned int pools = tu_pool_count();

	xt_log_reset(1);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_pool_create_ex(name, n, 0, priv, room,
						       XP_XEN_HANDLER, args),
			     err);
	assert_int_equal(tu_pool_count(), pools);
	xt_assert_no_leaks();
}

static void test_create_errors(void **state)
{
	struct xp_mempool *taken;

	(void)state;
	xt_cfg_set(XPSHIM_CONTIG_RANDOM, 16, 24);
	xt_shim_reset();
	/* Refused before Xen is asked: nothing granted to the peer. */
	create_fails(64, 4, 2048, MB_POOL, "peer=7", EINVAL);
	create_fails(64, 0, HR - 1, MB_POOL, "peer=7", EINVAL);
	create_fails(0, 0, 2048, MB_POOL, "peer=7", EINVAL);
	create_fails(64, 0, 2048, "xt_0123456789_0123456789_0123456789",
		     "peer=7", ENAMETOOLONG);
	create_fails(64, 0, 2048, "", "peer=7", EINVAL);
	taken = tu_mk_pool(MB_POOL, 4, 64, 0, 0, NULL);
	create_fails(64, 0, 2048, MB_POOL, "peer=7", EEXIST);
	assert_ptr_equal(xp_mempool_lookup(MB_POOL), taken);
	xp_mempool_free(taken);
	assert_int_equal(xpshim_calls(NULL), 0);
	/* The handler refuses. */
	create_fails(64, 0, 2048, MB_POOL, "bogus=1", EINVAL);
	xt_cfg.limit = 8;
	xt_shim_reset();
	create_fails(64, 0, 2048, MB_POOL, "peer=7", ENOSPC);
	TU_ASSERT_NO_POOL(MB_POOL);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, xt_test_setup, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_split_patterns),
		TEST(test_xt_default_handler_xen),
		TEST(test_scribble_quiescent),
		TEST(test_scribbler_loop),
		TEST(test_fallback),
		TEST(test_free_releases_rooms),
		TEST(test_create_errors),
	};

	return cmocka_run_group_tests(tests, xt_group_setup, NULL);
}
