# attendd: build the daemon, the admin CLI and the tests; run, check, bench, install.
# `make` installs/checks Debian packages and runs configure by itself when config.mk is missing.

BUILD    ?= build
SANITIZE ?= 0
ASAN     ?= 1
DATA     ?= $(abspath ../shared/data)
MODELS   ?= $(abspath models)

SHELL := /bin/sh
.DEFAULT_GOAL := all
NOCONFIG_GOALS := clean distclean deps help format format-check
ifeq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
else
include config.mk
endif

config.mk: configure.ac config.mk.in config.h.in
	scripts/install-deps
	autoconf
	./configure $(CONFIGURE_FLAGS)
config.h: config.mk

# ---- flags -----------------------------------------------------------------
CFLAGS   ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN     := -Wall -Wextra -Wformat=2 -Wno-unused-parameter
CPPFLAGS_ALL := -D_GNU_SOURCE -Iinclude -I. -I$(BUILD)/gen $(CPPFLAGS)
ifeq ($(SANITIZE),1)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
ALL_CFLAGS   := -std=c11 $(WARN) $(SAN) $(CFLAGS) $(DEPS_CFLAGS) -pthread -MMD -MP
ALL_CXXFLAGS := -std=c++17 $(WARN) $(SAN) $(CXXFLAGS) $(CV_CFLAGS) $(DLIB_CFLAGS) -pthread -MMD -MP
LIBS         := $(CV_LIBS) $(DLIB_LIBS) $(DEPS_LIBS) -lpthread -lm
LDFLAGS_ALL  := $(SAN) $(LDFLAGS)

