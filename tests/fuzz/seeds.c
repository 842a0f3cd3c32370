/* seeds - writes the starting corpus of every fuzz target into
 * OUT/<target>/, from the captured frames and from hand-written inputs.
 *
 *     seeds OUT tests/vectors/a/000_x.bin tests/vectors/a/001_y.bin ...
 *
 * From each captured frame: the frame itself (fuzz_frame), its JSON header
 * and JSON body (fuzz_json), a route body (fuzz_route), the property string
 * of a send (fuzz_properties), a frame the broker sends (fuzz_request), and
 * each capture's broker-to-client frames as one stream (fuzz_frame,
 * fuzz_request). Hand-written: fastjson's route with unquoted integer keys,
 * an orderTopicConf route, the binary header example of the protocol spec,
 * a binary CHECK_TRANSACTION_STATE request, escapes and surrogates, and
 * scripts for the generator targets (fuzz_batch, fuzz_properties' message
 * mode, fuzz_producer). Built natively, without sanitizers. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#include "rocketmq_producer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *out_dir;
static int written;

static void put(const char *target, const char *name, const void *a, size_t alen, const void *b, size_t blen)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    if (alen) fwrite(a, 1, alen, f);
    if (blen) fwrite(b, 1, blen, f);
    fclose(f);
    written++;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = (unsigned char *)malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "%s: read failed\n", path); exit(1); }
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* "producer_new_topic/003_namesrv..." -> "producer_new_topic-003_namesrv..." */
static void seed_name(const char *path, char *out, size_t cap)
{
    const char *base = strrchr(path, '/'), *dir = base;
    size_t i;
    if (!base) { snprintf(out, cap, "%s", path); return; }
    while (dir > path && dir[-1] != '/') dir--;
    snprintf(out, cap, "%.*s-%s", (int)(base - dir), dir, base + 1);
    for (i = 0; out[i]; i++) if (out[i] == '.') out[i] = '_';
}

static void from_vector(const char *path, rmq__buf *stream)
{
    size_t len;
    unsigned char *buf = slurp(path, &len), *copy = (unsigned char *)malloc(len + 1);
    char name[512], sub[600];
    rmq__frame_info fi;
    rmq_command c;
    rmq_slice props;
    int to_client = strstr(path, "_to_client_") != NULL;
    seed_name(path, name, sizeof name);
    put("fuzz_frame", name, buf, len, NULL, 0);
    if (rmq__frame_check(buf, len, RMQ_MAX_FRAME_BYTES, &fi) != RMQ__FRAME_OK) { free(buf); free(copy); return; }
    if (fi.serialize == RMQ_SERIALIZE_JSON) {
        snprintf(sub, sizeof sub, "%s-header", name);
        put("fuzz_json", sub, buf + 8, fi.header_len, NULL, 0);
    }
    if (fi.total > 8 + fi.header_len && buf[8 + fi.header_len] == '{') {
        snprintf(sub, sizeof sub, "%s-body", name);
        put("fuzz_json", sub, buf + 8 + fi.header_len, fi.total - 8 - fi.header_len, NULL, 0);
        if (strstr(path, "ROUTEINFO")) {
            put("fuzz_route", name, "\0", 1, buf + 8 + fi.header_len, fi.total - 8 - fi.header_len);
            snprintf(sub, sizeof sub, "%s-default", name);
            put("fuzz_route", sub, "\3", 1, buf + 8 + fi.header_len, fi.total - 8 - fi.header_len);
        }
    }
    if (to_client) {
        put("fuzz_request", name, "\0\0", 2, buf, len);
        rmq__buf_put(stream, buf, len);
    }
    memcpy(copy, buf, len);
    if (rmq__frame_decode(copy, &fi, fi.total - 8 - fi.header_len, &c) == 0) {
        props = rmq_command_ext(&c, "i");
        if (props.ptr) put("fuzz_properties", name, "\0", 1, props.ptr, props.len);
    }
    free(buf);
    free(copy);
}

