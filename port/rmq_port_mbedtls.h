/* rmq_port_mbedtls.h - TLS for rocketmq_producer.h, layered over any other
 * port through mbedTLS BIO callbacks.
 *
 * The TLS port is a port itself: its table wraps an inner port (POSIX, lwIP,
 * a test's fault injector...). Bytes go through the inner port's send and
 * recv; readiness, time, identity, threads and logging are the inner port's.
 * The server certificate is verified by default, against CA certificates
 * given as PEM (text or a file), and so is the host name.
 *
 * QUICK START
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION     (in exactly one .c file)
 *     #define RMQ_PORT_POSIX_IMPLEMENTATION
 *     #define RMQ_PORT_MBEDTLS_IMPLEMENTATION
 *     #include "rocketmq_producer.h"
 *     #include "port/rmq_port_posix.h"
 *     #include "port/rmq_port_mbedtls.h"
 *
 *     static rmq_port_mbedtls tls;              (lives as long as the producer)
 *     rmq_port_mbedtls_config tc;
 *     rmq_port_mbedtls_config_init(&tc);
 *     tc.ca_file = "/etc/rocketmq/ca.pem";
 *     cfg.port = rmq_port_mbedtls_init(&tls, rmq_port_posix(), &tc);
 *     if (!cfg.port) puts(rmq_port_mbedtls_last_error(&tls));
 *     ... create, start, send, shutdown, destroy the producer ...
 *     rmq_port_mbedtls_free(&tls);
 *
 * Link with -lmbedtls -lmbedx509 -lmbedcrypto. Include rocketmq_producer.h
 * first. The implementation uses only the inner port and mbedTLS; it adds no
 * platform dependency of its own.
 *
 * VERIFICATION
 *   - By default (MBEDTLS_SSL_VERIFY_REQUIRED) a handshake fails unless the
 *     server's chain ends at one of the configured CA certificates AND the
 *     certificate names the host: config.server_name when set, else the host
 *     of the address being connected ("127.0.0.1" of "127.0.0.1:10911"; the
 *     brackets of "[::1]" removed). The same name is sent as SNI.
 *     Brokers are usually reached by the IP addresses the name server
 *     announces; set server_name when the cluster's certificate carries a
 *     DNS name instead.
 *   - mbedTLS before 3.5 compares only dNSName subjectAltName entries (and
 *     the CN when there is no subjectAltName), so a certificate for a server
 *     reached by IP address needs the address as a dNSName too
 *     ("DNS:10.0.0.2"); 3.5 and later also match iPAddress entries.
 *   - Verification can only be turned off by setting
 *     insecure_skip_verify_i_know_what_i_am_doing; the port then logs a
 *     warning at init. Any server, or anyone in the middle, is accepted.
 *   - A client certificate and its key (mutual TLS) are optional.
 *   - Validity dates are checked against the platform's clock when mbedTLS
 *     has MBEDTLS_HAVE_TIME_DATE; a device without a clock should build
 *     mbedTLS without it, or set the time before connecting.
 *   - Only TLS 1.2 and newer are offered. Renegotiation is disabled.
 *
 * ERRORS. A failed handshake makes connect_result() return RMQ_PORT_FAILED,
 * so the producer reports "connect to <addr> failed". The reason - the
 * certificate is not signed by a trusted CA, a host name mismatch, the peer
 * closed during the handshake (not a TLS port?), a fatal alert (a client
 * certificate required?) - goes to the log sink (RMQ_LOG_ERROR) and is kept
 * for rmq_port_mbedtls_last_error(); rmq_port_mbedtls_last_verify_flags()
 * gives the MBEDTLS_X509_BADCERT_* bits of the last rejected certificate.
 *
 * HOW THE NON-BLOCKING CONTRACT IS KEPT
 *   - connect() starts the inner connect and returns RMQ_PORT_AGAIN. The
 *     handshake runs inside connect_result(), one mbedtls_ssl_handshake()
 *     step per readiness, which returns RMQ_PORT_AGAIN until it is done; the
 *     producer's connect deadline (connect_timeout_ms, capped by the send
 *     budget) covers the TCP connect and the handshake together.
 *   - wait() wraps the inner wait: while handshaking a connection waits for
 *     what mbedTLS asked (read or write) and is reported writable to the
 *     producer when that arrives; when mbedTLS holds decrypted bytes or an
 *     unprocessed record (pending() > 0) the connection is readable at once.
 *   - MBEDTLS_ERR_SSL_WANT_READ / WANT_WRITE become 0 ("try again") from
 *     send and recv, never a failure. A WANT_WRITE while reading (an alert
 *     mbedTLS must send) leaves output owed: wait() then also waits for the
 *     inner connection to be writable and finishes the write itself.
 *   - A write that mbedTLS could not flush (WANT_WRITE) has already been
 *     encrypted into a record from the caller's bytes: send() reports those
 *     bytes as taken, like a socket buffer, and the port finishes the record
 *     later by repeating mbedtls_ssl_write() with the same length, as
 *     mbedTLS requires (it flushes and does not read the bytes again). So the
 *     producer may reuse or drop its buffer at once, and a request that
 *     expires in between cannot corrupt the stream. The rest of the record
 *     is flushed by the next send(), by wait(), or - once, best effort - by
 *     close().
 *   - One send() writes at most one record (mbedtls_ssl_get_max_out_record_
 *     payload(), 16 KiB by default). There is no scatter send: the producer
 *     writes a request's header and body in two calls.
 *
 * MEMORY, measured by tests/test_tls.c (which prints it for the build at
 * hand) with Debian's mbedTLS 2.28.3 on x86-64, EC P-256 certificates and
 * ECDHE-ECDSA-CHACHA20-POLY1305 (what stunnel chose), counted exactly by ASan's
 * allocator hooks:
 *     per connection, after the handshake   37,423 bytes: two record buffers
 *         of 16,717 bytes (MBEDTLS_SSL_IN/OUT_CONTENT_LEN 16384 + record
 *         overhead), this port's state with the ssl context (~0.9 KB), the
 *         session, the transform and the kept peer certificate (~3 KB)
 *     per connection, peak during the handshake   46,039 bytes
 *     per port   ~1 KB of heap (the parsed CA certificate; more for a bundle
 *         or a client certificate and key) + sizeof(rmq_port_mbedtls) in the
 *         caller's memory: 40,560 bytes with Debian's configuration, of which
 *         37,960 are mbedtls_entropy_context holding HAVEGE's state
 *         (MBEDTLS_HAVEGE_C, removed in 3.0); about 4 KB without it
 * The record buffers dominate: an mbedTLS built with smaller
 * MBEDTLS_SSL_IN_CONTENT_LEN / MBEDTLS_SSL_OUT_CONTENT_LEN (and a server that
 * honours max_fragment_length, or MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH) shrinks
 * them; without MBEDTLS_SSL_KEEP_PEER_CERTIFICATE the peer certificate is
 * freed after the handshake. The producer's own per-connection memory
 * (RMQ_READ_CHUNK_BYTES and up) comes on top.
 *
 * MBEDTLS VERSIONS. Built and tested with 2.28 (Debian 12's 2.28.3, the only
 * one available here). Written for 3.x too, where the differences are kept
 * behind MBEDTLS_VERSION_NUMBER checks: mbedtls_pk_parse_key(file) take an
 * RNG from 3.0; the minimum version is set with mbedtls_ssl_conf_min_version
 * before 3.0 (3.x offers nothing older than TLS 1.2); psa_crypto_init() is
 * called when 3.x uses PSA (MBEDTLS_USE_PSA_CRYPTO or TLS 1.3); a TLS 1.3
 * session ticket arriving in a read (MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_
 * TICKET, 3.5+) is skipped. Only 2.28 was compiled and run; 3.x was not
 * available to try. mbedTLS 4.x (PSA-only RNG) is not supported.
 *
 * THREADS. The port keeps no global state. Connections of one port may be
 * used from the thread that runs the producer's loop (one at a time, as the
 * producer does); the shared configuration and DRBG are only read, except
 * for the DRBG's state, which MBEDTLS_THREADING_C protects. last_error is a
 * plain buffer: read it after the call that failed, from the same thread.
 */
