/* The producer built with MCU-sized bounds (see the Makefile's flags for
 * this program), on the simulated port: reaching a bound delays or refuses
 * clearly, it never burns retries or loses a send. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_sim.h"
#include "rmq_test.h"
#include "sim_cluster.h"

/* More async sends than RMQ_MAX_INFLIGHT: the rest wait for a free slot and
 * are sent as answers come back, one attempt each. */
static void test_sends_past_the_inflight_bound_wait_for_a_slot_instead_of_failing(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "bounds");
    rmq_sim_faults slow;
    rmq_message m;
    rmq_send_result res;
    cb_log l;
    int i;
    CHECK(RMQ_MAX_INFLIGHT == 8);
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    memset(&slow, 0, sizeof slow);
    slow.latency_ms = 50;
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &slow);
    for (i = 0; i < 16; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);   /* twice the slots */
    CHECK_INT(rmq_producer_flush(p, 10000), RMQ_OK);
    CHECK_INT(l.calls, 16);
    CHECK_INT(l.ok, 16);
    CHECK_INT(simc_stored(c, l.msg_id), 1);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 17);   /* no retry was spent */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A send still waiting for a slot when its deadline comes ends then, once. */
static void test_a_send_waiting_for_a_slot_ends_at_its_deadline(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "bounds");
    rmq_message m;
    rmq_send_result res;
    cb_log l;
    uint32_t t0;
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "b", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    c->s[simc_index(c, "broker-a")].silent = 1;                  /* slots never free before deadlines */
    t0 = rmq_sim_now(c->sim);
    for (i = 0; i < 12; i++) CHECK_INT(rmq_send_async_timeout(p, &m, count_cb, &l, 1000), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 10000), RMQ_OK);
    CHECK_INT(rmq_sim_now(c->sim) - t0, 1000);                    /* all at the deadline, none later */
    CHECK_INT(l.calls, 12);
    CHECK_INT(l.fail, 12);
    CHECK_INT(l.last, RMQ_ERR_TIMEOUT);
    CHECK_HAS(l.reason, "RMQ_MAX_INFLIGHT");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* rmq_producer_config_init gives max_pending = RMQ_MAX_PENDING: the next
 * async send is refused at once, not queued without bound. */
static void test_the_pending_bound_of_an_mcu_build_refuses_at_once(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "bounds");
    rmq_message m;
    cb_log l;
    int i;
    CHECK(RMQ_MAX_PENDING == 16);
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "b", 1);
    for (i = 0; i < 16; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_ERR_BUSY);
    CHECK_HAS(rmq_producer_last_error(p), "max_pending");
    CHECK_INT(rmq_producer_flush(p, 10000), RMQ_OK);
    CHECK_INT(l.calls, 16);                                       /* none for the refused one */
    CHECK_INT(l.ok, 16);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A route larger than RMQ_MAX_QUEUES is refused naming the bound. */
static void test_a_route_over_the_queue_bound_is_refused_naming_it(void)
{
    simc *c = simc_create(1, 3, 1000);
    rmq_producer *p = simc_producer(c, "bounds");
    rmq_queue qs[8];
    size_t n;
    simc_add_topic(c, "Wide", 16, 6);                             /* 3 brokers x 16 > 32 */
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK(rmq_fetch_publish_queues(p, "Wide", qs, 8, &n) != RMQ_OK);
    CHECK_HAS(rmq_producer_last_error(p), "RMQ_MAX_QUEUES");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    RUN(test_sends_past_the_inflight_bound_wait_for_a_slot_instead_of_failing);
    RUN(test_a_send_waiting_for_a_slot_ends_at_its_deadline);
    RUN(test_the_pending_bound_of_an_mcu_build_refuses_at_once);
    RUN(test_a_route_over_the_queue_bound_is_refused_naming_it);
    return test_summary();
}
