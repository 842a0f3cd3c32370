/* fuzz_frame - the frame decoder: rmq__frame_check, rmq__frame_decode and
 * both header forms (rmq__header_decode_json, rmq__header_decode_binary),
 * then the remoting engine's reader (rmq__conn_rbuf, rmq__conn_parse) on
 * the same bytes as a stream.
 *
 * The input is the bytes a peer sends. Checked on every run:
 *   - rmq__frame_check keeps its contract: NEED below 8 bytes and for every
 *     prefix of a complete frame, OK with the length the prefix gives;
 *   - a decoded command points only into its own header and body;
 *   - round trip: the command written again as JSON and as a binary header
 *     decodes to the same command (less what a form cannot carry: 16-bit
 *     code and version in binary, empty ext values, unknown languages), and
 *     a second JSON encoding is byte for byte the first;
 *   - a JSON header reads the same through the flat reader (or its fall
 *     back), through the pull reader alone and through the tests' tokenizer
 *     (json_tokens.h): same outcome, same command;
 *   - the same bytes fed to the engine whole, in pieces of pseudo-random
 *     sizes and one byte at a time dispatch the same requests, count the
 *     same frames, and fail (or not) the same way as a plain loop over the
 *     decoder. */
#include "fuzz.h"
#include "../json_tokens.h"

/* -- one frame, whole ------------------------------------------------------ */
static int inside(const void *p, size_t len, const uint8_t *lo, const uint8_t *hi)
{
    const uint8_t *q = (const uint8_t *)p;
    return q >= lo && q + len <= hi;
}

