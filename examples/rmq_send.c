/* rmq_send.c - a command-line RocketMQ producer for scripts and gateways.
 *
 *     rmq_send -n 127.0.0.1:9876 -t TopicTest -m "hello"
 *     tail -F app.log | rmq_send -t Logs --tags app --mode async -q
 *     rmq_send -t Bench -s 1024 -c 100000 --mode async -w 512 -q
 *
 * Without -m or -s every line of stdin is one message. Each acknowledged
 * message prints one line on stdout:
 *
 *     SEND_OK <msg_id> <offset_msg_id> <broker> <queue> <queue_offset>
 *
 * and a summary line goes to stderr at the end, so stdout stays parseable.
 * The exit status is 0 when every message was sent, 1 after a failure (the
 * reason is on stderr; sending stops at the first one), 2 on a usage error.
 *
 * Subcommands speak to the brokers the way mqadmin does:
 *
 *     rmq_send offsets TOPIC          one line a queue:
 *                                     <broker> <queue> <min> <max> <earliest_store_ms>
 *     rmq_send create-topic TOPIC N   N queues on every broker (key TBW102)
 * Run with --help for every option.
 *
 * Two subcommands read stored messages back (MQAdmin's viewMessage and
 * queryMessage):
 *
 *     rmq_send view OFFSET_MSG_ID          one message, by its offset msg id
 *     rmq_send query TOPIC KEY             every message of TOPIC with KEY
 *
 * Build (this file also compiles the library and the POSIX port):
 *     cc -std=c99 -D_DEFAULT_SOURCE -I. examples/rmq_send.c -o rmq_send -lpthread
 */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PROPERTIES 64
#define DEFAULT_WINDOW 256
#define DEFAULT_BATCH 64
/* Java's batch example splits at 1 MiB; the broker's limit is 4 MiB. */
#define BATCH_MAX_BYTES (1024u * 1024u)

enum mode { MODE_SYNC, MODE_ASYNC, MODE_ONEWAY, MODE_BATCH };
static const char *const mode_names[] = { "sync", "async", "oneway", "batch" };

typedef struct options {
    const char *namesrv, *topic, *group, *tags, *keys, *text;
    rmq_property props[MAX_PROPERTIES];
    size_t nprops;
    enum mode mode;
    long count;             /* -c; -1: not given */
    long size;              /* -s; 0: not given */
    long window;            /* -w */
    long batch;             /* --batch-size */
    long timeout_ms;        /* --timeout; 0: the library's default */
    int binary, quiet;
} options;

/* Where message bodies come from: -m, -s, or the lines of stdin. */
typedef struct source {
    const options *opt;
    long taken;             /* bodies handed out so far */
    long line_no;           /* stdin lines read, empty ones included */
    char *buf;              /* the current line or generated body */
    size_t cap;
    int error;              /* errno of a failed read (or allocation), or 0 */
} source;

