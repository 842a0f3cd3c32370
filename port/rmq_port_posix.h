/* rmq_port_posix.h - the POSIX port of rocketmq_producer.h (Linux, macOS, BSD).
 *
 * TCP over IPv4 and IPv6 with non-blocking sockets and poll(), a monotonic
 * clock, the local address by Java's rule, /dev/urandom, and pthread locks and
 * events so that several threads can share one producer.
 *
 * QUICK START
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION     (in exactly one .c file)
 *     #define RMQ_PORT_POSIX_IMPLEMENTATION
 *     #include "rocketmq_producer.h"
 *     #include "port/rmq_port_posix.h"
 *     ...
 *     cfg.port = rmq_port_posix();
 *
 * Include rocketmq_producer.h first. The implementation needs the POSIX and
 * BSD interfaces of the C library (getaddrinfo, getifaddrs, clock_gettime,
 * pthreads): with glibc and a strict -std=c99, compile with -D_DEFAULT_SOURCE
 * (or use -std=gnu99); link with -lpthread where the C library wants it.
 *
 * BEHAVIOUR WORTH KNOWING
 *   - connect() resolves names with getaddrinfo(), which may block; numeric
 *     IPv4 and IPv6 addresses ("10.0.0.2", "::1", "[::1]") never do. Of several
 *     resolved addresses it uses the first one whose connect starts; there is
 *     no parallel ("happy eyeballs") attempt.
 *   - A closed peer never raises SIGPIPE (MSG_NOSIGNAL, or SO_NOSIGPIPE).
 *   - wait() uses poll() plus one internal wake descriptor (an eventfd on
 *     Linux, a self-pipe elsewhere, or with RMQ_PORT_POSIX_NO_EVENTFD).
 *     wake() is async-signal-safe and may be called from any thread. The wake
 *     descriptor belongs to the process-wide port state: a wake ends every wait
 *     running at that moment, and if none is running, the next wait to start.
 *   - log() writes "rmq[LEVEL] message" to stderr only when the environment
 *     variable RMQ_LOG holds a level number (1 error .. 4 debug) at least as
 *     high as the message's; by default the port is silent.
 *   - local_ip() follows Java's RemotingUtil.getLocalAddress(), except that
 *     interfaces that are down are skipped, an IPv6 address is written in its
 *     short form without a zone ("[fe80::1]", where Java writes
 *     "[fe80:0:0:0:0:0:0:1%eth0]"), and the last resort is "127.0.0.1" rather
 *     than the address the host name resolves to.
 */
#ifndef RMQ_PORT_POSIX_H
#define RMQ_PORT_POSIX_H

#ifndef ROCKETMQ_PRODUCER_H
#error "include rocketmq_producer.h before port/rmq_port_posix.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The process-wide POSIX port. Its table lives as long as the process; the
 * first call sets it up (thread-safe). */
RMQDEF const rmq_port *rmq_port_posix(void);

/* Fill a caller-owned table with the same functions and the same context as
 * rmq_port_posix(), e.g. to replace one entry (log) or wrap the transport.
 * Returns port. */
RMQDEF rmq_port *rmq_port_posix_init(rmq_port *port);

/* The socket descriptor of a connection made by this port, for applications
 * that drive the producer from their own epoll/poll loop; -1 for NULL. */
RMQDEF int rmq_port_posix_fd(void *conn);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_PORT_POSIX_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(RMQ_PORT_POSIX_IMPLEMENTATION) && !defined(RMQ_PORT_POSIX_IMPLEMENTED)
#define RMQ_PORT_POSIX_IMPLEMENTED

/* Under RMQ_STATIC an application that does not call every public function
 * must not get "defined but not used". */
#if defined(RMQ_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define RMQ__POSIX_API RMQDEF __attribute__((unused))
#else
#define RMQ__POSIX_API RMQDEF
#endif

