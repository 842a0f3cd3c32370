/* End-to-end tests of MQAdmin and the VIP channel: the producer over
 * loopback sockets (the POSIX port) against the mock cluster of
 * tests/mockbroker, which answers as a 4.9.8 broker does. Each test starts
 * and stops its own mock.
 *
 *     build/san/test_admin_e2e [name-filter]
 *
 * The mock binary is $MOCKBROKER, else tests/mockbroker/mockbroker: run
 * from the repository root. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"

static struct {
    mock_cluster mock;
    int mock_up;
    rmq_producer *p;
    char out[1 << 16];
    /* the POSIX port, with the addresses connect() was asked for */
    rmq_port port;
    char connects[64][80];
    int nconnects;
} A;

static int ae_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    if (A.nconnects < 64) snprintf(A.connects[A.nconnects++], sizeof A.connects[0], "%s:%u", host, (unsigned)port);
    return rmq_port_posix()->connect(ctx, host, port, conn);
}

static int ae_connected(const char *addr)
{
    int i;
    for (i = 0; i < A.nconnects; i++) if (strcmp(A.connects[i], addr) == 0) return 1;
    return 0;
}

static rmq_producer *ae_start(int vip)
{
    rmq_producer_config cfg;
    if (mock_start(&A.mock, "--quiet") != 0) return NULL;
    A.mock_up = 1;
    A.port = *rmq_port_posix();
    A.port.connect = ae_connect;
    A.nconnects = 0;
    rmq_producer_config_init(&cfg);
    cfg.group = "adminE2E";
    cfg.namesrv_addr = A.mock.namesrv;
    cfg.port = &A.port;
    cfg.vip_channel = vip;
    if (rmq_producer_create(&cfg, &A.p) != RMQ_OK) return NULL;
    if (rmq_producer_start(A.p) != RMQ_OK) return NULL;
    return A.p;
}

static void ae_finish(void)
{
    if (A.p) { rmq_producer_shutdown(A.p); rmq_producer_destroy(A.p); A.p = NULL; }
    if (A.mock_up) { mock_stop(&A.mock); A.mock_up = 0; }
}

static void ae_queue(rmq_queue *q, const char *topic, const char *broker, int id)
{
    memset(q, 0, sizeof *q);
    snprintf(q->topic, sizeof q->topic, "%s", topic);
    snprintf(q->broker_name, sizeof q->broker_name, "%s", broker);
    q->queue_id = id;
}

static void test_create_topic_is_routable_and_takes_sends_on_every_broker(void)
{
    rmq_producer *p = ae_start(0);
    rmq_queue qs[16];
    size_t n = 0;
    CHECK(p);
    CHECKF(rmq_admin_create_topic(p, "TBW102", "AdminE2E", 3) == RMQ_OK, "%s", rmq_producer_last_error(p));
    CHECK_INT(mock_cmd(&A.mock, A.out, sizeof A.out, "REQUESTS"), 0);
    CHECK_HAS(A.out, "broker-a code=17");
    CHECK_HAS(A.out, "broker-b code=17");
    CHECK_HAS(A.out, "\"topic\":\"AdminE2E\",\"defaultTopic\":\"TBW102\",\"readQueueNums\":\"3\",\"writeQueueNums\":\"3\"");
    CHECK_INT(rmq_fetch_publish_queues(p, "AdminE2E", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 6);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "SCHEDULE_TOPIC_XXXX", 3), RMQ_ERR_MESSAGE);
    /* the broker refuses a name the client let through: its remark comes back */
    CHECK_INT(mock_cmd(&A.mock, NULL, 0, "ERROR * 17 1 -1 The topic[X] is conflict with system topic."), 0);
    CHECK_INT(rmq_admin_create_topic(p, "TBW102", "AdminE2E2", 3), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "answered SYSTEM_ERROR (1): The topic[X] is conflict with system topic.");
}

static void test_offsets_and_store_times_follow_what_was_stored(void)
{
    rmq_producer *p = ae_start(0);
    rmq_message m;
    rmq_send_result res;
    rmq_queue q;
    int64_t v = -5, first_store;
    int i;
    CHECK(p);
    CHECK_INT(mock_cmd(&A.mock, NULL, 0, "TOPIC * AdminOffsets 4"), 0);
    ae_queue(&q, "AdminOffsets", "broker-b", 3);
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK_INT(v, 0);
    CHECK_INT(rmq_earliest_msg_store_time(p, &q, &v), RMQ_OK);
    CHECK_INT(v, -1);
    rmq_message_init(&m, "AdminOffsets", "x", 1);
    for (i = 0; i < 4; i++) CHECK_INT(rmq_send_to_queue(p, &m, &q, &res), RMQ_OK);
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK_INT(v, 4);
    CHECK_INT(rmq_min_offset(p, &q, &v), RMQ_OK);
    CHECK_INT(v, 0);
    CHECK_INT(rmq_earliest_msg_store_time(p, &q, &first_store), RMQ_OK);
    CHECK(first_store > INT64_C(1600000000000));
    CHECK_INT(rmq_search_offset(p, &q, first_store - 100000, &v), RMQ_OK);
    CHECK_INT(v, 0);
    CHECK_INT(mock_cmd(&A.mock, A.out, sizeof A.out, "REQUESTS broker-b"), 0);
    CHECK_HAS(A.out, "code=30");
    CHECK_HAS(A.out, "\"topic\":\"AdminOffsets\",\"queueId\":\"3\",\"bname\":\"broker-b\"");
    CHECK_INT(mock_cmd(&A.mock, NULL, 0, "ERROR broker-b 30 2 1 [PCBUSY_CLEAN_QUEUE]broker busy"), 0);
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "SYSTEM_BUSY (2): [PCBUSY_CLEAN_QUEUE]broker busy");
}

static void test_vip_channel_connects_to_port_minus_2_for_sends_and_admin_calls(void)
{
    rmq_producer *p = ae_start(1);
    rmq_message m;
    rmq_send_result res;
    rmq_queue q;
    int64_t v;
    char vip[80];
    const char *a;
    CHECK(p);
    a = mock_broker_addr(&A.mock, "broker-a");
    CHECK(a);
    snprintf(vip, sizeof vip, "%.*s:%d", (int)(strrchr(a, ':') - a), a, atoi(strrchr(a, ':') + 1) - 2);
    ae_queue(&q, "TopicVip", "broker-a", 0);
    CHECK_INT(mock_cmd(&A.mock, NULL, 0, "TOPIC * TopicVip 2"), 0);
    rmq_message_init(&m, "TopicVip", "x", 1);
    CHECKF(rmq_send_to_queue(p, &m, &q, &res) == RMQ_OK, "%s", rmq_producer_last_error(p));
    CHECK_INT(rmq_max_offset(p, &q, &v), RMQ_OK);
    CHECK_INT(v, 1);
    CHECKF(ae_connected(vip), "a connect to broker-a's VIP port %s", vip);
    CHECKF(ae_connected(a), "the heartbeat's connect to %s", a);
}

#define RUN_AE(fn) do { RUN(fn); ae_finish(); } while (0)

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) test_filter = argv[1];
    RUN_AE(test_create_topic_is_routable_and_takes_sends_on_every_broker);
    RUN_AE(test_offsets_and_store_times_follow_what_was_stored);
    RUN_AE(test_vip_channel_connects_to_port_minus_2_for_sends_and_admin_calls);
    return test_summary();
}