typedef struct app {
    options opt;
    rmq_producer *producer;
    source src;
    long sent, failed;
    long inflight;          /* async sends without their callback yet */
    long oneway_failed;     /* oneway failures already counted */
    int stop;               /* no more messages: a failure or broken output */
    int output_error;       /* errno of the failed write to stdout, or 0 */
} app;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* -- usage ------------------------------------------------------------------ */
static void usage(FILE *f)
{
    fputs("usage: rmq_send -t topic [options] [-m text | -s size | < lines]\n"
          "       rmq_send view [-n host:port] OFFSET_MSG_ID\n"
          "       rmq_send query [-n host:port] TOPIC KEY\n"
          "\n"
          "Sends messages to RocketMQ. Without -m or -s, every line of stdin is\n"
          "one message (empty lines are skipped).\n"
          "\n"
          "  -n host:port[;host:port]  name servers (default: $NAMESRV_ADDR)\n"
          "  -t topic                  topic (required)\n"
          "  -g group                  producer group (default: rmq_send)\n"
          "  -m text                   send this text\n"
          "  -s size                   send a generated body of size bytes\n"
          "  -c count                  messages to send with -m or -s (default 1);\n"
          "                            with stdin: stop after count messages\n"
          "  --tags tags               tag of every message\n"
          "  --keys keys               keys of every message, separated by spaces\n"
          "  -p key=value              user property (repeatable)\n"
          "  --mode sync|async|oneway|batch\n"
          "                            sync: one at a time, each acknowledged (default)\n"
          "                            async: up to -w in flight, each acknowledged\n"
          "                            oneway: written, never acknowledged (no lines)\n"
          "                            batch: --batch-size messages per request\n"
          "  -w window                 async, oneway: most sends in flight (default 256)\n"
          "  --batch-size n            batch: messages per batch (default 64, and at\n"
          "                            most 1 MiB of bodies)\n"
          "  --timeout ms              send timeout, retries included (default 3000)\n"
          "  --binary                  ROCKETMQ binary headers instead of JSON\n"
          "  -q                        no line per message\n"
          "  -h, --help                this text\n"
          "\n"
          "Each acknowledged message prints on stdout:\n"
          "  <status> <msg_id> <offset_msg_id> <broker> <queue> <queue_offset>\n"
          "A summary goes to stderr. Exit status: 0 all sent, 1 a send failed (the\n"
          "first failure stops sending), 2 usage error.\n"
          "\n"
          "Subcommands (options -n, -g, --binary, --vip: the broker's VIP port):\n"
          "  rmq_send offsets TOPIC         every queue of the topic, one line each:\n"
          "                                 <broker> <queue> <min> <max> <earliest_store_ms>\n"
          "  rmq_send create-topic TOPIC N  N read and write queues on every broker\n"
          "                                 (the brokers of TBW102's route)\n", f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("rmq_send: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see rmq_send --help)\n", stderr);
    return 2;
}

/* -- options ---------------------------------------------------------------- */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_mode(const char *s, enum mode *out)
{
    size_t i;
    for (i = 0; i < sizeof mode_names / sizeof *mode_names; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (enum mode)i;
            return 0;
        }
    return -1;
}

/* "key=value" into a property; both parts non-empty. The key is cut out
 * of the argument string in place. */
static int parse_property(char *s, rmq_property *p)
{
    char *eq = strchr(s, '=');
    if (!eq || eq == s || !eq[1]) return -1;
    *eq = 0;
    p->key = s;
    p->value = eq + 1;
    return 0;
}

/* A numeric option's value, range-checked. */
static int number_arg(const char *name, const char *val, long lo, long hi, long *out)
{
    if (parse_long(val, lo, hi, out) == 0) return 0;
    if (hi == LONG_MAX) fprintf(stderr, "rmq_send: %s needs a number from %ld, not \"%s\"", name, lo, val);
    else fprintf(stderr, "rmq_send: %s needs a number from %ld to %ld, not \"%s\"", name, lo, hi, val);
    fputs(" (see rmq_send --help)\n", stderr);
    return 2;
}

/* One option that takes a value. 0: taken; 2: usage error (reported). */
static int parse_valued(options *o, const char *name, char *val)
{
    if (strcmp(name, "-n") == 0) o->namesrv = val;
    else if (strcmp(name, "-t") == 0) o->topic = val;
    else if (strcmp(name, "-g") == 0) o->group = val;
    else if (strcmp(name, "-m") == 0) o->text = val;
    else if (strcmp(name, "--tags") == 0) o->tags = val;
    else if (strcmp(name, "--keys") == 0) o->keys = val;
    else if (strcmp(name, "-s") == 0) return number_arg(name, val, 1, RMQ_MAX_MESSAGE_BYTES, &o->size);
    else if (strcmp(name, "-c") == 0) return number_arg(name, val, 1, LONG_MAX, &o->count);
    else if (strcmp(name, "-w") == 0) return number_arg(name, val, 1, RMQ_MAX_PENDING, &o->window);
    else if (strcmp(name, "--batch-size") == 0) return number_arg(name, val, 1, 65535, &o->batch);
    else if (strcmp(name, "--timeout") == 0) return number_arg(name, val, 1, 600000, &o->timeout_ms);
    else if (strcmp(name, "--mode") == 0) {
        if (parse_mode(val, &o->mode) != 0) return usage_error("--mode must be sync, async, oneway or batch, not \"%s\"", val);
    } else if (strcmp(name, "-p") == 0) {
        if (o->nprops == MAX_PROPERTIES) return usage_error("too many -p (at most %s)", "64");
        if (parse_property(val, &o->props[o->nprops]) != 0) return usage_error("-p wants key=value, not \"%s\"", val);
        o->nprops++;
    }
    return 0;
}

static int takes_value(const char *name)
{
    static const char *const valued[] = { "-n", "-t", "-g", "-m", "-s", "-c", "-w", "-p", "--tags", "--keys",
                                          "--mode", "--batch-size", "--timeout" };
    size_t i;
    for (i = 0; i < sizeof valued / sizeof *valued; i++)
        if (strcmp(name, valued[i]) == 0) return 1;
    return 0;
}

/* 0: run; 1: --help was printed; 2: usage error (reported). */
static int parse_args(int argc, char **argv, options *o)
{
    int i, r;
    memset(o, 0, sizeof *o);
    o->group = "rmq_send";
    o->count = -1;
    o->window = DEFAULT_WINDOW;
    o->batch = DEFAULT_BATCH;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 1; }
        if (strcmp(a, "-q") == 0) { o->quiet = 1; continue; }
        if (strcmp(a, "--binary") == 0) { o->binary = 1; continue; }
        if (!takes_value(a)) return usage_error("unknown option %s", a);
        if (i + 1 >= argc) return usage_error("%s needs a value", a);
        r = parse_valued(o, a, argv[++i]);
        if (r) return r;
    }
    if (!o->topic) return usage_error("%s", "no topic: give -t topic");
    if (o->text && o->size) return usage_error("%s", "-m and -s exclude each other");
    if (!o->namesrv) o->namesrv = getenv("NAMESRV_ADDR");
    if (!o->namesrv || !*o->namesrv) return usage_error("%s", "no name server: give -n host:port or set NAMESRV_ADDR");
    if ((o->text || o->size) && o->count < 0) o->count = 1;
    return 0;
}

