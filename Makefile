# rocketmq_producer.h - build, tests and measurements.
#
#   make                 examples, the mock cluster, the test programs
#   make test            every test under ASan + UBSan (the CI gate)
#   make demo            the seed's batch sent to the bundled mock cluster
#                        (or to NAMESRV_ADDR when it is set)
#   make test-valgrind   the tests under valgrind memcheck
#   make test-tsan       the threaded tests under ThreadSanitizer
#   make cxx             the header and ports compiled as C++11 (g++, clang++)
#   make size            code size per target and configuration (a table)
#   make size-quick      the core configurations' text on Cortex-M4 -Os, in seconds
#   make check-symbols   every exported symbol starts with rmq_
#   make test-mcu        the core tests on an emulated Cortex-M3 and M4
#   make test-be         the unit tests on a big-endian 32-bit target
#   make install PREFIX=/usr/local   the headers, a CMake package, a pkg-config file
#   make clean

CC      ?= cc
CLANG   ?= clang
STRICT  = -std=c99 -Wall -Wextra -Wpedantic -Werror
POSIX   = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
SAN     = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
B       = build

# ASan+UBSan builds use clang when it is there (the issue's gate), else cc.
SANCC   := $(shell command -v $(CLANG) >/dev/null 2>&1 && echo $(CLANG) || echo $(CC))

