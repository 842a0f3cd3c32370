/* mqadmin.h - reading back what a real broker stored, independently of the
 * producer: Apache RocketMQ's own bin/mqadmin, whose output is parsed here
 * (it exits 0 even when a sub-command fails, so the output is the verdict).
 *
 * Each call starts a JVM (seconds), so large runs are read back in bulk with
 * consumeMessage over a whole topic; the per-message queries
 * (queryMsgById, queryMsgByUniqueKey, queryMsgByKey) are for content checks.
 *
 *   RMQ_REAL_MQADMIN   the bin/mqadmin to run (required)
 *   RMQ_RUN_DIR        where mqadmin writes its logs
 *   mq_acl_sign = 1    sign as the --acl clusters' account (RocketMQ/12345678) */
#ifndef MQADMIN_H
#define MQADMIN_H

#include "../rmq_test.h"                 /* test_read_file */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mq_acl_sign;

static char *mq_run_once(const char *cmd);

/* The whole output (stdout and stderr) of `mqadmin ARGS`, malloc'd. The
 * tool waits only a few seconds for a broker's answer; on a machine short
 * of CPU that can pass, so a timed-out call is made again (twice at most). */
static char *mq_run(const char *fmt, ...)
{
    char args[2048], cmd[4096], *out;
    const char *mq = getenv("RMQ_REAL_MQADMIN");
    va_list ap;
    int tries;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s'%s' %s 2>&1 </dev/null",
             mq_acl_sign ? "RMQ_ACCESS_KEY=RocketMQ RMQ_SECRET_KEY=12345678 " : "", mq ? mq : "mqadmin", args);
    for (tries = 0; (out = mq_run_once(cmd)) != NULL && tries < 2 && strstr(out, "RemotingTimeoutException"); tries++)
        free(out);
    return out;
}

static char *mq_run_once(const char *cmd)
{
    FILE *f;
    char *out = NULL;
    size_t len = 0, cap = 0, n;
    f = popen(cmd, "r");
    if (!f) return NULL;
    for (;;) {
        if (cap - len < 65536) {
            char *more = (char *)realloc(out, cap ? cap * 2 : 1 << 20);
            if (!more) { free(out); pclose(f); return NULL; }
            out = more;
            cap = cap ? cap * 2 : 1 << 20;
        }
        n = fread(out + len, 1, cap - len - 1, f);
        if (n == 0) break;
        len += n;
    }
    out[len] = 0;
    pclose(f);
    /* consumeMessage also prints bodies raw ("BODY: ..."), NULs included;
     * bodies are read from their byte list, so the text may lose them. */
    for (n = 0; n < len; n++) if (out[n] == 0) out[n] = '?';
    return out;
}

/* -- a stored message as consumeMessage prints it --------------------------- */
typedef struct mq_msg {
    char msg_id[80];               /* MSGID: the UNIQ_KEY */
    char offset_msg_id[80];        /* msgId= */
    char topic[128];
    char broker[64];
    int queue_id, sys_flag, flag;
    long long queue_offset, born_ms, store_ms;
    char props[2048];              /* inside properties={...} */
    unsigned char *body;
    size_t body_len;
} mq_msg;

typedef struct mq_msgs {
    mq_msg *v;
    size_t n;
} mq_msgs;

