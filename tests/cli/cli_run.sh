# `run` end to end: table, results.json, summary.md, data directories,
# unavailable backends, bad options.
. "$(dirname "$0")/lib.sh"
R="$TG_WORK/r1"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 4 --bars 400 --reps 3 --warmup 1 --threads 2 --out "$R"
for s in "backend MA" "cpu    exact" "cpu    approx" "paired over 3 rounds" \
	"accuracy of approx vs exact (cpu)" "Average_Signal: sign agreement" "results: $R/results.json" \
	"final signal (LONG/SHORT/none at the last bar) differs in" "of 4 symbols"; do
	expect_in "$OUT" "$s"
done
expect_json "$R/results.json" '.accuracy[0].decision.symbols' 4
expect_in "$R/summary.md" "**The decision** (spec §10: LONG / SHORT / none at the last bar)"
expect_in "$R/report.html" "<b>The decision</b>"
# the approx-vs-exact ratio: faster, or (3 rounds on a busy machine) no clear difference
grep -qE "^  cpu approx (is [0-9.]+x \[[0-9.]+, [0-9.]+\] faster than cpu exact|and cpu exact: no clear difference)" "$OUT" ||
	fail "no paired ratio of cpu approx against cpu exact"
J="$R/results.json"
expect_json "$J" .schema trendgpu-bench/results
expect_json "$J" .schema_version 2
expect_json "$J" .complete true
expect_json "$J" 'length(.states)' 2
expect_json "$J" '.states[0].backend' cpu
expect_json "$J" '.states[0].ma' exact
expect_json "$J" '.states[1].ma' approx
# the instruction set each backend ran with, in results.json and info
isa=$("$TG_JQ" "$J" '.states[0].isa')
# the walk that ran: the widest the CPU has, named with what the CPU has
case $isa in
"AVX-512F (no FMA), 8 symbols per group, one per lane (4 or fewer in AVX2) (the CPU has "*AVX-512F*) ;;
"AVX2 (no FMA), 4 symbols per group, one per lane (the CPU has "*AVX2*)
	! grep -q " avx512f " /proc/cpuinfo || fail "AVX-512F here, but states[0].isa is '$isa'" ;;
"SSE"*", 2 symbols per group, one per lane (the CPU has "* | "NEON, 2 symbols per group"*)
	! grep -q " avx2 " /proc/cpuinfo || fail "AVX2 here, but states[0].isa is '$isa'" ;;
*) fail "states[0].isa is '$isa'" ;;
esac
TG_CPU_SIMD=scalar "$TG_BIN" info --json >"$TG_WORK/info-scalar.json"
isa=$("$TG_JQ" "$TG_WORK/info-scalar.json" '.backends[0].isa')
case $isa in "scalar C, one symbol at a time (the CPU has "*) ;; *) fail "TG_CPU_SIMD=scalar: isa '$isa'" ;; esac
"$TG_BIN" info | grep -qE "instruction set: (AVX-512F|AVX2|SSE|NEON|scalar C)" || fail "info does not name the cpu backend's instruction set"
expect_json "$J" '.states[0].threads' 2
expect_json "$J" 'length(.states[0].wall_ns.samples)' 3
expect_json "$J" '.states[0].bar_mas_per_rep' 86400
# throughput counts the MAs computed: approx has one per family (6 a bar)
expect_json "$J" '.states[1].ma' approx
expect_json "$J" '.states[1].mas_per_bar' 6
expect_json "$J" '.states[1].bars_per_rep' 1600
expect_json "$J" '.states[1].bar_mas_per_rep' 9600
expect_in "$OUT" "bar*MA counts the MA updates computed: 54 per bar exact"
# the approx MA against each of the nine exact slots, in length order
expect_json "$J" 'length(.accuracy[0].families.EMA.slots)' 9
expect_json "$J" '.accuracy[0].families.EMA.slots[0].length' 22
expect_json "$J" '.accuracy[0].families.EMA.slots[4].slot' 0
expect_json "$J" '.accuracy[0].families.EMA.slots[4].length' 28
expect_json "$J" '.accuracy[0].families.EMA.slots[8].length' 34
expect_json "$J" '.accuracy[0].families.LSMA.l1_signal_finite.no_better_than_chance' true
expect_json "$J" '.accuracy[0].families.EMA.l1_signal_finite.no_better_than_chance' false
expect_in "$R/summary.md" "**no better than chance**"
expect_json "$J" .params.symbols 4
expect_json "$J" .params.robustness medium
expect_json "$J" '.accuracy[0].backend' cpu
expect_json "$J" 'length(.accuracy[0].families)' 6
expect_json "$J" '.accuracy[0].bars' 1600
expect_json "$J" '.speedup_approx_vs_exact[0].backend' cpu
"$TG_JQ" "$J" .machine.cpu_model .build.version .build.features.cuda.built >/dev/null || fail "machine/build info"
expect_in "$R/summary.md" "## Timing"
expect_in "$R/summary.md" "## Accuracy of approximate vs exact (cpu backend, 1600 bars)"