#ifndef RMQ_PORT_MBEDTLS_H
#define RMQ_PORT_MBEDTLS_H

#ifndef ROCKETMQ_PRODUCER_H
#error "include rocketmq_producer.h before port/rmq_port_mbedtls.h"
#endif

#include <mbedtls/version.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/pk.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ctr_drbg.h>

/* Bytes of the text kept by rmq_port_mbedtls_last_error(), NUL included. */
#ifndef RMQ_PORT_MBEDTLS_ERROR_LEN
#define RMQ_PORT_MBEDTLS_ERROR_LEN 256
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* What to trust and who we are. Strings are read during
 * rmq_port_mbedtls_init() only (certificates and keys are parsed then;
 * server_name is copied). PEM text must be NUL-terminated. */
typedef struct rmq_port_mbedtls_config {
    const char *ca_pem;        /* trusted CA certificate(s), PEM text */
    const char *ca_file;       /* and/or a file of them (PEM or DER) */
    const char *cert_pem;      /* optional client certificate (chain), PEM text */
    const char *cert_file;     /*   or file */
    const char *key_pem;       /* its private key, PEM text */
    const char *key_file;      /*   or file */
    const char *key_password;  /* NULL: the key is not encrypted */
    /* Name verified against every server certificate and sent as SNI.
     * NULL: the host part of each address connected to. */
    const char *server_name;
    /* Non-zero: accept ANY server certificate (no chain, no name check).
     * For a test bench only. */
    int insecure_skip_verify_i_know_what_i_am_doing;
} rmq_port_mbedtls_config;

/* One TLS port: the table handed to the producer plus the state shared by
 * its connections. Allocate it yourself (static or heap); it must outlive
 * every producer using it. Fields other than `port` are private. */
typedef struct rmq_port_mbedtls {
    rmq_port port;                 /* &tls->port is what init returns */
    const rmq_port *inner;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt own_cert;
    mbedtls_pk_context own_key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    char server_name[RMQ_ADDR_MAX_LEN + 1];
    int contexts_live;             /* the mbedTLS contexts above need freeing */
    uint32_t verify_flags;
    char last_error[RMQ_PORT_MBEDTLS_ERROR_LEN];
} rmq_port_mbedtls;

/* Zero cfg: no CA (init then refuses), no client certificate, verification
 * on. */
RMQDEF void rmq_port_mbedtls_config_init(rmq_port_mbedtls_config *cfg);

/* Set up tls over inner (which must outlive it). Returns &tls->port, or
 * NULL with the reason in rmq_port_mbedtls_last_error(tls): no CA given, a
 * certificate or key that does not parse, a key without certificate, an
 * inner port without the required entries. tls needs no preparation; after
 * a failure it holds nothing to free (rmq_port_mbedtls_free is harmless).
 * The table may be edited before use (e.g. its log entry). */
RMQDEF rmq_port *rmq_port_mbedtls_init(rmq_port_mbedtls *tls, const rmq_port *inner,
                                       const rmq_port_mbedtls_config *cfg);

/* Release what init set up. Every connection must be closed first (the
 * producers using the port destroyed). */
RMQDEF void rmq_port_mbedtls_free(rmq_port_mbedtls *tls);

/* The why of the last failure of init or of a connection of this port
 * ("TLS handshake with 127.0.0.1:10911 failed: host name mismatch: ...");
 * "" when none. */
RMQDEF const char *rmq_port_mbedtls_last_error(const rmq_port_mbedtls *tls);

/* MBEDTLS_X509_BADCERT_* bits of the last certificate rejected, 0 if none. */
RMQDEF uint32_t rmq_port_mbedtls_last_verify_flags(const rmq_port_mbedtls *tls);

/* The shared mbedtls_ssl_config, to tune before the first connection
 * (ciphersuites, curves, max fragment length, a debug callback). */
RMQDEF mbedtls_ssl_config *rmq_port_mbedtls_ssl_config(rmq_port_mbedtls *tls);

/* The mbedTLS context of a connection made by this port (from the
 * producer's connection list, for an external event loop or to inspect the
 * session); NULL for NULL. */
RMQDEF mbedtls_ssl_context *rmq_port_mbedtls_ssl(void *conn);

/* The inner port's handle of a connection made by this port (e.g. to pass
 * to rmq_port_posix_fd()); NULL for NULL. */
RMQDEF void *rmq_port_mbedtls_inner_conn(void *conn);

/* For an external event loop: what the inner connection must be waited for
 * (RMQ_WANT_*) when the producer wants `want` (an item of
 * rmq_producer_interest()). While handshaking it is what mbedTLS asked
 * for; with a record owed it includes RMQ_WANT_WRITE. Wait on the inner
 * handle for these bits - and not at all while port.pending() > 0 - then
 * call rmq_producer_poll(p, 0), whose wait() does the TLS work. */
RMQDEF unsigned rmq_port_mbedtls_interest(void *conn, unsigned want);

#ifdef __cplusplus
}
#endif
#endif /* RMQ_PORT_MBEDTLS_H */

/* ======================================================================== */
/* Implementation                                                            */
/* ======================================================================== */
#if defined(RMQ_PORT_MBEDTLS_IMPLEMENTATION) && !defined(RMQ_PORT_MBEDTLS_IMPLEMENTED)
#define RMQ_PORT_MBEDTLS_IMPLEMENTED

#if defined(RMQ_STATIC) && (defined(__GNUC__) || defined(__clang__))
#define RMQ__TLS_API RMQDEF __attribute__((unused))
#else
#define RMQ__TLS_API RMQDEF
#endif

