#!/usr/bin/env bash
# tools/demo.sh - the seed's SimpleBatchProducer, end to end (`make demo`).
#
# Without NAMESRV_ADDR: starts the bundled mock cluster (one name server, two
# brokers, free ports on 127.0.0.1), sends the three-message batch to it,
# prints the send results, then what the broker stored (the control port's
# DUMP command), and stops the cluster.
# With NAMESRV_ADDR set: sends the batch to that cluster, nothing else.
#
# Exits with the producer's status. Needs bash (for /dev/tcp); run `make`
# or `make demo` first so that the programs exist.
set -u
cd "$(dirname "$0")/.." || exit 2

producer=${PRODUCER:-build/examples/simple_batch_producer}
mock=${MOCKBROKER:-tests/mockbroker/mockbroker}
topic=BatchTest

for prog in "$producer" "$mock"; do
    if [ ! -x "$prog" ]; then
        echo "demo: $prog is missing: run make demo (or make) first" >&2
        exit 2
    fi
done

if [ -n "${NAMESRV_ADDR:-}" ]; then
    echo "sending to the real cluster at $NAMESRV_ADDR"
    exec "$producer" -n "$NAMESRV_ADDR"
fi

# -- the mock cluster ---------------------------------------------------------
mock_pid=""
mock_log=$(mktemp)

stop_mock() {
    [ -n "$mock_pid" ] || return 0
    # QUIT over the control port; closing its stdin (--exit-on-eof) is the
    # fallback, so the mock never outlives this script.
    { printf 'QUIT\n' >&3; } 2>/dev/null
    exec 3<&- 2>/dev/null
    eval "exec ${mock_in}>&-" 2>/dev/null
    wait "$mock_pid" 2>/dev/null
    mock_pid=""
}
trap 'stop_mock; rm -f "$mock_log"' EXIT
trap 'exit 130' INT TERM

# Sends one control command; prints its answer lines (not the final OK).
control() {
    local line
    printf '%s\n' "$*" >&3 || return 1
    while IFS= read -r -t 5 line <&3; do
        case $line in
            OK) return 0 ;;
            ERR*) echo "demo: control $*: $line" >&2; return 1 ;;
            *) printf '%s\n' "$line" ;;
        esac
    done
    echo "demo: control $*: no answer" >&2
    return 1
}

coproc MOCK { exec "$mock" --exit-on-eof --quiet 2>"$mock_log"; }
mock_pid=$MOCK_PID
mock_in=${MOCK[1]}
ready=""
IFS= read -r -t 10 ready <&"${MOCK[0]}"
case $ready in
    "MOCKBROKER READY "*) ;;
    *) echo "demo: the mock cluster did not start:" >&2; cat "$mock_log" >&2; exit 1 ;;
esac
namesrv=${ready#*namesrv=}; namesrv=${namesrv%% *}
brokers=${ready#*brokers=}; brokers=${brokers%% *}
ctl=${ready#*control=}; ctl=${ctl%% *}
if ! exec 3<>"/dev/tcp/${ctl%:*}/${ctl##*:}"; then
    echo "demo: cannot reach the mock's control port $ctl" >&2
    exit 1
fi
echo "== mock cluster on 127.0.0.1: name server $namesrv, brokers ${brokers//,/ }"

# -- the producer --------------------------------------------------------------
echo "== $producer -n $namesrv"
"$producer" -n "$namesrv"
status=$?
[ $status -eq 0 ] || echo "demo: the producer failed (exit $status)"

# -- what the broker stored ------------------------------------------------------
# DUMP prints one JSON object per stored message; the fields below are
# plain strings and numbers, so a pattern match reads them.
json_text() { local re="\"$2\":\"([^\"]*)\""; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
json_number() { local re="\"$2\":(-?[0-9]+)"; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
json_object() { local re="\"$2\":(\{[^}]*\})"; [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"; }
request_name() {
    case $1 in
        10) echo "SEND_MESSAGE (10)" ;; 310) echo "SEND_MESSAGE_V2 (310)" ;;
        320) echo "SEND_BATCH_MESSAGE (320)" ;; *) echo "request $1" ;;
    esac
}
unhex() { local h=$1 out="" i; for ((i = 0; i < ${#h}; i += 2)); do out+="\\x${h:i:2}"; done; printf '%b' "$out"; }

echo "== stored by the brokers (control command DUMP $topic)"
if dump=$(control DUMP "$topic"); then
    n=0
    while IFS= read -r rec; do
        [ -n "$rec" ] || continue
        n=$((n + 1))
        printf '%s queue %s offset %s: "%s" tags=%s keys=%s (%s, %s bytes in the commit log)\n' \
            "$(json_text "$rec" broker)" "$(json_number "$rec" queueId)" "$(json_number "$rec" queueOffset)" \
            "$(unhex "$(json_text "$rec" bodyHex)")" "$(json_text "$rec" tags)" "$(json_text "$rec" keys)" \
            "$(request_name "$(json_number "$rec" code)")" "$(json_number "$rec" storeSize)"
        printf '    offsetMsgId=%s properties=%s\n' "$(json_text "$rec" offsetMsgId)" "$(json_object "$rec" properties)"
    done <<<"$dump"
    echo "$n message(s) stored in topic $topic"
fi

stop_mock
echo "== mock cluster stopped"
exit $status
