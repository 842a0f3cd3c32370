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

/* ---- send request header (SendMessageRequestHeader / V2) ---- */

enum {
    F_GROUP, F_TOPIC, F_DEFAULT_TOPIC, F_DEFAULT_QUEUES, F_QUEUE_ID, F_SYS_FLAG,
    F_BORN, F_FLAG, F_PROPS, F_RECONSUME, F_BATCH, F_COUNT
};

static const char *const v1_names[F_COUNT] = {
    "producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag",
    "bornTimestamp", "flag", "properties", "reconsumeTimes", "batch",
};

typedef struct send_hdr {
    int v2;
    const char *group, *topic, *default_topic, *props;
    size_t props_len;
    size_t group_len, topic_len; /* set once the send is accepted */
    int64_t store_ts;            /* one clock reading for all of a batch */
    int has_default_queues;
    int64_t default_queues, queue_id, sys_flag, born_ts, flag, reconsume;
    int batch;
} send_hdr;

/* Each field's value in one pass over extFields; a later duplicate wins,
 * as mb_cmd_ext would find it. */
static void send_fields(const mb_cmd *req, int v2, const char *vals[F_COUNT])
{
    /* V2 names are the letters a..n; k, l and n are not read here */
    static const signed char v2_field[14] = {F_GROUP, F_TOPIC, F_DEFAULT_TOPIC, F_DEFAULT_QUEUES, F_QUEUE_ID,
                                             F_SYS_FLAG, F_BORN, F_FLAG, F_PROPS, F_RECONSUME, -1, -1, F_BATCH, -1};
    size_t i;
    int f;
    for (f = 0; f < F_COUNT; f++)
        vals[f] = NULL;
    for (i = 0; i < req->next; i++) {
        const mb_kv *kv = &req->ext[i];
        if (v2) {
            f = kv->key[0] >= 'a' && kv->key[0] <= 'n' && kv->key[1] == '\0' ? v2_field[kv->key[0] - 'a'] : -1;
        } else {
            for (f = F_COUNT - 1; f >= 0 && !mb_ext_key_is(kv, v1_names[f], strlen(v1_names[f])); f--)
                ;
        }
        if (f >= 0)
            vals[f] = kv->val;
    }
}

/* 1 = value read, 0 = absent. The V2 fast path calls parseInt directly, so
 * bad text throws (-1, reply set); the V1 reflective decoder logs and
 * leaves the field null. */
static int num_field(const send_hdr *h, const char *s, int is_long, int64_t *out, mb_reply *r)
{
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
    const char *vals[F_COUNT];
    size_t i;
    int rc;
    memset(h, 0, sizeof *h);
    h->v2 = req->code != 10; /* 310 and 320 are always decoded as V2 */
    send_fields(req, h->v2, vals);
    h->group = vals[F_GROUP];
    h->topic = vals[F_TOPIC];
    h->default_topic = vals[F_DEFAULT_TOPIC];
    h->props = vals[F_PROPS];
    h->props_len = h->props ? strlen(h->props) : 0;
    h->batch = java_bool(vals[F_BATCH]);
    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        rc = num_field(h, vals[required[i]], required[i] == F_BORN, targets[i], r);
        if (rc < 0)
            return -1;
        if (rc == 0) { /* the null is unboxed later in the processor */
            java_exception(r, "java.lang.NullPointerException");
            return -1;
        }
    }
    rc = num_field(h, vals[F_DEFAULT_QUEUES], 0, &h->default_queues, r);
    if (rc < 0 || num_field(h, vals[F_RECONSUME], 0, &h->reconsume, r) < 0)
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
        if (t[0] == topics[i][0] && strcmp(t, topics[i]) == 0)
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

/* ---- stored properties ---- */

/* Appends name 0x01 value, after a 0x02 unless it is the first pair
 * written since `start`. */
