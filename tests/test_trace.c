/* Message trace (cfg.trace_enable): the records Java's TraceDataEncoder
 * writes, after which sends they come, how they leave, and what they never
 * do to the sends they describe. On the sim cluster, virtual time. */

/* The body of a trace message Java 4.9.8's producer wrote (captured from a
 * real 4.9.8 cluster: two sync sends to TraceCapture, the first with tags
 * TagA and keys "K1 K2", the second with neither). */
static const char java_trace_body[] =
    "Pub\001" "1796651999936\001DefaultRegion\001JavaTraceGroup\001TraceCapture\001"
    "FD0000000000000000000000000000022D6430946E0921E732BD0000\001TagA\001K1 K2\001127.0.0.1:26011\001"
    "11\001727\0010\0017F0000010000659B00000000000002BD\001true\002"
    "Pub\001" "1796652000679\001DefaultRegion\001JavaTraceGroup\001TraceCapture\001"
    "FD0000000000000000000000000000022D6430946E0921E735A70002\001null\001null\001127.0.0.1:26011\001"
    "11\00127\0010\0017F0000010000659B000000000000039C\001true\002";

static rmq_message trace_msg(const char *topic, const char *body)
{
    rmq_message m;
    rmq_message_init(&m, topic, body, strlen(body));
    return m;
}

static void trace_pub(rmq__trace_rec *r, int64_t ts, const char *msg_id, const char *tags, const char *keys,
                      int32_t cost, const char *offset_id)
{
    memset(r, 0, sizeof *r);
    r->type = RMQ__TRACE_PUB;
    r->timestamp_ms = ts;
    r->region = rmq__cslice("DefaultRegion");
    r->group = rmq__cslice("JavaTraceGroup");
    r->topic = rmq__cslice("TraceCapture");
    r->msg_id = rmq__cslice(msg_id);
    r->tags = rmq__cslice(tags);
    r->keys = rmq__cslice(keys);
    r->store_host = rmq__cslice("127.0.0.1:26011");
    r->body_len = 11;
    r->cost_ms = cost;
    r->msg_type = RMQ__MSG_NORMAL;
    r->offset_msg_id = rmq__cslice(offset_id);
    r->success = 1;
}

static void test_trace_records_are_the_bytes_java_writes(void)
{
    rmq__trace_rec r;
    rmq__buf b;
    rmq__buf_init(&b, NULL, 1 << 16);
    trace_pub(&r, INT64_C(1796651999936), "FD0000000000000000000000000000022D6430946E0921E732BD0000", "TagA", "K1 K2",
              727, "7F0000010000659B00000000000002BD");
    rmq__trace_encode(&b, &r);
    trace_pub(&r, INT64_C(1796652000679), "FD0000000000000000000000000000022D6430946E0921E735A70002", NULL, NULL,
              27, "7F0000010000659B000000000000039C");
    rmq__trace_encode(&b, &r);
    CHECK_INT(b.failed, 0);
    CHECK_INT(b.len, sizeof java_trace_body - 1);
    CHECK(memcmp(b.p, java_trace_body, b.len) == 0);
    rmq__buf_free(&b);
}

/* EndTransaction: TraceDataEncoder's field order, the state's enum name,
 * fromTransactionCheck last. */
static void test_trace_end_transaction_record_has_javas_field_order(void)
{
    static const char want[] = "EndTransaction\0011796651999936\001DefaultRegion\001TxG\001TxTopic\001MSGID\001null\001"
                               "k\00110.0.1.1:10911\0012\001MSGID\001ROLLBACK_MESSAGE\001true\002";
    rmq__trace_rec r;
    rmq__buf b;
    rmq__buf_init(&b, NULL, 1 << 16);
    memset(&r, 0, sizeof r);
    r.type = RMQ__TRACE_END_TX;
    r.timestamp_ms = INT64_C(1796651999936);
    r.region = rmq__cslice("DefaultRegion");
    r.group = rmq__cslice("TxG");
    r.topic = rmq__cslice("TxTopic");
    r.msg_id = r.transaction_id = rmq__cslice("MSGID");
    r.keys = rmq__cslice("k");
    r.store_host = rmq__cslice("10.0.1.1:10911");
    r.msg_type = RMQ__MSG_TRANS_COMMIT;
    r.state = RMQ_TX_ROLLBACK;
    r.from_check = 1;
    rmq__trace_encode(&b, &r);
    CHECK_INT(b.len, sizeof want - 1);
    CHECK(memcmp(b.p, want, b.len) == 0);
    rmq__buf_free(&b);
}

