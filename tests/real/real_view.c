/* real_view.c - MQAdmin's viewMessage and queryMessage against a real
 * cluster: what was sent comes back by its offset message id, by its
 * message id and by its key, field for field. Included by test_real.c. */
#include "../../examples/zlib_codec.h"

#define VIEW_SENDS 4

typedef struct view_sent {
    rmq_send_result res;
    char keys[96], key[64], tags[32];
} view_sent;

static unsigned char view_body[256];             /* every byte value */
static const rmq_property view_props[2] = { { "color", "blue" }, { "note", "a b=c" } };

/* The same message as sent: topic, tags, keys, user properties, body,
 * queue, offsets and ids. */
static int view_same(const rmq_message_ext *e, const char *topic, const view_sent *s, char *why, size_t cap)
{
    char addr[RMQ_ADDR_MAX_LEN + 1];
    int64_t commit = -1;
    size_t i, found = 0;
    rmq_offset_msg_id_decode(s->res.offset_msg_id, addr, sizeof addr, &commit);
    for (i = 0; i < e->nproperties; i++)
        if ((strcmp(e->properties[i].key, "color") == 0 && strcmp(e->properties[i].value, "blue") == 0) ||
            (strcmp(e->properties[i].key, "note") == 0 && strcmp(e->properties[i].value, "a b=c") == 0))
            found++;
#define VIEW_DIFF(cond, ...) do { if (cond) { snprintf(why, cap, __VA_ARGS__); return 0; } } while (0)
    VIEW_DIFF(strcmp(e->topic, topic) != 0, "topic %s", e->topic);
    VIEW_DIFF(strcmp(e->tags, s->tags) != 0, "tags %s, sent %s", e->tags, s->tags);
    VIEW_DIFF(strcmp(e->keys, s->keys) != 0, "keys %s, sent %s", e->keys, s->keys);
    VIEW_DIFF(found != 2, "user properties: %u of 2", (unsigned)found);
    VIEW_DIFF(e->body_len != sizeof view_body || memcmp(e->body, view_body, sizeof view_body) != 0,
              "a body of %u bytes, not as sent", (unsigned)e->body_len);
    VIEW_DIFF(strcmp(e->queue.broker_name, s->res.queue.broker_name) != 0 || e->queue.queue_id != s->res.queue.queue_id,
              "queue %s/%d, sent to %s/%d", e->queue.broker_name, e->queue.queue_id, s->res.queue.broker_name,
              s->res.queue.queue_id);
    VIEW_DIFF(e->queue_offset != s->res.queue_offset, "queue offset %lld, sent %lld", (long long)e->queue_offset,
              (long long)s->res.queue_offset);
    VIEW_DIFF(e->commit_log_offset != commit, "commit-log offset %lld, the id says %lld", (long long)e->commit_log_offset,
              (long long)commit);
    VIEW_DIFF(strcmp(e->msg_id, s->res.msg_id) != 0, "msg id %s, sent %s", e->msg_id, s->res.msg_id);
    VIEW_DIFF(strcmp(e->offset_msg_id, s->res.offset_msg_id) != 0, "offset msg id %s, sent %s", e->offset_msg_id,
              s->res.offset_msg_id);
    VIEW_DIFF(strcmp(e->store_host, addr) != 0, "store host %s, the id says %s", e->store_host, addr);
    VIEW_DIFF(strncmp(e->born_host, "127.0.0.1:", 10) != 0 && !strchr(e->born_host, ':'), "born host %s", e->born_host);
    VIEW_DIFF(e->store_timestamp_ms < e->born_timestamp_ms - 60000, "stored at %lld, born at %lld",
              (long long)e->store_timestamp_ms, (long long)e->born_timestamp_ms);
#undef VIEW_DIFF
    return 1;
}

/* Sends VIEW_SENDS messages, alternating the broker groups. */
static int view_send_all(rmq_producer *p, const char *topic, const char *common, view_sent *s)
{
    rmq_queue qs[32];
    size_t nq = 0, i, k;
    rmq_message m;
    for (i = 0; i < sizeof view_body; i++) view_body[i] = (unsigned char)i;
    if (rmq_fetch_publish_queues(p, topic, qs, 32, &nq) != RMQ_OK || nq == 0) return 0;
    for (i = 0; i < VIEW_SENDS; i++) {
        const rmq_queue *q = &qs[0];
        for (k = 0; k < nq; k++)                    /* broker-a for even, broker-b for odd */
            if (strcmp(qs[k].broker_name, i % 2 ? "broker-b" : "broker-a") == 0 && qs[k].queue_id == (int)(i / 2)) q = &qs[k];
        snprintf(s[i].key, sizeof s[i].key, "vk%u_%s", (unsigned)i, R.run);
        snprintf(s[i].keys, sizeof s[i].keys, "%s %s", s[i].key, common);
        snprintf(s[i].tags, sizeof s[i].tags, "tag%u", (unsigned)i);
        rmq_message_init(&m, topic, view_body, sizeof view_body);
        m.tags = s[i].tags;
        m.keys = s[i].keys;
        m.properties = view_props;
        m.nproperties = 2;
        if (rmq_send_to_queue(p, &m, q, &s[i].res) != RMQ_OK) {
            fprintf(stderr, "  send %u: %s\n", (unsigned)i, rmq_producer_last_error(p));
            return 0;
        }
    }
    return 1;
}

