# etuner: the two commands users need are `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
STREAM ?= bench/streams/fmnist-ni.json
DEMO_OUT ?= out/demo
PREFIX ?= /usr/local

.PHONY: all setup build demo test python sanitize tsan install bench-all download-cifar clean

all: build

setup:
	@scripts/setup.sh

# Configuring every time is cheap and refreshes the commit recorded in results files.
build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the embedded default (Fashion-MNIST): immediate, immediate with etuner's
# BatchNorm adaptation (the fair baseline), etuner, and never (the floor).
DEMO_POLICIES ?= immediate,immediate-bn,etuner,never

demo: build
	$(BUILD)/etuner bench --stream $(STREAM) --policies $(DEMO_POLICIES) --out $(DEMO_OUT) --report

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The Python module `etuner` (python/; docs/library.md, "Python"), in the same build folder:
# ETUNER_PYTHON=ON stays in its cache, so later builds and `make test` include the module.
# The first time, every target recompiles (-fPIC, see CMakeLists.txt). Fails, saying why, when
# python3-torch's torch is not the LibTorch etuner builds against or a package is missing.
PYTHON_PACKAGES = python3-dev python3-pybind11 python3-torch

python:
	@ETUNER_EXTRA_PACKAGES="$(PYTHON_PACKAGES)" scripts/setup.sh
	@mkdir -p $(BUILD)
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DETUNER_PYTHON=ON > $(BUILD)/python-configure.log
	@grep 'etuner Python module' $(BUILD)/python-configure.log
	@! grep -q 'etuner Python module: skipped' $(BUILD)/python-configure.log
	cmake --build $(BUILD) --target etuner_python -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -R '^python\.'
	@echo "import it with: PYTHONPATH=$(abspath $(BUILD))/python $$(sed -n 's/^ETUNER_PYTHON_INTERPRETER:INTERNAL=//p' $(BUILD)/CMakeCache.txt) -c 'import etuner'"

# Sanitizer builds, each in its own build folder, at -O1 without debug info (build time;
# docs/notebook/2026-12-05-sanitizers.md). The options are exported to the build too, because
# gtest_discover_tests runs each test binary once while building. A report fails the test;
# the only suppressions are in sanitizers/*.supp, each with its reason.
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
SAN_DIR := $(CURDIR)/sanitizers
SAN_CMAKE = -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG"
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:verify_asan_link_order=0:strict_string_checks=1:detect_stack_use_after_return=1 \
  LSAN_OPTIONS=suppressions=$(SAN_DIR)/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(SAN_DIR)/ubsan.supp
# LibTorch's intra-op threads are OpenMP (libgomp), which TSan cannot see into: its barriers
# look like races in every tensor op. One OpenMP thread keeps torch's work on the calling
# thread, so TSan checks our threads (trainer, HTTP pool, store) and not libgomp.
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(SAN_DIR)/tsan.supp \
  OMP_NUM_THREADS=1
# The tests `make tsan` runs: every serve test (API, store, parse, crash, power loss, CLI) and
# the runtime's.
TSAN_TARGETS = etuner test_serve test_serve_crash test_serve_powercut test_runtime
TSAN_TESTS = ^serve\.|^(Runtime|DriftMonitor|ReplayBuffer)\.|EveryPreset\.

sanitize: setup
	cmake -S . -B $(ASAN_BUILD) $(SAN_CMAKE) -DETUNER_SANITIZE=address,undefined > /dev/null
	$(ASAN_ENV) cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 1200

tsan: setup
	cmake -S . -B $(TSAN_BUILD) $(SAN_CMAKE) -DETUNER_SANITIZE=thread > /dev/null
	$(TSAN_ENV) cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(TSAN_TARGETS)
	cd $(TSAN_BUILD) && $(TSAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 1200 -R '$(TSAN_TESTS)'

# The library, its headers, the CMake package (find_package(etuner)) and the CLI under
# $(PREFIX) (docs/library.md).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Official CIFAR-10 binary release, for users with internet (see docs/data.md).
download-cifar:
	mkdir -p data
	curl -L -o data/cifar-10-binary.tar.gz https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
	tar -xzf data/cifar-10-binary.tar.gz -C data

clean:
	rm -rf $(BUILD)

# The power-loss test at 200 cuts instead of make test's 12 (docs/serve.md, "Durability").
POWERCUT_CYCLES ?= 200
.PHONY: powercut-long
powercut-long: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(BUILD) -j $(JOBS) --target etuner test_serve_powercut
	ETUNER_POWERCUT_CYCLES=$(POWERCUT_CYCLES) $(BUILD)/tests/test_serve_powercut

# Each libFuzzer target to 10^6 executions, new coverage merged into fuzz/corpus/ (not in CI;
# docs/serve.md, "Fuzzing", records the counts).
.PHONY: fuzz-long
fuzz-long: build
	fuzz/fuzz_long.sh $(BUILD)
