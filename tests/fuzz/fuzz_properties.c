/* fuzz_properties - the message property string: rmq__prop_next and
 * rmq__prop_get on bytes from a peer, and rmq__encode_properties (with
 * rmq__check_properties before it) on generated messages.
 *
 * Input: a mode byte, then
 *   mode even: a property string as a broker or a consumer sees it;
 *   mode odd:  a message description (tags, keys, delay, WAIT, user
 *              key/values) that the generator reads from the bytes.
 * Checked on every run:
 *   - decode: prop_next yields exactly the pairs a reference splitter finds
 *     (chunks split at 0x02, key up to the first 0x01, chunks without a
 *     separator or with an empty key or value skipped), each pointing into
 *     the input; prop_get gives the last value of a key;
 *   - round trip: a message the checks accept encodes to a string that
 *     decodes to TAGS, KEYS, DELAY, WAIT, UNIQ_KEY and the user pairs, in
 *     that order and byte for byte, within RMQ_PROPERTIES_MAX_BYTES; a
 *     message the checks refuse breaks one of the rules they name. */
#include "fuzz.h"

#define MAX_PAIRS 64
#define MAX_DECODE 32768        /* bytes of a decoded string: at most 8193 pairs */

typedef struct pair {
    rmq_slice k, v;
} pair;

/* The reference splitter. */
static size_t split(const char *s, size_t n, pair *out, size_t cap)
{
    size_t at = 0, np = 0;
    while (at < n && np < cap) {
        size_t end = at, sep;
        while (end < n && s[end] != '\002') end++;
        for (sep = at; sep < end && s[sep] != '\001'; sep++) {}
        if (sep < end && sep > at && sep + 1 < end) {
            out[np].k.ptr = s + at; out[np].k.len = sep - at;
            out[np].v.ptr = s + sep + 1; out[np].v.len = end - sep - 1;
            np++;
        }
        at = end + 1;
    }
    return np;
}

