#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
#
# /init of the dom0 that tests/realxen/realxen.sh boots (busybox sh).
#
# Runs the checks of /etc/realxen/plan and reports on the console, which
# is the serial port the host reads:
#   RX-RUN NAME                           a check starts; its output
#                                         follows, each line prefixed "  | "
#   RX-CHECK PASS|FAIL NAME (SECONDS s)   how it ended
#   RX-DATA ...                           a measurement
#   RX-END passed=N failed=N              the last line, then power off
# Anything else on the console (the kernel's, Xen's) is context.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm /run /var/log /var/lib
[ -e /var/run ] || ln -s ../run /var/run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
cd /tmp || exit 1

passed=0
failed=0
# What the plan asks for beside the checks (realxen.sh writes it).
JUMBO=0
DOMU=0
DPDK=0
[ -f /etc/realxen/plan ] && . /etc/realxen/plan

# check NAME COMMAND...: run COMMAND under a time limit, its output shown
# as it comes, and report.
check() {
	name=$1
	shift
	t0=$(date +%s)
	echo "RX-RUN $name"
	{ timeout 900 "$@" 2>&1; echo $? >"/tmp/rc.$name"; } | sed 's/^/  | /'
	rc=$(cat "/tmp/rc.$name")
	st=
	if [ "$rc" = 0 ]; then
		res=PASS
		passed=$((passed + 1))
	else
		res=FAIL
		failed=$((failed + 1))
		st=", status $rc"
	fi
	# The exit status says how a check died (128 + the signal: 139 a
	# segfault, 135 a bus error, 134 an abort, 132 an illegal
	# instruction), which the kernel does not always log.
	echo "RX-CHECK $res $name ($(($(date +%s) - t0)) s$st)"
}

# cli NAME ARGS...: a CLI run that must succeed and print none of the Xen
# libraries' own stderr lines ("gntshr: error: ...", "gnttab: ...",
# "xc: ..."): those go through xenpool's log.
cli() {
	name=$1
	shift
	check "$name" sh -c 'xenpool "$@" >/tmp/cli.out 2>&1; rc=$?
		cat /tmp/cli.out
		if grep -Eq "^(gntshr|gnttab|xc): " /tmp/cli.out; then
			echo "the Xen libraries wrote to the terminal"; exit 1
		fi
		exit $rc' cli "$@"
}

load_xen() {
	for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
		insmod "/lib/modules/$m.ko" || echo "RX: insmod $m failed"
	done
	mount -t xenfs xenfs /proc/xen
}

echo "RX-BEGIN dom0 $(uname -r)"

# ---- 1. Xen's devices absent: the same binaries fall back ---------------
check noxen-api rx_dom0 noxen
check noxen-cli sh -c 'xenpool demo --handler xen_dom0 -n 100 -s 1 \
	>/tmp/cli.out 2>&1; rc=$?
	cat /tmp/cli.out
	[ $rc = 0 ] && grep -q "served by ring_mp_mc instead" /tmp/cli.out'

# ---- 2. dom0 ------------------------------------------------------------
load_xen
echo "RX: $(cat /proc/xen/capabilities), gntalloc limit" \
	"$(cat /sys/module/xen_gntalloc/parameters/limit)"
# Through every check below: no page of dom0's is written behind its
# owner's back (rx_dom0 canary), checked at the end.
rx_dom0 canary >/tmp/out.canary 2>&1 &
canary=$!
check dom0 rx_dom0 dom0

check timing rx_dom0 timing
check xmm rx_dom0 xmm
cli cli-demo demo --handler xen_dom0 --args peer=0 -n 2000 -e 2048 -s 1
cli cli-demo-jumbo demo --handler xen_dom0 --args peer=0 -n 64 -e 9000 -s 1
cli cli-demo-gref demo --handler xen_dom0 --args peer=0,frames=gref -n 64 \
	-e 9000 -s 1
cli cli-mbuf mbuf --handler xen_dom0 --args peer=0 -n 1023 -s 1
cli cli-demo-share-ro demo --handler xen_dom0 --args peer=0,writable=0 \
	-n 200 -e 2048 -s 1
cli cli-mbuf-share-ro mbuf --handler xen_dom0 --args peer=0,writable=0 \
	-n 255 -s 1
cli cli-chunks chunks --handler xen_dom0 --args peer=0 -n 64 -e 9000 --all
cli cli-chunks-svg chunks --handler xen_dom0 --args peer=0 -n 64 -e 9000 \
	--format svg -o /tmp/chunks.svg

