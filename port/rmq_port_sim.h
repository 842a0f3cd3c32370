/* rmq_port_sim.h - an in-memory network with a virtual clock and fault
 * injection, as a port of rocketmq_producer.h.
 *
 * Tests (the library's and yours) use it to run timers and failures without
 * real time passing and without sockets: peers are callbacks in the same
 * process, time moves only when a wait has nothing to report or the test
 * advances it, and every connection can be given faults.
 *
 * QUICK START
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION     (in exactly one .c file)
 *     #define RMQ_PORT_SIM_IMPLEMENTATION
 *     #include "rocketmq_producer.h"
 *     #include "port/rmq_port_sim.h"
 *
 *     static void echo(void *peer, rmq_sim_conn *c, const uint8_t *d, size_t n)
 *     { (void)peer; rmq_sim_conn_write(c, d, n); }
 *
 *     rmq_sim *sim = rmq_sim_create(0xFFFFFF00u);   (wraps after 256 ms)
 *     rmq_sim_peer_ops ops;
 *     memset(&ops, 0, sizeof ops);
 *     ops.on_data = echo;
 *     rmq_sim_listen(sim, "10.0.0.2", 9876, &ops, NULL);
 *     cfg.port = rmq_sim_port(sim);
 *     ...
 *     rmq_sim_destroy(sim);
 *
 * THE MODEL
 *   - An address "host:port" has a listener or not. A connect to an address
 *     without one is refused at once (connect() returns RMQ_PORT_REFUSED).
 *   - connect() to a listener returns RMQ_PORT_AGAIN; the connection becomes
 *     writable after the connection's latency (0: at the next wait) and
 *     connect_result() then says RMQ_PORT_OK. The peer's on_accept runs
 *     inside connect().
 *   - Bytes the client sends reach the peer inside send(): on_data is called
 *     with them (as the faults cut and corrupt them), or, for a listener
 *     without on_data (ops NULL: the scripted mode), they are recorded and the
 *     test takes them with rmq_sim_conn_take(). Peer callbacks run inside the
 *     client's connect(), send() and close(): they may use the rmq_sim_conn_*
 *     calls but must not call back into the producer.
 *   - Bytes the peer writes with rmq_sim_conn_write() become readable by the
 *     client after the connection's latency. rmq_sim_conn_close() is an
 *     orderly close: the client reads what was written, then recv() returns
 *     negative. rmq_sim_conn_reset() is an abort: pending bytes are lost and
 *     send() and recv() return negative at once.
 *   - A connection is always writable once connected (buffers are unbounded;
 *     write_max makes sends partial).
 *   - wait() computes readiness from this state. When nothing is ready it
 *     ADVANCES THE VIRTUAL CLOCK to the earliest of its timeout and the next
 *     event of one of its items (bytes or a close becoming readable, a connect
 *     completing) and returns; it never sleeps. A timeout of 0 only checks.
 *     wake() makes the next wait return at once without moving the clock.
 *   - The sim is single-threaded: no mutex, no event (those entries are NULL),
 *     and wake() must be called from the thread that uses the sim.
 *   - Without rmq_sim_set_wall() the wall clock is unknown (wall_ms returns
 *     -1); once set, it moves with the virtual clock.
 *   - Identity is fixed and deterministic: local IP "127.0.0.1", process id 1
 *     (rmq_sim_set_identity), entropy from a seeded xorshift (rmq_sim_seed),
 *     and an environment of its own (rmq_sim_setenv; the process's is not
 *     read).
 *   - Connections stay valid until rmq_sim_destroy(), so a test may keep and
 *     inspect them after the client closed them. Bytes for the client are
 *     dropped when it closes; recorded client bytes stay until taken.
 *
 * FAULTS (rmq_sim_faults; a zeroed struct means none)
 *   refuse       RMQ_SIM_REFUSE_AT_CONNECT (or any non-zero value other than
 *                the next): connect() returns RMQ_PORT_REFUSED.
 *                RMQ_SIM_REFUSE_DEFERRED: connect() returns RMQ_PORT_AGAIN,
 *                after the latency the wait reports it writable with
 *                RMQ_READY_ERROR and connect_result() returns RMQ_PORT_REFUSED
 *                (what a real TCP stack does).
 *   stall        connects stay in progress forever (a lost SYN): only the
 *                caller's connect timeout ends them. Works on an address
 *                without a listener too.
 *   write_max    send() and sendv() accept at most this many bytes per call
 *                (0: no limit; 1 gives 1-byte writes).
 *   read_max     recv() returns at most this many bytes per call (0: no
 *                limit; 1 gives 1-byte reads).
 *   reset, reset_after
 *                the connection resets once the client has written
 *                reset_after bytes: those bytes reach the peer, then send()
 *                and recv() return negative and the peer sees on_close. With
 *                reset_after 0 the first send() fails.
 *   flip, flip_offset, flip_xor
 *                the byte at offset flip_offset of the client-to-peer stream
 *                is XORed with flip_xor (0 means 0xFF) before the peer sees
 *                it.
 *   mute         the peer never answers: bytes the client sends are dropped
 *                and on_data is not called (send() still succeeds; on_accept
 *                and on_close still are).
 *   latency_ms   virtual milliseconds before a connect completes and before
 *                bytes (and a close) written by the peer become readable.
 * rmq_sim_set_faults() sets them for an address: for every existing
 * connection to it and for every new one (it may be called before
 * rmq_sim_listen). rmq_sim_conn_set_faults() sets them for one connection.
 * refuse and stall matter only when a connection is made.
 */
