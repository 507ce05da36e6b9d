#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The xenpool command-line tool on the xen_dom0 handler, under the mock
# hypervisor: make check puts the shim first in LD_LIBRARY_PATH and sets
# top_builddir.  The tool knows nothing of the shim; the XPSHIM_* variables
# configure it.  tools/xenpool is a libtool wrapper script: run it directly.
# It finds the xen_dom0 driver as a user's program does, by name, from
# XENPOOL_DRIVERS: here the build tree's.
set -eu

: "${top_builddir:=.}"
XENPOOL=$top_builddir/tools/xenpool
XENPOOL_DRIVERS=$top_builddir/xen/.libs
export XENPOOL_DRIVERS

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
check "demo on xen_dom0, fragmented frames" demo_ok xen_dom0 \
	'^access +read-write here, granted read-write to domain 0$'

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

# --- map mode: a guest in the tool's own process -------------------------
#
# The shim keeps its grant tables per process, so the guest whose pages
# map= maps must run inside the xenpool process: a small library, built
# here with $CC and preloaded, whose constructor makes domain $GUEST grant
# XPGUEST_PAGES fresh pages to this domain (read-only ones with
# XPGUEST_READONLY=1) and writes their refs to XPGUEST_REFS, which the
# handler reads through refs=@FILE.  It acts only in the tool, not in the
# shell of libtool's wrapper script, and it finds the shim there (loaded
# with libxenpool) instead of linking it: the shim of a sanitizer build
# would bring the sanitizer's runtime into the shell.
GUEST=7
cat >"$tmp/guest.c" <<'EOF_GUEST'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpshim.h"

static unsigned long env_num(const char *name)
{
	const char *s = getenv(name);

	return s != NULL ? strtoul(s, NULL, 10) : 0;
}

static void fail(const char *why)
{
	fprintf(stderr, "xpguest: %s\n", why);
	exit(125);
}

__attribute__((constructor)) static void guest_grants(void)
{
	const char *path = getenv("XPGUEST_REFS");
	const char *me = program_invocation_short_name;
	unsigned int i, n = (unsigned int)env_num("XPGUEST_PAGES");
	__typeof__(xpshim_guest_grant) *grant;
	uint32_t *refs;
	void *shim;
	FILE *f;
	int rc;

	if (path == NULL ||
	    (strcmp(me, "xenpool") != 0 && strcmp(me, "lt-xenpool") != 0))
		return;
	/* The driver loads the Xen libraries (here, the shim's stand-ins,
	 * which use this same libxpshim) only when a pool needs them. */
	shim = dlopen("libxpshim.so", RTLD_NOW | RTLD_GLOBAL);
	grant = shim ? (__typeof__(grant))dlsym(shim, "xpshim_guest_grant")
		     : NULL;
	if (grant == NULL)
		fail("the shim cannot be loaded");
	refs = calloc(n ? n : 1, sizeof(*refs));
	if (refs == NULL)
		fail(strerror(errno));
	rc = grant((uint32_t)env_num("XPGUEST_DOMID"), XPSHIM_DOMID_SELF, n,
		   (int)env_num("XPGUEST_READONLY"), refs);
	if (rc != 0)
		fail(strerror(-rc));
	f = fopen(path, "w");
	if (f == NULL)
		fail(strerror(errno));
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? ":" : "", refs[i]);
	fprintf(f, "\n");
	free(refs);
	if (fclose(f) != 0)
		fail(strerror(errno));
}
EOF_GUEST
# $CC may carry flags of its own (e.g. "gcc -m32"): split it.
# shellcheck disable=SC2086
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -shared -fPIC \
	-I"${top_srcdir:-.}/tests/shim" -o "$tmp/guest.so" "$tmp/guest.c"

# guest PAGES RO CMD...: run CMD with the guest preloaded, granting PAGES
# pages (read-only ones if RO is 1) whose refs $MAP names.  An ASan build
# wants its runtime first among the libraries: the guest intercepts
# nothing, so that check is off.
guest() {
	pages=$1
	ro=$2
	shift 2
	rm -f "$tmp/refs"
	run env LD_PRELOAD="$tmp/guest.so" XPGUEST_REFS="$tmp/refs" \
		XPGUEST_DOMID=$GUEST XPGUEST_PAGES="$pages" \
		XPGUEST_READONLY="$ro" \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		XENPOOL_LOG=warning "$@"
}

MAP="map=$GUEST,refs=@$tmp/refs"
# What the report says of a pool mapped from the guest.
MAPPED_RW="^access +read-write, mapped from domain $GUEST's grants\$"
MAPPED_RO="^access +read-only, mapped from domain $GUEST's grants: objects read, not written\$"
ROOMS_MAPPED_RW="^access +rooms read-write, mapped from domain $GUEST's grants\$"
ROOMS_MAPPED_RO="^access +rooms read-only, mapped from domain $GUEST's grants: payload read, not written\$"

# With writable=0 the mapping is PROT_READ: a write into an object would
# kill the tool with SIGSEGV.
guest 16 0 "$XENPOOL" demo --handler xen_dom0 -n 1000 --args "$MAP" \
	--seconds 1
