/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xenpool back end of the benchmark: pools on the default handler
 * ("ring_mp_mc"), the bare xp_ring, virt2phy and packet buffers.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>

#include <xenpool/mbuf.h>
#include <xenpool/mempool.h>
#include <xenpool/ring.h>

#include "bench/bench.h"

struct xp_ctx {
	/* per role; first: page aligned; used from bench_shift on */
	void *objs[2][BENCH_MAX_KEEP + BENCH_SHIFT_SPAN];
	struct xp_mbuf *mbufs[BENCH_MAX_KEEP + BENCH_SHIFT_SPAN];
	struct bench_row row;
	struct xp_mempool *mp;
	struct xp_ring *ring;   /* BK_RING */
	struct bench_spsc xfer; /* BK_PRODCONS */
	unsigned int nheld;     /* BK_V2P_*: objects held in objs[1] */
	void *extra;            /* held to set the cache fill's parity */
};

static unsigned int pool_seq;

/* ---- loops (b is a constant where BENCH_BULK_CALL could make it one) ---- */

BENCH_INLINE int pool_loop(struct xp_mempool *mp, void **objs,
			   unsigned int keep, uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (xp_mempool_get_bulk(mp, &objs[i], b) != 0)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			xp_mempool_put_bulk(mp, &objs[i], b);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		xp_mempool_put_bulk(mp, &objs[j], b);
	return -ENOBUFS;
}

BENCH_INLINE int handler_loop(struct xp_mempool *mp, void **objs,
			      unsigned int keep, uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (xp_mempool_generic_get(mp, &objs[i], b, NULL) != 0)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			xp_mempool_generic_put(mp, &objs[i], b, NULL);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		xp_mempool_generic_put(mp, &objs[j], b, NULL);
	return -ENOBUFS;
}

BENCH_INLINE int ring_loop(struct xp_ring *r, void **objs, unsigned int keep,
			   uint64_t iters, unsigned int b)
{
	uint64_t it;
	unsigned int i, j;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += b) {
			if (xp_ring_mc_dequeue_bulk(r, &objs[i], b, NULL) != b)
				goto fail;
		}
		for (i = 0; i < keep; i += b)
			(void)xp_ring_mp_enqueue_bulk(r, &objs[i], b, NULL);
	}
	return 0;
fail:
	for (j = 0; j < i; j += b)
		(void)xp_ring_mp_enqueue_bulk(r, &objs[j], b, NULL);
	return -ENOBUFS;
}

BENCH_INLINE int produce(struct xp_ctx *c, uint64_t iters, unsigned int b)
{
	void **objs = c->objs[0] + bench_shift;
	unsigned int spins = 0;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		while (xp_mempool_get_bulk(c->mp, objs, b) != 0)
			bench_wait_a_little(&spins);
		while (!bench_spsc_put(&c->xfer, objs, b))
			bench_wait_a_little(&spins);
	}
	return 0;
}

BENCH_INLINE int consume(struct xp_ctx *c, uint64_t iters, unsigned int b)
{
	void **objs = c->objs[1] + bench_shift;
	unsigned int spins = 0;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		while (!bench_spsc_get(&c->xfer, objs, b))
			bench_wait_a_little(&spins);
		xp_mempool_put_bulk(c->mp, objs, b);
	}
	return 0;
}

static int v2p_loop(struct xp_ctx *c, uint64_t iters)
{
	uint64_t it, sum = 0;
	unsigned int i;

	for (it = 0; it < iters; it++)
		for (i = 0; i < c->nheld; i++)
			sum += xp_mempool_virt2phy(c->mp, c->objs[1][i]);
	bench_sink += sum;
	return 0;
}

BENCH_INLINE int mbuf_loop(struct xp_mempool *mp, struct xp_mbuf **m,
			   uint64_t iters, unsigned int b)
{
	uint64_t it;

	for (it = 0; it < iters; it++) {
		if (xp_pktmbuf_alloc_bulk(mp, m, b) != 0)
			return -ENOBUFS;
		xp_pktmbuf_free_bulk(m, b);
	}
	return 0;
}

/* ---- runtime bursts (bench.h, BENCH_OPAQUE) ------------------------------ */

static BENCH_OPAQUE int pool_loop_rt(struct xp_mempool *mp, void **objs,
				     unsigned int keep, uint64_t iters,
				     unsigned int b)
{
	return pool_loop(mp, objs, keep, iters, b);
}

static BENCH_OPAQUE int mbuf_loop_rt(struct xp_mempool *mp, struct xp_mbuf **m,
				     uint64_t iters, unsigned int b)
{
	return mbuf_loop(mp, m, iters, b);
}

/* Transmit completion: get a constant 32, put them back in the runtime
 * counts of bench_txc_counts. */
static BENCH_OPAQUE int txc_loop(struct xp_mempool *mp, void **objs, uint64_t iters)
{
	unsigned int pos = 0, i, k;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		if (xp_mempool_get_bulk(mp, objs, 32) != 0)
			return -ENOBUFS;
		for (i = 0; i < 32; i += k) {
			k = bench_txc_counts[pos];
			pos = pos + 1 < BENCH_TXC_LEN ? pos + 1 : 0;
			xp_mempool_put_bulk(mp, &objs[i], k);
		}
	}
	return 0;
}

