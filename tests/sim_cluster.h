/* sim_cluster.h - name servers and brokers as in-process peers of the
 * simulated port, for tests on virtual time. They record every request they
 * receive, store what is sent, serve routes and take faults. (The wire
 * format itself is also checked against the captured frames and against the
 * independent mock cluster in tests/mockbroker.) */

/* A test program uses the helpers it needs. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* The context of the peers' own buffers: a test that gives the producer a
 * pool tells them apart this way (tests/pool_or_heap.h). */
#ifndef RMQ_TEST_HEAP
#define RMQ_TEST_HEAP NULL
#endif

#define SIMC_MAX_SERVERS 6
/* The request log and the store are sized for the host; a build for a
 * small target (tests/target) gives smaller ones. */
#ifndef SIMC_MAX_LOG
#define SIMC_MAX_LOG 4096
#endif
#define SIMC_MAX_TOPICS 16

typedef struct simc_req {
    int server;                  /* index in servers[] */
    int code, flag, serialize;
    int32_t opaque;
    uint32_t at;                 /* virtual time of arrival */
    char ext[1024];              /* k=v\n..., with 0x01/0x02 shown as | and ; */
    char topic[64];
    int queue_id;
    char props[512];
    unsigned char body[256];
    size_t body_len;
} simc_req;

typedef struct simc_server {
    const char *name;            /* "ns0", "broker-a" */
    char host[32];
    uint16_t port;
    int is_broker;
    int up;
    int fail_code, fail_count, fail_req;  /* answer the next fail_count requests of fail_req with fail_code */
    int silent;                  /* requests not answered */
    uint32_t delay_ms;           /* latency of its connections */
    int hidden;                  /* not in routes */
    size_t huge_next;            /* the next answer carries a body this large */
    long long offset;            /* commit-log offset */
    int hb, unreg, sends;
} simc_server;

typedef struct simc_topic {
    char name[64];
    int queues;
    int perm;
    long long next_offset[16];
} simc_topic;

struct simc_conn;

typedef struct simc {
    rmq_sim *sim;
    simc_server s[SIMC_MAX_SERVERS];
    int n;
    simc_topic topics[SIMC_MAX_TOPICS];
    int ntopics;
    simc_req *log;
    int nlog;
    char namesrv[256];
    int fastjson;                /* routes with unquoted brokerAddrs keys */
    void *conns[256];
    int nconns;
    char (*stored)[33];          /* UNIQ_KEY of every message stored, in order */
    int nstored;
    /* A test's own broker requests: 1 when it answered q (sc->frame holds
     * the request's bytes as they arrived). */
    int (*extra)(struct simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q);
} simc;

typedef struct simc_conn {
    simc *c;
    int server;
    const unsigned char *frame;  /* the request being served, as it arrived */
    size_t frame_len;
    unsigned char buf[1 << 16];
    size_t len;
} simc_conn;

static simc_topic *simc_topic_find(simc *c, const char *name, size_t len)
{
    int i;
    for (i = 0; i < c->ntopics; i++)
        if (strlen(c->topics[i].name) == len && memcmp(c->topics[i].name, name, len) == 0) return &c->topics[i];
    return NULL;
}

