/* MQAdmin (createTopic, the offset and store-time queries) and the VIP
 * channel, against the sim cluster: what goes on the wire, to which port,
 * and what the answers become. */

/* What the test broker answers to the admin requests. */
static struct {
    int64_t max_offset, min_offset, earliest, found;
    int omit_value;                   /* answer SUCCESS without the Long */
    unsigned char frame[4096];        /* the last admin request, as it arrived */
    size_t frame_len;
} adm;

static int adm_serve(struct simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    char num[32];
    const char *ext[3];
    int64_t v;
    const char *key = "offset";
    if (q->code == RMQ_REQ_UPDATE_AND_CREATE_TOPIC) {
        rmq_slice t = rmq_command_ext(q, "topic"), n = rmq_command_ext(q, "writeQueueNums");
        char name[64];
        int32_t queues = 0;
        snprintf(name, sizeof name, "%.*s", (int)t.len, t.ptr ? t.ptr : "");
        rmq__parse_i32(n.ptr, n.len, &queues);
        if (!simc_topic_find(sc->c, name, strlen(name))) simc_add_topic(sc->c, name, queues, 6);
        v = -1;
    } else if (q->code == RMQ_REQ_GET_MAX_OFFSET) v = adm.max_offset;
    else if (q->code == RMQ_REQ_GET_MIN_OFFSET) v = adm.min_offset;
    else if (q->code == RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP) v = adm.found;
    else if (q->code == RMQ_REQ_GET_EARLIEST_MSG_STORETIME) { v = adm.earliest; key = "timestamp"; }
    else return 0;
    if (sc->frame_len <= sizeof adm.frame) { memcpy(adm.frame, sc->frame, sc->frame_len); adm.frame_len = sc->frame_len; }
    snprintf(num, sizeof num, "%lld", (long long)v);
    ext[0] = key; ext[1] = num; ext[2] = NULL;
    simc_answer(sc, conn, q, 0, NULL, v >= 0 && !adm.omit_value ? ext : NULL, NULL);
    return 1;
}

static simc *adm_cluster(void)
{
    simc *c = simc_create(1, 2, 1000);
    memset(&adm, 0, sizeof adm);
    c->extra = adm_serve;
    return c;
}

static rmq_producer *adm_producer(simc *c, rmq_serialize ser, int vip)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, "adminGroup");
    cfg.serialize = ser;
    cfg.vip_channel = vip;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) { rmq_producer_destroy(p); return NULL; }
    return p;
}

static int adm_has(const void *hay, size_t n, const void *needle, size_t m)
{
    size_t i;
    for (i = 0; m <= n && i + m <= n; i++) if (memcmp((const char *)hay + i, needle, m) == 0) return 1;
    return 0;
}

/* The ext area of a binary (ROCKETMQ) header holding these pairs in this
 * order: a 2-byte key length, the key, a 4-byte value length, the value. */
static size_t adm_binary_ext(unsigned char *out, const char *const *kv)
{
    size_t n = 0;
    for (; *kv; kv += 2) {
        size_t kl = strlen(kv[0]), vl = strlen(kv[1]);
        out[n++] = (unsigned char)(kl >> 8); out[n++] = (unsigned char)kl;
        memcpy(out + n, kv[0], kl); n += kl;
        out[n++] = 0; out[n++] = 0; out[n++] = (unsigned char)(vl >> 8); out[n++] = (unsigned char)vl;
        memcpy(out + n, kv[1], vl); n += vl;
    }
    return n;
}

/* The last admin frame carries code and, in its serialization, these ext
 * fields in this order (the JSON text or the binary pairs). */
static int adm_frame_is(int code, rmq_serialize ser, const char *const *kv)
{
    char json[1024];
    unsigned char bin[1024];
    size_t n = 0, i;
    if (adm.frame_len < 9) return 0;
    if (ser == RMQ_SERIALIZE_ROCKETMQ) {
        if (adm.frame[4] != 1) return 0;
        if (rmq__be16(adm.frame + 8) != code) return 0;   /* the binary header starts with the code (2 bytes) */
        n = adm_binary_ext(bin, kv);
        return adm_has(adm.frame, adm.frame_len, bin, n);
    }
    n = (size_t)snprintf(json, sizeof json, "{\"code\":%d,\"extFields\":{", code);
    for (i = 0; kv[i]; i += 2) n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\":\"%s\"", i ? "," : "", kv[i], kv[i + 1]);
    n += (size_t)snprintf(json + n, sizeof json - n, "}");
    return adm.frame[4] == 0 && adm_has(adm.frame, adm.frame_len, json, n);
}

