/* The core configuration as a whole: built with the defines of the "core"
 * line of tools/size-configs.txt (the Makefile's CORE_DEFS: every feature
 * cut of section 1 but RMQ_NO_ERROR_TEXT, the configuration make size
 * measures against its budget), all memory of the producer from a static
 * pool, on the simulated port. What is left must still be a producer:
 * routes from the name server, heartbeats, sync, async and batch sends that
 * land in the store, and a clear refusal of whatever asks for a feature the
 * build cut. Every test ends with the pool empty. */
#include "pool_or_heap.h"
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_sim.h"
#include "rmq_test.h"
#include "sim_cluster.h"
#include "test_reasons.c"

#if !defined(RMQ_NO_THREADS) || !defined(RMQ_NO_PROPERTIES)
#error "build with the core's defines (make test: CORE_DEFS from tools/size-configs.txt)"
#endif

static uint64_t core_mem[(512u * 1024u) / sizeof(uint64_t)];
static rmq_pool core_pool;

/* A started core producer of group on the cluster (port NULL: the
 * cluster's), its memory from a fresh pool; NULL if create or start fails. */
static rmq_producer *core_producer(simc *c, const char *group, const rmq_port *port)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_pool_init(&core_pool, core_mem, sizeof core_mem);
    simc_config(c, &cfg, group);
    if (port) cfg.port = port;
    cfg.mem_ctx = &core_pool;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) == RMQ_OK) return p;
    rmq_producer_destroy(p);
    return NULL;
}

/* Destroys p and the cluster; the pool must hold nothing after. */
static void core_done(rmq_producer *p, simc *c)
{
    rmq_producer_destroy(p);
    CHECKF(core_pool.used == 0, "the pool holds %lu bytes after destroy", (unsigned long)core_pool.used);
    simc_destroy(c);
}

static void test_sync_async_and_batch_sends_land_in_the_store(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = core_producer(c, "core", NULL);
    rmq_message m, batch[3];
    rmq_send_result res, bres[3];
    cb_log log;
    int i;
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "sync", 4);
    m.tags = "TagA";
    m.keys = "k1 k2";
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(res.status, RMQ_SEND_OK);
    CHECK_INT(simc_stored(c, res.msg_id), 1);
    CHECK_INT(simc_count(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC), 1);

    memset(&log, 0, sizeof log);
    rmq_message_init(&m, "TopicTest", "async", 5);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 3000), RMQ_OK);
    CHECK_INT(log.calls, 1);
    CHECK_INT(log.last, RMQ_OK);
    CHECK_INT(simc_stored(c, log.msg_id), 1);

    for (i = 0; i < 3; i++) rmq_message_init(&batch[i], "TopicTest", "batched", 7);
    CHECK_INT(rmq_send_batch(p, batch, 3, bres), RMQ_OK);
    for (i = 0; i < 3; i++) CHECK_INT(simc_stored(c, bres[i].msg_id), 1);
    CHECK_INT(c->nstored, 5);
    CHECK(core_pool.peak > 0);
    core_done(p, c);
}

/* Takes every byte the pool has left, largest blocks first, until
 * core_release gives them back. */
static void *core_held[64];
static int core_nheld;

static void core_exhaust(void)
{
    size_t n = 256u * 1024u;
    core_nheld = 0;
    while (n >= 8 && core_nheld < 64) {
        void *b = rmq_pool_alloc(&core_pool, n);
        if (b) core_held[core_nheld++] = b;
        else n /= 2;
    }
}

static void core_release(void)
{
    while (core_nheld > 0) rmq_pool_free(&core_pool, core_held[--core_nheld]);
}

/* A send in flight holds no result: it takes one when it ends. With no
 * memory left by then it still ends in its one callback, with a result
 * that names its message and says what happened. */
static void test_an_async_send_ending_with_no_memory_left_gets_one_callback_with_a_result(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = core_producer(c, "core", NULL);
    rmq_message m;
    rmq_send_result res;
    cb_log log;
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "warm", 4);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);           /* route, connection, heartbeat */
    memset(&log, 0, sizeof log);
    rmq_message_init(&m, "TopicTest", "starved", 7);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    core_exhaust();
    CHECK(core_nheld > 0);
    simc_run(c, p, 200);
    CHECK_INT(log.calls, 1);
    CHECK(log.last != RMQ_OK);
    CHECK_INT((int)strlen(log.msg_id), 32);
    /* no memory for its result either: the bare one, its error's text */
    CHECKF(strcmp(log.reason, rmq_strerror(log.last)) == 0, "reason: %s", log.reason);
    core_release();
    simc_run(c, p, 200);
    CHECK_INT(log.calls, 1);                            /* one callback, not a second */

    memset(&log, 0, sizeof log);                        /* memory is back: sends go on */
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 3000), RMQ_OK);
    CHECK_INT(log.ok, 1);
    CHECK_INT(simc_stored(c, log.msg_id), 1);
    core_done(p, c);
}

