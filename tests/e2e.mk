# tests/e2e.mk - the end-to-end tests (tests/test_e2e.c): the producer over
# loopback sockets against the mock cluster, which each test starts itself
# (MOCKBROKER, else tests/mockbroker/mockbroker from the repository root).
# Included by the top Makefile.

E2E_DEPS = tests/test_e2e.c tests/e2e_store.h tests/rmq_test.h tests/mockbroker/mock_client.h \
           rocketmq_producer.h port/rmq_port_posix.h

$(B)/san/test_e2e: $(E2E_DEPS) | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/test_e2e.c -o $@ -lpthread

$(B)/vg/test_e2e: $(E2E_DEPS) | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g tests/test_e2e.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_e2e
TEST_BINS_VG += $(B)/vg/test_e2e

# Request-reply against the mock acting for the responder.
E2E_REQ_DEPS = tests/test_e2e_request.c tests/rmq_test.h tests/mockbroker/mock_client.h \
               rocketmq_producer.h port/rmq_port_posix.h

$(B)/san/test_e2e_request: $(E2E_REQ_DEPS) | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/test_e2e_request.c -o $@ -lpthread

$(B)/vg/test_e2e_request: $(E2E_REQ_DEPS) | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g tests/test_e2e_request.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_e2e_request
TEST_BINS_VG += $(B)/vg/test_e2e_request
