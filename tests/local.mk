# SPDX-License-Identifier: BSD-3-Clause
# Scripts run under the shell, also in check-valgrind (which runs the unit
# tests, not bash, under valgrind).
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
# test_cache has 528 threads alive at once (more than the thread slots).
# --fair-sched=yes: valgrind runs one thread at a time, and under its default
# lock a thread that spins (the stress tests' putters do) keeps winning it
# back, starving the others until the watchdog fires.
# tests/dpdk.supp: what DPDK's EAL leaves behind (test_dpdk).
VALGRIND_FLAGS = --num-callers=30 --max-threads=1024 --fair-sched=yes \
	--suppressions=$(top_srcdir)/tests/dpdk.supp
EXTRA_DIST += tests/headers.sh tests/cli.sh tests/cli-lib.sh \
	tests/static_link.sh tests/man.sh tests/tap-lib.sh tests/doc_symbols.sh \
	tests/doc_examples.sh tests/doc_configure.sh

if XP_TESTS
XP_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
XP_TEST_LDADD = src/libxenpool.la $(CMOCKA_LIBS)

XP_UNIT_TESTS = \
	tests/test_ring \
	tests/test_ring_mt \
	tests/test_registry \
	tests/test_mempool \
	tests/test_cache \
	tests/test_debug \
	tests/test_log \
	tests/test_static \
	tests/test_mbuf

check_PROGRAMS += $(XP_UNIT_TESTS)
TESTS += $(XP_UNIT_TESTS) tests/headers.sh tests/cli.sh tests/static_link.sh \
	tests/man.sh
# The docs against the code (doc/building.md, "Docs that stay true").
TESTS += tests/doc_symbols.sh tests/doc_examples.sh tests/doc_configure.sh
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	CC='$(CC)' CXX='$(CXX)' XP_SAN_FLAGS='$(XP_SAN_FLAGS)' NM='$(NM)' \
	DPDK_CFLAGS='$(DPDK_CFLAGS)' DPDK_LIBS='$(DPDK_LIBS)' \
	XENPOOL_LOG=warning; \
	export top_srcdir top_builddir CC CXX XP_SAN_FLAGS NM DPDK_CFLAGS \
	DPDK_LIBS XENPOOL_LOG;

if XP_TSAN
# TSan slows the threaded tests down tenfold: run a fifth of their operations.
AM_TESTS_ENVIRONMENT += XP_TEST_SCALE=0.2; export XP_TEST_SCALE;
endif

tests_test_ring_SOURCES = tests/test_ring.c tests/testutil.h
tests_test_ring_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_ring_LDADD = $(XP_TEST_LDADD)

tests_test_ring_mt_SOURCES = tests/test_ring_mt.c tests/testutil.h
tests_test_ring_mt_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_ring_mt_LDADD = $(XP_TEST_LDADD)

tests_test_registry_SOURCES = tests/test_registry.c tests/testutil.h
tests_test_registry_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_registry_LDADD = $(XP_TEST_LDADD)

tests_test_mempool_SOURCES = tests/test_mempool.c tests/testutil.h
tests_test_mempool_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_mempool_LDADD = $(XP_TEST_LDADD)

tests_test_cache_SOURCES = tests/test_cache.c tests/testutil.h
tests_test_cache_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_cache_LDADD = $(XP_TEST_LDADD)

tests_test_debug_SOURCES = tests/test_debug.c tests/testutil.h
tests_test_debug_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_debug_LDADD = $(XP_TEST_LDADD)

tests_test_log_SOURCES = tests/test_log.c tests/testutil.h
tests_test_log_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_log_LDADD = $(XP_TEST_LDADD)

# Linked against the static archive: the built-in handlers must still be
# registered, and a handler registered by a constructor in the program too.
tests_test_static_SOURCES = tests/test_static.c tests/testutil.h
tests_test_static_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_static_LDADD = $(XP_TEST_LDADD)
tests_test_static_LDFLAGS = $(AM_LDFLAGS) -static

# Drivers: the example driver of doc/handlers.md, built as users build
# theirs, loaded by xp_driver_load() and by the registry itself.
check_LTLIBRARIES += tests/drivers/stack.la
tests_drivers_stack_la_SOURCES = examples/stack.c
tests_drivers_stack_la_LIBADD = src/libxenpool.la
tests_drivers_stack_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -rpath $(abs_builddir)/tests/drivers
XP_UNIT_TESTS += tests/test_driver
tests_test_driver_SOURCES = tests/test_driver.c tests/testutil.h
tests_test_driver_CPPFLAGS = $(AM_CPPFLAGS) \
	-DSTACK_DRIVER='"$(abs_top_builddir)/tests/drivers/.libs/stack.so"'
tests_test_driver_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_driver_LDADD = $(XP_TEST_LDADD)
EXTRA_tests_test_driver_DEPENDENCIES = tests/drivers/stack.la

tests_test_mbuf_SOURCES = tests/test_mbuf.c tests/testutil.h
tests_test_mbuf_CFLAGS = $(XP_TEST_CFLAGS)
tests_test_mbuf_LDADD = $(XP_TEST_LDADD)
endif
