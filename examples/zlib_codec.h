/* zlib_codec.h - body compression for rocketmq_producer.h with zlib, as
 * Java's producer and consumers do it.
 *
 * Java's DefaultMQProducer compresses a single message whose body has at
 * least compressMsgBodyOverHowmuch bytes (4096) with java.util.zip.Deflater
 * at level 5 (rocketmq.message.compressLevel): a zlib stream (RFC 1950,
 * header 78 5E), not raw deflate, not gzip. Every consumer inflates it,
 * whichever client it is. These two functions are that codec on zlib; the
 * library itself carries none, so a firmware build pays for it only when
 * it wants it.
 *
 *     #include "examples/zlib_codec.h"          (link with -lz)
 *     static int level = 5;
 *     cfg.compressor = rmq_zlib_compress;   cfg.compressor_arg = &level;
 *     cfg.decompressor = rmq_zlib_decompress;
 *
 * Debian: apt-get install zlib1g-dev.
 */
#ifndef RMQ_ZLIB_CODEC_H
#define RMQ_ZLIB_CODEC_H

#include <stddef.h>
#include <zlib.h>

/* rmq_compress_fn: a zlib stream of in at the level arg points at (NULL:
 * Java's 5), or 0 when it does not fit in cap (the body then goes as it
 * is). */
static size_t rmq_zlib_compress(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    uLongf n = (uLongf)cap;
    int level = arg ? *(const int *)arg : 5;
    if (compress2((Bytef *)out, &n, (const Bytef *)in, (uLong)len, level) != Z_OK) return 0;
    return (size_t)n;
}

/* rmq_decompress_fn: the inflated stream, or 0 when it is broken or does
 * not fit in cap. */
static size_t rmq_zlib_decompress(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    uLongf n = (uLongf)cap;
    (void)arg;
    if (uncompress((Bytef *)out, &n, (const Bytef *)in, (uLong)len) != Z_OK) return 0;
    return (size_t)n;
}

#endif
