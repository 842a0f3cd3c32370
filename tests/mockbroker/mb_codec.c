/* mb_codec.c - see mb_codec.h. */
#include "mb_codec.h"

#include <stdio.h>
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

static void kv_free(mb_kv *kv, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].val);
    }
    free(kv);
}

void mb_cmd_free(mb_cmd *c)
{
    free(c->remark);
    kv_free(c->ext, c->next);
    mb_cmd_init(c);
}

/* Takes ownership of key and val (val may be NULL). */
static void ext_push(mb_cmd *c, char *key, size_t kl, char *val, size_t vl)
{
    if (c->next == c->ext_cap) {
        c->ext_cap = c->ext_cap ? c->ext_cap * 2 : 16;
        c->ext = mb_xrealloc(c->ext, c->ext_cap * sizeof *c->ext);
    }
    c->ext[c->next].key = key;
    c->ext[c->next].key_len = kl;
    c->ext[c->next].val = val;
    c->ext[c->next].val_len = vl;
    c->next++;
    c->has_ext = 1;
}

void mb_cmd_add_ext(mb_cmd *c, const char *key, const char *val)
{
    ext_push(c, mb_xstrdup(key), strlen(key), val ? mb_xstrdup(val) : NULL, val ? strlen(val) : 0);
}

const char *mb_cmd_ext(const mb_cmd *c, const char *key)
{
    size_t i = c->next;
    while (i-- > 0)
        if (strcmp(c->ext[i].key, key) == 0)
            return c->ext[i].val;
    return NULL;
}

void mb_cmd_set_remark(mb_cmd *c, const char *remark)
{
    free(c->remark);
    c->remark = remark ? mb_xstrdup(remark) : NULL;
    c->remark_len = remark ? strlen(remark) : 0;
}

void mb_cmd_ext_json(const mb_cmd *c, mb_buf *out)
{
    size_t i;
    mb_buf_putc(out, '{');
    for (i = 0; i < c->next; i++) {
        if (i)
            mb_buf_putc(out, ',');
        mj_put_str(out, c->ext[i].key, c->ext[i].key_len);
        mb_buf_putc(out, ':');
        if (c->ext[i].val)
            mj_put_str(out, c->ext[i].val, c->ext[i].val_len);
        else
            mb_buf_puts(out, "null");
    }
    mb_buf_putc(out, '}');
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

static int json_int(const mj_node *obj, const char *key, int64_t *out)
{
    const mj_node *n = mj_get(obj, key);
    if (!n || n->type == MJ_NULL)
        return 0; /* absent: keep the Java default */
    return mj_node_i64(n, out) == 0 ? 0 : -1;
}

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
            ext_push(c, mb_xstrndup(n->key, n->key_len), n->key_len,
                     mb_xstrndup(n->str, n->len), n->len);
        else if (n->type != MJ_NULL)
            return -1;
    }
    return 0;
}

static int decode_json_header(mb_cmd *c, const char *h, size_t hl, const char **err)
{
    mj_doc doc;
    const mj_node *root, *n;
    int64_t code = 0, version = 0, opaque = 0, flag = 0;
    int rc = -1;
    *err = "bad JSON header";
    if (mj_parse(&doc, h, hl, 0) == 0 && doc.root->type == MJ_OBJ) {
        root = doc.root;
        if (json_int(root, "code", &code) == 0 && json_int(root, "version", &version) == 0 &&
            json_int(root, "opaque", &opaque) == 0 && json_int(root, "flag", &flag) == 0 &&
            json_ext(c, mj_get(root, "extFields")) == 0) {
            c->code = (int)code;
            c->version = (int)version;
            c->opaque = (int32_t)opaque;
            c->flag = (int32_t)flag;
            n = mj_get(root, "language");
            c->language = (n && n->type == MJ_STR) ? mb_language_code(n->str) : MB_LANG_JAVA;
            n = mj_get(root, "remark");
            if (n && n->type == MJ_STR) {
                c->remark = mb_xstrndup(n->str, n->len);
                c->remark_len = n->len;
            }
            rc = 0;
        }
    }
    mj_free(&doc);
    return rc;
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

/* A string of n bytes; length 0 decodes as null, like the Java reader. */
static int rd_str(reader *r, size_t n, char **out)
{
    if (r->len - r->pos < n)
        return -1;
    *out = n ? mb_xstrndup((const char *)r->p + r->pos, n) : NULL;
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
        if (rd_u16(&e, &kl) < 0 || rd_str(&e, kl, &key) < 0)
            return -1;
        if (rd_u32(&e, &vl) < 0 || vl > e.len || rd_str(&e, vl, &val) < 0) {
            free(key);
            return -1;
        }
        if (!key) { /* a null key cannot be stored in the Java map either */
            free(val);
            continue;
        }
        ext_push(c, key, kl, val, val ? vl : 0);
    }
    return 0;
}