#if defined(__GLIBC__) && !defined(__USE_MISC)
#error "rmq_port_posix.h needs the POSIX and BSD interfaces: compile with -D_DEFAULT_SOURCE (or -std=gnu99)"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#if defined(__linux__) && !defined(RMQ_PORT_POSIX_NO_EVENTFD)
#include <sys/eventfd.h>
#define RMQ__POSIX_EVENTFD 1
#endif

#ifdef MSG_NOSIGNAL
#define RMQ__POSIX_SEND_FLAGS MSG_NOSIGNAL
#else
#define RMQ__POSIX_SEND_FLAGS 0
#endif

/* macOS has neither pthread_condattr_setclock nor a monotonic timed wait
 * other than the relative one. */
#if defined(__APPLE__)
#define RMQ__POSIX_RELATIVE_TIMEDWAIT 1
#endif

/* pollfd entries kept on the stack in wait(); more than this are allocated
 * for the call. The library waits on at most RMQ_MAX_CONNECTIONS. */
#ifndef RMQ_PORT_POSIX_STACK_POLLFDS
#define RMQ_PORT_POSIX_STACK_POLLFDS 32
#endif

/* iovec entries passed to one sendmsg(); the rest go in a later call (a
 * partial send, which the contract allows). */
#define RMQ__POSIX_MAX_IOV 64

enum { RMQ__POSIX_CONNECTING = 0, RMQ__POSIX_CONNECTED = 1, RMQ__POSIX_FAILED = 2 };

typedef struct rmq__posix_conn {
    int fd;
    int state;      /* RMQ__POSIX_* */
    int result;     /* the RMQ_PORT_* code once state is FAILED */
} rmq__posix_conn;

typedef struct rmq__posix_state {
    int wake_rd;    /* polled by wait(); -1 when none could be made */
    int wake_wr;    /* written by wake(); same as wake_rd for an eventfd */
} rmq__posix_state;

static rmq__posix_state rmq__posix_global = { -1, -1 };
static rmq_port rmq__posix_table;
static pthread_once_t rmq__posix_once = PTHREAD_ONCE_INIT;

/* ---- descriptors ------------------------------------------------------- */

static int rmq__posix_set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    fl = fcntl(fd, F_GETFD, 0);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

static void rmq__posix_make_wake(rmq__posix_state *st)
{
#ifdef RMQ__POSIX_EVENTFD
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd >= 0) {
        st->wake_rd = fd;
        st->wake_wr = fd;
    }
#else
    int fds[2];
    if (pipe(fds) != 0)
        return;
    if (rmq__posix_set_flags(fds[0]) != 0 || rmq__posix_set_flags(fds[1]) != 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    st->wake_rd = fds[0];
    st->wake_wr = fds[1];
#endif
}

static void rmq__posix_drain_wake(const rmq__posix_state *st)
{
    unsigned char sink[64];
    if (st->wake_rd < 0)
        return;
#ifdef RMQ__POSIX_EVENTFD
    (void)!read(st->wake_rd, sink, 8);
#else
    while (read(st->wake_rd, sink, sizeof sink) > 0) {
    }
#endif
}

/* ---- connect ----------------------------------------------------------- */

static int rmq__posix_classify(int err)
{
    switch (err) {
    case ECONNREFUSED:
    case ENETUNREACH:
    case EHOSTUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENETDOWN
    case ENETDOWN:
#endif
        return RMQ_PORT_REFUSED;
    default:
        return RMQ_PORT_FAILED;
    }
}

static int rmq__posix_socket(int family)
{
    int one = 1;
    int fd;
#ifdef SOCK_CLOEXEC
    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
    fd = socket(family, SOCK_STREAM, 0);
#endif
    if (fd < 0)
        return -1;
    if (rmq__posix_set_flags(fd) != 0) {
        close(fd);
        return -1;
    }
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return fd;
}

/* Starts one attempt: RMQ_PORT_OK or RMQ_PORT_AGAIN with *fd_out set, or a
 * negative RMQ_PORT_* code. */
