/* bench_util.h - what the benchmark programs share: the library compiled
 * with a counting allocator, a counting port, clocks, CPU time of this
 * process and of another one, percentiles, and the BENCH_JSON line.
 *
 * Include it instead of rocketmq_producer.h, in a program's only .c file:
 *
 *     #define ROCKETMQ_PRODUCER_IMPLEMENTATION
 *     #define RMQ_PORT_POSIX_IMPLEMENTATION
 *     #include "bench_util.h"
 *
 * The allocator is installed through RMQ_MALLOC / RMQ_FREE, which must be
 * defined before the library is included: that is why this file includes it.
 * Counts are integers (nanoseconds, bytes, calls); no floating point. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

/* sched_setaffinity and the CPU_* macros are GNU extensions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Helpers a program may not use all of. */
#if defined(__GNUC__) || defined(__clang__)
#define BENCH_FN static __attribute__((unused))
#else
#define BENCH_FN static
#endif

/* -- the counting allocator ------------------------------------------------ */
/* RMQ_FREE gets no size, so each block carries its own in a header; 16 bytes
 * keep the caller's pointer as aligned as malloc's. */
#define BENCH_HEAP_HDR 16u

typedef struct bench_heap {
    size_t cur;             /* bytes the library holds now (headers excluded) */
    size_t peak;            /* most it held at once since bench_heap_reset() */
    uint64_t allocs;        /* RMQ_MALLOC calls */
    uint64_t frees;
} bench_heap;

static bench_heap bench_mem;

BENCH_FN void *bench_malloc(size_t n)
{
    unsigned char *b = (unsigned char *)malloc(n + BENCH_HEAP_HDR);
    if (!b)
        return NULL;
    memcpy(b, &n, sizeof n);
    bench_mem.cur += n;
    if (bench_mem.cur > bench_mem.peak)
        bench_mem.peak = bench_mem.cur;
    bench_mem.allocs++;
    return b + BENCH_HEAP_HDR;
}

BENCH_FN void bench_free(void *p)
{
    unsigned char *b;
    size_t n;
    if (!p)
        return;
    b = (unsigned char *)p - BENCH_HEAP_HDR;
    memcpy(&n, b, sizeof n);
    bench_mem.cur -= n;
    bench_mem.frees++;
    free(b);
}

/* The peak restarts from what is held now. */
BENCH_FN void bench_heap_reset(void)
{
    bench_mem.peak = bench_mem.cur;
    bench_mem.allocs = 0;
    bench_mem.frees = 0;
}

/* BENCH_PLAIN_MALLOC: the library's own default (instruction counts). */
#ifndef BENCH_PLAIN_MALLOC
#define RMQ_MALLOC(ctx, n) ((void)(ctx), bench_malloc(n))
#define RMQ_FREE(ctx, p) ((void)(ctx), bench_free(p))
#endif

#include "../../rocketmq_producer.h"
#include "../../port/rmq_port_posix.h"

/* -- the counting port ----------------------------------------------------- */
/* The POSIX port with its transport calls counted: bytes on the wire per
 * message (the frame sizes the limit must use) and calls per message (each
 * one a system call). Nothing else changes. */
typedef struct bench_io {
    uint64_t sends;         /* send + sendv calls */
    uint64_t recvs;
    uint64_t waits;         /* poll() calls */
    uint64_t bytes_out;
    uint64_t bytes_in;
} bench_io;

static bench_io bench_io_count;
static rmq_port bench_port_table;
static const rmq_port *bench_port_inner;

BENCH_FN long bench_port_send(void *ctx, void *conn, const void *buf, size_t len)
{
    long n = bench_port_inner->send(ctx, conn, buf, len);
    bench_io_count.sends++;
    if (n > 0)
        bench_io_count.bytes_out += (uint64_t)n;
    return n;
}

BENCH_FN long bench_port_sendv(void *ctx, void *conn, const rmq_iovec *iov, int iovcnt)
{
    long n = bench_port_inner->sendv(ctx, conn, iov, iovcnt);
    bench_io_count.sends++;
    if (n > 0)
        bench_io_count.bytes_out += (uint64_t)n;
    return n;
}

BENCH_FN long bench_port_recv(void *ctx, void *conn, void *buf, size_t len)
{
    long n = bench_port_inner->recv(ctx, conn, buf, len);
    bench_io_count.recvs++;
    if (n > 0)
        bench_io_count.bytes_in += (uint64_t)n;
    return n;
}

BENCH_FN int bench_port_wait(void *ctx, rmq_wait_item *items, size_t n, uint32_t timeout_ms)
{
    bench_io_count.waits++;
    return bench_port_inner->wait(ctx, items, n, timeout_ms);
}

/* counting: 0 gives the plain POSIX port (for instruction counts). */
BENCH_FN const rmq_port *bench_port(int counting)
{
    bench_port_inner = rmq_port_posix();
    if (!counting)
        return bench_port_inner;
    rmq_port_posix_init(&bench_port_table);
    bench_port_table.send = bench_port_send;
    bench_port_table.sendv = bench_port_inner->sendv ? bench_port_sendv : NULL;
    bench_port_table.recv = bench_port_recv;
    bench_port_table.wait = bench_port_wait;
    return &bench_port_table;
}

BENCH_FN void bench_io_reset(void)
{
    memset(&bench_io_count, 0, sizeof bench_io_count);
}