static void put_pair(mb_buf *out, size_t start, const char *k, size_t kl, const char *v, size_t vl)
{
    mb_buf_reserve(out, kl + vl + 2);
    if (out->len > start)
        out->p[out->len++] = 2;
    memcpy(out->p + out->len, k, kl);
    out->len += kl;
    out->p[out->len++] = 1;
    memcpy(out->p + out->len, v, vl);
    out->len += vl;
    out->p[out->len] = '\0';
}

/* A 4.9.8 broker stores a single message's properties re-encoded with
 * CLUSTER added and WAIT dropped; a half message keeps WAIT (its map is
 * re-encoded after WAIT is put back) and gains REAL_TOPIC / REAL_QID. An
 * added name the client also sent keeps the client's place. */
static void stored_single_props(const mb_props *sent, int half, const char *topic, int32_t qid, mb_buf *out)
{
    static const char *const names[3] = {"CLUSTER", "REAL_TOPIC", "REAL_QID"};
    static const size_t name_lens[3] = {7, 10, 8};
    const char *vals[3];
    size_t lens[3], i, start = out->len;
    int used[3] = {0, 0, 0}, nadd = half ? 3 : 1, j;
    char qbuf[21];
    vals[0] = MB_CLUSTER;
    lens[0] = sizeof MB_CLUSTER - 1;
    if (half) {
        vals[1] = topic;
        lens[1] = strlen(topic);
        vals[2] = qbuf;
        lens[2] = mb_fmt_i64(qbuf, qid);
    }
    for (i = 0; i < sent->n; i++) {
        const mb_kv *kv = &sent->kv[i];
        const char *v = kv->val;
        size_t vl = kv->val_len;
        if (!half && kv->key_len == 4 && memcmp(kv->key, "WAIT", 4) == 0)
            continue;
        for (j = 0; j < nadd; j++) {
            if (kv->key_len == name_lens[j] && memcmp(kv->key, names[j], name_lens[j]) == 0) {
                v = vals[j];
                vl = lens[j];
                used[j] = 1;
            }
        }
        put_pair(out, start, kv->key, kv->key_len, v, vl);
    }
    for (j = 0; j < nadd; j++)
        if (!used[j])
            put_pair(out, start, names[j], name_lens[j], vals[j], lens[j]);
}

/* What a batch's header properties become in each member's stored record:
 * CLUSTER first, as in the captured store, then the rest. */
static void batch_stored_suffix(const mb_props *sent, mb_buf *out)
{
    const char *cluster = mb_props_get(sent, "CLUSTER");
    size_t i, start = out->len;
    put_pair(out, start, "CLUSTER", 7, cluster ? cluster : MB_CLUSTER, strlen(cluster ? cluster : MB_CLUSTER));
    for (i = 0; i < sent->n; i++)
        if (strcmp(sent->kv[i].key, "CLUSTER") != 0)
            put_pair(out, start, sent->kv[i].key, sent->kv[i].key_len, sent->kv[i].val, sent->kv[i].val_len);
}

/* The 4.9 MessageExtBatchEncoder joins a member's properties and the
 * batch-level ones with one 0x02 when needed. */
static size_t join_sep(const char *inner, size_t il, size_t ol)
{
    return il > 0 && ol > 0 && inner[il - 1] != 2;
}

void mb_msg_stored_props(const mb_msg *m, mb_buf *out)
{
    mb_props p;
    if (m->batch) {
        size_t il = m->inner_len, at = il + (m->props_len > il ? join_sep(m->props, il, 1) : 0);
        mb_props_parse(&p, m->props + at, m->props_len - at);
        mb_buf_put(out, m->props, il);
        if (join_sep(m->props, il, 1))
            mb_buf_putc(out, 2);
        batch_stored_suffix(&p, out);
    } else {
        mb_props_parse(&p, m->props, m->props_len);
        stored_single_props(&p, m->tran_state != TRAN_NONE, m->topic, m->queue_id, out);
    }
    mb_props_free(&p);
}

/* ---- storing ---- */

/* Reused by every send: stored properties (only their length is kept) and
 * a batch's list of ids. */
static mb_buf scratch_props, scratch_ids;

