/* The public API under contention, over the POSIX port: threads that start
 * and stop their own producers (sharing a client instance or not), a
 * shutdown in the middle of sync and async sends and of a running loop,
 * a producer of a shared instance shutting down while the other sends,
 * callbacks that try to shut down or destroy, and destroy waiting for a
 * call still running in another thread. Run under TSan by make test-tsan
 * (RMQ_REPEAT=20: every test 20 times, so a rare race shows), under ASan
 * by make test and under valgrind by make test-valgrind. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"
#include <pthread.h>

static mock_cluster cluster;
static int repeat = 1;

static rmq_producer *make_producer(const char *group, const char *instance)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_producer_config_init(&cfg);
    cfg.group = group;
    cfg.namesrv_addr = cluster.namesrv;
    if (instance) cfg.instance_name = instance;
    cfg.port = rmq_port_posix();
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK) { rmq_producer_destroy(p); return NULL; }
    return p;
}

/* -- lifecycle from many threads --------------------------------------- */
#define CYCLERS 8
#define CYCLES 200

typedef struct cycler {
    int id, failures;
    char instance[32];
    char first_failure[300];
} cycler;

static void *cycle_main(void *arg)
{
    cycler *c = (cycler *)arg;
    int i;
    for (i = 0; i < CYCLES; i++) {
        rmq_producer_config cfg;
        rmq_producer *p = NULL;
        char group[48];
        rmq_err err;
        snprintf(group, sizeof group, "cycle-%d-%d", c->id, i);
        rmq_producer_config_init(&cfg);
        cfg.group = group;
        cfg.namesrv_addr = "127.0.0.1:9";    /* never asked: nothing is sent */
        cfg.instance_name = c->instance;
        cfg.port = rmq_port_posix();
        err = rmq_producer_create(&cfg, &p);
        if (err == RMQ_OK) err = rmq_producer_start(p);
        if (err == RMQ_OK && rmq_producer_state(p) != RMQ_STATE_RUNNING) err = RMQ_ERR_STATE;
        if (err != RMQ_OK && c->failures++ == 0)
            snprintf(c->first_failure, sizeof c->first_failure, "cycle %d: %s: %s", i, rmq_strerror(err),
                     p ? rmq_producer_last_error(p) : "");
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
    }
    return NULL;
}

static void test_eight_threads_start_and_stop_200_producers_each_with_shared_and_own_instances(void)
{
    pthread_t t[CYCLERS];
    cycler c[CYCLERS];
    int i, r;
    for (r = 0; r < repeat; r++) {
        for (i = 0; i < CYCLERS; i++) {
            memset(&c[i], 0, sizeof c[i]);
            c[i].id = i;
            /* half share one instance name (one client instance), half own one */
            if (i % 2) snprintf(c[i].instance, sizeof c[i].instance, "own-%d", i);
            else snprintf(c[i].instance, sizeof c[i].instance, "shared");
            CHECK(pthread_create(&t[i], NULL, cycle_main, &c[i]) == 0);
        }
        for (i = 0; i < CYCLERS; i++) pthread_join(t[i], NULL);
        for (i = 0; i < CYCLERS; i++) CHECKF(c[i].failures == 0, "thread %d: %d failures, first %s", i, c[i].failures, c[i].first_failure);
    }
}

/* -- sends while the producer shuts down ------------------------------- */
#define SENDERS 8

typedef struct tally {
    pthread_mutex_t lock;
    pthread_cond_t moved;
    int accepted_async, callbacks, callbacks_ok, duplicates;
    int sync_calls, sync_ok, sync_returned;
    int refused_after;          /* sends refused once the producer stopped */
    int stop_poll;
    char first_failure[300];
} tally;

typedef struct send_ticket {
    tally *t;
    int called;
} send_ticket;

static void tally_init(tally *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->moved, NULL);
}

static void tally_free(tally *t)
{
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->moved);
}