static void simc_add_topic(simc *c, const char *name, int queues, int perm)
{
    simc_topic *t = &c->topics[c->ntopics++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->queues = queues;
    t->perm = perm;
}

static void simc_answer(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *req, int code, const char *remark,
                        const char **ext, const char *body)
{
    rmq_command r;
    rmq__buf b;
    size_t blen = body ? strlen(body) : 0;
    int i;
    (void)sc;
    rmq__command_init(&r, code, req->opaque, RMQ_FLAG_RESPONSE);
    r.language = 0;
    r.serialize = req->serialize;
    if (remark) r.remark = rmq__cslice(remark);
    for (i = 0; ext && ext[i]; i += 2) rmq_command_put_ext(&r, ext[i], ext[i + 1]);
    rmq__buf_init(&b, RMQ_TEST_HEAP, 8 << 20);
    rmq__frame_encode_head(&b, &r, blen);
    rmq__buf_put(&b, body, blen);
    rmq_sim_conn_write(conn, b.p, b.len);
    rmq__buf_free(&b);
}

static void simc_route(simc *c, const char *topic, size_t tlen, char *out, size_t cap)
{
    int i, n = 0, first = 1;
    simc_topic *t = simc_topic_find(c, topic, tlen);
    n += snprintf(out + n, cap - (size_t)n, "{\"brokerDatas\":[");
    for (i = 0; i < c->n; i++) {
        if (!c->s[i].is_broker || c->s[i].hidden) continue;
        n += snprintf(out + n, cap - (size_t)n, "%s{\"brokerAddrs\":{%s0%s:\"%s:%u\"},\"brokerName\":\"%s\",\"cluster\":\"DefaultCluster\"}",
                      first ? "" : ",", c->fastjson ? "" : "\"", c->fastjson ? "" : "\"", c->s[i].host, c->s[i].port, c->s[i].name);
        first = 0;
    }
    n += snprintf(out + n, cap - (size_t)n, "],\"filterServerTable\":{},\"queueDatas\":[");
    first = 1;
    for (i = 0; i < c->n; i++) {
        if (!c->s[i].is_broker || c->s[i].hidden) continue;
        n += snprintf(out + n, cap - (size_t)n, "%s{\"brokerName\":\"%s\",\"perm\":%d,\"readQueueNums\":%d,\"topicSysFlag\":0,\"writeQueueNums\":%d}",
                      first ? "" : ",", c->s[i].name, t->perm, t->queues, t->queues);
        first = 0;
    }
    snprintf(out + n, cap - (size_t)n, "]}");
}

static void simc_log(simc *c, int server, const rmq_command *q)
{
    simc_req *r;
    size_t i, n = 0;
    rmq_slice props;
    if (c->nlog >= SIMC_MAX_LOG) return;
    r = &c->log[c->nlog++];
    memset(r, 0, sizeof *r);
    r->server = server;
    r->code = q->code;
    r->flag = q->flag;
    r->opaque = q->opaque;
    r->serialize = q->serialize;
    r->at = rmq_sim_now(c->sim);
    r->queue_id = -1;
    for (i = 0; i < q->next && n < sizeof r->ext - 200; i++)
        n += (size_t)snprintf(r->ext + n, sizeof r->ext - n, "%.*s=%.*s\n", (int)q->ext[i].key.len, q->ext[i].key.ptr,
                              (int)(q->ext[i].value.len > 150 ? 150 : q->ext[i].value.len), q->ext[i].value.ptr);
    props = rmq_command_ext(q, "i");
    if (props.ptr) snprintf(r->props, sizeof r->props, "%.*s", (int)props.len, props.ptr);
    if (rmq_command_ext(q, "b").ptr) snprintf(r->topic, sizeof r->topic, "%.*s", (int)rmq_command_ext(q, "b").len, rmq_command_ext(q, "b").ptr);
    if (rmq_command_ext(q, "topic").ptr) snprintf(r->topic, sizeof r->topic, "%.*s", (int)rmq_command_ext(q, "topic").len, rmq_command_ext(q, "topic").ptr);
    if (rmq_command_ext(q, "e").ptr) { int32_t v; if (!rmq__parse_i32(rmq_command_ext(q, "e").ptr, rmq_command_ext(q, "e").len, &v)) r->queue_id = v; }
    r->body_len = q->body_len < sizeof r->body ? q->body_len : sizeof r->body;
    memcpy(r->body, q->body, r->body_len);
}

static void simc_serve_namesrv(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    simc *c = sc->c;
    rmq_slice topic = rmq_command_ext(q, "topic");
    static char body[8192];
    char remark[256];
    if (q->code != RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) { simc_answer(sc, conn, q, 3, " request type not supported", NULL, NULL); return; }
    if (!topic.ptr || !simc_topic_find(c, topic.ptr, topic.len)) {
        snprintf(remark, sizeof remark, "No topic route info in name server for the topic: %.*s", (int)topic.len, topic.ptr ? topic.ptr : "");
        simc_answer(sc, conn, q, RMQ_CODE_TOPIC_NOT_EXIST, remark, NULL, NULL);
        return;
    }
    simc_route(c, topic.ptr, topic.len, body, sizeof body);
    simc_answer(sc, conn, q, 0, NULL, NULL, body);
}

#ifndef SIMC_MAX_STORED
#define SIMC_MAX_STORED 200000
#endif

/* Keeps the UNIQ_KEY of each message stored (each record of a batch). */
static void simc_store(simc *c, const rmq_command *q)
{
    if (!c->stored) c->stored = (char (*)[33])calloc(SIMC_MAX_STORED, 33);
    if (q->code == RMQ_REQ_SEND_BATCH_MESSAGE) {
        size_t at = 0;
        while (at + 22 <= q->body_len && c->nstored < SIMC_MAX_STORED) {
            uint32_t total = rmq__be32(q->body + at), blen = rmq__be32(q->body + at + 16);
            rmq_slice props, u;
            props.ptr = (const char *)q->body + at + 22 + blen;
            props.len = rmq__be16(q->body + at + 20 + blen);
            u = rmq__prop_get(props, "UNIQ_KEY");
            snprintf(c->stored[c->nstored++], 33, "%.*s", (int)u.len, u.ptr ? u.ptr : "");
            if (total < 22) break;
            at += total;
        }
    } else if (c->nstored < SIMC_MAX_STORED) {
        rmq_slice u = rmq__prop_get(rmq_command_ext(q, "i"), "UNIQ_KEY");
        snprintf(c->stored[c->nstored++], 33, "%.*s", (int)u.len, u.ptr ? u.ptr : "");
    }
}

/* How many times a UNIQ_KEY was stored (retries may store one twice). */
static int simc_stored(const simc *c, const char *uniq)
{
    int i, n = 0;
    for (i = 0; i < c->nstored; i++) n += strcmp(c->stored[i], uniq) == 0;
    return n;
}

static void simc_serve_broker(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    simc *c = sc->c;
    simc_server *s = &c->s[sc->server];
    char qid[16], qoff[32], msgid[40], remark[128];
    const char *ext[12];
    simc_topic *t;
    rmq_slice topic = rmq_command_ext(q, "b"), e = rmq_command_ext(q, "e");
    int32_t queue = 0;
    if (c->extra && c->extra(sc, conn, q)) return;
    if (q->code == RMQ_REQ_HEART_BEAT) { s->hb++; simc_answer(sc, conn, q, 0, NULL, NULL, NULL); return; }
    if (q->code == RMQ_REQ_UNREGISTER_CLIENT) { s->unreg++; simc_answer(sc, conn, q, 0, NULL, NULL, NULL); return; }
    if (q->code != RMQ_REQ_SEND_MESSAGE_V2 && q->code != RMQ_REQ_SEND_BATCH_MESSAGE) {
        if (!(q->flag & RMQ_FLAG_ONEWAY)) simc_answer(sc, conn, q, 3, " request type not supported", NULL, NULL);
        return;
    }
    t = topic.ptr ? simc_topic_find(c, topic.ptr, topic.len) : NULL;
    if (!t && topic.ptr && c->ntopics < SIMC_MAX_TOPICS) {   /* auto-create, as autoCreateTopicEnable */
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)topic.len, topic.ptr);
        simc_add_topic(c, name, 4, 6);
        t = &c->topics[c->ntopics - 1];
    }
    if (e.ptr) rmq__parse_i32(e.ptr, e.len, &queue);
    if (!t || queue < 0 || queue >= t->queues) {
        snprintf(remark, sizeof remark, "request queueId[%d] is illegal", (int)queue);
        if (!(q->flag & RMQ_FLAG_ONEWAY)) simc_answer(sc, conn, q, RMQ_CODE_SYSTEM_ERROR, remark, NULL, NULL);
        return;
    }
    s->sends++;
    simc_store(c, q);
    snprintf(qid, sizeof qid, "%d", (int)queue);
    snprintf(qoff, sizeof qoff, "%lld", t->next_offset[queue]++);
    snprintf(msgid, sizeof msgid, "7F000001%08X%016llX", (unsigned)s->port, (unsigned long long)(s->offset += 100));
    if (q->flag & RMQ_FLAG_ONEWAY) return;
    if (s->huge_next) {                                   /* a well-formed, oversized answer */
        char *big = (char *)malloc(s->huge_next + 1);
        memset(big, 'x', s->huge_next);
        big[s->huge_next] = 0;
        s->huge_next = 0;
        simc_answer(sc, conn, q, 0, NULL, NULL, big);
        free(big);
        return;
    }
    ext[0] = "queueId"; ext[1] = qid; ext[2] = "TRACE_ON"; ext[3] = "true"; ext[4] = "MSG_REGION"; ext[5] = "DefaultRegion";
    ext[6] = "msgId"; ext[7] = msgid; ext[8] = "queueOffset"; ext[9] = qoff; ext[10] = NULL;
    simc_answer(sc, conn, q, 0, NULL, ext, NULL);
}

