/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet buffers (mbuf.h): the header layout, pool creation and its errors,
 * alloc and free, the data operations and their failures, chains, clones
 * freed in every order, attach and detach, bus addresses and contiguity,
 * private areas, the chain check, rooms overwritten by a peer, and
 * reference counts under several threads.
 *
 * Most tests run on three handlers: the process default (ring_mp_mc, one
 * object per mbuf, IOVA = VA), "mb_frag" (private memory cut into many
 * small chunks whose bus addresses do not follow each other, so that a
 * room crossing a chunk would show) and "mb_frag_shared", the same flagged
 * XP_MEMPOOL_OPS_F_SHARED_MEM, so that the pool keeps its headers apart
 * from the rooms without Xen.  Every test ends with each mbuf back in its
 * pool exactly once and a clean audit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenpool/xenpool.h>

#include "testutil.h"

#define POOL "mb_pool"
#define CLONES "mb_clones"
#define TAKEN "mb_taken"
#define FRAG "mb_frag"
#define FRAG_SHARED "mb_frag_shared"
#define HR XP_PKTMBUF_HEADROOM
#define ROOM 2048
#define NO_ERRNO 12345 /* errno sentinel: fast paths leave errno alone */

/* The handlers most tests run on; NULL is the process default. */
static const char *const handlers[] = {NULL, FRAG, FRAG_SHARED};
#define NHANDLERS ARRAY_SIZE(handlers)

/* Run @p fn on each of the handlers above. */
static void each_handler(void (*fn)(const char *handler))
{
	unsigned int h;

	for (h = 0; h < NHANDLERS; h++)
		fn(handlers[h]);
}

/* The layout is ABI: checked where the compiler sees it, as well. */
#define HOT(f) (offsetof(struct xp_mbuf, f) + sizeof(((struct xp_mbuf *)0)->f))
_Static_assert(HOT(buf_addr) <= 64 && HOT(buf_phys) <= 64 &&
		       HOT(data_off) <= 64 && HOT(refcnt) <= 64 &&
		       HOT(nb_segs) <= 64 && HOT(next) <= 64 &&
		       HOT(pkt_len) <= 64 && HOT(data_len) <= 64 &&
		       HOT(buf_len) <= 64 && HOT(pool) <= 64 &&
		       HOT(ol_flags) <= 64 && HOT(port) <= 64,
	       "RX/TX fields in the first cache line");
_Static_assert(HOT(packet_type) <= 64 && HOT(priv_size) <= 64 &&
		       HOT(flags) <= 64,
	       "the other hot fields in the first cache line too");
_Static_assert(offsetof(struct xp_mbuf, direct) == 64 &&
		       offsetof(struct xp_mbuf, room) >= 64 &&
		       offsetof(struct xp_mbuf, room_phys) >= 64,
	       "control fields in the second cache line");
_Static_assert(sizeof(struct xp_mbuf) == 128 &&
		       _Alignof(struct xp_mbuf) == XP_CACHE_LINE_SIZE,
	       "an mbuf header is two aligned cache lines");

/* ---- the fragmented handlers -------------------------------------------- */

/*
 * Objects in chunks of FRAG_OBJS, one populate call each, at adjacent
 * addresses but with bus addresses FRAG_PHYS_STEP apart: the default
 * virt2phy (from the chunks) then jumps at every chunk end.  The free store
 * is tu_count's.  "fail=N" makes create fail with -N.
 */
#define FRAG_OBJS 3
#define FRAG_SLACK 88 /* an unaligned chunk start still fits FRAG_OBJS */
#define FRAG_PHYS_BASE (1ull << 40)
#define FRAG_PHYS_STEP (1ull << 24)

/* Fragmented pools created and not yet destroyed. */
static long frag_live;

static int frag_create(struct xp_mempool *mp, const char *args)
{
	struct tu_count_data *d;
	size_t len = xp_mempool_chunk_size(mp, FRAG_OBJS) + FRAG_SLACK;
	unsigned int k, nchunks = (mp->size + FRAG_OBJS - 1) / FRAG_OBJS;
	int ret = 0;

	if (args != NULL && strncmp(args, "fail=", 5) == 0)
		return -atoi(args + 5);
	if (len >= FRAG_PHYS_STEP)
		return -EINVAL;
	d = tu_count_data_alloc(mp);
	if (d == NULL)
		return -ENOMEM;
	d->mem = malloc(len * nchunks);
	if (d->mem == NULL) {
		tu_count_data_free(mp);
		return -ENOMEM;
	}
	for (k = 0; k < nchunks && ret >= 0; k++)
		ret = xp_mempool_populate(mp, (char *)d->mem + k * len,
					  FRAG_PHYS_BASE + k * FRAG_PHYS_STEP,
					  len);
	if (ret < 0 || xp_mempool_populate_missing(mp) != 0) {
		tu_count_data_free(mp);
		return ret < 0 ? ret : -EPROTO;
	}
	__atomic_add_fetch(&frag_live, 1, __ATOMIC_RELAXED);
	return 0;
}

static void frag_destroy(struct xp_mempool *mp)
{
	__atomic_sub_fetch(&frag_live, 1, __ATOMIC_RELAXED);
	tu_count_data_free(mp);
}

static void frag_register(const char *name, unsigned int flags)
{
	struct xp_mempool_ops ops = tu_count_ops(name);

	ops.create = frag_create;
	ops.destroy = frag_destroy;
	ops.flags = flags;
	tu_register(&ops);
}

/* ---- log capture -------------------------------------------------------- */

static unsigned int errors_logged;

static void count_errors(int level, const char *msg, void *arg)
{
	(void)msg;
	(void)arg;
	if (level <= XP_LOG_ERR)
		errors_logged++;
}

/* ---- fixtures ----------------------------------------------------------- */

/* The process default and log level at start, which some tests change. */
static char default_handler[XP_MEMPOOL_NAMESIZE];
static int log_level;

static int group_setup(void **state)
{
	(void)state;
	frag_register(FRAG, 0);
	frag_register(FRAG_SHARED, XP_MEMPOOL_OPS_F_SHARED_MEM);
	snprintf(default_handler, sizeof(default_handler), "%s",
		 xp_mempool_get_def_handler());
	log_level = xp_log_get_level();
	return 0;
}

/* After a failed test: drop what it left, so that the next one starts
 * clean; after a passing one, nothing may be left. */
static int test_teardown(void **state)
{
	static const char *const names[] = {POOL, CLONES, TAKEN};
	unsigned int i;

	(void)state;
	xp_log_set_callback(NULL, NULL);
	if (xp_log_set_level(log_level) != 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		xp_mempool_free(xp_mempool_lookup(names[i]));
	if (xp_mempool_def_handler(default_handler) != 0)
		return -1;
	return __atomic_load_n(&frag_live, __ATOMIC_RELAXED) == 0 ? 0 : -1;
}

/* The pool that holds the rooms: the pool itself unless split. */
static struct xp_mempool *room_pool(struct xp_mempool *mp)
{
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);

	return p->split ? p->room_pool : mp;
}

static struct xp_mempool *mk_pool(const char *name, unsigned int n,
				  unsigned int cache, uint16_t priv,
				  uint16_t room, const char *handler)
{
	struct xp_mempool *mp;

	errno = 0;
	mp = xp_pktmbuf_pool_create_ex(name, n, cache, priv, room, handler,
				       NULL);
	if (mp == NULL)
		print_error("pktmbuf pool %s on %s: %s\n", name,
			    handler ? handler : "(default)", strerror(errno));
	assert_non_null(mp);
	return mp;
}

/*
 * Every mbuf is back exactly once and the pool (and its rooms' pool, whose
 * rooms stay taken for the life of the pool) is consistent; then free it.
 */
static void pool_done(struct xp_mempool *mp)
{
	tu_mbuf_pool_check(mp);
	xp_mempool_free(mp);
}

/* A fresh or reset mbuf of @mp. */
static void assert_reset(const struct xp_mbuf *m, struct xp_mempool *mp)
{
	uint16_t room = xp_pktmbuf_data_room_size(mp);

	assert_ptr_equal(m->pool, mp);
	assert_int_equal(xp_mbuf_refcnt_read(m), 1);
	assert_int_equal(m->nb_segs, 1);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(m->data_len, 0);
	assert_null(m->next);
	assert_int_equal(m->data_off, HR);
	assert_int_equal(m->buf_len, room);
	assert_int_equal(m->port, UINT16_MAX);
	assert_true(m->ol_flags == 0);
	assert_int_equal(m->packet_type, 0);
	assert_int_equal(m->flags, 0);
	assert_false(xp_mbuf_is_indirect(m));
	assert_null(m->direct);
	assert_ptr_equal(m->buf_addr, m->room);
	assert_true(m->buf_phys == m->room_phys);
	assert_int_equal(m->priv_size, xp_pktmbuf_priv_size(mp));
	assert_int_equal(xp_pktmbuf_headroom(m), HR);
	assert_int_equal(xp_pktmbuf_tailroom(m), room - HR);
	assert_ptr_equal(xp_pktmbuf_lastseg((struct xp_mbuf *)m), m);
}

static struct xp_mbuf *alloc_ok(struct xp_mempool *mp)
{
	struct xp_mbuf *m = xp_pktmbuf_alloc(mp);

	assert_non_null(m);
	return m;
}

/* The bytes of the whole chain follow the pattern of @seed. */
static void assert_data(const struct xp_mbuf *m, uint8_t seed)
{
	const struct xp_mbuf *s;
	uint32_t at = 0, i;

	for (s = m; s != NULL; s = s->next) {
		const uint8_t *p = xp_pktmbuf_mtod(s, const uint8_t *);

		for (i = 0; i < s->data_len; i++)
			assert_int_equal(p[i], tu_pat(seed, at + i));
		at += s->data_len;
	}
	assert_int_equal(at, m->pkt_len);
}

