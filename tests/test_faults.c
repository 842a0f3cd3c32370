/* The fault matrix: each row a fault, the same expectations for all: no
 * crash, errors naming the peer, every async send ending in exactly one
 * callback, every send reported OK in the broker's store (by UNIQ_KEY, with
 * duplicates from retries counted), nothing leaked (ASan, valgrind). */

/* Each async send has a cb_log of its own (sim_cluster.h). */
typedef struct fm_tally {
    int ok, failed, lost, duplicates, twice, unexplained;
} fm_tally;

/* Every send ended once; every OK one is stored; every failure says why. */
static fm_tally fm_check(simc *c, const cb_log *s, int n)
{
    fm_tally t;
    int i;
    memset(&t, 0, sizeof t);
    for (i = 0; i < n; i++) {
        if (s[i].calls != 1) t.twice++;
        if (s[i].last == RMQ_OK) {
            int k = simc_stored(c, s[i].msg_id);
            t.ok++;
            if (k == 0) t.lost++;
            if (k > 1) t.duplicates += k - 1;
        } else {
            t.failed++;
            if (!s[i].reason[0]) t.unexplained++;
        }
    }
    return t;
}

static rmq_producer *fm_producer(simc *c, uint32_t timeout_ms)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    simc_config(c, &cfg, "faults");
    if (timeout_ms) cfg.send_timeout_ms = timeout_ms;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK || rmq_producer_start(p) != RMQ_OK) return NULL;
    return p;
}

/* n async sends to TopicTest, then a flush. */
static void fm_send_async(rmq_producer *p, cb_log *s, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        char body[32];
        rmq_message m;
        snprintf(body, sizeof body, "fault-%d", i);
        rmq_message_init(&m, "TopicTest", body, strlen(body));
        memset(&s[i], 0, sizeof s[i]);
        if (rmq_send_async(p, &m, count_cb, &s[i]) != RMQ_OK) { s[i].calls = s[i].fail = 1; s[i].last = RMQ_ERR_BUSY; }
    }
    rmq_producer_flush(p, 60000);
}

static void warm_up(rmq_producer *p)
{
    rmq_message m;
    rmq_send_result res;
    rmq_message_init(&m, "TopicTest", "warm", 4);
    rmq_send(p, &m, &res);
}

/* n async sends (s) written to a silent broker-a, which holds them
 * unanswered. */
static void fm_hold_sends(simc *c, rmq_producer *p, cb_log *s, int n)
{
    rmq_message m;
    int i;
    c->s[simc_index(c, "broker-a")].silent = 1;
    for (i = 0; i < n; i++) {
        rmq_message_init(&m, "TopicTest", "held", 4);
        memset(&s[i], 0, sizeof s[i]);
        CHECK_INT(rmq_send_async(p, &m, count_cb, &s[i]), RMQ_OK);
    }
    rmq_producer_poll(p, 0);
}

/* n async sends (s) held by broker-a, then bytes written to the producer
 * on broker-a's connection; then broker-a answers again and the producer
 * is flushed. */
static void fm_inject_behind_sends(simc *c, rmq_producer *p, cb_log *s, int n, const void *bytes, size_t len)
{
    STEP(fm_hold_sends(c, p, s, n));
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), bytes, len);
    c->s[simc_index(c, "broker-a")].silent = 0;
    rmq_producer_flush(p, 10000);
}

#define FM_CHECK_CLEAN(t, n) do { CHECK_INT((t).twice, 0); CHECK_INT((t).lost, 0); CHECK_INT((t).unexplained, 0); \
    CHECK_INT((t).ok + (t).failed, (n)); } while (0)

