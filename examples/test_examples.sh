#!/usr/bin/env bash
# examples/test_examples.sh - the examples and rmq_send against the mock cluster.
#
# Starts tests/mockbroker/mockbroker (one name server, two brokers), runs
# every example program and rmq_send in each of its modes against it, and
# reads back over the control port (DUMP, COUNT, REQUESTS) that the messages
# arrived with the right topic, tags, keys, properties and bodies. The last
# line is "N passed, N failed"; `make test` runs it on ASan+UBSan builds.
#
#   EXAMPLES_DIR   the programs (default build/examples)
#   MOCKBROKER     the mock (default tests/mockbroker/mockbroker)
set -u
cd "$(dirname "$0")/.." || exit 2

# Against a real cluster (make test-real): the same programs, read back with
# mqadmin instead of the mock's control port.
if [ -n "${NAMESRV_ADDR:-}" ] && [ -n "${RMQ_REAL_MQADMIN:-}" ]; then
    exec bash examples/test_examples_real.sh
fi

dir=${EXAMPLES_DIR:-build/examples}
mock=${MOCKBROKER:-tests/mockbroker/mockbroker}
work=$(mktemp -d)
passed=0
failed=0
mock_pid=""

# -- the mock cluster ---------------------------------------------------------
stop_mock() {
    [ -n "$mock_pid" ] || return 0
    { printf 'QUIT\n' >&3; } 2>/dev/null
    exec 3<&- 2>/dev/null
    eval "exec ${mock_in}>&-" 2>/dev/null
    wait "$mock_pid" 2>/dev/null
    mock_pid=""
}
trap 'stop_mock; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

start_mock() {
    local ready=""
    coproc MOCK { exec "$mock" --exit-on-eof --quiet 2>"$work/mock.log"; }
    mock_pid=$MOCK_PID
    mock_in=${MOCK[1]}
    IFS= read -r -t 10 ready <&"${MOCK[0]}"
    case $ready in
        "MOCKBROKER READY "*) ;;
        *) echo "cannot start $mock: $(cat "$work/mock.log")"; return 1 ;;
    esac
    namesrv=${ready#*namesrv=}; namesrv=${namesrv%% *}
    control_addr=${ready#*control=}; control_addr=${control_addr%% *}
    exec 3<>"/dev/tcp/${control_addr%:*}/${control_addr##*:}"
}

# One control command; its answer lines (without the final OK) on stdout.
control() {
    local line
    printf '%s\n' "$*" >&3 || return 1
    while IFS= read -r -t 5 line <&3; do
        case $line in
            OK) return 0 ;;
            ERR*) echo "control $*: $line" >&2; return 1 ;;
            *) printf '%s\n' "$line" ;;
        esac
    done
    return 1
}

# COUNT of a topic once it reaches want (oneway sends are not acknowledged),
# or whatever it is after a second.
count_of() {
    local topic=$1 want=$2 n i
    for ((i = 0; i < 50; i++)); do
        n=$(control COUNT "$topic")
        [ "$n" = "$want" ] && break
        sleep 0.02
    done
    printf '%s' "$n"
}

# -- running a program ----------------------------------------------------------
# run PROG ARGS...: stdout in $work/out, stderr in $work/err, status in rc;
# stdin from $input (default /dev/null), so nothing ever waits on a terminal.
input=/dev/null
run() {
    local prog=$1
    shift
    timeout 20 "$dir/$prog" "$@" <"$input" >"$work/out" 2>"$work/err"
    rc=$?
    input=/dev/null
}

