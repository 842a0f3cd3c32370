# examples/examples.mk - the example programs, the rmq_send command-line
# producer, `make demo`, and their test. Included by the top Makefile.
#
#   make                 builds every example into $(B)/examples/
#   make demo            the seed's SimpleBatchProducer against the bundled
#                        mock cluster (or NAMESRV_ADDR when it is set)
#   make test            also runs examples/test_examples.sh on ASan+UBSan builds

# This file is read before the top Makefile's first rule: keep `all` the
# default goal.
.DEFAULT_GOAL := all

EXAMPLES = simple_batch_producer sync_producer async_producer oneway_producer \
           orderly_producer event_loop_producer rmq_send compressed_producer
EXAMPLE_BINS = $(EXAMPLES:%=$(B)/examples/%)
EXAMPLE_BINS_SAN = $(EXAMPLES:%=$(B)/san/examples/%)

ALL_EXTRA += $(EXAMPLE_BINS)
TEST_CMDS += "EXAMPLES_DIR=$(B)/san/examples MOCKBROKER=tests/mockbroker/mockbroker bash examples/test_examples.sh"

.PHONY: demo

$(B)/examples $(B)/san/examples:
	mkdir -p $@

# Each example is one .c file that also compiles the library and the port.
$(EXAMPLE_BINS): $(B)/examples/%: examples/%.c $(HEADER) | $(B)/examples
	$(CC) $(STRICT) $(POSIX) -O2 -g -I. $< -o $@ -lpthread $(EXAMPLE_LIBS)

$(EXAMPLE_BINS_SAN): $(B)/san/examples/%: examples/%.c $(HEADER) | $(B)/san/examples
	$(SANCC) $(STRICT) $(POSIX) $(SAN) -I. $< -o $@ -lpthread $(EXAMPLE_LIBS)

# The zlib codec (examples/zlib_codec.h) is the only example with a library.
$(B)/examples/compressed_producer $(B)/san/examples/compressed_producer: EXAMPLE_LIBS = -lz
$(B)/examples/compressed_producer $(B)/san/examples/compressed_producer: examples/zlib_codec.h

test: $(EXAMPLE_BINS_SAN)

demo: mockbroker $(B)/examples/simple_batch_producer
	@MOCKBROKER=tests/mockbroker/mockbroker PRODUCER=$(B)/examples/simple_batch_producer bash tools/demo.sh
