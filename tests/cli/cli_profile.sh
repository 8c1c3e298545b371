# run --profile cpu|gpu|both, report and the flame command, end to end.
. "$(dirname "$0")/lib.sh"
xml_ok() { python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" || fail "$1 is not well-formed XML"; }
R="$TG_WORK/prof"
backends=cpu
"$TG_BIN" info | grep -q "^  rust   available" && backends=cpu,rust
expect_exit 0 "$TG_BIN" run --backends "$backends" --profile cpu --symbols 8 --bars 1500 --reps 15 --warmup 1 --out "$R"
expect_in "$OUT" "cpu profile:"
expect_in "$OUT" "profile: $R/cpu.svg (CPU flame graph)"
expect_in "$OUT" "profile: $R/trace.json"
for f in cpu.folded cpu.svg cpu-cpu.folded cpu-cpu.svg top.txt profile.speedscope.json maps maps.buildid capture.bin trace.json; do
	[ -s "$R/$f" ] || fail "no $f"
done
xml_ok "$R/cpu.svg"
# a backend's flame graph counts its own samples, at the rate achieved
n_cpu=$(awk '{ s += $NF } END { print s }' "$R/cpu-cpu.folded")
expect_in "$R/cpu-cpu.svg" "$n_cpu samples at "
expect_in "$R/cpu-cpu.svg" " of 997 Hz requested"
# the option the checklist names exists
expect_exit 2 "$TG_BIN" run --profile cpu --sample-ring 1 --symbols 2 --bars 300 --reps 2
expect_in "$ERR" "sample-ring"
xml_ok "$R/cpu-cpu.svg"
expect_json "$R/results.json" .profile.mode cpu
expect_json "$R/results.json" .profile.requested_hz 997
expect_json "$R/results.json" .profile.dropped 0
n=$("$TG_JQ" "$R/results.json" .profile.samples)
[ "$n" -gt 20 ] || fail "only $n samples"
# every backend keeps one pool of workers for the run (the Rust backend
# started new threads every repetition: hundreds of thread tracks)
nb=$(echo "$backends" | tr ',' '\n' | wc -l)
max_threads=$((1 + nb * $(nproc)))
threads=$("$TG_JQ" "$R/results.json" .profile.threads)
[ "$threads" -le "$max_threads" ] || fail "$threads sampled threads for $nb backends on $(nproc) CPUs"
dup=$(grep -o '"name":"thread_name","args":{"name":"[^"]*"' "$R/trace.json" | sort | uniq -d | head -1)
[ -z "$dup" ] || fail "a thread named twice in trace.json: $dup"
expect_json "$R/profile.speedscope.json" '["$schema"]' "https://www.speedscope.app/file-format-schema.json"
# the engine's hot path is in the profile, under the backend's root frame
# (8 symbols: the C engine computes them in groups of vector lanes)
cpu_fn="(tg_cpu_atc_symbol|tg_cpu_group_[a-z0-9]+)"
grep -qE "^cpu;.*$cpu_fn" "$R/cpu.folded" || fail "the C engine's functions are not in cpu.folded"
# phase-rooted stacks: backend;mode;phase group;part;functions, the same
# phases on every backend
# one symbol at a time the C engine has MAs and signals phases; in groups of
# lanes one fused pass per family
grep -qE "^cpu;exact;HMA;(MAs|fused kernel);.*$cpu_fn" "$R/cpu.folded" || fail "no cpu;exact;HMA stacks (the widest phase)"
# (approx states are short: which of their phases a few samples land in varies)
grep -qE "^cpu;approx;(EMA|HMA|WMA|DEMA|LSMA|KAMA|Average_Signal|returns)[;]" "$R/cpu.folded" ||
	fail "no phase-rooted approx stacks"
grep -qE "^exact;HMA;(MAs|fused kernel);" "$R/cpu-cpu.folded" || fail "cpu-cpu.folded is not phase-rooted"
if [ "$backends" = cpu,rust ]; then
	grep -qE "^rust;exact;HMA;(MAs|fused kernel);" "$R/cpu.folded" || fail "the rust backend's stacks lack the phases"
	grep -qE "^exact;HMA;(MAs|fused kernel);" "$R/cpu-rust.folded" || fail "cpu-rust.folded is not phase-rooted"
fi
grep -qE "$cpu_fn" "$R/top.txt" || fail "top.txt lacks the C engine"
expect_in "$R/summary.md" "### CPU samples"
# the timeline: valid, nested, with the benchmark's NVTX ranges and samples
"$TG_TRACECHECK" "$R/trace.json" >"$TG_WORK/check" 2>&1 || { cat "$TG_WORK/check"; fail "trace.json invalid"; }
"$TG_TRACECHECK" --folded "$R/cpu.folded" "$R/trace.json" >"$TG_WORK/check" 2>&1 ||
	{ cat "$TG_WORK/check"; fail "trace.json: sampled stacks nest unlike cpu.folded (upside down?)"; }
grep -qE '"cat":"sample","name":"'"$cpu_fn"'"' "$R/trace.json" || fail "no sample slices of the C engine in trace.json"
expect_json "$R/results.json" .profile.sampled true
n=$("$TG_JQ" "$R/results.json" .profile.nvtx_ranges)
if has_nvtx; then
	# stable names for Nsight's per-name summaries: the repetition is the
	# payload, the kind of range the category, the backend the colour
	expect_in "$R/trace.json" '"name":"cpu exact","args":{"domain":"trendgpu-bench","category":"state","payload":1,"color":"#1f77b4"}'
	expect_in "$R/trace.json" '"name":"cpu exact","args":{"domain":"trendgpu-bench","category":"warm-up","payload":1'
	! grep -q '"name":"cpu exact rep ' "$R/trace.json" || fail "a range still carries its repetition in its name"
	expect_in "$R/trace.json" '"name":"cpu: atc exact","args":{"domain":"trendgpu-bench","category":"backend"'
	# the same phase names on every backend, approx apart
	grep -qE '"name":"EMA (MAs|fused kernel)","args":\{"domain":"trendgpu-bench","category":"phase","color":"#1f77b4"\}' "$R/trace.json" ||
		fail "no EMA phase range in the C engine's colour"
	grep -qE '"name":"EMA (MAs|fused kernel) \(approx\)","args":\{"domain":"trendgpu-bench","category":"phase"' "$R/trace.json" ||
		fail "no approx EMA phase range"
	if [ "$nb" = 2 ]; then
		# (the Rust backend's phases in its own colour)
		grep -qE '"name":"KAMA (crossovers, Layer 1, Layer 2|fused kernel)","args":\{"domain":"trendgpu-bench","category":"phase","color":"#d95f02"\}' "$R/trace.json" ||
			fail "no KAMA phase range in the Rust backend's colour"
	fi
	expect_in "$R/trace.json" '"nvtx":"NVTX static injection"'
	expect_in "$R/trace.json" '"nvtx.unmatched_pops":0'
	[ "$n" -gt 100 ] || fail "only $n NVTX ranges"
	# per-symbol phase ranges: the first 16 symbols a thread computes per
	# repetition (a 5000-symbol profile stays a usable trace), all of them
	# when asked (one symbol at a time here; groups below)
	for want in 16 40; do
		P="$TG_WORK/ranges-$want"
		env TG_CPU_SIMD=scalar $([ "$want" = 40 ] && echo TG_NVTX_PHASE_RANGES=all) "$TG_BIN" run --backends cpu --threads 1 \
			--symbols 40 --bars 300 --reps 2 --warmup 0 --profile cpu --out "$P" >/dev/null 2>&1 ||
			fail "the $want-range run failed"
		got=$(grep -o '"name":"EMA MAs","args"' "$P/trace.json" | wc -l)
		# 2 repetitions (the accuracy pass after them adds its own under "all")
		if [ "$want" = 16 ]; then
			[ "$got" = 32 ] || fail "expected 32 EMA MAs ranges (16 symbols x 2 repetitions), got $got"
		else
			[ "$got" -ge 80 ] || fail "TG_NVTX_PHASE_RANGES=all: expected 80 or more EMA MAs ranges, got $got"
		fi
	done
	# and for the warm-ups and the first 16 timed repetitions of a state:
	# the stopping rule's thousands of repetitions do not flood the timeline
	P="$TG_WORK/ranges-reps"
	TG_CPU_SIMD=scalar "$TG_BIN" run --backends cpu --ma exact --threads 1 --symbols 2 --bars 300 \
		--reps 40 --warmup 1 --no-accuracy --profile cpu --out "$P" >/dev/null 2>&1 || fail "the 40-repetition run failed"
	got=$(grep -o '"name":"EMA MAs","args"' "$P/trace.json" | wc -l)
	[ "$got" = $((2 * (1 + 16))) ] || fail "expected 34 EMA MAs ranges (2 symbols x (1 warm-up + 16 repetitions)), got $got"
	# in groups of lanes a group counts its symbols: 16 symbols are 16 / lanes groups
	lanes=$("$TG_BIN" info | grep -o "[0-9]* symbols per group" | head -1 | cut -d' ' -f1)
	if [ -n "$lanes" ]; then
		# (the Rust crate's groups too: it tells the C side each group's size)
		for be in $(echo "$backends" | tr , ' '); do
			P="$TG_WORK/ranges-groups-$be"
			"$TG_BIN" run --backends "$be" --threads 1 --symbols 40 --bars 300 --reps 2 --warmup 0 --profile cpu \
				--out "$P" >/dev/null 2>&1 || fail "the grouped range run ($be) failed"
			got=$(grep -o '"name":"EMA fused kernel","args"' "$P/trace.json" | wc -l)
			[ "$got" = $((2 * 16 / lanes)) ] ||
				fail "$be: expected $((2 * 16 / lanes)) EMA fused kernel ranges (16 symbols in groups of $lanes x 2 repetitions), got $got"
		done
	fi
else
	# a build without the NVTX headers says so and records no ranges
	expect_in "$R/trace.json" '"nvtx":"built without the NVTX headers'
	[ "$n" = 0 ] || fail "$n NVTX ranges in a build without NVTX"
fi

# report re-renders the same outputs from the raw capture
cp "$R/cpu.folded" "$TG_WORK/cpu.folded.orig"
expect_exit 0 "$TG_BIN" report "$R" --out "$TG_WORK/rerender"
cmp -s "$TG_WORK/cpu.folded.orig" "$TG_WORK/rerender/cpu.folded" || fail "report: cpu.folded differs"
cmp -s "$R/trace.json" "$TG_WORK/rerender/trace.json" || fail "report: trace.json differs"
expect_exit 1 "$TG_BIN" report "$TG_WORK/nothing-here"
expect_in "$ERR" "is not a directory"
mkdir -p "$TG_WORK/bad-capture" && cp "$R/maps" "$TG_WORK/bad-capture/"
head -c 200 "$R/capture.bin" >"$TG_WORK/bad-capture/capture.bin"
expect_exit 1 "$TG_BIN" report "$TG_WORK/bad-capture"
expect_in "$ERR" "bad-capture/capture.bin'"
expect_in "$ERR" "byte"
[ ! -e "$TG_WORK/bad-capture/trace.json" ] || fail "report wrote outputs from a bad capture"

# `trendgpu-bench --profile both`, the documented way in: options without a
# command are run's
B="$TG_WORK/nocmd-both"
expect_exit 0 "$TG_BIN" --profile both --backends cpu --symbols 4 --bars 600 --reps 3 --warmup 0 --out "$B"
expect_json "$B/results.json" .profile.mode both
expect_json "$B/results.json" .params.profile both
"$TG_TRACECHECK" "$B/trace.json" >/dev/null 2>&1 || fail "trace.json of a run without a command is invalid"
expect_in "$OUT" "profile: $B/trace.json"

# gpu and both without a usable GPU: one line says why, NVTX ranges and host
# samples are still recorded, the run completes
if ! "$TG_BIN" info | grep -q "^  cuda   available"; then
	for mode in gpu both; do
		G="$TG_WORK/$mode"
		expect_exit 0 "$TG_BIN" run --backends cpu --profile $mode --symbols 4 --bars 1500 --reps 2 --warmup 0 --out "$G"
		n=$(grep -c "GPU activity not traced" "$ERR")
		[ "$n" = 1 ] || fail "--profile $mode: expected one line about the GPU, got $n"
		"$TG_TRACECHECK" "$G/trace.json" >/dev/null 2>&1 || fail "--profile $mode: trace.json invalid"
		! has_nvtx || expect_in "$G/trace.json" '"name":"cpu exact","args":{"domain":"trendgpu-bench","category":"state","payload":1'
		expect_in "$G/trace.json" '"cat":"sample"'
		expect_json "$G/results.json" .profile.gpu.traced false
		expect_json "$G/results.json" .profile.mode $mode
		expect_in "$G/summary.md" "GPU activity not traced"
		[ -s "$G/cpu.svg" ] || fail "--profile $mode: no cpu.svg"
	done
fi
if [ "$backends" = cpu,rust ]; then
	[ -s "$R/diff-cpu-vs-rust.svg" ] || fail "no diff-cpu-vs-rust.svg"
	xml_ok "$R/diff-cpu-vs-rust.svg"
	grep -qE "^rust;.*tg_atc_rs::(pipeline::run_symbol|lanes::group_)" "$R/cpu.folded" || fail "Rust frames not named"
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
