# tools/size.mk - code size, stack and a heap-free run. Included by the top
# Makefile, which defines B, CC, SANCC, STRICT, POSIX and SAN.
#
#   make size    tools/size.sh: the size table per target, level and
#                configuration (tools/size-configs.txt), what each RMQ_NO_*
#                cut saves, and the budgets of tools/size-budget.txt checked
#                (a breach fails the target)
#   make size-quick  SIZE_QUICK=1 tools/size.sh: the core configurations
#                on Cortex-M4 -Os only, their text against the ceilings,
#                send stack, largest frame and largest functions, in
#                seconds (for the loop of a change; make size is the gate)
#
# $(B)/san/test_nomalloc (tests/test_nomalloc.c) joins make test: 100,000
# messages sent to the mock cluster from a static pool, RMQ_NO_MALLOC, over
# the POSIX port, in about 3 s. It is built -O2 without sanitizers: under
# ASan 100,000 round trips take minutes, and in a pool build ASan has no
# library heap to watch. It also runs nm on $(B)/san/nomalloc_lib.o, the
# library alone built with RMQ_NO_MALLOC, and fails on any reference to
# malloc, free, realloc or calloc.

.PHONY: size size-quick

size:
	B=$(B) CC=$(CC) HOST_CFLAGS="$(STRICT) $(POSIX)" bash tools/size.sh

size-quick:
	B=$(B) SIZE_QUICK=1 bash tools/size.sh

NOMALLOC_DEPS = tests/test_nomalloc.c tests/rmq_test.h tests/mockbroker/mock_client.h \
                rocketmq_producer.h port/rmq_port_posix.h

# The library alone, RMQ_NO_MALLOC, for the nm check the test runs.
$(B)/san/nomalloc_lib.o: rocketmq_producer.h | $(B)/san
	printf '#define RMQ_NO_MALLOC\n#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#include "rocketmq_producer.h"\n' > $(B)/san/nomalloc_lib.c
	$(CC) $(STRICT) -O2 -I. -c $(B)/san/nomalloc_lib.c -o $@

$(B)/san/test_nomalloc: $(NOMALLOC_DEPS) $(B)/san/nomalloc_lib.o | $(B)/san mockbroker
	$(CC) $(STRICT) $(POSIX) -O2 -g -DRMQ_NO_MALLOC \
		-DRMQ_NOMALLOC_LIB_OBJ='"$(B)/san/nomalloc_lib.o"' tests/test_nomalloc.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_nomalloc
