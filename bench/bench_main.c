/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: the driver.  Builds the rows, runs each row on xenpool and
 * on DPDK alternately (xenpool, DPDK, xenpool, DPDK, ...) in one process,
 * pinned, and prints the median and the range of TSC cycles per object.
 * With --callgrind it then runs itself under callgrind, which counts the
 * instructions of each measured loop between a CALLGRIND_ZERO_STATS and a
 * CALLGRIND_DUMP_STATS_AT, and prints instructions per object beside.
 * See doc/performance.md.
 */
#include "config.h"

#include <dirent.h>
#include <alloca.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef BENCH_HAVE_CALLGRIND
#define BENCH_HAVE_CALLGRIND 0
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#include <xenpool/common.h>
#include <xenpool/mempool.h>

#include "bench/bench.h"

#define NLIBS 2 /* xenpool, DPDK */
#define MAX_ROWS 96
#define CG_TAG "xpb|"

volatile uint64_t bench_sink;
unsigned int bench_shift;

static struct {
	int full;
	unsigned int reps;
	uint64_t objs;    /* objects per measurement */
	uint64_t cg_objs; /* objects per callgrind measurement */
	unsigned int cpu, cpu2;
	int cpu2_set;
	const char *csv;
	const char *only;
	int no_dpdk;
	int callgrind;
	const char *cg_dir;
	int cg_child;
	int list;
	int verbose;
} opt = { .reps = 0, .cpu = 1 };

static const struct bench_lib *libs[NLIBS];

struct stat_set {
	double med, min, max;
	double ir; /* instructions per object, < 0: not counted */
	int ok;
};

static struct bench_row rows[MAX_ROWS];
static struct stat_set res[MAX_ROWS][NLIBS];
static unsigned int nrows;

/* ---- time --------------------------------------------------------------- */

#if defined(__x86_64__) || defined(__i386__)
#define UNIT "TSC cycles"
static inline uint64_t now(void)
{
	return __rdtsc();
}
#else
#define UNIT "ns"
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

/* ---- rows --------------------------------------------------------------- */

static int row_wanted(const char *name)
{
	static regex_t re;
	static int compiled;

	if (opt.only == NULL)
		return 1;
	if (!compiled) {
		if (regcomp(&re, opt.only, REG_EXTENDED | REG_NOSUB) != 0) {
			fprintf(stderr, "bad --only regular expression\n");
			exit(2);
		}
		compiled = 1;
	}
	return regexec(&re, name, 0, NULL, 0) == 0;
}

static void add_row(enum bench_kind kind, unsigned int cache, unsigned int bulk,
		    unsigned int keep, unsigned int elt, unsigned int threads,
		    const char *name)
{
	struct bench_row *r = &rows[nrows];

	if (!row_wanted(name))
		return;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->cache = cache;
	r->bulk = bulk;
	r->keep = keep;
	r->elt = elt;
	r->threads = threads;
	nrows++;
}

static const unsigned int bulks[] = {1, 4, 32};
static const unsigned int caches[] = {256, 0};

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
					 bulks[b], keeps[k], elts[e], threads);
				add_row(BK_POOL, cache, bulks[b], keeps[k],
					elts[e], threads, name);
			}
}

