/* mb_store.c - broker topic tables, the in-memory message store, the
 * report logs and the renderings the control port prints. */
#include "mb_app.h"

#include <stdlib.h>
#include <string.h>

#include "mb_json.h"

/* ---- topics ---- */

mb_topic *mb_topic_find(mb_server *b, const char *name)
{
    int idx;
    if (b->last_topic < b->ntopics && strcmp(b->topics[b->last_topic].name, name) == 0)
        return &b->topics[b->last_topic];
    if (!mb_map_get(&b->topic_index, name, &idx))
        return NULL;
    b->last_topic = (size_t)idx;
    return &b->topics[idx];
}

static void topic_set_queues(mb_topic *t, int queues, int perm)
{
    int old = t->read_queues > t->write_queues ? t->read_queues : t->write_queues;
    int i;
    if (queues > old) { /* keep offsets of existing queues */
        t->next_offset = mb_xrealloc(t->next_offset, (size_t)queues * sizeof *t->next_offset);
        for (i = old; i < queues; i++)
            t->next_offset[i] = 0;
    }
    t->read_queues = t->write_queues = queues;
    t->perm = perm;
}

mb_topic *mb_topic_create(mb_server *b, const char *name, int queues, int perm)
{
    mb_topic *t = mb_topic_find(b, name);
    if (!t) {
        b->topics = mb_xrealloc(b->topics, (b->ntopics + 1) * sizeof *b->topics);
        t = &b->topics[b->ntopics];
        memset(t, 0, sizeof *t);
        t->name = mb_xstrdup(name);
        mb_map_put(&b->topic_index, name, (int)b->ntopics++);
    }
    topic_set_queues(t, queues, perm);
    return t;
}

/* ---- messages ---- */

mb_msg *mb_store_add(mb_app *app, mb_server *b)
{
    mb_msg *m;
    if (app->nmsgs == app->msgs_cap) {
        app->msgs_cap = app->msgs_cap ? app->msgs_cap * 2 : 1024;
        app->msgs = mb_xrealloc(app->msgs, app->msgs_cap * sizeof *app->msgs);
    }
    if (b->nmsg_idx == b->msg_idx_cap) {
        b->msg_idx_cap = b->msg_idx_cap ? b->msg_idx_cap * 2 : 1024;
        b->msg_idx = mb_xrealloc(b->msg_idx, b->msg_idx_cap * sizeof *b->msg_idx);
    }
    b->msg_idx[b->nmsg_idx++] = app->nmsgs;
    m = &app->msgs[app->nmsgs++];
    memset(m, 0, sizeof *m);
    m->broker = b->index;
    return m;
}

