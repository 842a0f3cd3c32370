#!/usr/bin/env bash
# tests/bench/real/run.sh - make bench-real: this producer and the Java
# producer against the same real broker, in one run, alternating.
#
#   NAMESRV_ADDR=host:port make bench-real    your cluster (the Java client
#       from ROCKETMQ_HOME/lib; BENCH_BROKER_PID=pid adds the broker's CPU
#       when it runs on this machine)
#   ROCKETMQ_HOME=/path/to/rocketmq make bench-real
#       a one-broker cluster of its own (bin/rmq-cluster) on free ports in
#       40000-49999, stopped at the end whatever happened
#
# Lines: sync 128 B, async 128 B with 1,000 in flight, batches of 16 x 128 B
# (sync). Each alternation runs every line as: ours (linger off), Java, ours
# (linger BENCH_REAL_LINGER_US, default 1000), each a fresh process that warms
# up for 1 s and measures for BENCH_REAL_SECONDS (default 2). After
# BENCH_REAL_ALTERNATIONS (default 3), the medians: msgs/s, p50/p99 latency,
# client CPU per message (user + sys of the process / messages), the broker's
# CPU over the same interval, peak RSS, frames per write (ours), and the
# ratio ours/Java of each line; a table, then one BENCH_REAL_JSON line.
# Without javac (or the RocketMQ jars) the Java side is skipped with a
# notice, unless BENCH_REAL_REQUIRE_JAVA=1 (CI), which makes that a failure.
set -u
cd "$(dirname "$0")/../../.." || exit 2

bin=${BENCH_REAL_BIN:-build/bench/bench_real}
secs=${BENCH_REAL_SECONDS:-2}
alts=${BENCH_REAL_ALTERNATIONS:-3}
linger=${BENCH_REAL_LINGER_US:-1000}
topic=${BENCH_TOPIC:-BenchReal}
home=${ROCKETMQ_HOME:-}
[ -n "$home" ] && home=$(cd "$home" 2>/dev/null && pwd)
work=$(mktemp -d /tmp/rmq-bench-real.XXXXXX)
rundir=""

say() { printf 'bench-real: %s\n' "$*" >&2; }

cleanup() {
    [ -n "$rundir" ] && "$home/bin/rmq-cluster" stop --dir "$rundir" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# "P Q": a name server port and a broker port, with the broker's fast and HA
# ports (Q-2, Q+1) free too.
pick_ports() {
    local tries p q
    for tries in $(seq 1 100); do
        p=$((40000 + (RANDOM * 7 + tries * 131) % 9000)); q=$((p + 935))
        if port_free "$p" && port_free "$q" && port_free $((q - 2)) && port_free $((q + 1)); then
            echo "$p $q"; return 0
        fi
    done
    return 1
}

start_cluster() {
    local ports
    ports=$(pick_ports) || { say "no free ports"; return 1; }
    set -- $ports
    rundir=$work/cluster
    say "starting a one-broker cluster from $home (name server 127.0.0.1:$1)"
    if ! "$home/bin/rmq-cluster" start --dir "$rundir" --clean --brokers 1 \
            --namesrv-port "$1" --broker-port "$2" >"$work/start.log" 2>&1; then
        cat "$work/start.log" >&2
        return 1
    fi
    NAMESRV_ADDR=127.0.0.1:$1
    broker_pid=$(cat "$rundir/run/broker-a.pid" 2>/dev/null || echo 0)
    RMQ_RUN_DIR=$rundir "$home/bin/mqadmin" updateTopic -n "$NAMESRV_ADDR" -c DefaultCluster \
        -t "$topic" -r 4 -w 4 >"$work/topic.log" 2>&1
}

java_ok=0
build_java() {
    local why=""
    if [ -z "$home" ] || ! ls "$home"/lib/rocketmq-*.jar >/dev/null 2>&1; then
        why="no RocketMQ jars (set ROCKETMQ_HOME)"
    elif ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
        why="javac or java is not installed"
    elif ! javac -nowarn -d "$work/java" -cp "$home/lib/*" tests/bench/real/JavaBench.java 2>"$work/javac.log"; then
        cat "$work/javac.log" >&2
        why="JavaBench.java did not compile"
    fi
    if [ -n "$why" ]; then
        if [ "${BENCH_REAL_REQUIRE_JAVA:-0}" = 1 ]; then say "the Java side must run: $why"; return 1; fi
        say "the Java side is skipped: $why"
        return 0
    fi
    java_ok=1
}

# run_one CLIENT LINE LINGER: one measured process; its BENCH_REAL line is
# appended to the results.
run_one() {
    local out=$work/one.log
    if [ "$1" = c ]; then
        "$bin" "$NAMESRV_ADDR" "$topic" "$2" "$secs" "$broker_pid" "$3" >"$out" 2>&1
    else
        java -Xss512k -cp "$work/java:$home/lib/*" JavaBench "$NAMESRV_ADDR" "$topic" "$2" "$secs" \
            "$broker_pid" "$(getconf CLK_TCK)" >"$out" 2>&1
    fi
    if ! grep -q '^BENCH_REAL ' "$out"; then
        say "$1 $2 (linger $3) did not report:"; tail -20 "$out" >&2
        return 1
    fi
    grep '^BENCH_REAL ' "$out" | sed "s/^BENCH_REAL client=java /BENCH_REAL client=java linger_us=0 /" >>"$work/results"
    if grep -q ' failed=[1-9]' "$out"; then say "$1 $2: sends failed"; return 1; fi
}

broker_pid=${BENCH_BROKER_PID:-0}
if [ -z "${NAMESRV_ADDR:-}" ]; then
    [ -n "$home" ] || { say "set NAMESRV_ADDR or ROCKETMQ_HOME"; exit 2; }
    start_cluster || exit 1
fi
build_java || exit 1
: >"$work/results"
status=0
for a in $(seq 1 "$alts"); do
    for line in sync async batch; do
        say "alternation $a/$alts: $line"
        run_one c "$line" 0 || status=1
        [ $java_ok = 1 ] && { run_one java "$line" 0 || status=1; }
        run_one c "$line" "$linger" || status=1
    done
done

awk -v secs="$secs" -v alts="$alts" -v linger="$linger" -v java_ok="$java_ok" \
    -v machine="$(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $(uname -sr)" \
    -f tests/bench/real/report.awk "$work/results"
exit $status