/* -- message bodies ---------------------------------------------------------- */
/* A generated body: the sequence number, then a repeating alphabet, so
 * that every message differs and a reader sees where one ends. */
static int generate_body(source *s, const char **body, size_t *len)
{
    size_t size = (size_t)s->opt->size, i;
    char stamp[32];
    int n;
    if (!s->buf) {
        s->buf = (char *)malloc(size);
        if (!s->buf) {
            s->error = ENOMEM;
            return -1;
        }
        for (i = 0; i < size; i++) s->buf[i] = (char)('a' + i % 26);
    }
    n = snprintf(stamp, sizeof stamp, "%ld:", s->taken);
    memcpy(s->buf, stamp, (size_t)n < size ? (size_t)n : size);
    *body = s->buf;
    *len = size;
    return 1;
}

/* The next stdin line without its line end; empty lines are skipped. */
static int read_line(source *s, const char **body, size_t *len)
{
    for (;;) {
        ssize_t n = getline(&s->buf, &s->cap, stdin);
        if (n < 0) {
            if (!ferror(stdin) || interrupted) return 0;
            s->error = errno;
            return -1;
        }
        s->line_no++;
        if (n > 0 && s->buf[n - 1] == '\n') n--;
        if (n > 0 && s->buf[n - 1] == '\r') n--;
        if (n == 0) continue;
        *body = s->buf;
        *len = (size_t)n;
        return 1;
    }
}

/* 1: *body and *len hold the next body (valid until the next call); 0: no
 * more; -1: an error, in s->error. */
static int source_next(source *s, const char **body, size_t *len)
{
    int r;
    if (interrupted || (s->opt->count >= 0 && s->taken >= s->opt->count)) return 0;
    if (s->opt->text) {
        *body = s->opt->text;
        *len = strlen(s->opt->text);
        r = 1;
    } else if (s->opt->size) {
        r = generate_body(s, body, len);
    } else {
        r = read_line(s, body, len);
    }
    if (r == 1) s->taken++;
    return r;
}

