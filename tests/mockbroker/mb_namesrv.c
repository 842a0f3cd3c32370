/* mb_namesrv.c - the NameServer side: routes are derived on every request
 * from the topics the (non-hidden) brokers hold, so auto-created topics
 * are served at once, as if the broker had re-registered. */
#include "mb_app.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mb_json.h"

#define FAQ_SUFFIX "\nSee http://rocketmq.apache.org/docs/faq/ for further details."

static void put_broker_data(mb_buf *out, const mb_server *b, int standard)
{
    /* fastjson writes the Long map key unquoted unless asked for standard JSON */
    mb_buf_printf(out, "{\"brokerAddrs\":{%s:\"127.0.0.1:%d\"},\"brokerName\":", standard ? "\"0\"" : "0",
                  b->port);
    mj_put_str(out, b->name, strlen(b->name));
    mb_buf_puts(out, ",\"cluster\":\"" MB_CLUSTER "\"}");
}

static void put_queue_data(mb_buf *out, const mb_server *b, const mb_topic *t)
{
    mb_buf_puts(out, "{\"brokerName\":");
    mj_put_str(out, b->name, strlen(b->name));
    mb_buf_printf(out, ",\"perm\":%d,\"readQueueNums\":%d,\"topicSysFlag\":0,\"writeQueueNums\":%d}",
                  t->perm, t->read_queues, t->write_queues);
}

/* Brokers are created in name order, so index order is the sorted order. */
int mb_route_json(mb_app *app, const char *topic, int standard, mb_buf *out)
{
    size_t i;
    int n = 0;
    mb_buf queues = {0};
    mb_buf_puts(out, "{\"brokerDatas\":[");
    for (i = app->nns; i < app->nservers; i++) {
        mb_server *b = &app->servers[i];
        mb_topic *t = b->hidden ? NULL : mb_topic_find(b, topic);
        if (!t)
            continue;
        if (n++) {
            mb_buf_putc(out, ',');
            mb_buf_putc(&queues, ',');
        }
        put_broker_data(out, b, standard);
        put_queue_data(&queues, b, t);
    }
    mb_buf_puts(out, "],\"filterServerTable\":{},\"queueDatas\":[");
    mb_buf_put(out, queues.p, queues.len);
    mb_buf_puts(out, "]}");
    mb_buf_free(&queues);
    return n;
}

/* As a 4.9.4+ NameServer: standard JSON for version >= V4_9_4 (401) or
 * acceptStandardJsonOnly=true, else fastjson's default output. */
static int wants_standard_json(const mb_app *app, const mb_cmd *req)
{
    const char *accept = mb_cmd_ext(req, "acceptStandardJsonOnly");
    if (app->opt.route_json != ROUTE_AUTO)
        return app->opt.route_json == ROUTE_STANDARD;
    return req->version >= 401 || (accept && strcasecmp(accept, "true") == 0);
}

static int get_route(mb_app *app, const mb_cmd *req, mb_reply *r)
{
    const char *topic = mb_cmd_ext(req, "topic");
    char remark[512];
    if (!topic)
        topic = "null"; /* Java only logs the missing field and looks up null */
    if (mb_route_json(app, topic, wants_standard_json(app, req), &r->body) > 0)
        return 1;
    mb_buf_free(&r->body);
    snprintf(remark, sizeof remark, "No topic route info in name server for the topic: %s" FAQ_SUFFIX,
             topic);
    r->cmd.code = 17; /* TOPIC_NOT_EXIST */
    mb_cmd_set_remark(&r->cmd, remark);
    return 1;
}

/* The mock keeps no KV config, so every lookup misses like an empty one. */
static int get_kv_config(const mb_cmd *req, mb_reply *r)
{
    const char *ns = mb_cmd_ext(req, "namespace"), *key = mb_cmd_ext(req, "key");
    char remark[512];
    snprintf(remark, sizeof remark, "No config item, Namespace: %s Key: %s", ns ? ns : "null",
             key ? key : "null");
    r->cmd.code = 22; /* QUERY_NOT_FOUND */
    mb_cmd_set_remark(&r->cmd, remark);
    r->cmd.has_ext = 1; /* the (empty) GetKVConfigResponseHeader: "extFields":{} */
    return 1;
}

int mb_namesrv_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    (void)c;
    switch (req->code) {
    case 105: /* GET_ROUTEINFO_BY_TOPIC */
        return get_route(app, req, r);
    case 101: /* GET_KV_CONFIG */
        return get_kv_config(req, r);
    default:
        return mb_reply_unsupported(req, r);
    }
}
