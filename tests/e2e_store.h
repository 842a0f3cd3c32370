/* e2e_store.h - what the mock cluster stored and saw, read back through its
 * control port for the end-to-end tests: DUMP lines indexed by UNIQ_KEY,
 * fields of one line, and the REQUESTS / CLIENTS logs.
 *
 * A DUMP line is one JSON object; the few readers here walk it by its
 * structure (never by a bare substring search), so that a property value
 * holding text like "topic" cannot be mistaken for a top-level field. */
#ifndef E2E_STORE_H
#define E2E_STORE_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mockbroker/mock_client.h"

/* -- a small JSON walker over one DUMP line -------------------------------- */
static int e2e__hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads the JSON string that opens at p into out (cap bytes, may be NULL);
 * returns the byte after its closing quote, or NULL. A \u escape above
 * 0x7F becomes '?': the tests only send ASCII text. */
static const char *e2e__json_str(const char *p, char *out, size_t cap)
{
    size_t n = 0;
    if (*p != '"') return NULL;
    for (p++; *p && *p != '"'; p++) {
        char c = *p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                int k;
                for (k = 1; k <= 4; k++) {
                    int d = e2e__hexval(p[k]);
                    if (d < 0) return NULL;
                    v = v * 16u + (unsigned)d;
                }
                p += 4;
                c = v < 0x80u ? (char)v : '?';
                break;
            }
            case '\0': return NULL;
            default: c = *p; break;              /* \" \\ \/ */
            }
        }
        if (out && n + 1 < cap) out[n++] = c;
    }
    if (*p != '"') return NULL;
    if (out && cap) out[n] = '\0';
    return p + 1;
}

/* Skips one JSON value: a string, an object, an array or a bare word. */
static const char *e2e__json_skip(const char *p)
{
    if (*p == '"') return e2e__json_str(p, NULL, 0);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p++;
        while (p && *p && *p != close) {
            const char *next;
            if (*p == ',' || *p == ':' || *p == ' ') { p++; continue; }
            next = e2e__json_skip(p);
            p = next == p ? NULL : next;          /* a stray ']' or '}': malformed */
        }
        return p && *p ? p + 1 : NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']') p++;
    return p;
}

/* The value of key in the object that opens at obj, or NULL. */
static const char *e2e__json_get(const char *obj, const char *key)
{
    char k[128];
    const char *p = obj;
    if (!p || *p != '{') return NULL;
    p++;
    while (p && *p && *p != '}') {
        if (*p == ',' || *p == ' ') { p++; continue; }
        p = e2e__json_str(p, k, sizeof k);
        if (!p || *p != ':') return NULL;
        p++;
        if (strcmp(k, key) == 0) return p;
        {
            const char *next = e2e__json_skip(p);
            p = next == p ? NULL : next;
        }
    }
    return NULL;
}

/* A string field of a JSON object: 0 (copied into out), 1 for null (out
 * empty), -1 when absent or not a string. */
static int e2e_str(const char *obj, const char *key, char *out, size_t cap)
{
    const char *v = e2e__json_get(obj, key);
    if (cap) out[0] = '\0';
    if (!v) return -1;
    if (strncmp(v, "null", 4) == 0) return 1;
    return e2e__json_str(v, out, cap) ? 0 : -1;
}

/* A number field of a JSON object, or LLONG_MIN when absent. */
static long long e2e_num(const char *obj, const char *key)
{
    const char *v = e2e__json_get(obj, key);
    char *end;
    long long n;
    if (!v) return LLONG_MIN;
    n = strtoll(v, &end, 10);
    return end == v ? LLONG_MIN : n;
}

/* A message property as the client sent it (the line's "properties"). */
static int e2e_prop(const char *line, const char *key, char *out, size_t cap)
{
    const char *props = e2e__json_get(line, "properties");
    if (cap) out[0] = '\0';
    return props ? e2e_str(props, key, out, cap) : -1;
}