/* Commit-log offsets only grow, so each broker's index is sorted. */
mb_msg *mb_store_find_offset(mb_app *app, mb_server *b, int64_t commit_offset)
{
    size_t lo = 0, hi = b->nmsg_idx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        mb_msg *m = &app->msgs[b->msg_idx[mid]];
        if (m->commit_offset == commit_offset)
            return m;
        if (m->commit_offset < commit_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int has_uniq_key(const mb_msg *m, const char *id)
{
    mb_props p;
    const char *u;
    int same;
    mb_props_parse(&p, m->props, m->props_len);
    u = mb_props_get(&p, "UNIQ_KEY");
    same = u && strcmp(u, id) == 0;
    mb_props_free(&p);
    return same;
}

/* By offsetMsgId of this broker, else by UNIQ_KEY (latest first). */
mb_msg *mb_store_find_id(mb_app *app, mb_server *b, const char *id)
{
    uint32_t ip;
    int32_t port;
    int64_t off;
    size_t i;
    if (mb_offset_msg_id_decode(id, &ip, &port, &off) == 0 && ip == MB_LOCALHOST && port == b->port) {
        mb_msg *m = mb_store_find_offset(app, b, off);
        if (m)
            return m;
    }
    for (i = b->nmsg_idx; i-- > 0;)
        if (has_uniq_key(&app->msgs[b->msg_idx[i]], id))
            return &app->msgs[b->msg_idx[i]];
    return NULL;
}

void mb_store_clear(mb_app *app)
{
    size_t i;
    mb_arena_free(&app->store);
    app->nmsgs = 0;
    for (i = 0; i < app->nservers; i++)
        app->servers[i].nmsg_idx = 0;
    mb_lines_clear(&app->requests);
    mb_lines_clear(&app->clients);
    mb_lines_clear(&app->transactions);
    mb_lines_clear(&app->replies);
}

void mb_store_free(mb_app *app)
{
    size_t i, j;
    mb_store_clear(app);
    free(app->msgs);
    free(app->requests.v);
    free(app->clients.v);
    free(app->transactions.v);
    free(app->replies.v);
    for (i = 0; i < app->nservers; i++) {
        mb_server *s = &app->servers[i];
        for (j = 0; j < s->ntopics; j++) {
            free(s->topics[j].name);
            free(s->topics[j].next_offset);
        }
        free(s->topics);
        mb_map_free(&s->topic_index);
        free(s->msg_idx);
        for (j = 0; j < s->nrules; j++)
            free(s->rules[j].remark);
        free(s->rules);
    }
    for (i = 0; i < app->nregs; i++) {
        free(app->regs[i].group);
        free(app->regs[i].client_id);
    }
    free(app->regs);
}

/* ---- renderings ---- */

static const char *tran_state_name(int s)
{
    static const char *const names[] = {"NONE", "PREPARED", "COMMIT", "ROLLBACK", "UNKNOWN"};
    return names[s];
}

static void put_opt_str(mb_buf *out, const char *name, const char *val)
{
    mb_buf_printf(out, ",\"%s\":", name);
    if (val)
        mj_put_str(out, val, strlen(val));
    else
        mb_buf_puts(out, "null");
}

static void put_props_json(mb_buf *out, const mb_props *p)
{
    size_t i;
    mb_buf_puts(out, ",\"properties\":{");
    for (i = 0; i < p->n; i++) {
        if (i)
            mb_buf_putc(out, ',');
        mj_put_str(out, p->kv[i].key, p->kv[i].key_len);
        mb_buf_putc(out, ':');
        mj_put_str(out, p->kv[i].val, p->kv[i].val_len);
    }
    mb_buf_putc(out, '}');
}

/* Commit-log offsets live at the broker's own address. */
void mb_msg_offset_id(const mb_app *app, const mb_msg *m, char out[33])
{
    mb_offset_msg_id(out, MB_LOCALHOST, app->servers[m->broker].port, m->commit_offset);
}

/* The documented keys first, in the documented order; extras after. */
void mb_msg_dump_json(const mb_app *app, const mb_msg *m, mb_buf *out)
{
    mb_props p;
    char id[33];
    mb_props_parse(&p, m->props, m->props_len);
    mb_msg_offset_id(app, m, id);
    mb_buf_printf(out, "{\"broker\":\"%s\",\"topic\":", app->servers[m->broker].name);
    mj_put_str(out, m->topic, strlen(m->topic));
    mb_buf_printf(out, ",\"queueId\":%d,\"queueOffset\":%lld,\"commitLogOffset\":%lld,\"offsetMsgId\":\"%s\"",
                  (int)m->queue_id, (long long)m->queue_offset, (long long)m->commit_offset, id);
    put_opt_str(out, "uniqKey", mb_props_get(&p, "UNIQ_KEY"));
    put_opt_str(out, "tags", mb_props_get(&p, "TAGS"));
    put_opt_str(out, "keys", mb_props_get(&p, "KEYS"));
    mb_buf_printf(out, ",\"flag\":%d,\"sysFlag\":%d,\"bornTimestamp\":%lld,\"code\":%d,\"serialize\":\"%s\"",
                  (int)m->flag, (int)m->sys_flag, (long long)m->born_ts, m->code,
                  m->ser == MB_SER_JSON ? "JSON" : "ROCKETMQ");
    put_props_json(out, &p);
    mb_buf_puts(out, ",\"bodyHex\":\"");
    mb_buf_put_hex(out, m->body, m->body_len);
    mb_buf_printf(out, "\",\"bodyLen\":%zu,\"storeTimestamp\":%lld", (size_t)m->body_len, (long long)m->store_ts);
    put_opt_str(out, "producerGroup", m->producer_group);
    mb_buf_printf(out, ",\"reconsumeTimes\":%d,\"tranState\":\"%s\",\"storeSize\":%zu}",
                  (int)m->reconsume_times, tran_state_name(m->tran_state), (size_t)m->stored_size);
    mb_props_free(&p);
}

/* The record as the commit log holds it (VIEW_MESSAGE_BY_ID body). A half
 * message lives in queue 0 of the half topic with its transaction bits
 * cleared, as TransactionalMessageBridge stores it; `restore` gives the
 * form a check-back carries instead: the real topic and queue. */
void mb_msg_stored_record(const mb_app *app, const mb_msg *m, mb_buf *out, int restore)
{
    const mb_server *b = &app->servers[m->broker];
    int in_half_topic = m->tran_state != TRAN_NONE && !restore;
    mb_buf props = {0};
    mb_stored s;
    mb_msg_stored_props(m, &props);
    memset(&s, 0, sizeof s);
    s.queue_id = in_half_topic ? 0 : m->queue_id;
    s.flag = m->flag;
    s.queue_offset = m->queue_offset;
    s.commit_offset = m->commit_offset;
    s.sys_flag = m->tran_state != TRAN_NONE ? (m->sys_flag & ~0xC) : m->sys_flag;
    s.born_ts = m->born_ts;
    s.born_ip = MB_LOCALHOST;
    s.born_port = m->born_port;
    s.store_ts = m->store_ts;
    s.store_ip = MB_LOCALHOST;
    s.store_port = b->port;
    s.reconsume_times = m->reconsume_times;
    s.body_crc = mb_crc32(m->body, m->body_len) & 0x7FFFFFFF;
    s.body = m->body;
    s.body_len = m->body_len;
    s.topic = in_half_topic ? MB_HALF_TOPIC : m->topic;
    s.topic_len = strlen(s.topic);
    s.props = (const char *)props.p;
    s.props_len = props.len;
    mb_stored_encode(&s, out);
    mb_buf_free(&props);
}

/* ---- line logs ---- */

/* Takes ownership of text. Control characters from client data (a
 * clientID with a newline, say) must not break the line protocol. */
void mb_lines_add(mb_lines *l, int srv, char *text)
{
    char *p;
    for (p = text; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = mb_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].srv = srv;
    l->v[l->n].text = text;
    l->n++;
}

void mb_lines_clear(mb_lines *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i].text);
    l->n = 0;
}
