/* fuzz_producer - a whole producer over the simulated port, on virtual
 * time, against a name server and two brokers whose answers come from the
 * fuzz input: route bodies, send responses, error codes, garbage, answers
 * with the wrong opaque or twice, closes and resets, and requests of their
 * own (rmq__inst_request). Everything the producer reads from the network
 * goes through its real engine (rmq__conn_read, rmq__conn_parse).
 *
 * The input is one stream of decisions, read in the order things happen:
 *   - first the set-up: start time (near the 32-bit wrap or not), header
 *     form, retries, latency fault tolerance, timeouts, faults of the
 *     connections (latency, 1-byte reads, partial writes), and two port
 *     behaviours the contract allows: connect completing at once, and send
 *     answering "try again later";
 *   - then up to 48 calls of the application (async, oneway, sync, batch,
 *     to-queue and selector sends, poll, time passing, fetch, flush) and of
 *     the cluster (brokers joining or leaving the routes served), and
 *     in callbacks sometimes a new send or a blocking call;
 *   - and, whenever a peer receives a request, how it answers it.
 * When the input runs out the peers answer normally, so everything can end.
 * Checked: every accepted async send ends in exactly one callback (none for
 * a refused one), with a result; a blocking call from a callback is refused;
 * after shutdown nothing is pending and every connection is closed; after
 * destroy nothing is leaked (LeakSanitizer).
 *
 * fuzz_core.c runs the same script against the core configuration (every
 * feature cut, a static pool): a call or setting of a cut feature becomes
 * one the build has. */
#include "fuzz.h"

#define MAX_SENDS 256
#define MAX_PEER_CONNS 64
#define PEER_BUF (64 * 1024)

enum { NS = 0, BROKER_A, BROKER_B, NSERVERS };
static const char *const hosts[NSERVERS] = { "10.0.0.1", "10.0.1.1", "10.0.1.2" };
static const uint16_t ports[NSERVERS] = { 9876, 10911, 10911 };

typedef struct peer_conn {
    rmq_sim_conn *c;
    int server;
    size_t len;
    uint8_t buf[PEER_BUF];
} peer_conn;

static fz_in script;
static rmq_sim *sim;
static rmq_port port;             /* the sim's, with the two behaviours below */
static int fast_connect, busy_every, send_calls;
static peer_conn *conns[MAX_PEER_CONNS];
static int nconns;
static int fastjson;
static int members;               /* brokers (bits 1, 2) in the routes the name server gives */
static int trace;                 /* FUZZ_LOG set: tell what happens */

/* -- the port ------------------------------------------------------------- */
static int port_connect(void *ctx, const char *host, uint16_t p, void **conn)
{
    int rc = rmq_sim_port(sim)->connect(ctx, host, p, conn);
    if (rc == RMQ_PORT_AGAIN && fast_connect && rmq_sim_port(sim)->connect_result(ctx, *conn) == RMQ_PORT_OK)
        return RMQ_PORT_OK;
    return rc;
}

static long port_send(void *ctx, void *conn, const void *buf, size_t len)
{
    if (busy_every && ++send_calls % busy_every == 0) return 0;
    return rmq_sim_port(sim)->send(ctx, conn, buf, len);
}

static long port_sendv(void *ctx, void *conn, const rmq_iovec *iov, int n)
{
    if (busy_every && ++send_calls % busy_every == 0) return 0;
    return rmq_sim_port(sim)->sendv(ctx, conn, iov, n);
}

/* -- the peers ----------------------------------------------------------- */
static void write_cmd(rmq_sim_conn *c, const rmq_command *cmd, const void *body, size_t blen)
{
    rmq__buf b;
    rmq__buf_init(&b, RMQ_TEST_HEAP, 1u << 20);
    fz_frame(&b, cmd, body, blen);
    if (!b.failed) rmq_sim_conn_write(c, b.p, b.len);
    rmq__buf_free(&b);
}