static int same_slice(rmq_slice a, rmq_slice b)
{
    if (!a.ptr || !b.ptr) return !a.ptr && !b.ptr;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* What a decoded command should look like after a trip through `form`. */
static void expect_after(const rmq_command *c, rmq_serialize form, rmq_command *want)
{
    size_t i;
    *want = *c;
    want->serialize = form;
    want->next = 0;
    if (form == RMQ_SERIALIZE_JSON) {
        want->language = c->language >= 0 && c->language < RMQ__LANGUAGE_COUNT ? c->language : 7;
        for (i = 0; i < c->next; i++) want->ext[want->next++] = c->ext[i];
        return;
    }
    want->code = (int16_t)(uint16_t)c->code;
    want->version = (int16_t)(uint16_t)c->version;
    want->language = (uint8_t)c->language;
    if (c->remark.ptr && c->remark.len == 0) want->remark.ptr = NULL;
    for (i = 0; i < c->next; i++)
        if (c->ext[i].key.len && c->ext[i].value.len) want->ext[want->next++] = c->ext[i];
}

static void check_same(const rmq_command *a, const rmq_command *b)
{
    size_t i;
    FZ_CHECK(a->code == b->code && a->opaque == b->opaque && a->flag == b->flag);
    FZ_CHECK(a->version == b->version && a->language == b->language && a->serialize == b->serialize);
    FZ_CHECK(same_slice(a->remark, b->remark));
    FZ_CHECK(a->next == b->next);
    for (i = 0; i < a->next; i++) {
        FZ_CHECK(same_slice(a->ext[i].key, b->ext[i].key));
        FZ_CHECK(same_slice(a->ext[i].value, b->ext[i].value));
    }
    FZ_CHECK(a->body_len == b->body_len && (!a->body_len || memcmp(a->body, b->body, a->body_len) == 0));
}

/* The header through the tests' tokenizer, with a token for every byte:
 * the library's reader has no token cap to agree with. */
static int tokens_decode(char *hdr, size_t len, rmq_command *c)
{
    rmq__json j;
    int r;
    FZ_CHECK(rmq__json_tokens_for(&j, len));
    r = rmq__header_decode_tokens(hdr, len, &j, c);
    free(j.tok);
    return r;
}

static void same_header(const rmq_command *a, const rmq_command *b)
{
    size_t i;
    FZ_CHECK(a->code == b->code && a->opaque == b->opaque && a->flag == b->flag);
    FZ_CHECK(a->version == b->version && a->language == b->language && a->next == b->next);
    FZ_CHECK(same_slice(a->remark, b->remark));
    for (i = 0; i < a->next; i++) {
        FZ_CHECK(same_slice(a->ext[i].key, b->ext[i].key));
        FZ_CHECK(same_slice(a->ext[i].value, b->ext[i].value));
    }
}

/* Encodes c in form, decodes it back into out (whose slices point into b). */
static void trip(const rmq_command *c, rmq_serialize form, rmq__buf *b, rmq_command *out)
{
    rmq_command w = *c;
    rmq__frame_info fi;
    w.serialize = form;
    rmq__buf_init(b, NULL, 16u << 20);
    fz_frame(b, &w, c->body, c->body_len);
    FZ_CHECK(!b->failed);
    FZ_CHECK(rmq__frame_check(b->p, b->len, RMQ_MAX_FRAME_BYTES, &fi) == RMQ__FRAME_OK && fi.total == b->len);
    FZ_CHECK(rmq__frame_decode(b->p, &fi, fi.total - 8 - fi.header_len, out) == 0);
}

/* The header read three ways, each from its own copy (strings are
 * unescaped in place): as the library reads it (the flat reader, else the
 * pull reader), by the pull reader alone, and by the tests' tokenizer
 * (json_tokens.h), an independent reader. All three agree. */
static void check_flat_reader(const uint8_t *hdr, size_t len)
{
    char *a = (char *)fz_dup(hdr, len), *b = (char *)fz_dup(hdr, len), *p = (char *)fz_dup(hdr, len);
    rmq_command ca, cb, cp;
    int ra, rb, rp;
    memset(&ca, 0, sizeof ca);
    memset(&cb, 0, sizeof cb);
    memset(&cp, 0, sizeof cp);
    ra = rmq__header_decode_json(a, len, &ca);
    rb = tokens_decode(b, len, &cb);
    rp = rmq__header_decode_pull(p, len, &cp);
    FZ_CHECK(ra == rb);
    FZ_CHECK(rp == rb);
    if (ra == 0) {
        size_t i;
        ca.body = cb.body = NULL;
        same_header(&ca, &cb);
        same_header(&cp, &cb);
        FZ_CHECK(!cb.answer_read);
        {   /* where the flat reader found them, or found by their keys */
            uint8_t ra[RMQ__ANS_N], rb[RMQ__ANS_N];
            const uint8_t *pa = rmq__answer_at(&ca, ra), *pb = rmq__answer_at(&cb, rb);
            for (i = 0; i < RMQ__ANS_N; i++)
                FZ_CHECK(same_slice(rmq__answer_field(&ca, pa, (int)i), rmq__answer_field(&cb, pb, (int)i)));
        }
    }
    free(a);
    free(b);
    free(p);
}

static void check_one_frame(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_dup(data, size);
    rmq__frame_info fi;
    rmq_command c, back, want, again;
    int st = rmq__frame_check(buf, size, RMQ_MAX_FRAME_BYTES, &fi);
    size_t i;
    if (size < 8) FZ_CHECK(st == RMQ__FRAME_NEED);
    if (st != RMQ__FRAME_OK) { free(buf); return; }
    FZ_CHECK(fi.total == rmq__be32(buf) + 4u && fi.total <= size && fi.serialize <= 1);
    FZ_CHECK(fi.header_len + 8u <= fi.total);
    {
        rmq__frame_info part;
        size_t total = fi.total;
        FZ_CHECK(rmq__frame_check(buf, 8, RMQ_MAX_FRAME_BYTES, &part) == (total == 8 ? RMQ__FRAME_OK : RMQ__FRAME_NEED));
        FZ_CHECK(rmq__frame_check(buf, total - 1, RMQ_MAX_FRAME_BYTES, &part) == RMQ__FRAME_NEED);
        FZ_CHECK(total == 8 || part.total == total);
    }
    if (fi.serialize == RMQ_SERIALIZE_JSON) check_flat_reader(buf + 8, fi.header_len);
    if (rmq__frame_decode(buf, &fi, fi.total - 8 - fi.header_len, &c) != 0) { free(buf); return; }
    FZ_CHECK(c.next <= RMQ_MAX_EXT_FIELDS);
    FZ_CHECK(c.body == buf + 8 + fi.header_len && c.body_len == fi.total - 8 - fi.header_len);
    FZ_CHECK(!c.remark.ptr || inside(c.remark.ptr, c.remark.len, buf + 8, c.body));
    for (i = 0; i < c.next; i++) {
        FZ_CHECK(inside(c.ext[i].key.ptr, c.ext[i].key.len, buf + 8, c.body));
        FZ_CHECK(inside(c.ext[i].value.ptr, c.ext[i].value.len, buf + 8, c.body));
    }
    {
        rmq__buf b1, b2, b3;
        trip(&c, RMQ_SERIALIZE_JSON, &b1, &back);
        expect_after(&c, RMQ_SERIALIZE_JSON, &want);
        check_same(&back, &want);
        trip(&back, RMQ_SERIALIZE_JSON, &b2, &again);
        check_same(&again, &back);
        FZ_CHECK(b1.len == b2.len && memcmp(b1.p, b2.p, b1.len) == 0);
        trip(&c, RMQ_SERIALIZE_ROCKETMQ, &b3, &back);
        expect_after(&c, RMQ_SERIALIZE_ROCKETMQ, &want);
        check_same(&back, &want);
        rmq__buf_free(&b1);
        rmq__buf_free(&b2);
        rmq__buf_free(&b3);
    }
    free(buf);
}

/* -- the stream through the engine ----------------------------------------- */
/* What dispatching one request leaves behind: enough to tell two runs apart. */
typedef struct seen {
    int32_t code, opaque, flag, version, language;
    int serialize;
    uint64_t header, body;
    size_t body_len;
} seen;

#define MAX_SEEN 512

typedef struct run {
    seen ev[MAX_SEEN];
    size_t nev;
    uint32_t frames, skip;
    size_t left;
    int failed;
} run;

static run runs[4];
static run *current;

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = (const uint8_t *)p;
    size_t i;
    h ^= n + 0x9e3779b97f4a7c15ull;
    for (i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ull; }
    return h;
}

