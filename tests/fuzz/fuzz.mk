# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# libFuzzer targets: every tests/fuzz/fuzz-NAME.c is built with clang
# against all the C sources of datapath/libesw.a (compiled directly, with
# coverage instrumentation) and run for FUZZ_SECONDS with the seeds in
# tests/fuzz/corpus/fuzz-NAME/ (if any).  New inputs and crash artifacts go
# to tests/fuzz-build/ in the build directory.
#
#   make fuzz                          all targets, 60 s each, then
#                                      fuzz-diff (below)
#   make fuzz FUZZ_SECONDS=600 FUZZ_TARGETS=fuzz-policy
#   make fuzz FUZZ_FLAGS='-jobs=2 -workers=2'
#
# A crash reproduces with: tests/fuzz-build/fuzz-NAME ARTIFACT
#
# The differential tester (tests/esw-diff.py: the same random cases with
# hw-offload=false and true must give identical results) runs DIFF_CASES
# cases from DIFF_SEED (default: a new seed, printed), one line each:
#
#   make fuzz-diff                     100 cases
#   make fuzz-diff DIFF_CASES=2000 DIFF_SEED=7 DIFF_FRAMES=48
#   make fuzz-diff DIFF_FLAGS=--keep-going    every case, not just up to
#                                             the first mismatch
#
# A mismatch prints its shrunk reproduction and writes the case to
# tests/esw-diff-failed.json; rerun it with
# tests/esw-diff.py --ovs-dir OVS_DIR --case tests/esw-diff-failed.json
# (OVS_DIR and the PATH as below).

FUZZ_SECONDS = 60
FUZZ_FLAGS =
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_TARGETS = $(basename $(notdir $(wildcard $(srcdir)/tests/fuzz/fuzz-*.c)))
FUZZ_LIB_SRCS = $(addprefix $(srcdir)/, \
	$(filter %.c,$(datapath_libesw_a_SOURCES)))
FUZZ_LIB_HDRS = $(addprefix $(srcdir)/, \
	$(filter %.h,$(datapath_libesw_a_SOURCES)))

EXTRA_DIST += tests/fuzz

tests/fuzz-build/fuzz-%: $(srcdir)/tests/fuzz/fuzz-%.c $(FUZZ_LIB_SRCS) \
		$(FUZZ_LIB_HDRS)
	@if test "$(CLANG)" = no; then \
	    echo "fuzz: clang is required (apt-get install clang)" >&2; \
	    exit 1; \
	fi
	@$(MKDIR_P) tests/fuzz-build
	$(AM_V_CCLD)$(CLANG) $(FUZZ_CFLAGS) -I$(srcdir) $(DATAPATH_INCLUDES) -I. $(PTHREAD_CFLAGS) \
	    -o $@ $< $(FUZZ_LIB_SRCS) $(PTHREAD_LIBS)

fuzz: $(addprefix tests/fuzz-build/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	    $(MKDIR_P) tests/fuzz-build/$$t.corpus; \
	    seeds=$(srcdir)/tests/fuzz/corpus/$$t; \
	    test -d $$seeds || seeds=; \
	    echo "fuzz: running $$t for $(FUZZ_SECONDS) s"; \
	    tests/fuzz-build/$$t -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=tests/fuzz-build/$$t- \
	        $(FUZZ_FLAGS) tests/fuzz-build/$$t.corpus $$seeds; \
	done
	@$(MAKE) $(AM_MAKEFLAGS) fuzz-diff

DIFF_CASES = 100
DIFF_SEED =
DIFF_FRAMES = 24
DIFF_FLAGS =
fuzz-diff: $(sbin_PROGRAMS) tests/subreaper
	@seed='$(DIFF_SEED)'; \
	test -n "$$seed" || seed=`od -An -N4 -tu4 /dev/urandom | tr -d ' '`; \
	echo "fuzz-diff: $(DIFF_CASES) cases from seed $$seed"; \
	PATH='$(AUTOTEST_PATH)':"$$PATH" tests/subreaper $(PYTHON3) \
	    $(srcdir)/tests/esw-diff.py --ovs-dir '$(OVS_DIR)' --seed $$seed \
	    --cases $(DIFF_CASES) --frames $(DIFF_FRAMES) \
	    --dir tests/esw-diff.dir --case-out tests/esw-diff-failed.json -v \
	    $(DIFF_FLAGS)

clean-fuzz:
	rm -rf tests/fuzz-build tests/esw-diff.dir tests/esw-diff-failed.json
clean-local: clean-fuzz

.PHONY: fuzz fuzz-diff clean-fuzz
