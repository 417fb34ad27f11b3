# The two entry points of README.md. Both install what they need first.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build demo check check-asan bench clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Runs the real process tree once: examples/ → the embedded store ./.smc/store.db.
demo: build
	./$(BUILD)/smc sync -f examples/local.yaml --keys examples/keys
	@echo
	@echo "stored (names only):"
	@./$(BUILD)/smc ls

# Every test through ctest (unit, sandbox, fuzz replay, integration, fakes, aws, e2e).
check: build
	@./scripts/install-test-deps.sh
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 600

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan:
	$(MAKE) check BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS=-DSANITIZE=ON

bench: build
	./bench/run.sh

clean:
	rm -rf $(BUILD) build-asan
