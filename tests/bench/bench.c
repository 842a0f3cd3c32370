/* bench.c - throughput, latency and cost of the producer, each figure beside
 * what loopback TCP allows for the same frames (bench_limit.h).
 *
 *     make bench                        against the mock cluster on loopback
 *     NAMESRV_ADDR=10.0.0.2:9876 make bench   against a real cluster (no mock)
 *
 * Environment: BENCH_SECONDS (per line, default 3), BENCH_TOPIC (default
 * BenchTopic), MOCKBROKER (the mock's binary), BENCH_PIN=0 (no CPU pinning).
 *
 * Every line runs a fresh producer (its own client instance, so the heap peak
 * is the producer's whole life), warms it up with sync sends for 1.1 s
 * (route, connection, the instance's first timers), then measures. The transport calls are counted by
 * a wrapping port: the average request and answer sizes of a line are the
 * frame sizes its limit is measured with. Output: tables on stdout, then one
 * BENCH_JSON line; progress on stderr. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "bench_util.h"
#include "bench_limit.h"
#include "../mockbroker/mock_client.h"

#include <sys/utsname.h>

#define BENCH_WARMUP_MS 1100u
#define BENCH_STARTUP_RUNS 7
#define BENCH_MAX_BATCH 128
#define BENCH_MAX_LIMITS 16
#define BENCH_CPU_BUSY_PCT 90       /* a process this busy is the bottleneck */
#define BENCH_NOISY_PCT 20          /* other load above this (of one core): unreliable */

enum { LINE_SYNC, LINE_ASYNC, LINE_ONEWAY, LINE_BATCH, LINE_BATCH_ASYNC };

typedef struct bench_line {
    const char *key;            /* JSON key prefix */
    const char *label;          /* table text */
    int kind;                   /* LINE_* */
    size_t body;                /* bytes per message */
    int window;                 /* async: sends in flight */
    int batch;                  /* messages per batch (1: none) */
    rmq_serialize ser;
    uint32_t linger_us;         /* cfg.linger_us */
    /* results */
    uint64_t msgs, wall_ns, cpu_ns, peer_cpu_ns;
    uint64_t other_cpu_ns;      /* the machine's busy time not ours or the mock's */
    uint64_t cb_failed;         /* async callbacks with an error */
    uint32_t p50_ns, p99_ns, max_ns;    /* sync lines: per call */
    bench_io io;
    uint64_t allocs;
    size_t heap_peak;
    long stored;                /* what the mock stored (-1: unknown) */
    const bench_limit *limit;
    int failed;
    char why[400];
} bench_line;

typedef struct bench_env {
    const char *namesrv;
    const char *topic;
    int have_mock;
    mock_cluster mock;
    uint64_t dur_ns;
    bench_limit limits[BENCH_MAX_LIMITS];
    int nlimits;
} bench_env;

static unsigned char bench_body[1024];

/* What each line runs: key, label, kind, body bytes, window, batch, header,
 * linger. */
typedef struct bench_spec {
    const char *key, *label;
    int kind;
    size_t body;
    int window, batch;
    rmq_serialize ser;
    uint32_t linger_us;
} bench_spec;

static const bench_spec bench_specs[] = {
    { "sync_128", "sync 128 B", LINE_SYNC, 128, 1, 1, RMQ_SERIALIZE_JSON, 0 },
    { "sync_1k", "sync 1 KiB", LINE_SYNC, 1024, 1, 1, RMQ_SERIALIZE_JSON, 0 },
    { "async_w1", "async window 1", LINE_ASYNC, 128, 1, 1, RMQ_SERIALIZE_JSON, 0 },
    { "async_w16", "async window 16", LINE_ASYNC, 128, 16, 1, RMQ_SERIALIZE_JSON, 0 },
    { "async_w256", "async window 256", LINE_ASYNC, 128, 256, 1, RMQ_SERIALIZE_JSON, 0 },
    { "async_w4096", "async window 4096", LINE_ASYNC, 128, 4096, 1, RMQ_SERIALIZE_JSON, 0 },
    { "batch_16", "batch 16 x 128 B, sync", LINE_BATCH, 128, 1, 16, RMQ_SERIALIZE_JSON, 0 },
    { "batch_128", "batch 128 x 128 B, sync", LINE_BATCH, 128, 1, 128, RMQ_SERIALIZE_JSON, 0 },
    { "batch_async_16", "batch 16 x 128 B, async w16", LINE_BATCH_ASYNC, 128, 16, 16, RMQ_SERIALIZE_JSON, 0 },
    { "batch_async_128", "batch 128 x 128 B, async w16", LINE_BATCH_ASYNC, 128, 16, 128, RMQ_SERIALIZE_JSON, 0 },
    { "oneway", "oneway 128 B (+flush)", LINE_ONEWAY, 128, 1, 1, RMQ_SERIALIZE_JSON, 0 },
    { "sync_128_bin", "sync 128 B, binary header", LINE_SYNC, 128, 1, 1, RMQ_SERIALIZE_ROCKETMQ, 0 },
    { "async_w256_bin", "async w256, binary header", LINE_ASYNC, 128, 256, 1, RMQ_SERIALIZE_ROCKETMQ, 0 },
    { "async_w256_linger", "async w256, linger 1 ms", LINE_ASYNC, 128, 256, 1, RMQ_SERIALIZE_JSON, 1000 },
};
#define BENCH_NLINES (sizeof bench_specs / sizeof bench_specs[0])