#ifndef RMQ_PORT_SIM_H
#define RMQ_PORT_SIM_H

#ifndef ROCKETMQ_PRODUCER_H
#error "include rocketmq_producer.h before port/rmq_port_sim.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rmq_sim rmq_sim;
typedef struct rmq_sim_conn rmq_sim_conn;

/* What a listener does, in-process. Any entry may be NULL. A listener with
 * no on_data (or with ops NULL) records the bytes for rmq_sim_conn_take(). */
typedef struct rmq_sim_peer_ops {
    /* A client connected: c is the new connection (its server end). */
    void (*on_accept)(void *peer_ctx, rmq_sim_conn *c);
    /* Bytes the client wrote, as the faults deliver them. */
    void (*on_data)(void *peer_ctx, rmq_sim_conn *c, const uint8_t *data, size_t len);
    /* The client closed the connection, or it was reset by a fault. Not
     * called after the peer closed or reset it itself. */
    void (*on_close)(void *peer_ctx, rmq_sim_conn *c);
} rmq_sim_peer_ops;

#define RMQ_SIM_REFUSE_AT_CONNECT 1
#define RMQ_SIM_REFUSE_DEFERRED 2

typedef struct rmq_sim_faults {
    int refuse;             /* RMQ_SIM_REFUSE_*: connects are refused */
    int stall;              /* connects never complete */
    size_t write_max;       /* bytes accepted per send (0: no limit) */
    size_t read_max;        /* bytes returned per recv (0: no limit) */
    int reset;              /* reset after reset_after client bytes */
    size_t reset_after;
    int flip;               /* corrupt the client byte at flip_offset */
    size_t flip_offset;
    uint8_t flip_xor;       /* 0: 0xFF */
    int mute;               /* client bytes are dropped, never answered */
    uint32_t latency_ms;    /* before a connect completes and peer bytes arrive */
} rmq_sim_faults;

/* A sim whose clock starts at start_ms (just below 2^32 tests wrap-around).
 * NULL when out of memory. */
RMQDEF rmq_sim *rmq_sim_create(uint32_t start_ms);
/* Frees the sim, its listeners and every connection. */
RMQDEF void rmq_sim_destroy(rmq_sim *sim);
/* The port table; its ctx is the sim. Valid until rmq_sim_destroy(). */
RMQDEF const rmq_port *rmq_sim_port(rmq_sim *sim);

/* The virtual clock, and moving it forward by hand. */
RMQDEF uint32_t rmq_sim_now(const rmq_sim *sim);
RMQDEF void rmq_sim_advance(rmq_sim *sim, uint32_t ms);
/* Make the wall clock known: epoch_ms now, then moving with the clock. */
RMQDEF void rmq_sim_set_wall(rmq_sim *sim, int64_t epoch_ms);
/* The local IP text (NULL: local_ip() fails) and the process id. */
RMQDEF void rmq_sim_set_identity(rmq_sim *sim, const char *ip, uint32_t pid);
/* Restart the entropy stream from seed. */
RMQDEF void rmq_sim_seed(rmq_sim *sim, uint64_t seed);
/* Set (value NULL: remove) a variable of the sim's environment. 0 or -1. */
RMQDEF int rmq_sim_setenv(rmq_sim *sim, const char *name, const char *value);
/* Where the port's log lines go (default: nowhere). */
RMQDEF void rmq_sim_on_log(rmq_sim *sim,
                           void (*fn)(void *arg, int level, const char *msg), void *arg);

/* Listen at host:port ("[::1]" and "::1" are one host; names compare
 * without case). ops is copied; NULL gives the scripted mode. Listening
 * again replaces ops for new connections. 0, or -1 when out of memory. */
RMQDEF int rmq_sim_listen(rmq_sim *sim, const char *host, uint16_t port,
                          const rmq_sim_peer_ops *ops, void *peer_ctx);
/* Stop listening: new connects are refused; existing connections live on. */
RMQDEF void rmq_sim_unlisten(rmq_sim *sim, const char *host, uint16_t port);
/* Faults of an address (NULL: none): existing and new connections. 0 or -1. */
RMQDEF int rmq_sim_set_faults(rmq_sim *sim, const char *host, uint16_t port,
                              const rmq_sim_faults *faults);
/* The newest connection made to host:port, or NULL. */
RMQDEF rmq_sim_conn *rmq_sim_last_conn(rmq_sim *sim, const char *host, uint16_t port);
/* Connect attempts made to host:port, refused ones included. */
RMQDEF unsigned rmq_sim_connects(rmq_sim *sim, const char *host, uint16_t port);

/* The peer's side of a connection. */
/* Queue bytes for the client (readable after the latency). 0, or -1 when
 * the connection is closed, reset or was never accepted. */
