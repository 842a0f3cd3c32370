#!/bin/sh
# tests/target/run.sh - make test-mcu: the tests built for Cortex-M3 and
# Cortex-M4 (this directory's CMake project, the arm-none-eabi toolchain
# file) and run bare-metal under qemu-system-arm, one board each:
#
#   cortex-m3  mps2-an385, the library from an install (make install
#              PREFIX=B/mcu/prefix, find_package; pkg-config checked too)
#   cortex-m4  mps2-an386, the library by add_subdirectory of the tree
#
# On each: test_core must pass, must_fail must fail with test_summary()'s
# status (1) - the proof that a failure reaches this script's exit status -
# and ram_core_mcu's figures go to B/mcu/ram-<cpu>.txt for make size.
# Every run is bounded by MCU_TIMEOUT seconds (default 120): a target that
# hangs fails instead of holding CI.
#
#   tests/target/run.sh        the above; exit status 0 only if all held
#   tests/target/run.sh ram    only build and run ram_core_mcu (make size)
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
OUT=${B:-build}/mcu
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac
TIMEOUT=${MCU_TIMEOUT:-120}
MODE=${1:-all}
CPUS="cortex-m3 cortex-m4"
STATUS=0
mkdir -p "$OUT"

for tool in arm-none-eabi-gcc qemu-system-arm cmake; do
    command -v $tool >/dev/null || { echo "test-mcu: $tool not found (.ci/run installs it)"; exit 2; }
done

board() { case $1 in cortex-m3) echo mps2-an385 ;; cortex-m4) echo mps2-an386 ;; esac; }

# Runs an image; its output in OUT/<cpu>.<name>.out; returns QEMU's status
# (124: the timeout ended it).
run_image() {
    timeout "$TIMEOUT" qemu-system-arm -M "$(board "$1")" -cpu "$1" -nographic -monitor none \
        -semihosting-config enable=on,target=native -kernel "$OUT/$1/$2.elf" >"$OUT/$1.$2.out" 2>&1
}

install_package() {
    rm -rf "$OUT/prefix"
    make -s install PREFIX="$OUT/prefix" >"$OUT/install.log" 2>&1 || { cat "$OUT/install.log"; return 1; }
    cflags=$(PKG_CONFIG_PATH="$OUT/prefix/share/pkgconfig" pkg-config --cflags rocketmq_producer) || return 1
    printf '#define ROCKETMQ_PRODUCER_IMPLEMENTATION\n#define RMQ_PORT_SIM_IMPLEMENTATION\n#include "rocketmq_producer.h"\n#include "port/rmq_port_sim.h"\nint main(void) { return rmq_version()[0] == 0; }\n' >"$OUT/pkgconfig.c"
    # shellcheck disable=SC2086
    ${CC:-cc} -std=c99 -Wall -Wextra -Wpedantic -Werror $cflags "$OUT/pkgconfig.c" -o "$OUT/pkgconfig" &&
        "$OUT/pkgconfig" && echo "== install: make install PREFIX=... and pkg-config --cflags rocketmq_producer build a program"
}

# build CPU [TARGET]: the CMake project for CPU, all of it or TARGET.
build() {
    cpu=$1
    shift
    from=
    [ "$cpu" = cortex-m3 ] && from="-DRMQ_FROM_PACKAGE=ON -DCMAKE_PREFIX_PATH=$OUT/prefix"
    # shellcheck disable=SC2086
    cmake -S tests/target -B "$OUT/$cpu" -DCMAKE_TOOLCHAIN_FILE="$ROOT/tests/target/arm-none-eabi.cmake" \
        -DMCU_CPU="$cpu" $from >"$OUT/$cpu.cmake.log" 2>&1 &&
        cmake --build "$OUT/$cpu" --parallel 2 ${1:+--target "$1"} >>"$OUT/$cpu.cmake.log" 2>&1 ||
        { cat "$OUT/$cpu.cmake.log"; echo "== $cpu: build failed"; return 1; }
}

fail() { echo "== $*"; STATUS=1; }

ram() {
    cpu=$1
    run_image "$cpu" ram_core_mcu
    rc=$?
    line=$(grep '^ram ' "$OUT/$cpu.ram_core_mcu.out")
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        cat "$OUT/$cpu.ram_core_mcu.out"
        rm -f "$OUT/ram-$cpu.txt"
        fail "$cpu ram_core_mcu: exit $rc"
    else
        echo "$line" >"$OUT/ram-$cpu.txt"
        echo "== $cpu ram_core_mcu: $line"
    fi
}

if [ "$MODE" = ram ]; then
    for cpu in $CPUS; do
        [ "$cpu" = cortex-m3 ] && { install_package >/dev/null || fail "install failed"; }
        build "$cpu" ram_core_mcu && ram "$cpu"
    done
    exit $STATUS
fi

install_package || fail "install: make install or its pkg-config file failed"
for cpu in $CPUS; do
    build "$cpu" || { STATUS=1; continue; }
    run_image "$cpu" test_core
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$OUT/$cpu.test_core.out" | tail -1)
    if [ $rc -ne 0 ] || [ -z "$line" ] || [ "${line#* passed, }" != "0 failed" ]; then
        cat "$OUT/$cpu.test_core.out"
        fail "$cpu test_core: exit $rc, ${line:-no result line}"
    else
        echo "== $cpu test_core ($(board "$cpu")): $line; $(sed -n 's/^mcu: //p' "$OUT/$cpu.test_core.out")"
    fi
    run_image "$cpu" must_fail
    rc=$?
    if [ $rc -eq 1 ] && grep -q '^0 passed, 1 failed' "$OUT/$cpu.must_fail.out"; then
        echo "== $cpu must_fail: failed as it must (exit 1 through semihosting and QEMU)"
    else
        cat "$OUT/$cpu.must_fail.out"
        fail "$cpu must_fail: exit $rc: a failing test on target must end QEMU with status 1"
    fi
    ram "$cpu"
done
[ $STATUS -eq 0 ] && echo "test-mcu: passed on $CPUS" || echo "test-mcu: FAILED"
exit $STATUS
