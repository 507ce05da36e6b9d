/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: running the rows.  Each row runs on xenpool and on DPDK
 * alternately (xenpool, DPDK, xenpool, DPDK, ...) in one process, pinned;
 * the result is the median and the range of TSC cycles per object.  Also
 * here: the memory rows, the floor of two compare-and-swaps, and the
 * second thread of the two-thread rows.  See doc/performance.md, "How it
 * measures".
 */
#include "config.h"

#include <alloca.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "bench/driver.h"

volatile uint64_t bench_sink;
unsigned int bench_shift;

const struct bench_lib *bench_libs[BENCH_NLIBS];
struct bench_stat bench_res[BENCH_MAX_ROWS][BENCH_NLIBS];
struct bench_mem_result bench_memres[BENCH_NMEM][BENCH_NLIBS];
unsigned int bench_mem_threads;
struct bench_stat bench_floor;

/* ---- the libraries ------------------------------------------------------ */

int bench_start_libs(void)
{
	bench_libs[0] = &bench_xp_lib;
#ifdef XP_HAVE_DPDK
	if (!bench_opt.no_dpdk) {
		if (bench_dpdk_init(bench_opt.cpu, bench_opt.verbose) != 0) {
			fprintf(stderr, "DPDK's EAL did not start (try "
				"--no-dpdk to measure xenpool alone)\n");
			return -1;
		}
		bench_libs[1] = &bench_dpdk_lib;
	}
#endif
	return 0;
}

void bench_stop_libs(void)
{
#ifdef XP_HAVE_DPDK
	if (bench_libs[1] != NULL)
		bench_dpdk_fini();
#endif
}

/* ---- time --------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t now(void)
{
	return __rdtsc();
}
#else
static inline uint64_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* ---- context memory ----------------------------------------------------- */

void *bench_ctx_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void bench_ctx_free(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, size);
}

/* ---- CPUs --------------------------------------------------------------- */

