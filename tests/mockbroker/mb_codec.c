/* mb_codec.c - see mb_codec.h. */
#include "mb_codec.h"

#include <stdlib.h>
#include <string.h>

#include "mb_json.h"

static const char *const lang_names[] = {
    "JAVA", "CPP", "DOTNET", "PYTHON", "DELPHI", "ERLANG", "RUBY",
    "OTHER", "HTTP", "GO", "PHP", "OMS", "RUST", "NODE_JS",
};
#define LANG_COUNT ((int)(sizeof lang_names / sizeof lang_names[0]))

const char *mb_language_name(int lang)
{
    return (lang >= 0 && lang < LANG_COUNT) ? lang_names[lang] : "UNKNOWN";
}

int mb_language_code(const char *name)
{
    int i;
    for (i = 0; i < LANG_COUNT; i++)
        if (strcmp(name, lang_names[i]) == 0)
            return i;
    return -1;
}

void mb_cmd_init(mb_cmd *c)
{
    memset(c, 0, sizeof *c);
    c->language = MB_LANG_JAVA;
}

void mb_cmd_free(mb_cmd *c)
{
    mb_arena_free(&c->arena);
    mb_cmd_init(c);
}

/* The array of n entries with room for twice as many, in the arena. */
static mb_kv *kv_grow(mb_arena *a, mb_kv *kv, size_t n, size_t *cap)
{
    mb_kv *grown;
    *cap = *cap ? *cap * 2 : 16;
    grown = mb_arena_alloc(a, *cap * sizeof *kv);
    if (n)
        memcpy(grown, kv, n * sizeof *kv);
    return grown;
}

/* key and val (NULL = null value) must live in c->arena or longer. */
static inline void ext_push(mb_cmd *c, char *key, size_t kl, char *val, size_t vl)
{
    if (c->next == c->ext_cap)
        c->ext = kv_grow(&c->arena, c->ext, c->next, &c->ext_cap);
    c->ext[c->next].key = key;
    c->ext[c->next].key_len = kl;
    c->ext[c->next].val = val;
    c->ext[c->next].val_len = vl;
    c->next++;
    c->has_ext = 1;
}

void mb_cmd_add_ext_n(mb_cmd *c, const char *key, size_t kl, const char *val, size_t vl)
{
    ext_push(c, mb_arena_strndup(&c->arena, key, kl), kl, val ? mb_arena_strndup(&c->arena, val, vl) : NULL,
             val ? vl : 0);
}

void mb_cmd_add_ext_ref(mb_cmd *c, const char *key, size_t kl, const char *val, size_t vl)
{
    ext_push(c, (char *)key, kl, (char *)val, vl);
}

void mb_cmd_add_ext(mb_cmd *c, const char *key, const char *val)
{
    mb_cmd_add_ext_n(c, key, strlen(key), val, val ? strlen(val) : 0);
}

int mb_ext_key_is(const mb_kv *kv, const char *name, size_t name_len)
{
    return kv->key_len >= name_len && kv->key[name_len] == '\0' && memcmp(kv->key, name, name_len) == 0;
}

const char *mb_cmd_ext(const mb_cmd *c, const char *key)
{
    size_t i = c->next, kl = strlen(key);
    while (i-- > 0)
        if (mb_ext_key_is(&c->ext[i], key, kl))
            return c->ext[i].val;
    return NULL;
}

void mb_cmd_set_remark(mb_cmd *c, const char *remark)
{
    c->remark_len = remark ? strlen(remark) : 0;
    c->remark = remark ? mb_arena_strndup(&c->arena, remark, c->remark_len) : NULL;
}

#define PUT_LIT(o, lit) (memcpy(o, lit, sizeof lit - 1), (o) + sizeof lit - 1)

/* Room the JSON form of extFields can take at most. */
static size_t ext_json_max(const mb_cmd *c)
{
    size_t i, n = 2;
    for (i = 0; i < c->next; i++)
        n += 2 + MJ_STR_MAX(c->ext[i].key_len) + MJ_STR_MAX(c->ext[i].val_len);
    return n;
}