static void test_admin_create_topic_sends_javas_header_to_every_master_in_both_serializations(void)
{
    static const char *const want[] = { "topic", "FreshTopic", "defaultTopic", "TBW102", "readQueueNums", "3",
                                        "writeQueueNums", "3", "perm", "6", "topicFilterType", "SINGLE_TAG",
                                        "topicSysFlag", "0", "order", "false", NULL };
    int ser;
    for (ser = 0; ser < 2; ser++) {
        simc *c = adm_cluster();
        rmq_producer *p = adm_producer(c, (rmq_serialize)ser, 0);
        rmq_message m;
        rmq_send_result res;
        CHECK(p);
        CHECK_INT(rmq_admin_create_topic(p, "TBW102", "FreshTopic", 3), RMQ_OK);
        CHECKF(adm_frame_is(RMQ_REQ_UPDATE_AND_CREATE_TOPIC, (rmq_serialize)ser, want), "serialization %d: the header differs", ser);
        CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 1);
        CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 1);
        CHECK(simc_last(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) != NULL);
        CHECK_STR(simc_last(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC)->topic, "TBW102");
        /* the new topic is routable: a send finds 3 queues on each broker */
        rmq_message_init(&m, "FreshTopic", "x", 1);
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        CHECK(res.queue.queue_id >= 0 && res.queue.queue_id < 3);
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
        simc_destroy(c);
    }
}

