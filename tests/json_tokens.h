/* json_tokens.h - the JSON tokenizer the library read headers and route
 * bodies with before its pull reader (jsmn's design: a token array, each
 * token pointing into the text), kept for the tests: an independent
 * reader that fuzz_json checks against its own reference and that
 * fuzz_frame, test_perf and fuzz_json hold the pull reader to, and the
 * soak tool's line reader. Include after the implementation. */
#ifndef RMQ_TEST_JSON_TOKENS_H
#define RMQ_TEST_JSON_TOKENS_H

#ifndef RMQ_MAX_JSON_TOKENS
#define RMQ_MAX_JSON_TOKENS 1024
#endif

/* jsmn's idea: tokens point into the input, the caller owns the token array,
 * no recursion and a hard cap on tokens and depth. Each token records where
 * its subtree ends, so walking an object skips nested values in O(1).
 * Accepts, on purpose, fastjson's unquoted integer map keys ({0:"a:1"}),
 * which name servers older than 4.9.4 send in brokerAddrs. */
enum { RMQ__JSON_OBJECT = 1, RMQ__JSON_ARRAY, RMQ__JSON_STRING, RMQ__JSON_PRIMITIVE };

typedef struct rmq__jtok {
    uint8_t type;
    uint8_t escaped;        /* string holds backslash escapes */
    int32_t start, end;     /* byte range; strings without their quotes */
    int32_t parent;         /* -1 for the root */
    int32_t next;           /* index of the first token after this subtree */
} rmq__jtok;

typedef struct rmq__json {
    rmq__jtok *tok;
    int cap, n;
} rmq__json;

enum { RMQ__JSON_ENOMEM = -1, RMQ__JSON_EINVAL = -2, RMQ__JSON_EDEPTH = -3 };

/* Where the tokenizer stands inside its current container. */
enum { RMQ__J_VALUE, RMQ__J_KEY, RMQ__J_COLON, RMQ__J_COMMA_OR_END };

static RMQ__UNUSED int rmq__json_add(rmq__json *j, int type, int start, int end, int parent)
{
    rmq__jtok *t;
    if (j->n >= j->cap) return RMQ__JSON_ENOMEM;
    t = &j->tok[j->n];
    t->type = (uint8_t)type; t->escaped = 0; t->start = start; t->end = end;
    t->parent = parent; t->next = j->n + 1;
    return j->n++;
}

/* Scans a string starting after its opening quote; returns the index of the
 * closing quote or a negative error. Validates escapes. */
static RMQ__UNUSED int rmq__json_scan_string(const char *s, int len, int i, uint8_t *escaped)
{
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') return i;
        if (c < 0x20) return RMQ__JSON_EINVAL;
        if (c == '\\') {
            *escaped = 1;
            if (++i >= len) return RMQ__JSON_EINVAL;
            c = (unsigned char)s[i];
            if (c == 'u') {
                int k;
                for (k = 0; k < 4; k++)      /* bound first, then read */
                    if (++i >= len || rmq__hexval((unsigned char)s[i]) > 15) return RMQ__JSON_EINVAL;
            } else {
                const char *e = "\"\\/bfnrt";         /* the one-letter escapes */
                while (*e && (unsigned char)*e != c) e++;
                if (!*e) return RMQ__JSON_EINVAL;
            }
        }
    }
    return RMQ__JSON_EINVAL;
}

/* A primitive: number, true, false or null (checked loosely: the callers
 * parse the numbers they need). As a key, only an integer is accepted. */
static RMQ__UNUSED int rmq__json_scan_primitive(const char *s, int len, int i, int as_key)
{
    int start = i;
    while (i < len && rmq__json_is_prim_char((unsigned char)s[i])) i++;
    if (i == start) return RMQ__JSON_EINVAL;
    if (as_key) {
        int k = start + (s[start] == '-');
        if (k == i) return RMQ__JSON_EINVAL;
        for (; k < i; k++) if (s[k] < '0' || s[k] > '9') return RMQ__JSON_EINVAL;
    }
    return i;
}

/* Adds the string or primitive starting at s[i] as a child of cur (only an
 * integer primitive as a key); returns the index of its last byte, or a
 * negative error. */