# default run directory under TG_PROFILES_DIR, exact only, quiet
expect_exit 0 "$TG_BIN" run --symbols 2 --bars 200 --reps 2 --warmup 0 --ma exact --quiet
dir=$(ls -d "$TG_PROFILES_DIR"/run-* | head -1)
[ -f "$dir/results.json" ] || fail "no results.json under $TG_PROFILES_DIR"
expect_json "$dir/results.json" 'length(.accuracy)' 0
expect_not_in "$OUT" "backend MA"

# real data from a directory of CSV files
mkdir -p "$TG_WORK/data"
for s in AAA BBB; do
	{ echo "timestamp,open,high,low,close,volume"
	  awk -v s=$RANDOM 'BEGIN { srand(s); p = 100; for (i = 0; i < 300; i++) { p *= 1 + (rand() - 0.5) / 50; printf "%d,1,1,1,%.6f,10\n", i, p } }'
	} >"$TG_WORK/data/$s.csv"
done
expect_exit 0 "$TG_BIN" run --data "$TG_WORK/data" --reps 2 --warmup 0 --out "$TG_WORK/r2"
expect_json "$TG_WORK/r2/results.json" .params.symbols 2
expect_json "$TG_WORK/r2/results.json" .params.data "$TG_WORK/data"
# without --backends: every backend built in, in info's order; the ones
# that cannot run here are reported and skipped
built=$("$TG_BIN" info | awk '/^backends:/ { on = 1; next } on && NF == 0 { exit } on && ($2 == "available" || $2 == "unavailable") { printf "%s%s", sep, $1; sep = "," }')
expect_json "$TG_WORK/r2/results.json" .params.backends "$built"
expect_json "$TG_WORK/r2/results.json" '.states[0].available' true
# two backends with the same accuracy: one table naming both
if "$TG_BIN" info | grep -q "^  rust .*  available"; then
	expect_exit 0 "$TG_BIN" run --backends cpu,rust --symbols 4 --bars 300 --reps 2 --warmup 0 \
		--out "$TG_WORK/acc2"
	expect_in "$OUT" "accuracy of approx vs exact (cpu and rust: identical):"
	expect_not_in "$OUT" "accuracy of approx vs exact (rust)"
	expect_in "$TG_WORK/acc2/summary.md" "## Accuracy of approximate vs exact (cpu and rust backends: identical,"
fi
# --symbols and --bars with --data: the first N symbols in name order, the
# last B bars of each (they were ignored); a newest-first file is reversed
# with a warning; the workload line gives the bars' spread
{ echo "Date,Open,High,Low,Close,Volume"
  awk 'BEGIN { srand(7); p = 100; for (i = 399; i >= 0; i--) { p *= 1 + (rand() - 0.5) / 50; printf "%d-%02d-%02d,1,1,1,%.6f,10\n", 2020 + int(i / 336), 1 + int(i % 336 / 28), 1 + i % 28, p } }'
} >"$TG_WORK/data/DDD.csv"
expect_exit 0 "$TG_BIN" run --data "$TG_WORK/data" --symbols 2 --bars 250 --reps 2 --warmup 0 \
	--backends cpu --ma exact --out "$TG_WORK/data-r3"
expect_in "$OUT" "workload: 2 symbols x 250 bars ($TG_WORK/data)"
expect_in "$OUT" "data: 2 of the 3 files (in name order)"
expect_in "$OUT" "data: the last 250 bars of each series (2 of 2 were longer)"
expect_json "$TG_WORK/data-r3/results.json" .params.symbols 2
expect_json "$TG_WORK/data-r3/results.json" .params.max_bars 250
expect_json "$TG_WORK/data-r3/results.json" .params.data_files 3
expect_exit 0 "$TG_BIN" run --data "$TG_WORK/data" --select 'D*' --reps 2 --warmup 0 \
	--backends cpu --ma exact --out "$TG_WORK/data-r4"
