/* Message trace against a real cluster: a traced producer's records, read
 * back through Apache's own tools (queryMsgTraceById, and the trace topic's
 * messages as consumeMessage prints them). The trace topic is one of the
 * run's own: a broker creates RMQ_SYS_TRACE_TOPIC only with
 * traceTopicEnable, and refuses it to updateTopic as a system topic. */

typedef struct trace_sent {
    rmq_send_result res;
    const char *tags, *keys;
    int tx;                        /* a transaction's half message */
} trace_sent;

/* A sync send, made again while a starved broker answers SYSTEM_BUSY. */
static rmq_err trace_send(rmq_producer *p, const rmq_message *m, rmq_send_result *res)
{
    rmq_err err = RMQ_OK;
    int i;
    for (i = 0; i < 5; i++) {
        err = rmq_send(p, m, res);
        if (!(err == RMQ_ERR_BROKER && res->broker_code == RMQ_CODE_SYSTEM_BUSY)) break;
        nap_ms(200);
    }
    return err;
}

/* Field i of the record starting at rec (ended by 0x02), into out. */
static const char *trace_rec_field(const unsigned char *rec, const unsigned char *end, int i, char *out, size_t cap)
{
    const unsigned char *p = rec, *s;
    int k = 0;
    out[0] = 0;
    while (k < i && p < end && *p != 2) { if (*p == 1) k++; p++; }
    s = p;
    while (p < end && *p != 1 && *p != 2) p++;
    snprintf(out, cap, "%.*s", (int)(p - s), (const char *)s);
    return out;
}

/* The record of type whose field 5 (msgId) is msg_id, in any trace message. */
static const unsigned char *trace_find(const mq_msgs *all, const char *type, const char *msg_id,
                                       const unsigned char **end)
{
    size_t i;
    char f[128];
    for (i = 0; i < all->n; i++) {
        const unsigned char *p = all->v[i].body, *e = p + all->v[i].body_len;
        while (p && p < e) {
            const unsigned char *next = (const unsigned char *)memchr(p, 2, (size_t)(e - p));
            if (strcmp(trace_rec_field(p, e, 0, f, sizeof f), type) == 0 &&
                strcmp(trace_rec_field(p, e, 5, f, sizeof f), msg_id) == 0) { *end = e; return p; }
            p = next ? next + 1 : NULL;
        }
    }
    return NULL;
}

/* The Pub row queryMsgTraceById prints: group, client host, date, time,
 * cost ("12ms"), status. */
static int trace_query(const char *topic, const char *msg_id, char *group, int *cost, char *status)
{
    char *out = mq_run("queryMsgTraceById -n '%s' -i '%s' -t '%s'", R.namesrv, msg_id, topic), *p;
    int ok = 0;
    if (!out) return 0;
    for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        char type[32], host[64], day[16], tm[16];
        if (sscanf(p, "%31s %127s %63s %15s %15s %dms %31s", type, group, host, day, tm, cost, status) == 7 &&
            strcmp(type, "Pub") == 0) { ok = 1; break; }
    }
    if (!ok) snprintf(R.why, sizeof R.why, "queryMsgTraceById %s: %.800s", msg_id, out);
    free(out);
    return ok;
}

static rmq_transaction_state trace_real_commit(void *arg, const rmq_message *m, const rmq_send_result *half)
{
    (void)arg; (void)m; (void)half;
    return RMQ_TX_COMMIT;
}