static RMQ__UNUSED int rmq__json_scalar(rmq__json *j, const char *s, int len, int i, int cur, int as_key)
{
    int e, t;
    if (s[i] == '"') {
        uint8_t esc = 0;
        e = rmq__json_scan_string(s, len, i + 1, &esc);
        if (e < 0) return e;
        t = rmq__json_add(j, RMQ__JSON_STRING, i + 1, e, cur);
        if (t < 0) return t;
        j->tok[t].escaped = esc;
        return e;
    }
    e = rmq__json_scan_primitive(s, len, i, as_key);
    if (e < 0) return e;
    t = rmq__json_add(j, RMQ__JSON_PRIMITIVE, i, e, cur);
    return t < 0 ? t : e - 1;
}

/* Tokenizes one JSON value filling j->tok; returns the token count. */
static RMQ__UNUSED int rmq__json_parse(rmq__json *j, const char *s, size_t slen)
{
    int len = (int)slen, i = 0, cur = -1, depth = 0, state = RMQ__J_VALUE, done = 0;
    j->n = 0;
    if (slen > 0x7FFFFFFF) return RMQ__JSON_EINVAL;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int t, e;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
        if (done) return RMQ__JSON_EINVAL;            /* trailing bytes */
        switch (state) {
        case RMQ__J_COLON:
            if (c != ':') return RMQ__JSON_EINVAL;
            state = RMQ__J_VALUE;
            continue;
        case RMQ__J_COMMA_OR_END:
            if (c == ',') { state = j->tok[cur].type == RMQ__JSON_OBJECT ? RMQ__J_KEY : RMQ__J_VALUE; continue; }
            if ((c == '}' && j->tok[cur].type == RMQ__JSON_OBJECT) ||
                (c == ']' && j->tok[cur].type == RMQ__JSON_ARRAY)) goto close;
            return RMQ__JSON_EINVAL;
        case RMQ__J_KEY:
            if (c == '}' && cur == j->n - 1) goto close;    /* empty: nothing added since '{' */
            e = rmq__json_scalar(j, s, len, i, cur, 1);
            if (e < 0) return e;
            i = e;
            state = RMQ__J_COLON;
            continue;
        default: break;
        }
        /* RMQ__J_VALUE */
        if (c == '{' || c == '[') {
            if (++depth > RMQ_MAX_JSON_DEPTH) return RMQ__JSON_EDEPTH;
            t = rmq__json_add(j, c == '{' ? RMQ__JSON_OBJECT : RMQ__JSON_ARRAY, i, -1, cur);
            if (t < 0) return t;
            cur = t;
            state = c == '{' ? RMQ__J_KEY : RMQ__J_VALUE;
            continue;
        }
        if (c == ']' && cur >= 0 && j->tok[cur].type == RMQ__JSON_ARRAY && cur == j->n - 1) goto close;
        e = rmq__json_scalar(j, s, len, i, cur, 0);
        if (e < 0) return e;
        i = e;
        if (cur < 0) done = 1;
        state = RMQ__J_COMMA_OR_END;
        continue;
    close:
        j->tok[cur].end = i + 1;
        j->tok[cur].next = j->n;
        depth--;
        cur = j->tok[cur].parent;
        if (cur < 0) done = 1;
        state = RMQ__J_COMMA_OR_END;
    }
    if (!done) return RMQ__JSON_EINVAL;
    return j->n;
}

/* The value token of key in object obj, or -1. Keys compare raw (the keys
 * the library looks up never need escapes). */
static RMQ__UNUSED int rmq__json_get(const rmq__json *j, const char *s, int obj, const char *key)
{
    int i, klen = (int)RMQ_STRLEN(key);
    if (obj < 0 || j->tok[obj].type != RMQ__JSON_OBJECT) return -1;
    for (i = obj + 1; i < j->tok[obj].next; i = j->tok[i + 1].next) {
        const rmq__jtok *k = &j->tok[i];
        if (k->end - k->start == klen && RMQ_MEMCMP(s + k->start, key, (size_t)klen) == 0) return i + 1;
    }
    return -1;
}

/* A token's text as a slice; escaped strings are unescaped in place, so the
 * input must be writable and each token read once this way. */
static RMQ__UNUSED rmq_slice rmq__json_slice(rmq__json *j, char *s, int t)
{
    rmq_slice r;
    rmq__jtok *k = &j->tok[t];
    r.ptr = s + k->start;
    r.len = (size_t)(k->end - k->start);
    if (k->type == RMQ__JSON_STRING && k->escaped) {
        r.len = rmq__json_unescape(s + k->start, r.len, s + k->start);
        k->end = k->start + (int32_t)r.len;
        k->escaped = 0;
    }
    return r;
}

