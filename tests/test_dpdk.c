/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK mempool driver xen_dom0 (dpdk/mempool_xenpool.c), loaded as an
 * unchanged application loads it: EAL's -d, then pools that name it.  Under
 * the mock hypervisor with scattered frames, the shim is the oracle: every
 * object's and every data room's IOVA is checked against the frame the
 * shim handed out (bus policy), or against its virtual address (va
 * policy); every memory chunk DPDK records against the pool's chunks; no
 * data room crosses a frame discontinuity; each refusal leaves no grant
 * behind and no pool.  DPDK's log is captured (rte_openlog_stream) to check
 * what the driver says.
 *
 * Usage: test_dpdk          the cmocka tests
 *        test_dpdk full     DPDK's ops table full before the driver loads:
 *                           it must say so on stderr (exit 0 if it did)
 *        test_dpdk full1    one slot free: xen_dom0 takes it, and the
 *                           driver says that the other handler asked for
 *                           has none
 * Needs top_builddir (make check sets it) to find the driver and xen_dom0.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <xenpool/dpdk.h>
#include <xenpool/xenpool.h>

#include "xpshim.h"

#define T_PAGE 4096u
#define T_NO_FRAME UINT64_MAX
#define T_DRIVER "dpdk/.libs/librte_mempool_xenpool.so"

static char driver_path[PATH_MAX];

/* ---- DPDK's log, captured ------------------------------------------- */

static char *log_buf;
static size_t log_len;
static FILE *log_stream;

static void log_begin(void)
{
	log_stream = open_memstream(&log_buf, &log_len);
	assert_non_null(log_stream);
	assert_int_equal(rte_openlog_stream(log_stream), 0);
}

/* The log since log_begin(), NUL-terminated; free() it. */
static char *log_end(void)
{
	char *s;

	rte_openlog_stream(NULL);
	fclose(log_stream);
	log_stream = NULL;
	s = log_buf;
	log_buf = NULL;
	return s;
}

/* ---- the shim --------------------------------------------------------- */

static void shim_reset(enum xpshim_absent absent)
{
	struct xpshim_config cfg;

	xpshim_default_config(&cfg);
	cfg.contig = XPSHIM_CONTIG_RANDOM;
	cfg.max_run = 4;
	cfg.seed = 11;
	cfg.limit = 16384;
	cfg.absent = absent;
	xpshim_reset(&cfg);
}

/* The bus address of @p va the shim knows: its frame and offset. */
static uint64_t shim_bus(const void *va)
{
	uint64_t f = xpshim_frame_of(va);

	return f == T_NO_FRAME ? RTE_BAD_IOVA
			       : f * T_PAGE + ((uintptr_t)va & (T_PAGE - 1));
}

/* [va, va + len) lies in frames that follow each other. */
static int frames_contiguous(const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va & ~(uintptr_t)(T_PAGE - 1);
	uintptr_t end = (uintptr_t)va + len;
	uint64_t f = xpshim_frame_of((void *)a);

	if (f == T_NO_FRAME)
		return 0;
	for (a += T_PAGE; a < end; a += T_PAGE)
		if (xpshim_frame_of((void *)a) != ++f)
			return 0;
	return 1;
}

/* ---- pools ------------------------------------------------------------- */

#define T_ROOM (RTE_PKTMBUF_HEADROOM + 1500u)

/*
 * An mbuf pool of @p n on the driver, built the way rte_pktmbuf_pool_create
 * does, but with @p args as the pool's configuration (NULL: the
 * environment's).  NULL with rte_errno on failure, and no pool left.
 */
static struct rte_mempool *mk_mbuf_pool(const char *name, unsigned int n,
					unsigned int cache, const char *args)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = T_ROOM,
		.mbuf_priv_size = 0,
	};
	struct rte_mempool *mp;
	int ret;

	mp = rte_mempool_create_empty(name, n,
				      sizeof(struct rte_mbuf) + T_ROOM, cache,
				      sizeof(priv), SOCKET_ID_ANY, 0);
	assert_non_null(mp);
	assert_int_equal(rte_mempool_set_ops_byname(mp, "xen_dom0",
						    (void *)(uintptr_t)args),
			 0);
	rte_pktmbuf_pool_init(mp, &priv);
	ret = rte_mempool_populate_default(mp);
	if (ret < 0) {
		rte_mempool_free(mp);
		rte_errno = -ret;
		return NULL;
	}
	assert_int_equal(ret, (int)n);
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

