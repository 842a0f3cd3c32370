/* Tests of port/rmq_port_posix.h against real sockets on the loopback
 * interface (127.0.0.1 and ::1 only). Runs in well under two seconds.
 *
 *   cc -std=c99 -Wall -Wextra -Wpedantic -Werror -D_DEFAULT_SOURCE \
 *      tests/test_port_posix.c -o /tmp/t -lpthread && /tmp/t
 *
 * Only the public part of rocketmq_producer.h is included: the port must
 * not depend on the library's implementation. */
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"

#include <stdio.h>

/* ---- a tiny test harness ------------------------------------------------ */

static int tests_passed;
static int tests_failed;
static int test_failures;   /* checks failed in the running test */

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            test_failures++;                                                 \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                        \
        }                                                                    \
    } while (0)

/* Stops the test when a check fails that later steps depend on. cond is
 * evaluated once. */
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

/* ---- helpers ----------------------------------------------------------- */

static const rmq_port *P;

static uint32_t elapsed_since(uint32_t t0)
{
    return P->now_ms(P->ctx) - t0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A listening socket on a loopback address; -1 when the family is missing. */
static int listen_on(int family, int backlog, uint16_t *port_out)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)(void *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = (socklen_t)sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)(void *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = (socklen_t)sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)(void *)&ss, len) != 0 || listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    len = (socklen_t)sizeof ss;
    if (getsockname(fd, (struct sockaddr *)(void *)&ss, &len) != 0) {
        close(fd);
        return -1;
    }
    *port_out = family == AF_INET ? ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port)
                                  : ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
    return fd;
}

/* accept() bounded by a poll, so that a broken test cannot hang. */
static int accept_within(int lfd, int ms)
{
    struct pollfd pf;
    pf.fd = lfd;
    pf.events = POLLIN;
    pf.revents = 0;
    if (poll(&pf, 1, ms) != 1)
        return -1;
    return accept(lfd, NULL, NULL);
}

static int wait_one(void *conn, unsigned want, uint32_t ms, unsigned *ready)
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

/* Connects through the port and completes the connect; NULL on failure. */
static void *connect_to(const char *host, uint16_t port)
{
    void *conn = NULL;
    int rc = P->connect(P->ctx, host, port, &conn);
    if (rc == RMQ_PORT_AGAIN) {
        if (wait_one(conn, RMQ_WANT_WRITE, 2000, NULL) != 1) {
            P->close(P->ctx, conn);
            return NULL;
        }
        rc = P->connect_result(P->ctx, conn);
    }
    if (rc != RMQ_PORT_OK) {
        if (conn != NULL)   /* connect_result failed: the handle is still ours */
            P->close(P->ctx, conn);
        return NULL;
    }
    return conn;
}

/* Receives exactly len bytes through the port, waiting as needed. */
static int recv_all(void *conn, unsigned char *buf, size_t len, size_t piece)
{
    size_t got = 0;
    int rounds = 0;
    while (got < len && rounds++ < 100000) {
        size_t want = len - got < piece ? len - got : piece;
        long n = P->recv(P->ctx, conn, buf + got, want);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (wait_one(conn, RMQ_WANT_READ, 1000, NULL) != 1)
                return -1;
            continue;
        }
        got += (size_t)n;
    }
    return got == len ? 0 : -1;
}

