/* Tests of port/rmq_port_mbedtls.h: TLS over the POSIX port, against
 * stunnel (an OpenSSL server) in front of the mock cluster's name server and
 * brokers. The test starts and stops the mock and stunnel itself; stunnel's
 * configuration is written into a temporary directory.
 *
 *     build/san/test_tls [name-filter]        (run from the repository root)
 *
 * Certificates come from tests/certs (tools/gen_certs.sh), or $RMQ_CERTS.
 * Without stunnel on the PATH the tests that need a server print SKIP and
 * count as passed.
 *
 * The mock announces its brokers as 127.0.0.1:<broker port> in routes. A
 * small wrapper port under TLS (the "route map") sends a connection for a
 * broker port to stunnel's port for that broker, and refuses every port it
 * does not know, so no byte reaches the mock without TLS. The TLS port sees
 * the announced address, so host names are checked as a producer in the
 * field would check them. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define RMQ_PORT_MBEDTLS_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "../port/rmq_port_mbedtls.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"
#include "port_test.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define TLS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TLS_TEST_ASAN 1
#endif
#endif
#ifdef TLS_TEST_ASAN
#include <sanitizer/allocator_interface.h>
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define TLS_TEST_MALLINFO2 1
#endif

/* Skip lines are indented, so that tests/run.sh shows them. */
#define SKIP_IF_NO_SERVER() do { if (!T.up) { printf("  SKIP %s: %s\n", test_current, T.why_down); return; } } while (0)

/* Services of the stunnel instance, each in front of a mock port. */
enum { SVC_NS, SVC_BROKER_A, SVC_BROKER_B, SVC_OTHER_HOST, SVC_MTLS, SVC_COUNT };

static struct {
    int up;                       /* mock and stunnel are running */
    char why_down[256];
    mock_cluster mock;
    pid_t stunnel;
    char dir[64];                 /* stunnel's temporary directory */
    char certs[512];              /* absolute path of the certificates */
    uint16_t mock_port[SVC_COUNT];  /* what each service forwards to */
    uint16_t tls_port[SVC_COUNT];   /* where stunnel accepts it */
    /* The route map under TLS: the POSIX port with a connect that sends a
     * mock port to stunnel's port for it. */
    rmq_port map;
    int map_chop;                 /* 1: send/recv move one byte, every other call 0 */
    int map_recv_again;           /* 1: the next recv is "try again", then reads are plain */
    unsigned long chop_calls;
    char logged[1024];            /* the last ERROR the port chain logged */
    char nsaddr[64];              /* "127.0.0.1:<stunnel ns port>" */
} T;

static void nap_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* ---- the route map: a port between TLS and POSIX ------------------------- */

static int map_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    int i;
    for (i = 0; i < SVC_COUNT; i++) {
        if (T.mock_port[i] == port && i != SVC_OTHER_HOST && i != SVC_MTLS)
            return rmq_port_posix()->connect(ctx, host, T.tls_port[i], conn);
        if (T.tls_port[i] == port)
            return rmq_port_posix()->connect(ctx, host, port, conn);
    }
    return RMQ_PORT_REFUSED;   /* nothing reaches the mock without TLS */
}

/* Bytes sent so far on each connection of the route map (map_chop). */
static size_t *sent_on(void *conn)
{
    static struct { void *conn; size_t sent; } seen[64];
    static int n;
    int i;
    for (i = 0; i < n; i++)
        if (seen[i].conn == conn) return &seen[i].sent;
    i = n < 64 ? n++ : 63;
    seen[i].conn = conn;
    seen[i].sent = 0;
    return &seen[i].sent;
}

/* With map_chop, every other call is "try again", and reads move one byte,
 * so that mbedTLS sees WANT_READ and WANT_WRITE in every state and the port
 * has records owed. Writes move one byte over the first 300 bytes of a
 * connection (the ClientHello) only: stunnel 5.68 gives up a connection
 * ("transfer() loop executes not transferring any data") when application
 * records reach it in pieces slowly enough, as under valgrind. */
static long map_send(void *ctx, void *conn, const void *buf, size_t len)
{
    long n;
    if (T.map_chop) {
        if (T.chop_calls++ % 2 == 0) return 0;
        if (len > 1 && *sent_on(conn) < 300) len = 1;
    }
    n = rmq_port_posix()->send(ctx, conn, buf, len);
    if (T.map_chop && n > 0) *sent_on(conn) += (size_t)n;
    return n;
}

