/* mb_json.c - recursive-descent JSON reader and fastjson-style string writer. */
#include "mb_json.h"

#include <stdlib.h>
#include <string.h>

#define MJ_MAX_DEPTH 64

/* Nodes and decoded strings live in chunks freed together by mj_free. */
struct mj_chunk {
    struct mj_chunk *next;
    size_t used, cap;
    /* data follows, aligned like a pointer */
};

#define MJ_CHUNK 4096
/* One spare standard chunk: every request header is parsed, so reusing it
 * saves a malloc/free pair per frame. */
static struct mj_chunk *spare_chunk;

typedef struct parser {
    mj_doc *doc;
    const char *s;
    size_t len, pos;
    int flags;
    int depth;
} parser;

static void *arena_alloc(mj_doc *d, size_t n)
{
    struct mj_chunk *c = d->chunks;
    size_t head = (sizeof(struct mj_chunk) + 15) & ~(size_t)15;
    n = (n + 15) & ~(size_t)15;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > MJ_CHUNK ? n : MJ_CHUNK;
        if (cap == MJ_CHUNK && spare_chunk) {
            c = spare_chunk;
            spare_chunk = NULL;
        } else {
            c = mb_xmalloc(head + cap);
        }
        c->cap = cap;
        c->used = 0;
        c->next = d->chunks;
        d->chunks = c;
    }
    c->used += n;
    return (char *)c + head + c->used - n;
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
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
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

/* Reads \uXXXX (already past the backslash-u), joining surrogate pairs. */
static int read_unicode(parser *p, unsigned *cp)
{
    unsigned hi = 0, lo = 0;
    if (p->pos + 4 > p->len || hex4(p->s + p->pos, &hi) < 0)
        return fail(p, "bad \\u escape");
    p->pos += 4;
    if (hi >= 0xD800 && hi <= 0xDBFF && p->pos + 6 <= p->len && p->s[p->pos] == '\\' &&
        p->s[p->pos + 1] == 'u' && hex4(p->s + p->pos + 2, &lo) == 0 && lo >= 0xDC00 &&
        lo <= 0xDFFF) {
        p->pos += 6;
        *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    } else {
        *cp = hi;
    }
    return 0;
}

static int read_escape(parser *p, char *out, size_t *o)
{
    char c;
    unsigned cp = 0;
    if (p->pos >= p->len)
        return fail(p, "unterminated string");
    c = p->s[p->pos++];
    switch (c) {
    case '"': case '\\': case '/': out[(*o)++] = c; return 0;
    case 'b': out[(*o)++] = '\b'; return 0;
    case 'f': out[(*o)++] = '\f'; return 0;
    case 'n': out[(*o)++] = '\n'; return 0;
    case 'r': out[(*o)++] = '\r'; return 0;
    case 't': out[(*o)++] = '\t'; return 0;
    case 'u':
        if (read_unicode(p, &cp) < 0)
            return -1;
        *o += put_utf8(out + *o, cp);
        return 0;
    default:
        return fail(p, "bad escape");
    }
}

/* Decoded text is never longer than its escaped form, so one allocation of
 * the raw span is enough; spans without escapes are copied in one go. */
static int parse_string(parser *p, const char **out, size_t *out_len)
{
    size_t start = ++p->pos, end = start, o = 0;
    int escaped = 0;
    char *buf;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\') {
            escaped = 1;
            end++;
        }
        end++;
    }
    if (end >= p->len)
        return fail(p, "unterminated string");
    buf = arena_alloc(p->doc, end - start + 1);
    if (!escaped) {
        memcpy(buf, p->s + start, end - start);
        o = end - start;
    }
    while (escaped && p->pos < end) {
        char c = p->s[p->pos++];
        if (c != '\\')
            buf[o++] = c;
        else if (read_escape(p, buf, &o) < 0)
            return -1;
    }
    p->pos = end + 1;
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
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

static int parse_literal(parser *p, mj_node *n, const char *word, mj_type type)
{
    size_t wl = strlen(word);
    if (p->len - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0)
        return fail(p, "unexpected character");
    n->type = type;
    n->str = word;
    n->len = wl;
    p->pos += wl;
    return 0;
}

static int parse_number(parser *p, mj_node *n)
{
    size_t start = p->pos;
    char *t;
    if (p->s[p->pos] == '-')
        p->pos++;
    while (p->pos < p->len && p->s[p->pos] && strchr("0123456789.eE+-", p->s[p->pos]))
        p->pos++;
    if (p->pos == start || (p->pos == start + 1 && p->s[start] == '-'))
        return fail(p, "bad number");
    t = arena_alloc(p->doc, p->pos - start + 1);
    memcpy(t, p->s + start, p->pos - start);
    t[p->pos - start] = '\0';
    n->type = MJ_NUM;
    n->str = t;
    n->len = p->pos - start;
    return 0;
}

static int parse_value(parser *p, mj_node *n)
{
    char c;
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, "unexpected end");
    c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, n, '}');
    case '[': return parse_container(p, n, ']');
    case '"': n->type = MJ_STR; return parse_string(p, &n->str, &n->len);
    case 't': return parse_literal(p, n, "true", MJ_BOOL);
    case 'f': return parse_literal(p, n, "false", MJ_BOOL);
    case 'n': return parse_literal(p, n, "null", MJ_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, n);
        return fail(p, "unexpected character");
    }
}

int mj_parse(mj_doc *d, const char *text, size_t len, int flags)
{
    parser p;
    memset(d, 0, sizeof *d);
    p.doc = d;
    p.s = text;
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

void mj_free(mj_doc *d)
{
    struct mj_chunk *c = d->chunks;
    while (c) {
        struct mj_chunk *next = c->next;
        if (c->cap == MJ_CHUNK && !spare_chunk)
            spare_chunk = c;
        else
            free(c);
        c = next;
    }
    d->chunks = NULL;
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

/* Escapes what JSON requires; a byte that is not UTF-8 becomes U+FFFD, as a
 * Java String built from those bytes would, so the output stays valid. */
void mj_put_str(mb_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    mb_buf_reserve(b, n + 2);
    mb_buf_putc(b, '"');
    while (i < n) {
        unsigned char c = u[i];
        const char *esc = NULL;
        char x[7];
        size_t len = c >= 0x80 ? utf8_len(u + i, n - i) : 1;
        if (len > 1 || (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')) {
            i += len;
            continue;
        }
        mb_buf_put(b, s + run, i - run); /* flush the plain run before c */
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (c >= 0x80) {
                esc = "\xEF\xBF\xBD";
                break;
            }
            x[0] = '\\'; x[1] = 'u'; x[2] = '0'; x[3] = '0';
            x[4] = hex[c >> 4]; x[5] = hex[c & 15]; x[6] = '\0';
            esc = x;
        }
        mb_buf_puts(b, esc);
        run = ++i;
    }
    mb_buf_put(b, s + run, n - run);
    mb_buf_putc(b, '"');
}
