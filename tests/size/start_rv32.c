/* start_rv32.c - the start-up of the bare RISC-V size images (no libc).
 *
 * tools/size.sh links the rv32imac images with -nostdlib -nostartfiles, so
 * this file is all there is besides the application and libgcc: an entry
 * point that sets the stack pointer and calls main, and the four functions
 * GCC itself may call even under -ffreestanding (struct copies and zeroing
 * become memcpy and memset calls). The header's RMQ_FREESTANDING shims are
 * static and cannot serve those calls. With --gc-sections each function
 * lands in the image only when something calls it, so what the library
 * needs of them counts as library. Compile with
 * -fno-tree-loop-distribute-patterns, or GCC turns these loops back into
 * calls to themselves. */
#include <stddef.h>

int main(void);

static unsigned long start_stack[1024];

void _start(void) __attribute__((naked, noreturn, section(".text._start")));
void _start(void)
{
    __asm__ volatile(
        "la sp, %0\n"
        "call main\n"
        "1: j 1b\n"
        :
        : "i"(start_stack + sizeof start_stack / sizeof start_stack[0]));
    __builtin_unreachable();
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    while (n--) *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    if (dp < sp) {
        while (n--) *dp++ = *sp++;
    } else {
        dp += n;
        sp += n;
        while (n--) *--dp = *--sp;
    }
    return d;
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    while (n--) *dp++ = (unsigned char)c;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
