# Each symbol's answer: `run --signals FILE.csv` (one row per symbol x
# backend x MA mode, agreeing with the accuracy pass's flips) and
# `atc --input DIR` (every file of a directory, the same numbers as one
# file at a time).
. "$(dirname "$0")/lib.sh"
G="$TG_GOLDEN/atc"
D="$TG_WORK/dir"
mkdir -p "$D"
cp "$G/A_grw_default_exact.csv" "$D/AAA.csv"
cp "$G/C_special_default_exact.csv" "$D/CCC.csv"
cp "$G/D_nangap_default_exact.csv" "$D/DDD.csv"
HEADER="symbol,backend,ma,bars,last_average,final_signal,compared_with,exact_final_signal,agrees_with_exact"

# atc --input DIR: the signals on stdout, one row per file in name order
expect_exit 0 "$TG_BIN" atc --input "$D"
expect_in "$ERR" "final signals of 3 symbols:"
[ "$(head -1 "$OUT")" = "$HEADER" ] || fail "signals header: $(head -1 "$OUT")"
[ "$(wc -l <"$OUT")" = 4 ] || fail "expected 3 rows and a header"
cut -d, -f1-4 "$OUT" | tail -3 | tr '\n' ' ' | grep -qx "AAA,cpu,exact,600 CCC,cpu,exact,[0-9]* DDD,cpu,exact,[0-9]* " ||
	fail "rows: $(cut -d, -f1-4 "$OUT" | tr '\n' ' ')"
cp "$OUT" "$TG_WORK/dir-signals.csv"
# each row is what atc says of that file alone
for s in AAA CCC DDD; do
	expect_exit 0 "$TG_BIN" atc --input "$D/$s.csv" --output "$TG_WORK/$s-one.csv" --signals "$TG_WORK/$s-one-sig.csv"
	want=$(tail -1 "$TG_WORK/$s-one-sig.csv")
	grep -qxF "$want" "$TG_WORK/dir-signals.csv" || fail "$s: '$want' is not in the directory's signals"
	fs=$(echo "$want" | cut -d, -f6)
	expect_in "$ERR" "final signal: $fs "
done
# --output DIR: every symbol's columns, byte for byte those of one file
expect_exit 0 "$TG_BIN" atc --input "$D" --output "$TG_WORK/cols" --signals "$TG_WORK/sig.csv"
expect_in "$ERR" "columns in $TG_WORK/cols"
for s in AAA CCC DDD; do
	cmp -s "$TG_WORK/cols/$s.csv" "$TG_WORK/$s-one.csv" || fail "cols/$s.csv differs from atc of $s.csv alone"
