/* ram_core_mcu.c - the RAM of one producer on a 32-bit target, run on the
 * emulated Cortex-M by make test-mcu, built with the defines of a line of
 * tools/size-configs.txt (core-mcu) and the simulated cluster: one name
 * server, one broker.
 *
 * All of the producer's memory comes from one rmq_pool (tests/pool_or_heap.h),
 * so the pool's bytes in use are the producer's, block headers included. It
 * reads them after create and start; after the first acknowledged send
 * (which fetched a route, opened a connection to the broker and sent it a
 * heartbeat); and with RAM_INFLIGHT async sends of RAM_BODY bytes written and
 * unanswered, as the bytes each holds less the frame it wrote (the
 * bookkeeping of a message in flight beyond its encoded frame).
 *
 * Stack: every call into the producer runs on a freshly painted stack and
 * the deepest one is kept (mcu.h). The simulated peers answer between those
 * calls, never inside them (their bytes are queued by ram_defer and handed
 * over by ram_pump), so their frames are not counted: what is measured is
 * the producer and the port under it.
 *
 * Prints "ram <name> <key>=<bytes> ..." for make size's table; exits non-zero
 * unless every send is acknowledged and stored and the pool is empty after
 * destroy. */
#include "../pool_or_heap.h"
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_sim.h"
#include <stdio.h>
#include <string.h>
#include "../sim_cluster.h"
#include "mcu.h"

#ifndef RAM_CONFIG_NAME
#define RAM_CONFIG_NAME "core-mcu"
#endif
#define RAM_INFLIGHT 16
#define RAM_BODY 128
#define RAM_QUEUE_BYTES (64u * 1024u)

static uint64_t pool_mem[(256u * 1024u) / sizeof(uint64_t)];
static rmq_pool pool;
static char body[RAM_BODY];

/* Bytes the producer wrote, held until ram_pump gives them to the peers. */
typedef struct ram_chunk {
    void *peer;
    rmq_sim_conn *conn;
    size_t len;
} ram_chunk;
static unsigned char queue[RAM_QUEUE_BYTES];
static size_t queued, written;
static int overflow;

static void ram_defer(void *peer, rmq_sim_conn *conn, const uint8_t *data, size_t len)
{
    ram_chunk ch;
    written += len;
    if (queued + sizeof ch + len > sizeof queue) { overflow = 1; return; }
    ch.peer = peer;
    ch.conn = conn;
    ch.len = len;
    memcpy(queue + queued, &ch, sizeof ch);
    memcpy(queue + queued + sizeof ch, data, len);
    queued += sizeof ch + ((len + 7u) & ~(size_t)7u);
}

static void ram_pump(void)
{
    size_t at = 0;
    while (at < queued) {
        ram_chunk ch;
        memcpy(&ch, queue + at, sizeof ch);
        simc_on_data(ch.peer, ch.conn, queue + at + sizeof ch, ch.len);
        at += sizeof ch + ((ch.len + 7u) & ~(size_t)7u);
    }
    queued = 0;
}

static size_t stack_max;
static uintptr_t stack_at;
#define MEASURED(call) (stack_at = mcu_stack_mark(), (call), ram_stack_note())
static void ram_stack_note(void)
{
    size_t used = mcu_stack_since(stack_at);
    if (used > stack_max) stack_max = used;
}

static int fail(const char *what, const char *why)
{
    printf("ram_core_mcu: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    return 1;
}

/* Polls (and lets the peers answer) until the callbacks reach calls. */
static int ram_until(rmq_producer *p, cb_log *log, int calls)
{
    int turns;
    for (turns = 0; turns < 1000 && log->calls < calls; turns++) {
        ram_pump();
        MEASURED((void)rmq_producer_poll(p, 10));
    }
    return log->calls == calls;
}

static void ram_defer_peers(simc *c)
{
    static rmq_sim_peer_ops ops;
    int i;
    ops.on_accept = simc_on_accept;
    ops.on_data = ram_defer;
    for (i = 0; i < c->n; i++) {
        rmq_sim_unlisten(c->sim, c->s[i].host, c->s[i].port);
        rmq_sim_listen(c->sim, c->s[i].host, c->s[i].port, &ops, &c->s[i]);
    }
}

int main(int argc, char **argv)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_message m;
    cb_log log;
    rmq_err e = RMQ_OK;
    size_t started, first, first_peak, before, held, frames;
    int i;
    (void)argc;
    (void)argv;
    ram_defer_peers(c);
    memset(body, 'm', sizeof body);
    memset(&log, 0, sizeof log);
    rmq_pool_init(&pool, pool_mem, sizeof pool_mem);
    simc_config(c, &cfg, "ram");
    cfg.mem_ctx = &pool;
    MEASURED(e = rmq_producer_create(&cfg, &p));
    if (e != RMQ_OK) return fail("create", NULL);
    MEASURED(e = rmq_producer_start(p));
    if (e != RMQ_OK) return fail("start", rmq_producer_last_error(p));
    started = pool.used;

    rmq_message_init(&m, "TopicTest", body, sizeof body);
    MEASURED(e = rmq_send_async(p, &m, count_cb, &log));
    if (e != RMQ_OK) return fail("first send", rmq_producer_last_error(p));
    if (!ram_until(p, &log, 1) || log.ok != 1) return fail("first send", log.reason);
    if (simc_count(c, "broker-a", RMQ_REQ_HEART_BEAT) < 1) return fail("first send", "no heartbeat");
    first = pool.used;
    first_peak = pool.peak;

    ram_pump();
    before = pool.used;
    written = 0;
    for (i = 0; i < RAM_INFLIGHT; i++) {
        MEASURED(e = rmq_send_async(p, &m, count_cb, &log));
        if (e != RMQ_OK) return fail("async send", rmq_producer_last_error(p));
    }
    held = pool.used - before;
    frames = written;
    if (!ram_until(p, &log, 1 + RAM_INFLIGHT) || log.ok != 1 + RAM_INFLIGHT) return fail("async sends", log.reason);
    if (c->nstored != 1 + RAM_INFLIGHT) return fail("stored", NULL);
    if (overflow) return fail("the peers' queue overflowed", NULL);

    MEASURED(rmq_producer_shutdown(p));
    MEASURED(rmq_producer_destroy(p));
    if (pool.used != 0) return fail("the pool is not empty after destroy", NULL);
    simc_destroy(c);
    printf("ram %s after_start=%lu after_first_send=%lu peak_first_send=%lu peak=%lu inflight=%d body=%d "
           "per_inflight=%lu frame=%lu bookkeeping=%ld stack=%lu stack_program=%lu\n",
           RAM_CONFIG_NAME, (unsigned long)started, (unsigned long)first, (unsigned long)first_peak,
           (unsigned long)pool.peak, RAM_INFLIGHT, RAM_BODY, (unsigned long)(held / RAM_INFLIGHT),
           (unsigned long)(frames / RAM_INFLIGHT), (long)(held / RAM_INFLIGHT) - (long)(frames / RAM_INFLIGHT),
           (unsigned long)stack_max, (unsigned long)mcu_stack_high_water());
    return 0;
}
