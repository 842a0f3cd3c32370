/* Request-reply (rmq_request*), over the simulated port: the request's
 * properties on the wire, the replies brokers push (matched, late, unknown,
 * malformed, compressed), the bound, the deadlines on virtual time and
 * shutdown. A test plays the responder by pushing PUSH_REPLY_MESSAGE_TO_CLIENT
 * itself, or lets the brokers of the sim cluster answer every request (an
 * in-process responder wrapped around their frame handler). */

#ifndef RMQ_NO_REQUEST
typedef struct req_log {
    int calls, ok, fail;
    rmq_err last;
    char body[256];
    char topic[128];
    char born_host[64];
    char corr[64];
    char arrive[32];
    int32_t sys_flag, queue_id;
} req_log;

static void req_cb(rmq_err err, const rmq_message_ext *reply, void *user)
{
    req_log *l = (req_log *)user;
    size_t i;
    l->calls++;
    l->last = err;
    if (err != RMQ_OK) { l->fail++; return; }
    l->ok++;
    snprintf(l->body, sizeof l->body, "%.*s", (int)reply->body_len, (const char *)reply->body);
    snprintf(l->topic, sizeof l->topic, "%s", reply->topic);
    snprintf(l->born_host, sizeof l->born_host, "%s", reply->born_host);
    l->sys_flag = reply->sys_flag;
    l->queue_id = reply->queue.queue_id;
    for (i = 0; i < reply->nproperties; i++) {
        if (strcmp(reply->properties[i].key, "CORRELATION_ID") == 0)
            snprintf(l->corr, sizeof l->corr, "%s", reply->properties[i].value);
        if (strcmp(reply->properties[i].key, "ARRIVE_TIME") == 0)
            snprintf(l->arrive, sizeof l->arrive, "%s", reply->properties[i].value);
    }
}

/* The value of a property in a logged request's property string ("|" and
 * ";" are not used there: the raw 0x01/0x02 separators are). */
static const char *req_prop(const simc_req *r, const char *key, char *out, size_t cap)
{
    rmq_slice v = rmq__prop_get(rmq__cslice(r->props), key);
    snprintf(out, cap, "%.*s", (int)v.len, v.ptr ? v.ptr : "");
    return out;
}

/* Pushes a reply as a 4.9.8 broker does (ReplyMessageRequestHeader), with
 * opaque, over the client's last connection to host:10911. bad: a field
 * left out (topic) or not a number (queueId). */
static void push_reply(simc *c, const char *host, int32_t opaque, const char *corr, int sys_flag,
                       const void *body, size_t len, const char *bad)
{
    rmq_command q;
    rmq__buf b;
    char props[256], sf[8];
    snprintf(props, sizeof props, "MSG_TYPE\001reply\002CORRELATION_ID\001%s\002REPLY_TO_CLIENT\00110.0.0.5@4242"
             "\002TTL\0013000\002CLUSTER\001DefaultCluster\002PUSH_REPLY_TIME\0011795288064700", corr);
    snprintf(sf, sizeof sf, "%d", sys_flag);
    rmq__command_init(&q, RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT, opaque, 0);
    q.language = 0;
    rmq_command_put_ext(&q, "producerGroup", "ResponderGroup");
    if (!bad || strcmp(bad, "topic") != 0) rmq_command_put_ext(&q, "topic", "DefaultCluster_REPLY_TOPIC");
    rmq_command_put_ext(&q, "defaultTopic", "TBW102");
    rmq_command_put_ext(&q, "defaultTopicQueueNums", "4");
    rmq_command_put_ext(&q, "queueId", bad && strcmp(bad, "queueId") == 0 ? "zero" : "0");
    rmq_command_put_ext(&q, "sysFlag", sf);
    rmq_command_put_ext(&q, "bornTimestamp", "1795288064650");
    rmq_command_put_ext(&q, "flag", "0");
    rmq_command_put_ext(&q, "properties", props);
    rmq_command_put_ext(&q, "reconsumeTimes", "0");
    rmq_command_put_ext(&q, "unitMode", "false");
    rmq_command_put_ext(&q, "bornHost", "10.0.0.9:50122");
    rmq_command_put_ext(&q, "storeHost", "10.0.1.1:10911");
    rmq_command_put_ext(&q, "storeTimestamp", "1795288064660");
    rmq__buf_init(&b, NULL, 1 << 20);
    rmq__frame_encode_head(&b, &q, len);
    rmq__buf_put(&b, body, len);
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, host, 10911), b.p, b.len);
    rmq__buf_free(&b);
}

