/* mb_util.h - small helpers shared by the mock broker and its tests:
 * growable byte buffers, big-endian accessors, a string hash map, hex. */
#ifndef MB_UTIL_H
#define MB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* For a rare path that would make its caller's common one save registers. */
#if defined(__GNUC__)
#define MB_NOINLINE __attribute__((noinline))
#else
#define MB_NOINLINE
#endif

/* Allocation failure in a test tool is not worth recovering from. */
void *mb_xmalloc(size_t n);
void *mb_xcalloc(size_t n, size_t size);
void *mb_xrealloc(void *p, size_t n);
char *mb_xstrndup(const char *s, size_t n);
char *mb_xstrdup(const char *s);

/* Growable byte buffer; `p` is always NUL-terminated past `len` once
 * anything has been written, so text content can be used as a C string. */
typedef struct mb_buf {
    unsigned char *p;
    size_t len;
    size_t cap;
} mb_buf;

void mb_buf_free(mb_buf *b);
void mb_buf_reserve(mb_buf *b, size_t extra);
void mb_buf_put(mb_buf *b, const void *data, size_t n);
void mb_buf_putc(mb_buf *b, int c);
void mb_buf_puts(mb_buf *b, const char *s);
void mb_buf_printf(mb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void mb_buf_put_u16(mb_buf *b, uint16_t v);
void mb_buf_put_u32(mb_buf *b, uint32_t v);
void mb_buf_put_u64(mb_buf *b, uint64_t v);
/* Drop the first n bytes (used to compact input buffers once per read). */
void mb_buf_consume(mb_buf *b, size_t n);
void mb_buf_put_hex(mb_buf *b, const unsigned char *data, size_t n);
/* Uppercase hex of data, 2n characters without a NUL; returns the end. */
char *mb_put_hex(char *out, const unsigned char *data, size_t n);

uint16_t mb_get_u16(const unsigned char *p);
uint32_t mb_get_u32(const unsigned char *p);
uint64_t mb_get_u64(const unsigned char *p);
void mb_set_u32(unsigned char *p, uint32_t v);

/* Decimal text of v (as printf "%lld"); returns its length, no NUL. */
size_t mb_fmt_i64(char out[21], int64_t v);

/* Bump allocator for pieces that die together (a request's strings, the
 * message store). Chunks of the default size are recycled across arenas,
 * so a request decoded and freed per frame costs no malloc. */
struct mb_chunk;
typedef struct mb_arena {
    struct mb_chunk *chunks;
    unsigned char *cur; /* free room of the current chunk */
    size_t left;
    size_t chunk_size;  /* 0 = the default (recycled) size */
} mb_arena;

/* Slow path: a new chunk. */
void *mb_arena_grow(mb_arena *a, size_t n, size_t align);

/* The common case inline: a JSON header takes dozens of pieces. */
static inline void *mb_arena_take(mb_arena *a, size_t n, size_t align)
{
    size_t pad = (size_t)(-(uintptr_t)a->cur & (align - 1));
    if (a->cur && a->left >= pad && a->left - pad >= n) {
        unsigned char *p = a->cur + pad;
        a->cur = p + n;
        a->left -= pad + n;
        return p;
    }
    return mb_arena_grow(a, n, align);
}

/* 16-byte aligned. */
static inline void *mb_arena_alloc(mb_arena *a, size_t n)
{
    return mb_arena_take(a, n, 16);
}

/* Byte data, no alignment: no padding between pieces. */
static inline void *mb_arena_alloc_bytes(mb_arena *a, size_t n)
{
    return mb_arena_take(a, n, 1);
}

char *mb_arena_strndup(mb_arena *a, const char *s, size_t n);
void mb_arena_free(mb_arena *a);

/* Open-addressing map from string keys to int values; keys are copied. */
typedef struct mb_map {
    char **keys;
    int *vals;
    size_t cap;   /* power of two, 0 when empty */
    size_t count;
} mb_map;

void mb_map_free(mb_map *m);
int mb_map_get(const mb_map *m, const char *key, int *val);
void mb_map_put(mb_map *m, const char *key, int val);

/* Milliseconds: wall clock (for timestamps) and monotonic (for timers). */
int64_t mb_now_ms(void);
int64_t mb_mono_ms(void);

/* Strict decimal parsers: whole string must be a number in range. */
int mb_parse_i32(const char *s, int32_t *out);
int mb_parse_i64(const char *s, int64_t *out);

/* 0..15 for a hex digit of either case, else -1. */
int mb_hex_digit(char c);

uint32_t mb_crc32(const unsigned char *data, size_t n);

#endif