/* -- on the sim cluster ------------------------------------------------- */
static rmq_producer *traced_producer(simc *c, const char *group, const char *topic)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, group);
    cfg.trace_enable = 1;
    cfg.trace_topic = topic;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) { rmq_producer_destroy(p); return NULL; }
    return p;
}

static rmq__tracer *tracer_of(rmq_producer *p) { return (rmq__tracer *)p->hook_arg; }

/* Sends to the trace topic the brokers received. */
static int trace_sends(simc *c, const char *topic)
{
    int i, n = 0;
    for (i = 0; i < c->nlog; i++)
        if (c->log[i].code == RMQ_REQ_SEND_MESSAGE_V2 && strcmp(c->log[i].topic, topic) == 0) n++;
    return n;
}

static simc_req *last_trace_send(simc *c, const char *topic)
{
    int i;
    for (i = c->nlog - 1; i >= 0; i--)
        if (c->log[i].code == RMQ_REQ_SEND_MESSAGE_V2 && strcmp(c->log[i].topic, topic) == 0) return &c->log[i];
    return NULL;
}

/* Field i (0-based) of the first record of a trace body, into out. */
static const char *trace_field(const unsigned char *body, size_t len, int i, char *out, size_t cap)
{
    size_t at = 0, start;
    int k = 0;
    out[0] = 0;
    while (k < i && at < len) { if (body[at] == 1) k++; at++; }
    start = at;
    while (at < len && body[at] != 1 && body[at] != 2) at++;
    snprintf(out, cap, "%.*s", (int)(at - start), (const char *)body + start);
    return out;
}

static int trace_records(const rmq__buf *b)
{
    size_t i;
    int n = 0;
    for (i = 0; i < b->len; i++) n += b->p[i] == 2;
    return n;
}

static void test_trace_a_sync_send_is_followed_by_its_pub_record(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq_stats st;
    simc_req *t;
    char f[128], want[96];
    CHECK(p != NULL);
    m.tags = "TagA";
    m.keys = "K1 K2";
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 0);      /* gathered, not sent at once */
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    t = last_trace_send(c, RMQ_SYS_TRACE_TOPIC);
    CHECK_STR(trace_field(t->body, t->body_len, 0, f, sizeof f), "Pub");
    CHECK_STR(trace_field(t->body, t->body_len, 2, f, sizeof f), "DefaultRegion");
    CHECK_STR(trace_field(t->body, t->body_len, 3, f, sizeof f), "TraceG");
    CHECK_STR(trace_field(t->body, t->body_len, 4, f, sizeof f), "TopicTest");
    CHECK_STR(trace_field(t->body, t->body_len, 5, f, sizeof f), res.msg_id);
    CHECK_STR(trace_field(t->body, t->body_len, 6, f, sizeof f), "TagA");
    CHECK_STR(trace_field(t->body, t->body_len, 7, f, sizeof f), "K1 K2");
    CHECK_STR(trace_field(t->body, t->body_len, 8, f, sizeof f), "10.0.1.1:10911");
    CHECK_STR(trace_field(t->body, t->body_len, 9, f, sizeof f), "5");
    CHECK(atoi(trace_field(t->body, t->body_len, 10, f, sizeof f)) >= 0);
    CHECK_STR(trace_field(t->body, t->body_len, 11, f, sizeof f), "0");
    CHECK_STR(trace_field(t->body, t->body_len, 12, f, sizeof f), res.offset_msg_id);
    CHECK_STR(trace_field(t->body, t->body_len, 13, f, sizeof f), "true");
    CHECK_INT(t->body[t->body_len - 1], 2);
    snprintf(want, sizeof want, "KEYS\001%s K1 K2", res.msg_id);   /* msgId, then the user's keys */
    CHECK_HAS(t->props, want);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 1);
    CHECK_INT(st.trace_dropped, 0);
    CHECK_INT(st.sends_ok, 1);                                  /* the host's counters: its own send only */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* The cost is the attempt's time, the timestamp its start (Java's context
 * time), on a broker 40 ms away. */
