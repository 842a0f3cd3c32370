/* bench_instr.c - one send path, driven for callgrind: the client's
 * instructions per message (make bench-instr, tests/bench/instr.sh).
 *
 *     valgrind --tool=callgrind --collect-atstart=no bench_instr MODE
 *
 * MODE: sync | async (window 256) | batch (16 messages) | batch128 |
 * oneway, with "-bin" for binary headers (sync-bin). Bodies are 128 bytes. Only the measured loop is collected (CALLGRIND_TOGGLE_COLLECT
 * around it): start-up, route, connections and warm-up are not in the
 * count. The mock is started with fork + exec, so it runs natively. The
 * last line says how many messages the loop sent:
 *
 *     BENCH_INSTR mode=sync msgs=2000 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#define BENCH_PLAIN_MALLOC              /* count the library, not the bench's allocator */
#include "bench_util.h"
#include "../mockbroker/mock_client.h"

#include <valgrind/callgrind.h>

#ifndef INSTR_SYNC_MSGS
#define INSTR_SYNC_MSGS 2000
#endif
#ifndef INSTR_ASYNC_MSGS
#define INSTR_ASYNC_MSGS 8000
#endif
#define INSTR_ASYNC_WINDOW 256
#define INSTR_BATCH_MAX 128
#ifndef INSTR_BATCH_MSGS
#define INSTR_BATCH_MSGS 4096
#endif
#ifndef INSTR_ONEWAY_MSGS
#define INSTR_ONEWAY_MSGS 8000
#endif
#define INSTR_WARMUP 200

static unsigned char instr_body[128];
static int instr_inflight;
static unsigned long instr_failed;

static void instr_on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)res;
    (void)user;
    instr_inflight--;
    if (err != RMQ_OK)
        instr_failed++;
}

static int instr_sync(rmq_producer *p, const rmq_message *m)
{
    rmq_send_result res;
    int i;
    for (i = 0; i < INSTR_SYNC_MSGS; i++)
        if (rmq_send(p, m, &res) != RMQ_OK)
            return -1;
    return INSTR_SYNC_MSGS;
}

static int instr_async(rmq_producer *p, const rmq_message *m)
{
    int sent = 0;
    while (sent < INSTR_ASYNC_MSGS) {
        while (instr_inflight < INSTR_ASYNC_WINDOW && sent < INSTR_ASYNC_MSGS) {
            rmq_err err = rmq_send_async(p, m, instr_on_sent, NULL);
            if (err == RMQ_ERR_BUSY)
                break;
            if (err != RMQ_OK)
                return -1;
            instr_inflight++;
            sent++;
        }
        rmq_producer_poll(p, 100);
    }
    return rmq_producer_flush(p, 30000) == RMQ_OK ? sent : -1;
}

/* size messages per batch, as many batches as make INSTR_BATCH_MSGS. */
static int instr_batch(rmq_producer *p, const rmq_message *m, int size)
{
    static rmq_send_result res[INSTR_BATCH_MAX];
    rmq_message msgs[INSTR_BATCH_MAX];
    int i;
    for (i = 0; i < size; i++)
        msgs[i] = *m;
    for (i = 0; i < INSTR_BATCH_MSGS / size; i++)
        if (rmq_send_batch(p, msgs, (size_t)size, res) != RMQ_OK)
            return -1;
    return INSTR_BATCH_MSGS / size * size;
}

static int instr_oneway(rmq_producer *p, const rmq_message *m)
{
    int sent = 0;
    while (sent < INSTR_ONEWAY_MSGS) {
        rmq_err err = rmq_send_oneway(p, m);
        if (err == RMQ_ERR_BUSY) {
            rmq_producer_poll(p, 100);
            continue;
        }
        if (err != RMQ_OK)
            return -1;
        sent++;
    }
    return rmq_producer_flush(p, 30000) == RMQ_OK ? sent : -1;
}

static int instr_run(const char *mode, rmq_producer *p, const rmq_message *m)
{
    if (strncmp(mode, "sync", 4) == 0)
        return instr_sync(p, m);
    if (strncmp(mode, "async", 5) == 0)
        return instr_async(p, m);
    if (strncmp(mode, "batch128", 8) == 0)
        return instr_batch(p, m, 128);
    if (strncmp(mode, "batch", 5) == 0)
        return instr_batch(p, m, 16);
    if (strncmp(mode, "oneway", 6) == 0)
        return instr_oneway(p, m);
    return -2;
}

static rmq_producer *instr_producer(const char *namesrv, int binary)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_producer_config_init(&cfg);
    cfg.group = "bench_instr";
    cfg.namesrv_addr = namesrv;
    cfg.port = bench_port(0);
    cfg.serialize = binary ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK)
        return NULL;
    if (rmq_producer_start(p) != RMQ_OK) {
        rmq_producer_destroy(p);
        return NULL;
    }
    return p;
}

/* Route, connection, heartbeat, and the allocator's free lists warm; the
 * path being measured runs once too, so its buffers exist. */
static int instr_warm_up(const char *mode, rmq_producer *p, const rmq_message *m)
{
    rmq_send_result res;
    int i;
    for (i = 0; i < INSTR_WARMUP; i++)
        if (rmq_send(p, m, &res) != RMQ_OK)
            return -1;
    return instr_run(mode, p, m) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "sync";
    const char *topic = getenv("BENCH_TOPIC") && *getenv("BENCH_TOPIC") ? getenv("BENCH_TOPIC") : "BenchTopic";
    const char *namesrv = getenv("NAMESRV_ADDR");
    mock_cluster mock;
    rmq_producer *p;
    rmq_message m;
    int have_mock = 0, n = -1;
    memset(instr_body, 'b', sizeof instr_body);
    if (!namesrv || !*namesrv) {
        char args[256];
        snprintf(args, sizeof args, "--brokers 1 --queues 4 --topic %s --no-request-log --quiet", topic);
        if (mock_start(&mock, args) != 0)
            return 1;
        have_mock = 1;
        namesrv = mock.namesrv;
    }
    p = instr_producer(namesrv, strstr(mode, "-bin") != NULL);
    rmq_message_init(&m, topic, instr_body, sizeof instr_body);
    m.tags = "bench";
    if (p && instr_warm_up(mode, p, &m) == 0) {
        CALLGRIND_TOGGLE_COLLECT;
        n = instr_run(mode, p, &m);
        CALLGRIND_TOGGLE_COLLECT;
    }
    if (p) {
        if (n < 0)
            fprintf(stderr, "bench_instr: %s: %s\n", mode, rmq_producer_last_error(p));
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
    }
    if (have_mock)
        mock_stop(&mock);
    if (n < 0 || instr_failed) {
        fprintf(stderr, "bench_instr: %s failed (%lu callbacks failed)\n", mode, instr_failed);
        return 1;
    }
    printf("BENCH_INSTR mode=%s msgs=%d\n", mode, n);
    return 0;
}
