/* tools/reason_sentences.c - writes tests/vectors/reason_sentences.inc:
 * the sentences of every reason code, rendered with the fixed arguments of
 * tests/reason_sentences.h, as C strings, three a code; then the texts of
 * rmq_strerror (every rmq_err and one past) and the names of
 * rmq_response_code_name (the codes 0..30, 200..220, 1500 and a few no
 * broker sends).
 *
 *   cc -std=c99 -I. tools/reason_sentences.c -o rs && ./rs > tests/vectors/reason_sentences.inc
 *
 * It was run once on the header of main before the table of templates was
 * packed: the file is what that renderer wrote, and tests/test_reasons.c
 * holds every later renderer to it. A code appended to RMQ_REASONS needs no
 * line here (the test checks the codes the file has); to add some, run it
 * again and check that the diff only adds lines. */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#include "rocketmq_producer.h"
#include "tests/reason_sentences.h"
#include <stdio.h>

static void put_c_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\%03o", c);
        else putchar(c);
    }
    putchar('"');
}

int main(void)
{
    static const int odd_codes[] = { -1, 1500, 1501, 65535, 2147483647 };
    char text[1024];
    unsigned code, kind;
    int rc;
    printf("/* tests/vectors/reason_sentences.inc - written by tools/reason_sentences.c; do not edit. */\n");
    printf("static const char *const reason_sentences_want[][REASON_SENTENCE_KINDS] = {\n");
    for (code = 0; code < RMQ_R__COUNT; code++) {
        printf("/* %3u */ {", code);
        for (kind = 0; kind < REASON_SENTENCE_KINDS; kind++) {
            printf(kind ? ", " : " ");
            put_c_string(reason_sentence(code, kind, text, sizeof text));
        }
        printf(" },\n");
    }
    printf("};\nstatic const char *const strerror_want[] = {\n");
    for (code = 0; code <= RMQ_ERR__COUNT; code++) {
        printf("/* %2u */ ", code);
        put_c_string(rmq_strerror((rmq_err)code));
        printf(",\n");
    }
    printf("};\nstatic const struct { int code; const char *name; } response_code_names_want[] = {\n");
    for (rc = 0; rc <= 220; rc = rc == 30 ? 200 : rc + 1) {
        printf("{ %d, ", rc);
        put_c_string(rmq_response_code_name(rc));
        printf(" },\n");
    }
    for (code = 0; code < sizeof odd_codes / sizeof *odd_codes; code++) {
        printf("{ %d, ", odd_codes[code]);
        put_c_string(rmq_response_code_name(odd_codes[code]));
        printf(" },\n");
    }
    printf("};\n");
    return 0;
}
