# SPDX-License-Identifier: BSD-3-Clause
# Manual pages.  xenpool(1) and xenpool(7) are written by hand.  The
# section 3 pages are generated from the doc comments of the public headers
# by tools/mkman, a perl script, and committed with their list
# (man/pages.mk), rather than generated at build time: a tarball or a
# checkout then builds and installs them with nothing beyond make (no
# perl, no groff), and a VPATH build never writes into the source tree.
# What keeps them true is tests/man.sh, which fails when regenerating them
# gives other files, when an exported or inline function has no page, and
# when a page does not render cleanly.  After changing a header's comments:
# `make update-man`, and commit the result.
include $(srcdir)/man/pages.mk

dist_man_MANS = man/man1/xenpool.1 man/man7/xenpool.7 $(XP_MAN3_CORE)
# The driver's pages with the driver; distributed either way.
if XP_XEN
dist_man_MANS += $(XP_MAN3_XEN)
else
EXTRA_DIST += $(XP_MAN3_XEN)
endif
if XP_DPDK
dist_man_MANS += $(XP_MAN3_DPDK)
else
EXTRA_DIST += $(XP_MAN3_DPDK)
endif
EXTRA_DIST += tools/mkman

update-man:
	perl $(srcdir)/tools/mkman $(srcdir)
.PHONY: update-man