/* -- results ----------------------------------------------------------------- */
static const char *status_name(rmq_send_status st)
{
    switch (st) {
    case RMQ_SEND_OK: return "SEND_OK";
    case RMQ_FLUSH_DISK_TIMEOUT: return "FLUSH_DISK_TIMEOUT";
    case RMQ_FLUSH_SLAVE_TIMEOUT: return "FLUSH_SLAVE_TIMEOUT";
    case RMQ_SLAVE_NOT_AVAILABLE: return "SLAVE_NOT_AVAILABLE";
    }
    return "UNKNOWN";
}

/* A reader that went away (rmq_send ... | head -1) stops the run: SIGPIPE
 * is ignored, so the failed write is seen here and reported. */
static void print_result(app *a, const rmq_send_result *r)
{
    a->sent++;
    if (a->opt.quiet || a->output_error) return;
    printf("%s %s %s %s %d %lld\n", status_name(r->status), r->msg_id, r->offset_msg_id,
           r->queue.broker_name, r->queue.queue_id, (long long)r->queue_offset);
    if (ferror(stdout)) {
        a->output_error = errno ? errno : EIO;
        a->stop = 1;
    }
}

/* "message 7", "line 12" (stdin), "batch of 3 from message 4". */
static const char *message_label(app *a, long first, long n)
{
    static char label[96];
    const char *unit = a->opt.text || a->opt.size ? "message" : "line";
    long at = a->opt.text || a->opt.size ? first : a->src.line_no;
    if (n > 1) snprintf(label, sizeof label, "batch of %ld from message %ld", n, first);
    else snprintf(label, sizeof label, "%s %ld", unit, at);
    return label;
}

/* The first failure is told in full; the ones after it (async sends
 * already in flight) are only counted. what names the message(s). */
static void report_failure(app *a, const char *what, rmq_err err, const char *why)
{
    if (!a->failed) {
        /* err is RMQ_OK when only the reason is known (a oneway failure). */
        fprintf(stderr, "rmq_send: %s%s%s%s%s\n", what, *what ? ": " : "", err ? rmq_strerror(err) : "",
                err ? ": " : "", why);
        if (err == RMQ_OK || err == RMQ_ERR_NO_ROUTE || err == RMQ_ERR_CONNECT || err == RMQ_ERR_TIMEOUT)
            fprintf(stderr, "rmq_send: is a name server running at %s, and does topic %s exist?\n",
                    a->opt.namesrv, a->opt.topic);
    }
    a->failed++;
    a->stop = 1;
}

static void build_message(const app *a, rmq_message *m, const char *body, size_t len)
{
    rmq_message_init(m, a->opt.topic, body, len);
    m->tags = a->opt.tags;
    m->keys = a->opt.keys;
    m->properties = a->opt.props;
    m->nproperties = a->opt.nprops;
}

/* -- the four modes ------------------------------------------------------------ */
static void run_sync(app *a)
{
    const char *body;
    size_t len;
    while (!a->stop && source_next(&a->src, &body, &len) == 1) {
        rmq_message m;
        rmq_send_result res;
        rmq_err err;
        build_message(a, &m, body, len);
        err = rmq_send(a->producer, &m, &res);
        if (err == RMQ_OK) print_result(a, &res);
        else report_failure(a, message_label(a, a->src.taken, 1), err, rmq_producer_last_error(a->producer));
    }
}

static void on_async_result(rmq_err err, const rmq_send_result *res, void *user)
{
    app *a = (app *)user;
    char why[RMQ_REASON_MAX_LEN + 1];
    a->inflight--;
    if (err == RMQ_OK) print_result(a, res);
    else report_failure(a, "", err, rmq_result_reason(res, why, sizeof why));
}

/* A oneway send has no callback: it is done once written, or failed (no
 * route, connection refused), and only the counters tell which. Returns
 * how many are still waiting to be written. */
static long oneway_pending(app *a)
{
    rmq_stats st;
    long fresh;
    rmq_producer_stats(a->producer, &st);
    fresh = (long)st.sends_failed - a->oneway_failed;
    a->oneway_failed = (long)st.sends_failed;
    a->sent = (long)st.sends_ok;
    while (fresh-- > 0) report_failure(a, "oneway send", RMQ_OK, rmq_producer_last_error(a->producer));
    return (long)st.pending_sends;
}