/* Take one object or none so that this thread's cache holds an odd
 * (@fill 1) or even (@fill 0) number; 1 if one was taken. */
static int set_fill(struct xp_ctx *c, int fill)
{
	struct xp_mempool_cache *pc;

	if (fill < 0)
		return 0;
	pc = xp_mempool_default_cache(c->mp);
	if (pc == NULL || (int)(pc->len & 1) == fill)
		return 0;
	return xp_mempool_get(c->mp, &c->extra) == 0;
}

static int pool_run(struct xp_ctx *c, void **objs, uint64_t iters)
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
		xp_mempool_put(c->mp, c->extra);
	return ret;
}

static int xp_run(void *ctx, unsigned int role, uint64_t iters)
{
	struct xp_ctx *c = ctx;
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
	case BK_V2P_MEM:
		return v2p_loop(c, iters);
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

static void xp_release(void *ctx)
{
	struct xp_ctx *c = ctx;

	if (c == NULL)
		return;
	if (c->nheld > 0)
		xp_mempool_put_bulk(c->mp, c->objs[1], c->nheld);
	xp_mempool_free(c->mp);
	xp_ring_free(c->ring);
	bench_ctx_free(c, sizeof(*c));
}

static int fill_ring(struct xp_ctx *c)
{
	static char dummy[BENCH_POOL_SIZE];
	unsigned int i;

	c->ring = xp_ring_create(BENCH_POOL_SIZE, 0);
	if (c->ring == NULL)
		return -1;
	for (i = 0; i < BENCH_POOL_SIZE; i++)
		(void)xp_ring_enqueue(c->ring, &dummy[i]);
	return 0;
}

static void *xp_prepare(const struct bench_row *row)
{
	struct xp_ctx *c = bench_ctx_alloc(sizeof(*c));
	char name[XP_MEMPOOL_NAMESIZE];

	if (c == NULL)
		return NULL;
	c->row = *row;
	snprintf(name, sizeof(name), "xpb%u", pool_seq++);
	switch (row->kind) {
	case BK_RING:
		if (fill_ring(c) != 0)
			goto err;
		return c;
	case BK_MBUF:
		c->mp = xp_pktmbuf_pool_create(name, BENCH_POOL_SIZE,
					       row->cache, 0, BENCH_MBUF_ROOM);
		break;
	default:
		c->mp = xp_mempool_create(name, BENCH_POOL_SIZE, row->elt,
					  row->cache, 0, NULL, NULL, 0);
		break;
	}
	if (c->mp == NULL)
		goto err;
	if (row->kind == BK_V2P_POOL || row->kind == BK_V2P_MEM) {
		if (xp_mempool_get_bulk(c->mp, c->objs[1], BENCH_MAX_KEEP) != 0)
			goto err;
		c->nheld = BENCH_MAX_KEEP;
	}
	return c;
err:
	fprintf(stderr, "xenpool: cannot set up row %s: %m\n", row->name);
	xp_release(c);
	return NULL;
}

/* ---- memory ------------------------------------------------------------- */

static size_t round_line(size_t n)
{
	return (n + XP_CACHE_LINE_SIZE - 1) & ~(size_t)(XP_CACHE_LINE_SIZE - 1);
}

static void add_chunk(struct xp_mempool *mp, void *arg, void *va,
		      uint64_t phys, size_t len, unsigned int idx)
{
	*(size_t *)arg += len;
}

static void xp_memory(void *ctx, struct bench_mem *m)
{
	struct xp_ctx *c = ctx;
	struct xp_mempool *mp = c->mp;
	uint32_t slots = xp_ring_storage_slots(mp->size);
	unsigned int s;

	m->obj_bytes = (double)mp->obj_stride;
	m->hdr_bytes = 0;
	m->elt_bytes = (unsigned int)mp->elt_size;
	m->trl_bytes = (unsigned int)(mp->obj_stride - mp->elt_size);
	m->slot_bytes = (double)slots * sizeof(void *) / mp->size;
	m->objects = 0;
	(void)xp_mempool_mem_iter(mp, add_chunk, &m->objects);
	/* xp_ring_create: ring and storage in one cache-aligned block. */
	m->ring = round_line(sizeof(struct xp_ring) + slots * sizeof(void *));
	m->pool = sizeof(*mp);
	m->ncaches = 0;
	m->cache_each = 0;
	for (s = 0; s < XP_MEMPOOL_MAX_THREADS; s++) {
		const struct xp_mempool_cache *pc = mp->cache[s];

		if (pc == NULL)
			continue;
		m->ncaches++;
		/* The header's line, then the storage (xp__cache_alloc_into). */
		m->cache_each = round_line(XP_CACHE_LINE_SIZE +
					   pc->capacity * sizeof(void *));
	}
	m->caches = m->ncaches * m->cache_each;
	/* The objects are mapped by the handler, not taken from malloc. */
	m->mapped = m->objects;
}

static uint64_t xp_heap_used(void)
{
#if defined(__GLIBC__) && !BENCH_SANITIZED
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#else
	return 0;
#endif
}

const struct bench_lib bench_xp_lib = {
	.name = "xenpool",
	.prepare = xp_prepare,
	.run = xp_run,
	.release = xp_release,
	.memory = xp_memory,
	.heap_used = xp_heap_used,
};
