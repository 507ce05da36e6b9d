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

static void add_row(enum bench_kind kind, unsigned int cache, unsigned int bulk,
		    unsigned int keep, unsigned int elt, unsigned int threads,
		    const char *name)
{
	struct bench_row *r = &bench_rows[bench_nrows];

	if (!bench_row_wanted(name))
		return;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->cache = cache;
	r->bulk = bulk;
	r->keep = keep;
	r->elt = elt;
	r->threads = threads;
	bench_nrows++;
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