static simc *simc_of(simc_server *s);

static void simc_on_accept(void *ctx, rmq_sim_conn *conn)
{
    simc *c = simc_of((simc_server *)ctx);
    simc_conn *sc = (simc_conn *)calloc(1, sizeof *sc);
    if (c->nconns < 256) c->conns[c->nconns++] = sc;
    rmq_sim_conn_set_user(conn, sc);
}

static simc *simc_of(simc_server *s);

static void simc_on_data(void *ctx, rmq_sim_conn *conn, const uint8_t *data, size_t len)
{
    simc_server *s = (simc_server *)ctx;
    simc *c = simc_of(s);
    simc_conn *sc = (simc_conn *)rmq_sim_conn_user(conn);
    size_t at = 0;
    if (!sc) return;
    sc->c = c;
    sc->server = (int)(s - c->s);
    if (sc->len + len > sizeof sc->buf) return;
    memcpy(sc->buf + sc->len, data, len);
    sc->len += len;
    for (;;) {
        rmq__frame_info fi;
        rmq_command q;
        if (rmq__frame_check(sc->buf + at, sc->len - at, 1 << 20, &fi) != RMQ__FRAME_OK) break;
        if (rmq__frame_decode(sc->buf + at, &fi, fi.total - 8 - fi.header_len, &q) == 0) {
            simc_log(c, sc->server, &q);
            sc->frame = sc->buf + at;
            sc->frame_len = fi.total;
            if (s->silent || (q.flag & RMQ_FLAG_RESPONSE)) { at += fi.total; continue; }
            if (s->fail_count && (s->fail_req == 0 || s->fail_req == q.code)) {
                char remark[64];
                s->fail_count--;
                snprintf(remark, sizeof remark, "injected %s", rmq_response_code_name(s->fail_code));
                if (!(q.flag & RMQ_FLAG_ONEWAY)) simc_answer(sc, conn, &q, s->fail_code, remark, NULL, NULL);
            } else if (s->is_broker) {
                simc_serve_broker(sc, conn, &q);
            } else {
                simc_serve_namesrv(sc, conn, &q);
            }
        }
        at += fi.total;
    }
    memmove(sc->buf, sc->buf + at, sc->len - at);
    sc->len -= at;
}