static void route_body(char *out, size_t cap, int brokers)
{
    int n = 0, i, first = 1;
    n += snprintf(out + n, cap - (size_t)n, "{\"brokerDatas\":[");
    for (i = BROKER_A; i < NSERVERS; i++) {
        if (!(brokers & (1 << i))) continue;
        n += snprintf(out + n, cap - (size_t)n, "%s{\"brokerAddrs\":{%s0%s:\"%s:%u\"},\"brokerName\":\"broker-%c\",\"cluster\":\"c\"}",
                      first ? "" : ",", fastjson ? "" : "\"", fastjson ? "" : "\"", hosts[i], (unsigned)ports[i], 'a' + i - 1);
        first = 0;
    }
    n += snprintf(out + n, cap - (size_t)n, "],\"filterServerTable\":{},\"queueDatas\":[");
    first = 1;
    for (i = BROKER_A; i < NSERVERS; i++) {
        if (!(brokers & (1 << i))) continue;
        n += snprintf(out + n, cap - (size_t)n, "%s{\"brokerName\":\"broker-%c\",\"perm\":6,\"readQueueNums\":4,\"topicSysFlag\":0,\"writeQueueNums\":4}",
                      first ? "" : ",", 'a' + i - 1);
        first = 0;
    }
    snprintf(out + n, cap - (size_t)n, "]}");
}

static void answer_normally(peer_conn *pc, const rmq_command *q, rmq_command *r, rmq_serialize form)
{
    static char body[2048];
    const char *b = NULL;
    rmq__command_init(r, RMQ_CODE_SUCCESS, q->opaque, RMQ_FLAG_RESPONSE);
    r->language = 0;
    r->serialize = form;
    if (pc->server == NS) {
        rmq_slice topic = rmq_command_ext(q, "topic");
        if (q->code != RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) r->code = RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED;
        else if (rmq__slice_eq(topic, "NewTopic")) r->code = RMQ_CODE_TOPIC_NOT_EXIST;
        else { route_body(body, sizeof body, rmq__slice_eq(topic, "TopicB") ? 1 << BROKER_B : members); b = body; }
    } else if (q->code == RMQ_REQ_SEND_MESSAGE_V2 || q->code == RMQ_REQ_SEND_MESSAGE || q->code == RMQ_REQ_SEND_BATCH_MESSAGE) {
        rmq_slice e = rmq_command_ext(q, "e");
        static char qid[16];
        snprintf(qid, sizeof qid, "%.*s", e.ptr ? (int)(e.len < 10 ? e.len : 10) : 1, e.ptr ? e.ptr : "0");
        rmq_command_put_ext(r, "queueId", qid);
        rmq_command_put_ext(r, "msgId", "7F00000100002A9F0000000000006AF4,7F00000100002A9F0000000000006B44");
        rmq_command_put_ext(r, "queueOffset", "42");
        rmq_command_put_ext(r, "MSG_REGION", "DefaultRegion");
        rmq_command_put_ext(r, "TRACE_ON", "true");
    } else if (q->code != RMQ_REQ_HEART_BEAT && q->code != RMQ_REQ_UNREGISTER_CLIENT) {
        r->code = RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED;
    }
    write_cmd(pc->c, r, b, b ? strlen(b) : 0);
}

static const int32_t codes[] = { 1, 2, 3, 10, 11, 12, 13, 14, 16, 17, 19, 204, 205, 215, 1500, -1 };
static const int32_t request_codes[] = { RMQ_REQ_CHECK_TRANSACTION_STATE, RMQ_REQ_NOTIFY_CONSUMER_IDS_CHANGED,
                                         RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT, 11, 34, 0, -7 };

