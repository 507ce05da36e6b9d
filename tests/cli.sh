#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Tests of the xenpool command-line tool, run by make check (which sets
# top_builddir).  tools/xenpool is a libtool wrapper script: run it directly.
set -eu

: "${top_builddir:=.}"
XENPOOL=$top_builddir/tools/xenpool
RING_HANDLERS="ring_mp_mc ring_sp_sc ring_mp_sc ring_sp_mc"

# shellcheck source=tests/cli-lib.sh
. "${top_srcdir:-.}/tests/cli-lib.sh"

# How a usage error must look: status 2, a message, nothing on stdout.
usage_error() {
	[ "$status" -eq 2 ] && [ -s "$err" ] && [ ! -s "$out" ]
}

# A failure that is not the user's syntax: status 1, a message, no output.
runtime_error() {
	[ "$status" -eq 1 ] && grep -q "$1" "$err" && [ ! -s "$out" ]
}

# demo_ok HANDLER [REGEX...]: a demo run that worked: the pool was served by
# HANDLER (private memory, which the workers write), the workload moved
# objects, every object came back and the audit found nothing.
demo_ok() {
	h=$1
	shift
	succeeds "^handler +$h\$" '^access +read-write$' \
		'^throughput +[0-9]+\.[0-9]+ Mops/s total, [0-9.]+ Mops/s per thread$' \
		'^in use +0$' '^audit +clean$' "$@" &&
		! has '^throughput +0\.00 ' &&
		! has '^  thread [0-9]+ +0\.00 Mops/s'
}

# mbuf_ok HANDLER [REGEX...]: an mbuf run that worked: rooms on HANDLER (in
# private memory, which the loop writes), packets moved, every chain passed
# the check, every mbuf came back and the audit found nothing.
mbuf_ok() {
	h=$1
	shift
	succeeds "^handler +$h\$" '^access +rooms read-write$' \
		'^rate +[0-9]+\.[0-9]+ Mpps$' \
		'^checks +[1-9][0-9]*, 0 bad$' '^empty +0 ' '^in use +0$' \
		'^audit +clean$' "$@" &&
		! has '^rate +0\.00 '
}

handler_listed() {
	has "^[ *] $1( |\$)"
}

one_default() {
	[ "$status" -eq 0 ] && [ "$(grep -c '^\*' "$out")" -eq 1 ]
}

# The listing is printed, but the unregistered default is an error.
bad_default_listed() {
	[ "$status" -eq 1 ] && grep -q no_such_handler "$err" &&
		handler_listed ring_mp_mc
}

# --- help and version -------------------------------------------------

run "$XENPOOL" --help
check "--help prints the usage" succeeds '^Usage: ' ' demo ' ' handlers ' \
	' mbuf '

run "$XENPOOL" help demo
check "help demo prints the demo options" succeeds '--threads' '--handler'

run "$XENPOOL" help mbuf
check "help mbuf prints the mbuf options" succeeds '--data-room' '--handler'

run "$XENPOOL" --version
check "--version prints the versions" succeeds \
	'^xenpool [0-9]+\.[0-9]+\.[0-9]+ \(libxenpool [0-9]+\.[0-9]+\.[0-9]+\)$'

# --- handlers ---------------------------------------------------------

run "$XENPOOL" handlers
check "handlers marks ring_mp_mc as the default" \
	succeeds '^\* ring_mp_mc( |$)'
for h in $RING_HANDLERS; do
	check "handlers lists $h" handler_listed "$h"
done
check "handlers marks exactly one default" one_default
check "handlers shows the single-sided handlers' flags" succeeds \
	'^  ring_sp_sc +sp-put,sc-get$' '^  ring_mp_sc +sc-get$' \
	'^  ring_sp_mc +sp-put$' '^\* ring_mp_mc +-$'

run env XENPOOL_DEFAULT_HANDLER=ring_sp_sc "$XENPOOL" handlers
check "XENPOOL_DEFAULT_HANDLER moves the default marker" \
	succeeds '^\* ring_sp_sc( |$)' '^  ring_mp_mc( |$)'

run env XENPOOL_DEFAULT_HANDLER=no_such_handler "$XENPOOL" handlers
check "handlers fails when the default is not registered" bad_default_listed

# --- demo ---------------------------------------------------------------

for h in $RING_HANDLERS; do
	# Single-producer or single-consumer rings take one thread.
	case $h in
	ring_mp_mc) threads=2 ;;
	*) threads=1 ;;
	esac
	run "$XENPOOL" demo --handler "$h" --threads "$threads" --seconds 1
	check "demo on $h, $threads thread(s)" demo_ok "$h"
done