static void ticket_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    send_ticket *k = (send_ticket *)user;
    tally *t = k->t;
    (void)res;
    pthread_mutex_lock(&t->lock);
    if (k->called++) t->duplicates++;
    t->callbacks++;
    if (err == RMQ_OK) t->callbacks_ok++;
    pthread_cond_broadcast(&t->moved);
    pthread_mutex_unlock(&t->lock);
}

typedef struct sender {
    rmq_producer *p;
    tally *t;
    const char *topic;
    int id, max_sends;
    send_ticket *tickets;       /* one per async send */
} sender;

/* Sends until the producer refuses (or max_sends), every other one sync. */
static void *send_main(void *arg)
{
    sender *s = (sender *)arg;
    int i;
    for (i = 0; i < s->max_sends; i++) {
        char body[48];
        rmq_message m;
        rmq_err err;
        snprintf(body, sizeof body, "s%d-%d", s->id, i);
        rmq_message_init(&m, s->topic, body, strlen(body));
        if ((i + s->id) % 2) {
            rmq_send_result res;
            err = rmq_send(s->p, &m, &res);
            pthread_mutex_lock(&s->t->lock);
            s->t->sync_returned++;
            if (err == RMQ_OK) s->t->sync_ok++;
            else if (!s->t->first_failure[0])
                snprintf(s->t->first_failure, sizeof s->t->first_failure, "%s: %s", rmq_strerror(err), RES_REASON(res));
        } else {
            s->tickets[i].t = s->t;
            err = rmq_send_async(s->p, &m, ticket_cb, &s->tickets[i]);
            pthread_mutex_lock(&s->t->lock);
            if (err == RMQ_OK) s->t->accepted_async++;
        }
        if (err == RMQ_ERR_STATE) s->t->refused_after++;
        pthread_cond_broadcast(&s->t->moved);
        pthread_mutex_unlock(&s->t->lock);
        if (err == RMQ_ERR_STATE) break;
    }
    return NULL;
}

typedef struct poller {
    rmq_producer *p;
    tally *t;
} poller;

static void *poll_main(void *arg)
{
    poller *pl = (poller *)arg;
    for (;;) {
        int stop;
        pthread_mutex_lock(&pl->t->lock);
        stop = pl->t->stop_poll;
        pthread_mutex_unlock(&pl->t->lock);
        if (stop || rmq_producer_poll(pl->p, 50) != RMQ_OK) break;
    }
    return NULL;
}

typedef struct stopper {
    rmq_producer *p;
    tally *t;
    int after;                 /* sends completed or accepted first */
    long stored_at_return;
    const char *topic;
} stopper;

static void *stop_main(void *arg)
{
    stopper *st = (stopper *)arg;
    pthread_mutex_lock(&st->t->lock);
    while (st->t->accepted_async + st->t->sync_returned < st->after) pthread_cond_wait(&st->t->moved, &st->t->lock);
    pthread_mutex_unlock(&st->t->lock);
    rmq_producer_shutdown(st->p);
    st->stored_at_return = mock_count(&cluster, st->topic);
    return NULL;
}

#define MAX_SENDS 60
#define UNTIL_REFUSED 20000

