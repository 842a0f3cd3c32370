/* compressed_producer.c - large bodies travel compressed, as Java sends them,
 * and read back as they were written.
 *
 * With a compressor configured, a single message of at least
 * compress_over_bytes (4096) is sent as a zlib stream with the COMPRESSED
 * system flag; every consumer inflates it. Here one such message is sent,
 * then viewed back by its offset message id (rmq_view_message): with the
 * decompressor configured the body comes back as it was sent.
 *
 *     compressed_producer -n 127.0.0.1:9876 [-t Topic]
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/compressed_producer.c -lpthread -lz
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"
#include "examples/zlib_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_BYTES 16384

static const char *arg_of(int argc, char **argv, const char *flag, const char *dflt)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return dflt;
}

/* A body that compresses well, as logs and JSON do. */
static void fill_body(char *body, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) body[i] = "{\"t\":21.5,\"unit\":\"C\"}\n"[i % 23];
}

int main(int argc, char **argv)
{
    static char body[BODY_BYTES];
    static int level = 5;                    /* Java's rocketmq.message.compressLevel */
    rmq_producer_config cfg;
    rmq_producer *producer;
    rmq_message m;
    rmq_send_result res;
    rmq_message_ext back;
    const char *topic = arg_of(argc, argv, "-t", "TopicTest");
    int rc = 0;

    rmq_producer_config_init(&cfg);
    cfg.group = "CompressedProducerGroup";
    cfg.namesrv_addr = arg_of(argc, argv, "-n", getenv("NAMESRV_ADDR"));
    cfg.port = rmq_port_posix();
    cfg.compressor = rmq_zlib_compress;
    cfg.compressor_arg = &level;
    cfg.decompressor = rmq_zlib_decompress;
    if (!cfg.namesrv_addr) {
        fprintf(stderr, "usage: %s -n host:port [-t topic] (or set NAMESRV_ADDR)\n", argv[0]);
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

    fill_body(body, sizeof body);
    rmq_message_init(&m, topic, body, sizeof body);
    m.keys = "compressed-example";
    if (rmq_send(producer, &m, &res) != RMQ_OK) {
        fprintf(stderr, "send failed: %s\n", rmq_producer_last_error(producer));
        rc = 1;
    } else {
        printf("SEND_OK msgId=%s offsetMsgId=%s queue=%s/%d\n", res.msg_id, res.offset_msg_id,
               res.queue.broker_name, res.queue.queue_id);
        if (rmq_view_message(producer, res.offset_msg_id, &back) != RMQ_OK) {
            fprintf(stderr, "view failed: %s\n", rmq_producer_last_error(producer));
            rc = 1;
        } else {
            int same = back.body_len == sizeof body && memcmp(back.body, body, sizeof body) == 0;
            printf("stored sysFlag=0x%x (compressed: %s), body %u bytes, %s\n", (unsigned)back.sys_flag,
                   back.sys_flag & 1 ? "yes" : "no", (unsigned)back.body_len,
                   same ? "as sent" : "NOT as sent");
            if (!same || !(back.sys_flag & 1)) rc = 1;
            rmq_message_ext_free(producer, &back);
        }
    }
    rmq_producer_shutdown(producer);
    rmq_producer_destroy(producer);
    return rc;
}
