/* fuzz_json - the library's JSON pull reader (rmq__jr_*), held to the
 * tests' tokenizer (tests/json_tokens.h: rmq__json_parse and what reads
 * its tokens, rmq__json_slice, rmq__json_unescape, rmq__json_get,
 * rmq__json_i64), which is held to a reference parser written here.
 *
 * The input is any bytes. Checked on every run:
 *   - the pull reader never crashes nor reads past the input; it takes what
 *     the tokenizer takes (with no token cap) and refuses what it refuses,
 *     for the same reason (EINVAL or EDEPTH); walking an accepted input
 *     with it meets the tokenizer's tokens in order, same kinds, same
 *     texts; rmq__jr_text gives the bytes rmq__json_slice gives;
 *   - the tokenizer never crashes nor reads past the input;
 *   - its verdict (token count, EINVAL, EDEPTH, ENOMEM) is the verdict of a
 *     small recursive reference parser written here for the same grammar
 *     (JSON plus fastjson's unquoted integer keys), under three token caps;
 *   - the tokens of an accepted input cover it: walking them in order meets
 *     every byte exactly once as a token, a quote, a bracket, a ',' or ':'
 *     between siblings, or whitespace; parent and next agree;
 *   - round trip: the tokens written back as compact JSON tokenize to the
 *     same tree with the same texts;
 *   - unescape(escape(unescape(s))) == unescape(s) for every string, and the
 *     in-place slice gives the same bytes;
 *   - rmq__json_get finds the first value of each plain key, and
 *     rmq__json_i64 agrees with a reference integer reader. */
#include "fuzz.h"
#include "../json_tokens.h"

/* -- the reference parser --------------------------------------------------- */
typedef struct ref {
    const char *s;
    int len, i, ntok, cap, depth;
} ref;

static int ref_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void ref_skip(ref *r)
{
    while (r->i < r->len && ref_ws((unsigned char)r->s[r->i])) r->i++;
}

static int ref_add(ref *r)
{
    if (r->ntok >= r->cap) return RMQ__JSON_ENOMEM;
    r->ntok++;
    return 0;
}

static int ref_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* At the opening quote; leaves i after the closing one. */
static int ref_string(ref *r)
{
    int i = r->i + 1;
    for (;;) {
        unsigned char c;
        if (i >= r->len) return RMQ__JSON_EINVAL;
        c = (unsigned char)r->s[i];
        if (c == '"') break;
        if (c < 0x20) return RMQ__JSON_EINVAL;
        if (c == '\\') {
            if (i + 1 >= r->len) return RMQ__JSON_EINVAL;
            c = (unsigned char)r->s[++i];
            if (c == 'u') {
                int k;
                for (k = 1; k <= 4; k++)
                    if (i + k >= r->len || !ref_hex((unsigned char)r->s[i + k])) return RMQ__JSON_EINVAL;
                i += 4;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return RMQ__JSON_EINVAL;
            }
        }
        i++;
    }
    r->i = i + 1;
    return ref_add(r);
}

static int ref_prim_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '+' || c == '.';
}

static int ref_primitive(ref *r, int as_key)
{
    int start = r->i, k;
    while (r->i < r->len && ref_prim_char((unsigned char)r->s[r->i])) r->i++;
    if (r->i == start) return RMQ__JSON_EINVAL;
    if (as_key) {
        k = start + (r->s[start] == '-');
        if (k == r->i) return RMQ__JSON_EINVAL;
        for (; k < r->i; k++) if (r->s[k] < '0' || r->s[k] > '9') return RMQ__JSON_EINVAL;
    }
    return ref_add(r);
}

static int ref_value(ref *r);

