#!/usr/bin/env bash
# The CUDA backend's exact-mode kernel variants against each other (a
# benchmark for a GPU machine, not a test): "lanes" (a thread per (symbol,
# slot), the default), "walk" (a thread per (symbol, family),
# TG_CUDA_WALK=all) and "noprefetch" (lanes, TG_CUDA_PREFETCH=0). Per
# workload, rounds of one run of each in rotated order, run --backends cuda
# --ma exact; prints the end-to-end and kernel-only medians of every run and
# the median variant/lanes ratio of the rounds; then one --profile gpu run
# of lanes and walk on the largest workload and its GPU time per kernel, to
# choose per family.
#
#   scripts/bench-cuda-variants.sh [BUILD_DIR] [OUTDIR]
#
# Environment: TG_BENCH_ROUNDS (default 3), TG_BENCH_WORKLOADS (default
# "5000x1500 500x10000 64x1500 20x1500"), TG_BENCH_VARIANTS (default "lanes
# walk noprefetch"), TG_BIN (default BUILD_DIR/trendgpu-bench).
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

# the variants: the default lanes layout, the walk layout, lanes without
# the software prefetch (TG_CUDA_PREFETCH=0)
variants=${TG_BENCH_VARIANTS:-lanes walk noprefetch}
one() { # variant symbols bars dir -> "wall_ns kernel_ns"
	local walk=none prefetch=""
	case $1 in
	walk) walk=all ;;
	noprefetch) prefetch=0 ;;
	esac
	TG_CUDA_WALK=$walk TG_CUDA_PREFETCH=$prefetch "$tg" run --backends cuda --ma exact --symbols "$2" \
		--bars "$3" --reps 10 --warmup 2 --no-accuracy --quiet --out "$4" >/dev/null
	echo "$("$jq" "$4/results.json" '.states[0].wall_ns.median') $("$jq" "$4/results.json" '.states[0].kernel_ns.median')"
}

echo "workload round variant wall_ns kernel_ns" >"$out/variants.txt"
read -r -a vs <<<"$variants"
for w in $workloads; do
	s=${w%x*}
	b=${w#*x}
	for r in $(seq 1 "$rounds"); do
		# the order rotates round by round: no variant always first
		for j in $(seq 0 $((${#vs[@]} - 1))); do
			v=${vs[$(((r + j) % ${#vs[@]}))]}
			echo "$w $r $v $(one "$v" "$s" "$b" "$out/$w-$v-$r")" >>"$out/variants.txt"
		done
	done
done
cat "$out/variants.txt"
echo
echo "variant / lanes, median over rounds (< 1: the variant is faster)"
awk 'function median(v, m,   i, j, t) { # insertion sort of v[1..m] (mawk has no asort)
	for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return v[int((m + 1) / 2)]
}
NR > 1 { wall[$1, $2, $3] = $4; kern[$1, $2, $3] = $5; wl[$1] = 1; vr[$3] = 1; if ($2 > R) R = $2 }
END {
	for (w in wl) for (v in vr) {
		if (v == "lanes") continue
		m = 0
		for (r = 1; r <= R; r++) if ((w, r, v) in wall && (w, r, "lanes") in wall && wall[w, r, "lanes"] > 0) {
			m++; a[m] = wall[w, r, v] / wall[w, r, "lanes"]; c[m] = kern[w, r, v] / kern[w, r, "lanes"]
		}
		if (m) printf "  %-10s %-10s end-to-end %.3f  kernels %.3f  (%d rounds)\n", w, v, median(a, m), median(c, m), m
	}
}' "$out/variants.txt" | sort

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