static int rmq__posix_start(const struct sockaddr *sa, socklen_t salen, int *fd_out)
{
    int fd = rmq__posix_socket(sa->sa_family);
    int err;
    if (fd < 0)
        return RMQ_PORT_FAILED;
    if (connect(fd, sa, salen) == 0) {
        *fd_out = fd;
        return RMQ_PORT_OK;
    }
    err = errno;
    if (err == EINPROGRESS || err == EINTR) {
        *fd_out = fd;
        return RMQ_PORT_AGAIN;
    }
    close(fd);
    return rmq__posix_classify(err);
}

/* host without the brackets of "[::1]" into buf; -1 when it does not fit. */
static int rmq__posix_strip_host(const char *host, char *buf, size_t cap)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= cap)
        return -1;
    memcpy(buf, host, n);
    buf[n] = '\0';
    return 0;
}

/* Numeric addresses without getaddrinfo (which may take locks or read
 * files even for them). */
static int rmq__posix_numeric(const char *host, uint16_t port, struct sockaddr_storage *ss,
                              socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        *len = (socklen_t)sizeof *v4;
        return 0;
    }
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        *len = (socklen_t)sizeof *v6;
        return 0;
    }
    return -1;
}

static void rmq__posix_set_port(struct sockaddr *sa, uint16_t port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
}

/* Tries the resolved addresses in order until one connects or starts. */
static int rmq__posix_start_resolved(const char *host, uint16_t port, int *fd_out)
{
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    struct addrinfo *ai;
    int rc = RMQ_PORT_FAILED;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &list) != 0 || list == NULL)
        return RMQ_PORT_FAILED;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        rmq__posix_set_port(ai->ai_addr, port);
        rc = rmq__posix_start(ai->ai_addr, (socklen_t)ai->ai_addrlen, fd_out);
        if (rc >= 0)
            break;
    }
    freeaddrinfo(list);
    return rc;
}

static int rmq__posix_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    char name[256];
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    rmq__posix_conn *c;
    int fd = -1;
    int rc;
    (void)ctx;
    if (host == NULL || conn == NULL || rmq__posix_strip_host(host, name, sizeof name) != 0)
        return RMQ_PORT_FAILED;
    c = (rmq__posix_conn *)malloc(sizeof *c);
    if (c == NULL)
        return RMQ_PORT_FAILED;
    if (rmq__posix_numeric(name, port, &ss, &sslen) == 0)
        rc = rmq__posix_start((const struct sockaddr *)(const void *)&ss, sslen, &fd);
    else
        rc = rmq__posix_start_resolved(name, port, &fd);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->fd = fd;
    c->state = rc == RMQ_PORT_OK ? RMQ__POSIX_CONNECTED : RMQ__POSIX_CONNECTING;
    c->result = rc;
    *conn = c;
    return rc;
}

static int rmq__posix_connect_result(void *ctx, void *conn)
{
    rmq__posix_conn *c = (rmq__posix_conn *)conn;
    struct sockaddr_storage peer;
    socklen_t plen = (socklen_t)sizeof peer;
    int err = 0;
    socklen_t elen = (socklen_t)sizeof err;
    (void)ctx;
    if (c == NULL)
        return RMQ_PORT_FAILED;
    if (c->state == RMQ__POSIX_CONNECTED)
        return RMQ_PORT_OK;
    if (c->state == RMQ__POSIX_FAILED)
        return c->result;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
        err = errno;
    if (err == 0 && getpeername(c->fd, (struct sockaddr *)(void *)&peer, &plen) == 0) {
        c->state = RMQ__POSIX_CONNECTED;
        return RMQ_PORT_OK;
    }
    if (err == 0) {
        /* Not writable yet (asked too early): still in progress. */
        if (errno == ENOTCONN)
            return RMQ_PORT_AGAIN;
        err = errno;
    }
    c->state = RMQ__POSIX_FAILED;
    c->result = rmq__posix_classify(err);
    return c->result;
}

