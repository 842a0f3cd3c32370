/* End-to-end tests: the producer over real loopback sockets (the POSIX
 * port) against the mock cluster of tests/mockbroker, which every test
 * starts and stops itself. What the mock stored (DUMP), saw (REQUESTS) and
 * registered (CLIENTS) is checked, not only what the calls returned.
 *
 *     build/san/test_e2e [name-filter]      (RMQ_TEST_VERBOSE=1: timings)
 *
 * The mock binary is $MOCKBROKER, else tests/mockbroker/mockbroker: run
 * from the repository root. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"
#include "e2e_store.h"

#include <fcntl.h>
#include <time.h>


#define E2E_MAX_PRODUCERS 8

/* -- the fixture: one mock cluster and the producers of the running test --- */
static struct {
    mock_cluster mock;
    int mock_up;
    rmq_producer *producers[E2E_MAX_PRODUCERS];
    e2e_store store;
    char log[1 << 20];                  /* the last REQUESTS / CLIENTS reply */
} E;

static void e2e_nap_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static int e2e_start(const char *args)
{
    char all[512];
    snprintf(all, sizeof all, "--quiet %s", args);
    if (mock_start(&E.mock, all) != 0) return -1;
    E.mock_up = 1;
    return 0;
}

static void e2e_config(rmq_producer_config *cfg, const char *group)
{
    rmq_producer_config_init(cfg);
    cfg->group = group;
    cfg->namesrv_addr = E.mock.namesrv;
    cfg->port = rmq_port_posix();
}

static rmq_producer *e2e_producer_with(const rmq_producer_config *cfg)
{
    rmq_producer *p;
    int i;
    if (rmq_producer_create(cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) {
        fprintf(stderr, "  start failed: %s\n", rmq_producer_last_error(p));
        rmq_producer_destroy(p);
        return NULL;
    }
    for (i = 0; i < E2E_MAX_PRODUCERS; i++)
        if (!E.producers[i]) { E.producers[i] = p; return p; }
    rmq_producer_destroy(p);
    return NULL;
}

static rmq_producer *e2e_producer(const char *group)
{
    rmq_producer_config cfg;
    e2e_config(&cfg, group);
    return e2e_producer_with(&cfg);
}

static void e2e_destroy(rmq_producer *p)
{
    int i;
    for (i = 0; i < E2E_MAX_PRODUCERS; i++) if (E.producers[i] == p) E.producers[i] = NULL;
    rmq_producer_destroy(p);
}

/* Destroys what the test left (all of it when a check ended the test
 * early) and stops the mock; returns the mock's exit status, 0 = clean. */
static int e2e_finish(void)
{
    int i, rc = 0;
    for (i = 0; i < E2E_MAX_PRODUCERS; i++)
        if (E.producers[i]) { rmq_producer_destroy(E.producers[i]); E.producers[i] = NULL; }
    e2e_store_free(&E.store);
    if (E.mock_up) { rc = mock_stop(&E.mock); E.mock_up = 0; }
    return rc;
}

/* What the mock stored for topic, indexed by UNIQ_KEY (NULL on failure). */
static const e2e_store *e2e_dump(const char *topic)
{
    return e2e_store_load(&E.mock, topic, 0, &E.store) == 0 ? &E.store : NULL;
}

/* A log command (REQUESTS or CLIENTS, optionally of one server). */
static const char *e2e_log(const char *cmd, const char *server)
{
    if (mock_cmd(&E.mock, E.log, sizeof E.log, "%s %s", cmd, server ? server : "") != 0) return "";
    return E.log;
}

static int e2e_cmd(const char *cmd)
{
    return mock_cmd(&E.mock, NULL, 0, "%s", cmd);
}

/* Waits (bounded) until the mock stored `want` messages of topic: a oneway
 * send is complete for the producer once written, not once stored. */
static long e2e_wait_count(const char *topic, long want, long ms)
{
    long deadline = mock_now_ms() + ms, n;
    while ((n = mock_count(&E.mock, topic)) < want && mock_now_ms() < deadline) e2e_nap_ms(2);
    return n;
}

/* -- a port that trickles ---------------------------------------------------- */
/* The POSIX port, but send, sendv and recv move at most e2e_trickle bytes a
 * call: every frame is written in pieces and read split, deterministically
 * (over loopback the kernel would take a whole megabyte at once). */
static rmq_port e2e_trickle_port;
static size_t e2e_trickle;
static long e2e_partial_writes, e2e_partial_reads;

static long e2e_trickle_send(void *ctx, void *conn, const void *buf, size_t len)
{
    long n = rmq_port_posix()->send(ctx, conn, buf, len < e2e_trickle ? len : e2e_trickle);
    if (n > 0 && (size_t)n < len) e2e_partial_writes++;
    return n;
}

static long e2e_trickle_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    rmq_iovec cut[8];
    size_t left = e2e_trickle, asked = 0;
    int i, k = 0;
    long n;
    for (i = 0; i < iovcnt; i++) asked += iov[i].len;
    for (i = 0; i < iovcnt && left && k < 8; i++) {
        cut[k].base = iov[i].base;
        cut[k].len = iov[i].len < left ? iov[i].len : left;
        left -= cut[k++].len;
    }
    n = rmq_port_posix()->sendv(ctx, conn, cut, k);
    if (n > 0 && (size_t)n < asked) e2e_partial_writes++;
    return n;
}

static long e2e_trickle_recv(void *ctx, void *conn, void *buf, size_t len)
{
    long n = rmq_port_posix()->recv(ctx, conn, buf, len < e2e_trickle ? len : e2e_trickle);
    if (n > 0 && (size_t)n == e2e_trickle && len > e2e_trickle) e2e_partial_reads++;
    return n;
}

static const rmq_port *e2e_trickle_port_of(size_t bytes)
{
    rmq_port_posix_init(&e2e_trickle_port);
    e2e_trickle_port.send = e2e_trickle_send;
    e2e_trickle_port.sendv = e2e_trickle_sendv;
    e2e_trickle_port.recv = e2e_trickle_recv;
    e2e_trickle = bytes;
    e2e_partial_writes = e2e_partial_reads = 0;
    return &e2e_trickle_port;
}

/* -- messages --------------------------------------------------------------- */
/* A message with every part a broker stores: tags, two keys, two user
 * properties, a flag and a binary body (every byte value, 0x01 and 0x02
 * included). Used in place: the message points into the struct. */
typedef struct e2e_msg {
    rmq_message m;
    rmq_property props[2];
    char keys[64], shard[16];
    unsigned char body[300];
} e2e_msg;

static void e2e_msg_init(e2e_msg *b, const char *topic, const char *tags, int n)
{
    size_t i;
    snprintf(b->keys, sizeof b->keys, "K%d order-%d", n, n);
    snprintf(b->shard, sizeof b->shard, "s%d", n % 5);
    for (i = 0; i < sizeof b->body; i++) b->body[i] = (unsigned char)(i * 7u + (unsigned)n);
    b->props[0].key = "color";
    b->props[0].value = "blue";
    b->props[1].key = "shard";
    b->props[1].value = b->shard;
    rmq_message_init(&b->m, topic, b->body, sizeof b->body - (size_t)(n % 37));
    b->m.tags = tags;
    b->m.keys = b->keys;
    b->m.properties = b->props;
    b->m.nproperties = 2;
    b->m.flag = n;
}

/* Every async send's completion, counted per message. */
typedef struct e2e_cb {
    int calls;
    rmq_err err;
    rmq_send_result res;
} e2e_cb;

static void e2e_on_send(rmq_err err, const rmq_send_result *res, void *user)
{
    e2e_cb *c = (e2e_cb *)user;
    c->calls++;
    c->err = err;
    c->res = *res;
}

/* -- what a stored message must look like ----------------------------------- */
/* The stored line holds m as it was sent: topic, tags, keys, the user
 * properties, the flag, the body bytes, the group and the header form. */
static void check_line_is_message(const char *line, const rmq_message *m, const char *group, const char *ser)
{
    static char hex[2 * 70000 + 1], stored[sizeof hex];
    char v[1024];
    size_t i;
    CHECK(e2e_str(line, "topic", v, sizeof v) == 0);
    CHECK_STR(v, m->topic);
    if (m->tags) { CHECK(e2e_str(line, "tags", v, sizeof v) == 0); CHECK_STR(v, m->tags); }
    else CHECK_INT(e2e_str(line, "tags", v, sizeof v), 1);
    if (m->keys) { CHECK(e2e_str(line, "keys", v, sizeof v) == 0); CHECK_STR(v, m->keys); }
    else CHECK_INT(e2e_str(line, "keys", v, sizeof v), 1);
    for (i = 0; i < m->nproperties; i++) {
        CHECKF(e2e_prop(line, m->properties[i].key, v, sizeof v) == 0, "property %s not stored: %.300s",
               m->properties[i].key, line);
        CHECK_STR(v, m->properties[i].value);
    }
    CHECK(e2e_prop(line, "WAIT", v, sizeof v) == 0);
    CHECK_STR(v, m->wait_store_msg_ok ? "true" : "false");
    if (m->delay_level > 0) {
        CHECK(e2e_prop(line, "DELAY", v, sizeof v) == 0);
        CHECK_INT(atoi(v), m->delay_level);
    } else {
        CHECK_INT(e2e_prop(line, "DELAY", v, sizeof v), -1);
    }
    CHECK_INT(e2e_num(line, "sysFlag"), 0);
    CHECK_INT(e2e_num(line, "flag"), m->flag);
    CHECK_INT(e2e_num(line, "bodyLen"), m->body_len);
    CHECK(m->body_len * 2 < sizeof hex);
    e2e_hex(m->body, m->body_len, hex);
    CHECK(e2e_str(line, "bodyHex", stored, sizeof stored) == 0);
    CHECK_STR(stored, hex);
    CHECK(e2e_str(line, "producerGroup", v, sizeof v) == 0);
    CHECK_STR(v, group);
    CHECK(e2e_str(line, "serialize", v, sizeof v) == 0);
    CHECK_STR(v, ser);
}

