/* A heap-free producer end to end: RMQ_NO_MALLOC, every byte of the
 * library from one static pool of NOMALLOC_POOL_BYTES, over the POSIX port
 * to the mock cluster.
 *
 * 100,000 messages: async ones with NOMALLOC_WINDOW in flight, and every
 * NOMALLOC_SYNC_EVERY-th one sync. Every send and every callback must be
 * OK and the mock must store exactly 100,000. The pool must hold at the end
 * what it held halfway, once connections and routes were made (a block
 * lost per message would show), after shutdown what it held after create,
 * and nothing after destroy. The pool's peak is printed; the README states
 * its size. A second test runs nm on the library object built with
 * RMQ_NO_MALLOC (RMQ_NOMALLOC_LIB_OBJ) and finds no malloc, free, realloc
 * or calloc in it. (The POSIX port allocates its own connection records
 * with malloc: it is the host's port, not the library.)
 *
 *     build/san/test_nomalloc        from the repository root (the mock's
 *                                    binary: $MOCKBROKER, else
 *                                    tests/mockbroker/mockbroker)
 *
 * Built -O2 without sanitizers (tools/size.mk): a pool build gives ASan no
 * heap to watch, and 100,000 round trips under it take minutes. */
#ifndef RMQ_NO_MALLOC
#define RMQ_NO_MALLOC
#endif
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_POSIX_IMPLEMENTATION
#define MOCK_CLIENT_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_posix.h"
#include "mockbroker/mock_client.h"
#include "rmq_test.h"

#include <time.h>

/* The pool, for the default bounds of section 1 of the header: the run
 * peaks at about 221 KiB (most of it the client instance's tables, 140 KiB
 * from the first send on) and fails below 224 KiB (first fit fragments a
 * little); 256 KiB is the smallest round size with room to spare. The
 * README states this size. */
#ifndef NOMALLOC_POOL_BYTES
#define NOMALLOC_POOL_BYTES (256u * 1024u)
#endif
#ifndef NOMALLOC_MESSAGES
#define NOMALLOC_MESSAGES 100000
#endif
#ifndef NOMALLOC_WINDOW
#define NOMALLOC_WINDOW 32
#endif
#define NOMALLOC_SYNC_EVERY 100
#define NOMALLOC_TOPIC "NoMallocTopic"
#define NOMALLOC_BODY_MAX 200

#ifndef RMQ_NOMALLOC_LIB_OBJ
#define RMQ_NOMALLOC_LIB_OBJ "build/san/nomalloc_lib.o"
#endif

static uint64_t pool_mem[NOMALLOC_POOL_BYTES / sizeof(uint64_t)];
static rmq_pool pool;

/* Async completions. */
static struct {
    long ok, failed, inflight;
    rmq_err first_err;
    char first_reason[RMQ_REASON_MAX_LEN + 1];
} cb;

static void on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)user;
    cb.inflight--;
    if (err == RMQ_OK && res->status == RMQ_SEND_OK) { cb.ok++; return; }
    if (!cb.failed++) {
        cb.first_err = err;
        rmq_result_reason(res, cb.first_reason, sizeof cb.first_reason);
    }
}

/* Message i: its body and keys vary in length, so the pool's blocks do. */
static void message(rmq_message *m, long i, char *body, char *keys)
{
    size_t len = 40 + (size_t)(i % (NOMALLOC_BODY_MAX - 40));
    size_t k;
    for (k = 0; k < len; k++) body[k] = (char)('a' + (i + (long)k) % 26);
    snprintf(keys, 32, "k%ld", i);
    rmq_message_init(m, NOMALLOC_TOPIC, body, len);
    m->tags = (i & 1) ? "odd" : "even";
    m->keys = keys;
}

static rmq_err send_one(rmq_producer *p, long i)
{
    char body[NOMALLOC_BODY_MAX], keys[32];
    rmq_message m;
    rmq_send_result res;
    rmq_err err;
    message(&m, i, body, keys);
    if (i % NOMALLOC_SYNC_EVERY == 0) return rmq_send(p, &m, &res);
    err = rmq_send_async(p, &m, on_sent, NULL);
    if (err == RMQ_OK) cb.inflight++;
    return err;
}

/* After a run without error: every completion OK, every message stored
 * once, the pool at the end as it was halfway, and shutdown takes nothing
 * more. (A producer holds its client instance until destroy, so that calls
 * racing with shutdown in other threads still find it: the pool is empty
 * after destroy, which the caller checks.) */
static void check_outcome(mock_cluster *mock, rmq_producer *p, long sync_ok, size_t created, size_t half)
{
    long stored;
    CHECKF(cb.failed == 0, "%ld callbacks failed, the first with %s: %s", cb.failed, rmq_strerror(cb.first_err),
           cb.first_reason);
    CHECK_INT(cb.ok + sync_ok, NOMALLOC_MESSAGES);
    CHECK_INT(cb.inflight, 0);
    stored = mock_count(mock, NOMALLOC_TOPIC);
    CHECK_INT(stored, NOMALLOC_MESSAGES);
    CHECKF(pool.used == half, "pool used %lu after the run, %lu halfway: a leak", (unsigned long)pool.used,
           (unsigned long)half);
    rmq_producer_shutdown(p);
    CHECKF(pool.used >= created && pool.used <= half, "pool used %lu after shutdown, %lu after create, %lu halfway",
           (unsigned long)pool.used, (unsigned long)created, (unsigned long)half);
}