/* The last frame the client wrote with opaque (a response), or NULL. */
static simc_req *answer_to(simc *c, int32_t opaque)
{
    int i;
    for (i = c->nlog - 1; i >= 0; i--)
        if ((c->log[i].flag & RMQ_FLAG_RESPONSE) && c->log[i].opaque == opaque) return &c->log[i];
    return NULL;
}

/* The CORRELATION_ID of the last request sent. */
static const char *last_corr(simc *c, char *out, size_t cap)
{
    simc_req *r = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    out[0] = 0;
    return r ? req_prop(r, "CORRELATION_ID", out, cap) : out;
}

/* -- the in-process responder ------------------------------------------- */
static void (*responder_next)(void *ctx, rmq_sim_conn *conn, const uint8_t *data, size_t len);
static int responder_pushes;
static char responder_body[64] = "pong";
static int responder_quiet;       /* only watch the bytes, push nothing */
static char seen_remarks[4][64];  /* remarks of interest seen in what the client wrote */

/* Notes which of a few remarks the client's frames carry (the JSON header
 * is plain text: a frame's remark is found in its bytes). */
static void watch_remarks(const uint8_t *data, size_t len)
{
    static const char *const wanted[] = { "process reply message fail" };
    size_t i, k, n = strlen(wanted[0]);
    for (i = 0; i + n <= len; i++)
        for (k = 0; k < sizeof wanted / sizeof *wanted; k++)
            if (memcmp(data + i, wanted[k], n) == 0) snprintf(seen_remarks[k], sizeof seen_remarks[k], "%s", wanted[k]);
}


/* After the brokers' own handling, each request carrying REPLY_TO_CLIENT
 * is answered with a reply pushed on the same connection, as a broker does
 * once a consumer sent it back. */
static void responder_on_data(void *ctx, rmq_sim_conn *conn, const uint8_t *data, size_t len)
{
    simc_server *s = (simc_server *)ctx;
    simc *c = simc_of(s);
    int before = c ? c->nlog : 0, i;
    watch_remarks(data, len);
    responder_next(ctx, conn, data, len);
    for (i = before; c && !responder_quiet && i < c->nlog; i++) {
        char corr[64], props[256];
        rmq_command q;
        rmq__buf b;
        if (c->log[i].code != RMQ_REQ_SEND_MESSAGE_V2 || !req_prop(&c->log[i], "REPLY_TO_CLIENT", corr, sizeof corr)[0])
            continue;
        req_prop(&c->log[i], "CORRELATION_ID", corr, sizeof corr);
        snprintf(props, sizeof props, "MSG_TYPE\001reply\002CORRELATION_ID\001%s", corr);
        rmq__command_init(&q, RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT, 90000 + responder_pushes++, 0);
        rmq_command_put_ext(&q, "topic", "DefaultCluster_REPLY_TOPIC");
        rmq_command_put_ext(&q, "queueId", "0");
        rmq_command_put_ext(&q, "sysFlag", "0");
        rmq_command_put_ext(&q, "bornTimestamp", "1");
        rmq_command_put_ext(&q, "flag", "0");
        rmq_command_put_ext(&q, "properties", props);
        rmq_command_put_ext(&q, "bornHost", "10.0.0.9:50122");
        rmq_command_put_ext(&q, "storeHost", "10.0.1.1:10911");
        rmq_command_put_ext(&q, "storeTimestamp", "2");
        rmq__buf_init(&b, NULL, 1 << 20);
        rmq__frame_encode_head(&b, &q, strlen(responder_body));
        rmq__buf_put(&b, responder_body, strlen(responder_body));
        rmq_sim_conn_write(conn, b.p, b.len);
        rmq__buf_free(&b);
    }
}

static rmq_sim_peer_ops responder_ops;
/* The brokers of c listen again, with the responder in front. */
static void responder_on(simc *c)
{
    int i;
    responder_ops = simc_ops;
    responder_next = simc_ops.on_data;
    responder_ops.on_data = responder_on_data;
    responder_pushes = 0;
    responder_quiet = 0;
    memset(seen_remarks, 0, sizeof seen_remarks);
    for (i = 0; i < c->n; i++) {
        if (!c->s[i].is_broker) continue;
        rmq_sim_unlisten(c->sim, c->s[i].host, c->s[i].port);
        rmq_sim_listen(c->sim, c->s[i].host, c->s[i].port, &responder_ops, &c->s[i]);
    }
}