static unsigned char *write_ext_json(const mb_cmd *c, unsigned char *o)
{
    size_t i;
    *o++ = '{';
    for (i = 0; i < c->next; i++) {
        if (i)
            *o++ = ',';
        o = mj_write_str(o, c->ext[i].key, c->ext[i].key_len);
        *o++ = ':';
        if (c->ext[i].val)
            o = mj_write_str(o, c->ext[i].val, c->ext[i].val_len);
        else
            o = PUT_LIT(o, "null");
    }
    *o++ = '}';
    return o;
}

static void buf_end_at(mb_buf *out, unsigned char *o)
{
    out->len = (size_t)(o - out->p);
    out->p[out->len] = '\0';
}

void mb_cmd_ext_json(const mb_cmd *c, mb_buf *out)
{
    mb_buf_reserve(out, ext_json_max(c));
    buf_end_at(out, write_ext_json(c, out->p + out->len));
}

/* ---- framing ---- */

int mb_frame_length(const unsigned char *p, size_t avail, size_t *total)
{
    uint32_t len;
    if (avail < 4)
        return 0;
    len = mb_get_u32(p);
    /* The length counts the header-length word, so it is at least 4. */
    if (len < 4 || (uint64_t)len + 4 > MB_MAX_FRAME)
        return -1;
    *total = (size_t)len + 4;
    return 1;
}

/* ---- JSON header ---- */

/* The strings stay where the parser put them, in c->arena. */
static int json_ext(mb_cmd *c, const mj_node *ext)
{
    const mj_node *n;
    if (!ext || ext->type == MJ_NULL)
        return 0;
    if (ext->type != MJ_OBJ)
        return -1;
    c->has_ext = 1;
    for (n = ext->child; n; n = n->next) {
        /* fastjson coerces numbers and booleans to strings; null = absent */
        if (n->type == MJ_STR || n->type == MJ_NUM || n->type == MJ_BOOL)
            ext_push(c, (char *)n->key, n->key_len, (char *)n->str, n->len);
        else if (n->type != MJ_NULL)
            return -1;
    }
    return 0;
}

enum { H_CODE, H_VERSION, H_OPAQUE, H_FLAG, H_EXT, H_LANGUAGE, H_REMARK, H_COUNT };

static int json_int(const mj_node *n, int64_t *out)
{
    if (!n || n->type == MJ_NULL)
        return 0; /* absent: keep the Java default */
    return mj_node_i64(n, out) == 0 ? 0 : -1;
}

#define KEY_IS(n, lit) (memcmp((n)->key, lit, sizeof lit - 1) == 0)

static int member_index(const mj_node *n)
{
    switch (n->key_len) {
    case 4:
        return KEY_IS(n, "code") ? H_CODE : KEY_IS(n, "flag") ? H_FLAG : -1;
    case 6:
        return KEY_IS(n, "opaque") ? H_OPAQUE : KEY_IS(n, "remark") ? H_REMARK : -1;
    case 7:
        return KEY_IS(n, "version") ? H_VERSION : -1;
    case 8:
        return KEY_IS(n, "language") ? H_LANGUAGE : -1;
    case 9:
        return KEY_IS(n, "extFields") ? H_EXT : -1;
    default:
        return -1;
    }
}

/* Sets the fields from what was gathered (by the quick reader or from the
 * tree); -1 if a number is not one. */
static int json_fields(mb_cmd *c, const int64_t num[], const int num_rc[], const mj_node *lang,
                       const mj_node *remark)
{
    int i;
    for (i = 0; i <= H_FLAG; i++)
        if (num_rc[i] < 0)
            return -1;
    c->code = (int)num[H_CODE];
    c->version = (int)num[H_VERSION];
    c->opaque = (int32_t)num[H_OPAQUE];
    c->flag = (int32_t)num[H_FLAG];
    c->language = (lang && lang->type == MJ_STR) ? mb_language_code(lang->str) : MB_LANG_JAVA;
    if (remark && remark->type == MJ_STR) {
        c->remark = remark->str;
        c->remark_len = remark->len;
    }
    return 0;
}