/* The copy stored under res->msg_id is m, exactly once, where res says:
 * broker, queue, queue offset, and an offset msg id that is the mock's and
 * decodes to that broker's address and the commit-log offset. */
static void check_stored_result(const e2e_store *st, const rmq_message *m, const rmq_send_result *res,
                                const char *group, const char *ser)
{
    size_t count;
    const char *line = e2e_store_find(st, res->msg_id, &count);
    char v[256], addr[64];
    int64_t off;
    CHECKF(line != NULL, "msg id %s reported but not stored", res->msg_id);
    CHECKF(count == 1, "msg id %s stored %u times", res->msg_id, (unsigned)count);
    STEP(check_line_is_message(line, m, group, ser));
    CHECK_INT(res->status, RMQ_SEND_OK);
    CHECK_STR(res->queue.topic, m->topic);
    CHECK(e2e_str(line, "broker", v, sizeof v) == 0);
    CHECK_STR(v, res->queue.broker_name);
    CHECK_INT(e2e_num(line, "queueId"), res->queue.queue_id);
    CHECK_INT(e2e_num(line, "queueOffset"), res->queue_offset);
    CHECK(e2e_str(line, "offsetMsgId", v, sizeof v) == 0);
    CHECK_STR(res->offset_msg_id, v);
    CHECK_INT(rmq_offset_msg_id_decode(res->offset_msg_id, addr, sizeof addr, &off), RMQ_OK);
    CHECK_STR(addr, mock_broker_addr(&E.mock, res->queue.broker_name));
    CHECK_INT(off, e2e_num(line, "commitLogOffset"));
    CHECK_STR(res->region_id, "DefaultRegion");
}

/* A oneway message (no result to go by) is found by its keys: stored once,
 * as sent, with a 32-digit UNIQ_KEY; on broker/queue when those are given. */
static void check_stored_oneway(const e2e_store *st, const rmq_message *m, const char *group,
                                const char *broker, int queue_id)
{
    size_t count;
    const char *line = e2e_store_find_field(st, "keys", m->keys, &count);
    char v[256];
    CHECKF(line != NULL, "oneway message with keys '%s' not stored", m->keys);
    CHECKF(count == 1, "oneway message with keys '%s' stored %u times", m->keys, (unsigned)count);
    STEP(check_line_is_message(line, m, group, "JSON"));
    CHECK(e2e_str(line, "uniqKey", v, sizeof v) == 0);
    CHECK_INT(strlen(v), 32);
    if (broker) { CHECK(e2e_str(line, "broker", v, sizeof v) == 0); CHECK_STR(v, broker); }
    if (queue_id >= 0) CHECK_INT(e2e_num(line, "queueId"), queue_id);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, H. Hinnant's rule). */
static long e2e_days_from_civil(long y, long m, long d)
{
    long era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The UNIQ_KEY of a message the mock stored (spec 5.2, UTC month base as
 * DESIGN 7 says): the client's IPv4 address and pid, then the milliseconds
 * from the start of the UTC month to the born timestamp. Returns its
 * 16-bit counter through *counter. */
static void check_msg_id_anatomy(const char *line, const char *client_id, unsigned *counter)
{
    char id[64], want[16];
    unsigned a, b, c, d, pid, delta, n;
    long long born = e2e_num(line, "bornTimestamp"), month;
    time_t secs;
    struct tm tm;
    CHECK(e2e_str(line, "uniqKey", id, sizeof id) == 0);
    CHECK_INT(strlen(id), 32);
    if (sscanf(client_id, "%u.%u.%u.%u@%u", &a, &b, &c, &d, &pid) == 5) {
        snprintf(want, sizeof want, "%02X%02X%02X%02X%04X", a, b, c, d, pid & 0xFFFFu);
        CHECKF(strncmp(id, want, 12) == 0, "msg id %s does not start with ip and pid %s of %s", id, want, client_id);
    }
    secs = (time_t)(born / 1000);
    CHECK(gmtime_r(&secs, &tm) != NULL);
    month = (long long)e2e_days_from_civil(tm.tm_year + 1900L, tm.tm_mon + 1L, 1) * 86400000LL;
    CHECK(sscanf(id + 20, "%8x%4x", &delta, &n) == 2);
    CHECKF(born - month - (long long)delta >= -2000 && born - month - (long long)delta <= 2000,
           "msg id time %u ms into the month, born %lld ms into it", delta, born - month);
    *counter = n;
}

/* Java's String.hashCode() of an ASCII string and SelectMessageQueueByHash,
 * written here from the Java source, apart from the library's own. */
static int java_select_by_hash(const char *key, int n)
{
    uint32_t h = 0;
    int32_t hash, value;
    for (; *key; key++) h = h * 31u + (unsigned char)*key;
    hash = h <= 0x7FFFFFFFu ? (int32_t)h : (int32_t)(h - 0x80000000u) - 0x7FFFFFFF - 1;
    value = hash % n;                                  /* Java's %: the sign of the dividend */
    return value < 0 ? -value : value;                 /* Math.abs */
}

/* The publish queues of a topic the mock created with 4 queues on each of
 * brokers a and b, in the order Java builds them (brokers by name). */
static void check_two_broker_queues(const rmq_queue *qs, size_t n, const char *topic)
{
    size_t i;
    CHECK_INT(n, 8);
    for (i = 0; i < n; i++) {
        CHECK_STR(qs[i].topic, topic);
        CHECK_STR(qs[i].broker_name, i < 4 ? "broker-a" : "broker-b");
        CHECK_INT(qs[i].queue_id, (int)(i % 4));
    }
}

/* Polls p (3 s at most) until the route of topic has want queues; they
 * are left in qs (cap of them), their number in *n. */
static void e2e_wait_queues(rmq_producer *p, const char *topic, size_t want, rmq_queue *qs, size_t cap, size_t *n)
{
    long deadline = mock_now_ms() + 3000;
    CHECK_INT(rmq_fetch_publish_queues(p, topic, qs, cap, n), RMQ_OK);
    while (*n != want && mock_now_ms() < deadline) {
        rmq_producer_poll(p, 50);
        CHECK_INT(rmq_fetch_publish_queues(p, topic, qs, cap, n), RMQ_OK);
    }
    CHECKF(*n == want, "%s: %lu queues after 3 s, not %lu", topic, (unsigned long)*n, (unsigned long)want);
}

/* -- every send path --------------------------------------------------------- */
static void test_sync_send_stores_the_message_as_sent_where_the_result_says(void)
{
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b[4];
    const e2e_store *st;
    const char *line;
    size_t count;
    unsigned counter = 0, last = 0;
    long long now_epoch;
    int i;
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_sync")) != NULL);
    for (i = 0; i < 4; i++) {
        e2e_msg_init(&b[i], "TopicTest", i % 2 ? "TagA" : NULL, i + 1);
        b[i].m.wait_store_msg_ok = i != 2;
        b[i].m.delay_level = i == 3 ? 3 : 0;
        CHECK_INT(rmq_send(p, &b[i].m, &res), RMQ_OK);
        now_epoch = (long long)time(NULL) * 1000;
        CHECK((st = e2e_dump("TopicTest")) != NULL);
        STEP(check_stored_result(st, &b[i].m, &res, "e2e_sync", "JSON"));
        CHECK_INT(res.trace_on, 1);
        CHECK_STR(RES_REASON(res), "");
        line = e2e_store_find(st, res.msg_id, &count);
        CHECK(e2e_num(line, "bornTimestamp") > now_epoch - 10000);
        CHECK(e2e_num(line, "bornTimestamp") < now_epoch + 10000);
        STEP(check_msg_id_anatomy(line, rmq_producer_client_id(p), &counter));
        if (i) CHECK_INT(counter, (last + 1) & 0xFFFFu);
        last = counter;
    }
    CHECK_INT(mock_count(&E.mock, "TopicTest"), 4);
    CHECK_INT(e2e_finish(), 0);
}

/* Quotes, backslashes, control bytes, JSON-looking text and UTF-8 in tags,
 * keys, property names and values: the JSON header must escape them and
 * the binary one carry them as bytes; either way they are stored as sent. */
static void test_text_a_json_header_must_escape_is_stored_as_sent_in_both_header_forms(void)
{
    static const char *const values[7] = { "say \"hi\"", "back\\slash\\", "tab\there", "new\nline\r",
                                           "caf\xC3\xA9 \xE2\x98\x95", "{\"json\":[1,2],\"u\":\"\\u0041\"}",
                                           "ctl\037end\177" };
    static const char body[] = "\"body\"\n\\\0end";
    static const char *const names[7] = { "quote\"d", "back\\", "tab\tkey", "nl", "\303\274ber", "json", "ctl" };
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_property props[7];
    rmq_message m;
    const e2e_store *st;
    int form, i;
    for (i = 0; i < 7; i++) { props[i].key = names[i]; props[i].value = values[i]; }
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    for (form = 0; form < 2; form++) {
        e2e_config(&cfg, form ? "e2e_escape_bin" : "e2e_escape_json");
        cfg.serialize = form ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
        CHECK((p = e2e_producer_with(&cfg)) != NULL);
        rmq_message_init(&m, "TopicTest", body, sizeof body - 1);
        m.tags = "Tag \"q\" \\ caf\xC3\xA9";
        m.keys = form ? "k\"1 k\\2 \xE2\x98\x95" : "k\"1 k\\2 \t3";
        m.properties = props;
        m.nproperties = 7;
        CHECKF(rmq_send(p, &m, &res) == RMQ_OK, "%s", rmq_producer_last_error(p));
        CHECK((st = e2e_dump("TopicTest")) != NULL);
        STEP(check_stored_result(st, &m, &res, cfg.group, form ? "ROCKETMQ" : "JSON"));
        e2e_destroy(p);
    }
    CHECK_INT(e2e_finish(), 0);
}

static void test_async_sends_call_back_once_each_with_the_ids_of_the_stored_copy(void)
{
    enum { N = 40 };
    static e2e_msg b[N];
    static e2e_cb cb[N];
    rmq_producer *p;
    const e2e_store *st;
    int i;
    memset(cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_async")) != NULL);
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagAsync", i);
        CHECK_INT(rmq_send_async(p, &b[i].m, e2e_on_send, &cb[i]), RMQ_OK);
        CHECK_INT(cb[i].calls, 0);                          /* never from inside the call */
    }
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    CHECK_INT(st->n, N);
    for (i = 0; i < N; i++) {
        CHECKF(cb[i].calls == 1, "message %d: %d callbacks", i, cb[i].calls);
        CHECKF(cb[i].err == RMQ_OK, "message %d: %s (%s)", i, rmq_strerror(cb[i].err), RES_REASON(cb[i].res));
        STEP(check_stored_result(st, &b[i].m, &cb[i].res, "e2e_async", "JSON"));
    }
    rmq_producer_poll(p, 20);
    for (i = 0; i < N; i++) CHECK_INT(cb[i].calls, 1);
    CHECK_INT(e2e_finish(), 0);
}

static void test_oneway_sends_are_stored_once_each_after_flush(void)
{
    enum { N = 10 };
    e2e_msg b[N];
    rmq_producer *p;
    rmq_stats stats;
    const e2e_store *st;
    int i;
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_oneway")) != NULL);
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagOneway", 100 + i);
        CHECK_INT(rmq_send_oneway(p, &b[i].m), RMQ_OK);
    }
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    rmq_producer_stats(p, &stats);
    CHECK_INT(stats.pending_sends, 0);
    CHECK_INT(e2e_wait_count("TopicTest", N, 3000), N);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    for (i = 0; i < N; i++) STEP(check_stored_oneway(st, &b[i].m, "e2e_oneway", NULL, -1));
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", NULL), " code=310 ", " flag=2 "), N);
    CHECK_INT(e2e_line_count(E.log, " code=310 ", NULL), N);
    CHECK_INT(e2e_finish(), 0);
}

static void test_send_to_a_queue_lands_on_that_queue_sync_and_async(void)
{
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n;
    rmq_send_result res;
    e2e_msg b[3];
    e2e_cb cb[2];
    const e2e_store *st;
    memset(cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_to_queue")) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    STEP(check_two_broker_queues(qs, n, "TopicTest"));
    e2e_msg_init(&b[0], "TopicTest", "TagQ", 1);
    CHECK_INT(rmq_send_to_queue(p, &b[0].m, &qs[5], &res), RMQ_OK);
    CHECK_STR(res.queue.broker_name, "broker-b");
    CHECK_INT(res.queue.queue_id, 1);
    e2e_msg_init(&b[1], "TopicTest", "TagQ", 2);
    e2e_msg_init(&b[2], "TopicTest", "TagQ", 3);
    CHECK_INT(rmq_send_to_queue_async(p, &b[1].m, &qs[2], e2e_on_send, &cb[0]), RMQ_OK);
    CHECK_INT(rmq_send_to_queue_async(p, &b[2].m, &qs[7], e2e_on_send, &cb[1]), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(cb[0].calls, 1);
    CHECK_INT(cb[1].calls, 1);
    CHECK_INT(cb[0].err, RMQ_OK);
    CHECK_INT(cb[1].err, RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[0].m, &res, "e2e_to_queue", "JSON"));
    STEP(check_stored_result(st, &b[1].m, &cb[0].res, "e2e_to_queue", "JSON"));
    STEP(check_stored_result(st, &b[2].m, &cb[1].res, "e2e_to_queue", "JSON"));
    CHECK_STR(cb[0].res.queue.broker_name, "broker-a");
    CHECK_INT(cb[0].res.queue.queue_id, 2);
    CHECK_STR(cb[1].res.queue.broker_name, "broker-b");
    CHECK_INT(cb[1].res.queue.queue_id, 3);
    CHECK_INT(e2e_finish(), 0);
}

static void test_oneway_to_a_queue_lands_on_that_queue(void)
{
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n;
    e2e_msg b[2];
    const e2e_store *st;
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_oneway_queue")) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    STEP(check_two_broker_queues(qs, n, "TopicTest"));
    e2e_msg_init(&b[0], "TopicTest", "TagOQ", 7);
    e2e_msg_init(&b[1], "TopicTest", "TagOQ", 8);
    CHECK_INT(rmq_send_oneway_to_queue(p, &b[0].m, &qs[3]), RMQ_OK);
    CHECK_INT(rmq_send_oneway_to_queue(p, &b[1].m, &qs[6]), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(e2e_wait_count("TopicTest", 2, 3000), 2);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_oneway(st, &b[0].m, "e2e_oneway_queue", "broker-a", 3));
    STEP(check_stored_oneway(st, &b[1].m, "e2e_oneway_queue", "broker-b", 2));
    CHECK_INT(e2e_finish(), 0);
}

static void test_select_by_hash_lands_on_the_queue_java_picks_sync_and_async(void)
{
    enum { N = 12 };
    static e2e_msg b[2 * N];
    static e2e_cb cb[N];
    static const char *const order[N] = { "order-42", "order-1", "order-2", "order-3", "order-77", "cust-9",
                                          "cust-10", "x", "abcdefghijklmnopqrstuvwxyz", "Aa", "BB", "zz-top" };
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n;
    rmq_send_result res;
    const e2e_store *st;
    int i, want;
    memset(cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 2 --topic OrderTopic") == 0);
    CHECK((p = e2e_producer("e2e_select")) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "OrderTopic", qs, 16, &n), RMQ_OK);
    STEP(check_two_broker_queues(qs, n, "OrderTopic"));
    CHECK_INT(java_select_by_hash("order-42", 8), 5);      /* the value Java prints */
    for (i = 0; i < N; i++) {
        want = java_select_by_hash(order[i], (int)n);
        e2e_msg_init(&b[i], "OrderTopic", "TagSel", i);
        CHECK_INT(rmq_send_select(p, &b[i].m, rmq_select_by_hash, (void *)order[i], &res), RMQ_OK);
        CHECKF(strcmp(res.queue.broker_name, qs[want].broker_name) == 0 && res.queue.queue_id == qs[want].queue_id,
               "key %s: sent to %s/%d, Java picks %s/%d", order[i], res.queue.broker_name, res.queue.queue_id,
               qs[want].broker_name, qs[want].queue_id);
        CHECK((st = e2e_dump("OrderTopic")) != NULL);
        STEP(check_stored_result(st, &b[i].m, &res, "e2e_select", "JSON"));
    }
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[N + i], "OrderTopic", "TagSelAsync", N + i);
        CHECK_INT(rmq_send_select_async(p, &b[N + i].m, rmq_select_by_hash, (void *)order[i], e2e_on_send, &cb[i]),
                  RMQ_OK);
    }
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK((st = e2e_dump("OrderTopic")) != NULL);
    for (i = 0; i < N; i++) {
        want = java_select_by_hash(order[i], (int)n);
        CHECK_INT(cb[i].calls, 1);
        CHECK_INT(cb[i].err, RMQ_OK);
        CHECK_STR(cb[i].res.queue.broker_name, qs[want].broker_name);
        CHECK_INT(cb[i].res.queue.queue_id, qs[want].queue_id);
        STEP(check_stored_result(st, &b[N + i].m, &cb[i].res, "e2e_select", "JSON"));
    }
    CHECK_INT(e2e_finish(), 0);
}

