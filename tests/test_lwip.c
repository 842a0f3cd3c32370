/* Tests of port/rmq_port_lwip.h against Debian's liblwip (2.1.3, the unix
 * port), for real: the seed's batch goes through lwIP's TCP/IP stack, out of
 * a tap interface, to the mock cluster.
 *
 *     build/san/test_lwip [name-filter]       (as root; from the repository root)
 *
 * THE WIRING. The test moves itself into a network namespace of its own
 * (unshare(CLONE_NEWNET)), so everything below exists only inside it and
 * disappears with the process; nothing touches the host's interfaces.
 *
 *     producer -> lwIP port -> lwIP 10.77.0.2/24 -> tap rmqtap0 (lwIP's tapif,
 *       PRECONFIGURED_TAPIF) -> kernel side of the tap 10.77.0.1/24 -> relay
 *       10.77.0.1:P -> mock cluster 127.0.0.1:P (started in the namespace)
 *
 * The mock listens on 127.0.0.1 and announces 127.0.0.1:P in its routes, but
 * lwIP keeps 127/8 to itself (LWIP_NETIF_LOOPBACK). So a one-function port
 * under the producer turns 127.0.0.1 into 10.77.0.1 (the broker addresses of
 * the routes included), and a relay thread in the namespace carries
 * 10.77.0.1:P to 127.0.0.1:P for each port of the mock. Addresses are from
 * 10.77.0.0/24 and only ever exist in the test's namespace.
 *
 * Without root, /dev/net/tun, unshare() or the ip tool, the test prints a
 * line "  SKIP test_lwip: <why>" and counts the skip as passed. */
#define _GNU_SOURCE
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_LWIP_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_lwip.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"
#include "port_test.h"

#include "lwip/tcpip.h"
#include "netif/tapif.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define TAP_NAME "rmqtap0"
#define HOST_SIDE "10.77.0.1"      /* the namespace's end of the tap */
#define LWIP_SIDE "10.77.0.2"      /* lwIP's netif */
#define DEVICE_ID 0xC0FFEEu        /* "12648430" in the client id */
/* Debian's liblwip 2.1.3 writes a received Ethernet frame into one
 * PBUF_POOL element, but its pool elements hold 592 bytes (TCP_MSS 536 in
 * the pool's size, 1460 in pbuf_alloc's): a longer frame from the tap
 * overflows the heap inside tapif's thread (ASan shows it). With a 576-byte
 * MTU on the kernel's side the kernel never sends one (its MSS becomes 536). */
#define TAP_MTU "576"
#define MAX_RELAYS 4

static struct {
    mock_cluster mock;
    struct netif netif;
    rmq_port_lwip lw;              /* the port under test (single-threaded) */
    rmq_port nat;                  /* lw with 127.0.0.1 turned into HOST_SIDE */
    unsigned long entropy_calls;
    int relay_fd[MAX_RELAYS];      /* listeners on HOST_SIDE:P */
    uint16_t relay_port[MAX_RELAYS];
    pthread_t relay_thread[MAX_RELAYS];
    int nrelays;
} L;

/* ---- what the application supplies to the port ---------------------------- */

static uint32_t device_id(void *arg)
{
    (void)arg;
    return DEVICE_ID;
}

