#!/usr/bin/env bash
# tests/real/quickstart.sh - the README's quick start, as a new user meets it:
# the first C block under "## Quick start" and the build command after it,
# compiled with gcc and with clang, then run against the real cluster at
# NAMESRV_ADDR (its address put in place of the README's), and what it says
# it stored read back with mqadmin (RMQ_REAL_MQADMIN). Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; printf '  %s\n' "$@"; }

section=$(sed -n '/^## Quick start/,/^## /p' README.md)
printf '%s\n' "$section" | sed -n '/^```c$/,/^```$/{/^```/d;p}' >"$work/main.c"
build=$(printf '%s\n' "$section" | sed -n '/^```sh$/,/^```$/{/^```/d;p}' | grep -m1 '^cc ')
[ -s "$work/main.c" ] && [ -n "$build" ] || { fail quickstart_is_in_the_readme "no C block or no cc line under ## Quick start"; echo "$passed passed, $failed failed"; exit 1; }
# The README's name server list becomes the cluster's.
sed -i "s|cfg.namesrv_addr = \"[^\"]*\";|cfg.namesrv_addr = \"$NAMESRV_ADDR\";|" "$work/main.c"
grep -q "cfg.namesrv_addr = \"$NAMESRV_ADDR\";" "$work/main.c" || fail quickstart_sets_a_name_server "no cfg.namesrv_addr line to point at the cluster"

for compiler in gcc clang; do
    cmd=${build/#cc /$compiler }
    cmd=${cmd/ -I. / -I$PWD }
    cmd=${cmd/ main.c / $work/main.c }
    cmd=${cmd/ -o main / -o $work/main-$compiler }
    if (cd "$work" && eval "$cmd") >"$work/cc.log" 2>&1; then ok "quickstart_compiles_strictly_with_$compiler"
    else fail "quickstart_compiles_strictly_with_$compiler" "$cmd" "$(head -20 "$work/cc.log")"; fi
done

name=quickstart_sends_telemetry_that_the_broker_stores
if [ -x "$work/main-gcc" ] && timeout 60 "$work/main-gcc" >"$work/out" 2>&1; then
    # "<msg_id> stored at <broker>:<queue> offset <n>"
    read -r id _ _ where _ offset <"$work/out"
    text=$("$RMQ_REAL_MQADMIN" queryMsgByUniqueKey -n "$NAMESRV_ADDR" -t Telemetry -i "$id" 2>&1)
    got="$(printf '%s\n' "$text" | sed -n 's/^Tags: *//p')|$(printf '%s\n' "$text" | sed -n 's/^Keys: *//p')|$(printf '%s\n' "$text" | sed -n 's/^Queue ID: *//p')|$(printf '%s\n' "$text" | sed -n 's/^Queue Offset: *//p')"
    body=$(cat "$(printf '%s\n' "$text" | sed -n 's/^Message Body Path: *//p')" 2>/dev/null)
    if [ "$got" = "[temp]|[sensor-12]|${where##*:}|$offset" ] && [ "$body" = "t=21.5" ]; then ok "$name"
    else fail "$name" "printed: $(cat "$work/out")" "stored: $got body '$body'"; fi
else
    fail "$name" "exit status $?" "$(cat "$work/out" 2>/dev/null)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