static void note(const rmq_command *c)
{
    seen *s;
    size_t i;
    if (current->nev >= MAX_SEEN) return;
    s = &current->ev[current->nev++];
    memset(s, 0, sizeof *s);
    s->code = c->code; s->opaque = c->opaque; s->flag = c->flag;
    s->version = c->version; s->language = c->language; s->serialize = (int)c->serialize;
    s->header = mix(1, c->remark.ptr ? c->remark.ptr : "", c->remark.ptr ? c->remark.len : 0);
    for (i = 0; i < c->next; i++) {
        s->header = mix(s->header, c->ext[i].key.ptr, c->ext[i].key.len);
        s->header = mix(s->header, c->ext[i].value.ptr, c->ext[i].value.len);
    }
    s->body = mix(2, c->body, c->body_len);
    s->body_len = c->body_len;
}

static void on_request(rmq__remoting *rm, void *arg, rmq__conn *c, const rmq_command *req)
{
    (void)rm; (void)arg; (void)c;
    note(req);
}

static rmq_sim *sim;
static rmq__remoting rm;

static void setup(void)
{
    if (sim) return;
    sim = rmq_sim_create(1000);
    if (!sim || rmq__remoting_init(&rm, rmq_sim_port(sim), NULL) != RMQ_OK) abort();
    rm.on_request = on_request;
}

static void note_request(void *ctx, const rmq_command *c)
{
    (void)ctx;
    if (!(c->flag & RMQ_FLAG_RESPONSE)) note(c);
}

