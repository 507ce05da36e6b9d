#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The manual pages (man/, installed by `make install`):
#  1. every public function has a section 3 page, listed in man/pages.mk for
#     installation with its library: the xp_* functions (not the internal
#     xp__*) that the built libraries export (nm -D of libxenpool.so and,
#     with --enable-xen, libxenpool_xen.so, and with DPDK,
#     libxenpool_dpdk.so), and the static inline xp_*
#     functions of the public headers;
#  2. the committed section 3 pages and man/pages.mk are what tools/mkman
#     makes of the headers as they are now (needs perl);
#  3. every page renders without a warning, groff -ww (needs groff);
#  4. xenpool(1) describes every command and option of the tool's --help,
#     and xenpool(1) and xenpool(7) every environment variable the libraries
#     read; the handwritten pages carry the headers' version.
# Without perl or groff the checks that need them are skipped, and the test
# is reported skipped (77) if everything else passed: it was not all checked.
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${NM:=nm}"

man=$top_srcdir/man
. "$top_srcdir/tests/tap-lib.sh"
skipped=

skip() {
	skipped=yes
	echo "skip - $*"
}

# ---- 1. a page for every public function ----------------------------------

# "VARIABLE man/man3/NAME.3" for each page man/pages.mk lists.
awk '/^#/ { next }
	/^[A-Z0-9_]+ =/ { v = $1; next }
	{ gsub(/[\t \\]/, ""); if ($0 != "" && v != "") print v, $0 }' \
	"$man/pages.mk" >"$tmp/listed"
if [ ! -s "$tmp/listed" ]; then
	not_ok "man/pages.mk lists no page"
fi
while read -r var page; do
	[ -f "$top_srcdir/$page" ] || not_ok "$page is listed in man/pages.mk ($var) but missing"
done <"$tmp/listed"

# exported LIBRARY: the public functions LIBRARY exports.
exported() {
	# $NM may carry flags of its own (libtool's "nm -B").
	# shellcheck disable=SC2086
	$NM -D --defined-only "$1" |
		awk '$(NF - 1) ~ /^[TWi]$/ { sub(/@.*/, "", $NF); print $NF }' |
		grep '^xp_' | grep -v '^xp__' || true
}

# need NAME VARIABLE WHAT: NAME has a page, installed through VARIABLE.
need() {
	if [ ! -f "$man/man3/$1.3" ]; then
		not_ok "$1 ($3) has no page man/man3/$1.3"
	elif ! grep -qx "$2 man/man3/$1.3" "$tmp/listed"; then
		not_ok "$1 ($3): man/man3/$1.3 is not in $2 of man/pages.mk"
	else
		checked=$((checked + 1))
	fi
}

for lib in src/.libs/libxenpool.so:XP_MAN3_CORE \
	xen/.libs/libxenpool_xen.so:XP_MAN3_XEN \
	dpdk/.libs/libxenpool_dpdk.so:XP_MAN3_DPDK; do
	so=$top_builddir/${lib%%:*}
	var=${lib#*:}
	if [ ! -f "$so" ]; then
		case $so in
		*libxenpool_xen.so) ;; # not built (no --enable-xen): no pages
		*libxenpool_dpdk.so) ;; # not built (no DPDK): no pages
		*) skip "no $so (--disable-shared?): exported functions not checked" ;;
		esac
		continue
	fi
	exported "$so" >"$tmp/exported"
	if [ ! -s "$tmp/exported" ]; then
		not_ok "no xp_ function found in $so with $NM -D"
		continue
	fi
	checked=0
	fails_before=$fail
	while read -r fn; do
		need "$fn" "$var" "exported by ${so##*/}"
	done <"$tmp/exported"
	[ "$fail" -eq "$fails_before" ] &&
		ok "the $checked functions ${so##*/} exports have pages ($var)"
done

