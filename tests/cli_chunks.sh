#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# xenpool chunks: the chunk map as text, CSV and SVG, under the mock
# hypervisor for each frame pattern and object sizes from 64 B to 9000 B,
# and on the ring handlers.  The three formats must agree (chunks, pages,
# objects, waste), the waste must add up in every chunk (objects laid out a
# stride apart: (objects - 1) x stride + element size + waste = bytes), the
# SVG must be well-formed XML (xmllint) with a cell per page, a tick per
# object and a mark per chunk boundary that is a discontinuity; every
# option's errors as the other commands.  (That the map is the pool's —
# its frames, every object's bus address — is checked on the library call
# it prints: test_mempool's test_chunk_info and test_xen's
# test_chunk_info_frames.)  make check puts the shim first in
# LD_LIBRARY_PATH and sets top_builddir.
set -eu

: "${top_builddir:=.}"
XENPOOL=$top_builddir/tools/xenpool
XENPOOL_DRIVERS=$top_builddir/xen/.libs
export XENPOOL_DRIVERS

# shellcheck source=tests/cli-lib.sh
. "${top_srcdir:-.}/tests/cli-lib.sh"

# maps HANDLER ARGS N ELT [VAR=VALUE...]: the pool's map in the three
# formats, in $tmp/map.*, and they agree.
maps() {
	h=$1 a=$2 n=$3 elt=$4
	shift 4
	for fmt in text csv svg; do
		run env XENPOOL_LOG=warning "$@" "$XENPOOL" chunks --handler "$h" \
			${a:+--args "$a"} -n "$n" -e "$elt" --all \
			--format "$fmt" -o "$tmp/map.$fmt"
		[ "$status" -eq 0 ] || return 1
	done
	agree "$n"
}