/* A request of the peer's own, the way a broker asks a producer something. */
static void peer_request(peer_conn *pc)
{
    rmq_command q;
    const uint8_t *body;
    size_t blen;
    char k[32], v[64];
    rmq__command_init(&q, request_codes[fz_pick(&script, sizeof request_codes / sizeof *request_codes)],
                      (int32_t)fz_u32(&script), fz_u8(&script) & 1 ? RMQ_FLAG_ONEWAY : 0);
    q.serialize = fz_u8(&script) & 1 ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
    fz_text(&script, k, sizeof k, 0);
    fz_text(&script, v, sizeof v, 0);
    if (k[0]) rmq_command_put_ext(&q, k, v);
    blen = fz_bytes(&script, 255, &body);
    write_cmd(pc->c, &q, body, blen);
}

static void answer(peer_conn *pc, const rmq_command *q)
{
    rmq_command r;
    unsigned act = fz_pick(&script, 16);
    rmq_serialize form = q->serialize;
    if (trace) fprintf(stderr, "[%u] %s gets request %d, answer %u\n", (unsigned)rmq_sim_now(sim), hosts[pc->server], (int)q->code, act);
    switch (act) {
    case 6: return;                                       /* silence */
    case 7: {                                             /* an error code */
        char remark[64];
        rmq__command_init(&r, codes[fz_pick(&script, sizeof codes / sizeof *codes)], q->opaque, RMQ_FLAG_RESPONSE);
        if (r.code == -1) r.code = (int32_t)fz_u32(&script);
        r.serialize = form;
        fz_text(&script, remark, sizeof remark, 0);
        r.remark = rmq__cslice(remark);
        write_cmd(pc->c, &r, NULL, 0);
        return;
    }
    case 8: {                                             /* someone else's opaque */
        static const int32_t delta[6] = { 4096, -4096, 1, 8192, -1, 0 };
        int32_t d = delta[fz_pick(&script, 6)];
        rmq_command q2 = *q;
        q2.opaque = d ? (int32_t)((uint32_t)q->opaque + (uint32_t)d) : (int32_t)fz_u32(&script);
        answer_normally(pc, &q2, &r, form);
        return;
    }
    case 9: {                                             /* raw bytes */
        const uint8_t *b;
        size_t n = fz_blob(&script, 4096, &b);
        rmq_sim_conn_write(pc->c, b, n);
        return;
    }
    case 10: rmq_sim_conn_close(pc->c); return;
    case 11: rmq_sim_conn_reset(pc->c); return;
    case 12: answer_normally(pc, q, &r, form); answer_normally(pc, q, &r, form); return;
    case 13: peer_request(pc); answer_normally(pc, q, &r, form); return;
    case 14: answer_normally(pc, q, &r, form == RMQ_SERIALIZE_JSON ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON); return;
    case 15: {                                            /* fields or body from the input */
        rmq__command_init(&r, (int32_t)(fz_u8(&script) % 4 == 0 ? 17 : 0), q->opaque, RMQ_FLAG_RESPONSE);
        r.serialize = form;
        if (pc->server == NS) {
            const uint8_t *b;
            size_t n = fz_blob(&script, 8192, &b);
            write_cmd(pc->c, &r, b, n);
        } else {
            char qid[24], msgid[160], qoff[24];
            fz_text(&script, qid, sizeof qid, 0);
            fz_text(&script, msgid, sizeof msgid, 0);
            fz_text(&script, qoff, sizeof qoff, 0);
            rmq_command_put_ext(&r, "queueId", qid);
            rmq_command_put_ext(&r, "msgId", msgid);
            rmq_command_put_ext(&r, "queueOffset", qoff);
            if (fz_u8(&script) & 1) rmq_command_put_ext(&r, "transactionId", msgid);
            write_cmd(pc->c, &r, NULL, 0);
        }
        return;
    }
    default: answer_normally(pc, q, &r, form); return;
    }
}

static void peer_accept(void *ctx, rmq_sim_conn *c)
{
    peer_conn *pc;
    if (nconns >= MAX_PEER_CONNS) return;
    pc = (peer_conn *)calloc(1, sizeof *pc);
    if (!pc) abort();
    pc->c = c;
    pc->server = (int)(intptr_t)ctx;
    conns[nconns++] = pc;
    rmq_sim_conn_set_user(c, pc);
}

