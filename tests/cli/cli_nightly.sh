# The nightly runner on this (CPU-only in CI) machine: quick matrix, the
# existing build, two nights in a row so the second compares with the first.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
export TG_NIGHTLY_BUILD=$(dirname "$TG_BIN")
export TG_NIGHTLY_HISTORY="$TG_WORK/nightly.db"
export TG_NIGHTLY_QUICK=1
export TG_SKIP_BOOTSTRAP=1
export TG_NIGHTLY_CTEST_ARGS="-R ^test_core$"
# noise on a shared 2-core machine must not read as a regression here;
# compare's own tests check the verdicts
export TG_NIGHTLY_THRESHOLD=60
expect_exit 0 bash "$root/scripts/nightly.sh" "$TG_WORK/night1"
S="$TG_WORK/night1/summary.md"
expect_in "$S" "# trendgpu-bench nightly"
expect_in "$S" "- tests: 100% tests passed"
expect_in "$S" "| 8x600 | 1 | - | no earlier good run: baseline |"
expect_in "$S" "**status: good**"
[ -s "$TG_WORK/night1/bench-8x600/report.html" ] || fail "no report.html"
[ -s "$TG_WORK/night1/profile/trace.json" ] || fail "no profile"
if ! "$TG_BIN" info | grep -q "^  cuda   available"; then
	expect_in "$S" "- GPU: none here"
	expect_in "$OUT" "no GPU: GPU parts skipped"
fi
expect_exit 0 bash "$root/scripts/nightly.sh" "$TG_WORK/night2"
S="$TG_WORK/night2/summary.md"
expect_in "$S" "| 8x600 | 3 | \`$TG_WORK/night1/bench-8x600\` | no regression |"
expect_in "$S" "**status: good**"
[ -s "$TG_WORK/night2/bench-8x600/compare.md" ] || fail "no compare.md"
expect_exit 0 "$TG_BIN" history "$TG_NIGHTLY_HISTORY" --state cpu/exact --json
expect_json "$OUT" '.series[0].points[1].status' good
n=$("$TG_JQ" "$OUT" 'length(.series[0].points)')
[ "$n" = 2 ] || fail "expected 2 nights of 8x600 in the history, got $n"
