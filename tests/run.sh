#!/bin/sh
# Runs test programs (and quoted commands), each ending with a line
# "N passed, N failed"; prints each program's line and the total last.
# RMQ_WRAP, if set, prefixes every program (e.g. valgrind).
total_p=0; total_f=0; status=0
for t in "$@"; do
    out=$(mktemp)
    case "$t" in
        *" "*) sh -c "$t" >"$out" 2>&1; rc=$? ;;
        *) ${RMQ_WRAP:-} "$t" >"$out" 2>&1; rc=$? ;;
    esac
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then
        cat "$out"
        echo "== $t: exit $rc, ${line:-no result line}"
        status=1
    else
        grep -E '^(FAIL|SKIP|NOTE|  )|skipped' "$out" || true
        echo "== $t: $line"
    fi
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
    total_p=$((total_p + ${p:-0})); total_f=$((total_f + ${f:-0}))
    [ -n "$line" ] || total_f=$((total_f + 1))
    rm -f "$out"
done
[ $total_f -eq 0 ] || status=1
echo "$total_p passed, $total_f failed"
exit $status