/* Sends messages 0..NOMALLOC_MESSAGES-1 and waits for them all; *half is
 * the pool's level once the first half completed. Returns the first
 * error. */
static rmq_err send_all(rmq_producer *p, long *sync_ok, size_t *half, long *at)
{
    rmq_err err = RMQ_OK;
    long i;
    for (i = 0; i < NOMALLOC_MESSAGES && err == RMQ_OK; i++) {
        if (i == NOMALLOC_MESSAGES / 2) {
            err = rmq_producer_flush(p, 5000);
            *half = pool.used;
        }
        while (err == RMQ_OK && cb.inflight >= NOMALLOC_WINDOW) err = rmq_producer_poll(p, 1000);
        if (err == RMQ_OK) err = send_one(p, i);
        if (err == RMQ_OK && i % NOMALLOC_SYNC_EVERY == 0) (*sync_ok)++;
    }
    *at = i - 1;
    return err == RMQ_OK ? rmq_producer_flush(p, 30000) : err;
}

static void test_100000_messages_from_a_static_pool_without_running_out(void)
{
    static mock_cluster mock;
    rmq_producer_config cfg;
    rmq_producer *p = NULL;
    size_t created, half = 0;
    long sync_ok = 0, at = 0, t0 = mock_now_ms();
    rmq_err err;

    CHECK(mock_start(&mock, "--quiet --brokers 2 --no-request-log --topic " NOMALLOC_TOPIC) == 0);
    rmq_pool_init(&pool, pool_mem, sizeof pool_mem);
    rmq_producer_config_init(&cfg);
    cfg.group = "nomalloc-group";
    cfg.namesrv_addr = mock.namesrv;
    cfg.port = rmq_port_posix();
    cfg.mem_ctx = &pool;
    err = rmq_producer_create(&cfg, &p);
    created = pool.used;
    if (err == RMQ_OK) err = rmq_producer_start(p);
    if (err == RMQ_OK) err = send_all(p, &sync_ok, &half, &at);
    printf("sent %ld messages (%ld sync, %ld async, %d in flight) in %ld ms\n", at + 1, sync_ok,
           cb.ok + cb.failed, NOMALLOC_WINDOW, mock_now_ms() - t0);
    printf("pool: %lu bytes, peak %lu; used after create %lu, halfway %lu, at the end %lu\n",
           (unsigned long)pool.size, (unsigned long)pool.peak, (unsigned long)created, (unsigned long)half,
           (unsigned long)pool.used);
    if (err != RMQ_OK) {
        char m_[700];
        snprintf(m_, sizeof m_, "message %ld: %s: %s", at, rmq_strerror(err), p ? rmq_producer_last_error(p) : "");
        test_fail_at(__FILE__, __LINE__, m_);
    } else {
        check_outcome(&mock, p, sync_ok, created, half);
    }
    if (p) rmq_producer_destroy(p);
    if (!test_current_failed && pool.used != 0) test_fail_at(__FILE__, __LINE__, "the pool is not empty after destroy");
    mock_stop(&mock);
}

/* The library alone, built with RMQ_NO_MALLOC (tools/size.mk), names no
 * heap function: nm lists what the object needs from elsewhere. */
static void test_library_object_built_without_malloc_references_no_heap(void)
{
    char cmd[512], line[256];
    FILE *f;
    int symbols = 0;
    snprintf(cmd, sizeof cmd, "nm -u '%s' 2>&1", RMQ_NOMALLOC_LIB_OBJ);
    f = popen(cmd, "r");
    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        char type[8], name[200];
        if (sscanf(line, "%7s %199s", type, name) != 2) {
            pclose(f);
            CHECKF(0, "nm: %s", line);
        }
        symbols++;
        if (strcmp(name, "malloc") == 0 || strcmp(name, "free") == 0 || strcmp(name, "realloc") == 0 ||
            strcmp(name, "calloc") == 0) {
            pclose(f);
            CHECKF(0, "%s references %s", RMQ_NOMALLOC_LIB_OBJ, name);
        }
    }
    CHECKF(pclose(f) == 0, "nm failed on %s", RMQ_NOMALLOC_LIB_OBJ);
    CHECK(symbols > 0);     /* memcpy & co at least: nm did read the object */
    printf("%s: %d undefined symbols, no heap function\n", RMQ_NOMALLOC_LIB_OBJ, symbols);
}

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    RUN(test_library_object_built_without_malloc_references_no_heap);
    RUN(test_100000_messages_from_a_static_pool_without_running_out);
    return test_summary();
}
