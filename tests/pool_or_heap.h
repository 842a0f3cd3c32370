/* pool_or_heap.h - the allocator of the programs that run a heap-free
 * producer on the simulated cluster (tests/core_config.h,
 * tests/size/peak_memory.c). Include it before rocketmq_producer.h.
 *
 * The producer's memory comes from the rmq_pool in its cfg.mem_ctx. The
 * simulated cluster decodes what the producer writes with the header's own
 * codec, whose buffers have no pool (a NULL context): those go to the heap,
 * so the pool holds exactly what the producer holds. */
#ifndef RMQ_POOL_OR_HEAP_H
#define RMQ_POOL_OR_HEAP_H

#ifndef RMQ_NO_MALLOC
#define RMQ_NO_MALLOC
#endif
#include <stdlib.h>
#ifndef RMQ_MALLOC
#define RMQ_MALLOC(ctx, n) ((ctx) ? rmq_pool_alloc((rmq_pool *)(ctx), (n)) : malloc(n))
#define RMQ_FREE(ctx, p) ((ctx) ? rmq_pool_free((rmq_pool *)(ctx), (p)) : free(p))
#endif

#endif
