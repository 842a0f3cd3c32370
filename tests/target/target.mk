# tests/target/target.mk - tests on other targets than the host. Included by
# the top Makefile, which defines B, STRICT, POSIX and SMALL_BOUNDS.
#
#   make test-mcu   the core tests bare-metal on an emulated Cortex-M3 and
#                   Cortex-M4 (tests/target/run.sh: qemu-system-arm, the
#                   MPS2 boards, newlib with semihosting, built by CMake
#                   with a toolchain file); their RAM figures for make size
#   make test-be    the unit and simulated-port tests on a big-endian 32-bit
#                   Linux (PowerPC: Debian's cross compiler, run by
#                   qemu-user), so that byte order is proven, not assumed

.PHONY: test-mcu test-be

test-mcu:
	@B=$(B) sh tests/target/run.sh

BE_CC     ?= powerpc-linux-gnu-gcc
BE_QEMU   ?= qemu-ppc -L /usr/powerpc-linux-gnu
BE_CFLAGS  = $(STRICT) $(POSIX) -O1 -g
BE_BINS    = $(B)/be/unit $(B)/be/test_bounds $(B)/be/test_notext $(B)/be/test_core $(B)/be/test_port_sim $(B)/be/test_port_posix

$(B)/be:
	mkdir -p $@

# Refuses a compiler that is not big-endian: the point is the byte order.
$(B)/be/byte_order: | $(B)/be
	@$(BE_CC) -dM -E - </dev/null | grep -q '__BYTE_ORDER__ __ORDER_BIG_ENDIAN__' || \
		{ echo "$(BE_CC) does not target a big-endian machine"; exit 1; }
	@echo "$(BE_CC): big-endian" >$@

$(B)/be/unit: $(UNIT_SRC) $(HEADER) $(B)/be/byte_order
	$(BE_CC) $(BE_CFLAGS) tests/unit.c -o $@ -lpthread

$(B)/be/test_bounds: tests/test_bounds.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) $(B)/be/byte_order
	$(BE_CC) $(BE_CFLAGS) $(SMALL_BOUNDS) $< -o $@

$(B)/be/test_core: tests/test_core.c tests/test_reasons.c tests/reason_sentences.h tests/vectors/reason_sentences.inc tests/pool_or_heap.h tests/sim_cluster.h tests/rmq_test.h tools/size-configs.txt $(HEADER) $(B)/be/byte_order
	$(BE_CC) $(BE_CFLAGS) $(CORE_DEFS) $< -o $@

$(B)/be/test_%: tests/test_%.c tests/sim_cluster.h tests/rmq_test.h $(HEADER) $(B)/be/byte_order
	$(BE_CC) $(BE_CFLAGS) $< -o $@ -lpthread

test-be: $(BE_BINS)
	@RMQ_WRAP="timeout 300 $(BE_QEMU)" sh tests/run.sh $(BE_BINS)
