# proofgate: a thin front over CMake presets and the project's scripts.
#   make build   release build; the binary is build/release/proofgate
#   make test    every test: unit tests (release and ASan+UBSan), end-to-end vectors made with
#                circom2 + snarkjs, differential tests against @noble/curves, and a bounded fuzz run
#   make bench   benchmarks against snarkjs on the same proofs (ratios; see docs/benchmarks.md)
#   make demo    make a proof with the development circuits and verify it with proofgate, then
#                `serve --demo`, the console's URL with a one-time admin enrolment link, then the
#                real issuers (sandbox authorities, issuer nodes, the verifier following their
#                feeds): enrol, prove, verified, revoke, STALE_ROOT; builds only the proofgate
#                binary (no test suites), the circuits at the same time
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: deps build debug asan fuzz-build test test-release test-asan test-fuzz bench demo clean

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j$(JOBS)

debug: deps
	cmake --preset debug >/dev/null
	cmake --build build/debug -j$(JOBS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS)

fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j$(JOBS) --target snarkjs_verify_fuzz verify_request_fuzz upload_parsers_fuzz

test-release: build
	cd build/release && ctest --output-on-failure -j$(JOBS)

# Only the unit test executables (the sanitizers make every compile 2-3x slower).
test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j$(JOBS) --target unit_test_executables
	cd build/asan && ctest --output-on-failure -j$(JOBS) -L unit

test-fuzz: fuzz-build build
	bash scripts/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

test: test-release test-asan test-fuzz
	@echo "make test: all suites passed"

bench: build
	bash scripts/bench.sh

# Not `build`: the demo needs the binary only, and scripts/demo.sh builds it while the circuits
# are made (README: "The two commands" says how long each step takes).
demo: deps
	JOBS=$(JOBS) bash scripts/demo.sh

clean:
	rm -rf build
