/* soak.c - a long run of async sends against the mock cluster while its
 * brokers restart one at a time, with every message accounted for.
 *
 *     make soak          SOAK_MESSAGES (1000000) sends, a broker restarted
 *                        every SOAK_RESTART_EVERY (100000) of them
 *     make soak-short    100000 sends, a restart every 20000 and a progress
 *                        line every 10000 (for CI)
 *
 * Knobs (environment): SOAK_MESSAGES, SOAK_RESTART_EVERY, SOAK_REPORT_EVERY
 * (a progress line, 100000), SOAK_DOWN_MS (how long a broker stays down,
 * 300). The mock binary is $MOCKBROKER, else tests/mockbroker/mockbroker.
 *
 * Shape of the run. 256 sends are kept in flight with rmq_send_async() and
 * rmq_producer_poll(). Message i carries "s<i>" in its keys, so the store can
 * be matched against the callbacks without keeping the UNIQ_KEYs; its topic
 * is SoakB<block>, one per 100000 messages, so that each DUMP stays small.
 * One broker (a, b, a, ...) goes DOWN every SOAK_RESTART_EVERY messages,
 * the first halfway through the first period, with sends in flight on it,
 * and comes UP SOAK_DOWN_MS later; the other one stays up (and usable: see
 * "broker restarts"), so every send can succeed on a retry. At each
 * progress line the window drains once, so the heap can be read with the
 * producer idle.
 *
 * Every message ends in one of these, and the checks say which are allowed:
 * refused by rmq_send_async (counted with its reason); one callback, OK or
 * failed (failures grouped by reason); a callback never or twice (a bug). In
 * the store a message may have no copy (only if it failed), one, or several
 * (a retry after the answer was lost: counted, not hidden). The last line is
 * "N passed, N failed"; the exit status is non-zero on any failure. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* -- the producer's heap, counted through RMQ_MALLOC / RMQ_FREE ----------- */
/* RMQ_FREE is not told the size, so every block starts with it; 16 bytes
 * keep the caller's pointer aligned as malloc's own. */
#define SOAK_HEAP_HDR 16u

static struct {
    size_t cur;          /* bytes the library holds now, headers excluded */
    size_t peak;         /* the most it ever held */
} soak_heap;

static void *soak_malloc(size_t n)
{
    unsigned char *b = (unsigned char *)malloc(n + SOAK_HEAP_HDR);
    if (!b) return NULL;
    memcpy(b, &n, sizeof n);
    soak_heap.cur += n;
    if (soak_heap.cur > soak_heap.peak) soak_heap.peak = soak_heap.cur;
    return b + SOAK_HEAP_HDR;
}

static void soak_free(void *p)
{
    unsigned char *b;
    size_t n;
    if (!p) return;
    b = (unsigned char *)p - SOAK_HEAP_HDR;
    memcpy(&n, b, sizeof n);
    soak_heap.cur -= n;
    free(b);
}

#define RMQ_MALLOC(ctx, n) ((void)(ctx), soak_malloc(n))
#define RMQ_FREE(ctx, p) ((void)(ctx), soak_free(p))

#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "json_tokens.h"
#include "mockbroker/mock_client.h"

/* -- bounds ---------------------------------------------------------------- */
#define SOAK_WINDOW 256              /* sends in flight */
#define SOAK_BODY_BYTES 128
#define SOAK_QUEUES 4                /* per topic and broker */
#define SOAK_BLOCK 100000u           /* messages per topic (one DUMP each) */
#define SOAK_MAX_BLOCKS 48           /* topics; RMQ_MAX_TOPICS is 64 */
#define SOAK_MAX_REASONS 32
#define SOAK_STALL_MS 30000L         /* no callback for this long: give up */
#define SOAK_DRAIN_MS 30000L
#define SOAK_EXAMPLES 5              /* message numbers shown per problem */

/* "Heap flat": the producer's heap, read with nothing pending and nothing
 * in flight at every progress line, stays within a band of
 * SOAK_HEAP_BAND_BYTES (lowest to highest reading, the end included). The
 * readings share routes (every topic is resolved before the first send),
 * the connection table and the timer heap; what may legitimately differ is
 * each broker connection's read buffer, which an idle connection keeps at 1,
 * 2 or 4 RMQ_READ_CHUNK_BYTES (it grows by doubling when a frame straddles
 * a read and shrinks only above 4 chunks). Two brokers: 2 x 3 chunks. A
 * leak of a byte per message leaves the band in both runs (90 KiB over the
 * 90000 messages soak-short has between its first and last line); one per
 * restart must add up to more than the band; memory kept until destroy is
 * caught by the last check instead. */
#define SOAK_HEAP_BAND_BYTES (2u * 3u * RMQ_READ_CHUNK_BYTES)

