#!/usr/bin/env bash
# examples/test_examples_real.sh - the examples and rmq_send against a real
# RocketMQ cluster (NAMESRV_ADDR), what they stored read back with Apache
# RocketMQ's own bin/mqadmin (RMQ_REAL_MQADMIN). examples/test_examples.sh
# runs this when both are set; `make test-real` does (tests/real/run.sh).
#
# Topics are the examples' own (BatchTest, TopicTest, ...), which a real
# cluster keeps between runs: each check finds this run's messages by the
# ids the programs printed, or counts what a run added. Each mqadmin call
# starts a JVM, so a topic is read back once, after every program that
# sends to it has run. The last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2

dir=${EXAMPLES_DIR:-build/examples}
namesrv=$NAMESRV_ADDR
mqadmin=$RMQ_REAL_MQADMIN
work=$(mktemp -d)
passed=0
failed=0
trap 'rm -rf "$work"' EXIT

run() {                       # run NAME PROG ARGS...: output in $work/NAME.{out,err}, status in rc_NAME
    local name=$1 prog=$2
    shift 2
    timeout 60 "$dir/$prog" "$@" <"${input:-/dev/null}" >"$work/$name.out" 2>"$work/$name.err"
    eval "rc_$name=$?"
    # a failed run says why in the log (a busy broker's answer, a timeout)
    eval "[ \$rc_$name -eq 0 ]" || sed -n "1,5s/^/  $prog stderr: /p" "$work/$name.err"
    input=/dev/null
}

stored() {                    # stored TOPIC: every message of TOPIC, one line each, in $work/TOPIC.stored
    "$mqadmin" consumeMessage -n "$namesrv" -t "$1" -c 100000000 2>&1 | tr -d '\000' >"$work/$1.stored"
    grep -q "print msg finished" "$work/$1.stored" || { echo "consumeMessage $1: $(head -c 400 "$work/$1.stored")"; return 1; }
}

