#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Static linking as doc/building.md tells users to do it, with
# `pkg-config --static`: the core alone, and the core with the xen_dom0
# driver (--enable-xen).  The .pc files of the build tree are pointed at
# its static archives and headers, as an installation would have them.
# The core-alone program runs a pool; the driver program finds xen_dom0
# registered and, with no Xen here (no /dev/xen), served by the default
# handler.  Skipped (77) in sanitizer builds, which do not link
# statically, and without pkg-config.
set -eu

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${CC:=cc}"

if [ -n "${XP_SAN_FLAGS:-}" ] || ! command -v pkg-config >/dev/null; then
	echo "static_link: sanitizer build or no pkg-config: skipped" >&2
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lib/pkgconfig"
ln -s "$(cd "$top_builddir/src/.libs" && pwd)/libxenpool.a" "$tmp/lib/"
inc=$(cd "$top_srcdir/include" && pwd)
pcs=xenpool.pc
if [ -f "$top_builddir/xen/.libs/libxenpool_xen.a" ]; then
	ln -s "$(cd "$top_builddir/xen/.libs" && pwd)/libxenpool_xen.a" \
		"$tmp/lib/"
	pcs="$pcs xenpool-xen.pc"
fi
for pc in $pcs; do
	sed -e "s|^prefix=.*|prefix=$tmp|" -e "s|^libdir=.*|libdir=$tmp/lib|" \
		-e "s|^includedir=.*|includedir=$inc|" \
		"$top_builddir/$pc" >"$tmp/lib/pkgconfig/$pc"
done
PKG_CONFIG_PATH=$tmp/lib/pkgconfig
export PKG_CONFIG_PATH

cat >"$tmp/core.c" <<'EOC'
#include <stdio.h>
#include <xenpool/xenpool.h>

int main(void)
{
	struct xp_mempool *mp = xp_mempool_create("static", 100, 64, 8, 0,
						  NULL, NULL, 0);
	void *objs[10];

	if (mp == NULL || xp_mempool_get_bulk(mp, objs, 10) != 0)
		return 1;
	xp_mempool_put_bulk(mp, objs, 10);
	printf("%s %u\n", xp_mempool_handler_name(mp),
	       xp_mempool_avail_count(mp));
	xp_mempool_free(mp);
	return 0;
}
EOC
# shellcheck disable=SC2086,SC2046
$CC -std=gnu11 -static -o "$tmp/core" "$tmp/core.c" \
	$(pkg-config --static --cflags --libs xenpool) 2>"$tmp/ld.err" || {
	cat "$tmp/ld.err"
	echo "not ok - static link of the core" >&2
	exit 1
}
[ "$("$tmp/core")" = "ring_mp_mc 100" ] || {
	echo "not ok - the static core program" >&2
	exit 1
}
echo "ok - static link of the core, with pkg-config --static xenpool"

case $pcs in
*xenpool-xen.pc*) ;;
*) exit 0 ;;
esac
cat >"$tmp/xen.c" <<'EOC'
#include <stdio.h>
#include <xenpool/xenpool.h>
#include <xenpool/xen.h>

int main(void)
{
	struct xp_xen_pool_info info;
	struct xp_mempool *mp;

	/* Using the driver's API is what links its object, whose
	 * constructor registers xen_dom0 (doc/handlers.md, the static-link
	 * rule). */
	if (xp_mempool_handler_lookup(XP_XEN_HANDLER) == NULL)
		return 1;
	mp = xp_mempool_create_ex("static", 100, 64, 8, 0, NULL, NULL, 0,
				  XP_XEN_HANDLER, NULL);
	if (mp == NULL)
		return 2;
	printf("%s %d\n", xp_mempool_handler_name(mp),
	       xp_xen_pool_info(mp, &info));
	xp_mempool_free(mp);
	return 0;
}
EOC
# shellcheck disable=SC2086,SC2046
$CC -std=gnu11 -static -o "$tmp/xen" "$tmp/xen.c" \
	$(pkg-config --static --cflags --libs xenpool-xen) 2>"$tmp/ld.err" || {
	cat "$tmp/ld.err"
	echo "not ok - static link of the core and the xen_dom0 driver" >&2
	exit 1
}
# Not the shim: the real libraries, or none; no Xen here either way.
got=$(env -u LD_LIBRARY_PATH XENPOOL_LOG=none "$tmp/xen") || {
	echo "not ok - the static driver program failed ($?)" >&2
	exit 1
}
[ "$got" = "ring_mp_mc -19" ] || {
	echo "not ok - the static driver program said '$got'" >&2
	exit 1
}
echo "ok - static link of the core and the driver (pkg-config --static xenpool-xen); xen_dom0 registered, falls back"
