/* mb_admin.c - the broker's AdminBrokerProcessor requests a producer's
 * MQAdmin sends, as 4.9.8 answers them: UPDATE_AND_CREATE_TOPIC (17),
 * SEARCH_OFFSET_BY_TIMESTAMP (29), GET_EARLIEST_MSG_STORETIME (32). */
#include "mb_app.h"

#include <stdio.h>
#include <string.h>

#define CODE_SYSTEM_ERROR 1

static const char *const system_topics[] = {
    "TBW102", "SCHEDULE_TOPIC_XXXX", "BenchmarkTest", "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC", "SELF_TEST_TOPIC", "OFFSET_MOVED_EVENT"};

static int topic_chars_ok(const char *t)
{
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') || *t == '%' ||
              *t == '|' || *t == '_' || *t == '-'))
            return 0;
    return 1;
}

/* TopicValidator.validateTopic and isSystemTopic, with their remarks. */
static const char *topic_problem(const char *t, char *buf, size_t cap)
{
    size_t i;
    if (!t || !*t)
        return "The specified topic is blank.";
    if (!topic_chars_ok(t))
        return "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$";
    if (strlen(t) > 127)
        return "The specified topic is longer than topic max length.";
    for (i = 0; i < sizeof system_topics / sizeof system_topics[0]; i++)
        if (strcmp(t, system_topics[i]) == 0 || strncmp(t, "rmq_sys_", 8) == 0) {
            snprintf(buf, cap, "The topic[%s] is conflict with system topic.", t);
            return buf;
        }
    return NULL;
}

static void fail(mb_reply *r, const char *remark)
{
    r->cmd.code = CODE_SYSTEM_ERROR;
    mb_cmd_set_remark(&r->cmd, remark);
}

/* The topic config is replaced (created if new) and, as the broker then
 * registers with the name servers, routable at once. */
static int create_topic(mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    const char *topic = mb_cmd_ext(req, "topic"), *problem;
    int32_t rq = -1, wq = -1, perm = -1;
    char buf[200];
    problem = topic_problem(topic, buf, sizeof buf);
    if (problem) {
        fail(r, problem);
        return 1;
    }
    if (mb_parse_i32(mb_cmd_ext(req, "readQueueNums"), &rq) < 0 || mb_parse_i32(mb_cmd_ext(req, "writeQueueNums"), &wq) < 0 ||
        mb_parse_i32(mb_cmd_ext(req, "perm"), &perm) < 0 || !mb_cmd_ext(req, "defaultTopic") ||
        !mb_cmd_ext(req, "topicFilterType") || !mb_cmd_ext(req, "order")) {
        fail(r, "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <readQueueNums> is null");
        return 1;
    }
    mb_topic_create(c->srv, topic, wq > rq ? wq : rq, perm);
    return 1;
}

/* The messages of one queue in store order (ascending commit offset). */
static mb_msg *queue_msg(mb_app *app, mb_server *b, const char *topic, int32_t qid, size_t *at)
{
    for (; *at < b->nmsg_idx; (*at)++) {
        mb_msg *m = &app->msgs[b->msg_idx[*at]];
        if (m->queue_id == qid && strcmp(m->topic, topic) == 0 && m->tran_state == TRAN_NONE) {
            (*at)++;
            return m;
        }
    }
    return NULL;
}

static int queue_args(const mb_cmd *req, const char **topic, int32_t *qid, mb_reply *r)
{
    *topic = mb_cmd_ext(req, "topic");
    *qid = -1;
    if (!*topic || mb_parse_i32(mb_cmd_ext(req, "queueId"), qid) < 0) {
        fail(r, "org.apache.rocketmq.remoting.exception.RemotingCommandException: the custom field <topic> is null");
        return -1;
    }
    return 0;
}

static void answer_long(mb_reply *r, const char *key, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    mb_cmd_add_ext(&r->cmd, key, num);
}

/* 4.9.8's ConsumeQueue.getOffsetInQueueByTime: a message stored at the
 * time, else the nearer of the last one before and the first one after
 * (the earlier on a tie); before the first or after the last, that one;
 * 0 for an empty queue. */
static int search_offset(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    const char *topic;
    int32_t qid;
    int64_t ts = 0, off = 0;
    size_t at = 0;
    mb_msg *m, *left = NULL, *right = NULL;
    if (queue_args(req, &topic, &qid, r) < 0)
        return 1;
    mb_parse_i64(mb_cmd_ext(req, "timestamp"), &ts);
    while ((m = queue_msg(app, c->srv, topic, qid, &at)) != NULL && !right) {
        if (m->store_ts < ts)
            left = m;
        else
            right = m;
    }
    if (right && (right->store_ts == ts || !left || ts - left->store_ts > right->store_ts - ts))
        off = right->queue_offset;
    else if (left)
        off = left->queue_offset;
    answer_long(r, "offset", off);
    return 1;
}

/* getEarliestMessageTime: the first kept message's store time, -1 when
 * the queue holds none (still SUCCESS, as 4.9.8 answers). */
static int earliest_store_time(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    const char *topic;
    int32_t qid;
    size_t at = 0;
    mb_msg *m;
    if (queue_args(req, &topic, &qid, r) < 0)
        return 1;
    m = queue_msg(app, c->srv, topic, qid, &at);
    answer_long(r, "timestamp", m ? m->store_ts : -1);
    return 1;
}

int mb_admin_handle(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    switch (req->code) {
    case 17:
        return create_topic(c, req, r);
    case 29:
        return search_offset(app, c, req, r);
    case 32:
        return earliest_store_time(app, c, req, r);
    default:
        return mb_reply_unsupported(req, r);
    }
}
