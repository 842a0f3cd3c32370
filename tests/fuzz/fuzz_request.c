/* fuzz_request - requests a broker sends to the producer (transaction
 * checks, consumer id changes, reply pushes, anything else), dispatched by
 * a started producer: rmq__conn_read, rmq__conn_parse, rmq__dispatch,
 * rmq__inst_request and rmq__respond, over the simulated port; and answers
 * to a request of the producer's that is in flight, or still queued because
 * the port's send said "try again later".
 *
 * Input: two option bytes (read size per recv, latency, header form of the
 * producer's requests, start near the clock's wrap, connect completing at
 * once; a request of the producer's in flight, its sends held back while
 * the stream is read, or the connection reset by the producer's next write,
 * the request then sent again once as an async send is; an answer to that
 * request written first, in either header form, maybe declaring a frame
 * over RMQ_MAX_FRAME_BYTES), then the byte stream the broker writes on the
 * producer's connection to it. Checked:
 *   - the producer never crashes on it, and drops the connection exactly
 *     when a plain loop over the decoder meets a malformed frame;
 *   - every request before that point gets exactly one answer, with its
 *     opaque, the response flag, REQUEST_CODE_NOT_SUPPORTED (SUCCESS for a
 *     pushed reply, which nothing waits for here) and the header form the
 *     request used, unless it is oneway, a transaction check or a consumer
 *     id change (no answer at all); nothing else is answered;
 *   - each of the producer's own requests completes exactly once;
 *   - shutdown and destroy leave nothing behind (LeakSanitizer). */
#include "fuzz.h"

#define MAX_REQ 512

typedef struct expect {
    int32_t opaque;
    int serialize;
    int32_t code;                /* of the answer */
} expect;

static expect want[MAX_REQ], got[MAX_REQ];
static size_t nwant, ngot;
static int want_fail, extra;
static rmq_sim *sim;
static rmq_sim_conn *broker;
static rmq_port port;
static int fast_connect, held, own_done, own_sent;
static uint8_t inbox[1 << 16];
static size_t inbox_len;
static int port_connect(void *ctx, const char *host, uint16_t p, void **conn)
{
    int rc = rmq_sim_port(sim)->connect(ctx, host, p, conn);
    if (rc == RMQ_PORT_AGAIN && fast_connect && rmq_sim_port(sim)->connect_result(ctx, *conn) == RMQ_PORT_OK)
        return RMQ_PORT_OK;
    return rc;
}

static size_t received;

static long port_send(void *ctx, void *conn, const void *buf, size_t len)
{
    return held ? 0 : rmq_sim_port(sim)->send(ctx, conn, buf, len);
}

static long port_sendv(void *ctx, void *conn, const rmq_iovec *iov, int n)
{
    return held ? 0 : rmq_sim_port(sim)->sendv(ctx, conn, iov, n);
}

/* While sends are held back the port does not call a connection writable
 * either, as a socket with a full buffer would not. */
static int port_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    unsigned want[RMQ_MAX_CONNECTIONS];
    size_t i;
    int rc;
    if (!held || n > RMQ_MAX_CONNECTIONS) return rmq_sim_port(sim)->wait(ctx, items, n, timeout_ms);
    for (i = 0; i < n; i++) {
        want[i] = items[i].want;
        if (((rmq_sim_conn *)items[i].conn)->state == RMQ__SIM_OPEN) items[i].want &= ~RMQ_WANT_WRITE;
    }
    rc = rmq_sim_port(sim)->wait(ctx, items, n, timeout_ms);
    for (i = 0; i < n; i++) items[i].want = want[i];
    return rc;
}

static void own_request(rmq__remoting *rm);

/* A failed request is sent again once, at once, as a producer's async send
 * retries: on the same address, maybe from inside the reader. */
static void own_request_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    (void)rm; (void)r; (void)resp; (void)why;
    own_done++;
    if (err != RMQ_OK && err != RMQ_ERR_SHUTDOWN && own_sent < 2) own_request(rm);
}

static int32_t own_opaque;
static size_t ahead;                  /* bytes written before the stream */

