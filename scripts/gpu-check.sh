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
#   TG_CUDA_ARCHS=...  the build's CUDA architectures (default: five, 75-90;
#                      "native": this machine's GPU only, the fastest build)
#   TG_SKIP_BOOTSTRAP=1  do not try to install packages (no registry here)
#   TG_GPU_CHECK_STEPS="..."  a subset of the steps, in this order: build
#                      tests bench sweep cpuscale variants profile overhead
#                      record sampler (default: all). Without "build" the previous
#                      build in build/gpu-check is reused, so one GPU lease
#                      can be split over several calls.
#   TG_GPU_CHECK_BUILD=DIR  use the programs of DIR (a build tree, or a kit's
#                      build/ from scripts/gpu-kit.sh) instead of
#                      build/gpu-check; no build step then
#   TG_GPU_CHECK_BIN=NAME  the trendgpu-bench of that tree to run (the kit's
#                      dry run: trendgpu-bench-emul)
#   TG_GPU_CHECK_DRY=1 every workload tiny: the steps' commands and parsing
#                      checked on the emulated device in seconds (numbers
#                      meaningless)
# Exit status: 0 when the build and every GPU test passed and the benchmarks
# ran; 1 otherwise (the outputs are collected either way).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
out=${1:-gpu-check-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee -a "$out/gpu-check.log") 2>&1
status=0
step() { echo; echo "== $*"; }
steps=" ${TG_GPU_CHECK_STEPS:-build tests bench sweep cpuscale variants profile overhead record sampler} "
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
if [ -n "${TG_GPU_CHECK_BUILD:-}" ]; then
	build=$(cd "$TG_GPU_CHECK_BUILD" && pwd)
	steps=${steps/ build / }
fi
if want build; then
	step "build (from scratch)"
	rm -rf "$build"
	cmake_args=(-DCMAKE_BUILD_TYPE=Release -DTG_WITH_CUDA=ON)
	[ -n "${TG_RUST_LIB:-}" ] && cmake_args+=("-DTG_RUST_LIB=$(realpath "$TG_RUST_LIB")")
	[ -n "${TG_CUDA_ARCHS:-}" ] && cmake_args+=("-DCMAKE_CUDA_ARCHITECTURES=$TG_CUDA_ARCHS")
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
fi
tg="$build/${TG_GPU_CHECK_BIN:-trendgpu-bench}"
if [ ! -x "$tg" ]; then
	echo "no $tg: add the build step"
	exit 1
fi
export TG_BIN="$tg" # for the benchmark scripts below
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
# the workloads, symbols x bars (TG_GPU_CHECK_DRY: tiny ones)
if [ -n "${TG_GPU_CHECK_DRY:-}" ]; then
	reps=3
	w_small=(4 300) w_long=(6 800) w_big=(16 300) sweep_bars=300 sweep_sizes="1 2 4"
	w_profile=(8 400) w_record=(8 300) overhead_sizes="8x300" overhead_rounds=1
	variants_workloads="8x300 4x200" variants_rounds=1 sigfloor_args="1 997 1"
	w_scale=(16 300) scale_reps=3
	export TG_BENCH_PAIRS=1 TG_BENCH_RUN_SIZE="8 300 3"
else
	w_small=(20 1500) w_long=(500 10000) w_big=(5000 1500) sweep_bars=1500
	sweep_sizes="1 2 4 8 16 32 64 128 256" w_profile=(500 2000) w_record=(256 1500)
	overhead_sizes="5000x1500 500x10000 20x1500" overhead_rounds=3
	variants_workloads="5000x1500 500x10000 64x1500 20x1500"
	variants_rounds=$([ -n "${TG_QUICK:-}" ] && echo 1 || echo 3) sigfloor_args="$(nproc) 997 3"
	w_scale=(500 10000) scale_reps=5
	export TG_BENCH_PAIRS=3
fi
bench() { # name symbols bars reps
	step "run --backends cpu,rust,cuda: $2 x $3"
	"$tg" run --backends cpu,rust,cuda --symbols "$2" --bars "$3" --reps "$4" --warmup 2 \
		--out "$out/$1" || status=1
}
if want bench; then
	bench "run-${w_small[0]}x${w_small[1]}" "${w_small[@]}" "$reps"
	bench "run-${w_long[0]}x${w_long[1]}" "${w_long[@]}" $((reps / 2 > 2 ? reps / 2 : 3))
	bench "run-${w_big[0]}x${w_big[1]}" "${w_big[@]}" $((reps / 2 > 2 ? reps / 2 : 3))