HEADER  = rocketmq_producer.h port/rmq_port_posix.h port/rmq_port_sim.h
UNIT_SRC = tests/unit.c $(wildcard tests/test_*.c tests/*.h) tests/vectors/reason_sentences.inc

TEST_BINS_SAN = $(B)/san/unit $(B)/san/test_bounds $(B)/san/test_notext $(B)/san/test_core $(B)/san/test_port_posix $(B)/san/test_port_sim $(B)/san/test_threads $(B)/san/test_lifecycle
TEST_BINS_VG  = $(B)/vg/unit $(B)/vg/test_bounds $(B)/vg/test_notext $(B)/vg/test_core $(B)/vg/test_port_posix $(B)/vg/test_port_sim $(B)/vg/test_threads $(B)/vg/test_lifecycle

# MCU-sized bounds, for tests of what happens when one is reached.
SMALL_BOUNDS = -DRMQ_MAX_INFLIGHT=8 -DRMQ_MAX_PENDING=16 -DRMQ_MAX_QUEUES=32 -DRMQ_MAX_CONNECTIONS=4
TEST_CMDS     = "make -s -C tests/mockbroker test"
ALL_EXTRA     =

# Each part of the project brings its own rules and may add to the lists
# above: examples (and make demo), end-to-end tests, size, fuzzing, bench,
# ports, other targets.
-include examples/examples.mk tests/real/real.mk tests/e2e.mk tools/size.mk tests/fuzz/fuzz.mk tests/bench/bench.mk port/ports.mk tests/soak.mk tests/target/target.mk

.PHONY: all test test-valgrind test-tsan cxx check-symbols mockbroker install clean

all: mockbroker $(TEST_BINS_SAN) $(ALL_EXTRA)

mockbroker:
	$(MAKE) -C tests/mockbroker all

$(B)/san $(B)/vg $(B)/tsan $(B)/cxx $(B)/obj $(B)/ex:
	mkdir -p $@

# -- tests -----------------------------------------------------------------
$(B)/san/unit: $(UNIT_SRC) $(HEADER) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/unit.c -o $@ -lpthread

$(B)/san/test_port_%: tests/test_port_%.c $(HEADER) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@ -lpthread

$(B)/san/test_bounds: tests/test_bounds.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $(SMALL_BOUNDS) $< -o $@

$(B)/vg/test_bounds: tests/test_bounds.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g $(SMALL_BOUNDS) $< -o $@

# RMQ_NO_ERROR_TEXT: the same behaviour without the texts of reasons.
$(B)/san/test_notext: tests/test_notext.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@

$(B)/vg/test_notext: tests/test_notext.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g $< -o $@

# The core configuration: the defines of the "core" line of
# tools/size-configs.txt (every feature cut but the texts), a static pool.
CORE_DEFS := $(shell awk '$$1 == "core" { $$1 = ""; $$2 = ""; print }' tools/size-configs.txt)

$(B)/san/test_core: tests/test_core.c tests/test_reasons.c tests/reason_sentences.h tests/vectors/reason_sentences.inc tests/pool_or_heap.h tests/sim_cluster.h tests/rmq_test.h tools/size-configs.txt $(HEADER) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $(CORE_DEFS) $< -o $@

$(B)/vg/test_core: tests/test_core.c tests/test_reasons.c tests/reason_sentences.h tests/vectors/reason_sentences.inc tests/pool_or_heap.h tests/sim_cluster.h tests/rmq_test.h tools/size-configs.txt $(HEADER) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g $(CORE_DEFS) $< -o $@

$(B)/san/test_threads: tests/test_threads.c $(HEADER) tests/mockbroker/mock_client.h | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@ -lpthread

$(B)/vg/test_threads: tests/test_threads.c $(HEADER) tests/mockbroker/mock_client.h | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g $< -o $@ -lpthread

$(B)/san/test_lifecycle: tests/test_lifecycle.c $(HEADER) tests/mockbroker/mock_client.h | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@ -lpthread

$(B)/vg/test_lifecycle: tests/test_lifecycle.c $(HEADER) tests/mockbroker/mock_client.h | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g $< -o $@ -lpthread

# The unit tests under valgrind run with the free list of send blocks on
# (off by default; ASan cannot watch reused blocks).
$(B)/vg/unit: $(UNIT_SRC) $(HEADER) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g -DRMQ_FREE_LIST_BLOCKS=64 tests/unit.c -o $@ -lpthread

$(B)/vg/test_port_%: tests/test_port_%.c $(HEADER) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g $< -o $@ -lpthread

test: $(TEST_BINS_SAN) mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker sh tests/run.sh $(TEST_BINS_SAN) $(TEST_CMDS)

test-valgrind: $(TEST_BINS_VG) mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker RMQ_WRAP="valgrind -q --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect" \
		sh tests/run.sh $(TEST_BINS_VG)

$(B)/tsan/%: tests/%.c $(HEADER) | $(B)/tsan
	$(SANCC) $(STRICT) $(POSIX) -O1 -g -fsanitize=thread $< -o $@ -lpthread

# The lifecycle test runs every test 20 times: a race that shows one run
# in ten is caught.
test-tsan: $(B)/tsan/test_port_posix $(B)/tsan/test_threads $(B)/tsan/test_lifecycle mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker sh tests/run.sh $(B)/tsan/test_port_posix $(B)/tsan/test_threads \
		"RMQ_REPEAT=20 $(B)/tsan/test_lifecycle"

# -- portability -----------------------------------------------------------
cxx: | $(B)/cxx
	printf '#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#define RMQ_PORT_POSIX_IMPLEMENTATION\n#define RMQ_PORT_SIM_IMPLEMENTATION\n#include "rocketmq_producer.h"\n#include "port/rmq_port_posix.h"\n#include "port/rmq_port_sim.h"\nint main(void){return rmq_version()[0]==0;}\n' > $(B)/cxx/all.cpp
	g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror $(POSIX) -I. $(B)/cxx/all.cpp -o $(B)/cxx/all-g++ -lpthread
	clang++ -std=c++11 -Wall -Wextra -Wpedantic -Werror $(POSIX) -I. $(B)/cxx/all.cpp -o $(B)/cxx/all-clang++ -lpthread
	printf '#define RMQ_STATIC\n#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#include "rocketmq_producer.h"\nint main(void){return rmq_version()[0]==0;}\n' > $(B)/cxx/static.c
	$(CC) $(STRICT) -I. $(B)/cxx/static.c -o $(B)/cxx/static-c
	@echo "cxx: C++11 (g++, clang++) and RMQ_STATIC builds are clean"

check-symbols: | $(B)/obj
	printf '#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#define RMQ_PORT_POSIX_IMPLEMENTATION\n#define RMQ_PORT_SIM_IMPLEMENTATION\n#include "rocketmq_producer.h"\n#include "port/rmq_port_posix.h"\n#include "port/rmq_port_sim.h"\n' > $(B)/obj/lib.c
	$(CC) $(STRICT) $(POSIX) -I. -c $(B)/obj/lib.c -o $(B)/obj/lib.o
	@bad=$$(nm -g --defined-only $(B)/obj/lib.o | awk '{print $$3}' | grep -v '^rmq_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the rmq_ prefix:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: $$(nm -g --defined-only $(B)/obj/lib.o | wc -l) exported symbols, all rmq_*"

# -- install ---------------------------------------------------------------
# What CMakeLists.txt's install does, without CMake: the headers in a
# directory of their own, and (headers only, so under share/) the CMake
# package and the pkg-config file.
PREFIX ?= /usr/local
RMQ_VERSION = $(shell sed -n 's/^\#define RMQ_VERSION_TEXT "\(.*\)"/\1/p' rocketmq_producer.h)

install:
	install -d $(DESTDIR)$(PREFIX)/include/rocketmq_producer/port $(DESTDIR)$(PREFIX)/share/rocketmq_producer/cmake $(DESTDIR)$(PREFIX)/share/pkgconfig
	install -m 644 rocketmq_producer.h $(DESTDIR)$(PREFIX)/include/rocketmq_producer/
	install -m 644 port/rmq_port_posix.h port/rmq_port_lwip.h port/rmq_port_mbedtls.h port/rmq_port_sim.h $(DESTDIR)$(PREFIX)/include/rocketmq_producer/port/
	install -m 644 cmake/rocketmq_producerConfig.cmake $(DESTDIR)$(PREFIX)/share/rocketmq_producer/cmake/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(RMQ_VERSION)|' rocketmq_producer.pc.in >$(DESTDIR)$(PREFIX)/share/pkgconfig/rocketmq_producer.pc

clean:
	rm -rf $(B)
	$(MAKE) -C tests/mockbroker clean