static void peer_data(void *ctx, rmq_sim_conn *c, const uint8_t *data, size_t len)
{
    peer_conn *pc = (peer_conn *)rmq_sim_conn_user(c);
    size_t at = 0;
    (void)ctx;
    if (!pc || pc->len + len > PEER_BUF) return;
    memcpy(pc->buf + pc->len, data, len);
    pc->len += len;
    for (;;) {
        rmq__frame_info fi;
        rmq_command q;
        if (rmq__frame_check(pc->buf + at, pc->len - at, PEER_BUF, &fi) != RMQ__FRAME_OK) break;
        if (rmq__frame_decode(pc->buf + at, &fi, fi.total - 8 - fi.header_len, &q) == 0 &&
            !(q.flag & RMQ_FLAG_RESPONSE) && !(q.flag & RMQ_FLAG_ONEWAY))
            answer(pc, &q);
        at += fi.total;
    }
    memmove(pc->buf, pc->buf + at, pc->len - at);
    pc->len -= at;
}

/* -- the application ----------------------------------------------------- */
typedef struct send_rec {
    int issued, accepted, calls;
} send_rec;

static send_rec sends[MAX_SENDS];
static int nsends, ops_left;
#ifdef RMQ_NO_MALLOC
static uint64_t fz_pool_mem[(1024u * 1024u) / sizeof(uint64_t)];
static rmq_pool fz_pool;
#endif

static rmq_producer *producer;
static const char *const topics[4] = { "TopicTest", "TopicB", "NewTopic", "TBW102" };
static const char body[] = "fuzz body: hello broker";

static void callback(rmq_err err, const rmq_send_result *res, void *user);

static void message(rmq_message *m)
{
    rmq_message_init(m, topics[fz_pick(&script, 4)], body, 1 + fz_pick(&script, sizeof body - 1));
    if (fz_u8(&script) & 1) m->tags = "TagA";
    if (fz_u8(&script) & 1) m->keys = "k1 k2";
}

#ifndef RMQ_NO_SELECTOR
static int selector(const rmq_queue *qs, size_t n, const rmq_message *m, void *arg)
{
    int v = (int)(intptr_t)arg;
    (void)qs; (void)m;
    return v == 99 ? (int)n : v;
}
#endif

static void async_send(int kind)
{
    rmq_message m[3];
    rmq_err err;
    int id;
    if (nsends >= MAX_SENDS) return;
    id = nsends++;
    sends[id].issued = 1;
    message(&m[0]);
    switch (kind) {
    case 0: err = rmq_send_async_timeout(producer, &m[0], callback, &sends[id], fz_u16(&script) % 6000); break;
    case 1:
        m[1] = m[0];
        m[2] = m[0];
        err = rmq_send_batch_async(producer, m, 2 + fz_pick(&script, 2), callback, &sends[id]);
        break;
#ifndef RMQ_NO_SELECTOR
    case 2: {
        rmq_queue q;
        memset(&q, 0, sizeof q);
        snprintf(q.topic, sizeof q.topic, "%s", m[0].topic);
        snprintf(q.broker_name, sizeof q.broker_name, "%s", fz_u8(&script) & 1 ? "broker-a" : "broker-z");
        q.queue_id = fz_pick(&script, 6);
        err = rmq_send_to_queue_async(producer, &m[0], &q, callback, &sends[id]);
        break;
    }
    default: {
        static const int picks[4] = { 0, 1, -1, 99 };
        err = rmq_send_select_async(producer, &m[0], selector, (void *)(intptr_t)picks[fz_pick(&script, 4)], callback, &sends[id]);
        break;
    }
#else
    default: err = rmq_send_async(producer, &m[0], callback, &sends[id]); break;
#endif
    }
    sends[id].accepted = err == RMQ_OK;
}

