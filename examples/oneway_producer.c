/* oneway_producer.c - fire and forget: no answer, no result.
 *
 * A oneway send is written to the broker and never acknowledged, like
 * Java's sendOneway(): the fastest path, for data that may be lost (logs,
 * metrics). The call returns at once; the bytes leave inside the event
 * loop, so flush before shutting down or they may never be written.
 *
 *     oneway_producer -n 127.0.0.1:9876
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/oneway_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 10
#define FLUSH_TIMEOUT_MS 5000u

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
    rmq_stats st;
    int i, refused = 0;
    rmq_err err;

    rmq_producer_config_init(&cfg);
    cfg.group = "OnewayProducerGroup";
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
        int len = snprintf(body, sizeof body, "Hello oneway %d", i);
        rmq_message_init(&m, "TopicTest", body, (size_t)len);
        m.tags = "TagC";
        err = rmq_send_oneway(producer, &m);
        if (err == RMQ_ERR_BUSY) {           /* too many waiting to be written */
            rmq_producer_poll(producer, 100);
            i--;
            continue;
        }
        if (err != RMQ_OK) {
            fprintf(stderr, "message %d refused: %s\n", i, rmq_producer_last_error(producer));
            refused++;
        }
    }

    /* Returns once every oneway message is done: written to its broker, or
     * failed before that (no route, connection refused). The broker never
     * answers, so "done" is all flush can wait for; a oneway send has no
     * callback, so flush returns the error of the first one that failed. */
    err = rmq_producer_flush(producer, FLUSH_TIMEOUT_MS);
    if (err != RMQ_OK) fprintf(stderr, "flush: %s\n", rmq_producer_last_error(producer));

    /* The counters say how many were written and how many failed. */
    rmq_producer_stats(producer, &st);
    printf("%u oneway messages written, %u failed, %d refused\n", (unsigned)st.sends_ok,
           (unsigned)st.sends_failed, refused);

    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return (err == RMQ_OK && refused == 0 && st.sends_failed == 0) ? 0 : 1;
}
