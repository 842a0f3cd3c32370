/* startup_mps2.c - the start-up of the tests that run bare-metal on QEMU's
 * MPS2 boards (mps2.ld): a vector table, a reset handler that lays out RAM
 * and paints the stack (and, after main, prints its high-water mark), and
 * fault handlers that end the run with a failure instead of spinning until
 * the timeout. Output and exit go through newlib's
 * semihosting library (--specs=rdimon.specs, linked -nostartfiles: this file
 * replaces its crt0, whose stack and heap would come from the debugger). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mcu.h"

#define MCU_STACK_PAINT 0xC5C5C5C5u
/* Semihosting: SYS_WRITE0 and SYS_EXIT_EXTENDED, whose parameter block
 * carries ADP_Stopped_ApplicationExit and the status QEMU exits with. */
#define MCU_SYS_WRITE0 0x04
#define MCU_SYS_EXIT_EXTENDED 0x20
#define MCU_ADP_APPLICATION_EXIT 0x20026
/* A fault is a failure of the run, with a status no test returns. */
#define MCU_FAULT_STATUS 70

extern char mcu_data_start[], mcu_data_end[], mcu_data_load[];
extern char mcu_bss_start[], mcu_bss_end[];
extern char mcu_heap_start[], mcu_heap_end[];
extern char mcu_stack_limit[], mcu_stack_top[];

int main(int argc, char **argv);
void initialise_monitor_handles(void);
void mcu_reset(void);
void *_sbrk(ptrdiff_t incr);

static int mcu_semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void mcu_fault(void)
{
    uint32_t block[2];
    mcu_semihost(MCU_SYS_WRITE0, (void *)"mcu: fault (hard fault, bus, usage or memory management)\n");
    block[0] = MCU_ADP_APPLICATION_EXIT;
    block[1] = MCU_FAULT_STATUS;
    for (;;) mcu_semihost(MCU_SYS_EXIT_EXTENDED, block);
}

/* The core loads the stack pointer from word 0 and starts at word 1; the
 * rest are the system exceptions, every one a failure here. */
typedef struct mcu_vectors {
    void *stack_top;
    void (*handler[15])(void);
} mcu_vectors;

__attribute__((section(".vectors"), used)) static const mcu_vectors mcu_vector_table = {
    mcu_stack_top,
    { mcu_reset, mcu_fault, mcu_fault, mcu_fault, mcu_fault, mcu_fault, 0, 0, 0, 0,
      mcu_fault, mcu_fault, 0, mcu_fault, mcu_fault }
};

/* -nostartfiles leaves out crti and crtn, whose _init and _fini newlib's
 * start-up and exit code may call; a C program has nothing to run there. */
void _init(void);
void _fini(void);
void _init(void) {}
void _fini(void) {}

/* newlib's allocator grows the heap here, between the bss and the stack. */
void *_sbrk(ptrdiff_t incr)
{
    static char *brk = mcu_heap_start;
    char *old = brk;
    if (incr > mcu_heap_end - brk || incr < mcu_heap_start - brk) return (void *)-1;
    brk += incr;
    return old;
}

/* The address of a local of a frame that is not inlined: where the stack
 * pointer stands in the caller, give or take this frame. */
__attribute__((noinline)) static uintptr_t mcu_sp(void)
{
    volatile char here = 0;
    return (uintptr_t)&here;
}

/* The margin kept unpainted below the caller: this frame and its callee. */
#define MCU_PAINT_MARGIN 128u

/* The lowest address the stack reached: the first word not painted. */
static uintptr_t mcu_stack_low(void)
{
    const uint32_t *w = (const uint32_t *)(void *)mcu_stack_limit;
    while ((uintptr_t)w < (uintptr_t)mcu_stack_top && *w == MCU_STACK_PAINT) w++;
    return (uintptr_t)w;
}

/* The lowest the stack reached before the last repaint wiped the trace. */
static uintptr_t mcu_lowest = (uintptr_t)-1;

static void mcu_paint_below(uintptr_t sp)
{
    uint32_t *w = (uint32_t *)(void *)mcu_stack_limit;
    while ((uintptr_t)(w + 1) <= sp - MCU_PAINT_MARGIN) *w++ = MCU_STACK_PAINT;
}

uintptr_t mcu_stack_mark(void)
{
    uintptr_t sp = mcu_sp(), low = mcu_stack_low();
    if (low < mcu_lowest) mcu_lowest = low;
    mcu_paint_below(sp);
    return sp;
}

size_t mcu_stack_since(uintptr_t mark)
{
    uintptr_t low = mcu_stack_low();
    return low < mark ? (size_t)(mark - low) : 0;
}

size_t mcu_stack_high_water(void)
{
    uintptr_t low = mcu_stack_low();
    if (mcu_lowest < low) low = mcu_lowest;
    return (size_t)((uintptr_t)mcu_stack_top - low);
}

size_t mcu_stack_size(void) { return (size_t)(mcu_stack_top - mcu_stack_limit); }

void mcu_reset(void)
{
    static char name[] = "mcu";
    char *argv[2];
    int status;
    memcpy(mcu_data_start, mcu_data_load, (size_t)(mcu_data_end - mcu_data_start));
    memset(mcu_bss_start, 0, (size_t)(mcu_bss_end - mcu_bss_start));
    mcu_paint_below(mcu_sp());
    initialise_monitor_handles();
    argv[0] = name;
    argv[1] = NULL;
    status = main(1, argv);
    printf("mcu: stack high-water %lu of %lu bytes\n", (unsigned long)mcu_stack_high_water(),
           (unsigned long)mcu_stack_size());
    exit(status);
}