/* The seed's SimpleBatchProducer: three messages, one SEND_BATCH_MESSAGE. */
static void seed_batch(rmq_message ms[3])
{
    static const char *const keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    static const char *const bodies[3] = { "Hello world 0", "Hello world 1", "Hello world 2" };
    int i;
    for (i = 0; i < 3; i++) {
        rmq_message_init(&ms[i], "BatchTest", bodies[i], strlen(bodies[i]));
        ms[i].tags = "Tag";
        ms[i].keys = keys[i];
    }
}

/* The three batch members are stored once each, in order, on one queue
 * with consecutive queue offsets, each as a member of a code-320 batch. */
static void check_batch_stored(const e2e_store *st, const rmq_message ms[3], const char *group, const char *ser,
                               const char *broker, int queue_id, long long first_offset)
{
    size_t count;
    char v[64];
    int i;
    CHECK_INT(st->n, 3);
    for (i = 0; i < 3; i++) {
        const char *line = e2e_store_find_field(st, "keys", ms[i].keys, &count);
        CHECKF(line != NULL && count == 1, "batch member %s stored %u times", ms[i].keys, (unsigned)count);
        STEP(check_line_is_message(line, &ms[i], group, ser));
        CHECK_INT(e2e_num(line, "code"), RMQ_REQ_SEND_BATCH_MESSAGE);
        CHECK(e2e_str(line, "broker", v, sizeof v) == 0);
        CHECK_STR(v, broker);
        CHECK_INT(e2e_num(line, "queueId"), queue_id);
        CHECK_INT(e2e_num(line, "queueOffset"), first_offset + i);
    }
}