# the stored line of UNIQ_KEY id in TOPIC's read back
line_of() { grep "^MSGID: $2 " "$work/$1.stored"; }
times_stored() { grep -c "^MSGID: $2 " "$work/$1.stored"; }
field() { local re="[ [{]$2=([^],}]*)"; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
body_of() { printf '%s' "${1##*] BODY: }"; }
count_tag() { grep -c "TAGS=$2[,}]" "$work/$1.stored"; }

begin() { name=$1; errs=(); }
expect() { local what=$1; shift; "$@" || errs+=("$what"); }
is() { [ "$1" = "$2" ]; }
all_match() { ! grep -vqE -- "$2" "$1"; }
end() {
    if [ ${#errs[@]} -eq 0 ]; then passed=$((passed + 1)); echo "ok   $name"; return; fi
    failed=$((failed + 1))
    echo "FAIL $name"
    printf '  expected: %s\n' "${errs[@]}"
}

# Each printed id stored exactly once, with the tag; the body by the caller.
ids_stored_once() {           # ids_stored_once TOPIC FILE-OF-IDS TAG
    local id line
    while read -r id; do
        [ "$(times_stored "$1" "$id")" = 1 ] || { echo "  $id stored $(times_stored "$1" "$id") times" >&2; return 1; }
        line=$(line_of "$1" "$id")
        [ "$(field "$line" TAGS)" = "$3" ] || return 1
    done <"$2"
}

for prog in simple_batch_producer sync_producer async_producer oneway_producer orderly_producer \
            event_loop_producer rmq_send; do
    [ -x "$dir/$prog" ] || { echo "$dir/$prog is missing (make builds it)"; echo "0 passed, 1 failed"; exit 1; }
done

# -- run every program, then read each topic back once ------------------------------
tag=r$$$RANDOM
cli=CliReal_$tag
run batch simple_batch_producer -n "$namesrv"
run sync sync_producer -n "$namesrv"
run async async_producer -n "$namesrv"
stored TopicTest || exit 1
oneway_before=$(count_tag TopicTest TagC)
run oneway oneway_producer -n "$namesrv"
run orderly_topic rmq_send create-topic OrderTopic 4 -n "$namesrv"
run orderly orderly_producer -n "$namesrv"
run loop event_loop_producer -n "$namesrv"
run cli_sync rmq_send -n "$namesrv" -t "$cli" -m hello -c 3 --tags sync --keys "k1 k2" -p a=1 -p b=x
run cli_async rmq_send -n "$namesrv" -t "$cli" -s 100 -c 50 --mode async -w 4 --tags async
run cli_oneway rmq_send -n "$namesrv" -t "$cli" -m ping -c 5 --mode oneway --tags oneway
run cli_batch rmq_send -n "$namesrv" -t "$cli" -m item -c 10 --mode batch --batch-size 4 -p z=9 --tags batch
run cli_binary rmq_send -n "$namesrv" -t "$cli" -m bin -c 2 --binary --tags binary
printf 'one\ntwo\n\nthree four\n' >"$work/lines"
input=$work/lines run cli_lines rmq_send -n "$namesrv" -t "$cli" --tags lines
for t in BatchTest TopicTest OrderTopic EventLoopTopic "$cli"; do stored "$t" || exit 1; done

# -- the checks -----------------------------------------------------------------------
begin simple_batch_producer_stores_the_seed_batch_on_one_queue
expect "exit status 0" is "$rc_batch" 0
sed -n 's/^SEND_OK msgId=\([0-9A-F]*\) .*/\1/p' "$work/batch.out" >"$work/batch.ids"
expect "three SEND_OK lines" is "$(grep -c '' "$work/batch.ids")" 3
expect "each stored once, tag Tag" ids_stored_once BatchTest "$work/batch.ids" Tag
i=0; queues=""; offsets=""
while read -r id; do
    line=$(line_of BatchTest "$id")
    expect "message $i: keys OrderID00$((i + 1))" is "$(field "$line" KEYS)" "OrderID00$((i + 1))"
    expect "message $i: body 'Hello world $i'" is "$(body_of "$line")" "Hello world $i"
    queues="$queues$(field "$line" brokerName)/$(field "$line" queueId) "
    offsets="$offsets$(field "$line" queueOffset) "
    i=$((i + 1))
done <"$work/batch.ids"
expect "the batch on one queue" is "$(echo "$queues" | tr ' ' '\n' | sort -u | grep -c .)" 1
set -- $offsets
expect "consecutive queue offsets" is "$(( ${3:-0} - ${1:-0} ))" 2
end

begin sync_producer_stores_ten_tagged_messages_with_keys_and_properties
expect "exit status 0" is "$rc_sync" 0
sed -n 's/^SEND_OK msgId=\([0-9A-F]*\) .*/\1/p' "$work/sync.out" >"$work/sync.ids"
expect "ten SEND_OK lines" is "$(grep -c '' "$work/sync.ids")" 10
expect "each stored once, tag TagA" ids_stored_once TopicTest "$work/sync.ids" TagA
i=0
while read -r id; do
    line=$(line_of TopicTest "$id")
    expect "KEY$i" is "$(field "$line" KEYS)" "KEY$i"
    expect "body 'Hello RocketMQ $i'" is "$(body_of "$line")" "Hello RocketMQ $i"
    expect "properties source and region" is "$(field "$line" source)/$(field "$line" region)" "sync_producer/eu-west"
    i=$((i + 1))
done <"$work/sync.ids"
end

begin async_producer_gets_one_callback_per_send
expect "exit status 0" is "$rc_async" 0
expect "the tally line" grep -q "100 callbacks ok, 0 failed, 0 refused" "$work/async.out"
sed -n 's/^ok msgId=\([0-9A-F]*\) .*/\1/p' "$work/async.out" >"$work/async.ids"
expect "100 ok lines" is "$(grep -c '' "$work/async.ids")" 100
expect "each stored once, tag TagB" ids_stored_once TopicTest "$work/async.ids" TagB
end

begin oneway_producer_writes_ten_unacknowledged_messages
expect "exit status 0" is "$rc_oneway" 0
expect "the tally" grep -q "10 oneway messages written, 0 failed, 0 refused" "$work/oneway.out"
expect "ten more TagC messages stored" is "$(( $(count_tag TopicTest TagC) - oneway_before ))" 10
end

begin orderly_producer_keeps_each_order_on_one_queue_in_step_order
expect "OrderTopic created ahead" is "$rc_orderly_topic" 0
expect "exit status 0" is "$rc_orderly" 0
for order in ORDER-1001 ORDER-1002 ORDER-1003 ORDER-1004; do
    where=$(sed -n "s/^order $order: all 4 steps on \(broker-[a-z]*\) queue \([0-9]*\)$/\1 \2/p" "$work/orderly.out")
    expect "$order on one queue, as printed" test -n "$where"
    set -- $where
    # this run's four steps: the last four of the order on that queue, by offset
    steps=$(grep "KEYS=$order[,}]" "$work/OrderTopic.stored" | grep "brokerName=${1:-x}, queueId=${2:-x}," |
            while IFS= read -r line; do echo "$(field "$line" queueOffset) $(field "$line" TAGS)"; done |
            sort -n | tail -4 | awk '{ printf "%s ", $2 }')
    expect "$order's steps in order on that queue" is "$steps" "created paid shipped delivered "
done
end

begin event_loop_producer_sends_from_its_own_poll_loop
expect "exit status 0" is "$rc_loop" 0
expect "the tally line" grep -q "20 sent, 20 ok, 0 failed" "$work/loop.out"
sed -n 's/^ok msgId=\([0-9A-F]*\) .*/\1/p' "$work/loop.out" >"$work/loop.ids"
expect "20 ids printed" is "$(grep -c '' "$work/loop.ids")" 20
while read -r id; do
    expect "$id stored once" is "$(times_stored EventLoopTopic "$id")" 1
done <"$work/loop.ids"
end

begin rmq_send_every_mode_stores_what_it_printed
for mode in sync async batch binary lines; do
    eval "rc=\$rc_cli_$mode"
    expect "$mode: exit status 0" is "$rc" 0
    awk '{ print $2 }' "$work/cli_$mode.out" >"$work/cli_$mode.ids"
    expect "$mode: each printed id stored once, tagged $mode" ids_stored_once "$cli" "$work/cli_$mode.ids" "$mode"
done
expect "oneway: exit status 0" is "$rc_cli_oneway" 0
expect "sync: 3, async: 50, oneway: 5, batch: 10, binary: 2, lines: 3 stored" \
    is "$(for t in sync async oneway batch binary lines; do printf '%s ' "$(count_tag "$cli" $t)"; done)" "3 50 5 10 2 3 "
line=$(line_of "$cli" "$(head -1 "$work/cli_sync.ids")")
expect "sync: body, keys and properties" is "$(body_of "$line")|$(field "$line" KEYS)|$(field "$line" a)|$(field "$line" b)" "hello|k1 k2|1|x"
line=$(line_of "$cli" "$(head -1 "$work/cli_batch.ids")")
expect "batch: property z=9 on each member" is "$(field "$line" z)" 9
expect "lines: the lines as bodies" is "$(grep 'TAGS=lines[,}]' "$work/$cli.stored" | sed 's/.*] BODY: //' | sort | tr '\n' '|')" "one|three four|two|"
end

begin rmq_send_create_topic_and_offsets_work_as_mqadmin_does
admin_topic=CliAdmin_$tag
run cli_create rmq_send create-topic "$admin_topic" 2 -n "$namesrv"
expect "create-topic: exit status 0" is "$rc_cli_create" 0
expect "create-topic: CREATED line" is "$(cat "$work/cli_create.out")" "CREATED $admin_topic 2"
"$mqadmin" topicRoute -n "$namesrv" -t "$admin_topic" 2>&1 | tr -d ' \n' >"$work/admin.route"
expect "topicRoute: 2 write queues on each broker group" is "$(grep -o '"writeQueueNums":2' "$work/admin.route" | grep -c '')" 2
run cli_admin_send rmq_send -n "$namesrv" -t "$admin_topic" -m x -c 4 -q
run cli_offsets rmq_send offsets "$admin_topic" -n "$namesrv"
expect "offsets: exit status 0" is "$rc_cli_offsets" 0
expect "offsets: one line per queue (2 brokers x 2)" is "$(grep -c '' "$work/cli_offsets.out")" 4
expect "offsets: broker queue min max time" all_match "$work/cli_offsets.out" '^broker-[a-z] [01] 0 [0-9]+ (-1|[0-9]{13})$'
expect "offsets: the 4 messages sent" is "$(awk '{ n += $4 - $3 } END { print n }' "$work/cli_offsets.out")" 4
end

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