static void own_request(rmq__remoting *rm)
{
    rmq__rq q;
    rmq__req *r;
    rmq__rq_init(&q, NULL, RMQ_REQ_HEART_BEAT);
    if (rmq__invoke(rm, "10.0.1.1:10911", &q, NULL, 0, 0, rmq_sim_now(sim) + 60000, own_request_done, NULL, &r) !=
        RMQ_OK)
        return;
    own_sent++;
    own_opaque = r->opaque;
}

/* The broker's answer to our request, ahead of the stream; an oversized
 * one declares 5 MiB and brings 16 bytes of its body. */
static void answer_own(rmq_serialize form, int oversized)
{
    rmq_command r;
    rmq__buf b;
    static const uint8_t some_body[16];
    rmq__command_init(&r, RMQ_CODE_SUCCESS, own_opaque, RMQ_FLAG_RESPONSE);
    r.serialize = form;
    rmq__buf_init(&b, NULL, 4096);
    fz_frame(&b, &r, some_body, sizeof some_body);
    if (oversized) rmq__be32_put(b.p, 5u << 20);
    rmq_sim_conn_write(broker, b.p, b.len);
    ahead = b.len;
    rmq__buf_free(&b);
}

static long port_recv(void *ctx, void *conn, void *buf, size_t len)
{
    long n = rmq_sim_port(sim)->recv(ctx, conn, buf, len);
    if (n > 0) received += (size_t)n;
    return n;
}

static void on_accept(void *ctx, rmq_sim_conn *c)
{
    (void)ctx;
    broker = c;
}

/* What the producer answers: recorded, checked at the end. */
static void on_data(void *ctx, rmq_sim_conn *c, const uint8_t *data, size_t len)
{
    size_t at = 0;
    (void)ctx; (void)c;
    if (inbox_len + len > sizeof inbox) { extra = 1; return; }
    memcpy(inbox + inbox_len, data, len);
    inbox_len += len;
    for (;;) {
        rmq__frame_info fi;
        rmq_command r;
        if (rmq__frame_check(inbox + at, inbox_len - at, sizeof inbox, &fi) != RMQ__FRAME_OK) break;
        FZ_CHECK(rmq__frame_decode(inbox + at, &fi, fi.total - 8 - fi.header_len, &r) == 0);
        if (r.flag & RMQ_FLAG_RESPONSE) {
            if (ngot < MAX_REQ) {
                got[ngot].opaque = r.opaque;
                got[ngot].serialize = (int)r.serialize;
                got[ngot].code = r.code;
            }
            ngot++;
        }
        at += fi.total;
    }
    memmove(inbox, inbox + at, inbox_len - at);
    inbox_len -= at;
}

/* A request the producer must answer: not a response, not oneway, not a
 * transaction check or a consumer id change. */
static void expect_answer(void *ctx, const rmq_command *c)
{
    (void)ctx;
    if (!(c->flag & (RMQ_FLAG_RESPONSE | RMQ_FLAG_ONEWAY)) && c->code != RMQ_REQ_CHECK_TRANSACTION_STATE &&
        c->code != RMQ_REQ_NOTIFY_CONSUMER_IDS_CHANGED && nwant < MAX_REQ) {
        want[nwant].opaque = c->opaque;
        want[nwant].serialize = (int)c->serialize;
#ifndef RMQ_NO_REQUEST
        want[nwant].code = c->code == RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT ? RMQ_CODE_SUCCESS
                                                                          : RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED;
#else
        want[nwant].code = RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED;
#endif
        nwant++;
    }
}

/* The plain loop over the stream: which requests must be answered (up to
 * an oversized frame: the rest is its body). Its copy has a spare byte, so
 * that a read past a frame shows up where it matters: in the producer's
 * own read buffer. */
