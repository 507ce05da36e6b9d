# SPDX-License-Identifier: BSD-3-Clause
# The real-Xen harness (tests/realxen/realxen.sh): `make check-realxen`
# boots Xen 4.17 and a Debian 12 dom0 under QEMU and runs these checks in
# it.  Not part of `make check`: it needs root (apt-get) and minutes.
# REALXEN_FLAGS passes options to realxen.sh (--jumbo, --no-domu, --keep...).
EXTRA_DIST += \
	tests/realxen/realxen.sh \
	tests/realxen/init-dom0.sh \
	tests/realxen/init-domu.sh \
	tests/realxen/rx_dom0.c \
	tests/realxen/rx_domu.c \
	tests/realxen/rx_dpdk.c \
	tests/realxen/rxcross.h

if XP_XEN
if XP_TESTS
# Built only for check-realxen; -no-install: a real ELF, not a libtool
# wrapper, that realxen.sh copies into the dom0's initramfs.
XP_REALXEN_BINS = tests/realxen/rx_dom0 tests/realxen/rx_domu
EXTRA_PROGRAMS += $(XP_REALXEN_BINS)
CLEANFILES += $(XP_REALXEN_BINS)
XP_REALXEN_CFLAGS = $(XP_TEST_CFLAGS) -I$(top_srcdir)/tests $(XEN_CFLAGS) \
	$(XENFM_CFLAGS) $(XENSTORE_CFLAGS)
XP_REALXEN_LDADD = xen/libxenpool_xen.la $(XP_TEST_LDADD) $(XEN_LIBS) \
	$(XENFM_LIBS) \
	$(XENSTORE_LIBS)

tests_realxen_rx_dom0_SOURCES = tests/realxen/rx_dom0.c \
	tests/realxen/rxcross.h tests/testutil.h
tests_realxen_rx_dom0_CFLAGS = $(XP_REALXEN_CFLAGS)
tests_realxen_rx_dom0_LDADD = $(XP_REALXEN_LDADD)
tests_realxen_rx_dom0_LDFLAGS = $(AM_LDFLAGS) -no-install

tests_realxen_rx_domu_SOURCES = tests/realxen/rx_domu.c \
	tests/realxen/rxcross.h
tests_realxen_rx_domu_CFLAGS = $(XP_REALXEN_CFLAGS)
tests_realxen_rx_domu_LDADD = $(XP_REALXEN_LDADD)
tests_realxen_rx_domu_LDFLAGS = $(AM_LDFLAGS) -no-install

# With DPDK: DPDK in dom0 too (rx_dpdk, dpdk-test, dpdk-testpmd).
if XP_DPDK
XP_REALXEN_BINS += tests/realxen/rx_dpdk
XP_REALXEN_DPDK = --dpdk-driver $(abs_top_builddir)/dpdk/.libs/librte_mempool_xenpool.so
tests_realxen_rx_dpdk_SOURCES = tests/realxen/rx_dpdk.c
tests_realxen_rx_dpdk_CFLAGS = $(XP_REALXEN_CFLAGS) $(DPDK_CFLAGS)
tests_realxen_rx_dpdk_LDADD = dpdk/libxenpool_dpdk.la $(XP_REALXEN_LDADD) \
	$(DPDK_LIBS)
tests_realxen_rx_dpdk_LDFLAGS = $(AM_LDFLAGS) -no-install
endif

check-realxen: all $(XP_REALXEN_BINS)
	$(SHELL) $(top_srcdir)/tests/realxen/realxen.sh \
		--builddir $(abs_top_builddir) --driver-dir $(xpdriverdir) \
		$(XP_REALXEN_DPDK) $(REALXEN_FLAGS)
else
check-realxen:
	@echo "check-realxen needs the tests (configure without --disable-tests)" >&2; exit 1
endif
else
check-realxen:
	@echo "check-realxen needs ./configure --enable-xen" >&2; exit 1
endif
.PHONY: check-realxen
