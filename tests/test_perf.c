/* test_perf.c - what the send path's shortcuts must keep: the send header's
 * own serializer writes the generic encoder's bytes, the flat reader reads
 * a header as the pull reader and the tests' tokenizer do (or leaves it to
 * the pull reader), and the linger holds async sends for one write without
 * losing or reordering any. Included by unit.c after sim_cluster.h. */

/* -- the send header ----------------------------------------------------- */
static void send_fields(rmq__send_fields *f, const char *props, const char *broker, int64_t born)
{
    static char born_text[24];
    memset(f, 0, sizeof *f);
    f->group = "please_rename_unique_group_name";
    f->topic = "TopicTest";
    f->create_key = "TBW102";
    f->broker = broker;
    f->props = props;
    f->props_len = strlen(props);
    f->queue_nums = 4;
    f->queue_id = 3;
    f->sysflag = 0;
    f->flag = -7;
    f->born = born_text;
    f->born_len = rmq__i64_to_dec(born_text, born);
    f->group_len = strlen(f->group);
    f->key_len = strlen(f->create_key);
    f->topic_len = strlen(f->topic);
    f->broker_len = strlen(f->broker);
}

/* Both encoders on the same command, in both serializations; 0 when their
 * frames are identical. */
static int send_frames_differ(const rmq__send_fields *f, int32_t opaque, int32_t flag, int batch)
{
    rmq_command fast, slow;
    rmq__head h;
    rmq__send_fields g = *f;
    rmq__buf a, b;
    int differ = 0, ser;
    g.batch = batch;
    for (ser = RMQ_SERIALIZE_JSON; ser <= RMQ_SERIALIZE_ROCKETMQ; ser++) {
        rmq__command_init(&fast, batch ? RMQ_REQ_SEND_BATCH_MESSAGE : RMQ_REQ_SEND_MESSAGE_V2, opaque, flag);
        fast.serialize = (rmq_serialize)ser;
        slow = fast;
        rmq__send_fields_ext(&g, &slow);
        rmq__head_of(&fast, &h);
        rmq__buf_init(&a, NULL, 1 << 20);
        rmq__buf_init(&b, NULL, 1 << 20);
        differ |= rmq__send_frame_encode(&a, &h, &g, rmq__send_header_len(&h, &g), 128) != 0 ||
                  rmq__frame_encode_head(&b, &slow, 128) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0;
        rmq__buf_free(&a);
        rmq__buf_free(&b);
    }
    return differ;
}

static void test_send_header_serializer_writes_the_generic_encoders_bytes(void)
{
    rmq__send_fields f;
    send_fields(&f, "TAGS\001TagA\002WAIT\001true\002UNIQ_KEY\0017F00000100002A9F0000000000000001", "broker-a",
                INT64_C(1700000000123));
    CHECK(!send_frames_differ(&f, 42, 0, 0));
    CHECK(!send_frames_differ(&f, -1, RMQ_FLAG_ONEWAY, 1));
    f.names_plain = 1;                                            /* checked names: copied, not scanned */
    CHECK(!send_frames_differ(&f, 42, 0, 0));
    send_fields(&f, "KEYS\001a \"quoted\" \\ key\002WAIT\001false", "broker \"b\"\t", 0);
    CHECK(!send_frames_differ(&f, 0, 0, 0));
    send_fields(&f, "", "", INT64_C(-9223372036854775807) - 1);
    CHECK(!send_frames_differ(&f, 2147483647, 0, 1));
}

/* A kept start of the JSON header writes the bytes the generic encoder
 * writes, and holds only for its own topic's text (not a longer, shorter
 * or other one of the same length); a start over RMQ_SEND_PREFIX_BYTES is
 * not kept and the header is written whole. */
