# report.awk - the table and the BENCH_REAL_JSON line of make bench-real,
# from the BENCH_REAL lines of every run (tests/bench/real/run.sh). Each
# figure is the median over the alternations; a ratio ours/Java is the
# median of the ratios of each alternation.

function med(key,    n, i, j, t, v) {
    n = cnt[key]
    if (!n) return -1
    for (i = 1; i <= n; i++) v[i] = val[key, i]
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j] < v[j - 1]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}

function put(key, x) { val[key, ++cnt[key]] = x }

function ratio(line, who, m,    n, i, a, b) {
    n = cnt[line SUBSEP who SUBSEP m] < cnt[line SUBSEP "java" SUBSEP m] ? cnt[line SUBSEP who SUBSEP m] : cnt[line SUBSEP "java" SUBSEP m]
    cnt["ratio" SUBSEP line SUBSEP who SUBSEP m] = 0
    for (i = 1; i <= n; i++) {
        a = val[line SUBSEP who SUBSEP m, i]; b = val[line SUBSEP "java" SUBSEP m, i]
        if (b > 0) put("ratio" SUBSEP line SUBSEP who SUBSEP m, a / b)
    }
    return med("ratio" SUBSEP line SUBSEP who SUBSEP m)
}

function json(k, v) { js = js (js == "" ? "" : ",") "\"" k "\":" v }

/^BENCH_REAL / {
    delete f
    for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    who = f["client"] == "java" ? "java" : (f["linger_us"] > 0 ? "linger" : "ours")
    line = f["line"]
    if (f["msgs"] <= 0 || f["wall_ns"] <= 0) next
    k = line SUBSEP who
    put(k SUBSEP "rate", f["msgs"] * 1e9 / f["wall_ns"])
    put(k SUBSEP "p50", f["p50_ns"] / 1000)
    put(k SUBSEP "p99", f["p99_ns"] / 1000)
    put(k SUBSEP "cpu", f["cpu_ns"] / f["msgs"] / 1000)
    put(k SUBSEP "broker", f["broker_cpu_ns"] * 100 / f["wall_ns"])
    put(k SUBSEP "brokermsg", f["broker_cpu_ns"] / f["msgs"] / 1000)
    put(k SUBSEP "rss", f["rss_kb"])
    if (f["writes"] > 0) put(k SUBSEP "fpw", (line == "batch" ? f["msgs"] / 16 : f["msgs"]) / f["writes"])
}

END {
    nl = split("sync async batch", lines, " ")
    label["sync"] = "sync 128 B"; label["async"] = "async 128 B, 1000 in flight"; label["batch"] = "batch 16 x 128 B"
    nw = split("ours linger java", whos, " ")
    wl["ours"] = "ours"; wl["linger"] = "ours, linger " linger " us"; wl["java"] = "Java 4.9.8"
    printf "\nmake bench-real: %s; one broker on loopback; %s s per run, %s alternations (medians)\n", machine, secs, alts
    printf "%-28s %-22s %10s %8s %8s %9s %8s %10s %8s %7s %7s\n", "line", "client", "msgs/s", "p50 us", "p99 us",
           "CPU/msg", "broker%", "brkCPU/msg", "RSS MB", "fr/wr", "x Java"
    for (i = 1; i <= nl; i++) {
        l = lines[i]
        for (w = 1; w <= nw; w++) {
            who = whos[w]; k = l SUBSEP who
            if (!cnt[k SUBSEP "rate"]) continue
            r = who != "java" && cnt[l SUBSEP "java" SUBSEP "rate"] ? sprintf("%.2f", ratio(l, who, "rate")) : "-"
            fpw = cnt[k SUBSEP "fpw"] ? sprintf("%.1f", med(k SUBSEP "fpw")) : "-"
            printf "%-28s %-22s %10.0f %8.0f %8.0f %7.2fus %8.0f %8.2fus %8.1f %7s %7s\n", (w == 1 ? label[l] : ""), wl[who],
                   med(k SUBSEP "rate"), med(k SUBSEP "p50"), med(k SUBSEP "p99"), med(k SUBSEP "cpu"),
                   med(k SUBSEP "broker"), med(k SUBSEP "brokermsg"), med(k SUBSEP "rss") / 1024, fpw, r
            p = l "_" who
            json(p "_msgs_per_s", sprintf("%.0f", med(k SUBSEP "rate")))
            json(p "_p50_us", sprintf("%.1f", med(k SUBSEP "p50")))
            json(p "_p99_us", sprintf("%.1f", med(k SUBSEP "p99")))
            json(p "_cpu_us_per_msg", sprintf("%.3f", med(k SUBSEP "cpu")))
            json(p "_broker_cpu_pct", sprintf("%.0f", med(k SUBSEP "broker")))
            json(p "_broker_cpu_us_per_msg", sprintf("%.3f", med(k SUBSEP "brokermsg")))
            json(p "_peak_rss_kb", sprintf("%.0f", med(k SUBSEP "rss")))
            if (cnt[k SUBSEP "fpw"]) json(p "_frames_per_write", sprintf("%.2f", med(k SUBSEP "fpw")))
            if (who != "java" && cnt[l SUBSEP "java" SUBSEP "rate"]) {
                json(p "_vs_java_msgs_ratio", sprintf("%.3f", ratio(l, who, "rate")))
                json(p "_vs_java_cpu_ratio", sprintf("%.4f", ratio(l, who, "cpu")))
            }
        }
    }
    printf "CPU/msg: user + sys of the client process / messages; broker%%: the broker's CPU in %% of one core over\n"
    printf "the same interval; RSS: peak resident set of the client process; fr/wr: frames per write system call;\n"
    printf "x Java: msgs/s ours / Java's in the same alternation.\n"
    if (java_ok != 1) printf "The Java side did not run: no ratios.\n"
    for (w = 1; w <= 2; w++) {
        who = whos[w]; k = "async" SUBSEP who
        if (!cnt[k SUBSEP "rate"]) continue
        printf "targets, async, %s: CPU/msg %.2f us (<= 3)", wl[who], med(k SUBSEP "cpu")
        if (cnt["async" SUBSEP "java" SUBSEP "rate"])
            printf ", CPU/msg 1/%.0f of Java's (>= 30), msgs/s %.2fx Java's (>= 3)", 1 / ratio("async", who, "cpu"),
                   ratio("async", who, "rate")
        printf ", peak RSS %.2f MB (<= 2)\n", med(k SUBSEP "rss") / 1024
    }
    json("java_ran", java_ok == 1 ? 1 : 0)
    json("seconds_per_run", secs)
    json("alternations", alts)
    json("linger_us", linger)
    printf "BENCH_REAL_JSON {%s}\n", js
}