#define QUICK_MEMBERS 64

/* Headers come in one shape nearly always: compact, scalars and the
 * extFields object. That is read without a tree; anything else goes to
 * the tree parser, which alone decides what is valid. For each member the
 * last occurrence counts, as with mj_get on the tree. */
static int quick_json_header(mb_cmd *c, const char *text, size_t hl)
{
    mj_node m[QUICK_MEMBERS];
    const mj_node *text_member[H_COUNT] = {NULL};
    int64_t num[H_FLAG + 1] = {0};
    int num_rc[H_FLAG + 1] = {0}, count, i, j, ext_seen = 0;
    count = mj_quick_flat(&c->arena, mb_arena_strndup(&c->arena, text, hl), hl, m, QUICK_MEMBERS);
    for (i = 0; i < count; i++) {
        int k = member_index(&m[i]);
        if (k == H_EXT) {
            /* a repeated or non-object extFields is left to the tree */
            if (ext_seen++ || (m[i].type != MJ_OBJ && m[i].type != MJ_NULL))
                break;
            c->has_ext = m[i].type == MJ_OBJ;
            for (j = 1; j <= (int)m[i].count; j++) /* fastjson coerces numbers and booleans to strings */
                if (m[i + j].type != MJ_NULL)
                    ext_push(c, (char *)m[i + j].key, m[i + j].key_len, (char *)m[i + j].str, m[i + j].len);
        } else if (k >= 0 && m[i].type == MJ_OBJ) {
            break;
        } else if (k >= 0 && k <= H_FLAG) {
            num[k] = 0;
            num_rc[k] = json_int(&m[i], &num[k]);
        } else if (k >= 0) {
            text_member[k] = &m[i];
        }
        i += (int)m[i].count; /* the members of an object nobody reads */
    }
    if (count >= 0 && i == count && json_fields(c, num, num_rc, text_member[H_LANGUAGE], text_member[H_REMARK]) == 0)
        return 0;
    c->next = 0;
    c->has_ext = 0;
    return -1;
}

static int decode_json_header(mb_cmd *c, const char *h, size_t hl, const char **err)
{
    mj_doc doc;
    const mj_node *m[H_COUNT] = {NULL}, *n;
    int64_t num[H_FLAG + 1] = {0};
    int rc[H_FLAG + 1], i;
    *err = "bad JSON header";
    if (quick_json_header(c, h, hl) == 0)
        return 0;
    if (mj_parse_in(&doc, &c->arena, h, hl, 0) < 0 || doc.root->type != MJ_OBJ)
        return -1;
    for (n = doc.root->child; n; n = n->next) {
        int k = member_index(n);
        if (k >= 0)
            m[k] = n;
    }
    for (i = 0; i <= H_FLAG; i++)
        rc[i] = json_int(m[i], &num[i]);
    if (json_ext(c, m[H_EXT]) < 0)
        return -1;
    return json_fields(c, num, rc, m[H_LANGUAGE], m[H_REMARK]);
}

/* ---- ROCKETMQ binary header ---- */

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

static int rd_u32(reader *r, uint32_t *v)
{
    if (r->len - r->pos < 4)
        return -1;
    *v = mb_get_u32(r->p + r->pos);
    r->pos += 4;
    return 0;
}

static int rd_u16(reader *r, uint16_t *v)
{
    if (r->len - r->pos < 2)
        return -1;
    *v = mb_get_u16(r->p + r->pos);
    r->pos += 2;
    return 0;
}

/* A string of n bytes copied into the command's arena; length 0 decodes
 * as null, like the Java reader. */
static int rd_str(mb_cmd *c, reader *r, size_t n, char **out)
{
    if (r->len - r->pos < n)
        return -1;
    *out = n ? mb_arena_strndup(&c->arena, (const char *)r->p + r->pos, n) : NULL;
    r->pos += n;
    return 0;
}

