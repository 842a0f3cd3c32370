/* test_mockbroker.c - tests of the mock broker:
 *   1. its codec against every captured frame in tests/vectors (values
 *      written down from the frames' .txt descriptions, byte-exact
 *      re-encoding, stored-record and batch decoding);
 *   2. the running mock (via mock_client.h): real request frames replayed
 *      over TCP, answers compared with the captured answers, DUMP/CLIENTS,
 *      route forms, binary headers, fault injection, HTTP, transactions.
 * Usage: test_mockbroker [vectors-dir]   (default ../vectors)
 * Last line: "N passed, N failed"; exit status 1 if anything failed. */
#define MOCK_CLIENT_IMPLEMENTATION
#include "mock_client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mb_codec.h"
#include "mb_json.h"
#include "mb_util.h"
#include "test_vectors_table.h"

/* ---- harness ---- */

static int g_pass, g_fail;
static const char *g_vec_dir = "../vectors";

static void check(int ok, const char *what, const char *file, int line)
{
    if (ok) {
        g_pass++;
        return;
    }
    g_fail++;
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
}

static void check_int(long long got, long long want, const char *what, const char *file, int line)
{
    if (got != want)
        fprintf(stderr, "  %s: got %lld, want %lld\n", what, got, want);
    check(got == want, what, file, line);
}

static void check_str(const char *got, const char *want, const char *what, const char *file, int line)
{
    int same = got && want ? strcmp(got, want) == 0 : got == want;
    if (!same)
        fprintf(stderr, "  %s:\n    got  %s\n    want %s\n", what, got ? got : "(null)", want ? want : "(null)");
    check(same, what, file, line);
}

#define CHECK(c) check((c) != 0, #c, __FILE__, __LINE__)
#define CHECK_INT(a, b) check_int((long long)(a), (long long)(b), #a, __FILE__, __LINE__)
#define CHECK_STR(a, b) check_str((a), (b), #a, __FILE__, __LINE__)

/* ---- helpers: files, frames, sockets ---- */

static int load_vector(const char *rel, mb_buf *out)
{
    char path[512];
    FILE *f;
    char chunk[4096];
    size_t n;
    snprintf(path, sizeof path, "%s/%s", g_vec_dir, rel);
    out->len = 0;
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        mb_buf_put(out, chunk, n);
    fclose(f);
    return 0;
}

/* Loads and decodes a vector; raw keeps the bytes the command points into. */
static int decode_vector(const char *rel, mb_buf *raw, mb_cmd *c)
{
    const char *err;
    if (load_vector(rel, raw) < 0)
        return -1;
    if (mb_cmd_decode(c, raw->p, raw->len, &err) < 0) {
        fprintf(stderr, "%s: %s\n", rel, err);
        return -1;
    }
    return 0;
}