static void test_kept_header_start_writes_the_same_frame_and_holds_for_its_topic_only(void)
{
    static char long_group[RMQ_SEND_PREFIX_BYTES + 1];
    static const char *others[] = {"TopicTesu", "TopicTest2", "TopicTes", "T"};
    rmq__send_fields f;
    size_t i;
    send_fields(&f, "TAGS\001TagA\002WAIT\001true", "broker-a", INT64_C(1700000000123));
    f.names_plain = 1;
    if (rmq__send_json_head_len(&f) > RMQ_SEND_PREFIX_BYTES) return;    /* a build that keeps less */
    rmq__send_prefix_keep(&f, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK(f.prefix_len > 0);
    CHECK(rmq__send_prefix_holds(&f, RMQ_REQ_SEND_MESSAGE_V2));
    CHECK(!rmq__send_prefix_holds(&f, RMQ_REQ_SEND_BATCH_MESSAGE));        /* a batch's code is in it */
    CHECK(!send_frames_differ(&f, 42, 0, 0));
    CHECK(!send_frames_differ(&f, 43, 0, 1));                               /* the batch writes its own */
    for (i = 0; i < sizeof others / sizeof *others; i++) {
        f.topic = others[i];
        f.topic_len = strlen(others[i]);
        CHECK(!rmq__send_prefix_holds(&f, RMQ_REQ_SEND_MESSAGE_V2));
        rmq__send_prefix_keep(&f, RMQ_REQ_SEND_MESSAGE_V2);
        CHECK(rmq__send_prefix_holds(&f, RMQ_REQ_SEND_MESSAGE_V2));
        CHECK(!send_frames_differ(&f, 44, 0, 0));
    }
    memset(long_group, 'g', sizeof long_group - 1);
    f.group = long_group;
    f.group_len = strlen(long_group);
    rmq__send_prefix_keep(&f, RMQ_REQ_SEND_MESSAGE_V2);
    CHECK_INT(f.prefix_len, 0);
    CHECK(!rmq__send_prefix_holds(&f, RMQ_REQ_SEND_MESSAGE_V2));
    CHECK(!send_frames_differ(&f, 45, 0, 0));
}

/* Whatever a producer kept of the last header, each send's header names
 * its own producer's group, its topic, its code and its queue: sends that
 * alternate topics, producers of two groups on one instance, a batch
 * between single sends, a queue that changes from send to send. */
static void test_each_send_header_names_its_own_group_topic_code_and_queue(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *a, *b;
    static const char *topics[] = {"TopicTest", "TopicB", "TopicB", "TopicTest", "TopicTest", "TopicB"};
    rmq_message m, batch[2];
    rmq_send_result res, bres[2];
    char v[64];
    int i, n0, qid[2] = {-1, -1};
    simc_add_topic(c, "TopicB", 4, 6);
    a = simc_producer(c, "pg_one");
    b = simc_producer(c, "pg_two");
    CHECK(a != NULL && b != NULL);
    CHECK_INT(rmq_producer_start(a), RMQ_OK);
    CHECK_INT(rmq_producer_start(b), RMQ_OK);
    for (i = 0; i < 6; i++) {
        rmq_producer *p = i % 3 == 2 ? b : a;
        simc_req *r;
        rmq_message_init(&m, topics[i], "x", 1);
        n0 = c->nlog;
        if (i == 4) {
            batch[0] = m;
            batch[1] = m;
            CHECK_INT(rmq_send_batch(p, batch, 2, bres), RMQ_OK);
        } else {
            CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);
        }
        r = simc_last(c, "broker-a", i == 4 ? RMQ_REQ_SEND_BATCH_MESSAGE : RMQ_REQ_SEND_MESSAGE_V2);
        CHECK(r != NULL && c->nlog > n0 && r == &c->log[c->nlog - 1]);
        if (!r) break;
        CHECK_STR(simc_ext(r, "a", v, sizeof v), p == a ? "pg_one" : "pg_two");
        CHECK_STR(simc_ext(r, "b", v, sizeof v), topics[i]);
        CHECK_STR(simc_ext(r, "c", v, sizeof v), "TBW102");
        CHECK_STR(simc_ext(r, "d", v, sizeof v), "4");
        CHECK_STR(simc_ext(r, "m", v, sizeof v), i == 4 ? "true" : "false");
        CHECK_INT(r->queue_id, i == 4 ? bres[0].queue.queue_id : res.queue.queue_id);
    }
    rmq_message_init(&m, "TopicTest", "x", 1);      /* round robin: the next queue, the same start */
    for (i = 0; i < 2; i++) {
        CHECK_INT(rmq_send(a, &m, &res), RMQ_OK);
        CHECK(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2) != NULL);
        qid[i] = simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->queue_id;
        CHECK_INT(qid[i], res.queue.queue_id);
    }
    CHECK(qid[0] != qid[1]);
    rmq_producer_destroy(a);
    rmq_producer_destroy(b);
    simc_destroy(c);
}

/* The property string's JSON length, counted while it is built, is the
 * length its escape has (what the header's writer makes room by), whatever
 * the user's strings hold; the frame is the generic encoder's. */
