/* core_config.h - the core configuration, for the programs that run it
 * (tests/test_core.c, tests/fuzz/fuzz_core.c): every feature cut of section
 * 1 of the header but RMQ_NO_ERROR_TEXT, as the "core" line of
 * tools/size-configs.txt, which make size measures against its budget.
 * tools/size.sh fails when the header offers a cut this file lacks.
 *
 * Include it before rocketmq_producer.h. The producer's memory comes from
 * the rmq_pool in its cfg.mem_ctx (tests/pool_or_heap.h). */
#ifndef RMQ_CORE_CONFIG_H
#define RMQ_CORE_CONFIG_H

#define RMQ_NO_MALLOC
#define RMQ_NO_ADDR_SERVER
#define RMQ_NO_BINARY_HEADER
#define RMQ_NO_LATENCY_FAULT
#define RMQ_NO_LOG
#define RMQ_NO_TRANSACTION
#define RMQ_NO_ACL
#define RMQ_NO_THREADS
#define RMQ_NO_SELECTOR
#define RMQ_NO_ONEWAY
#define RMQ_NO_PROPERTIES

#include "pool_or_heap.h"

#endif