static int read_all_fd(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes from a non-blocking descriptor. */
static int poll_read_exact(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n > 0) {
            got += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf;
            pf.fd = fd;
            pf.events = POLLIN;
            pf.revents = 0;
            if (poll(&pf, 1, 1000) != 1)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

static unsigned char pattern_at(size_t offset)
{
    return (unsigned char)((offset * 7u + offset / 251u) & 0xFFu);
}

/* ---- tests ------------------------------------------------------------- */

static void test_table_is_complete_and_shared(void)
{
    rmq_port mine;
    CHECK(P != NULL);
    CHECK(rmq_port_posix() == P);
    CHECK(rmq_port_posix_init(&mine) == &mine);
    CHECK(mine.ctx == P->ctx);
    CHECK(mine.connect == P->connect && mine.wait == P->wait);
    CHECK(P->connect && P->connect_result && P->send && P->sendv && P->recv && P->close);
    CHECK(P->wait && P->now_ms && P->wall_ms && P->local_ip && P->process_id);
    CHECK(P->entropy && P->getenv && P->wake && P->log);
    CHECK(P->mutex_create && P->mutex_lock && P->mutex_unlock && P->mutex_destroy);
    CHECK(P->event_create && P->event_wait && P->event_signal && P->event_destroy);
    CHECK(P->pending == NULL);
    CHECK(rmq_port_posix_fd(NULL) == -1);
}

static void echo_over(int family, const char *host)
{
    static const char hdr[] = "head:";
    static const char body[] = "body-bytes";
    unsigned char buf[64];
    rmq_iovec iov[3];
    uint16_t port = 0;
    int lfd = listen_on(family, 8, &port);
    int sfd;
    void *c;
    REQUIRE(lfd >= 0);
    c = connect_to(host, port);
    CHECK(c != NULL);
    sfd = c != NULL ? accept_within(lfd, 2000) : -1;
    close(lfd);
    if (c == NULL || sfd < 0) {
        if (c != NULL)
            P->close(P->ctx, c);
        if (sfd >= 0)
            close(sfd);
        CHECK(sfd >= 0);
        return;
    }
    CHECK(rmq_port_posix_fd(c) >= 0);
    CHECK(P->send(P->ctx, c, "hello", 5) == 5);
    iov[0].base = hdr;
    iov[0].len = 5;
    iov[1].base = NULL;
    iov[1].len = 0;
    iov[2].base = body;
    iov[2].len = 10;
    CHECK(P->sendv(P->ctx, c, iov, 3) == 15);
    CHECK(read_all_fd(sfd, buf, 20) == 0);
    CHECK(memcmp(buf, "hellohead:body-bytes", 20) == 0);
    CHECK(write(sfd, "world", 5) == 5);
    CHECK(recv_all(c, buf, 5, 64) == 0);
    CHECK(memcmp(buf, "world", 5) == 0);
    close(sfd);
    P->close(P->ctx, c);
}

static void test_connect_ipv4_loopback_and_echo(void)
{
    echo_over(AF_INET, "127.0.0.1");
}

static void test_connect_by_name_localhost(void)
{
    /* "localhost" may resolve to ::1 first, where nothing listens: then a
     * refusal is the right answer. */
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 8, &port);
    void *c = NULL;
    int rc;
    REQUIRE(lfd >= 0);
    rc = P->connect(P->ctx, "localhost", port, &c);
    if (rc == RMQ_PORT_AGAIN) {
        CHECK(wait_one(c, RMQ_WANT_WRITE, 2000, NULL) == 1);
        rc = P->connect_result(P->ctx, c);
    }
    CHECK(rc == RMQ_PORT_OK || rc == RMQ_PORT_REFUSED);
    if (rc == RMQ_PORT_OK) {
        int sfd = accept_within(lfd, 2000);
        CHECK(sfd >= 0);
        if (sfd >= 0)
            close(sfd);
    }
    if (c != NULL)
        P->close(P->ctx, c);
    close(lfd);
}

static void test_connect_ipv6_loopback_with_brackets(void)
{
    uint16_t port = 0;
    int lfd = listen_on(AF_INET6, 8, &port);
    if (lfd < 0) {
        printf("skip test_connect_ipv6_loopback_with_brackets: no IPv6 loopback here\n");
        return;
    }
    close(lfd);
    echo_over(AF_INET6, "[::1]");
    echo_over(AF_INET6, "::1");
}

static void test_connect_unresolvable_or_bad_host_fails(void)
{
    void *conn = NULL;
    CHECK(P->connect(P->ctx, "", 1, &conn) == RMQ_PORT_FAILED);
    CHECK(P->connect(P->ctx, "[]", 1, &conn) == RMQ_PORT_FAILED);
    CHECK(P->connect(P->ctx, NULL, 1, &conn) == RMQ_PORT_FAILED);
    CHECK(conn == NULL);
}

static void test_connect_to_closed_port_is_refused(void)
{
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 1, &port);
    void *conn = NULL;
    unsigned ready = 0;
    int rc;
    REQUIRE(lfd >= 0);
    close(lfd);     /* nothing listens on port now */
    rc = P->connect(P->ctx, "127.0.0.1", port, &conn);
    if (rc == RMQ_PORT_AGAIN) {
        CHECK(wait_one(conn, RMQ_WANT_WRITE, 2000, &ready) == 1);
        CHECK(ready & RMQ_WANT_WRITE);
        rc = P->connect_result(P->ctx, conn);
        CHECK(rc == RMQ_PORT_REFUSED);
        CHECK(P->connect_result(P->ctx, conn) == RMQ_PORT_REFUSED);  /* remembered */
        P->close(P->ctx, conn);
    } else {
        CHECK(rc == RMQ_PORT_REFUSED);
        CHECK(conn == NULL);
    }
}

