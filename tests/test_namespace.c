/* Namespaces (Java's ClientConfig.namespace, NamespaceUtil): what goes on
 * the wire carries "ns%", what comes back to the application does not. */

/* A started producer of group "pg" in namespace ns ("ns1%TopicTest" and
 * "ns1%TxTest" exist on the brokers). */
static rmq_producer *ns_producer(simc *c, const char *ns, const char *group)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, group);
    cfg.name_space = ns;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) { rmq_producer_destroy(p); return NULL; }
    return p;
}

static simc *ns_cluster(void)
{
    simc *c = simc_create(1, 2, 1000);
    simc_add_topic(c, "ns1%TopicTest", 4, 6);
    simc_add_topic(c, "ns1%TxTest", 4, 6);
    return c;
}

static int ns_has(const unsigned char *b, size_t n, const char *lit)
{
    size_t k = strlen(lit), i;
    for (i = 0; i + k <= n; i++) if (memcmp(b + i, lit, k) == 0) return 1;
    return 0;
}

static const char *ns_wrap(rmq_producer *p, const char *r, char *out, size_t cap)
{
    return rmq__ns_wrap(p, r, strlen(r), out, cap) < 0 ? "(does not fit)" : out;
}

static const char *ns_unwrap(rmq_producer *p, const char *r, char *out, size_t cap)
{
    return rmq__ns_unwrap(p, r, strlen(r), out, cap) < 0 ? "(does not fit)" : out;
}

