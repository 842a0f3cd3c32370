/* Several threads sharing one producer (leader/follower), an application's
 * own poll() loop driving a producer, callbacks that may not block, and the
 * name-server list from the address server over HTTP, over real loopback
 * sockets against the mock cluster. Run under TSan by
 * make test-tsan, and under ASan by make test. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"
#include <pthread.h>
#include <poll.h>

static mock_cluster cluster;

static rmq_producer *make_producer(const char *group)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_producer_config_init(&cfg);
    cfg.group = group;
    cfg.namesrv_addr = cluster.namesrv;
    cfg.port = rmq_port_posix();
    if (rmq_producer_create(&cfg, &p) != RMQ_OK || rmq_producer_start(p) != RMQ_OK) return NULL;
    return p;
}

typedef struct worker {
    rmq_producer *p;
    int async;
    int sent, ok, failed;
    pthread_mutex_t lock;     /* callbacks may run on any thread */
    char topic[32];
} worker;

static void worker_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    worker *w = (worker *)user;
    (void)res;
    pthread_mutex_lock(&w->lock);
    if (err == RMQ_OK) w->ok++; else w->failed++;
    pthread_mutex_unlock(&w->lock);
}

#define PER_THREAD 300

static void *worker_main(void *arg)
{
    worker *w = (worker *)arg;
    int i;
    for (i = 0; i < PER_THREAD; i++) {
        char body[64];
        rmq_message m;
        snprintf(body, sizeof body, "%s-%d", w->async ? "async" : "sync", i);
        rmq_message_init(&m, w->topic, body, strlen(body));
        if (w->async) {
            if (rmq_send_async(w->p, &m, worker_cb, w) == RMQ_OK) w->sent++;
            if (i % 32 == 31) rmq_producer_poll(w->p, 0);
        } else {
            rmq_send_result res;
            rmq_err err = rmq_send(w->p, &m, &res);
            pthread_mutex_lock(&w->lock);
            w->sent++;
            if (err == RMQ_OK) w->ok++; else w->failed++;
            pthread_mutex_unlock(&w->lock);
        }
    }
    if (w->async) rmq_producer_flush(w->p, 20000);
    return NULL;
}

static void test_four_threads_send_sync_and_async_through_one_producer(void)
{
    rmq_producer *p = make_producer("threads");
    pthread_t t[4];
    worker w[4];
    int i, ok = 0, sent = 0;
    CHECK(p != NULL);
    CHECK(mock_cmd(&cluster, NULL, 0, "TOPIC * Threads 4 6") == 0);
    for (i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].p = p;
        w[i].async = i % 2;
        snprintf(w[i].topic, sizeof w[i].topic, "Threads");
        pthread_mutex_init(&w[i].lock, NULL);
        CHECK(pthread_create(&t[i], NULL, worker_main, &w[i]) == 0);
    }
    for (i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (i = 0; i < 4; i++) {
        ok += w[i].ok;
        sent += w[i].sent;
        CHECK_INT(w[i].ok + w[i].failed, w[i].sent);            /* every send ended once */
        pthread_mutex_destroy(&w[i].lock);
    }
    CHECK_INT(sent, 4 * PER_THREAD);
    CHECK_INT(ok, 4 * PER_THREAD);
    CHECK_INT(mock_count(&cluster, "Threads"), 4 * PER_THREAD);
    rmq_producer_destroy(p);
}

static int acked;

static void count_ack(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)res; (void)user;
    if (err == RMQ_OK) acked++;
}

/* The application owns the loop: it asks for the connections and the next
 * timer, polls the sockets itself, and lets the producer work when ready. */
static void test_an_application_poll_loop_drives_the_producer(void)
{
    rmq_producer *p = make_producer("evloop");
    rmq_message m;
    int i, turns = 0;
    CHECK(p != NULL);
    acked = 0;
    rmq_message_init(&m, "EvLoop", "tick", 4);
    for (i = 0; i < 50; i++) CHECK_INT(rmq_send_async(p, &m, count_ack, NULL), RMQ_OK);
    while (acked < 50 && turns++ < 2000) {
        rmq_wait_item items[RMQ_MAX_CONNECTIONS];
        struct pollfd pf[RMQ_MAX_CONNECTIONS];
        size_t n = rmq_producer_interest(p, items, RMQ_MAX_CONNECTIONS), k;
        uint32_t t = rmq_producer_next_timeout_ms(p);
        for (k = 0; k < n; k++) {
            pf[k].fd = rmq_port_posix_fd(items[k].conn);
            pf[k].events = (short)(((items[k].want & RMQ_WANT_READ) ? POLLIN : 0) |
                                   ((items[k].want & RMQ_WANT_WRITE) ? POLLOUT : 0));
            pf[k].revents = 0;
        }
        poll(pf, (nfds_t)n, t > 100 ? 100 : (int)t);
        rmq_producer_poll(p, 0);
    }
    CHECK_INT(acked, 50);
    CHECK(mock_count(&cluster, "EvLoop") == 50);
    rmq_producer_destroy(p);
}

