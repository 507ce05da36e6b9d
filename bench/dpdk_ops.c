/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-dpdk-bench: rte_mempool get and put through DPDK's ring_mp_mc and
 * through xenpool's DPDK driver (xen_dom0, loaded with EAL's -d), in one
 * process, with and without DPDK's per-lcore cache, at burst sizes read
 * from memory (the compiler cannot specialise them).  bench/dpdk.sh runs it
 * (make bench-dpdk), once for TSC cycles and once under callgrind for
 * instructions, and adds testpmd's forwarding rate on each.
 *
 * Usage: xenpool-dpdk-bench EAL-ARGUMENTS -- [OBJECTS [RUNS]]
 * Prints one line per row: "row OPS cycles/object", median of RUNS runs of
 * about OBJECTS objects (one get and one put each).  Under callgrind
 * (RUNNING_ON_VALGRIND) it runs each row once, warm, between
 * CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT("xpd|ROW|OPS|OBJECTS").
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include <valgrind/callgrind.h>

#include "../src/number.h"

#define POOL_N 4095u
#define ELT 64u
#define KEEP 32u
#define MAX_RUNS 31u

static const char *const ops_names[] = { "ring_mp_mc", "xen_dom0" };
static const unsigned int caches[] = { 0, 256 };
static const unsigned int bursts[] = { 1, 4, 13, 32 };

/* Read from memory each time: a runtime burst size. */
static volatile unsigned int burst_v;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* KEEP objects taken in bursts, then put back in bursts, @p iters times. */
static __attribute__((noinline)) int loop(struct rte_mempool *mp,
					  void **objs, uint64_t iters)
{
	uint64_t it;
	unsigned int i, b;

	for (it = 0; it < iters; it++) {
		b = burst_v;
		for (i = 0; i + b <= KEEP; i += b)
			if (rte_mempool_get_bulk(mp, &objs[i], b) != 0)
				return -ENOBUFS;
		for (i = 0; i + b <= KEEP; i += b)
			rte_mempool_put_bulk(mp, &objs[i], b);
	}
	return 0;
}

static struct rte_mempool *mk_pool(const char *ops, unsigned int cache)
{
	static unsigned int seq;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	snprintf(name, sizeof(name), "xpdb%u", seq++);
	mp = rte_mempool_create_empty(name, POOL_N, ELT, cache, 0,
				      SOCKET_ID_ANY, 0);
	if (mp == NULL)
		return NULL;
	if (rte_mempool_set_ops_byname(mp, ops, NULL) != 0 ||
	    rte_mempool_populate_default(mp) < 0) {
		rte_mempool_free(mp);
		return NULL;
	}
	return mp;
}

int main(int argc, char **argv)
{
	static void *objs[KEEP];
	uint64_t objects = 2000000, runs = 7, t[MAX_RUNS];
	int n = rte_eal_init(argc, argv), cg = RUNNING_ON_VALGRIND;
	unsigned int o, c, b, r;

	if (n < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= n;
	argv += n;
	if ((argc > 1 && xp__parse_u64(argv[1], KEEP, UINT64_MAX / 2,
				       &objects) != 0) ||
	    (argc > 2 && xp__parse_u64(argv[2], 1, MAX_RUNS, &runs) != 0)) {
		fprintf(stderr, "usage: xenpool-dpdk-bench EAL-ARGUMENTS -- "
				"[OBJECTS [RUNS]]\n");
		return 2;
	}
	if (cg)
		CALLGRIND_START_INSTRUMENTATION;
	for (c = 0; c < sizeof(caches) / sizeof(caches[0]); c++)
		for (b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++)
			for (o = 0; o < 2; o++) {
				struct rte_mempool *mp =
					mk_pool(ops_names[o], caches[c]);
				unsigned int per = KEEP / bursts[b] *
						   bursts[b];
				uint64_t iters = objects / per;
				char tag[96];

				if (mp == NULL) {
					fprintf(stderr, "no %s pool: %s\n",
						ops_names[o],
						rte_strerror(rte_errno));
					return 1;
				}
				burst_v = bursts[b];
				snprintf(tag, sizeof(tag),
					 "xpd|c%u/b%u|%s|%llu", caches[c],
					 bursts[b], ops_names[o],
					 (unsigned long long)(iters * per));
				if (loop(mp, objs, iters / 4 + 1) != 0)
					return 1;
				if (cg) {
					CALLGRIND_ZERO_STATS;
					loop(mp, objs, iters);
					CALLGRIND_DUMP_STATS_AT(tag);
				} else {
					for (r = 0; r < runs; r++) {
						uint64_t t0 = rte_rdtsc();

						loop(mp, objs, iters);
						t[r] = rte_rdtsc() - t0;
					}
					qsort(t, runs, sizeof(t[0]), cmp_u64);
					printf("c%u/b%u %s %.2f\n", caches[c],
					       bursts[b], ops_names[o],
					       (double)t[runs / 2] /
						       (double)(iters * per));
				}
				rte_mempool_free(mp);
			}
	if (cg)
		CALLGRIND_STOP_INSTRUMENTATION;
	rte_eal_cleanup();
	return 0;
}