static void test_a_shutdown_amid_sync_and_async_sends_and_a_running_loop_ends_every_send_once(void)
{
    int r, i;
    for (r = 0; r < repeat; r++) {
        char topic[32];
        tally t;
        sender s[SENDERS];
        poller pl;
        stopper st;
        pthread_t ts[SENDERS], tp, tst;
        rmq_stats stats;
        rmq_producer *p = make_producer("contend", NULL);
        CHECK(p != NULL);
        snprintf(topic, sizeof topic, "Contend%d", r);
        CHECK(mock_cmd(&cluster, NULL, 0, "TOPIC * %s 4", topic) == 0);
        tally_init(&t);
        pl.p = p;
        pl.t = &t;
        st.p = p;
        st.t = &t;
        st.after = SENDERS * MAX_SENDS / 4;
        st.topic = topic;
        CHECK(pthread_create(&tp, NULL, poll_main, &pl) == 0);
        for (i = 0; i < SENDERS; i++) {
            s[i].p = p;
            s[i].t = &t;
            s[i].topic = topic;
            s[i].id = i;
            s[i].max_sends = UNTIL_REFUSED;
            s[i].tickets = (send_ticket *)calloc(UNTIL_REFUSED, sizeof *s[i].tickets);
            CHECK(pthread_create(&ts[i], NULL, send_main, &s[i]) == 0);
        }
        CHECK(pthread_create(&tst, NULL, stop_main, &st) == 0);
        pthread_join(tst, NULL);
        for (i = 0; i < SENDERS; i++) pthread_join(ts[i], NULL);
        pthread_mutex_lock(&t.lock);
        t.stop_poll = 1;
        pthread_mutex_unlock(&t.lock);
        pthread_join(tp, NULL);

        CHECK_INT(t.duplicates, 0);
        CHECK_INT(t.callbacks, t.accepted_async);          /* every accepted async send: one callback */
        CHECK_INT(t.refused_after, SENDERS);                 /* every sender ran into the shutdown */
        CHECK(t.callbacks_ok + t.sync_ok <= st.stored_at_return);
        CHECK_INT(mock_count(&cluster, topic), st.stored_at_return);   /* nothing sent after shutdown returned */
        rmq_producer_stats(p, &stats);
        CHECK_INT((int)stats.pending_sends, 0);
        CHECK_INT(rmq_producer_state(p), RMQ_STATE_SHUTDOWN_ALREADY);
        rmq_producer_destroy(p);
        for (i = 0; i < SENDERS; i++) free(s[i].tickets);
        tally_free(&t);
    }
}

/* Two producers of one client instance: one shuts down while four threads
 * send through the other; the survivor loses nothing. */
static void test_one_producer_of_a_shared_instance_shuts_down_while_the_other_keeps_sending(void)
{
    int r, i;
    for (r = 0; r < repeat; r++) {
        char topic[32], quitter_topic[32];
        tally t, tq;
        sender s[4], q;
        poller pl;
        stopper st;
        pthread_t ts[4], tq_t, tp, tst;
        rmq_producer *survivor = make_producer("survivor", NULL);
        rmq_producer *quitter = make_producer("quitter", NULL);
        CHECK(survivor != NULL && quitter != NULL);
        CHECK_STR(rmq_producer_client_id(survivor), rmq_producer_client_id(quitter));
        snprintf(topic, sizeof topic, "Survive%d", r);
        snprintf(quitter_topic, sizeof quitter_topic, "Quit%d", r);
        CHECK(mock_cmd(&cluster, NULL, 0, "TOPIC * %s 4", topic) == 0);
        CHECK(mock_cmd(&cluster, NULL, 0, "TOPIC * %s 4", quitter_topic) == 0);
        tally_init(&t);
        tally_init(&tq);
        pl.p = survivor;
        pl.t = &t;
        q.p = quitter;
        q.t = &tq;
        q.topic = quitter_topic;
        q.id = 99;
        q.max_sends = UNTIL_REFUSED;
        q.tickets = (send_ticket *)calloc(UNTIL_REFUSED, sizeof *q.tickets);
        st.p = quitter;
        st.t = &tq;
        st.after = 20;
        st.topic = quitter_topic;
        CHECK(pthread_create(&tp, NULL, poll_main, &pl) == 0);
        CHECK(pthread_create(&tq_t, NULL, send_main, &q) == 0);
        for (i = 0; i < 4; i++) {
            s[i].p = survivor;
            s[i].t = &t;
            s[i].topic = topic;
            s[i].id = i;
            s[i].max_sends = MAX_SENDS;
            s[i].tickets = (send_ticket *)calloc(MAX_SENDS, sizeof *s[i].tickets);
            CHECK(pthread_create(&ts[i], NULL, send_main, &s[i]) == 0);
        }
        CHECK(pthread_create(&tst, NULL, stop_main, &st) == 0);
        pthread_join(tst, NULL);
        pthread_join(tq_t, NULL);
        for (i = 0; i < 4; i++) pthread_join(ts[i], NULL);
        CHECK_INT(rmq_producer_flush(survivor, 20000), RMQ_OK);
        pthread_mutex_lock(&t.lock);
        t.stop_poll = 1;
        pthread_mutex_unlock(&t.lock);
        pthread_join(tp, NULL);

        CHECKF(t.sync_ok == t.sync_returned, "%d of %d sync sends failed, the first: %s", t.sync_returned - t.sync_ok,
               t.sync_returned, t.first_failure);    /* the survivor's sends all succeed */
        CHECK_INT(t.callbacks_ok, t.accepted_async);
        CHECK_INT(t.accepted_async + t.sync_returned, 4 * MAX_SENDS);
        CHECK_INT(mock_count(&cluster, topic), 4 * MAX_SENDS);
        CHECK_INT(tq.callbacks, tq.accepted_async);
        CHECK_INT(tq.duplicates, 0);
        CHECK_INT(mock_count(&cluster, quitter_topic), st.stored_at_return);
        rmq_producer_destroy(quitter);
        rmq_producer_destroy(survivor);
        for (i = 0; i < 4; i++) free(s[i].tickets);
        free(q.tickets);
        tally_free(&t);
        tally_free(&tq);
    }
}

