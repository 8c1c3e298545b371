# compare and history from the command line; report.html in a real headless
# browser (Debian chromium).
. "$(dirname "$0")/lib.sh"
H="$TG_WORK/history.db"
A="$TG_WORK/a"
B="$TG_WORK/b"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 4 --bars 600 --reps 8 --warmup 1 --history "$H" --out "$A"
expect_in "$OUT" "history: run 1 appended to $H"
expect_in "$OUT" "report: $A/report.html"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 4 --bars 600 --reps 8 --warmup 1 --history "$H" --out "$B"
expect_in "$OUT" "history: run 2 appended"

# a run against itself: never slower or faster (same, or noisy with 8
# samples on a busy machine), exit 0
expect_exit 0 "$TG_BIN" compare "$A/results.json" "$A/results.json" --json "$TG_WORK/self.json"
expect_in "$OUT" "| cpu | exact |"
expect_not_in "$OUT" "**slower**"
expect_not_in "$OUT" "**faster**"
expect_in "$OUT" "0 regressions"
expect_json "$TG_WORK/self.json" .regressions 0
expect_json "$TG_WORK/self.json" .comparable true
# quiet samples (a dedicated machine), and a 20% slower copy: a confirmed
# regression, exit 3
python3 - "$A/results.json" "$TG_WORK/quiet.json" "$TG_WORK/slow.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for factor, path in ((1.0, sys.argv[2]), (1.2, sys.argv[3])):
    for s in r["states"]:
        s["wall_ns"]["samples"] = [1e6 * factor * (1 + 0.002 * ((i * 7) % 11 - 5)) for i in range(20)]
    json.dump(r, open(path, "w"))
PY
A_Q="$TG_WORK/quiet.json"
expect_exit 0 "$TG_BIN" compare "$A_Q" "$A_Q"
expect_in "$OUT" "**same**"
expect_exit 3 "$TG_BIN" compare "$A_Q" "$TG_WORK/slow.json"
expect_in "$OUT" "**slower**"
expect_in "$ERR" "regression"
expect_in "$OUT" "a change counts beyond **3%**: the threshold 3% + 0% for run-to-run drift (the runs' own drift"
# a drift allowance the machine is known for absorbs it: 20% on a machine
# whose runs lie 25% apart is no news
expect_exit 0 "$TG_BIN" compare "$A_Q" "$TG_WORK/slow.json" --drift 25
expect_in "$OUT" "a change counts beyond **28%**"
expect_in "$OUT" "(--drift 25)"
expect_not_in "$OUT" "**slower**"
# a history with too few good runs to calibrate from: said, and the runs'
# own drift is used
expect_exit 3 "$TG_BIN" compare "$A_Q" "$TG_WORK/slow.json" --history "$H"
expect_in "$ERR" "needed to calibrate the drift"
expect_exit 1 "$TG_BIN" compare "$A_Q" "$TG_WORK/slow.json" --history "$TG_WORK/none.db"
expect_in "$ERR" "none.db"
# too few samples: not judged, counted, shown
python3 - "$A_Q" "$TG_WORK/two.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["states"][0]["wall_ns"]["samples"] = r["states"][0]["wall_ns"]["samples"][:2]
json.dump(r, open(sys.argv[2], "w"))
PY
expect_exit 0 "$TG_BIN" compare "$A_Q" "$TG_WORK/two.json" --json "$TG_WORK/two-cmp.json"
expect_in "$OUT" "**not judged** | too few samples (20, 2)"
expect_in "$OUT" "1 not judged (too few samples)"
expect_json "$TG_WORK/two-cmp.json" .not_judged 1
# the same copy from another machine: flagged, not judged
python3 - "$TG_WORK/slow.json" "$TG_WORK/elsewhere.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["machine"]["hostname"] = "another-host"
json.dump(r, open(sys.argv[2], "w"))
PY
expect_exit 0 "$TG_BIN" compare "$A_Q" "$TG_WORK/elsewhere.json"
expect_in "$OUT" "**flag**: different machine: hostname"
expect_in "$OUT" "not comparable"
expect_exit 3 "$TG_BIN" compare "$A_Q" "$TG_WORK/elsewhere.json" --force
# bad input
expect_exit 2 "$TG_BIN" compare "$A/results.json"
expect_in "$ERR" "expected two results.json files"
expect_exit 1 "$TG_BIN" compare "$A/results.json" "$TG_WORK/missing.json"
expect_in "$ERR" "missing.json': cannot open: No such file or directory"
expect_not_in "$ERR" "line -1"
# a newer schema version, or members of the wrong type: refused, named
python3 - "$A/results.json" "$TG_WORK" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
w = sys.argv[2]
json.dump(dict(r, schema_version=99), open(w + "/v99.json", "w"))
json.dump({"schema": r["schema"]}, open(w + "/only-schema.json", "w"))
json.dump(dict(r, states={"cpu": 1}), open(w + "/states-object.json", "w"))
PY
expect_exit 1 "$TG_BIN" compare "$A/results.json" "$TG_WORK/v99.json"
expect_in "$ERR" "schema_version 99 is newer than this build reads (2)"
expect_exit 1 "$TG_BIN" compare "$A/results.json" "$TG_WORK/only-schema.json"
expect_in "$ERR" "only-schema.json': schema_version: expected an integer"
expect_exit 1 "$TG_BIN" compare "$TG_WORK/states-object.json" "$A/results.json"
expect_in "$ERR" "states: expected an array"
expect_exit 1 "$TG_BIN" compare "$A/results.json" "$A/summary.md"
expect_in "$ERR" "summary.md"