# The CSV's sums: chunks pages objects waste bytes, and the chunk
# boundaries (in address order) that a virtual gap or a bus discontinuity
# makes.  Fails when a row's waste does not add up.
csv_sums() {
	sort -t, -k2,2 "$tmp/map.csv" | awk -F, '
	function hex(s,  i, v) {
		s = tolower(s)
		sub(/^0x/, "", s)
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	$1 == "chunk" { next }
	{
		va = hex($2); bytes = $3; bus = $4; objs = $6
		stride = $8; elt = $9; waste = $10
		if (objs > 0 && (objs - 1) * stride + elt + waste != bytes) {
			print "waste does not add up in chunk " $1 > "/dev/stderr"
			bad = 1
		}
		if (n > 0 && (va != pva + pbytes || bus == "" || pbus == "" ||
			      hex(bus) != hex(pbus) + pbytes))
			marks++
		n++; pages += $5; o += objs; w += waste; b += bytes
		pva = va; pbytes = bytes; pbus = bus
	}
	END {
		printf "%d %d %d %d %d %d\n", n, pages, o, w, b, marks
		exit bad
	}'
}

# agree N: the text and the SVG say what the CSV says, and all add up.
agree() {
	n=$1
	sums=$(csv_sums) || return 1
	# shellcheck disable=SC2086
	set -- $sums
	chunks=$1 pages=$2 objs=$3 waste=$4 bytes=$5 marks=$6
	[ "$objs" -eq "$n" ] || return 1
	grep -Eq "^memory +$bytes bytes in $pages pages, [0-9]+ virtual segments, $chunks chunks$" \
		"$tmp/map.text" || return 1
	grep -Eq "^objects +$objs$" "$tmp/map.text" || return 1
	grep -Eq "^waste +$waste bytes " "$tmp/map.text" || return 1
	[ "$(grep -Ec '^ +[0-9]+  0x' "$tmp/map.text")" -eq "$chunks" ] ||
		return 1
	if command -v xmllint >/dev/null; then
		xmllint --noout "$tmp/map.svg" || return 1
	fi
	[ "$(grep -c 'class="page"' "$tmp/map.svg")" -eq "$pages" ] &&
		[ "$(grep -c 'class="obj"' "$tmp/map.svg")" -eq "$objs" ] &&
		[ "$(grep -Ec 'class="(gap|disc)"' "$tmp/map.svg")" -eq "$marks" ] &&
		grep -q "waste $waste of $bytes bytes" "$tmp/map.svg"
}

# --- the shim's frame patterns ------------------------------------------

for contig in full none random; do
	for elt in 64 2000 9000; do
		n=500
		[ "$elt" -eq 9000 ] && n=40
		if [ "$contig" = none ] && [ "$elt" -gt 4096 ]; then
			# No two frames follow each other: no room for an
			# object above a page, and the map says why.
			run env XPSHIM_CONTIG=none "$XENPOOL" chunks \
				--handler xen_dom0 --args peer=0 -n "$n" -e "$elt"
			check "chunks, frames never contiguous, $elt B: refused" \
				sh -c '[ "$1" -eq 1 ] && grep -q "too fragmented" "$2"' \
				sh "$status" "$err"
			continue
		fi
		check "chunks on xen_dom0, $contig frames, $n x $elt B" \
			maps xen_dom0 peer=0 "$n" "$elt" XPSHIM_CONTIG="$contig" \
			XPSHIM_MAX_RUN=4 XPSHIM_SEED=3
	done
done

# Scattered frames: several chunks, and the marks between them.
check "chunks on xen_dom0, random frames: several chunks" \
	sh -c '[ "$(grep -c "class=\"disc\"\|class=\"gap\"" "$1")" -gt 0 ]' \
	sh "$tmp/map.svg"

# --- the ring handlers: one chunk, no waste --------------------------------

for h in ring_mp_mc ring_sp_sc; do
	check "chunks on $h: one chunk, no waste" maps "$h" "" 1000 100
	check "chunks on $h: the map says so" \
		grep -Eq "^memory .* 1 virtual segments, 1 chunks$" "$tmp/map.text"
	check "chunks on $h: nothing wasted" \
		grep -Eq "^waste +0 bytes " "$tmp/map.text"
done

# --- text: long maps summarised unless --all --------------------------------

run env XPSHIM_CONTIG=random XPSHIM_MAX_RUN=2 XENPOOL_LOG=warning \
	"$XENPOOL" chunks --handler xen_dom0 -n 2000 -e 2000
check "chunks: a long map is summarised" succeeds \
	'^chunk lengths \(pages: chunks\): ' '^\([0-9]+ chunks: --all lists them\)$'
check "chunks: the summary lists no chunk" sh -c '! grep -Eq "^ +[0-9]+  0x" "$1"' \
	sh "$out"

# --- fallback, as demo -------------------------------------------------------

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=notice "$XENPOOL" chunks \
	--handler xen_dom0 -n 100
check "chunks: without Xen, the fallback serves and says so" \
	sh -c '[ "$1" -eq 0 ] && grep -Eq "^handler +ring_mp_mc$" "$2" &&
		grep -q "served by ring_mp_mc instead" "$3"' sh "$status" "$out" "$err"

# --- bad input ---------------------------------------------------------------

# usage_fails REGEX ARGS...: exit status 2, REGEX on stderr, nothing on stdout.
usage_fails() {
	re=$1
	shift
	run "$XENPOOL" chunks "$@"
	[ "$status" -eq 2 ] && grep -Eq -e "$re" "$err" && [ ! -s "$out" ]
}

check "chunks -n 0" usage_fails "-n '0': out of range" -n 0
check "chunks -n x" usage_fails "-n 'x': not a number" -n x
check "chunks -n too many" usage_fails "out of range" -n 16777217
check "chunks -e 0" usage_fails "--elt-size '0': out of range" -e 0
check "chunks -e too big" usage_fails "out of range" -e 1048577
check "chunks --format bogus" usage_fails "expected text, csv or svg" \
	--format bogus
check "chunks --bogus" usage_fails "unknown option '--bogus'" --bogus
check "chunks -f (no argument)" usage_fails "option '-f' needs an argument" -f
check "chunks extra argument" usage_fails "unexpected argument 'x'" x
run "$XENPOOL" chunks -n 10 -o /nonexistent/map.txt
check "chunks -o in a missing directory: exit 1, said" \
	sh -c '[ "$1" -eq 1 ] && grep -q "/nonexistent/map.txt: No such file" "$2"' \
	sh "$status" "$err"
run "$XENPOOL" chunks --handler no_such -n 10
check "chunks on an unknown handler: exit 1, with the hint" \
	sh -c '[ "$1" -eq 1 ] && grep -q "Try .xenpool handlers." "$2"' \
	sh "$status" "$err"
run "$XENPOOL" chunks --help
check "chunks --help" succeeds '^Usage: .*chunks \[OPTIONS\]' '--format F'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