static long map_recv(void *ctx, void *conn, void *buf, size_t len)
{
    if (T.map_recv_again) {
        T.map_recv_again = 0;
        return 0;
    }
    if (T.map_chop) {
        if (T.chop_calls++ % 2 == 0) return 0;
        if (len > 1) len = 1;
    }
    return rmq_port_posix()->recv(ctx, conn, buf, len);
}

static void map_log(void *ctx, int level, const char *msg)
{
    if (level == RMQ_LOG_ERROR) snprintf(T.logged, sizeof T.logged, "%s", msg);
    rmq_port_posix()->log(ctx, level, msg);
}

static const rmq_port *route_map(void)
{
    rmq_port_posix_init(&T.map);
    T.map.connect = map_connect;
    T.map.send = map_send;
    T.map.recv = map_recv;
    T.map.sendv = NULL;
    T.map.log = map_log;
    return &T.map;
}

/* ---- stunnel -------------------------------------------------------------- */

static uint16_t free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static uint16_t port_of(const char *addr)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    return colon ? (uint16_t)atoi(colon + 1) : 0;
}

static int write_stunnel_conf(const char *path)
{
    static const char *const names[SVC_COUNT] = { "ns", "broker-a", "broker-b", "other-host", "mtls" };
    FILE *f = fopen(path, "w");
    int i;
    if (!f) return -1;
    fprintf(f, "foreground = yes\npid =\nsyslog = no\ndebug = 4\noutput = %s/stunnel.log\n", T.dir);
    for (i = 0; i < SVC_COUNT; i++) {
        const char *leaf = i == SVC_OTHER_HOST ? "other_host" : "server";
        fprintf(f, "\n[%s]\naccept = 127.0.0.1:%u\nconnect = 127.0.0.1:%u\ncert = %s/%s.crt\nkey = %s/%s.key\n",
                names[i], T.tls_port[i], T.mock_port[i], T.certs, leaf, T.certs, leaf);
        if (i == SVC_MTLS)
            fprintf(f, "CAfile = %s/ca.crt\nverifyChain = yes\nrequireCert = yes\n", T.certs);
    }
    return fclose(f);
}

