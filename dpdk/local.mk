# SPDX-License-Identifier: BSD-3-Clause
# DPDK (doc/dpdk.md), built when DPDK is found (configure --with-dpdk, the
# default when pkg-config finds libdpdk):
#  - the mempool driver "xen_dom0", a plugin that EAL loads with -d,
#    installed in $(xpdpdkdir) and not in EAL's own plugin directory, whose
#    every driver EAL loads into every application (DPDK's table of mempool
#    ops has 16 slots, and Debian's drivers take 14); it exports nothing;
#  - the bridge library libxenpool_dpdk (<xenpool/dpdk.h>, pkg-config
#    xenpool-dpdk): headers-private mbuf pools.
# Both link the core only: the xen_dom0 handler's driver is found by name.
XP_DPDK_COMMON = dpdk/args.c dpdk/private.h
EXTRA_DIST += dpdk/driver.map dpdk/libxenpool_dpdk.map

if XP_DPDK
xpdpdkdir = $(pkglibdir)/dpdk
xpdpdk_LTLIBRARIES = dpdk/librte_mempool_xenpool.la
dpdk_librte_mempool_xenpool_la_SOURCES = dpdk/mempool_xenpool.c \
	$(XP_DPDK_COMMON)
dpdk_librte_mempool_xenpool_la_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS)
dpdk_librte_mempool_xenpool_la_LIBADD = src/libxenpool.la $(DPDK_LIBS)
dpdk_librte_mempool_xenpool_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-avoid-version -shared -no-undefined \
	-Wl,--version-script=$(top_srcdir)/dpdk/driver.map
dpdk_librte_mempool_xenpool_la_DEPENDENCIES = src/libxenpool.la \
	$(top_srcdir)/dpdk/driver.map

lib_LTLIBRARIES += dpdk/libxenpool_dpdk.la
dpdk_libxenpool_dpdk_la_SOURCES = dpdk/bridge.c $(XP_DPDK_COMMON)
dpdk_libxenpool_dpdk_la_CFLAGS = $(AM_CFLAGS) $(XP_VISIBILITY) \
	$(DPDK_CFLAGS)
dpdk_libxenpool_dpdk_la_LIBADD = src/libxenpool.la $(DPDK_LIBS)
dpdk_libxenpool_dpdk_la_LDFLAGS = $(AM_LDFLAGS) \
	-version-info $(XP_LT_VERSION) -no-undefined \
	-Wl,--version-script=$(top_srcdir)/dpdk/libxenpool_dpdk.map
dpdk_libxenpool_dpdk_la_DEPENDENCIES = src/libxenpool.la \
	$(top_srcdir)/dpdk/libxenpool_dpdk.map
xenpoolinclude_HEADERS += include/xenpool/dpdk.h
pkgconfig_DATA += xenpool-dpdk.pc
else
EXTRA_DIST += include/xenpool/dpdk.h dpdk/mempool_xenpool.c dpdk/bridge.c \
	$(XP_DPDK_COMMON)
endif