#include <limits.h>
#include <string.h>
#include <mbedtls/platform.h>
#include <mbedtls/net_sockets.h>
#if defined(MBEDTLS_ERROR_C)
#include <mbedtls/error.h>
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && \
    (defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include <psa/crypto.h>
#define RMQ__TLS_PSA 1
#endif

/* Allocation of the per-connection state (which holds the ssl context);
 * mbedTLS allocates its record buffers through its own mbedtls_calloc. */
#ifndef RMQ_PORT_MBEDTLS_CALLOC
#define RMQ_PORT_MBEDTLS_CALLOC(n, size) mbedtls_calloc((n), (size))
#define RMQ_PORT_MBEDTLS_FREE(p) mbedtls_free(p)
#endif

/* Wait items kept on the stack in wait(); more are allocated for the call.
 * The producer waits on at most RMQ_MAX_CONNECTIONS. */
#ifndef RMQ_PORT_MBEDTLS_STACK_ITEMS
#define RMQ_PORT_MBEDTLS_STACK_ITEMS RMQ_MAX_CONNECTIONS
#endif

enum {
    RMQ__TLS_TCP = 0,        /* the inner connect is in progress */
    RMQ__TLS_HANDSHAKE = 1,
    RMQ__TLS_OPEN = 2,
    RMQ__TLS_CLOSED = 3,     /* the peer closed (close_notify or EOF) */
    RMQ__TLS_FAILED = 4
};

typedef struct rmq__tls_conn {
    rmq_port_mbedtls *tls;
    void *inner;             /* the inner port's connection */
    int state;               /* RMQ__TLS_* */
    int result;              /* RMQ_PORT_* once FAILED during connect */
    unsigned hs_want;        /* inner interest of the running handshake step */
    unsigned write_want;     /* inner interest of a blocked write */
    int owed;                /* mbedTLS holds output already reported as taken */
    size_t owed_len;         /* length to repeat to finish that write (0: an
                                alert or handshake record, not our bytes) */
    int inner_closed;        /* the inner recv/send failed: the peer is gone */
    size_t hs_bytes_in;      /* bytes received during the handshake */
    char peer[RMQ_ADDR_MAX_LEN + 8];    /* "host:port", for messages */
    char name[RMQ_ADDR_MAX_LEN + 1];    /* the name verified */
    mbedtls_ssl_context ssl;
} rmq__tls_conn;

/* Given to mbedtls_ssl_write() when it only finishes a record: it flushes
 * and does not read the bytes (see "HOW THE NON-BLOCKING CONTRACT IS KEPT"). */
static const unsigned char rmq__tls_no_bytes[1] = { 0 };

/* ---- text ---------------------------------------------------------------- */

static void rmq__tls_cat(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    size_t k = strlen(s);
    if (n + 1 >= cap)
        return;
    if (k > cap - n - 1)
        k = cap - n - 1;
    memcpy(buf + n, s, k);
    buf[n + k] = '\0';
}

static void rmq__tls_cat_hex(char *buf, size_t cap, uint32_t v)
{
    static const char digits[] = "0123456789ABCDEF";
    char t[11];
    int i;
    t[0] = '0';
    t[1] = 'x';
    for (i = 0; i < 8; i++)
        t[2 + i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    t[10] = '\0';
    rmq__tls_cat(buf, cap, t);
}

static void rmq__tls_cat_dec(char *buf, size_t cap, unsigned v)
{
    char t[12];
    int i = (int)sizeof t - 1;
    t[i] = '\0';
    do {
        t[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v && i > 0);
    rmq__tls_cat(buf, cap, t + i);
}

static void rmq__tls_log(rmq_port_mbedtls *tls, int level, const char *msg)
{
    if (tls->port.log)
        tls->port.log(tls->port.ctx, level, msg);
}

/* Text of an mbedTLS error code: its own words when MBEDTLS_ERROR_C is
 * there, else the code. */
static void rmq__tls_cat_mbedtls(char *buf, size_t cap, int ret)
{
#if defined(MBEDTLS_ERROR_C)
    char t[128];
    mbedtls_strerror(ret, t, sizeof t);
    rmq__tls_cat(buf, cap, t);
    rmq__tls_cat(buf, cap, " (");
#endif
    rmq__tls_cat(buf, cap, "mbedTLS error -");
    rmq__tls_cat_hex(buf, cap, (uint32_t)(ret < 0 ? -ret : ret));
#if defined(MBEDTLS_ERROR_C)
    rmq__tls_cat(buf, cap, ")");
#endif
}

static void rmq__tls_set_error(rmq_port_mbedtls *tls, const char *what, int ret)
{
    tls->last_error[0] = '\0';
    rmq__tls_cat(tls->last_error, sizeof tls->last_error, what);
    if (ret != 0) {
        rmq__tls_cat(tls->last_error, sizeof tls->last_error, ": ");
        rmq__tls_cat_mbedtls(tls->last_error, sizeof tls->last_error, ret);
    }
}

/* The certificate's faults, in the order a user should fix them. */
static void rmq__tls_cat_verify(char *buf, size_t cap, uint32_t f, const char *name)
{
    int n = 0;
    if (f & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        rmq__tls_cat(buf, cap, "the server certificate is not signed by a trusted CA (wrong CA configured?)");
        n++;
    }
    if (f & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        rmq__tls_cat(buf, cap, n++ ? "; " : "");
        rmq__tls_cat(buf, cap, "host name mismatch: the server certificate is not valid for '");
        rmq__tls_cat(buf, cap, name);
        rmq__tls_cat(buf, cap, "' (set server_name to a name it carries?)");
    }
    if (f & MBEDTLS_X509_BADCERT_EXPIRED) {
        rmq__tls_cat(buf, cap, n++ ? "; " : "");
        rmq__tls_cat(buf, cap, "the server certificate has expired");
    }
    if (f & MBEDTLS_X509_BADCERT_FUTURE) {
        rmq__tls_cat(buf, cap, n++ ? "; " : "");
        rmq__tls_cat(buf, cap, "the server certificate is not valid yet (is the clock set?)");
    }
    if (f & MBEDTLS_X509_BADCERT_REVOKED) {
        rmq__tls_cat(buf, cap, n++ ? "; " : "");
        rmq__tls_cat(buf, cap, "the server certificate is revoked");
    }
    if (n == 0)
        rmq__tls_cat(buf, cap, "the server certificate was rejected");
    rmq__tls_cat(buf, cap, " [verify flags ");
    rmq__tls_cat_hex(buf, cap, f);
    rmq__tls_cat(buf, cap, "]");
}

/* What a server that ends our handshake most likely refused, the client
 * certificate first: the same questions after a close and after an alert,
 * since timing decides which of the two the client sees. */
static void rmq__tls_cat_refusal(char *buf, size_t cap, const rmq__tls_conn *c)
{
    rmq__tls_cat(buf, cap, "does it require a client certificate");
    rmq__tls_cat(buf, cap, c->tls->own_cert.raw.p == NULL ? " (none is configured)" : "");
    rmq__tls_cat(buf, cap, ", or a TLS version or cipher suite we do not offer?)");
}

/* A handshake the server ended by closing: a server that never answered is
 * probably not TLS; one that answered and then hung up refused something,
 * most often the missing client certificate (OpenSSL's alert is lost when
 * its close resets the connection). */
static void rmq__tls_cat_closed(char *buf, size_t cap, const rmq__tls_conn *c)
{
    if (c->hs_bytes_in == 0) {
        rmq__tls_cat(buf, cap, "the connection was closed before the server answered the handshake "
                               "(is it a TLS port?)");
        return;
    }
    rmq__tls_cat(buf, cap, "the server closed the connection during the handshake (it refused us: ");
    rmq__tls_cat_refusal(buf, cap, c);
}

/* Records why a connection failed, logs it, and marks it failed. */
static void rmq__tls_fail(rmq__tls_conn *c, const char *during, int ret)
{
    rmq_port_mbedtls *tls = c->tls;
    char *e = tls->last_error;
    size_t cap = sizeof tls->last_error;
    e[0] = '\0';
    rmq__tls_cat(e, cap, during);
    rmq__tls_cat(e, cap, c->peer);
    rmq__tls_cat(e, cap, " failed: ");
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        tls->verify_flags = mbedtls_ssl_get_verify_result(&c->ssl);
        rmq__tls_cat_verify(e, cap, tls->verify_flags, c->name);
    } else if (c->inner_closed && c->state == RMQ__TLS_HANDSHAKE) {
        rmq__tls_cat_closed(e, cap, c);
    } else if (c->inner_closed) {
        rmq__tls_cat(e, cap, "the connection was closed or reset");
    } else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c->state == RMQ__TLS_HANDSHAKE) {
        rmq__tls_cat(e, cap, "the server ended the handshake with a fatal alert (");
        rmq__tls_cat_refusal(e, cap, c);
    } else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        rmq__tls_cat(e, cap, "the server sent a fatal alert");
    } else {
        rmq__tls_cat_mbedtls(e, cap, ret);
    }
    rmq__tls_log(tls, RMQ_LOG_ERROR, e);
    c->state = RMQ__TLS_FAILED;
}

