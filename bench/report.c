/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: the output.  The header, the table of rows, the sections
 * after it (doc/performance.md, "The rows": without a cache, the floor, two
 * threads, memory), and the CSV file.  Everything here reads results; the
 * measuring is in run.c and callgrind.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <xenpool/common.h>

#include "bench/driver.h"

/* ---- helpers ------------------------------------------------------------ */

static const struct bench_stat *stat_of(const char *row, unsigned int l)
{
	int ri = bench_find_row(row);

	return ri >= 0 && bench_res[ri][l].ok ? &bench_res[ri][l] : NULL;
}

static double ir_of(const char *row, unsigned int l)
{
	int ri = bench_find_row(row);

	return ri >= 0 ? bench_res[ri][l].ir : -1;
}

static void fmt_stat(char *buf, size_t len, const struct bench_stat *s)
{
	if (s == NULL || !s->ok)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f [%.2f-%.2f]", s->med, s->min, s->max);
}

/* v with @prec decimals, or "-" when v < 0 (unknown). */
static void fmt_num(char *buf, size_t len, double v, int prec)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
}

static double ratio(double a, double b)
{
	return a >= 0 && b > 0 ? a / b : -1;
}

/* Overhead of a over b in percent, or -1000 when unknown. */
static double overhead(double a, double b)
{
	return a >= 0 && b > 0 ? (a / b - 1) * 100 : -1000;
}

static void fmt_pct(char *buf, size_t len, double p)
{
	if (p <= -1000)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.0f%%", p);
}

static size_t mem_total(const struct bench_mem *m)
{
	return m->objects + m->ring + m->pool + m->caches;
}

/* ---- the row names ------------------------------------------------------ */

void bench_print_list(void)
{
	unsigned int i;

	for (i = 0; i < bench_nrows; i++)
		printf("%s\n", bench_rows[i].name);
}

/* ---- header ------------------------------------------------------------- */

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || p == NULL)
			continue;
		p += 2;
		p[strcspn(p, "\n")] = '\0';
		snprintf(buf, len, "%s", p);
		break;
	}
	fclose(f);
}

void bench_print_header(void)
{
	const struct bench_lib *const *libs = bench_libs;
	char model[128];

	cpu_model(model, sizeof(model));
	printf("xenpool-bench: xenpool %s", xp_version());
#ifdef XP_HAVE_DPDK
	if (libs[1] != NULL)
		printf(" against %s", bench_dpdk_version());
	else
		printf(" alone (--no-dpdk)");
#else
	printf(" alone (built without DPDK)");
#endif
	if (libs[1] != NULL)
		printf(", one process, runs interleaved xenpool, DPDK, "
		       "xenpool, ...");
	printf("\n");
	printf("CPU: %s; main thread on CPU %u, second thread on CPU %u\n",
	       model, bench_opt.cpu, bench_opt.cpu2);
	printf("Built at -%s, with DPDK's compiler flags when DPDK is built "
	       "in (make bench BENCH_BUILD=-O2:\n  the other build)\n",
	       BENCH_OPT);
#ifdef XP_HAVE_DPDK
	if (libs[1] != NULL)
		printf("DPDK EAL: %s; IOVA as %s\n", bench_dpdk_eal_args(),
		       bench_dpdk_iova_va() ? "VA" : "PA");
#endif
	printf("Pools: %u objects on \"ring_mp_mc\" in both libraries; "
	       "median [min-max] of %u runs of about %llu objects;\n"
	       "  %s per object, an object being one get and one put "
	       "(virt2phy: one call; mbuf: one alloc and one free)\n",
	       BENCH_POOL_SIZE, bench_opt.reps,
	       (unsigned long long)bench_opt.objs, BENCH_UNIT);
	printf("Caches: both flush when a put would take a cache above "
	       "1.5 x cache_size (DPDK's\n  flushthresh; xenpool uses the "
	       "same threshold by design) and refill to cache_size + request;\n"
	       "  DPDK flushes the whole cache, xenpool down to cache_size.\n");
}

/* ---- the table ---------------------------------------------------------- */