/* NamespaceUtil's rules, one by one, on the two internal calls other parts use. */
static void test_namespace_wrap_and_unwrap_follow_namespace_util(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    char b[RMQ_TOPIC_MAX_LEN + 1], inplace[32];
    CHECK(p != NULL);
    CHECK_STR(ns_wrap(p, "T", b, sizeof b), "ns1%T");
    CHECK_STR(ns_wrap(p, "%RETRY%g", b, sizeof b), "%RETRY%ns1%g");     /* the prefix stays in front */
    CHECK_STR(ns_wrap(p, "%DLQ%g", b, sizeof b), "%DLQ%ns1%g");
    CHECK_STR(ns_wrap(p, "ns1%T", b, sizeof b), "ns1%T");               /* already wrapped */
    CHECK_STR(ns_wrap(p, "%RETRY%ns1%g", b, sizeof b), "%RETRY%ns1%g");
    CHECK_STR(ns_wrap(p, "ns2%T", b, sizeof b), "ns1%ns2%T");           /* another namespace is a name */
    CHECK_STR(ns_wrap(p, "TBW102", b, sizeof b), "TBW102");             /* system topics */
    CHECK_STR(ns_wrap(p, "RMQ_SYS_TRACE_TOPIC", b, sizeof b), "RMQ_SYS_TRACE_TOPIC");
    CHECK_STR(ns_wrap(p, "SCHEDULE_TOPIC_XXXX", b, sizeof b), "SCHEDULE_TOPIC_XXXX");
    CHECK_STR(ns_wrap(p, "rmq_sys_anything", b, sizeof b), "rmq_sys_anything");
    CHECK_STR(ns_wrap(p, "CID_RMQ_SYS_TRANS", b, sizeof b), "CID_RMQ_SYS_TRANS");   /* system groups */
    CHECK_STR(ns_wrap(p, "", b, sizeof b), "");
    CHECK_STR(ns_wrap(p, "abcd", b, 9), "ns1%abcd");                      /* exactly fits */
    CHECK_STR(ns_wrap(p, "abcde", b, 9), "(does not fit)");
    CHECK_STR(ns_unwrap(p, "ns1%T", b, sizeof b), "T");
    CHECK_STR(ns_unwrap(p, "%RETRY%ns1%g", b, sizeof b), "%RETRY%g");
    CHECK_STR(ns_unwrap(p, "%DLQ%ns1%g", b, sizeof b), "%DLQ%g");
    CHECK_STR(ns_unwrap(p, "ns2%T", b, sizeof b), "ns2%T");               /* not ours: as it is */
    CHECK_STR(ns_unwrap(p, "ns1T", b, sizeof b), "ns1T");
    CHECK_STR(ns_unwrap(p, "ns1%", b, sizeof b), "");                     /* as Java: nothing after it */
    CHECK_STR(ns_unwrap(p, "T", b, 1), "(does not fit)");
    strcpy(inplace, "%RETRY%g");                                          /* out may be the input */
    CHECK_INT(rmq__ns_wrap(p, inplace, strlen(inplace), inplace, sizeof inplace), 12);
    CHECK_STR(inplace, "%RETRY%ns1%g");
    CHECK_INT(rmq__ns_unwrap(p, inplace, strlen(inplace), inplace, sizeof inplace), 8);
    CHECK_STR(inplace, "%RETRY%g");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A send names its topic ns1%TopicTest in the route query and the header,
 * its group ns1%pg in the header, heartbeat and unregister, carries
 * INSTANCE_ID=ns1, and its result names TopicTest. */
static void test_namespace_send_puts_ns_on_the_wire_and_hands_back_the_bare_topic(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq_message m = msg("TopicTest", "hello");
    rmq_send_result res;
    simc_req *route, *send, *hb, *unreg;
    char v[300];
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    route = simc_last(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC);
    CHECK(route != NULL);
    CHECK_STR(route->topic, "ns1%TopicTest");
    send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(send != NULL);
    CHECK_STR(simc_ext(send, "b", v, sizeof v), "ns1%TopicTest");
    CHECK_STR(simc_ext(send, "a", v, sizeof v), "ns1%pg");
    CHECK_HAS(send->props, "\002INSTANCE_ID\001ns1");
    CHECK_STR(res.queue.topic, "TopicTest");
    hb = simc_last(c, NULL, RMQ_REQ_HEART_BEAT);
    CHECK(hb != NULL);
    CHECK_HAS((const char *)hb->body, "\"groupName\":\"ns1%pg\"");
    rmq_producer_shutdown(p);
    unreg = simc_last(c, NULL, RMQ_REQ_UNREGISTER_CLIENT);
    CHECK(unreg != NULL);
    CHECK_STR(simc_ext(unreg, "producerGroup", v, sizeof v), "ns1%pg");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Without a namespace (NULL or "") nothing changes: bare names, no INSTANCE_ID. */
static void test_namespace_none_or_empty_leaves_the_wire_as_it_was(void)
{
    const char *none[2] = { NULL, "" };
    int i;
    for (i = 0; i < 2; i++) {
        simc *c = ns_cluster();
        rmq_producer *p = ns_producer(c, none[i], "pg");
        rmq_message m = msg("TopicTest", "hello");
        rmq_send_result res;
        simc_req *send;
        char v[300];
        CHECK(p != NULL);
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
        CHECK(send != NULL);
        CHECK_STR(simc_ext(send, "b", v, sizeof v), "TopicTest");
        CHECK_STR(simc_ext(send, "a", v, sizeof v), "pg");
        CHECK(strstr(send->props, "INSTANCE_ID") == NULL);
        send = simc_last(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC);
        CHECK(send != NULL);
        CHECK_STR(send->topic, "TopicTest");
        send = simc_last(c, NULL, RMQ_REQ_HEART_BEAT);
        CHECK(send != NULL);
        CHECK_HAS((const char *)send->body, "\"groupName\":\"pg\"");
        rmq_producer_destroy(p);
        simc_destroy(c);
    }
}

/* System topics keep their names; a topic named with its namespace is sent as it is. */
static void test_namespace_leaves_system_topics_and_wrapped_topics_as_they_are(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq_message m = msg("ns1%TopicTest", "hello"), sys = msg("TBW102", "to the key topic");
    rmq_send_result res;
    char v[300];
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "ns1%TopicTest");
    CHECK_STR(simc_last(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC)->topic, "ns1%TopicTest");
    CHECK_STR(res.queue.topic, "TopicTest");
    CHECK_INT(rmq_send(p, &sys, &res), RMQ_OK);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "TBW102");
    CHECK_STR(simc_last(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC)->topic, "TBW102");
    CHECK_STR(res.queue.topic, "TBW102");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Java checks the wrapped topic against 127 and the wrapped group against 255. */
static void test_namespace_counts_against_the_topic_and_group_length_limits(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg"), *q;
    rmq_producer_config cfg;
    char topic[200], group[300], why[256], want[208];
    rmq_message m;
    rmq_send_result res;
    CHECK(p != NULL);
    memset(topic, 'T', 124);
    topic[124] = 0;                                     /* 124 + "ns1%" = 128 */
    m = msg(topic, "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "longer than topic max length 127 with its namespace (ns1%TTT");
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC), 0);
    topic[123] = 0;                                     /* 127 with it: sent (created through TBW102) */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    snprintf(want, sizeof want, "ns1%%%s", topic);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", group, sizeof group), want);
    CHECK_STR(res.queue.topic, topic);
    rmq_producer_destroy(p);
    memset(group, 'g', 252);
    group[252] = 0;                                     /* 252 + "ns1%" = 256 */
    simc_config(c, &cfg, group);
    cfg.name_space = "ns1";
    CHECK_INT(rmq_producer_config_check(&cfg, NULL, 0), RMQ_OK);   /* the bare group fits */
    CHECK(rmq_producer_create(&cfg, &q) == RMQ_OK);
    CHECK_INT(rmq_producer_start(q), RMQ_ERR_CONFIG);
    CHECK_HAS(rmq_producer_last_error(q), "the group with its namespace, is longer than group max length 255");
    rmq_producer_destroy(q);
    cfg.group = "pg";
    cfg.name_space = "a%b";
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, "name_space: ");
    memset(topic, 'n', 126);
    topic[126] = 0;
    cfg.name_space = topic;
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    topic[125] = 0;
    CHECK_INT(rmq_producer_config_check(&cfg, NULL, 0), RMQ_OK);
    simc_destroy(c);
}