static long in_flight(app *a, int oneway)
{
    return oneway ? oneway_pending(a) : a->inflight;
}

/* async and oneway: keep at most -w sends in flight; RMQ_ERR_BUSY (the
 * library's own bound, in sends or bytes) means "poll, then retry". */
static void run_pipelined(app *a, int oneway)
{
    const char *body;
    size_t len;
    while (!a->stop && source_next(&a->src, &body, &len) == 1) {
        rmq_message m;
        rmq_err err;
        build_message(a, &m, body, len);
        while (!a->stop && in_flight(a, oneway) >= a->opt.window) rmq_producer_poll(a->producer, 100);
        if (a->stop) break;
        for (;;) {
            err = oneway ? rmq_send_oneway(a->producer, &m)
                         : rmq_send_async(a->producer, &m, on_async_result, a);
            if (err != RMQ_ERR_BUSY) break;
            rmq_producer_poll(a->producer, 100);
        }
        if (err != RMQ_OK) report_failure(a, message_label(a, a->src.taken, 1), err, rmq_producer_last_error(a->producer));
        else if (!oneway) a->inflight++;
    }
}

typedef struct batch {
    rmq_message *msgs;
    rmq_send_result *res;
    char **bodies;          /* copies: the source reuses its buffer */
    size_t n, bytes;
} batch;

static void send_batch(app *a, batch *b)
{
    size_t i;
    rmq_err err;
    if (!b->n) return;
    err = rmq_send_batch(a->producer, b->msgs, b->n, b->res);
    if (err == RMQ_OK) {
        for (i = 0; i < b->n; i++) print_result(a, &b->res[i]);
    } else {
        report_failure(a, message_label(a, a->src.taken - (long)b->n + 1, (long)b->n), err,
                       rmq_producer_last_error(a->producer));
        a->failed += (long)b->n - 1;     /* the whole batch failed */
    }
    for (i = 0; i < b->n; i++) free(b->bodies[i]);
    b->n = 0;
    b->bytes = 0;
}

static void run_batch(app *a)
{
    size_t cap = (size_t)a->opt.batch;
    batch b;
    const char *body;
    size_t len;
    b.msgs = (rmq_message *)malloc(cap * sizeof *b.msgs);
    b.res = (rmq_send_result *)malloc(cap * sizeof *b.res);
    b.bodies = (char **)malloc(cap * sizeof *b.bodies);
    b.n = b.bytes = 0;
    if (!b.msgs || !b.res || !b.bodies) {
        report_failure(a, "", RMQ_ERR_NO_MEMORY, "no memory for the batch");
    }
    while (!a->stop && source_next(&a->src, &body, &len) == 1) {
        char *copy;
        if (b.n && b.bytes + len > BATCH_MAX_BYTES) send_batch(a, &b);
        if (a->stop) break;
        copy = (char *)malloc(len);
        if (!copy) {
            report_failure(a, message_label(a, a->src.taken, 1), RMQ_ERR_NO_MEMORY, "no memory for a message");
            break;
        }
        memcpy(copy, body, len);
        b.bodies[b.n] = copy;
        build_message(a, &b.msgs[b.n], copy, len);
        b.n++;
        b.bytes += len;
        if (b.n == cap) send_batch(a, &b);
    }
    if (!a->stop) send_batch(a, &b);
    while (b.n) free(b.bodies[--b.n]);
    free(b.msgs);
    free(b.res);
    free(b.bodies);
}

/* -- subcommands (mqadmin's way of using the same producer) -------------------- */
/* The options a subcommand takes; the rest of argv are its arguments. */
typedef struct sub_options {
    const char *namesrv, *group;
    int binary, vip;
    char *args[4];
    int nargs;
} sub_options;

typedef struct subcommand {
    const char *name;
    int nargs;
    const char *args_usage;
    int (*run)(rmq_producer *p, char **args);
} subcommand;

/* Every queue of the topic: broker, queue id, min and max offsets and the
 * earliest store time (-1 where the broker answers that for an empty queue). */
