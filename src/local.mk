# SPDX-License-Identifier: BSD-3-Clause
lib_LTLIBRARIES += src/libxenpool.la

xenpoolincludedir = $(includedir)/xenpool
xenpoolinclude_HEADERS = \
	include/xenpool/common.h \
	include/xenpool/handler.h \
	include/xenpool/log.h \
	include/xenpool/mbuf.h \
	include/xenpool/mempool.h \
	include/xenpool/ring.h \
	include/xenpool/xenpool.h

src_libxenpool_la_SOURCES = \
	src/core.h \
	src/number.h \
	src/log.c \
	src/ring.c \
	src/registry.c \
	src/driver.c \
	src/dispatch.h \
	src/dispatch.c \
	src/handler_ring.c \
	src/pool.c \
	src/populate.c \
	src/cache.c \
	src/introspect.c \
	src/debug.c \
	src/mbuf.c
src_libxenpool_la_CFLAGS = $(AM_CFLAGS) $(XP_VISIBILITY)
# Where `make install` puts the drivers (xen/local.mk), and the registry
# looks for them.
xpdriverdir = $(pkglibdir)/drivers
src_libxenpool_la_CPPFLAGS = $(AM_CPPFLAGS) \
	-DXP_DRIVER_DIR='"$(xpdriverdir)"'
src_libxenpool_la_LIBADD = $(XP_DL_LIBS)
src_libxenpool_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(XP_LT_VERSION) \
	-Wl,--version-script=$(top_srcdir)/src/libxenpool.map -no-undefined
src_libxenpool_la_DEPENDENCIES = $(top_srcdir)/src/libxenpool.map
EXTRA_DIST += src/libxenpool.map