/* The text after "key=" in [from, end) up to the next ',', ']' or '}'. */
static int mq_field(const char *from, const char *end, const char *key, char *out, size_t cap)
{
    char pat[64];
    const char *p, *e;
    size_t n;
    snprintf(pat, sizeof pat, "%s=", key);
    for (p = from; (p = strstr(p, pat)) != NULL && p < end; p++)
        if (p == from || p[-1] == ' ' || p[-1] == '[' || p[-1] == '{') break;
    if (!p || p >= end) return -1;
    p += strlen(pat);
    for (e = p; e < end && *e != ',' && *e != ']' && *e != '}'; e++) {}
    n = (size_t)(e - p);
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

static long long mq_field_num(const char *from, const char *end, const char *key)
{
    char t[32];
    return mq_field(from, end, key, t, sizeof t) == 0 ? atoll(t) : -1;
}

/* One "MSGID: id MessageExt [...] BODY: ..." line. */
static int mq_parse_line(const char *line, const char *end, mq_msg *m)
{
    const char *p, *q;
    size_t cap = 0;
    memset(m, 0, sizeof *m);
    if (sscanf(line, "MSGID: %79s", m->msg_id) != 1) return -1;
    if (mq_field(line, end, "brokerName", m->broker, sizeof m->broker) ||
        mq_field(line, end, "msgId", m->offset_msg_id, sizeof m->offset_msg_id))
        return -1;
    m->queue_id = (int)mq_field_num(line, end, "queueId");
    m->queue_offset = mq_field_num(line, end, "queueOffset");
    m->sys_flag = (int)mq_field_num(line, end, "sysFlag");
    m->born_ms = mq_field_num(line, end, "bornTimestamp");
    m->store_ms = mq_field_num(line, end, "storeTimestamp");
    m->flag = (int)mq_field_num(line, end, "flag");
    p = strstr(line, "topic='");
    if (!p || p > end) return -1;
    p += 7;
    q = strchr(p, '\'');
    if (!q || q > end || (size_t)(q - p) >= sizeof m->topic) return -1;
    memcpy(m->topic, p, (size_t)(q - p));
    p = strstr(q, "properties={");
    q = p ? strstr(p, "}, body=[") : NULL;
    if (!p || !q || q > end) return -1;
    p += 12;
    if ((size_t)(q - p) >= sizeof m->props) return -1;
    memcpy(m->props, p, (size_t)(q - p));
    for (p = q + 9; p < end && *p != ']';) {
        long v = strtol(p, (char **)&q, 10);
        if (q == p) return -1;
        if (m->body_len == cap) {
            unsigned char *more = (unsigned char *)realloc(m->body, cap ? cap * 2 : 64);
            if (!more) return -1;
            m->body = more;
            cap = cap ? cap * 2 : 64;
        }
        m->body[m->body_len++] = (unsigned char)(v & 0xFF);
        p = q;
        while (p < end && (*p == ',' || *p == ' ')) p++;
    }
    return 0;
}

static void mq_msgs_free(mq_msgs *s)
{
    size_t i;
    for (i = 0; i < s->n; i++) free(s->v[i].body);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Every message of topic (every queue of every broker), by consumeMessage.
 * Returns the number read, or -1 with the output in why. */
static long mq_consume_topic(const char *namesrv, const char *topic, mq_msgs *out, char *why, size_t why_len)
{
    char *text = mq_run("consumeMessage -n '%s' -t '%s' -c 100000000", namesrv, topic), *line, *end, saved;
    size_t cap = 0;
    int ok;
    out->v = NULL;
    out->n = 0;
    if (!text) { snprintf(why, why_len, "cannot run mqadmin"); return -1; }
    if (!strstr(text, "print msg finished")) {
        snprintf(why, why_len, "consumeMessage %s: %.600s", topic, text);
        free(text);
        return -1;
    }
    for (line = text; *line; line = *end ? end + 1 : end) {
        end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        if (strncmp(line, "MSGID: ", 7) != 0) continue;
        if (out->n == cap) {
            mq_msg *more = (mq_msg *)realloc(out->v, (cap ? cap * 2 : 256) * sizeof *out->v);
            if (!more) { snprintf(why, why_len, "out of memory"); free(text); return -1; }
            out->v = more;
            cap = cap ? cap * 2 : 256;
        }
        /* One line at a time as its own string: string functions (and the
         * sanitizers' checks of them) then never scan the whole output. */
        saved = *end;
        *end = 0;
        ok = mq_parse_line(line, end, &out->v[out->n]) == 0;
        *end = saved;
        if (ok) out->n++;
        else { snprintf(why, why_len, "unreadable line: %.300s", line); free(text); return -1; }
    }
    free(text);
    return (long)out->n;
}

/* The value of a property in a "K=V, K2=V2" map, or NULL (static buffer). */
static const char *mq_prop(const mq_msg *m, const char *key)
{
    static char v[1024];
    return mq_field(m->props, m->props + strlen(m->props), key, v, sizeof v) == 0 ? v : NULL;
}

/* -- the "Label:   value" queries (queryMsgById, queryMsgByUniqueKey) ------- */
/* The value after "label:" on its own line of text, or "" (static buffer). */
static const char *mq_label(const char *text, const char *label)
{
    static char v[2048];
    const char *p = text, *e;
    size_t n = strlen(label);
    v[0] = 0;
    while (p && *p) {
        if (strncmp(p, label, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ') p++;
            e = strchr(p, '\n');
            if (!e) e = p + strlen(p);
            n = (size_t)(e - p);
            if (n >= sizeof v) n = sizeof v - 1;
            memcpy(v, p, n);
            v[n] = 0;
            while (n && (v[n - 1] == '\r' || v[n - 1] == ' ')) v[--n] = 0;
            return v;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return v;
}

/* The body file a query saved ("Message Body Path:"), malloc'd. */
static unsigned char *mq_saved_body(const char *text, size_t *len)
{
    const char *path = mq_label(text, "Message Body Path");
    return path[0] ? test_read_file(path, len) : NULL;
}

#endif
