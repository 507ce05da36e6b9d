/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pool core: creation and its errors, layout and populate, get/put through
 * the handler, introspection (iterators, virt2phy, audit, dump, lookup,
 * walk), and which handler callbacks the core calls when.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))

static size_t pool_align(const struct xp_mempool *mp)
{
	return (mp->flags & XP_MEMPOOL_F_NO_CACHE_ALIGN) ? 8 : 64;
}

/* Bytes an object needs inside its chunk: itself and its debug guard. */
static size_t obj_need(const struct xp_mempool *mp)
{
	return mp->elt_size + ((mp->flags & XP_MEMPOOL_F_DEBUG) ? 8 : 0);
}

/*
 * Layout checks on every object, in obj_iter order: indices 0..n-1, each
 * object with its guard inside one chunk, aligned, at mp->obj_stride from
 * the previous one in the same chunk, chunks in populate order.
 */
struct layout_check {
	const struct tu_chunk_list *chunks;
	unsigned int next_idx;
	int last_chunk;
	char *last_obj;
};

static void layout_cb(struct xp_mempool *mp, void *arg, void *obj,
		      unsigned int idx)
{
	struct layout_check *lc = arg;
	char *p = obj;
	int c = tu_chunk_holding(lc->chunks, p, obj_need(mp));

	assert_int_equal(idx, lc->next_idx);
	lc->next_idx++;
	assert_true(c >= 0);
	assert_int_equal((uintptr_t)p % pool_align(mp), 0);
	if (c == lc->last_chunk) {
		assert_ptr_equal(p, lc->last_obj + mp->obj_stride);
	} else {
		char *first = lc->chunks->c[c].va;

		assert_true(c > lc->last_chunk);
		assert_ptr_equal(p, (char *)ALIGN_UP((uintptr_t)first,
						     pool_align(mp)));
	}
	lc->last_chunk = c;
	lc->last_obj = p;
}

static void check_layout(struct xp_mempool *mp)
{
	struct tu_chunk_list *l = tu_chunks_of(mp);
	struct layout_check lc = { .chunks = l, .last_chunk = -1 };
	size_t align = pool_align(mp);

	assert_true(mp->obj_stride >= obj_need(mp));
	assert_int_equal(mp->obj_stride % align, 0);
	assert_true(mp->obj_stride < obj_need(mp) + align);
	assert_int_equal(xp_mempool_obj_iter(mp, layout_cb, &lc), mp->size);
	assert_int_equal(lc.next_idx, mp->size);
	free(l);
}

/* ---- test handlers --------------------------------------------------- */

/*
 * "t_chunks": populates from many odd chunks of one malloc'ed buffer:
 * unaligned starts, lengths not multiples of the stride, one chunk too
 * small for any object, gaps between chunks.  Args: "phys" gives each chunk
 * its own bus address (else XP_BAD_PHYS); "desc" places each chunk below
 * the previous one, so that populate order is not address order.  Every
 * call is logged for the test to check (a handler must not fail the test
 * from inside the core).
 */
#define T_PHYS_BASE 0x7700000000ull
#define T_PHYS_STEP 0x10000000ull

struct pop_call {
	char *va;
	size_t len;
	uint64_t phys;
	unsigned int missing; /* before the call */
	int ret;
};

static struct {
	struct pop_call call[8192];
	unsigned int n;
} poplog;

/* Where chunk @i of length @len goes, next to @cur, with a gap. */
static char *chunk_place(struct xp_mempool *mp, char *cur, size_t len,
			 unsigned int i, int desc)
{
	uintptr_t align = pool_align(mp);

	if (i == 1 && !desc)
		return (char *)ALIGN_UP((uintptr_t)cur, align) + 1;
	if (i == 1)
		return (char *)((uintptr_t)(cur - len - 2) / align * align) + 1;
	if (!desc)
		return cur + 1 + (i * 13) % 61;
	return cur - len - 1 - (i * 13) % 61;
}

static int chunks_create(struct xp_mempool *mp, const char *args)
{
	size_t max_chunk = 3 * mp->obj_stride + 256;
	size_t total = (mp->size + 2) * max_chunk;
	struct tu_count_data *d = tu_count_data_alloc(mp);
	int desc = args != NULL && strstr(args, "desc") != NULL;
	int phys = args != NULL && strstr(args, "phys") != NULL;
	char *cur, *buf;
	unsigned int i;

	if (d == NULL)
		return -ENOMEM;
	d->mem = malloc(total);
	if (d->mem == NULL) {
		tu_count_data_free(mp);
		return -ENOMEM;
	}
	buf = d->mem;
	cur = desc ? buf + total : buf;
	poplog.n = 0;
	for (i = 0; xp_mempool_populate_missing(mp) > 0; i++) {
		struct pop_call *pc = &poplog.call[poplog.n];

		if (poplog.n == sizeof(poplog.call) / sizeof(poplog.call[0]) ||
		    (desc ? cur - max_chunk < buf
			  : cur + max_chunk > buf + total)) {
			tu_count_data_free(mp);
			return -ENOSPC;
		}
		if (i == 1)
			/* Its first aligned address leaves one byte short. */
			pc->len = pool_align(mp) - 1 + obj_need(mp) - 1;
		else
			pc->len = mp->obj_stride * (i % 3 + 1) + 64 +
				  (i * 7) % 50;
		pc->va = chunk_place(mp, cur, pc->len, i, desc);
		pc->phys = phys ? T_PHYS_BASE + i * T_PHYS_STEP : XP_BAD_PHYS;
		pc->missing = xp_mempool_populate_missing(mp);
		pc->ret = xp_mempool_populate(mp, pc->va, pc->phys, pc->len);
		poplog.n++;
		if (pc->ret < 0) {
			tu_count_data_free(mp);
			return pc->ret;
		}
		cur = desc ? pc->va : pc->va + pc->len;
	}
	return 0;
}

/*
 * "t_short": its create returns 0 with one object missing.  Static storage
 * only, so that nothing leaks whether or not the core calls destroy then.
 */
#define T_SHORT_N 4
static _Alignas(64) char short_mem[T_SHORT_N * 256];
static void *short_objs[T_SHORT_N];
static struct tu_count_data short_data = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.objs = short_objs,
};
static int short_populated;

static int short_create(struct xp_mempool *mp, const char *args)
{
	(void)args;
	if (mp->size > T_SHORT_N || mp->obj_stride > 256)
		return -EINVAL;
	short_data.len = 0;
	mp->pool_data = &short_data;
	short_populated = xp_mempool_populate(
		mp, short_mem, XP_BAD_PHYS,
		xp_mempool_chunk_size(mp, mp->size - 1));
	return 0;
}

static void short_destroy(struct xp_mempool *mp)
{
	mp->pool_data = NULL;
}

/*
 * "t_perr": provokes each populate error from inside create, then checks
 * chunk_size against populate on exact chunks, then fills the rest by
 * populate_default and tries one more chunk on the full pool.
 */
static struct {
	int null_mp, null_va, len0, wrap, small, exact3, short2, dflt, full;
	size_t objs3, objs_short2;
	int null_default;
	unsigned int missing[4];
	size_t cs[4];
	size_t cs_null;
	unsigned int missing_null;
} perr;

static int perr_create(struct xp_mempool *mp, const char *args)
{
	struct tu_count_data *d = tu_count_data_alloc(mp);
	char *buf;
	unsigned int k;

	(void)args;
	if (d == NULL)
		return -ENOMEM;
	d->mem = aligned_alloc(64, 8192);
	if (d->mem == NULL) {
		tu_count_data_free(mp);
		return -ENOMEM;
	}
	buf = d->mem;
	for (k = 0; k < 4; k++)
		perr.cs[k] = xp_mempool_chunk_size(mp, k);
	perr.cs_null = xp_mempool_chunk_size(NULL, 1);
	perr.missing_null = xp_mempool_populate_missing(NULL);
	perr.missing[0] = xp_mempool_populate_missing(mp);
	perr.null_mp = xp_mempool_populate(NULL, buf, XP_BAD_PHYS, 4096);
	perr.null_default = xp_mempool_populate_default(NULL);
	perr.null_va = xp_mempool_populate(mp, NULL, XP_BAD_PHYS, 4096);
	perr.len0 = xp_mempool_populate(mp, buf, XP_BAD_PHYS, 0);
	perr.wrap = xp_mempool_populate(mp, (void *)(UINTPTR_MAX - 63),
					XP_BAD_PHYS, 4096);
	perr.small = xp_mempool_populate(mp, buf, XP_BAD_PHYS,
					 mp->elt_size - 1);
	perr.missing[1] = xp_mempool_populate_missing(mp);
	perr.objs3 = xp_mempool_chunk_objs(mp, buf, perr.cs[3]);
	perr.exact3 = xp_mempool_populate(mp, buf, XP_BAD_PHYS, perr.cs[3]);
	perr.objs_short2 = xp_mempool_chunk_objs(mp, buf + 4096,
						 perr.cs[2] - 1);
	perr.missing[2] = xp_mempool_populate_missing(mp);
	perr.short2 = xp_mempool_populate(mp, buf + 4096, XP_BAD_PHYS,
					  perr.cs[2] - 1);
	perr.missing[3] = xp_mempool_populate_missing(mp);
	perr.dflt = xp_mempool_populate_default(mp);
	perr.full = xp_mempool_populate(mp, buf + 6144, XP_BAD_PHYS, 2048);
	if (perr.dflt < 0) {
		tu_count_data_free(mp);
		return perr.dflt;
	}
	return 0;
}

/* "t_v2p": tu_count with its own virt2phy, which counts its calls. */
#define T_V2P_XOR 0x5a5000000000ull
static unsigned long v2p_calls;

static uint64_t v2p_virt2phy(const struct xp_mempool *mp, const void *addr)
{
	(void)mp;
	__atomic_fetch_add(&v2p_calls, 1, __ATOMIC_RELAXED);
	return (uint64_t)(uintptr_t)addr ^ T_V2P_XOR;
}

/*
 * "t_ptab": memory of T_PTAB_PAGES pages, published as a page table whose
 * page i has bus address T_PTAB_BUS(i), except page 1 which has none; its
 * create first tries every bad argument of xp_mempool_handler_set_page_table
 * and records the results.  Its own virt2phy (the same table) counts calls.
 */
#define T_PTAB_PAGES 6
#define T_PTAB_BUS(i) ((0x12345ull + 7 * (i)) << 12)
static struct {
	uint64_t bus[T_PTAB_PAGES];
	int ret_null_mp, ret_null_va, ret_null_pages, ret_zero, ret_unaligned,
		ret_overflow, ret_entry, ret_ok;
	unsigned long calls;
	char *mem;
} ptab;

static uint64_t ptab_virt2phy(const struct xp_mempool *mp, const void *addr)
{
	uintptr_t off = (uintptr_t)addr - (uintptr_t)ptab.mem;

	(void)mp;
	__atomic_fetch_add(&ptab.calls, 1, __ATOMIC_RELAXED);
	if (off >= T_PTAB_PAGES * XP_PAGE_SIZE ||
	    ptab.bus[off / XP_PAGE_SIZE] == XP_BAD_PHYS)
		return XP_BAD_PHYS;
	return ptab.bus[off / XP_PAGE_SIZE] | (off & (XP_PAGE_SIZE - 1));
}

