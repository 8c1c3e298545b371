# The CUDA backend through the command line (skipped without a device).
. "$(dirname "$0")/lib.sh"
if ! "$TG_BIN" info | grep -q "^  cuda   available"; then
	echo "cuda backend unavailable here: skipped"
	"$TG_BIN" info | grep "^  cuda"
	exit 77
fi
# on the emulated device (cli_gpu_emul) the same checks on smaller batches
S=64 N=2000 W=40 WN=1500 CHUNK=10
emulated=
if "$TG_BIN" info | grep -q "emulated GPU"; then
	emulated=1 S=12 N=500 W=8 WN=400 CHUNK=2
fi
G="$TG_GOLDEN/atc"
for c in A_grw_default C_special_default D_nangap_default; do
	expect_exit 0 "$TG_BIN" atc --backend cuda --input "$G/${c}_exact.csv" --output "$TG_WORK/$c.csv" --slots --quiet
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/$c.csv" "$G/${c}_exact.csv" --lsma last
	expect_exit 0 "$TG_BIN" atc --backend cpu --input "$G/${c}_exact.csv" --output "$TG_WORK/${c}_cpu.csv" --slots --quiet
	cmp -s "$TG_WORK/$c.csv" "$TG_WORK/${c}_cpu.csv" || fail "cuda and cpu atc outputs differ for $c"
done
for c in A_grw_default C_special_default; do
	expect_exit 0 "$TG_BIN" atc --backend cuda --ma approx --input "$G/${c}_approx.csv" --output "$TG_WORK/${c}_a.csv" --quiet
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/${c}_a.csv" "$G/${c}_approx.csv" --approx
done
R="$TG_WORK/run"
expect_exit 0 "$TG_BIN" run --backends cpu,cuda --symbols $S --bars $N --reps 3 --warmup 1 --out "$R"
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
expect_in "$OUT" "agreement cuda vs cpu (approx): max |delta| 0, sign agreement 100.00%"
expect_in "$OUT" "cuda exact device: total"
expect_json "$R/results.json" '.states[2].backend' cuda
expect_json "$R/results.json" '.states[2].chunks' 1
expect_json "$R/results.json" '.states[2].pinned_host_memory' true
"$TG_JQ" "$R/results.json" '.states[2].kernel_ns.median' '.states[2].device' >/dev/null || fail "no device timing"
expect_in "$R/summary.md" "### Device time"
expect_json "$R/results.json" '.states[2].kernels' lanes
expect_json "$R/results.json" '.states[3].kernels' walk
# the walk kernels for some or all exact-mode families: same answers
expect_exit 0 env TG_CUDA_WALK=ema,kama "$TG_BIN" run --backends cpu,cuda --ma exact --symbols $W --bars $WN --reps 2 --warmup 0 --out "$R-walk2"
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
expect_json "$R-walk2/results.json" '.states[1].kernels' "walk: EMA,KAMA; lanes: the others"
expect_exit 0 env TG_CUDA_WALK=all "$TG_BIN" run --backends cpu,cuda --ma exact --symbols $W --bars $WN --reps 2 --warmup 0 --out "$R-walk"
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
expect_in "$R-walk/summary.md" "Kernels of cuda exact: walk."
# the software prefetch (TG_CUDA_PREFETCH): named when not the default,
# the same answers off, a bad value refused with what was expected
expect_exit 0 env TG_CUDA_PREFETCH=0 "$TG_BIN" run --backends cpu,cuda --ma exact --symbols $W --bars $WN --reps 2 --warmup 0 --out "$R-nopf"
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
expect_json "$R-nopf/results.json" '.states[1].kernels' "lanes; prefetch off"
expect_exit 0 env TG_CUDA_PREFETCH=64 TG_CUDA_WALK=all "$TG_BIN" run --backends cuda --ma exact --symbols 4 --bars 300 --reps 1 --warmup 0 --out "$R-pf64"
expect_json "$R-pf64/results.json" '.states[0].kernels' "walk; prefetch 64 bars"
expect_exit 1 env TG_CUDA_PREFETCH=-3 "$TG_BIN" run --backends cuda --symbols 4 --bars 300 --reps 1 --warmup 0 --out "$R-pfbad"
expect_in "$ERR" "TG_CUDA_PREFETCH '-3': expected the bars to prefetch ahead, 0 (off) to 4096"
expect_exit 1 env TG_CUDA_WALK=ema,sma "$TG_BIN" run --backends cuda --symbols 4 --bars 500 --reps 1 --warmup 0 --out "$R-badwalk"
expect_in "$ERR" "TG_CUDA_WALK 'ema,sma': 'sma' is not a family"
# chunked: several pieces, same answers
expect_exit 0 env TG_CUDA_CHUNK_SYMBOLS=$CHUNK "$TG_BIN" run --backends cpu,cuda --symbols $S --bars $N --reps 2 --warmup 0 --out "$R-chunked"
expect_json "$R-chunked/results.json" '.states[2].chunks' $(((S + CHUNK - 1) / CHUNK))
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"

