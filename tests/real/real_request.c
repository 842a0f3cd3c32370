/* Request-reply against a real cluster: the responder is a Java
 * application (tests/real/ReplyResponder.java, a push consumer answering
 * with MessageUtil.createReplyMessage), compiled with javac against the
 * distribution's jars (RMQ_REAL_HOME, or the directory above
 * RMQ_REAL_MQADMIN's bin/) and stopped at the end of each test whatever
 * happened. */
#include <sys/wait.h>

static struct {
    pid_t pid;
    char dir[256];
} responder;

/* The distribution's home: its lib/ holds the client jars. */
static int real_home(char *out, size_t cap)
{
    const char *h = getenv("RMQ_REAL_HOME"), *a = getenv("RMQ_REAL_MQADMIN"), *bin;
    if (h && *h) { snprintf(out, cap, "%s", h); return 1; }
    if (!a || !(bin = strstr(a, "/bin/mqadmin"))) return 0;
    snprintf(out, cap, "%.*s", (int)(bin - a), a);
    return 1;
}

static void responder_stop(void)
{
    char cmd[400];
    if (responder.pid > 0) {
        kill(responder.pid, SIGTERM);
        waitpid(responder.pid, NULL, 0);
        responder.pid = 0;
    }
    if (responder.dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", responder.dir);
        if (system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", responder.dir);
        responder.dir[0] = 0;
    }
}

/* Compiles and starts the responder for topic; 1 once it said it is
 * subscribed and started, 0 (skip) without javac or jars, -1 on failure. */
static int responder_start(const char *topic, const char *group)
{
    char home[512], cmd[2048], cp[1024], ready[400];
    long long until;
    if (!real_home(home, sizeof home) || system("command -v javac >/dev/null 2>&1") != 0) return 0;
    snprintf(responder.dir, sizeof responder.dir, "/tmp/rmq-responder.XXXXXX");
    if (!mkdtemp(responder.dir)) { responder.dir[0] = 0; return -1; }
    snprintf(cmd, sizeof cmd, "javac -nowarn -cp '%s/lib/*' -d '%s' tests/real/ReplyResponder.java >'%s/javac.log' 2>&1",
             home, responder.dir, responder.dir);
    if (system(cmd) != 0) { fprintf(stderr, "  javac failed (see %s/javac.log)\n", responder.dir); return -1; }
    snprintf(cp, sizeof cp, "%s:%s/lib/*", responder.dir, home);
    snprintf(ready, sizeof ready, "%s/ready", responder.dir);
    responder.pid = fork();
    if (responder.pid < 0) return -1;
    if (responder.pid == 0) {
        char log[400];
        snprintf(log, sizeof log, "%s/responder.log", responder.dir);
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr)) _exit(126);
        execlp("java", "java", "-Xms64m", "-Xmx192m", "-cp", cp, "ReplyResponder", R.namesrv, topic, group, ready,
               "300", (char *)NULL);
        _exit(127);
    }
    for (until = now_ms() + 90000; now_ms() < until; nap_ms(200))
        if (access(ready, F_OK) == 0) return 1;
    fprintf(stderr, "  the responder did not start within 90 s (see %s/responder.log)\n", responder.dir);
    return -1;
}

/* A request, made again while a busy broker refuses the send. */
static rmq_err request_sync(rmq_producer *p, const rmq_message *m, const rmq_queue *q, uint32_t timeout_ms,
                            rmq_message_ext *reply)
{
    rmq_err err = RMQ_ERR_BROKER;
    int i;
    for (i = 0; i < 5 && err == RMQ_ERR_BROKER; i++) {
        if (i) nap_ms(500);
        err = q ? rmq_request_to_queue(p, m, q, timeout_ms, reply) : rmq_request(p, m, timeout_ms, reply);
    }
    return err;
}

typedef struct real_reply {
    int calls;
    rmq_err err;
    char body[128];
    char topic[128];
} real_reply;

static void real_reply_cb(rmq_err err, const rmq_message_ext *reply, void *user)
{
    real_reply *r = (real_reply *)user;
    r->calls++;
    r->err = err;
    if (reply) {
        snprintf(r->body, sizeof r->body, "%.*s", (int)reply->body_len, (const char *)reply->body);
        snprintf(r->topic, sizeof r->topic, "%s", reply->topic);
    }
}

static const char *ext_prop(const rmq_message_ext *m, const char *key)
{
    size_t i;
    for (i = 0; i < m->nproperties; i++) if (strcmp(m->properties[i].key, key) == 0) return m->properties[i].value;
    return "";
}