static int ptab_create(struct xp_mempool *mp, const char *args)
{
	struct tu_count_data *d = tu_count_data_alloc(mp);
	unsigned int i;
	int ret;

	(void)args;
	if (d == NULL)
		return -ENOMEM;
	d->mem = aligned_alloc(XP_PAGE_SIZE, T_PTAB_PAGES * XP_PAGE_SIZE);
	if (d->mem == NULL) {
		tu_count_data_free(mp);
		return -ENOMEM;
	}
	ptab.mem = d->mem;
	for (i = 0; i < T_PTAB_PAGES; i++)
		ptab.bus[i] = i == 1 ? XP_BAD_PHYS : T_PTAB_BUS(i);
	ptab.ret_null_mp = xp_mempool_handler_set_page_table(
		NULL, ptab.mem, T_PTAB_PAGES, ptab.bus);
	ptab.ret_null_va = xp_mempool_handler_set_page_table(
		mp, NULL, T_PTAB_PAGES, ptab.bus);
	ptab.ret_null_pages = xp_mempool_handler_set_page_table(
		mp, ptab.mem, T_PTAB_PAGES, NULL);
	ptab.ret_zero = xp_mempool_handler_set_page_table(mp, ptab.mem, 0,
							  ptab.bus);
	ptab.ret_unaligned = xp_mempool_handler_set_page_table(
		mp, ptab.mem + 64, T_PTAB_PAGES, ptab.bus);
	ptab.ret_overflow = xp_mempool_handler_set_page_table(
		mp, ptab.mem, SIZE_MAX / XP_PAGE_SIZE, ptab.bus);
	ptab.bus[3] |= 0x800; /* not page-aligned */
	ptab.ret_entry = xp_mempool_handler_set_page_table(
		mp, ptab.mem, T_PTAB_PAGES, ptab.bus);
	ptab.bus[3] = T_PTAB_BUS(3);
	ptab.ret_ok = xp_mempool_handler_set_page_table(mp, ptab.mem,
							T_PTAB_PAGES, ptab.bus);
	/* Page by page, so that no object spans two pages. */
	for (i = 0; i < T_PTAB_PAGES && xp_mempool_populate_missing(mp); i++) {
		ret = xp_mempool_populate(mp, ptab.mem + i * XP_PAGE_SIZE,
					  XP_BAD_PHYS, XP_PAGE_SIZE);
		if (ret < 0) {
			tu_count_data_free(mp);
			return ret;
		}
	}
	return 0;
}

/*
 * "t_halfput": its put_bulk fails on its second call, half-way through a
 * populate of more than one batch.  create then tries a second populate,
 * and either returns 0 anyway (args "ok") or the error; with "pos" the
 * failing put_bulk returns 1 (not an errno) instead of -EIO.
 */
static struct {
	unsigned int put_calls;
	int put_ret;
	int dflt, again;
} halfput;

static int halfput_put_bulk(struct xp_mempool *mp, void *const *objs,
			    unsigned int n)
{
	if (++halfput.put_calls == 2)
		return halfput.put_ret;
	return tu_count_put_bulk(mp, objs, n);
}

static int halfput_create(struct xp_mempool *mp, const char *args)
{
	struct tu_count_data *d = tu_count_data_alloc(mp);
	int pos = args != NULL && strstr(args, "pos") != NULL;
	int ok = args != NULL && strstr(args, "ok") != NULL;
	size_t len;

	if (d == NULL)
		return -ENOMEM;
	halfput.put_calls = 0;
	halfput.put_ret = pos ? 1 : -EIO;
	len = ALIGN_UP(xp_mempool_chunk_size(mp, mp->size), 64);
	d->mem = aligned_alloc(64, len);
	if (d->mem == NULL) {
		tu_count_data_free(mp);
		return -ENOMEM;
	}
	halfput.dflt = xp_mempool_populate_default(mp);
	/* Room for the whole pool: only the earlier failure can stop it. */
	halfput.again = xp_mempool_populate(mp, d->mem, XP_BAD_PHYS, len);
	if (ok)
		return 0;
	tu_count_data_free(mp);
	return halfput.dflt < 0 ? halfput.dflt : -EIO;
}

/* "t_pos": a tu_count whose create succeeds but returns 1. */
static int pos_create(struct xp_mempool *mp, const char *args)
{
	int ret = tu_count_create(mp, args);

	return ret == 0 ? 1 : ret;
}

/*
 * "t_ringcount": ring_mp_mc (which declares its ring) with get_bulk and
 * put_bulk that count their calls: whether the inline path reached the ring
 * without the handler shows in the counts.
 */
static const struct xp_mempool_ops *rc_ring_ops;
static unsigned long rc_gets, rc_puts;

static int rc_get_bulk(struct xp_mempool *mp, void **objs, unsigned int n)
{
	__atomic_fetch_add(&rc_gets, 1, __ATOMIC_RELAXED);
	return rc_ring_ops->get_bulk(mp, objs, n);
}

static int rc_put_bulk(struct xp_mempool *mp, void *const *objs,
		       unsigned int n)
{
	__atomic_fetch_add(&rc_puts, 1, __ATOMIC_RELAXED);
	return rc_ring_ops->put_bulk(mp, objs, n);
}

/*
 * "t_store": keeps its objects in the core's ring store.  Its create tries
 * each bad call first and records the results; args "fail" make it return
 * -EIO after populating, "fallback" ask for a fallback after taking the
 * store (the core must free the ring in both cases), "sc" ask for a
 * single-consumer ring.
 */
static struct {
	int null_mp, bad_flags, ok, twice, set_ring, dflt;
	struct xp_ring *other;
} store;

static int store_create(struct xp_mempool *mp, const char *args)
{
	int sc = args != NULL && strstr(args, "sc") != NULL;

	store.null_mp = xp_mempool_handler_ring_store(NULL, 0);
	store.bad_flags = xp_mempool_handler_ring_store(mp, 0x100);
	store.ok = xp_mempool_handler_ring_store(mp, sc ? XP_RING_F_SC_DEQ
							: 0);
	if (store.ok != 0)
		return store.ok;
	store.twice = xp_mempool_handler_ring_store(mp, 0);
	store.set_ring = xp_mempool_handler_set_ring(mp, store.other);
	if (args != NULL && strstr(args, "fallback") != NULL)
		return xp_mempool_handler_fallback(mp, "test");
	store.dflt = xp_mempool_populate_default(mp);
	if (store.dflt < 0)
		return store.dflt;
	return args != NULL && strstr(args, "fail") != NULL ? -EIO : 0;
}

static void store_destroy(struct xp_mempool *mp)
{
	(void)mp;
}

/* "t_putfail_fb": its put_bulk always fails, so its first populate fails
 * and places nothing; it then gives the pool up to the default handler,
 * which must start afresh. */
static int putfail_put(struct xp_mempool *mp, void *const *objs,
		       unsigned int n)
{
	(void)mp;
	(void)objs;
	(void)n;
	return -EIO;
}

static int putfail_create(struct xp_mempool *mp, const char *args)
{
	(void)args;
	if (xp_mempool_populate_default(mp) != -EIO)
		return -EPROTO;
	return xp_mempool_handler_fallback(mp, "test");
}

static int group_setup(void **state)
{
	struct xp_mempool_ops ops;

	(void)state;
	tu_count_register();
	ops = tu_count_ops("t_chunks");
	ops.create = chunks_create;
	tu_register(&ops);
	ops = tu_count_ops("t_short");
	ops.create = short_create;
	ops.destroy = short_destroy;
	tu_register(&ops);
	ops = tu_count_ops("t_perr");
	ops.create = perr_create;
	tu_register(&ops);
	ops = tu_count_ops("t_v2p");
	ops.virt2phy = v2p_virt2phy;
	tu_register(&ops);
	ops = tu_count_ops("t_ptab");
	ops.create = ptab_create;
	ops.virt2phy = ptab_virt2phy;
	tu_register(&ops);
	ops = tu_ring_ops("t_ringcount", &rc_ring_ops);
	ops.get_bulk = rc_get_bulk;
	ops.put_bulk = rc_put_bulk;
	tu_register(&ops);
	ops = tu_count_ops("t_halfput");
	ops.create = halfput_create;
	ops.put_bulk = halfput_put_bulk;
	tu_register(&ops);
	ops = tu_count_ops("t_pos");
	ops.create = pos_create;
	tu_register(&ops);
	ops = tu_count_ops("t_shared");
	ops.flags |= XP_MEMPOOL_OPS_F_SHARED_MEM;
	tu_register(&ops);
	ops = tu_count_ops("t_putfail_fb");
	ops.create = putfail_create;
	ops.put_bulk = putfail_put;
	tu_register(&ops);
	ops = tu_count_ops("t_store");
	ops.create = store_create;
	ops.destroy = store_destroy;
	ops.get_bulk = xp_mempool_ring_store_get;
	ops.put_bulk = xp_mempool_ring_store_put;
	ops.get_count = xp_mempool_ring_store_count;
	tu_register(&ops);
	return 0;
}

/* ---- creation errors ------------------------------------------------- */

/*
 * Create with these arguments fails with @err, leaves no pool behind, and
 * the name can then be used.
 */
#define CHECK_CREATE_FAILS(err, name, n, elt, cache, flags, handler, args)    \
	do {                                                                  \
		unsigned int np_ = tu_pool_count();                           \
		TU_ASSERT_NULL_ERRNO(xp_mempool_create_ex(name, n, elt,       \
							  cache, 0, NULL,     \
							  NULL, flags,        \
							  handler, args),     \
				     err);                                    \
		assert_int_equal(tu_pool_count(), np_);                       \
	} while (0)

static void check_name_free(const char *name)
{
	struct xp_mempool *mp;

	TU_ASSERT_NO_POOL(name);
	mp = tu_mk_pool(name, 8, 64, 0, 0, NULL);
	assert_ptr_equal(xp_mempool_lookup(name), mp);
	xp_mempool_free(mp);
	TU_ASSERT_NO_POOL(name);
}

