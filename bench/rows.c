/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: the rows, in the order they are run and printed (the
 * table of doc/performance.md, "The rows"), and the objects each counts.
 */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "bench/driver.h"

const unsigned int bench_bulks[BENCH_NBULKS] = {1, 4, 32};
const unsigned int bench_mem_elts[BENCH_NMEM] = {64, 2048};
static const unsigned int caches[] = {256, 0};

struct bench_row bench_rows[BENCH_MAX_ROWS];
unsigned int bench_nrows;

int bench_row_wanted(const char *name)
{
	if (bench_opt.only == NULL)
		return 1;
	return regexec(&bench_opt.only_re, name, 0, NULL, 0) == 0;
}

const unsigned int bench_bursts[BENCH_NBURSTS] = {1, 2, 4, 8, 13, 16,
						   31, 32, 64};

static struct bench_row *add_row(enum bench_kind kind, unsigned int cache,
				 unsigned int bulk, unsigned int keep,
				 unsigned int elt, unsigned int threads,
				 const char *name)
{
	struct bench_row *r = &bench_rows[bench_nrows];

	if (!bench_row_wanted(name))
		return NULL;
	snprintf(r->name, sizeof(r->name), "%.*s", (int)sizeof(r->name) - 1, name);
	r->kind = kind;
	r->cache = cache;
	r->bulk = bulk;
	r->keep = keep;
	r->elt = elt;
	r->threads = threads;
	r->rt = 0;
	r->fill = -1;
	bench_nrows++;
	return r;
}

/* A row whose bulk is known only at run time (@rt), and whose cache fill
 * at entry has parity @fill (-1: any). */
static void add_shaped_row(enum bench_kind kind, unsigned int cache,
			   unsigned int bulk, unsigned int keep,
			   unsigned int threads, int rt, int fill,
			   const char *name)
{
	struct bench_row *r = add_row(kind, cache, bulk, keep, 64, threads,
				      name);

	if (r != NULL) {
		r->rt = (unsigned int)rt;
		r->fill = fill;
	}
}

/* The largest multiple of @n up to 64 objects held (n itself above). */
static unsigned int burst_keep(unsigned int n)
{
	return n >= 64 ? n : 64 / n * n;
}

/*
 * doc/performance.md, "Burst shapes": every burst size with a constant and
 * a runtime count, the memcpy floor of each, the runtime rows without a
 * cache and of packet buffers, a runtime 32 after an odd and an even cache
 * fill and on two threads, and the transmit-completion pattern.
 */
static void add_burst_rows(void)
{
	static const char *const parity[] = {"even", "odd"};
	unsigned int i, n, rt, f;
	char name[64];

	for (i = 0; i < BENCH_NBURSTS; i++) {
		n = bench_bursts[i];
		for (rt = 0; rt < 2; rt++) {
			snprintf(name, sizeof(name), "burst/c256/%c%u",
				 rt ? 'r' : 'c', n);
			add_shaped_row(BK_POOL, 256, n, burst_keep(n), 1,
				       (int)rt, -1, name);
		}
		snprintf(name, sizeof(name), "floor/memcpy/r%u", n);
		add_shaped_row(BK_MEMCPY, 0, n, burst_keep(n), 1, 1, -1, name);
	}
	for (rt = 0; rt < 2; rt++)
		for (f = 0; f < 2; f++) {
			snprintf(name, sizeof(name), "burst/c256/%c32/%s",
				 rt ? 'r' : 'c', parity[f]);
			add_shaped_row(BK_POOL, 256, 32, 64, 1, (int)rt,
				       (int)f, name);
		}
	for (i = 0; i < BENCH_NBULKS; i++) {
		n = bench_bulks[i];
		snprintf(name, sizeof(name), "burst/c0/r%u", n);
		add_shaped_row(BK_POOL, 0, n, burst_keep(n), 1, 1, -1, name);
	}
	add_shaped_row(BK_MBUF, 256, 32, 32, 1, 1, -1, "mbuf/c256/r32");
	add_shaped_row(BK_TXC, 256, 32, 32, 1, 1, -1, "txc/c256/g32/p-rt");
	/* t1 and t2 as the pool rows, for the two-thread table. */
	add_shaped_row(BK_POOL, 256, 32, 32, 1, 1, -1, "pool/c256/r32/k32/e64/t1");
	add_shaped_row(BK_POOL, 256, 32, 32, 2, 1, -1, "pool/c256/r32/k32/e64/t2");
}

static void add_pool_rows(unsigned int threads, unsigned int cache)
{
	static const unsigned int keeps[] = {32, 512};
	static const unsigned int elts[] = {64, 2048};
	unsigned int e, k, b;
	char name[64];

	for (e = 0; e < 2; e++)
		for (k = 0; k < 2; k++)
			for (b = 0; b < 3; b++) {
				snprintf(name, sizeof(name),
					 "pool/c%u/b%u/k%u/e%u/t%u", cache,
					 bench_bulks[b], keeps[k], elts[e],
					 threads);
				add_row(BK_POOL, cache, bench_bulks[b],
					keeps[k], elts[e], threads, name);
			}
}

void bench_build_rows(void)
{
	unsigned int t, c, b;
	char name[64];

	for (t = 1; t <= 2; t++)
		for (c = 0; c < 2; c++)
			add_pool_rows(t, caches[c]);
	for (c = 0; c < 2; c++)
		for (b = 0; b < 3; b += 2) {
			snprintf(name, sizeof(name), "prodcons/c%u/b%u/e64",
				 caches[c], bench_bulks[b]);
			add_row(BK_PRODCONS, caches[c], bench_bulks[b], 0, 64,
				2, name);
		}
	for (b = 0; b < 3; b++) {
		snprintf(name, sizeof(name), "handler-nocache/b%u/k32",
			 bench_bulks[b]);
		add_row(BK_HANDLER, 0, bench_bulks[b], 32, 64, 1, name);
		snprintf(name, sizeof(name), "ring-direct/b%u/k32",
			 bench_bulks[b]);
		add_row(BK_RING, 0, bench_bulks[b], 32, 64, 1, name);
	}
	add_row(BK_V2P_POOL, 256, 1, BENCH_MAX_KEEP, 64, 1,
		"virt2phy/mempool");
	add_row(BK_V2P_MEM, 256, 1, BENCH_MAX_KEEP, 64, 1, "virt2phy/mem");
	add_row(BK_MBUF, 256, 32, 32, 0, 1, "mbuf/c256/b32");
	add_burst_rows();
}

int bench_find_row(const char *name)
{
	unsigned int i;

	for (i = 0; i < bench_nrows; i++)
		if (strcmp(bench_rows[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Objects one thread handles per iteration of the row's loop. */
static unsigned int objs_per_iter(const struct bench_row *r)
{
	switch (r->kind) {
	case BK_PRODCONS:
	case BK_MBUF:
	case BK_TXC:
		return r->bulk;
	default:
		return r->keep;
	}
}

/* Both threads' objects in the two-thread pool rows; a producer/consumer
 * object counts once (got once, put once). */
uint64_t bench_objs_counted(const struct bench_row *r, uint64_t iters)
{
	uint64_t n = iters * objs_per_iter(r);

	return r->kind == BK_POOL && r->threads == 2 ? 2 * n : n;
}

uint64_t bench_iters_for(const struct bench_row *r, uint64_t objs)
{
	uint64_t it = objs / objs_per_iter(r);

	if (r->kind == BK_POOL && r->threads == 2)
		it /= 2;
	return it > 0 ? it : 1;
}