/* -- the tests ------------------------------------------------------------ */
static void test_request_carries_correlation_id_reply_to_and_ttl_after_heartbeats_to_every_broker(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    simc_req *send, *hb;
    char v[128], first[64];
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(send != NULL);
    req_prop(send, "CORRELATION_ID", first, sizeof first);
    CHECK_INT(strlen(first), 36);                         /* a UUID's text, version 4 */
    CHECK(first[8] == '-' && first[13] == '-' && first[14] == '4' && first[18] == '-' && first[23] == '-');
    CHECK(strchr("89ab", first[19]) != NULL);
    for (i = 0; i < 36; i++) CHECK(strchr("0123456789abcdef-", first[i]) != NULL);
    CHECK_STR(req_prop(send, "REPLY_TO_CLIENT", v, sizeof v), rmq_producer_client_id(p));
    CHECK_STR(req_prop(send, "TTL", v, sizeof v), "3000");
    CHECK(req_prop(send, "UNIQ_KEY", v, sizeof v)[0] != 0);
    /* both broker groups heard this client before the request went */
    for (i = 0; i < 2; i++) {
        hb = simc_last(c, i ? "broker-b" : "broker-a", RMQ_REQ_HEART_BEAT);
        CHECK(hb != NULL);
        CHECK(hb->at <= send->at);
    }
    CHECK_INT(l.calls, 0);                                /* the send's answer is not the reply */
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    CHECK(strcmp(last_corr(c, v, sizeof v), first) != 0); /* a new id per request */
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, 2);
    simc_destroy(c);
}

static void test_request_a_pushed_reply_completes_it_and_the_broker_is_answered_success(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    simc_req *ans;
    rmq_stats st;
    char corr[64];
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 1);
    push_reply(c, "10.0.1.1", 4711, last_corr(c, corr, sizeof corr), 0, "pong", 4, NULL);
    simc_run(c, p, 50);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.last, RMQ_OK);
    CHECK_STR(l.body, "pong");
    CHECK_STR(l.topic, "DefaultCluster_REPLY_TOPIC");
    CHECK_STR(l.born_host, "10.0.0.9:50122");
    CHECK_STR(l.corr, corr);
    CHECK(l.arrive[0] != 0);                              /* ARRIVE_TIME, as Java adds it */
    ans = answer_to(c, 4711);
    CHECK(ans != NULL);                                   /* code 0, flag response, same opaque, no remark */
    CHECK_INT(ans->code, RMQ_CODE_SUCCESS);
    CHECK_INT(ans->flag & (RMQ_FLAG_RESPONSE | RMQ_FLAG_ONEWAY), RMQ_FLAG_RESPONSE);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 0);
    CHECK_INT(st.late_replies, 0);
    CHECK_INT(st.pending_sends, 0);
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, 1);
    simc_destroy(c);
}

static void test_request_a_reply_after_the_deadline_is_answered_dropped_and_counted(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    rmq_stats st;
    simc_req *ans;
    char corr[64];
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 1000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 1500);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.last, RMQ_ERR_TIMEOUT);
    push_reply(c, "10.0.1.1", 4712, last_corr(c, corr, sizeof corr), 0, "late", 4, NULL);
    simc_run(c, p, 50);
    CHECK_INT(l.calls, 1);                                /* no second end */
    ans = answer_to(c, 4712);
    CHECK(ans != NULL);
    CHECK_INT(ans->code, RMQ_CODE_SUCCESS);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.late_replies, 1);
    CHECK_INT(st.requests_waiting, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_request_a_reply_with_an_unknown_correlation_id_leaves_the_waiting_one_alone(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    rmq_stats st;
    simc_req *ans;
    char corr[64];
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    push_reply(c, "10.0.1.1", 4713, "00000000-0000-4000-8000-000000000000", 0, "who", 3, NULL);
    simc_run(c, p, 50);
    ans = answer_to(c, 4713);
    CHECK(ans != NULL);
    CHECK_INT(ans->code, RMQ_CODE_SUCCESS);
    CHECK_INT(l.calls, 0);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.late_replies, 1);
    CHECK_INT(st.requests_waiting, 1);
    push_reply(c, "10.0.1.1", 4714, last_corr(c, corr, sizeof corr), 0, "mine", 4, NULL);
    simc_run(c, p, 50);
    CHECK_INT(l.ok, 1);
    CHECK_STR(l.body, "mine");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_request_past_rmq_max_requests_is_refused_with_limit(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    rmq_stats st;
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (i = 0; i < RMQ_MAX_REQUESTS; i++) CHECK_INT(rmq_request_async(p, &m, 5000, req_cb, &l), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 5000, req_cb, &l), RMQ_ERR_LIMIT);
    CHECK_HAS(rmq_producer_last_error(p), "RMQ_MAX_REQUESTS");
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, RMQ_MAX_REQUESTS);
    simc_run(c, p, 6000);                                 /* all expire: room again */
    CHECK_INT(l.calls, RMQ_MAX_REQUESTS);
    CHECK_INT(l.last, RMQ_ERR_TIMEOUT);
    CHECK_INT(rmq_request_async(p, &m, 5000, req_cb, &l), RMQ_OK);
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, RMQ_MAX_REQUESTS + 1);
    simc_destroy(c);
}