static simc *simc_registry[8];
static int simc_nregistry;

static simc *simc_of(simc_server *s)
{
    int i;
    for (i = 0; i < simc_nregistry; i++)
        if (s >= simc_registry[i]->s && s < simc_registry[i]->s + SIMC_MAX_SERVERS) return simc_registry[i];
    return NULL;
}

static rmq_sim_peer_ops simc_ops;

static void simc_up(simc *c, int i)
{
    c->s[i].up = 1;
    rmq_sim_listen(c->sim, c->s[i].host, c->s[i].port, &simc_ops, &c->s[i]);
}

static void simc_down(simc *c, int i)
{
    rmq_sim_conn *conn;
    c->s[i].up = 0;
    rmq_sim_unlisten(c->sim, c->s[i].host, c->s[i].port);
    conn = rmq_sim_last_conn(c->sim, c->s[i].host, c->s[i].port);
    if (conn && rmq_sim_conn_client_open(conn)) rmq_sim_conn_reset(conn);
}

/* nns name servers (10.0.0.1..:9876) and nbrokers brokers (10.0.1.x:10911);
 * topic "TopicTest" exists with 4 queues on each broker; TBW102 has 8. */
static simc *simc_create(int nns, int nbrokers, uint32_t start_ms)
{
    simc *c = (simc *)calloc(1, sizeof *c);
    int i, n = 0;
    c->sim = rmq_sim_create(start_ms);
    rmq_sim_set_identity(c->sim, "10.0.0.5", 4242);
    rmq_sim_set_wall(c->sim, INT64_C(1795288064606));
    c->log = (simc_req *)calloc(SIMC_MAX_LOG, sizeof *c->log);
    simc_ops.on_accept = simc_on_accept;
    simc_ops.on_data = simc_on_data;
    simc_registry[simc_nregistry++] = c;
    for (i = 0; i < nns; i++) {
        simc_server *s = &c->s[c->n];
        s->name = i == 0 ? "ns0" : i == 1 ? "ns1" : "ns2";
        snprintf(s->host, sizeof s->host, "10.0.0.%d", i + 1);
        s->port = 9876;
        n += snprintf(c->namesrv + n, sizeof c->namesrv - (size_t)n, "%s%s:9876", i ? ";" : "", s->host);
        simc_up(c, c->n++);
    }
    for (i = 0; i < nbrokers; i++) {
        simc_server *s = &c->s[c->n];
        s->name = i == 0 ? "broker-a" : i == 1 ? "broker-b" : "broker-c";
        snprintf(s->host, sizeof s->host, "10.0.1.%d", i + 1);
        s->port = 10911;
        s->is_broker = 1;
        simc_up(c, c->n++);
    }
    simc_add_topic(c, "TBW102", 8, 7);
    simc_add_topic(c, "TopicTest", 4, 6);
    return c;
}