static int slice_is(rmq_slice a, rmq_slice b)
{
    return a.ptr && b.ptr && a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static void check_decode(const uint8_t *data, size_t size)
{
    char *s = (char *)fz_dup(data, size);
    static pair want[MAX_DECODE / 4 + 1];
    size_t nwant = split(s, size, want, sizeof want / sizeof *want), i = 0;
    rmq_slice rest, k, v;
    rest.ptr = s; rest.len = size;
    while (rmq__prop_next(&rest, &k, &v)) {
        FZ_CHECK(i < nwant);
        FZ_CHECK(k.ptr == want[i].k.ptr && k.len == want[i].k.len);
        FZ_CHECK(v.ptr == want[i].v.ptr && v.len == want[i].v.len);
        FZ_CHECK(k.len > 0 && v.len > 0 && !memchr(k.ptr, 1, k.len) && !memchr(k.ptr, 2, k.len) && !memchr(v.ptr, 2, v.len));
        i++;
    }
    FZ_CHECK(i == nwant);
    for (i = 0; i < nwant && i < 8; i++) {
        char name[64];
        size_t m;
        rmq_slice got, props, last;
        if (want[i].k.len >= sizeof name || memchr(want[i].k.ptr, 0, want[i].k.len)) continue;
        memcpy(name, want[i].k.ptr, want[i].k.len);
        name[want[i].k.len] = 0;
        last.ptr = NULL; last.len = 0;
        for (m = 0; m < nwant; m++) if (want[m].k.len == want[i].k.len && !memcmp(want[m].k.ptr, name, want[m].k.len)) last = want[m].v;
        props.ptr = s; props.len = size;
        got = rmq__prop_get(props, name);
        FZ_CHECK(slice_is(got, last));
    }
    free(s);
}

/* -- generated messages ---------------------------------------------------- */
static int blank(const char *s)
{
    for (; *s; s++) if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static const char *const reserved[] = {
    "TRACE_ON", "MSG_REGION", "KEYS", "TAGS", "WAIT", "DELAY", "RETRY_TOPIC", "REAL_TOPIC", "REAL_QID",
    "TRAN_MSG", "PGROUP", "MIN_OFFSET", "MAX_OFFSET", "BUYER_ID", "ORIGIN_MESSAGE_ID", "TRANSFER_FLAG",
    "CORRECTION_FLAG", "MQ2_FLAG", "RECONSUME_TIME", "UNIQ_KEY", "MAX_RECONSUME_TIMES", "CONSUME_START_TIME",
    "INSTANCE_ID", "CORRELATION_ID", "REPLY_TO_CLIENT", "TTL", "ARRIVE_TIME", "PUSH_REPLY_TIME", "CLUSTER",
    "MSG_TYPE", "INNER_MULTI_QUEUE_OFFSET"
};

static int is_reserved(const char *k)
{
    size_t i;
    for (i = 0; i < sizeof reserved / sizeof *reserved; i++) if (strcmp(k, reserved[i]) == 0) return 1;
    return 0;
}

static int has_sep(const char *s) { return strchr(s, 1) || strchr(s, 2); }

/* A key the generator tends to make interesting: reserved names, blanks. */
static void gen_key(fz_in *in, char *out, size_t cap)
{
    unsigned how = fz_pick(in, 8);
    if (how == 0) { snprintf(out, cap, "%s", reserved[fz_pick(in, sizeof reserved / sizeof *reserved)]); return; }
    if (how == 1) { snprintf(out, cap, " \t"); return; }
    fz_text(in, out, cap, how != 2);
}

static void check_message(fz_in *in)
{
    static rmq_producer p;                /* only its last_error is written */
    static char tags[300], keys[300], uniq[RMQ_MSG_ID_MAX_LEN + 1], kbuf[MAX_PAIRS][256], vbuf[MAX_PAIRS][256];
    rmq_property props[MAX_PAIRS];
    rmq_message m;
    rmq__buf b;
    size_t json;
    rmq_err err;
    size_t i, np = fz_pick(in, MAX_PAIRS), bigv = fz_u8(in) & 1 ? (size_t)fz_u16(in) : 0;
    static pair got[MAX_PAIRS + 8];
    size_t ngot, at = 0;
    int rule_broken = 0;
    char num[24];
    char *big = NULL;
    rmq_message_init(&m, "TopicTest", "x", 1);
    if (fz_u8(in) & 1) { fz_text(in, tags, sizeof tags, fz_u8(in) & 1); m.tags = tags; }
    if (fz_u8(in) & 1) { fz_text(in, keys, sizeof keys, fz_u8(in) & 1); m.keys = keys; }
    m.delay_level = (int8_t)fz_u8(in);
    m.wait_store_msg_ok = fz_u8(in) & 1;
    fz_text(in, uniq, sizeof uniq, 1);
    for (i = 0; i < np; i++) {
        gen_key(in, kbuf[i], sizeof kbuf[i]);
        fz_text(in, vbuf[i], sizeof vbuf[i], fz_u8(in) & 1);
        props[i].key = kbuf[i];
        props[i].value = vbuf[i];
    }
    if (bigv && np) {                     /* one long value, to meet the 32767-byte bound */
        big = (char *)malloc(bigv + 1);
        memset(big, 'v', bigv);
        big[bigv] = 0;
        props[np - 1].value = big;
    }
    m.properties = props;
    m.nproperties = np;
    for (i = 0; i < np; i++)
        if (blank(props[i].key) || blank(props[i].value) || has_sep(props[i].key) || has_sep(props[i].value) ||
            is_reserved(props[i].key))
            rule_broken = 1;
    if ((m.tags && has_sep(m.tags)) || (m.keys && has_sep(m.keys))) rule_broken = 1;
    err = rmq__check_properties(&p, &m);
    FZ_CHECK((err == RMQ_OK) == !rule_broken);
    if (err != RMQ_OK) { FZ_CHECK(err == RMQ_ERR_MESSAGE && rmq_producer_last_error(&p)[0]); free(big); return; }

    rmq__buf_init(&b, NULL, RMQ_PROPERTIES_MAX_BYTES);
    json = 0;
    rmq__encode_properties(&m, uniq[0] ? uniq : NULL, &b, &json);
    if (b.failed) { free(big); rmq__buf_free(&b); return; }   /* over the broker's bound: refused upstream */
    /* the JSON length counted while building is the escaper's, or the
     * header's room is wrong; the count takes UNIQ_KEY as it is (the
     * producer's are hex), so this input's own is escaped here */
    if (uniq[0]) json += rmq__json_esc_len(uniq, strlen(uniq)) - 2 - strlen(uniq);
    FZ_CHECK(json == rmq__json_esc_len((const char *)b.p, b.len));
    FZ_CHECK(b.len <= RMQ_PROPERTIES_MAX_BYTES);
    {   /* built as the header's JSON string, it is the escape of the raw
         * one, and counts the raw length (a UNIQ_KEY is hex: written as
         * it is, so only a plain one is compared) */
        rmq__buf jb;
        size_t raw = 0, n;
        uint8_t *e = (uint8_t *)malloc(RMQ__JSON_STR_MAX(b.len));
        rmq__buf_init(&jb, NULL, RMQ__JSON_STR_MAX(RMQ_PROPERTIES_MAX_BYTES));
        rmq__encode_properties_json(&m, uniq[0] ? uniq : NULL, &jb, &raw);
        FZ_CHECK(e != NULL && !jb.failed && raw == b.len);
        n = rmq__json_esc(e, (const char *)b.p, b.len);
        if (rmq__json_esc_len(uniq, strlen(uniq)) == strlen(uniq) + 2)
            FZ_CHECK(n == jb.len && memcmp(e, jb.p, n) == 0);
        free(e);
        rmq__buf_free(&jb);
    }
    ngot = split((const char *)b.p, b.len, got, sizeof got / sizeof *got);
#define EXPECT(key, val, vlen) do { \
        FZ_CHECK(at < ngot && got[at].k.len == strlen(key) && !memcmp(got[at].k.ptr, key, strlen(key))); \
        FZ_CHECK(got[at].v.len == (vlen) && !memcmp(got[at].v.ptr, val, vlen)); at++; } while (0)
    if (m.tags && *m.tags) EXPECT("TAGS", m.tags, strlen(m.tags));
    if (m.keys && *m.keys) EXPECT("KEYS", m.keys, strlen(m.keys));
    if (m.delay_level > 0) {
        int len = snprintf(num, sizeof num, "%d", m.delay_level);
        EXPECT("DELAY", num, (size_t)len);
    }
    EXPECT("WAIT", m.wait_store_msg_ok ? "true" : "false", m.wait_store_msg_ok ? 4u : 5u);
    if (uniq[0]) EXPECT("UNIQ_KEY", uniq, strlen(uniq));
    for (i = 0; i < np; i++) EXPECT(props[i].key, props[i].value, strlen(props[i].value));
    FZ_CHECK(at == ngot);
#undef EXPECT
    {
        rmq_slice rest, k, v;
        size_t count = 0;
        rest.ptr = (const char *)b.p; rest.len = b.len;
        while (rmq__prop_next(&rest, &k, &v)) {
            FZ_CHECK(count < ngot && slice_is(k, got[count].k) && slice_is(v, got[count].v));
            count++;
        }
        FZ_CHECK(count == ngot);
    }
    rmq__buf_free(&b);
    free(big);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    if (size < 1 || size > 1u << 20) return 0;
    if (!(data[0] & 1)) {
        if (size - 1 <= MAX_DECODE) check_decode(data + 1, size - 1);
        return 0;
    }
    fz_init(&in, data + 1, size - 1);
    check_message(&in);
    return 0;
}
