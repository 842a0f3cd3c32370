/* Tests of port/rmq_port_sim.h: the in-memory network, its virtual clock
 * and its faults. No real time passes and no socket is opened.
 *
 *   cc -std=c99 -Wall -Wextra -Wpedantic -Werror -D_DEFAULT_SOURCE \
 *      tests/test_port_sim.c -o /tmp/t -lpthread && /tmp/t
 *
 * Only the public part of rocketmq_producer.h is included: the port must
 * not depend on the library's implementation. */
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_sim.h"

#include <stdio.h>

/* ---- a tiny test harness ------------------------------------------------ */

static int tests_passed;
static int tests_failed;
static int test_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            test_failures++;                                                 \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                        \
        }                                                                    \
    } while (0)

/* cond is evaluated once; the test stops when it is false. */
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            test_failures++;                                                 \
            fprintf(stderr, "  %s:%d: required: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                  \
            return;                                                          \
        }                                                                    \
    } while (0)

#define RUN(fn)                                                              \
    do {                                                                     \
        test_failures = 0;                                                   \
        fn();                                                                \
        if (test_failures == 0) {                                            \
            tests_passed++;                                                  \
            printf("ok   %s\n", #fn);                                        \
        } else {                                                             \
            tests_failed++;                                                  \
            printf("FAIL %s\n", #fn);                                        \
        }                                                                    \
    } while (0)

/* ---- peers ------------------------------------------------------------- */

/* An echo peer that counts what happens to it. */
typedef struct peer {
    int accepts;
    int closes;
    int data_calls;
    size_t bytes;
    size_t max_piece;
    int echo;
    unsigned char seen[16384];
} peer;

static void peer_accept(void *ctx, rmq_sim_conn *c)
{
    peer *p = (peer *)ctx;
    p->accepts++;
    rmq_sim_conn_set_user(c, p);
}

static void peer_data(void *ctx, rmq_sim_conn *c, const uint8_t *data, size_t len)
{
    peer *p = (peer *)ctx;
    size_t keep = len;
    p->data_calls++;
    if (len > p->max_piece)
        p->max_piece = len;
    if (p->bytes + keep > sizeof p->seen)
        keep = p->bytes < sizeof p->seen ? sizeof p->seen - p->bytes : 0;
    memcpy(p->seen + p->bytes, data, keep);
    p->bytes += len;
    if (p->echo)
        (void)rmq_sim_conn_write(c, data, len);
}

static void peer_close(void *ctx, rmq_sim_conn *c)
{
    (void)c;
    ((peer *)ctx)->closes++;
}

static rmq_sim_peer_ops peer_ops(void)
{
    rmq_sim_peer_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.on_accept = peer_accept;
    ops.on_data = peer_data;
    ops.on_close = peer_close;
    return ops;
}

static rmq_sim_faults no_faults(void)
{
    rmq_sim_faults f;
    memset(&f, 0, sizeof f);
    return f;
}

/* ---- helpers ----------------------------------------------------------- */

static int wait_one(const rmq_port *P, void *conn, unsigned want, uint32_t ms, unsigned *ready)
{
    rmq_wait_item it;
    int rc;
    it.conn = conn;
    it.want = want;
    it.ready = 0;
    rc = P->wait(P->ctx, &it, 1, ms);
    if (ready != NULL)
        *ready = it.ready;
    return rc;
}

/* connect + wait + connect_result; NULL when it does not complete. */
static void *connect_to(const rmq_port *P, const char *host, uint16_t port)
{
    void *conn = NULL;
    int rc = P->connect(P->ctx, host, port, &conn);
    if (rc == RMQ_PORT_AGAIN) {
        if (wait_one(P, conn, RMQ_WANT_WRITE, 1000, NULL) == 1)
            rc = P->connect_result(P->ctx, conn);
        else
            rc = RMQ_PORT_FAILED;
    }
    if (rc != RMQ_PORT_OK) {
        if (conn != NULL)
            P->close(P->ctx, conn);
        return NULL;
    }
    return conn;
}

static unsigned char pattern_at(size_t i)
{
    return (unsigned char)((i * 131u + (i >> 8)) & 0xFFu);
}

/* ---- tests ------------------------------------------------------------- */

static void test_table_has_transport_clock_identity_and_no_locks(void)
{
    rmq_sim *sim = rmq_sim_create(5);
    const rmq_port *P = rmq_sim_port(sim);
    REQUIRE(sim != NULL && P != NULL);
    CHECK(P->ctx == (void *)sim);
    CHECK(P->connect && P->connect_result && P->send && P->sendv && P->recv && P->close);
    CHECK(P->wait && P->now_ms && P->wall_ms && P->local_ip && P->process_id);
    CHECK(P->entropy && P->getenv && P->wake && P->log);
    CHECK(P->mutex_create == NULL && P->event_create == NULL && P->pending == NULL);
    CHECK(P->now_ms(P->ctx) == 5 && rmq_sim_now(sim) == 5);
    rmq_sim_destroy(sim);
}

static void test_connect_accept_echo_and_close(void)
{
    rmq_sim *sim = rmq_sim_create(1000);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    peer pr;
    void *c = NULL;
    unsigned ready = 0;
    unsigned char buf[16];
    memset(&pr, 0, sizeof pr);
    pr.echo = 1;
    REQUIRE(rmq_sim_listen(sim, "10.0.0.2", 9876, &ops, &pr) == 0);
    CHECK(P->connect(P->ctx, "10.0.0.2", 9876, &c) == RMQ_PORT_AGAIN);
    REQUIRE(c != NULL);
    CHECK(pr.accepts == 1);
    CHECK(rmq_sim_last_conn(sim, "10.0.0.2", 9876) == (rmq_sim_conn *)c);
    CHECK(rmq_sim_conn_user((rmq_sim_conn *)c) == &pr);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 3000, &ready) == 1);
    CHECK(ready == RMQ_WANT_WRITE);
    CHECK(rmq_sim_now(sim) == 1000);     /* no latency: no time passed */
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_OK);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 0);   /* nothing yet */
    CHECK(P->send(P->ctx, c, "ping", 4) == 4);
    CHECK(pr.data_calls == 1 && pr.bytes == 4 && memcmp(pr.seen, "ping", 4) == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 3000, &ready) == 1);
    CHECK(ready == RMQ_WANT_READ);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK(rmq_sim_conn_client_open((rmq_sim_conn *)c));
    P->close(P->ctx, c);
    CHECK(pr.closes == 1);
    CHECK(!rmq_sim_conn_client_open((rmq_sim_conn *)c));
    CHECK(rmq_sim_connects(sim, "10.0.0.2", 9876) == 1);
    rmq_sim_destroy(sim);
}

