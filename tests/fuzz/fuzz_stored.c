/* fuzz_stored - the stored-message decoder (rmq__stored_decode) over a
 * QUERY_MESSAGE body: records back to back, as a broker sends them, then
 * each decoded record through what the admin calls do with it (hosts and
 * offset id rendered, Java's key filter, rmq__ext_build with a
 * decompressor).
 *
 * The input is the body a peer sends, copied into a heap block of its
 * exact size. Checked on every run:
 *   - a record is accepted only when its TOTALSIZE fits what is left and
 *     its body, topic and properties lie inside it and fill it exactly;
 *   - the texts rendered fit their buffers and are NUL-terminated;
 *   - the message built holds the body, topic and properties it was given
 *     (the body inflated only when COMPRESSED is set), and frees cleanly. */
#include "fuzz.h"

static rmq_producer *fz_producer;

/* A "decompressor" that doubles what it is given, refusing what does not
 * fit: every inflated length up to the bound is reached. */
static size_t fz_double(void *arg, const void *in, size_t len, void *out, size_t cap)
{
    (void)arg;
    if (len * 2 > cap) return 0;
    memcpy(out, in, len);
    memcpy((uint8_t *)out + len, in, len);
    return len * 2;
}

static rmq_producer *fz_get_producer(void)
{
    static rmq_sim *sim;
    rmq_producer_config cfg;
    if (fz_producer) return fz_producer;
    sim = rmq_sim_create(1000);
    rmq_producer_config_init(&cfg);
    cfg.group = "fuzz";
    cfg.namesrv_addr = "10.0.0.1:9876";
    cfg.port = rmq_sim_port(sim);
    cfg.max_message_size = 65536;
    cfg.decompressor = fz_double;
    if (rmq_producer_create(&cfg, &fz_producer) != RMQ_OK) abort();
    return fz_producer;
}

static int within(rmq_slice s, const uint8_t *lo, const uint8_t *hi)
{
    return (const uint8_t *)s.ptr >= lo && (const uint8_t *)s.ptr + s.len <= hi;
}

static void check_record(const uint8_t *rec, const rmq__stored *m)
{
    rmq_producer *p = fz_get_producer();
    rmq__stored_text t;
    rmq__ext_src src;
    rmq_message_ext e;
    rmq__query q;
    const uint8_t *end = rec + m->store_size;
    FZ_CHECK(within(m->body, rec, end) && within(m->topic, rec, end) && within(m->props, rec, end));
    FZ_CHECK((const uint8_t *)m->props.ptr + m->props.len == end);
    FZ_CHECK(m->born.iplen == 4 || m->born.iplen == 16);
    rmq__stored_src(m, "broker-a", &t, &src);
    FZ_CHECK(strlen(t.born) < sizeof t.born && strlen(t.store) < sizeof t.store);
    FZ_CHECK(strlen(t.offset_msg_id) == (m->store.iplen == 4 ? 32u : 56u));
    memset(&q, 0, sizeof q);
    q.topic = "TopicTest";
    q.key = "k1";
    (void)rmq__query_match(&q, m);
    q.uniq = 1;
    (void)rmq__query_match(&q, m);
    if (rmq__ext_build(p, &src, &e) != RMQ_OK) return;
    if ((m->sysflag & 1) && m->body.len && m->body.len * 2 <= 65536) FZ_CHECK(e.body_len == m->body.len * 2);
    else FZ_CHECK(e.body_len == m->body.len && (!e.body_len || memcmp(e.body, m->body.ptr, e.body_len) == 0));
    FZ_CHECK(strlen(e.topic) <= m->topic.len);
    rmq_message_ext_free(p, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *body = (uint8_t *)malloc(size ? size : 1);
    size_t at = 0;
    rmq__stored m;
    memcpy(body, data, size);
    while (at < size) {
        if (rmq__stored_decode(body + at, size - at, &m)) break;
        FZ_CHECK(m.store_size >= 40 && (size_t)m.store_size <= size - at);
        check_record(body + at, &m);
        at += (size_t)m.store_size;
    }
    free(body);
    return 0;
}