static bench_line bench_lines[BENCH_NLINES];

static void bench_lines_init(void)
{
    size_t i;
    for (i = 0; i < BENCH_NLINES; i++) {
        bench_line *l = &bench_lines[i];
        const bench_spec *s = &bench_specs[i];
        memset(l, 0, sizeof *l);
        l->key = s->key;
        l->label = s->label;
        l->kind = s->kind;
        l->body = s->body;
        l->window = s->window;
        l->batch = s->batch;
        l->ser = s->ser;
        l->linger_us = s->linger_us;
        l->stored = -1;
    }
}

/* -- producers -------------------------------------------------------------- */
static rmq_producer *bench_producer(const bench_env *env, const char *group, rmq_serialize ser, uint32_t linger_us,
                                    int counting)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_producer_config_init(&cfg);
    cfg.group = group;
    cfg.namesrv_addr = env->namesrv;
    cfg.port = bench_port(counting);
    cfg.serialize = ser;
    cfg.linger_us = linger_us;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK)
        return NULL;
    if (rmq_producer_start(p) != RMQ_OK) {
        fprintf(stderr, "bench: start: %s\n", rmq_producer_last_error(p));
        rmq_producer_destroy(p);
        return NULL;
    }
    return p;
}

static void bench_message(rmq_message *m, const char *topic, size_t len)
{
    rmq_message_init(m, topic, bench_body, len);
    m->tags = "bench";
}

static int bench_fail(bench_line *l, const char *what, rmq_producer *p)
{
    snprintf(l->why, sizeof l->why, "%s: %s", what, p ? rmq_producer_last_error(p) : "no producer");
    l->failed = 1;
    return -1;
}

/* -- the measured loops ------------------------------------------------------ */
static int bench_sync(bench_line *l, rmq_producer *p, const char *topic, uint64_t end)
{
    rmq_message msgs[BENCH_MAX_BATCH];
    static rmq_send_result res[BENCH_MAX_BATCH];
    bench_lat lat;
    int i, rc = 0;
    memset(&lat, 0, sizeof lat);
    for (i = 0; i < l->batch; i++)
        bench_message(&msgs[i], topic, l->body);
    for (;;) {
        uint64_t t0 = bench_ns();
        rmq_err err;
        if (t0 >= end)
            break;
        err = l->kind == LINE_BATCH ? rmq_send_batch(p, msgs, (size_t)l->batch, res) : rmq_send(p, msgs, res);
        bench_lat_add(&lat, bench_ns() - t0);
        if (err != RMQ_OK) {
            rc = bench_fail(l, "send", p);
            break;
        }
        l->msgs += (uint64_t)l->batch;
    }
    l->p50_ns = bench_lat_pct(&lat, 50, 0);
    l->p99_ns = bench_lat_pct(&lat, 99, 1);
    l->max_ns = bench_lat_pct(&lat, 100, 1);
    bench_lat_free(&lat);
    return rc;
}

typedef struct bench_async {
    uint64_t ok, failed;
    int inflight;
    char first_reason[RMQ_REASON_MAX_LEN + 1];
} bench_async;

static void bench_on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    bench_async *a = (bench_async *)user;
    (void)res;
    a->inflight--;
    if (err == RMQ_OK) {
        a->ok++;
    } else {
        if (!a->failed)
            if (!rmq_result_reason(res, a->first_reason, sizeof a->first_reason)[0])
                snprintf(a->first_reason, sizeof a->first_reason, "%s", rmq_strerror(err));
        a->failed++;
    }
}

/* Keeps `window` sends in flight: refill, then poll (which runs the
 * callbacks). */
static int bench_async_run(bench_line *l, rmq_producer *p, const char *topic, uint64_t end)
{
    rmq_message msgs[BENCH_MAX_BATCH];
    bench_async a;
    int i;
    memset(&a, 0, sizeof a);
    for (i = 0; i < l->batch; i++)
        bench_message(&msgs[i], topic, l->body);
    while (bench_ns() < end) {
        while (a.inflight < l->window) {
            rmq_err err = l->kind == LINE_BATCH_ASYNC ? rmq_send_batch_async(p, msgs, (size_t)l->batch, bench_on_sent, &a)
                                                      : rmq_send_async(p, msgs, bench_on_sent, &a);
            if (err == RMQ_ERR_BUSY)
                break;
            if (err != RMQ_OK)
                return bench_fail(l, "send_async", p);
            a.inflight++;
        }
        rmq_producer_poll(p, 100);
    }
    if (rmq_producer_flush(p, 30000) != RMQ_OK)
        return bench_fail(l, "flush", p);
    l->msgs = a.ok * (uint64_t)l->batch;
    l->cb_failed = a.failed;
    if (a.failed)
        snprintf(l->why, sizeof l->why, "%llu sends failed in their callback, first: %s", (unsigned long long)a.failed,
                 a.first_reason);
    return 0;
}

