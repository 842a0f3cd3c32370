/* rmq_port_lwip.h - the lwIP port of rocketmq_producer.h (lwIP 2.x sockets).
 *
 * TCP through lwIP's sockets API (lwip_socket, lwip_connect, lwip_send,
 * lwip_recv, lwip_close; non-blocking through lwip_fcntl, or lwip_ioctl
 * FIONBIO), readiness through lwip_poll() - or lwip_select() when
 * RMQ_PORT_LWIP_USE_SELECT is defined - sys_now() as the clock, the local
 * address of a netif, and a device id and entropy that the application
 * supplies. Optional: lwIP's sys_mutex / sys_sem as the producer's lock and
 * events, and a wake() that ends a wait from another thread.
 *
 * QUICK START (after tcpip_init() and netif_add()/netif_set_up())
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION     (in exactly one .c file)
 *     #define RMQ_PORT_LWIP_IMPLEMENTATION
 *     #include "rocketmq_producer.h"
 *     #include "port/rmq_port_lwip.h"
 *
 *     static uint32_t chip_id(void *arg) { (void)arg; return HAL_GetUIDw0(); }
 *     static void trng(void *arg, void *buf, size_t len) { ... hardware RNG ... }
 *
 *     static rmq_port_lwip lw;                  (lives as long as the producer)
 *     rmq_port_lwip_config lc;
 *     rmq_port_lwip_config_init(&lc);
 *     lc.device_id = chip_id;
 *     lc.entropy = trng;
 *     cfg.port = rmq_port_lwip_init(&lw, &lc);
 *
 * Include rocketmq_producer.h first; the lwIP headers come from your
 * lwipopts.h and port, found on the include path as "lwip/...". lwIP must be
 * built with LWIP_SOCKET (hence NO_SYS == 0) and LWIP_TCP, and with
 * LWIP_SOCKET_POLL (the default) or, for RMQ_PORT_LWIP_USE_SELECT,
 * LWIP_SOCKET_SELECT. Debian's liblwip (2.1.3, the unix port) has poll only:
 * there LWIP_SOCKET_SELECT is 0 and lwip_select does not exist.
 *
 * BEHAVIOUR WORTH KNOWING
 *   - Addresses are numeric (IPv4, and IPv6 when LWIP_IPV6); names are
 *     resolved with lwip_getaddrinfo() only when LWIP_DNS is on, and that
 *     call blocks the calling thread until lwIP's resolver answers.
 *   - A connect refused by the peer (an RST, lwIP's ECONNRESET or
 *     ECONNREFUSED) or an unreachable host is RMQ_PORT_REFUSED.
 *   - Each connection holds one lwIP socket (NUM_SOCKETS, that is
 *     MEMP_NUM_NETCONN, bounds them: 4 by default; a producer needs one per
 *     name server and broker it talks to, plus one UDP socket for wake() when
 *     threads is set) and a few bytes of mem_malloc() for its state.
 *   - local_ip() is the IPv4 address of config.netif (netif_default when
 *     NULL), else its first valid IPv6 address in brackets; it fails while
 *     the netif has no address (DHCP not done), and the producer then uses
 *     "127.0.0.1" in its client id: start producers after the link is up.
 *   - process_id() is config.device_id(): message ids of a fleet behind one
 *     NAT stay unique through it and through config.entropy().
 *   - With config.threads set, wake() sends one datagram to a UDP socket of
 *     this port, through 127.0.0.1 or, where lwIP has no route for it
 *     (Debian's build), to the netif's own address; lwIP loops both back
 *     (LWIP_NETIF_LOOPBACK or LWIP_HAVE_LOOPIF). The socket is bound to every
 *     address, so a datagram from the network to its port can only end a wait
 *     early. A wake() while no wait runs ends the next one at once. Without
 *     UDP or loopback, a wait with threads is cut into
 *     RMQ_PORT_LWIP_WAKE_SLICE_MS slices and sees wake() at the next slice.
 *     event_wait() with timeout 0 waits 1 ms (lwIP has no try-wait).
 *   - local_ip() and wake() take lwIP's core lock (LOCK_TCPIP_CORE) briefly:
 *     do not call the producer from inside an lwIP callback.
 *   - There is no environment: getenv is NULL; set namesrv_addr.
 *
 * PORTING TO ANOTHER RTOS STACK: copy this file, keep the table, swap the calls.
 *   FreeRTOS+TCP: FreeRTOS_socket(FREERTOS_AF_INET, FREERTOS_SOCK_STREAM,
 *     FREERTOS_IPPROTO_TCP); zero FREERTOS_SO_RCVTIMEO / SO_SNDTIMEO make it
 *     non-blocking. FreeRTOS_connect then returns -pdFREERTOS_ERRNO_EWOULDBLOCK
 *     (RMQ_PORT_AGAIN) and FreeRTOS_issocketconnected() is connect_result.
 *     FreeRTOS_recv already speaks this contract (0: nothing yet, negative:
 *     closed); FreeRTOS_send's -pdFREERTOS_ERRNO_ENOSPC means "try again" (0).
 *     wait() is a socket set: FreeRTOS_FD_SET(s, set, eSELECT_READ |
 *     eSELECT_WRITE | eSELECT_EXCEPT), FreeRTOS_select(set, ticks),
 *     FreeRTOS_FD_ISSET(); wake() is FreeRTOS_SignalSocket() on a member
 *     (ipconfigSUPPORT_SIGNALS). Clock: xTaskGetTickCount() *
 *     portTICK_PERIOD_MS (it wraps; the library allows it). Local IP:
 *     FreeRTOS_GetIPAddress() and FreeRTOS_inet_ntoa(). Lock and events:
 *     xSemaphoreCreateMutex(), xSemaphoreCreateBinary().
 *   Zephyr: its BSD sockets (zsock_socket, zsock_connect, zsock_fcntl F_SETFL
 *     O_NONBLOCK, zsock_send / zsock_recv with ZSOCK_MSG_DONTWAIT, zsock_poll)
 *     are POSIX enough to follow rmq_port_posix.h instead; k_uptime_get_32()
 *     is the clock, net_if_get_default() + net_addr_ntop() the local IP,
 *     hwinfo_get_device_id() the device id, sys_csrand_get() the entropy,
 *     k_mutex and k_sem the lock and events, and an eventfd (CONFIG_EVENTFD)
 *     in the poll set the wake, as on POSIX.
 */
