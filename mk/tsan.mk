# `make check-tsan`: the pipeline-related suites built with ThreadSanitizer into $(BUILD)/tsan.
# OpenCV/FFmpeg are not instrumented; tests/tsan.supp may silence their internals only, never ours.

TSAN_SUITES ?= spool events faults tracker capture pipeline
TSAN_BUILD  := $(BUILD)/tsan
TSAN_LOGDIR := $(abspath $(TSAN_BUILD))/reports
# Reports go to files (the daemon children's stderr ends in temp logs that a clean stop deletes);
# any report file fails the target. second_deadlock_stack: readable lock-order reports.
TSAN_ENV := TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp log_path=$(TSAN_LOGDIR)/tsan second_deadlock_stack=1 history_size=4" \
            CK_TIMEOUT_MULTIPLIER=4
# Some kernels place mappings where TSan cannot shadow them; no address randomisation avoids that.
TSAN_RUN := $(shell setarch -R true >/dev/null 2>&1 && echo setarch -R)

.PHONY: check-tsan tsan-build
tsan-build:
	$(MAKE) BUILD=$(TSAN_BUILD) SAN="-fsanitize=thread -fno-omit-frame-pointer" CFLAGS="-O2 -g" \
	    CXXFLAGS="-O2 -g" all $(TSAN_BUILD)/attendd-tests

check-tsan: deps models tsan-build
	@rm -rf $(TSAN_LOGDIR) && mkdir -p $(TSAN_LOGDIR)
	@fail=0; for s in $(TSAN_SUITES); do \
	    echo "== tsan: $$s"; \
	    $(TEST_ENV) ATTENDD_BUILD=$(abspath $(TSAN_BUILD)) $(TSAN_ENV) CK_RUN_SUITE=$$s \
	        $(TSAN_RUN) $(TSAN_BUILD)/attendd-tests || fail=1; \
	done; \
	if ls $(TSAN_LOGDIR)/tsan.* >/dev/null 2>&1; then \
	    echo "ThreadSanitizer reports:"; cat $(TSAN_LOGDIR)/tsan.*; fail=1; fi; \
	exit $$fail

# The SIMD kernels are dispatched by ifunc (target_clones); their resolvers run during relocation,
# before the TSan runtime is initialised, and crash when instrumented. They are pure arithmetic on
# caller-owned buffers (no shared state, no locks), so they are built without TSan.
ifneq ($(filter -fsanitize=thread,$(SAN)),)
$(OBJ)/src/vision/dwconv.o: ALL_CXXFLAGS := $(filter-out -fsanitize=thread,$(ALL_CXXFLAGS))
$(OBJ)/src/gallery/kernels.o: ALL_CFLAGS := $(filter-out -fsanitize=thread,$(ALL_CFLAGS))
endif
