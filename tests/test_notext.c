/* The producer built with RMQ_NO_ERROR_TEXT (defined below), on the
 * simulated port: the texts of reasons leave the
 * image, nothing else changes. Every refusal still returns its rmq_err and
 * records its reason code (read as "reason <n>"), a broker's answer still
 * carries its code and remark, and sends still land in the store. */
#define RMQ_NO_ERROR_TEXT
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_sim.h"
#include "rmq_test.h"
#include "sim_cluster.h"

/* "reason <n>": what a text-less build says for a code. */
static const char *reason_of(int code)
{
    static char text[32];
    snprintf(text, sizeof text, "reason %d", code);
    return text;
}

static void test_an_invalid_config_is_refused_with_its_code_and_no_text(void)
{
    rmq_producer_config cfg;
    char why[64];
    rmq_producer_config_init(&cfg);
    cfg.group = "bad group!";
    memset(why, 'x', sizeof why);
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_STR(why, reason_of(RMQ_R_CONFIG_GROUP_ILLEGAL));
    cfg.group = "pg";
    cfg.port = NULL;
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_STR(why, reason_of(RMQ_R_CONFIG_PORT_MISSING));
    CHECK_STR(rmq_strerror(RMQ_ERR_CONFIG), "error (texts cut by RMQ_NO_ERROR_TEXT)");
    CHECK_STR(rmq_response_code_name(RMQ_CODE_SYSTEM_BUSY), "");
}

static void test_an_invalid_message_is_refused_with_its_code_and_no_text(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "notext");
    rmq_message m;
    rmq_send_result res;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "", 0);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_INT(rmq_producer_last_error_code(p, 0), RMQ_R_BODY_EMPTY);
    CHECK_STR(rmq_producer_last_error(p), reason_of(RMQ_R_BODY_EMPTY));
    rmq_message_init(&m, "Topic Test", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_INT(rmq_producer_last_error_code(p, 0), RMQ_R_TOPIC_ILLEGAL);
    CHECK_STR(rmq_producer_last_error(p), reason_of(RMQ_R_TOPIC_ILLEGAL));
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_send_is_stored_and_its_result_complete(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "notext");
    rmq_message m;
    rmq_send_result res;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "hello", 5);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(res.status, RMQ_SEND_OK);
    CHECK_INT(strlen(res.msg_id), 32);
    CHECK_INT(simc_stored(c, res.msg_id), 1);
    CHECK_INT(strlen(res.offset_msg_id), 32);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_broker_error_keeps_its_code_and_remark(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "notext");
    rmq_message m;
    rmq_send_result res;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_BUSY, 1); /* not retried by Java */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_BROKER);
    CHECK_INT(res.broker_code, RMQ_CODE_SYSTEM_BUSY);
    /* the cluster's remark, "injected <code name>", whole: the name is the
     * library's and empty in this build, the remark is the broker's */
    CHECK_STR(res.remark, "injected ");
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_BROKER_ANSWER);
    CHECK_INT(rmq_result_reason_code(&res, 1), RMQ_R_NONE);     /* only the outermost is kept */
    CHECK_STR(RES_REASON(res), reason_of(RMQ_R_BROKER_ANSWER));
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A reason holds its codes alone: no room for arguments a text-less build
 * never records. */
static void test_a_reason_is_its_codes_alone(void)
{
    rmq_reason why;
    CHECK_INT(sizeof(rmq_reason), RMQ_REASON_DEPTH);
    CHECK_INT(rmq__route_refuse(&why, RMQ_R_ROUTE_MAX_BROKERS), -1);
    CHECK_INT(why.code[0], RMQ_R_ROUTE_REFUSED);
}

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    RUN(test_an_invalid_config_is_refused_with_its_code_and_no_text);
    RUN(test_an_invalid_message_is_refused_with_its_code_and_no_text);
    RUN(test_a_send_is_stored_and_its_result_complete);
    RUN(test_a_broker_error_keeps_its_code_and_remark);
    RUN(test_a_reason_is_its_codes_alone);
    return test_summary();
}