/* ---- BIO: mbedTLS reads and writes through the inner port ------------------ */

static int rmq__tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    rmq__tls_conn *c = (rmq__tls_conn *)ctx;
    const rmq_port *in = c->tls->inner;
    long n;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    n = in->send(in->ctx, c->inner, buf, len);
    if (n > 0)
        return (int)n;
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    c->inner_closed = 1;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int rmq__tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    rmq__tls_conn *c = (rmq__tls_conn *)ctx;
    const rmq_port *in = c->tls->inner;
    long n;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    n = in->recv(in->ctx, c->inner, buf, len);
    if (n > 0) {
        if (c->state != RMQ__TLS_OPEN)
            c->hs_bytes_in += (size_t)n;
        return (int)n;
    }
    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    c->inner_closed = 1;
    return MBEDTLS_ERR_NET_CONN_RESET;
}

/* ---- connect and handshake ----------------------------------------------- */

static void rmq__tls_conn_free(rmq__tls_conn *c)
{
    mbedtls_ssl_free(&c->ssl);
    RMQ_PORT_MBEDTLS_FREE(c);
}

/* One handshake step: RMQ_PORT_OK, RMQ_PORT_AGAIN or RMQ_PORT_FAILED. */
static int rmq__tls_handshake(rmq__tls_conn *c)
{
    int ret;
    c->state = RMQ__TLS_HANDSHAKE;
    for (;;) {
        ret = mbedtls_ssl_handshake(&c->ssl);
        if (ret == 0)
            break;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
            c->hs_want = RMQ_WANT_READ;
            return RMQ_PORT_AGAIN;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->hs_want = RMQ_WANT_WRITE;
            return RMQ_PORT_AGAIN;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
#endif
        rmq__tls_fail(c, "TLS handshake with ", ret);
        c->result = RMQ_PORT_FAILED;
        return RMQ_PORT_FAILED;
    }
    c->state = RMQ__TLS_OPEN;
    c->write_want = RMQ_WANT_WRITE;
    {
        char msg[RMQ_ADDR_MAX_LEN + 128];
        msg[0] = '\0';
        rmq__tls_cat(msg, sizeof msg, "TLS to ");
        rmq__tls_cat(msg, sizeof msg, c->peer);
        rmq__tls_cat(msg, sizeof msg, ": ");
        rmq__tls_cat(msg, sizeof msg, mbedtls_ssl_get_version(&c->ssl));
        rmq__tls_cat(msg, sizeof msg, ", ");
        rmq__tls_cat(msg, sizeof msg, mbedtls_ssl_get_ciphersuite(&c->ssl));
        rmq__tls_log(c->tls, RMQ_LOG_DEBUG, msg);
    }
    return RMQ_PORT_OK;
}

/* peer = "host:port", name = host without IPv6 brackets or server_name;
 * -1 when the host does not fit. */
static int rmq__tls_names(rmq__tls_conn *c, const char *host, uint16_t port)
{
    const rmq_port_mbedtls *tls = c->tls;
    size_t n = strlen(host);
    const char *h = host;
    if (n > RMQ_ADDR_MAX_LEN)
        return -1;
    c->peer[0] = '\0';
    rmq__tls_cat(c->peer, sizeof c->peer, host);
    rmq__tls_cat(c->peer, sizeof c->peer, ":");
    rmq__tls_cat_dec(c->peer, sizeof c->peer, port);
    if (tls->server_name[0] != '\0') {
        memcpy(c->name, tls->server_name, strlen(tls->server_name) + 1);
        return 0;
    }
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    memcpy(c->name, h, n);
    c->name[n] = '\0';
    return 0;
}

static int rmq__tls_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    rmq_port_mbedtls *tls = (rmq_port_mbedtls *)ctx;
    const rmq_port *in = tls->inner;
    rmq__tls_conn *c;
    int rc;
    if (host == NULL || conn == NULL)
        return RMQ_PORT_FAILED;
    c = (rmq__tls_conn *)RMQ_PORT_MBEDTLS_CALLOC(1, sizeof *c);
    if (c == NULL) {
        rmq__tls_set_error(tls, "out of memory for a TLS connection", 0);
        return RMQ_PORT_FAILED;
    }
    c->tls = tls;
    mbedtls_ssl_init(&c->ssl);
    if (rmq__tls_names(c, host, port) != 0) {
        rmq__tls_set_error(tls, "TLS: host name too long", 0);
        rmq__tls_conn_free(c);
        return RMQ_PORT_FAILED;
    }
    rc = mbedtls_ssl_setup(&c->ssl, &tls->conf);
    if (rc == 0)
        rc = mbedtls_ssl_set_hostname(&c->ssl, c->name);
    if (rc != 0) {
        rmq__tls_set_error(tls, "TLS: cannot set up a connection", rc);
        rmq__tls_log(tls, RMQ_LOG_ERROR, tls->last_error);
        rmq__tls_conn_free(c);
        return RMQ_PORT_FAILED;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, rmq__tls_bio_send, rmq__tls_bio_recv, NULL);
    rc = in->connect(in->ctx, host, port, &c->inner);
    if (rc < 0) {
        rmq__tls_conn_free(c);
        return rc;
    }
    c->hs_want = RMQ_WANT_WRITE;
    if (rc == RMQ_PORT_AGAIN) {
        c->state = RMQ__TLS_TCP;
        *conn = c;
        return RMQ_PORT_AGAIN;
    }
    if (rmq__tls_handshake(c) == RMQ_PORT_FAILED) {
        in->close(in->ctx, c->inner);
        rmq__tls_conn_free(c);
        return RMQ_PORT_FAILED;
    }
    *conn = c;
    /* Even a finished handshake is reported through connect_result, so
     * that the producer sees one path. */
    return RMQ_PORT_AGAIN;
}

