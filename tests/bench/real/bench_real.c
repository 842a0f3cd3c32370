/* bench_real.c - this producer on one line of make bench-real, measured as
 * JavaBench.java measures the Java producer.
 *
 *     bench_real NAMESRV TOPIC LINE SECONDS BROKER_PID LINGER_US
 *
 * LINE: sync (128 B), async (128 B, 1,000 in flight), batch (16 x 128 B,
 * sync). Warms up for a second on the same line (route, connection, the
 * instance's first timers), then measures for SECONDS. Prints one line:
 *
 *     BENCH_REAL client=c line=async linger_us=0 msgs=N wall_ns=.. cpu_ns=.. broker_cpu_ns=.. p50_ns=.. p99_ns=.. rss_kb=.. failed=.. writes=..
 *
 * cpu_ns is the user + system time of this process over the measured
 * interval; rss_kb its peak resident set (ru_maxrss); latencies per call
 * (sync, batch) or from the call to the callback (async), from a fixed
 * histogram (a sample array would be most of the process's memory);
 * writes are the port's send calls (frames per write = msgs / writes). */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define BENCH_PLAIN_MALLOC
#include "../bench_util.h"

#define REAL_WINDOW 1000
#define REAL_BATCH 16
#define REAL_WARMUP_NS 1000000000u
#define REAL_BUCKETS 2048

/* Log-linear buckets, 32 per power of two (3% wide): as JavaBench.java. */
static uint64_t real_hist[REAL_BUCKETS];
static uint64_t real_hist_n;
static int real_recording;

static int real_index(uint64_t v)
{
    int m = 63;
    if (v < 64)
        return (int)v;
    while (!(v >> m))
        m--;
    m -= 5;
    return m * 32 + (int)(v >> m) < REAL_BUCKETS ? m * 32 + (int)(v >> m) : REAL_BUCKETS - 1;
}

static uint64_t real_lower(int i)
{
    int m;
    if (i < 64)
        return (uint64_t)i;
    m = i / 32 - 1;
    return (uint64_t)(i - m * 32) << m;
}

static void real_add(uint64_t ns)
{
    if (!real_recording)
        return;
    real_hist[real_index(ns)]++;
    real_hist_n++;
}

static uint64_t real_pct(unsigned pct)
{
    uint64_t want, seen = 0;
    int i;
    if (!real_hist_n)
        return 0;
    want = (real_hist_n - 1) * pct / 100 + 1;
    for (i = 0; i < REAL_BUCKETS; i++) {
        seen += real_hist[i];
        if (seen >= want)
            return real_lower(i);
    }
    return 0;
}

static unsigned char real_body[128];
static rmq_message real_msgs[REAL_BATCH];
static rmq_send_result real_res[REAL_BATCH];

/* The send time of each async send in flight, in a ring the callback's
 * user pointer indexes. */
static uint64_t real_t0[REAL_WINDOW];
static int real_inflight;
static uint64_t real_ok, real_failed;

static void real_on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)res;
    real_inflight--;
    if (err != RMQ_OK) {
        real_failed++;
        return;
    }
    real_ok++;
    real_add(bench_ns() - real_t0[(uintptr_t)user]);
}

static int real_sync(rmq_producer *p, uint64_t end, int batch, uint64_t *msgs)
{
    while (bench_ns() < end) {
        uint64_t t0 = bench_ns();
        rmq_err err = batch ? rmq_send_batch(p, real_msgs, REAL_BATCH, real_res) : rmq_send(p, real_msgs, real_res);
        real_add(bench_ns() - t0);
        if (err != RMQ_OK)
            return -1;
        *msgs += batch ? REAL_BATCH : 1;
    }
    return 0;
}