/* A chain of @nsegs mbufs of @mp with @len bytes each, pattern @seed. */
static struct xp_mbuf *mk_chain(struct xp_mempool *mp, unsigned int nsegs,
				uint16_t len, uint8_t seed)
{
	struct xp_mbuf *head = alloc_ok(mp), *m;
	unsigned int i;

	tu_fill(head, len, seed);
	for (i = 1; i < nsegs; i++) {
		m = alloc_ok(mp);
		/* Written after chaining: append goes to the last segment. */
		assert_int_equal(xp_pktmbuf_chain(head, m), 0);
		tu_fill(head, len, seed);
	}
	assert_int_equal(head->nb_segs, nsegs);
	assert_int_equal(head->pkt_len, nsegs * len);
	assert_int_equal(xp_pktmbuf_check(head), 0);
	assert_data(head, seed);
	return head;
}

static unsigned int chain_len(const struct xp_mbuf *m)
{
	unsigned int n = 0;

	for (; m != NULL; m = m->next)
		n++;
	return n;
}

/* Up to 8 headers of a chain, to show a failed call changed nothing. */
struct snap {
	struct xp_mbuf seg[8];
	const struct xp_mbuf *at[8];
	unsigned int n;
};

static void snap_take(struct snap *s, const struct xp_mbuf *m)
{
	for (s->n = 0; m != NULL && s->n < 8; m = m->next, s->n++) {
		s->at[s->n] = m;
		memcpy(&s->seg[s->n], m, sizeof(*m));
	}
}

static void snap_same(const struct snap *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		assert_memory_equal(s->at[i], &s->seg[i], sizeof(s->seg[i]));
}

/* ---- 1. layout ---------------------------------------------------------- */

/* Where each pool puts its headers (the field layout is checked by the
 * static assertions above, and in the library). */
static void test_layout(void **state)
{
	struct xp_mbuf *all[32];
	struct xp_mempool *mp;
	unsigned int i, h;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		mp = mk_pool(POOL, 32, 0, 24, ROOM, handlers[h]);
		/* Split: a header and its private area; else the room too. */
		assert_int_equal(mp->elt_size,
				 sizeof(struct xp_mbuf) + 24 +
					 (tu_mbuf_priv(mp)->split ? 0 : ROOM));
		assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, 32), 0);
		for (i = 0; i < 32; i++)
			assert_int_equal((uintptr_t)all[i] %
						 XP_CACHE_LINE_SIZE,
					 0);
		xp_pktmbuf_free_bulk(all, 32);
		pool_done(mp);
	}
}

/* ---- 2. creation -------------------------------------------------------- */

static void check_new_pool(struct xp_mempool *mp, const char *handler,
			   unsigned int n, unsigned int cache, uint16_t priv,
			   uint16_t room)
{
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);
	const char *h = handler ? handler : xp_mempool_get_def_handler();
	int split = strcmp(h, FRAG_SHARED) == 0;
	struct xp_mbuf **all = calloc(n, sizeof(*all));
	unsigned int i;

	assert_non_null(all);
	assert_ptr_equal(xp_mempool_lookup(POOL), mp);
	assert_int_equal(mp->size, n);
	assert_int_equal(mp->cache_size, cache);
	assert_int_equal(xp_pktmbuf_data_room_size(mp), room);
	assert_int_equal(xp_pktmbuf_priv_size(mp), priv);
	assert_int_equal(p->data_room_size, room);
	assert_int_equal(p->mbuf_priv_size, priv);
	assert_int_equal(p->split, split);
	if (split) {
		/* Headers on the built-in ring, rooms on the handler. */
		assert_string_equal(xp_mempool_handler_name(mp), "ring_mp_mc");
		assert_non_null(p->room_pool);
		assert_string_equal(xp_mempool_handler_name(p->room_pool), h);
		assert_int_equal(p->room_pool->size, n);
		assert_true(p->room_pool->elt_size >= room);
		assert_int_equal(xp_mempool_in_use_count(p->room_pool), n);
	} else {
		assert_string_equal(xp_mempool_handler_name(mp), h);
		assert_null(p->room_pool);
	}
	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, n), 0);
	for (i = 0; i < n; i++)
		assert_reset(all[i], mp);
	xp_pktmbuf_free_bulk(all, n);
	free(all);
}

static void test_create_ok(void **state)
{
	static const struct {
		unsigned int n, cache;
		uint16_t priv, room;
	} ok[] = {
		{1, 0, 0, HR},            /* no tailroom at all */
		{17, 4, 8, ROOM},
		{64, 16, 64, 3000},
		{7, 0, 0, UINT16_MAX},    /* the largest room */
		{40, XP_MEMPOOL_CACHE_MAX_SIZE, 248, 200},
	};
	struct xp_mempool *mp;
	unsigned int h, i;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		for (i = 0; i < ARRAY_SIZE(ok); i++) {
			mp = mk_pool(POOL, ok[i].n, ok[i].cache, ok[i].priv,
				     ok[i].room, handlers[h]);
			check_new_pool(mp, handlers[h], ok[i].n, ok[i].cache,
				       ok[i].priv, ok[i].room);
			pool_done(mp);
		}
	}
	assert_int_equal(xp_pktmbuf_data_room_size(NULL), 0);
	assert_int_equal(xp_pktmbuf_priv_size(NULL), 0);
}

/* xp_pktmbuf_pool_create() follows the process default handler. */
static void test_create_default(void **state)
{
	static const char *const defs[] = {FRAG_SHARED, FRAG, "ring_sp_sc"};
	struct xp_mempool *mp;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(defs); i++) {
		assert_int_equal(xp_mempool_def_handler(defs[i]), 0);
		errno = 0;
		mp = xp_pktmbuf_pool_create(POOL, 50, 8, 16, ROOM);
		assert_non_null(mp);
		check_new_pool(mp, NULL, 50, 8, 16, ROOM);
		pool_done(mp);
	}
	assert_int_equal(xp_mempool_def_handler(default_handler), 0);
	mp = xp_pktmbuf_pool_create(POOL, 10, 0, 0, ROOM);
	assert_non_null(mp);
	check_new_pool(mp, NULL, 10, 0, 0, ROOM);
	pool_done(mp);
}

struct bad_create {
	const char *what;
	const char *name;
	unsigned int n, cache;
	uint16_t priv, room;
	const char *handler; /* "" : the handler under test */
	const char *args;
	int err;
};

#define LONG_NAME "mb_0123456789_0123456789_0123456" /* 32 characters */

static const struct bad_create bad_creates[] = {
	{"priv 4", POOL, 8, 0, 4, ROOM, "", NULL, EINVAL},
	{"priv 12", POOL, 8, 0, 12, ROOM, "", NULL, EINVAL},
	{"priv 65535", POOL, 8, 0, UINT16_MAX, ROOM, "", NULL, EINVAL},
	{"room 0", POOL, 8, 0, 0, 0, "", NULL, EINVAL},
	{"room headroom - 1", POOL, 8, 0, 0, HR - 1, "", NULL, EINVAL},
	{"n 0", POOL, 0, 0, 0, ROOM, "", NULL, EINVAL},
	{"n above INT_MAX", POOL, (unsigned int)INT_MAX + 1, 0, 0, ROOM, "",
	 NULL, EINVAL},
	{"cache too big", POOL, 8, XP_MEMPOOL_CACHE_MAX_SIZE + 1, 0, ROOM, "",
	 NULL, EINVAL},
	{"name NULL", NULL, 8, 0, 0, ROOM, "", NULL, EINVAL},
	{"name empty", "", 8, 0, 0, ROOM, "", NULL, EINVAL},
	{"name too long", LONG_NAME, 8, 0, 0, ROOM, "", NULL, ENAMETOOLONG},
	{"name taken", TAKEN, 8, 0, 0, ROOM, "", NULL, EEXIST},
	{"unknown handler", POOL, 8, 0, 0, ROOM, "mb_no_such", NULL, ENOENT},
};

static void create_fails(const struct bad_create *c, const char *handler)
{
	unsigned int pools = tu_pool_count();
	long live = __atomic_load_n(&frag_live, __ATOMIC_RELAXED);
	const char *h = c->handler[0] ? c->handler : handler;

	errno = 0;
	if (xp_pktmbuf_pool_create_ex(c->name, c->n, c->cache, c->priv,
				      c->room, h, c->args) != NULL ||
	    errno != c->err)
		print_error("%s on %s: errno %d, expected %d\n", c->what,
			    h ? h : "(default)", errno, c->err);
	assert_int_equal(errno, c->err);
	/* Nothing behind: no pool (no rooms' pool either), no handler
	 * memory. */
	assert_int_equal(tu_pool_count(), pools);
	if (c->name != NULL && c->err != EEXIST)
		TU_ASSERT_NO_POOL(c->name);
	assert_int_equal(__atomic_load_n(&frag_live, __ATOMIC_RELAXED), live);
}

static void test_create_errors(void **state)
{
	static const struct bad_create fail_args = {
		"handler fails", POOL, 8, 0, 0, ROOM, "", "fail=5", EIO};
	struct xp_mempool *taken;
	unsigned int h, i;

	(void)state;
	taken = tu_mk_pool(TAKEN, 4, 64, 0, 0, NULL);
	for (h = 0; h < NHANDLERS; h++) {
		for (i = 0; i < ARRAY_SIZE(bad_creates); i++)
			create_fails(&bad_creates[i], handlers[h]);
		if (handlers[h] != NULL)
			create_fails(&fail_args, handlers[h]);
	}
	/* The pool of that name is untouched. */
	assert_ptr_equal(xp_mempool_lookup(TAKEN), taken);
	assert_int_equal(taken->elt_size, 64);
	xp_mempool_free(taken);
	/* And the names and handlers all work afterwards. */
	for (h = 0; h < NHANDLERS; h++)
		pool_done(mk_pool(POOL, 8, 0, 0, ROOM, handlers[h]));
}

/* test_create_enomem provokes a failed allocation. */
TU_SANITIZERS_MAY_RETURN_NULL()

/* In a child: pools too big for the address-space limit fail with ENOMEM,
 * leave nothing behind, and a small one still works. */
