# Every command has --help; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "$TG_BIN" --help
expect_in "$OUT" "commands:"
for c in run atc flame info; do
	expect_in "$OUT" "  $c "
done
for c in run atc flame info; do
	expect_exit 0 "$TG_BIN" "$c" --help
	expect_in "$OUT" "usage: trendgpu-bench $c"
	expect_exit 0 "$TG_BIN" help "$c"
done
expect_exit 0 "$TG_BIN" run --help
for o in --backends --ma --symbols --bars --seed --data --threads --reps --warmup --out \
	--ema-len --kama-w --lambda --decay --cutout --robustness --long-threshold --short-threshold; do
	expect_in "$OUT" "$o"
done
expect_exit 0 "$TG_BIN" --version
expect_in "$OUT" "trendgpu-bench "
expect_exit 2 "$TG_BIN"
expect_exit 2 "$TG_BIN" frobnicate
expect_in "$ERR" "unknown command 'frobnicate'"
expect_exit 2 "$TG_BIN" run --symbls 3
expect_in "$ERR" "did you mean --symbols?"
expect_exit 0 "$TG_BIN" info
expect_in "$OUT" "backends:"
expect_in "$OUT" "cpu    available"
expect_exit 0 "$TG_BIN" info --json
"$TG_JQ" "$OUT" .machine.logical_cpus >/dev/null || fail "info --json is not valid JSON"
expect_json "$OUT" '.backends[0].name' cpu
