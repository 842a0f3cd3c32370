/* MQAdmin and the VIP channel against a real cluster: a topic created by
 * rmq_admin_create_topic, the offsets and store times of a queue, and
 * which port each request took. Included by test_real.c. */

/* A sync send, again while the broker answers SYSTEM_BUSY or flow control
 * (a starved machine); RMQ_OK or the last error. */
static rmq_err adm_send(rmq_producer *p, const rmq_message *m, const rmq_queue *q, rmq_send_result *res)
{
    rmq_err err = RMQ_OK;
    int i;
    for (i = 0; i < 10; i++) {
        err = q ? rmq_send_to_queue(p, m, q, res) : rmq_send(p, m, res);
        if (err != RMQ_ERR_BROKER || (res->broker_code != 2 && res->broker_code != 215)) return err;
        nap_ms(300);
    }
    return err;
}

/* The route as mqadmin topicRoute prints it, without white space. */
static char *adm_topic_route(const char *topic)
{
    char *out = mq_run("topicRoute -n '%s' -t '%s'", R.namesrv, topic), *r, *w;
    if (!out) return NULL;
    for (r = w = out; *r; r++) if (*r != ' ' && *r != '\n' && *r != '\r' && *r != '\t') *w++ = *r;
    *w = 0;
    return out;
}

static int adm_count(const char *hay, const char *needle)
{
    int n = 0;
    for (; (hay = strstr(hay, needle)) != NULL; hay++) n++;
    return n;
}

static void test_admin_create_topic_makes_n_queues_on_both_broker_groups_and_the_topic_takes_sends(void)
{
    char topic[96], group[96], *route;
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    rmq_err err;
    name_of(topic, sizeof topic, "AdminCreated");
    name_of(group, sizeof group, "GAdminCreated");
    real_config(&cfg, group);
    CHECK((p = real_start(&cfg)) != NULL);
    err = rmq_admin_create_topic(p, "TBW102", topic, 3);
    CHECKF(err == RMQ_OK, "create topic: %s", rmq_producer_last_error(p));
    route = adm_topic_route(topic);
    CHECKF(route && strstr(route, "\"brokerName\":\"broker-a\"") && strstr(route, "\"brokerName\":\"broker-b\""),
           "topicRoute names both broker groups: %.1500s", route ? route : "");
    CHECKF(adm_count(route, "\"readQueueNums\":3") == 2 && adm_count(route, "\"writeQueueNums\":3") == 2,
           "3 read and write queues on each: %.1500s", route);
    CHECKF(adm_count(route, "\"perm\":6") == 2, "perm 6 on each: %.1500s", route);
    free(route);
    rmq_message_init(&m, topic, "created", 7);
    err = adm_send(p, &m, NULL, &res);
    CHECKF(err == RMQ_OK, "send to the created topic: %s", rmq_producer_last_error(p));
    CHECK(res.queue.queue_id >= 0 && res.queue.queue_id < 3);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "TBW102", 3), RMQ_ERR_MESSAGE);
    real_stop(p);
}

static void test_admin_offsets_move_by_the_messages_sent_and_search_and_store_time_agree(void)
{
    char topic[96], group[96], *out;
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_send_result first, second, res;
    rmq_queue q;
    int64_t min0 = -1, max0 = -1, max1 = -1, found = -1, earliest = -1, min1 = -1;
    long long born_before, stored_after, between;
    int i;
    CHECK(fresh_topic("AdminOffsets", topic, group));
    real_config(&cfg, group);
    CHECK((p = real_start(&cfg)) != NULL);
    memset(&q, 0, sizeof q);
    snprintf(q.topic, sizeof q.topic, "%s", topic);
    snprintf(q.broker_name, sizeof q.broker_name, "broker-a");
    q.queue_id = 1;
    CHECKF(rmq_min_offset(p, &q, &min0) == RMQ_OK, "min offset: %s", rmq_producer_last_error(p));
    CHECKF(rmq_max_offset(p, &q, &max0) == RMQ_OK, "max offset: %s", rmq_producer_last_error(p));
    CHECK_INT(min0, 0);
    CHECK_INT(max0, 0);
    rmq_message_init(&m, topic, "offsets", 7);
    born_before = wall_ms();
    CHECKF(adm_send(p, &m, &q, &first) == RMQ_OK, "first send: %s", rmq_producer_last_error(p));
    stored_after = wall_ms();
    nap_ms(600);
    between = wall_ms();
    nap_ms(30);
    CHECKF(adm_send(p, &m, &q, &second) == RMQ_OK, "second send: %s", rmq_producer_last_error(p));
    for (i = 0; i < 3; i++) CHECKF(adm_send(p, &m, &q, &res) == RMQ_OK, "send %d: %s", i + 3, rmq_producer_last_error(p));
    CHECKF(rmq_max_offset(p, &q, &max1) == RMQ_OK, "max offset after: %s", rmq_producer_last_error(p));
    CHECK_INT(max1 - max0, 5);
    CHECKF(rmq_min_offset(p, &q, &min1) == RMQ_OK, "min offset after: %s", rmq_producer_last_error(p));
    CHECK_INT(min1, 0);
    CHECKF(rmq_search_offset(p, &q, between, &found) == RMQ_OK, "search offset: %s", rmq_producer_last_error(p));
    CHECK_INT(found, second.queue_offset);
    CHECKF(rmq_earliest_msg_store_time(p, &q, &earliest) == RMQ_OK, "earliest: %s", rmq_producer_last_error(p));
    CHECKF(earliest >= born_before - 5 && earliest <= stored_after + 5,
           "the earliest store time %lld lies between the first send's start %lld and end %lld",
           (long long)earliest, born_before, stored_after);
    out = query_by_offset_id(topic, first.offset_msg_id);
    CHECKF(out && atoll(mq_label(out, "Queue Offset")) == first.queue_offset && first.queue_offset == 0,
           "queryMsgById: the first message is at offset 0: %.600s", out ? out : "");
    free(out);
    q.queue_id = 2;                   /* an empty queue of the same topic */
    CHECK_INT(rmq_max_offset(p, &q, &max1), RMQ_OK);
    CHECK_INT(max1, 0);
    CHECKF(rmq_earliest_msg_store_time(p, &q, &earliest) == RMQ_OK, "earliest of an empty queue: %s",
           rmq_producer_last_error(p));
    CHECK_INT(earliest, -1);
    snprintf(q.broker_name, sizeof q.broker_name, "broker-zz");
    CHECK_INT(rmq_max_offset(p, &q, &max1), RMQ_ERR_BROKER_NOT_FOUND);
    real_stop(p);
}