RMQDEF int rmq_sim_conn_write(rmq_sim_conn *c, const void *data, size_t len);
/* Orderly close by the peer: the client drains, then recv() is negative. */
RMQDEF void rmq_sim_conn_close(rmq_sim_conn *c);
/* Abort by the peer: pending bytes are lost, send/recv negative at once. */
RMQDEF void rmq_sim_conn_reset(rmq_sim_conn *c);
/* Scripted mode: move up to cap recorded client bytes into buf; returns the
 * count. rmq_sim_conn_available() says how many are recorded. */
RMQDEF size_t rmq_sim_conn_take(rmq_sim_conn *c, void *buf, size_t cap);
RMQDEF size_t rmq_sim_conn_available(const rmq_sim_conn *c);
/* A pointer of the peer's, kept with the connection. */
RMQDEF void *rmq_sim_conn_user(const rmq_sim_conn *c);
RMQDEF void rmq_sim_conn_set_user(rmq_sim_conn *c, void *user);
/* Faults of this connection only (NULL: none). */
RMQDEF void rmq_sim_conn_set_faults(rmq_sim_conn *c, const rmq_sim_faults *faults);
/* 1 while the client has not closed its end. */
RMQDEF int rmq_sim_conn_client_open(const rmq_sim_conn *c);
/* The sim a connection belongs to (for rmq_sim_now() in a callback). */
RMQDEF rmq_sim *rmq_sim_conn_sim(const rmq_sim_conn *c);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_PORT_SIM_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(RMQ_PORT_SIM_IMPLEMENTATION) && !defined(RMQ_PORT_SIM_IMPLEMENTED)
#define RMQ_PORT_SIM_IMPLEMENTED

/* Under RMQ_STATIC an application that does not call every public function
 * must not get "defined but not used". */
#if defined(RMQ_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define RMQ__SIM_API RMQDEF __attribute__((unused))
#else
#define RMQ__SIM_API RMQDEF
#endif

#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum {
    RMQ__SIM_CONNECTING,    /* open once connect_at is due */
    RMQ__SIM_STALLED,       /* never completes */
    RMQ__SIM_REFUSING,      /* refused once connect_at is due */
    RMQ__SIM_OPEN,
    RMQ__SIM_REFUSED,
    RMQ__SIM_RESET
};

/* Bytes written by the peer; the data follows the struct. */
typedef struct rmq__sim_chunk {
    struct rmq__sim_chunk *next;
    uint32_t ready_at;
    size_t len;
    size_t off;
} rmq__sim_chunk;

typedef struct rmq__sim_listener {
    struct rmq__sim_listener *next;
    char *host;
    uint16_t port;
    int listening;
    rmq_sim_peer_ops ops;
    int has_ops;
    void *peer_ctx;
    rmq_sim_faults faults;
    unsigned connects;
    rmq_sim_conn *last;
} rmq__sim_listener;

typedef struct rmq__sim_env {
    struct rmq__sim_env *next;
    char *name;
    char *value;
} rmq__sim_env;

struct rmq_sim_conn {
    rmq_sim *sim;
    rmq_sim_conn *next;             /* every connection of the sim */
    rmq__sim_listener *listener;
    rmq_sim_peer_ops ops;           /* as they were when it was accepted */
    int has_ops;
    void *peer_ctx;
    rmq_sim_faults faults;
    int state;                      /* RMQ__SIM_* */
    uint32_t connect_at;
    int accepted;                   /* on_accept ran: on_close is owed */
    int client_open;
    int server_open;
    int fin;                        /* the peer closed: EOF after the bytes */
    uint32_t fin_at;
    size_t written;                 /* client bytes accepted so far */
    rmq__sim_chunk *head;
    rmq__sim_chunk *tail;
    uint8_t *rec;                   /* scripted mode: recorded client bytes */
    size_t rec_off;
    size_t rec_len;
    size_t rec_cap;
    void *user;
};

struct rmq_sim {
    rmq_port port;
    uint32_t now;
    int wall_known;
    int64_t wall;
    char ip[RMQ_ADDR_MAX_LEN + 1];
    int has_ip;
    uint32_t pid;
    uint64_t rng;
    int woken;
    rmq__sim_listener *listeners;
    rmq_sim_conn *conns;
    rmq__sim_env *env;
    void (*log_fn)(void *arg, int level, const char *msg);
    void *log_arg;
};

/* ---- small helpers ----------------------------------------------------- */

/* t has come: wrap-safe, as the library compares. */
static int rmq__sim_due(const rmq_sim *sim, uint32_t t)
{
    return (int32_t)(sim->now - t) >= 0;
}

static void rmq__sim_tick(rmq_sim *sim, uint32_t ms)
{
    sim->now += ms;
    if (sim->wall_known)
        sim->wall += (int64_t)ms;
}

static char *rmq__sim_strdup(const char *s, size_t n)
{
    char *p = (char *)malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* host without the brackets of "[::1]". */
static const char *rmq__sim_bare(const char *host, size_t *len)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        *len = n - 2;
        return host + 1;
    }
    *len = n;
    return host;
}

static int rmq__sim_same_host(const char *stored, const char *host, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char a = (unsigned char)stored[i];
        unsigned char b = (unsigned char)host[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b || a == '\0')
            return 0;
    }
    return stored[n] == '\0';
}

