/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: the command line.  Options are listed in --help and in
 * doc/performance.md ("Running it"); keep the two alike.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/driver.h"
#include "../src/number.h"

struct bench_options bench_opt = { .reps = 0, .cpu = 1 };

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
	uint64_t v;

	if (xp__parse_u64(s, 0, max, &v) != 0) {
		fprintf(stderr, "bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

void bench_parse_options(int argc, char **argv)
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
	struct bench_options *o = &bench_opt;
	int c;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case O_SHORT:
			o->full = 0;
			break;
		case O_FULL:
			o->full = 1;
			break;
		case O_REPS:
			o->reps = (unsigned int)parse_num(optarg, "--reps",
							  1000000);
			break;
		case O_OBJS:
			o->objs = parse_num(optarg, "--objs", UINT64_MAX / 2);
			break;
		case O_CPU:
			o->cpu = (unsigned int)parse_num(optarg, "--cpu",
							 CPU_SETSIZE - 1);
			break;
		case O_CPU2:
			o->cpu2 = (unsigned int)parse_num(optarg, "--cpu2",
							  CPU_SETSIZE - 1);
			o->cpu2_set = 1;
			break;
		case O_CSV:
			o->csv = optarg;
			break;
		case O_ONLY:
			o->only = optarg;
			break;
		case O_NO_DPDK:
			o->no_dpdk = 1;
			break;
		case O_CALLGRIND:
			o->callgrind = 1;
			break;
		case O_CG_DIR:
			o->cg_dir = optarg;
			break;
		case O_CG_OBJS:
			o->cg_objs = parse_num(optarg, "--cg-objs",
					       UINT64_MAX / 2);
			break;
		case O_CG_CHILD:
			o->cg_child = 1;
			break;
		case O_LIST:
			o->list = 1;
			break;
		case O_VERBOSE:
			o->verbose = 1;
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
	if (o->reps == 0)
		o->reps = o->full ? 15 : 7;
	if (o->objs == 0)
		o->objs = o->full ? 1000000 : 50000;
	if (o->cg_objs == 0)
		o->cg_objs = 16384;
	if (o->cpu >= CPU_SETSIZE || (o->cpu2_set && o->cpu2 >= CPU_SETSIZE)) {
		fprintf(stderr, "bad CPU number\n");
		exit(2);
	}
	if (o->callgrind && !BENCH_HAVE_CALLGRIND) {
		fprintf(stderr,
			"--callgrind: built without <valgrind/callgrind.h>\n");
		exit(2);
	}
	if (o->only != NULL &&
	    regcomp(&o->only_re, o->only, REG_EXTENDED | REG_NOSUB) != 0) {
		fprintf(stderr, "bad --only regular expression\n");
		exit(2);
	}
}