static int ref_object(ref *r)
{
    int e;
    ref_skip(r);
    if (r->i < r->len && r->s[r->i] == '}') { r->i++; return 0; }
    for (;;) {
        ref_skip(r);
        if (r->i >= r->len) return RMQ__JSON_EINVAL;
        e = r->s[r->i] == '"' ? ref_string(r) : ref_primitive(r, 1);
        if (e) return e;
        ref_skip(r);
        if (r->i >= r->len || r->s[r->i] != ':') return RMQ__JSON_EINVAL;
        r->i++;
        if ((e = ref_value(r)) != 0) return e;
        ref_skip(r);
        if (r->i >= r->len) return RMQ__JSON_EINVAL;
        if (r->s[r->i] == '}') { r->i++; return 0; }
        if (r->s[r->i] != ',') return RMQ__JSON_EINVAL;
        r->i++;
    }
}

static int ref_array(ref *r)
{
    int e;
    ref_skip(r);
    if (r->i < r->len && r->s[r->i] == ']') { r->i++; return 0; }
    for (;;) {
        if ((e = ref_value(r)) != 0) return e;
        ref_skip(r);
        if (r->i >= r->len) return RMQ__JSON_EINVAL;
        if (r->s[r->i] == ']') { r->i++; return 0; }
        if (r->s[r->i] != ',') return RMQ__JSON_EINVAL;
        r->i++;
    }
}

static int ref_value(ref *r)
{
    int e;
    char c;
    ref_skip(r);
    if (r->i >= r->len) return RMQ__JSON_EINVAL;
    c = r->s[r->i];
    if (c == '{' || c == '[') {
        if (++r->depth > RMQ_MAX_JSON_DEPTH) return RMQ__JSON_EDEPTH;
        if ((e = ref_add(r)) != 0) return e;
        r->i++;
        e = c == '{' ? ref_object(r) : ref_array(r);
        r->depth--;
        return e;
    }
    if (c == '"') return ref_string(r);
    return ref_primitive(r, 0);
}

static int ref_parse(const char *s, int len, int cap)
{
    ref r;
    int e;
    r.s = s; r.len = len; r.i = 0; r.ntok = 0; r.cap = cap; r.depth = 0;
    if ((e = ref_value(&r)) != 0) return e;
    ref_skip(&r);
    return r.i == r.len ? r.ntok : RMQ__JSON_EINVAL;
}

/* -- walking the tokens over the input -------------------------------------- */
typedef struct walk {
    const rmq__json *j;
    const char *s;
    int len, pos;
} walk;

static void walk_skip(walk *w)
{
    while (w->pos < w->len && ref_ws((unsigned char)w->s[w->pos])) w->pos++;
}

static void walk_expect(walk *w, char c)
{
    walk_skip(w);
    FZ_CHECK(w->pos < w->len && w->s[w->pos] == c);
    w->pos++;
}

/* Checks token t (child of parent) where the walk stands; returns the index
 * after its subtree. */