static void request_answered_body(const char *topic, const char *group)
{
    static const char *const brokers[2] = { "broker-a", "broker-b" };
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_message_ext reply;
    rmq_queue q;
    rmq_stats st;
    real_reply ar;
    char body[64], want[80], reply_topic[128];
    long long until;
    rmq_err err = RMQ_ERR_TIMEOUT;
    int b;
    real_config(&cfg, group);
    CHECK((p = real_start(&cfg)) != NULL);
    /* The responder's first rebalance and pull take a while: until then a
     * request goes unanswered. */
    rmq_message_init(&m, topic, "warm", 4);
    for (until = now_ms() + 120000; err != RMQ_OK && now_ms() < until;) err = request_sync(p, &m, NULL, 10000, &reply);
    CHECKF(err == RMQ_OK, "no reply to a first request within 120 s: %s", rmq_producer_last_error(p));
    CHECK_STR((const char *)reply.body, "reply:warm");
    snprintf(reply_topic, sizeof reply_topic, "%s", reply.topic);
    CHECK(strstr(reply_topic, "_REPLY_TOPIC") != NULL);
    CHECK_STR(ext_prop(&reply, "MSG_TYPE"), "reply");
    CHECK(strlen(ext_prop(&reply, "CORRELATION_ID")) == 36);
    CHECK_STR(ext_prop(&reply, "REPLY_TO_CLIENT"), rmq_producer_client_id(p));
    rmq_message_ext_free(p, &reply);
    for (b = 0; b < 2; b++) {
        memset(&q, 0, sizeof q);
        snprintf(q.topic, sizeof q.topic, "%s", topic);
        snprintf(q.broker_name, sizeof q.broker_name, "%s", brokers[b]);
        q.queue_id = 1 + b;
        snprintf(body, sizeof body, "sync-%s", brokers[b]);
        snprintf(want, sizeof want, "reply:%s", body);
        rmq_message_init(&m, topic, body, strlen(body));
        err = request_sync(p, &m, &q, 15000, &reply);
        CHECKF(err == RMQ_OK, "sync request to %s: %s", brokers[b], rmq_producer_last_error(p));
        CHECK_STR((const char *)reply.body, want);
        CHECK_STR(reply.topic, reply_topic);
        rmq_message_ext_free(p, &reply);
        snprintf(body, sizeof body, "async-%s", brokers[b]);
        snprintf(want, sizeof want, "reply:%s", body);
        rmq_message_init(&m, topic, body, strlen(body));
        memset(&ar, 0, sizeof ar);
        CHECKF(rmq_request_to_queue_async(p, &m, &q, 15000, real_reply_cb, &ar) == RMQ_OK, "%s", rmq_producer_last_error(p));
        for (until = now_ms() + 20000; !ar.calls && now_ms() < until;) rmq_producer_poll(p, 100);
        CHECK_INT(ar.calls, 1);
        CHECKF(ar.err == RMQ_OK, "async request to %s: %s", brokers[b], rmq_strerror(ar.err));
        CHECK_STR(ar.body, want);
    }
    rmq_message_init(&m, topic, "async-any", 9);
    memset(&ar, 0, sizeof ar);
    CHECK(rmq_request_async(p, &m, 15000, real_reply_cb, &ar) == RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 20000), RMQ_OK);       /* flush waits for the reply */
    CHECK_INT(ar.calls, 1);
    CHECK_STR(ar.body, "reply:async-any");
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 0);
    real_stop(p);
}

static void test_request_sync_and_async_to_both_broker_groups_get_the_java_responders_reply(void)
{
    char topic[96], group[96], rgroup[96];
    int started;
    CHECK(fresh_topic("Request", topic, group));
    name_of(rgroup, sizeof rgroup, "GResponder");
    started = responder_start(topic, rgroup);
    if (started == 0) {
        printf("SKIP %s: needs javac and the distribution's jars (RMQ_REAL_HOME)\n", test_current);
        test_skipped++;
        return;
    }
    if (started > 0) request_answered_body(topic, group);
    else test_fail_at(__FILE__, __LINE__, "the Java responder did not start");
    responder_stop();
}

static void test_request_to_a_topic_nobody_answers_times_out_at_its_deadline(void)
{
    char topic[96], group[96];
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m;
    rmq_message_ext reply;
    rmq_stats st;
    long long t0, took;
    rmq_err err;
    CHECK(fresh_topic("RequestNoOne", topic, group));
    real_config(&cfg, group);
    CHECK((p = real_start(&cfg)) != NULL);
    rmq_message_init(&m, topic, "anyone?", 7);
    t0 = now_ms();
    err = rmq_request(p, &m, 3000, &reply);
    took = now_ms() - t0;
    CHECKF(err == RMQ_ERR_TIMEOUT, "%s: %s", rmq_strerror(err), rmq_producer_last_error(p));
    CHECK_HAS(rmq_producer_last_error(p), "wait reply message timeout, 3000 ms");
    CHECKF(took >= 3000 && took < 4000, "ended after %lld ms", took);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.requests_waiting, 0);
    real_stop(p);
}
