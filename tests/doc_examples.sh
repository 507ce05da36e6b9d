#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Every C example of README.md and doc/*.md (each ```c fenced block) is
# compiled against the build tree's headers with -Wall -Werror, and the
# complete programs are linked with the build tree's libraries and run.
#
# The convention (doc/building.md, "Code examples in the docs", says the
# same for contributors):
#
#  - A ```c block with no marker must be a complete program: it has a
#    main(), includes what it uses, is linked with libxenpool (and
#    libxenpool_xen when it includes <xenpool/xen.h>; libxenpool_dpdk and
#    DPDK's libraries, with DPDK's flags, when it includes <xenpool/dpdk.h>
#    or a DPDK header), runs within 60 s and exits with status 0.
#  - Any other block is a fragment, and says so with an HTML comment (not
#    shown on the rendered page) on the line right before its fence:
#
#      <!-- example: KIND [UNIT] [same-as=PATH]
#      optional hidden lines, placed at file scope before the block
#      -->
#
#    KIND is
#      file  code at file scope (declarations, definitions, prototypes,
#            which must then agree with the headers): compiled to an object;
#      body  statements: compiled as the body of a function returning int;
#      run   statements: compiled as the body of main(), linked and run as a
#            complete program is;
#      skip  not compiled, for what cannot be (pseudo-code, a signature
#            with "..."): the rest of the line must say why.
#    Fragments get <errno.h>, <stdint.h>, <stdio.h>, <stdlib.h>,
#    <string.h> and <xenpool/xenpool.h> included first, and -Wno-unused
#    (a fragment often shows a value it does not go on to use).
#    UNIT (a word) joins fragments of one file: each `file` block of a
#    unit is compiled after the unit's earlier ones, and a `body` or
#    `run` block of a unit after all of the unit's `file` blocks so far,
#    so that a walk-through in several blocks is compiled, and run, as the
#    one program it is.  same-as=PATH (on any `file` block of a unit) says
#    that the unit's `file` blocks, joined by one empty line, are lines of
#    PATH (from the top of the source tree) word for word.
#
# Shell examples (```sh) are not run; tests/doc_configure.sh checks the
# configure options and make targets they name.
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"
: "${CC:=cc}"
: "${XP_SAN_FLAGS:=}"

. "$top_srcdir/tests/tap-lib.sh"
skip=0

inc=$(cd "$top_srcdir/include" && pwd)
libtool=$top_builddir/libtool
core_la=$top_builddir/src/libxenpool.la
xen_la=$top_builddir/xen/libxenpool_xen.la
dpdk_la=$top_builddir/dpdk/libxenpool_dpdk.la
for f in "$top_srcdir/README.md" "$libtool" "$core_la"; do
	[ -f "$f" ] || {
		echo "doc_examples: $f not found" >&2
		exit 99
	}
done

