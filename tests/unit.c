/* The unit tests, built as one program around one copy of the library
 * (the tests reach the private rmq__ functions, which are static). */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "rmq_test.h"

#include "test_codec.c"

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    run_codec_tests();
    return test_summary();
}