static void test_connect_stays_in_progress_when_backlog_is_full(void)
{
    void *conns[8];
    size_t n = 0;
    int stalled = 0;
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 0, &port);
    REQUIRE(lfd >= 0);
    /* Never accepted: the first connects fill the queue, then one stays in
     * SYN_SENT and the wait runs out. */
    while (n < 8 && !stalled) {
        void *c = NULL;
        int rc = P->connect(P->ctx, "127.0.0.1", port, &c);
        CHECK(rc == RMQ_PORT_OK || rc == RMQ_PORT_AGAIN);
        if (rc < 0)
            break;
        conns[n++] = c;
        if (rc == RMQ_PORT_AGAIN) {
            unsigned ready = 0;
            uint32_t t0 = P->now_ms(P->ctx);
            int w = wait_one(c, RMQ_WANT_WRITE, 100, &ready);
            if (w == 0) {
                stalled = 1;
                CHECK(ready == 0);
                CHECK(elapsed_since(t0) >= 90);
                CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_AGAIN);
            } else {
                CHECK(P->connect_result(P->ctx, c) == RMQ_PORT_OK);
            }
        }
    }
    CHECK(stalled);
    while (n > 0)
        P->close(P->ctx, conns[--n]);
    close(lfd);
}

static void test_partial_writes_resume_after_peer_reads(void)
{
    enum { CHUNK = 65536 };
    static unsigned char out[CHUNK];
    static unsigned char in[CHUNK];
    uint16_t port = 0;
    int small = 16384;
    int lfd = listen_on(AF_INET, 8, &port);
    size_t sent = 0;
    size_t checked = 0;
    int saw_zero = 0;
    int bad = 0;
    int rounds;
    void *c;
    int sfd;
    REQUIRE(lfd >= 0);
    (void)setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    c = connect_to("127.0.0.1", port);
    sfd = accept_within(lfd, 2000);
    close(lfd);
    CHECK(c != NULL && sfd >= 0);
    if (c == NULL || sfd < 0) {
        if (c != NULL)
            P->close(P->ctx, c);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    (void)setsockopt(rmq_port_posix_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    /* 1: write until the kernel takes nothing more. */
    for (rounds = 0; rounds < 4096 && !saw_zero; rounds++) {
        size_t i;
        long n;
        for (i = 0; i < CHUNK; i++)
            out[i] = pattern_at(sent + i);
        n = P->send(P->ctx, c, out, CHUNK);
        CHECK(n >= 0);
        if (n < 0)
            break;
        if (n == 0)
            saw_zero = 1;
        sent += (size_t)n;
    }
    CHECK(saw_zero);
    CHECK(sent > 0);
    /* 2: the peer reads everything queued; the stream is intact. */
    (void)fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL, 0) | O_NONBLOCK);
    while (checked < sent) {
        ssize_t n = read(sfd, in, sizeof in);
        ssize_t i;
        if (n <= 0) {
            struct pollfd pf;
            pf.fd = sfd;
            pf.events = POLLIN;
            if (poll(&pf, 1, 1000) != 1)
                break;
            continue;
        }
        for (i = 0; i < n; i++)
            if (in[i] != pattern_at(checked + (size_t)i))
                bad++;
        checked += (size_t)n;
    }
    CHECK(checked == sent);
    CHECK(bad == 0);
    /* 3: the writer becomes writable again and resumes where it stopped. */
    {
        unsigned ready = 0;
        size_t i;
        long n;
        CHECK(wait_one(c, RMQ_WANT_WRITE, 1000, &ready) == 1);
        CHECK(ready == RMQ_WANT_WRITE);
        for (i = 0; i < 1000; i++)
            out[i] = pattern_at(sent + i);
        n = P->send(P->ctx, c, out, 1000);
        CHECK(n > 0);
        if (n > 0) {
            CHECK(poll_read_exact(sfd, in, (size_t)n) == 0);
            for (i = 0; i < (size_t)n; i++)
                if (in[i] != pattern_at(sent + i))
                    bad++;
            CHECK(bad == 0);
        }
    }
    close(sfd);
    P->close(P->ctx, c);
}

