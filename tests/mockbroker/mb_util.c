/* mb_util.c - buffers, byte order, map, clock and CRC helpers. */
#include "mb_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *mb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("mockbroker: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *mb_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("mockbroker: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *mb_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("mockbroker: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *mb_xstrndup(const char *s, size_t n)
{
    char *d = mb_xmalloc(n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *mb_xstrdup(const char *s)
{
    return mb_xstrndup(s, strlen(s));
}

/* ---- buffers ---- */

void mb_buf_free(mb_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void mb_buf_reserve(mb_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1; /* +1 keeps room for the NUL */
    size_t cap;
    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->p = mb_xrealloc(b->p, cap);
    b->cap = cap;
}

void mb_buf_put(mb_buf *b, const void *data, size_t n)
{
    mb_buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void mb_buf_putc(mb_buf *b, int c)
{
    unsigned char ch = (unsigned char)c;
    mb_buf_put(b, &ch, 1);
}

void mb_buf_puts(mb_buf *b, const char *s)
{
    mb_buf_put(b, s, strlen(s));
}

void mb_buf_printf(mb_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room;
    int n;
    mb_buf_reserve(b, 64); /* most lines fit: format straight into the buffer */
    room = b->cap - b->len;
    va_start(ap, fmt);
    n = vsnprintf((char *)b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->p[b->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        mb_buf_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void mb_buf_put_u16(mb_buf *b, uint16_t v)
{
    unsigned char t[2];
    t[0] = (unsigned char)(v >> 8);
    t[1] = (unsigned char)v;
    mb_buf_put(b, t, 2);
}

void mb_buf_put_u32(mb_buf *b, uint32_t v)
{
    unsigned char t[4];
    mb_set_u32(t, v);
    mb_buf_put(b, t, 4);
}

void mb_buf_put_u64(mb_buf *b, uint64_t v)
{
    mb_buf_put_u32(b, (uint32_t)(v >> 32));
    mb_buf_put_u32(b, (uint32_t)v);
}

void mb_buf_consume(mb_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
    }
    if (b->p)
        b->p[b->len] = '\0';
}

char *mb_put_hex(char *out, const unsigned char *data, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t i;
    for (i = 0; i < n; i++) {
        *out++ = digits[data[i] >> 4];
        *out++ = digits[data[i] & 15];
    }
    return out;
}

void mb_buf_put_hex(mb_buf *b, const unsigned char *data, size_t n)
{
    mb_buf_reserve(b, n * 2);
    b->len = (size_t)((unsigned char *)mb_put_hex((char *)b->p + b->len, data, n) - b->p);
    b->p[b->len] = '\0';
}

uint16_t mb_get_u16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t mb_get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t mb_get_u64(const unsigned char *p)
{
    return ((uint64_t)mb_get_u32(p) << 32) | mb_get_u32(p + 4);
}

void mb_set_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

size_t mb_fmt_i64(char out[21], int64_t v)
{
    /* through unsigned, so the most negative value needs no special case */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, t;
    size_t len = v < 0, digits = 1, i;
    for (t = u; t >= 10; t /= 10)
        digits++;
    if (v < 0)
        out[0] = '-';
    len += digits;
    for (i = len; i-- > len - digits;) {
        out[i] = (char)('0' + u % 10);
        u /= 10;
    }
    return len;
}

/* ---- arena ---- */

struct mb_chunk {
    struct mb_chunk *next;
    size_t cap;
    /* data follows at CHUNK_HEAD */
};

#define CHUNK_HEAD ((sizeof(struct mb_chunk) + 15) & ~(size_t)15)
#define ARENA_CHUNK 4096
#define SPARE_MAX 8

static struct mb_chunk *spare_chunks[SPARE_MAX];
static size_t nspare;

static struct mb_chunk *chunk_new(size_t cap)
{
    struct mb_chunk *c;
    if (cap == ARENA_CHUNK && nspare)
        c = spare_chunks[--nspare];
    else
        c = mb_xmalloc(CHUNK_HEAD + cap);
    c->cap = cap;
    c->next = NULL;
    return c;
}

void *mb_arena_grow(mb_arena *a, size_t n, size_t align)
{
    size_t size = a->chunk_size ? a->chunk_size : ARENA_CHUNK;
    struct mb_chunk *c;
    (void)align; /* a chunk's data starts 16-byte aligned */
    if (n > size / 4 && a->chunks) {
        /* a piece of its own, behind the current chunk, whose room stays in use */
        c = chunk_new(n);
        c->next = a->chunks->next;
        a->chunks->next = c;
        return (unsigned char *)c + CHUNK_HEAD;
    }
    c = chunk_new(n > size ? n : size);
    c->next = a->chunks;
    a->chunks = c;
    a->cur = (unsigned char *)c + CHUNK_HEAD + n;
    a->left = c->cap - n;
    return (unsigned char *)c + CHUNK_HEAD;
}

char *mb_arena_strndup(mb_arena *a, const char *s, size_t n)
{
    char *d = mb_arena_alloc_bytes(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void mb_arena_free(mb_arena *a)
{
    struct mb_chunk *c = a->chunks;
    while (c) {
        struct mb_chunk *next = c->next;
        if (c->cap == ARENA_CHUNK && nspare < SPARE_MAX)
            spare_chunks[nspare++] = c;
        else
            free(c);
        c = next;
    }
    a->chunks = NULL;
    a->cur = NULL;
    a->left = 0;
}

/* ---- map ---- */

static size_t hash_str(const char *s)
{
    size_t h = 1469598103u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

void mb_map_free(mb_map *m)
{
    size_t i;
    for (i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t map_slot(const mb_map *m, const char *key)
{
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

int mb_map_get(const mb_map *m, const char *key, int *val)
{
    size_t i;
    if (!m->cap)
        return 0;
    i = map_slot(m, key);
    if (!m->keys[i])
        return 0;
    if (val)
        *val = m->vals[i];
    return 1;
}

static void map_grow(mb_map *m)
{
    mb_map n;
    size_t i;
    n.cap = m->cap ? m->cap * 2 : 16;
    n.count = 0;
    n.keys = mb_xcalloc(n.cap, sizeof *n.keys);
    n.vals = mb_xcalloc(n.cap, sizeof *n.vals);
    for (i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            size_t j = map_slot(&n, m->keys[i]);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
            n.count++;
        }
    }
    free(m->keys);
    free(m->vals);
    *m = n;
}

void mb_map_put(mb_map *m, const char *key, int val)
{
    size_t i;
    if ((m->count + 1) * 2 > m->cap)
        map_grow(m);
    i = map_slot(m, key);
    if (!m->keys[i]) {
        m->keys[i] = mb_xstrdup(key);
        m->count++;
    }
    m->vals[i] = val;
}

/* ---- clocks ---- */

int64_t mb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mb_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- numbers ---- */

/* What strtoll(s, &end, 10) accepts with *end == '\0' and no ERANGE:
 * leading white space, a sign, at least one digit. Written out because it
 * runs for several header fields of every message. */
int mb_parse_i64(const char *s, int64_t *out)
{
    uint64_t v = 0, limit;
    int neg = 0, n;
    if (!s)
        return -1;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (*s < '0' || *s > '9')
        return -1;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    /* eighteen digits cannot overflow; only the rest are checked */
    for (n = 0; n < 18 && *s >= '0' && *s <= '9'; n++, s++)
        v = v * 10 + (unsigned)(*s - '0');
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > limit / 10 || (v == limit / 10 && d > limit % 10))
            return -1;
        v = v * 10 + d;
    }
    if (*s)
        return -1;
    *out = neg && v ? -(int64_t)(v - 1) - 1 : (int64_t)v;
    return 0;
}

int mb_parse_i32(const char *s, int32_t *out)
{
    int64_t v;
    if (mb_parse_i64(s, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

int mb_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- CRC32 (IEEE, as java.util.zip.CRC32) for stored-record body CRCs ---- */

uint32_t mb_crc32(const unsigned char *data, size_t n)
{
    static uint32_t table[256];
    static int ready;
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    if (!ready) {
        uint32_t k, v;
        int j;
        for (k = 0; k < 256; k++) {
            v = k;
            for (j = 0; j < 8; j++)
                v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
            table[k] = v;
        }
        ready = 1;
    }
    for (i = 0; i < n; i++)
        c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