static void test_heartbeats_go_to_the_broker_every_30_s_of_virtual_time(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = core_producer(c, "core-hb", NULL);
    rmq_message m;
    rmq_send_result res;
    int before;
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    before = simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT);
    CHECK(before >= 1);
    /* Java's schedule: 1 s after start, then every 30 s. */
    simc_run(c, p, 30000);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT), before + 1);
    simc_run(c, p, 30000);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT), before + 2);
    core_done(p, c);
}

/* A broker keeps a client's registration per connection: after the
 * connection drops, the next send to the broker goes after a heartbeat on
 * the new connection, not 30 s later. */
static void test_a_reconnected_broker_gets_a_heartbeat_before_the_next_send(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = core_producer(c, "core-rehb", NULL);
    simc_server *b = &c->s[simc_index(c, "broker-a")];
    rmq_message m;
    rmq_send_result res;
    rmq_sim_conn *conn;
    int before;
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_run(c, p, 2000);                     /* past the scheduled one 1 s after start */
    before = simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT);
    CHECK(before >= 1);
    conn = rmq_sim_last_conn(c->sim, b->host, b->port);
    CHECK(conn != NULL);
    rmq_sim_conn_reset(conn);
    simc_run(c, p, 100);                      /* the producer sees it go */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(rmq_sim_connects(c->sim, b->host, b->port), 2);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT), before + 1);
    core_done(p, c);
}

static void test_a_message_with_user_properties_is_refused_and_says_why(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = core_producer(c, "core-props", NULL);
    rmq_message m;
    rmq_send_result res;
    rmq_property prop = { "color", "red" };
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "b", 1);
    m.properties = &prop;
    m.nproperties = 1;
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "RMQ_NO_PROPERTIES");
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 0);
    core_done(p, c);
}

static void expect_cut(simc *c, void (*set)(rmq_producer_config *), const char *field, const char *cut)
{
    rmq_producer_config cfg;
    char why[RMQ_REASON_MAX_LEN + 1];
    simc_config(c, &cfg, "core-cfg");
    set(&cfg);
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, field);
    CHECK_HAS(why, cut);
}

static void set_binary(rmq_producer_config *cfg) { cfg->serialize = RMQ_SERIALIZE_ROCKETMQ; }
static void set_latency(rmq_producer_config *cfg) { cfg->latency_fault_enable = 1; }
static void set_trace(rmq_producer_config *cfg) { cfg->trace_enable = 1; }
static void set_addr_server(rmq_producer_config *cfg) { cfg->addr_server_url = "http://10.0.0.9/nsaddr"; }

/* A ranged field of the config: refused one past either bound, naming
 * itself, and accepted at both (is_int: an int field, else uint32_t). */
static void expect_range(simc *c, const char *field, size_t off, int is_int, long lo, long hi)
{
    long probe[4];
    int k;
    probe[0] = lo - 1; probe[1] = lo; probe[2] = hi; probe[3] = hi + 1;
    for (k = 0; k < 4; k++) {
        rmq_producer_config cfg;
        char why[RMQ_REASON_MAX_LEN + 1];
        char *at = (char *)&cfg + off;
        int refused = k == 0 || k == 3;
        simc_config(c, &cfg, "core-cfg");
        cfg.max_pending_bytes = 0xFFFFFFFFu;       /* never below max_message_size */
        if (is_int) *(int *)(void *)at = (int)probe[k];
        else *(uint32_t *)(void *)at = (uint32_t)probe[k];
        if (!is_int && probe[k] < 0) continue;     /* no value below 0 to try */
        CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), refused ? RMQ_ERR_CONFIG : RMQ_OK);
        if (refused) CHECK_HAS(why, field);
        else CHECK_STR(why, "");
    }
}

#define RANGE(field, is_int, lo, hi) expect_range(c, #field ":", offsetof(rmq_producer_config, field), is_int, lo, hi)

static void test_every_ranged_config_field_is_refused_past_its_bounds_naming_itself(void)
{
    simc *c = simc_create(1, 1, 1000);
    RANGE(default_topic_queue_nums, 1, 1, 1024);
    RANGE(send_timeout_ms, 0, 1, 0x3FFFFFFFL);
    RANGE(retry_times, 1, 0, 15);
    RANGE(retry_times_async, 1, 0, 15);
    RANGE(max_message_size, 0, 1, (long)(RMQ_MAX_FRAME_BYTES - RMQ_MAX_HEADER_BYTES));
    RANGE(heartbeat_interval_ms, 0, 10, 60000);
    RANGE(poll_namesrv_interval_ms, 0, 10, 0x3FFFFFFFL);
    RANGE(api_timeout_ms, 0, 1, 0x3FFFFFFFL);
    RANGE(connect_timeout_ms, 0, 1, 0x3FFFFFFFL);
    RANGE(max_pending, 0, 1, RMQ_MAX_PENDING);
    RANGE(language, 1, 0, 12);
    simc_destroy(c);
}

