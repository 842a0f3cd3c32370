/* async_producer.c - many sends in flight at once, one callback each.
 *
 * rmq_send_async() never blocks and never runs the event loop: it queues
 * the message and returns. The callbacks run later, on this thread, inside
 * rmq_producer_poll() or rmq_producer_flush(). Every accepted send ends in
 * exactly one callback: success, broker error, timeout or shutdown.
 *
 *     async_producer -n 127.0.0.1:9876
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/async_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 100
#define FLUSH_TIMEOUT_MS 10000u

typedef struct tally {
    int ok;
    int failed;
} tally;

/* res is valid only during the call: copy what you keep. */
static void on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    tally *t = (tally *)user;
    char why[RMQ_REASON_MAX_LEN + 1];
    if (err != RMQ_OK) {
        t->failed++;
        fprintf(stderr, "send failed (%s): %s\n", rmq_strerror(err), rmq_result_reason(res, why, sizeof why));
        return;
    }
    t->ok++;
    printf("ok msgId=%s queue=%s/%d queueOffset=%lld\n", res->msg_id, res->queue.broker_name,
           res->queue.queue_id, (long long)res->queue_offset);
}

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
    rmq_producer_config cfg;
    rmq_producer *producer;
    tally t = { 0, 0 };
    int i, refused = 0;
    rmq_err err;

    rmq_producer_config_init(&cfg);
    cfg.group = "AsyncProducerGroup";
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

    for (i = 0; i < MESSAGES; i++) {
        char body[64];
        rmq_message m;
        int len = snprintf(body, sizeof body, "Hello async %d", i);
        rmq_message_init(&m, "TopicTest", body, (size_t)len);
        m.tags = "TagB";
        /* The body is copied before the call returns: reusing body is fine. */
        err = rmq_send_async(producer, &m, on_sent, &t);
        if (err == RMQ_ERR_BUSY) {
            /* Back-pressure: more than cfg.max_pending sends are waiting.
             * Let some complete, then try the same message again. */
            rmq_producer_poll(producer, 100);
            i--;
            continue;
        }
        if (err != RMQ_OK) {
            /* Refused at once (no callback will come for this one). */
            fprintf(stderr, "message %d refused: %s\n", i, rmq_producer_last_error(producer));
            refused++;
        }
    }

    /* Run the event loop until every accepted send has had its callback. */
    err = rmq_producer_flush(producer, FLUSH_TIMEOUT_MS);
    if (err != RMQ_OK) fprintf(stderr, "flush: %s\n", rmq_producer_last_error(producer));

    printf("%d callbacks ok, %d failed, %d refused\n", t.ok, t.failed, refused);
    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return (err == RMQ_OK && t.failed == 0 && refused == 0) ? 0 : 1;
}