static char seen_queue_topic[RMQ_TOPIC_MAX_LEN + 1], seen_msg_topic[RMQ_TOPIC_MAX_LEN + 1];

static int ns_pick_last(const rmq_queue *qs, size_t n, const rmq_message *m, void *arg)
{
    size_t i;
    (void)arg;
    snprintf(seen_queue_topic, sizeof seen_queue_topic, "%s", qs[0].topic);
    for (i = 1; i < n; i++)
        if (strcmp(qs[i].topic, qs[0].topic) != 0) snprintf(seen_queue_topic, sizeof seen_queue_topic, "mixed");
    snprintf(seen_msg_topic, sizeof seen_msg_topic, "%s", m->topic);
    return (int)n - 1;
}

static rmq_send_result ns_async_res;
static void ns_keep_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)err;
    ns_async_res = *res;
    (*(int *)user)++;
}

/* A selector sees bare queues and a bare message (sync, and async before
 * the route is known); the queue it picks goes out wrapped. */
static void test_namespace_selector_sees_bare_queues_and_its_pick_goes_out_wrapped(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq_message m = msg("TopicTest", "hello");
    rmq_send_result res;
    simc_req *send;
    char v[300];
    int calls = 0;
    CHECK(p != NULL);
    CHECK_INT(rmq_send_select_async(p, &m, ns_pick_last, NULL, ns_keep_cb, &calls), RMQ_OK);
    simc_run(c, p, 50);
    CHECK_INT(calls, 1);
    CHECK_STR(seen_queue_topic, "TopicTest");
    CHECK_STR(seen_msg_topic, "TopicTest");
    CHECK_STR(ns_async_res.queue.topic, "TopicTest");
    CHECK_STR(ns_async_res.queue.broker_name, "broker-b");
    seen_queue_topic[0] = seen_msg_topic[0] = 0;
    CHECK_INT(rmq_send_select(p, &m, ns_pick_last, NULL, &res), RMQ_OK);
    CHECK_STR(seen_queue_topic, "TopicTest");
    CHECK_STR(seen_msg_topic, "TopicTest");
    send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK_STR(simc_ext(send, "b", v, sizeof v), "ns1%TopicTest");
    CHECK_STR(simc_ext(send, "e", v, sizeof v), "3");
    CHECK_STR(res.queue.topic, "TopicTest");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* rmq_fetch_publish_queues takes and gives bare topics; a queue handed to
 * rmq_send_to_queue is wrapped (queueWithNamespace), in either form. */
static void test_namespace_fetched_queues_are_bare_and_a_given_queue_is_wrapped(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq_message m = msg("TopicTest", "hello");
    rmq_queue qs[16], q;
    rmq_send_result res;
    size_t n = 0, i;
    char v[300];
    CHECK(p != NULL);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 8);
    for (i = 0; i < n; i++) CHECK_STR(qs[i].topic, "TopicTest");
    CHECK_STR(simc_last(c, NULL, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC)->topic, "ns1%TopicTest");
    CHECK_INT(rmq_send_to_queue(p, &m, &qs[5], &res), RMQ_OK);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "ns1%TopicTest");
    CHECK_STR(res.queue.topic, "TopicTest");
    CHECK_STR(res.queue.broker_name, qs[5].broker_name);
    CHECK_INT(res.queue.queue_id, qs[5].queue_id);
    q = qs[1];
    snprintf(q.topic, sizeof q.topic, "ns1%%TopicTest");          /* named as the broker knows it */
    CHECK_INT(rmq_send_to_queue(p, &m, &q, &res), RMQ_OK);
    CHECK_STR(res.queue.topic, "TopicTest");
    snprintf(q.topic, sizeof q.topic, "ns2%%TopicTest");
    CHECK_INT(rmq_send_to_queue(p, &m, &q, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "message's topic not equal mq's topic");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A batch's topic is wrapped and INSTANCE_ID rides on the batch, not on
 * its messages (MessageBatch.setInstanceId in sendKernelImpl); async
 * results are bare too. */
static void test_namespace_batch_and_async_sends_are_wrapped_and_answered_bare(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq_message ms[2];
    rmq_send_result res[2];
    simc_req *send;
    char v[300];
    int calls = 0;
    CHECK(p != NULL);
    ms[0] = msg("TopicTest", "one");
    ms[1] = msg("TopicTest", "two");
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_OK);
    send = simc_last(c, NULL, RMQ_REQ_SEND_BATCH_MESSAGE);
    CHECK(send != NULL);
    CHECK_STR(simc_ext(send, "b", v, sizeof v), "ns1%TopicTest");
    CHECK_HAS(send->props, "INSTANCE_ID\001ns1");
    CHECK(!ns_has(send->body, send->body_len, "INSTANCE_ID"));
    CHECK(ns_has(send->body, send->body_len, "UNIQ_KEY"));
    CHECK_STR(res[0].queue.topic, "TopicTest");
    CHECK_STR(res[1].queue.topic, "TopicTest");
    CHECK_INT(rmq_send_async(p, &ms[0], ns_keep_cb, &calls), RMQ_OK);
    simc_run(c, p, 50);
    CHECK_INT(calls, 1);
    CHECK_STR(ns_async_res.queue.topic, "TopicTest");
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "ns1%TopicTest");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static char ns_checked_topic[64];
static int ns_checks;
static rmq_transaction_state ns_check(void *arg, const rmq_checked_message *m)
{
    (void)arg;
    ns_checks++;
    snprintf(ns_checked_topic, sizeof ns_checked_topic, "%s", m->topic);
    return RMQ_TX_COMMIT;
}