static int rmq__tls_connect_result(void *ctx, void *conn)
{
    rmq__tls_conn *c = (rmq__tls_conn *)conn;
    const rmq_port *in;
    int rc;
    (void)ctx;
    if (c == NULL)
        return RMQ_PORT_FAILED;
    in = c->tls->inner;
    switch (c->state) {
    case RMQ__TLS_OPEN:
        return RMQ_PORT_OK;
    case RMQ__TLS_FAILED:
    case RMQ__TLS_CLOSED:
        return c->result ? c->result : RMQ_PORT_FAILED;
    case RMQ__TLS_TCP:
        rc = in->connect_result ? in->connect_result(in->ctx, c->inner) : RMQ_PORT_OK;
        if (rc == RMQ_PORT_AGAIN)
            return RMQ_PORT_AGAIN;
        if (rc < 0) {
            c->state = RMQ__TLS_FAILED;
            c->result = rc;
            return rc;
        }
        return rmq__tls_handshake(c);
    default:
        return rmq__tls_handshake(c);
    }
}

/* ---- transfer ------------------------------------------------------------ */

/* Finishes the record mbedTLS holds: 1 done, 0 not yet, -1 failed. */
static int rmq__tls_flush(rmq__tls_conn *c)
{
    int ret;
    if (!c->owed)
        return 1;
    ret = mbedtls_ssl_write(&c->ssl, rmq__tls_no_bytes, c->owed_len);
    if (ret >= 0) {
        c->owed = 0;
        c->owed_len = 0;
        return 1;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    rmq__tls_fail(c, "TLS write to ", ret);
    return -1;
}

static long rmq__tls_send(void *ctx, void *conn, const void *buf, size_t len)
{
    rmq__tls_conn *c = (rmq__tls_conn *)conn;
    size_t chunk = len;
    int max, ret;
    (void)ctx;
    if (c == NULL || c->state != RMQ__TLS_OPEN)
        return -1;
    if (len == 0)
        return 0;
    ret = rmq__tls_flush(c);
    if (ret < 0)
        return -1;
    if (ret == 0) {
        c->write_want = RMQ_WANT_WRITE;
        return 0;
    }
    max = mbedtls_ssl_get_max_out_record_payload(&c->ssl);
    if (max <= 0) {
        rmq__tls_fail(c, "TLS write to ", max);
        return -1;
    }
    if (chunk > (size_t)max)
        chunk = (size_t)max;
    ret = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf, chunk);
    if (ret > 0) {
        c->write_want = RMQ_WANT_WRITE;
        return (long)ret;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        /* The record was built from these bytes: they are taken. */
        c->owed = 1;
        c->owed_len = chunk;
        c->write_want = RMQ_WANT_WRITE;
        return (long)chunk;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        c->write_want = RMQ_WANT_READ;
        return 0;
    }
    rmq__tls_fail(c, "TLS write to ", ret);
    return -1;
}

static long rmq__tls_recv(void *ctx, void *conn, void *buf, size_t len)
{
    rmq__tls_conn *c = (rmq__tls_conn *)conn;
    int ret;
    (void)ctx;
    if (c == NULL || c->state != RMQ__TLS_OPEN)
        return -1;
    if (len == 0)
        return 0;
    if (len > (size_t)INT_MAX)
        len = (size_t)INT_MAX;
    /* Output owed does not stop reading (the peer may be waiting for us to
     * read before it reads); it is pushed on when it can be. */
    if (rmq__tls_flush(c) < 0)
        return -1;
    for (;;) {
        ret = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf, len);
        if (ret > 0)
            return (long)ret;
        if (ret == MBEDTLS_ERR_SSL_WANT_READ)
            return 0;
        if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->owed = 1;
            return 0;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
#endif
        break;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || c->inner_closed) {
        c->state = RMQ__TLS_CLOSED;
        return -1;
    }
    rmq__tls_fail(c, "TLS read from ", ret);
    return -1;
}

static size_t rmq__tls_pending(void *ctx, void *conn)
{
    rmq__tls_conn *c = (rmq__tls_conn *)conn;
    size_t n;
    (void)ctx;
    if (c == NULL || c->state != RMQ__TLS_OPEN)
        return 0;
    n = mbedtls_ssl_get_bytes_avail(&c->ssl);
    if (n == 0 && mbedtls_ssl_check_pending(&c->ssl))
        n = 1;   /* a whole record is buffered, not yet decrypted */
    return n;
}

static void rmq__tls_close(void *ctx, void *conn)
{
    rmq__tls_conn *c = (rmq__tls_conn *)conn;
    const rmq_port *in;
    (void)ctx;
    if (c == NULL)
        return;
    in = c->tls->inner;
    if (c->state == RMQ__TLS_OPEN && !c->inner_closed && rmq__tls_flush(c) == 1)
        (void)mbedtls_ssl_close_notify(&c->ssl);   /* best effort, once */
    if (c->inner != NULL)
        in->close(in->ctx, c->inner);
    rmq__tls_conn_free(c);
}

/* ---- readiness ----------------------------------------------------------- */

/* What the inner connection must become for what the producer wants. */
static unsigned rmq__tls_inner_want(const rmq__tls_conn *c, unsigned want)
{
    unsigned w = 0;
    if (c->state == RMQ__TLS_TCP || c->state == RMQ__TLS_HANDSHAKE)
        return c->hs_want;
    if (c->state != RMQ__TLS_OPEN)
        return 0;
    if (want & RMQ_WANT_READ)
        w |= RMQ_WANT_READ;
    if (want & RMQ_WANT_WRITE)
        w |= c->owed ? RMQ_WANT_WRITE : c->write_want;
    if (c->owed)
        w |= RMQ_WANT_WRITE;
    return w;
}

/* Readiness known without waiting: buffered plaintext, a dead connection. */
static unsigned rmq__tls_ready_now(const rmq_port_mbedtls *tls, rmq__tls_conn *c, unsigned want)
{
    const rmq_port *in = tls->inner;
    if (c->state == RMQ__TLS_FAILED || c->state == RMQ__TLS_CLOSED)
        return RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    if (c->state != RMQ__TLS_OPEN)
        return 0;
    if ((want & RMQ_WANT_READ) && (rmq__tls_pending(NULL, c) > 0 ||
                                   (in->pending && in->pending(in->ctx, c->inner) > 0)))
        return RMQ_WANT_READ;
    return 0;
}