static void test_one_byte_reads_reassemble_the_stream(void)
{
    static const char msg[] = "0123456789abcdefghij";
    unsigned char buf[32];
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 8, &port);
    void *c;
    int sfd;
    REQUIRE(lfd >= 0);
    c = connect_to("127.0.0.1", port);
    sfd = accept_within(lfd, 2000);
    close(lfd);
    CHECK(c != NULL && sfd >= 0);
    if (c != NULL && sfd >= 0) {
        CHECK(write(sfd, msg, 20) == 20);
        memset(buf, 0, sizeof buf);
        CHECK(recv_all(c, buf, 20, 1) == 0);
        CHECK(memcmp(buf, msg, 20) == 0);
        /* nothing more: recv says "try again", not "closed" */
        CHECK(P->recv(P->ctx, c, buf, 1) == 0);
    }
    if (sfd >= 0)
        close(sfd);
    if (c != NULL)
        P->close(P->ctx, c);
}

static void test_peer_close_makes_recv_negative_after_the_data(void)
{
    unsigned char buf[8];
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 8, &port);
    unsigned ready = 0;
    void *c;
    int sfd;
    REQUIRE(lfd >= 0);
    c = connect_to("127.0.0.1", port);
    sfd = accept_within(lfd, 2000);
    close(lfd);
    CHECK(c != NULL && sfd >= 0);
    if (c == NULL || sfd < 0) {
        if (c != NULL)
            P->close(P->ctx, c);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    CHECK(write(sfd, "bye", 3) == 3);
    close(sfd);
    CHECK(recv_all(c, buf, 3, 8) == 0);
    CHECK(memcmp(buf, "bye", 3) == 0);
    CHECK(wait_one(c, RMQ_WANT_READ, 1000, &ready) == 1);
    CHECK(ready & RMQ_WANT_READ);
    CHECK(P->recv(P->ctx, c, buf, sizeof buf) < 0);
    P->close(P->ctx, c);
}

static void test_send_to_reset_peer_fails_without_sigpipe(void)
{
    static unsigned char junk[4096];
    struct linger lg;
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 8, &port);
    long n = 1;
    int i;
    void *c;
    int sfd;
    REQUIRE(lfd >= 0);
    c = connect_to("127.0.0.1", port);
    sfd = accept_within(lfd, 2000);
    close(lfd);
    CHECK(c != NULL && sfd >= 0);
    if (c == NULL || sfd < 0) {
        if (c != NULL)
            P->close(P->ctx, c);
        if (sfd >= 0)
            close(sfd);
        return;
    }
    lg.l_onoff = 1;
    lg.l_linger = 0;
    (void)setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(sfd);     /* an abortive close: RST */
    /* SIGPIPE keeps its default action (terminate): surviving is the check. */
    for (i = 0; i < 50 && n >= 0; i++) {
        n = P->send(P->ctx, c, junk, sizeof junk);
        if (n >= 0)
            (void)wait_one(c, RMQ_WANT_READ, 10, NULL);
    }
    CHECK(n < 0);
    CHECK(P->recv(P->ctx, c, junk, sizeof junk) < 0);
    P->close(P->ctx, c);
}

