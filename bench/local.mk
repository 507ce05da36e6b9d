# SPDX-License-Identifier: BSD-3-Clause
# The benchmark against DPDK (doc/performance.md): built for make check and
# make bench, never installed.  With DPDK (configure --with-dpdk, the default
# when pkg-config finds libdpdk) every source gets DPDK's flags, so the inline
# fast paths of both libraries are compiled alike (DPDK's -march included).
# -no-install: a real executable in bench/, which valgrind can run directly.

check_PROGRAMS += bench/xenpool-bench
bench_xenpool_bench_SOURCES = bench/bench.h bench/driver.h bench/main.c \
	bench/options.c bench/rows.c bench/run.c bench/callgrind.c \
	bench/report.c bench/bench_xp.c
bench_cflags = $(AM_CFLAGS)
bench_xenpool_bench_LDADD = src/libxenpool.la
bench_xenpool_bench_LDFLAGS = $(AM_LDFLAGS) -no-install
if XP_DPDK
bench_xenpool_bench_SOURCES += bench/bench_dpdk.c
bench_cflags += $(DPDK_CFLAGS)
bench_xenpool_bench_LDADD += $(DPDK_LIBS)
endif

# The same program at -O2 (make bench BENCH_BUILD=-O2), for the second table of
# doc/performance.md.  The level is added after CFLAGS, whose own -O (-g -O2
# by default) it overrides: -O3 as DPDK's own build and Debian's packages of
# it use, whatever the library's CFLAGS.
# In check_PROGRAMS so that every build (with --enable-werror in CI)
# compiles it; make check does not run it.
check_PROGRAMS += bench/xenpool-bench-O2
bench_xenpool_bench_O2_SOURCES = $(bench_xenpool_bench_SOURCES)
bench_xenpool_bench_CFLAGS = $(bench_cflags) -DBENCH_OPT='"O3"'
bench_xenpool_bench_O2_CFLAGS = $(bench_cflags) -DBENCH_OPT='"O2"'
bench_xenpool_bench_O2_LDADD = $(bench_xenpool_bench_LDADD)
bench_xenpool_bench_O2_LDFLAGS = $(bench_xenpool_bench_LDFLAGS)
# The placement sweep (make bench-placements), built as the benchmark is.
EXTRA_PROGRAMS += bench/xenpool-placements
CLEANFILES += bench/xenpool-placements$(EXEEXT)
bench_xenpool_placements_SOURCES = bench/placements.c
bench_xenpool_placements_CFLAGS = $(bench_cflags)
bench_xenpool_placements_LDADD = src/libxenpool.la
bench_xenpool_placements_LDFLAGS = $(AM_LDFLAGS) -no-install
$(bench_xenpool_placements_OBJECTS): CFLAGS += -O3
$(bench_xenpool_bench_OBJECTS): CFLAGS += -O3
$(bench_xenpool_bench_O2_OBJECTS): CFLAGS += -O2
BENCH_BUILD =
BENCH_PROG = bench/xenpool-bench$(BENCH_BUILD)$(EXEEXT)

EXTRA_DIST += bench/smoke.sh
CLEANFILES += bench/bench.csv bench/bench-full.csv bench/bench-callgrind.csv

if XP_TESTS
TESTS += bench/smoke.sh
endif

# make bench / bench-full / bench-callgrind; BENCH_FLAGS adds options, e.g.
# make bench BENCH_FLAGS='--cpu 0 --only "^pool/c256"'; BENCH_BUILD=-O2
# runs the -O2 build instead of the -O3 one.
bench: $(BENCH_PROG)
	$(BENCH_PROG) --short --csv bench/bench.csv $(BENCH_FLAGS)

bench-full: $(BENCH_PROG)
	$(BENCH_PROG) --full --csv bench/bench-full.csv $(BENCH_FLAGS)

bench-callgrind: $(BENCH_PROG)
	$(BENCH_PROG) --short --callgrind --csv bench/bench-callgrind.csv \
		$(BENCH_FLAGS)

bench-placements: bench/xenpool-placements$(EXEEXT)
	bench/xenpool-placements$(EXEEXT)

.PHONY: bench bench-full bench-callgrind bench-placements

# make bench-dpdk (bench/dpdk.sh): xenpool's DPDK driver against DPDK's
# ring_mp_mc under the mock hypervisor; with DPDK and the Xen driver only.
EXTRA_DIST += bench/dpdk.sh
if XP_DPDK
if XP_XEN
if XP_TESTS
EXTRA_PROGRAMS += bench/xenpool-dpdk-bench
CLEANFILES += bench/xenpool-dpdk-bench
bench_xenpool_dpdk_bench_SOURCES = bench/dpdk_ops.c
bench_xenpool_dpdk_bench_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) -O3
bench_xenpool_dpdk_bench_LDADD = $(DPDK_LIBS)
bench_xenpool_dpdk_bench_LDFLAGS = $(AM_LDFLAGS) -no-install
bench-dpdk: all bench/xenpool-dpdk-bench$(EXEEXT) $(XP_SHIM_LIBS)
	top_builddir=$(top_builddir) $(SHELL) $(top_srcdir)/bench/dpdk.sh \
		$(BENCH_DPDK_SECONDS)
endif
endif
endif
.PHONY: bench-dpdk
