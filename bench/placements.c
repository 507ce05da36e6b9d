/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-placements (make bench-placements): the "4K aliasing" sweep of
 * doc/performance.md, "Burst shapes".  A get and a put of 32 on a cached
 * pool, the caller's array at every 8-byte offset over a 4 KiB window
 * (so at every offset relative to the cache's window, modulo 4 KiB, and
 * both alignments modulo 16), the count a constant and known only at run
 * time; the median of 5 timed runs per offset, then the distribution over
 * the 512 offsets and the slowest one.  xenpool alone: the question is how
 * much placement can cost, not the comparison.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <xenpool/mempool.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define UNIT "TSC cycles"
static uint64_t now(void)
{
	return __rdtsc();
}
#else
#define UNIT "ns"
static uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

#define OFFSETS 512u /* pointers: 4 KiB */
#define ITERS 2000u
#define REPS 5u

static volatile unsigned int bulk = 32;

static __attribute__((noinline, noclone)) int loop_const(struct xp_mempool *mp,
							 void **o, unsigned int it)
{
	while (it--) {
		if (xp_mempool_get_bulk(mp, o, 32) != 0)
			return -1;
		xp_mempool_put_bulk(mp, o, 32);
	}
	return 0;
}

static __attribute__((noinline, noclone)) int loop_rt(struct xp_mempool *mp,
						      void **o, unsigned int it,
						      unsigned int b)
{
	while (it--) {
		if (xp_mempool_get_bulk(mp, o, b) != 0)
			return -1;
		xp_mempool_put_bulk(mp, o, b);
	}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(void)
{
	static void *buf[3 * OFFSETS] __attribute__((aligned(4096)));
	static double v[OFFSETS], s[OFFSETS], h[2][OFFSETS / 2];
	struct xp_mempool *mp;
	unsigned int k, off, r, worst, slow;
	double t[REPS], med;

	mp = xp_mempool_create("placements", 4095, 64, 256, 0, NULL, NULL, 0);
	if (mp == NULL) {
		perror("xp_mempool_create");
		return 1;
	}
	printf("get + put of 32 on a cached pool (256), the caller's array at "
	       "each of %u 8-byte offsets\nover 4 KiB; %s per object, median "
	       "of %u runs per offset\n", OFFSETS, UNIT, REPS);
	for (k = 0; k < 2; k++) {
		for (off = 0; off < OFFSETS; off++) {
			void **o = buf + OFFSETS + off;

			if ((k ? loop_rt(mp, o, 100, bulk)
			       : loop_const(mp, o, 100)) != 0)
				return 1;
			for (r = 0; r < REPS; r++) {
				uint64_t t0 = now();

				(void)(k ? loop_rt(mp, o, ITERS, bulk)
					 : loop_const(mp, o, ITERS));
				t[r] = (double)(now() - t0) / (ITERS * 32.0);
			}
			qsort(t, REPS, sizeof(t[0]), cmp);
			v[off] = s[off] = t[REPS / 2];
		}
		qsort(s, OFFSETS, sizeof(s[0]), cmp);
		med = s[OFFSETS / 2];
		/* The medians of the offsets at 0 and at 8 modulo 16. */
		for (off = 0; off < OFFSETS; off++)
			h[off & 1][off / 2] = v[off];
		qsort(h[0], OFFSETS / 2, sizeof(h[0][0]), cmp);
		qsort(h[1], OFFSETS / 2, sizeof(h[1][0]), cmp);
		for (off = 0, worst = 0, slow = 0; off < OFFSETS; off++) {
			slow += v[off] > 1.5 * med;
			if (v[off] > v[worst])
				worst = off;
		}
		printf("%-10s median %.3f (array at 0 / 8 modulo 16: %.3f / "
		       "%.3f)  p90 %.3f  p99 %.3f  max %.3f (array at %u B)  "
		       "above 1.5x the median: %u of %u\n",
		       k ? "runtime 32" : "const 32", med, h[0][OFFSETS / 4],
		       h[1][OFFSETS / 4], s[OFFSETS * 9 / 10],
		       s[OFFSETS * 99 / 100], s[OFFSETS - 1], worst * 8, slow,
		       OFFSETS);
	}
	xp_mempool_free(mp);
	return 0;
}