static RMQ__UNUSED int rmq__json_i64(const rmq__json *j, const char *s, int t, int64_t *out)
{
    if (t < 0 || (j->tok[t].type != RMQ__JSON_PRIMITIVE && j->tok[t].type != RMQ__JSON_STRING)) return -1;
    return rmq__parse_i64(s + j->tok[t].start, (size_t)(j->tok[t].end - j->tok[t].start), out);
}

/* Copies a string token (unescaped) into a fixed buffer; fails if too long. */
static RMQ__UNUSED int rmq__json_copy(rmq__json *j, char *s, int t, char *dst, size_t cap)
{
    rmq_slice v;
    if (t < 0 || j->tok[t].type != RMQ__JSON_STRING) return -1;
    v = rmq__json_slice(j, s, t);
    if (v.len >= cap) return -1;
    RMQ_MEMCPY(dst, v.ptr, v.len);
    dst[v.len] = 0;
    return 0;
}

/* The header members as the library reads them (rmq__header_members),
 * through the tokens: the pull reader's oracle. Keys of the header's own
 * members compare as written; extFields' keys and values are unescaped. */
static RMQ__UNUSED int rmq__header_decode_tokens(char *hdr, size_t len, rmq__json *j, rmq_command *c)
{
    int n = rmq__json_parse(j, hdr, len), i, t, m;
    int64_t v;
    if (n < 1 || j->tok[0].type != RMQ__JSON_OBJECT) return -1;
    c->language = 0;
    for (i = 1; i < j->tok[0].next; i = j->tok[i + 1].next) {
        rmq_slice key;
        key.ptr = hdr + j->tok[i].start;
        key.len = (size_t)(j->tok[i].end - j->tok[i].start);
        t = i + 1;
        for (m = 0; m < RMQ__HM_COUNT && !rmq__slice_eq(key, rmq__header_members[m]); m++) {}
        if (m <= RMQ__HM_VERSION) {
            if (rmq__json_i64(j, hdr, t, &v) || v < INT32_MIN || v > INT32_MAX) return -1;
            if (m == RMQ__HM_CODE) c->code = (int32_t)v;
            else if (m == RMQ__HM_OPAQUE) c->opaque = (int32_t)v;
            else if (m == RMQ__HM_FLAG) c->flag = (int32_t)v;
            else c->version = (int32_t)v;
        } else if (m == RMQ__HM_LANGUAGE && j->tok[t].type == RMQ__JSON_STRING) {
            c->language = rmq__language_code(rmq__json_slice(j, hdr, t));
        } else if (m == RMQ__HM_REMARK && j->tok[t].type == RMQ__JSON_STRING) {
            c->remark = rmq__json_slice(j, hdr, t);
        } else if (m == RMQ__HM_EXT_FIELDS && j->tok[t].type == RMQ__JSON_OBJECT) {
            int k;
            for (k = t + 1; k < j->tok[t].next; k = j->tok[k + 1].next) {
                if (j->tok[k + 1].type != RMQ__JSON_STRING && j->tok[k + 1].type != RMQ__JSON_PRIMITIVE) continue;
                if (c->next >= RMQ_MAX_EXT_FIELDS) return -1;
                c->ext[c->next].key = rmq__json_slice(j, hdr, k);
                c->ext[c->next].value = rmq__json_slice(j, hdr, k + 1);
                c->next++;
            }
        }
    }
    return 0;
}

static RMQ__UNUSED int rmq__route_parse_broker(rmq__json *j, char *s, int t, rmq__route_data *rd, rmq_reason *why)
{
    int name = rmq__json_get(j, s, t, "brokerName"), addrs = rmq__json_get(j, s, t, "brokerAddrs"), k;
    uint32_t b = rd->nbrokers;
    if (j->tok[t].type != RMQ__JSON_OBJECT) return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_DATA);
    if (b >= RMQ_MAX_BROKERS) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_BROKERS);
    if (rmq__json_copy(j, s, name, rd->brokers[b].name, sizeof rd->brokers[b].name))
        return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_NAME);
    rd->brokers[b].naddrs = 0;
    if (addrs >= 0 && j->tok[addrs].type == RMQ__JSON_OBJECT) {
        for (k = addrs + 1; k < j->tok[addrs].next; k = j->tok[k + 1].next) {
            int64_t id;
            uint8_t n = rd->brokers[b].naddrs;
            rmq_slice key = rmq__json_slice(j, s, k);     /* "0" or fastjson's bare 0 */
            if (rmq__parse_i64(key.ptr, key.len, &id) || id < 0 || id > INT32_MAX)
                return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_ID);
            if (n >= RMQ_MAX_BROKER_ADDRS) continue;           /* extra slaves are not needed */
            rd->brokers[b].addrs[n].id = (int32_t)id;
            if (rmq__json_copy(j, s, k + 1, rd->brokers[b].addrs[n].addr, sizeof rd->brokers[b].addrs[n].addr))
                return rmq__route_refuse(why, RMQ_R_ROUTE_BROKER_ADDR);
            rd->brokers[b].naddrs++;
        }
    }
    rd->nbrokers++;
    return 0;
}