# The static inline functions of the public headers (the driver's header
# has none; they would be XP_MAN3_XEN).
for hdr in "$top_srcdir"/include/xenpool/*.h; do
	tr '\n' ' ' <"$hdr" | grep -o 'XP_INLINE [^(;{]*(' |
		sed -e 's/[ (]*$//' -e 's/.*[ *]//' |
		grep '^xp_' | grep -v '^xp__' || true
done >"$tmp/inline"
if [ ! -s "$tmp/inline" ]; then
	not_ok "no XP_INLINE xp_ function found in include/xenpool/*.h"
else
	checked=0
	fails_before=$fail
	while read -r fn; do
		need "$fn" XP_MAN3_CORE "static inline in a public header"
	done <"$tmp/inline"
	[ "$fail" -eq "$fails_before" ] &&
		ok "the $checked static inline functions of the headers have pages"
fi

# ---- 2. the committed pages are what the headers make ---------------------

if command -v perl >/dev/null; then
	if ! perl "$top_srcdir/tools/mkman" -o "$tmp/man" "$top_srcdir" \
		2>"$tmp/mkman.err"; then
		sed 's/^/#   /' "$tmp/mkman.err"
		not_ok "tools/mkman failed on the headers"
	elif ! diff -r "$man/man3" "$tmp/man/man3" >"$tmp/diff" ||
		! diff "$man/pages.mk" "$tmp/man/pages.mk" >>"$tmp/diff"; then
		head -n 60 "$tmp/diff" | sed 's/^/#   /'
		not_ok "man/man3 or man/pages.mk differs from the headers' doc comments: run \`make update-man' and commit the result"
	else
		ok "man/man3 and man/pages.mk are up to date with the headers"
	fi
else
	skip "no perl: the pages are not compared with the headers"
fi

# ---- 3. every page renders cleanly ------------------------------------------

if command -v groff >/dev/null; then
	n=0
	fails_before=$fail
	for page in "$man"/man1/*.1 "$man"/man3/*.3 "$man"/man7/*.7; do
		n=$((n + 1))
		if ! groff -man -Tutf8 -ww -z "$page" >"$tmp/groff" 2>&1 ||
			[ -s "$tmp/groff" ]; then
			sed 's/^/#   /' "$tmp/groff"
			not_ok "${page#"$top_srcdir"/} does not render cleanly (groff -man -ww)"
		fi
	done
	[ "$fail" -eq "$fails_before" ] &&
		ok "the $n pages render without a warning (groff -man -ww)"
else
	skip "no groff (Debian: groff-base): the pages are not rendered"
fi

# ---- 4. the handwritten pages ---------------------------------------------

cli=$man/man1/xenpool.1
overview=$man/man7/xenpool.7

# In roff source, a hyphen of an option is "\-".
roff_opt() {
	printf '%s\n' "$1" | sed 's/-/\\-/g'
}

tool=$top_builddir/tools/xenpool
fails_before=$fail
for cmd in "" handlers demo mbuf; do
	# shellcheck disable=SC2086
	if ! "$tool" $cmd --help >"$tmp/help" 2>&1; then
		not_ok "xenpool $cmd --help failed"
		continue
	fi
	if [ -z "$cmd" ]; then
		# The commands, listed under "Commands:".
		sed -n '/^Commands:/,/^$/p' "$tmp/help" |
			awk 'NR > 1 && NF { print $1 }' >"$tmp/cmds"
		[ -s "$tmp/cmds" ] || not_ok "no command in xenpool --help"
		while read -r c; do
			grep -qx "\\.SS $c" "$cli" ||
				not_ok "xenpool(1) has no section for the command '$c'"
		done <"$tmp/cmds"
	fi
	grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u >"$tmp/long"
	grep -o -- '^ *-[A-Za-z],' "$tmp/help" | tr -d ' ,' >"$tmp/short"
	cat "$tmp/long" "$tmp/short" | while read -r opt; do
		grep -qF -- "$(roff_opt "$opt")" "$cli" ||
			echo "$opt" >>"$tmp/missing"
	done
	if [ -f "$tmp/missing" ]; then
		not_ok "xenpool(1) lacks option(s) of xenpool $cmd --help: $(tr '\n' ' ' <"$tmp/missing")"
		rm -f "$tmp/missing"
	fi
done
[ "$fail" -eq "$fails_before" ] &&
	ok "xenpool(1) has every command and option of the tool's --help"

fails_before=$fail
grep -ho 'getenv("[A-Z0-9_]*")' "$top_srcdir"/src/*.c "$top_srcdir"/xen/*.c |
	sed 's/getenv("\(.*\)")/\1/' | sort -u >"$tmp/env"
[ -s "$tmp/env" ] || not_ok "no getenv() found in src/ and xen/"
while read -r var; do
	for page in "$cli" "$overview"; do
		grep -qx "\\.B $var" "$page" ||
			not_ok "${page#"$top_srcdir"/} does not describe $var (.B $var under ENVIRONMENT)"
	done
done <"$tmp/env"
[ "$fail" -eq "$fails_before" ] &&
	ok "xenpool(1) and xenpool(7) describe $(tr '\n' ' ' <"$tmp/env")"

version_part() {
	sed -n "s/^#define XP_VERSION_$1 \\([0-9]*\\)\$/\\1/p" \
		"$top_srcdir/include/xenpool/common.h"
}
version=$(version_part MAJOR).$(version_part MINOR).$(version_part PATCH)
fails_before=$fail
for page in "$cli" "$overview"; do
	grep -q "^\\.TH xenpool [17] \"\" \"xenpool $version\"" "$page" ||
		not_ok "${page#"$top_srcdir"/}: .TH does not say xenpool $version (common.h)"
done
[ "$fail" -eq "$fails_before" ] &&
	ok "xenpool(1) and xenpool(7) are of version $version"

echo "$pass passed, $fail failed${skipped:+, some checks skipped}"
[ "$fail" -eq 0 ] || exit 1
[ -z "$skipped" ] || exit 77