/* The producer's view of what the inner wait reported. Owed output is
 * pushed here, so it moves on even when the producer writes nothing. */
static unsigned rmq__tls_ready(rmq__tls_conn *c, unsigned want, unsigned in_ready)
{
    unsigned r = 0;
    if (in_ready == 0)
        return 0;
    if (c->state == RMQ__TLS_TCP || c->state == RMQ__TLS_HANDSHAKE)
        return (want & (RMQ_WANT_READ | RMQ_WANT_WRITE)) | (in_ready & RMQ_READY_ERROR);
    if (c->state != RMQ__TLS_OPEN)
        return RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    if (c->owed && (in_ready & (RMQ_WANT_WRITE | RMQ_READY_ERROR)) && rmq__tls_flush(c) < 0)
        return RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    if ((want & RMQ_WANT_READ) && (in_ready & (RMQ_WANT_READ | RMQ_READY_ERROR)))
        r |= RMQ_WANT_READ;
    if ((want & RMQ_WANT_READ) && rmq__tls_pending(NULL, c) > 0)
        r |= RMQ_WANT_READ;
    if ((want & RMQ_WANT_WRITE) && !c->owed && (in_ready & (c->write_want | RMQ_READY_ERROR)))
        r |= RMQ_WANT_WRITE;
    if (in_ready & RMQ_READY_ERROR)
        r |= RMQ_READY_ERROR | (want & (RMQ_WANT_READ | RMQ_WANT_WRITE));
    return r;
}

static int rmq__tls_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    rmq_port_mbedtls *tls = (rmq_port_mbedtls *)ctx;
    const rmq_port *in = tls->inner;
    rmq_wait_item local[RMQ_PORT_MBEDTLS_STACK_ITEMS];
    rmq_wait_item *iw = local;
    uint32_t start = in->now_ms(in->ctx);
    int count = 0;
    int rc = 0;
    size_t i;
    if (items == NULL && n > 0)
        return -1;
    if (n > (size_t)RMQ_PORT_MBEDTLS_STACK_ITEMS) {
        iw = (rmq_wait_item *)RMQ_PORT_MBEDTLS_CALLOC(n, sizeof *iw);
        if (iw == NULL)
            return -1;
    }
    for (;;) {
        uint32_t spent, left;
        count = 0;
        for (i = 0; i < n; i++) {
            rmq__tls_conn *c = (rmq__tls_conn *)items[i].conn;
            items[i].ready = 0;
            iw[i].conn = c != NULL ? c->inner : NULL;
            iw[i].want = 0;
            iw[i].ready = 0;
            if (c == NULL)
                continue;
            /* Push owed output first: often the socket takes it now. */
            if (c->state == RMQ__TLS_OPEN && c->owed)
                (void)rmq__tls_flush(c);
            items[i].ready = rmq__tls_ready_now(tls, c, items[i].want);
            if (items[i].ready)
                count++;
            iw[i].want = rmq__tls_inner_want(c, items[i].want);
        }
        spent = in->now_ms(in->ctx) - start;
        left = count > 0 || spent >= timeout_ms ? 0u : timeout_ms - spent;
        rc = in->wait(in->ctx, iw, n, left);
        if (rc < 0)
            break;
        for (i = 0; i < n; i++) {
            rmq__tls_conn *c = (rmq__tls_conn *)items[i].conn;
            unsigned before = items[i].ready;
            if (c == NULL)
                continue;
            items[i].ready |= rmq__tls_ready(c, items[i].want, iw[i].ready);
            if (!before && items[i].ready)
                count++;
        }
        /* Stop on anything for the producer, a timeout or a wake; go on
         * waiting only when the inner readiness was all our own flushing. */
        if (count > 0 || rc == 0 || left == 0)
            break;
    }
    if (iw != local)
        RMQ_PORT_MBEDTLS_FREE(iw);
    return rc < 0 ? rc : count;
}

/* ---- the inner port's other entries ---------------------------------------- */
/* The table's context is the TLS port, so each entry is forwarded with the
 * inner port's own context. */

#define RMQ__TLS_INNER(ctx) (((const rmq_port_mbedtls *)(ctx))->inner)

static uint32_t rmq__tls_now_ms(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->now_ms(in->ctx);
}

static int rmq__tls_wall_ms(void *ctx, int64_t *epoch_ms)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->wall_ms(in->ctx, epoch_ms);
}

static int rmq__tls_local_ip(void *ctx, char *buf, size_t len)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->local_ip(in->ctx, buf, len);
}

static uint32_t rmq__tls_process_id(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->process_id(in->ctx);
}

static void rmq__tls_entropy(void *ctx, void *buf, size_t len)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->entropy(in->ctx, buf, len);
}

static const char *rmq__tls_getenv(void *ctx, const char *name)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->getenv(in->ctx, name);
}

static void *rmq__tls_mutex_create(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->mutex_create(in->ctx);
}

static void rmq__tls_mutex_lock(void *ctx, void *m)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->mutex_lock(in->ctx, m);
}

static void rmq__tls_mutex_unlock(void *ctx, void *m)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->mutex_unlock(in->ctx, m);
}

static void rmq__tls_mutex_destroy(void *ctx, void *m)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->mutex_destroy(in->ctx, m);
}

/* The inner port's factory lock, so that TLS and plain producers of one
 * process share one table under one lock. */
static void rmq__tls_factory_lock(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->factory_lock(in->ctx);
}

static void rmq__tls_factory_unlock(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->factory_unlock(in->ctx);
}

static uintptr_t rmq__tls_thread_id(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->thread_id(in->ctx);
}

static void *rmq__tls_event_create(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->event_create(in->ctx);
}

static int rmq__tls_event_wait(void *ctx, void *e, uint32_t timeout_ms)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    return in->event_wait(in->ctx, e, timeout_ms);
}

static void rmq__tls_event_signal(void *ctx, void *e)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->event_signal(in->ctx, e);
}

static void rmq__tls_event_destroy(void *ctx, void *e)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->event_destroy(in->ctx, e);
}

static void rmq__tls_wake(void *ctx)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->wake(in->ctx);
}

static void rmq__tls_forward_log(void *ctx, int level, const char *msg)
{
    const rmq_port *in = RMQ__TLS_INNER(ctx);
    in->log(in->ctx, level, msg);
}

/* The port keeps the last failure's sentence (certificate, host name). */
static const char *rmq__tls_conn_error(void *ctx, void *conn)
{
    (void)conn;
    return ((const rmq_port_mbedtls *)ctx)->last_error;
}

/* Entries are assigned by name; an optional entry stays NULL when the
 * inner port has none. */
