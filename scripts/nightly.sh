#!/usr/bin/env bash
# The nightly runner: from a clean tree, build, run the whole test suite
# (the gpu label included), a fixed benchmark matrix and a --profile both
# run, append every run to the history, compare each with the last good run
# of the same workload on this host, and write a summary next to the runs'
# report.html pages.
#
#   scripts/nightly.sh [OUTDIR]
#
# Thresholds, matrix and budgets come from scripts/nightly.conf (the one
# place; the workflow sets none of them). Environment:
#   TG_NIGHTLY_HISTORY=FILE.db   the history (default: $HOME/.trendgpu-bench/nightly.db)
#   TG_NIGHTLY_THRESHOLD=PCT     override the conf's threshold for this night
#   TG_NIGHTLY_QUICK=1           the quick matrix and rule of the conf (smoke runs, tests)
#   TG_NIGHTLY_STEPS="tests bench profile"   the steps to run (default: all three)
#   TG_NIGHTLY_BUILD=DIR         use this existing build instead of a clean one (tests)
#   TG_NIGHTLY_CTEST_ARGS="..."  extra ctest arguments (e.g. -L unit)
#   TG_NIGHTLY_INJECT="SIZE=BACKEND:PCT ..."  testing the verdicts: that size's runs
#                                (and its re-run) made PCT% slower on purpose
#                                (TG_INJECT_SLOWDOWN; recorded in their params)
#   TG_SKIP_BOOTSTRAP=1, TG_DEPS_DEBS, TG_RUST_LIB   as for scripts/gpu-check.sh
# Each size is compared with the newest good run of its workload on this
# host; a suspected regression is measured again, and it is confirmed only
# when the re-run regresses in the same states. Only the runs that regressed
# are marked `regression` in the history.
# Works on machines without a GPU: the GPU parts are skipped and the summary
# says so. Exit status: 0 all good; 1 a test failed or a step broke; 3 a
# confirmed performance regression (and no test failure).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/nightly-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
history=${TG_NIGHTLY_HISTORY:-${HOME:-/root}/.trendgpu-bench/nightly.db}
mkdir -p "$(dirname "$history")"
# shellcheck source=nightly.conf
. "$root/scripts/nightly.conf"
if [ -n "${TG_NIGHTLY_QUICK:-}" ]; then
	kind=quick
	threshold=${TG_NIGHTLY_THRESHOLD:-$TG_NIGHTLY_THRESHOLD_QUICK}
	read -r -a sizes <<<"$TG_NIGHTLY_SIZES_QUICK"
	read -r -a rule <<<"$TG_NIGHTLY_RULE_QUICK"
	read -r -a profile_args <<<"$TG_NIGHTLY_PROFILE_QUICK"
else
	kind=full
	threshold=${TG_NIGHTLY_THRESHOLD:-$TG_NIGHTLY_THRESHOLD_FULL}
	read -r -a sizes <<<"$TG_NIGHTLY_SIZES_FULL"
	read -r -a rule <<<"$TG_NIGHTLY_RULE_FULL"
	read -r -a profile_args <<<"$TG_NIGHTLY_PROFILE_FULL"
fi
steps=" ${TG_NIGHTLY_STEPS:-tests bench profile} "
has_step() { [[ "$steps" == *" $1 "* ]]; }
summary="$out/summary.md"
log="$out/nightly.log"
exec > >(tee -a "$log") 2>&1
tests_failed=0
broken=0
regressions=0
step() { echo; echo "== $*"; }
note() { echo "$*" >>"$summary"; }

{
	echo "# trendgpu-bench nightly $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "- host: $(hostname), commit $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
	echo "- history: \`$history\`; $kind matrix; regression threshold ${threshold}% plus compare's drift allowance (scripts/nightly.conf)"
} >"$summary"

step "dependencies"
if [ -n "${TG_SKIP_BOOTSTRAP:-}" ]; then
	echo "bootstrap skipped (TG_SKIP_BOOTSTRAP)"
elif ! "$root/scripts/bootstrap.sh"; then
	echo "bootstrap could not install packages: continuing with what is here"
fi
if [ -n "${TG_DEPS_DEBS:-}" ]; then
	eval "$("$root/scripts/offline-deps.sh" env "$TG_DEPS_DEBS")"
fi
export PATH="${HOME:-/root}/.cargo/bin:$PATH"

if [ -n "${TG_NIGHTLY_BUILD:-}" ]; then
	step "build: reusing $TG_NIGHTLY_BUILD (TG_NIGHTLY_BUILD)"
	build=$(cd "$TG_NIGHTLY_BUILD" && pwd)
	note "- build: reused \`$build\` (not a clean tree)"