static pid_t spawn_stunnel(const char *conf)
{
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive the test */
        if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
        execlp("stunnel4", "stunnel4", conf, (char *)NULL);
        execlp("stunnel", "stunnel", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Every accept port answers, or stunnel died, or 10 s passed. */
static int wait_for_stunnel(void)
{
    long deadline = mock_now_ms() + 10000;
    int i = 0;
    while (i < SVC_COUNT && mock_now_ms() < deadline) {
        char addr[32];
        int status, fd;
        if (waitpid(T.stunnel, &status, WNOHANG) == T.stunnel) {
            T.stunnel = -1;
            snprintf(T.why_down, sizeof T.why_down, WIFEXITED(status) && WEXITSTATUS(status) == 127
                     ? "stunnel (stunnel4) is not installed" : "stunnel exited at start (see %s/stunnel.log)", T.dir);
            return -1;
        }
        snprintf(addr, sizeof addr, "127.0.0.1:%u", T.tls_port[i]);
        fd = mock_connect(addr);
        if (fd >= 0) { close(fd); i++; continue; }
        nap_ms(20);
    }
    if (i < SVC_COUNT) snprintf(T.why_down, sizeof T.why_down, "stunnel did not listen within 10 s");
    return i == SVC_COUNT ? 0 : -1;
}

static void stop_stunnel(void)
{
    char path[128];
    if (T.stunnel > 0) {
        kill(T.stunnel, SIGTERM);
        waitpid(T.stunnel, NULL, 0);
        T.stunnel = -1;
    }
    if (T.dir[0] && getenv("RMQ_TLS_KEEP")) {
        printf("stunnel's configuration and log are kept in %s\n", T.dir);
    } else if (T.dir[0]) {
        snprintf(path, sizeof path, "%s/stunnel.conf", T.dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/stunnel.log", T.dir);
        unlink(path);
        rmdir(T.dir);
        T.dir[0] = '\0';
    }
}

static int start_servers(void)
{
    char conf[128];
    const char *certs = getenv("RMQ_CERTS");
    int i;
    T.stunnel = -1;
    if (!realpath(certs && *certs ? certs : "tests/certs", T.certs)) {
        snprintf(T.why_down, sizeof T.why_down, "no certificates in %s", certs && *certs ? certs : "tests/certs");
        return -1;
    }
    if (mock_start(&T.mock, "--quiet --brokers 2 --topic BatchTest --topic TlsTest") != 0) {
        snprintf(T.why_down, sizeof T.why_down, "the mock cluster did not start");
        return -1;
    }
    T.mock_port[SVC_NS] = port_of(T.mock.namesrv);
    T.mock_port[SVC_BROKER_A] = port_of(mock_broker_addr(&T.mock, "broker-a"));
    T.mock_port[SVC_BROKER_B] = port_of(mock_broker_addr(&T.mock, "broker-b"));
    T.mock_port[SVC_OTHER_HOST] = T.mock_port[SVC_NS];
    T.mock_port[SVC_MTLS] = T.mock_port[SVC_NS];
    for (i = 0; i < SVC_COUNT; i++) T.tls_port[i] = free_port();
    snprintf(T.dir, sizeof T.dir, "/tmp/rmq-tls-XXXXXX");
    if (!mkdtemp(T.dir)) {
        T.dir[0] = '\0';
        snprintf(T.why_down, sizeof T.why_down, "cannot make a temporary directory");
        return -1;
    }
    snprintf(conf, sizeof conf, "%s/stunnel.conf", T.dir);
    if (write_stunnel_conf(conf) != 0) {
        snprintf(T.why_down, sizeof T.why_down, "cannot write %s", conf);
        return -1;
    }
    T.stunnel = spawn_stunnel(conf);
    if (T.stunnel < 0 || wait_for_stunnel() != 0) return -1;
    snprintf(T.nsaddr, sizeof T.nsaddr, "127.0.0.1:%u", T.tls_port[SVC_NS]);
    T.up = 1;
    return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static const char *cert_path(const char *name)
{
    static char paths[4][600];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", T.certs, name);
    return p;
}

/* A TLS port over the route map, trusting ca (a file of tests/certs). */
static rmq_port *tls_over_map(rmq_port_mbedtls *tls, const char *ca)
{
    rmq_port_mbedtls_config tc;
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_file = cert_path(ca);
    return rmq_port_mbedtls_init(tls, route_map(), &tc);
}


static rmq_err producer_start(const rmq_port *port, const char *group, rmq_producer **out)
{
    rmq_producer_config cfg;
    rmq_err err;
    rmq_producer_config_init(&cfg);
    cfg.group = group;
    cfg.namesrv_addr = T.nsaddr;
    cfg.port = port;
    cfg.send_timeout_ms = 10000;   /* valgrind and 1-byte I/O are slow */
    cfg.connect_timeout_ms = 10000;
    err = rmq_producer_create(&cfg, out);
    if (err != RMQ_OK) return err;
    err = rmq_producer_start(*out);
    if (err != RMQ_OK) { rmq_producer_destroy(*out); *out = NULL; }
    return err;
}

/* The seed's SimpleBatchProducer: three messages of BatchTest, one request. */
static rmq_err send_seed_batch(rmq_producer *p, rmq_send_result res[3])
{
    static const char *const keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    static const char *const bodies[3] = { "Hello world 0", "Hello world 1", "Hello world 2" };
    rmq_message m[3];
    int i;
    for (i = 0; i < 3; i++) {
        rmq_message_init(&m[i], "BatchTest", bodies[i], strlen(bodies[i]));
        m[i].tags = "Tag";
        m[i].keys = keys[i];
    }
    return rmq_send_batch(p, m, 3, res);
}

/* Batch and one sync message through port; checks the mock's store. */
static void batch_and_sync_land(const rmq_port *port, const char *group)
{
    rmq_producer *p = NULL;
    rmq_send_result res[3], one;
    rmq_message m;
    rmq_err err;
    char dump[8192];
    long before_batch = mock_count(&T.mock, "BatchTest"), before_sync = mock_count(&T.mock, "TlsTest");
    CHECK_INT(producer_start(port, group, &p), RMQ_OK);
    err = send_seed_batch(p, res);
    CHECKF(err == RMQ_OK, "batch: %s: %s", rmq_strerror(err), rmq_producer_last_error(p));
    CHECK_INT(res[0].status, RMQ_SEND_OK);
    CHECK(res[0].msg_id[0] != '\0');
    rmq_message_init(&m, "TlsTest", "over TLS", 8);
    m.keys = "tls-sync";
    err = rmq_send(p, &m, &one);
    CHECKF(err == RMQ_OK, "sync: %s: %s", rmq_strerror(err), rmq_producer_last_error(p));
    CHECK_INT(one.status, RMQ_SEND_OK);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    CHECK_INT(mock_count(&T.mock, "BatchTest"), before_batch + 3);
    CHECK_INT(mock_count(&T.mock, "TlsTest"), before_sync + 1);
    CHECK_INT(mock_dump(&T.mock, "BatchTest", dump, sizeof dump), 0);
    CHECK_HAS(dump, "\"keys\":\"OrderID002\"");
    CHECK_HAS(dump, "48656C6C6F20776F726C642032");   /* "Hello world 2" */
    CHECK_INT(mock_dump(&T.mock, "TlsTest", dump, sizeof dump), 0);
    CHECK_HAS(dump, "\"keys\":\"tls-sync\"");
    CHECK_HAS(dump, "6F76657220544C53");               /* "over TLS" */
}

/* ---- heap accounting for the memory figures --------------------------------- */
/* Under ASan, malloc and free hooks keep the bytes in use and their peak
 * exactly; elsewhere glibc's mallinfo2() is sampled between handshake steps
 * (its count includes glibc's own caches, so it is only approximate). */

#ifdef TLS_TEST_ASAN
static long heap_cur, heap_peak;

static void heap_on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    heap_cur += (long)n;
    if (heap_cur > heap_peak) heap_peak = heap_cur;
}

static void heap_on_free(const volatile void *p)
{
    heap_cur -= (long)__sanitizer_get_allocated_size(p);
}
#endif

static void heap_watch(void)
{
#ifdef TLS_TEST_ASAN
    heap_cur = heap_peak = (long)__sanitizer_get_current_allocated_bytes();
    __sanitizer_install_malloc_and_free_hooks(heap_on_malloc, heap_on_free);
#endif
}

static long heap_bytes(void)
{
#if defined(TLS_TEST_ASAN)
    return (long)__sanitizer_get_current_allocated_bytes();
#elif defined(TLS_TEST_MALLINFO2)
    struct mallinfo2 mi = mallinfo2();
    return (long)mi.uordblks;
#else
    return 0;
#endif
}

/* The peak since the last call: counted under ASan; elsewhere the largest
 * sample the caller took (sample). */
static long heap_peak_reset(long sample)
{
#ifdef TLS_TEST_ASAN
    long p = heap_peak;
    (void)sample;
    heap_peak = heap_cur;
    return p;
#else
    return sample;
#endif
}

/* ---- tests ------------------------------------------------------------------ */

static void test_init_refuses_a_port_without_a_ca(void)
{
    rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    rmq_port_mbedtls_config_init(&tc);
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) == NULL);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "no CA certificate configured");
    rmq_port_mbedtls_free(&tls);
}