static int child_enomem(void)
{
	unsigned int h, pools = tu_pool_count();
	struct xp_mempool *mp;

	if (tu_limit_address_space(256ul << 20) != 0)
		return 2;
	for (h = 0; h < NHANDLERS; h++) {
		/* Over 8 GiB of rooms. */
		errno = 0;
		mp = xp_pktmbuf_pool_create_ex(POOL, 1u << 20, 0, 0, 8192,
					       handlers[h], NULL);
		if (mp != NULL)
			return 3;
		if (errno != ENOMEM)
			return 4;
		if (tu_pool_count() != pools || frag_live != 0)
			return 5;
		mp = xp_pktmbuf_pool_create_ex(POOL, 64, 0, 0, ROOM,
					       handlers[h], NULL);
		if (mp == NULL)
			return 6;
		xp_mempool_free(mp);
	}
	return 0;
}

static void test_create_enomem(void **state)
{
	(void)state;
	tu_run_in_child(child_enomem);
}

/* ---- 3. alloc and free -------------------------------------------------- */

/* Change every field a holder may change. */
static void dirty(struct xp_mbuf *m)
{
	tu_fill(m, 100, 9);
	assert_non_null(xp_pktmbuf_prepend(m, 10));
	m->port = 3;
	m->ol_flags = 0x55;
	m->packet_type = 0x1234;
	m->udata64 = 77;
}

static void alloc_free_case(const char *handler)
{
	struct xp_mbuf *all[64], *more[68], *m;
	struct xp_mempool *mp = mk_pool(POOL, 64, 8, 8, ROOM, handler);
	struct tu_objset set;
	unsigned int i;

	tu_objset_init(&set, mp);
	for (i = 0; i < 64; i++) {
		all[i] = alloc_ok(mp);
		assert_reset(all[i], mp);
		dirty(all[i]);
	}
	tu_objset_check_all(&set, (void *const *)all, 64);
	/* Empty: NULL, errno untouched; a bulk takes nothing. */
	errno = NO_ERRNO;
	assert_null(xp_pktmbuf_alloc(mp));
	assert_int_equal(errno, NO_ERRNO);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, more, 1), -ENOENT);
	assert_int_equal(errno, NO_ERRNO);
	assert_int_equal(xp_mempool_in_use_count(mp), 64);
	/* Freed dirty, allocated clean. */
	for (i = 0; i < 64; i++)
		xp_pktmbuf_free(all[i]);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	for (i = 0; i < 64; i++) {
		all[i] = alloc_ok(mp);
		assert_reset(all[i], mp);
	}
	/* What an alloc must set whatever the pool holds: the count (0 after
	 * a last free that raced another one), next and nb_segs (a free
	 * leaves them as they were); single and bulk allocs alike. */
	for (i = 0; i < 64; i++) {
		all[i]->refcnt = 0;
		all[i]->next = all[(i + 1) % 64];
		all[i]->nb_segs = 7;
	}
	xp_mempool_put_bulk(mp, (void *const *)all, 64);
	for (i = 0; i < 32; i++)
		all[i] = alloc_ok(mp);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all + 32, 32), 0);
	for (i = 0; i < 64; i++)
		assert_reset(all[i], mp);
	xp_pktmbuf_free_bulk(all, 64);

	/* All or nothing. */
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, 60), 0);
	for (i = 0; i < 60; i++)
		dirty(all[i]);
	xp_pktmbuf_free_bulk(all, 30);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, 30), 0);
	for (i = 0; i < 60; i++)
		assert_true(i >= 30 || all[i]->pkt_len == 0);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, more, 5), -ENOENT);
	assert_int_equal(xp_mempool_in_use_count(mp), 60);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, more, 4), 0);
	for (i = 0; i < 4; i++)
		assert_reset(more[i], mp);
	assert_int_equal(xp_mempool_in_use_count(mp), 64);
	memcpy(&all[60], more, 4 * sizeof(*more));
	tu_objset_check_all(&set, (void *const *)all, 64);

	/* free_bulk: NULL entries skipped, chains freed whole. */
	for (i = 0; i < 64; i++)
		more[i + i / 16] = all[i];
	for (i = 0; i < 4; i++)
		more[16 * i + i + 16] = NULL;
	assert_int_equal(xp_pktmbuf_chain(more[0], more[1]), 0);
	more[1] = NULL;
	assert_int_equal(xp_pktmbuf_chain(more[2], more[3]), 0);
	assert_int_equal(xp_pktmbuf_chain(more[2], more[4]), 0);
	more[3] = more[4] = NULL;
	xp_pktmbuf_free_bulk(more, 68);
	xp_pktmbuf_free_bulk(NULL, 0);
	xp_pktmbuf_free(NULL);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);

	/* reset by hand keeps the room, the pool and the count. */
	m = alloc_ok(mp);
	dirty(m);
	xp_mbuf_refcnt_update(m, 1);
	xp_pktmbuf_reset(m);
	assert_int_equal(xp_mbuf_refcnt_read(m), 2);
	xp_mbuf_refcnt_update(m, -1);
	assert_reset(m, mp);
	assert_true(m->udata64 == 77); /* not a reset field */
	xp_pktmbuf_free(m);
	tu_objset_fini(&set);
	pool_done(mp);
}

static void test_alloc_free(void **state)
{
	(void)state;
	each_handler(alloc_free_case);
}

/* ---- 4. data operations ------------------------------------------------- */

static void single_ops_case(struct xp_mempool *mp)
{
	uint16_t room = xp_pktmbuf_data_room_size(mp);
	uint16_t tail = (uint16_t)(room - HR);
	struct xp_mbuf *m = alloc_ok(mp);
	struct snap s;
	char *p, *start = (char *)m->buf_addr;

	/* append: at the end, up to the tailroom. */
	p = xp_pktmbuf_append(m, 0);
	assert_ptr_equal(p, start + HR);
	assert_int_equal(m->data_len, 0);
	snap_take(&s, m);
	assert_null(xp_pktmbuf_append(m, (uint16_t)(tail + 1)));
	snap_same(&s);
	if (tail > 0) {
		p = xp_pktmbuf_append(m, 1);
		assert_ptr_equal(p, start + HR);
		p = xp_pktmbuf_append(m, (uint16_t)(tail - 1));
		assert_ptr_equal(p, start + HR + 1);
		assert_int_equal(m->data_len, tail);
		assert_int_equal(m->pkt_len, tail);
		assert_int_equal(xp_pktmbuf_tailroom(m), 0);
		snap_take(&s, m);
		assert_null(xp_pktmbuf_append(m, 1));
		snap_same(&s);
		assert_int_equal(xp_pktmbuf_trim(m, (uint16_t)(tail - 1)), 0);
	}
	/* prepend: down to the start of the room. */
	snap_take(&s, m);
	assert_null(xp_pktmbuf_prepend(m, HR + 1));
	snap_same(&s);
	p = xp_pktmbuf_prepend(m, 28);
	assert_ptr_equal(p, start + HR - 28);
	assert_ptr_equal(p, xp_pktmbuf_mtod(m, char *));
	assert_int_equal(xp_pktmbuf_headroom(m), HR - 28);
	p = xp_pktmbuf_prepend(m, HR - 28);
	assert_ptr_equal(p, start);
	assert_int_equal(xp_pktmbuf_headroom(m), 0);
	assert_int_equal(m->data_len, HR + (tail > 0));
	assert_int_equal(m->pkt_len, m->data_len);
	snap_take(&s, m);
	assert_null(xp_pktmbuf_prepend(m, 1));
	snap_same(&s);
	assert_int_equal(xp_pktmbuf_tailroom(m), room - m->data_len);
	/* adj: from the front, at most data_len. */
	snap_take(&s, m);
	assert_null(xp_pktmbuf_adj(m, (uint16_t)(m->data_len + 1)));
	snap_same(&s);
	p = xp_pktmbuf_adj(m, 5);
	assert_ptr_equal(p, start + 5);
	assert_ptr_equal(p, xp_pktmbuf_mtod(m, char *));
	assert_int_equal(m->data_len, HR + (tail > 0) - 5);
	assert_int_equal(m->pkt_len, m->data_len);
	/* trim: from the back, at most data_len. */
	snap_take(&s, m);
	assert_int_equal(xp_pktmbuf_trim(m, (uint16_t)(m->data_len + 1)),
			 -EINVAL);
	snap_same(&s);
	assert_int_equal(xp_pktmbuf_trim(m, 3), 0);
	assert_int_equal(m->data_len, HR + (tail > 0) - 8);
	assert_int_equal(m->pkt_len, m->data_len);
	p = xp_pktmbuf_adj(m, m->data_len);
	assert_ptr_equal(p, start + m->data_off);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(xp_pktmbuf_trim(m, 0), 0);
	assert_int_equal(xp_pktmbuf_trim(m, 1), -EINVAL);
	assert_int_equal(xp_pktmbuf_check(m), 0);
	xp_pktmbuf_free(m);
}

/* On a chain: prepend and adj act on the first segment, append and trim on
 * the last, pkt_len on the first follows. */
static void chain_ops_case(struct xp_mempool *mp)
{
	struct xp_mbuf *h = mk_chain(mp, 3, 100, 1), *last, *mid;
	uint16_t tail;
	struct snap s;
	char *p;

	mid = h->next;
	last = xp_pktmbuf_lastseg(h);
	assert_ptr_equal(last, mid->next);
	tail = xp_pktmbuf_tailroom(last);
	p = xp_pktmbuf_append(h, 10);
	assert_ptr_equal(p, xp_pktmbuf_mtod_offset(last, char *, 100));
	assert_int_equal(last->data_len, 110);
	assert_int_equal(h->data_len, 100);
	assert_int_equal(h->pkt_len, 310);
	/* The first segment has room, the last does not: refused. */
	snap_take(&s, h);
	assert_null(xp_pktmbuf_append(h, (uint16_t)(tail - 9)));
	snap_same(&s);
	assert_int_equal(xp_pktmbuf_trim(h, 111), -EINVAL);
	snap_same(&s);
	assert_int_equal(xp_pktmbuf_trim(h, 10), 0);
	assert_int_equal(last->data_len, 100);
	assert_int_equal(h->pkt_len, 300);
	assert_data(h, 1);

	p = xp_pktmbuf_prepend(h, 4);
	assert_ptr_equal(p, xp_pktmbuf_mtod(h, char *));
	assert_int_equal(h->data_len, 104);
	assert_int_equal(h->pkt_len, 304);
	assert_int_equal(mid->data_len, 100);
	assert_non_null(xp_pktmbuf_adj(h, 4));
	assert_int_equal(h->pkt_len, 300);
	/* adj does not reach into the second segment. */
	snap_take(&s, h);
	assert_null(xp_pktmbuf_adj(h, 101));
	snap_same(&s);
	assert_int_equal(xp_pktmbuf_check(h), 0);
	assert_data(h, 1);
	xp_pktmbuf_free(h);
}