static void test_create_einval(void **state)
{
	const char *nm = "einval";

	(void)state;
	CHECK_CREATE_FAILS(EINVAL, NULL, 8, 64, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, "", 8, 64, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 0, 64, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, 0, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, SIZE_MAX, 0, 0, NULL, NULL);
	/* Rounding up to the alignment overflows. */
	CHECK_CREATE_FAILS(EINVAL, nm, 1, SIZE_MAX - 10, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 1, SIZE_MAX - 3, 0,
			   XP_MEMPOOL_F_NO_CACHE_ALIGN, NULL, NULL);
	/* n * stride overflows. */
	CHECK_CREATE_FAILS(EINVAL, nm, 4, SIZE_MAX / 2 - 4095, 0, 0, NULL,
			   NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, UINT_MAX, SIZE_MAX / 64, 0, 0, NULL,
			   NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, 64, XP_MEMPOOL_CACHE_MAX_SIZE + 1, 0,
			   NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, 64, UINT_MAX, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, 64, 0, ~XP_MEMPOOL_F_MASK, NULL,
			   NULL);
	CHECK_CREATE_FAILS(EINVAL, nm, 8, 64, 0, 0x100, NULL, NULL);
	/* A private area whose size cannot be added to anything. */
	TU_ASSERT_NULL_ERRNO(xp_mempool_create_ex(nm, 8, 64, 0, SIZE_MAX, NULL,
						  NULL, 0, NULL, NULL),
			     EINVAL);
	TU_ASSERT_NO_POOL(nm);
	/* Same checks through the default-handler entry point. */
	TU_ASSERT_NULL_ERRNO(xp_mempool_create(NULL, 8, 64, 0, 0, NULL, NULL,
					       0),
			     EINVAL);
	TU_ASSERT_NULL_ERRNO(xp_mempool_create(nm, 0, 64, 0, 0, NULL, NULL, 0),
			     EINVAL);
	TU_ASSERT_NULL_ERRNO(xp_mempool_create(nm, 8, 64, 0, 0, NULL, NULL,
					       0x40),
			     EINVAL);
	check_name_free(nm);
}

static void test_create_limits_ok(void **state)
{
	struct xp_mempool *mp;

	(void)state;
	mp = tu_mk_pool("cache_max", 2048, 64, XP_MEMPOOL_CACHE_MAX_SIZE,
			XP_MEMPOOL_F_MASK & ~XP_MEMPOOL_F_DEBUG, NULL);
	assert_int_equal(mp->cache_size, XP_MEMPOOL_CACHE_MAX_SIZE);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static void test_create_name(void **state)
{
	char name[XP_MEMPOOL_NAMESIZE + 8];
	struct xp_mempool *mp;

	(void)state;
	memset(name, 'n', sizeof(name));
	name[XP_MEMPOOL_NAMESIZE] = '\0';
	CHECK_CREATE_FAILS(ENAMETOOLONG, name, 8, 64, 0, 0, NULL, NULL);
	TU_ASSERT_NULL_ERRNO(xp_mempool_create(name, 8, 64, 0, 0, NULL, NULL,
					       0),
			     ENAMETOOLONG);
	name[XP_MEMPOOL_NAMESIZE + 7] = '\0';
	CHECK_CREATE_FAILS(ENAMETOOLONG, name, 8, 64, 0, 0, NULL, NULL);
	/* The longest name that fits. */
	name[XP_MEMPOOL_NAMESIZE - 1] = '\0';
	mp = tu_mk_pool(name, 8, 64, 0, 0, NULL);
	assert_string_equal(mp->name, name);
	assert_ptr_equal(xp_mempool_lookup(name), mp);
	xp_mempool_free(mp);
	TU_ASSERT_NO_POOL(name);
}

static void test_create_eexist(void **state)
{
	struct xp_mempool *mp;
	void *obj;

	(void)state;
	mp = tu_mk_pool("dup", 8, 64, 0, 0, NULL);
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	CHECK_CREATE_FAILS(EEXIST, "dup", 8, 64, 0, 0, NULL, NULL);
	CHECK_CREATE_FAILS(EEXIST, "dup", 16, 32, 4, 0, TU_COUNT_HANDLER,
			   NULL);
	/* The existing pool is untouched. */
	assert_ptr_equal(xp_mempool_lookup("dup"), mp);
	assert_int_equal(mp->size, 8);
	assert_int_equal(xp_mempool_avail_count(mp), 7);
	xp_mempool_put(mp, obj);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_free(mp);
	check_name_free("dup");
}

static void test_create_handler_errors(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();

	(void)state;
	CHECK_CREATE_FAILS(ENOENT, "nohandler", 8, 64, 0, 0, "no_such_handler",
			   NULL);
	CHECK_CREATE_FAILS(ENOENT, "nohandler", 8, 64, 0, 0, "", NULL);
	check_name_free("nohandler");

	CHECK_CREATE_FAILS(EIO, "hfail", 8, 64, 0, 0, TU_COUNT_HANDLER,
			   "fail=5");
	CHECK_CREATE_FAILS(ENOSPC, "hfail", 8, 64, 0, 0, TU_COUNT_HANDLER,
			   "fail=28");
	/* destroy is not called after a failed create. */
	assert_int_equal(*tu_count_destroyed(), destroyed);
	check_name_free("hfail");

	short_populated = -1;
	CHECK_CREATE_FAILS(EPROTO, "hshort", T_SHORT_N, 64, 0, 0, "t_short",
			   NULL);
	assert_int_equal(short_populated, T_SHORT_N - 1);
	check_name_free("hshort");
}

/*
 * n up to INT_MAX.  The handler "fails" with EDOM at once, so that a count
 * the core accepts shows as EDOM without memory for INT_MAX objects.
 */
static void test_create_n_limit(void **state)
{
	(void)state;
	CHECK_CREATE_FAILS(EDOM, "nlimit", INT_MAX, 64, 0, 0, TU_COUNT_HANDLER,
			   "fail=33");
	CHECK_CREATE_FAILS(EINVAL, "nlimit", (unsigned int)INT_MAX + 1u, 64, 0,
			   0, TU_COUNT_HANDLER, "fail=33");
	CHECK_CREATE_FAILS(EINVAL, "nlimit", UINT_MAX, 64, 0, 0,
			   TU_COUNT_HANDLER, "fail=33");
	CHECK_CREATE_FAILS(EINVAL, "nlimit", (unsigned int)INT_MAX + 1u, 8, 0,
			   0, NULL, NULL);
	TU_ASSERT_NULL_ERRNO(xp_mempool_create("nlimit", UINT_MAX, 8, 0, 0,
					       NULL, NULL, 0),
			     EINVAL);
	check_name_free("nlimit");
}

/* A create that returns a positive value succeeded as far as it knows. */
static void test_create_positive(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();

	(void)state;
	CHECK_CREATE_FAILS(EPROTO, "hpos", 64, 64, 0, 0, "t_pos", NULL);
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
	CHECK_CREATE_FAILS(EPROTO, "hpos", 64, 64, 8, 0, "t_pos", NULL);
	assert_int_equal(*tu_count_destroyed(), destroyed + 2);
	/* An error from the same create is still only an error. */
	CHECK_CREATE_FAILS(EIO, "hpos", 64, 64, 0, 0, "t_pos", "fail=5");
	assert_int_equal(*tu_count_destroyed(), destroyed + 2);
	check_name_free("hpos");
}

/*
 * put_bulk fails in the second batch of a populate (300 objects: batches
 * of 256 and 44): objects of the first batch are in the handler already,
 * so the pool can never be complete.
 */
static void check_halfput(const char *args, int err, int destroy)
{
	unsigned long destroyed = *tu_count_destroyed();

	memset(&halfput, 0, sizeof(halfput));
	CHECK_CREATE_FAILS(err, "halfput", 300, 64, 0, 0, "t_halfput", args);
	/* populate_default passes the handler's error on. */
	assert_int_equal(halfput.dflt, -err);
	/* The second populate is refused with the same error, unplaced. */
	assert_int_equal(halfput.again, -err);
	assert_int_equal(halfput.put_calls, 2);
	assert_int_equal(*tu_count_destroyed(), destroyed + destroy);
	check_name_free("halfput");
}

static void test_populate_put_fails(void **state)
{
	(void)state;
	/* create returns 0 anyway: it holds its state, destroy frees it. */
	check_halfput("ok", EIO, 1);
	check_halfput("pos ok", EPROTO, 1);
	/* create returns the error: destroy is not called. */
	check_halfput("err", EIO, 0);
	check_halfput("pos err", EPROTO, 0);
}

/* test_create_enomem and test_ring_store_enomem provoke failed
 * allocations. */
TU_SANITIZERS_MAY_RETURN_NULL()

/*
 * In a child: a pool too big for the address-space limit fails with
 * ENOMEM and leaves nothing behind, and a small one still works.
 */
static int child_enomem(void)
{
	struct xp_mempool *mp;

	if (tu_limit_address_space(256ul << 20) != 0)
		return 2;
	/* 8 GiB of objects. */
	errno = 0;
	mp = xp_mempool_create("enomem", 1u << 23, 1024, 0, 0, NULL, NULL, 0);
	if (mp != NULL)
		return 3;
	if (errno != ENOMEM)
		return 4;
	errno = 0;
	if (xp_mempool_lookup("enomem") != NULL || errno != ENOENT)
		return 5;
	mp = xp_mempool_create("enomem", 64, 64, 0, 0, NULL, NULL, 0);
	if (mp == NULL)
		return 6;
	xp_mempool_free(mp);
	return 0;
}

static void test_create_enomem(void **state)
{
	(void)state;
	tu_run_in_child(child_enomem);
}

/* ---- sizes and get/put ---------------------------------------------- */

static void test_single_object(void **state)
{
	struct xp_mempool *mp;
	void *a, *b;
	unsigned int cache;

	(void)state;
	for (cache = 0; cache <= 8; cache += 8) {
		mp = tu_mk_pool("one", 1, 40, cache, 0, NULL);
		assert_int_equal(mp->size, 1);
		assert_int_equal(xp_mempool_avail_count(mp), 1);
		assert_int_equal(xp_mempool_get(mp, &a), 0);
		assert_int_equal(xp_mempool_in_use_count(mp), 1);
		assert_int_equal(xp_mempool_get(mp, &b), -ENOENT);
		xp_mempool_put(mp, a);
		assert_int_equal(xp_mempool_get(mp, &b), 0);
		assert_ptr_equal(a, b);
		memset(b, 0xa5, 40);
		xp_mempool_put(mp, b);
		check_layout(mp);
		tu_check_all_free(mp);
		assert_int_equal(xp_mempool_audit(mp), 0);
		xp_mempool_free(mp);
	}
}

/* Take everything in bulks of 1..37, then give back in other bulks. */
static void drain_and_refill(struct xp_mempool *mp)
{
	struct tu_objset s;
	void **objs = calloc(mp->size, sizeof(*objs));
	unsigned int got = 0, put = 0, k;
	void *extra;

	assert_non_null(objs);
	tu_objset_init(&s, mp);
	for (k = 1; got < mp->size; k = k % 37 + 1) {
		unsigned int b = k < mp->size - got ? k : mp->size - got;

		assert_int_equal(xp_mempool_get_bulk(mp, objs + got, b), 0);
		got += b;
		assert_int_equal(xp_mempool_avail_count(mp), mp->size - got);
		assert_int_equal(xp_mempool_in_use_count(mp), got);
	}
	assert_int_equal(xp_mempool_get(mp, &extra), -ENOENT);
	tu_objset_check_all(&s, objs, mp->size);
	for (k = 5; put < mp->size; k = k * 7 % 101 + 1) {
		unsigned int b = k < mp->size - put ? k : mp->size - put;

		xp_mempool_put_bulk(mp, objs + put, b);
		put += b;
		assert_int_equal(xp_mempool_avail_count(mp), put);
	}
	assert_int_equal(xp_mempool_audit(mp), 0);
	tu_check_all_free(mp);
	tu_objset_fini(&s);
	free(objs);
}

static void test_odd_sizes(void **state)
{
	static const unsigned int sizes[] = { 2, 3, 1000, 4097 };
	static const unsigned int caches[] = { 0, 1, 32, 512 };
	unsigned int i, j;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizeof(caches) / sizeof(caches[0]); j++) {
			struct xp_mempool *mp;

			mp = tu_mk_pool("odd", sizes[i], 24 + i * 40, caches[j],
					0, NULL);
			assert_int_equal(mp->size, sizes[i]);
			assert_int_equal(mp->cache_size, caches[j]);
			check_layout(mp);
			drain_and_refill(mp);
			xp_mempool_free(mp);
		}
	}
}