struct check {
	int bus;            /* 1: bus policy, 0: va policy */
	int shared;         /* the memory came from the shim */
	unsigned int objs;
	size_t chunk_bytes;
	unsigned int chunks;
};

static uint64_t want_iova(const struct check *c, const void *va)
{
	return c->bus ? shim_bus(va) : (uint64_t)(uintptr_t)va;
}

static void check_mbuf(struct rte_mempool *mp, void *arg, void *obj,
		       unsigned int idx)
{
	struct check *c = arg;
	struct rte_mbuf *m = obj;

	(void)idx;
	assert_ptr_equal(m->pool, mp);
	assert_true(rte_mempool_virt2iova(m) == want_iova(c, m));
	assert_true(m->buf_iova == want_iova(c, m->buf_addr));
	assert_int_equal(m->buf_len, T_ROOM);
	if (c->shared) {
		/* Headers in granted memory (an unchanged application's
		 * layout); the data room on contiguous frames. */
		assert_true(xpshim_frame_of(m) != T_NO_FRAME);
		assert_true(frames_contiguous(m->buf_addr, m->buf_len));
	}
	assert_int_equal(rte_mbuf_check(m, 0, NULL), 0);
	c->objs++;
}

static void check_chunk(struct rte_mempool *mp, void *arg,
			struct rte_mempool_memhdr *h, unsigned int idx)
{
	struct check *c = arg;

	(void)mp;
	(void)idx;
	/* DPDK's own memzone (one page, unused) has its own IOVA. */
	if (c->shared && xpshim_frame_of(h->addr) == T_NO_FRAME)
		return;
	assert_true(h->iova == want_iova(c, h->addr));
	if (c->shared)
		assert_true(frames_contiguous(h->addr, h->len));
	c->chunk_bytes += h->len;
	c->chunks++;
}

/* Every mbuf and chunk of @p mp as the policy says; all of them usable. */
static void check_pool(struct rte_mempool *mp, int bus, int shared)
{
	struct check c = {.bus = bus, .shared = shared};
	struct rte_mbuf **m;
	unsigned int i;

	assert_int_equal(rte_mempool_obj_iter(mp, check_mbuf, &c), mp->size);
	assert_int_equal(c.objs, mp->size);
	rte_mempool_mem_iter(mp, check_chunk, &c);
	assert_true(c.chunks >= 1);
	assert_true(c.chunk_bytes >= (size_t)mp->size * (mp->header_size +
							   mp->elt_size));
	assert_int_equal(rte_mempool_avail_count(mp), mp->size);
	m = calloc(mp->size + 1, sizeof(*m));
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_alloc_bulk(mp, m, mp->size), 0);
	/* One more than the pool has: refused, nothing taken. */
	assert_null(rte_pktmbuf_alloc(mp));
	for (i = 0; i < mp->size; i++)
		memset(rte_pktmbuf_mtod(m[i], char *), (int)i, 64);
	assert_int_equal(rte_mempool_in_use_count(mp), mp->size);
	rte_pktmbuf_free_bulk(m, mp->size);
	assert_int_equal(rte_mempool_avail_count(mp), mp->size);
	free(m);
}

/* ---- tests --------------------------------------------------------------- */

