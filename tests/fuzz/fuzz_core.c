/* fuzz_core - fuzz_producer's script against the core configuration
 * (tests/core_config.h: every feature cut, the producer's memory from a
 * static pool). The cuts turn run-time branches into constants; this target
 * makes sure what is left still ends every send in exactly one callback and
 * gives the pool back entirely. */
#include "../core_config.h"
#include "fuzz_producer.c"