static rmq_producer *cb_producer;
static rmq_err cb_sync_err, cb_flush_err, cb_async_err;

static void blocking_inside(rmq_err err, const rmq_send_result *res, void *user)
{
    rmq_message m;
    rmq_send_result r;
    (void)err; (void)res; (void)user;
    rmq_message_init(&m, "Inside", "x", 1);
    cb_sync_err = rmq_send(cb_producer, &m, &r);
    cb_flush_err = rmq_producer_flush(cb_producer, 10);
    cb_async_err = rmq_send_async(cb_producer, &m, count_ack, NULL);
}

static void test_a_callback_may_send_async_but_a_blocking_call_is_refused(void)
{
    rmq_message m;
    cb_producer = make_producer("incb");
    CHECK(cb_producer != NULL);
    rmq_message_init(&m, "Inside", "x", 1);
    CHECK_INT(rmq_send_async(cb_producer, &m, blocking_inside, NULL), RMQ_OK);
    CHECK_INT(rmq_producer_flush(cb_producer, 10000), RMQ_OK);
    CHECK_INT(cb_sync_err, RMQ_ERR_IN_CALLBACK);
    CHECK_INT(cb_flush_err, RMQ_ERR_IN_CALLBACK);
    CHECK_INT(cb_async_err, RMQ_OK);
    rmq_producer_destroy(cb_producer);
}

typedef struct waker {
    rmq_producer *p;
    int done;
} waker;

static void *send_one_later(void *arg)
{
    waker *wk = (waker *)arg;
    rmq_message m;
    rmq_send_result res;
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = 50 * 1000000L;
    nanosleep(&ts, NULL);
    rmq_message_init(&m, "Wake", "w", 1);
    wk->done = rmq_send(wk->p, &m, &res) == RMQ_OK;
    return NULL;
}

/* A thread blocked in the loop's wait is woken for another thread's send. */
static void test_a_sync_send_from_another_thread_completes_while_one_polls_long(void)
{
    waker wk;
    pthread_t t;
    rmq_message m;
    rmq_send_result res;
    wk.p = make_producer("wake");
    wk.done = 0;
    CHECK(wk.p != NULL);
    rmq_message_init(&m, "Wake", "first", 5);
    CHECK_INT(rmq_send(wk.p, &m, &res), RMQ_OK);           /* route and connection ready */
    CHECK(pthread_create(&t, NULL, send_one_later, &wk) == 0);
    rmq_producer_poll(wk.p, 2000);                          /* leads the loop meanwhile */
    pthread_join(t, NULL);
    CHECK_INT(wk.done, 1);
    rmq_producer_destroy(wk.p);
}

static void test_the_name_server_list_is_fetched_from_the_address_server_over_http(void)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_message m;
    rmq_send_result res;
    char url[128];
    snprintf(url, sizeof url, "http://%s/rocketmq/nsaddr", cluster.http);
    unsetenv("NAMESRV_ADDR");
    rmq_producer_config_init(&cfg);
    cfg.group = "addrsrv";
    cfg.addr_server_url = url;
    cfg.port = rmq_port_posix();
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "AddrSrv", "via http", 8);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK(mock_count(&cluster, "AddrSrv") == 1);
    rmq_producer_destroy(p);
}

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    if (mock_start(&cluster, "--brokers 2 --quiet") != 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_four_threads_send_sync_and_async_through_one_producer);
    RUN(test_an_application_poll_loop_drives_the_producer);
    RUN(test_a_callback_may_send_async_but_a_blocking_call_is_refused);
    RUN(test_a_sync_send_from_another_thread_completes_while_one_polls_long);
    RUN(test_the_name_server_list_is_fetched_from_the_address_server_over_http);
    mock_stop(&cluster);
    return test_summary();
}