static void test_property_string_counts_its_json_length_while_built(void)
{
    static const char *tags[] = {"TagA", "a \"quoted\" tag", "back\\slash\ttab", "\x7f caf\xc3\xa9 \x1f", "x"};
    rmq_property up[2];
    rmq_message m;
    rmq__send_fields f;
    rmq__buf b;
    size_t i, json;
    for (i = 0; i < sizeof tags / sizeof *tags; i++) {
        rmq_message_init(&m, "T", "x", 1);
        m.tags = tags[i];
        m.keys = i % 2 ? "k\"1 k2" : NULL;
        m.delay_level = (int)i;
        up[0].key = i == 3 ? "q\"k" : "color"; up[0].value = tags[(i + 1) % 5];
        up[1].key = "n"; up[1].value = "\n";
        m.properties = up;
        m.nproperties = i % 3;
        rmq__buf_init(&b, NULL, 4096);
        json = 0;
        rmq__encode_properties(&m, i == 4 ? NULL : "0A0000053039AABBCCDD0A1B2C3D0007", &b, &json);
        CHECK(json == rmq__json_esc_len((const char *)b.p, b.len));
        send_fields(&f, "", "broker-a", INT64_C(1700000000123));
        f.props = (const char *)b.p;
        f.props_len = b.len;
        f.props_json = json;
        CHECK(!send_frames_differ(&f, 7, 0, 0));
        {   /* built as JSON at once: the escape of the raw string, whose
             * length it counts; a header carrying it as it is has the
             * generic encoder's bytes */
            uint8_t e[1024];
            size_t raw = 0, n = rmq__json_esc(e, (const char *)b.p, b.len);
            rmq__send_fields q = f;
            rmq_command c;
            rmq__head h;
            rmq__buf jb, fa, fb;
            rmq__buf_init(&jb, NULL, 1 << 16);
            rmq__encode_properties_json(&m, i == 4 ? NULL : "0A0000053039AABBCCDD0A1B2C3D0007", &jb, &raw);
            CHECK_INT((int)raw, (int)b.len);
            CHECK(jb.len == n && memcmp(jb.p, e, n) == 0);
            q.props = (const char *)jb.p;
            q.props_len = jb.len;
            q.props_json = jb.len;
            q.props_quoted = 1;
            rmq__command_init(&c, RMQ_REQ_SEND_MESSAGE_V2, 7, 0);
            rmq__head_of(&c, &h);
            rmq__buf_init(&fa, NULL, 1 << 20);
            rmq__buf_init(&fb, NULL, 1 << 20);
            rmq__send_fields_ext(&f, &c);
            CHECK(rmq__send_frame_encode(&fa, &h, &q, rmq__send_header_len(&h, &q), 0) == 0);
            CHECK(rmq__frame_encode_head(&fb, &c, 0) == 0);
            CHECK(fa.len == fb.len && memcmp(fa.p, fb.p, fa.len) == 0);
            rmq__buf_free(&fa);
            rmq__buf_free(&fb);
            rmq__buf_free(&jb);
        }
        rmq__buf_free(&b);
    }
}

/* The broker's limit is on the raw property string's bytes, also when the
 * string is built as JSON (where a quote takes two): the last byte it
 * allows is sent, one more is refused before anything is written. */
static void test_property_limit_counts_raw_bytes_when_built_as_json(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = simc_producer(c, "pg");
    rmq_message m = msg("TopicTest", "x");
    rmq_send_result res;
    rmq_property up[1];
    static char big[RMQ_PROPERTIES_MAX_BYTES];
    /* WAIT\1true \2 UNIQ_KEY\1 (32 hex) \2 q\1 value */
    size_t fixed = 4 + 1 + 4 + 1 + 8 + 1 + 32 + 1 + 1 + 1, n = RMQ_PROPERTIES_MAX_BYTES - fixed;
    memset(big, 'v', n + 1);
    memset(big, '"', 1000);                       /* what a JSON header can still carry: 64 KiB */
    big[n + 1] = 0;
    up[0].key = "q";
    up[0].value = big;
    m.properties = up;
    m.nproperties = 1;
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_ERR_MESSAGE);              /* one byte over */
    CHECK_HAS(rmq_producer_last_error(p), "exceed");
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), 0);
    big[n] = 0;
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);                      /* at the limit */
    CHECK_INT(simc_count(c, NULL, RMQ_REQ_SEND_MESSAGE_V2), 1);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

/* Every language's name goes into the JSON header whole (the writer takes
 * its length from a table), as the generic encoder writes it. */
static void test_json_header_writes_every_language_name_whole(void)
{
    rmq__send_fields f;
    rmq_command c;
    rmq__head h;
    rmq__buf b;
    char want[32];
    size_t k, n;
    int l, found;
    send_fields(&f, "WAIT\001true", "broker-a", 1);
    for (l = 0; l < RMQ__LANGUAGE_COUNT; l++) {
        rmq__command_init(&c, RMQ_REQ_SEND_MESSAGE_V2, 5, 0);
        c.language = l;
        rmq__head_of(&c, &h);
        rmq__buf_init(&b, NULL, 1 << 16);
        CHECK(rmq__send_frame_encode(&b, &h, &f, rmq__send_header_len(&h, &f), 0) == 0);
        snprintf(want, sizeof want, "\"language\":\"%s\",", rmq__language_names[l]);
        n = strlen(want);
        for (found = 0, k = 8; !found && k + n <= b.len; k++) found = memcmp(b.p + k, want, n) == 0;
        CHECK(found);
        rmq__buf_free(&b);
    }
}