static rmq__sim_listener *rmq__sim_find(const rmq_sim *sim, const char *host, uint16_t port)
{
    rmq__sim_listener *l;
    size_t n;
    const char *bare;
    if (host == NULL)
        return NULL;
    bare = rmq__sim_bare(host, &n);
    for (l = sim->listeners; l != NULL; l = l->next)
        if (l->port == port && rmq__sim_same_host(l->host, bare, n))
            return l;
    return NULL;
}

/* The record of an address, made on first use (a connect or a fault set
 * before anyone listens). */
static rmq__sim_listener *rmq__sim_address(rmq_sim *sim, const char *host, uint16_t port)
{
    rmq__sim_listener *l = rmq__sim_find(sim, host, port);
    size_t n;
    const char *bare;
    if (l != NULL || host == NULL)
        return l;
    l = (rmq__sim_listener *)calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    bare = rmq__sim_bare(host, &n);
    l->host = rmq__sim_strdup(bare, n);
    if (l->host == NULL) {
        free(l);
        return NULL;
    }
    l->port = port;
    l->next = sim->listeners;
    sim->listeners = l;
    return l;
}

static void rmq__sim_free_chunks(rmq_sim_conn *c)
{
    while (c->head != NULL) {
        rmq__sim_chunk *next = c->head->next;
        free(c->head);
        c->head = next;
    }
    c->tail = NULL;
}

static void rmq__sim_free_buffers(rmq_sim_conn *c)
{
    rmq__sim_free_chunks(c);
    free(c->rec);
    c->rec = NULL;
    c->rec_off = c->rec_len = c->rec_cap = 0;
}

/* A connect whose time has come is open. */
static void rmq__sim_settle(rmq_sim_conn *c)
{
    if (c->state == RMQ__SIM_CONNECTING && rmq__sim_due(c->sim, c->connect_at))
        c->state = RMQ__SIM_OPEN;
}

/* The client is gone (closed or reset): tell the peer once. */
static void rmq__sim_tell_peer_closed(rmq_sim_conn *c)
{
    int owed = c->accepted && c->server_open;
    c->server_open = 0;
    if (owed && c->has_ops && c->ops.on_close != NULL)
        c->ops.on_close(c->peer_ctx, c);
}

static void rmq__sim_fault_reset(rmq_sim_conn *c)
{
    c->state = RMQ__SIM_RESET;
    rmq__sim_free_chunks(c);
    rmq__sim_tell_peer_closed(c);
}

/* ---- client -> peer ---------------------------------------------------- */

static int rmq__sim_record(rmq_sim_conn *c, const uint8_t *data, size_t len)
{
    if (c->rec_off > 0 && c->rec_off == c->rec_len)
        c->rec_off = c->rec_len = 0;
    if (c->rec_len + len > c->rec_cap) {
        size_t cap = c->rec_cap != 0 ? c->rec_cap : 256;
        uint8_t *p;
        while (cap < c->rec_len + len)
            cap *= 2;
        p = (uint8_t *)realloc(c->rec, cap);
        if (p == NULL)
            return -1;
        c->rec = p;
        c->rec_cap = cap;
    }
    memcpy(c->rec + c->rec_len, data, len);
    c->rec_len += len;
    return 0;
}

/* Hands len client bytes to the peer; written has not been advanced yet. */
static int rmq__sim_deliver(rmq_sim_conn *c, const uint8_t *data, size_t len)
{
    uint8_t *copy = NULL;
    int rc = 0;
    if (c->faults.mute || !c->server_open)
        return 0;
    if (c->faults.flip && c->faults.flip_offset >= c->written &&
        c->faults.flip_offset - c->written < len) {
        copy = (uint8_t *)malloc(len);
        if (copy == NULL)
            return -1;
        memcpy(copy, data, len);
        copy[c->faults.flip_offset - c->written] ^=
            c->faults.flip_xor != 0 ? c->faults.flip_xor : (uint8_t)0xFF;
        data = copy;
    }
    if (c->has_ops && c->ops.on_data != NULL)
        c->ops.on_data(c->peer_ctx, c, data, len);
    else
        rc = rmq__sim_record(c, data, len);
    free(copy);
    return rc;
}

/* One client write of at most len bytes, write_max already applied. */
static long rmq__sim_client_write(rmq_sim_conn *c, const void *buf, size_t len)
{
    if (c->faults.reset) {
        if (c->written >= c->faults.reset_after) {
            rmq__sim_fault_reset(c);
            return -1;
        }
        if (len > c->faults.reset_after - c->written)
            len = c->faults.reset_after - c->written;
    }
    if (rmq__sim_deliver(c, (const uint8_t *)buf, len) != 0)
        return -1;
    c->written += len;
    if (c->faults.reset && c->written >= c->faults.reset_after && c->state == RMQ__SIM_OPEN)
        rmq__sim_fault_reset(c);
    return (long)len;
}

/* 1: the client may send now; 0: not yet; -1: the connection is gone. */
static int rmq__sim_sendable(rmq_sim_conn *c)
{
    if (c == NULL || !c->client_open)
        return -1;
    rmq__sim_settle(c);
    if (c->state == RMQ__SIM_RESET || c->state == RMQ__SIM_REFUSED)
        return -1;
    return c->state == RMQ__SIM_OPEN ? 1 : 0;
}

static size_t rmq__sim_cap(size_t len, size_t max)
{
    if (len > (size_t)LONG_MAX)
        len = (size_t)LONG_MAX;
    return max != 0 && len > max ? max : len;
}

