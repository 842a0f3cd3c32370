/* mb_codec.h - RocketMQ remoting wire format as seen by the mock:
 * frames, JSON (type 0) and ROCKETMQ binary (type 1) headers, message
 * property strings, batch bodies, offset message ids and stored records.
 * Written from PROTOCOL.md; independent of the producer library's codec. */
#ifndef MB_CODEC_H
#define MB_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "mb_util.h"

enum { MB_SER_JSON = 0, MB_SER_ROCKETMQ = 1 };

#define MB_FLAG_RESPONSE 0x1
#define MB_FLAG_ONEWAY 0x2
/* Whole frame including the 4-byte length prefix (NettyDecoder limit). */
#define MB_MAX_FRAME 16777216u
#define MB_BIN_FIXED_HEADER 21
#define MB_VERSION_4_9_8 409
#define MB_LANG_JAVA 0

/* A string pair; val == NULL means the value is null (treated as absent). */
typedef struct mb_kv {
    char *key;
    size_t key_len;
    char *val;
    size_t val_len;
} mb_kv;

typedef struct mb_cmd {
    int code;
    int language;          /* LanguageCode byte, -1 when unknown */
    int version;
    int32_t opaque;
    int32_t flag;
    const char *remark;    /* NULL when absent */
    size_t remark_len;
    int has_ext;           /* extFields present, possibly empty */
    mb_kv *ext;            /* entries and their strings live in `arena` */
    size_t next;
    size_t ext_cap;
    const unsigned char *body; /* not owned: points into the frame or a caller buffer */
    size_t body_len;
    int ser;               /* MB_SER_JSON or MB_SER_ROCKETMQ */
    mb_arena arena;        /* everything the command owns, freed at once */
} mb_cmd;

void mb_cmd_init(mb_cmd *c);
void mb_cmd_free(mb_cmd *c);

/* Looks at the start of a byte stream: 0 = need more bytes, 1 = a frame of
 * *total bytes (prefix included) is announced, -1 = impossible length. */
int mb_frame_length(const unsigned char *p, size_t avail, size_t *total);

/* Decodes one whole frame (length prefix included). Returns 0, or -1 with a
 * static reason in *err. On success c->body points into `frame`. */
int mb_cmd_decode(mb_cmd *c, const unsigned char *frame, size_t len, const char **err);

/* Appends the whole frame (prefix, header in c->ser, body) to out. */
void mb_cmd_encode(const mb_cmd *c, mb_buf *out);

/* Last value for key (duplicates: last wins), NULL if absent or null. */
const char *mb_cmd_ext(const mb_cmd *c, const char *key);
void mb_cmd_add_ext(mb_cmd *c, const char *key, const char *val);
void mb_cmd_add_ext_n(mb_cmd *c, const char *key, size_t kl, const char *val, size_t vl);
/* Without copies: key and val (NUL-terminated) must outlive the command,
 * as literals and pieces of c->arena do. */
void mb_cmd_add_ext_ref(mb_cmd *c, const char *key, size_t kl, const char *val, size_t vl);
/* Whether an ext key equals name as strcmp sees it (up to the key's first NUL). */
int mb_ext_key_is(const mb_kv *kv, const char *name, size_t name_len);
void mb_cmd_set_remark(mb_cmd *c, const char *remark);
/* extFields as a JSON object in arrival order ("{}" when absent). */
void mb_cmd_ext_json(const mb_cmd *c, mb_buf *out);

const char *mb_language_name(int lang);
int mb_language_code(const char *name);

/* ---- message properties: name 0x01 value 0x02 ... ---- */

/* Names and values are NUL-terminated and live in `arena`. */
typedef struct mb_props {
    mb_kv *kv;
    size_t n;
    size_t cap;
    mb_arena arena;
} mb_props;

/* Lenient decoding as the Java brokers do; duplicate names: last wins (at
 * the place of the first). One copy of s is cut up in place. */
void mb_props_parse(mb_props *p, const char *s, size_t len);
void mb_props_free(mb_props *p);
const char *mb_props_get(const mb_props *p, const char *key);
void mb_props_set(mb_props *p, const char *key, const char *val);
void mb_props_del(mb_props *p, const char *key);
/* 4.9.3+ form: no trailing 0x02. */
void mb_props_encode(const mb_props *p, mb_buf *out);

/* ---- SEND_BATCH_MESSAGE body (spec 4.4) ---- */

typedef struct mb_batch_item {
    int32_t flag;
    const unsigned char *body;
    size_t body_len;
    const char *props;
    size_t props_len;
} mb_batch_item;

#define MB_BATCH_RECORD_OVERHEAD 22

/* Iterates the records; 1 = *it filled, 0 = end, -1 = malformed. */
int mb_batch_next(const unsigned char *body, size_t len, size_t *pos, mb_batch_item *it);

/* ---- offset message id (spec 5.3) ---- */

void mb_offset_msg_id(char out[33], uint32_t ip, int32_t port, int64_t offset);
int mb_offset_msg_id_decode(const char *id, uint32_t *ip, int32_t *port, int64_t *offset);

/* ---- stored message record (spec 4.8, IPv4 hosts, V1 magic) ---- */

#define MB_STORED_MAGIC_V1 0xDAA320A7u
#define MB_STORED_FIXED 84 /* bytes before BODY_LENGTH with IPv4 hosts */

typedef struct mb_stored {
    int32_t queue_id;
    int32_t flag;
    int64_t queue_offset;
    int64_t commit_offset;
    int32_t sys_flag;
    int64_t born_ts;
    uint32_t born_ip;
    int32_t born_port;
    int64_t store_ts;
    uint32_t store_ip;
    int32_t store_port;
    int32_t reconsume_times;
    int64_t prepared_offset;
    uint32_t body_crc;
    const unsigned char *body;
    size_t body_len;
    const char *topic;
    size_t topic_len;
    const char *props;
    size_t props_len;
} mb_stored;

size_t mb_stored_size(size_t body_len, size_t topic_len, size_t props_len);
void mb_stored_encode(const mb_stored *m, mb_buf *out);
/* Decodes one record at p; returns its size, or 0 if malformed. */
size_t mb_stored_decode(const unsigned char *p, size_t len, mb_stored *m);

#endif