/*
 * free_bulk puts runs of single-segment mbufs of one pool back in one bulk
 * put: every other kind of entry between them (NULL, another pool, a chain,
 * a shared mbuf, an indirect one) must still be freed as xp_pktmbuf_free
 * would, and the runs around it must not swallow or skip it.
 */
static void test_free_bulk_runs(void **state)
{
	struct xp_mempool *a = mk_pool("fbA", 32, 8, 0, ROOM, NULL);
	struct xp_mempool *b = mk_pool("fbB", 32, 0, 0, ROOM, NULL);
	struct xp_mbuf *ma[12], *mb[4], *arr[20], *copy[20];
	unsigned int i, k = 0;

	(void)state;
	assert_int_equal(xp_pktmbuf_alloc_bulk(a, ma, 12), 0);
	assert_int_equal(xp_pktmbuf_alloc_bulk(b, mb, 4), 0);
	/* ma[4] shared, ma[5] -> ma[6] a chain, ma[7] indirect into ma[8]. */
	xp_mbuf_refcnt_update(ma[4], 1);
	assert_int_equal(xp_pktmbuf_chain(ma[5], ma[6]), 0);
	assert_int_equal(xp_pktmbuf_attach(ma[7], ma[8]), 0);
	xp_pktmbuf_free(ma[8]); /* the indirect one now holds it alone */
	arr[k++] = ma[0];
	arr[k++] = ma[1];
	arr[k++] = mb[0];
	arr[k++] = NULL;
	arr[k++] = ma[2];
	arr[k++] = ma[4];
	arr[k++] = ma[3];
	arr[k++] = ma[5];
	arr[k++] = mb[1];
	arr[k++] = mb[2];
	arr[k++] = ma[7];
	arr[k++] = ma[9];
	arr[k++] = ma[10];
	arr[k++] = mb[3];
	arr[k++] = ma[11];
	memcpy(copy, arr, k * sizeof(*arr));
	xp_pktmbuf_free_bulk(arr, k);
	/* The array is left as it was. */
	assert_memory_equal(copy, arr, k * sizeof(*arr));
	/* Everything went back but the shared mbuf, now with one reference. */
	assert_int_equal(xp_mempool_in_use_count(a), 1);
	assert_int_equal(xp_mempool_in_use_count(b), 0);
	assert_int_equal(xp_mbuf_refcnt_read(ma[4]), 1);
	xp_pktmbuf_free_bulk(&ma[4], 1);
	assert_int_equal(xp_mempool_in_use_count(a), 0);
	/* Every run length from every start, on one pool and across two. */
	for (i = 1; i <= 12; i++) {
		unsigned int j, t = 0;

		assert_int_equal(xp_pktmbuf_alloc_bulk(a, ma, i), 0);
		assert_int_equal(xp_pktmbuf_alloc_bulk(b, mb, i % 4), 0);
		/* b's mbufs after a's 2nd, 5th, 8th, ...; the rest at the end */
		for (j = 0, k = 0; j < i; j++) {
			arr[k++] = ma[j];
			if (j % 3 == 1 && t < i % 4)
				arr[k++] = mb[t++];
		}
		while (t < i % 4)
			arr[k++] = mb[t++];
		xp_pktmbuf_free_bulk(arr, k);
		assert_int_equal(xp_mempool_in_use_count(a), 0);
		assert_int_equal(xp_mempool_in_use_count(b), 0);
	}
	pool_done(a);
	pool_done(b);
}

static void test_data_ops(void **state)
{
	static const uint16_t rooms[] = {HR, HR + 1, ROOM, UINT16_MAX};
	struct xp_mempool *mp;
	unsigned int h, r;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		for (r = 0; r < ARRAY_SIZE(rooms); r++) {
			mp = mk_pool(POOL, 8, 0, 0, rooms[r], handlers[h]);
			single_ops_case(mp);
			if (rooms[r] >= ROOM)
				chain_ops_case(mp);
			pool_done(mp);
		}
	}
}

static void test_mtod_mtophys(void **state)
{
	struct xp_mempool *mp, *rp;
	struct xp_mbuf *m;
	unsigned int h;
	char *p;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		mp = mk_pool(POOL, 8, 0, 0, ROOM, handlers[h]);
		rp = room_pool(mp);
		m = alloc_ok(mp);
		tu_fill(m, 64, 4);
		p = (char *)m->buf_addr + m->data_off;
		assert_ptr_equal(xp_pktmbuf_mtod(m, char *), p);
		assert_ptr_equal(xp_pktmbuf_mtod_offset(m, char *, 10), p + 10);
		assert_ptr_equal(xp_pktmbuf_mtod_offset(m, uint32_t *, 8),
				 (uint32_t *)(void *)(p + 8));
		assert_int_equal(*xp_pktmbuf_mtod_offset(m, uint8_t *, 3),
				 tu_pat(4, 3));
		assert_true(xp_pktmbuf_mtophys(m) == m->buf_phys + HR);
		assert_true(xp_pktmbuf_mtophys_offset(m, 10) ==
			    m->buf_phys + HR + 10);
		/* The room pool's own translation agrees. */
		assert_true(xp_pktmbuf_mtophys(m) ==
			    xp_mempool_virt2phy(rp, p));
		assert_true(xp_pktmbuf_mtophys_offset(m, 63) ==
			    xp_mempool_virt2phy(rp, p + 63));
		assert_non_null(xp_pktmbuf_prepend(m, 20));
		assert_true(xp_pktmbuf_mtophys(m) ==
			    xp_mempool_virt2phy(rp, p - 20));
		assert_non_null(xp_pktmbuf_adj(m, 50));
		assert_ptr_equal(xp_pktmbuf_mtod(m, char *), p + 30);
		assert_true(xp_pktmbuf_mtophys(m) ==
			    xp_mempool_virt2phy(rp, p + 30));
		xp_pktmbuf_free(m);
		pool_done(mp);
	}
}

/* ---- 5. chains ---------------------------------------------------------- */

static void chain_case(const char *handler)
{
	struct xp_mempool *mp = mk_pool(POOL, 32, 4, 0, ROOM, handler);
	struct xp_mbuf *a, *b, *c, *d;
	struct snap s;

	a = mk_chain(mp, 1, 10, 2);
	snap_take(&s, a);
	assert_int_equal(xp_pktmbuf_chain(NULL, a), -EINVAL);
	assert_int_equal(xp_pktmbuf_chain(a, NULL), -EINVAL);
	assert_int_equal(xp_pktmbuf_chain(a, a), -EINVAL);
	snap_same(&s);

	/* Two chains of two: four segments, totals on the first only. */
	b = alloc_ok(mp);
	tu_fill(b, 20, 3);
	assert_int_equal(xp_pktmbuf_chain(a, b), 0);
	assert_int_equal(a->nb_segs, 2);
	assert_int_equal(a->pkt_len, 30);
	assert_ptr_equal(a->next, b);
	c = mk_chain(mp, 2, 5, 4);
	d = c->next;
	assert_int_equal(xp_pktmbuf_chain(a, c), 0);
	assert_int_equal(a->nb_segs, 4);
	assert_int_equal(a->pkt_len, 40);
	assert_int_equal(c->nb_segs, 1);
	assert_ptr_equal(b->next, c);
	assert_ptr_equal(xp_pktmbuf_lastseg(a), d);
	assert_int_equal(chain_len(a), 4);
	assert_int_equal(xp_pktmbuf_check(a), 0);
	assert_int_equal(xp_mempool_in_use_count(mp), 4);
	/* Freeing the head frees every segment. */
	xp_pktmbuf_free(a);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);

	/* free_seg frees one segment, not what follows it... */
	a = mk_chain(mp, 3, 10, 5);
	b = a->next;
	xp_pktmbuf_free_seg(a);
	assert_int_equal(xp_mempool_in_use_count(mp), 2);
	/* ... and only drops a reference while others hold it. */
	xp_mbuf_refcnt_update(b, 1);
	xp_pktmbuf_free_seg(b);
	assert_int_equal(xp_mbuf_refcnt_read(b), 1);
	assert_int_equal(xp_mempool_in_use_count(mp), 2);
	/* What is left is a chain of its own once it has the totals. */
	b->nb_segs = 2;
	b->pkt_len = 20;
	assert_int_equal(xp_pktmbuf_check(b), 0);
	xp_pktmbuf_free(b);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	pool_done(mp);
}

static void test_chain(void **state)
{
	(void)state;
	each_handler(chain_case);
}

/*
 * -EOVERFLOW for real: a chain of UINT16_MAX segments takes no more.  Built
 * from the back (a one-segment head is chained in front), so that each
 * chain call is O(1).
 */
