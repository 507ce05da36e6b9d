/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DPDK 22.11 back end of the benchmark: rte_mempool on "ring_mp_mc" (the
 * default ops of rte_mempool_create), the bare rte_ring, virt2iova and
 * rte_pktmbuf, plus starting the EAL.
 *
 * The EAL runs with --no-huge (these machines have no hugepages; 512 MiB of
 * anonymous memory is enough for every pool of the benchmark), --no-pci (no
 * device is needed, and probing would need privileges), --no-shconf (no
 * shared config file or multi-process socket: several processes, the
 * callgrind run among them, may run at once), --no-telemetry (no socket),
 * and -l with the one CPU the main thread is pinned to.  The other thread of
 * the two-thread rows registers itself (rte_thread_register) to get an lcore
 * id, and with it a cache in each pool, as an EAL worker would have.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_version.h>

#include "bench/bench.h"

struct dp_ctx {
	/* per role; first: page aligned; used from bench_shift on */
	void *objs[2][BENCH_MAX_KEEP + BENCH_SHIFT_SPAN];
	struct rte_mbuf *mbufs[BENCH_MAX_KEEP + BENCH_SHIFT_SPAN];
	struct bench_row row;
	struct rte_mempool *mp;
	struct rte_ring *ring;  /* BK_RING */
	struct bench_spsc xfer; /* BK_PRODCONS */
	unsigned int nheld;     /* BK_V2P_*: objects held in objs[1] */
	void *extra;            /* held to set the cache fill's parity */
};

static unsigned int pool_seq;
static char eal_args[256];

/* ---- loops -------------------------------------------------------------- */

BENCH_INLINE int pool_loop(struct rte_mempool *mp, void **objs,
			   unsigned int keep, uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (rte_mempool_get_bulk(mp, &objs[i], b) != 0)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			rte_mempool_put_bulk(mp, &objs[i], b);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		rte_mempool_put_bulk(mp, &objs[j], b);
	return -ENOBUFS;
}

BENCH_INLINE int handler_loop(struct rte_mempool *mp, void **objs,
			      unsigned int keep, uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (rte_mempool_generic_get(mp, &objs[i], b, NULL) != 0)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			rte_mempool_generic_put(mp, &objs[i], b, NULL);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		rte_mempool_generic_put(mp, &objs[j], b, NULL);
	return -ENOBUFS;
}

BENCH_INLINE int ring_loop(struct rte_ring *r, void **objs, unsigned int keep,
			   uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (rte_ring_mc_dequeue_bulk(r, &objs[i], b, NULL) != b)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			(void)rte_ring_mp_enqueue_bulk(r, &objs[i], b, NULL);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		(void)rte_ring_mp_enqueue_bulk(r, &objs[j], b, NULL);
	return -ENOBUFS;
}

BENCH_INLINE int produce(struct dp_ctx *c, uint64_t iters, unsigned int b)
{
	void **objs = c->objs[0] + bench_shift;
	unsigned int spins = 0;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		while (rte_mempool_get_bulk(c->mp, objs, b) != 0)
			bench_wait_a_little(&spins);
		while (!bench_spsc_put(&c->xfer, objs, b))
			bench_wait_a_little(&spins);
	}
	return 0;
}

BENCH_INLINE int consume(struct dp_ctx *c, uint64_t iters, unsigned int b)
{
	void **objs = c->objs[1] + bench_shift;
	unsigned int spins = 0;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		while (!bench_spsc_get(&c->xfer, objs, b))
			bench_wait_a_little(&spins);
		rte_mempool_put_bulk(c->mp, objs, b);
	}
	return 0;
}

static int v2p_pool_loop(struct dp_ctx *c, uint64_t iters)
{
	uint64_t it, sum = 0;
	unsigned int i;

	for (it = 0; it < iters; it++)
		for (i = 0; i < c->nheld; i++)
			sum += rte_mempool_virt2iova(c->objs[1][i]);
	bench_sink += sum;
	return 0;
}

static int v2p_mem_loop(struct dp_ctx *c, uint64_t iters)
{
	uint64_t it, sum = 0;
	unsigned int i;

	for (it = 0; it < iters; it++)
		for (i = 0; i < c->nheld; i++)
			sum += rte_mem_virt2iova(c->objs[1][i]);
	bench_sink += sum;
	return 0;
}

BENCH_INLINE int mbuf_loop(struct rte_mempool *mp, struct rte_mbuf **m,
			   uint64_t iters, unsigned int b)
{
	uint64_t it;

	for (it = 0; it < iters; it++) {
		if (rte_pktmbuf_alloc_bulk(mp, m, b) != 0)
			return -ENOBUFS;
		rte_pktmbuf_free_bulk(m, b);
	}
	return 0;
}