/* "RSS flat": the resident set, read the same way (idle, before the store
 * is read back), grows by at most this from the first progress line to the
 * end. The per-message table is made resident before the first send; what
 * remains is malloc's free lists and the port's own (uncounted) allocations.
 * A byte per message over a million messages is twice the bound. */
#define SOAK_RSS_SLACK_BYTES (512u * 1024u)

/* A message is stored twice when its broker stored it and went down before
 * the answer arrived: the retry stores it again. Such a message was in
 * flight at a DOWN, so it was sent shortly before one: within this many
 * messages (the window, with room for sends that were outstanding longer
 * than the ones after them). */
#define SOAK_DUP_REACH (4 * SOAK_WINDOW)

/* One byte of state per message. A message below S.sent without
 * SOAK_ACCEPTED was refused by rmq_send_async. */
#define SOAK_CALLS 0x03u             /* callbacks, saturating at 3 */
#define SOAK_OK 0x04u                /* a callback said RMQ_OK */
#define SOAK_ACCEPTED 0x08u          /* rmq_send_async returned RMQ_OK */
#define SOAK_ON_NAMED 0x10u          /* a copy is on the broker the OK result named */
#define SOAK_COPY_SHIFT 5
#define SOAK_COPIES 0x60u            /* copies in the store, saturating at 3 */
#define SOAK_NAMED_B 0x80u           /* the OK result named the second broker */

typedef struct soak_config {
    uint32_t messages, restart_every, report_every, down_ms;
} soak_config;

/* Failures with the same error, broker code and reason (digits folded). */
typedef struct soak_reason {
    rmq_err err;
    int broker_code;
    char text[256];
    uint32_t count;
    uint32_t first_seq;
} soak_reason;

typedef struct soak_reading {
    size_t heap, heap_idle;
    size_t rss;
    rmq_stats stats;
} soak_reading;

static struct {
    soak_config cfg;
    mock_cluster mock;
    rmq_producer *p;
    uint8_t *state;
    uint32_t block, nblocks;
    char topics[SOAK_MAX_BLOCKS][16];
    uint32_t sent, done, ok, failed, refused;
    uint32_t next_report, next_down;
    int down;                        /* index of the broker that is down, or -1 */
    long down_at, up_at;
    uint32_t restarts;
    uint32_t *down_pos;              /* S.sent at each DOWN */
    uint32_t max_restarts;
    uint32_t conns_before_down;      /* the producer's connections before the last DOWN */
    uint64_t deferred;               /* messages restarts waited for the previous broker */
    uint32_t bad_results, bad_result_seq;
    char bad_result_why[256];
    long t0, t_report;
    uint32_t done_at_report;
    soak_reason reasons[SOAK_MAX_REASONS];
    int nreasons;
    soak_reading first, last;
    size_t heap_idle_min, heap_idle_max;
    int have_first, drained;
    int passed, failures;
} S;

static size_t soak_rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* -- configuration --------------------------------------------------------- */
static uint32_t soak_env(const char *name, uint32_t def)
{
    const char *v = getenv(name);
    char *end;
    unsigned long n;
    if (!v || !*v) return def;
    errno = 0;
    n = strtoul(v, &end, 10);
    if (errno || *end || n == 0 || n > 0xFFFFFFFEul) {
        fprintf(stderr, "soak: %s=%s is not a positive number; using %lu\n", name, v, (unsigned long)def);
        return def;
    }
    return (uint32_t)n;
}

static void soak_configure(void)
{
    uint32_t b;
    S.cfg.messages = soak_env("SOAK_MESSAGES", 1000000u);
    S.cfg.restart_every = soak_env("SOAK_RESTART_EVERY", 100000u);
    S.cfg.report_every = soak_env("SOAK_REPORT_EVERY", 100000u);
    S.cfg.down_ms = soak_env("SOAK_DOWN_MS", 300u);
    S.block = SOAK_BLOCK;
    if ((S.cfg.messages - 1) / S.block + 1 > SOAK_MAX_BLOCKS)
        S.block = (S.cfg.messages - 1) / SOAK_MAX_BLOCKS + 1;
    S.nblocks = (S.cfg.messages - 1) / S.block + 1;
    for (b = 0; b < S.nblocks; b++) snprintf(S.topics[b], sizeof S.topics[b], "SoakB%03u", (unsigned)b);
    S.down = -1;
    S.next_report = S.cfg.report_every < S.cfg.messages ? S.cfg.report_every : S.cfg.messages;
}

/* -- the cluster and the producer ----------------------------------------- */
static int soak_create_topics(void)
{
    uint32_t b;
    for (b = 0; b < S.nblocks; b++)
        if (mock_cmd(&S.mock, NULL, 0, "TOPIC * %s", S.topics[b]) != 0) return -1;
    return 0;
}

/* Every topic's route is resolved before the first send, so that the heap
 * readings compare the same working set. */