fi

# issue 15 on a many-core host: the CPU backends from 1 thread to every
# CPU, exact, and one thread in AVX2 against the default walk (the
# instruction set each ran with is in info.txt and every results.json)
if want cpuscale; then
step "CPU backends' thread scaling, exact, ${w_scale[0]} x ${w_scale[1]}: threads 1 .. $(nproc)"
mkdir -p "$out/cpuscale"
echo "threads walk cpu_median_ns rust_median_ns" >"$out/cpuscale.txt"
scale_threads=""
for t in 1 2 4 8 16 32 64 128; do
	[ "$t" -le "$(nproc)" ] && scale_threads="$scale_threads $t"
done
[[ " $scale_threads " == *" $(nproc) "* ]] || scale_threads="$scale_threads $(nproc)"
for t in $scale_threads avx2; do
	walk=auto threads=$t
	[ "$t" = avx2 ] && walk=avx2 threads=1
	d="$out/cpuscale/t$threads-$walk"
	TG_CPU_SIMD=$walk "$tg" run --backends cpu,rust --ma exact --threads "$threads" \
		--symbols "${w_scale[0]}" --bars "${w_scale[1]}" --reps "$scale_reps" --warmup 1 \
		--no-accuracy --quiet --out "$d" >/dev/null 2>&1 || status=1
	python3 - "$d/results.json" "$threads" "$walk" >>"$out/cpuscale.txt" <<'PY' || status=1
import json, sys
st = {x["backend"]: x for x in json.load(open(sys.argv[1]))["states"]}
med = lambda b: st[b]["wall_ns"]["median"] if b in st and "wall_ns" in st[b] else None
print(sys.argv[2], sys.argv[3], med("cpu"), med("rust"))
PY
done
cat "$out/cpuscale.txt"
fi

if want sweep; then
step "small-batch sweep: where cuda (end-to-end) overtakes cpu, exact, $sweep_bars bars"
mkdir -p "$out/sweep"
echo "symbols cpu_median_ns cuda_median_ns cuda_kernel_ns" >"$out/sweep.txt"
for s in $sweep_sizes; do
	"$tg" run --backends cpu,cuda --ma exact --symbols "$s" --bars "$sweep_bars" --reps 7 --warmup 2 \
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
TG_BENCH_ROUNDS=$variants_rounds TG_BENCH_WORKLOADS="$variants_workloads" \
	scripts/bench-cuda-variants.sh "$build" "$out/variants" || status=1
fi

if want profile; then
step "profile both: cpu, rust, cuda under CUPTI + sampler + NVTX"
P="$out/profile-both"
"$tg" run --backends cpu,rust,cuda --symbols "${w_profile[0]}" --bars "${w_profile[1]}" --reps 5 --warmup 1 --profile both \
	--out "$P" || status=1
"$build/tests/tg_tracecheck" "$P/trace.json" || status=1
sed -n '/^## Profile/,$p' "$P/summary.md"
head -5 "$P/gpu.folded" 2>/dev/null | cut -c1-300
fi

if want overhead; then
step "CUPTI tracing overhead on run --backends cuda (goal <= 5%)"
# alternating runs without and with --profile gpu; medians of the cuda state
echo "workload mode run median_ns kernel_ns" >"$out/overhead.txt"
for w in $overhead_sizes; do
	set -- ${w%x*} ${w#*x}
	for r in $(seq 1 "$overhead_rounds"); do
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
"$tg" record -o "$out/record" -- "$tg" run --backends cuda --symbols "${w_record[0]}" --bars "${w_record[1]}" --reps 3 \
	--warmup 1 --quiet --out "$out/record-run" || status=1
"$build/tests/tg_tracecheck" "$out/record/trace.json" || status=1
sed -n '/^## Profile/,$p' "$out/record/summary.md"
fi

if want sampler; then
step "host sampler overhead at 997 Hz (goal <= 2%): the tick's floor, then run --backends cpu,rust"
"$build/tests/tg_bench_sigfloor" $sigfloor_args || status=1
TG_BENCH_SECTIONS="1" TG_BENCH_UNWINDERS="hybrid libunwind" \
	scripts/bench-profiler.sh "$build" "$out/bench-profiler" || status=1
fi

step "done: status $status, outputs in $out"
exit $status