static void test_sendv_gathers_header_and_body(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    rmq_sim_faults f = no_faults();
    rmq_iovec iov[3];
    peer pr;
    void *c;
    memset(&pr, 0, sizeof pr);
    REQUIRE(rmq_sim_listen(sim, "b", 10911, &ops, &pr) == 0);
    c = connect_to(P, "b", 10911);
    REQUIRE(c != NULL);
    iov[0].base = "HEAD";
    iov[0].len = 4;
    iov[1].base = NULL;
    iov[1].len = 0;
    iov[2].base = "body";
    iov[2].len = 4;
    CHECK(P->sendv(P->ctx, c, iov, 3) == 8);
    CHECK(pr.bytes == 8 && memcmp(pr.seen, "HEADbody", 8) == 0);
    f.write_max = 6;      /* a partial gather: the call stops inside body */
    rmq_sim_conn_set_faults((rmq_sim_conn *)c, &f);
    CHECK(P->sendv(P->ctx, c, iov, 3) == 6);
    CHECK(pr.bytes == 14 && memcmp(pr.seen + 8, "HEADbo", 6) == 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_connect_without_listener_is_refused_at_once(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    void *c = (void *)&sim;   /* must stay untouched */
    CHECK(P->connect(P->ctx, "10.9.9.9", 9876, &c) == RMQ_PORT_REFUSED);
    CHECK(c == (void *)&sim);
    CHECK(rmq_sim_connects(sim, "10.9.9.9", 9876) == 1);
    CHECK(rmq_sim_last_conn(sim, "10.9.9.9", 9876) == NULL);
    rmq_sim_destroy(sim);
}

static void test_refuse_fault_at_connect_and_deferred(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    rmq_sim_faults f = no_faults();
    unsigned ready = 0;
    void *c = NULL;
    peer pr;
    memset(&pr, 0, sizeof pr);
    REQUIRE(rmq_sim_listen(sim, "[::1]", 8080, &ops, &pr) == 0);
    f.refuse = RMQ_SIM_REFUSE_AT_CONNECT;
    REQUIRE(rmq_sim_set_faults(sim, "::1", 8080, &f) == 0);   /* same host */
    CHECK(P->connect(P->ctx, "[::1]", 8080, &c) == RMQ_PORT_REFUSED);
    CHECK(c == NULL);
    f.refuse = RMQ_SIM_REFUSE_DEFERRED;
    f.latency_ms = 40;
    REQUIRE(rmq_sim_set_faults(sim, "[::1]", 8080, &f) == 0);
    CHECK(P->connect(P->ctx, "[::1]", 8080, &c) == RMQ_PORT_AGAIN);
    REQUIRE(c != NULL);
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_AGAIN);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 1000, &ready) == 1);
    CHECK(rmq_sim_now(sim) == 40);
    CHECK(ready == (RMQ_WANT_WRITE | RMQ_READY_ERROR));
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_REFUSED);
    CHECK(P->send(P->ctx, c, "x", 1) < 0);
    P->close(P->ctx, c);
    CHECK(pr.accepts == 0 && pr.closes == 0);
    CHECK(rmq_sim_connects(sim, "[::1]", 8080) == 2);
    rmq_sim_destroy(sim);
}