/* The mock counts what it stored: a oneway line ends when the last message
 * is in, not when it left the socket. */
static void bench_wait_stored(bench_env *env, uint64_t want)
{
    uint64_t give_up = bench_ns() + 30000000000u;
    struct timespec nap;
    nap.tv_sec = 0;
    nap.tv_nsec = 200000;
    while (bench_ns() < give_up) {
        long n = mock_count(&env->mock, env->topic);
        if (n < 0 || (uint64_t)n >= want)
            return;
        nanosleep(&nap, NULL);
    }
}

static int bench_oneway(bench_line *l, bench_env *env, rmq_producer *p, uint64_t end)
{
    rmq_message m;
    bench_message(&m, env->topic, l->body);
    while (bench_ns() < end) {
        rmq_err err = rmq_send_oneway(p, &m);
        if (err == RMQ_ERR_BUSY) {
            rmq_producer_poll(p, 100);
            continue;
        }
        if (err != RMQ_OK)
            return bench_fail(l, "send_oneway", p);
        l->msgs++;
    }
    if (rmq_producer_flush(p, 30000) != RMQ_OK)
        return bench_fail(l, "flush", p);
    if (env->have_mock)
        bench_wait_stored(env, l->msgs);
    return 0;
}

/* -- the limit of a line --------------------------------------------------------- */
/* Limits are shared by lines whose frames differ by at most 1% (the async
 * windows send the same frames). */
static int bench_close(size_t a, size_t b)
{
    size_t d = a > b ? a - b : b - a;
    return d * 100 <= (a > b ? a : b);
}

static const bench_limit *bench_limit_for(bench_env *env, int pingpong, size_t req, size_t resp)
{
    bench_limit *l;
    int i;
    for (i = 0; i < env->nlimits; i++) {
        l = &env->limits[i];
        if (l->pingpong == pingpong && bench_close(l->req_len, req) && bench_close(l->resp_len, resp) &&
            (l->resp_len == 0) == (resp == 0))
            return l;
    }
    if (env->nlimits == BENCH_MAX_LIMITS || req < 8 || (pingpong && resp < 8))
        return NULL;
    l = &env->limits[env->nlimits++];
    memset(l, 0, sizeof *l);
    l->pingpong = pingpong;
    l->req_len = req;
    l->resp_len = resp;
    fprintf(stderr, "bench: limit %s %lu B / %lu B\n", pingpong ? "ping-pong" : "stream",
            (unsigned long)req, (unsigned long)resp);
    bench_limit_measure(l, env->dur_ns);
    return l;
}

static void bench_line_limit(bench_env *env, bench_line *l)
{
    uint64_t frames = l->msgs / (uint64_t)l->batch;
    size_t req, resp;
    if (!frames || l->failed)
        return;
    req = (size_t)((l->io.bytes_out + frames / 2) / frames);
    resp = l->kind == LINE_ONEWAY ? 0 : (size_t)((l->io.bytes_in + frames / 2) / frames);
    l->limit = bench_limit_for(env, l->kind == LINE_SYNC, req, resp);
}

/* -- one line --------------------------------------------------------------------- */
/* Sync sends for BENCH_WARMUP_MS: route, connection, and the instance's
 * first timers (route refresh at +10 ms, heartbeat at +1 s), which would
 * otherwise land in the measurement. */
static int bench_warm_up(rmq_producer *p, const char *topic, size_t body)
{
    rmq_message m;
    rmq_send_result res;
    uint64_t end = bench_ns() + BENCH_WARMUP_MS * 1000000u;
    bench_message(&m, topic, body);
    while (bench_ns() < end)
        if (rmq_send(p, &m, &res) != RMQ_OK)
            return -1;
    return 0;
}

/* Empties the mock's store. Freeing millions of stored messages leaves the
 * mock's allocator (glibc) a consolidation of its free lists to do at the
 * next large allocation: a 0.3 s stall. A batch (a large frame) takes it
 * outside the measurement, and a second CLEAR removes that batch. */
static void bench_clear_store(bench_env *env, rmq_producer *p)
{
    static rmq_message msgs[BENCH_MAX_BATCH];
    static rmq_send_result res[BENCH_MAX_BATCH];
    int i;
    if (!env->have_mock)
        return;
    mock_cmd(&env->mock, NULL, 0, "CLEAR");
    for (i = 0; i < BENCH_MAX_BATCH; i++)
        bench_message(&msgs[i], env->topic, 128);
    (void)rmq_send_batch(p, msgs, BENCH_MAX_BATCH, res);
    mock_cmd(&env->mock, NULL, 0, "CLEAR");
}