static int cmd_offsets(rmq_producer *p, char **args)
{
    rmq_queue qs[RMQ_MAX_QUEUES];
    size_t n = 0, i;
    int status = 0;
    if (rmq_fetch_publish_queues(p, args[0], qs, RMQ_MAX_QUEUES, &n) != RMQ_OK) {
        fprintf(stderr, "rmq_send: offsets %s: %s\n", args[0], rmq_producer_last_error(p));
        return 1;
    }
    for (i = 0; i < n; i++) {
        int64_t min = 0, max = 0, earliest = -1;
        if (rmq_min_offset(p, &qs[i], &min) != RMQ_OK || rmq_max_offset(p, &qs[i], &max) != RMQ_OK) {
            fprintf(stderr, "rmq_send: offsets %s %s %d: %s\n", args[0], qs[i].broker_name, qs[i].queue_id,
                    rmq_producer_last_error(p));
            status = 1;
            continue;
        }
        if (max > min && rmq_earliest_msg_store_time(p, &qs[i], &earliest) != RMQ_OK) {
            fprintf(stderr, "rmq_send: offsets %s %s %d: %s\n", args[0], qs[i].broker_name, qs[i].queue_id,
                    rmq_producer_last_error(p));
            status = 1;
        }
        printf("%s %d %lld %lld %lld\n", qs[i].broker_name, qs[i].queue_id, (long long)min, (long long)max,
               (long long)earliest);
    }
    return status;
}

static int cmd_create_topic(rmq_producer *p, char **args)
{
    long n;
    if (parse_long(args[1], 1, RMQ_MAX_QUEUES, &n) != 0)
        return usage_error("create-topic: N must be a number of queues from 1 to 256, not \"%s\"", args[1]);
    if (rmq_admin_create_topic(p, "TBW102", args[0], (int)n) != RMQ_OK) {
        fprintf(stderr, "rmq_send: create-topic %s: %s\n", args[0], rmq_producer_last_error(p));
        return 1;
    }
    printf("CREATED %s %ld\n", args[0], n);
    return 0;
}

static void print_time(const char *label, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char when[32] = "?";
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    printf("%-18s %s.%03d UTC (%lld)\n", label, when, (int)(ms % 1000), (long long)ms);
}

/* The body as text when it is printable UTF-8-ish text, else in hex. */
static void print_body(const rmq_message_ext *m)
{
    const unsigned char *b = (const unsigned char *)m->body;
    size_t i, text = 1;
    for (i = 0; i < m->body_len; i++)
        if (b[i] < 0x20 && b[i] != '\n' && b[i] != '\t' && b[i] != '\r') text = 0;
    printf("%-18s %lu bytes%s\n", "Body:", (unsigned long)m->body_len,
           m->sys_flag & 1 ? " (zlib-compressed as stored: no decompressor here)" : "");
    if (text) { fwrite(b, 1, m->body_len, stdout); putchar('\n'); return; }
    for (i = 0; i < m->body_len; i++) printf("%02x%s", b[i], (i + 1) % 32 == 0 || i + 1 == m->body_len ? "\n" : "");
}

static void print_message(const rmq_message_ext *m)
{
    size_t i;
    printf("%-18s %s\n", "Topic:", m->topic);
    printf("%-18s %s\n", "Tags:", m->tags);
    printf("%-18s %s\n", "Keys:", m->keys);
    printf("%-18s %s\n", "Msg ID:", m->msg_id);
    printf("%-18s %s\n", "Offset Msg ID:", m->offset_msg_id);
    printf("%-18s %s/%d\n", "Queue:", m->queue.broker_name, m->queue.queue_id);
    printf("%-18s %lld\n", "Queue Offset:", (long long)m->queue_offset);
    printf("%-18s %lld\n", "Commit Log Offset:", (long long)m->commit_log_offset);
    printf("%-18s %s\n", "Born Host:", m->born_host);
    print_time("Born Time:", m->born_timestamp_ms);
    printf("%-18s %s\n", "Store Host:", m->store_host);
    print_time("Store Time:", m->store_timestamp_ms);
    printf("%-18s %d\n", "Reconsume Times:", (int)m->reconsume_times);
    printf("%-18s %d\n", "Flag:", (int)m->flag);
    printf("%-18s 0x%x\n", "System Flag:", (unsigned)m->sys_flag);
    printf("%-18s", "Properties:");
    for (i = 0; i < m->nproperties; i++) printf("%s%s=%s", i ? ", " : " ", m->properties[i].key, m->properties[i].value);
    putchar('\n');
    print_body(m);
}