static void test_init_names_what_does_not_parse(void)
{
    rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    size_t len;
    char *pem;
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) == NULL);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "cannot load the CA certificates");
    tc.ca_pem = NULL;
    tc.ca_file = "/nonexistent/ca.pem";
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) == NULL);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "/nonexistent/ca.pem");
    /* a certificate without its key */
    tc.ca_file = cert_path("ca.crt");
    tc.cert_file = cert_path("client.crt");
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) == NULL);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "needs its key");
    /* a key that belongs to another certificate */
    tc.key_file = cert_path("server.key");
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) == NULL);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "do not go together");
    /* the same CA as PEM text works */
    pem = (char *)test_read_file(cert_path("ca.crt"), &len);
    CHECK(pem != NULL);
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_pem = pem;
    CHECK(rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc) != NULL);
    CHECK_STR(rmq_port_mbedtls_last_error(&tls), "");
    rmq_port_mbedtls_free(&tls);
    free(pem);
}

static void test_seed_batch_and_sync_message_land_in_the_store_over_tls(void)
{
    static rmq_port_mbedtls tls;
    const rmq_port *port;
    SKIP_IF_NO_SERVER();
    port = tls_over_map(&tls, "ca.crt");
    CHECKF(port != NULL, "init: %s", rmq_port_mbedtls_last_error(&tls));
    batch_and_sync_land(port, "TlsProducerGroup");
    CHECK_STR(rmq_port_mbedtls_last_error(&tls), "");
    rmq_port_mbedtls_free(&tls);
}

