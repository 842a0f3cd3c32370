/* mb_control.c - the line-based control protocol used by tests to inject
 * faults and inspect what the mock received, and the HTTP name-server
 * address endpoint. Every control command ends with "OK" or "ERR <why>". */
#include "mb_app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ARGS 8
#define MAX_HUGE (1 << 30)

typedef struct args {
    char *v[MAX_ARGS]; /* v[0] is the command word */
    size_t at[MAX_ARGS]; /* offset of each word in the original line */
    int n;
    const char *line;
} args;

static void split_args(char *copy, const char *line, args *a)
{
    char *p = copy;
    a->n = 0;
    a->line = line;
    while (a->n < MAX_ARGS) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        a->v[a->n] = p;
        a->at[a->n++] = (size_t)(p - copy);
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
    }
}

/* The unsplit remainder of the line from word i on (remarks, NSADDR text). */
static const char *rest(const args *a, int i)
{
    return i < a->n ? a->line + a->at[i] : NULL;
}

static void out_line(mb_conn *c, const char *fmt, ...)
{
    mb_buf b = {0};
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    mb_buf_reserve(&b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b.p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.len = (size_t)n;
    mb_buf_putc(&b, '\n');
    mb_conn_write(c, b.p, b.len);
    mb_buf_free(&b);
}

static int ok(mb_conn *c)
{
    mb_conn_write(c, "OK\n", 3);
    return 0;
}

static int err(mb_conn *c, const char *why)
{
    out_line(c, "ERR %s", why);
    return 0;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return s && mb_parse_i64(s, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

/* Servers named by `name` ("*" = all of the kind allowed). */
static size_t targets(mb_app *app, const char *name, int brokers_only, mb_server **out)
{
    size_t i, n = 0;
    for (i = 0; i < app->nservers; i++) {
        mb_server *s = &app->servers[i];
        if (brokers_only && !s->is_broker)
            continue;
        if (strcmp(name, "*") == 0 || strcmp(name, s->name) == 0)
            out[n++] = s;
    }
    return n;
}

/* Resolves a[1] ("*" when omitted); on failure replies ERR and returns 0. */
static size_t need_targets(mb_app *app, mb_conn *c, const args *a, int brokers_only, mb_server **out)
{
    size_t n = targets(app, a->n > 1 ? a->v[1] : "*", brokers_only, out);
    if (!n)
        err(c, brokers_only ? "unknown broker" : "unknown server");
    return n;
}

/* ---- fault injection ---- */

static void set_rule(mb_server *s, int req, int resp, int count, const char *remark)
{
    size_t i;
    mb_err_rule *r = NULL;
    for (i = 0; i < s->nrules; i++)
        if (s->rules[i].req_code == req)
            r = &s->rules[i];
    if (!r) {
        if (count == 0)
            return;
        s->rules = mb_xrealloc(s->rules, (s->nrules + 1) * sizeof *s->rules);
        r = &s->rules[s->nrules++];
        r->remark = NULL;
    }
    r->req_code = req;
    r->resp_code = resp;
    r->count = count;
    free(r->remark);
    r->remark = remark ? mb_xstrdup(remark) : NULL;
}

static int cmd_error(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t req = -1, resp, count;
    size_t i;
    (void)app;
    if ((strcmp(a->v[2], "*") != 0 && parse_int(a->v[2], -32768, 0x7FFFFFFF, &req) < 0) ||
        parse_int(a->v[3], -0x7FFFFFFF, 0x7FFFFFFF, &resp) < 0 || parse_int(a->v[4], -1, 0x7FFFFFFF, &count) < 0)
        return err(c, "usage: ERROR <server|*> <request-code|*> <response-code> <count> [remark]");
    for (i = 0; i < n; i++)
        set_rule(t[i], (int)req, (int)resp, (int)count, rest(a, 5));
    return ok(c);
}

static int cmd_down_up(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    size_t i;
    int up = strcasecmp(a->v[0], "UP") == 0;
    for (i = 0; i < n; i++) {
        if (!up) {
            mb_server_down(app, t[i]);
        } else if (mb_server_up(app, t[i]) < 0) {
            out_line(c, "ERR cannot listen on 127.0.0.1:%d again", t[i]->port);
            return 0;
        }
    }
    return ok(c);
}

static int cmd_hide_show(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    size_t i;
    (void)app;
    for (i = 0; i < n; i++)
        t[i]->hidden = strcasecmp(a->v[0], "HIDE") == 0;
    return ok(c);
}

static int cmd_delay(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t ms;
    size_t i;
    (void)app;
    if (parse_int(a->v[2], 0, 3600000, &ms) < 0)
        return err(c, "usage: DELAY <server|*> <ms>");
    for (i = 0; i < n; i++)
        t[i]->delay_ms = (int)ms;
    return ok(c);
}

static int cmd_silent(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t count;
    size_t i;
    int process = a->n > 3 && strcasecmp(a->v[3], "process") == 0;
    (void)app;
    if (parse_int(a->v[2], 0, 0x7FFFFFFF, &count) < 0)
        return err(c, "usage: SILENT <server|*> <count> [process]");
    for (i = 0; i < n; i++) {
        t[i]->silent_left = (int)count;
        t[i]->silent_process = process;
    }
    return ok(c);
}

static int cmd_cut(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t bytes;
    size_t i, j;
    if (parse_int(a->v[2], 0, INT64_MAX / 2, &bytes) < 0)
        return err(c, "usage: CUT <server|*> <bytes>");
    for (i = 0; i < n; i++) {
        t[i]->cut_next = bytes;
        for (j = 0; j < app->nconns; j++) {
            mb_conn *k = app->conns[j];
            if (!k->in_use || k->srv != t[i])
                continue;
            k->cut_left = bytes;
            if (bytes == 0)
                mb_conn_close(app, k);
        }
    }
    return ok(c);
}

/* A frame whose header-length word exceeds the frame: every Java decoder
 * rejects it, so clients must treat it as a broken connection. */
static int cmd_garbage(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    static const unsigned char junk[12] = {0, 0, 0, 8, 0, 0, 1, 0, 0xDE, 0xAD, 0xBE, 0xEF};
    size_t i, j, hit = 0;
    (void)a;
    for (i = 0; i < n; i++) {
        for (j = 0; j < app->nconns; j++) {
            mb_conn *k = app->conns[j];
            if (!k->in_use || k->srv != t[i])
                continue;
            mb_conn_write(k, junk, sizeof junk);
            mb_conn_flush(app, k);
            hit++;
        }
    }
    out_line(c, "%zu", hit);
    return ok(c);
}

static int cmd_huge(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t bytes;
    size_t i;
    (void)app;
    if (parse_int(a->v[2], 0, MAX_HUGE, &bytes) < 0)
        return err(c, "usage: HUGE <server|*> <bytes>");
    for (i = 0; i < n; i++)
        t[i]->huge_next = bytes;
    return ok(c);
}

static int cmd_topic(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t queues = app->opt.queues > 0 ? app->opt.queues : 4, perm = 6;
    size_t i;
    if (a->n < 3 || (a->n > 3 && parse_int(a->v[3], 1, 1024, &queues) < 0) ||
        (a->n > 4 && parse_int(a->v[4], 0, 7, &perm) < 0))
        return err(c, "usage: TOPIC <broker|*> <name> [queues] [perm]");
    for (i = 0; i < n; i++)
        mb_topic_create(t[i], a->v[2], (int)queues, (int)perm);
    return ok(c);
}

static int cmd_check(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    mb_buf why = {0};
    (void)n;
    if (a->n < 3)
        return err(c, "usage: CHECK <broker> <offsetMsgId|uniqKey>");
    if (mb_broker_check_transaction(app, t[0], a->v[2], &why) < 0) {
        err(c, (const char *)why.p);
        mb_buf_free(&why);
        return 0;
    }
    return ok(c);
}

static int cmd_reset(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    size_t i, j;
    (void)a;
    (void)app;
    for (i = 0; i < n; i++) {
        mb_server *s = t[i];
        for (j = 0; j < s->nrules; j++)
            free(s->rules[j].remark);
        s->nrules = 0;
        s->delay_ms = 0;
        s->silent_left = 0;
        s->cut_next = -1;
        s->huge_next = -1;
    }
    return ok(c);
}

/* ---- inspection ---- */

static const char *topic_filter(const args *a)
{
    return a->n > 1 ? a->v[1] : NULL;
}

static int cmd_dump(mb_app *app, mb_conn *c, const args *a)
{
    const char *topic = topic_filter(a);
    mb_buf b = {0};
    size_t i;
    for (i = 0; i < app->nmsgs; i++) {
        const mb_msg *m = &app->msgs[i];
        if (topic && strcmp(topic, m->topic) != 0)
            continue;
        mb_msg_dump_json(app, m, &b);
        mb_buf_putc(&b, '\n');
    }
    mb_conn_write(c, b.p, b.len);
    mb_buf_free(&b);
    return ok(c);
}

static int cmd_count(mb_app *app, mb_conn *c, const args *a)
{
    const char *topic = topic_filter(a);
    size_t i, n = 0;
    for (i = 0; i < app->nmsgs; i++)
        if (!topic || strcmp(topic, app->msgs[i].topic) == 0)
            n++;
    out_line(c, "%zu", n);
    return ok(c);
}

static int print_lines(mb_app *app, mb_conn *c, const args *a, const mb_lines *l)
{
    mb_server *only = NULL;
    size_t i;
    if (a->n > 1 && !(only = mb_server_by_name(app, a->v[1])))
        return err(c, "unknown server");
    for (i = 0; i < l->n; i++)
        if (!only || l->v[i].srv == only->index)
            out_line(c, "%s", l->v[i].text);
    return ok(c);
}

static int cmd_requests(mb_app *app, mb_conn *c, const args *a)
{
    return print_lines(app, c, a, &app->requests);
}

static int cmd_clients(mb_app *app, mb_conn *c, const args *a)
{
    return print_lines(app, c, a, &app->clients);
}

static int cmd_transactions(mb_app *app, mb_conn *c, const args *a)
{
    return print_lines(app, c, a, &app->transactions);
}

static int cmd_replies(mb_app *app, mb_conn *c, const args *a)
{
    return print_lines(app, c, a, &app->replies);
}

static int cmd_respond(mb_app *app, mb_conn *c, const args *a, mb_server **t, size_t n)
{
    int64_t ms = 0;
    int on = strcasecmp(a->v[2], "on") == 0;
    size_t i;
    (void)app;
    if ((!on && strcasecmp(a->v[2], "off") != 0) || (a->n > 3 && parse_int(a->v[3], 0, 3600000, &ms) < 0))
        return err(c, "usage: RESPOND <broker|*> <on|off> [delay-ms]");
    for (i = 0; i < n; i++) {
        t[i]->respond = on;
        t[i]->respond_delay_ms = (int)ms;
    }
    return ok(c);
}

static int cmd_clear(mb_app *app, mb_conn *c, const args *a)
{
    (void)a;
    mb_store_clear(app);
    return ok(c);
}

static int cmd_nsaddr(mb_app *app, mb_conn *c, const args *a)
{
    free(app->nsaddr);
    app->nsaddr = mb_xstrdup(a->n > 1 ? rest(a, 1) : app->ready_ns);
    return ok(c);
}

static int cmd_route(mb_app *app, mb_conn *c, const args *a)
{
    mb_buf b = {0};
    int standard = !(a->n > 2 && strcasecmp(a->v[2], "fastjson") == 0);
    if (a->n < 2)
        return err(c, "usage: ROUTE <topic> [standard|fastjson]");
    if (mb_route_json(app, a->v[1], standard, &b) == 0) {
        mb_buf_free(&b);
        return err(c, "topic not exist");
    }
    out_line(c, "%s", (const char *)b.p);
    mb_buf_free(&b);
    return ok(c);
}

static int cmd_servers(mb_app *app, mb_conn *c, const args *a)
{
    size_t i;
    (void)a;
    for (i = 0; i < app->nservers; i++) {
        const mb_server *s = &app->servers[i];
        out_line(c, "%s %s 127.0.0.1:%d %s%s", s->name, s->is_broker ? "broker" : "namesrv", s->port,
                 s->lfd >= 0 ? "up" : "down", s->hidden ? " hidden" : "");
    }
    return ok(c);
}

static int cmd_quit(mb_app *app, mb_conn *c, const args *a)
{
    (void)a;
    app->quit = 1;
    return ok(c);
}

static int cmd_ping(mb_app *app, mb_conn *c, const args *a)
{
    (void)a;
    (void)app;
    return ok(c);
}

static int cmd_help(mb_app *app, mb_conn *c, const args *a);

/* ---- dispatch ---- */

typedef int (*server_cmd_fn)(mb_app *, mb_conn *, const args *, mb_server **, size_t);
typedef int (*plain_cmd_fn)(mb_app *, mb_conn *, const args *);

typedef struct command {
    const char *name;
    int min_args;     /* words after the command */
    int target;       /* for on_servers: 1 any server, 2 brokers only */
    server_cmd_fn on_servers;
    plain_cmd_fn plain;
    const char *usage;
} command;

static const command commands[] = {
    {"ERROR", 4, 1, cmd_error, NULL, "ERROR <server|*> <request-code|*> <response-code> <count> [remark]"},
    {"DOWN", 1, 1, cmd_down_up, NULL, "DOWN <server|*>"},
    {"UP", 1, 1, cmd_down_up, NULL, "UP <server|*>"},
    {"HIDE", 1, 2, cmd_hide_show, NULL, "HIDE <broker|*>"},
    {"SHOW", 1, 2, cmd_hide_show, NULL, "SHOW <broker|*>"},
    {"DELAY", 2, 1, cmd_delay, NULL, "DELAY <server|*> <ms>"},
    {"SILENT", 2, 1, cmd_silent, NULL, "SILENT <server|*> <count> [process]"},
    {"CUT", 2, 1, cmd_cut, NULL, "CUT <server|*> <bytes>"},
    {"GARBAGE", 1, 1, cmd_garbage, NULL, "GARBAGE <server|*>"},
    {"HUGE", 2, 1, cmd_huge, NULL, "HUGE <server|*> <bytes>"},
    {"TOPIC", 2, 2, cmd_topic, NULL, "TOPIC <broker|*> <name> [queues] [perm]"},
    {"CHECK", 2, 2, cmd_check, NULL, "CHECK <broker> <offsetMsgId|uniqKey>"},
    {"RESPOND", 2, 2, cmd_respond, NULL, "RESPOND <broker|*> <on|off> [delay-ms]"},
    {"RESET", 0, 1, cmd_reset, NULL, "RESET [server|*]"},
    {"DUMP", 0, 0, NULL, cmd_dump, "DUMP [topic]"},
    {"COUNT", 0, 0, NULL, cmd_count, "COUNT [topic]"},
    {"REQUESTS", 0, 0, NULL, cmd_requests, "REQUESTS [server]"},
    {"CLIENTS", 0, 0, NULL, cmd_clients, "CLIENTS [server]"},
    {"TRANSACTIONS", 0, 0, NULL, cmd_transactions, "TRANSACTIONS [server]"},
    {"REPLIES", 0, 0, NULL, cmd_replies, "REPLIES [server]"},
    {"CLEAR", 0, 0, NULL, cmd_clear, "CLEAR"},
    {"NSADDR", 0, 0, NULL, cmd_nsaddr, "NSADDR [text]"},
    {"ROUTE", 1, 0, NULL, cmd_route, "ROUTE <topic> [standard|fastjson]"},
    {"SERVERS", 0, 0, NULL, cmd_servers, "SERVERS"},
    {"PING", 0, 0, NULL, cmd_ping, "PING"},
    {"HELP", 0, 0, NULL, cmd_help, "HELP"},
    {"QUIT", 0, 0, NULL, cmd_quit, "QUIT"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static int cmd_help(mb_app *app, mb_conn *c, const args *a)
{
    size_t i;
    (void)a;
    (void)app;
    for (i = 0; i < NCOMMANDS; i++)
        out_line(c, "%s", commands[i].usage);
    return ok(c);
}

static int run_command(mb_app *app, mb_conn *c, const command *cmd, const args *a)
{
    mb_server **t;
    size_t n;
    int rc;
    if (a->n - 1 < cmd->min_args) {
        out_line(c, "ERR usage: %s", cmd->usage);
        return 0;
    }
    if (cmd->plain)
        return cmd->plain(app, c, a);
    t = mb_xmalloc(app->nservers * sizeof *t);
    if ((n = need_targets(app, c, a, cmd->target == 2, t)) == 0)
        rc = 0;
    else
        rc = cmd->on_servers(app, c, a, t, n);
    free(t);
    return rc;
}

int mb_control_on_line(mb_app *app, mb_conn *c, char *line)
{
    char *copy = mb_xstrdup(line);
    args a;
    size_t i;
    split_args(copy, line, &a);
    if (a.n == 0) {
        free(copy);
        return 0; /* blank lines are ignored */
    }
    mb_log(app, "control: %s", line);
    for (i = 0; i < NCOMMANDS; i++)
        if (strcasecmp(a.v[0], commands[i].name) == 0)
            break;
    if (i == NCOMMANDS)
        err(c, "unknown command (try HELP)");
    else
        run_command(app, c, &commands[i], &a);
    free(copy);
    return 0;
}

/* ---- HTTP address server ---- */

static void http_respond(mb_conn *c, const char *version, int status, const char *body)
{
    mb_buf b = {0};
    mb_buf_printf(&b,
                  "%s %d %s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: %zu\r\n"
                  "Connection: close\r\n\r\n%s",
                  version, status, status == 200 ? "OK" : "Not Found", strlen(body), body);
    mb_conn_write(c, b.p, b.len);
    mb_buf_free(&b);
    c->close_after_flush = 1;
}

int mb_http_on_data(mb_app *app, mb_conn *c)
{
    char method[16], path[1024], version[16];
    const char *req = (const char *)c->in.p;
    size_t plen;
    method[0] = path[0] = '\0';
    if (!strstr(req, "\r\n\r\n") && !strstr(req, "\n\n")) {
        if (c->in.len > 65536)
            mb_conn_close(app, c);
        return c->in_use ? 0 : -1;
    }
    if (sscanf(req, "%15s %1023s %15s", method, path, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0)
        strcpy(version, "HTTP/1.0");
    plen = strcspn(path, "?"); /* the Java client may add a query string */
    if (strcmp(method, "GET") == 0 && plen == strlen("/rocketmq/nsaddr") &&
        strncmp(path, "/rocketmq/nsaddr", plen) == 0)
        http_respond(c, version, 200, app->nsaddr);
    else
        http_respond(c, version, 404, "not found");
    c->in.len = 0;
    return 0;
}