static void bench_measure(bench_env *env, bench_line *l, rmq_producer *p)
{
    uint64_t t0, cpu0, peer0 = 0, busy0;
    size_t peak = bench_mem.peak;
    bench_clear_store(env, p);
    bench_mem.peak = bench_mem.cur > peak ? bench_mem.cur : peak;   /* the clearing batch is not the line's */
    bench_io_reset();
    bench_mem.allocs = 0;
    t0 = bench_ns();
    cpu0 = bench_cpu_ns();
    busy0 = bench_machine_busy_ns();
    if (env->have_mock)
        peer0 = bench_proc_cpu_ns(env->mock.pid);
    if (l->kind == LINE_SYNC || l->kind == LINE_BATCH)
        bench_sync(l, p, env->topic, t0 + env->dur_ns);
    else if (l->kind == LINE_ONEWAY)
        bench_oneway(l, env, p, t0 + env->dur_ns);
    else
        bench_async_run(l, p, env->topic, t0 + env->dur_ns);
    l->wall_ns = bench_ns() - t0;
    l->cpu_ns = bench_cpu_ns() - cpu0;
    if (env->have_mock)
        l->peer_cpu_ns = bench_proc_cpu_ns(env->mock.pid) - peer0;
    {
        uint64_t busy = bench_machine_busy_ns() - busy0, ours = l->cpu_ns + l->peer_cpu_ns;
        l->other_cpu_ns = busy > ours ? busy - ours : 0;
    }
    l->io = bench_io_count;
    l->allocs = bench_mem.allocs;
    l->stored = env->have_mock ? mock_count(&env->mock, env->topic) : -1;
    if (l->stored >= 0 && (uint64_t)l->stored != l->msgs && !l->why[0])
        snprintf(l->why, sizeof l->why, "the mock stored %ld messages, %llu were acknowledged", l->stored,
                 (unsigned long long)l->msgs);
}

static void bench_run_line(bench_env *env, bench_line *l)
{
    char group[64];
    rmq_producer *p;
    fprintf(stderr, "bench: %s\n", l->label);
    snprintf(group, sizeof group, "bench_%s", l->key);
    bench_heap_reset();
    p = bench_producer(env, group, l->ser, l->linger_us, 1);
    if (!p) {
        bench_fail(l, "create/start", NULL);
        return;
    }
    if (bench_warm_up(p, env->topic, l->body) != 0) {
        bench_fail(l, "warm-up send", p);
    } else {
        bench_measure(env, l, p);
    }
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    l->heap_peak = bench_mem.peak;
    if (bench_mem.cur != 0 && !l->failed)
        snprintf(l->why, sizeof l->why, "%lu bytes still held after destroy", (unsigned long)bench_mem.cur);
    bench_line_limit(env, l);
}

/* -- start-up ------------------------------------------------------------------- */
/* create + start + the first acknowledged send, each time with a new client
 * instance: route query, two connects, heartbeat. */