static int decode_bin_ext(mb_cmd *c, reader *r, uint32_t ext_len)
{
    reader e;
    e.p = r->p + r->pos;
    e.len = ext_len;
    e.pos = 0;
    r->pos += ext_len;
    c->has_ext = ext_len > 0;
    while (e.pos < e.len) {
        uint16_t kl;
        uint32_t vl;
        char *key = NULL, *val = NULL;
        if (rd_u16(&e, &kl) < 0 || rd_str(c, &e, kl, &key) < 0)
            return -1;
        if (rd_u32(&e, &vl) < 0 || rd_str(c, &e, vl, &val) < 0)
            return -1;
        if (key) /* a null key cannot be stored in the Java map either */
            ext_push(c, key, kl, val, val ? vl : 0);
    }
    return 0;
}

static int decode_bin_header(mb_cmd *c, const unsigned char *h, size_t hl, const char **err)
{
    reader r;
    uint32_t opaque, flag, remark_len, ext_len;
    char *remark;
    *err = "bad binary header";
    if (hl < MB_BIN_FIXED_HEADER)
        return -1;
    r.p = h;
    r.len = hl;
    r.pos = 0;
    c->code = (int16_t)mb_get_u16(h);
    c->language = h[2] <= 13 ? h[2] : -1;
    c->version = (int16_t)mb_get_u16(h + 3);
    r.pos = 5;
    rd_u32(&r, &opaque);
    rd_u32(&r, &flag);
    rd_u32(&r, &remark_len);
    c->opaque = (int32_t)opaque;
    c->flag = (int32_t)flag;
    if (remark_len > hl || rd_str(c, &r, remark_len, &remark) < 0)
        return -1;
    c->remark = remark;
    c->remark_len = remark ? remark_len : 0;
    if (rd_u32(&r, &ext_len) < 0 || ext_len > hl - r.pos)
        return -1;
    if (decode_bin_ext(c, &r, ext_len) < 0)
        return -1;
    return 0;
}

int mb_cmd_decode(mb_cmd *c, const unsigned char *frame, size_t len, const char **err)
{
    size_t total, hl;
    uint32_t word;
    int rc;
    mb_cmd_init(c);
    *err = "bad frame length";
    if (mb_frame_length(frame, len, &total) != 1 || total != len || len < 8)
        return -1;
    word = mb_get_u32(frame + 4);
    hl = word & 0xFFFFFF;
    if (hl > len - 8) {
        *err = "header length larger than frame";
        return -1;
    }
    c->ser = (int)(word >> 24);
    if (c->ser == MB_SER_JSON) {
        rc = decode_json_header(c, (const char *)frame + 8, hl, err);
    } else if (c->ser == MB_SER_ROCKETMQ) {
        rc = decode_bin_header(c, frame + 8, hl, err);
    } else {
        *err = "unknown serialize type";
        rc = -1;
    }
    if (rc < 0) {
        mb_cmd_free(c);
        return -1;
    }
    c->body = frame + 8 + hl;
    c->body_len = len - 8 - hl;
    return 0;
}

/* ---- encoding ---- */

static unsigned char *put_int(unsigned char *o, int64_t v)
{
    return o + mb_fmt_i64((char *)o, v);
}

/* Written in place after one reservation of the most it can take. */
static void encode_json_header(const mb_cmd *c, mb_buf *out)
{
    const char *lang = c->language >= 0 ? mb_language_name(c->language) : "JAVA";
    size_t lang_len = strlen(lang);
    unsigned char *o;
    mb_buf_reserve(out, 256 + lang_len + (c->has_ext ? ext_json_max(c) : 0) +
                            (c->remark ? MJ_STR_MAX(c->remark_len) : 0));
    o = out->p + out->len;
    /* fastjson writes bean properties alphabetically; null ones are omitted */
    o = put_int(PUT_LIT(o, "{\"code\":"), c->code);
    if (c->has_ext)
        o = write_ext_json(c, PUT_LIT(o, ",\"extFields\":"));
    o = put_int(PUT_LIT(o, ",\"flag\":"), c->flag);
    o = PUT_LIT(o, ",\"language\":\"");
    memcpy(o, lang, lang_len);
    o = put_int(PUT_LIT(o + lang_len, "\",\"opaque\":"), c->opaque);
    if (c->remark)
        o = mj_write_str(PUT_LIT(o, ",\"remark\":"), c->remark, c->remark_len);
    o = put_int(PUT_LIT(o, ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":"), c->version);
    *o++ = '}';
    buf_end_at(out, o);
}