expect_in "$ERR" "DDD.csv': its rows are newest first; reversed to oldest first"
expect_in "$OUT" "data: 1 file was newest first: reversed to oldest first"
expect_in "$OUT" "workload: 1 symbols x 400 bars"
expect_json "$TG_WORK/data-r4/results.json" .params.data_reversed_files 1
# days 1-28 of each month: a gap at every new month but March 2021 (Feb has 28 days)
expect_json "$TG_WORK/data-r4/results.json" .params.data_gaps 13
expect_exit 0 "$TG_BIN" run --data "$TG_WORK/data" --reps 2 --warmup 0 --backends cpu --ma exact \
	--out "$TG_WORK/data-r5"
expect_in "$OUT" "workload: 3 symbols, 300-400 bars (median 300; 1000 bar-symbols)"
# --timeframe resamples (1 d bars of daily data: the same bars, the last
# interval whole), a finer one is refused; --price adj-close needs the column
expect_exit 0 "$TG_BIN" run --data "$TG_WORK/data" --select 'D*' --timeframe 1d --reps 2 \
	--warmup 0 --backends cpu --ma exact --out "$TG_WORK/data-r7"
expect_in "$OUT" "data: resampled to 1 d bars (close: the interval's last): 400 bars before; the last interval is partial in 0 of 1 symbols"
expect_json "$TG_WORK/data-r7/results.json" .params.data_timeframe "1 d"
expect_exit 1 "$TG_BIN" run --data "$TG_WORK/data" --select 'D*' --timeframe 1h --reps 2 \
	--out "$TG_WORK/data-r8"
expect_in "$ERR" "its bars are 1 d apart; --timeframe 1 h cannot make finer ones"
expect_exit 1 "$TG_BIN" run --data "$TG_WORK/data" --select 'D*' --price adj-close --reps 2 \
	--out "$TG_WORK/data-r9"
expect_in "$ERR" "--price adj-close, but the header has no adjusted close column"
expect_exit 2 "$TG_BIN" run --timeframe 1h
expect_in "$ERR" "--timeframe is about --data: give --data PATH too"
expect_exit 2 "$TG_BIN" run --data "$TG_WORK/data" --timeframe 90x
expect_in "$ERR" "--timeframe: expected a bar size such as 15m, 1h, 4h or 1d, got '90x'"
expect_exit 1 "$TG_BIN" run --data "$TG_WORK/data" --symbols 5 --reps 2 --out "$TG_WORK/data-r6"
expect_in "$ERR" "--symbols 5, but it holds 3 symbols; give at most 3"

# a backend asked for by name that is not built or not usable is reported,
# the others still run, and the run fails; with `all` it is only skipped
want=0
for b in cuda rust; do
	"$TG_BIN" info | grep -q "^  $b .*  available" || want=1
done
expect_exit $want "$TG_BIN" run --backends cpu,cuda,rust --symbols 2 --bars 200 --reps 1 --warmup 0 --out "$TG_WORK/r3"
for b in cuda rust; do
	if ! "$TG_BIN" info | grep -q "^  $b .*  available"; then
		expect_in "$ERR" "backend $b skipped"
		expect_in "$ERR" "backend $b was asked for and could not run"
	fi
done
expect_json "$TG_WORK/r3/results.json" '.states[0].available' true
if ! "$TG_BIN" info | grep -q "^  cuda .*  available"; then
	# nothing at all measured fails too
	expect_exit 1 "$TG_BIN" run --backends cuda --symbols 2 --bars 200 --reps 1 --warmup 0 --out "$TG_WORK/r3c"
	expect_in "$ERR" "nothing was measured"
fi

# --out naming a run directory again: refused (its old flame graphs would
# end up in the new report) unless --force, which clears its outputs first
: >"$TG_WORK/r3/cpu-stale.svg"
expect_exit 1 "$TG_BIN" run --backends cpu --symbols 2 --bars 200 --reps 1 --warmup 0 --out "$TG_WORK/r3"
expect_in "$ERR" "holds a run already"
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 2 --bars 200 --reps 1 --warmup 0 --out "$TG_WORK/r3" --force
[ ! -e "$TG_WORK/r3/cpu-stale.svg" ] || fail "--force left an old flame graph"

