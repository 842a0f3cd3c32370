/* fuzz.h - what the fuzz targets share: one copy of the library and of the
 * simulated port (so a target reaches the private rmq__ functions), a reader
 * that turns the fuzz input into decisions, and a check that stops the run
 * where libFuzzer keeps the input.
 *
 * Every target is one C file that includes this header, built with
 * -fsanitize=fuzzer,address,undefined (tests/fuzz/fuzz.mk). Bytes from the
 * network are copied into heap blocks of their exact size first, so that a
 * read one byte past them is an ASan report and not a silent success. */
#ifndef RMQ_FUZZ_H
#define RMQ_FUZZ_H

#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "port/rmq_port_sim.h"

/* The context of the simulated peers' own buffers (tests/pool_or_heap.h
 * sets it where the producer has a pool). */
#ifndef RMQ_TEST_HEAP
#define RMQ_TEST_HEAP NULL
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Helpers a given target may not use: no "defined but not used". */
#define FZ_FN static __attribute__((unused))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then abort so libFuzzer saves the input. */
FZ_FN void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

#define FZ_CHECK(cond) do { if (!(cond)) fz_fail(__FILE__, __LINE__, #cond); } while (0)

/* -- the input as a stream of decisions ----------------------------------- */
/* Reads past the end give zeros: a short input is a run with default
 * choices, never an error. */
typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

FZ_FN void fz_init(fz_in *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->n = size;
}

FZ_FN uint8_t fz_u8(fz_in *in)
{
    uint8_t v;
    if (!in->n) return 0;
    v = *in->p++;
    in->n--;
    return v;
}

FZ_FN uint16_t fz_u16(fz_in *in)
{
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}

FZ_FN uint32_t fz_u32(fz_in *in)
{
    uint32_t hi = fz_u16(in);
    return hi << 16 | fz_u16(in);
}

/* A choice among n (n > 0). */
FZ_FN unsigned fz_pick(fz_in *in, unsigned n)
{
    return fz_u8(in) % n;
}

/* Up to max bytes, the count given by one byte: points into the input. */
FZ_FN size_t fz_bytes(fz_in *in, size_t max, const uint8_t **out)
{
    size_t n = fz_u8(in);
    if (n > max) n = max;
    if (n > in->n) n = in->n;
    *out = in->p;
    in->p += n;
    in->n -= n;
    return n;
}

/* A counted piece with a two-byte length (for frames and bodies). */
FZ_FN size_t fz_blob(fz_in *in, size_t max, const uint8_t **out)
{
    size_t n = fz_u16(in);
    if (n > max) n = max;
    if (n > in->n) n = in->n;
    *out = in->p;
    in->p += n;
    in->n -= n;
    return n;
}

/* A NUL-terminated string of at most cap-1 bytes, no NUL inside. When
 * `avoid` is set the property separators 0x01 and 0x02 are left out too. */
FZ_FN size_t fz_text(fz_in *in, char *out, size_t cap, int avoid)
{
    const uint8_t *b;
    size_t n = fz_bytes(in, cap - 1, &b), i, k = 0;
    for (i = 0; i < n; i++) {
        if (b[i] == 0 || (avoid && (b[i] == 1 || b[i] == 2))) continue;
        out[k++] = (char)b[i];
    }
    out[k] = 0;
    return k;
}

/* An exact-size heap copy (one byte for an empty input, never read). */
FZ_FN uint8_t *fz_dup(const uint8_t *data, size_t size)
{
    uint8_t *p = (uint8_t *)malloc(size ? size : 1);
    if (!p) abort();
    if (size) memcpy(p, data, size);
    return p;
}

/* -- deterministic "random" choices derived from the input --------------- */
FZ_FN uint64_t fz_hash(const uint8_t *d, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) { h ^= d[i]; h *= 0x100000001b3ull; }
    return h ? h : 1;
}

FZ_FN uint32_t fz_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *s = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* -- the plain loop over a stream of frames ------------------------------- */
/* What the engine's reader must make of a stream, by the decoder alone:
 * each(ctx, cmd) for every frame decoded whole, in order, from buf + at.
 * The walk ends at a frame still incomplete (FZ_WALK_NEED), at a malformed
 * one (FZ_WALK_MALFORMED), or at a frame over RMQ_MAX_FRAME_BYTES whose
 * header is in and decodes (FZ_WALK_OVERSIZE: the reader skips its body).
 * w->at is where the walk ended (the start of that frame), w->fi that
 * frame's info, w->frames the frames decoded, the oversized one included.
 * Decoding writes into buf (escapes), so it is the caller's copy. */
enum { FZ_WALK_NEED, FZ_WALK_MALFORMED, FZ_WALK_OVERSIZE };

typedef struct fz_walk {
    int end;
    size_t at;
    rmq__frame_info fi;
    uint32_t frames;
} fz_walk;

FZ_FN void fz_walk_frames(uint8_t *buf, size_t size, size_t at,
                          void (*each)(void *ctx, const rmq_command *c), void *ctx, fz_walk *w)
{
    static rmq_command c;
    w->frames = 0;
    for (;;) {
        int st = rmq__frame_check(buf + at, size - at, RMQ_MAX_FRAME_BYTES, &w->fi);
        w->at = at;
        w->end = FZ_WALK_NEED;
        if (st == RMQ__FRAME_NEED) return;
        if (st == RMQ__FRAME_OVERSIZE && size - at < 8 + (size_t)w->fi.header_len) return;
        if (st == RMQ__FRAME_MALFORMED ||
            rmq__frame_decode(buf + at, &w->fi, st == RMQ__FRAME_OK ? w->fi.total - 8 - w->fi.header_len : 0, &c)) {
            w->end = FZ_WALK_MALFORMED;
            return;
        }
        w->frames++;
        if (st == RMQ__FRAME_OVERSIZE) {
            w->end = FZ_WALK_OVERSIZE;
            return;
        }
        each(ctx, &c);
        at += w->fi.total;
    }
}

/* -- frames the fake peers write ------------------------------------------ */
/* Encodes cmd (in its own serialization) followed by body into b. */
FZ_FN void fz_frame(rmq__buf *b, const rmq_command *cmd, const void *body, size_t blen)
{
    if (rmq__frame_encode_head(b, cmd, blen) == 0) rmq__buf_put(b, body, blen);
}

#endif