void bench_print_table(void)
{
	char a[40], b[40], c[16], d[16], e[16], f[16];
	unsigned int i;

	printf("\n%-28s %-22s %-22s %7s", "row", "xenpool cyc/obj",
	       "DPDK cyc/obj", "xp/DPDK");
	if (bench_opt.callgrind)
		printf(" %10s %10s %7s", "xp Ir/obj", "DPDK Ir/obj", "xp/DPDK");
	printf("\n");
	for (i = 0; i < bench_nrows; i++) {
		const struct bench_stat *x = &bench_res[i][0];
		const struct bench_stat *y = &bench_res[i][1];

		fmt_stat(a, sizeof(a), x);
		fmt_stat(b, sizeof(b), y);
		fmt_num(c, sizeof(c),
			x->ok && y->ok ? ratio(x->med, y->med) : -1, 2);
		printf("%-28s %-22s %-22s %7s", bench_rows[i].name, a, b, c);
		if (bench_opt.callgrind) {
			fmt_num(d, sizeof(d), x->ir, 1);
			fmt_num(e, sizeof(e), y->ir, 1);
			fmt_num(f, sizeof(f), ratio(x->ir, y->ir), 2);
			printf(" %10s %10s %7s", d, e, f);
		}
		printf("\n");
	}
}

/* ---- burst shapes ------------------------------------------------------- */

/* Ratio of xenpool to DPDK on @row: instructions (@ir) or median cycles. */
static double lib_ratio(const char *row, int ir)
{
	const struct bench_stat *x, *y;

	if (ir)
		return ratio(ir_of(row, 0), ir_of(row, 1));
	x = stat_of(row, 0);
	y = stat_of(row, 1);
	return x != NULL && y != NULL ? ratio(x->med, y->med) : -1;
}

static void print_pair(const char *what, const char *row)
{
	char a[16], b[16], c[16], d[16];

	fmt_num(a, sizeof(a), ir_of(row, 0), 2);
	fmt_num(b, sizeof(b), ir_of(row, 1), 2);
	fmt_num(c, sizeof(c), lib_ratio(row, 1), 2);
	fmt_num(d, sizeof(d), lib_ratio(row, 0), 2);
	printf("  %-34s %8s %8s %6s %8s\n", what, a, b, c, d);
}

/*
 * Every burst size with a constant and a runtime count, against DPDK and
 * against the floor (memcpy of the burst out and back); then the history
 * (the same call after an odd and an even cache fill), transmit
 * completion, packet buffers and no cache at runtime n.
 */
void bench_print_bursts(void)
{
	char v[8][16], row[40], row2[40];
	unsigned int i, f;

	if (bench_find_row("burst/c256/r32") < 0 &&
	    bench_find_row("txc/c256/g32/p-rt") < 0)
		return;
	printf("\nBurst shapes: cache 256, get + put of n, about 64 objects "
	       "held; Ir per object\n(xp/DPDK: instructions; cyc: median "
	       "cycles); floor: memcpy of the burst out and back\n");
	printf("%-4s %8s %8s %6s | %8s %8s %6s %6s | %7s %8s\n", "n",
	       "c xp", "c DPDK", "xp/DP", "rt xp", "rt DPDK", "xp/DP",
	       "cyc", "floor", "rt/floor");
	for (i = 0; i < BENCH_NBURSTS; i++) {
		unsigned int n = bench_bursts[i];
		double fl;

		snprintf(row, sizeof(row), "burst/c256/c%u", n);
		fmt_num(v[0], 16, ir_of(row, 0), 2);
		fmt_num(v[1], 16, ir_of(row, 1), 2);
		fmt_num(v[2], 16, lib_ratio(row, 1), 2);
		snprintf(row, sizeof(row), "burst/c256/r%u", n);
		fmt_num(v[3], 16, ir_of(row, 0), 2);
		fmt_num(v[4], 16, ir_of(row, 1), 2);
		fmt_num(v[5], 16, lib_ratio(row, 1), 2);
		fmt_num(v[6], 16, lib_ratio(row, 0), 2);
		snprintf(row2, sizeof(row2), "floor/memcpy/r%u", n);
		fl = ir_of(row2, 0);
		fmt_num(v[7], 16, fl, 2);
		fmt_num(row2, 16, ratio(ir_of(row, 0), fl), 2);
		printf("%-4u %8s %8s %6s | %8s %8s %6s %6s | %7s %8s\n", n,
		       v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], row2);
	}
	printf("%-36s %8s %8s %6s %8s\n", "", "xp Ir", "DPDK Ir", "xp/DP",
	       "cyc");
	for (i = 0; i < 2; i++)
		for (f = 0; f < 2; f++) {
			char what[40];

			snprintf(row, sizeof(row), "burst/c256/%c32/%s",
				 i ? 'r' : 'c', f ? "odd" : "even");
			snprintf(what, sizeof(what), "%s 32 after an %s fill",
				 i ? "runtime" : "constant",
				 f ? "odd" : "even");
			print_pair(what, row);
		}
	print_pair("get 32, put runtime 1..32 (txc)", "txc/c256/g32/p-rt");
	print_pair("mbuf alloc+free runtime 32", "mbuf/c256/r32");
	for (i = 0; i < BENCH_NBULKS; i++) {
		char what[40];

		snprintf(row, sizeof(row), "burst/c0/r%u", bench_bulks[i]);
		snprintf(what, sizeof(what), "no cache, runtime %u",
			 bench_bulks[i]);
		print_pair(what, row);
	}
}