/* Bytes as the uppercase hex the mock writes in bodyHex. */
static void e2e_hex(const void *data, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    const unsigned char *b = (const unsigned char *)data;
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* -- one DUMP, indexed by UNIQ_KEY ----------------------------------------- */
typedef struct e2e_stored {
    const char *line;       /* the whole DUMP line */
    char uniq[64];          /* its uniqKey, "" when null */
} e2e_stored;

typedef struct e2e_store {
    char *text;             /* the DUMP reply, lines cut in place */
    e2e_stored *v;          /* sorted by uniq */
    size_t n;
} e2e_store;

static void e2e_store_free(e2e_store *st)
{
    free(st->text);
    free(st->v);
    memset(st, 0, sizeof *st);
}

static int e2e__by_uniq(const void *a, const void *b)
{
    return strcmp(((const e2e_stored *)a)->uniq, ((const e2e_stored *)b)->uniq);
}

/* The DUMP text of topic (NULL: all) into a buffer big enough for it (at
 * least min_cap: the caller knows of big bodies): a reply cut short by the
 * buffer does not end with '}'. */
static char *e2e__dump_text(mock_cluster *m, const char *topic, size_t min_cap)
{
    long count = mock_count(m, topic);
    size_t cap = ((size_t)(count > 0 ? count : 0) + 16) * 2048 + min_cap;
    for (;;) {
        char *text = (char *)malloc(cap);
        size_t len;
        if (!text) return NULL;
        if (mock_dump(m, topic, text, cap) != 0) { free(text); return NULL; }
        len = strlen(text);
        while (len && text[len - 1] == '\n') len--;
        if (len + 4 < cap && (len == 0 || text[len - 1] == '}')) return text;
        free(text);
        cap *= 2;
    }
}

/* Loads what the mock stored for topic (NULL: everything), bodies of
 * body_bytes in all expected; 0 on success. */
static int e2e_store_load(mock_cluster *m, const char *topic, size_t body_bytes, e2e_store *st)
{
    char *p;
    size_t lines = 0;
    e2e_store_free(st);
    st->text = e2e__dump_text(m, topic, 2 * body_bytes);
    if (!st->text) return -1;
    for (p = st->text; *p; p++) lines += *p == '\n';
    st->v = (e2e_stored *)calloc(lines + 1, sizeof *st->v);
    if (!st->v) return -1;
    for (p = st->text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        if (*p == '{') {
            st->v[st->n].line = p;
            e2e_str(p, "uniqKey", st->v[st->n].uniq, sizeof st->v[st->n].uniq);
            st->n++;
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    qsort(st->v, st->n, sizeof *st->v, e2e__by_uniq);
    return 0;
}

/* The copies stored under UNIQ_KEY uniq: the first one's line (NULL when
 * none) and their number in *count. */
static size_t e2e__first(const e2e_store *st, const char *uniq)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(st->v[mid].uniq, uniq) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static const char *e2e_store_find(const e2e_store *st, const char *uniq, size_t *count)
{
    size_t lo = e2e__first(st, uniq), i;
    *count = 0;
    for (i = lo; i < st->n && strcmp(st->v[i].uniq, uniq) == 0; i++) (*count)++;
    return *count ? st->v[lo].line : NULL;
}

/* Of the copies stored under UNIQ_KEY uniq, the one whose string field key
 * equals value (a retried message may be stored on two brokers), or NULL. */
static const char *e2e_store_find_copy(const e2e_store *st, const char *uniq, const char *key, const char *value)
{
    size_t i;
    char v[512];
    for (i = e2e__first(st, uniq); i < st->n && strcmp(st->v[i].uniq, uniq) == 0; i++)
        if (e2e_str(st->v[i].line, key, v, sizeof v) == 0 && strcmp(v, value) == 0) return st->v[i].line;
    return NULL;
}

/* The first stored message whose string field key equals value, and the
 * number of such messages in *count. */
static const char *e2e_store_find_field(const e2e_store *st, const char *key, const char *value, size_t *count)
{
    const char *first = NULL;
    char v[512];
    size_t i;
    *count = 0;
    for (i = 0; i < st->n; i++) {
        if (e2e_str(st->v[i].line, key, v, sizeof v) != 0 || strcmp(v, value) != 0) continue;
        if (!first) first = st->v[i].line;
        (*count)++;
    }
    return first;
}

/* -- REQUESTS and CLIENTS lines -------------------------------------------- */
static int e2e__line_has(const char *line, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;
    if (n > len) return 0;
    for (i = 0; i + n <= len; i++) if (memcmp(line + i, needle, n) == 0) return 1;
    return 0;
}

/* Index of the first line of text holding a and b (b may be NULL), or -1;
 * with count set, the number of such lines instead. */
static int e2e__lines(const char *text, const char *a, const char *b, int count)
{
    int index = 0, hits = 0;
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        if (e2e__line_has(text, len, a) && (!b || e2e__line_has(text, len, b))) {
            if (!count) return index;
            hits++;
        }
        index++;
        text += len + (nl ? 1 : 0);
    }
    return count ? hits : -1;
}

static int e2e_line_index(const char *text, const char *a, const char *b) { return e2e__lines(text, a, b, 0); }
static int e2e_line_count(const char *text, const char *a, const char *b) { return e2e__lines(text, a, b, 1); }

#endif /* E2E_STORE_H */