/* ---- transfer ---------------------------------------------------------- */

static long rmq__posix_io_result(ssize_t n)
{
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return 0;
    return -1;
}

static long rmq__posix_send(void *ctx, void *conn, const void *buf, size_t len)
{
    rmq__posix_conn *c = (rmq__posix_conn *)conn;
    (void)ctx;
    if (c == NULL)
        return -1;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    return rmq__posix_io_result(send(c->fd, buf, len, RMQ__POSIX_SEND_FLAGS));
}

static long rmq__posix_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    rmq__posix_conn *c = (rmq__posix_conn *)conn;
    struct iovec v[RMQ__POSIX_MAX_IOV];
    struct msghdr msg;
    size_t total = 0;
    int i;
    int k = 0;
    (void)ctx;
    if (c == NULL || (iov == NULL && iovcnt > 0))
        return -1;
    for (i = 0; i < iovcnt && k < RMQ__POSIX_MAX_IOV; i++) {
        if (iov[i].len == 0)
            continue;
        if (iov[i].len > (size_t)LONG_MAX - total)
            break;
        v[k].iov_base = (void *)iov[i].base;
        v[k].iov_len = iov[i].len;
        total += iov[i].len;
        k++;
    }
    if (k == 0)
        return 0;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = v;
    msg.msg_iovlen = k;
    return rmq__posix_io_result(sendmsg(c->fd, &msg, RMQ__POSIX_SEND_FLAGS));
}

static long rmq__posix_recv(void *ctx, void *conn, void *buf, size_t len)
{
    rmq__posix_conn *c = (rmq__posix_conn *)conn;
    ssize_t n;
    (void)ctx;
    if (c == NULL)
        return -1;
    if (len == 0)
        return 0;
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    n = recv(c->fd, buf, len, 0);
    if (n == 0)
        return -1;  /* end of stream: the peer closed */
    return rmq__posix_io_result(n);
}

static void rmq__posix_close(void *ctx, void *conn)
{
    rmq__posix_conn *c = (rmq__posix_conn *)conn;
    (void)ctx;
    if (c == NULL)
        return;
    close(c->fd);
    free(c);
}

/* ---- readiness --------------------------------------------------------- */

static short rmq__posix_events(unsigned want)
{
    short ev = 0;
    if (want & RMQ_WANT_READ)
        ev |= POLLIN;
    if (want & RMQ_WANT_WRITE)
        ev |= POLLOUT;
    return ev;
}

static unsigned rmq__posix_ready(short revents, unsigned want)
{
    unsigned ready = 0;
    if (revents & POLLIN)
        ready |= RMQ_WANT_READ;
    if (revents & POLLOUT)
        ready |= RMQ_WANT_WRITE;
    /* The caller must see the failure through recv or connect_result, so
     * it also gets the bits it asked for. */
    if (revents & (POLLERR | POLLHUP | POLLNVAL))
        ready |= RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    return ready;
}

static int rmq__posix_timeout(uint32_t timeout_ms)
{
    return timeout_ms > (uint32_t)INT_MAX ? INT_MAX : (int)timeout_ms;
}

static int rmq__posix_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    rmq__posix_state *st = (rmq__posix_state *)ctx;
    struct pollfd local[RMQ_PORT_POSIX_STACK_POLLFDS];
    struct pollfd *pf = local;
    size_t i;
    int rc;
    int count = 0;
    if (items == NULL && n > 0)
        return -1;
    if (n + 1 > (size_t)RMQ_PORT_POSIX_STACK_POLLFDS) {
        if (n >= ((size_t)-1) / sizeof *pf)
            return -1;
        pf = (struct pollfd *)malloc((n + 1) * sizeof *pf);
        if (pf == NULL)
            return -1;
    }
    for (i = 0; i < n; i++) {
        const rmq__posix_conn *c = (const rmq__posix_conn *)items[i].conn;
        pf[i].fd = c != NULL ? c->fd : -1;
        pf[i].events = rmq__posix_events(items[i].want);
        pf[i].revents = 0;
        items[i].ready = 0;
    }
    pf[n].fd = st->wake_rd;
    pf[n].events = POLLIN;
    pf[n].revents = 0;
    rc = poll(pf, (nfds_t)(n + 1), rmq__posix_timeout(timeout_ms));
    if (rc < 0) {
        rc = errno == EINTR ? 0 : -1;
    } else {
        for (i = 0; i < n; i++) {
            if (pf[i].fd < 0)
                continue;
            items[i].ready = rmq__posix_ready(pf[i].revents, items[i].want);
            if (items[i].ready != 0)
                count++;
        }
        if (pf[n].revents != 0)
            rmq__posix_drain_wake(st);
        rc = count;
    }
    if (pf != local)
        free(pf);
    return rc;
}

