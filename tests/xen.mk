# SPDX-License-Identifier: BSD-3-Clause
# Tests of the xen_dom0 handler, run against the mock hypervisor
# (tests/shim/local.mk builds it and puts it in the tests' LD_LIBRARY_PATH,
# so that libxenpool's Xen dependencies resolve to the stand-ins).  Include
# after tests/local.mk, whose XP_TEST_CFLAGS and XP_TEST_LDADD this uses.
EXTRA_DIST += tests/cli_xen.sh tests/noxenlib.sh tests/cli_chunks.sh

if XP_XEN
if XP_TESTS
# The control API (xpshim.h) is in libxpshim.so, which the stand-ins also
# load: one simulated hypervisor per process.  The rpath finds it when a
# test is run by hand; libxenpool's own Xen libraries still come from
# LD_LIBRARY_PATH.
XP_XEN_TEST_CFLAGS = $(XP_TEST_CFLAGS) -I$(top_srcdir)/tests/shim
XP_XEN_TEST_LINKFLAGS = $(AM_LDFLAGS) -Wl,-rpath,$(abs_top_builddir)/tests/shim
XP_XEN_TEST_LDADD = xen/libxenpool_xen.la $(XP_TEST_LDADD) -Ltests/shim \
	-lxpshim

XP_XEN_UNIT_TESTS = \
	tests/test_xen \
	tests/test_xen_mt \
	tests/test_mbuf_xen

check_PROGRAMS += $(XP_XEN_UNIT_TESTS)
TESTS += $(XP_XEN_UNIT_TESTS) tests/cli_xen.sh tests/noxenlib.sh \
	tests/cli_chunks.sh

tests_test_xen_SOURCES = tests/test_xen.c tests/xentest.h tests/testutil.h
tests_test_xen_CFLAGS = $(XP_XEN_TEST_CFLAGS)
tests_test_xen_LDFLAGS = $(XP_XEN_TEST_LINKFLAGS)
tests_test_xen_LDADD = $(XP_XEN_TEST_LDADD)
EXTRA_tests_test_xen_DEPENDENCIES = $(XP_SHIM_LIBS)

tests_test_xen_mt_SOURCES = tests/test_xen_mt.c tests/xentest.h \
	tests/testutil.h
tests_test_xen_mt_CFLAGS = $(XP_XEN_TEST_CFLAGS)
tests_test_xen_mt_LDFLAGS = $(XP_XEN_TEST_LINKFLAGS)
tests_test_xen_mt_LDADD = $(XP_XEN_TEST_LDADD)
EXTRA_tests_test_xen_mt_DEPENDENCIES = $(XP_SHIM_LIBS)

tests_test_mbuf_xen_SOURCES = tests/test_mbuf_xen.c tests/xentest.h \
	tests/testutil.h
tests_test_mbuf_xen_CFLAGS = $(XP_XEN_TEST_CFLAGS)
tests_test_mbuf_xen_LDFLAGS = $(XP_XEN_TEST_LINKFLAGS)
tests_test_mbuf_xen_LDADD = $(XP_XEN_TEST_LDADD)
EXTRA_tests_test_mbuf_xen_DEPENDENCIES = $(XP_SHIM_LIBS)
endif
endif