static int walk_token(walk *w, int t, int parent)
{
    const rmq__jtok *k;
    FZ_CHECK(t < w->j->n);
    k = &w->j->tok[t];
    walk_skip(w);
    FZ_CHECK(k->parent == parent);
    if (k->type == RMQ__JSON_STRING) {
        ref r;
        FZ_CHECK(w->pos < w->len && w->s[w->pos] == '"' && k->start == w->pos + 1);
        r.s = w->s; r.len = w->len; r.i = w->pos; r.ntok = 0; r.cap = 1; r.depth = 0;
        FZ_CHECK(ref_string(&r) == 0 && r.i == k->end + 1);
        FZ_CHECK(!k->escaped == !memchr(w->s + k->start, '\\', (size_t)(k->end - k->start)));
        FZ_CHECK(k->next == t + 1);
        w->pos = k->end + 1;
        return t + 1;
    }
    if (k->type == RMQ__JSON_PRIMITIVE) {
        int i;
        FZ_CHECK(k->start == w->pos && k->end > k->start && k->end <= w->len);
        for (i = k->start; i < k->end; i++) FZ_CHECK(ref_prim_char((unsigned char)w->s[i]));
        FZ_CHECK(k->end == w->len || !ref_prim_char((unsigned char)w->s[k->end]));
        FZ_CHECK(k->next == t + 1);
        w->pos = k->end;
        return t + 1;
    }
    FZ_CHECK(k->type == RMQ__JSON_OBJECT || k->type == RMQ__JSON_ARRAY);
    FZ_CHECK(k->start == w->pos && w->s[w->pos] == (k->type == RMQ__JSON_OBJECT ? '{' : '['));
    w->pos++;
    {
        int c = t + 1, count = 0;
        while (c < k->next) {
            if (count) walk_expect(w, ',');
            if (k->type == RMQ__JSON_OBJECT) {
                const rmq__jtok *key = &w->j->tok[c];
                FZ_CHECK(key->type == RMQ__JSON_STRING || key->type == RMQ__JSON_PRIMITIVE);
                c = walk_token(w, c, t);
                walk_expect(w, ':');
                FZ_CHECK(c < k->next);
            }
            c = walk_token(w, c, t);
            count++;
        }
        FZ_CHECK(c == k->next);
    }
    walk_expect(w, k->type == RMQ__JSON_OBJECT ? '}' : ']');
    FZ_CHECK(k->end == w->pos);
    return k->next;
}

/* -- writing the tokens back ---------------------------------------------- */
static void emit(rmq__buf *b, const rmq__json *j, const char *s, int t)
{
    const rmq__jtok *k = &j->tok[t];
    int c, count = 0;
    if (k->type == RMQ__JSON_STRING) {
        rmq__buf_putc(b, '"');
        rmq__buf_put(b, s + k->start, (size_t)(k->end - k->start));
        rmq__buf_putc(b, '"');
        return;
    }
    if (k->type == RMQ__JSON_PRIMITIVE) { rmq__buf_put(b, s + k->start, (size_t)(k->end - k->start)); return; }
    rmq__buf_putc(b, k->type == RMQ__JSON_OBJECT ? '{' : '[');
    for (c = t + 1; c < k->next; count++) {
        if (count) rmq__buf_putc(b, ',');
        if (k->type == RMQ__JSON_OBJECT) {
            emit(b, j, s, c);
            rmq__buf_putc(b, ':');
            c = j->tok[c].next;
        }
        emit(b, j, s, c);
        c = j->tok[c].next;
    }
    rmq__buf_putc(b, k->type == RMQ__JSON_OBJECT ? '}' : ']');
}

static int same_text(const rmq__json *a, const char *sa, int ta, const rmq__json *b, const char *sb, int tb)
{
    const rmq__jtok *x = &a->tok[ta], *y = &b->tok[tb];
    if (x->type != y->type || x->next - ta != y->next - tb) return 0;
    if (x->type == RMQ__JSON_OBJECT || x->type == RMQ__JSON_ARRAY) return 1;
    return x->end - x->start == y->end - y->start &&
           memcmp(sa + x->start, sb + y->start, (size_t)(x->end - x->start)) == 0;
}

/* -- strings and numbers --------------------------------------------------- */
static void check_string(const rmq__json *j, const char *s, int t)
{
    const rmq__jtok *k = &j->tok[t];
    size_t raw = (size_t)(k->end - k->start), n1, n2;
    char *u1 = (char *)malloc(raw + 1), *u2;
    rmq__buf esc;
    rmq__jtok tok[2];
    rmq__json again;
    n1 = rmq__json_unescape(s + k->start, raw, u1);
    FZ_CHECK(n1 <= raw);
    rmq__buf_init(&esc, NULL, 6 * n1 + 16);
    rmq__json_str(&esc, u1, n1);
    FZ_CHECK(!esc.failed);
    again.tok = tok; again.cap = 2;
    FZ_CHECK(rmq__json_parse(&again, (const char *)esc.p, esc.len) == 1 && tok[0].type == RMQ__JSON_STRING);
    u2 = (char *)malloc(esc.len + 1);
    n2 = rmq__json_unescape((const char *)esc.p + tok[0].start, (size_t)(tok[0].end - tok[0].start), u2);
    FZ_CHECK(n2 == n1 && memcmp(u1, u2, n1) == 0);
    free(u2);
    rmq__buf_free(&esc);
    free(u1);
}