/* -- clocks ------------------------------------------------------------------ */
BENCH_FN uint64_t bench_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User + system time of this process (all threads). */
BENCH_FN uint64_t bench_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* Clock ticks (the unit of /proc's CPU times) in ns; 0 if the tick rate is unknown. */
BENCH_FN uint64_t bench_ticks_ns(unsigned long long ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? ticks * (1000000000u / (uint64_t)hz) : 0;
}

/* User + system time of another process from /proc/<pid>/stat (fields 14
 * and 15, counted after the command name, which may hold blanks), in clock
 * ticks turned into ns; 0 if it cannot be read. */
BENCH_FN uint64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64], buf[1024];
    const char *s;
    unsigned long long ut = 0, st = 0;
    size_t n;
    FILE *f;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    s = strrchr(buf, ')');
    if (!s || sscanf(s + 1, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) != 2)
        return 0;
    return bench_ticks_ns(ut + st);
}

/* CPU time the whole machine spent busy (user, nice, system, irq, softirq,
 * steal) from the first line of /proc/stat; what is left after this
 * process and the mock is other load, which makes a line unreliable. */
BENCH_FN uint64_t bench_machine_busy_ns(void)
{
    unsigned long long v[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
    FILE *f = fopen("/proc/stat", "r");
    int n;
    if (!f)
        return 0;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 7)
        return 0;
    return bench_ticks_ns(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

/* -- placement ------------------------------------------------------------ */
/* The client on one CPU and its peer (the mock, a limit's responder) on
 * another, the same for a producer line and its limit and from run to run:
 * where the scheduler puts two chatty processes changes a loopback round
 * trip by 2x. BENCH_PIN=0 leaves placement to the scheduler. */
static int bench_cpu_client = -1, bench_cpu_peer = -1;

BENCH_FN void bench_pin_plan(void)
{
    const char *v = getenv("BENCH_PIN");
    cpu_set_t set;
    int i, first = -1, second = -1;
    if ((v && strcmp(v, "0") == 0) || sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (i = 0; i < CPU_SETSIZE && second < 0; i++)
        if (CPU_ISSET(i, &set)) {
            if (first < 0)
                first = i;
            else
                second = i;
        }
    if (second < 0)
        return;
    bench_cpu_client = first;
    bench_cpu_peer = second;
}

/* peer: 1 for the peer's CPU, 0 for the client's. */
BENCH_FN void bench_pin(int peer)
{
    int cpu = peer ? bench_cpu_peer : bench_cpu_client;
    cpu_set_t set;
    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

/* -- integer statistics ------------------------------------------------------ */
BENCH_FN int bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_lat {
    uint32_t *ns;
    size_t n, cap;
} bench_lat;

BENCH_FN void bench_lat_add(bench_lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        uint32_t *p = (uint32_t *)realloc(l->ns, cap * sizeof *p);
        if (!p)
            return;
        l->ns = p;
        l->cap = cap;
    }
    l->ns[l->n++] = ns > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ns;
}

/* Sorts in place; pct in 0..100 (100 = the maximum). */
BENCH_FN uint32_t bench_lat_pct(bench_lat *l, unsigned pct, int sorted)
{
    if (!l->n)
        return 0;
    if (!sorted)
        qsort(l->ns, l->n, sizeof *l->ns, bench_cmp_u32);
    return l->ns[(l->n - 1) * pct / 100];
}

BENCH_FN void bench_lat_free(bench_lat *l)
{
    free(l->ns);
    memset(l, 0, sizeof *l);
}

/* x per second over ns nanoseconds. */
BENCH_FN uint64_t bench_per_s(uint64_t x, uint64_t ns)
{
    return ns ? x * 1000000000u / ns : 0;
}

/* a / b in thousandths (a ratio printed with three decimals). */
BENCH_FN uint64_t bench_milli(uint64_t a, uint64_t b)
{
    return b ? (a * 1000u + b / 2) / b : 0;
}

/* "12.345" from thousandths; buf holds 32 bytes. */
BENCH_FN const char *bench_fix3(char *buf, uint64_t milli)
{
    snprintf(buf, 32, "%llu.%03llu", (unsigned long long)(milli / 1000), (unsigned long long)(milli % 1000));
    return buf;
}

/* "12.3" from thousandths, rounded to tenths. */
BENCH_FN const char *bench_fix1(char *buf, uint64_t milli)
{
    uint64_t tenths = (milli + 50) / 100;
    snprintf(buf, 32, "%llu.%llu", (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10));
    return buf;
}

/* -- the BENCH_JSON line -------------------------------------------------------- */
/* Keys in the order they were added; a value is an integer, a fixed-point
 * number or a string. */
static char bench_json[32768];
static size_t bench_json_len;

BENCH_FN void bench_json_raw(const char *key, const char *value, int quoted)
{
    int n = snprintf(bench_json + bench_json_len, sizeof bench_json - bench_json_len, "%s\"%s\":%s%s%s",
                     bench_json_len ? "," : "", key, quoted ? "\"" : "", value, quoted ? "\"" : "");
    if (n > 0 && (size_t)n < sizeof bench_json - bench_json_len)
        bench_json_len += (size_t)n;
}

BENCH_FN void bench_json_u64(const char *key, uint64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    bench_json_raw(key, t, 0);
}

BENCH_FN void bench_json_milli(const char *key, uint64_t milli)
{
    char t[32];
    bench_json_raw(key, bench_fix3(t, milli), 0);
}

/* Strings are machine facts (CPU model): quotes and backslashes dropped. */
BENCH_FN void bench_json_str(const char *key, const char *s)
{
    char t[256];
    size_t i, k = 0;
    for (i = 0; s[i] && k + 1 < sizeof t; i++)
        if (s[i] != '"' && s[i] != '\\' && (unsigned char)s[i] >= 0x20)
            t[k++] = s[i];
    t[k] = '\0';
    bench_json_raw(key, t, 1);
}

BENCH_FN void bench_json_print(void)
{
    printf("BENCH_JSON {%s}\n", bench_json);
}

#endif /* BENCH_UTIL_H */