/* The broker builds its index after storing: a key query may find nothing
 * for a moment (QUERY_NOT_FOUND), or a busy broker may answer SYSTEM_BUSY. */
static rmq_err view_query(rmq_producer *p, const char *topic, const char *key, size_t want, rmq_query_result *r)
{
    rmq_err err = RMQ_OK;
    int tries;
    for (tries = 0; tries < 30; tries++) {
        err = rmq_query_message(p, topic, key, 32, 0, (int64_t)time(NULL) * 1000 + 60000, r);
        if (err == RMQ_OK && r->n >= want) return err;
        if (err == RMQ_OK) rmq_query_result_free(p, r);
        nap_ms(500);
    }
    return err;
}

static void view_every_way(rmq_serialize ser, const char *what)
{
    char topic[96], group[96], common[64], why[512];
    rmq_producer_config cfg;
    rmq_producer *p;
    view_sent s[VIEW_SENDS];
    rmq_message_ext e;
    rmq_query_result r;
    rmq_err err;
    size_t i, k, on_b = 0;
    CHECK(fresh_topic(what, topic, group));
    real_config(&cfg, group);
    cfg.serialize = ser;
    CHECK((p = real_start(&cfg)) != NULL);
    snprintf(common, sizeof common, "vcommon_%s", R.run);
    memset(s, 0, sizeof s);
    if (!view_send_all(p, topic, common, s)) { real_stop(p); CHECK_MSG(0, "the sends failed"); }
    for (i = 0; i < VIEW_SENDS; i++) {
        on_b += strcmp(s[i].res.queue.broker_name, "broker-b") == 0;
        err = rmq_view_message(p, s[i].res.offset_msg_id, &e);
        if (err != RMQ_OK) { fprintf(stderr, "  view: %s\n", rmq_producer_last_error(p)); real_stop(p); CHECK(0); }
        if (!view_same(&e, topic, &s[i], why, sizeof why)) { rmq_message_ext_free(p, &e); real_stop(p); CHECKF(0, "view: %s", why); }
        rmq_message_ext_free(p, &e);
        err = rmq_view_message_by_id(p, topic, s[i].res.msg_id, &e);
        if (err != RMQ_OK) { fprintf(stderr, "  view by id: %s\n", rmq_producer_last_error(p)); real_stop(p); CHECK(0); }
        if (!view_same(&e, topic, &s[i], why, sizeof why)) { rmq_message_ext_free(p, &e); real_stop(p); CHECKF(0, "by id: %s", why); }
        rmq_message_ext_free(p, &e);
        err = view_query(p, topic, s[i].key, 1, &r);
        if (err != RMQ_OK || r.n != 1) {
            fprintf(stderr, "  query %s: %s (%u found)\n", s[i].key, err ? rmq_producer_last_error(p) : "ok", (unsigned)r.n);
            rmq_query_result_free(p, &r);
            real_stop(p);
            CHECK(0);
        }
        if (!view_same(&r.msgs[0], topic, &s[i], why, sizeof why)) { rmq_query_result_free(p, &r); real_stop(p); CHECKF(0, "query: %s", why); }
        CHECK(r.index_last_update_ms > 0);
        rmq_query_result_free(p, &r);
    }
    CHECK(on_b == VIEW_SENDS / 2);                       /* both broker groups were asked */
    err = view_query(p, topic, common, VIEW_SENDS, &r);   /* one key, both broker groups */
    CHECKF(err == RMQ_OK && r.n == VIEW_SENDS, "the common key: %s, %u found", err ? rmq_producer_last_error(p) : "ok",
           (unsigned)r.n);
    for (i = 0; i < VIEW_SENDS; i++) {
        for (k = 0; k < r.n && strcmp(r.msgs[k].msg_id, s[i].res.msg_id) != 0; k++) {}
        CHECKF(k < r.n && view_same(&r.msgs[k], topic, &s[i], why, sizeof why), "common key, message %u: %s", (unsigned)i,
               k < r.n ? why : "missing");
    }
    rmq_query_result_free(p, &r);
    /* nothing under a key never sent: Java's "no message" */
    snprintf(common, sizeof common, "vnone_%s", R.run);
    CHECK_INT(rmq_query_message(p, topic, common, 32, 0, (int64_t)time(NULL) * 1000 + 60000, &r), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "no message");
    CHECK_INT(rmq_view_message(p, "7F00000100002A9F", &e), RMQ_ERR_INVALID_ARG);
    real_stop(p);
}

