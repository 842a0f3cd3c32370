#!/usr/bin/env bash
# tools/size.sh - code size and stack of rocketmq_producer.h, per target,
# optimization level and configuration (make size; CI runs it too).
#
#   tools/size.sh              build, print the tables, enforce the budgets
#   SIZE_JOBS=4 tools/size.sh  compile jobs in parallel (default: CPUs)
#   B=dir tools/size.sh        build directory (default build): B/size/...
#   SIZE_QUICK=1 tools/size.sh only the core configurations, Cortex-M4 -Os:
#                              text against the ceilings, stack, the
#                              largest functions (make size-quick)
#
# What it builds. tests/size/min_core.c is an application that creates a
# producer over a port of stub functions and calls create, start, rmq_send,
# rmq_send_async, rmq_send_batch, poll, flush, shutdown, destroy and
# rmq_strerror, so a --gc-sections link keeps exactly the library code these
# reach. It is compiled (with the library inside) for every configuration of
# tools/size-configs.txt x target x level:
#
#   cortex-m0plus  arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb
#   cortex-m4      arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
#                  (both linked with newlib-nano: --specs=nano.specs
#                  --specs=nosys.specs)
#   rv32imac       riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32,
#                  -ffreestanding -DRMQ_FREESTANDING, no libc: linked
#                  -nostdlib -nostartfiles with tests/size/start_rv32.c
#                  and libgcc
#   levels         -Os and -O2
#
# and once more as an empty baseline (-DRMQ_SIZE_BASELINE: same start-up,
# port table and static buffers, no library call). The library's share is
# the image less the baseline, so what it pulls from libc and libgcc
# (memcpy, malloc, division helpers) counts as the library's. "text" is
# size(1)'s: code and read-only data.
#
# Stack: GCC's -fstack-usage and -fcallgraph-info=su; tools/size_stack.py
# reports the largest frame of a library function in the image and the
# heaviest chain of frames from the send calls that calls no function twice,
# first over direct calls only, then with indirect calls resolved too (a
# port entry reaches the stub the application assigned to it, a request
# callback every address-taken function of its arity): that second figure,
# an upper bound but for recursion (reported), is the one checked.
#
# Checks (limits in tools/size-budget.txt), on the "core" configurations:
# library text at -Os on Cortex-M4 (the target, and each core
# configuration's ceiling against growth); no malloc/free/realloc in the
# image; no 64-bit division helper; no soft-float helper. On every image:
# the send stack, the largest frame, no printf family. A failed check
# makes the exit status non-zero; the text budget only with
# SIZE_ENFORCE_TEXT=1 until the core meets it (it is reported as OVER).
#
# Also: what each RMQ_NO_* cut saves (full configuration, -Os, Cortex-M4),
# the peak memory of one producer in each configuration (one broker, 1 KiB
# messages, 16 async in flight: tests/size/peak_memory.c, run on the host;
# a run that fails is a failed check), the code of each port header
# compiled alone (host; cross where the port can be), and the RAM of one
# core-mcu producer on an emulated Cortex-M3 and M4 after start, after the
# first acknowledged send and per async send in flight, with its stack
# (tests/target/ram_core_mcu.c through tests/target/run.sh ram, where
# qemu-system-arm and cmake are installed; a failed run is a failed check;
# the RAM targets of tools/size-budget.txt are reported, not enforced).
set -u

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
OUT=${B:-build}/size
CONFIGS=tools/size-configs.txt
BUDGET=tools/size-budget.txt
TARGETS="cortex-m0plus cortex-m4 rv32imac"
LEVELS="Os O2"
# The cuts the header lists under "Feature cuts" in section 1.
CUTS=$(sed -n '/Feature cuts/,/Platform:/p' rocketmq_producer.h | grep -o 'RMQ_NO_[A-Z_]*' | awk '!seen[$0]++' | tr '\n' ' ')
[ -n "$CUTS" ] || CUTS="RMQ_NO_MALLOC RMQ_NO_ADDR_SERVER RMQ_NO_BINARY_HEADER RMQ_NO_LATENCY_FAULT RMQ_NO_LOG RMQ_NO_ERROR_TEXT"
STACK_ROOTS="rmq_send rmq_send_async rmq_send_batch"
# The host build of tests/size/peak_memory.c (make size passes the
# Makefile's STRICT and POSIX flags).
HOST_CFLAGS=${HOST_CFLAGS:--std=c99 -Wall -Wextra -Wpedantic -Werror -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L}
COMMON="-std=c99 -Wall -Wextra -ffunction-sections -fdata-sections -fstack-usage -fcallgraph-info=su"