run "$XENPOOL" demo -n 100 --elt-size 8 --cache 0 --bulk 100 --threads 2 \
	--seconds 1
check "demo without caches, bulk up to the whole pool" demo_ok ring_mp_mc

run "$XENPOOL" demo --debug --threads 2 --seconds 1
check "demo in debug mode" demo_ok ring_mp_mc '^pool .*, debug$'

run env XENPOOL_DEFAULT_HANDLER=ring_sp_mc "$XENPOOL" demo --threads 1 \
	--seconds 1
check "demo follows XENPOOL_DEFAULT_HANDLER" demo_ok ring_sp_mc

# --- mbuf -----------------------------------------------------------------

run env XENPOOL_DEBUG=1 "$XENPOOL" mbuf --seconds 1
check "mbuf with XENPOOL_DEBUG=1: checked pools" mbuf_ok ring_mp_mc \
	'^pool .*, debug$'

run "$XENPOOL" mbuf --seconds 1
check "mbuf on the default handler: headers with the rooms" mbuf_ok \
	ring_mp_mc '^headers +with the rooms' \
	'^pool +xenpool-mbuf: 8191 mbufs, data room 2048, cache 256$'

# The smallest pool: one burst and its clones, nothing cached.
run "$XENPOOL" mbuf --handler ring_sp_sc -n 36 --data-room 128 --cache 0 \
	--seconds 1
check "mbuf on ring_sp_sc, smallest pool and room, no cache" mbuf_ok \
	ring_sp_sc '^pool +xenpool-mbuf: 36 mbufs, data room 128, cache 0$'

run "$XENPOOL" mbuf -n 100 --data-room=9000 --cache=8 -s 1
check "mbuf with rooms above a page" mbuf_ok ring_mp_mc

run env XENPOOL_DEFAULT_HANDLER=ring_mp_sc "$XENPOOL" mbuf --seconds 1
check "mbuf follows XENPOOL_DEFAULT_HANDLER" mbuf_ok ring_mp_sc

# --- bad arguments ----------------------------------------------------

bad_usage() {
	desc=$1
	shift
	run "$XENPOOL" "$@"
	check "$desc is refused" usage_error
}

bad_usage "no command"
bad_usage "an unknown command" frobnicate
bad_usage "an unknown global option" --frobnicate demo
bad_usage "an unknown demo option" demo --frobnicate
bad_usage "an unknown short option" demo -x
bad_usage "an unknown handlers option" handlers --frobnicate
bad_usage "an extra argument" handlers extra
bad_usage "a missing option argument" demo --threads
bad_usage "-n abc" demo -n abc
bad_usage "-n 12x" demo -n 12x
bad_usage "-n -1" demo -n -1
bad_usage "-n ' 5'" demo -n ' 5'
bad_usage "-n 0" demo -n 0
bad_usage "-n 99999999999999999999" demo -n 99999999999999999999
bad_usage "--threads 0" demo --threads 0
bad_usage "--seconds 0" demo --seconds 0
bad_usage "--bulk 0" demo --bulk 0
bad_usage "--cache above the maximum" demo --cache 100000
bad_usage "--bulk above -n" demo -n 4 --bulk 8
bad_usage "--elt-size ''" demo --elt-size ''
for h in ring_sp_sc ring_mp_sc ring_sp_mc; do
	bad_usage "several threads on $h" demo --handler "$h" --threads 2
done
bad_usage "help for an unknown command" help frobnicate
bad_usage "an unknown mbuf option" mbuf --frobnicate
bad_usage "an mbuf extra argument" mbuf extra
bad_usage "a missing mbuf option argument" mbuf --data-room
bad_usage "mbuf -n below a burst and its clones" mbuf -n 35
bad_usage "mbuf --data-room below the headroom" mbuf --data-room 127
bad_usage "mbuf --data-room above 65535" mbuf --data-room 65536
bad_usage "mbuf --data-room 2k" mbuf --data-room 2k
bad_usage "mbuf --cache above the maximum" mbuf --cache 513
bad_usage "mbuf --seconds 0" mbuf --seconds 0

run "$XENPOOL" demo -n abc
check "-n abc names the bad value" grep -q "abc" "$err"

run "$XENPOOL" demo --handler no_such_handler --seconds 1
check "an unknown handler is reported" runtime_error no_such_handler

run env XENPOOL_DEFAULT_HANDLER=no_such_handler "$XENPOOL" demo --threads 1 \
	--seconds 1
check "an unregistered default handler is reported" \
	runtime_error no_such_handler

run "$XENPOOL" mbuf --handler no_such_handler --seconds 1
check "mbuf: an unknown handler is reported" runtime_error no_such_handler

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