static int pin_self(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void bench_pin_main(void)
{
	if (pin_self(bench_opt.cpu) != 0)
		fprintf(stderr, "cannot pin to CPU %u\n", bench_opt.cpu);
}

void bench_pick_cpu2(void)
{
	struct bench_options *o = &bench_opt;
	cpu_set_t set;
	unsigned int c;

	if (o->cpu2_set)
		return;
	o->cpu2 = o->cpu;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (c != o->cpu && CPU_ISSET(c, &set)) {
			o->cpu2 = c;
			return;
		}
}

/* ---- the second thread -------------------------------------------------- */

static struct {
	pthread_t tid;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int running;
	int quit;
	unsigned int posted, finished; /* under lock */
	const struct bench_lib *lib;   /* the job, under lock */
	void *ctx;
	unsigned int role;
	uint64_t iters;
	uint64_t cycles;
	int ret;
	_Atomic unsigned int gate; /* 1: worker ready, 2: go */
} wk = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void *worker_main(void *arg)
{
	unsigned int seen = 0;

	(void)arg;
	if (pin_self(bench_opt.cpu2) != 0)
		fprintf(stderr, "cannot pin the second thread to CPU %u\n",
			bench_opt.cpu2);
#ifdef XP_HAVE_DPDK
	if (bench_libs[1] != NULL && bench_dpdk_thread_register() != 0)
		fprintf(stderr, "DPDK: rte_thread_register failed: the second "
				"thread has no DPDK cache\n");
#endif
	for (;;) {
		const struct bench_lib *lib;
		void *ctx;
		unsigned int role;
		uint64_t iters, t0, t1;
		int ret;

		pthread_mutex_lock(&wk.lock);
		while (wk.posted == seen && !wk.quit)
			pthread_cond_wait(&wk.cond, &wk.lock);
		if (wk.quit) {
			pthread_mutex_unlock(&wk.lock);
			break;
		}
		seen = wk.posted;
		lib = wk.lib;
		ctx = wk.ctx;
		role = wk.role;
		iters = wk.iters;
		pthread_mutex_unlock(&wk.lock);

		atomic_fetch_add(&wk.gate, 1);
		while (atomic_load(&wk.gate) != 2)
			bench_pause();
		t0 = now();
		ret = lib->run(ctx, role, iters);
		t1 = now();

		pthread_mutex_lock(&wk.lock);
		wk.cycles = t1 - t0;
		wk.ret = ret;
		wk.finished = seen;
		pthread_cond_broadcast(&wk.cond);
		pthread_mutex_unlock(&wk.lock);
	}
#ifdef XP_HAVE_DPDK
	if (bench_libs[1] != NULL)
		bench_dpdk_thread_unregister();
#endif
	return NULL;
}

static int worker_start(void)
{
	if (wk.running)
		return 0;
	if (pthread_create(&wk.tid, NULL, worker_main, NULL) != 0) {
		fprintf(stderr, "cannot start the second thread\n");
		return -1;
	}
	wk.running = 1;
	return 0;
}

void bench_worker_stop(void)
{
	if (!wk.running)
		return;
	pthread_mutex_lock(&wk.lock);
	wk.quit = 1;
	pthread_cond_broadcast(&wk.cond);
	pthread_mutex_unlock(&wk.lock);
	pthread_join(wk.tid, NULL);
	wk.running = 0;
}

/*
 * Run role 0 here and role 1 on the second thread, started together; the
 * result is the longer of the two runs, each timed on its own CPU.
 */
static int run_pair(const struct bench_lib *lib, void *ctx, uint64_t iters,
		    uint64_t *cycles)
{
	uint64_t t0, t1;
	int ret;

	if (worker_start() != 0)
		return -1;
	atomic_store(&wk.gate, 0);
	pthread_mutex_lock(&wk.lock);
	wk.lib = lib;
	wk.ctx = ctx;
	wk.role = 1;
	wk.iters = iters;
	wk.posted++;
	pthread_cond_broadcast(&wk.cond);
	pthread_mutex_unlock(&wk.lock);

	while (atomic_load(&wk.gate) != 1)
		bench_pause();
	atomic_store(&wk.gate, 2);
	t0 = now();
	ret = lib->run(ctx, 0, iters);
	t1 = now();

	pthread_mutex_lock(&wk.lock);
	while (wk.finished != wk.posted)
		pthread_cond_wait(&wk.cond, &wk.lock);
	*cycles = t1 - t0 > wk.cycles ? t1 - t0 : wk.cycles;
	if (ret == 0)
		ret = wk.ret;
	pthread_mutex_unlock(&wk.lock);
	return ret;
}

/*
 * Cache lines by which the measured loop's stack frame moves down, the same
 * for both libraries in a run: the kernel places the stack at a random
 * offset within its page at each start, and a loop's spilled locals that
 * happen to share their low 12 address bits with a library's hot fields
 * could slow a whole process down (see BENCH_SHIFT_SPAN).
 */
static unsigned int stack_shift;

static int run_once(const struct bench_lib *lib, void *ctx,
		    const struct bench_row *r, uint64_t iters, uint64_t *cycles)
{
	volatile char *pad = alloca(stack_shift * 64 + 16);
	uint64_t t0;
	int ret;

	pad[0] = 0;
	if (bench_two_threads(r))
		return run_pair(lib, ctx, iters, cycles);
	t0 = now();
	ret = lib->run(ctx, 0, iters);
	*cycles = now() - t0;
	return ret;
}

/* ---- measuring ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarise(double *v, unsigned int n, struct bench_stat *s)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->ok = 1;
}

static void measure_row(unsigned int ri)
{
	const struct bench_lib *const *libs = bench_libs;
	const struct bench_row *r = &bench_rows[ri];
	unsigned int reps = bench_opt.reps;
	uint64_t iters = bench_iters_for(r, bench_opt.objs);
	double nobj = (double)bench_objs_counted(r, iters);
	double *v[BENCH_NLIBS];
	void *ctx[BENCH_NLIBS] = {NULL};
	unsigned int l, rep;
	uint64_t cyc;

	for (l = 0; l < BENCH_NLIBS; l++) {
		bench_res[ri][l].ir = -1;
		v[l] = calloc(reps, sizeof(double));
		if (libs[l] != NULL && v[l] != NULL)
			ctx[l] = libs[l]->prepare(r);
	}
	/* Warm up: caches allocated and filled, pages touched. */
	for (l = 0; l < BENCH_NLIBS; l++)
		if (ctx[l] != NULL &&
		    run_once(libs[l], ctx[l], r, iters, &cyc) != 0) {
			fprintf(stderr, "%s: row %s failed\n", libs[l]->name,
				r->name);
			libs[l]->release(ctx[l]);
			ctx[l] = NULL;
		}
	for (rep = 0; rep < reps; rep++) {
		/* 23 and 13 lines on each run: 64 placements before one
		 * repeats, and the two arrays do not move together. */
		bench_shift = (rep + 1) * 8 * 23 % BENCH_SHIFT_SPAN;
		stack_shift = (rep + 1) * 13 % 64;
		for (l = 0; l < BENCH_NLIBS; l++) {
			if (ctx[l] == NULL)
				continue;
			if (run_once(libs[l], ctx[l], r, iters, &cyc) != 0) {
				fprintf(stderr, "%s: row %s failed\n",
					libs[l]->name, r->name);
				libs[l]->release(ctx[l]);
				ctx[l] = NULL;
				continue;
			}
			v[l][rep] = (double)cyc / nobj;
		}
	}
	bench_shift = 0;
	stack_shift = 0;
	for (l = 0; l < BENCH_NLIBS; l++) {
		if (ctx[l] != NULL) {
			summarise(v[l], reps, &bench_res[ri][l]);
			libs[l]->release(ctx[l]);
		}
		free(v[l]);
	}
}

