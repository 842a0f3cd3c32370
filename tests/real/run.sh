#!/usr/bin/env bash
# tests/real/run.sh - the end-to-end suite against a real RocketMQ cluster.
#
#   NAMESRV_ADDR=host:port tests/real/run.sh     your own cluster; bin/mqadmin
#       comes from ROCKETMQ_HOME (or MQADMIN); the tests that need cluster
#       control (kill, restart, ACL, a second cluster) skip, saying so
#   ROCKETMQ_HOME=/path/to/rocketmq tests/real/run.sh
#       starts its own clusters from that distribution (bin/rmq-cluster) in a
#       temporary directory on free ports and stops them at the end, whatever
#       happened: cluster A (two broker groups) and cluster B (one)
#
# Runs build/real/test_real (every send path, failover, restarts,
# transactions, two clusters, shutdown), then the ACL tests on cluster B
# restarted with --acl, then the examples, the README's quick start and
# `make demo` against cluster A. The last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2

bin=${TEST_REAL_BIN:-build/real/test_real}
home=${ROCKETMQ_HOME:-}
work=$(mktemp -d /tmp/rmq-real.XXXXXX)
started=""
status=0

say() { printf 'test-real: %s\n' "$*"; }

cleanup() {
    local dir
    for dir in $started; do "$home/bin/rmq-cluster" stop --dir "$dir" >/dev/null 2>&1; done
    rm -rf "$work" /tmp/rocketmq/msgbodys 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port is free when nothing accepts on it (the clusters bind 127.0.0.1).
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints "P Q": a name server port and a first broker port such that every
# port of a cluster of $1 broker groups (Q+100k-2, Q+100k, Q+100k+1) is free.
pick_ports() {
    local tries p q k ok
    for tries in $(seq 1 100); do
        p=$((20000 + (RANDOM * 7 + tries * 131) % 25000)); q=$((p + 1035)); ok=1
        port_free "$p" || ok=0
        for k in $(seq 0 $(($1 - 1))); do
            for d in -2 0 1; do port_free $((q + 100 * k + d)) || ok=0; done
        done
        [ $ok -eq 1 ] && { echo "$p $q"; return 0; }
    done
    return 1
}

# start_cluster NAME BROKERS: starts a cluster in $work/NAME, sets NAME_NS.
start_cluster() {
    local name=$1 n=$2 ports dir=$work/$1
    ports=$(pick_ports "$n") || { say "no free ports for cluster $name"; return 1; }
    set -- $ports
    echo "--brokers $n --namesrv-port $1 --broker-port $2" >"$work/$name.args"
    if ! "$home/bin/rmq-cluster" start --dir "$dir" --clean --brokers "$n" \
            --namesrv-port "$1" --broker-port "$2" >"$work/$name.start" 2>&1; then
        cat "$work/$name.start"; return 1
    fi
    started="$started $dir"
    echo "127.0.0.1:$1" >"$work/$name.ns"
}

if [ -n "${NAMESRV_ADDR:-}" ]; then
    say "against the cluster at $NAMESRV_ADDR (no cluster control)"
    mqadmin=${MQADMIN:-${home:+$home/bin/mqadmin}}
    [ -n "$mqadmin" ] && [ -x "$mqadmin" ] || {
        say "reading back needs bin/mqadmin: set ROCKETMQ_HOME (or MQADMIN) to a RocketMQ distribution"; exit 2; }
    export RMQ_REAL_MQADMIN=$mqadmin
elif [ -n "$home" ]; then
    [ -x "$home/bin/rmq-cluster" ] || { say "$home has no bin/rmq-cluster"; exit 2; }
    home=$(cd "$home" && pwd)
    command -v "${JAVA:-java}" >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || { say "no java: install default-jre-headless"; exit 2; }
    say "starting clusters from $home in $work"
    start_cluster a 2 & pa=$!
    start_cluster b 1 & pb=$!
    wait $pa; ra=$?; wait $pb; rb=$?
    # started is set in the subshells: rebuild it from what exists.
    for c in a b; do [ -f "$work/$c/run/namesrv.pid" ] && started="$started $work/$c"; done
    [ $ra -eq 0 ] && [ $rb -eq 0 ] || { say "a cluster did not start"; exit 1; }
    export NAMESRV_ADDR; NAMESRV_ADDR=$(cat "$work/a.ns")
    export RMQ_REAL_MQADMIN=$home/bin/mqadmin RMQ_REAL_CLUSTER=$home/bin/rmq-cluster
    export RMQ_REAL_RUNDIR=$work/a RMQ_REAL_ARGS; RMQ_REAL_ARGS=$(cat "$work/a.args")
    export RMQ_REAL_RUNDIR2=$work/b RMQ_REAL_NAMESRV2; RMQ_REAL_NAMESRV2=$(cat "$work/b.ns")
    say "cluster A at $NAMESRV_ADDR, cluster B at $RMQ_REAL_NAMESRV2"
else
    say "set NAMESRV_ADDR (your cluster) or ROCKETMQ_HOME (a RocketMQ distribution to start clusters from)"
    exit 2
fi
export RMQ_RUN_DIR=$work                      # where mqadmin logs
[ -n "$home" ] && export RMQ_REAL_HOME=$home    # the jars of the request-reply responder
version=""
for try in 1 2 3; do             # the tool's short timeout can pass on a busy machine
    version=$("$RMQ_REAL_MQADMIN" clusterList -n "$NAMESRV_ADDR" 2>/dev/null | awk '$0 ~ / V[0-9]+_/ { for (i = 1; i <= NF; i++) if ($i ~ /^V[0-9]+_/) { print $i; exit } }')
    [ -n "$version" ] && break
done
export RMQ_REAL_VERSION=${version:-unknown}
say "broker version $RMQ_REAL_VERSION"

cmds=("$bin")

# ACL: cluster B restarts with --acl once test_real is done with it.
[ -n "${RMQ_REAL_RUNDIR2:-}" ] && cmds+=("TEST_REAL_BIN=$bin RMQ_REAL_ARGS2='$(cat "$work/b.args")' bash tests/real/acl.sh")

# What a newcomer runs first: the examples and rmq_send, the README's quick
# start (extracted, compiled strictly with gcc and clang) and make demo.
cmds+=("EXAMPLES_DIR=${EXAMPLES_DIR:-build/examples} bash examples/test_examples.sh")
cmds+=("bash tests/real/quickstart.sh")
cmds+=("bash tests/real/demo_check.sh")

sh tests/run.sh "${cmds[@]}" || status=1
exit $status