# options without a command are run's; a mistyped command gets a guess
expect_exit 0 "$TG_BIN" --backends cpu --symbols 2 --bars 200 --reps 1 --warmup 0 --quiet --out "$TG_WORK/nocmd"
[ -f "$TG_WORK/nocmd/results.json" ] || fail "options without a command did not run"
expect_exit 2 "$TG_BIN" rnu
expect_in "$ERR" "unknown command 'rnu'; did you mean 'run'?"

# the host roof is measured once per machine, then taken from the cache
expect_in "$TG_WORK/nocmd/results.json" "(cached)"
ls "$TG_CACHE_DIR"/host-copy-*-threads.txt >/dev/null || fail "no cached host roof in $TG_CACHE_DIR"
# --roofline measures it afresh (and refreshes the cache)
expect_exit 0 "$TG_BIN" run --backends cpu --symbols 2 --bars 200 --reps 1 --warmup 0 --quiet --roofline --out "$TG_WORK/fresh"
expect_not_in "$TG_WORK/fresh/results.json" "(cached)"
expect_in "$TG_WORK/fresh/results.json" "host memcpy of"

# a full disk or a closed pipe on stdout is an error, not a silent success
expect_stdout_checked "$TG_BIN" run --backends cpu --symbols 2 --bars 200 --reps 1 --warmup 0 --out "$TG_WORK/full" --force
expect_stdout_checked "$TG_BIN" info
expect_stdout_checked "$TG_BIN" run --help

# --max-time: seconds or auto (which plans from the warm-ups)
expect_exit 2 "$TG_BIN" run --max-time abc
expect_in "$ERR" "--max-time: expected seconds (0.001 to 1e6) or auto, got 'abc'"
expect_exit 2 "$TG_BIN" run --max-time auto --warmup 0
expect_in "$ERR" "--max-time auto plans from the warm-ups"
expect_exit 0 "$TG_BIN" run --backends cpu --ma exact --symbols 2 --bars 200 --warmup 1 --max-time auto --min-reps 5 --out "$TG_WORK/auto"
expect_in "$OUT" "per state, planned)"
expect_json "$TG_WORK/auto/results.json" '.params.max_time_s' auto
# a budget too short for the repetitions a verdict needs: said, with the fix
expect_exit 0 "$TG_BIN" run --backends cpu --ma exact --symbols 200 --bars 2000 --warmup 1 --max-time 0.05 --out "$TG_WORK/short"
expect_in "$OUT" "repetitions in its 0.05 s budget (10 wanted"
expect_in "$TG_WORK/short/summary.md" "or --max-time auto"

# --ma with a mode given twice, as the third item (it wrote past the modes)
expect_exit 2 "$TG_BIN" run --ma exact,approx,exact
expect_in "$ERR" "'exact' is given twice"

# bad options and data
expect_exit 2 "$TG_BIN" run --backends cpu,gpu
expect_in "$ERR" "unknown backend 'gpu'"
expect_exit 2 "$TG_BIN" run --backends cpu,cpu
expect_in "$ERR" "'cpu' is given twice"
expect_exit 2 "$TG_BIN" run --ma exact,fast
expect_in "$ERR" "'fast' is not a mode"
expect_exit 2 "$TG_BIN" run --reps 0
expect_in "$ERR" "--reps: 0 is out of range"
expect_exit 2 "$TG_BIN" run --bars 20
expect_in "$ERR" "a series of 20 bars is shorter than the longest moving average (34 bars)"
echo "close" >"$TG_WORK/data/CCC.csv"
expect_exit 1 "$TG_BIN" run --data "$TG_WORK/data"
expect_in "$ERR" "CCC.csv': a header but no data rows"
expect_exit 1 "$TG_BIN" run --out /proc/version
expect_in "$ERR" "/proc/version"

# cross-backend agreement is reported on every run with two backends
if "$TG_BIN" info | grep -q "^  rust   available"; then
	expect_exit 0 "$TG_BIN" run --backends cpu,rust --symbols 3 --bars 500 --reps 2 --warmup 0 --out "$TG_WORK/r4"
	expect_in "$OUT" "agreement rust vs cpu (exact): max |delta| 0, sign agreement 100.00%"
	expect_in "$OUT" "agreement rust vs cpu (approx): max |delta| 0, sign agreement 100.00%"
	expect_json "$TG_WORK/r4/results.json" '.agreement[0].backend' rust
	expect_json "$TG_WORK/r4/results.json" '.agreement[0].max_abs_diff' 0
	expect_json "$TG_WORK/r4/results.json" '.agreement[0].sign_agreement' 1
	expect_json "$TG_WORK/r4/results.json" 'length(.accuracy)' 2
fi