static void test_admin_create_topic_tries_a_broker_five_times_and_one_success_is_enough(void)
{
    simc *c = adm_cluster();
    rmq_producer *p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    CHECK(p);
    simc_fail(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC, RMQ_CODE_SYSTEM_ERROR, 4);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "T4", 2), RMQ_OK);          /* the fifth try is accepted */
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 5);
    CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 1);
    simc_fail(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC, RMQ_CODE_SYSTEM_ERROR, 100);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "T5", 2), RMQ_OK);          /* broker-b alone is enough */
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 10);
    CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 2);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_admin_create_topic_fails_with_the_last_refusal_when_no_broker_accepted(void)
{
    simc *c = adm_cluster();
    rmq_producer *p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    CHECK(p);
    simc_fail(c, NULL, RMQ_REQ_UPDATE_AND_CREATE_TOPIC, RMQ_CODE_NO_PERMISSION, 5);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "T6", 2), RMQ_ERR_BROKER);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 5);
    CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 5);
    CHECK_HAS(rmq_producer_last_error(p), "UPDATE_AND_CREATE_TOPIC: broker 10.0.1.2:10911 answered NO_PERMISSION (16)");
    CHECK_HAS(rmq_producer_last_error(p), "injected NO_PERMISSION");
    /* a key the name server has no route for */
    CHECK_INT(rmq_admin_create_topic(p, "NoSuchKey", "T7", 2), RMQ_ERR_NO_ROUTE);
    CHECK_HAS(rmq_producer_last_error(p), "create new topic failed: name server 10.0.0.1:9876 has no route of NoSuchKey (TOPIC_NOT_EXIST)");
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_admin_create_topic_refuses_bad_names_system_topics_and_queue_nums_before_the_wire(void)
{
    simc *c = adm_cluster();
    rmq_producer *p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    int before;
    CHECK(p);
    before = c->nlog;
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "", 4), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "The specified topic is blank");
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "bad topic", 4), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "illegal characters");
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "TBW102", 4), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "The topic[TBW102] is conflict with system topic.");
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "rmq_sys_mine", 4), RMQ_ERR_MESSAGE);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "Fine", 0), RMQ_ERR_INVALID_ARG);
    CHECK_HAS(rmq_producer_last_error(p), "queue_num 0");
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "Fine", RMQ_MAX_QUEUES + 1), RMQ_ERR_INVALID_ARG);
    CHECK_INT(rmq_admin_create_topic(p, "", "Fine", 4), RMQ_ERR_INVALID_ARG);
    CHECK_INT(c->nlog, before);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_admin_offsets_come_from_the_answers_and_carry_bname_in_both_serializations(void)
{
    int ser;
    for (ser = 0; ser < 2; ser++) {
        static const char *const want_max[] = { "topic", "TopicTest", "queueId", "2", "bname", "broker-b", NULL };
        static const char *const want_search[] = { "topic", "TopicTest", "queueId", "2", "timestamp", "1795288064000",
                                                   "bname", "broker-b", NULL };
        simc *c = adm_cluster();
        rmq_producer *p = adm_producer(c, (rmq_serialize)ser, 0);
        rmq_queue q;
        int64_t v = -5;
        CHECK(p);
        memset(&q, 0, sizeof q);
        snprintf(q.topic, sizeof q.topic, "TopicTest");
        snprintf(q.broker_name, sizeof q.broker_name, "broker-b");
        q.queue_id = 2;
        adm.max_offset = 42; adm.min_offset = 7; adm.earliest = INT64_C(1795288000123); adm.found = 17;
        /* broker-b is not known yet: the topic's route is fetched first */
        CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
        CHECK_INT(v, 42);
        CHECK_INT(simc_count(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) >= 1, 1);
        CHECK_INT(simc_count(c, "broker-b", RMQ_REQ_GET_MAX_OFFSET), 1);
        CHECKF(adm_frame_is(RMQ_REQ_GET_MAX_OFFSET, (rmq_serialize)ser, want_max), "serialization %d: GET_MAX_OFFSET header", ser);
        CHECK_INT(rmq_min_offset(p, &q, &v), RMQ_OK);
        CHECK_INT(v, 7);
        CHECKF(adm_frame_is(RMQ_REQ_GET_MIN_OFFSET, (rmq_serialize)ser, want_max), "serialization %d: GET_MIN_OFFSET header", ser);
        CHECK_INT(rmq_earliest_msg_store_time(p, &q, &v), RMQ_OK);
        CHECK_INT(v, INT64_C(1795288000123));
        CHECKF(adm_frame_is(RMQ_REQ_GET_EARLIEST_MSG_STORETIME, (rmq_serialize)ser, want_max), "serialization %d: earliest header", ser);
        CHECK_INT(rmq_search_offset(p, &q, INT64_C(1795288064000), &v), RMQ_OK);
        CHECK_INT(v, 17);
        CHECKF(adm_frame_is(RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP, (rmq_serialize)ser, want_search), "serialization %d: search header", ser);
        CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_GET_MAX_OFFSET), 0);
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
        simc_destroy(c);
    }
}

static void test_admin_offset_refusals_name_the_code_and_remark_and_a_missing_value_is_a_protocol_error(void)
{
    simc *c = adm_cluster();
    rmq_producer *p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    rmq_queue q;
    int64_t v = 99;
    CHECK(p);
    memset(&q, 0, sizeof q);
    snprintf(q.topic, sizeof q.topic, "TopicTest");
    snprintf(q.broker_name, sizeof q.broker_name, "broker-a");
    q.queue_id = 1;
    simc_fail(c, "broker-a", RMQ_REQ_GET_EARLIEST_MSG_STORETIME, RMQ_CODE_SYSTEM_ERROR, 1);
    CHECK_INT(rmq_earliest_msg_store_time(p, &q, &v), RMQ_ERR_BROKER);
    CHECK_STR(rmq_producer_last_error(p), "GET_EARLIEST_MSG_STORETIME: broker 10.0.1.1:10911 answered SYSTEM_ERROR (1): injected SYSTEM_ERROR");
    CHECK_INT(v, 99);
    adm.omit_value = 1;
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_ERR_PROTOCOL);
    CHECK_HAS(rmq_producer_last_error(p), "the answer's offset is missing or not a number");
    CHECK_INT(v, 99);
    snprintf(q.broker_name, sizeof q.broker_name, "broker-z");
    CHECK_INT(rmq_min_offset(p, &q, &v), RMQ_ERR_BROKER_NOT_FOUND);
    CHECK_STR(rmq_producer_last_error(p), "The broker[broker-z] not exist");
    CHECK_INT(rmq_min_offset(p, NULL, &v), RMQ_ERR_INVALID_ARG);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Each broker also listens on its VIP port (10909), logged as vip-a / vip-b. */
