# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=sh
#
# Shared by the CLI test scripts (sourced, not run): a temporary directory,
# run/check helpers and the pass/fail counters they print at the end.

pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err

# run CMD...: run a command, keeping its stdout, stderr and exit status.
run() {
	status=0
	"$@" >"$out" 2>"$err" || status=$?
}

# check DESC CMD...: the test DESC passes when CMD succeeds.
check() {
	desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "ok - $desc"
	else
		fail=$((fail + 1))
		echo "not ok - $desc (exit status $status)"
		sed 's/^/#   stdout: /' "$out"
		sed 's/^/#   stderr: /' "$err"
	fi
}

has() {
	grep -Eq -e "$1" "$out"
}

# succeeds REGEX...: exit status 0 and every REGEX found on stdout.
succeeds() {
	[ "$status" -eq 0 ] || return 1
	for re in "$@"; do
		has "$re" || return 1
	done
}