static void test_chain_overflow(void **state)
{
	unsigned int n = UINT16_MAX, i;
	struct xp_mempool *mp = mk_pool(POOL, n + 2, 64, 0, HR + 8, NULL);
	struct xp_mbuf *big = alloc_ok(mp), *m, *x, *y;
	struct snap s, t;
	uint32_t len;

	for (i = 1; i < n; i++) {
		m = alloc_ok(mp);
		assert_int_equal(xp_pktmbuf_chain(m, big), 0);
		big = m;
	}
	assert_int_equal(big->nb_segs, UINT16_MAX);
	assert_int_equal(xp_pktmbuf_check(big), 0);
	x = alloc_ok(mp);
	y = alloc_ok(mp);
	assert_int_equal(xp_pktmbuf_chain(x, y), 0);
	snap_take(&s, big);
	snap_take(&t, x);
	assert_int_equal(xp_pktmbuf_chain(big, x), -EOVERFLOW);
	assert_int_equal(xp_pktmbuf_chain(x, big), -EOVERFLOW);
	snap_same(&s);
	snap_same(&t);
	assert_int_equal(xp_pktmbuf_check(big), 0);
	assert_int_equal(xp_pktmbuf_check(x), 0);
	assert_null(xp_pktmbuf_lastseg(big)->next);

	/*
	 * UINT32_MAX bytes cannot be reached by consistent chains (65535
	 * rooms of at most 65535 bytes), so pkt_len is raised by hand for
	 * the call and put back.
	 */
	len = x->pkt_len;
	tu_fill(x, 1, 0);
	xp_pktmbuf_free(big);
	big = alloc_ok(mp);
	tu_fill(big, 1, 0);
	big->pkt_len = UINT32_MAX;
	snap_take(&s, big);
	snap_take(&t, x);
	assert_int_equal(xp_pktmbuf_chain(big, x), -EOVERFLOW);
	snap_same(&s);
	snap_same(&t);
	big->pkt_len = 1;
	assert_int_equal(xp_pktmbuf_chain(big, x), 0);
	assert_int_equal(big->pkt_len, len + 2);
	assert_int_equal(xp_pktmbuf_check(big), 0);
	xp_pktmbuf_free(big);
	pool_done(mp);
}

/* ---- 6. clones ---------------------------------------------------------- */

/* @c is a clone of @m: indirect segments over the same data. */
static void assert_clone_of(const struct xp_mbuf *c, const struct xp_mbuf *m,
			    struct xp_mempool *cp)
{
	const struct xp_mbuf *s, *t;

	assert_int_equal(c->nb_segs, m->nb_segs);
	assert_int_equal(c->pkt_len, m->pkt_len);
	assert_int_equal(chain_len(c), chain_len(m));
	for (s = c, t = m; s != NULL; s = s->next, t = t->next) {
		assert_true(xp_mbuf_is_indirect(s));
		assert_ptr_equal(s->pool, cp);
		assert_ptr_equal(s->direct,
				 xp_mbuf_is_indirect(t) ? t->direct : t);
		assert_false(xp_mbuf_is_indirect(s->direct));
		assert_ptr_equal(s->buf_addr, t->buf_addr);
		assert_true(s->buf_phys == t->buf_phys);
		assert_int_equal(s->buf_len, t->buf_len);
		assert_int_equal(s->data_off, t->data_off);
		assert_int_equal(s->data_len, t->data_len);
		assert_int_equal(xp_mbuf_refcnt_read(s), 1);
		assert_ptr_equal(xp_pktmbuf_mtod(s, char *),
				 xp_pktmbuf_mtod(t, char *));
		assert_true(xp_pktmbuf_mtophys(s) == xp_pktmbuf_mtophys(t));
		/* Its own room is untouched, kept for when it is freed. */
		assert_ptr_not_equal(s->room, s->buf_addr);
	}
	assert_int_equal(xp_pktmbuf_check(c), 0);
}

static void refcnts_are(const struct xp_mbuf *m, uint16_t want)
{
	for (; m != NULL; m = m->next)
		assert_int_equal(xp_mbuf_refcnt_read(m), want);
}

/*
 * The original (chain of @nsegs), a clone c1 and a clone of the clone c2,
 * freed in the order @order (a permutation of 0, 1, 2): at each step the
 * others still see the data, the original's mbufs stay taken while anyone
 * holds them and the clones' headers go back at once.
 */
static void free_order_case(struct xp_mempool *mp, struct xp_mempool *cp,
			    unsigned int nsegs, const unsigned int order[3])
{
	struct xp_mbuf *h[3];
	unsigned int step, live = 3, k, orig_use, clone_use;
	int alive[3] = {1, 1, 1};

	h[0] = mk_chain(mp, nsegs, 50, (uint8_t)nsegs);
	h[1] = xp_pktmbuf_clone(h[0], cp);
	assert_non_null(h[1]);
	h[2] = xp_pktmbuf_clone(h[1], cp);
	assert_non_null(h[2]);
	assert_clone_of(h[1], h[0], cp);
	assert_clone_of(h[2], h[0], cp);
	refcnts_are(h[0], 3);
	for (step = 0; step < 3; step++) {
		struct xp_mbuf *orig = h[0];

		xp_pktmbuf_free(h[order[step]]);
		alive[order[step]] = 0;
		live--;
		if (live > 0)
			refcnts_are(orig, (uint16_t)live);
		orig_use = live ? nsegs : 0;
		clone_use = (unsigned int)(alive[1] + alive[2]) * nsegs;
		if (cp == mp) {
			assert_int_equal(xp_mempool_in_use_count(mp),
					 orig_use + clone_use);
		} else {
			assert_int_equal(xp_mempool_in_use_count(mp), orig_use);
			assert_int_equal(xp_mempool_in_use_count(cp),
					 clone_use);
		}
		for (k = 0; k < 3; k++)
			if (alive[k]) {
				assert_int_equal(xp_pktmbuf_check(h[k]), 0);
				assert_data(h[k], (uint8_t)nsegs);
			}
	}
}

static void test_clone_free_orders(void **state)
{
	static const unsigned int orders[6][3] = {
		{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
		{1, 2, 0}, {2, 0, 1}, {2, 1, 0},
	};
	struct xp_mempool *mp, *cp;
	unsigned int h, o, nsegs;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		mp = mk_pool(POOL, 16, 4, 0, ROOM, handlers[h]);
		/* Headers of clones need no room: the smallest. */
		cp = mk_pool(CLONES, 16, 4, 0, HR, handlers[h]);
		for (nsegs = 1; nsegs <= 3; nsegs += 2)
			for (o = 0; o < 6; o++)
				free_order_case(mp, cp, nsegs, orders[o]);
		/* Clones in the original's own pool. */
		for (o = 0; o < 6; o++)
			free_order_case(mp, mp, 3, orders[o]);
		pool_done(cp);
		pool_done(mp);
	}
}

/* A chain mixing a direct segment and an indirect one; cloned, the clone
 * points at the owners, not at the indirect segment. */
static void test_clone_mixed_chain(void **state)
{
	struct xp_mempool *mp, *cp;
	struct xp_mbuf *a, *x, *xc, *c;
	unsigned int h;

	(void)state;
	for (h = 0; h < NHANDLERS; h++) {
		mp = mk_pool(POOL, 16, 0, 0, ROOM, handlers[h]);
		cp = mk_pool(CLONES, 16, 0, 0, HR, handlers[h]);
		a = mk_chain(mp, 1, 30, 6);
		x = alloc_ok(mp);
		tu_fill(x, 40, 7);
		xc = xp_pktmbuf_clone(x, cp);
		assert_non_null(xc);
		xp_pktmbuf_free(x); /* only the clone holds x now */
		assert_int_equal(xp_pktmbuf_chain(a, xc), 0);
		assert_int_equal(xp_pktmbuf_check(a), 0);
		c = xp_pktmbuf_clone(a, cp);
		assert_non_null(c);
		assert_clone_of(c, a, cp);
		assert_ptr_equal(c->next->direct, x);
		assert_int_equal(xp_mbuf_refcnt_read(x), 2);
		assert_int_equal(xp_mbuf_refcnt_read(a), 2);
		assert_int_equal(xp_mbuf_refcnt_read(xc), 1);
		xp_pktmbuf_free(a);
		assert_int_equal(xp_mempool_in_use_count(mp), 2);
		assert_int_equal(xp_mbuf_refcnt_read(x), 1);
		xp_pktmbuf_free(c);
		pool_done(cp);
		pool_done(mp);
	}
}

/* More than 256 segments: clone's list of new segments is allocated. */
static void test_clone_long_chain(void **state)
{
	struct xp_mempool *mp = mk_pool(POOL, 600, 32, 0, HR + 16, NULL);
	struct xp_mbuf *m = mk_chain(mp, 300, 16, 8), *c;

	(void)state;
	c = xp_pktmbuf_clone(m, mp);
	assert_non_null(c);
	assert_clone_of(c, m, mp);
	refcnts_are(m, 2);
	assert_int_equal(xp_mempool_in_use_count(mp), 600);
	xp_pktmbuf_free(m);
	assert_data(c, 8);
	xp_pktmbuf_free(c);
	pool_done(mp);
}

static void clone_errors_case(const char *handler)
{
	struct xp_mempool *mp = mk_pool(POOL, 8, 0, 0, ROOM, handler);
	struct xp_mempool *cp = mk_pool(CLONES, 4, 0, 0, HR, handler);
	struct xp_mbuf *m = mk_chain(mp, 3, 10, 9), *hold[2];
	struct snap s;

	snap_take(&s, m);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_clone(NULL, cp), EINVAL);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_clone(m, NULL), EINVAL);
	snap_same(&s);

	/* Two headers left for three segments: nothing taken. */
	assert_int_equal(xp_pktmbuf_alloc_bulk(cp, hold, 2), 0);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_clone(m, cp), ENOENT);
	snap_same(&s);
	assert_int_equal(xp_mempool_in_use_count(cp), 2);
	xp_pktmbuf_free_bulk(hold, 2);

	/*
	 * The middle segment's room holds UINT16_MAX references: the first
	 * segment, already attached when that is found, is let go again.
	 */
	xp_mbuf_refcnt_update(m->next, INT16_MAX);
	xp_mbuf_refcnt_update(m->next, INT16_MAX);
	assert_int_equal(xp_mbuf_refcnt_read(m->next), UINT16_MAX);
	snap_take(&s, m);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_clone(m, cp), EOVERFLOW);
	snap_same(&s);
	assert_int_equal(xp_mempool_in_use_count(cp), 0);
	assert_int_equal(xp_mempool_in_use_count(mp), 3);
	/* The last segment full: both others are let go. */
	xp_mbuf_refcnt_update(m->next, -INT16_MAX);
	xp_mbuf_refcnt_update(m->next, -INT16_MAX);
	xp_mbuf_refcnt_update(m->next->next, INT16_MAX);
	xp_mbuf_refcnt_update(m->next->next, INT16_MAX);
	snap_take(&s, m);
	TU_ASSERT_NULL_ERRNO(xp_pktmbuf_clone(m, cp), EOVERFLOW);
	snap_same(&s);
	assert_int_equal(xp_mempool_in_use_count(cp), 0);
	xp_mbuf_refcnt_update(m->next->next, -INT16_MAX);
	xp_mbuf_refcnt_update(m->next->next, -INT16_MAX);
	refcnts_are(m, 1);
	xp_pktmbuf_free(m);
	pool_done(cp);
	pool_done(mp);
}

