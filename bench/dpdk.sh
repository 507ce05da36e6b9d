#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# make bench-dpdk: xenpool's DPDK driver against DPDK's ring_mp_mc, in the
# same runs, under the mock hypervisor (the driver's pools on xen_dom0,
# read-only grants):
#  1. rte_mempool get + put of bursts read from memory (1, 4, 13, 32),
#     with DPDK's cache (256) and without: TSC cycles per object (median
#     of 7 runs) and callgrind instructions per object, as ratios;
#  2. testpmd io forwarding between two net_null ports for SECONDS (5)
#     on a pool of each, three runs each, alternating: packets per second
#     (median) and the ratio.
# doc/performance.md ("DPDK driver") has the figures and the targets.
#
# Usage: bench/dpdk.sh [SECONDS]   (from the build tree; top_builddir)
set -eu

: "${top_builddir:=.}"
top=$(cd "$top_builddir" && pwd)
secs=${1:-5}
driver=$top/dpdk/.libs/librte_mempool_xenpool.so
prog=$top/bench/xenpool-dpdk-bench
EAL="--no-huge --no-pci -m 512 --no-shconf --no-telemetry
	--log-level=lib.eal:error --log-level=pmd.mempool.xenpool:warning
	-d $driver"
LD_LIBRARY_PATH=$top/tests/shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
XENPOOL_DRIVERS=$top/xen/.libs
XENPOOL_DPDK_ARGS=writable=0
XPSHIM_LIMIT=65536
XENPOOL_LOG=warning
export LD_LIBRARY_PATH XENPOOL_DRIVERS XENPOOL_DPDK_ARGS XPSHIM_LIMIT \
	XENPOOL_LOG
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$driver" "$prog"; do
	[ -e "$f" ] || { echo "bench/dpdk.sh: $f is missing" >&2; exit 1; }
done

echo "== rte_mempool get + put, pool of 4095 x 64 B, 32 objects kept,"
echo "   burst read from memory; ring_mp_mc vs xen_dom0 (xenpool's driver)"
# shellcheck disable=SC2086 # EAL is a list of words
"$prog" $EAL -l 1 -- "${BENCH_DPDK_OBJECTS:-2000000}" 7 >"$tmp/cycles"
# shellcheck disable=SC2086
valgrind --tool=callgrind --instr-atstart=no \
	--callgrind-out-file="$tmp/cg.%p" "$prog" $EAL -l 1 -- 20000 1 \
	>/dev/null 2>"$tmp/cg.log" || {
	cat "$tmp/cg.log" >&2
	exit 1
}
for f in "$tmp"/cg.*; do
	case $f in *.log) continue ;; esac
	awk '/^desc: Trigger: Client Request: xpd\|/ {
		split($0, a, "|"); row = a[2]; ops = a[3]; n = a[4] }
	     /^totals:/ { t = $2 }
	     END { if (row != "") printf "%s %s %.2f\n", row, ops, t / n }' "$f"
done >"$tmp/ir"
printf '%-10s %12s %12s %7s %10s %10s %7s\n' row "ring cyc" "xen cyc" ratio \
	"ring Ir" "xen Ir" ratio
awk 'FILENAME ~ /cycles$/ { c[$1 " " $2] = $3; rows[$1] = 1; next }
     { i[$1 " " $2] = $3 }
     END {
	for (r in rows) print r
     }' "$tmp/cycles" "$tmp/ir" | sort -t/ -k1,1 -k2.2n | while read -r row; do
	awk -v row="$row" '
	FILENAME ~ /cycles$/ && $1 == row { c[$2] = $3 }
	FILENAME ~ /ir$/ && $1 == row { i[$2] = $3 }
	END {
		printf "%-10s %12.2f %12.2f %6.2fx %10.2f %10.2f %6.2fx\n",
			row, c["ring_mp_mc"], c["xen_dom0"],
			c["xen_dom0"] / c["ring_mp_mc"],
			i["ring_mp_mc"], i["xen_dom0"],
			i["xen_dom0"] / i["ring_mp_mc"]
	}' "$tmp/cycles" "$tmp/ir"
done

echo
echo "== testpmd io forwarding, two net_null ports, 8192 mbufs, ${secs} s a run"
# rate OPS: packets per second of one run (all ports' RX).
rate() {
	ops=$1
	# shellcheck disable=SC2086
	{ sleep "$secs"; echo stop; sleep 1; echo quit; } |
		timeout $((secs + 60)) dpdk-testpmd $EAL -l 0-1 \
			--vdev=net_null0 --vdev=net_null1 \
			--mbuf-pool-ops-name="$ops" -- -i --forward-mode=io \
			--auto-start --total-num-mbufs=8192 >"$tmp/pmd" 2>&1 || {
		tail -n 20 "$tmp/pmd" >&2
		return 1
	}
	grep -q "preferred mempool ops selected: $ops" "$tmp/pmd" || return 1
	awk -v s="$secs" '/Accumulated forward statistics/ { acc = 1 }
		acc && /RX-packets:/ { print $2 / s; exit }' "$tmp/pmd"
}
for i in 1 2 3; do
	rate ring_mp_mc >>"$tmp/ring"
	rate xen_dom0 >>"$tmp/xen"
done
median() { sort -n "$1" | sed -n 2p; }
r=$(median "$tmp/ring")
x=$(median "$tmp/xen")
awk -v r="$r" -v x="$x" 'BEGIN {
	printf "ring_mp_mc %.2f Mpps [runs: %s]\n", r / 1e6, "median of 3"
	printf "xen_dom0   %.2f Mpps\n", x / 1e6
	printf "xen_dom0 / ring_mp_mc: %.3f\n", x / r }'
echo "runs (pps): ring_mp_mc $(tr '\n' ' ' <"$tmp/ring"); xen_dom0 $(tr '\n' ' ' <"$tmp/xen")"