done
cmp -s "$TG_WORK/sig.csv" "$TG_WORK/dir-signals.csv" || fail "--signals FILE differs from the signals on stdout"
expect_exit 0 "$TG_CSVCMP" "$TG_WORK/cols/AAA.csv" "$G/A_grw_default_exact.csv" --lsma last
expect_in "$OUT" "22 columns compared, 0 differ"
# approx, a selection
expect_exit 0 "$TG_BIN" atc --input "$D" --ma approx --select 'A*' --output "$TG_WORK/cols-a" --quiet
[ "$(ls "$TG_WORK/cols-a")" = AAA.csv ] || fail "--select 'A*' wrote $(ls "$TG_WORK/cols-a")"
expect_exit 0 "$TG_CSVCMP" "$TG_WORK/cols-a/AAA.csv" "$G/A_grw_default_approx.csv" --approx
expect_in "$OUT" "21 columns compared, 0 differ"
# the data options of run: --timeframe on files with times
T="$TG_WORK/timed"
mkdir -p "$T"
for s in XX YY; do
	{ echo "timestamp,open,high,low,close,volume"
	  awk -v k=${#s} 'BEGIN { p = 100; for (i = 0; i < 800; i++) { p *= 1 + ((i * 7919 + k) % 13 - 6) / 600; printf "%d,1,1,1,%.6f,10\n", 1700000000 + 900 * i, p } }'
	} >"$T/$s.csv"
done
expect_exit 0 "$TG_BIN" atc --input "$T" --timeframe 1h
[ "$(tail -1 "$OUT" | cut -d, -f1-4)" = "YY,cpu,exact,200" ] || fail "1 h bars of 800 x 15 min: $(tail -1 "$OUT")"
# run and atc give each symbol the same answer (exact and approx)
expect_exit 0 "$TG_BIN" run --data "$T" --backends cpu --reps 2 --warmup 0 --out "$TG_WORK/run-t" \
	--signals "$TG_WORK/t-run.csv"
for m in exact approx; do
	expect_exit 0 "$TG_BIN" atc --input "$T" --ma $m --signals "$TG_WORK/t-atc-$m.csv" --quiet
	diff <(grep ",cpu,$m," "$TG_WORK/t-run.csv" | cut -d, -f1-6) <(tail -n +2 "$TG_WORK/t-atc-$m.csv" | cut -d, -f1-6) >/dev/null ||
		fail "run --signals and atc --input DIR differ ($m)"
done
# bad combinations, said before anything runs
expect_exit 2 "$TG_BIN" atc --input "$D/AAA.csv" --select 'A*'
expect_in "$ERR" "--select chooses files of a directory"
expect_exit 2 "$TG_BIN" atc --input "$D" --output -
expect_in "$ERR" "give --output DIR, or --signals"
expect_exit 2 "$TG_BIN" atc --input "$D" --slots
expect_in "$ERR" "--slots writes columns: with a directory give --output DIR"
expect_exit 2 "$TG_BIN" atc --input "$D/AAA.csv" --signals -
expect_in "$ERR" "both on standard output"
expect_exit 2 "$TG_BIN" atc --input "$D" --timeframe 90x
expect_in "$ERR" "--timeframe: expected a bar size"
expect_exit 1 "$TG_BIN" atc --input "$D" --timeframe 1h
expect_exit 1 "$TG_BIN" atc --input "$TG_WORK/none"

# run --signals: a row per symbol x state; the approx rows that disagree
# are the accuracy pass's flips
R="$TG_WORK/run"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 40 --bars 600 --reps 2 --warmup 0 --out "$R" \
	--signals "$TG_WORK/run-signals.csv"
expect_in "$OUT" "signals: $TG_WORK/run-signals.csv (80 rows: 40 symbols x the states that ran)"
S="$TG_WORK/run-signals.csv"
[ "$(head -1 "$S")" = "$HEADER" ] || fail "run --signals header"
[ "$(wc -l <"$S")" = 81 ] || fail "run --signals: $(wc -l <"$S") lines"
[ "$(grep -c ',cpu,exact,600,.*,cpu exact,.*,yes$' "$S")" = 40 ] || fail "exact rows compared with themselves"
flips=$("$TG_JQ" "$R/results.json" .accuracy[0].decision.final_signal_differs)
[ "$(grep -c ',cpu,approx,.*,no$' "$S")" = "$flips" ] || fail "$flips flips in results.json, not in --signals"
[ "$flips" -gt 0 ] || fail "no flip among 40 symbols: the check checks nothing"
first=$("$TG_JQ" "$R/results.json" '.accuracy[0].decision.symbols_differing[0].symbol')
grep -q "^$first,cpu,approx,600,.*,no$" "$S" || fail "the first flip $first is not a disagreeing row"
expect_json "$R/results.json" .accuracy[0].decision.symbols_differing_complete true
# the file is the last run's numbers: the last Average_Signal of a row
# decides its final signal (|x| >= min_signal)
awk -F, 'NR > 1 { v = $5 + 0; c = (v >= 0.01) ? "LONG" : (v <= -0.01) ? "SHORT" : "none"; if (c != $6) { print; exit 1 } }' "$S" ||
	fail "a row's final signal is not its last Average_Signal's class"
expect_exit 2 "$TG_BIN" run --symbols 10,20 --signals "$TG_WORK/x.csv"
expect_in "$ERR" "--signals writes the symbols of one run: it cannot go with a sweep"