else
	step "build from a clean tree"
	src="$out/src"
	rm -rf "$src"
	if [ -n "$(git -C "$root" status --porcelain 2>/dev/null)" ]; then
		echo "warning: uncommitted changes are not part of the nightly build"
	fi
	git clone --quiet --no-local "$root" "$src" || { echo "clone failed"; exit 1; }
	build="$src/build"
	args=(-DCMAKE_BUILD_TYPE=Release)
	[ -n "${TG_RUST_LIB:-}" ] && args+=("-DTG_RUST_LIB=$(realpath "$TG_RUST_LIB")")
	if ! cmake -S "$src" -B "$build" "${args[@]}" >"$out/configure.log" 2>&1 ||
		! cmake --build "$build" -j "$(nproc)" >"$out/build.log" 2>&1; then
		tail -40 "$out/configure.log" "$out/build.log" 2>/dev/null
		note "- **build failed** (configure.log, build.log)"
		exit 1
	fi
	note "- build: clean clone of HEAD, Release"
fi
tg="$build/trendgpu-bench"
"$tg" info >"$out/info.txt" 2>&1
gpu=0
if grep -q "^  cuda   available" "$out/info.txt"; then
	gpu=1
	note "- GPU: $(grep -A1 '^  cuda   available' "$out/info.txt" | tail -1 | sed 's/^ *//')"
else
	why=$(grep "^  cuda   unavailable" "$out/info.txt" | sed 's/^  cuda   unavailable *//')
	note "- GPU: none here (${why:-cuda backend not built}): GPU tests skipped, matrix without cuda, profile without GPU activity"
	echo "no GPU: GPU parts skipped (${why:-cuda not built})"
fi

if has_step tests; then
	step "tests (ctest, every label)"
	# shellcheck disable=SC2086
	(cd "$build" && ctest --output-on-failure -j "$(nproc)" -E '^cli_nightly$' ${TG_NIGHTLY_CTEST_ARGS:-}) \
		>"$out/ctest.log" 2>&1 || tests_failed=1
	tail -8 "$out/ctest.log"
	# "100% tests passed, 0 tests failed out of 24" (CTest 3) or "... passed out of 24" (CTest 4)
	passed=$(grep -oE "[0-9]+% tests passed(, [0-9]+ tests failed)? out of [0-9]+" "$out/ctest.log" | tail -1)
	skipped=$(sed -n '/The following tests did not run/,/^$/p' "$out/ctest.log" | grep -c "Skipped" || true)
	if [ "$tests_failed" = 1 ]; then
		note "- tests: **FAILED** — ${passed:-see ctest.log}"
	else
		note "- tests: ${passed:-?}, ${skipped} skipped (ctest.log)"
	fi
else
	note "- tests: not run (TG_NIGHTLY_STEPS)"
fi

backends=cpu
grep -q "^  rust   available" "$out/info.txt" && backends=$backends,rust
[ "$gpu" = 1 ] && backends=$backends,cuda
# The states compare found slower, "cpu exact" one per line, from its Markdown.
slower_states() {
	grep -F '| **slower** |' "$1" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); gsub(/ /, "", $3); print $2 " " $3}' | sort
}
# The table of compare's Markdown and its totals line.
compare_table() {
	sed -n '/^| backend | MA | base median/,/^$/p' "$1"
	grep -E '^[0-9]+ regressions?, ' "$1"
}
# The largest per-state budget of a run (seconds), "" when none recorded.
budget_of() {
	grep -oE '"budget_s": [0-9.eE+-]+' "$1" 2>/dev/null | awk '{print $2}' | sort -g | tail -1
}

run_ids=()
regressed_ids=()
details="$out/.details.md"
: >"$details"
if has_step bench; then
	step "benchmark matrix: $backends x exact,approx x ${#sizes[@]} sizes (${rule[*]})"
	{
		echo
		echo "## Benchmarks"
		echo
		echo "Every backend x exact and approx, measured interleaved (${rule[*]}); each size compared with the newest good run of its workload here."
		echo
		echo "| workload | run | compared with | verdict | time | report |"
		echo "|---|---|---|---|---|---|"
	} >>"$summary"