/* The POSIX port, with every address connect() was asked for recorded. */
static struct {
    rmq_port port;
    const rmq_port *inner;
    char addrs[128][80];
    int n;
} vipw;

static int vipw_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    if (vipw.n < 128) snprintf(vipw.addrs[vipw.n++], sizeof vipw.addrs[0], "%s:%u", host, (unsigned)port);
    return vipw.inner->connect(ctx, host, port, conn);
}

static int vipw_connected(const char *addr)
{
    int i;
    for (i = 0; i < vipw.n; i++) if (strcmp(vipw.addrs[i], addr) == 0) return 1;
    return 0;
}

static void vip_of(const char *addr, char *out, size_t cap)
{
    const char *colon = strrchr(addr, ':');
    snprintf(out, cap, "%.*s:%d", (int)(colon - addr), addr, atoi(colon + 1) - 2);
}

static void test_admin_vip_channel_takes_sends_and_admin_calls_to_port_minus_2_heartbeats_to_the_port(void)
{
    char topic[96], group[96], created[96], a[80], b[80], va[80], vb[80];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    rmq_queue q;
    int64_t v = -1;
    sent s;
    int i;
    CHECK(fresh_topic("AdminVip", topic, group));
    name_of(created, sizeof created, "AdminVipCreated");
    CHECK(broker_addr(R.namesrv, "broker-a", a, sizeof a) && broker_addr(R.namesrv, "broker-b", b, sizeof b));
    vip_of(a, va, sizeof va);
    vip_of(b, vb, sizeof vb);
    memset(&vipw, 0, sizeof vipw);
    vipw.inner = rmq_port_posix();
    vipw.port = *vipw.inner;
    vipw.port.connect = vipw_connect;
    real_config(&cfg, group);
    cfg.port = &vipw.port;
    cfg.vip_channel = 1;
    cfg.instance_name = "vip";
    CHECK((p = real_start(&cfg)) != NULL);
    memset(&q, 0, sizeof q);
    snprintf(q.topic, sizeof q.topic, "%s", topic);
    snprintf(q.broker_name, sizeof q.broker_name, "broker-a");
    rmq_message_init(&m, topic, "vip", 3);
    CHECKF(adm_send(p, &m, &q, &res) == RMQ_OK, "a sync send over the VIP channel: %s", rmq_producer_last_error(p));
    for (i = 0; i < 4; i++) CHECKF(adm_send(p, &m, NULL, &res) == RMQ_OK, "sync send %d: %s", i, rmq_producer_last_error(p));
    sent_init(&s, topic, "vipasync", 0);
    CHECK_INT(rmq_send_async(p, &s.m, sent_cb, &s), RMQ_OK);
    CHECK_INT(rmq_send_oneway(p, &m), RMQ_OK);
    CHECK(real_flush(p));
    CHECKF(s.acked, "the async send over the VIP channel: %s", s.why);
    CHECKF(rmq_max_offset(p, &q, &v) == RMQ_OK, "max offset over the VIP channel: %s", rmq_producer_last_error(p));
    CHECK(v >= 1);
    CHECKF(rmq_admin_create_topic(p, "TBW102", created, 2) == RMQ_OK, "create topic over the VIP channel: %s",
           rmq_producer_last_error(p));
    CHECKF(vipw_connected(va) && vipw_connected(vb), "connects to both VIP ports %s and %s (%d connects)", va, vb, vipw.n);
    /* heartbeats keep to the port: the broker groups' own addresses too */
    CHECKF(vipw_connected(a), "the heartbeat's connect to %s", a);
    real_stop(p);
    /* off: nothing at port - 2 */
    memset(&vipw, 0, sizeof vipw);
    vipw.inner = rmq_port_posix();
    vipw.port = *vipw.inner;
    vipw.port.connect = vipw_connect;
    cfg.vip_channel = 0;
    CHECK((p = real_start(&cfg)) != NULL);
    CHECKF(adm_send(p, &m, &q, &res) == RMQ_OK, "a send on the port: %s", rmq_producer_last_error(p));
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK(!vipw_connected(va) && !vipw_connected(vb));
    CHECK(vipw_connected(a));
    real_stop(p);
}
