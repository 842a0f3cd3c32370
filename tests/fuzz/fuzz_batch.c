/* fuzz_batch - the MessageBatch body: rmq__op_take_batch (the checks, one
 * UNIQ_KEY per message, rmq__encode_properties, rmq__batch_record) on
 * messages generated from the input, decoded back by a reader written here
 * as the broker's MessageDecoder.decodeMessages reads a batch.
 *
 * Input: a message count, then per message a topic choice, body, flag,
 * tags, keys, delay, WAIT and user properties. A started producer (no
 * network: nothing is polled) with max_message_size 2048, so that the body
 * bound is met. Checked on every run:
 *   - a batch is refused exactly when a rule says so: a message the checks
 *     refuse, two topics, a delay, a %RETRY% topic, two WAIT values, or an
 *     encoding larger than max_message_size;
 *   - an accepted batch decodes to one record per message: totalSize, magic
 *     and CRC 0, the flag, the body byte for byte, and properties that read
 *     back as TAGS, KEYS, WAIT, that message's UNIQ_KEY and its own pairs;
 *   - the records fill the body exactly; the UNIQ_KEYs are distinct
 *     32-digit upper-case hex; the request carries WAIT only. */
#include "fuzz.h"

#define MAX_MSGS 8
#define MAX_PROPS 6
#define MAX_MESSAGE 2048u

static rmq_sim *sim;
static rmq_producer *producer;

static void setup(void)
{
    rmq_producer_config cfg;
    if (producer) return;
    sim = rmq_sim_create(5000);
    rmq_producer_config_init(&cfg);
    cfg.group = "fuzz_batch";
    cfg.namesrv_addr = "10.0.0.1:9876";
    cfg.port = rmq_sim_port(sim);
    cfg.max_message_size = MAX_MESSAGE;
    if (rmq_producer_create(&cfg, &producer) != RMQ_OK || rmq_producer_start(producer) != RMQ_OK) abort();
}

typedef struct gen {
    char topic[32], tags[64], keys[64];
    char k[MAX_PROPS][32], v[MAX_PROPS][64];
    rmq_property props[MAX_PROPS];
    uint8_t body[MAX_MESSAGE + 64];
} gen;

static const char *const topics[4] = { "BatchTest", "BatchTest", "OtherTopic", "%RETRY%group" };

static void gen_message(fz_in *in, gen *g, rmq_message *m)
{
    const uint8_t *b;
    size_t blen = fz_blob(in, sizeof g->body, &b), i, np = fz_pick(in, MAX_PROPS + 1);
    memcpy(g->body, b, blen);
    snprintf(g->topic, sizeof g->topic, "%s", topics[fz_u8(in) % 8 < 6 ? 0 : 2 + fz_pick(in, 2)]);
    rmq_message_init(m, g->topic, g->body, blen);
    m->flag = (int32_t)fz_u32(in);
    if (fz_u8(in) & 1) { fz_text(in, g->tags, sizeof g->tags, 0); m->tags = g->tags; }
    if (fz_u8(in) & 1) { fz_text(in, g->keys, sizeof g->keys, 0); m->keys = g->keys; }
    m->delay_level = fz_u8(in) % 16 == 0 ? 3 : 0;
    m->wait_store_msg_ok = fz_u8(in) % 16 != 0;
    for (i = 0; i < np; i++) {
        fz_text(in, g->k[i], sizeof g->k[i], 0);
        fz_text(in, g->v[i], sizeof g->v[i], 0);
        g->props[i].key = g->k[i];
        g->props[i].value = g->v[i];
    }
    m->properties = g->props;
    m->nproperties = np;
}

/* The encoded length of a message's properties (TAGS, KEYS, WAIT, UNIQ_KEY
 * of 32 digits, user pairs), each pair after the first behind a 0x02. */
