/* peak_memory.c - the peak memory of one producer: one broker, 1 KiB
 * messages, 16 async sends in flight. tools/size.sh (make size) builds it on
 * the host for every configuration of tools/size-configs.txt and prints the
 * figures beside the code sizes.
 *
 * All of the producer's memory comes from one rmq_pool (RMQ_NO_MALLOC,
 * tests/pool_or_heap.h), so the pool's peak is the producer's peak, block
 * headers included; the simulated cluster's own memory is not in it. The
 * run: create and start, then PEAK_MESSAGES async sends of 1 KiB, topped up
 * to 16 in flight after each turn of the loop, then flush, shutdown and
 * destroy. It fails (exit 1) unless every send is called back OK and
 * stored once and the pool is empty after destroy.
 *
 * Prints one line: "<peak> <after start> <after the run>" (bytes of the
 * pool in use). Figures are of the host the program runs on: a 32-bit MCU,
 * with 4-byte pointers, needs somewhat less. */
#include "../pool_or_heap.h"
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../../rocketmq_producer.h"
#include "../../port/rmq_port_sim.h"
#include <stdio.h>
#include <string.h>
#include "../sim_cluster.h"

#define PEAK_MESSAGES 2000
#define PEAK_WINDOW 16
#define PEAK_BODY 1024

static uint64_t pool_mem[(4u * 1024u * 1024u) / sizeof(uint64_t)];
static rmq_pool pool;
static char body[PEAK_BODY];

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "peak_memory: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    return 1;
}

int main(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    cb_log log;
    size_t started, after, i;
    int sent = 0;
    memset(body, 'm', sizeof body);
    memset(&log, 0, sizeof log);
    rmq_pool_init(&pool, pool_mem, sizeof pool_mem);
    simc_config(c, &cfg, "peak-memory");
    cfg.mem_ctx = &pool;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return fail("create", NULL);
    if (rmq_producer_start(p) != RMQ_OK) return fail("start", rmq_producer_last_error(p));
    started = pool.used;
    while (sent < PEAK_MESSAGES) {
        while (sent < PEAK_MESSAGES && sent - log.calls < PEAK_WINDOW) {
            rmq_message m;
            rmq_message_init(&m, "TopicTest", body, sizeof body);
            m.tags = "TagA";
            if (rmq_send_async(p, &m, count_cb, &log) != RMQ_OK) return fail("send", rmq_producer_last_error(p));
            sent++;
        }
        rmq_producer_poll(p, 100);
    }
    if (rmq_producer_flush(p, 10000) != RMQ_OK) return fail("flush", rmq_producer_last_error(p));
    after = pool.used;
    if (log.calls != PEAK_MESSAGES || log.ok != PEAK_MESSAGES) return fail("callbacks", log.reason);
    if (c->nstored != PEAK_MESSAGES) return fail("stored", NULL);
    for (i = 0; i < (size_t)c->nstored; i++)
        if (simc_stored(c, c->stored[i]) != 1) return fail("stored twice", c->stored[i]);
    rmq_producer_destroy(p);
    if (pool.used != 0) return fail("the pool is not empty after destroy", NULL);
    simc_destroy(c);
    printf("%lu %lu %lu\n", (unsigned long)pool.peak, (unsigned long)started, (unsigned long)after);
    return 0;
}
