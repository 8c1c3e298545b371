#!/usr/bin/env bash
# Fuzzes every reader of a file we did not write (tests/fuzz) with
# libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer, from the
# seed corpus tests/fuzz/corpus/<target> (test files and every crash found
# so far), and fails on any crash, leak or sanitizer report.
#
#   scripts/fuzz.sh                       # each target TG_FUZZ_SECONDS (default 20)
#   TG_FUZZ_TARGETS="csv folded" TG_FUZZ_SECONDS=600 scripts/fuzz.sh
#
# New inputs go to build/fuzz/work/<target> (the tree is not touched); a
# crash leaves its input in build/fuzz/crashes/<target>/: reproduce it with
# build/fuzz/tests/fuzz/fuzz_<target> <file>, fix it, and add the file to
# tests/fuzz/corpus/<target>/ as regression-<what>.<ext> (the replay tests
# run it in every build from then on).
set -euo pipefail
cd "$(dirname "$0")/.."
root=${BUILD_ROOT:-build}
dir="$root/fuzz"
secs=${TG_FUZZ_SECONDS:-20}
# every target tests/fuzz/CMakeLists.txt defines (name:library pairs): one list
all=$(sed -n 's/^set(tg_fuzz_targets \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt | tr ' ' '\n' | cut -d: -f1 | paste -sd' ' -)
[ -n "$all" ] || { echo "fuzz: no targets found in tests/fuzz/CMakeLists.txt" >&2; exit 1; }
targets=${TG_FUZZ_TARGETS:-$all}
CC=clang CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_FUZZ=ON \
	-DTG_WITH_CUDA=OFF -DTG_WITH_RUST=OFF -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON >"$dir.log" 2>&1 ||
	{ cat "$dir.log"; exit 1; }
# shellcheck disable=SC2046
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" --target $(printf 'fuzz_%s ' $targets) >>"$dir.log" 2>&1 ||
	{ tail -50 "$dir.log"; exit 1; }
failed=0
for t in $targets; do
	work="$dir/work/$t" crashes="$dir/crashes/$t"
	mkdir -p "$work" "$crashes"
	log="$dir/fuzz_$t.log"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$dir/tests/fuzz/fuzz_$t" "$work" "tests/fuzz/corpus/$t" -max_total_time="$secs" \
		-timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$crashes/" \
		>"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz $t: ${runs:-?} inputs in ${secs} s, no crash (corpus $(ls "$work" | wc -l) new)"
	else
		echo "fuzz $t: FAILED; the input is in $crashes/" >&2
		grep -E 'ERROR|SUMMARY|fuzz:|runtime error' "$log" | head -20 >&2 || tail -30 "$log" >&2
		failed=1
	fi
done
exit $failed
