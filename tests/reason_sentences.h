/* reason_sentences.h - every code of RMQ_REASONS rendered with fixed
 * arguments, through the public rmq_result_reason: what the user reads.
 * tests/test_reasons.c compares the sentences with
 * tests/vectors/reason_sentences.inc, which tools/reason_sentences.c wrote
 * from these same functions (run once on the header of main before the
 * table of templates was packed; to append a code, see that file). Only
 * the public part of the header is used, so the writer builds against any
 * version of it. */
#ifndef RMQ_REASON_SENTENCES_H
#define RMQ_REASON_SENTENCES_H

#include <stdint.h>
#include <string.h>

/* Three sentences a code: alone, nested as the %r of RMQ_R_ROUTE_REFUSED,
 * and alone cut to a 24-byte buffer. */
#define REASON_SENTENCE_KINDS 3
#define REASON_SENTENCE_CUT 24

#define REASON_SENTENCE_ROW(n, name, cut, text) text,
static const char *const reason_sentence_templates[] = { RMQ_REASONS(REASON_SENTENCE_ROW) };

static void reason_sentence_put(rmq_reason *r, const void *p, size_t n)
{
    if (n > sizeof r->args - r->len) n = sizeof r->args - r->len;
    memcpy(r->args + r->len, p, n);
    r->len = (unsigned short)(r->len + n);
}

/* Packs code's arguments as the recorder does (texts with their NUL,
 * numbers in 4 bytes of the host's order), read from its template in the
 * list: %s "s1", "s2", ...; %d and %u values at the edges of their range;
 * %r RMQ_R_BROKER_ANSWER with its own arguments (its %R is the remark). */
static void reason_sentence_pack(rmq_reason *r, unsigned code)
{
    static const int32_t ds[] = { INT32_MIN, -7, 0, 2147483647 };
    static const uint32_t us[] = { 4294967295u, 0u, 7u, 100000u };
    const char *t = reason_sentence_templates[code];
    char s[8];
    int32_t v;
    unsigned i = 0, k;
    memset(r, 0, sizeof *r);
    r->code[0] = (unsigned char)code;
    for (; *t; t++) {
        if (*t != '%' || !t[1]) continue;
        switch (*++t) {
        case 's':
            s[0] = 's'; s[1] = (char)('1' + i % 9); s[2] = 0;
            reason_sentence_put(r, s, 3);
            break;
        case 'd': v = ds[i % 4]; reason_sentence_put(r, &v, 4); break;
        case 'u': v = (int32_t)us[i % 4]; reason_sentence_put(r, &v, 4); break;
        case 'r':
            r->code[1] = (unsigned char)RMQ_R_BROKER_ANSWER;
            reason_sentence_put(r, "broker-a", 9);
            reason_sentence_put(r, "SYSTEM_BUSY", 12);
            v = 2;
            reason_sentence_put(r, &v, 4);
            break;
        default: break;
        }
        i++;
    }
    for (k = 2; k < RMQ_REASON_DEPTH; k++) r->code[k] = 0;
}

/* Writes into out (cap bytes) sentence kind of code, with the remark
 * "busy 100%s" for %R (a remark is never read as a template). */
static const char *reason_sentence(unsigned code, unsigned kind, char *out, size_t cap)
{
    static rmq_send_result res;
    rmq_reason in;
    unsigned k;
    memset(&res, 0, sizeof res);
    strcpy(res.remark, "busy 100%s");
    reason_sentence_pack(&res.reason, code);
    if (kind == 1) {
        in = res.reason;
        memset(&res.reason, 0, sizeof res.reason);
        res.reason.code[0] = (unsigned char)RMQ_R_ROUTE_REFUSED;
        for (k = 1; k < RMQ_REASON_DEPTH; k++) res.reason.code[k] = in.code[k - 1];
        reason_sentence_put(&res.reason, in.args, in.len);
    }
    return rmq_result_reason(&res, out, kind == 2 && cap > REASON_SENTENCE_CUT ? REASON_SENTENCE_CUT : cap);
}

#endif
