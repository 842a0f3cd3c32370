/* mb_app.h - state of the mock process: simulated servers, connections,
 * timers, the message store and the logs the control port reports. */
#ifndef MB_APP_H
#define MB_APP_H

#include <stddef.h>
#include <stdint.h>

#include "mb_codec.h"
#include "mb_util.h"

#define MB_CLUSTER "DefaultCluster"
#define MB_REGION "DefaultRegion"
#define MB_DEFAULT_TOPIC "TBW102"
#define MB_HALF_TOPIC "RMQ_SYS_TRANS_HALF_TOPIC"
#define MB_LOCALHOST 0x7F000001u
#define MB_MAX_BODY 4194304
#define MB_MAX_PROPS 32767
/* Message bodies are carved from chunks this large (larger ones get their own). */
#define MB_STORE_CHUNK (1u << 20)

enum { ROUTE_AUTO, ROUTE_STANDARD, ROUTE_FASTJSON };
enum { PERM_INHERIT = 1, PERM_WRITE = 2, PERM_READ = 4 };
enum { TRAN_NONE, TRAN_PREPARED, TRAN_COMMIT, TRAN_ROLLBACK, TRAN_UNKNOWN };

typedef struct mb_options {
    int nnamesrv;
    int nbrokers;
    int ns_port;
    int broker_port;
    int control_port;
    int http_port;
    int queues;
    const char **topics;
    size_t ntopics;
    const char **hidden;
    size_t nhidden;
    int autocreate;
    int route_json;
    int exit_on_eof;
    int quiet;
    int request_log;
} mb_options;

/* ERROR rule: the next `count` requests with req_code (-1 = any) are
 * answered with resp_code instead of being processed; count -1 = forever. */
typedef struct mb_err_rule {
    int req_code;
    int resp_code;
    int count;
    char *remark;
} mb_err_rule;

typedef struct mb_topic {
    char *name;
    int read_queues;
    int write_queues;
    int perm;
    int64_t *next_offset; /* next logical offset per queue id */
} mb_topic;

typedef struct mb_server {
    int index;
    int is_broker;
    char name[32];
    int port;
    int lfd; /* -1 while DOWN */
    int vip_lfd; /* a broker's VIP (fast) port, port - 2, when it was free; else -1 */
    int hidden;
    /* fault injection */
    mb_err_rule *rules;
    size_t nrules;
    int delay_ms;
    int silent_left;
    int silent_process;
    int64_t cut_next;  /* byte budget for the next accepted connection, -1 none */
    int64_t huge_next; /* body size for the next response, -1 none */
    /* broker state */
    mb_topic *topics;
    size_t ntopics;
    mb_map topic_index;
    size_t last_topic;  /* index of the topic found last: sends repeat it */
    int64_t commit_offset;
    int64_t half_offset;
    unsigned rr;        /* queue choice when a client sends queueId < 0 */
    size_t *msg_idx;    /* this broker's messages, ascending commit offset */
    size_t nmsg_idx, msg_idx_cap;
    int respond;          /* RESPOND: act for a responder (mb_reply.c) */
    int respond_delay_ms;
} mb_server;

enum { CONN_REMOTING, CONN_CONTROL, CONN_HTTP };

typedef struct mb_conn {
    int in_use;
    size_t slot;
    unsigned gen; /* bumped on close so stale references can be detected */
    int fd;
    int kind;
    mb_server *srv;
    int32_t peer_port;
    mb_buf in;
    mb_buf out;
    size_t out_pos;
    int64_t cut_left; /* bytes still accepted before a CUT closes it, -1 none */
    int close_after_flush;
} mb_conn;

typedef struct mb_conn_ref {
    size_t slot;
    unsigned gen;
} mb_conn_ref;

typedef struct mb_timer {
    int64_t due;
    uint64_t seq;
    mb_conn_ref ref;
    unsigned char *data;
    size_t len;
} mb_timer;

/* A stored message. Strings and body live in the store's arena; what a
 * commit log would hold beyond them (stored properties, record, offset
 * message id) is derived when asked for. */
typedef struct mb_msg {
    const char *topic;          /* the broker's topic name; topics are never removed */
    const char *producer_group; /* NULL when absent */
    const char *props;          /* as the client sent them (batch: with the batch-level string) */
    const unsigned char *body;
    int64_t queue_offset;
    int64_t commit_offset;
    int64_t born_ts;
    int64_t store_ts;
    uint32_t props_len;
    uint32_t inner_len;         /* batch member: length of its own part of props */
    uint32_t body_len;
    uint32_t stored_size;
    int32_t queue_id;
    int32_t flag;
    int32_t sys_flag;
    int32_t born_port;
    int32_t reconsume_times;
    int code;
    unsigned char broker;
    unsigned char ser;
    unsigned char tran_state;
    unsigned char batch;
} mb_msg;

/* One log line plus the server it concerns (for filtering). */
typedef struct mb_line {
    int srv;
    char *text;
} mb_line;

typedef struct mb_lines {
    mb_line *v;
    size_t n;
    size_t cap;
} mb_lines;

/* Latest connection that heartbeated a producer group on a broker: where
 * CHECK_TRANSACTION_STATE requests are sent, as ProducerManager does. */
