/* Namespaces against a real cluster: a producer in namespace NS names its
 * topics and group bare, the brokers know them as NS%name (what Java 4.9's
 * withNamespace sends), and every result names the bare topic again. */

/* This run's namespace: a fresh one, so nothing of an earlier run counts. */
static void ns_of_run(char *out, size_t cap)
{
    snprintf(out, cap, "RealNs%s", R.run);
}

static void ns_wrapped(char *out, size_t cap, const char *ns, const char *name)
{
    snprintf(out, cap, "%s%%%s", ns, name);
}

/* A line of `mqadmin topicList` that is exactly name. */
static int topic_listed(const char *name)
{
    char *out = mq_run("topicList -n '%s'", R.namesrv), *p;
    size_t n = strlen(name);
    int hit = 0;
    for (p = out; p && *p && !hit; p = strchr(p, '\n'), p = p ? p + 1 : p)
        hit = strncmp(p, name, n) == 0 && (p[n] == '\n' || p[n] == '\r' || p[n] == 0);
    free(out);
    return hit;
}

/* The first send to a new topic creates it through TBW102 under its
 * wrapped name: topicList and topicRoute know NS%topic, not the bare one. */
static void test_namespace_a_new_topic_is_created_under_its_wrapped_name(void)
{
    char ns[48], topic[96], wrapped[160], group[96], *out;
    rmq_producer_config cfg;
    rmq_producer *p;
    sent s;
    ns_of_run(ns, sizeof ns);
    name_of(topic, sizeof topic, "NsAuto");
    name_of(group, sizeof group, "GNsAuto");
    ns_wrapped(wrapped, sizeof wrapped, ns, topic);
    real_config(&cfg, group);
    cfg.name_space = ns;
    CHECK((p = real_start(&cfg)) != NULL);
    sent_init(&s, topic, "ns-auto", 0);
    /* a cold broker creating a topic on a starved machine may take seconds */
    CHECKF(rmq_send_timeout(p, &s.m, &s.res, 20000) == RMQ_OK, "first send to a new topic: %s", rmq_producer_last_error(p));
    CHECK_STR(s.res.queue.topic, topic);
    real_stop(p);
    CHECKF(topic_listed(wrapped), "topicList lacks %s", wrapped);
    CHECKF(!topic_listed(topic), "topicList has the bare %s", topic);
    out = mq_run("topicRoute -n '%s' -t '%s'", R.namesrv, wrapped);
    CHECKF(out && strstr(out, s.res.queue.broker_name), "topicRoute %s: %.600s", wrapped, out ? out : "");
    free(out);
    out = query_by_offset_id(wrapped, s.res.offset_msg_id);
    CHECKF(out && strcmp(mq_label(out, "Topic"), wrapped) == 0, "queryMsgById: %.800s", out ? out : "");
    CHECK_HAS(mq_label(out, "Properties"), "INSTANCE_ID=");
    CHECK_HAS(mq_label(out, "Properties"), ns);
    free(out);
}

static rmq_transaction_state ns_real_commit(void *arg, const rmq_message *m, const rmq_send_result *half)
{
    (void)arg; (void)half;
    return strcmp(m->topic, (const char *)arg) == 0 ? RMQ_TX_COMMIT : RMQ_TX_ROLLBACK;   /* bare, as sent */
}

/* Sends of every kind (sync, async, batch, to a fetched queue, selected,
 * transactional) in a namespace: each is stored once under NS%topic with
 * INSTANCE_ID=NS, each result names the bare topic, and the brokers know
 * the producer as NS%group. */