MALLOC_RE='^(malloc|free|realloc|calloc|_malloc_r|_free_r|_realloc_r|_calloc_r)$'
DIV64_RE='^(__aeabi_ldivmod|__aeabi_uldivmod|__udivdi3|__divdi3|__umoddi3|__moddi3|__udivmoddi4|__divmoddi4)$'
FLOAT_RE='^(__aeabi_[df][a-z0-9]+|__aeabi_[a-z0-9]+2[df]|__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)[sdt]f[23]|__(float|fix|extend|trunc)[a-z0-9]+)$'
PRINTF_RE='printf'

# -- one target's tools ----------------------------------------------------
tool_prefix() {
    case $1 in
        cortex-*) echo arm-none-eabi- ;;
        rv32*) echo riscv64-unknown-elf- ;;
        host) echo "" ;;
    esac
}

arch_flags() {
    case $1 in
        cortex-m0plus) echo "-mcpu=cortex-m0plus -mthumb" ;;
        cortex-m4) echo "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft" ;;
        rv32imac) echo "-march=rv32imac -mabi=ilp32" ;;
        host) echo "" ;;
    esac
}

# Defines a target adds to a configuration's (see tools/size-configs.txt).
target_defs() {
    case $1 in
        rv32*)
            case " $2 " in
                *" -DRMQ_NO_MALLOC "*) echo "-ffreestanding -DRMQ_FREESTANDING" ;;
                *) echo "-ffreestanding -DRMQ_FREESTANDING -DRMQ_NO_MALLOC" ;;
            esac ;;
        *) echo "" ;;
    esac
}

# -- one image: size.sh --one KEY CLASS TARGET LEVEL DEFINES... -----------
# Writes OUT/KEY/result: "text data bss base_text base_data base_bss" and
# beside it the nm listing, the stack report and the compiler's warnings.
build_one() {
    local key=$1 class=$2 target=$3 level=$4
    shift 4
    local defs="$*"
    local dir=$OUT/$key pre arch extra cc link libs image base
    pre=$(tool_prefix "$target")
    arch=$(arch_flags "$target")
    extra=$(target_defs "$target" "$defs")
    cc=${pre}gcc
    rm -rf "$dir" && mkdir -p "$dir"
    : >"$dir/warnings"
    : >"$dir/link"
    case $target in
        rv32*)
            # shellcheck disable=SC2086
            $cc $arch -$level -ffreestanding -fno-tree-loop-distribute-patterns -ffunction-sections \
                -c tests/size/start_rv32.c -o "$dir/start.o" 2>>"$dir/warnings" ||
                { echo "compile failed" >"$dir/error"; return 1; }
            link="$arch -nostdlib -nostartfiles -Wl,--gc-sections $dir/start.o" libs=-lgcc ;;
        *)
            link="$arch -$level --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections" libs= ;;
    esac
    # The application and the empty baseline: the same but for one define.
    for image in app base; do
        base=
        [ $image = base ] && base=-DRMQ_SIZE_BASELINE
        # shellcheck disable=SC2086
        $cc $arch -$level $COMMON $extra $defs $base -c tests/size/min_core.c -o "$dir/$image.o" 2>>"$dir/warnings" ||
            { echo "compile failed" >"$dir/error"; return 1; }
        # shellcheck disable=SC2086
        $cc $link "$dir/$image.o" $libs -o "$dir/$image.elf" 2>>"$dir/link" ||
            { echo "link failed" >"$dir/error"; return 1; }
    done
    "${pre}nm" "$dir/app.elf" >"$dir/nm"
    # shellcheck disable=SC2086
    python3 tools/size_stack.py --nm "$dir/nm" "$dir/app.ci" rocketmq_producer.h tests/size/min_core.c -- $STACK_ROOTS \
        >"$dir/stack" 2>&1 || echo "stack analysis failed" >>"$dir/error"
    {
        "${pre}size" -B "$dir/app.elf" | awk 'NR == 2 { printf "%s %s %s", $1, $2, $3 }'
        "${pre}size" -B "$dir/base.elf" | awk 'NR == 2 { printf " %s %s %s\n", $1, $2, $3 }'
    } >"$dir/result"
    echo "$class $target $level" >"$dir/what"
}

