/* mb_reply.c - request-reply as a 4.9.8 broker serves it, with the mock
 * acting for the responder. With RESPOND on for a broker, each message it
 * stores that carries REPLY_TO_CLIENT is answered as if a consumer had sent
 * MessageUtil.createReplyMessage(request, "reply:" + body) with
 * SEND_REPLY_MESSAGE_V2 to that broker: ReplyMessageProcessor pushes it with
 * PUSH_REPLY_MESSAGE_TO_CLIENT (326, a request the client answers) over the
 * connection that last heartbeated that client id (ProducerManager
 * .findChannel), delay ms after the store. What was pushed and how the
 * client answered are kept for the REPLIES command. */
#include "mb_app.h"
#include "mb_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opaques of the pushes: a range of their own, to tell the answers apart. */
#define PUSH_OPAQUE_FIRST 2000000
static int32_t push_opaque = PUSH_OPAQUE_FIRST;

static mb_conn *channel_of(mb_app *app, const mb_server *b, const char *client_id)
{
    size_t i;
    mb_conn *c;
    for (i = app->nregs; i-- > 0;)
        if (app->regs[i].srv == b->index && strcmp(app->regs[i].client_id, client_id) == 0 &&
            (c = mb_conn_get(app, app->regs[i].ref)) != NULL)
            return c;
    return NULL;
}

/* The reply's properties as the responder's producer and the broker leave
 * them: createReplyMessage's four, the cluster, the push time. */
static void reply_props(const mb_props *req, mb_buf *out)
{
    mb_props p;
    char now[32];
    mb_props_parse(&p, "", 0);
    mb_props_set(&p, "MSG_TYPE", "reply");
    mb_props_set(&p, "CORRELATION_ID", mb_props_get(req, "CORRELATION_ID") ? mb_props_get(req, "CORRELATION_ID") : "");
    mb_props_set(&p, "REPLY_TO_CLIENT", mb_props_get(req, "REPLY_TO_CLIENT"));
    if (mb_props_get(req, "TTL"))
        mb_props_set(&p, "TTL", mb_props_get(req, "TTL"));
    mb_props_set(&p, "CLUSTER", MB_CLUSTER);
    snprintf(now, sizeof now, "%lld", (long long)mb_now_ms());
    mb_props_set(&p, "PUSH_REPLY_TIME", now);
    mb_props_encode(&p, out);
    mb_props_free(&p);
}

void mb_reply_after_store(mb_app *app, mb_server *b, const mb_msg *m)
{
    mb_props sent;
    const char *client;
    mb_conn *target;
    mb_cmd push;
    mb_buf props = {0}, body = {0}, frame = {0}, line = {0};
    char num[32], host[64];
    if (!b->respond)
        return;
    mb_props_parse(&sent, m->props, m->props_len);
    client = mb_props_get(&sent, "REPLY_TO_CLIENT");
    if (!client) {
        mb_props_free(&sent);
        return;
    }
    target = channel_of(app, b, client);
    mb_buf_printf(&line, "PUSH server=%s clientID=%s correlationId=%s", b->name, client,
                  mb_props_get(&sent, "CORRELATION_ID") ? mb_props_get(&sent, "CORRELATION_ID") : "null");
    if (!target) { /* the replier would get SYSTEM_ERROR; nothing reaches the client */
        mb_buf_puts(&line, " result=no channel");
        mb_lines_add(&app->replies, b->index, (char *)line.p);
        mb_props_free(&sent);
        return;
    }
    reply_props(&sent, &props);
    mb_buf_puts(&body, "reply:");
    mb_buf_put(&body, m->body, m->body_len);
    mb_cmd_init(&push);
    push.code = 326;
    push.version = MB_VERSION_4_9_8;
    push.language = MB_LANG_JAVA;
    push.opaque = push_opaque++;
    push.ser = MB_SER_JSON;
    mb_cmd_add_ext(&push, "producerGroup", "MockResponderGroup");
    mb_cmd_add_ext(&push, "topic", MB_CLUSTER "_REPLY_TOPIC");
    mb_cmd_add_ext(&push, "defaultTopic", MB_DEFAULT_TOPIC);
    mb_cmd_add_ext(&push, "defaultTopicQueueNums", "4");
    mb_cmd_add_ext(&push, "queueId", "0");
    mb_cmd_add_ext(&push, "sysFlag", "0");
    snprintf(num, sizeof num, "%lld", (long long)mb_now_ms());
    mb_cmd_add_ext(&push, "bornTimestamp", num);
    mb_cmd_add_ext(&push, "flag", "0");
    mb_cmd_add_ext(&push, "properties", (const char *)props.p);
    mb_cmd_add_ext(&push, "reconsumeTimes", "0");
    mb_cmd_add_ext(&push, "unitMode", "false");
    mb_cmd_add_ext(&push, "bornHost", "127.0.0.1:40000");
    snprintf(host, sizeof host, "127.0.0.1:%d", b->port);
    mb_cmd_add_ext(&push, "storeHost", host);
    mb_cmd_add_ext(&push, "storeTimestamp", num);
    push.body = body.p;
    push.body_len = body.len;
    mb_cmd_encode(&push, &frame);
    mb_timer_add(app, mb_mono_ms() + b->respond_delay_ms, mb_conn_ref_of(target), frame.p, frame.len);
    mb_buf_printf(&line, " opaque=%d", (int)push.opaque);
    mb_lines_add(&app->replies, b->index, (char *)line.p);
    mb_cmd_free(&push);
    mb_buf_free(&props);
    mb_buf_free(&body);
    mb_buf_free(&frame);
    mb_props_free(&sent);
}

int mb_reply_on_answer(mb_app *app, mb_conn *c, const mb_cmd *resp)
{
    mb_buf line = {0};
    if (resp->opaque < PUSH_OPAQUE_FIRST || resp->opaque >= push_opaque)
        return 0;
    mb_buf_printf(&line, "ANSWER server=%s opaque=%d code=%d flag=%d", c->srv->name, (int)resp->opaque, resp->code,
                  (int)resp->flag);
    if (resp->remark) {
        mb_buf_puts(&line, " remark=");
        mj_put_str(&line, resp->remark, resp->remark_len);
    }
    mb_lines_add(&app->replies, c->srv->index, (char *)line.p);
    return 1;
}