typedef struct mb_reg {
    int srv;
    char *group;
    char *client_id;
    mb_conn_ref ref;
} mb_reg;

typedef struct mb_app {
    mb_options opt;
    mb_server *servers; /* name servers first, then brokers */
    size_t nservers;
    size_t nns;
    int ctl_lfd, ctl_port;
    int http_lfd, http_port;
    mb_conn **conns; /* slots, individually allocated so pointers stay valid */
    size_t nconns;
    size_t *free_slots;
    size_t nfree;
    mb_timer *timers; /* binary min-heap on (due, seq) */
    size_t ntimers, timers_cap;
    uint64_t timer_seq;
    mb_msg *msgs;
    size_t nmsgs, msgs_cap;
    mb_arena store; /* the messages' strings and bodies */
    mb_lines requests;
    mb_lines clients;
    mb_lines transactions;
    mb_lines replies;   /* pushed replies and the clients' answers (REPLIES) */
    mb_reg *regs;
    size_t nregs;
    char *nsaddr;   /* what the HTTP address server returns */
    char *ready_ns; /* the namesrv list of the READY line */
    volatile int quit;
} mb_app;

/* ---- mb_net.c ---- */
/* SIGTERM/SIGINT end the loop cleanly; install before announcing READY. */
void mb_install_signals(void);
int mb_listen(int port, int *bound_port);
mb_conn *mb_conn_get(mb_app *app, mb_conn_ref ref);
mb_conn_ref mb_conn_ref_of(const mb_conn *c);
void mb_conn_close(mb_app *app, mb_conn *c);
/* Queues bytes; they leave at the next mb_conn_flush (or when writable). */
void mb_conn_write(mb_conn *c, const void *data, size_t len);
void mb_conn_flush(mb_app *app, mb_conn *c);
void mb_timer_add(mb_app *app, int64_t due, mb_conn_ref ref, const void *data, size_t len);
int mb_server_up(mb_app *app, mb_server *s);
void mb_server_down(mb_app *app, mb_server *s);
int mb_loop_run(mb_app *app);

/* ---- mb_remoting.c: frame in, faults, dispatch, reply out ---- */
typedef struct mb_reply {
    mb_cmd cmd;
    mb_buf body;
    int even_oneway; /* answered although the request is one-way (code 3) */
} mb_reply;

void mb_reply_init(mb_reply *r, const mb_cmd *req, int code, const char *remark);
/* Code 3 " request type <code> not supported"; returns 1. */
int mb_reply_unsupported(const mb_cmd *req, mb_reply *r);
/* Returns -1 if the connection was closed while handling the frame. */
int mb_remoting_on_frame(mb_app *app, mb_conn *c, const unsigned char *frame, size_t len);

/* ---- mb_namesrv.c / mb_broker.c: 1 = reply r, 0 = no reply ---- */
int mb_namesrv_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r);
int mb_broker_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r);
/* ---- mb_query.c ---- */
/* QUERY_MESSAGE (12) as QueryMessageProcessor answers it. */
int mb_query_message(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r);
int mb_broker_check_transaction(mb_app *app, mb_server *b, const char *id, mb_buf *err);
/* mb_admin.c: createTopic, offset by time, earliest store time. */
int mb_admin_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r);
/* The properties as a 4.9.8 commit log holds them. */
void mb_msg_stored_props(const mb_msg *m, mb_buf *out);

/* ---- mb_reply.c: request-reply, the mock acting for the responder ---- */
/* After m was stored on b: with RESPOND on and REPLY_TO_CLIENT set, push
 * the reply to the client's connection. */
void mb_reply_after_store(mb_app *app, mb_server *b, const mb_msg *m);
/* A client's answer to a push: logged, 1; any other response: 0. */
int mb_reply_on_answer(mb_app *app, mb_conn *c, const mb_cmd *resp);

/* ---- mb_store.c ---- */
mb_topic *mb_topic_find(mb_server *b, const char *name);
mb_topic *mb_topic_create(mb_server *b, const char *name, int queues, int perm);
mb_msg *mb_store_add(mb_app *app, mb_server *b);
mb_msg *mb_store_find_offset(mb_app *app, mb_server *b, int64_t commit_offset);
mb_msg *mb_store_find_id(mb_app *app, mb_server *b, const char *id);
void mb_store_clear(mb_app *app);
void mb_store_free(mb_app *app);
void mb_msg_offset_id(const mb_app *app, const mb_msg *m, char out[33]);
void mb_msg_dump_json(const mb_app *app, const mb_msg *m, mb_buf *out);
void mb_msg_stored_record(const mb_app *app, const mb_msg *m, mb_buf *out, int restore);
void mb_lines_add(mb_lines *l, int srv, char *text);
void mb_lines_clear(mb_lines *l);

/* ---- mb_namesrv.c ---- */
/* Appends the TopicRouteData JSON; returns the number of brokers in it. */
int mb_route_json(mb_app *app, const char *topic, int standard, mb_buf *out);

/* ---- mb_control.c ---- */
int mb_control_on_line(mb_app *app, mb_conn *c, char *line);
int mb_http_on_data(mb_app *app, mb_conn *c);

/* ---- main.c ---- */
mb_server *mb_server_by_name(mb_app *app, const char *name);
void mb_log(const mb_app *app, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
