/* End-to-end tests of viewing and querying messages: the producer over
 * loopback sockets (the POSIX port) against the mock cluster, which
 * answers VIEW_MESSAGE_BY_ID and QUERY_MESSAGE as a 4.9.8 broker does
 * (stored records, JSON headers whatever the request used,
 * QUERY_NOT_FOUND). Each test starts and stops its own mock.
 *
 *     build/san/test_e2e_view [name-filter]
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

#include <time.h>

#define EV_SENDS 6                   /* past broker-a's 4 queues: both brokers */

static struct {
    mock_cluster mock;
    int mock_up;
    rmq_producer *p;
} EV;

static rmq_producer *ev_start(rmq_serialize ser)
{
    rmq_producer_config cfg;
    rmq_producer *p;
    if (mock_start(&EV.mock, "--quiet --brokers 2 --topic ViewTopic") != 0) return NULL;
    EV.mock_up = 1;
    rmq_producer_config_init(&cfg);
    cfg.group = "e2e_view";
    cfg.namesrv_addr = EV.mock.namesrv;
    cfg.port = rmq_port_posix();
    cfg.serialize = ser;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) { rmq_producer_destroy(p); return NULL; }
    EV.p = p;
    return p;
}

static int ev_finish(void)
{
    int rc = 0;
    if (EV.p) { rmq_producer_destroy(EV.p); EV.p = NULL; }
    if (EV.mock_up) { rc = mock_stop(&EV.mock); EV.mock_up = 0; }
    return rc;
}

static unsigned char ev_body[256];
static const rmq_property ev_props[1] = { { "color", "blue" } };

/* EV_SENDS messages with their own key and a shared one, on both brokers
 * (the default selection alternates them). */
static int ev_send(rmq_producer *p, rmq_send_result *res, char keys[][48])
{
    rmq_message m;
    int i;
    for (i = 0; i < 256; i++) ev_body[i] = (unsigned char)i;
    for (i = 0; i < EV_SENDS; i++) {
        snprintf(keys[i], 48, "own%d shared", i);
        rmq_message_init(&m, "ViewTopic", ev_body, sizeof ev_body);
        m.tags = "TagV";
        m.keys = keys[i];
        m.properties = ev_props;
        m.nproperties = 1;
        if (rmq_send(p, &m, &res[i]) != RMQ_OK) return -1;
    }
    return 0;
}

static void ev_check_same(const rmq_message_ext *e, const rmq_send_result *res, const char *keys)
{
    CHECK_STR(e->topic, "ViewTopic");
    CHECK_STR(e->tags, "TagV");
    CHECK_STR(e->keys, keys);
    CHECK_STR(e->msg_id, res->msg_id);
    CHECK_STR(e->offset_msg_id, res->offset_msg_id);
    CHECK_STR(e->queue.broker_name, res->queue.broker_name);
    CHECK_INT(e->queue.queue_id, res->queue.queue_id);
    CHECK_INT(e->queue_offset, res->queue_offset);
    CHECK_INT(e->body_len, sizeof ev_body);
    CHECK(memcmp(e->body, ev_body, sizeof ev_body) == 0);
}

static void ev_view_and_query(rmq_serialize ser)
{
    rmq_producer *p;
    rmq_send_result res[EV_SENDS];
    char keys[EV_SENDS][48], key[24];
    rmq_message_ext e;
    rmq_query_result r;
    int i, on_b = 0;
    CHECK((p = ev_start(ser)) != NULL);
    CHECK(ev_send(p, res, keys) == 0);
    for (i = 0; i < EV_SENDS; i++) {
        on_b += strcmp(res[i].queue.broker_name, "broker-b") == 0;
        CHECKF(rmq_view_message(p, res[i].offset_msg_id, &e) == RMQ_OK, "view: %s", rmq_producer_last_error(p));
        STEP(ev_check_same(&e, &res[i], keys[i]));
        rmq_message_ext_free(p, &e);
        CHECKF(rmq_view_message_by_id(p, "ViewTopic", res[i].msg_id, &e) == RMQ_OK, "by id: %s", rmq_producer_last_error(p));
        STEP(ev_check_same(&e, &res[i], keys[i]));
        rmq_message_ext_free(p, &e);
        snprintf(key, sizeof key, "own%d", i);
        CHECKF(rmq_query_message(p, "ViewTopic", key, 32, 0, INT64_MAX, &r) == RMQ_OK, "query: %s", rmq_producer_last_error(p));
        CHECK_INT(r.n, 1);
        STEP(ev_check_same(&r.msgs[0], &res[i], keys[i]));
        CHECK(r.index_last_update_ms > 0);
        rmq_query_result_free(p, &r);
    }
    CHECK(on_b > 0 && on_b < EV_SENDS);                 /* both brokers hold some */
    CHECKF(rmq_query_message(p, "ViewTopic", "shared", 32, 0, INT64_MAX, &r) == RMQ_OK, "shared: %s", rmq_producer_last_error(p));
    CHECK_INT(r.n, EV_SENDS);
    rmq_query_result_free(p, &r);
    CHECK_INT(rmq_query_message(p, "ViewTopic", "shared", 2, 0, INT64_MAX, &r), RMQ_OK);
    CHECK(r.n == 2);                                     /* max_num bounds what is kept */
    rmq_query_result_free(p, &r);
    CHECK_INT(rmq_query_message(p, "ViewTopic", "never-sent", 32, 0, INT64_MAX, &r), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "QUERY_NOT_FOUND");
    /* a time window before the sends finds nothing either */
    CHECK_INT(rmq_query_message(p, "ViewTopic", "shared", 32, 0, 1000, &r), RMQ_ERR_BROKER);
    snprintf(key, sizeof key, "%.16s", res[0].offset_msg_id);     /* its host, an offset never written */
    snprintf(keys[0], sizeof keys[0], "%s00000000DEADBEEF", key);
    CHECK_INT(rmq_view_message(p, keys[0], &e), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "can not find message by the offset");
    CHECK_INT(ev_finish(), 0);
}

static void test_view_query_and_view_by_id_read_back_what_was_sent_with_json_headers(void)
{
    ev_view_and_query(RMQ_SERIALIZE_JSON);
}

static void test_view_query_and_view_by_id_read_back_what_was_sent_with_binary_headers(void)
{
    ev_view_and_query(RMQ_SERIALIZE_ROCKETMQ);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1) test_filter = argv[1];
    RUN(test_view_query_and_view_by_id_read_back_what_was_sent_with_json_headers);
    ev_finish();
    RUN(test_view_query_and_view_by_id_read_back_what_was_sent_with_binary_headers);
    ev_finish();
    return test_summary();
}
