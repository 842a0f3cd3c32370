/* min_core.c - the smallest useful application of rocketmq_producer.h, for
 * code-size and stack measurements (tools/size.sh).
 *
 * It creates a producer over a user port whose entries are stubs (no I/O),
 * starts it, sends sync, async and batch, polls, flushes, shuts down and
 * destroys it, and prints an error text: the linker keeps exactly the code
 * these calls reach. The image is never run; it is only measured.
 *
 * Built once per configuration (tools/size-configs.txt). With
 * -DRMQ_SIZE_BASELINE it keeps the same port table, static buffers and
 * start-up but calls no library function: the library's share of an image
 * is the image less that baseline. RMQ_NO_MALLOC builds take their memory
 * from a static pool of RMQ_SIZE_POOL_BYTES (application memory: it is in
 * the baseline too, so it is not counted as the library's). */
#ifndef RMQ_SIZE_BASELINE
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#endif
#include "../../rocketmq_producer.h"

#ifndef RMQ_SIZE_POOL_BYTES
#define RMQ_SIZE_POOL_BYTES (48u * 1024u)
#endif

/* -- the user port: every entry a stub ----------------------------------- */
static uint32_t stub_clock;

static int stub_connect(void *ctx, const char *host, uint16_t port, void **conn)
{
    (void)ctx; (void)host; (void)port;
    *conn = &stub_clock;
    return RMQ_PORT_AGAIN;
}
static int stub_connect_result(void *ctx, void *conn) { (void)ctx; (void)conn; return RMQ_PORT_OK; }
static long stub_send(void *ctx, void *conn, const void *buf, size_t len)
{
    (void)ctx; (void)conn; (void)buf;
    return (long)len;
}
static long stub_recv(void *ctx, void *conn, void *buf, size_t len)
{
    (void)ctx; (void)conn; (void)buf; (void)len;
    return 0;
}
static void stub_close(void *ctx, void *conn) { (void)ctx; (void)conn; }
static int stub_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    (void)ctx; (void)items; (void)n;
    stub_clock += timeout_ms;
    return 0;
}
static uint32_t stub_now_ms(void *ctx) { (void)ctx; return stub_clock; }
static int stub_local_ip(void *ctx, char *buf, size_t len)
{
    (void)ctx;
    if (len < 10) return -1;
    buf[0] = '1'; buf[1] = '0'; buf[2] = '.'; buf[3] = '0'; buf[4] = '.';
    buf[5] = '0'; buf[6] = '.'; buf[7] = '7'; buf[8] = 0;
    return 0;
}
static uint32_t stub_process_id(void *ctx) { (void)ctx; return 7u; }
static void stub_entropy(void *ctx, void *buf, size_t len)
{
    unsigned char *b = (unsigned char *)buf;
    (void)ctx;
    while (len--) *b++ = (unsigned char)(stub_clock++ * 131u);
}
static void stub_log(void *ctx, int level, const char *msg) { (void)ctx; (void)level; (void)msg; }

/* Filled at run time, as a port with a context would be. */
static rmq_port stub_port;

static void stub_port_init(rmq_port *pt)
{
    pt->ctx = &stub_clock;
    pt->connect = stub_connect;
    pt->connect_result = stub_connect_result;
    pt->send = stub_send;
    pt->recv = stub_recv;
    pt->close = stub_close;
    pt->wait = stub_wait;
    pt->now_ms = stub_now_ms;
    pt->local_ip = stub_local_ip;
    pt->process_id = stub_process_id;
    pt->entropy = stub_entropy;
    pt->log = stub_log;
}

/* Where results go, so that nothing the program computes is dead. */
volatile uintptr_t size_sink;

#ifdef RMQ_NO_MALLOC
static uint64_t pool_mem[RMQ_SIZE_POOL_BYTES / sizeof(uint64_t)];
static rmq_pool pool;
#endif
static rmq_send_result res[2];

#ifdef RMQ_SIZE_BASELINE
int main(void)
{
    stub_port_init(&stub_port);
    size_sink = (uintptr_t)&stub_port + (uintptr_t)res;
#ifdef RMQ_NO_MALLOC
    size_sink = (uintptr_t)pool_mem + (uintptr_t)&pool;
#endif
    return 0;
}
#else

static int acked;

/* A firmware reads why a send failed: the texts where it keeps them (the
 * renderer counts in the image, as it would in the application), else the
 * codes. */
#ifndef RMQ_NO_ERROR_TEXT
static char why[96];
#define WHY_RESULT(res) (uintptr_t)rmq_result_reason(res, why, sizeof why)
#define WHY_PRODUCER(p) (uintptr_t)rmq_producer_last_error(p)
#else
#define WHY_RESULT(res) (uintptr_t)rmq_result_reason_code(res, 0)
#define WHY_PRODUCER(p) (uintptr_t)rmq_producer_last_error_code(p, 0)
#endif

static void on_sent(rmq_err err, const rmq_send_result *res, void *user)
{
    (void)user;
    if (err == RMQ_OK) acked++;
    else size_sink += WHY_RESULT(res);
}

int main(void)
{
    rmq_producer_config cfg;
    rmq_producer *p;
    rmq_message m, batch[2];
    rmq_err err;

    stub_port_init(&stub_port);
    rmq_producer_config_init(&cfg);
    cfg.group = "mcu-group";
    cfg.namesrv_addr = "10.0.0.2:9876";
    cfg.port = &stub_port;
#ifdef RMQ_NO_MALLOC
    rmq_pool_init(&pool, pool_mem, sizeof pool_mem);
    cfg.mem_ctx = &pool;
#endif
    err = rmq_producer_create(&cfg, &p);
    if (err == RMQ_OK) err = rmq_producer_start(p);
    if (err == RMQ_OK) {
        rmq_message_init(&m, "Telemetry", "t=21.5", 6);
        m.tags = "temp";
        err = rmq_send(p, &m, &res[0]);
        if (err == RMQ_OK) err = rmq_send_async(p, &m, on_sent, NULL);
        batch[0] = m;
        batch[1] = m;
        if (err == RMQ_OK) err = rmq_send_batch(p, batch, 2, res);
        if (err == RMQ_OK) err = rmq_producer_poll(p, 10);
        if (err == RMQ_OK) err = rmq_producer_flush(p, 100);
    }
    size_sink = (uintptr_t)rmq_strerror(err) + (uintptr_t)acked;
    if (p) {
        if (err != RMQ_OK) size_sink += WHY_PRODUCER(p);
        rmq_producer_shutdown(p);
        rmq_producer_destroy(p);
    }
    return err == RMQ_OK ? 0 : 1;
}
#endif