static void test_one_byte_io_with_try_again_still_delivers(void)
{
    static rmq_port_mbedtls tls;
    const rmq_port *port;
    SKIP_IF_NO_SERVER();
    port = tls_over_map(&tls, "ca.crt");
    CHECKF(port != NULL, "init: %s", rmq_port_mbedtls_last_error(&tls));
    T.map_chop = 1;
    T.chop_calls = 0;
    batch_and_sync_land(port, "TlsChoppyGroup");
    T.map_chop = 0;
    CHECKF(T.chop_calls > 1000, "only %lu inner calls: the 1-byte path was not taken", T.chop_calls);
    rmq_port_mbedtls_free(&tls);
}

static void test_wrong_ca_is_refused_and_the_reason_says_so(void)
{
    static rmq_port_mbedtls tls;
    const rmq_port *port;
    rmq_producer *p = NULL;
    rmq_send_result res[3];
    rmq_err err;
    long before = mock_count(&T.mock, "BatchTest");
    SKIP_IF_NO_SERVER();
    port = tls_over_map(&tls, "ca2.crt");
    CHECK(port != NULL);
    T.logged[0] = '\0';
    CHECK_INT(producer_start(port, "TlsWrongCaGroup", &p), RMQ_OK);
    err = send_seed_batch(p, res);
    CHECK(err != RMQ_OK);
    CHECK_HAS(rmq_producer_last_error(p), T.nsaddr);
    CHECK_HAS(rmq_producer_last_error(p), "not signed by a trusted CA");   /* the port's reason reaches the user */
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "not signed by a trusted CA");
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), T.nsaddr);
    CHECK(rmq_port_mbedtls_last_verify_flags(&tls) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    CHECK_HAS(T.logged, "not signed by a trusted CA");      /* the log sink has it too */
    CHECK_INT(mock_count(&T.mock, "BatchTest"), before);
    rmq_port_mbedtls_free(&tls);
}

static void test_host_name_mismatch_is_refused(void)
{
    static rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    const rmq_port *port;
    void *conn = NULL;
    SKIP_IF_NO_SERVER();
    /* A server of the right CA whose certificate is for other.invalid. */
    port = tls_over_map(&tls, "ca.crt");
    CHECK(port != NULL);
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_OTHER_HOST], &conn, 5000), RMQ_PORT_FAILED);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "host name mismatch");
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "not valid for '127.0.0.1'");
    CHECK(rmq_port_mbedtls_last_verify_flags(&tls) & MBEDTLS_X509_BADCERT_CN_MISMATCH);
    CHECK(!(rmq_port_mbedtls_last_verify_flags(&tls) & MBEDTLS_X509_BADCERT_NOT_TRUSTED));
    rmq_port_mbedtls_free(&tls);
    /* The right certificate, but a server_name it does not carry. */
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_file = cert_path("ca.crt");
    tc.server_name = "rocketmq.invalid";
    port = rmq_port_mbedtls_init(&tls, route_map(), &tc);
    CHECK(port != NULL);
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_NS], &conn, 5000), RMQ_PORT_FAILED);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "not valid for 'rocketmq.invalid'");
    rmq_port_mbedtls_free(&tls);
    /* server_name set to a name it carries: accepted. */
    tc.server_name = "localhost";
    port = rmq_port_mbedtls_init(&tls, route_map(), &tc);
    CHECK(port != NULL);
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_NS], &conn, 5000), RMQ_PORT_OK);
    port->close(port->ctx, conn);
    rmq_port_mbedtls_free(&tls);
}