#ifndef RMQ_PORT_LWIP_H
#define RMQ_PORT_LWIP_H

#ifndef ROCKETMQ_PRODUCER_H
#error "include rocketmq_producer.h before port/rmq_port_lwip.h"
#endif

/* C linkage for what lwipopts.h declares too: such files are often written
 * for C only (Debian's declares sys_lock_tcpip_core() without it). */
#ifdef __cplusplus
extern "C" {
#endif
#include "lwip/opt.h"
#include "lwip/netif.h"

/* What the application supplies. */
typedef struct rmq_port_lwip_config {
    /* Required: a stable id of this device (a chip id, a hash of the serial
     * number or MAC). Becomes the instance name DEFAULT and part of every
     * message id. */
    uint32_t (*device_id)(void *arg);
    /* Required: unpredictable bytes, from a hardware RNG if there is one. */
    void (*entropy)(void *arg, void *buf, size_t len);
    /* Optional: wall clock, epoch milliseconds (SNTP); 0 when known. */
    int (*wall_ms)(void *arg, int64_t *epoch_ms);
    /* Optional: log sink (level RMQ_LOG_ERROR .. RMQ_LOG_DEBUG). */
    void (*log)(void *arg, int level, const char *msg);
    void *arg;                 /* passed to the four above */
    struct netif *netif;       /* whose address is the local IP; NULL: netif_default */
    int threads;               /* non-zero: lock, events and wake for several threads */
} rmq_port_lwip_config;

/* One lwIP port. Allocate it yourself (static or heap); it must outlive
 * every producer using it. Fields other than `port` are private. */
typedef struct rmq_port_lwip {
    rmq_port port;             /* &lw->port is what init returns */
    rmq_port_lwip_config cfg;
    int wake_sock;             /* UDP socket that wake() writes to; -1: none */
    uint16_t wake_port;        /* its port (bound to every address) */
    volatile int woken;        /* wake() was called; the next wait returns at once */
    volatile int wake_via_own; /* the last wake went to the netif's own address */
} rmq_port_lwip;

/* Zero cfg (then set device_id and entropy). */
RMQDEF void rmq_port_lwip_config_init(rmq_port_lwip_config *cfg);

/* Fill lw's table. Returns &lw->port, or NULL when device_id or entropy is
 * missing. Call it after tcpip_init(). The table may be edited before use. */
RMQDEF rmq_port *rmq_port_lwip_init(rmq_port_lwip *lw, const rmq_port_lwip_config *cfg);

/* Close the wake socket. The producers using the port must be destroyed. */
RMQDEF void rmq_port_lwip_free(rmq_port_lwip *lw);

/* The lwIP socket of a connection made by this port; -1 for NULL. */
RMQDEF int rmq_port_lwip_socket(void *conn);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_PORT_LWIP_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(RMQ_PORT_LWIP_IMPLEMENTATION) && !defined(RMQ_PORT_LWIP_IMPLEMENTED)
#define RMQ_PORT_LWIP_IMPLEMENTED

#if defined(RMQ_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define RMQ__LWIP_API RMQDEF __attribute__((unused))
#else
#define RMQ__LWIP_API RMQDEF
#endif

#include <limits.h>
#include <string.h>
#ifdef __cplusplus
extern "C" {
#endif
#include "lwip/sockets.h"
#include "lwip/sys.h"
#include "lwip/mem.h"
#include "lwip/tcpip.h"
#include "lwip/errno.h"
#if LWIP_DNS
#include "lwip/netdb.h"
#endif
#ifdef __cplusplus
}
#endif

#if !LWIP_SOCKET || !LWIP_TCP
#error "rmq_port_lwip.h needs lwIP built with LWIP_SOCKET and LWIP_TCP"
#endif
#if defined(RMQ_PORT_LWIP_USE_SELECT) && !LWIP_SOCKET_SELECT
#error "RMQ_PORT_LWIP_USE_SELECT needs LWIP_SOCKET_SELECT in lwipopts.h"
#endif
#if !defined(RMQ_PORT_LWIP_USE_SELECT) && !LWIP_SOCKET_POLL
#error "rmq_port_lwip.h needs LWIP_SOCKET_POLL, or define RMQ_PORT_LWIP_USE_SELECT"
#endif

/* pollfd entries kept on the stack in wait(); more are allocated for the
 * call. The producer waits on at most RMQ_MAX_CONNECTIONS. */
#ifndef RMQ_PORT_LWIP_STACK_POLLFDS
#define RMQ_PORT_LWIP_STACK_POLLFDS (RMQ_MAX_CONNECTIONS + 1)
#endif

/* Longest piece of a wait when wake() has no loopback socket to write to. */
#ifndef RMQ_PORT_LWIP_WAKE_SLICE_MS
#define RMQ_PORT_LWIP_WAKE_SLICE_MS 50u
#endif

/* iovec entries given to one lwip_writev(). */
#define RMQ__LWIP_MAX_IOV 8

#if (LWIP_NETIF_LOOPBACK || LWIP_HAVE_LOOPIF) && LWIP_UDP
#define RMQ__LWIP_WAKE_SOCKET 1
#endif

enum { RMQ__LWIP_CONNECTING = 0, RMQ__LWIP_CONNECTED = 1, RMQ__LWIP_FAILED = 2 };

typedef struct rmq__lwip_conn {
    int s;          /* the lwIP socket */
    int state;      /* RMQ__LWIP_* */
    int result;     /* the RMQ_PORT_* code once FAILED */
} rmq__lwip_conn;

/* ---- sockets ----------------------------------------------------------- */

static int rmq__lwip_nonblocking(int s)
{
#if defined(F_GETFL) && defined(F_SETFL) && defined(O_NONBLOCK)
    int fl = lwip_fcntl(s, F_GETFL, 0);
    if (fl >= 0 && lwip_fcntl(s, F_SETFL, fl | O_NONBLOCK) == 0)
        return 0;
#endif
    {
        int on = 1;
        return lwip_ioctl(s, (long)FIONBIO, &on) == 0 ? 0 : -1;
    }
}

static int rmq__lwip_classify(int err, int connecting)
{
    switch (err) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
        return RMQ_PORT_REFUSED;
    case ECONNRESET:
        /* lwIP reports an RST to a SYN this way */
        return connecting ? RMQ_PORT_REFUSED : RMQ_PORT_FAILED;
    default:
        return RMQ_PORT_FAILED;
    }
}