fi
for size in "${sizes[@]}"; do
	has_step bench || break
	symbols=${size%x*}
	bars=${size#*x}
	name="bench-$size"
	dir="$out/$name"
	t0=$(date +%s)
	unset TG_INJECT_SLOWDOWN
	for inj in ${TG_NIGHTLY_INJECT:-}; do
		[ "${inj%%=*}" = "$size" ] && export TG_INJECT_SLOWDOWN="${inj#*=}"
	done
	if ! "$tg" run --backends "$backends" --ma exact,approx --symbols "$symbols" --bars "$bars" "${rule[@]}" \
		--history "$history" --out "$dir" --quiet >"$out/$name.log" 2>&1; then
		broken=1
		note "| $size | **failed** ($name.log) | | | | |"
		continue
	fi
	took="$(($(date +%s) - t0)) s"
	budget=$(budget_of "$dir/results.json")
	[ -n "$budget" ] && took="$took (budget $(printf '%.0f' "$budget") s per state)"
	id=$(sed -n 's/^history: run \([0-9]*\) appended.*/\1/p' "$out/$name.log")
	run_ids+=("$id")
	base=$("$tg" history "$history" --last-good-for "$id" 2>/dev/null)
	{
		echo
		echo "### $size"
		echo
	} >>"$details"
	if [ -z "$base" ] || [ ! -f "$base/results.json" ]; then
		verdict="no earlier good run: baseline"
		cmp_with="-"
		{
			echo "Baseline (no earlier good run). Medians and paired ratios:"
			echo
			sed -n '/^| backend | MA | threads | median/,/^$/p' "$dir/summary.md"
			sed -n '/^## Paired comparisons/,/^## /p' "$dir/summary.md" | grep '^- '
		} >>"$details"
	else
		cmp_with="\`$base\`"
		"$tg" compare "$base/results.json" "$dir/results.json" --threshold "$threshold" \
			--history "$history" --json "$dir/compare.json" -o "$dir/compare.md" >/dev/null 2>"$dir/compare.log"
		rc=$?
		# what could not be judged is said, not hidden behind "no regression"
		unsure=$(grep -oE '[0-9]+ noisy, [0-9]+ not judged' "$dir/compare.md" 2>/dev/null | head -1)
		case $unsure in "0 noisy, 0 not judged" | "") unsure="" ;; *) unsure=" ($unsure)" ;; esac
		case $rc in
		0) verdict="no regression$unsure" ;;
		3)
			# suspected: measure again, and count only what regresses twice
			first=$(slower_states "$dir/compare.md")
			"$tg" run --backends "$backends" --ma exact,approx --symbols "$symbols" --bars "$bars" \
				"${rule[@]}" --out "$dir-confirm" --quiet >"$out/$name-confirm.log" 2>&1 &&
				"$tg" compare "$base/results.json" "$dir-confirm/results.json" --threshold "$threshold" \
					--history "$history" -o "$dir/compare-confirm.md" >/dev/null 2>&1
			again=$(slower_states "$dir/compare-confirm.md")
			both=$(comm -12 <(echo "$first") <(echo "$again") | grep -v '^$' | paste -sd, - | sed 's/,/, /g')
			if [ -n "$both" ]; then
				verdict="**regression** (confirmed by a re-run: $both)"
				regressions=$((regressions + 1))
				regressed_ids+=("$id")
			else
				verdict="suspected ($(echo "$first" | paste -sd, - | sed 's/,/, /g')), not confirmed: the re-run was within the allowance"
			fi
			;;
		*) verdict="compare failed ($name/compare.log)"; broken=1 ;;
		esac
		{
			echo "Compared with \`$base\`: $verdict."
			echo
			[ -f "$dir/compare.md" ] && grep -E '^- a change counts beyond|^- \*\*every backend' "$dir/compare.md"
			echo
			[ -f "$dir/compare.md" ] && compare_table "$dir/compare.md"
			if [ -f "$dir/compare-confirm.md" ]; then
				echo
				echo "The re-run ([compare-confirm.md]($name/compare-confirm.md)):"
				echo
				compare_table "$dir/compare-confirm.md"
			fi
		} >>"$details"
	fi
	note "| $size | $id | $cmp_with | $verdict | $took | [report.html]($name/report.html) |"
	echo "$size: run $id, $verdict"
done
unset TG_INJECT_SLOWDOWN
cat "$details" >>"$summary"
rm -f "$details"

if has_step profile; then
	step "profile: --profile both"
	pdir="$out/profile"
	if "$tg" run --backends "$backends" "${profile_args[@]}" --profile both --out "$pdir" \
		--quiet >"$out/profile.log" 2>&1; then
		gpu_line=$(sed -n 's/^GPU activity \(.*\)\.$/\1/p' "$pdir/summary.md" | head -1)
		note ""
		note "## Profile"
		note ""
		note "- [trace.json](profile/trace.json), [cpu.svg](profile/cpu.svg), [report.html](profile/report.html)"
		note "- GPU activity: ${gpu_line:-see profile/summary.md}"
	else
		broken=1
		note "- **profile run failed** (profile.log)"
	fi
fi

status=good
[ "$regressions" -gt 0 ] && status=regression
[ "$tests_failed" = 1 ] || [ "$broken" = 1 ] && status=failed
# only the runs that regressed are marked so; a night whose tests failed is
# no baseline for the next
for id in "${run_ids[@]}"; do
	mark=good
	[ "$tests_failed" = 1 ] || [ "$broken" = 1 ] && mark=failed
	for r in "${regressed_ids[@]}"; do
		[ "$r" = "$id" ] && mark=regression
	done
	"$tg" history "$history" --mark "$id:$mark" >/dev/null 2>&1 || true
done
note ""
note "**status: $status** — test failures: $tests_failed, broken steps: $broken, confirmed regressions: $regressions"
step "done: $status (summary: $summary)"
[ "$tests_failed" = 1 ] || [ "$broken" = 1 ] && exit 1
[ "$regressions" -gt 0 ] && exit 3
exit 0