static rmq_transaction_state ns_commit(void *arg, const rmq_message *m, const rmq_send_result *res)
{
    (void)arg; (void)res;
    snprintf(ns_checked_topic, sizeof ns_checked_topic, "%s", m->topic);
    return RMQ_TX_COMMIT;
}

static void ns_put32(unsigned char *b, uint32_t v) { b[0] = (unsigned char)(v >> 24); b[1] = (unsigned char)(v >> 16); b[2] = (unsigned char)(v >> 8); b[3] = (unsigned char)v; }

/* A stored message (MessageDecoder's layout, IPv4 hosts) of topic and
 * property string props, into out; returns its length. */
static size_t ns_stored(unsigned char *out, const char *topic, const char *props, const char *body)
{
    size_t at = 84, bl = strlen(body), tl = strlen(topic), pl = strlen(props);
    memset(out, 0, 84);
    ns_put32(out + 4, 0xDAA320A7u);
    ns_put32(out + at, (uint32_t)bl);
    memcpy(out + at + 4, body, bl);
    at += 4 + bl;
    out[at++] = (unsigned char)tl;
    memcpy(out + at, topic, tl);
    at += tl;
    out[at++] = (unsigned char)(pl >> 8);
    out[at++] = (unsigned char)pl;
    memcpy(out + at, props, pl);
    at += pl;
    ns_put32(out, (uint32_t)at);
    return at;
}