static int soak_resolve_routes(void)
{
    rmq_queue qs[16];
    size_t n;
    uint32_t b;
    for (b = 0; b < S.nblocks; b++) {
        if (rmq_fetch_publish_queues(S.p, S.topics[b], qs, 16, &n) != RMQ_OK || n == 0) {
            fprintf(stderr, "soak: no route for %s: %s\n", S.topics[b], rmq_producer_last_error(S.p));
            return -1;
        }
    }
    return 0;
}

/* The per-message table, made resident now: pages the callbacks touched
 * one by one would read as RSS growth. A compiler may turn malloc + memset
 * into calloc, whose pages stay untouched, so each page is written through
 * a volatile pointer. */
static int soak_alloc_state(void)
{
    volatile uint8_t *v;
    size_t i, page = (size_t)sysconf(_SC_PAGESIZE);
    S.state = (uint8_t *)calloc(S.cfg.messages, 1);
    S.max_restarts = S.cfg.messages / S.cfg.restart_every + 2;
    S.down_pos = (uint32_t *)calloc(S.max_restarts, sizeof *S.down_pos);
    if (!S.state || !S.down_pos) return -1;
    v = S.state;
    for (i = 0; i < S.cfg.messages; i += page) v[i] = 0;
    return 0;
}

static int soak_setup(void)
{
    rmq_producer_config cfg;
    char args[96];
    snprintf(args, sizeof args, "--brokers 2 --queues %d --no-request-log --quiet", SOAK_QUEUES);
    if (mock_start(&S.mock, args) != 0) return -1;
    if (soak_create_topics() != 0) return -1;
    rmq_producer_config_init(&cfg);
    cfg.group = "soak";
    cfg.namesrv_addr = S.mock.namesrv;
    cfg.port = rmq_port_posix();
    if (rmq_producer_create(&cfg, &S.p) != RMQ_OK) return -1;
    if (rmq_producer_start(S.p) != RMQ_OK) {
        fprintf(stderr, "soak: start: %s\n", rmq_producer_last_error(S.p));
        return -1;
    }
    if (soak_alloc_state() != 0) return -1;
    return soak_resolve_routes();
}

/* -- failures, grouped ----------------------------------------------------- */
/* Digits vary from failure to failure (ports, opaques, milliseconds); one
 * '#' stands for a run of them, so that the same cause lands in one group. */