# ---- sources ---------------------------------------------------------------
OBJ       := $(BUILD)/obj
LIB_SRCS  := $(filter-out src/daemon/main.c src/cli/%,$(sort $(shell find src -name '*.c')))
LIB_CXX   := $(sort $(shell find src -name '*.cpp'))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
# tests/unit: pure suites (no database, no daemon); tests/integration: PostgreSQL, the daemon, RTSP, HTTP;
# tests/support: the shared fixtures and helpers; tests/runner.c: the one runner.
TEST_SRCS := $(sort $(wildcard tests/*.c tests/unit/*.c tests/integration/*.c tests/support/*.c))
SQL_FILES := $(sort $(wildcard sql/[0-9][0-9][0-9]_*.sql))

# web/: the console's static files, compiled in (scripts/embed-web)
WEB_FILES := $(sort $(shell find web -type f))

LIB_OBJS  := $(LIB_SRCS:%.c=$(OBJ)/%.o) $(LIB_CXX:%.cpp=$(OBJ)/%.o) $(OBJ)/gen/migrations.o $(OBJ)/gen/console_assets.o
CLI_OBJS  := $(CLI_SRCS:%.c=$(OBJ)/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=$(OBJ)/%.o)
LIB       := $(BUILD)/libattendd.a
BINS      := $(BUILD)/attendd $(BUILD)/attendctl

# ---- build -----------------------------------------------------------------
.PHONY: all check check-asan test run bench install clean distclean deps models help format format-check
all: $(BINS)

$(OBJ)/%.o: %.c config.h | $(BUILD)/gen/suites.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -c $< -o $@
$(OBJ)/%.o: %.cpp config.h
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS_ALL) $(ALL_CXXFLAGS) -c $< -o $@
$(OBJ)/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -c $< -o $@

# Migrations are compiled into the binaries so code and schema version always agree.
$(BUILD)/gen/migrations.c: $(SQL_FILES) scripts/embed-sql
	@mkdir -p $(@D)
	scripts/embed-sql $(SQL_FILES) > $@.tmp && mv $@.tmp $@

# The console's files are compiled in too: one binary serves its own page, nothing else to install.
$(OBJ)/gen/console_assets.o: $(BUILD)/gen/console_assets.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/gen/console_assets.c: $(WEB_FILES) scripts/embed-web
	@mkdir -p $(@D)
	scripts/embed-web $(WEB_FILES) > $@.tmp && mv $@.tmp $@

# Test suites are found by their `Suite *NAME_suite(void)` definitions; no list to keep by hand.
$(BUILD)/gen/suites.h: $(filter tests/test_% tests/unit/test_% tests/integration/test_%,$(TEST_SRCS))
	@mkdir -p $(@D)
	grep -ho 'Suite \*[a-z0-9_]*_suite(void)' $^ /dev/null | sed 's/Suite \*\(.*\)_suite(void)/SUITE(\1)/' | sort -u > $@.tmp && mv $@.tmp $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^
$(BUILD)/attendd: $(OBJ)/src/daemon/main.o $(LIB)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/attendctl: $(CLI_OBJS) $(LIB)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)
$(BUILD)/attendd-tests: $(TEST_OBJS) $(LIB)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS) $(TEST_LIBS)
$(TEST_OBJS): ALL_CFLAGS += $(TEST_CFLAGS)
$(TEST_OBJS): CPPFLAGS_ALL += -Itests/support

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# ---- dependencies and models ---------------------------------------------------
deps:
	scripts/install-deps
models:
	models/fetch

# ---- tests -----------------------------------------------------------------
# `make check` is the README's test command: packages, models, the format check, then the suite twice
# (plain and ASan+UBSan).
TEST_ENV = ATTENDD_DATA=$(DATA) ATTENDD_MODELS_DIR=$(MODELS) ATTENDD_BUILD=$(abspath $(BUILD)) \
           ATTENDD_SRCDIR=$(CURDIR) ATTENDD_PG_BINDIR=$(PG_BINDIR) \
           ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

test: $(BINS) $(BUILD)/attendd-tests $(BUILD)/browser/node_modules/.attendd-lock
	$(TEST_ENV) $(BUILD)/attendd-tests

# the browser tests' npm packages (puppeteer-core, axe-core), pinned by their lock file's hashes
$(BUILD)/browser/node_modules/.attendd-lock: tests/browser/package.json tests/browser/package-lock.json scripts/fetch-browser-deps
	scripts/fetch-browser-deps $(BUILD)/browser

check: deps models
	$(MAKE) format-check
	$(MAKE) test
ifeq ($(ASAN),1)
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 test
endif

check-asan: deps models
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 test

# ---- format: every tracked C and C++ source against the committed .clang-format ---------------
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

# ---- run: the daemon on the embedded PostgreSQL under $(BUILD)/run ---------------
run: deps models $(BINS)
	scripts/run-embedded $(abspath $(BUILD)) $(MODELS)

# ---- bench: every bench/*.sh in turn ----------------------------------------
bench: models $(BINS)
	scripts/install-deps --bench
	@for b in $(sort $(filter-out bench/lib.sh,$(wildcard bench/*.sh))); do \
	    echo "== $$b"; ATTENDD_BUILD=$(abspath $(BUILD)) ATTENDD_DATA=$(DATA) ATTENDD_MODELS_DIR=$(MODELS) \
	    ATTENDD_SRCDIR=$(CURDIR) ATTENDD_PG_BINDIR=$(PG_BINDIR) $(MAKE) -s --no-print-directory bench-build && sh $$b || exit 1; done

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
.PHONY: bench-build
bench-build: $(BENCH_BINS)
$(BUILD)/bench/%: $(OBJ)/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CXX) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

# ---- install (DESTDIR-aware) -------------------------------------------------
install: $(BINS) models
	install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) $(DESTDIR)$(datadir)/attendd/sql \
	    $(DESTDIR)$(datadir)/attendd/models $(DESTDIR)$(sysconfdir)/attendd $(DESTDIR)$(docdir)
	install -m 755 $(BUILD)/attendd $(DESTDIR)$(sbindir)/attendd
	install -m 755 $(BUILD)/attendctl $(DESTDIR)$(bindir)/attendctl
	install -m 644 $(SQL_FILES) $(DESTDIR)$(datadir)/attendd/sql/
	install -m 644 models/SHA256SUMS $(DESTDIR)$(datadir)/attendd/models/
	install -m 755 models/fetch $(DESTDIR)$(datadir)/attendd/models/
	install -m 644 models/*.onnx models/*.dat $(DESTDIR)$(datadir)/attendd/models/
	[ -f $(DESTDIR)$(sysconfdir)/attendd/attendd.conf ] || \
	    sed -e 's|/usr/local/share/attendd|$(datadir)/attendd|g' -e 's|/etc/attendd|$(sysconfdir)/attendd|g' \
	        conf/attendd.conf > $(DESTDIR)$(sysconfdir)/attendd/attendd.conf
	install -m 644 docs/*.md docs/*.json $(DESTDIR)$(docdir)/
	install -d $(DESTDIR)$(prefix)/lib/systemd/system $(DESTDIR)$(prefix)/lib/sysusers.d $(DESTDIR)$(prefix)/lib/tmpfiles.d
	sed -e 's|/usr/local/sbin|$(sbindir)|g' -e 's|/usr/local/share/doc/attendd|$(docdir)|g' -e 's|/etc/attendd|$(sysconfdir)/attendd|g' \
	    systemd/attendd.service > $(DESTDIR)$(prefix)/lib/systemd/system/attendd.service
	install -m 644 systemd/attendd.sysusers $(DESTDIR)$(prefix)/lib/sysusers.d/attendd.conf
	sed -e 's|/etc/attendd|$(sysconfdir)/attendd|g' systemd/attendd.tmpfiles > $(DESTDIR)$(prefix)/lib/tmpfiles.d/attendd.conf

clean:
	-[ ! -e build/run/pg ] || scripts/pg-cluster destroy build/run/pg
	rm -rf build
distclean: clean
	rm -rf config.mk config.h config.log config.status configure autom4te.cache

help:
	@echo "make run     - daemon on an embedded PostgreSQL at 127.0.0.1:8080"
	@echo "make check   - install deps, fetch models, run all tests (plain + ASan/UBSan)"
	@echo "make bench   - benchmarks"
	@echo "make install - install under PREFIX (DESTDIR-aware)"

# ---- optional pieces (fuzzing, thread-sanitizer, long checks) each in its own file -------
-include $(sort $(wildcard mk/*.mk))
