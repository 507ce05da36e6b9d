#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Each public header must compile on its own, included first and twice (so
# that it brings its own includes and its guard works), as C11, GNU C11
# and C++11, all with -pedantic: users include them from all of these.
set -eu

: "${top_srcdir:=.}"
: "${CC:=cc}"
: "${CXX:=c++}"

pass=0
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# check NAME COMPILER-AND-FLAGS...: compile a unit that includes $hdr twice.
check() {
	what=$1
	shift
	if printf '#include <xenpool/%s>\n#include <xenpool/%s>\n' \
		"$hdr" "$hdr" |
		"$@" -I"$top_srcdir/include" -fsyntax-only - >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "ok - $hdr as $what"
	else
		fail=$((fail + 1))
		echo "not ok - $hdr as $what"
		sed 's/^/#   /' "$log"
	fi
}

set -- "$top_srcdir"/include/xenpool/*.h
if [ ! -e "$1" ]; then
	echo "no headers in $top_srcdir/include/xenpool" >&2
	exit 1
fi

for path in "$@"; do
	hdr=${path##*/}
	for std in gnu11 c11; do
		# $CC may carry flags of its own (e.g. "gcc -m32"): split it.
		# shellcheck disable=SC2086
		check "$std" $CC -x c -std=$std -pedantic -Wall -Wextra -Wcast-qual -Werror
	done
	# shellcheck disable=SC2086
	check c++11 $CXX -x c++ -std=c++11 -pedantic -Wall -Wextra -Wcast-qual -Werror
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
