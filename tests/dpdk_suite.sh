#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Unchanged DPDK 22.11 programs on the xen_dom0 mempool driver, loaded
# with EAL's -d and chosen with --mbuf-pool-ops-name:
#  - dpdk-test's mempool_autotest and mbuf_autotest, under the mock
#    hypervisor with scattered frames (read-only grants, as the isolation
#    rule asks of unchanged applications), and without Xen (the fallback);
#  - dpdk-testpmd forwarding between two net_null ports for a few seconds
#    on a xen_dom0 pool under the shim: the ops selected, the pool's dump,
#    packets forwarded.
# make check puts the shim first in LD_LIBRARY_PATH and sets top_builddir.
# Skipped (77) when Debian's dpdk-dev programs are not installed.
set -u

: "${top_builddir:=.}"
top=$(cd "$top_builddir" && pwd)
driver=$top/dpdk/.libs/librte_mempool_xenpool.so
XENPOOL_DRIVERS=$top/xen/.libs
export XENPOOL_DRIVERS
EAL="--no-huge --no-pci -m 512 --no-shconf --no-telemetry -d $driver"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=0

# DPDK's programs are not built with the sanitizers: they cannot load a
# driver that is (the sanitizer's runtime must come first).  test_dpdk
# covers the driver in those builds.
if [ -n "${XP_SAN_FLAGS:-}" ]; then
	echo "SKIP: a sanitizer build ($XP_SAN_FLAGS)"
	exit 77
fi
for prog in dpdk-test dpdk-testpmd; do
	if ! command -v "$prog" >/dev/null; then
		echo "SKIP: $prog not installed (Debian's dpdk-dev)"
		exit 77
	fi
done

# check NAME FUNCTION [ARG...]: run it with its output in $log; on failure
# show the log's tail.
check() {
	name=$1
	shift
	if "$@" >"$log" 2>&1; then
		echo "ok: $name"
	else
		echo "FAIL: $name"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
}

# autotest HANDLER: DPDK's own suites both pass, on the driver, whose pools
# are served by xenpool's HANDLER.
autotest() {
	# shellcheck disable=SC2086 # EAL is a list of words
	timeout 300 dpdk-test $EAL --mbuf-pool-ops-name=xen_dom0 -- \
		mempool_autotest mbuf_autotest || return 1
	[ "$(grep -c '^Test OK' "$log")" -eq 2 ] &&
		grep -q "Testing xen_dom0 mempool handler" "$log" &&
		grep -q "on xenpool's $1" "$log"
}

# testpmd: io forwarding for 4 s, then the pool's dump, from its prompt.
testpmd() {
	# shellcheck disable=SC2086
	{ sleep 4; echo stop; sleep 1; echo "dump_mempool mb_pool_0"
	  sleep 1; echo quit; } |
		timeout 60 dpdk-testpmd $EAL -l 0-1 --vdev=net_null0 \
			--vdev=net_null1 --mbuf-pool-ops-name=xen_dom0 -- -i \
			--forward-mode=io --auto-start --total-num-mbufs=8192 ||
		return 1
	grep -q 'preferred mempool ops selected: xen_dom0' "$log" &&
		grep -q "mempool mb_pool_0: 8192 objects .* on xenpool's xen_dom0" \
			"$log" &&
		grep -q 'ops_name: <xen_dom0>' "$log" &&
		grep -Eq 'RX-packets: [1-9][0-9]* ' "$log" &&
		grep -Eq 'TX-packets: [1-9][0-9]* ' "$log"
}

XPSHIM_CONTIG=random XPSHIM_MAX_RUN=4 XPSHIM_LIMIT=65536
XENPOOL_DPDK_ARGS=writable=0
export XPSHIM_CONTIG XPSHIM_MAX_RUN XPSHIM_LIMIT XENPOOL_DPDK_ARGS
check "dpdk-test mempool_autotest mbuf_autotest, shim, scattered frames" \
	autotest xen_dom0
check "dpdk-testpmd, io forwarding on xen_dom0, shim" testpmd
XPSHIM_ABSENT=enoent
export XPSHIM_ABSENT
check "dpdk-test mempool_autotest mbuf_autotest, Xen absent (fallback)" \
	autotest ring_mp_mc
exit $((failed > 0))