/* -- hand-written inputs ---------------------------------------------------- */
static const char fastjson_route[] =
    "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"192.168.1.10:10911\",1:\"192.168.1.11:10911\"},"
    "\"brokerName\":\"broker-a\",\"cluster\":\"DefaultCluster\"},{\"brokerAddrs\":{0:\"192.168.1.20:10911\"},"
    "\"brokerName\":\"broker-b\",\"cluster\":\"DefaultCluster\"}],\"filterServerTable\":{},"
    "\"queueDatas\":[{\"brokerName\":\"broker-b\",\"perm\":6,\"readQueueNums\":4,\"topicSysFlag\":0,\"writeQueueNums\":4},"
    "{\"brokerName\":\"broker-a\",\"perm\":6,\"readQueueNums\":8,\"topicSysFlag\":0,\"writeQueueNums\":2}]}";

static const char order_route[] =
    "{\"brokerDatas\":[{\"brokerAddrs\":{\"0\":\"10.0.1.1:10911\"},\"brokerName\":\"broker-a\"}],"
    "\"orderTopicConf\":\"broker-a:2;broker-b:3\",\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":6,"
    "\"readQueueNums\":4,\"writeQueueNums\":4}]}";

static const char escapes[] =
    "{\"remark\":\"line\\nbreak \\\"q\\\" \\u00e9 \\ud83d\\ude00 \\ud800 \\/\",\"extFields\":{\"k\\u0001\":\"v\\u0002\",0:1},"
    "\"code\":-1,\"flag\":1,\"language\":\"JAVA\",\"opaque\":2147483647,\"version\":409,\"list\":[true,false,null,1.5e3,[]]}";

/* The binary header example of RocketMQ's remoting spec (code 105, opaque 1). */
static const unsigned char spec_binary[49] = {
    0, 0, 0, 0x2d, 1, 0, 0, 0x29, 0, 0x69, 9, 1, 0x99, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14,
    0, 5, 't', 'o', 'p', 'i', 'c', 0, 0, 0, 9, 'T', 'o', 'p', 'i', 'c', 'T', 'e', 's', 't'
};

static void frame(rmq__buf *b, rmq_command *c, const char *body)
{
    size_t blen = body ? strlen(body) : 0;
    b->len = 0;
    rmq__frame_encode_head(b, c, blen);
    rmq__buf_put(b, body, blen);
}