static uint64_t bench_startup(bench_env *env, uint64_t *min_ns, uint64_t *max_ns)
{
    uint64_t t[BENCH_STARTUP_RUNS];
    int i, j, n = 0;
    for (i = 0; i < BENCH_STARTUP_RUNS; i++) {
        rmq_message m;
        rmq_send_result res;
        uint64_t t0 = bench_ns();
        rmq_producer *p = bench_producer(env, "bench_startup", RMQ_SERIALIZE_JSON, 0, 0);
        rmq_err err;
        if (!p)
            continue;
        bench_message(&m, env->topic, 128);
        err = rmq_send(p, &m, &res);
        if (err == RMQ_OK)
            t[n++] = bench_ns() - t0;
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
    }
    for (i = 1; i < n; i++)             /* insertion sort of a handful */
        for (j = i; j > 0 && t[j] < t[j - 1]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    *min_ns = n ? t[0] : 0;
    *max_ns = n ? t[n - 1] : 0;
    return n ? t[n / 2] : 0;
}

/* -- the report ------------------------------------------------------------------ */
static uint64_t bench_rate(const bench_line *l) { return bench_per_s(l->msgs, l->wall_ns); }

static uint64_t bench_limit_rate(const bench_line *l)
{
    if (!l->limit || l->limit->failed)
        return 0;
    return bench_per_s(l->limit->frames, l->limit->wall_ns) * (uint64_t)l->batch;
}

static unsigned bench_pct(uint64_t cpu_ns, uint64_t wall_ns)
{
    return wall_ns ? (unsigned)(cpu_ns * 100u / wall_ns) : 0;
}

/* Which side ran out of CPU: the mock (or broker), the client, both, or
 * neither (then round trips and wake-ups set the pace). */
static const char *bench_bound(const bench_env *env, const bench_line *l)
{
    int cli = bench_pct(l->cpu_ns, l->wall_ns) >= BENCH_CPU_BUSY_PCT;
    int mock = bench_pct(l->peer_cpu_ns, l->wall_ns) >= BENCH_CPU_BUSY_PCT;
    if (!env->have_mock)
        return cli ? "client CPU" : "n/a";
    if (mock && cli)
        return "both CPUs";
    if (mock)
        return "MOCK CPU";
    if (cli)
        return "client CPU";
    return "round trips";
}

static void bench_us(char *buf, uint32_t ns)
{
    bench_fix1(buf, ns);
}

static void bench_print_rates(const bench_env *env)
{
    size_t i;
    printf("\n%-30s %10s %8s %9s %9s %9s %12s %-9s %6s\n", "line", "msgs/s", "MB/s", "p50 us", "p99 us", "max us",
           "limit msg/s", "limit", "ratio");
    for (i = 0; i < BENCH_NLINES; i++) {
        const bench_line *l = &bench_lines[i];
        char mb[32], a[32], b[32], c[32], r[32];
        int lat = l->kind == LINE_SYNC || l->kind == LINE_BATCH;
        if (l->failed) {
            printf("%-30s FAILED: %s\n", l->label, l->why);
            continue;
        }
        bench_fix1(mb, bench_milli(l->msgs * l->body * 1000u, l->wall_ns) );
        bench_us(a, l->p50_ns);
        bench_us(b, l->p99_ns);
        bench_us(c, l->max_ns);
        printf("%-30s %10llu %8s %9s %9s %9s %12llu %-9s %6s\n", l->label, (unsigned long long)bench_rate(l), mb,
               lat ? a : "-", lat ? b : "-", lat ? c : "-", (unsigned long long)bench_limit_rate(l),
               !l->limit ? "-" : l->limit->pingpong ? "ping-pong" : "stream",
               bench_fix3(r, bench_milli(bench_rate(l), bench_limit_rate(l))));
    }
    (void)env;
}

static int bench_is_async(const bench_line *l)
{
    return l->kind == LINE_ASYNC || l->kind == LINE_BATCH_ASYNC || l->kind == LINE_ONEWAY;
}

/* Frames (requests) per write call, in thousandths. */
static uint64_t bench_frames_per_write(const bench_line *l)
{
    return bench_milli(l->msgs / (uint64_t)l->batch, l->io.sends);
}

static int bench_noisy(const bench_line *l)
{
    return bench_pct(l->other_cpu_ns, l->wall_ns) >= BENCH_NOISY_PCT;
}

static void bench_print_costs(const bench_env *env)
{
    size_t i;
    printf("\n%-30s %4s %5s %6s %7s %7s %7s %6s %6s %6s %6s %7s %9s %6s %6s  %s\n", "line (per message)", "cli%",
           "mock%", "other%", "cli ns", "mock ns", "wall ns", "send", "recv", "poll", "malloc", "fr/wr", "peak heap",
           "req B", "ans B", "bottleneck");
    for (i = 0; i < BENCH_NLINES; i++) {
        const bench_line *l = &bench_lines[i];
        char s[32], r[32], w[32], m[32], f[32], mock[16], mock_ns[24];
        if (l->failed || !l->msgs)
            continue;
        snprintf(mock, sizeof mock, "%u", bench_pct(l->peer_cpu_ns, l->wall_ns));
        snprintf(mock_ns, sizeof mock_ns, "%llu", (unsigned long long)(l->peer_cpu_ns / l->msgs));
        printf("%-30s %4u %5s %6u %7llu %7s %7llu %6s %6s %6s %6s %7s %9lu %6llu %6llu  %s%s%s\n", l->label,
               bench_pct(l->cpu_ns, l->wall_ns), env->have_mock ? mock : "-", bench_pct(l->other_cpu_ns, l->wall_ns),
               (unsigned long long)(l->cpu_ns / l->msgs), env->have_mock ? mock_ns : "-",
               (unsigned long long)(l->wall_ns / l->msgs), bench_fix3(s, bench_milli(l->io.sends, l->msgs)),
               bench_fix3(r, bench_milli(l->io.recvs, l->msgs)), bench_fix3(w, bench_milli(l->io.waits, l->msgs)),
               bench_fix3(m, bench_milli(l->allocs, l->msgs)),
               bench_is_async(l) ? bench_fix1(f, bench_frames_per_write(l)) : "-", (unsigned long)l->heap_peak,
               (unsigned long long)(l->io.bytes_out * (uint64_t)l->batch / l->msgs),
               (unsigned long long)(l->io.bytes_in * (uint64_t)l->batch / l->msgs), bench_bound(env, l),
               bench_noisy(l) ? " (NOISY: other load)" : "", l->why[0] ? " (see notes)" : "");
    }
    for (i = 0; i < BENCH_NLINES; i++)
        if (!bench_lines[i].failed && bench_lines[i].why[0])
            printf("note, %s: %s\n", bench_lines[i].label, bench_lines[i].why);
    printf("cli%%/mock%%/other%%: CPU of this process, of the mock, of everything else on the machine, in %% of one\n"
           "core over the line; ns: per message; send/recv/poll: port calls (each a system call) per message;\n"
           "malloc: RMQ_MALLOC calls per message; fr/wr: requests per write call (async lines);\n"
           "peak heap: bytes the producer held at most (its whole life);\n"
           "req B / ans B: bytes on the wire per frame, the sizes the limits below were measured with.\n"
           "A sync line has one request out at a time: its wall ns is cli ns + mock ns + wake-ups, so the\n"
           "larger of the two CPU figures is the larger share of each round trip.\n");
}

static void bench_print_limits(const bench_env *env)
{
    int i;
    printf("\n%-10s %7s %7s %12s %6s %6s\n", "limit", "req B", "ans B", "frames/s", "cli%", "peer%");
    for (i = 0; i < env->nlimits; i++) {
        const bench_limit *l = &env->limits[i];
        printf("%-10s %7lu %7lu %12llu %6u %6u%s\n", l->pingpong ? "ping-pong" : "stream", (unsigned long)l->req_len,
               (unsigned long)l->resp_len, (unsigned long long)bench_per_s(l->frames, l->wall_ns),
               bench_pct(l->cpu_ns, l->wall_ns), bench_pct(l->peer_cpu_ns, l->wall_ns), l->failed ? "  FAILED" : "");
    }
}

/* -- machine facts ----------------------------------------------------------------- */
static void bench_cpu_model(char *out, size_t cap)
{
    char line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, cap, "unknown");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon)
            continue;
        colon += 1 + (colon[1] == ' ');
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, cap, "%s", colon);
        break;
    }
    fclose(f);
}