/* The address of host:port into ss; -1 when host is not numeric (and
 * there is no resolver). Blocks only in lwip_getaddrinfo (LWIP_DNS). */
static int rmq__lwip_address(const char *host, uint16_t port, struct sockaddr_storage *ss,
                             socklen_t *len)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)ss;
    char name[64];
    size_t n = strlen(host);
    memset(ss, 0, sizeof *ss);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, host, n);
    name[n] = '\0';
#if LWIP_IPV4
    if (lwip_inet_pton(AF_INET, name, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = lwip_htons(port);
        *len = (socklen_t)sizeof *v4;
        return 0;
    }
#endif
#if LWIP_IPV6
    {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)ss;
        if (lwip_inet_pton(AF_INET6, name, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = lwip_htons(port);
            *len = (socklen_t)sizeof *v6;
            return 0;
        }
    }
#endif
#if LWIP_DNS
    {
        struct addrinfo hints;
        struct addrinfo *ai = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        if (lwip_getaddrinfo(name, NULL, &hints, &ai) == 0 && ai != NULL &&
            ai->ai_addrlen <= sizeof *ss) {
            memcpy(ss, ai->ai_addr, ai->ai_addrlen);
            *len = (socklen_t)ai->ai_addrlen;
            lwip_freeaddrinfo(ai);
            if (((struct sockaddr *)(void *)ss)->sa_family == AF_INET)
                v4->sin_port = lwip_htons(port);
#if LWIP_IPV6
            else
                ((struct sockaddr_in6 *)(void *)ss)->sin6_port = lwip_htons(port);
#endif
            return 0;
        }
        if (ai != NULL)
            lwip_freeaddrinfo(ai);
    }
#endif
    (void)v4;
    (void)port;
    return -1;
}

