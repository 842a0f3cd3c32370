/* lint.c - the translation unit make lint analyses: the implementation of
 * rocketmq_producer.h and of the ports this machine can compile. The
 * IMPLEMENTATION macros come from the command line (tests/fuzz/fuzz.mk). */
#include "rocketmq_producer.h"
#include "port/rmq_port_posix.h"
#include "port/rmq_port_sim.h"
