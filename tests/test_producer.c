/* The start flow and the send paths, over the simulated port: every test
 * runs on virtual time, against in-process name servers and brokers. */

static rmq_message msg(const char *topic, const char *body)
{
    rmq_message m;
    rmq_message_init(&m, topic, body, strlen(body));
    return m;
}

/* -- the start flow -------------------------------------------------------- */
static void test_start_needs_no_network_and_first_send_names_topic_and_namesrv(void)
{
    simc *c = simc_create(0, 0, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "hi");
    rmq_producer_config_init(&cfg);
    cfg.group = "pg";
    cfg.namesrv_addr = "10.9.9.9:9876;10.9.9.8:9876";      /* nobody listens there */
    cfg.port = rmq_sim_port(c->sim);
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_sim_connects(c->sim, "10.9.9.9", 9876) + rmq_sim_connects(c->sim, "10.9.9.8", 9876), 0);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_NO_ROUTE);
    CHECK_HAS(rmq_producer_last_error(p), "No route info of this topic: TopicTest");
    CHECK_HAS(rmq_producer_last_error(p), "10.9.9.9:9876;10.9.9.8:9876");
    CHECK_HAS(RES_REASON(res), "TopicTest");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_start_twice_is_refused_with_the_state_named(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_ERR_STATE);
    CHECK_STR(rmq_producer_last_error(p), "The producer service state not OK, maybe started once, RUNNING");
    rmq_producer_shutdown(p);
    CHECK_INT(rmq_producer_state(p), RMQ_STATE_SHUTDOWN_ALREADY);
    CHECK_INT(rmq_producer_start(p), RMQ_ERR_STATE);
    CHECK_HAS(rmq_producer_last_error(p), "SHUTDOWN_ALREADY");
    rmq_producer_shutdown(p);                                  /* twice is harmless */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_invalid_config_fails_start_naming_the_field_and_stays_start_failed(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "DEFAULT_PRODUCER");
    char why[256];
    rmq_producer_config cfg;
    CHECK_INT(rmq_producer_start(p), RMQ_ERR_CONFIG);
    CHECK_HAS(rmq_producer_last_error(p), "producerGroup can not equal DEFAULT_PRODUCER");
    CHECK_INT(rmq_producer_state(p), RMQ_STATE_START_FAILED);
    CHECK_INT(rmq_producer_start(p), RMQ_ERR_STATE);
    rmq_producer_destroy(p);
    rmq_producer_config_init(&cfg);
    cfg.port = rmq_sim_port(c->sim);
    cfg.group = "bad group!";
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_STR(why, "group: the specified group contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
    cfg.group = "ok";
    cfg.namesrv_addr = "host-without-port";
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, "namesrv_addr");
    cfg.namesrv_addr = NULL;
    cfg.send_timeout_ms = 0;
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, "send_timeout_ms");
    cfg.send_timeout_ms = 3000;
    cfg.latency_fault_enable = 1;
    cfg.latency_max_ms[3] = 10;                               /* below latency_max_ms[2] */
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, "latency_max_ms: must not decrease");
    cfg.latency_max_ms[3] = 1000;
    cfg.port = NULL;
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_ERR_CONFIG);
    CHECK_HAS(why, "port");
    simc_destroy(c);
}

/* A reason nested in another renders inside it, with the remark of the
 * result for its %R; arguments past RMQ_REASON_ARGS_LEN and templates past
 * RMQ_REASON_DEPTH are cut, never written past. */
static void test_reason_renders_nested_reasons_and_stays_in_its_bounds(void)
{
    rmq_send_result res;
    rmq_reason inner, mid;
    char big[2 * RMQ_REASON_ARGS_LEN], text[4 * RMQ_REASON_ARGS_LEN], want[4 * RMQ_REASON_ARGS_LEN];
    memset(&res, 0, sizeof res);
    CHECK_STR(rmq_result_reason(&res, text, sizeof text), "");
    rmq__why(&inner, RMQ_R_BROKER_ANSWER, "broker-a", "SYSTEM_BUSY", 2);
    rmq__why(&res.reason, RMQ_R_SEND_RETRIES_FAILED, 3, 12u, "TopicTest", &inner);
    snprintf(res.remark, sizeof res.remark, "too busy");
    CHECK_STR(rmq_result_reason(&res, text, sizeof text),
              "Send [3] times, still failed, cost [12]ms, Topic: TopicTest: broker broker-a answered SYSTEM_BUSY (2): too busy");
    CHECK_STR(rmq_result_reason(&res, text, 5), "Send");
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    rmq__why(&mid, RMQ_R_CONNECT_BACKOFF, big, &inner);
    rmq__why(&res.reason, RMQ_R_NO_ROUTE, "T", "ns", &mid);
    CHECK_INT(res.reason.len, RMQ_REASON_ARGS_LEN);
    snprintf(want, sizeof want, "No route info of this topic: T (name servers ns: %.*s is backing off after a failure "
             "(broker  answered  (): too busy))", RMQ_REASON_ARGS_LEN - 5, big);
    CHECK_STR(rmq_result_reason(&res, text, sizeof text), want);
    mid = res.reason;
    rmq__why(&res.reason, RMQ_R_ONEWAY_FAILED, &mid);                /* RMQ_REASON_DEPTH (4) levels */
    CHECK_HAS(rmq_result_reason(&res, text, sizeof text), "xx is backing off after a failure (broker  answered  (): too busy))");
    mid = res.reason;
    rmq__why(&res.reason, RMQ_R_ONEWAY_FAILED, &mid);                /* one level more: the deepest goes */
    CHECK_HAS(rmq_result_reason(&res, text, sizeof text), "xx is backing off after a failure ())");
}

/* -- reason codes ------------------------------------------------------------ */
/* Every line of RMQ_REASONS, as the user reads it: its number is the code's
 * value and its place, and the table finds its template at that code (a
 * template with a NUL inside would shift every code after it). */
#define TEST_REASON_ROW(n, name, cut, text) { n, (int)name, RMQ__IN_##cut(text) },
static const struct { int n, code; const char *text; } test_reason_rows[] = { RMQ_REASONS(TEST_REASON_ROW) };

/* Code's template unpacked (tools/gen_reasons.py's byte pairs) into out,
 * by a decoder of the test's own: a token is a byte 0x80..0xFF or
 * 0x01..0x1F and stands for the two symbols of its pair. */
static const char *test_reason_unpack(unsigned code, char *out, size_t cap)
{
    const unsigned char *t = (const unsigned char *)rmq__reason_template(code);
    unsigned char stack[64];
    size_t n = 0, len = 0;
    while (*t) {
        stack[n++] = *t++;
        while (n) {
            unsigned c = stack[--n];
            if (c >= 0x80 || c < 0x20) {
                unsigned i = c >= 0x80 ? c - 0x80 : c + 0x7f;
                if (n + 2 > sizeof stack) return "(pairs nest too deep)";
                stack[n++] = rmq__reason_pairs[2 * i + 1];
                stack[n++] = rmq__reason_pairs[2 * i];
            } else if (len + 1 < cap) {
                out[len++] = (char)c;
            }
        }
    }
    out[len] = 0;
    return out;
}

/* The packed table is RMQ_REASONS packed: every template unpacks to its
 * line's, empty where this build cuts it (a line edited or appended
 * without running tools/gen_reasons.py fails here; make lint runs its
 * --check too). */
static void test_every_reason_code_has_its_template_at_its_place(void)
{
    size_t i, n = sizeof test_reason_rows / sizeof *test_reason_rows;
    const char *last;
    char text[1024];
    CHECK_INT(n, RMQ_R__COUNT);
    for (i = 0; i < n; i++) {
        CHECK_INT(test_reason_rows[i].n, i);
        CHECK_INT(test_reason_rows[i].code, i);
        CHECK_STR(test_reason_unpack((unsigned)i, text, sizeof text), test_reason_rows[i].text);
    }
    last = rmq__reason_template(RMQ_R__COUNT - 1);
    CHECK(last + strlen(last) + 1 == (const char *)&rmq__reason_texts + sizeof rmq__reason_texts);
    CHECK(rmq__reason_template(RMQ_R__COUNT) == NULL);
    CHECK_STR(rmq__reason_template(RMQ_R_NONE), "");
}

/* Packs the arguments t names, as rmq__why would: "a<i>" for %s, -(100+i)
 * for %d, 100+i for %u; %r names RMQ_R_NO_MEMORY ("out of memory", no
 * arguments of its own). Writes into want what the sentence must hold, in
 * order, one piece a line. Returns 0 for a conversion nobody renders. */
