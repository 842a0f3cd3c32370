/* fuzz_route - the route parser (rmq__route_parse) and the publish queue
 * list built from it (rmq__route_publish_queues), then queue selection.
 *
 * Input: one option byte, then a TopicRouteData body as a name server
 * sends it. The option byte chooses the default queue count (0: the topic's
 * own route; else a route asked for on behalf of a new topic), whether the
 * broker address table starts with stale entries, and the latency fault
 * switch. Checked on every run:
 *   - the parser never crashes nor reads past the body, and what it keeps
 *     stays within its bounds (names, addresses, counts, perm, queue nums);
 *   - the publish list is the one Java's topicRouteData2TopicPublishInfo
 *     makes, recomputed here independently: queue datas sorted by broker
 *     name, writable ones whose broker has a master, queue ids 0..n-1 (or
 *     orderTopicConf's list), nothing over RMQ_MAX_QUEUES;
 *   - every broker a queue names is in the address table with that name;
 *   - the same route applied twice gives the same list;
 *   - selection always returns an index of the list. */
#include "fuzz.h"
#include "../json_tokens.h"

/* The body read by the tests' tokenizer too (json_tokens.h), from its own
 * copy, with a token for every byte: both take it or both refuse it; taken,
 * what both keep is the same; refused as malformed or too deep, for the
 * same reason (of two faults of meaning they may name different ones: the
 * pull reader names the first written). */
static void check_against_tokens(const uint8_t *data, size_t size, int rc, const rmq__route_data *rd,
                                 const rmq_reason *why)
{
    static rmq__route_data td;
    char *copy = (char *)fz_dup(data, size);
    rmq__json j;
    rmq_reason twhy;
    int trc;
    FZ_CHECK(rmq__json_tokens_for(&j, size));
    memset(&td, 0, sizeof td);
    trc = rmq__route_parse_tokens(&j, copy, size, &td, &twhy);
    FZ_CHECK((rc == 0) == (trc == 0));
    if (trc == 0) {
        uint32_t b, a;
        FZ_CHECK(td.nbrokers == rd->nbrokers && td.nqueue_datas == rd->nqueue_datas);
        FZ_CHECK(strcmp(td.order_conf, rd->order_conf) == 0);
        for (b = 0; b < td.nbrokers; b++) {
            FZ_CHECK(strcmp(td.brokers[b].name, rd->brokers[b].name) == 0);
            FZ_CHECK(td.brokers[b].naddrs == rd->brokers[b].naddrs);
            for (a = 0; a < td.brokers[b].naddrs; a++)
                FZ_CHECK(td.brokers[b].addrs[a].id == rd->brokers[b].addrs[a].id &&
                         strcmp(td.brokers[b].addrs[a].addr, rd->brokers[b].addrs[a].addr) == 0);
        }
        for (b = 0; b < td.nqueue_datas; b++)
            FZ_CHECK(strcmp(td.queue_datas[b].broker, rd->queue_datas[b].broker) == 0 &&
                     td.queue_datas[b].perm == rd->queue_datas[b].perm &&
                     td.queue_datas[b].read == rd->queue_datas[b].read &&
                     td.queue_datas[b].write == rd->queue_datas[b].write);
    } else if (twhy.code[1] == RMQ_R_ROUTE_NOT_OBJECT || twhy.code[1] == RMQ_R_ROUTE_MAX_JSON_DEPTH) {
        FZ_CHECK(why->code[1] == twhy.code[1]);
    }
    free(j.tok);
    free(copy);
}

static int bounded(const char *s, size_t cap)
{
    return memchr(s, 0, cap) != NULL;
}

static void check_data(const rmq__route_data *rd)
{
    uint32_t b, a;
    FZ_CHECK(rd->nbrokers <= RMQ_MAX_BROKERS && rd->nqueue_datas <= RMQ_MAX_BROKERS);
    FZ_CHECK(bounded(rd->order_conf, sizeof rd->order_conf));
    for (b = 0; b < rd->nbrokers; b++) {
        FZ_CHECK(bounded(rd->brokers[b].name, sizeof rd->brokers[b].name));
        FZ_CHECK(rd->brokers[b].naddrs <= RMQ_MAX_BROKER_ADDRS);
        for (a = 0; a < rd->brokers[b].naddrs; a++) {
            FZ_CHECK(rd->brokers[b].addrs[a].id >= 0);
            FZ_CHECK(bounded(rd->brokers[b].addrs[a].addr, sizeof rd->brokers[b].addrs[a].addr));
        }
    }
    for (b = 0; b < rd->nqueue_datas; b++) {
        FZ_CHECK(bounded(rd->queue_datas[b].broker, sizeof rd->queue_datas[b].broker));
        FZ_CHECK(rd->queue_datas[b].perm >= 0 && rd->queue_datas[b].perm <= 255);
        FZ_CHECK(rd->queue_datas[b].read >= 0 && rd->queue_datas[b].read <= 65535);
        FZ_CHECK(rd->queue_datas[b].write >= 0 && rd->queue_datas[b].write <= 65535);
    }
}

