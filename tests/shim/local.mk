# SPDX-License-Identifier: BSD-3-Clause
# The mock hypervisor shim (built with --enable-xen).
#
# Three shared libraries, linked by hand because libtool cannot name one
# libxenctrl.so.4.17: libxpshim.so (the simulated hypervisor and its control
# API, tests/shim/xpshim.h) and two stand-ins with Debian's sonames and
# symbol versions.  With the shim's build directory first in LD_LIBRARY_PATH,
# every test program, and libxenpool's own Xen dependencies, load the
# stand-ins instead of the real libraries.
EXTRA_DIST += \
	tests/shim/xpshim.h \
	tests/shim/xpshim_int.h \
	tests/shim/xpshim.c \
	tests/shim/gnttab.c \
	tests/shim/ctrl.c \
	tests/shim/xpshim.map \
	tests/shim/gnttab.map \
	tests/shim/ctrl.map

if XP_XEN
XP_SHIM_SRC = $(top_srcdir)/tests/shim
XP_SHIM_LINK = $(CC) $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
	$(XEN_CFLAGS) $(AM_CFLAGS) $(CFLAGS) -fPIC -shared \
	$(AM_LDFLAGS) $(LDFLAGS)
XP_SHIM_LIBS = \
	tests/shim/libxpshim.so \
	tests/shim/libxengnttab.so.1 \
	tests/shim/libxengnttab.so \
	tests/shim/libxenctrl.so.4.17 \
	tests/shim/libxenctrl.so

# Built by `make check` before any test runs: all of them load the shim.
check_DATA = $(XP_SHIM_LIBS)
CLEANFILES += $(XP_SHIM_LIBS)

tests/shim/libxpshim.so: $(XP_SHIM_SRC)/xpshim.c $(XP_SHIM_SRC)/xpshim.h \
		$(XP_SHIM_SRC)/xpshim_int.h $(XP_SHIM_SRC)/xpshim.map
	@$(MKDIR_P) tests/shim
	$(AM_V_CCLD)$(XP_SHIM_LINK) -Wl,-soname,libxpshim.so \
		-Wl,--version-script=$(XP_SHIM_SRC)/xpshim.map \
		-o $@ $(XP_SHIM_SRC)/xpshim.c $(LIBS)

# The stand-ins find libxpshim.so beside them even without LD_LIBRARY_PATH.
tests/shim/libxengnttab.so.1: $(XP_SHIM_SRC)/gnttab.c \
		$(XP_SHIM_SRC)/xpshim_int.h $(XP_SHIM_SRC)/gnttab.map \
		tests/shim/libxpshim.so
	$(AM_V_CCLD)$(XP_SHIM_LINK) -Wl,-soname,libxengnttab.so.1 \
		-Wl,--version-script=$(XP_SHIM_SRC)/gnttab.map \
		-Wl,-rpath,'$$ORIGIN' \
		-o $@ $(XP_SHIM_SRC)/gnttab.c tests/shim/libxpshim.so $(LIBS)

tests/shim/libxenctrl.so.4.17: $(XP_SHIM_SRC)/ctrl.c \
		$(XP_SHIM_SRC)/xpshim_int.h $(XP_SHIM_SRC)/ctrl.map \
		tests/shim/libxpshim.so
	$(AM_V_CCLD)$(XP_SHIM_LINK) -Wl,-soname,libxenctrl.so.4.17 \
		-Wl,--version-script=$(XP_SHIM_SRC)/ctrl.map \
		-Wl,-rpath,'$$ORIGIN' \
		-o $@ $(XP_SHIM_SRC)/ctrl.c tests/shim/libxpshim.so $(LIBS)

# Link-time names, for programs linked with -Ltests/shim.
tests/shim/libxengnttab.so: tests/shim/libxengnttab.so.1
	$(AM_V_GEN)rm -f $@ && $(LN_S) libxengnttab.so.1 $@

tests/shim/libxenctrl.so: tests/shim/libxenctrl.so.4.17
	$(AM_V_GEN)rm -f $@ && $(LN_S) libxenctrl.so.4.17 $@

if XP_TESTS
AM_TESTS_ENVIRONMENT += \
	LD_LIBRARY_PATH=$(abs_top_builddir)/tests/shim$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}; \
	export LD_LIBRARY_PATH;

check_PROGRAMS += tests/shim/test_shim
TESTS += tests/shim/test_shim
tests_shim_test_shim_SOURCES = tests/shim/test_shim.c
tests_shim_test_shim_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(XEN_CFLAGS)
tests_shim_test_shim_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,-rpath,$(abs_top_builddir)/tests/shim
tests_shim_test_shim_LDADD = -Ltests/shim -lxengnttab -lxenctrl -lxpshim \
	$(CMOCKA_LIBS)
EXTRA_tests_shim_test_shim_DEPENDENCIES = $(XP_SHIM_LIBS)
endif
endif