static void hand_written(void)
{
    rmq__buf b;
    rmq_command c;
    static const unsigned char producer_scripts[][48] = {
        /* set-up bytes, then calls: async sends, a poll, time passing */
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 8, 0x10, 0 },
        { 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 1, 0, 0, 0, 8, 0x40, 0, 5, 0, 0, 0, 0, 0, 6, 0, 0, 0 },
        { 1, 9, 0x41, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 4, 1, 0, 11, 0, 10, 0x75, 0x30, 1, 8, 1, 0 },
        { 0, 0x1b, 0x7e, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 7, 0, 0, 0, 12, 0x10, 0, 6, 0, 0, 0, 0, 0x13, 0, 0, 0 }
    };
    static const unsigned char batch_script[] = {
        2, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 1, 3, 'T', 'a', 'g', 1, 2, 'k', '1', 1, 1, 1, 1, 'a', 1, 'b',
        0, 6, 'w', 'o', 'r', 'l', 'd', '!', 0, 0, 0, 0, 7, 0, 0, 1, 1, 0
    };
    static const unsigned char message_script[] = {
        1, 3, 0, 1, 3, 'T', 'a', 'g', 1, 1, 5, 'k', '1', ' ', 'k', '2', 2, 1, 0, 2, 1, 'a', 1, 1, 'b', 2, 2, 'c', 'c', 0, 1, 'd'
    };
    size_t i;
    char name[32];
    rmq__buf_init(&b, NULL, 1 << 20);
    put("fuzz_json", "fastjson-route", fastjson_route, sizeof fastjson_route - 1, NULL, 0);
    put("fuzz_json", "escapes", escapes, sizeof escapes - 1, NULL, 0);
    put("fuzz_route", "fastjson-unquoted-keys", "\0", 1, fastjson_route, sizeof fastjson_route - 1);
    put("fuzz_route", "fastjson-default-topic", "\x0b", 1, fastjson_route, sizeof fastjson_route - 1);
    put("fuzz_route", "order-topic-conf", "\0", 1, order_route, sizeof order_route - 1);
    put("fuzz_frame", "binary-header-spec-example", spec_binary, sizeof spec_binary, NULL, 0);
    put("fuzz_request", "binary-header-spec-example", "\0\1", 2, spec_binary, sizeof spec_binary);

    rmq__command_init(&c, RMQ_REQ_CHECK_TRANSACTION_STATE, 77, 0);
    c.serialize = RMQ_SERIALIZE_ROCKETMQ;
    rmq_command_put_ext(&c, "commitLogOffset", "27380");
    rmq_command_put_ext(&c, "msgId", "C0A8010A00002A9F0000000000006AF4");
    frame(&b, &c, NULL);
    put("fuzz_frame", "binary-check-transaction-state", b.p, b.len, NULL, 0);
    put("fuzz_request", "binary-check-transaction-state", "\x21\3", 2, b.p, b.len);

    rmq__command_init(&c, RMQ_REQ_PUSH_REPLY_MESSAGE_TO_CLIENT, 78, 0);
    c.remark = rmq__cslice("reply \"quoted\"\n");
    rmq_command_put_ext(&c, "topic", "TopicTest");
    frame(&b, &c, "reply body");
    put("fuzz_frame", "json-push-reply-with-escapes", b.p, b.len, NULL, 0);
    put("fuzz_request", "json-push-reply-1-byte-reads", "\x01\x01", 2, b.p, b.len);
    put("fuzz_json", "json-push-reply-header", b.p + 8, rmq__be32(b.p + 4) & 0xFFFFFF, NULL, 0);

    rmq__command_init(&c, 0, 1, RMQ_FLAG_RESPONSE);
    frame(&b, &c, fastjson_route);
    put("fuzz_frame", "fastjson-route-response", b.p, b.len, NULL, 0);

    for (i = 0; i < sizeof producer_scripts / sizeof *producer_scripts; i++) {
        snprintf(name, sizeof name, "script-%u", (unsigned)i);
        put("fuzz_producer", name, producer_scripts[i], sizeof producer_scripts[i], NULL, 0);
        put("fuzz_core", name, producer_scripts[i], sizeof producer_scripts[i], NULL, 0);
    }
    put("fuzz_batch", "two-messages", batch_script, sizeof batch_script, NULL, 0);
    put("fuzz_properties", "message-tags-keys-pairs", message_script, sizeof message_script, NULL, 0);
    put("fuzz_properties", "trailing-separator", "\0TAGS\001a\002WAIT\001true\002", 19, NULL, 0);
    rmq__buf_free(&b);
}

/* A capture's broker-to-client frames as one stream (nothing if none). */
static void put_stream(const char *dir, const rmq__buf *stream)
{
    char name[600];
    if (!stream->len) return;
    seed_name(dir, name, sizeof name);
    strncat(name, "-stream", sizeof name - strlen(name) - 1);
    put("fuzz_frame", name, stream->p, stream->len, NULL, 0);
    put("fuzz_request", name, "\0\0", 2, stream->p, stream->len);
}

int main(int argc, char **argv)
{
    rmq__buf stream;
    const char *stream_dir = NULL;
    int i;
    if (argc < 2) { fprintf(stderr, "usage: seeds OUT [vector.bin ...]\n"); return 2; }
    out_dir = argv[1];
    rmq__buf_init(&stream, NULL, 1 << 22);
    for (i = 2; i < argc; i++) {
        const char *slash = strrchr(argv[i], '/');
        if (stream_dir && (!slash || (size_t)(slash - argv[i]) != strlen(stream_dir) ||
                           strncmp(argv[i], stream_dir, strlen(stream_dir)) != 0)) {
            put_stream(stream_dir, &stream);
            stream.len = 0;
            free((void *)stream_dir);
            stream_dir = NULL;
        }
        if (!stream_dir && slash) {
            char *d = (char *)malloc((size_t)(slash - argv[i]) + 1);
            memcpy(d, argv[i], (size_t)(slash - argv[i]));
            d[slash - argv[i]] = 0;
            stream_dir = d;
        }
        from_vector(argv[i], &stream);
    }
    if (stream_dir) put_stream(stream_dir, &stream);
    free((void *)stream_dir);
    hand_written();
    rmq__buf_free(&stream);
    printf("seeds: %d inputs written under %s\n", written, out_dir);
    return 0;
}
