#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run one libFuzzer target for a bounded time (make check-fuzz):
#
#   run.sh SRCDIR BUILDDIR NAME SECONDS
#
# runs BUILDDIR/fuzz_NAME over SRCDIR/corpus/NAME (the committed seeds and
# regression inputs, always run first, never written to) and a work corpus
# BUILDDIR/work/NAME/corpus that keeps what the fuzzer finds between runs.
# SRCDIR/NAME.dict is used when it exists.  SECONDS 0 only replays both
# corpora.  The fuzzer's output goes to BUILDDIR/work/NAME/fuzz.log.
#
# Exit status 0 when the fuzzer stopped at its time without a finding;
# otherwise the end of its log, the reproducer and the command that
# replays it are printed, and the status is 1.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 SRCDIR BUILDDIR NAME SECONDS" >&2
	exit 2
fi
src=$1 build=$2 name=$3 seconds=$4
bin=$build/fuzz_$name
work=$build/work/$name

case $seconds in
'' | *[!0-9]*)
	echo "check-fuzz: FUZZ_SECONDS must be a number of seconds," \
		"not '$seconds'" >&2
	exit 2
	;;
esac
if [ "$seconds" -eq 0 ]; then
	limit=-runs=0 what="replaying its corpora"
else
	limit=-max_total_time=$seconds what="for $seconds s"
fi
dict=
[ -f "$src/$name.dict" ] && dict=-dict=$src/$name.dict

rm -rf "$work/artifacts" "$work/tmp"
mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp" || exit 1

echo "check-fuzz: fuzz_$name $what (log: $work/fuzz.log)"
# -timeout: a parse that takes a second is a finding too.
# TMPDIR: where fuzz_args puts its refs file, removed with the work tree.
TMPDIR=$work/tmp "$bin" $limit -timeout=5 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" $dict \
	"$work/corpus" "$src/corpus/$name" >"$work/fuzz.log" 2>&1
status=$?

found=$(find "$work/artifacts" -type f | head -n 1)
if [ "$status" -eq 0 ] && [ -z "$found" ]; then
	grep '^Done' "$work/fuzz.log" | sed "s/^/check-fuzz: fuzz_$name: /"
	exit 0
fi

echo "check-fuzz: fuzz_$name FAILED (exit status $status); the end of" \
	"$work/fuzz.log:" >&2
tail -n 60 "$work/fuzz.log" >&2
if [ -n "$found" ]; then
	echo "check-fuzz: reproducer: $found" >&2
	echo "check-fuzz: replay it with: $bin $found" >&2
	echo "check-fuzz: keep it as a regression input in" \
		"tests/fuzz/corpus/$name/ once it is fixed" >&2
fi
exit 1