static void test_wait_reports_many_items(void)
{
    /* More items than the stack scratch holds. */
    rmq_wait_item items[40];
    uint16_t port = 0;
    int lfd = listen_on(AF_INET, 8, &port);
    void *c;
    int sfd;
    size_t i;
    int all = 1;
    REQUIRE(lfd >= 0);
    c = connect_to("127.0.0.1", port);
    sfd = accept_within(lfd, 2000);
    close(lfd);
    CHECK(c != NULL && sfd >= 0);
    if (c != NULL && sfd >= 0) {
        for (i = 0; i < 40; i++) {
            items[i].conn = i == 7 ? NULL : c;
            items[i].want = RMQ_WANT_READ | RMQ_WANT_WRITE;
            items[i].ready = 99;
        }
        CHECK(P->wait(P->ctx, items, 40, 500) == 39);
        for (i = 0; i < 40; i++)
            if (i != 7 && items[i].ready != RMQ_WANT_WRITE)
                all = 0;
        CHECK(all);
        CHECK(items[7].ready == 0);
    }
    if (sfd >= 0)
        close(sfd);
    if (c != NULL)
        P->close(P->ctx, c);
}

static void *wake_later(void *arg)
{
    (void)arg;
    sleep_ms(50);
    P->wake(P->ctx);
    return NULL;
}

static void test_wake_from_another_thread_ends_a_long_wait(void)
{
    pthread_t th;
    uint32_t t0;
    int rc;
    REQUIRE(pthread_create(&th, NULL, wake_later, NULL) == 0);
    t0 = P->now_ms(P->ctx);
    rc = P->wait(P->ctx, NULL, 0, 10000);
    CHECK(rc == 0);
    CHECK(elapsed_since(t0) < 5000);
    pthread_join(th, NULL);
}

static void test_wake_before_wait_ends_the_next_wait_only(void)
{
    uint32_t t0;
    P->wake(P->ctx);
    P->wake(P->ctx);
    t0 = P->now_ms(P->ctx);
    CHECK(P->wait(P->ctx, NULL, 0, 10000) == 0);
    CHECK(elapsed_since(t0) < 5000);
    /* drained: the next wait runs its whole (short) timeout */
    t0 = P->now_ms(P->ctx);
    CHECK(P->wait(P->ctx, NULL, 0, 30) == 0);
    CHECK(elapsed_since(t0) >= 25);
}

static void test_clocks(void)
{
    uint32_t a = P->now_ms(P->ctx);
    uint32_t b;
    int64_t wall = 0;
    sleep_ms(20);
    b = P->now_ms(P->ctx);
    CHECK((int32_t)(b - a) >= 15);
    CHECK((int32_t)(b - a) < 2000);
    CHECK(P->wall_ms(P->ctx, &wall) == 0);
    CHECK(wall > (int64_t)1600000000 * 1000);   /* after 2020 */
}

static void test_identity(void)
{
    char ip[64];
    unsigned char a[16];
    unsigned char b[16];
    unsigned char addr[16];
    size_t i;
    int differ = 0;
    CHECK(P->process_id(P->ctx) == (uint32_t)getpid());
    memset(ip, 'x', sizeof ip);
    CHECK(P->local_ip(P->ctx, ip, sizeof ip) == 0);
    if (ip[0] == '[') {
        size_t n = strlen(ip);
        CHECK(n > 2 && ip[n - 1] == ']');
        ip[n - 1] = '\0';
        CHECK(inet_pton(AF_INET6, ip + 1, addr) == 1);
    } else {
        CHECK(inet_pton(AF_INET, ip, addr) == 1);
    }
    CHECK(P->local_ip(P->ctx, ip, 3) != 0);   /* too small for any address */
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    P->entropy(P->ctx, a, sizeof a);
    P->entropy(P->ctx, b, sizeof b);
    for (i = 0; i < sizeof a; i++)
        if (a[i] != b[i])
            differ = 1;
    CHECK(differ);
    CHECK(setenv("RMQ_TEST_PORT_ENV", "ns:9876", 1) == 0);
    CHECK(P->getenv(P->ctx, "RMQ_TEST_PORT_ENV") != NULL &&
          strcmp(P->getenv(P->ctx, "RMQ_TEST_PORT_ENV"), "ns:9876") == 0);
    CHECK(P->getenv(P->ctx, "RMQ_TEST_PORT_ENV_UNSET") == NULL);
}