# history: both runs, statuses, the last good run
expect_exit 0 "$TG_BIN" history "$H" --state cpu/exact
expect_in "$OUT" "## cpu exact on"
n=$(grep -c "^| [12] |" "$OUT")
[ "$n" = 2 ] || fail "expected 2 runs in the history table, got $n"
expect_exit 0 "$TG_BIN" history "$H" --mark 1:good
expect_exit 0 "$TG_BIN" history "$H" --last-good
expect_in "$OUT" "$A"
expect_exit 0 "$TG_BIN" history "$H" --json
expect_json "$OUT" '.series[0].points[1].run' 2
expect_exit 2 "$TG_BIN" history "$H" --state cpu
expect_in "$ERR" "expected BACKEND/MA"
expect_exit 1 "$TG_BIN" history "$H" --mark 99:good
expect_in "$ERR" "no run 99"
printf 'not a database at all, really not\n' >"$TG_WORK/junk.db"
expect_exit 1 "$TG_BIN" history "$TG_WORK/junk.db"
expect_in "$ERR" "junk.db"
# a history that is not there is an error, and nothing is created
expect_exit 1 "$TG_BIN" history "$TG_WORK/nope.db"
expect_in "$ERR" "nope.db"
[ ! -e "$TG_WORK/nope.db" ] || fail "history created $TG_WORK/nope.db"

# report.html: self-contained (no script, nothing fetched), with the trend
R="$B/report.html"
[ -s "$R" ] || fail "no report.html"
expect_in "$R" "<h2>Trend</h2>"
expect_in "$R" "<polyline"
expect_not_in "$R" "<script"
! grep -qE '(src|href)="https?:' "$R" || fail "report.html fetches from the network"
if ! command -v chromium >/dev/null 2>&1; then
	echo "chromium not installed (scripts/bootstrap.sh installs it): browser check skipped"
	exit 0
fi
# a real browser loads it and takes a screenshot
timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1280,2000 --screenshot="$TG_WORK/report.png" \
	--enable-logging=stderr --v=0 "file://$R" >"$TG_WORK/chromium.log" 2>&1 ||
	{ cat "$TG_WORK/chromium.log"; fail "chromium could not render report.html"; }
[ -s "$TG_WORK/report.png" ] || fail "no screenshot"
head -c 8 "$TG_WORK/report.png" | od -An -tx1 | grep -q "89 50 4e 47" || fail "the screenshot is not a PNG"
size=$(wc -c <"$TG_WORK/report.png")
[ "$size" -gt 20000 ] || fail "the screenshot is nearly empty ($size bytes)"
! grep -E "CONSOLE|Uncaught|Failed to load resource|ERR_FILE_NOT_FOUND" "$TG_WORK/chromium.log" ||
	fail "the browser reported errors loading report.html"
echo "screenshot: $TG_WORK/report.png ($size bytes)"