static void rmq__posix_wake(void *ctx)
{
    const rmq__posix_state *st = (const rmq__posix_state *)ctx;
    int saved = errno;   /* async-signal-safe: a handler must not change errno */
#ifdef RMQ__POSIX_EVENTFD
    uint64_t one = 1;
    if (st->wake_wr >= 0)
        (void)!write(st->wake_wr, &one, sizeof one);
#else
    unsigned char one = 1;
    /* A full pipe is already readable: EAGAIN loses nothing. */
    if (st->wake_wr >= 0)
        (void)!write(st->wake_wr, &one, 1);
#endif
    errno = saved;
}

/* The calling thread, as a number: pthread_t is opaque, so its bytes are
 * taken as they are (an integer on Linux and the BSDs, a pointer on macOS). */
static uintptr_t rmq__posix_thread_id(void *ctx)
{
    pthread_t self = pthread_self();
    uintptr_t id = 0;
    (void)ctx;
    memcpy(&id, &self, sizeof self < sizeof id ? sizeof self : sizeof id);
    return id;
}

/* ---- time and identity ------------------------------------------------- */

static uint32_t rmq__posix_now_ms(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint32_t)ts.tv_sec * 1000u + (uint32_t)(ts.tv_nsec / 1000000L);
}

static int rmq__posix_wall_ms(void *ctx, int64_t *epoch_ms)
{
    struct timespec ts;
    (void)ctx;
    if (epoch_ms == NULL || clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    *epoch_ms = (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000L);
    return 0;
}

static uint32_t rmq__posix_process_id(void *ctx)
{
    (void)ctx;
    return (uint32_t)getpid();
}

static size_t rmq__posix_urandom(unsigned char *p, size_t len)
{
    size_t got = 0;
    int fd;
#ifdef O_CLOEXEC
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
#else
    fd = open("/dev/urandom", O_RDONLY);
#endif
    if (fd < 0)
        return 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n > 0)
            got += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    close(fd);
    return got;
}

/* splitmix64: spreads the weak seeds of the fallback over every byte. */
static uint64_t rmq__posix_mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void rmq__posix_entropy(void *ctx, void *buf, size_t len)
{
    static uint64_t calls;
    unsigned char *p = (unsigned char *)buf;
    size_t got;
    uint64_t s;
    struct timespec ts;
    (void)ctx;
    if (p == NULL || len == 0)
        return;
    got = rmq__posix_urandom(p, len);
    if (got == len)
        return;
    s = (uint64_t)(uintptr_t)&s ^ ((uint64_t)getpid() << 32) ^ ++calls;
    if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
        s ^= (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        s += (uint64_t)ts.tv_nsec << 20;
    while (got < len) {
        uint64_t r = rmq__posix_mix(&s);
        size_t k;
        for (k = 0; k < 8 && got < len; k++, r >>= 8)
            p[got++] ^= (unsigned char)r;
    }
}

static const char *rmq__posix_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return name != NULL ? getenv(name) : NULL;
}

