/* test_admin_view.c - MQAdmin's viewMessage and queryMessage: the stored
 * message format as brokers write it, VIEW_MESSAGE_BY_ID and QUERY_MESSAGE
 * on the wire, Java's merge of the brokers' answers. Included by unit.c. */

/* -- stored messages, written as MessageDecoder.encode lays them out ----- */
typedef struct sm_spec {
    uint32_t magic;
    int32_t queue_id, flag, sysflag, reconsume, crc;
    int64_t queue_offset, phys, born_ts, store_ts, prepared;
    uint8_t born_ip[16], store_ip[16];
    uint32_t born_port, store_port;
    const char *topic;
    const void *body;
    size_t body_len;
    const char *props;               /* with \001 and \002 */
} sm_spec;

static unsigned char *sm_u32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24); o[1] = (unsigned char)(v >> 16); o[2] = (unsigned char)(v >> 8); o[3] = (unsigned char)v;
    return o + 4;
}

static unsigned char *sm_u64(unsigned char *o, int64_t v)
{
    o = sm_u32(o, (uint32_t)((uint64_t)v >> 32));
    return sm_u32(o, (uint32_t)v);
}

/* Writes the record at o (room for it assumed), returns its size. */
static size_t sm_put(unsigned char *o, const sm_spec *s)
{
    unsigned char *p = o + 4;
    size_t tl = strlen(s->topic), pl = strlen(s->props);
    size_t born = (s->sysflag & 0x10) ? 16 : 4, store = (s->sysflag & 0x20) ? 16 : 4;
    p = sm_u32(p, s->magic);
    p = sm_u32(p, (uint32_t)s->crc);
    p = sm_u32(p, (uint32_t)s->queue_id);
    p = sm_u32(p, (uint32_t)s->flag);
    p = sm_u64(p, s->queue_offset);
    p = sm_u64(p, s->phys);
    p = sm_u32(p, (uint32_t)s->sysflag);
    p = sm_u64(p, s->born_ts);
    memcpy(p, s->born_ip, born); p += born;
    p = sm_u32(p, s->born_port);
    p = sm_u64(p, s->store_ts);
    memcpy(p, s->store_ip, store); p += store;
    p = sm_u32(p, s->store_port);
    p = sm_u32(p, (uint32_t)s->reconsume);
    p = sm_u64(p, s->prepared);
    p = sm_u32(p, (uint32_t)s->body_len);
    memcpy(p, s->body, s->body_len); p += s->body_len;
    if (s->magic == 0xDAA320ABu) { *p++ = (unsigned char)(tl >> 8); }
    *p++ = (unsigned char)tl;
    memcpy(p, s->topic, tl); p += tl;
    *p++ = (unsigned char)(pl >> 8); *p++ = (unsigned char)pl;
    memcpy(p, s->props, pl); p += pl;
    sm_u32(o, (uint32_t)(p - o));
    return (size_t)(p - o);
}

/* A message of TopicTest stored by broker-a (10.0.1.1:10911), born at
 * 10.0.0.5:40000. */
static sm_spec sm_default(void)
{
    static const unsigned char store4[4] = { 10, 0, 1, 1 }, born4[4] = { 10, 0, 0, 5 };
    sm_spec s;
    memset(&s, 0, sizeof s);
    s.magic = 0xDAA320A7u;
    s.queue_id = 3; s.flag = 7; s.reconsume = 2; s.crc = 0x1234567;
    s.queue_offset = 41; s.phys = INT64_C(0x102030405); s.born_ts = INT64_C(1795288064000);
    s.store_ts = INT64_C(1795288064100); s.prepared = 0;
    memcpy(s.born_ip, born4, 4); s.born_port = 40000;
    memcpy(s.store_ip, store4, 4); s.store_port = 10911;
    s.topic = "TopicTest";
    s.body = "hello body";
    s.body_len = 10;
    s.props = "KEYS\001k1 order-7\002TAGS\001tagA\002UNIQ_KEY\001" "0A000005109200000000000000000001\002color\001blue\002";
    return s;
}