static void test_insecure_option_accepts_what_verification_refuses(void)
{
    static rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    const rmq_port *port;
    void *conn = NULL;
    SKIP_IF_NO_SERVER();
    rmq_port_mbedtls_config_init(&tc);
    tc.insecure_skip_verify_i_know_what_i_am_doing = 1;
    T.logged[0] = '\0';
    port = rmq_port_mbedtls_init(&tls, route_map(), &tc);
    CHECK(port != NULL);
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_OTHER_HOST], &conn, 5000), RMQ_PORT_OK);
    port->close(port->ctx, conn);
    rmq_port_mbedtls_free(&tls);
}

static void test_client_certificate_is_presented_when_configured(void)
{
    static rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    const rmq_port *port;
    void *conn = NULL;
    size_t len;
    char *key;
    SKIP_IF_NO_SERVER();
    /* Without one, a server that requires it ends the handshake. */
    port = tls_over_map(&tls, "ca.crt");
    CHECK(port != NULL);
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_MTLS], &conn, 5000), RMQ_PORT_FAILED);
    CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "does it require a client certificate (none is configured)");
    rmq_port_mbedtls_free(&tls);
    /* With the client certificate (file) and its key (PEM text). */
    key = (char *)test_read_file(cert_path("client.key"), &len);
    CHECK(key != NULL);
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_file = cert_path("ca.crt");
    tc.cert_file = cert_path("client.crt");
    tc.key_pem = key;
    port = rmq_port_mbedtls_init(&tls, route_map(), &tc);
    free(key);
    CHECKF(port != NULL, "init: %s", rmq_port_mbedtls_last_error(&tls));
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_MTLS], &conn, 5000), RMQ_PORT_OK);
    port->close(port->ctx, conn);
    rmq_port_mbedtls_free(&tls);
}

static void test_an_external_loop_drives_the_handshake_by_the_inner_interest(void)
{
    static rmq_port_mbedtls tls;
    const rmq_port *port;
    void *conn = NULL;
    long deadline = mock_now_ms() + 5000;
    int rc, saw_read = 0;
    SKIP_IF_NO_SERVER();
    port = tls_over_map(&tls, "ca.crt");
    CHECK(port != NULL);
    /* The first read (the server's hello) finds nothing, as it does when
     * the server is slower than the client; a slow client (valgrind) would
     * otherwise find every flight already there and never wait for one. */
    T.map_recv_again = 1;
    rc = port->connect(port->ctx, "127.0.0.1", T.tls_port[SVC_NS], &conn);
    while (rc == RMQ_PORT_AGAIN && mock_now_ms() < deadline) {
        /* The producer wants "writable" until connected (its interest);
         * the socket must be polled for what mbedTLS needs. */
        unsigned w = rmq_port_mbedtls_interest(conn, RMQ_WANT_WRITE);
        struct pollfd pf;
        pf.fd = rmq_port_posix_fd(rmq_port_mbedtls_inner_conn(conn));
        pf.events = (short)(((w & RMQ_WANT_READ) ? POLLIN : 0) | ((w & RMQ_WANT_WRITE) ? POLLOUT : 0));
        pf.revents = 0;
        if (w == RMQ_WANT_READ) saw_read = 1;
        if (poll(&pf, 1, 100) > 0) rc = port->connect_result(port->ctx, conn);
    }
    T.map_recv_again = 0;
    CHECK_INT(rc, RMQ_PORT_OK);
    CHECK(saw_read);                            /* the server's flight was awaited as such */
    CHECK_INT(rmq_port_mbedtls_interest(conn, RMQ_WANT_READ), RMQ_WANT_READ);
    port->close(port->ctx, conn);
    rmq_port_mbedtls_free(&tls);
}

static void test_a_plain_port_fails_the_handshake_with_a_reason(void)
{
    static rmq_port_mbedtls tls;
    rmq_port_mbedtls_config tc;
    const rmq_port *port;
    void *conn = NULL;
    int rc;
    SKIP_IF_NO_SERVER();
    rmq_port_mbedtls_config_init(&tc);
    tc.ca_file = cert_path("ca.crt");
    port = rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc);    /* straight to the mock */
    CHECK(port != NULL);
    rc = drive_connect(port, "127.0.0.1", T.mock_port[SVC_NS], &conn, 3000);
    /* The mock may wait for the rest of a "frame" (AGAIN, and drive_connect
     * closed it, as the producer's connect deadline would); else refused. */
    if (rc != RMQ_PORT_AGAIN) {
        CHECK_INT(rc, RMQ_PORT_FAILED);
        CHECK_HAS(rmq_port_mbedtls_last_error(&tls), "before the server answered the handshake (is it a TLS port?)");
    }
    rmq_port_mbedtls_free(&tls);
}