static void test_log_is_silent_unless_rmq_log_allows_the_level(void)
{
    char got[128];
    int fds[2];
    int saved;
    ssize_t n;
    REQUIRE(pipe(fds) == 0);
    fflush(stderr);
    saved = dup(2);
    REQUIRE(saved >= 0);
    dup2(fds[1], 2);
    unsetenv("RMQ_LOG");
    P->log(P->ctx, RMQ_LOG_ERROR, "silent");
    setenv("RMQ_LOG", "2", 1);
    P->log(P->ctx, RMQ_LOG_WARN, "shown");
    P->log(P->ctx, RMQ_LOG_INFO, "hidden");
    unsetenv("RMQ_LOG");
    dup2(saved, 2);
    close(saved);
    close(fds[1]);
    n = read(fds[0], got, sizeof got - 1);
    close(fds[0]);
    CHECK(n == 16);
    if (n >= 0) {
        got[n] = '\0';
        CHECK(strcmp(got, "rmq[WARN] shown\n") == 0);
    }
}

static void test_mutex_lock_unlock(void)
{
    void *m = P->mutex_create(P->ctx);
    REQUIRE(m != NULL);
    P->mutex_lock(P->ctx, m);
    P->mutex_unlock(P->ctx, m);
    P->mutex_lock(P->ctx, m);
    P->mutex_unlock(P->ctx, m);
    P->mutex_destroy(P->ctx, m);
}

static void *signal_later(void *event)
{
    sleep_ms(30);
    P->event_signal(P->ctx, event);
    return NULL;
}

static void test_event_signal_timeout_and_auto_reset(void)
{
    void *e = P->event_create(P->ctx);
    pthread_t th;
    uint32_t t0;
    REQUIRE(e != NULL);
    t0 = P->now_ms(P->ctx);
    CHECK(P->event_wait(P->ctx, e, 30) != 0);            /* timeout */
    CHECK(elapsed_since(t0) >= 25);
    P->event_signal(P->ctx, e);
    CHECK(P->event_wait(P->ctx, e, 0) == 0);             /* already signalled */
    CHECK(P->event_wait(P->ctx, e, 0) != 0);             /* auto-reset */
    REQUIRE(pthread_create(&th, NULL, signal_later, e) == 0);
    t0 = P->now_ms(P->ctx);
    CHECK(P->event_wait(P->ctx, e, 10000) == 0);         /* signalled from a thread */
    CHECK(elapsed_since(t0) < 5000);
    pthread_join(th, NULL);
    P->event_destroy(P->ctx, e);
}

int main(void)
{
    alarm(20);   /* a hang is a failure, not a stuck CI run */
    P = rmq_port_posix();
    RUN(test_table_is_complete_and_shared);
    RUN(test_connect_ipv4_loopback_and_echo);
    RUN(test_connect_by_name_localhost);
    RUN(test_connect_ipv6_loopback_with_brackets);
    RUN(test_connect_unresolvable_or_bad_host_fails);
    RUN(test_connect_to_closed_port_is_refused);
    RUN(test_connect_stays_in_progress_when_backlog_is_full);
    RUN(test_partial_writes_resume_after_peer_reads);
    RUN(test_one_byte_reads_reassemble_the_stream);
    RUN(test_peer_close_makes_recv_negative_after_the_data);
    RUN(test_send_to_reset_peer_fails_without_sigpipe);
    RUN(test_wait_reports_many_items);
    RUN(test_wake_from_another_thread_ends_a_long_wait);
    RUN(test_wake_before_wait_ends_the_next_wait_only);
    RUN(test_clocks);
    RUN(test_identity);
    RUN(test_log_is_silent_unless_rmq_log_allows_the_level);
    RUN(test_mutex_lock_unlock);
    RUN(test_event_signal_timeout_and_auto_reset);
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed == 0 ? 0 : 1;
}