static int rmq__lwip_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    rmq__lwip_conn *c;
    int one = 1;
    int s, err;
    (void)ctx;
    if (host == NULL || conn == NULL || rmq__lwip_address(host, port, &ss, &sslen) != 0)
        return RMQ_PORT_FAILED;
    c = (rmq__lwip_conn *)mem_malloc((mem_size_t)sizeof *c);
    if (c == NULL)
        return RMQ_PORT_FAILED;
    s = lwip_socket(((struct sockaddr *)(void *)&ss)->sa_family, SOCK_STREAM, IPPROTO_TCP);
    if (s < 0 || rmq__lwip_nonblocking(s) != 0) {
        if (s >= 0)
            lwip_close(s);
        mem_free(c);
        return RMQ_PORT_FAILED;
    }
    (void)lwip_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, (socklen_t)sizeof one);
    c->s = s;
    c->result = RMQ_PORT_OK;
    if (lwip_connect(s, (struct sockaddr *)(void *)&ss, sslen) == 0) {
        c->state = RMQ__LWIP_CONNECTED;
        *conn = c;
        return RMQ_PORT_OK;
    }
    err = errno;
    if (err == EINPROGRESS || err == EWOULDBLOCK || err == EAGAIN || err == EINTR) {
        c->state = RMQ__LWIP_CONNECTING;
        *conn = c;
        return RMQ_PORT_AGAIN;
    }
    lwip_close(s);
    mem_free(c);
    return rmq__lwip_classify(err, 1);
}

/* Writable without a pending error means connected: lwIP raises the send
 * event of a connecting socket only once the handshake is done (or failed,
 * which SO_ERROR shows). */
static int rmq__lwip_writable_now(int s)
{
#if defined(RMQ_PORT_LWIP_USE_SELECT)
    fd_set wr;
    struct timeval tv;
    FD_ZERO(&wr);
    FD_SET(s, &wr);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    return lwip_select(s + 1, NULL, &wr, NULL, &tv) > 0 && FD_ISSET(s, &wr);
#else
    struct pollfd pf;
    pf.fd = s;
    pf.events = POLLOUT;
    pf.revents = 0;
    return lwip_poll(&pf, 1, 0) > 0 && (pf.revents & POLLOUT) != 0;
#endif
}

