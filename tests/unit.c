/* The unit tests, built as one program around one copy of the library
 * (the tests reach the private rmq__ functions, which are static). */
#define ROCKETMQ_PRODUCER_IMPLEMENTATION
#define RMQ_PORT_SIM_IMPLEMENTATION
#include "../rocketmq_producer.h"
#include "../port/rmq_port_sim.h"
#include "rmq_test.h"
#include "json_tokens.h"

#include "test_codec.c"
#include "sim_cluster.h"
#include "test_producer.c"
#include "test_faults.c"
#include "test_perf.c"
#include "test_admin.c"
#include "test_admin_view.c"
#include "test_namespace.c"
#include "test_request.c"
#include "test_trace.c"
#include "test_reasons.c"

int main(int argc, char **argv)
{
    if (argc > 1) test_filter = argv[1];
    run_codec_tests();
    run_producer_tests();
    run_more_producer_tests();
    run_fault_tests();
    run_transaction_tests();
    run_perf_tests();
    run_admin_tests();
    run_admin_view_tests();
    run_namespace_tests();
    run_request_tests();
    run_trace_tests();
    run_reason_sentence_tests();
    return test_summary();
}