# Split every ```c block of the docs into $tmp/ex/N.{where,kind,prelude,c}:
# where = FILE:LINE of the fence, kind = the marker's first line after
# "example:" (empty without a marker), prelude = its hidden lines.
# Other fenced blocks are passed over whole.  A marker not followed by a
# ```c fence is reported as kind "!dangling".
mkdir "$tmp/ex"
for f in "$top_srcdir/README.md" "$top_srcdir"/doc/*.md; do
	echo "${f#"$top_srcdir"/}"
done >"$tmp/docs"
count=0
while read -r doc; do
	count=$(awk -v doc="$doc" -v dir="$tmp/ex" -v start="$count" '
		function out(ext, text) { printf "%s", text > (dir "/" n "." ext); close(dir "/" n "." ext) }
		BEGIN { n = start }
		END { print n }
		fence == "" && inmark {
			if ($0 ~ /^-->[[:space:]]*$/) { inmark = 0; marked = 1 }
			else prelude = prelude $0 "\n"
			next
		}
		fence == "" && /^<!-- example:/ {
			if (marked) { n++; out("where", doc ":" NR "\n"); out("kind", "!dangling\n"); out("prelude", ""); out("c", "") }
			kind = $0
			sub(/^<!-- example:[[:space:]]*/, "", kind)
			prelude = ""
			if (kind ~ /-->[[:space:]]*$/) { sub(/[[:space:]]*-->[[:space:]]*$/, "", kind); marked = 1 }
			else inmark = 1
			next
		}
		fence == "" && /^[[:space:]]*```/ {
			fence = $0
			if ($0 ~ /^```c[[:space:]]*$/) {
				n++; code = ""; line = NR
				if (!marked) { kind = ""; prelude = "" }
				marked = 0
				isc = 1
			} else isc = 0
			next
		}
		fence != "" && /^[[:space:]]*```[[:space:]]*$/ {
			if (isc) {
				out("where", doc ":" line "\n"); out("kind", kind "\n")
				out("prelude", prelude); out("c", code)
			}
			fence = ""; isc = 0
			next
		}
		fence != "" { if (isc) code = code $0 "\n"; next }
		marked && /[^[:space:]]/ {
			n++; out("where", doc ":" NR "\n"); out("kind", "!dangling\n"); out("prelude", ""); out("c", "")
			marked = 0
		}
	' "$top_srcdir/$doc")
done <"$tmp/docs"

if [ "$count" -eq 0 ]; then
	not_ok "the docs have C examples (none found: the parser is broken)"
	echo "$pass passed, $fail failed"
	exit 1
fi

headers() {
	printf '#include <errno.h>\n#include <stdint.h>\n#include <stdio.h>\n'
	printf '#include <stdlib.h>\n#include <string.h>\n\n'
	printf '#include <xenpool/xenpool.h>\n\n'
}

# uses_dpdk SRC: SRC includes <xenpool/dpdk.h> or DPDK's headers.
uses_dpdk() {
	grep -qE '#include <(xenpool/dpdk\.h|rte_[a-z_]+\.h)>' "$1"
}

# compile SRC OBJ [FLAGS...]: to an object, errors to $tmp/log; with
# DPDK's flags (make check passes DPDK_CFLAGS) when SRC uses DPDK.
compile() {
	src=$1 obj=$2 dflags=
	shift 2
	uses_dpdk "$src" && dflags=${DPDK_CFLAGS:-}
	# $CC, $XP_SAN_FLAGS and $dflags may hold several words.
	# shellcheck disable=SC2086
	$CC -std=gnu11 -Wall -Werror $XP_SAN_FLAGS -pthread "$@" $dflags \
		-I"$inc" -c -o "$obj" "$src" >"$tmp/log" 2>&1
}

# link_run OBJ SRC: link with the libraries (the driver too when SRC
# includes <xenpool/xen.h>, the DPDK bridge and DPDK's libraries when it
# uses DPDK), run; 0, 1 (failed) or 77 (no driver or bridge built).  The
# xen_dom0 driver is found by name in the build tree (XENPOOL_DRIVERS).
link_run() {
	obj=$1 src=$2 libs=$core_la
	if grep -q '#include <xenpool/xen.h>' "$src"; then
		[ -f "$xen_la" ] || return 77
		libs="$xen_la $core_la"
	fi
	if uses_dpdk "$src"; then
		[ -f "$dpdk_la" ] || return 77
		libs="$dpdk_la $libs ${DPDK_LIBS:-}"
	fi
	# shellcheck disable=SC2086
	"$libtool" --silent --tag=CC --mode=link $CC $XP_SAN_FLAGS -pthread \
		-o "${obj%.o}" "$obj" $libs >"$tmp/log" 2>&1 || return 1
	XENPOOL_DRIVERS=$top_builddir/xen/.libs timeout 60 "${obj%.o}" \
		>"$tmp/log" 2>&1 || {
		echo "exit status $?" >>"$tmp/log"
		return 1
	}
}

show_log() {
	sed 's/^/#   /' "$tmp/log"
}

mkdir "$tmp/units"
i=0
while [ "$i" -lt "$count" ]; do
	i=$((i + 1))
	where=$(cat "$tmp/ex/$i.where")
	set -f
	# shellcheck disable=SC2046
	set -- $(cat "$tmp/ex/$i.kind")
	set +f
	kind=${1:-}
	[ $# -gt 0 ] && shift
	unit='' same=''
	case $kind in
	file | body | run)
		for w in "$@"; do
			case $w in
			same-as=*) same=${w#same-as=} ;;
			*) unit=$w ;;
			esac
		done
		;;
	esac
	src=$tmp/$i.c obj=$tmp/$i.o
	case $kind in
	'')
		if ! grep -qE '(^|[^A-Za-z0-9_])main[[:space:]]*\(' "$tmp/ex/$i.c"
		then
			not_ok "$where: a C block without a main() and without" \
				"an <!-- example: KIND --> marker"
			continue
		fi
		cp "$tmp/ex/$i.c" "$src"
		if ! compile "$src" "$obj"; then
			not_ok "$where: the program compiles"
			show_log
			continue
		fi
		ret=0
		link_run "$obj" "$src" || ret=$?
		case $ret in
		0) ok "$where: the program compiles, links and runs" ;;
		77)
			skip=$((skip + 1))
			echo "ok - $where: compiles; # SKIP not linked: no xen driver or DPDK bridge built"
			;;
		*)
			not_ok "$where: the program links and runs (exit 0)"
			show_log
			;;
		esac
		;;
	file)
		ufile=$tmp/units/${unit:-none}.c
		if [ -n "$unit" ]; then
			if [ -s "$ufile" ]; then
				printf '\n' >>"$ufile.text"
			fi
			cat "$tmp/ex/$i.c" >>"$ufile.text"
			cat "$tmp/ex/$i.prelude" >>"$ufile.prelude"
			[ -n "$same" ] && echo "$same" >"$ufile.same"
			{
				headers
				cat "$ufile.prelude" "$ufile.text"
			} >"$src"
			cp "$src" "$ufile"
		else
			{
				headers
				cat "$tmp/ex/$i.prelude" "$tmp/ex/$i.c"
			} >"$src"
		fi
		if compile "$src" "$obj" -Wno-unused; then
			ok "$where: fragment compiles at file scope${unit:+ (unit $unit)}"
		else
			not_ok "$where: fragment compiles at file scope${unit:+ (unit $unit)}"
			show_log
		fi
		;;
	body | run)
		if [ "$kind" = run ]; then
			fn='int main(void)'
		else
			fn='int xp_doc_example(void)'
		fi
		{
			if [ -n "$unit" ] && [ -f "$tmp/units/$unit.c" ]; then
				cat "$tmp/units/$unit.c"
			else
				headers
			fi
			cat "$tmp/ex/$i.prelude"
			# The block in a block of its own, and the return
			# after it unindented, as the block's own code may be.
			printf '\n%s;\n%s\n{\n{\n' "$fn" "$fn"
			cat "$tmp/ex/$i.c"
			printf '}\nreturn 0;\n}\n'
		} >"$src"
		if ! compile "$src" "$obj" -Wno-unused; then
			not_ok "$where: fragment compiles as a function body${unit:+ (unit $unit)}"
			show_log
			continue
		fi
		if [ "$kind" = body ]; then
			ok "$where: fragment compiles as a function body${unit:+ (unit $unit)}"
			continue
		fi
		ret=0
		link_run "$obj" "$src" || ret=$?
		case $ret in
		0) ok "$where: fragment compiles, links and runs as main()${unit:+ (unit $unit)}" ;;
		77)
			skip=$((skip + 1))
			echo "ok - $where: compiles; # SKIP not linked: no xen driver or DPDK bridge built"
			;;
		*)
			not_ok "$where: fragment links and runs as main() (exit 0)"
			show_log
			;;
		esac
		;;
	skip)
		if [ $# -eq 0 ]; then
			not_ok "$where: <!-- example: skip --> without a reason"
		else
			skip=$((skip + 1))
			echo "ok - $where: # SKIP $*"
		fi
		;;
	'!dangling')
		not_ok "$where: an <!-- example: --> marker not right before a" \
			"\`\`\`c fence"
		;;
	*)
		not_ok "$where: unknown example kind '$kind' (file, body, run," \
			"skip)"
		;;
	esac
done

# same-as: a unit's file blocks are lines of a file of the tree.
for same in "$tmp"/units/*.same; do
	[ -f "$same" ] || continue
	unit=$(basename "$same" .c.same)
	path=$(cat "$same")
	text=${same%.same}.text
	if [ ! -f "$top_srcdir/$path" ]; then
		not_ok "unit $unit: same-as=$path: no such file"
		continue
	fi
	first=$(head -n 1 "$text")
	lines=$(wc -l <"$text")
	found=no
	# Line numbers: words.
	# shellcheck disable=SC2013
	for at in $(grep -nxF -- "$first" "$top_srcdir/$path" | cut -d: -f1); do
		if sed -n "$at,$((at + lines - 1))p" "$top_srcdir/$path" |
			cmp -s - "$text"; then
			found=yes
			break
		fi
	done
	if [ "$found" = yes ]; then
		ok "unit $unit: its code is $path's, word for word"
	else
		not_ok "unit $unit: its code is not $path's, word for word"
		at=$(grep -nxF -- "$first" "$top_srcdir/$path" | head -n 1 |
			cut -d: -f1)
		if [ -n "$at" ]; then
			sed -n "$at,$((at + lines - 1))p" "$top_srcdir/$path" |
				diff "$text" - | sed 's/^/#   /' || true
		fi
	fi
done

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
