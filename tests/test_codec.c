/* The codec layer: JSON, frames in both serializations, the incremental
 * decoder, properties, the batch body, identifiers. Pure functions, and the
 * frames captured from the real Java producer and a real 4.9.8 cluster. */

static const char *vector_dir(void)
{
    const char *d = getenv("RMQ_VECTORS");
    return d ? d : "tests/vectors";
}

static unsigned char *load_vector(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bin", vector_dir(), name);
    return test_read_file(path, len);
}

/* Decodes a whole frame held in buf; returns 0 and fills c. */
static int decode_whole(unsigned char *buf, size_t len, rmq_command *c)
{
    rmq__frame_info fi;
    if (rmq__frame_check(buf, len, RMQ_MAX_FRAME_BYTES, &fi) != RMQ__FRAME_OK || fi.total != len) return -1;
    return rmq__frame_decode(buf, &fi, fi.total - 8 - fi.header_len, c);
}

/* The pull reader passes over one value of s and finds nothing after it. */
static int jr_reads(const char *s, size_t n, int *err)
{
    static char copy[512];
    rmq__jr r;
    memcpy(copy, s, n);
    rmq__jr_init(&r, copy, n);
    n = (size_t)(rmq__jr_skip(&r) || rmq__jr_end(&r));
    if (err) *err = r.err;
    return n ? -1 : 0;
}

/* The text of the JSON string s, as the pull reader unescapes it in place. */
static rmq_slice jr_string(char *s)
{
    rmq__jr r;
    rmq_slice v;
    v.ptr = NULL; v.len = 0;
    rmq__jr_init(&r, s, strlen(s));
    if (rmq__jr_value(&r, &v) != RMQ__JR_STRING || rmq__jr_end(&r)) { v.ptr = NULL; return v; }
    return rmq__jr_text(&r, v);
}

/* -- the captured frames ------------------------------------------------- */
typedef struct vector_expect {
    const char *name;
    int code, opaque, flag;
    unsigned total, body;
} vector_expect;