static void entropy(void *arg, void *buf, size_t len)
{
    unsigned char *p = (unsigned char *)buf;
    static uint32_t x = 2463534242u;
    size_t i;
    (void)arg;
    L.entropy_calls++;
    for (i = 0; i < len; i++) {   /* xorshift: enough for a test bench */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* ---- the namespace and the tap -------------------------------------------- */

static int sh(const char *cmd)
{
    fflush(stdout);
    fflush(stderr);
    return system(cmd);
}

/* NULL when the namespace with its tap is ready, else why not. */
static const char *enter_namespace(void)
{
    static char why[256];
    if (geteuid() != 0)
        return "not root: creating a network namespace and a tap interface needs CAP_NET_ADMIN";
    if (access("/dev/net/tun", R_OK | W_OK) != 0)
        return "no usable /dev/net/tun (tun driver missing, or not allowed in this container)";
    if (unshare(CLONE_NEWNET) != 0) {
        snprintf(why, sizeof why, "unshare(CLONE_NEWNET) failed: %s", strerror(errno));
        return why;
    }
    if (sh("ip link set lo up >/dev/null 2>&1") != 0)
        return "the ip tool (iproute2) is missing or failed to bring lo up";
    if (sh("ip tuntap add dev " TAP_NAME " mode tap >/dev/null 2>&1 && "
           "ip link set " TAP_NAME " mtu " TAP_MTU " >/dev/null 2>&1 && "
           "ip addr add " HOST_SIDE "/24 dev " TAP_NAME " >/dev/null 2>&1 && "
           "ip link set " TAP_NAME " up >/dev/null 2>&1") != 0)
        return "cannot create the tap interface " TAP_NAME " in the namespace";
    return NULL;
}

/* ---- the relay: HOST_SIDE:P -> 127.0.0.1:P inside the namespace ------------ */

typedef struct pipe_arg { int from, to; } pipe_arg;

static void *relay_pipe(void *arg)
{
    pipe_arg *pa = (pipe_arg *)arg;
    char buf[16384];
    for (;;) {
        ssize_t n = read(pa->from, buf, sizeof buf), off = 0;
        if (n <= 0) break;
        while (off < n) {
            ssize_t w = write(pa->to, buf + off, (size_t)(n - off));
            if (w <= 0) { n = -1; break; }
            off += w;
        }
        if (n < 0) break;
    }
    shutdown(pa->to, SHUT_WR);
    shutdown(pa->from, SHUT_RD);
    free(pa);
    return NULL;
}

static void relay_splice(int a, int b)
{
    pipe_arg *ab = (pipe_arg *)malloc(sizeof *ab), *ba = (pipe_arg *)malloc(sizeof *ba);
    pthread_t t;
    ab->from = a; ab->to = b;
    ba->from = b; ba->to = a;
    if (pthread_create(&t, NULL, relay_pipe, ab) == 0) pthread_detach(t); else free(ab);
    if (pthread_create(&t, NULL, relay_pipe, ba) == 0) pthread_detach(t); else free(ba);
}

static void *relay_accept(void *arg)
{
    int k = (int)(intptr_t)arg;
    char target[32];
    snprintf(target, sizeof target, "127.0.0.1:%u", L.relay_port[k]);
    for (;;) {
        int a = accept(L.relay_fd[k], NULL, NULL), b;
        if (a < 0) {
            if (errno == EINTR) continue;
            return NULL;              /* the listener was shut down */
        }
        b = mock_connect(target);
        if (b < 0) { close(a); continue; }
        relay_splice(a, b);
    }
}

static int relay_add(uint16_t port)
{
    struct sockaddr_in sa;
    int one = 1, k = L.nrelays;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || k >= MAX_RELAYS) return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, HOST_SIDE, &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) { close(fd); return -1; }
    L.relay_fd[k] = fd;
    L.relay_port[k] = port;
    if (pthread_create(&L.relay_thread[k], NULL, relay_accept, (void *)(intptr_t)k) != 0) { close(fd); return -1; }
    L.nrelays++;
    return 0;
}

static void relay_stop(void)
{
    int k;
    for (k = 0; k < L.nrelays; k++) {
        shutdown(L.relay_fd[k], SHUT_RDWR);
        pthread_join(L.relay_thread[k], NULL);
        close(L.relay_fd[k]);
    }
    L.nrelays = 0;
}

static uint16_t port_of(const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    return colon ? (uint16_t)atoi(colon + 1) : 0;
}

/* ---- lwIP ------------------------------------------------------------------ */

static void tcpip_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *)arg);
}

static int lwip_start(void)
{
    sys_sem_t ready;
    ip4_addr_t ip, mask, gw;
    if (setenv("PRECONFIGURED_TAPIF", TAP_NAME, 1) != 0 || sys_sem_new(&ready, 0) != ERR_OK) return -1;
    tcpip_init(tcpip_ready, &ready);
    sys_arch_sem_wait(&ready, 0);
    sys_sem_free(&ready);
    IP4_ADDR(&ip, 10, 77, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 77, 0, 1);
    LOCK_TCPIP_CORE();
    if (!netif_add(&L.netif, &ip, &mask, &gw, NULL, tapif_init, tcpip_input)) {
        UNLOCK_TCPIP_CORE();
        return -1;
    }
    netif_set_default(&L.netif);
    netif_set_up(&L.netif);
    UNLOCK_TCPIP_CORE();
    return 0;
}

/* The lwIP port with 127.0.0.1 (the mock's announced host) turned into the
 * namespace's end of the tap. */
static int nat_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    if (strcmp(host, "127.0.0.1") == 0) host = HOST_SIDE;
    return L.lw.port.connect(ctx, host, port, conn);
}