/* Java takes the first broker data of a name; a master is an address of id 0. */
static int has_master(const rmq__route_data *rd, const char *name)
{
    uint32_t b, a;
    for (b = 0; b < rd->nbrokers; b++) {
        if (strcmp(rd->brokers[b].name, name) != 0) continue;
        for (a = 0; a < rd->brokers[b].naddrs; a++) if (rd->brokers[b].addrs[a].id == 0) return 1;
        return 0;
    }
    return 0;
}

static int cmp_bytes(const char *a, const char *b)
{
    return strcmp(a, b);   /* glibc compares as unsigned char, as Java's compareTo on ASCII */
}

/* The expected list without orderTopicConf: a stable sort by broker name. */
static size_t expected(const rmq__route_data *rd, int dqn, const char **names, uint16_t *ids, size_t cap, int *over)
{
    uint32_t order[RMQ_MAX_BROKERS], i, k;
    size_t n = 0;
    *over = 0;
    for (i = 0; i < rd->nqueue_datas; i++) order[i] = i;
    for (i = 0; i < rd->nqueue_datas; i++)            /* selection of the smallest, earliest first: stable */
        for (k = i + 1; k < rd->nqueue_datas; k++)
            if (cmp_bytes(rd->queue_datas[order[k]].broker, rd->queue_datas[order[i]].broker) < 0 ||
                (cmp_bytes(rd->queue_datas[order[k]].broker, rd->queue_datas[order[i]].broker) == 0 && order[k] < order[i])) {
                uint32_t t = order[i]; order[i] = order[k]; order[k] = t;
            }
    for (i = 0; i < rd->nqueue_datas; i++) {
        const char *bn = rd->queue_datas[order[i]].broker;
        int32_t w = dqn ? rd->queue_datas[order[i]].read : rd->queue_datas[order[i]].write, q;
        if (dqn && w > dqn) w = dqn;
        if (!(rd->queue_datas[order[i]].perm & 2) || !has_master(rd, bn)) continue;
        for (q = 0; q < w; q++) {
            if (n >= cap) { *over = 1; return n; }
            names[n] = bn;
            ids[n++] = (uint16_t)q;
        }
    }
    return n;
}

/* The expected list of an orderTopicConf "name:count;...". */
static size_t expected_order(const char *conf, char (*names)[RMQ_BROKER_NAME_MAX_LEN + 1], uint16_t *ids, size_t cap, int *over)
{
    size_t n = 0;
    const char *p = conf;
    *over = 0;
    while (*p) {
        const char *end = strchr(p, ';'), *colon = NULL, *c;
        int64_t num = -1;
        if (!end) end = p + strlen(p);
        for (c = p; c < end; c++) if (*c == ':') colon = c;
        if (colon && colon > p && (size_t)(colon - p) <= RMQ_BROKER_NAME_MAX_LEN) {
            int64_t v = 0;
            int neg = 0, digits = 0;
            const char *d = colon + 1;
            if (d < end && (*d == '+' || *d == '-')) { neg = *d == '-'; d++; }
            for (; d < end && *d >= '0' && *d <= '9' && v <= INT32_MAX; d++, digits++) v = v * 10 + (*d - '0');
            if (d == end && digits && !neg && v <= INT32_MAX) num = v;
            else if (d == end && digits && neg && v == 0) num = 0;
        }
        if (num >= 0) {
            int64_t q;
            for (q = 0; q < num; q++) {
                if (n >= cap) { *over = 1; return n; }
                memcpy(names[n], p, (size_t)(colon - p));
                names[n][colon - p] = 0;
                ids[n++] = (uint16_t)q;
            }
        }
        p = *end ? end + 1 : end;
    }
    return n;
}