static void test_request_sync_ends_at_its_deadline_on_virtual_time(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    rmq_message_ext reply;
    rmq_stats st;
    uint32_t t0;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_request(p, &m, 2000, &reply), RMQ_ERR_TIMEOUT);
    CHECK(rmq_sim_now(c->sim) - t0 >= 2000 && rmq_sim_now(c->sim) - t0 < 2100);
    CHECK_HAS(rmq_producer_last_error(p), "send request message to <TopicTest> OK, but wait reply message timeout, 2000 ms.");
    CHECK(reply.storage_ == NULL && reply.body == NULL);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_request_sync_returns_the_reply_the_responder_pushed(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    rmq_message_ext reply;
    responder_on(c);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECKF(rmq_request(p, &m, 3000, &reply) == RMQ_OK, "%s (pushed %d)", rmq_producer_last_error(p), responder_pushes);
    CHECK_INT(reply.body_len, 4);
    CHECK(memcmp(reply.body, "pong", 4) == 0);
    CHECK_STR(reply.topic, "DefaultCluster_REPLY_TOPIC");
    CHECK_STR(reply.store_host, "10.0.1.1:10911");
    rmq_message_ext_free(p, &reply);
    CHECK(reply.storage_ == NULL);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

#ifndef RMQ_NO_SELECTOR
static void test_request_to_a_queue_and_by_selector_go_there_and_get_their_reply(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    rmq_message_ext reply;
    rmq_queue q;
    uint64_t id = 6;
    req_log l;
    simc_req *send;
    memset(&l, 0, sizeof l);
    memset(&q, 0, sizeof q);
    snprintf(q.topic, sizeof q.topic, "TopicTest");
    snprintf(q.broker_name, sizeof q.broker_name, "broker-b");
    q.queue_id = 3;
    responder_on(c);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_to_queue(p, &m, &q, 3000, &reply), RMQ_OK);
    send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(send && send->server == simc_index(c, "broker-b") && send->queue_id == 3);
    rmq_message_ext_free(p, &reply);
    CHECK_INT(rmq_request_select_async(p, &m, rmq_select_by_id, &id, 3000, req_cb, &l), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 1000), RMQ_OK);       /* flush waits for the reply too */
    CHECK_INT(l.ok, 1);
    CHECK_STR(l.body, "pong");
    send = simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(send && send->server == simc_index(c, "broker-b") && send->queue_id == 2);   /* 6 % 8 */
    CHECK_INT(rmq_request_to_queue_async(p, &m, &q, 3000, req_cb, &l), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 1000), RMQ_OK);
    CHECK_INT(l.ok, 2);
    q.topic[0] = 'X';
    CHECK_INT(rmq_request_to_queue(p, &m, &q, 3000, &reply), RMQ_ERR_MESSAGE);   /* not the message's topic */
    rmq_producer_destroy(p);
    simc_destroy(c);
}
#endif

