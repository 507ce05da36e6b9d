#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# A machine without Xen's libraries: the core library names none of them
# (readelf), nor does the xen_dom0 driver, and with libxengnttab and
# libxenctrl hidden (/dev/null bind-mounted over them in a private mount
# namespace) the CLI still lists xen_dom0 and a pool that asks for it
# falls back to the default handler, saying why.  Needs root and
# unshare(1); skipped (77) otherwise.  Run by make check with
# --enable-xen.
set -eu

: "${top_builddir:=.}"
XENPOOL=$top_builddir/tools/xenpool
CORE=$top_builddir/src/.libs/libxenpool.so
DRIVER=$top_builddir/xen/.libs/libxenpool_xen.so

fail() {
	echo "noxenlib: $*" >&2
	exit 1
}

# 1. NEEDED entries.
for lib in "$CORE" "$DRIVER"; do
	if readelf -d "$lib" | grep -E 'NEEDED.*libxen(gnttab|ctrl)'; then
		fail "$lib needs a Xen library"
	fi
done
echo "ok - neither the core nor the driver needs a Xen library"

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null ||
	! unshare -m true 2>/dev/null; then
	echo "noxenlib: not root, or no mount namespaces: skipped" >&2
	exit 77
fi

# The libraries the loader would find (not the shim: make check puts it
# in LD_LIBRARY_PATH).
unset LD_LIBRARY_PATH
hide=""
for so in libxengnttab.so.1 libxenctrl.so.4.17; do
	path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	[ -n "$path" ] && hide="$hide $(readlink -f "$path")"
done
[ -n "$hide" ] || {
	echo "noxenlib: the Xen libraries are not installed: nothing to hide" >&2
	exit 77
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck disable=SC2016
XENPOOL_LOG=notice XENPOOL_DRIVERS=$top_builddir/xen/.libs unshare -m sh -c '
	mount --make-rprivate / || exit 125
	for f in $0; do mount --bind /dev/null "$f" || exit 125; done
	"$1" handlers && "$1" demo --handler xen_dom0 -n 100 -s 1' \
	"$hide" "$XENPOOL" >"$out" 2>&1 || {
	cat "$out"
	fail "the CLI failed without the Xen libraries"
}
cat "$out"
grep -q '^ *xen_dom0' "$out" || fail "xen_dom0 is not listed"
grep -q '^handler  *ring_mp_mc$' "$out" &&
	grep -q 'served by ring_mp_mc instead' "$out" ||
	fail "no fallback to ring_mp_mc"
grep 'xen_dom0' "$out" | grep -q 'libxengnttab.so.1' ||
	fail "the fallback does not name the missing library"
echo "ok - without the Xen libraries, xen_dom0 falls back and says why"
