/* mb_remoting.c - one decoded request: log it, apply the fault injections
 * configured on its server, hand it to the name server or broker logic,
 * and queue the response (possibly delayed or inflated). */
#include "mb_app.h"
#include "mb_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mb_reply_init(mb_reply *r, const mb_cmd *req, int code, const char *remark)
{
    memset(r, 0, sizeof *r);
    mb_cmd_init(&r->cmd);
    r->cmd.code = code;
    r->cmd.version = MB_VERSION_4_9_8;
    r->cmd.language = MB_LANG_JAVA;
    r->cmd.opaque = req->opaque;
    r->cmd.flag = MB_FLAG_RESPONSE;
    r->cmd.ser = req->ser; /* processors answer in the request's serialization */
    mb_cmd_set_remark(&r->cmd, remark);
}

static void reply_free(mb_reply *r)
{
    mb_cmd_free(&r->cmd);
    mb_buf_free(&r->body);
}

static void log_request(mb_app *app, const mb_conn *c, const mb_cmd *req)
{
    mb_buf line = {0};
    if (!app->opt.request_log)
        return;
    mb_buf_printf(&line, "%s code=%d opaque=%d flag=%d ser=%s ext=", c->srv->name, req->code,
                  (int)req->opaque, (int)req->flag, req->ser == MB_SER_JSON ? "JSON" : "ROCKETMQ");
    mb_cmd_ext_json(req, &line);
    mb_buf_printf(&line, " version=%d lang=%s body=%zu", req->version,
                  mb_language_name(req->language), req->body_len);
    if (req->remark) {
        mb_buf_puts(&line, " remark=");
        mj_put_str(&line, req->remark, req->remark_len);
    }
    mb_lines_add(&app->requests, c->srv->index, (char *)line.p);
}

/* HUGE, then DELAY, then the connection's output queue. */
static void send_reply(mb_app *app, mb_conn *c, mb_reply *r)
{
    mb_server *s = c->srv;
    mb_buf frame = {0};
    if (s->huge_next >= 0) {
        r->body.len = 0;
        mb_buf_reserve(&r->body, (size_t)s->huge_next);
        memset(r->body.p, 'x', (size_t)s->huge_next);
        r->body.len = (size_t)s->huge_next;
        s->huge_next = -1;
    }
    r->cmd.body = r->body.p;
    r->cmd.body_len = r->body.len;
    if (s->delay_ms <= 0) { /* straight into the output queue: no copy */
        if (c->in_use)
            mb_cmd_encode(&r->cmd, &c->out);
        return;
    }
    mb_cmd_encode(&r->cmd, &frame);
    mb_timer_add(app, mb_mono_ms() + s->delay_ms, mb_conn_ref_of(c), frame.p, frame.len);
    mb_buf_free(&frame);
}

static mb_err_rule *match_rule(mb_server *s, int code)
{
    size_t i;
    for (i = 0; i < s->nrules; i++)
        if (s->rules[i].count != 0 && (s->rules[i].req_code == code || s->rules[i].req_code == -1))
            return &s->rules[i];
    return NULL;
}

int mb_reply_unsupported(const mb_cmd *req, mb_reply *r)
{
    char remark[64];
    snprintf(remark, sizeof remark, " request type %d not supported", req->code);
    r->cmd.code = 3; /* REQUEST_CODE_NOT_SUPPORTED */
    mb_cmd_set_remark(&r->cmd, remark);
    /* Written by the Java remoting layer itself: default (JSON) serialization,
     * and sent even for one-way requests (PROTOCOL.md erratum E2). */
    r->cmd.ser = MB_SER_JSON;
    r->even_oneway = 1;
    return 1;
}

/* Always leaves *r initialised (code 0, no remark) for the caller to free. */
static int process(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    mb_reply_init(r, req, 0, NULL);
    if (c->srv->is_broker)
        return mb_broker_handle(app, c, req, r);
    return mb_namesrv_handle(app, c, req, r);
}

static void handle_request(mb_app *app, mb_conn *c, const mb_cmd *req)
{
    mb_server *s = c->srv;
    int oneway = (req->flag & MB_FLAG_ONEWAY) != 0;
    mb_err_rule *rule;
    mb_reply r;
    int answer;
    if (!oneway && s->silent_left > 0) { /* SILENT: swallow the request */
        s->silent_left--;
        if (s->silent_process) {
            process(app, c, req, &r);
            reply_free(&r);
        }
        return;
    }
    rule = match_rule(s, req->code);
    if (rule) { /* ERROR: answer instead of processing */
        if (rule->count > 0)
            rule->count--;
        if (oneway)
            return;
        mb_reply_init(&r, req, rule->resp_code, rule->remark);
        send_reply(app, c, &r);
        reply_free(&r);
        return;
    }
    answer = process(app, c, req, &r);
    if (answer && (!oneway || r.even_oneway))
        send_reply(app, c, &r);
    reply_free(&r);
}

int mb_remoting_on_frame(mb_app *app, mb_conn *c, const unsigned char *frame, size_t len)
{
    mb_cmd req;
    const char *err;
    if (mb_cmd_decode(&req, frame, len, &err) < 0) {
        /* the Java decoder drops the channel on any decoding error */
        mb_log(app, "%s: closing connection: %s", c->srv->name, err);
        mb_conn_close(app, c);
        return -1;
    }
    if (req.flag & MB_FLAG_RESPONSE) {
        mb_reply_on_answer(app, c, &req); /* only pushed replies expect one */
        mb_cmd_free(&req);
        return 0;
    }
    log_request(app, c, &req);
    handle_request(app, c, &req);
    mb_cmd_free(&req);
    return 0;
}