/* The half message, its end and a broker's check-back all name the group
 * ns1%TxGroup; the local transaction and the checker see TxTest. */
static void test_namespace_transaction_and_its_check_name_the_wrapped_group(void)
{
    simc *c = ns_cluster();
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_check_transaction ct;
    rmq_message m = msg("TxTest", "tx");
    rmq_send_result res;
    rmq_transaction_state st;
    rmq_command chk;
    rmq__buf frame;
    unsigned char body[512];
    size_t blen;
    simc_req *half;
    char v[300];
    ct.arg = NULL;
    ct.check = ns_check;
    simc_config(c, &cfg, "TxGroup");
    cfg.name_space = "ns1";
    cfg.check_transaction = &ct;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_in_transaction(p, &m, ns_commit, NULL, &res, &st), RMQ_OK);
    CHECK_STR(ns_checked_topic, "TxTest");
    CHECK_STR(res.queue.topic, "TxTest");
    simc_run(c, p, 10);
    half = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK_STR(simc_ext(half, "b", v, sizeof v), "ns1%TxTest");
    CHECK_HAS(half->props, "PGROUP\001ns1%TxGroup");
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_END_TRANSACTION), "producerGroup", v, sizeof v), "ns1%TxGroup");
    blen = ns_stored(body, "ns1%TxTest", "PGROUP\001ns1%TxGroup\002UNIQ_KEY\001AC11000100002A9F0000000000000001\002", "b");
    rmq__command_init(&chk, RMQ_REQ_CHECK_TRANSACTION_STATE, 77, RMQ_FLAG_ONEWAY);
    rmq_command_put_ext(&chk, "tranStateTableOffset", "5");
    rmq_command_put_ext(&chk, "commitLogOffset", "1234");
    rmq_command_put_ext(&chk, "msgId", "AC11000100002A9F0000000000000001");
    rmq_command_put_ext(&chk, "transactionId", "AC11000100002A9F0000000000000001");
    rmq_command_put_ext(&chk, "offsetMsgId", "0A00010100002A9F00000000000004D2");
    rmq__buf_init(&frame, NULL, 1 << 16);
    rmq__frame_encode_head(&frame, &chk, blen);
    rmq__buf_put(&frame, body, blen);
    ns_checks = 0;
    ns_checked_topic[0] = 0;
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, c->s[half->server].host, c->s[half->server].port), frame.p, frame.len);
    rmq__buf_free(&frame);
    simc_run(c, p, 10);
    CHECK_INT(ns_checks, 1);
    CHECK_STR(ns_checked_topic, "TxTest");
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_END_TRANSACTION), "producerGroup", v, sizeof v), "ns1%TxGroup");
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_END_TRANSACTION), "fromTransactionCheck", v, sizeof v), "true");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* ClientConfig.getNamespace: an instance endpoint names the namespace when
 * none is configured; a configured one wins. */