static unsigned char *put_be16(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 8);
    o[1] = (unsigned char)v;
    return o + 2;
}

static unsigned char *put_be32(unsigned char *o, uint32_t v)
{
    mb_set_u32(o, v);
    return o + 4;
}

static unsigned char *put_bytes(unsigned char *o, const void *data, size_t n)
{
    if (n)
        memcpy(o, data, n);
    return o + n;
}

/* The size is known before writing, so the header goes out in one piece. */
static void encode_bin_header(const mb_cmd *c, mb_buf *out)
{
    size_t i, ext_len = 0, remark_len = c->remark ? c->remark_len : 0;
    unsigned char *o;
    for (i = 0; i < c->next; i++)
        if (c->ext[i].val) /* nulls are not sent */
            ext_len += 6 + c->ext[i].key_len + c->ext[i].val_len;
    mb_buf_reserve(out, MB_BIN_FIXED_HEADER + remark_len + ext_len);
    o = out->p + out->len;
    o = put_be16(o, (uint16_t)c->code);
    *o++ = (unsigned char)(c->language >= 0 ? c->language : MB_LANG_JAVA);
    o = put_be16(o, (uint16_t)c->version);
    o = put_be32(o, (uint32_t)c->opaque);
    o = put_be32(o, (uint32_t)c->flag);
    o = put_be32(o, (uint32_t)remark_len);
    o = put_bytes(o, c->remark, remark_len);
    o = put_be32(o, (uint32_t)ext_len);
    for (i = 0; i < c->next; i++) {
        const mb_kv *kv = &c->ext[i];
        if (!kv->val)
            continue;
        o = put_be16(o, (uint16_t)kv->key_len);
        o = put_bytes(o, kv->key, kv->key_len);
        o = put_be32(o, (uint32_t)kv->val_len);
        o = put_bytes(o, kv->val, kv->val_len);
    }
    buf_end_at(out, o);
}

void mb_cmd_encode(const mb_cmd *c, mb_buf *out)
{
    size_t start = out->len, header_len;
    mb_buf_put_u32(out, 0); /* frame length, patched below */
    mb_buf_put_u32(out, 0); /* serialize type + header length */
    if (c->ser == MB_SER_ROCKETMQ)
        encode_bin_header(c, out);
    else
        encode_json_header(c, out);
    header_len = out->len - start - 8;
    mb_buf_put(out, c->body, c->body_len);
    mb_set_u32(out->p + start, (uint32_t)(out->len - start - 4));
    mb_set_u32(out->p + start + 4, ((uint32_t)c->ser << 24) | (uint32_t)(header_len & 0xFFFFFF));
}

/* ---- properties ---- */

void mb_props_free(mb_props *p)
{
    mb_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
}

static mb_kv *props_find(const mb_props *p, const char *key, size_t kl)
{
    size_t i;
    for (i = 0; i < p->n; i++)
        if (p->kv[i].key_len == kl && memcmp(p->kv[i].key, key, kl) == 0)
            return &p->kv[i];
    return NULL;
}

/* k and v must be NUL-terminated and live in p->arena. */
static void props_put(mb_props *p, char *k, size_t kl, char *v, size_t vl)
{
    mb_kv *kv = props_find(p, k, kl);
    if (!kv) {
        if (p->n == p->cap)
            p->kv = kv_grow(&p->arena, p->kv, p->n, &p->cap);
        kv = &p->kv[p->n++];
        kv->key = k;
        kv->key_len = kl;
    }
    kv->val = v;
    kv->val_len = vl;
}

