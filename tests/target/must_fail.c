/* must_fail.c - a test that fails on purpose. make test-mcu runs it on the
 * emulated Cortex-M and passes only if QEMU's exit status says it failed:
 * the proof that a failed check on target fails make test-mcu, rather than
 * being lost between newlib, semihosting and QEMU. */
#include "../rmq_test.h"

static void test_one_is_two(void)
{
    CHECK_INT(1, 2);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    RUN(test_one_is_two);
    return test_summary();
}