static long rmq__sim_send(void *ctx, void *conn, const void *buf, size_t len)
{
    rmq_sim_conn *c = (rmq_sim_conn *)conn;
    int ok = rmq__sim_sendable(c);
    (void)ctx;
    if (ok <= 0)
        return ok;
    len = rmq__sim_cap(len, c->faults.write_max);
    if (len == 0)
        return 0;
    return rmq__sim_client_write(c, buf, len);
}

static long rmq__sim_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    rmq_sim_conn *c = (rmq_sim_conn *)conn;
    size_t budget;
    long total = 0;
    int ok = rmq__sim_sendable(c);
    int i;
    (void)ctx;
    if (ok <= 0)
        return ok;
    if (iov == NULL && iovcnt > 0)
        return -1;
    budget = rmq__sim_cap((size_t)LONG_MAX, c->faults.write_max);
    for (i = 0; i < iovcnt && budget > 0; i++) {
        size_t n = iov[i].len < budget ? iov[i].len : budget;
        long r;
        if (n == 0)
            continue;
        r = rmq__sim_client_write(c, iov[i].base, n);
        if (r < 0)
            return total > 0 ? total : -1;
        total += r;
        budget -= (size_t)r;
        if ((size_t)r < iov[i].len || c->state != RMQ__SIM_OPEN)
            break;
    }
    return total;
}

/* ---- peer -> client ---------------------------------------------------- */

static int rmq__sim_readable(const rmq_sim_conn *c)
{
    if (c->head != NULL)
        return rmq__sim_due(c->sim, c->head->ready_at);
    return c->fin && rmq__sim_due(c->sim, c->fin_at);
}

static long rmq__sim_recv(void *ctx, void *conn, void *buf, size_t len)
{
    rmq_sim_conn *c = (rmq_sim_conn *)conn;
    uint8_t *out = (uint8_t *)buf;
    size_t got = 0;
    (void)ctx;
    if (c == NULL || !c->client_open)
        return -1;
    rmq__sim_settle(c);
    if (c->state == RMQ__SIM_RESET || c->state == RMQ__SIM_REFUSED)
        return -1;
    if (c->state != RMQ__SIM_OPEN || len == 0)
        return 0;
    len = rmq__sim_cap(len, c->faults.read_max);
    while (got < len && c->head != NULL && rmq__sim_due(c->sim, c->head->ready_at)) {
        rmq__sim_chunk *ch = c->head;
        size_t n = ch->len - ch->off;
        if (n > len - got)
            n = len - got;
        memcpy(out + got, (const uint8_t *)(ch + 1) + ch->off, n);
        ch->off += n;
        got += n;
        if (ch->off == ch->len) {
            c->head = ch->next;
            if (c->head == NULL)
                c->tail = NULL;
            free(ch);
        }
    }
    if (got > 0)
        return (long)got;
    if (c->head == NULL && c->fin && rmq__sim_due(c->sim, c->fin_at))
        return -1;
    return 0;
}

/* ---- connect and close --------------------------------------------------- */

static rmq_sim_conn *rmq__sim_new_conn(rmq_sim *sim, rmq__sim_listener *l)
{
    rmq_sim_conn *c = (rmq_sim_conn *)calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->sim = sim;
    c->listener = l;
    c->ops = l->ops;
    c->has_ops = l->has_ops;
    c->peer_ctx = l->peer_ctx;
    c->faults = l->faults;
    c->client_open = 1;
    c->server_open = 1;
    c->connect_at = sim->now + l->faults.latency_ms;
    c->next = sim->conns;
    sim->conns = c;
    l->last = c;
    return c;
}

static int rmq__sim_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    rmq_sim *sim = (rmq_sim *)ctx;
    rmq__sim_listener *l;
    rmq_sim_conn *c;
    if (host == NULL || conn == NULL)
        return RMQ_PORT_FAILED;
    l = rmq__sim_address(sim, host, port);
    if (l == NULL)
        return RMQ_PORT_FAILED;
    l->connects++;
    if (!l->faults.stall && (!l->listening || (l->faults.refuse != 0 &&
                                               l->faults.refuse != RMQ_SIM_REFUSE_DEFERRED)))
        return RMQ_PORT_REFUSED;
    c = rmq__sim_new_conn(sim, l);
    if (c == NULL)
        return RMQ_PORT_FAILED;
    *conn = c;
    if (l->faults.stall) {
        c->state = RMQ__SIM_STALLED;
    } else if (l->faults.refuse == RMQ_SIM_REFUSE_DEFERRED) {
        c->state = RMQ__SIM_REFUSING;
    } else {
        c->state = RMQ__SIM_CONNECTING;
        c->accepted = 1;
        if (c->has_ops && c->ops.on_accept != NULL)
            c->ops.on_accept(c->peer_ctx, c);
    }
    return RMQ_PORT_AGAIN;
}