static void test_a_stored_message_decodes_every_field_of_message_decoder(void)
{
    unsigned char buf[512];
    sm_spec s = sm_default();
    size_t n = sm_put(buf, &s);
    rmq__stored m;
    CHECK_INT(rmq__stored_decode(buf, n, &m), 0);
    CHECK_INT(m.store_size, n);
    CHECK_INT(m.magic, 0xDAA320A7u);
    CHECK_INT(m.body_crc, 0x1234567);
    CHECK_INT(m.queue_id, 3);
    CHECK_INT(m.flag, 7);
    CHECK_INT(m.queue_offset, 41);
    CHECK_INT(m.commit_log_offset, INT64_C(0x102030405));
    CHECK_INT(m.born_ts, INT64_C(1795288064000));
    CHECK_INT(m.store_ts, INT64_C(1795288064100));
    CHECK_INT(m.born.iplen, 4);
    CHECK_INT(m.born.port, 40000);
    CHECK_INT(m.store.port, 10911);
    CHECK_INT(m.reconsume_times, 2);
    CHECK_INT(m.prepared_tx_offset, 0);
    CHECK_SLICE(m.body, "hello body");
    CHECK_SLICE(m.topic, "TopicTest");
    CHECK_SLICE(rmq__prop_get(m.props, "color"), "blue");
}

static void test_a_v2_record_has_a_two_byte_topic_length_and_ipv6_hosts(void)
{
    static const unsigned char v6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    static const unsigned char v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0xbc, 0, 0x10 };
    unsigned char buf[1024];
    char topic[301];
    sm_spec s = sm_default();
    rmq__stored m;
    rmq__stored_text t;
    rmq__ext_src src;
    size_t n;
    memset(topic, 'T', 300);
    topic[300] = 0;
    s.magic = 0xDAA320ABu;
    s.topic = topic;
    s.sysflag = 0x30;
    memcpy(s.born_ip, v6, 16);
    memcpy(s.store_ip, v6b, 16);
    n = sm_put(buf, &s);
    CHECK_INT(rmq__stored_decode(buf, n, &m), 0);
    CHECK_INT(m.topic.len, 300);
    CHECK_INT(m.born.iplen, 16);
    CHECK_INT(m.store.iplen, 16);
    CHECK_SLICE(m.body, "hello body");
    rmq__stored_src(&m, "broker-a", &t, &src);
    /* Inet6Address.getHostAddress, in brackets as InetSocketAddress prints it */
    CHECK_STR(t.born, "[fe80:0:0:0:0:0:0:1]:40000");
    CHECK_STR(t.store, "[2001:db8:0:0:0:0:abc:10]:10911");
    /* createMessageId: 16 address bytes, the port, the offset: 56 digits */
    CHECK_STR(t.offset_msg_id, "20010DB800000000000000000ABC001000002A9F0000000102030405");
    /* the V1 magic reads a 300-byte topic's first length byte only: refused */
    s.magic = 0xDAA320A7u;
    n = sm_put(buf, &s);
    buf[4] = 0xDA; buf[5] = 0xA3; buf[6] = 0x20; buf[7] = 0xA7;
    CHECK(rmq__stored_decode(buf, n, &m) != 0);
}

/* A fake zlib: the "compressed" form is the body reversed. */
static size_t av_unreverse(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    size_t i;
    (void)arg;
    if (len > cap) return 0;
    for (i = 0; i < len; i++) ((unsigned char *)out)[i] = ((const unsigned char *)in)[len - 1 - i];
    return len;
}

static void test_a_compressed_body_is_inflated_only_with_a_decompressor(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    unsigned char buf[512];
    sm_spec s = sm_default();
    rmq__stored m;
    rmq__stored_text t;
    rmq__ext_src src;
    rmq_message_ext e;
    size_t n;
    s.sysflag = 0x1;
    s.body = "ydob";
    s.body_len = 4;
    n = sm_put(buf, &s);
    simc_config(c, &cfg, "ViewGroup");
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq__stored_decode(buf, n, &m), 0);
    rmq__stored_src(&m, "broker-a", &t, &src);
    CHECK_INT(rmq__ext_build(p, &src, &e), RMQ_OK);
    CHECK_INT(e.body_len, 4);
    CHECK(memcmp(e.body, "ydob", 4) == 0);                 /* no decompressor: as stored */
    CHECK_INT(e.sys_flag & 1, 1);
    rmq_message_ext_free(p, &e);
    rmq_producer_destroy(p);
    cfg.decompressor = av_unreverse;
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq__ext_build(p, &src, &e), RMQ_OK);
    CHECK_INT(e.body_len, 4);
    CHECK(memcmp(e.body, "body", 4) == 0);
    CHECK_STR(e.tags, "tagA");
    CHECK_STR(e.keys, "k1 order-7");
    CHECK_STR(e.msg_id, "0A000005109200000000000000000001");
    CHECK_STR(e.born_host, "10.0.0.5:40000");
    CHECK_STR(e.store_host, "10.0.1.1:10911");
    CHECK_STR(e.offset_msg_id, "0A00010100002A9F0000000102030405");
    CHECK_STR(e.queue.broker_name, "broker-a");
    rmq_message_ext_free(p, &e);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Decodes buf[0..n) from an allocation of exactly n bytes, so ASan sees
 * any read past what arrived. */