# Map mode: a "guest" (this domain, through rx_dom0 grant) grants pages.
rm -f /tmp/refs
rx_dom0 grant 128 /tmp/refs &
guest=$!
i=0
while [ ! -s /tmp/refs ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
cli cli-demo-map demo --handler xen_dom0 --args map=0,refs=@/tmp/refs \
	-n 200 -e 2000 -s 1
cli cli-demo-map-ro demo --handler xen_dom0 \
	--args map=0,refs=@/tmp/refs,writable=0 -n 200 -e 2000 -s 1
cli cli-mbuf-map-ro mbuf --handler xen_dom0 \
	--args map=0,refs=@/tmp/refs,writable=0 -n 127 -s 1
kill "$guest"
wait "$guest"

# ---- 2b. DPDK on xen_dom0 (built with DPDK) -------------------------------
# The mempool driver as EAL loads it (-d), and the bridge: every mbuf's
# bytes read back at its IOVA's machine frame (rx_dpdk); DPDK's own
# mbuf_autotest on the driver; testpmd forwarding on it.  EAL as in a PV
# dom0: no hugepages (so IOVA-as-VA mode: iova=bus asked for explicitly).
if [ "$DPDK" = 1 ]; then
	limit=$(cat /sys/module/xen_gntalloc/parameters/limit)
	echo 16384 >/sys/module/xen_gntalloc/parameters/limit
	EAL="--no-huge --no-pci -m 256 --no-shconf --no-telemetry
		-d /usr/lib/xenpool/dpdk/librte_mempool_xenpool.so"
	# shellcheck disable=SC2086 # EAL is a list of words
	check dpdk-iova rx_dpdk $EAL
	# shellcheck disable=SC2086
	check dpdk-mbuf-autotest sh -c 'XENPOOL_DPDK_ARGS=writable=0 \
		dpdk-test "$@" --mbuf-pool-ops-name=xen_dom0 -- \
		mbuf_autotest >/tmp/dpdk.out 2>&1; rc=$?
		grep -v "^EAL: " /tmp/dpdk.out | tail -n 20
		[ $rc = 0 ] && grep -q "^Test OK" /tmp/dpdk.out &&
			grep -q "on xenpool.s xen_dom0" /tmp/dpdk.out' \
		dpdk $EAL
	# shellcheck disable=SC2086
	check dpdk-testpmd sh -c '{ sleep 8; echo stop; sleep 1
		echo "dump_mempool mb_pool_0"; sleep 1; echo quit; } |
		XENPOOL_DPDK_ARGS=writable=0 dpdk-testpmd "$@" -l 0-1 \
			--vdev=net_null0 --vdev=net_null1 \
			--mbuf-pool-ops-name=xen_dom0 -- -i --forward-mode=io \
			--auto-start --total-num-mbufs=2048 >/tmp/dpdk.out 2>&1
		rc=$?
		grep -E "mempool ops|xenpool|RX-packets|TX-packets|ops_name" \
			/tmp/dpdk.out | tail -n 20
		[ $rc = 0 ] || tail -n 30 /tmp/dpdk.out
		[ $rc = 0 ] &&
		grep -q "preferred mempool ops selected: xen_dom0" /tmp/dpdk.out &&
		grep -q "ops_name: <xen_dom0>" /tmp/dpdk.out &&
		grep -Eq "RX-packets: [1-9][0-9]* " /tmp/dpdk.out' dpdk $EAL
	echo "$limit" >/sys/module/xen_gntalloc/parameters/limit
fi

# ---- 3. a PV domU beside dom0 -------------------------------------------
# The toolstack (no init system here: started by hand, as a distribution's
# units would), then the domU, whose rx_domu follows rx_dom0 cross over
# xenstore.
if [ "$DOMU" = 1 ]; then
	X=/usr/lib/xen-4.17/bin
	check toolstack sh -c "$X/xenstored --pid-file /run/xenstored.pid &&
		$X/xen-init-dom0 &&
		$X/xenconsoled --log=guest --log-dir=/var/log/xen/console"
	check domu-create $X/xl create /etc/realxen/domu.cfg
	domid=$($X/xl domid rxdomu 2>/dev/null)
	echo "RX: domU rxdomu is domain $domid"
	# The domU's console, as it comes.
	tail -F /var/log/xen/console/guest-rxdomu.log 2>/dev/null |
		while read -r line; do
			case $line in
			"["*) ;; # the kernel's
			*) echo "  domU | $line" ;;
			esac
		done &
	console=$!
	# The vector registers again, now while the domU runs: Xen then
	# switches vCPUs of two domains on a CPU and saves and restores
	# their registers.
	rx_dom0 xmm 25 >/tmp/out.xmm2 2>&1 &
	xmm_pid=$!
	check cross rx_dom0 cross "$domid"
	wait $xmm_pid
	xmm_rc=$?
	check xmm-domu sh -c "cat /tmp/out.xmm2; exit $xmm_rc"
	i=0
	while $X/xl domid rxdomu >/dev/null 2>&1 && [ $i -lt 60 ]; do
		sleep 1
		i=$((i + 1))
	done
	$X/xl destroy rxdomu >/dev/null 2>&1
	kill "$console" 2>/dev/null
fi

# ---- 4. measurements --------------------------------------------------
if [ "$JUMBO" = 1 ]; then
	limit=$(cat /sys/module/xen_gntalloc/parameters/limit)
	check jumbo-default-limit rx_dom0 jumbo 1024
	echo 65536 >/sys/module/xen_gntalloc/parameters/limit
	check jumbo-limit-65536 rx_dom0 jumbo 4096
	echo "$limit" >/sys/module/xen_gntalloc/parameters/limit
fi

kill "$canary"
wait "$canary"
canary_rc=$?
check canary sh -c "cat /tmp/out.canary; exit $canary_rc"
if [ "$failed" -gt 0 ]; then
	echo "RX: kernel messages (tail):"
	dmesg | tail -n 40 | sed 's/^/  | /'
fi
echo "RX-END passed=$passed failed=$failed"
sync
poweroff -f
