#!/usr/bin/env bash
# Benchmarks of the host profiler (not tests: the numbers go in the notes):
#   1. sampler overhead at 997 Hz on run --backends cpu,rust: runs with and
#      without --profile cpu, interleaved, compared as ratios of medians;
#   2. agreement with perf record -g on the same run: the top 5 functions by
#      self time from perf and from our top.txt;
#   3. rendering a 1 000 000-sample folded file as an SVG.
#
#   scripts/bench-profiler.sh [BUILD_DIR] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$(mktemp -d /tmp/tg-bench-profiler.XXXXXX)}
tg="$build/trendgpu-bench"
mkdir -p "$out"
backends=cpu
"$tg" info | grep -q "^  rust   available" && backends=cpu,rust
args=(--backends "$backends" --symbols 40 --bars 3000 --reps 15 --warmup 2 --no-accuracy --quiet)

echo "== 1. sampler overhead (997 Hz, $backends, 40 x 3000, interleaved pairs)"
for i in 1 2 3 4 5; do
	"$tg" run "${args[@]}" --out "$out/plain-$i" >/dev/null
	"$tg" run "${args[@]}" --profile cpu --out "$out/prof-$i" >/dev/null
done
python3 - "$out" <<'PY'
import json, statistics, sys, glob
out = sys.argv[1]
def medians(kind):
    m = {}
    for f in sorted(glob.glob(f"{out}/{kind}-*/results.json")):
        for s in json.load(open(f))["states"]:
            m.setdefault((s["backend"], s["ma"]), []).append(s["wall_ns"]["median"])
    return {k: statistics.median(v) for k, v in m.items()}
plain, prof = medians("plain"), medians("prof")
for k in sorted(plain):
    print(f"  {k[0]:5s} {k[1]:6s} plain {plain[k]/1e6:8.3f} ms  profiled {prof[k]/1e6:8.3f} ms  ratio {prof[k]/plain[k]:.4f}")
allp = statistics.median([prof[k] / plain[k] for k in plain])
print(f"  median ratio over states: {allp:.4f} (overhead {100*(allp-1):+.2f}%)")
p = json.load(open(sorted(glob.glob(f"{out}/prof-*/results.json"))[-1]))["profile"]
print(f"  samples {p['samples']}, achieved {p['achieved_hz']:.0f} Hz, dropped {p['dropped']}, unwind failures {p['unwind_failures']}")
PY

echo "== 2. agreement with perf record -g (top 5 by self time)"
if command -v perf >/dev/null && perf record -o /dev/null -- true >/dev/null 2>&1; then
	perf record -F 997 -g -o "$out/perf.data" -- "$tg" run "${args[@]}" --out "$out/perf-run" >/dev/null 2>"$out/perf-record.log"
	perf report -i "$out/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | grep -v '\[k\]' | head -5 | sed -E 's/^ +([0-9.]+%) +\[\.\] +/\1 /' >"$out/perf-top5.txt"
	"$tg" run "${args[@]}" --profile cpu --out "$out/ours" >/dev/null
	awk '/^# by self/{f=1;next} f&&/^ +[0-9]/{print $4, $5; n++} n==5{exit}' "$out/ours/top.txt" | sed -n '1,5p' >"$out/ours-top5.txt"
	echo "  perf:";  sed 's/^/    /' "$out/perf-top5.txt"
	echo "  ours:";  sed 's/^/    /' "$out/ours-top5.txt"
	python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
perf = [l.split(None, 1)[1].split('  ')[0].strip() for l in open(f"{out}/perf-top5.txt")]
ours = [l.split(None, 1)[1].strip() for l in open(f"{out}/ours-top5.txt")]
norm = lambda s: s.split("::h")[0]
common = set(map(norm, perf)) & set(map(norm, ours))
print(f"  top-5 in common: {len(common)} of 5: {sorted(common)}")
PY
else
	echo "  perf is not usable here: skipped"
fi

echo "== 3. SVG of a 1 000 000-sample folded file"
python3 - "$out/big.folded" <<'PY'
import random, sys
random.seed(7)
names = [f"fn_{i:04d}" for i in range(400)]
total, lines = 0, []
for s in range(60000):
    depth = random.randint(3, 40)
    stack = ";".join(random.choice(names[:depth * 10]) for _ in range(depth))
    c = random.randint(1, 32)
    lines.append(f"main;{stack} {c}")
    total += c
lines.append(f"main;pad {1000000 - total}")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
/usr/bin/time -f "  %e s, %M KB max RSS" "$tg" flame "$out/big.folded" -o "$out/big.svg" 2>&1 | sed 's/^/  /'
ls -la "$out/big.svg" | awk '{printf "  SVG size %.1f MB\n", $5/1e6}'
echo "outputs in $out"