static void test_stalled_connect_waits_out_the_timeout_in_virtual_time(void)
{
    rmq_sim *sim = rmq_sim_create(50000);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    unsigned ready = 7;
    void *c = NULL;
    f.stall = 1;
    /* an address nobody listens on: a black hole rather than a refusal */
    REQUIRE(rmq_sim_set_faults(sim, "10.0.0.66", 10911, &f) == 0);
    CHECK(P->connect(P->ctx, "10.0.0.66", 10911, &c) == RMQ_PORT_AGAIN);
    REQUIRE(c != NULL);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 3000, &ready) == 0);
    CHECK(ready == 0);
    CHECK(rmq_sim_now(sim) == 53000);
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_AGAIN);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 0, NULL) == 0);   /* 0: only checks */
    CHECK(rmq_sim_now(sim) == 53000);
    CHECK(P->send(P->ctx, c, "x", 1) == 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_one_byte_writes_and_reads_carry_10k_intact(void)
{
    enum { N = 10240 };
    static unsigned char out[N];
    static unsigned char in[N];
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    rmq_sim_faults f = no_faults();
    static peer pr;
    size_t sent = 0;
    size_t got = 0;
    int rounds = 0;
    void *c;
    size_t i;
    memset(&pr, 0, sizeof pr);
    pr.echo = 1;
    f.write_max = 1;
    f.read_max = 1;
    REQUIRE(rmq_sim_set_faults(sim, "broker", 10911, &f) == 0);
    REQUIRE(rmq_sim_listen(sim, "broker", 10911, &ops, &pr) == 0);
    c = connect_to(P, "broker", 10911);
    REQUIRE(c != NULL);
    for (i = 0; i < N; i++)
        out[i] = pattern_at(i);
    while ((sent < N || got < N) && rounds++ < 4 * N) {
        if (sent < N) {
            long n = P->send(P->ctx, c, out + sent, N - sent);
            CHECK(n == 1);
            if (n > 0)
                sent += (size_t)n;
        }
        if (got < N) {
            long n = P->recv(P->ctx, c, in + got, N - got);
            CHECK(n == 0 || n == 1);
            if (n > 0)
                got += (size_t)n;
        }
    }
    CHECK(sent == N && got == N);
    CHECK(memcmp(in, out, N) == 0);
    CHECK(pr.data_calls == N && pr.max_piece == 1);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_read_max_splits_a_large_answer(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    unsigned char in[100];
    rmq_sim_conn *s;
    void *c;
    REQUIRE(rmq_sim_listen(sim, "ns", 9876, NULL, NULL) == 0);
    c = connect_to(P, "ns", 9876);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "ns", 9876);
    f.read_max = 7;
    rmq_sim_conn_set_faults(s, &f);
    CHECK(rmq_sim_conn_write(s, "0123456789", 10) == 0);
    CHECK(rmq_sim_conn_write(s, "abcdefghij", 10) == 0);
    CHECK(P->recv(P->ctx, c, in, sizeof in) == 7);
    CHECK(P->recv(P->ctx, c, in + 7, sizeof in) == 7);
    CHECK(P->recv(P->ctx, c, in + 14, sizeof in) == 6);
    CHECK(memcmp(in, "0123456789abcdefghij", 20) == 0);
    CHECK(P->recv(P->ctx, c, in, sizeof in) == 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_reset_after_n_bytes_fails_send_and_recv(void)
{
    static const unsigned char zeros[64] = { 0 };
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    rmq_sim_faults f = no_faults();
    unsigned ready = 0;
    unsigned char buf[8];
    peer pr;
    void *c;
    memset(&pr, 0, sizeof pr);
    REQUIRE(rmq_sim_listen(sim, "b", 1, &ops, &pr) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    CHECK(rmq_sim_conn_write(rmq_sim_last_conn(sim, "b", 1), "late", 4) == 0);
    f.reset = 1;
    f.reset_after = 100;
    REQUIRE(rmq_sim_set_faults(sim, "b", 1, &f) == 0);   /* existing connection too */
    CHECK(P->send(P->ctx, c, zeros, 64) == 64);
    CHECK(P->send(P->ctx, c, zeros, 64) == 36);    /* up to the reset point */
    CHECK(pr.bytes == 100);
    CHECK(pr.closes == 1);                          /* the peer saw the reset */
    CHECK(P->send(P->ctx, c, zeros, 64) < 0);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) < 0); /* pending bytes are lost */
    CHECK(wait_one(P, c, RMQ_WANT_READ, 1000, &ready) == 1);
    CHECK(ready == (RMQ_WANT_READ | RMQ_READY_ERROR));
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_FAILED);
    CHECK(pr.bytes == 100);
    P->close(P->ctx, c);
    CHECK(pr.closes == 1);                          /* told once */
    rmq_sim_destroy(sim);
}

static void test_reset_after_zero_fails_the_first_send(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    void *c;
    f.reset = 1;
    REQUIRE(rmq_sim_set_faults(sim, "b", 2, &f) == 0);
    REQUIRE(rmq_sim_listen(sim, "b", 2, NULL, NULL) == 0);
    c = connect_to(P, "b", 2);
    REQUIRE(c != NULL);
    CHECK(P->send(P->ctx, c, "x", 1) < 0);
    CHECK(rmq_sim_conn_available(rmq_sim_last_conn(sim, "b", 2)) == 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_flipped_byte_is_observed_at_offset_n(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    unsigned char got[32];
    rmq_sim_conn *s;
    void *c;
    f.flip = 1;
    f.flip_offset = 5;
    REQUIRE(rmq_sim_listen(sim, "b", 3, NULL, NULL) == 0);    /* scripted */
    REQUIRE(rmq_sim_set_faults(sim, "b", 3, &f) == 0);
    c = connect_to(P, "b", 3);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "b", 3);
    CHECK(P->send(P->ctx, c, "hel", 3) == 3);                 /* offset 5 is in */
    CHECK(P->send(P->ctx, c, "lo world", 8) == 8);            /* the second write */
    CHECK(rmq_sim_conn_available(s) == 11);
    CHECK(rmq_sim_conn_take(s, got, sizeof got) == 11);
    CHECK(memcmp(got, "hello", 5) == 0);
    CHECK(got[5] == (unsigned char)(' ' ^ 0xFF));
    CHECK(memcmp(got + 6, "world", 5) == 0);
    /* a one-bit flip on another connection */
    P->close(P->ctx, c);
    f.flip_offset = 0;
    f.flip_xor = 0x01;
    REQUIRE(rmq_sim_set_faults(sim, "b", 3, &f) == 0);
    c = connect_to(P, "b", 3);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "b", 3);
    CHECK(P->send(P->ctx, c, "AB", 2) == 2);
    CHECK(rmq_sim_conn_take(s, got, 1) == 1 && got[0] == ('A' ^ 0x01));
    CHECK(rmq_sim_conn_take(s, got, sizeof got) == 1 && got[0] == 'B');
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_latency_delays_connect_and_readability_in_virtual_time(void)
{
    rmq_sim *sim = rmq_sim_create(1000);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    unsigned char buf[8];
    rmq_sim_conn *s;
    void *c = NULL;
    f.latency_ms = 250;
    REQUIRE(rmq_sim_listen(sim, "far", 7, NULL, NULL) == 0);
    REQUIRE(rmq_sim_set_faults(sim, "far", 7, &f) == 0);
    CHECK(P->connect(P->ctx, "far", 7, &c) == RMQ_PORT_AGAIN);
    REQUIRE(c != NULL);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 100, NULL) == 0);
    CHECK(rmq_sim_now(sim) == 1100);
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_AGAIN);
    CHECK(wait_one(P, c, RMQ_WANT_WRITE, 1000, NULL) == 1);
    CHECK(rmq_sim_now(sim) == 1250);              /* exactly when it connected */
    CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_OK);
    s = rmq_sim_last_conn(sim, "far", 7);
    CHECK(rmq_sim_conn_write(s, "ans", 3) == 0);  /* readable at 1500 */
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 100, NULL) == 0);
    CHECK(rmq_sim_now(sim) == 1350);
    rmq_sim_advance(sim, 100);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 10000, NULL) == 1);
    CHECK(rmq_sim_now(sim) == 1500);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 3 && memcmp(buf, "ans", 3) == 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_wait_takes_the_earliest_event_of_its_items(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults slow = no_faults();
    rmq_sim_faults fast = no_faults();
    rmq_wait_item items[3];
    void *a;
    void *b;
    slow.latency_ms = 500;
    fast.latency_ms = 200;
    REQUIRE(rmq_sim_listen(sim, "a", 1, NULL, NULL) == 0);
    REQUIRE(rmq_sim_listen(sim, "b", 1, NULL, NULL) == 0);
    a = connect_to(P, "a", 1);
    b = connect_to(P, "b", 1);
    REQUIRE(a != NULL && b != NULL);
    rmq_sim_conn_set_faults((rmq_sim_conn *)a, &slow);
    rmq_sim_conn_set_faults((rmq_sim_conn *)b, &fast);
    CHECK(rmq_sim_conn_write((rmq_sim_conn *)a, "A", 1) == 0);
    CHECK(rmq_sim_conn_write((rmq_sim_conn *)b, "B", 1) == 0);
    items[0].conn = a;
    items[0].want = RMQ_WANT_READ;
    items[1].conn = NULL;
    items[1].want = RMQ_WANT_READ;
    items[2].conn = b;
    items[2].want = RMQ_WANT_READ;
    CHECK(P->wait(P->ctx, items, 3, 5000) == 1);
    CHECK(rmq_sim_now(sim) == 200);
    CHECK(items[0].ready == 0 && items[1].ready == 0 && items[2].ready == RMQ_WANT_READ);
    items[2].want = 0;     /* b drained by the caller: only a matters */
    CHECK(P->wait(P->ctx, items, 3, 5000) == 1);
    CHECK(rmq_sim_now(sim) == 500);
    CHECK(items[0].ready == RMQ_WANT_READ);
    CHECK(P->wait(P->ctx, NULL, 0, 70) == 0);     /* nothing to wait on: a timer */
    CHECK(rmq_sim_now(sim) == 570);
    P->close(P->ctx, a);
    P->close(P->ctx, b);
    rmq_sim_destroy(sim);
}