static void test_namespace_every_kind_of_send_is_stored_under_the_wrapped_topic(void)
{
    enum { N = 8 };
    char ns[48], topic[96], wrapped[160], group[96], wgroup[160], addr[80] = "", id[160] = "", *out;
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_queue qs[32];
    rmq_message batch[3];
    rmq_send_result bres[3];
    rmq_transaction_state st = RMQ_TX_UNKNOWN;
    size_t nq = 0, i;
    sent s[N];
    mq_msgs store;
    ns_of_run(ns, sizeof ns);
    name_of(topic, sizeof topic, "NsSends");
    name_of(group, sizeof group, "GNsSends");
    ns_wrapped(wrapped, sizeof wrapped, ns, topic);
    ns_wrapped(wgroup, sizeof wgroup, ns, group);
    CHECK(create_topic(R.namesrv, wrapped, NULL, 4));
    real_config(&cfg, group);
    cfg.name_space = ns;
    CHECK((p = real_start(&cfg)) != NULL);
    for (i = 0; i < N; i++) sent_init(&s[i], topic, "ns", (int)i);
    CHECKF(rmq_send(p, &s[0].m, &s[0].res) == RMQ_OK, "sync: %s", rmq_producer_last_error(p));
    s[0].acked = 1;
    CHECKF(rmq_send_async(p, &s[1].m, sent_cb, &s[1]) == RMQ_OK, "async: %s", rmq_producer_last_error(p));
    CHECK(real_flush(p));
    CHECKF(s[1].acked, "async: %s", s[1].why);
    for (i = 0; i < 3; i++) batch[i] = s[2 + i].m;
    CHECKF(rmq_send_batch(p, batch, 3, bres) == RMQ_OK, "batch: %s", rmq_producer_last_error(p));
    for (i = 0; i < 3; i++) { s[2 + i].res = bres[i]; s[2 + i].acked = 1; }
    CHECKF(rmq_fetch_publish_queues(p, topic, qs, 32, &nq) == RMQ_OK, "fetch: %s", rmq_producer_last_error(p));
    CHECK_INT(nq, 8);
    for (i = 0; i < nq; i++) CHECK_STR(qs[i].topic, topic);
    s[5].want_queue = &qs[nq - 1];
    CHECKF(rmq_send_to_queue(p, &s[5].m, s[5].want_queue, &s[5].res) == RMQ_OK, "to queue: %s", rmq_producer_last_error(p));
    s[5].acked = 1;
    CHECKF(rmq_send_select(p, &s[6].m, rmq_select_by_hash, (void *)"order-1", &s[6].res) == RMQ_OK, "select: %s",
           rmq_producer_last_error(p));
    s[6].acked = 1;
    CHECKF(rmq_send_in_transaction(p, &s[7].m, ns_real_commit, topic, &s[7].res, &st) == RMQ_OK, "transaction: %s",
           rmq_producer_last_error(p));
    CHECK_INT(st, RMQ_TX_COMMIT);
    s[7].acked = 1;
    for (i = 0; i < N; i++) CHECK_STR(s[i].res.queue.topic, topic);
    /* the brokers know the producer by its wrapped group */
    CHECK(client_addr_of(wgroup, wrapped, addr, sizeof addr, id, sizeof id) == 1);
    CHECK_STR(id, rmq_producer_client_id(p));
    real_stop(p);
    CHECKF(mq_consume_topic(R.namesrv, wrapped, &store, R.why, sizeof R.why) >= 0, "%s", R.why);
    for (i = 0; i < N; i++) {
        if (i == 7) {                  /* the committed half message: stored again on commit, as itself */
            const mq_msg *hit = find_by_key(&store, s[7].keys);
            CHECKF(hit != NULL, "the committed message is not stored under %s", wrapped);
            CHECK_STR(hit->topic, wrapped);
            continue;
        }
        STEP(check_stored(&store, &s[i], wrapped));
    }
    for (i = 0; i < store.n; i++) CHECK_STR(mq_prop(&store.v[i], "INSTANCE_ID"), ns);
    CHECK_INT(store.n, N);
    mq_msgs_free(&store);
    out = query_by_offset_id(wrapped, s[0].res.offset_msg_id);
    CHECKF(out && strcmp(mq_label(out, "Topic"), wrapped) == 0, "queryMsgById: %.800s", out ? out : "");
    free(out);
}

static char ns_checked[160];

static rmq_transaction_state ns_real_check(void *arg, const rmq_checked_message *m)
{
    (void)arg;
    tx_checks++;
    snprintf(ns_checked, sizeof ns_checked, "%s", m->topic);
    return RMQ_TX_COMMIT;
}

/* A transaction left unknown: the broker finds the producer by the half
 * message's PGROUP (NS%group, as its heartbeat named it), checks back, and
 * the checker sees the bare topic; the commit it answers is stored under
 * NS%topic. */
static void test_namespace_a_transaction_check_back_finds_the_wrapped_group(void)
{
    char ns[48], topic[96], wrapped[160], group[96];
    rmq_producer_config cfg;
    rmq_check_transaction check;
    rmq_transaction_state unknown = RMQ_TX_UNKNOWN, got;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m;
    long long until;
    mq_msgs st;
    ns_of_run(ns, sizeof ns);
    name_of(topic, sizeof topic, "NsCheck");
    name_of(group, sizeof group, "GNsCheck");
    ns_wrapped(wrapped, sizeof wrapped, ns, topic);
    CHECK(create_topic(R.namesrv, wrapped, NULL, 4));
    check.arg = NULL;
    check.check = ns_real_check;
    real_config(&cfg, group);
    cfg.name_space = ns;
    cfg.check_transaction = &check;
    CHECK((p = real_start(&cfg)) != NULL);
    tx_checks = 0;
    ns_checked[0] = 0;
    rmq_message_init(&m, topic, "ns-unknown", 10);
    m.keys = "ns-tx-unknown";
    CHECKF(rmq_send_in_transaction(p, &m, tx_local, &unknown, &res, &got) == RMQ_OK, "%s", rmq_producer_last_error(p));
    CHECK_STR(res.queue.topic, topic);
    for (until = now_ms() + 90000; now_ms() < until && tx_checks == 0; ) rmq_producer_poll(p, 200);
    CHECKF(tx_checks > 0, "no check-back from the broker in 90 s");
    CHECK_STR(ns_checked, topic);
    for (until = now_ms() + 1000; now_ms() < until; ) rmq_producer_poll(p, 100);   /* the answer leaves */
    real_stop(p);
    CHECKF(mq_consume_topic(R.namesrv, wrapped, &st, R.why, sizeof R.why) >= 0, "%s", R.why);
    CHECKF(find_by_key(&st, "ns-tx-unknown") != NULL, "the checked-back message is not stored under %s", wrapped);
    mq_msgs_free(&st);
}
