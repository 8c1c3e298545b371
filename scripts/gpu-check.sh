#!/usr/bin/env bash
# On a GPU machine: build from scratch, run the GPU tests, benchmark
# cpu, rust and cuda on three workloads plus a small-batch sweep, and
# collect logs and run directories in OUTDIR (default gpu-check-<UTC time>).
#
#   scripts/gpu-check.sh [OUTDIR]
#
# Environment:
#   TG_DEPS_DEBS=DIR   Debian packages to unpack when the machine has no
#                      registry (see scripts/offline-deps.sh)
#   TG_RUST_LIB=FILE   a prebuilt kernels/rust static library when there is
#                      no cargo on the machine
#   TG_QUICK=1         fewer repetitions (a smoke run)
#   TG_SKIP_BOOTSTRAP=1  do not try to install packages (no registry here)
#   TG_GPU_CHECK_STEPS="..."  a subset of the steps, in this order: build
#                      tests bench sweep variants profile overhead record
#                      sampler (default: all). Without "build" the previous
#                      build in build/gpu-check is reused, so one GPU lease
#                      can be split over several calls.
# Exit status: 0 when the build and every GPU test passed and the benchmarks
# ran; 1 otherwise (the outputs are collected either way).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-gpu-check-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee -a "$out/gpu-check.log") 2>&1
status=0
step() { echo; echo "== $*"; }
steps=" ${TG_GPU_CHECK_STEPS:-build tests bench sweep variants profile overhead record sampler} "
want() { [[ "$steps" == *" $1 "* ]]; }

step "machine"
date -u
uname -a
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1 || echo "nvidia-smi unavailable"
nvcc --version 2>&1 | tail -2 || echo "no nvcc"
cmake --version | head -1
gcc --version | head -1
nproc

step "dependencies"
if [ -n "${TG_SKIP_BOOTSTRAP:-}" ]; then
	echo "bootstrap skipped (TG_SKIP_BOOTSTRAP)"
elif ! scripts/bootstrap.sh; then
	echo "bootstrap could not install packages (offline?): continuing with what is here"
fi
if [ -n "${TG_DEPS_DEBS:-}" ]; then
	eval "$(scripts/offline-deps.sh env "$TG_DEPS_DEBS")"
	echo "unpacked $(ls "$TG_DEPS_DEBS" | wc -l) carried packages"
fi
export PATH="${HOME:-/root}/.cargo/bin:$PATH"

build="$root/build/gpu-check"
if want build; then
	step "build (from scratch)"
	rm -rf "$build"
	cmake_args=(-DCMAKE_BUILD_TYPE=Release -DTG_WITH_CUDA=ON)
	[ -n "${TG_RUST_LIB:-}" ] && cmake_args+=("-DTG_RUST_LIB=$(realpath "$TG_RUST_LIB")")
	if ! cmake -S . -B "$build" "${cmake_args[@]}" >"$out/configure.log" 2>&1; then
		cat "$out/configure.log"
		echo "configure FAILED"
		exit 1
	fi
	grep "trendgpu-bench:" "$out/configure.log"
	if ! cmake --build "$build" -j "$(nproc)" >"$out/build.log" 2>&1; then
		tail -50 "$out/build.log"
		echo "build FAILED"
		exit 1
	fi
elif [ ! -x "$build/trendgpu-bench" ]; then
	echo "no build in $build: add the build step"
	exit 1
fi
tg="$build/trendgpu-bench"
"$tg" info | tee "$out/info.txt"

if want tests; then
	step "ctest -L gpu"
	(cd "$build" && ctest -L gpu --output-on-failure) >"$out/ctest-gpu.log" 2>&1 || status=1
	tail -15 "$out/ctest-gpu.log"
	step "ctest (everything else)"
	(cd "$build" && ctest -LE gpu -j "$(nproc)" --output-on-failure) >"$out/ctest-all.log" 2>&1 || status=1
	tail -6 "$out/ctest-all.log"
fi

reps=10
[ -n "${TG_QUICK:-}" ] && reps=3
bench() { # name symbols bars reps
	step "run --backends cpu,rust,cuda: $2 x $3"
	"$tg" run --backends cpu,rust,cuda --symbols "$2" --bars "$3" --reps "$4" --warmup 2 \
		--out "$out/$1" || status=1
}
if want bench; then
	bench run-20x1500 20 1500 "$reps"
	bench run-500x10000 500 10000 $((reps / 2 > 2 ? reps / 2 : 3))
	bench run-5000x1500 5000 1500 $((reps / 2 > 2 ? reps / 2 : 3))
