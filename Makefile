# kernelnet: two commands do all set-up on a fresh Debian 12 machine.
#   make iris   install what is missing, configure, build, train the Iris MLP
#   make test   the same set-up, then the whole test suite
# Both are idempotent: a second run only rebuilds what changed.

BUILD ?= build
JOBS ?= $(shell nproc)
IRIS_ARGS ?= --device auto
DEBIAN_PACKAGES := cmake ninja-build g++ libeigen3-dev catch2 libcli11-dev nlohmann-json3-dev

.PHONY: iris test deps configure build clean

iris: build
	./$(BUILD)/apps/kn-iris $(IRIS_ARGS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Installs the Debian packages that are missing (as root, or through sudo when it
# needs no password); says what to install when it cannot.
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "missing Debian packages:$$missing -- run: sudo apt-get install$$missing" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq$$missing >/dev/null; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD)