/* -- JSON ------------------------------------------------------------------------ */
static void bench_key(char *buf, size_t cap, const char *prefix, const char *suffix)
{
    snprintf(buf, cap, "%s_%s", prefix, suffix);
}

static void bench_json_line(const bench_env *env, const bench_line *l)
{
    char k[96];
    const char *p = l->key;
    int lat = l->kind == LINE_SYNC || l->kind == LINE_BATCH;
    bench_key(k, sizeof k, p, "ok");
    bench_json_u64(k, !l->failed);
    if (l->failed || !l->msgs)
        return;
    bench_key(k, sizeof k, p, "msgs_per_s"); bench_json_u64(k, bench_rate(l));
    bench_key(k, sizeof k, p, "mb_per_s"); bench_json_milli(k, bench_milli(l->msgs * l->body * 1000u, l->wall_ns));
    if (lat) {
        bench_key(k, sizeof k, p, "p50_us"); bench_json_milli(k, l->p50_ns);
        bench_key(k, sizeof k, p, "p99_us"); bench_json_milli(k, l->p99_ns);
        bench_key(k, sizeof k, p, "max_us"); bench_json_milli(k, l->max_ns);
    }
    bench_key(k, sizeof k, p, "limit_msgs_per_s"); bench_json_u64(k, bench_limit_rate(l));
    bench_key(k, sizeof k, p, l->limit && l->limit->pingpong ? "vs_pingpong_ratio" : "vs_stream_ratio");
    bench_json_milli(k, bench_milli(bench_rate(l), bench_limit_rate(l)));
    bench_key(k, sizeof k, p, "client_cpu_pct"); bench_json_u64(k, bench_pct(l->cpu_ns, l->wall_ns));
    if (env->have_mock) {
        bench_key(k, sizeof k, p, "mock_cpu_pct"); bench_json_u64(k, bench_pct(l->peer_cpu_ns, l->wall_ns));
        bench_key(k, sizeof k, p, "mock_bound"); bench_json_u64(k, strcmp(bench_bound(env, l), "MOCK CPU") == 0);
        bench_key(k, sizeof k, p, "stored"); bench_json_u64(k, l->stored < 0 ? 0 : (uint64_t)l->stored);
    }
    bench_key(k, sizeof k, p, "other_cpu_pct"); bench_json_u64(k, bench_pct(l->other_cpu_ns, l->wall_ns));
    bench_key(k, sizeof k, p, "failed_sends"); bench_json_u64(k, l->cb_failed);
    bench_key(k, sizeof k, p, "cpu_ns_per_msg"); bench_json_u64(k, l->cpu_ns / l->msgs);
    if (env->have_mock) {
        bench_key(k, sizeof k, p, "mock_cpu_ns_per_msg"); bench_json_u64(k, l->peer_cpu_ns / l->msgs);
    }
    bench_key(k, sizeof k, p, "sends_per_msg"); bench_json_milli(k, bench_milli(l->io.sends, l->msgs));
    bench_key(k, sizeof k, p, "recvs_per_msg"); bench_json_milli(k, bench_milli(l->io.recvs, l->msgs));
    bench_key(k, sizeof k, p, "polls_per_msg"); bench_json_milli(k, bench_milli(l->io.waits, l->msgs));
    bench_key(k, sizeof k, p, "mallocs_per_msg"); bench_json_milli(k, bench_milli(l->allocs, l->msgs));
    if (bench_is_async(l)) {
        bench_key(k, sizeof k, p, "frames_per_write"); bench_json_milli(k, bench_frames_per_write(l));
    }
    bench_key(k, sizeof k, p, "peak_heap_bytes"); bench_json_u64(k, l->heap_peak);
    bench_key(k, sizeof k, p, "req_frame_bytes"); bench_json_u64(k, l->io.bytes_out * (uint64_t)l->batch / l->msgs);
    bench_key(k, sizeof k, p, "ans_frame_bytes"); bench_json_u64(k, l->io.bytes_in * (uint64_t)l->batch / l->msgs);
}