static void test_memory_per_connection_is_measured(void)
{
    static rmq_port_mbedtls tls;
    const rmq_port *port;
    void *conn = NULL;
    long base, after_init, before, peak = 0, open, closed;
    long deadline;
    int rc;
    SKIP_IF_NO_SERVER();
    base = heap_bytes();
    port = tls_over_map(&tls, "ca.crt");
    CHECK(port != NULL);
    after_init = heap_bytes();
    /* A first connection pays the process's one-time costs (glibc loads the
     * time zone when mbedTLS first checks a certificate's dates). */
    CHECK_INT(drive_connect(port, "127.0.0.1", T.tls_port[SVC_NS], &conn, 5000), RMQ_PORT_OK);
    port->close(port->ctx, conn);
    conn = NULL;
    before = heap_bytes();
    (void)heap_peak_reset(before);
    rc = port->connect(port->ctx, "127.0.0.1", T.tls_port[SVC_NS], &conn);
    deadline = mock_now_ms() + 5000;
    while (rc == RMQ_PORT_AGAIN && mock_now_ms() < deadline) {
        rmq_wait_item it;
        long h = heap_bytes();
        if (h > peak) peak = h;
        it.conn = conn;
        it.want = RMQ_WANT_WRITE;
        it.ready = 0;
        if (port->wait(port->ctx, &it, 1, 50) > 0) rc = port->connect_result(port->ctx, conn);
        h = heap_bytes();
        if (h > peak) peak = h;
    }
    CHECK_INT(rc, RMQ_PORT_OK);
    open = heap_bytes();
    peak = heap_peak_reset(peak);
    port->close(port->ctx, conn);
    closed = heap_bytes();
    rmq_port_mbedtls_free(&tls);
    if (base == 0 && open == 0) {
        printf("  memory: no heap counter in this build (valgrind or no mallinfo2)\n");
        return;
    }
    printf("  memory: per TLS connection %ld bytes after the handshake, %ld at the handshake's peak%s; "
           "per port %ld bytes of heap + sizeof(rmq_port_mbedtls) %lu (%s, %s)\n",
           open - before, peak - before,
#ifdef TLS_TEST_ASAN
           "", after_init - base, (unsigned long)sizeof(rmq_port_mbedtls), MBEDTLS_VERSION_STRING_FULL,
           "counted by ASan's allocator hooks"
#else
           " (sampled)", after_init - base, (unsigned long)sizeof(rmq_port_mbedtls), MBEDTLS_VERSION_STRING_FULL,
           "glibc mallinfo2, approximate"
#endif
    );
    CHECK(open - before > 16 * 1024);           /* the record buffers are in */
    CHECK(open - before < 128 * 1024);
    CHECK(peak >= open);
#ifdef TLS_TEST_ASAN
    CHECK_INT(closed, before);                  /* close gives it all back */
#else
    (void)closed;
#endif
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    heap_watch();
    if (argc > 1) test_filter = argv[1];
    if (start_servers() != 0) printf("  SKIP the server tests: %s\n", T.why_down);
    RUN(test_init_refuses_a_port_without_a_ca);
    RUN(test_init_names_what_does_not_parse);
    RUN(test_seed_batch_and_sync_message_land_in_the_store_over_tls);
    RUN(test_one_byte_io_with_try_again_still_delivers);
    RUN(test_wrong_ca_is_refused_and_the_reason_says_so);
    RUN(test_host_name_mismatch_is_refused);
    RUN(test_insecure_option_accepts_what_verification_refuses);
    RUN(test_client_certificate_is_presented_when_configured);
    RUN(test_an_external_loop_drives_the_handshake_by_the_inner_interest);
    RUN(test_a_plain_port_fails_the_handshake_with_a_reason);
    RUN(test_memory_per_connection_is_measured);
    stop_stunnel();
    if (T.mock.pid > 0) mock_stop(&T.mock);
    return test_summary();
}