#ifdef __linux__
/* Java's RemotingUtil.isBridge: /sys/class/net/<name>/bridge exists. */
static int rmq__posix_is_bridge(const char *ifname)
{
    static const char pre[] = "/sys/class/net/";
    static const char post[] = "/bridge";
    char path[sizeof pre + IF_NAMESIZE + sizeof post + 8];
    size_t n = strlen(ifname);
    if (n > IF_NAMESIZE + 8)
        return 0;
    memcpy(path, pre, sizeof pre - 1);
    memcpy(path + sizeof pre - 1, ifname, n);
    memcpy(path + sizeof pre - 1 + n, post, sizeof post);
    return access(path, F_OK) == 0;
}
#else
static int rmq__posix_is_bridge(const char *ifname)
{
    (void)ifname;
    return 0;
}
#endif

static int rmq__posix_put(char *buf, size_t len, const char *text, int brackets)
{
    size_t n = strlen(text);
    size_t extra = brackets ? 2u : 0u;
    if (buf == NULL || n + extra + 1 > len)
        return -1;
    if (brackets)
        buf[0] = '[';
    memcpy(buf + (brackets ? 1 : 0), text, n);
    if (brackets)
        buf[n + 1] = ']';
    buf[n + extra] = '\0';
    return 0;
}

static int rmq__posix_local_ip(void *ctx, char *buf, size_t len)
{
    struct ifaddrs *list = NULL;
    const struct ifaddrs *ifa;
    char text[INET6_ADDRSTRLEN];
    char last_v4[INET6_ADDRSTRLEN];
    char first_v6[INET6_ADDRSTRLEN];
    (void)ctx;
    last_v4[0] = '\0';
    first_v6[0] = '\0';
    if (getifaddrs(&list) != 0)
        list = NULL;
    for (ifa = list; ifa != NULL; ifa = ifa->ifa_next) {
        const struct sockaddr *sa = ifa->ifa_addr;
        if (sa == NULL || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
            continue;
        if (ifa->ifa_name != NULL && rmq__posix_is_bridge(ifa->ifa_name))
            continue;
        if (sa->sa_family == AF_INET) {
            const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
            if (inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text) == NULL ||
                strncmp(text, "127.", 4) == 0)
                continue;
            if (strncmp(text, "192.168.", 8) != 0) {
                freeifaddrs(list);
                return rmq__posix_put(buf, len, text, 0);
            }
            memcpy(last_v4, text, sizeof text);
        } else if (sa->sa_family == AF_INET6 && first_v6[0] == '\0') {
            const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
            if (IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
                inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text) == NULL)
                continue;
            memcpy(first_v6, text, sizeof text);
        }
    }
    if (list != NULL)
        freeifaddrs(list);
    if (last_v4[0] != '\0')
        return rmq__posix_put(buf, len, last_v4, 0);
    if (first_v6[0] != '\0')
        return rmq__posix_put(buf, len, first_v6, 1);
    return rmq__posix_put(buf, len, "127.0.0.1", 0);
}

/* ---- threads ----------------------------------------------------------- */

