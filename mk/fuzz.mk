# mk/fuzz.mk: `make fuzz` builds the libFuzzer targets fuzz/*.c with clang (ASan+UBSan) and runs each
# for FUZZ_SECONDS on a scratch copy of its seeds; any crash fails it. See docs/fuzzing.md.

FUZZ_SECONDS ?= 60
FUZZ_BUILD   ?= build/fuzz
FUZZ_CC      ?= clang
FUZZ_CXX     ?= clang++
# -O1 as libFuzzer recommends: fast enough, and the sanitizers still see every access.
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CPPFLAGS := -D_GNU_SOURCE -Iinclude -I. $(CPPFLAGS)
# clang 14 warns where gcc (the reference build) does not: {NULL} spec terminators, vsnprintf in
# printf-like wrappers. Those two are off here; everything else of $(WARN) stays.
FUZZ_WARN     := $(WARN) -Wno-missing-field-initializers -Wno-format-nonliteral
FUZZ_CFLAGS   := -std=c11 $(FUZZ_WARN) -O1 -g $(FUZZ_SAN) $(DEPS_CFLAGS) -pthread -MMD -MP
FUZZ_CXXFLAGS := -std=c++17 $(FUZZ_WARN) -O1 -g $(FUZZ_SAN) $(CV_CFLAGS) -pthread -MMD -MP

FUZZ_OBJ      := $(FUZZ_BUILD)/obj
FUZZ_LIB      := $(FUZZ_BUILD)/libattendd.a
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_OBJ)/%.o) $(LIB_CXX:%.cpp=$(FUZZ_OBJ)/%.o) $(FUZZ_OBJ)/gen/migrations.o
FUZZ_TARGETS  := $(patsubst fuzz/%.c,%,$(sort $(wildcard fuzz/*.c)))
FUZZ_BINS     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/%)

.PHONY: fuzz fuzz-build fuzz-deps
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_OBJ)/fuzz/%.o)
# The library is instrumented for coverage (fuzzer-no-link); only the targets link libFuzzer's main.
# kernels.c (the gallery's SIMD scan, reached by no target) asks __builtin_cpu_supports("f16c"),
# which clang 14 does not know: that one object is built by $(CC), uninstrumented.
$(FUZZ_OBJ)/src/gallery/kernels.o: src/gallery/kernels.c config.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/src/%.o: src/%.c config.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_OBJ)/src/%.o: src/%.cpp config.h
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_CPPFLAGS) $(FUZZ_CXXFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_BUILD)/gen/migrations.c: $(SQL_FILES) scripts/embed-sql
	@mkdir -p $(@D)
	scripts/embed-sql $(SQL_FILES) > $@.tmp && mv $@.tmp $@
$(FUZZ_OBJ)/gen/migrations.o: $(FUZZ_BUILD)/gen/migrations.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_OBJ)/fuzz/%.o: fuzz/%.c config.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(FUZZ_BUILD)/bin/%: $(FUZZ_OBJ)/fuzz/%.o $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)

-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)

fuzz-deps:
	scripts/install-deps --fuzz
fuzz-build: fuzz-deps
	$(MAKE) --no-print-directory $(FUZZ_BINS)

# Each target runs on a fresh copy of fuzz/corpus/<target> (the repository's seeds are never
# written) plus, read-only, the stored crashers of tests/fixtures/fuzz-regress/<target>.
# libFuzzer's exit status is non-zero on a crash, leak, timeout or out-of-memory.
fuzz: fuzz-build
	@fail=""; for t in $(FUZZ_TARGETS); do \
	    c=$(FUZZ_BUILD)/corpus/$$t; a=$(FUZZ_BUILD)/artifacts/$$t/; log=$(FUZZ_BUILD)/$$t.log; \
	    rm -rf $$c && mkdir -p $$c $$a && cp fuzz/corpus/$$t/* $$c/ || exit 1; \
	    regress=; [ -d tests/fixtures/fuzz-regress/$$t ] && regress=tests/fixtures/fuzz-regress/$$t; \
	    dict=; [ -f fuzz/$$t.dict ] && dict=-dict=fuzz/$$t.dict; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s (log $$log)"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(FUZZ_BUILD)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$$a $$dict $$c $$regress > $$log 2>&1; rc=$$?; \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
	    cov=$$(grep -o 'cov: [0-9]*' $$log | tail -n 1); \
	    if [ $$rc -eq 0 ]; then \
	        echo "fuzz: $$t: $${execs:-?} executions, $${cov:-cov: ?}, corpus $$(ls $$c | wc -l) inputs: ok"; \
	    else \
	        echo "fuzz: $$t: FAILED (exit $$rc) after $${execs:-?} executions; input in $$a, see $$log"; \
	        grep -m 3 -E 'ERROR|runtime error|invariant' $$log; \
	        fail="$$fail $$t"; \
	    fi; \
	done; \
	if [ -n "$$fail" ]; then echo "fuzz: crashed:$$fail"; exit 1; fi