static void soak_fold_digits(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        if (*in >= '0' && *in <= '9') {
            if (n && out[n - 1] == '#') continue;
            out[n++] = '#';
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
}

static void soak_note_failure(rmq_err err, int broker_code, const char *why, uint32_t seq)
{
    char text[sizeof S.reasons[0].text];
    int i;
    soak_fold_digits(why && *why ? why : "(no reason given)", text, sizeof text);
    for (i = 0; i < S.nreasons; i++) {
        soak_reason *r = &S.reasons[i];
        if (r->err == err && r->broker_code == broker_code && strcmp(r->text, text) == 0) {
            r->count++;
            return;
        }
    }
    if (S.nreasons == SOAK_MAX_REASONS) {           /* the last slot takes the rest */
        S.reasons[SOAK_MAX_REASONS - 1].count++;
        snprintf(S.reasons[SOAK_MAX_REASONS - 1].text, sizeof text, "(other reasons)");
        return;
    }
    S.reasons[S.nreasons].err = err;
    S.reasons[S.nreasons].broker_code = broker_code;
    memcpy(S.reasons[S.nreasons].text, text, sizeof text);
    S.reasons[S.nreasons].count = 1;
    S.reasons[S.nreasons].first_seq = seq;
    S.nreasons++;
}

/* -- sending ---------------------------------------------------------------- */
/* An OK result names the message's topic, one of the two brokers, a
 * queue of it and both ids; the broker is kept to be found in the store. */
static void soak_check_result(uint32_t seq, const rmq_send_result *res)
{
    const char *why = NULL;
    if (strcmp(res->queue.broker_name, S.mock.broker_name[1]) == 0) S.state[seq] |= SOAK_NAMED_B;
    else if (strcmp(res->queue.broker_name, S.mock.broker_name[0]) != 0) why = "an unknown broker";
    if (strcmp(res->queue.topic, S.topics[seq / S.block]) != 0) why = "another topic";
    if (res->queue.queue_id < 0 || res->queue.queue_id >= SOAK_QUEUES) why = "a queue id out of range";
    if (!res->msg_id[0] || !res->offset_msg_id[0]) why = "no message id";
    if (!why) return;
    if (!S.bad_results++) {
        S.bad_result_seq = seq;
        snprintf(S.bad_result_why, sizeof S.bad_result_why, "%s (%s/%s/%d)", why, res->queue.topic,
                 res->queue.broker_name, res->queue.queue_id);
    }
}

static void soak_on_send(rmq_err err, const rmq_send_result *res, void *user)
{
    uint32_t seq = (uint32_t)(uintptr_t)user;
    uint8_t *s = &S.state[seq];
    char why[RMQ_REASON_MAX_LEN + 1];
    if ((*s & SOAK_CALLS) != SOAK_CALLS) (*s)++;
    S.done++;
    if (err == RMQ_OK) {
        *s |= SOAK_OK;
        S.ok++;
        soak_check_result(seq, res);
        return;
    }
    S.failed++;
    soak_note_failure(err, res ? res->broker_code : 0, res ? rmq_result_reason(res, why, sizeof why) : NULL, seq);
}

/* Sends message S.sent. Returns 0 when it was taken (accepted or refused
 * for good), -1 on back-pressure (poll, then try again). */
static int soak_send_next(void)
{
    static char body[SOAK_BODY_BYTES];
    char keys[16];
    uint32_t seq = S.sent;
    rmq_message m;
    rmq_err err;
    int n;
    n = snprintf(body, sizeof body, "soak message %u ", (unsigned)seq);
    memset(body + n, 'x', sizeof body - (size_t)n);
    snprintf(keys, sizeof keys, "s%u", (unsigned)seq);
    rmq_message_init(&m, S.topics[seq / S.block], body, sizeof body);
    m.keys = keys;
    m.tags = "soak";
    err = rmq_send_async(S.p, &m, soak_on_send, (void *)(uintptr_t)seq);
    if (err == RMQ_ERR_BUSY) return -1;
    if (err == RMQ_OK) {
        S.state[seq] |= SOAK_ACCEPTED;
    } else {
        S.refused++;
        soak_note_failure(err, 0, rmq_producer_last_error(S.p), seq);
    }
    S.sent++;
    return 0;
}

/* -- broker restarts -------------------------------------------------------- */
/* A broker goes down when its turn has come, once it has sends in flight
 * on it (half the window or more, which a drain at a progress line
 * does not leave) and once the broker restarted before is usable again. A
 * refused connect keeps the client off an address for RMQ_CONNECT_BACKOFF_MS,
 * which may end up to that long after the UP; taking the other broker down
 * before then leaves no broker to retry on, and every send fails at once,
 * which is not the scenario (one broker restarting at a time). Usable again:
 * the producer holds as many connections as before that DOWN, or
 * SOAK_RECOVER_MS passed since the UP. */
#define SOAK_RECOVER_MS ((long)RMQ_CONNECT_BACKOFF_MS + 200L)

/* The first DOWN halfway through the first period, each next one a period
 * after the one before. */
static void soak_plan_down(uint32_t from)
{
    uint64_t at = (uint64_t)from + (S.restarts ? S.cfg.restart_every : S.cfg.restart_every / 2);
    S.next_down = at < S.cfg.messages ? (uint32_t)at : 0xFFFFFFFFu;
}

static void soak_broker_up(void)
{
    if (mock_cmd(&S.mock, NULL, 0, "UP %s", S.mock.broker_name[S.down]) != 0)
        fprintf(stderr, "soak: UP %s failed\n", S.mock.broker_name[S.down]);
    S.down = -1;
    S.up_at = mock_now_ms();
}

static void soak_broker_down(void)
{
    rmq_stats st;
    rmq_producer_stats(S.p, &st);
    S.conns_before_down = st.connections;
    S.down = (int)(S.restarts % 2u);
    if (mock_cmd(&S.mock, NULL, 0, "DOWN %s", S.mock.broker_name[S.down]) != 0)
        fprintf(stderr, "soak: DOWN %s failed\n", S.mock.broker_name[S.down]);
    S.down_at = mock_now_ms();
    S.deferred += S.sent - S.next_down;
    if (S.restarts < S.max_restarts) S.down_pos[S.restarts] = S.sent;
    S.restarts++;
    soak_plan_down(S.sent);
}

static int soak_recovered(void)
{
    rmq_stats st;
    if (S.restarts == 0 || mock_now_ms() - S.up_at >= SOAK_RECOVER_MS) return 1;
    rmq_producer_stats(S.p, &st);
    return st.connections >= S.conns_before_down;
}

static void soak_broker_tick(void)
{
    if (S.down >= 0 && mock_now_ms() - S.down_at >= (long)S.cfg.down_ms) soak_broker_up();
    if (S.down < 0 && S.sent >= S.next_down && S.sent - S.done >= SOAK_WINDOW / 2 && soak_recovered())
        soak_broker_down();
}

/* -- progress --------------------------------------------------------------- */
/* Runs the loop until nothing is pending or in flight and no broker is
 * down. 0 when idle. */
static int soak_drain(void)
{
    long deadline = mock_now_ms() + SOAK_DRAIN_MS;
    rmq_stats st;
    while (mock_now_ms() < deadline) {
        soak_broker_tick();
        rmq_producer_stats(S.p, &st);
        if (S.down < 0 && st.pending_sends == 0 && st.inflight_requests == 0) return 0;
        rmq_producer_poll(S.p, 10);
    }
    return -1;
}

static void soak_report(void)
{
    soak_reading r;
    long now = mock_now_ms(), dt;
    rmq_producer_stats(S.p, &r.stats);
    r.heap = soak_heap.cur;
    S.drained = soak_drain() == 0;
    r.heap_idle = soak_heap.cur;
    r.rss = soak_rss_bytes();
    dt = now - S.t_report;
    printf("%8u done: %8u ok, %5u failed, %6lu msgs/s, heap %7lu B now / %7lu idle / %7lu peak, "
           "RSS %6lu KiB, pending %3u, inflight %3u, reconnects %u%s\n",
           (unsigned)S.sent, (unsigned)S.ok, (unsigned)(S.failed + S.refused),
           dt > 0 ? (unsigned long)((uint64_t)(S.done - S.done_at_report) * 1000u / (uint64_t)dt) : 0ul,
           (unsigned long)r.heap, (unsigned long)r.heap_idle, (unsigned long)soak_heap.peak,
           (unsigned long)(r.rss / 1024u), (unsigned)r.stats.pending_sends, (unsigned)r.stats.inflight_requests,
           (unsigned)r.stats.reconnects, S.drained ? "" : " (did not drain)");
    fflush(stdout);
    if (!S.have_first) {
        S.first = r;
        S.heap_idle_min = S.heap_idle_max = r.heap_idle;
        S.have_first = 1;
    }
    if (r.heap_idle < S.heap_idle_min) S.heap_idle_min = r.heap_idle;
    if (r.heap_idle > S.heap_idle_max) S.heap_idle_max = r.heap_idle;
    S.last = r;
    S.t_report = mock_now_ms();          /* the drain is not part of the rate */
    S.done_at_report = S.done;
}

/* -- the run ---------------------------------------------------------------- */
static void soak_run(void)
{
    long last_progress = mock_now_ms();
    uint32_t last_done = 0;
    S.t0 = S.t_report = mock_now_ms();
    soak_plan_down(0);
    for (;;) {
        soak_broker_tick();
        if (S.sent == S.next_report) {
            soak_report();
            if (S.sent == S.cfg.messages) return;
            S.next_report += S.cfg.report_every;
            if (S.next_report > S.cfg.messages) S.next_report = S.cfg.messages;
        }
        if ((int64_t)S.sent - (int64_t)S.done < SOAK_WINDOW && soak_send_next() == 0) continue;
        rmq_producer_poll(S.p, 10);
        if (S.done != last_done) {
            last_done = S.done;
            last_progress = mock_now_ms();
        } else if (mock_now_ms() - last_progress > SOAK_STALL_MS) {
            printf("soak: no callback for %ld ms with %u sends outstanding; stopping at %u\n",
                   SOAK_STALL_MS, (unsigned)(S.sent - S.done), (unsigned)S.sent);
            fflush(stdout);
            return;
        }
    }
}

/* -- reading the store back ------------------------------------------------- */
typedef struct soak_reader {
    int fd;
    char *buf;
    size_t len, cap, start;
} soak_reader;

/* The next line of a control reply, NUL-terminated in place. */
static int soak_read_line(soak_reader *r, char **line)
{
    for (;;) {
        char *nl = (char *)memchr(r->buf + r->start, '\n', r->len - r->start);
        struct pollfd pf;
        ssize_t n;
        if (nl) {
            *nl = '\0';
            *line = r->buf + r->start;
            r->start = (size_t)(nl - r->buf) + 1;
            return 0;
        }
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->start = 0;
        if (r->len == r->cap) return -1;            /* a line longer than the buffer */
        pf.fd = r->fd;
        pf.events = POLLIN;
        if (poll(&pf, 1, 60000) <= 0) return -1;
        n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n <= 0) return -1;
        r->len += (size_t)n;
    }
}

