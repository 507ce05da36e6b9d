#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The configure options and make targets the docs name, against
# `configure --help` and the generated Makefile:
#
#  1. the options table of README.md and that of doc/building.md (each the
#     Markdown table right after an HTML comment `<!-- configure-options -->`)
#     name only options that `configure --help` lists;
#  2. every option configure.ac itself declares (AC_ARG_ENABLE, AC_ARG_WITH)
#     is in both tables, and in `configure --help`;
#  3. every other `--enable-X`, `--disable-X`, `--with-X`, `--without-X` in
#     README.md and doc/*.md, in code spans and on configure command lines
#     of ```sh blocks, is an option of `configure --help`;
#  4. every `make TARGET` in README.md and doc/*.md (code spans and ```sh
#     blocks) is a target of the build tree's Makefile.
#
# Options compare by feature: --disable-X is --enable-X, --without-X is
# --with-X, and "=VALUE" or "[=ARG]" is dropped; "--a-{b,c}" is --a-b and
# --a-c.  Runs in a VPATH build: configure is $top_srcdir's, the Makefile
# $top_builddir's.
# Backquotes in single quotes are Markdown's, not the shell's.
# shellcheck disable=SC2016
set -eu

: "${top_srcdir:=.}"
: "${top_builddir:=.}"

. "$top_srcdir/tests/tap-lib.sh"

docs="$top_srcdir/README.md $(ls "$top_srcdir"/doc/*.md)"
for f in $docs "$top_srcdir/configure" "$top_srcdir/configure.ac" \
	"$top_builddir/Makefile"; do
	[ -f "$f" ] || {
		echo "doc_configure: $f not found" >&2
		exit 99
	}
done

# Standard input's option words, one feature per line: --disable-X and
# --enable-X as enable-X, --without-X and --with-X as with-X, any value
# dropped, braces expanded.
features() {
	grep -oE -- '--(enable|disable|with|without)-[A-Za-z0-9_{},-]*[A-Za-z0-9_}]' |
		while read -r opt; do
			case $opt in
			*'{'*'}'*)
				pre=${opt%%\{*}
				rest=${opt#*\{}
				list=${rest%%\}*}
				post=${rest#*\}}
				echo "$list" | tr ',' '\n' |
					while read -r alt; do
						echo "$pre$alt$post"
					done
				;;
			*) echo "$opt" ;;
			esac
		done |
		sed -E 's/^--disable-/enable-/; s/^--enable-/enable-/;
			s/^--without-/with-/; s/^--with-/with-/' |
		sort -u
}

# The table after <!-- configure-options --> in file $1: its first cells.
options_table() {
	awk '
		/^<!-- configure-options -->/ { want = 1; next }
		want && /^\|/ { intable = 1; print; next }
		want && intable { exit }
		want && /[^[:space:]]/ { exit }
	' "$1" | sed '1,2d' | cut -d'|' -f2
}

# What configure --help offers (all of its options, any section).
"$top_srcdir/configure" --help >"$tmp/help" 2>&1 || {
	not_ok "$top_srcdir/configure --help"
	cat "$tmp/help"
	echo "$pass passed, $fail failed"
	exit 1
}
features <"$tmp/help" >"$tmp/help.features"

# The options configure.ac declares.
sed -nE 's/.*AC_ARG_ENABLE\(\[([A-Za-z0-9_-]+)\].*/enable-\1/p;
	s/.*AC_ARG_WITH\(\[([A-Za-z0-9_-]+)\].*/with-\1/p' \
	"$top_srcdir/configure.ac" | sort -u >"$tmp/project"
if [ ! -s "$tmp/project" ]; then
	not_ok "configure.ac declares options (none found)"
fi
missing=$(comm -23 "$tmp/project" "$tmp/help.features")
if [ -z "$missing" ]; then
	ok "every option of configure.ac is in configure --help"
else
	# shellcheck disable=SC2086
	not_ok "options of configure.ac missing from configure --help" \
		"(configure not regenerated?):" $missing
fi

for doc in README.md doc/building.md; do
	options_table "$top_srcdir/$doc" >"$tmp/table"
	if [ ! -s "$tmp/table" ]; then
		not_ok "$doc has a table after <!-- configure-options -->"
		continue
	fi
	features <"$tmp/table" >"$tmp/table.features"
	unknown=$(comm -23 "$tmp/table.features" "$tmp/help.features")
	if [ -z "$unknown" ]; then
		ok "$doc: every option of its table is in configure --help"
	else
		# shellcheck disable=SC2086
		not_ok "$doc: options in its table that configure --help" \
			"does not have:" $unknown
	fi
	absent=$(comm -23 "$tmp/project" "$tmp/table.features")
	if [ -z "$absent" ]; then
		ok "$doc: its table has every option of configure.ac"
	else
		# shellcheck disable=SC2086
		not_ok "$doc: options of configure.ac missing from its table:" \
			$absent
	fi
done

# The ```sh blocks of a file.
sh_blocks() {
	awk '/^[[:space:]]*```/ { if (on) { on = 0 } else if ($0 ~ /```sh[[:space:]]*$/) { on = 1 }; next }
		on { print }' "$1"
}

: >"$tmp/mentioned"
: >"$tmp/targets"
for f in $docs; do
	name=${f#"$top_srcdir"/}
	# Code spans (a span may not cross a line here) and sh blocks.
	{
		grep -oE '`[^`]*`' "$f" || true
	} >"$tmp/spans"
	sh_blocks "$f" >"$tmp/sh"
	{
		grep -E -- '^`--(enable|disable|with|without)-' "$tmp/spans" ||
			true
		grep -E 'configure' "$tmp/sh" || true
	} | features | sed "s|\$| $name|" >>"$tmp/mentioned"
	{
		grep -E '^`([A-Z_]+=[^ ]* )*make ' "$tmp/spans" | tr -d '`' ||
			true
		grep -E '(^|[;&|(][[:space:]]*|^[A-Z_]+=[^ ]* )make ' "$tmp/sh" ||
			true
	} | sed -E 's/#.*//' |
		awk -v f="$name" '{
			for (i = 1; i <= NF; i++) {
				if ($i != "make") continue
				for (j = i + 1; j <= NF; j++) {
					if ($j ~ /^-/ || $j ~ /=/) continue
					if ($j ~ /^[&|;)]/) break
					print $j, f
					break
				}
			}
		}' >>"$tmp/targets"
done

sort -u "$tmp/mentioned" | while read -r feat where; do
	if grep -qx "$feat" "$tmp/help.features"; then
		echo "ok - $where: --$feat is an option of configure"
	else
		echo "not ok - $where: --$feat is not an option of configure"
	fi
done >"$tmp/mentioned.out"
sort -u "$tmp/targets" | while read -r target where; do
	target=$(printf '%s' "$target" | tr -d '"'"'")
	if grep -qE "^$target:" "$top_builddir/Makefile"; then
		echo "ok - $where: make $target is a target of the Makefile"
	else
		echo "not ok - $where: make $target: no such target in" \
			"$top_builddir/Makefile"
	fi
done >"$tmp/targets.out"
cat "$tmp/mentioned.out" "$tmp/targets.out"
pass=$((pass + $(grep -c '^ok' "$tmp/mentioned.out" "$tmp/targets.out" |
	awk -F: '{ s += $2 } END { print s }')))
fail=$((fail + $(grep -c '^not ok' "$tmp/mentioned.out" "$tmp/targets.out" |
	awk -F: '{ s += $2 } END { print s }')))
if [ ! -s "$tmp/targets.out" ]; then
	not_ok "the docs name make targets (none found: the parser is broken)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