static void test_batch_of_the_seed_is_stored_as_three_messages_with_their_own_ids(void)
{
    rmq_producer *p;
    rmq_message ms[3];
    rmq_send_result res[3];
    const e2e_store *st;
    int i;
    seed_batch(ms);
    CHECK(e2e_start("--brokers 2 --topic BatchTest") == 0);
    CHECK((p = e2e_producer("BatchProducerGroupName")) != NULL);
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_OK);
    CHECK((st = e2e_dump("BatchTest")) != NULL);
    STEP(check_batch_stored(st, ms, "BatchProducerGroupName", "JSON", res[0].queue.broker_name,
                            res[0].queue.queue_id, res[0].queue_offset));
    for (i = 0; i < 3; i++) {
        STEP(check_stored_result(st, &ms[i], &res[i], "BatchProducerGroupName", "JSON"));
        CHECK_INT(res[i].queue_offset, res[0].queue_offset + i);
    }
    CHECK(strcmp(res[0].msg_id, res[1].msg_id) != 0 && strcmp(res[1].msg_id, res[2].msg_id) != 0);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", NULL), " code=320 ", "\"m\":\"true\""), 1);
    CHECK_INT(e2e_line_count(E.log, " code=310 ", NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

/* An async batch's completion: res points at one result per message. */
typedef struct e2e_batch_cb {
    int calls;
    rmq_err err;
    rmq_send_result res[3];
} e2e_batch_cb;

static void e2e_on_batch(rmq_err err, const rmq_send_result *res, void *user)
{
    e2e_batch_cb *c = (e2e_batch_cb *)user;
    c->calls++;
    c->err = err;
    memcpy(c->res, res, sizeof c->res);
}

static void test_async_batch_calls_back_once_with_a_result_per_stored_member(void)
{
    rmq_producer *p;
    rmq_message ms[3];
    e2e_batch_cb cb;
    const e2e_store *st;
    int i;
    memset(&cb, 0, sizeof cb);
    seed_batch(ms);
    CHECK(e2e_start("--brokers 2 --topic BatchTest") == 0);
    CHECK((p = e2e_producer("BatchProducerGroupName")) != NULL);
    CHECK_INT(rmq_send_batch_async(p, ms, 3, e2e_on_batch, &cb), RMQ_OK);
    CHECK_INT(cb.calls, 0);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(cb.calls, 1);
    CHECK_INT(cb.err, RMQ_OK);
    CHECK((st = e2e_dump("BatchTest")) != NULL);
    STEP(check_batch_stored(st, ms, "BatchProducerGroupName", "JSON", cb.res[0].queue.broker_name,
                            cb.res[0].queue.queue_id, cb.res[0].queue_offset));
    for (i = 0; i < 3; i++) STEP(check_stored_result(st, &ms[i], &cb.res[i], "BatchProducerGroupName", "JSON"));
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", NULL), " code=320 ", NULL), 1);
    CHECK_INT(e2e_finish(), 0);
}

/* -- the binary (ROCKETMQ) header form --------------------------------------- */
static void test_binary_headers_are_stored_as_rocketmq_serialized_and_results_parsed(void)
{
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res, bres[3];
    rmq_message ms[3];
    e2e_msg b[2];
    e2e_cb cb;
    const e2e_store *st;
    memset(&cb, 0, sizeof cb);
    seed_batch(ms);
    CHECK(e2e_start("--brokers 1 --topic TopicTest --topic BatchTest") == 0);
    e2e_config(&cfg, "e2e_binary");
    cfg.serialize = RMQ_SERIALIZE_ROCKETMQ;
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    e2e_msg_init(&b[0], "TopicTest", "TagBin", 11);
    e2e_msg_init(&b[1], "TopicTest", "TagBin", 12);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &b[1].m, e2e_on_send, &cb), RMQ_OK);
    CHECK_INT(rmq_send_batch(p, ms, 3, bres), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(cb.calls, 1);
    CHECK_INT(cb.err, RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[0].m, &res, "e2e_binary", "ROCKETMQ"));
    STEP(check_stored_result(st, &b[1].m, &cb.res, "e2e_binary", "ROCKETMQ"));
    CHECK((st = e2e_dump("BatchTest")) != NULL);
    STEP(check_batch_stored(st, ms, "e2e_binary", "ROCKETMQ", "broker-a", bres[0].queue.queue_id,
                            bres[0].queue_offset));
    STEP(check_stored_result(st, &ms[2], &bres[2], "e2e_binary", "ROCKETMQ"));
    e2e_destroy(p);                                      /* the unregister too */
    e2e_log("REQUESTS", NULL);
    CHECK(e2e_line_count(E.log, "ns0 code=105 ", " ser=ROCKETMQ ") >= 2);
    CHECK(e2e_line_count(E.log, "broker-a code=34 ", " ser=ROCKETMQ ") >= 1);
    CHECK_INT(e2e_line_count(E.log, "broker-a code=310 ", " ser=ROCKETMQ "), 2);
    CHECK_INT(e2e_line_count(E.log, "broker-a code=320 ", " ser=ROCKETMQ "), 1);
    CHECK_INT(e2e_line_count(E.log, "broker-a code=35 ", " ser=ROCKETMQ "), 1);
    CHECK_INT(e2e_line_count(E.log, " ser=JSON ", NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

/* -- routes --------------------------------------------------------------- */
static void test_a_new_topic_is_auto_created_through_tbw102_and_its_own_route_follows(void)
{
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_queue qs[16];
    size_t n, i;
    e2e_msg b;
    const e2e_store *st;
    int ask_new, ask_default, refresh;
    CHECK(e2e_start("--brokers 2") == 0);
    e2e_config(&cfg, "e2e_autocreate");
    cfg.poll_namesrv_interval_ms = 300;
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    e2e_msg_init(&b, "BrandNewTopic", "TagNew", 5);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_OK);
    CHECK(res.queue.queue_id >= 0 && res.queue.queue_id < 4);   /* min(4, TBW102's 8) */
    CHECK((st = e2e_dump("BrandNewTopic")) != NULL);
    STEP(check_stored_result(st, &b.m, &res, "e2e_autocreate", "JSON"));
    /* asked for the topic (17), then for TBW102 on its behalf */
    e2e_log("REQUESTS", "ns0");
    ask_new = e2e_line_index(E.log, " code=105 ", "\"topic\":\"BrandNewTopic\"");
    ask_default = e2e_line_index(E.log, " code=105 ", "\"topic\":\"TBW102\"");
    CHECK(ask_new >= 0 && ask_default > ask_new);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", res.queue.broker_name), " code=310 ", "\"c\":\"TBW102\""), 1);
    /* until a refresh asks again (the first one is due 10 ms after start,
     * and may run inside a slow first send), the route is TBW102's: both
     * brokers, 4 queues each */
    refresh = e2e_line_count(e2e_log("REQUESTS", "ns0"), " code=105 ", "\"topic\":\"BrandNewTopic\"");
    CHECK_INT(rmq_fetch_publish_queues(p, "BrandNewTopic", qs, 16, &n), RMQ_OK);
    if (refresh == 1) CHECK_INT(n, 8);
    /* the scheduled refresh finds the topic's own route: 4 queues, one broker */
    STEP(e2e_wait_queues(p, "BrandNewTopic", 4, qs, 16, &n));
    for (i = 0; i < n; i++) {
        CHECK_STR(qs[i].broker_name, res.queue.broker_name);
        CHECK_INT(qs[i].queue_id, (int)i);
    }
    refresh = e2e_line_count(e2e_log("REQUESTS", "ns0"), " code=105 ", "\"topic\":\"BrandNewTopic\"");
    CHECK(refresh >= 2);
    e2e_msg_init(&b, "BrandNewTopic", "TagNew", 6);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_OK);
    CHECK((st = e2e_dump("BrandNewTopic")) != NULL);
    STEP(check_stored_result(st, &b.m, &res, "e2e_autocreate", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

static void test_a_broker_the_name_server_starts_or_stops_showing_gains_or_loses_sends_after_a_refresh(void)
{
    enum { N = 8 };
    static e2e_msg b[2 * N];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_queue qs[16];
    size_t n = 0, i;
    int on_b = 0;
    CHECK(e2e_start("--brokers 2 --topic TopicTest --hidden broker-b") == 0);
    e2e_config(&cfg, "e2e_show");
    cfg.poll_namesrv_interval_ms = 100;
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 4);
    for (i = 0; i < n; i++) CHECK_STR(qs[i].broker_name, "broker-a");
    CHECK(e2e_cmd("SHOW broker-b") == 0);
    STEP(e2e_wait_queues(p, "TopicTest", 8, qs, 16, &n));
    STEP(check_two_broker_queues(qs, n, "TopicTest"));
    for (i = 0; i < N; i++) {                            /* 8 sends rotate over the 8 queues */
        e2e_msg_init(&b[i], "TopicTest", "TagShow", (int)i);
        CHECK_INT(rmq_send(p, &b[i].m, &res), RMQ_OK);
        on_b += strcmp(res.queue.broker_name, "broker-b") == 0;
    }
    CHECK_INT(on_b, N / 2);
    CHECK_INT(mock_count(&E.mock, "TopicTest"), N);
    CHECK(e2e_cmd("HIDE broker-a") == 0);
    STEP(e2e_wait_queues(p, "TopicTest", 4, qs, 16, &n));
    for (i = 0; i < n; i++) CHECK_STR(qs[i].broker_name, "broker-b");
    for (i = N; i < 2 * N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagHide", (int)i);
        CHECK_INT(rmq_send(p, &b[i].m, &res), RMQ_OK);
        CHECK_STR(res.queue.broker_name, "broker-b");
    }
    CHECK_INT(mock_count(&E.mock, "TopicTest"), 2 * N);
    CHECK_INT(e2e_finish(), 0);
}

static void test_without_auto_create_a_new_topic_fails_naming_it_and_nothing_is_stored(void)
{
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b;
    CHECK(e2e_start("--brokers 1 --no-autocreate") == 0);
    CHECK((p = e2e_producer("e2e_no_autocreate")) != NULL);
    e2e_msg_init(&b, "NoSuchTopic", "TagNone", 1);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_ERR_NO_ROUTE);
    CHECK_HAS(rmq_producer_last_error(p), "No route info of this topic: NoSuchTopic");
    e2e_log("REQUESTS", "ns0");
    CHECK(e2e_line_index(E.log, " code=105 ", "\"topic\":\"NoSuchTopic\"") >= 0);
    CHECK(e2e_line_index(E.log, " code=105 ", "\"topic\":\"TBW102\"") >= 0);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=310 ", NULL), 0);
    CHECK_INT(mock_count(&E.mock, NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

static void test_a_queue_the_broker_does_not_have_is_refused_with_the_brokers_remark(void)
{
    rmq_producer *p;
    rmq_send_result res;
    rmq_queue q;
    e2e_msg b;
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_bad_queue")) != NULL);
    e2e_msg_init(&b, "TopicTest", "TagBadQueue", 1);
    memset(&q, 0, sizeof q);
    strcpy(q.topic, "TopicTest");
    strcpy(q.broker_name, "broker-a");
    q.queue_id = 9;                                      /* the topic has 4 */
    CHECK_INT(rmq_send_to_queue(p, &b.m, &q, &res), RMQ_ERR_BROKER);
    CHECK_INT(res.broker_code, RMQ_CODE_SYSTEM_ERROR);
    CHECK_HAS(res.remark, "request queueId[9] is illegal, TopicConfig [topicName=TopicTest, readQueueNums=4");
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=310 ", NULL), 1);  /* no retry */
    strcpy(q.broker_name, "broker-z");
    q.queue_id = 0;
    CHECK_INT(rmq_send_to_queue(p, &b.m, &q, &res), RMQ_ERR_BROKER_NOT_FOUND);
    CHECK_HAS(rmq_producer_last_error(p), "The broker[broker-z] not exist");
    strcpy(q.topic, "OtherTopic");
    strcpy(q.broker_name, "broker-a");
    CHECK_INT(rmq_send_to_queue(p, &b.m, &q, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "message's topic not equal mq's topic");
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=310 ", NULL), 1);
    CHECK_INT(mock_count(&E.mock, NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

/* -- failover ------------------------------------------------------------- */
static void test_with_one_of_two_brokers_down_every_sync_send_lands_on_the_other(void)
{
    enum { N = 20 };
    static e2e_msg b[N];
    static rmq_send_result res[N];
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n;
    rmq_send_result warm;
    const e2e_store *st;
    int i;
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_broker_down")) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    e2e_msg_init(&b[0], "TopicTest", "Warm", 0);
    CHECK_INT(rmq_send_to_queue(p, &b[0].m, &qs[0], &warm), RMQ_OK);      /* both connected */
    CHECK_INT(rmq_send_to_queue(p, &b[0].m, &qs[4], &warm), RMQ_OK);
    CHECK(e2e_cmd("DOWN broker-a") == 0);
    CHECK(e2e_cmd("CLEAR") == 0);
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagDown", i);
        CHECKF(rmq_send(p, &b[i].m, &res[i]) == RMQ_OK, "send %d: %s", i, rmq_producer_last_error(p));
        CHECK_STR(res[i].queue.broker_name, "broker-b");
    }
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    CHECK_INT(st->n, N);
    for (i = 0; i < N; i++) STEP(check_stored_result(st, &b[i].m, &res[i], "e2e_broker_down", "JSON"));
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=310 ", NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

static void test_with_one_of_two_name_servers_down_routes_still_arrive(void)
{
    enum { PRODUCERS = 6 };
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b;
    const e2e_store *st;
    int k;
    CHECK(e2e_start("--namesrv 2 --brokers 1 --topic TopicTest") == 0);
    CHECK(strchr(E.mock.namesrv, ';') != NULL);
    CHECK(e2e_cmd("DOWN ns0") == 0);
    /* each producer starts at a random name server: several, so that some
     * start at the dead one */
    for (k = 0; k < PRODUCERS; k++) {
        CHECK((p = e2e_producer("e2e_ns_down")) != NULL);
        e2e_msg_init(&b, "TopicTest", "TagNs", k);
        CHECKF(rmq_send(p, &b.m, &res) == RMQ_OK, "producer %d: %s", k, rmq_producer_last_error(p));
        CHECK((st = e2e_dump("TopicTest")) != NULL);
        STEP(check_stored_result(st, &b.m, &res, "e2e_ns_down", "JSON"));
        e2e_destroy(p);
    }
    CHECK(e2e_line_count(e2e_log("REQUESTS", "ns1"), " code=105 ", "\"topic\":\"TopicTest\"") >= PRODUCERS);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "ns0"), " code=105 ", NULL), 0);
    CHECK_INT(e2e_finish(), 0);
}

static void test_system_error_is_retried_on_the_other_broker_and_stored_once(void)
{
    enum { N = 8 };
    static e2e_msg b[N];
    static rmq_send_result res[N];
    rmq_producer *p;
    rmq_stats before, after;
    const e2e_store *st;
    int i, retried = -1;
    CHECK(e2e_start("--brokers 2 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_system_error")) != NULL);
    CHECK(e2e_cmd("ERROR broker-a 310 1 1 injected system error") == 0);
    /* 8 sends rotate over all 8 queues, so one of them meets the rule */
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagRetry", i);
        rmq_producer_stats(p, &before);
        CHECKF(rmq_send(p, &b[i].m, &res[i]) == RMQ_OK, "send %d: %s", i, rmq_producer_last_error(p));
        rmq_producer_stats(p, &after);
        if (after.retries != before.retries) {
            CHECK_INT(after.retries, before.retries + 1);
            CHECK_STR(res[i].queue.broker_name, "broker-b");   /* the failed broker is avoided */
            retried = i;
        }
    }
    CHECK(retried >= 0);
    for (i = 0; i < (int)after.nbrokers; i++)
        CHECK_INT(after.brokers[i].errors, strcmp(after.brokers[i].broker_name, "broker-a") == 0 ? 1 : 0);
    e2e_log("REQUESTS", NULL);
    CHECK_INT(e2e_line_count(E.log, " code=310 ", NULL), N + 1);   /* one attempt answered 1 */
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    CHECK_INT(st->n, N);
    for (i = 0; i < N; i++) STEP(check_stored_result(st, &b[i].m, &res[i], "e2e_system_error", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

static void test_system_busy_fails_a_sync_send_at_once_with_the_code_and_remark(void)
{
    static const char remark[] = "[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: 206ms";
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b;
    const e2e_store *st;
    char cmd[256];
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_system_busy")) != NULL);
    snprintf(cmd, sizeof cmd, "ERROR broker-a 310 2 1 %s", remark);
    CHECK(e2e_cmd(cmd) == 0);
    e2e_msg_init(&b, "TopicTest", "TagBusy", 1);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_ERR_BROKER);
    CHECK_INT(res.broker_code, RMQ_CODE_SYSTEM_BUSY);
    CHECK_STR(res.remark, remark);
    CHECK_HAS(RES_REASON(res), "SYSTEM_BUSY");
    CHECK_HAS(RES_REASON(res), "broker-a");
    CHECK_HAS(RES_REASON(res), remark);
    CHECK_HAS(rmq_producer_last_error(p), "SYSTEM_BUSY");
    CHECK_HAS(rmq_producer_last_error(p), remark);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=310 ", NULL), 1);   /* not retried */
    CHECK_INT(mock_count(&E.mock, "TopicTest"), 0);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_OK);                                      /* the rule is spent */
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b.m, &res, "e2e_system_busy", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

/* Polls until the first n async sends have called back (bounded). */
static void e2e_poll_calls(rmq_producer *p, const e2e_cb *cb, int n, long ms)
{
    long deadline = mock_now_ms() + ms;
    int i, calls = 0;
    while (mock_now_ms() < deadline) {
        for (calls = 0, i = 0; i < n; i++) calls += cb[i].calls;
        if (calls >= n) return;
        rmq_producer_poll(p, 20);
    }
    CHECKF(calls >= n, "%d of %d sends called back within %ld ms", calls, n, ms);
}

#define KILL_SENDS 1000
/* broker-a answers 200 ms late: the first quarter of the sends is answered
 * by both brokers, the second is stored by both but broker-a's answers are
 * still held when it goes down (a crash after the store, before the ack),
 * the second half finds it down. */
static void test_a_broker_killed_under_1000_async_sends_calls_each_back_once_and_every_ok_is_stored(void)
{
    static e2e_msg b[KILL_SENDS];
    static e2e_cb cb[KILL_SENDS];
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n, count;
    rmq_send_result warm;
    rmq_stats stats;
    const e2e_store *st;
    int i, ok = 0, failed = 0, on_a = 0, on_b = 0, twice = 0, unstored = 0, failed_but_stored = 0;
    int errs[RMQ_ERR__COUNT];
    memset(cb, 0, sizeof cb);
    memset(errs, 0, sizeof errs);
    CHECK(e2e_start("--brokers 2 --topic Failover") == 0);
    CHECK((p = e2e_producer("e2e_kill")) != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "Failover", qs, 16, &n), RMQ_OK);
    e2e_msg_init(&b[0], "Failover", "Warm", 0);
    CHECK_INT(rmq_send_to_queue(p, &b[0].m, &qs[0], &warm), RMQ_OK);
    CHECK_INT(rmq_send_to_queue(p, &b[0].m, &qs[4], &warm), RMQ_OK);
    CHECK(e2e_cmd("CLEAR") == 0);
    CHECK(e2e_cmd("DELAY broker-a 200") == 0);
    for (i = 0; i < KILL_SENDS; i++) {
        e2e_msg_init(&b[i], "Failover", "TagKill", i);
        CHECKF(rmq_send_async(p, &b[i].m, e2e_on_send, &cb[i]) == RMQ_OK, "send %d: %s", i,
               rmq_producer_last_error(p));
        if (i + 1 == KILL_SENDS / 4) STEP(e2e_poll_calls(p, cb, i + 1, 5000));
        if (i + 1 == KILL_SENDS / 2) {
            CHECK_INT(e2e_wait_count("Failover", i + 1, 3000), i + 1);
            CHECK(e2e_cmd("DOWN broker-a") == 0);
        }
    }
    CHECK_INT(rmq_producer_flush(p, 15000), RMQ_OK);
    rmq_producer_stats(p, &stats);
    CHECK((st = e2e_dump("Failover")) != NULL);
    for (i = 0; i < KILL_SENDS; i++) {
        const char *line;
        CHECKF(cb[i].calls == 1, "message %d: %d callbacks", i, cb[i].calls);
        if (cb[i].err != RMQ_OK) {
            failed++;
            errs[cb[i].err]++;
            continue;
        }
        ok++;
        if (strcmp(cb[i].res.queue.broker_name, "broker-a") == 0) on_a++; else on_b++;
        if (!e2e_store_find(st, cb[i].res.msg_id, &count)) { unstored++; continue; }
        if (count > 1) twice++;
        /* the copy the result names is there, whichever copy came first */
        line = e2e_store_find_copy(st, cb[i].res.msg_id, "offsetMsgId", cb[i].res.offset_msg_id);
        CHECKF(line != NULL, "message %d: offset msg id %s not stored", i, cb[i].res.offset_msg_id);
        STEP(check_line_is_message(line, &b[i].m, "e2e_kill", "JSON"));
        CHECK_INT(e2e_num(line, "queueOffset"), cb[i].res.queue_offset);
    }
    /* a failed send may still have been stored (its answer was lost) */
    for (i = 0; i < (int)st->n; i++) {
        char key[64];
        int k;
        e2e_str(st->v[i].line, "keys", key, sizeof key);
        if (sscanf(key, "K%d", &k) == 1 && k >= 0 && k < KILL_SENDS && cb[k].err != RMQ_OK) failed_but_stored++;
    }
    printf("broker-a killed under %d async sends: %d ok (%d answered by broker-a before, %d by broker-b), %d failed",
           KILL_SENDS, ok, on_a, on_b, failed);
    for (i = 0; i < RMQ_ERR__COUNT; i++) if (errs[i]) printf(" [%d: %s]", errs[i], rmq_strerror((rmq_err)i));
    printf("; %u retries; %d stored twice (stored by broker-a, answer lost with it, retried on broker-b); "
           "%d failed sends stored anyway; %u stored in all\n",
           (unsigned)stats.retries, twice, failed_but_stored, (unsigned)st->n);
    CHECKF(unstored == 0, "%d sends reported OK are not in the store", unstored);
    CHECKF(ok == KILL_SENDS, "%d of %d sends failed with broker-b alive", failed, KILL_SENDS);
    CHECK(on_a > 0 && twice > 0);                        /* the scenario did happen */
    CHECK_INT(e2e_finish(), 0);
}

static void test_two_producers_of_one_process_share_one_client_instance_and_leave_it_group_by_group(void)
{
    rmq_producer *p1, *p2;
    rmq_send_result res;
    rmq_stats before, after;
    e2e_msg b[3];
    const e2e_store *st;
    char client_id[RMQ_CLIENT_ID_MAX_LEN + 1], want[512];
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p1 = e2e_producer("e2e_share_1")) != NULL);
    CHECK((p2 = e2e_producer("e2e_share_2")) != NULL);
    CHECK_STR(rmq_producer_client_id(p1), rmq_producer_client_id(p2));
    snprintf(client_id, sizeof client_id, "%s", rmq_producer_client_id(p1));
    e2e_msg_init(&b[0], "TopicTest", "TagShare", 1);
    e2e_msg_init(&b[1], "TopicTest", "TagShare", 2);
    CHECK_INT(rmq_send(p1, &b[0].m, &res), RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[0].m, &res, "e2e_share_1", "JSON"));
    CHECK_INT(rmq_send(p2, &b[1].m, &res), RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[1].m, &res, "e2e_share_2", "JSON"));
    snprintf(want, sizeof want, "HEARTBEAT server=broker-a clientID=%s groups=", client_id);
    CHECK(e2e_line_index(e2e_log("CLIENTS", NULL), want, "e2e_share_1,e2e_share_2") >= 0);
    rmq_producer_stats(p2, &before);
    e2e_destroy(p1);
    snprintf(want, sizeof want, "UNREGISTER server=broker-a clientID=%s producerGroup=e2e_share_1", client_id);
    CHECK_HAS(e2e_log("CLIENTS", NULL), want);
    CHECK_INT(e2e_line_count(E.log, "UNREGISTER ", NULL), 1);
    e2e_msg_init(&b[2], "TopicTest", "TagShare", 3);
    CHECK_INT(rmq_send(p2, &b[2].m, &res), RMQ_OK);      /* on the connection p1 shared */
    rmq_producer_stats(p2, &after);
    CHECK_INT(after.reconnects, before.reconnects);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[2].m, &res, "e2e_share_2", "JSON"));
    e2e_destroy(p2);
    snprintf(want, sizeof want, "UNREGISTER server=broker-a clientID=%s producerGroup=e2e_share_2", client_id);
    CHECK_HAS(e2e_log("CLIENTS", NULL), want);
    CHECK_INT(e2e_finish(), 0);
}