static const bench_line *bench_find(const char *key)
{
    size_t i;
    for (i = 0; i < BENCH_NLINES; i++)
        if (strcmp(bench_lines[i].key, key) == 0)
            return &bench_lines[i];
    return NULL;
}

/* Binary against JSON headers, same load: rate and CPU per message. */
static void bench_compare(const char *json_key, const char *bin_key)
{
    const bench_line *j = bench_find(json_key), *b = bench_find(bin_key);
    char k[96], x[32], y[32];
    if (!j || !b || j->failed || b->failed || !j->msgs || !b->msgs)
        return;
    bench_key(k, sizeof k, bin_key, "vs_json_ratio");
    bench_json_milli(k, bench_milli(bench_rate(b), bench_rate(j)));
    bench_key(k, sizeof k, bin_key, "vs_json_cpu_ratio");
    bench_json_milli(k, bench_milli(b->cpu_ns / b->msgs, j->cpu_ns / j->msgs));
    printf("%-24s binary/JSON: rate x%s, client CPU per message x%s\n", j->label,
           bench_fix3(x, bench_milli(bench_rate(b), bench_rate(j))),
           bench_fix3(y, bench_milli(b->cpu_ns / b->msgs, j->cpu_ns / j->msgs)));
}

/* The linger against none, same load: frames per write and CPU per message. */
static void bench_compare_linger(const char *off_key, const char *on_key)
{
    const bench_line *off = bench_find(off_key), *on = bench_find(on_key);
    char k[96], x[32], y[32], z[32];
    if (!off || !on || off->failed || on->failed || !off->msgs || !on->msgs)
        return;
    bench_key(k, sizeof k, on_key, "vs_off_cpu_ratio");
    bench_json_milli(k, bench_milli(on->cpu_ns / on->msgs, off->cpu_ns / off->msgs));
    printf("%-24s linger/none: frames per write %s (none: %s), client CPU per message x%s\n", off->label,
           bench_fix1(x, bench_frames_per_write(on)), bench_fix1(z, bench_frames_per_write(off)),
           bench_fix3(y, bench_milli(on->cpu_ns / on->msgs, off->cpu_ns / off->msgs)));
}

/* -- main --------------------------------------------------------------------------- */
static int bench_env_init(bench_env *env)
{
    const char *secs = getenv("BENCH_SECONDS");
    const char *ns = getenv("NAMESRV_ADDR");
    long s = secs && *secs ? strtol(secs, NULL, 10) : 3;
    memset(env, 0, sizeof *env);
    bench_pin_plan();
    bench_pin(0);
    env->dur_ns = (uint64_t)(s > 0 ? s : 3) * 1000000000u;
    env->topic = getenv("BENCH_TOPIC") && *getenv("BENCH_TOPIC") ? getenv("BENCH_TOPIC") : "BenchTopic";
    if (ns && *ns) {
        env->namesrv = ns;
        return 0;
    }
    {
        char args[256];
        snprintf(args, sizeof args, "--brokers 1 --queues 4 --topic %s --no-request-log --quiet", env->topic);
        bench_pin(1);                   /* the mock inherits the peer's CPU */
        if (mock_start(&env->mock, args) != 0)
            return -1;
        bench_pin(0);
    }
    env->have_mock = 1;
    env->namesrv = env->mock.namesrv;
    return 0;
}

/* The lines whose bottleneck was the mock, and those other load spoiled,
 * said in words; returns the two counts. */
static void bench_verdicts(const bench_env *env, int *mock_bound, int *noisy)
{
    size_t i;
    *mock_bound = *noisy = 0;
    for (i = 0; i < BENCH_NLINES; i++) {
        const bench_line *l = &bench_lines[i];
        if (l->failed || !l->msgs)
            continue;
        if (bench_noisy(l))
            (*noisy)++;
        if (!env->have_mock || strcmp(bench_bound(env, l), "MOCK CPU") != 0)
            continue;
        if (!*mock_bound)
            printf("\nTHE MOCK IS THE BOTTLENECK (its process near 100%% of a core, the client's not) on:");
        printf("%s %s", *mock_bound ? "," : "", l->label);
        (*mock_bound)++;
    }
    if (*mock_bound)
        printf("\n");
    if (*noisy)
        printf("\nWARNING: on %d line(s) other processes used more than %d%% of a core: those figures are unreliable\n",
               *noisy, BENCH_NOISY_PCT);
}

