# Thin wrapper over Meson (the real build description is meson.build).
#   make        build build/scepd and build/scepctl
#   make run    install what is missing, build, create ./demo once, serve
#   make test   install what tests need, build plain + ASan/UBSan, run all
#   make bench  benchmarks (see docs/benchmarks.md)
#   make stress long hardening runs: fuzzers 10 min each, 200 SIGKILLs,
#               bigger floods (tools/stress.sh; STRESS_* to change)
BUILD     ?= build
ASAN      ?= build-asan
DEMO      ?= demo
LISTEN    ?= 127.0.0.1:8080
MESON_JOBS ?= 2

.PHONY: all deps run test test-plain test-asan fuzz-smoke bench stress clean

all: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) >/dev/null
	ninja -C $(BUILD)

deps:
	@tools/deps.sh build

run: all
	@tools/run-demo.sh $(BUILD) $(DEMO) $(LISTEN)

test:
	@tools/deps.sh test
	@tools/test-all.sh

bench: all
	@tools/deps.sh bench
	@tools/bench.sh

stress:
	@tools/deps.sh test
	@tools/stress.sh

clean:
	rm -rf $(BUILD) $(ASAN) build-fuzz