static int decode_bin_header(mb_cmd *c, const unsigned char *h, size_t hl, const char **err)
{
    reader r;
    uint32_t opaque, flag, remark_len, ext_len;
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
    if (remark_len > hl || rd_str(&r, remark_len, &c->remark) < 0)
        return -1;
    c->remark_len = c->remark ? remark_len : 0;
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

static void encode_json_header(const mb_cmd *c, mb_buf *out)
{
    /* fastjson writes bean properties alphabetically; null ones are omitted */
    mb_buf_printf(out, "{\"code\":%d,", c->code);
    if (c->has_ext) {
        mb_buf_puts(out, "\"extFields\":");
        mb_cmd_ext_json(c, out);
        mb_buf_putc(out, ',');
    }
    mb_buf_printf(out, "\"flag\":%d,\"language\":\"%s\",\"opaque\":%d,", (int)c->flag,
                  c->language >= 0 ? mb_language_name(c->language) : "JAVA", (int)c->opaque);
    if (c->remark) {
        mb_buf_puts(out, "\"remark\":");
        mj_put_str(out, c->remark, c->remark_len);
        mb_buf_putc(out, ',');
    }
    mb_buf_printf(out, "\"serializeTypeCurrentRPC\":\"JSON\",\"version\":%d}", c->version);
}

static void encode_bin_header(const mb_cmd *c, mb_buf *out)
{
    size_t i, ext_len = 0, ext_len_at;
    mb_buf_put_u16(out, (uint16_t)c->code);
    mb_buf_putc(out, c->language >= 0 ? c->language : MB_LANG_JAVA);
    mb_buf_put_u16(out, (uint16_t)c->version);
    mb_buf_put_u32(out, (uint32_t)c->opaque);
    mb_buf_put_u32(out, (uint32_t)c->flag);
    mb_buf_put_u32(out, (uint32_t)(c->remark ? c->remark_len : 0));
    if (c->remark)
        mb_buf_put(out, c->remark, c->remark_len);
    ext_len_at = out->len;
    mb_buf_put_u32(out, 0);
    for (i = 0; i < c->next; i++) {
        const mb_kv *kv = &c->ext[i];
        if (!kv->val) /* nulls are not sent */
            continue;
        mb_buf_put_u16(out, (uint16_t)kv->key_len);
        mb_buf_put(out, kv->key, kv->key_len);
        mb_buf_put_u32(out, (uint32_t)kv->val_len);
        mb_buf_put(out, kv->val, kv->val_len);
        ext_len += 6 + kv->key_len + kv->val_len;
    }
    mb_set_u32(out->p + ext_len_at, (uint32_t)ext_len);
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
    kv_free(p->kv, p->n);
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

static void props_put(mb_props *p, const char *k, size_t kl, const char *v, size_t vl)
{
    mb_kv *kv = props_find(p, k, kl);
    if (kv) {
        free(kv->val);
    } else {
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 8;
            p->kv = mb_xrealloc(p->kv, p->cap * sizeof *p->kv);
        }
        kv = &p->kv[p->n++];
        kv->key = mb_xstrndup(k, kl);
        kv->key_len = kl;
    }
    kv->val = mb_xstrndup(v, vl);
    kv->val_len = vl;
}

void mb_props_parse(mb_props *p, const char *s, size_t len)
{
    size_t start = 0;
    memset(p, 0, sizeof *p);
    while (start < len) {
        const char *chunk = s + start, *end = memchr(chunk, 2, len - start);
        size_t cl = end ? (size_t)(end - chunk) : len - start;
        const char *sep = cl >= 3 ? memchr(chunk, 1, cl) : NULL;
        /* a pair needs a non-empty name and a non-empty value */
        if (sep && sep != chunk && sep != chunk + cl - 1)
            props_put(p, chunk, (size_t)(sep - chunk), sep + 1, (size_t)(chunk + cl - sep - 1));
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
    props_put(p, key, strlen(key), val, strlen(val));
}

void mb_props_del(mb_props *p, const char *key)
{
    mb_kv *kv = props_find(p, key, strlen(key));
    if (!kv)
        return;
    free(kv->key);
    free(kv->val);
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
    snprintf(out, 33, "%08X%08X%016llX", (unsigned)ip, (unsigned)(uint32_t)port,
             (unsigned long long)(uint64_t)offset);
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int mb_offset_msg_id_decode(const char *id, uint32_t *ip, int32_t *port, int64_t *offset)
{
    unsigned char b[16];
    int i;
    if (strlen(id) != 32)
        return -1;
    for (i = 0; i < 16; i++) {
        int hi = hex_nibble(id[2 * i]), lo = hex_nibble(id[2 * i + 1]);
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
