#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark cannot rot: run it once, as short as it goes, and check that
# it succeeds and prints every row of doc/performance.md, in the table and in
# the CSV.  The figures themselves are not checked (they depend on the
# machine).  Where DPDK is built in but its EAL cannot start (exit status 3),
# xenpool is measured alone and the test says so.
set -u

bench=${top_builddir:-.}/bench/xenpool-bench
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

flags="--reps 1 --objs 1024"
run() {
	# shellcheck disable=SC2086
	"$bench" $flags --csv "$tmp/out.csv" >"$tmp/out.txt" 2>"$tmp/err.txt"
}

run
rc=$?
if [ "$rc" -eq 3 ]; then
	echo "note: DPDK's EAL did not start here; measuring xenpool alone:"
	cat "$tmp/err.txt"
	flags="$flags --no-dpdk"
	run
	rc=$?
fi
if [ "$rc" -ne 0 ]; then
	echo "FAIL: xenpool-bench $flags exited with status $rc" >&2
	cat "$tmp/out.txt" "$tmp/err.txt" >&2
	exit 1
fi

rows=
for t in 1 2; do
	for c in 256 0; do
		for e in 64 2048; do
			for k in 32 512; do
				for b in 1 4 32; do
					rows="$rows pool/c$c/b$b/k$k/e$e/t$t"
				done
			done
		done
	done
done
for c in 256 0; do
	for b in 1 32; do
		rows="$rows prodcons/c$c/b$b/e64"
	done
done
for b in 1 4 32; do
	rows="$rows handler-nocache/b$b/k32 ring-direct/b$b/k32"
done
rows="$rows virt2phy/mempool virt2phy/mem mbuf/c256/b32"
# Burst shapes (doc/performance.md).
for b in 1 2 4 8 13 16 31 32 64; do
	rows="$rows burst/c256/c$b burst/c256/r$b floor/memcpy/r$b"
done
for b in c32 r32; do
	rows="$rows burst/c256/$b/even burst/c256/$b/odd"
done
rows="$rows burst/c0/r1 burst/c0/r4 burst/c0/r32 mbuf/c256/r32"
rows="$rows txc/c256/g32/p-rt pool/c256/r32/k32/e64/t1 pool/c256/r32/k32/e64/t2"

status=0
n=0
for r in $rows; do
	n=$((n + 1))
	if ! grep -q "^$r " "$tmp/out.txt"; then
		echo "FAIL: row $r missing from the table" >&2
		status=1
	fi
	if ! grep -q "^$r,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,cycles_per_obj," \
		"$tmp/out.csv"; then
		echo "FAIL: row $r missing from the CSV" >&2
		status=1
	fi
done
# Every measured figure is a positive number: a loop that did nothing, or a
# library that was not run, shows up as 0 or -1.  Column 9 is xenpool's
# median, 12 DPDK's (-1 where DPDK is not built in or not started).
bad=$(awk -F, -v dpdk="$(case $flags in *--no-dpdk*) echo 0;; *) echo 1;; esac)" '
	$8 == "cycles_per_obj" && ($9 + 0 <= 0 || (dpdk && $12 != -1 && $12 + 0 <= 0)) { print $1 }
' "$tmp/out.csv")
if [ -n "$bad" ]; then
	echo "FAIL: rows without a positive figure:" $bad >&2
	status=1
fi
# --list names the same rows; --only selects among them.
if [ "$("$bench" --list | wc -l)" -ne "$n" ]; then
	echo "FAIL: --list does not name the $n rows" >&2
	status=1
fi
# shellcheck disable=SC2086
if ! "$bench" $flags --only '^virt2phy/mem$' >"$tmp/only.txt" 2>&1 ||
	[ "$(grep -c '^virt2phy/' "$tmp/only.txt")" -ne 1 ]; then
	echo "FAIL: --only '^virt2phy/mem\$' did not measure that row alone" >&2
	cat "$tmp/only.txt" >&2
	status=1
fi
for s in "^Built at -O3" "^Burst shapes" "^Without a cache" "^Floor: " \
	"^Two threads" "^pool/c256/r32/k32/e64 " "^Memory of a pool"; do
	if ! grep -q "$s" "$tmp/out.txt"; then
		echo "FAIL: section \"$s\" missing" >&2
		status=1
	fi
done
for e in 64 2048; do
	if ! grep -q "^memory/e$e,memory,.*,bytes_per_object,[0-9]" \
		"$tmp/out.csv"; then
		echo "FAIL: memory/e$e missing from the CSV" >&2
		status=1
	fi
done
if ! grep -q "^floor/cas2,floor,.*,cycles_per_obj,[0-9]" "$tmp/out.csv"; then
	echo "FAIL: floor/cas2 missing from the CSV" >&2
	status=1
fi
if [ "$status" -ne 0 ]; then
	cat "$tmp/out.txt" "$tmp/err.txt" >&2
	exit 1
fi
echo "ok: $n rows and every section printed ($flags)"