void mb_props_parse(mb_props *p, const char *s, size_t len)
{
    size_t start = 0;
    char *copy;
    memset(p, 0, sizeof *p);
    copy = mb_arena_strndup(&p->arena, s, len);
    while (start < len) {
        char *chunk = copy + start, *end = memchr(chunk, 2, len - start);
        size_t cl = end ? (size_t)(end - chunk) : len - start;
        char *sep = cl >= 3 ? memchr(chunk, 1, cl) : NULL;
        /* a pair needs a non-empty name and a non-empty value */
        if (sep && sep != chunk && sep != chunk + cl - 1) {
            *sep = '\0';
            chunk[cl] = '\0'; /* the 0x02 after it, or the copy's own NUL */
            props_put(p, chunk, (size_t)(sep - chunk), sep + 1, (size_t)(chunk + cl - sep - 1));
        }
        start += cl + 1;
    }
}

const char *mb_props_get(const mb_props *p, const char *key)
{
    mb_kv *kv = props_find(p, key, strlen(key));
    return kv ? kv->val : NULL;
}

void mb_props_set(mb_props *p, const char *key, const char *val)
{
    size_t kl = strlen(key), vl = strlen(val);
    props_put(p, mb_arena_strndup(&p->arena, key, kl), kl, mb_arena_strndup(&p->arena, val, vl), vl);
}

void mb_props_del(mb_props *p, const char *key)
{
    mb_kv *kv = props_find(p, key, strlen(key));
    if (!kv)
        return;
    memmove(kv, kv + 1, (size_t)(p->kv + p->n - kv - 1) * sizeof *kv);
    p->n--;
}

void mb_props_encode(const mb_props *p, mb_buf *out)
{
    size_t i;
    for (i = 0; i < p->n; i++) {
        if (i)
            mb_buf_putc(out, 2);
        mb_buf_put(out, p->kv[i].key, p->kv[i].key_len);
        mb_buf_putc(out, 1);
        mb_buf_put(out, p->kv[i].val, p->kv[i].val_len);
    }
}

/* ---- batch body ---- */

int mb_batch_next(const unsigned char *body, size_t len, size_t *pos, mb_batch_item *it)
{
    const unsigned char *r = body + *pos;
    size_t left = len - *pos;
    uint32_t total, body_len;
    uint16_t props_len;
    if (left == 0)
        return 0;
    if (left < MB_BATCH_RECORD_OVERHEAD)
        return -1;
    total = mb_get_u32(r);
    body_len = mb_get_u32(r + 16);
    if (total > left || body_len > total - MB_BATCH_RECORD_OVERHEAD)
        return -1;
    props_len = mb_get_u16(r + 20 + body_len);
    /* The record size must agree with its parts; a mismatch means the
     * sender's encoder is broken, which is what these tests want to see. */
    if ((size_t)total != (size_t)MB_BATCH_RECORD_OVERHEAD + body_len + props_len)
        return -1;
    it->flag = (int32_t)mb_get_u32(r + 12);
    it->body = r + 20;
    it->body_len = body_len;
    it->props = (const char *)r + 22 + body_len;
    it->props_len = props_len;
    *pos += total;
    return 1;
}

/* ---- offset message id ---- */

void mb_offset_msg_id(char out[33], uint32_t ip, int32_t port, int64_t offset)
{
    unsigned char b[16];
    mb_set_u32(b, ip);
    mb_set_u32(b + 4, (uint32_t)port);
    mb_set_u32(b + 8, (uint32_t)((uint64_t)offset >> 32));
    mb_set_u32(b + 12, (uint32_t)offset);
    *mb_put_hex(out, b, sizeof b) = '\0';
}