static int test_reason_pack(const char *t, rmq_reason *r, char *want, size_t cap)
{
    char piece[32];
    int32_t v;
    int i = 0;
    size_t n;
    want[0] = 0;
    for (; *t; t++) {
        if (*t != '%') continue;
        switch (*++t) {
        case 's': snprintf(piece, sizeof piece, "a%d", i); n = strlen(piece) + 1; memcpy(r->args + r->len, piece, n); r->len += (unsigned short)n; break;
        case 'd': v = -(100 + i); memcpy(r->args + r->len, &v, 4); r->len += 4; snprintf(piece, sizeof piece, "%d", (int)v); break;
        case 'u': v = 100 + i; memcpy(r->args + r->len, &v, 4); r->len += 4; snprintf(piece, sizeof piece, "%d", (int)v); break;
        case 'r': r->code[1] = RMQ_R_NO_MEMORY; snprintf(piece, sizeof piece, "out of memory"); break;
        case 'R': snprintf(piece, sizeof piece, "the remark"); break;
        case '%': continue;
        default: return 0;
        }
        i++;
        strncat(want, piece, cap - strlen(want) - 2);
        strcat(want, "\n");
    }
    return 1;
}

/* Every template renders with exactly the arguments it names: each one
 * shows, in order, and nothing past them is read (the bytes after them are
 * '~', which no template holds). The conversions are those the recorder
 * (rmq__vwhy) and the renderer both know. */
static void test_every_template_renders_its_arguments_and_reads_no_further(void)
{
    rmq_reason r;
    char text[1024], want[512], plain[1024], *piece, *next;
    const char *at;
    unsigned code;
    for (code = 1; code < RMQ_R__COUNT; code++) {
        memset(&r, 0, sizeof r);
        memset(r.args, '~', sizeof r.args);
        r.code[0] = (unsigned char)code;
        test_reason_unpack(code, plain, sizeof plain);
        CHECKF(!strchr(plain, '~'), "code %u's template holds '~'", code);
        CHECKF(test_reason_pack(plain, &r, want, sizeof want),
               "code %u: a conversion the renderer does not know: %.300s", code, plain);
        rmq__reason_text(&r, "the remark", text, sizeof text);
        CHECKF(!strchr(text, '~'), "code %u read past its arguments: %.400s", code, text);
        CHECKF(!strstr(text, "(null)"), "code %u: %.400s", code, text);
        for (at = text, piece = want; *piece; piece = next + 1) {
            next = strchr(piece, '\n');
            *next = 0;
            at = strstr(at, piece);
            CHECKF(at != NULL, "code %u: \"%.400s\" lacks \"%.100s\" in its place", code, text, piece);
            at += strlen(piece);
        }
    }
}

/* rmq__why records what test_reason_pack assumes: texts with their NUL,
 * numbers in 4 bytes of the host's order, a %r reason's codes after the
 * outer one and its arguments after the outer's. */
static void test_a_recorded_reason_packs_its_arguments_in_template_order(void)
{
    rmq_reason in, r, want;
    int32_t v = -7, u = 9;
    memset(&want, 0, sizeof want);
    rmq__why(&in, RMQ_R_ANSWER_DEADLINE, "b:1", -7, 9);           /* %s %d %d */
    CHECK_INT(in.code[0], RMQ_R_ANSWER_DEADLINE);
    CHECK_INT(in.code[1], RMQ_R_NONE);
    CHECK_INT(in.len, 4 + 4 + 4);
    memcpy(want.args, "b:1", 4);
    memcpy(want.args + 4, &v, 4);
    memcpy(want.args + 8, &u, 4);
    CHECK(memcmp(in.args, want.args, in.len) == 0);
    rmq__why(&r, RMQ_R_SEND_RETRIES_FAILED, 3, 12u, "T", &in);     /* %d %u %s %r */
    CHECK_INT(r.code[0], RMQ_R_SEND_RETRIES_FAILED);
    CHECK_INT(r.code[1], RMQ_R_ANSWER_DEADLINE);
    CHECK_INT(r.code[2], RMQ_R_NONE);
    CHECK_INT(r.len, 4 + 4 + 2 + in.len);
    CHECK(memcmp(r.args + 10, in.args, in.len) == 0);
}

/* A failure of each kind reports its code, at the depth a user reads it;
 * the sentences are the other tests'. */
static void test_each_kind_of_failure_reports_its_reason_code(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "DEFAULT_PRODUCER"), *q;
    rmq_send_result res;
    rmq_message m = msg("Topic Test", "x");
    CHECK_INT(rmq_producer_last_error_code(p, 0), RMQ_R_NONE);
    CHECK_INT(rmq_producer_start(p), RMQ_ERR_CONFIG);                       /* the config */
    CHECK_INT(rmq_producer_last_error_code(p, 0), RMQ_R_CONFIG_GROUP_DEFAULT);
    CHECK_INT(rmq_producer_last_error_code(p, 1), RMQ_R_NONE);
    rmq_producer_destroy(p);
    q = simc_producer(c, "pg");
    CHECK_INT(rmq_send(q, &m, &res), RMQ_ERR_STATE);                        /* the state */
    CHECK_INT(rmq_producer_last_error_code(q, 0), RMQ_R_NOT_RUNNING);
    CHECK_INT(rmq_producer_start(q), RMQ_OK);
    CHECK_INT(rmq_send(q, &m, &res), RMQ_ERR_MESSAGE);                      /* the message */
    CHECK_INT(rmq_producer_last_error_code(q, 0), RMQ_R_TOPIC_ILLEGAL);
    m = msg("TopicTest", "x");
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_BUSY, 1);
    CHECK_INT(rmq_send(q, &m, &res), RMQ_ERR_BROKER);                       /* the broker's answer */
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_BROKER_ANSWER);
    CHECK_INT(rmq_producer_last_error_code(q, 0), RMQ_R_BROKER_ANSWER);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SERVICE_NOT_AVAILABLE, 3);
    CHECK_INT(rmq_send(q, &m, &res), RMQ_ERR_BROKER);                       /* retried, then given up */
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_SEND_RETRIES_FAILED);
    CHECK_INT(rmq_result_reason_code(&res, 1), RMQ_R_BROKER_ANSWER);
    CHECK_INT(rmq_result_reason_code(&res, 2), RMQ_R_NONE);
    CHECK_INT(rmq_result_reason_code(&res, RMQ_REASON_DEPTH), RMQ_R_NONE);
    c->s[simc_index(c, "broker-a")].silent = 1;
    CHECK_INT(rmq_send_timeout(q, &m, &res, 500), RMQ_ERR_TIMEOUT);         /* no answer */
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_ANSWER_DEADLINE);
    c->s[simc_index(c, "broker-a")].silent = 0;
    CHECK_INT(rmq_send(q, &m, &res), RMQ_OK);
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_NONE);                 /* a success has none */
    CHECK_INT(rmq_result_reason_code(NULL, 0), RMQ_R_NONE);
    CHECK_INT(rmq_producer_last_error_code(NULL, 0), RMQ_R_NONE);
    rmq_producer_destroy(q);
    simc_destroy(c);
}

/* A broker that refuses the connection: the send gives up after its
 * attempts, and the code under it says it was the connect. */
static void test_a_refused_connect_reports_the_connect_code(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_sim_faults refuse;
    memset(&refuse, 0, sizeof refuse);
    refuse.refuse = RMQ_SIM_REFUSE_DEFERRED;
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &refuse);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_CONNECT);
    CHECK_INT(rmq_result_reason_code(&res, 0), RMQ_R_SEND_RETRIES_FAILED);
    CHECK_INT(rmq_result_reason_code(&res, 1), RMQ_R_CONNECT_FAILED);
    CHECK_HAS(RES_REASON(res), "connect to 10.0.1.1:10911 refused");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A route the name server sends that breaks a bound is refused naming
 * the bound: RMQ_R_ROUTE_REFUSED, and what was refused nested in it. */
static void test_a_refused_route_nests_what_was_refused(void)
{
    rmq_reason why;
    char text[RMQ_REASON_MAX_LEN + 1];
    CHECK_INT(rmq__route_refuse(&why, RMQ_R_ROUTE_MAX_BROKERS), -1);
    CHECK_INT(why.code[0], RMQ_R_ROUTE_REFUSED);
    CHECK_INT(why.code[1], RMQ_R_ROUTE_MAX_BROKERS);
    CHECK_INT(why.code[2], RMQ_R_NONE);
    CHECK_STR(rmq__reason_text(&why, NULL, text, sizeof text), "route data refused: more broker groups than RMQ_MAX_BROKERS");
}

/* A code this build does not know (a result from another build) reads as
 * its number, as in a text-less build. */
static void test_an_unknown_code_reads_as_its_number(void)
{
    rmq_send_result res;
    char text[64];
    memset(&res, 0, sizeof res);
    res.reason.code[0] = (unsigned char)RMQ_R__COUNT;
    snprintf(text, sizeof text, "reason %d", (int)RMQ_R__COUNT);
    CHECK_STR(RES_REASON(res), text);
}

static void test_duplicate_group_is_refused_with_javas_message_and_state_create_just(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *a = simc_producer(c, "pg"), *b = simc_producer(c, "pg");
    CHECK_INT(rmq_producer_start(a), RMQ_OK);
    CHECK_INT(rmq_producer_start(b), RMQ_ERR_GROUP_EXISTS);
    CHECK_STR(rmq_producer_last_error(b), "The producer group[pg] has been created before, specify another name please.");
    CHECK_INT(rmq_producer_state(b), RMQ_STATE_CREATE_JUST);
    rmq_producer_destroy(b);
    rmq_producer_destroy(a);
    simc_destroy(c);
}