/* Optional sign, digits, no overflow of int64: what rmq__parse_i64 accepts. */
static int ref_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;
    if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
    if (i == n) return -1;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (s[i] < '0' || s[i] > '9') return -1;
        if (v > UINT64_C(922337203685477580) || (v == UINT64_C(922337203685477580) && d > 7)) return -1;
        v = v * 10 + d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static void check_lookups(const rmq__json *j, const char *s)
{
    int t, i;
    for (t = 0; t < j->n; t++) {
        const rmq__jtok *k = &j->tok[t];
        int64_t a = 0, b = 0;
        if (k->type == RMQ__JSON_PRIMITIVE || k->type == RMQ__JSON_STRING) {
            int ra = rmq__json_i64(j, s, t, &a), rb = ref_i64(s + k->start, (size_t)(k->end - k->start), &b);
            FZ_CHECK((ra == 0) == (rb == 0));
            FZ_CHECK(ra != 0 || a == b);
        }
        if (k->type != RMQ__JSON_OBJECT) continue;
        for (i = t + 1; i < k->next; i = j->tok[i + 1].next) {
            const rmq__jtok *key = &j->tok[i];
            char name[64];
            size_t kl = (size_t)(key->end - key->start);
            int first, f;
            if (kl >= sizeof name || memchr(s + key->start, '\\', kl)) continue;
            memcpy(name, s + key->start, kl);
            name[kl] = 0;
            for (first = t + 1; first < k->next; first = j->tok[first + 1].next) {
                const rmq__jtok *q = &j->tok[first];
                if ((size_t)(q->end - q->start) == kl && memcmp(s + q->start, name, kl) == 0) break;
            }
            f = rmq__json_get(j, s, t, name);
            FZ_CHECK(f == first + 1);
        }
    }
}

/* -- the target -------------------------------------------------------------- */
static rmq__json tokens(int cap)
{
    rmq__json j;
    j.tok = (rmq__jtok *)malloc((size_t)cap * sizeof *j.tok);
    j.cap = cap;
    j.n = 0;
    return j;
}

/* The pull reader over s (its own copy) against the tokens of the
 * tokenizer (n: its verdict, with a token for every byte). */