static void callback(rmq_err err, const rmq_send_result *res, void *user)
{
    send_rec *s = (send_rec *)user;
    rmq_send_result r;
    rmq_message m;
    FZ_CHECK(s >= sends && s < sends + MAX_SENDS && s->issued);
    FZ_CHECK(s->accepted);
    FZ_CHECK(++s->calls == 1);
    FZ_CHECK(res != NULL && (unsigned)err < RMQ_ERR__COUNT);
    if (err == RMQ_OK) FZ_CHECK(res->msg_id[0] != 0);
    if (ops_left <= 0) return;
    switch (fz_pick(&script, 4)) {
    case 0:
        ops_left--;
        async_send(0);
        break;
    case 1:
        rmq_message_init(&m, "TopicTest", "x", 1);
        FZ_CHECK(rmq_send(producer, &m, &r) == RMQ_ERR_IN_CALLBACK);
        FZ_CHECK(rmq_producer_flush(producer, 10) == RMQ_ERR_IN_CALLBACK);
        break;
    default: break;
    }
}

static void sync_send(int batch)
{
    rmq_message m[2];
    rmq_send_result res[2];
    rmq_err err;
    message(&m[0]);
    m[1] = m[0];
    err = batch ? rmq_send_batch(producer, m, 2, res)
                : rmq_send_timeout(producer, &m[0], res, fz_u16(&script) % 8000);
    if (err == RMQ_OK) FZ_CHECK(res[0].msg_id[0] && strcmp(res[0].queue.topic, m[0].topic) == 0);
    else FZ_CHECK(rmq_producer_last_error(producer)[0]);
}

static void run_calls(void)
{
    ops_left = 48;
    while (ops_left-- > 0 && script.n) {
        unsigned op = fz_pick(&script, 14);
        if (trace) fprintf(stderr, "[%u] call %u (%u input bytes left)\n", (unsigned)rmq_sim_now(sim), op, (unsigned)script.n);
        switch (op) {
        case 0: case 1: async_send(0); break;
        case 2: async_send(1); break;
        case 3: async_send(2); break;
        case 4: async_send(3); break;
#ifndef RMQ_NO_ONEWAY
        case 5: {
            rmq_message m;
            message(&m);
            rmq_send_oneway(producer, &m);
            break;
        }
#else
        case 5: async_send(0); break;
#endif
        case 6: sync_send(0); break;
        case 7: sync_send(1); break;
        case 8: case 9: rmq_producer_poll(producer, fz_u16(&script)); break;
        case 10: rmq_sim_advance(sim, (uint32_t)fz_u16(&script) * (fz_u8(&script) & 1 ? 16u : 1u)); break;
#ifndef RMQ_NO_SELECTOR
        case 11: {
            rmq_queue qs[8];
            size_t n;
            rmq_fetch_publish_queues(producer, topics[fz_pick(&script, 4)], qs, 8, &n);
            break;
        }
#else
        case 11: break;
#endif
        case 12: rmq_producer_flush(producer, fz_u16(&script)); break;
        default: {                        /* brokers join or leave the cluster's routes */
            rmq_stats st;
            rmq_producer_stats(producer, &st);
            FZ_CHECK(st.inflight_requests <= RMQ_MAX_INFLIGHT && st.connections <= RMQ_MAX_CONNECTIONS);
            members = fz_u8(&script) & 6;
            break;
        }
        }
    }
}

/* -- one run ------------------------------------------------------------- */
/* FUZZ_LOG=1 shows the library's log lines, to follow one input. */
static void show_log(void *arg, int level, const char *msg)
{
    (void)arg;
    fprintf(stderr, "[%u] %d %s\n", (unsigned)rmq_sim_now(sim), level, msg);
}