static void test_view_query_and_view_by_id_read_back_what_was_sent_json_headers(void)
{
    view_every_way(RMQ_SERIALIZE_JSON, "ViewJ");
}

static void test_view_query_and_view_by_id_read_back_what_was_sent_binary_headers(void)
{
    view_every_way(RMQ_SERIALIZE_ROCKETMQ, "ViewB");
}

static void test_view_a_zlib_compressed_message_reads_back_as_sent_here_and_in_mqadmin(void)
{
    static char big[20000];
    static int level = 5;
    char topic[96], group[96], *out;
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    rmq_message_ext e;
    unsigned char *saved;
    size_t i, saved_len = 0;
    for (i = 0; i < sizeof big; i++) big[i] = (char)('a' + (i * 7 / 13) % 26);
    CHECK(fresh_topic("ViewZ", topic, group));
    real_config(&cfg, group);
    cfg.compressor = rmq_zlib_compress;
    cfg.compressor_arg = &level;
    cfg.decompressor = rmq_zlib_decompress;
    CHECK((p = real_start(&cfg)) != NULL);
    rmq_message_init(&m, topic, big, sizeof big);
    m.keys = "zipped";
    CHECKF(rmq_send(p, &m, &res) == RMQ_OK, "send: %s", rmq_producer_last_error(p));
    CHECKF(rmq_view_message(p, res.offset_msg_id, &e) == RMQ_OK, "view: %s", rmq_producer_last_error(p));
    CHECK_INT(e.sys_flag & 0x301, 0x301);                /* stored as Java 4.9.8 sends it */
    CHECK_INT(e.body_len, sizeof big);
    CHECK(memcmp(e.body, big, sizeof big) == 0);
    CHECK(e.store_size < 4000);                          /* what the broker holds is the zlib stream */
    rmq_message_ext_free(p, &e);
    real_stop(p);
    /* without a decompressor the stored stream itself, as Java's header 78 5E says */
    real_config(&cfg, group);
    CHECK((p = real_start(&cfg)) != NULL);
    CHECKF(rmq_view_message(p, res.offset_msg_id, &e) == RMQ_OK, "view: %s", rmq_producer_last_error(p));
    CHECK(e.body_len < sizeof big && e.body_len > 2);
    CHECK(((const unsigned char *)e.body)[0] == 0x78 && ((const unsigned char *)e.body)[1] == 0x5E);
    rmq_message_ext_free(p, &e);
    real_stop(p);
    /* Java's admin tool inflates it: the saved body is the original */
    out = query_by_offset_id(topic, res.offset_msg_id);
    CHECKF(out && strcmp(mq_label(out, "Topic"), topic) == 0, "queryMsgById: %.600s", out ? out : "");
    saved = mq_saved_body(out, &saved_len);
    free(out);
    CHECKF(saved && saved_len == sizeof big && memcmp(saved, big, sizeof big) == 0, "mqadmin's body: %u bytes",
           (unsigned)saved_len);
    free(saved);
}

/* -- under ACL (RMQ_REAL_ACL): a key query signed so that both 4.9.8 and
 * 5.x accept it, where Java's own fails on 4.9.8 ------------------------- */
static void test_view_acl_signed_key_and_unique_key_queries_are_accepted(void)
{
    const char *topic = getenv("RMQ_REAL_ACL_TOPIC");
    char group[96], key[64];
    rmq_producer_config cfg;
    rmq_acl acl;
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    rmq_query_result r;
    rmq_message_ext e;
    rmq_err err;
    CHECK(topic != NULL);
    name_of(group, sizeof group, "GAclView");
    snprintf(key, sizeof key, "aclview_%s", R.run);
    real_config(&cfg, group);
    cfg.rpc_hook = rmq_acl_hook_init(&acl, "RocketMQ", "12345678", NULL);
    CHECK((p = real_start(&cfg)) != NULL);
    rmq_message_init(&m, topic, "acl view", 8);
    m.keys = key;
    CHECKF(rmq_send(p, &m, &res) == RMQ_OK, "signed send: %s", rmq_producer_last_error(p));
    err = view_query(p, topic, key, 1, &r);
    CHECKF(err == RMQ_OK && r.n == 1, "signed key query: %s", err ? rmq_producer_last_error(p) : "none found");
    CHECK_STR(r.msgs[0].msg_id, res.msg_id);
    rmq_query_result_free(p, &r);
    err = rmq_view_message(p, res.offset_msg_id, &e);
    CHECKF(err == RMQ_OK, "signed view: %s", rmq_producer_last_error(p));
    rmq_message_ext_free(p, &e);
    err = rmq_view_message_by_id(p, topic, res.msg_id, &e);   /* _UNIQUE_KEY_QUERY=true, signed without it */
    CHECKF(err == RMQ_OK, "signed unique-key query: %s", rmq_producer_last_error(p));
    CHECK_STR(e.offset_msg_id, res.offset_msg_id);
    rmq_message_ext_free(p, &e);
    real_stop(p);
}
