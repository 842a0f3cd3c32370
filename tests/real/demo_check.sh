#!/usr/bin/env bash
# tests/real/demo_check.sh - `make demo` as the README's first command, with
# NAMESRV_ADDR set: the seed's batch sent to the real cluster, and the three
# messages it printed found in BatchTest with mqadmin (RMQ_REAL_MQADMIN), on
# one queue at consecutive offsets. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
out=$(mktemp); stored=$(mktemp)
trap 'rm -f "$out" "$stored"' EXIT
name=make_demo_sends_the_seed_batch_to_the_real_cluster
fail() { echo "FAIL $name"; printf '  %s\n' "$@"; echo "0 passed, 1 failed"; exit 1; }

make -s demo >"$out" 2>&1 || fail "make demo: exit status $?" "$(tail -5 "$out")"
grep -q "sending to the real cluster at $NAMESRV_ADDR" "$out" || fail "it did not say where it sends" "$(head -3 "$out")"
ids=$(sed -n 's/^SEND_OK msgId=\([0-9A-F]*\) .*/\1/p' "$out")
[ "$(printf '%s\n' "$ids" | grep -c .)" = 3 ] || fail "three SEND_OK lines" "$(cat "$out")"
"$RMQ_REAL_MQADMIN" consumeMessage -n "$NAMESRV_ADDR" -t BatchTest -c 100000000 2>&1 | tr -d '\000' >"$stored"
where=""; offsets=""; i=0
for id in $ids; do
    line=$(grep "^MSGID: $id " "$stored")
    [ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || fail "$id stored once"
    case $line in *"KEYS=OrderID00$((i + 1))"*"] BODY: Hello world $i") ;; *) fail "$id: keys OrderID00$((i + 1)), body 'Hello world $i'" "$line" ;; esac
    q=$(printf '%s\n' "$line" | sed 's/.*brokerName=\([^,]*\), queueId=\([0-9]*\),.*queueOffset=\([0-9]*\),.*/\1 \2/')
    [ -z "$where" ] || [ "$where" = "$q" ] || fail "the batch on one queue: $where and $q"
    where=$q
    offsets="$offsets $(printf '%s\n' "$line" | sed 's/.*queueOffset=\([0-9]*\),.*/\1/')"
    i=$((i + 1))
done
set -- $offsets
[ $(($2 - $1)) = 1 ] && [ $(($3 - $2)) = 1 ] || fail "consecutive offsets:$offsets"
echo "ok   $name"
echo "1 passed, 0 failed"
