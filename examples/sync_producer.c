/* sync_producer.c - send messages one by one and wait for each answer.
 *
 * The simplest reliable way to send: rmq_send() returns once the broker
 * has stored the message (or the send failed after its retries), so the
 * result in hand says which queue and offset it got.
 *
 *     sync_producer -n 127.0.0.1:9876
 *     NAMESRV_ADDR=127.0.0.1:9876 sync_producer
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/sync_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGES 10

static const char *status_name(rmq_send_status s)
{
    switch (s) {
    case RMQ_SEND_OK: return "SEND_OK";
    case RMQ_FLUSH_DISK_TIMEOUT: return "FLUSH_DISK_TIMEOUT";
    case RMQ_FLUSH_SLAVE_TIMEOUT: return "FLUSH_SLAVE_TIMEOUT";
    case RMQ_SLAVE_NOT_AVAILABLE: return "SLAVE_NOT_AVAILABLE";
    }
    return "UNKNOWN";
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
    /* User properties travel with the message; consumers can filter on
     * them with SQL92 selectors. Names the system uses (KEYS, TAGS, ...)
     * are refused. */
    static const rmq_property props[2] = { { "source", "sync_producer" }, { "region", "eu-west" } };
    rmq_producer_config cfg;
    rmq_producer *producer;
    int i, failed = 0;

    rmq_producer_config_init(&cfg);
    cfg.group = "SyncProducerGroup";
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
        char body[64], keys[32];
        rmq_message m;
        rmq_send_result res;
        rmq_err err;
        int len = snprintf(body, sizeof body, "Hello RocketMQ %d", i);
        snprintf(keys, sizeof keys, "KEY%d", i);
        /* The message only points at body, keys and props: they are copied
         * into the request before rmq_send() returns, so stack memory is fine. */
        rmq_message_init(&m, "TopicTest", body, (size_t)len);
        m.tags = "TagA";
        m.keys = keys;
        m.properties = props;
        m.nproperties = 2;

        err = rmq_send(producer, &m, &res);
        if (err != RMQ_OK) {
            /* rmq_strerror() names the class; last_error() says what happened,
             * e.g. which broker answered which code. */
            fprintf(stderr, "message %d failed (%s): %s\n", i, rmq_strerror(err), rmq_producer_last_error(producer));
            failed++;
            continue;
        }
        printf("%s msgId=%s offsetMsgId=%s queue=%s/%d queueOffset=%lld\n", status_name(res.status), res.msg_id,
               res.offset_msg_id, res.queue.broker_name, res.queue.queue_id, (long long)res.queue_offset);
    }

    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return failed ? 1 : 0;
}