static void test_clock_wraps_across_2_pow_32_during_waits(void)
{
    const uint32_t start = 0xFFFFFF00u;
    rmq_sim *sim = rmq_sim_create(start);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_faults f = no_faults();
    unsigned char buf[4];
    rmq_sim_conn *s;
    void *stalled = NULL;
    void *c;
    int i;
    f.stall = 1;
    REQUIRE(rmq_sim_set_faults(sim, "hole", 1, &f) == 0);
    CHECK(P->connect(P->ctx, "hole", 1, &stalled) == RMQ_PORT_AGAIN);
    REQUIRE(stalled != NULL);
    for (i = 0; i < 5; i++)
        CHECK(wait_one(P, stalled, RMQ_WANT_WRITE, 100, NULL) == 0);
    CHECK(P->now_ms(P->ctx) == 0x000000F4u);       /* start + 500, wrapped */
    CHECK((int32_t)(P->now_ms(P->ctx) - start) == 500);
    P->close(P->ctx, stalled);
    rmq_sim_destroy(sim);

    /* a delivery scheduled across the wrap arrives on time */
    sim = rmq_sim_create(start);
    P = rmq_sim_port(sim);
    REQUIRE(sim != NULL);
    f = no_faults();
    f.latency_ms = 300;
    REQUIRE(rmq_sim_listen(sim, "b", 1, NULL, NULL) == 0);
    REQUIRE(rmq_sim_set_faults(sim, "b", 1, &f) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    CHECK(rmq_sim_now(sim) == 0x0000002Cu);        /* connected at start + 300 */
    s = rmq_sim_last_conn(sim, "b", 1);
    CHECK(rmq_sim_conn_write(s, "w", 1) == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 299, NULL) == 0);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 299, NULL) == 1);
    CHECK(rmq_sim_now(sim) == 0x0000002Cu + 300u);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 1);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);

    /* the same with a start right below the wrap of the delivery itself */
    sim = rmq_sim_create(0xFFFFFFF0u);
    P = rmq_sim_port(sim);
    REQUIRE(sim != NULL);
    REQUIRE(rmq_sim_listen(sim, "b", 1, NULL, NULL) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    f = no_faults();
    f.latency_ms = 0x20;
    rmq_sim_conn_set_faults((rmq_sim_conn *)c, &f);
    CHECK(rmq_sim_conn_write((rmq_sim_conn *)c, "x", 1) == 0);  /* due at 0x10 */
    CHECK(wait_one(P, c, RMQ_WANT_READ, 1000, NULL) == 1);
    CHECK(rmq_sim_now(sim) == 0x10u);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_wake_makes_the_next_wait_return_without_moving_the_clock(void)
{
    rmq_sim *sim = rmq_sim_create(77);
    const rmq_port *P = rmq_sim_port(sim);
    P->wake(P->ctx);
    CHECK(P->wait(P->ctx, NULL, 0, 10000) == 0);
    CHECK(rmq_sim_now(sim) == 77);
    CHECK(P->wait(P->ctx, NULL, 0, 100) == 0);       /* consumed: time passes */
    CHECK(rmq_sim_now(sim) == 177);
    rmq_sim_destroy(sim);
}

static void test_peer_close_drains_then_recv_is_negative(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    unsigned char buf[8];
    unsigned ready = 0;
    rmq_sim_conn *s;
    peer pr;
    void *c;
    memset(&pr, 0, sizeof pr);
    REQUIRE(rmq_sim_listen(sim, "b", 1, &ops, &pr) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "b", 1);
    CHECK(rmq_sim_conn_write(s, "bye", 3) == 0);
    rmq_sim_conn_close(s);
    CHECK(rmq_sim_conn_write(s, "more", 4) < 0);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) == 3);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 1000, &ready) == 1);
    CHECK(ready == RMQ_WANT_READ);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) < 0);
    P->close(P->ctx, c);
    CHECK(pr.closes == 0);     /* the peer closed it itself */
    rmq_sim_destroy(sim);
}

