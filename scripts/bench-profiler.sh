#!/usr/bin/env bash
# Benchmarks of the host profiler (not tests: the numbers go in the notes):
#   0. the platform's floor: what timer ticks cost a thread whatever the
#      handler does (tests/bench/bench_sigfloor.c);
#   1. sampler overhead at 997 Hz on run --backends cpu,rust: rounds of
#      one run without and one with --profile cpu per unwinder (hybrid, fp,
#      libunwind) in rotated order; each profiled run's state medians over
#      the plain run's of its round, the median of those ratios, with the
#      handler's own cost per sample;
#   2. agreement with perf record -g on the same run: the top 5 functions by
#      self time from perf and from our top.txt;
#   3. rendering a 1 000 000-sample folded file as an SVG.
#
#   scripts/bench-profiler.sh [BUILD_DIR] [OUTDIR]
#
# Environment: TG_BENCH_SECTIONS (default "0 1 2 3"), TG_BENCH_PAIRS
# (interleaved rounds of section 1, default 5), TG_BENCH_UNWINDERS (default
# "hybrid fp", plus libunwind when built in), TG_BENCH_RUN_SIZE (section 1's
# "symbols bars repetitions", default "40 3000 15"), TG_BIN (default
# BUILD_DIR/trendgpu-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$(mktemp -d /tmp/tg-bench-profiler.XXXXXX)}
tg=${TG_BIN:-$build/trendgpu-bench}
mkdir -p "$out"
backends=cpu
"$tg" info | grep -q "^  rust   available" && backends=cpu,rust
read -r size_s size_b size_r <<<"${TG_BENCH_RUN_SIZE:-40 3000 15}"
args=(--backends "$backends" --symbols "$size_s" --bars "$size_b" --reps "$size_r" --warmup 2 --no-accuracy --quiet)

sections=" ${TG_BENCH_SECTIONS:-0 1 2 3} "
want() { [[ "$sections" == *" $1 "* ]]; }
pairs=${TG_BENCH_PAIRS:-5}

if want 0; then
echo "== 0. the platform's floor: timer ticks with an empty handler, kernel-side sampling"
if [ -x "$build/tests/tg_bench_sigfloor" ]; then
	"$build/tests/tg_bench_sigfloor" 2 997 5 | sed 's/^/  /'
else
	echo "  $build/tests/tg_bench_sigfloor not built: skipped"
fi
fi

if want 1; then
echo "== 1. sampler overhead (997 Hz, $backends, $size_s x $size_b, interleaved runs per unwinder)"
if [ -n "${TG_BENCH_UNWINDERS:-}" ]; then
	read -r -a unwinders <<<"$TG_BENCH_UNWINDERS"
else
	unwinders=(hybrid fp)
	"$tg" info | grep -q "^  libunwind yes" && unwinders+=(libunwind)
fi
# each round runs the plain configuration and every unwinder once, in an
# order rotated round by round (the machine drifts: no mode always first)
modes=(plain "${unwinders[@]}")
for i in $(seq 1 "$pairs"); do
	for j in $(seq 0 $((${#modes[@]} - 1))); do
		m=${modes[$(((i + j) % ${#modes[@]}))]}
		if [ "$m" = plain ]; then
			"$tg" run "${args[@]}" --out "$out/plain-$i" >/dev/null
		else
			"$tg" run "${args[@]}" --profile cpu --unwind "$m" --out "$out/prof-$m-$i" >/dev/null
		fi
	done
done
python3 - "$out" "$pairs" "${unwinders[@]}" <<'PY'
import json, statistics, sys
out, rounds, unwinders = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def medians(run):
    return {(s["backend"], s["ma"]): s["wall_ns"]["median"]
            for s in json.load(open(f"{out}/{run}/results.json"))["states"]}
plain = [medians(f"plain-{i}") for i in range(1, rounds + 1)]
for u in unwinders:
    prof = [medians(f"prof-{u}-{i}") for i in range(1, rounds + 1)]
    print(f"  unwinder {u}: profiled / plain of the same round, per state")
    ratios = []
    for k in sorted(plain[0]):
        r = [p[k] / q[k] for p, q in zip(prof, plain)]
        ratios += r
        print(f"    {k[0]:5s} {k[1]:6s} median {statistics.median(r):.4f}  rounds " +
              " ".join(f"{x:.3f}" for x in r))
    allp = statistics.median(ratios)
    ps = [json.load(open(f"{out}/prof-{u}-{i}/results.json"))["profile"] for i in range(1, rounds + 1)]
    hus = statistics.median([p.get("handler_us_per_sample", 0) for p in ps])
    fb = sum(p.get("unwind_fallbacks", 0) for p in ps)
    n = sum(p["samples"] for p in ps)
    p = ps[-1]
    print(f"    median over rounds and states: {allp:.4f} (overhead {100*(allp-1):+.2f}%); handler "
          f"{hus:.2f} us per sample (median over runs), {fb} of {n} stacks by libunwind; last run: "
          f"{p['samples']} samples, {p['achieved_hz']:.0f} Hz, dropped {p['dropped']}, "
          f"unwind failures {p['unwind_failures']}")
PY

fi

if want 2; then
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

fi

if want 3; then
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
fi
echo "outputs in $out"