static void test_trace_cost_and_time_are_the_attempts(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq__tracer *t;
    char f[64];
    int64_t before;
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                  /* connections and route first */
    {
        rmq_sim_faults slow;
        memset(&slow, 0, sizeof slow);
        slow.latency_ms = 40;
        rmq_sim_conn_set_faults(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), &slow);
    }
    before = rmq__wall(p->in);
    t = tracer_of(p);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(trace_records(&t->data), 2);
    {
        const unsigned char *second = (const unsigned char *)memchr(t->data.p, 2, t->data.len) + 1;
        size_t n = t->data.len - (size_t)(second - t->data.p);
        int cost = atoi(trace_field(second, n, 10, f, sizeof f));
        long long ts = atoll(trace_field(second, n, 1, f, sizeof f));
        CHECK(cost >= 40);
        CHECK_INT(ts, before);
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void trace_count_cb(rmq_err err, const rmq_send_result *res, void *user) { count_cb(err, res, user); }

/* Async and batch sends are traced, oneway ones are not (no answer, no
 * SendResult in Java either); a batch has no tags or keys (null) and its
 * ids joined by commas. */
static void test_trace_async_and_batch_sends_are_traced_oneway_not(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello"), batch[2];
    rmq_send_result res[2];
    cb_log log;
    rmq__tracer *t;
    const unsigned char *rec;
    char f[256], ids[160];
    CHECK(p != NULL);
    t = tracer_of(p);
    memset(&log, 0, sizeof log);
    m.delay_level = 2;
    CHECK_INT(rmq_send_async(p, &m, trace_count_cb, &log), RMQ_OK);
    simc_run(c, p, 50);
    CHECK_INT(log.ok, 1);
    CHECK_INT(trace_records(&t->data), 1);
    CHECK_STR(trace_field(t->data.p, t->data.len, 11, f, sizeof f), "3");          /* Delay_Msg */
    m.delay_level = 0;
    CHECK_INT(rmq_send_oneway(p, &m), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 100), RMQ_OK);
    CHECK_INT(trace_records(&t->data), 1);
    batch[0] = trace_msg("TopicTest", "one");
    batch[1] = trace_msg("TopicTest", "two");
    batch[0].tags = "T";
    CHECK_INT(rmq_send_batch(p, batch, 2, res), RMQ_OK);
    CHECK_INT(trace_records(&t->data), 2);
    rec = (const unsigned char *)memchr(t->data.p, 2, t->data.len) + 1;
    snprintf(ids, sizeof ids, "%s,%s", res[0].msg_id, res[1].msg_id);
    CHECK_STR(trace_field(rec, t->data.len, 5, f, sizeof f), ids);
    CHECK_STR(trace_field(rec, t->data.len, 6, f, sizeof f), "null");
    CHECK_STR(trace_field(rec, t->data.len, 7, f, sizeof f), "null");
    snprintf(ids, sizeof ids, "%s,%s", res[0].offset_msg_id, res[1].offset_msg_id);
    CHECK_STR(trace_field(rec, t->data.len, 12, f, sizeof f), ids);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A failed send has no SendResult: no record (sendMessageAfter returns). */
static void test_trace_a_failed_send_has_no_record(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_MESSAGE_ILLEGAL, 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_BROKER);
    CHECK_INT(trace_records(&tracer_of(p)->data), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Records of sends made within RMQ_TRACE_WAIT_MS leave together, in one
 * trace message whose keys name every msgId. */
static void test_trace_records_are_batched_into_one_trace_message(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res[4];
    rmq_stats st;
    simc_req *t;
    int i;
    CHECK(p != NULL);
    for (i = 0; i < 4; i++) CHECK_INT(rmq_send(p, &m, &res[i]), RMQ_OK);
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    t = last_trace_send(c, RMQ_SYS_TRACE_TOPIC);
    for (i = 0; i < 4; i++) CHECK_HAS(t->props, res[i].msg_id);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 4);
    /* the trace message itself is not traced: nothing more leaves */
    simc_run(c, p, 3 * RMQ_TRACE_WAIT_MS);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 4);
    CHECK_INT(st.trace_dropped, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Past RMQ_TRACE_MAX_PENDING_BYTES (trace messages unanswered, the loop not
 * run) records are dropped and counted; the user's sends go on. */
static void test_trace_records_past_the_bound_are_dropped_and_sends_go_on(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq__tracer *t;
    rmq__trace_rec r;
    static char keys[2000];
    rmq_stats st;
    int i;
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                      /* route and connection known */
    t = tracer_of(p);
    memset(keys, 'k', sizeof keys - 1);
    trace_pub(&r, 1, "ID", NULL, keys, 1, "OFF");
    r.keys.len = 0;                                                 /* keys too long for the set */
    r.tags = rmq__cslice(keys);                                     /* ~2 KB a record */
    for (i = 0; i < 400; i++) rmq__trace_append(t, &r);             /* ~800 KB, lock not needed: one thread */
    rmq_producer_stats(p, &st);
    CHECK(st.trace_dropped > 0);
    CHECK(t->data.len + t->inflight_bytes <= RMQ_TRACE_MAX_PENDING_BYTES);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(res.status, RMQ_SEND_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A trace topic that cannot take the records (refused by the broker, or
 * not a valid topic name) costs the records, never a send. */
static void test_trace_a_failing_trace_topic_does_not_fail_sends(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL), *q;
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq_stats st;
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_NO_PERMISSION, 1);   /* the trace send's answer */
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 0);
    CHECK_INT(st.trace_dropped, 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    q = traced_producer(c, "TraceH", "bad topic!");
    CHECK(q != NULL);
    CHECK_INT(rmq_send(q, &m, &res), RMQ_OK);
    simc_run(c, q, RMQ_TRACE_WAIT_MS + 100);
    rmq_producer_stats(q, &st);
    CHECK_INT(st.trace_dropped, 1);
    CHECK_INT(st.sends_ok, 1);
    rmq_producer_destroy(q);
    simc_destroy(c);
}

static rmq_transaction_state trace_commit(void *arg, const rmq_message *m, const rmq_send_result *half)
{
    (void)arg; (void)m; (void)half;
    return RMQ_TX_COMMIT;
}

/* A transaction: the half message's Pub (Trans_Msg_Half), then the end's
 * EndTransaction record (Trans_msg_Commit, COMMIT_MESSAGE, not from a check). */
static void test_trace_a_transaction_has_pub_and_end_transaction_records(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceTxG", NULL);
    rmq_message m = trace_msg("TopicTest", "tx");
    rmq_send_result res;
    rmq_transaction_state state;
    rmq__tracer *t;
    const unsigned char *end;
    size_t n;
    rmq_stats st;
    char f[128];
    CHECK(p != NULL);
    m.tags = "TagTx";
    m.keys = "TXK";
    CHECK_INT(rmq_send_in_transaction(p, &m, trace_commit, NULL, &res, &state), RMQ_OK);
    t = tracer_of(p);
    CHECK_INT(trace_records(&t->data), 2);
    CHECK_STR(trace_field(t->data.p, t->data.len, 11, f, sizeof f), "1");          /* Trans_Msg_Half */
    end = (const unsigned char *)memchr(t->data.p, 2, t->data.len) + 1;
    n = t->data.len - (size_t)(end - t->data.p);
    CHECK_STR(trace_field(end, n, 0, f, sizeof f), "EndTransaction");
    CHECK_STR(trace_field(end, n, 2, f, sizeof f), "DefaultRegion");
    CHECK_STR(trace_field(end, n, 3, f, sizeof f), "TraceTxG");
    CHECK_STR(trace_field(end, n, 4, f, sizeof f), "TopicTest");
    CHECK_STR(trace_field(end, n, 5, f, sizeof f), res.msg_id);
    CHECK_STR(trace_field(end, n, 6, f, sizeof f), "TagTx");
    CHECK_STR(trace_field(end, n, 7, f, sizeof f), "TXK");
    CHECK_STR(trace_field(end, n, 8, f, sizeof f), "10.0.1.1:10911");
    CHECK_STR(trace_field(end, n, 9, f, sizeof f), "2");
    CHECK_STR(trace_field(end, n, 10, f, sizeof f), res.msg_id);
    CHECK_STR(trace_field(end, n, 11, f, sizeof f), "COMMIT_MESSAGE");
    CHECK_STR(trace_field(end, n, 12, f, sizeof f), "false");
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 2);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Shutdown sends what is gathered and waits (bounded) for its answer. */
static void test_trace_shutdown_flushes_the_gathered_records(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq_stats st;
    uint32_t t0;
    CHECK(p != NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    t0 = rmq_sim_now(c->sim);
    rmq_producer_shutdown(p);
    CHECK(rmq_sim_now(c->sim) - t0 < RMQ_TRACE_WAIT_MS);          /* not the batch's wait */
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 2);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_UNREGISTER_CLIENT), 2);   /* the inner group too */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* The inner producer: Java's group name, the host's client instance; a
 * producer without trace has no hook; the cut is refused by the check. */
static void test_trace_inner_producer_group_and_config(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", "MyTrace"), *q = simc_producer(c, "PlainG");
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    rmq__tracer *t;
    simc_req *hb;
    CHECK(p != NULL && q != NULL);
    t = tracer_of(p);
    CHECK(rmq__starts_with(t->tp->cfg.group, "_INNER_TRACE_PRODUCER-TraceG-PRODUCE-"));
    CHECK_INT(t->tp->cfg.send_timeout_ms, 5000);
    CHECK_INT(t->tp->cfg.max_message_size, 128000);
    CHECK(t->tp->in == p->in);
    CHECK_INT(rmq_producer_start(q), RMQ_OK);
    CHECK(q->hook == NULL);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    hb = simc_last(c, "broker-a", RMQ_REQ_HEART_BEAT);
    CHECK(hb != NULL);
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    CHECK_INT(trace_sends(c, "MyTrace"), 1);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 0);
    rmq_producer_destroy(q);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* In a namespace the records name the topic and group as the application
 * wrote them (Java's withoutNamespace), and so does the inner producer's
 * group; the send itself went wrapped. */
static void test_trace_records_of_a_namespaced_producer_name_the_bare_topic_and_group(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_message m = trace_msg("TopicTest", "hello");
    rmq_send_result res;
    simc_req *t;
    char f[128];
    simc_config(c, &cfg, "TraceG");
    cfg.trace_enable = 1;
    cfg.name_space = "ns1";
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK(rmq__starts_with(tracer_of(p)->tp->cfg.group, "_INNER_TRACE_PRODUCER-TraceG-PRODUCE-"));
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2) != NULL);
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    CHECK_INT(trace_sends(c, "ns1%TopicTest"), 1);                 /* the user's send, wrapped */
    t = last_trace_send(c, RMQ_SYS_TRACE_TOPIC);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(trace_field(t->body, t->body_len, 3, f, sizeof f), "TraceG");
        CHECK_STR(trace_field(t->body, t->body_len, 4, f, sizeof f), "TopicTest");
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A send made from a callback is traced like any other; the trace send
 * itself leaves from the loop the application runs. */
static rmq_producer *trace_cb_producer;
static cb_log trace_cb_inner;
static void trace_send_again(rmq_err err, const rmq_send_result *res, void *user)
{
    rmq_message m = trace_msg("TopicTest", "from a callback");
    cb_log *l = (cb_log *)user;
    count_cb(err, res, user);
    if (l->calls == 1) l->last = rmq_send_async(trace_cb_producer, &m, count_cb, &trace_cb_inner);
}

static void test_trace_sends_made_from_a_callback_are_traced(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = traced_producer(c, "TraceG", NULL);
    rmq_message m = trace_msg("TopicTest", "first");
    cb_log log;
    rmq_stats st;
    CHECK(p != NULL);
    trace_cb_producer = p;
    memset(&log, 0, sizeof log);
    memset(&trace_cb_inner, 0, sizeof trace_cb_inner);
    CHECK_INT(rmq_send_async(p, &m, trace_send_again, &log), RMQ_OK);
    simc_run(c, p, 100);
    CHECK_INT(log.last, RMQ_OK);
    CHECK_INT(trace_cb_inner.ok, 1);
    CHECK_INT(trace_records(&tracer_of(p)->data), 2);
    simc_run(c, p, RMQ_TRACE_WAIT_MS + 100);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.trace_sent, 2);
    CHECK_INT(trace_sends(c, RMQ_SYS_TRACE_TOPIC), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_trace_tests(void)
{
    RUN(test_trace_records_are_the_bytes_java_writes);
    RUN(test_trace_end_transaction_record_has_javas_field_order);
    RUN(test_trace_a_sync_send_is_followed_by_its_pub_record);
    RUN(test_trace_cost_and_time_are_the_attempts);
    RUN(test_trace_async_and_batch_sends_are_traced_oneway_not);
    RUN(test_trace_a_failed_send_has_no_record);
    RUN(test_trace_records_are_batched_into_one_trace_message);
    RUN(test_trace_records_past_the_bound_are_dropped_and_sends_go_on);
    RUN(test_trace_a_failing_trace_topic_does_not_fail_sends);
    RUN(test_trace_a_transaction_has_pub_and_end_transaction_records);
    RUN(test_trace_shutdown_flushes_the_gathered_records);
    RUN(test_trace_inner_producer_group_and_config);
    RUN(test_trace_records_of_a_namespaced_producer_name_the_bare_topic_and_group);
    RUN(test_trace_sends_made_from_a_callback_are_traced);
}
