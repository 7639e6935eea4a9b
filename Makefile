# kernelnet: two commands do all set-up on a fresh Debian 12 machine.
#   make iris   install what is missing, configure, build kn-iris (and only what it
#               needs), train the Iris MLP
#   make test   the same set-up plus the tests' own packages, build everything, run the
#               whole test suite
# Both are idempotent: a second run only rebuilds what changed. CI also runs:
#   make sanitize   the CPU suite under ASan + UBSan, in build-asan/ (scripts/sanitize)
#   make fuzz       libFuzzer on the safetensors and CSV readers, FUZZ_SECONDS (60) each,
#                   in build-fuzz/ (scripts/fuzz); clang is installed for this one only

BUILD ?= build
JOBS ?= $(shell nproc)
IRIS_ARGS ?= --device auto
DEBIAN_PACKAGES := cmake ninja-build g++ libeigen3-dev catch2 libcli11-dev nlohmann-json3-dev libboost-context-dev
# What only the tests use: rsvg-convert renders every chart to PNG (tests/scripts/charts.cmake).
TEST_PACKAGES := librsvg2-bin
# libFuzzer and clang's sanitizer runtimes (g++'s come with g++).
FUZZ_PACKAGES := clang libclang-rt-14-dev

# ccache in front of every compiler a build here runs (g++, nvcc, and clang++ for make fuzz),
# through CMake's CMAKE_<LANG>_COMPILER_LAUNCHER, which a first configure takes from the
# environment: a rebuild after `make clean` or in a second build folder compiles only
# what changed. `make CCACHE= ...` neither installs nor uses it.
CCACHE ?= ccache
ifneq ($(CCACHE),)
DEBIAN_PACKAGES += ccache
export CMAKE_CXX_COMPILER_LAUNCHER ?= $(CCACHE)
export CMAKE_CUDA_COMPILER_LAUNCHER ?= $(CCACHE)
endif

.PHONY: iris test deps deps-test deps-fuzz configure build clean sanitize fuzz

# kn-iris alone: the tests, the bench and the fuzz replays wait for `make test`.
iris: configure
	cmake --build $(BUILD) -j $(JOBS) --target kn-iris
	./$(BUILD)/apps/kn-iris $(IRIS_ARGS)

test: deps-test build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps deps-test
	JOBS=$(JOBS) scripts/sanitize

fuzz: deps deps-fuzz
	JOBS=$(JOBS) scripts/fuzz

# $(call install_missing,PACKAGES): installs those that are missing (as root, or
# through sudo when it needs no password); says what to install when it cannot.
install_missing = @missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "missing Debian packages:$$missing -- run: sudo apt-get install$$missing" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq$$missing >/dev/null; \
	fi

deps:
	$(call install_missing,$(DEBIAN_PACKAGES))

deps-test:
	$(call install_missing,$(TEST_PACKAGES))

deps-fuzz:
	$(call install_missing,$(FUZZ_PACKAGES))

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD)
