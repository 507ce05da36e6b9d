# SPDX-License-Identifier: BSD-3-Clause
# The DPDK mempool driver "xen_dom0" (doc/dpdk.md), built when DPDK is found
# (configure --with-dpdk, the default when pkg-config finds libdpdk): a
# plugin that EAL loads with -d, installed in $(xpdpdkdir) and not in EAL's
# own plugin directory, whose every driver EAL loads into every application
# (DPDK's table of mempool ops has 16 slots, and Debian's drivers take 14).
# It links the core only: the xen_dom0 handler's driver is found by name.
if XP_DPDK
xpdpdkdir = $(pkglibdir)/dpdk
xpdpdk_LTLIBRARIES = dpdk/librte_mempool_xenpool.la
dpdk_librte_mempool_xenpool_la_SOURCES = dpdk/mempool_xenpool.c
dpdk_librte_mempool_xenpool_la_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
dpdk_librte_mempool_xenpool_la_LIBADD = src/libxenpool.la $(DPDK_LIBS)
dpdk_librte_mempool_xenpool_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -no-undefined
endif
