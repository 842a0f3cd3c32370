/* mb_broker.c - the Broker side: sends (single and batch), heartbeats,
 * unregistration, END_TRANSACTION, and the transaction check-back. The
 * checks and their remarks follow the 4.9.8 broker. */
#include "mb_app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mb_json.h"

#define FAQ_SUFFIX "\nSee http://rocketmq.apache.org/docs/faq/ for further details."
#define ILLEGAL_REMARK                                                                        \
    "the message is illegal, maybe msg body or properties length not matched. msg body length " \
    "limit 128k, msg properties length limit 32k."
#define TOPIC_MAX_LEN 127

enum {
    CODE_SUCCESS = 0,
    CODE_SYSTEM_ERROR = 1,
    CODE_MESSAGE_ILLEGAL = 13,
    CODE_NO_PERMISSION = 16,
    CODE_TOPIC_NOT_EXIST = 17
};

/* ---- small helpers ---- */

static int java_bool(const char *s)
{
    return s && strcasecmp(s, "true") == 0; /* Boolean.parseBoolean */
}

static void set_error(mb_reply *r, int code, const char *remark)
{
    r->cmd.code = code;
    mb_cmd_set_remark(&r->cmd, remark);
}

/* An exception escaping a processor is answered by the remoting layer:
 * SYSTEM_ERROR in the default (JSON) serialization. */
static void java_exception(mb_reply *r, const char *text)
{
    set_error(r, CODE_SYSTEM_ERROR, text);
    r->cmd.ser = MB_SER_JSON;
}

static char *props_to_string(const mb_props *p, size_t *len)
{
    mb_buf b = {0};
    mb_props_encode(p, &b);
    *len = b.len;
    if (!b.p)
        return mb_xstrdup("");
    return (char *)b.p;
}

/* ---- send request header (SendMessageRequestHeader / V2) ---- */

enum {
    F_GROUP, F_TOPIC, F_DEFAULT_TOPIC, F_DEFAULT_QUEUES, F_QUEUE_ID, F_SYS_FLAG,
    F_BORN, F_FLAG, F_PROPS, F_RECONSUME, F_BATCH, F_COUNT
};

static const char *const v1_names[F_COUNT] = {
    "producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag",
    "bornTimestamp", "flag", "properties", "reconsumeTimes", "batch",
};
static const char *const v2_names[F_COUNT] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "m"};

typedef struct send_hdr {
    int v2;
    const char *group, *topic, *default_topic, *props;
    size_t props_len;
    int has_default_queues;
    int64_t default_queues, queue_id, sys_flag, born_ts, flag, reconsume;
    int batch;
} send_hdr;

static const char *field(const mb_cmd *req, const send_hdr *h, int f)
{
    return mb_cmd_ext(req, h->v2 ? v2_names[f] : v1_names[f]);
}

/* 1 = value read, 0 = absent. The V2 fast path calls parseInt directly, so
 * bad text throws (-1, reply set); the V1 reflective decoder logs and
 * leaves the field null. */
static int num_field(const mb_cmd *req, const send_hdr *h, int f, int is_long, int64_t *out,
                     mb_reply *r)
{
    const char *s = field(req, h, f);
    int32_t v32;
    char remark[160];
    int ok;
    if (!s)
        return 0;
    ok = is_long ? mb_parse_i64(s, out) == 0 : mb_parse_i32(s, &v32) == 0;
    if (ok && !is_long)
        *out = v32;
    if (ok)
        return 1;
    if (!h->v2)
        return 0;
    snprintf(remark, sizeof remark, "java.lang.NumberFormatException: For input string: \"%.100s\"", s);
    java_exception(r, remark);
    return -1;
}