static void adm_add_vip_ports(simc *c)
{
    int i, n = c->n;
    for (i = 0; i < n; i++) {
        simc_server *s;
        if (!c->s[i].is_broker) continue;
        s = &c->s[c->n];
        *s = c->s[i];
        s->name = strcmp(c->s[i].name, "broker-a") == 0 ? "vip-a" : "vip-b";
        s->port = 10909;
        s->hidden = 1;
        simc_up(c, c->n++);
    }
}

static int adm_on_vip(simc *c, int code)
{
    return simc_count(c, "vip-a", code) + simc_count(c, "vip-b", code);
}

static int adm_on_main(simc *c, int code)
{
    return simc_count(c, "broker-a", code) + simc_count(c, "broker-b", code);
}

/* DefaultMQProducer wraps what MQAdmin names: createTopic's new topic (not
 * its key), a queue's topic, the topic of a key query. */
static void test_admin_calls_name_topics_with_the_namespace_and_leave_the_key_topic_bare(void)
{
    simc *c = adm_cluster();
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_queue q;
    rmq_query_result r;
    int64_t v = -1;
    char buf[128];
    simc_config(c, &cfg, "adminGroup");
    cfg.name_space = "ns1";
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "Fresh", 2), RMQ_OK);
    CHECK(simc_last(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC) != NULL);
    CHECK_STR(simc_ext(simc_last(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), "topic", buf, sizeof buf), "ns1%Fresh");
    CHECK_STR(simc_ext(simc_last(c, "broker-a", RMQ_REQ_UPDATE_AND_CREATE_TOPIC), "defaultTopic", buf, sizeof buf), "TBW102");
    memset(&q, 0, sizeof q);
    strcpy(q.topic, "Fresh");
    strcpy(q.broker_name, "broker-a");
    adm.max_offset = 7;
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK(v == 7);
    CHECK_STR(simc_ext(simc_last(c, "broker-a", RMQ_REQ_GET_MAX_OFFSET), "topic", buf, sizeof buf), "ns1%Fresh");
    CHECK_STR(q.topic, "Fresh");                                   /* the caller's queue is untouched */
    rmq_query_message(p, "Fresh", "k1", 4, 0, INT64_MAX, &r);       /* nobody answers it: only the wire counts */
    CHECK(simc_last(c, NULL, RMQ_REQ_QUERY_MESSAGE) != NULL);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_QUERY_MESSAGE), "topic", buf, sizeof buf), "ns1%Fresh");
    rmq_query_result_free(p, &r);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_vip_channel_takes_sends_and_admin_calls_to_port_minus_2_and_heartbeats_stay(void)
{
    simc *c = adm_cluster();
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    rmq_queue q;
    int64_t v;
    cb_log log;
    adm_add_vip_ports(c);
    p = adm_producer(c, RMQ_SERIALIZE_JSON, 1);
    CHECK(p);
    rmq_message_init(&m, "TopicTest", "x", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(adm_on_vip(c, RMQ_REQ_SEND_MESSAGE_V2), 1);
    CHECK_INT(adm_on_main(c, RMQ_REQ_SEND_MESSAGE_V2), 0);
    CHECK_INT(rmq_send_oneway(p, &m), RMQ_OK);
    memset(&log, 0, sizeof log);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 3000), RMQ_OK);
    CHECK_INT(log.ok, 1);
    simc_run(c, p, 10);
    CHECK_INT(adm_on_vip(c, RMQ_REQ_SEND_MESSAGE_V2), 3);
    CHECK_INT(adm_on_main(c, RMQ_REQ_SEND_MESSAGE_V2), 0);
    memset(&q, 0, sizeof q);
    snprintf(q.topic, sizeof q.topic, "TopicTest");
    snprintf(q.broker_name, sizeof q.broker_name, "broker-a");
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK_INT(simc_count(c, "vip-a", RMQ_REQ_GET_MAX_OFFSET), 1);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "VipTopic", 2), RMQ_OK);
    CHECK_INT(adm_on_vip(c, RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 2);
    CHECK_INT(adm_on_main(c, RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 0);
    CHECK(adm_on_main(c, RMQ_REQ_HEART_BEAT) >= 1);
    CHECK_INT(adm_on_vip(c, RMQ_REQ_HEART_BEAT), 0);
    rmq_producer_shutdown(p);
    CHECK(adm_on_main(c, RMQ_REQ_UNREGISTER_CLIENT) >= 1);
    CHECK_INT(adm_on_vip(c, RMQ_REQ_UNREGISTER_CLIENT), 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_vip_channel_off_keeps_everything_on_the_port(void)
{
    simc *c = adm_cluster();
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    adm_add_vip_ports(c);
    p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    CHECK(p);
    rmq_message_init(&m, "TopicTest", "x", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "PlainTopic", 2), RMQ_OK);
    CHECK_INT(adm_on_main(c, RMQ_REQ_SEND_MESSAGE_V2), 1);
    CHECK_INT(adm_on_main(c, RMQ_REQ_UPDATE_AND_CREATE_TOPIC), 2);
    CHECK_INT(adm_on_vip(c, 0), 0);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Java retries an async send at the address findBrokerAddressInPublish
 * gives, without the VIP conversion; a sync send's every attempt takes it. */
static void test_vip_channel_async_retries_go_to_the_port_sync_attempts_do_not(void)
{
    simc *c = adm_cluster();
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    cb_log log;
    adm_add_vip_ports(c);
    p = adm_producer(c, RMQ_SERIALIZE_JSON, 1);
    CHECK(p);
    simc_down(c, simc_index(c, "vip-a"));
    simc_down(c, simc_index(c, "vip-b"));
    rmq_message_init(&m, "TopicTest", "x", 1);
    memset(&log, 0, sizeof log);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(log.ok, 1);
    CHECK_INT(adm_on_main(c, RMQ_REQ_SEND_MESSAGE_V2), 1);         /* the retry */
    CHECK_INT(rmq_sim_connects(c->sim, "10.0.1.1", 10909) + rmq_sim_connects(c->sim, "10.0.1.2", 10909), 1);
    CHECK(rmq_send(p, &m, &res) != RMQ_OK);                          /* 3 attempts, all at port - 2 */
    CHECK_INT(adm_on_main(c, RMQ_REQ_SEND_MESSAGE_V2), 1);
    CHECK_HAS(RES_REASON(res), ":10909");
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_vip_addr_is_port_minus_2_and_leaves_unreadable_addresses(void)
{
    simc *c = adm_cluster();
    rmq_producer *p = adm_producer(c, RMQ_SERIALIZE_JSON, 0);
    CHECK(p);
    CHECK_STR(rmq__vip_addr(p->in, 1, "10.0.1.1:10911"), "10.0.1.1:10909");
    CHECK_STR(rmq__vip_addr(p->in, 1, "[::1]:21911"), "[::1]:21909");
    CHECK_STR(rmq__vip_addr(p->in, 0, "10.0.1.1:10911"), "10.0.1.1:10911");
    CHECK_STR(rmq__vip_addr(p->in, 1, "no-port"), "no-port");
    CHECK_STR(rmq__vip_addr(p->in, 1, "h:1"), "h:1");
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_admin_tests(void)
{
    RUN(test_admin_create_topic_sends_javas_header_to_every_master_in_both_serializations);
    RUN(test_admin_create_topic_tries_a_broker_five_times_and_one_success_is_enough);
    RUN(test_admin_create_topic_fails_with_the_last_refusal_when_no_broker_accepted);
    RUN(test_admin_create_topic_refuses_bad_names_system_topics_and_queue_nums_before_the_wire);
    RUN(test_admin_offsets_come_from_the_answers_and_carry_bname_in_both_serializations);
    RUN(test_admin_offset_refusals_name_the_code_and_remark_and_a_missing_value_is_a_protocol_error);
    RUN(test_admin_calls_name_topics_with_the_namespace_and_leave_the_key_topic_bare);
    RUN(test_vip_channel_takes_sends_and_admin_calls_to_port_minus_2_and_heartbeats_stay);
    RUN(test_vip_channel_off_keeps_everything_on_the_port);
    RUN(test_vip_channel_async_retries_go_to_the_port_sync_attempts_do_not);
    RUN(test_vip_addr_is_port_minus_2_and_leaves_unreadable_addresses);
}
