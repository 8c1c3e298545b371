# `atc` reproduces every golden file through the command line.
. "$(dirname "$0")/lib.sh"
G="$TG_GOLDEN/atc"
B_PARAMS="--ema-w 1.5 --hma-w 0.2 --wma-w 1.0 --dema-w 2.0 --lsma-w 0.75 --kama-w 1.25
  --robustness wide --lambda 0.05 --decay 0.2 --cutout 60 --long-threshold 0.2 --short-threshold -0.3"
for c in A_grw_default B_grw_wide_cut60 C_special_default D_nangap_default; do
	params=""
	[ "$c" = B_grw_wide_cut60 ] && params="$B_PARAMS"
	# shellcheck disable=SC2086
	expect_exit 0 "$TG_BIN" atc --input "$G/${c}_exact.csv" --output "$TG_WORK/$c.csv" $params
	expect_in "$ERR" "final signal:"
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/$c.csv" "$G/${c}_exact.csv" --lsma last
	expect_in "$OUT" "22 columns compared, 0 differ"
	# shellcheck disable=SC2086
	expect_exit 0 "$TG_BIN" atc --input "$G/${c}_exact.csv" --lsma-point penultimate \
		--output "$TG_WORK/${c}_pen.csv" --quiet $params
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/${c}_pen.csv" "$G/${c}_exact.csv"
	expect_in "$OUT" "22 columns compared, 0 differ"
done
for c in A_grw_default C_special_default; do
	expect_exit 0 "$TG_BIN" atc --ma approx --input "$G/${c}_approx.csv" --output "$TG_WORK/${c}_a.csv"
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/${c}_a.csv" "$G/${c}_approx.csv" --approx
	expect_in "$OUT" "21 columns compared, 0 differ"
done
# the header is exactly the golden names
expect_exit 0 "$TG_BIN" atc --input "$G/A_grw_default_exact.csv" --quiet
head -1 "$OUT" | grep -qx 'bar,close,R,MA_EMA,MA_HMA,MA_WMA,MA_DEMA,MA_LSMA,MA_KAMA,EMA_Signal,HMA_Signal,WMA_Signal,DEMA_Signal,LSMA_Signal,KAMA_Signal,EMA_S,HMA_S,WMA_S,DEMA_S,LSMA_S,KAMA_S,Average_Signal' \
	|| fail "header differs"
# --slots adds 3 x 54 columns named like the golden set files
expect_exit 0 "$TG_BIN" atc --input "$G/C_special_default_exact.csv" --slots --output "$TG_WORK/slots.csv"
head -1 "$TG_WORK/slots.csv" | tr ',' '\n' | grep -qx 'HMA_MA_4_L22' || fail "no HMA_MA_4_L22 column"
[ "$(head -1 "$TG_WORK/slots.csv" | tr ',' '\n' | wc -l)" = 184 ] || fail "expected 184 columns with --slots"
# the Rust backend through the same interface, when it is built
if "$TG_BIN" info | grep -q "^  rust   available"; then
	for c in A_grw_default C_special_default D_nangap_default; do
		expect_exit 0 "$TG_BIN" atc --backend rust --input "$G/${c}_exact.csv" --output "$TG_WORK/${c}_rs.csv" --quiet
		expect_exit 0 "$TG_CSVCMP" "$TG_WORK/${c}_rs.csv" "$G/${c}_exact.csv" --lsma last
		expect_in "$OUT" "22 columns compared, 0 differ"
	done
	expect_exit 0 "$TG_BIN" atc --backend rust --ma approx --input "$G/C_special_default_approx.csv" --output "$TG_WORK/c_rs_a.csv"
	expect_exit 0 "$TG_CSVCMP" "$TG_WORK/c_rs_a.csv" "$G/C_special_default_approx.csv" --approx
fi