typedef struct soak_store {
    uint64_t lines;          /* DUMP lines read */
    uint64_t stray;          /* lines that are no message sent to that topic */
    uint64_t count;          /* the sum of COUNT over the topics */
    uint32_t stray_example;
    int unreadable;          /* a DUMP or COUNT failed */
} soak_store;

/* The message number a DUMP line of block b carries, or -1 when it is no
 * message this run sent to that topic. *on_b: stored on the second broker.
 * The line is read with the tests' JSON tokenizer: top-level fields
 * only, so a property named like a field is never taken for it. */
static long soak_store_seq(char *line, uint32_t b, int *on_b)
{
    static rmq__jtok tok[256];
    rmq__json j;
    char keys[32], topic[32], broker[32], *end;
    unsigned long seq;
    j.tok = tok;
    j.cap = (int)(sizeof tok / sizeof tok[0]);
    j.n = 0;
    if (rmq__json_parse(&j, line, strlen(line)) < 1 ||
        rmq__json_copy(&j, line, rmq__json_get(&j, line, 0, "keys"), keys, sizeof keys) != 0 || keys[0] != 's' ||
        rmq__json_copy(&j, line, rmq__json_get(&j, line, 0, "topic"), topic, sizeof topic) != 0 ||
        rmq__json_copy(&j, line, rmq__json_get(&j, line, 0, "broker"), broker, sizeof broker) != 0)
        return -1;
    seq = strtoul(keys + 1, &end, 10);
    if (*end || seq >= S.sent || seq / S.block != b || strcmp(topic, S.topics[b]) != 0) return -1;
    *on_b = strcmp(broker, S.mock.broker_name[1]) == 0;
    return (long)seq;
}