/* -- the flat reader ------------------------------------------------------- */
static rmq__jtok perf_tok[RMQ_MAX_JSON_TOKENS];

/* The header read both ways, by the library (the flat reader, else the
 * pull reader) and by the tests' tokenizer (json_tokens.h), each from its
 * own copy (strings are unescaped in place); 0 when they agree on the
 * outcome and the command. */
static int headers_read_differently(const char *text)
{
    char a[512], b[512];
    rmq_command ca, cb;
    rmq__json j;
    size_t n = strlen(text), i;
    int ra, rb;
    j.tok = perf_tok; j.cap = RMQ_MAX_JSON_TOKENS; j.n = 0;
    memcpy(a, text, n);
    memcpy(b, text, n);
    memset(&ca, 0, sizeof ca);
    memset(&cb, 0, sizeof cb);
    ra = rmq__header_decode_json(a, n, &ca);
    rb = rmq__header_decode_tokens(b, n, &j, &cb);
    if (ra != rb) return 1;
    if (ra) return 0;
    if (ca.code != cb.code || ca.opaque != cb.opaque || ca.flag != cb.flag || ca.version != cb.version ||
        ca.language != cb.language || ca.next != cb.next || !ca.remark.ptr != !cb.remark.ptr ||
        ca.remark.len != cb.remark.len)
        return 1;
    for (i = 0; i < ca.next; i++)
        if (ca.ext[i].key.len != cb.ext[i].key.len || ca.ext[i].value.len != cb.ext[i].value.len ||
            memcmp(ca.ext[i].key.ptr, cb.ext[i].key.ptr, ca.ext[i].key.len) != 0 ||
            memcmp(ca.ext[i].value.ptr, cb.ext[i].value.ptr, ca.ext[i].value.len) != 0)
            return 1;
    return 0;
}

static void test_flat_reader_reads_every_header_as_the_tokenizer_does(void)
{
    static const char *const headers[] = {
        "{\"code\":0,\"extFields\":{\"queueId\":\"1\",\"TRACE_ON\":\"true\",\"MSG_REGION\":\"DefaultRegion\","
        "\"msgId\":\"7F00000100002A9F00000000000001C8\",\"queueOffset\":\"12\"},\"flag\":1,\"language\":\"JAVA\","
        "\"opaque\":5,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":395}",
        "{\"code\":17,\"flag\":1,\"language\":\"JAVA\",\"opaque\":9,\"remark\":\"No topic route info\",\"version\":395}",
        "{}",
        "{\"code\":\"3\",\"extFields\":{},\"opaque\":-4,\"language\":7}",
        "{\"code\":0,\"remark\":\"a\\nb\",\"opaque\":1}",                 /* an escape: the pull reader's */
        "{ \"code\":0,\"opaque\":1}",                                     /* a blank */
        "{\"code\":0,\"extFields\":{\"a\":{\"b\":1}},\"opaque\":1}",       /* nested deeper */
        "{\"code\":0,\"extFields\":{0:\"a\"},\"opaque\":1}",              /* an integer key */
        "{\"code\":0,\"list\":[1,2],\"opaque\":1}",
        "{\"code\":99999999999,\"opaque\":1}",                            /* out of range: refused */
        "{\"code\":0,\"opaque\":1",                                       /* truncated: refused */
        "{\"code\":0,\"opaque\":1}}",
        "{\"code\":0,\"extFields\":{\"a\":\"b\",},\"opaque\":1}",
        "{\"code\":0,\"opaque\":\"1\x01\"}",
        "{\"code\"0}",
        "{\"code\":}",
        "[1]",
        /* known keys and values read at sight, beside their look-alikes */
        "{\"codex\":1,\"cod\":2,\"code\":3,\"language\":\"JAVAX\",\"opaque\":1}",
        "{\"language\":\"JAVA\",\"language\":\"CPP\",\"serializeTypeCurrentRPC\":\"JSONX\",\"version\":1}",
        "{\"serializeTypeCurrentRPC\":\"JSON\"",                          /* truncated after a known value */
        "{\"serializeTypeCurrentRPC\":\"JSON\"x}",
        "{\"language\":\"JAVA\"",
        "{\"code\":0,\"extFields\":{\"queueId\":\"1\",\"queueIdx\":\"2\",\"msgId\":\"a\\\"b\"},\"opaque\":1}",
        "{\"code\":0,\"extFields\":{\"TRACE_ON\":true,\"MSG_REGION\":1.5},\"opaque\":1}",
        "{\"code\":\"version\":1}",
        "{\"code",
        "{\"code\":",
        "{\"code\"",
        /* numbers at int32's limits, past them, and unlike fastjson's */
        "{\"code\":2147483647,\"opaque\":-2147483648,\"flag\":-0,\"version\":0}",
        "{\"code\":2147483648,\"opaque\":1}",
        "{\"code\":0,\"opaque\":-2147483649}",
        "{\"code\":0000000001,\"opaque\":00000000001}",
        "{\"code\":+1,\"opaque\":1e3}",
        "{\"code\":-,\"opaque\":1}",
        "{\"code\":1.0,\"opaque\":1}",
        "{\"code\":12345678901,\"opaque\":1}",
        "{\"code\":1",
        "{\"code\":\"-7\",\"opaque\":\"\",\"flag\":true}",
    };
    size_t i;
    for (i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        if (headers_read_differently(headers[i])) {
            test_fail_at(__FILE__, __LINE__, headers[i]);
            return;
        }
    }
}