static void rmq__tls_fill(rmq_port_mbedtls *tls)
{
    const rmq_port *in = tls->inner;
    rmq_port *p = &tls->port;
    memset(p, 0, sizeof *p);
    p->ctx = tls;
    p->connect = rmq__tls_connect;
    p->connect_result = rmq__tls_connect_result;
    p->send = rmq__tls_send;
    p->sendv = NULL;
    p->recv = rmq__tls_recv;
    p->close = rmq__tls_close;
    p->pending = rmq__tls_pending;
    p->wait = rmq__tls_wait;
    p->conn_error = rmq__tls_conn_error;
    p->now_ms = rmq__tls_now_ms;
    p->wall_ms = in->wall_ms ? rmq__tls_wall_ms : NULL;
    p->local_ip = in->local_ip ? rmq__tls_local_ip : NULL;
    p->process_id = rmq__tls_process_id;
    p->entropy = rmq__tls_entropy;
    p->getenv = in->getenv ? rmq__tls_getenv : NULL;
    if (in->mutex_create) {
        p->mutex_create = rmq__tls_mutex_create;
        p->mutex_lock = rmq__tls_mutex_lock;
        p->mutex_unlock = rmq__tls_mutex_unlock;
        p->mutex_destroy = rmq__tls_mutex_destroy;
    }
    if (in->event_create) {
        p->event_create = rmq__tls_event_create;
        p->event_wait = rmq__tls_event_wait;
        p->event_signal = rmq__tls_event_signal;
        p->event_destroy = rmq__tls_event_destroy;
    }
    p->wake = in->wake ? rmq__tls_wake : NULL;
    p->thread_id = in->thread_id ? rmq__tls_thread_id : NULL;
    if (in->factory_lock && in->factory_unlock) {
        p->factory_lock = rmq__tls_factory_lock;
        p->factory_unlock = rmq__tls_factory_unlock;
    }
    p->log = in->log ? rmq__tls_forward_log : NULL;
}

/* ---- setup --------------------------------------------------------------- */

/* The inner port's entropy feeds the DRBG as a strong source: on a device
 * it must be the hardware RNG. */
static int rmq__tls_entropy_source(void *data, unsigned char *out, size_t len, size_t *olen)
{
    const rmq_port_mbedtls *tls = (const rmq_port_mbedtls *)data;
    tls->inner->entropy(tls->inner->ctx, out, len);
    *olen = len;
    return 0;
}

static int rmq__tls_parse_key_pem(rmq_port_mbedtls *tls, const char *pem, const char *pwd)
{
    const unsigned char *p = (const unsigned char *)pwd;
    size_t plen = pwd != NULL ? strlen(pwd) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(&tls->own_key, (const unsigned char *)pem, strlen(pem) + 1, p, plen,
                                mbedtls_ctr_drbg_random, &tls->drbg);
#else
    return mbedtls_pk_parse_key(&tls->own_key, (const unsigned char *)pem, strlen(pem) + 1, p, plen);
#endif
}

static int rmq__tls_parse_key_file(rmq_port_mbedtls *tls, const char *path, const char *pwd)
{
#if !defined(MBEDTLS_FS_IO)
    (void)tls;
    (void)path;
    (void)pwd;
    return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_keyfile(&tls->own_key, path, pwd, mbedtls_ctr_drbg_random, &tls->drbg);
#else
    return mbedtls_pk_parse_keyfile(&tls->own_key, path, pwd);
#endif
}

static int rmq__tls_parse_crt_file(mbedtls_x509_crt *crt, const char *path)
{
#if defined(MBEDTLS_FS_IO)
    return mbedtls_x509_crt_parse_file(crt, path);
#else
    (void)crt;
    (void)path;
    return MBEDTLS_ERR_X509_FEATURE_UNAVAILABLE;
#endif
}

/* PEM text and/or a file into crt. A bundle in which some certificates do
 * not parse (a positive count) is accepted if one did, with a warning. */
static int rmq__tls_load_crt(rmq_port_mbedtls *tls, mbedtls_x509_crt *crt, const char *pem,
                             const char *file, const char *what)
{
    int ret = 0;
    char msg[RMQ_PORT_MBEDTLS_ERROR_LEN];
    if (pem != NULL)
        ret = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
    if (ret >= 0 && file != NULL) {
        int r2 = rmq__tls_parse_crt_file(crt, file);
        ret = r2 < 0 ? r2 : ret + r2;
    }
    msg[0] = '\0';
    rmq__tls_cat(msg, sizeof msg, "TLS: cannot load the ");
    rmq__tls_cat(msg, sizeof msg, what);
    if (file != NULL) {
        rmq__tls_cat(msg, sizeof msg, " (");
        rmq__tls_cat(msg, sizeof msg, file);
        rmq__tls_cat(msg, sizeof msg, ")");
    }
    if (ret < 0) {
        rmq__tls_set_error(tls, msg, ret);
        return -1;
    }
    if (crt->raw.p == NULL) {
        rmq__tls_cat(msg, sizeof msg, ": no certificate in it");
        rmq__tls_set_error(tls, msg, 0);
        return -1;
    }
    if (ret > 0) {
        msg[0] = '\0';
        rmq__tls_cat(msg, sizeof msg, "TLS: ");
        rmq__tls_cat_dec(msg, sizeof msg, (unsigned)ret);
        rmq__tls_cat(msg, sizeof msg, " certificate(s) of the ");
        rmq__tls_cat(msg, sizeof msg, what);
        rmq__tls_cat(msg, sizeof msg, " could not be parsed and are ignored");
        rmq__tls_log(tls, RMQ_LOG_WARN, msg);
    }
    return 0;
}