static int rmq__sim_connect_result(void *ctx, void *conn)
{
    rmq_sim_conn *c = (rmq_sim_conn *)conn;
    (void)ctx;
    if (c == NULL)
        return RMQ_PORT_FAILED;
    rmq__sim_settle(c);
    switch (c->state) {
    case RMQ__SIM_OPEN:
        return RMQ_PORT_OK;
    case RMQ__SIM_REFUSING:
        if (!rmq__sim_due(c->sim, c->connect_at))
            return RMQ_PORT_AGAIN;
        c->state = RMQ__SIM_REFUSED;
        return RMQ_PORT_REFUSED;
    case RMQ__SIM_REFUSED:
        return RMQ_PORT_REFUSED;
    case RMQ__SIM_RESET:
        return RMQ_PORT_FAILED;
    default:
        return RMQ_PORT_AGAIN;
    }
}

static void rmq__sim_close(void *ctx, void *conn)
{
    rmq_sim_conn *c = (rmq_sim_conn *)conn;
    (void)ctx;
    if (c == NULL || !c->client_open)
        return;
    c->client_open = 0;
    rmq__sim_tell_peer_closed(c);
    rmq__sim_free_chunks(c);
}

/* ---- readiness --------------------------------------------------------- */

static unsigned rmq__sim_ready(rmq_sim_conn *c, unsigned want)
{
    const unsigned io = want & (RMQ_WANT_READ | RMQ_WANT_WRITE);
    if (c == NULL)
        return 0;
    if (!c->client_open || c->state == RMQ__SIM_RESET || c->state == RMQ__SIM_REFUSED)
        return RMQ_READY_ERROR | io;
    rmq__sim_settle(c);
    switch (c->state) {
    case RMQ__SIM_OPEN:
        return (want & RMQ_WANT_WRITE) | (rmq__sim_readable(c) ? (want & RMQ_WANT_READ) : 0u);
    case RMQ__SIM_REFUSING:
        return rmq__sim_due(c->sim, c->connect_at) ? (RMQ_READY_ERROR | io) : 0u;
    default:
        return 0;
    }
}

/* When c next changes for a waiter that wants `want`: 1 and *delta (ms from
 * now, > 0), or 0 when nothing is scheduled. */
static int rmq__sim_next_event(const rmq_sim_conn *c, unsigned want, uint32_t *delta)
{
    uint32_t at;
    if (c == NULL || !c->client_open)
        return 0;
    if ((c->state == RMQ__SIM_CONNECTING || c->state == RMQ__SIM_REFUSING) &&
        (want & RMQ_WANT_WRITE))
        at = c->connect_at;
    else if (c->state == RMQ__SIM_OPEN && (want & RMQ_WANT_READ) && c->head != NULL)
        at = c->head->ready_at;
    else if (c->state == RMQ__SIM_OPEN && (want & RMQ_WANT_READ) && c->fin)
        at = c->fin_at;
    else
        return 0;
    if (rmq__sim_due(c->sim, at))
        return 0;
    *delta = at - c->sim->now;
    return 1;
}

static int rmq__sim_scan(rmq_wait_item *items, size_t n)
{
    int count = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        items[i].ready = rmq__sim_ready((rmq_sim_conn *)items[i].conn, items[i].want);
        if (items[i].ready != 0)
            count++;
    }
    return count;
}

static int rmq__sim_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    rmq_sim *sim = (rmq_sim *)ctx;
    uint32_t step = timeout_ms;
    int count;
    size_t i;
    if (items == NULL && n > 0)
        return -1;
    count = rmq__sim_scan(items, n);
    if (count > 0 || sim->woken || timeout_ms == 0) {
        sim->woken = 0;
        return count;
    }
    for (i = 0; i < n; i++) {
        uint32_t d;
        if (rmq__sim_next_event((const rmq_sim_conn *)items[i].conn, items[i].want, &d) &&
            d < step)
            step = d;
    }
    rmq__sim_tick(sim, step);
    return rmq__sim_scan(items, n);
}

static void rmq__sim_wake(void *ctx)
{
    ((rmq_sim *)ctx)->woken = 1;
}

/* ---- time, identity, environment, log ---------------------------------- */

static uint32_t rmq__sim_now_ms(void *ctx)
{
    return ((const rmq_sim *)ctx)->now;
}

static int rmq__sim_wall_ms(void *ctx, int64_t *epoch_ms)
{
    const rmq_sim *sim = (const rmq_sim *)ctx;
    if (!sim->wall_known || epoch_ms == NULL)
        return -1;
    *epoch_ms = sim->wall;
    return 0;
}

static int rmq__sim_local_ip(void *ctx, char *buf, size_t len)
{
    const rmq_sim *sim = (const rmq_sim *)ctx;
    size_t n = strlen(sim->ip);
    if (!sim->has_ip || buf == NULL || n + 1 > len)
        return -1;
    memcpy(buf, sim->ip, n + 1);
    return 0;
}

static uint32_t rmq__sim_process_id(void *ctx)
{
    return ((const rmq_sim *)ctx)->pid;
}

