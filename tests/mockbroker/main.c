/* main.c - options, start-up (listeners, READY line) and shutdown of the
 * RocketMQ NameServer + Broker emulator used by the producer tests. */
#include "mb_app.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NAMESRV 64
#define MAX_BROKERS 26 /* broker-a .. broker-z */

static const char usage_text[] =
    "usage: mockbroker [options]\n"
    "  --namesrv N           name servers (default 1), named ns0, ns1, ...\n"
    "  --brokers N           brokers (default 2), named broker-a, broker-b, ...\n"
    "  --ns-port P           first name-server port (0 = any free port, default)\n"
    "  --broker-port P       first broker port (0 = any free port, default)\n"
    "  --control-port P      control port (0 = any free port, default)\n"
    "  --http-port P         HTTP address-server port (0 = any free port, default)\n"
    "  --queues N            queues of --topic/TOPIC topics (default 4); when given, also\n"
    "                        caps auto-created topics (else min(defaultTopicQueueNums, 8))\n"
    "  --topic NAME          pre-create NAME on every broker (repeatable, perm 6)\n"
    "  --hidden BROKER       start with BROKER left out of routes (repeatable)\n"
    "  --no-autocreate       autoCreateTopicEnable=false (no TBW102)\n"
    "  --route-json MODE     standard|fastjson|auto (auto: by request version, default)\n"
    "  --no-request-log      do not keep the REQUESTS log (long benchmarks)\n"
    "  --exit-on-eof         exit when stdin reaches end of file\n"
    "  --quiet               no diagnostics on stderr\n"
    "  --help                this text\n"
    "Prints one line when ready:\n"
    "  MOCKBROKER READY namesrv=<ip:port;...> brokers=<name@ip:port,...> control=<ip:port> "
    "http=<ip:port>\n";

