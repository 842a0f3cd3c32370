# tests/bench/bench.mk - measurements, never part of make test.
#
#   make bench          throughput, latency, CPU and heap per message of every
#                       send path against the mock cluster on loopback (or
#                       the cluster at NAMESRV_ADDR), beside the loopback
#                       ping-pong and stream limits of the same frames; ends
#                       with one BENCH_JSON line. BENCH_SECONDS=3 per line.
#   make bench-instr    instructions per message of the sync, async, batch
#                       and oneway paths (client only) under callgrind, and
#                       the functions they go to.
#   make bench-real     this producer and the Java producer against the same
#                       real broker, alternating (tests/bench/real/run.sh:
#                       NAMESRV_ADDR, or a cluster of its own from
#                       ROCKETMQ_HOME); ends with one BENCH_REAL_JSON line.

BENCH_CFLAGS = $(STRICT) $(POSIX) -O2 -g
BENCH_HDRS   = tests/bench/bench_util.h tests/bench/bench_limit.h tests/mockbroker/mock_client.h $(HEADER)

.PHONY: bench bench-instr bench-real

$(B)/bench:
	mkdir -p $@

$(B)/bench/bench: tests/bench/bench.c $(BENCH_HDRS) | $(B)/bench
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lpthread

$(B)/bench/bench_instr: tests/bench/bench_instr.c $(BENCH_HDRS) | $(B)/bench
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lpthread

bench: $(B)/bench/bench mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker $(B)/bench/bench

bench-instr: $(B)/bench/bench_instr mockbroker
	@MOCKBROKER=tests/mockbroker/mockbroker sh tests/bench/instr.sh $(B)/bench/bench_instr $(B)/bench

$(B)/bench/bench_real: tests/bench/real/bench_real.c tests/bench/bench_util.h $(HEADER) | $(B)/bench
	$(CC) $(BENCH_CFLAGS) $< -o $@ -lpthread

bench-real: $(B)/bench/bench_real
	@bash tests/bench/real/run.sh
