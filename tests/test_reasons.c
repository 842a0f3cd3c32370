/* The sentences a user reads, held to what the renderer of main wrote
 * before the table of templates was packed (tests/vectors/
 * reason_sentences.inc, by tools/reason_sentences.c): every code alone,
 * nested, and cut to a small buffer; every rmq_strerror text and response
 * code name. A packing or rendering bug shows as a changed sentence. Built
 * into the unit tests (nothing cut) and the core tests (on the host and on
 * the emulated Cortex-M), where a code of a cut feature renders empty. */
#include "reason_sentences.h"
#include "vectors/reason_sentences.inc"

/* Whether this build keeps code's template (the third column of
 * RMQ_REASONS: the feature that uses it is not cut). */
#define TEST_REASON_KEPT(n, name, cut, text) sizeof RMQ__IN_##cut(text) > 1,
static const unsigned char test_reason_kept[] = { RMQ_REASONS(TEST_REASON_KEPT) };

static void test_every_reason_renders_as_main_rendered_it(void)
{
    char text[1024];
    unsigned code, kind, n = (unsigned)(sizeof reason_sentences_want / sizeof *reason_sentences_want);
    /* Codes appended since are not in the file (no renderer of main wrote
     * them); test_every_reason_code_has_its_template_at_its_place and
     * test_every_template_renders_its_arguments_and_reads_no_further hold
     * them to their lines. */
    CHECK(n >= 182 && n <= RMQ_R__COUNT);
    for (code = 0; code < n; code++) {
        for (kind = 0; kind < REASON_SENTENCE_KINDS; kind++) {
            const char *want = reason_sentences_want[code][kind];
            if (!test_reason_kept[code]) want = kind == 1 ? "route data refused: " : "";
            reason_sentence(code, kind, text, sizeof text);
            CHECKF(strcmp(text, want) == 0, "code %u, sentence %u: \"%.400s\" != \"%.400s\"", code, kind, text, want);
        }
    }
}

static void test_every_strerror_and_response_code_name_is_as_main_had_it(void)
{
    size_t i;
    for (i = 0; i < sizeof strerror_want / sizeof *strerror_want; i++)
        CHECKF(strcmp(rmq_strerror((rmq_err)i), strerror_want[i]) == 0, "rmq_strerror(%u): \"%s\" != \"%s\"",
               (unsigned)i, rmq_strerror((rmq_err)i), strerror_want[i]);
    for (i = 0; i < sizeof response_code_names_want / sizeof *response_code_names_want; i++)
        CHECKF(strcmp(rmq_response_code_name(response_code_names_want[i].code), response_code_names_want[i].name) == 0,
               "rmq_response_code_name(%d): \"%s\" != \"%s\"", response_code_names_want[i].code,
               rmq_response_code_name(response_code_names_want[i].code), response_code_names_want[i].name);
}

static void run_reason_sentence_tests(void)
{
    RUN(test_every_reason_renders_as_main_rendered_it);
    RUN(test_every_strerror_and_response_code_name_is_as_main_had_it);
}
