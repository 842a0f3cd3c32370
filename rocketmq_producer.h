/* rocketmq_producer.h - a RocketMQ producer in one C99 header.
 *
 * It speaks the RocketMQ remoting protocol (the TCP protocol of the NameServer
 * and the Broker, 4.x and 5.x remoting ports) to real clusters, for firmware,
 * RTOS targets and small Linux gateways. No dependency beyond libc (and with
 * RMQ_FREESTANDING not even that); no threads inside; the network, the clock
 * and the identity of the device come from a port you plug in.
 *
 * QUICK START
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION     (in exactly one .c file)
 *     #define RMQ_PORT_POSIX_IMPLEMENTATION
 *     #include "rocketmq_producer.h"
 *     #include "port/rmq_port_posix.h"
 *
 *     rmq_producer_config cfg;
 *     rmq_producer *p;
 *     rmq_message m;
 *     rmq_send_result res;
 *     rmq_producer_config_init(&cfg);
 *     cfg.group = "gateway-7";
 *     cfg.namesrv_addr = "10.0.0.2:9876;10.0.0.3:9876";
 *     cfg.port = rmq_port_posix();
 *     if (rmq_producer_create(&cfg, &p) != RMQ_OK) ...
 *     if (rmq_producer_start(p) != RMQ_OK) ...
 *     rmq_message_init(&m, "Telemetry", "t=21.5", 6);
 *     m.tags = "temp";
 *     if (rmq_send(p, &m, &res) != RMQ_OK)
 *         puts(rmq_producer_last_error(p));
 *     rmq_producer_shutdown(p);
 *     rmq_producer_destroy(p);
 *
 * CONTENTS
 *
 *     1. Configuration macros      every bound and knob, with its default
 *     2. Errors                    rmq_err, broker response codes
 *     3. The port contract         what a platform supplies
 *     4. Configuration             rmq_producer_config, Java's defaults
 *     5. Messages and results      rmq_message, rmq_send_result, rmq_queue
 *     6. The producer API          lifecycle, send paths, the event loop,
 *                                  transactions, statistics
 *     7. Remoting commands         what an RPC hook sees; the ACL signer
 *        A static pool             memory for builds without a heap
 *     -- implementation (ROCKETMQ_PRODUCER_IMPLEMENTATION), in layer order --
 *     8. Platform shims            libc subset, allocation, the pool, text
 *                                  without printf, reasons, logging, time
 *     9. Codec                     byte buffer, JSON writer and pull reader,
 *                                  RemotingCommand frames (both serializations)
 *                                  and the serializers of every request,
 *                                  message properties, MessageBatch body,
 *                                  SHA-1/HMAC/base64 (ACL), stored messages,
 *                                  ids (client id, UNIQ_KEY, offset msg id)
 *    10. Remoting                  connections, the opaque table and its
 *                                  deadline heap, writing and reading frames,
 *                                  timers, one turn of the I/O loop
 *    11. Route                     TopicRouteData, publish info (the queue
 *                                  list, queue selection), MQFaultStrategy
 *    12. Client instance           MQClientInstance: its lock, name servers,
 *                                  route table and refresh, address server,
 *                                  heartbeat, scheduled tasks, the factory
 *                                  table (MQClientManager); it calls the
 *                                  producer only through rmq__inst_hooks
 *    13. Producer                  config checks, lifecycle, message checks,
 *                                  the send (op), processSendResponse, one
 *                                  attempt (sendKernelImpl), retries, the
 *                                  loop as the API runs it, send paths,
 *                                  transactions and their check-back,
 *                                  requests from brokers, messages handed
 *                                  back (rmq_message_ext), shutdown
 *    14. MQAdmin                   MQAdminImpl: create topic, offsets,
 *                                  view and query messages
 *    15. Request-reply             request, its reply, the waiting table
 *    16. Message trace             trace records and their producer
 *     -- licence --
 *
 * THREADING. The rules of every public call, in one place.
 *   - Without a lock in the port (mutex_create NULL, as the sim port) or
 *     with RMQ_NO_THREADS, one thread at a time uses the library, all
 *     producers together.
 *   - With a lock (the POSIX and TLS ports; lwIP's with threads set):
 *     rmq_producer_config_init/_check, rmq_message_init, rmq_strerror,
 *     rmq_version and the codec helpers touch no shared state: any thread.
 *     rmq_producer_create: any thread. rmq_producer_start: any thread, at
 *     the same time as other producers start, shut down and are destroyed,
 *     sharing a client id or not; a producer is shared with other threads
 *     only after its start returned.
 *   - Every other call on a started producer (the sends, poll, flush,
 *     next_timeout, interest, stats, state, set_time, fetch_publish_queues,
 *     transactions) may run in any number of threads at once: one thread
 *     runs the event loop (the leader), the others wait on a port event
 *     until their own call completes or the loop is free to take over.
 *   - rmq_producer_shutdown may run while other threads still call: the
 *     state turns at once (later sends fail with RMQ_ERR_STATE, flush
 *     returns RMQ_OK), every pending send ends with RMQ_ERR_SHUTDOWN, and
 *     it returns once every callback of the producer has run; nothing of
 *     it is written after. A second shutdown meanwhile returns at once.
 *   - rmq_producer_destroy waits for calls still running on the producer
 *     in other threads (a sync send being failed, a poll, a flush, another
 *     shutdown); no call may start on it once destroy is called.
 *   - rmq_producer_last_error is the last failure on the producer from any
 *     thread, rendered into the producer's buffer by the call: one thread
 *     at a time calls it; with several threads read the result's reason
 *     instead (rmq_result_reason, into the caller's buffer: any thread).
 *     rmq_producer_last_error_code and rmq_result_reason_code write
 *     nothing: any thread. No reason is ever kept in a process-wide buffer.
 *   - Callbacks run inside poll, flush, a blocking call, shutdown or
 *     destroy, on the thread leading the loop of the client instance (a
 *     call on any producer sharing it counts), one at a time. From inside
 *     one, only async and oneway sends are allowed: sync sends, flush, poll,
 *     and shutdown or destroy of any producer of that client instance are
 *     refused with RMQ_ERR_IN_CALLBACK; shutdown and destroy, which return
 *     nothing, record it as the producer's last error and count it in
 *     rmq_stats.refused_in_callback. The producer stays running.
 *   - The client instances of a process are in one table under the port's
 *     factory_lock; every port used from several threads in one process
 *     must lock the same one (the shipped ports do; with one that has a
 *     mutex but no factory lock, the application serialises start,
 *     shutdown and destroy itself). With threads, a
 *     producer holds its instance until destroy (the instance leaves the
 *     table when its last producer shuts down and is freed when the last
 *     one is destroyed), so a call racing with shutdown finds it still.
 *
 * DELIBERATE DIFFERENCES FROM THE JAVA CLIENT (4.9)
 *   - instance name DEFAULT becomes the decimal process (device) id, not
 *     pid#nanotime, so producers of one process share one client instance;
 *   - an async retry re-encodes the header for the newly selected queue;
 *   - every request expires at its own deadline (no 1 s scanner);
 *   - a sync timeout closes the connection only if nothing arrived on it since
 *     the timed-out request was written;
 *   - the UNIQ_KEY month base is UTC (devices have no time zone);
 *   - bodies are compressed only when the application plugs a compressor in;
 *   - shutdown unregisters from all brokers at once, in one bounded wait;
 *   - the address server is used only when its URL is configured;
 *   - an address whose connect timed out is not tried again for
 *     RMQ_CONNECT_BACKOFF_MS (a refused connect is retried at once);
 *   - a message query asks the broker groups with writable queues of the
 *     topic (those the instance keeps), not every group of the route;
 *   - an async request's callback runs once (Java 4.9 also calls it when
 *     its send succeeds, before any reply);
 *   - message trace's inner producer joins its host's client instance (no
 *     threads inside: the host's loop carries the trace sends).
 *
 * ERRORS. Every call that can fail returns an rmq_err; the reason, naming the
 * field, limit, topic or broker, is in rmq_producer_last_error() and in the
 * result's reason (rmq_result_reason()). A failure records a reason as a
 * code (rmq_reason_code: one list, RMQ_REASONS, holds every code and its
 * sentence's template) and its arguments; the sentence is written only when
 * one of those two asks for it, and the code is read by
 * rmq_producer_last_error_code() and rmq_result_reason_code(). A broker's
 * answer is RMQ_ERR_BROKER with its code kept.
 *
 * MEMORY. Everything a message points to is copied before the send call
 * returns (the body once, into what is written). Every table has a bound
 * (section 1); what a peer sends never makes the library allocate past one.
 */
#ifndef ROCKETMQ_PRODUCER_H
#define ROCKETMQ_PRODUCER_H

#define RMQ_VERSION_MAJOR 0
#define RMQ_VERSION_MINOR 1
#define RMQ_VERSION_PATCH 0
#define RMQ_VERSION_TEXT "0.1.0"

/* ======================================================================== */
/* 1. Configuration macros                                                   */
/* ======================================================================== */
/* Define any of these before including the header to change it. Units are in
 * the names. Every table and buffer of the library has one of these bounds,
 * and nothing a peer sends can make it allocate past them. */

/* Largest frame accepted from a peer, length prefix included. A well-formed
 * frame above it is read past and discarded (its request fails with
 * RMQ_ERR_FRAME_TOO_LARGE); the protocol's own limit is 16 MiB. */
#ifndef RMQ_MAX_FRAME_BYTES
#define RMQ_MAX_FRAME_BYTES (4u * 1024u * 1024u + 64u * 1024u)
#endif

/* Largest header (JSON or binary) accepted, even inside an oversized frame. */
#ifndef RMQ_MAX_HEADER_BYTES
#define RMQ_MAX_HEADER_BYTES (64u * 1024u)
#endif

/* Connections open at once (name servers + brokers) per client instance. */
#ifndef RMQ_MAX_CONNECTIONS
#define RMQ_MAX_CONNECTIONS 16
#endif

/* Requests in flight (written, answer awaited) per client instance. */
#ifndef RMQ_MAX_INFLIGHT
#define RMQ_MAX_INFLIGHT 4096
#endif

/* Async sends accepted and not yet completed, per producer (back-pressure);
 * past it rmq_send_async() returns RMQ_ERR_BUSY at once. */
#ifndef RMQ_MAX_PENDING
#define RMQ_MAX_PENDING 4096
#endif

/* Bytes held for async and oneway sends not yet completed, per producer. */
#ifndef RMQ_MAX_PENDING_BYTES
#define RMQ_MAX_PENDING_BYTES (64u * 1024u * 1024u)
#endif
/* cfg.linger_us: the most frames, and bytes, requests held for one write
 * to a broker may reach; the one that reaches either bound is written with
 * them at once. */
#ifndef RMQ_LINGER_MAX_FRAMES
#define RMQ_LINGER_MAX_FRAMES 32
#endif
#ifndef RMQ_LINGER_MAX_BYTES
#define RMQ_LINGER_MAX_BYTES (64u * 1024u)
#endif
/* Bytes per producer for the part of a JSON send header that repeats from
 * one send to the next of the same topic (code, group, topic, create key,
 * queue nums), written once and copied after; a longer part is written
 * whole each time. 0: none kept. Not in RMQ_NO_FAST_PATH builds. */
#ifndef RMQ_SEND_PREFIX_BYTES
#define RMQ_SEND_PREFIX_BYTES 160
#endif
#if RMQ_SEND_PREFIX_BYTES > 4096
#error "RMQ_SEND_PREFIX_BYTES: at most 4096"
#endif

/* Topics whose route and publish info a client instance keeps. */
#ifndef RMQ_MAX_TOPICS
#define RMQ_MAX_TOPICS 64
#endif

/* Broker groups in one route, and in the broker address table. */
#ifndef RMQ_MAX_BROKERS
#define RMQ_MAX_BROKERS 16
#endif

/* Addresses (master and slaves) kept per broker group. */
#ifndef RMQ_MAX_BROKER_ADDRS
#define RMQ_MAX_BROKER_ADDRS 4
#endif

/* Publish queues of one topic (all brokers together). */
#ifndef RMQ_MAX_QUEUES
#define RMQ_MAX_QUEUES 256
#endif

/* Unused since the JSON reader holds no tokens (a route body or a header
 * is read in place); defined still so that builds that set it compile. */
#ifndef RMQ_MAX_JSON_TOKENS
#define RMQ_MAX_JSON_TOKENS 1024
#endif

/* Nesting depth of JSON accepted (route data needs 4). */
#ifndef RMQ_MAX_JSON_DEPTH
#define RMQ_MAX_JSON_DEPTH 16
#endif

/* extFields entries read from one header; a send writes 14, an RPC hook
 * may add its own. */
#ifndef RMQ_MAX_EXT_FIELDS
#define RMQ_MAX_EXT_FIELDS 32
#endif
#if RMQ_MAX_EXT_FIELDS > 255
#error "RMQ_MAX_EXT_FIELDS: at most 255 (rmq_command.answer holds an index in a byte)"
#endif
#if RMQ_MAX_EXT_FIELDS < 16
#error "RMQ_MAX_EXT_FIELDS must be at least 16: a send header has 14 fields"
#endif

/* Name servers in the configured list. */
#ifndef RMQ_MAX_NAMESRV
#define RMQ_MAX_NAMESRV 8
#endif

/* Transaction checks from brokers queued for the application's check
 * function; past it a check is dropped (the broker asks again later). */
#ifndef RMQ_MAX_TX_CHECKS
#define RMQ_MAX_TX_CHECKS 64
#endif

/* Producers (groups) sharing one client instance. */
#ifndef RMQ_MAX_PRODUCERS
#define RMQ_MAX_PRODUCERS 8
#endif

/* Message trace (cfg.trace_enable). The topic the records go to when
 * cfg.trace_topic is NULL (Java's TopicValidator.RMQ_SYS_TRACE_TOPIC). */
#ifndef RMQ_SYS_TRACE_TOPIC
#define RMQ_SYS_TRACE_TOPIC "RMQ_SYS_TRACE_TOPIC"
#endif
/* Trace records held, waiting or in a trace message not yet answered, per
 * producer; a record past it is dropped and counted (rmq_stats), and the
 * send it describes is not affected. */
#ifndef RMQ_TRACE_MAX_PENDING_BYTES
#define RMQ_TRACE_MAX_PENDING_BYTES (512u * 1024u)
#endif
/* A trace message leaves once its records reach this many bytes (Java's
 * 128000-byte trace messages less its 10000-byte margin), or once its
 * first record waited RMQ_TRACE_WAIT_MS; at shutdown the last ones get up
 * to RMQ_TRACE_FLUSH_MS to be answered (AsyncTraceDispatcher's values). */
#ifndef RMQ_TRACE_BATCH_BYTES
#define RMQ_TRACE_BATCH_BYTES 118000u
#endif
#ifndef RMQ_TRACE_WAIT_MS
#define RMQ_TRACE_WAIT_MS 500u
#endif
#ifndef RMQ_TRACE_FLUSH_MS
#define RMQ_TRACE_FLUSH_MS 500u
#endif

/* Text lengths, without the terminating NUL. Topic and group limits are
 * RocketMQ's own (127 and 255); the others are generous for real names. */
#define RMQ_TOPIC_MAX_LEN 127
#define RMQ_GROUP_MAX_LEN 255
#ifndef RMQ_BROKER_NAME_MAX_LEN
#define RMQ_BROKER_NAME_MAX_LEN 63
#endif
#ifndef RMQ_ADDR_MAX_LEN
#define RMQ_ADDR_MAX_LEN 63       /* "host:port", IPv6 in brackets */
#endif
#ifndef RMQ_CLIENT_ID_MAX_LEN
#define RMQ_CLIENT_ID_MAX_LEN 127
#endif
#define RMQ_MSG_ID_MAX_LEN 56     /* 28 bytes in hex: an IPv6 message id */
#ifndef RMQ_REMARK_MAX_LEN
#define RMQ_REMARK_MAX_LEN 255    /* broker remark kept in a result (cut) */
#endif
#ifndef RMQ_REASON_MAX_LEN
#define RMQ_REASON_MAX_LEN 255    /* a reason rendered by rmq_producer_last_error */
#endif
#ifndef RMQ_REASON_ARGS_LEN
#define RMQ_REASON_ARGS_LEN 160   /* the arguments of one reason, together */
#endif
#define RMQ_PROPERTIES_MAX_BYTES 32767  /* the broker stores the length as a short */

/* Defaults of the configuration (rmq_producer_config_init), as in Java. */
#ifndef RMQ_SEND_TIMEOUT_MS
#define RMQ_SEND_TIMEOUT_MS 3000u
#endif
#ifndef RMQ_RETRY_TIMES
#define RMQ_RETRY_TIMES 2
#endif
#ifndef RMQ_RETRY_TIMES_ASYNC
#define RMQ_RETRY_TIMES_ASYNC 2
#endif
#ifndef RMQ_MAX_MESSAGE_BYTES
#define RMQ_MAX_MESSAGE_BYTES (4u * 1024u * 1024u)
#endif
#ifndef RMQ_COMPRESS_OVER_BYTES
#define RMQ_COMPRESS_OVER_BYTES 4096u
#endif
#ifndef RMQ_HEARTBEAT_INTERVAL_MS
#define RMQ_HEARTBEAT_INTERVAL_MS 30000u
#endif
#ifndef RMQ_POLL_NAMESRV_INTERVAL_MS
#define RMQ_POLL_NAMESRV_INTERVAL_MS 30000u
#endif
#ifndef RMQ_API_TIMEOUT_MS
#define RMQ_API_TIMEOUT_MS 3000u  /* route query, heartbeat, unregister */
#endif
#ifndef RMQ_CONNECT_TIMEOUT_MS
#define RMQ_CONNECT_TIMEOUT_MS 3000u
#endif
/* A broker or name server whose connect timed out is not tried again for
 * this long, so that a dead address does not eat every send's budget. (A
 * refused connect costs nothing and is tried again at once: a broker that
 * restarts is used as soon as it listens.) */
#ifndef RMQ_CONNECT_BACKOFF_MS
#define RMQ_CONNECT_BACKOFF_MS 1000u
#endif
#ifndef RMQ_ADDR_SERVER_INTERVAL_MS
#define RMQ_ADDR_SERVER_INTERVAL_MS 120000u
#endif

/* Requests waiting for their reply (rmq_request*), per client instance;
 * past it a request is refused with RMQ_ERR_LIMIT. A reply is matched by a
 * scan of them, so keep it modest. */
#ifndef RMQ_MAX_REQUESTS
#define RMQ_MAX_REQUESTS 256
#endif

/* Bytes read from a socket per recv call (heap, per connection). */
#ifndef RMQ_READ_CHUNK_BYTES
#define RMQ_READ_CHUNK_BYTES 4096u
#endif

/* Freed send blocks (a send's op, its request, its result) kept for the
 * next sends, per producer and per client instance, instead of a trip
 * through the heap each: at most this many blocks of each size, none over
 * RMQ_FREE_LIST_MAX_BYTES. Blocks come back only from sends that were in
 * flight, so the lists never hold more than the most sends in flight at
 * once held: the heap stays at its high-water mark rather than going up
 * and down with every burst. 0 turns it off; it is off with RMQ_NO_MALLOC,
 * where every byte of the pool is counted. Heap builds also keep a
 * connection's read buffer (one chunk) between reads.
 * Off unless defined: against a real 5.3.3 broker, two full runs of the
 * real-cluster suite with it on did not find a transaction's checked-back
 * commit stored 1 s after the answer (one run of that test alone did),
 * which no run without it showed; until that is explained it is a knob,
 * not a default (RMQ_MAX_PENDING is the value measured in the notes).
 * Off always under AddressSanitizer, which could not see a use of a
 * send block after its send ended once the block is reused (the valgrind
 * build of the unit tests turns it on). */
#if defined(__SANITIZE_ADDRESS__)
#define RMQ__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RMQ__ASAN 1
#endif
#endif
#ifndef RMQ_FREE_LIST_BLOCKS
#define RMQ_FREE_LIST_BLOCKS 0     /* opt-in: see the note above */
#elif defined(RMQ_NO_MALLOC) || defined(RMQ_FREESTANDING) || defined(RMQ__ASAN)
#undef RMQ_FREE_LIST_BLOCKS
#define RMQ_FREE_LIST_BLOCKS 0
#endif
#ifndef RMQ_FREE_LIST_MAX_BYTES
#define RMQ_FREE_LIST_MAX_BYTES 4096u
#endif

/* The version ordinal sent in every header: V4_9_8. Anything in 401..475
 * gets standard route JSON from modern name servers and never GO_AWAY. */
#ifndef RMQ_PROTOCOL_VERSION
#define RMQ_PROTOCOL_VERSION 409
#endif

/* Feature cuts, so a firmware build pays only for what it uses:
 *   RMQ_NO_MALLOC        no heap: memory from a pool given in the config
 *   RMQ_NO_ADDR_SERVER   no HTTP name-server address lookup
 *   RMQ_NO_BINARY_HEADER only JSON headers are written (both are read)
 *   RMQ_NO_LATENCY_FAULT no latency fault tolerance
 *   RMQ_NO_ERROR_TEXT    no texts: a reason keeps its code alone (no
 *                        template, no arguments) and reads "reason <n>";
 *                        rmq_strerror() says only that texts are cut and
 *                        response-code names are empty; rmq_err, reason
 *                        codes, broker codes and remarks remain
 *   RMQ_NO_LOG           no log calls at all
 *   RMQ_NO_TRANSACTION   no transactional sends or check-backs
 *   RMQ_NO_ACL           no ACL signing (SHA-1, HMAC, base64)
 *   RMQ_NO_THREADS       one thread only: the port's mutex, event, wake and
 *                        thread_id entries are never called
 *   RMQ_NO_SELECTOR      no sends to a queue the application chooses:
 *                        rmq_send_to_queue*, rmq_send_select*,
 *                        rmq_send_oneway_to_queue, rmq_fetch_publish_queues
 *                        and the ready selectors are not defined
 *   RMQ_NO_ONEWAY        no oneway sends (rmq_send_oneway* not defined)
 *   RMQ_NO_PROPERTIES    no user properties (tags, keys, delay level and
 *                        WAIT remain); a message that has some is refused
 *   RMQ_NO_TIMER         no 5.x timer messages (rmq_message has no
 *                        deliver_time_ms, delay_time_sec, delay_time_ms)
 *   RMQ_NO_LINGER        no write linger: cfg.linger_us is ignored
 *   RMQ_NO_FAST_PATH     none of the send path's shortcuts (its own header
 *                        serializer, the flat header reader, buffers in
 *                        their owner's allocation) and byte loops for
 *                        memcpy, memmove, memcmp and strlen unless given
 *                        (RMQ_MEMCPY & co): smaller, slower
 *   RMQ_NO_ADMIN         no MQAdmin calls (rmq_admin_create_topic, the
 *                        offset queries, rmq_view_message*, rmq_query_message
 *                        not defined)
 *   RMQ_NO_REQUEST       no request-reply (rmq_request* not defined)
 *   RMQ_NO_NAMESPACE     no namespaces (cfg.name_space must be NULL or "")
 *   RMQ_NO_VIP_CHANNEL   cfg.vip_channel is ignored (must be 0)
 *   RMQ_NO_TRACE         no message trace (cfg.trace_enable must be 0)
 * Platform:
 *   RMQ_FREESTANDING     no libc: the header supplies memcpy & co itself
 *   RMQ_FREESTANDING_LIBC  with it, in one file: also define memcpy, memmove,
 *                        memset and memcmp, which GCC calls for struct copies
 *   RMQ_STATIC           every function static (embed a private copy)     */

#ifdef RMQ_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define RMQDEF static __attribute__((unused))  /* a private copy: what is unused is fine */
#else
#define RMQDEF static
#endif
#else
#define RMQDEF extern
#endif

#ifdef RMQ_FREESTANDING
#include <stddef.h>
#include <stdint.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* 2. Errors                                                                 */
/* ======================================================================== */
/* One enum for failures seen by the client. A broker's own answer (a
 * response code such as SYSTEM_BUSY) is reported as RMQ_ERR_BROKER, with the
 * broker's code and remark kept beside it: the two families never mix. */
typedef enum rmq_err {
    RMQ_OK = 0,
    RMQ_ERR_INVALID_ARG,      /* a NULL or out-of-range argument */
    RMQ_ERR_CONFIG,           /* the configuration breaks a rule */
    RMQ_ERR_STATE,            /* the producer's service state does not allow it */
    RMQ_ERR_GROUP_EXISTS,     /* another producer of this group in the instance */
    RMQ_ERR_NO_MEMORY,        /* the allocator (or the pool) is exhausted */
    RMQ_ERR_LIMIT,            /* a configured bound (RMQ_MAX_*) was reached */
    RMQ_ERR_BUSY,             /* too many async sends pending: back-pressure */
    RMQ_ERR_MESSAGE,          /* the message breaks a rule (topic, body, property) */
    RMQ_ERR_NO_NAMESRV,       /* no name server address is known */
    RMQ_ERR_NO_ROUTE,         /* no route info for the topic */
    RMQ_ERR_BROKER_NOT_FOUND, /* no address for the selected broker */
    RMQ_ERR_CONNECT,          /* connecting failed or was refused */
    RMQ_ERR_TIMEOUT,          /* the deadline passed */
    RMQ_ERR_CONNECTION_LOST,  /* the connection closed with the request in flight */
    RMQ_ERR_PROTOCOL,         /* the peer sent a malformed frame */
    RMQ_ERR_FRAME_TOO_LARGE,  /* the answer was larger than RMQ_MAX_FRAME_BYTES */
    RMQ_ERR_BROKER,           /* the broker answered an error response code */
    RMQ_ERR_SHUTDOWN,         /* the producer shut down before it completed */
    RMQ_ERR_IN_CALLBACK,      /* not allowed from inside a callback */
    RMQ_ERR_SELECTOR,         /* the queue selector returned no valid queue */
    RMQ_ERR_UNSUPPORTED,      /* cut out of this build, or the port lacks it */
    RMQ_ERR_IO,               /* the port failed in a way not covered above */
    RMQ_ERR__COUNT
} rmq_err;

/* A short English sentence for an error; never NULL. */
RMQDEF const char *rmq_strerror(rmq_err err);

/* Response codes of the broker and the name server (ResponseCode.java). */
enum {
    RMQ_CODE_SUCCESS = 0,
    RMQ_CODE_SYSTEM_ERROR = 1,
    RMQ_CODE_SYSTEM_BUSY = 2,
    RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED = 3,
    RMQ_CODE_TRANSACTION_FAILED = 4,
    RMQ_CODE_FLUSH_DISK_TIMEOUT = 10,
    RMQ_CODE_SLAVE_NOT_AVAILABLE = 11,
    RMQ_CODE_FLUSH_SLAVE_TIMEOUT = 12,
    RMQ_CODE_MESSAGE_ILLEGAL = 13,
    RMQ_CODE_SERVICE_NOT_AVAILABLE = 14,
    RMQ_CODE_VERSION_NOT_SUPPORTED = 15,
    RMQ_CODE_NO_PERMISSION = 16,
    RMQ_CODE_TOPIC_NOT_EXIST = 17,
    RMQ_CODE_TOPIC_EXIST_ALREADY = 18,
    RMQ_CODE_QUERY_NOT_FOUND = 22,
    RMQ_CODE_INVALID_PARAMETER = 29,
    RMQ_CODE_NO_BUYER_ID = 204,
    RMQ_CODE_NOT_IN_CURRENT_UNIT = 205,
    RMQ_CODE_FLOW_CONTROL = 215,
    RMQ_CODE_GO_AWAY = 1500
};

/* The name of a response code ("SYSTEM_BUSY"), or "UNKNOWN". */
RMQDEF const char *rmq_response_code_name(int code);

/* Request codes (RequestCode.java) that this library sends or answers. */
enum {
    RMQ_REQ_SEND_MESSAGE = 10,
    RMQ_REQ_QUERY_MESSAGE = 12,
    RMQ_REQ_UPDATE_AND_CREATE_TOPIC = 17,
    RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP = 29,
    RMQ_REQ_GET_MAX_OFFSET = 30,
    RMQ_REQ_GET_MIN_OFFSET = 31,
    RMQ_REQ_GET_EARLIEST_MSG_STORETIME = 32,
    RMQ_REQ_VIEW_MESSAGE_BY_ID = 33,
    RMQ_REQ_HEART_BEAT = 34,
    RMQ_REQ_UNREGISTER_CLIENT = 35,
    RMQ_REQ_END_TRANSACTION = 37,
    RMQ_REQ_CHECK_TRANSACTION_STATE = 39,
    RMQ_REQ_NOTIFY_CONSUMER_IDS_CHANGED = 40,
    RMQ_REQ_GET_ROUTEINFO_BY_TOPIC = 105,
    RMQ_REQ_SEND_MESSAGE_V2 = 310,
    RMQ_REQ_SEND_BATCH_MESSAGE = 320,
    RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT = 326
};

/* ======================================================================== */
/* 3. The port contract                                                      */
/* ======================================================================== */
/* A port is a table of functions and a context pointer. The library never
 * touches a socket, a clock or a thread itself. `conn` is the port's own
 * handle for one stream connection. Optional entries may be NULL.
 *
 * Transport calls never block (name resolution inside connect may, and a
 * port that does so says it). send and recv return the bytes moved, 0 for
 * "try again later" (never a disconnect), or a negative value for "closed or
 * failed". */

/* Return codes of connect and connect_result. */
#define RMQ_PORT_OK 0
#define RMQ_PORT_AGAIN 1        /* in progress: wait for RMQ_WANT_WRITE */
#define RMQ_PORT_REFUSED (-1)   /* the peer refused, or the host is unreachable */
#define RMQ_PORT_FAILED (-2)    /* anything else */

/* Interest and readiness bits of one connection in a wait. */
#define RMQ_WANT_READ 1u
#define RMQ_WANT_WRITE 2u
#define RMQ_READY_ERROR 4u      /* set by the port: the connection failed */

typedef struct rmq_iovec {
    const void *base;
    size_t len;
} rmq_iovec;

typedef struct rmq_wait_item {
    void *conn;             /* in: the connection */
    unsigned want;          /* in: RMQ_WANT_* */
    unsigned ready;         /* out: RMQ_WANT_* and RMQ_READY_ERROR */
} rmq_wait_item;

/* Log levels of the port's log sink. */
enum { RMQ_LOG_ERROR = 1, RMQ_LOG_WARN = 2, RMQ_LOG_INFO = 3, RMQ_LOG_DEBUG = 4 };

typedef struct rmq_port {
    void *ctx;

    /* -- stream transport ------------------------------------------------ */
    /* Start connecting to host:port. RMQ_PORT_OK: connected at once;
     * RMQ_PORT_AGAIN: completes through wait(RMQ_WANT_WRITE) and then
     * connect_result(); negative: failed (*conn untouched). */
    int (*connect)(void *ctx, const char *host, uint16_t port, void **conn);
    /* After the connection became writable: RMQ_PORT_OK, RMQ_PORT_AGAIN
     * (a TLS handshake still running), or negative. */
    int (*connect_result)(void *ctx, void *conn);
    long (*send)(void *ctx, void *conn, const void *buf, size_t len);
    /* Optional scatter send: headers and bodies without a copy, up to 16
     * pieces a call (several queued requests); may write fewer bytes. */
    long (*sendv)(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt);
    long (*recv)(void *ctx, void *conn, void *buf, size_t len);
    void (*close)(void *ctx, void *conn);
    /* Optional: bytes the port already holds for recv (decrypted TLS
     * records), so the library does not sleep in wait() on them. */
    size_t (*pending)(void *ctx, void *conn);
    /* Wait until one of the items is ready, timeout_ms passes, or wake() is
     * called. Returns the number of ready items, 0, or negative on failure.
     * Readiness is level-triggered, as poll() and select() report it: a
     * connection is readable while unread bytes remain (the library stops
     * reading after a short recv). */
    int (*wait)(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms);
    /* Optional: why the last call on conn (or the port, conn NULL) failed, as
     * a sentence ("the server certificate is not signed by a trusted CA");
     * it becomes part of the producer's reason. NULL or "": nothing to add. */
    const char *(*conn_error)(void *ctx, void *conn);

    /* -- time ------------------------------------------------------------- */
    /* Monotonic milliseconds. May be 32 bits and wrap: the library compares
     * times only by signed difference and keeps intervals below 2^31 ms. */
    uint32_t (*now_ms)(void *ctx);
    /* Optional wall clock, epoch milliseconds; returns 0 when known. Without
     * it (or until rmq_producer_set_time()), born timestamps count from 0
     * and the UNIQ_KEY time part is the monotonic clock. */
    int (*wall_ms)(void *ctx, int64_t *epoch_ms);

    /* -- identity --------------------------------------------------------- */
    /* The local address as text ("192.168.1.7", "[fe80::1]") for the client
     * id and the message ids; returns 0 when found. */
    int (*local_ip)(void *ctx, char *buf, size_t len);
    /* A process id (POSIX) or device id (an MCU's chip id). */
    uint32_t (*process_id)(void *ctx);
    /* Fill buf with unpredictable bytes; message ids of devices behind one
     * NAT without pids stay unique through it. */
    void (*entropy)(void *ctx, void *buf, size_t len);
    /* Optional: environment lookup (NAMESRV_ADDR). */
    const char *(*getenv)(void *ctx, const char *name);

    /* -- threads (all optional; without mutex_create: single-threaded) ---- */
    /* A build with RMQ_NO_THREADS never calls these, nor wake and thread_id. */
    void *(*mutex_create)(void *ctx);
    void (*mutex_lock)(void *ctx, void *mutex);
    void (*mutex_unlock)(void *ctx, void *mutex);
    void (*mutex_destroy)(void *ctx, void *mutex);
    void *(*event_create)(void *ctx);
    /* Returns 0 when signalled, non-zero on timeout. */
    int (*event_wait)(void *ctx, void *event, uint32_t timeout_ms);
    void (*event_signal)(void *ctx, void *event);
    void (*event_destroy)(void *ctx, void *event);
    /* Interrupt a wait() running in another thread. */
    void (*wake)(void *ctx);
    /* An id of the calling thread; with a mutex it lets the library refuse
     * a blocking call made from inside a callback (else that is unchecked). */
    uintptr_t (*thread_id)(void *ctx);
    /* The process-wide lock of the table of client instances (producers of
     * one client id share one instance, whichever thread starts them). It
     * needs no initialisation (a static mutex), it is held only for a walk
     * of that table (no allocation, no I/O, no other lock taken inside), so
     * a critical section will do, and every port used in one process must
     * lock the same one. Without it, starting, shutting down and destroying
     * producers must be serialised by the application. */
    void (*factory_lock)(void *ctx);
    void (*factory_unlock)(void *ctx);

    /* -- logging (optional) ----------------------------------------------- */
    void (*log)(void *ctx, int level, const char *msg);
} rmq_port;

/* ======================================================================== */
/* 4. Configuration                                                          */
/* ======================================================================== */

/* Optional body compressor (bodies >= compress_over_bytes, single messages
 * only). Writes a zlib stream (RFC 1950) into out (cap bytes) and returns its
 * length, or 0 to send the body uncompressed. */
typedef size_t (*rmq_compress_fn)(void *arg, const void *in, size_t len,
                                  void *out, size_t cap);

/* Optional body decompressor, for stored messages and replies whose
 * sysFlag says COMPRESSED: inflates the zlib stream in into out (cap
 * bytes) and returns the length, or 0 when the stream is broken or does
 * not fit. Without one such a body is handed over compressed, sys_flag
 * telling so. */
typedef size_t (*rmq_decompress_fn)(void *arg, const void *in, size_t len,
                                    void *out, size_t cap);

typedef struct rmq_rpc_hook rmq_rpc_hook;   /* section 7 */

/* Which header serialization requests use. Both are always read. */
typedef enum rmq_serialize { RMQ_SERIALIZE_JSON = 0, RMQ_SERIALIZE_ROCKETMQ = 1 } rmq_serialize;

typedef struct rmq_producer_config {
    const char *group;             /* producer group (required) */
    const char *namesrv_addr;      /* "host:port;host:port"; NULL: environment */
    const char *instance_name;     /* "DEFAULT" becomes the process id */
    const char *unit_name;         /* appended to the client id when set */
    const char *addr_server_url;   /* http://host[:port]/path, NULL: none */
    const char *create_topic_key;  /* "TBW102" */
    int default_topic_queue_nums;  /* 4 */
    uint32_t send_timeout_ms;      /* 3000: the whole budget of one send */
    int retry_times;               /* 2: sync sends make 1 + 2 attempts */
    int retry_times_async;         /* 2 */
    int retry_another_broker_when_not_store_ok; /* 0 */
    uint32_t max_message_size;     /* 4 MiB */
    uint32_t compress_over_bytes;  /* 4096 */
    rmq_compress_fn compressor;    /* NULL: never compress */
    void *compressor_arg;
    rmq_decompress_fn decompressor;/* NULL: compressed bodies stay so */
    void *decompressor_arg;
    /* Java's namespace (setNamespace): the group and every send's topic go
     * to brokers as "ns%name" (system topics and groups as they are,
     * "%RETRY%ns%name" for a retry name), each send carries INSTANCE_ID=ns,
     * and results, fetched queues, a selector's queues and checked messages
     * name topics bare. The 127 and 255 limits count the wrapped names. At
     * most 125 bytes, no '%'. NULL or "": none, unless the name server
     * address is an instance endpoint "MQ_INST_x_y.host:port", whose
     * namespace is then MQ_INST_x_y (as Java's getNamespace). */
    const char *name_space;
    /* 0, as Java 4.9.8. 1: sends (sync, oneway, an async send's first
     * attempt) and admin calls go to the broker's VIP port, its port - 2;
     * heartbeats, unregistrations and transaction ends stay on the port. */
    int vip_channel;
    /* Message trace, as Java's enableMsgTrace: after each answered send
     * (oneway sends have no answer) a Pub record, after each transaction's
     * end an EndTransaction record, in the format of Java's
     * TraceDataEncoder, sent in batches by an inner producer of group
     * _INNER_TRACE_PRODUCER-<group>-PRODUCE-<n> sharing this producer's
     * client instance, from the loop (poll, flush, a blocking call) and at
     * shutdown. It never blocks nor fails a send; rmq_stats counts the
     * records sent and dropped. trace_topic is read at start. */
    int trace_enable;              /* 0: message trace off */
    const char *trace_topic;       /* NULL: RMQ_SYS_TRACE_TOPIC */
    int latency_fault_enable;      /* 0, as Java's sendLatencyFaultEnable */
    uint32_t heartbeat_interval_ms;     /* 30000 */
    uint32_t poll_namesrv_interval_ms;  /* 30000 */
    uint32_t api_timeout_ms;            /* 3000: route, heartbeat, unregister */
    uint32_t connect_timeout_ms;        /* 3000 (capped by the send budget) */
    uint32_t max_pending;          /* RMQ_MAX_PENDING async sends */
    uint32_t max_pending_bytes;    /* RMQ_MAX_PENDING_BYTES */
    /* 0: an async or oneway send is written at once, as Java's is. Else it
     * may wait up to this long (on the port's millisecond clock, rounded
     * up) for others to the same broker, to leave together in one scatter
     * write of at most RMQ_LINGER_MAX_FRAMES frames and RMQ_LINGER_MAX_BYTES;
     * rmq_producer_flush() and every blocking call write what waits. */
    uint32_t linger_us;
    rmq_serialize serialize;       /* RMQ_SERIALIZE_JSON */
    int language;                  /* LanguageCode sent: 7 (OTHER) */
    const rmq_port *port;          /* required */
    void *mem_ctx;                 /* passed to RMQ_MALLOC & co (the pool) */
    const rmq_rpc_hook *rpc_hook;  /* NULL: none */
    /* Transactional producers: answers the broker's check of a transaction
     * whose end it never got (TransactionListener.checkLocalTransaction). */
    struct rmq_check_transaction *check_transaction;
#ifndef RMQ_NO_LATENCY_FAULT
    /* Latency fault tolerance (Java's setLatencyMax, setNotAvailableDuration):
     * an attempt that took at least latency_max_ms[i] (the highest such i)
     * keeps its broker out of selection for not_available_duration_ms[i]; a
     * failed attempt counts as 30 s of latency. latency_max_ms must not
     * decrease. Last, and absent where the feature is cut, so that the
     * fields above keep their short offsets on small targets. */
    uint32_t latency_max_ms[7];             /* 50 100 550 1000 2000 3000 15000 */
    uint32_t not_available_duration_ms[7];  /* 0 0 30000 60000 120000 180000 600000 */
#endif
} rmq_producer_config;

/* Fill cfg with Java's defaults (group and port are left NULL). */
RMQDEF void rmq_producer_config_init(rmq_producer_config *cfg);

/* Check cfg by DefaultMQProducerImpl.checkConfig's rules and the ranges of
 * every field. On failure writes "field: reason" into why (may be NULL). */
RMQDEF rmq_err rmq_producer_config_check(const rmq_producer_config *cfg,
                                         char *why, size_t why_len);

/* ======================================================================== */
/* 5. Messages and results                                                   */
/* ======================================================================== */

typedef struct rmq_property {
    const char *key;
    const char *value;
} rmq_property;

/* A message points at caller memory; everything is consumed (copied into
 * the outgoing frame) before the send call returns. */
typedef struct rmq_message {
    const char *topic;
    const char *tags;              /* NULL: none */
    const char *keys;              /* several keys separated by spaces */
    const void *body;
    size_t body_len;
    const rmq_property *properties;/* user properties */
    size_t nproperties;
    int delay_level;               /* 0: none; the broker clamps */
    int32_t flag;                  /* user flag, stored with the message */
    int wait_store_msg_ok;         /* property WAIT; rmq_message_init: 1 */
#ifndef RMQ_NO_TIMER
    /* 5.x timer messages, as Java 5.x's setDeliverTimeMs, setDelayTimeSec
     * and setDelayTimeMs send them (properties TIMER_DELIVER_MS,
     * TIMER_DELAY_SEC, TIMER_DELAY_MS; 0: not set). A 5.x broker delivers
     * the message at that time, rounded down to its timer precision (1 s),
     * taking the first set of delay_time_sec, delay_time_ms,
     * deliver_time_ms; a delay_level wins over all three (the broker drops
     * them); more than 3 days ahead is MESSAGE_ILLEGAL. A 4.9 broker does
     * not know them: it stores the properties and delivers at once. Not in
     * batches, and a transaction's half message goes without them. */
    int64_t deliver_time_ms;       /* epoch ms */
    int64_t delay_time_sec;
    int64_t delay_time_ms;
#endif
} rmq_message;

/* Set topic and body, everything else empty, wait_store_msg_ok = 1. */
RMQDEF void rmq_message_init(rmq_message *m, const char *topic,
                             const void *body, size_t len);

typedef enum rmq_send_status {
    RMQ_SEND_OK = 0,
    RMQ_FLUSH_DISK_TIMEOUT = 1,
    RMQ_FLUSH_SLAVE_TIMEOUT = 2,
    RMQ_SLAVE_NOT_AVAILABLE = 3
} rmq_send_status;

typedef struct rmq_queue {
    char topic[RMQ_TOPIC_MAX_LEN + 1];
    char broker_name[RMQ_BROKER_NAME_MAX_LEN + 1];
    int queue_id;
} rmq_queue;

/* Why something failed: a reason code, and the arguments its sentence
 * names, recorded where it failed; no sentence is written there. Every
 * code is a line of the list below: its number, its name, the feature cut
 * that removes every use of it (RMQ_NO_<cut>; A_OR_B: the two together;
 * CORE: none; RETIRED: no build reports it any more, its number stays
 * taken; a build with it keeps that sentence empty), and its sentence
 * as a template: %s a text and %d, %u a number (copied when the failure is
 * recorded), %r the reason nested in it (the attempt a failed send ends
 * with, the connection a request was lost with: its own code and
 * arguments), %R the broker's remark (kept apart, as
 * rmq_send_result.remark), %% a '%'. A code keeps its number when codes
 * are added (they go at the end), and when nothing reports it any more
 * (then its cut is RETIRED: 31, RMQ_R_ROUTE_MAX_JSON_TOKENS, since the JSON
 * reader holds no tokens). The library keeps the templates packed
 * (byte pairs, in the block "packed by tools/gen_reasons.py" of section 2):
 * after adding or editing a line, run tools/gen_reasons.py, which rewrites
 * that block from this list; the build fails while a code lacks its packed
 * line, and make lint (gen_reasons.py --check) and the unit tests while a
 * packed template differs from its line. */
#define RMQ_REASONS(X) \
    X(  0, RMQ_R_NONE, CORE, "") \
    X(  1, RMQ_R_ROUTE_REFUSED, CORE, "route data refused: %r") \
    X(  2, RMQ_R_NO_MEMORY_WRITE, CORE, "out of memory while finishing a write") \
    X(  3, RMQ_R_CONNECT_FAILED, CORE, "connect to %s %s%s%s") \
    X(  4, RMQ_R_INSTANCE_CLOSING, CORE, "the client instance is shutting down") \
    X(  5, RMQ_R_CONNECT_BACKOFF, CORE, "%s is backing off after a failure (%r)") \
    X(  6, RMQ_R_BAD_ADDRESS, CORE, "bad address '%s' (want host:port)") \
    X(  7, RMQ_R_MAX_CONNECTIONS, CORE, "cannot connect to %s: RMQ_MAX_CONNECTIONS (%d) connections are open") \
    X(  8, RMQ_R_WRITE_FAILED, CORE, "connection to %s failed while writing") \
    X(  9, RMQ_R_RPC_HOOK_REFUSED, CORE, "the RPC hook refused request code %d to %s") \
    X( 10, RMQ_R_NO_MEMORY_REQUEST, CORE, "out of memory for a request") \
    X( 11, RMQ_R_REQUEST_TOO_BIG, CORE, "request code %d does not fit in a frame") \
    X( 12, RMQ_R_MAX_INFLIGHT, CORE, "RMQ_MAX_INFLIGHT (%d) requests are in flight") \
    X( 13, RMQ_R_NO_MEMORY_TIMER, CORE, "out of memory for a timer") \
    X( 14, RMQ_R_NO_MEMORY, ADDR_SERVER, "out of memory") \
    X( 15, RMQ_R_FRAME_TOO_BIG, CORE, "%s sent a %u-byte frame, over RMQ_MAX_FRAME_BYTES (%u)") \
    X( 16, RMQ_R_MALFORMED_FRAME, CORE, "%s sent a malformed frame; connection closed") \
    X( 17, RMQ_R_NO_MEMORY_READ, CORE, "out of memory for a read buffer") \
    X( 18, RMQ_R_PEER_CLOSED, CORE, "connection to %s closed by the peer") \
    X( 19, RMQ_R_CONNECT_DEADLINE, CORE, "connect to %s did not complete before the deadline") \
    X( 20, RMQ_R_WRITE_DEADLINE, CORE, "request code %d to %s could not be written before the deadline") \
    X( 21, RMQ_R_ANSWER_DEADLINE, CORE, "no answer from %s to request code %d (opaque %d) before the deadline") \
    X( 22, RMQ_R_CONNECT_TIMED_OUT, CORE, "connect to %s timed out") \
    X( 23, RMQ_R_CONNECTION_FAILED, CORE, "connection to %s failed") \
    X( 24, RMQ_R_ROUTE_MAX_BROKERS, CORE, "more broker groups than RMQ_MAX_BROKERS") \
    X( 25, RMQ_R_ROUTE_BROKER_NAME, CORE, "a brokerName is missing or longer than RMQ_BROKER_NAME_MAX_LEN") \
    X( 26, RMQ_R_ROUTE_BROKER_ID, CORE, "a brokerAddrs key is not a broker id") \
    X( 27, RMQ_R_ROUTE_BROKER_ADDR, CORE, "a broker address is missing or longer than RMQ_ADDR_MAX_LEN") \
    X( 28, RMQ_R_ROUTE_MAX_QUEUE_DATAS, CORE, "more queue datas than RMQ_MAX_BROKERS") \
    X( 29, RMQ_R_ROUTE_QUEUE_BROKER_NAME, CORE, "a queue data has no valid brokerName") \
    X( 30, RMQ_R_ROUTE_QUEUE_NUMS, CORE, "a queue data has no valid perm or queue numbers") \
    X( 31, RMQ_R_ROUTE_MAX_JSON_TOKENS, RETIRED, "more JSON tokens than RMQ_MAX_JSON_TOKENS") \
    X( 32, RMQ_R_ROUTE_MAX_JSON_DEPTH, CORE, "nested deeper than RMQ_MAX_JSON_DEPTH") \
    X( 33, RMQ_R_ROUTE_NOT_OBJECT, CORE, "not a JSON object") \
    X( 34, RMQ_R_ROUTE_BROKER_DATA, CORE, "a brokerData is not an object") \
    X( 35, RMQ_R_ROUTE_QUEUE_DATA, CORE, "a queueData is not an object") \
    X( 36, RMQ_R_ROUTE_ORDER_CONF, CORE, "orderTopicConf is longer than 255 bytes") \
    X( 37, RMQ_R_ROUTE_BROKER_TABLE_FULL, CORE, "the broker address table is full (RMQ_MAX_BROKERS)") \
    X( 38, RMQ_R_ROUTE_MAX_QUEUES, CORE, "more publish queues than RMQ_MAX_QUEUES") \
    X( 39, RMQ_R_NO_MEMORY_PUBLISH_QUEUES, CORE, "out of memory for the publish queues") \
    X( 40, RMQ_R_ROUTE_NOT_WRITABLE, CORE, "the route of topic %s has no writable queue with a master") \
    X( 41, RMQ_R_NO_ROUTE_ANSWERED, CORE, "No route info of this topic: %s (name servers %s answered %s)") \
    X( 42, RMQ_R_ERROR, CORE, "%s") \
    X( 43, RMQ_R_NO_ROUTE, CORE, "No route info of this topic: %s (name servers %s: %r)") \
    X( 44, RMQ_R_NO_NAMESRV_TOPIC, CORE, "No name server address, please set it (topic %s)") \
    X( 45, RMQ_R_INSTANCE_SHUT_DOWN, CORE, "the client instance was shut down") \
    X( 46, RMQ_R_CONFIG_PORT_MISSING, CORE, "port: is required (e.g. rmq_port_posix())") \
    X( 47, RMQ_R_CONFIG_PORT_INCOMPLETE, CORE, "port: lacks a required function (connect, send, recv, close, wait, " \
                                               "now_ms, process_id, entropy)") \
    X( 48, RMQ_R_CONFIG_PORT_MUTEX, CORE, "port: has mutex_create without mutex_lock, mutex_unlock and mutex_destroy") \
    X( 49, RMQ_R_CONFIG_NULL, CORE, "config: is NULL") \
    X( 50, RMQ_R_CONFIG_GROUP_BLANK, CORE, "group: producerGroup is blank") \
    X( 51, RMQ_R_CONFIG_GROUP_TOO_LONG, CORE, "group: the specified group is longer than group max length 255.") \
    X( 52, RMQ_R_CONFIG_GROUP_ILLEGAL, CORE, "group: the specified group contains illegal characters, allowing only ^[%%|a-zA-Z0-9_-]+$") \
    X( 53, RMQ_R_CONFIG_GROUP_DEFAULT, CORE, "group: producerGroup can not equal DEFAULT_PRODUCER, please specify another one.") \
    X( 54, RMQ_R_CONFIG_NAMESPACE_CUT, CORE, "name_space: cut by RMQ_NO_NAMESPACE") \
    X( 55, RMQ_R_CONFIG_NAMESPACE, NAMESPACE, "name_space: want at most 125 characters of ^[|a-zA-Z0-9_-]*$ (no '%%': it " \
                                              "ends the namespace)") \
    X( 56, RMQ_R_CONFIG_NAMESRV_ADDR, CORE, "namesrv_addr: want \"host:port;host:port\" with at most RMQ_MAX_NAMESRV entries") \
    X( 57, RMQ_R_CONFIG_INSTANCE_NAME, CORE, "instance_name: must be set and at most 64 bytes") \
    X( 58, RMQ_R_CONFIG_UNIT_NAME, CORE, "unit_name: at most 32 bytes") \
    X( 59, RMQ_R_CONFIG_CREATE_TOPIC_KEY, CORE, "create_topic_key: must be a valid topic name") \
    X( 60, RMQ_R_CONFIG_TOPIC_QUEUE_NUMS, CORE, "default_topic_queue_nums: must be within 1..1024") \
    X( 61, RMQ_R_CONFIG_SEND_TIMEOUT, CORE, "send_timeout_ms: must be within 1..2^30") \
    X( 62, RMQ_R_CONFIG_RETRY_TIMES, CORE, "retry_times: must be within 0..15") \
    X( 63, RMQ_R_CONFIG_RETRY_TIMES_ASYNC, CORE, "retry_times_async: must be within 0..15") \
    X( 64, RMQ_R_CONFIG_MAX_MESSAGE_SIZE, CORE, "max_message_size: must be within 1 and RMQ_MAX_FRAME_BYTES less RMQ_MAX_HEADER_BYTES") \
    X( 65, RMQ_R_CONFIG_HEARTBEAT_INTERVAL, CORE, "heartbeat_interval_ms: must be within 10..60000 (brokers drop a " \
                                                  "client silent for 120 s)") \
    X( 66, RMQ_R_CONFIG_POLL_NAMESRV_INTERVAL, CORE, "poll_namesrv_interval_ms: must be within 10..2^30") \
    X( 67, RMQ_R_CONFIG_API_TIMEOUT, CORE, "api_timeout_ms: must be within 1..2^30") \
    X( 68, RMQ_R_CONFIG_CONNECT_TIMEOUT, CORE, "connect_timeout_ms: must be within 1..2^30") \
    X( 69, RMQ_R_CONFIG_MAX_PENDING, CORE, "max_pending: must be within 1..RMQ_MAX_PENDING") \
    X( 70, RMQ_R_CONFIG_MAX_PENDING_BYTES, CORE, "max_pending_bytes: must be at least max_message_size") \
    X( 71, RMQ_R_CONFIG_LINGER, LINGER, "linger_us: must be at most 1000000 (1 s)") \
    X( 72, RMQ_R_CONFIG_SERIALIZE, CORE, "serialize: must be RMQ_SERIALIZE_JSON or RMQ_SERIALIZE_ROCKETMQ") \
    X( 73, RMQ_R_CONFIG_SERIALIZE_CUT, CORE, "serialize: binary headers are cut by RMQ_NO_BINARY_HEADER") \
    X( 74, RMQ_R_CONFIG_LANGUAGE, CORE, "language: must be a LanguageCode of 4.9 (0..12)") \
    X( 75, RMQ_R_CONFIG_FEATURES_CUT, CORE, "latency_fault_enable, trace_enable: feature cut") \
    X( 76, RMQ_R_CONFIG_LATENCY_FAULT_CUT, TRACE, "latency_fault_enable: cut by RMQ_NO_LATENCY_FAULT") \
    X( 77, RMQ_R_CONFIG_TRACE_CUT, LATENCY_FAULT, "trace_enable: cut by RMQ_NO_TRACE") \
    X( 78, RMQ_R_CONFIG_LATENCY_TABLES, LATENCY_FAULT, "latency_max_ms: must not decrease, and every " \
                                                       "not_available_duration_ms must be below 2^30") \
    X( 79, RMQ_R_CONFIG_ADDR_SERVER_CUT, CORE, "addr_server_url: the address server is cut by RMQ_NO_ADDR_SERVER") \
    X( 80, RMQ_R_CONFIG_ADDR_SERVER_URL, ADDR_SERVER, "addr_server_url: want http://host[:port]/path") \
    X( 81, RMQ_R_TOPIC_TOO_LONG_WITH_NAMESPACE, NAMESPACE, "The specified topic %s is longer than topic max length 127 " \
                                                           "with its namespace (%s%%%s)") \
    X( 82, RMQ_R_PROPERTIES_TOO_LONG, CORE, "the encoded properties exceed %d bytes, the broker's limit") \
    X( 83, RMQ_R_NO_MEMORY_PROPERTIES, CORE, "out of memory for the properties") \
    X( 84, RMQ_R_CONFIG_ENDPOINT_NAMESPACE, NAMESPACE, "namesrv_addr: the namespace of instance endpoint %s is longer than 125 bytes") \
    X( 85, RMQ_R_CONFIG_GROUP_WITH_NAMESPACE, NAMESPACE, "group: %s%%%s, the group with its namespace, is longer than " \
                                                         "group max length 255.") \
    X( 86, RMQ_R_GROUP_EXISTS, CORE, "The producer group[%s] has been created before, specify another name please.") \
    X( 87, RMQ_R_MAX_PRODUCERS, CORE, "the client instance %s already has RMQ_MAX_PRODUCERS (%d) producers") \
    X( 88, RMQ_R_NO_MEMORY_SEND, CORE, "out of memory for a send") \
    X( 89, RMQ_R_MAX_TOPICS, CORE, "topic %s: the route table is full (RMQ_MAX_TOPICS %d)") \
    X( 90, RMQ_R_START_STATE, CORE, "The producer service state not OK, maybe started once, %s") \
    X( 91, RMQ_R_NAMESRV_ADDR_ENV, CORE, "NAMESRV_ADDR: want \"host:port;host:port\"") \
    X( 92, RMQ_R_INSTANCE_CREATE, CORE, "cannot create the client instance: %s") \
    X( 93, RMQ_R_TOPIC_BLANK, CORE, "The specified topic is blank") \
    X( 94, RMQ_R_TOPIC_TOO_LONG, CORE, "The specified topic is longer than topic max length 127.") \
    X( 95, RMQ_R_TOPIC_ILLEGAL, CORE, "The specified topic[%s] contains illegal characters, allowing only ^[%%|a-zA-Z0-9_-]+$") \
    X( 96, RMQ_R_TOPIC_FORBIDDEN, CORE, "Sending message to topic[%s] is forbidden.") \
    X( 97, RMQ_R_PROPERTIES_CUT, CORE, "user properties are cut by RMQ_NO_PROPERTIES") \
    X( 98, RMQ_R_PROPERTY_BLANK, PROPERTIES, "The name or value of property%s%s is blank") \
    X( 99, RMQ_R_PROPERTY_SEPARATOR, PROPERTIES, "The property %s holds a 0x01 or 0x02 byte, the separators of the property string") \
    X(100, RMQ_R_PROPERTY_RESERVED, PROPERTIES, "The Property<%s> is used by system") \
    X(101, RMQ_R_TAGS_SEPARATOR, CORE, "the tags hold a 0x01 or 0x02 byte") \
    X(102, RMQ_R_KEYS_SEPARATOR, CORE, "the keys hold a 0x01 or 0x02 byte") \
    X(103, RMQ_R_MESSAGE_NULL, CORE, "the message is null") \
    X(104, RMQ_R_BODY_NULL, CORE, "the message body is null") \
    X(105, RMQ_R_BODY_EMPTY, CORE, "the message body length is zero") \
    X(106, RMQ_R_BODY_TOO_BIG, CORE, "the message body size over max value, MAX: %u") \
    X(107, RMQ_R_NOT_RUNNING, CORE, "The producer service state not OK, %s") \
    X(108, RMQ_R_BLOCKING_IN_CALLBACK, CORE, "a blocking call was made from inside a send callback") \
    X(109, RMQ_R_NO_MEMORY_BODY, CORE, "out of memory for a %u-byte body") \
    X(110, RMQ_R_BATCH_TOPICS_DIFFER, CORE, "The topic of the messages in one batch should be the same") \
    X(111, RMQ_R_BATCH_DELAY, CORE, "TimeDelayLevel is not supported for batching") \
    X(112, RMQ_R_BATCH_TIMER, TIMER, "timer messages are not supported for batching") \
    X(113, RMQ_R_BATCH_RETRY_GROUP, CORE, "Retry Group is not supported for batching") \
    X(114, RMQ_R_BATCH_WAIT_STORE_DIFFERS, CORE, "The waitStoreMsgOK of the messages in one batch should the same") \
    X(115, RMQ_R_BATCH_PROPERTIES_TOO_LONG, CORE, "message %u: the encoded properties exceed %d bytes") \
    X(116, RMQ_R_NO_MEMORY_BATCH_PROPERTIES, CORE, "out of memory for the properties of message %u") \
    X(117, RMQ_R_BATCH_TOO_BIG, CORE, "the encoded batch exceeds the message body size max value, MAX: %u") \
    X(118, RMQ_R_NO_MEMORY_BATCH, CORE, "out of memory for the encoded batch") \
    X(119, RMQ_R_SEND_RETRIES_FAILED, CORE, "Send [%d] times, still failed, cost [%u]ms, Topic: %s: %r") \
    X(120, RMQ_R_BROKER_ANSWER, CORE, "broker %s answered %s (%d): %R") \
    X(121, RMQ_R_NO_PUBLISH_QUEUE, CORE, "no publish queue") \
    X(122, RMQ_R_BROKER_NOT_EXIST, SELECTOR_OR_ADMIN, "The broker[%s] not exist") \
    X(123, RMQ_R_BROKER_NO_MASTER, CORE, "The broker[%s] not exist (no master address)") \
    X(124, RMQ_R_NO_MEMORY_SELECTOR, SELECTOR, "out of memory for the selector's queue list") \
    X(125, RMQ_R_SELECTOR_NULL, SELECTOR, "select message queue return null. (the selector returned %d of %u queues)") \
    X(126, RMQ_R_SEND_NO_SLOT, CORE, "no request slot freed within the send's %u ms (RMQ_MAX_INFLIGHT %d)") \
    X(127, RMQ_R_SEND_NO_ROUTE_TIMEOUT, CORE, "sendDefaultImpl call timeout: no route for topic %s within %u ms (name servers %s)") \
    X(128, RMQ_R_POLL_IN_CALLBACK, CORE, "poll was called from inside a send callback") \
    X(129, RMQ_R_FLUSH_TIMEOUT, CORE, "flush: %u sends still pending after %u ms") \
    X(130, RMQ_R_ONEWAY_FAILED, ONEWAY, "a oneway send failed: %r") \
    X(131, RMQ_R_NO_MESSAGE_GIVEN, CORE, "no message given") \
    X(132, RMQ_R_NO_RESULT_GIVEN, CORE, "no result given") \
    X(133, RMQ_R_NO_CALLBACK_GIVEN, CORE, "no callback given") \
    X(134, RMQ_R_NO_SELECTOR_GIVEN, SELECTOR, "no selector given") \
    X(135, RMQ_R_BATCH_SELECTOR, SELECTOR, "a batch cannot use a selector") \
    X(136, RMQ_R_NO_QUEUE_GIVEN, SELECTOR, "no queue given") \
    X(137, RMQ_R_QUEUE_TOPIC_DIFFERS, SELECTOR, "message's topic not equal mq's topic") \
    X(138, RMQ_R_MAX_PENDING, CORE, "%u sends are pending (max_pending); poll or flush first") \
    X(139, RMQ_R_MAX_PENDING_BYTES, CORE, "%u bytes are pending (max_pending_bytes %u); poll or flush first") \
    X(140, RMQ_R_ROUTE_QUERY_TIMEOUT, SELECTOR_OR_ADMIN_OR_REQUEST, "topic %s: the route query timed out") \
    X(141, RMQ_R_NO_OUTPUT_GIVEN, SELECTOR_OR_ADMIN_OR_REQUEST, "no output given") \
    X(142, RMQ_R_QUEUES_OVER_CAP, SELECTOR, "topic %s has %u queues, more than cap") \
    X(143, RMQ_R_NO_TRANSACTION_LISTENER, TRANSACTION, "TransactionListener is null") \
    X(144, RMQ_R_CALL_NOT_SENT, ADMIN, "%s to %s not sent: %r") \
    X(145, RMQ_R_CALL_FAILED, ADMIN, "%s to %s failed: %r") \
    X(146, RMQ_R_CALL_FAILED_ERR, ADMIN, "%s to %s failed: %s") \
    X(147, RMQ_R_CALL_BROKER_ANSWER, ADMIN, "%s: broker %s answered %s (%d): %R") \
    X(148, RMQ_R_NO_MEMORY_MESSAGE, ADMIN_OR_REQUEST, "no memory for a message of %u bytes") \
    X(149, RMQ_R_SHUT_DOWN_BEFORE_SENT, CORE, "the producer was shut down before the send completed") \
    X(150, RMQ_R_SHUTDOWN_IN_CALLBACK, CORE, "shutdown was called from inside a send callback") \
    X(151, RMQ_R_DESTROY_IN_CALLBACK, THREADS, "destroy was called from inside a send callback") \
    X(152, RMQ_R_NO_MEMORY_ROUTE_BROKERS, ADMIN, "out of memory for the route's brokers") \
    X(153, RMQ_R_NO_MEMORY_ROUTE_READ, ADMIN, "out of memory for reading a route") \
    X(154, RMQ_R_CREATE_TOPIC_NO_ROUTE, ADMIN, "create new topic failed: name server %s has no route of %s (%s)") \
    X(155, RMQ_R_NO_NAMESRV, ADMIN, "No name server address, please set it") \
    X(156, RMQ_R_KEY_TOPIC_INVALID, ADMIN, "the key topic is blank or longer than 127") \
    X(157, RMQ_R_TOPIC_SYSTEM, ADMIN, "The topic[%s] is conflict with system topic.") \
    X(158, RMQ_R_QUEUE_NUM_RANGE, ADMIN, "queue_num %d: must be within 1..RMQ_MAX_QUEUES (%d)") \
    X(159, RMQ_R_KEY_BROKER_NOT_FOUND, ADMIN, "Not found broker, maybe key is wrong (key %s)") \
    X(160, RMQ_R_ANSWER_FIELD, ADMIN, "the answer's %s is missing or not a number") \
    X(161, RMQ_R_QUEUE_ARGS_MISSING, ADMIN, "%s: a queue (topic, broker name, queue id >= 0) and an output are needed") \
    X(162, RMQ_R_QUEUE_TOPIC_TOO_LONG, ADMIN, "%s: topic %s is longer than 127 with its namespace") \
    X(163, RMQ_R_STORED_MESSAGE_MALFORMED, ADMIN, "the stored message of %u bytes is malformed") \
    X(164, RMQ_R_BAD_OFFSET_MSG_ID, ADMIN, "%s is not an offset message id (32 or 56 hex digits: store host, port, commit-log offset)") \
    X(165, RMQ_R_NO_MEMORY_QUERY_RESULTS, ADMIN, "no memory for %u query results") \
    X(166, RMQ_R_STORED_MESSAGES_MALFORMED, ADMIN, "the stored message at byte %u of %u is malformed") \
    X(167, RMQ_R_QUERY_NOT_SENT, ADMIN, "QUERY_MESSAGE to %s not sent: %r") \
    X(168, RMQ_R_QUERY_FAILED, ADMIN, "QUERY_MESSAGE to %s failed: %r") \
    X(169, RMQ_R_QUERY_FAILED_ERR, ADMIN, "QUERY_MESSAGE to %s failed: %s") \
    X(170, RMQ_R_QUERY_NOT_FOUND, ADMIN, "query message by key finished, but no message (QUERY_NOT_FOUND, %d)") \
    X(171, RMQ_R_NO_MEMORY_QUERY, ADMIN, "no memory for a query") \
    X(172, RMQ_R_QUERY_NO_BROKER, ADMIN, "topic %s: no broker address in its route") \
    X(173, RMQ_R_QUERY_ARGS_MISSING, ADMIN, "a query needs an output, a key and max_num > 0") \
    X(174, RMQ_R_NO_MSG_ID_GIVEN, ADMIN, "no message id or output given") \
    X(175, RMQ_R_BAD_MSG_ID, ADMIN, "%s is not a message id (32 or 56 hex digits)") \
    X(176, RMQ_R_REQUEST_REPLY_TIMEOUT, REQUEST, "send request message to <%s> OK, but wait reply message timeout, %u ms.") \
    X(177, RMQ_R_REQUEST_SEND_TIMEOUT, REQUEST, "send request message to <%s> fail: no answer to the send within the request's %u ms") \
    X(178, RMQ_R_REQUEST_SHUT_DOWN, REQUEST, "the producer was shut down before the reply to the request on %s came") \
    X(179, RMQ_R_REQUEST_SEND_FAILED, REQUEST, "send request message to <%s> fail: %r") \
    X(180, RMQ_R_NO_REPLY_GIVEN, REQUEST, "no reply given") \
    X(181, RMQ_R_MAX_REQUESTS, REQUEST, "%u requests wait for their reply (RMQ_MAX_REQUESTS %d)") \
    /* end of RMQ_REASONS */

#define RMQ__REASON_CODE(n, name, cut, text) name = (n),
typedef enum rmq_reason_code {
    RMQ_REASONS(RMQ__REASON_CODE)
    RMQ_R__COUNT
} rmq_reason_code;

/* A reason as recorded: the code of what failed (code[0]) and of the
 * reasons nested in it (code[1] is the %r of code[0]'s template, code[2]
 * that of code[1]'s, ...; RMQ_R_NONE ends them; a nesting deeper than
 * RMQ_REASON_DEPTH loses its deepest), and the arguments of all in their
 * order, sharing RMQ_REASON_ARGS_LEN bytes (a text with its NUL, a number
 * in 4 bytes; one past them is cut or left out). Read it with
 * rmq_result_reason and rmq_result_reason_code. With RMQ_NO_ERROR_TEXT
 * only code[0] is recorded (no arguments, no nesting), and a reason holds
 * nothing more. */
#define RMQ_REASON_DEPTH 4
typedef struct rmq_reason {
    unsigned char code[RMQ_REASON_DEPTH];       /* rmq_reason_code */
#ifndef RMQ_NO_ERROR_TEXT
    unsigned short len;                         /* bytes of args used */
    unsigned char args[RMQ_REASON_ARGS_LEN];
#endif
} rmq_reason;

typedef struct rmq_send_result {
    rmq_send_status status;
    char msg_id[RMQ_MSG_ID_MAX_LEN + 1];        /* the UNIQ_KEY */
    char offset_msg_id[RMQ_MSG_ID_MAX_LEN + 1]; /* store host + commit-log offset */
    char transaction_id[RMQ_MSG_ID_MAX_LEN + 1];/* 5.x brokers only */
    rmq_queue queue;
    int64_t queue_offset;
    char region_id[32];
    int trace_on;
    /* On failure: */
    int broker_code;                            /* with RMQ_ERR_BROKER */
    char remark[RMQ_REMARK_MAX_LEN + 1];        /* the broker's remark, cut */
    rmq_reason reason;                          /* what failed: rmq_result_reason */
} rmq_send_result;

/* The sentence of res's reason ("" when it succeeded), written into buf
 * (cut to len - 1 bytes); returns buf. With RMQ_NO_ERROR_TEXT, which
 * keeps no sentences, it is "reason <n>", n the number of its code in
 * RMQ_REASONS. It reads only res and buf: any thread, once res is complete. */
RMQDEF const char *rmq_result_reason(const rmq_send_result *res, char *buf, size_t len);

/* The code of res's reason at a depth of its nesting: 0 what failed, 1 the
 * reason that one names (for a send that failed after its retries, what
 * ended the last attempt: RMQ_R_BROKER_ANSWER, RMQ_R_CONNECT_FAILED, ...),
 * 2 the next. RMQ_R_NONE past the last, when res succeeded, and past 0
 * with RMQ_NO_ERROR_TEXT. It reads only res: any thread, once res is complete. */
RMQDEF rmq_reason_code rmq_result_reason_code(const rmq_send_result *res, unsigned depth);

typedef struct rmq_producer rmq_producer;

/* Async completion: exactly one per accepted send. res is never NULL. */
typedef void (*rmq_send_cb)(rmq_err err, const rmq_send_result *res, void *user);

/* Chooses a queue: returns an index into queues[0..n), or negative. */
typedef int (*rmq_queue_selector)(const rmq_queue *queues, size_t n,
                                  const rmq_message *m, void *arg);

/* Ready selectors. arg of rmq_select_by_hash is a NUL-terminated UTF-8 key
 * and lands on the queue Java's SelectMessageQueueByHash picks for the same
 * String; arg of rmq_select_by_id points at a uint64_t (id % n). */
RMQDEF int rmq_select_by_hash(const rmq_queue *queues, size_t n,
                              const rmq_message *m, void *arg);
RMQDEF int rmq_select_by_id(const rmq_queue *queues, size_t n,
                            const rmq_message *m, void *arg);

/* Java's String.hashCode() of a UTF-8 string (decoded to UTF-16 first). */
RMQDEF int32_t rmq_java_string_hash(const char *utf8);

/* The store host ("ip:port") and commit-log offset an offset message id
 * (rmq_send_result.offset_msg_id) carries. */
RMQDEF rmq_err rmq_offset_msg_id_decode(const char *id, char *addr, size_t cap, int64_t *offset);

/* A message as a broker stored it (Java's MessageExt): what the admin
 * calls read back and what a request's reply is. Every string and the body
 * point into one allocation of the producer's allocator, released by
 * rmq_message_ext_free(); strings are NUL-terminated ("" when absent). */
typedef struct rmq_message_ext {
    const char *topic;             /* without the namespace */
    const char *tags;
    const char *keys;
    const void *body;              /* decompressed when a decompressor is set */
    size_t body_len;
    const rmq_property *properties;/* every property, system ones included */
    size_t nproperties;
    int32_t flag;
    int32_t sys_flag;              /* MessageSysFlag bits as stored */
    rmq_queue queue;
    int64_t queue_offset;
    int64_t commit_log_offset;
    const char *msg_id;            /* the UNIQ_KEY ("" when absent) */
    const char *offset_msg_id;     /* store host + commit-log offset */
    int64_t born_timestamp_ms;
    int64_t store_timestamp_ms;
    const char *born_host;         /* "ip:port" ("[v6]:port" for IPv6) */
    const char *store_host;
    int32_t reconsume_times;
    int32_t store_size;
    int32_t body_crc;
    int64_t prepared_transaction_offset;
    void *storage_;                /* private: what rmq_message_ext_free releases */
} rmq_message_ext;

/* ======================================================================== */
/* 6. The producer API                                                       */
/* ======================================================================== */

typedef enum rmq_service_state {
    RMQ_STATE_CREATE_JUST = 0,
    RMQ_STATE_RUNNING,
    RMQ_STATE_SHUTDOWN_ALREADY,
    RMQ_STATE_START_FAILED
} rmq_service_state;

/* The library's version text, "0.1.0". */
RMQDEF const char *rmq_version(void);

/* Allocate a producer from cfg (strings are copied). State CREATE_JUST. */
RMQDEF rmq_err rmq_producer_create(const rmq_producer_config *cfg, rmq_producer **out);

/* Start as DefaultMQProducerImpl.start does: check the config, join (or
 * create) the client instance of this client id, register the group. No
 * network traffic is needed. */
RMQDEF rmq_err rmq_producer_start(rmq_producer *p);

/* Unregister from every broker (all at once, one bounded wait), close the
 * instance when its last producer leaves, fail every pending send with
 * RMQ_ERR_SHUTDOWN. Harmless when called twice. */
RMQDEF void rmq_producer_shutdown(rmq_producer *p);

/* Shut down if needed and free everything. */
RMQDEF void rmq_producer_destroy(rmq_producer *p);

/* The reason of the last failure of a call on p, as a sentence: rendered
 * at this call into a buffer of p (RMQ_REASON_MAX_LEN), valid until the
 * next call of it on p ("reason <n>" with RMQ_NO_ERROR_TEXT, as
 * rmq_result_reason). One thread at a time calls it on a producer. */
RMQDEF const char *rmq_producer_last_error(const rmq_producer *p);

/* The code of that reason at a depth of its nesting, as
 * rmq_result_reason_code's. It writes nothing: any thread; but the last
 * failure is the last of any thread's calls on p, so with several threads
 * sending, the code of each send's own result is the one to trust. */
RMQDEF rmq_reason_code rmq_producer_last_error_code(const rmq_producer *p, unsigned depth);

/* ip@instance[@unit], known after start. */
RMQDEF const char *rmq_producer_client_id(const rmq_producer *p);

RMQDEF rmq_service_state rmq_producer_state(const rmq_producer *p);

/* Run the event loop: I/O, timers, broker requests, callbacks. Returns as
 * soon as some work was done, or after timeout_ms. */
RMQDEF rmq_err rmq_producer_poll(rmq_producer *p, uint32_t timeout_ms);

/* Run the loop until no async or oneway send of p is pending, or timeout.
 * A oneway send has no callback: flush returns the error of the first one
 * that failed since the previous flush (its reason in last_error). */
RMQDEF rmq_err rmq_producer_flush(rmq_producer *p, uint32_t timeout_ms);

/* Milliseconds until the loop next has timer work (0: now). */
RMQDEF uint32_t rmq_producer_next_timeout_ms(rmq_producer *p);

/* For external event loops: the connections and their interest. Returns the
 * number of items written (at most cap). */
RMQDEF size_t rmq_producer_interest(rmq_producer *p, rmq_wait_item *items, size_t cap);

/* Tell a producer without a wall clock what time it is (epoch ms), e.g.
 * once SNTP answers. */
RMQDEF void rmq_producer_set_time(rmq_producer *p, int64_t epoch_ms);

/* Send paths. Sync calls run the loop until their answer or their deadline;
 * async calls never block and never run the loop; oneway sends expect no
 * answer. timeout_ms 0 means the configured send_timeout_ms. */
RMQDEF rmq_err rmq_send(rmq_producer *p, const rmq_message *m, rmq_send_result *res);
RMQDEF rmq_err rmq_send_timeout(rmq_producer *p, const rmq_message *m,
                                rmq_send_result *res, uint32_t timeout_ms);
RMQDEF rmq_err rmq_send_async(rmq_producer *p, const rmq_message *m,
                              rmq_send_cb cb, void *user);
RMQDEF rmq_err rmq_send_async_timeout(rmq_producer *p, const rmq_message *m,
                                      rmq_send_cb cb, void *user, uint32_t timeout_ms);
RMQDEF rmq_err rmq_send_oneway(rmq_producer *p, const rmq_message *m);
RMQDEF rmq_err rmq_send_to_queue(rmq_producer *p, const rmq_message *m,
                                 const rmq_queue *q, rmq_send_result *res);
RMQDEF rmq_err rmq_send_to_queue_async(rmq_producer *p, const rmq_message *m,
                                       const rmq_queue *q, rmq_send_cb cb, void *user);
RMQDEF rmq_err rmq_send_oneway_to_queue(rmq_producer *p, const rmq_message *m,
                                        const rmq_queue *q);
RMQDEF rmq_err rmq_send_select(rmq_producer *p, const rmq_message *m,
                               rmq_queue_selector sel, void *arg, rmq_send_result *res);
RMQDEF rmq_err rmq_send_select_async(rmq_producer *p, const rmq_message *m,
                                     rmq_queue_selector sel, void *arg,
                                     rmq_send_cb cb, void *user);
/* One batch (same topic, no delay, same WAIT). res: n results. */
RMQDEF rmq_err rmq_send_batch(rmq_producer *p, const rmq_message *msgs, size_t n,
                              rmq_send_result *res);
/* Async batch: the callback's res points at n results, one per message,
 * as rmq_send_batch fills them. */
RMQDEF rmq_err rmq_send_batch_async(rmq_producer *p, const rmq_message *msgs, size_t n,
                                    rmq_send_cb cb, void *user);
/* The publish queues of topic, in the order selectors see them. */
RMQDEF rmq_err rmq_fetch_publish_queues(rmq_producer *p, const char *topic,
                                        rmq_queue *out, size_t cap, size_t *n);

/* -- transactions (TransactionMQProducer) -------------------------------- */
/* The end of a transaction, with the values END_TRANSACTION carries. */
typedef enum rmq_transaction_state {
    RMQ_TX_UNKNOWN = 0,          /* Java's UNKNOW: the broker will check back */
    RMQ_TX_COMMIT = 8,
    RMQ_TX_ROLLBACK = 12
} rmq_transaction_state;

/* The half message a broker asks about, decoded from its check. */
typedef struct rmq_checked_message {
    const char *topic;
    const char *tags;            /* "" when absent */
    const char *keys;
    const char *msg_id;          /* the UNIQ_KEY */
    const char *transaction_id;
    const char *offset_msg_id;
    const void *body;
    size_t body_len;
    const char *properties;      /* the raw property string (0x01/0x02) */
    size_t properties_len;
    int64_t queue_offset;        /* tranStateTableOffset */
    int64_t commit_log_offset;
} rmq_checked_message;

typedef struct rmq_check_transaction {
    void *arg;
    /* Runs where callbacks run (poll, flush, a blocking call), never with a
     * lock held; its answer goes to the broker that asked. */
    rmq_transaction_state (*check)(void *arg, const rmq_checked_message *m);
} rmq_check_transaction;

/* Runs the local transaction once the half message is stored; half is the
 * send result (msg_id is the transaction's message id). */
typedef rmq_transaction_state (*rmq_local_transaction_fn)(void *arg, const rmq_message *m,
                                                         const rmq_send_result *half);

/* sendMessageInTransaction: store m as a half message (sync, with retries),
 * run local(), then tell the broker its answer (END_TRANSACTION, oneway). A
 * stored-but-not-OK status (FLUSH_*, SLAVE_NOT_AVAILABLE) rolls back without
 * calling local(). *state (may be NULL) receives what was sent. */
RMQDEF rmq_err rmq_send_in_transaction(rmq_producer *p, const rmq_message *m, rmq_local_transaction_fn local,
                                       void *arg, rmq_send_result *res, rmq_transaction_state *state);

#if !defined(RMQ_NO_ADMIN) || !defined(RMQ_NO_REQUEST)
/* Release what m holds (m itself is the caller's) and empty it; p is the
 * producer that filled it. */
RMQDEF void rmq_message_ext_free(rmq_producer *p, rmq_message_ext *m);
#endif

/* -- MQAdmin (MQAdminImpl) ----------------------------------------------- */
#ifndef RMQ_NO_ADMIN

/* These block (at most 6000 ms a request, MQAdminImpl's timeout) and go to
 * the broker's VIP port when cfg.vip_channel is set. A broker's refusal is
 * RMQ_ERR_BROKER with its code and remark in the reason. */

/* createTopic: the route of key (normally "TBW102") straight from the name
 * server, then UPDATE_AND_CREATE_TOPIC (queue_num read and write queues,
 * perm 6, SINGLE_TAG, not ordered) to the master of each of its broker
 * groups, each tried up to 5 times. RMQ_OK when one broker accepted, else
 * the last failure. new_topic follows the send path's topic rules and is
 * no system topic; 1 <= queue_num <= RMQ_MAX_QUEUES. */
RMQDEF rmq_err rmq_admin_create_topic(rmq_producer *p, const char *key,
                                      const char *new_topic, int queue_num);
/* searchOffset: the offset of q's message stored about timestamp_ms: a
 * 4.9.8 broker takes the nearest in store time, a 5.x one the first at or
 * after (SEARCH_OFFSET_BY_TIMESTAMP to the master of q's broker, whose
 * address comes from the route, fetched if unknown). */
RMQDEF rmq_err rmq_search_offset(rmq_producer *p, const rmq_queue *q,
                                 int64_t timestamp_ms, int64_t *offset);
/* maxOffset: the offset the next message of q will take (GET_MAX_OFFSET). */
RMQDEF rmq_err rmq_max_offset(rmq_producer *p, const rmq_queue *q, int64_t *offset);
/* minOffset: the offset of the oldest message of q still kept (GET_MIN_OFFSET). */
RMQDEF rmq_err rmq_min_offset(rmq_producer *p, const rmq_queue *q, int64_t *offset);
/* earliestMsgStoreTime: the store time of q's oldest kept message, epoch ms
 * (GET_EARLIEST_MSG_STORETIME); a 4.9.8 broker answers -1 for an empty queue. */
RMQDEF rmq_err rmq_earliest_msg_store_time(rmq_producer *p, const rmq_queue *q,
                                           int64_t *epoch_ms);
/* viewMessage(offsetMsgId): the message stored at the commit-log offset
 * the id carries, asked of the store host it names (VIEW_MESSAGE_BY_ID,
 * MQAdminImpl's 6000 ms). A malformed id is RMQ_ERR_INVALID_ARG, nothing
 * sent; a message not there is RMQ_ERR_BROKER (SYSTEM_ERROR "can not find
 * message by the offset"). A compressed body comes back inflated when
 * cfg.decompressor is set. Free out with rmq_message_ext_free. */
RMQDEF rmq_err rmq_view_message(rmq_producer *p, const char *offset_msg_id,
                                rmq_message_ext *out);
/* DefaultMQProducer.viewMessage(topic, msgId) of Java 4.9.8: msg_id is
 * tried as an offset message id first; when that fails in any way, as the
 * UNIQ_KEY of a message of topic (queryMessageByUniqKey: every broker of
 * the topic from the id's time less 1 s on, the earliest stored of the
 * messages with that UNIQ_KEY). */
RMQDEF rmq_err rmq_view_message_by_id(rmq_producer *p, const char *topic,
                                      const char *msg_id, rmq_message_ext *out);
typedef struct rmq_query_result {
    rmq_message_ext *msgs;         /* n messages, each as rmq_view_message's */
    size_t n;
    int64_t index_last_update_ms;  /* the latest of the brokers that found some */
} rmq_query_result;
/* queryMessage(topic, key, maxNum, begin, end): QUERY_MESSAGE to one
 * address (the master) of every broker group with queues of the topic, all
 * at once, each waited for up to 18 s; the messages whose KEYS hold key
 * (a word of it) and whose topic is topic, stored within [begin_ms,
 * end_ms], at most max_num of them. A broker finding nothing
 * (QUERY_NOT_FOUND) or failing is no failure when another found some;
 * none found is RMQ_ERR_BROKER with Java's "query message by key finished,
 * but no message" and QUERY_NOT_FOUND (or the first other broker answer)
 * in the reason. Free out with rmq_query_result_free (also on failure:
 * harmless). */
RMQDEF rmq_err rmq_query_message(rmq_producer *p, const char *topic, const char *key,
                                 int max_num, int64_t begin_ms, int64_t end_ms,
                                 rmq_query_result *out);
/* Releases every message of r and empties it. */
RMQDEF void rmq_query_result_free(rmq_producer *p, rmq_query_result *r);
#endif

/* -- request-reply (DefaultMQProducer.request) ---------------------------- */
#ifndef RMQ_NO_REQUEST
/* A request is a message sent (async, as Java sends it) with properties
 * CORRELATION_ID (a fresh random UUID), REPLY_TO_CLIENT (this client id)
 * and TTL (timeout_ms); a consumer answers it with a reply message
 * (MessageUtil.createReplyMessage) that the broker pushes back to this
 * client, matched by CORRELATION_ID. timeout_ms 0 means send_timeout_ms;
 * the request ends at that deadline, counted from the call. As in Java,
 * the first request on a topic without a route waits for the route and
 * heartbeats every broker first, so that any broker can push the reply
 * (not from inside a callback: there the send's own heartbeat to its
 * broker is all). At most RMQ_MAX_REQUESTS wait per client instance
 * (RMQ_ERR_LIMIT past it); shutdown ends those of the producer with
 * RMQ_ERR_SHUTDOWN. A failed send fails the request with its error.
 *
 * Sync: runs the loop until the reply or the deadline (RMQ_ERR_TIMEOUT);
 * on RMQ_OK *reply is the caller's, freed with rmq_message_ext_free(p, reply).
 * Async: returns at once; cb runs exactly once (where callbacks run), with
 * the reply on RMQ_OK (NULL otherwise), which lives during the callback
 * only: copy what you keep. An async request counts as a pending send
 * (flush waits for its reply, max_pending bounds it) until cb has run. */
typedef void (*rmq_request_cb)(rmq_err err, const rmq_message_ext *reply, void *user);
RMQDEF rmq_err rmq_request(rmq_producer *p, const rmq_message *m, uint32_t timeout_ms,
                           rmq_message_ext *reply);
RMQDEF rmq_err rmq_request_async(rmq_producer *p, const rmq_message *m, uint32_t timeout_ms,
                                 rmq_request_cb cb, void *user);
#ifndef RMQ_NO_SELECTOR
/* The same to a queue chosen by sel (as rmq_send_select), or to q. */
RMQDEF rmq_err rmq_request_select(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel,
                                  void *arg, uint32_t timeout_ms, rmq_message_ext *reply);
RMQDEF rmq_err rmq_request_select_async(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel,
                                        void *arg, uint32_t timeout_ms, rmq_request_cb cb, void *user);
RMQDEF rmq_err rmq_request_to_queue(rmq_producer *p, const rmq_message *m, const rmq_queue *q,
                                    uint32_t timeout_ms, rmq_message_ext *reply);
RMQDEF rmq_err rmq_request_to_queue_async(rmq_producer *p, const rmq_message *m, const rmq_queue *q,
                                          uint32_t timeout_ms, rmq_request_cb cb, void *user);
#endif
#endif

typedef struct rmq_stats {
    uint32_t pending_sends;        /* async + oneway not completed */
    uint32_t pending_bytes;
    uint32_t inflight_requests;    /* in the opaque table (whole instance) */
    uint32_t connections;
    uint32_t reconnects;
    uint32_t retries;
    uint32_t sends_ok;
    uint32_t sends_failed;
    uint32_t route_age_ms;         /* oldest route in use */
    uint32_t refused_in_callback;  /* calls refused with RMQ_ERR_IN_CALLBACK
                                      (shutdown and destroy among them);
                                      0 with RMQ_NO_THREADS */
#ifndef RMQ_NO_REQUEST
    uint32_t requests_waiting;     /* requests waiting for a reply (instance) */
    uint32_t late_replies;         /* replies pushed after their request ended,
                                      or for no request of it (instance) */
#endif
    struct {
        char broker_name[RMQ_BROKER_NAME_MAX_LEN + 1];
        uint32_t errors;
    } brokers[RMQ_MAX_BROKERS];
    uint32_t nbrokers;
#ifndef RMQ_NO_TRACE
    uint32_t trace_sent;           /* trace records a broker stored */
    uint32_t trace_dropped;        /* trace records dropped: past the bound
                                      (RMQ_TRACE_MAX_PENDING_BYTES), or
                                      their trace message failed */
#endif
} rmq_stats;

/* A snapshot of the counters of p (and of its client instance). */
RMQDEF void rmq_producer_stats(rmq_producer *p, rmq_stats *out);

/* ======================================================================== */
/* 7. Remoting commands                                                      */
/* ======================================================================== */
/* A decoded or to-be-encoded RemotingCommand. Strings are slices (pointer and
 * length, not NUL-terminated): decoded ones point into the frame. */

typedef struct rmq_slice {
    const char *ptr;
    size_t len;
} rmq_slice;

typedef struct rmq_ext_field {
    rmq_slice key;
    rmq_slice value;
} rmq_ext_field;

typedef struct rmq_command {
    int32_t code;
    int32_t opaque;
    int32_t flag;               /* bit 0: response; bit 1: oneway */
    int32_t version;
    int32_t language;           /* LanguageCode ordinal */
    rmq_serialize serialize;    /* how the header was (or will be) written */
    rmq_slice remark;           /* ptr NULL: absent */
    rmq_ext_field ext[RMQ_MAX_EXT_FIELDS];
    size_t next;
    const uint8_t *body;
    size_t body_len;
    /* The library's own: where the reader of the header found the fields
     * of a send's answer in ext (1 + their index, 0: not there), when
     * answer_read; otherwise they are looked up by name. */
    uint8_t answer[6];
    uint8_t answer_read;
} rmq_command;

#define RMQ_FLAG_RESPONSE 1
#define RMQ_FLAG_ONEWAY 2

/* Add (or replace) an ext field. The strings must stay valid until the
 * command is encoded, which happens right after the hook returns. */
RMQDEF rmq_err rmq_command_put_ext(rmq_command *c, const char *key, const char *value);
/* The value of an ext field, or a slice with ptr NULL. */
RMQDEF rmq_slice rmq_command_ext(const rmq_command *c, const char *key);

/* before() runs on every request just before it is encoded (add fields,
 * e.g. AccessKey and Signature; a non-OK return fails the request with that
 * error); after() runs on every response read. Either may be NULL. */
struct rmq_rpc_hook {
    void *arg;
    rmq_err (*before)(void *arg, const char *addr, rmq_command *request);
    void (*after)(void *arg, const char *addr, const rmq_command *request_code_only,
                  const rmq_command *response);
};

/* ACL signing (AclClientRPCHook): every request gets AccessKey (and
 * SecurityToken when set) and Signature = base64(HmacSHA1(secret, values
 * of all ext fields sorted by key, then the body)). Keep acl alive as long
 * as the producer; cfg.rpc_hook = rmq_acl_hook_init(&acl, ak, sk, NULL). */
typedef struct rmq_acl {
    rmq_rpc_hook hook;
    const char *access_key, *secret_key, *security_token;
    char signature[32];          /* base64 of 20 bytes, valid until encoded */
} rmq_acl;

RMQDEF const rmq_rpc_hook *rmq_acl_hook_init(rmq_acl *acl, const char *access_key,
                                             const char *secret_key, const char *security_token);

/* ======================================================================== */
/* A static pool (RMQ_NO_MALLOC builds, or any build that wants one)         */
/* ======================================================================== */
/* A first-fit allocator with free and coalescing over caller memory: a
 * producer runs for months, so a bump arena would not do. Put &pool in
 * cfg.mem_ctx; with RMQ_NO_MALLOC every allocation comes from it. */
typedef struct rmq_pool {
    unsigned char *base;
    size_t size;
    size_t used;           /* bytes in allocated blocks, headers included */
    size_t peak;
} rmq_pool;

RMQDEF void rmq_pool_init(rmq_pool *pool, void *mem, size_t size);
RMQDEF void *rmq_pool_alloc(rmq_pool *pool, size_t n);
RMQDEF void rmq_pool_free(rmq_pool *pool, void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* ROCKETMQ_PRODUCER_H */

/* ************************************************************************ */
/*                                                                          */
/*                            IMPLEMENTATION                                */
/*                                                                          */
/* ************************************************************************ */
#if defined(ROCKETMQ_PRODUCER_IMPLEMENTATION) && !defined(RMQ__IMPLEMENTED)
#define RMQ__IMPLEMENTED

#include <stdarg.h>

/* Private functions are static: unused ones vanish, and a build links only
 * what its send paths reach. */
#define RMQ__FN static
/* A step of a reader's inner loop (the flat reader's per member): its
 * calls cost more than its work, so the compiler is asked to inline it. */
#define RMQ__INLINE static inline
#if defined(__GNUC__) || defined(__clang__)
#define RMQ__UNUSED __attribute__((unused))   /* kept for tests and tools */
#define RMQ__NOINLINE __attribute__((noinline)) /* its frame stays off its caller's */
#else
#define RMQ__UNUSED
#define RMQ__NOINLINE
#endif
/* A function GCC inlines at -Os at each of its call sites though a call
 * is smaller: called where the send path's shortcuts are cut (the core's
 * builds, measured by make size), inlined where they are not (the call
 * would cost instructions there). */
#ifdef RMQ_NO_FAST_PATH
#define RMQ__FN_CALLED static RMQ__NOINLINE
#else
#define RMQ__FN_CALLED RMQ__FN
#endif

/* ======================================================================== */
/* 8. Platform shims                                                         */
/* ======================================================================== */

#ifdef RMQ_FREESTANDING
/* The handful of libc functions the library needs, for targets without one. */
static void *rmq__memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    while (n--) *dp++ = *sp++;
    return d;
}
static void *rmq__memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    if (dp < sp) { while (n--) *dp++ = *sp++; }
    else { dp += n; sp += n; while (n--) *--dp = *--sp; }
    return d;
}
static void *rmq__memset(void *d, int c, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    while (n--) *dp++ = (unsigned char)c;
    return d;
}
static int rmq__memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++) if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
static size_t rmq__strlen(const char *s)
{
    const char *e = s;
    while (*e) e++;
    return (size_t)(e - s);
}
#ifdef RMQ_FREESTANDING_LIBC
/* GCC calls memcpy and memset for struct copies even with -ffreestanding:
 * defined in one file of a libc-less build, this supplies them. Build that
 * file with -fno-tree-loop-distribute-patterns, so the loops stay loops. */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memcpy(void *d, const void *s, size_t n) { return rmq__memcpy(d, s, n); }
void *memmove(void *d, const void *s, size_t n) { return rmq__memmove(d, s, n); }
void *memset(void *d, int c, size_t n) { return rmq__memset(d, c, n); }
int memcmp(const void *a, const void *b, size_t n) { return rmq__memcmp(a, b, n); }
#endif
#ifndef RMQ_MEMCPY
#define RMQ_MEMCPY rmq__memcpy
#endif
#ifndef RMQ_MEMMOVE
#define RMQ_MEMMOVE rmq__memmove
#endif
#ifndef RMQ_MEMSET
#define RMQ_MEMSET rmq__memset
#endif
#ifndef RMQ_MEMCMP
#define RMQ_MEMCMP rmq__memcmp
#endif
#ifndef RMQ_STRLEN
#define RMQ_STRLEN rmq__strlen
#endif
#else
/* Where the shortcuts are cut, one byte loop copies both ways: newlib's
 * memcpy (308 B on Cortex-M4) and memmove (254 B) are word-at-a-time, and
 * what the core copies is short (names, addresses, headers). The index
 * runs down or up as the copy must, so GCC sees no memcpy pattern to turn
 * back into a call. */
#if defined(RMQ_NO_FAST_PATH) && !defined(RMQ_MEMCPY) && !defined(RMQ_MEMMOVE)
static RMQ__NOINLINE void *rmq__memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    size_t i = 0, step = 1;
    if ((uintptr_t)dp > (uintptr_t)sp) { i = n - 1; step = (size_t)-1; }
    for (; n; n--, i += step) dp[i] = sp[i];
    return d;
}
#define RMQ_MEMCPY rmq__memmove
#define RMQ_MEMMOVE rmq__memmove
#endif
#ifndef RMQ_MEMCPY
#define RMQ_MEMCPY memcpy
#endif
#ifndef RMQ_MEMMOVE
#define RMQ_MEMMOVE memmove
#endif
#ifndef RMQ_MEMSET
#define RMQ_MEMSET memset
#endif
/* Where the shortcuts are cut, size wins: libc's strlen is word-at-a-time
 * (220 B and a 64-byte alignment on Cortex-M), its memcmp 96 B, and what
 * the library measures and compares is short (names, JSON keys). Called:
 * a loop inlined at every site would be larger. */
#ifndef RMQ_MEMCMP
#ifdef RMQ_NO_FAST_PATH
static RMQ__NOINLINE int rmq__memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++) if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
#define RMQ_MEMCMP rmq__memcmp
#else
#define RMQ_MEMCMP memcmp
#endif
#endif
#ifndef RMQ_STRLEN
#ifdef RMQ_NO_FAST_PATH
static RMQ__NOINLINE size_t rmq__strlen(const char *s)
{
    const char *e = s;
    while (*e) e++;
    return (size_t)(e - s);
}
#define RMQ_STRLEN rmq__strlen
#else
#define RMQ_STRLEN strlen
#endif
#endif
#endif

/* A copy of a few bytes whose count is a constant, as a load and a store
 * (GCC's builtin), not a call of RMQ_MEMCPY's loop: a word read or written
 * where its alignment or type is not the memory's. */
#if defined(__GNUC__)
#define RMQ__COPY_FIXED(d, s, n) ((void)__builtin_memcpy((d), (s), (n)))
#else
#define RMQ__COPY_FIXED(d, s, n) ((void)RMQ_MEMCPY((d), (s), (n)))
#endif

/* A struct copy. A large one (a reason with its arguments, a config) as
 * `*d = *s` would be a call of libc's memcpy, which the core's own loop
 * spares; a small one (a reason without texts) is a few moves inline. */
#define RMQ__COPY(d, s) (sizeof *(d) > 16 ? (void)RMQ_MEMCPY((d), (s), sizeof *(d)) : (void)(*(d) = *(s)))

/* Allocation goes through these three, stb style; ctx is cfg.mem_ctx. */
#if defined(RMQ_NO_MALLOC) || defined(RMQ_FREESTANDING)
#ifndef RMQ_MALLOC
#define RMQ_MALLOC(ctx, n) rmq_pool_alloc((rmq_pool *)(ctx), (n))
#define RMQ_FREE(ctx, p) rmq_pool_free((rmq_pool *)(ctx), (p))
#endif
#else
#ifndef RMQ_MALLOC
#define RMQ_MALLOC(ctx, n) ((void)(ctx), malloc(n))
#define RMQ_FREE(ctx, p) ((void)(ctx), free(p))
#endif
#endif

/* -- feature switches ------------------------------------------------------ */
/* What the cuts of section 1 become inside: 0 or 1 where a run-time value
 * would otherwise decide, so that the compiler drops the code of a cut
 * feature while the code around it reads the same in every build. */
#ifdef RMQ_NO_THREADS
#define RMQ__THREADS 0
#else
#define RMQ__THREADS 1
#endif
#ifdef RMQ_NO_SELECTOR
#define RMQ__SELECTORS 0
#else
#define RMQ__SELECTORS 1
#endif
#ifdef RMQ_NO_ONEWAY
#define RMQ__ONEWAYS 0
#else
#define RMQ__ONEWAYS 1
#endif
/* Oneway requests at the remoting layer: oneway sends and END_TRANSACTION. */
#if defined(RMQ_NO_ONEWAY) && defined(RMQ_NO_TRANSACTION)
#define RMQ__ONEWAY_REQS 0
#else
#define RMQ__ONEWAY_REQS 1
#endif
#ifdef RMQ_NO_PROPERTIES
#define RMQ__PROPERTIES 0
#else
#define RMQ__PROPERTIES 1
#endif
#ifdef RMQ_NO_LINGER
#define RMQ__LINGER 0
#else
#define RMQ__LINGER 1
#endif
#ifdef RMQ_NO_FAST_PATH
#define RMQ__FAST_PATH 0
#else
#define RMQ__FAST_PATH 1
#endif
/* The instance's lock; a send's target (a send that picks its own queue
 * where selectors are cut) and whether it is oneway. */
#define RMQ__MUTEX(m) (RMQ__THREADS ? (m) : (void *)0)
#define RMQ__TARGET(op) (RMQ__SELECTORS ? (int)(op)->target : RMQ__TARGET_DEFAULT)
#define RMQ__IS_ONEWAY(op) (RMQ__ONEWAYS && (op)->mode == RMQ__MODE_ONEWAY)

/* -- the pool ------------------------------------------------------------ */
/* Blocks lie in address order, each with a header holding its size and a
 * used bit; free blocks merge with free neighbours as the walk meets them. */
#define RMQ__POOL_ALIGN 8u
#define RMQ__POOL_HDR 8u

static size_t rmq__pool_get(const unsigned char *b) { size_t v; RMQ__COPY_FIXED(&v, b, sizeof v); return v; }
static void rmq__pool_put(unsigned char *b, size_t v) { RMQ__COPY_FIXED(b, &v, sizeof v); }

RMQDEF void rmq_pool_init(rmq_pool *pool, void *mem, size_t size)
{
    size_t skew = (size_t)((uintptr_t)mem % RMQ__POOL_ALIGN);
    unsigned char *b = (unsigned char *)mem;
    if (skew) { b += RMQ__POOL_ALIGN - skew; size -= RMQ__POOL_ALIGN - skew; }
    size &= ~(size_t)(RMQ__POOL_ALIGN - 1);
    pool->base = b;
    pool->size = size;
    pool->used = 0;
    pool->peak = 0;
    if (size >= RMQ__POOL_HDR * 2) rmq__pool_put(b, size); /* one free block */
    else pool->size = 0;
}

RMQDEF void *rmq_pool_alloc(rmq_pool *pool, size_t n)
{
    size_t need, off = 0;
    if (!pool || n == 0 || n > pool->size) return NULL;
    need = (n + RMQ__POOL_HDR + RMQ__POOL_ALIGN - 1) & ~(size_t)(RMQ__POOL_ALIGN - 1);
    while (off < pool->size) {
        unsigned char *b = pool->base + off;
        size_t h = rmq__pool_get(b), sz = h & ~(size_t)1;
        if (!(h & 1)) {
            while (off + sz < pool->size) {           /* merge free followers */
                size_t nh = rmq__pool_get(pool->base + off + sz);
                if (nh & 1) break;
                sz += nh;
            }
            rmq__pool_put(b, sz);
            if (sz >= need) {
                if (sz - need >= RMQ__POOL_HDR + RMQ__POOL_ALIGN) {
                    rmq__pool_put(b + need, sz - need);
                    sz = need;
                }
                rmq__pool_put(b, sz | 1);
                pool->used += sz;
                if (pool->used > pool->peak) pool->peak = pool->used;
                return b + RMQ__POOL_HDR;
            }
        }
        off += sz;
    }
    return NULL;
}

RMQDEF void rmq_pool_free(rmq_pool *pool, void *ptr)
{
    unsigned char *b;
    size_t h;
    if (!pool || !ptr) return;
    b = (unsigned char *)ptr - RMQ__POOL_HDR;
    h = rmq__pool_get(b);
    pool->used -= h & ~(size_t)1;
    rmq__pool_put(b, h & ~(size_t)1);
}

/* -- text without printf ------------------------------------------------- */
/* v / d and v % d for d in 1..65535, by long division over 16-bit limbs:
 * each step divides a number below d * 2^16 <= 2^32 by d in 32 bits (a
 * multiply when d is a constant), so no 64-bit division helper of libgcc
 * is pulled in on Cortex-M0+ or rv32. For long numbers and calendar sums;
 * called, not inlined: each of its three call sites would carry the loop. */
static RMQ__NOINLINE uint64_t rmq__div16(uint64_t v, uint32_t d, uint32_t *rem)
{
    uint64_t q = 0;
    uint32_t r = 0;
    int k;
    for (k = 48; k >= 0; k -= 16) {
        uint32_t cur = (r << 16) | (uint32_t)((v >> k) & 0xFFFFu);
        q = (q << 16) | (cur / d);
        r = cur % d;
    }
    if (rem) *rem = r;
    return q;
}

#ifndef RMQ_NO_FAST_PATH
/* "00" to "99": two digits per division on the fast path. */
static const char rmq__digit_pairs[] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
#endif

#ifndef RMQ_NO_FAST_PATH
/* A 32-bit number's digits, counted first so that they are written in
 * place from the end, two at a time. */
RMQ__FN size_t rmq__u32_to_dec(char *out, uint32_t w)
{
    size_t n = w < 100u ? 2 : w < 1000u ? 3 : w < 10000u ? 4 : w < 100000u ? 5 : w < 1000000u ? 6
             : w < 10000000u ? 7 : w < 100000000u ? 8 : w < 1000000000u ? 9 : 10;
    char *o = out + n;
    if (w < 10u) { out[0] = (char)('0' + (int)w); return 1; }
    for (; w >= 100u; w /= 100u) { o -= 2; RMQ_MEMCPY(o, rmq__digit_pairs + 2u * (w % 100u), 2); }
    if (w >= 10u) RMQ_MEMCPY(o - 2, rmq__digit_pairs + 2u * w, 2);
    else o[-1] = (char)('0' + (int)w);
    return n;
}
#endif

/* Writes the decimal digits of v (no NUL); returns their count (<= 20).
 * Digits come from 32-bit divisions by 10 (a multiply), written from the
 * end, so no reversal. */
RMQ__FN size_t rmq__u64_to_dec(char *out, uint64_t v)
{
    char t[20];
    size_t n = 20;
    uint32_t w;
#ifndef RMQ_NO_FAST_PATH
    int k;
    if (v <= 0xFFFFFFFFu) return rmq__u32_to_dec(out, (uint32_t)v);   /* every header number but a time */
    while (v > 0xFFFFFFFFu) {
        v = rmq__div16(v, 10000u, &w);
        for (k = 0; k < 4; k++) { t[--n] = (char)('0' + w % 10u); w /= 10u; }
    }
    w = (uint32_t)v;
    for (; w >= 100u; w /= 100u) { n -= 2; RMQ_MEMCPY(t + n, rmq__digit_pairs + 2u * (w % 100u), 2); }
    if (w >= 10u) { n -= 2; RMQ_MEMCPY(t + n, rmq__digit_pairs + 2u * w, 2); }
    else t[--n] = (char)('0' + w);
#else
    /* Where the shortcuts are cut, every digit through the one divider. */
    do { v = rmq__div16(v, 10u, &w); t[--n] = (char)('0' + w); } while (v);
#endif
    RMQ_MEMCPY(out, t + n, 20 - n);
    return 20 - n;
}

RMQ__FN size_t rmq__i64_to_dec(char *out, int64_t v)
{
#ifndef RMQ_NO_FAST_PATH
    /* before the 64-bit function's frame: most numbers never need it */
    if (v >= 0 && v <= (int64_t)0xFFFFFFFFu) return rmq__u32_to_dec(out, (uint32_t)v);
#endif
    if (v < 0) { out[0] = '-'; return 1 + rmq__u64_to_dec(out + 1, (uint64_t)0 - (uint64_t)v); }
    return rmq__u64_to_dec(out, (uint64_t)v);
}

#ifndef RMQ_NO_FAST_PATH
/* The text of the last number asked for: a send's born time is the same
 * millisecond as the previous send's whenever sends come faster than one a
 * millisecond, and its 13 digits are the dearest of a header. */
typedef struct rmq__dec_memo {
    int64_t v;
    size_t len;             /* 0: nothing yet */
    char text[20];
} rmq__dec_memo;

RMQ__FN const char *rmq__dec_memo_text(rmq__dec_memo *m, int64_t v, size_t *len)
{
    if (!m->len || v != m->v) { m->v = v; m->len = rmq__i64_to_dec(m->text, v); }
    *len = m->len;
    return m->text;
}
#endif

/* Parses an optionally signed decimal integer that fills the whole slice. */
RMQ__FN int rmq__parse_i64(const char *s, size_t len, int64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    int neg = 0;
    if (!s || len == 0) return -1;
    if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; i = 1; }
    if (i == len) return -1;
    /* 19 digits cannot wrap 64 bits (and what is past INT64_MAX has the top
     * bit set); more, but for leading zeros, are refused anyway */
    while (len - i > 19) {
        if (s[i] != '0') return -1;
        i++;
    }
    for (; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10u + d;
    }
    if (v >> 63) return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

RMQ__FN int rmq__parse_i32(const char *s, size_t len, int32_t *out)
{
    int64_t v;
    if (rmq__parse_i64(s, len, &v) || v < INT32_MIN || v > INT32_MAX) return -1;
    *out = (int32_t)v;
    return 0;
}

/* A bounded string builder: appends what fits, always NUL-terminates. */
typedef struct rmq__sb {
    char *p;
    size_t cap, len;
} rmq__sb;

RMQ__FN void rmq__sb_init(rmq__sb *b, char *p, size_t cap)
{
    b->p = p; b->cap = cap; b->len = 0;
    if (cap) p[0] = 0;
}

RMQ__FN void rmq__sb_putn(rmq__sb *b, const char *s, size_t n)
{
    if (!b->cap) return;
    if (n > b->cap - 1 - b->len) n = b->cap - 1 - b->len;
    RMQ_MEMCPY(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

RMQ__FN void rmq__sb_puts(rmq__sb *b, const char *s)
{
    rmq__sb_putn(b, s ? s : "(null)", s ? RMQ_STRLEN(s) : 6);
}

RMQ__FN void rmq__reason_put(rmq__sb *b, const rmq_reason *r, const char *remark);

#if !defined(RMQ_NO_LOG) || !defined(RMQ_NO_ADDR_SERVER)
/* A tiny formatter for log lines and the address server's request: %s (C
 * string), %S (rmq_slice *), %d (int), %u (unsigned), %D (int64_t), %r
 * (rmq_reason *), %%. No printf, no floating point. */
RMQ__FN void rmq__vfmt(rmq__sb *b, const char *fmt, va_list ap)
{
    char num[24];
    for (; *fmt; fmt++) {
        if (*fmt != '%' || !fmt[1]) { rmq__sb_putn(b, fmt, 1); continue; }
        switch (*++fmt) {
        case 's': rmq__sb_puts(b, va_arg(ap, const char *)); break;
        case 'S': {
            const rmq_slice *sl = va_arg(ap, const rmq_slice *);
            if (sl->ptr) rmq__sb_putn(b, sl->ptr, sl->len);
            break;
        }
        case 'd': rmq__sb_putn(b, num, rmq__i64_to_dec(num, va_arg(ap, int))); break;
        case 'u': rmq__sb_putn(b, num, rmq__u64_to_dec(num, va_arg(ap, unsigned))); break;
        case 'D': rmq__sb_putn(b, num, rmq__i64_to_dec(num, va_arg(ap, int64_t))); break;
        case 'r': rmq__reason_put(b, va_arg(ap, const rmq_reason *), NULL); break;
        default: rmq__sb_putn(b, fmt, 1); break;
        }
    }
}
#endif

#ifndef RMQ_NO_ADDR_SERVER
RMQ__FN void rmq__format(char *out, size_t cap, const char *fmt, ...)
{
    rmq__sb b;
    va_list ap;
    rmq__sb_init(&b, out, cap);
    va_start(ap, fmt);
    rmq__vfmt(&b, fmt, ap);
    va_end(ap);
}
#endif

RMQ__FN void rmq__strlcpy(char *dst, const char *src, size_t cap)
{
    rmq__sb b;
    rmq__sb_init(&b, dst, cap);
    rmq__sb_puts(&b, src);
}

/* -- reasons ------------------------------------------------------------- */
/* A failure records its reason with rmq__why(&reason, RMQ_R_..., args):
 * the code and copies of the arguments its template names, no sentence;
 * the sentence costs its formatting only when someone reads it (stb_image's
 * failure strings). The templates are kept packed (byte-pair encoding,
 * written by tools/gen_reasons.py from RMQ_REASONS: about half the bytes),
 * and unpacked a character at a time as the sentence is written; a '%'
 * conversion is never packed, so the recorder reads a packed template's
 * arguments as it would a plain one's. RMQ_NO_ERROR_TEXT drops the
 * templates: the code alone is recorded, and read as "reason <n>". */

/* The numbers of RMQ_REASONS are the codes the user reads: each must be
 * its line's place in the list, which is the place of its template. */
#define RMQ__REASON_PLACE(n, name, cut, text) rmq__place_##name,
enum rmq__reason_place { RMQ_REASONS(RMQ__REASON_PLACE) rmq__place_end };
#define RMQ__REASON_IN_PLACE(n, name, cut, text) rmq__in_place_##name = sizeof(char[(int)rmq__place_##name == (n) ? 1 : -1]),
enum rmq__reason_in_place { RMQ_REASONS(RMQ__REASON_IN_PLACE) rmq__in_place_end };
typedef char rmq__reason_code_fits_a_byte[RMQ_R__COUNT <= 256 ? 1 : -1];

/* Writes "reason <n>": a code without its template. */
static void rmq__reason_number(rmq__sb *b, unsigned code)
{
    char num[24];
    rmq__sb_puts(b, "reason ");
    rmq__sb_putn(b, num, rmq__u64_to_dec(num, code));
}

static rmq_reason_code rmq__reason_code_at(const rmq_reason *r, unsigned depth)
{
#ifdef RMQ_NO_ERROR_TEXT
    if (depth) return RMQ_R_NONE;       /* only code[0] is recorded */
#endif
    return depth < RMQ_REASON_DEPTH ? (rmq_reason_code)r->code[depth] : RMQ_R_NONE;
}

#ifdef RMQ_NO_ERROR_TEXT
/* Takes the arguments, as rmq__nolog does, so values kept only for a
 * reason still count as used; inlined, the call drops them. */
static void rmq__why(rmq_reason *r, int code, ...) { r->code[0] = (unsigned char)code; }

RMQ__FN void rmq__reason_put(rmq__sb *b, const rmq_reason *r, const char *remark)
{
    (void)remark;
    if (r->code[0]) rmq__reason_number(b, r->code[0]);
}
#else
/* Which templates a build keeps: those of a cut feature are empty (the
 * third column of RMQ_REASONS; A_OR_B: empty when both are cut). */
#define RMQ__IN_CORE(s) s
#define RMQ__IN_RETIRED(s) ""
#ifdef RMQ_NO_ADMIN
#define RMQ__IN_ADMIN(s) ""
#else
#define RMQ__IN_ADMIN(s) s
#endif
#ifdef RMQ_NO_REQUEST
#define RMQ__IN_REQUEST(s) ""
#else
#define RMQ__IN_REQUEST(s) s
#endif
#ifdef RMQ_NO_TRANSACTION
#define RMQ__IN_TRANSACTION(s) ""
#else
#define RMQ__IN_TRANSACTION(s) s
#endif
#ifdef RMQ_NO_NAMESPACE
#define RMQ__IN_NAMESPACE(s) ""
#else
#define RMQ__IN_NAMESPACE(s) s
#endif
#ifdef RMQ_NO_SELECTOR
#define RMQ__IN_SELECTOR(s) ""
#else
#define RMQ__IN_SELECTOR(s) s
#endif
#ifdef RMQ_NO_ADDR_SERVER
#define RMQ__IN_ADDR_SERVER(s) ""
#else
#define RMQ__IN_ADDR_SERVER(s) s
#endif
#ifdef RMQ_NO_LATENCY_FAULT
#define RMQ__IN_LATENCY_FAULT(s) ""
#else
#define RMQ__IN_LATENCY_FAULT(s) s
#endif
#ifdef RMQ_NO_TRACE
#define RMQ__IN_TRACE(s) ""
#else
#define RMQ__IN_TRACE(s) s
#endif
#ifdef RMQ_NO_THREADS
#define RMQ__IN_THREADS(s) ""
#else
#define RMQ__IN_THREADS(s) s
#endif
#ifdef RMQ_NO_TIMER
#define RMQ__IN_TIMER(s) ""
#else
#define RMQ__IN_TIMER(s) s
#endif
#ifdef RMQ_NO_ONEWAY
#define RMQ__IN_ONEWAY(s) ""
#else
#define RMQ__IN_ONEWAY(s) s
#endif
#ifdef RMQ_NO_PROPERTIES
#define RMQ__IN_PROPERTIES(s) ""
#else
#define RMQ__IN_PROPERTIES(s) s
#endif
#ifdef RMQ_NO_LINGER
#define RMQ__IN_LINGER(s) ""
#else
#define RMQ__IN_LINGER(s) s
#endif
#if defined(RMQ_NO_ADMIN) && defined(RMQ_NO_REQUEST)
#define RMQ__IN_ADMIN_OR_REQUEST(s) ""
#else
#define RMQ__IN_ADMIN_OR_REQUEST(s) s
#endif
#if defined(RMQ_NO_SELECTOR) && defined(RMQ_NO_ADMIN)
#define RMQ__IN_SELECTOR_OR_ADMIN(s) ""
#else
#define RMQ__IN_SELECTOR_OR_ADMIN(s) s
#endif
#if defined(RMQ_NO_SELECTOR) && defined(RMQ_NO_ADMIN) && defined(RMQ_NO_REQUEST)
#define RMQ__IN_SELECTOR_OR_ADMIN_OR_REQUEST(s) ""
#else
#define RMQ__IN_SELECTOR_OR_ADMIN_OR_REQUEST(s) s
#endif

/* -- packed by tools/gen_reasons.py from RMQ_REASONS: do not edit -- */
/* Token t (bytes 0x80..0xFF, then 0x01..0x1F) stands for symbols 2t and
 * 2t + 1 of RMQ__REASON_PAIRS; RMQ__REASON_PACKED holds each line of
 * RMQ_REASONS with its template so packed. */
#define RMQ__REASON_PAIR_DEPTH 8
#define RMQ__REASON_PAIRS \
    "e t s erthorroinesend : \204\200ana y noontome\203 i\202, e\212qu\205 MQalreR\232\235_m\210tiicu" \
    "secf atou\201bsto\244p\241agAXM\254\207g\206u\222\252\255_ (s\253\237\263\220\201\247\200i\204w" \
    "\267\207 m\205\236\261m\242\215 \213\274f\231s\211ad\276\266le\220 \222 nab\206\307kmaERp\206c" \
    "\221odyt\264\200a\202acb\316\257peu\230\324 \225\270\271\223\272ar\246\201\204\275\330\217p\205" \
    "\335tTh\337\200\332\251\311x\234\230\334\277n\243s\203\314\345itsh\233l\256 e\202lldr..li\302" \
    "\327fag\323\341\344msES\260 ex \322si\301\356fi cho\343\210\346v\310\203sp\211dOK\3611sec\315f" \
    "\205 \305dubec\352lot\200\224\333\003\243\021i\013c \231utv\233\313\023p\203ONp\004\300dilm\200" \
    "\246tb\245"
#define RMQ__REASON_PACKED(X) \
    X(  0, CORE, "") \
    X(  1, CORE, "\257\017d\245\216\234f\242ed\213%r") \
    X(  2, CORE, "\341\334wh\034\200f\207i\351\353\216wr\350e") \
    X(  3, CORE, "\347\201\305%s %s%s%s") \
    X(  4, CORE, "\214c\360\211\201\207\250\215c\200\225\351\025t\353down") \
    X(  5, CORE, "%s\326b\321k\353of\244aft\224\216\362\034ur\200(%r)") \
    X(  6, CORE, "ba\212\373\210\202'%s'\262w\215\201\376\250:\336)") \
    X(  7, CORE, "c\215\265\347\201\305%s\213\273C\031NECTI\031S\262%d) \347\240\221\202\331\200op\211") \
    X(  8, CORE, "\347\240\221\012%s \362\034\227wh\034\200wr\350\256") \
    X(  9, CORE, "\214RPC \376ok \234f\242\227\377\201\010\200%d\012%s") \
    X( 10, CORE, "\364\216\377t") \
    X( 11, CORE, "\377\201\010\200%d do\354\265\374\201\271\216fra\223") \
    X( 12, CORE, "\273INFLIGHT\262%d) \377t\202\331\200\271f\360ght") \
    X( 13, CORE, "\364\216\240m\203") \
    X( 14, ADDR_SERVER, "\341\330y") \
    X( 15, CORE, "%s \300\201\216%u-\322\200fra\223\226ov\224\273FRAME_BYT\366\262%u)") \
    X( 16, CORE, "%s \300\201\216m\233\011\223\212fra\223; \347\240\221\375\016\007d") \
    X( 17, CORE, "\364\216\234a\212buff\203") \
    X( 18, CORE, "\347\240\221\012%s\375\016s\227b\217\214pe\203") \
    X( 19, CORE, "\347\201\305%s di\212\265comp\303\017\014\011\200\214de\301l\207e") \
    X( 20, CORE, "\377\201\010\200%d\012%s\375\246l\212\220\266wr\350t\211 \014\011\200\214de\301l\207e") \
    X( 21, CORE, "\304\215sw\224f\206m %s\012\377\201\010\200%d\262opa\230\200%d) \014\011\200\214de\301l\207e") \
    X( 22, CORE, "\347\201\305%s \240\223\212\036") \
    X( 23, CORE, "\347\240\221\012%s \362i\303d") \
    X( 24, CORE, "\272\200\310\224\363\202\333\273BR\005\312S") \
    X( 25, CORE, "\216\002Na\035\225miss\353\231l\221g\020\236BR\005\312_NAME_\261LEN") \
    X( 26, CORE, "\216\002Ad\356\202ke\217\225\265\216\310\224id") \
    X( 27, CORE, "\216\310\224\373\210\202\225miss\353\231l\221g\020\236ADDR_\261LEN") \
    X( 28, CORE, "\272\200\325\200d\245\320\333\273BR\005\312S") \
    X( 29, CORE, "\216\325\200d\245\216h\320\304\026i\212\002Na\223") \
    X( 30, CORE, "\216\325\200d\245\216h\320\304\026i\212\030m\024\325\200numb\203s") \
    X( 31, RETIRED, "\272\200JS\031 \222k\211\202\333\273JS\031_T\005ENS") \
    X( 32, CORE, "n\210t\227deep\020\273JS\031_DEPTH") \
    X( 33, CORE, "\265\216JS\031 obj\243t") \
    X( 34, CORE, "\216\002D\245\216\225\265\275obj\243t") \
    X( 35, CORE, "\216\325eD\245\216\225\265\275obj\243t") \
    X( 36, CORE, "\205d\203To\252C\221\244\225l\221g\020255\371\210") \
    X( 37, CORE, "\214\310\224\373\210\202tabl\200\225fu\355\262\273BR\005\312S)") \
    X( 38, CORE, "\272\200pub\360\351 \325\354\333\273QUEU\366") \
    X( 39, CORE, "\364\214pub\360\351 \325\210") \
    X( 40, CORE, "\214\257\017\251\367%s h\320\304wr\350abl\200\325\200\270 \216\311\250\203") \
    X( 41, CORE, "No \257\017\207fo \251\204\225\260\213%s\262\306\035\001\203\202%s \215sw\203\227%s)") \
    X( 42, CORE, "%s") \
    X( 43, CORE, "No \257\017\207fo \251\204\225\260\213%s\262\306\035\001\203\202%s\213%r)") \
    X( 44, CORE, "No \306\035\001\224\373\210s\226p\303as\200\007\201i\201(\367%s)") \
    X( 45, CORE, "\214c\360\211\201\207\250\215c\200w\320\351u\201down") \
    X( 46, CORE, "\336\213\225\343ir\227(e.g. rmq_\336_po\372x())") \
    X( 47, CORE, "\336\213l\321k\202\216\343ir\227func\240\221\262\347t\226\033\226\234cv\226c\016\007\226wa\350" \
        "\226\220w_\365\226\313c\210s_id\226\211t\206py)") \
    X( 48, CORE, "\336\213h\320m\025\370_c\234\245\200\270\332m\025\370_\016ck\226m\025\370_un\016ck \215\212m\025" \
        "\370_d\210t\206y") \
    X( 49, CORE, "\314\374g\213\225NULL") \
    X( 50, CORE, "\363\213\027\203G\323\326bl\215k") \
    X( 51, CORE, "\363\213\214\022\374\227\363\326l\221g\020\363 \342 l\211g\204 255.") \
    X( 52, CORE, "\363\213\214\022\374\227\363 \314ta\207\202\034\303g\233\375h\331\321t\203s\226\352ow\353\221l" \
        "\217^[%%|a-zA-Z0-9_-]+$") \
    X( 53, CORE, "\363\213\027\203G\323\375\275\265e\230\233 DEFAULT_PRODUC\312\226p\303as\200\022f\217\215o\204" \
        "\224\221e.") \
    X( 54, CORE, "\306\223_\003\321e\213cu\247\217\236NO_NAM\366PACE") \
    X( 55, NAMESPACE, "\306\223_\003\321e\213w\215\201a\201mos\201125\375h\331\321t\203\202\251^[|a-zA-Z0-9_-]*$\262" \
        "\304'%%'\213i\201\004\202\214\306\237p\321e)") \
    X( 56, CORE, "\306\237rv_\373\213w\215\201\042\376\250:\336;\376\250:\336\042 \270 a\201mos\201\273NAM\366RV " \
        "\211tri\210") \
    X( 57, CORE, "\207\250\215ce_\306\223\302\007\201\215\212a\201mos\20164\371\210") \
    X( 58, CORE, "un\350_\306\223\213a\201mos\20132\371\210") \
    X( 59, CORE, "c\234\245e_\260_key\302\216\026i\212\367\306\223") \
    X( 60, CORE, "de\362ult_\260_\325e_nu\365\006\3571024") \
    X( 61, CORE, "\033_\240\223\036_\365\006\3572^30") \
    X( 62, CORE, "\234try_\240\237\3610\35715") \
    X( 63, CORE, "\234try_\240\237_async\3610\35715") \
    X( 64, CORE, "\342_\264e_\372ze\006 \215\212\273FRAME_BYT\366 l\210\202\273HEAD\312_BYT\366") \
    X( 65, CORE, "he\331t\014\245_\207t\203\026_\365\0060\35760000\262\002\202d\206p \216c\360\211\201\372l\211" \
        "\201\277120 s)") \
    X( 66, CORE, "po\355_\306\237rv_\207t\203\026_\365\0060\3572^30") \
    X( 67, CORE, "api_\240\223\036_\365\006\3572^30") \
    X( 68, CORE, "\347t_\240\223\036_\365\006\3572^30") \
    X( 69, CORE, "\342_\032\256\006\357\273PENDING") \
    X( 70, CORE, "\342_\032\256_\322\210\302a\201\303as\201\342_\264e_\372ze") \
    X( 71, LINGER, "l\256\203_\242\302a\201mos\2011000000\2621 s)") \
    X( 72, CORE, "\346i\233ize\302\236S\312IALIZE_JS\031\024\236S\312IALIZE_ROCKET\232") \
    X( 73, CORE, "\346i\233ize\213b\207\331\217he\301\203\202\331\200cu\247\217\236NO_BINARY_HEAD\312") \
    X( 74, CORE, "l\215gu\253e\302\216L\215gu\253eC\315\200\2514.9\2620\35712)") \
    X( 75, CORE, "l\245\211cy_\362ult_\211ab\303\226tr\321e_\211ab\303\213fe\245ur\200c\025") \
    X( 76, TRACE, "l\245\211cy_\362ult_\211ab\303\213cu\247\217\236NO_LATENCY_FAULT") \
    X( 77, LATENCY_FAULT, "tr\321e_\211ab\303\213cu\247\217\236NO_TRACE") \
    X( 78, LATENCY_FAULT, "l\245\211cy_\342_\365\276\201\265d\243\234a\007\226\215\212ev\203\217\220t_ava\034ab\303_\013ra" \
        "\240\221_m\202\274\266\014\016w 2^30") \
    X( 79, CORE, "\373_\001\203_url\213\214\373\210\202\001\224\225cu\247\217\236NO_ADDR_S\312V\312") \
    X( 80, ADDR_SERVER, "\373_\001\203_url\213w\215\201http://\376\250[:\336]/pa\204") \
    X( 81, NAMESPACE, "\340\022\374\227\367%s\326l\221g\020\367\342 l\211g\204 127 \270 \350\202\306\237p\321\200(%s%%%" \
        "s)") \
    X( 82, CORE, "\214\211\010\227\313\030\240\354\370ce\227%d\371\210\226\214\002'\202\360m\350") \
    X( 83, CORE, "\364\214\313\030\240\210") \
    X( 84, NAMESPACE, "\306\237rv_\373\213\214\306\237p\321\200\251\207\250\215c\200\004po\207\201%s\326l\221g\020125" \
        "\371\210") \
    X( 85, NAMESPACE, "\363\213%s%%%s\226\214\363 \270 \350\202\306\237p\321e\226\225l\221g\020\363 \342 l\211g\204 255" \
        ".") \
    X( 86, CORE, "\340\027\224\363[%s] h\320\014\211\375\234\245\227\014\011e\226\022f\217\215o\204\224\306\035p" \
        "\303a\007.") \
    X( 87, CORE, "\214c\360\211\201\207\250\215c\200%s \233\234\301\217h\320\273PRODUC\312S\262%d) \027\203s") \
    X( 88, CORE, "\364\216\033") \
    X( 89, CORE, "\367%s\213\214\257\017tabl\200\225fu\355\262\273TOPICS %d)") \
    X( 90, CORE, "\340\027\224\001\241\200\250\245\200\265\005\226\311yb\200\250\331t\227\221ce\226%s") \
    X( 91, CORE, "NAM\366RV_ADDR\213w\215\201\042\376\250:\336;\376\250:\336\042") \
    X( 92, CORE, "c\215\265c\234\245\200\214c\360\211\201\207\250\215ce\213%s") \
    X( 93, CORE, "\340\022\374\227\260\326bl\215k") \
    X( 94, CORE, "\340\022\374\227\260\326l\221g\020\367\342 l\211g\204 127.") \
    X( 95, CORE, "\340\022\374\227\260[%s] \314ta\207\202\034\303g\233\375h\331\321t\203s\226\352ow\353\221l\217^[" \
        "%%|a-zA-Z0-9_-]+$") \
    X( 96, CORE, "S\004\353\317\305\260[%s]\326\011bidd\211.") \
    X( 97, CORE, "\242\224\313\030\240\354\331\200cu\247\217\236NO_PROP\312TI\366") \
    X( 98, PROPERTIES, "\340\306\035\231\026u\200\251\313\030ty%s%s\326bl\215k") \
    X( 99, PROPERTIES, "\340\313\030t\217%s \376ld\202\2160x01\0240x02\371e\226\214\007p\331\245\205\202\251\214\313\030" \
        "t\217\250r\256") \
    X(100, PROPERTIES, "\340P\206\030ty<%s>\326\242\227b\217sy\250em") \
    X(101, CORE, "\214t\253\202\376l\212\2160x01\0240x02\371e") \
    X(102, CORE, "\214key\202\376l\212\2160x01\0240x02\371e") \
    X(103, CORE, "\214\317\225nu\355") \
    X(104, CORE, "\214\317b\315\217\225nu\355") \
    X(105, CORE, "\214\317b\315\217l\211g\204\326z\203o") \
    X(106, CORE, "\214\317b\315\217\372z\200ov\224\342 \026ue\226\255\213%u") \
    X(107, CORE, "\340\027\224\001\241\200\250\245\200\265\005\226%s") \
    X(108, CORE, "\216b\016ck\353\015 w\320m\301\200f\206m \207\372d\200\216\300\212\015b\321k") \
    X(109, CORE, "\364\216%u-\322\200b\315y") \
    X(110, CORE, "\340\367\251\214\264\354\271\221\200\037ch \351\246l\212b\200\214sa\223") \
    X(111, CORE, "Ti\223DelayLevel\326\265sup\336\227\277\037ch\256") \
    X(112, TIMER, "\240m\224\264\354\331\200\265sup\336\227\277\037ch\256") \
    X(113, CORE, "Retr\217G\323\326\265sup\336\227\277\037ch\256") \
    X(114, CORE, "\340wa\350St\205eMsg\005 \251\214\264\354\271\221\200\037ch \351\246l\212\214sa\223") \
    X(115, CORE, "\317%u\213\214\211\010\227\313\030\240\354\370ce\227%d\371\210") \
    X(116, CORE, "\364\214\313\030\240\354\251\317%u") \
    X(117, CORE, "\214\211\010\227\037ch \370ceed\202\214\317b\315\217\372z\200\342 \026ue\226\255\213%u") \
    X(118, CORE, "\364\214\211\010\227\037ch") \
    X(119, CORE, "S\211\212[%d] \240\237\226s\240\355 \362i\303d\226cos\201[%u]\365\226To\252\213%s\213%r") \
    X(120, CORE, "\310\224%s \215sw\203\227%s\262%d)\213%R") \
    X(121, CORE, "\304pub\360\351 \325e") \
    X(122, SELECTOR_OR_ADMIN, "\340\002[%s] \265\370i\250") \
    X(123, CORE, "\340\002[%s] \265\370is\201(\304\311\250\224\373\210s)") \
    X(124, SELECTOR, "\364\214\007l\243t\205'\202\325\200\360\250") \
    X(125, SELECTOR, "\007l\243\201\317\325\200\234turn nu\355.\262\214\007l\243t\231\234turn\227%d \251%u \325\210)") \
    X(126, CORE, "\304\377\201s\016\201f\234\227\327\214\033'\202%u m\202(\273INFLIGHT %d)") \
    X(127, CORE, "\033De\362ultImpl\375\352 \240\223\036\213\304\257\017\277\367%s \327%u m\202(\306\035\001\203" \
        "\202%s)") \
    X(128, CORE, "po\355 w\320\015\227f\206m \207\372d\200\216\300\212\015b\321k") \
    X(129, CORE, "fl\242h\213%u \033\202s\240\355 \032\353aft\224%u \365") \
    X(130, ONEWAY, "\216\221ewa\217\300\212\362i\303d\213%r") \
    X(131, CORE, "\304\317giv\211") \
    X(132, CORE, "\304r\210ul\201giv\211") \
    X(133, CORE, "\304\015b\321k giv\211") \
    X(134, SELECTOR, "\304\007l\243t\231giv\211") \
    X(135, SELECTOR, "\216\037ch\375\215\265\242\200\216\007l\243t\205") \
    X(136, SELECTOR, "\304\325\200giv\211") \
    X(137, SELECTOR, "\264e'\202\367\265e\230\233 mq'\202\260") \
    X(138, CORE, "%u \033\202\331\200\032\256\262\342_\032\256); po\355\024fl\242h \374r\250") \
    X(139, CORE, "%u\371\354\331\200\032\256\262\342_\032\256_\322\354%u); po\355\024fl\242h \374r\250") \
    X(140, SELECTOR_OR_ADMIN_OR_REQUEST, "\367%s\213\214\257\017\230\203\217\240\223\212\036") \
    X(141, SELECTOR_OR_ADMIN_OR_REQUEST, "\304\036pu\201giv\211") \
    X(142, SELECTOR, "\367%s h\320%u \325\210\226\272\200\333cap") \
    X(143, TRANSACTION, "Tr\215s\321\240\221Li\250\211\224\225nu\355") \
    X(144, ADMIN, "%s\012%s \265\300t\213%r") \
    X(145, ADMIN, "%s\012%s \362i\303d\213%r") \
    X(146, ADMIN, "%s\012%s \362i\303d\213%s") \
    X(147, ADMIN, "%s\213\310\224%s \215sw\203\227%s\262%d)\213%R") \
    X(148, ADMIN_OR_REQUEST, "\304\344\216\317\251%u\371\210") \
    X(149, CORE, "\214\027\224w\320\351u\201down \014\011\200\214\300\212comp\303ted") \
    X(150, CORE, "\351\025down w\320\015\227f\206m \207\372d\200\216\300\212\015b\321k") \
    X(151, THREADS, "d\210t\206\217w\320\015\227f\206m \207\372d\200\216\300\212\015b\321k") \
    X(152, ADMIN, "\364\214\257te'\202\002s") \
    X(153, ADMIN, "\364\234\301\353\216\257te") \
    X(154, ADMIN, "c\234\245\200new \367\362i\303d\213\306\035\001\224%s h\320\304\257\017\251%s\262%s)") \
    X(155, ADMIN, "No \306\035\001\224\373\210s\226p\303as\200\007\201\350") \
    X(156, ADMIN, "\214ke\217\260\326bl\215k\024l\221g\020127") \
    X(157, ADMIN, "\340\260[%s]\326\314fl\241\201\270 sy\250em \260.") \
    X(158, ADMIN, "\325e_num %d\006\357\273QUEU\366\262%d)") \
    X(159, ADMIN, "No\201f\246n\212\002\226\311yb\200ke\217\225w\206ng\262ke\217%s)") \
    X(160, ADMIN, "\214\215sw\203'\202%s\326miss\353\231\265\216numb\203") \
    X(161, ADMIN, "%s\213\216\325\200(\260\226\310\224\306\223\226\325\200i\212>= 0) \215\212\275\036pu\201\331\200" \
        "needed") \
    X(162, ADMIN, "%s\213\367%s\326l\221g\020127 \270 \350\202\306\237p\321e") \
    X(163, ADMIN, "\214\250\205\227\317\251%u\371\354\225m\233\011\223d") \
    X(164, ADMIN, "%s\326\265\275off\007\201\317i\212(32\02456 h\370 dig\350s\213\250\205\200\376\250\226\336\226co" \
        "mm\350-\016g off\007t)") \
    X(165, ADMIN, "\304\344%u \230\203\217r\210ults") \
    X(166, ADMIN, "\214\250\205\227\317a\247\316\200%u \251%u\326m\233\011\223d") \
    X(167, ADMIN, "QU\312Y_M\366SAGE\012%s \265\300t\213%r") \
    X(168, ADMIN, "QU\312Y_M\366SAGE\012%s \362i\303d\213%r") \
    X(169, ADMIN, "QU\312Y_M\366SAGE\012%s \362i\303d\213%s") \
    X(170, ADMIN, "\230\203\217\317b\217ke\217f\207i\351ed\226bu\201\304\317(QU\312Y_NOT_FOUND\226%d)") \
    X(171, ADMIN, "\304\344\216\230\203y") \
    X(172, ADMIN, "\367%s\213\304\310\224\373\210\202\271\350\202\257te") \
    X(173, ADMIN, "\216\230\203\217need\202\275\036p\025\226\216ke\217\215\212\342_num > 0") \
    X(174, ADMIN, "\304\317i\212\231\036pu\201giv\211") \
    X(175, ADMIN, "%s\326\265\216\317i\212(32\02456 h\370 dig\350s)") \
    X(176, REQUEST, "\300\212\377\201\317\305<%s> \005\226bu\201wai\201\234pl\217\317\240\223\036\226%u \365.") \
    X(177, REQUEST, "\300\212\377\201\317\305<%s> \362\034\213\304\215sw\224\305\214\300\212\327\214\377t'\202%u \365") \
    X(178, REQUEST, "\214\027\224w\320\351u\201down \014\011\200\214\234pl\217\305\214\377\201\221 %s\375a\223") \
    X(179, REQUEST, "\300\212\377\201\317\305<%s> \362\034\213%r") \
    X(180, REQUEST, "\304\234pl\217giv\211") \
    X(181, REQUEST, "%u \377t\202wai\201\277\204eir \234pl\217(\273REQU\366TS %d)") \
    /* end of RMQ__REASON_PACKED */
/* -- end of the packed reasons -- */

/* The packed templates in code order, one char array each (no literal over
 * the 4095 bytes C99 promises), end to end without padding (checked below),
 * so code n's template is the n-th NUL-terminated text from the start: it
 * is found by walking, which a failure can afford, rather than through a
 * table of offsets, which would cost two bytes a code. */
#define RMQ__REASON_ROOM(n, cut, text) char t##n[sizeof RMQ__IN_##cut(text)];
#define RMQ__REASON_TEXT(n, cut, text) RMQ__IN_##cut(text),
#define RMQ__REASON_SIZE(n, cut, text) + sizeof RMQ__IN_##cut(text) /* NOLINT(bugprone-macro-parentheses): a term of a sum */
#define RMQ__REASON_PACKED_PLACE(n, cut, text) rmq__packed_##n,
static const struct rmq__reason_table { RMQ__REASON_PACKED(RMQ__REASON_ROOM) } rmq__reason_texts = { RMQ__REASON_PACKED(RMQ__REASON_TEXT) };
static const unsigned char rmq__reason_pairs[] = RMQ__REASON_PAIRS;
typedef char rmq__reason_table_unpadded[sizeof(struct rmq__reason_table) == 0 RMQ__REASON_PACKED(RMQ__REASON_SIZE) ? 1 : -1];
/* A code appended to RMQ_REASONS needs its packed line: run tools/gen_reasons.py. */
enum rmq__reason_packed_place { RMQ__REASON_PACKED(RMQ__REASON_PACKED_PLACE) rmq__packed_count };
typedef char rmq__reason_table_packed_from_the_list[(int)rmq__packed_count == (int)RMQ_R__COUNT ? 1 : -1];

/* Code's packed template; NULL for a code this build does not know. */
RMQ__FN const char *rmq__reason_template(unsigned code)
{
    const char *t = (const char *)&rmq__reason_texts;
    if (code >= RMQ_R__COUNT) return NULL;
    for (; code; code--) t += RMQ_STRLEN(t) + 1;
    return t;
}

/* Writes the characters byte c of a packed template stands for: itself,
 * or for a token (tools/gen_reasons.py) the two symbols of its pair, each
 * expanded in turn, on a stack as deep as the generator nests pairs (a
 * token past the pairs or the depth, which the generator never writes, is
 * written as it is). */
RMQ__FN void rmq__reason_expand(rmq__sb *b, unsigned char c)
{
    unsigned char stack[RMQ__REASON_PAIR_DEPTH];
    unsigned n = 0, at;
    for (;;) {
        at = 2u * (c >= 0x80 ? c - 0x80u : c + 0x7fu);
        if ((c < 0x20 || c >= 0x80) && at < sizeof rmq__reason_pairs - 1 && n < RMQ__REASON_PAIR_DEPTH) {
            stack[n++] = rmq__reason_pairs[at + 1];
            c = rmq__reason_pairs[at];
            continue;
        }
        rmq__sb_putn(b, (const char *)&c, 1);
        if (!n) return;
        c = stack[--n];
    }
}

/* Keeps n bytes of an argument, cut to the room left: a text cut so
 * has no NUL, which tells the renderer where the arguments end. */
RMQ__FN void rmq__why_put(rmq_reason *r, const void *arg, size_t n)
{
    size_t room = sizeof r->args - r->len;
    if (n > room) n = room;
    RMQ_MEMCPY(r->args + r->len, arg, n);
    r->len = (unsigned short)(r->len + n);
}

/* Takes the arguments code's template names. A %r reason's codes and
 * arguments follow in place, so rendering walks them in the same order;
 * a template puts %r after its other arguments, and what is past
 * RMQ_REASON_DEPTH codes is dropped with its arguments. The %r reason
 * is another object than r (r is reset first). */
RMQ__FN void rmq__vwhy(rmq_reason *r, int code, va_list ap)
{
    const char *f = rmq__reason_template((unsigned)code), *t;
    const rmq_reason *in;
    int32_t v;
    unsigned i;
    r->code[0] = (unsigned char)code;
    for (i = 1; i < RMQ_REASON_DEPTH; i++) r->code[i] = RMQ_R_NONE;
    r->len = 0;
    for (; f && *f; f++) {
        if (*f != '%' || !f[1]) continue;
        switch (*++f) {
        case 's':
            t = va_arg(ap, const char *);
            if (!t) t = "(null)";
            rmq__why_put(r, t, RMQ_STRLEN(t) + 1);
            break;
        case 'd': v = va_arg(ap, int); rmq__why_put(r, &v, 4); break;
        case 'u': v = (int32_t)va_arg(ap, unsigned); rmq__why_put(r, &v, 4); break;
        case 'r':
            in = va_arg(ap, const rmq_reason *);
            if (!in || !in->code[0]) break;
            for (i = 1; i < RMQ_REASON_DEPTH; i++) r->code[i] = in->code[i - 1];
            rmq__why_put(r, in->args, in->len);
            break;
        default: break;
        }
    }
}

RMQ__FN void rmq__why(rmq_reason *r, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    rmq__vwhy(r, code, ap);
    va_end(ap);
}

/* Renders r, with remark for its %R (the broker's remark, kept apart). The
 * nesting is the codes', bounded by RMQ_REASON_DEPTH: no peer text is
 * ever read as a template. */
RMQ__FN void rmq__reason_put(rmq__sb *b, const rmq_reason *r, const char *remark)
{
    char num[24];
    const char *ret[RMQ_REASON_DEPTH];
    const char *f = rmq__reason_template(r->code[0]), *in;
    const unsigned char *a = r->args, *end = r->args + r->len;
    unsigned depth = 0;
    int32_t v;
    size_t n;
    if (!r->code[0]) return;
    if (!f) { rmq__reason_number(b, r->code[0]); return; }
    for (;;) {
        if (!*f) {
            if (!depth) break;
            f = ret[--depth];
            continue;
        }
        if (*f != '%' || !f[1]) { rmq__reason_expand(b, (unsigned char)*f++); continue; }
        f += 2;
        switch (f[-1]) {
        case 's':
            for (n = 0; a + n < end && a[n]; n++) {}
            rmq__sb_putn(b, (const char *)a, n);
            a += a + n < end ? n + 1 : n;
            break;
        case 'd': case 'u':
            if (end - a < 4) { a = end; break; }
            RMQ_MEMCPY(&v, a, 4);
            a += 4;
            if (f[-1] == 'd') rmq__sb_putn(b, num, rmq__i64_to_dec(num, v));
            else rmq__sb_putn(b, num, rmq__u64_to_dec(num, (uint32_t)v));
            break;
        case 'r':
            in = depth + 1 < RMQ_REASON_DEPTH && r->code[depth + 1] ? rmq__reason_template(r->code[depth + 1]) : NULL;
            if (in) { ret[depth++] = f; f = in; }
            break;
        case 'R': if (remark) rmq__sb_puts(b, remark); break;
        default: rmq__sb_putn(b, f - 1, 1); break;
        }
    }
}
#endif

RMQ__FN const char *rmq__reason_text(const rmq_reason *r, const char *remark, char *buf, size_t len)
{
    rmq__sb b;
    rmq__sb_init(&b, buf, len);
    rmq__reason_put(&b, r, remark);
    return buf;
}

static int rmq__starts_with(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix) { s++; prefix++; }
    return *prefix == 0;
}

RMQ__FN int rmq__slice_eq(rmq_slice s, const char *lit)
{
    size_t n = RMQ_STRLEN(lit);
    return s.ptr && s.len == n && RMQ_MEMCMP(s.ptr, lit, n) == 0;
}

RMQ__FN rmq_slice rmq__cslice(const char *s)
{
    rmq_slice r;
    r.ptr = s;
    r.len = s ? RMQ_STRLEN(s) : 0;
    return r;
}

/* -- logging --------------------------------------------------------------- */
/* RMQ__LOG(rm, level, fmt, ...) logs through the port of a remoting layer
 * (section 10), formatting into that layer's line buffer: not on the stack,
 * where a log call would deepen the send path's deepest chain. Every call is
 * made with the instance's lock held, so one buffer serves it. */
#ifdef RMQ_NO_LOG
/* Takes the arguments so that values kept only for logs are still used;
 * the call and its arguments vanish in any optimized build. */
static void rmq__nolog(const rmq_port *port, int level, const char *fmt, ...)
{
    (void)port; (void)level; (void)fmt;
}
#define RMQ__LOG(rm, level, ...) rmq__nolog((rm)->port, (level), __VA_ARGS__)
#else
/* Formats only when the port has a sink: a silent build pays one test. */
RMQ__FN void rmq__log(const rmq_port *port, char *line, size_t cap, int level, const char *fmt, ...)
{
    rmq__sb b;
    va_list ap;
    if (!port || !port->log) return;
    rmq__sb_init(&b, line, cap);
    va_start(ap, fmt);
    rmq__vfmt(&b, fmt, ap);
    va_end(ap);
    port->log(port->ctx, level, line);
}
#define RMQ__LOG(rm, level, ...) rmq__log((rm)->port, (rm)->log_line, sizeof (rm)->log_line, (level), __VA_ARGS__)
#endif

/* -- freed blocks kept for reuse (RMQ_FREE_LIST_BLOCKS) ------------------ */
#if RMQ_FREE_LIST_BLOCKS > 0
/* Blocks are sized in steps of RMQ__STASH_STEP, so the sends of one
 * workload share a few sizes; each size a list of kept blocks (a free
 * block's first word links it), up to RMQ_FREE_LIST_BLOCKS long. A block
 * starts with its size, for its way back. */
#define RMQ__STASH_BINS 3
#define RMQ__STASH_STEP 64u
#define RMQ__STASH_HEAD ((sizeof(size_t) + 7u) & ~(size_t)7u)   /* keeps the block 8-aligned */

typedef struct rmq__stash_bin {
    void *head;
    size_t size;
    uint32_t n;
} rmq__stash_bin;

typedef struct rmq__stash {
    rmq__stash_bin bin[RMQ__STASH_BINS];
} rmq__stash;

RMQ__FN void *rmq__stash_take(rmq__stash *st, void *mem, size_t n)
{
    size_t size = (n + RMQ__STASH_STEP - 1u) & ~(size_t)(RMQ__STASH_STEP - 1u);
    uint8_t *blk;
    int i;
    for (i = 0; i < RMQ__STASH_BINS; i++) {
        rmq__stash_bin *bin = &st->bin[i];
        if (bin->size == size && bin->head) {
            blk = (uint8_t *)bin->head;
            RMQ__COPY_FIXED(&bin->head, blk + RMQ__STASH_HEAD, sizeof bin->head);
            bin->n--;
            return blk + RMQ__STASH_HEAD;
        }
    }
    if (!(blk = (uint8_t *)RMQ_MALLOC(mem, RMQ__STASH_HEAD + size))) return NULL;
    RMQ__COPY_FIXED(blk, &size, sizeof size);
    return blk + RMQ__STASH_HEAD;
}

/* Keeps the block in the list of its size (or in an empty list, which then
 * takes its size) unless that list is full. */
RMQ__FN void rmq__stash_give(rmq__stash *st, void *mem, void *p)
{
    uint8_t *blk = (uint8_t *)p - RMQ__STASH_HEAD;
    rmq__stash_bin *bin = NULL;
    size_t size;
    int i;
    RMQ__COPY_FIXED(&size, blk, sizeof size);
    for (i = 0; i < RMQ__STASH_BINS && size <= RMQ_FREE_LIST_MAX_BYTES; i++) {
        if (st->bin[i].size == size) { bin = &st->bin[i]; break; }
        if (!st->bin[i].n && !bin) bin = &st->bin[i];
    }
    if (!bin || bin->n >= RMQ_FREE_LIST_BLOCKS) { RMQ_FREE(mem, blk); return; }
    bin->size = size;
    RMQ__COPY_FIXED(blk + RMQ__STASH_HEAD, &bin->head, sizeof bin->head);
    bin->head = blk;
    bin->n++;
}

/* At destroy: a pool is empty after it. */
RMQ__FN void rmq__stash_empty(rmq__stash *st, void *mem)
{
    int i;
    for (i = 0; i < RMQ__STASH_BINS; i++) {
        rmq__stash_bin *bin = &st->bin[i];
        while (bin->head) {
            uint8_t *blk = (uint8_t *)bin->head;
            RMQ__COPY_FIXED(&bin->head, blk + RMQ__STASH_HEAD, sizeof bin->head);
            RMQ_FREE(mem, blk);
        }
        bin->n = 0;
    }
}
#else
typedef struct rmq__stash { uint8_t unused; } rmq__stash;
#define rmq__stash_take(st, mem, n) ((void)(st), RMQ_MALLOC(mem, n))
#define rmq__stash_give(st, mem, p) ((void)(st), RMQ_FREE(mem, p))
#define rmq__stash_empty(st, mem) ((void)(st), (void)(mem))
#endif

/* -- wrap-safe time ------------------------------------------------------ */
/* The port's clock may be 32 bits and wrap; every interval stays below
 * 2^31 ms, so the sign of the difference orders two instants. */
static int32_t rmq__tdiff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static int rmq__reached(uint32_t now, uint32_t deadline) { return rmq__tdiff(now, deadline) >= 0; }


/* ======================================================================== */
/* 9. Codec                                                                  */
/* ======================================================================== */
/* Pure: bytes in, structs out. No I/O; allocation only in rmq__buf, bounded
 * by the limit each buffer is given. */

/* -- byte buffer --------------------------------------------------------- */
typedef struct rmq__buf {
    uint8_t *p;
    size_t len, cap, limit;
    void *mem;
    uint8_t failed;         /* an append did not fit (why: RMQ__BUF_*): the content is invalid */
    uint8_t borrowed;       /* p is room inside another block: never freed */
} rmq__buf;

enum { RMQ__BUF_NO_MEMORY = 1, RMQ__BUF_OVER_LIMIT = 2 };   /* why it failed */

RMQ__FN void rmq__buf_init(rmq__buf *b, void *mem, size_t limit)
{
    b->p = NULL; b->len = 0; b->cap = 0; b->limit = limit; b->mem = mem; b->failed = 0;
    if (RMQ__FAST_PATH) b->borrowed = 0;
}

#define RMQ__ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define RMQ__BORROWED(b) (RMQ__FAST_PATH && (b)->borrowed)

/* Starts b in cap bytes of room the caller owns (part of one allocation
 * with its owner); it moves to its own block only if it outgrows them. */
RMQ__FN void rmq__buf_borrow(rmq__buf *b, void *room, size_t cap)
{
    b->p = (uint8_t *)room;
    b->cap = cap < b->limit ? cap : b->limit;
    b->borrowed = 1;
}

RMQ__FN void rmq__buf_free(rmq__buf *b)
{
    if (b->p && !RMQ__BORROWED(b)) RMQ_FREE(b->mem, b->p);
    b->p = NULL; b->len = b->cap = 0;
    if (RMQ__FAST_PATH) b->borrowed = 0;
}

/* Makes room for n more bytes; grows geometrically up to the limit. */
RMQ__FN int rmq__buf_reserve(rmq__buf *b, size_t n)
{
    size_t want, ncap;
    uint8_t *np;
    if (b->failed) return -1;
    if (n <= b->cap - b->len) return 0;
    if (n > b->limit || b->len > b->limit - n) { b->failed = RMQ__BUF_OVER_LIMIT; return -1; }
    want = b->len + n;
    /* The first block is what is asked (64 at least): a body put whole
     * takes its own bytes, not the next power of two. */
    ncap = b->cap ? b->cap : want > 64 ? want : 64;
    while (ncap < want) ncap = ncap > b->limit / 2 ? b->limit : ncap * 2;
    np = (uint8_t *)RMQ_MALLOC(b->mem, ncap);
    if (!np) { b->failed = RMQ__BUF_NO_MEMORY; return -1; }
    if (b->len) RMQ_MEMCPY(np, b->p, b->len);
    if (b->p && !RMQ__BORROWED(b)) RMQ_FREE(b->mem, b->p);
    if (RMQ__FAST_PATH) b->borrowed = 0;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* The room check comes first, so the common append makes no call; a
 * failed buffer may take bytes it has room for, but stays failed. */
RMQ__FN void rmq__buf_put(rmq__buf *b, const void *d, size_t n)
{
    if (n > b->cap - b->len && rmq__buf_reserve(b, n)) return;
    if (n) RMQ_MEMCPY(b->p + b->len, d, n);
    b->len += n;
}

#if defined(RMQ_NO_FAST_PATH) || !defined(RMQ_NO_TRACE)
RMQ__FN void rmq__buf_puts(rmq__buf *b, const char *s) { rmq__buf_put(b, s, RMQ_STRLEN(s)); }
#endif
RMQ__FN void rmq__buf_putc(rmq__buf *b, char c) { rmq__buf_put(b, &c, 1); }

static void rmq__be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static uint32_t rmq__be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint16_t rmq__be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

/* -- JSON writer --------------------------------------------------------- */
#ifndef RMQ_NO_FAST_PATH
/* The bytes a JSON string cannot hold as they are (control bytes, '"' and
 * '\\'), by table: one load instead of three compares per byte. */
static const uint8_t rmq__json_special_tab[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
#define RMQ__JSON_SPECIAL(c) (rmq__json_special_tab[c])
#else
#define RMQ__JSON_SPECIAL(c) ((c) < 0x20 || (c) == '"' || (c) == '\\')
#endif

#ifdef RMQ_NO_FAST_PATH
/* Escapes what JSON requires; control bytes as \u00XX, as fastjson writes
 * the 0x01/0x02 separators of a property string. UTF-8 passes through. The
 * small writer, piece by piece. */
RMQ__FN RMQ__UNUSED void rmq__json_str(rmq__buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    rmq__buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        rmq__buf_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') { char e[2]; e[0] = '\\'; e[1] = (char)c; rmq__buf_put(b, e, 2); }
        else { char e[6]; e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
               e[4] = hex[c >> 4]; e[5] = hex[c & 15]; rmq__buf_put(b, e, 6); }
    }
    rmq__buf_put(b, s + run, n - run);
    rmq__buf_putc(b, '"');
}

#else
/* Escapes what JSON requires; control bytes as \u00XX, as fastjson writes
 * the 0x01/0x02 separators of a property string. UTF-8 passes through. A
 * string takes at most 6 bytes per byte plus its quotes; rmq__json_esc
 * writes into room the caller made, a word at a time up to the next byte
 * that needs an escape. */
#define RMQ__JSON_STR_MAX(n) (6 * (n) + 2)

/* Nonzero when a byte of w is below 0x20, '"' or '\\' (the bit tricks
 * "hasless" and "haszero" of a word). */
static size_t rmq__json_word_special(size_t w)
{
    const size_t ones = (size_t)-1 / 255, highs = ones * 128;
    size_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
}

/* The first byte of s that needs an escape, given the word_special mask m
 * of the word at s (nonzero). The lowest flagged byte of the bit tricks is
 * exact (a false flag only sits above a true one, where a borrow ran), so
 * on a little-endian machine it is the first in memory; elsewhere the
 * word's bytes are looked at until the one that is there. */
static size_t rmq__json_first_special(const char *s, size_t m)
{
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)s;
    return (size_t)__builtin_ctzll((unsigned long long)m) >> 3;
#else
    size_t k = 0;
    (void)m;
    while (!RMQ__JSON_SPECIAL((unsigned char)s[k])) k++;
    return k;
#endif
}

/* A word at a time: a word is copied whole, then the output moves on only
 * past its bytes before the first special one (the rest are written again:
 * what follows needs at least as many bytes, so the room is there). A
 * property string's separators cost one step each, not its every byte. */
RMQ__FN size_t rmq__json_esc_in(uint8_t *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t *o = out;
    size_t i = 0;
    while (i < n) {
        unsigned char c;
        if (n - i >= sizeof(size_t)) {
            size_t w, m, k;
            RMQ_MEMCPY(&w, s + i, sizeof w);
            RMQ_MEMCPY(o, &w, sizeof w);
            m = rmq__json_word_special(w);
            if (!m) { o += sizeof w; i += sizeof w; continue; }
            k = rmq__json_first_special(s + i, m);
            o += k;
            i += k;
        } else if (!RMQ__JSON_SPECIAL((unsigned char)s[i])) {
            *o++ = (uint8_t)s[i++];
            continue;
        }
        c = (unsigned char)s[i++];
        *o++ = '\\';
        if (c == '"' || c == '\\') { *o++ = c; continue; }
        o[0] = 'u'; o[1] = '0'; o[2] = '0'; o[3] = (uint8_t)hex[c >> 4]; o[4] = (uint8_t)hex[c & 15];
        o += 5;
    }
    return (size_t)(o - out);
}

/* The same, quoted. */
RMQ__FN size_t rmq__json_esc(uint8_t *out, const char *s, size_t n)
{
    size_t k = 1 + rmq__json_esc_in(out + 1, s, n);
    out[0] = '"';
    out[k] = '"';
    return k + 1;
}

/* The escaped length of a string, quotes included. */
RMQ__FN size_t rmq__json_esc_len(const char *s, size_t n)
{
    size_t i = 0, len = 2 + n;
    while (i < n) {
        unsigned char c;
        if (n - i >= sizeof(size_t)) {
            size_t w, m;
            RMQ_MEMCPY(&w, s + i, sizeof w);
            m = rmq__json_word_special(w);
            if (!m) { i += sizeof w; continue; }
            i += rmq__json_first_special(s + i, m);
        } else if (!RMQ__JSON_SPECIAL((unsigned char)s[i])) {
            i++;
            continue;
        }
        c = (unsigned char)s[i++];
        len += c < 0x20 ? 5 : 1;
    }
    return len;
}

RMQ__FN RMQ__UNUSED void rmq__json_str(rmq__buf *b, const char *s, size_t n)
{
    if (rmq__buf_reserve(b, rmq__json_esc_len(s, n))) return;
    b->len += rmq__json_esc(b->p + b->len, s, n);
}
#endif

/* -- JSON pull reader ---------------------------------------------------- */
/* A cursor over one JSON text, read in place: the caller asks for the next
 * member or element and reads or passes over its value, so a header or a
 * route body goes straight where it is kept, with no token array (a pull
 * reader, as a SAX one without the callbacks). Iterative; nesting held to
 * RMQ_MAX_JSON_DEPTH, one bit per open container saying which kind. Strict
 * JSON, plus, on purpose, fastjson's unquoted integer map keys
 * ({0:"a:1"}), which name servers older than 4.9.4 send in brokerAddrs.
 * Primitives (numbers, true, false, null) are checked loosely: the callers
 * parse the numbers they need. The first fault sticks: every call after it
 * fails, so a caller checks once. */
enum { RMQ__JR_BAD = -1, RMQ__JR_STRING = 1, RMQ__JR_PRIM, RMQ__JR_OBJECT, RMQ__JR_ARRAY };
enum { RMQ__JR_EINVAL = 1, RMQ__JR_EDEPTH };

typedef struct rmq__jr {
    char *s;                /* writable: strings are unescaped in place */
    size_t len, at;
    int depth;              /* containers open */
    uint8_t fresh;          /* a container just opened: no comma before its first item */
    uint8_t esc;            /* the string read last holds backslash escapes */
    uint8_t err;            /* 0, or the first fault: RMQ__JR_EINVAL, RMQ__JR_EDEPTH */
    uint8_t arrays[RMQ_MAX_JSON_DEPTH / 8 + 1];   /* bit d: container d is an array */
} rmq__jr;

RMQ__FN void rmq__jr_init(rmq__jr *r, char *s, size_t len)
{
    RMQ_MEMSET(r, 0, sizeof *r);
    r->s = s;
    r->len = len;
}

RMQ__FN int rmq__jr_fail(rmq__jr *r, int err)
{
    if (!r->err) r->err = (uint8_t)err;
    return RMQ__JR_BAD;
}

/* Moves past blanks; whether a byte is left (and no fault is held). */
RMQ__FN int rmq__jr_blanks(rmq__jr *r)
{
    while (r->at < r->len && (r->s[r->at] == ' ' || r->s[r->at] == '\t' || r->s[r->at] == '\r' || r->s[r->at] == '\n'))
        r->at++;
    return !r->err && r->at < r->len;
}

/* A hex digit's value; 16 for any other byte. */
static unsigned rmq__hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 32;
    return (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10) : 16u;
}

RMQ__FN int rmq__json_is_prim_char(unsigned char c)
{
    unsigned lower = c | 32u;           /* 'A'..'Z' onto 'a'..'z', and no other byte */
    return (c >= '0' && c <= '9') || (lower >= 'a' && lower <= 'z') || c == '-' || c == '+' || c == '.';
}

/* The string whose opening quote is at the cursor: its raw text (escapes
 * checked, not yet undone: rmq__jr_text) in *v, the cursor past its
 * closing quote. */
RMQ__FN int rmq__jr_string(rmq__jr *r, rmq_slice *v)
{
    size_t i = r->at + 1, from = i;
    for (; i < r->len; i++) {
        unsigned char c = (unsigned char)r->s[i];
        if (c == '"') {
            v->ptr = r->s + from;
            v->len = i - from;
            r->at = i + 1;
            return RMQ__JR_STRING;
        }
        if (c < 0x20) break;
        if (c != '\\') continue;
        r->esc = 1;
        if (++i >= r->len) break;
        c = (unsigned char)r->s[i];
        if (c == 'u') {
            int k;
            for (k = 0; k < 4; k++)      /* bound first, then read */
                if (++i >= r->len || rmq__hexval((unsigned char)r->s[i]) > 15) return rmq__jr_fail(r, RMQ__JR_EINVAL);
        } else {
            const char *e = "\"\\/bfnrt";         /* the one-letter escapes */
            while (*e && (unsigned char)*e != c) e++;
            if (!*e) break;
        }
    }
    return rmq__jr_fail(r, RMQ__JR_EINVAL);
}

/* A string or a primitive at the cursor (a key: a string or an integer). */
RMQ__FN int rmq__jr_scalar(rmq__jr *r, rmq_slice *v, int as_key)
{
    size_t i = r->at, k;
    r->esc = 0;                 /* rmq__jr_text speaks of this scalar, not of a string before it */
    if (r->s[i] == '"') return rmq__jr_string(r, v);
    while (i < r->len && rmq__json_is_prim_char((unsigned char)r->s[i])) i++;
    k = r->at + (as_key && r->s[r->at] == '-');
    if (i == k) return rmq__jr_fail(r, RMQ__JR_EINVAL);
    for (; as_key && k < i; k++)
        if (r->s[k] < '0' || r->s[k] > '9') return rmq__jr_fail(r, RMQ__JR_EINVAL);
    v->ptr = r->s + r->at;
    v->len = i - r->at;
    r->at = i;
    return RMQ__JR_PRIM;
}

/* The next value: a string or a primitive (its raw text in *v), or the
 * opening of an object or an array, entered (its items follow:
 * rmq__jr_next). */
RMQ__FN int rmq__jr_value(rmq__jr *r, rmq_slice *v)
{
    char c;
    int d = r->depth;
    if (!rmq__jr_blanks(r)) return rmq__jr_fail(r, RMQ__JR_EINVAL);
    c = r->s[r->at];
    if (c != '{' && c != '[') return rmq__jr_scalar(r, v, 0);
    if (d >= RMQ_MAX_JSON_DEPTH) return rmq__jr_fail(r, RMQ__JR_EDEPTH);
    if (c == '[') r->arrays[d / 8] |= (uint8_t)(1u << (d % 8));
    else r->arrays[d / 8] &= (uint8_t)~(1u << (d % 8));
    r->depth = d + 1;
    r->at++;
    r->fresh = 1;
    return c == '{' ? RMQ__JR_OBJECT : RMQ__JR_ARRAY;
}

/* Whether the container open at the cursor has another item: 1, past
 * the comma before it and, in an object, past its key (raw, in *key) and
 * colon, its value next; 0, the container closed; or RMQ__JR_BAD. */
RMQ__FN int rmq__jr_next(rmq__jr *r, rmq_slice *key)
{
    int d = r->depth - 1, array;
    char c;
    if (d < 0 || !rmq__jr_blanks(r)) return rmq__jr_fail(r, RMQ__JR_EINVAL);
    array = r->arrays[d / 8] >> (d % 8) & 1;
    c = r->s[r->at];
    if (c == (array ? ']' : '}')) {
        r->at++;
        r->depth = d;
        r->fresh = 0;
        return 0;
    }
    if (!r->fresh) {
        if (c != ',') return rmq__jr_fail(r, RMQ__JR_EINVAL);
        r->at++;
    }
    r->fresh = 0;
    if (array) return 1;
    if (!rmq__jr_blanks(r) || rmq__jr_scalar(r, key, 1) < 0 || !rmq__jr_blanks(r) || r->s[r->at] != ':')
        return rmq__jr_fail(r, RMQ__JR_EINVAL);
    r->at++;
    return 1;
}

/* Passes over the rest of the container entered last, however deep. */
RMQ__FN int rmq__jr_close(rmq__jr *r)
{
    int base = r->depth - 1, t = 1;
    rmq_slice v;
    while (t >= 0 && r->depth > base) {
        t = rmq__jr_next(r, &v);
        if (t > 0) t = rmq__jr_value(r, &v);
    }
    return r->err ? RMQ__JR_BAD : 0;
}

/* Passes over a value just begun (t, what rmq__jr_value returned). */
RMQ__FN int rmq__jr_pass(rmq__jr *r, int t)
{
    return t >= RMQ__JR_OBJECT ? rmq__jr_close(r) : t < 0 ? RMQ__JR_BAD : 0;
}

/* Passes over the next value. */
RMQ__FN int rmq__jr_skip(rmq__jr *r)
{
    rmq_slice v;
    return rmq__jr_pass(r, rmq__jr_value(r, &v));
}

/* The text is read: nothing but blanks is left. */
RMQ__FN int rmq__jr_end(rmq__jr *r)
{
    return rmq__jr_blanks(r) ? rmq__jr_fail(r, RMQ__JR_EINVAL) : r->err ? RMQ__JR_BAD : 0;
}

RMQ__FN size_t rmq__utf8_put(char *out, uint32_t cp)
{
    static const unsigned char lead[5] = { 0, 0, 0xC0, 0xE0, 0xF0 };
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, k;
    for (k = n; --k > 0; cp >>= 6) out[k] = (char)(0x80 | (cp & 63));   /* continuation bytes, last first */
    out[0] = (char)(lead[n] | cp);
    return n;
}

/* The code unit of a \u escape's four hex digits (checked by the scan). */
static uint32_t rmq__hex4(const char *s)
{
    uint32_t v = 0;
    int k;
    for (k = 0; k < 4; k++) v = v << 4 | rmq__hexval((unsigned char)s[k]);
    return v;
}

/* Unescapes a checked string into out (which may be the string itself:
 * the result is never longer). Surrogate pairs become one UTF-8 sequence.
 * Returns the length written. */
RMQ__FN size_t rmq__json_unescape(const char *in, size_t n, char *out)
{
    /* each one-letter escape followed by the byte it stands for */
    static const char pairs[] = "b\bf\fn\nr\rt\t";
    size_t i = 0, o = 0;
    while (i < n) {
        char c = in[i++];
        uint32_t cp;
        int k;
        if (c != '\\') { out[o++] = c; continue; }
        c = in[i++];
        if (c != 'u') {
            for (k = 0; k < 10 && pairs[k] != c; k += 2) {}
            out[o++] = k < 10 ? pairs[k + 1] : c;
            continue;
        }
        cp = rmq__hex4(in + i);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= n && in[i] == '\\' && in[i + 1] == 'u') {
            uint32_t lo = rmq__hex4(in + i + 2);
            if (lo >= 0xDC00 && lo < 0xE000) { cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00); i += 6; }
        }
        o += rmq__utf8_put(out + o, cp);
    }
    return o;
}

/* The string read last (v, its raw text) as text: unescaped in place, so
 * each string is read this way once, before the next string is read. */
RMQ__FN rmq_slice rmq__jr_text(const rmq__jr *r, rmq_slice v)
{
    if (r->esc) v.len = rmq__json_unescape(v.ptr, v.len, (char *)(uintptr_t)v.ptr);
    return v;
}

/* The string read last copied, as text, into a fixed buffer (t, what
 * rmq__jr_value returned: a string); fails if too long or not a string. */
RMQ__FN int rmq__jr_copy(const rmq__jr *r, int t, rmq_slice v, char *dst, size_t cap)
{
    if (t != RMQ__JR_STRING) return -1;
    v = rmq__jr_text(r, v);
    if (v.len >= cap) return -1;
    RMQ_MEMCPY(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return 0;
}
/* -- remoting frames ----------------------------------------------------- */
/* [frame length][serialize type << 24 | header length][header][body], big
 * endian, the length counting everything after itself. */

#define RMQ__FRAME_PROTOCOL_MAX (16u * 1024u * 1024u) /* whole frame, prefix included */

static const char *const rmq__language_names[] = {
    "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY", "OTHER",
    "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS"
};
#define RMQ__LANGUAGE_COUNT 14
#define RMQ__LANGUAGE_NAME_MAX 7        /* NODE_JS */

RMQ__FN int rmq__language_code(rmq_slice name)
{
    int i;
    for (i = 0; i < RMQ__LANGUAGE_COUNT; i++) if (rmq__slice_eq(name, rmq__language_names[i])) return i;
    return -1;
}

RMQDEF rmq_err rmq_command_put_ext(rmq_command *c, const char *key, const char *value)
{
    size_t i;
    rmq_slice k = rmq__cslice(key);
    if (!c || !key || !value) return RMQ_ERR_INVALID_ARG;
    for (i = 0; i < c->next; i++) {
        if (c->ext[i].key.len == k.len && RMQ_MEMCMP(c->ext[i].key.ptr, key, k.len) == 0) {
            c->ext[i].value = rmq__cslice(value);
            return RMQ_OK;
        }
    }
    if (c->next >= RMQ_MAX_EXT_FIELDS) return RMQ_ERR_LIMIT;
    c->ext[c->next].key = k;
    c->ext[c->next].value = rmq__cslice(value);
    c->next++;
    return RMQ_OK;
}

RMQDEF rmq_slice rmq_command_ext(const rmq_command *c, const char *key)
{
    size_t i;
    rmq_slice none;
    for (i = c->next; i-- > 0;) {      /* duplicates are legal: the last wins */
        if (rmq__slice_eq(c->ext[i].key, key)) return c->ext[i].value;
    }
    none.ptr = NULL; none.len = 0;
    return none;
}

/* Every field but the ext array, which only ext[0..next) of is ever read:
 * zeroing all of it (RMQ_MAX_EXT_FIELDS slots, about 1 KiB) for each frame
 * cost more than reading the frame's header. */
RMQ__FN void rmq__command_clear(rmq_command *c)
{
    c->code = c->opaque = c->flag = c->version = c->language = 0;
    c->serialize = RMQ_SERIALIZE_JSON;
    c->remark.ptr = NULL;
    c->remark.len = 0;
    c->next = 0;
    c->body = NULL;
    c->body_len = 0;
    c->answer_read = 0;
}

/* On the fast path field by field (rmq__command_clear); the core keeps the
 * smaller code. */
RMQ__FN_CALLED void rmq__command_init(rmq_command *c, int32_t code, int32_t opaque, int32_t flag)
{
#ifdef RMQ_NO_FAST_PATH
    RMQ_MEMSET(c, 0, sizeof *c);
#else
    rmq__command_clear(c);
#endif
    c->code = code;
    c->opaque = opaque;
    c->flag = flag;
    c->version = RMQ_PROTOCOL_VERSION;
    c->language = 7; /* OTHER */
}

static RMQ__UNUSED uint8_t *rmq__put_bytes(uint8_t *o, const void *d, size_t n) { if (n) RMQ_MEMCPY(o, d, n); return o + n; }

/* -- serializers: one writer for every request and response ------------- */
/* As coreMQTT's serializer: the values come as arguments and the bytes go
 * into memory the caller gives. The writer always counts and copies only
 * while the bytes fit, so one call sizes (out NULL) and the next writes. */
typedef struct rmq__out {
    uint8_t *p;             /* NULL: count only */
    size_t len, cap;
} rmq__out;

static void rmq__out_put(rmq__out *w, const void *d, size_t n)
{
    if (w->p && n && w->len <= w->cap && n <= w->cap - w->len) RMQ_MEMCPY(w->p + w->len, d, n);
    w->len += n;
}
static void rmq__out_str(rmq__out *w, const char *s) { rmq__out_put(w, s, RMQ_STRLEN(s)); }
static void rmq__out_dec(rmq__out *w, int64_t v) { char t[24]; rmq__out_put(w, t, rmq__i64_to_dec(t, v)); }

/* A JSON string, quoted; control bytes as \u00XX, as fastjson writes them. */
RMQ__FN void rmq__out_json(rmq__out *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    char e[6];
    rmq__out_put(w, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        rmq__out_put(w, s + run, i - run);
        run = i + 1;
        e[0] = '\\'; e[1] = (char)(c < 0x20 ? 'u' : c); e[2] = '0'; e[3] = '0';
        e[4] = hex[c >> 4]; e[5] = hex[c & 15];
        rmq__out_put(w, e, c < 0x20 ? 6 : 2);
    }
    rmq__out_put(w, s + run, n - run);
    rmq__out_put(w, "\"", 1);
}

/* The values every RemotingCommand header has; a request's own values are
 * its ext fields, given apart, in the order they go on the wire. */
typedef struct rmq__head {
    int32_t code, opaque, flag, version;
    uint8_t language;           /* LanguageCode ordinal */
    uint8_t serialize;          /* rmq_serialize */
    rmq_slice remark;           /* ptr NULL: absent */
} rmq__head;

RMQ__FN void rmq__head_of(const rmq_command *c, rmq__head *h)
{
    h->code = c->code;
    h->opaque = c->opaque;
    h->flag = c->flag;
    h->version = c->version;
    h->language = (uint8_t)c->language;
    h->serialize = (uint8_t)c->serialize;
    h->remark = c->remark;
}

/* The JSON header, keys in fastjson's alphabetical order: the template's
 * bytes as they are, a control byte standing for a value: \1 the next of
 * code, flag, opaque and version; \2 the ext fields; \3 the language; \4
 * the remark, if any. */
static const char rmq__json_head[] = "{\"code\":\1\2,\"flag\":\1,\"language\":\"\3\",\"opaque\":\1\4,"
                                     "\"serializeTypeCurrentRPC\":\"JSON\",\"version\":\1}";

RMQ__FN void rmq__ser_json(rmq__out *w, const rmq__head *h, const rmq_ext_field *f, size_t n)
{
    const char *t = rmq__json_head, *run = t;
    size_t i;
    int k = 0;
    for (;; t++) {
        if ((unsigned char)*t >= 0x20) continue;
        rmq__out_put(w, run, (size_t)(t - run));
        run = t + 1;
        switch (*t) {
        case 0: return;
        case 1: rmq__out_dec(w, k == 0 ? h->code : k == 1 ? h->flag : k == 2 ? h->opaque : h->version); k++; break;
        case 2:
            for (i = 0; i < n; i++) {
                rmq__out_str(w, i ? "," : ",\"extFields\":{");
                rmq__out_json(w, f[i].key.ptr, f[i].key.len);
                rmq__out_put(w, ":", 1);
                rmq__out_json(w, f[i].value.ptr, f[i].value.len);
            }
            if (n) rmq__out_put(w, "}", 1);
            break;
        case 3: rmq__out_str(w, rmq__language_names[h->language < RMQ__LANGUAGE_COUNT ? h->language : 7]); break;
        default:
            if (!h->remark.ptr) break;
            rmq__out_str(w, ",\"remark\":");
            rmq__out_json(w, h->remark.ptr, h->remark.len);
        }
    }
}

#ifndef RMQ_NO_BINARY_HEADER
static void rmq__out_be(rmq__out *w, uint32_t v, size_t n) { uint8_t b[4]; rmq__be32_put(b, v); rmq__out_put(w, b + 4 - n, n); }

/* The ROCKETMQ binary header (RocketMQSerializable). Empty strings would
 * decode as null on the Java side, so empty ext values are left out. */
RMQ__FN void rmq__ser_binary(rmq__out *w, const rmq__head *h, const rmq_ext_field *f, size_t n)
{
    size_t i, ext = 0, rlen = h->remark.ptr ? h->remark.len : 0;
    for (i = 0; i < n; i++)
        if (f[i].key.len && f[i].value.len) ext += 6 + f[i].key.len + f[i].value.len;
    rmq__out_be(w, (uint32_t)h->code, 2);
    rmq__out_be(w, (uint32_t)h->language, 1);
    rmq__out_be(w, (uint32_t)h->version, 2);
    rmq__out_be(w, (uint32_t)h->opaque, 4);
    rmq__out_be(w, (uint32_t)h->flag, 4);
    rmq__out_be(w, (uint32_t)rlen, 4);
    rmq__out_put(w, h->remark.ptr, rlen);
    rmq__out_be(w, (uint32_t)ext, 4);
    for (i = 0; i < n; i++) {
        if (!f[i].key.len || !f[i].value.len) continue;
        rmq__out_be(w, (uint32_t)f[i].key.len, 2);
        rmq__out_put(w, f[i].key.ptr, f[i].key.len);
        rmq__out_be(w, (uint32_t)f[i].value.len, 4);
        rmq__out_put(w, f[i].value.ptr, f[i].value.len);
    }
}
#endif

/* The header of h with ext fields f[0..n), in the serialization h names,
 * into out when it fits in cap; its size either way. */
RMQ__FN size_t rmq__ser_header(uint8_t *out, size_t cap, const rmq__head *h, const rmq_ext_field *f, size_t n)
{
    rmq__out w;
    w.p = out;
    w.len = 0;
    w.cap = cap;
#ifndef RMQ_NO_BINARY_HEADER
    if (h->serialize == RMQ_SERIALIZE_ROCKETMQ) rmq__ser_binary(&w, h, f, n);
    else
#endif
        rmq__ser_json(&w, h, f, n);
    return w.len;
}

/* The 8-byte prefix and the header; the body (body_len bytes) goes after
 * it, from wherever it lives. The size either way; 0 when no frame of the
 * protocol can carry it. */
RMQ__FN size_t rmq__ser_frame(uint8_t *out, size_t cap, const rmq__head *h, const rmq_ext_field *f, size_t n,
                              size_t body_len)
{
    int room = out && cap >= 8;
    size_t hlen = rmq__ser_header(room ? out + 8 : NULL, room ? cap - 8 : 0, h, f, n);
    if (hlen > 0xFFFFFFu || 4 + hlen + body_len > RMQ__FRAME_PROTOCOL_MAX - 4) return 0;
    if (room && 8 + hlen <= cap) {
        rmq__be32_put(out, (uint32_t)(4 + hlen + body_len));
        rmq__be32_put(out + 4, ((uint32_t)h->serialize << 24) | (uint32_t)hlen);
    }
    return 8 + hlen;
}

/* A command (a test's, an RPC hook's) appended to b as a frame's prefix
 * and header. */
RMQ__FN RMQ__UNUSED int rmq__frame_encode_head(rmq__buf *b, const rmq_command *c, size_t body_len)
{
    rmq__head h;
    size_t len;
    rmq__head_of(c, &h);
    len = rmq__ser_frame(NULL, 0, &h, c->ext, c->next, body_len);
    if (!len || rmq__buf_reserve(b, len)) return -1;
    b->len += rmq__ser_frame(b->p + b->len, len, &h, c->ext, c->next, body_len);
    return 0;
}

/* -- the requests the client writes --------------------------------------- */
/* A request as a layer above the remoting hands it over: its code, version
 * and ext fields in wire order, built from the values by the functions
 * below (one per Java request header); the remoting adds the opaque, flag,
 * language and serialization and writes it with rmq__ser_frame. The fields
 * point into the caller's memory (its strings, and num arrays it owns for
 * the numbers' text), which outlives the call that sends the request. */
typedef struct rmq__rq {
    int32_t code, version;
    rmq_ext_field *f;
    size_t n;
    struct rmq__send_fields *send;  /* instead of f: a send's header (their numbers' text is written into it) */
#ifndef RMQ_NO_FAST_PATH
    struct rmq__lend *lend;         /* room the send lends its request (section 10), or NULL */
#endif
} rmq__rq;

#define RMQ__REQUEST_FIELDS 8   /* the most of any request here */
#define RMQ__DEC_MAX 21         /* an int64's decimal text and its NUL */

RMQ__FN void rmq__rq_init(rmq__rq *rq, rmq_ext_field *f, int32_t code)
{
    rq->code = code;
    rq->version = RMQ_PROTOCOL_VERSION;
    rq->f = f;
    rq->n = 0;
    rq->send = NULL;
#ifndef RMQ_NO_FAST_PATH
    rq->lend = NULL;
#endif
}

/* A NULL value leaves the field out, as rmq_command_put_ext refuses it. */
RMQ__FN void rmq__rq_put(rmq__rq *rq, const char *key, const char *value)
{
    if (!value) return;
    rq->f[rq->n].key = rmq__cslice(key);
    rq->f[rq->n].value = rmq__cslice(value);
    rq->n++;
}

RMQ__FN RMQ__UNUSED void rmq__rq_put_dec(rmq__rq *rq, const char *key, char *num, int64_t v)
{
    num[rmq__i64_to_dec(num, v)] = '\0';
    rmq__rq_put(rq, key, num);
}

/* GET_ROUTEINFO_BY_TOPIC (GetRouteInfoRequestHeader), 2 fields: 4.9.4+
 * name servers are asked for standard JSON (fastjson's form is read too). */
RMQ__FN void rmq__rq_route_query(rmq__rq *rq, rmq_ext_field *f, const char *topic)
{
    rmq__rq_init(rq, f, RMQ_REQ_GET_ROUTEINFO_BY_TOPIC);
    rmq__rq_put(rq, "topic", topic);
    rmq__rq_put(rq, "acceptStandardJsonOnly", "true");
}

/* UNREGISTER_CLIENT (UnregisterClientRequestHeader) of a producer group,
 * 2 fields. */
RMQ__FN void rmq__rq_unregister(rmq__rq *rq, rmq_ext_field *f, const char *client_id, const char *group)
{
    rmq__rq_init(rq, f, RMQ_REQ_UNREGISTER_CLIENT);
    rmq__rq_put(rq, "clientID", client_id);
    rmq__rq_put(rq, "producerGroup", group);
}

/* HeartbeatData of a producer-only client: its id and its groups (NULL
 * ones, slots without a producer, left out). The body's size either way;
 * written into out when it fits in cap. */
RMQ__FN size_t rmq__ser_heartbeat_body(uint8_t *out, size_t cap, const char *client_id, const char *const *groups,
                                       size_t n)
{
    rmq__out w;
    const char *sep = "{\"groupName\":";
    size_t i;
    w.p = out;
    w.len = 0;
    w.cap = cap;
    rmq__out_str(&w, "{\"clientID\":");
    rmq__out_json(&w, client_id, RMQ_STRLEN(client_id));
    rmq__out_str(&w, ",\"consumerDataSet\":[],\"producerDataSet\":[");
    for (i = 0; i < n; i++) {
        if (!groups[i]) continue;
        rmq__out_str(&w, sep);
        sep = ",{\"groupName\":";
        rmq__out_json(&w, groups[i], RMQ_STRLEN(groups[i]));
        rmq__out_put(&w, "}", 1);
    }
    rmq__out_str(&w, "]}");
    return w.len;
}

#ifndef RMQ_NO_TRANSACTION
/* END_TRANSACTION (EndTransactionRequestHeader), up to 8 fields, 3
 * numbers; an empty transaction id or broker name is left out. */
static RMQ__NOINLINE void rmq__rq_end_transaction(rmq__rq *rq, rmq_ext_field *f, char (*num)[RMQ__DEC_MAX], const char *group,
                                     int64_t tran_offset, int64_t commit_offset, int32_t state, int from_check,
                                     const char *msg_id, const char *tx_id, const char *bname)
{
    rmq__rq_init(rq, f, RMQ_REQ_END_TRANSACTION);
    rmq__rq_put(rq, "producerGroup", group);
    rmq__rq_put_dec(rq, "tranStateTableOffset", num[0], tran_offset);
    rmq__rq_put_dec(rq, "commitLogOffset", num[1], commit_offset);
    rmq__rq_put_dec(rq, "commitOrRollback", num[2], state);
    rmq__rq_put(rq, "fromTransactionCheck", from_check ? "true" : "false");
    rmq__rq_put(rq, "msgId", msg_id);
    if (tx_id && *tx_id) rmq__rq_put(rq, "transactionId", tx_id);
    if (bname && *bname) rmq__rq_put(rq, "bname", bname);
}
#endif

#ifndef RMQ_NO_ADMIN
/* UPDATE_AND_CREATE_TOPIC (CreateTopicRequestHeader), 8 fields, filled as
 * Java's TopicConfig leaves it: perm read|write, SINGLE_TAG, sys flag 0,
 * not ordered. num holds the queue count's text. */
RMQ__FN void rmq__rq_create_topic(rmq__rq *rq, rmq_ext_field *f, char *num, const char *key, const char *topic,
                                  int32_t queue_num)
{
    rmq__rq_init(rq, f, RMQ_REQ_UPDATE_AND_CREATE_TOPIC);
    rmq__rq_put(rq, "topic", topic);
    rmq__rq_put(rq, "defaultTopic", key);
    rmq__rq_put_dec(rq, "readQueueNums", num, queue_num);
    rmq__rq_put(rq, "writeQueueNums", num);
    rmq__rq_put(rq, "perm", "6");
    rmq__rq_put(rq, "topicFilterType", "SINGLE_TAG");
    rmq__rq_put(rq, "topicSysFlag", "0");
    rmq__rq_put(rq, "order", "false");
}

/* SEARCH_OFFSET_BY_TIMESTAMP, GET_MAX_OFFSET, GET_MIN_OFFSET and
 * GET_EARLIEST_MSG_STORETIME: a queue (and for the search a timestamp),
 * up to 4 fields, 2 numbers. */
RMQ__FN void rmq__rq_queue_query(rmq__rq *rq, rmq_ext_field *f, char (*num)[RMQ__DEC_MAX], int32_t code, const char *topic,
                                 int32_t queue_id, const int64_t *timestamp, const char *bname)
{
    rmq__rq_init(rq, f, code);
    rmq__rq_put(rq, "topic", topic);
    rmq__rq_put_dec(rq, "queueId", num[0], queue_id);
    if (timestamp) rmq__rq_put_dec(rq, "timestamp", num[1], *timestamp);
    rmq__rq_put(rq, "bname", bname);
}

/* VIEW_MESSAGE_BY_ID (ViewMessageRequestHeader): 1 field, its number. */
RMQ__FN void rmq__rq_view_message(rmq__rq *rq, rmq_ext_field *f, char *num, int64_t offset)
{
    rmq__rq_init(rq, f, RMQ_REQ_VIEW_MESSAGE_BY_ID);
    rmq__rq_put_dec(rq, "offset", num, offset);
}

/* Below 400 (V4_9_3) a 5.x broker leaves _UNIQUE_KEY_QUERY out of the ACL
 * signature, as every 4.9.x broker does at any version. */
#define RMQ__QUERY_VERSION 399

/* QUERY_MESSAGE (QueryMessageRequestHeader), 6 fields, 3 numbers. */
RMQ__FN void rmq__rq_query_message(rmq__rq *rq, rmq_ext_field *f, char (*num)[RMQ__DEC_MAX], const char *topic,
                                   const char *key, int32_t max_num, int64_t begin_ms, int64_t end_ms, int uniq)
{
    rmq__rq_init(rq, f, RMQ_REQ_QUERY_MESSAGE);
    rq->version = RMQ__QUERY_VERSION;
    rmq__rq_put(rq, "topic", topic);
    rmq__rq_put(rq, "key", key);
    rmq__rq_put_dec(rq, "maxNum", num[0], max_num);
    rmq__rq_put_dec(rq, "beginTimestamp", num[1], begin_ms);
    rmq__rq_put_dec(rq, "endTimestamp", num[2], end_ms);
    rmq__rq_put(rq, "_UNIQUE_KEY_QUERY", uniq ? "true" : "false");
}
#endif

#ifndef RMQ_NO_FAST_PATH
/* The send serializer's pieces of the JSON header after the ext fields. */
static const char rmq__jh_flag[] = ",\"flag\":", rmq__jh_lang[] = ",\"language\":", rmq__jh_opaque[] = ",\"opaque\":",
                  rmq__jh_remark[] = ",\"remark\":", rmq__jh_tail[] = ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":";
#define RMQ__JH(o, lit) (RMQ_MEMCPY((o), (lit), sizeof(lit) - 1), (o) += sizeof(lit) - 1)

RMQ__FN int rmq__json_lang(const rmq__head *h)
{
    return h->language < RMQ__LANGUAGE_COUNT ? h->language : 7;
}

/* The language names' lengths, so a header's writer need not count them
 * per frame. */
static const uint8_t rmq__language_lens[RMQ__LANGUAGE_COUNT] = { 4, 3, 6, 6, 6, 6, 4, 5, 4, 2, 3, 3, 4, 7 };

/* A header's number; one digit (a queue id, a flag, a sysflag) without a
 * call, as most of a send header's are. */
static uint8_t *rmq__put_dec(uint8_t *o, int64_t v)
{
    if (v >= 0 && v < 10) { *o = (uint8_t)('0' + (int)v); return o + 1; }
    return o + rmq__i64_to_dec((char *)o, v);
}

/* From ,"flag": to the end. */
RMQ__FN uint8_t *rmq__header_json_tail(uint8_t *o, const rmq__head *h)
{
    int l = rmq__json_lang(h);
    const char *lang = rmq__language_names[l];
    size_t n = rmq__language_lens[l];
    RMQ__JH(o, rmq__jh_flag);
    o = rmq__put_dec(o, h->flag);
    RMQ__JH(o, rmq__jh_lang);
    *o++ = '"';                         /* the names are upper-case words: nothing to escape */
    RMQ_MEMCPY(o, lang, n);
    o[n] = '"';
    o += n + 1;
    RMQ__JH(o, rmq__jh_opaque);
    o += rmq__i64_to_dec((char *)o, h->opaque);
    if (h->remark.ptr) {
        RMQ__JH(o, rmq__jh_remark);
        o += rmq__json_esc(o, h->remark.ptr, h->remark.len);
    }
    RMQ__JH(o, rmq__jh_tail);
    o += rmq__i64_to_dec((char *)o, h->version);
    *o++ = '}';
    return o;
}
#endif

/* -- the send header ------------------------------------------------------ */
/* The fields of a fresh header are distinct by construction, so they are
 * appended without rmq_command_put_ext's search for a duplicate key. */
RMQ__FN void rmq__ext_append(rmq_command *cmd, char key, const char *value, size_t len)
{
    static const char keys[] = "abcdefghijklmn";
    rmq_ext_field *f = &cmd->ext[cmd->next++];
    f->key.ptr = keys + (key - 'a');
    f->key.len = 1;
    f->value.ptr = value;
    f->value.len = len;
}

RMQ__FN void rmq__ext_append_str(rmq_command *cmd, char key, const char *value)
{
    rmq__ext_append(cmd, key, value, RMQ_STRLEN(value));
}

RMQ__FN void rmq__ext_append_dec(rmq_command *cmd, char key, char *num, int64_t v)
{
    rmq__ext_append(cmd, key, num, rmq__i64_to_dec(num, v));
}

/* SendMessageRequestHeaderV2 (one-letter keys; l is not sent): the values
 * of one send's header, given by the producer, read by the serializers
 * below. The header is written from them in one of two ways: as ext fields
 * of a command (rmq__send_fields_ext), which the generic encoders write in
 * either serialization and an RPC hook can see; or, on the fast path,
 * straight into the frame (rmq__send_header_len, then
 * rmq__send_header_put), the same bytes without a field list, a number
 * written twice or an escape scan of what cannot need one. */
typedef struct rmq__send_fields {
    const char *group, *topic, *create_key, *broker;  /* a b c n */
    size_t group_len, topic_len, key_len, broker_len;
    int names_plain;     /* group, topic and key passed the name check: no escapes */
    const char *props;                                /* i */
    size_t props_len;
    size_t props_json;   /* i's length as a JSON string, if known (else 0) */
    int props_quoted;    /* props is that JSON string, quotes included (only the fast path's JSON writer reads it) */
    int32_t queue_nums, queue_id, sysflag, flag;      /* d e f h */
    const char *born;                                 /* g, the born time's text */
    size_t born_len;
    int batch;                                        /* m */
    char num[4][12];     /* d e f h as text, when they become ext fields */
#ifdef RMQ_NO_FAST_PATH
    char born_text[20];  /* g's (the fast path keeps it in a memo) */
#else
    /* The JSON header of code prefix_code up to e's value, as
     * rmq__send_json_put writes it for these group, topic, create key and
     * queue nums (rmq__send_prefix_keep); prefix_len 0: none kept. */
    uint8_t prefix[RMQ_SEND_PREFIX_BYTES > 0 ? RMQ_SEND_PREFIX_BYTES : 1];
    uint16_t prefix_len, prefix_topic;   /* its length, and where b's text starts in it */
    int32_t prefix_code;
#endif
} rmq__send_fields;

/* The fields as ext fields of cmd (for an RPC hook, the binary form, or
 * the generic JSON encoder); the numbers' text goes to f's own room, so f
 * outlives the command's encoding. */
#ifdef RMQ_NO_FAST_PATH
#define RMQ__EXT_NAME(cmd, key, s, n) rmq__ext_append_str(cmd, key, s)   /* the core's smaller code */
#else
#define RMQ__EXT_NAME(cmd, key, s, n) rmq__ext_append(cmd, key, s, n)
#endif
RMQ__FN void rmq__send_fields_ext(rmq__send_fields *f, rmq_command *cmd)
{
    RMQ__EXT_NAME(cmd, 'a', f->group, f->group_len);
    RMQ__EXT_NAME(cmd, 'b', f->topic, f->topic_len);
    RMQ__EXT_NAME(cmd, 'c', f->create_key, f->key_len);
    rmq__ext_append_dec(cmd, 'd', f->num[0], f->queue_nums);
    rmq__ext_append_dec(cmd, 'e', f->num[1], f->queue_id);
    rmq__ext_append_dec(cmd, 'f', f->num[2], f->sysflag);
    rmq__ext_append(cmd, 'g', f->born, f->born_len);
    rmq__ext_append_dec(cmd, 'h', f->num[3], f->flag);
    rmq__ext_append(cmd, 'i', f->props, f->props_len);
    rmq__ext_append(cmd, 'j', "0", 1);
    rmq__ext_append(cmd, 'k', "false", 5);
    rmq__ext_append_str(cmd, 'm', f->batch ? "true" : "false");
    RMQ__EXT_NAME(cmd, 'n', f->broker, f->broker_len);
}

/* The group and the create key, the producer's own copies, fixed once it
 * starts: their lengths are counted then, not per send. */
RMQ__FN void rmq__send_fields_names(rmq__send_fields *f, const char *group, const char *create_key)
{
    f->group = group;
    f->create_key = create_key;
#ifndef RMQ_NO_FAST_PATH
    f->group_len = RMQ_STRLEN(group);
    f->key_len = RMQ_STRLEN(create_key);
    f->prefix_len = 0;
#endif
}

#ifndef RMQ_NO_FAST_PATH
static const char rmq__sh_a[] = "{\"code\":", rmq__sh_b[] = ",\"extFields\":{\"a\":", rmq__sh_c[] = ",\"b\":",
                  rmq__sh_d[] = ",\"c\":", rmq__sh_e[] = ",\"d\":\"", rmq__sh_f[] = "\",\"e\":\"",
                  rmq__sh_g[] = "\",\"f\":\"", rmq__sh_h[] = "\",\"g\":\"", rmq__sh_i[] = "\",\"h\":\"",
                  rmq__sh_j[] = "\",\"i\":", rmq__sh_k[] = ",\"j\":\"0\",\"k\":\"false\",\"m\":\"",
                  rmq__sh_l[] = "\",\"n\":", rmq__sh_m[] = "}";

/* The JSON header up to e's value: exact but for the two numbers, given
 * their longest. */
RMQ__FN size_t rmq__send_json_head_len(const rmq__send_fields *f)
{
    size_t n = sizeof rmq__sh_a + sizeof rmq__sh_b + sizeof rmq__sh_c + sizeof rmq__sh_d + sizeof rmq__sh_e +
               sizeof rmq__sh_f - 6 + 2 * 11;
    return n + (f->names_plain ? f->group_len + f->topic_len + f->key_len + 6
                               : rmq__json_esc_len(f->group, f->group_len) + rmq__json_esc_len(f->topic, f->topic_len) +
                                 rmq__json_esc_len(f->create_key, f->key_len));
}

/* Whether f keeps the JSON header's start for a send of this code with its
 * names (the topic's text is what it is compared by: a route's entry may
 * come to hold another topic). */
RMQ__FN int rmq__send_prefix_holds(const rmq__send_fields *f, int32_t code)
{
    return f->prefix_len && f->prefix_code == code && f->topic_len < (size_t)(f->prefix_len - f->prefix_topic) &&
           RMQ_MEMCMP(f->prefix + f->prefix_topic, f->topic, f->topic_len) == 0 &&
           f->prefix[f->prefix_topic + f->topic_len] == '"';
}

/* The start f keeps is the one of a send of this code: the producer
 * checked it against the topic (rmq__send_prefix_holds) when it gave f. */
#define RMQ__PREFIX_FOR(f, code) ((f)->prefix_len && (f)->prefix_code == (code))

/* Exact but for the numbers, given their longest. */
RMQ__FN size_t rmq__send_json_len(const rmq__head *h, const rmq__send_fields *f)
{
    size_t n = sizeof rmq__sh_g + sizeof rmq__sh_h + sizeof rmq__sh_i + sizeof rmq__sh_j + sizeof rmq__sh_k +
               sizeof rmq__sh_l + sizeof rmq__sh_m - 7;
    n += RMQ__PREFIX_FOR(f, h->code) ? f->prefix_len : rmq__send_json_head_len(f);
    n += sizeof rmq__jh_flag + sizeof rmq__jh_lang + sizeof rmq__jh_opaque + sizeof rmq__jh_tail - 4 + 1;
    n += 6 * 11 + 20 + 5 + RMQ__LANGUAGE_NAME_MAX + 2;
    n += (f->props_json ? f->props_json : rmq__json_esc_len(f->props, f->props_len)) +
         rmq__json_esc_len(f->broker, f->broker_len);
    if (h->remark.ptr) n += sizeof rmq__jh_remark - 1 + rmq__json_esc_len(h->remark.ptr, h->remark.len);
    return n;
}

static uint8_t *rmq__put_esc(uint8_t *o, const char *s, size_t n) { return o + rmq__json_esc(o, s, n); }

/* A name known to need no escape, quoted. */
static uint8_t *rmq__put_name(uint8_t *o, const char *s, size_t n, int plain)
{
    if (!plain) return rmq__put_esc(o, s, n);
    *o++ = '"';
    RMQ_MEMCPY(o, s, n);
    o[n] = '"';
    return o + n + 1;
}

/* The JSON header up to e's value; *topic_at: where b's text starts. */
RMQ__FN uint8_t *rmq__send_json_head(uint8_t *o, int32_t code, const rmq__send_fields *f, size_t *topic_at)
{
    uint8_t *from = o;
    RMQ__JH(o, rmq__sh_a);
    o = rmq__put_dec(o, code);
    RMQ__JH(o, rmq__sh_b);
    o = rmq__put_name(o, f->group, f->group_len, f->names_plain);
    RMQ__JH(o, rmq__sh_c);
    *topic_at = (size_t)(o - from) + 1;
    o = rmq__put_name(o, f->topic, f->topic_len, f->names_plain);
    RMQ__JH(o, rmq__sh_d);
    o = rmq__put_name(o, f->create_key, f->key_len, f->names_plain);
    RMQ__JH(o, rmq__sh_e);
    o = rmq__put_dec(o, f->queue_nums);
    RMQ__JH(o, rmq__sh_f);
    return o;
}

/* Keeps the JSON header's start for sends of this code to f's topic, when
 * it fits in RMQ_SEND_PREFIX_BYTES (and its names need no escape: the
 * topic is found in it by its text). */
RMQ__FN RMQ__NOINLINE void rmq__send_prefix_keep(rmq__send_fields *f, int32_t code)
{
    size_t at;
    f->prefix_len = 0;
    if (!f->names_plain || rmq__send_json_head_len(f) > sizeof f->prefix || RMQ_SEND_PREFIX_BYTES < 1) return;
    f->prefix_len = (uint16_t)(rmq__send_json_head(f->prefix, code, f, &at) - f->prefix);
    f->prefix_topic = (uint16_t)at;
    f->prefix_code = code;
}

/* The send header as rmq__ser_header writes it for the same fields. */
RMQ__FN uint8_t *rmq__send_json_put(uint8_t *o, const rmq__head *h, const rmq__send_fields *f)
{
    size_t at;
    if (RMQ__PREFIX_FOR(f, h->code)) {
        RMQ_MEMCPY(o, f->prefix, f->prefix_len);
        o += f->prefix_len;
    } else {
        o = rmq__send_json_head(o, h->code, f, &at);
    }
    o = rmq__put_dec(o, f->queue_id);
    RMQ__JH(o, rmq__sh_g);
    o = rmq__put_dec(o, f->sysflag);
    RMQ__JH(o, rmq__sh_h);
    o = rmq__put_bytes(o, f->born, f->born_len);
    RMQ__JH(o, rmq__sh_i);
    o = rmq__put_dec(o, f->flag);
    RMQ__JH(o, rmq__sh_j);
    o = f->props_quoted ? rmq__put_bytes(o, f->props, f->props_len) : rmq__put_esc(o, f->props, f->props_len);
    RMQ__JH(o, rmq__sh_k);
    o = rmq__put_bytes(o, f->batch ? "true" : "false", f->batch ? 4 : 5);
    RMQ__JH(o, rmq__sh_l);
    o = rmq__put_esc(o, f->broker, f->broker_len);
    RMQ__JH(o, rmq__sh_m);
    return rmq__header_json_tail(o, h);
}

#ifndef RMQ_NO_BINARY_HEADER
static uint8_t *rmq__put_be32(uint8_t *o, uint32_t v) { rmq__be32_put(o, v); return o + 4; }
static uint8_t *rmq__put_be16(uint8_t *o, uint32_t v) { o[0] = (uint8_t)(v >> 8); o[1] = (uint8_t)v; return o + 2; }

/* The send header in the ROCKETMQ form, as rmq__ser_binary writes
 * the same fields (one-letter keys, empty values left out), straight from
 * f; the numbers are written in place and their lengths filled in after. */
static uint8_t *rmq__put_bin_str(uint8_t *o, char key, const char *v, size_t n)
{
    if (!n) return o;
    o = rmq__put_be16(o, 1);
    *o++ = (uint8_t)key;
    o = rmq__put_be32(o, (uint32_t)n);
    return rmq__put_bytes(o, v, n);
}

static uint8_t *rmq__put_bin_dec(uint8_t *o, char key, int64_t v)
{
    size_t n;
    o = rmq__put_be16(o, 1);
    *o++ = (uint8_t)key;
    n = (size_t)(rmq__put_dec(o + 4, v) - (o + 4));
    return rmq__put_be32(o, (uint32_t)n) + n;
}

/* A bound: the numbers count their longest. */
RMQ__FN size_t rmq__send_binary_len(const rmq__head *h, const rmq__send_fields *f)
{
    return 21 + (h->remark.ptr ? h->remark.len : 0) + 13 * 7 + f->group_len + f->topic_len + f->key_len +
           4 * 11 + f->born_len + f->props_len + 1 + 5 + 5 + f->broker_len;
}

RMQ__FN uint8_t *rmq__send_binary_put(uint8_t *o, const rmq__head *h, const rmq__send_fields *f)
{
    size_t rlen = h->remark.ptr ? h->remark.len : 0;
    uint8_t *ext;
    o = rmq__put_be16(o, (uint16_t)h->code);
    *o++ = (uint8_t)h->language;
    o = rmq__put_be16(o, (uint16_t)h->version);
    o = rmq__put_be32(o, (uint32_t)h->opaque);
    o = rmq__put_be32(o, (uint32_t)h->flag);
    o = rmq__put_be32(o, (uint32_t)rlen);
    o = rmq__put_bytes(o, h->remark.ptr, rlen);
    ext = o;
    o += 4;
    o = rmq__put_bin_str(o, 'a', f->group, f->group_len);
    o = rmq__put_bin_str(o, 'b', f->topic, f->topic_len);
    o = rmq__put_bin_str(o, 'c', f->create_key, f->key_len);
    o = rmq__put_bin_dec(o, 'd', f->queue_nums);
    o = rmq__put_bin_dec(o, 'e', f->queue_id);
    o = rmq__put_bin_dec(o, 'f', f->sysflag);
    o = rmq__put_bin_str(o, 'g', f->born, f->born_len);
    o = rmq__put_bin_dec(o, 'h', f->flag);
    o = rmq__put_bin_str(o, 'i', f->props, f->props_len);
    o = rmq__put_bin_str(o, 'j', "0", 1);
    o = rmq__put_bin_str(o, 'k', "false", 5);
    o = f->batch ? rmq__put_bin_str(o, 'm', "true", 4) : rmq__put_bin_str(o, 'm', "false", 5);
    o = rmq__put_bin_str(o, 'n', f->broker, f->broker_len);
    rmq__be32_put(ext, (uint32_t)(o - ext - 4));
    return o;
}
#endif

/* The send header of h from its fields, in h's serialization: a bound of
 * its length, then its bytes. */
RMQ__FN size_t rmq__send_header_len(const rmq__head *h, const rmq__send_fields *f)
{
#ifndef RMQ_NO_BINARY_HEADER
    if (h->serialize == RMQ_SERIALIZE_ROCKETMQ) return rmq__send_binary_len(h, f);
#endif
    return rmq__send_json_len(h, f);
}

RMQ__FN uint8_t *rmq__send_header_put(uint8_t *o, const rmq__head *h, const rmq__send_fields *f)
{
#ifndef RMQ_NO_BINARY_HEADER
    if (h->serialize == RMQ_SERIALIZE_ROCKETMQ) return rmq__send_binary_put(o, h, f);
#endif
    return rmq__send_json_put(o, h, f);
}

/* Encodes the 8-byte prefix and the send header (hlen: its bound from
 * rmq__send_header_len) into b; the body (body_len bytes) is written after
 * it by the caller, from wherever it lives. The length comes first: one
 * allocation, no checks per piece. */
RMQ__FN int rmq__send_frame_encode(rmq__buf *b, const rmq__head *h, const rmq__send_fields *f, size_t hlen,
                                   size_t body_len)
{
    size_t at = b->len;
    uint8_t *o;
    if (rmq__buf_reserve(b, 8 + hlen)) return -1;
    o = b->p + at + 8;
    hlen = (size_t)(rmq__send_header_put(o, h, f) - o);
    b->len = at + 8 + hlen;
    if (hlen > 0xFFFFFFu || 4 + hlen + body_len > RMQ__FRAME_PROTOCOL_MAX - 4) return -1;
    rmq__be32_put(b->p + at, (uint32_t)(4 + hlen + body_len));
    rmq__be32_put(b->p + at + 4, ((uint32_t)h->serialize << 24) | (uint32_t)hlen);
    return 0;
}
#endif

/* What the first bytes of a frame say, picohttpparser style: a frame is
 * complete (RMQ__FRAME_OK, total bytes in *need), needs more bytes
 * (RMQ__FRAME_NEED, the total known so far in *need), or is malformed. A
 * frame over max_frame is RMQ__FRAME_OVERSIZE: its header can still be read
 * (it is within RMQ_MAX_HEADER_BYTES) and its body read past. */
enum { RMQ__FRAME_NEED = 0, RMQ__FRAME_OK = 1, RMQ__FRAME_OVERSIZE = 2, RMQ__FRAME_MALFORMED = -1 };

typedef struct rmq__frame_info {
    uint32_t total;         /* whole frame, prefix included */
    uint32_t header_len;
    uint8_t serialize;
} rmq__frame_info;

RMQ__FN int rmq__frame_check(const uint8_t *p, size_t n, size_t max_frame, rmq__frame_info *fi)
{
    uint32_t flen, word;
    if (n < 8) return RMQ__FRAME_NEED;
    flen = rmq__be32(p);
    word = rmq__be32(p + 4);
    fi->serialize = (uint8_t)(word >> 24);
    fi->header_len = word & 0xFFFFFFu;
    if (flen < 4 || flen > RMQ__FRAME_PROTOCOL_MAX - 4) return RMQ__FRAME_MALFORMED;
    if (fi->header_len > flen - 4 || fi->serialize > 1) return RMQ__FRAME_MALFORMED;
    fi->total = flen + 4;
    if (fi->total > max_frame) {
        if (fi->header_len > RMQ_MAX_HEADER_BYTES) return RMQ__FRAME_MALFORMED;
        return RMQ__FRAME_OVERSIZE;
    }
    return n >= fi->total ? RMQ__FRAME_OK : RMQ__FRAME_NEED;
}

/* The members of a JSON header the command takes, numbers first: one
 * lookup each, by one loop. */
static const char *const rmq__header_members[] = {
    "code", "opaque", "flag", "version", "language", "remark", "extFields"
};
enum {
    RMQ__HM_CODE, RMQ__HM_OPAQUE, RMQ__HM_FLAG, RMQ__HM_VERSION, RMQ__HM_LANGUAGE, RMQ__HM_REMARK,
    RMQ__HM_EXT_FIELDS, RMQ__HM_COUNT
};

/* extFields' members, its object entered: each scalar one kept, key and
 * value unescaped; any other passed over. 0 once it closed. */
RMQ__FN int rmq__header_ext(rmq__jr *r, rmq_command *c)
{
    rmq_slice k, v;
    int t;
    while ((t = rmq__jr_next(r, &k)) > 0) {
        k = rmq__jr_text(r, k);
        t = rmq__jr_value(r, &v);
        if (t != RMQ__JR_STRING && t != RMQ__JR_PRIM) {
            if (rmq__jr_pass(r, t)) return RMQ__JR_BAD;
            continue;
        }
        if (c->next >= RMQ_MAX_EXT_FIELDS) return RMQ__JR_BAD;
        c->ext[c->next].key = k;
        c->ext[c->next].value = rmq__jr_text(r, v);
        c->next++;
    }
    return t;
}

/* One member of the header object, its key read (raw: a key with escapes
 * is no member of the header's). */
RMQ__FN int rmq__header_member(rmq__jr *r, rmq_slice key, rmq_command *c)
{
    rmq_slice v;
    int64_t n;
    int m, t = rmq__jr_value(r, &v);
    for (m = 0; m < RMQ__HM_COUNT && !rmq__slice_eq(key, rmq__header_members[m]); m++) {}
    if (m <= RMQ__HM_VERSION) {          /* a number, bare or in a string, in int32's range */
        if (t != RMQ__JR_STRING && t != RMQ__JR_PRIM) return RMQ__JR_BAD;
        if (rmq__parse_i64(v.ptr, v.len, &n) || n < INT32_MIN || n > INT32_MAX) return RMQ__JR_BAD;
        if (m == RMQ__HM_CODE) c->code = (int32_t)n;
        else if (m == RMQ__HM_OPAQUE) c->opaque = (int32_t)n;
        else if (m == RMQ__HM_FLAG) c->flag = (int32_t)n;
        else c->version = (int32_t)n;
    } else if (t == RMQ__JR_STRING && m == RMQ__HM_LANGUAGE) {
        c->language = rmq__language_code(rmq__jr_text(r, v));
    } else if (t == RMQ__JR_STRING && m == RMQ__HM_REMARK) {
        c->remark = rmq__jr_text(r, v);
    } else if (t == RMQ__JR_OBJECT && m == RMQ__HM_EXT_FIELDS) {
        return rmq__header_ext(r, c);
    } else {
        return rmq__jr_pass(r, t);
    }
    return 0;
}

/* JSON header → command, through the pull reader: any JSON object (the
 * last of a member written twice wins; extFields written twice adds both).
 * Strings are unescaped in place (hdr is writable). */
RMQ__FN int rmq__header_decode_pull(char *hdr, size_t len, rmq_command *c)
{
    rmq__jr r;
    rmq_slice key;
    rmq__jr_init(&r, hdr, len);
    if (rmq__jr_value(&r, &key) != RMQ__JR_OBJECT) return -1;
    c->language = 0;                                   /* Java's default */
    while (rmq__jr_next(&r, &key) > 0)
        if (rmq__header_member(&r, key, c)) return -1;
    return rmq__jr_end(&r);
}

#ifndef RMQ_NO_FAST_PATH
/* -- the flat reader ---------------------------------------------------------- */
/* Brokers write every header in one shape (fastjson, no blanks): an object
 * of scalar members and one extFields object of scalar members, strings
 * without escapes. That shape is read here in one pass, straight into the
 * command, with no tokens. Anything else (blanks, escapes, integer keys,
 * other nesting, a value the header does not allow, a bound reached) is
 * left to the pull reader, which decides: this reader never refuses, so a
 * header reads the same whichever way it is read. */
enum { RMQ__FLAT_OK = 0, RMQ__FLAT_OTHER = 1 };

typedef struct rmq__flat {
    const char *s;
    size_t len, at;
} rmq__flat;

/* How many bytes from s on need no escape (up to the first '"', '\\' or
 * control byte, or n), a word at a time from the first byte: a header's
 * strings are short, so no byte loop before the words. */
RMQ__INLINE size_t rmq__json_plain_len(const char *s, size_t n)
{
    size_t i = 0;
    while (n - i >= sizeof(size_t)) {
        size_t w, m;
        RMQ_MEMCPY(&w, s + i, sizeof w);
        m = rmq__json_word_special(w);
        if (m) return i + rmq__json_first_special(s + i, m);
        i += sizeof w;
    }
    while (i < n && !RMQ__JSON_SPECIAL((unsigned char)s[i])) i++;
    return i;
}

/* A string without escapes at at (its opening quote); its text in *v. */
RMQ__INLINE int rmq__flat_string(rmq__flat *f, rmq_slice *v)
{
    size_t from = f->at + 1, i;
    if (from >= f->len || f->s[f->at] != '"') return RMQ__FLAT_OTHER;
    i = from + rmq__json_plain_len(f->s + from, f->len - from);
    if (i >= f->len || f->s[i] != '"') return RMQ__FLAT_OTHER;
    v->ptr = f->s + from;
    v->len = i - from;
    f->at = i + 1;
    return RMQ__FLAT_OK;
}

/* A string or a primitive (as loosely as the pull reader checks one). */
RMQ__INLINE int rmq__flat_scalar(rmq__flat *f, rmq_slice *v, int *is_string)
{
    size_t i = f->at;
    *is_string = i < f->len && f->s[i] == '"';
    if (*is_string) return rmq__flat_string(f, v);
    while (i < f->len && rmq__json_is_prim_char((unsigned char)f->s[i])) i++;
    if (i == f->at) return RMQ__FLAT_OTHER;
    v->ptr = f->s + f->at;
    v->len = i - f->at;
    f->at = i;
    return RMQ__FLAT_OK;
}

/* The keys a header and a send's answer hold, known at sight: the header's
 * own members, then those of SendMessageResponseHeader and what 4.9 adds,
 * in the order of rmq_command.answer (RMQ__ANS_*). */
enum { RMQ__K_OTHER, RMQ__K_CODE, RMQ__K_FLAG, RMQ__K_OPAQUE, RMQ__K_VERSION, RMQ__K_LANGUAGE, RMQ__K_REMARK,
       RMQ__K_EXT, RMQ__K_SERIALIZE, RMQ__K_QUEUE_ID, RMQ__K_QUEUE_OFFSET, RMQ__K_MSG_ID, RMQ__K_REGION,
       RMQ__K_TRACE, RMQ__K_TID };
static const unsigned char rmq__key_len[] = { 0, 4, 4, 6, 7, 8, 6, 9, 23, 7, 11, 5, 10, 8, 13 };

/* p holds lit (a key, its closing quote and the colon): a compare of a
 * known length, a load or a few. */
#define RMQ__KEY_AT(p, n, lit) ((n) >= sizeof(lit) - 1 && RMQ_MEMCMP((p), (lit), sizeof(lit) - 1) == 0)

/* Which known key p (past a key's opening quote, n bytes left) starts
 * with, quote and colon included; picked by its first byte, then compared
 * whole, so no byte of it is scanned. RMQ__K_OTHER if none. */
RMQ__FN int rmq__known_key(const char *p, size_t n)
{
    switch (n ? p[0] : 0) {
    case 'c': return RMQ__KEY_AT(p, n, "code\":") ? RMQ__K_CODE : RMQ__K_OTHER;
    case 'f': return RMQ__KEY_AT(p, n, "flag\":") ? RMQ__K_FLAG : RMQ__K_OTHER;
    case 'o': return RMQ__KEY_AT(p, n, "opaque\":") ? RMQ__K_OPAQUE : RMQ__K_OTHER;
    case 'v': return RMQ__KEY_AT(p, n, "version\":") ? RMQ__K_VERSION : RMQ__K_OTHER;
    case 'l': return RMQ__KEY_AT(p, n, "language\":") ? RMQ__K_LANGUAGE : RMQ__K_OTHER;
    case 'r': return RMQ__KEY_AT(p, n, "remark\":") ? RMQ__K_REMARK : RMQ__K_OTHER;
    case 'e': return RMQ__KEY_AT(p, n, "extFields\":") ? RMQ__K_EXT : RMQ__K_OTHER;
    case 's': return RMQ__KEY_AT(p, n, "serializeTypeCurrentRPC\":") ? RMQ__K_SERIALIZE : RMQ__K_OTHER;
    case 'q':
        if (RMQ__KEY_AT(p, n, "queueId\":")) return RMQ__K_QUEUE_ID;
        return RMQ__KEY_AT(p, n, "queueOffset\":") ? RMQ__K_QUEUE_OFFSET : RMQ__K_OTHER;
    case 'm': return RMQ__KEY_AT(p, n, "msgId\":") ? RMQ__K_MSG_ID : RMQ__K_OTHER;
    case 'M': return RMQ__KEY_AT(p, n, "MSG_REGION\":") ? RMQ__K_REGION : RMQ__K_OTHER;
    case 'T': return RMQ__KEY_AT(p, n, "TRACE_ON\":") ? RMQ__K_TRACE : RMQ__K_OTHER;
    case 't': return RMQ__KEY_AT(p, n, "transactionId\":") ? RMQ__K_TID : RMQ__K_OTHER;
    default: return RMQ__K_OTHER;
    }
}

/* "key": at at; moves past the colon. Counts the key and its value. *id
 * names a known key; any other is scanned as a string. */
RMQ__INLINE int rmq__flat_key(rmq__flat *f, rmq_slice *k, int *id)
{
    *id = f->at < f->len && f->s[f->at] == '"' ? rmq__known_key(f->s + f->at + 1, f->len - f->at - 1) : RMQ__K_OTHER;
    if (*id != RMQ__K_OTHER) {
        k->ptr = f->s + f->at + 1;
        k->len = rmq__key_len[*id];
        f->at += k->len + 3;
    } else {
        if (rmq__flat_string(f, k) || f->at >= f->len || f->s[f->at] != ':') return RMQ__FLAT_OTHER;
        f->at++;
    }
    return RMQ__FLAT_OK;
}

/* Past a ',' (1), or at the object's '}' (0, moved past it). */
RMQ__INLINE int rmq__flat_next(rmq__flat *f, int *more)
{
    if (f->at >= f->len) return RMQ__FLAT_OTHER;
    *more = f->s[f->at] == ',';
    if (!*more && f->s[f->at] != '}') return RMQ__FLAT_OTHER;
    f->at++;
    return RMQ__FLAT_OK;
}

/* extFields' object, at its '{': every member a scalar. */
RMQ__FN int rmq__flat_ext(rmq__flat *f, rmq_command *c)
{
    int more = 1, str, id;
    if (RMQ_MAX_JSON_DEPTH < 2 || f->s[f->at] != '{') return RMQ__FLAT_OTHER;
    f->at++;
    if (f->at < f->len && f->s[f->at] == '}') { f->at++; return RMQ__FLAT_OK; }
    while (more) {
        rmq_slice k, v;
        if (rmq__flat_key(f, &k, &id) || rmq__flat_scalar(f, &v, &str) || c->next >= RMQ_MAX_EXT_FIELDS)
            return RMQ__FLAT_OTHER;
        c->ext[c->next].key = k;
        c->ext[c->next].value = v;
        c->next++;
        if (id >= RMQ__K_QUEUE_ID) c->answer[id - RMQ__K_QUEUE_ID] = (uint8_t)c->next;   /* a later duplicate wins */
        if (rmq__flat_next(f, &more)) return RMQ__FLAT_OTHER;
    }
    return RMQ__FLAT_OK;
}

/* A header number in a string, or written unlike fastjson: what the
 * pull reader would parse, or left to it. */
RMQ__FN int rmq__flat_i32_scalar(rmq__flat *f, int32_t *out)
{
    rmq_slice v;
    int str;
    int64_t n;
    if (rmq__flat_scalar(f, &v, &str) || rmq__parse_i64(v.ptr, v.len, &n) || n < INT32_MIN || n > INT32_MAX)
        return RMQ__FLAT_OTHER;
    *out = (int32_t)n;
    return RMQ__FLAT_OK;
}

/* A header number as fastjson writes it, read where it stands: '-'? and 1
 * to 10 digits, in int32's range, then the member ends. Ten digits fit in
 * 64 bits: no overflow check per digit. Anything else (a string, a '+',
 * leading zeros past ten digits) is read as a scalar and parsed. */
RMQ__INLINE int rmq__flat_i32(rmq__flat *f, int32_t *out)
{
    size_t i = f->at + (f->at < f->len && f->s[f->at] == '-'), from = i;
    size_t end = f->len - from > 10 ? from + 10 : f->len;
    uint64_t n = 0, max = UINT64_C(2147483647) + (i > f->at);
    unsigned d;
    while (i < end && (d = (unsigned)(unsigned char)f->s[i] - '0') <= 9) {
        n = n * 10u + d;
        i++;
    }
    if (i == from || i >= f->len || (f->s[i] != ',' && f->s[i] != '}')) return rmq__flat_i32_scalar(f, out);
    if (n > max) return RMQ__FLAT_OTHER;
    *out = i > from && f->s[f->at] == '-' ? (int32_t)(-(int64_t)n) : (int32_t)n;
    f->at = i;
    return RMQ__FLAT_OK;
}

/* A string value known before it is read ("JAVA" for language, "JSON"
 * for serializeTypeCurrentRPC): passed over with one compare. */
#define RMQ__VALUE_AT(f, lit) RMQ__KEY_AT((f)->s + (f)->at, (f)->len - (f)->at, lit)

/* One member of the header object, its key read (id): as
 * rmq__header_member. */
RMQ__FN int rmq__flat_member(rmq__flat *f, int id, rmq_command *c)
{
    rmq_slice v;
    int str;
    if (f->at < f->len && f->s[f->at] == '{')
        return id == RMQ__K_EXT ? rmq__flat_ext(f, c) : RMQ__FLAT_OTHER;
    switch (id) {
    case RMQ__K_CODE: return rmq__flat_i32(f, &c->code);
    case RMQ__K_OPAQUE: return rmq__flat_i32(f, &c->opaque);
    case RMQ__K_FLAG: return rmq__flat_i32(f, &c->flag);
    case RMQ__K_VERSION: return rmq__flat_i32(f, &c->version);
    case RMQ__K_SERIALIZE:
        if (RMQ__VALUE_AT(f, "\"JSON\"")) { f->at += 6; return RMQ__FLAT_OK; }
        break;
    case RMQ__K_LANGUAGE:
        if (RMQ__VALUE_AT(f, "\"JAVA\"")) { f->at += 6; c->language = 0; return RMQ__FLAT_OK; }
        break;
    default: break;
    }
    if (rmq__flat_scalar(f, &v, &str)) return RMQ__FLAT_OTHER;
    if (str && id == RMQ__K_LANGUAGE) c->language = rmq__language_code(v);
    else if (str && id == RMQ__K_REMARK) c->remark = v;
    return RMQ__FLAT_OK;
}

RMQ__FN int rmq__header_read_flat(const char *hdr, size_t len, rmq_command *c)
{
    rmq__flat f;
    int more = 1, id;
    f.s = hdr; f.len = len; f.at = 1;
    c->answer_read = 0;
    if (len < 2 || hdr[0] != '{') return RMQ__FLAT_OTHER;
    c->language = 0;
    RMQ_MEMSET(c->answer, 0, sizeof c->answer);
    if (hdr[1] == '}') more = 0, f.at = 2;
    while (more) {
        rmq_slice k;
        if (rmq__flat_key(&f, &k, &id) || rmq__flat_member(&f, id, c) || rmq__flat_next(&f, &more))
            return RMQ__FLAT_OTHER;
    }
    c->answer_read = f.at == len;
    return f.at == len ? RMQ__FLAT_OK : RMQ__FLAT_OTHER;
}

/* JSON header → command: the flat reader, else the pull reader. A command
 * the flat reader gave up on half read starts again from nothing. */
#endif

RMQ__FN int rmq__header_decode_json(char *hdr, size_t len, rmq_command *c)
{
#ifdef RMQ_NO_FAST_PATH
    return rmq__header_decode_pull(hdr, len, c);
#else
    int32_t code = c->code, opaque = c->opaque, flag = c->flag, version = c->version, language = c->language;
    rmq_slice remark = c->remark;
    size_t next = c->next;
    if (rmq__header_read_flat(hdr, len, c) == RMQ__FLAT_OK) return 0;
    c->code = code; c->opaque = opaque; c->flag = flag; c->version = version; c->language = language;
    c->remark = remark;
    c->next = next;
    return rmq__header_decode_pull(hdr, len, c);
#endif
}

/* Binary header → command, every length checked against what remains. */
RMQ__FN int rmq__header_decode_binary(const uint8_t *h, size_t len, rmq_command *c)
{
    size_t at, end;
    uint32_t rlen, elen;
    if (len < 21) return -1;
    c->code = (int16_t)rmq__be16(h);
    c->language = h[2];
    c->version = (int16_t)rmq__be16(h + 3);
    c->opaque = (int32_t)rmq__be32(h + 5);
    c->flag = (int32_t)rmq__be32(h + 9);
    rlen = rmq__be32(h + 13);
    if (rlen > len - 21) return -1;
    if (rlen) { c->remark.ptr = (const char *)h + 17; c->remark.len = rlen; }
    at = 17 + rlen;
    elen = rmq__be32(h + at);
    at += 4;
    if (elen > len - at) return -1;
    end = at + elen;
    while (at < end) {
        uint32_t kl, vl;
        if (end - at < 2) return -1;
        kl = rmq__be16(h + at); at += 2;
        if (kl > end - at || end - at - kl < 4) return -1;
        vl = rmq__be32(h + at + kl);
        if (vl > end - at - kl - 4) return -1;
        if (kl && vl) {                      /* a zero length decodes as null */
            if (c->next >= RMQ_MAX_EXT_FIELDS) return -1;
            c->ext[c->next].key.ptr = (const char *)h + at;
            c->ext[c->next].key.len = kl;
            c->ext[c->next].value.ptr = (const char *)h + at + kl + 4;
            c->ext[c->next].value.len = vl;
            c->next++;
        }
        at += kl + 4 + vl;
    }
    return 0;
}

/* Decodes the header of a checked frame (prefix at p); the body is whatever
 * follows, body_avail bytes of it present. */
RMQ__FN_CALLED int rmq__frame_decode(uint8_t *p, const rmq__frame_info *fi, size_t body_avail, rmq_command *c)
{
    int rc;
    if (RMQ__FAST_PATH) rmq__command_clear(c);
    else RMQ_MEMSET(c, 0, sizeof *c);             /* smaller */
    c->serialize = (rmq_serialize)fi->serialize;
    if (fi->serialize == RMQ_SERIALIZE_JSON) rc = rmq__header_decode_json((char *)p + 8, fi->header_len, c);
    else rc = rmq__header_decode_binary(p + 8, fi->header_len, c);
    if (rc) return -1;
    c->body = p + 8 + fi->header_len;
    c->body_len = body_avail;
    return 0;
}

/* -- message properties -------------------------------------------------- */
/* name 0x01 value 0x02 ..., without the trailing 0x02 as 4.9.3+ writes it;
 * every reader accepts both forms. */
#define RMQ__NAME_SEP '\001'
#define RMQ__PROP_SEP '\002'

#ifdef RMQ_NO_FAST_PATH
RMQ__FN void rmq__prop_put(rmq__buf *b, const char *k, const char *v, size_t vlen)
{
    if (b->len) rmq__buf_putc(b, RMQ__PROP_SEP);
    rmq__buf_puts(b, k);
    rmq__buf_putc(b, RMQ__NAME_SEP);
    rmq__buf_put(b, v, vlen);
}

#define RMQ__PROP_LIT(b, lit, v, vlen) rmq__prop_put((b), (lit), (v), (vlen))
#else
/* One property: room made once, then its bytes. A failed buffer stays
 * failed (its content is invalid anyway). */
RMQ__FN void rmq__prop_putn(rmq__buf *b, const char *k, size_t klen, const char *v, size_t vlen)
{
    size_t sep = b->len != 0, n = sep + klen + 1 + vlen;
    uint8_t *o;
    if (n > b->cap - b->len && rmq__buf_reserve(b, n)) return;   /* no call while it fits */
    o = b->p + b->len;
    if (sep) *o++ = RMQ__PROP_SEP;
    RMQ_MEMCPY(o, k, klen);
    o[klen] = RMQ__NAME_SEP;
    if (vlen) RMQ_MEMCPY(o + klen + 1, v, vlen);
    b->len += n;
}

RMQ__FN void rmq__prop_put(rmq__buf *b, const char *k, const char *v, size_t vlen)
{
    rmq__prop_putn(b, k, RMQ_STRLEN(k), v, vlen);
}

/* A property whose name is a literal: its length known at compile time. */
#define RMQ__PROP_LIT(b, lit, v, vlen) rmq__prop_putn((b), (lit), sizeof(lit) - 1, (v), (vlen))
#endif

/* Iterates key/value pairs with the lenient rule brokers use: a chunk
 * without a separator, or with an empty key or value, is skipped. */
RMQ__FN int rmq__prop_next(rmq_slice *rest, rmq_slice *key, rmq_slice *val)
{
    while (rest->len) {
        const char *s = rest->ptr, *sep;
        size_t n = 0, k;
        while (n < rest->len && s[n] != RMQ__PROP_SEP) n++;
        rest->ptr += n + (n < rest->len);
        rest->len -= n + (n < rest->len);
        sep = NULL;
        for (k = 0; k < n; k++) if (s[k] == RMQ__NAME_SEP) { sep = s + k; break; }
        if (!sep || k == 0 || k == n - 1) continue;
        key->ptr = s; key->len = k;
        val->ptr = sep + 1; val->len = n - k - 1;
        return 1;
    }
    return 0;
}

RMQ__FN RMQ__UNUSED rmq_slice rmq__prop_get(rmq_slice props, const char *name)
{
    rmq_slice k, v, found;
    found.ptr = NULL; found.len = 0;
    while (rmq__prop_next(&props, &k, &v)) if (rmq__slice_eq(k, name)) found = v;
    return found;
}

/* -- MessageBatch body --------------------------------------------------- */
/* One record per message: totalSize, magic 0, bodyCRC 0 (the broker
 * computes it), flag, bodyLen, body, propLen (short), properties. */
RMQ__FN_CALLED void rmq__batch_record(rmq__buf *b, int32_t flag, const void *body, size_t blen,
                               const uint8_t *props, size_t plen)
{
    size_t n = 22 + blen + plen, k;   /* room made once */
    uint32_t head[5];                 /* total, magic and crc (0), flag, body length */
    uint8_t *o;
    if (rmq__buf_reserve(b, n)) return;
    o = b->p + b->len;
    head[0] = (uint32_t)n; head[1] = head[2] = 0; head[3] = (uint32_t)flag; head[4] = (uint32_t)blen;
    for (k = 0; k < 5; k++) rmq__be32_put(o + 4 * k, head[k]);
    if (blen) RMQ_MEMCPY(o + 20, body, blen);
    o[20 + blen] = (uint8_t)(plen >> 8);
    o[21 + blen] = (uint8_t)plen;
    if (plen) RMQ_MEMCPY(o + 22 + blen, props, plen);
    b->len += n;
}

#ifndef RMQ_NO_ACL
/* -- SHA-1, HMAC-SHA1 and base64, for ACL signatures ----------------------- */
typedef struct rmq__sha1 {
    uint32_t h[5];
    uint64_t bytes;
    uint8_t block[64];
    size_t used;
} rmq__sha1;

static uint32_t rmq__rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

RMQ__FN void rmq__sha1_init(rmq__sha1 *s)
{
    s->h[0] = 0x67452301u; s->h[1] = 0xEFCDAB89u; s->h[2] = 0x98BADCFEu;
    s->h[3] = 0x10325476u; s->h[4] = 0xC3D2E1F0u;
    s->bytes = 0;
    s->used = 0;
}

RMQ__FN void rmq__sha1_block(rmq__sha1 *s, const uint8_t *p)
{
    uint32_t w[16], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4];
    int i;
    for (i = 0; i < 16; i++) w[i] = rmq__be32(p + 4 * i);
    for (i = 0; i < 80; i++) {
        uint32_t f, k, t;
        if (i >= 16) w[i & 15] = rmq__rol(w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15], 1);
        if (i < 20) { f = (b & c) | (~b & d); k = 0x5A827999u; }
        else if (i < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1u; }
        else if (i < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDCu; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6u; }
        t = rmq__rol(a, 5) + f + e + k + w[i & 15];
        e = d; d = c; c = rmq__rol(b, 30); b = a; a = t;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

RMQ__FN void rmq__sha1_update(rmq__sha1 *s, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    s->bytes += n;
    while (n) {
        size_t take = 64 - s->used < n ? 64 - s->used : n;
        RMQ_MEMCPY(s->block + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
        if (s->used == 64) { rmq__sha1_block(s, s->block); s->used = 0; }
    }
}

RMQ__FN void rmq__sha1_final(rmq__sha1 *s, uint8_t out[20])
{
    /* the length in bits, as two 32-bit halves: no 64-bit shift helper */
    uint32_t hi = (uint32_t)(s->bytes >> 29), lo = (uint32_t)s->bytes << 3;
    uint8_t pad = 0x80, len[8];
    int i;
    rmq__sha1_update(s, &pad, 1);
    pad = 0;
    while (s->used != 56) rmq__sha1_update(s, &pad, 1);
    rmq__be32_put(len, hi);
    rmq__be32_put(len + 4, lo);
    rmq__sha1_update(s, len, 8);
    for (i = 0; i < 5; i++) rmq__be32_put(out + 4 * i, s->h[i]);
}

/* HMAC-SHA1 (RFC 2104), fed in pieces: inner hash opened with the key. */
RMQ__FN void rmq__hmac_sha1_init(rmq__sha1 *inner, uint8_t opad_key[64], const char *key)
{
    uint8_t k[64], ipad[64];
    size_t n = RMQ_STRLEN(key), i;
    RMQ_MEMSET(k, 0, sizeof k);
    if (n > 64) { rmq__sha1 t; rmq__sha1_init(&t); rmq__sha1_update(&t, key, n); rmq__sha1_final(&t, k); }
    else RMQ_MEMCPY(k, key, n);
    for (i = 0; i < 64; i++) { ipad[i] = (uint8_t)(k[i] ^ 0x36); opad_key[i] = (uint8_t)(k[i] ^ 0x5C); }
    rmq__sha1_init(inner);
    rmq__sha1_update(inner, ipad, 64);
}

RMQ__FN void rmq__hmac_sha1_final(rmq__sha1 *inner, const uint8_t opad_key[64], uint8_t out[20])
{
    rmq__sha1 outer;
    uint8_t ih[20];
    rmq__sha1_final(inner, ih);
    rmq__sha1_init(&outer);
    rmq__sha1_update(&outer, opad_key, 64);
    rmq__sha1_update(&outer, ih, 20);
    rmq__sha1_final(&outer, out);
}

/* Standard base64 with padding; out needs 4 * ((n + 2) / 3) + 1 bytes. */
RMQ__FN void rmq__base64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18]; out[o++] = t[(v >> 12) & 63]; out[o++] = t[(v >> 6) & 63]; out[o++] = t[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0u);
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

static int rmq__slice_cmp(rmq_slice a, rmq_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = RMQ_MEMCMP(a.ptr, b.ptr, n);
    return c ? c : (a.len < b.len ? -1 : a.len > b.len);
}

/* The signing input: every ext field but Signature, values only, in key
 * order (Java's String.compareTo: byte order for ASCII keys), then the
 * body. Duplicate keys count once, the last value winning, as on the
 * broker's side. A request of version 399 (V4_9_3) or below leaves
 * _UNIQUE_KEY_QUERY out, as both brokers do then (4.9.x at any version,
 * 5.x at those): Java signs it and its queries fail on 4.9.x. */
RMQ__FN rmq_err rmq__acl_before(void *arg, const char *addr, rmq_command *req)
{
    rmq_acl *acl = (rmq_acl *)arg;
    uint8_t order[RMQ_MAX_EXT_FIELDS], opad[64], mac[20];
    rmq__sha1 inner;
    size_t i, k, n = 0;
    rmq_err err;
    (void)addr;
    err = rmq_command_put_ext(req, "AccessKey", acl->access_key);
    if (err == RMQ_OK && acl->security_token && *acl->security_token)
        err = rmq_command_put_ext(req, "SecurityToken", acl->security_token);
    if (err != RMQ_OK) return err;
    for (i = 0; i < req->next; i++) {
        if (rmq__slice_eq(req->ext[i].key, "Signature") ||
            (req->version <= 399 && rmq__slice_eq(req->ext[i].key, "_UNIQUE_KEY_QUERY")))
            continue;
        for (k = n; k > 0 && rmq__slice_cmp(req->ext[order[k - 1]].key, req->ext[i].key) > 0; k--) order[k] = order[k - 1];
        order[k] = (uint8_t)i;
        n++;
    }
    rmq__hmac_sha1_init(&inner, opad, acl->secret_key);
    for (i = 0; i < n; i++) {
        const rmq_ext_field *f = &req->ext[order[i]];
        if (i + 1 < n && rmq__slice_cmp(f->key, req->ext[order[i + 1]].key) == 0) continue;
        rmq__sha1_update(&inner, f->value.ptr, f->value.len);
    }
    if (req->body_len) rmq__sha1_update(&inner, req->body, req->body_len);
    rmq__hmac_sha1_final(&inner, opad, mac);
    rmq__base64(mac, sizeof mac, acl->signature);
    return rmq_command_put_ext(req, "Signature", acl->signature);
}

RMQDEF const rmq_rpc_hook *rmq_acl_hook_init(rmq_acl *acl, const char *access_key, const char *secret_key,
                                             const char *security_token)
{
    if (!acl || !access_key || !secret_key) return NULL;
    RMQ_MEMSET(acl, 0, sizeof *acl);
    acl->access_key = access_key;
    acl->secret_key = secret_key;
    acl->security_token = security_token;
    acl->hook.arg = acl;
    acl->hook.before = rmq__acl_before;
    return &acl->hook;
}
#endif

#if !defined(RMQ_NO_TRANSACTION) || !defined(RMQ_NO_ADMIN)
/* -- the stored-message format (a check's body, a viewed or queried message) */
#define RMQ__MAGIC_V1 0xDAA320A7u      /* 1-byte topic length */
#define RMQ__MAGIC_V2 0xDAA320ABu      /* 5.x, 2-byte topic length */
#define RMQ__SYSFLAG_BORNHOST_V6 0x10
#define RMQ__SYSFLAG_STOREHOST_V6 0x20

/* A host as stored: 4 or 16 address bytes, then a 4-byte port. */
typedef struct rmq__stored_host {
    const uint8_t *ip;
    size_t iplen;
    uint32_t port;
} rmq__stored_host;

typedef struct rmq__stored {
    int32_t store_size, body_crc, queue_id, flag, sysflag, reconsume_times;
    uint32_t magic;
    int64_t queue_offset, commit_log_offset, born_ts, store_ts, prepared_tx_offset;
    rmq__stored_host born, store;
    rmq_slice topic, body, props;
} rmq__stored;

static int64_t rmq__be64(const uint8_t *p)
{
    return (int64_t)(((uint64_t)rmq__be32(p) << 32) | rmq__be32(p + 4));
}

/* A field of a stored message: a big-endian length of width bytes, then
 * that many bytes, all within total; *at moves past it. */
static int rmq__stored_field(const uint8_t *p, size_t total, size_t *at, size_t width, rmq_slice *out)
{
    size_t len;
    if (*at > total || width > total - *at) return -1;
    len = width == 4 ? rmq__be32(p + *at) : width == 2 ? rmq__be16(p + *at) : p[*at];
    *at += width;
    if (len > total - *at) return -1;
    out->ptr = (const char *)p + *at;
    out->len = len;
    *at += len;
    return 0;
}

/* A host of iplen address bytes at *at (the caller checked they arrived). */
static void rmq__stored_host_at(const uint8_t *p, size_t *at, size_t iplen, rmq__stored_host *h)
{
    h->ip = p + *at;
    h->iplen = iplen;
    h->port = rmq__be32(p + *at + iplen);
    *at += iplen + 4;
}

/* MessageDecoder.decode of the record at the start of p[0..n): the fixed
 * fields (hosts of 8 or 20 bytes by sysFlag), then body, topic (1-byte
 * length, 2 in the V2 magic) and properties. Every length is checked
 * against the record's TOTALSIZE and TOTALSIZE against n; the fields must
 * fill the record exactly, so a lying length is refused rather than read
 * past. Returns 0, or -1 when it is malformed; store_size is how far the
 * next record of a QUERY_MESSAGE body starts. */
RMQ__FN int rmq__stored_decode(const uint8_t *p, size_t n, rmq__stored *m)
{
    uint32_t total;
    size_t at, born, store;
    if (n < 40) return -1;
    total = rmq__be32(p);
    m->magic = rmq__be32(p + 4);
    if (total > n || total < 40 || (m->magic != RMQ__MAGIC_V1 && m->magic != RMQ__MAGIC_V2)) return -1;
    m->store_size = (int32_t)total;
    m->body_crc = (int32_t)rmq__be32(p + 8);
    m->queue_id = (int32_t)rmq__be32(p + 12);
    m->flag = (int32_t)rmq__be32(p + 16);
    m->queue_offset = rmq__be64(p + 20);
    m->commit_log_offset = rmq__be64(p + 28);
    m->sysflag = (int32_t)rmq__be32(p + 36);
    born = (m->sysflag & RMQ__SYSFLAG_BORNHOST_V6) ? 16 : 4;
    store = (m->sysflag & RMQ__SYSFLAG_STOREHOST_V6) ? 16 : 4;
    if (total < 40 + 8 + born + 4 + 8 + store + 4 + 4 + 8) return -1;
    at = 40;
    m->born_ts = rmq__be64(p + at);
    at += 8;
    rmq__stored_host_at(p, &at, born, &m->born);
    m->store_ts = rmq__be64(p + at);
    at += 8;
    rmq__stored_host_at(p, &at, store, &m->store);
    m->reconsume_times = (int32_t)rmq__be32(p + at);
    m->prepared_tx_offset = rmq__be64(p + at + 4);
    at += 12;
    if (rmq__stored_field(p, total, &at, 4, &m->body) ||
        rmq__stored_field(p, total, &at, m->magic == RMQ__MAGIC_V2 ? 2 : 1, &m->topic) ||
        rmq__stored_field(p, total, &at, 2, &m->props) || at != total)
        return -1;
    return 0;
}
#endif

/* -- identifiers --------------------------------------------------------- */
static const char rmq__hexup[] = "0123456789ABCDEF";

RMQ__FN void rmq__hex(char *out, const uint8_t *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) { out[2 * i] = rmq__hexup[in[i] >> 4]; out[2 * i + 1] = rmq__hexup[in[i] & 15]; }
    out[2 * n] = 0;
}

RMQ__FN int rmq__unhex(const char *in, size_t n, uint8_t *out)
{
    size_t i;
    if (n & 1) return -1;
    for (i = 0; i < n; i += 2) {
        unsigned hi = rmq__hexval((unsigned char)in[i]), lo = rmq__hexval((unsigned char)in[i + 1]);
        if (hi > 15 || lo > 15) return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Parses dotted IPv4 into 4 bytes. */
RMQ__FN int rmq__ipv4_parse(const char *s, size_t n, uint8_t *out)
{
    size_t i = 0;
    int part;
    for (part = 0; part < 4; part++) {
        unsigned v = 0, digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) { v = v * 10 + (unsigned)(s[i++] - '0'); digits++; }
        if (!digits || v > 255) return -1;
        out[part] = (uint8_t)v;
        if (part < 3) { if (i >= n || s[i] != '.') return -1; i++; }
    }
    return i == n ? 0 : -1;
}

/* Parses IPv6 text (with or without brackets, "::" allowed, no zone) into
 * 16 bytes: the groups in order, then those after the "::" moved to the
 * end with zeros between. */
RMQ__FN int rmq__ipv6_parse(const char *s, size_t n, uint8_t *out)
{
    int ng = 0, gap = -1;
    size_t i = 0, tail;
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') { s++; n -= 2; }
    if (n >= 2 && s[0] == ':' && s[1] == ':') { gap = 0; i = 2; }
    while (i < n && ng < 8) {
        unsigned v = 0, digits = 0, h;
        while (i < n && digits < 4 && (h = rmq__hexval((unsigned char)s[i])) < 16) { v = v << 4 | h; i++; digits++; }
        if (!digits || (i < n && s[i] == '.')) return -1;   /* embedded IPv4: not used by brokers */
        out[2 * ng] = (uint8_t)(v >> 8);
        out[2 * ng++ + 1] = (uint8_t)v;
        if (i == n) break;
        if (s[i++] != ':') return -1;
        if (i < n && s[i] == ':') { if (gap >= 0) return -1; gap = ng; i++; }
    }
    if (i != n || (gap < 0 && ng != 8)) return -1;
    if (gap < 0) return 0;
    tail = 2 * (size_t)(ng - gap);
    RMQ_MEMMOVE(out + 16 - tail, out + 2 * gap, tail);
    RMQ_MEMSET(out + 2 * gap, 0, 16 - 2 * (size_t)ng);
    return 0;
}

/* Address text → 4 or 16 bytes; returns the byte count or -1. */
RMQ__FN_CALLED int rmq__ip_bytes(const char *text, uint8_t *out)
{
    size_t n = RMQ_STRLEN(text);
    if (rmq__ipv4_parse(text, n, out) == 0) return 4;
    if (rmq__ipv6_parse(text, n, out) == 0) return 16;
    return -1;
}

/* Splits "host:port" at the last ':' (as Java does, so bare IPv6 works). */
RMQ__FN int rmq__split_addr(const char *addr, char *host, size_t hcap, uint16_t *port)
{
    size_t n = RMQ_STRLEN(addr), i = n, hl;
    int32_t v;
    while (i > 0 && addr[i - 1] != ':') i--;
    if (i == 0 || i == n) return -1;
    if (rmq__parse_i32(addr + i, n - i, &v) || v <= 0 || v > 65535) return -1;
    hl = i - 1;
    if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') { addr++; hl -= 2; }
    if (hl == 0 || hl >= hcap) return -1;
    RMQ_MEMCPY(host, addr, hl);
    host[hl] = 0;
    *port = (uint16_t)v;
    return 0;
}

/* "a.b.c.d:port", or IPv6 as Java's InetSocketAddress prints it: eight
 * lowercase groups without leading zeros, not shortened, in brackets. */
RMQ__FN void rmq__host_text(rmq__sb *sb, const uint8_t *ip, size_t iplen, uint32_t port)
{
    char num[24];
    size_t i;
    if (iplen == 4) {
        for (i = 0; i < 4; i++) { if (i) rmq__sb_putn(sb, ".", 1); rmq__sb_putn(sb, num, rmq__u64_to_dec(num, ip[i])); }
    } else {
        rmq__sb_putn(sb, "[", 1);
        for (i = 0; i < 8; i++) {
            char h[5];
            int k, started = 0, o = 0;
            unsigned v = (unsigned)(ip[2 * i] << 8 | ip[2 * i + 1]);
            for (k = 12; k >= 0; k -= 4) {
                unsigned d = (v >> k) & 15;
                if (d || started || k == 0) { h[o++] = (char)(rmq__hexup[d] | 32); started = 1; }
            }
            if (i) rmq__sb_putn(sb, ":", 1);
            rmq__sb_putn(sb, h, (size_t)o);
        }
        rmq__sb_putn(sb, "]", 1);
    }
    rmq__sb_putn(sb, ":", 1);
    rmq__sb_putn(sb, num, rmq__u64_to_dec(num, port));
}

/* Offset message id: store host ip (4|16) + port (4) + commit-log offset
 * (8), hex. Writes "ip:port" and the offset. */
RMQDEF rmq_err rmq_offset_msg_id_decode(const char *id, char *addr, size_t cap, int64_t *offset)
{
    uint8_t b[28];
    size_t iplen;
    uint64_t off = 0;
    int i;
    rmq__sb sb;
    size_t n = id ? RMQ_STRLEN(id) : 0;
    if (!addr || !offset || (n != 32 && n != 56) || rmq__unhex(id, n, b)) return RMQ_ERR_INVALID_ARG;
    iplen = n == 32 ? 4 : 16;
    for (i = 0; i < 8; i++) off = off << 8 | b[iplen + 4 + i];
    *offset = (int64_t)off;
    rmq__sb_init(&sb, addr, cap);
    rmq__host_text(&sb, b, iplen, rmq__be32(b + iplen));
    return RMQ_OK;
}

/* Start of the UTC month holding epoch_ms, and the start of the next.
 * Whole 400-year cycles (146,097 days: the Gregorian calendar repeats)
 * are skipped, then whole years from 1970, then months: a walk of at most
 * 400 + 12 steps, taken once a month, in less code than the civil-date
 * conversion and back. */
RMQ__FN void rmq__month_bounds(int64_t epoch_ms, int64_t *start, int64_t *next)
{
    uint32_t days, first, y = 1970, m = 1, len;
    if (epoch_ms < 0) epoch_ms = 0;
    /* 86,400,000 = 2^10 * 375 * 225; floors of floors are the floor */
    days = (uint32_t)rmq__div16(rmq__div16((uint64_t)epoch_ms >> 10, 375u, NULL), 225u, NULL);
    first = days - days % 146097u;
    for (;;) {
        uint32_t leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        len = m != 1 ? 0 : 365u + leap;                  /* a whole year, from its January */
        if (!len || days - first < len) len = m == 2 ? 28u + leap : 30u + ((m + (m >> 3)) & 1u);
        if (days - first < len) break;
        first += len;
        if (len > 31u) y++;
        else if (++m > 12) { m = 1; y++; }
    }
    *start = (int64_t)first * 86400000;
    *next = *start + (int64_t)len * 86400000;
}

/* UNIQ_KEY (MessageClientIDSetter layout): ip (4|16) ‖ pid (2) ‖ a random
 * 4-byte word (Java: the class loader's hash) ‖ ms since the start of the
 * UTC month (4) ‖ counter (2), uppercase hex. The fixed part is kept in hex,
 * as Java keeps it: a message formats only its time and counter. */
typedef struct rmq__uniq {
    char fixhex[2 * 22 + 1];
    size_t fixlen;          /* hex digits in fixhex */
    uint16_t counter;
    int64_t month_start, month_next;
} rmq__uniq;

RMQ__FN_CALLED void rmq__uniq_init(rmq__uniq *u, const char *ip_text, uint32_t pid, uint32_t random)
{
    uint8_t fix[22];
    int n = rmq__ip_bytes(ip_text ? ip_text : "", fix);
    if (n < 0) { rmq__be32_put(fix, random ^ 0x7F000001u); n = 4; }
    fix[n] = (uint8_t)(pid >> 8);
    fix[n + 1] = (uint8_t)pid;
    rmq__be32_put(fix + n + 2, random);
    rmq__hex(u->fixhex, fix, (size_t)n + 6);
    u->fixlen = 2 * ((size_t)n + 6);
    u->counter = 0;
    u->month_start = 0;
    u->month_next = 0;
}

/* out must hold 57 bytes; returns the id's length. */
RMQ__FN size_t rmq__uniq_next(rmq__uniq *u, int64_t now_epoch_ms, char *out)
{
    uint8_t b[6];
    int64_t delta;
    if (now_epoch_ms >= u->month_next || now_epoch_ms < u->month_start)
        rmq__month_bounds(now_epoch_ms, &u->month_start, &u->month_next);
    delta = now_epoch_ms - u->month_start;
    rmq__be32_put(b, (uint32_t)delta);
    b[4] = (uint8_t)(u->counter >> 8);
    b[5] = (uint8_t)u->counter;
    u->counter++;
    RMQ_MEMCPY(out, u->fixhex, u->fixlen);
    rmq__hex(out + u->fixlen, b, sizeof b);
    return u->fixlen + 2 * sizeof b;
}

/* Java's String.hashCode over the UTF-16 code units of a UTF-8 string. */
RMQDEF int32_t rmq_java_string_hash(const char *utf8)
{
    uint32_t h = 0;
    const unsigned char *s = (const unsigned char *)utf8;
    while (s && *s) {
        uint32_t cp = *s++;
        int more = 0;
        if (cp >= 0xF0 && cp < 0xF8) { cp &= 7; more = 3; }
        else if (cp >= 0xE0) { cp &= 15; more = 2; }
        else if (cp >= 0xC0) { cp &= 31; more = 1; }
        else if (cp >= 0x80) cp = 0xFFFD;               /* a stray continuation byte */
        for (; more && (*s & 0xC0) == 0x80; more--) cp = cp << 6 | (*s++ & 63u);
        if (more) cp = 0xFFFD;                          /* truncated sequence */
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}

#ifndef RMQ_NO_SELECTOR
RMQDEF int rmq_select_by_hash(const rmq_queue *queues, size_t n, const rmq_message *m, void *arg)
{
    int32_t h = rmq_java_string_hash((const char *)arg);
    int32_t r;
    (void)queues; (void)m;
    if (n == 0 || !arg) return -1;
    /* Java: hashCode % size, then abs of a negative result. */
    r = (int32_t)(h % (int32_t)n);
    return r < 0 ? -r : r;
}

RMQDEF int rmq_select_by_id(const rmq_queue *queues, size_t n, const rmq_message *m, void *arg)
{
    uint64_t id;
    uint32_t rem, n32;
    (void)queues; (void)m;
    if (n == 0 || !arg) return -1;
    id = *(const uint64_t *)arg;
    if (n <= 0xFFFFu) {
        rmq__div16(id, (uint32_t)n, &rem);
        return (int)rem;
    }
    for (rem = 0, n32 = 64; n32-- > 0;) {           /* bit by bit: queue counts past 65,535 */
        uint64_t r2 = ((uint64_t)rem << 1) | ((id >> n32) & 1u);
        rem = (uint32_t)(r2 >= n ? r2 - n : r2);
    }
    return (int)rem;
}
#endif

/* -- names of things ----------------------------------------------------- */
RMQDEF const char *rmq_strerror(rmq_err err)
{
#ifdef RMQ_NO_ERROR_TEXT
    (void)err;
    return "error (texts cut by RMQ_NO_ERROR_TEXT)";
#else
    /* one string, the texts in rmq_err order, each ended by its NUL: no
     * table of pointers (4 bytes a text on a 32-bit target) */
    static const char text[] =
        "ok\0"
        "invalid argument\0"
        "invalid configuration\0"
        "the producer service state does not allow this call\0"
        "the producer group has been created before in this client instance\0"
        "out of memory\0"
        "a configured limit was reached\0"
        "too many sends pending\0"
        "the message is not valid\0"
        "no name server address\0"
        "no route info for the topic\0"
        "the broker's address is not known\0"
        "could not connect\0"
        "timed out\0"
        "the connection was lost\0"
        "the peer sent a malformed frame\0"
        "the answer is larger than the frame limit\0"
        "the broker answered with an error\0"
        "the producer was shut down\0"
        "not allowed inside a callback\0"
        "the queue selector chose no valid queue\0"
        "not supported by this build or port\0"
        "input/output error\0";
    const char *s = text;
    unsigned i;
    if ((unsigned)err >= RMQ_ERR__COUNT) return "unknown error";
    for (i = 0; i < (unsigned)err; i++) s += RMQ_STRLEN(s) + 1;
    return s;
#endif
}

RMQDEF const char *rmq_response_code_name(int code)
{
#ifdef RMQ_NO_ERROR_TEXT
    (void)code;
    return "";
#else
    /* the codes, and their names in the same order in one string, each
     * ended by its NUL, UNKNOWN last: a walk instead of a switch */
    static const uint16_t codes[] = {
        0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 29, 204, 205, 206, 207, 208, 215, 1500
    };
    static const char names[] =
        "SUCCESS\0"
        "SYSTEM_ERROR\0"
        "SYSTEM_BUSY\0"
        "REQUEST_CODE_NOT_SUPPORTED\0"
        "TRANSACTION_FAILED\0"
        "FLUSH_DISK_TIMEOUT\0"
        "SLAVE_NOT_AVAILABLE\0"
        "FLUSH_SLAVE_TIMEOUT\0"
        "MESSAGE_ILLEGAL\0"
        "SERVICE_NOT_AVAILABLE\0"
        "VERSION_NOT_SUPPORTED\0"
        "NO_PERMISSION\0"
        "TOPIC_NOT_EXIST\0"
        "TOPIC_EXIST_ALREADY\0"
        "PULL_NOT_FOUND\0"
        "PULL_RETRY_IMMEDIATELY\0"
        "PULL_OFFSET_MOVED\0"
        "QUERY_NOT_FOUND\0"
        "INVALID_PARAMETER\0"
        "NO_BUYER_ID\0"
        "NOT_IN_CURRENT_UNIT\0"
        "CONSUMER_NOT_ONLINE\0"
        "CONSUME_MSG_TIMEOUT\0"
        "NO_MESSAGE\0"
        "FLOW_CONTROL\0"
        "GO_AWAY\0"
        "UNKNOWN";
    const char *s = names;
    size_t i;
    for (i = 0; i < sizeof codes / sizeof *codes && codes[i] != code; i++) s += RMQ_STRLEN(s) + 1;
    return s;
#endif
}

RMQDEF const char *rmq_version(void) { return RMQ_VERSION_TEXT; }

/* ======================================================================== */
/* 10. Remoting                                                              */
/* ======================================================================== */
/* Connections keyed by "host:port", requests matched by opaque, every
 * deadline in one heap. It knows nothing of producers: requests complete
 * through a done function, and requests the broker sends to us go to one
 * handler. Nothing here calls a done function from inside rmq__invoke(). */

/* Pieces of one scatter write: a header and a body per request. */
#define RMQ__HELD(c) (RMQ__LINGER ? (c)->held : 0u)
#define RMQ__IOV_MAX (RMQ__LINGER && 2 * RMQ_LINGER_MAX_FRAMES > 16 ? 2 * RMQ_LINGER_MAX_FRAMES : 16)

typedef struct rmq__remoting rmq__remoting;
typedef struct rmq__conn rmq__conn;
typedef struct rmq__req rmq__req;

/* A deadline in the heap; `kind` says what it belongs to. */
typedef struct rmq__timer {
    uint32_t at;
    int32_t pos;            /* place in the heap, -1 when not armed, RMQ__POS_RING in the ring */
    uint8_t kind;
} rmq__timer;
#define RMQ__POS_RING (-2)

/* REPLY: a waiting request's deadline (section 15); HOOK: a timer that
 * runs its own function (rmq__hook_timer, section 13). */
enum { RMQ__TIMER_REQUEST = 1, RMQ__TIMER_USER = 2, RMQ__TIMER_LINGER = 3, RMQ__TIMER_REPLY = 4, RMQ__TIMER_HOOK = 5 };

typedef void (*rmq__done_fn)(rmq__remoting *rm, rmq__req *r, rmq_err err,
                             const rmq_command *resp, const rmq_reason *why);

enum { RMQ__REQ_QUEUED, RMQ__REQ_AWAITING, RMQ__REQ_ORPHAN };

#ifndef RMQ_NO_FAST_PATH
/* Room a request's owner lends for the request being sent (rmq__rq.lend):
 * the request may outlive its owner (a timed-out or shut-down send's may
 * still be queued, be written or await its answer), so the block both sit
 * in is freed by the last of the two to let go: the owner, or the request
 * (rmq__req_free), which gives it to the remoting's stash. Lent only from
 * a block of the remoting's memory context. */
typedef struct rmq__lend {
    void *block;            /* as rmq__stash_take gave it */
    uint8_t *at;            /* the room: a request, then its header */
    size_t room;
    size_t want;            /* what the last request sent with it needed */
    uint8_t holders;        /* the owner, and a request living in the room */
} rmq__lend;
#endif

struct rmq__req {
    rmq__timer timer;       /* first: a timer of kind REQUEST is its request */
    int32_t opaque;
    int32_t code;
    uint8_t oneway, state, is_response;
    uint32_t slot;
    uint32_t rx_mark;       /* frames received on conn when it was written */
    rmq__conn *conn;
    rmq__buf head;          /* prefix + header (later: what an orphan must still write) */
    const uint8_t *body;    /* the caller's, valid until done */
    size_t body_len;
    size_t sent;            /* of head.len + body_len */
    rmq__req *next_out;
    rmq__done_fn done;
    void *owner;
#ifndef RMQ_NO_FAST_PATH
    rmq__lend *lend;        /* the room it lives in, NULL: a block of its own */
#endif
};

enum { RMQ__CONN_FREE = 0, RMQ__CONN_CONNECTING, RMQ__CONN_OPEN, RMQ__CONN_BACKOFF };

struct rmq__conn {
    uint8_t state;
    uint8_t failing;        /* failed inside a call that must not complete requests */
    uint8_t timed_out;      /* its connect timed out: back off before the next */
    rmq_err fail_err;
    char addr[RMQ_ADDR_MAX_LEN + 1];
    void *h;
    uint32_t deadline;      /* connect deadline, or end of backoff */
    rmq__req *out_head, *out_tail;
    uint8_t *rbuf;
    size_t rlen, rcap;
    uint32_t skip;          /* bytes of an oversized frame still to discard */
    uint32_t rx_frames;
    uint32_t inflight;
    uint32_t epoch;         /* renumbered (rmq__remoting's count) when it connects and
                             * when it fails: a reader of it stops; a broker's
                             * registration (its heartbeat) is per connection */
    uint32_t held, held_bytes;  /* requests queued, unwritten, for the linger */
#ifndef RMQ_NO_ADDR_SERVER
    /* A raw connection (the address server's HTTP) hands its bytes to this
     * function instead of the frame decoder; len 0 with data NULL: closed. */
    void (*raw)(void *arg, const uint8_t *data, size_t len);
    void *raw_arg;
#endif
    rmq_reason why;
};

/* A request the broker sent us (transaction check, reply push, ...). */
typedef void (*rmq__server_fn)(rmq__remoting *rm, void *arg, rmq__conn *c, const rmq_command *req);
/* A timer of kind RMQ__TIMER_USER fired. */
typedef void (*rmq__timer_fn)(rmq__remoting *rm, void *arg, rmq__timer *t);

struct rmq__remoting {
    const rmq_port *port;
    void *mem;
    rmq__conn conns[RMQ_MAX_CONNECTIONS];
    int conns_hi;           /* no slot from here on was ever used: a turn looks no further */
    uint32_t epochs;        /* the last number given a connection's epoch */
#ifndef RMQ_NO_FAST_PATH
    rmq__conn *last_found;  /* by rmq__conn_find */
#endif
    rmq__req **slots;       /* RMQ_MAX_INFLIGHT, by opaque % RMQ_MAX_INFLIGHT */
    uint32_t *free_slots;
    uint32_t nfree;
    uint32_t opaque_seq;
    rmq__timer **heap;
    size_t nheap, heapcap;
#ifndef RMQ_NO_FAST_PATH
    int32_t *ring;          /* RMQ_MAX_INFLIGHT opaques of requests, by deadline (rmq__req_timer_arm) */
    uint32_t ring_head, ring_n;
    uint32_t ring_last;     /* the deadline of the last one in */
#endif
    uint32_t hold_ms;       /* the request being sent may wait this long for others */
    rmq__req *done_head, *done_tail;   /* oneway requests written, to complete */
    rmq__stash reqs;        /* freed requests, for the next ones */
    rmq_command rx;
    rmq_wait_item *items;
    rmq__conn **item_conn;
    rmq_serialize serialize;
    int language;
    uint32_t connect_timeout_ms;
    uint32_t backoff_ms;
    const rmq_rpc_hook *hook;
    rmq__server_fn on_request;
    void *on_request_arg;
    rmq__timer_fn on_timer;
    void *on_timer_arg;
    int in_invoke;
    uint32_t reconnects;
    void *mutex;            /* the instance's lock, released around wait() */
    int failing;            /* inside rmq__conn_fail */
    int closing;            /* tearing down: nothing new is opened or sent */
    /* Scratch kept off the stack (the send path must fit small MCU stacks):
     * the command being encoded (rmq__tx_command: filled and encoded within
     * one call, never carrying a header's values between layers), and
     * reasons being composed. */
    rmq_command tx;
    rmq__timer t_linger;    /* armed while requests are held: writes them */
    rmq_iovec iov[RMQ__IOV_MAX];
    rmq_reason why;
    rmq_reason fail_why;
    rmq_reason timer_why;
#ifndef RMQ_NO_LOG
    char log_line[192];
#endif
};

static uint32_t rmq__now(const rmq__remoting *rm) { return rm->port->now_ms(rm->port->ctx); }

/* -- the deadline heap (a binary min-heap, wrap-safe order) --------------- */
static int rmq__timer_before(const rmq__timer *a, const rmq__timer *b) { return rmq__tdiff(a->at, b->at) < 0; }

RMQ__FN void rmq__heap_swap(rmq__remoting *rm, size_t i, size_t j)
{
    rmq__timer *t = rm->heap[i];
    rm->heap[i] = rm->heap[j];
    rm->heap[j] = t;
    rm->heap[i]->pos = (int32_t)i;
    rm->heap[j]->pos = (int32_t)j;
}

RMQ__FN void rmq__heap_up(rmq__remoting *rm, size_t i)
{
    while (i > 0 && rmq__timer_before(rm->heap[i], rm->heap[(i - 1) / 2])) {
        rmq__heap_swap(rm, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* The hole t leaves goes down the smaller children to a leaf, and the last
 * timer goes up from there: it is among the latest, so it seldom climbs,
 * and the way down costs one compare a level, not two. A request's timer
 * is cancelled when it is answered, mostly at the root. */
RMQ__FN void rmq__timer_cancel(rmq__remoting *rm, rmq__timer *t)
{
    size_t i, l;
    if (t->pos < 0) { t->pos = -1; return; }     /* in the ring: left there, dead (rmq__ring_front) */
    i = (size_t)t->pos;
    t->pos = -1;
    rm->nheap--;
    if (i == rm->nheap) return;
    while ((l = 2 * i + 1) < rm->nheap) {
        if (l + 1 < rm->nheap && rmq__timer_before(rm->heap[l + 1], rm->heap[l])) l++;
        rm->heap[i] = rm->heap[l];
        rm->heap[i]->pos = (int32_t)i;
        i = l;
    }
    rm->heap[i] = rm->heap[rm->nheap];
    rm->heap[i]->pos = (int32_t)i;
    rmq__heap_up(rm, i);
}

/* Arms (or re-arms) t for `at`. The heap grows by doubling; it only ever
 * holds timers of bounded objects (requests, sends, the instance's own). */
RMQ__FN rmq_err rmq__timer_arm(rmq__remoting *rm, rmq__timer *t, uint32_t at)
{
    rmq__timer_cancel(rm, t);
    if (rm->nheap == rm->heapcap) {
        size_t ncap = rm->heapcap ? rm->heapcap * 2 : 64;
        rmq__timer **nh = (rmq__timer **)RMQ_MALLOC(rm->mem, ncap * sizeof *nh);
        if (!nh) return RMQ_ERR_NO_MEMORY;
        if (rm->nheap) RMQ_MEMCPY(nh, rm->heap, rm->nheap * sizeof *nh);
        if (rm->heap) RMQ_FREE(rm->mem, rm->heap);
        rm->heap = nh;
        rm->heapcap = ncap;
    }
    t->at = at;
    t->pos = (int32_t)rm->nheap;
    rm->heap[rm->nheap++] = t;
    rmq__heap_up(rm, rm->nheap - 1);
    return RMQ_OK;
}

/* -- request deadlines in the order they were armed ----------------------- */
/* Requests mostly share one timeout, so their deadlines come in the order
 * they are armed: a ring of their opaques takes each in and out in O(1),
 * where the heap takes a climb and a descent. A cancelled one is left in
 * place (its pos says so) and dropped when it reaches the front; the opaque
 * table tells whether an entry still stands for a live request. A deadline
 * earlier than the last one in, or a full ring, goes to the heap. */
#ifndef RMQ_NO_FAST_PATH
RMQ__FN rmq__timer *rmq__ring_front(rmq__remoting *rm)
{
    while (rm->ring_n) {
        int32_t o = rm->ring[rm->ring_head];
        rmq__req *r = rm->slots[(uint32_t)o % RMQ_MAX_INFLIGHT];
        if (r && r->opaque == o && r->timer.pos == RMQ__POS_RING) return &r->timer;
        rm->ring_head = rm->ring_head + 1 == RMQ_MAX_INFLIGHT ? 0 : rm->ring_head + 1;
        rm->ring_n--;
    }
    return NULL;
}

/* The ring names r by its opaque: r is in the opaque table before the
 * ring is read again. */
RMQ__FN rmq_err rmq__req_timer_arm(rmq__remoting *rm, rmq__req *r, uint32_t at)
{
    uint32_t i = rm->ring_head + rm->ring_n;
    if (rm->ring_n == RMQ_MAX_INFLIGHT || (rm->ring_n && rmq__tdiff(at, rm->ring_last) < 0))
        return rmq__timer_arm(rm, &r->timer, at);
    rmq__timer_cancel(rm, &r->timer);
    rm->ring[i < RMQ_MAX_INFLIGHT ? i : i - RMQ_MAX_INFLIGHT] = r->opaque;
    rm->ring_n++;
    rm->ring_last = at;
    r->timer.at = at;
    r->timer.pos = RMQ__POS_RING;
    return RMQ_OK;
}
#define RMQ__RING_BYTES (RMQ_MAX_INFLIGHT * sizeof(int32_t))
#else
#define rmq__ring_front(rm) ((rmq__timer *)NULL)
#define rmq__req_timer_arm(rm, r, at) rmq__timer_arm((rm), &(r)->timer, (at))
#define RMQ__RING_BYTES 0u
#endif

/* The timer due first, in the heap or the ring; NULL when none is armed. */
RMQ__FN rmq__timer *rmq__timer_next(rmq__remoting *rm)
{
    rmq__timer *f = rmq__ring_front(rm), *h = rm->nheap ? rm->heap[0] : NULL;
    return !f || (h && rmq__timer_before(h, f)) ? h : f;
}

/* wait, cut to what is left until the first timer is due (0: one is). */
RMQ__FN uint32_t rmq__timer_wait(rmq__remoting *rm, uint32_t now, uint32_t wait)
{
    rmq__timer *t = rmq__timer_next(rm);
    int32_t left = t ? rmq__tdiff(t->at, now) : 0;
    return !t ? wait : left <= 0 ? 0u : (uint32_t)left < wait ? (uint32_t)left : wait;
}

/* -- setup --------------------------------------------------------------- */
/* Called, not inlined into the instance's creation: smaller at -Os. */
static RMQ__NOINLINE rmq_err rmq__remoting_init(rmq__remoting *rm, const rmq_port *port, void *mem)
{
    uint32_t i;
    RMQ_MEMSET(rm, 0, sizeof *rm);
    rm->port = port;
    rm->mem = mem;
    rm->connect_timeout_ms = RMQ_CONNECT_TIMEOUT_MS;
    rm->backoff_ms = RMQ_CONNECT_BACKOFF_MS;
    rm->language = 7;
    if (RMQ__LINGER) {
        rm->t_linger.pos = -1;
        rm->t_linger.kind = RMQ__TIMER_LINGER;
    }
    /* The opaque table and the wait list in one block: pointers first,
     * then the wait items, then the 32-bit free slots and the ring. */
    rm->slots = (rmq__req **)RMQ_MALLOC(mem, RMQ_MAX_INFLIGHT * sizeof *rm->slots +
                                                 RMQ_MAX_CONNECTIONS * (sizeof *rm->item_conn + sizeof *rm->items) +
                                                 RMQ_MAX_INFLIGHT * sizeof *rm->free_slots + RMQ__RING_BYTES);
    if (!rm->slots) return RMQ_ERR_NO_MEMORY;
    rm->item_conn = (rmq__conn **)(rm->slots + RMQ_MAX_INFLIGHT);
    rm->items = (rmq_wait_item *)(void *)(rm->item_conn + RMQ_MAX_CONNECTIONS);
    rm->free_slots = (uint32_t *)(void *)(rm->items + RMQ_MAX_CONNECTIONS);
#ifndef RMQ_NO_FAST_PATH
    rm->ring = (int32_t *)(void *)(rm->free_slots + RMQ_MAX_INFLIGHT);
#endif
    for (i = 0; i < RMQ_MAX_INFLIGHT; i++) {
        rm->slots[i] = NULL;
        rm->free_slots[i] = RMQ_MAX_INFLIGHT - 1 - i;
    }
    rm->nfree = RMQ_MAX_INFLIGHT;
    port->entropy(port->ctx, &rm->opaque_seq, sizeof rm->opaque_seq);
    rm->opaque_seq %= 0x7FFFFFFFu / RMQ_MAX_INFLIGHT;
    return RMQ_OK;
}

RMQ__FN void rmq__req_free(rmq__remoting *rm, rmq__req *r)
{
    rmq__buf_free(&r->head);
#ifndef RMQ_NO_FAST_PATH
    if (r->lend) {
        if (--r->lend->holders == 0) rmq__stash_give(&rm->reqs, rm->mem, r->lend->block);
        return;
    }
#endif
    rmq__stash_give(&rm->reqs, rm->mem, r);
}

/* -- connections --------------------------------------------------------- */
/* The last one found is looked at first: a send mostly goes where the one
 * before it went. */
RMQ__FN rmq__conn *rmq__conn_find(rmq__remoting *rm, const char *addr)
{
    size_t n = RMQ_STRLEN(addr) + 1;
    rmq__conn *c;
    int i;
#ifndef RMQ_NO_FAST_PATH
    c = rm->last_found;
    if (c && c->state != RMQ__CONN_FREE && RMQ_MEMCMP(c->addr, addr, n) == 0) return c;
#endif
    for (i = 0; i < rm->conns_hi; i++) {
        c = &rm->conns[i];
        if (c->state == RMQ__CONN_FREE || RMQ_MEMCMP(c->addr, addr, n) != 0) continue;
#ifndef RMQ_NO_FAST_PATH
        rm->last_found = c;
#endif
        return c;
    }
    return NULL;
}

/* Takes a request out of the opaque table and the heap. */
RMQ__FN void rmq__req_unregister(rmq__remoting *rm, rmq__req *r)
{
    rmq__timer_cancel(rm, &r->timer);
    if (!(RMQ__ONEWAY_REQS && r->oneway) && rm->slots[r->slot] == r) {
        rm->slots[r->slot] = NULL;
        rm->free_slots[rm->nfree++] = r->slot;
        if (r->conn) r->conn->inflight--;
    }
}

/* A request that failed while partly written must still be written to the
 * end, or the stream is corrupt: it keeps a copy of its unsent bytes. */
RMQ__FN int rmq__req_orphan(rmq__remoting *rm, rmq__req *r)
{
    rmq__buf rest;
    size_t total = r->head.len + r->body_len;
    rmq__buf_init(&rest, rm->mem, total);
    if (r->sent < r->head.len) rmq__buf_put(&rest, r->head.p + r->sent, r->head.len - r->sent);
    if (r->body_len) {
        size_t from = r->sent > r->head.len ? r->sent - r->head.len : 0;
        rmq__buf_put(&rest, r->body + from, r->body_len - from);
    }
    if (rest.failed) { rmq__buf_free(&rest); return -1; }
    rmq__buf_free(&r->head);
    r->head = rest;
    r->body = NULL;
    r->body_len = 0;
    r->sent = 0;
    r->state = RMQ__REQ_ORPHAN;
    return 0;
}

/* Runs the done function once, then frees the request, unless it is an
 * orphan that its queue still has to write (the queue frees it then). The
 * done function must not keep the request. */
RMQ__FN void rmq__req_complete(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__req_unregister(rm, r);
    r->done(rm, r, err, resp, why);
    if (r->state != RMQ__REQ_ORPHAN) rmq__req_free(rm, r);
}

/* Gives c's read buffer back. */
RMQ__FN void rmq__conn_rbuf_drop(rmq__remoting *rm, rmq__conn *c)
{
    if (c->rbuf) RMQ_FREE(rm->mem, c->rbuf);
    c->rbuf = NULL;
    c->rlen = c->rcap = 0;
}

/* Closes a connection and fails everything queued or in flight on it with
 * err, each naming the peer. In a call that must not complete requests
 * (rmq__invoke) the failure is only marked and finished by the next step. */
RMQ__FN void rmq__conn_fail(rmq__remoting *rm, rmq__conn *c, rmq_err err, const rmq_reason *why)
{
    uint32_t i;
    rmq__req *r, *next, *queued, *awaiting = NULL;
    rmq_err err_copy;
    rmq_reason *why_copy;
    if (c->state == RMQ__CONN_FREE || c->state == RMQ__CONN_BACKOFF) return;
    if (!c->failing) {
        c->failing = 1;
        c->fail_err = err;
        if (why != &c->why) RMQ__COPY(&c->why, why);
    }
    if (rm->in_invoke) return;
    RMQ__LOG(rm, RMQ_LOG_WARN, "%r", &c->why);
    if (c->h) rm->port->close(rm->port->ctx, c->h);
    c->h = NULL;
    /* Only an address whose connect timed out is backed off (it would eat
     * the next send's budget); anything else may reconnect at once. */
    c->state = RMQ__CONN_BACKOFF;
    c->deadline = rmq__now(rm) + (c->timed_out ? rm->backoff_ms : 0u);
    c->timed_out = 0;
    c->epoch = ++rm->epochs;
    err_copy = c->fail_err;
    c->failing = 0;
    /* Detach everything first: a done function may retry at once and
     * reconnect this very slot, and its new requests must not be failed. */
    for (i = 0; i < RMQ_MAX_INFLIGHT && c->inflight; i++) {
        r = rm->slots[i];
        if (!r || r->conn != c || r->state == RMQ__REQ_QUEUED) continue;
        r->next_out = awaiting;
        awaiting = r;
        c->inflight--;
    }
    c->inflight = 0;
    /* One list: the queue, then the requests awaiting an answer. */
    queued = c->out_head ? c->out_head : awaiting;
    if (c->out_head) c->out_tail->next_out = awaiting;
    c->out_head = c->out_tail = NULL;
    rmq__conn_rbuf_drop(rm, c);
    c->skip = 0;
    /* The slot may be reused by a retry while its requests are failed. */
    why_copy = rm->failing ? &c->why : &rm->fail_why;
    if (why_copy != &c->why) RMQ__COPY(why_copy, &c->why);
    rm->failing++;
#ifndef RMQ_NO_ADDR_SERVER
    if (c->raw) {
        void (*raw)(void *, const uint8_t *, size_t) = c->raw;
        c->raw = NULL;
        c->state = RMQ__CONN_FREE;            /* raw connections are not reused */
        raw(c->raw_arg, NULL, 0);
    }
#endif
    for (r = queued; r; r = next) {
        next = r->next_out;
        r->conn = NULL;
        if (r->state == RMQ__REQ_ORPHAN || r->is_response) { rmq__req_free(rm, r); continue; }
        if (RMQ__ONEWAY_REQS && r->oneway) { r->done(rm, r, err_copy, NULL, why_copy); rmq__req_free(rm, r); continue; }
        rmq__req_complete(rm, r, err_copy, NULL, why_copy);
    }
    rm->failing--;
}

/* Fails a connection with its reason recorded in place (c->why); a
 * connection already failing keeps the first. */
#ifdef RMQ_NO_ERROR_TEXT
static void rmq__conn_failf(rmq__remoting *rm, rmq__conn *c, rmq_err err, int code, ...)
{
    if (!c->failing) c->why.code[0] = (unsigned char)code;
    rmq__conn_fail(rm, c, err, &c->why);
}
#else
RMQ__FN void rmq__conn_failf(rmq__remoting *rm, rmq__conn *c, rmq_err err, int code, ...)
{
    va_list ap;
    if (!c->failing) {
        va_start(ap, code);
        rmq__vwhy(&c->why, code, ap);
        va_end(ap);
    }
    rmq__conn_fail(rm, c, err, &c->why);
}
#endif

/* A request its owner gave up before a byte of it was written (its
 * producer shut down) is not written at all. */
RMQ__FN int rmq__req_leave_queue(rmq__remoting *rm, rmq__req *r);
RMQ__FN void rmq__req_recall(rmq__remoting *rm, rmq__req *r)
{
    if (r->state != RMQ__REQ_QUEUED || !r->conn || r->sent) return;
    if (rmq__req_leave_queue(rm, r)) return;
    rmq__req_complete(rm, r, RMQ_ERR_SHUTDOWN, NULL, NULL);
}

/* Before a request still in its write queue completes: an unsent one
 * leaves the queue; a partly written one becomes an orphan that finishes
 * its bytes. Returns -1 if that needs memory there is not: the connection
 * has then been failed (which completes the request with it). */
RMQ__FN int rmq__req_leave_queue(rmq__remoting *rm, rmq__req *r)
{
    rmq__conn *c = r->conn;
    rmq__req **pp, *prev = NULL;
    if (r->state != RMQ__REQ_QUEUED || !c) return 0;
    if (r->sent > 0) {
        if (rmq__req_orphan(rm, r) == 0) return 0;
        rmq__conn_failf(rm, c, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_WRITE);
        return -1;
    }
    for (pp = &c->out_head; *pp && *pp != r; pp = &(*pp)->next_out) prev = *pp;
    if (*pp) {
        *pp = r->next_out;
        if (c->out_tail == r) c->out_tail = prev;
    }
    r->next_out = NULL;
    return 0;
}

/* Closes a connection nothing is queued or awaited on, and frees its slot
 * (a broker no route uses any more); a busy one is left alone. */
RMQ__FN void rmq__conn_close_idle(rmq__remoting *rm, rmq__conn *c)
{
    if ((c->state != RMQ__CONN_OPEN && c->state != RMQ__CONN_CONNECTING) || c->inflight || c->out_head) return;
    rm->port->close(rm->port->ctx, c->h);
    if (c->rbuf) RMQ_FREE(rm->mem, c->rbuf);
    RMQ_MEMSET(c, 0, sizeof *c);
}

/* Why a connect failed, refused or otherwise, with what the port adds (a
 * TLS handshake's reason). h: the connection, NULL when connect() failed. */
RMQ__FN void rmq__connect_why(rmq__remoting *rm, void *h, const char *addr, int rc, rmq_reason *out)
{
    const char *detail = rm->port->conn_error ? rm->port->conn_error(rm->port->ctx, h) : NULL;
    rmq__why(out, RMQ_R_CONNECT_FAILED, addr, rc == RMQ_PORT_REFUSED ? "refused" : "failed",
             detail && *detail ? ": " : "", detail ? detail : "");
}

/* The connection for addr, opened if needed (called, not inlined into
 * rmq__invoke: its host buffer stays off the send stack). A connect is capped by the
 * caller's deadline; an address that failed recently is refused at once
 * until its backoff ends, so a dead broker does not eat every budget. */
RMQ__FN RMQ__NOINLINE rmq_err rmq__conn_open(rmq__remoting *rm, const char *key, const char *addr, uint32_t deadline, rmq__conn **out)
{
    rmq__conn *c = rmq__conn_find(rm, key);
    char host[RMQ_ADDR_MAX_LEN + 1];
    uint16_t port;
    uint32_t now;
    int i, rc;
    if (rm->closing) {
        rmq__why(&rm->why, RMQ_R_INSTANCE_CLOSING);
        return RMQ_ERR_SHUTDOWN;
    }
    if (c && c->state != RMQ__CONN_BACKOFF) {
        if (c->failing) { RMQ__COPY(&rm->why, &c->why); return c->fail_err; }
        *out = c;
        return RMQ_OK;
    }
    now = rmq__now(rm);                  /* not on every send's way: only to open one */
    if (c && !rmq__reached(now, c->deadline)) {
        rmq__why(&rm->why, RMQ_R_CONNECT_BACKOFF, addr, &c->why);
        return RMQ_ERR_CONNECT;
    }
    if (rmq__split_addr(addr, host, sizeof host, &port)) {
        rmq__why(&rm->why, RMQ_R_BAD_ADDRESS, addr);
        return RMQ_ERR_INVALID_ARG;
    }
    if (!c) {
        for (i = 0; i < RMQ_MAX_CONNECTIONS && rm->conns[i].state != RMQ__CONN_FREE; i++) {}
        if (i == RMQ_MAX_CONNECTIONS)
            for (i = 0; i < RMQ_MAX_CONNECTIONS && rm->conns[i].state != RMQ__CONN_BACKOFF; i++) {}
        if (i == RMQ_MAX_CONNECTIONS) {
            rmq__why(&rm->why, RMQ_R_MAX_CONNECTIONS,
                     addr, RMQ_MAX_CONNECTIONS);
            return RMQ_ERR_LIMIT;
        }
        if (i >= rm->conns_hi) rm->conns_hi = i + 1;
        c = &rm->conns[i];
        RMQ_MEMSET(c, 0, sizeof *c);
        rmq__strlcpy(c->addr, key, sizeof c->addr);
    } else {
        rm->reconnects++;
    }
    rc = rm->port->connect(rm->port->ctx, host, port, &c->h);
    if (rc < 0) {
        c->state = RMQ__CONN_BACKOFF;
        c->h = NULL;
        c->deadline = now;                       /* refused at once: no backoff */
        rmq__connect_why(rm, NULL, addr, rc, &c->why);
        RMQ__COPY(&rm->why, &c->why);
        return RMQ_ERR_CONNECT;
    }
    c->state = rc == RMQ_PORT_OK ? RMQ__CONN_OPEN : RMQ__CONN_CONNECTING;
    c->epoch = ++rm->epochs;
    c->deadline = now + rm->connect_timeout_ms;
    if (rmq__tdiff(deadline, c->deadline) < 0) c->deadline = deadline;
    c->why.code[0] = RMQ_R_NONE;
    *out = c;
    return RMQ_OK;
}

RMQ__FN rmq_err rmq__conn_get(rmq__remoting *rm, const char *addr, uint32_t deadline, rmq__conn **out)
{
    return rmq__conn_open(rm, addr, addr, deadline, out);
}

/* -- writing ------------------------------------------------------------- */
/* The head of the write queue is written out: it now awaits its answer. */
RMQ__FN void rmq__conn_written(rmq__remoting *rm, rmq__conn *c, rmq__req *r)
{
    c->out_head = r->next_out;
    if (!c->out_head) c->out_tail = NULL;
    r->next_out = NULL;
    if (r->state == RMQ__REQ_ORPHAN || r->is_response) { rmq__req_free(rm, r); return; }
    r->state = RMQ__REQ_AWAITING;
    r->rx_mark = c->rx_frames;
    if (RMQ__ONEWAY_REQS && r->oneway) {      /* completes at the next step */
        r->conn = NULL;
        if (rm->done_tail) rm->done_tail->next_out = r; else rm->done_head = r;
        rm->done_tail = r;
    }
}

/* What is left to write of the queue, from its head, as at most cap
 * pieces (header and body of each request, the body never copied). */
RMQ__FN int rmq__conn_pieces(const rmq__conn *c, rmq_iovec *iov, int cap)
{
    const rmq__req *r;
    int k = 0;
    for (r = c->out_head; r && k + 2 <= cap; r = r->next_out) {
        if (r->sent < r->head.len) {
            iov[k].base = r->head.p + r->sent;
            iov[k++].len = r->head.len - r->sent;
            if (r->body_len) { iov[k].base = r->body; iov[k++].len = r->body_len; }
        } else {
            iov[k].base = r->body + (r->sent - r->head.len);
            iov[k++].len = r->head.len + r->body_len - r->sent;
        }
    }
    return k;
}

/* Writes as much of the queue as the port takes; resumes where it stopped.
 * With a scatter send, one call carries up to RMQ__IOV_MAX pieces, so
 * requests queued behind a full socket (a window of async sends) leave
 * together instead of one system call each. */
RMQ__FN void rmq__conn_flush(rmq__remoting *rm, rmq__conn *c)
{
    const rmq_port *pt = rm->port;
    rmq_iovec *iov = rm->iov;             /* off the stack: MCU stacks are small */
    if (RMQ__LINGER) c->held = c->held_bytes = 0;
    while (c->state == RMQ__CONN_OPEN && !c->failing && c->out_head) {
        int k = rmq__conn_pieces(c, iov, pt->sendv ? RMQ__IOV_MAX : 2);
        size_t n;
        long w = pt->sendv && k > 1 ? pt->sendv(pt->ctx, c->h, iov, k)
                                    : pt->send(pt->ctx, c->h, iov[0].base, iov[0].len);
        if (w == 0) return;
        if (w < 0) {
            rmq__conn_failf(rm, c, RMQ_ERR_CONNECTION_LOST, RMQ_R_WRITE_FAILED, c->addr);
            return;
        }
        for (n = (size_t)w; n > 0 && c->out_head;) {
            rmq__req *r = c->out_head;
            size_t left = r->head.len + r->body_len - r->sent, take = n < left ? n : left;
            r->sent += take;
            n -= take;
            if (take == left) rmq__conn_written(rm, c, r);
        }
    }
}

/* The linger (cfg.linger_us): a request sent with rm->hold_ms waits, queued,
 * for others to the same broker, to leave with them in one write at the
 * first of: a bound reached, the linger timer, a blocking call. Only a queue
 * that holds nothing else waits: one stuck behind a full socket leaves when
 * the socket drains, as before. */
RMQ__FN int rmq__conn_hold(rmq__remoting *rm, rmq__conn *c, rmq__req *r)
{
    if (!RMQ__LINGER || !rm->hold_ms || c->state != RMQ__CONN_OPEN || c->failing) return 0;
    if (c->out_head == r) c->held = c->held_bytes = 0;
    else if (!c->held) return 0;
    c->held++;
    c->held_bytes += (uint32_t)(r->head.len + r->body_len);
    if (c->held >= RMQ_LINGER_MAX_FRAMES || c->held_bytes >= RMQ_LINGER_MAX_BYTES) return 0;
    if (rm->t_linger.pos < 0 && rmq__timer_arm(rm, &rm->t_linger, rmq__now(rm) + rm->hold_ms) != RMQ_OK) return 0;
    return 1;
}

/* Writes what every connection holds. */
RMQ__FN void rmq__linger_release(rmq__remoting *rm)
{
    int k;
    if (!RMQ__LINGER) return;
    rmq__timer_cancel(rm, &rm->t_linger);
    for (k = 0; k < rm->conns_hi; k++)
        if (rm->conns[k].held) rmq__conn_flush(rm, &rm->conns[k]);
}

RMQ__FN_CALLED void rmq__conn_enqueue(rmq__remoting *rm, rmq__conn *c, rmq__req *r)
{
    r->conn = c;
    r->next_out = NULL;
    if (c->out_tail) c->out_tail->next_out = r; else c->out_head = r;
    c->out_tail = r;
    if (rmq__conn_hold(rm, c, r)) return;
    rmq__conn_flush(rm, c);
}

/* Before a command is encoded: what the remoting state sets in it (a
 * response keeps the serialization of the request it answers), then the
 * RPC hook, which may add ext fields or refuse. 0 when it may go. */
static int rmq__req_prepare(rmq__remoting *rm, const char *addr, rmq_command *cmd,
                            const void *body, size_t body_len, rmq_err *err)
{
    cmd->language = rm->language;
    if (!(cmd->flag & RMQ_FLAG_RESPONSE)) cmd->serialize = rm->serialize;
    cmd->body = (const uint8_t *)body;
    cmd->body_len = body_len;
    if (rm->hook && rm->hook->before) {
        *err = rm->hook->before(rm->hook->arg, addr, cmd);
        if (*err != RMQ_OK) {
            rmq__why(&rm->why, RMQ_R_RPC_HOOK_REFUSED, (int)cmd->code, addr);
            return -1;
        }
    }
    return 0;
}

static rmq__req *rmq__req_init(rmq__req *r)
{
    RMQ_MEMSET(r, 0, sizeof *r);
    r->timer.pos = -1;
    r->timer.kind = RMQ__TIMER_REQUEST;
    return r;
}

/* A request with room for extra header bytes after it. */
static rmq__req *rmq__req_alloc(rmq__remoting *rm, size_t extra, rmq_err *err)
{
    rmq__req *r = (rmq__req *)rmq__stash_take(&rm->reqs, rm->mem, RMQ__ALIGN8(sizeof *r) + extra);
    if (!r) { *err = RMQ_ERR_NO_MEMORY; rmq__why(&rm->why, RMQ_R_NO_MEMORY_REQUEST); return NULL; }
    return rmq__req_init(r);
}

/* A new request holding the frame of header h with ext fields f[0..n)
 * (what rmq__ser_frame writes), its body to follow from where it lives. */
static rmq__req *rmq__req_frame(rmq__remoting *rm, const rmq__head *h, const rmq_ext_field *f, size_t n,
                                const void *body, size_t body_len, rmq_err *err)
{
    rmq__req *r;
    size_t len = rmq__ser_frame(NULL, 0, h, f, n, body_len);
    if (!(r = rmq__req_alloc(rm, 0, err))) return NULL;
    rmq__buf_init(&r->head, rm->mem, RMQ_MAX_HEADER_BYTES + 8);
    if (!len || rmq__buf_reserve(&r->head, len)) {
        *err = r->head.failed ? RMQ_ERR_NO_MEMORY : RMQ_ERR_LIMIT;
        rmq__why(&rm->why, RMQ_R_REQUEST_TOO_BIG, (int)h->code);
        rmq__req_free(rm, r);
        return NULL;
    }
    r->head.len = rmq__ser_frame(r->head.p, len, h, f, n, body_len);
    r->code = h->code;
    r->opaque = h->opaque;
    r->body = (const uint8_t *)body;
    r->body_len = body_len;
    return r;
}

#ifndef RMQ_NO_FAST_PATH
/* A send's request: its header written by the send serializer from the
 * send's fields, into the request's own block (one allocation). Its own
 * frame: off the deepest chains through rmq__req_of. */
static RMQ__NOINLINE rmq__req *rmq__req_send(rmq__remoting *rm, const rmq__head *h, const rmq__send_fields *f,
                                             rmq__lend *l, const void *body, size_t body_len, rmq_err *err)
{
    rmq__req *r;
    size_t hlen = rmq__send_header_len(h, f), limit = RMQ_MAX_HEADER_BYTES + 8;
    size_t room = hlen < limit - 8 ? 8 + hlen : limit;
    if (l) l->want = RMQ__ALIGN8(sizeof *r) + room;
    if (l && l->holders == 1 && l->want <= l->room) {
        r = rmq__req_init((rmq__req *)(void *)l->at);
        r->lend = l;
        l->holders = 2;
    } else if (!(r = rmq__req_alloc(rm, room, err))) {
        return NULL;
    }
    rmq__buf_init(&r->head, rm->mem, limit);
    rmq__buf_borrow(&r->head, (uint8_t *)r + RMQ__ALIGN8(sizeof *r), room);
    if (rmq__send_frame_encode(&r->head, h, f, hlen, body_len)) {
        *err = r->head.failed ? RMQ_ERR_NO_MEMORY : RMQ_ERR_LIMIT;
        rmq__why(&rm->why, RMQ_R_REQUEST_TOO_BIG, (int)h->code);
        rmq__req_free(rm, r);
        return NULL;
    }
    r->code = h->code;
    r->opaque = h->opaque;
    r->body = (const uint8_t *)body;
    r->body_len = body_len;
    return r;
}
#endif

/* The remoting's own command, filled with a header's values and ext
 * fields, and encoded within the call that fills it: what an RPC hook
 * edits, or a send's fields as ext fields. */
static rmq_command *rmq__tx_command(rmq__remoting *rm, const rmq__head *h, const rmq_ext_field *f, size_t n)
{
    rmq_command *cmd = &rm->tx;
    rmq__command_init(cmd, h->code, h->opaque, h->flag);
    cmd->version = h->version;
    cmd->serialize = (rmq_serialize)h->serialize;
    cmd->remark = h->remark;
    for (; cmd->next < n; cmd->next++) cmd->ext[cmd->next] = f[cmd->next];
    return cmd;
}

/* A new request of header h with ext fields f[0..n) (or a send's fields),
 * through the RPC hook when there is one. */
static rmq__req *rmq__req_head(rmq__remoting *rm, const char *addr, rmq__head *h, const rmq_ext_field *f, size_t n,
                               rmq__send_fields *send, const void *body, size_t body_len, rmq_err *err)
{
    int hook = rm->hook && rm->hook->before;
    if (send || hook) {            /* a command to encode: the hook's to edit, or the send's ext fields */
        rmq_command *cmd = rmq__tx_command(rm, h, f, n);
        if (send) rmq__send_fields_ext(send, cmd);
        if (rmq__req_prepare(rm, addr, cmd, body, body_len, err)) return NULL;
        rmq__head_of(cmd, h);
        f = cmd->ext;
        n = cmd->next;
    }
    return rmq__req_frame(rm, h, f, n, body, body_len, err);
}

/* A new request of rq's fields with this opaque and flag. A frame of its
 * own: the header's values are not carried under the request's write. */
static RMQ__NOINLINE rmq__req *rmq__req_of(rmq__remoting *rm, const char *addr, const rmq__rq *rq, int32_t opaque,
                                           int32_t flag, const void *body, size_t body_len, rmq_err *err)
{
    rmq__head h;
    h.code = rq->code;
    h.opaque = opaque;
    h.flag = flag;
    h.version = rq->version;
    h.language = (uint8_t)rm->language;
    h.serialize = (uint8_t)rm->serialize;
    h.remark = rmq__cslice(NULL);
#ifndef RMQ_NO_FAST_PATH
    if (rq->send && !(rm->hook && rm->hook->before)) return rmq__req_send(rm, &h, rq->send, rq->lend, body, body_len, err);
#endif
    return rmq__req_head(rm, addr, &h, rq->f, rq->n, rq->send, body, body_len, err);
}

/* Sends a request: rq's fields, or a send's (which an RPC hook or the send
 * serializer reads). On RMQ_OK, done runs exactly once, later (never from
 * inside this call): with the response, or the error. A oneway request
 * completes when written. The body must stay valid until done. The
 * request is also given back (out may be NULL) so its owner can detach
 * from it. */
RMQ__FN rmq_err rmq__invoke(rmq__remoting *rm, const char *addr, const rmq__rq *rq, const void *body,
                            size_t body_len, int oneway, uint32_t deadline, rmq__done_fn done, void *owner,
                            rmq__req **out)
{
    rmq__conn *c = NULL;
    rmq__req *r;
    rmq_err err = rmq__conn_get(rm, addr, deadline, &c);
    uint32_t slot = 0;
    int32_t opaque;
    oneway = RMQ__ONEWAY_REQS && oneway;
    if (err != RMQ_OK) return err;
    if (!oneway) {
        if (!rm->nfree) {
            rmq__why(&rm->why, RMQ_R_MAX_INFLIGHT, RMQ_MAX_INFLIGHT);
            return RMQ_ERR_BUSY;
        }
        slot = rm->free_slots[rm->nfree - 1];
    }
    opaque = (int32_t)(rm->opaque_seq * RMQ_MAX_INFLIGHT + slot);
    rm->opaque_seq = (rm->opaque_seq + 1) % (0x7FFFFFFFu / RMQ_MAX_INFLIGHT);
    r = rmq__req_of(rm, addr, rq, opaque, oneway ? RMQ_FLAG_ONEWAY : 0, body, body_len, &err);
    if (!r) return err;
    r->oneway = (uint8_t)(oneway != 0);
    r->done = done;
    r->owner = owner;
    r->slot = slot;
    if (!oneway) {
        if (rmq__req_timer_arm(rm, r, deadline) != RMQ_OK) {
            rmq__req_free(rm, r);
            rmq__why(&rm->why, RMQ_R_NO_MEMORY_TIMER);
            return RMQ_ERR_NO_MEMORY;
        }
        rm->nfree--;
        rm->slots[slot] = r;
        c->inflight++;
    }
    if (out) *out = r;
    rm->in_invoke++;
    rmq__conn_enqueue(rm, c, r);
    rm->in_invoke--;
    return RMQ_OK;
}

/* Answers a request the peer sent, in the serialization it used. */
RMQ__FN void rmq__respond(rmq__remoting *rm, rmq__conn *c, const rmq_command *req, int32_t code, const char *remark)
{
    rmq__head h;
    rmq__req *r;
    rmq_err err;
    h.code = code;
    h.opaque = req->opaque;
    h.flag = RMQ_FLAG_RESPONSE;
    h.version = RMQ_PROTOCOL_VERSION;
    h.language = (uint8_t)rm->language;
    h.serialize = (uint8_t)req->serialize;
    h.remark = rmq__cslice(remark);
    r = rmq__req_head(rm, c->addr, &h, NULL, 0, NULL, NULL, 0, &err);
    if (!r) return;
    r->is_response = 1;
    rm->in_invoke++;                  /* a failed write is finished later, not mid-parse */
    rmq__conn_enqueue(rm, c, r);
    rm->in_invoke--;
}

#ifndef RMQ_NO_ADDR_SERVER
/* Opens a raw connection (its key is "raw:" + addr, never shared with the
 * remoting connection to the same address) and queues bytes on it. */
RMQ__FN rmq_err rmq__raw_send(rmq__remoting *rm, const char *addr, const void *data, size_t len, uint32_t deadline,
                              void (*on_data)(void *, const uint8_t *, size_t), void *arg)
{
    char key[RMQ_ADDR_MAX_LEN + 1];
    rmq__conn *c;
    rmq__req *r;
    rmq_err err;
    rmq__format(key, sizeof key, "raw:%s", addr);
    if (rmq__conn_find(rm, key)) return RMQ_ERR_BUSY;
    err = rmq__conn_open(rm, key, addr, deadline, &c);
    if (err != RMQ_OK) return err;
    c->raw = on_data;
    c->raw_arg = arg;
    r = (rmq__req *)rmq__stash_take(&rm->reqs, rm->mem, sizeof *r);
    if (!r) { rmq__conn_failf(rm, c, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY); return RMQ_ERR_NO_MEMORY; }
    RMQ_MEMSET(r, 0, sizeof *r);
    r->timer.pos = -1;
    r->is_response = 1;                                /* freed once written, no answer awaited */
    rmq__buf_init(&r->head, rm->mem, len);
    rmq__buf_put(&r->head, data, len);
    if (r->head.failed) { rmq__req_free(rm, r); return RMQ_ERR_NO_MEMORY; }
    rm->in_invoke++;
    rmq__conn_enqueue(rm, c, r);
    rm->in_invoke--;
    return RMQ_OK;
}
#endif

/* -- reading ------------------------------------------------------------- */
RMQ__FN void rmq__dispatch_response(rmq__remoting *rm, rmq__conn *c, const rmq_command *cmd)
{
    uint32_t slot = (uint32_t)cmd->opaque % RMQ_MAX_INFLIGHT;
    rmq__req *r = rm->slots[slot];
    if (!r || r->opaque != cmd->opaque || r->conn != c) {
        RMQ__LOG(rm, RMQ_LOG_DEBUG, "%s answered unknown opaque %d", c->addr, (int)cmd->opaque);
        return;
    }
    if (rm->hook && rm->hook->after) {
        rmq__command_init(&rm->tx, r->code, r->opaque, 0);
        rm->hook->after(rm->hook->arg, c->addr, &rm->tx, cmd);
    }
    if (rmq__req_leave_queue(rm, r)) return;     /* answered before it was all written */
    rmq__req_complete(rm, r, RMQ_OK, cmd, NULL);
}

RMQ__FN void rmq__dispatch(rmq__remoting *rm, rmq__conn *c, const rmq_command *cmd)
{
    if (cmd->flag & RMQ_FLAG_RESPONSE) { rmq__dispatch_response(rm, c, cmd); return; }
    if (rm->on_request) rm->on_request(rm, rm->on_request_arg, c, cmd);
}

/* Fails the request an oversized answer belongs to; its body is skipped. */
RMQ__FN void rmq__fail_oversize(rmq__remoting *rm, rmq__conn *c, const rmq_command *cmd, uint32_t total)
{
    uint32_t slot = (uint32_t)cmd->opaque % RMQ_MAX_INFLIGHT;
    rmq__req *r = rm->slots[slot];
    rmq_reason *why = &rm->timer_why;
    rmq__why(why, RMQ_R_FRAME_TOO_BIG, c->addr,
             (unsigned)total, (unsigned)RMQ_MAX_FRAME_BYTES);
    RMQ__LOG(rm, RMQ_LOG_WARN, "%r", why);
    if ((cmd->flag & RMQ_FLAG_RESPONSE) && r && r->opaque == cmd->opaque && r->conn == c) {
        if (rmq__req_leave_queue(rm, r)) return;
        rmq__req_complete(rm, r, RMQ_ERR_FRAME_TOO_LARGE, NULL, why);
    }
}

/* Consumes complete frames from the read buffer; returns -1 if the
 * connection was failed. */
RMQ__FN_CALLED int rmq__conn_parse(rmq__remoting *rm, rmq__conn *c)
{
    size_t at = 0;
    int rc = 0;
    uint32_t epoch = c->epoch;
    while (!c->failing && c->state == RMQ__CONN_OPEN && c->epoch == epoch) {
        rmq__frame_info fi;
        int st;
        if (c->skip) {
            size_t n = c->rlen - at < c->skip ? c->rlen - at : c->skip;
            at += n;
            c->skip -= (uint32_t)n;
            if (c->skip) break;
        }
        st = rmq__frame_check(c->rbuf + at, c->rlen - at, RMQ_MAX_FRAME_BYTES, &fi);
        if (st == RMQ__FRAME_NEED) break;
        if (st == RMQ__FRAME_OVERSIZE && c->rlen - at < 8 + (size_t)fi.header_len) break;
        if (st == RMQ__FRAME_MALFORMED ||
            rmq__frame_decode(c->rbuf + at, &fi, st == RMQ__FRAME_OK ? fi.total - 8 - fi.header_len : 0, &rm->rx)) {
            rmq__conn_failf(rm, c, RMQ_ERR_PROTOCOL, RMQ_R_MALFORMED_FRAME, c->addr);
            rc = -1;
            break;
        }
        c->rx_frames++;
        if (st == RMQ__FRAME_OVERSIZE) {
            rmq__fail_oversize(rm, c, &rm->rx, fi.total);
            if (c->epoch != epoch) return -1;
            at += 8 + fi.header_len;
            c->skip = fi.total - 8 - fi.header_len;
            continue;
        }
        rmq__dispatch(rm, c, &rm->rx);
        if (c->epoch != epoch) return -1;         /* failed (and maybe reopened) by what ran */
        at += fi.total;
    }
    if (c->rbuf && at) {                          /* the unread tail to the front */
        RMQ_MEMMOVE(c->rbuf, c->rbuf + at, c->rlen - at);
        c->rlen -= at;
    }
    return rc;
}

/* Room for the next read: a whole frame when its size is known, else a
 * chunk (it goes once the read is done: rmq__conn_read_done). */
RMQ__FN int rmq__conn_rbuf(rmq__remoting *rm, rmq__conn *c)
{
    size_t want = c->rlen + RMQ_READ_CHUNK_BYTES;
    rmq__frame_info fi;
    if (!c->skip && rmq__frame_check(c->rbuf, c->rlen, RMQ_MAX_FRAME_BYTES, &fi) == RMQ__FRAME_NEED && c->rlen >= 8)
        want = fi.total;
    if (want > RMQ_MAX_FRAME_BYTES) want = RMQ_MAX_FRAME_BYTES;
    if (want < c->rlen + 1) want = c->rlen + 1;
    if (c->rcap >= want && c->rcap > c->rlen) return 0;
    {
        size_t ncap = c->rcap ? c->rcap : RMQ_READ_CHUNK_BYTES;
        uint8_t *nb;
        while (ncap < want) ncap *= 2;
        if (ncap > RMQ_MAX_FRAME_BYTES) ncap = RMQ_MAX_FRAME_BYTES;
        nb = (uint8_t *)RMQ_MALLOC(rm->mem, ncap);
        if (!nb) return -1;
        if (c->rlen) RMQ_MEMCPY(nb, c->rbuf, c->rlen);
        if (c->rbuf) RMQ_FREE(rm->mem, c->rbuf);
        c->rbuf = nb;
        c->rcap = ncap;
    }
    return 0;
}

/* After a read: an idle connection holds no read buffer (a chunk per
 * connection would be most of a small producer's RAM; the next read takes
 * one again). With a free list (a heap build) it stays for the next read,
 * but for a buffer grown past a chunk. */
RMQ__FN void rmq__conn_read_done(rmq__remoting *rm, rmq__conn *c)
{
    if (!c->rlen && (!RMQ_FREE_LIST_BLOCKS || c->rcap > RMQ_READ_CHUNK_BYTES)) rmq__conn_rbuf_drop(rm, c);
}

/* Reads what the port has (bounded, so one busy peer cannot starve the
 * others) and dispatches complete frames. */
RMQ__FN_CALLED int rmq__conn_read(rmq__remoting *rm, rmq__conn *c)
{
    int rounds, work = 0;
    for (rounds = 0; rounds < 16 && c->state == RMQ__CONN_OPEN && !c->failing; rounds++) {
        long n;
        size_t room;
        if (rmq__conn_rbuf(rm, c)) {
            rmq__conn_failf(rm, c, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_READ);
            return 1;
        }
        room = c->rcap - c->rlen;
        n = rm->port->recv(rm->port->ctx, c->h, c->rbuf + c->rlen, room);
        if (n == 0) break;
        if (n < 0) {
            rmq__conn_failf(rm, c, RMQ_ERR_CONNECTION_LOST, RMQ_R_PEER_CLOSED, c->addr);
            return 1;
        }
        work = 1;
#ifndef RMQ_NO_ADDR_SERVER
        if (c->raw) {                         /* not frames: hand the bytes over */
            c->raw(c->raw_arg, c->rbuf + c->rlen, (size_t)n);
            if ((size_t)n < room) break;
            continue;
        }
#endif
        c->rlen += (size_t)n;
        if (rmq__conn_parse(rm, c)) return 1;
        /* A short read drained the socket: asking again would only hear
         * "try again". Readiness is level-triggered, so what arrives later
         * brings the loop back (a TLS port reports the bytes it holds). */
        if ((size_t)n < room) break;
    }
    rmq__conn_read_done(rm, c);
    return work;
}

/* -- timers -------------------------------------------------------------- */
RMQ__FN_CALLED void rmq__req_expire(rmq__remoting *rm, rmq__req *r)
{
    rmq_reason *why = &rm->timer_why;
    rmq__conn *c = r->conn;
    int close_conn = 0;
    if (r->state == RMQ__REQ_QUEUED && c) {
        if (c->state == RMQ__CONN_CONNECTING) {
            rmq__why(why, RMQ_R_CONNECT_DEADLINE, c->addr);
        } else {
            rmq__why(why, RMQ_R_WRITE_DEADLINE,
                     (int)r->code, c->addr);
        }
        if (rmq__req_leave_queue(rm, r)) return;  /* could not finish the write */
    } else {
        rmq__why(why, RMQ_R_ANSWER_DEADLINE,
                 c ? c->addr : "?", (int)r->code, (int)r->opaque);
        /* A silent connection is closed; a busy one that answers others is kept. */
        close_conn = c && c->state == RMQ__CONN_OPEN && c->rx_frames == r->rx_mark;
    }
    rmq__req_complete(rm, r, RMQ_ERR_TIMEOUT, NULL, why);
    if (close_conn && c->state == RMQ__CONN_OPEN) rmq__conn_fail(rm, c, RMQ_ERR_TIMEOUT, why);
}

/* Fires every timer that is due at now; returns how many fired. */
RMQ__FN int rmq__timers_run(rmq__remoting *rm, uint32_t now)
{
    int fired = 0;
    rmq__timer *t;
    while ((t = rmq__timer_next(rm)) != NULL && rmq__reached(now, t->at)) {
        rmq__timer_cancel(rm, t);
        fired++;
        if (t->kind == RMQ__TIMER_REQUEST) rmq__req_expire(rm, (rmq__req *)(void *)t);
        else if (RMQ__LINGER && t->kind == RMQ__TIMER_LINGER) rmq__linger_release(rm);
        else if (rm->on_timer) rm->on_timer(rm, rm->on_timer_arg, t);
    }
    return fired;
}

/* -- one turn of the loop ------------------------------------------------ */
/* Finishes what rmq__invoke could not: failed connections, written oneway
 * requests. */
RMQ__FN int rmq__settle(rmq__remoting *rm)
{
    int i, work = 0;
    for (i = 0; i < rm->conns_hi; i++) {
        rmq__conn *c = &rm->conns[i];
        if (c->failing) { c->failing = 0; rmq__conn_fail(rm, c, c->fail_err, &c->why); work = 1; }
    }
    while (RMQ__ONEWAY_REQS && rm->done_head) {
        rmq__req *r = rm->done_head;
        rm->done_head = r->next_out;
        if (!rm->done_head) rm->done_tail = NULL;
        r->done(rm, r, RMQ_OK, NULL, NULL);
        rmq__req_free(rm, r);
        work = 1;
    }
    return work;
}

RMQ__FN void rmq__conn_connected(rmq__remoting *rm, rmq__conn *c)
{
    int rc = rm->port->connect_result ? rm->port->connect_result(rm->port->ctx, c->h) : RMQ_PORT_OK;
    if (rc == RMQ_PORT_AGAIN) return;
    if (rc < 0) {
        if (!c->failing) rmq__connect_why(rm, c->h, c->addr, rc, &c->why);
        rmq__conn_fail(rm, c, RMQ_ERR_CONNECT, &c->why);
        return;
    }
    c->state = RMQ__CONN_OPEN;
    rmq__conn_flush(rm, c);
}

/* Connect deadlines, checked each turn (at most RMQ_MAX_CONNECTIONS). */
RMQ__FN uint32_t rmq__connect_deadlines(rmq__remoting *rm, uint32_t now, uint32_t wait)
{
    int i;
    for (i = 0; i < rm->conns_hi; i++) {
        rmq__conn *c = &rm->conns[i];
        int32_t left;
        if (c->state != RMQ__CONN_CONNECTING) continue;
        left = rmq__tdiff(c->deadline, now);
        if (left <= 0) {
            c->timed_out = 1;
            rmq__conn_failf(rm, c, RMQ_ERR_CONNECT, RMQ_R_CONNECT_TIMED_OUT, c->addr);
        } else if ((uint32_t)left < wait) {
            wait = (uint32_t)left;
        }
    }
    return wait;
}

/* One turn at now (the caller's clock reading): settle, wait for readiness
 * (no longer than the next timer or max_wait), do the I/O, fire due timers.
 * Returns the amount of work done. */
RMQ__FN int rmq__step(rmq__remoting *rm, uint32_t now, uint32_t max_wait)
{
    const rmq_port *pt = rm->port;
    uint32_t wait = max_wait;
    size_t n = 0, k;
    int work = rmq__settle(rm), ready;
    wait = rmq__timer_wait(rm, now, rmq__connect_deadlines(rm, now, wait));
    if (work) wait = 0;
    for (k = 0; k < (size_t)rm->conns_hi; k++) {
        rmq__conn *c = &rm->conns[k];
        if (c->state != RMQ__CONN_OPEN && c->state != RMQ__CONN_CONNECTING) continue;
        rm->items[n].conn = c->h;
        rm->items[n].want = c->state == RMQ__CONN_CONNECTING ? RMQ_WANT_WRITE
                          : (RMQ_WANT_READ | (c->out_head && !RMQ__HELD(c) ? RMQ_WANT_WRITE : 0u));
        rm->items[n].ready = 0;
        rm->item_conn[n++] = c;
        if (c->state == RMQ__CONN_OPEN && pt->pending && pt->pending(pt->ctx, c->h)) wait = 0;
    }
    /* Other threads may send while this one waits, never run the loop: a
     * connection they touch is only marked, and checked again here. */
    if (RMQ__MUTEX(rm->mutex)) pt->mutex_unlock(pt->ctx, rm->mutex);
    ready = pt->wait(pt->ctx, rm->items, n, wait);
    if (RMQ__MUTEX(rm->mutex)) pt->mutex_lock(pt->ctx, rm->mutex);
    for (k = 0; ready > 0 && k < n; k++) {
        rmq__conn *c = rm->item_conn[k];
        unsigned r = rm->items[k].ready;
        if (c->h != rm->items[k].conn) continue;
        if (pt->pending && c->state == RMQ__CONN_OPEN && pt->pending(pt->ctx, c->h)) r |= RMQ_WANT_READ;
        if (!r) continue;
        work = 1;
        if (c->state == RMQ__CONN_CONNECTING) {
            rmq__conn_connected(rm, c);
            continue;
        }
        if (r & (RMQ_WANT_READ | RMQ_READY_ERROR)) rmq__conn_read(rm, c);
        if ((r & RMQ_WANT_WRITE) && c->state == RMQ__CONN_OPEN) rmq__conn_flush(rm, c);
        if ((r & RMQ_READY_ERROR) && c->state == RMQ__CONN_OPEN && !(r & RMQ_WANT_READ))
            rmq__conn_failf(rm, c, RMQ_ERR_CONNECTION_LOST, RMQ_R_CONNECTION_FAILED, c->addr);
    }
    /* The clock is read again only after a wait that slept its time out:
     * after readiness the turn's reading serves, and a timer that came due
     * meanwhile fires a turn later. */
    if (ready < 0 || (ready == 0 && wait > 0)) now = rmq__now(rm);
    work += rmq__timers_run(rm, now);
    work += rmq__settle(rm);
    return work;
}

/* Milliseconds until the next timer or connect deadline (max if none). */
RMQ__FN uint32_t rmq__next_timeout(rmq__remoting *rm, uint32_t max)
{
    uint32_t now = rmq__now(rm), wait = max;
    int i;
    if (rm->done_head) return 0;
    for (i = 0; i < rm->conns_hi; i++) {
        rmq__conn *c = &rm->conns[i];
        int32_t left;
        if (c->failing) return 0;
        if (c->state != RMQ__CONN_CONNECTING) continue;
        left = rmq__tdiff(c->deadline, now);
        if (left <= 0) return 0;
        if ((uint32_t)left < wait) wait = (uint32_t)left;
    }
    return rmq__timer_wait(rm, now, wait);
}

/* Closes every connection, failing what is on them with err. */
RMQ__FN void rmq__remoting_close_all(rmq__remoting *rm, rmq_err err, const rmq_reason *why)
{
    int i;
    rm->closing = 1;          /* a failed request's owner may not open another */
    for (i = 0; i < RMQ_MAX_CONNECTIONS; i++) {
        rmq__conn *c = &rm->conns[i];
        if (c->state == RMQ__CONN_OPEN || c->state == RMQ__CONN_CONNECTING) rmq__conn_fail(rm, c, err, why);
        c->state = RMQ__CONN_FREE;
    }
    rmq__settle(rm);
}

RMQ__FN void rmq__remoting_free(rmq__remoting *rm)
{
    if (rm->slots) RMQ_FREE(rm->mem, rm->slots);   /* the block of the table and the wait list */
    rmq__stash_empty(&rm->reqs, rm->mem);
    if (rm->heap) RMQ_FREE(rm->mem, rm->heap);   /* nothing reads rm after: its instance goes next */
}

/* ======================================================================== */
/* 11. Route                                                                 */
/* ======================================================================== */
/* TopicRouteData → the publish queue list (topicRouteData2TopicPublishInfo),
 * the broker address table, queue selection and latency fault tolerance. */

#define RMQ__PERM_WRITE 2
#define RMQ__PERM_INHERIT 1

/* One broker group of the broker address table. */
typedef struct rmq__broker {
    uint8_t used;
    char name[RMQ_BROKER_NAME_MAX_LEN + 1];
    uint8_t naddrs;
    struct {
        int32_t id;                          /* 0: the master */
        char addr[RMQ_ADDR_MAX_LEN + 1];
    } addrs[RMQ_MAX_BROKER_ADDRS];
    int32_t version;                         /* from heartbeat answers */
    uint32_t hb_gen;                         /* epoch of the connection its last heartbeat took (0: none) */
    uint32_t errors;
    uint32_t fault_until;                    /* latency fault tolerance */
    uint32_t fault_latency;
    uint8_t fault_set;
} rmq__broker;

/* A publish queue: a broker (index in the address table) and a queue id. */
typedef struct rmq__pubq {
    uint8_t broker;
    uint16_t queue_id;
} rmq__pubq;

/* A broker address as a route names it: its broker id (0: the master). */
typedef struct rmq__route_addr {
    int32_t id;
    char addr[RMQ_ADDR_MAX_LEN + 1];
} rmq__route_addr;

/* A route as the name server sent it, before conversion. */
typedef struct rmq__route_data {
    uint32_t nbrokers, nqueue_datas;
    struct {
        char name[RMQ_BROKER_NAME_MAX_LEN + 1];
        uint8_t naddrs;
        rmq__route_addr addrs[RMQ_MAX_BROKER_ADDRS];
    } brokers[RMQ_MAX_BROKERS];
    struct {
        char broker[RMQ_BROKER_NAME_MAX_LEN + 1];
        int32_t perm, read, write;
    } queue_datas[RMQ_MAX_BROKERS];
    char order_conf[256];                    /* orderTopicConf, "" when absent */
} rmq__route_data;

/* What reading one route answer takes, held only while it is read. */
typedef struct rmq__route_scratch {
    rmq__route_data rd;
    rmq__pubq pubq[RMQ_MAX_QUEUES];
} rmq__route_scratch;

/* Records why a route body was refused: RMQ_R_ROUTE_REFUSED, naming what
 * (a code of RMQ_R_ROUTE_..., no arguments) as its %r; returns -1. */
RMQ__FN int rmq__route_refuse(rmq_reason *why, int what)
{
    rmq__why(why, RMQ_R_ROUTE_REFUSED, (const rmq_reason *)NULL);
#ifndef RMQ_NO_ERROR_TEXT
    why->code[1] = (unsigned char)what;
#else
    (void)what;                 /* a text-less reason keeps code[0] alone */
#endif
    return -1;
}

/* Which of names key is (raw), n if none or if it was met before in the
 * same object (*seen, a bit each): the first of a member written twice
 * counts, the others are passed over. */
RMQ__FN int rmq__route_member(rmq_slice key, const char *const *names, int n, unsigned *seen)
{
    int m;
    for (m = 0; m < n && !rmq__slice_eq(key, names[m]); m++) {}
    if (m < n && (*seen >> m & 1)) return n;
    *seen |= 1u << m;
    return m;
}

/* A brokerAddrs member ("id": "host:port", the key read): its address
 * kept, the extra slaves passed over. A reason code of RMQ_R_ROUTE_...,
 * or 0. */
RMQ__FN int rmq__route_broker_addr(rmq__jr *r, rmq_slice key, uint8_t *naddrs, rmq__route_addr *addrs)
{
    rmq_slice v;
    int64_t id;
    int t, bad = 0;
    key = rmq__jr_text(r, key);                          /* "0" or fastjson's bare 0 */
    t = rmq__jr_value(r, &v);
    if (rmq__parse_i64(key.ptr, key.len, &id) || id < 0 || id > INT32_MAX) bad = RMQ_R_ROUTE_BROKER_ID;
    else if (*naddrs < RMQ_MAX_BROKER_ADDRS) {         /* extra slaves are not needed */
        addrs[*naddrs].id = (int32_t)id;
        if (rmq__jr_copy(r, t, v, addrs[*naddrs].addr, sizeof addrs[*naddrs].addr)) bad = RMQ_R_ROUTE_BROKER_ADDR;
        else (*naddrs)++;
    }
    rmq__jr_pass(r, t);
    return bad;
}

/* One brokerData, {brokerName, brokerAddrs{...}, cluster ...}, its
 * object entered. A fault in an address is named only once the object
 * is read: a missing or bad brokerName names itself first. */
RMQ__FN int rmq__route_broker(rmq__jr *r, rmq__route_data *rd, rmq_reason *why)
{
    static const char *const names[2] = { "brokerName", "brokerAddrs" };
    uint32_t b = rd->nbrokers;
    unsigned seen = 0;
    int named = 0, bad = 0, t, m;
    rmq_slice k, v;
    if (b >= RMQ_MAX_BROKERS) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_BROKERS);
    rd->brokers[b].naddrs = 0;
    while (rmq__jr_next(r, &k) > 0) {
        m = rmq__route_member(k, names, 2, &seen);
        t = rmq__jr_value(r, &v);
        if (m == 0) {
            named = !rmq__jr_copy(r, t, v, rd->brokers[b].name, sizeof rd->brokers[b].name);
        } else if (m == 1 && t == RMQ__JR_OBJECT) {
            while (rmq__jr_next(r, &k) > 0) {
                int why_not = bad ? rmq__jr_skip(r) : rmq__route_broker_addr(r, k, &rd->brokers[b].naddrs,
                                                                            rd->brokers[b].addrs);
                if (!bad) bad = why_not;
            }
            continue;
        }
        rmq__jr_pass(r, t);
    }
    if (!named) return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_NAME);
    if (bad) return rmq__route_refuse(why, bad);
    rd->nbrokers++;
    return 0;
}

/* One queueData, {brokerName, readQueueNums, writeQueueNums, perm,
 * topicSysFlag}, its object entered; the name is checked before the
 * numbers, wherever they stand. */
RMQ__FN int rmq__route_queue_data(rmq__jr *r, rmq__route_data *rd, rmq_reason *why)
{
    static const char *const names[4] = { "brokerName", "perm", "readQueueNums", "writeQueueNums" };
    static const int64_t max[4] = { 0, 255, 65535, 65535 };
    uint32_t q = rd->nqueue_datas;
    unsigned seen = 0, good = 0;
    int64_t n[4] = { 0, 0, 0, 0 };
    int t, m;
    rmq_slice k, v;
    if (q >= RMQ_MAX_BROKERS) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_QUEUE_DATAS);
    while (rmq__jr_next(r, &k) > 0) {
        m = rmq__route_member(k, names, 4, &seen);
        t = rmq__jr_value(r, &v);
        if (m == 0) {
            if (!rmq__jr_copy(r, t, v, rd->queue_datas[q].broker, sizeof rd->queue_datas[q].broker)) good |= 1;
        } else if (m < 4 && (t == RMQ__JR_STRING || t == RMQ__JR_PRIM)) {
            if (!rmq__parse_i64(v.ptr, v.len, &n[m]) && n[m] >= 0 && n[m] <= max[m]) good |= 1u << m;
        }
        rmq__jr_pass(r, t);
    }
    if (!(good & 1)) return rmq__route_refuse(why, RMQ_R_ROUTE_QUEUE_BROKER_NAME);
    if (good != 15) return rmq__route_refuse(why, RMQ_R_ROUTE_QUEUE_NUMS);
    rd->queue_datas[q].perm = (int32_t)n[1];
    rd->queue_datas[q].read = (int32_t)n[2];
    rd->queue_datas[q].write = (int32_t)n[3];
    rd->nqueue_datas++;
    return 0;
}

/* Reads a TopicRouteData body, standard JSON or fastjson's dialect, in two
 * passes of the pull reader: the first proves the whole text well formed
 * (a fault anywhere refuses it before anything is taken), the second reads
 * it, in the order it is written (so, of two faults, the one written first
 * is named), into rd. Unknown members are passed over; of a member written
 * twice the first counts. Strings are unescaped in place. Every bound
 * exceeded is named in why. Called, not inlined into the route's answer:
 * smaller at -Os. */
static RMQ__NOINLINE int rmq__route_parse(char *s, size_t len, rmq__route_data *rd, rmq_reason *why)
{
    static const char *const names[3] = { "brokerDatas", "queueDatas", "orderTopicConf" };
    rmq__jr r;
    rmq_slice k, v;
    unsigned seen = 0;
    int t, m;
    rd->nbrokers = rd->nqueue_datas = 0;
    rd->order_conf[0] = 0;
    rmq__jr_init(&r, s, len);
    if (rmq__jr_skip(&r) || rmq__jr_end(&r))
        return rmq__route_refuse(why, r.err == RMQ__JR_EDEPTH ? RMQ_R_ROUTE_MAX_JSON_DEPTH : RMQ_R_ROUTE_NOT_OBJECT);
    rmq__jr_init(&r, s, len);
    if (rmq__jr_value(&r, &v) != RMQ__JR_OBJECT) return rmq__route_refuse(why, RMQ_R_ROUTE_NOT_OBJECT);
    while (rmq__jr_next(&r, &k) > 0) {
        m = rmq__route_member(k, names, 3, &seen);
        t = rmq__jr_value(&r, &v);
        if (m == 2 && t == RMQ__JR_STRING) {
            if (rmq__jr_copy(&r, t, v, rd->order_conf, sizeof rd->order_conf))
                return rmq__route_refuse(why, RMQ_R_ROUTE_ORDER_CONF);
        } else if (m < 2 && t == RMQ__JR_ARRAY) {
            while (rmq__jr_next(&r, &k) > 0) {
                t = rmq__jr_value(&r, &v);
                if (t != RMQ__JR_OBJECT)
                    return rmq__route_refuse(why, m ? RMQ_R_ROUTE_QUEUE_DATA : RMQ_R_ROUTE_BROKER_DATA);
                if (m ? rmq__route_queue_data(&r, rd, why) : rmq__route_broker(&r, rd, why)) return -1;
            }
        } else {
            rmq__jr_pass(&r, t);
        }
    }
    return 0;
}

/* Byte order of broker names, as Java's String.compareTo for ASCII. */
RMQ__FN int rmq__strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return (unsigned char)*a - (unsigned char)*b;
}

/* Queue-data order for the publish list: by broker name (an insertion
 * sort of at most RMQ_MAX_BROKERS entries, stable like Java's). */
RMQ__FN void rmq__route_sort(rmq__route_data *rd, uint8_t *order)
{
    uint32_t i, k;
    for (i = 0; i < rd->nqueue_datas; i++) order[i] = (uint8_t)i;
    for (i = 1; i < rd->nqueue_datas; i++) {
        uint8_t v = order[i];
        for (k = i; k > 0 && rmq__strcmp(rd->queue_datas[order[k - 1]].broker, rd->queue_datas[v].broker) > 0; k--)
            order[k] = order[k - 1];
        order[k] = v;
    }
}

RMQ__FN int rmq__route_has_master(const rmq__route_data *rd, const char *broker)
{
    uint32_t b, a;
    for (b = 0; b < rd->nbrokers; b++) {
        if (rmq__strcmp(rd->brokers[b].name, broker) != 0) continue;
        for (a = 0; a < rd->brokers[b].naddrs; a++) if (rd->brokers[b].addrs[a].id == 0) return 1;
        return 0;                            /* Java takes the first match */
    }
    return 0;
}

/* The broker table entry for name, created if absent (-1: table full). */
RMQ__FN int rmq__broker_slot(rmq__broker *table, const char *name, int create)
{
    int i, free_slot = -1;
    for (i = 0; i < RMQ_MAX_BROKERS; i++) {
        if (table[i].used && rmq__strcmp(table[i].name, name) == 0) return i;
        if (!table[i].used && free_slot < 0) free_slot = i;
    }
    if (!create || free_slot < 0) return -1;
    RMQ_MEMSET(&table[free_slot], 0, sizeof table[free_slot]);
    table[free_slot].used = 1;
    rmq__strlcpy(table[free_slot].name, name, sizeof table[free_slot].name);
    return free_slot;
}

/* Every route update replaces the address map of each broker it names. */
RMQ__FN int rmq__route_apply_brokers(const rmq__route_data *rd, rmq__broker *table, rmq_reason *why)
{
    uint32_t b, a;
    for (b = 0; b < rd->nbrokers; b++) {
        int i = rmq__broker_slot(table, rd->brokers[b].name, 1);
        if (i < 0) return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_TABLE_FULL);
        table[i].naddrs = rd->brokers[b].naddrs;
        for (a = 0; a < rd->brokers[b].naddrs; a++) {
            table[i].addrs[a].id = rd->brokers[b].addrs[a].id;
            rmq__strlcpy(table[i].addrs[a].addr, rd->brokers[b].addrs[a].addr, sizeof table[i].addrs[a].addr);
        }
    }
    return 0;
}

RMQ__FN int rmq__pubq_add(rmq__pubq *out, size_t *n, int broker, int32_t queue_id, rmq_reason *why)
{
    if (*n >= RMQ_MAX_QUEUES) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_QUEUES);
    out[*n].broker = (uint8_t)broker;
    out[*n].queue_id = (uint16_t)queue_id;
    (*n)++;
    return 0;
}

/* orderTopicConf "brokerA:4;brokerB:4" fixes the list (no perm or master
 * check on this path, as in Java). */
RMQ__FN int rmq__route_order_queues(const char *conf, rmq__broker *table, rmq__pubq *out, size_t *n, rmq_reason *why)
{
    const char *p = conf;
    while (*p) {
        const char *item = p, *colon = NULL;
        char name[RMQ_BROKER_NAME_MAX_LEN + 1];
        int32_t num, q;
        int b;
        while (*p && *p != ';') { if (*p == ':') colon = p; p++; }
        if (colon && (size_t)(colon - item) < sizeof name && colon > item &&
            rmq__parse_i32(colon + 1, (size_t)(p - colon - 1), &num) == 0 && num >= 0) {
            RMQ_MEMCPY(name, item, (size_t)(colon - item));
            name[colon - item] = 0;
            b = rmq__broker_slot(table, name, 1);
            if (b < 0) return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_TABLE_FULL);
            for (q = 0; q < num; q++) if (rmq__pubq_add(out, n, b, q, why)) return -1;
        }
        if (*p) p++;
    }
    return 0;
}

/* The publish queue list of a route. default_queue_nums > 0 builds the
 * list of a topic unknown to the name server from the default topic's
 * route: each queue count becomes min(default_queue_nums, readQueueNums).
 * Called, not inlined: smaller at -Os. */
static RMQ__NOINLINE int rmq__route_publish_queues(const rmq__route_data *rd, rmq__broker *table, int default_queue_nums,
                                      rmq__pubq *out, size_t *n, int *order_topic, rmq_reason *why)
{
    uint8_t order[RMQ_MAX_BROKERS];
    uint32_t i;
    *n = 0;
    *order_topic = 0;
    if (rmq__route_apply_brokers(rd, table, why)) return -1;
    if (rd->order_conf[0] && !default_queue_nums) {
        *order_topic = 1;
        return rmq__route_order_queues(rd->order_conf, table, out, n, why);
    }
    rmq__route_sort((rmq__route_data *)rd, order);
    for (i = 0; i < rd->nqueue_datas; i++) {
        const char *bn = rd->queue_datas[order[i]].broker;
        int32_t w = rd->queue_datas[order[i]].write, q;
        int b;
        if (default_queue_nums) {
            w = rd->queue_datas[order[i]].read;
            if (w > default_queue_nums) w = default_queue_nums;
        }
        if (!(rd->queue_datas[order[i]].perm & RMQ__PERM_WRITE) || !rmq__route_has_master(rd, bn)) continue;
        b = rmq__broker_slot(table, bn, 0);
        if (b < 0) continue;
        for (q = 0; q < w; q++) if (rmq__pubq_add(out, n, b, q, why)) return -1;
    }
    return 0;
}

/* The master address of a broker group, or NULL. */
RMQ__FN const char *rmq__broker_master(const rmq__broker *b)
{
    uint8_t i;
    for (i = 0; i < b->naddrs; i++) if (b->addrs[i].id == 0) return b->addrs[i].addr;
    return NULL;
}

/* -- latency fault tolerance (MQFaultStrategy, 4.9) ---------------------- */
#ifndef RMQ_NO_LATENCY_FAULT
/* After an attempt: an isolated failure counts as 30 s of latency, which
 * with Java's tables keeps the broker out for 600 s. */
RMQ__FN void rmq__fault_update(rmq__broker *b, const rmq_producer_config *cfg, uint32_t now,
                               uint32_t latency, int isolation)
{
    uint32_t d = isolation ? 30000u : latency, dur = 0;
    int i;
    for (i = 6; i >= 0; i--)
        if (d >= cfg->latency_max_ms[i]) { dur = cfg->not_available_duration_ms[i]; break; }
    b->fault_latency = latency;
    b->fault_until = now + dur;
    b->fault_set = 1;
}

static int rmq__fault_available(const rmq__broker *b, uint32_t now)
{
    return !b->fault_set || rmq__reached(now, b->fault_until);
}
#endif

/* The queue for the next attempt (TopicPublishInfo.selectOneMessageQueue):
 * round robin from a random start, avoiding the broker of the previous
 * attempt when another exists. With latency fault tolerance, brokers in
 * their not-available window are skipped while any other is available. */
RMQ__FN int rmq__route_select(const rmq__pubq *qs, size_t n, uint32_t *rr, int last_broker,
                              rmq__broker *table, int latency_on, uint32_t now)
{
    size_t i;
    if (n == 0) return -1;
#ifndef RMQ_NO_LATENCY_FAULT
    if (latency_on) {
        uint32_t start = (*rr)++ & 0x7FFFFFFFu;
        int best = -1;
        for (i = 0; i < n; i++) {
            size_t pos = (start + i) % n;
            if (rmq__fault_available(&table[qs[pos].broker], now)) return (int)pos;
        }
        /* Nothing available: the broker with the lowest latency (pickOneAtLeast). */
        for (i = 0; i < n; i++) {
            size_t pos = (start + i) % n;
            if (best < 0 || table[qs[pos].broker].fault_latency < table[qs[best].broker].fault_latency) best = (int)pos;
        }
        return best;
    }
#else
    (void)table; (void)latency_on; (void)now;
#endif
    if (last_broker >= 0) {
        for (i = 0; i < n; i++) {
            size_t pos = ((*rr)++ & 0x7FFFFFFFu) % n;
            if (qs[pos].broker != last_broker) return (int)pos;
        }
    }
    return (int)(((*rr)++ & 0x7FFFFFFFu) % n);
}

/* ======================================================================== */
/* 12. Client instance                                                       */
/* ======================================================================== */
/* MQClientInstance: one per client id and port, shared (reference counted)
 * by the producers of one process that have the same client id. It owns the
 * connections, the route and broker address tables, the heartbeat and the
 * scheduled route refresh. */

typedef struct rmq__inst rmq__inst;
typedef struct rmq__op rmq__op;

enum { RMQ__ROUTE_EMPTY = 0, RMQ__ROUTE_OK, RMQ__ROUTE_NONE };

typedef struct rmq__route {
    uint8_t state, fetching, asking_default, via_default, order_topic, ns_tries;
    uint8_t awaiting_namesrv;    /* no name server yet: the address server is asked */
    char *topic;                 /* in the entry's own block, after it */
    uint32_t updated_at;
    uint32_t rr;                 /* the rotating index of queue selection */
    uint32_t users;              /* bit per producer slot using the topic */
    rmq__pubq *queues;
    size_t nqueues;
    rmq__op *waiters;            /* sends waiting for this route */
    rmq__inst *in;
    rmq_reason why;              /* why the last query failed */
} rmq__route;

/* The client instance calls the producer layer above it only through
 * these, which the producer hands over when it joins an instance (as lwIP
 * calls its application through the callbacks it registered). */
typedef struct rmq__inst_hooks {
    /* A route query ended, well or not: the sends waiting for it go on. */
    void (*route_resolved)(rmq__route *rt);
    /* A timer armed by the producer layer (a send's deadline) expired. */
    void (*timer_expired)(rmq__inst *in, rmq__timer *t);
    /* A request a broker sent (a transaction check, a notification). */
    void (*broker_request)(rmq__remoting *rm, void *arg, rmq__conn *c, const rmq_command *req);
#ifndef RMQ_NO_TRANSACTION
    /* The instance is about to be freed: what the producer layer keeps in
     * it (the broker's transaction checks) goes first. */
    void (*instance_freed)(rmq__inst *in);
#endif
} rmq__inst_hooks;

#ifndef RMQ_NO_REQUEST
/* Request-reply (section 15) registers these on an instance with its
 * first request; the instance and the producer reach it only through them. */
typedef struct rmq__reply_hooks {
    /* PUSH_REPLY_MESSAGE_TO_CLIENT arrived: the code (and *remark) the
     * instance answers the broker with. */
    int32_t (*pushed)(rmq__inst *in, const rmq__conn *c, const rmq_command *req, const char **remark);
    /* A waiting request's deadline (a timer of kind RMQ__TIMER_REPLY). */
    void (*expired)(rmq__inst *in, rmq__timer *t);
    /* Runs the callbacks of ended requests (lock released around each). */
    int (*fire)(rmq__inst *in);
    /* The producer shuts down: its waiting requests end. */
    void (*producer_gone)(rmq_producer *p);
} rmq__reply_hooks;
#endif

struct rmq__inst {
    rmq__remoting rm;
    const rmq__inst_hooks *hooks;
    rmq__inst *next;             /* the factory table */
    int refs;                    /* producers holding it (see the factory table) */
#ifndef RMQ_NO_THREADS
    int live;                    /* of those, the ones not shut down */
#endif
    const rmq_port *port;
    void *mem;
    char client_id[RMQ_CLIENT_ID_MAX_LEN + 1];
    rmq_producer *producers[RMQ_MAX_PRODUCERS];  /* producerTable, by group (groups[]) */
    int nnamesrv, ns_index;      /* name servers, the one in use (rmq__namesrv_cur) */
    const char *namesrv_text;    /* the list as given, for messages ("" when none) */
    char *namesrv_block;         /* namesrv_text, then the entries: the bytes they need */
    rmq__broker brokers[RMQ_MAX_BROKERS];
    rmq__route *routes[RMQ_MAX_TOPICS];  /* taken when a topic is first sent to */
#ifndef RMQ_NO_FAST_PATH
    rmq__route *last_route;      /* by rmq__route_find (routes live as long as the instance) */
#endif
    rmq__timer t_heartbeat, t_route;
#ifndef RMQ_NO_ADDR_SERVER
    /* The address server: GET of a URL answering "host:port;host:port". */
    rmq__timer t_addrsrv;
    char addrsrv_addr[RMQ_ADDR_MAX_LEN + 1];
    char addrsrv_request[384];
    char addrsrv_reply[1024];
    size_t addrsrv_len;
    int addrsrv_busy;
    int addrsrv_answered;        /* its first fetch ended, well or not */
#endif
    uint32_t heartbeat_ms, poll_ms, api_timeout_ms;
    int default_queue_nums;
    char create_topic_key[RMQ_TOPIC_MAX_LEN + 1];
    rmq__uniq uniq;
#ifndef RMQ_NO_FAST_PATH
    rmq__dec_memo born;          /* the last send's born time as text */
#endif
    int64_t wall_base;           /* epoch ms at mono_base, when set by hand */
    uint32_t mono_base;
    int wall_set;
    rmq__op *cq_head, *cq_tail;  /* completed sends whose callback is due */
    rmq__op *parked_head, *parked_tail;  /* sends waiting for a free opaque slot */
#ifndef RMQ_NO_TRANSACTION
    struct rmq__tx_check *checks_head, *checks_tail;   /* broker checks due */
    int nchecks;
#endif
    int in_callback;
#ifndef RMQ_NO_VIP_CHANNEL
    char vip_addr[RMQ_ADDR_MAX_LEN + 1];  /* the last address rmq__vip_addr rewrote */
#endif
    uintptr_t callback_thread;
    void *mutex;                 /* from the port: several threads share the instance */
    int leader;                  /* a thread is running the loop */
    struct rmq__waiter *waiters; /* threads waiting for the loop's results */
    uint32_t unregister_left;
    rmq_reason why;
    rmq_reason send_why;         /* the attempt being made or the send timing out: copied into its result */
    rmq_send_result bare;        /* the result a callback gets when none could be taken (rmq__op_res) */
    const char *groups[RMQ_MAX_PRODUCERS];       /* the group of producers[i]; NULL without one */
#ifndef RMQ_NO_REQUEST
    const rmq__reply_hooks *reply_hooks;         /* NULL until the first request */
    struct rmq__waiting *waiting;                /* requests waiting for a reply */
    struct rmq__waiting *rdone_head, *rdone_tail;/* ended, their callback due */
    uint32_t nwaiting, late_replies;
#endif
};

static rmq__inst *rmq__factory;   /* client instances of this process */

/* -- the instance's lock (a no-op without one in the port) ---------------- */
static void rmq__lock(rmq__inst *in) { if (RMQ__MUTEX(in->mutex)) in->port->mutex_lock(in->port->ctx, in->mutex); }
static void rmq__unlock(rmq__inst *in) { if (RMQ__MUTEX(in->mutex)) in->port->mutex_unlock(in->port->ctx, in->mutex); }

/* -- the VIP channel (MixAll.brokerVIPChannel) ---------------------------- */
#ifndef RMQ_NO_VIP_CHANNEL
/* With on, a broker's "ip:port" becomes its fast port, port - 2, which
 * serves the same requests on its own threads: Java sends there what the
 * application waits for (sends, admin calls), never heartbeats,
 * unregistrations or transaction ends. The result lives in the instance
 * until the next call; an address it cannot read is used as it is. */
RMQ__FN const char *rmq__vip_addr(rmq__inst *in, int on, const char *addr)
{
    const char *colon = NULL, *s;
    int64_t port;
    size_t hl;
    if (!on || !addr) return addr;
    for (s = addr; *s; s++) if (*s == ':') colon = s;
    if (!colon || rmq__parse_i64(colon + 1, RMQ_STRLEN(colon + 1), &port) || port < 2 || port > 65535) return addr;
    hl = (size_t)(colon - addr) + 1;
    if (hl + 6 > sizeof in->vip_addr) return addr;
    RMQ_MEMCPY(in->vip_addr, addr, hl);
    in->vip_addr[hl + rmq__i64_to_dec(in->vip_addr + hl, port - 2)] = '\0';
    return in->vip_addr;
}
#else
#define rmq__vip_addr(in, on, addr) ((void)(in), (addr))
#endif

static uintptr_t rmq__thread(rmq__inst *in)
{
    return RMQ__THREADS && in->port->thread_id ? in->port->thread_id(in->port->ctx) : 0;
}

/* Is the calling thread inside a callback? Single-threaded: any callback
 * running is ours; with a lock, only the port's thread id can tell. */
static int rmq__in_callback(rmq__inst *in)
{
    if (!in->in_callback) return 0;
    if (!RMQ__MUTEX(in->mutex)) return 1;
    return in->port->thread_id && rmq__thread(in) == in->callback_thread;
}


/* -- time ---------------------------------------------------------------- */
/* Epoch ms from the port's wall clock, or from rmq_producer_set_time() plus
 * the monotonic clock; before either, the monotonic clock from 0. */
RMQ__FN int64_t rmq__wall(rmq__inst *in)
{
    int64_t ms;
    if (in->wall_set) return in->wall_base + (int64_t)(uint32_t)(rmq__now(&in->rm) - in->mono_base);
    if (in->port->wall_ms && in->port->wall_ms(in->port->ctx, &ms) == 0) return ms;
    return (int64_t)rmq__now(&in->rm);       /* the monotonic clock read only where it is the answer */
}

/* -- name servers -------------------------------------------------------- */
/* Parses "a:9876;b:9876": *n entries, written one after the other with a
 * NUL each into out unless it is NULL (they take at most the text's
 * bytes); -1 if an entry is not host:port or the list is longer than
 * RMQ_MAX_NAMESRV. */
RMQ__FN int rmq__namesrv_parse(const char *text, char *out, int *n)
{
    const char *p = text;
    size_t at = 0;
    *n = 0;
    while (p && *p) {
        const char *e = p;
        char one[RMQ_ADDR_MAX_LEN + 1], host[RMQ_ADDR_MAX_LEN + 1];
        uint16_t port;
        size_t len;
        while (*e && *e != ';') e++;
        len = (size_t)(e - p);
        while (len && (*p == ' ')) { p++; len--; }
        while (len && p[len - 1] == ' ') len--;
        if (len) {
            if (*n >= RMQ_MAX_NAMESRV || len > RMQ_ADDR_MAX_LEN) return -1;
            RMQ_MEMCPY(one, p, len);
            one[len] = 0;
            if (rmq__split_addr(one, host, sizeof host, &port)) return -1;
            if (out) RMQ_MEMCPY(out + at, one, len + 1);
            at += len + 1;
            (*n)++;
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

/* Replaces the instance's list with text's (none if text is not a valid
 * list); -1, the list unchanged, when out of memory. The text (as given:
 * messages quote it, the address server's next answer is compared with
 * it) and the entries share one block, twice the text's bytes. */
RMQ__FN int rmq__namesrv_set(rmq__inst *in, const char *text)
{
    size_t at = RMQ_STRLEN(text) + 1;
    int n = 0;
    char *block = NULL;
    if (at > 1) {           /* parsed once, into the block: a list of none frees it */
        if (!(block = (char *)RMQ_MALLOC(in->mem, 2 * at))) return -1;
        if (rmq__namesrv_parse(text, block + at, &n) || !n) { RMQ_FREE(in->mem, block); block = NULL; n = 0; }
    }
    if (in->namesrv_block) RMQ_FREE(in->mem, in->namesrv_block);
    in->namesrv_block = block;
    in->namesrv_text = "";
    in->nnamesrv = n;
    if (!n) return 0;
    RMQ_MEMCPY(block, text, at);
    in->namesrv_text = block;
    {                       /* start at a random one, as Java */
        uint32_t r;
        in->port->entropy(in->port->ctx, &r, sizeof r);
        in->ns_index = (int)(r % (uint32_t)in->nnamesrv);
    }
    return 0;
}

/* The name server in use: entry ns_index of those after the text (the
 * instance has one at least). */
static const char *rmq__namesrv_cur(const rmq__inst *in)
{
    const char *e = in->namesrv_text;
    int i;
    for (i = -1; i < in->ns_index; i++) e += RMQ_STRLEN(e) + 1;
    return e;
}

/* -- routes -------------------------------------------------------------- */
/* Every send looks its topic up: a first byte, then the rest, per entry
 * (an entry holds its topic's bytes only, so no longer compare). */
/* The last one found is looked at first: a send mostly names the topic
 * the one before it did. */
RMQ__FN rmq__route *rmq__route_find(rmq__inst *in, const char *topic)
{
    rmq__route *r;
    int i;
#ifndef RMQ_NO_FAST_PATH
    r = in->last_route;
    if (r && r->topic[0] == topic[0] && rmq__strcmp(r->topic, topic) == 0) return r;
#endif
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        r = in->routes[i];
        if (!r || r->topic[0] != topic[0] || rmq__strcmp(r->topic, topic) != 0) continue;
#ifndef RMQ_NO_FAST_PATH
        in->last_route = r;
#endif
        return r;
    }
    return NULL;
}

/* The route entry of topic, created empty if absent (NULL: table full or
 * out of memory). An entry holds its topic's bytes, not a maximal one. */
RMQ__FN rmq__route *rmq__route_get(rmq__inst *in, const char *topic)
{
    rmq__route *r = rmq__route_find(in, topic);
    size_t n = RMQ_STRLEN(topic);
    int i;
    if (r) return r;
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        if (in->routes[i]) continue;
        r = (rmq__route *)RMQ_MALLOC(in->mem, sizeof *r + n + 1);
        if (!r) return NULL;
        RMQ_MEMSET(r, 0, sizeof *r);
        r->in = in;
        r->topic = (char *)(r + 1);
        RMQ_MEMCPY(r->topic, topic, n);
        r->topic[n] = '\0';
        in->port->entropy(in->port->ctx, &r->rr, sizeof r->rr);
        in->routes[i] = r;
        return r;
    }
    return NULL;
}

RMQ__FN void rmq__route_fetch(rmq__inst *in, rmq__route *rt, int ask_default);
#ifndef RMQ_NO_ADDR_SERVER
RMQ__FN void rmq__addrsrv_fetch(rmq__inst *in);
#endif

/* Installs a parsed route as the topic's publish info. */
RMQ__FN int rmq__route_install(rmq__inst *in, rmq__route *rt, rmq__route_scratch *sc, int from_default)
{
    size_t n = 0;
    int order = 0;
    rmq__pubq *q;
    if (rmq__route_publish_queues(&sc->rd, in->brokers, from_default ? in->default_queue_nums : 0,
                                  sc->pubq, &n, &order, &rt->why))
        return -1;
    q = n ? (rmq__pubq *)RMQ_MALLOC(in->mem, n * sizeof *q) : NULL;
    if (n && !q) { rmq__why(&rt->why, RMQ_R_NO_MEMORY_PUBLISH_QUEUES); return -1; }
    if (n) RMQ_MEMCPY(q, sc->pubq, n * sizeof *q);
    if (rt->queues) RMQ_FREE(in->mem, rt->queues);
    rt->queues = q;
    rt->nqueues = n;
    rt->order_topic = (uint8_t)order;
    rt->via_default = (uint8_t)from_default;
    rt->state = n ? RMQ__ROUTE_OK : RMQ__ROUTE_NONE;
    rt->updated_at = rmq__now(&in->rm);
    if (!n) rmq__why(&rt->why, RMQ_R_ROUTE_NOT_WRITABLE, rt->topic);
    return 0;
}

/* Reads a route answer and installs it as rt's publish info. Answers are
 * read in their frame's dispatch, so the body is there, in the read
 * buffer; the scratch is held only for this. Called, not inlined:
 * smaller at -Os. */
static RMQ__NOINLINE int rmq__route_take(rmq__inst *in, rmq__route *rt, const rmq_command *resp)
{
    rmq__route_scratch *sc = (rmq__route_scratch *)RMQ_MALLOC(in->mem, sizeof *sc);
    int rc;
    if (!sc) { rmq__why(&rt->why, RMQ_R_NO_MEMORY_PUBLISH_QUEUES); return -1; }
    rc = rmq__route_parse((char *)(uintptr_t)resp->body, resp->body_len, &sc->rd, &rt->why);
    if (rc == 0) rc = rmq__route_install(in, rt, sc, rt->asking_default);
    RMQ_FREE(in->mem, sc);
    return rc;
}

/* A query ended without a new route (rt->why says why): a route known
 * before stays in use; the sends waiting for it go on either way. */
static void rmq__route_failed(rmq__inst *in, rmq__route *rt)
{
    rt->ns_tries = 0;
    if (rt->state != RMQ__ROUTE_OK) rt->state = RMQ__ROUTE_NONE;
    in->hooks->route_resolved(rt);
}

/* A query's answer: SUCCESS installs the route; TOPIC_NOT_EXIST (or any
 * other code) for a user topic asks for the default topic's route, which
 * becomes the topic's publish info (the broker auto-creates the topic). */
RMQ__FN void rmq__route_answer(rmq__inst *in, rmq__route *rt, const rmq_command *resp)
{
    if (resp->code == RMQ_CODE_SUCCESS) {
        if (rmq__route_take(in, rt, resp) == 0) {
            in->hooks->route_resolved(rt);
            return;
        }
    } else if (!rt->asking_default && rmq__strcmp(rt->topic, in->create_topic_key) != 0) {
        if (rt->state == RMQ__ROUTE_OK) { rt->updated_at = rmq__now(&in->rm); in->hooks->route_resolved(rt); return; }
        rmq__route_fetch(in, rt, 1);
        return;
    } else {
        rmq__why(&rt->why, RMQ_R_NO_ROUTE_ANSWERED,
                 rt->topic, in->namesrv_text, rmq_response_code_name(resp->code));
    }
    rmq__route_failed(in, rt);
}

RMQ__FN void rmq__route_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__route *rt = (rmq__route *)r->owner;
    rmq__inst *in = (rmq__inst *)(void *)rm;
    if (!rt) return;
    rt->fetching = 0;
    if (err == RMQ_OK) { rt->ns_tries = 0; rmq__route_answer(in, rt, resp); return; }
    /* The name server failed: the next one in the list, if any is left. */
    in->ns_index = in->nnamesrv ? (in->ns_index + 1) % in->nnamesrv : 0;
    if (++rt->ns_tries < in->nnamesrv) { rmq__route_fetch(in, rt, rt->asking_default); return; }
    if (!why) {                  /* in->why is free: no send is being failed */
        rmq__why(&in->why, RMQ_R_ERROR, rmq_strerror(err));
        why = &in->why;
    }
    rmq__why(&rt->why, RMQ_R_NO_ROUTE, rt->topic, in->namesrv_text, why);
    rmq__route_failed(in, rt);
}

/* GET_ROUTEINFO_BY_TOPIC to the current name server; one that cannot be
 * reached passes the query to the next. A frame of its own: the request
 * is not carried under the route's failure path. */
static RMQ__NOINLINE rmq_err rmq__route_ask(rmq__inst *in, rmq__route *rt, const char *topic)
{
    rmq__rq rq;
    rmq_ext_field f[2];
    rmq_err err = RMQ_ERR_NO_NAMESRV;
    rmq__rq_route_query(&rq, f, topic);
    while (rt->ns_tries < in->nnamesrv) {
        err = rmq__invoke(&in->rm, rmq__namesrv_cur(in), &rq, NULL, 0, 0,
                          rmq__now(&in->rm) + in->api_timeout_ms, rmq__route_done, rt, NULL);
        if (err == RMQ_OK) return err;
        in->ns_index = (in->ns_index + 1) % in->nnamesrv;
        rt->ns_tries++;
    }
    return err;
}

/* Sends GET_ROUTEINFO_BY_TOPIC for the topic (or, ask_default, for the
 * default topic on its behalf). */
RMQ__FN void rmq__route_fetch(rmq__inst *in, rmq__route *rt, int ask_default)
{
    rmq_err err;
    const char *topic = ask_default ? in->create_topic_key : rt->topic;
    if (rt->fetching) return;
    rt->asking_default = (uint8_t)ask_default;
#ifndef RMQ_NO_ADDR_SERVER
    /* No name server yet, but the address server may tell: ask it first. */
    if (!in->nnamesrv && in->addrsrv_addr[0] && !in->addrsrv_answered) {
        rt->awaiting_namesrv = 1;
        rmq__addrsrv_fetch(in);
        if (!in->addrsrv_answered) return;
        rt->awaiting_namesrv = 0;
    }
#endif
    err = rmq__route_ask(in, rt, topic);
    if (err == RMQ_OK) { rt->fetching = 1; return; }
    if (err == RMQ_ERR_NO_NAMESRV)
        rmq__why(&rt->why, RMQ_R_NO_NAMESRV_TOPIC, rt->topic);
    else
        rmq__why(&rt->why, RMQ_R_NO_ROUTE,
                 rt->topic, in->namesrv_text, &in->rm.why);
    /* Completing the waiters here is safe: async ones only queue their
     * callback, which runs on the next loop turn. */
    rmq__route_failed(in, rt);
}

/* -- the address server ------------------------------------------------- */
#ifndef RMQ_NO_ADDR_SERVER
/* "http://host[:port]/path" → "host:port" and a GET request; -1 if not
 * such a URL (https is not spoken: TLS belongs to the port). */
RMQ__FN int rmq__addrsrv_url(const char *url, char *addr, size_t acap, char *req, size_t rcap)
{
    const char *h, *path;
    size_t hl;
    char host[RMQ_ADDR_MAX_LEN + 1];
    int has_port = 0;
    if (!url || !rmq__starts_with(url, "http://")) return -1;
    h = url + 7;
    for (path = h; *path && *path != '/'; path++) if (*path == ':') has_port = 1;
    hl = (size_t)(path - h);
    if (hl == 0 || hl >= sizeof host - 6) return -1;
    RMQ_MEMCPY(host, h, hl);
    host[hl] = 0;
    rmq__format(addr, acap, has_port ? "%s" : "%s:80", host);
    {
        char check[RMQ_ADDR_MAX_LEN + 1];
        uint16_t port;
        if (rmq__split_addr(addr, check, sizeof check, &port)) return -1;
        if (req) rmq__format(req, rcap, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", *path ? path : "/", check);
    }
    return 0;
}

RMQ__FN void rmq__routes_after_namesrv(rmq__inst *in)
{
    int i;
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        rmq__route *rt = in->routes[i];
        if (rt && (rt->awaiting_namesrv || rt->waiters) && !rt->fetching) {
            rt->awaiting_namesrv = 0;
            rmq__route_fetch(in, rt, 0);
        }
    }
}

/* The answer is complete when the server closes: a 200 whose body is a
 * name-server list replaces the list in use. */
RMQ__FN void rmq__addrsrv_answer(rmq__inst *in)
{
    char *body = NULL;
    size_t i;
    int n;
    in->addrsrv_reply[in->addrsrv_len < sizeof in->addrsrv_reply ? in->addrsrv_len : sizeof in->addrsrv_reply - 1] = 0;
    for (i = 0; i + 3 < in->addrsrv_len; i++)
        if (RMQ_MEMCMP(in->addrsrv_reply + i, "\r\n\r\n", 4) == 0) { body = in->addrsrv_reply + i + 4; break; }
    if (!body || !(rmq__starts_with(in->addrsrv_reply, "HTTP/1.0 200") || rmq__starts_with(in->addrsrv_reply, "HTTP/1.1 200"))) {
        RMQ__LOG(&in->rm, RMQ_LOG_WARN, "address server %s gave no name-server list", in->addrsrv_addr);
        return;
    }
    for (i = RMQ_STRLEN(body); i > 0 && (body[i - 1] == '\n' || body[i - 1] == '\r' || body[i - 1] == ' '); i--) body[i - 1] = 0;
    if (rmq__namesrv_parse(body, NULL, &n) || n == 0) {
        RMQ__LOG(&in->rm, RMQ_LOG_WARN, "address server %s answered no valid list: %s", in->addrsrv_addr, body);
        return;
    }
    if (rmq__strcmp(body, in->namesrv_text) != 0) {
        RMQ__LOG(&in->rm, RMQ_LOG_INFO, "name servers from the address server: %s", body);
        if (rmq__namesrv_set(in, body)) RMQ__LOG(&in->rm, RMQ_LOG_WARN, "%s", "out of memory for the name server list");
    }
}

RMQ__FN void rmq__addrsrv_data(void *arg, const uint8_t *data, size_t len)
{
    rmq__inst *in = (rmq__inst *)arg;
    if (data) {                                  /* more of the answer, bounded */
        size_t room = sizeof in->addrsrv_reply - 1 - in->addrsrv_len;
        if (len > room) len = room;
        RMQ_MEMCPY(in->addrsrv_reply + in->addrsrv_len, data, len);
        in->addrsrv_len += len;
        return;
    }
    in->addrsrv_busy = 0;
    in->addrsrv_answered = 1;
    rmq__addrsrv_answer(in);
    rmq__routes_after_namesrv(in);
}

RMQ__FN void rmq__addrsrv_fetch(rmq__inst *in)
{
    rmq_err err;
    if (in->addrsrv_busy || !in->addrsrv_addr[0]) return;
    in->addrsrv_len = 0;
    err = rmq__raw_send(&in->rm, in->addrsrv_addr, in->addrsrv_request, RMQ_STRLEN(in->addrsrv_request),
                        rmq__now(&in->rm) + in->api_timeout_ms, rmq__addrsrv_data, in);
    if (err == RMQ_OK) { in->addrsrv_busy = 1; return; }
    RMQ__LOG(&in->rm, RMQ_LOG_WARN, "address server %s: %r", in->addrsrv_addr, &in->rm.why);
    in->addrsrv_answered = 1;
    /* Routes waiting for it are asked (and fail) on the next turn, from the
     * route timer: calling back into the route fetch from here would recurse. */
    rmq__timer_arm(&in->rm, &in->t_route, rmq__now(&in->rm));
}
#endif

/* -- heartbeat ----------------------------------------------------------- */
/* A heartbeat in flight: one block, this and then its body, the request's
 * until it is done. */
typedef struct rmq__hb {
    int broker;
} rmq__hb;

RMQ__FN void rmq__heartbeat_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__hb *hb = (rmq__hb *)r->owner;
    rmq__inst *in = (rmq__inst *)(void *)rm;
    if (err == RMQ_OK && resp && resp->code == RMQ_CODE_SUCCESS) {
        if (in->brokers[hb->broker].used) in->brokers[hb->broker].version = resp->version;
    } else {
        if (why)
            RMQ__LOG(&in->rm, RMQ_LOG_WARN, "heartbeat to broker %s failed: %r", in->brokers[hb->broker].name, why);
        else
            RMQ__LOG(&in->rm, RMQ_LOG_WARN, "heartbeat to broker %s failed: %s", in->brokers[hb->broker].name,
                     resp ? rmq_response_code_name(resp->code) : rmq_strerror(err));
    }
    RMQ_FREE(in->mem, hb);
}

/* Sends HEART_BEAT to the master of broker b (the library is producer
 * only: masters only, as Java with no consumers). A heartbeat that cannot
 * go now goes with the next round (or the next send to b). */
RMQ__FN void rmq__heartbeat_broker(rmq__inst *in, int b)
{
    const char *addr = rmq__broker_master(&in->brokers[b]);
    rmq__rq heart_beat;
    rmq__hb *hb;
    rmq__req *r;
    size_t len;
    if (!addr) return;
    rmq__rq_init(&heart_beat, NULL, RMQ_REQ_HEART_BEAT);
    /* HeartbeatData of the instance: its client id and every producer group. */
    len = rmq__ser_heartbeat_body(NULL, 0, in->client_id, in->groups, RMQ_MAX_PRODUCERS);
    hb = (rmq__hb *)RMQ_MALLOC(in->mem, sizeof *hb + len);
    if (!hb) return;
    hb->broker = b;
    (void)rmq__ser_heartbeat_body((uint8_t *)(hb + 1), len, in->client_id, in->groups, RMQ_MAX_PRODUCERS);
    if (rmq__invoke(&in->rm, addr, &heart_beat, hb + 1, len, 0, rmq__now(&in->rm) + in->api_timeout_ms,
                    rmq__heartbeat_done, hb, &r) != RMQ_OK) {
        RMQ_FREE(in->mem, hb);
        return;
    }
    in->brokers[b].hb_gen = r->conn->epoch;   /* r is not done yet: its connection is the one it went on */
}

/* A broker gets its first heartbeat no later than the first send to it. */
RMQ__FN void rmq__heartbeat_if_new(rmq__inst *in, int b)
{
    const char *addr = rmq__broker_master(&in->brokers[b]);
    rmq__conn *c = addr ? rmq__conn_find(&in->rm, addr) : NULL;
    if (c && (c->state == RMQ__CONN_OPEN || c->state == RMQ__CONN_CONNECTING) &&
        in->brokers[b].hb_gen == c->epoch)
        return;
    rmq__heartbeat_broker(in, b);
}

/* Brokers gone from every route are dropped and their connections closed
 * (cleanOfflineBroker). */
RMQ__FN void rmq__clean_offline_brokers(rmq__inst *in)
{
    int b, t, a;
    size_t q;
    for (b = 0; b < RMQ_MAX_BROKERS; b++) {
        int used = 0;
        if (!in->brokers[b].used) continue;
        for (t = 0; t < RMQ_MAX_TOPICS && !used; t++) {
            const rmq__route *rt = in->routes[t];
            if (!rt || rt->state != RMQ__ROUTE_OK) continue;
            for (q = 0; q < rt->nqueues && !used; q++) used = rt->queues[q].broker == b;
        }
        if (used) continue;
        for (a = 0; a < in->brokers[b].naddrs; a++) {
            rmq__conn *c = rmq__conn_find(&in->rm, in->brokers[b].addrs[a].addr);
            if (c) rmq__conn_close_idle(&in->rm, c);
        }
        in->brokers[b].used = 0;
    }
}

RMQ__FN void rmq__heartbeat_all(rmq__inst *in)
{
    int b;
    rmq__clean_offline_brokers(in);
    for (b = 0; b < RMQ_MAX_BROKERS; b++) if (in->brokers[b].used) rmq__heartbeat_broker(in, b);
}

/* -- scheduled tasks ----------------------------------------------------- */
/* Refreshes every route in use, the default topic's included
 * (updateTopicRouteInfoFromNameServer, every poll_namesrv_interval_ms). */
RMQ__FN void rmq__routes_refresh(rmq__inst *in)
{
    int i;
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        rmq__route *rt = in->routes[i];
        if (rt && rt->users && !rt->fetching) rmq__route_fetch(in, rt, 0);
    }
}

RMQ__FN void rmq__inst_timer(rmq__remoting *rm, void *arg, rmq__timer *t)
{
    rmq__inst *in = (rmq__inst *)arg;
    uint32_t now = rmq__now(rm);
    if (t == &in->t_heartbeat) {
        rmq__heartbeat_all(in);
        rmq__timer_arm(rm, &in->t_heartbeat, now + in->heartbeat_ms);
    } else if (t == &in->t_route) {
        rmq__routes_refresh(in);
        rmq__timer_arm(rm, &in->t_route, now + in->poll_ms);
#ifndef RMQ_NO_ADDR_SERVER
    } else if (t == &in->t_addrsrv) {
        rmq__addrsrv_fetch(in);
        rmq__timer_arm(rm, &in->t_addrsrv, now + RMQ_ADDR_SERVER_INTERVAL_MS);
#endif
#ifndef RMQ_NO_REQUEST
    } else if (t->kind == RMQ__TIMER_REPLY) {
        if (in->reply_hooks) in->reply_hooks->expired(in, t);
#endif
    } else {
        in->hooks->timer_expired(in, t);
    }
}

/* -- the factory table --------------------------------------------------- */
RMQ__FN void rmq__inst_free(rmq__inst *in)
{
    int i;
    void *mem = in->mem;
    rmq__why(&in->why, RMQ_R_INSTANCE_SHUT_DOWN);
    rmq__remoting_close_all(&in->rm, RMQ_ERR_SHUTDOWN, &in->why);
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        if (!in->routes[i]) continue;
        if (in->routes[i]->queues) RMQ_FREE(mem, in->routes[i]->queues);
        RMQ_FREE(mem, in->routes[i]);
    }
    if (in->namesrv_block) RMQ_FREE(mem, in->namesrv_block);
#ifndef RMQ_NO_TRANSACTION
    in->hooks->instance_freed(in);       /* the broker checks queued in it */
#endif
    rmq__remoting_free(&in->rm);
    if (RMQ__MUTEX(in->mutex)) in->port->mutex_destroy(in->port->ctx, in->mutex);
    RMQ_FREE(mem, in);
}

/* The table is process-wide while producers start and stop on any thread,
 * so it, `refs` and `live` are read and changed only under the port's
 * factory lock; nothing else is done under it. With threads a producer
 * holds its instance from start to destroy (refs), so that a call racing
 * with shutdown still finds the instance it locks; the instance leaves the
 * table when its last producer shuts down (live), so a later start makes
 * a new one, and is freed when the last one is destroyed. Without threads
 * shutdown lets go of both at once. The factory lock is never taken while
 * an instance's lock is held. */
static void rmq__factory_lock(const rmq_port *pt) { if (RMQ__THREADS && pt->factory_lock) pt->factory_lock(pt->ctx); }
static void rmq__factory_unlock(const rmq_port *pt) { if (RMQ__THREADS && pt->factory_unlock) pt->factory_unlock(pt->ctx); }

/* Takes a share of the instance for this client id and port, if there is one. */
static rmq__inst *rmq__inst_find(const rmq_port *port, const char *client_id)
{
    rmq__inst *in;
    for (in = rmq__factory; in; in = in->next) {
        if (in->port == port && rmq__strcmp(in->client_id, client_id) == 0) {
            in->refs++;
#ifndef RMQ_NO_THREADS
            in->live++;
#endif
            return in;
        }
    }
    return NULL;
}

#ifndef RMQ_NO_THREADS
static void rmq__inst_unlink(rmq__inst *in)
{
    rmq__inst **pp;
    for (pp = &rmq__factory; *pp; pp = &(*pp)->next) if (*pp == in) { *pp = in->next; break; }
}
#endif

RMQ__FN rmq_err rmq__inst_new(const rmq_producer_config *cfg, const rmq__inst_hooks *hooks, const char *client_id,
                              const char *ip, const char *namesrv, rmq__inst **out);

/* The instance for this client id and port: shared if it exists. Made
 * outside the lock; of two threads making one at once, the second to come
 * back uses the first one's. */
RMQ__FN rmq_err rmq__inst_acquire(const rmq_producer_config *cfg, const rmq__inst_hooks *hooks, const char *client_id,
                                  const char *ip, const char *namesrv, rmq__inst **out)
{
    rmq__inst *in, *other = NULL;
    rmq_err err;
    rmq__factory_lock(cfg->port);
    in = rmq__inst_find(cfg->port, client_id);
    rmq__factory_unlock(cfg->port);
    if (in) { *out = in; return RMQ_OK; }
    err = rmq__inst_new(cfg, hooks, client_id, ip, namesrv, &in);
    if (err != RMQ_OK) return err;
    rmq__factory_lock(cfg->port);
    if (RMQ__THREADS) other = rmq__inst_find(cfg->port, client_id);
    if (!other) { in->next = rmq__factory; rmq__factory = in; }
    rmq__factory_unlock(cfg->port);
    if (other) { rmq__inst_free(in); in = other; }
    *out = in;
    return RMQ_OK;
}

RMQ__FN rmq_err rmq__inst_new(const rmq_producer_config *cfg, const rmq__inst_hooks *hooks, const char *client_id,
                              const char *ip, const char *namesrv, rmq__inst **out)
{
    rmq__inst *in;
    rmq_err err;
    uint32_t rnd;
    in = (rmq__inst *)RMQ_MALLOC(cfg->mem_ctx, sizeof *in);
    if (!in) return RMQ_ERR_NO_MEMORY;
    RMQ_MEMSET(in, 0, sizeof *in);        /* namesrv_text is set (rmq__namesrv_set) before anything reads it */
    in->hooks = hooks;
    err = rmq__remoting_init(&in->rm, cfg->port, cfg->mem_ctx);
    in->mem = cfg->mem_ctx;
    in->port = cfg->port;
    if (err != RMQ_OK) { rmq__inst_free(in); return RMQ_ERR_NO_MEMORY; }
    if (RMQ__THREADS && cfg->port->mutex_create) {
        in->mutex = in->rm.mutex = cfg->port->mutex_create(cfg->port->ctx);
        if (!in->mutex) { rmq__inst_free(in); return RMQ_ERR_NO_MEMORY; }
    }
    in->rm.serialize = cfg->serialize;
    in->rm.language = cfg->language;
    in->rm.connect_timeout_ms = cfg->connect_timeout_ms;
    in->rm.hook = cfg->rpc_hook;
    in->rm.on_request = hooks->broker_request;
    in->rm.on_request_arg = in;
    in->rm.on_timer = rmq__inst_timer;
    in->rm.on_timer_arg = in;
    in->t_heartbeat.pos = in->t_route.pos = -1;
    in->t_heartbeat.kind = in->t_route.kind = RMQ__TIMER_USER;
#ifndef RMQ_NO_ADDR_SERVER
    in->t_addrsrv.pos = -1;
    in->t_addrsrv.kind = RMQ__TIMER_USER;
    /* Only when no name server is known and a URL is configured. */
    if (!namesrv[0] && cfg->addr_server_url &&
        rmq__addrsrv_url(cfg->addr_server_url, in->addrsrv_addr, sizeof in->addrsrv_addr,
                         in->addrsrv_request, sizeof in->addrsrv_request) == 0 &&
        rmq__timer_arm(&in->rm, &in->t_addrsrv, rmq__now(&in->rm)) != RMQ_OK) {
        rmq__inst_free(in);
        return RMQ_ERR_NO_MEMORY;
    }
#endif
    in->heartbeat_ms = cfg->heartbeat_interval_ms;
    in->poll_ms = cfg->poll_namesrv_interval_ms;
    in->api_timeout_ms = cfg->api_timeout_ms;
    in->default_queue_nums = cfg->default_topic_queue_nums;
    rmq__strlcpy(in->create_topic_key, cfg->create_topic_key, sizeof in->create_topic_key);
    rmq__strlcpy(in->client_id, client_id, sizeof in->client_id);
    if (rmq__namesrv_set(in, namesrv)) { rmq__inst_free(in); return RMQ_ERR_NO_MEMORY; }
    cfg->port->entropy(cfg->port->ctx, &rnd, sizeof rnd);
    rmq__uniq_init(&in->uniq, ip, cfg->port->process_id(cfg->port->ctx), rnd);
    /* The first route refresh runs at once (Java: 10 ms after start); the
     * first heartbeat after 1 s, as the scheduled tasks of MQClientInstance. */
    if (rmq__timer_arm(&in->rm, &in->t_route, rmq__now(&in->rm) + 10) != RMQ_OK ||
        rmq__timer_arm(&in->rm, &in->t_heartbeat, rmq__now(&in->rm) + 1000) != RMQ_OK) {
        rmq__inst_free(in);
        return RMQ_ERR_NO_MEMORY;
    }
    in->refs = 1;
#ifndef RMQ_NO_THREADS
    in->live = 1;
#endif
    *out = in;
    return RMQ_OK;
}

/* A producer shut down: the last one takes the instance out of the table.
 * Without threads it also lets go of it (rmq__inst_release). */
RMQ__FN void rmq__inst_leave(rmq__inst *in)
{
#ifndef RMQ_NO_THREADS
    const rmq_port *pt = in->port;
    rmq__factory_lock(pt);
    if (--in->live == 0) rmq__inst_unlink(in);
    rmq__factory_unlock(pt);
#else
    (void)in;
#endif
}

/* A producer lets go of its instance (with threads: destroyed, or its
 * start failed after the instance was taken); the last one frees it. */
#ifdef RMQ_NO_THREADS
RMQ__FN void rmq__inst_release(rmq__inst *in)
{
    rmq__inst **pp;
    if (--in->refs > 0) return;
    for (pp = &rmq__factory; *pp; pp = &(*pp)->next) if (*pp == in) { *pp = in->next; break; }
    rmq__inst_free(in);
}
#else
RMQ__FN void rmq__inst_release(rmq__inst *in)
{
    const rmq_port *pt = in->port;
    int last;
    rmq__factory_lock(pt);
    last = --in->refs == 0;
    if (last) rmq__inst_unlink(in);
    rmq__factory_unlock(pt);
    if (last) rmq__inst_free(in);
}
#endif

/* ======================================================================== */
/* 13. Producer                                                              */
/* ======================================================================== */
/* DefaultMQProducer and DefaultMQProducerImpl: configuration, the service
 * state, the checks before anything is sent, and every send path. */

enum { RMQ__MODE_SYNC = 0, RMQ__MODE_ASYNC, RMQ__MODE_ONEWAY };
enum { RMQ__TARGET_DEFAULT = 0, RMQ__TARGET_QUEUE, RMQ__TARGET_SELECT };

/* A namespace goes before a topic with a '%': what leaves room for one. */
#define RMQ__NS_MAX_LEN (RMQ_TOPIC_MAX_LEN - 2)

/* The queue of a send. Its topic is its route's, which the route table
 * keeps while the instance lives; the broker's name is its own copy, as
 * the broker table may drop the group before the send ends. */
typedef struct rmq__op_queue {
    const char *topic;
    char broker_name[RMQ_BROKER_NAME_MAX_LEN + 1];
    int queue_id;
} rmq__op_queue;

/* One send call, from acceptance to its single completion. */
struct rmq__op {
    rmq__timer timer;            /* first: armed while waiting for a route */
    rmq_producer *p;
    rmq__op *next, *prev;        /* the producer's live sends */
    rmq__op *wnext;              /* route waiters, then the completion queue */
    rmq__req *req;               /* the attempt in flight */
    uint8_t mode, target, batch, done, tx, parked;
    uint8_t kept;                /* its answer kept in its property room (rmq__op_keep) */
    uint8_t attempts, max_attempts;  /* at most 1 + 15 (retry_times) */
    uint16_t nmsgs;
    int32_t code, sysflag, flag;
    uint32_t start, deadline, attempt_start;
    rmq__route *route;
    int last_broker;
    int broker;                  /* broker of the attempt in flight */
    rmq__op_queue queue;         /* explicit or selected queue */
    rmq_queue_selector sel;
    void *sel_arg;
    char *sel_tags, *sel_keys;   /* the message as a late selector sees it */
    rmq__buf props;              /* the encoded property string */
#ifndef RMQ_NO_FAST_PATH
    uint32_t props_json;         /* its length as a JSON string, or 0: not counted */
    uint8_t props_quoted;        /* props holds that JSON string, quotes included */
#endif
    rmq__buf body;               /* the body, or the encoded batch */
#ifndef RMQ_NO_FAST_PATH
    rmq__lend lend;              /* room for the request of an attempt, at the block's end */
#endif
    char *uniq;                  /* nmsgs UNIQ_KEYs, RMQ__UNIQ_SIZE bytes each */
    rmq_send_cb cb;
    void *user;
    rmq_send_result *res;        /* nmsgs results: the sync caller's, else taken when it ends */
    rmq_err err;
};
#ifndef RMQ_NO_FAST_PATH
#define RMQ__OP_KEPT(op) ((op)->kept)
#else
#define RMQ__OP_KEPT(op) 0
#endif

#ifndef RMQ_NO_TRACE
/* The end of a transaction, as Java's EndTransactionContext tells it. */
typedef struct rmq__tx_end {
    const char *topic, *tags, *keys, *msg_id, *transaction_id, *broker_addr;
    rmq_slice region;            /* MSG_REGION of the message, if it has one */
    rmq_transaction_state state;
    int from_check;
} rmq__tx_end;

/* What a higher section hangs on a producer to see its sends end, as
 * Java's SendMessageHook and EndTransactionHook (message trace, section
 * 16, does): called with the instance's lock held, except stopping and
 * freed, which come first in shutdown and destroy, the lock not held. */
typedef struct rmq__send_hook {
    void (*sent)(void *arg, const rmq__op *op, const char *broker_addr);  /* an attempt was answered */
    void (*tx_ended)(void *arg, const rmq__tx_end *e);   /* END_TRANSACTION is about to go */
    /* These two take the host beside their arg: a signature of their own
     * keeps them apart from the port's void * entries for
     * tools/size_stack.py, which resolves indirect calls by type. */
    void (*stopping)(rmq_producer *host, void *arg);
    void (*freed)(rmq_producer *host, void *arg);
} rmq__send_hook;

/* A timer of kind RMQ__TIMER_HOOK runs its own function. */
typedef struct rmq__hook_timer rmq__hook_timer;
struct rmq__hook_timer {
    rmq__timer t;                /* first */
    void (*fire)(rmq__hook_timer *t);
};
#endif

struct rmq_producer {
    rmq_producer_config cfg;     /* its strings point after the producer, in its block */
    rmq_service_state state;
    rmq__inst *in;
    int slot;                    /* index in the instance's producer table */
    rmq_reason last_error;
    char last_remark[RMQ_REMARK_MAX_LEN + 1];   /* for the %R of a broker's answer in last_error */
    char last_text[RMQ_REASON_MAX_LEN + 1];     /* last_error rendered, by rmq_producer_last_error */
    rmq__op *ops;
    uint32_t pending, pending_bytes;
    rmq_err oneway_err;          /* the first oneway failure since the last flush */
    rmq_reason oneway_why;
    uint32_t retries, sends_ok, sends_failed;
#ifndef RMQ_NO_FAST_PATH
    size_t req_room;             /* the room a send's block lends its request: the last one's need */
#endif
    rmq__send_fields send;       /* the header of the attempt being written: off the send stack */
    rmq__rq send_rq;             /* and the request that carries it */
    rmq__stash blocks;           /* freed ops and results, for the next sends */
#ifndef RMQ_NO_REQUEST
    rmq_slice request_props;     /* encoded, added to the send being accepted (section 15) */
#endif
#ifndef RMQ_NO_THREADS
    uint32_t refused;            /* calls refused with RMQ_ERR_IN_CALLBACK */
    int calls;                   /* calls on it running now, in any thread */
#endif
#ifndef RMQ_NO_NAMESPACE
    char ns[RMQ__NS_MAX_LEN + 1];            /* the namespace in use ("" none), set at start */
    char ns_group[RMQ_GROUP_MAX_LEN + 1];    /* the group as brokers know it: cfg.group points here */
    char ns_name[RMQ_TOPIC_MAX_LEN + 1];     /* a topic renamed, under the lock: off the send stack */
#endif
#ifndef RMQ_NO_TRACE
    const rmq__send_hook *hook;  /* NULL: none */
    void *hook_arg;
    uint32_t trace_sent, trace_dropped;
#endif
};

/* What the client instance calls up into (defined with the broker's
 * requests, at the end of this section). */
static const rmq__inst_hooks *rmq__producer_hooks(void);
#ifndef RMQ_NO_TRANSACTION
RMQ__FN int rmq__run_tx_checks(rmq__inst *in);
#endif
#ifndef RMQ_NO_TRACE
/* Message trace (section 16) hangs its hooks on a producer that asks for
 * it at start, as Java's DefaultMQProducer registers its trace hooks: the
 * one name of a higher section this one knows; the rest goes through the
 * hooks. */
RMQ__FN void rmq__trace_attach(rmq_producer *p);
#endif

/* -- configuration ------------------------------------------------------- */
/* MQFaultStrategy's latencyMax and notAvailableDuration. */
#ifdef RMQ_NO_LATENCY_FAULT
#define rmq__latency_defaults(cfg) ((void)0)
#else
static void rmq__latency_defaults(rmq_producer_config *cfg)
{
    static const uint32_t latency_max[7] = { 50, 100, 550, 1000, 2000, 3000, 15000 };
    static const uint32_t not_available[7] = { 0, 0, 30000, 60000, 120000, 180000, 600000 };
    RMQ_MEMCPY(cfg->latency_max_ms, latency_max, sizeof latency_max);
    RMQ_MEMCPY(cfg->not_available_duration_ms, not_available, sizeof not_available);
}
#endif

RMQDEF void rmq_producer_config_init(rmq_producer_config *cfg)
{
    RMQ_MEMSET(cfg, 0, sizeof *cfg);
    cfg->instance_name = "DEFAULT";
    cfg->create_topic_key = "TBW102";
    cfg->default_topic_queue_nums = 4;
    cfg->send_timeout_ms = RMQ_SEND_TIMEOUT_MS;
    cfg->retry_times = RMQ_RETRY_TIMES;
    cfg->retry_times_async = RMQ_RETRY_TIMES_ASYNC;
    cfg->max_message_size = RMQ_MAX_MESSAGE_BYTES;
    cfg->compress_over_bytes = RMQ_COMPRESS_OVER_BYTES;
    cfg->heartbeat_interval_ms = RMQ_HEARTBEAT_INTERVAL_MS;
    cfg->poll_namesrv_interval_ms = RMQ_POLL_NAMESRV_INTERVAL_MS;
    cfg->api_timeout_ms = RMQ_API_TIMEOUT_MS;
    cfg->connect_timeout_ms = RMQ_CONNECT_TIMEOUT_MS;
    cfg->max_pending = RMQ_MAX_PENDING;
    cfg->max_pending_bytes = RMQ_MAX_PENDING_BYTES;
    cfg->serialize = RMQ_SERIALIZE_JSON;
    cfg->language = 7;
    rmq__latency_defaults(cfg);
}

static int rmq__is_blank(const char *s)
{
    if (!s) return 1;
    for (; *s; s++) if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

#if defined(RMQ_NO_FAST_PATH) || !defined(RMQ_NO_NAMESPACE)
/* ^[%|a-zA-Z0-9_-]+$, the charset of topics and groups. */
static int rmq__name_char_ok(unsigned char c)
{
    static const uint32_t ok[4] = { 0, 0x03FF2020u, 0x87FFFFFEu, 0x17FFFFFEu };   /* by bit, 32 a word */
    return c < 128 && (ok[c >> 5] >> (c & 31)) & 1u;
}
#endif

/* The length of the name characters s starts with: the whole string when
 * it is a legal name. */
#ifdef RMQ_NO_FAST_PATH
static size_t rmq__name_len(const char *s)
{
    size_t n = 0;
    while (s[n] && rmq__name_char_ok((unsigned char)s[n])) n++;
    return n;
}
#else
/* The charset a byte each, a load per character (a topic is checked at
 * every send); the NUL is not in it. */
static const uint8_t rmq__name_chars[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0
};

static size_t rmq__name_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    while (u[n] < 128 && rmq__name_chars[u[n]]) n++;
    return n;
}
#endif

static int rmq__name_chars_ok(const char *s) { return !s[rmq__name_len(s)]; }

#ifndef RMQ_NO_NAMESPACE
/* A namespace: a name without '%', which ends it on the wire, short
 * enough to leave a topic room. */
static int rmq__ns_name_ok(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++) if (*s == '%' || !rmq__name_char_ok((unsigned char)*s)) return 0;
    return n <= RMQ__NS_MAX_LEN;
}
#endif

/* Records why a config is refused (a code of RMQ_R_CONFIG_..., its
 * template naming the field); returns RMQ_ERR_CONFIG. */
static rmq_err rmq__bad(rmq_reason *why, int code)
{
    if (why) rmq__why(why, code);
    return RMQ_ERR_CONFIG;
}

RMQ__FN rmq_err rmq__check_port(const rmq_port *pt, rmq_reason *why)
{
    if (!pt) return rmq__bad(why, RMQ_R_CONFIG_PORT_MISSING);
    if (!pt->connect || !pt->send || !pt->recv || !pt->close || !pt->wait || !pt->now_ms ||
        !pt->process_id || !pt->entropy)
        return rmq__bad(why, RMQ_R_CONFIG_PORT_INCOMPLETE);
    if (pt->mutex_create && (!pt->mutex_lock || !pt->mutex_unlock || !pt->mutex_destroy))
        return rmq__bad(why, RMQ_R_CONFIG_PORT_MUTEX);
    return RMQ_OK;
}

#ifndef RMQ_NO_LATENCY_FAULT
static int rmq__latency_tables_bad(const rmq_producer_config *cfg)
{
    int i;
    for (i = 0; i < 7; i++) {
        if (cfg->not_available_duration_ms[i] > 0x3FFFFFFFu) return 1;
        if (i > 0 && cfg->latency_max_ms[i] < cfg->latency_max_ms[i - 1]) return 1;
    }
    return 0;
}
#endif

/* The numeric fields with a range: one row each, in the order they are
 * checked, read by one loop (smaller than a check per field). An int field
 * is read as one and converted: a negative one exceeds every max. */
typedef struct rmq__config_range {
    uint8_t off, is_int, min, code;
    uint32_t max;
} rmq__config_range;

#define RMQ__RANGE(field, is_int, min, max, code) \
    { (uint8_t)offsetof(rmq_producer_config, field), is_int, min, code, max }
static const rmq__config_range rmq__config_ranges[] = {
    RMQ__RANGE(default_topic_queue_nums, 1, 1, 1024, RMQ_R_CONFIG_TOPIC_QUEUE_NUMS),
    RMQ__RANGE(send_timeout_ms, 0, 1, 0x3FFFFFFFu, RMQ_R_CONFIG_SEND_TIMEOUT),
    RMQ__RANGE(retry_times, 1, 0, 15, RMQ_R_CONFIG_RETRY_TIMES),
    RMQ__RANGE(retry_times_async, 1, 0, 15, RMQ_R_CONFIG_RETRY_TIMES_ASYNC),
    RMQ__RANGE(max_message_size, 0, 1, RMQ_MAX_FRAME_BYTES - RMQ_MAX_HEADER_BYTES, RMQ_R_CONFIG_MAX_MESSAGE_SIZE),
    RMQ__RANGE(heartbeat_interval_ms, 0, 10, 60000, RMQ_R_CONFIG_HEARTBEAT_INTERVAL),
    RMQ__RANGE(poll_namesrv_interval_ms, 0, 10, 0x3FFFFFFFu, RMQ_R_CONFIG_POLL_NAMESRV_INTERVAL),
    RMQ__RANGE(api_timeout_ms, 0, 1, 0x3FFFFFFFu, RMQ_R_CONFIG_API_TIMEOUT),
    RMQ__RANGE(connect_timeout_ms, 0, 1, 0x3FFFFFFFu, RMQ_R_CONFIG_CONNECT_TIMEOUT),
    RMQ__RANGE(max_pending, 0, 1, RMQ_MAX_PENDING, RMQ_R_CONFIG_MAX_PENDING)
};
#undef RMQ__RANGE
/* The offsets fit the row's byte: max_pending is the last field ranged. */
typedef char rmq__config_range_off_fits[offsetof(rmq_producer_config, max_pending) < 256 ? 1 : -1];

static int rmq__config_ranges_bad(const rmq_producer_config *cfg, rmq_reason *why)
{
    size_t i;
    for (i = 0; i < sizeof rmq__config_ranges / sizeof rmq__config_ranges[0]; i++) {
        const rmq__config_range *r = &rmq__config_ranges[i];
        const void *at = (const char *)cfg + r->off;
        uint32_t v = r->is_int ? (uint32_t)*(const int *)at : *(const uint32_t *)at;
        if (v < r->min || v > r->max) return rmq__bad(why, r->code) != RMQ_OK;
    }
    return 0;
}

RMQ__FN rmq_err rmq__config_check(const rmq_producer_config *cfg, rmq_reason *why)
{
    int nns;
    if (!cfg) return rmq__bad(why, RMQ_R_CONFIG_NULL);
    if (rmq__is_blank(cfg->group)) return rmq__bad(why, RMQ_R_CONFIG_GROUP_BLANK);
    if (RMQ_STRLEN(cfg->group) > RMQ_GROUP_MAX_LEN) return rmq__bad(why, RMQ_R_CONFIG_GROUP_TOO_LONG);
    if (!rmq__name_chars_ok(cfg->group))
        return rmq__bad(why, RMQ_R_CONFIG_GROUP_ILLEGAL);
    if (rmq__strcmp(cfg->group, "DEFAULT_PRODUCER") == 0)
        return rmq__bad(why, RMQ_R_CONFIG_GROUP_DEFAULT);
#ifdef RMQ_NO_NAMESPACE
    if (cfg->name_space && *cfg->name_space) return rmq__bad(why, RMQ_R_CONFIG_NAMESPACE_CUT);
#else
    if (cfg->name_space && !rmq__ns_name_ok(cfg->name_space))
        return rmq__bad(why, RMQ_R_CONFIG_NAMESPACE);
#endif
    if (cfg->namesrv_addr && rmq__namesrv_parse(cfg->namesrv_addr, NULL, &nns))
        return rmq__bad(why, RMQ_R_CONFIG_NAMESRV_ADDR);
    if (rmq__is_blank(cfg->instance_name) || RMQ_STRLEN(cfg->instance_name) > 64)
        return rmq__bad(why, RMQ_R_CONFIG_INSTANCE_NAME);
    if (cfg->unit_name && RMQ_STRLEN(cfg->unit_name) > 32) return rmq__bad(why, RMQ_R_CONFIG_UNIT_NAME);
    if (rmq__is_blank(cfg->create_topic_key) || RMQ_STRLEN(cfg->create_topic_key) > RMQ_TOPIC_MAX_LEN ||
        !rmq__name_chars_ok(cfg->create_topic_key))
        return rmq__bad(why, RMQ_R_CONFIG_CREATE_TOPIC_KEY);
    if (rmq__config_ranges_bad(cfg, why)) return RMQ_ERR_CONFIG;
    if (cfg->max_pending_bytes < cfg->max_message_size)
        return rmq__bad(why, RMQ_R_CONFIG_MAX_PENDING_BYTES);
    if (RMQ__LINGER && cfg->linger_us > 1000000u)
        return rmq__bad(why, RMQ_R_CONFIG_LINGER);
    if (cfg->serialize != RMQ_SERIALIZE_JSON && cfg->serialize != RMQ_SERIALIZE_ROCKETMQ)
        return rmq__bad(why, RMQ_R_CONFIG_SERIALIZE);
#ifdef RMQ_NO_BINARY_HEADER
    if (cfg->serialize == RMQ_SERIALIZE_ROCKETMQ) return rmq__bad(why, RMQ_R_CONFIG_SERIALIZE_CUT);
#endif
    if (cfg->language < 0 || cfg->language > 12) return rmq__bad(why, RMQ_R_CONFIG_LANGUAGE);
#if defined(RMQ_NO_LATENCY_FAULT) && defined(RMQ_NO_TRACE)
    /* Both cut, as in the core: one check and one text for the two fields
     * (the core's size does not grow for the second). */
    if (cfg->latency_fault_enable | cfg->trace_enable)
        return rmq__bad(why, RMQ_R_CONFIG_FEATURES_CUT);
#elif defined(RMQ_NO_LATENCY_FAULT)
    if (cfg->latency_fault_enable) return rmq__bad(why, RMQ_R_CONFIG_LATENCY_FAULT_CUT);
#elif defined(RMQ_NO_TRACE)
    if (cfg->trace_enable) return rmq__bad(why, RMQ_R_CONFIG_TRACE_CUT);
#endif
#ifndef RMQ_NO_LATENCY_FAULT
    if (cfg->latency_fault_enable && rmq__latency_tables_bad(cfg))
        return rmq__bad(why, RMQ_R_CONFIG_LATENCY_TABLES);
#endif
#ifdef RMQ_NO_ADDR_SERVER
    if (cfg->addr_server_url) return rmq__bad(why, RMQ_R_CONFIG_ADDR_SERVER_CUT);
#else
    if (cfg->addr_server_url) {
        char a[RMQ_ADDR_MAX_LEN + 1];
        if (rmq__addrsrv_url(cfg->addr_server_url, a, sizeof a, NULL, 0))
            return rmq__bad(why, RMQ_R_CONFIG_ADDR_SERVER_URL);
    }
#endif
    return rmq__check_port(cfg->port, why);
}

RMQDEF rmq_err rmq_producer_config_check(const rmq_producer_config *cfg, char *why, size_t len)
{
    rmq_reason r;
    rmq_err err;
    r.code[0] = RMQ_R_NONE;      /* a valid config renders "" */
    err = rmq__config_check(cfg, &r);
    if (why && len) rmq__reason_text(&r, NULL, why, len);
    return err;
}

/* -- the why of a failure ------------------------------------------------ */
#ifndef RMQ_NO_THREADS
#define RMQ__COUNT_REFUSAL(p, err) ((err) == RMQ_ERR_IN_CALLBACK ? (void)(p)->refused++ : (void)0)
#else
#define RMQ__COUNT_REFUSAL(p, err) ((void)0)
#endif
/* Records the reason of a failed call on p, for rmq_producer_last_error. */
#ifdef RMQ_NO_ERROR_TEXT
static rmq_err rmq__fail(rmq_producer *p, rmq_err err, int code, ...)
{
    p->last_error.code[0] = (unsigned char)code;
    RMQ__COUNT_REFUSAL(p, err);
    return err;
}
#else
static rmq_err rmq__fail(rmq_producer *p, rmq_err err, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    rmq__vwhy(&p->last_error, code, ap);
    va_end(ap);
    RMQ__COUNT_REFUSAL(p, err);
    return err;
}
#endif

/* Records a reason recorded before (a route's, a request's) as the
 * reason of a failed call on p, whole. */
static rmq_err rmq__fail_why(rmq_producer *p, rmq_err err, const rmq_reason *why)
{
    RMQ__COPY(&p->last_error, why);
    RMQ__COUNT_REFUSAL(p, err);
    return err;
}

static const char *rmq__state_name(rmq_service_state s)
{
    switch (s) {
    case RMQ_STATE_CREATE_JUST: return "CREATE_JUST";
    case RMQ_STATE_RUNNING: return "RUNNING";
    case RMQ_STATE_SHUTDOWN_ALREADY: return "SHUTDOWN_ALREADY";
    default: return "START_FAILED";
    }
}

/* -- namespace (NamespaceUtil) ------------------------------------------- */
/* Java's namespace (ClientConfig.withNamespace / withoutNamespace): the
 * broker knows a topic or the group as "ns%name" ("%RETRY%ns%name" for a
 * retry name, "%DLQ%ns%name" for a dead-letter one), so several instances
 * share one cluster; the application names them bare and gets them back
 * bare. System topics and groups are shared by all and keep their names.
 * Other parts rename through rmq__ns_wrap and rmq__ns_unwrap. */
static RMQ__UNUSED int rmq__ns_copy(const char *r, size_t n, char *out, size_t cap)
{
    if (n >= cap) return -1;
    if (n) RMQ_MEMMOVE(out, r, n);
    out[n] = 0;
    return (int)n;
}

#ifndef RMQ_NO_NAMESPACE
static const char *const rmq__ns_system_topics[] = {
    "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT"
};

static int rmq__ns_starts(const char *r, size_t n, const char *lit, size_t k)
{
    return n >= k && RMQ_MEMCMP(r, lit, k) == 0;
}

/* TopicValidator.isSystemTopic or MixAll.isSysConsumerGroup. */
static int rmq__ns_system(const char *r, size_t n)
{
    size_t i;
    rmq_slice s;
    s.ptr = r;
    s.len = n;
    for (i = 0; i < sizeof rmq__ns_system_topics / sizeof *rmq__ns_system_topics; i++)
        if (rmq__slice_eq(s, rmq__ns_system_topics[i])) return 1;
    return rmq__ns_starts(r, n, "rmq_sys_", 8) || rmq__ns_starts(r, n, "CID_RMQ_SYS_", 12);
}

/* The length of a %RETRY% or %DLQ% prefix, which stays in front. */
static size_t rmq__ns_prefix(const char *r, size_t n)
{
    return rmq__ns_starts(r, n, "%RETRY%", 7) ? 7 : rmq__ns_starts(r, n, "%DLQ%", 5) ? 5 : 0;
}

/* 1 when r, past its prefix pre, starts with "ns%": r carries ns. */
static int rmq__ns_carried(const rmq_producer *p, const char *r, size_t n, size_t pre)
{
    size_t k = RMQ_STRLEN(p->ns);
    return k && !rmq__ns_system(r, n) && n - pre > k && RMQ_MEMCMP(r + pre, p->ns, k) == 0 && r[pre + k] == '%';
}

/* NamespaceUtil.wrapNamespace: r (n bytes) as the broker knows it, written
 * with its NUL into out (cap bytes; out may be r itself). Returns its
 * length, or -1 when it does not fit. */
RMQ__FN int rmq__ns_wrap(const rmq_producer *p, const char *r, size_t n, char *out, size_t cap)
{
    size_t k = RMQ_STRLEN(p->ns), pre = rmq__ns_prefix(r, n);
    if (!k || !n || rmq__ns_system(r, n) || rmq__ns_carried(p, r, n, pre)) return rmq__ns_copy(r, n, out, cap);
    if (n + k + 1 >= cap) return -1;
    RMQ_MEMMOVE(out + pre + k + 1, r + pre, n - pre);   /* the name first: out may be r */
    RMQ_MEMMOVE(out, r, pre);
    RMQ_MEMCPY(out + pre, p->ns, k);
    out[pre + k] = '%';
    out[n + k + 1] = 0;
    return (int)(n + k + 1);
}

/* NamespaceUtil.withoutNamespace(r, ns): r as the application named it;
 * a name of another namespace, or of none, stays as it is. Same contract
 * as rmq__ns_wrap. */
RMQ__FN int rmq__ns_unwrap(const rmq_producer *p, const char *r, size_t n, char *out, size_t cap)
{
    size_t k = RMQ_STRLEN(p->ns), pre;
    if (!k) return rmq__ns_copy(r, n, out, cap);     /* no namespace: every result's topic, at once */
    pre = rmq__ns_prefix(r, n);
    if (!rmq__ns_carried(p, r, n, pre)) return rmq__ns_copy(r, n, out, cap);
    if (n - k - 1 >= cap) return -1;
    RMQ_MEMMOVE(out, r, pre);
    RMQ_MEMMOVE(out + pre, r + pre + k + 1, n - pre - k - 1);
    out[n - k - 1] = 0;
    return (int)(n - k - 1);
}

/* A queue handed back to the application names its topic bare. */
RMQ__FN void rmq__ns_unwrap_queue(const rmq_producer *p, rmq_queue *q)
{
    rmq__ns_unwrap(p, q->topic, RMQ_STRLEN(q->topic), q->topic, sizeof q->topic);
}

/* The topic t of a send as the broker knows it (valid until the next
 * call, under the lock). Java checks the length of this form: a topic that
 * fits alone may not with its namespace. */
RMQ__FN rmq_err rmq__ns_topic(rmq_producer *p, const char **t)
{
    if (!*t || !p->ns[0]) return RMQ_OK;
    if (rmq__ns_wrap(p, *t, RMQ_STRLEN(*t), p->ns_name, sizeof p->ns_name) < 0)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_TOO_LONG_WITH_NAMESPACE,
                         *t, p->ns, *t);
    *t = p->ns_name;
    return RMQ_OK;
}

/* DefaultMQProducer.queueWithNamespace: a queue the application names for
 * a send is of the message's topic (already wrapped) in either form. */
RMQ__FN int rmq__ns_same_topic(rmq_producer *p, const char *queue_topic, const char *topic)
{
    const char *q = queue_topic;
    size_t n = RMQ_STRLEN(q), k = RMQ_STRLEN(p->ns), pre = rmq__ns_prefix(q, n);
    if (rmq__strcmp(q, topic) == 0) return 1;            /* wrapping a wrapped name keeps it */
    if (!k || !n || rmq__ns_system(q, n) || rmq__ns_carried(p, q, n, pre)) return 0;
    return RMQ_STRLEN(topic) == n + k + 1 && RMQ_MEMCMP(topic, q, pre) == 0 &&
           RMQ_MEMCMP(topic + pre, p->ns, k) == 0 && topic[pre + k] == '%' && rmq__strcmp(topic + pre + k + 1, q + pre) == 0;
}

/* Message.setInstanceId: each send names the namespace it was made in. */
RMQ__FN rmq_err rmq__ns_put_instance_id(rmq_producer *p, rmq__buf *props)
{
    if (!p->ns[0]) return RMQ_OK;
    rmq__prop_put(props, "INSTANCE_ID", p->ns, RMQ_STRLEN(p->ns));
    if (props->failed == RMQ__BUF_OVER_LIMIT)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTIES_TOO_LONG,
                         RMQ_PROPERTIES_MAX_BYTES);
    return props->failed ? rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_PROPERTIES) : RMQ_OK;
}

static int rmq__ns_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* ClientConfig.getNamespace when none is set: an instance endpoint,
 * ^(\w+://|)MQ_INST_\w+_\w+\..*, carries one, "MQ_INST_x_y". Returns its
 * length (0: the address carries none) and writes it into out when it fits. */
RMQ__FN size_t rmq__ns_from_addr(const char *a, char *out, size_t cap)
{
    const char *s = a, *e, *u;
    while (rmq__ns_word_char(*s)) s++;
    if (s > a && s[0] == ':' && s[1] == '/' && s[2] == '/') a = s + 3;
    if (!rmq__starts_with(a, "MQ_INST_")) return 0;
    for (e = a + 8; rmq__ns_word_char(*e); e++) {}
    for (u = a + 9; u < e - 1 && *u != '_'; u++) {}
    if (*e != '.' || u >= e - 1) return 0;      /* no "x_y" before the first '.' */
    if ((size_t)(e - a) < cap) { RMQ_MEMCPY(out, a, (size_t)(e - a)); out[e - a] = 0; }
    return (size_t)(e - a);
}

/* DefaultMQProducer.start: the namespace is settled (the configured one,
 * else the name server address's) and the group renamed with it, before
 * anything names the group to a broker. namesrv: the address in use. */
RMQ__FN rmq_err rmq__ns_start(rmq_producer *p, const char *namesrv)
{
    const char *g = p->cfg.group;
    if (g == p->ns_group) return RMQ_OK;       /* a start again after a refused one */
    p->ns[0] = 0;
    if (p->cfg.name_space && *p->cfg.name_space) rmq__strlcpy(p->ns, p->cfg.name_space, sizeof p->ns);
    else if (namesrv && rmq__ns_from_addr(namesrv, p->ns, sizeof p->ns) >= sizeof p->ns)
        return rmq__fail(p, RMQ_ERR_CONFIG, RMQ_R_CONFIG_ENDPOINT_NAMESPACE, namesrv);
    if (rmq__ns_wrap(p, g, RMQ_STRLEN(g), p->ns_group, sizeof p->ns_group) < 0)
        return rmq__fail(p, RMQ_ERR_CONFIG, RMQ_R_CONFIG_GROUP_WITH_NAMESPACE,
                         p->ns, g);
    p->cfg.group = p->ns_group;
    return RMQ_OK;
}
#else
/* Without namespaces every name is the broker's as it is. */
#define rmq__ns_wrap(p, r, n, out, cap) ((void)(p), rmq__ns_copy((r), (n), (out), (cap)))
#define rmq__ns_unwrap(p, r, n, out, cap) ((void)(p), rmq__ns_copy((r), (n), (out), (cap)))
#define rmq__ns_unwrap_queue(p, q) ((void)0)
#define rmq__ns_topic(p, t) RMQ_OK
#define rmq__ns_same_topic(p, queue_topic, topic) (rmq__strcmp((queue_topic), (topic)) == 0)
#define rmq__ns_put_instance_id(p, props) RMQ_OK
#define rmq__ns_start(p, namesrv) RMQ_OK
#endif

/* -- lifecycle ----------------------------------------------------------- */
/* The config's strings, which the producer keeps copies of. */
static const uint8_t rmq__cfg_strings[] = {
    offsetof(rmq_producer_config, group), offsetof(rmq_producer_config, namesrv_addr),
    offsetof(rmq_producer_config, instance_name), offsetof(rmq_producer_config, unit_name),
    offsetof(rmq_producer_config, addr_server_url), offsetof(rmq_producer_config, create_topic_key)
};
typedef char rmq__cfg_strings_fit[offsetof(rmq_producer_config, create_topic_key) < 256 ? 1 : -1];

/* The bytes the strings of from take; with at, copies them there and
 * points to's fields at the copies. */
RMQ__FN size_t rmq__copy_strings(const rmq_producer_config *from, rmq_producer_config *to, char *at)
{
    size_t i, total = 0;
    for (i = 0; i < sizeof rmq__cfg_strings; i++) {
        const char *str = *(const char *const *)(const void *)((const char *)from + rmq__cfg_strings[i]);
        size_t n;
        if (!str) continue;
        n = RMQ_STRLEN(str) + 1;
        if (at) {
            RMQ_MEMCPY(at + total, str, n);
            *(const char **)(void *)((char *)to + rmq__cfg_strings[i]) = at + total;
        }
        total += n;
    }
    return total;
}

/* The producer and its copies of the config's strings are one block. */
RMQDEF rmq_err rmq_producer_create(const rmq_producer_config *cfg, rmq_producer **out)
{
    rmq_producer *p;
    if (!cfg || !out) return RMQ_ERR_INVALID_ARG;
    *out = NULL;
    if (rmq__check_port(cfg->port, NULL) != RMQ_OK) return RMQ_ERR_CONFIG;
    p = (rmq_producer *)RMQ_MALLOC(cfg->mem_ctx, sizeof *p + rmq__copy_strings(cfg, NULL, NULL));
    if (!p) return RMQ_ERR_NO_MEMORY;
    RMQ_MEMSET(p, 0, sizeof *p);                 /* its state: RMQ_STATE_CREATE_JUST */
    RMQ__COPY(&p->cfg, cfg);
    (void)rmq__copy_strings(cfg, &p->cfg, (char *)(p + 1));
    p->slot = -1;
    *out = p;
    return RMQ_OK;
}

/* ip@instanceName[@unitName]; instance name DEFAULT becomes the decimal
 * process (device) id, the rule up to Java 4.8 (see the differences above). */
RMQ__FN void rmq__client_id(const rmq_producer *p, char *ip, size_t iplen, char *out, size_t cap)
{
    const rmq_port *pt = p->cfg.port;
    rmq__sb b;
    char num[24];
    if (!pt->local_ip || pt->local_ip(pt->ctx, ip, iplen) != 0 || !ip[0]) rmq__strlcpy(ip, "127.0.0.1", iplen);
    rmq__sb_init(&b, out, cap);
    rmq__sb_puts(&b, ip);
    rmq__sb_puts(&b, "@");
    if (rmq__strcmp(p->cfg.instance_name, "DEFAULT") == 0)
        rmq__sb_putn(&b, num, rmq__u64_to_dec(num, pt->process_id(pt->ctx)));
    else
        rmq__sb_puts(&b, p->cfg.instance_name);
    if (!rmq__is_blank(p->cfg.unit_name)) { rmq__sb_puts(&b, "@"); rmq__sb_puts(&b, p->cfg.unit_name); }
}

/* The producer table: one producer per group per instance. */
RMQ__FN rmq_err rmq__register_producer(rmq_producer *p)
{
    rmq__inst *in = p->in;
    int i, free_slot = -1;
    for (i = 0; i < RMQ_MAX_PRODUCERS; i++) {
        if (in->producers[i] && rmq__strcmp(in->producers[i]->cfg.group, p->cfg.group) == 0)
            return rmq__fail(p, RMQ_ERR_GROUP_EXISTS, RMQ_R_GROUP_EXISTS, p->cfg.group);
        if (!in->producers[i] && free_slot < 0) free_slot = i;
    }
    if (free_slot < 0)
        return rmq__fail(p, RMQ_ERR_LIMIT, RMQ_R_MAX_PRODUCERS,
                         in->client_id, RMQ_MAX_PRODUCERS);
    in->producers[free_slot] = p;
    in->groups[free_slot] = p->cfg.group;
    p->slot = free_slot;
    return RMQ_OK;
}

/* A producer's mark on a route it uses (called: smaller than inlined at its two sites). */
static RMQ__NOINLINE void rmq__route_use(rmq_producer *p, rmq__route *rt) { if (rt && p->slot >= 0) rt->users |= 1u << p->slot; }

/* Why rmq__route_get had no entry for topic: a full table (entries are
 * taken in order and kept while the instance lives, so the last one taken
 * means full), or no memory. */
RMQ__FN rmq_err rmq__route_refused(rmq_producer *p, const char *topic)
{
    if (!p->in->routes[RMQ_MAX_TOPICS - 1]) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_SEND);
    return rmq__fail(p, RMQ_ERR_LIMIT, RMQ_R_MAX_TOPICS, topic, RMQ_MAX_TOPICS);
}

/* DefaultMQProducerImpl.start: everything but message trace, which starts
 * an inner producer through here (so that no call chain comes back). */
RMQ__FN rmq_err rmq__producer_start(rmq_producer *p)
{
    char ip[64], cid[RMQ_CLIENT_ID_MAX_LEN + 1];
    const char *ns;
    rmq_err err;
    if (!p) return RMQ_ERR_INVALID_ARG;
    if (p->state != RMQ_STATE_CREATE_JUST)
        return rmq__fail(p, RMQ_ERR_STATE, RMQ_R_START_STATE, rmq__state_name(p->state));
    p->state = RMQ_STATE_START_FAILED;
    err = rmq__config_check(&p->cfg, &p->last_error);
    if (err != RMQ_OK) return err;
    rmq__client_id(p, ip, sizeof ip, cid, sizeof cid);
    ns = p->cfg.namesrv_addr;
    if (!ns && p->cfg.port->getenv) ns = p->cfg.port->getenv(p->cfg.port->ctx, "NAMESRV_ADDR");
    if (ns && !p->cfg.namesrv_addr) {
        int n;
        if (rmq__namesrv_parse(ns, NULL, &n)) return rmq__fail(p, RMQ_ERR_CONFIG, RMQ_R_NAMESRV_ADDR_ENV);
    }
    err = rmq__ns_start(p, ns);
    if (err != RMQ_OK) return err;
    rmq__send_fields_names(&p->send, p->cfg.group, p->cfg.create_topic_key);
    err = rmq__inst_acquire(&p->cfg, rmq__producer_hooks(), cid, ip, ns ? ns : "", &p->in);
    if (err != RMQ_OK) return rmq__fail(p, err, RMQ_R_INSTANCE_CREATE, rmq_strerror(err));
    rmq__lock(p->in);
    err = rmq__register_producer(p);
    if (err != RMQ_OK) {
        rmq__unlock(p->in);
        rmq__inst_leave(p->in);
        rmq__inst_release(p->in);
        p->in = NULL;
        if (err == RMQ_ERR_GROUP_EXISTS) p->state = RMQ_STATE_CREATE_JUST;
        return err;
    }
    rmq__route_use(p, rmq__route_get(p->in, p->cfg.create_topic_key));   /* TBW102's publish info */
    p->state = RMQ_STATE_RUNNING;
    rmq__heartbeat_all(p->in);   /* no-op on a first start: no broker known yet */
    rmq__unlock(p->in);
    return RMQ_OK;
}

RMQDEF rmq_err rmq_producer_start(rmq_producer *p)
{
    rmq_err err = rmq__producer_start(p);
#ifndef RMQ_NO_TRACE
    if (err == RMQ_OK && p->cfg.trace_enable) rmq__trace_attach(p);
#endif
    return err;
}

RMQDEF const char *rmq_producer_last_error(const rmq_producer *p)
{
    rmq_producer *w = (rmq_producer *)(uintptr_t)p;  /* its buffer is p's own: p is never const */
    if (!p) return "no producer";
    return rmq__reason_text(&p->last_error, p->last_remark, w->last_text, sizeof w->last_text);
}

RMQDEF rmq_reason_code rmq_producer_last_error_code(const rmq_producer *p, unsigned depth)
{
    return p ? rmq__reason_code_at(&p->last_error, depth) : RMQ_R_NONE;
}

RMQDEF const char *rmq_result_reason(const rmq_send_result *res, char *buf, size_t len)
{
    if (!buf || !len) return "";
    return res ? rmq__reason_text(&res->reason, res->remark, buf, len) : (buf[0] = 0, buf);
}

RMQDEF rmq_reason_code rmq_result_reason_code(const rmq_send_result *res, unsigned depth)
{
    return res ? rmq__reason_code_at(&res->reason, depth) : RMQ_R_NONE;
}
RMQDEF const char *rmq_producer_client_id(const rmq_producer *p) { return p && p->in ? p->in->client_id : ""; }
#ifdef RMQ_NO_THREADS
RMQDEF rmq_service_state rmq_producer_state(const rmq_producer *p) { return p ? p->state : RMQ_STATE_CREATE_JUST; }
#else
RMQDEF rmq_service_state rmq_producer_state(const rmq_producer *p)
{
    rmq_service_state st;
    if (!p) return RMQ_STATE_CREATE_JUST;
    if (RMQ__THREADS && p->in) rmq__lock(p->in);    /* shutdown changes it under the lock */
    st = p->state;
    if (RMQ__THREADS && p->in) rmq__unlock(p->in);
    return st;
}
#endif

RMQDEF void rmq_producer_set_time(rmq_producer *p, int64_t epoch_ms)
{
    if (!p || !p->in) return;
    rmq__lock(p->in);
    p->in->wall_base = epoch_ms;
    p->in->mono_base = rmq__now(&p->in->rm);
    p->in->wall_set = 1;
    rmq__unlock(p->in);
}

/* -- message checks (Validators.checkMessage, Message.putUserProperty) ---- */
static const char *const rmq__reserved_props[] = {
    "TRACE_ON", "MSG_REGION", "KEYS", "TAGS", "WAIT", "DELAY", "RETRY_TOPIC", "REAL_TOPIC", "REAL_QID",
    "TRAN_MSG", "PGROUP", "MIN_OFFSET", "MAX_OFFSET", "BUYER_ID", "ORIGIN_MESSAGE_ID", "TRANSFER_FLAG",
    "CORRECTION_FLAG", "MQ2_FLAG", "RECONSUME_TIME", "UNIQ_KEY", "MAX_RECONSUME_TIMES", "CONSUME_START_TIME",
    "INSTANCE_ID", "CORRELATION_ID", "REPLY_TO_CLIENT", "TTL", "ARRIVE_TIME", "PUSH_REPLY_TIME", "CLUSTER",
    "MSG_TYPE", "INNER_MULTI_QUEUE_OFFSET"
};

static const char *const rmq__forbidden_topics[] = {
    "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT"
};

RMQ__FN rmq_err rmq__check_topic(rmq_producer *p, const char *t)
{
    size_t i, n = t ? rmq__name_len(t) : 0;   /* one pass: the length of a legal name, never blank */
    int legal = n && !t[n];
    if (!legal && rmq__is_blank(t)) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_BLANK);
    if ((legal ? n : RMQ_STRLEN(t)) > RMQ_TOPIC_MAX_LEN)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_TOO_LONG);
    if (!legal)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_ILLEGAL, t);
    for (i = 0; i < sizeof rmq__forbidden_topics / sizeof *rmq__forbidden_topics; i++)
        if (t[0] == rmq__forbidden_topics[i][0] && rmq__strcmp(t, rmq__forbidden_topics[i]) == 0)
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_FORBIDDEN, t);
    return RMQ_OK;
}

static int rmq__has_byte(const char *s, char a, char b)
{
    for (; *s; s++) if (*s == a || *s == b) return 1;
    return 0;
}

RMQ__FN rmq_err rmq__check_properties(rmq_producer *p, const rmq_message *m)
{
    size_t i, k;
    if (!RMQ__PROPERTIES && m->nproperties)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTIES_CUT);
    for (i = 0; RMQ__PROPERTIES && i < m->nproperties; i++) {
        const char *key = m->properties[i].key, *val = m->properties[i].value;
        if (rmq__is_blank(key) || rmq__is_blank(val))
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTY_BLANK, key ? " " : "", key ? key : "");
        if (rmq__has_byte(key, RMQ__NAME_SEP, RMQ__PROP_SEP) || rmq__has_byte(val, RMQ__NAME_SEP, RMQ__PROP_SEP))
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTY_SEPARATOR, key);
        for (k = 0; k < sizeof rmq__reserved_props / sizeof *rmq__reserved_props; k++)
            if (rmq__strcmp(key, rmq__reserved_props[k]) == 0)
                return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTY_RESERVED, key);
    }
    if (m->tags && rmq__has_byte(m->tags, RMQ__NAME_SEP, RMQ__PROP_SEP))
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TAGS_SEPARATOR);
    if (m->keys && rmq__has_byte(m->keys, RMQ__NAME_SEP, RMQ__PROP_SEP))
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_KEYS_SEPARATOR);
    return RMQ_OK;
}

/* A message's body and properties; its topic is rmq__check_topic's. */
RMQ__FN rmq_err rmq__check_content(rmq_producer *p, const rmq_message *m)
{
    if (!m->body) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BODY_NULL);
    if (m->body_len == 0) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BODY_EMPTY);
    if (m->body_len > p->cfg.max_message_size)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BODY_TOO_BIG, (unsigned)p->cfg.max_message_size);
    return rmq__check_properties(p, m);
}

RMQ__FN rmq_err rmq__check_message(rmq_producer *p, const rmq_message *m)
{
    rmq_err err;
    if (!m) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_MESSAGE_NULL);
    err = rmq__check_topic(p, m->topic);
    return err != RMQ_OK ? err : rmq__check_content(p, m);
}

RMQ__FN rmq_err rmq__check_running(rmq_producer *p, int blocking)
{
    if (!p) return RMQ_ERR_INVALID_ARG;
    if (p->state != RMQ_STATE_RUNNING)
        return rmq__fail(p, RMQ_ERR_STATE, RMQ_R_NOT_RUNNING, rmq__state_name(p->state));
    if (blocking && rmq__in_callback(p->in))
        return rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_BLOCKING_IN_CALLBACK);
    return RMQ_OK;
}

RMQDEF void rmq_message_init(rmq_message *m, const char *topic, const void *body, size_t len)
{
    RMQ_MEMSET(m, 0, sizeof *m);
    m->topic = topic;
    m->body = body;
    m->body_len = len;
    m->wait_store_msg_ok = 1;
}

/* -- the encoded message -------------------------------------------------- */
/* The property string of one message: TAGS, KEYS, DELAY, WAIT, UNIQ_KEY
 * and the user's properties. With json (the fast path's single sends), its
 * length as a JSON string is counted while it is built: the separators
 * (escaped as \u0001, \u0002) from the number of properties, the escapes
 * from the user's strings alone, so the header's writer need not scan the
 * whole string again, stopping at every separator. */
#ifndef RMQ_NO_FAST_PATH
#define RMQ__PROP_ESC(json, s, n) ((json) ? (void)(*(json) += rmq__json_esc_len((s), (n)) - 2 - (n)) : (void)0)
#else
#define RMQ__PROP_ESC(json, s, n) ((void)0)
#endif
RMQ__FN void rmq__encode_properties(const rmq_message *m, const char *uniq, rmq__buf *b, size_t *json)
{
    size_t i, nprops = 1;
    char num[24];
    if (m->tags && *m->tags) {
        size_t n = RMQ_STRLEN(m->tags);
        RMQ__PROP_LIT(b, "TAGS", m->tags, n);
        RMQ__PROP_ESC(json, m->tags, n);
        nprops++;
    }
    if (m->keys && *m->keys) {
        size_t n = RMQ_STRLEN(m->keys);
        RMQ__PROP_LIT(b, "KEYS", m->keys, n);
        RMQ__PROP_ESC(json, m->keys, n);
        nprops++;
    }
    if (m->delay_level > 0) { RMQ__PROP_LIT(b, "DELAY", num, rmq__i64_to_dec(num, m->delay_level)); nprops++; }
#ifndef RMQ_NO_TIMER
    if (m->delay_time_sec > 0) { RMQ__PROP_LIT(b, "TIMER_DELAY_SEC", num, rmq__i64_to_dec(num, m->delay_time_sec)); nprops++; }
    if (m->delay_time_ms > 0) { RMQ__PROP_LIT(b, "TIMER_DELAY_MS", num, rmq__i64_to_dec(num, m->delay_time_ms)); nprops++; }
    if (m->deliver_time_ms > 0) { RMQ__PROP_LIT(b, "TIMER_DELIVER_MS", num, rmq__i64_to_dec(num, m->deliver_time_ms)); nprops++; }
#endif
    RMQ__PROP_LIT(b, "WAIT", m->wait_store_msg_ok ? "true" : "false", m->wait_store_msg_ok ? 4 : 5);
    if (uniq) { RMQ__PROP_LIT(b, "UNIQ_KEY", uniq, RMQ_STRLEN(uniq)); nprops++; }
    for (i = 0; RMQ__PROPERTIES && i < m->nproperties; i++) {
        const char *k = m->properties[i].key, *v = m->properties[i].value;
        size_t vn = RMQ_STRLEN(v);
        rmq__prop_put(b, k, v, vn);
        RMQ__PROP_ESC(json, k, RMQ_STRLEN(k));
        RMQ__PROP_ESC(json, v, vn);
        nprops++;
    }
#ifndef RMQ_NO_FAST_PATH
    if (json) *json += 2 + b->len + 5 * (2 * nprops - 1);
#else
    (void)nprops;
    (void)json;
#endif
}

#ifndef RMQ_NO_FAST_PATH
/* One property of a string written as the JSON string a send header
 * carries (rmq__encode_properties_json): the separators as \u0002 and
 * \u0001, the name and value escaped unless known plain (a literal, a
 * number, a message id). *raw counts the raw string's bytes. */
RMQ__FN void rmq__prop_put_json(rmq__buf *b, size_t *raw, const char *k, size_t klen, int user_key, const char *v,
                                size_t vlen, int plain)
{
    size_t kn = user_key ? rmq__json_esc_len(k, klen) - 2 : klen, vn = plain ? vlen : rmq__json_esc_len(v, vlen) - 2;
    uint8_t *o;
    if (rmq__buf_reserve(b, 12 + kn + vn)) return;
    o = b->p + b->len;
    if (*raw) { RMQ_MEMCPY(o, "\\u0002", 6); o += 6; }
    if (kn != klen) o += rmq__json_esc_in(o, k, klen); else { RMQ_MEMCPY(o, k, klen); o += klen; }
    RMQ_MEMCPY(o, "\\u0001", 6);
    o += 6;
    if (vn != vlen) o += rmq__json_esc_in(o, v, vlen); else { if (vlen) RMQ_MEMCPY(o, v, vlen); o += vlen; }
    b->len = (size_t)(o - b->p);
    *raw += (*raw != 0) + klen + 1 + vlen;
}

/* rmq__encode_properties' string as rmq__json_esc writes it, quotes
 * included, built so without the raw string: the escape of a header's
 * every send is not a scan of its separators. *raw: the raw string's
 * length (the broker's limit is on that). */
RMQ__FN void rmq__encode_properties_json(const rmq_message *m, const char *uniq, rmq__buf *b, size_t *raw)
{
    size_t i;
    char num[24];
    *raw = 0;
    rmq__buf_putc(b, '"');
    if (m->tags && *m->tags) rmq__prop_put_json(b, raw, "TAGS", 4, 0, m->tags, RMQ_STRLEN(m->tags), 0);
    if (m->keys && *m->keys) rmq__prop_put_json(b, raw, "KEYS", 4, 0, m->keys, RMQ_STRLEN(m->keys), 0);
    if (m->delay_level > 0) rmq__prop_put_json(b, raw, "DELAY", 5, 0, num, rmq__i64_to_dec(num, m->delay_level), 1);
#ifndef RMQ_NO_TIMER
    if (m->delay_time_sec > 0)
        rmq__prop_put_json(b, raw, "TIMER_DELAY_SEC", 15, 0, num, rmq__i64_to_dec(num, m->delay_time_sec), 1);
    if (m->delay_time_ms > 0)
        rmq__prop_put_json(b, raw, "TIMER_DELAY_MS", 14, 0, num, rmq__i64_to_dec(num, m->delay_time_ms), 1);
    if (m->deliver_time_ms > 0)
        rmq__prop_put_json(b, raw, "TIMER_DELIVER_MS", 16, 0, num, rmq__i64_to_dec(num, m->deliver_time_ms), 1);
#endif
    rmq__prop_put_json(b, raw, "WAIT", 4, 0, m->wait_store_msg_ok ? "true" : "false", m->wait_store_msg_ok ? 4 : 5, 1);
    if (uniq) rmq__prop_put_json(b, raw, "UNIQ_KEY", 8, 0, uniq, RMQ_STRLEN(uniq), 1);
    for (i = 0; RMQ__PROPERTIES && i < m->nproperties; i++) {
        const char *k = m->properties[i].key, *v = m->properties[i].value;
        rmq__prop_put_json(b, raw, k, RMQ_STRLEN(k), 1, v, RMQ_STRLEN(v), 0);
    }
    rmq__buf_putc(b, '"');
}
#endif

/* The block stays while a request lives in its room (rmq__req_free
 * frees it then). */
RMQ__FN void rmq__op_free(rmq_producer *p, rmq__op *op)
{
    void *mem = p->cfg.mem_ctx;
    rmq__buf_free(&op->props);
    rmq__buf_free(&op->body);
    if (RMQ__SELECTORS && op->sel_tags) RMQ_FREE(mem, op->sel_tags);
    if (RMQ__SELECTORS && op->sel_keys) RMQ_FREE(mem, op->sel_keys);
#ifndef RMQ_NO_FAST_PATH
    if (--op->lend.holders) return;
#endif
    rmq__stash_give(&p->blocks, mem, op);
}

/* The bytes of one UNIQ_KEY text with its NUL: 32 hex digits from an IPv4
 * host, 56 from an IPv6 one (rmq__uniq_next), never more than msg_id's. */
#define RMQ__UNIQ_SIZE(in) ((in)->uniq.fixlen + 2u * 6u + 1u)

/* Room for a property string inside the op; a longer one moves out. */
#define RMQ__PROPS_ROOM 128u

/* One allocation per send: the op, then its UNIQ_KEYs, and but for
 * RMQ_NO_FAST_PATH its property string, body (body_room bytes, 0 for one
 * of its own) and the room it lends its request (as much as the last
 * send's needed). Its results are not there: a sync send writes the
 * caller's, the others take theirs when they end (rmq__op_res), so a send
 * in flight holds none. */
RMQ__FN rmq__op *rmq__op_new(rmq_producer *p, int mode, int target, size_t nmsgs, rmq_send_result *res,
                             size_t body_room)
{
    void *mem = p->cfg.mem_ctx;
    size_t at_uniq = RMQ__ALIGN8(sizeof(rmq__op));
    size_t at_props = at_uniq + nmsgs * RMQ__UNIQ_SIZE(p->in), at_body = at_props + RMQ__PROPS_ROOM;
    size_t at_req = RMQ__ALIGN8(at_body + body_room), room = 0;
    uint8_t *block;
    rmq__op *op;
    size_t i;
#ifndef RMQ_NO_FAST_PATH
    /* Not a sync send's: its request is gone before the next send, and two
     * blocks that small an allocator recycles from its caches (glibc's
     * tcache) at less than one larger one costs. */
    if (mem == p->in->rm.mem && mode != RMQ__MODE_SYNC) room = p->req_room;
#endif
    block = (uint8_t *)rmq__stash_take(&p->blocks, mem, RMQ__FAST_PATH ? at_req + room : at_props);
    op = (rmq__op *)(void *)block;
    if (!op) return NULL;
    RMQ_MEMSET(op, 0, sizeof *op);
#ifndef RMQ_NO_FAST_PATH
    op->lend.block = block;
    op->lend.at = block + at_req;
    op->lend.room = room;
    op->lend.holders = 1;
#endif
    op->timer.pos = -1;
    op->timer.kind = RMQ__TIMER_USER;
    op->p = p;
    op->mode = (uint8_t)mode;
    op->target = (uint8_t)target;
    op->nmsgs = (uint16_t)nmsgs;
    op->last_broker = -1;
    op->broker = -1;
    rmq__buf_init(&op->props, mem, RMQ_PROPERTIES_MAX_BYTES);
    rmq__buf_init(&op->body, mem, p->cfg.max_message_size + (nmsgs > 1 ? 0u : p->cfg.max_message_size / 2 + 64));
    if (RMQ__FAST_PATH) {
        rmq__buf_borrow(&op->props, block + at_props, RMQ__PROPS_ROOM);
        if (body_room) rmq__buf_borrow(&op->body, block + at_body, body_room);
    }
    op->uniq = (char *)(block + at_uniq);
    op->res = res;
    for (i = 0; res && i < nmsgs; i++) RMQ_MEMSET(&res[i], 0, sizeof res[i]);   /* inlined stores */
    return op;
}

/* The body into the op (the one copy the library makes), compressed when
 * a compressor is plugged in and the body is large enough. */
RMQ__FN rmq_err rmq__op_take_body(rmq_producer *p, rmq__op *op, const rmq_message *m)
{
    op->flag = m->flag;
    op->code = RMQ_REQ_SEND_MESSAGE_V2;
    if (p->cfg.compressor && m->body_len >= p->cfg.compress_over_bytes) {
        if (rmq__buf_reserve(&op->body, m->body_len) == 0) {
            size_t n = p->cfg.compressor(p->cfg.compressor_arg, m->body, m->body_len, op->body.p, op->body.cap);
            /* COMPRESSED and the ZLIB type bits, as Java 4.9.4+ sets them */
            if (n > 0 && n <= op->body.cap) { op->body.len = n; op->sysflag |= 0x301; return RMQ_OK; }
        }   /* a reserve that failed fails the put below the same way */
    }
    rmq__buf_put(&op->body, m->body, m->body_len);
    if (op->body.failed) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_BODY, (unsigned)m->body_len);
    return RMQ_OK;
}

#ifndef RMQ_NO_FAST_PATH
/* Whether the property string is built as the JSON string the header
 * carries: the send serializer writes a JSON header (no RPC hook edits
 * it), and nothing reads the string raw (message trace) or adds to it (a
 * request's properties, a half message's, a namespace's INSTANCE_ID). */
RMQ__FN int rmq__props_as_json(const rmq_producer *p, const rmq__op *op)
{
    const rmq__remoting *rm = &p->in->rm;
    if (rm->serialize != RMQ_SERIALIZE_JSON || (rm->hook && rm->hook->before) || op->tx) return 0;
#ifndef RMQ_NO_REQUEST
    if (p->request_props.len) return 0;
#endif
#ifndef RMQ_NO_NAMESPACE
    if (p->ns[0]) return 0;
#endif
#ifndef RMQ_NO_TRACE
    if (p->hook) return 0;
#endif
    return 1;
}

/* rmq__op_take_message with the property string as JSON. */
RMQ__FN RMQ__NOINLINE rmq_err rmq__op_take_json(rmq_producer *p, rmq__op *op, const rmq_message *m)
{
    size_t raw;
    op->props.limit = RMQ__JSON_STR_MAX(RMQ_PROPERTIES_MAX_BYTES);
    rmq__encode_properties_json(m, op->uniq, &op->props, &raw);
    if (raw > RMQ_PROPERTIES_MAX_BYTES || op->props.failed == RMQ__BUF_OVER_LIMIT)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTIES_TOO_LONG,
                         RMQ_PROPERTIES_MAX_BYTES);
    if (op->props.failed) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_PROPERTIES);
    op->props_json = (uint32_t)op->props.len;
    op->props_quoted = 1;
    return rmq__op_take_body(p, op, m);
}
#endif

/* Copies one message into the op: a fresh UNIQ_KEY, the property string
 * and the body (the one copy the library makes). */
RMQ__FN rmq_err rmq__op_take_message(rmq_producer *p, rmq__op *op, const rmq_message *m)
{
    rmq__inst *in = p->in;
#ifndef RMQ_NO_FAST_PATH
    size_t json = 0, raw;
#endif
    rmq__uniq_next(&in->uniq, rmq__wall(in), op->uniq);
#ifndef RMQ_NO_FAST_PATH
    if (rmq__props_as_json(p, op)) return rmq__op_take_json(p, op, m);
    rmq__encode_properties(m, op->uniq, &op->props, in->rm.serialize == RMQ_SERIALIZE_JSON ? &json : NULL);
    raw = op->props.len;
#else
    rmq__encode_properties(m, op->uniq, &op->props, NULL);
#endif
#ifndef RMQ_NO_REQUEST
    if (p->request_props.len) {       /* a request's CORRELATION_ID, REPLY_TO_CLIENT, TTL */
        rmq__buf_putc(&op->props, RMQ__PROP_SEP);
        rmq__buf_put(&op->props, p->request_props.ptr, p->request_props.len);
    }
#endif
#ifndef RMQ_NO_TRANSACTION
    if (op->tx) {                     /* a half message: the broker routes on TRAN_MSG */
        rmq__prop_put(&op->props, "TRAN_MSG", "true", 4);
        rmq__prop_put(&op->props, "PGROUP", p->cfg.group, RMQ_STRLEN(p->cfg.group));
        op->sysflag |= 0x4;           /* TRANSACTION_PREPARED_TYPE */
    }
#endif
    (void)rmq__ns_put_instance_id(p, &op->props);   /* a failure is the property string's, told below */
    if (op->props.failed == RMQ__BUF_OVER_LIMIT)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_PROPERTIES_TOO_LONG,
                         RMQ_PROPERTIES_MAX_BYTES);
    if (op->props.failed) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_PROPERTIES);
#ifndef RMQ_NO_FAST_PATH
    if (op->props.len == raw && json <= 0xFFFFFFFFu) op->props_json = (uint32_t)json;   /* 0: not JSON, or added to */
#endif
    return rmq__op_take_body(p, op, m);
}

#ifndef RMQ_NO_FAST_PATH
/* A batch's body made room for once, its records' size guessed from the
 * first's property string plen bytes long; a guess past the limit leaves
 * the growth to the records. */
RMQ__FN void rmq__batch_room(rmq__buf *b, const rmq_message *msgs, size_t n, size_t plen)
{
    size_t want = 0, i;
    for (i = 0; i < n && want <= b->limit; i++) want += 22 + plen + msgs[i].body_len;
    if (want <= b->limit) (void)rmq__buf_reserve(b, want);
}
#else
#define rmq__batch_room(b, msgs, n, plen) ((void)0)
#endif

/* MessageBatch: same topic, no delay, not a retry topic, one WAIT value;
 * every message gets its own UNIQ_KEY. */
RMQ__FN rmq_err rmq__op_take_batch(rmq_producer *p, rmq__op *op, const rmq_message *msgs, size_t n)
{
    rmq__inst *in = p->in;
    rmq__buf props;
    int64_t now;
    size_t i;
    rmq_err err;
    for (i = 0; i < n; i++) {
        /* a topic the same as the first's passed its checks there */
        const char *t = msgs[i].topic;
        int same = RMQ__FAST_PATH && i > 0 && (t == msgs[0].topic || (t && rmq__strcmp(t, msgs[0].topic) == 0));
        err = same ? rmq__check_content(p, &msgs[i]) : rmq__check_message(p, &msgs[i]);
        if (err != RMQ_OK) return err;
        if (!same && rmq__strcmp(t, msgs[0].topic) != 0)
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_TOPICS_DIFFER);
        if (msgs[i].delay_level > 0) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_DELAY);
#ifndef RMQ_NO_TIMER
        if (msgs[i].delay_time_sec > 0 || msgs[i].delay_time_ms > 0 || msgs[i].deliver_time_ms > 0)
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_TIMER);
#endif
        if (!same && rmq__starts_with(t, "%RETRY%"))
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_RETRY_GROUP);
        if (!msgs[i].wait_store_msg_ok != !msgs[0].wait_store_msg_ok)
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_WAIT_STORE_DIFFERS);
    }
    rmq__buf_init(&props, p->cfg.mem_ctx, RMQ_PROPERTIES_MAX_BYTES);
    /* the op's property room is free until the records are written */
    if (RMQ__BORROWED(&op->props)) rmq__buf_borrow(&props, op->props.p, op->props.cap);
    now = rmq__wall(in);    /* one reading for the batch: its keys differ by their counter */
    for (i = 0; i < n; i++) {
        char *u = op->uniq + i * RMQ__UNIQ_SIZE(in);
        props.len = 0;
        rmq__uniq_next(&in->uniq, now, u);
        rmq__encode_properties(&msgs[i], u, &props, NULL);
        if (RMQ__FAST_PATH && i == 0 && !props.failed) rmq__batch_room(&op->body, msgs, n, props.len);
        if (props.failed) {
            int over = props.failed == RMQ__BUF_OVER_LIMIT;
            rmq__buf_free(&props);
            return over ? rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_PROPERTIES_TOO_LONG,
                                    (unsigned)i, RMQ_PROPERTIES_MAX_BYTES)
                        : rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_BATCH_PROPERTIES, (unsigned)i);
        }
        rmq__batch_record(&op->body, msgs[i].flag, msgs[i].body, msgs[i].body_len, props.p, props.len);
    }
    rmq__buf_free(&props);
    if (op->body.failed == RMQ__BUF_OVER_LIMIT)
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_BATCH_TOO_BIG,
                         (unsigned)p->cfg.max_message_size);
    if (op->body.failed) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_BATCH);
    rmq__prop_put(&op->props, "WAIT", msgs[0].wait_store_msg_ok ? "true" : "false", msgs[0].wait_store_msg_ok ? 4 : 5);
    err = rmq__ns_put_instance_id(p, &op->props);   /* the batch's, not its messages' */
    if (err != RMQ_OK) return err;
    op->batch = 1;
    op->code = RMQ_REQ_SEND_BATCH_MESSAGE;
    return RMQ_OK;
}

/* -- completion ---------------------------------------------------------- */
/* The send's results, taken zeroed the first time it is answered or ends;
 * NULL when out of memory (its callback then gets the instance's bare
 * result). */
RMQ__FN rmq_send_result *rmq__op_res(rmq__op *op)
{
    size_t n = op->nmsgs * sizeof *op->res;
    if (!op->res && (op->res = (rmq_send_result *)rmq__stash_take(&op->p->blocks, op->p->cfg.mem_ctx, n)) != NULL)
        RMQ_MEMSET(op->res, 0, n);
    return op->res;
}

RMQ__FN void rmq__op_unlink(rmq_producer *p, rmq__op *op)
{
    if (op->prev) op->prev->next = op->next; else if (p->ops == op) p->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    op->next = op->prev = NULL;
}

/* The single end of a send. Sync: the waiting call sees `done`; async:
 * the callback is queued for the next loop turn; oneway: freed. */
RMQ__FN void rmq__op_finish(rmq__op *op, rmq_err err, const rmq_reason *why)
{
    rmq_producer *p = op->p;
    rmq__inst *in = p->in;
    size_t i;
    if (op->done) return;
    op->done = 1;
    rmq__timer_cancel(&in->rm, &op->timer);
    if (op->req) { op->req->owner = NULL; op->req = NULL; }
    if (!RMQ__IS_ONEWAY(op) && !RMQ__OP_KEPT(op)) (void)rmq__op_res(op);   /* answered sends have theirs (rmq__op_done) */
    op->err = err;
    if (err != RMQ_OK) {
        for (i = 0; op->res && i < op->nmsgs; i++)
            if (why && why != &op->res[i].reason) RMQ__COPY(&op->res[i].reason, why);
        p->sends_failed++;
        if (op->mode != RMQ__MODE_ASYNC && why) {
            if (why != &p->last_error) RMQ__COPY(&p->last_error, why);
            rmq__strlcpy(p->last_remark, op->res ? op->res[0].remark : "", sizeof p->last_remark);
        }
    } else {
        p->sends_ok++;
    }
    if (op->mode == RMQ__MODE_SYNC) return;
    rmq__op_unlink(p, op);
    if (RMQ__IS_ONEWAY(op)) {
        if (err != RMQ_OK && p->oneway_err == RMQ_OK) {
            p->oneway_err = err;
            if (why) RMQ__COPY(&p->oneway_why, why);
            else rmq__why(&p->oneway_why, RMQ_R_ERROR, rmq_strerror(err));
        }
        p->pending--;
        p->pending_bytes -= (uint32_t)op->body.len;
        rmq__op_free(p, op);
        return;
    }
    op->wnext = NULL;
    if (in->cq_tail) in->cq_tail->wnext = op; else in->cq_head = op;
    in->cq_tail = op;
}

/* The result of a send that ended when no memory was left for its own: its
 * message id and its error's text (an answered send ends with
 * RMQ_ERR_NO_MEMORY), in the instance's one bare result, which only the
 * loop's runner fills, one callback at a time. */
RMQ__FN rmq_send_result *rmq__op_bare(rmq__inst *in, const rmq__op *op)
{
    rmq_send_result *r = &in->bare;
    if (RMQ__FAST_PATH) RMQ_MEMSET(r, 0, sizeof *r);   /* a kept answer's fields may be there (rmq__op_kept) */
    rmq__strlcpy(r->msg_id, op->uniq, sizeof r->msg_id);
    rmq__why(&r->reason, RMQ_R_ERROR, rmq_strerror(op->err));
    return r;
}

#ifndef RMQ_NO_FAST_PATH
RMQ__FN rmq_send_result *rmq__op_kept(rmq__inst *in, const rmq__op *op);
#else
#define rmq__op_kept(in, op) (&(in)->bare)
#endif

/* Runs the queued callbacks, the lock released around each one. */
RMQ__FN int rmq__fire_callbacks(rmq__inst *in)
{
    int n = 0;
    while (in->cq_head) {
        rmq__op *op = in->cq_head;
        rmq_producer *p = op->p;
        in->cq_head = op->wnext;
        if (!in->cq_head) in->cq_tail = NULL;
        in->in_callback++;
        in->callback_thread = rmq__thread(in);
        rmq__unlock(in);
        if (op->cb) op->cb(op->err, op->res ? op->res : RMQ__OP_KEPT(op) ? rmq__op_kept(in, op) : rmq__op_bare(in, op),
                           op->user);
        rmq__lock(in);
        in->in_callback--;
        p->pending--;
        p->pending_bytes -= (uint32_t)op->body.len;
        if (op->res) rmq__stash_give(&p->blocks, p->cfg.mem_ctx, op->res);   /* an async send's own (rmq__op_res) */
        rmq__op_free(p, op);
        n++;
    }
#ifndef RMQ_NO_REQUEST
    if (in->reply_hooks) n += in->reply_hooks->fire(in);
#endif
    return n;
}

/* -- the response of a send (processSendResponse) ------------------------ */
static void rmq__copy_slice(char *dst, size_t cap, rmq_slice s)
{
    size_t n = s.ptr ? (s.len < cap - 1 ? s.len : cap - 1) : 0;
    if (n) RMQ_MEMCPY(dst, s.ptr, n);
    dst[n] = 0;
}

/* The fields of a send's answer (SendMessageResponseHeader, MSG_REGION and
 * TRACE_ON), in the order of rmq_command.answer. */
enum { RMQ__ANS_QUEUE_ID, RMQ__ANS_OFFSET, RMQ__ANS_MSG_ID, RMQ__ANS_REGION, RMQ__ANS_TRACE, RMQ__ANS_TID, RMQ__ANS_N };

#ifndef RMQ_NO_FAST_PATH
/* Which answer field key k names (-1: none), for a header whose reader
 * did not say (the binary form's, the pull reader's): by its length, then
 * one compare of a known length. */
RMQ__FN int rmq__answer_key(rmq_slice k)
{
    switch (k.len) {
    case 5: return RMQ_MEMCMP(k.ptr, "msgId", 5) == 0 ? RMQ__ANS_MSG_ID : -1;
    case 7: return RMQ_MEMCMP(k.ptr, "queueId", 7) == 0 ? RMQ__ANS_QUEUE_ID : -1;
    case 8: return RMQ_MEMCMP(k.ptr, "TRACE_ON", 8) == 0 ? RMQ__ANS_TRACE : -1;
    case 10: return RMQ_MEMCMP(k.ptr, "MSG_REGION", 10) == 0 ? RMQ__ANS_REGION : -1;
    case 11: return RMQ_MEMCMP(k.ptr, "queueOffset", 11) == 0 ? RMQ__ANS_OFFSET : -1;
    case 13: return RMQ_MEMCMP(k.ptr, "transactionId", 13) == 0 ? RMQ__ANS_TID : -1;
    default: return -1;
    }
}

/* Where resp's answer fields are in its ext (1 + their index, 0: not
 * there; a later duplicate wins): as its reader noted them, else found in
 * one pass into at. */
RMQ__FN const uint8_t *rmq__answer_at(const rmq_command *resp, uint8_t *at)
{
    size_t i;
    if (resp->answer_read) return resp->answer;
    RMQ_MEMSET(at, 0, RMQ__ANS_N);
    for (i = 0; i < resp->next; i++) {
        int k = rmq__answer_key(resp->ext[i].key);
        if (k >= 0) at[k] = (uint8_t)(i + 1);
    }
    return at;
}

/* Answer field k's value, given where they are (rmq__answer_at). */
RMQ__FN rmq_slice rmq__answer_field(const rmq_command *resp, const uint8_t *at, int k)
{
    rmq_slice none;
    if (at[k]) return resp->ext[at[k] - 1].value;
    none.ptr = NULL;
    none.len = 0;
    return none;
}
#endif

/* The send answer's fields, in RMQ__ANS_* order, into a. */
RMQ__FN void rmq__answer_fields(const rmq_command *resp, rmq_slice *a)
{
#ifndef RMQ_NO_FAST_PATH
    uint8_t room[RMQ__ANS_N];
    const uint8_t *at = rmq__answer_at(resp, room);
    int k;
    for (k = 0; k < RMQ__ANS_N; k++) a[k] = rmq__answer_field(resp, at, k);
#else                                   /* the core's smaller code: by name */
    static const char *const names[RMQ__ANS_N] = { "queueId", "queueOffset", "msgId", "MSG_REGION", "TRACE_ON",
                                                   "transactionId" };
    int k;
    for (k = 0; k < RMQ__ANS_N; k++) a[k] = rmq_command_ext(resp, names[k]);
#endif
}

/* How many bytes of s[0..n) come before the first c (n: none), a word at
 * a time: a batch's answer lists an offset id of 32 bytes or more per
 * message. */
RMQ__FN size_t rmq__span_to(const char *s, size_t n, char c)
{
    const size_t ones = (size_t)-1 / 255, highs = ones * 128, cs = ones * (unsigned char)c;
    size_t i = 0;
    while (RMQ__FAST_PATH && n - i >= sizeof(size_t)) {   /* the core: byte by byte, smaller */
        size_t w;
        RMQ_MEMCPY(&w, s + i, sizeof w);
        w ^= cs;
        if ((w - ones) & ~w & highs) break;
        i += sizeof w;
    }
    while (i < n && s[i] != c) i++;
    return i;
}

/* The next item of a comma-separated list (ptr NULL: none left); rest
 * moves past it. */
RMQ__FN rmq_slice rmq__list_next(rmq_slice *rest)
{
    rmq_slice one = *rest;
    if (!rest->ptr) return one;
    one.len = rmq__span_to(rest->ptr, rest->len, ',');
    if (one.len < rest->len) { rest->ptr += one.len + 1; rest->len -= one.len + 1; } else rest->ptr = NULL;
    return one;
}

/* A send's answer as its results take it, whichever way it was kept. */
typedef struct rmq__answer {
    rmq_slice offs, tid, region;     /* offs: the offset id (a batch's answer lists them, comma-separated) */
    int64_t qoff;
    int32_t qid;
    int trace_on;
    rmq_send_status status;
} rmq__answer;

RMQ__FN void rmq__answer_read(const rmq_command *resp, int32_t qid, rmq__answer *a)
{
    rmq_slice f[RMQ__ANS_N];
    a->status = resp->code == RMQ_CODE_FLUSH_DISK_TIMEOUT ? RMQ_FLUSH_DISK_TIMEOUT
              : resp->code == RMQ_CODE_FLUSH_SLAVE_TIMEOUT ? RMQ_FLUSH_SLAVE_TIMEOUT
              : resp->code == RMQ_CODE_SLAVE_NOT_AVAILABLE ? RMQ_SLAVE_NOT_AVAILABLE : RMQ_SEND_OK;
    rmq__answer_fields(resp, f);
    a->offs = f[RMQ__ANS_MSG_ID];
    a->tid = f[RMQ__ANS_TID];
    a->region = f[RMQ__ANS_REGION];
    if (!a->region.ptr || !a->region.len) a->region = rmq__cslice("DefaultRegion");
    a->trace_on = !rmq__slice_eq(f[RMQ__ANS_TRACE], "false");
    a->qoff = 0;
    a->qid = qid;
    if (f[RMQ__ANS_OFFSET].ptr) rmq__parse_i64(f[RMQ__ANS_OFFSET].ptr, f[RMQ__ANS_OFFSET].len, &a->qoff);
    if (f[RMQ__ANS_QUEUE_ID].ptr) rmq__parse_i32(f[RMQ__ANS_QUEUE_ID].ptr, f[RMQ__ANS_QUEUE_ID].len, &a->qid);
}

/* The one writer of a send's result: message i's, its UNIQ_KEY uniq, the
 * op's topic topic_len bytes long. Inlined: a batch writes one per message. */
RMQ__INLINE void rmq__result_write(rmq_send_result *r, const rmq__op *op, const rmq__answer *a, rmq_slice uniq,
                                   size_t topic_len, size_t i)
{
    r->status = a->status;
    rmq__copy_slice(r->msg_id, sizeof r->msg_id, uniq);
    rmq__copy_slice(r->offset_msg_id, sizeof r->offset_msg_id, a->offs);
    rmq__copy_slice(r->transaction_id, sizeof r->transaction_id, a->tid);
    if (RMQ__FAST_PATH && i) {
        r->queue = op->res[0].queue;    /* a batch's later messages: the first's, written just before */
    } else {
        rmq__ns_unwrap(op->p, op->queue.topic, topic_len, r->queue.topic, sizeof r->queue.topic);
        rmq__strlcpy(r->queue.broker_name, op->queue.broker_name, sizeof r->queue.broker_name);
    }
    r->queue.queue_id = a->qid;
    r->queue_offset = a->qoff + (int64_t)i;
    rmq__copy_slice(r->region_id, sizeof r->region_id, a->region);
    r->trace_on = a->trace_on;
    r->broker_code = 0;
    r->remark[0] = 0;
    r->reason.code[0] = RMQ_R_NONE;
}

RMQ__FN RMQ__NOINLINE void rmq__op_result(rmq__op *op, const rmq_command *resp)
{
    rmq__answer a;
    rmq_slice uniq, offs;
    size_t i, topic_len = RMQ_STRLEN(op->queue.topic);
    rmq__answer_read(resp, op->queue.queue_id, &a);
    offs = a.offs;
    uniq.ptr = op->uniq;
    uniq.len = RMQ_STRLEN(op->uniq);           /* every message's is of this length */
    for (i = 0; i < op->nmsgs; i++, uniq.ptr += uniq.len + 1) {
        a.offs = rmq__list_next(&offs);        /* one pass over a batch's list */
        rmq__result_write(&op->res[i], op, &a, uniq, topic_len, i);
    }
}

#ifndef RMQ_NO_FAST_PATH
/* An async send of one message answered SUCCESS keeps its answer's fields
 * in its property room, dead once it is answered (no attempt follows), and
 * its callback gets them in the instance's result, which the loop's runner
 * fills one callback at a time (as rmq__op_bare): no result block taken
 * and zeroed per send. Not when they do not fit there, nor under a send
 * hook, which reads op->res. The room holds an rmq__kept, then the offset
 * message id, the transaction id and the region, each cut to its field. */
typedef struct rmq__kept {
    int64_t queue_offset;
    int32_t queue_id;
    uint16_t len[3];
    uint8_t trace_on;
} rmq__kept;

/* Called, not inlined: its slices would sit in rmq__op_done's frame, which
 * a retry's attempt stacks on. */
RMQ__FN RMQ__NOINLINE int rmq__op_keep(rmq__op *op, const rmq_command *resp)
{
    static const uint16_t caps[3] = { RMQ_MSG_ID_MAX_LEN, RMQ_MSG_ID_MAX_LEN, 31 };
    rmq__answer a;
    const rmq_slice *s[3];
    rmq__kept k;
    size_t at = sizeof k;
    int i;
#ifndef RMQ_NO_TRACE
    if (op->p->hook) return 0;
#endif
    if (op->mode != RMQ__MODE_ASYNC || op->nmsgs != 1 || resp->code != RMQ_CODE_SUCCESS) return 0;
    rmq__answer_read(resp, op->queue.queue_id, &a);
    s[0] = &a.offs; s[1] = &a.tid; s[2] = &a.region;
    for (i = 0; i < 3; i++) {
        k.len[i] = (uint16_t)(!s[i]->ptr ? 0 : s[i]->len < caps[i] ? s[i]->len : caps[i]);
        at += k.len[i];
    }
    if (at > op->props.cap) return 0;
    k.queue_offset = a.qoff;
    k.queue_id = a.qid;
    k.trace_on = (uint8_t)a.trace_on;
    RMQ_MEMCPY(op->props.p, &k, sizeof k);
    for (at = sizeof k, i = 0; i < 3; at += k.len[i], i++)
        if (k.len[i]) RMQ_MEMCPY(op->props.p + at, s[i]->ptr, k.len[i]);
    op->kept = 1;
    return 1;
}

/* The next of the kept texts, len bytes at *at. */
static rmq_slice rmq__kept_text(const char *b, size_t *at, uint16_t len)
{
    rmq_slice s;
    s.ptr = b + *at;
    s.len = len;
    *at += len;
    return s;
}

/* The kept answer, written by rmq__result_write into the instance's result. */
RMQ__FN rmq_send_result *rmq__op_kept(rmq__inst *in, const rmq__op *op)
{
    rmq_send_result *r = &in->bare;
    const char *b = (const char *)op->props.p;
    rmq__answer a;
    rmq__kept k;
    size_t at = sizeof k;
    RMQ_MEMCPY(&k, b, sizeof k);
    a.offs = rmq__kept_text(b, &at, k.len[0]);
    a.tid = rmq__kept_text(b, &at, k.len[1]);
    a.region = rmq__kept_text(b, &at, k.len[2]);
    a.status = RMQ_SEND_OK;
    a.qoff = k.queue_offset;
    a.qid = k.queue_id;
    a.trace_on = k.trace_on;
    RMQ_MEMSET(&r->reason, 0, sizeof r->reason);
    rmq__result_write(r, op, &a, rmq__cslice(op->uniq), RMQ_STRLEN(op->queue.topic), 0);
    return r;
}
#else
#define rmq__op_keep(op, resp) 0
#endif

/* Java's default retry set for sync sends (4.9). */
static int rmq__retry_code(int32_t code)
{
    return code == RMQ_CODE_TOPIC_NOT_EXIST || code == RMQ_CODE_SERVICE_NOT_AVAILABLE ||
           code == RMQ_CODE_SYSTEM_ERROR || code == RMQ_CODE_NO_PERMISSION ||
           code == RMQ_CODE_NO_BUYER_ID || code == RMQ_CODE_NOT_IN_CURRENT_UNIT;
}

RMQ__FN void rmq__op_attempt(rmq__op *op);

/* After a failed attempt: 1 if another one is due (the mode, the error and
 * the budget allow it: sendDefaultImpl / onExceptionImpl), else the send
 * ends here and 0. The caller makes the next attempt: no recursion. */
RMQ__FN int rmq__op_failed(rmq__op *op, rmq_err err, int32_t code, const rmq_reason *why)
{
    rmq_producer *p = op->p;
    rmq__inst *in = p->in;
    int network = err != RMQ_ERR_BROKER && err != RMQ_ERR_MESSAGE && err != RMQ_ERR_SHUTDOWN &&
                  err != RMQ_ERR_SELECTOR && err != RMQ_ERR_FRAME_TOO_LARGE && err != RMQ_ERR_NO_MEMORY;
    int retry = 0;
    uint32_t now = rmq__now(&in->rm);
    if (op->broker >= 0 && in->brokers[op->broker].used) {
        in->brokers[op->broker].errors++;
#ifndef RMQ_NO_LATENCY_FAULT
        if (p->cfg.latency_fault_enable)
            rmq__fault_update(&in->brokers[op->broker], &p->cfg, now, now - op->attempt_start, 1);
#endif
    }
    /* The broker may be gone: the routes are asked again on the loop's next
     * turn (from the timer, so that no retry path calls back into itself). */
    if (err == RMQ_ERR_CONNECT && op->route) rmq__timer_arm(&in->rm, &in->t_route, now);
    if (op->attempts < op->max_attempts && !rmq__reached(now, op->deadline)) {
        if (op->mode == RMQ__MODE_SYNC && RMQ__TARGET(op) == RMQ__TARGET_DEFAULT)
            retry = network || (err == RMQ_ERR_BROKER && rmq__retry_code(code));
        else if (op->mode == RMQ__MODE_ASYNC)
            retry = network;              /* an answered error code is final in async mode */
    }
    if (retry) {
        p->retries++;
        op->last_broker = op->broker;
        return 1;
    }
    if (op->attempts > 1 && RMQ__TARGET(op) == RMQ__TARGET_DEFAULT) {
        rmq__why(&in->why, RMQ_R_SEND_RETRIES_FAILED, op->attempts,
                 (unsigned)(now - op->start), op->route ? op->route->topic : op->queue.topic, why);
        rmq__op_finish(op, err, &in->why);
        return 0;
    }
    rmq__op_finish(op, err, why);
    return 0;
}

RMQ__FN void rmq__op_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__op *op = (rmq__op *)r->owner;
    rmq__inst *in = (rmq__inst *)(void *)rm;
    size_t i;
    if (!op) return;
    op->req = NULL;
    if (RMQ__IS_ONEWAY(op)) { rmq__op_finish(op, err, why); return; }
    if (err != RMQ_OK) { if (rmq__op_failed(op, err, 0, why)) rmq__op_attempt(op); return; }
    if (!rmq__op_keep(op, resp) && !rmq__op_res(op)) {   /* answered: a result is due */
        rmq__op_finish(op, RMQ_ERR_NO_MEMORY, NULL);
        return;
    }
    if (resp->code != RMQ_CODE_SUCCESS && resp->code != RMQ_CODE_FLUSH_DISK_TIMEOUT &&
        resp->code != RMQ_CODE_FLUSH_SLAVE_TIMEOUT && resp->code != RMQ_CODE_SLAVE_NOT_AVAILABLE) {
        for (i = 0; i < op->nmsgs; i++) {
            op->res[i].broker_code = resp->code;
            rmq__copy_slice(op->res[i].remark, sizeof op->res[i].remark, resp->remark);
        }
        rmq__why(&in->send_why, RMQ_R_BROKER_ANSWER,
                 in->brokers[op->broker].name, rmq_response_code_name(resp->code), (int)resp->code);
        if (rmq__op_failed(op, RMQ_ERR_BROKER, resp->code, &in->send_why)) rmq__op_attempt(op);
        return;
    }
#ifndef RMQ_NO_LATENCY_FAULT
    if (op->p->cfg.latency_fault_enable && in->brokers[op->broker].used) {
        uint32_t now = rmq__now(rm);
        rmq__fault_update(&in->brokers[op->broker], &op->p->cfg, now, now - op->attempt_start, 0);
    }
#endif
    if (!RMQ__OP_KEPT(op)) rmq__op_result(op, resp);
#ifndef RMQ_NO_TRACE
    if (op->p->hook) op->p->hook->sent(op->p->hook_arg, op, r->conn ? r->conn->addr : NULL);
#endif
    if (resp->code != RMQ_CODE_SUCCESS && op->p->cfg.retry_another_broker_when_not_store_ok &&
        op->mode == RMQ__MODE_SYNC && RMQ__TARGET(op) == RMQ__TARGET_DEFAULT && op->attempts < op->max_attempts &&
        !rmq__reached(rmq__now(rm), op->deadline)) {
        op->last_broker = op->broker;
        op->p->retries++;
        rmq__op_attempt(op);
        return;
    }
    rmq__op_finish(op, RMQ_OK, NULL);
}

/* -- one attempt (sendKernelImpl) ---------------------------------------- */
/* The V2 header of this attempt as a request (code 310, or for a batch
 * 320 with m=true): its values in the producer's send fields, which the
 * remoting writes with the send serializer or as ext fields. A JSON
 * header's start is kept per topic (rmq__send_prefix_keep), and written
 * again when the topic or the code is another than the last send's. */
RMQ__FN RMQ__NOINLINE void rmq__send_header(rmq__op *op, rmq__rq *rq)
{
    rmq_producer *p = op->p;
    rmq__send_fields *f = &p->send;
    rmq__rq_init(rq, NULL, op->code);
    rq->send = f;
    f->topic = op->queue.topic;
    f->broker = op->queue.broker_name;
    f->props = (const char *)op->props.p;
    f->props_len = op->props.len;
    f->queue_nums = p->cfg.default_topic_queue_nums;
    f->queue_id = op->queue.queue_id;
    f->sysflag = op->sysflag;
    f->flag = op->flag;
    f->batch = op->batch;
#ifndef RMQ_NO_FAST_PATH
    f->topic_len = RMQ_STRLEN(f->topic);
    f->broker_len = RMQ_STRLEN(f->broker);
    f->props_json = op->props_json;
    f->props_quoted = op->props_quoted;
    f->born = rmq__dec_memo_text(&p->in->born, rmq__wall(p->in), &f->born_len);
    f->names_plain = 1;          /* checked: the config at create, the topic at each send */
    if (p->in->rm.serialize == RMQ_SERIALIZE_JSON && !rmq__send_prefix_holds(f, op->code))
        rmq__send_prefix_keep(f, op->code);
#else
    f->born = f->born_text;
    f->born_len = rmq__i64_to_dec(f->born_text, rmq__wall(p->in));
#endif
}

/* Picks the queue of this attempt; -1 with why recorded when none. */
RMQ__FN int rmq__op_pick(rmq__op *op, rmq_reason *why)
{
    rmq__inst *in = op->p->in;
    rmq__route *rt = op->route;
    if (RMQ__TARGET(op) == RMQ__TARGET_DEFAULT) {
        int q = rmq__route_select(rt->queues, rt->nqueues, &rt->rr, op->last_broker, in->brokers,
                                  op->p->cfg.latency_fault_enable, rmq__now(&in->rm));
        if (q < 0) {
            if (rt->why.code[0]) RMQ__COPY(why, &rt->why);
            else rmq__why(why, RMQ_R_NO_PUBLISH_QUEUE);
            return -1;
        }
        op->broker = rt->queues[q].broker;
        op->queue.topic = rt->topic;
        rmq__strlcpy(op->queue.broker_name, in->brokers[op->broker].name, sizeof op->queue.broker_name);
        op->queue.queue_id = rt->queues[q].queue_id;
        return 0;
    }
    op->broker = rmq__broker_slot(in->brokers, op->queue.broker_name, 0);
    if (op->broker < 0) {
        rmq__why(why, RMQ_R_BROKER_NOT_EXIST, op->queue.broker_name);
        return -1;
    }
    return 0;
}

/* Waits for a free opaque slot (a bound of this client, not a failure of
 * the broker): the send resumes when one frees, or ends at its deadline. */
RMQ__FN void rmq__op_park(rmq__op *op)
{
    rmq__inst *in = op->p->in;
    op->attempts--;
    op->parked = 1;
    op->wnext = NULL;
    if (in->parked_tail) in->parked_tail->wnext = op; else in->parked_head = op;
    in->parked_tail = op;
    rmq__timer_arm(&in->rm, &op->timer, op->deadline);
}

RMQ__FN void rmq__op_unpark(rmq__op *op)
{
    rmq__inst *in = op->p->in;
    rmq__op **pp, *prev = NULL;
    for (pp = &in->parked_head; *pp && *pp != op; pp = &(*pp)->wnext) prev = *pp;
    if (*pp) { *pp = op->wnext; if (in->parked_tail == op) in->parked_tail = prev; }
    op->wnext = NULL;
    op->parked = 0;
}

enum { RMQ__TRY_SENT = 0, RMQ__TRY_FAILED, RMQ__TRY_PARKED };

/* One attempt (sendKernelImpl); a failure's reason is in the instance's
 * send_why (nothing on the stack), until the next attempt. */
RMQ__FN int rmq__op_try(rmq__op *op, rmq_err *err)
{
    rmq__inst *in = op->p->in;
    rmq_reason *why = &in->send_why;
    const char *addr;
    rmq__rq *rq = &op->p->send_rq;
    op->attempts++;
    op->attempt_start = rmq__now(&in->rm);
    if (rmq__op_pick(op, why)) {
        *err = RMQ__TARGET(op) == RMQ__TARGET_DEFAULT ? RMQ_ERR_NO_ROUTE : RMQ_ERR_BROKER_NOT_FOUND;
        return RMQ__TRY_FAILED;
    }
    addr = rmq__broker_master(&in->brokers[op->broker]);
    if (!addr) {
        rmq__why(why, RMQ_R_BROKER_NO_MASTER, in->brokers[op->broker].name);
        *err = RMQ_ERR_BROKER_NOT_FOUND;
        return RMQ__TRY_FAILED;
    }
    if (!RMQ__IS_ONEWAY(op) && !in->rm.nfree) return RMQ__TRY_PARKED;
    rmq__heartbeat_if_new(in, op->broker);
    /* sendKernelImpl takes the VIP port; an async send's retries do not */
    addr = rmq__vip_addr(in, op->p->cfg.vip_channel && (op->mode != RMQ__MODE_ASYNC || op->attempts == 1), addr);
    rmq__send_header(op, rq);
    if (RMQ__LINGER) in->rm.hold_ms = op->mode == RMQ__MODE_SYNC ? 0u : (op->p->cfg.linger_us + 999u) / 1000u;
#ifndef RMQ_NO_FAST_PATH
    rq->lend = &op->lend;
    op->lend.want = 0;
#endif
    *err = rmq__invoke(&in->rm, addr, rq, op->body.p, op->body.len, RMQ__IS_ONEWAY(op), op->deadline,
                       rmq__op_done, op, &op->req);
    if (RMQ__LINGER) in->rm.hold_ms = 0;
#ifndef RMQ_NO_FAST_PATH
    rq->lend = NULL;
    if (op->lend.want) op->p->req_room = (op->lend.want + 31u) & ~(size_t)31u;   /* the next send's room */
#endif
    if (*err == RMQ_OK) return RMQ__TRY_SENT;
    op->req = NULL;
    if (*err == RMQ_ERR_BUSY && !in->rm.nfree) return RMQ__TRY_PARKED;
    RMQ__COPY(why, &in->rm.why);
    return RMQ__TRY_FAILED;
}

/* Attempts until one is in flight, the send waits for a slot, or it ends. */
RMQ__FN void rmq__op_attempt(rmq__op *op)
{
    rmq_err err = RMQ_OK;
    for (;;) {
        int t = rmq__op_try(op, &err);
        if (t == RMQ__TRY_SENT) return;
        if (t == RMQ__TRY_PARKED) { rmq__op_park(op); return; }
        if (!rmq__op_failed(op, err, 0, &op->p->in->send_why)) return;
    }
}

/* Opaque slots freed during a turn go to the sends waiting for one. */
RMQ__FN void rmq__resume_parked(rmq__inst *in)
{
    while (in->parked_head && in->rm.nfree) {
        rmq__op *op = in->parked_head;
        rmq__op_unpark(op);
        rmq__timer_cancel(&in->rm, &op->timer);
        rmq__op_attempt(op);
    }
}

/* A selector sees the topic's queues as rmq_queue, in publish order. */
RMQ__FN rmq_err rmq__op_select(rmq__op *op, const rmq_message *m)
{
    rmq_producer *p = op->p;
    rmq__route *rt = op->route;
    rmq_queue *qs;
    size_t i;
    int pick;
    if (!rt->nqueues) return rmq__fail_why(p, RMQ_ERR_NO_ROUTE, &rt->why);
    qs = (rmq_queue *)RMQ_MALLOC(p->cfg.mem_ctx, rt->nqueues * sizeof *qs);
    if (!qs) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_SELECTOR);
    for (i = 0; i < rt->nqueues; i++) {
        rmq__strlcpy(qs[i].topic, rt->topic, sizeof qs[i].topic);
        rmq__ns_unwrap_queue(p, &qs[i]);
        rmq__strlcpy(qs[i].broker_name, p->in->brokers[rt->queues[i].broker].name, sizeof qs[i].broker_name);
        qs[i].queue_id = rt->queues[i].queue_id;
    }
    pick = op->sel(qs, rt->nqueues, m, op->sel_arg);
    if (pick >= 0 && (size_t)pick < rt->nqueues) {
        rmq__strlcpy(op->queue.broker_name, qs[pick].broker_name, sizeof op->queue.broker_name);
        op->queue.queue_id = qs[pick].queue_id;
        op->queue.topic = rt->topic;   /* queueWithNamespace */
    }
    RMQ_FREE(p->cfg.mem_ctx, qs);
    if (pick < 0 || (size_t)pick >= rt->nqueues)
        return rmq__fail(p, RMQ_ERR_SELECTOR, RMQ_R_SELECTOR_NULL,
                         pick, (unsigned)rt->nqueues);
    op->target = RMQ__TARGET_QUEUE;
    return RMQ_OK;
}

/* The route is known (or known to be missing): first attempt, or the end. */
RMQ__FN void rmq__op_route_ready(rmq__op *op)
{
    rmq__route *rt = op->route;
    rmq__timer_cancel(&op->p->in->rm, &op->timer);
    if (rt->state != RMQ__ROUTE_OK) { rmq__op_finish(op, RMQ_ERR_NO_ROUTE, &rt->why); return; }
    if (RMQ__TARGET(op) == RMQ__TARGET_SELECT) {
        rmq_message m;
        rmq_err err;
#ifndef RMQ_NO_NAMESPACE
        /* the selector sees the topic bare (in the producer's scratch for
         * renamed topics: the send that used it was accepted) */
        rmq_producer *p = op->p;
        rmq__ns_unwrap(p, op->queue.topic, RMQ_STRLEN(op->queue.topic), p->ns_name, sizeof p->ns_name);
        rmq_message_init(&m, p->ns_name, op->body.p, op->body.len);
#else
        rmq_message_init(&m, op->queue.topic, op->body.p, op->body.len);
#endif
        m.tags = op->sel_tags;
        m.keys = op->sel_keys;
        m.flag = op->flag;
        err = rmq__op_select(op, &m);
        if (err != RMQ_OK) { rmq__op_finish(op, err, &op->p->last_error); return; }
    }
    rmq__op_attempt(op);
}

RMQ__FN void rmq__route_resolved(rmq__route *rt)
{
    rmq__op *w = rt->waiters;
    rt->waiters = NULL;
    while (w) {
        rmq__op *next = w->wnext;
        w->wnext = NULL;
        rmq__op_route_ready(w);
        w = next;
    }
}

RMQ__FN void rmq__op_timeout(rmq__inst *in, rmq__op *op)
{
    rmq__op **pp;
    rmq_reason *why = &in->send_why;
    if (op->parked) {
        rmq__op_unpark(op);
        rmq__why(why, RMQ_R_SEND_NO_SLOT,
                 (unsigned)(op->deadline - op->start), RMQ_MAX_INFLIGHT);
        rmq__op_finish(op, RMQ_ERR_TIMEOUT, why);
        return;
    }
    if (op->route) {
        for (pp = &op->route->waiters; *pp; pp = &(*pp)->wnext) if (*pp == op) { *pp = op->wnext; break; }
        op->wnext = NULL;
    }
    rmq__why(why, RMQ_R_SEND_NO_ROUTE_TIMEOUT,
             op->route ? op->route->topic : op->queue.topic, (unsigned)(op->deadline - op->start), in->namesrv_text);
    rmq__op_finish(op, RMQ_ERR_TIMEOUT, why);
}

/* Starts an accepted send: at once if the route is known, else after it
 * arrives (the message waits as the op's copy; an async call never blocks). */
RMQ__FN void rmq__op_start(rmq__op *op, const rmq_message *m)
{
    rmq_producer *p = op->p;
    rmq__inst *in = p->in;
    rmq__route *rt = op->route;
    op->next = p->ops;
    if (p->ops) p->ops->prev = op;
    p->ops = op;
    if (rt->state == RMQ__ROUTE_OK && !(RMQ__TARGET(op) == RMQ__TARGET_SELECT && rt->fetching && !rt->nqueues)) {
        if (RMQ__TARGET(op) == RMQ__TARGET_SELECT) {
            rmq_err err = rmq__op_select(op, m);
            if (err != RMQ_OK) { rmq__op_finish(op, err, &p->last_error); return; }
        }
        rmq__op_attempt(op);
        return;
    }
    op->wnext = rt->waiters;
    rt->waiters = op;
    rmq__timer_arm(&in->rm, &op->timer, op->deadline);
    if (!rt->fetching) rmq__route_fetch(in, rt, 0);
}

/* -- the loop, as the API runs it ----------------------------------------- */
/* A thread waiting for what another thread's loop will produce. */
typedef struct rmq__waiter {
    void *event;
    struct rmq__waiter *next;
} rmq__waiter;

/* Every waiter looks again: its work may be done, or the loop may be free. */
RMQ__FN void rmq__wake_waiters(rmq__inst *in)
{
    rmq__waiter *w;
    for (w = in->waiters; w; w = w->next) in->port->event_signal(in->port->ctx, w->event);
}

/* Another thread sent while this instance's leader may be asleep in wait():
 * new connections and writes change what it must wait for. */
RMQ__FN void rmq__nudge_leader(rmq__inst *in)
{
    if (RMQ__THREADS && in->leader && in->port->wake) in->port->wake(in->port->ctx);
}

/* Calls on a producer running now, counted so that destroy can wait for
 * them (with threads; a single thread cannot be inside another call). */
#ifndef RMQ_NO_THREADS
static void rmq__call_begin(rmq_producer *p) { p->calls++; }
static void rmq__call_end(rmq_producer *p)
{
    if (--p->calls == 0 && p->in->waiters) rmq__wake_waiters(p->in);
}

/* Destroy waits, without running the loop, for the calls on p still
 * running in other threads to leave: they need the lock, not the loop. */
static void rmq__await_calls(rmq_producer *p)
{
    rmq__inst *in = p->in;
    rmq__waiter w, **pp;
    w.event = in->port->event_create ? in->port->event_create(in->port->ctx) : NULL;
    while (p->calls) {
        w.next = in->waiters;
        in->waiters = &w;
        rmq__unlock(in);
        if (w.event) in->port->event_wait(in->port->ctx, w.event, 100);
        rmq__lock(in);
        for (pp = &in->waiters; *pp && *pp != &w; pp = &(*pp)->next) {}
        if (*pp) *pp = w.next;
    }
    if (w.event) in->port->event_destroy(in->port->ctx, w.event);
}
#else
static void rmq__call_begin(rmq_producer *p) { (void)p; }
static void rmq__call_end(rmq_producer *p) { (void)p; }
#endif

/* One turn of I/O and timers, then the callbacks that became due. The lock
 * is held on entry and exit, released around wait() and each callback. */
RMQ__FN int rmq__turn(rmq__inst *in, uint32_t now, uint32_t max_wait)
{
    int work;
    in->leader = 1;
    work = rmq__step(&in->rm, now, max_wait);
    rmq__resume_parked(in);
    work += rmq__fire_callbacks(in);
#ifndef RMQ_NO_TRANSACTION
    work += rmq__run_tx_checks(in);
#endif
    in->leader = 0;
    if (RMQ__THREADS && in->waiters) rmq__wake_waiters(in);
    return work;
}

typedef int (*rmq__cond_fn)(rmq__inst *in, void *arg);

/* Runs the loop until cond holds or the deadline passes. With several
 * threads, one runs the loop (the leader) and the others wait on an event
 * until their condition holds or the loop is free to take over. Returns 1
 * if cond holds. until_any: return after the first turn that did work. */
RMQ__FN int rmq__run(rmq__inst *in, rmq__cond_fn cond, void *arg, uint32_t deadline, int until_any)
{
    rmq__waiter w;
    int holds;
    w.event = NULL;
    w.next = NULL;
    if (RMQ__LINGER && !until_any) rmq__linger_release(&in->rm);   /* a blocking call writes what waits */
    while (!(holds = cond(in, arg))) {
        uint32_t now = rmq__now(&in->rm);
        int32_t left = rmq__tdiff(deadline, now);
        rmq__waiter **pp;
        if (left < 0) break;
        if (!RMQ__THREADS || !in->leader) {
            if (rmq__turn(in, now, (uint32_t)left) && until_any) { holds = cond(in, arg); break; }
            if (left == 0) break;
            continue;
        }
        if (!in->port->event_create) break;        /* a lock without events: no one to wait on */
        if (!w.event && !(w.event = in->port->event_create(in->port->ctx))) break;
        w.next = in->waiters;
        in->waiters = &w;
        rmq__unlock(in);
        in->port->event_wait(in->port->ctx, w.event, (uint32_t)left);
        rmq__lock(in);
        for (pp = &in->waiters; *pp && *pp != &w; pp = &(*pp)->next) {}
        if (*pp) *pp = w.next;
        if (until_any) { holds = cond(in, arg); break; }
    }
    if (w.event) in->port->event_destroy(in->port->ctx, w.event);
    return holds;
}

static int rmq__op_is_done(rmq__inst *in, void *arg) { (void)in; return ((rmq__op *)arg)->done; }
#ifdef RMQ_NO_THREADS
static int rmq__never(rmq__inst *in, void *arg) { (void)in; (void)arg; return 0; }
#endif
#ifndef RMQ_NO_THREADS
/* A poll ends early when its producer is shut down, so destroy need not
 * wait out its timeout. */
static int rmq__stopped(rmq__inst *in, void *arg) { (void)in; return ((rmq_producer *)arg)->state != RMQ_STATE_RUNNING; }
#endif
static int rmq__nothing_pending(rmq__inst *in, void *arg) { (void)in; return ((rmq_producer *)arg)->pending == 0; }

/* The op's own deadline ends it; the loop is entered a second at a time. */
RMQ__FN void rmq__wait_op(rmq__inst *in, rmq__op *op)
{
    while (!op->done) rmq__run(in, rmq__op_is_done, op, rmq__now(&in->rm) + 1000u, 0);
}

#ifdef RMQ_NO_THREADS
RMQDEF rmq_err rmq_producer_poll(rmq_producer *p, uint32_t timeout_ms)
{
    rmq__inst *in;
    if (!p || !p->in) return RMQ_ERR_STATE;
    in = p->in;
    rmq__lock(in);
    if (rmq__in_callback(in)) {
        rmq__unlock(in);
        return rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_POLL_IN_CALLBACK);
    }
    rmq__run(in, rmq__never, NULL, rmq__now(&in->rm) + timeout_ms, 1);
    rmq__unlock(in);
    return RMQ_OK;
}
#else
RMQDEF rmq_err rmq_producer_poll(rmq_producer *p, uint32_t timeout_ms)
{
    rmq__inst *in;
    rmq_err err = RMQ_OK;
    if (!p || !p->in) return RMQ_ERR_STATE;
    in = p->in;
    rmq__lock(in);
    if (RMQ__THREADS && p->state != RMQ_STATE_RUNNING) {
        err = RMQ_ERR_STATE;
    } else if (rmq__in_callback(in)) {
        err = rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_POLL_IN_CALLBACK);
    } else {
        rmq__call_begin(p);
        rmq__run(in, rmq__stopped, p, rmq__now(&in->rm) + timeout_ms, 1);
        rmq__call_end(p);
    }
    rmq__unlock(in);
    return err;
}
#endif

/* The loop until nothing of p is pending (the instance's lock held). */
static rmq_err rmq__flush_locked(rmq_producer *p, rmq__inst *in, uint32_t timeout_ms)
{
    rmq_err err = RMQ_OK;
    if (!rmq__run(in, rmq__nothing_pending, p, rmq__now(&in->rm) + timeout_ms, 0)) {
        err = rmq__fail(p, RMQ_ERR_TIMEOUT, RMQ_R_FLUSH_TIMEOUT,
                        (unsigned)p->pending, (unsigned)timeout_ms);
    } else if (RMQ__ONEWAYS && p->oneway_err != RMQ_OK) {  /* a oneway send has no callback to tell */
        err = rmq__fail(p, p->oneway_err, RMQ_R_ONEWAY_FAILED, &p->oneway_why);
        p->oneway_err = RMQ_OK;
    }
    return err;
}

#ifdef RMQ_NO_THREADS
RMQDEF rmq_err rmq_producer_flush(rmq_producer *p, uint32_t timeout_ms)
{
    rmq__inst *in;
    rmq_err err = rmq__check_running(p, 1);
    if (err != RMQ_OK && err != RMQ_ERR_STATE) return err;
    if (!p || !p->in) return RMQ_OK;
    in = p->in;
    rmq__lock(in);
    err = rmq__flush_locked(p, in, timeout_ms);
    rmq__unlock(in);
    return err;
}
#else
RMQDEF rmq_err rmq_producer_flush(rmq_producer *p, uint32_t timeout_ms)
{
    rmq__inst *in = p ? p->in : NULL;
    rmq_err err;
    if (in) rmq__lock(in);
    err = rmq__check_running(p, 1);
    if ((err != RMQ_OK && err != RMQ_ERR_STATE) || !in) {
        if (in) rmq__unlock(in);
        return err == RMQ_ERR_STATE ? RMQ_OK : err;
    }
    rmq__call_begin(p);
    err = rmq__flush_locked(p, in, timeout_ms);
    rmq__call_end(p);
    rmq__unlock(in);
    return err;
}
#endif

RMQDEF uint32_t rmq_producer_next_timeout_ms(rmq_producer *p)
{
    uint32_t t;
    if (!p || !p->in) return 0xFFFFFFFFu;
    rmq__lock(p->in);
    t = RMQ__THREADS && p->state != RMQ_STATE_RUNNING ? 0xFFFFFFFFu
      : p->in->cq_head ? 0 : rmq__next_timeout(&p->in->rm, 0x7FFFFFFFu);
    rmq__unlock(p->in);
    return t;
}

RMQDEF size_t rmq_producer_interest(rmq_producer *p, rmq_wait_item *items, size_t cap)
{
    size_t n = 0;
    int i;
    if (!p || !p->in) return 0;
    rmq__lock(p->in);
    if (RMQ__THREADS && p->state != RMQ_STATE_RUNNING) cap = 0;
    for (i = 0; i < RMQ_MAX_CONNECTIONS && n < cap; i++) {
        rmq__conn *c = &p->in->rm.conns[i];
        if (c->state != RMQ__CONN_OPEN && c->state != RMQ__CONN_CONNECTING) continue;
        items[n].conn = c->h;
        items[n].want = c->state == RMQ__CONN_CONNECTING ? RMQ_WANT_WRITE
                      : (RMQ_WANT_READ | (c->out_head && !RMQ__HELD(c) ? RMQ_WANT_WRITE : 0u));
        items[n].ready = 0;
        n++;
    }
    rmq__unlock(p->in);
    return n;
}

/* -- send paths ---------------------------------------------------------- */
typedef struct rmq__send_args {
    int mode, target, batch, tx;
    const rmq_message *msgs;
    size_t n;
    const rmq_queue *queue;
    rmq_queue_selector sel;
    void *sel_arg;
    rmq_send_cb cb;
    void *user;
    rmq_send_result *res;
    uint32_t timeout_ms;
#ifndef RMQ_NO_REQUEST
    int held;                        /* a request's send: its caller holds the lock */
#endif
} rmq__send_args;

static char *rmq__strdup(void *mem, const char *s)
{
    size_t n = s ? RMQ_STRLEN(s) + 1 : 0;
    char *d = n ? (char *)RMQ_MALLOC(mem, n) : NULL;
    if (d) RMQ_MEMCPY(d, s, n);
    return d;
}

/* Everything a send path does before its first attempt: the checks, the
 * back-pressure bound, the copy of the message, the route lookup. */
RMQ__FN rmq_err rmq__send_locked(rmq_producer *p, const rmq__send_args *a)
{
    rmq__inst *in;
    rmq__op *op;
    rmq_err err = rmq__check_running(p, a->mode == RMQ__MODE_SYNC);
    const char *topic;
    if (err != RMQ_OK) return err;
    if (!a->msgs || a->n == 0 || a->n > 65535 || (!a->batch && a->n != 1)) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_MESSAGE_GIVEN);
    if (a->mode == RMQ__MODE_SYNC && !a->res) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_RESULT_GIVEN);
    if (a->mode == RMQ__MODE_ASYNC && !a->cb) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_CALLBACK_GIVEN);
    if (RMQ__TARGET(a) == RMQ__TARGET_SELECT && !a->sel) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_SELECTOR_GIVEN);
    in = p->in;
    if (!a->batch) { err = rmq__check_message(p, a->msgs); if (err != RMQ_OK) return err; }
    if (a->batch && RMQ__TARGET(a) == RMQ__TARGET_SELECT) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_BATCH_SELECTOR);
    topic = a->msgs[0].topic;
    err = rmq__ns_topic(p, &topic);
    if (err != RMQ_OK) return err;
    if (RMQ__TARGET(a) == RMQ__TARGET_QUEUE) {
        if (!a->queue) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_QUEUE_GIVEN);
        if (!rmq__ns_same_topic(p, a->queue->topic, topic))
            return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_QUEUE_TOPIC_DIFFERS);
    }
    if (a->mode != RMQ__MODE_SYNC) {
        size_t bytes = 0, i;
        for (i = 0; i < a->n; i++) bytes += a->msgs[i].body_len;
        if (p->pending >= p->cfg.max_pending)
            return rmq__fail(p, RMQ_ERR_BUSY, RMQ_R_MAX_PENDING, (unsigned)p->pending);
        if (bytes > p->cfg.max_pending_bytes - p->pending_bytes)
            return rmq__fail(p, RMQ_ERR_BUSY, RMQ_R_MAX_PENDING_BYTES,
                             (unsigned)p->pending_bytes, (unsigned)p->cfg.max_pending_bytes);
    }
    op = rmq__op_new(p, a->mode, a->target, a->n, a->mode == RMQ__MODE_SYNC ? a->res : NULL,
                     a->batch ? 0 : a->msgs[0].body_len);
    if (!op) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_SEND);
    op->tx = (uint8_t)a->tx;
    op->route = rmq__route_get(in, topic);
    if (!op->route) {
        rmq__op_free(p, op);
        return rmq__route_refused(p, topic);
    }
    err = a->batch ? rmq__op_take_batch(p, op, a->msgs, a->n) : rmq__op_take_message(p, op, a->msgs);
    if (err != RMQ_OK) { rmq__op_free(p, op); return err; }
    rmq__route_use(p, op->route);
    if (RMQ__SELECTORS && a->queue) {
        rmq__strlcpy(op->queue.broker_name, a->queue->broker_name, sizeof op->queue.broker_name);
        op->queue.queue_id = a->queue->queue_id;
    }
    op->queue.topic = op->route->topic;   /* topic as the broker knows it, as the route's */
    op->sel = a->sel;
    op->sel_arg = a->sel_arg;
    if (RMQ__TARGET(a) == RMQ__TARGET_SELECT && a->mode != RMQ__MODE_SYNC) {
        op->sel_tags = rmq__strdup(p->cfg.mem_ctx, a->msgs[0].tags);
        op->sel_keys = rmq__strdup(p->cfg.mem_ctx, a->msgs[0].keys);
    }
    op->cb = a->cb;
    op->user = a->user;
    op->start = rmq__now(&in->rm);
    op->deadline = op->start + (a->timeout_ms ? a->timeout_ms : p->cfg.send_timeout_ms);
    op->max_attempts = (uint8_t)(RMQ__IS_ONEWAY(a) ? 1
                     : a->mode == RMQ__MODE_SYNC ? (RMQ__TARGET(a) == RMQ__TARGET_DEFAULT ? 1 + p->cfg.retry_times : 1)
                     : 1 + p->cfg.retry_times_async);
    if (a->mode != RMQ__MODE_SYNC) {
        p->pending++;
        p->pending_bytes += (uint32_t)op->body.len;
    }
    rmq__op_start(op, a->msgs);
    if (a->mode != RMQ__MODE_SYNC) return RMQ_OK;
    rmq__wait_op(in, op);
    rmq__op_unlink(p, op);
    err = op->err;
    rmq__op_free(p, op);
    if (err != RMQ_OK && !p->last_error.code[0]) rmq__fail(p, err, RMQ_R_ERROR, rmq_strerror(err));
    return err;
}

RMQ__FN rmq_err rmq__send(rmq_producer *p, const rmq__send_args *a)
{
    rmq_err err;
    int held = 0;
#ifndef RMQ_NO_REQUEST
    held = a->held;
#endif
    if (!held) {
        /* With threads the state is read under the lock (send_locked checks it). */
        if (!p || !p->in || (!RMQ__THREADS && p->state != RMQ_STATE_RUNNING)) return rmq__check_running(p, 0);
        rmq__lock(p->in);
        rmq__call_begin(p);
    }
    err = rmq__send_locked(p, a);
    if (!held) {
        if (a->mode != RMQ__MODE_SYNC) rmq__nudge_leader(p->in);
        rmq__call_end(p);
        rmq__unlock(p->in);
    }
    return err;
}

static void rmq__args(rmq__send_args *a, int mode, int target, const rmq_message *m, size_t n)
{
    RMQ_MEMSET(a, 0, sizeof *a);
    a->mode = mode;
    a->target = target;
    a->msgs = m;
    a->n = n;
}

RMQDEF rmq_err rmq_send_timeout(rmq_producer *p, const rmq_message *m, rmq_send_result *res, uint32_t timeout_ms)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_SYNC, RMQ__TARGET_DEFAULT, m, 1);
    a.res = res;
    a.timeout_ms = timeout_ms;
    return rmq__send(p, &a);
}

RMQDEF rmq_err rmq_send(rmq_producer *p, const rmq_message *m, rmq_send_result *res)
{
    return rmq_send_timeout(p, m, res, 0);
}

RMQDEF rmq_err rmq_send_async_timeout(rmq_producer *p, const rmq_message *m, rmq_send_cb cb, void *user, uint32_t timeout_ms)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, m, 1);
    a.cb = cb;
    a.user = user;
    a.timeout_ms = timeout_ms;
    return rmq__send(p, &a);
}

RMQDEF rmq_err rmq_send_async(rmq_producer *p, const rmq_message *m, rmq_send_cb cb, void *user)
{
    return rmq_send_async_timeout(p, m, cb, user, 0);
}

#ifndef RMQ_NO_ONEWAY
RMQDEF rmq_err rmq_send_oneway(rmq_producer *p, const rmq_message *m)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ONEWAY, RMQ__TARGET_DEFAULT, m, 1);
    return rmq__send(p, &a);
}
#endif

#ifndef RMQ_NO_SELECTOR
RMQDEF rmq_err rmq_send_to_queue(rmq_producer *p, const rmq_message *m, const rmq_queue *q, rmq_send_result *res)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_SYNC, RMQ__TARGET_QUEUE, m, 1);
    a.queue = q;
    a.res = res;
    return rmq__send(p, &a);
}

RMQDEF rmq_err rmq_send_to_queue_async(rmq_producer *p, const rmq_message *m, const rmq_queue *q, rmq_send_cb cb, void *user)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_QUEUE, m, 1);
    a.queue = q;
    a.cb = cb;
    a.user = user;
    return rmq__send(p, &a);
}

#ifndef RMQ_NO_ONEWAY
RMQDEF rmq_err rmq_send_oneway_to_queue(rmq_producer *p, const rmq_message *m, const rmq_queue *q)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ONEWAY, RMQ__TARGET_QUEUE, m, 1);
    a.queue = q;
    return rmq__send(p, &a);
}
#endif

RMQDEF rmq_err rmq_send_select(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel, void *arg, rmq_send_result *res)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_SYNC, RMQ__TARGET_SELECT, m, 1);
    a.sel = sel;
    a.sel_arg = arg;
    a.res = res;
    return rmq__send(p, &a);
}

RMQDEF rmq_err rmq_send_select_async(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel, void *arg,
                                     rmq_send_cb cb, void *user)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_SELECT, m, 1);
    a.sel = sel;
    a.sel_arg = arg;
    a.cb = cb;
    a.user = user;
    return rmq__send(p, &a);
}
#endif

RMQDEF rmq_err rmq_send_batch(rmq_producer *p, const rmq_message *msgs, size_t n, rmq_send_result *res)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_SYNC, RMQ__TARGET_DEFAULT, msgs, n);
    a.batch = 1;
    a.res = res;
    return rmq__send(p, &a);
}

RMQDEF rmq_err rmq_send_batch_async(rmq_producer *p, const rmq_message *msgs, size_t n, rmq_send_cb cb, void *user)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, msgs, n);
    a.batch = 1;
    a.cb = cb;
    a.user = user;
    return rmq__send(p, &a);
}

#if !defined(RMQ_NO_SELECTOR) || !defined(RMQ_NO_ADMIN) || !defined(RMQ_NO_REQUEST)
static int rmq__route_settled(rmq__inst *in, void *arg)
{
    const rmq__route *rt = (const rmq__route *)arg;
    (void)in;
    return rt->state == RMQ__ROUTE_OK || !rt->fetching;
}

/* The route of topic (as the broker knows it), asked for and waited for
 * until deadline when the instance has none yet. */
RMQ__FN rmq_err rmq__route_ready(rmq_producer *p, const char *topic, uint32_t deadline, rmq__route **out)
{
    rmq__route *rt = rmq__route_get(p->in, topic);
    if (!rt) return rmq__route_refused(p, topic);
    rmq__route_use(p, rt);
    if (rt->state != RMQ__ROUTE_OK && !rt->fetching) rmq__route_fetch(p->in, rt, 0);
    rmq__run(p->in, rmq__route_settled, rt, deadline, 0);
    if (rt->state != RMQ__ROUTE_OK)
        return rt->fetching ? rmq__fail(p, RMQ_ERR_TIMEOUT, RMQ_R_ROUTE_QUERY_TIMEOUT, topic)
                            : rmq__fail_why(p, RMQ_ERR_NO_ROUTE, &rt->why);
    *out = rt;
    return RMQ_OK;
}
#endif

#ifndef RMQ_NO_SELECTOR
RMQ__FN rmq_err rmq__fetch_queues(rmq_producer *p, const char *topic, rmq_queue *out, size_t cap, size_t *n)
{
    const char *name = topic;    /* as the broker knows it */
    rmq__route *rt = NULL;       /* set when rmq__route_ready succeeds; gcc -O1 cannot tell */
    size_t i;
    rmq_err err = rmq__check_running(p, 1);
    if (err != RMQ_OK) return err;
    if (!n || (!out && cap)) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_OUTPUT_GIVEN);
    err = rmq__check_topic(p, topic);
    if (err == RMQ_OK) err = rmq__ns_topic(p, &name);
    if (err == RMQ_OK) err = rmq__route_ready(p, name, rmq__now(&p->in->rm) + p->cfg.send_timeout_ms, &rt);
    if (err != RMQ_OK) return err;
    *n = rt->nqueues;
    for (i = 0; i < rt->nqueues && i < cap; i++) {
        rmq__strlcpy(out[i].topic, rt->topic, sizeof out[i].topic);
        rmq__ns_unwrap_queue(p, &out[i]);
        rmq__strlcpy(out[i].broker_name, p->in->brokers[rt->queues[i].broker].name, sizeof out[i].broker_name);
        out[i].queue_id = rt->queues[i].queue_id;
    }
    return rt->nqueues > cap ? rmq__fail(p, RMQ_ERR_LIMIT, RMQ_R_QUEUES_OVER_CAP, topic, (unsigned)rt->nqueues)
                             : RMQ_OK;
}

RMQDEF rmq_err rmq_fetch_publish_queues(rmq_producer *p, const char *topic, rmq_queue *out, size_t cap, size_t *n)
{
    rmq_err err;
    if (!p || !p->in || (!RMQ__THREADS && p->state != RMQ_STATE_RUNNING)) return rmq__check_running(p, 1);
    rmq__lock(p->in);
    rmq__call_begin(p);
    err = rmq__fetch_queues(p, topic, out, cap, n);
    rmq__call_end(p);
    rmq__unlock(p->in);
    return err;
}
#endif

#ifndef RMQ_NO_TRANSACTION
/* -- transactions (TransactionMQProducer) --------------------------------- */
static void rmq__end_tx_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    (void)r; (void)resp;
    if (err != RMQ_OK && why) RMQ__LOG(rm, RMQ_LOG_WARN, "END_TRANSACTION not written: %r", why);
    else if (err != RMQ_OK) RMQ__LOG(rm, RMQ_LOG_WARN, "END_TRANSACTION not written: %s", rmq_strerror(err));
}

/* END_TRANSACTION, oneway (EndTransactionRequestHeader). Its failures are
 * only logged, as in Java: the broker checks back on a missing end. */
RMQ__FN rmq_err rmq__end_transaction(rmq__inst *in, const char *addr, const char *group, int64_t tran_offset,
                                     int64_t commit_offset, rmq_transaction_state state, const char *msg_id,
                                     const char *tx_id, const char *bname, int from_check)
{
    rmq__rq rq;
    rmq_ext_field f[RMQ__REQUEST_FIELDS];
    char num[3][RMQ__DEC_MAX];
    rmq__rq_end_transaction(&rq, f, num, group, tran_offset, commit_offset, (int32_t)state, from_check, msg_id, tx_id,
                            bname);
    return rmq__invoke(&in->rm, addr, &rq, NULL, 0, 1, rmq__now(&in->rm) + in->api_timeout_ms, rmq__end_tx_done,
                       NULL, NULL);
}

RMQDEF rmq_err rmq_send_in_transaction(rmq_producer *p, const rmq_message *m, rmq_local_transaction_fn local,
                                       void *arg, rmq_send_result *res, rmq_transaction_state *state)
{
    rmq__send_args a;
    rmq_message half;
    rmq_transaction_state st;
    rmq_err err;
    char addr[RMQ_ADDR_MAX_LEN + 1];
    const char *master;
    int64_t commit_offset = 0;
    int b;
    if (!local || !m || !res) return p ? rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_TRANSACTION_LISTENER) : RMQ_ERR_INVALID_ARG;
    half = *m;
    half.delay_level = 0;                       /* a half message is never delayed */
#ifndef RMQ_NO_TIMER
    half.delay_time_sec = half.delay_time_ms = half.deliver_time_ms = 0;
#endif
    RMQ_MEMSET(&a, 0, sizeof a);
    a.mode = RMQ__MODE_SYNC;
    a.target = RMQ__TARGET_DEFAULT;
    a.msgs = &half;
    a.n = 1;
    a.res = res;
    a.tx = 1;
    err = rmq__send(p, &a);
    if (err != RMQ_OK) return err;              /* nothing stored: nothing to end */
    st = res->status == RMQ_SEND_OK ? local(arg, m, res) : RMQ_TX_ROLLBACK;   /* no lock held */
    if (st != RMQ_TX_COMMIT && st != RMQ_TX_ROLLBACK) st = RMQ_TX_UNKNOWN;
    if (state) *state = st;
    rmq_offset_msg_id_decode(res->offset_msg_id, addr, sizeof addr, &commit_offset);
    rmq__lock(p->in);
    b = rmq__broker_slot(p->in->brokers, res->queue.broker_name, 0);
    master = b >= 0 ? rmq__broker_master(&p->in->brokers[b]) : NULL;
#ifndef RMQ_NO_TRACE
    if (p->hook) {
        rmq__tx_end e;
        RMQ_MEMSET(&e, 0, sizeof e);
        e.topic = m->topic; e.tags = m->tags; e.keys = m->keys; e.msg_id = e.transaction_id = res->msg_id;
        e.broker_addr = master;
        e.state = st;
        p->hook->tx_ended(p->hook_arg, &e);
    }
#endif
    err = master ? rmq__end_transaction(p->in, master, p->cfg.group, res->queue_offset, commit_offset, st,
                                        res->msg_id, res->transaction_id, res->queue.broker_name, 0)
                 : RMQ_ERR_BROKER_NOT_FOUND;
    /* The message is stored either way; a lost end is settled by a check. */
    if (err != RMQ_OK) RMQ__LOG(&p->in->rm, RMQ_LOG_WARN, "END_TRANSACTION for %s: %s", res->msg_id, rmq_strerror(err));
    rmq__unlock(p->in);
    return RMQ_OK;
}

/* A broker's check, copied out of the frame to run outside the lock. */
typedef struct rmq__tx_check {
    struct rmq__tx_check *next;
    char addr[RMQ_ADDR_MAX_LEN + 1];            /* the connection it came on */
    char group[RMQ_GROUP_MAX_LEN + 1];
    rmq_checked_message m;                      /* strings point into `text` */
    char *text;
} rmq__tx_check;

static char *rmq__tx_put(char **at, rmq_slice s)
{
    char *start = *at;
    if (s.ptr && s.len) RMQ_MEMCPY(start, s.ptr, s.len);
    start[s.ptr ? s.len : 0] = 0;
    *at += (s.ptr ? s.len : 0) + 1;
    return start;
}

RMQ__FN RMQ__NOINLINE void rmq__tx_check_queue(rmq__inst *in, rmq__conn *c, const rmq_command *req)
{
    rmq__stored sm;
    rmq__tx_check *k;
    rmq_slice pg, msg_id, keys, tags;
    size_t need;
    char *at;
    if (in->nchecks >= RMQ_MAX_TX_CHECKS || rmq__stored_decode(req->body, req->body_len, &sm)) {
        RMQ__LOG(&in->rm, RMQ_LOG_WARN, "transaction check from %s dropped (queue full or bad body)", c->addr);
        return;
    }
    pg = rmq__prop_get(sm.props, "PGROUP");
    msg_id = rmq__prop_get(sm.props, "UNIQ_KEY");
    if (!msg_id.ptr) msg_id = rmq_command_ext(req, "offsetMsgId");
    keys = rmq__prop_get(sm.props, "KEYS");
    tags = rmq__prop_get(sm.props, "TAGS");
    if (!pg.ptr || pg.len > RMQ_GROUP_MAX_LEN) return;
    /* the eight strings of rmq_checked_message, each with its NUL; the two
     * ids from the header are cut to 63 bytes below */
    need = sm.topic.len + tags.len + keys.len + msg_id.len + sm.body.len + sm.props.len + 2 * 63 + 8;
    k = (rmq__tx_check *)RMQ_MALLOC(in->mem, sizeof *k);
    if (!k) return;
    RMQ_MEMSET(k, 0, sizeof *k);
    k->text = (char *)RMQ_MALLOC(in->mem, need);
    if (!k->text) { RMQ_FREE(in->mem, k); return; }
    rmq__strlcpy(k->addr, c->addr, sizeof k->addr);
    RMQ_MEMCPY(k->group, pg.ptr, pg.len);
    k->group[pg.len] = 0;
    at = k->text;
    k->m.topic = rmq__tx_put(&at, sm.topic);
    k->m.tags = rmq__tx_put(&at, tags);
    k->m.keys = rmq__tx_put(&at, keys);
    k->m.msg_id = rmq__tx_put(&at, msg_id);
    {
        rmq_slice t = rmq_command_ext(req, "transactionId"), o = rmq_command_ext(req, "offsetMsgId");
        if (t.len > 63) t.len = 63;
        if (o.len > 63) o.len = 63;
        k->m.transaction_id = rmq__tx_put(&at, t);
        k->m.offset_msg_id = rmq__tx_put(&at, o);
    }
    k->m.body = rmq__tx_put(&at, sm.body);
    k->m.body_len = sm.body.len;
    k->m.properties = rmq__tx_put(&at, sm.props);
    k->m.properties_len = sm.props.len;
    {
        rmq_slice v = rmq_command_ext(req, "tranStateTableOffset");
        k->m.queue_offset = sm.queue_offset;
        if (v.ptr) rmq__parse_i64(v.ptr, v.len, &k->m.queue_offset);
        v = rmq_command_ext(req, "commitLogOffset");
        k->m.commit_log_offset = sm.commit_log_offset;
        if (v.ptr) rmq__parse_i64(v.ptr, v.len, &k->m.commit_log_offset);
    }
    if (in->checks_tail) in->checks_tail->next = k; else in->checks_head = k;
    in->checks_tail = k;
    in->nchecks++;
}

#ifndef RMQ_NO_TRACE
/* A check's answer is an end of a transaction too (fromTransactionCheck).
 * Called, not inlined: its rmq__tx_end would sit in rmq__run's frame, on
 * the send stack's deepest chain, for a check-back that seldom comes. */
RMQ__FN RMQ__NOINLINE void rmq__tx_check_ended(rmq__inst *in, const rmq__tx_check *k, rmq_transaction_state st)
{
    int i;
    rmq__tx_end e;
    rmq_slice props;
    props.ptr = k->m.properties;
    props.len = k->m.properties_len;
    RMQ_MEMSET(&e, 0, sizeof e);
    e.topic = k->m.topic; e.tags = k->m.tags; e.keys = k->m.keys;
    e.msg_id = e.transaction_id = k->m.msg_id;
    e.broker_addr = k->addr;
    e.region = rmq__prop_get(props, "MSG_REGION");
    e.state = st;
    e.from_check = 1;
    for (i = 0; i < RMQ_MAX_PRODUCERS; i++) {
        rmq_producer *p = in->producers[i];
        if (p && p->hook && rmq__strcmp(p->cfg.group, k->group) == 0) p->hook->tx_ended(p->hook_arg, &e);
    }
}
#endif

/* Runs the queued checks (lock released around each) and answers them. */
RMQ__FN int rmq__run_tx_checks(rmq__inst *in)
{
    int n = 0, i;
    while (in->checks_head) {
        rmq__tx_check *k = in->checks_head;
        const rmq_check_transaction *ct = NULL;
        rmq_transaction_state st;
        in->checks_head = k->next;
        if (!in->checks_head) in->checks_tail = NULL;
        in->nchecks--;
        for (i = 0; i < RMQ_MAX_PRODUCERS && !ct; i++)
            if (in->producers[i] && rmq__strcmp(in->producers[i]->cfg.group, k->group) == 0) {
                ct = in->producers[i]->cfg.check_transaction;
                /* the topic comes first in k->text: the checker sees it bare */
                rmq__ns_unwrap(in->producers[i], k->text, RMQ_STRLEN(k->text), k->text, RMQ_STRLEN(k->text) + 1);
            }
        if (ct && ct->check) {
            in->in_callback++;
            in->callback_thread = rmq__thread(in);
            rmq__unlock(in);
            st = ct->check(ct->arg, &k->m);
            rmq__lock(in);
            in->in_callback--;
            if (st != RMQ_TX_COMMIT && st != RMQ_TX_ROLLBACK) st = RMQ_TX_UNKNOWN;
#ifndef RMQ_NO_TRACE
            rmq__tx_check_ended(in, k, st);
#endif
            rmq__end_transaction(in, k->addr, k->group, k->m.queue_offset, k->m.commit_log_offset, st,
                                 k->m.msg_id, k->m.transaction_id, NULL, 1);
        }
        RMQ_FREE(in->mem, k->text);
        RMQ_FREE(in->mem, k);
        n++;
    }
    return n;
}

static void rmq__tx_checks_free(rmq__inst *in)
{
    while (in->checks_head) {
        rmq__tx_check *k = in->checks_head;
        in->checks_head = k->next;
        RMQ_FREE(in->mem, k->text);
        RMQ_FREE(in->mem, k);
    }
    in->checks_tail = NULL;
    in->nchecks = 0;
}
#endif

#ifndef RMQ_NO_ADMIN
/* -- one request, waited for (the admin calls) --------------------------- */
typedef struct rmq__call rmq__call;

/* Reads what the caller needs from an answer while its frame lives (the
 * code and remark are already kept); an error it returns fails the call,
 * its reason in call->why. */
typedef rmq_err (*rmq__take_fn)(rmq__call *call, const rmq_command *resp);

struct rmq__call {
    rmq__take_fn take;            /* NULL: the code and remark only */
    void *arg;                    /* for take */
    int done;
    rmq_err err;                  /* RMQ_OK: an answer came, with code */
    int32_t code;
    char remark[RMQ_REMARK_MAX_LEN + 1];
    rmq_reason why;
};

static void rmq__call_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__call *call = (rmq__call *)r->owner;
    (void)rm;
    call->err = err;
    if (why) call->why = *why;
    if (err == RMQ_OK && resp) {
        call->code = resp->code;
        rmq__copy_slice(call->remark, sizeof call->remark, resp->remark);
        if (call->take) call->err = call->take(call, resp);
    }
    call->done = 1;
}

static int rmq__call_is_done(rmq__inst *in, void *arg) { (void)in; return ((rmq__call *)arg)->done; }

/* Sends request rq to addr and runs the loop until the answer or the
 * request's own deadline, timeout_ms away: the call always ends, so it may
 * live on the caller's stack. The instance's lock is held. RMQ_OK means an
 * answer came: its code is call->code, which the caller judges (see
 * rmq__call_refused). what names the request in a failure's reason. */
RMQ__FN rmq_err rmq__call_sync(rmq_producer *p, rmq__call *call, const char *what, const char *addr,
                               const rmq__rq *rq, uint32_t timeout_ms)
{
    rmq__inst *in = p->in;
    rmq_err err;
    call->done = 0;
    call->err = RMQ_OK;
    call->code = -1;
    call->remark[0] = '\0';
    call->why.code[0] = RMQ_R_NONE;
    err = rmq__invoke(&in->rm, addr, rq, NULL, 0, 0, rmq__now(&in->rm) + timeout_ms, rmq__call_done, call, NULL);
    if (err != RMQ_OK) return rmq__fail(p, err, RMQ_R_CALL_NOT_SENT, what, addr, &in->rm.why);
    while (!call->done) rmq__run(in, rmq__call_is_done, call, rmq__now(&in->rm) + 1000u, 0);
    if (call->err != RMQ_OK) {
        if (call->why.code[0]) return rmq__fail(p, call->err, RMQ_R_CALL_FAILED, what, addr, &call->why);
        return rmq__fail(p, call->err, RMQ_R_CALL_FAILED_ERR, what, addr, rmq_strerror(call->err));
    }
    return RMQ_OK;
}

/* The failure of an answer whose code is not SUCCESS: RMQ_ERR_BROKER, the
 * code and remark in the reason (and the remark in last_error's %R). */
RMQ__FN rmq_err rmq__call_refused(rmq_producer *p, const rmq__call *call, const char *what, const char *addr)
{
    rmq__strlcpy(p->last_remark, call->remark, sizeof p->last_remark);
    return rmq__fail(p, RMQ_ERR_BROKER, RMQ_R_CALL_BROKER_ANSWER, what, addr,
                     rmq_response_code_name(call->code), (int)call->code);
}
#endif

#if !defined(RMQ_NO_ADMIN) || !defined(RMQ_NO_REQUEST)
/* -- messages handed back (rmq_message_ext) ----------------------------- */
/* What a stored message or a reply is made of, before it is copied into
 * the one allocation its rmq_message_ext points into. Slices point into
 * the frame that carried it; the hosts and the offset id are rendered. */
typedef struct rmq__ext_src {
    rmq_slice topic, body, props, broker_name;
    int32_t queue_id, flag, sys_flag, reconsume_times, store_size, body_crc;
    int64_t queue_offset, commit_log_offset, born_ts, store_ts, prepared_tx_offset;
    const char *born_host, *store_host, *offset_msg_id;   /* NULL: "" */
} rmq__ext_src;

#define RMQ__SYSFLAG_COMPRESSED 0x1

/* Copies s and its NUL to *at, returns where it went. */
static const char *rmq__ext_put(char **at, const char *s, size_t n)
{
    char *d = *at;
    if (n) RMQ_MEMCPY(d, s, n);
    d[n] = '\0';
    *at += n + 1;
    return d;
}

/* The topic as the user named it, in buf (a topic longer than a topic
 * can be stays as stored). */
static rmq_slice rmq__ext_user_topic(const rmq_producer *p, rmq_slice t, char *buf, size_t cap)
{
    int n = rmq__ns_unwrap(p, t.ptr, t.len, buf, cap);
    if (n >= 0) { t.ptr = buf; t.len = (size_t)n; }
    return t;
}

/* The body inflated by the configured decompressor into a buffer of at
 * most max_message_size bytes (freed by the caller), or NULL: the body is
 * handed over as stored. */
static void *rmq__ext_inflate(rmq_producer *p, const rmq__ext_src *src, size_t *len)
{
    size_t cap = p->cfg.max_message_size, n;
    void *out;
    if (!(src->sys_flag & RMQ__SYSFLAG_COMPRESSED) || !p->cfg.decompressor || !src->body.len) return NULL;
    out = RMQ_MALLOC(p->cfg.mem_ctx, cap);
    if (!out) return NULL;
    n = p->cfg.decompressor(p->cfg.decompressor_arg, src->body.ptr, src->body.len, out, cap);
    if (n == 0 || n > cap) { RMQ_FREE(p->cfg.mem_ctx, out); return NULL; }
    *len = n;
    return out;
}

/* Fills out from src: one allocation holds the property pairs, every
 * string and the body. On failure out is left empty. */
RMQ__FN rmq_err rmq__ext_build(rmq_producer *p, const rmq__ext_src *src, rmq_message_ext *out)
{
    char bare[RMQ_TOPIC_MAX_LEN + 1];
    rmq_slice rest = src->props, k, v, topic = rmq__ext_user_topic(p, src->topic, bare, sizeof bare);
    const char *born = src->born_host ? src->born_host : "";
    const char *store = src->store_host ? src->store_host : "";
    const char *oid = src->offset_msg_id ? src->offset_msg_id : "";
    size_t nprops = 0, need, body_len = src->body.len;
    rmq_property *props;
    void *inflated = rmq__ext_inflate(p, src, &body_len);
    const void *body = inflated ? inflated : (const void *)src->body.ptr;
    char *at;
    size_t i;
    RMQ_MEMSET(out, 0, sizeof *out);
    while (rmq__prop_next(&rest, &k, &v)) nprops++;
    /* every property text and its NUL fit in props.len + nprops bytes */
    need = nprops * sizeof(rmq_property) + src->props.len + nprops + topic.len + 1 + 3 +
           RMQ_STRLEN(born) + RMQ_STRLEN(store) + RMQ_STRLEN(oid) + 3 + body_len + 1;
    out->storage_ = RMQ_MALLOC(p->cfg.mem_ctx, need);
    if (!out->storage_) {
        if (inflated) RMQ_FREE(p->cfg.mem_ctx, inflated);
        return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_MESSAGE, (unsigned)need);
    }
    props = (rmq_property *)out->storage_;
    at = (char *)(props + nprops);
    rest = src->props;
    out->tags = out->keys = out->msg_id = "";
    for (i = 0; i < nprops && rmq__prop_next(&rest, &k, &v); i++) {
        props[i].key = rmq__ext_put(&at, k.ptr, k.len);
        props[i].value = rmq__ext_put(&at, v.ptr, v.len);
        if (rmq__slice_eq(k, "TAGS")) out->tags = props[i].value;
        else if (rmq__slice_eq(k, "KEYS")) out->keys = props[i].value;
        else if (rmq__slice_eq(k, "UNIQ_KEY")) out->msg_id = props[i].value;
    }
    out->properties = props;
    out->nproperties = nprops;
    out->topic = rmq__ext_put(&at, topic.ptr, topic.len);
    out->born_host = rmq__ext_put(&at, born, RMQ_STRLEN(born));
    out->store_host = rmq__ext_put(&at, store, RMQ_STRLEN(store));
    out->offset_msg_id = rmq__ext_put(&at, oid, RMQ_STRLEN(oid));
    out->body = rmq__ext_put(&at, (const char *)body, body_len);   /* NUL after it: printable */
    out->body_len = body_len;
    if (inflated) RMQ_FREE(p->cfg.mem_ctx, inflated);
    rmq__strlcpy(out->queue.topic, out->topic, sizeof out->queue.topic);
    if (src->broker_name.len && src->broker_name.len < sizeof out->queue.broker_name)
        RMQ_MEMCPY(out->queue.broker_name, src->broker_name.ptr, src->broker_name.len);
    out->queue.queue_id = src->queue_id;
    out->flag = src->flag;
    out->sys_flag = src->sys_flag;
    out->queue_offset = src->queue_offset;
    out->commit_log_offset = src->commit_log_offset;
    out->born_timestamp_ms = src->born_ts;
    out->store_timestamp_ms = src->store_ts;
    out->reconsume_times = src->reconsume_times;
    out->store_size = src->store_size;
    out->body_crc = src->body_crc;
    out->prepared_transaction_offset = src->prepared_tx_offset;
    return RMQ_OK;
}

RMQDEF void rmq_message_ext_free(rmq_producer *p, rmq_message_ext *m)
{
    if (!m) return;
    if (p && m->storage_) RMQ_FREE(p->cfg.mem_ctx, m->storage_);
    RMQ_MEMSET(m, 0, sizeof *m);
}
#endif

/* -- requests the broker sends ------------------------------------------- */
#ifndef RMQ_NO_REQUEST
/* A reply a broker pushed goes up to request-reply, which judges it; the
 * answer goes from here. Before any request was made nothing waits for it
 * (Java answers SUCCESS then too). */
static RMQ__NOINLINE void rmq__reply_push(rmq__inst *in, rmq__conn *c, const rmq_command *req)
{
    const rmq__reply_hooks *h = in->reply_hooks;
    const char *remark = NULL;
    int32_t code = h ? h->pushed(in, c, req, &remark) : RMQ_CODE_SUCCESS;
    if (!(req->flag & RMQ_FLAG_ONEWAY)) rmq__respond(&in->rm, c, req, code, remark);
}
#endif

/* REQUEST_CODE_NOT_SUPPORTED, with the remark put together by hand: the
 * only formatting the core would keep. Its own frame: the remark is not
 * carried under every request the broker sends. */
static RMQ__NOINLINE void rmq__request_not_supported(rmq__remoting *rm, rmq__conn *c, const rmq_command *req)
{
    char remark[64], num[24];
    rmq__sb b;
    rmq__sb_init(&b, remark, sizeof remark);
    rmq__sb_puts(&b, " request type ");
    rmq__sb_putn(&b, num, rmq__i64_to_dec(num, req->code));
    rmq__sb_puts(&b, " not supported");
    rmq__respond(rm, c, req, RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED, remark);
}

RMQ__FN void rmq__inst_request(rmq__remoting *rm, void *arg, rmq__conn *c, const rmq_command *req)
{
    switch (req->code) {
    case RMQ_REQ_NOTIFY_CONSUMER_IDS_CHANGED:    /* for consumers only */
        return;
#ifndef RMQ_NO_REQUEST
    case RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT:
        rmq__reply_push((rmq__inst *)arg, c, req);
        return;
#endif
    case RMQ_REQ_CHECK_TRANSACTION_STATE:
#ifndef RMQ_NO_TRANSACTION
        rmq__tx_check_queue((rmq__inst *)arg, c, req);
#else
        (void)arg;
        RMQ__LOG(rm, RMQ_LOG_INFO, "%s asked for a transaction check; transactions are cut", c->addr);
#endif
        return;
    default:
        if (!(req->flag & RMQ_FLAG_ONEWAY)) rmq__request_not_supported(rm, c, req);
    }
}

/* The instance's timers other than its own are the sends' (a send's timer
 * is the first member of its rmq__op). */
static void rmq__op_timer_expired(rmq__inst *in, rmq__timer *t)
{
#ifndef RMQ_NO_TRACE
    if (t->kind == RMQ__TIMER_HOOK) {
        rmq__hook_timer *h = (rmq__hook_timer *)(void *)t;
        h->fire(h);
        return;
    }
#endif
    rmq__op_timeout(in, (rmq__op *)(void *)t);
}

static const rmq__inst_hooks *rmq__producer_hooks(void)
{
    static const rmq__inst_hooks hooks = {
        rmq__route_resolved, rmq__op_timer_expired, rmq__inst_request
#ifndef RMQ_NO_TRANSACTION
        , rmq__tx_checks_free
#endif
    };
    return &hooks;
}

/* -- shutdown ------------------------------------------------------------ */
RMQ__FN void rmq__unregister_done(rmq__remoting *rm, rmq__req *r, rmq_err err, const rmq_command *resp, const rmq_reason *why)
{
    rmq__inst *in = (rmq__inst *)(void *)rm;
    (void)r; (void)resp;
    if (err != RMQ_OK && why) RMQ__LOG(&in->rm, RMQ_LOG_WARN, "unregister failed: %r", why);
    else if (err != RMQ_OK) RMQ__LOG(&in->rm, RMQ_LOG_WARN, "unregister failed: %s", rmq_strerror(err));
    in->unregister_left--;
}

static int rmq__unregistered(rmq__inst *in, void *arg) { (void)arg; return in->unregister_left == 0; }

/* UNREGISTER_CLIENT to every known broker address at once, then one
 * bounded wait for the answers. */
RMQ__FN void rmq__unregister_all(rmq_producer *p)
{
    rmq__inst *in = p->in;
    uint32_t deadline = rmq__now(&in->rm) + in->api_timeout_ms;
    rmq__rq rq;
    rmq_ext_field f[2];
    int b, a;
    rmq__rq_unregister(&rq, f, in->client_id, p->cfg.group);
    for (b = 0; b < RMQ_MAX_BROKERS; b++) {
        if (!in->brokers[b].used) continue;
        for (a = 0; a < in->brokers[b].naddrs; a++) {
            if (rmq__invoke(&in->rm, in->brokers[b].addrs[a].addr, &rq, NULL, 0, 0, deadline,
                            rmq__unregister_done, in, NULL) == RMQ_OK)
                in->unregister_left++;
        }
    }
    rmq__run(in, rmq__unregistered, NULL, deadline, 0);
}

/* Every send of p still pending ends with RMQ_ERR_SHUTDOWN. */
RMQ__FN void rmq__fail_pending(rmq_producer *p)
{
    rmq__inst *in = p->in;
    rmq__op *op;
    int t;
    for (t = 0; t < RMQ_MAX_TOPICS; t++) {
        rmq__op **pp = in->routes[t] ? &in->routes[t]->waiters : NULL;
        while (pp && *pp) { if ((*pp)->p == p) *pp = (*pp)->wnext; else pp = &(*pp)->wnext; }
    }
    for (op = p->ops; op; op = op->next) if (op->parked) rmq__op_unpark(op);
    rmq__why(&in->why, RMQ_R_SHUT_DOWN_BEFORE_SENT);
    while ((op = p->ops) != NULL) {
        rmq__req *r = op->req;
        rmq__op_unlink(p, op);
        if (op->done) continue;
        rmq__op_finish(op, RMQ_ERR_SHUTDOWN, &in->why);
        if (op->mode == RMQ__MODE_SYNC) op->done = 1;
        if (RMQ__THREADS && r) rmq__req_recall(&in->rm, r);
    }
#ifndef RMQ_NO_REQUEST
    if (in->reply_hooks) in->reply_hooks->producer_gone(p);
#endif
}

#ifndef RMQ_NO_THREADS
static int rmq__drained_or_free(rmq__inst *in, void *arg) { return ((rmq_producer *)arg)->pending == 0 || !in->leader; }

/* Every callback of p has run when this returns. With threads another
 * thread may be leading the loop: it runs them while this one waits, for
 * only one thread at a time may run callbacks (the in-callback check
 * knows one thread), and the leader holds that right. */
RMQ__FN void rmq__drain_callbacks(rmq_producer *p)
{
    rmq__inst *in = p->in;
    if (RMQ__THREADS && in->waiters) rmq__wake_waiters(in);     /* sync sends that just failed */
    while (RMQ__THREADS && in->leader && p->pending) {
        rmq__nudge_leader(in);
        rmq__run(in, rmq__drained_or_free, p, rmq__now(&in->rm) + 1000u, 0);
    }
    if (RMQ__THREADS && in->leader) return;     /* p's are done; the rest are the leader's */
    if (RMQ__THREADS) in->leader = 1;
    rmq__fire_callbacks(in);
    if (RMQ__THREADS) {
        in->leader = 0;
        if (in->waiters) rmq__wake_waiters(in);
    }
}
#endif

/* The state turns at once, so that no send is accepted while the group is
 * unregistered and the pending ones fail; the heartbeat no longer names
 * the group from then on. */
#ifdef RMQ_NO_THREADS
RMQDEF void rmq_producer_shutdown(rmq_producer *p)
{
    rmq__inst *in;
    int t;
    if (!p || p->state != RMQ_STATE_RUNNING) return;
#ifndef RMQ_NO_TRACE
    if (p->hook) p->hook->stopping(p, p->hook_arg);
#endif
    in = p->in;
    rmq__lock(in);
    if (rmq__in_callback(in)) {
        rmq__unlock(in);
        rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_SHUTDOWN_IN_CALLBACK);
        return;
    }
    rmq__unregister_all(p);
    rmq__fail_pending(p);
    rmq__fire_callbacks(in);
    in->producers[p->slot] = NULL;
    in->groups[p->slot] = NULL;
    for (t = 0; t < RMQ_MAX_TOPICS; t++) if (in->routes[t]) in->routes[t]->users &= ~(1u << p->slot);
    p->slot = -1;
    p->state = RMQ_STATE_SHUTDOWN_ALREADY;
    p->in = NULL;
    rmq__unlock(in);
    rmq__inst_release(in);
}
#else
RMQDEF void rmq_producer_shutdown(rmq_producer *p)
{
    rmq__inst *in;
    int t;
    if (!p || !p->in) return;
#ifndef RMQ_NO_TRACE
    if (p->hook) p->hook->stopping(p, p->hook_arg);
#endif
    in = p->in;
    rmq__lock(in);
    if (p->state != RMQ_STATE_RUNNING) { rmq__unlock(in); return; }
    if (rmq__in_callback(in)) {
        rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_SHUTDOWN_IN_CALLBACK);
        rmq__unlock(in);
        return;
    }
    rmq__call_begin(p);
    p->state = RMQ_STATE_SHUTDOWN_ALREADY;
    in->producers[p->slot] = NULL;
    in->groups[p->slot] = NULL;
    rmq__unregister_all(p);
    rmq__fail_pending(p);
    rmq__drain_callbacks(p);
    for (t = 0; t < RMQ_MAX_TOPICS; t++) if (in->routes[t]) in->routes[t]->users &= ~(1u << p->slot);
    p->slot = -1;
    if (!RMQ__THREADS) p->in = NULL;
    rmq__call_end(p);
    rmq__unlock(in);
    rmq__inst_leave(in);
    if (!RMQ__THREADS) rmq__inst_release(in);
}
#endif

/* With threads, calls on p still running in other threads (a sync send
 * that shutdown failed, a poll, a flush, another shutdown) are waited for;
 * no call may start on p once destroy has been called. */
#ifdef RMQ_NO_THREADS
RMQDEF void rmq_producer_destroy(rmq_producer *p)
{
    void *mem;
    if (!p) return;
    if (p->in && rmq__in_callback(p->in)) return;
    rmq_producer_shutdown(p);
#ifndef RMQ_NO_TRACE
    if (p->hook) p->hook->freed(p, p->hook_arg);
#endif
    if (p->in) { rmq__inst_release(p->in); p->in = NULL; }
    mem = p->cfg.mem_ctx;
    rmq__stash_empty(&p->blocks, mem);
    RMQ_FREE(mem, p);
}
#else
RMQDEF void rmq_producer_destroy(rmq_producer *p)
{
    void *mem;
    int refused;
    if (!p) return;
    if (p->in) {
        rmq__lock(p->in);
        refused = rmq__in_callback(p->in);
        if (refused) rmq__fail(p, RMQ_ERR_IN_CALLBACK, RMQ_R_DESTROY_IN_CALLBACK);
        rmq__unlock(p->in);
        if (refused) return;
    }
    rmq_producer_shutdown(p);
#ifndef RMQ_NO_TRACE
    if (p->hook) p->hook->freed(p, p->hook_arg);
#endif
    if (p->in) {
#ifndef RMQ_NO_THREADS
        rmq__lock(p->in);
        rmq__await_calls(p);
        rmq__unlock(p->in);
#endif
        rmq__inst_release(p->in);
        p->in = NULL;
    }
    mem = p->cfg.mem_ctx;
    rmq__stash_empty(&p->blocks, mem);
    RMQ_FREE(mem, p);
}
#endif

/* The client instance's share of the counters (its lock held). */
static void rmq__stats_instance(const rmq_producer *p, rmq_stats *out)
{
    const rmq__inst *in = p->in;
    uint32_t now = rmq__now(&p->in->rm);
    int i;
    out->inflight_requests = RMQ_MAX_INFLIGHT - in->rm.nfree;
    out->reconnects = in->rm.reconnects;
#ifndef RMQ_NO_REQUEST
    out->requests_waiting = in->nwaiting;
    out->late_replies = in->late_replies;
#endif
    for (i = 0; i < RMQ_MAX_CONNECTIONS; i++)
        if (in->rm.conns[i].state == RMQ__CONN_OPEN || in->rm.conns[i].state == RMQ__CONN_CONNECTING) out->connections++;
    for (i = 0; i < RMQ_MAX_TOPICS; i++) {
        const rmq__route *rt = in->routes[i];
        if (rt && rt->state == RMQ__ROUTE_OK && p->slot >= 0 && (rt->users & (1u << p->slot)) &&
            now - rt->updated_at > out->route_age_ms)
            out->route_age_ms = now - rt->updated_at;
    }
    for (i = 0; i < RMQ_MAX_BROKERS; i++) {
        if (!in->brokers[i].used) continue;
        rmq__strlcpy(out->brokers[out->nbrokers].broker_name, in->brokers[i].name, sizeof out->brokers[0].broker_name);
        out->brokers[out->nbrokers++].errors = in->brokers[i].errors;
    }
}

RMQDEF void rmq_producer_stats(rmq_producer *p, rmq_stats *out)
{
    if (!out) return;
    RMQ_MEMSET(out, 0, sizeof *out);
    if (!p) return;
    if (p->in) rmq__lock(p->in);      /* the counters change under it */
    out->pending_sends = p->pending;
    out->pending_bytes = p->pending_bytes;
    out->retries = p->retries;
    out->sends_ok = p->sends_ok;
    out->sends_failed = p->sends_failed;
#ifndef RMQ_NO_THREADS
    out->refused_in_callback = p->refused;
#endif
#ifndef RMQ_NO_TRACE
    out->trace_sent = p->trace_sent;
    out->trace_dropped = p->trace_dropped;
#endif
    if (!p->in) return;
    /* With threads a shut-down producer still holds its instance (until
     * destroy), but the instance's counters are no longer its own. */
    if (!RMQ__THREADS || p->state == RMQ_STATE_RUNNING) rmq__stats_instance(p, out);
    rmq__unlock(p->in);
}

/* ======================================================================== */
/* 14. MQAdmin                                                               */
/* ======================================================================== */
#ifndef RMQ_NO_ADMIN
/* -- topic creation, offsets and store times --------------------------- */
/* MQAdminImpl's timeoutMillis: each admin request waits this long. */
#define RMQ__ADMIN_TIMEOUT_MS 6000u
/* MQAdminImpl.createTopic tries each broker this many times. */
#define RMQ__ADMIN_CREATE_TRIES 5

/* A broker group a topic is created on: its name and master address. */
typedef struct rmq__admin_master {
    char name[RMQ_BROKER_NAME_MAX_LEN + 1];
    char addr[RMQ_ADDR_MAX_LEN + 1];
} rmq__admin_master;

/* The masters of the key topic's route, as a name server sent it. */
typedef struct rmq__key_route {
    rmq_producer *p;
    rmq__admin_master *list;      /* one allocation, nbrokers long */
    uint32_t n;
} rmq__key_route;

/* Validators.isSystemTopic: TopicValidator's set and its rmq_sys_ prefix. */
static const char *const rmq__system_topics[] = {
    "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT"
};

RMQ__FN int rmq__is_system_topic(const char *t)
{
    size_t i;
    if (rmq__starts_with(t, "rmq_sys_")) return 1;
    for (i = 0; i < sizeof rmq__system_topics / sizeof *rmq__system_topics; i++)
        if (rmq__strcmp(t, rmq__system_topics[i]) == 0) return 1;
    return 0;
}

/* Keeps the master of every broker group of the answer, sorted by broker
 * name (Java sorts the BrokerData list); a group without a master is left
 * out, as Java skips it. Runs while the answer's frame lives. */
static rmq_err rmq__admin_masters(rmq__call *call, const rmq__route_data *rd)
{
    rmq__key_route *ar = (rmq__key_route *)call->arg;
    uint32_t b, k, a;
    if (!rd->nbrokers) return RMQ_OK;
    ar->list = (rmq__admin_master *)RMQ_MALLOC(ar->p->cfg.mem_ctx, rd->nbrokers * sizeof *ar->list);
    if (!ar->list) { rmq__why(&call->why, RMQ_R_NO_MEMORY_ROUTE_BROKERS); return RMQ_ERR_NO_MEMORY; }
    for (b = 0; b < rd->nbrokers; b++) {
        for (a = 0; a < rd->brokers[b].naddrs && rd->brokers[b].addrs[a].id != 0; a++) {}
        if (a == rd->brokers[b].naddrs) continue;
        for (k = ar->n; k > 0 && rmq__strcmp(ar->list[k - 1].name, rd->brokers[b].name) > 0; k--) ar->list[k] = ar->list[k - 1];
        rmq__strlcpy(ar->list[k].name, rd->brokers[b].name, sizeof ar->list[k].name);
        rmq__strlcpy(ar->list[k].addr, rd->brokers[b].addrs[a].addr, sizeof ar->list[k].addr);
        ar->n++;
    }
    return RMQ_OK;
}

/* Reads the answer (in its frame's dispatch: the body is there) into a
 * route scratch held only for this. */
static rmq_err rmq__admin_take_route(rmq__call *call, const rmq_command *resp)
{
    rmq__key_route *ar = (rmq__key_route *)call->arg;
    rmq__inst *in = ar->p->in;
    rmq__route_scratch *sc;
    rmq_err err = RMQ_ERR_NO_MEMORY;
    if (resp->code != RMQ_CODE_SUCCESS) return RMQ_OK;      /* the caller judges the code */
    sc = (rmq__route_scratch *)RMQ_MALLOC(in->mem, sizeof *sc);
    if (!sc) rmq__why(&call->why, RMQ_R_NO_MEMORY_ROUTE_READ);
    else if (rmq__route_parse((char *)(uintptr_t)resp->body, resp->body_len, &sc->rd, &call->why))
        err = RMQ_ERR_PROTOCOL;
    else
        err = rmq__admin_masters(call, &sc->rd);
    if (sc) RMQ_FREE(in->mem, sc);
    return err;
}

/* The route of topic straight from a name server, as Java's
 * getTopicRouteInfoFromNameServer (not the producer's route table); one
 * that cannot be reached passes the query to the next. */
RMQ__FN rmq_err rmq__admin_route_of(rmq_producer *p, const char *topic, rmq__key_route *ar)
{
    rmq__inst *in = p->in;
    rmq__call call;
    rmq_err err = RMQ_ERR_NO_NAMESRV;
    rmq__rq rq;
    rmq_ext_field f[2];
    int tries;
    call.take = rmq__admin_take_route;
    call.arg = ar;
    rmq__rq_route_query(&rq, f, topic);
    for (tries = 0; tries < in->nnamesrv; tries++) {
        char ns[RMQ_ADDR_MAX_LEN + 1];       /* the list may change while the call waits */
        rmq__strlcpy(ns, rmq__namesrv_cur(in), sizeof ns);
        err = rmq__call_sync(p, &call, "GET_ROUTEINFO_BY_TOPIC", ns, &rq, RMQ__ADMIN_TIMEOUT_MS);
        if (err == RMQ_OK && call.code != RMQ_CODE_SUCCESS)
            return rmq__fail(p, RMQ_ERR_NO_ROUTE, RMQ_R_CREATE_TOPIC_NO_ROUTE, ns,
                             topic, rmq_response_code_name(call.code));
        if (err != RMQ_ERR_CONNECT && err != RMQ_ERR_CONNECTION_LOST && err != RMQ_ERR_TIMEOUT) break;
        in->ns_index = (in->ns_index + 1) % in->nnamesrv;
    }
    if (err == RMQ_ERR_NO_NAMESRV) return rmq__fail(p, err, RMQ_R_NO_NAMESRV);
    return err;
}

/* One broker group: up to RMQ__ADMIN_CREATE_TRIES requests, the first
 * accepted ends it (each failure is recorded, the last one stays). */
RMQ__FN rmq_err rmq__admin_create_on(rmq_producer *p, const rmq__admin_master *m, const char *key, const char *topic,
                                     int queue_num)
{
    rmq__inst *in = p->in;
    rmq__call call;
    char addr[RMQ_ADDR_MAX_LEN + 1], num[RMQ__DEC_MAX];
    rmq__rq rq;
    rmq_ext_field f[RMQ__REQUEST_FIELDS];
    rmq_err err = RMQ_OK;
    int i;
    call.take = NULL;
    call.arg = NULL;
    rmq__strlcpy(addr, rmq__vip_addr(in, p->cfg.vip_channel, m->addr), sizeof addr);
    rmq__rq_create_topic(&rq, f, num, key, topic, queue_num);
    for (i = 0; i < RMQ__ADMIN_CREATE_TRIES; i++) {
        err = rmq__call_sync(p, &call, "UPDATE_AND_CREATE_TOPIC", addr, &rq, RMQ__ADMIN_TIMEOUT_MS);
        if (err == RMQ_OK && call.code == RMQ_CODE_SUCCESS) return RMQ_OK;
        if (err == RMQ_OK) err = rmq__call_refused(p, &call, "UPDATE_AND_CREATE_TOPIC", addr);
    }
    return err;
}

/* MQAdminImpl.createTopic: every master of key's route is asked; it is
 * enough that one accepted, else the last failure is the answer. */
RMQ__FN rmq_err rmq__admin_create_topic(rmq_producer *p, const char *key, const char *new_topic, int queue_num)
{
    rmq__key_route ar;
    rmq_err err = rmq__check_running(p, 1), last = RMQ_OK;
    uint32_t b;
    int ok = 0;
    if (err != RMQ_OK) return err;
    if (rmq__is_blank(key) || RMQ_STRLEN(key) > RMQ_TOPIC_MAX_LEN)
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_KEY_TOPIC_INVALID);
    err = rmq__check_topic(p, new_topic);
    if (err == RMQ_OK) err = rmq__ns_topic(p, &new_topic);   /* withNamespace(newTopic); the key stays */
    if (err != RMQ_OK) return err;
    if (rmq__is_system_topic(new_topic))
        return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_TOPIC_SYSTEM, new_topic);
    if (queue_num < 1 || queue_num > RMQ_MAX_QUEUES)
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_QUEUE_NUM_RANGE, queue_num, RMQ_MAX_QUEUES);
    ar.p = p;
    ar.list = NULL;
    ar.n = 0;
    err = rmq__admin_route_of(p, key, &ar);
    if (err == RMQ_OK && !ar.n) err = rmq__fail(p, RMQ_ERR_NO_ROUTE, RMQ_R_KEY_BROKER_NOT_FOUND, key);
    for (b = 0; err == RMQ_OK && b < ar.n; b++) {
        rmq_err e = rmq__admin_create_on(p, &ar.list[b], key, new_topic, queue_num);
        if (e == RMQ_OK) ok = 1; else last = e;
    }
    if (ar.list) RMQ_FREE(p->cfg.mem_ctx, ar.list);
    if (err != RMQ_OK) return err;
    return ok ? RMQ_OK : last;
}

/* An answer's offset or timestamp (a Long in its header). */
typedef struct rmq__admin_num {
    const char *key;
    int64_t value;
} rmq__admin_num;

static rmq_err rmq__admin_take_num(rmq__call *call, const rmq_command *resp)
{
    rmq__admin_num *num = (rmq__admin_num *)call->arg;
    rmq_slice v;
    if (resp->code != RMQ_CODE_SUCCESS) return RMQ_OK;
    v = rmq_command_ext(resp, num->key);
    if (rmq__parse_i64(v.ptr, v.len, &num->value)) {
        rmq__why(&call->why, RMQ_R_ANSWER_FIELD, num->key);
        return RMQ_ERR_PROTOCOL;
    }
    return RMQ_OK;
}

/* The topic's route, asked for when the instance has none yet. */
RMQ__FN rmq_err rmq__admin_route(rmq_producer *p, const char *topic, rmq__route **out)
{
    rmq_err err = rmq__check_topic(p, topic);
    return err != RMQ_OK ? err : rmq__route_ready(p, topic, rmq__now(&p->in->rm) + p->in->api_timeout_ms, out);
}

/* The master of q's broker, as findBrokerAddressInPublish, asked once more
 * after the topic's route is fetched when the broker is unknown (Java's
 * updateTopicRouteInfoFromNameServer); the VIP port when it is on. */
RMQ__FN rmq_err rmq__admin_queue_master(rmq_producer *p, const rmq_queue *q, char *addr)
{
    rmq__inst *in = p->in;
    int b = rmq__broker_slot(in->brokers, q->broker_name, 0);
    if (b < 0 || !rmq__broker_master(&in->brokers[b])) {
        rmq__route *rt;
        (void)rmq__admin_route(p, q->topic, &rt);     /* its failure is the broker's absence */
        b = rmq__broker_slot(in->brokers, q->broker_name, 0);
    }
    if (b < 0 || !rmq__broker_master(&in->brokers[b]))
        return rmq__fail(p, RMQ_ERR_BROKER_NOT_FOUND, RMQ_R_BROKER_NOT_EXIST, q->broker_name);
    rmq__strlcpy(addr, rmq__vip_addr(in, p->cfg.vip_channel, rmq__broker_master(&in->brokers[b])), RMQ_ADDR_MAX_LEN + 1);
    return RMQ_OK;
}

/* One of the queue's requests (SearchOffset, GetMaxOffset, GetMinOffset,
 * GetEarliestMsgStoretime: topic, queueId, the timestamp for the first,
 * and bname, which 4.9.8 sets on all four) and the Long its answer names. */
RMQ__FN rmq_err rmq__admin_queue_call(rmq_producer *p, int32_t code, const char *what, const rmq_queue *q,
                                      const int64_t *timestamp, const char *answer, int64_t *out)
{
    char addr[RMQ_ADDR_MAX_LEN + 1], nums[2][RMQ__DEC_MAX];
    rmq_queue wq;
    rmq__admin_num num;
    rmq__call call;
    rmq__rq rq;
    rmq_ext_field f[4];
    rmq_err err = rmq__check_running(p, 1);
    if (err != RMQ_OK) return err;
    if (!q || !out || rmq__is_blank(q->topic) || rmq__is_blank(q->broker_name) || q->queue_id < 0)
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_QUEUE_ARGS_MISSING, what);
    wq = *q;                                              /* queueWithNamespace(mq) */
    if (rmq__ns_wrap(p, q->topic, RMQ_STRLEN(q->topic), wq.topic, sizeof wq.topic) < 0)
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_QUEUE_TOPIC_TOO_LONG, what, q->topic);
    q = &wq;
    err = rmq__admin_queue_master(p, q, addr);
    if (err != RMQ_OK) return err;
    rmq__rq_queue_query(&rq, f, nums, code, q->topic, q->queue_id, timestamp, q->broker_name);
    num.key = answer;
    num.value = 0;
    call.take = rmq__admin_take_num;
    call.arg = &num;
    err = rmq__call_sync(p, &call, what, addr, &rq, RMQ__ADMIN_TIMEOUT_MS);
    if (err != RMQ_OK) return err;
    if (call.code != RMQ_CODE_SUCCESS) return rmq__call_refused(p, &call, what, addr);
    *out = num.value;
    return RMQ_OK;
}

/* The admin calls' common entry: a running producer, its lock held. */
#define RMQ__ADMIN_ENTER(p)                                                                          \
    do {                                                                                             \
        if (!(p) || !(p)->in || (!RMQ__THREADS && (p)->state != RMQ_STATE_RUNNING))                 \
            return rmq__check_running((p), 1);                                                       \
        rmq__lock((p)->in);                                                                          \
        rmq__call_begin(p);                                                                          \
    } while (0)
#define RMQ__ADMIN_LEAVE(p) do { rmq__call_end(p); rmq__unlock((p)->in); } while (0)

RMQDEF rmq_err rmq_admin_create_topic(rmq_producer *p, const char *key, const char *new_topic, int queue_num)
{
    rmq_err err;
    RMQ__ADMIN_ENTER(p);
    err = rmq__admin_create_topic(p, key, new_topic, queue_num);
    RMQ__ADMIN_LEAVE(p);
    return err;
}

/* The public queue calls: the lock around one of them. */
static rmq_err rmq__admin_queue_locked(rmq_producer *p, int32_t code, const char *what, const rmq_queue *q,
                                       const int64_t *timestamp, const char *answer, int64_t *out)
{
    rmq_err err;
    RMQ__ADMIN_ENTER(p);
    err = rmq__admin_queue_call(p, code, what, q, timestamp, answer, out);
    RMQ__ADMIN_LEAVE(p);
    return err;
}

RMQDEF rmq_err rmq_search_offset(rmq_producer *p, const rmq_queue *q, int64_t timestamp_ms, int64_t *offset)
{
    return rmq__admin_queue_locked(p, RMQ_REQ_SEARCH_OFFSET_BY_TIMESTAMP, "SEARCH_OFFSET_BY_TIMESTAMP", q,
                                   &timestamp_ms, "offset", offset);
}

RMQDEF rmq_err rmq_max_offset(rmq_producer *p, const rmq_queue *q, int64_t *offset)
{
    return rmq__admin_queue_locked(p, RMQ_REQ_GET_MAX_OFFSET, "GET_MAX_OFFSET", q, NULL, "offset", offset);
}

RMQDEF rmq_err rmq_min_offset(rmq_producer *p, const rmq_queue *q, int64_t *offset)
{
    return rmq__admin_queue_locked(p, RMQ_REQ_GET_MIN_OFFSET, "GET_MIN_OFFSET", q, NULL, "offset", offset);
}

RMQDEF rmq_err rmq_earliest_msg_store_time(rmq_producer *p, const rmq_queue *q, int64_t *epoch_ms)
{
    return rmq__admin_queue_locked(p, RMQ_REQ_GET_EARLIEST_MSG_STORETIME, "GET_EARLIEST_MSG_STORETIME", q, NULL,
                                   "timestamp", epoch_ms);
}

/* -- viewing and querying messages ------------------------------------- */
/* MQAdminImpl's timeout for a view; a query waits three times as long for
 * each broker, as Java's does. */
#define RMQ__ADMIN_TIMEOUT_MS 6000u
#define RMQ__QUERY_TIMEOUT_MS (3u * RMQ__ADMIN_TIMEOUT_MS)
/* queryMessageByUniqKey's maxNum (the broker forces its own 32 anyway). */
#define RMQ__UNIQ_QUERY_MAX 32

/* What a stored message's hosts and offset id become as text. */
typedef struct rmq__stored_text {
    char born[RMQ_ADDR_MAX_LEN + 1], store[RMQ_ADDR_MAX_LEN + 1];
    char offset_msg_id[57];
} rmq__stored_text;

/* MessageDecoder.createMessageId: store ip ‖ port ‖ commit-log offset. */
RMQ__FN void rmq__offset_msg_id(const rmq__stored *m, char *out)
{
    uint8_t b[28];
    int i;
    RMQ_MEMCPY(b, m->store.ip, m->store.iplen);
    rmq__be32_put(b + m->store.iplen, m->store.port);
    for (i = 0; i < 8; i++) b[m->store.iplen + 4 + (size_t)i] = (uint8_t)((uint64_t)m->commit_log_offset >> (56 - 8 * i));
    rmq__hex(out, b, m->store.iplen + 12);
}

/* The message ext of a decoded stored message; its slices still point
 * into the frame, the texts into t. */
RMQ__FN void rmq__stored_src(const rmq__stored *m, const char *broker_name, rmq__stored_text *t, rmq__ext_src *src)
{
    rmq__sb sb;
    rmq__sb_init(&sb, t->born, sizeof t->born);
    rmq__host_text(&sb, m->born.ip, m->born.iplen, m->born.port);
    rmq__sb_init(&sb, t->store, sizeof t->store);
    rmq__host_text(&sb, m->store.ip, m->store.iplen, m->store.port);
    rmq__offset_msg_id(m, t->offset_msg_id);
    RMQ_MEMSET(src, 0, sizeof *src);
    src->topic = m->topic;
    src->body = m->body;
    src->props = m->props;
    src->broker_name = rmq__cslice(broker_name ? broker_name : "");
    src->queue_id = m->queue_id;
    src->flag = m->flag;
    src->sys_flag = m->sysflag;
    src->reconsume_times = m->reconsume_times;
    src->store_size = m->store_size;
    src->body_crc = m->body_crc;
    src->queue_offset = m->queue_offset;
    src->commit_log_offset = m->commit_log_offset;
    src->born_ts = m->born_ts;
    src->store_ts = m->store_ts;
    src->prepared_tx_offset = m->prepared_tx_offset;
    src->born_host = t->born;
    src->store_host = t->store;
    src->offset_msg_id = t->offset_msg_id;
}

/* The broker group an address belongs to, for the queue of a message
 * viewed there ("" when the instance does not know it). */
RMQ__FN const char *rmq__broker_of_addr(const rmq__inst *in, const char *addr)
{
    size_t b;
    uint8_t i;
    for (b = 0; b < RMQ_MAX_BROKERS; b++) {
        if (!in->brokers[b].used) continue;
        for (i = 0; i < in->brokers[b].naddrs; i++)
            if (rmq__strcmp(in->brokers[b].addrs[i].addr, addr) == 0) return in->brokers[b].name;
    }
    return "";
}

typedef struct rmq__view_arg {
    rmq_producer *p;
    const char *broker_name;
    rmq_message_ext *out;
} rmq__view_arg;

/* VIEW_MESSAGE_BY_ID's answer: one stored message, decoded while its frame
 * lives. */
static rmq_err rmq__view_take(rmq__call *call, const rmq_command *resp)
{
    rmq__view_arg *v = (rmq__view_arg *)call->arg;
    rmq__stored m;
    rmq__stored_text t;
    rmq__ext_src src;
    if (resp->code != RMQ_CODE_SUCCESS) return RMQ_OK;
    if (rmq__stored_decode(resp->body, resp->body_len, &m)) {
        rmq__why(&call->why, RMQ_R_STORED_MESSAGE_MALFORMED, (unsigned)resp->body_len);
        return RMQ_ERR_PROTOCOL;
    }
    rmq__stored_src(&m, v->broker_name, &t, &src);
    return rmq__ext_build(v->p, &src, v->out);
}

RMQ__FN rmq_err rmq__view(rmq_producer *p, const char *offset_msg_id, rmq_message_ext *out)
{
    rmq__rq rq;
    rmq_ext_field f[1];
    rmq__call call;
    rmq__view_arg v;
    char addr[RMQ_ADDR_MAX_LEN + 1], num[24];
    int64_t offset;
    rmq_err err;
    if (rmq_offset_msg_id_decode(offset_msg_id, addr, sizeof addr, &offset) != RMQ_OK)
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_BAD_OFFSET_MSG_ID,
                         offset_msg_id ? offset_msg_id : "(null)");
    rmq__rq_view_message(&rq, f, num, offset);
    v.p = p;
    v.broker_name = rmq__broker_of_addr(p->in, addr);
    v.out = out;
    call.take = rmq__view_take;
    call.arg = &v;
    err = rmq__call_sync(p, &call, "VIEW_MESSAGE_BY_ID", addr, &rq, RMQ__ADMIN_TIMEOUT_MS);
    if (err != RMQ_OK) { rmq_message_ext_free(p, out); return err; }
    return call.code == RMQ_CODE_SUCCESS ? RMQ_OK : rmq__call_refused(p, &call, "VIEW_MESSAGE_BY_ID", addr);
}

/* A query's merge (MQAdminImpl.queryMessage): what every broker's answer
 * adds to the result, and the broker answers so far. */
typedef struct rmq__query {
    rmq_producer *p;
    const char *topic, *key;
    int uniq;                      /* queryMessageByUniqKey */
    size_t max;                    /* messages kept at most */
    size_t cap;                    /* entries allocated in out->msgs */
    rmq_query_result *out;
} rmq__query;

typedef struct rmq__query_one {
    rmq__call call;
    rmq__query *q;
    const char *broker_name;
    const char *addr;
    int sent;
} rmq__query_one;

/* Java's filter: the key among the space-separated KEYS of a message of
 * the topic, or for a unique-key query the message id itself. */
RMQ__FN int rmq__query_match(const rmq__query *q, const rmq__stored *m)
{
    rmq_slice keys, id, k;
    size_t i, start;
    if (q->uniq) {
        id = rmq__prop_get(m->props, "UNIQ_KEY");
        if (id.ptr) return rmq__slice_eq(id, q->key);
        {
            char oid[57];
            rmq__offset_msg_id(m, oid);
            return rmq__strcmp(oid, q->key) == 0;
        }
    }
    if (!rmq__slice_eq(m->topic, q->topic)) return 0;
    keys = rmq__prop_get(m->props, "KEYS");
    for (start = 0, i = 0; keys.ptr && i <= keys.len; i++) {
        if (i < keys.len && keys.ptr[i] != ' ') continue;
        k.ptr = keys.ptr + start;
        k.len = i - start;
        if (rmq__slice_eq(k, q->key)) return 1;
        start = i + 1;
    }
    return 0;
}

/* Room for one more message in the result, grown by doubling up to max:
 * what arrived bounds it, not max_num. */
RMQ__FN rmq_err rmq__query_room(rmq__query *q)
{
    rmq_message_ext *grown;
    size_t cap;
    if (q->out->n < q->cap) return RMQ_OK;
    cap = q->cap ? q->cap * 2 : 4;
    if (cap > q->max) cap = q->max;
    grown = (rmq_message_ext *)RMQ_MALLOC(q->p->cfg.mem_ctx, cap * sizeof *grown);
    if (!grown) return rmq__fail(q->p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_QUERY_RESULTS, (unsigned)cap);
    if (q->out->n) RMQ_MEMCPY(grown, q->out->msgs, q->out->n * sizeof *grown);
    if (q->out->msgs) RMQ_FREE(q->p->cfg.mem_ctx, q->out->msgs);
    q->out->msgs = grown;
    q->cap = cap;
    return RMQ_OK;
}

/* Keeps a matching message: up to max for a key, the earliest stored one
 * for a unique key. */
RMQ__FN rmq_err rmq__query_keep(rmq__query *q, const rmq__stored *m, const char *broker_name)
{
    rmq__stored_text t;
    rmq__ext_src src;
    rmq_message_ext one;
    rmq_err err;
    if (q->uniq && q->out->n && q->out->msgs[0].store_timestamp_ms <= m->store_ts) return RMQ_OK;
    if (!q->uniq && q->out->n >= q->max) return RMQ_OK;
    err = rmq__query_room(q);
    if (err != RMQ_OK) return err;
    rmq__stored_src(m, broker_name, &t, &src);
    err = rmq__ext_build(q->p, &src, &one);
    if (err != RMQ_OK) return err;
    if (q->uniq && q->out->n) rmq_message_ext_free(q->p, &q->out->msgs[0]);
    q->out->msgs[q->uniq ? 0 : q->out->n] = one;
    if (!q->uniq || !q->out->n) q->out->n++;
    return RMQ_OK;
}

/* QUERY_MESSAGE's answer: stored messages back to back, each checked
 * against what arrived; the header (JSON or binary, whatever the request
 * was) carries indexLastUpdateTimestamp. */
static rmq_err rmq__query_take(rmq__call *call, const rmq_command *resp)
{
    rmq__query_one *one = (rmq__query_one *)call->arg;
    rmq__query *q = one->q;
    rmq_slice ts = rmq_command_ext(resp, "indexLastUpdateTimestamp");
    rmq__stored m;
    size_t at = 0;
    int64_t v;
    rmq_err err;
    if (resp->code != RMQ_CODE_SUCCESS) return RMQ_OK;
    if (ts.ptr && rmq__parse_i64(ts.ptr, ts.len, &v) == 0 && v > q->out->index_last_update_ms)
        q->out->index_last_update_ms = v;
    while (at < resp->body_len) {
        if (rmq__stored_decode(resp->body + at, resp->body_len - at, &m)) {
            rmq__why(&call->why, RMQ_R_STORED_MESSAGES_MALFORMED, (unsigned)at, (unsigned)resp->body_len);
            return RMQ_ERR_PROTOCOL;
        }
        at += (size_t)m.store_size;
        if (!rmq__query_match(q, &m)) continue;
        err = rmq__query_keep(q, &m, one->broker_name);
        if (err != RMQ_OK) return err;
    }
    return RMQ_OK;
}

static int rmq__query_all_done(rmq__inst *in, void *arg)
{
    const rmq__query_one *all = (const rmq__query_one *)arg;
    size_t i;
    (void)in;
    for (i = 0; all[i].q; i++) if (all[i].sent && !all[i].call.done) return 0;
    return 1;
}

/* One address of every broker group of the route (its master when it has
 * one, as BrokerData.selectBrokerAddr), each once; the list ends with a
 * zeroed entry. */
RMQ__FN size_t rmq__query_targets(rmq__inst *in, const rmq__route *rt, rmq__query *q, rmq__query_one *all)
{
    size_t i, k, n = 0;
    for (i = 0; i < rt->nqueues; i++) {
        const rmq__broker *b = &in->brokers[rt->queues[i].broker];
        const char *addr = rmq__broker_master(b);
        if (!addr && b->naddrs) addr = b->addrs[0].addr;
        if (!addr) continue;
        for (k = 0; k < n && rmq__strcmp(all[k].broker_name, b->name) != 0; k++) {}
        if (k < n) continue;
        RMQ_MEMSET(&all[n], 0, sizeof all[n]);
        all[n].q = q;
        all[n].broker_name = b->name;
        all[n].addr = addr;
        n++;
    }
    RMQ_MEMSET(&all[n], 0, sizeof all[n]);
    return n;
}

/* Sends to every broker at once, then runs the loop until each answered
 * or reached its own deadline (Java's CountDownLatch). */
RMQ__FN rmq_err rmq__query_send_all(rmq_producer *p, const rmq__query *q, rmq__query_one *all, int max_num,
                                    int64_t begin_ms, int64_t end_ms)
{
    rmq__inst *in = p->in;
    rmq__rq rq;
    rmq_ext_field f[6];
    char nums[3][RMQ__DEC_MAX];
    size_t i, sent = 0;
    rmq_err err = RMQ_OK;
    /* Java's header, _UNIQUE_KEY_QUERY as a plain ext field at a version
     * whose signature leaves it out */
    rmq__rq_query_message(&rq, f, nums, q->topic, q->key, max_num, begin_ms, end_ms, q->uniq);
    for (i = 0; all[i].q; i++) {
        all[i].call.take = rmq__query_take;
        all[i].call.arg = &all[i];
        all[i].call.err = RMQ_OK;
        all[i].call.code = -1;
        all[i].call.why.code[0] = RMQ_R_NONE;
        err = rmq__invoke(&in->rm, all[i].addr, &rq, NULL, 0, 0, rmq__now(&in->rm) + RMQ__QUERY_TIMEOUT_MS,
                          rmq__call_done, &all[i].call, NULL);
        if (err == RMQ_OK) { all[i].sent = 1; sent++; }
        else { all[i].call.err = err; all[i].call.why = in->rm.why; }
    }
    while (!rmq__query_all_done(in, all)) rmq__run(in, rmq__query_all_done, all, rmq__now(&in->rm) + 1000u, 0);
    return sent ? RMQ_OK : rmq__fail(p, err, RMQ_R_QUERY_NOT_SENT, all[0].addr, &all[0].call.why);
}

/* No message kept: Java's "no message" failure, with what the brokers
 * said. A broker's failure (not QUERY_NOT_FOUND) is named when no broker
 * answered at all. */
RMQ__FN rmq_err rmq__query_none(rmq_producer *p, const rmq__query_one *all)
{
    size_t i;
    for (i = 0; all[i].q; i++) if (all[i].call.err == RMQ_OK) break;
    if (!all[i].q) {
        if (all[0].call.why.code[0])
            return rmq__fail(p, all[0].call.err, RMQ_R_QUERY_FAILED, all[0].addr, &all[0].call.why);
        return rmq__fail(p, all[0].call.err, RMQ_R_QUERY_FAILED_ERR, all[0].addr, rmq_strerror(all[0].call.err));
    }
    for (i = 0; all[i].q; i++)
        if (all[i].call.err == RMQ_OK && all[i].call.code != RMQ_CODE_SUCCESS && all[i].call.code != RMQ_CODE_QUERY_NOT_FOUND)
            return rmq__call_refused(p, &all[i].call, "query message by key finished, but no message; QUERY_MESSAGE", all[i].addr);
    p->last_remark[0] = '\0';
    return rmq__fail(p, RMQ_ERR_BROKER, RMQ_R_QUERY_NOT_FOUND,
                     (int)RMQ_CODE_QUERY_NOT_FOUND);
}

RMQ__FN rmq_err rmq__query_run(rmq_producer *p, rmq__query *q, int max_num, int64_t begin_ms, int64_t end_ms)
{
    rmq__route *rt = NULL;
    rmq__query_one *all;
    rmq_err err = rmq__ns_topic(p, &q->topic);           /* withNamespace(topic) */
    if (err == RMQ_OK) err = rmq__admin_route(p, q->topic, &rt);
    if (err != RMQ_OK) return err;
    all = (rmq__query_one *)RMQ_MALLOC(p->cfg.mem_ctx, (RMQ_MAX_BROKERS + 1) * sizeof *all);
    if (!all) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_QUERY);
    if (!rmq__query_targets(p->in, rt, q, all)) {
        RMQ_FREE(p->cfg.mem_ctx, all);
        return rmq__fail(p, RMQ_ERR_BROKER_NOT_FOUND, RMQ_R_QUERY_NO_BROKER, q->topic);
    }
    err = rmq__query_send_all(p, q, all, max_num, begin_ms, end_ms);
    if (err == RMQ_OK && !q->out->n) err = rmq__query_none(p, all);
    RMQ_FREE(p->cfg.mem_ctx, all);
    if (err != RMQ_OK) rmq_query_result_free(p, q->out);
    return err;
}

RMQDEF void rmq_query_result_free(rmq_producer *p, rmq_query_result *r)
{
    size_t i;
    if (!r) return;
    for (i = 0; p && i < r->n; i++) rmq_message_ext_free(p, &r->msgs[i]);
    if (p && r->msgs) RMQ_FREE(p->cfg.mem_ctx, r->msgs);
    RMQ_MEMSET(r, 0, sizeof *r);
}

/* MessageClientIDSetter.getNearlyTimeFromID: the UNIQ_KEY's milliseconds
 * since the start of the month, in this month unless that is still to
 * come (then the last one). The month is UTC, as the ids are made. */
RMQ__FN int rmq__uniq_time(const char *id, int64_t now_ms, int64_t *out)
{
    uint8_t b[28];
    size_t n = RMQ_STRLEN(id), iplen;
    int64_t start, next, prev_start, span;
    if ((n != 32 && n != 56) || rmq__unhex(id, n, b)) return -1;
    iplen = n == 32 ? 4 : 16;
    span = (int64_t)rmq__be32(b + iplen + 6);
    rmq__month_bounds(now_ms, &start, &next);
    if (start + span >= now_ms) {
        rmq__month_bounds(start - 1, &prev_start, &next);
        start = prev_start;
    }
    *out = start + span;
    return 0;
}


RMQDEF rmq_err rmq_view_message(rmq_producer *p, const char *offset_msg_id, rmq_message_ext *out)
{
    rmq_err err;
    if (out) RMQ_MEMSET(out, 0, sizeof *out);
    RMQ__ADMIN_ENTER(p);
    err = rmq__check_running(p, 1);
    if (err == RMQ_OK && !out) err = rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_OUTPUT_GIVEN);
    if (err == RMQ_OK) err = rmq__view(p, offset_msg_id, out);
    RMQ__ADMIN_LEAVE(p);
    return err;
}

RMQDEF rmq_err rmq_query_message(rmq_producer *p, const char *topic, const char *key, int max_num,
                                 int64_t begin_ms, int64_t end_ms, rmq_query_result *out)
{
    rmq__query q;
    rmq_err err;
    if (out) RMQ_MEMSET(out, 0, sizeof *out);
    RMQ__ADMIN_ENTER(p);
    err = rmq__check_running(p, 1);
    if (err == RMQ_OK && (!out || !key || !*key || max_num <= 0))
        err = rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_QUERY_ARGS_MISSING);
    if (err == RMQ_OK) {
        RMQ_MEMSET(&q, 0, sizeof q);
        q.p = p;
        q.topic = topic;
        q.key = key;
        q.max = (size_t)max_num;
        q.out = out;
        err = rmq__query_run(p, &q, max_num, begin_ms, end_ms);
    }
    RMQ__ADMIN_LEAVE(p);
    return err;
}

/* DefaultMQProducer.viewMessage(topic, msgId): the id as an offset message
 * id first; on any failure, queryMessageByUniqKey. */
RMQ__FN rmq_err rmq__view_by_id(rmq_producer *p, const char *topic, const char *msg_id, rmq_message_ext *out)
{
    rmq_query_result r;
    rmq__query q;
    int64_t nearly;
    rmq_err err;
    if (!out || !msg_id) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_MSG_ID_GIVEN);
    if (rmq__view(p, msg_id, out) == RMQ_OK) return RMQ_OK;
    if (rmq__uniq_time(msg_id, rmq__wall(p->in), &nearly))
        return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_BAD_MSG_ID, msg_id);
    RMQ_MEMSET(&r, 0, sizeof r);
    RMQ_MEMSET(&q, 0, sizeof q);
    q.p = p;
    q.topic = topic;
    q.key = msg_id;
    q.uniq = 1;
    q.max = 1;
    q.out = &r;
    err = rmq__query_run(p, &q, RMQ__UNIQ_QUERY_MAX, nearly - 1000, INT64_MAX);
    if (err != RMQ_OK) return err;
    *out = r.msgs[0];
    RMQ_FREE(p->cfg.mem_ctx, r.msgs);
    return RMQ_OK;
}

RMQDEF rmq_err rmq_view_message_by_id(rmq_producer *p, const char *topic, const char *msg_id, rmq_message_ext *out)
{
    rmq_err err;
    if (out) RMQ_MEMSET(out, 0, sizeof *out);
    RMQ__ADMIN_ENTER(p);
    err = rmq__check_running(p, 1);
    if (err == RMQ_OK) err = rmq__view_by_id(p, topic, msg_id, out);
    RMQ__ADMIN_LEAVE(p);
    return err;
}

#endif

/* ======================================================================== */
/* 15. Request-reply                                                         */
/* ======================================================================== */
#ifndef RMQ_NO_REQUEST
/* DefaultMQProducerImpl.request* with RequestFutureHolder's table, per
 * client instance: a request is a message sent async with CORRELATION_ID,
 * REPLY_TO_CLIENT and TTL; the broker pushes its reply
 * (PUSH_REPLY_MESSAGE_TO_CLIENT) to the connection this client's heartbeat
 * came on. Each waiting request has its own deadline in the timer heap (no
 * 1 s scanner as in Java), and ends once: by its reply, its deadline, its
 * send's failure or its producer's shutdown. */

/* -- the waiting table ---------------------------------------------------- */
typedef struct rmq__waiting {
    rmq__timer timer;             /* first: a timer of kind REPLY is its request */
    struct rmq__waiting *next;    /* in the table, then among the ended */
    rmq__inst *in;
    rmq_producer *p;
    int refs;                     /* the caller's (or the callback's) and the send's */
    uint8_t async, ended, sent;
    rmq_err err;
    rmq_reason why;
    rmq_request_cb cb;
    void *user;
    uint32_t timeout_ms;
    char topic[RMQ_TOPIC_MAX_LEN + 1];
    char corr[37];                /* CORRELATION_ID */
    char ttl[12];
    rmq_message_ext reply;
} rmq__waiting;

static const rmq__reply_hooks *rmq__reply_hooks_get(void);

/* CorrelationIdUtil: UUID.randomUUID().toString(), from the port's entropy. */
RMQ__FN void rmq__uuid(rmq__inst *in, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    int i, o = 0;
    in->port->entropy(in->port->ctx, b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);      /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);      /* IETF variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* The last holder frees it: the caller (or the callback) and the send each
 * hold one reference, since either may outlive the other. */
RMQ__FN void rmq__waiting_release(rmq__waiting *w)
{
    if (--w->refs > 0) return;
    rmq_message_ext_free(w->p, &w->reply);
    RMQ_FREE(w->p->cfg.mem_ctx, w);
}

/* Out of the table, its deadline cancelled: the request ends here, once. A
 * sync caller sees `ended`; an async one's callback is queued. */
RMQ__FN void rmq__waiting_end(rmq__waiting *w, rmq_err err)
{
    rmq__inst *in = w->in;
    rmq__waiting **pp;
    if (w->ended) return;
    for (pp = &in->waiting; *pp; pp = &(*pp)->next)
        if (*pp == w) { *pp = w->next; in->nwaiting--; break; }
    w->next = NULL;
    w->ended = 1;
    w->err = err;
    rmq__timer_cancel(&in->rm, &w->timer);
    if (!w->async) return;
    if (in->rdone_tail) in->rdone_tail->next = w; else in->rdone_head = w;
    in->rdone_tail = w;
}

/* Callbacks of ended async requests, the lock released around each; the
 * reply lives during its callback only. */
RMQ__FN int rmq__reply_fire(rmq__inst *in)
{
    int n = 0;
    while (in->rdone_head) {
        rmq__waiting *w = in->rdone_head;
        rmq_producer *p = w->p;
        in->rdone_head = w->next;
        if (!in->rdone_head) in->rdone_tail = NULL;
        in->in_callback++;
        in->callback_thread = rmq__thread(in);
        rmq__unlock(in);
        w->cb(w->err, w->err == RMQ_OK ? &w->reply : NULL, w->user);
        rmq__lock(in);
        in->in_callback--;
        p->pending--;
        rmq__waiting_release(w);
        n++;
    }
    return n;
}

RMQ__FN void rmq__reply_expired(rmq__inst *in, rmq__timer *t)
{
    rmq__waiting *w = (rmq__waiting *)(void *)t;
    (void)in;
    if (w->sent)
        rmq__why(&w->why, RMQ_R_REQUEST_REPLY_TIMEOUT, w->topic,
                 (unsigned)w->timeout_ms);
    else
        rmq__why(&w->why, RMQ_R_REQUEST_SEND_TIMEOUT,
                 w->topic, (unsigned)w->timeout_ms);
    rmq__waiting_end(w, RMQ_ERR_TIMEOUT);
}

RMQ__FN void rmq__reply_producer_gone(rmq_producer *p)
{
    rmq__inst *in = p->in;
    rmq__waiting *w = in->waiting, *next;
    for (; w; w = next) {
        next = w->next;
        if (w->p != p) continue;
        rmq__why(&w->why, RMQ_R_REQUEST_SHUT_DOWN, w->topic);
        rmq__waiting_end(w, RMQ_ERR_SHUTDOWN);
    }
}

/* -- the reply a broker pushes (ClientRemotingProcessor.receiveReplyMessage) */
/* A header field as a number; absent or not a number: -1. */
static int rmq__reply_num(const rmq_command *req, const char *key, int64_t *out)
{
    rmq_slice v = rmq_command_ext(req, key);
    return v.ptr ? rmq__parse_i64(v.ptr, v.len, out) : -1;
}

/* ReplyMessageRequestHeader into src (the hosts as slices, bh and sh); -1
 * when a field the broker always sends is missing or malformed (Java
 * refuses the header then). */
RMQ__FN int rmq__reply_header(const rmq_command *req, rmq__ext_src *src, rmq_slice *bh, rmq_slice *sh)
{
    int64_t qid, sys, flag, born, store, recons = 0;
    RMQ_MEMSET(src, 0, sizeof *src);
    *bh = rmq_command_ext(req, "bornHost");
    *sh = rmq_command_ext(req, "storeHost");
    src->topic = rmq_command_ext(req, "topic");
    if (!src->topic.ptr || !src->topic.len || !bh->ptr || !sh->ptr || bh->len > RMQ_ADDR_MAX_LEN ||
        sh->len > RMQ_ADDR_MAX_LEN || rmq__reply_num(req, "queueId", &qid) || rmq__reply_num(req, "sysFlag", &sys) ||
        rmq__reply_num(req, "flag", &flag) || rmq__reply_num(req, "bornTimestamp", &born) ||
        rmq__reply_num(req, "storeTimestamp", &store) ||
        (rmq_command_ext(req, "reconsumeTimes").ptr && rmq__reply_num(req, "reconsumeTimes", &recons)) ||
        qid < INT32_MIN || qid > INT32_MAX || sys < INT32_MIN || sys > INT32_MAX || flag < INT32_MIN ||
        flag > INT32_MAX || recons < INT32_MIN || recons > INT32_MAX)
        return -1;
    src->queue_id = (int32_t)qid;
    src->sys_flag = (int32_t)sys;
    src->flag = (int32_t)flag;
    src->born_ts = born;
    src->store_ts = store;
    src->reconsume_times = (int32_t)recons;
    src->props = rmq_command_ext(req, "properties");
    src->body.ptr = (const char *)req->body;
    src->body.len = req->body_len;
    return 0;
}

static rmq__waiting *rmq__waiting_find(rmq__inst *in, rmq_slice corr)
{
    rmq__waiting *w;
    for (w = in->waiting; w && corr.ptr; w = w->next)
        if (rmq__slice_eq(corr, w->corr)) return w;
    return NULL;
}

/* The reply becomes w's message: its properties with ARRIVE_TIME added
 * (as Java adds it), the host texts after them, in one scratch buffer. */
RMQ__FN rmq_err rmq__reply_build(rmq__inst *in, rmq__waiting *w, rmq__ext_src *src, rmq_slice bh, rmq_slice sh)
{
    rmq__buf b;
    char num[24];
    size_t plen;
    rmq_err err = RMQ_ERR_NO_MEMORY;
    rmq__buf_init(&b, w->p->cfg.mem_ctx, src->props.len + 48 + bh.len + sh.len);
    rmq__buf_put(&b, src->props.ptr, src->props.len);
    rmq__prop_put(&b, "ARRIVE_TIME", num, rmq__i64_to_dec(num, rmq__wall(in)));
    plen = b.len;
    rmq__buf_put(&b, bh.ptr, bh.len);
    rmq__buf_putc(&b, '\0');
    rmq__buf_put(&b, sh.ptr, sh.len);
    rmq__buf_putc(&b, '\0');
    if (!b.failed) {
        src->props.ptr = (const char *)b.p;
        src->props.len = plen;
        src->born_host = (const char *)b.p + plen;
        src->store_host = src->born_host + bh.len + 1;
        err = rmq__ext_build(w->p, src, &w->reply);
    }
    rmq__buf_free(&b);
    return err;
}

/* Judges a pushed reply: it completes its waiting request (SUCCESS); one
 * that nothing waits for any more is counted and dropped (SUCCESS too, as
 * Java answers); a header that cannot be read, or a reply that cannot be
 * kept, is refused with SYSTEM_ERROR and the request waits on. */
RMQ__FN int32_t rmq__reply_pushed(rmq__inst *in, const rmq__conn *c, const rmq_command *req, const char **remark)
{
    rmq__ext_src src;
    rmq_slice bh, sh;
    rmq__waiting *w;
    if (rmq__reply_header(req, &src, &bh, &sh) != 0) {
        RMQ__LOG(&in->rm, RMQ_LOG_WARN, "%s pushed a reply with a malformed header: refused", c->addr);
        *remark = "process reply message fail";
        return RMQ_CODE_SYSTEM_ERROR;
    }
    w = rmq__waiting_find(in, rmq__prop_get(src.props, "CORRELATION_ID"));
    if (!w) {
        in->late_replies++;
        RMQ__LOG(&in->rm, RMQ_LOG_WARN, "receive reply message, but not matched any request, reply from host: %S", &bh);
        return RMQ_CODE_SUCCESS;
    }
    if (rmq__reply_build(in, w, &src, bh, sh) != RMQ_OK) {
        *remark = "process reply message fail";
        return RMQ_CODE_SYSTEM_ERROR;
    }
    w->sent = 1;                      /* a reply proves it was */
    rmq__waiting_end(w, RMQ_OK);
    return RMQ_CODE_SUCCESS;
}

static const rmq__reply_hooks *rmq__reply_hooks_get(void)
{
    static const rmq__reply_hooks hooks = {
        rmq__reply_pushed, rmq__reply_expired, rmq__reply_fire, rmq__reply_producer_gone
    };
    return &hooks;
}

/* -- the request --------------------------------------------------------- */
/* The request's send ended (it runs where send callbacks run, unlocked). */
static void rmq__request_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    rmq__waiting *w = (rmq__waiting *)user;
    rmq__inst *in = w->in;
    rmq__lock(in);
    if (err == RMQ_OK) {
        w->sent = 1;
    } else if (!w->ended) {
        rmq__why(&w->why, RMQ_R_REQUEST_SEND_FAILED, w->topic, &res->reason);
        rmq__waiting_end(w, err);
    }
    rmq__waiting_release(w);
    rmq__unlock(in);
}

/* prepareSendRequest: a topic without a route gets it first, then every
 * broker a heartbeat, so that whichever stores the reply knows this
 * client's connection. Not from inside a callback (it would run the loop);
 * what fails here, the send says again. */
RMQ__FN void rmq__request_prepare(rmq_producer *p, const char *topic, uint32_t deadline)
{
    rmq__inst *in = p->in;
    rmq__route *rt;
    if (rmq__in_callback(in) || rmq__ns_topic(p, &topic) != RMQ_OK) return;
    rt = rmq__route_find(in, topic);
    if (rt && rt->state == RMQ__ROUTE_OK) return;
    (void)rmq__route_ready(p, topic, deadline, &rt);
    rmq__heartbeat_all(in);
}

static int rmq__waiting_ended(rmq__inst *in, void *arg) { (void)in; return ((rmq__waiting *)arg)->ended; }

/* A new entry of the waiting table, its deadline armed (the lock held). */
RMQ__FN rmq__waiting *rmq__waiting_new(rmq_producer *p, const char *topic, uint32_t timeout_ms, rmq_request_cb cb,
                                       void *user)
{
    rmq__inst *in = p->in;
    rmq__waiting *w = (rmq__waiting *)RMQ_MALLOC(p->cfg.mem_ctx, sizeof *w);
    if (!w) return NULL;
    RMQ_MEMSET(w, 0, sizeof *w);
    in->reply_hooks = rmq__reply_hooks_get();
    w->timer.pos = -1;
    w->timer.kind = RMQ__TIMER_REPLY;
    w->in = in;
    w->p = p;
    w->refs = 2;
    w->cb = cb;
    w->user = user;
    w->timeout_ms = timeout_ms;
    rmq__strlcpy(w->topic, topic, sizeof w->topic);
    rmq__uuid(in, w->corr);
    w->ttl[rmq__u64_to_dec(w->ttl, timeout_ms)] = '\0';
    w->next = in->waiting;
    in->waiting = w;
    in->nwaiting++;
    rmq__timer_arm(&in->rm, &w->timer, rmq__now(&in->rm) + timeout_ms);
    return w;
}

/* The request's send, async with the rest of its time, its three
 * properties added (they pass no user check: they are the system's). */
RMQ__FN rmq_err rmq__request_send(rmq_producer *p, rmq__waiting *w, rmq__send_args *a)
{
    rmq__inst *in = p->in;
    uint32_t left = w->timer.at - rmq__now(&in->rm);
    rmq__buf b;
    rmq_err err;
    rmq__buf_init(&b, p->cfg.mem_ctx, 256 + RMQ_CLIENT_ID_MAX_LEN);
    rmq__prop_put(&b, "CORRELATION_ID", w->corr, RMQ_STRLEN(w->corr));
    rmq__prop_put(&b, "REPLY_TO_CLIENT", in->client_id, RMQ_STRLEN(in->client_id));
    rmq__prop_put(&b, "TTL", w->ttl, RMQ_STRLEN(w->ttl));
    if (b.failed) { rmq__buf_free(&b); return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_REQUEST); }
    a->cb = rmq__request_sent;
    a->user = w;
    a->timeout_ms = left > 0 && left <= w->timeout_ms ? left : 1;
    a->held = 1;
    p->request_props.ptr = (const char *)b.p;
    p->request_props.len = b.len;
    err = rmq__send(p, a);
    p->request_props.len = 0;
    rmq__buf_free(&b);
    return err;
}

/* A sync request's end: the reply moves to the caller. */
RMQ__FN rmq_err rmq__request_wait(rmq_producer *p, rmq__waiting *w, rmq_message_ext *reply)
{
    rmq_err err;
    while (!w->ended) rmq__run(p->in, rmq__waiting_ended, w, rmq__now(&p->in->rm) + 1000u, 0);
    err = w->err;
    if (err == RMQ_OK) {
        *reply = w->reply;
        RMQ_MEMSET(&w->reply, 0, sizeof w->reply);
    } else {
        rmq__fail_why(p, err, &w->why);
    }
    rmq__waiting_release(w);
    return err;
}

/* One request, every variant: a is the send (its target, queue or
 * selector); cb NULL makes it sync into *reply. The lock is held. An
 * async request turns async only once its send is accepted: until then
 * it ends without a callback. */
RMQ__FN rmq_err rmq__request_locked(rmq_producer *p, rmq__send_args *a, rmq_request_cb cb, void *user,
                                    rmq_message_ext *reply)
{
    rmq__waiting *w;
    rmq_err err = rmq__check_running(p, cb == NULL);
    if (err != RMQ_OK) return err;
    if (!cb && !reply) return rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_REPLY_GIVEN);
    if (!a->msgs) return rmq__fail(p, RMQ_ERR_MESSAGE, RMQ_R_MESSAGE_NULL);
    if (reply) RMQ_MEMSET(reply, 0, sizeof *reply);
    err = rmq__check_message(p, a->msgs);
    if (err != RMQ_OK) return err;
    if (cb && p->pending >= p->cfg.max_pending)
        return rmq__fail(p, RMQ_ERR_BUSY, RMQ_R_MAX_PENDING, (unsigned)p->pending);
    if (p->in->nwaiting >= RMQ_MAX_REQUESTS)
        return rmq__fail(p, RMQ_ERR_LIMIT, RMQ_R_MAX_REQUESTS,
                         (unsigned)p->in->nwaiting, RMQ_MAX_REQUESTS);
    w = rmq__waiting_new(p, a->msgs->topic, a->timeout_ms ? a->timeout_ms : p->cfg.send_timeout_ms, cb, user);
    if (!w) return rmq__fail(p, RMQ_ERR_NO_MEMORY, RMQ_R_NO_MEMORY_REQUEST);
    rmq__request_prepare(p, w->topic, w->timer.at);
    err = w->ended ? w->err : rmq__request_send(p, w, a);
    if (err != RMQ_OK) {                 /* refused at once: no callback */
        if (w->ended) rmq__fail_why(p, err, &w->why);     /* it ended while it waited for the route */
        rmq__waiting_end(w, err);
        w->refs = 1;
        rmq__waiting_release(w);
        return err;
    }
    if (!cb) return rmq__request_wait(p, w, reply);
    w->async = 1;
    p->pending++;
    return RMQ_OK;
}

RMQ__FN rmq_err rmq__request(rmq_producer *p, rmq__send_args *a, rmq_request_cb cb, void *user,
                             rmq_message_ext *reply)
{
    rmq_err err;
    if (!p || !p->in || (!RMQ__THREADS && p->state != RMQ_STATE_RUNNING)) return rmq__check_running(p, 0);
    rmq__lock(p->in);
    rmq__call_begin(p);
    err = rmq__request_locked(p, a, cb, user, reply);
    if (cb) rmq__nudge_leader(p->in);
    rmq__call_end(p);
    rmq__unlock(p->in);
    return err;
}

static rmq_err rmq__request_cb_missing(rmq_producer *p)
{
    return p ? rmq__fail(p, RMQ_ERR_INVALID_ARG, RMQ_R_NO_CALLBACK_GIVEN) : RMQ_ERR_INVALID_ARG;
}

RMQDEF rmq_err rmq_request(rmq_producer *p, const rmq_message *m, uint32_t timeout_ms, rmq_message_ext *reply)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, m, 1);
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, NULL, NULL, reply);
}

RMQDEF rmq_err rmq_request_async(rmq_producer *p, const rmq_message *m, uint32_t timeout_ms, rmq_request_cb cb,
                                 void *user)
{
    rmq__send_args a;
    if (!cb) return rmq__request_cb_missing(p);
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, m, 1);
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, cb, user, NULL);
}

#ifndef RMQ_NO_SELECTOR
RMQDEF rmq_err rmq_request_select(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel, void *arg,
                                  uint32_t timeout_ms, rmq_message_ext *reply)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_SELECT, m, 1);
    a.sel = sel;
    a.sel_arg = arg;
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, NULL, NULL, reply);
}

RMQDEF rmq_err rmq_request_select_async(rmq_producer *p, const rmq_message *m, rmq_queue_selector sel, void *arg,
                                        uint32_t timeout_ms, rmq_request_cb cb, void *user)
{
    rmq__send_args a;
    if (!cb) return rmq__request_cb_missing(p);
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_SELECT, m, 1);
    a.sel = sel;
    a.sel_arg = arg;
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, cb, user, NULL);
}

RMQDEF rmq_err rmq_request_to_queue(rmq_producer *p, const rmq_message *m, const rmq_queue *q, uint32_t timeout_ms,
                                    rmq_message_ext *reply)
{
    rmq__send_args a;
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_QUEUE, m, 1);
    a.queue = q;
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, NULL, NULL, reply);
}

RMQDEF rmq_err rmq_request_to_queue_async(rmq_producer *p, const rmq_message *m, const rmq_queue *q,
                                          uint32_t timeout_ms, rmq_request_cb cb, void *user)
{
    rmq__send_args a;
    if (!cb) return rmq__request_cb_missing(p);
    rmq__args(&a, RMQ__MODE_ASYNC, RMQ__TARGET_QUEUE, m, 1);
    a.queue = q;
    a.timeout_ms = timeout_ms;
    return rmq__request(p, &a, cb, user, NULL);
}
#endif
#endif

/* ======================================================================== */
/* 16. Message trace                                                         */
/* ======================================================================== */
/* AsyncTraceDispatcher and the trace hooks of Java 4.9.8: a record for each
 * answered send and each transaction's end, encoded as TraceDataEncoder
 * writes it, gathered into trace messages that an inner producer sends
 * asynchronously from the loop. The inner producer joins its host's client
 * instance rather than a client instance of its own, so that the host's
 * loop (poll, flush, any blocking call) carries the trace sends: there are
 * no threads inside. It has no hooks, so it never traces itself. */
#ifndef RMQ_NO_TRACE

/* -- the records (TraceDataEncoder) ------------------------------------- */
enum { RMQ__TRACE_PUB = 0, RMQ__TRACE_END_TX };
/* MessageType ordinals */
enum { RMQ__MSG_NORMAL = 0, RMQ__MSG_TRANS_HALF = 1, RMQ__MSG_TRANS_COMMIT = 2, RMQ__MSG_DELAY = 3 };

/* A TraceContext with its one TraceBean; a field without ptr is Java's
 * null, written as the text "null". */
typedef struct rmq__trace_rec {
    int type;
    int64_t timestamp_ms;
    rmq_slice region, group, topic, msg_id, tags, keys, store_host, offset_msg_id, transaction_id;
    uint32_t body_len;
    int32_t cost_ms;
    int msg_type;
    int success;
    rmq_transaction_state state;
    int from_check;
} rmq__trace_rec;

#define RMQ__TRACE_CONTENT '\001'    /* TraceConstants.CONTENT_SPLITOR */
#define RMQ__TRACE_FIELD '\002'      /* TraceConstants.FIELD_SPLITOR: ends a record */

static void rmq__trace_text(rmq__buf *b, rmq_slice v, char end)
{
    if (v.ptr) rmq__buf_put(b, v.ptr, v.len); else rmq__buf_put(b, "null", 4);
    rmq__buf_putc(b, end);
}

static void rmq__trace_dec(rmq__buf *b, int64_t v, char end)
{
    char num[24];
    rmq__buf_put(b, num, rmq__i64_to_dec(num, v));
    rmq__buf_putc(b, end);
}

static const char *rmq__trace_state_name(rmq_transaction_state st)
{
    return st == RMQ_TX_COMMIT ? "COMMIT_MESSAGE" : st == RMQ_TX_ROLLBACK ? "ROLLBACK_MESSAGE" : "UNKNOW";
}

/* The fields both kinds start with: type, time, region, group, then the
 * bean's topic, msgId, tags, keys and store host. */
static void rmq__trace_head(rmq__buf *b, const rmq__trace_rec *r)
{
    rmq__buf_puts(b, r->type == RMQ__TRACE_PUB ? "Pub" : "EndTransaction");
    rmq__buf_putc(b, RMQ__TRACE_CONTENT);
    rmq__trace_dec(b, r->timestamp_ms, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->region, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->group, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->topic, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->msg_id, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->tags, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->keys, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->store_host, RMQ__TRACE_CONTENT);
}

/* One record, appended to b in Java's field order (encoderFromContextBean). */
RMQ__FN void rmq__trace_encode(rmq__buf *b, const rmq__trace_rec *r)
{
    rmq__trace_head(b, r);
    if (r->type == RMQ__TRACE_PUB) {
        rmq__trace_dec(b, r->body_len, RMQ__TRACE_CONTENT);
        rmq__trace_dec(b, r->cost_ms, RMQ__TRACE_CONTENT);
        rmq__trace_dec(b, r->msg_type, RMQ__TRACE_CONTENT);
        rmq__trace_text(b, r->offset_msg_id, RMQ__TRACE_CONTENT);
        rmq__trace_text(b, rmq__cslice(r->success ? "true" : "false"), RMQ__TRACE_FIELD);
        return;
    }
    rmq__trace_dec(b, r->msg_type, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, r->transaction_id, RMQ__TRACE_CONTENT);
    rmq__trace_text(b, rmq__cslice(rmq__trace_state_name(r->state)), RMQ__TRACE_CONTENT);
    rmq__trace_text(b, rmq__cslice(r->from_check ? "true" : "false"), RMQ__TRACE_FIELD);
}

/* Java's getTags()/getKeys(): null when the message has none. */
static rmq_slice rmq__trace_opt(const char *s)
{
    rmq_slice v;
    v.ptr = s && *s ? s : NULL;
    v.len = v.ptr ? RMQ_STRLEN(s) : 0;
    return v;
}

/* -- the dispatcher (AsyncTraceDispatcher) ------------------------------- */
/* The keys of a trace message (the traced msgIds and their user keys) stay
 * well inside the broker's 32767-byte property string. */
#define RMQ__TRACE_KEYS_BYTES 16000u

typedef struct rmq__tracer {
    rmq__hook_timer timer;       /* first: the age of the oldest record */
    rmq_producer *host, *tp;     /* the traced producer and the inner one */
    char topic[RMQ_TOPIC_MAX_LEN + 1];
    rmq__buf data, keys;         /* the trace message being gathered */
    rmq__buf ids;                /* a batch's msgIds and offsetMsgIds, joined */
    uint32_t nrecords;
    uint32_t inflight_bytes;     /* of trace messages not yet answered */
    int stopped;
    /* The record being made and the inner producer's group: here, not on
     * the stack of a send's completion or of start, whose depth is
     * bounded (tools/size-budget.txt). */
    rmq__trace_rec rec;
    char group[RMQ_GROUP_MAX_LEN + 64];
    rmq_message msg;             /* a trace message and its send, built by the flush */
    rmq__send_args args;
} rmq__tracer;

/* One trace message in flight: what its answer settles. */
typedef struct rmq__trace_batch {
    rmq__tracer *t;
    uint32_t records, bytes;
} rmq__trace_batch;

/* Lock released, as every callback: the counters are the host's. */
static void rmq__trace_answered(rmq_err err, const rmq_send_result *res, void *user)
{
    rmq__trace_batch *b = (rmq__trace_batch *)user;
    rmq__tracer *t = b->t;
    rmq__inst *in = t->tp->in;
    (void)res;
    rmq__lock(in);
    if (err == RMQ_OK) t->host->trace_sent += b->records; else t->host->trace_dropped += b->records;
    t->inflight_bytes -= b->bytes;
    rmq__unlock(in);
    RMQ_FREE(t->host->cfg.mem_ctx, b);
}

static void rmq__trace_reset(rmq__tracer *t)
{
    t->data.len = t->keys.len = 0;
    t->data.failed = t->keys.failed = 0;
    t->nrecords = 0;
    rmq__timer_cancel(&t->tp->in->rm, &t->timer.t);
}

/* AsyncDataSendTask: the gathered records leave as one async send of the
 * inner producer (the lock held); a send refused drops them, counted. */
RMQ__FN void rmq__trace_flush(rmq__tracer *t)
{
    rmq__trace_batch *b;
    if (!t->nrecords) return;
    b = (rmq__trace_batch *)RMQ_MALLOC(t->host->cfg.mem_ctx, sizeof *b);
    rmq__buf_putc(&t->keys, 0);
    rmq_message_init(&t->msg, t->topic, t->data.p, t->data.len);
    t->msg.keys = t->keys.failed ? NULL : (const char *)t->keys.p;
    rmq__args(&t->args, RMQ__MODE_ASYNC, RMQ__TARGET_DEFAULT, &t->msg, 1);
    t->args.cb = rmq__trace_answered;
    t->args.user = b;
    if (!b || rmq__send_locked(t->tp, &t->args) != RMQ_OK) {
        t->host->trace_dropped += t->nrecords;
        if (b) RMQ_FREE(t->host->cfg.mem_ctx, b);
    } else {
        b->t = t;
        b->records = t->nrecords;
        b->bytes = (uint32_t)t->data.len;
        t->inflight_bytes += b->bytes;
        rmq__nudge_leader(t->tp->in);
    }
    rmq__trace_reset(t);
}

static void rmq__trace_timer_fired(rmq__hook_timer *timer)
{
    rmq__trace_flush((rmq__tracer *)(void *)timer);
}

/* Adds key to the space-separated set unless it is there (Java's HashSet
 * of keys); one that does not fit is left out. */
static void rmq__trace_key(rmq__buf *keys, const char *k, size_t n)
{
    size_t at = 0;
    while (at < keys->len) {
        size_t end = at;
        while (end < keys->len && keys->p[end] != ' ') end++;
        if (end - at == n && RMQ_MEMCMP(keys->p + at, k, n) == 0) return;
        at = end + 1;
    }
    if (keys->len + n + 1 > RMQ__TRACE_KEYS_BYTES) return;
    if (keys->len) rmq__buf_putc(keys, ' ');
    rmq__buf_put(keys, k, n);
}

static void rmq__trace_keys(rmq__buf *keys, rmq_slice msg_id, rmq_slice user_keys)
{
    size_t at = 0;
    if (msg_id.ptr) rmq__trace_key(keys, msg_id.ptr, msg_id.len);
    while (user_keys.ptr && at < user_keys.len) {
        size_t end = at;
        while (end < user_keys.len && user_keys.ptr[end] != ' ') end++;
        if (end > at) rmq__trace_key(keys, user_keys.ptr + at, end - at);
        at = end + 1;
    }
}

/* TraceDispatcher.append: the record joins the trace message being
 * gathered, or is dropped (counted) when the bound is reached; nothing of
 * it reaches the send it describes. */
RMQ__FN void rmq__trace_append(rmq__tracer *t, const rmq__trace_rec *r)
{
    rmq__inst *in = t->host->in;
    size_t mark;
    if (t->stopped) { t->host->trace_dropped++; return; }
    if (t->nrecords && t->keys.len + r->msg_id.len + r->keys.len + 2 > RMQ__TRACE_KEYS_BYTES) rmq__trace_flush(t);
    mark = t->data.len;
    rmq__trace_encode(&t->data, r);
    if (t->data.failed || t->data.len + t->inflight_bytes > RMQ_TRACE_MAX_PENDING_BYTES) {
        t->data.len = mark;
        t->data.failed = 0;
        t->host->trace_dropped++;
        return;
    }
    rmq__trace_keys(&t->keys, r->msg_id, r->keys);
    if (t->nrecords++ == 0) rmq__timer_arm(&in->rm, &t->timer.t, rmq__now(&in->rm) + RMQ_TRACE_WAIT_MS);
    if (t->data.len >= RMQ_TRACE_BATCH_BYTES) rmq__trace_flush(t);
}

/* -- the hooks (SendMessageTraceHookImpl, EndTransactionTraceHookImpl) --- */
/* Delay_Msg when DELAY or __STARTDELIVERTIME is set, else Trans_Msg_Half
 * for a half message, else Normal_Msg (sendKernelImpl's order). */
static int rmq__trace_msg_type(rmq_slice props)
{
    if (rmq__prop_get(props, "DELAY").ptr || rmq__prop_get(props, "__STARTDELIVERTIME").ptr) return RMQ__MSG_DELAY;
    if (rmq__slice_eq(rmq__prop_get(props, "TRAN_MSG"), "true")) return RMQ__MSG_TRANS_HALF;
    return RMQ__MSG_NORMAL;
}

/* A batch's msgId and offsetMsgId are its messages' joined by commas, as
 * Java's SendResult has them. */
static void rmq__trace_batch_ids(rmq__tracer *t, const rmq__op *op, rmq_slice *msg_id, rmq_slice *offset_id)
{
    size_t i, mid;
    t->ids.len = 0;
    t->ids.failed = 0;
    for (i = 0; i < op->nmsgs; i++) {
        if (i) rmq__buf_putc(&t->ids, ',');
        rmq__buf_puts(&t->ids, op->res[i].msg_id);
    }
    mid = t->ids.len;
    for (i = 0; i < op->nmsgs; i++) {
        if (i) rmq__buf_putc(&t->ids, ',');
        rmq__buf_puts(&t->ids, op->res[i].offset_msg_id);
    }
    if (t->ids.failed) { msg_id->ptr = offset_id->ptr = NULL; msg_id->len = offset_id->len = 0; return; }
    msg_id->ptr = (const char *)t->ids.p;
    msg_id->len = mid;
    offset_id->ptr = (const char *)t->ids.p + mid;
    offset_id->len = t->ids.len - mid;
}

/* A name of the host as its application wrote it: records carry the
 * topic and group without the namespace (Java's withoutNamespace). A
 * producer's topics and group have no retry prefix, so the namespace leads
 * the name; the slice points past it, and nothing is copied. */
static rmq_slice rmq__trace_bare(const rmq__tracer *t, const char *name)
{
    rmq_slice r = rmq__cslice(name);
#ifndef RMQ_NO_NAMESPACE
    size_t k = RMQ_STRLEN(t->host->ns);
    if (k && r.len > k && RMQ_MEMCMP(name, t->host->ns, k) == 0 && name[k] == '%') {
        r.ptr += k + 1;
        r.len -= k + 1;
    }
#else
    (void)t;
#endif
    return r;
}

static void rmq__trace_sent(void *arg, const rmq__op *op, const char *broker_addr)
{
    rmq__tracer *t = (rmq__tracer *)arg;
    rmq__inst *in = t->host->in;
    const rmq_send_result *res = op->res;
    uint32_t cost = rmq__now(&in->rm) - op->attempt_start;
    rmq__trace_rec *r = &t->rec;
    rmq_slice props;
    if (!res || rmq__starts_with(op->queue.topic, t->topic) || !res->trace_on) return;
    props.ptr = (const char *)op->props.p;
    props.len = op->props.len;
    RMQ_MEMSET(r, 0, sizeof *r);
    r->type = RMQ__TRACE_PUB;
    r->timestamp_ms = rmq__wall(in) - (int64_t)cost;
    r->region = rmq__cslice(res->region_id);
    r->group = rmq__trace_bare(t, t->host->cfg.group);
    r->topic = rmq__trace_bare(t, op->queue.topic);
    r->tags = rmq__prop_get(props, "TAGS");     /* a batch has neither: null */
    r->keys = rmq__prop_get(props, "KEYS");
    r->store_host = rmq__cslice(broker_addr);
    r->body_len = (uint32_t)op->body.len;
    r->cost_ms = (int32_t)cost;
    r->msg_type = rmq__trace_msg_type(props);
    r->success = res->status == RMQ_SEND_OK;
    if (op->nmsgs > 1 || op->batch) {
        rmq__trace_batch_ids(t, op, &r->msg_id, &r->offset_msg_id);
    } else {
        r->msg_id = rmq__cslice(res->msg_id);
        r->offset_msg_id = rmq__cslice(res->offset_msg_id);
    }
    rmq__trace_append(t, r);
}

static void rmq__trace_tx_ended(void *arg, const rmq__tx_end *e)
{
    rmq__tracer *t = (rmq__tracer *)arg;
    rmq__trace_rec *r = &t->rec;
    if (rmq__starts_with(e->topic, t->topic)) return;
    RMQ_MEMSET(r, 0, sizeof *r);
    r->type = RMQ__TRACE_END_TX;
    r->timestamp_ms = rmq__wall(t->host->in);
    r->region = e->region.ptr && e->region.len ? e->region : rmq__cslice("DefaultRegion");
    r->group = rmq__trace_bare(t, t->host->cfg.group);
    r->topic = rmq__trace_bare(t, e->topic);
    r->msg_id = rmq__cslice(e->msg_id);
    r->tags = rmq__trace_opt(e->tags);
    r->keys = rmq__trace_opt(e->keys);
    r->store_host = rmq__cslice(e->broker_addr);
    r->msg_type = RMQ__MSG_TRANS_COMMIT;
    r->transaction_id = rmq__trace_opt(e->transaction_id);
    r->state = e->state;
    r->from_check = e->from_check;
    rmq__trace_append(t, r);
}

/* First in the host's shutdown: what is gathered leaves, the inner
 * producer gets RMQ_TRACE_FLUSH_MS to see it answered (Java's flush), then
 * shuts down; records after this are dropped. */
static void rmq__trace_stopping(rmq_producer *host, void *arg)
{
    rmq__tracer *t = (rmq__tracer *)arg;
    (void)host;
    rmq__inst *in = t->host->in;
    rmq__lock(in);
    if (t->stopped || t->host->state != RMQ_STATE_RUNNING || rmq__in_callback(in)) { rmq__unlock(in); return; }
    t->stopped = 1;
    rmq__trace_flush(t);
    rmq__unlock(in);
    rmq_producer_flush(t->tp, RMQ_TRACE_FLUSH_MS);
    rmq_producer_shutdown(t->tp);
}

static void rmq__trace_freed(rmq_producer *host, void *arg)
{
    rmq__tracer *t = (rmq__tracer *)arg;
    (void)host;
    void *mem = t->host->cfg.mem_ctx;
    t->host->hook = NULL;
    rmq_producer_destroy(t->tp);
    rmq__buf_free(&t->data);
    rmq__buf_free(&t->keys);
    rmq__buf_free(&t->ids);
    RMQ_FREE(mem, t);
}

/* _INNER_TRACE_PRODUCER-<group>-PRODUCE-<n>, n counting the dispatchers
 * of the process (Java's COUNTER), the group as the application named it. */
static void rmq__trace_group(rmq__tracer *t)
{
    static uint32_t counter;
    rmq__sb b;
    char num[24];
    rmq_slice group = rmq__trace_bare(t, t->host->cfg.group);
    rmq__sb_init(&b, t->group, sizeof t->group);
    rmq__sb_puts(&b, "_INNER_TRACE_PRODUCER-");
    rmq__sb_putn(&b, group.ptr, group.len);
    rmq__sb_puts(&b, "-PRODUCE-");
    rmq__sb_putn(&b, num, rmq__u64_to_dec(num, ++counter));
}

/* The inner producer is a new DefaultMQProducer of its own group (Java's
 * defaults, sendMsgTimeout 5000, maxMessageSize 128000, no VIP channel)
 * on the host's name servers, port and client id. */
static rmq_producer *rmq__trace_producer(rmq__tracer *t)
{
    const rmq_producer *p = t->host;
    rmq_producer_config cfg;
    rmq_producer *tp = NULL;
    rmq__trace_group(t);
    rmq_producer_config_init(&cfg);
    cfg.group = t->group;
    cfg.namesrv_addr = p->cfg.namesrv_addr;
    cfg.instance_name = p->cfg.instance_name;
    cfg.unit_name = p->cfg.unit_name;
    cfg.addr_server_url = p->cfg.addr_server_url;
    cfg.port = p->cfg.port;
    cfg.mem_ctx = p->cfg.mem_ctx;
    cfg.rpc_hook = p->cfg.rpc_hook;
    cfg.serialize = p->cfg.serialize;
    cfg.language = p->cfg.language;
    cfg.send_timeout_ms = 5000;
    cfg.max_message_size = 128000;
    if (rmq_producer_create(&cfg, &tp) != RMQ_OK) return NULL;
    if (rmq__producer_start(tp) != RMQ_OK) {
        RMQ__LOG(&p->in->rm, RMQ_LOG_WARN, "message trace is off: %s", rmq_producer_last_error(tp));
        rmq_producer_destroy(tp);
        return NULL;
    }
    return tp;
}

/* Registers the hooks on p, as Java's DefaultMQProducer does when
 * enableMsgTrace is set; a trace that cannot start leaves p untraced (Java
 * logs it too). */
RMQ__FN void rmq__trace_attach(rmq_producer *p)
{
    static const rmq__send_hook hook = { rmq__trace_sent, rmq__trace_tx_ended, rmq__trace_stopping, rmq__trace_freed };
    void *mem = p->cfg.mem_ctx;
    rmq__tracer *t = (rmq__tracer *)RMQ_MALLOC(mem, sizeof *t);
    if (!t) return;
    RMQ_MEMSET(t, 0, sizeof *t);
    t->timer.t.pos = -1;
    t->timer.t.kind = RMQ__TIMER_HOOK;
    t->timer.fire = rmq__trace_timer_fired;
    t->host = p;
    rmq__strlcpy(t->topic, p->cfg.trace_topic && *p->cfg.trace_topic ? p->cfg.trace_topic : RMQ_SYS_TRACE_TOPIC,
                 sizeof t->topic);
    rmq__buf_init(&t->data, mem, RMQ_TRACE_MAX_PENDING_BYTES);
    rmq__buf_init(&t->keys, mem, RMQ__TRACE_KEYS_BYTES + 1);
    rmq__buf_init(&t->ids, mem, RMQ_PROPERTIES_MAX_BYTES);
    t->tp = rmq__trace_producer(t);
    if (!t->tp) { RMQ_FREE(mem, t); return; }
    rmq__lock(p->in);
    p->hook = &hook;
    p->hook_arg = t;
    rmq__unlock(p->in);
}

#endif /* RMQ_NO_TRACE */

#endif /* ROCKETMQ_PRODUCER_IMPLEMENTATION */

/*
 * LICENCE
 *
 * Copyright (c) 2026 the rocketmq_producer.h authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License"); you may not
 * use this file except in compliance with the License. You may obtain a copy
 * of the License at http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 */
