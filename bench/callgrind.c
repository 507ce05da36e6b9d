/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench --callgrind: after the timed runs the program runs itself
 * under callgrind (--callgrind-child), which counts the instructions of each
 * measured loop between a CALLGRIND_ZERO_STATS and a CALLGRIND_DUMP_STATS_AT;
 * the parent reads the dumps and divides.  See doc/performance.md, "How it
 * measures".
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/driver.h"

#if BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#define CG_TAG "xpb|"

/* ---- the child, under callgrind ----------------------------------------- */

/* One counted run per library, after a warm-up run.
 * @return the runs that failed. */
static unsigned int count_row(unsigned int ri)
{
	const struct bench_lib *const *libs = bench_libs;
	const struct bench_row *r = &bench_rows[ri];
	uint64_t iters = bench_iters_for(r, bench_opt.cg_objs);
	char tag[128];
	unsigned int l, failed = 0;
	void *ctx;
	int ret;

	if (bench_two_threads(r))
		return 0;
	for (l = 0; l < BENCH_NLIBS; l++) {
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
			 (unsigned long long)bench_objs_counted(r, iters));
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

unsigned int bench_count_rows(void)
{
	unsigned int i, failed = 0;

	CALLGRIND_START_INSTRUMENTATION;
	for (i = 0; i < bench_nrows; i++)
		failed += count_row(i);
	CALLGRIND_STOP_INSTRUMENTATION;
	return failed;
}

/* ---- the parent: run the child under valgrind, read the dumps ----------- */

/* One dump part: "desc: Trigger: Client Request: <tag>" and "totals: N". */
static void read_dump(const char *path)
{
	static const char trigger[] = "desc: Trigger: Client Request: " CG_TAG;
	char line[512], name[64] = "";
	unsigned long long total = 0, nobj = 0;
	unsigned int l = BENCH_NLIBS;
	int have_total = 0, ri;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p;

		if (strncmp(line, trigger, sizeof(trigger) - 1) == 0) {
			p = line + sizeof(trigger) - 1;
			if (sscanf(p, "%63[^|]|%u|%llu", name, &l, &nobj) != 3)
				l = BENCH_NLIBS;
		} else if (strncmp(line, "totals:", 7) == 0 ||
			   (!have_total && strncmp(line, "summary:", 8) == 0)) {
			p = strchr(line, ':') + 1;
			total = strtoull(p, NULL, 10);
			have_total = 1;
		}
	}
	fclose(f);
	ri = bench_find_row(name);
	if (ri >= 0 && l < BENCH_NLIBS && nobj > 0 && have_total)
		bench_res[ri][l].ir = (double)total / (double)nobj;
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

int bench_run_callgrind(void)
{
	const struct bench_options *o = &bench_opt;
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
	if (o->cg_dir != NULL) {
		dir = o->cg_dir;
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
	snprintf(cpu, sizeof(cpu), "%u", o->cpu);
	snprintf(objs, sizeof(objs), "%llu", (unsigned long long)o->cg_objs);
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
	if (bench_libs[1] == NULL)
		argv[argc++] = "--no-dpdk";
	if (o->only != NULL) {
		argv[argc++] = "--only";
		argv[argc++] = o->only;
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
	if (o->cg_dir == NULL)
		remove_tree(dir);
	return WEXITSTATUS(status) == 0 ? 0 : -1;
}