static size_t props_len(const rmq_message *m)
{
    size_t n = 0, i;
    if (m->tags && *m->tags) n += 5 + strlen(m->tags) + (n ? 1 : 0);
    if (m->keys && *m->keys) n += 5 + strlen(m->keys) + (n ? 1 : 0);
    n += (n ? 1 : 0) + 5 + (m->wait_store_msg_ok ? 4 : 5);
    n += 1 + 9 + 32;
    for (i = 0; i < m->nproperties; i++) n += 1 + strlen(m->properties[i].key) + 1 + strlen(m->properties[i].value);
    return n;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* The next key/value of a property string, as the broker splits it. */
static int next_pair(const uint8_t **p, const uint8_t *end, rmq_slice *k, rmq_slice *v)
{
    const uint8_t *s = *p, *e = s, *sep;
    if (s >= end) return 0;
    while (e < end && *e != 2) e++;
    sep = (const uint8_t *)memchr(s, 1, (size_t)(e - s));
    *p = e < end ? e + 1 : e;
    if (!sep) return -1;
    k->ptr = (const char *)s; k->len = (size_t)(sep - s);
    v->ptr = (const char *)sep + 1; v->len = (size_t)(e - sep - 1);
    return 1;
}

static void expect_pair(const uint8_t **p, const uint8_t *end, const char *key, const char *val, size_t vlen)
{
    rmq_slice k, v;
    FZ_CHECK(next_pair(p, end, &k, &v) == 1);
    FZ_CHECK(k.len == strlen(key) && memcmp(k.ptr, key, k.len) == 0);
    FZ_CHECK(v.len == vlen && memcmp(v.ptr, val, vlen) == 0);
}

static void check_records(const rmq__op *op, const rmq_message *msgs, size_t n)
{
    const uint8_t *at = op->body.p, *end = op->body.p + op->body.len;
    size_t i, k;
    for (i = 0; i < n; i++) {
        const rmq_message *m = &msgs[i];
        const char *uniq = op->uniq + i * RMQ__UNIQ_SIZE(op->p->in);
        const uint8_t *pp, *pend;
        uint32_t total, blen, plen;
        FZ_CHECK(end - at >= 22);
        total = be32(at);
        FZ_CHECK(be32(at + 4) == 0 && be32(at + 8) == 0 && be32(at + 12) == (uint32_t)m->flag);
        blen = be32(at + 16);
        FZ_CHECK(blen == m->body_len && (size_t)(end - at) >= 22u + blen);
        FZ_CHECK(memcmp(at + 20, m->body, blen) == 0);
        plen = (uint32_t)at[20 + blen] << 8 | at[21 + blen];
        FZ_CHECK(total == 22u + blen + plen && (size_t)(end - at) >= total);
        FZ_CHECK(plen == props_len(m));
        pp = at + 22 + blen;
        pend = pp + plen;
        FZ_CHECK(strlen(uniq) == 32);
        for (k = 0; k < 32; k++) FZ_CHECK((uniq[k] >= '0' && uniq[k] <= '9') || (uniq[k] >= 'A' && uniq[k] <= 'F'));
        for (k = 0; k < i; k++) FZ_CHECK(strcmp(uniq, op->uniq + k * RMQ__UNIQ_SIZE(op->p->in)) != 0);
        if (m->tags && *m->tags) expect_pair(&pp, pend, "TAGS", m->tags, strlen(m->tags));
        if (m->keys && *m->keys) expect_pair(&pp, pend, "KEYS", m->keys, strlen(m->keys));
        expect_pair(&pp, pend, "WAIT", m->wait_store_msg_ok ? "true" : "false", m->wait_store_msg_ok ? 4 : 5);
        expect_pair(&pp, pend, "UNIQ_KEY", uniq, 32);
        for (k = 0; k < m->nproperties; k++)
            expect_pair(&pp, pend, m->properties[k].key, m->properties[k].value, strlen(m->properties[k].value));
        FZ_CHECK(pp == pend);
        at += total;
    }
    FZ_CHECK(at == end);
    FZ_CHECK(op->props.len == (msgs[0].wait_store_msg_ok ? 9u : 10u));
    FZ_CHECK(memcmp(op->props.p, msgs[0].wait_store_msg_ok ? "WAIT\001true" : "WAIT\001false", op->props.len) == 0);
    FZ_CHECK(op->batch == 1 && op->code == RMQ_REQ_SEND_BATCH_MESSAGE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gen g[MAX_MSGS];
    rmq_message msgs[MAX_MSGS];
    fz_in in;
    size_t n, i, total = 0;
    int refuse = 0, too_big;
    rmq__op *op;
    rmq_err err;
    setup();
    fz_init(&in, data, size);
    n = 1 + fz_pick(&in, MAX_MSGS);
    for (i = 0; i < n; i++) gen_message(&in, &g[i], &msgs[i]);
    for (i = 0; i < n; i++) {
        producer->last_error.code[0] = RMQ_R_NONE;
        if (rmq__check_message(producer, &msgs[i]) != RMQ_OK) refuse = 1;
        if (strcmp(msgs[i].topic, msgs[0].topic) != 0 || msgs[i].delay_level > 0 ||
            strncmp(msgs[i].topic, "%RETRY%", 7) == 0 || !msgs[i].wait_store_msg_ok != !msgs[0].wait_store_msg_ok)
            refuse = 1;
        total += 22 + msgs[i].body_len + props_len(&msgs[i]);
    }
    too_big = total > (n > 1 ? MAX_MESSAGE : MAX_MESSAGE + MAX_MESSAGE / 2 + 64);
    op = rmq__op_new(producer, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, n, NULL, 0);
    FZ_CHECK(op != NULL);
    producer->last_error.code[0] = RMQ_R_NONE;
    err = rmq__op_take_batch(producer, op, msgs, n);
    if (err == RMQ_OK) {
        FZ_CHECK(!refuse && !too_big);
        check_records(op, msgs, n);
    } else {
        if (!refuse && !too_big) fprintf(stderr, "refused: %s\n", rmq_producer_last_error(producer));
        FZ_CHECK(refuse || too_big);
        FZ_CHECK(err == RMQ_ERR_MESSAGE && rmq_producer_last_error(producer)[0]);
    }
    rmq__op_free(producer, op);
    return 0;
}