static void test_peer_reset_loses_pending_bytes(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    unsigned char buf[8];
    rmq_sim_conn *s;
    void *c;
    REQUIRE(rmq_sim_listen(sim, "b", 1, NULL, NULL) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "b", 1);
    CHECK(rmq_sim_conn_write(s, "lost", 4) == 0);
    rmq_sim_conn_reset(s);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) < 0);
    CHECK(P->send(P->ctx, c, "x", 1) < 0);
    P->close(P->ctx, c);
    rmq_sim_destroy(sim);
}

static void test_mute_peer_never_sees_the_bytes(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    rmq_sim_faults f = no_faults();
    peer pr;
    void *c;
    memset(&pr, 0, sizeof pr);
    pr.echo = 1;
    f.mute = 1;
    REQUIRE(rmq_sim_listen(sim, "b", 1, &ops, &pr) == 0);
    REQUIRE(rmq_sim_set_faults(sim, "b", 1, &f) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    CHECK(pr.accepts == 1);
    CHECK(P->send(P->ctx, c, "hello", 5) == 5);
    CHECK(pr.data_calls == 0);
    CHECK(wait_one(P, c, RMQ_WANT_READ, 3000, NULL) == 0);
    CHECK(rmq_sim_now(sim) == 3000);
    P->close(P->ctx, c);
    CHECK(pr.closes == 1);
    rmq_sim_destroy(sim);
}

static void test_scripted_peer_takes_and_answers(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    unsigned char got[16];
    rmq_sim_conn *s;
    void *c;
    int tag = 5;
    REQUIRE(rmq_sim_listen(sim, "ns", 9876, NULL, NULL) == 0);
    c = connect_to(P, "ns", 9876);
    REQUIRE(c != NULL);
    s = rmq_sim_last_conn(sim, "ns", 9876);
    REQUIRE(s != NULL);
    rmq_sim_conn_set_user(s, &tag);
    CHECK(rmq_sim_conn_user(s) == &tag);
    CHECK(rmq_sim_conn_sim(s) == sim);
    CHECK(P->send(P->ctx, c, "req1", 4) == 4);
    CHECK(P->send(P->ctx, c, "req2", 4) == 4);
    CHECK(rmq_sim_conn_take(s, got, 6) == 6 && memcmp(got, "req1re", 6) == 0);
    CHECK(rmq_sim_conn_write(s, "resp", 4) == 0);
    CHECK(P->recv(P->ctx, c, got, sizeof got) == 4 && memcmp(got, "resp", 4) == 0);
    CHECK(P->send(P->ctx, c, "bye!", 4) == 4);
    P->close(P->ctx, c);
    /* what the client wrote right before closing is still there */
    CHECK(rmq_sim_conn_available(s) == 6);
    CHECK(rmq_sim_conn_take(s, got, sizeof got) == 6 && memcmp(got, "q2bye!", 6) == 0);
    CHECK(rmq_sim_conn_write(s, "x", 1) < 0);
    rmq_sim_destroy(sim);
}

static void test_unlisten_refuses_new_connects_but_keeps_old_ones(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    rmq_sim_peer_ops ops = peer_ops();
    peer pr;
    void *c;
    void *d = NULL;
    memset(&pr, 0, sizeof pr);
    pr.echo = 1;
    REQUIRE(rmq_sim_listen(sim, "b", 1, &ops, &pr) == 0);
    c = connect_to(P, "b", 1);
    REQUIRE(c != NULL);
    rmq_sim_unlisten(sim, "b", 1);
    CHECK(P->connect(P->ctx, "b", 1, &d) == RMQ_PORT_REFUSED);
    CHECK(P->send(P->ctx, c, "k", 1) == 1);
    CHECK(pr.bytes == 1);
    REQUIRE(rmq_sim_listen(sim, "B", 1, &ops, &pr) == 0);    /* case-insensitive */
    d = connect_to(P, "b", 1);
    CHECK(d != NULL);
    CHECK(rmq_sim_connects(sim, "b", 1) == 3);
    P->close(P->ctx, c);
    if (d != NULL)
        P->close(P->ctx, d);
    rmq_sim_destroy(sim);
}

static void test_wall_clock_unknown_until_set_then_moves_with_time(void)
{
    rmq_sim *sim = rmq_sim_create(10);
    const rmq_port *P = rmq_sim_port(sim);
    int64_t wall = 42;
    CHECK(P->wall_ms(P->ctx, &wall) != 0);
    CHECK(wall == 42);
    rmq_sim_set_wall(sim, (int64_t)1700000000000LL);
    CHECK(P->wall_ms(P->ctx, &wall) == 0 && wall == (int64_t)1700000000000LL);
    rmq_sim_advance(sim, 1500);
    CHECK(P->wait(P->ctx, NULL, 0, 500) == 0);
    CHECK(P->wall_ms(P->ctx, &wall) == 0 && wall == (int64_t)1700000002000LL);
    rmq_sim_destroy(sim);
}

static void test_identity_entropy_and_environment_are_deterministic(void)
{
    rmq_sim *a = rmq_sim_create(0);
    rmq_sim *b = rmq_sim_create(0);
    const rmq_port *PA = rmq_sim_port(a);
    const rmq_port *PB = rmq_sim_port(b);
    unsigned char x[13];
    unsigned char y[13];
    char ip[64];
    CHECK(PA->local_ip(PA->ctx, ip, sizeof ip) == 0 && strcmp(ip, "127.0.0.1") == 0);
    CHECK(PA->process_id(PA->ctx) == 1);
    rmq_sim_set_identity(a, "192.0.2.2", 4242);
    CHECK(PA->local_ip(PA->ctx, ip, sizeof ip) == 0 && strcmp(ip, "192.0.2.2") == 0);
    CHECK(PA->local_ip(PA->ctx, ip, 4) != 0);
    CHECK(PA->process_id(PA->ctx) == 4242);
    rmq_sim_set_identity(a, NULL, 7);
    CHECK(PA->local_ip(PA->ctx, ip, sizeof ip) != 0);
    rmq_sim_seed(a, 99);
    rmq_sim_seed(b, 99);
    PA->entropy(PA->ctx, x, sizeof x);
    PB->entropy(PB->ctx, y, sizeof y);
    CHECK(memcmp(x, y, sizeof x) == 0);
    rmq_sim_seed(b, 100);
    PB->entropy(PB->ctx, y, sizeof y);
    PA->entropy(PA->ctx, x, sizeof x);
    CHECK(memcmp(x, y, sizeof x) != 0);
    CHECK(PA->getenv(PA->ctx, "NAMESRV_ADDR") == NULL);
    CHECK(rmq_sim_setenv(a, "NAMESRV_ADDR", "ns:9876") == 0);
    CHECK(PA->getenv(PA->ctx, "NAMESRV_ADDR") != NULL &&
          strcmp(PA->getenv(PA->ctx, "NAMESRV_ADDR"), "ns:9876") == 0);
    CHECK(rmq_sim_setenv(a, "NAMESRV_ADDR", "other:1") == 0);
    CHECK(strcmp(PA->getenv(PA->ctx, "NAMESRV_ADDR"), "other:1") == 0);
    CHECK(rmq_sim_setenv(a, "NAMESRV_ADDR", NULL) == 0);
    CHECK(PA->getenv(PA->ctx, "NAMESRV_ADDR") == NULL);
    CHECK(PB->getenv(PB->ctx, "NAMESRV_ADDR") == NULL);
    rmq_sim_destroy(a);
    rmq_sim_destroy(b);
}

static int log_count;
static int log_last_level;

static void count_log(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)msg;
    log_count++;
    log_last_level = level;
}

