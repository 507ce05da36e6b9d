# SPDX-License-Identifier: BSD-3-Clause
# make check-fuzz: libFuzzer targets for the parsers of untrusted text, each
# run for a bounded time under ASan and UBSan (doc/building.md#fuzzing).
# Not part of make check.  Built by hand, like the shim: they need clang
# whatever compiler configure chose, and each compiles the library sources
# it fuzzes, unchanged, with the fuzzer's instrumentation.  Include after
# src/local.mk, whose header list this uses.
#
#   make check-fuzz                  FUZZ_SECONDS (60) for each target
#   make check-fuzz FUZZ_SECONDS=0   only replay the corpora
#   make check-fuzz FUZZ_CC=clang-14

FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_CFLAGS =

XP_FUZZ_SRC = $(top_srcdir)/tests/fuzz
XP_FUZZ_COMPILE = $(FUZZ_CC) $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) \
	$(CPPFLAGS) $(XP_CFLAGS) -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(FUZZ_CFLAGS)
XP_FUZZ_HINT = { echo "check-fuzz: $(FUZZ_CC) cannot build a libFuzzer" \
	"target: install clang and libclang-rt-14-dev, or set FUZZ_CC" \
	"(doc/building.md, Fuzzing)" >&2; exit 1; }
XP_FUZZ_DEPS = config.h $(top_srcdir)/src/log.c $(top_srcdir)/src/core.h \
	$(xenpoolinclude_HEADERS)

EXTRA_DIST += \
	tests/fuzz/run.sh \
	tests/fuzz/fuzz_args.c \
	tests/fuzz/fuzz_log_level.c \
	tests/fuzz/args.dict \
	tests/fuzz/corpus

XP_FUZZ_TARGETS =
if XP_XEN
XP_FUZZ_TARGETS += tests/fuzz/fuzz_args
XP_FUZZ_SKIPPED =
else
XP_FUZZ_SKIPPED = args (configure with --enable-xen)
endif
XP_FUZZ_TARGETS += tests/fuzz/fuzz_log_level
CLEANFILES += tests/fuzz/fuzz_args tests/fuzz/fuzz_log_level

tests/fuzz/fuzz_args: $(XP_FUZZ_SRC)/fuzz_args.c $(top_srcdir)/xen/args.c \
		$(top_srcdir)/xen/private.h $(XP_FUZZ_DEPS)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(XP_FUZZ_COMPILE) -I$(top_srcdir)/xen $(XEN_CFLAGS) \
		-o $@ $(XP_FUZZ_SRC)/fuzz_args.c $(top_srcdir)/xen/args.c \
		$(top_srcdir)/src/log.c $(LIBS) || $(XP_FUZZ_HINT)

tests/fuzz/fuzz_log_level: $(XP_FUZZ_SRC)/fuzz_log_level.c $(XP_FUZZ_DEPS)
	@$(MKDIR_P) tests/fuzz
	$(AM_V_CCLD)$(XP_FUZZ_COMPILE) \
		-o $@ $(XP_FUZZ_SRC)/fuzz_log_level.c \
		$(top_srcdir)/src/log.c $(LIBS) || $(XP_FUZZ_HINT)

check-fuzz: $(XP_FUZZ_TARGETS)
	@for t in $(XP_FUZZ_TARGETS); do \
		$(SHELL) $(XP_FUZZ_SRC)/run.sh $(XP_FUZZ_SRC) tests/fuzz \
			"$${t#tests/fuzz/fuzz_}" '$(FUZZ_SECONDS)' || exit 1; \
	done; \
	test -z '$(XP_FUZZ_SKIPPED)' || \
		echo "check-fuzz: not fuzzed: $(XP_FUZZ_SKIPPED)"

clean-fuzz:
	rm -rf tests/fuzz/work

clean-local: clean-fuzz

.PHONY: check-fuzz clean-fuzz