static void bench_json_limits(const bench_env *env)
{
    int i;
    for (i = 0; i < env->nlimits; i++) {
        const bench_limit *l = &env->limits[i];
        char k[96], pre[64];
        snprintf(pre, sizeof pre, "limit_%s_%lu_%lu", l->pingpong ? "pingpong" : "stream", (unsigned long)l->req_len,
                 (unsigned long)l->resp_len);
        bench_key(k, sizeof k, pre, "frames_per_s");
        bench_json_u64(k, l->failed ? 0 : bench_per_s(l->frames, l->wall_ns));
        bench_key(k, sizeof k, pre, "client_cpu_pct");
        bench_json_u64(k, bench_pct(l->cpu_ns, l->wall_ns));
        bench_key(k, sizeof k, pre, "responder_cpu_pct");
        bench_json_u64(k, bench_pct(l->peer_cpu_ns, l->wall_ns));
    }
}

static void bench_print_machine(const bench_env *env)
{
    char model[256];
    struct utsname u;
    bench_cpu_model(model, sizeof model);
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "?");
    printf("\nrocketmq_producer.h %s bench: %ld CPUs (%s), Linux %s, %s, %llu s per line\n", rmq_version(),
           sysconf(_SC_NPROCESSORS_ONLN), model, u.release,
           env->have_mock ? "mock cluster on loopback (1 broker, 4 queues)" : env->namesrv,
           (unsigned long long)(env->dur_ns / 1000000000u));
    if (bench_cpu_client >= 0)
        printf("client pinned to CPU %d, %s to CPU %d (BENCH_PIN=0: no pinning)\n", bench_cpu_client,
               env->have_mock ? "mock and limit responders" : "limit responders", bench_cpu_peer);
    bench_json_str("machine_cpu_model", model);
    bench_json_u64("machine_nproc", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
    bench_json_str("target", env->have_mock ? "mock" : "cluster");
    bench_json_u64("seconds_per_line", env->dur_ns / 1000000000u);
}

typedef struct bench_startup_ms {
    uint64_t med_ns, min_ns, max_ns;
} bench_startup_ms;

static void bench_report(const bench_env *env, const bench_startup_ms *st)
{
    char a[32], b[32], c[32];
    uint64_t cpu = 0, msgs = 0;
    size_t i, peak = 0;
    int mock_bound, noisy;
    bench_print_machine(env);
    bench_print_rates(env);
    bench_print_costs(env);
    bench_print_limits(env);
    printf("\nstart-up (create + start + first acknowledged send), median of %d: %s ms (min %s, max %s)\n",
           BENCH_STARTUP_RUNS, bench_fix3(a, st->med_ns / 1000u), bench_fix3(b, st->min_ns / 1000u),
           bench_fix3(c, st->max_ns / 1000u));
    for (i = 0; i < BENCH_NLINES; i++) {
        bench_json_line(env, &bench_lines[i]);
        peak = bench_lines[i].heap_peak > peak ? bench_lines[i].heap_peak : peak;
        cpu += bench_lines[i].cpu_ns;
        msgs += bench_lines[i].msgs;
    }
    bench_verdicts(env, &mock_bound, &noisy);
    printf("\nclient CPU over all lines: %llu ns per message; largest producer heap peak: %lu bytes\n",
           (unsigned long long)(msgs ? cpu / msgs : 0), (unsigned long)peak);
    bench_compare("sync_128", "sync_128_bin");
    bench_compare("async_w256", "async_w256_bin");
    bench_compare_linger("async_w256", "async_w256_linger");
    bench_json_milli("startup_ms_median", st->med_ns / 1000u);
    bench_json_milli("startup_ms_min", st->min_ns / 1000u);
    bench_json_milli("startup_ms_max", st->max_ns / 1000u);
    bench_json_u64("client_cpu_ns_per_msg", msgs ? cpu / msgs : 0);
    bench_json_u64("peak_heap_bytes", peak);
    bench_json_u64("mock_bound_lines", (uint64_t)mock_bound);
    bench_json_u64("noisy_lines", (uint64_t)noisy);
    bench_json_limits(env);
    printf("\n");
    bench_json_print();
}

int main(void)
{
    bench_env env;
    bench_startup_ms st;
    size_t i;
    memset(bench_body, 'b', sizeof bench_body);
    bench_lines_init();
    if (bench_env_init(&env) != 0) {
        fprintf(stderr, "bench: the mock cluster did not start\n");
        return 1;
    }
    for (i = 0; i < BENCH_NLINES; i++)
        bench_run_line(&env, &bench_lines[i]);
    fprintf(stderr, "bench: start-up\n");
    st.med_ns = bench_startup(&env, &st.min_ns, &st.max_ns);
    bench_report(&env, &st);
    if (env.have_mock)
        mock_stop(&env.mock);
    return 0;
}