static void test_clone_errors(void **state)
{
	(void)state;
	each_handler(clone_errors_case);
}

/* ---- 7. attach and detach ----------------------------------------------- */

static void attach_errors_case(const char *handler)
{
	struct xp_mempool *mp = mk_pool(POOL, 16, 0, 0, ROOM, handler);
	struct xp_mbuf *m = mk_chain(mp, 1, 20, 10), *mi = alloc_ok(mp);
	struct xp_mbuf *ind = alloc_ok(mp), *chained = mk_chain(mp, 2, 5, 11);
	struct snap s, t;

	snap_take(&s, m);
	snap_take(&t, mi);
	assert_int_equal(xp_pktmbuf_attach(NULL, m), -EINVAL);
	assert_int_equal(xp_pktmbuf_attach(mi, NULL), -EINVAL);
	assert_int_equal(xp_pktmbuf_attach(m, m), -EINVAL);
	snap_same(&s);
	snap_same(&t);

	/* An indirect mi. */
	assert_int_equal(xp_pktmbuf_attach(ind, m), 0);
	snap_take(&s, m);
	snap_take(&t, ind);
	assert_int_equal(xp_pktmbuf_attach(ind, m), -EINVAL);
	assert_int_equal(xp_pktmbuf_attach(ind, mi), -EINVAL);
	snap_same(&s);
	snap_same(&t);
	/* A chained mi. */
	snap_take(&t, chained);
	assert_int_equal(xp_pktmbuf_attach(chained, m), -EINVAL);
	snap_same(&s);
	snap_same(&t);
	/* m is indirect over mi: mi would point at itself. */
	tu_fill(mi, 8, 12);
	assert_int_equal(xp_pktmbuf_detach(ind), 0);
	assert_int_equal(xp_pktmbuf_attach(ind, mi), 0);
	snap_take(&s, mi);
	snap_take(&t, ind);
	assert_int_equal(xp_pktmbuf_attach(mi, ind), -EINVAL);
	snap_same(&s);
	snap_same(&t);
	/* The room's count is full. */
	xp_mbuf_refcnt_update(m, INT16_MAX);
	xp_mbuf_refcnt_update(m, INT16_MAX);
	snap_take(&s, m);
	assert_int_equal(xp_pktmbuf_detach(ind), 0);
	snap_take(&t, ind);
	assert_int_equal(xp_pktmbuf_attach(ind, m), -EOVERFLOW);
	snap_same(&s);
	snap_same(&t);
	xp_mbuf_refcnt_update(m, -INT16_MAX);
	xp_mbuf_refcnt_update(m, -INT16_MAX);

	/* detach: NULL or a direct mbuf. */
	snap_take(&s, m);
	assert_int_equal(xp_pktmbuf_detach(NULL), -EINVAL);
	assert_int_equal(xp_pktmbuf_detach(m), -EINVAL);
	assert_int_equal(xp_pktmbuf_detach(ind), -EINVAL);
	snap_same(&s);
	assert_reset(ind, mp);

	refcnts_are(m, 1);
	refcnts_are(mi, 1);
	xp_pktmbuf_free(m);
	xp_pktmbuf_free(mi);
	xp_pktmbuf_free(ind);
	xp_pktmbuf_free(chained);
	pool_done(mp);
}

static void test_attach_errors(void **state)
{
	(void)state;
	each_handler(attach_errors_case);
}

static void attach_detach_case(const char *handler)
{
	struct xp_mempool *mp = mk_pool(POOL, 8, 0, 16, ROOM, handler);
	struct xp_mempool *cp = mk_pool(CLONES, 8, 0, 0, HR, handler);
	struct xp_mempool *rp = room_pool(mp);
	struct xp_mbuf *m = alloc_ok(mp), *mi = alloc_ok(cp), *mi2;
	void *own = mi->buf_addr;
	uint64_t own_phys = mi->buf_phys;

	tu_fill(m, 300, 13);
	assert_non_null(xp_pktmbuf_adj(m, 7));
	m->port = 5;
	m->ol_flags = 0x10;
	m->packet_type = 0x99;
	assert_int_equal(xp_pktmbuf_attach(mi, m), 0);
	assert_true(xp_mbuf_is_indirect(mi));
	assert_ptr_equal(mi->direct, m);
	assert_ptr_equal(mi->buf_addr, m->buf_addr);
	assert_true(mi->buf_phys == m->buf_phys);
	/* The bus address is the room pool's, not the clone pool's. */
	assert_true(mi->buf_phys == xp_mempool_virt2phy(rp, m->buf_addr));
	assert_true(xp_pktmbuf_mtophys(mi) ==
		    xp_mempool_virt2phy(rp, xp_pktmbuf_mtod(m, char *)));
	assert_int_equal(mi->buf_len, ROOM);
	assert_int_equal(mi->data_off, m->data_off);
	assert_int_equal(mi->data_len, 293);
	assert_int_equal(mi->pkt_len, 293);
	assert_int_equal(mi->port, 5);
	assert_true(mi->ol_flags == 0x10);
	assert_int_equal(mi->packet_type, 0x99);
	assert_ptr_equal(mi->pool, cp);
	assert_int_equal(xp_mbuf_refcnt_read(m), 2);
	assert_int_equal(xp_mbuf_refcnt_read(mi), 1);
	assert_int_equal(xp_pktmbuf_check(mi), 0);

	/* Attaching to an indirect mbuf attaches to its owner. */
	mi2 = alloc_ok(mp);
	assert_int_equal(xp_pktmbuf_attach(mi2, mi), 0);
	assert_ptr_equal(mi2->direct, m);
	assert_int_equal(xp_mbuf_refcnt_read(m), 3);
	assert_int_equal(xp_mbuf_refcnt_read(mi), 1);

	/* Detach: direct again, own room, reset, one reference less. */
	assert_int_equal(xp_pktmbuf_detach(mi), 0);
	assert_reset(mi, cp);
	assert_ptr_equal(mi->buf_addr, own);
	assert_true(mi->buf_phys == own_phys);
	assert_int_equal(xp_mbuf_refcnt_read(m), 2);
	/* The original goes; the room stays for mi2. */
	xp_pktmbuf_free(m);
	assert_int_equal(xp_mempool_in_use_count(mp), 2);
	assert_int_equal(xp_mbuf_refcnt_read(m), 1);
	/* Detaching the last reference returns the room's mbuf. */
	assert_int_equal(xp_pktmbuf_detach(mi2), 0);
	assert_reset(mi2, mp);
	assert_int_equal(xp_mempool_in_use_count(mp), 1);
	xp_pktmbuf_free(mi2);
	xp_pktmbuf_free(mi);
	pool_done(cp);
	pool_done(mp);
}

/* Detaching a chained clone would lose the rest of its chain: refused,
 * nothing changed, and freeing the chains then returns everything. */
static void test_detach_chained(void **state)
{
	struct xp_mempool *mp = mk_pool("mb_detach_chain", 16, 0, 0, 512,
					NULL);
	struct xp_mbuf *a = xp_pktmbuf_alloc(mp), *b = xp_pktmbuf_alloc(mp);
	struct xp_mbuf *c;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(xp_pktmbuf_chain(a, b), 0);
	c = xp_pktmbuf_clone(a, mp);
	assert_non_null(c);
	assert_int_equal(c->nb_segs, 2);
	assert_int_equal(xp_pktmbuf_detach(c), -EINVAL);
	assert_true(xp_mbuf_is_indirect(c));
	assert_non_null(c->next);
	assert_int_equal(xp_mbuf_refcnt_read(a), 2);
	assert_int_equal(xp_pktmbuf_check(c), 0);
	xp_pktmbuf_free(c);
	xp_pktmbuf_free(a);
	pool_done(mp);
}

static void test_attach_detach(void **state)
{
	(void)state;
	each_handler(attach_detach_case);
}

/* ---- 8. bus addresses and contiguity ------------------------------------ */

/*
 * Every mbuf of the pool: buf_phys is the room pool's translation of
 * buf_addr, and stays valid over the whole room, which lies in one chunk;
 * rooms do not overlap each other or any header.
 */