void mb_log(const mb_app *app, const char *fmt, ...)
{
    va_list ap;
    if (app->opt.quiet)
        return;
    va_start(ap, fmt);
    fputs("mockbroker: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

mb_server *mb_server_by_name(mb_app *app, const char *name)
{
    size_t i;
    for (i = 0; i < app->nservers; i++)
        if (strcmp(app->servers[i].name, name) == 0)
            return &app->servers[i];
    return NULL;
}

/* ---- options ---- */

static int opt_int(const char *name, const char *val, int lo, int hi, int *out)
{
    int32_t v;
    if (!val || mb_parse_i32(val, &v) < 0 || v < lo || v > hi) {
        fprintf(stderr, "mockbroker: %s needs a number in [%d, %d]\n", name, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static void push_name(const char ***list, size_t *n, const char *name)
{
    *list = mb_xrealloc((void *)*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = name;
}

static int opt_route(const char *val, int *out)
{
    if (val && strcmp(val, "standard") == 0)
        *out = ROUTE_STANDARD;
    else if (val && strcmp(val, "fastjson") == 0)
        *out = ROUTE_FASTJSON;
    else if (val && strcmp(val, "auto") == 0)
        *out = ROUTE_AUTO;
    else {
        fputs("mockbroker: --route-json needs standard, fastjson or auto\n", stderr);
        return -1;
    }
    return 0;
}

/* Options taking a value; the rest are flags handled in parse_flag. */
static int parse_valued(mb_options *o, const char *name, const char *val)
{
    if (!strcmp(name, "--namesrv"))
        return opt_int(name, val, 1, MAX_NAMESRV, &o->nnamesrv);
    if (!strcmp(name, "--brokers"))
        return opt_int(name, val, 1, MAX_BROKERS, &o->nbrokers);
    if (!strcmp(name, "--ns-port"))
        return opt_int(name, val, 0, 65535, &o->ns_port);
    if (!strcmp(name, "--broker-port"))
        return opt_int(name, val, 0, 65535, &o->broker_port);
    if (!strcmp(name, "--control-port"))
        return opt_int(name, val, 0, 65535, &o->control_port);
    if (!strcmp(name, "--http-port"))
        return opt_int(name, val, 0, 65535, &o->http_port);
    if (!strcmp(name, "--queues"))
        return opt_int(name, val, 1, 1024, &o->queues);
    if (!strcmp(name, "--route-json"))
        return opt_route(val, &o->route_json);
    if (!val) {
        fprintf(stderr, "mockbroker: %s needs a value\n", name);
        return -1;
    }
    if (!strcmp(name, "--topic"))
        push_name(&o->topics, &o->ntopics, val);
    else
        push_name(&o->hidden, &o->nhidden, val);
    return 0;
}

static int is_valued(const char *name)
{
    static const char *const names[] = {"--namesrv",      "--brokers",   "--ns-port", "--broker-port",
                                        "--control-port", "--http-port", "--queues",  "--route-json",
                                        "--topic",        "--hidden"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i]))
            return 1;
    return 0;
}

static int parse_flag(mb_options *o, const char *name)
{
    if (!strcmp(name, "--no-autocreate"))
        o->autocreate = 0;
    else if (!strcmp(name, "--exit-on-eof"))
        o->exit_on_eof = 1;
    else if (!strcmp(name, "--quiet"))
        o->quiet = 1;
    else if (!strcmp(name, "--no-request-log"))
        o->request_log = 0;
    else {
        fprintf(stderr, "mockbroker: unknown option %s (see --help)\n", name);
        return -1;
    }
    return 0;
}

/* Returns 0 to run, 1 to exit successfully (--help), -1 on error.
 * Accepts "--name value" and "--name=value". */
static int parse_options(mb_options *o, int argc, char **argv)
{
    int i;
    memset(o, 0, sizeof *o);
    o->nnamesrv = 1;
    o->nbrokers = 2;
    o->autocreate = 1;
    o->request_log = 1;
    for (i = 1; i < argc; i++) {
        char name[64];
        const char *eq = strchr(argv[i], '='), *val = NULL;
        size_t nl = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, argv[i], nl);
        name[nl] = '\0';
        if (!is_valued(name)) {
            if (parse_flag(o, argv[i]) < 0)
                return -1;
            continue;
        }
        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (parse_valued(o, name, val) < 0)
            return -1;
    }
    return 0;
}

/* ---- start-up ---- */

static void init_server(mb_server *s, int index, int is_broker, int port)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->is_broker = is_broker;
    s->port = port;
    s->lfd = s->vip_lfd = -1;
    s->cut_next = -1;
    s->huge_next = -1;
}

static void init_broker_topics(mb_app *app, mb_server *b)
{
    size_t i;
    if (app->opt.autocreate) /* a real broker only creates TBW102 when allowed */
        mb_topic_create(b, MB_DEFAULT_TOPIC, 8, PERM_READ | PERM_WRITE | PERM_INHERIT);
    for (i = 0; i < app->opt.ntopics; i++)
        mb_topic_create(b, app->opt.topics[i], app->opt.queues > 0 ? app->opt.queues : 4,
                        PERM_READ | PERM_WRITE);
    for (i = 0; i < app->opt.nhidden; i++)
        if (!strcmp(app->opt.hidden[i], b->name))
            b->hidden = 1;
}

static int create_servers(mb_app *app)
{
    const mb_options *o = &app->opt;
    size_t i;
    app->nns = (size_t)o->nnamesrv;
    app->nservers = app->nns + (size_t)o->nbrokers;
    app->servers = mb_xcalloc(app->nservers, sizeof *app->servers);
    for (i = 0; i < app->nservers; i++) {
        mb_server *s = &app->servers[i];
        int is_broker = i >= app->nns;
        size_t k = is_broker ? i - app->nns : i;
        int base = is_broker ? o->broker_port : o->ns_port;
        init_server(s, (int)i, is_broker, base ? base + (int)k : 0);
        if (is_broker) {
            snprintf(s->name, sizeof s->name, "broker-%c", 'a' + (int)k);
            init_broker_topics(app, s);
        } else {
            snprintf(s->name, sizeof s->name, "ns%d", (int)k);
        }
        if (mb_server_up(app, s) < 0) {
            fprintf(stderr, "mockbroker: cannot listen for %s on 127.0.0.1:%d\n", s->name, s->port);
            return -1;
        }
    }
    for (i = 0; i < o->nhidden; i++)
        if (!mb_server_by_name(app, o->hidden[i]) || !mb_server_by_name(app, o->hidden[i])->is_broker) {
            fprintf(stderr, "mockbroker: --hidden %s: no such broker\n", o->hidden[i]);
            return -1;
        }
    return 0;
}

static int open_side_ports(mb_app *app)
{
    app->ctl_lfd = mb_listen(app->opt.control_port, &app->ctl_port);
    app->http_lfd = mb_listen(app->opt.http_port, &app->http_port);
    if (app->ctl_lfd < 0 || app->http_lfd < 0) {
        fputs("mockbroker: cannot open the control or HTTP port\n", stderr);
        return -1;
    }
    return 0;
}

static void print_ready(mb_app *app)
{
    mb_buf ns = {0}, line = {0};
    size_t i;
    for (i = 0; i < app->nns; i++)
        mb_buf_printf(&ns, "%s127.0.0.1:%d", i ? ";" : "", app->servers[i].port);
    app->ready_ns = mb_xstrdup((char *)ns.p);
    app->nsaddr = mb_xstrdup((char *)ns.p);
    mb_buf_printf(&line, "MOCKBROKER READY namesrv=%s brokers=", (char *)ns.p);
    for (i = app->nns; i < app->nservers; i++)
        mb_buf_printf(&line, "%s%s@127.0.0.1:%d", i > app->nns ? "," : "", app->servers[i].name,
                      app->servers[i].port);
    mb_buf_printf(&line, " control=127.0.0.1:%d http=127.0.0.1:%d\n", app->ctl_port, app->http_port);
    fputs((char *)line.p, stdout);
    fflush(stdout);
    mb_buf_free(&ns);
    mb_buf_free(&line);
}

/* ---- shutdown ---- */

static void shutdown_app(mb_app *app)
{
    size_t i;
    for (i = 0; i < app->nconns; i++) {
        mb_conn_close(app, app->conns[i]);
        free(app->conns[i]);
    }
    for (i = 0; i < app->nservers; i++) {
        if (app->servers[i].lfd >= 0)
            close(app->servers[i].lfd);
        if (app->servers[i].vip_lfd >= 0)
            close(app->servers[i].vip_lfd);
    }
    if (app->ctl_lfd >= 0)
        close(app->ctl_lfd);
    if (app->http_lfd >= 0)
        close(app->http_lfd);
    for (i = 0; i < app->ntimers; i++)
        free(app->timers[i].data);
    free(app->timers);
    free(app->conns);
    free(app->free_slots);
    mb_store_free(app);
    free(app->servers);
    free(app->nsaddr);
    free(app->ready_ns);
    free((void *)app->opt.topics);
    free((void *)app->opt.hidden);
}

int main(int argc, char **argv)
{
    mb_app app;
    int rc;
    memset(&app, 0, sizeof app);
    app.ctl_lfd = app.http_lfd = -1;
    app.store.chunk_size = MB_STORE_CHUNK;
    rc = parse_options(&app.opt, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    mb_install_signals();
    if (create_servers(&app) < 0 || open_side_ports(&app) < 0) {
        shutdown_app(&app);
        return 1;
    }
    print_ready(&app);
    mb_loop_run(&app);
    mb_log(&app, "exiting");
    shutdown_app(&app);
    return 0;
}