# -- one port header compiled alone: size.sh --port NAME TARGET -----------
build_port() {
    local name=$1 target=$2 pre arch dir=$OUT/port-$1.$2 flags
    pre=$(tool_prefix "$target")
    arch=$(arch_flags "$target")
    rm -rf "$dir" && mkdir -p "$dir"
    flags="-std=c99 -Os -ffunction-sections -fdata-sections -D_DEFAULT_SOURCE -I."
    [ "$name" = lwip ] && flags="$flags -isystem /usr/include/lwip"
    printf '#include "rocketmq_producer.h"\n#define RMQ_PORT_%s_IMPLEMENTATION\n#include "port/rmq_port_%s.h"\n' \
        "$(echo "$name" | tr "[:lower:]" "[:upper:]")" "$name" >"$dir/port.c"
    # shellcheck disable=SC2086
    "${pre}gcc" $arch $flags -c "$dir/port.c" -o "$dir/port.o" 2>"$dir/warnings" ||
        { echo "compile failed" >"$dir/error"; return 0; }
    "${pre}size" -B "$dir/port.o" | awk 'NR == 2 { print $1, $2, $3 }' >"$dir/result"
}

# -- the peak memory of one producer: size.sh --peak NAME DEFINES... --------
# tests/size/peak_memory.c on the host, the configuration's defines given
# (one broker, 1 KiB messages, 16 async in flight; the pool's peak).
build_peak() {
    local name=$1 dir=$OUT/peak-$1
    shift
    rm -rf "$dir" && mkdir -p "$dir"
    # shellcheck disable=SC2086,SC2048
    ${CC:-cc} $HOST_CFLAGS -O1 $* \
        tests/size/peak_memory.c -o "$dir/peak" 2>"$dir/warnings" || { echo "compile failed" >"$dir/error"; return 0; }
    "$dir/peak" >"$dir/result" 2>"$dir/warnings" || echo "run failed: $(cat "$dir/warnings")" >"$dir/error"
}

case ${1:-} in
    --one) shift; build_one "$@"; exit $? ;;
    --port) shift; build_port "$@"; exit $? ;;
    --peak) shift; build_peak "$@"; exit $? ;;
esac

