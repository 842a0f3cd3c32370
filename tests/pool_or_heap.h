/* pool_or_heap.h - the allocator of the programs that run a heap-free
 * producer on the simulated cluster (tests/test_core.c,
 * tests/fuzz/fuzz_core.c, tests/size/peak_memory.c). Include it before
 * rocketmq_producer.h.
 *
 * The producer's memory comes from the rmq_pool in its cfg.mem_ctx. The
 * simulated peers build their answers with the header's own buffers, under
 * the context RMQ_TEST_HEAP: only those go to the heap. Any other context,
 * NULL included, goes to the pool allocator, as in a real RMQ_NO_MALLOC
 * build: an allocation of the producer that skipped its pool fails there
 * instead of passing unseen, and the pool holds exactly what the producer
 * holds. */
#ifndef RMQ_POOL_OR_HEAP_H
#define RMQ_POOL_OR_HEAP_H

#ifndef RMQ_NO_MALLOC
#define RMQ_NO_MALLOC
#endif
#include <stdlib.h>

static char rmq_test_heap;
#define RMQ_TEST_HEAP ((void *)&rmq_test_heap)
#define RMQ_MALLOC(ctx, n) \
    ((void *)(ctx) == RMQ_TEST_HEAP ? malloc(n) : rmq_pool_alloc((rmq_pool *)(ctx), (n)))
#define RMQ_FREE(ctx, p) \
    ((void *)(ctx) == RMQ_TEST_HEAP ? free(p) : rmq_pool_free((rmq_pool *)(ctx), (p)))

#endif
