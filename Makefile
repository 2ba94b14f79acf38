# Thin wrapper over CMake + Ninja. `make` builds build/lyrebird.
# `make demo` and `make test` are the two commands the README promises.
BUILD      ?= build
ASAN_BUILD ?= build-asan
PYTEST     ?= /usr/bin/python3 -m pytest
CMAKE_ARGS ?=

.PHONY: all build deps demo test unit e2e asan asan-unit asan-e2e browser bench clean format

all: build

build:
	@test -f $(BUILD)/build.ninja || cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)
	@cmake --build $(BUILD)

deps:
	@scripts/install-deps

# The demo needs the build dependencies and what the README's tour runs
# beside it (curl, python3), not Chromium and the test tools.
demo:
	@scripts/install-deps --demo
	@$(MAKE) --no-print-directory build
	$(BUILD)/lyrebird demo $(DEMO_ARGS)

# Every suite: unit and e2e on the normal build, then again under
# ASan+UBSan, then the browser suite once it exists.
test: deps build
	@scripts/run-tests

unit: build
	ctest --test-dir $(BUILD) --output-on-failure

# The S3 tests need s3rver (tests/s3, npm); without Node they skip.
e2e: build
	@if command -v node >/dev/null 2>&1; then \
	  cd tests/s3 && npm ci --no-audit --no-fund --silent; fi
	LYREBIRD_BIN=$(CURDIR)/$(BUILD)/lyrebird $(PYTEST) -q tests/e2e

asan:
	@test -f $(ASAN_BUILD)/build.ninja || cmake -S . -B $(ASAN_BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=Debug -DLYREBIRD_SANITIZE=ON -DLYREBIRD_TEST_CLOCK=ON \
	  $(CMAKE_ARGS)
	@cmake --build $(ASAN_BUILD)

bench: build
	@scripts/install-deps --bench
	bench/ingest

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'src/*.cpp' 'tests/unit/*.c' 'bench/*.c')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
