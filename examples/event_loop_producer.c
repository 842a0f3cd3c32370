/* event_loop_producer.c - the producer inside the application's own poll().
 *
 * A gateway usually has an event loop already (poll, epoll, libuv, ...).
 * The producer needs no thread of its own: each turn, ask it which sockets
 * it wants watched (rmq_producer_interest + rmq_port_posix_fd) and when its
 * next timer is due (rmq_producer_next_timeout_ms), wait on those together
 * with your own sources, and call rmq_producer_poll(p, 0) when one of its
 * sockets is ready or its timer is due. That call does the I/O, the timers
 * and the callbacks, and never blocks.
 *
 * The application's own work here is a ticker: one async message every
 * TICK_MS until MESSAGES are sent, then the loop runs until the last
 * callback.
 *
 *     event_loop_producer -n 127.0.0.1:9876
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/event_loop_producer.c -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MESSAGES 20
#define TICK_MS 10u

typedef struct app {
    rmq_producer *producer;
    int sent, ok, failed;
    uint32_t next_tick;           /* when the ticker sends next */
} app;

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    app *a = (app *)user;
    char why[RMQ_REASON_MAX_LEN + 1];
    if (err != RMQ_OK) {
        a->failed++;
        fprintf(stderr, "send failed (%s): %s\n", rmq_strerror(err), rmq_result_reason(res, why, sizeof why));
        return;
    }
    a->ok++;
    printf("ok msgId=%s queue=%s/%d queueOffset=%lld\n", res->msg_id, res->queue.broker_name,
           res->queue.queue_id, (long long)res->queue_offset);
}

/* The application's own work: one message per tick. rmq_send_async()
 * returns at once; the message goes out in a later rmq_producer_poll(). */
static void tick(app *a)
{
    char body[64];
    rmq_message m;
    int len = snprintf(body, sizeof body, "tick %d", a->sent);
    rmq_message_init(&m, "EventLoopTopic", body, (size_t)len);
    m.tags = "tick";
    if (rmq_send_async(a->producer, &m, on_sent, a) != RMQ_OK) {
        fprintf(stderr, "message %d refused: %s\n", a->sent, rmq_producer_last_error(a->producer));
        a->failed++;                 /* refused now: no callback will come */
    }
    a->sent++;
    a->next_tick += TICK_MS;
}

/* The producer's sockets as pollfds. The set changes as connections open
 * and close, so it is read again every turn (with epoll: re-arm on change). */
static size_t producer_fds(rmq_producer *p, struct pollfd *fds, size_t cap)
{
    rmq_wait_item items[RMQ_MAX_CONNECTIONS];
    size_t i, n = rmq_producer_interest(p, items, cap < RMQ_MAX_CONNECTIONS ? cap : RMQ_MAX_CONNECTIONS);
    for (i = 0; i < n; i++) {
        fds[i].fd = rmq_port_posix_fd(items[i].conn);
        fds[i].events = (short)(((items[i].want & RMQ_WANT_READ) ? POLLIN : 0) |
                                ((items[i].want & RMQ_WANT_WRITE) ? POLLOUT : 0));
        fds[i].revents = 0;
    }
    return n;
}

/* How long this turn may sleep: until the producer's next timer or the
 * application's next tick, whichever comes first. */
static int wait_ms(app *a)
{
    uint32_t wait = rmq_producer_next_timeout_ms(a->producer);
    if (a->sent < MESSAGES) {
        int32_t to_tick = (int32_t)(a->next_tick - now_ms());
        if (to_tick < 0) to_tick = 0;
        if ((uint32_t)to_tick < wait) wait = (uint32_t)to_tick;
    }
    return wait > (uint32_t)INT_MAX ? INT_MAX : (int)wait;
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
    app a;

    memset(&a, 0, sizeof a);
    rmq_producer_config_init(&cfg);
    cfg.group = "EventLoopProducerGroup";
    cfg.namesrv_addr = namesrv_from_args(argc, argv);
    cfg.port = rmq_port_posix();
    if (!cfg.namesrv_addr) {
        fprintf(stderr, "usage: %s -n host:port[;host:port] (or set NAMESRV_ADDR)\n", argv[0]);
        return 2;
    }
    if (rmq_producer_create(&cfg, &a.producer) != RMQ_OK) {
        fprintf(stderr, "cannot create the producer (out of memory?)\n");
        return 1;
    }
    if (rmq_producer_start(a.producer) != RMQ_OK) {
        fprintf(stderr, "start failed: %s\n", rmq_producer_last_error(a.producer));
        rmq_producer_destroy(a.producer);
        return 1;
    }

    a.next_tick = now_ms();
    while (a.ok + a.failed < MESSAGES) {
        struct pollfd fds[RMQ_MAX_CONNECTIONS];
        size_t n = producer_fds(a.producer, fds, RMQ_MAX_CONNECTIONS);
        int ready = poll(fds, (nfds_t)n, wait_ms(&a));
        if (ready < 0 && errno != EINTR) {
            perror("poll");
            break;
        }
        if (a.sent < MESSAGES && (int32_t)(now_ms() - a.next_tick) >= 0) tick(&a);
        /* Socket ready or timer due (a send's deadline, a heartbeat, a
         * completed request whose callback is waiting): let it work. */
        if (ready > 0 || rmq_producer_next_timeout_ms(a.producer) == 0) rmq_producer_poll(a.producer, 0);
    }

    printf("%d sent, %d ok, %d failed\n", a.sent, a.ok, a.failed);
    rmq_producer_shutdown(a.producer);
    rmq_producer_destroy(a.producer);
    return a.failed || a.ok != MESSAGES ? 1 : 0;
}
