# SPDX-License-Identifier: BSD-3-Clause
# The xen_dom0 handler, part of libxenpool with --enable-xen.
if XP_XEN
src_libxenpool_la_SOURCES += \
	xen/private.h \
	xen/args.c \
	xen/frames.c \
	xen/layout.c \
	xen/log.c \
	xen/xen_dom0.c
src_libxenpool_la_CFLAGS += $(XEN_CFLAGS)
src_libxenpool_la_LIBADD = $(XEN_LIBS)
xenpoolinclude_HEADERS += include/xenpool/xen.h
else
EXTRA_DIST += include/xenpool/xen.h xen/private.h xen/args.c xen/frames.c \
	xen/layout.c xen/log.c xen/xen_dom0.c
endif