/* xorshift64*: deterministic, so that ids in a test are reproducible. */
static uint64_t rmq__sim_next_random(rmq_sim *sim)
{
    uint64_t x = sim->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sim->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void rmq__sim_entropy(void *ctx, void *buf, size_t len)
{
    rmq_sim *sim = (rmq_sim *)ctx;
    uint8_t *p = (uint8_t *)buf;
    size_t i = 0;
    while (i < len) {
        uint64_t r = rmq__sim_next_random(sim);
        int k;
        for (k = 0; k < 8 && i < len; k++, r >>= 8)
            p[i++] = (uint8_t)r;
    }
}

static rmq__sim_env *rmq__sim_env_find(const rmq_sim *sim, const char *name)
{
    rmq__sim_env *e;
    for (e = sim->env; e != NULL; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

static const char *rmq__sim_getenv(void *ctx, const char *name)
{
    const rmq__sim_env *e;
    if (name == NULL)
        return NULL;
    e = rmq__sim_env_find((const rmq_sim *)ctx, name);
    return e != NULL ? e->value : NULL;
}

static void rmq__sim_log(void *ctx, int level, const char *msg)
{
    const rmq_sim *sim = (const rmq_sim *)ctx;
    if (sim->log_fn != NULL && msg != NULL)
        sim->log_fn(sim->log_arg, level, msg);
}

/* ---- the public API ---------------------------------------------------- */

static void rmq__sim_fill(rmq_sim *sim)
{
    rmq_port *p = &sim->port;
    memset(p, 0, sizeof *p);
    p->ctx = sim;
    p->connect = rmq__sim_connect;
    p->connect_result = rmq__sim_connect_result;
    p->send = rmq__sim_send;
    p->sendv = rmq__sim_sendv;
    p->recv = rmq__sim_recv;
    p->close = rmq__sim_close;
    p->pending = NULL;
    p->wait = rmq__sim_wait;
    p->now_ms = rmq__sim_now_ms;
    p->wall_ms = rmq__sim_wall_ms;
    p->local_ip = rmq__sim_local_ip;
    p->process_id = rmq__sim_process_id;
    p->entropy = rmq__sim_entropy;
    p->getenv = rmq__sim_getenv;
    p->wake = rmq__sim_wake;
    p->log = rmq__sim_log;
    /* single-threaded: mutex_* and event_* stay NULL */
}

RMQ__SIM_API rmq_sim *rmq_sim_create(uint32_t start_ms)
{
    rmq_sim *sim = (rmq_sim *)calloc(1, sizeof *sim);
    if (sim == NULL)
        return NULL;
    sim->now = start_ms;
    sim->pid = 1;
    memcpy(sim->ip, "127.0.0.1", 10);
    sim->has_ip = 1;
    rmq_sim_seed(sim, 0);
    rmq__sim_fill(sim);
    return sim;
}

RMQ__SIM_API void rmq_sim_destroy(rmq_sim *sim)
{
    if (sim == NULL)
        return;
    while (sim->conns != NULL) {
        rmq_sim_conn *c = sim->conns;
        sim->conns = c->next;
        rmq__sim_free_buffers(c);
        free(c);
    }
    while (sim->listeners != NULL) {
        rmq__sim_listener *l = sim->listeners;
        sim->listeners = l->next;
        free(l->host);
        free(l);
    }
    while (sim->env != NULL) {
        rmq__sim_env *e = sim->env;
        sim->env = e->next;
        free(e->name);
        free(e->value);
        free(e);
    }
    free(sim);
}

RMQ__SIM_API const rmq_port *rmq_sim_port(rmq_sim *sim)
{
    return sim != NULL ? &sim->port : NULL;
}

RMQ__SIM_API uint32_t rmq_sim_now(const rmq_sim *sim)
{
    return sim->now;
}

RMQ__SIM_API void rmq_sim_advance(rmq_sim *sim, uint32_t ms)
{
    rmq__sim_tick(sim, ms);
}

RMQ__SIM_API void rmq_sim_set_wall(rmq_sim *sim, int64_t epoch_ms)
{
    sim->wall_known = 1;
    sim->wall = epoch_ms;
}

RMQ__SIM_API void rmq_sim_set_identity(rmq_sim *sim, const char *ip, uint32_t pid)
{
    size_t n = ip != NULL ? strlen(ip) : 0;
    sim->pid = pid;
    sim->has_ip = ip != NULL && n < sizeof sim->ip;
    if (sim->has_ip)
        memcpy(sim->ip, ip, n + 1);
}

RMQ__SIM_API void rmq_sim_seed(rmq_sim *sim, uint64_t seed)
{
    /* xorshift must not start from 0 */
    sim->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ull;
}

RMQ__SIM_API int rmq_sim_setenv(rmq_sim *sim, const char *name, const char *value)
{
    rmq__sim_env *e;
    char *copy = NULL;
    if (name == NULL)
        return -1;
    e = rmq__sim_env_find(sim, name);
    if (value != NULL) {
        copy = rmq__sim_strdup(value, strlen(value));
        if (copy == NULL)
            return -1;
    }
    if (e == NULL) {
        if (copy == NULL)
            return 0;
        e = (rmq__sim_env *)calloc(1, sizeof *e);
        if (e != NULL)
            e->name = rmq__sim_strdup(name, strlen(name));
        if (e == NULL || e->name == NULL) {
            free(e);
            free(copy);
            return -1;
        }
        e->next = sim->env;
        sim->env = e;
    }
    free(e->value);
    e->value = copy;
    if (copy == NULL) {   /* removal: unlink */
        rmq__sim_env **pp = &sim->env;
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        free(e->name);
        free(e);
    }
    return 0;
}

RMQ__SIM_API void rmq_sim_on_log(rmq_sim *sim,
                           void (*fn)(void *arg, int level, const char *msg), void *arg)
{
    sim->log_fn = fn;
    sim->log_arg = arg;
}

RMQ__SIM_API int rmq_sim_listen(rmq_sim *sim, const char *host, uint16_t port,
                          const rmq_sim_peer_ops *ops, void *peer_ctx)
{
    rmq__sim_listener *l = rmq__sim_address(sim, host, port);
    if (l == NULL)
        return -1;
    l->listening = 1;
    l->has_ops = ops != NULL;
    if (ops != NULL)
        l->ops = *ops;
    else
        memset(&l->ops, 0, sizeof l->ops);
    l->peer_ctx = peer_ctx;
    return 0;
}

RMQ__SIM_API void rmq_sim_unlisten(rmq_sim *sim, const char *host, uint16_t port)
{
    rmq__sim_listener *l = rmq__sim_find(sim, host, port);
    if (l != NULL)
        l->listening = 0;
}

RMQ__SIM_API int rmq_sim_set_faults(rmq_sim *sim, const char *host, uint16_t port,
                              const rmq_sim_faults *faults)
{
    rmq__sim_listener *l = rmq__sim_address(sim, host, port);
    rmq_sim_conn *c;
    if (l == NULL)
        return -1;
    if (faults != NULL)
        l->faults = *faults;
    else
        memset(&l->faults, 0, sizeof l->faults);
    for (c = sim->conns; c != NULL; c = c->next)
        if (c->listener == l)
            c->faults = l->faults;
    return 0;
}

RMQ__SIM_API rmq_sim_conn *rmq_sim_last_conn(rmq_sim *sim, const char *host, uint16_t port)
{
    const rmq__sim_listener *l = rmq__sim_find(sim, host, port);
    return l != NULL ? l->last : NULL;
}

RMQ__SIM_API unsigned rmq_sim_connects(rmq_sim *sim, const char *host, uint16_t port)
{
    const rmq__sim_listener *l = rmq__sim_find(sim, host, port);
    return l != NULL ? l->connects : 0u;
}

RMQ__SIM_API int rmq_sim_conn_write(rmq_sim_conn *c, const void *data, size_t len)
{
    rmq__sim_chunk *ch;
    if (c == NULL || !c->accepted || !c->server_open || !c->client_open ||
        c->state == RMQ__SIM_RESET || (data == NULL && len > 0))
        return -1;
    if (len == 0)
        return 0;
    if (len > ((size_t)-1) - sizeof *ch)
        return -1;
    ch = (rmq__sim_chunk *)malloc(sizeof *ch + len);
    if (ch == NULL)
        return -1;
    ch->next = NULL;
    ch->ready_at = c->sim->now + c->faults.latency_ms;
    ch->len = len;
    ch->off = 0;
    memcpy(ch + 1, data, len);
    if (c->tail != NULL)
        c->tail->next = ch;
    else
        c->head = ch;
    c->tail = ch;
    return 0;
}

RMQ__SIM_API void rmq_sim_conn_close(rmq_sim_conn *c)
{
    if (c == NULL || !c->server_open)
        return;
    c->server_open = 0;
    c->fin = 1;
    c->fin_at = c->sim->now + c->faults.latency_ms;
}

RMQ__SIM_API void rmq_sim_conn_reset(rmq_sim_conn *c)
{
    if (c == NULL)
        return;
    c->server_open = 0;
    if (c->state == RMQ__SIM_REFUSING || c->state == RMQ__SIM_REFUSED)
        return;
    c->state = RMQ__SIM_RESET;
    rmq__sim_free_chunks(c);
}

RMQ__SIM_API size_t rmq_sim_conn_take(rmq_sim_conn *c, void *buf, size_t cap)
{
    size_t n;
    if (c == NULL || buf == NULL)
        return 0;
    n = c->rec_len - c->rec_off;
    if (n > cap)
        n = cap;
    if (n > 0)
        memcpy(buf, c->rec + c->rec_off, n);
    c->rec_off += n;
    if (c->rec_off == c->rec_len && !c->client_open)
        rmq__sim_free_buffers(c);
    return n;
}

RMQ__SIM_API size_t rmq_sim_conn_available(const rmq_sim_conn *c)
{
    return c != NULL ? c->rec_len - c->rec_off : 0u;
}

RMQ__SIM_API void *rmq_sim_conn_user(const rmq_sim_conn *c)
{
    return c != NULL ? c->user : NULL;
}

RMQ__SIM_API void rmq_sim_conn_set_user(rmq_sim_conn *c, void *user)
{
    if (c != NULL)
        c->user = user;
}

RMQ__SIM_API void rmq_sim_conn_set_faults(rmq_sim_conn *c, const rmq_sim_faults *faults)
{
    if (c == NULL)
        return;
    if (faults != NULL)
        c->faults = *faults;
    else
        memset(&c->faults, 0, sizeof c->faults);
}

RMQ__SIM_API int rmq_sim_conn_client_open(const rmq_sim_conn *c)
{
    return c != NULL && c->client_open;
}

RMQ__SIM_API rmq_sim *rmq_sim_conn_sim(const rmq_sim_conn *c)
{
    return c != NULL ? c->sim : NULL;
}

#endif /* RMQ_PORT_SIM_IMPLEMENTATION */
