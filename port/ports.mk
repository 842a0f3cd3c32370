# port/ports.mk - the TLS (mbedTLS) and lwIP ports: tests and checks.
# Included by the top Makefile, which defines B, CC, SANCC, STRICT, POSIX,
# SAN and HEADER.
#
#   make ports     both ports' tests (ASan+UBSan), C++11 (g++, clang++) and
#                  RMQ_STATIC builds of both headers, the lwIP port's select
#                  variant (compile only), and their exported symbols
#
# Each port is built only where its library is installed, so `make` works
# without them: mbedTLS (libmbedtls-dev: /usr/include/mbedtls/ssl.h) and
# lwIP (liblwip-dev: /usr/include/lwip/lwip/sockets.h).
#
# build/san/test_tls joins TEST_BINS_SAN (make test) and build/vg/test_tls
# TEST_BINS_VG (make test-valgrind); it starts stunnel itself and skips the
# server tests without it. build/san/test_lwip joins TEST_CMDS (it needs
# root and a tap device and otherwise reports SKIP; about a second).

PORTS_MBEDTLS := $(wildcard /usr/include/mbedtls/ssl.h)
PORTS_LWIP    := $(wildcard /usr/include/lwip/lwip/sockets.h)

MBEDTLS_LIBS  = -lmbedtls -lmbedx509 -lmbedcrypto
# -isystem: lwIP's own headers are not held to -Wpedantic -Werror.
LWIP_CFLAGS   = $(if $(PORTS_LWIP),-isystem /usr/include/lwip)
LWIP_LIBS     = -llwip
PORTS_CXX     = -std=c++11 -Wall -Wextra -Wpedantic -Werror $(POSIX) -I.

PORTS_BINS    =
PORTS_CHECKS  =

.PHONY: ports ports-cxx ports-symbols ports-lwip-select

ifneq ($(PORTS_MBEDTLS),)
TEST_BINS_SAN += $(B)/san/test_tls
TEST_BINS_VG  += $(B)/vg/test_tls
PORTS_BINS    += $(B)/san/test_tls

TLS_DEPS = tests/test_tls.c port/rmq_port_mbedtls.h $(HEADER) tests/rmq_test.h tests/port_test.h tests/mockbroker/mock_client.h

$(B)/san/test_tls: $(TLS_DEPS) | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $< -o $@ $(MBEDTLS_LIBS) -lpthread

$(B)/vg/test_tls: $(TLS_DEPS) | $(B)/vg
	$(CC) $(STRICT) $(POSIX) -O1 -g $< -o $@ $(MBEDTLS_LIBS) -lpthread
endif

ifneq ($(PORTS_LWIP),)
ALL_EXTRA     += $(B)/san/test_lwip
TEST_CMDS     += $(B)/san/test_lwip
PORTS_BINS    += $(B)/san/test_lwip
PORTS_CHECKS  += ports-lwip-select

# `make test` runs it through TEST_CMDS, so it must be built first.
test: $(B)/san/test_lwip

$(B)/san/test_lwip: tests/test_lwip.c port/rmq_port_lwip.h $(HEADER) tests/rmq_test.h tests/port_test.h tests/mockbroker/mock_client.h | $(B)/san
	$(SANCC) $(STRICT) $(POSIX) $(SAN) $(LWIP_CFLAGS) $< -o $@ $(LWIP_LIBS) -lpthread

# The select variant against lwIP's own socket definitions (compile only).
ports-lwip-select: | $(B)/obj
	printf '#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#define RMQ_PORT_LWIP_USE_SELECT\n#define RMQ_PORT_LWIP_IMPLEMENTATION\n#include "rocketmq_producer.h"\n#include "port/rmq_port_lwip.h"\n' > $(B)/obj/lwip_select.c
	$(CC) $(STRICT) $(POSIX) -I. -Itests/lwip/select $(LWIP_CFLAGS) -c $(B)/obj/lwip_select.c -o $(B)/obj/lwip_select.o
	@echo "ports: rmq_port_lwip.h with RMQ_PORT_LWIP_USE_SELECT compiles against lwIP's own socket headers"
endif

# One translation unit with every port that can be built here (H is "#":
# a literal one would start a comment).
H := \#
PORTS_DEFS = $(if $(PORTS_MBEDTLS),$(H)define RMQ_PORT_MBEDTLS_IMPLEMENTATION\n)$(if $(PORTS_LWIP),$(H)define RMQ_PORT_LWIP_IMPLEMENTATION\n)
PORTS_INCS = $(if $(PORTS_MBEDTLS),$(H)include "port/rmq_port_mbedtls.h"\n)$(if $(PORTS_LWIP),$(H)include "port/rmq_port_lwip.h"\n)
PORTS_NAMES = $(strip $(if $(PORTS_MBEDTLS),TLS) $(if $(PORTS_LWIP),lwIP) POSIX)
PORTS_LINK = $(if $(PORTS_MBEDTLS),$(MBEDTLS_LIBS)) $(if $(PORTS_LWIP),$(LWIP_LIBS)) -lpthread
PORTS_TU   = $(H)define ROCKETMQ_PRODUCER_IMPLEMENTATION\n$(H)define RMQ_PORT_POSIX_IMPLEMENTATION\n$(PORTS_DEFS)$(H)include "rocketmq_producer.h"\n$(H)include "port/rmq_port_posix.h"\n$(PORTS_INCS)

ports-cxx: | $(B)/cxx
	printf '$(PORTS_TU)int main(void){return rmq_version()[0]==0;}\n' > $(B)/cxx/ports.cpp
	g++ $(PORTS_CXX) $(LWIP_CFLAGS) $(B)/cxx/ports.cpp -o $(B)/cxx/ports-g++ $(PORTS_LINK)
	clang++ $(PORTS_CXX) $(LWIP_CFLAGS) $(B)/cxx/ports.cpp -o $(B)/cxx/ports-clang++ $(PORTS_LINK)
	printf '#define RMQ_STATIC\n$(PORTS_TU)int main(void){return rmq_version()[0]==0;}\n' > $(B)/cxx/ports-static.c
	$(CC) $(STRICT) $(POSIX) -I. $(LWIP_CFLAGS) $(B)/cxx/ports-static.c -o $(B)/cxx/ports-static-c $(PORTS_LINK)
	@echo "ports: the $(PORTS_NAMES) ports build together as C++11 (g++, clang++) and with RMQ_STATIC"

ports-symbols: | $(B)/obj
	printf '$(PORTS_TU)' > $(B)/obj/ports.c
	$(CC) $(STRICT) $(POSIX) -I. $(LWIP_CFLAGS) -c $(B)/obj/ports.c -o $(B)/obj/ports.o
	@bad=$$(nm -g --defined-only $(B)/obj/ports.o | awk '{print $$3}' | grep -v '^rmq_' || true); \
	if [ -n "$$bad" ]; then echo "exported symbols without the rmq_ prefix:"; echo "$$bad"; exit 1; fi; \
	echo "ports: $$(nm -g --defined-only $(B)/obj/ports.o | wc -l) exported symbols with the ports, all rmq_*"

ports: $(PORTS_BINS) $(PORTS_CHECKS) ports-cxx ports-symbols mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker sh tests/run.sh $(PORTS_BINS)

# The project-wide gates cover the ports too.
cxx: ports-cxx
check-symbols: ports-symbols
