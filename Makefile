# SPDX-License-Identifier: MIT
# hxc - the two commands of the README, and the usual helpers.
#   make demo   install what is missing, build, run hxc against a local server
#   make test   install what is missing, build, run the suite (plain and ASan+UBSan)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CTEST_FLAGS ?= --output-on-failure -j2 --timeout 600

.PHONY: all deps deps-build deps-test deps-bench deps-docs build build-asan test test-plain \
	test-asan demo bench install docs format clean

all: build

# Each goal installs only what it needs (scripts/install-deps.sh says what):
# building and the demo the compiler and libraries, the tests also the servers
# of the interop tests, the benchmark also the tools it compares with. So a
# user who has the build packages builds without root. `make deps`: all.
deps:
	@sh scripts/install-deps.sh all
deps-build:
	@sh scripts/install-deps.sh build
# test and bench include build's packages: one apt-get run each on a fresh machine.
deps-test deps-bench:
	@sh scripts/install-deps.sh $(@:deps-%=%)
deps-docs:
	@sh scripts/install-deps.sh docs

build: deps-build
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHXC_WERROR=ON -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build build -j$(JOBS)

build-asan: deps-build
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHXC_SANITIZE=ON -DHXC_WERROR=ON
	cmake --build build-asan -j$(JOBS)

test-plain: deps-test build
	ctest --test-dir build $(CTEST_FLAGS)

test-asan: deps-test build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan $(CTEST_FLAGS)

test: test-plain test-asan
	@echo "hxc: all tests passed, plain and under AddressSanitizer + UndefinedBehaviorSanitizer"

demo: build
	@sh scripts/demo.sh build

# deps-bench first: the curl-multi driver is built only if libcurl is there.
bench: deps-bench build
	bash bench/compare.sh build

install: build
	cmake --install build

docs: deps-docs
	mkdir -p build/docs
	doxygen Doxyfile
	@echo "API reference: build/docs/html/index.html"

format:
	clang-format -i $$(find include lib samples bench test -name '*.[ch]')

clean:
	rm -rf build build-asan