static void phys_case(const char *handler, uint16_t room, uint16_t priv)
{
	struct xp_mempool *mp = mk_pool(POOL, 100, 8, priv, room, handler);
	struct xp_mempool *rp = room_pool(mp);
	struct tu_chunk_list *l = tu_chunks_of(rp);
	struct xp_mbuf *all[100];
	void *rooms[100];
	unsigned int i, j, n = 100;

	if (handler != NULL)
		assert_true(l->n >= n / FRAG_OBJS);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, n), 0);
	for (i = 0; i < n; i++) {
		uintptr_t a = (uintptr_t)all[i]->buf_addr;
		size_t len = all[i]->buf_len, off;
		int c = tu_chunk_holding(l, (const char *)a, len);

		assert_int_equal(len, room);
		assert_true(all[i]->buf_phys != XP_BAD_PHYS);
		assert_true(all[i]->buf_phys ==
			    xp_mempool_virt2phy(rp, all[i]->buf_addr));
		if (handler == NULL) /* ring handler: IOVA = VA */
			assert_true(all[i]->buf_phys == a);
		assert_true(c >= 0);
		assert_true(all[i]->buf_phys ==
			    l->c[c].phys + (a - (uintptr_t)l->c[c].va));
		for (off = 0; off < len; off += 997) {
			void *at = (void *)(a + off);

			assert_true(xp_mempool_virt2phy(rp, at) ==
				    all[i]->buf_phys + off);
		}
		assert_true(xp_mempool_virt2phy(rp, (void *)(a + len - 1)) ==
			    all[i]->buf_phys + len - 1);
		/* The room does not overlap the header or its private
		 * area. */
		assert_true(a >= (uintptr_t)all[i] + sizeof(struct xp_mbuf) +
					 priv ||
			    a + len <= (uintptr_t)all[i]);
	}
	/* No two rooms overlap... */
	for (i = 0; i < n; i++)
		rooms[i] = all[i]->buf_addr;
	qsort(rooms, n, sizeof(*rooms), tu_ptr_cmp);
	for (i = 1; i < n; i++)
		assert_true((uintptr_t)rooms[i - 1] + room <=
			    (uintptr_t)rooms[i]);
	/* ... nor does any room overlap any header. */
	for (i = 0; i < n; i++) {
		uintptr_t h = (uintptr_t)all[i];

		for (j = 0; j < n; j++)
			assert_true(h + sizeof(struct xp_mbuf) + priv <=
					    (uintptr_t)rooms[j] ||
				    (uintptr_t)rooms[j] + room <= h);
	}
	xp_pktmbuf_free_bulk(all, n);
	free(l);
	pool_done(mp);
}

static void test_buf_phys(void **state)
{
	static const uint16_t rooms[] = {HR, 1000, ROOM, 5000, 9000};
	unsigned int h, r;

	(void)state;
	for (h = 0; h < NHANDLERS; h++)
		for (r = 0; r < ARRAY_SIZE(rooms); r++)
			phys_case(handlers[h], rooms[r], (uint16_t)(8 * r));
}

/* ---- 9. private area ---------------------------------------------------- */

static void priv_case(const char *handler, uint16_t ps)
{
	struct xp_mempool *mp = mk_pool(POOL, 32, 4, ps, ROOM, handler);
	struct xp_mbuf *all[32];
	unsigned int i, k;

	assert_int_equal(xp_pktmbuf_priv_size(mp), ps);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, 32), 0);
	for (i = 0; i < 32; i++) {
		char *after = (char *)all[i] + sizeof(struct xp_mbuf);

		assert_int_equal(all[i]->priv_size, ps);
		assert_ptr_equal(xp_mbuf_to_priv(all[i]), after);
		memset(after, (int)i, ps);
	}
	/* Full rooms do not reach any private area or header. */
	for (i = 0; i < 32; i++)
		memset(all[i]->buf_addr, 0xee, all[i]->buf_len);
	for (i = 0; i < 32; i++) {
		const unsigned char *q = xp_mbuf_to_priv(all[i]);

		for (k = 0; k < ps; k++)
			assert_int_equal(q[k], i);
		assert_reset(all[i], mp);
	}
	xp_pktmbuf_free_bulk(all, 32);
	pool_done(mp);
}

static void test_priv(void **state)
{
	static const uint16_t privs[] = {0, 8, 64, 136};
	unsigned int h, p;

	(void)state;
	for (h = 0; h < NHANDLERS; h++)
		for (p = 0; p < ARRAY_SIZE(privs); p++)
			priv_case(handlers[h], privs[p]);
}

/* ---- 10. the chain check ------------------------------------------------ */

/* @m is inconsistent: -EBADMSG, and the library said why. */
static void assert_bad(const struct xp_mbuf *m)
{
	unsigned int before = errors_logged;

	assert_int_equal(xp_pktmbuf_check(m), -EBADMSG);
	assert_true(errors_logged > before);
}

static void check_case(const char *handler)
{
	struct xp_mempool *mp = mk_pool(POOL, 16, 0, 0, ROOM, handler);
	struct xp_mbuf *m = mk_chain(mp, 3, 40, 14), *c, *last;
	uint32_t len;
	uint16_t v;

	assert_int_equal(xp_pktmbuf_check(NULL), -EINVAL);
	c = xp_pktmbuf_clone(m, mp);
	assert_non_null(c);
	assert_int_equal(xp_pktmbuf_check(c), 0);
	last = xp_pktmbuf_lastseg(m);

	len = m->pkt_len;
	m->pkt_len = len + 1;
	assert_bad(m);
	m->pkt_len = len - 1;
	assert_bad(m);
	m->pkt_len = len;
	assert_int_equal(xp_pktmbuf_check(m), 0);

	m->nb_segs = 2;
	assert_bad(m);
	m->nb_segs = 3;

	v = last->data_len;
	last->data_len = (uint16_t)(last->buf_len - last->data_off + 1);
	m->pkt_len = len - v + last->data_len; /* the totals agree */
	assert_bad(m);
	last->data_len = v;
	m->pkt_len = len;

	/* (two references: m and its clone) */
	xp_mbuf_refcnt_update(m->next, -2);
	assert_bad(m);
	xp_mbuf_refcnt_update(m->next, 2);

	c->next->direct = NULL;
	assert_bad(c);
	c->next->direct = m->next;
	/* pointing at an indirect mbuf is not allowed either */
	c->next->direct = c;
	assert_bad(c);
	c->next->direct = m->next;

	/* A loop ends too. */
	last->next = m;
	assert_bad(m);
	last->next = NULL;

	assert_int_equal(xp_pktmbuf_check(m), 0);
	assert_int_equal(xp_pktmbuf_check(c), 0);
	xp_pktmbuf_free(m);
	xp_pktmbuf_free(c);
	pool_done(mp);
}

static void test_check(void **state)
{
	(void)state;
	/* Whatever the harness asks for, catch the errors the check logs
	 * (the teardown puts the level and the sink back). */
	assert_int_equal(xp_log_set_level(XP_LOG_ERR), 0);
	xp_log_set_callback(count_errors, NULL);
	each_handler(check_case);
}

/* ---- 11. rooms overwritten ---------------------------------------------- */

static void scribble_room_cb(struct xp_mempool *mp, void *arg, void *obj,
			     unsigned int idx)
{
	(void)idx;
	memset(obj, *(const int *)arg, mp->elt_size);
}

/*
 * What a peer that can write the rooms (but nothing else) does: overwrite
 * every room, in use or not.  Split: every object of the rooms' pool.
 * Otherwise: the room of every mbuf, which is all it could reach.
 */
static void scribble_rooms(struct xp_mempool *mp, struct xp_mbuf **all,
			   unsigned int n, int byte)
{
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);
	unsigned int i;

	if (p->split) {
		xp_mempool_obj_iter(p->room_pool, scribble_room_cb, &byte);
		return;
	}
	for (i = 0; i < n; i++)
		memset(all[i]->room, byte, xp_pktmbuf_data_room_size(mp));
}

static void header_in_rooms_cb(struct xp_mempool *mp, void *arg, void *obj,
			       unsigned int idx)
{
	const struct tu_chunk_list *l = arg;
	size_t len = sizeof(struct xp_mbuf) + xp_pktmbuf_priv_size(mp);
	const char *o = obj;
	unsigned int i;

	(void)idx;
	for (i = 0; i < l->n; i++)
		assert_true(o + len <= l->c[i].va ||
			    l->c[i].va + l->c[i].len <= o);
}

static void scribble_case(const char *handler)
{
	enum { N = 64 };
	struct xp_mempool *mp = mk_pool(POOL, N, 8, 16, ROOM, handler);
	struct xp_pktmbuf_pool_private *p = tu_mbuf_priv(mp);
	struct xp_mbuf *all[N], *pkts[8];
	struct xp_mbuf *copy = calloc(N, sizeof(struct xp_mbuf) + 16);
	unsigned int i;

	assert_non_null(copy);
	if (p->split) {
		/* No header or private area inside the rooms' memory. */
		struct tu_chunk_list *l = tu_chunks_of(p->room_pool);

		xp_mempool_obj_iter(mp, header_in_rooms_cb, l);
		free(l);
	}
	/* Packets in flight: chains and clones. */
	for (i = 0; i < 4; i++)
		pkts[i] = mk_chain(mp, 1 + i, 100, (uint8_t)i);
	for (i = 4; i < 8; i++) {
		pkts[i] = xp_pktmbuf_clone(pkts[i - 4], mp);
		assert_non_null(pkts[i]);
	}
	/* Every header, taken or free, with its private area. */
	{
		struct tu_objset set;

		tu_objset_init(&set, mp);
		for (i = 0; i < N; i++) {
			all[i] = set.objs[i];
			memset(xp_mbuf_to_priv(all[i]), 0x5a, 16);
			memcpy((char *)copy + i * (sizeof(*copy) + 16), all[i],
			       sizeof(*copy) + 16);
		}
		tu_objset_fini(&set);
	}
	scribble_rooms(mp, all, N, 0xff);
	for (i = 0; i < N; i++)
		assert_memory_equal(all[i],
				    (char *)copy + i * (sizeof(*copy) + 16),
				    sizeof(*copy) + 16);
	for (i = 0; i < 8; i++) {
		assert_int_equal(xp_pktmbuf_check(pkts[i]), 0);
		/* The data did change: the scribble reached the rooms. */
		assert_int_equal(*xp_pktmbuf_mtod(pkts[i], uint8_t *), 0xff);
	}
	xp_pktmbuf_free_bulk(pkts, 8);
	assert_int_equal(xp_mempool_in_use_count(mp), 0);
	assert_int_equal(xp_mempool_audit(mp), 0);
	/* The pool hands out sound mbufs after that. */
	scribble_rooms(mp, all, N, 0x00);
	assert_int_equal(xp_pktmbuf_alloc_bulk(mp, all, N), 0);
	for (i = 0; i < N; i++)
		assert_reset(all[i], mp);
	xp_pktmbuf_free_bulk(all, N);
	free(copy);
	pool_done(mp);
}

static void test_scribble_rooms(void **state)
{
	(void)state;
	each_handler(scribble_case);
}

/* ---- 12. reference counts under threads --------------------------------- */