/* Bus policy, read-only grants, configuration from pool_config. */
static void test_bus(void **state)
{
	struct rte_mempool *mp;
	char *log;

	(void)state;
	shim_reset(XPSHIM_PRESENT);
	log_begin();
	mp = mk_mbuf_pool("t_bus", 1000, 32, "writable=0,iova=bus");
	log = log_end();
	assert_non_null(mp);
	assert_non_null(strstr(log, "on xenpool's xen_dom0, IOVA: bus"));
	free(log);
	/* The frames are scattered: several chunks. */
	assert_true(mp->nb_mem_chunks > 2);
	check_pool(mp, 1, 1);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* The environment's arguments, for applications that give none; the
 * default policy in IOVA-as-VA mode (--no-huge) keeps iova == va. */
static void test_env_va(void **state)
{
	struct rte_mempool *mp;

	(void)state;
	shim_reset(XPSHIM_PRESENT);
	assert_int_equal(rte_eal_iova_mode(), RTE_IOVA_VA);
	setenv("XENPOOL_DPDK_ARGS", "writable=0", 1);
	mp = rte_pktmbuf_pool_create_by_ops("t_env", 500, 16, 0, T_ROOM,
					    SOCKET_ID_ANY, "xen_dom0");
	unsetenv("XENPOOL_DPDK_ARGS");
	assert_non_null(mp);
	check_pool(mp, 0, 1);
	assert_true(rte_mempool_virt2iova(mp) != RTE_BAD_IOVA);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());

	/* trust_peer=1: read-write grants accepted. */
	shim_reset(XPSHIM_PRESENT);
	setenv("XENPOOL_DPDK_ARGS", "trust_peer=1,iova=bus", 1);
	mp = rte_pktmbuf_pool_create_by_ops("t_trust", 300, 0, 0, T_ROOM,
					    SOCKET_ID_ANY, "xen_dom0");
	unsetenv("XENPOOL_DPDK_ARGS");
	assert_non_null(mp);
	check_pool(mp, 1, 1);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* Without Xen: the default handler serves, and the log says so. */
static void test_fallback(void **state)
{
	struct rte_mempool *mp;
	char *log;

	(void)state;
	shim_reset(XPSHIM_ABSENT_ENOENT);
	log_begin();
	mp = mk_mbuf_pool("t_fb", 400, 0, "iova=bus");
	log = log_end();
	assert_non_null(mp);
	assert_non_null(strstr(log, "on xenpool's ring_mp_mc"));
	/* No bus addresses in anonymous memory: virtual ones, in VA mode. */
	assert_non_null(strstr(log, "IOVA: virtual addresses"));
	free(log);
	check_pool(mp, 0, 0);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* A pool that fails leaves no pool, no xenpool pool and no grant. */
static void refused(const char *name, const char *args, int err,
		    const char *says)
{
	char *log;

	shim_reset(XPSHIM_PRESENT);
	rte_errno = 0;
	log_begin();
	assert_null(mk_mbuf_pool(name, 100, 0, args));
	log = log_end();
	assert_int_equal(rte_errno, err);
	if (strstr(log, says) == NULL)
		fail_msg("log lacks \"%s\": %s", says, log);
	free(log);
	assert_null(rte_mempool_lookup(name));
	assert_true(xpshim_no_leaks());
}

static void test_refusals(void **state)
{
	char longargs[600];

	(void)state;
	/* The isolation rule: read-write grants, no trust_peer. */
	refused("t_iso", NULL, EPERM, "the peer could rewrite them");
	refused("t_iso2", "trust_peer=0", EPERM, "trust_peer=1");
	refused("t_iova", "writable=0,iova=pa", EINVAL, "iova=va, iova=bus");
	refused("t_trust", "writable=0,trust_peer=2", EINVAL,
		"trust_peer=0 or trust_peer=1");
	/* xen_dom0's own keys are xen_dom0's to check. */
	refused("t_key", "writable=0,bogus=1", EINVAL, "bogus");
	memset(longargs, 'a', sizeof(longargs) - 1);
	longargs[sizeof(longargs) - 1] = '\0';
	refused("t_long", longargs, EINVAL, "arguments longer than");
	/* More pages than the gntalloc limit allows. */
	{
		struct xpshim_config cfg;
		char *log;

		xpshim_default_config(&cfg);
		cfg.limit = 8;
		xpshim_reset(&cfg);
		log_begin();
		assert_null(mk_mbuf_pool("t_limit", 100, 0, "writable=0"));
		log = log_end();
		assert_int_equal(rte_errno, ENOSPC);
		assert_non_null(strstr(log, "gntalloc limit"));
		free(log);
		assert_null(rte_mempool_lookup("t_limit"));
		assert_true(xpshim_no_leaks());
	}
}

/* get and put through the driver, without DPDK's cache. */
static void test_get_put(void **state)
{
	struct rte_mempool *mp;
	void *objs[257];
	unsigned int i;

	(void)state;
	shim_reset(XPSHIM_PRESENT);
	mp = rte_mempool_create_empty("t_gp", 256, 200, 0, 0, SOCKET_ID_ANY,
				      RTE_MEMPOOL_F_SP_PUT |
					      RTE_MEMPOOL_F_SC_GET);
	assert_non_null(mp);
	assert_int_equal(rte_mempool_set_ops_byname(mp, "xen_dom0",
						    "writable=0,iova=bus"),
			 0);
	assert_int_equal(rte_mempool_populate_default(mp), 256);
	/* -ENOBUFS, as DPDK's ring driver says it. */
	assert_int_equal(rte_mempool_get_bulk(mp, objs, 257), -ENOBUFS);
	assert_int_equal(rte_mempool_avail_count(mp), 256);
	for (i = 1; i <= 64; i *= 4) {
		assert_int_equal(rte_mempool_get_bulk(mp, objs, i), 0);
		assert_ptr_equal(rte_mempool_from_obj(objs[0]), mp);
		assert_true(rte_mempool_virt2iova(objs[i - 1]) ==
			    shim_bus(objs[i - 1]));
		assert_int_equal(rte_mempool_avail_count(mp), 256 - i);
		rte_mempool_put_bulk(mp, objs, i);
	}
	assert_int_equal(rte_mempool_get_bulk(mp, objs, 256), 0);
	assert_int_equal(rte_mempool_avail_count(mp), 0);
	assert_int_equal(rte_mempool_get(mp, &objs[256]), -ENOBUFS);
	rte_mempool_put_bulk(mp, objs, 256);
	assert_int_equal(rte_mempool_avail_count(mp), 256);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* Other xenpool handlers through the driver (XENPOOL_DPDK_HANDLERS, set
 * by main before EAL loads the driver). */
static void test_other_handlers(void **state)
{
	struct rte_pktmbuf_pool_private priv = {
		.mbuf_data_room_size = T_ROOM,
	};
	struct rte_mempool *mp;
	char *log;

	(void)state;
	shim_reset(XPSHIM_PRESENT);
	mp = rte_pktmbuf_pool_create_by_ops("t_h", 200, 8, 0, T_ROOM,
					    SOCKET_ID_ANY, "xp:ring_sp_mc");
	assert_non_null(mp);
	assert_string_equal(
		xp_mempool_handler_name(xp_mempool_lookup("dpdk:t_h")),
		"ring_sp_mc");
	check_pool(mp, 0, 0);
	rte_mempool_free(mp);
	assert_null(xp_mempool_lookup("dpdk:t_h"));

	/* Registered by name, but no such xenpool handler. */
	mp = rte_mempool_create_empty("t_h2", 10, 64, 0, sizeof(priv),
				      SOCKET_ID_ANY, 0);
	assert_non_null(mp);
	assert_int_equal(rte_mempool_set_ops_byname(mp, "xp:no_such", NULL),
			 0);
	log_begin();
	assert_int_equal(rte_mempool_populate_default(mp), -ENOENT);
	log = log_end();
	assert_non_null(strstr(log, "on xenpool's no_such"));
	free(log);
	rte_mempool_free(mp);
	/* A name too long for DPDK's table was not registered. */
	mp = rte_mempool_create_empty("t_h3", 10, 64, 0, 0, SOCKET_ID_ANY, 0);
	assert_non_null(mp);
	assert_true(rte_mempool_set_ops_byname(
			    mp, "xp:a_handler_name_of_thirty_chars", NULL) < 0);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* ---- headers-private pools (<xenpool/dpdk.h>) -------------------------- */

struct ext_check {
	int bus;
	int shared;
	unsigned int objs;
	uintptr_t *rooms;
};

static void check_ext_mbuf(struct rte_mempool *mp, void *arg, void *obj,
			   unsigned int idx)
{
	struct ext_check *c = arg;
	struct rte_mbuf *m = obj;

	(void)idx;
	assert_ptr_equal(m->pool, mp);
	assert_true(RTE_MBUF_HAS_PINNED_EXTBUF(m));
	assert_int_equal(m->buf_len, T_ROOM);
	assert_int_equal(m->priv_size, 16);
	assert_true(m->buf_iova == (c->bus ? shim_bus(m->buf_addr)
					   : (uint64_t)(uintptr_t)m->buf_addr));
	/* The header never in shared memory; the room always, on
	 * contiguous frames. */
	assert_true(xpshim_frame_of(m) == T_NO_FRAME);
	if (c->shared) {
		assert_true(xpshim_frame_of(m->buf_addr) != T_NO_FRAME);
		assert_true(frames_contiguous(m->buf_addr, m->buf_len));
	}
	assert_int_equal(rte_mbuf_check(m, 1, NULL), 0);
	c->rooms[c->objs++] = (uintptr_t)m->buf_addr;
}

static int cmp_uptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Every mbuf of a headers-private pool, its rooms distinct, all usable. */
static void check_private_pool(struct rte_mempool *mp, int bus, int shared)
{
	struct ext_check c = {.bus = bus, .shared = shared};
	struct rte_mbuf **m, *clone;
	struct rte_mempool *clones;
	unsigned int i;

	clones = rte_pktmbuf_pool_create_by_ops("t_clones", 15, 0, 0, 0,
						SOCKET_ID_ANY, "ring_mp_mc");
	assert_non_null(clones);

	/* The headers on DPDK's ring driver, whatever the preferred ops. */
	assert_string_equal(rte_mempool_get_ops(mp->ops_index)->name,
			    "ring_mp_mc");
	c.rooms = calloc(mp->size, sizeof(*c.rooms));
	assert_non_null(c.rooms);
	assert_int_equal(rte_mempool_obj_iter(mp, check_ext_mbuf, &c),
			 mp->size);
	qsort(c.rooms, mp->size, sizeof(*c.rooms), cmp_uptr);
	for (i = 1; i < mp->size; i++)
		assert_true(c.rooms[i] >= c.rooms[i - 1] + T_ROOM);
	free(c.rooms);
	m = calloc(mp->size, sizeof(*m));
	assert_non_null(m);
	assert_int_equal(rte_pktmbuf_alloc_bulk(mp, m, mp->size), 0);
	assert_null(rte_pktmbuf_alloc(mp));
	for (i = 0; i < mp->size; i++)
		memset(rte_pktmbuf_mtod(m[i], char *), (int)i, 64);
	rte_pktmbuf_free_bulk(m, mp->size);
	assert_int_equal(rte_mempool_avail_count(mp), mp->size);
	/* A clone (from a pool of plain mbufs, as DPDK wants) shares the
	 * pinned room; the room's owner comes back to its pool when the last
	 * reference goes, through the room's free callback. */
	m[0] = rte_pktmbuf_alloc(mp);
	assert_non_null(m[0]);
	clone = rte_pktmbuf_clone(m[0], clones);
	assert_non_null(clone);
	assert_ptr_equal(clone->buf_addr, m[0]->buf_addr);
	assert_true(clone->buf_iova == m[0]->buf_iova);
	rte_pktmbuf_free(m[0]);
	assert_int_equal(rte_mempool_avail_count(mp), mp->size - 1);
	rte_pktmbuf_free(clone);
	assert_int_equal(rte_mempool_avail_count(mp), mp->size);
	assert_int_equal(rte_mempool_avail_count(clones), clones->size);
	rte_mempool_free(clones);
	free(m);
}

static void test_private_headers(void **state)
{
	struct rte_mempool *mp;
	struct xp_mempool *rooms;
	char *log;

	(void)state;
	/* Read-write grants: the peer may write the rooms, not a header. */
	shim_reset(XPSHIM_PRESENT);
	log_begin();
	mp = xp_dpdk_pktmbuf_pool_create("t_priv", 600, 32, 16, T_ROOM,
					 SOCKET_ID_ANY, "iova=bus");
	log = log_end();
	assert_non_null(mp);
	assert_non_null(strstr(log, "headers on DPDK's ring_mp_mc, data rooms"));
	free(log);
	rooms = xp_dpdk_pktmbuf_pool_rooms(mp);
	assert_non_null(rooms);
	assert_ptr_equal(xp_mempool_lookup("dpdkx:t_priv"), rooms);
	assert_string_equal(xp_mempool_handler_name(rooms), "xen_dom0");
	/* Every room pinned to its mbuf: none left to hand out. */
	assert_int_equal(xp_mempool_in_use_count(rooms), 600);
	assert_null(xp_dpdk_pktmbuf_pool_rooms(NULL));
	check_private_pool(mp, 1, 1);
	/* rte_mempool_free() frees the rooms too. */
	rte_mempool_free(mp);
	assert_null(xp_mempool_lookup("dpdkx:t_priv"));
	assert_true(xpshim_no_leaks());

	/* The default IOVA in VA mode. */
	shim_reset(XPSHIM_PRESENT);
	mp = xp_dpdk_pktmbuf_pool_create("t_priv_va", 100, 0, 16, T_ROOM,
					 SOCKET_ID_ANY, NULL);
	assert_non_null(mp);
	check_private_pool(mp, 0, 1);
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());

	/* Without Xen: the rooms on the default handler, whose memory has
	 * no bus addresses: iova=bus gives virtual ones in VA mode. */
	shim_reset(XPSHIM_ABSENT_ENOENT);
	mp = xp_dpdk_pktmbuf_pool_create("t_priv_fb", 100, 0, 16, T_ROOM,
					 SOCKET_ID_ANY, "iova=bus");
	assert_non_null(mp);
	assert_string_equal(
		xp_mempool_handler_name(xp_dpdk_pktmbuf_pool_rooms(mp)),
		"ring_mp_mc");
	check_private_pool(mp, 0, 0);
	assert_null(xp_dpdk_pktmbuf_pool_rooms(rte_mempool_lookup("t_gp")));
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
}

/* Each error, and nothing left: no DPDK pool, no xenpool pool, no grant. */
static void private_refused(const char *name, unsigned int n, uint16_t priv,
			    uint16_t room, const char *args, int err)
{
	char xname[64];

	rte_errno = 0;
	assert_null(xp_dpdk_pktmbuf_pool_create(name, n, 0, priv, room,
						SOCKET_ID_ANY, args));
	assert_int_equal(rte_errno, err);
	if (name != NULL && strlen(name) < 32) {
		snprintf(xname, sizeof(xname), "dpdkx:%s", name);
		assert_null(xp_mempool_lookup(xname));
		assert_null(rte_mempool_lookup(name));
	}
	assert_true(xpshim_no_leaks());
}

static void test_private_errors(void **state)
{
	struct xpshim_config cfg;
	struct rte_mempool *mp;

	(void)state;
	shim_reset(XPSHIM_PRESENT);
	private_refused(NULL, 10, 0, T_ROOM, NULL, EINVAL);
	private_refused("t_pe", 0, 0, T_ROOM, NULL, EINVAL);
	private_refused("t_pe", 10, 0, 0, NULL, EINVAL);
	private_refused("t_pe", 10, 3, T_ROOM, NULL, EINVAL);
	private_refused("t_pe_name_that_is_far_too_long", 10, 0, T_ROOM, NULL,
			ENAMETOOLONG);
	private_refused("t_pe", 10, 0, T_ROOM, "iova=pa", EINVAL);
	private_refused("t_pe", 10, 0, T_ROOM, "bogus=1", EINVAL);
	mp = xp_dpdk_pktmbuf_pool_create("t_pe", 10, 0, 0, T_ROOM,
					 SOCKET_ID_ANY, NULL);
	assert_non_null(mp);
	/* The existing pool keeps its rooms; nothing else is made. */
	rte_errno = 0;
	assert_null(xp_dpdk_pktmbuf_pool_create("t_pe", 10, 0, 0, T_ROOM,
						SOCKET_ID_ANY, NULL));
	assert_int_equal(rte_errno, EEXIST);
	assert_ptr_equal(xp_dpdk_pktmbuf_pool_rooms(mp),
			 xp_mempool_lookup("dpdkx:t_pe"));
	rte_mempool_free(mp);
	assert_true(xpshim_no_leaks());
	xpshim_default_config(&cfg);
	cfg.limit = 8;
	xpshim_reset(&cfg);
	private_refused("t_pe", 100, 0, T_ROOM, NULL, ENOSPC);
}

static int group_setup(void **state)
{
	char *argv[] = {
		"test_dpdk", "--no-huge", "--no-pci", "-m", "128",
		"--no-shconf", "--no-telemetry", "--log-level=lib.eal:error",
		"-d", driver_path, "--mbuf-pool-ops-name=xen_dom0",
	};

	(void)state;
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

/* ---- the full table ------------------------------------------------------ */

static int dummy_alloc(struct rte_mempool *mp)
{
	(void)mp;
	return -ENOTSUP;
}

static void dummy_free(struct rte_mempool *mp)
{
	(void)mp;
}

static int dummy_enqueue(struct rte_mempool *mp, void *const *t,
			 unsigned int n)
{
	(void)mp;
	(void)t;
	(void)n;
	return -ENOTSUP;
}

static int dummy_dequeue(struct rte_mempool *mp, void **t, unsigned int n)
{
	(void)mp;
	(void)t;
	(void)n;
	return -ENOTSUP;
}

static unsigned int dummy_count(const struct rte_mempool *mp)
{
	(void)mp;
	return 0;
}

/*
 * Fill DPDK's table but @p free slots, load the driver (asked for one more
 * handler), and find its message on stderr: with no slot left, about
 * xen_dom0; with one, xen_dom0 takes it and the message is about the
 * other.
 */
static int run_full(unsigned int free_slots)
{
	struct rte_mempool_ops ops = {
		.alloc = dummy_alloc,
		.free = dummy_free,
		.enqueue = dummy_enqueue,
		.dequeue = dummy_dequeue,
		.get_count = dummy_count,
	};
	char buf[4096];
	FILE *tmp = tmpfile();
	unsigned int i;
	size_t len;
	int saved;

	for (i = 0; rte_mempool_ops_table.num_ops <
		    RTE_MEMPOOL_MAX_OPS_IDX - free_slots;
	     i++) {
		snprintf(ops.name, sizeof(ops.name), "t_dummy%u", i);
		if (rte_mempool_register_ops(&ops) < 0)
			return 2;
	}
	if (tmp == NULL)
		return 2;
	setenv("XENPOOL_DPDK_HANDLERS", "ring_mp_mc", 1);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	if (dlopen(driver_path, RTLD_NOW) == NULL)
		return 3;
	fflush(stderr);
	dup2(saved, 2);
	rewind(tmp);
	len = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[len] = '\0';
	fputs(buf, stderr);
	if (free_slots == 0 &&
	    (strstr(buf, "cannot register the mempool ops \"xen_dom0\"") ==
		     NULL ||
	     strstr(buf, "t_dummy15") == NULL))
		return 1;
	if (free_slots == 1 &&
	    (strstr(buf, "cannot register the mempool ops \"xp:ring_mp_mc\"") ==
		     NULL ||
	     strstr(buf, "t_dummy14 xen_dom0") == NULL))
		return 1;
	printf("the driver said it\n");
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus),
		cmocka_unit_test(test_env_va),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_get_put),
		cmocka_unit_test(test_other_handlers),
		cmocka_unit_test(test_private_headers),
		cmocka_unit_test(test_private_errors),
	};
	const char *top = getenv("top_builddir");
	char drivers[PATH_MAX];

	if (top == NULL)
		top = ".";
	if (realpath(top, drivers) == NULL)
		return 2;
	if (strlen(drivers) + sizeof("/" T_DRIVER) > sizeof(driver_path))
		return 2;
	strcpy(driver_path, drivers);
	strcat(driver_path, "/" T_DRIVER);
	/* xen_dom0 is found by name, from the build tree's driver. */
	strncat(drivers, "/xen/.libs", sizeof(drivers) - strlen(drivers) - 1);
	setenv("XENPOOL_DRIVERS", drivers, 1);
	unsetenv("XENPOOL_DPDK_ARGS");
	if (argc == 2 && strcmp(argv[1], "full") == 0)
		return run_full(0);
	if (argc == 2 && strcmp(argv[1], "full1") == 0)
		return run_full(1);
	setenv("XENPOOL_DPDK_HANDLERS",
	       "ring_sp_mc,no_such,a_handler_name_of_thirty_chars", 1);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