static void test_flat_reader_takes_a_broker_answer_without_the_tokenizer(void)
{
    char h[] = "{\"code\":0,\"extFields\":{\"queueId\":\"1\",\"queueOffset\":\"12\"},\"flag\":1,\"language\":\"JAVA\","
               "\"opaque\":5,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":395}";
    rmq_command c;
    memset(&c, 0, sizeof c);
    CHECK_INT(rmq__header_read_flat(h, strlen(h), &c), RMQ__FLAT_OK);
    CHECK_INT(c.opaque, 5);
    CHECK_INT(c.flag, 1);
    CHECK_INT(c.language, 0);
    CHECK_INT(c.version, 395);
    CHECK_INT(c.next, 2);
    CHECK(rmq__slice_eq(rmq_command_ext(&c, "queueOffset"), "12"));
    {
        static const char spaced[] = "{ \"code\":0,\"flag\":1}";      /* a blank: not a broker's shape */
        CHECK_INT(rmq__header_read_flat(spaced, strlen(spaced), &c), RMQ__FLAT_OTHER);
    }
}

/* A send's answer fields are taken where the flat reader found them (a
 * later duplicate winning), or by name from a header it left to the
 * tokenizer: the same values either way, absent ones absent. */
static void test_send_answer_fields_are_the_same_whichever_reader_read_them(void)
{
    static const char *want[] = {"3", "12", "0A00000100002A9F0000000000000001", NULL, "false", NULL};
    char flat[] = "{\"code\":0,\"extFields\":{\"msgId\":\"0A00000100002A9F0000000000000001\",\"queueId\":\"1\","
                  "\"queueOffset\":\"12\",\"queueId\":\"3\",\"TRACE_ON\":\"false\",\"x\":\"y\"},\"flag\":1,"
                  "\"opaque\":5}";
    char spaced[sizeof flat + 1];
    rmq_command a, b;
    int k;
    memcpy(spaced, flat, 9);                                  /* {"code":0 */
    spaced[9] = ' ';                                          /* a blank: not the flat reader's shape */
    memcpy(spaced + 10, flat + 9, sizeof flat - 9);
    rmq__command_clear(&a);
    rmq__command_clear(&b);
    CHECK_INT(rmq__header_decode_json(flat, strlen(flat), &a), 0);
    CHECK_INT(rmq__header_decode_json(spaced, strlen(spaced), &b), 0);
    CHECK_INT(a.answer_read, 1);
    CHECK_INT(b.answer_read, 0);
    for (k = 0; k < RMQ__ANS_N; k++) {
        uint8_t ra[RMQ__ANS_N], rb[RMQ__ANS_N];
        rmq_slice x = rmq__answer_field(&a, rmq__answer_at(&a, ra), k);
        rmq_slice y = rmq__answer_field(&b, rmq__answer_at(&b, rb), k);
        if (!want[k]) {
            CHECK(x.ptr == NULL && y.ptr == NULL);
            continue;
        }
        CHECK(rmq__slice_eq(x, want[k]));
        CHECK(rmq__slice_eq(y, want[k]));
    }
}

/* -- the linger ------------------------------------------------------------- */
/* The simulated port with its write calls counted. */
static rmq_port perf_port;
static const rmq_port *perf_inner;
static int perf_writes;

