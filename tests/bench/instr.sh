#!/bin/sh
# instr.sh BIN OUTDIR - instructions per message of each send path, client
# only, under callgrind (make bench-instr).
#
# BIN is bench_instr: it collects only its measured loop and prints
# "BENCH_INSTR mode=M msgs=N". The mock it starts runs natively (callgrind
# does not follow exec). Per mode: the total Ir of the loop / N, then the
# functions with the most instructions of their own (self cost), per message.
# Ends with one BENCH_INSTR_JSON line. BENCH_INSTR_MODES picks the modes.
set -u
bin=$1
out=$2
modes=${BENCH_INSTR_MODES:-"sync async batch batch128 oneway sync-bin async-bin"}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "bench-instr: valgrind is not installed"
    exit 1
fi
mkdir -p "$out"
json=""
summary=""
for mode in $modes; do
    cg="$out/callgrind.$mode"
    rm -f "$cg"
    if ! valgrind -q --tool=callgrind --collect-atstart=no --callgrind-out-file="$cg" \
            "$bin" "$mode" >"$out/instr.$mode.log" 2>&1; then
        cat "$out/instr.$mode.log"
        echo "bench-instr: $mode failed"
        exit 1
    fi
    msgs=$(sed -n 's/^BENCH_INSTR mode=[^ ]* msgs=\([0-9]*\).*/\1/p' "$out/instr.$mode.log")
    ir=$(sed -n 's/^summary: \([0-9]*\).*/\1/p' "$cg")
    if [ -z "$msgs" ] || [ -z "$ir" ] || [ "$msgs" -eq 0 ]; then
        echo "bench-instr: $mode: no count (msgs=$msgs ir=$ir)"
        exit 1
    fi
    per=$((ir / msgs))
    echo "== $mode: $per instructions per message ($ir over $msgs messages)"
    # self cost per function, per message; the header's functions by name
    callgrind_annotate --inclusive=no "$cg" 2>/dev/null |
        awk -v n="$msgs" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ {
            c = $1; gsub(",", "", c); f = $0; sub(/^ *[0-9,]+ +\([ 0-9.%]+\) +/, "", f)
            sub(/ \[.*$/, "", f); sub(/^.*\//, "", f)
            if (shown++ < 12) printf "   %7d  %s\n", c / n, f }'
    echo "   hottest lines (self instructions per message):"
    callgrind_annotate --auto=yes --show-percs=no --context=0 "$cg" 2>/dev/null |
        awk -v n="$msgs" '
            /^-- Auto-annotated source: / { f = $0; sub(/^.*\//, "", f); ln = 0; next }
            /^-- line [0-9]+ / { ln = $3 + 0; next }
            f == "" || ln == 0 { next }
            /^ *([0-9,]+|\.) / {
                c = $1; t = $0; sub(/^ *([0-9,]+|\.) +/, "", t)
                if (t ~ /^=>/ || t ~ /events annotated/) next
                if (c != ".") { gsub(",", "", c); if (c / n >= 20) printf "%d\t%s:%d\t%s\n", c / n, f, ln, substr(t, 1, 90) }
                ln++
            }' | sort -rn | head -10 | awk -F '\t' '{ sub(/^ +/, "", $3); printf "   %7d  %-28s %s\n", $1, $2, $3 }'
    m=$(echo "$mode" | tr '-' '_')
    json="$json${json:+,}\"instr_${m}_per_msg\":$per"
    summary="$summary$(printf '%-10s %8d\n' "$mode" "$per")
"
done
echo
echo "mode       instr/msg"
printf '%s' "$summary"
echo "BENCH_INSTR_JSON {$json}"
