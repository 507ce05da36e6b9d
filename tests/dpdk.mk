# SPDX-License-Identifier: BSD-3-Clause
# Tests of the DPDK mempool driver (dpdk/), when DPDK is found and the Xen
# driver is built: test_dpdk (EAL in process, the shim as the oracle, and
# with "full" DPDK's ops table filled first), and dpdk_suite.sh (DPDK's own
# mempool_autotest and mbuf_autotest, and testpmd, on the driver).
EXTRA_DIST += tests/dpdk_suite.sh tests/dpdk_full.sh tests/dpdk.supp

if XP_DPDK
if XP_XEN
if XP_TESTS
check_PROGRAMS += tests/test_dpdk
TESTS += tests/test_dpdk tests/dpdk_full.sh tests/dpdk_suite.sh
tests_test_dpdk_SOURCES = tests/test_dpdk.c
tests_test_dpdk_CFLAGS = $(XP_TEST_CFLAGS) $(DPDK_CFLAGS) \
	-I$(top_srcdir)/tests/shim
tests_test_dpdk_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,-rpath,$(abs_top_builddir)/tests/shim
tests_test_dpdk_LDADD = dpdk/libxenpool_dpdk.la $(XP_TEST_LDADD) $(DPDK_LIBS) \
	-Ltests/shim -lxpshim \
	$(XP_DL_LIBS)
EXTRA_tests_test_dpdk_DEPENDENCIES = $(XP_SHIM_LIBS) \
	dpdk/librte_mempool_xenpool.la xen/libxenpool_xen.la
endif
endif
endif