static void test_a_config_asking_for_a_cut_feature_is_refused_naming_the_cut(void)
{
    simc *c = simc_create(1, 1, 1000);
    expect_cut(c, set_binary, "serialize", "RMQ_NO_BINARY_HEADER");
    /* the core's two cut switches share one check and its text */
    expect_cut(c, set_latency, "latency_fault_enable", "feature cut");
    expect_cut(c, set_trace, "trace_enable", "feature cut");
    expect_cut(c, set_addr_server, "addr_server_url", "RMQ_NO_ADDR_SERVER");
    simc_destroy(c);
}

/* A port that offers every thread entry: a single-threaded build calls
 * none of them. */
static int thread_calls;
static void *count_create(void *ctx) { (void)ctx; thread_calls++; return &thread_calls; }
static void count_mutex(void *ctx, void *mx) { (void)ctx; (void)mx; thread_calls++; }
static int count_event_wait(void *ctx, void *ev, uint32_t ms) { (void)ctx; (void)ev; (void)ms; thread_calls++; return 0; }
static void count_wake(void *ctx) { (void)ctx; thread_calls++; }
static uintptr_t count_thread_id(void *ctx) { (void)ctx; thread_calls++; return 1; }

static void test_a_port_with_threads_works_and_none_of_its_thread_entries_is_called(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_port port = *rmq_sim_port(c->sim);
    rmq_producer *p;
    rmq_message m;
    rmq_send_result res;
    cb_log log;
    memset(&log, 0, sizeof log);
    port.mutex_create = port.event_create = count_create;
    port.mutex_lock = port.mutex_unlock = port.mutex_destroy = count_mutex;
    port.event_signal = port.event_destroy = count_mutex;
    port.event_wait = count_event_wait;
    port.wake = count_wake;
    port.thread_id = count_thread_id;
    thread_calls = 0;
    p = core_producer(c, "core-lock", &port);
    CHECK(p != NULL);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(simc_stored(c, res.msg_id), 1);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);  /* a callback asks for the thread's id */
    CHECK_INT(rmq_producer_flush(p, 3000), RMQ_OK);
    CHECK_INT(log.ok, 1);
    core_done(p, c);
    CHECK_INT(thread_calls, 0);
}

/* The core copies with its own byte loop (RMQ_NO_FAST_PATH), which is
 * memcpy and memmove both: overlapping ranges either way, the edges kept. */
static void test_the_cores_copy_moves_overlapping_bytes_either_way_and_touches_nothing_else(void)
{
    char b[16];
    memcpy(b, "0123456789abcdef", 16);
    CHECK(RMQ_MEMMOVE(b + 1, b, 8) == b + 1);              /* forward overlap: copied from the end */
    CHECK(memcmp(b, "0012345679abcdef", 16) == 0);
    memcpy(b, "0123456789abcdef", 16);
    CHECK(RMQ_MEMMOVE(b, b + 3, 8) == b);                  /* backward overlap: from the start */
    CHECK(memcmp(b, "3456789a89abcdef", 16) == 0);
    RMQ_MEMCPY(b + 4, "XY", 2);
    RMQ_MEMCPY(b + 15, "Z", 0);
    CHECK(memcmp(b, "3456XY9a89abcdef", 16) == 0);
}

/* The core writes numbers digit by digit through its one 64-bit divider
 * (RMQ_NO_FAST_PATH): the same text as printf's, at every width. */
static void test_the_cores_numbers_read_as_printf_writes_them_at_every_width(void)
{
    static const int64_t v[] = { 0, 7, 10, 99, 4294967295LL, 4294967296LL, 1733616000123LL,
                                 INT64_MAX, -1, -4294967296LL, INT64_MIN };
    char got[24], want[24];
    size_t i, n;
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        n = rmq__i64_to_dec(got, v[i]);
        got[n] = 0;
        snprintf(want, sizeof want, "%lld", (long long)v[i]);
        CHECK_STR(got, want);
    }
    n = rmq__u64_to_dec(got, UINT64_MAX);
    got[n] = 0;
    CHECK_STR(got, "18446744073709551615");
}

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    RUN(test_sync_async_and_batch_sends_land_in_the_store);
    RUN(test_an_async_send_ending_with_no_memory_left_gets_one_callback_with_a_result);
    RUN(test_heartbeats_go_to_the_broker_every_30_s_of_virtual_time);
    RUN(test_a_reconnected_broker_gets_a_heartbeat_before_the_next_send);
    RUN(test_a_message_with_user_properties_is_refused_and_says_why);
    RUN(test_a_config_asking_for_a_cut_feature_is_refused_naming_the_cut);
    RUN(test_every_ranged_config_field_is_refused_past_its_bounds_naming_itself);
    RUN(test_a_port_with_threads_works_and_none_of_its_thread_entries_is_called);
    RUN(test_the_cores_copy_moves_overlapping_bytes_either_way_and_touches_nothing_else);
    RUN(test_the_cores_numbers_read_as_printf_writes_them_at_every_width);
    run_reason_sentence_tests();
    return test_summary();
}