/* Bytes of a stored body (bodyHex) against the sent ones, without a copy. */
static int e2e_hex_equals(const char *line, const unsigned char *body, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    const char *h = e2e__json_get(line, "bodyHex");
    size_t i;
    if (!h || *h++ != '"') return 0;
    for (i = 0; i < len; i++, h += 2)
        if (h[0] != digits[body[i] >> 4] || h[1] != digits[body[i] & 15]) return 0;
    return *h == '"';
}

static void test_megabyte_bodies_written_in_64_kib_pieces_are_stored_whole(void)
{
    enum { MB = 1 << 20, N = 3 };
    static unsigned char body[N][MB];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m[N];
    rmq_send_result res;
    e2e_cb cb[N - 1];
    const e2e_store *st;
    const char *line;
    size_t count, i;
    int k;
    memset(cb, 0, sizeof cb);
    for (k = 0; k < N; k++)
        for (i = 0; i < MB; i++) body[k][i] = (unsigned char)(i * 31u + (i >> 11) + (unsigned)k);
    CHECK(e2e_start("--brokers 1 --topic Big") == 0);
    e2e_config(&cfg, "e2e_big");
    cfg.port = e2e_trickle_port_of(65521);
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    for (k = 0; k < N; k++) rmq_message_init(&m[k], "Big", body[k], MB - (size_t)k);
    /* two queued behind each other on one connection, then a sync one */
    CHECK_INT(rmq_send_async(p, &m[0], e2e_on_send, &cb[0]), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &m[1], e2e_on_send, &cb[1]), RMQ_OK);
    CHECK_INT(rmq_send(p, &m[2], &res), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 10000), RMQ_OK);
    CHECK(e2e_partial_writes >= 3 * 16);
    CHECK(e2e_store_load(&E.mock, "Big", N * (size_t)MB, &E.store) == 0);
    st = &E.store;
    CHECK_INT(st->n, N);
    for (k = 0; k < N; k++) {
        const rmq_send_result *r = k < N - 1 ? &cb[k].res : &res;
        if (k < N - 1) { CHECK_INT(cb[k].calls, 1); CHECK_INT(cb[k].err, RMQ_OK); }
        line = e2e_store_find(st, r->msg_id, &count);
        CHECK(line != NULL && count == 1);
        CHECK_INT(e2e_num(line, "bodyLen"), MB - k);
        CHECKF(e2e_hex_equals(line, body[k], MB - (size_t)k), "body %d stored differently", k);
        CHECK_INT(e2e_num(line, "queueOffset"), r->queue_offset);
    }
    CHECK_INT(e2e_finish(), 0);
}

