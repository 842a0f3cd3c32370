# tests/soak.mk - the soak run (tests/soak.c), never part of make test.
#
#   make soak          SOAK_MESSAGES async sends (default 1000000) against the
#                      mock cluster, one broker restarted every
#                      SOAK_RESTART_EVERY (default 100000); a progress line
#                      every SOAK_REPORT_EVERY (default 100000); every message
#                      accounted for, heap and RSS flat. Last line
#                      "N passed, N failed".
#   make soak-short    the same for CI: 100000 messages, a restart every
#                      20000, a progress line every 10000.
#
# Each knob may come from the environment or the make command line.

SOAK_MESSAGES      ?= 1000000
SOAK_RESTART_EVERY ?= 100000
SOAK_REPORT_EVERY  ?= 100000
SOAK_DOWN_MS       ?= 300

# -O2 and no sanitizers: a million sends, and RSS that means something.
SOAK_CFLAGS = $(STRICT) $(POSIX) -O2 -g
SOAK_RUN    = MOCKBROKER=tests/mockbroker/mockbroker SOAK_DOWN_MS=$(SOAK_DOWN_MS) $(B)/soak/soak

.PHONY: soak soak-short

$(B)/soak:
	mkdir -p $@

$(B)/soak/soak: tests/soak.c tests/mockbroker/mock_client.h $(HEADER) | $(B)/soak
	$(CC) $(SOAK_CFLAGS) $< -o $@ -lpthread

soak: $(B)/soak/soak mockbroker
	@SOAK_MESSAGES=$(SOAK_MESSAGES) SOAK_RESTART_EVERY=$(SOAK_RESTART_EVERY) \
		SOAK_REPORT_EVERY=$(SOAK_REPORT_EVERY) $(SOAK_RUN)

soak-short: $(B)/soak/soak mockbroker
	@SOAK_MESSAGES=100000 SOAK_RESTART_EVERY=20000 SOAK_REPORT_EVERY=10000 $(SOAK_RUN)
