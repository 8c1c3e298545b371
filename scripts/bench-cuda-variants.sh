#!/usr/bin/env bash
# The CUDA backend's two exact-mode kernel layouts against each other (a
# benchmark for a GPU machine, not a test): "lanes" (a thread per (symbol,
# slot), the default) and "walk" (a thread per (symbol, family),
# TG_CUDA_WALK=all). Per workload, rounds of one run of each in alternating
# order, run --backends cuda --ma exact; prints the end-to-end and
# kernel-only medians of every run and the median walk/lanes ratio of the
# rounds; then one --profile gpu run of each on the largest workload and
# its GPU time per kernel, to choose per family.
#
#   scripts/bench-cuda-variants.sh [BUILD_DIR] [OUTDIR]
#
# Environment: TG_BENCH_ROUNDS (default 3), TG_BENCH_WORKLOADS (default
# "5000x1500 500x10000 64x1500 20x1500"), TG_BIN (default
# BUILD_DIR/trendgpu-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$(mktemp -d /tmp/tg-bench-cuda.XXXXXX)}
tg=${TG_BIN:-$build/trendgpu-bench}
jq="$build/tests/tg_jq"
mkdir -p "$out"
if ! "$tg" info | grep -q "^  cuda   available"; then
	echo "cuda backend unavailable here:"
	"$tg" info | grep "^  cuda" || true
	exit 77
fi
rounds=${TG_BENCH_ROUNDS:-3}
workloads=${TG_BENCH_WORKLOADS:-5000x1500 500x10000 64x1500 20x1500}

one() { # variant symbols bars dir -> "wall_ns kernel_ns"
	local walk=none
	[ "$1" = walk ] && walk=all
	TG_CUDA_WALK=$walk "$tg" run --backends cuda --ma exact --symbols "$2" --bars "$3" --reps 10 \
		--warmup 2 --no-accuracy --quiet --out "$4" >/dev/null
	echo "$("$jq" "$4/results.json" '.states[0].wall_ns.median') $("$jq" "$4/results.json" '.states[0].kernel_ns.median')"
}

echo "workload round variant wall_ns kernel_ns" >"$out/variants.txt"
for w in $workloads; do
	s=${w%x*}
	b=${w#*x}
	for r in $(seq 1 "$rounds"); do
		order="lanes walk"
		[ $((r % 2)) -eq 0 ] && order="walk lanes"
		for v in $order; do
			echo "$w $r $v $(one "$v" "$s" "$b" "$out/$w-$v-$r")" >>"$out/variants.txt"
		done
	done
done
cat "$out/variants.txt"
echo
echo "walk / lanes, median over rounds (< 1: walk is faster)"
awk 'function median(v, m,   i, j, t) { # insertion sort of v[1..m] (mawk has no asort)
	for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return v[int((m + 1) / 2)]
}
NR > 1 { key = $1 " " $2; if ($3 == "walk") { ww[key] = $4; wk[key] = $5 } else { lw[key] = $4; lk[key] = $5 } }
END {
	for (k in ww) { split(k, p, " "); n[p[1]]++; rw[p[1], n[p[1]]] = ww[k] / lw[k]; rk[p[1], n[p[1]]] = wk[k] / lk[k] }
	for (w in n) {
		m = n[w]
		for (i = 1; i <= m; i++) { a[i] = rw[w, i]; c[i] = rk[w, i] }
		printf "  %-10s end-to-end %.3f  kernels %.3f  (%d rounds)\n", w, median(a, m), median(c, m), m
	}
}' "$out/variants.txt"

largest=${workloads%% *}
echo
echo "GPU time per kernel at $largest (--profile gpu, top.txt)"
for v in lanes walk; do
	walk=none
	[ "$v" = walk ] && walk=all
	d="$out/profile-$largest-$v"
	TG_CUDA_WALK=$walk "$tg" run --backends cuda --ma exact --symbols "${largest%x*}" \
		--bars "${largest#*x}" --reps 5 --warmup 1 --no-accuracy --quiet --profile gpu \
		--out "$d" >/dev/null
	echo "  $v:"
	sed -n '/^### GPU time/,$p' "$d/top.txt" | grep -E "atc_|^# by| total   total%" | head -30 |
		sed 's/^/    /' || true
done