static void test_client_id_is_ip_at_pid_and_two_producers_share_one_instance(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *a = simc_producer(c, "pg1"), *b = simc_producer(c, "pg2");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    simc_req *hb;
    CHECK_INT(rmq_producer_start(a), RMQ_OK);
    CHECK_INT(rmq_producer_start(b), RMQ_OK);
    CHECK_STR(rmq_producer_client_id(a), "10.0.0.5@4242");
    CHECK_STR(rmq_producer_client_id(b), "10.0.0.5@4242");
    CHECK_INT(rmq_send(a, &m, &res), RMQ_OK);
    CHECK_INT(rmq_send(b, &m, &res), RMQ_OK);
    CHECK_INT(rmq_sim_connects(c->sim, "10.0.1.1", 10911), 1);   /* one connection for both */
    hb = simc_last(c, "broker-a", RMQ_REQ_HEART_BEAT);
    CHECK(hb != NULL);
    CHECK_HAS((const char *)hb->body, "\"clientID\":\"10.0.0.5@4242\"");
    CHECK_HAS((const char *)hb->body, "{\"groupName\":\"pg1\"},{\"groupName\":\"pg2\"}");
    rmq_producer_destroy(a);
    rmq_producer_destroy(b);
    simc_destroy(c);
}

static void test_heartbeat_reaches_a_broker_before_the_first_send_and_every_30_s(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    int i, first_hb = -1, first_send = -1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    for (i = 0; i < c->nlog; i++) {
        if (c->log[i].code == RMQ_REQ_HEART_BEAT && first_hb < 0) first_hb = i;
        if (c->log[i].code == RMQ_REQ_SEND_MESSAGE_V2 && first_send < 0) first_send = i;
    }
    CHECK(first_hb >= 0 && first_hb < first_send);
    simc_run(c, p, 61000);                                       /* 61 virtual seconds */
    {
        uint32_t at[8];
        int n = 0;
        for (i = 0; i < c->nlog && n < 8; i++) if (c->log[i].code == RMQ_REQ_HEART_BEAT) at[n++] = c->log[i].at;
        CHECK(n >= 3);
        CHECK_INT(at[n - 1] - at[n - 2], 30000);                 /* every heartbeat_interval_ms */
        CHECK_INT(at[n - 2] - at[n - 3], 30000);
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_route_refresh_picks_up_a_new_broker(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_queue qs[16];
    size_t n, i;
    int seen_b = 0;
    c->s[simc_index(c, "broker-b")].hidden = 1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 4);
    c->s[simc_index(c, "broker-b")].hidden = 0;
    simc_run(c, p, 31000);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 8);
    for (i = 0; i < n; i++) seen_b |= strcmp(qs[i].broker_name, "broker-b") == 0;
    CHECK(seen_b);
    CHECK_STR(qs[0].broker_name, "broker-a");
    CHECK_STR(qs[4].broker_name, "broker-b");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_one_of_two_name_servers_dead_routes_still_arrive(void)
{
    simc *c = simc_create(2, 1, 1000);
    int k;
    simc_down(c, simc_index(c, "ns0"));
    for (k = 0; k < 4; k++) {                                   /* whichever one is tried first */
        rmq_producer *p = simc_producer(c, "pg");
        rmq_send_result res;
        rmq_message m = msg("TopicTest", "x");
        rmq_sim_seed(c->sim, (uint64_t)k + 1);
        CHECK_INT(rmq_producer_start(p), RMQ_OK);
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        rmq_producer_destroy(p);
    }
    CHECK(simc_count(c, "ns1", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) >= 4);
    simc_destroy(c);
}

static void test_unknown_topic_falls_back_to_the_default_topic_route(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("BrandNew", "x");
    simc_req *send;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    send = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(send != NULL);
    CHECK_STR(send->topic, "BrandNew");
    CHECK_HAS(send->ext, "c=TBW102");
    CHECK(send->queue_id >= 0 && send->queue_id < 4);           /* min(4, TBW102's 8) */
    CHECK_STR(res.queue.topic, "BrandNew");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* -- sending ---------------------------------------------------------------- */
static void test_sync_send_writes_the_v2_header_java_writes_and_parses_the_result(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ProbeGroup");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "Hello RocketMQ 0");
    simc_req *r;
    m.tags = "TagA";
    m.keys = "KEY_0";
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(r != NULL);
    CHECK_HAS(r->ext, "a=ProbeGroup\nb=TopicTest\nc=TBW102\nd=4\ne=");
    CHECK_HAS(r->ext, "f=0\ng=1795288064");
    CHECK_HAS(r->ext, "h=0\n");
    CHECK_HAS(r->ext, "j=0\nk=false\nm=false\nn=broker-a\n");
    CHECK_HAS(r->props, "TAGS\001TagA");
    CHECK_HAS(r->props, "KEYS\001KEY_0");
    CHECK_HAS(r->props, "WAIT\001true");
    CHECK_HAS(r->props, "UNIQ_KEY\001");
    CHECK_HAS(r->props, res.msg_id);
    CHECK(r->body_len == 16 && memcmp(r->body, "Hello RocketMQ 0", 16) == 0);
    CHECK_INT(res.status, RMQ_SEND_OK);
    CHECK_INT(strlen(res.msg_id), 32);
    CHECK(strncmp(res.msg_id, "0A000005" "1092", 12) == 0);      /* ip 10.0.0.5, pid 4242 */
    CHECK_INT(strlen(res.offset_msg_id), 32);
    CHECK_STR(res.queue.broker_name, "broker-a");
    CHECK_INT(res.queue.queue_id, r->queue_id);
    CHECK_INT(res.queue_offset, 0);
    CHECK_STR(res.region_id, "DefaultRegion");
    CHECK_INT(res.trace_on, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_binary_headers_when_configured_and_answers_read_in_either_form(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "bin");
    simc_config(c, &cfg, "pg");
    cfg.serialize = RMQ_SERIALIZE_ROCKETMQ;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->serialize, RMQ_SERIALIZE_ROCKETMQ);
    CHECK_INT(simc_last(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC)->serialize, RMQ_SERIALIZE_ROCKETMQ);
    CHECK_HAS(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->props, "WAIT\001true");
    CHECK_INT(res.status, RMQ_SEND_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_fastjson_route_form_is_read(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_queue qs[16];
    size_t n;
    c->fastjson = 1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(n, 8);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_sync_send_retries_system_error_on_the_other_broker(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    int a = simc_index(c, "broker-a"), b = simc_index(c, "broker-b"), k;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (k = 0; k < 6; k++) {
        simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_ERROR, 0);
        /* the first attempt fails, whichever broker it goes to */
        simc_fail(c, k % 2 ? "broker-b" : "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_ERROR, 1);
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    }
    CHECK(c->s[a].sends + c->s[b].sends == 6);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_sync_send_does_not_retry_system_busy_as_java_4_9(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_BUSY, 5);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_BROKER);
    CHECK_INT(res.broker_code, RMQ_CODE_SYSTEM_BUSY);
    CHECK_STR(res.remark, "injected SYSTEM_BUSY");
    CHECK_HAS(rmq_producer_last_error(p), "SYSTEM_BUSY");
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_sync_send_makes_three_attempts_then_reports_them(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SERVICE_NOT_AVAILABLE, 10);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_BROKER);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 3);
    CHECK_HAS(rmq_producer_last_error(p), "Send [3] times, still failed");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_the_send_timeout_is_the_budget_of_all_attempts(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    uint32_t t0;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                    /* route and connection ready */
    c->s[simc_index(c, "broker-a")].silent = 1;
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send_timeout(p, &m, &res, 1234), RMQ_ERR_TIMEOUT);
    CHECK_INT(rmq_sim_now(c->sim) - t0, 1234);                   /* expires exactly at its deadline */
    CHECK_HAS(RES_REASON(res), "no answer from 10.0.1.1:10911");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_async_send_never_calls_back_inside_the_call_and_exactly_once_later(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "async");
    cb_log l;
    uint32_t t0;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(l.calls, 0);
    CHECK_INT(rmq_sim_now(c->sim), t0);                          /* did not run the loop */
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.calls, 1);
    CHECK_INT(l.ok, 1);
    CHECK_INT(strlen(l.msg_id), 32);
    rmq_producer_poll(p, 100);
    CHECK_INT(l.calls, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* An async send's callback sees the whole answer, as a sync send's caller
 * does: the fields the broker named, the queue, no reason. */
static rmq_send_result async_res;
static int async_res_calls;
static void copy_result_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)user;
    async_res_calls++;
    if (err == RMQ_OK) async_res = *res;
}

static void test_an_async_result_holds_what_the_broker_answered(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "async");
    rmq_send_result res;
    unsigned port;
    unsigned long long off, off_sync;
    int i;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (i = 0; i < 3; i++) {
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        memset(&async_res, 0x55, sizeof async_res);
        async_res_calls = 0;
        CHECK_INT(rmq_send_async(p, &m, copy_result_cb, NULL), RMQ_OK);
        CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
        CHECK_INT(async_res_calls, 1);
        CHECK_INT(async_res.status, RMQ_SEND_OK);
        CHECK_INT(strlen(async_res.msg_id), 32);
        CHECK(strcmp(async_res.msg_id, res.msg_id) != 0);
        /* the broker's store id, one store after the sync send's */
        CHECK_INT(strlen(async_res.offset_msg_id), 32);
        CHECK_INT(sscanf(async_res.offset_msg_id, "7F000001%08X%016llX", &port, &off), 2);
        CHECK_INT(sscanf(res.offset_msg_id, "7F000001%*08X%016llX", &off_sync), 1);
        CHECK(off == off_sync + 100);
        CHECK_STR(async_res.transaction_id, "");
        CHECK_STR(async_res.queue.topic, "TopicTest");
        CHECK_STR(async_res.queue.broker_name, "broker-a");
        CHECK(async_res.queue.queue_id >= 0);
        CHECK(async_res.queue_offset >= 0 && async_res.queue_offset < 2 * (i + 1));
        CHECK_STR(async_res.region_id, "DefaultRegion");
        CHECK_INT(async_res.trace_on, 1);
        CHECK_INT(async_res.broker_code, 0);
        CHECK_STR(async_res.remark, "");
        CHECK_INT(rmq_result_reason_code(&async_res, 0), RMQ_R_NONE);
        CHECK_INT(rmq_result_reason_code(&async_res, 1), RMQ_R_NONE);
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_async_sends_to_a_dead_namesrv_each_end_in_one_failure_callback(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    int i;
    memset(&l, 0, sizeof l);
    simc_down(c, simc_index(c, "ns0"));
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (i = 0; i < 10; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(l.calls, 0);
    rmq_producer_flush(p, 10000);
    CHECK_INT(l.calls, 10);
    CHECK_INT(l.fail, 10);
    CHECK_INT(l.last, RMQ_ERR_NO_ROUTE);
    CHECK_HAS(l.reason, "10.0.0.1:9876");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_async_back_pressure_refuses_past_the_bound_at_once(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    int i;
    memset(&l, 0, sizeof l);
    simc_config(c, &cfg, "pg");
    cfg.max_pending = 8;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (i = 0; i < 8; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_ERR_BUSY);
    CHECK_HAS(rmq_producer_last_error(p), "max_pending");
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.calls, 8);
    CHECK_INT(l.ok, 8);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    rmq_producer_destroy(p);
    CHECK_INT(l.calls, 9);
    simc_destroy(c);
}

static void test_oneway_send_is_flagged_and_flush_waits_for_it(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "oneway hello");
    rmq_stats st;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_oneway(p, &m), RMQ_OK);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.pending_sends, 1);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2) != NULL);
    CHECK_INT(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->flag, RMQ_FLAG_ONEWAY);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_batch_is_one_send_batch_message_with_a_uniq_key_per_message(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "BatchProducerGroupName");
    rmq_message ms[3];
    rmq_send_result res[3];
    static const char *keys[3] = { "OrderID001", "OrderID002", "OrderID003" };
    static const char *bodies[3] = { "Hello world 0", "Hello world 1", "Hello world 2" };
    simc_req *r;
    int i;
    for (i = 0; i < 3; i++) { ms[i] = msg("BatchTest", bodies[i]); ms[i].tags = "Tag"; ms[i].keys = keys[i]; }
    simc_add_topic(c, "BatchTest", 4, 6);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_BATCH_MESSAGE);
    CHECK(r != NULL);
    CHECK_HAS(r->ext, "m=true");
    CHECK_STR(r->props, "WAIT\001true");
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_BATCH_MESSAGE), 1);
    CHECK(strcmp(res[0].msg_id, res[1].msg_id) != 0 && strcmp(res[1].msg_id, res[2].msg_id) != 0);
    CHECK_INT(res[2].queue_offset, res[0].queue_offset + 2);
    CHECK_INT(res[0].queue.queue_id, r->queue_id);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Java 5.x's setDelayTimeSec, setDelayTimeMs and setDeliverTimeMs; the
 * delay level beside them is the broker's to prefer. */
