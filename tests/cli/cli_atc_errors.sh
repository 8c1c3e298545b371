# Bad input to `atc`: clear errors, right exit codes, no partial output.
. "$(dirname "$0")/lib.sh"
G="$TG_GOLDEN/atc"
expect_exit 2 "$TG_BIN" atc
expect_in "$ERR" "--input FILE.csv or DIR is required"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/missing.csv"
expect_in "$ERR" "missing.csv"
printf 'date,price\n1,10\n' >"$TG_WORK/noclose.csv"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/noclose.csv"
expect_in "$ERR" "noclose.csv:1: no 'close' column"
{ echo close; for i in $(seq 1 40); do echo "$((100 + i))"; done; echo "12x"; } >"$TG_WORK/text.csv"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/text.csv"
expect_in "$ERR" "text.csv:42: column 'close': '12x' is not a number"
{ echo close; for i in $(seq 1 20); do echo "$((100 + i))"; done; } >"$TG_WORK/short.csv"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/short.csv"
expect_in "$ERR" "20 bars, fewer than the longest moving average (34 bars)"
{ echo close; for i in $(seq 1 40); do echo "$((100 + i))"; done; echo 0; } >"$TG_WORK/zero.csv"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/zero.csv"
expect_in "$ERR" "zero.csv:42: column 'close' is 0; prices must be > 0"
expect_exit 2 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --ema-len 5
expect_in "$ERR" "--ema-len must be at least 8"
expect_exit 2 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --robustness huge
expect_in "$ERR" "'huge' is not one of: narrow, medium, wide"
expect_exit 2 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --cutout 600
expect_in "$ERR" "--cutout 600: must be smaller than the number of bars (600)"
expect_exit 2 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --backend gpu
expect_in "$ERR" "unknown or not built backend 'gpu'"
expect_exit 2 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --lambda abc
expect_in "$ERR" "option --lambda: 'abc' is not a finite number"
# an output that cannot be written: error, and an existing file is kept
echo keep >"$TG_WORK/existing.csv"
expect_exit 1 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --output "$TG_WORK/no/such/dir.csv"
expect_in "$ERR" "no/such/dir.csv"
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/text.csv" --output "$TG_WORK/existing.csv"
[ "$(cat "$TG_WORK/existing.csv")" = keep ] || fail "existing output was clobbered"
ls "$TG_WORK"/*.tmp.* 2>/dev/null && fail "temporary files left behind"
true