static void setup(void)
{
    static const uint32_t starts[4] = { 1000, 0xFFFFF000u, 0x7FFFFF00u, 0 };
    rmq_sim_peer_ops ops;
    rmq_sim_faults f;
    rmq_producer_config cfg;
    uint32_t start = starts[fz_pick(&script, 4)];
    int i;
    uint8_t o1 = fz_u8(&script), o2 = fz_u8(&script);
    if (start == 0) start = fz_u32(&script);
    sim = rmq_sim_create(start);
    if (!sim) abort();
    rmq_sim_set_wall(sim, INT64_C(1795288064606));
    trace = getenv("FUZZ_LOG") != NULL;
    if (trace) rmq_sim_on_log(sim, show_log, NULL);
    port = *rmq_sim_port(sim);
    port.connect = port_connect;
    port.send = port_send;
    port.sendv = o2 & 64 ? NULL : port_sendv;
    fast_connect = (o1 & 1) != 0;
    busy_every = o1 & 2 ? 2 + (o1 >> 5) : 0;
    send_calls = 0;
    fastjson = (o1 & 4) != 0;
    members = 6;
    memset(&ops, 0, sizeof ops);
    ops.on_accept = peer_accept;
    ops.on_data = peer_data;
    for (i = 0; i < NSERVERS; i++) {
        rmq_sim_listen(sim, hosts[i], ports[i], &ops, (void *)(intptr_t)i);
        if (fz_u8(&script) & 1) {
            static const size_t sizes[4] = { 0, 1, 7, 300 };
            memset(&f, 0, sizeof f);
            f.latency_ms = fz_pick(&script, 4) * 7u;
            f.read_max = sizes[fz_pick(&script, 4)];
            f.write_max = sizes[fz_pick(&script, 4)];
            rmq_sim_set_faults(sim, hosts[i], ports[i], &f);
        }
    }
    rmq_producer_config_init(&cfg);
    cfg.group = "fuzz_producer";
    cfg.namesrv_addr = o2 & 1 ? "10.0.0.1:9876;10.0.0.9:9876" : "10.0.0.1:9876";
    cfg.port = &port;
#ifndef RMQ_NO_BINARY_HEADER
    cfg.serialize = o1 & 8 ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
#endif
#ifndef RMQ_NO_LATENCY_FAULT
    cfg.latency_fault_enable = (o1 & 16) != 0;
#endif
#ifdef RMQ_NO_MALLOC
    rmq_pool_init(&fz_pool, fz_pool_mem, sizeof fz_pool_mem);
    cfg.mem_ctx = &fz_pool;
#endif
    cfg.retry_times = (o2 >> 1) & 3;
    cfg.retry_times_async = (o2 >> 3) & 3;
    cfg.retry_another_broker_when_not_store_ok = (o2 & 32) != 0;
    cfg.send_timeout_ms = 200u + fz_u16(&script) % 6000u;
    cfg.max_pending = 1 + fz_pick(&script, 64);
    if (rmq_producer_create(&cfg, &producer) != RMQ_OK || rmq_producer_start(producer) != RMQ_OK) abort();
}

static void teardown(void)
{
    rmq_stats st;
    int i;
    rmq_producer_flush(producer, 120000);
    rmq_producer_shutdown(producer);
    FZ_CHECK(rmq_producer_state(producer) == RMQ_STATE_SHUTDOWN_ALREADY);
    rmq_producer_stats(producer, &st);
    FZ_CHECK(st.pending_sends == 0 && st.pending_bytes == 0);
    rmq_producer_destroy(producer);
    producer = NULL;
#ifdef RMQ_NO_MALLOC
    FZ_CHECK(fz_pool.used == 0);              /* LeakSanitizer does not see the pool */
#endif
    for (i = 0; i < nsends; i++) {
        if (sends[i].accepted && sends[i].calls != 1) fprintf(stderr, "send %d: %d callbacks\n", i, sends[i].calls);
        FZ_CHECK(sends[i].accepted ? sends[i].calls == 1 : sends[i].calls == 0);
    }
    for (i = 0; i < nconns; i++) {
        FZ_CHECK(!rmq_sim_conn_client_open(conns[i]->c));
        free(conns[i]);
    }
    nconns = 0;
    rmq_sim_destroy(sim);
    sim = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16) return 0;
    fz_init(&script, data, size);
    memset(sends, 0, sizeof sends);
    nsends = 0;
    setup();
    run_calls();
    ops_left = 0;
    teardown();
    return 0;
}