static int av_decode_exact(const unsigned char *buf, size_t n, rmq__stored *m)
{
    unsigned char *copy = (unsigned char *)malloc(n ? n : 1);
    int rc;
    memcpy(copy, buf, n);
    rc = rmq__stored_decode(copy, n, m);
    free(copy);
    return rc;
}

static void test_every_truncation_and_every_lying_length_is_refused(void)
{
    unsigned char buf[512], lie[512];
    sm_spec s = sm_default();
    size_t n = sm_put(buf, &s), cut, body_at, topic_at, props_at;
    rmq__stored m;
    int d;
    for (cut = 0; cut < n; cut++)
        CHECKF(av_decode_exact(buf, cut, &m) != 0, "a record cut to %u of %u bytes was accepted", (unsigned)cut, (unsigned)n);
    for (cut = 0; cut < n; cut++) {                  /* the total says where it ends */
        memcpy(lie, buf, cut);
        sm_u32(lie, (uint32_t)cut);
        CHECKF(av_decode_exact(lie, cut, &m) != 0, "a total of %u accepted", (unsigned)cut);
    }
    body_at = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
    topic_at = body_at + 4 + s.body_len;
    props_at = topic_at + 1 + strlen(s.topic);
    for (d = -3; d <= 3; d++) {                      /* each length a little off, or huge */
        if (!d) continue;
        memcpy(lie, buf, n);
        sm_u32(lie + body_at, (uint32_t)((int)s.body_len + d));
        CHECKF(av_decode_exact(lie, n, &m) != 0, "a body length off by %d accepted", d);
        memcpy(lie, buf, n);
        lie[topic_at] = (unsigned char)((int)strlen(s.topic) + d);
        CHECKF(av_decode_exact(lie, n, &m) != 0, "a topic length off by %d accepted", d);
        memcpy(lie, buf, n);
        lie[props_at + 1] = (unsigned char)((int)strlen(s.props) + d);
        CHECKF(av_decode_exact(lie, n, &m) != 0, "a properties length off by %d accepted", d);
        memcpy(lie, buf, n);
        sm_u32(lie, (uint32_t)((int)n + d));
        CHECKF(av_decode_exact(lie, n, &m) != 0, "a total off by %d accepted", d);
    }
    memcpy(lie, buf, n);
    sm_u32(lie + body_at, 0xFFFFFFF0u);
    CHECK(av_decode_exact(lie, n, &m) != 0);
    memcpy(lie, buf, n);
    lie[7] ^= 1;                                     /* an unknown magic */
    CHECK(av_decode_exact(lie, n, &m) != 0);
    memcpy(lie, buf, n);
    lie[36 + 3] |= 0x30;                             /* IPv6 flags: the hosts would be longer */
    CHECK(av_decode_exact(lie, n, &m) != 0);
}

static void test_the_captured_check_body_decodes_with_every_field(void)
{
    size_t len;
    unsigned char *buf = load_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", &len);
    rmq_command c;
    rmq__stored m;
    rmq__stored_text t;
    rmq__ext_src src;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_INT(rmq__stored_decode(c.body, c.body_len, &m), 0);
    CHECK_INT(m.store_size, c.body_len);
    CHECK_INT(m.magic, 0xDAA320A7u);
    CHECK_SLICE(m.topic, "TxTest");
    CHECK_INT(m.commit_log_offset, 27380);
    CHECK_INT(m.born.iplen, 4);
    rmq__stored_src(&m, "", &t, &src);
    /* the header's offsetMsgId is createMessageId of the same record */
    CHECK_SLICE(rmq_command_ext(&c, "offsetMsgId"), t.offset_msg_id);
    free(buf);
}

/* -- a broker that answers VIEW_MESSAGE_BY_ID and QUERY_MESSAGE ---------- */
typedef struct av_broker {
    int not_found;                 /* QUERY_MESSAGE: QUERY_NOT_FOUND */
    unsigned char body[2048];
    size_t body_len;
    const char *last_update;
} av_broker;