fi

if want sweep; then
step "small-batch sweep: where cuda (end-to-end) overtakes cpu, exact, 1500 bars"
mkdir -p "$out/sweep"
echo "symbols cpu_median_ns cuda_median_ns cuda_kernel_ns" >"$out/sweep.txt"
for s in 1 2 4 8 16 32 64 128 256; do
	"$tg" run --backends cpu,cuda --ma exact --symbols "$s" --bars 1500 --reps 7 --warmup 2 \
		--no-accuracy --quiet --out "$out/sweep/s$s" >/dev/null 2>&1 || status=1
	j="$out/sweep/s$s/results.json"
	if command -v python3 >/dev/null; then
		python3 - "$j" "$s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
st = {x["backend"]: x for x in r["states"]}
c, g = st["cpu"], st.get("cuda", {})
print(sys.argv[2], c["wall_ns"]["median"], g.get("wall_ns", {}).get("median"), g.get("kernel_ns", {}).get("median"))
PY
	fi >>"$out/sweep.txt"
done
cat "$out/sweep.txt"
fi

if want variants; then
step "exact-mode kernels: lanes (default) vs walk (TG_CUDA_WALK=all)"
TG_BENCH_ROUNDS=$([ -n "${TG_QUICK:-}" ] && echo 1 || echo 3) \
	scripts/bench-cuda-variants.sh "$build" "$out/variants" || status=1
fi

if want profile; then
step "profile both: cpu, rust, cuda under CUPTI + sampler + NVTX"
P="$out/profile-both"
"$tg" run --backends cpu,rust,cuda --symbols 500 --bars 2000 --reps 5 --warmup 1 --profile both \
	--out "$P" || status=1
"$build/tests/tg_tracecheck" "$P/trace.json" || status=1
sed -n '/^## Profile/,$p' "$P/summary.md"
head -5 "$P/gpu.folded" 2>/dev/null | cut -c1-300
fi

if want overhead; then
step "CUPTI tracing overhead on run --backends cuda (goal <= 5%)"
# alternating runs without and with --profile gpu; medians of the cuda state
echo "workload mode run median_ns kernel_ns" >"$out/overhead.txt"
for w in "5000 1500" "500 10000" "20 1500"; do
	set -- $w
	for r in 1 2 3; do
		for mode in none gpu; do
			d="$out/overhead/s$1-b$2-$mode-$r"
			"$tg" run --backends cuda --ma exact --symbols "$1" --bars "$2" --reps 10 --warmup 2 \
				--no-accuracy --quiet --profile "$mode" --out "$d" >/dev/null 2>&1 || status=1
			m=$("$build/tests/tg_jq" "$d/results.json" '.states[0].wall_ns.median' 2>/dev/null)
			k=$("$build/tests/tg_jq" "$d/results.json" '.states[0].kernel_ns.median' 2>/dev/null)
			echo "${1}x$2 $mode $r $m $k" >>"$out/overhead.txt"
		done
	done
done
cat "$out/overhead.txt"
fi

if want record; then
step "record -- the benchmark (CUDA_INJECTION64_PATH, NVTX_INJECTION64_PATH, LD_PRELOAD)"
"$tg" record -o "$out/record" -- "$tg" run --backends cuda --symbols 256 --bars 1500 --reps 3 \
	--warmup 1 --quiet --out "$out/record-run" || status=1
"$build/tests/tg_tracecheck" "$out/record/trace.json" || status=1
sed -n '/^## Profile/,$p' "$out/record/summary.md"
fi

if want sampler; then
step "host sampler overhead at 997 Hz (goal <= 2%): the tick's floor, then run --backends cpu,rust"
"$build/tests/tg_bench_sigfloor" "$(nproc)" 997 3 || status=1
TG_BENCH_SECTIONS="1" TG_BENCH_PAIRS=3 TG_BENCH_UNWINDERS="hybrid libunwind" \
	scripts/bench-profiler.sh "$build" "$out/bench-profiler" || status=1
fi

step "done: status $status, outputs in $out"
exit $status