static void check_list(const rmq__pubq *out, size_t n, const rmq__broker *table)
{
    size_t i;
    for (i = 0; i < n; i++) {
        FZ_CHECK(out[i].broker < RMQ_MAX_BROKERS && table[out[i].broker].used);
        FZ_CHECK(bounded(table[out[i].broker].name, sizeof table[out[i].broker].name));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rmq__route_data rd;
    static rmq__broker table[RMQ_MAX_BROKERS];
    static rmq_producer_config fz_cfg;
    static rmq__pubq out[RMQ_MAX_QUEUES], out2[RMQ_MAX_QUEUES];
    static const char *names[RMQ_MAX_QUEUES];
    static char onames[RMQ_MAX_QUEUES][RMQ_BROKER_NAME_MAX_LEN + 1];
    static uint16_t ids[RMQ_MAX_QUEUES];
    rmq_reason why;
    char text[RMQ_REASON_MAX_LEN + 1];
    uint8_t opt;
    char *body;
    size_t n = 0, n2 = 0, want, i;
    int order = 0, order2 = 0, dqn, over, rc;
    if (size < 1 || size > 1u << 20) return 0;
    opt = data[0];
    body = (char *)fz_dup(data + 1, size - 1);
    why.code[0] = RMQ_R_NONE;
    rc = rmq__route_parse(body, size - 1, &rd, &why);
    check_against_tokens(data + 1, size - 1, rc, &rd, &why);
    if (rc != 0) {
        FZ_CHECK(strncmp(rmq__reason_text(&why, NULL, text, sizeof text), "route data refused: ", 20) == 0);
        free(body);
        return 0;
    }
    check_data(&rd);
    dqn = (opt & 7) == 0 ? 0 : (opt & 7) == 7 ? 1024 : opt & 7;
    memset(table, 0, sizeof table);
    rmq_producer_config_init(&fz_cfg);
    if (opt & 8) {                      /* stale entries of an earlier route */
        for (i = 0; i < RMQ_MAX_BROKERS / 2; i++) {
            table[i * 2].used = 1;
            snprintf(table[i * 2].name, sizeof table[i * 2].name, "broker-%c", (char)('a' + i));
        }
    }
    rc = rmq__route_publish_queues(&rd, table, dqn, out, &n, &order, &why);
    if (rc == 0) {
        FZ_CHECK(n <= RMQ_MAX_QUEUES);
        check_list(out, n, table);
        FZ_CHECK(order == (rd.order_conf[0] && !dqn));
        if (order) {
            want = expected_order(rd.order_conf, onames, ids, RMQ_MAX_QUEUES, &over);
            FZ_CHECK(!over && want == n);
            for (i = 0; i < n; i++)
                FZ_CHECK(strcmp(table[out[i].broker].name, onames[i]) == 0 && out[i].queue_id == ids[i]);
        } else {
            want = expected(&rd, dqn, names, ids, RMQ_MAX_QUEUES, &over);
            FZ_CHECK(!over && want == n);
            for (i = 0; i < n; i++)
                FZ_CHECK(strcmp(table[out[i].broker].name, names[i]) == 0 && out[i].queue_id == ids[i]);
        }
        FZ_CHECK(rmq__route_publish_queues(&rd, table, dqn, out2, &n2, &order2, &why) == 0);
        FZ_CHECK(n2 == n && order2 == order && memcmp(out, out2, n * sizeof *out) == 0);
        if (n) {
            uint32_t rr = (uint32_t)opt * 2654435761u;
            int k;
            for (k = 0; k < 4; k++) {
                int last = k == 0 ? -1 : out[(size_t)k % n].broker;
                int pick = rmq__route_select(out, n, &rr, last, table, (opt & 16) != 0, (uint32_t)k * 40000u);
                FZ_CHECK(pick >= 0 && (size_t)pick < n);
                if (opt & 16) rmq__fault_update(&table[out[pick].broker], &fz_cfg, (uint32_t)k * 40000u, (uint32_t)k * 700u, k & 1);
            }
        }
    } else {
        FZ_CHECK(strncmp(rmq__reason_text(&why, NULL, text, sizeof text), "route data refused: ", 20) == 0);
    }
    for (i = 0; i < RMQ_MAX_BROKERS; i++) {
        size_t k;
        if (!table[i].used) continue;
        for (k = i + 1; k < RMQ_MAX_BROKERS; k++)
            FZ_CHECK(!table[k].used || strcmp(table[i].name, table[k].name) != 0);
    }
    free(body);
    return 0;
}
