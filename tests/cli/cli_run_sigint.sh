# Ctrl-C during `run`: partial results are written and marked incomplete.
. "$(dirname "$0")/lib.sh"
R="$TG_WORK/r"
"$TG_BIN" run --symbols 50 --bars 5000 --reps 100000 --warmup 0 --threads 1 --out "$R" >"$OUT" 2>"$ERR" &
pid=$!
# the run directory appears before the host copy benchmark (~0.1-1 s on a
# loaded machine); interrupt well into the repetitions
for _ in $(seq 1 100); do
	sleep 0.1
	grep -q . "$R/results.json" 2>/dev/null && break
	[ -d "$R" ] && sleep 2 && break
done
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