static void check_pull(const uint8_t *data, size_t size, const rmq__json *j, int n)
{
    char *copy = (char *)fz_dup(data, size), *texts = (char *)fz_dup(data, size);
    rmq__jr r;
    rmq_slice v;
    int t, k = 0;
    rmq__jr_init(&r, copy, size);
    if (n < 0) {
        FZ_CHECK(rmq__jr_skip(&r) != 0 || rmq__jr_end(&r) != 0);
        FZ_CHECK(r.err == (n == RMQ__JSON_EDEPTH ? RMQ__JR_EDEPTH : RMQ__JR_EINVAL));
        free(copy);
        free(texts);
        return;
    }
    t = rmq__jr_value(&r, &v);
    for (;;) {
        const rmq__jtok *tk;
        static const int kinds[5] = { 0, RMQ__JR_OBJECT, RMQ__JR_ARRAY, RMQ__JR_STRING, RMQ__JR_PRIM };
        FZ_CHECK(t > 0 && k < n);
        tk = &j->tok[k];
        FZ_CHECK(kinds[tk->type] == t);
        if (t >= RMQ__JR_OBJECT) {
            FZ_CHECK(r.at - 1 == (size_t)tk->start);
        } else {
            FZ_CHECK(v.ptr - copy == tk->start && v.len == (size_t)(tk->end - tk->start));
            if (t == RMQ__JR_STRING) {
                rmq_slice a = rmq__jr_text(&r, v), b = rmq__json_slice((rmq__json *)(uintptr_t)j, texts, k);
                FZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
            }
        }
        k++;
        t = 0;
        while (r.depth > 0 && t == 0) {
            t = rmq__jr_next(&r, &v);
            FZ_CHECK(t >= 0);
            if (t > 0 && !(r.arrays[(r.depth - 1) / 8] >> ((r.depth - 1) % 8) & 1)) {
                /* the key: a token of its own */
                const rmq__jtok *kt = &j->tok[k];
                FZ_CHECK(k < n && v.ptr - copy == kt->start && v.len == (size_t)(kt->end - kt->start));
                if (kt->type == RMQ__JSON_STRING) {
                    rmq_slice a = rmq__jr_text(&r, v), b = rmq__json_slice((rmq__json *)(uintptr_t)j, texts, k);
                    FZ_CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
                }
                k++;
            }
        }
        if (t == 0) break;
        t = rmq__jr_value(&r, &v);
    }
    FZ_CHECK(k == n && rmq__jr_end(&r) == 0);
    free(copy);
    free(texts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int caps[3] = { RMQ_MAX_JSON_TOKENS, 8, 1 };
    char *s;
    rmq__json j;
    int n, c, t;
    if (size > 1u << 20) return 0;
    s = (char *)fz_dup(data, size);
    j = tokens(RMQ_MAX_JSON_TOKENS);
    for (c = 2; c >= 0; c--) {
        rmq__json capped = tokens(caps[c]);
        int got = rmq__json_parse(&capped, s, size), want = ref_parse(s, (int)size, caps[c]);
        if (got != want) {
            fprintf(stderr, "cap %d: tokenizer %d, reference %d\n", caps[c], got, want);
            FZ_CHECK(got == want);
        }
        free(capped.tok);
    }
    {
        rmq__json all = tokens((int)size + 1);
        check_pull(data, size, &all, rmq__json_parse(&all, s, size));
        free(all.tok);
    }
    n = rmq__json_parse(&j, s, size);
    if (n > 0) {
        walk w;
        rmq__buf out;
        rmq__json back = tokens(RMQ_MAX_JSON_TOKENS);
        char *copy;
        w.j = &j; w.s = s; w.len = (int)size; w.pos = 0;
        FZ_CHECK(walk_token(&w, 0, -1) == n);
        walk_skip(&w);
        FZ_CHECK(w.pos == (int)size);
        FZ_CHECK(j.tok[0].next == n);

        rmq__buf_init(&out, NULL, size + 16);
        emit(&out, &j, s, 0);
        FZ_CHECK(!out.failed && out.len <= size);
        FZ_CHECK(rmq__json_parse(&back, (const char *)out.p, out.len) == n);
        for (t = 0; t < n; t++) FZ_CHECK(same_text(&j, s, t, &back, (const char *)out.p, t));
        rmq__buf_free(&out);
        free(back.tok);

        check_lookups(&j, s);
        copy = (char *)fz_dup(data, size);
        for (t = 0; t < n; t++) {
            if (j.tok[t].type != RMQ__JSON_STRING) continue;
            check_string(&j, s, t);
            {
                size_t raw = (size_t)(j.tok[t].end - j.tok[t].start);
                char *u = (char *)malloc(raw + 1);
                size_t un = rmq__json_unescape(s + j.tok[t].start, raw, u);
                rmq_slice sl = rmq__json_slice(&j, copy, t);
                FZ_CHECK(sl.len == un && memcmp(sl.ptr, u, un) == 0);
                FZ_CHECK(j.tok[t].escaped == 0 && j.tok[t].end - j.tok[t].start == (int32_t)un);
                free(u);
            }
        }
        free(copy);
    }
    free(j.tok);
    free(s);
    return 0;
}
