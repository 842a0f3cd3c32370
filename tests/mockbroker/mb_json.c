/* mb_json.c - recursive-descent JSON reader and fastjson-style string writer. */
#include "mb_json.h"

#include <stdlib.h>
#include <string.h>

#define MJ_MAX_DEPTH 64

typedef struct parser {
    mj_doc *doc;
    char *s; /* the doc's own copy of the text: strings are decoded in place */
    size_t len, pos;
    int flags;
    int depth;
} parser;

static void *arena_alloc(mj_doc *d, size_t n)
{
    return mb_arena_alloc(d->arena, n);
}

static int fail(parser *p, const char *why)
{
    if (!p->doc->err) {
        p->doc->err = why;
        p->doc->err_pos = p->pos;
    }
    return -1;
}

static void skip_ws(parser *p)
{
    size_t pos = p->pos, len = p->len;
    const char *s = p->s;
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
        pos++;
    p->pos = pos;
}


static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int d = mb_hex_digit(s[i]);
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bytes in memory order, first byte lowest, whatever the machine's order. */
static uint64_t load_le64(const char *q)
{
    const unsigned char *u = (const unsigned char *)q;
    return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 | (uint64_t)u[3] << 24 |
           (uint64_t)u[4] << 32 | (uint64_t)u[5] << 40 | (uint64_t)u[6] << 48 | (uint64_t)u[7] << 56;
}

/* Index of the lowest byte whose top bit is set in m (m != 0). */
static size_t first_marked_byte(uint64_t m)
{
#if defined(__GNUC__)
    return (size_t)__builtin_ctzll(m) / 8;
#else
    size_t i = 0;
    while (!(m & 0x80)) {
        m >>= 8;
        i++;
    }
    return i;
#endif
}

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* The top bit of each byte of w equal to c. The lowest mark is exact;
 * stray marks only appear above a true one. */
static uint64_t bytes_equal(uint64_t w, unsigned char c)
{
    uint64_t a = w ^ (ONES * c);
    return (a - ONES) & ~a & HIGHS;
}

/* ---- tokens: the tree parser and the quick reader share these ---- */

/* The first '"' or '\\' in [q, end), or end; eight bytes a step while
 * there are eight. */
static inline char *scan_plain(char *q, char *end)
{
    while (end - q >= 8) {
        uint64_t w = load_le64(q), m = bytes_equal(w, '"') | bytes_equal(w, '\\');
        if (m)
            return q + first_marked_byte(m);
        q += 8;
    }
    while (q < end && *q != '"' && *q != '\\')
        q++;
    return q;
}

/* The escape whose backslash is at q, decoded to *o (which advances);
 * \uXXXX joins surrogate pairs. Returns the byte after it, NULL if bad. */
static char *decode_escape(char *q, char *end, char **o)
{
    unsigned hi, lo;
    if (end - q < 2)
        return NULL;
    switch (q[1]) {
    case '"': case '\\': case '/': *(*o)++ = q[1]; return q + 2;
    case 'b': *(*o)++ = '\b'; return q + 2;
    case 'f': *(*o)++ = '\f'; return q + 2;
    case 'n': *(*o)++ = '\n'; return q + 2;
    case 'r': *(*o)++ = '\r'; return q + 2;
    case 't': *(*o)++ = '\t'; return q + 2;
    case 'u':
        if (end - q < 6 || hex4(q + 2, &hi) < 0)
            return NULL;
        q += 6;
        if (hi >= 0xD800 && hi <= 0xDBFF && end - q >= 6 && q[0] == '\\' && q[1] == 'u' && hex4(q + 2, &lo) == 0 &&
            lo >= 0xDC00 && lo <= 0xDFFF) {
            hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            q += 6;
        }
        *o += put_utf8(*o, hi);
        return q;
    default:
        return NULL;
    }
}

/* The rest of a string from its first backslash at q: text between
 * escapes moves a run at a time. */
static MB_NOINLINE char *string_escaped(char *start, char *q, char *end, const char **out, size_t *out_len)
{
    char *o = q;
    while (q < end && *q == '\\') {
        char *run;
        if (!(q = decode_escape(q, end, &o)))
            return NULL;
        run = scan_plain(q, end);
        memmove(o, q, (size_t)(run - q));
        o += run - q;
        q = run;
    }
    if (q >= end)
        return NULL;
    *o = '\0';
    *out = start;
    *out_len = (size_t)(o - start);
    return q + 1;
}

/* q is at the opening quote. Decoded in place and NUL-terminated where
 * the closing quote was (the decoded text is never longer than its
 * escaped form); returns the byte after the closing quote, NULL if the
 * string is unterminated or has a bad escape. */
static inline char *scan_string(char *q, char *end, const char **out, size_t *len)
{
    char *close;
    if (q >= end || *q++ != '"')
        return NULL;
    close = scan_plain(q, end);
    if (close == end || *close != '"')
        return string_escaped(q, close, end, out, len);
    *close = '\0';
    *out = q;
    *len = (size_t)(close - q);
    return close + 1;
}