static long perf_send(void *ctx, void *conn, const void *buf, size_t len)
{
    perf_writes++;
    return perf_inner->send(ctx, conn, buf, len);
}

static long perf_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    perf_writes++;
    return perf_inner->sendv(ctx, conn, iov, iovcnt);
}

/* A started producer with cfg.linger_us, connected (one sync send made). */
static rmq_producer *linger_producer(simc *c, uint32_t linger_us)
{
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_message m = msg("TopicTest", "first");
    rmq_send_result res;
    simc_config(c, &cfg, "pg");
    perf_inner = cfg.port;
    perf_port = *cfg.port;
    perf_port.send = perf_send;
    perf_port.sendv = perf_sendv;
    cfg.port = &perf_port;
    cfg.linger_us = linger_us;
    if (rmq_producer_create(&cfg, &p) != RMQ_OK) return NULL;
    if (rmq_producer_start(p) != RMQ_OK || rmq_send(p, &m, &res) != RMQ_OK) {
        rmq_producer_destroy(p);
        return NULL;
    }
    return p;
}

static void test_without_linger_each_async_send_is_written_at_once(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = linger_producer(c, 0);
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    int i, w0;
    memset(&l, 0, sizeof l);
    CHECK(p != NULL);
    w0 = perf_writes;
    for (i = 0; i < 3; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(perf_writes - w0, 3);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.ok, 3);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_linger_writes_async_sends_together_when_its_time_is_up(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = linger_producer(c, 5000);
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    uint32_t t0;
    int i, w0, n0;
    memset(&l, 0, sizeof l);
    CHECK(p != NULL);
    w0 = perf_writes;
    n0 = simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2);
    t0 = rmq_sim_now(c->sim);
    for (i = 0; i < 10; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(perf_writes - w0, 0);                               /* held */
    rmq_producer_poll(p, 3);
    CHECK_INT(perf_writes - w0, 0);                               /* within the linger: still held */
    while (l.calls < 10 && rmq_sim_now(c->sim) - t0 < 1000) rmq_producer_poll(p, 10);
    CHECK_INT(perf_writes - w0, 1);                               /* one write of ten frames */
    CHECK_INT(l.ok, 10);
    CHECK_INT(simc_count(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2) - n0, 10);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_linger_writes_at_once_when_the_frame_bound_is_reached(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = linger_producer(c, 1000000);
    rmq_message m = msg("TopicTest", "x");
    cb_log l;
    int i, w0;
    memset(&l, 0, sizeof l);
    CHECK(p != NULL);
    w0 = perf_writes;
    for (i = 0; i < RMQ_LINGER_MAX_FRAMES - 1; i++) CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);
    CHECK_INT(perf_writes - w0, 0);
    CHECK_INT(rmq_send_async(p, &m, count_cb, &l), RMQ_OK);       /* the last the bound allows */
    CHECK_INT(perf_writes - w0, 1);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK_INT(l.ok, RMQ_LINGER_MAX_FRAMES);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_linger_a_blocking_call_writes_what_waits_first(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer *p = linger_producer(c, 1000000);
    rmq_message a = msg("TopicTest", "async"), s = msg("TopicTest", "sync");
    rmq_send_result res;
    cb_log l;
    uint32_t t0;
    int w0;
    memset(&l, 0, sizeof l);
    CHECK(p != NULL);
    w0 = perf_writes;
    CHECK_INT(rmq_send_async(p, &a, count_cb, &l), RMQ_OK);
    CHECK_INT(rmq_send_async(p, &a, count_cb, &l), RMQ_OK);
    CHECK_INT(perf_writes - w0, 0);
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_send(p, &s, &res), RMQ_OK);                     /* not a second of linger */
    CHECK(rmq_sim_now(c->sim) - t0 < 100);
    CHECK_INT(perf_writes - w0, 1);                               /* the held two and the sync one */
    CHECK(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2) != NULL);
    CHECK_INT(simc_last(c, "broker-a", RMQ_REQ_SEND_MESSAGE_V2)->body_len, 4);  /* "sync" came last */
    CHECK_INT(rmq_send_oneway(p, &a), RMQ_OK);
    t0 = rmq_sim_now(c->sim);
    CHECK_INT(rmq_producer_flush(p, 5000), RMQ_OK);
    CHECK(rmq_sim_now(c->sim) - t0 < 100);
    CHECK_INT(l.ok, 2);
    rmq_producer_destroy(p);
    simc_destroy(c);
}