/* -- callbacks that try to stop producers ------------------------------ */
typedef struct stop_attempt {
    rmq_producer *target;
    int destroy;
    rmq_service_state state_after;
} stop_attempt;

static void stop_from_callback(rmq_err err, const rmq_send_result *res, void *user)
{
    stop_attempt *a = (stop_attempt *)user;
    (void)err; (void)res;
    if (a->destroy) rmq_producer_destroy(a->target);
    else rmq_producer_shutdown(a->target);
    a->state_after = rmq_producer_state(a->target);
}

/* What a callback of `from` doing the attempt leaves on `target`. */
static void attempt_from_callback(rmq_producer *from, rmq_producer *target, int destroy)
{
    stop_attempt a;
    rmq_message m;
    rmq_stats stats;
    a.target = target;
    a.destroy = destroy;
    a.state_after = RMQ_STATE_CREATE_JUST;
    rmq_message_init(&m, "InCallback", "x", 1);
    CHECK_INT(rmq_send_async(from, &m, stop_from_callback, &a), RMQ_OK);
    CHECK_INT(rmq_producer_flush(from, 10000), RMQ_OK);
    CHECK_INT(a.state_after, RMQ_STATE_RUNNING);
    CHECK_INT(rmq_producer_state(target), RMQ_STATE_RUNNING);
    CHECK_HAS(rmq_producer_last_error(target), "inside a send callback");
    rmq_producer_stats(target, &stats);
    CHECK_INT((int)stats.refused_in_callback, 1);
    CHECK_INT(rmq_send(target, &m, NULL) == RMQ_ERR_INVALID_ARG, 1);   /* still usable */
}

static void test_shutdown_from_a_callback_of_its_own_producer_is_refused_and_counted(void)
{
    rmq_producer *p = make_producer("cb-own-shutdown", NULL);
    CHECK(p != NULL);
    attempt_from_callback(p, p, 0);
    rmq_producer_destroy(p);
}

static void test_destroy_from_a_callback_of_its_own_producer_is_refused_and_counted(void)
{
    rmq_producer *p = make_producer("cb-own-destroy", NULL);
    CHECK(p != NULL);
    attempt_from_callback(p, p, 1);
    rmq_producer_destroy(p);
}

static void test_shutdown_of_another_producer_of_the_instance_from_a_callback_is_refused_and_counted(void)
{
    rmq_producer *p = make_producer("cb-from", NULL), *other = make_producer("cb-other", NULL);
    CHECK(p != NULL && other != NULL);
    attempt_from_callback(p, other, 0);
    rmq_producer_destroy(other);
    rmq_producer_destroy(p);
}

