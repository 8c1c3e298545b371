# run --profile cpu and the flame command, end to end.
. "$(dirname "$0")/lib.sh"
xml_ok() { python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" || fail "$1 is not well-formed XML"; }
R="$TG_WORK/prof"
backends=cpu
"$TG_BIN" info | grep -q "^  rust   available" && backends=cpu,rust
expect_exit 0 "$TG_BIN" run --backends "$backends" --profile cpu --symbols 8 --bars 1500 --reps 15 --warmup 1 --out "$R"
expect_in "$OUT" "cpu profile:"
expect_in "$OUT" "profile: $R/cpu.svg (flame graph)"
for f in cpu.folded cpu.svg cpu-cpu.folded cpu-cpu.svg top.txt profile.speedscope.json maps maps.buildid samples.bin; do
	[ -s "$R/$f" ] || fail "no $f"
done
xml_ok "$R/cpu.svg"
xml_ok "$R/cpu-cpu.svg"
expect_json "$R/results.json" .profile.mode cpu
expect_json "$R/results.json" .profile.requested_hz 997
expect_json "$R/results.json" .profile.dropped 0
n=$("$TG_JQ" "$R/results.json" .profile.samples)
[ "$n" -gt 20 ] || fail "only $n samples"
expect_json "$R/profile.speedscope.json" '["$schema"]' "https://www.speedscope.app/file-format-schema.json"
# the engine's hot path is in the profile, under the backend's root frame
grep -q "^cpu;.*tg_cpu_atc_symbol" "$R/cpu.folded" || fail "tg_cpu_atc_symbol not in cpu.folded"
expect_in "$R/top.txt" "tg_cpu_atc_symbol"
expect_in "$R/summary.md" "## CPU profile"
if [ "$backends" = cpu,rust ]; then
	[ -s "$R/diff-cpu-vs-rust.svg" ] || fail "no diff-cpu-vs-rust.svg"
	xml_ok "$R/diff-cpu-vs-rust.svg"
	grep -q "^rust;.*tg_atc_rs::pipeline::run_symbol" "$R/cpu.folded" || fail "Rust frames not named"
fi

# flame: any folded file, e.g. perf script | stackcollapse-perf.pl output
printf 'perf-1;main;work 30\nperf-1;main;[unknown];do_syscall_64_[k] 4\n\nperf-1;main;work;inner 6\n' >"$TG_WORK/perf.folded"
expect_exit 0 "$TG_BIN" flame "$TG_WORK/perf.folded" -o "$TG_WORK/perf.svg" --title "perf <test>"
expect_in "$ERR" "40 samples"
xml_ok "$TG_WORK/perf.svg"
expect_in "$TG_WORK/perf.svg" "perf &lt;test&gt;"
expect_exit 0 "$TG_BIN" flame "$TG_WORK/perf.folded"
[ -s "$TG_WORK/perf.svg" ] || fail "default output name"
expect_exit 0 "$TG_BIN" flame "$TG_WORK/perf.folded" --top -o -
expect_in "$OUT" "# by self"
printf 'perf-1;main;work 10\nperf-1;main;work;inner 30\n' >"$TG_WORK/new.folded"
expect_exit 0 "$TG_BIN" flame "$TG_WORK/new.folded" --diff "$TG_WORK/perf.folded" -o "$TG_WORK/diff.svg"
xml_ok "$TG_WORK/diff.svg"
expect_in "$TG_WORK/diff.svg" "before 6 samples"
# bad input
expect_exit 2 "$TG_BIN" flame
expect_in "$ERR" "expected exactly one folded file"
expect_exit 1 "$TG_BIN" flame "$TG_WORK/missing.folded"
expect_in "$ERR" "missing.folded"
printf 'a;b 1\na;b oops\n' >"$TG_WORK/bad.folded"
expect_exit 1 "$TG_BIN" flame "$TG_WORK/bad.folded" -o "$TG_WORK/bad.svg"
expect_in "$ERR" "bad.folded:2: count 'oops'"
[ ! -e "$TG_WORK/bad.svg" ] || fail "a partial SVG was left behind"
expect_exit 2 "$TG_BIN" run --profile gpux
expect_in "$ERR" "'gpux' is not one of"
expect_exit 2 "$TG_BIN" run --profile cpu --sample-hz 0