static void test_linger_above_a_second_is_refused_naming_the_field(void)
{
    simc *c = simc_create(1, 1, 1000);
    rmq_producer_config cfg;
    char why[128];
    simc_config(c, &cfg, "pg");
    cfg.linger_us = 1000000;
    CHECK_INT(rmq_producer_config_check(&cfg, why, sizeof why), RMQ_OK);
    cfg.linger_us = 1000001;
    CHECK(rmq_producer_config_check(&cfg, why, sizeof why) != RMQ_OK);
    CHECK_HAS(why, "linger_us");
    simc_destroy(c);
}

/* -- the deadline heap ---------------------------------------------------- */
/* Every armed timer sits where its pos says, no earlier than its parent. */
static int heap_is_sound(const rmq__remoting *rm)
{
    size_t i;
    for (i = 0; i < rm->nheap; i++) {
        if (rm->heap[i]->pos != (int32_t)i) return 0;
        if (i > 0 && rmq__timer_before(rm->heap[i], rm->heap[(i - 1) / 2])) return 0;
    }
    return 1;
}

static void test_timers_come_due_in_deadline_order_whichever_were_cancelled(void)
{
    static rmq__remoting rm;
    static rmq__timer t[300];
    uint32_t seed = 7, last = 0;
    size_t i, due = 0, cancelled = 0;
    memset(&rm, 0, sizeof rm);
    for (i = 0; i < 300; i++) {
        seed = seed * 1103515245u + 12345u;
        t[i].pos = -1;
        t[i].kind = RMQ__TIMER_USER;
        CHECK_INT(rmq__timer_arm(&rm, &t[i], 1000u + (seed >> 16) % 500u), RMQ_OK);   /* ties too */
    }
    CHECK(heap_is_sound(&rm));
    /* the root (an answered request), a middle, a leaf, each third one */
    for (i = 0; i < 300; i += 3) {
        rmq__timer *x = i % 2 ? rm.heap[0] : &t[i];
        if (x->pos < 0) continue;
        rmq__timer_cancel(&rm, x);
        CHECK_INT(x->pos, -1);
        CHECK(heap_is_sound(&rm));
        cancelled++;
    }
    while (rm.nheap) {
        rmq__timer *x = rm.heap[0];
        CHECK(x->at >= last);
        last = x->at;
        rmq__timer_cancel(&rm, x);
        CHECK(heap_is_sound(&rm));
        due++;
    }
    CHECK_INT(due + cancelled, 300);
    RMQ_FREE(rm.mem, rm.heap);
}

/* Requests armed in deadline order go to the ring, the others to the heap:
 * whichever holds it, each unanswered send ends at its own deadline, in
 * deadline order, and an answered one not at all. The broker swallows the
 * sends whose body starts with 'x'; the answered one comes last, so the
 * connection is not taken for silent. */
typedef struct ring_end { int n; int who[8]; uint32_t at[8]; rmq_err err[8]; simc *c; } ring_end;
static ring_end ring_ends;

static int ring_swallow(simc_conn *sc, rmq_sim_conn *conn, const rmq_command *q)
{
    (void)sc; (void)conn;
    return q->code == RMQ_REQ_SEND_MESSAGE_V2 && q->body_len && q->body[0] == 'x';
}

static void ring_cb(rmq_err err, const rmq_send_result *res, void *user)
{
    ring_end *e = &ring_ends;
    (void)res;
    if (e->n < 8) {
        e->who[e->n] = (int)(intptr_t)user;
        e->at[e->n] = rmq_sim_now(e->c->sim);
        e->err[e->n++] = err;
    }
}

static void test_request_deadlines_fire_in_order_from_the_ring_and_the_heap(void)
{
    static const uint32_t timeout[6] = { 3000, 3000, 1000, 5000, 2000, 3000 };
    static const int order[5] = { 2, 4, 0, 1, 3 };
    simc *c = simc_create(1, 1, 1000);
    rmq_send_result res;
    uint32_t t0;
    int i;
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    rmq_message m;
    memset(&ring_ends, 0, sizeof ring_ends);
    ring_ends.c = c;
    c->extra = ring_swallow;
    simc_config(c, &cfg, "pg");
    cfg.retry_times_async = 0;
    CHECK_INT(rmq_producer_create(&cfg, &p), RMQ_OK);
    CHECK_INT(rmq_producer_start(p), RMQ_OK);
    rmq_message_init(&m, "TopicTest", "a", 1);
    CHECK_INT(rmq_send(p, &m, &res), RMQ_OK);           /* the route and the connection first */
    t0 = rmq_sim_now(c->sim);
    for (i = 0; i < 6; i++) {
        rmq_message_init(&m, "TopicTest", i == 5 ? "a" : "x", 1);
        CHECK_INT(rmq_send_async_timeout(p, &m, ring_cb, (void *)(intptr_t)i, timeout[i]), RMQ_OK);
    }
    simc_run(c, p, 6000);
    CHECK_INT(ring_ends.n, 6);
    CHECK_INT(ring_ends.who[0], 5);                      /* answered at once */
    CHECK_INT(ring_ends.err[0], RMQ_OK);
    for (i = 0; i < 5; i++) {
        CHECK_INT(ring_ends.who[i + 1], order[i]);
        CHECK_INT(ring_ends.err[i + 1], RMQ_ERR_TIMEOUT);
        CHECK(ring_ends.at[i + 1] - t0 >= timeout[order[i]]);
        CHECK(ring_ends.at[i + 1] - t0 <= timeout[order[i]] + 20);
    }
    rmq_producer_destroy(p);
    simc_destroy(c);
}