/* ---- runtime bursts (bench.h, BENCH_OPAQUE) ------------------------------ */

static BENCH_OPAQUE int pool_loop_rt(struct rte_mempool *mp, void **objs,
				     unsigned int keep, uint64_t iters,
				     unsigned int b)
{
	return pool_loop(mp, objs, keep, iters, b);
}

static BENCH_OPAQUE int mbuf_loop_rt(struct rte_mempool *mp, struct rte_mbuf **m,
				     uint64_t iters, unsigned int b)
{
	return mbuf_loop(mp, m, iters, b);
}

/* Transmit completion: get a constant 32, put them back in the runtime
 * counts of bench_txc_counts. */
static BENCH_OPAQUE int txc_loop(struct rte_mempool *mp, void **objs, uint64_t iters)
{
	unsigned int pos = 0, i, k;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		if (rte_mempool_get_bulk(mp, objs, 32) != 0)
			return -ENOBUFS;
		for (i = 0; i < 32; i += k) {
			k = bench_txc_counts[pos];
			pos = pos + 1 < BENCH_TXC_LEN ? pos + 1 : 0;
			rte_mempool_put_bulk(mp, &objs[i], k);
		}
	}
	return 0;
}

/* Take one object or none so that this thread's cache holds an odd
 * (@fill 1) or even (@fill 0) number; 1 if one was taken. */
static int set_fill(struct dp_ctx *c, int fill)
{
	struct rte_mempool_cache *pc;

	if (fill < 0)
		return 0;
	pc = rte_mempool_default_cache(c->mp, rte_lcore_id());
	if (pc == NULL || (int)(pc->len & 1) == fill)
		return 0;
	return rte_mempool_get(c->mp, &c->extra) == 0;
}

static int pool_run(struct dp_ctx *c, void **objs, uint64_t iters)
{
	const struct bench_row *r = &c->row;
	int held = set_fill(c, r->fill), ret;

	if (r->rt)
		ret = pool_loop_rt(c->mp, objs, r->keep, iters,
				   bench_opaque(r->bulk));
	else
		ret = BENCH_BURST_CALL(r->bulk, pool_loop, c->mp, objs,
				       r->keep, iters);
	if (held)
		rte_mempool_put(c->mp, c->extra);
	return ret;
}

static int dp_run(void *ctx, unsigned int role, uint64_t iters)
{
	struct dp_ctx *c = ctx;
	const struct bench_row *r = &c->row;
	void **objs = c->objs[role] + bench_shift;

	switch (r->kind) {
	case BK_POOL:
		return pool_run(c, objs, iters);
	case BK_HANDLER:
		return BENCH_BULK_CALL(r->bulk, handler_loop, c->mp, objs,
				       r->keep, iters);
	case BK_RING:
		return BENCH_BULK_CALL(r->bulk, ring_loop, c->ring, objs,
				       r->keep, iters);
	case BK_PRODCONS:
		if (role == 0)
			return BENCH_BULK_CALL(r->bulk, produce, c, iters);
		return BENCH_BULK_CALL(r->bulk, consume, c, iters);
	case BK_V2P_POOL:
		return v2p_pool_loop(c, iters);
	case BK_V2P_MEM:
		return v2p_mem_loop(c, iters);
	case BK_MBUF:
		if (r->rt)
			return mbuf_loop_rt(c->mp, c->mbufs + bench_shift,
					    iters, bench_opaque(r->bulk));
		return BENCH_BULK_CALL(r->bulk, mbuf_loop, c->mp,
				       c->mbufs + bench_shift, iters);
	case BK_TXC:
		return txc_loop(c->mp, objs, iters);
	case BK_MEMCPY:
		return bench_memcpy_loop(objs, r->keep, iters,
					 bench_opaque(r->bulk));
	}
	return -EINVAL;
}

/* ---- setup -------------------------------------------------------------- */

static void dp_release(void *ctx)
{
	struct dp_ctx *c = ctx;

	if (c == NULL)
		return;
	if (c->nheld > 0)
		rte_mempool_put_bulk(c->mp, c->objs[1], c->nheld);
	rte_mempool_free(c->mp);
	rte_ring_free(c->ring);
	bench_ctx_free(c, sizeof(*c));
}

static int fill_ring(struct dp_ctx *c, const char *name)
{
	static char dummy[BENCH_POOL_SIZE];
	unsigned int i;

	/* A ring of 4096 slots holds 4095, as the pools' rings do. */
	c->ring = rte_ring_create(name, rte_align32pow2(BENCH_POOL_SIZE + 1),
				  SOCKET_ID_ANY, 0);
	if (c->ring == NULL)
		return -1;
	for (i = 0; i < BENCH_POOL_SIZE; i++)
		(void)rte_ring_enqueue(c->ring, &dummy[i]);
	return 0;
}