# -- quick mode: SIZE_QUICK=1 tools/size.sh (make size-quick) ---------------
# Only the core configurations for Cortex-M4 at -Os, the images the budgets
# are about: their library text against the ceilings and the target, their
# send stack and largest frame, where the text goes and the largest
# functions. Seconds, not minutes: the loop of a change that cuts code.
# Enforces nothing the full run does not (the exit status is that of the
# ceilings, stack and frame checks); make size stays the gate.
quick() {
    local start name class defs d it bt lt ceiling sr v mf tt fail=0 n=${SIZE_QUICK_TOP:-25}
    start=$(date +%s)
    command -v arm-none-eabi-gcc >/dev/null || { echo "size.sh: arm-none-eabi-gcc not found"; return 2; }
    mkdir -p "$OUT"
    : >"$OUT/plan-quick"
    while read -r name class defs; do
        case $name in ''|'#'*) continue ;; esac
        [ "$class" = core ] || continue
        echo "--one $name.cortex-m4.Os core cortex-m4 Os $defs" >>"$OUT/plan-quick"
    done <"$CONFIGS"
    # shellcheck disable=SC2086
    xargs -P "${SIZE_JOBS:-$(nproc 2>/dev/null || echo 2)}" -L 1 "$ROOT/tools/size.sh" <"$OUT/plan-quick"
    local budget_text budget_stack budget_frame
    budget_text=$(awk '$1 == "core_text_cortex_m4_os" { print $2 }' "$BUDGET")
    budget_stack=$(awk '$1 == "send_stack" { print $2 }' "$BUDGET")
    budget_frame=$(awk '$1 == "function_frame" { print $2 }' "$BUDGET")
    echo
    echo "Library text, Cortex-M4 -Os (\"to go\": to the line's target_NAME, else $budget_text; send stack <= $budget_stack, frames <= $budget_frame)"
    printf '  %-12s %7s %8s %8s %11s %s\n' config text ceiling "to go" "send stack" "largest frame"
    while read -r _ key _; do
        name=${key%%.*}
        d=$OUT/$key
        if [ ! -f "$d/result" ] || [ -f "$d/error" ]; then
            echo "  $name: build failed ($d/warnings, $d/link)"; fail=1; continue
        fi
        read -r it _ _ bt _ _ <"$d/result"
        lt=$((it - bt))
        ceiling=$(awk -v k="ceiling_$name" '$1 == k { print $2 }' "$BUDGET")
        sr=0
        for r in $STACK_ROOTS; do
            v=$(awk -v r="$r:" '$1 == "resolved" && $3 == r { print $2; exit }' "$d/stack")
            [ "${v:-99999}" -gt "$sr" ] && sr=${v:-99999}
        done
        mf=$(awk '$1 == "max_frame" { print $2 " " $3; exit }' "$d/stack")
        tt=$(awk -v k="target_$name" '$1 == k { print $2 }' "$BUDGET")
        printf '  %-12s %7d %8s %8d %11d %s\n' "$name" "$lt" "${ceiling:--}" $((lt - ${tt:-$budget_text})) "$sr" "${mf:-?}"
        [ -n "$ceiling" ] && [ "$lt" -gt "$ceiling" ] && { echo "FAIL  $name: text $lt > ceiling $ceiling"; fail=1; }
        [ "$sr" -gt "$budget_stack" ] && { echo "FAIL  $name: send stack $sr > $budget_stack"; fail=1; }
        [ "${mf%% *}" -gt "$budget_frame" ] 2>/dev/null && { echo "FAIL  $name: frame ${mf} > $budget_frame"; fail=1; }
    done <"$OUT/plan-quick"
    for name in core-notext core; do
        d=$OUT/$name.cortex-m4.Os
        [ -f "$d/result" ] && [ ! -f "$d/error" ] || continue
        echo
        echo "$name: where the library text goes, by section of the header"
        arm-none-eabi-nm -S "$d/app.elf" >"$d/nm-sizes"
        python3 tools/size_breakdown.py "$d/nm-sizes" "$d/app.ci" rocketmq_producer.h "$(awk '{ print $1 - $4 }' "$d/result")"
        echo "$name: the $n largest functions and tables (bytes, inlined code included)"
        arm-none-eabi-nm -S -t d --size-sort -r "$d/app.elf" | awk -v n="$n" 'NF == 4 && $4 ~ /^(rmq|__aeabi|mem|str)/ && i++ < n { printf "  %6d %s %s\n", $2, $3, $4 }'
    done
    warn=$(cat "$OUT"/*.cortex-m4.Os/warnings 2>/dev/null | grep -E 'warning:' | sed 's/^.*rocketmq_producer.h:/rocketmq_producer.h:/' | sort -u)
    [ -n "$warn" ] && { echo; echo "Compiler warnings:"; echo "$warn" | sed 's/^/  /'; }
    echo
    echo "size.sh quick: $(($(date +%s) - start)) s (make size is the full run and the gate)"
    return $fail
}
if [ "${SIZE_QUICK:-0}" = 1 ]; then quick; exit $?; fi

# -- the plan --------------------------------------------------------------
START=$(date +%s)
rm -rf "$OUT" && mkdir -p "$OUT" || exit 2
command -v python3 >/dev/null || { echo "size.sh: python3 is needed (tools/size_stack.py)"; exit 2; }
[ -f "$CONFIGS" ] && [ -f "$BUDGET" ] || { echo "size.sh: $CONFIGS or $BUDGET missing"; exit 2; }

budget() { awk -v k="$1" '$1 == k { print $2 }' "$BUDGET"; }
BUDGET_TEXT=$(budget core_text_cortex_m4_os)
# The text target of a configuration: target_NAME in the budget file, else
# core_text_cortex_m4_os for a core line; a full line without one has none.
# Reported as OVER until met; SIZE_ENFORCE_TEXT=1 makes OVER a failure.
target_text() {
    local name=$1 class=$2 id=$3 text=$4 key=target_$1 want
    want=$(budget "$key")
    if [ -z "$want" ]; then
        [ "$class" = core ] || return 0
        key=core_text_cortex_m4_os; want=$BUDGET_TEXT
    fi
    if [ "$text" -le "$want" ]; then pass "$id: library text $text <= $want ($key)"
    elif [ "${SIZE_ENFORCE_TEXT:-0}" = 1 ]; then fail "$id: library text $text > $want ($key)"
    else echo "OVER  $id: library text $text > $want ($key; not met yet, enforced with SIZE_ENFORCE_TEXT=1)"; fi
}
BUDGET_STACK=$(budget send_stack)
BUDGET_FRAME=$(budget function_frame)
[ -n "$BUDGET_TEXT" ] && [ -n "$BUDGET_STACK" ] && [ -n "$BUDGET_FRAME" ] ||
    { echo "size.sh: $BUDGET lacks core_text_cortex_m4_os, send_stack or function_frame"; exit 2; }

AVAILABLE=""
for t in $TARGETS; do
    if command -v "$(tool_prefix "$t")gcc" >/dev/null; then
        AVAILABLE="$AVAILABLE $t"
    else
        echo "size.sh: $(tool_prefix "$t")gcc not found: $t skipped"
    fi
done

PLAN=$OUT/plan
: >"$PLAN"
CONFIG_NAMES=""
FULL_DEFS=""
HAVE_FULL=0
while read -r name class defs; do
    case $name in ''|'#'*) continue ;; esac
    defs=$(echo "$defs" | sed 's/[[:space:]]*$//')
    CONFIG_NAMES="$CONFIG_NAMES $name"
    if [ "$name" = full ]; then FULL_DEFS=$defs; HAVE_FULL=1; fi
    echo "--peak $name${defs:+ $defs}" >>"$PLAN"
    for t in $AVAILABLE; do
        for l in $LEVELS; do
            echo "--one $name.$t.$l $class $t $l${defs:+ $defs}" >>"$PLAN"
        done
    done
done <"$CONFIGS"
case " $AVAILABLE " in *" cortex-m4 "*)
    if [ $HAVE_FULL = 1 ]; then
        for c in $CUTS; do echo "--one cut-$c.cortex-m4.Os cut cortex-m4 Os ${FULL_DEFS:+$FULL_DEFS }-D$c" >>"$PLAN"; done
    fi ;;
esac
PORTS="posix sim"
[ -f /usr/include/lwip/lwip/sockets.h ] && PORTS="$PORTS lwip"
[ -f /usr/include/mbedtls/ssl.h ] && PORTS="$PORTS mbedtls"
for p in $PORTS; do
    [ -f "port/rmq_port_$p.h" ] && echo "--port $p host" >>"$PLAN"
done
case " $AVAILABLE " in *" cortex-m4 "*) [ -f port/rmq_port_sim.h ] && echo "--port sim cortex-m4" >>"$PLAN" ;; esac

JOBS=${SIZE_JOBS:-$(nproc 2>/dev/null || echo 2)}
echo "size.sh: $(wc -l <"$PLAN") builds, $JOBS at a time, in $OUT"
# shellcheck disable=SC2086
xargs -P "$JOBS" -L 1 "$ROOT/tools/size.sh" <"$PLAN"

# The RAM of one producer measured on an emulated Cortex-M3 and M4
# (tests/target/run.sh ram: tests/target/ram_core_mcu.c, the core-mcu
# configuration, under qemu-system-arm), when the tools are here.
RAM_DIR=${B:-build}/mcu
RAM_RAN=0
rm -f "$RAM_DIR"/ram-*.txt
if command -v qemu-system-arm >/dev/null && command -v cmake >/dev/null && command -v arm-none-eabi-gcc >/dev/null; then
    RAM_RAN=1
    mkdir -p "$RAM_DIR"
    B=${B:-build} sh tests/target/run.sh ram >"$RAM_DIR/size-ram.log" 2>&1
fi

# -- the tables -------------------------------------------------------------
FAIL=0
FAILED_CHECKS=""
fail() { echo "FAIL  $*"; FAIL=1; }
failc() { FAILED_CHECKS="$FAILED_CHECKS $1"; shift; fail "$@"; }
pass() { echo "ok    $*"; }
passed() { case " $FAILED_CHECKS " in *" $1 "*) ;; *) pass "$2" ;; esac; }

field() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }
line_of() { awk -v k="$2" -v r="$3" '$1 == k && $3 == r":" { print; exit }' "$1"; }

kib() { awk -v n="$1" 'BEGIN { printf "%.1fK", n / 1024 }'; }
# A build directory whose image was built and measured.
built() { [ -f "$1/result" ] && [ ! -f "$1/error" ]; }
# A stack figure of a build: stack_of DIR direct|resolved ROOT.
stack_of() { line_of "$1/stack" "$2" "$3" | awk '{ print $2 }'; }

ERRORS=""
for d in "$OUT"/*/; do
    [ -f "$d/error" ] && ERRORS="$ERRORS $(basename "$d")"
done

echo
echo "rocketmq_producer.h $(sed -n 's/^#define RMQ_VERSION_TEXT "\(.*\)"/\1/p' rocketmq_producer.h) - library size in bytes"
echo "  library = image - empty baseline image (what it pulls from libc and libgcc included);"
echo "  text = code + read-only data; largest frame = -fstack-usage, library functions in the image;"
echo "  send stack = heaviest chain of frames from rmq_send, rmq_send_async, rmq_send_batch that"
echo "  calls no function twice: direct calls only / indirect calls resolved too (the checked"
echo "  figure; tools/size_stack.py; leaf calls into libc and libgcc count 0)"
echo
printf '%-11s %-13s %-4s %8s %6s %7s | %8s %6s %7s | %-28s | %s\n' \
    config target opt text data bss "img text" data bss "largest frame" "send stack direct/resolved"
MD=$OUT/size_table.md
{
    echo "| configuration | target | opt | text | data | bss | largest frame | send stack |"
    echo "|---|---|---|---:|---:|---:|---|---:|"
} >"$MD"
for name in $CONFIG_NAMES; do
    for t in $AVAILABLE; do
        for l in $LEVELS; do
            d=$OUT/$name.$t.$l
            if ! built "$d"; then
                printf '%-11s %-13s -%-3s  %s\n' "$name" "$t" "$l" "build failed: $(cat "$d/error" 2>/dev/null)"
                continue
            fi
            read -r it id ib bt bd bb <"$d/result"
            lt=$((it - bt)); ld=$((id - bd)); lb=$((ib - bb))
            mf=$(awk '$1 == "max_frame" { print $2 " " $3; exit }' "$d/stack")
            sd=0; sr=0
            for r in $STACK_ROOTS; do
                v=$(stack_of "$d" direct "$r"); [ "${v:-0}" -gt "$sd" ] && sd=$v
                v=$(stack_of "$d" resolved "$r"); [ "${v:-0}" -gt "$sr" ] && sr=$v
            done
            printf '%-11s %-13s -%-3s %8d %6d %7d | %8d %6d %7d | %-28s | %5d / %5d\n' \
                "$name" "$t" "$l" $lt $ld $lb "$it" "$id" "$ib" "${mf:-?}" "$sd" "$sr"
            echo "| $name | $t | -$l | $lt | $ld | $lb | ${mf:-?} | $sr |" >>"$MD"
        done
    done
done

echo
echo "coreMQTT-style summary: library text + data (KiB)"
hdr="| configuration |"; sep="|---|"
for t in $AVAILABLE; do for l in $LEVELS; do hdr="$hdr $t -$l |"; sep="$sep---:|"; done; done
echo "$hdr"; echo "$sep"
{ echo; echo "$hdr"; echo "$sep"; } >>"$MD"
for name in $CONFIG_NAMES; do
    row="| $name |"
    for t in $AVAILABLE; do
        for l in $LEVELS; do
            d=$OUT/$name.$t.$l
            if built "$d"; then
                read -r it id ib bt bd bb <"$d/result"
                row="$row $(kib $((it - bt + id - bd))) |"
            else
                row="$row - |"
            fi
        done
    done
    echo "$row"; echo "$row" >>"$MD"
done

# -- what each cut saves ----------------------------------------------------
lib_text() { built "$1" && awk '{ print $1 - $4 }' "$1/result"; }
if [ $HAVE_FULL = 1 ] && [ -f "$OUT/full.cortex-m4.Os/result" ]; then
    echo
    echo "What each cut saves (library text, full configuration, -Os, Cortex-M4)"
    full_t=$(lib_text "$OUT/full.cortex-m4.Os")
    printf '  %-22s %8s\n' "full" "$full_t"
    for c in $CUTS; do
        t=$(lib_text "$OUT/cut-$c.cortex-m4.Os")
        if [ -n "$t" ]; then
            printf '  %-22s %8d  (saves %d)\n' "+ $c" "$t" $((full_t - t))
        else
            printf '  %-22s %8s\n' "+ $c" "build failed"
        fi
    done
fi

# -- peak memory ---------------------------------------------------------------
echo
echo "Peak memory of one producer: one broker, 1 KiB messages, 16 async in flight"
echo "  (tests/size/peak_memory.c on this host, $(getconf LONG_BIT)-bit: the pool's bytes in use; a 32-bit MCU needs less)"
printf '  %-11s %10s %12s %12s\n' config peak "after start" "after sends"
for name in $CONFIG_NAMES; do
    d=$OUT/peak-$name
    # a failed build or run is a failed check below (builds that failed)
    if ! built "$d"; then printf '  %-11s %s\n' "$name" "$(cat "$d/error" 2>/dev/null || echo "no result")"; continue; fi
    read -r pk st af <"$d/result"
    printf '  %-11s %10d %12d %12d\n' "$name" "$pk" "$st" "$af"
done

# -- RAM on target ----------------------------------------------------------
ram_field() { tr ' ' '\n' <"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
RAM_FIRST=$(budget ram_after_first_send)
RAM_MSG=$(budget ram_per_inflight)
echo
echo "RAM of one producer on an emulated 32-bit Cortex-M (tests/target/ram_core_mcu.c, make test-mcu;"
echo "  one name server, one broker, 128-byte bodies): the pool's bytes in use, block headers included;"
echo "  in flight = each of 16 async sends written and unanswered, and what it holds beyond the frame it"
echo "  wrote; stack = the deepest call into the producer, measured by painting the stack"
printf '  %-9s %-10s %11s %15s %8s %11s %6s %11s %6s\n' config target "after start" "after 1st send" peak "in flight" frame "beyond it" stack
RAM_ANY=0
{
    echo
    echo "| configuration | target | after start | after the first send | per async send in flight | beyond its frame | stack |"
    echo "|---|---|---:|---:|---:|---:|---:|"
} >>"$MD"
for cpu in cortex-m3 cortex-m4; do
    f=$RAM_DIR/ram-$cpu.txt
    [ -f "$f" ] || continue
    RAM_ANY=1
    read -r _ name _ <"$f"
    printf '  %-9s %-10s %11d %15d %8d %11d %6d %11d %6d\n' "$name" "$cpu" "$(ram_field "$f" after_start)" \
        "$(ram_field "$f" after_first_send)" "$(ram_field "$f" peak)" "$(ram_field "$f" per_inflight)" \
        "$(ram_field "$f" frame)" "$(ram_field "$f" bookkeeping)" "$(ram_field "$f" stack)"
    echo "| $name | $cpu | $(ram_field "$f" after_start) | $(ram_field "$f" after_first_send) | $(ram_field "$f" per_inflight) | $(ram_field "$f" bookkeeping) | $(ram_field "$f" stack) |" >>"$MD"
done
if [ $RAM_ANY = 0 ]; then
    if [ $RAM_RAN = 1 ]; then echo "  the run failed: $RAM_DIR/size-ram.log"; else echo "  not measured: qemu-system-arm, cmake or arm-none-eabi-gcc missing (.ci/run installs them)"; fi
fi

# -- where the core's code goes ----------------------------------------------
d=$OUT/core.cortex-m4.Os
if built "$d"; then
    echo
    echo "Where the core's library text goes (Cortex-M4 -Os, bytes, by section of the header)"
    arm-none-eabi-nm -S "$d/app.elf" >"$d/nm-sizes"
    python3 tools/size_breakdown.py "$d/nm-sizes" "$d/app.ci" rocketmq_producer.h "$(lib_text "$d")"
fi

# -- ports ------------------------------------------------------------------
echo
echo "Ports, each header's implementation compiled alone at -Os (object: text data bss)"
for d in "$OUT"/port-*/; do
    [ -d "$d" ] || continue
    n=$(basename "$d")
    if [ -f "$d/result" ]; then
        read -r pt pd pb <"$d/result"
        printf '  %-24s %7d %5d %5d\n' "${n#port-}" "$pt" "$pd" "$pb"
    else
        printf '  %-24s %s\n' "${n#port-}" "not built (see $d/warnings)"
    fi
done

# -- checks -----------------------------------------------------------------
echo
echo "Checks ($BUDGET)"
nm_hits() { awk '{ print $NF }' "$1/nm" | grep -E "$2" | sort -u | tr '\n' ' '; }
for name in $CONFIG_NAMES; do
    for t in $AVAILABLE; do
        for l in $LEVELS; do
            d=$OUT/$name.$t.$l
            class=$(awk '{ print $1 }' "$d/what" 2>/dev/null)
            id="$name $t -$l"
            if ! built "$d"; then fail "$id: not built ($(cat "$d/error" 2>/dev/null))"; continue; fi
            hits=$(nm_hits "$d" "$PRINTF_RE")
            [ -n "$hits" ] && failc printf "$id: printf family in the image: $hits"
            mf=$(field "$d/stack" max_frame)
            [ "${mf:-99999}" -le "$BUDGET_FRAME" ] ||
                failc frame "$id: largest frame ${mf:-?} > $BUDGET_FRAME: $(awk '$1 == "max_frame" { print $3 }' "$d/stack")"
            dyn=$(awk '$1 == "dynamic_frame" { print $3 }' "$d/stack" | tr '\n' ' ')
            [ -n "$dyn" ] && failc frame "$id: frames of dynamic size: $dyn"
            for r in $STACK_ROOTS; do
                v=$(stack_of "$d" resolved "$r")
                if [ -z "$v" ]; then failc stack "$id: no stack figure for $r"
                elif [ "$v" -gt "$BUDGET_STACK" ]; then
                    failc stack "$id: $r stack $v > $BUDGET_STACK: $(line_of "$d/stack" resolved "$r" | cut -d' ' -f3-)"
                fi
            done
            read -r it _ ib bt bd bb <"$d/result"
            if [ "$t" = cortex-m4 ] && [ "$l" = Os ]; then
                target_text "$name" "$class" "$id" $((it - bt))
            fi
            [ "$class" = core ] || continue
            if [ "$t" = cortex-m4 ] && [ "$l" = Os ]; then
                ceiling=$(budget "ceiling_$name")
                if [ -z "$ceiling" ]; then fail "$id: $BUDGET has no ceiling_$name"
                elif [ $((it - bt)) -le "$ceiling" ]; then pass "$id: library text $((it - bt)) <= $ceiling (ceiling_$name: no growth)"
                else fail "$id: library text $((it - bt)) > $ceiling (ceiling_$name): the core grew; cut what grew it or raise the ceiling knowingly"; fi
            fi
            hits=$(nm_hits "$d" "$MALLOC_RE")
            [ -n "$hits" ] && failc heap "$id: heap functions in a core image: $hits"
            hits=$(nm_hits "$d" "$DIV64_RE")
            [ -n "$hits" ] && failc div64 "$id: 64-bit division helpers: $hits"
            hits=$(nm_hits "$d" "$FLOAT_RE")
            [ -n "$hits" ] && failc float "$id: soft-float helpers: $hits"
        done
    done
done
passed frame "every image: no function frame above $BUDGET_FRAME bytes, none of dynamic size"
passed stack "every image: send stack (resolved) at most $BUDGET_STACK bytes"
passed heap "core images: no malloc, free, realloc or calloc"
passed div64 "core images: no 64-bit division helper"
passed float "core images: no soft-float helper"
passed printf "every image: no printf family"
while read -r name class defs; do
    case $name in ''|'#'*) continue ;; esac
    [ "$class" = core ] || continue
    for c in $CUTS; do
        case $c in RMQ_NO_ERROR_TEXT) continue ;; esac
        case " $defs " in *" -D$c "*) ;; *) fail "$name: the header offers $c, the configuration does not cut it ($CONFIGS)" ;; esac
    done