static void test_namespace_comes_from_an_instance_endpoint_when_none_is_set(void)
{
    static const struct { const char *addr, *ns; } cases[] = {
        { "MQ_INST_1234_abc.mq.example.com:80", "MQ_INST_1234_abc" },
        { "http://MQ_INST_1_x.host:80", "MQ_INST_1_x" },
        { "MQ_INST_a_b_c.h:9876;MQ_INST_a_b_c.g:9876", "MQ_INST_a_b_c" },
        { "MQ_INST_abc.host:80", "" },          /* no "x_y" */
        { "MQ_INST_1_.host:80", "" },
        { "MQ_INST_1_2:9876", "" },             /* no '.' */
        { "10.0.0.1:9876", "" },
        { "://MQ_INST_1_2.h:1", "" },
        { "x.MQ_INST_1_2.h:1", "" }
    };
    simc *c = ns_cluster();
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m = msg("TopicTest", "hello");
    rmq_send_result res;
    char out[RMQ_TOPIC_MAX_LEN + 1], v[300];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        out[0] = 0;
        CHECK_INT(rmq__ns_from_addr(cases[i].addr, out, sizeof out), strlen(cases[i].ns));
        if (*cases[i].ns) CHECK_STR(out, cases[i].ns);
    }
    simc_add_topic(c, "MQ_INST_1_a%TopicTest", 4, 6);
    CHECK_INT(rmq_sim_listen(c->sim, "MQ_INST_1_a.sim", 9876, &simc_ops, &c->s[0]), 0);
    simc_config(c, &cfg, "pg");
    cfg.namesrv_addr = "MQ_INST_1_a.sim:9876";
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "MQ_INST_1_a%TopicTest");
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "a", v, sizeof v), "MQ_INST_1_a%pg");
    CHECK_STR(res.queue.topic, "TopicTest");
    rmq_producer_destroy(p);
    cfg.name_space = "ns1";
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_STR(simc_ext(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), "b", v, sizeof v), "ns1%TopicTest");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A message handed back (rmq_message_ext) names its topic without our
 * namespace, and keeps another's. */
static void test_namespace_is_stripped_from_messages_handed_back(void)
{
    simc *c = ns_cluster();
    rmq_producer *p = ns_producer(c, "ns1", "pg");
    rmq__ext_src src;
    rmq_message_ext e;
    CHECK(p != NULL);
    memset(&src, 0, sizeof src);
    src.topic = rmq__cslice("ns1%TopicTest");
    src.body = rmq__cslice("b");
    src.props = rmq__cslice("TAGS\001t\002");
    src.broker_name = rmq__cslice("broker-a");
    CHECK_INT(rmq__ext_build(p, &src, &e), RMQ_OK);
    CHECK_STR(e.topic, "TopicTest");
    CHECK_STR(e.queue.topic, "TopicTest");
    CHECK_STR(e.tags, "t");
    rmq_message_ext_free(p, &e);
    src.topic = rmq__cslice("ns2%TopicTest");
    CHECK_INT(rmq__ext_build(p, &src, &e), RMQ_OK);
    CHECK_STR(e.topic, "ns2%TopicTest");
    rmq_message_ext_free(p, &e);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_namespace_tests(void)
{
    RUN(test_namespace_wrap_and_unwrap_follow_namespace_util);
    RUN(test_namespace_send_puts_ns_on_the_wire_and_hands_back_the_bare_topic);
    RUN(test_namespace_none_or_empty_leaves_the_wire_as_it_was);
    RUN(test_namespace_leaves_system_topics_and_wrapped_topics_as_they_are);
    RUN(test_namespace_counts_against_the_topic_and_group_length_limits);
    RUN(test_namespace_selector_sees_bare_queues_and_its_pick_goes_out_wrapped);
    RUN(test_namespace_fetched_queues_are_bare_and_a_given_queue_is_wrapped);
    RUN(test_namespace_batch_and_async_sends_are_wrapped_and_answered_bare);
    RUN(test_namespace_transaction_and_its_check_name_the_wrapped_group);
    RUN(test_namespace_comes_from_an_instance_endpoint_when_none_is_set);
    RUN(test_namespace_is_stripped_from_messages_handed_back);
}