/* rmq_send view OFFSET_MSG_ID */
static int cmd_view(rmq_producer *p, char **args)
{
    rmq_message_ext m;
    if (rmq_view_message(p, args[0], &m) != RMQ_OK) {
        fprintf(stderr, "rmq_send: view %s: %s\n", args[0], rmq_producer_last_error(p));
        return 1;
    }
    print_message(&m);
    rmq_message_ext_free(p, &m);
    return 0;
}

/* rmq_send query TOPIC KEY: the last three days, as mqadmin queryMsgByKey */
static int cmd_query(rmq_producer *p, char **args)
{
    rmq_query_result r;
    int64_t now = (int64_t)time(NULL) * 1000;
    size_t i;
    if (rmq_query_message(p, args[0], args[1], 64, now - 3 * 86400000LL, now + 60000, &r) != RMQ_OK) {
        fprintf(stderr, "rmq_send: query %s %s: %s\n", args[0], args[1], rmq_producer_last_error(p));
        return 1;
    }
    printf("%lu message(s); index updated at %lld\n", (unsigned long)r.n, (long long)r.index_last_update_ms);
    for (i = 0; i < r.n; i++) { putchar('\n'); print_message(&r.msgs[i]); }
    rmq_query_result_free(p, &r);
    return 0;
}

static const subcommand subcommands[] = {
    { "view", 1, "OFFSET_MSG_ID", cmd_view },
    { "query", 2, "TOPIC KEY", cmd_query },
    { "offsets", 1, "TOPIC", cmd_offsets },
    { "create-topic", 2, "TOPIC N", cmd_create_topic },
};

static const subcommand *find_subcommand(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
        if (strcmp(name, subcommands[i].name) == 0) return &subcommands[i];
    return NULL;
}

/* -n, -g, --binary, --vip and the positional arguments. 0 or 2. */
static int parse_sub_args(const subcommand *sc, int argc, char **argv, sub_options *o)
{
    int i;
    memset(o, 0, sizeof *o);
    o->group = "rmq_send";
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--binary") == 0) o->binary = 1;
        else if (strcmp(argv[i], "--vip") == 0) o->vip = 1;
        else if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-g") == 0) && i + 1 < argc) {
            if (argv[i][1] == 'n') o->namesrv = argv[++i]; else o->group = argv[++i];
        } else if (argv[i][0] == '-') return usage_error("unknown option %s", argv[i]);
        else if (o->nargs < 4) o->args[o->nargs++] = argv[i];
    }
    if (o->nargs != sc->nargs) {
        fprintf(stderr, "rmq_send: usage: rmq_send %s %s [-n host:port] [-g group] [--binary] [--vip]\n", sc->name,
                sc->args_usage);
        return 2;
    }
    if (!o->namesrv) o->namesrv = getenv("NAMESRV_ADDR");
    if (!o->namesrv || !*o->namesrv) return usage_error("%s", "no name server: give -n host:port or set NAMESRV_ADDR");
    return 0;
}

static int run_subcommand(const subcommand *sc, int argc, char **argv)
{
    sub_options o;
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    int r = parse_sub_args(sc, argc, argv, &o);
    if (r) return r;
    rmq_producer_config_init(&cfg);
    cfg.group = o.group;
    cfg.namesrv_addr = o.namesrv;
    cfg.port = rmq_port_posix();
    cfg.serialize = o.binary ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
    cfg.vip_channel = o.vip;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) {
        fprintf(stderr, "rmq_send: cannot create the producer: out of memory\n");
        return 1;
    }
    if (rmq_producer_start(p) != RMQ_OK) {
        fprintf(stderr, "rmq_send: cannot start the producer: %s\n", rmq_producer_last_error(p));
        rmq_producer_destroy(p);
        return 1;
    }
    r = sc->run(p, o.args);
    rmq_producer_shutdown(p);
    rmq_producer_destroy(p);
    return r;
}

