/* mcu.h - what the tests that run on an emulated Cortex-M (make test-mcu)
 * get from startup_mps2.c besides a C runtime: the stack's high-water
 * mark. newlib and its semihosting library (rdimon) give them printf, exit
 * and malloc; QEMU turns exit()'s status into its own. */
#ifndef MCU_H
#define MCU_H

#include <stddef.h>
#include <stdint.h>

/* Paints the free stack below the caller's frame and returns a mark: the
 * caller's stack pointer, near enough (its own frame is not painted). */
uintptr_t mcu_stack_mark(void);

/* Bytes of stack used below mark since mcu_stack_mark() returned it: the
 * deepest the calls made in between went. */
size_t mcu_stack_since(uintptr_t mark);

/* Bytes of stack ever used since reset, the start-up's own frame
 * included. */
size_t mcu_stack_high_water(void);

/* Bytes the stack region holds (the linker script's STACK_BYTES). */
size_t mcu_stack_size(void);

#endif