# -- reading DUMP lines -------------------------------------------------------------
json_text() { local re="\"$2\":\"([^\"]*)\""; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
json_number() { local re="\"$2\":(-?[0-9]+)"; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | tr 'a-f' 'A-F'; }

dump() { control DUMP "$1" >"$work/dump"; }
nlines() { grep -c '' "$1"; }
# every line of FILE holds TEXT
every() { ! grep -vqF -- "$2" "$1"; }
has() { grep -qF -- "$2" "$1"; }
# the dumped bodies, decoded, one per line, sorted
dumped_bodies() {
    local rec
    while IFS= read -r rec; do
        printf '%b\n' "$(json_text "$rec" bodyHex | sed 's/../\\x&/g')"
    done <"$work/dump" | sort
}

# -- the test frame -------------------------------------------------------------------
begin() { name=$1; errs=(); control CLEAR >/dev/null; }
expect() {
    local what=$1
    shift
    "$@" || errs+=("$what")
}
end() {
    if [ ${#errs[@]} -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok   $name"
        return
    fi
    failed=$((failed + 1))
    echo "FAIL $name"
    printf '  expected: %s\n' "${errs[@]}"
    echo "  exit status: $rc"
    sed -n '1,12s/^/  stdout: /p' "$work/out"
    sed -n '1,12s/^/  stderr: /p' "$work/err"
}
is() { [ "$1" = "$2" ]; }

result_line='^(SEND_OK|FLUSH_DISK_TIMEOUT|FLUSH_SLAVE_TIMEOUT|SLAVE_NOT_AVAILABLE) [0-9A-F]{32} [0-9A-F]{32} broker-[a-z] [0-9]+ [0-9]+$'
all_result_lines() { ! grep -vqE "$result_line" "$work/out"; }

# -- the examples ---------------------------------------------------------------------
test_simple_batch_producer_stores_the_seed_batch_on_one_queue() {
    local i rec queues offsets
    begin "${FUNCNAME[0]}"
    run simple_batch_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "three SEND_OK lines" is "$(grep -c '^SEND_OK msgId=' "$work/out")" 3
    dump BatchTest
    expect "three messages stored in BatchTest" is "$(nlines "$work/dump")" 3
    expect "one SEND_BATCH_MESSAGE (320) request" every "$work/dump" '"code":320,'
    expect "tag Tag on each" every "$work/dump" '"tags":"Tag",'
    expect "group BatchProducerGroupName" every "$work/dump" '"producerGroup":"BatchProducerGroupName"'
    for i in 0 1 2; do
        rec=$(grep -F "\"keys\":\"OrderID00$((i + 1))\"" "$work/dump")
        expect "OrderID00$((i + 1)) with body 'Hello world $i'" has <(printf '%s' "$rec") "\"bodyHex\":\"$(hex "Hello world $i")\""
    done
    queues=$(while IFS= read -r rec; do echo "$(json_text "$rec" broker)/$(json_number "$rec" queueId)"; done <"$work/dump" | sort -u | wc -l)
    offsets=$(while IFS= read -r rec; do json_number "$rec" queueOffset; echo; done <"$work/dump" | sort -n | tr '\n' ' ')
    expect "the batch on one queue" is "$queues" 1
    expect "consecutive queue offsets" is "$offsets" "0 1 2 "
    end
}

test_examples_take_the_name_server_from_NAMESRV_ADDR() {
    begin "${FUNCNAME[0]}"
    NAMESRV_ADDR=$namesrv run simple_batch_producer
    expect "exit status 0" is "$rc" 0
    expect "three messages stored" is "$(control COUNT BatchTest)" 3
    end
}

test_examples_without_a_name_server_print_their_usage() {
    begin "${FUNCNAME[0]}"
    env -u NAMESRV_ADDR "$dir/sync_producer" </dev/null >"$work/out" 2>"$work/err"
    rc=$?
    expect "exit status 2" is "$rc" 2
    expect "usage naming -n and NAMESRV_ADDR" has "$work/err" "-n host:port[;host:port] (or set NAMESRV_ADDR)"
    end
}

test_sync_producer_stores_ten_tagged_messages_with_keys_and_properties() {
    local i
    begin "${FUNCNAME[0]}"
    run sync_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "ten SEND_OK lines" is "$(grep -c '^SEND_OK ' "$work/out")" 10
    dump TopicTest
    expect "ten messages stored" is "$(nlines "$work/dump")" 10
    expect "SEND_MESSAGE_V2 (310)" every "$work/dump" '"code":310,'
    expect "tag TagA" every "$work/dump" '"tags":"TagA",'
    expect "user properties" every "$work/dump" '"source":"sync_producer","region":"eu-west"'
    for i in 0 5 9; do
        expect "KEY$i with body 'Hello RocketMQ $i'" \
            has <(grep -F "\"keys\":\"KEY$i\"" "$work/dump") "\"bodyHex\":\"$(hex "Hello RocketMQ $i")\""
    done
    end
}

test_async_producer_gets_one_callback_per_send() {
    begin "${FUNCNAME[0]}"
    run async_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "the tally line" has "$work/out" "100 callbacks ok, 0 failed, 0 refused"
    expect "100 ok lines" is "$(grep -c '^ok msgId=' "$work/out")" 100
    expect "100 stored" is "$(control COUNT TopicTest)" 100
    dump TopicTest
    expect "tag TagB" every "$work/dump" '"tags":"TagB",'
    end
}

test_oneway_producer_writes_ten_unacknowledged_requests() {
    begin "${FUNCNAME[0]}"
    run oneway_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "the tally from the counters" has "$work/out" "10 oneway messages written, 0 failed, 0 refused"
    expect "ten stored" is "$(count_of TopicTest 10)" 10
    control REQUESTS >"$work/requests"
    expect "ten oneway (flag=2) SEND_MESSAGE_V2 requests" is "$(grep -c 'code=310 opaque=[0-9-]* flag=2 ' "$work/requests")" 10
    dump TopicTest
    expect "tag TagC" every "$work/dump" '"tags":"TagC",'
    end
}

test_oneway_producer_tells_failures_it_has_no_callback_for() {
    begin "${FUNCNAME[0]}"
    run oneway_producer -n 127.0.0.1:1
    expect "exit status 1" is "$rc" 1
    expect "the tally" has "$work/out" "0 oneway messages written, 10 failed, 0 refused"
    expect "the reason" has "$work/err" "flush: a oneway send failed: No route info of this topic: TopicTest (name servers 127.0.0.1:1"
    end
}

test_orderly_producer_keeps_each_order_on_one_queue_in_step_order() {
    local rec key where order steps
    local -A queue_of steps_of
    begin "${FUNCNAME[0]}"
    # made ahead, as an orderly topic is: an auto-created one moves its route after the first send
    control TOPIC '*' OrderTopic 4 >/dev/null
    run orderly_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    dump OrderTopic
    expect "16 steps stored" is "$(nlines "$work/dump")" 16
    while IFS= read -r rec; do
        key=$(json_text "$rec" keys)
        where="$(json_text "$rec" broker) queue $(json_number "$rec" queueId)"
        [ -z "${queue_of[$key]:-}" ] || [ "${queue_of[$key]}" = "$where" ] || queue_of[$key]="MOVED"
        [ -n "${queue_of[$key]:-}" ] || queue_of[$key]=$where
        steps_of[$key]="${steps_of[$key]:-}$(json_text "$rec" tags) "
    done <"$work/dump"
    for order in ORDER-1001 ORDER-1002 ORDER-1003 ORDER-1004; do
        steps=${steps_of[$order]:-}
        expect "$order's steps in order" is "$steps" "created paid shipped delivered "
        expect "$order on one queue, as printed" has "$work/out" "order $order: all 4 steps on ${queue_of[$order]:-none}"
    done
    end
}

test_event_loop_producer_sends_from_its_own_poll_loop() {
    begin "${FUNCNAME[0]}"
    run event_loop_producer -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "the tally line" has "$work/out" "20 sent, 20 ok, 0 failed"
    expect "20 stored" is "$(control COUNT EventLoopTopic)" 20
    end
}

# -- rmq_send -----------------------------------------------------------------------------
test_rmq_send_sync_sends_text_with_tags_keys_properties_and_group() {
    local rec id
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t CliSync -g cli_group -m hello -c 3 --tags tg --keys "k1 k2" -p a=1 -p b=x=y
    expect "exit status 0" is "$rc" 0
    expect "three result lines" is "$(nlines "$work/out")" 3
    expect "status msg_id offset_msg_id broker queue offset" all_result_lines
    expect "the summary on stderr" has "$work/err" "rmq_send: 3 sent, 0 failed (topic CliSync, mode sync"
    dump CliSync
    expect "three stored" is "$(nlines "$work/dump")" 3
    expect "body hello" every "$work/dump" "\"bodyHex\":\"$(hex hello)\""
    expect "tags and keys" every "$work/dump" '"tags":"tg","keys":"k1 k2"'
    expect "properties a=1, b=x=y" every "$work/dump" '"a":"1","b":"x=y"'
    expect "group cli_group" every "$work/dump" '"producerGroup":"cli_group"'
    expect "JSON headers" every "$work/dump" '"serialize":"JSON"'
    while read -r _ _ id _; do
        expect "printed offset id $id stored" has "$work/dump" "\"offsetMsgId\":\"$id\""
    done <"$work/out"
    end
}

test_rmq_send_async_keeps_a_window_and_sends_generated_bodies() {
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t CliAsync -s 100 -c 50 --mode async -w 4
    expect "exit status 0" is "$rc" 0
    expect "50 result lines" is "$(nlines "$work/out")" 50
    expect "status msg_id offset_msg_id broker queue offset" all_result_lines
    dump CliAsync
    expect "50 stored" is "$(nlines "$work/dump")" 50
    expect "100-byte bodies" every "$work/dump" '"bodyLen":100,'
    expect "50 different bodies" is "$(dumped_bodies | sort -u | wc -l)" 50
    end
}

test_rmq_send_oneway_prints_no_results_and_stores_all() {
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t CliOneway -m ping -c 5 --mode oneway
    expect "exit status 0" is "$rc" 0
    expect "no result lines" is "$(nlines "$work/out")" 0
    expect "the summary" has "$work/err" "rmq_send: 5 sent (oneway: written, not acknowledged), 0 failed"
    expect "five stored" is "$(count_of CliOneway 5)" 5
    end
}

test_rmq_send_batch_splits_into_batches_of_the_given_size() {
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t CliBatch -m item -c 10 --mode batch --batch-size 4 -p z=9 --tags b
    expect "exit status 0" is "$rc" 0
    expect "ten result lines" is "$(nlines "$work/out")" 10
    expect "status msg_id offset_msg_id broker queue offset" all_result_lines
    dump CliBatch
    expect "ten stored" is "$(nlines "$work/dump")" 10
    expect "by SEND_BATCH_MESSAGE" every "$work/dump" '"code":320,'
    expect "property z=9 and tag b on each member" every "$work/dump" '"z":"9"'
    control REQUESTS >"$work/requests"
    expect "three batch requests (4+4+2)" is "$(grep -c 'code=320 ' "$work/requests")" 3
    end
}

test_rmq_send_sends_one_message_per_stdin_line_skipping_empty_ones() {
    begin "${FUNCNAME[0]}"
    printf 'one\ntwo\n\n\r\nthree four\r\nlast line without newline' >"$work/in"
    input=$work/in
    run rmq_send -n "$namesrv" -t CliLines
    expect "exit status 0" is "$rc" 0
    expect "four result lines" is "$(nlines "$work/out")" 4
    dump CliLines
    expect "the four lines as bodies" is "$(dumped_bodies | tr '\n' '|')" "last line without newline|one|three four|two|"
    end
}

test_rmq_send_binary_uses_rocketmq_headers() {
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t CliBinary -m bin -c 2 --binary
    expect "exit status 0" is "$rc" 0
    dump CliBinary
    expect "two stored" is "$(nlines "$work/dump")" 2
    expect "ROCKETMQ serialization" every "$work/dump" '"serialize":"ROCKETMQ"'
    end
}

test_rmq_send_takes_the_name_server_from_NAMESRV_ADDR() {
    begin "${FUNCNAME[0]}"
    NAMESRV_ADDR=$namesrv run rmq_send -t CliEnv -m env
    expect "exit status 0" is "$rc" 0
    expect "one stored" is "$(control COUNT CliEnv)" 1
    end
}

test_rmq_send_fails_with_the_reason_against_a_dead_name_server() {
    local mode
    begin "${FUNCNAME[0]}"
    for mode in sync async oneway batch; do
        run rmq_send -n 127.0.0.1:1 -t CliDead -m x -c 3 --mode "$mode" --timeout 1000
        expect "$mode: exit status 1" is "$rc" 1
        expect "$mode: the reason names the topic and the name server" \
            has "$work/err" "No route info of this topic: CliDead (name servers 127.0.0.1:1"
        expect "$mode: the summary counts the failure" grep -qE "rmq_send: 0 sent.*, [1-9][0-9]* failed" "$work/err"
    done
    end
}

test_rmq_send_without_a_name_server_is_a_usage_error() {
    begin "${FUNCNAME[0]}"
    env -u NAMESRV_ADDR "$dir/rmq_send" -t T -m x </dev/null >"$work/out" 2>"$work/err"
    rc=$?
    expect "exit status 2" is "$rc" 2
    expect "the reason" has "$work/err" "no name server: give -n host:port or set NAMESRV_ADDR"
    end
}

test_rmq_send_reports_a_closed_stdout_and_stops() {
    begin "${FUNCNAME[0]}"
    # The line arrives after the reader (true) has gone: the first result
    # line meets a closed pipe.
    { sleep 0.3; printf 'a\nb\nc\n'; } | timeout 20 "$dir/rmq_send" -n "$namesrv" -t CliPipe 2>"$work/err" | true
    rc=${PIPESTATUS[1]}
    : >"$work/out"
    expect "exit status 1" is "$rc" 1
    expect "broken pipe named" has "$work/err" "cannot write results to stdout (Broken pipe): stopped sending"
    end
}

test_rmq_send_refuses_bad_arguments_and_explains_them() {
    begin "${FUNCNAME[0]}"
    run rmq_send --help
    expect "--help: exit status 0" is "$rc" 0
    expect "--help: usage" has "$work/out" "usage: rmq_send -t topic"
    run rmq_send -n "$namesrv" -t T --mode fast
    expect "bad mode: exit status 2" is "$rc" 2
    expect "bad mode: named" has "$work/err" "--mode must be sync, async, oneway or batch"
    run rmq_send -n "$namesrv" -m x
    expect "no topic: exit status 2" is "$rc" 2
    run rmq_send -n "$namesrv" -t T -p novalue
    expect "bad property: exit status 2" is "$rc" 2
    run rmq_send -n "$namesrv" -t T -m x -p KEYS=k
    expect "system property: exit status 1" is "$rc" 1
    expect "system property: the library's reason" has "$work/err" "The Property<KEYS> is used by system"
    run rmq_send -n "$namesrv" -t T -x
    expect "unknown option: exit status 2" is "$rc" 2
    end
}

# -- rmq_send offsets / create-topic (mqadmin's way) ----------------------------------------------
test_rmq_send_create_topic_creates_n_queues_on_every_broker() {
    begin "${FUNCNAME[0]}"
    run rmq_send create-topic CliCreated 3 -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "CREATED line" is "$(cat "$work/out")" "CREATED CliCreated 3"
    control REQUESTS >"$work/req"
    expect "UPDATE_AND_CREATE_TOPIC to broker-a" grep -qE '^broker-a code=17 .*"topic":"CliCreated"' "$work/req"
    expect "UPDATE_AND_CREATE_TOPIC to broker-b" grep -qE '^broker-b code=17 .*"topic":"CliCreated"' "$work/req"
    expect "three read and write queues, perm 6" grep -qE '"readQueueNums":"3","writeQueueNums":"3","perm":"6"' "$work/req"
    control ROUTE CliCreated >"$work/route"
    expect "routable with 3 write queues" has "$work/route" '"writeQueueNums":3'
    run rmq_send create-topic TBW102 3 -n "$namesrv"
    expect "a system topic: exit status 1" is "$rc" 1
    expect "a system topic: the reason" has "$work/err" "is conflict with system topic"
    run rmq_send create-topic CliCreated zero -n "$namesrv"
    expect "a bad N: exit status 2" is "$rc" 2
    run rmq_send create-topic CliCreated -n "$namesrv"
    expect "a missing N: exit status 2" is "$rc" 2
    end
}

test_rmq_send_offsets_prints_every_queue_with_min_max_and_store_time() {
    local before after
    begin "${FUNCNAME[0]}"
    control TOPIC '*' CliOffsets 2 >/dev/null
    run rmq_send offsets CliOffsets -n "$namesrv"
    expect "exit status 0" is "$rc" 0
    expect "four queues" is "$(nlines "$work/out")" 4
    expect "empty queues: 0 0 -1" every "$work/out" " 0 0 -1"
    run rmq_send -n "$namesrv" -t CliOffsets -m x -c 6 -q
    run rmq_send offsets CliOffsets -n "$namesrv" --binary
    expect "exit status 0 (binary headers)" is "$rc" 0
    expect "broker queue min max time" grep -qE '^broker-[ab] [01] 0 [0-9]+ [0-9]{13}$' "$work/out"
    expect "six messages in all" is "$(awk '{ n += $4 - $3 } END { print n }' "$work/out")" 6
    run rmq_send offsets -n "$namesrv"
    expect "no topic: exit status 2" is "$rc" 2
    end
}

test_compressed_producer_sends_zlib_with_the_java_flag_and_views_it_back_as_sent() {
    local rec
    begin "${FUNCNAME[0]}"
    run compressed_producer -n "$namesrv" -t TopicTest
    expect "exit status 0" is "$rc" 0
    expect "viewed back as sent" has "$work/out" "body 16384 bytes, as sent"
    dump TopicTest
    rec=$(head -n 1 "$work/dump")
    expect "one message stored" is "$(nlines "$work/dump")" 1
    expect "sysFlag COMPRESSED | ZLIB (769)" is "$(json_number "$rec" sysFlag)" 769
    expect "the zlib stream stored (78 5E, far below 16384 bytes)" is "$(json_text "$rec" bodyHex | cut -c1-4)" 785E
    expect "a compressed body" is "$(( $(json_number "$rec" bodyLen) < 2000 ))" 1
    end
}

test_rmq_send_view_prints_a_stored_message_by_its_offset_msg_id() {
    local id
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t TopicTest -m "look at me" --tags TagV --keys "kv1 kv2" -p color=blue
    id=$(awk '{print $3}' "$work/out")
    run rmq_send view -n "$namesrv" "$id"
    expect "exit status 0" is "$rc" 0
    expect "its topic" has "$work/out" "Topic:             TopicTest"
    expect "its tags" has "$work/out" "Tags:              TagV"
    expect "its keys" has "$work/out" "Keys:              kv1 kv2"
    expect "its offset msg id" has "$work/out" "Offset Msg ID:     $id"
    expect "its property" has "$work/out" "color=blue"
    expect "its body" has "$work/out" "look at me"
    run rmq_send view -n "$namesrv" NOTANID
    expect "a malformed id: exit status 1" is "$rc" 1
    expect "a malformed id named" has "$work/err" "NOTANID is not an offset message id"
    end
}

test_rmq_send_query_prints_every_message_of_a_key() {
    begin "${FUNCNAME[0]}"
    run rmq_send -n "$namesrv" -t TopicTest -m "keyed" -c 3 --keys "qk1"
    run rmq_send query -n "$namesrv" TopicTest qk1
    expect "exit status 0" is "$rc" 0
    expect "three found" has "$work/out" "3 message(s)"
    expect "three bodies" is "$(grep -c '^keyed$' "$work/out")" 3
    run rmq_send query -n "$namesrv" TopicTest nobody-sent-this
    expect "nothing found: exit status 1" is "$rc" 1
    expect "Java's no-message failure" has "$work/err" "no message"
    end
}

# -- main ----------------------------------------------------------------------------------------
for prog in simple_batch_producer sync_producer async_producer oneway_producer orderly_producer \
            event_loop_producer rmq_send compressed_producer; do
    if [ ! -x "$dir/$prog" ]; then
        echo "$dir/$prog is missing (make builds it)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if ! start_mock; then
    echo "0 passed, 1 failed"
    exit 1
fi

for t in $(grep -o "^test_[A-Za-z_]*" "$0"); do
    "$t"
done

stop_mock
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
