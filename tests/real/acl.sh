#!/usr/bin/env bash
# tests/real/acl.sh - the ACL tests of test_real, against cluster B of
# tests/real/run.sh restarted with --acl. The topic is created while B is
# still open (the 4.9.8 ACL account is not an admin), then B restarts with
# --acl on the same store and `test_real acl` runs against it.
set -u
topic=RealAcl_$$_$RANDOM
out=$(RMQ_RUN_DIR=$RMQ_REAL_RUNDIR2 "$RMQ_REAL_MQADMIN" updateTopic -n "$RMQ_REAL_NAMESRV2" -c DefaultCluster -t "$topic" 2>&1)
case $out in
    *"create topic to "*success*) ;;
    *) echo "$out"; echo "cannot create $topic before ACL mode"; echo "0 passed, 1 failed"; exit 1 ;;
esac
# shellcheck disable=SC2086  # the cluster's own options, word by word
if ! "$RMQ_REAL_CLUSTER" start --dir "$RMQ_REAL_RUNDIR2" --acl $RMQ_REAL_ARGS2 >/dev/null 2>&1; then
    echo "cluster B did not restart with --acl"; echo "0 passed, 1 failed"; exit 1
fi
RMQ_REAL_ACL=1 RMQ_REAL_ACL_TOPIC=$topic NAMESRV_ADDR=$RMQ_REAL_NAMESRV2 RMQ_REAL_RUNDIR=$RMQ_REAL_RUNDIR2 \
    "${TEST_REAL_BIN:-build/real/test_real}" acl
