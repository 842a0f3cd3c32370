/* End-to-end tests of request-reply: the producer over loopback sockets
 * against the mock cluster (tests/mockbroker), whose brokers act for the
 * responder (RESPOND): each stored request is answered by a reply pushed
 * with PUSH_REPLY_MESSAGE_TO_CLIENT over the connection this client
 * heartbeated on, as a 4.9.8 broker pushes a consumer's reply. What the
 * mock pushed and how the client answered is read back (REPLIES).
 *
 *     build/san/test_e2e_request [name-filter]     (from the repository root) */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"

static struct {
    mock_cluster mock;
    int up;
    rmq_producer *p;
    char out[1 << 16];
} Q;

static rmq_producer *q_start(const char *args)
{
    rmq_producer_config cfg;
    char all[256];
    snprintf(all, sizeof all, "--quiet %s", args);
    if (mock_start(&Q.mock, all) != 0) return NULL;
    Q.up = 1;
    rmq_producer_config_init(&cfg);
    cfg.group = "ReqE2eGroup";
    cfg.namesrv_addr = Q.mock.namesrv;
    cfg.port = rmq_port_posix();
    if (rmq_producer_create(&cfg, &Q.p) != RMQ_OK) return NULL;
    if (rmq_producer_start(Q.p) != RMQ_OK) return NULL;
    return Q.p;
}

static void q_finish(void)
{
    if (Q.p) rmq_producer_destroy(Q.p);
    Q.p = NULL;
    if (Q.up) mock_stop(&Q.mock);
    Q.up = 0;
}

typedef struct q_log {
    int calls;
    rmq_err err;
    char body[128];
} q_log;

static void q_cb(rmq_err err, const rmq_message_ext *reply, void *user)
{
    q_log *l = (q_log *)user;
    l->calls++;
    l->err = err;
    if (reply) snprintf(l->body, sizeof l->body, "%.*s", (int)reply->body_len, (const char *)reply->body);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (; (text = strstr(text, needle)) != NULL; text++) n++;
    return n;
}

/* REPLIES once the mock has read n answers to its pushes (or after 3 s):
 * an answer is written after the reply's callback, and the mock reads it
 * on another connection than the control one, so it may come second. */
static int q_replies_with_answers(int n)
{
    long t0 = mock_now_ms();
    for (;;) {
        if (mock_cmd(&Q.mock, Q.out, sizeof Q.out, "REPLIES") != 0) return -1;
        if (count_of(Q.out, "ANSWER server=") >= n || mock_now_ms() - t0 > 3000) return 0;
        rmq_producer_poll(Q.p, 20);
    }
}

static void q_queue(rmq_queue *q, const char *broker, int id)
{
    memset(q, 0, sizeof *q);
    snprintf(q->topic, sizeof q->topic, "ReqTopic");
    snprintf(q->broker_name, sizeof q->broker_name, "%s", broker);
    q->queue_id = id;
}

static void test_e2e_request_sync_and_async_on_both_brokers_get_the_pushed_reply(void)
{
    rmq_producer *p = q_start("--brokers 2 --topic ReqTopic");
    rmq_message m;
    rmq_message_ext reply;
    rmq_queue q;
    q_log l;
    rmq_stats st;
    CHECK(p != NULL);
    CHECK(mock_cmd(&Q.mock, Q.out, sizeof Q.out, "RESPOND * on") == 0);
    rmq_message_init(&m, "ReqTopic", "ping", 4);
    CHECKF(rmq_request(p, &m, 3000, &reply) == RMQ_OK, "%s", rmq_producer_last_error(p));
    CHECK_STR((const char *)reply.body, "reply:ping");
    CHECK_STR(reply.topic, "DefaultCluster_REPLY_TOPIC");
    rmq_message_ext_free(p, &reply);
    q_queue(&q, "broker-a", 1);
    rmq_message_init(&m, "ReqTopic", "to-a", 4);
    CHECKF(rmq_request_to_queue(p, &m, &q, 3000, &reply) == RMQ_OK, "%s", rmq_producer_last_error(p));
    CHECK_STR((const char *)reply.body, "reply:to-a");
    rmq_message_ext_free(p, &reply);
    q_queue(&q, "broker-b", 2);
    rmq_message_init(&m, "ReqTopic", "to-b", 4);
    memset(&l, 0, sizeof l);
    CHECK(rmq_request_to_queue_async(p, &m, &q, 3000, q_cb, &l) == RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 3000), RMQ_OK);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.err, RMQ_OK);
    CHECK_STR(l.body, "reply:to-b");
    CHECK(q_replies_with_answers(3) == 0);
    CHECK_INT(count_of(Q.out, "PUSH server="), 3);
    CHECK_INT(count_of(Q.out, "ANSWER server="), 3);
    CHECK(count_of(Q.out, "ANSWER server=broker-a") >= 1 && count_of(Q.out, "ANSWER server=broker-b") >= 1);
    CHECK_INT(count_of(Q.out, " code=0 flag=1"), 3);       /* each push answered SUCCESS, as a response */
    CHECK(strstr(Q.out, "remark=") == NULL);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 0);
    CHECK_INT(st.late_replies, 0);
}

static void test_e2e_request_a_reply_after_the_deadline_is_answered_and_counted(void)
{
    rmq_producer *p = q_start("--brokers 1 --topic ReqTopic");
    rmq_message m;
    rmq_message_ext reply;
    rmq_stats st;
    long t0;
    CHECK(p != NULL);
    CHECK(mock_cmd(&Q.mock, Q.out, sizeof Q.out, "RESPOND broker-a on 800") == 0);
    rmq_message_init(&m, "ReqTopic", "slow", 4);
    t0 = mock_now_ms();
    CHECK_INT(rmq_request(p, &m, 400, &reply), RMQ_ERR_TIMEOUT);
    CHECKF(mock_now_ms() - t0 < 790, "took %ld ms", mock_now_ms() - t0);
    for (t0 = mock_now_ms(); mock_now_ms() - t0 < 3000;) {
        rmq_producer_poll(p, 100);
        rmq_producer_stats(p, &st);
        if (st.late_replies) break;
    }
    CHECK_INT(st.late_replies, 1);
    CHECK_INT(st.requests_waiting, 0);
    CHECK(q_replies_with_answers(1) == 0);                /* the answer leaves */
    CHECK_HAS(Q.out, "ANSWER server=broker-a");
    CHECK_HAS(Q.out, "code=0 flag=1");
}

#define RUN_Q(fn) do { RUN(fn); q_finish(); } while (0)

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) test_filter = argv[1];
    RUN_Q(test_e2e_request_sync_and_async_on_both_brokers_get_the_pushed_reply);
    RUN_Q(test_e2e_request_a_reply_after_the_deadline_is_answered_and_counted);
    return test_summary();
}
