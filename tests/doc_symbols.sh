#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# doc/versioning.md, "What is exported", against the build and the headers:
#
#  1. for each library, the names listed in the doc against the dynamic
#     symbols the built library defines (`nm -D --defined-only`), with their
#     version node; libxenpool_xen only when it is built (--enable-xen),
#     libxenpool_dpdk only with DPDK, and none of this in a build without
#     shared libraries (--disable-shared);
#  2. the same lists against the declarations marked XP_EXPORT in
#     include/xenpool/*.h (xen.h for libxenpool_xen, dpdk.h for
#     libxenpool_dpdk, the others for libxenpool);
#  3. every internal name listed (xp__*) is used by the headers: it is there
#     because inline code calls or reads it;
#  4. the ABI structures listed against the structures the public headers
#     define.
#
# The doc's lists are the names in backquotes between the HTML comments
#   <!-- exports: LIBRARY NODE -->  and  <!-- /exports -->
#   <!-- abi-structs -->            and  <!-- /abi-structs -->
# (several regions of one library add up).  Any difference fails, both
# ways: exported (or declared) but not listed, listed but not exported.
# Backquotes in single quotes are Markdown's, not the shell's.
# shellcheck disable=SC2016
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"

doc=$top_srcdir/doc/versioning.md
inc=$top_srcdir/include/xenpool
. "$top_srcdir/tests/tap-lib.sh"

for f in "$doc" "$inc/xenpool.h"; do
	[ -f "$f" ] || {
		echo "doc_symbols: $f not found (top_srcdir=$top_srcdir)" >&2
		exit 99
	}
done

# region OPEN-REGEX: the lines of the doc between a comment that matches
# OPEN-REGEX and the next closing comment of the same kind.
region() {
	awk -v open="$1" '
		$0 ~ open { on = 1; next }
		on && /^<!-- \/(exports|abi-structs) -->/ { on = 0; next }
		on { print }
	' "$doc"
}

# The backquoted xp_ names of standard input, sorted and unique.
names() {
	grep -oE '`xp_[A-Za-z0-9_]+`' | tr -d '`' | sort -u
}

# compare WHAT EXPECTED-FILE GOT-FILE EXPECTED-NAME GOT-NAME
compare() {
	if cmp -s "$2" "$3"; then
		ok "$1"
		return
	fi
	not_ok "$1"
	comm -23 "$2" "$3" | while read -r n; do
		echo "#   in $4, not in $5: $n"
	done
	comm -13 "$2" "$3" | while read -r n; do
		echo "#   in $5, not in $4: $n"
	done
}

# The names declared XP_EXPORT in the headers given: comments removed, the
# whole header on one line, and the last word before the '(' or ';' that
# ends each declaration.
declared() {
	for h in "$@"; do
		tr '\n' ' ' <"$h" |
			sed -E 's:/\*([^*]|\*+[^*/])*\*+/: :g' |
			grep -oE 'XP_EXPORT[^;(]*' |
			sed -E 's/[[:space:]]+$//; s/.*[^A-Za-z0-9_]//'
	done | grep '^xp_' | sort -u
}

# The shared object of a libtool library (its dlname), or nothing.
shared_object() {
	la=$top_builddir/$1
	[ -f "$la" ] || return 0
	dl=$(sed -n "s/^dlname='\(.*\)'$/\1/p" "$la")
	[ -n "$dl" ] && [ -f "${la%/*}/.libs/$dl" ] && echo "${la%/*}/.libs/$dl"
	return 0
}

check_library() {
	lib=$1 la=$2
	shift 2
	# The node named in the regions of this library (one node).
	node=$(grep -E "^<!-- exports: $lib [A-Z0-9_]+ -->" "$doc" |
		awk '{print $4}' | sort -u)
	case $node in
	'' | *' '*)
		not_ok "$lib: one version node in the doc's exports comments" \
			"(found: '$node')"
		return
		;;
	esac
	region "^<!-- exports: $lib $node -->" | names >"$tmp/doc"
	if [ ! -s "$tmp/doc" ]; then
		not_ok "$lib: doc/versioning.md lists its exports"
		return
	fi

	declared "$@" >"$tmp/hdr"
	hdrs=$(echo "$@" | sed 's:[^ ]*/::g')
	compare "$lib: the doc's list = the XP_EXPORT declarations of $hdrs" \
		"$tmp/doc" "$tmp/hdr" doc/versioning.md "the headers"

	# The headers' code: no comments, no XP_EXPORT declarations.
	cat "$inc"/*.h | tr '\n' ' ' |
		sed -E 's:/\*([^*]|\*+[^*/])*\*+/: :g; s/XP_EXPORT[^;]*;/ /g' \
		>"$tmp/code"
	for name in $(grep '^xp__' "$tmp/doc" || true); do
		if grep -qw "$name" "$tmp/code"; then
			ok "$lib: $name is used by header code"
		else
			not_ok "$lib: $name is listed as used by inline code," \
				"but no header uses it"
		fi
	done

	so=$(shared_object "$la")
	if [ -z "$so" ]; then
		echo "# $lib: no shared object of $la built: nm not checked"
		return
	fi
	nm -D --defined-only "$so" >"$tmp/nm.raw" || {
		not_ok "$lib: nm -D --defined-only $so"
		return
	}
	# Defined symbols (not the version node itself, type A), without
	# their version.
	awk 'NF == 3 && $2 != "A" { sub(/@.*/, "", $3); print $3 }' \
		"$tmp/nm.raw" | sort -u >"$tmp/nm"
	compare "$lib: the doc's list = the symbols $so exports" \
		"$tmp/doc" "$tmp/nm" doc/versioning.md "nm -D $so"
	awk -v node="$node" 'NF == 3 && $2 != "A" && $3 !~ ("@@" node "$") {
		print "#   " $3 }' "$tmp/nm.raw" >"$tmp/badnode"
	if [ -s "$tmp/badnode" ]; then
		not_ok "$lib: every export carries the version node $node"
		cat "$tmp/badnode"
	else
		ok "$lib: every export carries the version node $node"
	fi
}

set --
for h in "$inc"/*.h; do
	case ${h##*/} in
	xen.h | dpdk.h) ;;
	*) set -- "$@" "$h" ;;
	esac
done
check_library libxenpool src/libxenpool.la "$@"
check_library libxenpool_xen xen/libxenpool_xen.la "$inc/xen.h"
check_library libxenpool_dpdk dpdk/libxenpool_dpdk.la "$inc/dpdk.h"

# The structures defined (with a body) in the public headers.
cat "$inc"/*.h | sed -E 's:/\*.*\*/::' |
	grep -oE '^[[:space:]]*struct[[:space:]]+xp_[A-Za-z0-9_]+[[:space:]]*\{' |
	sed -E 's/^[[:space:]]*struct[[:space:]]+//; s/[[:space:]]*\{$//' |
	sort -u >"$tmp/structs.hdr"
region '^<!-- abi-structs -->' | grep -oE '`struct xp_[A-Za-z0-9_]+`' |
	sed -E 's/`struct //; s/`$//' | sort -u >"$tmp/structs.doc"
if [ ! -s "$tmp/structs.doc" ]; then
	not_ok "doc/versioning.md lists the ABI structures"
else
	compare "the ABI structures listed = the structures the headers define" \
		"$tmp/structs.doc" "$tmp/structs.hdr" doc/versioning.md \
		include/xenpool
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