/* A pool smaller than, or equal to, its cache size. */
static void test_n_vs_cache(void **state)
{
	static const unsigned int sizes[] = { 10, 64, 65, 200 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned int n = sizes[i];
		struct xp_mempool *mp = tu_mk_pool("small", n, 64, 64, 0, NULL);
		void **objs = calloc(n + 1, sizeof(*objs));
		void *extra;

		assert_non_null(objs);
		/* A miss wants 1 + 64 from a handler that may hold less. */
		assert_int_equal(xp_mempool_get(mp, &objs[0]), 0);
		assert_int_equal(xp_mempool_avail_count(mp), n - 1);
		assert_int_equal(xp_mempool_get_bulk(mp, objs + 1, n - 1), 0);
		assert_int_equal(xp_mempool_avail_count(mp), 0);
		assert_int_equal(xp_mempool_get(mp, &extra), -ENOENT);
		xp_mempool_put_bulk(mp, objs, n);
		assert_int_equal(xp_mempool_avail_count(mp), n);
		assert_int_equal(xp_mempool_get_bulk(mp, objs, n + 1),
				 -ENOENT);
		assert_int_equal(xp_mempool_avail_count(mp), n);
		drain_and_refill(mp);
		free(objs);
		xp_mempool_free(mp);
	}
}

/* A failed get changes nothing: counts, this thread's cache, contents. */
static void test_get_too_many(void **state)
{
	unsigned int cache;

	(void)state;
	for (cache = 0; cache <= 16; cache += 16) {
		struct xp_mempool *mp = tu_mk_pool("toomany", 100, 64, cache, 0,
						   NULL);
		void *held[30], *rest[100];
		struct xp_mempool_cache *c;
		uint32_t clen = 0;

		assert_int_equal(xp_mempool_get_bulk(mp, held, 30), 0);
		c = xp_mempool_default_cache(mp);
		if (cache == 0)
			assert_null(c);
		else
			clen = c->len;
		assert_int_equal(xp_mempool_avail_count(mp), 70);
		assert_int_equal(xp_mempool_get_bulk(mp, rest, 71), -ENOENT);
		assert_int_equal(xp_mempool_get_bulk(mp, rest, 100), -ENOENT);
		assert_int_equal(xp_mempool_avail_count(mp), 70);
		if (c != NULL)
			assert_int_equal(c->len, clen);
		assert_int_equal(xp_mempool_get_bulk(mp, rest, 70), 0);
		assert_int_equal(xp_mempool_avail_count(mp), 0);
		assert_int_equal(xp_mempool_get(mp, &rest[70]), -ENOENT);
		xp_mempool_put_bulk(mp, rest, 70);
		xp_mempool_put_bulk(mp, held, 30);
		tu_check_all_free(mp);
		xp_mempool_free(mp);
	}
}

/* ---- layout, iteration, init ----------------------------------------- */

static void test_layout_default(void **state)
{
	static const size_t elts[] = { 1, 8, 24, 63, 64, 65, 200, 4096 };
	unsigned int i, f;

	(void)state;
	for (i = 0; i < sizeof(elts) / sizeof(elts[0]); i++) {
		for (f = 0; f <= XP_MEMPOOL_F_NO_CACHE_ALIGN;
		     f += XP_MEMPOOL_F_NO_CACHE_ALIGN) {
			struct xp_mempool *mp;
			struct tu_chunk_list *l;

			mp = tu_mk_pool("layout", 333, elts[i], 8, f, NULL);
			assert_int_equal(mp->elt_size, elts[i]);
			assert_int_equal(mp->flags, f);
			/* No per-object overhead beyond the rounding. */
			assert_int_equal(mp->obj_stride,
					 ALIGN_UP(elts[i], pool_align(mp)));
			check_layout(mp);
			/* The default populate gives IOVA = VA. */
			l = tu_chunks_of(mp);
			assert_int_equal(l->n, 1);
			assert_int_equal(l->c[0].phys, (uintptr_t)l->c[0].va);
			assert_true(l->c[0].len >=
				    xp_mempool_chunk_size(mp, mp->size));
			free(l);
			assert_int_equal(xp_mempool_populate_missing(mp), 0);
			drain_and_refill(mp);
			xp_mempool_free(mp);
		}
	}
}

static void noop_obj_cb(struct xp_mempool *mp, void *arg, void *obj,
			unsigned int idx)
{
	(void)mp;
	(void)arg;
	(void)obj;
	(void)idx;
}

static void noop_mem_cb(struct xp_mempool *mp, void *arg, void *va,
			uint64_t phys, size_t len, unsigned int idx)
{
	(void)mp;
	(void)arg;
	(void)va;
	(void)phys;
	(void)len;
	(void)idx;
}

static void test_iter_null(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("iternull", 16, 64, 0, 0, NULL);

	(void)state;
	assert_int_equal(xp_mempool_obj_iter(NULL, noop_obj_cb, NULL), 0);
	assert_int_equal(xp_mempool_obj_iter(mp, NULL, NULL), 0);
	assert_int_equal(xp_mempool_mem_iter(NULL, noop_mem_cb, NULL), 0);
	assert_int_equal(xp_mempool_mem_iter(mp, NULL, NULL), 0);
	assert_int_equal(xp_mempool_obj_iter(mp, noop_obj_cb, NULL), 16);
	assert_true(xp_mempool_mem_iter(mp, noop_mem_cb, NULL) >= 1);
	xp_mempool_free(mp);
}

struct init_rec {
	struct xp_mempool *mp; /* as seen by obj_init */
	const char *name;
	void **by_idx;
	unsigned int calls;
	unsigned int n;
	int bad;
};

static void init_cb(struct xp_mempool *mp, void *arg, void *obj,
		    unsigned int idx)
{
	struct init_rec *r = arg;

	r->calls++;
	if (idx >= r->n || r->by_idx[idx] != NULL ||
	    strcmp(mp->name, r->name) != 0 || mp->size != r->n) {
		r->bad++;
		return;
	}
	r->mp = mp;
	r->by_idx[idx] = obj;
	memset(obj, 0, 16);
	memcpy(obj, &idx, sizeof(idx));
}

static void match_idx_cb(struct xp_mempool *mp, void *arg, void *obj,
			 unsigned int idx)
{
	struct init_rec *r = arg;

	(void)mp;
	assert_ptr_equal(r->by_idx[idx], obj);
}

static void test_obj_init(void **state)
{
	struct init_rec r = { .name = "init", .n = 1000 };
	struct xp_mempool *mp;
	void *objs[1000];
	unsigned int i;

	(void)state;
	r.by_idx = calloc(r.n, sizeof(*r.by_idx));
	assert_non_null(r.by_idx);
	mp = xp_mempool_create("init", r.n, 48, 16, 0, init_cb, &r, 0);
	assert_non_null(mp);
	assert_int_equal(r.calls, r.n);
	assert_int_equal(r.bad, 0);
	assert_ptr_equal(r.mp, mp);
	for (i = 0; i < r.n; i++)
		assert_non_null(r.by_idx[i]);
	/* Layout order is obj_init's order. */
	assert_int_equal(xp_mempool_obj_iter(mp, match_idx_cb, &r), r.n);
	/* What obj_init wrote is in the objects handed out. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, r.n), 0);
	for (i = 0; i < r.n; i++) {
		unsigned int idx;

		memcpy(&idx, objs[i], sizeof(idx));
		assert_true(idx < r.n);
		assert_ptr_equal(r.by_idx[idx], objs[i]);
	}
	xp_mempool_put_bulk(mp, objs, r.n);
	xp_mempool_free(mp);
	free(r.by_idx);
}

static void test_priv(void **state)
{
	static const size_t sizes[] = { 1, 64, 100, 65536 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct xp_mempool *mp;
		unsigned char *p;
		size_t k;

		mp = xp_mempool_create("priv", 64, 32, 0, sizes[i], NULL,
				       NULL, 0);
		assert_non_null(mp);
		assert_int_equal(mp->priv_size, sizes[i]);
		p = xp_mempool_get_priv(mp);
		assert_non_null(p);
		for (k = 0; k < sizes[i]; k++)
			assert_int_equal(p[k], 0);
		/* All of it is ours: the objects must not change. */
		memset(p, 0xee, sizes[i]);
		drain_and_refill(mp);
		assert_ptr_equal(xp_mempool_get_priv(mp), p);
		for (k = 0; k < sizes[i]; k++)
			assert_int_equal(p[k], 0xee);
		xp_mempool_free(mp);
	}
}

/* ---- populate --------------------------------------------------------- */

/*
 * Objects populate can place in @pc: from the first aligned address, at
 * stride, none crossing the end, no more than were missing.
 */
static unsigned int expected_placed(const struct xp_mempool *mp,
				    const struct pop_call *pc)
{
	uintptr_t start = ALIGN_UP((uintptr_t)pc->va, pool_align(mp));
	uintptr_t end = (uintptr_t)pc->va + pc->len;
	size_t fit;

	if (start + obj_need(mp) > end)
		return 0;
	fit = (end - start - obj_need(mp)) / mp->obj_stride + 1;
	return fit < pc->missing ? fit : pc->missing;
}

/* populate's answers in the log match the chunks mem_iter reports. */
static void check_chunk_log(struct xp_mempool *mp)
{
	struct tu_chunk_list *l = tu_chunks_of(mp);
	unsigned int i, rec = 0, placed = 0;

	assert_true(poplog.n > 0);
	for (i = 0; i < poplog.n; i++) {
		const struct pop_call *pc = &poplog.call[i];

		assert_int_equal(pc->missing, mp->size - placed);
		assert_int_equal(pc->ret, expected_placed(mp, pc));
		placed += pc->ret;
		if (pc->ret == 0)
			continue;
		assert_true(rec < l->n);
		assert_ptr_equal(l->c[rec].va, pc->va);
		assert_int_equal(l->c[rec].len, pc->len);
		assert_int_equal(l->c[rec].phys, pc->phys);
		rec++;
	}
	/* The chunk one byte short, if the pool needed a second chunk. */
	if (poplog.n > 1)
		assert_int_equal(poplog.call[1].ret, 0);
	assert_int_equal(placed, mp->size);
	assert_int_equal(rec, l->n);
	free(l);
}