/* One piece of the store holds the producer group, the properties and the
 * body; returns where the properties go. */
static char *fill_common(mb_app *app, mb_msg *m, const mb_conn *c, const mb_cmd *req, const send_hdr *h,
                         const mb_topic *t, int32_t qid, size_t props_len, const unsigned char *body,
                         size_t body_len)
{
    size_t gl = h->group ? h->group_len + 1 : 0;
    char *blob = mb_arena_alloc_bytes(&app->store, gl + props_len + body_len);
    m->code = req->code;
    m->ser = (unsigned char)req->ser;
    m->topic = t->name;
    m->queue_id = qid;
    m->sys_flag = (int32_t)h->sys_flag;
    m->born_ts = h->born_ts;
    m->store_ts = h->store_ts;
    m->born_port = c->peer_port;
    m->reconsume_times = (int32_t)h->reconsume;
    if (gl) {
        memcpy(blob, h->group, gl);
        m->producer_group = blob;
    }
    m->props = blob + gl;
    m->props_len = (uint32_t)props_len;
    m->body = (unsigned char *)blob + gl + props_len;
    m->body_len = (uint32_t)body_len;
    if (body_len)
        memcpy(blob + gl + props_len, body, body_len);
    return blob + gl;
}

/* Places the record in the commit log; the offset advances by its size. */
static void append_to_log(mb_server *b, mb_msg *m, size_t topic_len, size_t stored_props_len)
{
    m->stored_size = (uint32_t)mb_stored_size(m->body_len, topic_len, stored_props_len);
    m->commit_offset = b->commit_offset;
    b->commit_offset += (int64_t)m->stored_size;
}

#define ADD_LITERAL(c, key, val) mb_cmd_add_ext_ref(c, key, sizeof key - 1, val, sizeof val - 1)

/* A number's text in the reply's own arena. */
static const char *reply_num(mb_cmd *c, int64_t v, size_t *len)
{
    char *s = mb_arena_alloc_bytes(&c->arena, 21);
    *len = mb_fmt_i64(s, v);
    s[*len] = '\0';
    return s;
}

static void send_response(mb_reply *r, int32_t qid, const char *msg_id, size_t id_len, int64_t queue_offset)
{
    mb_cmd *c = &r->cmd;
    size_t len;
    const char *num = reply_num(c, qid, &len);
    /* the order a 4.9.8 broker's HashMap produces */
    mb_cmd_add_ext_ref(c, "queueId", 7, num, len);
    ADD_LITERAL(c, "TRACE_ON", "true");
    ADD_LITERAL(c, "MSG_REGION", MB_REGION);
    mb_cmd_add_ext_n(c, "msgId", 5, msg_id, id_len);
    num = reply_num(c, queue_offset, &len);
    mb_cmd_add_ext_ref(c, "queueOffset", 11, num, len);
}

static int store_single(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                        int32_t qid, mb_reply *r)
{
    mb_server *b = c->srv;
    mb_props sent;
    char id[33];
    int half;
    mb_msg *m = mb_store_add(app, b);
    char *props = fill_common(app, m, c, req, h, t, qid, h->props_len, req->body, req->body_len);
    if (h->props_len)
        memcpy(props, h->props, h->props_len);
    mb_props_parse(&sent, props, h->props_len);
    half = java_bool(mb_props_get(&sent, "TRAN_MSG"));
    m->flag = (int32_t)h->flag;
    m->tran_state = half ? TRAN_PREPARED : TRAN_NONE;
    scratch_props.len = 0;
    stored_single_props(&sent, half, h->topic, qid, &scratch_props);
    /* half messages go to queue 0 of the half topic; the client is told
     * that queue's offset and its own queueId */
    m->queue_offset = half ? b->half_offset++ : t->next_offset[qid]++;
    append_to_log(b, m, half ? sizeof MB_HALF_TOPIC - 1 : h->topic_len, scratch_props.len);
    mb_msg_offset_id(app, m, id);
    send_response(r, qid, id, sizeof id - 1, m->queue_offset);
    mb_props_free(&sent);
    mb_reply_after_store(app, b, m);
    return 1;
}