/* ---- without a cache, and the floor ------------------------------------- */

/*
 * Cost without a cache over the bare ring, in percent: through the pool API
 * on a pool with cache_size 0 (@generic 0), or through the generic calls with
 * a NULL cache (@generic 1); cycles or (@ir) instructions.
 */
static double dispatch_overhead(unsigned int bulk, unsigned int l, int generic,
				int ir)
{
	char h[40], r[40];
	const struct bench_stat *sh, *sr;

	if (generic)
		snprintf(h, sizeof(h), "handler-nocache/b%u/k32", bulk);
	else
		snprintf(h, sizeof(h), "pool/c0/b%u/k32/e64/t1", bulk);
	snprintf(r, sizeof(r), "ring-direct/b%u/k32", bulk);
	if (ir)
		return overhead(ir_of(h, l), ir_of(r, l));
	sh = stat_of(h, l);
	sr = stat_of(r, l);
	return sh != NULL && sr != NULL ? overhead(sh->med, sr->med) : -1000;
}

void bench_print_dispatch(void)
{
	static const char *const path[] = {
		"pool API, cache_size 0 (pool/c0)",
		"generic, NULL cache (handler-nocache)",
	};
	const struct bench_stat *fl = &bench_floor;
	char v[4][16];
	unsigned int i, g, l;

	printf("\nWithout a cache: cost over the bare ring (ring-direct rows)"
	       "\n%-5s %-38s %8s %8s %8s %8s\n", "bulk", "path", "xp cyc",
	       "xp Ir", "DPDK cyc", "DPDK Ir");
	for (i = 0; i < BENCH_NBULKS; i++)
		for (g = 0; g < 2; g++) {
			for (l = 0; l < BENCH_NLIBS; l++) {
				fmt_pct(v[2 * l], sizeof(v[0]),
					dispatch_overhead(bench_bulks[i], l, g,
							  0));
				fmt_pct(v[2 * l + 1], sizeof(v[0]),
					dispatch_overhead(bench_bulks[i], l, g,
							  1));
			}
			printf("%-5u %-38s %8s %8s %8s %8s\n", bench_bulks[i],
			       path[g], v[0], v[1], v[2], v[3]);
		}
	if (fl->ok)
		printf("Floor: a get's and a put's compare-and-swap alone, 32 "
		       "gets then 32 puts, take\n%.2f [%.2f-%.2f] %s per "
		       "object on this CPU; no ring without a cache does bulk 1 "
		       "in less.\n",
		       fl->med, fl->min, fl->max, BENCH_UNIT);
}

/* ---- two threads -------------------------------------------------------- */

/* Aggregate throughput of the two-thread row over the one-thread row. */
static double scaling(const char *t1row, unsigned int l)
{
	char t2row[40];
	const struct bench_stat *s1, *s2;
	size_t n = strlen(t1row);

	snprintf(t2row, sizeof(t2row), "%.*s2", (int)(n - 1), t1row);
	s1 = stat_of(t1row, l);
	s2 = stat_of(t2row, l);
	return s1 != NULL && s2 != NULL ? s1->med / s2->med : -1;
}