static void populate_chunks_one(unsigned int n, size_t elt,
				unsigned int flags, int desc)
{
	struct xp_mempool *mp;

	mp = tu_mk_pool_args("chunks", n, elt, 4, flags, "t_chunks",
			     desc ? "desc" : NULL);
	check_chunk_log(mp);
	check_layout(mp);
	drain_and_refill(mp);
	xp_mempool_free(mp);
}

static void populate_chunks_all(int desc)
{
	static const size_t elts[] = { 8, 50, 64, 130 };
	static const unsigned int sizes[] = { 1, 7, 1000, 4097 };
	static const unsigned int flags[] = {
		0, XP_MEMPOOL_F_NO_CACHE_ALIGN, XP_MEMPOOL_F_DEBUG,
		XP_MEMPOOL_F_NO_CACHE_ALIGN | XP_MEMPOOL_F_DEBUG
	};
	unsigned int i, j, f;

	for (i = 0; i < sizeof(elts) / sizeof(elts[0]); i++)
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]); j++)
			for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
				populate_chunks_one(sizes[j], elts[i],
						    flags[f], desc);
}

static void test_populate_chunks(void **state)
{
	(void)state;
	populate_chunks_all(0);
}

/* Chunks given from high addresses to low: populate order is kept. */
static void test_populate_chunks_desc(void **state)
{
	(void)state;
	populate_chunks_all(1);
}

static void test_populate_errors(void **state)
{
	struct xp_mempool *mp;
	struct tu_chunk_list *l;
	char buf[256];
	unsigned int k;

	(void)state;
	memset(&perr, 0x55, sizeof(perr));
	mp = tu_mk_pool("perr", 40, 128, 0, 0, "t_perr");
	assert_int_equal(perr.missing_null, 0);
	assert_int_equal(perr.cs_null, 0);
	assert_int_equal(perr.null_mp, -EINVAL);
	assert_int_equal(perr.null_default, -EINVAL);
	assert_int_equal(perr.null_va, -EINVAL);
	assert_int_equal(perr.len0, -EINVAL);
	assert_int_equal(perr.wrap, -EINVAL);
	assert_int_equal(perr.small, 0);
	/* Errors and an empty chunk place nothing. */
	assert_int_equal(perr.missing[0], 40);
	assert_int_equal(perr.missing[1], 40);
	/* 128-byte objects: no padding, so chunk_size is exact. */
	for (k = 1; k < 4; k++)
		assert_int_equal(perr.cs[k], k * 128);
	assert_int_equal(perr.objs3, 3);
	assert_int_equal(perr.exact3, 3);
	assert_int_equal(perr.missing[2], 37);
	assert_int_equal(perr.objs_short2, 1);
	assert_int_equal(perr.short2, 1);
	assert_int_equal(perr.missing[3], 36);
	assert_int_equal(perr.dflt, 36);
	assert_int_equal(perr.full, 0);
	assert_int_equal(xp_mempool_populate_missing(mp), 0);
	l = tu_chunks_of(mp);
	assert_int_equal(l->n, 3);
	free(l);
	check_layout(mp);

	/* Outside create. */
	assert_int_equal(xp_mempool_populate(mp, buf, XP_BAD_PHYS, sizeof(buf)),
			 -EBUSY);
	assert_int_equal(xp_mempool_populate_default(mp), -EBUSY);
	assert_int_equal(xp_mempool_populate(NULL, buf, XP_BAD_PHYS, 64),
			 -EINVAL);
	l = tu_chunks_of(mp);
	assert_int_equal(l->n, 3);
	free(l);
	drain_and_refill(mp);
	xp_mempool_free(mp);

	/* Also outside create, on a pool of the default handler. */
	mp = tu_mk_pool("perr2", 8, 64, 0, 0, NULL);
	assert_int_equal(xp_mempool_populate(mp, buf, XP_BAD_PHYS, sizeof(buf)),
			 -EBUSY);
	assert_int_equal(xp_mempool_populate_default(mp), -EBUSY);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static void test_chunk_size(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("csize", 16, 100, 0, 0, NULL);
	unsigned int k;

	(void)state;
	assert_int_equal(xp_mempool_chunk_size(NULL, 4), 0);
	for (k = 1; k < 100; k++) {
		size_t cs = xp_mempool_chunk_size(mp, k);

		assert_true(cs >= (k - 1) * mp->obj_stride + mp->elt_size);
		assert_true(cs <= k * mp->obj_stride);
		assert_true(cs > xp_mempool_chunk_size(mp, k - 1));
	}
	assert_int_equal(xp_mempool_populate_missing(mp), 0);
	xp_mempool_free(mp);
}

/*
 * chunk_objs is populate's rule: k objects in chunk_size(k) bytes from an
 * aligned start, k - 1 in a byte less, the same from any misaligned start
 * given the bytes up to the next aligned address; NULL counts from a page.
 */
static void test_chunk_objs(void **state)
{
	static const struct {
		size_t elt;
		unsigned int flags;
	} cases[] = {
		{ 1, 0 }, { 64, 0 }, { 100, 0 }, { 1000, 0 }, { 4000, 0 },
		{ 100, XP_MEMPOOL_F_NO_CACHE_ALIGN }, { 100, XP_MEMPOOL_F_DEBUG },
		{ 13, XP_MEMPOOL_F_NO_CACHE_ALIGN | XP_MEMPOOL_F_DEBUG },
	};
	unsigned int i, k, off;

	(void)state;
	assert_int_equal(xp_mempool_chunk_objs(NULL, NULL, 4096), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xp_mempool *mp;
		size_t align;

		mp = xp_mempool_create("cobjs", 16, cases[i].elt, 0, 0, NULL,
				       NULL, cases[i].flags);
		assert_non_null(mp);
		align = (cases[i].flags & XP_MEMPOOL_F_NO_CACHE_ALIGN)
				? sizeof(void *)
				: XP_CACHE_LINE_SIZE;
		assert_int_equal(xp_mempool_chunk_objs(mp, NULL, 0), 0);
		assert_int_equal(xp_mempool_chunk_objs(
					 mp, (void *)(UINTPTR_MAX - 63), 4096),
				 0);
		for (k = 1; k < 40; k++) {
			size_t cs = xp_mempool_chunk_size(mp, k);

			for (off = 0; off < align; off += align > 8 ? 7 : 1) {
				uintptr_t va = 4096 * 3 + off;
				size_t skip = off == 0 ? 0 : align - off;

				assert_int_equal(xp_mempool_chunk_objs(
							 mp, (void *)va,
							 cs + skip),
						 k);
				assert_int_equal(xp_mempool_chunk_objs(
							 mp, (void *)va,
							 cs + skip - 1),
						 k - 1);
			}
			assert_int_equal(xp_mempool_chunk_objs(mp, NULL, cs), k);
			assert_int_equal(
				xp_mempool_chunk_objs(mp, NULL, cs - 1), k - 1);
		}
		/* Not limited by the objects missing (none here). */
		assert_int_equal(xp_mempool_populate_missing(mp), 0);
		xp_mempool_free(mp);
	}
}

/* xp_mempool_chunk_info against mem_iter and obj_iter: each object in the
 * chunk that claims it, in order, stride apart; the waste adds up. */
struct cinfo_walk {
	struct xp_mempool *mp;
	unsigned int chunk, in_chunk;
	struct xp_mempool_chunk c;
};

static void cinfo_mem(struct xp_mempool *mp, void *arg, void *va,
		      uint64_t phys, size_t len, unsigned int idx)
{
	struct xp_mempool_chunk c;

	(void)arg;
	assert_int_equal(xp_mempool_chunk_info(mp, idx, &c), 0);
	assert_ptr_equal(c.va, va);
	assert_int_equal(c.len, len);
	assert_true(c.phys == phys);
}

static void cinfo_obj(struct xp_mempool *mp, void *arg, void *obj,
		      unsigned int idx)
{
	struct cinfo_walk *w = arg;

	/* Objects come chunk by chunk; skip the chunks that hold none. */
	while (w->in_chunk == w->c.nobjs) {
		assert_int_equal(xp_mempool_chunk_info(mp, w->chunk++, &w->c),
				 0);
		w->in_chunk = 0;
	}
	if (w->in_chunk == 0) {
		assert_ptr_equal(w->c.first_obj, obj);
		assert_int_equal(w->c.first_idx, idx);
	}
	assert_ptr_equal(obj, (char *)w->c.first_obj +
				      (size_t)w->in_chunk * mp->obj_stride);
	assert_true((char *)obj + mp->elt_size <=
		    (char *)w->c.va + w->c.len);
	w->in_chunk++;
}

static void check_chunk_info(struct xp_mempool *mp)
{
	struct cinfo_walk w = {.mp = mp};
	struct xp_mempool_chunk c, before;
	unsigned int i, n = xp_mempool_chunk_count(mp), objs = 0;

	assert_true(n >= 1);
	assert_int_equal(xp_mempool_mem_iter(mp, cinfo_mem, NULL), n);
	for (i = 0; i < n; i++) {
		assert_int_equal(xp_mempool_chunk_info(mp, i, &c), 0);
		objs += c.nobjs;
		if (c.nobjs == 0) {
			assert_null(c.first_obj);
			assert_int_equal(c.waste, c.len);
		} else {
			assert_int_equal(c.waste + (size_t)(c.nobjs - 1) *
							   mp->obj_stride +
						 mp->elt_size,
					 c.len);
			assert_true(c.waste >=
				    (size_t)((char *)c.first_obj -
					     (char *)c.va));
		}
	}
	assert_int_equal(objs, mp->size);
	assert_int_equal(xp_mempool_obj_iter(mp, cinfo_obj, &w), mp->size);
	/* Errors leave the output alone. */
	memset(&before, 0x5a, sizeof(before));
	c = before;
	assert_int_equal(xp_mempool_chunk_info(mp, n, &c), -ENOENT);
	assert_int_equal(xp_mempool_chunk_info(NULL, 0, &c), -EINVAL);
	assert_int_equal(memcmp(&c, &before, sizeof(c)), 0);
	assert_int_equal(xp_mempool_chunk_info(mp, 0, NULL), -EINVAL);
	assert_int_equal(xp_mempool_chunk_count(NULL), 0);
}

static void test_chunk_info(void **state)
{
	struct xp_mempool *mp;

	(void)state;
	mp = tu_mk_pool("cinfo", 50, 100, 0, 0, "t_chunks");
	assert_true(xp_mempool_chunk_count(mp) > 5);
	check_chunk_info(mp);
	xp_mempool_free(mp);
	mp = tu_mk_pool("cinfo1", 1000, 2000, 0, 0, "ring_mp_mc");
	assert_int_equal(xp_mempool_chunk_count(mp), 1);
	check_chunk_info(mp);
	xp_mempool_free(mp);
}

/* ---- the core's ring store -------------------------------------------- */

static void test_ring_store(void **state)
{
	struct xp_ring dummy;
	struct xp_mempool *mp;
	void *objs[64];

	(void)state;
	store.other = &dummy;
	mp = tu_mk_pool("store", 100, 64, 0, 0, "t_store");
	assert_int_equal(store.null_mp, -EINVAL);
	assert_int_equal(store.bad_flags, -EINVAL);
	assert_int_equal(store.ok, 0);
	assert_int_equal(store.twice, -EBUSY);
	assert_int_equal(store.set_ring, -EBUSY);
	assert_int_equal(store.dflt, 100);
	/* Outside create. */
	assert_int_equal(xp_mempool_handler_ring_store(mp, 0), -EBUSY);
	/* The store serves the handler's calls and the inline paths. */
	assert_int_equal(xp_mempool_ring_store_count(mp), 100);
	assert_ptr_equal(mp->direct_get, mp->direct_put);
	assert_int_equal(xp_ring_get_capacity(mp->direct_get), 100);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 64), 0);
	assert_int_equal(xp_mempool_ring_store_count(mp), 36);
	assert_int_equal(xp_mempool_ring_store_get(mp, objs + 60, 37),
			 -ENOBUFS);
	assert_int_equal(xp_mempool_ring_store_count(mp), 36);
	xp_mempool_put_bulk(mp, objs, 64);
	tu_check_all_free(mp);
	xp_mempool_free(mp);

	/* Single-consumer by the handler's ring flags: the get side is the
	 * handler's, the put side the inline ring's. */
	mp = xp_mempool_create_ex("store_sc", 100, 64, 0, 0, NULL, NULL, 0,
				  "t_store", "sc");
	assert_non_null(mp);
	assert_int_equal(xp_ring_get_capacity(mp->direct_get), 0);
	assert_int_equal(xp_ring_get_capacity(mp->direct_put), 100);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 10), 0);
	xp_mempool_put_bulk(mp, objs, 10);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
	/* By the pool's flags. */
	mp = xp_mempool_create_ex("store_sp", 100, 64, 0, 0, NULL, NULL,
				  XP_MEMPOOL_F_SP_PUT, "t_store", NULL);
	assert_non_null(mp);
	assert_int_equal(xp_ring_get_capacity(mp->direct_get), 100);
	assert_int_equal(xp_ring_get_capacity(mp->direct_put), 0);
	xp_mempool_free(mp);

	/* A failed create: the core frees the ring (the sanitizers and
	 * valgrind see a leak otherwise). */
	errno = 0;
	assert_null(xp_mempool_create_ex("store_fail", 100, 64, 0, 0, NULL,
					 NULL, 0, "t_store", "fail"));
	assert_int_equal(errno, EIO);
	/* A fallback after a failed populate: the failure was the first
	 * handler's, the default handler fills the pool. */
	mp = xp_mempool_create_ex("putfail_fb", 100, 64, 0, 0, NULL, NULL, 0,
				  "t_putfail_fb", NULL);
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), "ring_mp_mc");
	tu_check_all_free(mp);
	xp_mempool_free(mp);
	/* A fallback after taking the store: the default handler's own
	 * store can be made, so the first one is gone. */
	mp = xp_mempool_create_ex("store_fb", 100, 64, 0, 0, NULL, NULL, 0,
				  "t_store", "fallback");
	assert_non_null(mp);
	assert_string_equal(xp_mempool_handler_name(mp), "ring_mp_mc");
	assert_int_equal(xp_mempool_ring_store_count(mp), 100);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