static int number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
}

/* A string, number, true, false or null at q into n (a number's text is
 * copied into the arena); returns the byte after it, NULL if none. */
static inline char *scan_scalar(mb_arena *arena, char *q, char *end, mj_node *n)
{
    static const char *const words[3] = {"true", "false", "null"};
    static const mj_type types[3] = {MJ_BOOL, MJ_BOOL, MJ_NULL};
    char *start = q;
    int i;
    if (q >= end)
        return NULL;
    if (*q == '"') {
        n->type = MJ_STR;
        return scan_string(q, end, &n->str, &n->len);
    }
    if (*q == '-' || (*q >= '0' && *q <= '9')) {
        q += *q == '-';
        while (q < end && number_char(*q))
            q++;
        if (q == start + 1 && *start == '-')
            return NULL;
        n->type = MJ_NUM;
        n->len = (size_t)(q - start);
        n->str = mb_arena_strndup(arena, start, n->len);
        return q;
    }
    for (i = 0; i < 3; i++) {
        size_t wl = strlen(words[i]);
        if ((size_t)(end - q) >= wl && memcmp(q, words[i], wl) == 0) {
            n->type = types[i];
            n->str = words[i];
            n->len = wl;
            return q + wl;
        }
    }
    return NULL;
}

/* ---- the tree parser ---- */

static int parse_string(parser *p, const char **out, size_t *out_len)
{
    char *next = scan_string(p->s + p->pos, p->s + p->len, out, out_len);
    if (!next)
        return fail(p, "unterminated string or bad escape");
    p->pos = (size_t)(next - p->s);
    return 0;
}

static int is_bare_key_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c == '$' || c == '-';
}

static int parse_key(parser *p, mj_node *n)
{
    size_t start = p->pos;
    char *k;
    if (p->pos < p->len && p->s[p->pos] == '"')
        return parse_string(p, &n->key, &n->key_len);
    if (!(p->flags & MJ_LENIENT_KEYS))
        return fail(p, "expected quoted key");
    while (p->pos < p->len && is_bare_key_char(p->s[p->pos]))
        p->pos++;
    if (p->pos == start)
        return fail(p, "expected key");
    k = arena_alloc(p->doc, p->pos - start + 1);
    memcpy(k, p->s + start, p->pos - start);
    k[p->pos - start] = '\0';
    n->key = k;
    n->key_len = p->pos - start;
    return 0;
}

static int parse_value(parser *p, mj_node *n);

static mj_node *new_node(parser *p)
{
    mj_node *n = arena_alloc(p->doc, sizeof *n);
    memset(n, 0, sizeof *n);
    return n;
}

/* Shared loop for arrays and objects: items separated by commas. */
static int parse_container(parser *p, mj_node *n, char close)
{
    mj_node **tail = &n->child;
    n->type = close == '}' ? MJ_OBJ : MJ_ARR;
    if (++p->depth > MJ_MAX_DEPTH)
        return fail(p, "nesting too deep");
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 0;
    }
    for (;;) {
        mj_node *item = new_node(p);
        skip_ws(p);
        if (n->type == MJ_OBJ) {
            if (parse_key(p, item) < 0)
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, "expected ':'");
            p->pos++;
        }
        if (parse_value(p, item) < 0)
            return -1;
        *tail = item;
        tail = &item->next;
        n->count++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            p->depth--;
            return 0;
        }
        return fail(p, "expected ',' or end of container");
    }
}

static int parse_value(parser *p, mj_node *n)
{
    char *next;
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "unexpected end");
    if (p->s[p->pos] == '{')
        return parse_container(p, n, '}');
    if (p->s[p->pos] == '[')
        return parse_container(p, n, ']');
    next = scan_scalar(p->doc->arena, p->s + p->pos, p->s + p->len, n);
    if (!next)
        return fail(p, "unexpected character");
    p->pos = (size_t)(next - p->s);
    return 0;
}

int mj_parse_in(mj_doc *d, mb_arena *arena, const char *text, size_t len, int flags)
{
    parser p;
    memset(d, 0, sizeof *d);
    d->arena = arena ? arena : &d->own;
    p.doc = d;
    p.s = mb_arena_strndup(d->arena, text, len);
    p.len = len;
    p.pos = 0;
    p.flags = flags;
    p.depth = 0;
    d->root = new_node(&p);
    if (parse_value(&p, d->root) < 0)
        return -1;
    skip_ws(&p);
    if (p.pos != len)
        return fail(&p, "trailing characters");
    return 0;
}

int mj_parse(mj_doc *d, const char *text, size_t len, int flags)
{
    return mj_parse_in(d, NULL, text, len, flags);
}

void mj_free(mj_doc *d)
{
    mb_arena_free(&d->own);
    d->root = NULL;
}