static RMQ__UNUSED int rmq__route_parse_queue_data(rmq__json *j, char *s, int t, rmq__route_data *rd, rmq_reason *why)
{
    uint32_t q = rd->nqueue_datas;
    int64_t perm, rq, wq;
    if (j->tok[t].type != RMQ__JSON_OBJECT) return rmq__route_refuse(why, RMQ_R_ROUTE_QUEUE_DATA);
    if (q >= RMQ_MAX_BROKERS) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_QUEUE_DATAS);
    if (rmq__json_copy(j, s, rmq__json_get(j, s, t, "brokerName"), rd->queue_datas[q].broker,
                       sizeof rd->queue_datas[q].broker))
        return rmq__route_refuse(why, RMQ_R_ROUTE_QUEUE_BROKER_NAME);
    if (rmq__json_i64(j, s, rmq__json_get(j, s, t, "perm"), &perm) ||
        rmq__json_i64(j, s, rmq__json_get(j, s, t, "readQueueNums"), &rq) ||
        rmq__json_i64(j, s, rmq__json_get(j, s, t, "writeQueueNums"), &wq) ||
        perm < 0 || rq < 0 || wq < 0 || rq > 65535 || wq > 65535 || perm > 255)
        return rmq__route_refuse(why, RMQ_R_ROUTE_QUEUE_NUMS);
    rd->queue_datas[q].perm = (int32_t)perm;
    rd->queue_datas[q].read = (int32_t)rq;
    rd->queue_datas[q].write = (int32_t)wq;
    rd->nqueue_datas++;
    return 0;
}

/* A TopicRouteData body as the library read it through the tokens: the
 * pull reader's oracle (it reads brokerDatas, then queueDatas, then
 * orderTopicConf, whatever their order: of two faults it may name another
 * than the pull reader, never refuse what that takes or take what it
 * refuses). */
static RMQ__UNUSED int rmq__route_parse_tokens(rmq__json *j, char *s, size_t len, rmq__route_data *rd, rmq_reason *why)
{
    int n = rmq__json_parse(j, s, len), t, k;
    rd->nbrokers = rd->nqueue_datas = 0;
    rd->order_conf[0] = 0;
    if (n == RMQ__JSON_ENOMEM) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_JSON_TOKENS);
    if (n == RMQ__JSON_EDEPTH) return rmq__route_refuse(why, RMQ_R_ROUTE_MAX_JSON_DEPTH);
    if (n < 1 || j->tok[0].type != RMQ__JSON_OBJECT) return rmq__route_refuse(why, RMQ_R_ROUTE_NOT_OBJECT);
    t = rmq__json_get(j, s, 0, "brokerDatas");
    if (t >= 0 && j->tok[t].type == RMQ__JSON_ARRAY)
        for (k = t + 1; k < j->tok[t].next; k = j->tok[k].next)
            if (rmq__route_parse_broker(j, s, k, rd, why)) return -1;
    t = rmq__json_get(j, s, 0, "queueDatas");
    if (t >= 0 && j->tok[t].type == RMQ__JSON_ARRAY)
        for (k = t + 1; k < j->tok[t].next; k = j->tok[k].next)
            if (rmq__route_parse_queue_data(j, s, k, rd, why)) return -1;
    t = rmq__json_get(j, s, 0, "orderTopicConf");
    if (t >= 0 && j->tok[t].type == RMQ__JSON_STRING &&
        rmq__json_copy(j, s, t, rd->order_conf, sizeof rd->order_conf))
        return rmq__route_refuse(why, RMQ_R_ROUTE_ORDER_CONF);
    return 0;
}

/* A token for every byte of a len-byte text: no cap to disagree on. Free
 * j->tok after. Returns 0 when out of memory. */
static RMQ__UNUSED int rmq__json_tokens_for(rmq__json *j, size_t len)
{
    j->tok = (rmq__jtok *)malloc((len + 1) * sizeof *j->tok);
    j->cap = (int)len + 1;
    j->n = 0;
    return j->tok != NULL;
}

#endif