#if RMQ_FREE_LIST_BLOCKS > 0
/* A freed send block comes back for the next block of its size step, one
 * of another size does not take it, a full list hands the block back to
 * the heap, and emptying leaves nothing kept (valgrind sees any leak). */
static void test_freed_send_blocks_are_reused_by_size_and_bounded(void)
{
    rmq__stash st;
    void *a, *b, *c, **many;
    size_t i;
    memset(&st, 0, sizeof st);
    a = rmq__stash_take(&st, NULL, 100);
    CHECK(a != NULL);
    memset(a, 0x5A, 100);
    rmq__stash_give(&st, NULL, a);
    b = rmq__stash_take(&st, NULL, 300);          /* another size step */
    CHECK(b != NULL && b != a);
    c = rmq__stash_take(&st, NULL, 90);           /* 90 and 100 share the 128-byte step */
    CHECK(c == a);
    rmq__stash_give(&st, NULL, b);
    rmq__stash_give(&st, NULL, c);
    CHECK_INT(st.bin[0].n + st.bin[1].n + st.bin[2].n, 2);
    many = (void **)malloc((RMQ_FREE_LIST_BLOCKS + 1) * sizeof *many);
    CHECK(many != NULL);
    for (i = 0; i < (size_t)RMQ_FREE_LIST_BLOCKS + 1; i++) CHECK((many[i] = rmq__stash_take(&st, NULL, 1000)) != NULL);
    for (i = 0; i < (size_t)RMQ_FREE_LIST_BLOCKS + 1; i++) rmq__stash_give(&st, NULL, many[i]);
    for (i = 0; i < RMQ__STASH_BINS; i++) CHECK(st.bin[i].n <= RMQ_FREE_LIST_BLOCKS);
    free(many);
    {                                             /* a block over RMQ_FREE_LIST_MAX_BYTES is not kept */
        uint32_t kept = st.bin[0].n + st.bin[1].n + st.bin[2].n;
        void *big = rmq__stash_take(&st, NULL, RMQ_FREE_LIST_MAX_BYTES + 1);
        CHECK(big != NULL);
        rmq__stash_give(&st, NULL, big);
        CHECK_INT(st.bin[0].n + st.bin[1].n + st.bin[2].n, kept);
    }
    rmq__stash_empty(&st, NULL);
    for (i = 0; i < RMQ__STASH_BINS; i++) CHECK(st.bin[i].head == NULL && st.bin[i].n == 0);
}
#endif

static void run_perf_tests(void)
{
    RUN(test_send_header_serializer_writes_the_generic_encoders_bytes);
    RUN(test_property_string_counts_its_json_length_while_built);
    RUN(test_json_header_writes_every_language_name_whole);
    RUN(test_property_limit_counts_raw_bytes_when_built_as_json);
    RUN(test_kept_header_start_writes_the_same_frame_and_holds_for_its_topic_only);
    RUN(test_each_send_header_names_its_own_group_topic_code_and_queue);
#if RMQ_FREE_LIST_BLOCKS > 0
    RUN(test_freed_send_blocks_are_reused_by_size_and_bounded);
#endif
    RUN(test_flat_reader_reads_every_header_as_the_tokenizer_does);
    RUN(test_flat_reader_takes_a_broker_answer_without_the_tokenizer);
    RUN(test_send_answer_fields_are_the_same_whichever_reader_read_them);
    RUN(test_timers_come_due_in_deadline_order_whichever_were_cancelled);
    RUN(test_request_deadlines_fire_in_order_from_the_ring_and_the_heap);
    RUN(test_without_linger_each_async_send_is_written_at_once);
    RUN(test_linger_writes_async_sends_together_when_its_time_is_up);
    RUN(test_linger_writes_at_once_when_the_frame_bound_is_reached);
    RUN(test_linger_a_blocking_call_writes_what_waits_first);
    RUN(test_linger_above_a_second_is_refused_naming_the_field);
}