static av_broker av_brokers[3];
static int av_last_version;
static char av_last_offset[32];

/* The answer as 4.9.8 writes it: a JSON header whatever the request used. */
static void av_answer(rmq_sim_conn *conn, const rmq_command *q, int code, const char *remark, const char **ext,
                      const unsigned char *body, size_t len)
{
    rmq_command r;
    rmq__buf b;
    int i;
    rmq__command_init(&r, code, q->opaque, RMQ_FLAG_RESPONSE);
    r.serialize = RMQ_SERIALIZE_JSON;
    if (remark) r.remark = rmq__cslice(remark);
    for (i = 0; ext && ext[i]; i += 2) rmq_command_put_ext(&r, ext[i], ext[i + 1]);
    rmq__buf_init(&b, RMQ_TEST_HEAP, 1 << 20);
    rmq__frame_encode_head(&b, &r, len);
    rmq__buf_put(&b, body, len);
    rmq_sim_conn_write(conn, b.p, b.len);
    rmq__buf_free(&b);
}

static int av_serve(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    av_broker *b = &av_brokers[sc->server - 1];  /* one name server first */
    const char *ext[5];
    rmq_slice off = rmq_command_ext(q, "offset");
    av_last_version = q->version;
    if (q->code == RMQ_REQ_VIEW_MESSAGE_BY_ID) {
        snprintf(av_last_offset, sizeof av_last_offset, "%.*s", off.ptr ? (int)off.len : 0, off.ptr ? off.ptr : "");
        if (!b->body_len) av_answer(conn, q, RMQ_CODE_SYSTEM_ERROR, "can not find message by the offset", NULL, NULL, 0);
        else av_answer(conn, q, 0, NULL, NULL, b->body, b->body_len);
        return 1;
    }
    if (q->code == RMQ_REQ_QUERY_MESSAGE) {
        ext[0] = "indexLastUpdateTimestamp"; ext[1] = b->last_update ? b->last_update : "0";
        ext[2] = "indexLastUpdatePhyoffset"; ext[3] = "0"; ext[4] = NULL;
        if (b->not_found) av_answer(conn, q, RMQ_CODE_QUERY_NOT_FOUND, "can not find message, maybe time range not correct", ext, NULL, 0);
        else av_answer(conn, q, 0, NULL, ext, b->body, b->body_len);
        return 1;
    }
    return 0;
}

static simc *av_cluster(int nbrokers)
{
    simc *c = simc_create(1, nbrokers, 1000);
    memset(av_brokers, 0, sizeof av_brokers);
    av_last_version = 0;
    av_last_offset[0] = 0;
    c->extra = av_serve;
    return c;
}

static rmq_producer *av_producer(simc *c, rmq_serialize ser)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, "ViewGroup");
    cfg.serialize = ser;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK || rmq_producer_start(p) != RMQ_OK) return NULL;
    return p;
}

