# Fuzzing and static analysis (included by the top Makefile).
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=1] [FUZZ_TARGETS="fuzz_frame ..."]
#                     build every libFuzzer target, fuzz each for FUZZ_SECONDS
#                     (FUZZ_JOBS at once), print execs, execs/s and coverage
#   make fuzz-smoke   each target's regression inputs, then ~2 s of fuzzing
#                     each (the CI gate); ends with "N passed, N failed"
#   make fuzz-seeds   (re)write the starting corpus under $(B)/fuzz/corpus
#   make lint         cppcheck and clang-tidy over the header and its ports
#
# Campaign binaries are built at FUZZ_OPT (-O1: fast). The smoke binaries
# are -O0: at -O1 the compiler may drop a load that reads one byte past a
# buffer when its value is not needed, and ASan then never sees the read.
# FUZZ_INC names the tree whose rocketmq_producer.h and port/ are fuzzed
# (default: this one), e.g. a copy with a fix applied.

FUZZ_ALL = fuzz_frame fuzz_json fuzz_route fuzz_properties fuzz_batch fuzz_producer fuzz_core fuzz_request fuzz_stored
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 2
FUZZ_JOBS ?= 1
FUZZ_OPT ?= -O1
FUZZ_INC ?= .
FUZZ_FLAGS = $(STRICT) $(POSIX) -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_DEPS = tests/fuzz/fuzz.h $(FUZZ_INC)/rocketmq_producer.h $(FUZZ_INC)/port/rmq_port_sim.h
FUZZ_CORPUS = $(B)/fuzz/corpus
VECTORS = $(sort $(wildcard tests/vectors/*/*.bin))

.PHONY: fuzz fuzz-smoke fuzz-seeds fuzz-build lint lint-cppcheck lint-tidy

$(B)/fuzz/bin $(B)/fuzz/O0:
	mkdir -p $@

# fuzz_core is fuzz_producer.c built with the core's defines (CORE_DEFS,
# from tools/size-configs.txt in the top Makefile).
$(B)/fuzz/bin/fuzz_core $(B)/fuzz/O0/fuzz_core: FUZZ_FLAGS += $(CORE_DEFS)
$(B)/fuzz/bin/fuzz_core $(B)/fuzz/O0/fuzz_core: tests/fuzz/fuzz_producer.c tests/pool_or_heap.h tools/size-configs.txt

$(B)/fuzz/bin/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS) | $(B)/fuzz/bin
	$(CLANG) $(FUZZ_FLAGS) $(FUZZ_OPT) -I$(FUZZ_INC) $< -o $@

$(B)/fuzz/O0/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS) | $(B)/fuzz/O0
	$(CLANG) $(FUZZ_FLAGS) -O0 -I$(FUZZ_INC) $< -o $@

$(B)/fuzz/seeds: tests/fuzz/seeds.c rocketmq_producer.h | $(B)/fuzz/bin
	$(CC) $(STRICT) $(POSIX) -I. $< -o $@

# The corpus grows while fuzzing; seeds are only (re)written into it.
$(FUZZ_CORPUS)/.seeded: $(B)/fuzz/seeds $(VECTORS)
	mkdir -p $(addprefix $(FUZZ_CORPUS)/,$(FUZZ_ALL))    # seeds writes for every target
	$(B)/fuzz/seeds $(FUZZ_CORPUS) $(VECTORS)
	touch $@

fuzz-seeds: $(FUZZ_CORPUS)/.seeded

fuzz-build: $(addprefix $(B)/fuzz/bin/,$(FUZZ_TARGETS))

fuzz: fuzz-build $(FUZZ_CORPUS)/.seeded
	@sh tests/fuzz/fuzz.sh run $(B)/fuzz/bin $(FUZZ_CORPUS) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_TARGETS)

fuzz-smoke: $(addprefix $(B)/fuzz/O0/,$(FUZZ_TARGETS)) $(FUZZ_CORPUS)/.seeded
	@sh tests/fuzz/fuzz.sh smoke $(B)/fuzz/O0 $(FUZZ_CORPUS) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# -- static analysis ---------------------------------------------------------
# One translation unit: the implementation and the ports this machine can
# compile (POSIX and the simulated one). Findings fail the rule; false
# positives are suppressed in tests/fuzz/cppcheck.supp or inline, each with
# its reason, and .clang-tidy lists the checks and why some are off.
LINT_TU = tests/fuzz/lint.c
LINT_DEFS = -DROCKETMQ_PRODUCER_IMPLEMENTATION -DRMQ_PORT_POSIX_IMPLEMENTATION -DRMQ_PORT_SIM_IMPLEMENTATION

# Both tools run even when the first one finds something.
lint:
	@status=0; \
	$(MAKE) --no-print-directory lint-cppcheck || status=1; \
	$(MAKE) --no-print-directory lint-tidy || status=1; \
	python3 tools/gen_reasons.py --check || status=1; \
	exit $$status

lint-cppcheck:
	cppcheck --enable=warning,style,performance,portability --error-exitcode=1 --inline-suppr \
		--suppressions-list=tests/fuzz/cppcheck.supp --std=c99 --language=c -q \
		-D__linux__ -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(LINT_DEFS) -I. $(LINT_TU)
	@echo "cppcheck: no findings"

lint-tidy:
	clang-tidy --quiet --warnings-as-errors='*' $(LINT_TU) -- -std=c99 $(POSIX) $(LINT_DEFS) -I.
	@echo "clang-tidy: no findings"
