# A scale sweep: every --symbols x --bars combination a run of its own, the
# winner of each MA mode at each size, the crossovers; comparable with
# compare (size by size) and history (a series per size).
. "$(dirname "$0")/lib.sh"
W="$TG_WORK/sweep"
H="$TG_WORK/history.db"
backends=cpu
"$TG_BIN" info | grep -q "^  rust .*  available" && backends=cpu,rust
expect_exit 0 "$TG_BIN" run --backends "$backends" --symbols 3,12 --bars 300,900 --reps 6 --warmup 1 \
	--no-accuracy --history "$H" --out "$W"
for d in s3-b300 s3-b900 s12-b300 s12-b900; do
	[ -s "$W/$d/results.json" ] || fail "no $d/results.json"
	[ -s "$W/$d/report.html" ] || fail "no $d/report.html"
done
expect_in "$OUT" "== 3 symbols x 300 bars (1 of 4)"
expect_in "$OUT" "== 12 symbols x 900 bars (4 of 4)"
expect_in "$OUT" "## exact MAs: the fastest backend at each size"
expect_in "$OUT" "## Where the ranking changes"
expect_in "$OUT" "sweep: $W/sweep.json"
expect_in "$W/summary.md" "| 12 | 900 |"
expect_in "$W/summary.md" "[s12-b900](s12-b900/report.html)"
expect_json "$W/sweep.json" .schema trendgpu-bench/sweep
expect_json "$W/sweep.json" .complete true
expect_json "$W/sweep.json" 'length(.points)' 4
expect_json "$W/sweep.json" '.points[3].dir' s12-b900
expect_json "$W/sweep.json" '.points[3].modes[0].ma' exact
expect_json "$W/s12-b900/results.json" .params.symbols 12
expect_json "$W/s3-b900/results.json" .params.bars 900
if [ "$backends" = cpu,rust ]; then
	expect_json "$W/sweep.json" '.points[0].modes[0].others[0].pairs' 6
	# the winner's statement matches the point's own paired ratio
	w=$("$TG_JQ" "$W/sweep.json" '.points[0].modes[0].fastest')
	a=$("$TG_JQ" "$W/s3-b300/results.json" '.paired[0].backend')
	[ "$w" = "$a" ] || fail "the sweep's winner $w is not the run's fastest $a"
else
	expect_in "$W/summary.md" "cpu (alone)"
fi
# one history series per size
expect_exit 0 "$TG_BIN" history "$H" --json
n=$("$TG_JQ" "$OUT" 'length(.series)')
[ "$n" -ge 4 ] || fail "expected a history series per size, got $n"
# a second sweep compares with the first, size by size
W2="$TG_WORK/sweep2"
expect_exit 0 "$TG_BIN" run --backends "$backends" --symbols 3,12 --bars 300,900 --reps 6 --warmup 1 \
	--no-accuracy --quiet --out "$W2"
"$TG_BIN" compare "$W" "$W2" --json "$TG_WORK/cmp.json" >"$OUT" 2>"$ERR"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "compare of two sweeps exited $rc"
expect_in "$OUT" "# compare of two sweeps (wall time)"
expect_in "$OUT" "## 12 symbols x 900 bars"
expect_in "$OUT" "4 sizes compared"
expect_json "$TG_WORK/cmp.json" .sizes_compared 4
expect_json "$TG_WORK/cmp.json" '.sizes[1].bars' 900
expect_exit 0 "$TG_BIN" compare "$W/sweep.json" "$W2/sweep.json" --drift 1000
# a sweep against one run: refused, saying why
expect_exit 1 "$TG_BIN" compare "$W" "$W2/s3-b300"
expect_in "$ERR" "is a sweep and"
# one size's run compares with the same size of another sweep (directories work too)
"$TG_BIN" compare "$W/s3-b300" "$W2/s3-b300" >"$OUT" 2>"$ERR"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "compare of two sizes exited $rc"
expect_in "$OUT" "| cpu | exact |"
# the sweep directory again: refused, unless --force
expect_exit 1 "$TG_BIN" run --backends cpu --symbols 3,12 --bars 300 --reps 2 --warmup 0 --out "$W"
expect_in "$ERR" "holds a run already"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 3,12 --bars 300 --reps 2 --warmup 0 --quiet --force --out "$W"
expect_json "$W/sweep.json" 'length(.points)' 2
# bad lists, and a sweep of real data
expect_exit 2 "$TG_BIN" run --symbols 3,x
expect_in "$ERR" "--symbols: 'x' is not a whole number"
expect_exit 2 "$TG_BIN" run --bars 300,300
expect_in "$ERR" "--bars: 300 is given twice"
printf 'timestamp,close\n' >"$TG_WORK/a.csv"
expect_exit 2 "$TG_BIN" run --data "$TG_WORK/a.csv" --symbols 3,12
expect_in "$ERR" "cannot go with --data"
# a corrupt sweep.json is untrusted input: refused, naming the member
python3 - "$W/sweep.json" "$TG_WORK/evil" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
d["points"][0]["dir"] = "../../etc"
os.makedirs(sys.argv[2], exist_ok=True)
json.dump(d, open(os.path.join(sys.argv[2], "sweep.json"), "w"))
PY
expect_exit 1 "$TG_BIN" compare "$W" "$TG_WORK/evil"
expect_in "$ERR" "points[0].dir: expected a directory name inside the sweep's"