static int real_async(rmq_producer *p, uint64_t end, uint64_t *msgs)
{
    uint64_t before = real_ok;
    uintptr_t slot = 0;
    while (bench_ns() < end) {
        while (real_inflight < REAL_WINDOW) {
            rmq_err err;
            real_t0[slot] = bench_ns();
            err = rmq_send_async(p, real_msgs, real_on_sent, (void *)slot);
            if (err == RMQ_ERR_BUSY)
                break;
            if (err != RMQ_OK)
                return -1;
            slot = (slot + 1) % REAL_WINDOW;
            real_inflight++;
        }
        rmq_producer_poll(p, 100);
    }
    if (rmq_producer_flush(p, 30000) != RMQ_OK)
        return -1;
    *msgs += real_ok - before;
    return 0;
}

static int real_run(rmq_producer *p, const char *line, uint64_t end, uint64_t *msgs)
{
    if (strcmp(line, "sync") == 0)
        return real_sync(p, end, 0, msgs);
    if (strcmp(line, "batch") == 0)
        return real_sync(p, end, 1, msgs);
    if (strcmp(line, "async") == 0)
        return real_async(p, end, msgs);
    return -1;
}

static rmq_producer *real_producer(const char *namesrv, uint32_t linger_us)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_producer_config_init(&cfg);
    cfg.group = "bench_real_c";
    cfg.namesrv_addr = namesrv;
    cfg.port = bench_port(1);
    cfg.max_pending = REAL_WINDOW;
    cfg.linger_us = linger_us;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK)
        return NULL;
    if (rmq_producer_start(p) != RMQ_OK) {
        fprintf(stderr, "bench_real: start: %s\n", rmq_producer_last_error(p));
        rmq_producer_destroy(p);
        return NULL;
    }
    return p;
}

static long real_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

int main(int argc, char **argv)
{
    const char *namesrv, *topic, *line;
    uint64_t seconds, t0, cpu0, broker0, wall, cpu, broker, msgs = 0;
    pid_t broker_pid;
    uint32_t linger_us;
    rmq_producer *p;
    int i, rc;
    if (argc != 7) {
        fprintf(stderr, "usage: bench_real NAMESRV TOPIC sync|async|batch SECONDS BROKER_PID LINGER_US\n");
        return 2;
    }
    namesrv = argv[1];
    topic = argv[2];
    line = argv[3];
    seconds = strtoul(argv[4], NULL, 10);
    broker_pid = (pid_t)strtol(argv[5], NULL, 10);
    linger_us = (uint32_t)strtoul(argv[6], NULL, 10);
    memset(real_body, 'b', sizeof real_body);
    for (i = 0; i < REAL_BATCH; i++) {
        rmq_message_init(&real_msgs[i], topic, real_body, sizeof real_body);
        real_msgs[i].tags = "bench";
    }
    p = real_producer(namesrv, linger_us);
    if (!p)
        return 1;
    rc = real_run(p, line, bench_ns() + REAL_WARMUP_NS, &msgs);
    msgs = 0;
    real_failed = 0;
    real_recording = 1;
    bench_io_reset();
    t0 = bench_ns();
    cpu0 = bench_cpu_ns();
    broker0 = bench_proc_cpu_ns(broker_pid);
    if (rc == 0)
        rc = real_run(p, line, t0 + seconds * 1000000000u, &msgs);
    wall = bench_ns() - t0;
    cpu = bench_cpu_ns() - cpu0;
    broker = bench_proc_cpu_ns(broker_pid) - broker0;
    if (rc != 0)
        fprintf(stderr, "bench_real: %s: %s\n", line, rmq_producer_last_error(p));
    printf("BENCH_REAL client=c line=%s linger_us=%lu msgs=%llu wall_ns=%llu cpu_ns=%llu broker_cpu_ns=%llu "
           "p50_ns=%llu p99_ns=%llu rss_kb=%ld failed=%llu writes=%llu\n",
           line, (unsigned long)linger_us, (unsigned long long)msgs, (unsigned long long)wall,
           (unsigned long long)cpu, (unsigned long long)(broker_pid > 0 ? broker : 0),
           (unsigned long long)real_pct(50), (unsigned long long)real_pct(99), real_rss_kb(),
           (unsigned long long)real_failed + (rc != 0), (unsigned long long)bench_io_count.sends);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    return rc == 0 && !real_failed ? 0 : 1;
}