static void test_a_malformed_offset_msg_id_is_refused_before_anything_is_sent(void)
{
    simc *c = av_cluster(1);
    rmq_producer *p = av_producer(c, RMQ_SERIALIZE_JSON);
    rmq_message_ext e;
    CHECK(p != NULL);
    CHECK_INT(rmq_view_message(p, "not-an-id", &e), RMQ_ERR_INVALID_ARG);
    CHECK_HAS(rmq_producer_last_error(p), "not-an-id is not an offset message id");
    CHECK_INT(rmq_view_message(p, "0A00010100002A9F00000001020304", &e), RMQ_ERR_INVALID_ARG);  /* 30 digits */
    CHECK_INT(rmq_view_message(p, "0A00010100002A9F000000010203040G", &e), RMQ_ERR_INVALID_ARG);
    CHECK_INT(rmq_view_message(p, NULL, &e), RMQ_ERR_INVALID_ARG);
    CHECK(e.storage_ == NULL);
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_VIEW_MESSAGE_BY_ID), 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_view_asks_the_store_host_of_the_id_and_decodes_its_json_answer(void)
{
    simc *c = av_cluster(2);
    rmq_producer *p = av_producer(c, RMQ_SERIALIZE_ROCKETMQ);
    rmq_message_ext e;
    sm_spec s = sm_default();
    simc_req *r;
    CHECK(p != NULL);
    s.store_ip[3] = 2;                              /* stored on broker-b */
    av_brokers[1].body_len = sm_put(av_brokers[1].body, &s);
    CHECK_INT(rmq_view_message(p, "0A00010200002A9F0000000102030405", &e), RMQ_OK);
    r = simc_last(c, "broker-b", RMQ_REQ_VIEW_MESSAGE_BY_ID);
    CHECK(r != NULL);
    CHECK_INT(r->serialize, 1);                     /* asked in binary, answered in JSON */
    CHECK_STR(av_last_offset, "4328719365");        /* 0x102030405 */
    CHECK_STR(e.topic, "TopicTest");
    CHECK_STR(e.tags, "tagA");
    CHECK_STR(e.keys, "k1 order-7");
    CHECK_INT(e.body_len, 10);
    CHECK(memcmp(e.body, "hello body", 10) == 0);
    CHECK_INT(e.queue.queue_id, 3);
    CHECK_INT(e.queue_offset, 41);
    CHECK_INT(e.commit_log_offset, INT64_C(0x102030405));
    CHECK_STR(e.offset_msg_id, "0A00010200002A9F0000000102030405");
    CHECK_STR(e.store_host, "10.0.1.2:10911");
    CHECK_INT(e.reconsume_times, 2);
    CHECK_INT(e.flag, 7);
    CHECK_INT(e.nproperties, 4);
    rmq_message_ext_free(p, &e);
    CHECK(e.storage_ == NULL);
    /* no such message: the broker's SYSTEM_ERROR, named */
    CHECK_INT(rmq_view_message(p, "0A00010100002A9F0000000000000064", &e), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "SYSTEM_ERROR");
    CHECK_HAS(rmq_producer_last_error(p), "can not find message by the offset");
    /* an answer whose record lies: a protocol error, nothing handed back */
    av_brokers[1].body[0] = 0x7F;
    CHECK_INT(rmq_view_message(p, "0A00010200002A9F0000000102030405", &e), RMQ_ERR_PROTOCOL);
    CHECK_HAS(rmq_producer_last_error(p), "malformed");
    CHECK(e.storage_ == NULL);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_query_merges_two_brokers_where_one_finds_nothing(void)
{
    simc *c = av_cluster(2);
    rmq_producer *p = av_producer(c, RMQ_SERIALIZE_JSON);
    rmq_query_result r;
    sm_spec s = sm_default();
    simc_req *q;
    char v[64];
    size_t n = 0;
    CHECK(p != NULL);
    n += sm_put(av_brokers[0].body + n, &s);              /* the key among others */
    s.props = "KEYS\001other k10\002";                    /* k1 only as a prefix: not it */
    n += sm_put(av_brokers[0].body + n, &s);
    s.props = "KEYS\001k1\002";
    s.topic = "OtherTopic";                               /* an index collision of another topic */
    n += sm_put(av_brokers[0].body + n, &s);
    s.topic = "TopicTest";
    s.queue_offset = 42;
    n += sm_put(av_brokers[0].body + n, &s);
    av_brokers[0].body_len = n;
    av_brokers[0].last_update = "1795288060000";
    av_brokers[1].not_found = 1;
    av_brokers[1].last_update = "1795288061000";
    CHECK_INT(rmq_query_message(p, "TopicTest", "k1", 32, 0, INT64_C(1795288064606), &r), RMQ_OK);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.msgs[0].queue_offset, 41);
    CHECK_INT(r.msgs[1].queue_offset, 42);
    CHECK_STR(r.msgs[0].queue.broker_name, "broker-a");
    CHECK_INT(r.index_last_update_ms, INT64_C(1795288060000));   /* of the answers that found some, as Java */
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_QUERY_MESSAGE), 1);
    CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_QUERY_MESSAGE), 1);
    q = simc_last(c, "broker-b", RMQ_REQ_QUERY_MESSAGE);
    CHECK_STR(simc_ext(q, "topic", v, sizeof v), "TopicTest");
    CHECK_STR(simc_ext(q, "key", v, sizeof v), "k1");
    CHECK_STR(simc_ext(q, "maxNum", v, sizeof v), "32");
    CHECK_STR(simc_ext(q, "beginTimestamp", v, sizeof v), "0");
    CHECK_STR(simc_ext(q, "endTimestamp", v, sizeof v), "1795288064606");
    CHECK_STR(simc_ext(q, "_UNIQUE_KEY_QUERY", v, sizeof v), "false");
    CHECK_INT(av_last_version, 399);
    rmq_query_result_free(p, &r);
    CHECK(r.msgs == NULL && r.n == 0);
    /* max_num bounds what is kept */
    CHECK_INT(rmq_query_message(p, "TopicTest", "k1", 1, 0, INT64_C(1795288064606), &r), RMQ_OK);
    CHECK_INT(r.n, 1);
    rmq_query_result_free(p, &r);
    /* nobody found it: Java's "no message", as QUERY_NOT_FOUND */
    av_brokers[0].not_found = 1;
    CHECK_INT(rmq_query_message(p, "TopicTest", "k1", 32, 0, INT64_C(1795288064606), &r), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "query message by key finished, but no message");
    CHECK_HAS(rmq_producer_last_error(p), "QUERY_NOT_FOUND");
    CHECK(r.msgs == NULL && r.n == 0);
    CHECK_INT(rmq_query_message(p, "TopicTest", "", 32, 0, 1, &r), RMQ_ERR_INVALID_ARG);
    CHECK_INT(rmq_query_message(p, "TopicTest", "k1", 0, 0, 1, &r), RMQ_ERR_INVALID_ARG);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_broken_answer_of_one_broker_leaves_the_other_ones_result(void)
{
    simc *c = av_cluster(2);
    rmq_producer *p = av_producer(c, RMQ_SERIALIZE_JSON);
    rmq_query_result r;
    sm_spec s = sm_default();
    CHECK(p != NULL);
    av_brokers[0].body_len = sm_put(av_brokers[0].body, &s);
    av_brokers[1].body_len = sm_put(av_brokers[1].body, &s) - 1;   /* cut short */
    CHECK_INT(rmq_query_message(p, "TopicTest", "order-7", 8, 0, 1, &r), RMQ_OK);
    CHECK_INT(r.n, 1);
    rmq_query_result_free(p, &r);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A UNIQ_KEY of this month as the sim's producer would make it. */
static void av_uniq_key(char *out, int64_t at_ms)
{
    int64_t start, next;
    rmq__month_bounds(at_ms, &start, &next);
    snprintf(out, 33, "0A000005109200C0FFEE%08X0001", (unsigned)(at_ms - start));
}

static void test_view_by_id_falls_back_to_the_unique_key_query_and_keeps_the_earliest(void)
{
    simc *c = av_cluster(2);
    rmq_producer *p = av_producer(c, RMQ_SERIALIZE_JSON);
    rmq_message_ext e;
    sm_spec s = sm_default();
    simc_req *q;
    char uniq[33], props[128], v[64];
    int64_t begin;
    CHECK(p != NULL);
    av_uniq_key(uniq, INT64_C(1795288060000));
    snprintf(props, sizeof props, "UNIQ_KEY\001%s\002TAGS\001t\002", uniq);
    s.props = props;
    s.store_ts = INT64_C(1795288060500);
    s.queue_offset = 9;
    av_brokers[0].body_len = sm_put(av_brokers[0].body, &s);
    s.store_ts = INT64_C(1795288060400);                 /* stored twice (a retry): the earlier wins */
    s.queue_offset = 5;
    av_brokers[1].body_len = sm_put(av_brokers[1].body, &s);
    CHECK_INT(rmq_view_message_by_id(p, "TopicTest", uniq, &e), RMQ_OK);
    CHECK_INT(e.queue_offset, 5);
    CHECK_STR(e.msg_id, uniq);
    q = simc_last(c, "broker-a", RMQ_REQ_QUERY_MESSAGE);
    CHECK(q != NULL);
    CHECK_STR(simc_ext(q, "_UNIQUE_KEY_QUERY", v, sizeof v), "true");
    CHECK_STR(simc_ext(q, "maxNum", v, sizeof v), "32");
    begin = INT64_C(1795288060000) - 1000;
    snprintf(props, sizeof props, "%lld", (long long)begin);
    CHECK_STR(simc_ext(q, "beginTimestamp", v, sizeof v), props);
    CHECK_STR(simc_ext(q, "endTimestamp", v, sizeof v), "9223372036854775807");
    rmq_message_ext_free(p, &e);
    /* an offset msg id is viewed directly, no query */
    av_brokers[0].body_len = sm_put(av_brokers[0].body, &s);
    CHECK_INT(rmq_view_message_by_id(p, "TopicTest", "0A00010100002A9F0000000102030405", &e), RMQ_OK);
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_QUERY_MESSAGE), 2);
    rmq_message_ext_free(p, &e);
    CHECK_INT(rmq_view_message_by_id(p, "TopicTest", "xyz", &e), RMQ_ERR_INVALID_ARG);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_the_acl_signature_of_a_query_leaves_the_unique_key_flag_out(void)
{
    rmq_acl a1, a2;
    rmq_command q1, q2;
    const rmq_rpc_hook *h1 = rmq_acl_hook_init(&a1, "RocketMQ", "12345678", NULL);
    const rmq_rpc_hook *h2 = rmq_acl_hook_init(&a2, "RocketMQ", "12345678", NULL);
    rmq__rq rq;
    rmq_ext_field f[6];
    char nums[3][RMQ__DEC_MAX];
    rmq__rq_query_message(&rq, f, nums, "TopicTest", "k1", 32, 0, 1, 1);
    rq_command(&rq, &q1);
    CHECK_INT(q1.version, 399);
    CHECK_INT(h1->before(h1->arg, "127.0.0.1:10911", &q1), RMQ_OK);
    /* the same request without the flag signs to the same value: what a
     * 4.9.8 broker (always) and a 5.x broker (below version 400) check */
    rmq__command_init(&q2, RMQ_REQ_QUERY_MESSAGE, 0, 0);
    q2.version = 399;
    rmq_command_put_ext(&q2, "topic", "TopicTest");
    rmq_command_put_ext(&q2, "key", "k1");
    rmq_command_put_ext(&q2, "maxNum", "32");
    rmq_command_put_ext(&q2, "beginTimestamp", "0");
    rmq_command_put_ext(&q2, "endTimestamp", "1");
    CHECK_INT(h2->before(h2->arg, "127.0.0.1:10911", &q2), RMQ_OK);
    CHECK_STR(a1.signature, a2.signature);
    /* at the library's own version the flag is signed, as for any field */
    rq_command(&rq, &q1);
    q1.version = RMQ_PROTOCOL_VERSION;
    CHECK_INT(h1->before(h1->arg, "127.0.0.1:10911", &q1), RMQ_OK);
    CHECK(strcmp(a1.signature, a2.signature) != 0);
}

