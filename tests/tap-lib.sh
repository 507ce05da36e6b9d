# SPDX-License-Identifier: BSD-3-Clause
# What the checking scripts that print TAP-like lines share (doc_*.sh,
# man.sh): the counters, ok and not_ok, and $tmp, a directory removed at
# exit.  Sourced: . "$top_srcdir/tests/tap-lib.sh"
# shellcheck shell=sh disable=SC2034 # pass, fail and tmp are the caller's
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() {
	pass=$((pass + 1))
	echo "ok - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "not ok - $*"
}