static void test_one_byte_writes_and_reads_carry_every_kind_of_send(void)
{
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res, bres[3];
    rmq_message ms[3];
    e2e_msg b[3];
    e2e_cb cb;
    const e2e_store *st;
    memset(&cb, 0, sizeof cb);
    seed_batch(ms);
    CHECK(e2e_start("--brokers 1 --topic TopicTest --topic BatchTest") == 0);
    e2e_config(&cfg, "e2e_trickle");
    cfg.port = e2e_trickle_port_of(1);
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    e2e_msg_init(&b[0], "TopicTest", "TagByte", 1);
    e2e_msg_init(&b[1], "TopicTest", "TagByte", 2);
    e2e_msg_init(&b[2], "TopicTest", "TagByte", 3);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &b[1].m, e2e_on_send, &cb), RMQ_OK);
    CHECK_INT(rmq_send_oneway(p, &b[2].m), RMQ_OK);
    CHECK_INT(rmq_send_batch(p, ms, 3, bres), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(cb.calls, 1);
    CHECK_INT(cb.err, RMQ_OK);
    CHECK(e2e_partial_writes > 1000 && e2e_partial_reads > 500);
    CHECK_INT(e2e_wait_count("TopicTest", 3, 3000), 3);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[0].m, &res, "e2e_trickle", "JSON"));
    STEP(check_stored_result(st, &b[1].m, &cb.res, "e2e_trickle", "JSON"));
    STEP(check_stored_oneway(st, &b[2].m, "e2e_trickle", NULL, -1));
    CHECK((st = e2e_dump("BatchTest")) != NULL);
    STEP(check_batch_stored(st, ms, "e2e_trickle", "JSON", "broker-a", bres[0].queue.queue_id, bres[0].queue_offset));
    CHECK_INT(e2e_finish(), 0);
}