/* In a child: a ring too big for the address-space limit is -ENOMEM. */
static int child_store_enomem(void)
{
	struct xp_mempool *mp;

	if (tu_limit_address_space(64ul << 20) != 0)
		return 2;
	store.ok = 0;
	errno = 0;
	mp = xp_mempool_create_ex("store_big", 1u << 24, 8, 0, 0, NULL, NULL,
				  XP_MEMPOOL_F_NO_CACHE_ALIGN, "t_store", NULL);
	if (mp != NULL)
		return 3;
	if (store.ok != -ENOMEM || errno != ENOMEM)
		return 4;
	return 0;
}

static void test_ring_store_enomem(void **state)
{
	(void)state;
	tu_run_in_child(child_store_enomem);
}

/* ---- virt2phy --------------------------------------------------------- */

static void test_virt2phy_default(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("v2p", 100, 100, 0, 0, NULL);
	void *objs[100];
	unsigned int i;
	int local;

	(void)state;
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 100), 0);
	for (i = 0; i < 100; i++) {
		char *o = objs[i];

		assert_int_equal(xp_mempool_virt2phy(mp, o), (uintptr_t)o);
		assert_int_equal(xp_mempool_virt2phy(mp, o + 99),
				 (uintptr_t)o + 99);
	}
	assert_int_equal(xp_mempool_virt2phy(mp, &local), XP_BAD_PHYS);
	assert_int_equal(xp_mempool_virt2phy(mp, NULL), XP_BAD_PHYS);
	xp_mempool_put_bulk(mp, objs, 100);
	xp_mempool_free(mp);
}

struct v2p_check {
	const struct tu_chunk_list *chunks;
	int with_phys;
};

static void v2p_obj_cb(struct xp_mempool *mp, void *arg, void *obj,
		       unsigned int idx)
{
	const struct v2p_check *v = arg;
	char *p = obj;
	int c = tu_chunk_holding(v->chunks, p, mp->elt_size);
	uint64_t base;

	(void)idx;
	assert_true(c >= 0);
	if (!v->with_phys) {
		assert_int_equal(xp_mempool_virt2phy(mp, p), XP_BAD_PHYS);
		return;
	}
	base = v->chunks->c[c].phys;
	assert_int_equal(xp_mempool_virt2phy(mp, p),
			 base + (uint64_t)(p - v->chunks->c[c].va));
	assert_int_equal(xp_mempool_virt2phy(mp, p + mp->elt_size - 1),
			 base + (uint64_t)(p + mp->elt_size - 1 -
					   v->chunks->c[c].va));
}

/* A handler without virt2phy: the core answers from populate's chunks. */
static void test_virt2phy_chunks(void **state)
{
	static const char *const args[] = { NULL, "phys", "phys desc" };
	unsigned int k;

	(void)state;
	for (k = 0; k < sizeof(args) / sizeof(args[0]); k++) {
		int with_phys = args[k] != NULL;
		struct xp_mempool *mp;
		struct tu_chunk_list *l;
		struct v2p_check v;
		unsigned int i;

		mp = tu_mk_pool_args("v2pchunks", 500, 72, 0, 0, "t_chunks",
				     args[k]);
		l = tu_chunks_of(mp);
		v.chunks = l;
		v.with_phys = with_phys;
		assert_int_equal(xp_mempool_obj_iter(mp, v2p_obj_cb, &v), 500);
		for (i = 0; i < l->n; i++) {
			uint64_t want = with_phys ? l->c[i].phys : XP_BAD_PHYS;

			/* Anywhere in a chunk, not only in objects. */
			assert_int_equal(xp_mempool_virt2phy(mp, l->c[i].va),
					 want);
			/* The byte before each chunk is a gap. */
			assert_int_equal(xp_mempool_virt2phy(mp,
							     l->c[i].va - 1),
					 XP_BAD_PHYS);
			assert_int_equal(
				xp_mempool_virt2phy(mp,
						    l->c[i].va + l->c[i].len),
				XP_BAD_PHYS);
		}
		free(l);
		xp_mempool_free(mp);
	}
}

static void test_virt2phy_handler(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("v2ph", 32, 64, 0, 0, "t_v2p");
	unsigned long calls = v2p_calls;
	void *obj;

	(void)state;
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	assert_int_equal(xp_mempool_virt2phy(mp, obj),
			 (uintptr_t)obj ^ T_V2P_XOR);
	assert_int_equal(xp_mempool_virt2phy(mp, (char *)obj + 7),
			 ((uintptr_t)obj + 7) ^ T_V2P_XOR);
	assert_int_equal(v2p_calls, calls + 2);
	xp_mempool_put(mp, obj);
	xp_mempool_free(mp);
}

/*
 * A handler's page table: every bad argument refused, then virt2phy answers
 * from it inline (the handler's virt2phy is not called), XP_BAD_PHYS on
 * the page without a bus address, and out of line beyond the table.
 */
static void test_virt2phy_page_table(void **state)
{
	struct xp_mempool *mp;
	uint64_t bus[1] = { 0 };
	unsigned long calls;
	char local;
	unsigned int i;

	(void)state;
	/* 40 objects of 448 bytes, placed a page at a time: one page spare. */
	mp = tu_mk_pool("ptab", 5 * 8, 448, 0, 0, "t_ptab");
	assert_int_equal(ptab.ret_null_mp, -EINVAL);
	assert_int_equal(ptab.ret_null_va, -EINVAL);
	assert_int_equal(ptab.ret_null_pages, -EINVAL);
	assert_int_equal(ptab.ret_zero, -EINVAL);
	assert_int_equal(ptab.ret_unaligned, -EINVAL);
	assert_int_equal(ptab.ret_overflow, -EINVAL);
	assert_int_equal(ptab.ret_entry, -EINVAL);
	assert_int_equal(ptab.ret_ok, 0);
	assert_ptr_equal(mp->v2p_pages, ptab.bus);
	/* Outside create. */
	assert_int_equal(xp_mempool_handler_set_page_table(mp, ptab.mem, 1,
							   bus),
			 -EBUSY);

	calls = ptab.calls;
	for (i = 0; i < T_PTAB_PAGES; i++) {
		char *pg = ptab.mem + i * XP_PAGE_SIZE;
		uint64_t want0 = i == 1 ? XP_BAD_PHYS : T_PTAB_BUS(i);
		uint64_t want1 = i == 1 ? XP_BAD_PHYS : T_PTAB_BUS(i) | 0xfff;

		assert_int_equal(xp_mempool_virt2phy(mp, pg), want0);
		assert_int_equal(xp_mempool_virt2phy(mp, pg + 0xfff), want1);
	}
	assert_int_equal(ptab.calls, calls);
	/* Beyond the table: the handler's virt2phy. */
	assert_int_equal(xp_mempool_virt2phy(mp, &local), XP_BAD_PHYS);
	assert_int_equal(ptab.calls, calls + 1);
	xp_mempool_free(mp);
}

/* ---- introspection ---------------------------------------------------- */

static void test_audit(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("audit", 300, 64, 32, 0, NULL);
	void *objs[100];
	unsigned int i;

	(void)state;
	assert_int_equal(xp_mempool_audit(NULL), -EINVAL);
	assert_int_equal(xp_mempool_audit(mp), 0);
	for (i = 0; i < 50; i++) {
		unsigned int b = i % 100 + 1;

		assert_int_equal(xp_mempool_get_bulk(mp, objs, b), 0);
		assert_int_equal(xp_mempool_audit(mp), 0);
		xp_mempool_put_bulk(mp, objs, b);
	}
	assert_int_equal(xp_mempool_audit(mp), 0);
	drain_and_refill(mp);
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_free(mp);
}

