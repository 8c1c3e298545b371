#!/usr/bin/env bash
# The CPU engines' speed as issue #15 states its goals: ns per bar·MA of
# the whole pipeline per MA slot (54 per bar, approx included, though approx
# computes 6 MAs per bar), one thread,
# for the C and Rust backends in one run each (states interleaved), at two
# sizes, TG_BENCH_PAIRS runs each (with Tulip's MAs after each run, ratios
# taken within a run); then 2 threads against 1 at the larger size
# (alternating runs, medians of the per-run medians). A benchmark, never a
# test.
#   scripts/bench-engine.sh [BUILD_DIR] [OUT_DIR]
#   TG_BENCH_REPS (default 20), TG_BENCH_PAIRS (default 3), TG_BENCH_SIZES
#   (default "20x1500 500x10000"); TG_TULIP_SRC=DIR (a local checkout of
#   Tulip Indicators, never vendored): also its 54 MAs alone at each size,
#   one thread (scripts/bench/tulip_bench.c), and our pipeline's ratio to it
set -euo pipefail
build=${1:-build/release}
out=${2:-$(mktemp -d /tmp/bench-engine.XXXXXX)}
bin="$build/trendgpu-bench"
reps=${TG_BENCH_REPS:-20}
pairs=${TG_BENCH_PAIRS:-3}
sizes=${TG_BENCH_SIZES:-"20x1500 500x10000"}
backends=cpu
"$bin" info | grep -q "^  rust   available" && backends=cpu,rust
mkdir -p "$out"
tulip=""
if [ -n "${TG_TULIP_SRC:-}" ]; then
	tulip="$out/tulip_bench"
	cc -O2 -I"$TG_TULIP_SRC" -o "$tulip" "$(dirname "$0")/bench/tulip_bench.c" \
		"$TG_TULIP_SRC/tiamalgamation.c" -lm || { echo "cannot build Tulip Indicators from $TG_TULIP_SRC" >&2; exit 1; }
fi
after=""
[ -n "$tulip" ] && after=", each followed by Tulip Indicators' 54 MAs"
echo "== one thread: ns per bar·MA (whole pipeline; wall and CPU time medians), $pairs runs per size$after"
for size in $sizes; do
	sym=${size%x*}
	bars=${size#*x}
	for p in $(seq 1 "$pairs"); do
		dir="$out/t1-$size-$p"
		"$bin" run --backends "$backends" --threads 1 --symbols "$sym" --bars "$bars" --reps "$reps" \
			--no-accuracy --out "$dir" --force >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
		[ -n "$tulip" ] && "$tulip" "$sym" "$bars" "$reps" >"$dir.tulip"
	done
done
# per state: the median over the runs of each run's medians; against
# Tulip and C against Rust, the median of the ratios within each run (the
# VM's slow and fast phases move both sides of a ratio together)
python3 - "$out" "$pairs" "$sizes" <<'PY'
import json, os, statistics, sys
out, pairs, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
med = statistics.median
for size in sizes:
    per = {}
    tulip = []
    for p in range(1, pairs + 1):
        d = json.load(open(f"{out}/t1-{size}-{p}/results.json"))
        t = f"{out}/t1-{size}-{p}.tulip"
        tul = float(open(t).read()) if os.path.exists(t) else None
        tulip.append(tul)
        for s in d["states"]:
            if not s.get("available", True) or "wall_ns" not in s:
                continue
            # per MA slot, 54 per bar in both modes (the goals' unit;
            # results.json counts the MAs approx computes, 6 per bar)
            n = s.get("bars_per_rep", s["bar_mas_per_rep"] / 54) * 54
            per.setdefault((s["backend"], s["ma"]), []).append(
                (s["wall_ns"]["median"] / n, s["cpu_ns"]["median"] / n, tul))
    for (b, m), v in sorted(per.items(), key=lambda kv: (kv[0][1] != "exact", kv[0][0] != "cpu")):
        line = "  %-9s %-5s %-6s %6.2f ns wall  %6.2f ns cpu  (runs: %s)" % (
            size, b, m, med(x[0] for x in v), med(x[1] for x in v), ", ".join("%.2f" % x[0] for x in v))
        if m == "exact" and all(x[2] for x in v):
            line += "  %.2fx Tulip's MAs alone" % med(x[0] / x[2] for x in v)
        print(line)
    for m in ("exact", "approx"):
        c, r = per.get(("cpu", m)), per.get(("rust", m))
        if c and r:
            q = [y[0] / x[0] for x, y in zip(c, r)]
            print("  %-9s rust/cpu %-6s %.2fx (runs: %s)" % (size, m, med(q), ", ".join("%.2f" % x for x in q)))
    if all(tulip):
        print("  %-9s Tulip Indicators, the 54 MAs alone: %.2f ns (runs: %s)" % (
            size, med(tulip), ", ".join("%.2f" % x for x in tulip)))
PY
big=$(echo "$sizes" | awk '{ print $NF }')
sym=${big%x*}
bars=${big#*x}
echo "== threads at $big: the median of each run, 1 and 2 threads alternated $pairs times"
for p in $(seq 1 "$pairs"); do
	for t in 1 2; do
		dir="$out/scale-$p-t$t"
		"$bin" run --backends "$backends" --threads "$t" --symbols "$sym" --bars "$bars" \
			--reps "$reps" --no-accuracy --out "$dir" --force >"$dir.log" 2>&1 || { cat "$dir.log"; exit 1; }
	done
done
python3 - "$out" "$pairs" <<'PY'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
speed = {}
for p in range(1, pairs + 1):
    runs = {t: json.load(open(f"{out}/scale-{p}-t{t}/results.json")) for t in (1, 2)}
    for s1 in runs[1]["states"]:
        s2 = next(x for x in runs[2]["states"] if x["backend"] == s1["backend"] and x["ma"] == s1["ma"])
        if "wall_ns" in s1 and "wall_ns" in s2:
            speed.setdefault((s1["backend"], s1["ma"]), []).append(s1["wall_ns"]["median"] / s2["wall_ns"]["median"])
for (b, m), v in sorted(speed.items()):
    print("  %-5s %-6s 2 threads %.2fx one thread (runs: %s)" % (b, m, statistics.median(v), ", ".join("%.2f" % x for x in v)))
PY
echo "results: $out"