static int setup(void)
{
    rmq_port_lwip_config lc;
    int i;
    if (mock_start(&L.mock, "--quiet --brokers 2 --topic BatchTest --topic LwipTest") != 0) return -1;
    if (relay_add(port_of(L.mock.namesrv)) != 0) return -1;
    for (i = 0; i < L.mock.nbrokers; i++)
        if (relay_add(port_of(L.mock.broker_addr[i])) != 0) return -1;
    if (lwip_start() != 0) return -1;
    rmq_port_lwip_config_init(&lc);
    lc.device_id = device_id;
    lc.entropy = entropy;
    if (!rmq_port_lwip_init(&L.lw, &lc)) return -1;
    L.nat = L.lw.port;
    L.nat.connect = nat_connect;
    return 0;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_identity_comes_from_the_netif_and_the_init_struct(void)
{
    const rmq_port *p = &L.lw.port;
    char ip[64];
    unsigned char rnd[8];
    uint32_t t0;
    CHECK_INT(p->local_ip(p->ctx, ip, sizeof ip), 0);
    CHECK_STR(ip, LWIP_SIDE);
    CHECK(p->local_ip(p->ctx, ip, 4) != 0);          /* does not fit */
    CHECK_INT(p->process_id(p->ctx), DEVICE_ID);
    L.entropy_calls = 0;
    p->entropy(p->ctx, rnd, sizeof rnd);
    CHECK_INT(L.entropy_calls, 1);
    CHECK(p->getenv == NULL);
    CHECK(p->mutex_create == NULL && p->wake == NULL);  /* threads not asked for */
    t0 = p->now_ms(p->ctx);
    usleep(30000);
    CHECK((uint32_t)(p->now_ms(p->ctx) - t0) >= 25u);   /* sys_now() moves */
}

static void test_connect_and_a_round_trip_through_the_tap(void)
{
    const rmq_port *p = &L.nat;
    void *conn = NULL;
    /* GET_ROUTEINFO_BY_TOPIC (105) for TopicTest, JSON header, opaque 1. */
    static const char hdr[] = "{\"code\":105,\"extFields\":{\"topic\":\"LwipTest\"},\"flag\":0,"
                              "\"language\":\"OTHER\",\"opaque\":1,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":409}";
    unsigned char frame[512], in[4096];
    size_t hl = sizeof hdr - 1, fl = 8 + hl, got = 0, sent = 0;
    long deadline;
    frame[0] = 0; frame[1] = 0; frame[2] = (unsigned char)((4 + hl) >> 8); frame[3] = (unsigned char)(4 + hl);
    frame[4] = 0; frame[5] = 0; frame[6] = (unsigned char)(hl >> 8); frame[7] = (unsigned char)hl;
    memcpy(frame + 8, hdr, hl);
    CHECK_INT(drive_connect(p, "127.0.0.1", port_of(L.mock.namesrv), &conn, 5000), RMQ_PORT_OK);
    CHECK(rmq_port_lwip_socket(conn) >= 0);
    deadline = mock_now_ms() + 5000;
    while ((sent < fl || got < 4 || got < 4 + ((size_t)in[0] << 24 | (size_t)in[1] << 16 | (size_t)in[2] << 8 | in[3]))
           && mock_now_ms() < deadline) {
        rmq_wait_item it;
        long n;
        it.conn = conn;
        it.want = RMQ_WANT_READ | (sent < fl ? RMQ_WANT_WRITE : 0u);
        it.ready = 0;
        if (p->wait(p->ctx, &it, 1, 100) <= 0) continue;
        if ((it.ready & RMQ_WANT_WRITE) && sent < fl) {
            n = p->send(p->ctx, conn, frame + sent, fl - sent);
            CHECK(n >= 0);
            sent += (size_t)n;
        }
        if (it.ready & RMQ_WANT_READ) {
            n = p->recv(p->ctx, conn, in + got, sizeof in - got);
            CHECK(n >= 0);
            got += (size_t)n;
        }
    }
    p->close(p->ctx, conn);
    CHECKF(got > 8, "no answer from the name server through lwIP (sent %zu of %zu)", sent, fl);
    CHECK(memmem(in, got, "\"opaque\":1", 10) != NULL);
    CHECK(memmem(in, got, "brokerDatas", 11) != NULL);
}

