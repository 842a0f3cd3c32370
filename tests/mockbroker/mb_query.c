/* mb_query.c - QUERY_MESSAGE as a 4.9.8 broker answers it
 * (QueryMessageProcessor.queryMessage over DefaultMessageStore.queryMessage).
 *
 * The index holds "topic#key" for every key of KEYS and for the UNIQ_KEY;
 * a hit is a message of the topic stored within [beginTimestamp,
 * endTimestamp], newest first, at most maxNum of them (the store's
 * maxMsgsNumBatch 64 caps it; a unique-key query gets defaultQueryMaxNum
 * 32 whatever it asked). Found messages go back as stored records back to
 * back, written by a FileRegion with a header in the broker's default
 * serialization (JSON) whatever the request used; nothing found is
 * QUERY_NOT_FOUND through the normal path (the request's serialization).
 * Both carry indexLastUpdateTimestamp and indexLastUpdatePhyoffset: here
 * the store time and offset of the broker's newest message. */
#include "mb_app.h"

#include <stdio.h>
#include <string.h>

#define QUERY_MAX_BATCH 64      /* MessageStoreConfig.maxMsgsNumBatch */
#define QUERY_UNIQ_MAX 32       /* MessageStoreConfig.defaultQueryMaxNum */

/* key among the space-separated keys, or the UNIQ_KEY */
static int indexed_under(const mb_msg *m, const char *key)
{
    mb_buf raw = {0};
    mb_props p;
    const char *keys, *uniq, *at;
    size_t kl = strlen(key);
    int hit = 0;
    mb_msg_stored_props(m, &raw);
    memset(&p, 0, sizeof p);
    mb_props_parse(&p, (const char *)raw.p, raw.len);
    keys = mb_props_get(&p, "KEYS");
    uniq = mb_props_get(&p, "UNIQ_KEY");
    if (uniq && strcmp(uniq, key) == 0) hit = 1;
    for (at = keys; !hit && at && *at;) {
        const char *end = strchr(at, ' ');
        size_t n = end ? (size_t)(end - at) : strlen(at);
        if (n == kl && memcmp(at, key, kl) == 0) hit = 1;
        at = end ? end + 1 : NULL;
    }
    mb_props_free(&p);
    mb_buf_free(&raw);
    return hit;
}

int mb_query_message(mb_app *app, mb_conn *c, const mb_cmd *req, mb_reply *r)
{
    const char *topic = mb_cmd_ext(req, "topic"), *key = mb_cmd_ext(req, "key");
    const char *uniq = mb_cmd_ext(req, "_UNIQUE_KEY_QUERY");
    int32_t max = 0;
    int64_t begin = 0, end = 0, last_ts = 0, last_off = 0;
    size_t i, found = 0;
    char num[32];
    mb_parse_i32(mb_cmd_ext(req, "maxNum"), &max);
    mb_parse_i64(mb_cmd_ext(req, "beginTimestamp"), &begin);
    mb_parse_i64(mb_cmd_ext(req, "endTimestamp"), &end);
    if (uniq && strcmp(uniq, "true") == 0) max = QUERY_UNIQ_MAX;
    if (max > QUERY_MAX_BATCH) max = QUERY_MAX_BATCH;
    for (i = app->nmsgs; i-- > 0;) {
        const mb_msg *m = &app->msgs[i];
        if (&app->servers[m->broker] != c->srv) continue;
        if (m->store_ts > last_ts) { last_ts = m->store_ts; last_off = m->commit_offset; }
        /* a half message is indexed under the half topic */
        if ((int32_t)found >= max || !topic || !key || m->tran_state != TRAN_NONE || strcmp(m->topic, topic) != 0) continue;
        if (m->store_ts < begin || m->store_ts > end || !indexed_under(m, key)) continue;
        mb_msg_stored_record(app, m, &r->body, 0);
        found++;
    }
    snprintf(num, sizeof num, "%lld", (long long)last_ts);
    mb_cmd_add_ext(&r->cmd, "indexLastUpdateTimestamp", num);
    snprintf(num, sizeof num, "%lld", (long long)last_off);
    mb_cmd_add_ext(&r->cmd, "indexLastUpdatePhyoffset", num);
    if (!found) {
        r->cmd.code = 22;                           /* QUERY_NOT_FOUND */
        mb_cmd_set_remark(&r->cmd, "can not find message, maybe time range not correct");
        return 1;
    }
    r->cmd.ser = MB_SER_JSON;
    return 1;
}