# CUPTI traces a real device only: on the emulated one (cli_gpu_emul,
# trendgpu-bench-emul) the test ends here
if [ -n "$emulated" ]; then
	echo "emulated device: the CUPTI part needs a GPU: not run"
	exit 0
fi

# --profile both on the GPU: kernels and copies on stream tracks with flows
# from their launch calls, GPU time under the launching CPU stacks
P="$TG_WORK/prof"
expect_exit 0 "$TG_BIN" run --backends cpu,cuda --symbols 256 --bars 2000 --reps 3 --warmup 1 --profile both --out "$P"
expect_not_in "$ERR" "GPU activity not traced"
"$TG_TRACECHECK" "$P/trace.json" >"$TG_WORK/check" 2>&1 || { cat "$TG_WORK/check"; fail "trace.json invalid"; }
cat "$TG_WORK/check"
expect_in "$P/trace.json" '"cat":"kernel"'
expect_in "$P/trace.json" '"cat":"memcpy","name":"memcpy HtoD"'
expect_in "$P/trace.json" '"cat":"launch"'
expect_in "$P/trace.json" '"name":"cuda exact","args":{"domain":"trendgpu-bench","category":"state","payload":1'
# kernels under the phase of the launching thread
grep -q "^cuda;exact;EMA;fused kernel;.*\[gpu\] " "$P/gpu.folded" || fail "GPU time not under its phase"
grep -q "^cuda;exact;upload;.*\[gpu\] memcpy HtoD" "$P/gpu.folded" || fail "uploads not under the upload phase"
expect_in "$P/trace.json" '"HtoD GB/s"'
expect_json "$P/results.json" .profile.gpu.traced true
expect_json "$P/results.json" .profile.unmatched_correlations 0
k=$("$TG_JQ" "$P/results.json" .profile.gpu.kernels)
[ "$k" -gt 10 ] || fail "only $k kernels traced"
grep -q "^cuda;.*\[gpu\] " "$P/gpu.folded" || fail "no GPU frames under the cuda backend in gpu.folded"
grep -q "^cuda;.*cuda_run;.*\[gpu\] memcpy HtoD" "$P/gpu.folded" || fail "copies not under cuda_run"
grep -q "^cuda;.*cuda_run;.*cudaLaunchKernel;\[gpu\] atc_" "$P/gpu.folded" || fail "kernels not under their launch calls"
grep -q "^cpu;" "$P/combined.folded" || fail "combined.folded lacks the cpu backend"
grep -q "^cuda;.*\[gpu\]" "$P/combined.folded" || fail "combined.folded lacks GPU time"
expect_in "$P/summary.md" "GPU activity traced with CUPTI"
# record: the benchmark itself, profiled by injection
expect_exit 0 "$TG_BIN" record -o "$TG_WORK/rec" -- "$TG_BIN" run --backends cuda --symbols 128 --bars 1500 --reps 2 --warmup 0 --out "$TG_WORK/rec-run"
"$TG_TRACECHECK" "$TG_WORK/rec/trace.json" >/dev/null 2>&1 || fail "record: trace.json invalid"
expect_in "$TG_WORK/rec/trace.json" '"cat":"kernel"'
expect_in "$TG_WORK/rec/trace.json" '"name":"cuda exact","args":{"domain":"trendgpu-bench","category":"state","payload":1'
expect_json "$TG_WORK/rec/results.json" .profile.gpu.traced true