void bench_measure_rows(void)
{
	unsigned int i;

	for (i = 0; i < bench_nrows; i++) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r%u/%u %-28s", i + 1, bench_nrows,
				bench_rows[i].name);
		measure_row(i);
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r%50s\r", "");
}

/* ---- memory ------------------------------------------------------------- */

/* A cached pool used by both threads, as the two-thread rows use theirs. */
void bench_measure_memory(void)
{
	const struct bench_lib *const *libs = bench_libs;
	unsigned int e, l;
	char name[32];

	bench_mem_threads = bench_opt.cpu2 != bench_opt.cpu ? 2 : 1;
	for (e = 0; e < BENCH_NMEM; e++) {
		struct bench_row r = {
			.kind = BK_POOL, .cache = 256, .bulk = 32, .keep = 32,
			.elt = bench_mem_elts[e], .threads = bench_mem_threads,
		};

		snprintf(name, sizeof(name), "memory/e%u", bench_mem_elts[e]);
		snprintf(r.name, sizeof(r.name), "%s", name);
		if (!bench_row_wanted(name))
			continue;
		for (l = 0; l < BENCH_NLIBS; l++) {
			struct bench_mem_result *mr = &bench_memres[e][l];
			uint64_t h0, h1, cyc;
			void *ctx;

			if (libs[l] == NULL)
				continue;
			h0 = libs[l]->heap_used();
			ctx = libs[l]->prepare(&r);
			if (ctx == NULL)
				continue;
			if (run_once(libs[l], ctx, &r, 1, &cyc) == 0) {
				h1 = libs[l]->heap_used();
				libs[l]->memory(ctx, &mr->m);
				mr->ok = 1;
				if (h0 != 0 && h1 >= h0)
					mr->measured = h1 - h0 + mr->m.mapped;
			}
			libs[l]->release(ctx);
		}
	}
}

/* ---- what the back ends share -------------------------------------------- */

unsigned int bench_txc_counts[BENCH_TXC_LEN] = {
	32, 1, 31, 16, 16, 7, 9, 16, 3, 5, 8, 13, 3, 30, 2,
	4, 4, 4, 4, 4, 4, 4, 4, 13, 19, 1, 1, 1, 29, 20, 12,
};

/* A store the size of a cache's (2 x 256 slots), half full, as a cache is
 * between bursts. */
static void *memcpy_store[512] __attribute__((aligned(64)));

BENCH_OPAQUE int bench_memcpy_loop(void **objs, unsigned int keep,
				   uint64_t iters, unsigned int n)
{
	size_t bytes = (size_t)n * sizeof(void *);
	unsigned int len = 256, i;
	uint64_t it;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < keep; i += n) {
			len -= n;
			memcpy(&objs[i], &memcpy_store[len], bytes);
		}
		for (i = 0; i < keep; i += n) {
			memcpy(&memcpy_store[len], &objs[i], bytes);
			len += n;
		}
	}
	return 0;
}

/* ---- the floor without a cache ----------------------------------------- */

/* Two heads a cache line apart, as a ring's producer and consumer heads. */
static struct {
	_Alignas(64) uint32_t head;
} rmw_heads[2];

/*
 * A get and a put on a multi-producer, multi-consumer ring each move a head
 * with an atomic compare-and-swap: both libraries' rings do, and any MPMC
 * structure needs one read-modify-write per side.  Time those two alone, on
 * the CPU of the rows and in the order of the n_keep 32 rows (32 gets, then
 * 32 puts), where each depends on the one before on the same head: at bulk
 * 1 without a cache neither library can go below it.
 */
void bench_measure_floor(void)
{
	uint64_t objs = bench_opt.objs;
	uint64_t iters = objs < 32 ? 32 : objs / 32 * 32, it, t0;
	double *v = calloc(bench_opt.reps, sizeof(double));
	unsigned int rep, k, j;

	if (v == NULL)
		return;
	for (rep = 0; rep < bench_opt.reps; rep++) {
		t0 = now();
		for (it = 0; it < iters; it += 32)
			for (k = 0; k < 2; k++)
				for (j = 0; j < 32; j++) {
					uint32_t h = __atomic_load_n(
						&rmw_heads[k].head,
						__ATOMIC_ACQUIRE);

					(void)__atomic_compare_exchange_n(
						&rmw_heads[k].head, &h, h + 1,
						0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE);
				}
		v[rep] = (double)(now() - t0) / (double)iters;
	}
	summarise(v, bench_opt.reps, &bench_floor);
	free(v);
}
