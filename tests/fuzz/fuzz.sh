#!/bin/sh
# Runs the libFuzzer targets of tests/fuzz (called by tests/fuzz/fuzz.mk).
#
#   fuzz.sh run   BINDIR CORPUS SECONDS JOBS target...
#       fuzzes each target for SECONDS (JOBS at a time) on CORPUS/<target>,
#       then prints one line per target with the
#       executions, execs/s and coverage of libFuzzer's final stats.
#   fuzz.sh smoke BINDIR CORPUS SECONDS target...
#       runs each target's regression inputs once, then fuzzes it SECONDS;
#       ends with "N passed, N failed" (one count per target).
#   fuzz.sh one   BINDIR CORPUS SECONDS target      (used by run)
#
# Crashes, leaks and broken invariants are written to
# BINDIR/../artifacts/<target>/; minimize one with
#   BINDIR/<target> -minimize_crash=1 -runs=20000 <artifact>
# and add it to tests/fuzz/regress/<target>/.
set -u
here=$(dirname "$0")
mode=$1 bindir=$2 corpus=$3 seconds=$4
shift 4

# The input format a target reads: fuzz_core runs fuzz_producer's script
# (the same program built with the core's cuts), so it shares that
# target's regression inputs and settings.
script_of() {
    case "$1" in
        fuzz_core) echo fuzz_producer ;;
        *) echo "$1" ;;
    esac
}

# Input size bounds, by what a target's inputs need.
max_len() {
    case "$1" in
        fuzz_frame|fuzz_request) echo 24576 ;;
        fuzz_json|fuzz_route|fuzz_batch) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# Script-driven targets go deeper with longer inputs from the start.
# Executions of a smoke run: about two seconds of each target here.
runs_of() {
    case "$(script_of "$1")" in
        fuzz_producer) echo $((FUZZ_RUNS / 40)) ;;
        fuzz_request|fuzz_frame) echo $((FUZZ_RUNS / 4)) ;;
        *) echo "$FUZZ_RUNS" ;;
    esac
}

extra() {
    case "$(script_of "$1")" in
        fuzz_producer|fuzz_batch) echo -len_control=0 ;;
    esac
}

regressions() {
    d="$here/regress/$(script_of "$1")"
    [ -d "$d" ] && find "$d" -type f ! -name '*.md' | sort
}

one() {
    t=$1
    art="$bindir/../artifacts/$t"
    log="$bindir/../logs/$t.log"
    mkdir -p "$art" "$corpus/$t" "$(dirname "$log")"
    # Regression inputs are not part of the corpus: one that still fails
    # would end the campaign at once (fuzz-smoke runs them on their own).
    # A smoke run is deterministic (FUZZ_SEED, FUZZ_RUNS): the same mutations
    # every time, so CI cannot fail on a lucky one; campaigns run on time.
    limit="-max_total_time=$seconds"
    [ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$(runs_of "$t")"
    # $limit is one word; $(extra) none or one.
    # shellcheck disable=SC2046,SC2086
    "$bindir/$t" $limit ${FUZZ_SEED:+-seed=$FUZZ_SEED} -max_len="$(max_len "$t")" $(extra "$t") -timeout=20 -rss_limit_mb=3072 \
        -print_final_stats=1 -artifact_prefix="$art/" "$corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -aE '^#[0-9]+.* cov: ' "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*corp: \([0-9]*\).*/cov: \1 ft: \2 corpus: \3/p')
    if [ $rc -eq 0 ]; then
        echo "$t: ${execs:-?} execs, ${rate:-?} execs/s, ${cov:-cov: ?} (${seconds}s)"
    else
        echo "$t: FAILED after ${execs:-?} execs (exit $rc), ${cov:-cov: ?}; log $log"
        grep -E 'ERROR:|invariant broken|SUMMARY|Test unit written' "$log" | head -8 | sed 's/^/    /'
    fi
    return $rc
}

case "$mode" in
one)
    one "$1"
    ;;
run)
    jobs=$1
    shift
    status=0
    printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" one "$bindir" "$corpus" "$seconds" {} || status=1
    exit $status
    ;;
smoke)
    export FUZZ_SEED="${FUZZ_SEED:-1}" FUZZ_RUNS="${FUZZ_RUNS:-20000}"
    passed=0 failed=0
    mkdir -p "$bindir/../logs"
    for t in "$@"; do
        ok=1
        files=$(regressions "$t")
        for f in $files; do
            if ! "$bindir/$t" "$f" >"$bindir/../logs/$t.regress.log" 2>&1; then
                [ $ok -eq 0 ] || echo "FAIL $t"
                ok=0
                echo "  $f:"
                grep -E 'ERROR:|invariant broken|SUMMARY' "$bindir/../logs/$t.regress.log" | head -3 | sed 's/^/    /'
            fi
        done
        if [ $ok -eq 1 ] && ! sh "$0" one "$bindir" "$corpus" "$seconds" "$t"; then ok=0; fi
        if [ $ok -eq 1 ]; then
            echo "ok   $t ($(echo "$files" | grep -c . ) regression inputs)"
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    done
    echo "$passed passed, $failed failed"
    [ $failed -eq 0 ]
    ;;
*)
    echo "usage: fuzz.sh run|smoke|one BINDIR CORPUS SECONDS [JOBS] target..." >&2
    exit 2
    ;;
esac