static int rmq__tls_load_identity(rmq_port_mbedtls *tls, const rmq_port_mbedtls_config *cfg)
{
    int has_cert = cfg->cert_pem != NULL || cfg->cert_file != NULL;
    int has_key = cfg->key_pem != NULL || cfg->key_file != NULL;
    int ret = 0;
    if (!has_cert && !has_key)
        return 0;
    if (has_cert != has_key) {
        rmq__tls_set_error(tls, has_cert ? "TLS: a client certificate needs its key (key_pem or key_file)"
                                         : "TLS: a client key needs its certificate (cert_pem or cert_file)", 0);
        return -1;
    }
    if (rmq__tls_load_crt(tls, &tls->own_cert, cfg->cert_pem, cfg->cert_file, "client certificate") != 0)
        return -1;
    if (cfg->key_pem != NULL)
        ret = rmq__tls_parse_key_pem(tls, cfg->key_pem, cfg->key_password);
    else
        ret = rmq__tls_parse_key_file(tls, cfg->key_file, cfg->key_password);
    if (ret != 0) {
        rmq__tls_set_error(tls, "TLS: cannot load the client key (wrong password, or not a PEM/DER key?)", ret);
        return -1;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    ret = mbedtls_pk_check_pair(&tls->own_cert.pk, &tls->own_key, mbedtls_ctr_drbg_random, &tls->drbg);
#else
    ret = mbedtls_pk_check_pair(&tls->own_cert.pk, &tls->own_key);
#endif
    if (ret == 0)
        ret = mbedtls_ssl_conf_own_cert(&tls->conf, &tls->own_cert, &tls->own_key);
    if (ret != 0) {
        rmq__tls_set_error(tls, "TLS: the client certificate and key do not go together", ret);
        return -1;
    }
    return 0;
}

static int rmq__tls_seed(rmq_port_mbedtls *tls)
{
    static const char pers[] = "rocketmq_producer.h TLS port";
    int ret = mbedtls_entropy_add_source(&tls->entropy, rmq__tls_entropy_source, tls, 32,
                                         MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (ret == 0)
        ret = mbedtls_ctr_drbg_seed(&tls->drbg, mbedtls_entropy_func, &tls->entropy,
                                    (const unsigned char *)pers, sizeof pers - 1);
    if (ret != 0)
        rmq__tls_set_error(tls, "TLS: cannot seed the random generator", ret);
    return ret;
}

static int rmq__tls_configure(rmq_port_mbedtls *tls, const rmq_port_mbedtls_config *cfg)
{
    int insecure = cfg->insecure_skip_verify_i_know_what_i_am_doing != 0;
    int ret = mbedtls_ssl_config_defaults(&tls->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        rmq__tls_set_error(tls, "TLS: cannot set up the configuration", ret);
        return -1;
    }
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    mbedtls_ssl_conf_min_version(&tls->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
#if defined(MBEDTLS_SSL_RENEGOTIATION)
    mbedtls_ssl_conf_renegotiation(&tls->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
    mbedtls_ssl_conf_rng(&tls->conf, mbedtls_ctr_drbg_random, &tls->drbg);
    if (insecure) {
        mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_NONE);
        rmq__tls_log(tls, RMQ_LOG_WARN,
                     "TLS: insecure_skip_verify_i_know_what_i_am_doing is set: server certificates "
                     "are NOT verified, any server or man in the middle is accepted");
    } else {
        if (cfg->ca_pem == NULL && cfg->ca_file == NULL) {
            rmq__tls_set_error(tls, "TLS: no CA certificate configured (set ca_pem or ca_file); "
                                    "server certificates cannot be verified without one", 0);
            return -1;
        }
        mbedtls_ssl_conf_authmode(&tls->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if ((cfg->ca_pem != NULL || cfg->ca_file != NULL) &&
        rmq__tls_load_crt(tls, &tls->ca, cfg->ca_pem, cfg->ca_file, "CA certificates") != 0)
        return -1;
    mbedtls_ssl_conf_ca_chain(&tls->conf, &tls->ca, NULL);
    return rmq__tls_load_identity(tls, cfg);
}

static void rmq__tls_release(rmq_port_mbedtls *tls)
{
    if (!tls->contexts_live)
        return;
    mbedtls_ssl_config_free(&tls->conf);
    mbedtls_x509_crt_free(&tls->ca);
    mbedtls_x509_crt_free(&tls->own_cert);
    mbedtls_pk_free(&tls->own_key);
    mbedtls_ctr_drbg_free(&tls->drbg);
    mbedtls_entropy_free(&tls->entropy);
    tls->contexts_live = 0;
}

RMQ__TLS_API void rmq_port_mbedtls_config_init(rmq_port_mbedtls_config *cfg)
{
    if (cfg != NULL)
        memset(cfg, 0, sizeof *cfg);
}

RMQ__TLS_API rmq_port *rmq_port_mbedtls_init(rmq_port_mbedtls *tls, const rmq_port *inner,
                                             const rmq_port_mbedtls_config *cfg)
{
    if (tls == NULL)
        return NULL;
    memset(tls, 0, sizeof *tls);
    if (inner == NULL || cfg == NULL || !inner->connect || !inner->send || !inner->recv ||
        !inner->close || !inner->wait || !inner->now_ms || !inner->process_id || !inner->entropy) {
        rmq__tls_set_error(tls, "TLS: the inner port (and config) must be given, with connect, send, "
                                "recv, close, wait, now_ms, process_id and entropy", 0);
        return NULL;
    }
    if (cfg->server_name != NULL && strlen(cfg->server_name) >= sizeof tls->server_name) {
        rmq__tls_set_error(tls, "TLS: server_name is too long", 0);
        return NULL;
    }
    if (cfg->server_name != NULL)
        memcpy(tls->server_name, cfg->server_name, strlen(cfg->server_name) + 1);
    tls->inner = inner;
    rmq__tls_fill(tls);
#if defined(RMQ__TLS_PSA)
    if (psa_crypto_init() != PSA_SUCCESS) {
        rmq__tls_set_error(tls, "TLS: psa_crypto_init failed", 0);
        return NULL;
    }
#endif
    mbedtls_ssl_config_init(&tls->conf);
    mbedtls_x509_crt_init(&tls->ca);
    mbedtls_x509_crt_init(&tls->own_cert);
    mbedtls_pk_init(&tls->own_key);
    mbedtls_entropy_init(&tls->entropy);
    mbedtls_ctr_drbg_init(&tls->drbg);
    tls->contexts_live = 1;
    if (rmq__tls_seed(tls) != 0 || rmq__tls_configure(tls, cfg) != 0) {
        rmq__tls_log(tls, RMQ_LOG_ERROR, tls->last_error);
        rmq__tls_release(tls);
        return NULL;
    }
    return &tls->port;
}

RMQ__TLS_API void rmq_port_mbedtls_free(rmq_port_mbedtls *tls)
{
    if (tls != NULL)
        rmq__tls_release(tls);
}

RMQ__TLS_API const char *rmq_port_mbedtls_last_error(const rmq_port_mbedtls *tls)
{
    return tls != NULL ? tls->last_error : "";
}

RMQ__TLS_API uint32_t rmq_port_mbedtls_last_verify_flags(const rmq_port_mbedtls *tls)
{
    return tls != NULL ? tls->verify_flags : 0u;
}

RMQ__TLS_API mbedtls_ssl_config *rmq_port_mbedtls_ssl_config(rmq_port_mbedtls *tls)
{
    return tls != NULL && tls->contexts_live ? &tls->conf : NULL;
}

RMQ__TLS_API mbedtls_ssl_context *rmq_port_mbedtls_ssl(void *conn)
{
    return conn != NULL ? &((rmq__tls_conn *)conn)->ssl : NULL;
}

RMQ__TLS_API void *rmq_port_mbedtls_inner_conn(void *conn)
{
    return conn != NULL ? ((rmq__tls_conn *)conn)->inner : NULL;
}

RMQ__TLS_API unsigned rmq_port_mbedtls_interest(void *conn, unsigned want)
{
    const rmq__tls_conn *c = (const rmq__tls_conn *)conn;
    if (c == NULL)
        return 0;
    if (c->state == RMQ__TLS_FAILED || c->state == RMQ__TLS_CLOSED)
        return want;   /* wake the loop: recv or connect_result reports it */
    return rmq__tls_inner_want(c, want);
}

#endif /* RMQ_PORT_MBEDTLS_IMPLEMENTATION */