void bench_print_scaling(void)
{
	char a[16], b[16];
	unsigned int i;
	size_t n;

	printf("\nTwo threads: aggregate throughput of 2 threads over 1 "
	       "(CPU %u and CPU %u over CPU %u)\n%-28s %8s %8s\n",
	       bench_opt.cpu, bench_opt.cpu2, bench_opt.cpu, "row (t1 -> t2)",
	       "xenpool", "DPDK");
	for (i = 0; i < bench_nrows; i++) {
		const struct bench_row *r = &bench_rows[i];

		if (r->kind != BK_POOL || r->threads != 1 ||
		    strncmp(r->name, "pool/", 5) != 0)
			continue;
		fmt_num(a, sizeof(a), scaling(r->name, 0), 2);
		fmt_num(b, sizeof(b), scaling(r->name, 1), 2);
		n = strlen(r->name) - 3;
		printf("%-28.*s %8s %8s\n", (int)n, r->name, a, b);
	}
}

/* ---- memory ------------------------------------------------------------- */

void bench_print_memory(void)
{
	unsigned int e, l;

	printf("\nMemory of a pool of %u objects, cache_size 256, used by "
	       "%u thread(s); bytes\n", BENCH_POOL_SIZE, bench_mem_threads);
	for (e = 0; e < BENCH_NMEM; e++) {
		for (l = 0; l < BENCH_NLIBS; l++) {
			const struct bench_mem_result *mr = &bench_memres[e][l];
			const struct bench_mem *m = &mr->m;

			if (!mr->ok)
				continue;
			printf("  %-7s elt %-4u per object %.1f (header %u + "
			       "element %u + padding %u, ring slot %.1f)\n",
			       bench_libs[l]->name, bench_mem_elts[e],
			       m->obj_bytes + m->slot_bytes, m->hdr_bytes,
			       m->elt_bytes, m->trl_bytes, m->slot_bytes);
			printf("  %-7s          per pool %zu = objects %zu + "
			       "ring %zu + pool %zu + caches %u x %zu",
			       "", mem_total(m), m->objects, m->ring, m->pool,
			       m->ncaches, m->cache_each);
			if (mr->measured != 0)
				printf("; allocated %zu", mr->measured);
			printf("\n");
		}
	}
	printf("  xenpool: objects are obj_stride apart with no header; one "
	       "cache per thread that used\n  the pool (2 x cache_size "
	       "slots); the pool structure holds a pointer per thread slot.\n"
	       "  DPDK: rte_mempool_calc_obj_size (header, element, padding "
	       "that spreads objects\n  over memory channels) and "
	       "RTE_MAX_LCORE x sizeof(struct rte_mempool_cache) in every\n"
	       "  cached pool.  \"allocated\" is what the allocators handed "
	       "out (malloc and mappings;\n  rte_malloc heap), including "
	       "bookkeeping the formula leaves out.\n");
}

/* ---- failures ----------------------------------------------------------- */

unsigned int bench_print_failures(void)
{
	const struct bench_lib *const *libs = bench_libs;
	unsigned int i, e, l, n = 0;
	char name[32];

	for (i = 0; i < bench_nrows; i++)
		for (l = 0; l < BENCH_NLIBS; l++)
			n += libs[l] != NULL && !bench_res[i][l].ok;
	for (e = 0; e < BENCH_NMEM; e++) {
		snprintf(name, sizeof(name), "memory/e%u", bench_mem_elts[e]);
		if (!bench_row_wanted(name))
			continue;
		for (l = 0; l < BENCH_NLIBS; l++)
			n += libs[l] != NULL && !bench_memres[e][l].ok;
	}
	if (n > 0)
		printf("\n%u measurement(s) failed\n", n);
	return n;
}

/* ---- CSV ---------------------------------------------------------------- */