static void test_timer_messages_carry_java_5s_timer_properties(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "later");
    simc_req *r;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    m.delay_time_sec = 30;
    m.delay_time_ms = 1500;
    m.deliver_time_ms = INT64_C(1796640000123);
    m.delay_level = 2;
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(r != NULL);
    CHECK_HAS(r->props, "DELAY\0012\002");
    CHECK_HAS(r->props, "TIMER_DELAY_SEC\00130\002");
    CHECK_HAS(r->props, "TIMER_DELAY_MS\0011500\002");
    CHECK_HAS(r->props, "TIMER_DELIVER_MS\0011796640000123\002");
    m = msg("TopicTest", "now");                                  /* not set: not sent */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    r = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(r != NULL && strstr(r->props, "TIMER_") == NULL);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_batch_rules_are_checked_before_anything_is_sent(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message ms[2];
    rmq_send_result res[2];
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    ms[0] = msg("A", "1"); ms[1] = msg("B", "2");
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "same");
    ms[1] = msg("A", "2"); ms[1].delay_level = 2;
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "TimeDelayLevel is not supported for batching");
    ms[1].delay_level = 0; ms[1].delay_time_sec = 5;
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "timer messages are not supported for batching");
    ms[1].delay_time_sec = 0; ms[1].wait_store_msg_ok = 0;
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_ERR_MESSAGE);
    ms[0] = msg("%RETRY%g", "1"); ms[1] = msg("%RETRY%g", "2");
    CHECK_INT(rmq_send_batch(p, ms, 2, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "Retry Group is not supported for batching");
    CHECK_INT(c->nlog, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A later message whose topic equals the first's (the same text at another
 * address too) skips the topic's checks but not its body's or tags'; one
 * whose topic differs is checked whole first, so an illegal topic is told
 * as such, not as a different one. */
static void test_batch_checks_each_message_after_the_first_topic(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message ms[3];
    rmq_send_result res[3];
    char same[] = "A";
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    ms[0] = msg("A", "1"); ms[1] = msg(same, "2"); ms[2] = msg(same, "");
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "the message body length is zero");
    ms[2] = msg("A", "3"); ms[2].tags = "t\001x";
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "the tags hold a 0x01 or 0x02 byte");
    ms[2] = msg("A b", "3");
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "contains illegal characters");
    CHECK_INT(c->nlog, 0);
    ms[2] = msg(same, "3");
    CHECK_INT(rmq_send_batch(p, ms, 3, res), RMQ_OK);
    CHECK(strcmp(res[0].msg_id, res[1].msg_id) != 0 && strcmp(res[1].msg_id, res[2].msg_id) != 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A topic's every byte is checked against ^[%|a-zA-Z0-9_-]+$ (a legal one
 * gets as far as the body's check); blank and length come first. */
static void test_topic_check_takes_exactly_the_topic_charset(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m;
    char t[130];
    int b, legal;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    for (b = 1; b < 256; b++) {
        legal = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '%' || b == '|' ||
                b == '_' || b == '-';
        t[0] = 'T'; t[1] = (char)b; t[2] = 'x'; t[3] = 0;
        m = msg(t, "");
        CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
        if (legal) CHECK_STR(rmq_producer_last_error(p), "the message body length is zero");
        else CHECK_HAS(rmq_producer_last_error(p), "contains illegal characters");
    }
    m = msg(" \t\r\n", "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "The specified topic is blank");
    memset(t, 'a', 127); t[127] = 0;
    m = msg(t, "");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "the message body length is zero");
    t[126] = ' ';                                       /* illegal, and not too long */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "contains illegal characters");
    memset(t, 'a', 128); t[128] = 0; t[5] = '*';        /* illegal and too long: the length is told */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "longer than topic max length 127");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_message_checks_name_the_rule_and_the_value(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m;
    rmq_property up[1];
    char big[130];
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    m = msg("", "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "The specified topic is blank");
    memset(big, 'a', 128); big[128] = 0;
    m = msg(big, "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "longer than topic max length 127");
    m = msg("bad topic", "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "The specified topic[bad topic] contains illegal characters");
    m = msg("SCHEDULE_TOPIC_XXXX", "x");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden.");
    m = msg("TopicTest", "");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "the message body length is zero");
    m = msg("TopicTest", "x");
    m.body_len = 4194305;
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "the message body size over max value, MAX: 4194304");
    m = msg("TopicTest", "x");
    up[0].key = "UNIQ_KEY"; up[0].value = "mine";
    m.properties = up; m.nproperties = 1;
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_STR(rmq_producer_last_error(p), "The Property<UNIQ_KEY> is used by system");
    up[0].key = "k"; up[0].value = "a\002b";
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    up[0].key = "k"; up[0].value = "";
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    m = msg("TBW102", "x");                                      /* system-looking but sendable */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static int pick_last(const rmq_queue *qs, size_t n, const rmq_message *m, void *arg)
{
    (void)qs; (void)m; (void)arg;
    return (int)n - 1;
}

static void test_send_to_a_queue_and_with_a_selector_use_that_queue(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_queue qs[16], q;
    size_t n;
    uint64_t id = 13;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    q = qs[6];
    CHECK_INT(rmq_send_to_queue(p, &m, &q, &res), RMQ_OK);
    CHECK_STR(simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2)->topic, "TopicTest");
    CHECK_INT(simc_last(c, "broker-b", RMQ_REQ_SEND_MESSAGE_V2)->queue_id, 2);
    CHECK_STR(res.queue.broker_name, "broker-b");
    CHECK_INT(rmq_send_select(p, &m, pick_last, NULL, &res), RMQ_OK);
    CHECK_STR(res.queue.broker_name, "broker-b");
    CHECK_INT(res.queue.queue_id, 3);
    CHECK_INT(rmq_send_select(p, &m, rmq_select_by_id, &id, &res), RMQ_OK);
    CHECK_STR(res.queue.broker_name, "broker-b");               /* 13 % 8 = 5: broker-b queue 1 */
    CHECK_INT(res.queue.queue_id, 1);
    CHECK_INT(rmq_send_select(p, &m, rmq_select_by_hash, (void *)"order-42", &res), RMQ_OK);
    CHECK_STR(res.queue.broker_name, "broker-b");               /* Java: "order-42".hashCode() % 8 = 5 */
    CHECK_INT(res.queue.queue_id, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_async_selector_waits_for_the_route_then_selects(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_select_async(p, &m, rmq_select_by_hash, (void *)"order-42", count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.ok, 1);
    CHECK_INT(simc_last(c, "broker-b", RMQ_REQ_SEND_MESSAGE_V2)->queue_id, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static size_t reverse_compressor(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    size_t i;
    int *calls = (int *)arg;
    (*calls)++;
    if (cap < len) return 0;
    for (i = 0; i < len; i++) ((unsigned char *)out)[i] = ((const unsigned char *)in)[len - 1 - i];
    return len / 2;                                             /* pretend it compressed */
}

static void test_compressor_hook_is_used_from_the_threshold_only(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    static char big[5000];
    rmq_message m;
    int calls = 0;
    memset(big, 'z', sizeof big - 1);
    simc_config(c, &cfg, "pg");
    cfg.compressor = reverse_compressor;
    cfg.compressor_arg = &calls;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", big, 4095);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(calls, 0);
    CHECK_HAS(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->ext, "f=0\n");
    rmq_message_init(&m, "TopicTest", big, 4096);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(calls, 1);
    CHECK_HAS(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->ext, "f=769\n");   /* COMPRESSED | ZLIB */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_shutdown_unregisters_and_fails_pending_sends(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    simc_req *u;
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, 0, 1000);
    c->s[simc_index(c, "broker-a")].silent = 0;
    for (i = 0; i < 5; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    rmq_producer_shutdown(p);
    CHECK_INT(l.calls, 5);
    u = simc_last(c, "broker-a", RMQ_REQ_UNREGISTER_CLIENT);
    CHECK(u != NULL);
    CHECK_HAS(u->ext, "clientID=10.0.0.5@4242");
    CHECK_HAS(u->ext, "producerGroup=pg");
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_STATE);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_shutdown_with_sends_in_flight_ends_each_with_a_shutdown_error(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    int i;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    c->s[simc_index(c, "broker-a")].silent = 1;                /* nothing answers any more */
    /* still pending when the bounded unregister wait (3 s) ends */
    for (i = 0; i < 5; i++) CHECK_INT(rmq_send_async_timeout(p, &m, count_cb, &l, 10000), RMQ_OK);
    rmq_producer_shutdown(p);
    CHECK_INT(l.calls, 5);
    CHECK_INT(l.fail, 5);
    CHECK_INT(l.last, RMQ_ERR_SHUTDOWN);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_request_expires_exactly_at_its_deadline_while_others_complete(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_queue qs[16];
    size_t n;
    rmq_message m = msg("TopicTest", "x");
    cb_log la, lb;
    uint32_t t0;
    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    simc_config(c, &cfg, "pg");
    cfg.send_timeout_ms = 700;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(rmq_send_to_queue_async(p, &m, &qs[0], count_cb, &la), RMQ_OK);   /* connect both */
    CHECK_INT(rmq_send_to_queue_async(p, &m, &qs[4], count_cb, &lb), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    c->s[simc_index(c, "broker-a")].silent = 1;
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send_to_queue_async(p, &m, &qs[0], count_cb, &la), RMQ_OK);   /* broker-a: silent */
    /* Other sends complete all along; virtual time moves 7 ms a turn. */
    while (la.calls < 2) {
        CHECK_INT(rmq_send_to_queue_async(p, &m, &qs[4], count_cb, &lb), RMQ_OK);
        rmq_producer_poll(p, 0);
        rmq_producer_poll(p, 0);
            if (la.calls < 2) { CHECK(rmq_sim_now(c->sim) - t0 < 700); rmq_sim_advance(c->sim, 7); }
    }
    CHECK_INT(la.last, RMQ_ERR_TIMEOUT);
    CHECK_INT(rmq_sim_now(c->sim) - t0, 700);
    CHECK(lb.ok >= 10);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_the_clock_wrapping_past_2_32_mid_request_changes_nothing(void)
{
    simc *c = simc_create(1, 1, 0xFFFFFFFFu - 1500u);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    uint32_t t0;
    int i;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    for (i = 0; i < 3; i++) {
        c->s[simc_index(c, "broker-a")].silent = 1;
        t0 = rmq_sim_now(c->sim);
        CHECK_INT(rmq_send_timeout(p, &m, &res, 1000), RMQ_ERR_TIMEOUT);  /* crosses 2^32 */
        CHECK_INT((uint32_t)(rmq_sim_now(c->sim) - t0), 1000);
        c->s[simc_index(c, "broker-a")].silent = 0;
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    }
    CHECK(rmq_sim_now(c->sim) < 0x80000000u);                  /* it did wrap */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_refused_broker_is_avoided_and_the_send_lands_on_the_other(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    int i;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_down(c, simc_index(c, "broker-a"));
    for (i = 0; i < 20; i++) {
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        CHECK_STR(res.queue.broker_name, "broker-b");
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_callbacks_may_send_async_but_not_block(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.ok, 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* -- the address server ---------------------------------------------------- */
static char http_list[256];
static int http_gets;

static void http_on_data(void *ctx, rmq_sim_conn *conn, const uint8_t *data, size_t len)
{
    char reply[512];
    (void)ctx;
    if (len < 4 || memcmp(data, "GET ", 4) != 0) return;
    http_gets++;
    snprintf(reply, sizeof reply, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n%s\n", http_list);
    rmq_sim_conn_write(conn, reply, strlen(reply));
    rmq_sim_conn_close(conn);
}

static void test_name_servers_come_from_the_address_server_and_are_refreshed(void)
{
    simc *c = simc_create(2, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_sim_peer_ops ops;
    int before;
    memset(&ops, 0, sizeof ops);
    ops.on_data = http_on_data;
    rmq_sim_listen(c->sim, "10.0.9.1", 8080, &ops, NULL);
    snprintf(http_list, sizeof http_list, "10.0.0.1:9876");
    http_gets = 0;
    rmq_producer_config_init(&cfg);
    cfg.group = "pg";
    cfg.port = rmq_sim_port(c->sim);
    cfg.addr_server_url = "http://10.0.9.1:8080/rocketmq/nsaddr";
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(http_gets, 1);
    CHECK(simc_count(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) >= 1);
    CHECK_INT(simc_count(c, "ns1", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC), 0);
    snprintf(http_list, sizeof http_list, "10.0.0.2:9876");  /* the list changes */
    simc_down(c, simc_index(c, "ns0"));
    simc_run(c, p, 121000);                                  /* 2 virtual minutes */
    CHECK_INT(http_gets, 2);
    before = simc_count(c, "ns1", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC);
    simc_run(c, p, 31000);
    CHECK(simc_count(c, "ns1", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) > before);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_the_address_server_is_not_asked_when_a_name_server_is_set(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_producer_config_init(&cfg);
    cfg.group = "pg";
    cfg.port = rmq_sim_port(c->sim);
    cfg.namesrv_addr = c->namesrv;
    cfg.addr_server_url = "http://10.0.9.1:8080/rocketmq/nsaddr";
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(rmq_sim_connects(c->sim, "10.0.9.1", 8080), 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_namesrv_addr_comes_from_the_environment_when_not_configured(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_sim_setenv(c->sim, "NAMESRV_ADDR", c->namesrv);
    rmq_producer_config_init(&cfg);
    cfg.group = "pg";
    cfg.port = rmq_sim_port(c->sim);
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_flush_reports_a_oneway_send_that_failed_after_it_was_accepted(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_down(c, simc_index(c, "ns0"));
    CHECK_INT(rmq_send_oneway(p, &m), RMQ_OK);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_ERR_NO_ROUTE);
    CHECK_HAS(rmq_producer_last_error(p), "a oneway send failed: No route info of this topic: TopicTest");
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);                /* reported once */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* A port over the simulated one whose socket can be made full: writes
 * then say "try again", and every write call is counted. */
static rmq_port gather_inner;
static int gather_full, gather_writes;

static long gather_send(void *ctx, void *conn, const void *buf, size_t len)
{
    if (gather_full) return 0;
    gather_writes++;
    return gather_inner.send(ctx, conn, buf, len);
}

static long gather_sendv(void *ctx, void *conn, const rmq_iovec *iov, int n)
{
    if (gather_full) return 0;
    gather_writes++;
    return gather_inner.sendv(ctx, conn, iov, n);
}

/* Async sends queued behind a full socket leave together: one scatter write
 * for eight requests (16 pieces), in order, each answered once. */
static void test_requests_queued_behind_a_full_socket_leave_in_one_write(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_port port;
    rmq_message m = msg("TopicTest", "queued");
    rmq_send_result res;
    cb_log log;
    char bodies[8][16];
    int i, k;
    memset(&log, 0, sizeof log);
    gather_inner = *rmq_sim_port(c->sim);
    port = gather_inner;
    port.send = gather_send;
    port.sendv = gather_sendv;
    gather_full = 0;
    simc_config(c, &cfg, "pg");
    cfg.port = &port;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                    /* route and connection ready */
    gather_full = 1;
    for (i = 0; i < 8; i++) {
        snprintf(bodies[i], sizeof bodies[i], "queued-%d", i);
        m = msg("TopicTest", bodies[i]);
        CHECK_INT(rmq_send_async(p, &m, count_cb, &log), RMQ_OK);
    }
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 1);
    gather_full = 0;
    gather_writes = 0;
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(gather_writes, 1);
    CHECK_INT(log.ok, 8);
    CHECK_INT(log.calls, 8);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2), 9);
    for (i = 0, k = -1; i < c->nlog; i++) {                      /* in the order they were sent */
        if (c->log[i].code != RMQ_REQ_SEND_MESSAGE_V2) continue;
        if (k >= 0)
            CHECK(c->log[i].body_len == strlen(bodies[k]) && memcmp(c->log[i].body, bodies[k], c->log[i].body_len) == 0);
        k++;
    }
    CHECK_INT(k, 8);
    CHECK_INT(simc_stored(c, log.msg_id), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_producer_tests(void)
{
    RUN(test_start_needs_no_network_and_first_send_names_topic_and_namesrv);
    RUN(test_start_twice_is_refused_with_the_state_named);
    RUN(test_invalid_config_fails_start_naming_the_field_and_stays_start_failed);
    RUN(test_reason_renders_nested_reasons_and_stays_in_its_bounds);
    RUN(test_every_reason_code_has_its_template_at_its_place);
    RUN(test_every_template_renders_its_arguments_and_reads_no_further);
    RUN(test_a_recorded_reason_packs_its_arguments_in_template_order);
    RUN(test_each_kind_of_failure_reports_its_reason_code);
    RUN(test_a_refused_connect_reports_the_connect_code);
    RUN(test_a_refused_route_nests_what_was_refused);
    RUN(test_an_unknown_code_reads_as_its_number);
    RUN(test_duplicate_group_is_refused_with_javas_message_and_state_create_just);
    RUN(test_client_id_is_ip_at_pid_and_two_producers_share_one_instance);
    RUN(test_heartbeat_reaches_a_broker_before_the_first_send_and_every_30_s);
    RUN(test_route_refresh_picks_up_a_new_broker);
    RUN(test_one_of_two_name_servers_dead_routes_still_arrive);
    RUN(test_unknown_topic_falls_back_to_the_default_topic_route);
    RUN(test_sync_send_writes_the_v2_header_java_writes_and_parses_the_result);
    RUN(test_binary_headers_when_configured_and_answers_read_in_either_form);
    RUN(test_fastjson_route_form_is_read);
    RUN(test_sync_send_retries_system_error_on_the_other_broker);
    RUN(test_sync_send_does_not_retry_system_busy_as_java_4_9);
    RUN(test_sync_send_makes_three_attempts_then_reports_them);
    RUN(test_the_send_timeout_is_the_budget_of_all_attempts);
    RUN(test_async_send_never_calls_back_inside_the_call_and_exactly_once_later);
    RUN(test_an_async_result_holds_what_the_broker_answered);
    RUN(test_async_sends_to_a_dead_namesrv_each_end_in_one_failure_callback);
    RUN(test_async_back_pressure_refuses_past_the_bound_at_once);
    RUN(test_oneway_send_is_flagged_and_flush_waits_for_it);
    RUN(test_flush_reports_a_oneway_send_that_failed_after_it_was_accepted);
    RUN(test_requests_queued_behind_a_full_socket_leave_in_one_write);
    RUN(test_batch_is_one_send_batch_message_with_a_uniq_key_per_message);
    RUN(test_timer_messages_carry_java_5s_timer_properties);
    RUN(test_batch_rules_are_checked_before_anything_is_sent);
    RUN(test_batch_checks_each_message_after_the_first_topic);
    RUN(test_message_checks_name_the_rule_and_the_value);
    RUN(test_topic_check_takes_exactly_the_topic_charset);
    RUN(test_send_to_a_queue_and_with_a_selector_use_that_queue);
    RUN(test_async_selector_waits_for_the_route_then_selects);
    RUN(test_compressor_hook_is_used_from_the_threshold_only);
    RUN(test_shutdown_unregisters_and_fails_pending_sends);
    RUN(test_shutdown_with_sends_in_flight_ends_each_with_a_shutdown_error);
    RUN(test_a_request_expires_exactly_at_its_deadline_while_others_complete);
    RUN(test_the_clock_wrapping_past_2_32_mid_request_changes_nothing);
    RUN(test_a_refused_broker_is_avoided_and_the_send_lands_on_the_other);
    RUN(test_callbacks_may_send_async_but_not_block);
    RUN(test_name_servers_come_from_the_address_server_and_are_refreshed);
    RUN(test_the_address_server_is_not_asked_when_a_name_server_is_set);
    RUN(test_namesrv_addr_comes_from_the_environment_when_not_configured);
}

/* -- more of the start flow and the send paths -------------------------------- */
/* A request the broker sends that a producer does not serve is answered
 * REQUEST_CODE_NOT_SUPPORTED, as Java does; a oneway one is not answered. */
static void test_an_unknown_broker_request_is_answered_request_code_not_supported(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_command q;
    rmq__buf b;
    simc_req *r;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq__command_init(&q, 221, 77, 0);                         /* GET_CONSUMER_STATUS_FROM_CLIENT */
    q.language = 0;
    rmq__buf_init(&b, NULL, 4096);
    rmq__frame_encode_head(&b, &q, 0);
    rmq__command_init(&q, 40, 78, RMQ_FLAG_ONEWAY);            /* NOTIFY_CONSUMER_IDS_CHANGED */
    rmq__frame_encode_head(&b, &q, 0);
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), b.p, b.len);
    rmq__buf_free(&b);
    simc_run(c, p, 100);
    r = simc_last(c, "broker-a", RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED);
    CHECK(r != NULL);
    CHECK_INT(r->opaque, 77);
    CHECK_INT(r->flag, RMQ_FLAG_RESPONSE);
    CHECK_INT(simc_count(c, "broker-a", RMQ_CODE_REQUEST_CODE_NOT_SUPPORTED), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

typedef struct hook_log {
    int before, after, last_code;
} hook_log;

static rmq_err sign_before(void *arg, const char *addr, rmq_command *req)
{
    hook_log *h = (hook_log *)arg;
    (void)addr;
    h->before++;
    rmq_command_put_ext(req, "AccessKey", "rocketmq2");
    return rmq_command_put_ext(req, "Signature", "c2lnbmVk");
}

static void sign_after(void *arg, const char *addr, const rmq_command *req, const rmq_command *resp)
{
    hook_log *h = (hook_log *)arg;
    (void)addr; (void)req;
    h->after++;
    h->last_code = resp->code;
}

static void test_the_rpc_hook_adds_fields_to_every_request_and_sees_every_answer(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_rpc_hook hook;
    hook_log h;
    int i;
    memset(&h, 0, sizeof h);
    hook.arg = &h;
    hook.before = sign_before;
    hook.after = sign_after;
    simc_config(c, &cfg, "pg");
    cfg.rpc_hook = &hook;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    for (i = 0; i < c->nlog; i++) {                             /* route, heartbeat, send: all signed */
        CHECK_HAS(c->log[i].ext, "AccessKey=rocketmq2\n");
        CHECK_HAS(c->log[i].ext, "Signature=c2lnbmVk\n");
    }
    CHECK_INT(h.before, c->nlog);
    CHECK(h.after >= 3);
    CHECK_INT(h.last_code, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_flush_disk_timeout_is_a_stored_status_not_an_error(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_FLUSH_DISK_TIMEOUT, 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(res.status, RMQ_FLUSH_DISK_TIMEOUT);
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), 1);  /* no retry by default */
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_retry_another_broker_when_not_store_ok_retries_on_the_other_broker(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    simc_config(c, &cfg, "pg");
    cfg.retry_another_broker_when_not_store_ok = 1;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                   /* routes and connections ready */
    simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SLAVE_NOT_AVAILABLE, 1); /* each broker stores once not OK */
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK_INT(res.status, RMQ_SEND_OK);
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), 4);   /* 1 before, then X, Y, X */
    CHECK(strcmp(c->s[simc_last(c, NULL, RMQ_REQ_SEND_MESSAGE_V2)->server].name, res.queue.broker_name) == 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_latency_fault_tolerance_steers_sends_away_from_a_slow_broker(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_sim_faults slow;
    int i, on_a = 0;
    simc_config(c, &cfg, "pg");
    cfg.latency_fault_enable = 1;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    memset(&slow, 0, sizeof slow);
    slow.latency_ms = 600;                                       /* 600 ms: out for 30 s */
    rmq_sim_set_faults(c->sim, "10.0.1.1", 10911, &slow);
    for (i = 0; i < 4; i++) CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    for (i = 0; i < 20; i++) {
        CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        on_a += strcmp(res.queue.broker_name, "broker-a") == 0;
    }
    CHECK_INT(on_a, 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_refused_broker_makes_the_route_refresh(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    int before, i;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_down(c, simc_index(c, "broker-a"));
    before = simc_count(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC);
    /* Eight queues, eight sends: one of them picks a queue of broker-a
     * wherever the round robin started (its start is random). */
    for (i = 0; i < 8; i++) CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    CHECK(simc_count(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) > before);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_stats_count_pending_inflight_retries_errors_and_route_age(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_send_result res;
    rmq_message m = msg("TopicTest", "x");
    rmq_stats st;
    cb_log l;
    int a = simc_index(c, "broker-a"), b = simc_index(c, "broker-b"), i;
    uint32_t errors = 0;
    memset(&l, 0, sizeof l);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    simc_fail(c, NULL, RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_SYSTEM_ERROR, 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    c->s[a].silent = c->s[b].silent = 1;
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    simc_run(c, p, 5);
    rmq_producer_stats(p, &st);
    CHECK_INT(st.pending_sends, 1);
    CHECK_INT(st.inflight_requests, 1);
    CHECK_INT(st.retries, 2);                                     /* X failed, Y failed, X stored */
    CHECK_INT(st.sends_ok, 2);
    CHECK_INT(st.nbrokers, 2);
    for (i = 0; i < (int)st.nbrokers; i++) errors += st.brokers[i].errors;
    CHECK_INT(errors, 2);
    CHECK_INT(st.connections, 3);                                 /* a name server, two brokers */
    CHECK(st.route_age_ms >= 5);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Each of the n ext fields keys has in the logged request mine the value it
 * has in the frame java, captured from the Java client. */
static void check_ext_fields_as_java(const simc_req *mine, const rmq_command *java, const char *const *keys, size_t n)
{
    char val[256], what[64];
    size_t i;
    for (i = 0; i < n; i++) {
        rmq_slice want = rmq_command_ext(java, keys[i]);
        snprintf(what, sizeof what, "ext field %s", keys[i]);
        simc_ext(mine, keys[i], val, sizeof val);
        CHECK_MSG(want.ptr && strlen(val) == want.len && memcmp(val, want.ptr, want.len) == 0, what);
    }
}

/* The frames the library writes against the frames the Java producer wrote
 * for the same messages: equal on every field the broker reads, except the
 * born timestamp, the UNIQ_KEY, the queue chosen and the order of fields. */
static void test_send_frames_match_the_captured_java_frames_field_by_field(void)
{
    static const char *keys[] = { "a", "b", "c", "d", "f", "h", "j", "k", "m", "n" };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ProbeGroup");
    rmq_send_result res;
    rmq_message m = msg("BatchTest", "Hello RocketMQ 0");
    size_t len;
    unsigned char *vec = load_vector("producer_existing_topic/004_client_to_broker_SEND_MESSAGE_V2_req", &len);
    rmq_command v;
    simc_req *mine;
    char val[256];
    rmq_slice k, x, vp;
    CHECK(vec && decode_whole(vec, len, &v) == 0);
    simc_add_topic(c, "BatchTest", 4, 6);
    m.tags = "TagA";
    m.keys = "KEY_0";
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    mine = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(mine != NULL);
    CHECK_INT(mine->code, v.code);
    CHECK_INT(mine->flag, v.flag);
    check_ext_fields_as_java(mine, &v, keys, sizeof keys / sizeof *keys);
    vp = rmq_command_ext(&v, "i");                              /* same properties but UNIQ_KEY */
    while (rmq__prop_next(&vp, &k, &x)) {
        char key[32], pair[300];
        snprintf(key, sizeof key, "%.*s", (int)k.len, k.ptr);
        if (strcmp(key, "UNIQ_KEY") == 0) continue;
        snprintf(pair, sizeof pair, "%s\001%.*s", key, (int)x.len, x.ptr);
        CHECK_HAS(mine->props, pair);
    }
    CHECK(mine->body_len == v.body_len && memcmp(mine->body, v.body, v.body_len) == 0);
    free(vec);
    vec = load_vector("producer_existing_topic/000_client_to_namesrv_GET_ROUTEINFO_BY_TOPIC_req", &len);
    CHECK(vec && decode_whole(vec, len, &v) == 0);
    CHECK_SLICE(rmq_command_ext(&v, "topic"), "TBW102");
    CHECK(simc_last(c, "ns0", RMQ_REQ_GET_ROUTEINFO_BY_TOPIC) != NULL);
    free(vec);
    rmq_producer_shutdown(p);
    vec = load_vector("producer_existing_topic/013_client_to_broker_UNREGISTER_CLIENT_req", &len);
    CHECK(vec && decode_whole(vec, len, &v) == 0);
    mine = simc_last(c, "broker-a", RMQ_REQ_UNREGISTER_CLIENT);
    CHECK(mine != NULL);
    CHECK_SLICE(rmq_command_ext(&v, "producerGroup"), simc_ext(mine, "producerGroup", val, sizeof val));
    CHECK(simc_ext(mine, "clientID", val, sizeof val)[0] != 0);
    free(vec);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_broker_gone_from_every_route_is_dropped_and_its_connection_closed(void)
{
    simc *c = simc_create(1, 2, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_queue qs[16];
    size_t n;
    rmq_message m = msg("TopicTest", "x");
    rmq_send_result res;
    rmq_stats st;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_fetch_publish_queues(p, "TopicTest", qs, 16, &n), RMQ_OK);
    CHECK_INT(rmq_send_to_queue(p, &m, &qs[4], &res), RMQ_OK);   /* connects broker-b */
    CHECK(rmq_sim_conn_client_open(rmq_sim_last_conn(c->sim, "10.0.1.2", 10911)));
    c->s[simc_index(c, "broker-b")].hidden = 1;                  /* gone from the routes */
    simc_run(c, p, 61000);                                       /* a refresh, then the cleaning */
    CHECK(!rmq_sim_conn_client_open(rmq_sim_last_conn(c->sim, "10.0.1.2", 10911)));
    rmq_producer_stats(p, &st);
    CHECK_INT(st.nbrokers, 1);
    CHECK_STR(st.brokers[0].broker_name, "broker-a");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_properties_over_the_brokers_32767_bytes_are_refused_before_sending(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    rmq_send_result res;
    rmq_property up[1];
    static char big[33000];
    memset(big, 'v', sizeof big - 1);
    up[0].key = "blob";
    up[0].value = big;
    m.properties = up;
    m.nproperties = 1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);
    CHECK_HAS(rmq_producer_last_error(p), "32767");
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), 0);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_async_back_pressure_also_bounds_the_pending_bytes(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    static char body[1000];
    rmq_message m;
    cb_log l;
    int i;
    memset(&l, 0, sizeof l);
    memset(body, 'b', sizeof body);
    simc_config(c, &cfg, "pg");
    cfg.max_message_size = 1000;
    cfg.max_pending_bytes = 3000;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", body, sizeof body);
    for (i = 0; i < 3; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_ERR_BUSY);
    CHECK_HAS(rmq_producer_last_error(p), "max_pending_bytes");
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.calls, 3);                                        /* none for the refused one */
    CHECK_INT(l.ok, 3);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void run_more_producer_tests(void)
{
    RUN(test_an_unknown_broker_request_is_answered_request_code_not_supported);
    RUN(test_the_rpc_hook_adds_fields_to_every_request_and_sees_every_answer);
    RUN(test_flush_disk_timeout_is_a_stored_status_not_an_error);
    RUN(test_retry_another_broker_when_not_store_ok_retries_on_the_other_broker);
    RUN(test_latency_fault_tolerance_steers_sends_away_from_a_slow_broker);
    RUN(test_a_refused_broker_makes_the_route_refresh);
    RUN(test_stats_count_pending_inflight_retries_errors_and_route_age);
    RUN(test_send_frames_match_the_captured_java_frames_field_by_field);
    RUN(test_a_broker_gone_from_every_route_is_dropped_and_its_connection_closed);
    RUN(test_properties_over_the_brokers_32767_bytes_are_refused_before_sending);
    RUN(test_async_back_pressure_also_bounds_the_pending_bytes);
}

/* -- transactions --------------------------------------------------------------- */
static int local_calls;

static rmq_transaction_state commit_it(void *arg, const rmq_message *m, const rmq_send_result *half)
{
    (void)arg; (void)m;
    local_calls++;
    return half->status == RMQ_SEND_OK ? RMQ_TX_COMMIT : RMQ_TX_UNKNOWN;
}

static rmq_transaction_state roll_it_back(void *arg, const rmq_message *m, const rmq_send_result *half)
{
    (void)arg; (void)m; (void)half;
    local_calls++;
    return RMQ_TX_ROLLBACK;
}

static void test_a_transaction_sends_a_half_message_then_its_end_as_java_does(void)
{
    static const char *same[] = { "producerGroup", "commitOrRollback", "fromTransactionCheck", "bname" };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "ProbeTxGroup");
    rmq_send_result res;
    rmq_message m = msg("TxTest", "tx commit body");
    rmq_transaction_state st = RMQ_TX_UNKNOWN;
    simc_req *half, *end;
    size_t len;
    unsigned char *vec;
    rmq_command v;
    char val[256], addr[64], num[32];
    int64_t off;
    m.tags = "TagTx";
    m.keys = "TX_COMMIT";
    local_calls = 0;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_in_transaction(p, &m, commit_it, NULL, &res, &st), RMQ_OK);
    CHECK_INT(local_calls, 1);
    CHECK_INT(st, RMQ_TX_COMMIT);
    simc_run(c, p, 10);
    half = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(half != NULL);
    CHECK_HAS(half->ext, "f=4\n");                              /* TRANSACTION_PREPARED_TYPE */
    CHECK_HAS(half->props, "TRAN_MSG\001true");
    CHECK_HAS(half->props, "PGROUP\001ProbeTxGroup");
    end = simc_last(c, "broker-a", RMQ_REQ_END_TRANSACTION);
    CHECK(end != NULL);
    CHECK_INT(end->flag, RMQ_FLAG_ONEWAY);
    vec = load_vector("transaction/006_client_to_broker_END_TRANSACTION_oneway", &len);
    CHECK(vec && decode_whole(vec, len, &v) == 0);
    check_ext_fields_as_java(end, &v, same, sizeof same / sizeof *same);
    CHECK_STR(simc_ext(end, "msgId", val, sizeof val), res.msg_id);
    snprintf(num, sizeof num, "%lld", (long long)res.queue_offset);
    CHECK_STR(simc_ext(end, "tranStateTableOffset", val, sizeof val), num);
    CHECK_INT(rmq_offset_msg_id_decode(res.offset_msg_id, addr, sizeof addr, &off), RMQ_OK);
    snprintf(num, sizeof num, "%lld", (long long)off);
    CHECK_STR(simc_ext(end, "commitLogOffset", val, sizeof val), num);
    free(vec);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_rolled_back_or_not_stored_ok_transaction_ends_with_rollback(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "TxGroup");
    rmq_send_result res;
    rmq_message m = msg("TxTest", "tx");
    rmq_transaction_state st;
    char val[64];
    local_calls = 0;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send_in_transaction(p, &m, roll_it_back, NULL, &res, &st), RMQ_OK);
    simc_run(c, p, 10);
    CHECK_STR(simc_ext(simc_last(c, "broker-a", RMQ_REQ_END_TRANSACTION), "commitOrRollback", val, sizeof val), "12");
    simc_fail(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2, RMQ_CODE_FLUSH_DISK_TIMEOUT, 1);
    CHECK_INT(rmq_send_in_transaction(p, &m, commit_it, NULL, &res, &st), RMQ_OK);
    CHECK_INT(local_calls, 1);                                  /* not run for a not-OK store */
    CHECK_INT(st, RMQ_TX_ROLLBACK);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_END_TRANSACTION), 2);
    CHECK_INT(rmq_send_in_transaction(p, &m, NULL, NULL, &res, &st), RMQ_ERR_INVALID_ARG);
    CHECK_HAS(rmq_producer_last_error(p), "TransactionListener is null");
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static char checked_keys[64], checked_body[64];
static int checks;

static rmq_transaction_state check_commit(void *arg, const rmq_checked_message *m)
{
    (void)arg;
    checks++;
    snprintf(checked_keys, sizeof checked_keys, "%s", m->keys);
    snprintf(checked_body, sizeof checked_body, "%.*s", (int)m->body_len, (const char *)m->body);
    return RMQ_TX_COMMIT;
}

/* The broker's check (captured from a real 4.9.8 broker) is answered as the
 * Java client answered it. */
static void test_a_broker_check_is_answered_with_the_end_java_sent(void)
{
    static const char *same[] = { "producerGroup", "commitLogOffset", "msgId", "tranStateTableOffset",
                                  "commitOrRollback", "transactionId", "fromTransactionCheck" };
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_check_transaction ct;
    rmq_send_result res;
    rmq_message m = msg("TxTest", "warm");
    size_t len;
    unsigned char *check = load_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", &len);
    unsigned char *java;
    rmq_command v;
    simc_req *end;
    CHECK(check != NULL);
    ct.arg = NULL;
    ct.check = check_commit;
    checks = 0;
    simc_config(c, &cfg, "ProbeTxGroup");
    cfg.check_transaction = &ct;
    CHECK(rmq_producer_create(&cfg, &p) == RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                   /* connected and heartbeated */
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), check, len);
    simc_run(c, p, 10);
    CHECK_INT(checks, 1);
    CHECK_STR(checked_keys, "TX_UNKNOWN");
    CHECK_STR(checked_body, "tx unknown body");
    end = simc_last(c, "broker-a", RMQ_REQ_END_TRANSACTION);
    CHECK(end != NULL);
    java = load_vector("transaction/016_client_to_broker_END_TRANSACTION_oneway", &len);
    CHECK(java && decode_whole(java, len, &v) == 0);
    check_ext_fields_as_java(end, &v, same, sizeof same / sizeof *same);
    CHECK_INT(end->flag, RMQ_FLAG_ONEWAY);
    free(check);
    free(java);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_a_check_for_a_group_not_here_is_not_answered(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "SomeOtherGroup");
    rmq_send_result res;
    rmq_message m = msg("TxTest", "warm");
    size_t len;
    unsigned char *check = load_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", &len);
    CHECK(check != NULL);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
    rmq_sim_conn_write(rmq_sim_last_conn(c->sim, "10.0.1.1", 10911), check, len);
    simc_run(c, p, 10);
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_END_TRANSACTION), 0);
    free(check);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_the_stored_message_format_decodes_the_captured_check_body(void)
{
    size_t len;
    unsigned char *buf = load_vector("transaction/015_broker_to_client_CHECK_TRANSACTION_STATE_oneway", &len);
    rmq_command c;
    rmq__stored sm;
    size_t t;
    CHECK(buf && decode_whole(buf, len, &c) == 0);
    CHECK(rmq__stored_decode(c.body, c.body_len, &sm) == 0);
    CHECK_SLICE(sm.topic, "TxTest");
    CHECK_SLICE(sm.body, "tx unknown body");
    CHECK_INT(sm.commit_log_offset, 27380);
    CHECK_SLICE(rmq__prop_get(sm.props, "PGROUP"), "ProbeTxGroup");
    CHECK_SLICE(rmq__prop_get(sm.props, "UNIQ_KEY"), "C000020247D35FFD2B276B1A4F650002");
    CHECK(rmq__stored_decode(c.body, c.body_len - 1, &sm) != 0);   /* truncated: refused */
    /* A record whose own total ends anywhere short of its last byte cuts a
     * field (the body, the topic or the properties): refused, never read
     * past (ASan watches the copy, sized to the total). */
    for (t = 20; t < c.body_len; t++) {
        unsigned char *cut = (unsigned char *)malloc(t);
        int rc;
        CHECK(cut != NULL);
        memcpy(cut, c.body, t);
        cut[0] = (unsigned char)(t >> 24); cut[1] = (unsigned char)(t >> 16);
        cut[2] = (unsigned char)(t >> 8); cut[3] = (unsigned char)t;
        rc = rmq__stored_decode(cut, t, &sm);
        free(cut);
        CHECKF(rc != 0, "a record cut to %u of %u bytes was accepted", (unsigned)t, (unsigned)c.body_len);
    }
    free(buf);
}

static void run_transaction_tests(void)
{
    RUN(test_a_transaction_sends_a_half_message_then_its_end_as_java_does);
    RUN(test_a_rolled_back_or_not_stored_ok_transaction_ends_with_rollback);
    RUN(test_a_broker_check_is_answered_with_the_end_java_sent);
    RUN(test_a_check_for_a_group_not_here_is_not_answered);
    RUN(test_the_stored_message_format_decodes_the_captured_check_body);
}