const mj_node *mj_get(const mj_node *obj, const char *key)
{
    const mj_node *n, *found = NULL;
    size_t kl = strlen(key);
    if (!obj || obj->type != MJ_OBJ)
        return NULL;
    for (n = obj->child; n; n = n->next)
        if (n->key_len == kl && memcmp(n->key, key, kl) == 0)
            found = n;
    return found;
}

const char *mj_get_str(const mj_node *obj, const char *key)
{
    const mj_node *n = mj_get(obj, key);
    return (n && n->type == MJ_STR) ? n->str : NULL;
}

int mj_node_i64(const mj_node *n, int64_t *out)
{
    if (!n || (n->type != MJ_NUM && n->type != MJ_STR))
        return -1;
    return mb_parse_i64(n->str, out);
}

int mj_get_i64(const mj_node *obj, const char *key, int64_t *out)
{
    return mj_node_i64(mj_get(obj, key), out);
}

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0; /* overlong */
    else if (c == 0xED)
        hi = 0x9F; /* surrogates */
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Nonzero when a byte of w is below c (c <= 0x80). */
static uint64_t bytes_below(uint64_t w, unsigned char c)
{
    return (w - ONES * c) & ~w & HIGHS;
}

/* Printable ASCII that JSON takes as it is, as a table: the test runs for
 * every byte of every string a response carries. */
static const unsigned char *plain_table(void)
{
    static unsigned char t[256];
    static int ready;
    int c;
    if (!ready) {
        for (c = 0x20; c < 0x80; c++)
            t[c] = c != '"' && c != '\\';
        ready = 1;
    }
    return t;
}

/* Escapes what JSON requires; a byte that is not UTF-8 becomes U+FFFD, as a
 * Java String built from those bytes would, so the output stays valid. */
unsigned char *mj_write_str(unsigned char *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s, *plain = plain_table();
    size_t i = 0;
    *o++ = '"';
    for (;;) {
        unsigned char c;
        size_t len;
        while (n - i >= 8) { /* eight plain bytes a step */
            uint64_t w = load_le64(s + i);
            if ((w & HIGHS) | bytes_below(w, 0x20) | bytes_equal(w, '"') | bytes_equal(w, '\\'))
                break;
            memcpy(o, s + i, 8);
            o += 8;
            i += 8;
        }
        while (i < n && plain[u[i]]) /* copied as they are checked: the tail is short */
            *o++ = u[i++];
        if (i < n && u[i] >= 0x80 && (len = utf8_len(u + i, n - i)) > 1) {
            memcpy(o, u + i, len);
            o += len;
            i += len;
            continue;
        }
        if (i == n)
            break;
        c = u[i++];
        if (c >= 0x80) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\t': *o++ = 't'; break;
        case '\n': *o++ = 'n'; break;
        case '\f': *o++ = 'f'; break;
        case '\r': *o++ = 'r'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = (unsigned char)hex[c >> 4];
            *o++ = (unsigned char)hex[c & 15];
        }
    }
    *o++ = '"';
    return o;
}

void mj_put_str(mb_buf *b, const char *s, size_t n)
{
    mb_buf_reserve(b, MJ_STR_MAX(n));
    b->len = (size_t)(mj_write_str(b->p + b->len, s, n) - b->p);
    b->p[b->len] = '\0';
}

typedef struct flat {
    mb_arena *arena;
    char *end;
    mj_node *out;
    size_t n, max;
} flat;

/* The object whose '{' is at q; returns the byte after its '}'. */
static char *flat_object(flat *f, char *q, int depth)
{
    char *end = f->end;
    if (++q < end && *q == '}')
        return q + 1;
    for (;;) {
        mj_node *n;
        if (f->n == f->max)
            return NULL;
        n = &f->out[f->n++];
        n->child = n->next = NULL;
        n->count = 0;
        if (!(q = scan_string(q, end, &n->key, &n->key_len)) || q >= end || *q++ != ':' || q >= end)
            return NULL;
        if (*q == '{') {
            size_t first = f->n;
            n->type = MJ_OBJ;
            n->str = NULL;
            n->len = 0;
            if (depth > 1 || !(q = flat_object(f, q, depth + 1)))
                return NULL;
            n->count = f->n - first;
        } else if (!(q = scan_scalar(f->arena, q, end, n))) {
            return NULL;
        }
        if (q >= end)
            return NULL;
        if (*q == '}')
            return q + 1;
        if (*q++ != ',')
            return NULL;
    }
}

int mj_quick_flat(mb_arena *arena, char *text, size_t len, mj_node *out, size_t max)
{
    flat f;
    f.arena = arena;
    f.end = text + len;
    f.out = out;
    f.n = 0;
    f.max = max;
    if (len == 0 || *text != '{' || flat_object(&f, text, 1) != f.end)
        return -1;
    return (int)f.n;
}