done <"$CONFIGS"
case " $AVAILABLE " in *" cortex-m4 "*) ;; *) fail "no Cortex-M4 toolchain: the text budget was not checked" ;; esac
if [ -n "$ERRORS" ]; then
    fail "builds that failed:$ERRORS (see $OUT/<build>/warnings and link)"
    for e in $ERRORS; do
        cat "$OUT/$e/warnings" "$OUT/$e/link" 2>/dev/null | grep -E 'error|undefined' | head -5 | sed "s|^|  $e: |"
    done
fi

[ $RAM_RAN = 1 ] && [ $RAM_ANY = 0 ] && fail "the RAM run on the emulated Cortex-M failed (see $RAM_DIR/size-ram.log)"
for f in "$RAM_DIR"/ram-*.txt; do
    [ -f "$f" ] || continue
    cpu=${f##*/ram-}; cpu=${cpu%.txt}
    v=$(ram_field "$f" after_first_send)
    if [ -n "$RAM_FIRST" ] && [ "$v" -gt "$RAM_FIRST" ]; then fail "core-mcu $cpu: RAM after the first send $v > $RAM_FIRST (ram_after_first_send)"
    else echo "ok    core-mcu $cpu: RAM after the first send $v <= $RAM_FIRST"; fi
    v=$(ram_field "$f" bookkeeping)
    if [ -n "$RAM_MSG" ] && [ "$v" -gt "$RAM_MSG" ]; then fail "core-mcu $cpu: RAM per async send in flight beyond its frame $v > $RAM_MSG (ram_per_inflight)"
    else echo "ok    core-mcu $cpu: RAM per async send in flight beyond its frame $v <= $RAM_MSG"; fi
done

# -- notes --------------------------------------------------------------------
warn=$(cat "$OUT"/*/warnings 2>/dev/null | grep -E 'warning:' | sed 's/^.*rocketmq_producer.h:/rocketmq_producer.h:/' | sort -u)
if [ -n "$warn" ]; then
    echo
    echo "Compiler warnings in these builds (the header should build clean under every cut):"
    echo "$warn" | sed 's/^/  /'
fi
rec=$(cat "$OUT"/core.*/stack 2>/dev/null | awk '$1 == "recursion" { $1 = ""; $2 = ""; print substr($0, 3) }' | sort -u)
if [ -n "$rec" ]; then
    echo
    echo "Recursion in the direct call graph of the core (not in the stack figures: each turn adds its frames):"
    echo "$rec" | sed 's/^/  /'
fi
echo
echo "Stack chains of the core, Cortex-M4 -Os:"
[ -f "$OUT/core.cortex-m4.Os/stack" ] && awk '$1 == "resolved" || $1 == "direct"' "$OUT/core.cortex-m4.Os/stack" | sed 's/^/  /'
echo
echo "size.sh: $(($(date +%s) - START)) s; tables also in $MD"
exit $FAIL
