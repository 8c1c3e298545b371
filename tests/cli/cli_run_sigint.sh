# Ctrl-C during `run`: partial results are written and marked incomplete.
. "$(dirname "$0")/lib.sh"
R="$TG_WORK/r"
TG_LOG_LEVEL=info "$TG_BIN" run --symbols 20 --bars 1500 --reps 100000 --warmup 0 --threads 1 --out "$R" >"$OUT" 2>"$ERR" &
pid=$!
# interrupt once the repetitions run (the info log says so: the host copy
# benchmark before them takes ~1 s, several on a loaded machine), a few
# repetitions (~15 ms each, ~100 ms when loaded) into them
for _ in $(seq 1 600); do
	grep -q "measuring" "$ERR" 2>/dev/null && break
	sleep 0.1
done
grep -q "measuring" "$ERR" || fail "the repetitions did not start in 60 s"
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
[ "$rc" = 1 ] || fail "interrupted run exited $rc, expected 1"
expect_in "$ERR" "interrupted; writing partial results"
expect_json "$R/results.json" .complete false
expect_json "$R/results.json" .incomplete_reason "interrupted by SIGINT"
n=$("$TG_JQ" "$R/results.json" 'length(.states[0].wall_ns.samples)')
[ "$n" -ge 1 ] && [ "$n" -lt 100000 ] || fail "expected some samples, got $n"
expect_in "$R/summary.md" "**Incomplete run**"