/* A cache claiming more objects than its storage holds is caught. */
static void test_audit_cache_overfull(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("overfull", 300, 64, 32, 0, NULL);
	struct xp_mempool_cache *c;
	void *objs[100], *obj;
	uint32_t len;

	(void)state;
	/* Enough in hand that the counts stay within the pool size. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 100), 0);
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	c = xp_mempool_default_cache(mp);
	assert_non_null(c);
	len = c->len;
	assert_true(len > 0 && len <= c->capacity);
	assert_true(xp_mempool_avail_count(mp) + (c->capacity + 1 - len) <=
		    mp->size);
	c->len = c->capacity;
	assert_int_equal(xp_mempool_audit(mp), 0);
	c->len = c->capacity + 1;
	assert_int_equal(xp_mempool_audit(mp), -ERANGE);
	c->len = len;
	assert_int_equal(xp_mempool_audit(mp), 0);
	xp_mempool_put(mp, obj);
	xp_mempool_put_bulk(mp, objs, 100);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static char *dump_to_string(const struct xp_mempool *mp, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	xp_mempool_dump(f, mp);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_dump(void **state)
{
	struct xp_mempool *mp = tu_mk_pool("dump_me", 77, 64, 8, 0,
					   TU_COUNT_HANDLER);
	size_t len;
	char *s;

	(void)state;
	s = dump_to_string(mp, &len);
	assert_non_null(strstr(s, "dump_me"));
	assert_non_null(strstr(s, TU_COUNT_HANDLER));
	assert_non_null(strstr(s, "77"));
	free(s);
	s = dump_to_string(NULL, &len);
	assert_int_equal(len, 0);
	free(s);
	xp_mempool_dump(NULL, mp);
	xp_mempool_free(mp);

	mp = tu_mk_pool("dump_ring", 8, 64, 0, 0, "ring_sp_sc");
	s = dump_to_string(mp, &len);
	assert_non_null(strstr(s, "dump_ring"));
	assert_non_null(strstr(s, "ring_sp_sc"));
	free(s);
	xp_mempool_free(mp);
}

struct walk_arg {
	struct xp_mempool *want[3];
	unsigned int seen[3];
	unsigned int calls;
	int stop_with;
};

static int walk_cb(struct xp_mempool *mp, void *arg)
{
	struct walk_arg *w = arg;
	unsigned int i;

	w->calls++;
	for (i = 0; i < 3; i++)
		if (mp == w->want[i])
			w->seen[i]++;
	return w->stop_with;
}

static void test_lookup_walk(void **state)
{
	static const char *const names[3] = { "walk_a", "walk_b", "walk_c" };
	struct walk_arg w = { .stop_with = 0 };
	unsigned int i, before = tu_pool_count();

	(void)state;
	TU_ASSERT_NULL_ERRNO(xp_mempool_lookup(NULL), EINVAL);
	TU_ASSERT_NO_POOL("walk_a");
	TU_ASSERT_NO_POOL("");
	for (i = 0; i < 3; i++)
		w.want[i] = tu_mk_pool(names[i], 4 + i, 64, 0, 0, NULL);
	for (i = 0; i < 3; i++)
		assert_ptr_equal(xp_mempool_lookup(names[i]), w.want[i]);
	TU_ASSERT_NO_POOL("walk_");
	TU_ASSERT_NO_POOL("walk_a_");

	assert_int_equal(xp_mempool_walk(walk_cb, &w), 0);
	assert_int_equal(w.calls, before + 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(w.seen[i], 1);

	memset(&w.seen, 0, sizeof(w.seen));
	w.calls = 0;
	w.stop_with = 42;
	assert_int_equal(xp_mempool_walk(walk_cb, &w), 42);
	assert_int_equal(w.calls, 1);
	w.calls = 0;
	w.stop_with = -7;
	assert_int_equal(xp_mempool_walk(walk_cb, &w), -7);
	assert_int_equal(w.calls, 1);
	assert_int_equal(xp_mempool_walk(NULL, &w), -EINVAL);

	xp_mempool_free(w.want[1]);
	TU_ASSERT_NO_POOL("walk_b");
	assert_ptr_equal(xp_mempool_lookup("walk_c"), w.want[2]);
	assert_int_equal(tu_pool_count(), before + 2);
	xp_mempool_free(w.want[0]);
	xp_mempool_free(w.want[2]);
	assert_int_equal(tu_pool_count(), before);
	xp_mempool_free(NULL);
	assert_int_equal(tu_pool_count(), before);
}

static void test_handler_name(void **state)
{
	struct xp_mempool *mp;

	(void)state;
	assert_null(xp_mempool_handler_name(NULL));
	assert_null(xp_mempool_get_ops(NULL));

	mp = tu_mk_pool("hname", 8, 64, 0, 0, NULL);
	assert_string_equal(xp_mempool_handler_name(mp),
			    xp_mempool_get_def_handler());
	assert_ptr_equal(xp_mempool_get_ops(mp),
			 xp_mempool_handler_lookup(xp_mempool_get_def_handler()));
	assert_int_equal(mp->handler_idx,
			 xp_mempool_handler_index(xp_mempool_get_def_handler()));
	{
		/* A handler without an access callback: private memory. */
		struct xp_mempool_access acc;

		memset(&acc, 0x55, sizeof(acc));
		assert_int_equal(xp_mempool_access(mp, &acc), 0);
		assert_int_equal(acc.writable, 1);
		assert_int_equal(acc.peer_writable, 0);
		assert_string_equal(acc.how, "read-write");
		assert_int_equal(xp_mempool_access(NULL, &acc), -EINVAL);
		assert_int_equal(xp_mempool_access(mp, NULL), -EINVAL);
	}
	xp_mempool_free(mp);

	/* Shared memory, and the handler says nothing: a peer may write. */
	mp = tu_mk_pool("hname", 8, 64, 0, 0, "t_shared");
	{
		struct xp_mempool_access acc;

		assert_int_equal(xp_mempool_access(mp, &acc), 0);
		assert_int_equal(acc.writable, 1);
		assert_int_equal(acc.peer_writable, 1);
	}
	xp_mempool_free(mp);

	mp = tu_mk_pool("hname", 8, 64, 0, 0, TU_COUNT_HANDLER);
	assert_string_equal(xp_mempool_handler_name(mp), TU_COUNT_HANDLER);
	assert_string_equal(xp_mempool_get_ops(mp)->name, TU_COUNT_HANDLER);
	assert_ptr_equal(xp_mempool_get_ops(mp)->create, tu_count_create);
	assert_int_equal(mp->handler_idx,
			 xp_mempool_handler_index(TU_COUNT_HANDLER));
	xp_mempool_free(mp);
}

/* ---- handlers ------------------------------------------------------- */

static void test_ring_handlers(void **state)
{
	static const char *const names[] = { TU_BUILTIN_HANDLERS };
	static const unsigned int flags[] = {
		0, XP_MEMPOOL_F_SP_PUT, XP_MEMPOOL_F_SC_GET,
		XP_MEMPOOL_F_SP_PUT | XP_MEMPOOL_F_SC_GET
	};
	unsigned int i, j, cache;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++)
			for (cache = 0; cache <= 32; cache += 32) {
				struct xp_mempool *mp;

				mp = tu_mk_pool("rings", 1000, 40, cache,
						flags[j], names[i]);
				assert_string_equal(xp_mempool_handler_name(mp),
						    names[i]);
				assert_int_equal(mp->flags, flags[j]);
				drain_and_refill(mp);
				xp_mempool_free(mp);
			}
	/* The flags on the default handler too. */
	for (j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
		struct xp_mempool *mp = xp_mempool_create(
			"rings_def", 300, 16, 8, 0, NULL, NULL, flags[j]);

		assert_non_null(mp);
		drain_and_refill(mp);
		xp_mempool_free(mp);
	}
}

/* Handler callbacks run when the contract says, and only then. */
static void test_handler_calls_uncached(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();
	struct tu_count_stats a, b;
	struct xp_mempool *mp;
	void *objs[65];
	unsigned int i;

	(void)state;
	mp = tu_mk_pool("calls0", 64, 64, 0, 0, TU_COUNT_HANDLER);
	a = tu_count_stats(mp);
	assert_int_equal(a.create, 1);
	/* Populate went through put_bulk. */
	assert_int_equal(a.put_objs, 64);
	assert_int_equal(tu_count_held(mp), 64);
	assert_null(xp_mempool_default_cache(mp));
	for (i = 0; i < 10; i++) {
		assert_int_equal(xp_mempool_get(mp, &objs[0]), 0);
		xp_mempool_put(mp, objs[0]);
	}
	b = tu_count_stats(mp);
	assert_int_equal(b.get_bulk - a.get_bulk, 10);
	assert_int_equal(b.put_bulk - a.put_bulk, 10);
	assert_int_equal(b.get_objs - a.get_objs, 10);
	/* A bulk is one call. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 8), 0);
	xp_mempool_put_bulk(mp, objs, 8);
	a = tu_count_stats(mp);
	assert_int_equal(a.get_bulk - b.get_bulk, 1);
	assert_int_equal(a.put_bulk - b.put_bulk, 1);
	assert_int_equal(a.get_objs - b.get_objs, 8);
	/* A failed get reached the handler, which refused it. */
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 65), -ENOENT);
	assert_int_equal(tu_count_held(mp), 64);
	/* avail_count asks the handler. */
	a = tu_count_stats(mp);
	assert_int_equal(xp_mempool_avail_count(mp), 64);
	b = tu_count_stats(mp);
	assert_true(b.get_count > a.get_count);
	assert_int_equal(*tu_count_destroyed(), destroyed);
	xp_mempool_free(mp);
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
}

/*
 * The inline paths' rings (struct xp_mempool, direct_get): the handler's
 * ring where the inline path may use its multi-thread variants, otherwise
 * the shared ring of capacity 0, which every call finds empty or full and
 * which nothing ever writes.
 */
static int is_null_ring(const struct xp_ring *r)
{
	return r != NULL && xp_ring_get_capacity(r) == 0 &&
	       r->prod.head == 0 && r->prod.tail == 0 && r->cons.head == 0 &&
	       r->cons.tail == 0;
}

/* Which of the four rings of @p mp are the handler's ring (1) or null (0). */
static void check_rings(const struct xp_mempool *mp, int dget, int dput,
			int hget, int hput)
{
	const struct xp_ring *rings[4] = { mp->direct_get, mp->direct_put,
					   mp->handler_get, mp->handler_put };
	const struct xp_ring *want[2] = { NULL, NULL };
	unsigned int i;

	/* The handler's ring is the core's ring store (ring handlers): the
	 * one ring that is not null, of the pool's capacity, holding what
	 * the store says it holds. */
	for (i = 0; i < 4; i++)
		if (!is_null_ring(rings[i]))
			want[1] = rings[i];
	if (want[1] != NULL) {
		assert_int_equal(xp_ring_get_capacity(want[1]), mp->size);
		assert_int_equal(xp_ring_count(want[1]),
				 xp_mempool_ring_store_count(mp));
	}

	assert_true(dget ? mp->direct_get == want[1] : is_null_ring(mp->direct_get));
	assert_true(dput ? mp->direct_put == want[1] : is_null_ring(mp->direct_put));
	assert_true(hget ? mp->handler_get == want[1]
			 : is_null_ring(mp->handler_get));
	assert_true(hput ? mp->handler_put == want[1]
			 : is_null_ring(mp->handler_put));
}