static void test_refused_connect_is_reported_as_refused(void)
{
    void *conn = NULL;
    /* Port 9 of the namespace's end: nobody listens, the kernel sends RST. */
    CHECK_INT(drive_connect(&L.lw.port, HOST_SIDE, 9, &conn, 5000), RMQ_PORT_REFUSED);
    CHECK_INT(drive_connect(&L.lw.port, "not-an-address", 9, &conn, 100), RMQ_PORT_FAILED);
}

static void test_seed_batch_and_a_sync_message_travel_through_lwip(void)
{
    static const char *const keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    static const char *const bodies[3] = { "Hello world 0", "Hello world 1", "Hello world 2" };
    rmq_producer_config cfg;
    rmq_producer *prod = NULL;
    rmq_message m[3], one;
    rmq_send_result res[3], r1;
    char ns[64], out[16384];
    rmq_err err;
    int i;
    long t0 = mock_now_ms();
    snprintf(ns, sizeof ns, "127.0.0.1:%u", port_of(L.mock.namesrv));
    rmq_producer_config_init(&cfg);
    cfg.group = "BatchProducerGroupName";
    cfg.namesrv_addr = ns;
    cfg.port = &L.nat;
    cfg.send_timeout_ms = 10000;
    CHECK_INT(rmq_producer_create(&cfg, &prod), RMQ_OK);
    CHECK_INT(rmq_producer_start(prod), RMQ_OK);
    CHECK_HAS(rmq_producer_client_id(prod), LWIP_SIDE "@12648430");
    for (i = 0; i < 3; i++) {
        rmq_message_init(&m[i], "BatchTest", bodies[i], strlen(bodies[i]));
        m[i].tags = "Tag";
        m[i].keys = keys[i];
    }
    err = rmq_send_batch(prod, m, 3, res);
    CHECKF(err == RMQ_OK, "batch: %s: %s", rmq_strerror(err), rmq_producer_last_error(prod));
    CHECK_INT(res[0].status, RMQ_SEND_OK);
    rmq_message_init(&one, "LwipTest", "via lwIP", 8);
    one.keys = "lwip-sync";
    err = rmq_send(prod, &one, &r1);
    CHECKF(err == RMQ_OK, "sync: %s: %s", rmq_strerror(err), rmq_producer_last_error(prod));
    rmq_producer_shutdown(prod);
    rmq_producer_destroy(prod);
    printf("lwip: batch + sync + shutdown in %ld ms\n", mock_now_ms() - t0);
    CHECK_INT(mock_count(&L.mock, "BatchTest"), 3);
    CHECK_INT(mock_count(&L.mock, "LwipTest"), 1);
    CHECK_INT(mock_dump(&L.mock, "BatchTest", out, sizeof out), 0);
    CHECK_HAS(out, "\"keys\":\"OrderID003\"");
    CHECK_HAS(out, "48656C6C6F20776F726C642030");    /* "Hello world 0" */
    CHECK_INT(mock_cmd(&L.mock, out, sizeof out, "CLIENTS"), 0);
    CHECK_HAS(out, "clientID=" LWIP_SIDE "@12648430");   /* the heartbeat came from lwIP */
}

static void *wake_later(void *arg)
{
    const rmq_port *p = (const rmq_port *)arg;
    usleep(100000);
    p->wake(p->ctx);
    return NULL;
}

/* A port of this test's identity, with threads. */
static const rmq_port *threaded_port(rmq_port_lwip *lw)
{
    rmq_port_lwip_config lc;
    rmq_port_lwip_config_init(&lc);
    lc.device_id = device_id;
    lc.entropy = entropy;
    lc.threads = 1;
    return rmq_port_lwip_init(lw, &lc);
}