static void build_rows(void)
{
	unsigned int t, c, b;
	char name[64];

	for (t = 1; t <= 2; t++)
		for (c = 0; c < 2; c++)
			add_pool_rows(t, caches[c]);
	for (c = 0; c < 2; c++)
		for (b = 0; b < 3; b += 2) {
			snprintf(name, sizeof(name), "prodcons/c%u/b%u/e64",
				 caches[c], bulks[b]);
			add_row(BK_PRODCONS, caches[c], bulks[b], 0, 64, 2,
				name);
		}
	for (b = 0; b < 3; b++) {
		snprintf(name, sizeof(name), "handler-nocache/b%u/k32",
			 bulks[b]);
		add_row(BK_HANDLER, 0, bulks[b], 32, 64, 1, name);
		snprintf(name, sizeof(name), "ring-direct/b%u/k32", bulks[b]);
		add_row(BK_RING, 0, bulks[b], 32, 64, 1, name);
	}
	add_row(BK_V2P_POOL, 256, 1, BENCH_MAX_KEEP, 64, 1,
		"virt2phy/mempool");
	add_row(BK_V2P_MEM, 256, 1, BENCH_MAX_KEEP, 64, 1, "virt2phy/mem");
	add_row(BK_MBUF, 256, 32, 32, 0, 1, "mbuf/c256/b32");
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

static int two_threads(const struct bench_row *r)
{
	return r->threads == 2;
}

/* Objects counted in a measurement: both threads' in the two-thread pool
 * rows; a producer/consumer object counts once (got once, put once). */
static uint64_t objs_counted(const struct bench_row *r, uint64_t iters)
{
	uint64_t n = iters * objs_per_iter(r);

	return r->kind == BK_POOL && r->threads == 2 ? 2 * n : n;
}

static uint64_t iters_for(const struct bench_row *r, uint64_t objs)
{
	uint64_t it = objs / objs_per_iter(r);

	if (r->kind == BK_POOL && r->threads == 2)
		it /= 2;
	return it > 0 ? it : 1;
}

/* ---- CPUs --------------------------------------------------------------- */

static int pin_self(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void pick_cpu2(void)
{
	cpu_set_t set;
	unsigned int c;

	if (opt.cpu2_set)
		return;
	opt.cpu2 = opt.cpu;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (c != opt.cpu && CPU_ISSET(c, &set)) {
			opt.cpu2 = c;
			return;
		}
}

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
	if (pin_self(opt.cpu2) != 0)
		fprintf(stderr, "cannot pin the second thread to CPU %u\n",
			opt.cpu2);
#ifdef XP_HAVE_DPDK
	if (libs[1] != NULL && bench_dpdk_thread_register() != 0)
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
	if (libs[1] != NULL)
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

static void worker_stop(void)
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
 * made a whole process measure twice as slow (see BENCH_SHIFT_SPAN).
 */
static unsigned int stack_shift;

static int run_once(const struct bench_lib *lib, void *ctx,
		    const struct bench_row *r, uint64_t iters, uint64_t *cycles)
{
	volatile char *pad = alloca(stack_shift * 64 + 16);
	uint64_t t0;
	int ret;

	pad[0] = 0;
	if (two_threads(r))
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

static void summarise(double *v, unsigned int n, struct stat_set *s)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->ok = 1;
}

static void measure_row(unsigned int ri)
{
	const struct bench_row *r = &rows[ri];
	uint64_t iters = iters_for(r, opt.objs);
	double nobj = (double)objs_counted(r, iters);
	double *v[NLIBS];
	void *ctx[NLIBS] = {NULL};
	unsigned int l, rep;
	uint64_t cyc;

	for (l = 0; l < NLIBS; l++) {
		res[ri][l].ir = -1;
		v[l] = calloc(opt.reps, sizeof(double));
		if (libs[l] != NULL && v[l] != NULL)
			ctx[l] = libs[l]->prepare(r);
	}
	/* Warm up: caches allocated and filled, pages touched. */
	for (l = 0; l < NLIBS; l++)
		if (ctx[l] != NULL &&
		    run_once(libs[l], ctx[l], r, iters, &cyc) != 0) {
			fprintf(stderr, "%s: row %s failed\n", libs[l]->name,
				r->name);
			libs[l]->release(ctx[l]);
			ctx[l] = NULL;
		}
	for (rep = 0; rep < opt.reps; rep++) {
		/* 23 and 13 lines on each run: 64 placements before one
		 * repeats, and the two arrays do not move together. */
		bench_shift = (rep + 1) * 8 * 23 % BENCH_SHIFT_SPAN;
		stack_shift = (rep + 1) * 13 % 64;
		for (l = 0; l < NLIBS; l++) {
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
	for (l = 0; l < NLIBS; l++) {
		if (ctx[l] != NULL) {
			summarise(v[l], opt.reps, &res[ri][l]);
			libs[l]->release(ctx[l]);
		}
		free(v[l]);
	}
}

/* Under callgrind: one counted run per library, after a warm-up run.
 * @return the runs that failed. */
static unsigned int count_row(unsigned int ri)
{
	const struct bench_row *r = &rows[ri];
	uint64_t iters = iters_for(r, opt.cg_objs);
	char tag[128];
	unsigned int l, failed = 0;
	void *ctx;
	int ret;

	if (two_threads(r))
		return 0;
	for (l = 0; l < NLIBS; l++) {
		if (libs[l] == NULL)
			continue;
		ctx = libs[l]->prepare(r);
		if (ctx == NULL) {
			fprintf(stderr, "%s: row %s: no pool\n", libs[l]->name,
				r->name);
			failed++;
			continue;
		}
		ret = libs[l]->run(ctx, 0, iters);
		snprintf(tag, sizeof(tag), CG_TAG "%.40s|%u|%llu", r->name, l,
			 (unsigned long long)objs_counted(r, iters));
		CALLGRIND_ZERO_STATS;
		ret |= libs[l]->run(ctx, 0, iters);
		CALLGRIND_DUMP_STATS_AT(tag);
		if (ret != 0) {
			fprintf(stderr, "%s: row %s failed\n", libs[l]->name,
				r->name);
			failed++;
		}
		libs[l]->release(ctx);
	}
	return failed;
}

/* ---- callgrind: run ourselves under valgrind, read the dumps ------------ */

static int find_row(const char *name)
{
	unsigned int i;

	for (i = 0; i < nrows; i++)
		if (strcmp(rows[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One dump part: "desc: Trigger: Client Request: <tag>" and "totals: N". */
static void read_dump(const char *path)
{
	static const char trigger[] = "desc: Trigger: Client Request: " CG_TAG;
	char line[512], name[64] = "";
	unsigned long long total = 0, nobj = 0;
	unsigned int l = NLIBS;
	int have_total = 0, ri;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p;

		if (strncmp(line, trigger, sizeof(trigger) - 1) == 0) {
			p = line + sizeof(trigger) - 1;
			if (sscanf(p, "%63[^|]|%u|%llu", name, &l, &nobj) != 3)
				l = NLIBS;
		} else if (strncmp(line, "totals:", 7) == 0 ||
			   (!have_total && strncmp(line, "summary:", 8) == 0)) {
			p = strchr(line, ':') + 1;
			total = strtoull(p, NULL, 10);
			have_total = 1;
		}
	}
	fclose(f);
	ri = find_row(name);
	if (ri >= 0 && l < NLIBS && nobj > 0 && have_total)
		res[ri][l].ir = (double)total / (double)nobj;
}

static void remove_tree(const char *dir)
{
	char path[4096 + 256];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int run_callgrind(void)
{
	char self[4096], dirbuf[4096], outf[4200], logf[4200];
	char cpu[16], objs[32];
	const char *vg = getenv("VALGRIND");
	const char *tmp = getenv("TMPDIR");
	const char *argv[24], *dir;
	struct dirent *de;
	int argc = 0, status;
	ssize_t n;
	pid_t pid;
	DIR *d;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("callgrind: /proc/self/exe");
		return -1;
	}
	self[n] = '\0';
	if (opt.cg_dir != NULL) {
		dir = opt.cg_dir;
		if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
			fprintf(stderr, "callgrind: cannot create %s: %m\n",
				dir);
			return -1;
		}
	} else {
		snprintf(dirbuf, sizeof(dirbuf), "%s/xenpool-bench-cg.XXXXXX",
			 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if (mkdtemp(dirbuf) == NULL) {
			fprintf(stderr, "callgrind: cannot create %s: %m\n",
				dirbuf);
			return -1;
		}
		dir = dirbuf;
	}
	snprintf(outf, sizeof(outf), "--callgrind-out-file=%s/cg.out", dir);
	snprintf(logf, sizeof(logf), "--log-file=%s/valgrind.log", dir);
	snprintf(cpu, sizeof(cpu), "%u", opt.cpu);
	snprintf(objs, sizeof(objs), "%llu", (unsigned long long)opt.cg_objs);
	argv[argc++] = vg != NULL && *vg != '\0' ? vg : "valgrind";
	argv[argc++] = "--tool=callgrind";
	argv[argc++] = "--instr-atstart=no";
	argv[argc++] = outf;
	argv[argc++] = logf;
	argv[argc++] = self;
	argv[argc++] = "--callgrind-child";
	argv[argc++] = "--cpu";
	argv[argc++] = cpu;
	argv[argc++] = "--cg-objs";
	argv[argc++] = objs;
	if (libs[1] == NULL)
		argv[argc++] = "--no-dpdk";
	if (opt.only != NULL) {
		argv[argc++] = "--only";
		argv[argc++] = opt.only;
	}
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("callgrind: fork");
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "callgrind: cannot run %s: %m\n", argv[0]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		fprintf(stderr, "callgrind: the run under %s failed; see %s\n",
			argv[0], dir);
		return -1;
	}
	/* Exit status 1: some rows failed (it said which); the others
	 * were counted and are read below. */
	if (WEXITSTATUS(status) != 0)
		fprintf(stderr, "callgrind: the run under %s exited with %d\n",
			argv[0], WEXITSTATUS(status));
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char path[4400];

		if (strncmp(de->d_name, "cg.out", 6) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		read_dump(path);
	}
	closedir(d);
	if (opt.cg_dir == NULL)
		remove_tree(dir);
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- memory ------------------------------------------------------------- */

static const unsigned int mem_elts[] = {64, 2048};
#define NMEM (sizeof(mem_elts) / sizeof(mem_elts[0]))

static struct {
	int ok;
	struct bench_mem m;
	size_t measured; /* 0: unknown */
} memres[NMEM][NLIBS];
static unsigned int mem_threads;

static size_t mem_total(const struct bench_mem *m)
{
	return m->objects + m->ring + m->pool + m->caches;
}

/* A cached pool used by both threads, as the two-thread rows use theirs. */
static void measure_memory(void)
{
	unsigned int e, l;
	char name[32];

	mem_threads = opt.cpu2 != opt.cpu ? 2 : 1;
	for (e = 0; e < NMEM; e++) {
		struct bench_row r = {
			.kind = BK_POOL, .cache = 256, .bulk = 32, .keep = 32,
			.elt = mem_elts[e], .threads = mem_threads,
		};

		snprintf(name, sizeof(name), "memory/e%u", mem_elts[e]);
		snprintf(r.name, sizeof(r.name), "%s", name);
		if (!row_wanted(name))
			continue;
		for (l = 0; l < NLIBS; l++) {
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
				libs[l]->memory(ctx, &memres[e][l].m);
				memres[e][l].ok = 1;
				if (h0 != 0 && h1 >= h0)
					memres[e][l].measured =
						h1 - h0 + memres[e][l].m.mapped;
			}
			libs[l]->release(ctx);
		}
	}
}

/* ---- output ------------------------------------------------------------- */

static const struct stat_set *stat_of(const char *row, unsigned int l)
{
	int ri = find_row(row);

	return ri >= 0 && res[ri][l].ok ? &res[ri][l] : NULL;
}

static double ir_of(const char *row, unsigned int l)
{
	int ri = find_row(row);

	return ri >= 0 ? res[ri][l].ir : -1;
}

static void fmt_stat(char *buf, size_t len, const struct stat_set *s)
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

static void print_header(void)
{
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
	       model, opt.cpu, opt.cpu2);
#ifdef XP_HAVE_DPDK
	if (libs[1] != NULL)
		printf("DPDK EAL: %s; IOVA as %s\n", bench_dpdk_eal_args(),
		       bench_dpdk_iova_va() ? "VA" : "PA");
#endif
	printf("Pools: %u objects on \"ring_mp_mc\" in both libraries; "
	       "median [min-max] of %u runs of about %llu objects;\n"
	       "  %s per object, an object being one get and one put "
	       "(virt2phy: one call; mbuf: one alloc and one free)\n",
	       BENCH_POOL_SIZE, opt.reps, (unsigned long long)opt.objs, UNIT);
	printf("Caches: both flush when a put would take a cache above "
	       "1.5 x cache_size (DPDK's\n  flushthresh; xenpool uses the "
	       "same threshold by design) and refill to cache_size + request;\n"
	       "  DPDK flushes the whole cache, xenpool down to cache_size.\n");
}

static void print_table(void)
{
	char a[40], b[40], c[16], d[16], e[16], f[16];
	unsigned int i;

	printf("\n%-28s %-22s %-22s %7s", "row", "xenpool cyc/obj",
	       "DPDK cyc/obj", "xp/DPDK");
	if (opt.callgrind)
		printf(" %10s %10s %7s", "xp Ir/obj", "DPDK Ir/obj", "xp/DPDK");
	printf("\n");
	for (i = 0; i < nrows; i++) {
		const struct stat_set *x = &res[i][0], *y = &res[i][1];

		fmt_stat(a, sizeof(a), x);
		fmt_stat(b, sizeof(b), y);
		fmt_num(c, sizeof(c),
			x->ok && y->ok ? ratio(x->med, y->med) : -1, 2);
		printf("%-28s %-22s %-22s %7s", rows[i].name, a, b, c);
		if (opt.callgrind) {
			fmt_num(d, sizeof(d), x->ir, 1);
			fmt_num(e, sizeof(e), y->ir, 1);
			fmt_num(f, sizeof(f), ratio(x->ir, y->ir), 2);
			printf(" %10s %10s %7s", d, e, f);
		}
		printf("\n");
	}
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

/*
 * Cost without a cache over the bare ring, in percent: through the pool API
 * on a pool with cache_size 0 (@generic 0), or through the generic calls with
 * a NULL cache (@generic 1); cycles or (@ir) instructions.
 */
static double dispatch_overhead(unsigned int bulk, unsigned int l, int generic,
				int ir)
{
	char h[40], r[40];
	const struct stat_set *sh, *sr;

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

/* ---- the floor without a cache ----------------------------------------- */

/* Two heads a cache line apart, as a ring's producer and consumer heads. */
static struct {
	_Alignas(64) uint32_t head;
} rmw_heads[2];
static struct stat_set rmw_floor;

/*
 * A get and a put on a multi-producer, multi-consumer ring each move a head
 * with an atomic compare-and-swap: both libraries' rings do, and any MPMC
 * structure needs one read-modify-write per side.  Time those two alone, on
 * the CPU of the rows and in the order of the n_keep 32 rows (32 gets, then
 * 32 puts), where each depends on the one before on the same head: at bulk
 * 1 without a cache neither library can go below it.
 */
static void measure_rmw_floor(void)
{
	uint64_t iters = opt.objs < 32 ? 32 : opt.objs / 32 * 32, it, t0;
	double *v = calloc(opt.reps, sizeof(double));
	unsigned int rep, k, j;

	if (v == NULL)
		return;
	for (rep = 0; rep < opt.reps; rep++) {
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
	summarise(v, opt.reps, &rmw_floor);
	free(v);
}

static void print_dispatch(void)
{
	static const char *const path[] = {
		"pool API, cache_size 0 (pool/c0)",
		"generic, NULL cache (handler-nocache)",
	};
	char v[4][16];
	unsigned int i, g, l;

	printf("\nWithout a cache: cost over the bare ring (ring-direct rows)"
	       "\n%-5s %-38s %8s %8s %8s %8s\n", "bulk", "path", "xp cyc",
	       "xp Ir", "DPDK cyc", "DPDK Ir");
	for (i = 0; i < 3; i++)
		for (g = 0; g < 2; g++) {
			for (l = 0; l < NLIBS; l++) {
				fmt_pct(v[2 * l], sizeof(v[0]),
					dispatch_overhead(bulks[i], l, g, 0));
				fmt_pct(v[2 * l + 1], sizeof(v[0]),
					dispatch_overhead(bulks[i], l, g, 1));
			}
			printf("%-5u %-38s %8s %8s %8s %8s\n", bulks[i],
			       path[g], v[0], v[1], v[2], v[3]);
		}
	if (rmw_floor.ok)
		printf("Floor: a get's and a put's compare-and-swap alone, 32 "
		       "gets then 32 puts, take\n%.2f [%.2f-%.2f] %s per "
		       "object on this CPU; no ring without a cache does bulk 1 "
		       "in less.\n",
		       rmw_floor.med, rmw_floor.min, rmw_floor.max, UNIT);
}

/* Aggregate throughput of the two-thread row over the one-thread row. */
static double scaling(const char *t1row, unsigned int l)
{
	char t2row[40];
	const struct stat_set *s1, *s2;
	size_t n = strlen(t1row);

	snprintf(t2row, sizeof(t2row), "%.*s2", (int)(n - 1), t1row);
	s1 = stat_of(t1row, l);
	s2 = stat_of(t2row, l);
	return s1 != NULL && s2 != NULL ? s1->med / s2->med : -1;
}

static void print_scaling(void)
{
	char a[16], b[16];
	unsigned int i;
	size_t n;

	printf("\nTwo threads: aggregate throughput of 2 threads over 1 "
	       "(CPU %u and CPU %u over CPU %u)\n%-28s %8s %8s\n",
	       opt.cpu, opt.cpu2, opt.cpu, "row (t1 -> t2)", "xenpool",
	       "DPDK");
	for (i = 0; i < nrows; i++) {
		if (rows[i].kind != BK_POOL || rows[i].threads != 1)
			continue;
		fmt_num(a, sizeof(a), scaling(rows[i].name, 0), 2);
		fmt_num(b, sizeof(b), scaling(rows[i].name, 1), 2);
		n = strlen(rows[i].name) - 3;
		printf("%-28.*s %8s %8s\n", (int)n, rows[i].name, a, b);
	}
}

static void print_memory(void)
{
	unsigned int e, l;

	printf("\nMemory of a pool of %u objects, cache_size 256, used by "
	       "%u thread(s); bytes\n", BENCH_POOL_SIZE, mem_threads);
	for (e = 0; e < NMEM; e++) {
		for (l = 0; l < NLIBS; l++) {
			const struct bench_mem *m = &memres[e][l].m;

			if (!memres[e][l].ok)
				continue;
			printf("  %-7s elt %-4u per object %.1f (header %u + "
			       "element %u + padding %u, ring slot %.1f)\n",
			       libs[l]->name, mem_elts[e],
			       m->obj_bytes + m->slot_bytes, m->hdr_bytes,
			       m->elt_bytes, m->trl_bytes, m->slot_bytes);
			printf("  %-7s          per pool %zu = objects %zu + "
			       "ring %zu + pool %zu + caches %u x %zu",
			       "", mem_total(m), m->objects, m->ring, m->pool,
			       m->ncaches, m->cache_each);
			if (memres[e][l].measured != 0)
				printf("; allocated %zu",
				       memres[e][l].measured);
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

/* Judged at the precision printed: what you read is what was compared. */
static void target(const char *what, double v, double limit, int prec)
{
	char val[32];

	fmt_num(val, sizeof(val), v, prec);
	printf("  %-7s %-52s %10s (<= %.*f)\n", v < 0 ? "n/a" :
	       strtod(val, NULL) <= limit ? "met" : "MISSED", what, val, prec,
	       limit);
}

static void target_min(const char *what, double v, double limit)
{
	char val[32];

	fmt_num(val, sizeof(val), v, 2);
	printf("  %-7s %-52s %10s (>= %.2f)\n", v < 0 ? "n/a" :
	       v >= limit ? "met" : "MISSED", what, val, limit);
}

static double ratio_of(const char *row, int ir)
{
	const struct stat_set *x = stat_of(row, 0), *y = stat_of(row, 1);

	if (ir)
		return ratio(ir_of(row, 0), ir_of(row, 1));
	return x != NULL && y != NULL ? ratio(x->med, y->med) : -1;
}

static void print_targets(void)
{
	const struct stat_set *v2p = stat_of("virt2phy/mempool", 0);
	double d;
	char what[64];
	unsigned int i;

	printf("\nTargets of issue 5 (headline rows: n_keep 32, element 64, "
	       "one thread)\n");
	target("cached bulk 32, cycles xp/DPDK",
	       ratio_of("pool/c256/b32/k32/e64/t1", 0), 0.9, 2);
	target("cached bulk 32, instructions xp/DPDK",
	       ratio_of("pool/c256/b32/k32/e64/t1", 1), 0.8, 2);
	target("cached bulk 1, cycles xp/DPDK",
	       ratio_of("pool/c256/b1/k32/e64/t1", 0), 0.7, 2);
	for (i = 0; i < 3; i++) {
		char row[40];

		snprintf(row, sizeof(row), "pool/c0/b%u/k32/e64/t1", bulks[i]);
		snprintf(what, sizeof(what), "uncached bulk %u, cycles xp/DPDK",
			 bulks[i]);
		target(what, ratio_of(row, 0), 0.9, 2);
	}
	if (rmw_floor.ok) {
		const struct stat_set *dp = stat_of("pool/c0/b1/k32/e64/t1", 1);

		if (dp != NULL)
			printf("  %-7s %-52s %10.2f\n", "floor",
			       "two CASes alone (Floor above), cycles / DPDK b1",
			       rmw_floor.med / dp->med);
	}
	/* The dispatch: a call through the handler without a cache
	 * (DPDK: rte_mempool_generic_get/put with a NULL cache, i.e. its ops
	 * dispatch) against the bare ring.  The pool API without a cache
	 * also looks up the thread's cache first: printed in the table. */
	d = dispatch_overhead(32, 0, 1, 1);
	target("handler dispatch bulk 32, instructions over the ring, %",
	       d <= -1000 ? -1 : d < 0 ? 0 : d, 3, 1);
	d = dispatch_overhead(1, 0, 1, 1);
	target("handler dispatch bulk 1, instructions over the ring, %",
	       d <= -1000 ? -1 : d < 0 ? 0 : d, 10, 1);
	target("virt2phy, cycles per call", v2p != NULL ? v2p->med : -1, 2,
	       2);
	target("virt2phy, instructions per call (\"a handful\")",
	       ir_of("virt2phy/mempool", 0), 10, 1);
	target("memory per 64 B object, bytes",
	       memres[0][0].ok ? memres[0][0].m.obj_bytes +
					 memres[0][0].m.slot_bytes : -1,
	       72, 0);
	target("caches allocated beyond the threads that used the pool",
	       memres[0][0].ok ? (double)memres[0][0].m.ncaches - mem_threads
			       : -1, 0, 0);
	target_min("2 threads over 1, cached bulk 32, xenpool",
		   scaling("pool/c256/b32/k32/e64/t1", 0), 1.8);
}

/* ---- CSV ---------------------------------------------------------------- */

static const char *const kind_names[] = {
	[BK_POOL] = "pool", [BK_PRODCONS] = "prodcons",
	[BK_HANDLER] = "handler-nocache", [BK_RING] = "ring-direct",
	[BK_V2P_POOL] = "virt2phy", [BK_V2P_MEM] = "virt2phy",
	[BK_MBUF] = "mbuf",
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

static int write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i, e, l;

	if (f == NULL) {
		fprintf(stderr, "cannot write %s: %m\n", path);
		return -1;
	}
	fprintf(f, "row,kind,cache,bulk,keep,elt,threads,metric,xenpool,"
		   "xenpool_min,xenpool_max,dpdk,dpdk_min,dpdk_max,ratio\n");
	for (i = 0; i < nrows; i++) {
		double v[NLIBS][3];

		for (l = 0; l < NLIBS; l++) {
			const struct stat_set *s = &res[i][l];

			v[l][0] = s->ok ? s->med : -1;
			v[l][1] = s->ok ? s->min : -1;
			v[l][2] = s->ok ? s->max : -1;
		}
		csv_line(f, rows[i].name, kind_names[rows[i].kind], &rows[i],
			 "cycles_per_obj", v[0], v[1]);
		if (!opt.callgrind)
			continue;
		for (l = 0; l < NLIBS; l++)
			v[l][0] = v[l][1] = v[l][2] = res[i][l].ir;
		csv_line(f, rows[i].name, kind_names[rows[i].kind], &rows[i],
			 "ir_per_obj", v[0], v[1]);
	}
	for (e = 0; e < NMEM; e++) {
		static const char *const metrics[] = {
			"bytes_per_object", "bytes_per_pool",
			"bytes_allocated", "caches",
		};
		char row[32];
		unsigned int k;

		snprintf(row, sizeof(row), "memory/e%u", mem_elts[e]);
		for (k = 0; k < 4; k++) {
			double v[NLIBS][3];

			for (l = 0; l < NLIBS; l++) {
				const struct bench_mem *m = &memres[e][l].m;
				double x = -1;

				if (memres[e][l].ok && k == 0)
					x = m->obj_bytes + m->slot_bytes;
				else if (memres[e][l].ok && k == 1)
					x = (double)mem_total(m);
				else if (memres[e][l].ok && k == 2 &&
					 memres[e][l].measured != 0)
					x = (double)memres[e][l].measured;
				else if (memres[e][l].ok && k == 3)
					x = m->ncaches;
				v[l][0] = v[l][1] = v[l][2] = x;
			}
			csv_line(f, row, "memory", NULL, metrics[k], v[0],
				 v[1]);
		}
	}
	if (rmw_floor.ok) {
		/* The same figure in both columns: it is neither library's. */
		double v[3] = { rmw_floor.med, rmw_floor.min, rmw_floor.max };

		csv_line(f, "floor/cas2", "floor", NULL, "cycles_per_obj", v,
			 v);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- options and main --------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenpool-bench [options]\n"
		"  --short          a few seconds (default): 7 runs of 50000 "
		"objects per row\n"
		"  --full           15 runs of 1000000 objects per row\n"
		"  --reps N         runs per row and library (>= 7 for "
		"figures worth quoting)\n"
		"  --objs N         objects per run\n"
		"  --cpu N          pin the main thread to CPU N (default 1)\n"
		"  --cpu2 N         CPU of the second thread (default: "
		"another allowed CPU)\n"
		"  --csv FILE       also write the results as CSV\n"
		"  --only REGEX     only the rows whose name matches "
		"(extended regex)\n"
		"  --no-dpdk        measure xenpool alone\n"
		"  --callgrind      also count instructions per object under "
		"callgrind\n"
		"                   (valgrind from PATH or $VALGRIND)\n"
		"  --callgrind-dir D  keep the callgrind dumps in D\n"
		"  --cg-objs N      objects per counted run (default 16384)\n"
		"  --list           print the row names and exit\n"
		"  --verbose        EAL messages at info level\n");
}

/* A decimal number from 0 to @p max, or exit 2 naming the option. */
static uint64_t parse_num(const char *s, const char *what, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	/* strtoull takes leading spaces and a sign: only digits here. */
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || v > max) {
		fprintf(stderr, "bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

static void parse_options(int argc, char **argv)
{
	enum {
		O_SHORT = 256, O_FULL, O_REPS, O_OBJS, O_CPU, O_CPU2, O_CSV,
		O_ONLY, O_NO_DPDK, O_CALLGRIND, O_CG_DIR, O_CG_OBJS,
		O_CG_CHILD, O_LIST, O_VERBOSE, O_HELP,
	};
	static const struct option lopts[] = {
		{"short", no_argument, NULL, O_SHORT},
		{"full", no_argument, NULL, O_FULL},
		{"reps", required_argument, NULL, O_REPS},
		{"objs", required_argument, NULL, O_OBJS},
		{"cpu", required_argument, NULL, O_CPU},
		{"cpu2", required_argument, NULL, O_CPU2},
		{"csv", required_argument, NULL, O_CSV},
		{"only", required_argument, NULL, O_ONLY},
		{"no-dpdk", no_argument, NULL, O_NO_DPDK},
		{"callgrind", no_argument, NULL, O_CALLGRIND},
		{"callgrind-dir", required_argument, NULL, O_CG_DIR},
		{"cg-objs", required_argument, NULL, O_CG_OBJS},
		{"callgrind-child", no_argument, NULL, O_CG_CHILD},
		{"list", no_argument, NULL, O_LIST},
		{"verbose", no_argument, NULL, O_VERBOSE},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case O_SHORT:
			opt.full = 0;
			break;
		case O_FULL:
			opt.full = 1;
			break;
		case O_REPS:
			opt.reps = (unsigned int)parse_num(optarg, "--reps",
							   1000000);
			break;
		case O_OBJS:
			opt.objs = parse_num(optarg, "--objs", UINT64_MAX / 2);
			break;
		case O_CPU:
			opt.cpu = (unsigned int)parse_num(optarg, "--cpu",
							  CPU_SETSIZE - 1);
			break;
		case O_CPU2:
			opt.cpu2 = (unsigned int)parse_num(optarg, "--cpu2",
						     CPU_SETSIZE - 1);
			opt.cpu2_set = 1;
			break;
		case O_CSV:
			opt.csv = optarg;
			break;
		case O_ONLY:
			opt.only = optarg;
			break;
		case O_NO_DPDK:
			opt.no_dpdk = 1;
			break;
		case O_CALLGRIND:
			opt.callgrind = 1;
			break;
		case O_CG_DIR:
			opt.cg_dir = optarg;
			break;
		case O_CG_OBJS:
			opt.cg_objs = parse_num(optarg, "--cg-objs",
						UINT64_MAX / 2);
			break;
		case O_CG_CHILD:
			opt.cg_child = 1;
			break;
		case O_LIST:
			opt.list = 1;
			break;
		case O_VERBOSE:
			opt.verbose = 1;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	if (opt.reps == 0)
		opt.reps = opt.full ? 15 : 7;
	if (opt.objs == 0)
		opt.objs = opt.full ? 1000000 : 50000;
	if (opt.cg_objs == 0)
		opt.cg_objs = 16384;
	if (opt.cpu >= CPU_SETSIZE ||
	    (opt.cpu2_set && opt.cpu2 >= CPU_SETSIZE)) {
		fprintf(stderr, "bad CPU number\n");
		exit(2);
	}
	if (opt.callgrind && !BENCH_HAVE_CALLGRIND) {
		fprintf(stderr,
			"--callgrind: built without <valgrind/callgrind.h>\n");
		exit(2);
	}
}

static int start_libs(void)
{
	libs[0] = &bench_xp_lib;
#ifdef XP_HAVE_DPDK
	if (!opt.no_dpdk) {
		if (bench_dpdk_init(opt.cpu, opt.verbose) != 0) {
			fprintf(stderr, "DPDK's EAL did not start (try "
				"--no-dpdk to measure xenpool alone)\n");
			return -1;
		}
		libs[1] = &bench_dpdk_lib;
	}
#endif
	return 0;
}

static void stop_libs(void)
{
#ifdef XP_HAVE_DPDK
	if (libs[1] != NULL)
		bench_dpdk_fini();
#endif
}

static unsigned int count_failures(void)
{
	unsigned int i, e, l, n = 0;
	char name[32];

	for (i = 0; i < nrows; i++)
		for (l = 0; l < NLIBS; l++)
			n += libs[l] != NULL && !res[i][l].ok;
	for (e = 0; e < NMEM; e++) {
		snprintf(name, sizeof(name), "memory/e%u", mem_elts[e]);
		if (!row_wanted(name))
			continue;
		for (l = 0; l < NLIBS; l++)
			n += libs[l] != NULL && !memres[e][l].ok;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned int i, failed;
	int ret = 0;

	parse_options(argc, argv);
	build_rows();
	if (opt.list) {
		for (i = 0; i < nrows; i++)
			printf("%s\n", rows[i].name);
		return 0;
	}
	pick_cpu2();
	if (pin_self(opt.cpu) != 0)
		fprintf(stderr, "cannot pin to CPU %u\n", opt.cpu);
	if (start_libs() != 0)
		return 3; /* the EAL did not start (bench/smoke.sh knows 3) */
	if (opt.cg_child) {
		failed = 0;
		CALLGRIND_START_INSTRUMENTATION;
		for (i = 0; i < nrows; i++)
			failed += count_row(i);
		CALLGRIND_STOP_INSTRUMENTATION;
		stop_libs();
		return failed != 0;
	}
	print_header();
	fflush(stdout);
	for (i = 0; i < nrows; i++) {
		if (isatty(STDERR_FILENO))
			fprintf(stderr, "\r%u/%u %-28s", i + 1, nrows,
				rows[i].name);
		measure_row(i);
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r%50s\r", "");
	measure_memory();
	measure_rmw_floor();
	worker_stop();
	if (opt.callgrind && run_callgrind() != 0)
		ret = 1;
	print_table();
	print_dispatch();
	print_scaling();
	print_memory();
	print_targets();
	failed = count_failures();
	if (failed > 0) {
		printf("\n%u measurement(s) failed\n", failed);
		ret = 1;
	}
	if (opt.csv != NULL && write_csv(opt.csv) != 0)
		ret = 1;
	stop_libs();
	return ret;
}