/* -- main ---------------------------------------------------------------------- */
static double elapsed_s(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    /* No SA_RESTART: a blocked read of stdin returns, and the run ends
     * cleanly (in-flight sends are flushed, the summary printed). A second
     * signal finds the default action and ends the process at once. */
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int start_producer(app *a)
{
    rmq_producer_config cfg;
    rmq_producer_config_init(&cfg);
    cfg.group = a->opt.group;
    cfg.namesrv_addr = a->opt.namesrv;
    cfg.port = rmq_port_posix();
    cfg.serialize = a->opt.binary ? RMQ_SERIALIZE_ROCKETMQ : RMQ_SERIALIZE_JSON;
    if (a->opt.timeout_ms) cfg.send_timeout_ms = (uint32_t)a->opt.timeout_ms;
    if (rmq_producer_create(&cfg, &a->producer) != RMQ_OK) {
        fprintf(stderr, "rmq_send: cannot create the producer: out of memory\n");
        return -1;
    }
    if (rmq_producer_start(a->producer) != RMQ_OK) {
        fprintf(stderr, "rmq_send: cannot start the producer: %s\n", rmq_producer_last_error(a->producer));
        return -1;
    }
    return 0;
}

/* In-flight async and oneway sends end within their own timeout; the
 * margin covers a callback that is due but not yet run. */
static void finish(app *a)
{
    uint32_t budget = (uint32_t)(a->opt.timeout_ms ? a->opt.timeout_ms : (long)RMQ_SEND_TIMEOUT_MS) + 2000u;
    if (rmq_producer_flush(a->producer, budget) != RMQ_OK && !a->failed)
        report_failure(a, "", RMQ_ERR_TIMEOUT, rmq_producer_last_error(a->producer));
    if (a->opt.mode == MODE_ONEWAY) oneway_pending(a);
}

int main(int argc, char **argv)
{
    static app a;
    struct timespec t0;
    int r;
    if (argc > 1 && find_subcommand(argv[1])) return run_subcommand(find_subcommand(argv[1]), argc, argv);
    r = parse_args(argc, argv, &a.opt);
    if (r) return r == 1 ? 0 : 2;
    a.src.opt = &a.opt;
    install_signals();
    setvbuf(stdout, NULL, _IOLBF, 0);     /* results reach a pipe line by line */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (start_producer(&a) != 0) {
        rmq_producer_destroy(a.producer);
        return 1;
    }

    switch (a.opt.mode) {
    case MODE_SYNC: run_sync(&a); break;
    case MODE_ASYNC: run_pipelined(&a, 0); break;
    case MODE_ONEWAY: run_pipelined(&a, 1); break;
    case MODE_BATCH: run_batch(&a); break;
    }
    finish(&a);
    rmq_producer_shutdown(a.producer);
    rmq_producer_destroy(a.producer);

    if (!a.opt.quiet && !a.output_error && fflush(stdout) != 0) a.output_error = errno ? errno : EIO;
    if (a.src.error)
        fprintf(stderr, "rmq_send: %s: %s\n", a.opt.size ? "generating a body" : "reading stdin", strerror(a.src.error));
    if (a.output_error)
        fprintf(stderr, "rmq_send: cannot write results to stdout (%s): stopped sending\n", strerror(a.output_error));
    if (interrupted) fprintf(stderr, "rmq_send: interrupted: stopped sending\n");
    fprintf(stderr, "rmq_send: %ld sent%s, %ld failed (topic %s, mode %s, %.3f s)\n", a.sent,
            a.opt.mode == MODE_ONEWAY ? " (oneway: written, not acknowledged)" : "", a.failed, a.opt.topic,
            mode_names[a.opt.mode], elapsed_s(&t0));
    free(a.src.buf);
    return a.failed || a.output_error || a.src.error || interrupted ? 1 : 0;
}