static void *rmq__posix_mutex_create(void *ctx)
{
    pthread_mutex_t *m = (pthread_mutex_t *)malloc(sizeof *m);
    (void)ctx;
    if (m != NULL && pthread_mutex_init(m, NULL) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

static void rmq__posix_mutex_lock(void *ctx, void *mutex)
{
    (void)ctx;
    (void)pthread_mutex_lock((pthread_mutex_t *)mutex);
}

static void rmq__posix_mutex_unlock(void *ctx, void *mutex)
{
    (void)ctx;
    (void)pthread_mutex_unlock((pthread_mutex_t *)mutex);
}

static void rmq__posix_mutex_destroy(void *ctx, void *mutex)
{
    (void)ctx;
    if (mutex == NULL)
        return;
    (void)pthread_mutex_destroy((pthread_mutex_t *)mutex);
    free(mutex);
}

/* The factory lock: one static mutex for the process, so every POSIX
 * port (and every port wrapping one, such as the TLS port) locks the same
 * table, and it needs no set-up before the first thread starts. */
static pthread_mutex_t rmq__posix_factory = PTHREAD_MUTEX_INITIALIZER;

static void rmq__posix_factory_lock(void *ctx)
{
    (void)ctx;
    (void)pthread_mutex_lock(&rmq__posix_factory);
}

static void rmq__posix_factory_unlock(void *ctx)
{
    (void)ctx;
    (void)pthread_mutex_unlock(&rmq__posix_factory);
}

/* An auto-reset event: a signal sets the flag, one wait consumes it. */
typedef struct rmq__posix_event {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int signalled;
} rmq__posix_event;

static int rmq__posix_cond_init(pthread_cond_t *cond)
{
#ifdef RMQ__POSIX_RELATIVE_TIMEDWAIT
    return pthread_cond_init(cond, NULL);
#else
    pthread_condattr_t attr;
    int rc;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(cond, &attr);
    (void)pthread_condattr_destroy(&attr);
    return rc;
#endif
}

static void *rmq__posix_event_create(void *ctx)
{
    rmq__posix_event *e = (rmq__posix_event *)malloc(sizeof *e);
    (void)ctx;
    if (e == NULL)
        return NULL;
    e->signalled = 0;
    if (pthread_mutex_init(&e->lock, NULL) != 0) {
        free(e);
        return NULL;
    }
    if (rmq__posix_cond_init(&e->cond) != 0) {
        (void)pthread_mutex_destroy(&e->lock);
        free(e);
        return NULL;
    }
    return e;
}

#ifdef RMQ__POSIX_RELATIVE_TIMEDWAIT
static int rmq__posix_timedwait(rmq__posix_event *e, uint32_t deadline)
{
    struct timespec rel;
    uint32_t left = deadline - rmq__posix_now_ms(NULL);
    if ((int32_t)left <= 0)
        return ETIMEDOUT;
    rel.tv_sec = (time_t)(left / 1000u);
    rel.tv_nsec = (long)(left % 1000u) * 1000000L;
    return pthread_cond_timedwait_relative_np(&e->cond, &e->lock, &rel);
}
#endif

static int rmq__posix_event_wait(void *ctx, void *event, uint32_t timeout_ms)
{
    rmq__posix_event *e = (rmq__posix_event *)event;
    int got;
#ifdef RMQ__POSIX_RELATIVE_TIMEDWAIT
    uint32_t deadline = rmq__posix_now_ms(NULL) + timeout_ms;
#else
    struct timespec abs;
#endif
    (void)ctx;
    if (e == NULL)
        return -1;
#ifndef RMQ__POSIX_RELATIVE_TIMEDWAIT
    if (clock_gettime(CLOCK_MONOTONIC, &abs) != 0)
        return -1;
    abs.tv_sec += (time_t)(timeout_ms / 1000u);
    abs.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (abs.tv_nsec >= 1000000000L) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000L;
    }
#endif
    (void)pthread_mutex_lock(&e->lock);
    while (!e->signalled) {
#ifdef RMQ__POSIX_RELATIVE_TIMEDWAIT
        int rc = rmq__posix_timedwait(e, deadline);
#else
        int rc = pthread_cond_timedwait(&e->cond, &e->lock, &abs);
#endif
        if (rc == ETIMEDOUT || (rc != 0 && rc != EINTR))
            break;
    }
    got = e->signalled;
    e->signalled = 0;
    (void)pthread_mutex_unlock(&e->lock);
    return got ? 0 : 1;
}

static void rmq__posix_event_signal(void *ctx, void *event)
{
    rmq__posix_event *e = (rmq__posix_event *)event;
    (void)ctx;
    if (e == NULL)
        return;
    (void)pthread_mutex_lock(&e->lock);
    e->signalled = 1;
    (void)pthread_cond_signal(&e->cond);
    (void)pthread_mutex_unlock(&e->lock);
}

static void rmq__posix_event_destroy(void *ctx, void *event)
{
    rmq__posix_event *e = (rmq__posix_event *)event;
    (void)ctx;
    if (e == NULL)
        return;
    (void)pthread_cond_destroy(&e->cond);
    (void)pthread_mutex_destroy(&e->lock);
    free(e);
}

/* ---- logging ----------------------------------------------------------- */

static void rmq__posix_log(void *ctx, int level, const char *msg)
{
    static const char *const names[] = { "?", "ERROR", "WARN", "INFO", "DEBUG" };
    const char *env = getenv("RMQ_LOG");
    const char *name;
    struct iovec v[5];
    int max;
    (void)ctx;
    if (env == NULL || *env == '\0' || msg == NULL)
        return;
    max = (int)strtol(env, NULL, 10);      /* not a number: 0, silent */
    if (level < RMQ_LOG_ERROR || max < level)
        return;
    name = level <= RMQ_LOG_DEBUG ? names[level] : "DEBUG";
    /* One writev, so that lines of several threads do not interleave. */
    v[0].iov_base = (void *)"rmq[";
    v[0].iov_len = 4;
    v[1].iov_base = (void *)name;
    v[1].iov_len = strlen(name);
    v[2].iov_base = (void *)"] ";
    v[2].iov_len = 2;
    v[3].iov_base = (void *)msg;
    v[3].iov_len = strlen(msg);
    v[4].iov_base = (void *)"\n";
    v[4].iov_len = 1;
    (void)!writev(2, v, 5);
}

/* ---- the table --------------------------------------------------------- */

/* Entries are assigned by name, so the table does not depend on the order
 * of the fields of rmq_port. */
static void rmq__posix_fill(rmq_port *port)
{
    memset(port, 0, sizeof *port);
    port->ctx = &rmq__posix_global;
    port->connect = rmq__posix_connect;
    port->connect_result = rmq__posix_connect_result;
    port->send = rmq__posix_send;
    port->sendv = rmq__posix_sendv;
    port->recv = rmq__posix_recv;
    port->close = rmq__posix_close;
    port->pending = NULL;
    port->wait = rmq__posix_wait;
    port->now_ms = rmq__posix_now_ms;
    port->wall_ms = rmq__posix_wall_ms;
    port->local_ip = rmq__posix_local_ip;
    port->process_id = rmq__posix_process_id;
    port->entropy = rmq__posix_entropy;
    port->getenv = rmq__posix_getenv;
    port->mutex_create = rmq__posix_mutex_create;
    port->mutex_lock = rmq__posix_mutex_lock;
    port->mutex_unlock = rmq__posix_mutex_unlock;
    port->mutex_destroy = rmq__posix_mutex_destroy;
    port->event_create = rmq__posix_event_create;
    port->event_wait = rmq__posix_event_wait;
    port->event_signal = rmq__posix_event_signal;
    port->event_destroy = rmq__posix_event_destroy;
    port->wake = rmq__posix_wake;
    port->thread_id = rmq__posix_thread_id;
    port->factory_lock = rmq__posix_factory_lock;
    port->factory_unlock = rmq__posix_factory_unlock;
    port->log = rmq__posix_log;
}

static void rmq__posix_setup(void)
{
    rmq__posix_make_wake(&rmq__posix_global);
    rmq__posix_fill(&rmq__posix_table);
}

RMQ__POSIX_API rmq_port *rmq_port_posix_init(rmq_port *port)
{
    (void)pthread_once(&rmq__posix_once, rmq__posix_setup);
    if (port != NULL)
        rmq__posix_fill(port);
    return port;
}

RMQ__POSIX_API const rmq_port *rmq_port_posix(void)
{
    (void)pthread_once(&rmq__posix_once, rmq__posix_setup);
    return &rmq__posix_table;
}

RMQ__POSIX_API int rmq_port_posix_fd(void *conn)
{
    return conn != NULL ? ((const rmq__posix_conn *)conn)->fd : -1;
}

#endif /* RMQ_PORT_POSIX_IMPLEMENTATION */