static void test_log_goes_to_the_hook_only(void)
{
    rmq_sim *sim = rmq_sim_create(0);
    const rmq_port *P = rmq_sim_port(sim);
    P->log(P->ctx, RMQ_LOG_ERROR, "dropped");
    rmq_sim_on_log(sim, count_log, NULL);
    P->log(P->ctx, RMQ_LOG_WARN, "kept");
    CHECK(log_count == 1 && log_last_level == RMQ_LOG_WARN);
    rmq_sim_destroy(sim);
}

int main(void)
{
    RUN(test_table_has_transport_clock_identity_and_no_locks);
    RUN(test_connect_accept_echo_and_close);
    RUN(test_sendv_gathers_header_and_body);
    RUN(test_connect_without_listener_is_refused_at_once);
    RUN(test_refuse_fault_at_connect_and_deferred);
    RUN(test_stalled_connect_waits_out_the_timeout_in_virtual_time);
    RUN(test_one_byte_writes_and_reads_carry_10k_intact);
    RUN(test_read_max_splits_a_large_answer);
    RUN(test_reset_after_n_bytes_fails_send_and_recv);
    RUN(test_reset_after_zero_fails_the_first_send);
    RUN(test_flipped_byte_is_observed_at_offset_n);
    RUN(test_latency_delays_connect_and_readability_in_virtual_time);
    RUN(test_wait_takes_the_earliest_event_of_its_items);
    RUN(test_clock_wraps_across_2_pow_32_during_waits);
    RUN(test_wake_makes_the_next_wait_return_without_moving_the_clock);
    RUN(test_peer_close_drains_then_recv_is_negative);
    RUN(test_peer_reset_loses_pending_bytes);
    RUN(test_mute_peer_never_sees_the_bytes);
    RUN(test_scripted_peer_takes_and_answers);
    RUN(test_unlisten_refuses_new_connects_but_keeps_old_ones);
    RUN(test_wall_clock_unknown_until_set_then_moves_with_time);
    RUN(test_identity_entropy_and_environment_are_deterministic);
    RUN(test_log_goes_to_the_hook_only);
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed == 0 ? 0 : 1;
}
