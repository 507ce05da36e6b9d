/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: what the driver's files share; the back ends see only
 * bench.h.  The driver is split by what each part does:
 *
 *   options.c    the command line: the options, --help, their checks
 *   rows.c       the rows: their names and parameters, which --only keeps
 *   run.c        running them: the libraries, pinning, the second thread,
 *                timing, the memory rows and the floor
 *   callgrind.c  the instruction counts: the counted runs of the child
 *                under callgrind, and the parent that starts it and reads
 *                its dumps
 *   report.c     the output: the header, the tables, the CSV file
 *   main.c       the order of those steps
 */
#ifndef XP_BENCH_DRIVER_H
#define XP_BENCH_DRIVER_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench.h"

#define BENCH_NLIBS 2 /* xenpool, DPDK */
#define BENCH_MAX_ROWS 128

/* What run.c's clock counts. */
#if defined(__x86_64__) || defined(__i386__)
#define BENCH_UNIT "TSC cycles"
#else
#define BENCH_UNIT "ns"
#endif

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define BENCH_HAVE_CALLGRIND 0
#endif

/* ---- options.c ---------------------------------------------------------- */

struct bench_options {
	int full;
	unsigned int reps;
	uint64_t objs;    /* objects per measurement */
	uint64_t cg_objs; /* objects per callgrind measurement */
	unsigned int cpu, cpu2;
	int cpu2_set;
	const char *csv;
	const char *only;
	regex_t only_re; /* compiled when only != NULL */
	int no_dpdk;
	int callgrind;
	const char *cg_dir;
	int cg_child;
	int list;
	int verbose;
};

extern struct bench_options bench_opt;

/* Fill bench_opt from the command line, or exit: 0 after --help, 2 for a
 * bad option. */
void bench_parse_options(int argc, char **argv);

/* ---- rows.c ------------------------------------------------------------- */

/* The bulk sizes of the rows, and the element sizes of the memory rows. */
#define BENCH_NBULKS 3
extern const unsigned int bench_bulks[BENCH_NBULKS];
#define BENCH_NMEM 2
extern const unsigned int bench_mem_elts[BENCH_NMEM];
/* The burst sizes of the burst-shape rows. */
#define BENCH_NBURSTS 9
extern const unsigned int bench_bursts[BENCH_NBURSTS];

extern struct bench_row bench_rows[BENCH_MAX_ROWS];
extern unsigned int bench_nrows;

/* The rows in their order, those --only does not select left out. */
void bench_build_rows(void);
/* 1 if --only selects @name (or there is no --only). */
int bench_row_wanted(const char *name);
/* Index of the row named @name among those built, or -1. */
int bench_find_row(const char *name);
/* Objects counted in a measurement of @iters iterations. */
uint64_t bench_objs_counted(const struct bench_row *r, uint64_t iters);
/* Iterations that handle about @objs objects (at least 1). */
uint64_t bench_iters_for(const struct bench_row *r, uint64_t objs);

static inline int bench_two_threads(const struct bench_row *r)
{
	return r->threads == 2;
}

/* ---- run.c: the libraries and the results ------------------------------- */

struct bench_stat {
	double med, min, max;
	double ir; /* instructions per object, < 0: not counted */
	int ok;
};

/* Memory of one pool: computed by the back end, and allocated. */
struct bench_mem_result {
	int ok;
	struct bench_mem m;
	size_t measured; /* 0: unknown */
};

/* [0] xenpool, [1] DPDK (NULL when not built in or --no-dpdk). */
extern const struct bench_lib *bench_libs[BENCH_NLIBS];
extern struct bench_stat bench_res[BENCH_MAX_ROWS][BENCH_NLIBS];
extern struct bench_mem_result bench_memres[BENCH_NMEM][BENCH_NLIBS];
extern unsigned int bench_mem_threads;
extern struct bench_stat bench_floor; /* two compare-and-swaps alone */

/* 0, or -1 if DPDK's EAL did not start (it said why). */
int bench_start_libs(void);
void bench_stop_libs(void);
/* The second thread's CPU where --cpu2 did not give it. */
void bench_pick_cpu2(void);
/* Pin the calling (main) thread to --cpu, or say it could not. */
void bench_pin_main(void);
/* Measure every row, with progress on standard error if a terminal. */
void bench_measure_rows(void);
void bench_measure_memory(void);
void bench_measure_floor(void);
/* End the second thread, if it was started. */
void bench_worker_stop(void);

/* ---- callgrind.c -------------------------------------------------------- */

/* In the child under callgrind: count every one-thread row; returns the
 * runs that failed. */
unsigned int bench_count_rows(void);
/* In the parent: run the child under valgrind and read the counts into
 * bench_res[][].ir; 0, or -1 if that failed in part or whole. */
int bench_run_callgrind(void);

/* ---- report.c ----------------------------------------------------------- */

void bench_print_list(void);
void bench_print_header(void);
void bench_print_table(void);
void bench_print_bursts(void);
void bench_print_dispatch(void);
void bench_print_scaling(void);
void bench_print_memory(void);
/* Print how many measurements failed, if any; returns that number. */
unsigned int bench_print_failures(void);
/* 0, or -1 if the file could not be written (said on standard error). */
int bench_write_csv(const char *path);

#endif /* XP_BENCH_DRIVER_H */