/* -- shutdown --------------------------------------------------------------- */
static void test_shutdown_ends_every_pending_async_send_once_and_unregisters_after_heartbeat(void)
{
    enum { N = 20 };
    static e2e_msg b[N];
    static e2e_cb cb[N];
    rmq_producer *p;
    rmq_send_result res;
    const e2e_store *st;
    char client_id[RMQ_CLIENT_ID_MAX_LEN + 1], want[512];
    int i, ok = 0, down = 0, hb, send;
    memset(cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_shutdown")) != NULL);
    snprintf(client_id, sizeof client_id, "%s", rmq_producer_client_id(p));
    CHECK(strchr(client_id, '@') != NULL);
    e2e_msg_init(&b[0], "TopicTest", "Warm", 0);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    /* heartbeat first, then the send */
    e2e_log("REQUESTS", "broker-a");
    hb = e2e_line_index(E.log, " code=34 ", NULL);
    send = e2e_line_index(E.log, " code=310 ", NULL);
    CHECK(hb >= 0 && hb < send);
    snprintf(want, sizeof want, "HEARTBEAT server=broker-a clientID=%s groups=e2e_shutdown ", client_id);
    CHECK_HAS(e2e_log("CLIENTS", NULL), want);
    CHECK(e2e_cmd("CLEAR") == 0);
    CHECK(e2e_cmd("SILENT broker-a 8") == 0);           /* 8 sends stay unanswered */
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagShutdown", i);
        CHECK_INT(rmq_send_async(p, &b[i].m, e2e_on_send, &cb[i]), RMQ_OK);
    }
    rmq_producer_shutdown(p);
    for (i = 0; i < N; i++) {
        CHECKF(cb[i].calls == 1, "message %d: %d callbacks", i, cb[i].calls);
        if (cb[i].err == RMQ_OK) { ok++; continue; }
        CHECKF(cb[i].err == RMQ_ERR_SHUTDOWN, "message %d: %s (%s)", i, rmq_strerror(cb[i].err), RES_REASON(cb[i].res));
        CHECK_HAS(RES_REASON(cb[i].res), "shut down");
        down++;
    }
    CHECK(down >= 1);                                   /* the silent ones at least */
    CHECK_INT(ok + down, N);
    snprintf(want, sizeof want, "UNREGISTER server=broker-a clientID=%s producerGroup=e2e_shutdown", client_id);
    CHECK_HAS(e2e_log("CLIENTS", NULL), want);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "broker-a"), " code=35 ", client_id), 1);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_ERR_STATE);
    e2e_destroy(p);
    for (i = 0; i < N; i++) CHECK_INT(cb[i].calls, 1);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    for (i = 0; i < N; i++)
        if (cb[i].err == RMQ_OK) STEP(check_stored_result(st, &b[i].m, &cb[i].res, "e2e_shutdown", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

/* -- what the peer sends wrong ------------------------------------------------ */
static void test_garbage_from_a_broker_fails_in_flight_requests_naming_it_and_the_next_send_works(void)
{
    enum { N = 3 };
    e2e_cb cb[N];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b[N + 1];
    const e2e_store *st;
    char out[64], why[256];
    long deadline;
    int i, done;
    memset(cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    e2e_config(&cfg, "e2e_garbage");
    cfg.retry_times_async = 0;                          /* see the error itself, not a retry */
    CHECK((p = e2e_producer_with(&cfg)) != NULL);
    e2e_msg_init(&b[N], "TopicTest", "Warm", 99);
    CHECK_INT(rmq_send(p, &b[N].m, &res), RMQ_OK);
    CHECK(e2e_cmd("DELAY broker-a 5000") == 0);         /* answers held: the sends stay in flight */
    for (i = 0; i < N; i++) {
        e2e_msg_init(&b[i], "TopicTest", "TagGarbage", i);
        CHECK_INT(rmq_send_async(p, &b[i].m, e2e_on_send, &cb[i]), RMQ_OK);
    }
    CHECK(mock_cmd(&E.mock, out, sizeof out, "GARBAGE broker-a") == 0);
    CHECK_STR(out, "1\n");
    deadline = mock_now_ms() + 3000;
    for (done = 0; done < N && mock_now_ms() < deadline;) {
        rmq_producer_poll(p, 50);
        for (done = 0, i = 0; i < N; i++) done += cb[i].calls;
    }
    snprintf(why, sizeof why, "%s sent a malformed frame", mock_broker_addr(&E.mock, "broker-a"));
    for (i = 0; i < N; i++) {
        CHECK_INT(cb[i].calls, 1);
        CHECK_INT(cb[i].err, RMQ_ERR_PROTOCOL);
        CHECK_HAS(RES_REASON(cb[i].res), why);
    }
    CHECK(e2e_cmd("RESET broker-a") == 0);
    e2e_msg_init(&b[N], "TopicTest", "TagAfter", 50);
    CHECK_INT(rmq_send(p, &b[N].m, &res), RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[N].m, &res, "e2e_garbage", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

static void test_an_answer_over_the_frame_limit_fails_only_its_request_and_the_connection_stays(void)
{
    rmq_producer *p;
    rmq_send_result res;
    rmq_stats before, after;
    e2e_msg b[3];
    const e2e_store *st;
    char why[128];
    int tries, hb_before, hb_after;
    rmq_err err = RMQ_OK;
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_huge")) != NULL);
    e2e_msg_init(&b[0], "TopicTest", "Warm", 0);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    rmq_producer_stats(p, &before);
    e2e_msg_init(&b[1], "TopicTest", "TagHuge", 1);
    /* HUGE inflates the broker's next answer; only the 1 s heartbeat of the
     * client instance could take it instead of the send, and then once */
    for (tries = 0; tries < 2; tries++) {
        hb_before = e2e_line_count(e2e_log("CLIENTS", NULL), "HEARTBEAT ", NULL);
        CHECK(e2e_cmd("HUGE broker-a 5242880") == 0);   /* 5 MiB > RMQ_MAX_FRAME_BYTES */
        err = rmq_send(p, &b[1].m, &res);
        if (err != RMQ_OK) break;
        hb_after = e2e_line_count(e2e_log("CLIENTS", NULL), "HEARTBEAT ", NULL);
        CHECK(hb_after > hb_before);
    }
    CHECK_INT(err, RMQ_ERR_FRAME_TOO_LARGE);
    snprintf(why, sizeof why, "%s sent a ", mock_broker_addr(&E.mock, "broker-a"));
    CHECK_HAS(RES_REASON(res), why);
    CHECK_HAS(RES_REASON(res), "RMQ_MAX_FRAME_BYTES");
    e2e_msg_init(&b[2], "TopicTest", "TagAfterHuge", 2);
    CHECK_INT(rmq_send(p, &b[2].m, &res), RMQ_OK);
    rmq_producer_stats(p, &after);
    CHECK_INT(after.reconnects, before.reconnects);      /* the same connection carried on */
    CHECK_INT(after.connections, before.connections);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    STEP(check_stored_result(st, &b[2].m, &res, "e2e_huge", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

static void test_a_silent_broker_makes_a_sync_send_time_out_at_its_deadline_naming_it(void)
{
    enum { TIMEOUT_MS = 400 };
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b[2];
    const e2e_store *st;
    char why[128];
    long t0, took;
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_silent")) != NULL);
    e2e_msg_init(&b[0], "TopicTest", "Warm", 0);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    CHECK(e2e_cmd("SILENT broker-a 10") == 0);
    e2e_msg_init(&b[1], "TopicTest", "TagSilent", 1);
    t0 = mock_now_ms();
    CHECK_INT(rmq_send_timeout(p, &b[1].m, &res, TIMEOUT_MS), RMQ_ERR_TIMEOUT);
    took = mock_now_ms() - t0;
    CHECKF(took >= TIMEOUT_MS - 1 && took < TIMEOUT_MS + 250, "timed out after %ld ms, deadline %d ms", took,
           TIMEOUT_MS);
    snprintf(why, sizeof why, "no answer from %s", mock_broker_addr(&E.mock, "broker-a"));
    CHECK_HAS(RES_REASON(res), why);
    CHECK_HAS(rmq_producer_last_error(p), why);
    CHECK(e2e_cmd("RESET broker-a") == 0);
    CHECK_INT(rmq_send(p, &b[1].m, &res), RMQ_OK);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    CHECK_INT(st->n, 2);                                 /* the silent one was not stored */
    STEP(check_stored_result(st, &b[1].m, &res, "e2e_silent", "JSON"));
    CHECK_INT(e2e_finish(), 0);
}

static void test_a_connection_cut_mid_request_is_retried_on_a_new_connection_and_stored_once(void)
{
    rmq_producer *p;
    rmq_send_result res;
    rmq_stats before, after;
    e2e_msg b[2];
    const e2e_store *st;
    size_t count;
    int hb, send;
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK((p = e2e_producer("e2e_cut")) != NULL);
    e2e_msg_init(&b[0], "TopicTest", "Warm", 0);
    CHECK_INT(rmq_send(p, &b[0].m, &res), RMQ_OK);
    CHECK(e2e_cmd("CLEAR") == 0);
    /* this connection and the next one close after 100 more bytes: the
     * request, then the heartbeat of the second connection, are cut short */
    CHECK(e2e_cmd("CUT broker-a 100") == 0);
    rmq_producer_stats(p, &before);
    e2e_msg_init(&b[1], "TopicTest", "TagCut", 1);
    CHECKF(rmq_send(p, &b[1].m, &res) == RMQ_OK, "%s", rmq_producer_last_error(p));
    rmq_producer_stats(p, &after);
    CHECK(after.retries > before.retries);
    CHECK(after.reconnects > before.reconnects);
    CHECK((st = e2e_dump("TopicTest")) != NULL);
    CHECK(e2e_store_find(st, res.msg_id, &count) != NULL);
    CHECK_INT(count, 1);
    STEP(check_stored_result(st, &b[1].m, &res, "e2e_cut", "JSON"));
    /* the connection that carried it was heartbeated first */
    e2e_log("REQUESTS", "broker-a");
    hb = e2e_line_index(E.log, " code=34 ", NULL);
    send = e2e_line_index(E.log, " code=310 ", NULL);
    CHECK(hb >= 0 && hb < send);
    CHECK_INT(e2e_line_count(E.log, " code=310 ", NULL), 1);   /* cut frames are never processed */
    CHECK_INT(e2e_finish(), 0);
}

static void test_an_async_send_whose_route_never_comes_ends_at_its_own_deadline(void)
{
    enum { TIMEOUT_MS = 300 };
    rmq_producer *p;
    e2e_msg b;
    e2e_cb cb;
    long t0, took;
    memset(&cb, 0, sizeof cb);
    CHECK(e2e_start("--brokers 1 --topic TopicTest") == 0);
    CHECK(e2e_cmd("SILENT ns0 5") == 0);
    CHECK((p = e2e_producer("e2e_no_route")) != NULL);
    e2e_msg_init(&b, "TopicTest", "TagLost", 1);
    t0 = mock_now_ms();
    CHECK_INT(rmq_send_async_timeout(p, &b.m, e2e_on_send, &cb, TIMEOUT_MS), RMQ_OK);
    while (!cb.calls && mock_now_ms() - t0 < 3000) rmq_producer_poll(p, 50);
    took = mock_now_ms() - t0;
    CHECK_INT(cb.calls, 1);
    CHECK_INT(cb.err, RMQ_ERR_TIMEOUT);
    CHECKF(took >= TIMEOUT_MS - 1 && took < TIMEOUT_MS + 250, "called back after %ld ms, deadline %d ms", took,
           TIMEOUT_MS);
    CHECK_HAS(RES_REASON(cb.res), "TopicTest");
    CHECK_HAS(RES_REASON(cb.res), E.mock.namesrv);
    CHECK_INT(e2e_line_count(e2e_log("REQUESTS", "ns0"), " code=105 ", "\"topic\":\"TopicTest\""), 1);
    CHECK_INT(mock_count(&E.mock, "TopicTest"), 0);
    CHECK_INT(e2e_finish(), 0);
}

static void test_start_needs_no_name_server_and_the_first_send_names_the_topic_and_the_list(void)
{
    rmq_producer *p;
    rmq_send_result res;
    e2e_msg b;
    CHECK(e2e_start("--namesrv 2 --brokers 1 --topic TopicTest") == 0);
    CHECK(e2e_cmd("DOWN ns0") == 0);
    CHECK(e2e_cmd("DOWN ns1") == 0);
    CHECK((p = e2e_producer("e2e_ns_dead")) != NULL);        /* start: no traffic needed */
    e2e_msg_init(&b, "TopicTest", "TagDead", 1);
    CHECK_INT(rmq_send(p, &b.m, &res), RMQ_ERR_NO_ROUTE);
    CHECK_HAS(rmq_producer_last_error(p), "No route info of this topic: TopicTest");
    CHECK_HAS(rmq_producer_last_error(p), E.mock.namesrv);
    CHECK_HAS(RES_REASON(res), "TopicTest");
    CHECK(e2e_cmd("UP ns1") == 0);
    CHECK(e2e_cmd("UP ns0") == 0);
    /* the dead addresses back off for a second; then the send goes through */
    {
        long deadline = mock_now_ms() + 3000;
        rmq_err err;
        while ((err = rmq_send(p, &b.m, &res)) != RMQ_OK && mock_now_ms() < deadline) rmq_producer_poll(p, 100);
        CHECKF(err == RMQ_OK, "%s", rmq_producer_last_error(p));
    }
    CHECK_INT(mock_count(&E.mock, "TopicTest"), 1);
    CHECK_INT(e2e_finish(), 0);
}

/* Open descriptors of this process (sockets included). */
static int e2e_open_fds(void)
{
    int fd, n = 0;
    for (fd = 0; fd < 4096; fd++) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void test_shutdown_with_a_route_query_in_flight_leaves_no_connection_behind(void)
{
    rmq_producer *p;
    e2e_msg b;
    e2e_cb cb;
    int fds_before, asked_before, asked_after;
    memset(&cb, 0, sizeof cb);
    CHECK(e2e_start("--namesrv 2 --brokers 1 --topic TopicTest") == 0);
    CHECK(e2e_cmd("SILENT ns0 100") == 0);              /* route queries stay unanswered */
    CHECK(e2e_cmd("SILENT ns1 100") == 0);
    (void)rmq_port_posix();                            /* its wake descriptor is made once */
    fds_before = e2e_open_fds();
    CHECK((p = e2e_producer("e2e_teardown")) != NULL);
    e2e_msg_init(&b, "TopicTest", "TagTeardown", 1);
    CHECK_INT(rmq_send_async(p, &b.m, e2e_on_send, &cb), RMQ_OK);
    /* two queries wait on one name server: the topic's and the scheduled
     * refresh of TBW102's route (due 10 ms after start) */
    {
        long deadline = mock_now_ms() + 2000;
        do {
            rmq_producer_poll(p, 20);
            asked_before = e2e_line_count(e2e_log("REQUESTS", NULL), " code=105 ", NULL);
        } while (asked_before < 2 && mock_now_ms() < deadline);
    }
    CHECK_INT(asked_before, 2);
    e2e_destroy(p);
    CHECK_INT(cb.calls, 1);
    CHECK_INT(cb.err, RMQ_ERR_SHUTDOWN);
    e2e_nap_ms(50);                                     /* let a query sent at teardown arrive */
    asked_after = e2e_line_count(e2e_log("REQUESTS", NULL), " code=105 ", NULL);
    CHECKF(asked_after == asked_before, "%d route queries were sent while the instance shut down",
           asked_after - asked_before);
    CHECKF(e2e_open_fds() == fds_before, "%d descriptors left open after destroy", e2e_open_fds() - fds_before);
    CHECK_INT(e2e_finish(), 0);
}

/* Runs one test, then cleans up whatever a failed check left behind. */
#define RUN_E2E(fn) do { long t0_ = mock_now_ms(); if (test_filter && !strstr(#fn, test_filter)) break; \
    RUN(fn); e2e_finish(); \
    if (getenv("RMQ_TEST_VERBOSE")) fprintf(stderr, "     %5ld ms\n", mock_now_ms() - t0_); } while (0)

int main(int argc, char **argv)
{
    long t0 = mock_now_ms();
    /* line by line: LeakSanitizer ends the process before stdio would
     * flush, and the summary line must survive a leak report */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) test_filter = argv[1];
    RUN_E2E(test_start_needs_no_name_server_and_the_first_send_names_the_topic_and_the_list);
    RUN_E2E(test_sync_send_stores_the_message_as_sent_where_the_result_says);
    RUN_E2E(test_text_a_json_header_must_escape_is_stored_as_sent_in_both_header_forms);
    RUN_E2E(test_async_sends_call_back_once_each_with_the_ids_of_the_stored_copy);
    RUN_E2E(test_oneway_sends_are_stored_once_each_after_flush);
    RUN_E2E(test_send_to_a_queue_lands_on_that_queue_sync_and_async);
    RUN_E2E(test_oneway_to_a_queue_lands_on_that_queue);
    RUN_E2E(test_select_by_hash_lands_on_the_queue_java_picks_sync_and_async);
    RUN_E2E(test_batch_of_the_seed_is_stored_as_three_messages_with_their_own_ids);
    RUN_E2E(test_async_batch_calls_back_once_with_a_result_per_stored_member);
    RUN_E2E(test_binary_headers_are_stored_as_rocketmq_serialized_and_results_parsed);
    RUN_E2E(test_a_new_topic_is_auto_created_through_tbw102_and_its_own_route_follows);
    RUN_E2E(test_a_broker_the_name_server_starts_or_stops_showing_gains_or_loses_sends_after_a_refresh);
    RUN_E2E(test_without_auto_create_a_new_topic_fails_naming_it_and_nothing_is_stored);
    RUN_E2E(test_a_queue_the_broker_does_not_have_is_refused_with_the_brokers_remark);
    RUN_E2E(test_with_one_of_two_brokers_down_every_sync_send_lands_on_the_other);
    RUN_E2E(test_with_one_of_two_name_servers_down_routes_still_arrive);
    RUN_E2E(test_system_error_is_retried_on_the_other_broker_and_stored_once);
    RUN_E2E(test_system_busy_fails_a_sync_send_at_once_with_the_code_and_remark);
    RUN_E2E(test_a_broker_killed_under_1000_async_sends_calls_each_back_once_and_every_ok_is_stored);
    RUN_E2E(test_two_producers_of_one_process_share_one_client_instance_and_leave_it_group_by_group);
    RUN_E2E(test_megabyte_bodies_written_in_64_kib_pieces_are_stored_whole);
    RUN_E2E(test_one_byte_writes_and_reads_carry_every_kind_of_send);
    RUN_E2E(test_shutdown_ends_every_pending_async_send_once_and_unregisters_after_heartbeat);
    RUN_E2E(test_shutdown_with_a_route_query_in_flight_leaves_no_connection_behind);
    RUN_E2E(test_garbage_from_a_broker_fails_in_flight_requests_naming_it_and_the_next_send_works);
    RUN_E2E(test_an_answer_over_the_frame_limit_fails_only_its_request_and_the_connection_stays);
    RUN_E2E(test_a_silent_broker_makes_a_sync_send_time_out_at_its_deadline_naming_it);
    RUN_E2E(test_a_connection_cut_mid_request_is_retried_on_a_new_connection_and_stored_once);
    RUN_E2E(test_an_async_send_whose_route_never_comes_ends_at_its_own_deadline);
    if (getenv("RMQ_TEST_VERBOSE")) fprintf(stderr, "total %ld ms\n", mock_now_ms() - t0);
    return test_summary();                            /* it flushes stdout */
}