/* Every way in and out works, whatever the rings, and all come back. */
static void exercise(struct xp_mempool *mp)
{
	void *a[8], *b[100]; /* b: room for the refused get of the pool */

	assert_int_equal(xp_mempool_get_bulk(mp, a, 8), 0);
	assert_int_equal(xp_mempool_generic_get(mp, b, 8, NULL), 0);
	assert_true(mp->size <= 100);
	assert_int_equal(xp_mempool_generic_get(mp, b, mp->size, NULL),
			 -ENOENT);
	xp_mempool_generic_put(mp, b, 8, NULL);
	xp_mempool_put_bulk(mp, a, 8);
	assert_int_equal(xp_mempool_audit(mp), 0);
	assert_int_equal(xp_mempool_avail_count(mp), mp->size);
	tu_check_all_free(mp);
}

static void test_direct_ring(void **state)
{
	static const struct {
		const char *handler;
		unsigned int cache, flags;
		int dget, dput, hget, hput;
	} cases[] = {
		{ "ring_mp_mc", 8, 0, 0, 0, 1, 1 },
		{ "ring_mp_mc", 0, XP_MEMPOOL_F_SC_GET, 0, 1, 0, 1 },
		{ "ring_mp_mc", 0, XP_MEMPOOL_F_SP_PUT, 1, 0, 1, 0 },
		/* Orphans may wait beside the ring: the get stays out of line. */
		{ "ring_mp_mc", 8, XP_MEMPOOL_F_SP_PUT, 0, 0, 0, 0 },
		{ "ring_sp_sc", 0, 0, 0, 0, 0, 0 },
		{ "ring_mp_sc", 0, 0, 0, 1, 0, 1 },
		{ "ring_sp_mc", 0, 0, 1, 0, 1, 0 },
		{ "ring_mp_mc", 0, XP_MEMPOOL_F_DEBUG, 0, 0, 0, 0 },
		{ "ring_mp_mc", 8, XP_MEMPOOL_F_DEBUG, 0, 0, 0, 0 },
		{ TU_COUNT_HANDLER, 0, 0, 0, 0, 0, 0 },
	};
	struct xp_mempool *mp;
	void *objs[61]; /* room for the refused get of 61 */
	const struct xp_ring *null_ring = NULL;
	unsigned int i;

	(void)state;
	/* Uncached, the default handler: everything through its ring. */
	mp = tu_mk_pool("direct", 100, 64, 0, 0, "ring_mp_mc");
	check_rings(mp, 1, 1, 1, 1);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 40), 0);
	assert_int_equal(xp_mempool_ring_store_count(mp), 60);
	assert_int_equal(xp_mempool_get_bulk(mp, objs, 61), -ENOENT);
	assert_int_equal(xp_mempool_ring_store_count(mp), 60);
	xp_mempool_put_bulk(mp, objs, 40);
	assert_int_equal(xp_mempool_ring_store_count(mp), 100);
	assert_int_equal(xp_mempool_generic_get(mp, objs, 7, NULL), 0);
	assert_int_equal(xp_mempool_ring_store_count(mp), 93);
	xp_mempool_generic_put(mp, objs, 7, NULL);
	assert_int_equal(xp_mempool_ring_store_count(mp), 100);
	tu_check_all_free(mp);
	xp_mempool_free(mp);

	/* Cached: the NULL-cache calls still reach the ring directly. */
	mp = tu_mk_pool("direct_cached", 100, 64, 8, 0, "ring_mp_mc");
	assert_int_equal(xp_mempool_generic_get(mp, objs, 5, NULL), 0);
	assert_int_equal(xp_mempool_ring_store_count(mp), 95);
	xp_mempool_generic_put(mp, objs, 5, NULL);
	assert_int_equal(xp_mempool_ring_store_count(mp), 100);
	xp_mempool_free(mp);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "direct%u", i);
		mp = tu_mk_pool(name, 100, 64, cases[i].cache, cases[i].flags,
				cases[i].handler);
		check_rings(mp, cases[i].dget, cases[i].dput, cases[i].hget,
			    cases[i].hput);
		if (null_ring == NULL && !cases[i].dget)
			null_ring = mp->direct_get;
		exercise(mp);
		xp_mempool_free(mp);
	}
	/* All that traffic left the shared ring of capacity 0 untouched. */
	assert_true(is_null_ring(null_ring));
}

/* get, generic get with NULL, then put both back; the handler calls seen. */
static void rc_round(struct xp_mempool *mp, unsigned long *gets,
		     unsigned long *puts)
{
	void *a[5], *b[100];

	rc_gets = rc_puts = 0;
	assert_int_equal(xp_mempool_get_bulk(mp, a, 5), 0);
	assert_int_equal(xp_mempool_generic_get(mp, b, 7, NULL), 0);
	xp_mempool_generic_put(mp, b, 7, NULL);
	xp_mempool_put_bulk(mp, a, 5);
	*gets = rc_gets;
	*puts = rc_puts;
}

/* An uncached pool with @p flags: one round, with these handler calls. */
static void rc_pool_round(const char *name, unsigned int flags,
			  unsigned long want_gets, unsigned long want_puts)
{
	struct xp_mempool *mp = tu_mk_pool(name, 100, 64, 0, flags,
					   "t_ringcount");
	unsigned long gets, puts;

	rc_round(mp, &gets, &puts);
	assert_int_equal(gets, want_gets);
	assert_int_equal(puts, want_puts);
	tu_check_all_free(mp);
	xp_mempool_free(mp);
}

static void test_direct_ring_bypasses_handler(void **state)
{
	struct xp_mempool *mp;
	unsigned long gets, puts;
	void *b[100];

	(void)state;
	/* Uncached: neither call reaches the handler. */
	rc_pool_round("rc0", 0, 0, 0);
	/* A get the ring cannot serve asks the handler once, then fails. */
	mp = tu_mk_pool("rc0", 100, 64, 0, 0, "t_ringcount");
	rc_gets = 0;
	assert_int_equal(xp_mempool_generic_get(mp, b, 100, NULL), 0);
	assert_int_equal(xp_mempool_get_bulk(mp, b, 1), -ENOENT);
	assert_int_equal(rc_gets, 1);
	xp_mempool_generic_put(mp, b, 100, NULL);
	tu_check_all_free(mp);
	xp_mempool_free(mp);

	/* Cached: the pool API fills a cache from the handler; the NULL-cache
	 * calls still bypass it. */
	mp = tu_mk_pool("rc8", 100, 64, 8, 0, "t_ringcount");
	rc_round(mp, &gets, &puts);
	assert_int_equal(gets, 1); /* the first get's refill: 8 remain */
	assert_int_equal(puts, 1); /* 8 + 5 > 12: the put flushes to 8 */
	rc_round(mp, &gets, &puts);
	assert_int_equal(gets, 0);
	assert_int_equal(puts, 0);
	xp_mempool_free(mp);

	/* Every get through the handler on a single-consumer ring; every
	 * call in debug mode, where each is checked. */
	rc_pool_round("rcsc", XP_MEMPOOL_F_SC_GET, 2, 0);
	rc_pool_round("rcdbg", XP_MEMPOOL_F_DEBUG, 2, 2);
}

static void test_handler_calls_cached(void **state)
{
	unsigned long destroyed = *tu_count_destroyed();
	struct tu_count_stats a, b;
	struct xp_mempool *mp;
	void *obj, *objs[4];
	unsigned int i;

	(void)state;
	mp = tu_mk_pool("calls8", 64, 64, 8, 0, TU_COUNT_HANDLER);
	a = tu_count_stats(mp);
	/* Warm-up: one miss fills the cache. */
	assert_int_equal(xp_mempool_get(mp, &obj), 0);
	b = tu_count_stats(mp);
	assert_int_equal(b.get_bulk - a.get_bulk, 1);
	assert_int_equal(b.put_bulk, a.put_bulk);
	xp_mempool_put(mp, obj);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(xp_mempool_get(mp, &obj), 0);
		xp_mempool_put(mp, obj);
		assert_int_equal(xp_mempool_get_bulk(mp, objs, 4), 0);
		xp_mempool_put_bulk(mp, objs, 4);
	}
	a = tu_count_stats(mp);
	assert_int_equal(a.get_bulk, b.get_bulk);
	assert_int_equal(a.put_bulk, b.put_bulk);
	assert_int_equal(a.create, 1);
	/* Objects in the cache are still available. */
	assert_int_equal(xp_mempool_avail_count(mp), 64);
	assert_true(tu_count_held(mp) < 64);
	xp_mempool_free(mp);
	assert_int_equal(*tu_count_destroyed(), destroyed + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_einval),
		cmocka_unit_test(test_create_limits_ok),
		cmocka_unit_test(test_create_name),
		cmocka_unit_test(test_create_eexist),
		cmocka_unit_test(test_create_handler_errors),
		cmocka_unit_test(test_create_n_limit),
		cmocka_unit_test(test_create_positive),
		cmocka_unit_test(test_populate_put_fails),
		cmocka_unit_test(test_create_enomem),
		cmocka_unit_test(test_single_object),
		cmocka_unit_test(test_odd_sizes),
		cmocka_unit_test(test_n_vs_cache),
		cmocka_unit_test(test_get_too_many),
		cmocka_unit_test(test_layout_default),
		cmocka_unit_test(test_iter_null),
		cmocka_unit_test(test_obj_init),
		cmocka_unit_test(test_priv),
		cmocka_unit_test(test_populate_chunks),
		cmocka_unit_test(test_populate_chunks_desc),
		cmocka_unit_test(test_populate_errors),
		cmocka_unit_test(test_chunk_size),
		cmocka_unit_test(test_chunk_objs),
		cmocka_unit_test(test_chunk_info),
		cmocka_unit_test(test_ring_store),
		cmocka_unit_test(test_ring_store_enomem),
		cmocka_unit_test(test_virt2phy_default),
		cmocka_unit_test(test_virt2phy_chunks),
		cmocka_unit_test(test_virt2phy_handler),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_audit_cache_overfull),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_lookup_walk),
		cmocka_unit_test(test_handler_name),
		cmocka_unit_test(test_ring_handlers),
		cmocka_unit_test(test_handler_calls_uncached),
		cmocka_unit_test(test_handler_calls_cached),
		cmocka_unit_test(test_direct_ring),
		cmocka_unit_test(test_direct_ring_bypasses_handler),
		cmocka_unit_test(test_virt2phy_page_table),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