static void *dp_prepare(const struct bench_row *row)
{
	struct dp_ctx *c = bench_ctx_alloc(sizeof(*c));
	char name[RTE_MEMPOOL_NAMESIZE];

	if (c == NULL)
		return NULL;
	c->row = *row;
	snprintf(name, sizeof(name), "dpb%u", pool_seq++);
	switch (row->kind) {
	case BK_RING:
		if (fill_ring(c, name) != 0)
			goto err;
		return c;
	case BK_MBUF:
		c->mp = rte_pktmbuf_pool_create(name, BENCH_POOL_SIZE,
						row->cache, 0, BENCH_MBUF_ROOM,
						SOCKET_ID_ANY);
		break;
	default:
		c->mp = rte_mempool_create(name, BENCH_POOL_SIZE, row->elt,
					   row->cache, 0, NULL, NULL, NULL,
					   NULL, SOCKET_ID_ANY, 0);
		break;
	}
	if (c->mp == NULL)
		goto err;
	if (row->kind == BK_V2P_POOL || row->kind == BK_V2P_MEM) {
		if (rte_mempool_get_bulk(c->mp, c->objs[1],
					 BENCH_MAX_KEEP) != 0)
			goto err;
		c->nheld = BENCH_MAX_KEEP;
	}
	return c;
err:
	fprintf(stderr, "DPDK: cannot set up row %s: %s\n", row->name,
		rte_strerror(rte_errno));
	dp_release(c);
	return NULL;
}

/* ---- memory ------------------------------------------------------------- */

static void add_chunk(struct rte_mempool *mp, void *arg,
		      struct rte_mempool_memhdr *memhdr, unsigned int idx)
{
	*(size_t *)arg += memhdr->len;
}

static void dp_memory(void *ctx, struct bench_mem *m)
{
	struct dp_ctx *c = ctx;
	struct rte_mempool *mp = c->mp;
	struct rte_mempool_objsz sz;
	unsigned int slots = rte_align32pow2(mp->size + 1);

	(void)rte_mempool_calc_obj_size(mp->elt_size, mp->flags, &sz);
	m->obj_bytes = sz.total_size;
	m->hdr_bytes = sz.header_size;
	m->elt_bytes = sz.elt_size;
	m->trl_bytes = sz.trailer_size;
	m->slot_bytes = (double)slots * sizeof(void *) / mp->size;
	m->objects = 0;
	(void)rte_mempool_mem_iter(mp, add_chunk, &m->objects);
	m->ring = (size_t)rte_ring_get_memsize(slots);
	/* Every pool with a cache carries one for each possible lcore,
	 * whether a thread ever uses it or not. */
	m->pool = sizeof(*mp);
	m->ncaches = mp->cache_size != 0 ? RTE_MAX_LCORE : 0;
	m->cache_each = sizeof(struct rte_mempool_cache);
	m->caches = m->ncaches * m->cache_each;
	m->mapped = 0;
}

static uint64_t dp_heap_used(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

const struct bench_lib bench_dpdk_lib = {
	.name = "DPDK",
	.prepare = dp_prepare,
	.run = dp_run,
	.release = dp_release,
	.memory = dp_memory,
	.heap_used = dp_heap_used,
};

/* ---- EAL ---------------------------------------------------------------- */

int bench_dpdk_init(unsigned int cpu, int verbose)
{
	char lcores[16];
	char *argv[] = {
		"xenpool-bench", "--no-huge", "--no-pci", "-m", "512",
		"--no-shconf", "--no-telemetry", "-l", lcores, "--log-level",
		verbose ? "lib.eal:info" : "lib.eal:error", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	size_t len = 0;
	int i;

	snprintf(lcores, sizeof(lcores), "%u", cpu);
	for (i = 1; i < argc; i++)
		len += (size_t)snprintf(eal_args + len, sizeof(eal_args) - len,
					"%s%s", i > 1 ? " " : "", argv[i]);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "DPDK: rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void bench_dpdk_fini(void)
{
	(void)rte_eal_cleanup();
}

const char *bench_dpdk_version(void)
{
	return rte_version();
}

const char *bench_dpdk_eal_args(void)
{
	return eal_args;
}

int bench_dpdk_iova_va(void)
{
	return rte_eal_iova_mode() == RTE_IOVA_VA;
}

int bench_dpdk_thread_register(void)
{
	return rte_thread_register();
}

void bench_dpdk_thread_unregister(void)
{
	rte_thread_unregister();
}
