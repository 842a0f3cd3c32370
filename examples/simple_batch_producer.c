/* simple_batch_producer.c - the seed's SimpleBatchProducer, in C.
 *
 * Three messages of topic BatchTest go to the broker as ONE batch: one
 * request, one queue, consecutive queue offsets. Each result is printed.
 *
 *     simple_batch_producer -n 127.0.0.1:9876
 *     NAMESRV_ADDR="10.0.0.2:9876;10.0.0.3:9876" simple_batch_producer
 *
 * Messages of one batch must share the topic and waitStoreMsgOK and have no
 * delay level. Keep a batch under about 1 MiB: the broker refuses a request
 * body over its maxMessageSize (4 MiB by default).
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/simple_batch_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* -n wins over NAMESRV_ADDR, as the Java client's -n wins over the
 * environment; NULL when neither is given. */
static const char *namesrv_from_args(int argc, char **argv)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "-n") == 0) return argv[i + 1];
    return getenv("NAMESRV_ADDR");
}

int main(int argc, char **argv)
{
    static const char *const keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    static const char *const bodies[3] = { "Hello world 0", "Hello world 1", "Hello world 2" };
    rmq_producer_config cfg;
    rmq_producer *producer;
    rmq_message messages[3];
    rmq_send_result results[3];
    rmq_err err;
    int i;

    rmq_producer_config_init(&cfg);
    cfg.group = "BatchProducerGroupName";
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
    /* Starting needs no network: an unreachable name server shows up at
     * the first send, with the topic and the name servers named. */
    if (rmq_producer_start(producer) != RMQ_OK) {
        fprintf(stderr, "start failed: %s\n", rmq_producer_last_error(producer));
        rmq_producer_destroy(producer);
        return 1;
    }

    for (i = 0; i < 3; i++) {
        rmq_message_init(&messages[i], "BatchTest", bodies[i], strlen(bodies[i]));
        messages[i].tags = "Tag";
        messages[i].keys = keys[i];
    }

    /* One call, one request; on success results[i] describes messages[i]. */
    err = rmq_send_batch(producer, messages, 3, results);
    if (err != RMQ_OK) {
        fprintf(stderr, "batch send failed (%s): %s\n", rmq_strerror(err), rmq_producer_last_error(producer));
        rmq_producer_destroy(producer);
        return 1;
    }
    for (i = 0; i < 3; i++)
        printf("%s msgId=%s offsetMsgId=%s queue=%s/%s/%d queueOffset=%lld\n",
               status_name(results[i].status), results[i].msg_id, results[i].offset_msg_id,
               results[i].queue.topic, results[i].queue.broker_name, results[i].queue.queue_id,
               (long long)results[i].queue_offset);

    /* Unregisters from the brokers, then frees everything. */
    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return 0;
}
