# ALBM top-level build.  `make` builds every binary; `make test` runs every suite.
#
# Layout convention (so that adding a file never needs a Makefile edit):
#   src/common, src/sched, src/proto, src/dr -> build/libalbm.a (linked by everything)
#   src/lab/common                    -> build/liblab.a (the lab tools' shared code)
#   src/<prog dir>/**/*.c             -> one program (its subdirectories included, e.g.
#                                        src/distributor/proxy); its main() lives in
#                                        main.c, the other files also form
#                                        build/lib<prog>.a so that unit tests can link them
#   tests/unit/test_*.c               -> build/tests/test_*   (cmocka)
#   tests/fuzz/fuzz_*.c               -> build/fuzz/fuzz_*    (clang libFuzzer)
#   bench/*.c                         -> build/bench/*
#   src/bpf/*.bpf.c                   -> build/bpf/*.bpf.o + build/bpf/*.skel.h
#
# `make SAN=1 BUILD=build/asan unit` builds the same with ASan+UBSan.

# `make` alone builds everything: the per-directory library rules generated below
# would otherwise become the default goal.
.DEFAULT_GOAL := all

BUILD   ?= build
CC      ?= cc
CLANG   ?= clang
SAN     ?=
V       ?=
Q       := $(if $(V),,@)

CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE \
	-Iinclude -Isrc -I$(BUILD)/bpf -MMD -MP
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1
LDFLAGS_SAN := -fsanitize=address,undefined
endif
CFLAGS  += $(CFLAGS_BASE)
LDLIBS  := -lbpf -lelf -lz -lcrypto -ljansson -lm -lpthread -lsystemd -luring

PROGS := albmd:distributor albm-agent:agent albmctl:ctl albm-httpd:lab/httpd albm-bench:lab/bench \
	albm-hog:lab/hog
prog_name = $(word 1,$(subst :, ,$(1)))
prog_dir  = $(word 2,$(subst :, ,$(1)))