static int rmq__lwip_connect_result(void *ctx, void *conn)
{
    rmq__lwip_conn *c = (rmq__lwip_conn *)conn;
    int err = 0;
    socklen_t elen = (socklen_t)sizeof err;
    (void)ctx;
    if (c == NULL)
        return RMQ_PORT_FAILED;
    if (c->state == RMQ__LWIP_CONNECTED)
        return RMQ_PORT_OK;
    if (c->state == RMQ__LWIP_FAILED)
        return c->result;
    if (lwip_getsockopt(c->s, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
        err = errno;
    if (err == 0) {
        if (!rmq__lwip_writable_now(c->s))
            return RMQ_PORT_AGAIN;
        /* An error may have raced the send event in: read it again. */
        elen = (socklen_t)sizeof err;
        if (lwip_getsockopt(c->s, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
            err = errno;
        if (err == 0) {
            c->state = RMQ__LWIP_CONNECTED;
            return RMQ_PORT_OK;
        }
    }
    c->state = RMQ__LWIP_FAILED;
    c->result = rmq__lwip_classify(err, 1);
    return c->result;
}

/* ---- transfer ---------------------------------------------------------- */

static long rmq__lwip_io_result(ssize_t n)
{
    if (n >= 0)
        return (long)n;
    if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EINTR)
        return 0;
    return -1;
}

static long rmq__lwip_send(void *ctx, void *conn, const void *buf, size_t len)
{
    rmq__lwip_conn *c = (rmq__lwip_conn *)conn;
    (void)ctx;
    if (c == NULL || c->state != RMQ__LWIP_CONNECTED)
        return -1;
    if (len == 0)
        return 0;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    return rmq__lwip_io_result(lwip_send(c->s, buf, len, MSG_DONTWAIT));
}

static long rmq__lwip_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    rmq__lwip_conn *c = (rmq__lwip_conn *)conn;
    struct iovec v[RMQ__LWIP_MAX_IOV];
    size_t total = 0;
    int i;
    int k = 0;
    (void)ctx;
    if (c == NULL || c->state != RMQ__LWIP_CONNECTED || (iov == NULL && iovcnt > 0))
        return -1;
    for (i = 0; i < iovcnt && k < RMQ__LWIP_MAX_IOV; i++) {
        if (iov[i].len == 0)
            continue;
        if (iov[i].len > (size_t)INT_MAX - total)
            break;
        v[k].iov_base = (void *)iov[i].base;
        v[k].iov_len = iov[i].len;
        total += iov[i].len;
        k++;
    }
    if (k == 0)
        return 0;
    return rmq__lwip_io_result(lwip_writev(c->s, v, k));
}

static long rmq__lwip_recv(void *ctx, void *conn, void *buf, size_t len)
{
    rmq__lwip_conn *c = (rmq__lwip_conn *)conn;
    ssize_t n;
    (void)ctx;
    if (c == NULL || c->state != RMQ__LWIP_CONNECTED)
        return -1;
    if (len == 0)
        return 0;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    n = lwip_recv(c->s, buf, len, MSG_DONTWAIT);
    if (n == 0)
        return -1;   /* the peer closed */
    return rmq__lwip_io_result(n);
}

static void rmq__lwip_close(void *ctx, void *conn)
{
    rmq__lwip_conn *c = (rmq__lwip_conn *)conn;
    (void)ctx;
    if (c == NULL)
        return;
    lwip_close(c->s);
    mem_free(c);
}

/* ---- readiness --------------------------------------------------------- */

static void rmq__lwip_drain_wake(rmq_port_lwip *lw)
{
    unsigned char sink[16];
    while (lw->wake_sock >= 0 && lwip_recv(lw->wake_sock, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
}

/* The slice of a wait: all of it when wake() can interrupt lwIP, else at
 * most RMQ_PORT_LWIP_WAKE_SLICE_MS for a port with threads. */
static uint32_t rmq__lwip_slice(const rmq_port_lwip *lw, uint32_t left)
{
    if (lw->cfg.threads && lw->wake_sock < 0 && left > RMQ_PORT_LWIP_WAKE_SLICE_MS)
        return RMQ_PORT_LWIP_WAKE_SLICE_MS;
    return left;
}

#if defined(RMQ_PORT_LWIP_USE_SELECT)

static int rmq__lwip_wait_once(rmq_port_lwip *lw, rmq_wait_item *items, size_t n, uint32_t ms)
{
    fd_set rd, wr, ex;
    struct timeval tv;
    int maxfd = -1;
    int rc, count = 0;
    size_t i;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    for (i = 0; i < n; i++) {
        const rmq__lwip_conn *c = (const rmq__lwip_conn *)items[i].conn;
        items[i].ready = 0;
        if (c == NULL)
            continue;
        if (items[i].want & RMQ_WANT_READ)
            FD_SET(c->s, &rd);
        if (items[i].want & RMQ_WANT_WRITE)
            FD_SET(c->s, &wr);
        FD_SET(c->s, &ex);
        if (c->s > maxfd)
            maxfd = c->s;
    }
    if (lw->wake_sock >= 0) {
        FD_SET(lw->wake_sock, &rd);
        if (lw->wake_sock > maxfd)
            maxfd = lw->wake_sock;
    }
    tv.tv_sec = (long)(ms / 1000u);
    tv.tv_usec = (long)(ms % 1000u) * 1000L;
    rc = lwip_select(maxfd + 1, &rd, &wr, &ex, &tv);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    for (i = 0; i < n; i++) {
        const rmq__lwip_conn *c = (const rmq__lwip_conn *)items[i].conn;
        unsigned r = 0;
        if (c == NULL)
            continue;
        if (FD_ISSET(c->s, &rd))
            r |= RMQ_WANT_READ;
        if (FD_ISSET(c->s, &wr))
            r |= RMQ_WANT_WRITE;
        if (FD_ISSET(c->s, &ex))
            r |= RMQ_READY_ERROR | (items[i].want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
        items[i].ready = r;
        if (r)
            count++;
    }
    if (lw->wake_sock >= 0 && FD_ISSET(lw->wake_sock, &rd))
        rmq__lwip_drain_wake(lw);
    return count;
}

#else /* poll */

static unsigned rmq__lwip_ready(short revents, unsigned want)
{
    unsigned r = 0;
    if (revents & POLLIN)
        r |= RMQ_WANT_READ;
    if (revents & POLLOUT)
        r |= RMQ_WANT_WRITE;
    /* The caller sees the failure through recv or connect_result. */
    if (revents & (POLLERR | POLLHUP | POLLNVAL))
        r |= RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    return r;
}

static int rmq__lwip_wait_once(rmq_port_lwip *lw, rmq_wait_item *items, size_t n, uint32_t ms)
{
    struct pollfd local[RMQ_PORT_LWIP_STACK_POLLFDS];
    struct pollfd *pf = local;
    size_t *slot = NULL;     /* pollfd of each item, or (size_t)-1 */
    size_t local_slot[RMQ_PORT_LWIP_STACK_POLLFDS];
    size_t i, k = 0;
    int rc, count = 0;
    if (n + 1 > (size_t)RMQ_PORT_LWIP_STACK_POLLFDS) {
        pf = (struct pollfd *)mem_malloc((mem_size_t)((n + 1) * (sizeof *pf + sizeof *slot)));
        if (pf == NULL)
            return -1;
        slot = (size_t *)(void *)(pf + n + 1);
    } else {
        slot = local_slot;
    }
    /* Only real sockets go to lwip_poll: it refuses unknown descriptors. */
    for (i = 0; i < n; i++) {
        const rmq__lwip_conn *c = (const rmq__lwip_conn *)items[i].conn;
        items[i].ready = 0;
        slot[i] = (size_t)-1;
        if (c == NULL)
            continue;
        pf[k].fd = c->s;
        pf[k].events = (short)(((items[i].want & RMQ_WANT_READ) ? POLLIN : 0) |
                               ((items[i].want & RMQ_WANT_WRITE) ? POLLOUT : 0));
        pf[k].revents = 0;
        slot[i] = k++;
    }
    if (lw->wake_sock >= 0) {
        pf[k].fd = lw->wake_sock;
        pf[k].events = POLLIN;
        pf[k].revents = 0;
        k++;
    }
    rc = lwip_poll(pf, (nfds_t)k, ms > (uint32_t)INT_MAX ? INT_MAX : (int)ms);
    if (rc < 0) {
        rc = errno == EINTR ? 0 : -1;
    } else {
        for (i = 0; i < n; i++) {
            if (slot[i] == (size_t)-1)
                continue;
            items[i].ready = rmq__lwip_ready(pf[slot[i]].revents, items[i].want);
            if (items[i].ready)
                count++;
        }
        if (lw->wake_sock >= 0 && pf[k - 1].revents != 0)
            rmq__lwip_drain_wake(lw);
        rc = count;
    }
    if (pf != local)
        mem_free(pf);
    return rc;
}

#endif /* RMQ_PORT_LWIP_USE_SELECT */

/* A wake() is remembered in `woken` (and, with the socket, also ends the
 * lwip_poll it interrupts): the wait it hit, or the next one, only checks
 * readiness and returns. */
static int rmq__lwip_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    rmq_port_lwip *lw = (rmq_port_lwip *)ctx;
    uint32_t start = sys_now();
    if (items == NULL && n > 0)
        return -1;
    for (;;) {
        uint32_t spent = sys_now() - start;
        uint32_t left = spent >= timeout_ms ? 0u : timeout_ms - spent;
        int rc;
        if (lw->woken) {
            lw->woken = 0;
            return rmq__lwip_wait_once(lw, items, n, 0);
        }
        rc = rmq__lwip_wait_once(lw, items, n, rmq__lwip_slice(lw, left));
        if (rc != 0 || left == 0 || !lw->cfg.threads)
            return rc;
    }
}

#if defined(RMQ__LWIP_WAKE_SOCKET)
/* The netif's own IPv4 address, in network order; 0 when it has none. */
static uint32_t rmq__lwip_own_v4(const rmq_port_lwip *lw)
{
    uint32_t a = 0;
#if LWIP_IPV4
    struct netif *nif;
    LOCK_TCPIP_CORE();
    nif = lw->cfg.netif != NULL ? lw->cfg.netif : netif_default;
    if (nif != NULL && netif_is_up(nif))
        a = ip4_addr_get_u32(netif_ip4_addr(nif));
    UNLOCK_TCPIP_CORE();
#else
    (void)lw;
#endif
    return a;
}

static int rmq__lwip_wake_to(const rmq_port_lwip *lw, uint32_t addr)
{
    struct sockaddr_in to;
    unsigned char one = 1;
    memset(&to, 0, sizeof to);
    to.sin_family = AF_INET;
    to.sin_port = lwip_htons(lw->wake_port);
    to.sin_addr.s_addr = addr;
    return (int)lwip_sendto(lw->wake_sock, &one, 1, MSG_DONTWAIT, (struct sockaddr *)(void *)&to,
                            (socklen_t)sizeof to);
}
#endif

/* One datagram to the wake socket: through 127.0.0.1 where lwIP routes
 * loopback, else to the netif's own address (which lwIP always loops back;
 * some builds, Debian's among them, have no route for 127.0.0.1). The way
 * that worked is kept, so such a build does not pay a failing send per
 * wake; while the own address fails, 127.0.0.1 is tried first again. A
 * full socket is already readable, so a lost datagram loses nothing. */
static void rmq__lwip_wake(void *ctx)
{
    rmq_port_lwip *lw = (rmq_port_lwip *)ctx;
    lw->woken = 1;
#if defined(RMQ__LWIP_WAKE_SOCKET)
    if (lw->wake_sock >= 0 && (lw->wake_via_own || rmq__lwip_wake_to(lw, lwip_htonl(0x7F000001UL)) < 0)) {
        uint32_t own = rmq__lwip_own_v4(lw);
        lw->wake_via_own = own != 0 && rmq__lwip_wake_to(lw, own) >= 0;
    }
#endif
}

#if defined(RMQ__LWIP_WAKE_SOCKET)
static void rmq__lwip_make_wake(rmq_port_lwip *lw)
{
    struct sockaddr_in sa;
    socklen_t len = (socklen_t)sizeof sa;
    int s = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = 0;   /* any: the netif's own address must reach it too */
    sa.sin_port = 0;
    if (rmq__lwip_nonblocking(s) != 0 || lwip_bind(s, (struct sockaddr *)(void *)&sa, len) != 0 ||
        lwip_getsockname(s, (struct sockaddr *)(void *)&sa, &len) != 0) {
        lwip_close(s);
        return;
    }
    lw->wake_sock = s;
    lw->wake_port = lwip_ntohs(sa.sin_port);
}
#endif

/* ---- time and identity ------------------------------------------------- */

static uint32_t rmq__lwip_now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)sys_now();
}

static int rmq__lwip_wall_ms(void *ctx, int64_t *epoch_ms)
{
    const rmq_port_lwip *lw = (const rmq_port_lwip *)ctx;
    return lw->cfg.wall_ms(lw->cfg.arg, epoch_ms);
}

static uint32_t rmq__lwip_process_id(void *ctx)
{
    const rmq_port_lwip *lw = (const rmq_port_lwip *)ctx;
    return lw->cfg.device_id(lw->cfg.arg);
}

static void rmq__lwip_entropy(void *ctx, void *buf, size_t len)
{
    const rmq_port_lwip *lw = (const rmq_port_lwip *)ctx;
    lw->cfg.entropy(lw->cfg.arg, buf, len);
}

static void rmq__lwip_log(void *ctx, int level, const char *msg)
{
    const rmq_port_lwip *lw = (const rmq_port_lwip *)ctx;
    lw->cfg.log(lw->cfg.arg, level, msg);
}

/* The netif's address as text, read under lwIP's core lock. */
static int rmq__lwip_local_ip(void *ctx, char *buf, size_t len)
{
    const rmq_port_lwip *lw = (const rmq_port_lwip *)ctx;
    struct netif *nif;
    int rc = -1;
    if (buf == NULL || len < 3 || len > (size_t)INT_MAX)
        return -1;
    LOCK_TCPIP_CORE();
    nif = lw->cfg.netif != NULL ? lw->cfg.netif : netif_default;
#if LWIP_IPV4
    if (nif != NULL && !ip4_addr_isany(netif_ip4_addr(nif)) &&
        ip4addr_ntoa_r(netif_ip4_addr(nif), buf, (int)len) != NULL)
        rc = 0;
#endif
#if LWIP_IPV6
    if (rc != 0 && nif != NULL) {
        int i;
        for (i = 0; i < LWIP_IPV6_NUM_ADDRESSES && rc != 0; i++) {
            if (!ip6_addr_isvalid(netif_ip6_addr_state(nif, i)))
                continue;
            if (ip6addr_ntoa_r(netif_ip6_addr(nif, i), buf + 1, (int)len - 2) != NULL) {
                size_t k = strlen(buf + 1);
                buf[0] = '[';
                buf[k + 1] = ']';
                buf[k + 2] = '\0';
                rc = k + 3 <= len ? 0 : -1;
            }
        }
    }
#endif
    UNLOCK_TCPIP_CORE();
    return rc;
}

/* ---- threads: lwIP's sys_arch ------------------------------------------ */

/* The producer's table of client instances is process-wide, so its lock
 * must be one that needs no set-up: lwIP's own inter-task protection
 * (SYS_ARCH_PROTECT), held only while the table is walked. The level it
 * returns is kept for the unlock; the lock is held meanwhile. */
#if SYS_LIGHTWEIGHT_PROT
static sys_prot_t rmq__lwip_factory_level;

static void rmq__lwip_factory_lock(void *ctx)
{
    sys_prot_t level;
    (void)ctx;
    level = sys_arch_protect();
    rmq__lwip_factory_level = level;
}

static void rmq__lwip_factory_unlock(void *ctx)
{
    (void)ctx;
    sys_arch_unprotect(rmq__lwip_factory_level);
}
#endif

static void *rmq__lwip_mutex_create(void *ctx)
{
    sys_mutex_t *m = (sys_mutex_t *)mem_malloc((mem_size_t)sizeof *m);
    (void)ctx;
    if (m != NULL && sys_mutex_new(m) != ERR_OK) {
        mem_free(m);
        m = NULL;
    }
    return m;
}

static void rmq__lwip_mutex_lock(void *ctx, void *mutex)
{
    (void)ctx;
    sys_mutex_lock((sys_mutex_t *)mutex);
}

static void rmq__lwip_mutex_unlock(void *ctx, void *mutex)
{
    (void)ctx;
    sys_mutex_unlock((sys_mutex_t *)mutex);
}

static void rmq__lwip_mutex_destroy(void *ctx, void *mutex)
{
    (void)ctx;
    if (mutex == NULL)
        return;
    sys_mutex_free((sys_mutex_t *)mutex);
    mem_free(mutex);
}

/* An auto-reset event from a counting semaphore: the flag keeps the count
 * at most 1, so a signal is consumed by exactly one wait. */
typedef struct rmq__lwip_event {
    sys_sem_t sem;
    sys_mutex_t lock;
    int signalled;
} rmq__lwip_event;

static void *rmq__lwip_event_create(void *ctx)
{
    rmq__lwip_event *e = (rmq__lwip_event *)mem_malloc((mem_size_t)sizeof *e);
    (void)ctx;
    if (e == NULL)
        return NULL;
    e->signalled = 0;
    if (sys_sem_new(&e->sem, 0) != ERR_OK) {
        mem_free(e);
        return NULL;
    }
    if (sys_mutex_new(&e->lock) != ERR_OK) {
        sys_sem_free(&e->sem);
        mem_free(e);
        return NULL;
    }
    return e;
}

static int rmq__lwip_event_wait(void *ctx, void *event, uint32_t timeout_ms)
{
    rmq__lwip_event *e = (rmq__lwip_event *)event;
    (void)ctx;
    if (e == NULL)
        return -1;
    /* lwIP reads a timeout of 0 as "forever". */
    if (sys_arch_sem_wait(&e->sem, timeout_ms ? timeout_ms : 1u) == SYS_ARCH_TIMEOUT)
        return 1;
    sys_mutex_lock(&e->lock);
    e->signalled = 0;
    sys_mutex_unlock(&e->lock);
    return 0;
}

static void rmq__lwip_event_signal(void *ctx, void *event)
{
    rmq__lwip_event *e = (rmq__lwip_event *)event;
    int post;
    (void)ctx;
    if (e == NULL)
        return;
    sys_mutex_lock(&e->lock);
    post = !e->signalled;
    e->signalled = 1;
    sys_mutex_unlock(&e->lock);
    if (post)
        sys_sem_signal(&e->sem);
}

static void rmq__lwip_event_destroy(void *ctx, void *event)
{
    rmq__lwip_event *e = (rmq__lwip_event *)event;
    (void)ctx;
    if (e == NULL)
        return;
    sys_sem_free(&e->sem);
    sys_mutex_free(&e->lock);
    mem_free(e);
}

/* ---- the table --------------------------------------------------------- */

RMQ__LWIP_API void rmq_port_lwip_config_init(rmq_port_lwip_config *cfg)
{
    if (cfg != NULL)
        memset(cfg, 0, sizeof *cfg);
}

RMQ__LWIP_API rmq_port *rmq_port_lwip_init(rmq_port_lwip *lw, const rmq_port_lwip_config *cfg)
{
    rmq_port *p;
    if (lw == NULL || cfg == NULL || cfg->device_id == NULL || cfg->entropy == NULL)
        return NULL;
    memset(lw, 0, sizeof *lw);
    lw->cfg = *cfg;
    lw->wake_sock = -1;
    p = &lw->port;
    p->ctx = lw;
    p->connect = rmq__lwip_connect;
    p->connect_result = rmq__lwip_connect_result;
    p->send = rmq__lwip_send;
    p->sendv = rmq__lwip_sendv;
    p->recv = rmq__lwip_recv;
    p->close = rmq__lwip_close;
    p->pending = NULL;
    p->wait = rmq__lwip_wait;
    p->now_ms = rmq__lwip_now_ms;
    p->wall_ms = cfg->wall_ms ? rmq__lwip_wall_ms : NULL;
    p->local_ip = rmq__lwip_local_ip;
    p->process_id = rmq__lwip_process_id;
    p->entropy = rmq__lwip_entropy;
    p->getenv = NULL;
    p->log = cfg->log ? rmq__lwip_log : NULL;
    if (cfg->threads) {
        p->mutex_create = rmq__lwip_mutex_create;
        p->mutex_lock = rmq__lwip_mutex_lock;
        p->mutex_unlock = rmq__lwip_mutex_unlock;
        p->mutex_destroy = rmq__lwip_mutex_destroy;
        p->event_create = rmq__lwip_event_create;
        p->event_wait = rmq__lwip_event_wait;
        p->event_signal = rmq__lwip_event_signal;
        p->event_destroy = rmq__lwip_event_destroy;
        p->wake = rmq__lwip_wake;
#if SYS_LIGHTWEIGHT_PROT
        p->factory_lock = rmq__lwip_factory_lock;
        p->factory_unlock = rmq__lwip_factory_unlock;
#endif
#if defined(RMQ__LWIP_WAKE_SOCKET)
        rmq__lwip_make_wake(lw);
#endif
    }
    return p;
}

RMQ__LWIP_API void rmq_port_lwip_free(rmq_port_lwip *lw)
{
    if (lw != NULL && lw->wake_sock >= 0) {
        lwip_close(lw->wake_sock);
        lw->wake_sock = -1;
    }
}

RMQ__LWIP_API int rmq_port_lwip_socket(void *conn)
{
    return conn != NULL ? ((const rmq__lwip_conn *)conn)->s : -1;
}

#endif /* RMQ_PORT_LWIP_IMPLEMENTATION */