static void simc_destroy(simc *c)
{
    int i;
    for (i = 0; i < simc_nregistry; i++) if (simc_registry[i] == c) simc_registry[i] = simc_registry[--simc_nregistry];
    rmq_sim_destroy(c->sim);
    for (i = 0; i < c->nconns; i++) free(c->conns[i]);
    free(c->stored);
    free(c->log);
    free(c);
}

static int simc_index(simc *c, const char *name)
{
    int i;
    for (i = 0; i < c->n; i++) if (strcmp(c->s[i].name, name) == 0) return i;
    return -1;
}

/* The next count requests of req (0: any) that server (NULL: every
 * broker) receives are answered code, remark "injected <code name>". */
static void simc_fail(simc *c, const char *server, int req, int code, int count)
{
    int i;
    for (i = 0; i < c->n; i++) {
        if (server ? strcmp(c->s[i].name, server) != 0 : !c->s[i].is_broker) continue;
        c->s[i].fail_req = req;
        c->s[i].fail_code = code;
        c->s[i].fail_count = count;
    }
}

/* How many requests of code (0: any) a server (NULL: any) received. */
static int simc_count(simc *c, const char *server, int code)
{
    int i, n = 0, s = server ? simc_index(c, server) : -1;
    for (i = 0; i < c->nlog; i++)
        if ((s < 0 || c->log[i].server == s) && (code == 0 || c->log[i].code == code)) n++;
    return n;
}

/* The last request of code received (by server, NULL: any), or NULL. */
static simc_req *simc_last(simc *c, const char *server, int code)
{
    int i, s = server ? simc_index(c, server) : -1;
    for (i = c->nlog - 1; i >= 0; i--)
        if ((s < 0 || c->log[i].server == s) && c->log[i].code == code) return &c->log[i];
    return NULL;
}

/* The value of ext field key in a logged request ("" if absent). */
static const char *simc_ext(const simc_req *r, const char *key, char *out, size_t cap)
{
    const char *p = r->ext;
    size_t kl = strlen(key);
    out[0] = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        if ((size_t)(nl - p) > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
            snprintf(out, cap, "%.*s", (int)(nl - p - (long)kl - 1), p + kl + 1);
            return out;
        }
        p = nl + 1;
    }
    return out;
}

/* The completions of async sends given user = a cb_log: how many, how
 * many OK or failed, and the error, reason and message id of the last. */
typedef struct cb_log {
    int calls, ok, fail;
    rmq_err last;
    char reason[256];
    char msg_id[64];
} cb_log;

static void count_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    cb_log *l = (cb_log *)user;
    l->calls++;
    if (err == RMQ_OK) l->ok++; else l->fail++;
    l->last = err;
    rmq_result_reason(res, l->reason, sizeof l->reason);
    snprintf(l->msg_id, sizeof l->msg_id, "%s", res->msg_id);
}

/* Runs p's loop for ms of virtual time (poll returns early after work). */
static void simc_run(simc *c, rmq_producer *p, uint32_t ms)
{
    uint32_t t0 = rmq_sim_now(c->sim);
    while (rmq_sim_now(c->sim) - t0 < ms) rmq_producer_poll(p, ms - (rmq_sim_now(c->sim) - t0));
}

/* A configuration for group on the cluster's port and name servers. */
static void simc_config(simc *c, rmq_producer_config *cfg, const char *group)
{
    rmq_producer_config_init(cfg);
    cfg->group = group;
    cfg->namesrv_addr = c->namesrv;
    cfg->port = rmq_sim_port(c->sim);
}

/* A producer of group on the cluster's port, with its name servers. */
static rmq_producer *simc_producer(simc *c, const char *group)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, group);
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    return p;
}
