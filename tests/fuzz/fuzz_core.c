/* fuzz_core - fuzz_producer's script against the core configuration: built
 * with the defines of the "core" line of tools/size-configs.txt (every
 * feature cut; tests/fuzz/fuzz.mk), the producer's memory from a static
 * pool (tests/pool_or_heap.h). The cuts turn run-time branches into
 * constants; this target makes sure what is left still ends every send in
 * exactly one callback and gives the pool back entirely. */
#include "../pool_or_heap.h"
#include "fuzz_producer.c"