static void test_destroy_of_another_producer_of_the_instance_from_a_callback_is_refused_and_counted(void)
{
    rmq_producer *p = make_producer("cb-from2", NULL), *other = make_producer("cb-other2", NULL);
    CHECK(p != NULL && other != NULL);
    attempt_from_callback(p, other, 1);
    rmq_producer_destroy(other);
    rmq_producer_destroy(p);
}

/* -- destroy while a call runs in another thread ------------------------ */
typedef struct held_send {
    rmq_producer *p;
    rmq_err err;
} held_send;

static void *send_held(void *arg)
{
    held_send *h = (held_send *)arg;
    rmq_message m;
    rmq_send_result res;
    rmq_message_init(&m, "Held", "held", 4);
    h->err = rmq_send(h->p, &m, &res);
    return NULL;
}

/* The broker stores the send but never answers: the sync send is inside
 * the library when destroy is called, which fails it and waits for it to
 * leave before freeing the producer (ASan and valgrind see a use after
 * free otherwise). */
static void test_destroy_waits_for_a_sync_send_running_in_another_thread(void)
{
    int r;
    for (r = 0; r < repeat; r++) {
        held_send h;
        pthread_t t;
        rmq_message m;
        rmq_send_result res;
        long deadline = mock_now_ms() + 10000;
        h.p = make_producer("held", NULL);
        h.err = RMQ_OK;
        CHECK(h.p != NULL);
        CHECK(mock_cmd(&cluster, NULL, 0, "TOPIC broker-a Held 1") == 0);
        rmq_message_init(&m, "Held", "ready", 5);
        CHECK_INT(rmq_send(h.p, &m, &res), RMQ_OK);          /* route, connection, heartbeat done */
        CHECK(mock_cmd(&cluster, NULL, 0, "SILENT broker-a 1 process") == 0);
        {
            long before = mock_count(&cluster, "Held");
            CHECK(pthread_create(&t, NULL, send_held, &h) == 0);
            while (mock_count(&cluster, "Held") == before && mock_now_ms() < deadline) {
                struct timespec ts;
                ts.tv_sec = 0;
                ts.tv_nsec = 2 * 1000000L;
                nanosleep(&ts, NULL);                       /* waiting for an outside observation */
            }
            CHECK(mock_count(&cluster, "Held") == before + 1);
        }
        rmq_producer_destroy(h.p);
        pthread_join(t, NULL);
        CHECK_INT(h.err, RMQ_ERR_SHUTDOWN);
    }
}

int main(int argc, char **argv)
{
    const char *rep = getenv("RMQ_REPEAT");
    if (argc > 1) test_filter = argv[1];
    if (rep && atoi(rep) > 0) repeat = atoi(rep);
    if (mock_start(&cluster, "--brokers 2 --quiet") != 0) {
        printf("0 passed, 1 failed\n");
        return 1;
    }
    RUN(test_eight_threads_start_and_stop_200_producers_each_with_shared_and_own_instances);
    RUN(test_a_shutdown_amid_sync_and_async_sends_and_a_running_loop_ends_every_send_once);
    RUN(test_one_producer_of_a_shared_instance_shuts_down_while_the_other_keeps_sending);
    RUN(test_shutdown_from_a_callback_of_its_own_producer_is_refused_and_counted);
    RUN(test_destroy_from_a_callback_of_its_own_producer_is_refused_and_counted);
    RUN(test_shutdown_of_another_producer_of_the_instance_from_a_callback_is_refused_and_counted);
    RUN(test_destroy_of_another_producer_of_the_instance_from_a_callback_is_refused_and_counted);
    RUN(test_destroy_waits_for_a_sync_send_running_in_another_thread);
    mock_stop(&cluster);
    return test_summary();
}