static int parse_send_header(const mb_cmd *req, send_hdr *h, mb_reply *r)
{
    static const int required[] = {F_QUEUE_ID, F_SYS_FLAG, F_BORN, F_FLAG};
    int64_t *targets[] = {&h->queue_id, &h->sys_flag, &h->born_ts, &h->flag};
    size_t i;
    int rc;
    memset(h, 0, sizeof *h);
    h->v2 = req->code != 10; /* 310 and 320 are always decoded as V2 */
    h->group = field(req, h, F_GROUP);
    h->topic = field(req, h, F_TOPIC);
    h->default_topic = field(req, h, F_DEFAULT_TOPIC);
    h->props = field(req, h, F_PROPS);
    h->props_len = h->props ? strlen(h->props) : 0;
    h->batch = java_bool(field(req, h, F_BATCH));
    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        rc = num_field(req, h, required[i], required[i] == F_BORN, targets[i], r);
        if (rc < 0)
            return -1;
        if (rc == 0) { /* the null is unboxed later in the processor */
            java_exception(r, "java.lang.NullPointerException");
            return -1;
        }
    }
    rc = num_field(req, h, F_DEFAULT_QUEUES, 0, &h->default_queues, r);
    if (rc < 0 || num_field(req, h, F_RECONSUME, 0, &h->reconsume, r) < 0)
        return -1;
    h->has_default_queues = rc;
    if (!h->topic) { /* a null topic fails the topic table lookup */
        java_exception(r, "java.lang.NullPointerException");
        return -1;
    }
    return 0;
}

/* ---- topic checks (TopicValidator) and auto-creation ---- */

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f' && *s != '\v')
            return 0;
    return 1;
}

