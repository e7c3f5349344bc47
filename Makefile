# Reel — thin wrapper over Meson/Ninja. The targets a person needs:
#   make run     install missing Debian packages, build, seed demo content into an
#                empty data directory, start on http://127.0.0.1:8080
#   make test    the whole suite (unit + end-to-end + browser), under ASan+UBSan
#   make bench   the benchmarks (release build), printing medians and ratios
#   make fuzz    the libFuzzer drivers (clang), FUZZ_TIME seconds each
# Variables: SANITIZE=0 runs the tests on a plain build; DATA=dir for `make run`.

RELEASE  ?= build
TESTDIR  ?= build-asan
SANITIZE ?= 1
DATA     ?= ./data
JOBS     ?= $(shell nproc)

ifeq ($(SANITIZE),1)
TEST_BUILD := $(TESTDIR)
TEST_SETUP := --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
              -Dc_args=-fno-sanitize-recover=all
else
TEST_BUILD := build-test
TEST_SETUP := --buildtype=debugoptimized
endif

# Sanitizer settings for every process the tests start (the server included).
export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS  ?= suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0

.PHONY: all deps build run test test-unit test-e2e test-browser bench fuzz clean format

all: build

deps:
	@scripts/deps.sh

$(RELEASE)/build.ninja:
	meson setup $(RELEASE) --buildtype=release -Dtests=false

build: deps $(RELEASE)/build.ninja
	ninja -C $(RELEASE) -j $(JOBS)

# A data directory without users gets demo content first: a few users and
# short synthetic clips put through the upload and transcoding path, so the
# feed opens playable (reel seed --if-empty does nothing once users exist).
run: build
	./$(RELEASE)/reel seed --data $(DATA) --if-empty
	./$(RELEASE)/reel serve --data $(DATA)

$(TEST_BUILD)/build.ninja:
	meson setup $(TEST_BUILD) $(TEST_SETUP)

test-build: deps $(TEST_BUILD)/build.ninja
	ninja -C $(TEST_BUILD) -j $(JOBS)

test-unit: test-build
	meson test -C $(TEST_BUILD) --suite unit --print-errorlogs --num-processes $(JOBS)

test-e2e: test-build
	REEL_BIN=$(CURDIR)/$(TEST_BUILD)/reel /usr/bin/python3 -m pytest -q tests/e2e

# Browser tests: Playwright (playwright-core from npm) driving Debian's
# chromium against a real `reel serve`; screenshots go to
# tests/browser/screenshots/. npm ci runs when node_modules is missing or
# older than the lock file.
tests/browser/node_modules/.package-lock.json: tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund

test-browser: test-build tests/browser/node_modules/.package-lock.json
	cd tests/browser && REEL_BIN=$(CURDIR)/$(TEST_BUILD)/reel node --test --test-concurrency=1 --test-reporter=spec

test: test-unit test-e2e test-browser

bench: deps $(RELEASE)/build.ninja
	@scripts/deps.sh --bench
	ninja -C $(RELEASE) -j $(JOBS)
	bench/run.sh $(RELEASE)

# libFuzzer drivers (tests/fuzz), built with clang and sanitizers, each run
# for FUZZ_TIME seconds on a working copy of its committed seed corpus. The
# warnings policy is gcc's (the other builds); clang's extra warnings are
# not errors here.
FUZZDIR   ?= build-fuzz
FUZZ_TIME ?= 60

$(FUZZDIR)/build.ninja:
	CC=clang meson setup $(FUZZDIR) -Dfuzz=true -Dtests=false --buildtype=debugoptimized \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false

fuzz: deps $(FUZZDIR)/build.ninja
	ninja -C $(FUZZDIR) -j $(JOBS)
	@for f in probe multipart; do \
	    mkdir -p $(FUZZDIR)/corpus-$$f && cp tests/fuzz/corpus/$$f/* $(FUZZDIR)/corpus-$$f/ && \
	    ./$(FUZZDIR)/tests/fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZDIR)/crash-$$f- $(FUZZDIR)/corpus-$$f || exit 1; \
	done

clean:
	rm -rf $(RELEASE) $(TESTDIR) build-test $(FUZZDIR)

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c')