/* One stored copy of a message, from its DUMP line. */
static void soak_store_line(soak_store *st, uint32_t b, char *line)
{
    int on_b = 0;
    long seq = soak_store_seq(line, b, &on_b);
    uint8_t *s;
    st->lines++;
    if (seq < 0) {
        st->stray++;
        return;
    }
    s = &S.state[seq];
    if ((*s & SOAK_COPIES) != SOAK_COPIES) *s = (uint8_t)(*s + (1u << SOAK_COPY_SHIFT));
    if ((*s & SOAK_OK) && !(*s & SOAK_NAMED_B) == !on_b) *s |= SOAK_ON_NAMED;
}

static int soak_read_block(soak_reader *r, soak_store *st, uint32_t b)
{
    char cmd[64], *line;
    int n = snprintf(cmd, sizeof cmd, "DUMP %s\n", S.topics[b]);
    long count = mock_count(&S.mock, S.topics[b]);
    if (count < 0) return -1;
    st->count += (uint64_t)count;
    if (write(r->fd, cmd, (size_t)n) != n) return -1;
    while (soak_read_line(r, &line) == 0) {
        if (strcmp(line, "OK") == 0) return 0;
        if (strncmp(line, "ERR", 3) == 0) return -1;
        soak_store_line(st, b, line);
    }
    return -1;
}

/* DUMPs each topic over a control connection of our own, line by line: a
 * whole DUMP of a million messages would not fit a reply buffer. */
static void soak_read_store(soak_store *st)
{
    soak_reader r;
    uint32_t b;
    memset(st, 0, sizeof *st);
    memset(&r, 0, sizeof r);
    r.cap = 1u << 20;
    r.buf = (char *)malloc(r.cap);
    r.fd = mock_connect(S.mock.control);
    for (b = 0; b < S.nblocks && r.buf && r.fd >= 0; b++)
        if (soak_read_block(&r, st, b) != 0) break;
    st->unreadable = !r.buf || r.fd < 0 || b < S.nblocks;
    if (r.fd >= 0) close(r.fd);
    free(r.buf);
}

/* -- the verdict ------------------------------------------------------------ */
typedef struct soak_tally {
    uint32_t never, twice;            /* accepted sends with 0 / 2+ callbacks */
    uint32_t lost;                    /* OK, and no copy at all */
    uint32_t elsewhere;               /* OK, copies only on the other broker */
    uint32_t dup_ok, dup_failed;      /* 2+ copies: OK sends / failed sends */
    uint32_t failed_stored;           /* failed, yet stored once */
    uint32_t refused_stored;
    uint32_t unexplained;             /* extra copies not sent just before a DOWN */
    uint32_t reach;                   /* the farthest extra copy before its DOWN */
    uint32_t never_ex[SOAK_EXAMPLES], twice_ex[SOAK_EXAMPLES], lost_ex[SOAK_EXAMPLES];
    uint32_t elsewhere_ex[SOAK_EXAMPLES], unexplained_ex[SOAK_EXAMPLES];
} soak_tally;

static void soak_example(uint32_t *ex, uint32_t count, uint32_t seq)
{
    if (count <= SOAK_EXAMPLES) ex[count - 1] = seq;
}

/* How many messages before the next DOWN seq was sent (0xFFFFFFFF: after
 * the last one). */
static uint32_t soak_before_down(uint32_t seq)
{
    uint32_t i;
    for (i = 0; i < S.restarts && i < S.max_restarts; i++)
        if (S.down_pos[i] > seq) return S.down_pos[i] - seq;
    return 0xFFFFFFFFu;
}

/* A copy that is not the one its OK answer reported (or any copy of a
 * failed send) comes from an answer lost when a broker went down. */
static void soak_tally_extra_copy(soak_tally *t, uint32_t seq)
{
    uint32_t before = soak_before_down(seq);
    if (before <= SOAK_DUP_REACH) {
        if (before > t->reach) t->reach = before;
        return;
    }
    soak_example(t->unexplained_ex, ++t->unexplained, seq);
}