static void test_request_shutdown_ends_each_waiting_request_once(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (i = 0; i < 3; i++) CHECK_INT(rmq_request_async(p, &m, 5000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    CHECK_INT(l.calls, 0);
    rmq_producer_shutdown(p);
    CHECK_INT(l.calls, 3);
    CHECK_INT(l.fail, 3);
    CHECK_INT(l.last, RMQ_ERR_SHUTDOWN);
    CHECK_INT(rmq_request_async(p, &m, 5000, req_cb, &l), RMQ_ERR_STATE);
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, 3);
    simc_destroy(c);
}

/* A stand-in for zlib: the "compressed" body is the text reversed. */
static size_t reverse_inflate(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    size_t i;
    (void)arg;
    if (len > cap) return 0;
    for (i = 0; i < len; i++) ((char *)out)[i] = ((const char *)in)[len - 1 - i];
    return len;
}

static void test_request_a_compressed_reply_body_is_inflated_by_the_decompressor(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    char corr[64];
    memset(&l, 0, sizeof l);
    simc_config(c, &cfg, "ReqGroup");
    cfg.decompressor = reverse_inflate;
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    push_reply(c, "10.0.1.1", 4715, last_corr(c, corr, sizeof corr), 1, "detalfni", 8, NULL);
    simc_run(c, p, 50);
    CHECK_INT(l.ok, 1);
    CHECK_STR(l.body, "inflated");
    CHECK_INT(l.sys_flag & 1, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_request_a_malformed_reply_is_refused_and_the_request_waits_on(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    req_log l;
    rmq_stats st;
    simc_req *ans;
    char corr[64];
    memset(&l, 0, sizeof l);
    responder_on(c);
    responder_quiet = 1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 50);
    last_corr(c, corr, sizeof corr);
    push_reply(c, "10.0.1.1", 4716, corr, 0, "bad", 3, "topic");
    push_reply(c, "10.0.1.1", 4717, corr, 0, "bad", 3, "queueId");
    simc_run(c, p, 50);
    ans = answer_to(c, 4716);
    CHECK(ans != NULL);
    CHECK_INT(ans->code, RMQ_CODE_SYSTEM_ERROR);
    ans = answer_to(c, 4717);
    CHECK(ans != NULL);
    CHECK_INT(ans->code, RMQ_CODE_SYSTEM_ERROR);
    CHECK_STR(seen_remarks[0], "process reply message fail");       /* Java's remark */
    CHECK_INT(l.calls, 0);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 1);
    CHECK_INT(st.late_replies, 0);
    push_reply(c, "10.0.1.1", 4718, corr, 0, "good", 4, NULL);
    simc_run(c, p, 50);
    CHECK_INT(l.ok, 1);
    CHECK_STR(l.body, "good");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_request_a_failed_send_fails_the_request_with_its_error(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ReqGroup");
    rmq_message m = msg("TopicTest", "ping");
    rmq_message_ext reply;
    req_log l;
    rmq_property bad = { "CORRELATION_ID", "mine" };
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_NO_PERMISSION, 100);
    CHECK_INT(rmq_request(p, &m, 3000, &reply), RMQ_ERR_BROKER);
    CHECK_HAS(rmq_producer_last_error(p), "send request message to <TopicTest> fail");
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_OK);
    simc_run(c, p, 100);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.last, RMQ_ERR_BROKER);
    m.properties = &bad;                                  /* the system's own property: refused at once */
    m.nproperties = 1;
    CHECK_INT(rmq_request_async(p, &m, 3000, req_cb, &l), RMQ_ERR_MESSAGE);
    CHECK_INT(rmq_request_async(p, &m, 3000, NULL, &l), RMQ_ERR_INVALID_ARG);
    simc_run(c, p, 100);
    CHECK_INT(l.calls, 1);
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, 1);
    simc_destroy(c);
}

static void run_request_tests(void)
{
    RUN(test_request_carries_correlation_id_reply_to_and_ttl_after_heartbeats_to_every_broker);
    RUN(test_request_a_pushed_reply_completes_it_and_the_broker_is_answered_success);
    RUN(test_request_a_reply_after_the_deadline_is_answered_dropped_and_counted);
    RUN(test_request_a_reply_with_an_unknown_correlation_id_leaves_the_waiting_one_alone);
    RUN(test_request_past_rmq_max_requests_is_refused_with_limit);
    RUN(test_request_sync_ends_at_its_deadline_on_virtual_time);
    RUN(test_request_sync_returns_the_reply_the_responder_pushed);
#ifndef RMQ_NO_SELECTOR
    RUN(test_request_to_a_queue_and_by_selector_go_there_and_get_their_reply);
#endif
    RUN(test_request_shutdown_ends_each_waiting_request_once);
    RUN(test_request_a_compressed_reply_body_is_inflated_by_the_decompressor);
    RUN(test_request_a_malformed_reply_is_refused_and_the_request_waits_on);
    RUN(test_request_a_failed_send_fails_the_request_with_its_error);
}
#else
static void run_request_tests(void) {}
#endif