static void test_trace_records_of_a_traced_producer_are_what_java_tools_read(void)
{
    char topic[96], group[96], ttopic[96], f[256], addr[80], tgroup[128], status[32];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    trace_sent s[4];
    rmq_transaction_state st;
    rmq_stats stats;
    mq_msgs all;
    const unsigned char *rec, *end;
    int i, cost, tries;
    int64_t off;
    CHECK(fresh_topic("Trace", topic, group));
    name_of(ttopic, sizeof ttopic, "TraceTopic");
    CHECK(create_topic(R.namesrv, ttopic, NULL, 4));
    real_config(&cfg, group);
    cfg.trace_enable = 1;
    cfg.trace_topic = ttopic;
    CHECK((p = real_start(&cfg)) != NULL);
    memset(s, 0, sizeof s);
    for (i = 0; i < 3; i++) {
        rmq_message_init(&m, topic, "traced body", 11);
        m.tags = s[i].tags = i == 2 ? NULL : "TagT";
        m.keys = s[i].keys = i == 0 ? "KA KB" : NULL;
        CHECKF(trace_send(p, &m, &s[i].res) == RMQ_OK, "send %d: %s", i, rmq_producer_last_error(p));
    }
    rmq_message_init(&m, topic, "tx body", 7);
    m.tags = s[3].tags = "TagTx";
    m.keys = s[3].keys = "TXKEY";
    s[3].tx = 1;
    CHECKF(rmq_send_in_transaction(p, &m, trace_real_commit, NULL, &s[3].res, &st) == RMQ_OK, "%s", rmq_producer_last_error(p));
    rmq_producer_shutdown(p);                     /* sends the gathered records */
    rmq_producer_stats(p, &stats);
    CHECKF(stats.trace_sent == 5 && stats.trace_dropped == 0, "trace records sent %u, dropped %u",
           (unsigned)stats.trace_sent, (unsigned)stats.trace_dropped);
    rmq_producer_destroy(p);
    for (tries = 0; tries < 20; tries++) {        /* the route and the store catch up */
        if (mq_consume_topic(R.namesrv, ttopic, &all, R.why, sizeof R.why) < 0) { nap_ms(500); continue; }
        for (i = 0; i < 4 && trace_find(&all, "Pub", s[i].res.msg_id, &end); i++) {}
        if (i == 4 && trace_find(&all, "EndTransaction", s[3].res.msg_id, &end)) break;
        mq_msgs_free(&all);
        nap_ms(500);
    }
    CHECKF(tries < 20, "the trace records never showed: %s", R.why);
    for (i = 0; i < 4; i++) {
        rec = trace_find(&all, "Pub", s[i].res.msg_id, &end);
        CHECKF(rec != NULL, "no Pub record of %s", s[i].res.msg_id);
        CHECK_STR(trace_rec_field(rec, end, 3, f, sizeof f), group);
        CHECK_STR(trace_rec_field(rec, end, 4, f, sizeof f), topic);
        CHECK_STR(trace_rec_field(rec, end, 6, f, sizeof f), s[i].tags ? s[i].tags : "null");
        CHECK_STR(trace_rec_field(rec, end, 7, f, sizeof f), s[i].keys ? s[i].keys : "null");
        CHECK(rmq_offset_msg_id_decode(s[i].res.offset_msg_id, addr, sizeof addr, &off) == RMQ_OK);
        CHECK_STR(trace_rec_field(rec, end, 8, f, sizeof f), addr);              /* the store host */
        CHECK_STR(trace_rec_field(rec, end, 11, f, sizeof f), s[i].tx ? "1" : "0");
        CHECK_STR(trace_rec_field(rec, end, 12, f, sizeof f), s[i].res.offset_msg_id);
        CHECK_STR(trace_rec_field(rec, end, 13, f, sizeof f), "true");
        CHECKF(trace_query(ttopic, s[i].res.msg_id, tgroup, &cost, status), "%s", R.why);
        CHECK_STR(tgroup, group);
        CHECK_STR(status, "success");
        CHECK_INT(cost, atoi(trace_rec_field(rec, end, 10, f, sizeof f)));
    }
    rec = trace_find(&all, "EndTransaction", s[3].res.msg_id, &end);
    CHECK(rec != NULL);
    CHECK_STR(trace_rec_field(rec, end, 4, f, sizeof f), topic);
    CHECK_STR(trace_rec_field(rec, end, 6, f, sizeof f), "TagTx");
    CHECK_STR(trace_rec_field(rec, end, 7, f, sizeof f), "TXKEY");
    CHECK_STR(trace_rec_field(rec, end, 9, f, sizeof f), "2");
    CHECK_STR(trace_rec_field(rec, end, 11, f, sizeof f), "COMMIT_MESSAGE");
    CHECK_STR(trace_rec_field(rec, end, 12, f, sizeof f), "false");
    mq_msgs_free(&all);
}