/* Validates every record before storing any, so a bad batch stores nothing. */
static int check_batch(const mb_cmd *req, const send_hdr *h, size_t stored_suffix_len, mb_reply *r)
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
        if (it.props_len + stored_suffix_len + 1 > MB_MAX_PROPS)
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

static int delay_level(const mb_props *sent)
{
    int32_t level = 0;
    const char *d = mb_props_get(sent, "DELAY");
    if (d && mb_parse_i32(d, &level) < 0)
        level = 0;
    return (int)level;
}

static void store_batch_item(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                             int32_t qid, size_t stored_suffix_len, const mb_batch_item *it)
{
    mb_server *b = c->srv;
    mb_msg *m = mb_store_add(app, b);
    const char *suffix = h->props ? h->props : "";
    size_t il = it->props_len, sep = join_sep(it->props, il, h->props_len);
    char *props = fill_common(app, m, c, req, h, t, qid, il + sep + h->props_len, it->body, it->body_len);
    if (il)
        memcpy(props, it->props, il);
    if (sep)
        props[il] = 2;
    if (h->props_len)
        memcpy(props + il + sep, suffix, h->props_len);
    m->batch = 1;
    m->inner_len = (uint32_t)il;
    m->flag = it->flag;
    m->queue_offset = t->next_offset[qid]++;
    append_to_log(b, m, h->topic_len, il + join_sep(it->props, il, stored_suffix_len) + stored_suffix_len);
    mb_buf_reserve(&scratch_ids, 33); /* a comma, 32 characters, and the NUL mb_buf always has room for */
    if (scratch_ids.len)
        scratch_ids.p[scratch_ids.len++] = ',';
    mb_msg_offset_id(app, m, (char *)scratch_ids.p + scratch_ids.len);
    scratch_ids.len += 32;
}

static int store_batch(mb_app *app, mb_conn *c, mb_topic *t, const send_hdr *h, const mb_cmd *req,
                       int32_t qid, mb_reply *r)
{
    mb_props sent;
    mb_batch_item it;
    size_t pos = 0, suffix_len;
    int64_t first = t->next_offset[qid];
    mb_props_parse(&sent, h->props ? h->props : "", h->props_len);
    scratch_props.len = 0;
    batch_stored_suffix(&sent, &scratch_props);
    suffix_len = scratch_props.len;
    if (check_batch(req, h, suffix_len, r) < 0 || delay_level(&sent) > 0) {
        if (r->cmd.code == CODE_SUCCESS)
            set_error(r, CODE_MESSAGE_ILLEGAL, ILLEGAL_REMARK);
        mb_props_free(&sent);
        return 1;
    }
    scratch_ids.len = 0;
    while (mb_batch_next(req->body, req->body_len, &pos, &it) == 1)
        store_batch_item(app, c, t, h, req, qid, suffix_len, &it);
    send_response(r, qid, (const char *)scratch_ids.p, scratch_ids.len, first);
    mb_props_free(&sent);
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
    h.group_len = h.group ? strlen(h.group) : 0;
    h.topic_len = strlen(h.topic);
    h.store_ts = mb_now_ms();
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
    char num[32], offset_id[33];
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
    mb_msg_offset_id(app, m, offset_id);
    mb_cmd_add_ext(&req, "offsetMsgId", offset_id);
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
    case 12: /* QUERY_MESSAGE */
        return mb_query_message(app, c, req, r);
    case 30: /* GET_MAX_OFFSET */
        return queue_offset_query(c, req, r, 1);
    case 31: /* GET_MIN_OFFSET */
        return queue_offset_query(c, req, r, 0);
    case 17: /* UPDATE_AND_CREATE_TOPIC */
    case 29: /* SEARCH_OFFSET_BY_TIMESTAMP */
    case 32: /* GET_EARLIEST_MSG_STORETIME */
        return mb_admin_handle(app, c, req, r);
    default:
        return mb_reply_unsupported(req, r);
    }
}