int mb_offset_msg_id_decode(const char *id, uint32_t *ip, int32_t *port, int64_t *offset)
{
    unsigned char b[16];
    int i;
    if (strlen(id) != 32)
        return -1;
    for (i = 0; i < 16; i++) {
        int hi = mb_hex_digit(id[2 * i]), lo = mb_hex_digit(id[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        b[i] = (unsigned char)(hi << 4 | lo);
    }
    *ip = mb_get_u32(b);
    *port = (int32_t)mb_get_u32(b + 4);
    *offset = (int64_t)mb_get_u64(b + 8);
    return 0;
}

/* ---- stored record ---- */

size_t mb_stored_size(size_t body_len, size_t topic_len, size_t props_len)
{
    return MB_STORED_FIXED + 4 + body_len + 1 + topic_len + 2 + props_len;
}

void mb_stored_encode(const mb_stored *m, mb_buf *out)
{
    mb_buf_put_u32(out, (uint32_t)mb_stored_size(m->body_len, m->topic_len, m->props_len));
    mb_buf_put_u32(out, MB_STORED_MAGIC_V1);
    mb_buf_put_u32(out, m->body_crc);
    mb_buf_put_u32(out, (uint32_t)m->queue_id);
    mb_buf_put_u32(out, (uint32_t)m->flag);
    mb_buf_put_u64(out, (uint64_t)m->queue_offset);
    mb_buf_put_u64(out, (uint64_t)m->commit_offset);
    mb_buf_put_u32(out, (uint32_t)m->sys_flag);
    mb_buf_put_u64(out, (uint64_t)m->born_ts);
    mb_buf_put_u32(out, m->born_ip);
    mb_buf_put_u32(out, (uint32_t)m->born_port);
    mb_buf_put_u64(out, (uint64_t)m->store_ts);
    mb_buf_put_u32(out, m->store_ip);
    mb_buf_put_u32(out, (uint32_t)m->store_port);
    mb_buf_put_u32(out, (uint32_t)m->reconsume_times);
    mb_buf_put_u64(out, (uint64_t)m->prepared_offset);
    mb_buf_put_u32(out, (uint32_t)m->body_len);
    mb_buf_put(out, m->body, m->body_len);
    mb_buf_putc(out, (int)m->topic_len);
    mb_buf_put(out, m->topic, m->topic_len);
    mb_buf_put_u16(out, (uint16_t)m->props_len);
    mb_buf_put(out, m->props, m->props_len);
}

size_t mb_stored_decode(const unsigned char *p, size_t len, mb_stored *m)
{
    uint32_t total;
    size_t pos = MB_STORED_FIXED;
    if (len < MB_STORED_FIXED + 4)
        return 0;
    total = mb_get_u32(p);
    if (total > len || mb_get_u32(p + 4) != MB_STORED_MAGIC_V1)
        return 0;
    memset(m, 0, sizeof *m);
    m->body_crc = mb_get_u32(p + 8);
    m->queue_id = (int32_t)mb_get_u32(p + 12);
    m->flag = (int32_t)mb_get_u32(p + 16);
    m->queue_offset = (int64_t)mb_get_u64(p + 20);
    m->commit_offset = (int64_t)mb_get_u64(p + 28);
    m->sys_flag = (int32_t)mb_get_u32(p + 36);
    m->born_ts = (int64_t)mb_get_u64(p + 40);
    m->born_ip = mb_get_u32(p + 48);
    m->born_port = (int32_t)mb_get_u32(p + 52);
    m->store_ts = (int64_t)mb_get_u64(p + 56);
    m->store_ip = mb_get_u32(p + 64);
    m->store_port = (int32_t)mb_get_u32(p + 68);
    m->reconsume_times = (int32_t)mb_get_u32(p + 72);
    m->prepared_offset = (int64_t)mb_get_u64(p + 76);
    m->body_len = mb_get_u32(p + pos);
    pos += 4;
    if (m->body_len > total - pos)
        return 0;
    m->body = p + pos;
    pos += m->body_len;
    if (pos + 1 > total)
        return 0;
    m->topic_len = p[pos++];
    if (pos + m->topic_len + 2 > total)
        return 0;
    m->topic = (const char *)p + pos;
    pos += m->topic_len;
    m->props_len = mb_get_u16(p + pos);
    pos += 2;
    if (pos + m->props_len != total)
        return 0;
    m->props = (const char *)p + pos;
    return total;
}