static void expectations(const uint8_t *data, size_t size)
{
    uint8_t *buf = (uint8_t *)calloc(1, size + 1);
    fz_walk w;
    if (!buf) abort();
    memcpy(buf, data, size);
    nwant = 0;
    fz_walk_frames(buf, size, 0, expect_answer, NULL, &w);
    want_fail = w.end == FZ_WALK_MALFORMED;
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t reads[8] = { 0, 1, 2, 3, 7, 64, 1000, 0 };
    rmq_sim_peer_ops ops;
    rmq_sim_faults f;
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq__conn *c = NULL;
    uint8_t opt, opt2;
    size_t i;
    int k, plain, dropped;
    rmq_sim_conn *stream;
    if (size < 2 || size > 1u << 16) return 0;
    opt = data[0];
    opt2 = data[1];
    data += 2;
    size -= 2;
    expectations(data, size);
    ngot = 0; inbox_len = 0; extra = 0; broker = NULL;
    sim = rmq_sim_create(opt & 64 ? 0xFFFFFF00u : 1000u);
    port = *rmq_sim_port(sim);
    port.connect = port_connect;
    port.recv = port_recv;
    port.send = port_send;
    port.sendv = port_sendv;
    port.wait = port_wait;
    held = 0;
    own_done = 0;
    own_sent = 0;
    ahead = 0;
    fast_connect = (opt & 128) != 0;
    memset(&ops, 0, sizeof ops);
    ops.on_accept = on_accept;
    ops.on_data = on_data;
    rmq_sim_listen(sim, "10.0.1.1", 10911, &ops, NULL);
    memset(&f, 0, sizeof f);
    f.read_max = reads[opt & 7];
    f.latency_ms = (opt >> 3) & 3;
    rmq_sim_set_faults(sim, "10.0.1.1", 10911, &f);
    rmq_producer_config_init(&cfg);
    cfg.group = "fuzz_request";
    cfg.namesrv_addr = "10.0.0.1:9876";
    cfg.port = &port;
    cfg.serialize = opt & 32 ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK || rmq_producer_start(p) != RMQ_OK) abort();
    if (rmq__conn_get(&p->in->rm, "10.0.1.1:10911", rmq_sim_now(sim) + 3000, &c) != RMQ_OK) abort();
    for (k = 0; k < 8 && c->state != RMQ__CONN_OPEN; k++) rmq_producer_poll(p, 10);
    FZ_CHECK(c->state == RMQ__CONN_OPEN && broker != NULL);
    if (opt2 & 1) {                         /* a request of ours in flight, maybe held back */
        held = (opt2 & 2) != 0;
        own_request(&p->in->rm);
        FZ_CHECK(own_sent == 1);
    }
    if ((opt2 & 9) == 9) answer_own(opt2 & 16 ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON, (opt2 & 32) != 0);
    if (opt2 & 4) {                         /* the producer's next write resets the connection */
        rmq_sim_faults r = f;
        r.reset = 1;
        r.reset_after = broker->written;
        rmq_sim_conn_set_faults(broker, &r);
    }
    received = 0;
    stream = broker;
    rmq_sim_conn_write(broker, data, size);
    size += ahead;
    /* Poll until the whole stream is read (or the connection dropped). */
    for (k = 0; k < 100000 && rmq_sim_conn_client_open(stream) && received < size; k++) rmq_producer_poll(p, 5);
    held = 0;                               /* let the answers behind a held request out */
    for (k = 0; k < 4; k++) rmq_producer_poll(p, 0);
    /* A reset, or an oversized answer that swallows the stream as its body,
     * leaves only the memory and exactly-once checks. */
    plain = !(opt2 & 4) && !((opt2 & 9) == 9 && (opt2 & 32));
    dropped = !rmq_sim_conn_client_open(stream);   /* a retry may have connected again */
    if (plain) FZ_CHECK(want_fail == dropped);
    if (!want_fail && !dropped && plain) {
        if (ngot != nwant) fprintf(stderr, "answers %u, requests %u\n", (unsigned)ngot, (unsigned)nwant);
        FZ_CHECK(ngot == nwant);
    }
    FZ_CHECK(!extra);
    for (i = 0; i < ngot && i < nwant; i++) {
        FZ_CHECK(got[i].opaque == want[i].opaque);
        FZ_CHECK(got[i].serialize == want[i].serialize);
        FZ_CHECK(got[i].code == want[i].code);
    }
    FZ_CHECK(ngot <= nwant);
    if (c->state == RMQ__CONN_OPEN) rmq_producer_poll(p, 10);
    FZ_CHECK(own_done <= own_sent);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    FZ_CHECK(own_done == own_sent);
    FZ_CHECK(!rmq_sim_conn_client_open(broker));
    rmq_sim_destroy(sim);
    sim = NULL;
    return 0;
}