check "demo, map mode: writes the guest's pages" demo_ok xen_dom0 \
	"$MAPPED_RW"

guest 16 1 "$XENPOOL" demo --handler xen_dom0 -n 1000 \
	--args "$MAP,writable=0" --seconds 1
check "demo, map mode, writable=0: reads the objects, says so" \
	demo_ok xen_dom0 "$MAPPED_RO"

# The mapping decides, not the grant: writable grants mapped read-only.
# No cache, whole-pool bulks and debug mode: every get and put goes
# through the handler and the core's checks.
guest 16 0 "$XENPOOL" demo --handler xen_dom0 -n 1000 --cache 0 \
	--bulk 1000 --threads 2 --debug --args "$MAP,writable=0" --seconds 1
check "demo, map mode, writable=0 on writable grants, no cache, debug" \
	demo_ok xen_dom0 "$MAPPED_RO" '^pool .*, debug$'

guest 100 0 "$XENPOOL" mbuf --handler xen_dom0 -n 100 --args "$MAP" \
	--seconds 1
check "mbuf, map mode: writes the payload" mbuf_ok xen_dom0 \
	"$ROOMS_MAPPED_RW"

guest 100 1 "$XENPOOL" mbuf --handler xen_dom0 -n 100 \
	--args "$MAP,writable=0" --seconds 1
check "mbuf, map mode, writable=0: reads the payload, says so" \
	mbuf_ok xen_dom0 "$ROOMS_MAPPED_RO"

# 36 rooms of 9000 bytes take 80 pages, in runs of 3: consecutive refs are
# consecutive grant-DMA addresses.
guest 96 1 env XENPOOL_DEBUG=1 "$XENPOOL" mbuf --handler xen_dom0 -n 36 \
	--data-room 9000 --cache 0 --args "$MAP,writable=0" --seconds 1
check "mbuf, map mode, writable=0: rooms above a page, no cache, debug" \
	mbuf_ok xen_dom0 "$ROOMS_MAPPED_RO" '^pool .*, debug$'

# create_fails_hint RE: create_fails RE, and the hint about writable=0.
create_fails_hint() {
	create_fails "$1" && grep -q 'writable=0' "$err"
}

guest 16 1 "$XENPOOL" demo --handler xen_dom0 -n 1000 --args "$MAP" \
	--seconds 1
check "demo, map mode: read-only grants need writable=0 (EINVAL, hint)" \
	create_fails_hint 'Invalid argument'

guest 100 1 "$XENPOOL" mbuf --handler xen_dom0 -n 100 --args "$MAP" \
	--seconds 1
check "mbuf, map mode: read-only grants need writable=0 (EINVAL, hint)" \
	create_fails_hint 'Invalid argument'

guest 16 0 "$XENPOOL" demo --handler xen_dom0 -n 1000 \
	--args "$MAP,writable=2" --seconds 1
check "demo, map mode: writable=2 is refused (EINVAL)" \
	create_fails "with args 'map=.*writable=2'.*Invalid argument"

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=warning "$XENPOOL" demo \
	--handler xen_dom0 --args map=$GUEST,refs=8,writable=0 --seconds 1
check "demo, map mode, writable=0, Xen absent: refused (ENODEV)" \
	create_fails 'No such device'

# --- share mode, writable=0 ----------------------------------------------
#
# The grants are read-only for the peer; the pages are this domain's own,
# mapped read-write here: the tool writes them, as a producer whose peer
# only reads.

run env XPSHIM_CONTIG=none XENPOOL_LOG=warning "$XENPOOL" demo \
	--handler xen_dom0 --args peer=3,writable=0 --seconds 1
check "demo, share mode, writable=0: writes, the peer only reads" \
	demo_ok xen_dom0 \
	'^access +read-write here, granted read-only to domain 3$'

run env XPSHIM_CONTIG=none XENPOOL_LOG=warning "$XENPOOL" mbuf \
	--handler xen_dom0 -n 1000 --args peer=3,writable=0 --seconds 1
check "mbuf, share mode, writable=0: writes, the peer only reads" \
	mbuf_ok xen_dom0 \
	'^access +rooms read-write here, granted read-only to domain 3$'

# Xen absent: the fallback's private memory, whatever the grants would be.
run env XPSHIM_ABSENT=enoent XENPOOL_LOG=warning "$XENPOOL" demo \
	--handler xen_dom0 --args peer=3,writable=0 --seconds 1
check "demo, share mode, writable=0, Xen absent: ring_mp_mc, read-write" \
	demo_ok ring_mp_mc '^access +read-write$'

run env XPSHIM_ABSENT=enoent XENPOOL_LOG=warning "$XENPOOL" mbuf \
	--handler xen_dom0 -n 1000 --args peer=3,writable=0 --seconds 1
check "mbuf, share mode, writable=0, Xen absent: read-write rooms" \
	mbuf_ok ring_mp_mc '^access +rooms read-write$'

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