static int legal_name_chars(const char *s)
{
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '%' || ch == '|' || ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int not_allowed_send_topic(const char *t)
{
    static const char *const topics[] = {
        "SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC",
        "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT",
    };
    size_t i;
    for (i = 0; i < sizeof topics / sizeof topics[0]; i++)
        if (strcmp(t, topics[i]) == 0)
            return 1;
    return 0;
}

static int check_topic(const char *t, mb_reply *r)
{
    char remark[256];
    if (is_blank(t)) {
        set_error(r, CODE_SYSTEM_ERROR, "The specified topic is blank.");
        return -1;
    }
    if (!legal_name_chars(t)) {
        set_error(r, CODE_SYSTEM_ERROR,
                  "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
        return -1;
    }
    if (strlen(t) > TOPIC_MAX_LEN) {
        set_error(r, CODE_SYSTEM_ERROR, "The specified topic is longer than topic max length.");
        return -1;
    }
    if (not_allowed_send_topic(t)) {
        snprintf(remark, sizeof remark, "Sending message to topic[%s] is forbidden.", t);
        set_error(r, CODE_NO_PERMISSION, remark);
        return -1;
    }
    return 0;
}

/* TopicConfigManager.createTopicInSendMessageMethod: the default topic must
 * exist here and be inheritable; the copy gets min(requested, default's)
 * queues and the default's permission without the inherit bit. */
static mb_topic *auto_create(mb_app *app, mb_server *b, const send_hdr *h, mb_reply *r)
{
    mb_topic *def = h->default_topic ? mb_topic_find(b, h->default_topic) : NULL;
    int64_t q;
    int perm;
    if (!def || !(def->perm & PERM_INHERIT))
        return NULL;
    if (!app->opt.autocreate && strcmp(h->default_topic, MB_DEFAULT_TOPIC) == 0)
        return NULL;
    if (!h->has_default_queues) {
        java_exception(r, "java.lang.NullPointerException");
        return NULL;
    }
    q = h->default_queues < def->write_queues ? h->default_queues : def->write_queues;
    if (app->opt.queues > 0 && q > app->opt.queues) /* only when --queues was given */
        q = app->opt.queues;
    if (q < 1)
        q = 1;
    perm = def->perm & ~PERM_INHERIT;
    mb_log(app, "%s: auto-created topic %s with %d queues", b->name, h->topic, (int)q);
    return mb_topic_create(b, h->topic, (int)q, perm);
}

static mb_topic *topic_for_send(mb_app *app, mb_server *b, const send_hdr *h, mb_reply *r)
{
    char remark[512];
    mb_topic *t = mb_topic_find(b, h->topic);
    if (t)
        return t;
    t = auto_create(app, b, h, r);
    if (!t && r->cmd.code == CODE_SUCCESS) {
        snprintf(remark, sizeof remark, "topic[%s] not exist, apply first please!" FAQ_SUFFIX, h->topic);
        set_error(r, CODE_TOPIC_NOT_EXIST, remark);
    }
    return t;
}

static const char *perm_string(int perm, char out[4])
{
    out[0] = (perm & PERM_READ) ? 'R' : '-';
    out[1] = (perm & PERM_WRITE) ? 'W' : '-';
    out[2] = (perm & PERM_INHERIT) ? 'X' : '-';
    out[3] = '\0';
    return out;
}

static int check_queue_id(const mb_conn *c, const mb_topic *t, int64_t qid, mb_reply *r)
{
    char remark[512], perm[4];
    int valid = t->write_queues > t->read_queues ? t->write_queues : t->read_queues;
    if (qid < valid)
        return 0;
    snprintf(remark, sizeof remark,
             "request queueId[%d] is illegal, TopicConfig [topicName=%s, readQueueNums=%d, "
             "writeQueueNums=%d, perm=%s, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false] "
             "Producer: 127.0.0.1:%d",
             (int)qid, t->name, t->read_queues, t->write_queues, perm_string(t->perm, perm),
             (int)c->peer_port);
    set_error(r, CODE_SYSTEM_ERROR, remark);
    return -1;
}

/* ---- storing ---- */

static void fill_common(mb_msg *m, const mb_conn *c, const mb_cmd *req, const send_hdr *h, int32_t qid)
{
    m->code = req->code;
    m->ser = req->ser;
    m->topic = mb_xstrdup(h->topic);
    m->queue_id = qid;
    m->sys_flag = (int32_t)h->sys_flag;
    m->born_ts = h->born_ts;
    m->store_ts = mb_now_ms();
    m->born_port = c->peer_port;
    m->reconsume_times = (int32_t)h->reconsume;
    m->producer_group = h->group ? mb_xstrdup(h->group) : NULL;
}

/* Places the record in the commit log; the offset advances by its size. */
static void append_to_log(mb_server *b, mb_msg *m, const char *log_topic)
{
    m->stored_size = mb_stored_size(m->body_len, strlen(log_topic), m->stored_props_len);
    m->commit_offset = b->commit_offset;
    b->commit_offset += (int64_t)m->stored_size;
    mb_offset_msg_id(m->offset_id, MB_LOCALHOST, b->port, m->commit_offset);
}

static void send_response(mb_reply *r, int32_t qid, const char *msg_id, int64_t queue_offset)
{
    char num[32];
    /* the order a 4.9.8 broker's HashMap produces */
    snprintf(num, sizeof num, "%d", (int)qid);
    mb_cmd_add_ext(&r->cmd, "queueId", num);
    mb_cmd_add_ext(&r->cmd, "TRACE_ON", "true");
    mb_cmd_add_ext(&r->cmd, "MSG_REGION", MB_REGION);
    mb_cmd_add_ext(&r->cmd, "msgId", msg_id);
    snprintf(num, sizeof num, "%lld", (long long)queue_offset);
    mb_cmd_add_ext(&r->cmd, "queueOffset", num);
}

/* A 4.9.8 broker stores a single message's properties re-encoded with
 * CLUSTER added and WAIT dropped; a half message keeps WAIT (its map is
 * re-encoded after WAIT is put back) and gains REAL_TOPIC / REAL_QID. */
static char *stored_single_props(const mb_props *sent, int half, const char *topic, int32_t qid,
                                 size_t *len)
{
    mb_props p;
    char qbuf[16];
    size_t i;
    char *s;
    memset(&p, 0, sizeof p);
    for (i = 0; i < sent->n; i++)
        if (half || strcmp(sent->kv[i].key, "WAIT") != 0)
            mb_props_set(&p, sent->kv[i].key, sent->kv[i].val);
    mb_props_set(&p, "CLUSTER", MB_CLUSTER);
    if (half) {
        snprintf(qbuf, sizeof qbuf, "%d", (int)qid);
        mb_props_set(&p, "REAL_TOPIC", topic);
        mb_props_set(&p, "REAL_QID", qbuf);
    }
    s = props_to_string(&p, len);
    mb_props_free(&p);
    return s;
}

static int store_single(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                        int32_t qid, mb_reply *r)
{
    mb_server *b = c->srv;
    mb_props sent;
    int half;
    mb_msg *m = mb_store_add(app, b);
    mb_props_parse(&sent, h->props ? h->props : "", h->props_len);
    half = java_bool(mb_props_get(&sent, "TRAN_MSG"));
    fill_common(m, c, req, h, qid);
    m->flag = (int32_t)h->flag;
    m->props = mb_xstrndup(h->props ? h->props : "", h->props_len);
    m->props_len = h->props_len;
    m->stored_props = stored_single_props(&sent, half, h->topic, qid, &m->stored_props_len);
    m->body = mb_xmalloc(req->body_len);
    memcpy(m->body, req->body, req->body_len);
    m->body_len = req->body_len;
    m->tran_state = half ? TRAN_PREPARED : TRAN_NONE;
    /* half messages go to queue 0 of the half topic; the client is told
     * that queue's offset and its own queueId */
    m->queue_offset = half ? b->half_offset++ : t->next_offset[qid]++;
    append_to_log(b, m, half ? MB_HALF_TOPIC : h->topic);
    send_response(r, qid, m->offset_id, m->queue_offset);
    mb_props_free(&sent);
    return 1;
}

/* Joins an inner property string and a batch-level one the way the 4.9
 * MessageExtBatchEncoder does: one 0x02 between them when needed. */
static char *join_props(const char *inner, size_t il, const char *outer, size_t ol, size_t *len)
{
    int sep = il > 0 && ol > 0 && inner[il - 1] != 2;
    char *s = mb_xmalloc(il + ol + (size_t)sep + 1);
    memcpy(s, inner, il);
    if (sep)
        s[il] = 2;
    memcpy(s + il + sep, outer, ol);
    *len = il + ol + (size_t)sep;
    s[*len] = '\0';
    return s;
}

typedef struct batch_ctx {
    const char *sent_suffix;   /* header properties, as sent */
    size_t sent_len;
    char *stored_suffix;       /* header properties + CLUSTER, as stored */
    size_t stored_len;
} batch_ctx;

/* Validates every record before storing any, so a bad batch stores nothing. */
static int check_batch(const mb_cmd *req, const send_hdr *h, const batch_ctx *bc, mb_reply *r)
{
    size_t pos = 0, count = 0;
    mb_batch_item it;
    int rc;
    char remark[256];
    if (strncmp(h->topic, "%RETRY%", 7) == 0) {
        snprintf(remark, sizeof remark, "batch request does not support retry group %s", h->topic);
        set_error(r, CODE_MESSAGE_ILLEGAL, remark);
        return -1;
    }
    while ((rc = mb_batch_next(req->body, req->body_len, &pos, &it)) == 1) {
        if (it.props_len + bc->stored_len + 1 > MB_MAX_PROPS)
            rc = -1;
        if (rc < 0)
            break;
        count++;
    }
    /* transactional or delayed batches are refused by the 4.9 store */
    if (rc < 0 || count == 0 || (h->sys_flag & 0xC) != 0) {
        set_error(r, CODE_MESSAGE_ILLEGAL, ILLEGAL_REMARK);
        return -1;
    }
    return 0;
}

static void batch_ctx_init(batch_ctx *bc, const send_hdr *h)
{
    mb_props sent, stored;
    size_t i;
    bc->sent_suffix = h->props ? h->props : "";
    bc->sent_len = h->props_len;
    mb_props_parse(&sent, bc->sent_suffix, bc->sent_len);
    memset(&stored, 0, sizeof stored);
    mb_props_set(&stored, "CLUSTER", MB_CLUSTER); /* first, as in the captured store */
    for (i = 0; i < sent.n; i++)
        mb_props_set(&stored, sent.kv[i].key, sent.kv[i].val);
    bc->stored_suffix = props_to_string(&stored, &bc->stored_len);
    mb_props_free(&sent);
    mb_props_free(&stored);
}

static int delay_level(const send_hdr *h)
{
    mb_props p;
    int32_t level = 0;
    const char *d;
    mb_props_parse(&p, h->props ? h->props : "", h->props_len);
    d = mb_props_get(&p, "DELAY");
    if (d && mb_parse_i32(d, &level) < 0)
        level = 0;
    mb_props_free(&p);
    return (int)level;
}

static void store_batch_item(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                             int32_t qid, const batch_ctx *bc, const mb_batch_item *it, mb_buf *ids)
{
    mb_server *b = c->srv;
    mb_msg *m = mb_store_add(app, b);
    fill_common(m, c, req, h, qid);
    m->flag = it->flag;
    m->props = join_props(it->props, it->props_len, bc->sent_suffix, bc->sent_len, &m->props_len);
    m->stored_props = join_props(it->props, it->props_len, bc->stored_suffix, bc->stored_len,
                                 &m->stored_props_len);
    m->body = mb_xmalloc(it->body_len);
    memcpy(m->body, it->body, it->body_len);
    m->body_len = it->body_len;
    m->queue_offset = t->next_offset[qid]++;
    append_to_log(b, m, h->topic);
    if (ids->len)
        mb_buf_putc(ids, ',');
    mb_buf_puts(ids, m->offset_id);
}

static int store_batch(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                       int32_t qid, mb_reply *r)
{
    batch_ctx bc;
    mb_batch_item it;
    mb_buf ids = {0};
    size_t pos = 0;
    int64_t first = t->next_offset[qid];
    batch_ctx_init(&bc, h);
    if (check_batch(req, h, &bc, r) < 0 || delay_level(h) > 0) {
        if (r->cmd.code == CODE_SUCCESS)
            set_error(r, CODE_MESSAGE_ILLEGAL, ILLEGAL_REMARK);
        free(bc.stored_suffix);
        return 1;
    }
    while (mb_batch_next(req->body, req->body_len, &pos, &it) == 1)
        store_batch_item(app, c, t, h, req, qid, &bc, &it, &ids);
    send_response(r, qid, (const char *)ids.p, first);
    mb_buf_free(&ids);
    free(bc.stored_suffix);
    return 1;
}

static int send_message(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    mb_server *b = c->srv;
    send_hdr h;
    mb_topic *t;
    int64_t qid;
    if (parse_send_header(req, &h, r) < 0 || check_topic(h.topic, r) < 0)
        return 1;
    t = topic_for_send(app, b, &h, r);
    if (!t || check_queue_id(c, t, h.queue_id, r) < 0)
        return 1;
    qid = h.queue_id;
    if (qid < 0) /* the broker picks a queue itself */
        qid = t->write_queues > 0 ? (int64_t)(b->rr++ % (unsigned)t->write_queues) : 0;
    if (req->body_len > MB_MAX_BODY || h.props_len > MB_MAX_PROPS) {
        set_error(r, CODE_MESSAGE_ILLEGAL, ILLEGAL_REMARK);
        return 1;
    }
    /* the broker takes the batch path from the header flag, not the code */
    if (h.batch)
        return store_batch(app, c, t, &h, req, (int32_t)qid, r);
    return store_single(app, c, t, &h, req, (int32_t)qid, r);
}

/* ---- clients ---- */

static void reg_remove(mb_app *app, int srv, const char *group, const char *client)
{
    size_t i = 0;
    while (i < app->nregs) {
        mb_reg *g = &app->regs[i];
        if (g->srv == srv && strcmp(g->group, group) == 0 && (!client || strcmp(g->client_id, client) == 0)) {
            free(g->group);
            free(g->client_id);
            memmove(g, g + 1, (app->nregs - i - 1) * sizeof *g);
            app->nregs--;
        } else {
            i++;
        }
    }
}

/* The newest registration is kept last: check-backs go to it. */
static void reg_update(mb_app *app, mb_conn *c, const char *group, const char *client)
{
    mb_reg *g;
    reg_remove(app, c->srv->index, group, client);
    app->regs = mb_xrealloc(app->regs, (app->nregs + 1) * sizeof *app->regs);
    g = &app->regs[app->nregs++];
    g->srv = c->srv->index;
    g->group = mb_xstrdup(group);
    g->client_id = mb_xstrdup(client);
    g->ref = mb_conn_ref_of(c);
}

/* Appends ",name" for each element's groupName to out (first without comma). */
static void collect_groups(const mj_node *set, mb_buf *out, mb_app *app, mb_conn *c, const char *client)
{
    const mj_node *n;
    if (!set || set->type != MJ_ARR)
        return;
    for (n = set->child; n; n = n->next) {
        const char *g = mj_get_str(n, "groupName");
        if (!g)
            continue;
        if (out->len)
            mb_buf_putc(out, ',');
        mb_buf_puts(out, g);
        if (app)
            reg_update(app, c, g, client);
    }
}

static int heartbeat(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    mj_doc doc;
    mb_buf line = {0}, producers = {0}, consumers = {0};
    const char *client;
    if (mj_parse(&doc, (const char *)req->body, req->body_len, MJ_LENIENT_KEYS) < 0 ||
        doc.root->type != MJ_OBJ) {
        mj_free(&doc);
        java_exception(r, "com.alibaba.fastjson.JSONException: bad heartbeat body");
        return 1;
    }
    client = mj_get_str(doc.root, "clientID");
    if (!client)
        client = "null";
    collect_groups(mj_get(doc.root, "producerDataSet"), &producers, app, c, client);
    collect_groups(mj_get(doc.root, "consumerDataSet"), &consumers, NULL, c, client);
    mb_buf_printf(&line, "HEARTBEAT server=%s clientID=%s groups=%s", c->srv->name, client,
                  producers.p ? (char *)producers.p : "");
    if (consumers.len)
        mb_buf_printf(&line, " consumerGroups=%s", (char *)consumers.p);
    mb_buf_printf(&line, " lang=%s version=%d", mb_language_name(req->language), req->version);
    mb_lines_add(&app->clients, c->srv->index, (char *)line.p);
    mb_buf_free(&producers);
    mb_buf_free(&consumers);
    mj_free(&doc);
    return 1; /* code 0, no extFields, as captured */
}

static int unregister_client(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    const char *client = mb_cmd_ext(req, "clientID");
    const char *pg = mb_cmd_ext(req, "producerGroup"), *cg = mb_cmd_ext(req, "consumerGroup");
    mb_buf line = {0};
    mb_buf_printf(&line, "UNREGISTER server=%s clientID=%s", c->srv->name, client ? client : "null");
    if (pg) {
        mb_buf_printf(&line, " producerGroup=%s", pg);
        reg_remove(app, c->srv->index, pg, client);
    }
    if (cg)
        mb_buf_printf(&line, " consumerGroup=%s", cg);
    mb_lines_add(&app->clients, c->srv->index, (char *)line.p);
    r->cmd.has_ext = 1; /* an empty response header: "extFields":{} */
    return 1;
}

/* ---- transactions ---- */

static const char *validate_end(mb_app *app, mb_server *b, const mb_cmd *req, mb_msg **out)
{
    const char *group = mb_cmd_ext(req, "producerGroup");
    int64_t clo = -1, tso = -1;
    mb_msg *m;
    *out = NULL;
    mb_parse_i64(mb_cmd_ext(req, "commitLogOffset"), &clo);
    mb_parse_i64(mb_cmd_ext(req, "tranStateTableOffset"), &tso);
    m = mb_store_find_offset(app, b, clo);
    if (!m || m->tran_state == TRAN_NONE)
        return "Find prepared transaction message failed";
    if (!group || !m->producer_group || strcmp(group, m->producer_group) != 0)
        return "The producer group wrong";
    if (m->queue_offset != tso)
        return "The transaction state table offset wrong";
    *out = m;
    return NULL;
}

static int end_transaction(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    static const char *const keys[] = {"producerGroup",  "tranStateTableOffset", "commitLogOffset",
                                       "commitOrRollback", "fromTransactionCheck", "msgId",
                                       "transactionId"};
    mb_buf line = {0};
    mb_msg *m;
    int32_t kind = -1;
    const char *problem = validate_end(app, c->srv, req, &m);
    size_t i;
    mb_parse_i32(mb_cmd_ext(req, "commitOrRollback"), &kind);
    if (m && kind == 8)
        m->tran_state = TRAN_COMMIT;
    else if (m && kind == 12)
        m->tran_state = TRAN_ROLLBACK;
    mb_buf_printf(&line, "END_TRANSACTION server=%s", c->srv->name);
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = mb_cmd_ext(req, keys[i]);
        if (v)
            mb_buf_printf(&line, " %s=%s", keys[i], v);
    }
    mb_buf_printf(&line, " oneway=%s result=", (req->flag & MB_FLAG_ONEWAY) ? "true" : "false");
    mb_buf_puts(&line, problem ? problem : kind == 8 ? "COMMIT" : kind == 12 ? "ROLLBACK" : "UNKNOWN");
    if (req->remark) {
        mb_buf_puts(&line, " remark=");
        mj_put_str(&line, req->remark, req->remark_len);
    }
    mb_lines_add(&app->transactions, c->srv->index, (char *)line.p);
    if (problem)
        set_error(r, CODE_SYSTEM_ERROR, problem);
    return problem || kind == 8 || kind == 12; /* state "unknown" gets no answer */
}

int mb_broker_check_transaction(mb_app *app, mb_server *b, const char *id, mb_buf *err)
{
    mb_msg *m = mb_store_find_id(app, b, id);
    mb_props p;
    mb_cmd req;
    mb_buf body = {0}, frame = {0};
    mb_conn *target = NULL;
    const char *group;
    char num[32];
    size_t i;
    static int32_t opaque = 1000000;
    if (!m || m->tran_state == TRAN_NONE) {
        mb_buf_puts(err, "no half message with that id");
        return -1;
    }
    mb_props_parse(&p, m->props, m->props_len);
    group = mb_props_get(&p, "PGROUP") ? mb_props_get(&p, "PGROUP") : m->producer_group;
    for (i = app->nregs; group && i-- > 0 && !target;)
        if (app->regs[i].srv == b->index && strcmp(app->regs[i].group, group) == 0)
            target = mb_conn_get(app, app->regs[i].ref);
    if (!target) {
        mb_buf_printf(err, "no live connection heartbeated group %s", group ? group : "null");
        mb_props_free(&p);
        return -1;
    }
    /* Broker2Client.checkProducerTransactionState: one-way, JSON, body =
     * the half message with its real topic and queue restored */
    mb_cmd_init(&req);
    req.code = 39;
    req.version = MB_VERSION_4_9_8;
    req.opaque = opaque++;
    req.flag = MB_FLAG_ONEWAY;
    snprintf(num, sizeof num, "%lld", (long long)m->commit_offset);
    mb_cmd_add_ext(&req, "commitLogOffset", num);
    mb_cmd_add_ext(&req, "msgId", mb_props_get(&p, "UNIQ_KEY"));
    snprintf(num, sizeof num, "%lld", (long long)m->queue_offset);
    mb_cmd_add_ext(&req, "tranStateTableOffset", num);
    mb_cmd_add_ext(&req, "offsetMsgId", m->offset_id);
    mb_cmd_add_ext(&req, "transactionId", mb_props_get(&p, "UNIQ_KEY"));
    mb_msg_stored_record(app, m, &body, 1);
    req.body = body.p;
    req.body_len = body.len;
    mb_cmd_encode(&req, &frame);
    mb_conn_write(target, frame.p, frame.len);
    mb_conn_flush(app, target);
    mb_cmd_free(&req);
    mb_buf_free(&body);
    mb_buf_free(&frame);
    mb_props_free(&p);
    return 0;
}

/* ---- queries ---- */

/* Zero-copy style responses use the broker's default serialization. */
static int view_message(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    int64_t off = -1;
    mb_msg *m;
    char remark[96];
    mb_parse_i64(mb_cmd_ext(req, "offset"), &off);
    m = mb_store_find_offset(app, c->srv, off);
    if (!m) {
        snprintf(remark, sizeof remark, "can not find message by the offset, %lld", (long long)off);
        set_error(r, CODE_SYSTEM_ERROR, remark);
        return 1;
    }
    mb_msg_stored_record(app, m, &r->body, 0);
    r->cmd.ser = MB_SER_JSON;
    return 1;
}

static int queue_offset_query(mb_conn *c, const mb_cmd *req, mb_reply *r, int max)
{
    const char *topic = mb_cmd_ext(req, "topic");
    mb_topic *t = topic ? mb_topic_find(c->srv, topic) : NULL;
    int32_t qid = -1;
    int64_t off = 0;
    char num[32];
    mb_parse_i32(mb_cmd_ext(req, "queueId"), &qid);
    if (max && t && qid >= 0 && qid < (t->read_queues > t->write_queues ? t->read_queues : t->write_queues))
        off = t->next_offset[qid];
    snprintf(num, sizeof num, "%lld", (long long)off);
    mb_cmd_add_ext(&r->cmd, "offset", num);
    return 1;
}

int mb_broker_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    switch (req->code) {
    case 10:  /* SEND_MESSAGE */
    case 310: /* SEND_MESSAGE_V2 */
    case 320: /* SEND_BATCH_MESSAGE */
        return send_message(app, c, req, r);
    case 34: /* HEART_BEAT */
        return heartbeat(app, c, req, r);
    case 35: /* UNREGISTER_CLIENT */
        return unregister_client(app, c, req, r);
    case 37: /* END_TRANSACTION */
        return end_transaction(app, c, req, r);
    case 33: /* VIEW_MESSAGE_BY_ID */
        return view_message(app, c, req, r);
    case 30: /* GET_MAX_OFFSET */
        return queue_offset_query(c, req, r, 1);
    case 31: /* GET_MIN_OFFSET */
        return queue_offset_query(c, req, r, 0);
    default:
        return mb_reply_unsupported(req, r);
    }
}