/*
 * Each round, the main thread makes a packet m and gives each worker a
 * clone of it; the workers, all at once, take and drop references on m
 * (attach or clone from their clone, check the data, free) while the main
 * thread drops its own and keeps taking every free mbuf of m's pool,
 * overwriting its room and freeing it again, until the workers are done
 * and a little longer: if m went back to its pool while a worker still
 * held it, the main thread would overwrite it and the worker would see it;
 * and once m is back, the main thread overwrites it before anything else
 * orders the workers' last reads before that write, so that under TSan
 * only the library's own ordering of the reference count does.  Workers
 * never assert (a failure would longjmp across threads): they count, and
 * the main thread checks the counts.
 */
#define MT_WORKERS 3
#define MT_DIRECT 8

struct mt_shared {
	pthread_barrier_t start, end;
	struct xp_mempool *mp, *cp;
	struct xp_mbuf *ref[MT_WORKERS];
	unsigned long iters;
	unsigned int done; /* workers that dropped their last reference */
	uint8_t seed;
	int use_clone;
	int quit;
};

struct mt_worker {
	pthread_t th;
	struct mt_shared *sh;
	unsigned int id;
	unsigned long ops;
	unsigned long bad;
};

/* The packet of the round: 200 bytes from @seed. */
static int mt_data_ok(const struct xp_mbuf *x, uint8_t seed)
{
	const uint8_t *p = xp_pktmbuf_mtod(x, const uint8_t *);

	return x->data_len == 200 && p[0] == tu_pat(seed, 0) &&
	       p[99] == tu_pat(seed, 99) && p[199] == tu_pat(seed, 199);
}

static void mt_round(struct mt_worker *w)
{
	struct mt_shared *sh = w->sh;
	struct xp_mbuf *ref = sh->ref[w->id], *x;
	unsigned long i;

	for (i = 0; i < sh->iters; i++) {
		if (sh->use_clone) {
			x = xp_pktmbuf_clone(ref, sh->cp);
		} else {
			x = xp_pktmbuf_alloc(sh->cp);
			if (x != NULL && xp_pktmbuf_attach(x, ref) != 0) {
				xp_pktmbuf_free(x);
				x = NULL;
			}
		}
		if (x == NULL) {
			w->bad++;
			continue;
		}
		if (x->direct != ref->direct || !mt_data_ok(x, sh->seed))
			w->bad++;
		xp_pktmbuf_free(x);
		w->ops += 2;
	}
	if (!mt_data_ok(ref, sh->seed))
		w->bad++;
	xp_pktmbuf_free(ref);
}

static void *mt_main(void *arg)
{
	struct mt_worker *w = arg;

	for (;;) {
		pthread_barrier_wait(&w->sh->start);
		if (w->sh->quit)
			break;
		mt_round(w);
		/* Relaxed: no order the library does not give itself. */
		__atomic_add_fetch(&w->sh->done, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&w->sh->end);
	}
	return NULL;
}

/* Workers done with the round, read without ordering anything. */
static unsigned int mt_done(const struct mt_shared *sh)
{
	return __atomic_load_n(&sh->done, __ATOMIC_RELAXED);
}

/* Take every free mbuf of the direct pool, overwrite its room, free. */
static void mt_churn(struct xp_mempool *mp)
{
	struct xp_mbuf *got[MT_DIRECT];
	unsigned int n = 0, i;

	while (n < MT_DIRECT && (got[n] = xp_pktmbuf_alloc(mp)) != NULL)
		n++;
	for (i = 0; i < n; i++)
		memset(got[i]->buf_addr, 0xee, got[i]->buf_len);
	xp_pktmbuf_free_bulk(got, n);
}

static void refcnt_mt_case(const char *handler, int use_clone)
{
	struct mt_worker w[MT_WORKERS];
	struct mt_shared sh;
	unsigned long rounds = tu_scaled(400, 20), r, ops = 0, k;
	struct xp_mbuf *m;
	unsigned int i;

	memset(&sh, 0, sizeof(sh));
	sh.iters = tu_scaled(6000, 500);
	sh.use_clone = use_clone;
	/* No cache on m's pool: an early return would reach the churn. */
	sh.mp = mk_pool(POOL, MT_DIRECT, 0, 0, 512, handler);
	sh.cp = mk_pool(CLONES, 64 * MT_WORKERS, 16, 0, HR, handler);
	assert_int_equal(pthread_barrier_init(&sh.start, NULL,
					      MT_WORKERS + 1),
			 0);
	assert_int_equal(pthread_barrier_init(&sh.end, NULL, MT_WORKERS + 1),
			 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < MT_WORKERS; i++) {
		w[i].sh = &sh;
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].th, NULL, mt_main,
						&w[i]),
				 0);
	}
	for (r = 0; r < rounds; r++) {
		sh.seed = (uint8_t)(r + 1);
		m = alloc_ok(sh.mp);
		tu_fill(m, 200, sh.seed);
		for (i = 0; i < MT_WORKERS; i++) {
			sh.ref[i] = xp_pktmbuf_clone(m, sh.cp);
			assert_non_null(sh.ref[i]);
		}
		sh.done = 0;
		pthread_barrier_wait(&sh.start);
		xp_pktmbuf_free(m);
		/* Yielding keeps a run where threads take turns (valgrind)
		 * from spinning out each time slice. */
		while (mt_done(&sh) < MT_WORKERS) {
			mt_churn(sh.mp);
			sched_yield();
		}
		for (k = 0; k < 4; k++)
			mt_churn(sh.mp);
		pthread_barrier_wait(&sh.end);
		/* Everybody is done with m: it is back, once. */
		assert_int_equal(xp_mempool_in_use_count(sh.mp), 0);
		assert_int_equal(xp_mempool_in_use_count(sh.cp), 0);
		assert_int_equal(xp_mempool_audit(sh.mp), 0);
	}
	sh.quit = 1;
	pthread_barrier_wait(&sh.start);
	for (i = 0; i < MT_WORKERS; i++) {
		assert_int_equal(pthread_join(w[i].th, NULL), 0);
		assert_int_equal(w[i].bad, 0);
		ops += w[i].ops;
	}
	/* Millions of reference updates unless the run is scaled down. */
	assert_true(ops >= 2 * rounds * sh.iters * MT_WORKERS);
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.end);
	pool_done(sh.cp);
	pool_done(sh.mp);
}

static void test_refcnt_mt_attach(void **state)
{
	unsigned int h;

	(void)state;
	for (h = 0; h < NHANDLERS; h += 2)
		refcnt_mt_case(handlers[h], 0);
}

static void test_refcnt_mt_clone(void **state)
{
	(void)state;
	refcnt_mt_case(FRAG, 1);
}

/*
 * Two holders let go one after the other with nothing but the reference
 * count between them: the worker reads the packet through its clone and
 * frees the clone; the main thread, which waits for that on a relaxed flag
 * (no ordering of its own), then frees the original, the last reference,
 * takes the mbuf again at once and overwrites the packet.  mbuf.h promises
 * that the last holder's free acquires what the others did to the packet:
 * under TSan, a free that does not is a race between the worker's read and
 * the main thread's write, in every round.
 */
struct handoff {
	pthread_barrier_t start;
	struct xp_mbuf *clone;
	unsigned long rounds;
	unsigned long dropped; /* rounds in which the worker let go */
	unsigned long bad;
	uint8_t seed;
};

static void *handoff_main(void *arg)
{
	struct handoff *h = arg;
	unsigned long r;

	for (r = 1; r <= h->rounds; r++) {
		pthread_barrier_wait(&h->start);
		if (!mt_data_ok(h->clone, h->seed))
			h->bad++;
		xp_pktmbuf_free(h->clone);
		__atomic_store_n(&h->dropped, r, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_refcnt_mt_handoff(void **state)
{
	struct xp_mempool *mp = mk_pool(POOL, 1, 0, 0, 512, NULL);
	struct xp_mempool *cp = mk_pool(CLONES, 1, 0, 0, HR, NULL);
	struct handoff h;
	struct xp_mbuf *m;
	pthread_t th;
	unsigned long r;

	(void)state;
	memset(&h, 0, sizeof(h));
	h.rounds = tu_scaled(2000, 50);
	assert_int_equal(pthread_barrier_init(&h.start, NULL, 2), 0);
	assert_int_equal(pthread_create(&th, NULL, handoff_main, &h), 0);
	for (r = 1; r <= h.rounds; r++) {
		h.seed = (uint8_t)r;
		m = alloc_ok(mp);
		tu_fill(m, 200, h.seed);
		h.clone = xp_pktmbuf_clone(m, cp);
		assert_non_null(h.clone);
		pthread_barrier_wait(&h.start);
		while (__atomic_load_n(&h.dropped, __ATOMIC_RELAXED) != r)
			sched_yield();
		xp_pktmbuf_free(m);
		/* The pool's only mbuf: m, back. */
		assert_ptr_equal(alloc_ok(mp), m);
		memset(m->buf_addr, 0xee, m->buf_len);
		xp_pktmbuf_free(m);
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(h.bad, 0);
	pthread_barrier_destroy(&h.start);
	pool_done(cp);
	pool_done(mp);
}

#define TEST(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_layout),
		TEST(test_create_ok),
		TEST(test_create_default),
		TEST(test_create_errors),
		TEST(test_create_enomem),
		TEST(test_alloc_free),
		TEST(test_free_bulk_runs),
		TEST(test_data_ops),
		TEST(test_mtod_mtophys),
		TEST(test_chain),
		TEST(test_chain_overflow),
		TEST(test_clone_free_orders),
		TEST(test_clone_mixed_chain),
		TEST(test_clone_long_chain),
		TEST(test_clone_errors),
		TEST(test_attach_errors),
		TEST(test_attach_detach),
		TEST(test_detach_chained),
		TEST(test_buf_phys),
		TEST(test_priv),
		TEST(test_check),
		TEST(test_scribble_rooms),
		TEST(test_refcnt_mt_attach),
		TEST(test_refcnt_mt_clone),
		TEST(test_refcnt_mt_handoff),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