LIB_SRCS := $(wildcard src/common/*.c src/sched/*.c src/proto/*.c src/dr/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# Code only the lab tools use stays out of libalbm.a (which ships with albmd).
LABLIB_SRCS := $(wildcard src/lab/common/*.c)
LABLIB_OBJS := $(LABLIB_SRCS:%.c=$(BUILD)/obj/%.o)

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:src/bpf/%.bpf.c=$(BUILD)/bpf/%.bpf.o)
BPF_SKELS := $(BPF_SRCS:src/bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)

# Every file matching pattern $(2) under directory $(1), subdirectories included.
rwildcard = $(foreach e,$(wildcard $(1)/*),$(call rwildcard,$(e),$(2)) $(filter $(subst *,%,$(2)),$(e)))
prog_srcs = $(sort $(call rwildcard,src/$(1),*.c))

ALL_BINS :=
PROG_LIBS :=
define PROG_template
$(1)_SRCS := $$(call prog_srcs,$(2))
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/obj/%.o)
$(1)_EXTRA := $(if $(filter lab/%,$(2)),$(BUILD)/liblab.a)
$(1)_LIBOBJS := $$(filter-out %/main.o,$$($(1)_OBJS))
$(BUILD)/lib$(notdir $(2)).a: $$($(1)_LIBOBJS)
	@mkdir -p $$(@D)
	$(Q)rm -f $$@; ar rcs $$@ $$^ $(BUILD)/empty.o
$(BUILD)/$(1): $$($(1)_OBJS) $$($(1)_EXTRA) $(BUILD)/libalbm.a
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$(Q)$(CC) $(LDFLAGS_SAN) -o $$@ $$($(1)_OBJS) $$($(1)_EXTRA) $(BUILD)/libalbm.a $(LDLIBS)
ALL_BINS += $$(if $$($(1)_SRCS),$(BUILD)/$(1))
PROG_LIBS += $(BUILD)/lib$(notdir $(2)).a
endef
$(foreach p,$(PROGS),$(eval $(call PROG_template,$(call prog_name,$(p)),$(call prog_dir,$(p)))))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all deps bins unit bench-bins test test-unit test-asan test-fuzz test-integration test-faults lint \
	bench-sched bench-agent bench-peers bench-dr bench-ha bench-control demo paper scenarios clean \
	fuzz-bins format
all: deps bins

deps:
	$(Q)bash scripts/deps.sh

bins: $(ALL_BINS) $(BPF_OBJS) $(BPF_SKELS)

$(BUILD)/empty.o:
	@mkdir -p $(@D)
	$(Q)echo 'int albm_empty_unit;' | $(CC) -x c -c -o $@ -

$(BUILD)/libalbm.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@; ar rcs $@ $^

$(BUILD)/liblab.a: $(LABLIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@; ar rcs $@ $^

# Objects of the distributor and of src/dr include the BPF skeleton, so build it first.
# (Listed explicitly: a pattern rule without a recipe would not add prerequisites.)
$(filter $(BUILD)/obj/src/distributor/% $(BUILD)/obj/src/dr/%,$(LIB_OBJS) $(albmd_OBJS)): $(BPF_SKELS)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# ---- BPF (XDP data plane) -------------------------------------------------------------
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -I/usr/include/$(shell uname -m)-linux-gnu -Isrc/bpf
$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h)
	@mkdir -p $(@D)
	@echo "  BPF     $<"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $<
$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(Q)bpftool gen skeleton $< name $(subst -,_,$*) > $@

# ---- tests ------------------------------------------------------------------------------
TEST_LIBS = -Wl,--start-group $(PROG_LIBS) $(BUILD)/liblab.a $(BUILD)/libalbm.a -Wl,--end-group -lcmocka $(LDLIBS)
$(BUILD)/tests/%: tests/unit/%.c $(PROG_LIBS) $(BUILD)/liblab.a $(BUILD)/libalbm.a $(BUILD)/empty.o
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_SAN) -o $@ $< $(TEST_LIBS)
$(PROG_LIBS): $(BUILD)/empty.o

$(BUILD)/bench/%: bench/%.c $(PROG_LIBS) $(BUILD)/liblab.a $(BUILD)/libalbm.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_SAN) -o $@ $< $(TEST_LIBS)

# Test helpers (tests/tools/*.c -> $(BUILD)/tools/*), used by integration tests.
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tools/%: tests/tools/%.c $(PROG_LIBS) $(BUILD)/liblab.a $(BUILD)/libalbm.a
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_SAN) -o $@ $< $(TEST_LIBS)
bins: $(TOOL_BINS)

unit: bins $(UNIT_BINS)
bench-bins: bins $(BENCH_BINS)

# Fuzz targets: clang + libFuzzer + ASan/UBSan, compiled straight from the sources.
FUZZ_LIB_SRCS = $(LIB_SRCS) $(LABLIB_SRCS) $(foreach p,$(PROGS),$(filter-out %/main.c,$(call prog_srcs,$(call prog_dir,$(p)))))
FUZZ_LIB_OBJS = $(FUZZ_LIB_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DALBM_FUZZ -Iinclude -Isrc -I$(BUILD)/bpf \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
# The library is compiled once with coverage instrumentation, then each target links it;
# -MMD: a header change rebuilds them (a stale object with an old struct layout would
# make the fuzzers report overflows that are not in the code).
$(BUILD)/fuzzobj/%.o: %.c $(BPF_SKELS)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LDLIBS)
fuzz-bins: $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# albmd's dashboard page is embedded with .incbin: its object depends on the page.
$(BUILD)/obj/src/distributor/dashboard.o $(BUILD)/fuzzobj/src/distributor/dashboard.o: \
	src/distributor/dashboard.html
.SECONDARY: # keep intermediate objects (fuzz library, skeletons) between runs

JOBS ?= $(shell nproc)
test: deps-test
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) bins unit bench-bins
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) SAN=1 BUILD=build/asan unit
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) fuzz-bins
	$(Q)bash tests/run.sh all
test-unit: unit
	$(Q)bash tests/run.sh unit
test-asan:
	$(Q)$(MAKE) --no-print-directory SAN=1 BUILD=build/asan unit
	$(Q)bash tests/run.sh asan
test-fuzz: fuzz-bins
	$(Q)bash tests/run.sh fuzz
lint: deps-test
	$(Q)bash tests/run.sh lint
test-integration: bins
	$(Q)bash tests/run.sh integration
# the fault-injection suite (tests/faults/, docs/faults.md): also part of `make test`
test-faults: deps-test bins
	$(Q)bash tests/run.sh faults

# ---- benchmarks, lab ----------------------------------------------------------------------
bench-sched: deps bench-bins
	$(Q)$(BUILD)/bench/bench_sched
bench-agent: deps bins
	$(Q)bash bench/agent.sh
# `make bench-peers WORKERS=2` = bench/peers.sh --workers 2 (make itself takes no --workers)
bench-peers: deps-lab bins
	$(Q)BUILD=$(BUILD) bash bench/peers.sh $(if $(WORKERS),--workers $(WORKERS))
bench-dr: deps bins
	$(Q)bash bench/dr.sh
bench-ha: deps-test bench-bins
	$(Q)bash bench/ha.sh
# 1,000 agents x 10 signed reports/s into one albmd: its CPU and the proxy's latency
bench-control: deps bench-bins
	$(Q)BUILD=$(BUILD) bash bench/control.sh
demo: deps-lab bins
	$(Q)bash lab/demo.sh
paper: deps-lab bins
	$(Q)bash lab/paper.sh
scenarios: deps-lab bins
	$(Q)bash lab/scenarios.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# version, man pages, install, deb, dependency groups
include mk/dist.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
