/* fuzz_core - fuzz_producer's script against the core configuration: the
 * header built with every feature cut but the texts (as tests/test_core.c
 * and the "core" line of tools/size-configs.txt), all memory of the
 * producer from a static pool. The cuts turn run-time branches into
 * constants; this target makes sure what is left still ends every send in
 * exactly one callback and frees the pool entirely.
 *
 * The simulated peers decode with the header's own codec, whose buffers have
 * no pool (a NULL context): those go to the heap. */
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
#include <stdlib.h>
#define RMQ_MALLOC(ctx, n) ((ctx) ? rmq_pool_alloc((rmq_pool *)(ctx), (n)) : malloc(n))
#define RMQ_FREE(ctx, p) ((ctx) ? rmq_pool_free((rmq_pool *)(ctx), (p)) : free(p))
#include "fuzz_producer.c"
