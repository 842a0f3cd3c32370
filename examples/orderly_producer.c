/* orderly_producer.c - keep the steps of one order in order.
 *
 * A RocketMQ queue is FIFO, a topic is not: its messages spread over many
 * queues. To keep the steps of one order in sequence, send them all to the
 * same queue, picked from the order id. rmq_select_by_hash picks exactly
 * the queue Java's SelectMessageQueueByHash picks for the same string, so
 * C and Java producers of one order agree.
 *
 *     orderly_producer -n 127.0.0.1:9876
 *
 * The orders below interleave, as they would in a shop; each order's steps
 * still land on one queue, in step order. (If the route changes between two
 * steps, e.g. a broker leaves, an order moves: that is true in Java too.)
 *
 * Create an orderly topic before its first message, on every broker
 * (`rmq_send create-topic OrderTopic 4`, or mqadmin updateTopic). A topic
 * the broker creates on first use changes its route under the producer:
 * the first sends pick from the default topic's queues on every broker, the
 * later ones from the queues of the one broker that created it, so an order
 * started before the change continues on another queue.
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/orderly_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORDERS 4
#define STEPS 4

/* -n wins over NAMESRV_ADDR; NULL when neither is given. */
static const char *namesrv_from_args(int argc, char **argv)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "-n") == 0) return argv[i + 1];
    return getenv("NAMESRV_ADDR");
}

int main(int argc, char **argv)
{
    /* The selector's argument is the order id, a NUL-terminated string. */
    static char order_ids[ORDERS][16] = { "ORDER-1001", "ORDER-1002", "ORDER-1003", "ORDER-1004" };
    static const char *const steps[STEPS] = { "created", "paid", "shipped", "delivered" };
    rmq_queue first[ORDERS];            /* where each order's first step went */
    rmq_producer_config cfg;
    rmq_producer *producer;
    int s, o, failed = 0, moved = 0;

    rmq_producer_config_init(&cfg);
    cfg.group = "OrderlyProducerGroup";
    cfg.namesrv_addr = namesrv_from_args(argc, argv);
    cfg.port = rmq_port_posix();
    if (!cfg.namesrv_addr) {
        fprintf(stderr, "usage: %s -n host:port[;host:port] (or set NAMESRV_ADDR)\n", argv[0]);
        return 2;
    }
    if (rmq_producer_create(&cfg, &producer) != RMQ_OK) {
        fprintf(stderr, "cannot create the producer (out of memory?)\n");
        return 1;
    }
    if (rmq_producer_start(producer) != RMQ_OK) {
        fprintf(stderr, "start failed: %s\n", rmq_producer_last_error(producer));
        rmq_producer_destroy(producer);
        return 1;
    }

    for (s = 0; s < STEPS && !failed; s++) {
        for (o = 0; o < ORDERS && !failed; o++) {
            char body[64];
            rmq_message m;
            rmq_send_result res;
            int len = snprintf(body, sizeof body, "%s %s", order_ids[o], steps[s]);
            rmq_message_init(&m, "OrderTopic", body, (size_t)len);
            m.tags = steps[s];
            m.keys = order_ids[o];
            /* A send with a selector is not retried on another queue: that
             * would break the order. A failed step stops the example. */
            if (rmq_send_select(producer, &m, rmq_select_by_hash, order_ids[o], &res) != RMQ_OK) {
                fprintf(stderr, "%s: step %s failed: %s\n", order_ids[o], steps[s], rmq_producer_last_error(producer));
                failed = 1;
                break;
            }
            printf("%s %-9s -> %s queue %d offset %lld\n", order_ids[o], steps[s], res.queue.broker_name,
                   res.queue.queue_id, (long long)res.queue_offset);
            if (s == 0) {
                first[o] = res.queue;
            } else if (strcmp(first[o].broker_name, res.queue.broker_name) != 0 ||
                       first[o].queue_id != res.queue.queue_id) {
                fprintf(stderr, "%s moved from %s/%d to %s/%d\n", order_ids[o], first[o].broker_name,
                        first[o].queue_id, res.queue.broker_name, res.queue.queue_id);
                moved = 1;
            }
        }
    }
    for (o = 0; o < ORDERS && !failed && !moved; o++)
        printf("order %s: all %d steps on %s queue %d\n", order_ids[o], STEPS, first[o].broker_name, first[o].queue_id);

    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return failed || moved ? 1 : 0;
}