static void test_wake_ends_a_wait_and_events_signal(void)
{
    static rmq_port_lwip lw;
    const rmq_port *p;
    pthread_t t;
    void *ev, *mu;
    long t0;
    p = threaded_port(&lw);
    CHECK(p != NULL && p->wake != NULL && p->mutex_create != NULL);
    CHECK(lw.wake_sock >= 0);                       /* loopback is on in Debian's build */
    t0 = mock_now_ms();
    CHECK_INT(pthread_create(&t, NULL, wake_later, (void *)p), 0);
    CHECK_INT(p->wait(p->ctx, NULL, 0, 5000), 0);
    pthread_join(t, NULL);
    CHECKF(mock_now_ms() - t0 < 2000, "wait ended after %ld ms, not at the wake", mock_now_ms() - t0);
    /* Again: the first wake's datagram was drained, a second one still ends
     * a wait. (Which address the wake reaches, 127.0.0.1 or the netif's
     * own, depends on the lwIP build and its interfaces; in this test
     * 127.0.0.1 answers, so the own-address way is not taken.) */
    t0 = mock_now_ms();
    CHECK_INT(pthread_create(&t, NULL, wake_later, (void *)p), 0);
    CHECK_INT(p->wait(p->ctx, NULL, 0, 5000), 0);
    pthread_join(t, NULL);
    CHECKF(mock_now_ms() - t0 < 2000, "a second wait ended after %ld ms, not at the wake", mock_now_ms() - t0);
    t0 = mock_now_ms();
    p->wake(p->ctx);                                 /* nobody waits: the next wait sees it */
    CHECK_INT(p->wait(p->ctx, NULL, 0, 5000), 0);
    CHECKF(mock_now_ms() - t0 < 2000, "an earlier wake was lost (%ld ms)", mock_now_ms() - t0);
    t0 = mock_now_ms();
    CHECK_INT(p->wait(p->ctx, NULL, 0, 100), 0);     /* and only that one */
    CHECKF(mock_now_ms() - t0 >= 90, "a wake was seen twice (%ld ms)", mock_now_ms() - t0);
    mu = p->mutex_create(p->ctx);
    CHECK(mu != NULL);
    p->mutex_lock(p->ctx, mu);
    p->mutex_unlock(p->ctx, mu);
    p->mutex_destroy(p->ctx, mu);
    ev = p->event_create(p->ctx);
    CHECK(ev != NULL);
    CHECK(p->event_wait(p->ctx, ev, 20) != 0);       /* times out */
    p->event_signal(p->ctx, ev);
    p->event_signal(p->ctx, ev);                     /* auto-reset: one wait consumes both */
    CHECK_INT(p->event_wait(p->ctx, ev, 1000), 0);
    CHECK(p->event_wait(p->ctx, ev, 0) != 0);
    p->event_destroy(p->ctx, ev);
    rmq_port_lwip_free(&lw);
}

static volatile int factory_taken;

static void *take_factory_lock(void *arg)
{
    const rmq_port *p = (const rmq_port *)arg;
    p->factory_lock(p->ctx);
    factory_taken = 1;
    p->factory_unlock(p->ctx);
    return NULL;
}

/* The table of client instances is process-wide: its lock must keep a
 * second thread out until the first lets go. */
static void test_the_factory_lock_keeps_another_thread_out_until_released(void)
{
    static rmq_port_lwip lw;
    const rmq_port *p;
    pthread_t t;
    long t0;
    p = threaded_port(&lw);
    CHECK(p != NULL && p->factory_lock != NULL && p->factory_unlock != NULL);
    factory_taken = 0;
    p->factory_lock(p->ctx);
    CHECK_INT(pthread_create(&t, NULL, take_factory_lock, (void *)p), 0);
    for (t0 = mock_now_ms(); mock_now_ms() - t0 < 100; ) {}
    CHECK_INT(factory_taken, 0);
    p->factory_unlock(p->ctx);
    pthread_join(t, NULL);
    CHECK_INT(factory_taken, 1);
    rmq_port_lwip_free(&lw);
}

int main(int argc, char **argv)
{
    const char *why;
    long t0 = mock_now_ms();
    if (argc > 1) test_filter = argv[1];
    why = enter_namespace();
    if (why) {
        /* Indented, so that tests/run.sh shows it with the result line. */
        printf("  SKIP test_lwip: %s\n", why);
        test_passed++;
        return test_summary();
    }
    if (setup() != 0) {
        fprintf(stderr, "FAIL setup: the mock, the relay or lwIP did not start\n");
        test_failed++;
        return test_summary();
    }
    RUN(test_identity_comes_from_the_netif_and_the_init_struct);
    RUN(test_connect_and_a_round_trip_through_the_tap);
    RUN(test_refused_connect_is_reported_as_refused);
    RUN(test_seed_batch_and_a_sync_message_travel_through_lwip);
    RUN(test_wake_ends_a_wait_and_events_signal);
    RUN(test_the_factory_lock_keeps_another_thread_out_until_released);
    rmq_port_lwip_free(&L.lw);
    relay_stop();
    mock_stop(&L.mock);
    printf("lwip: %ld ms in all\n", mock_now_ms() - t0);
    return test_summary();
}
