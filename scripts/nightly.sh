#!/usr/bin/env bash
# The nightly runner: from a clean tree, build, run the whole test suite
# (the gpu label included), a fixed benchmark matrix and a --profile both
# run, append every run to the history, compare each with the last good run
# of the same workload on this host, and write a summary next to the runs'
# report.html pages.
#
#   scripts/nightly.sh [OUTDIR]
#
# Environment:
#   TG_NIGHTLY_HISTORY=FILE.db   the history (default: $HOME/.trendgpu-bench/nightly.db)
#   TG_NIGHTLY_THRESHOLD=PCT     regression threshold of compare (default 3; 25 when quick)
#   TG_NIGHTLY_QUICK=1           a small matrix and short measurements (smoke runs, tests)
#   TG_NIGHTLY_BUILD=DIR         use this existing build instead of a clean one (tests)
#   TG_NIGHTLY_CTEST_ARGS="..."  extra ctest arguments (e.g. -L unit)
#   TG_SKIP_BOOTSTRAP=1, TG_DEPS_DEBS, TG_RUST_LIB   as for scripts/gpu-check.sh
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
# quick nights measure tiny workloads briefly: only large changes are news
threshold=${TG_NIGHTLY_THRESHOLD:-$([ -n "${TG_NIGHTLY_QUICK:-}" ] && echo 25 || echo 3)}
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
	echo "- history: \`$history\`, regression threshold ${threshold}%"
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

backends=cpu
grep -q "^  rust   available" "$out/info.txt" && backends=$backends,rust
[ "$gpu" = 1 ] && backends=$backends,cuda
if [ -n "${TG_NIGHTLY_QUICK:-}" ]; then
	sizes=("8 600" "32 1500")
	rule=(--reps 10 --warmup 1)
else
	sizes=("20 1500" "500 10000" "5000 1500")
	rule=(--max-time 20)
fi

step "benchmark matrix: $backends x exact,approx x ${#sizes[@]} sizes"
{
	echo
	echo "## Benchmarks"
	echo
	echo "| workload | run | compared with | verdict | report |"
	echo "|---|---|---|---|---|"
} >>"$summary"
run_ids=()
for size in "${sizes[@]}"; do
	set -- $size
	name="bench-${1}x$2"
	dir="$out/$name"
	if ! "$tg" run --backends "$backends" --ma exact,approx --symbols "$1" --bars "$2" "${rule[@]}" \
		--history "$history" --out "$dir" --quiet >"$out/$name.log" 2>&1; then
		broken=1
		note "| ${1}x$2 | **failed** ($name.log) | | | |"
		continue
	fi
	id=$(sed -n 's/^history: run \([0-9]*\) appended.*/\1/p' "$out/$name.log")
	run_ids+=("$id")
	base=$("$tg" history "$history" --last-good-for "$id" 2>/dev/null)
	if [ -z "$base" ] || [ ! -f "$base/results.json" ]; then
		verdict="no earlier good run: baseline"
		cmp_with="-"
	else
		cmp_with="\`$base\`"
		"$tg" compare "$base/results.json" "$dir/results.json" --threshold "$threshold" \
			--json "$dir/compare.json" -o "$dir/compare.md" >/dev/null 2>&1
		rc=$?
		case $rc in
		0) verdict="no regression" ;;
		3) verdict="**regression**"; regressions=$((regressions + 1)) ;;
		*) verdict="compare failed"; broken=1 ;;
		esac
	fi
	note "| ${1}x$2 | $id | $cmp_with | $verdict | [report.html]($name/report.html) |"
	echo "${1}x$2: run $id, $verdict"
done

step "profile: --profile both"
pdir="$out/profile"
psize=(--symbols 64 --bars 1500)
[ -n "${TG_NIGHTLY_QUICK:-}" ] && psize=(--symbols 8 --bars 600)
if "$tg" run --backends "$backends" "${psize[@]}" --reps 5 --warmup 1 --profile both --out "$pdir" \
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

status=good
[ "$regressions" -gt 0 ] && status=regression
[ "$tests_failed" = 1 ] || [ "$broken" = 1 ] && status=failed
for id in "${run_ids[@]}"; do
	"$tg" history "$history" --mark "$id:$status" >/dev/null 2>&1 || true
done
note ""
note "**status: $status** — test failures: $tests_failed, broken steps: $broken, confirmed regressions: $regressions"
step "done: $status (summary: $summary)"
[ "$tests_failed" = 1 ] || [ "$broken" = 1 ] && exit 1
[ "$regressions" -gt 0 ] && exit 3
exit 0
