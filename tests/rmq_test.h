/* rmq_test.h - the project's own tiny test runner.
 *
 * A test is a void function; CHECK* macros record a failure with the file,
 * line and values, and end the test. run_test() prints one line per failure;
 * test_summary() prints the closing line "N passed, N failed". */
#ifndef RMQ_TEST_H
#define RMQ_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

static int test_passed, test_failed, test_current_failed;
static const char *test_current;
static const char *test_filter;

static void test_fail_at(const char *file, int line, const char *what)
{
    if (!test_current_failed) fprintf(stderr, "FAIL %s\n", test_current);
    fprintf(stderr, "  %s:%d: %s\n", file, line, what);
    test_current_failed = 1;
}

/* Runs a helper that checks, and ends the test if it failed. */
#define STEP(call) do { call; if (test_current_failed) return; } while (0)
#define CHECK(cond) do { if (!(cond)) { test_fail_at(__FILE__, __LINE__, #cond); return; } } while (0)
#define CHECK_MSG(cond, msg) do { if (!(cond)) { test_fail_at(__FILE__, __LINE__, msg); return; } } while (0)
/* CHECK_MSG with a formatted message. */
#define CHECKF(cond, ...) do { if (!(cond)) { char m_[1200]; snprintf(m_, sizeof m_, __VA_ARGS__); \
    test_fail_at(__FILE__, __LINE__, m_); return; } } while (0)
#define CHECK_INT(a, b) do { long long ta_ = (long long)(a), tb_ = (long long)(b); if (ta_ != tb_) { \
    char tm_[512]; snprintf(tm_, sizeof tm_, "%s == %s: %lld != %lld", #a, #b, ta_, tb_); \
    test_fail_at(__FILE__, __LINE__, tm_); return; } } while (0)
#define CHECK_STR(a, b) do { const char *ta_ = (a), *tb_ = (b); if (!ta_ || !tb_ || strcmp(ta_, tb_) != 0) { \
    char tm_[1200]; snprintf(tm_, sizeof tm_, "%.100s == %.100s: \"%.400s\" != \"%.400s\"", #a, #b, ta_ ? ta_ : "(null)", tb_ ? tb_ : "(null)"); \
    test_fail_at(__FILE__, __LINE__, tm_); return; } } while (0)
#define CHECK_HAS(hay, needle) do { const char *ta_ = (hay), *tb_ = (needle); if (!ta_ || !strstr(ta_, tb_)) { \
    char tm_[1200]; snprintf(tm_, sizeof tm_, "%.100s contains \"%.300s\": \"%.600s\"", #hay, tb_, ta_ ? ta_ : "(null)"); \
    test_fail_at(__FILE__, __LINE__, tm_); return; } } while (0)
#define CHECK_SLICE(s, lit) do { rmq_slice ts_ = (s); const char *tl_ = (lit); if (!ts_.ptr || ts_.len != strlen(tl_) || memcmp(ts_.ptr, tl_, ts_.len)) { \
    char tm_[1200]; snprintf(tm_, sizeof tm_, "%.100s == \"%.400s\": got \"%.*s\"", #s, tl_, ts_.ptr ? (int)ts_.len : 6, ts_.ptr ? ts_.ptr : "(null)"); \
    test_fail_at(__FILE__, __LINE__, tm_); return; } } while (0)

/* A result's reason as text, in a buffer of the enclosing block (each
 * CHECK_ macro is one): for checks and messages. */
#define RES_REASON(res) rmq_result_reason(&(res), (char[RMQ_REASON_MAX_LEN + 1]){0}, RMQ_REASON_MAX_LEN + 1)

#define RUN(fn) run_test(#fn, fn)

static void run_test(const char *name, void (*fn)(void))
{
    if (test_filter && !strstr(name, test_filter)) return;
    test_current = name;
    test_current_failed = 0;
    fn();
    if (test_current_failed) test_failed++; else test_passed++;
    if (getenv("RMQ_TEST_VERBOSE")) fprintf(stderr, "%s %s\n", test_current_failed ? "FAIL" : "ok  ", name);
}

static int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed, test_failed);
    fflush(stdout);            /* before LeakSanitizer's exit handler can end the process */
    return test_failed ? 1 : 0;
}

/* Reads a whole file (the test's own copy of a vector) into memory. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((unused))
#endif
static unsigned char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (unsigned char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = 0; *len = (size_t)n; }
    return buf;
}

#endif
