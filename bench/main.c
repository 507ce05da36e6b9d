/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xenpool-bench: xenpool and DPDK on the same work in one process, side by
 * side (doc/performance.md).  The steps in order; bench/driver.h says which
 * file does what.
 *
 * Exit status: 0; 1 if a measurement or the callgrind run failed, or the
 * CSV file could not be written; 2 for a bad option; 3 if DPDK's EAL did
 * not start (bench/smoke.sh knows 3).
 */
#include "config.h"

#include <stdio.h>

#include "bench/driver.h"

int main(int argc, char **argv)
{
	unsigned int failed;
	int ret = 0;

	bench_parse_options(argc, argv);
	bench_build_rows();
	if (bench_opt.list) {
		bench_print_list();
		return 0;
	}
	bench_pick_cpu2();
	bench_pin_main();
	if (bench_start_libs() != 0)
		return 3;
	if (bench_opt.cg_child) {
		failed = bench_count_rows();
		bench_stop_libs();
		return failed != 0;
	}
	bench_print_header();
	fflush(stdout);
	bench_measure_rows();
	bench_measure_memory();
	bench_measure_floor();
	bench_worker_stop();
	if (bench_opt.callgrind && bench_run_callgrind() != 0)
		ret = 1;
	bench_print_table();
	bench_print_bursts();
	bench_print_dispatch();
	bench_print_scaling();
	bench_print_memory();
	if (bench_print_failures() > 0)
		ret = 1;
	if (bench_opt.csv != NULL && bench_write_csv(bench_opt.csv) != 0)
		ret = 1;
	bench_stop_libs();
	return ret;
}