static void soak_tally_message(soak_tally *t, uint32_t seq)
{
    unsigned s = S.state[seq], calls = s & SOAK_CALLS, copies = (s & SOAK_COPIES) >> SOAK_COPY_SHIFT;
    if (!(s & SOAK_ACCEPTED)) {
        if (copies) t->refused_stored++;
        return;
    }
    if (calls == 0) soak_example(t->never_ex, ++t->never, seq);
    if (calls > 1) soak_example(t->twice_ex, ++t->twice, seq);
    if ((s & SOAK_OK) && copies == 0) soak_example(t->lost_ex, ++t->lost, seq);
    else if ((s & SOAK_OK) && !(s & SOAK_ON_NAMED)) soak_example(t->elsewhere_ex, ++t->elsewhere, seq);
    if (copies > 1) { if (s & SOAK_OK) t->dup_ok++; else t->dup_failed++; }
    if (!(s & SOAK_OK) && copies == 1) t->failed_stored++;
    if (copies > 1 || (!(s & SOAK_OK) && copies)) soak_tally_extra_copy(t, seq);
}

static void soak_print_examples(const char *what, const uint32_t *ex, uint32_t count)
{
    uint32_t i;
    if (!count) return;
    printf("       %s:", what);
    for (i = 0; i < count && i < SOAK_EXAMPLES; i++) printf(" s%u", (unsigned)ex[i]);
    printf("%s\n", count > SOAK_EXAMPLES ? " ..." : "");
}

static void soak_check(int ok, const char *name, const char *detail)
{
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", name, detail);
    if (ok) S.passed++; else S.failures++;
}

static void soak_print_reasons(void)
{
    int i;
    for (i = 0; i < S.nreasons; i++)
        printf("  %8u  %s (err %d%s%d): %s [first s%u]\n", (unsigned)S.reasons[i].count,
               rmq_strerror(S.reasons[i].err), (int)S.reasons[i].err,
               S.reasons[i].err == RMQ_ERR_BROKER ? ", broker code " : ", code ",
               S.reasons[i].broker_code, S.reasons[i].text, (unsigned)S.reasons[i].first_seq);
}

static void soak_print_run(long ms)
{
    printf("soak: %u messages in %ld.%03ld s (%lu msgs/s), window %d, %u restarts (DOWN %u ms each; "
           "%llu messages later than planned in all, waiting for the previous broker's %u ms connect backoff)\n",
           (unsigned)S.sent, ms / 1000, ms % 1000,
           ms > 0 ? (unsigned long)((uint64_t)S.sent * 1000u / (uint64_t)ms) : 0ul,
           SOAK_WINDOW, (unsigned)S.restarts, (unsigned)S.cfg.down_ms, (unsigned long long)S.deferred,
           (unsigned)RMQ_CONNECT_BACKOFF_MS);
    printf("callbacks: %u ok, %u failed; %u refused by rmq_send_async\n",
           (unsigned)S.ok, (unsigned)S.failed, (unsigned)S.refused);
    soak_print_reasons();
}

static void soak_verdict_calls(const soak_tally *t)
{
    char d[512];
    snprintf(d, sizeof d, "%u accepted sends, %u callbacks; %u never called back, %u called back twice or more",
             (unsigned)(S.sent - S.refused), (unsigned)S.done, (unsigned)t->never, (unsigned)t->twice);
    soak_check(t->never == 0 && t->twice == 0 && S.sent == S.cfg.messages, "every send called back exactly once", d);
    soak_print_examples("never", t->never_ex, t->never);
    soak_print_examples("twice", t->twice_ex, t->twice);
    snprintf(d, sizeof d, "%u failed, %u refused", (unsigned)S.failed, (unsigned)S.refused);
    soak_check(S.failed == 0 && S.refused == 0, "every send succeeded (one broker was always up)", d);
    snprintf(d, sizeof d, "%u results name another topic or broker, a bad queue or no id", (unsigned)S.bad_results);
    if (S.bad_results)
        snprintf(d + strlen(d), sizeof d - strlen(d), "; first s%u: %.300s", (unsigned)S.bad_result_seq, S.bad_result_why);
    soak_check(S.bad_results == 0, "every OK result names its topic, broker, queue and ids", d);
}

