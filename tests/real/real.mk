# tests/real/real.mk - `make test-real`: the end-to-end suite against a real
# RocketMQ cluster (tests/real/run.sh says how it finds or starts one).
# Included by the top Makefile.
#
#   NAMESRV_ADDR=host:port ROCKETMQ_HOME=/opt/rocketmq make test-real
#                                  your cluster (mqadmin from ROCKETMQ_HOME)
#   ROCKETMQ_HOME=/opt/rocketmq make test-real
#                                  clusters of its own, started and stopped

.PHONY: test-real

$(B)/real:
	mkdir -p $@

$(B)/real/test_real: tests/real/test_real.c tests/real/mqadmin.h tests/real/real_admin.c tests/real/real_view.c tests/real/real_request.c tests/real/ReplyResponder.java tests/real/real_trace.c examples/zlib_codec.h tests/rmq_test.h $(HEADER) | $(B)/real
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@ -lpthread -lz

$(B)/real/test_real: tests/real/real_namespace.c

test-real: $(B)/real/test_real $(EXAMPLE_BINS)
	@EXAMPLES_DIR=$(B)/examples bash tests/real/run.sh
