# SPDX-License-Identifier: BSD-3-Clause
# The xen_dom0 driver (--enable-xen): a library of its own, libxenpool_xen,
# whose constructor registers the handler.  Programs that use
# <xenpool/xen.h> link it (pkg-config xenpool-xen); others get it loaded by
# the registry from $(xpdriverdir), where `make install` puts a link to it,
# or from $XENPOOL_DRIVERS.  It does not link Xen's libraries: it opens them
# when a pool first needs them (xen/xenlib.c), so that it loads anywhere.
XP_XEN_SOURCES = \
	xen/private.h \
	xen/args.c \
	xen/frames.c \
	xen/layout.c \
	xen/log.c \
	xen/xenlib.c \
	xen/xen_dom0.c
EXTRA_DIST += xen/libxenpool_xen.map

if XP_XEN
lib_LTLIBRARIES += xen/libxenpool_xen.la
xen_libxenpool_xen_la_SOURCES = $(XP_XEN_SOURCES)
xen_libxenpool_xen_la_CFLAGS = $(AM_CFLAGS) $(XP_VISIBILITY) $(XEN_CFLAGS)
xen_libxenpool_xen_la_LIBADD = src/libxenpool.la $(XP_DL_LIBS)
xen_libxenpool_xen_la_LDFLAGS = $(AM_LDFLAGS) \
	-version-info $(XP_LT_VERSION) -no-undefined \
	-Wl,--version-script=$(top_srcdir)/xen/libxenpool_xen.map
xen_libxenpool_xen_la_DEPENDENCIES = src/libxenpool.la \
	$(top_srcdir)/xen/libxenpool_xen.map
xenpoolinclude_HEADERS += include/xenpool/xen.h
pkgconfig_DATA += xenpool-xen.pc

# The driver directory holds a link to the installed library (as DPDK's
# pmds directory does), so that a driver is installed or removed in one
# place.  Relative, so that DESTDIR installs stay valid.
install-exec-hook: install-xp-driver-link
uninstall-hook: uninstall-xp-driver-link
install-xp-driver-link:
	$(MKDIR_P) '$(DESTDIR)$(xpdriverdir)'
	cd '$(DESTDIR)$(xpdriverdir)' && rm -f libxenpool_xen.so && \
		$(LN_S) ../../libxenpool_xen.so.0 libxenpool_xen.so
uninstall-xp-driver-link:
	rm -f '$(DESTDIR)$(xpdriverdir)/libxenpool_xen.so'
	-rmdir '$(DESTDIR)$(xpdriverdir)' '$(DESTDIR)$(pkglibdir)'
else
EXTRA_DIST += include/xenpool/xen.h $(XP_XEN_SOURCES)
endif
.PHONY: install-xp-driver-link uninstall-xp-driver-link
