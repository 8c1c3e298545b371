# The CUDA backend through the command line (skipped without a device).
. "$(dirname "$0")/lib.sh"
if ! "$TG_BIN" info | grep -q "^  cuda   available"; then
	echo "cuda backend unavailable here: skipped"
	"$TG_BIN" info | grep "^  cuda"
	exit 77
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
expect_exit 0 "$TG_BIN" run --backends cpu,cuda --symbols 64 --bars 2000 --reps 3 --warmup 1 --out "$R"
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
expect_in "$OUT" "agreement cuda vs cpu (approx): max |delta| 0, sign agreement 100.00%"
expect_in "$OUT" "cuda exact device: total"
expect_json "$R/results.json" '.states[2].backend' cuda
expect_json "$R/results.json" '.states[2].chunks' 1
expect_json "$R/results.json" '.states[2].pinned_host_memory' true
"$TG_JQ" "$R/results.json" '.states[2].kernel_ns.median' '.states[2].device' >/dev/null || fail "no device timing"
expect_in "$R/summary.md" "### Device time"
# chunked: several pieces, same answers
expect_exit 0 env TG_CUDA_CHUNK_SYMBOLS=10 "$TG_BIN" run --backends cpu,cuda --symbols 64 --bars 2000 --reps 2 --warmup 0 --out "$R-chunked"
expect_json "$R-chunked/results.json" '.states[2].chunks' 7
expect_in "$OUT" "agreement cuda vs cpu (exact): max |delta| 0, sign agreement 100.00%"