static void soak_verdict_store(const soak_tally *t, const soak_store *st)
{
    char d[512];
    snprintf(d, sizeof d, "%u OK sends: %u with no copy, %u with copies only on the other broker; "
             "%llu copies read (COUNT says %llu)", (unsigned)S.ok, (unsigned)t->lost, (unsigned)t->elsewhere,
             (unsigned long long)st->lines, (unsigned long long)st->count);
    soak_check(!st->unreadable && t->lost == 0 && t->elsewhere == 0 && st->lines == st->count,
               "every OK send is stored on the broker its result names", d);
    soak_print_examples("lost", t->lost_ex, t->lost);
    soak_print_examples("elsewhere", t->elsewhere_ex, t->elsewhere);
    snprintf(d, sizeof d, "%llu stray copies, %u copies of refused sends",
             (unsigned long long)st->stray, (unsigned)t->refused_stored);
    soak_check(!st->unreadable && st->stray == 0 && t->refused_stored == 0, "the store holds only sent messages", d);
    printf("duplicates: %u OK sends stored 2+ times, %u failed sends stored 2+ times, "
           "%u failed sends stored once (their answers were lost, not the messages)\n",
           (unsigned)t->dup_ok, (unsigned)t->dup_failed, (unsigned)t->failed_stored);
    snprintf(d, sizeof d, "%u messages with an extra copy sent more than %d before a DOWN; "
             "the others at most %u before", (unsigned)t->unexplained, SOAK_DUP_REACH, (unsigned)t->reach);
    soak_check(t->unexplained == 0, "extra copies only of sends in flight at a DOWN", d);
    soak_print_examples("unexplained", t->unexplained_ex, t->unexplained);
}

static void soak_verdict_counters(const rmq_stats *st)
{
    char d[256];
    snprintf(d, sizeof d, "sends_ok %u / %u callbacks OK, sends_failed %u / %u failed, pending %u, inflight %u",
             (unsigned)st->sends_ok, (unsigned)S.ok, (unsigned)st->sends_failed, (unsigned)S.failed,
             (unsigned)st->pending_sends, (unsigned)st->inflight_requests);
    soak_check(st->sends_ok == S.ok && st->sends_failed == S.failed && st->pending_sends == 0 &&
               st->inflight_requests == 0 && S.drained, "the producer is idle and its counters agree", d);
}

static void soak_verdict_memory(void)
{
    char d[256];
    size_t band = S.heap_idle_max - S.heap_idle_min;
    long dr = (long)S.last.rss - (long)S.first.rss;
    snprintf(d, sizeof d, "idle heap %lu B at the first progress line, %lu B at the end, %lu..%lu B in all "
             "(band %lu B, bound %u B)", (unsigned long)S.first.heap_idle, (unsigned long)S.last.heap_idle,
             (unsigned long)S.heap_idle_min, (unsigned long)S.heap_idle_max, (unsigned long)band,
             (unsigned)SOAK_HEAP_BAND_BYTES);
    soak_check(S.have_first && band <= SOAK_HEAP_BAND_BYTES, "heap flat", d);
    snprintf(d, sizeof d, "RSS %lu KiB at the first progress line, %lu KiB at the end (%+ld KiB, bound +%u KiB)",
             (unsigned long)(S.first.rss / 1024u), (unsigned long)(S.last.rss / 1024u), dr / 1024,
             (unsigned)(SOAK_RSS_SLACK_BYTES / 1024u));
    soak_check(S.have_first && dr <= (long)SOAK_RSS_SLACK_BYTES, "RSS flat", d);
}

static void soak_verdict_teardown(size_t heap_after_destroy, int mock_status)
{
    char d[128];
    snprintf(d, sizeof d, "%lu B still held after rmq_producer_destroy", (unsigned long)heap_after_destroy);
    soak_check(heap_after_destroy == 0, "destroy frees the whole heap", d);
    snprintf(d, sizeof d, "exit status %d", mock_status);
    soak_check(mock_status == 0, "the mock cluster exits cleanly", d);
}

int main(void)
{
    soak_store store;
    soak_tally tally;
    rmq_stats end;
    uint32_t i;
    long run_ms;
    size_t heap_after;
    int mock_status;
    soak_configure();
    printf("soak: %u messages, a broker restart every %u, a progress line every %u\n",
           (unsigned)S.cfg.messages, (unsigned)S.cfg.restart_every, (unsigned)S.cfg.report_every);
    if (soak_setup() != 0) {
        fprintf(stderr, "soak: setup failed\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    soak_run();
    run_ms = mock_now_ms() - S.t0;
    if (rmq_producer_flush(S.p, (uint32_t)SOAK_DRAIN_MS) != RMQ_OK) S.drained = 0;
    rmq_producer_stats(S.p, &end);
    soak_read_store(&store);
    memset(&tally, 0, sizeof tally);
    for (i = 0; i < S.sent; i++) soak_tally_message(&tally, i);
    rmq_producer_destroy(S.p);
    heap_after = soak_heap.cur;
    mock_status = mock_stop(&S.mock);
    soak_print_run(run_ms);
    soak_verdict_calls(&tally);
    soak_verdict_store(&tally, &store);
    soak_verdict_counters(&end);
    soak_verdict_memory();
    soak_verdict_teardown(heap_after, mock_status);
    free(S.state);
    free(S.down_pos);
    printf("%d passed, %d failed\n", S.passed, S.failures);
    return S.failures ? 1 : 0;
}
