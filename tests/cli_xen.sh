#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The xenpool command-line tool on the xen_dom0 handler, under the mock
# hypervisor: make check puts the shim first in LD_LIBRARY_PATH and sets
# top_builddir.  The tool knows nothing of the shim; the XPSHIM_* variables
# configure it.  tools/xenpool is a libtool wrapper script: run it directly.
set -eu

: "${top_builddir:=.}"
XENPOOL=$top_builddir/tools/xenpool

# shellcheck source=tests/cli-lib.sh
. "${top_srcdir:-.}/tests/cli-lib.sh"

# demo_ok HANDLER [REGEX...]: the pool was served by HANDLER, the workload
# moved objects, every object came back, the audit found nothing and every
# REGEX is on stdout.
demo_ok() {
	h=$1
	shift
	succeeds "^handler +$h\$" '^throughput +[0-9]+\.[0-9]+ Mops/s total' \
		'^in use +0$' '^audit +clean$' "$@" &&
		! has '^throughput +0\.00 '
}

# fallback_ok WHY: served by ring_mp_mc, and one line on stderr says that
# xen_dom0 was unavailable and WHY.
fallback_ok() {
	demo_ok ring_mp_mc &&
		[ "$(grep -c 'xen_dom0' "$err")" -eq 1 ] &&
		grep 'xen_dom0' "$err" | grep -q 'xengntshr_open' &&
		grep 'xen_dom0' "$err" | grep -q "$1"
}

# The reason given for a missing errno is not strerror(0).
no_success() {
	! grep -q 'Success' "$err"
}

# A failure to create the pool: status 1, a message matching RE, no report.
create_fails() {
	[ "$status" -eq 1 ] && grep -q -e "$1" "$err" && ! has '^handler '
}

demo() {
	run env XENPOOL_LOG=warning "$@" "$XENPOOL" demo --handler xen_dom0 \
		--seconds 1
}

# --- handlers -----------------------------------------------------------

run "$XENPOOL" handlers
check "handlers lists xen_dom0 with shared memory" \
	has '^[ *] xen_dom0 +shared-mem$'

# --- demo on the shim ---------------------------------------------------

demo XPSHIM_CONTIG=none
check "demo on xen_dom0, fragmented frames" demo_ok xen_dom0

demo XPSHIM_CONTIG=full XPSHIM_MODE=hvm XPSHIM_GNTTAB_VERSION=2
check "demo on xen_dom0, contiguous HVM frames, grant table v2" \
	demo_ok xen_dom0

run env XPSHIM_CONTIG=random XPSHIM_MAX_RUN=3 XPSHIM_SEED=5 \
	XENPOOL_LOG=warning "$XENPOOL" demo --handler xen_dom0 -n 200 \
	--elt-size 5000 --args peer=5,batch=16 --seconds 1
check "demo on xen_dom0, objects above a page, short frame runs" \
	demo_ok xen_dom0

demo XPSHIM_UNPRIVILEGED=1
check "demo on xen_dom0 unprivileged (grant-DMA addresses)" demo_ok xen_dom0

run env XENPOOL_LOG=warning "$XENPOOL" demo --handler xen_dom0 --debug \
	--args frames=gref --seconds 1
check "demo on xen_dom0 in debug mode, frames=gref" demo_ok xen_dom0

# --- mbuf on the shim --------------------------------------------------

# mbuf_ok ROOMS_HANDLER [REGEX...]: rooms on that handler, headers split
# from them (in private memory, on the built-in ring), packets moved, every
# chain passed the check, every mbuf came back, the audit found nothing and
# every REGEX is on stdout.
mbuf_ok() {
	h=$1
	shift
	succeeds "^handler +$h\$" \
		'^headers +split: private memory \(ring_mp_mc\), rooms ' \
		"^headers .* \\($h\\)\$" '^rate +[0-9]+\.[0-9]+ Mpps$' \
		'^checks +[1-9][0-9]*, 0 bad$' '^in use +0$' '^audit +clean$' \
		"$@" &&
		! has '^rate +0\.00 '
}

# Xen absent: the rooms' pool fell back to ring_mp_mc, and one line said
# so.
mbuf_fallback_ok() {
	mbuf_ok ring_mp_mc && [ "$(grep -c 'xen_dom0' "$err")" -eq 1 ]
}

mbuf() {
	run env XENPOOL_LOG=warning "$@" "$XENPOOL" mbuf --handler xen_dom0 \
		-n 1000 --seconds 1
}

mbuf XPSHIM_CONTIG=none
check "mbuf on xen_dom0, fragmented frames: headers split" mbuf_ok xen_dom0

run env XPSHIM_CONTIG=random XPSHIM_MAX_RUN=6 XPSHIM_SEED=9 \
	XENPOOL_LOG=warning "$XENPOOL" mbuf --handler xen_dom0 -n 100 \
	--data-room 9000 --args peer=5,batch=16 --seconds 1
check "mbuf on xen_dom0, rooms above a page, short frame runs" \
	mbuf_ok xen_dom0

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=notice "$XENPOOL" mbuf \
	--handler xen_dom0 -n 1000 --seconds 1
check "mbuf, Xen absent: rooms on ring_mp_mc, still split, says why" \
	mbuf_fallback_ok

mbuf XPSHIM_LIMIT=8
check "mbuf: the gntalloc limit is reported with its file" \
	create_fails '/sys/module/xen_gntalloc/parameters/limit'

# --- Xen absent ---------------------------------------------------------

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=notice "$XENPOOL" demo \
	--handler xen_dom0 --seconds 1
check "Xen absent (ENOENT): ring_mp_mc serves, and says why" \
	fallback_ok 'No such file or directory'

run env XPSHIM_ABSENT=noerrno XENPOOL_LOG=notice "$XENPOOL" demo \
	--handler xen_dom0 --seconds 1
check "Xen absent (no errno): ring_mp_mc serves, and says why" \
	fallback_ok 'xen_dom0'
check "Xen absent (no errno): the reason is not 'Success'" no_success

run env XPSHIM_ABSENT=enoent XENPOOL_DEFAULT_HANDLER=xen_dom0 \
	XENPOOL_LOG=notice "$XENPOOL" demo --seconds 1
check "default handler xen_dom0, Xen absent: ring_mp_mc serves" \
	fallback_ok 'No such file or directory'

# --- failures -----------------------------------------------------------

demo XPSHIM_LIMIT=8
check "the gntalloc limit is reported with its file" \
	create_fails '/sys/module/xen_gntalloc/parameters/limit'

run env XENPOOL_LOG=warning "$XENPOOL" demo --handler xen_dom0 \
	--args bogus=1 --seconds 1
check "an unknown handler argument is reported" create_fails bogus

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=warning "$XENPOOL" demo \
	--handler xen_dom0 --args peer=abc --seconds 1
check "a bad handler argument is reported even without Xen" \
	create_fails peer

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