static const char *const kind_names[] = {
	[BK_POOL] = "pool", [BK_PRODCONS] = "prodcons",
	[BK_HANDLER] = "handler-nocache", [BK_RING] = "ring-direct",
	[BK_V2P_POOL] = "virt2phy", [BK_V2P_MEM] = "virt2phy",
	[BK_MBUF] = "mbuf", [BK_TXC] = "txc", [BK_MEMCPY] = "floor",
};

static void csv_num(FILE *f, double v)
{
	if (v >= 0)
		fprintf(f, ",%.4f", v);
	else
		fprintf(f, ",");
}

static void csv_line(FILE *f, const char *row, const char *kind,
		     const struct bench_row *r, const char *metric,
		     const double x[3], const double y[3])
{
	fprintf(f, "%s,%s", row, kind);
	if (r != NULL)
		fprintf(f, ",%u,%u,%u,%u,%u", r->cache, r->bulk, r->keep,
			r->elt, r->threads);
	else
		fprintf(f, ",,,,,");
	fprintf(f, ",%s", metric);
	csv_num(f, x[0]);
	csv_num(f, x[1]);
	csv_num(f, x[2]);
	csv_num(f, y[0]);
	csv_num(f, y[1]);
	csv_num(f, y[2]);
	csv_num(f, ratio(x[0], y[0]));
	fprintf(f, "\n");
}

/* The memory rows: per object, per pool, allocated, caches. */
static void csv_memory(FILE *f)
{
	static const char *const metrics[] = {
		"bytes_per_object", "bytes_per_pool", "bytes_allocated",
		"caches",
	};
	unsigned int e, k, l;
	char row[32];

	for (e = 0; e < BENCH_NMEM; e++) {
		snprintf(row, sizeof(row), "memory/e%u", bench_mem_elts[e]);
		for (k = 0; k < 4; k++) {
			double v[BENCH_NLIBS][3];

			for (l = 0; l < BENCH_NLIBS; l++) {
				const struct bench_mem_result *mr =
					&bench_memres[e][l];
				const struct bench_mem *m = &mr->m;
				double x = -1;

				if (mr->ok && k == 0)
					x = m->obj_bytes + m->slot_bytes;
				else if (mr->ok && k == 1)
					x = (double)mem_total(m);
				else if (mr->ok && k == 2 && mr->measured != 0)
					x = (double)mr->measured;
				else if (mr->ok && k == 3)
					x = m->ncaches;
				v[l][0] = v[l][1] = v[l][2] = x;
			}
			csv_line(f, row, "memory", NULL, metrics[k], v[0],
				 v[1]);
		}
	}
}

int bench_write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i, l;

	if (f == NULL) {
		fprintf(stderr, "cannot write %s: %m\n", path);
		return -1;
	}
	fprintf(f, "row,kind,cache,bulk,keep,elt,threads,metric,xenpool,"
		   "xenpool_min,xenpool_max,dpdk,dpdk_min,dpdk_max,ratio\n");
	for (i = 0; i < bench_nrows; i++) {
		const struct bench_row *r = &bench_rows[i];
		double v[BENCH_NLIBS][3];

		for (l = 0; l < BENCH_NLIBS; l++) {
			const struct bench_stat *s = &bench_res[i][l];

			v[l][0] = s->ok ? s->med : -1;
			v[l][1] = s->ok ? s->min : -1;
			v[l][2] = s->ok ? s->max : -1;
		}
		csv_line(f, r->name, kind_names[r->kind], r, "cycles_per_obj",
			 v[0], v[1]);
		if (!bench_opt.callgrind)
			continue;
		for (l = 0; l < BENCH_NLIBS; l++)
			v[l][0] = v[l][1] = v[l][2] = bench_res[i][l].ir;
		csv_line(f, r->name, kind_names[r->kind], r, "ir_per_obj",
			 v[0], v[1]);
	}
	csv_memory(f);
	if (bench_floor.ok) {
		/* The same figure in both columns: it is neither library's. */
		const struct bench_stat *fl = &bench_floor;
		double v[3] = { fl->med, fl->min, fl->max };

		csv_line(f, "floor/cas2", "floor", NULL, "cycles_per_obj", v,
			 v);
	}
	return fclose(f) == 0 ? 0 : -1;
}
