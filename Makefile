# etuner: the two commands users need are `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
STREAM ?= bench/streams/fmnist-ni.json
DEMO_OUT ?= out/demo
PREFIX ?= /usr/local

.PHONY: all setup build demo test install bench-all download-cifar clean

all: build

setup:
	@scripts/setup.sh

# Configuring every time is cheap and refreshes the commit recorded in results files.
build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the embedded default (Fashion-MNIST): immediate vs never vs etuner.
DEMO_POLICIES ?= immediate,never,etuner

demo: build
	$(BUILD)/etuner bench --stream $(STREAM) --policies $(DEMO_POLICIES) --out $(DEMO_OUT) --report

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

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

# Each libFuzzer target to 10^6 executions, new coverage merged into fuzz/corpus/ (not in CI;
# docs/serve.md, "Fuzzing", records the counts).
.PHONY: fuzz-long
fuzz-long: build
	fuzz/fuzz_long.sh $(BUILD)
