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

# MQAdmin and the VIP channel against the mock (tests/test_admin_e2e.c).
ADMIN_E2E_DEPS = tests/test_admin_e2e.c tests/rmq_test.h tests/mockbroker/mock_client.h \
                 rocketmq_producer.h port/rmq_port_posix.h

$(B)/san/test_admin_e2e: $(ADMIN_E2E_DEPS) | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/test_admin_e2e.c -o $@ -lpthread

$(B)/vg/test_admin_e2e: $(ADMIN_E2E_DEPS) | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g tests/test_admin_e2e.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_admin_e2e
TEST_BINS_VG += $(B)/vg/test_admin_e2e

# Viewing and querying messages against the mock (tests/test_e2e_view.c).
E2E_VIEW_DEPS = tests/test_e2e_view.c tests/rmq_test.h tests/mockbroker/mock_client.h \
                rocketmq_producer.h port/rmq_port_posix.h

$(B)/san/test_e2e_view: $(E2E_VIEW_DEPS) | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/test_e2e_view.c -o $@ -lpthread

$(B)/vg/test_e2e_view: $(E2E_VIEW_DEPS) | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g tests/test_e2e_view.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_e2e_view
TEST_BINS_VG += $(B)/vg/test_e2e_view

# Request-reply against the mock acting for the responder.
E2E_REQ_DEPS = tests/test_e2e_request.c tests/rmq_test.h tests/mockbroker/mock_client.h \
               rocketmq_producer.h port/rmq_port_posix.h

$(B)/san/test_e2e_request: $(E2E_REQ_DEPS) | $(B)/san mockbroker
	$(SANCC) $(STRICT) $(POSIX) $(SAN) tests/test_e2e_request.c -o $@ -lpthread

$(B)/vg/test_e2e_request: $(E2E_REQ_DEPS) | $(B)/vg mockbroker
	$(CC) $(STRICT) $(POSIX) -O1 -g tests/test_e2e_request.c -o $@ -lpthread

TEST_BINS_SAN += $(B)/san/test_e2e_request
TEST_BINS_VG += $(B)/vg/test_e2e_request