static int send_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads exactly n bytes; 1 = ok, 0 = timeout, -1 = closed. */
static int read_exact(int fd, unsigned char *p, size_t n, long deadline_ms)
{
    while (n) {
        struct pollfd pf;
        ssize_t r;
        long left = deadline_ms - (long)mb_mono_ms();
        pf.fd = fd;
        pf.events = POLLIN;
        if (left <= 0)
            return 0;
        if (poll(&pf, 1, (int)left) <= 0)
            return 0;
        r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

/* One whole frame (prefix included) into out; 1 / 0 timeout / -1 closed. */
static int recv_frame(int fd, mb_buf *out, int timeout_ms)
{
    long deadline = (long)mb_mono_ms() + timeout_ms;
    unsigned char len[4];
    uint32_t n;
    int rc = read_exact(fd, len, 4, deadline);
    if (rc != 1)
        return rc;
    n = mb_get_u32(len);
    out->len = 0;
    mb_buf_put(out, len, 4);
    mb_buf_reserve(out, n);
    rc = read_exact(fd, out->p + 4, n, deadline);
    if (rc == 1)
        out->len = 4 + (size_t)n;
    return rc;
}

static int send_cmd(int fd, const mb_cmd *c)
{
    mb_buf b = {0};
    int rc;
    mb_cmd_encode(c, &b);
    rc = send_all(fd, b.p, b.len);
    mb_buf_free(&b);
    return rc;
}

/* Receives and decodes a response into *resp (frame keeps its bytes). */
static int recv_cmd(int fd, mb_buf *frame, mb_cmd *resp, int timeout_ms)
{
    const char *err;
    if (recv_frame(fd, frame, timeout_ms) != 1)
        return -1;
    return mb_cmd_decode(resp, frame->p, frame->len, &err);
}

/* Sends req (then frees it) and decodes the answer. */
static int exchange(int fd, mb_cmd *req, mb_buf *frame, mb_cmd *resp)
{
    int rc = send_cmd(fd, req);
    mb_cmd_free(req);
    return rc < 0 ? -1 : recv_cmd(fd, frame, resp, 3000);
}

static int replay(int fd, const char *rel, mb_buf *frame, mb_cmd *resp)
{
    mb_buf raw = {0};
    int rc = load_vector(rel, &raw);
    if (rc == 0)
        rc = send_all(fd, raw.p, raw.len);
    mb_buf_free(&raw);
    if (rc < 0 || !resp)
        return rc;
    return recv_cmd(fd, frame, resp, 3000);
}

/* The header text of a received JSON frame. */
static char *header_text(const mb_buf *frame)
{
    size_t hl = mb_get_u32(frame->p + 4) & 0xFFFFFF;
    return mb_xstrndup((const char *)frame->p + 8, hl);
}

static char *body_text(const mb_cmd *c)
{
    return mb_xstrndup((const char *)c->body, c->body_len);
}

static int same_bytes(const mb_buf *a, const mb_buf *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static int port_of(const char *addr)
{
    const char *c = strrchr(addr, ':');
    return c ? atoi(c + 1) : -1;
}

static int connect_broker(const mock_cluster *m, const char *name)
{
    const char *addr = mock_broker_addr(m, name);
    return addr ? mock_connect(addr) : -1;
}

/* The first name server of the "a;b" list. */
static int connect_ns(const mock_cluster *m, int index)
{
    char list[1024], *save = NULL, *item;
    int i = 0;
    strcpy(list, m->namesrv);
    for (item = strtok_r(list, ";", &save); item; item = strtok_r(NULL, ";", &save))
        if (i++ == index)
            return mock_connect(item);
    return -1;
}

static void offset_id(char out[33], int port, long long offset)
{
    mb_offset_msg_id(out, 0x7F000001u, port, offset);
}

/* Replaces every "from" in s with "to" (route bodies with our ports). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    mb_buf b = {0};
    const char *p;
    size_t fl = strlen(from);
    while ((p = strstr(s, from)) != NULL) {
        mb_buf_put(&b, s, (size_t)(p - s));
        mb_buf_puts(&b, to);
        s = p + fl;
    }
    mb_buf_puts(&b, s);
    return (char *)b.p;
}

static mb_cmd new_request(int code, int ser, int32_t opaque)
{
    mb_cmd c;
    mb_cmd_init(&c);
    c.code = code;
    c.ser = ser;
    c.opaque = opaque;
    c.version = 409;
    return c;
}

/* ---- 1. codec against the captured frames ---- */

static void test_vector_headers(void)
{
    size_t i;
    for (i = 0; i < sizeof vector_table / sizeof vector_table[0]; i++) {
        const vector_expect *v = &vector_table[i];
        mb_buf raw = {0}, again = {0};
        mb_cmd c;
        if (decode_vector(v->file, &raw, &c) < 0) {
            CHECK(!"vector decodes");
            mb_buf_free(&raw);
            continue;
        }
        CHECK_INT(raw.len, v->total);
        CHECK_INT(mb_get_u32(raw.p + 4) & 0xFFFFFF, v->header_len);
        CHECK_INT(c.ser, v->ser);
        CHECK_INT(c.code, v->code);
        CHECK_INT(c.opaque, v->opaque);
        CHECK_INT(c.flag, v->flag);
        CHECK_INT(c.body_len, v->body_len);
        CHECK_INT(c.has_ext ? (int)c.next : -1, v->next);
        CHECK_INT(c.version, v->version);
        CHECK_STR(mb_language_name(c.language), v->language);
        CHECK_STR(c.remark, v->remark);
        mb_cmd_encode(&c, &again); /* fastjson's output, byte for byte */
        if (!same_bytes(&raw, &again))
            fprintf(stderr, "  re-encoding %s differs\n", v->file);
        CHECK(same_bytes(&raw, &again));
        mb_cmd_free(&c);
        mb_buf_free(&raw);
        mb_buf_free(&again);
    }
}

static void check_props(const char *s, size_t len, const char *keys, const char *tags, const char *uniq,
                        const char *wait)
{
    mb_props p;
    mb_props_parse(&p, s, len);
    CHECK_STR(mb_props_get(&p, "KEYS"), keys);
    CHECK_STR(mb_props_get(&p, "TAGS"), tags);
    CHECK_STR(mb_props_get(&p, "UNIQ_KEY"), uniq);
    CHECK_STR(mb_props_get(&p, "WAIT"), wait);
    mb_props_free(&p);
}

static void test_vector_send(void)
{
    mb_buf raw = {0};
    mb_cmd c;
    uint32_t ip;
    int32_t port;
    int64_t off;
    const char *props;
    if (decode_vector("producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "a"), "ProbeGroup");
        CHECK_STR(mb_cmd_ext(&c, "b"), "BatchTest");
        CHECK_STR(mb_cmd_ext(&c, "c"), "TBW102");
        CHECK_STR(mb_cmd_ext(&c, "d"), "4");
        CHECK_STR(mb_cmd_ext(&c, "e"), "2");
        CHECK_STR(mb_cmd_ext(&c, "f"), "0");
        CHECK_STR(mb_cmd_ext(&c, "g"), "1795288064606");
        CHECK_STR(mb_cmd_ext(&c, "h"), "0");
        CHECK_STR(mb_cmd_ext(&c, "j"), "0");
        CHECK_STR(mb_cmd_ext(&c, "k"), "false");
        CHECK_STR(mb_cmd_ext(&c, "m"), "false");
        CHECK_STR(mb_cmd_ext(&c, "n"), "broker-a");
        props = mb_cmd_ext(&c, "i");
        CHECK_STR(props, "KEYS\001KEY_0\002UNIQ_KEY\001C000020246965FFD2B276B19FA5D0000\002WAIT\001true\002TAGS\001TagA");
        if (props)
            check_props(props, strlen(props), "KEY_0", "TagA", "C000020246965FFD2B276B19FA5D0000", "true");
        CHECK(c.body_len == 16 && memcmp(c.body, "Hello RocketMQ 0", 16) == 0);
        mb_cmd_free(&c);
    }
    if (decode_vector("producer_existing_topic/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "queueId"), "2");
        CHECK_STR(mb_cmd_ext(&c, "TRACE_ON"), "true");
        CHECK_STR(mb_cmd_ext(&c, "MSG_REGION"), "DefaultRegion");
        CHECK_STR(mb_cmd_ext(&c, "msgId"), "7F00000100002A9F0000000000005C08");
        CHECK_STR(mb_cmd_ext(&c, "queueOffset"), "29");
        CHECK(mb_offset_msg_id_decode(mb_cmd_ext(&c, "msgId"), &ip, &port, &off) == 0);
        CHECK_INT(ip, 0x7F000001);
        CHECK_INT(port, 10911);
        CHECK_INT(off, 0x5C08);
        mb_cmd_free(&c);
    }
    /* the two single sends are 201 bytes apart in the commit log: the
     * record a 4.9.8 store writes (WAIT dropped, CLUSTER added: 85 bytes of
     * properties), which is how the mock advances its offsets */
    CHECK_INT(0x5CD1 - 0x5C08, mb_stored_size(16, strlen("BatchTest"), 85));
    mb_buf_free(&raw);
}

static void test_vector_batch(void)
{
    static const char *const uniq[] = {"C000020246965FFD2B276B19FA920002", "C000020246965FFD2B276B19FA920003",
                                       "C000020246965FFD2B276B19FA920004"};
    mb_buf raw = {0};
    mb_cmd c;
    mb_batch_item it;
    size_t pos = 0;
    int n = 0, rc;
    if (decode_vector("producer_existing_topic/008_client_to_broker_SEND_BATCH_MESSAGE_req.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "m"), "true");
        CHECK_STR(mb_cmd_ext(&c, "i"), "WAIT\001true");
        CHECK_STR(mb_cmd_ext(&c, "e"), "0");
        while ((rc = mb_batch_next(c.body, c.body_len, &pos, &it)) == 1 && n < 3) {
            char body[32], keys[32];
            snprintf(body, sizeof body, "Hello world %d", n);
            snprintf(keys, sizeof keys, "OrderID00%d", n + 1);
            CHECK_INT(it.flag, 0);
            CHECK(it.body_len == strlen(body) && memcmp(it.body, body, it.body_len) == 0);
            CHECK_INT(it.props_len, 76);
            check_props(it.props, it.props_len, keys, "Tag", uniq[n], "true");
            n++;
        }
        CHECK_INT(rc, 0);
        CHECK_INT(n, 3);
        mb_cmd_free(&c);
    }
    if (decode_vector("producer_existing_topic/009_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "msgId"), "7F00000100002A9F0000000000005D9A,7F00000100002A9F0000000000005E78,"
                                           "7F00000100002A9F0000000000005F56");
        CHECK_STR(mb_cmd_ext(&c, "queueOffset"), "26");
        CHECK_STR(mb_cmd_ext(&c, "queueId"), "0");
        mb_cmd_free(&c);
    }
    /* inner properties + 0x02 + "CLUSTER\1DefaultCluster\2WAIT\1true" */
    CHECK_INT(0x5E78 - 0x5D9A, mb_stored_size(13, strlen("BatchTest"), 76 + 1 + 32));
    mb_buf_free(&raw);
}

static void test_vector_clients(void)
{
    mb_buf raw = {0};
    mb_cmd c;
    mj_doc doc;
    const mj_node *set;
    if (decode_vector("producer_existing_topic/011_client_to_broker_HEART_BEAT_req.bin", &raw, &c) == 0) {
        CHECK(!c.has_ext);
        CHECK(mj_parse(&doc, (const char *)c.body, c.body_len, 0) == 0);
        CHECK_STR(mj_get_str(doc.root, "clientID"), "192.0.2.2@probe-1795288063952");
        set = mj_get(doc.root, "producerDataSet");
        CHECK(set && set->count == 2);
        if (set && set->count == 2) {
            CHECK_STR(mj_get_str(set->child, "groupName"), "ProbeGroup");
            CHECK_STR(mj_get_str(set->child->next, "groupName"), "CLIENT_INNER_PRODUCER");
        }
        CHECK(mj_get(doc.root, "consumerDataSet") && mj_get(doc.root, "consumerDataSet")->count == 0);
        mj_free(&doc);
        mb_cmd_free(&c);
    }
    if (decode_vector("producer_existing_topic/013_client_to_broker_UNREGISTER_CLIENT_req.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "producerGroup"), "ProbeGroup");
        CHECK_STR(mb_cmd_ext(&c, "clientID"), "192.0.2.2@probe-1795288063952");
        mb_cmd_free(&c);
    }
    if (decode_vector("producer_existing_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin", &raw, &c) == 0) {
        CHECK(c.has_ext && c.next == 0); /* "extFields":{} */
        mb_cmd_free(&c);
    }
    mb_buf_free(&raw);
}

static void check_route(const char *rel, int perm, int queues)
{
    mb_buf raw = {0};
    mb_cmd c;
    mj_doc doc;
    const mj_node *bd, *qd;
    int64_t v;
    if (decode_vector(rel, &raw, &c) < 0)
        return;
    CHECK(mj_parse(&doc, (const char *)c.body, c.body_len, 0) == 0); /* standard JSON for version 409 */
    bd = mj_get(doc.root, "brokerDatas");
    qd = mj_get(doc.root, "queueDatas");
    CHECK(bd && bd->count == 1 && qd && qd->count == 1);
    if (bd && bd->count == 1 && qd && qd->count == 1) {
        CHECK_STR(mj_get_str(mj_get(bd->child, "brokerAddrs"), "0"), "127.0.0.1:10911");
        CHECK_STR(mj_get_str(bd->child, "brokerName"), "broker-a");
        CHECK_STR(mj_get_str(bd->child, "cluster"), "DefaultCluster");
        CHECK(mj_get_i64(qd->child, "perm", &v) == 0 && v == perm);
        CHECK(mj_get_i64(qd->child, "readQueueNums", &v) == 0 && v == queues);
        CHECK(mj_get_i64(qd->child, "writeQueueNums", &v) == 0 && v == queues);
        CHECK(mj_get_i64(qd->child, "topicSysFlag", &v) == 0 && v == 0);
    }
    CHECK(mj_get(doc.root, "filterServerTable") && mj_get(doc.root, "filterServerTable")->count == 0);
    mj_free(&doc);
    mb_cmd_free(&c);
    mb_buf_free(&raw);
}

static void test_vector_routes(void)
{
    mb_buf raw = {0};
    mb_cmd c;
    check_route("producer_existing_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 7, 8);
    check_route("producer_existing_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", 6, 4);
    if (decode_vector("producer_existing_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "topic"), "BatchTest");
        mb_cmd_free(&c);
    }
    mb_buf_free(&raw);
}

static void check_stored_roundtrip(const unsigned char *p, size_t len, mb_stored *s)
{
    mb_buf again = {0};
    size_t n = mb_stored_decode(p, len, s);
    CHECK(n > 0);
    if (!n)
        return;
    CHECK_INT(s->body_crc, mb_crc32(s->body, s->body_len) & 0x7FFFFFFF);
    mb_stored_encode(s, &again);
    CHECK(again.len == n && memcmp(again.p, p, n) == 0);
    mb_buf_free(&again);
}

static void test_vector_transaction(void)
{
    mb_buf raw = {0};
    mb_cmd c;
    mb_stored s;
    mb_props p;
    if (decode_vector("transaction/004_client_to_broker_SEND_MESSAGE_V2_req.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "f"), "4"); /* TRANSACTION_PREPARED_TYPE */
        mb_props_parse(&p, mb_cmd_ext(&c, "i"), strlen(mb_cmd_ext(&c, "i")));
        CHECK_STR(mb_props_get(&p, "TRAN_MSG"), "true");
        CHECK_STR(mb_props_get(&p, "PGROUP"), "ProbeTxGroup");
        mb_props_free(&p);
        mb_cmd_free(&c);
    }
    /* END_TRANSACTION's offsets are the half message's send result */
    if (decode_vector("transaction/006_client_to_broker_END_TRANSACTION_oneway.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "commitLogOffset"), "25954"); /* 0x6562 from 005's msgId */
        CHECK_STR(mb_cmd_ext(&c, "tranStateTableOffset"), "2");
        CHECK_STR(mb_cmd_ext(&c, "commitOrRollback"), "8");
        CHECK_STR(mb_cmd_ext(&c, "fromTransactionCheck"), "false");
        CHECK_STR(mb_cmd_ext(&c, "msgId"), "C000020247D35FFD2B276B1A4F3D0000");
        CHECK_INT(c.flag, 2);
        mb_cmd_free(&c);
    }
    if (decode_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway.bin", &raw, &c) == 0) {
        CHECK_STR(mb_cmd_ext(&c, "commitLogOffset"), "27380");
        CHECK_STR(mb_cmd_ext(&c, "offsetMsgId"), "7F00000100002A9F0000000000006AF4");
        check_stored_roundtrip(c.body, c.body_len, &s);
        CHECK_INT(s.commit_offset, 27380);
        CHECK_INT(s.queue_id, 3);
        CHECK_INT(s.store_port, 10911);
        CHECK(s.topic_len == 6 && memcmp(s.topic, "TxTest", 6) == 0);
        CHECK(s.body_len == 15 && memcmp(s.body, "tx unknown body", 15) == 0);
        mb_props_parse(&p, s.props, s.props_len);
        CHECK_STR(mb_props_get(&p, "REAL_TOPIC"), "TxTest");
        CHECK_STR(mb_props_get(&p, "REAL_QID"), "3");
        CHECK_STR(mb_props_get(&p, "UNIQ_KEY"), "C000020247D35FFD2B276B1A4F650002");
        CHECK_STR(mb_props_get(&p, "CLUSTER"), "DefaultCluster");
        mb_props_free(&p);
        mb_cmd_free(&c);
    }
    /* a half message record: 292 = 84+4+14 body+1+24 half topic+2+163 */
    CHECK_INT(0x6947 - 0x681F, mb_stored_size(16, strlen("RMQ_SYS_TRANS_HALF_TOPIC"), 113 + 23 + 18 + 11));
    mb_buf_free(&raw);
}

static void test_vector_pull_records(void)
{
    mb_buf raw = {0};
    mb_cmd c;
    mb_stored s;
    size_t pos = 0;
    int n = 0;
    if (decode_vector("pull_consumer/007_broker_to_client_PULL_MESSAGE_resp_SUCCESS.bin", &raw, &c) < 0)
        return;
    CHECK_STR(mb_cmd_ext(&c, "nextBeginOffset"), "3");
    while (pos < c.body_len && n < 3) {
        char body[32], keys[32], uniq[40];
        check_stored_roundtrip(c.body + pos, c.body_len - pos, &s);
        if (!s.topic)
            break;
        snprintf(body, sizeof body, "Hello world %d", n);
        snprintf(keys, sizeof keys, "OrderID00%d", n + 1);
        snprintf(uniq, sizeof uniq, "C000020265975FFD2B276B25C63D000%d", n + 1);
        CHECK_INT(s.queue_offset, n);
        CHECK(s.body_len == strlen(body) && memcmp(s.body, body, s.body_len) == 0);
        CHECK(s.topic_len == 19 && memcmp(s.topic, "PullTopic1795288837", 19) == 0);
        /* a batch member as stored: its own properties + CLUSTER + WAIT */
        CHECK_INT(s.props_len, 76 + 1 + 32);
        check_props(s.props, s.props_len, keys, "Tag", uniq, "true");
        pos += mb_stored_size(s.body_len, s.topic_len, s.props_len);
        n++;
    }
    CHECK_INT(n, 3);
    CHECK_INT(pos, c.body_len);
    mb_cmd_free(&c);
    mb_buf_free(&raw);
}

static void test_codec_misc(void)
{
    /* the ROCKETMQ binary example of PROTOCOL.md 1.4 */
    static const unsigned char expect[] = {
        0x00, 0x00, 0x00, 0x2d, 0x01, 0x00, 0x00, 0x29, 0x00, 0x69, 0x09, 0x01, 0x99, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00,
        0x05, 't',  'o',  'p',  'i',  'c',  0x00, 0x00, 0x00, 0x09, 'T',  'o',  'p',  'i',  'c',
        'T',  'e',  's',  't'};
    mb_cmd c = new_request(105, MB_SER_ROCKETMQ, 1), d;
    mb_buf b = {0};
    mb_props p;
    mj_doc doc;
    const char *err;
    c.language = 9; /* GO */
    mb_cmd_add_ext(&c, "topic", "TopicTest");
    mb_cmd_encode(&c, &b);
    CHECK(b.len == sizeof expect && memcmp(b.p, expect, sizeof expect) == 0);
    CHECK(mb_cmd_decode(&d, b.p, b.len, &err) == 0);
    CHECK_STR(mb_cmd_ext(&d, "topic"), "TopicTest");
    CHECK_INT(d.language, 9);
    mb_cmd_free(&d);
    /* a header-length word larger than the frame is rejected */
    mb_set_u32(b.p + 4, 0x01000100);
    CHECK(mb_cmd_decode(&d, b.p, b.len, &err) < 0);
    mb_cmd_free(&c);
    mb_buf_free(&b);
    /* offset message ids as the captured broker writes them, and every hex digit */
    {
        char id[33];
        static const unsigned char bytes[] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
        mb_offset_msg_id(id, 0x7F000001u, 10911, 0x5C08);
        CHECK_STR(id, "7F00000100002A9F0000000000005C08");
        mb_offset_msg_id(id, 0xC0A8010Au, -2, (int64_t)0x0123456789ABCDEFll);
        CHECK_STR(id, "C0A8010AFFFFFFFE0123456789ABCDEF");
        mb_buf_put_hex(&b, bytes, sizeof bytes);
        CHECK_STR((const char *)b.p, "0123456789ABCDEF");
        mb_buf_free(&b);
    }
    /* properties: both trailing forms, lenient chunks, last duplicate wins */
    mb_props_parse(&p, "A\001x\002B\001y\002", 8);
    CHECK(p.n == 2 && strcmp(mb_props_get(&p, "B"), "y") == 0);
    mb_props_free(&p);
    mb_props_parse(&p, "A\001x\002\001z\002B\001\002A\001w", 13);
    CHECK(p.n == 1 && strcmp(mb_props_get(&p, "A"), "w") == 0);
    mb_props_free(&p);
    /* fastjson's unquoted map keys only in lenient mode */
    CHECK(mj_parse(&doc, "{0:\"a\"}", 7, 0) < 0);
    mj_free(&doc);
    CHECK(mj_parse(&doc, "{0:\"a\\u0001\\ud83d\\ude00\"}", 25, MJ_LENIENT_KEYS) == 0 &&
          strcmp(mj_get_str(doc.root, "0"), "a\001\xF0\x9F\x98\x80") == 0);
    mj_free(&doc);
}

/* A JSON header given as text, in a frame without a body. */
static int decode_header_text(const char *h, mb_cmd *c)
{
    mb_buf f = {0};
    const char *err;
    int rc;
    mb_buf_put_u32(&f, (uint32_t)(4 + strlen(h)));
    mb_buf_put_u32(&f, (uint32_t)strlen(h));
    mb_buf_puts(&f, h);
    rc = mb_cmd_decode(c, f.p, f.len, &err);
    mb_buf_free(&f);
    return rc;
}

static int same_cmd(const mb_cmd *a, const mb_cmd *b)
{
    mb_buf ea = {0}, eb = {0};
    size_t i;
    int same = a->code == b->code && a->opaque == b->opaque && a->flag == b->flag && a->version == b->version &&
               a->language == b->language && a->has_ext == b->has_ext && a->next == b->next &&
               (a->remark == NULL) == (b->remark == NULL) &&
               (!a->remark || (a->remark_len == b->remark_len && memcmp(a->remark, b->remark, a->remark_len) == 0));
    for (i = 0; same && i < a->next; i++)
        same = a->ext[i].key_len == b->ext[i].key_len && a->ext[i].val_len == b->ext[i].val_len &&
               memcmp(a->ext[i].key, b->ext[i].key, a->ext[i].key_len) == 0 &&
               memcmp(a->ext[i].val, b->ext[i].val, a->ext[i].val_len) == 0;
    mb_cmd_encode(a, &ea);
    mb_cmd_encode(b, &eb);
    same = same && same_bytes(&ea, &eb);
    mb_buf_free(&ea);
    mb_buf_free(&eb);
    return same;
}

/* Compact headers are read without a tree, every other form by the tree
 * parser: a header must decode the same either way. */
static void test_quick_header(void)
{
    static const char *const pairs[][2] = {
        {"{\"code\":310,\"extFields\":{\"a\":\"g\",\"b\":\"T\",\"i\":\"K\\u0001v\\u0002W\\u0001\\\"q\\\"\"},"
         "\"flag\":0,\"language\":\"JAVA\",\"opaque\":7,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}",
         "{ \"code\" : 310 , \"extFields\" : { \"a\" : \"g\" , \"b\" : \"T\" , \"i\" : \"K\\u0001v\\u0002W\\u0001\\\"q\\\"\" } ,"
         " \"flag\" : 0 , \"language\" : \"JAVA\" , \"opaque\" : 7 , \"serializeTypeCurrentRPC\" : \"JSON\" , \"version\" : 409 }"},
        {"{\"code\":1,\"code\":\"34\",\"opaque\":null,\"remark\":\"r\\n\\u00e9\",\"remark\":\"x\",\"language\":\"GO\"}",
         "{\"code\": 1, \"code\": \"34\", \"opaque\": null, \"remark\": \"r\\n\\u00e9\", \"remark\": \"x\", \"language\": \"GO\"}"},
        {"{\"extFields\":{\"n\":1,\"b\":true,\"z\":null,\"n\":\"2\"},\"x\":{\"y\":[]},\"code\":10}",
         "{\"extFields\":{\"n\":1,\"b\":true,\"z\":null,\"n\":\"2\"},\"x\":{\"y\":[]} ,\"code\":10}"},
        {"{\"extFields\":null,\"extFields\":{\"a\":\"b\"},\"language\":7,\"flag\":\"3\"}",
         "{\"extFields\":null, \"extFields\":{\"a\":\"b\"},\"language\":7,\"flag\":\"3\"}"},
        {"{}", " {} "},
    };
    static const char *const bad[] = {
        "{\"code\":310,\"flag\":true}", "{\"code\":\"x\"}", "{\"extFields\":[]}", "{\"extFields\":{\"a\":{}}}",
        "{\"a\":\"\\x\"}", "{\"code\":310}x", "{\"code\":-}", "{\"a\":tru}", "[]", "",
    };
    /* what each pair decodes to (alike is not enough: both readers could be wrong) */
    static const struct {
        int code, version, opaque, flag, language;
        size_t next;
        const char *remark, *key, *val;
    } want[] = {
        {310, 409, 7, 0, MB_LANG_JAVA, 3, NULL, "i", "K\001v\002W\001\"q\""},
        {34, 0, 0, 0, 9 /* GO */, 0, "x", NULL, NULL}, /* the last duplicate counts; null keeps the default */
        {10, 0, 0, 0, MB_LANG_JAVA, 3, NULL, "n", "2"}, /* null is absent, numbers and booleans are text */
        {0, 0, 0, 3, MB_LANG_JAVA, 1, NULL, "a", "b"},
        {0, 0, 0, 0, MB_LANG_JAVA, 0, NULL, NULL, NULL},
    };
    mb_buf many = {0};
    mb_cmd a, b;
    size_t i;
    for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        int ra = decode_header_text(pairs[i][0], &a), rb = decode_header_text(pairs[i][1], &b);
        CHECK(ra == 0 && rb == 0);
        if (ra == 0 && rb == 0)
            CHECK(same_cmd(&a, &b));
        if (ra == 0) {
            CHECK_INT(a.code, want[i].code);
            CHECK_INT(a.version, want[i].version);
            CHECK_INT(a.opaque, want[i].opaque);
            CHECK_INT(a.flag, want[i].flag);
            CHECK_INT(a.language, want[i].language);
            CHECK_INT(a.next, want[i].next);
            if (want[i].remark)
                CHECK_STR(a.remark, want[i].remark);
            else
                CHECK(a.remark == NULL);
            if (want[i].key)
                CHECK_STR(mb_cmd_ext(&a, want[i].key), want[i].val);
        }
        mb_cmd_free(&a);
        mb_cmd_free(&b);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(decode_header_text(bad[i], &a) < 0);
        mb_cmd_free(&a);
    }
    /* the pairs do take both paths: the quick reader reads the compact form
     * (ten members, the three of extFields among them) and leaves the other */
    for (i = 0; i < 2; i++) {
        mb_arena ar = {0};
        mj_node m[64];
        char *t = mb_xstrdup(pairs[0][i]);
        CHECK_INT(mj_quick_flat(&ar, t, strlen(t), m, 64), i == 0 ? 10 : -1);
        free(t);
        mb_arena_free(&ar);
    }
    /* more members than the quick reader holds */
    mb_buf_puts(&many, "{\"code\":310,\"extFields\":{");
    for (i = 0; i < 100; i++)
        mb_buf_printf(&many, "%s\"k%zu\":\"%zu\"", i ? "," : "", i, i);
    mb_buf_puts(&many, "},\"opaque\":9}");
    CHECK(decode_header_text((const char *)many.p, &a) == 0);
    CHECK_INT(a.next, 100);
    CHECK_STR(mb_cmd_ext(&a, "k99"), "99");
    CHECK_INT(a.opaque, 9);
    mb_cmd_free(&a);
    mb_buf_free(&many);
}

/* ---- 2. the running mock ---- */

/* Header of a send response exactly as the captured 4.9.8 broker writes it. */
static void check_send_response(const mb_buf *frame, int opaque, int qid, const char *msg_id, long long qoff)
{
    char want[1024], *got = header_text(frame);
    snprintf(want, sizeof want,
             "{\"code\":0,\"extFields\":{\"queueId\":\"%d\",\"TRACE_ON\":\"true\",\"MSG_REGION\":\"DefaultRegion\","
             "\"msgId\":\"%s\",\"queueOffset\":\"%lld\"},\"flag\":1,\"language\":\"JAVA\",\"opaque\":%d,"
             "\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}",
             qid, msg_id, qoff, opaque);
    CHECK_STR(got, want);
    free(got);
}

/* The captured answer frame must come back byte for byte. */
static void check_same_as_vector(const mb_buf *frame, const char *rel)
{
    mb_buf want = {0};
    if (load_vector(rel, &want) == 0) {
        if (!same_bytes(frame, &want))
            fprintf(stderr, "  answer differs from %s\n", rel);
        CHECK(same_bytes(frame, &want));
    }
    mb_buf_free(&want);
}

static void check_dump_batch(mock_cluster *m)
{
    static char out[65536];
    char *line, *save = NULL;
    int batch = 0;
    CHECK(mock_dump(m, "BatchTest", out, sizeof out) == 0);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        mj_doc doc;
        int64_t code = 0, q = -1, qo = -1;
        char keys[32], hex[64];
        if (mj_parse(&doc, line, strlen(line), 0) < 0) {
            CHECK(!"DUMP line is JSON");
            mj_free(&doc);
            continue;
        }
        mj_get_i64(doc.root, "code", &code);
        if (code == 320 && batch < 3) {
            snprintf(keys, sizeof keys, "OrderID00%d", batch + 1);
            snprintf(hex, sizeof hex, "48656C6C6F20776F726C6420%02X", 0x30 + batch); /* "Hello world N" */
            CHECK_STR(mj_get_str(doc.root, "keys"), keys);
            CHECK_STR(mj_get_str(doc.root, "tags"), "Tag");
            CHECK_STR(mj_get_str(doc.root, "bodyHex"), hex);
            CHECK_STR(mj_get_str(doc.root, "serialize"), "JSON");
            CHECK_STR(mj_get_str(mj_get(doc.root, "properties"), "WAIT"), "true");
            CHECK(mj_get_i64(doc.root, "queueId", &q) == 0 && q == 0);
            CHECK(mj_get_i64(doc.root, "queueOffset", &qo) == 0 && qo == batch);
            batch++;
        }
        mj_free(&doc);
    }
    CHECK_INT(batch, 3);
}

/* VIEW_MESSAGE_BY_ID returns the record a 4.9.8 commit log holds: the
 * second single send, 201 bytes, WAIT dropped and CLUSTER added. */
static void check_view_message(int fd, long long offset, int port)
{
    mb_cmd req = new_request(33, MB_SER_JSON, 50), r;
    mb_buf frame = {0};
    mb_stored s;
    mb_props p;
    char num[32];
    snprintf(num, sizeof num, "%lld", offset);
    mb_cmd_add_ext(&req, "offset", num);
    if (exchange(fd, &req, &frame, &r) != 0) {
        CHECK(!"VIEW_MESSAGE_BY_ID answered");
        mb_buf_free(&frame);
        return;
    }
    CHECK_INT(r.code, 0);
    CHECK_INT(r.body_len, 201);
    CHECK(mb_stored_decode(r.body, r.body_len, &s) == 201);
    CHECK_INT(s.commit_offset, offset);
    CHECK_INT(s.queue_id, 3);
    CHECK_INT(s.store_port, port);
    CHECK_INT(s.born_ts, 1795288064642LL);
    CHECK(s.body_len == 16 && memcmp(s.body, "Hello RocketMQ 1", 16) == 0);
    mb_props_parse(&p, s.props, s.props_len);
    CHECK(mb_props_get(&p, "WAIT") == NULL);
    CHECK_STR(mb_props_get(&p, "CLUSTER"), "DefaultCluster");
    CHECK_STR(mb_props_get(&p, "KEYS"), "KEY_1");
    mb_props_free(&p);
    mb_cmd_free(&r);
    mb_buf_free(&frame);
}

static void test_replay_existing_topic(void)
{
    static const char *const dir = "producer_existing_topic/";
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r;
    char id[33], ids[128], rel[256], out[4096];
    int fd, port;
    if (mock_start(&m, "--quiet --brokers 1 --topic BatchTest") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_broker(&m, "broker-a");
    port = port_of(mock_broker_addr(&m, "broker-a"));
    CHECK(fd >= 0);
#define REPLAY(n) (snprintf(rel, sizeof rel, "%s%s", dir, n), replay(fd, rel, &frame, &r))
    if (REPLAY("004_client_to_broker_SEND_MESSAGE_V2_req.bin") == 0) {
        offset_id(id, port, 0);
        check_send_response(&frame, 4, 2, id, 0);
        mb_cmd_free(&r);
    }
    if (REPLAY("006_client_to_broker_SEND_MESSAGE_V2_req.bin") == 0) {
        offset_id(id, port, 201); /* the same record size as the real store */
        check_send_response(&frame, 6, 3, id, 0);
        mb_cmd_free(&r);
    }
    if (REPLAY("008_client_to_broker_SEND_BATCH_MESSAGE_req.bin") == 0) {
        char a[33], b[33], c[33];
        offset_id(a, port, 402);
        offset_id(b, port, 402 + 222);
        offset_id(c, port, 402 + 444);
        snprintf(ids, sizeof ids, "%s,%s,%s", a, b, c);
        check_send_response(&frame, 8, 0, ids, 0);
        mb_cmd_free(&r);
    }
    snprintf(rel, sizeof rel, "%s010_client_to_broker_SEND_MESSAGE_V2_oneway.bin", dir);
    CHECK(replay(fd, rel, NULL, NULL) == 0); /* one-way: no answer; the next answer is 011's */
    if (REPLAY("011_client_to_broker_HEART_BEAT_req.bin") == 0) {
        check_same_as_vector(&frame, "producer_existing_topic/012_broker_to_client_HEART_BEAT_resp_SUCCESS.bin");
        mb_cmd_free(&r);
    }
    if (REPLAY("013_client_to_broker_UNREGISTER_CLIENT_req.bin") == 0) {
        check_same_as_vector(&frame, "producer_existing_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin");
        mb_cmd_free(&r);
    }
    if (REPLAY("015_client_to_broker_UNREGISTER_CLIENT_req.bin") == 0) {
        check_same_as_vector(&frame, "producer_existing_topic/016_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS.bin");
        mb_cmd_free(&r);
    }
#undef REPLAY
    check_view_message(fd, 201, port);
    CHECK_INT(mock_count(&m, "BatchTest"), 6);
    CHECK_INT(mock_count(&m, NULL), 6);
    check_dump_batch(&m);
    CHECK(mock_cmd(&m, out, sizeof out, "CLIENTS") == 0);
    CHECK(strstr(out, "HEARTBEAT server=broker-a clientID=192.0.2.2@probe-1795288063952 "
                      "groups=ProbeGroup,CLIENT_INNER_PRODUCER") != NULL);
    CHECK(strstr(out, "UNREGISTER server=broker-a clientID=192.0.2.2@probe-1795288063952 producerGroup=ProbeGroup") != NULL);
    CHECK(strstr(out, "producerGroup=CLIENT_INNER_PRODUCER") != NULL);
    CHECK(mock_cmd(&m, out, sizeof out, "REQUESTS broker-a") == 0);
    CHECK(strncmp(out, "broker-a code=310 opaque=4 flag=0 ser=JSON ext={\"a\":\"ProbeGroup\",\"b\":\"BatchTest\"", 79) == 0);
    CHECK(strstr(out, "broker-a code=310 opaque=10 flag=2 ser=JSON") != NULL);
    close(fd);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

static void test_replay_routes(void)
{
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r;
    char port[16], *want, *got;
    mb_buf vec = {0};
    mb_cmd vc;
    int fd;
    if (mock_start(&m, "--quiet --brokers 1 --topic BatchTest") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_ns(&m, 0);
    snprintf(port, sizeof port, ":%d\"", port_of(mock_broker_addr(&m, "broker-a")));
    /* TBW102 and BatchTest: the captured bodies with our broker port */
    if (replay(fd, "producer_existing_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", &frame, &r) == 0 &&
        decode_vector("producer_existing_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", &vec,
                      &vc) == 0) {
        char *vbody = body_text(&vc);
        got = body_text(&r);
        want = replace_all(vbody, ":10911\"", port);
        CHECK_STR(got, want);
        free(vbody);
        CHECK(frame.len >= 8 && mb_get_u32(frame.p + 4) == mb_get_u32(vec.p + 4)); /* same header */
        free(got);
        free(want);
        mb_cmd_free(&r);
        mb_cmd_free(&vc);
    }
    if (replay(fd, "producer_existing_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", &frame, &r) == 0 &&
        decode_vector("producer_existing_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS.bin", &vec,
                      &vc) == 0) {
        char *vbody = body_text(&vc), *h1 = header_text(&frame), *h2 = header_text(&vec);
        got = body_text(&r);
        want = replace_all(vbody, ":10911\"", port);
        CHECK_STR(got, want);
        CHECK_STR(h1, h2);
        free(got);
        free(want);
        free(vbody);
        free(h1);
        free(h2);
        mb_cmd_free(&r);
        mb_cmd_free(&vc);
    }
    /* unknown topic: the captured TOPIC_NOT_EXIST answer, byte for byte */
    if (replay(fd, "producer_new_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", &frame, &r) == 0) {
        check_same_as_vector(&frame, "producer_new_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST.bin");
        mb_cmd_free(&r);
    }
    close(fd);
    mb_buf_free(&vec);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

/* Auto-creation through TBW102, with the captured record sizes. */
static void test_replay_new_topic(void)
{
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r;
    char id[33], ids[128], want[512], *body;
    int bfd, nfd, port;
    if (mock_start(&m, "--quiet --brokers 1") != 0) {
        CHECK(!"mock starts");
        return;
    }
    bfd = connect_broker(&m, "broker-a");
    nfd = connect_ns(&m, 0);
    port = port_of(mock_broker_addr(&m, "broker-a"));
    if (replay(bfd, "producer_new_topic/007_client_to_broker_SEND_MESSAGE_V2_req.bin", &frame, &r) == 0) {
        offset_id(id, port, 0);
        check_send_response(&frame, 5, 1, id, 0);
        mb_cmd_free(&r);
    }
    if (replay(bfd, "producer_new_topic/010_client_to_broker_SEND_BATCH_MESSAGE_req.bin", &frame, &r) == 0) {
        char a[33], b[33], c[33];
        offset_id(a, port, 210); /* 0x61D5 - 0x6103 in the capture */
        offset_id(b, port, 210 + 231);
        offset_id(c, port, 210 + 462);
        snprintf(ids, sizeof ids, "%s,%s,%s", a, b, c);
        check_send_response(&frame, 10, 2, ids, 0);
        mb_cmd_free(&r);
    }
    /* the name server serves the created topic at once: 4 queues, perm 6 */
    if (replay(nfd, "producer_new_topic/006_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req.bin", &frame, &r) == 0) {
        snprintf(want, sizeof want,
                 "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"127.0.0.1:%d\"},\"brokerName\":\"broker-a\","
                 "\"cluster\":\"DefaultCluster\"}],\"filterServerTable\":{},\"queueDatas\":[{\"brokerName\":"
                 "\"broker-a\",\"perm\":6,\"readQueueNums\":4,\"topicSysFlag\":0,\"writeQueueNums\":4}]}",
                 port);
        CHECK_INT(r.code, 0);
        CHECK_INT(r.opaque, 7);
        body = body_text(&r);
        CHECK_STR(body, want);
        free(body);
        mb_cmd_free(&r);
    }
    CHECK_INT(mock_count(&m, "NewTopic1795288077"), 4);
    close(bfd);
    close(nfd);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

static int route_request(int fd, const char *topic, int version, const char *accept, int ser, mb_buf *frame,
                         mb_cmd *resp)
{
    mb_cmd c = new_request(105, ser, 77);
    int rc;
    c.version = version;
    mb_cmd_add_ext(&c, "topic", topic);
    if (accept)
        mb_cmd_add_ext(&c, "acceptStandardJsonOnly", accept);
    rc = send_cmd(fd, &c);
    mb_cmd_free(&c);
    return rc < 0 ? -1 : recv_cmd(fd, frame, resp, 3000);
}

static void test_route_forms(void)
{
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r;
    mj_doc doc;
    char want[64], *body;
    int fd;
    if (mock_start(&m, "--quiet --namesrv 2 --topic T1 --hidden broker-b") != 0) {
        CHECK(!"mock starts");
        return;
    }
    CHECK(strchr(m.namesrv, ';') != NULL);
    fd = connect_ns(&m, 1);
    snprintf(want, sizeof want, "{0:\"%s\"}", mock_broker_addr(&m, "broker-a"));
    /* an old client (version < 401) gets fastjson's unquoted keys */
    if (route_request(fd, "T1", 300, NULL, MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, want) != NULL);
        CHECK(strstr(body, "broker-b") == NULL); /* hidden at start */
        CHECK(mj_parse(&doc, body, strlen(body), 0) < 0);
        mj_free(&doc);
        CHECK(mj_parse(&doc, body, strlen(body), MJ_LENIENT_KEYS) == 0);
        mj_free(&doc);
        free(body);
        mb_cmd_free(&r);
    }
    if (route_request(fd, "T1", 300, "true", MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, "{\"0\":\"") != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    /* binary request, binary answer */
    if (route_request(fd, "T1", 409, NULL, MB_SER_ROCKETMQ, &frame, &r) == 0) {
        CHECK_INT(r.ser, MB_SER_ROCKETMQ);
        CHECK_INT(r.code, 0);
        CHECK_INT(r.opaque, 77);
        CHECK_INT(r.flag, 1);
        CHECK_INT(r.version, 409);
        body = body_text(&r);
        CHECK(strstr(body, "{\"0\":\"") != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, NULL, 0, "SHOW broker-b") == 0);
    if (route_request(fd, "T1", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, "\"brokerName\":\"broker-a\"") && strstr(body, "\"brokerName\":\"broker-b\""));
        CHECK(strstr(body, "broker-a") < strstr(body, "broker-b"));
        free(body);
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, NULL, 0, "HIDE broker-a") == 0);
    if (route_request(fd, "T1", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, "broker-a") == NULL && strstr(body, "broker-b") != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    /* a topic created at run time is served at once */
    CHECK(mock_cmd(&m, NULL, 0, "TOPIC broker-b T9 2") == 0);
    if (route_request(fd, "T9", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, "\"brokerName\":\"broker-b\",\"perm\":6,\"readQueueNums\":2") != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    close(fd);
    CHECK_INT(mock_stop(&m), 0);

    /* --route-json fastjson forces the old form even for version 409 */
    if (mock_start(&m, "--quiet --brokers 1 --topic T1 --route-json fastjson") != 0) {
        CHECK(!"mock starts");
        mb_buf_free(&frame);
        return;
    }
    fd = connect_ns(&m, 0);
    if (route_request(fd, "T1", 409, "true", MB_SER_JSON, &frame, &r) == 0) {
        body = body_text(&r);
        CHECK(strstr(body, "{0:\"") != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    close(fd);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

static mb_cmd v1_send(int32_t opaque, int ser, const char *topic, const char *qid, const char *props)
{
    mb_cmd c = new_request(10, ser, opaque);
    mb_cmd_add_ext(&c, "producerGroup", "pg");
    mb_cmd_add_ext(&c, "topic", topic);
    mb_cmd_add_ext(&c, "defaultTopic", "TBW102");
    mb_cmd_add_ext(&c, "defaultTopicQueueNums", "4");
    mb_cmd_add_ext(&c, "queueId", qid);
    mb_cmd_add_ext(&c, "sysFlag", "0");
    mb_cmd_add_ext(&c, "bornTimestamp", "1700000000000");
    mb_cmd_add_ext(&c, "flag", "7");
    mb_cmd_add_ext(&c, "properties", props);
    mb_cmd_add_ext(&c, "batch", "false");
    c.body = (const unsigned char *)"payload";
    c.body_len = 7;
    return c;
}

static void test_binary_and_checks(void)
{
    mock_cluster m;
    mb_buf frame = {0}, big = {0};
    mb_cmd req, r;
    char out[8192], remark[256];
    int fd;
    if (mock_start(&m, "--quiet --brokers 1 --topic T2") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_broker(&m, "broker-a");
    req = v1_send(1, MB_SER_ROCKETMQ, "T2", "1", "TAGS\001bin\002UNIQ_KEY\001ABC");
    if (exchange(fd, &req, &frame, &r) == 0) {
        CHECK_INT(r.ser, MB_SER_ROCKETMQ);
        CHECK_INT(r.code, 0);
        CHECK_STR(mb_cmd_ext(&r, "queueId"), "1");
        CHECK_STR(mb_cmd_ext(&r, "queueOffset"), "0");
        CHECK_STR(mb_cmd_ext(&r, "MSG_REGION"), "DefaultRegion");
        mb_cmd_free(&r);
    }
    CHECK(mock_dump(&m, "T2", out, sizeof out) == 0);
    CHECK(strstr(out, "\"code\":10,\"serialize\":\"ROCKETMQ\"") != NULL);
    CHECK(strstr(out, "\"flag\":7") && strstr(out, "\"tags\":\"bin\"") && strstr(out, "\"uniqKey\":\"ABC\""));
    /* queueId out of range: SYSTEM_ERROR naming it (4.9 retries this code) */
    req = v1_send(2, MB_SER_JSON, "T2", "7", "");
    if (exchange(fd, &req, &frame, &r) == 0) {
        CHECK_INT(r.code, 1);
        CHECK(r.remark && strstr(r.remark, "request queueId[7] is illegal") != NULL);
        mb_cmd_free(&r);
    }
    /* body over 4 MiB and properties over 32767 bytes: MESSAGE_ILLEGAL */
    req = v1_send(3, MB_SER_JSON, "T2", "0", "");
    mb_buf_reserve(&big, 4194305);
    memset(big.p, 'b', 4194305);
    req.body = big.p;
    req.body_len = 4194305;
    if (exchange(fd, &req, &frame, &r) == 0) {
        CHECK_INT(r.code, 13);
        mb_cmd_free(&r);
    }
    big.p[32768] = '\0';
    memcpy(big.p, "K\001", 2);
    req = v1_send(4, MB_SER_JSON, "T2", "0", (const char *)big.p);
    if (exchange(fd, &req, &frame, &r) == 0) {
        CHECK_INT(r.code, 13);
        mb_cmd_free(&r);
    }
    /* an unsupported code, even one-way and binary: code 3 in JSON */
    req = new_request(999, MB_SER_ROCKETMQ, 5);
    req.flag = MB_FLAG_ONEWAY;
    if (exchange(fd, &req, &frame, &r) == 0) {
        CHECK_INT(r.code, 3);
        CHECK_INT(r.opaque, 5);
        CHECK_INT(r.ser, MB_SER_JSON);
        CHECK_STR(r.remark, " request type 999 not supported");
        mb_cmd_free(&r);
    }
    CHECK_INT(mock_count(&m, NULL), 1);
    close(fd);
    CHECK_INT(mock_stop(&m), 0);

    if (mock_start(&m, "--quiet --brokers 1 --no-autocreate") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_broker(&m, "broker-a");
    req = v1_send(7, MB_SER_JSON, "Fresh", "0", "");
    if (exchange(fd, &req, &frame, &r) == 0) {
        snprintf(remark, sizeof remark,
                 "topic[Fresh] not exist, apply first please!\nSee http://rocketmq.apache.org/docs/faq/ for further details.");
        CHECK_INT(r.code, 17);
        CHECK_STR(r.remark, remark);
        mb_cmd_free(&r);
    }
    close(fd);
    fd = connect_ns(&m, 0);
    if (route_request(fd, "TBW102", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        CHECK_INT(r.code, 17); /* no TBW102 without autoCreateTopicEnable */
        mb_cmd_free(&r);
    }
    close(fd);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&big);
    mb_buf_free(&frame);
}

static int send_v2_vector(int fd, mb_buf *frame, mb_cmd *r, int timeout_ms)
{
    mb_buf raw = {0};
    int rc = load_vector("producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req.bin", &raw);
    if (rc == 0)
        rc = send_all(fd, raw.p, raw.len);
    mb_buf_free(&raw);
    if (rc < 0)
        return -1;
    if (recv_frame(fd, frame, timeout_ms) != 1)
        return -1;
    {
        const char *err;
        return mb_cmd_decode(r, frame->p, frame->len, &err);
    }
}

static void test_faults(void)
{
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r;
    const char *err;
    long t0;
    int fd, fd2, nfd;
    if (mock_start(&m, "--quiet --topic BatchTest") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_broker(&m, "broker-a");
    /* ERROR: the next request of that code gets the code and remark */
    CHECK(mock_cmd(&m, NULL, 0, "ERROR broker-a 310 14 1 store busy now") == 0);
    if (send_v2_vector(fd, &frame, &r, 3000) == 0) {
        CHECK_INT(r.code, 14);
        CHECK_STR(r.remark, "store busy now");
        CHECK_INT(r.opaque, 4);
        mb_cmd_free(&r);
    }
    if (send_v2_vector(fd, &frame, &r, 3000) == 0) {
        CHECK_INT(r.code, 0);
        mb_cmd_free(&r);
    }
    CHECK_INT(mock_count(&m, NULL), 1);
    CHECK(mock_cmd(&m, NULL, 0, "ERROR nosuch 310 14 1") == -1);
    nfd = connect_ns(&m, 0);
    CHECK(mock_cmd(&m, NULL, 0, "ERROR * 105 1 1") == 0);
    if (route_request(nfd, "BatchTest", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        CHECK_INT(r.code, 1);
        CHECK(r.remark == NULL);
        mb_cmd_free(&r);
    }
    /* SILENT: read, never answered; the following request is */
    CHECK(mock_cmd(&m, NULL, 0, "SILENT broker-a 1") == 0);
    CHECK(send_v2_vector(fd, &frame, &r, 300) < 0);
    if (send_v2_vector(fd, &frame, &r, 3000) == 0) {
        CHECK_INT(r.code, 0);
        mb_cmd_free(&r);
    }
    /* DELAY: answers are held back on a timer, the loop keeps running */
    CHECK(mock_cmd(&m, NULL, 0, "DELAY broker-a 200") == 0);
    t0 = (long)mb_mono_ms();
    if (send_v2_vector(fd, &frame, &r, 3000) == 0) {
        CHECK((long)mb_mono_ms() - t0 >= 190);
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, NULL, 0, "DELAY broker-a 0") == 0);
    /* HUGE: a well-formed answer over the 16 MiB frame limit */
    CHECK(mock_cmd(&m, NULL, 0, "HUGE broker-a 17000000") == 0);
    if (send_v2_vector(fd, &frame, &r, 5000) == 0) {
        CHECK_INT(r.code, 0);
        CHECK_INT(r.body_len, 17000000);
        CHECK(frame.len > 16777216);
        mb_cmd_free(&r);
    }
    /* GARBAGE: a frame whose header length exceeds the frame */
    CHECK(mock_cmd(&m, NULL, 0, "GARBAGE broker-a") == 0);
    CHECK(recv_frame(fd, &frame, 3000) == 1);
    CHECK(mb_cmd_decode(&r, frame.p, frame.len, &err) < 0);
    close(fd);
    /* CUT: the connection closes after 10 more bytes, the frame is lost */
    fd = connect_broker(&m, "broker-a");
    CHECK(mock_cmd(&m, NULL, 0, "CUT broker-a 10") == 0);
    CHECK(send_v2_vector(fd, &frame, &r, 3000) < 0);
    close(fd);
    fd = connect_broker(&m, "broker-a"); /* ...and also the next accepted one */
    CHECK(send_v2_vector(fd, &frame, &r, 3000) < 0);
    close(fd);
    fd = connect_broker(&m, "broker-a");
    if (send_v2_vector(fd, &frame, &r, 3000) == 0) {
        CHECK_INT(r.code, 0);
        mb_cmd_free(&r);
    }
    /* DOWN closes the listener and the connections; the route keeps it */
    CHECK(mock_cmd(&m, NULL, 0, "DOWN broker-a") == 0);
    CHECK(recv_frame(fd, &frame, 3000) == -1);
    close(fd);
    CHECK(connect_broker(&m, "broker-a") < 0);
    if (route_request(nfd, "BatchTest", 409, NULL, MB_SER_JSON, &frame, &r) == 0) {
        char *body = body_text(&r);
        CHECK(strstr(body, mock_broker_addr(&m, "broker-a")) != NULL);
        free(body);
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, NULL, 0, "UP broker-a") == 0);
    fd2 = connect_broker(&m, "broker-a");
    CHECK(fd2 >= 0);
    if (fd2 >= 0 && send_v2_vector(fd2, &frame, &r, 3000) == 0) {
        CHECK_INT(r.code, 0);
        mb_cmd_free(&r);
    }
    if (fd2 >= 0)
        close(fd2);
    close(nfd);
    /* stored: 1 after ERROR, 1 after SILENT, DELAY, HUGE, 1 after the CUTs, 1 after UP */
    CHECK_INT(mock_count(&m, NULL), 6);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

static void test_http(void)
{
    mock_cluster m;
    char buf[2048], want[1100];
    int fd;
    ssize_t n;
    size_t got = 0;
    if (mock_start(&m, "--quiet --namesrv 2") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = mock_connect(m.http);
    CHECK(send_all(fd, "GET /rocketmq/nsaddr HTTP/1.1\r\nHost: x\r\n\r\n", 42) == 0);
    while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    snprintf(want, sizeof want, "\r\n\r\n%s", m.namesrv);
    CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(buf, "Connection: close\r\n") != NULL);
    CHECK(strlen(buf) >= strlen(want) && strcmp(buf + strlen(buf) - strlen(want), want) == 0);
    close(fd);
    CHECK(mock_cmd(&m, NULL, 0, "NSADDR 10.0.0.1:9876;10.0.0.2:9876") == 0);
    fd = mock_connect(m.http);
    CHECK(send_all(fd, "GET /rocketmq/nsaddr HTTP/1.0\r\n\r\n", 33) == 0);
    got = 0;
    while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    CHECK(strncmp(buf, "HTTP/1.0 200 OK\r\n", 17) == 0);
    CHECK(strstr(buf, "\r\n\r\n10.0.0.1:9876;10.0.0.2:9876") != NULL);
    close(fd);
    CHECK_INT(mock_stop(&m), 0);
}

static void build_end_tx(mb_cmd *c, const char *offset_msg_id, const char *qoff, const char *kind)
{
    uint32_t ip;
    int32_t port;
    int64_t off = 0;
    char num[32];
    *c = new_request(37, MB_SER_JSON, 90);
    c->flag = MB_FLAG_ONEWAY;
    mb_offset_msg_id_decode(offset_msg_id, &ip, &port, &off);
    snprintf(num, sizeof num, "%lld", (long long)off);
    mb_cmd_add_ext(c, "producerGroup", "ProbeTxGroup");
    mb_cmd_add_ext(c, "tranStateTableOffset", qoff);
    mb_cmd_add_ext(c, "commitLogOffset", num);
    mb_cmd_add_ext(c, "commitOrRollback", kind);
    mb_cmd_add_ext(c, "fromTransactionCheck", "false");
    mb_cmd_add_ext(c, "msgId", "C000020247D35FFD2B276B1A4F3D0000");
}

static void check_check_request(int fd, const char *offset_msg_id)
{
    mb_buf frame = {0};
    mb_cmd c;
    mb_stored s;
    mb_props p;
    if (recv_cmd(fd, &frame, &c, 3000) != 0) {
        CHECK(!"CHECK_TRANSACTION_STATE arrives");
        mb_buf_free(&frame);
        return;
    }
    CHECK_INT(c.code, 39);
    CHECK_INT(c.flag, MB_FLAG_ONEWAY);
    CHECK_STR(mb_cmd_ext(&c, "offsetMsgId"), offset_msg_id);
    CHECK_STR(mb_cmd_ext(&c, "msgId"), "C000020247D35FFD2B276B1A4F650002");
    CHECK_STR(mb_cmd_ext(&c, "transactionId"), "C000020247D35FFD2B276B1A4F650002");
    CHECK(mb_stored_decode(c.body, c.body_len, &s) == c.body_len);
    CHECK(s.topic_len == 6 && memcmp(s.topic, "TxTest", 6) == 0);
    CHECK_INT(s.queue_id, 3);
    mb_props_parse(&p, s.props, s.props_len);
    CHECK_STR(mb_props_get(&p, "REAL_TOPIC"), "TxTest");
    CHECK_STR(mb_props_get(&p, "PGROUP"), "ProbeTxGroup");
    mb_props_free(&p);
    mb_cmd_free(&c);
    mb_buf_free(&frame);
}

static void test_transactions(void)
{
    mock_cluster m;
    mb_buf frame = {0};
    mb_cmd r, req;
    char out[8192], first_id[33] = "", unknown_id[33] = "";
    int fd;
    if (mock_start(&m, "--quiet --brokers 1 --topic TxTest") != 0) {
        CHECK(!"mock starts");
        return;
    }
    fd = connect_broker(&m, "broker-a");
    if (replay(fd, "transaction/004_client_to_broker_SEND_MESSAGE_V2_req.bin", &frame, &r) == 0) {
        CHECK_STR(mb_cmd_ext(&r, "queueId"), "1");
        CHECK_STR(mb_cmd_ext(&r, "queueOffset"), "0"); /* offset in the half queue */
        if (mb_cmd_ext(&r, "msgId"))
            snprintf(first_id, sizeof first_id, "%s", mb_cmd_ext(&r, "msgId"));
        mb_cmd_free(&r);
    }
    /* the captured END_TRANSACTION carries the real broker's offsets */
    CHECK(replay(fd, "transaction/006_client_to_broker_END_TRANSACTION_oneway.bin", NULL, NULL) == 0);
    build_end_tx(&req, first_id, "0", "8");
    CHECK(send_cmd(fd, &req) == 0);
    mb_cmd_free(&req);
    if (replay(fd, "transaction/010_client_to_broker_SEND_MESSAGE_V2_req.bin", &frame, &r) == 0) {
        CHECK_STR(mb_cmd_ext(&r, "queueId"), "3");
        CHECK_STR(mb_cmd_ext(&r, "queueOffset"), "1");
        if (mb_cmd_ext(&r, "msgId"))
            snprintf(unknown_id, sizeof unknown_id, "%s", mb_cmd_ext(&r, "msgId"));
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, out, sizeof out, "TRANSACTIONS") == 0);
    CHECK(strstr(out, "commitLogOffset=25954 commitOrRollback=8") &&
          strstr(out, "result=Find prepared transaction message failed"));
    CHECK(strstr(out, "result=COMMIT") != NULL);
    CHECK(mock_dump(&m, "TxTest", out, sizeof out) == 0);
    CHECK(strstr(out, "\"tranState\":\"COMMIT\"") && strstr(out, "\"tranState\":\"PREPARED\""));
    /* check-back goes to the connection that heartbeated the group */
    CHECK(mock_cmd(&m, out, sizeof out, "CHECK broker-a %s", unknown_id) == -1);
    if (replay(fd, "transaction/013_client_to_broker_HEART_BEAT_req.bin", &frame, &r) == 0) {
        CHECK_INT(r.code, 0);
        mb_cmd_free(&r);
    }
    CHECK(mock_cmd(&m, out, sizeof out, "CHECK broker-a %s", unknown_id) == 0);
    check_check_request(fd, unknown_id);
    close(fd);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&frame);
}

/* Hundreds of clients at once, each with one send in flight. */
static void test_many_clients(void)
{
    enum { N = 200 };
    mock_cluster m;
    mb_buf raw = {0}, frame = {0};
    mb_cmd r;
    int fds[N], i, ok = 0;
    if (mock_start(&m, "--quiet --topic BatchTest") != 0 ||
        load_vector("producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req.bin", &raw) < 0) {
        CHECK(!"mock starts");
        return;
    }
    for (i = 0; i < N; i++)
        fds[i] = connect_broker(&m, i % 2 ? "broker-b" : "broker-a");
    for (i = 0; i < N; i++)
        if (fds[i] >= 0)
            send_all(fds[i], raw.p, raw.len);
    for (i = 0; i < N; i++) {
        if (fds[i] >= 0 && recv_cmd(fds[i], &frame, &r, 3000) == 0) {
            ok += r.code == 0 && r.opaque == 4;
            mb_cmd_free(&r);
        }
        if (fds[i] >= 0)
            close(fds[i]);
    }
    CHECK_INT(ok, N);
    CHECK_INT(mock_count(&m, "BatchTest"), N);
    CHECK_INT(mock_stop(&m), 0);
    mb_buf_free(&raw);
    mb_buf_free(&frame);
}

static void test_signal_exit(void)
{
    mock_cluster m;
    int status = -1;
    if (mock_start(&m, "--quiet") != 0) {
        CHECK(!"mock starts");
        return;
    }
    kill(m.pid, SIGTERM);
    CHECK(waitpid(m.pid, &status, 0) == m.pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    m.pid = -1;
    mock_stop(&m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_vec_dir = argv[1];
    test_vector_headers();
    test_vector_send();
    test_vector_batch();
    test_vector_clients();
    test_vector_routes();
    test_vector_transaction();
    test_vector_pull_records();
    test_codec_misc();
    test_quick_header();
    test_replay_existing_topic();
    test_replay_routes();
    test_replay_new_topic();
    test_route_forms();
    test_binary_and_checks();
    test_faults();
    test_http();
    test_transactions();
    test_many_clients();
    test_signal_exit();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