static void test_fault_refused_connect_fails_every_send_naming_the_broker(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    static cb_log s[20];
    fm_tally t;
    rmq_sim_faults refuse;
    int i;
    memset(&refuse, 0, sizeof refuse);
    refuse.refuse = RMQ_SIM_REFUSE_DEFERRED;                   /* as real TCP: after the connect started */
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &refuse);
    fm_send_async(p, s, 20);
    t = fm_check(c, s, 20);
    FM_CHECK_CLEAN(t, 20);
    CHECK_INT(t.failed, 20);
    for (i = 0; i < 20; i++) {
        CHECK_INT(s[i].last, RMQ_ERR_CONNECT);
        CHECK_HAS(s[i].reason, "10.0.1.1:10911");
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_one_byte_writes_and_reads_change_nothing(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_sim_faults tiny;
    rmq_producer *p;
    static cb_log s[30];
    fm_tally t;
    rmq_send_result res;
    rmq_message m;
    memset(&tiny, 0, sizeof tiny);
    tiny.write_max = 1;
    tiny.read_max = 1;
    rmq_sim_set_faults(c->sim, "10.0.0.1", 9876, &tiny);
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &tiny);
    p = fm_producer(c, 0);
    rmq_message_init(&m, "TopicTest", "one byte at a time", 18);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    fm_send_async(p, s, 30);
    t = fm_check(c, s, 30);
    FM_CHECK_CLEAN(t, 30);
    CHECK_INT(t.ok, 30);
    CHECK_INT(t.duplicates, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_reset_mid_frame_retries_and_every_ok_is_stored(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = fm_producer(c, 0);
    static cb_log s[200];
    fm_tally t;
    rmq_sim_faults reset;
    warm_up(p);
    memset(&reset, 0, sizeof reset);
    reset.reset = 1;
    reset.reset_after = 5000;                                  /* a few frames in, mid-frame */
    rmq_sim_conn_set_faults(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), &reset);
    fm_send_async(p, s, 200);
    t = fm_check(c, s, 200);
    FM_CHECK_CLEAN(t, 200);
    CHECK(t.ok >= 190);                                        /* retries land on the other broker */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_stalled_connect_ends_at_the_deadline_naming_the_broker(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    rmq_sim_faults stall;
    rmq_send_result res;
    rmq_message m;
    uint32_t t0;
    CHECK(p != NULL);
    memset(&stall, 0, sizeof stall);
    stall.stall = 1;
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &stall);
    rmq_message_init(&m, "TopicTest", "x", 1);
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send_timeout(p, &m, &res, 800), RMQ_ERR_TIMEOUT);
    CHECK_INT(rmq_sim_now(c->sim) - t0, 800);
    CHECK_HAS(rmq_producer_last_error(p), "10.0.1.1:10911");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_garbage_frame_fails_what_is_in_flight_and_the_next_send_works(void)
{
    static const unsigned char garbage[12] = { 0, 0, 0, 8, 0, 0, 0, 200, 'g', 'a', 'r', 'b' };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    static cb_log s[5];
    fm_tally t;
    rmq_send_result res;
    rmq_message m;
    warm_up(p);
    STEP(fm_inject_behind_sends(c, p, s, 5, garbage, sizeof garbage));   /* the retries on a new connection land */
    t = fm_check(c, s, 5);
    FM_CHECK_CLEAN(t, 5);
    CHECK_INT(t.ok, 5);                                        /* network failure: async retry */
    rmq_message_init(&m, "TopicTest", "after", 5);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_garbage_frame_fails_an_async_send_without_retries_with_a_protocol_error(void)
{
    static const unsigned char garbage[12] = { 0, 0, 0, 8, 0, 0, 0, 200, 'g', 'a', 'r', 'b' };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    static cb_log s[1];
    simc_config(c, &cfg, "faults");
    cfg.retry_times_async = 0;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    warm_up(p);
    STEP(fm_inject_behind_sends(c, p, s, 1, garbage, sizeof garbage));
    CHECK_INT(s[0].calls, 1);
    CHECK_INT(s[0].last, RMQ_ERR_PROTOCOL);
    CHECK_HAS(s[0].reason, "10.0.1.1:10911 sent a malformed frame");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_an_answer_over_the_frame_limit_fails_only_its_request(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    rmq_send_result res;
    rmq_message m;
    warm_up(p);
    c->s[simc_index(c, "broker-a")].huge_next = RMQ_MAX_FRAME_BYTES + 1000;
    rmq_message_init(&m, "TopicTest", "huge", 4);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_FRAME_TOO_LARGE);
    CHECK_HAS(RES_REASON(res), "over RMQ_MAX_FRAME_BYTES");
    CHECK_HAS(RES_REASON(res), "10.0.1.1:10911");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                  /* the same connection goes on */
    CHECK_INT(rmq_sim_connects(c->sim, "10.0.1.1", 10911), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_length_prefix_over_16_mib_closes_the_connection(void)
{
    static const unsigned char huge[8] = { 0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 10 };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    static cb_log s[1];
    fm_tally t;
    warm_up(p);
    STEP(fm_inject_behind_sends(c, p, s, 1, huge, sizeof huge));
    CHECK_INT(s[0].calls, 1);
    t = fm_check(c, s, 1);
    FM_CHECK_CLEAN(t, 1);
    CHECK_INT(t.ok, 1);                                        /* retried on the new one, stored */
    CHECK_INT(rmq_sim_conn_client_open(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911)), 1);  /* a new one */
    CHECK_INT(rmq_sim_connects(c->sim, "10.0.1.1", 10911), 2);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_system_busy_storm_fails_each_send_once_with_the_code(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    static cb_log s[100];
    fm_tally t;
    int i;
    warm_up(p);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_BUSY, 60);
    fm_send_async(p, s, 100);
    t = fm_check(c, s, 100);
    FM_CHECK_CLEAN(t, 100);
    CHECK_INT(t.failed, 60);                                   /* an answered code is final (async) */
    CHECK_INT(t.ok, 40);
    for (i = 0; i < 60; i++) CHECK_HAS(s[i].reason, "SYSTEM_BUSY");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_a_broker_killed_with_1000_async_sends_pending(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = fm_producer(c, 10000);
    static cb_log s[1000];
    fm_tally t;
    warm_up(p);
    STEP(fm_hold_sends(c, p, s, 1000));                        /* they pile up there */
    simc_down(c, simc_index(c, "broker-a"));                   /* killed: listener gone, connection reset */
    rmq_producer_flush(p, 60000);
    t = fm_check(c, s, 1000);
    FM_CHECK_CLEAN(t, 1000);
    CHECK_INT(t.ok, 1000);                                     /* retried on broker-b */
    CHECK_INT(t.duplicates, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A port that takes only `fw_budget` more bytes, then none (a full socket,
 * not writable) until the bound is lifted. */
static rmq_port fw_port;
static rmq_sim *fw_sim;
static long fw_budget = -1;             /* -1: no bound */

static long fw_send(void *ctx, void *conn, const void *data, size_t len)
{
    long n;
    if (fw_budget == 0) return 0;
    if (fw_budget > 0 && (size_t)fw_budget < len) len = (size_t)fw_budget;
    n = rmq_sim_port(fw_sim)->send(ctx, conn, data, len);
    if (n > 0 && fw_budget > 0) fw_budget -= n;
    return n;
}

static int fw_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    size_t i;
    for (i = 0; fw_budget == 0 && i < n; i++) items[i].want &= ~RMQ_WANT_WRITE;   /* the loop asks anew each turn */
    return rmq_sim_port(fw_sim)->wait(ctx, items, n, timeout_ms);
}

/* A send times out with its frame half written: it ends once, and the rest
 * of the frame, which lived in the send's own block, still leaves whole
 * after the send was freed (the next send on the stream is read right). */
static void test_fault_a_send_timed_out_half_written_ends_once_and_its_frame_leaves_whole(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_send_result res;
    rmq_message m;
    cb_log l;
    fw_sim = c->sim;
    fw_port = *rmq_sim_port(c->sim);
    fw_port.send = fw_send;
    fw_port.sendv = NULL;
    fw_port.wait = fw_wait;
    fw_budget = -1;
    simc_config(c, &cfg, "faults");
    cfg.port = &fw_port;
    cfg.send_timeout_ms = 1000;
    cfg.retry_times_async = 0;
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    warm_up(p);
    memset(&l, 0, sizeof l);
    fw_budget = 40;                                         /* inside the frame's header */
    rmq_message_init(&m, "TopicTest", "half", 4);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    simc_run(c, p, 1500);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.last, RMQ_ERR_TIMEOUT);
    CHECK_HAS(l.reason, "10.0.1.1:10911");
    fw_budget = -1;
    rmq_message_init(&m, "TopicTest", "after", 5);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK(simc_stored(c, res.msg_id) == 1);
    CHECK_INT(c->nstored, 3);                               /* warm, then the late frame whole, then after */
    CHECK_INT(l.calls, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* The broker takes sends without answering them; it answers the rest. */
static int fm_swallow_sends(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    (void)sc; (void)conn;
    return q->code == RMQ_REQ_SEND_MESSAGE_V2 && q->body_len == 4 && memcmp(q->body, "held", 4) == 0;
}

/* One producer of a shared instance is destroyed with its sends written
 * and unanswered (its unregister is answered): each ends once with
 * RMQ_ERR_SHUTDOWN, their requests outlive the sends in the instance until
 * their deadline, and the other producer sends on. */
static void test_fault_requests_of_a_destroyed_producer_outlive_it_in_a_shared_instance(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *a = NULL, *b = NULL;
    static cb_log s[5];
    rmq_send_result res;
    rmq_message m;
    int i;
    simc_config(c, &cfg, "faults_a");
    cfg.send_timeout_ms = 5000;
    CHECK_INT(rmq_producer_create(&cfg, &a), RMQ_OK);
    cfg.group = "faults_b";
    CHECK_INT(rmq_producer_create(&cfg, &b), RMQ_OK);
    CHECK_INT(rmq_producer_start(a), RMQ_OK);
    CHECK_INT(rmq_producer_start(b), RMQ_OK);
    warm_up(a);
    c->extra = fm_swallow_sends;
    rmq_message_init(&m, "TopicTest", "held", 4);
    for (i = 0; i < 5; i++) {
        memset(&s[i], 0, sizeof s[i]);
        CHECK_INT(rmq_send_async(a, &m, count_cb, &s[i]), RMQ_OK);
    }
    rmq_producer_poll(a, 0);
    rmq_producer_destroy(a);
    for (i = 0; i < 5; i++) {
        CHECK_INT(s[i].calls, 1);
        CHECK_INT(s[i].last, RMQ_ERR_SHUTDOWN);
    }
    simc_run(c, b, 6000);                                   /* their deadlines pass */
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(b, &m, &res), RMQ_OK);
    CHECK(simc_stored(c, res.msg_id) == 1);
    for (i = 0; i < 5; i++) CHECK_INT(s[i].calls, 1);
    rmq_producer_destroy(b);
    simc_destroy(c);
}

static void test_fault_name_servers_gone_after_routes_are_cached_sends_keep_working(void)
{
    simc *c = simc_create(2, 1, 1000);
    rmq_producer *p = fm_producer(c, 0);
    rmq_send_result res;
    rmq_message m;
    int i;
    warm_up(p);
    simc_down(c, simc_index(c, "ns0"));
    simc_down(c, simc_index(c, "ns1"));
    rmq_message_init(&m, "TopicTest", "cached", 6);
    for (i = 0; i < 3; i++) {
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        simc_run(c, p, 35000);                                 /* route refreshes fail meanwhile */
    }
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fault_the_clock_wrapping_mid_retry(void)
{
    simc *c = simc_create(1, 2, 0xFFFFFFFFu - 2000u);
    rmq_producer *p = fm_producer(c, 0);
    rmq_sim_faults slow;
    rmq_send_result res;
    rmq_message m;
    int k;
    uint32_t t0;
    for (k = 0; k < 8; k++) warm_up(p);                        /* both brokers connected */
    memset(&slow, 0, sizeof slow);
    slow.latency_ms = 700;
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &slow);
    rmq_sim_set_faults(c->sim, "10.0.1.2", 10911, &slow);
    rmq_message_init(&m, "TopicTest", "wrap", 4);
    for (k = 0; k < 3; k++) {
        simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_ERROR, 1);
        t0 = rmq_sim_now(c->sim);
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);              /* X fails, Y fails, X: 3 × 700 ms */
        CHECK_INT((uint32_t)(rmq_sim_now(c->sim) - t0), 2100);
    }
    CHECK(rmq_sim_now(c->sim) < 0x80000000u);                  /* it wrapped on the way */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A refused connect is not backed off: a broker back from a restart is
 * used at once, even by the retry of a send whose other broker just died. */
static void test_fault_a_broker_back_from_a_restart_is_used_at_once(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = fm_producer(c, 0);
    rmq_send_result res;
    rmq_message m;
    int a = simc_index(c, "broker-a"), b = simc_index(c, "broker-b"), i;
    for (i = 0; i < 8; i++) warm_up(p);
    rmq_message_init(&m, "TopicTest", "restart", 7);
    simc_down(c, a);
    for (i = 0; i < 4; i++) CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);   /* refused by a, stored on b */
    simc_up(c, a);
    simc_down(c, b);                                           /* at once: no second passes */
    for (i = 0; i < 4; i++) {
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        CHECK_STR(res.queue.broker_name, "broker-a");
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A connect that timed out is backed off: the next send does not wait for
 * that address again, it goes to the other broker at once. */
static void test_fault_an_address_whose_connect_timed_out_is_backed_off(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = fm_producer(c, 0);
    rmq_sim_faults stall;
    rmq_send_result res;
    rmq_message m;
    rmq_queue qs[16];
    size_t n;
    uint32_t t0;
    memset(&stall, 0, sizeof stall);
    stall.stall = 1;
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &stall);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "x", 1);
    CHECK_INT(rmq_send_to_queue(p, &m, &qs[0], &res), RMQ_ERR_TIMEOUT);   /* broker-a: the connect times out */
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_STR(res.queue.broker_name, "broker-b");
    CHECK_INT(rmq_sim_now(c->sim) - t0, 0);                     /* no time spent on broker-a */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_fault_tests(void)
{
    RUN(test_fault_refused_connect_fails_every_send_naming_the_broker);
    RUN(test_fault_one_byte_writes_and_reads_change_nothing);
    RUN(test_fault_reset_mid_frame_retries_and_every_ok_is_stored);
    RUN(test_fault_a_stalled_connect_ends_at_the_deadline_naming_the_broker);
    RUN(test_fault_a_garbage_frame_fails_what_is_in_flight_and_the_next_send_works);
    RUN(test_fault_a_garbage_frame_fails_an_async_send_without_retries_with_a_protocol_error);
    RUN(test_fault_an_answer_over_the_frame_limit_fails_only_its_request);
    RUN(test_fault_a_length_prefix_over_16_mib_closes_the_connection);
    RUN(test_fault_a_system_busy_storm_fails_each_send_once_with_the_code);
    RUN(test_fault_a_broker_killed_with_1000_async_sends_pending);
    RUN(test_fault_name_servers_gone_after_routes_are_cached_sends_keep_working);
    RUN(test_fault_the_clock_wrapping_mid_retry);
    RUN(test_fault_a_broker_back_from_a_restart_is_used_at_once);
    RUN(test_fault_an_address_whose_connect_timed_out_is_backed_off);
    RUN(test_fault_a_send_timed_out_half_written_ends_once_and_its_frame_leaves_whole);
    RUN(test_fault_requests_of_a_destroyed_producer_outlive_it_in_a_shared_instance);
}