/* The plain loop: what the engine must do with the whole stream at once. */
static void reference(const uint8_t *data, size_t size, run *out)
{
    uint8_t *buf = fz_dup(data, size);
    fz_walk w;
    size_t at = 0;
    current = out;
    memset(out, 0, sizeof *out);
    for (;;) {
        size_t rest, have;
        fz_walk_frames(buf, size, at, note_request, NULL, &w);
        out->frames += w.frames;
        at = w.at;
        if (w.end != FZ_WALK_OVERSIZE) break;
        /* The reader skips the oversized frame's body: the rest of the
         * stream and more, or up to a next frame. */
        rest = w.fi.total - 8 - w.fi.header_len;
        have = size - at - 8 - w.fi.header_len;
        if (have <= rest) {
            at = size;
            out->skip = (uint32_t)(rest - have);
            break;
        }
        at = size - (have - rest);
    }
    out->failed = w.end == FZ_WALK_MALFORMED;
    out->left = out->failed || out->skip ? 0 : size - at;
    free(buf);
}

/* Feeds the stream to connection 0 in pieces; piece 0 means "the rest". */
static void engine(const uint8_t *data, size_t size, uint64_t seed, size_t fixed, run *out)
{
    rmq__conn *c = &rm.conns[0];
    size_t at = 0;
    current = out;
    memset(out, 0, sizeof *out);
    memset(c, 0, sizeof *c);
    c->state = RMQ__CONN_OPEN;
    memcpy(c->addr, "10.0.1.1:10911", 15);
    while (at < size && c->state == RMQ__CONN_OPEN && !c->failing) {
        size_t piece = fixed ? fixed : seed ? 1 + fz_rand(&seed) % 97 : size - at, room;
        if (rmq__conn_rbuf(&rm, c)) abort();
        room = c->rcap - c->rlen;
        if (piece > size - at) piece = size - at;
        if (piece > room) piece = room;
        memcpy(c->rbuf + c->rlen, data + at, piece);
        c->rlen += piece;
        at += piece;
        rmq__conn_parse(&rm, c);
    }
    out->frames = c->rx_frames;
    out->failed = c->state != RMQ__CONN_OPEN;
    out->skip = out->failed ? 0 : c->skip;
    out->left = out->failed ? 0 : c->rlen;
    if (c->rbuf) RMQ_FREE(rm.mem, c->rbuf);
    memset(c, 0, sizeof *c);
}

static void check_same_run(const run *a, const run *b)
{
    size_t i;
    if (a->frames != b->frames || a->failed != b->failed || a->nev != b->nev || a->skip != b->skip || a->left != b->left)
        fprintf(stderr, "frames %u/%u failed %d/%d requests %u/%u skip %u/%u left %u/%u\n",
                (unsigned)a->frames, (unsigned)b->frames, a->failed, b->failed, (unsigned)a->nev, (unsigned)b->nev,
                (unsigned)a->skip, (unsigned)b->skip, (unsigned)a->left, (unsigned)b->left);
    FZ_CHECK(a->frames == b->frames && a->failed == b->failed && a->nev == b->nev);
    FZ_CHECK(a->skip == b->skip && a->left == b->left);
    for (i = 0; i < a->nev; i++) FZ_CHECK(memcmp(&a->ev[i], &b->ev[i], sizeof a->ev[i]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 20) return 0;
    setup();
    check_one_frame(data, size);
    reference(data, size, &runs[0]);
    engine(data, size, 0, 0, &runs[1]);
    engine(data, size, fz_hash(data, size), 0, &runs[2]);
    check_same_run(&runs[0], &runs[1]);
    check_same_run(&runs[0], &runs[2]);
    if (size <= 8192) {
        engine(data, size, 0, 1, &runs[3]);
        check_same_run(&runs[0], &runs[3]);
    }
    return 0;
}