/* Code, opaque, flag and sizes, as the captures' descriptions give them. */
static const vector_expect vector_table[] = {
    { "producer_existing_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 0, 0, 136, 0 },
    { "producer_existing_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 0, 1, 338, 235 },
    { "producer_existing_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 2, 0, 139, 0 },
    { "producer_existing_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 2, 1, 338, 235 },
    { "producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req", 310, 4, 0, 394, 16 },
    { "producer_existing_topic/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 4, 1, 240, 0 },
    { "producer_existing_topic/006_client_to_broker_SEND_MESSAGE_V2_req", 310, 6, 0, 394, 16 },
    { "producer_existing_topic/007_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 6, 1, 240, 0 },
    { "producer_existing_topic/008_client_to_broker_SEND_BATCH_MESSAGE_req", 320, 8, 0, 617, 333 },
    { "producer_existing_topic/009_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS", 0, 8, 1, 306, 0 },
    { "producer_existing_topic/010_client_to_broker_SEND_MESSAGE_V2_oneway", 310, 10, 2, 401, 12 },
    { "producer_existing_topic/011_client_to_broker_HEART_BEAT_req", 34, 11, 0, 255, 150 },
    { "producer_existing_topic/012_broker_to_client_HEART_BEAT_resp_SUCCESS", 0, 11, 1, 104, 0 },
    { "producer_existing_topic/013_client_to_broker_UNREGISTER_CLIENT_req", 35, 13, 0, 191, 0 },
    { "producer_existing_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 13, 1, 119, 0 },
    { "producer_existing_topic/015_client_to_broker_UNREGISTER_CLIENT_req", 35, 15, 0, 202, 0 },
    { "producer_existing_topic/016_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 15, 1, 119, 0 },
    { "producer_new_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 0, 0, 148, 0 },
    { "producer_new_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST", 17, 0, 1, 247, 0 },
    { "producer_new_topic/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 2, 0, 136, 0 },
    { "producer_new_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 2, 1, 338, 235 },
    { "producer_new_topic/004_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 4, 0, 136, 0 },
    { "producer_new_topic/005_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 4, 1, 338, 235 },
    { "producer_new_topic/006_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 7, 0, 148, 0 },
    { "producer_new_topic/007_client_to_broker_SEND_MESSAGE_V2_req", 310, 5, 0, 403, 16 },
    { "producer_new_topic/008_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST", 17, 7, 1, 247, 0 },
    { "producer_new_topic/009_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 5, 1, 239, 0 },
    { "producer_new_topic/010_client_to_broker_SEND_BATCH_MESSAGE_req", 320, 10, 0, 627, 333 },
    { "producer_new_topic/011_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS", 0, 10, 1, 306, 0 },
    { "producer_new_topic/012_client_to_broker_SEND_MESSAGE_V2_oneway", 310, 12, 2, 410, 12 },
    { "producer_new_topic/013_client_to_broker_UNREGISTER_CLIENT_req", 35, 13, 0, 191, 0 },
    { "producer_new_topic/014_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 13, 1, 119, 0 },
    { "producer_new_topic/015_client_to_broker_UNREGISTER_CLIENT_req", 35, 15, 0, 202, 0 },
    { "producer_new_topic/016_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 15, 1, 119, 0 },
    { "pull_consumer/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 0, 0, 160, 0 },
    { "pull_consumer/001_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 1, 0, 147, 0 },
    { "pull_consumer/002_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 0, 1, 338, 235 },
    { "pull_consumer/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 1, 1, 338, 235 },
    { "pull_consumer/004_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 4, 0, 160, 0 },
    { "pull_consumer/005_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 4, 1, 338, 235 },
    { "pull_consumer/006_client_to_broker_PULL_MESSAGE_req", 11, 6, 0, 388, 0 },
    { "pull_consumer/007_broker_to_client_PULL_MESSAGE_resp_SUCCESS", 0, 6, 1, 911, 696 },
    { "pull_consumer/008_client_to_broker_PULL_MESSAGE_req", 11, 8, 0, 388, 0 },
    { "pull_consumer/009_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND", 19, 8, 1, 230, 0 },
    { "pull_consumer/010_client_to_broker_PULL_MESSAGE_req", 11, 10, 0, 389, 0 },
    { "pull_consumer/011_broker_to_client_PULL_MESSAGE_resp_SUCCESS", 0, 10, 1, 433, 217 },
    { "pull_consumer/012_client_to_broker_PULL_MESSAGE_req", 11, 12, 0, 389, 0 },
    { "pull_consumer/013_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND", 19, 12, 1, 231, 0 },
    { "pull_consumer/014_client_to_broker_PULL_MESSAGE_req", 11, 14, 0, 389, 0 },
    { "pull_consumer/015_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND", 19, 14, 1, 231, 0 },
    { "pull_consumer/016_client_to_broker_PULL_MESSAGE_req", 11, 16, 0, 389, 0 },
    { "pull_consumer/017_broker_to_client_PULL_MESSAGE_resp_SUCCESS", 0, 16, 1, 427, 211 },
    { "pull_consumer/018_client_to_broker_PULL_MESSAGE_req", 11, 18, 0, 389, 0 },
    { "pull_consumer/019_broker_to_client_PULL_MESSAGE_resp_PULL_NOT_FOUND", 19, 18, 1, 231, 0 },
    { "pull_consumer/020_client_to_broker_UNREGISTER_CLIENT_req", 35, 20, 0, 222, 0 },
    { "pull_consumer/021_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 20, 1, 119, 0 },
    { "pull_consumer/022_client_to_broker_UNREGISTER_CLIENT_req", 35, 22, 0, 225, 0 },
    { "pull_consumer/023_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 22, 1, 119, 0 },
    { "transaction/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 0, 0, 136, 0 },
    { "transaction/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 0, 1, 338, 235 },
    { "transaction/002_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", 105, 2, 0, 136, 0 },
    { "transaction/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", 0, 2, 1, 338, 235 },
    { "transaction/004_client_to_broker_SEND_MESSAGE_V2_req", 310, 4, 0, 450, 14 },
    { "transaction/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 4, 1, 239, 0 },
    { "transaction/006_client_to_broker_END_TRANSACTION_oneway", 37, 6, 2, 318, 0 },
    { "transaction/007_client_to_broker_SEND_MESSAGE_V2_req", 310, 7, 0, 454, 16 },
    { "transaction/008_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 7, 1, 239, 0 },
    { "transaction/009_client_to_broker_END_TRANSACTION_oneway", 37, 9, 2, 319, 0 },
    { "transaction/010_client_to_broker_SEND_MESSAGE_V2_req", 310, 10, 0, 453, 15 },
    { "transaction/011_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", 0, 10, 1, 240, 0 },
    { "transaction/012_client_to_broker_END_TRANSACTION_oneway", 37, 12, 2, 319, 0 },
    { "transaction/013_client_to_broker_HEART_BEAT_req", 34, 13, 0, 260, 155 },
    { "transaction/014_broker_to_client_HEART_BEAT_resp_SUCCESS", 0, 13, 1, 104, 0 },
    { "transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", 39, 60, 2, 618, 303 },
    { "transaction/016_client_to_broker_END_TRANSACTION_oneway", 37, 16, 2, 350, 0 },
    { "transaction/017_client_to_broker_UNREGISTER_CLIENT_req", 35, 17, 0, 196, 0 },
    { "transaction/018_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 17, 1, 119, 0 },
    { "transaction/019_client_to_broker_UNREGISTER_CLIENT_req", 35, 19, 0, 205, 0 },
    { "transaction/020_broker_to_client_UNREGISTER_CLIENT_resp_SUCCESS", 0, 19, 1, 119, 0 }
};

static void test_every_captured_frame_decodes_with_the_described_code_opaque_flag_and_body(void)
{
    size_t i;
    for (i = 0; i < sizeof vector_table / sizeof *vector_table; i++) {
        const vector_expect *e = &vector_table[i];
        size_t len = 0;
        unsigned char *buf = load_vector(e->name, &len);
        rmq_command c;
        char msg[300];
        snprintf(msg, sizeof msg, "vector %s", e->name);
        CHECK_MSG(buf != NULL, msg);
        CHECK_MSG(len == e->total, msg);
        CHECK_MSG(decode_whole(buf, len, &c) == 0, msg);
        CHECK_MSG(c.code == e->code && c.opaque == e->opaque && c.flag == e->flag, msg);
        CHECK_MSG(c.body_len == e->body && c.version == 409 && c.language == 0, msg);
        CHECK_MSG(c.serialize == RMQ_SERIALIZE_JSON, msg);
        free(buf);
    }
    CHECK_INT(sizeof vector_table / sizeof *vector_table, 79);
}

static void test_send_request_vector_carries_the_v2_fields_and_unescaped_properties(void)
{
    size_t len;
    unsigned char *buf = load_vector("producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req", &len);
    rmq_command c;
    rmq_slice props;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_SLICE(rmq_command_ext(&c, "a"), "ProbeGroup");
    CHECK_SLICE(rmq_command_ext(&c, "b"), "BatchTest");
    CHECK_SLICE(rmq_command_ext(&c, "c"), "TBW102");
    CHECK_SLICE(rmq_command_ext(&c, "d"), "4");
    CHECK_SLICE(rmq_command_ext(&c, "e"), "2");
    CHECK_SLICE(rmq_command_ext(&c, "g"), "1795288064606");
    CHECK_SLICE(rmq_command_ext(&c, "m"), "false");
    CHECK_SLICE(rmq_command_ext(&c, "n"), "broker-a");
    props = rmq_command_ext(&c, "i");
    CHECK_SLICE(props, "KEYS\001KEY_0\002UNIQ_KEY\001C000020246965FFD2B276B19FA5D0000\002WAIT\001true\002TAGS\001TagA");
    CHECK_SLICE(rmq__prop_get(props, "TAGS"), "TagA");
    CHECK_SLICE(rmq__prop_get(props, "UNIQ_KEY"), "C000020246965FFD2B276B19FA5D0000");
    CHECK(c.body_len == 16 && memcmp(c.body, "Hello RocketMQ 0", 16) == 0);
    free(buf);
}

static void test_send_response_vector_gives_offset_id_queue_and_region(void)
{
    size_t len;
    unsigned char *buf = load_vector("producer_existing_topic/009_broker_to_client_SEND_BATCH_MESSAGE_resp_SUCCESS", &len);
    rmq_command c;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_SLICE(rmq_command_ext(&c, "msgId"),
                "7F00000100002A9F0000000000005D9A,7F00000100002A9F0000000000005E78,7F00000100002A9F0000000000005F56");
    CHECK_SLICE(rmq_command_ext(&c, "queueOffset"), "26");
    CHECK_SLICE(rmq_command_ext(&c, "queueId"), "0");
    CHECK_SLICE(rmq_command_ext(&c, "MSG_REGION"), "DefaultRegion");
    CHECK_SLICE(rmq_command_ext(&c, "TRACE_ON"), "true");
    free(buf);
}

static void test_topic_not_exist_vector_keeps_the_remark_with_its_newline(void)
{
    size_t len;
    unsigned char *buf = load_vector("producer_new_topic/001_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_TOPIC_NOT_EXIST", &len);
    rmq_command c;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_INT(c.code, RMQ_CODE_TOPIC_NOT_EXIST);
    CHECK_SLICE(c.remark, "No topic route info in name server for the topic: NewTopic1795288077\n"
                          "See http://rocketmq.apache.org/docs/faq/ for further details.");
    free(buf);
}

static void test_route_vector_becomes_four_publish_queues_on_broker_a(void)
{
    size_t len, n = 0;
    unsigned char *buf = load_vector("producer_existing_topic/003_namesrv_to_client_GET_ROUTEINFO_BY_TOPIC_resp_SUCCESS", &len);
    rmq_command c;
    static rmq__route_data rd;
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[RMQ_MAX_QUEUES];
    rmq_reason why;
    int order;
    memset(table, 0, sizeof table);
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK(rmq__route_parse((char *)(uintptr_t)c.body, c.body_len, &rd, &why) == 0);
    CHECK_INT(rd.nbrokers, 1);
    CHECK_STR(rd.brokers[0].name, "broker-a");
    CHECK_STR(rd.brokers[0].addrs[0].addr, "127.0.0.1:10911");
    CHECK(rmq__route_publish_queues(&rd, table, 0, q, &n, &order, &why) == 0);
    CHECK_INT(n, 4);
    CHECK_STR(table[q[3].broker].name, "broker-a");
    CHECK_INT(q[3].queue_id, 3);
    CHECK_STR(rmq__broker_master(&table[q[0].broker]), "127.0.0.1:10911");
    free(buf);
}

static void test_check_transaction_state_vector_is_a_oneway_broker_request(void)
{
    size_t len;
    unsigned char *buf = load_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", &len);
    rmq_command c;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_INT(c.code, RMQ_REQ_CHECK_TRANSACTION_STATE);
    CHECK(!(c.flag & RMQ_FLAG_RESPONSE) && (c.flag & RMQ_FLAG_ONEWAY));
    CHECK_SLICE(rmq_command_ext(&c, "commitLogOffset"), "27380");
    CHECK_SLICE(rmq_command_ext(&c, "offsetMsgId"), "7F00000100002A9F0000000000006AF4");
    free(buf);
}

/* The seed's batch: our MessageBatch records hold what Java's hold (the
 * property order differs: Java's is a HashMap's). */
static void test_batch_body_matches_the_captured_batch_record_by_record(void)
{
    size_t len, i;
    unsigned char *buf = load_vector("producer_existing_topic/008_client_to_broker_SEND_BATCH_MESSAGE_req", &len);
    static const char *uniq[3] = { "C000020246965FFD2B276B19FA920002", "C000020246965FFD2B276B19FA920003",
                                   "C000020246965FFD2B276B19FA920004" };
    static const char *keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    rmq_command c;
    rmq__buf mine, props;
    size_t at_theirs = 0, at_mine = 0;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK_SLICE(rmq_command_ext(&c, "i"), "WAIT\001true");
    rmq__buf_init(&mine, NULL, 1 << 20);
    rmq__buf_init(&props, NULL, 1 << 16);
    for (i = 0; i < 3; i++) {
        char body[32];
        rmq_message m;
        snprintf(body, sizeof body, "Hello world %d", (int)i);
        rmq_message_init(&m, "BatchTest", body, strlen(body));
        m.tags = "Tag";
        m.keys = keys[i];
        props.len = 0;
        rmq__encode_properties(&m, uniq[i], &props, NULL);
        rmq__batch_record(&mine, 0, body, strlen(body), props.p, props.len);
    }
    CHECK_INT(mine.len, c.body_len);
    for (i = 0; i < 3; i++) {
        const uint8_t *t = c.body + at_theirs, *o = mine.p + at_mine;
        uint32_t tsz = rmq__be32(t), osz = rmq__be32(o), blen = rmq__be32(t + 16);
        rmq_slice tp, op, k, v;
        CHECK_INT(tsz, osz);
        CHECK(memcmp(t + 4, o + 4, 16 + blen) == 0);         /* magic, crc, flag, body */
        tp.ptr = (const char *)t + 22 + blen; tp.len = rmq__be16(t + 20 + blen);
        op.ptr = (const char *)o + 22 + blen; op.len = rmq__be16(o + 20 + blen);
        CHECK_INT(tp.len, op.len);
        while (rmq__prop_next(&tp, &k, &v)) {
            char key[32];
            snprintf(key, sizeof key, "%.*s", (int)k.len, k.ptr);
            CHECK(rmq__prop_get(op, key).len == v.len && memcmp(rmq__prop_get(op, key).ptr, v.ptr, v.len) == 0);
        }
        at_theirs += tsz;
        at_mine += osz;
    }
    rmq__buf_free(&mine);
    rmq__buf_free(&props);
    free(buf);
}

/* -- the incremental decoder -------------------------------------------- */
/* The same answer whether the bytes come whole or one at a time. */
static void test_decoder_needs_more_until_the_last_byte_then_gives_the_frame(void)
{
    size_t len, k;
    unsigned char *buf = load_vector("producer_existing_topic/005_broker_to_client_SEND_MESSAGE_V2_resp_SUCCESS", &len);
    rmq__frame_info fi;
    CHECK(buf != NULL);
    for (k = 0; k < len; k++) CHECK_INT(rmq__frame_check(buf, k, RMQ_MAX_FRAME_BYTES, &fi), RMQ__FRAME_NEED);
    CHECK_INT(rmq__frame_check(buf, len, RMQ_MAX_FRAME_BYTES, &fi), RMQ__FRAME_OK);
    CHECK_INT(fi.total, len);
    free(buf);
}

static void test_decoder_rejects_a_header_longer_than_its_frame(void)
{
    unsigned char f[16] = { 0, 0, 0, 8, 0, 0, 0, 9, '{', '}', 0, 0, 0, 0, 0, 0 };
    rmq__frame_info fi;
    CHECK_INT(rmq__frame_check(f, sizeof f, RMQ_MAX_FRAME_BYTES, &fi), RMQ__FRAME_MALFORMED);
    f[7] = 2; f[4] = 2;                                       /* serialize type 2 */
    CHECK_INT(rmq__frame_check(f, sizeof f, RMQ_MAX_FRAME_BYTES, &fi), RMQ__FRAME_MALFORMED);
}

static void test_decoder_recognises_an_oversized_frame_from_its_first_eight_bytes(void)
{
    unsigned char f[8];
    rmq__frame_info fi;
    rmq__be32_put(f, 8u * 1024u * 1024u);                    /* 8 MiB: within the protocol, over our limit */
    rmq__be32_put(f + 4, 100);
    CHECK_INT(rmq__frame_check(f, 8, 1024, &fi), RMQ__FRAME_OVERSIZE);
    CHECK_INT(fi.header_len, 100);
    rmq__be32_put(f, 16u * 1024u * 1024u);                   /* over 16 MiB: malformed */
    CHECK_INT(rmq__frame_check(f, 8, 1024, &fi), RMQ__FRAME_MALFORMED);
}

/* -- encoding ------------------------------------------------------------- */
static void test_json_request_header_is_what_a_java_broker_reads(void)
{
    rmq_command c, d;
    rmq__buf b;
    rmq__command_init(&c, 105, 2, 0);
    rmq_command_put_ext(&c, "topic", "BatchTest");
    rmq__buf_init(&b, NULL, 4096);
    CHECK(rmq__frame_encode_head(&b, &c, 0) == 0);
    CHECK_INT(rmq__be32(b.p), b.len - 4);
    CHECK(memcmp(b.p + 8, "{\"code\":105,\"extFields\":{\"topic\":\"BatchTest\"},\"flag\":0,\"language\":\"OTHER\","
                          "\"opaque\":2,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}", b.len - 8) == 0);
    CHECK(decode_whole(b.p, b.len, &d) == 0);
    CHECK_INT(d.code, 105);
    CHECK_INT(d.language, 7);
    CHECK_SLICE(rmq_command_ext(&d, "topic"), "BatchTest");
    rmq__buf_free(&b);
}

static void test_binary_header_round_trips_and_matches_the_spec_example(void)
{
    static const unsigned char spec[45] = {
        0, 0, 0, 0x2d, 1, 0, 0, 0x29, 0, 0x69, 9, 1, 0x99, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14,
        0, 5, 't', 'o', 'p', 'i', 'c', 0, 0, 0, 9, 'T', 'o', 'p', 'i', 'c'
    };
    rmq_command c, d;
    rmq__buf b;
    rmq__command_init(&c, 105, 1, 0);
    c.language = 9;
    c.serialize = RMQ_SERIALIZE_ROCKETMQ;
    rmq_command_put_ext(&c, "topic", "TopicTest");
    rmq__buf_init(&b, NULL, 4096);
    CHECK(rmq__frame_encode_head(&b, &c, 0) == 0);
    CHECK_INT(b.len, 49);
    CHECK(memcmp(b.p, spec, sizeof spec) == 0);
    CHECK(memcmp(b.p + 45, "Test", 4) == 0);
    CHECK(decode_whole(b.p, b.len, &d) == 0);
    CHECK_INT(d.serialize, RMQ_SERIALIZE_ROCKETMQ);
    CHECK_INT(d.opaque, 1);
    CHECK_SLICE(rmq_command_ext(&d, "topic"), "TopicTest");
    rmq__buf_free(&b);
}

static void test_binary_header_with_lengths_past_its_end_is_malformed(void)
{
    unsigned char h[30];
    rmq_command c;
    memset(h, 0, sizeof h);
    rmq__be32_put(h + 13, 100);                              /* remark longer than the header */
    memset(&c, 0, sizeof c);
    CHECK(rmq__header_decode_binary(h, sizeof h, &c) != 0);
    rmq__be32_put(h + 13, 0);
    rmq__be32_put(h + 17, 9);                                /* ext area: key length past the end */
    h[21] = 0; h[22] = 200;
    memset(&c, 0, sizeof c);
    CHECK(rmq__header_decode_binary(h, sizeof h, &c) != 0);
}

static void test_json_writer_escapes_quotes_backslashes_and_control_bytes(void)
{
    rmq__buf b;
    rmq__buf_init(&b, NULL, 256);
    rmq__json_str(&b, "a\"b\\c\001d\002\n\037\x7f\xc3\xa9", 13);
    rmq__buf_putc(&b, 0);
    CHECK_STR((const char *)b.p, "\"a\\\"b\\\\c\\u0001d\\u0002\\u000a\\u001f\x7f\xc3\xa9\"");
    rmq__buf_free(&b);
}

/* Every string of a few words with one or two bytes to escape at every
 * offset (the word-at-a-time writer moves by the first special byte of a
 * word): the same text as escaping byte by byte, and the counted length. */
static void test_json_writer_escapes_a_special_byte_at_every_offset_as_byte_by_byte(void)
{
    static const unsigned char specials[] = { 0x01, 0x02, '"', '\\', 0x1f, 0x00 };
    char in[40];
    rmq__buf b;
    size_t n, at, k, i;
    for (n = 0; n <= sizeof in; n++)
        for (at = 0; at < n; at++)
            for (k = 0; k < sizeof specials; k++) {
                char want[6 * sizeof in + 2];
                size_t w = 0;
                for (i = 0; i < n; i++) in[i] = (char)('A' + i % 26);
                in[at] = (char)specials[k];
                if (at + 3 < n) in[at + 3] = (char)0xc3;         /* UTF-8 passes through */
                if (at + 5 < n) in[at + 5] = '\\';
                want[w++] = '"';
                for (i = 0; i < n; i++) {
                    unsigned char c = (unsigned char)in[i];
                    if (c == '"' || c == '\\') { want[w++] = '\\'; want[w++] = (char)c; }
                    else if (c < 0x20) w += (size_t)sprintf(want + w, "\\u%04x", c);
                    else want[w++] = (char)c;
                }
                want[w++] = '"';
                rmq__buf_init(&b, NULL, 512);
                rmq__json_str(&b, in, n);
                CHECKF(b.len == w && memcmp(b.p, want, w) == 0, "n=%u at=%u special=%u: %.*s",
                       (unsigned)n, (unsigned)at, (unsigned)specials[k], (int)b.len, (const char *)b.p);
                rmq__buf_free(&b);
                CHECK_INT(rmq__json_esc_len(in, n), w);
            }
}

/* -- the JSON tokenizer --------------------------------------------------- */
static void test_tokenizer_reads_fastjson_unquoted_integer_keys_on_purpose(void)
{
    char body[] = "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"192.168.1.10:10911\",1:\"192.168.1.11:10911\"},"
                  "\"brokerName\":\"broker-a\",\"cluster\":\"DefaultCluster\"}],\"filterServerTable\":{},"
                  "\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":6,\"readQueueNums\":4,\"topicSysFlag\":0,\"writeQueueNums\":4}]}";
    static rmq__route_data rd;
    rmq_reason why;
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK_INT(rd.brokers[0].naddrs, 2);
    CHECK_INT(rd.brokers[0].addrs[1].id, 1);
    CHECK_STR(rd.brokers[0].addrs[1].addr, "192.168.1.11:10911");
    CHECK_INT(rd.queue_datas[0].write, 4);
}

static void test_tokenizer_refuses_what_is_not_json(void)
{
    static const char *bad[] = { "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1}}", "{\"a\":\"\x01\"}",
                                 "{a:1}", "{\"a\":\"\\x\"}", "", "{\"a\":1,}", "[\"\\u12\"]",
                                 /* and what a pull reader could let through if it were lax */
                                 "[1 2]", "{\"a\":1 \"b\":2}", "[,1]", "{,\"a\":1}", "[1}", "{\"a\":1]", "{\"a\"}",
                                 "{-:1}", "{1.5:1}", "\"\\", "\"abc", "  ", "[[]", "{\"a\":{\"b\":1}" };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "bad JSON #%u accepted", (unsigned)i);
        CHECK_MSG(jr_reads(bad[i], strlen(bad[i]), NULL) < 0, msg);
    }
}

/* What strict JSON allows, the reader takes: blanks between every two
 * tokens, empty containers, escapes, fastjson's integer keys. */
static void test_pull_reader_accepts_blanks_empties_escapes_and_integer_keys(void)
{
    static const char *good[] = { "{}", "[]", " { } ", "[ ]", "\t{\r\n\"a\"\t:\n[ 1 , { } , [ ] , \"x\" ] }\n",
                                  "{\"a\\\"\\u0041\":\"\\/\\b\"}", "{0:\"a\",-12:\"b\"}", "\"s\"", "-1.5e+3", "null",
                                  "[[[[]]]]", "{\"\":\"\"}" };
    size_t i;
    for (i = 0; i < sizeof good / sizeof *good; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "good JSON #%u refused", (unsigned)i);
        CHECK_MSG(jr_reads(good[i], strlen(good[i]), NULL) == 0, msg);
    }
}

/* Nesting to RMQ_MAX_JSON_DEPTH is read, one more level is refused as too
 * deep (not as malformed); there is no cap on how many values a text holds. */
static void test_tokenizer_caps_depth_and_token_count(void)
{
    char deep[2 * (RMQ_MAX_JSON_DEPTH + 1)];
    static char many[4 * 2048 + 2];
    int i, err = 0;
    for (i = 0; i < RMQ_MAX_JSON_DEPTH + 1; i++) deep[i] = '[';
    for (i = 0; i < RMQ_MAX_JSON_DEPTH + 1; i++) deep[RMQ_MAX_JSON_DEPTH + 1 + i] = ']';
    CHECK(jr_reads(deep + 1, 2 * RMQ_MAX_JSON_DEPTH, &err) == 0);
    CHECK(jr_reads(deep, sizeof deep, &err) < 0);
    CHECK_INT(err, RMQ__JR_EDEPTH);
    many[0] = '[';
    for (i = 0; i < 2048; i++) memcpy(many + 1 + 2 * i, i ? ",1" : " 1", 2);
    many[1 + 2 * 2048] = ']';
    {
        rmq__jr r;
        rmq__jr_init(&r, many, 2 + 2 * 2048);
        CHECK(rmq__jr_skip(&r) == 0 && rmq__jr_end(&r) == 0);
    }
}

static void test_unescape_decodes_surrogate_pairs_to_utf8(void)
{
    char s[] = "\"x\\ud83d\\ude00\\u00e9\\n\"";
    rmq_slice v = jr_string(s);
    CHECK_SLICE(v, "x\xf0\x9f\x98\x80\xc3\xa9\n");
}

/* Every one-letter escape JSON has, and a code point of three UTF-8 bytes
 * (a lone surrogate's half is one too). */
static void test_unescape_decodes_every_short_escape_and_three_byte_code_points(void)
{
    char s[] = "\"\\b\\f\\n\\r\\t\\/\\\\\\\"\\u4e2d\\u0041\\u07ff\\ud83d.\"";
    rmq_slice v = jr_string(s);
    CHECK_SLICE(v, "\b\f\n\r\t/\\\"\xe4\xb8\xad" "A\xdf\xbf\xed\xa0\xbd.");
}

/* A JSON header as a broker could write it but the flat reader does not
 * read: blanks, members in any order, escapes (undone in remark and
 * extFields, a member's own key compared as written), numbers at int32's
 * limits, a member written twice (the last counts), unknown members of any
 * shape passed over. */
static void test_json_header_read_by_the_pull_reader_in_any_order_and_shape(void)
{
    char h[] = " { \"extFields\" : { \"k\\u0031\" : \"v\\n\" , \"n\" : 5, \"o\" : {\"x\":[1]} } ,\n"
               "\"remark\":\"a\\\"b\", \"opaque\" : \"-2147483648\", \"code\":1, \"code\" : 2147483647,"
               "\"other\":[{\"a\":[]},null], \"flag\":1, \"language\":\"CPP\", \"version\":-1,"
               "\"co\\u0064e\":7 }  ";
    rmq_command c;
    memset(&c, 0, sizeof c);
    CHECK_INT(rmq__header_decode_pull(h, strlen(h), &c), 0);
    CHECK_INT(c.code, 2147483647);
    CHECK_INT(c.opaque, INT32_MIN);
    CHECK_INT(c.flag, 1);
    CHECK_INT(c.version, -1);
    CHECK_INT(c.language, rmq__language_code(rmq__cslice("CPP")));
    CHECK_SLICE(c.remark, "a\"b");
    CHECK_INT(c.next, 2);
    CHECK_SLICE(c.ext[0].key, "k1");
    CHECK_SLICE(c.ext[0].value, "v\n");
    CHECK_SLICE(c.ext[1].key, "n");
    CHECK_SLICE(c.ext[1].value, "5");
}

/* A header that is not one is refused whole: not an object, a number past
 * int32 or of the wrong shape, too many extFields, cut short anywhere,
 * something after it. */
static void test_json_header_refused_when_malformed_out_of_range_or_truncated(void)
{
    static const char *bad[] = { "[]", "\"x\"", "{\"code\":2147483648}", "{\"opaque\":-2147483649}",
                                 "{\"code\":{}}", "{\"flag\":[1]}", "{\"version\":\"x\"}", "{\"code\":1} x",
                                 "{\"code\":1}{}", "{\"code\":true}", "{\"code\":1,\"remark\":\"\\u00\"}",
                                 "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}" };
    char h[512], whole[] = "{\"code\":0,\"extFields\":{\"a\":\"b\\u0041\"},\"remark\":\"r\"}";
    rmq_command c;
    size_t i, n;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "bad header #%u accepted", (unsigned)i);
        strcpy(h, bad[i]);
        memset(&c, 0, sizeof c);
        CHECK_MSG(rmq__header_decode_pull(h, strlen(h), &c) != 0, msg);
    }
    n = (size_t)snprintf(h, sizeof h, "{\"extFields\":{");
    for (i = 0; i <= RMQ_MAX_EXT_FIELDS; i++) n += (size_t)snprintf(h + n, sizeof h - n, "%s\"k%u\":1", i ? "," : "", (unsigned)i);
    n += (size_t)snprintf(h + n, sizeof h - n, "}}");
    memset(&c, 0, sizeof c);
    CHECK(n < sizeof h && rmq__header_decode_pull(h, n, &c) != 0);
    for (i = 0; i < sizeof whole - 1; i++) {
        char msg[64];
        memcpy(h, whole, sizeof whole);
        memset(&c, 0, sizeof c);
        snprintf(msg, sizeof msg, "header cut at %u accepted", (unsigned)i);
        CHECK_MSG(rmq__header_decode_pull(h, i, &c) != 0, msg);
    }
    memset(&c, 0, sizeof c);
    CHECK(rmq__header_decode_pull(whole, sizeof whole - 1, &c) == 0 && c.next == 1);
    CHECK_SLICE(c.ext[0].value, "bA");
}

/* A route body is read whatever the order of its members, with blanks
 * and escapes; of a member written twice the first counts. */
static void test_route_read_in_any_member_order_first_duplicate_counts(void)
{
    char body[] = " { \"queueDatas\" : [ { \"writeQueueNums\" : 2 , \"perm\":\"6\", \"topicSysFlag\":0, "
                  "\"readQueueNums\":3, \"brokerName\":\"broker-\\u0061\", \"perm\":0 } ],"
                  "\"filterServerTable\":{\"x\":[\"y\"]}, \"orderTopicConf\":null,"
                  "\"brokerDatas\" : [ { \"brokerAddrs\" : { \"1\" : \"s:1\", 0:\"m\\u003a1\" }, \"cluster\":\"c\","
                  "\"brokerName\" : \"broker-a\", \"brokerName\":\"broker-z\" } ],"
                  "\"brokerDatas\":[{\"brokerName\":\"broker-y\"}] } ";
    static rmq__route_data rd;
    rmq_reason why;
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK_INT(rd.nbrokers, 1);
    CHECK_STR(rd.brokers[0].name, "broker-a");
    CHECK_INT(rd.brokers[0].naddrs, 2);
    CHECK_INT(rd.brokers[0].addrs[1].id, 0);
    CHECK_STR(rd.brokers[0].addrs[1].addr, "m:1");
    CHECK_INT(rd.nqueue_datas, 1);
    CHECK_STR(rd.queue_datas[0].broker, "broker-a");
    CHECK_INT(rd.queue_datas[0].perm, 6);
    CHECK_INT(rd.queue_datas[0].read, 3);
    CHECK_INT(rd.queue_datas[0].write, 2);
    CHECK_STR(rd.order_conf, "");
}

/* A route body that is malformed anywhere, even after all it needs, or
 * nested too deep is refused before anything in it is taken, with the
 * reason that says so. */
static void test_route_malformed_or_too_deep_is_refused_with_its_reason(void)
{
    char body[256];
    static rmq__route_data rd;
    rmq_reason why;
    int i, n;
    strcpy(body, "{\"brokerDatas\":[{\"brokerName\":\"toolong-toolong\",\"brokerAddrs\":{}}],\"x\":[1,]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[0], RMQ_R_ROUTE_REFUSED);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_NOT_OBJECT);
    n = snprintf(body, sizeof body, "{\"filterServerTable\":");
    for (i = 0; i < RMQ_MAX_JSON_DEPTH; i++) body[n++] = '[';
    for (i = 0; i < RMQ_MAX_JSON_DEPTH; i++) body[n++] = ']';
    body[n++] = '}';
    CHECK(rmq__route_parse(body, (size_t)n, &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_MAX_JSON_DEPTH);
    strcpy(body, "{\"brokerDatas\":[{\"brokerAddrs\":{\"x\":\"h:1\"}}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_BROKER_NAME);     /* the name is named first, wherever it stands */
    strcpy(body, "{\"brokerDatas\":[{\"brokerAddrs\":{\"x\":\"h:1\"},\"brokerName\":\"b\"}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_BROKER_ID);
    strcpy(body, "{\"queueDatas\":[{\"perm\":6,\"readQueueNums\":1,\"writeQueueNums\":65536,\"brokerName\":\"b\"}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_QUEUE_NUMS);
    strcpy(body, "{\"queueDatas\":[{\"perm\":6,\"readQueueNums\":1,\"writeQueueNums\":1}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_QUEUE_BROKER_NAME);
    strcpy(body, "{\"queueDatas\":[{\"perm\":256,\"readQueueNums\":1,\"writeQueueNums\":1,\"brokerName\":\"b\"}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_QUEUE_NUMS);
    /* the numbers at their limits are taken */
    strcpy(body, "{\"queueDatas\":[{\"perm\":255,\"readQueueNums\":65535,\"writeQueueNums\":0,\"brokerName\":\"b\"}]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK_INT(rd.queue_datas[0].perm, 255);
    CHECK_INT(rd.queue_datas[0].read, 65535);
    CHECK_INT(rd.queue_datas[0].write, 0);
}

static void test_route_over_a_bound_is_refused_naming_the_bound(void)
{
    char body[4096];
    static rmq__route_data rd;
    rmq_reason why;
    char text[RMQ_REASON_MAX_LEN + 1];
    int i, n = snprintf(body, sizeof body, "{\"brokerDatas\":[");
    for (i = 0; i < RMQ_MAX_BROKERS + 1; i++)
        n += snprintf(body + n, sizeof body - (size_t)n, "%s{\"brokerAddrs\":{\"0\":\"h:1\"},\"brokerName\":\"b%d\"}", i ? "," : "", i);
    snprintf(body + n, sizeof body - (size_t)n, "],\"queueDatas\":[]}");
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
    CHECK_HAS(rmq__reason_text(&why, NULL, text, sizeof text), "RMQ_MAX_BROKERS");
}

/* An item of brokerDatas or queueDatas that is not an object is refused,
 * naming the list it stands in. */
static void test_route_item_not_an_object_is_refused_naming_its_list(void)
{
    static const char *bodies[2] = { "{\"brokerDatas\":[1],\"queueDatas\":[]}",
                                     "{\"brokerDatas\":[],\"queueDatas\":[\"b\"]}" };
    static const int what[2] = { RMQ_R_ROUTE_BROKER_DATA, RMQ_R_ROUTE_QUEUE_DATA };
    static rmq__route_data rd;
    int i;
    for (i = 0; i < 2; i++) {
        char body[64];
        rmq_reason why;
        strcpy(body, bodies[i]);
        CHECK(rmq__route_parse(body, strlen(body), &rd, &why) != 0);
        CHECK_INT(why.code[0], RMQ_R_ROUTE_REFUSED);
        CHECK_INT(why.code[1], what[i]);
    }
}

/* -- route → publish queues ----------------------------------------------- */
static void test_publish_queues_sort_brokers_and_skip_read_only_and_masterless_groups(void)
{
    char body[] = "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"b:1\"},\"brokerName\":\"broker-b\"},"
                  "{\"brokerAddrs\":{\"0\":\"a:1\"},\"brokerName\":\"broker-a\"},"
                  "{\"brokerAddrs\":{\"1\":\"c:1\"},\"brokerName\":\"broker-c\"},"
                  "{\"brokerAddrs\":{\"0\":\"d:1\"},\"brokerName\":\"broker-d\"}],"
                  "\"queueDatas\":[{\"brokerName\":\"broker-b\",\"perm\":6,\"readQueueNums\":2,\"writeQueueNums\":2},"
                  "{\"brokerName\":\"broker-a\",\"perm\":6,\"readQueueNums\":3,\"writeQueueNums\":3},"
                  "{\"brokerName\":\"broker-c\",\"perm\":6,\"readQueueNums\":2,\"writeQueueNums\":2},"
                  "{\"brokerName\":\"broker-d\",\"perm\":4,\"readQueueNums\":2,\"writeQueueNums\":2}]}";
    static rmq__route_data rd;
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[RMQ_MAX_QUEUES];
    size_t n;
    int order;
    rmq_reason why;
    memset(table, 0, sizeof table);
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK(rmq__route_publish_queues(&rd, table, 0, q, &n, &order, &why) == 0);
    CHECK_INT(n, 5);                                          /* a:0..2 then b:0..1 */
    CHECK_STR(table[q[0].broker].name, "broker-a");
    CHECK_INT(q[2].queue_id, 2);
    CHECK_STR(table[q[3].broker].name, "broker-b");
    CHECK_INT(q[4].queue_id, 1);
}

static void test_default_topic_route_is_clamped_to_default_queue_nums(void)
{
    char body[] = "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"a:1\"},\"brokerName\":\"broker-a\"}],"
                  "\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":7,\"readQueueNums\":8,\"writeQueueNums\":8}]}";
    static rmq__route_data rd;
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[RMQ_MAX_QUEUES];
    size_t n;
    int order;
    rmq_reason why;
    memset(table, 0, sizeof table);
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK(rmq__route_publish_queues(&rd, table, 4, q, &n, &order, &why) == 0);
    CHECK_INT(n, 4);
}

static void test_order_topic_conf_fixes_the_queue_list(void)
{
    char body[] = "{\"brokerDatas\":[],\"orderTopicConf\":\"broker-x:2;broker-y:1\",\"queueDatas\":[]}";
    static rmq__route_data rd;
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[RMQ_MAX_QUEUES];
    size_t n;
    int order;
    rmq_reason why;
    memset(table, 0, sizeof table);
    CHECK(rmq__route_parse(body, strlen(body), &rd, &why) == 0);
    CHECK(rmq__route_publish_queues(&rd, table, 0, q, &n, &order, &why) == 0);
    CHECK_INT(order, 1);
    CHECK_INT(n, 3);
    CHECK_STR(table[q[2].broker].name, "broker-y");
}

static void test_selection_rotates_and_avoids_the_broker_that_just_failed(void)
{
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[4];
    uint32_t rr = 0;
    int i;
    memset(table, 0, sizeof table);
    for (i = 0; i < 4; i++) { q[i].broker = (uint8_t)(i / 2); q[i].queue_id = (uint16_t)(i % 2); }
    CHECK_INT(rmq__route_select(q, 4, &rr, -1, table, 0, 0), 0);
    CHECK_INT(rmq__route_select(q, 4, &rr, -1, table, 0, 0), 1);
    for (i = 0; i < 8; i++) CHECK_INT(q[rmq__route_select(q, 4, &rr, 0, table, 0, 0)].broker, 1);
    for (i = 0; i < 8; i++) CHECK_INT(q[rmq__route_select(q, 4, &rr, 1, table, 0, 0)].broker, 0);
}

static void test_latency_fault_tolerance_keeps_an_isolated_broker_out_for_600_s(void)
{
    rmq__broker table[RMQ_MAX_BROKERS];
    rmq__pubq q[2];
    rmq_producer_config cfg;
    uint32_t rr = 0, now = 0xFFFFF000u;                        /* across the wrap */
    int i;
    memset(table, 0, sizeof table);
    rmq_producer_config_init(&cfg);
    q[0].broker = 0; q[0].queue_id = 0;
    q[1].broker = 1; q[1].queue_id = 0;
    rmq__fault_update(&table[0], &cfg, now, 10, 1);
    for (i = 0; i < 6; i++) CHECK_INT(rmq__route_select(q, 2, &rr, -1, table, 1, now + 599999u), 1);
    CHECK(rmq__fault_available(&table[0], now + 600000u));
    rmq__fault_update(&table[1], &cfg, now, 120, 0);                /* 120 ms: still available */
    CHECK(rmq__fault_available(&table[1], now));
    rmq__fault_update(&table[1], &cfg, now, 600, 0);          /* 600 ms: out for 30 s */
    CHECK(!rmq__fault_available(&table[1], now + 29999u));
}

static void test_latency_fault_tables_are_the_producers_own(void)
{
    rmq__broker b;
    rmq_producer_config cfg;
    memset(&b, 0, sizeof b);
    rmq_producer_config_init(&cfg);
    cfg.not_available_duration_ms[6] = 2000;                  /* setNotAvailableDuration, short */
    rmq__fault_update(&b, &cfg, 100, 10, 1);                  /* a failure: 30 s of latency */
    CHECK(!rmq__fault_available(&b, 100 + 1999u));
    CHECK(rmq__fault_available(&b, 100 + 2000u));
    cfg.latency_max_ms[0] = 0;                                /* setLatencyMax: 0 ms and up is slow */
    cfg.not_available_duration_ms[0] = 500;
    rmq__fault_update(&b, &cfg, 100, 1, 0);
    CHECK(!rmq__fault_available(&b, 100 + 499u));
}

/* -- properties ----------------------------------------------------------- */
static void test_properties_read_with_and_without_the_trailing_separator(void)
{
    rmq_slice a = rmq__cslice("A\001x\002B\001y"), b = rmq__cslice("A\001x\002B\001y\002"), k, v;
    int n = 0;
    CHECK_SLICE(rmq__prop_get(a, "B"), "y");
    CHECK_SLICE(rmq__prop_get(b, "B"), "y");
    b = rmq__cslice("\001x\002K\001\002\002Z\001z\002A\001a\002A\001last");
    while (rmq__prop_next(&b, &k, &v)) n++;
    CHECK_INT(n, 3);                                          /* empty key and empty value skipped */
    CHECK_SLICE(rmq__prop_get(rmq__cslice("A\001a\002A\001last"), "A"), "last");
}

static void test_properties_of_a_message_are_tags_keys_wait_uniq_and_user_ones(void)
{
    rmq_message m;
    rmq_property up[1];
    rmq__buf b;
    rmq_slice s;
    rmq_message_init(&m, "T", "x", 1);
    m.tags = "TagA";
    m.keys = "k1 k2";
    m.delay_level = 3;
    up[0].key = "color"; up[0].value = "blue";
    m.properties = up;
    m.nproperties = 1;
    rmq__buf_init(&b, NULL, 4096);
    rmq__encode_properties(&m, "0A0000053039AABBCCDD0A1B2C3D0007", &b, NULL);
    s.ptr = (const char *)b.p; s.len = b.len;
    CHECK(b.p[b.len - 1] != 2);                               /* 4.9.3+ form: no trailing 0x02 */
    CHECK_SLICE(rmq__prop_get(s, "TAGS"), "TagA");
    CHECK_SLICE(rmq__prop_get(s, "KEYS"), "k1 k2");
    CHECK_SLICE(rmq__prop_get(s, "DELAY"), "3");
    CHECK_SLICE(rmq__prop_get(s, "WAIT"), "true");
    CHECK_SLICE(rmq__prop_get(s, "color"), "blue");
    CHECK_SLICE(rmq__prop_get(s, "UNIQ_KEY"), "0A0000053039AABBCCDD0A1B2C3D0007");
    rmq__buf_free(&b);
}

/* The memo gives the text of the number asked for, not of the last one. */
static void test_decimal_memo_follows_the_number_it_is_given(void)
{
    rmq__dec_memo m;
    size_t n;
    const char *t;
    memset(&m, 0, sizeof m);
    t = rmq__dec_memo_text(&m, 0, &n);
    CHECK(n == 1 && memcmp(t, "0", 1) == 0);
    t = rmq__dec_memo_text(&m, INT64_C(1700000000123), &n);
    CHECK(n == 13 && memcmp(t, "1700000000123", 13) == 0);
    t = rmq__dec_memo_text(&m, INT64_C(1700000000123), &n);
    CHECK(n == 13 && memcmp(t, "1700000000123", 13) == 0);
    t = rmq__dec_memo_text(&m, INT64_C(1700000000124), &n);
    CHECK(n == 13 && memcmp(t, "1700000000124", 13) == 0);
    t = rmq__dec_memo_text(&m, -5, &n);
    CHECK(n == 2 && memcmp(t, "-5", 2) == 0);
}

/* -- identifiers ------------------------------------------------------------ */
static void test_uniq_key_has_java_layout_with_utc_month_base(void)
{
    rmq__uniq u;
    char id[57];
    /* 2026-11-21 00:00:00.000 UTC = 1795219200000; the month began 2026-11-01. */
    int64_t now = INT64_C(1795219200000), month = INT64_C(1793491200000);
    uint32_t delta = (uint32_t)(now - month);
    char want[64];
    rmq__uniq_init(&u, "10.0.0.5", 12345, 0x1B6D3586u);
    u.counter = 7;
    rmq__uniq_next(&u, now, id);
    snprintf(want, sizeof want, "0A00000530391B6D3586%08X0007", delta);
    CHECK_STR(id, want);
    rmq__uniq_next(&u, now, id);
    CHECK_HAS(id, "0008");
    CHECK_INT(u.month_start, month);
    CHECK_INT(u.month_next, INT64_C(1796083200000));          /* 2026-12-01 */
}

static void test_uniq_key_of_an_ipv6_host_is_56_hex_digits(void)
{
    rmq__uniq u;
    char id[57];
    rmq__uniq_init(&u, "[fe80::1]", 1, 2);
    rmq__uniq_next(&u, 1000, id);
    CHECK_INT(strlen(id), 56);
    CHECK(strncmp(id, "FE800000000000000000000000000001", 32) == 0);
}

/* Every response code the header names, by its name in RocketMQ's
 * ResponseCode; any other code is UNKNOWN. And every rmq_err has its own
 * text, none empty. */
static void test_response_code_names_and_error_texts(void)
{
    static const struct { int code; const char *name; } names[] = {
        { 0, "SUCCESS" }, { 1, "SYSTEM_ERROR" }, { 2, "SYSTEM_BUSY" }, { 3, "REQUEST_CODE_NOT_SUPPORTED" },
        { 4, "TRANSACTION_FAILED" }, { 10, "FLUSH_DISK_TIMEOUT" }, { 11, "SLAVE_NOT_AVAILABLE" },
        { 12, "FLUSH_SLAVE_TIMEOUT" }, { 13, "MESSAGE_ILLEGAL" }, { 14, "SERVICE_NOT_AVAILABLE" },
        { 15, "VERSION_NOT_SUPPORTED" }, { 16, "NO_PERMISSION" }, { 17, "TOPIC_NOT_EXIST" },
        { 18, "TOPIC_EXIST_ALREADY" }, { 19, "PULL_NOT_FOUND" }, { 20, "PULL_RETRY_IMMEDIATELY" },
        { 21, "PULL_OFFSET_MOVED" }, { 22, "QUERY_NOT_FOUND" }, { 29, "INVALID_PARAMETER" },
        { 204, "NO_BUYER_ID" }, { 205, "NOT_IN_CURRENT_UNIT" }, { 206, "CONSUMER_NOT_ONLINE" },
        { 207, "CONSUME_MSG_TIMEOUT" }, { 208, "NO_MESSAGE" }, { 215, "FLOW_CONTROL" }, { 1500, "GO_AWAY" },
        { -1, "UNKNOWN" }, { 5, "UNKNOWN" }, { 209, "UNKNOWN" }, { 1501, "UNKNOWN" }, { 65536, "UNKNOWN" },
    };
    size_t i, k;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) CHECK_STR(rmq_response_code_name(names[i].code), names[i].name);
    for (i = 0; i < RMQ_ERR__COUNT; i++) {
        CHECK(rmq_strerror((rmq_err)i)[0] != 0);
        for (k = 0; k < i; k++) CHECK(strcmp(rmq_strerror((rmq_err)i), rmq_strerror((rmq_err)k)) != 0);
    }
    CHECK_STR(rmq_strerror(RMQ_OK), "ok");
    CHECK_STR(rmq_strerror(RMQ_ERR_TIMEOUT), "timed out");
    CHECK_STR(rmq_strerror((rmq_err)RMQ_ERR__COUNT), "unknown error");
}

/* The host bytes of a message id from every form of address text a port
 * may give: IPv4, IPv6 with "::" anywhere or none, in brackets or not;
 * anything else is no address (-1). */
static void test_ip_bytes_reads_ipv4_and_every_ipv6_form(void)
{
    static const struct { const char *text; int n; const char *hex; } cases[] = {
        { "10.0.0.5", 4, "0A000005" },
        { "255.255.255.255", 4, "FFFFFFFF" },
        { "::", 16, "00000000000000000000000000000000" },
        { "::1", 16, "00000000000000000000000000000001" },
        { "[fe80::1]", 16, "FE800000000000000000000000000001" },
        { "1::", 16, "00010000000000000000000000000000" },
        { "2001:db8::ff00:42:8329", 16, "20010DB8000000000000FF0000428329" },
        { "1:2:3:4:5:6:7:8", 16, "00010002000300040005000600070008" },
        { "ABCD:ef01:2345:6789:abcd:EF01:2345:6789", 16, "ABCDEF0123456789ABCDEF0123456789" },
        { "256.0.0.1", -1, "" }, { "1.2.3", -1, "" }, { "1.2.3.4.5", -1, "" },
        { "1:2:3:4:5:6:7", -1, "" }, { "1:2:3:4:5:6:7:8:9", -1, "" }, { "1::2::3", -1, "" },
        { "12345::1", -1, "" }, { "::ffff:1.2.3.4", -1, "" }, { "1:", -1, "" }, { ":1", -1, "" },
        { "g::1", -1, "" }, { "", -1, "" }, { "[::1", -1, "" },
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[16];
        char hex[33];
        int n = rmq__ip_bytes(cases[i].text, b);
        CHECK_INT(n, cases[i].n);
        if (n > 0) {
            rmq__hex(hex, b, (size_t)n);
            CHECK_STR(hex, cases[i].hex);
        }
    }
}

/* Month after month from 1970 to 2400: each month starts where the last
 * ended, any instant of it gives the same bounds, leap Februaries are the
 * calendar's (104 of them) and the walk ends on 2400-01-01. */
static void test_month_bounds_walk_every_month_from_1970_to_2400(void)
{
    int64_t at = 0, s, n;
    int k, leap = 0;
    for (k = 0; k < (2400 - 1970) * 12; k++) {
        int64_t len;
        rmq__month_bounds(at, &s, &n);
        CHECK_INT(s, at);
        len = (n - s) / 86400000;
        CHECK(len >= 28 && len <= 31 && (n - s) % 86400000 == 0);
        leap += len == 29;
        rmq__month_bounds(n - 1, &s, &n);
        CHECK_INT(s, at);
        at = n;
    }
    CHECK_INT(leap, 104);
    CHECK_INT(at, INT64_C(157054) * 86400000);
}

static void test_month_bounds_across_a_leap_february_and_new_year(void)
{
    int64_t s, n;
    rmq__month_bounds(INT64_C(1709164800000), &s, &n);        /* 2024-02-29 */
    CHECK_INT(s, INT64_C(1706745600000));                     /* 2024-02-01 */
    CHECK_INT(n, INT64_C(1709251200000));                     /* 2024-03-01 */
    rmq__month_bounds(INT64_C(1735689599999), &s, &n);        /* 2024-12-31 23:59:59.999 */
    CHECK_INT(n, INT64_C(1735689600000));                     /* 2025-01-01 */
}

static void test_offset_msg_id_decodes_store_host_and_commit_log_offset(void)
{
    char addr[64];
    int64_t off;
    CHECK_INT(rmq_offset_msg_id_decode("C0A8010A00002A9F000000000012D687", addr, sizeof addr, &off), RMQ_OK);
    CHECK_STR(addr, "192.168.1.10:10911");
    CHECK_INT(off, 1234567);
    CHECK_INT(rmq_offset_msg_id_decode("FE800000000000000000000000000001000027100000000000000010", addr, sizeof addr, &off), RMQ_OK);
    CHECK_STR(addr, "[fe80:0:0:0:0:0:0:1]:10000");
    CHECK_INT(off, 16);
    CHECK_INT(rmq_offset_msg_id_decode("XYZ", addr, sizeof addr, &off), RMQ_ERR_INVALID_ARG);
}

static void test_addresses_split_at_the_last_colon(void)
{
    char host[64];
    uint16_t port;
    CHECK(rmq__split_addr("127.0.0.1:10911", host, sizeof host, &port) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(port, 10911);
    CHECK(rmq__split_addr("[::1]:9876", host, sizeof host, &port) == 0);
    CHECK_STR(host, "::1");
    CHECK(rmq__split_addr("fe80::1:9876", host, sizeof host, &port) == 0);
    CHECK_STR(host, "fe80::1");
    CHECK(rmq__split_addr("nohost", host, sizeof host, &port) != 0);
    CHECK(rmq__split_addr("h:99999", host, sizeof host, &port) != 0);
}

/* Java's String.hashCode for keys a Java service would use, and the queue
 * SelectMessageQueueByHash picks among 8. */
static void test_java_string_hash_matches_java_for_ascii_accents_and_emoji(void)
{
    /* Values printed by Java 17's String.hashCode (and hash % n, negative
     * results made positive, as SelectMessageQueueByHash does). */
    static const struct { const char *s; int32_t h; int q8; } t[] = {
        { "", 0, 0 },
        { "a", 97, 1 },
        { "OrderID001", -1566896952, 0 },
        { "hello world", 1794106052, 4 },
        { "caf\xc3\xa9", 3045921, 1 },                       /* café */
        { "\xf0\x9f\x98\x80", 1772899, 3 },                   /* 😀: a surrogate pair */
        { "Stra\xc3\x9f" "e", -1808122922, 2 },               /* Straße */
        { "order-42", 1234255197, 5 },
        { "\xe8\xae\xa2\xe5\x8d\x95" "123", -711976609, 1 }  /* 订单123 */
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof *t; i++) {
        char msg[96];
        snprintf(msg, sizeof msg, "hash of key #%u", (unsigned)i);
        CHECK_MSG(rmq_java_string_hash(t[i].s) == t[i].h, msg);
        CHECK_MSG(rmq_select_by_hash(NULL, 8, NULL, (void *)(uintptr_t)t[i].s) == t[i].q8, msg);
    }
}

static void test_decimal_conversions_need_no_64_bit_division(void)
{
    char b[24];
    int64_t v;
    b[rmq__i64_to_dec(b, INT64_MIN + 1)] = 0;
    CHECK_STR(b, "-9223372036854775807");
    b[rmq__u64_to_dec(b, 0)] = 0;
    CHECK_STR(b, "0");
    b[rmq__u64_to_dec(b, UINT64_C(18446744073709551615))] = 0;
    CHECK_STR(b, "18446744073709551615");
    b[rmq__i64_to_dec(b, INT64_MIN)] = 0;
    CHECK_STR(b, "-9223372036854775808");
    b[rmq__u64_to_dec(b, UINT64_C(4294967295))] = 0;            /* the last value of the 32-bit path */
    CHECK_STR(b, "4294967295");
    b[rmq__u64_to_dec(b, UINT64_C(4294967296))] = 0;            /* the first of the 64-bit step */
    CHECK_STR(b, "4294967296");
    b[rmq__u64_to_dec(b, UINT64_C(1700000000123))] = 0;         /* a born timestamp */
    CHECK_STR(b, "1700000000123");
    b[rmq__u64_to_dec(b, UINT64_C(1000000000000000000))] = 0;   /* nine-digit groups of zeros */
    CHECK_STR(b, "1000000000000000000");
    b[rmq__u64_to_dec(b, UINT64_C(5000000000000000007))] = 0;
    CHECK_STR(b, "5000000000000000007");
    {   /* each side of every digit count, as printf writes them */
        uint64_t p = 1;
        int k;
        for (k = 0; k < 20; k++, p *= 10) {
            char want[24];
            uint64_t x[3];
            int j;
            x[0] = p - 1; x[1] = p; x[2] = p + 7;
            for (j = 0; j < 3; j++) {
                b[rmq__u64_to_dec(b, x[j])] = 0;
                snprintf(want, sizeof want, "%llu", (unsigned long long)x[j]);
                CHECK_STR(b, want);
            }
        }
    }
    CHECK(rmq__parse_i64("-42", 3, &v) == 0 && v == -42);
    CHECK(rmq__parse_i64("9223372036854775808", 19, &v) != 0);
    CHECK(rmq__parse_i64("1x", 2, &v) != 0);
}

static void test_pool_allocates_frees_and_coalesces_without_running_out(void)
{
    static unsigned char mem[4096];
    rmq_pool pool;
    void *a, *b, *c;
    int i;
    rmq_pool_init(&pool, mem, sizeof mem);
    for (i = 0; i < 10000; i++) {
        a = rmq_pool_alloc(&pool, 1000);
        b = rmq_pool_alloc(&pool, 1000);
        c = rmq_pool_alloc(&pool, 1000);
        CHECK(a && b && c);
        rmq_pool_free(&pool, b);
        rmq_pool_free(&pool, a);
        rmq_pool_free(&pool, c);
    }
    CHECK_INT(pool.used, 0);
    a = rmq_pool_alloc(&pool, 4000);                          /* only after merging everything */
    CHECK(a != NULL);
    CHECK(rmq_pool_alloc(&pool, 200) == NULL);
    rmq_pool_free(&pool, a);
}

/* -- ACL signing ----------------------------------------------------------- */
static void test_sha1_and_hmac_sha1_match_the_rfc_vectors(void)
{
    rmq__sha1 s;
    uint8_t d[20], opad[64];
    char hex[41];
    rmq__sha1_init(&s);
    rmq__sha1_update(&s, "abc", 3);
    rmq__sha1_final(&s, d);
    rmq__hex(hex, d, 20);
    CHECK_STR(hex, "A9993E364706816ABA3E25717850C26C9CD0D89D");          /* RFC 3174 */
    rmq__sha1_init(&s);
    rmq__sha1_update(&s, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
    rmq__sha1_final(&s, d);
    rmq__hex(hex, d, 20);
    CHECK_STR(hex, "84983E441C3BD26EBAAE4AA1F95129E5E54670F1");
    rmq__hmac_sha1_init(&s, opad, "Jefe");
    rmq__sha1_update(&s, "what do ya want ", 16);
    rmq__sha1_update(&s, "for nothing?", 12);
    rmq__hmac_sha1_final(&s, opad, d);
    rmq__hex(hex, d, 20);
    CHECK_STR(hex, "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79");          /* RFC 2202 case 2 */
}

static void test_base64_pads_as_the_standard_says(void)
{
    char out[16];
    rmq__base64((const uint8_t *)"f", 1, out);
    CHECK_STR(out, "Zg==");
    rmq__base64((const uint8_t *)"fo", 2, out);
    CHECK_STR(out, "Zm8=");
    rmq__base64((const uint8_t *)"foob", 4, out);
    CHECK_STR(out, "Zm9vYg==");
    rmq__base64((const uint8_t *)"fooba", 5, out);
    CHECK_STR(out, "Zm9vYmE=");
}

/* The worked example of the protocol reference: a route query for
 * TopicTest signed with AccessKey rocketmq2 and SecretKey 12345678. */
static void test_acl_signature_of_a_route_query_matches_the_reference_example(void)
{
    rmq_acl acl;
    const rmq_rpc_hook *h = rmq_acl_hook_init(&acl, "rocketmq2", "12345678", NULL);
    rmq_command c;
    rmq__command_init(&c, 105, 1, 0);
    rmq_command_put_ext(&c, "topic", "TopicTest");
    CHECK(h != NULL);
    CHECK_INT(h->before(h->arg, "ns:9876", &c), RMQ_OK);
    CHECK_SLICE(rmq_command_ext(&c, "AccessKey"), "rocketmq2");
    CHECK_SLICE(rmq_command_ext(&c, "Signature"), "GeeGoP9mRvDhoVp4PD5omX0prgE=");
    CHECK(rmq_command_ext(&c, "SecurityToken").ptr == NULL);
}

/* -- the serializers of the requests the client writes -------------------- */
/* A built request as the command an RPC hook would be handed. */
static void rq_command(const rmq__rq *rq, rmq_command *c)
{
    size_t i;
    rmq__command_init(c, rq->code, 0, 0);
    c->version = rq->version;
    for (i = 0; i < rq->n; i++) c->ext[c->next++] = rq->f[i];
}

/* rq written by the serializer is, byte for byte, the frame the generic
 * encoder writes for old (the command the client built before it had
 * serializers), in both serializations; and a buffer one byte short is
 * left as it was past its end. */
static void check_serializer_matches_the_encoder(const rmq__rq *rq, rmq_command *old)
{
    int s;
    for (s = 0; s < 2; s++) {
        rmq__head h;
        rmq__buf b;
        unsigned char out[2048];
        size_t n;
#ifdef RMQ_NO_BINARY_HEADER
        if (s) break;
#endif
        memset(&h, 0, sizeof h);
        h.code = rq->code;
        h.version = rq->version;
        h.opaque = 4711;
        h.flag = RMQ_FLAG_ONEWAY;
        h.language = 0;
        h.serialize = (uint8_t)s;
        old->opaque = 4711;
        old->flag = RMQ_FLAG_ONEWAY;
        old->language = 0;
        old->serialize = (rmq_serialize)s;
        rmq__buf_init(&b, NULL, 4096);
        CHECK(rmq__frame_encode_head(&b, old, 3) == 0);
        n = rmq__ser_frame(NULL, 0, &h, rq->f, rq->n, 3);
        CHECKF(n == b.len, "serialization %d: serializer sizes %u bytes, the encoder wrote %u", s, (unsigned)n,
               (unsigned)b.len);
        memset(out, 0xAA, sizeof out);
        CHECK(rmq__ser_frame(out, n - 1, &h, rq->f, rq->n, 3) == n);
        CHECK(out[n - 1] == 0xAA);
        CHECK(rmq__ser_frame(out, n, &h, rq->f, rq->n, 3) == n);
        CHECKF(memcmp(out, b.p, n) == 0, "serialization %d: the frames differ", s);
        CHECK(out[n] == 0xAA);
        rmq__buf_free(&b);
    }
}

/* The JSON header rq is written as (opaque 3, language JAVA). */
static void check_serializer_json(const rmq__rq *rq, const char *want)
{
    rmq__head h;
    unsigned char out[2048];
    size_t n;
    memset(&h, 0, sizeof h);
    h.code = rq->code;
    h.version = rq->version;
    h.opaque = 3;
    n = rmq__ser_header(out, sizeof out, &h, rq->f, rq->n);
    CHECKF(n == strlen(want) && memcmp(out, want, n) == 0, "got %.*s", (int)n, (const char *)out);
}

static void test_route_query_serializer_writes_what_the_encoder_wrote(void)
{
    rmq__rq rq;
    rmq_ext_field f[2];
    rmq_command old;
    rmq__rq_route_query(&rq, f, "Topic\"Q\001");
    rmq__command_init(&old, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC, 0, 0);
    rmq_command_put_ext(&old, "topic", "Topic\"Q\001");
    rmq_command_put_ext(&old, "acceptStandardJsonOnly", "true");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    rmq__rq_route_query(&rq, f, "TBW102");
    STEP(check_serializer_json(&rq, "{\"code\":105,\"extFields\":{\"topic\":\"TBW102\",\"acceptStandardJsonOnly\":\"true\"},"
                                    "\"flag\":0,\"language\":\"JAVA\",\"opaque\":3,\"serializeTypeCurrentRPC\":\"JSON\","
                                    "\"version\":409}"));
}

static void test_unregister_serializer_sends_the_fields_of_the_captured_java_request(void)
{
    size_t len;
    unsigned char *buf = load_vector("producer_existing_topic/013_client_to_broker_UNREGISTER_CLIENT_req", &len);
    rmq__rq rq;
    rmq_ext_field f[2];
    rmq_command old, java;
    size_t i;
    rmq__rq_unregister(&rq, f, "192.0.2.2@probe-1795288063952", "ProbeGroup");
    rmq__command_init(&old, RMQ_REQ_UNREGISTER_CLIENT, 0, 0);
    rmq_command_put_ext(&old, "clientID", "192.0.2.2@probe-1795288063952");
    rmq_command_put_ext(&old, "producerGroup", "ProbeGroup");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    CHECK(buf && decode_whole(buf, len, &java) == 0);
    CHECK_INT(rq.code, java.code);
    CHECK_INT(rq.n, java.next);
    for (i = 0; i < rq.n; i++) {
        rmq_slice v = rmq_command_ext(&java, rq.f[i].key.ptr);
        CHECKF(v.ptr && v.len == rq.f[i].value.len && memcmp(v.ptr, rq.f[i].value.ptr, v.len) == 0,
               "field %s differs from Java's", rq.f[i].key.ptr);
    }
    free(buf);
}

static void test_heartbeat_serializers_write_the_captured_java_frame(void)
{
    size_t len, n;
    unsigned char *buf = load_vector("producer_existing_topic/011_client_to_broker_HEART_BEAT_req", &len);
    static const char *const groups[] = { "ProbeGroup", "CLIENT_INNER_PRODUCER" };
    const char *cid = "192.0.2.2@probe-1795288063952";
    unsigned char out[512];
    rmq__rq rq;
    rmq__head h;
    CHECK(buf != NULL);
    rmq__rq_init(&rq, NULL, RMQ_REQ_HEART_BEAT);
    memset(&h, 0, sizeof h);
    h.code = rq.code;
    h.version = rq.version;
    h.opaque = 11;
    h.language = 0;                                       /* JAVA, as the capture */
    n = rmq__ser_heartbeat_body(NULL, 0, cid, groups, 2);
    CHECK(rmq__ser_frame(out, sizeof out, &h, rq.f, rq.n, n) + n == len);
    CHECK(rmq__ser_heartbeat_body(out + len - n, n, cid, groups, 2) == n);
    CHECK(memcmp(out, buf, len) == 0);
    CHECK(rmq__ser_heartbeat_body(out, sizeof out, "c\"1", groups, 0) == 61);
    CHECK(memcmp(out, "{\"clientID\":\"c\\\"1\",\"consumerDataSet\":[],\"producerDataSet\":[]}", 61) == 0);
    free(buf);
}

static void test_response_serializer_writes_what_the_encoder_wrote_with_its_remark(void)
{
    rmq__head h;
    rmq_command old;
    rmq__buf b;
    unsigned char out[256];
    int s;
    for (s = 0; s < 2; s++) {
#ifdef RMQ_NO_BINARY_HEADER
        if (s) break;
#endif
        rmq__command_init(&old, RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED, 9, RMQ_FLAG_RESPONSE);
        old.remark = rmq__cslice(" request type 40 not \"supported\"\n");
        old.serialize = (rmq_serialize)s;
        memset(&h, 0, sizeof h);
        h.code = RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED;
        h.opaque = 9;
        h.flag = RMQ_FLAG_RESPONSE;
        h.version = RMQ_PROTOCOL_VERSION;
        h.language = 7;
        h.serialize = (uint8_t)s;
        h.remark = old.remark;
        rmq__buf_init(&b, NULL, 4096);
        CHECK(rmq__frame_encode_head(&b, &old, 0) == 0);
        CHECK(rmq__ser_frame(out, sizeof out, &h, NULL, 0, 0) == b.len);
        CHECK(memcmp(out, b.p, b.len) == 0);
        rmq__buf_free(&b);
    }
}

#ifndef RMQ_NO_TRANSACTION
static void test_end_transaction_serializer_sends_the_fields_of_the_captured_java_request(void)
{
    size_t len, i;
    unsigned char *buf = load_vector("transaction/006_client_to_broker_END_TRANSACTION_oneway", &len);
    rmq__rq rq;
    rmq_ext_field f[RMQ__REQUEST_FIELDS];
    char num[3][RMQ__DEC_MAX];
    rmq_command old, java;
    rmq__rq_end_transaction(&rq, f, num, "ProbeTxGroup", 2, 25954, 8, 0, "C000020247D35FFD2B276B1A4F3D0000", "",
                            "broker-a");
    rmq__command_init(&old, RMQ_REQ_END_TRANSACTION, 0, 0);
    rmq_command_put_ext(&old, "producerGroup", "ProbeTxGroup");
    rmq_command_put_ext(&old, "tranStateTableOffset", "2");
    rmq_command_put_ext(&old, "commitLogOffset", "25954");
    rmq_command_put_ext(&old, "commitOrRollback", "8");
    rmq_command_put_ext(&old, "fromTransactionCheck", "false");
    rmq_command_put_ext(&old, "msgId", "C000020247D35FFD2B276B1A4F3D0000");
    rmq_command_put_ext(&old, "bname", "broker-a");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    CHECK(buf && decode_whole(buf, len, &java) == 0);
    CHECK_INT(rq.n, java.next);
    for (i = 0; i < rq.n; i++) {
        rmq_slice v = rmq_command_ext(&java, rq.f[i].key.ptr);
        CHECKF(v.ptr && v.len == rq.f[i].value.len && memcmp(v.ptr, rq.f[i].value.ptr, v.len) == 0,
               "field %s differs from Java's", rq.f[i].key.ptr);
    }
    /* a check-back's answer: the transaction id, a negative offset */
    rmq__rq_end_transaction(&rq, f, num, "g", -1, 7, 12, 1, "m", "tx-1", NULL);
    rmq__command_init(&old, RMQ_REQ_END_TRANSACTION, 0, 0);
    rmq_command_put_ext(&old, "producerGroup", "g");
    rmq_command_put_ext(&old, "tranStateTableOffset", "-1");
    rmq_command_put_ext(&old, "commitLogOffset", "7");
    rmq_command_put_ext(&old, "commitOrRollback", "12");
    rmq_command_put_ext(&old, "fromTransactionCheck", "true");
    rmq_command_put_ext(&old, "msgId", "m");
    rmq_command_put_ext(&old, "transactionId", "tx-1");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    free(buf);
}
#endif

#ifndef RMQ_NO_ADMIN
static void test_create_topic_serializer_writes_what_the_encoder_wrote(void)
{
    rmq__rq rq;
    rmq_ext_field f[RMQ__REQUEST_FIELDS];
    char num[24];
    rmq_command old;
    rmq__rq_create_topic(&rq, f, num, "TBW102", "NewTopic", 16);
    rmq__command_init(&old, RMQ_REQ_UPDATE_AND_CREATE_TOPIC, 0, 0);
    rmq_command_put_ext(&old, "topic", "NewTopic");
    rmq_command_put_ext(&old, "defaultTopic", "TBW102");
    rmq_command_put_ext(&old, "readQueueNums", "16");
    rmq_command_put_ext(&old, "writeQueueNums", "16");
    rmq_command_put_ext(&old, "perm", "6");
    rmq_command_put_ext(&old, "topicFilterType", "SINGLE_TAG");
    rmq_command_put_ext(&old, "topicSysFlag", "0");
    rmq_command_put_ext(&old, "order", "false");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
}

static void test_queue_query_serializer_writes_what_the_encoder_wrote_with_and_without_a_timestamp(void)
{
    rmq__rq rq;
    rmq_ext_field f[4];
    char num[2][RMQ__DEC_MAX];
    rmq_command old;
    int64_t ts = 1700000000123;
    rmq__rq_queue_query(&rq, f, num, RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP, "T", 3, &ts, "broker-a");
    rmq__command_init(&old, RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP, 0, 0);
    rmq_command_put_ext(&old, "topic", "T");
    rmq_command_put_ext(&old, "queueId", "3");
    rmq_command_put_ext(&old, "timestamp", "1700000000123");
    rmq_command_put_ext(&old, "bname", "broker-a");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    rmq__rq_queue_query(&rq, f, num, RMQ_REQ_GET_MAX_OFFSET, "T", 0, NULL, "broker-a");
    STEP(check_serializer_json(&rq, "{\"code\":30,\"extFields\":{\"topic\":\"T\",\"queueId\":\"0\",\"bname\":\"broker-a\"},"
                                    "\"flag\":0,\"language\":\"JAVA\",\"opaque\":3,\"serializeTypeCurrentRPC\":\"JSON\","
                                    "\"version\":409}"));
}

static void test_view_and_query_serializers_write_what_the_encoder_wrote(void)
{
    rmq__rq rq;
    rmq_ext_field f[6];
    char num[3][RMQ__DEC_MAX];
    rmq_command old;
    rmq__rq_view_message(&rq, f, num[0], 9223372036854775807);
    rmq__command_init(&old, RMQ_REQ_VIEW_MESSAGE_BY_ID, 0, 0);
    rmq_command_put_ext(&old, "offset", "9223372036854775807");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
    rmq__rq_query_message(&rq, f, num, "TopicTest", "k\"1", 32, 0, 1700000000000, 1);
    CHECK_INT(rq.version, 399);
    rmq__command_init(&old, RMQ_REQ_QUERY_MESSAGE, 0, 0);
    old.version = 399;
    rmq_command_put_ext(&old, "topic", "TopicTest");
    rmq_command_put_ext(&old, "key", "k\"1");
    rmq_command_put_ext(&old, "maxNum", "32");
    rmq_command_put_ext(&old, "beginTimestamp", "0");
    rmq_command_put_ext(&old, "endTimestamp", "1700000000000");
    rmq_command_put_ext(&old, "_UNIQUE_KEY_QUERY", "true");
    STEP(check_serializer_matches_the_encoder(&rq, &old));
}
#endif

static void run_codec_tests(void)
{
    RUN(test_every_captured_frame_decodes_with_the_described_code_opaque_flag_and_body);
    RUN(test_send_request_vector_carries_the_v2_fields_and_unescaped_properties);
    RUN(test_send_response_vector_gives_offset_id_queue_and_region);
    RUN(test_topic_not_exist_vector_keeps_the_remark_with_its_newline);
    RUN(test_route_vector_becomes_four_publish_queues_on_broker_a);
    RUN(test_check_transaction_state_vector_is_a_oneway_broker_request);
    RUN(test_batch_body_matches_the_captured_batch_record_by_record);
    RUN(test_decoder_needs_more_until_the_last_byte_then_gives_the_frame);
    RUN(test_decoder_rejects_a_header_longer_than_its_frame);
    RUN(test_decoder_recognises_an_oversized_frame_from_its_first_eight_bytes);
    RUN(test_json_request_header_is_what_a_java_broker_reads);
    RUN(test_route_query_serializer_writes_what_the_encoder_wrote);
    RUN(test_unregister_serializer_sends_the_fields_of_the_captured_java_request);
    RUN(test_heartbeat_serializers_write_the_captured_java_frame);
    RUN(test_response_serializer_writes_what_the_encoder_wrote_with_its_remark);
#ifndef RMQ_NO_TRANSACTION
    RUN(test_end_transaction_serializer_sends_the_fields_of_the_captured_java_request);
#endif
#ifndef RMQ_NO_ADMIN
    RUN(test_create_topic_serializer_writes_what_the_encoder_wrote);
    RUN(test_queue_query_serializer_writes_what_the_encoder_wrote_with_and_without_a_timestamp);
    RUN(test_view_and_query_serializers_write_what_the_encoder_wrote);
#endif
    RUN(test_binary_header_round_trips_and_matches_the_spec_example);
    RUN(test_binary_header_with_lengths_past_its_end_is_malformed);
    RUN(test_json_writer_escapes_quotes_backslashes_and_control_bytes);
    RUN(test_json_writer_escapes_a_special_byte_at_every_offset_as_byte_by_byte);
    RUN(test_tokenizer_reads_fastjson_unquoted_integer_keys_on_purpose);
    RUN(test_tokenizer_refuses_what_is_not_json);
    RUN(test_tokenizer_caps_depth_and_token_count);
    RUN(test_pull_reader_accepts_blanks_empties_escapes_and_integer_keys);
    RUN(test_json_header_read_by_the_pull_reader_in_any_order_and_shape);
    RUN(test_json_header_refused_when_malformed_out_of_range_or_truncated);
    RUN(test_route_read_in_any_member_order_first_duplicate_counts);
    RUN(test_route_malformed_or_too_deep_is_refused_with_its_reason);
    RUN(test_unescape_decodes_surrogate_pairs_to_utf8);
    RUN(test_unescape_decodes_every_short_escape_and_three_byte_code_points);
    RUN(test_route_over_a_bound_is_refused_naming_the_bound);
    RUN(test_route_item_not_an_object_is_refused_naming_its_list);
    RUN(test_publish_queues_sort_brokers_and_skip_read_only_and_masterless_groups);
    RUN(test_default_topic_route_is_clamped_to_default_queue_nums);
    RUN(test_order_topic_conf_fixes_the_queue_list);
    RUN(test_selection_rotates_and_avoids_the_broker_that_just_failed);
    RUN(test_latency_fault_tolerance_keeps_an_isolated_broker_out_for_600_s);
    RUN(test_latency_fault_tables_are_the_producers_own);
    RUN(test_properties_read_with_and_without_the_trailing_separator);
    RUN(test_properties_of_a_message_are_tags_keys_wait_uniq_and_user_ones);
    RUN(test_uniq_key_has_java_layout_with_utc_month_base);
    RUN(test_uniq_key_of_an_ipv6_host_is_56_hex_digits);
    RUN(test_ip_bytes_reads_ipv4_and_every_ipv6_form);
    RUN(test_response_code_names_and_error_texts);
    RUN(test_month_bounds_across_a_leap_february_and_new_year);
    RUN(test_month_bounds_walk_every_month_from_1970_to_2400);
    RUN(test_offset_msg_id_decodes_store_host_and_commit_log_offset);
    RUN(test_addresses_split_at_the_last_colon);
    RUN(test_java_string_hash_matches_java_for_ascii_accents_and_emoji);
    RUN(test_decimal_conversions_need_no_64_bit_division);
    RUN(test_decimal_memo_follows_the_number_it_is_given);
    RUN(test_pool_allocates_frees_and_coalesces_without_running_out);
    RUN(test_sha1_and_hmac_sha1_match_the_rfc_vectors);
    RUN(test_base64_pads_as_the_standard_says);
    RUN(test_acl_signature_of_a_route_query_matches_the_reference_example);
}
