# scripts/gpu-kit.sh on a machine without a GPU: the kit packed from this
# build, then both steps as a dry run on the emulated device, so that a
# script error is found here and never costs a GPU visit.
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(dirname "$TG_BIN")
kit_sh="$src/scripts/gpu-kit.sh"
if [ ! -x "$build/trendgpu-bench-emul" ]; then
	echo "no trendgpu-bench-emul (a build without C++): skipped"
	exit 77
fi
K="$TG_WORK/kit"
# usage errors
expect_exit 2 "$kit_sh" run 3 "$K"
expect_exit 2 "$kit_sh" frobnicate
# a kit too large to travel with the tree is refused
expect_exit 1 env TG_KIT_MAX_MIB=1 "$kit_sh" prepare "$K" --from "$build" --no-fallback
expect_in "$OUT" "would not travel with the tree"
expect_exit 0 env TG_KIT_MAX_MIB=100000 "$kit_sh" prepare "$K" --from "$build" --no-fallback
expect_in "$OUT" "programs: trendgpu-bench libtgrecord.so tests/test_atc_golden"
expect_in "$K/kit.txt" "trendgpu-bench-emul"
[ -f "$K/build/tests/gpu-tests.list" ] || fail "the kit lacks tests/gpu-tests.list"
expect_in "$K/build/tests/gpu-tests.list" "test_backend_cuda_chunked"
# the C library stays the GPU machine's own; jansson travels
ls "$K/lib" | grep -q "^libjansson" || fail "the kit lacks libjansson"
! ls "$K/lib" | grep -q "^libc\.so" || fail "the kit carries the C library"
# a folder that is not a kit step's is not cleared
mkdir -p "$TG_WORK/other" && touch "$TG_WORK/other/keep"
expect_exit 2 "$kit_sh" --dry-run run 1 "$K" "$TG_WORK/other"
[ -f "$TG_WORK/other/keep" ] || fail "run cleared a folder it does not own"

# step 1: the probe, the GPU tests' emulated stand-ins, the layouts
S1="$TG_WORK/step1"
expect_exit 0 "$kit_sh" --dry-run run 1 "$K" "$S1"
expect_in "$OUT" "======== gpu-kit step 1 (dry run"
for p in dadd dmul dfma ddiv recip_div shfl load_l1 load_l2; do
	grep -qE "^    $p +[0-9.]+  \([0-9.]+ ns\)" "$OUT" || fail "step 1: no latency for $p"
done
for p in htod_pinned dtoh_pinned dtod; do
	grep -qE "^    $p +[0-9.]+$" "$OUT" || fail "step 1: no bandwidth for $p"
done
expect_in "$OUT" "gpu tests: 6 passed, 0 failed, 1 skipped"
for v in walk noprefetch; do
	grep -qE "^    8x300 +$v +end-to-end [0-9.]+  kernels [0-9.]+  \(1 rounds\)" "$OUT" || fail "step 1: no $v / lanes ratio"
done
expect_in "$OUT" "parts (exit status, seconds): machine 0 "
expect_not_in "$S1/parts.txt" " 1 "
# a second run of a step replaces the first's outputs; TG_KIT_PARTS picks parts
touch "$S1/old"
expect_exit 0 env TG_KIT_PARTS="machine probe" "$kit_sh" --dry-run run 1 "$K" "$S1"
[ ! -e "$S1/old" ] || fail "step 1 rerun kept the first run's outputs"
[ "$(cut -d' ' -f1 "$S1/parts.txt" | tr '\n' ' ')" = "machine probe " ] || fail "TG_KIT_PARTS: $(cat "$S1/parts.txt")"
expect_in "$OUT" "latency dadd"

# the step's budget: spent by the first part, the others are skipped and
# named, the table still printed, the step failed
expect_exit 1 env TG_KIT_STEP_LIMIT=6 TG_KIT_PARTS="tests variants" "$kit_sh" --dry-run run 1 "$K" "$TG_WORK/budget"
# (the part gets what is left of the 6 s: the machine facts took some)
grep -qE "^tests: stopped at the [1-6] s limit" "$OUT" || fail "the tests part was not stopped at the step's limit"
expect_in "$OUT" "==== variants: not run, the step's 6 s are spent"
expect_in "$OUT" "======== gpu-kit step 1"
expect_in "$TG_WORK/budget/parts.txt" "variants skipped 0"

# step 2: the matrix, the sweep, profile, CUPTI overhead, record, sampler
S2="$TG_WORK/step2"
expect_exit 0 "$kit_sh" --dry-run run 2 "$K" "$S2"
expect_in "$OUT" "======== gpu-kit step 2 (dry run"
for w in 4x300 6x800 16x300; do
	grep -qE "^    $w: cpu exact [0-9.]+, cpu approx [0-9.]+, rust exact [0-9.]+, rust approx [0-9.]+, cuda exact [0-9.]+ \([0-9.]+\), cuda approx" "$OUT" ||
		grep -qE "^    $w: cpu exact [0-9.]+, cpu approx [0-9.]+, cuda exact" "$OUT" || fail "step 2: no benchmark line for $w"
done
grep -qE "^    8x300 +[0-9.]+ \(1 rounds\)" "$OUT" || fail "step 2: no CUPTI overhead"
# the CPU backends' scaling: a speed-up per thread count up to every CPU
grep -qE "^    1t 1\.00 [0-9.]+, 2t [0-9.]+ [0-9.]+" "$OUT" || fail "step 2: no CPU thread-scaling line"
grep -qE "^    default walk [0-9.]+x \(cpu\), [0-9.]+x \(rust\) the AVX2 walk" "$OUT" || fail "step 2: no walk comparison"
expect_in "$OUT" "cuda kernels against the floor max(bytes / "
for w in 4x300 6x800 16x300; do
	grep -qE "^    $w +cuda exact  kernels [0-9.]+ ms; floor [0-9.]+ ms \(bandwidth [0-9.]+, chain [0-9.]+\): [0-9.]+x$" "$OUT" ||
		fail "step 2: no floor line for $w"
done
expect_in "$OUT" "profile-both: GPU traced false"
expect_in "$OUT" "empty SIGPROF handler"
expect_in "$OUT" "median over rounds and states"
expect_not_in "$S2/parts.txt" " 1 "
for p in probe bench sweep cpuscale profile overhead record sampler; do
	grep -q "^$p 0 " "$S2/parts.txt" || fail "step 2: part $p did not pass"
done