static size_t av_halve(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    (void)arg;
    if (len / 2 > cap) return 0;
    memcpy(out, in, len / 2);
    return len / 2;
}

/* DefaultMQProducerImpl.tryToCompressMessage: single messages from
 * compressMsgBodyOverHowmuch on, never batches; sysFlag gets COMPRESSED and
 * the ZLIB type (0x300) as 4.9.4+ sets them. */
static void test_the_compressed_flag_is_set_as_java_sets_it(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res[2];
    static char big[5000];
    rmq_message m[2];
    simc_req *r;
    memset(big, 'z', sizeof big);
    simc_config(c, &cfg, "pg");
    cfg.compressor = av_halve;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m[0], "TopicTest", big, 4096);
    CHECK_INT(rmq_send(p, &m[0], &res[0]), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK_HAS(r->ext, "f=769\n");
    rmq_message_init(&m[1], "TopicTest", big, 5000);
    CHECK_INT(rmq_send_batch(p, m, 2, res), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_BATCH_MESSAGE);
    CHECK(r != NULL);
    CHECK_HAS(r->ext, "f=0\n");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_admin_view_tests(void)
{
    RUN(test_the_compressed_flag_is_set_as_java_sets_it);
    RUN(test_a_stored_message_decodes_every_field_of_message_decoder);
    RUN(test_a_v2_record_has_a_two_byte_topic_length_and_ipv6_hosts);
    RUN(test_a_compressed_body_is_inflated_only_with_a_decompressor);
    RUN(test_every_truncation_and_every_lying_length_is_refused);
    RUN(test_the_captured_check_body_decodes_with_every_field);
    RUN(test_a_malformed_offset_msg_id_is_refused_before_anything_is_sent);
    RUN(test_view_asks_the_store_host_of_the_id_and_decodes_its_json_answer);
    RUN(test_a_query_merges_two_brokers_where_one_finds_nothing);
    RUN(test_a_broken_answer_of_one_broker_leaves_the_other_ones_result);
    RUN(test_view_by_id_falls_back_to_the_unique_key_query_and_keeps_the_earliest);
    RUN(test_the_acl_signature_of_a_query_leaves_the_unique_key_flag_out);
}
