# Stop signals (SIGINT, SIGTERM, SIGHUP) at several moments of `run` and
# `record`, and kills during rendering: what was measured is never lost.
. "$(dirname "$0")/lib.sh"

# run_signalled PATTERN DELAY SIGNAL SECOND CMD...: runs CMD (info log on)
# with its stderr read line by line into $ERR; DELAY seconds after the first
# line containing PATTERN sends SIGNAL (and a SECOND one 0.2 s later unless
# it is '-'); returns CMD's exit status.
run_signalled() {
	local pattern=$1 delay=$2 sig=$3 second=$4
	shift 4
	local fifo="$TG_WORK/stderr.fifo" sent=0 line
	rm -f "$fifo" && mkfifo "$fifo"
	: >"$ERR"
	TG_LOG_LEVEL=info "$@" >"$OUT" 2>"$fifo" &
	local pid=$!
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$ERR"
		if [ "$sent" = 0 ] && [[ "$line" == *"$pattern"* ]]; then
			[ "$delay" = 0 ] || sleep "$delay"
			kill -"$sig" "$pid"
			# (a signal already pending is not queued twice: the second
			# comes once the first was handled)
			[ "$second" = - ] || { sleep 0.2; kill -"$second" "$pid"; }
			sent=1
		fi
	done <"$fifo"
	wait "$pid"
	local rc=$?
	[ "$sent" = 1 ] || fail "'$pattern' never came: nothing was sent"
	return $rc
}

expect_signalled() { # WANT PATTERN DELAY SIGNAL SECOND CMD...
	local want=$1
	shift
	run_signalled "$@"
	local rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
	echo "ok: exit $rc: $*"
}

samples_of() { "$TG_JQ" "$1/results.json" "length(.states[$2].wall_ns.samples)"; }

RUN=("$TG_BIN" run --backends cpu --symbols 20 --bars 1500 --reps 100000 --warmup 0 --threads 1)

# 1. SIGINT while measuring: partial results, marked incomplete, exit 130
R="$TG_WORK/int"
expect_signalled 130 "measuring" 0.3 INT - "${RUN[@]}" --out "$R"
expect_in "$ERR" "interrupted; writing partial results"
expect_json "$R/results.json" .complete false
expect_json "$R/results.json" .incomplete_reason "interrupted by SIGINT"
n=$(samples_of "$R" 0)
[ "$n" -ge 1 ] && [ "$n" -lt 100000 ] || fail "expected some samples, got $n"
expect_in "$R/summary.md" "**Incomplete run**"

# 2. SIGHUP (a closed terminal) likewise: exit 129
R="$TG_WORK/hup"
expect_signalled 129 "measuring" 0.1 HUP - "${RUN[@]}" --out "$R"
expect_json "$R/results.json" .incomplete_reason "interrupted by SIGHUP"

# 3. SIGTERM while measuring a profiled run (what timeout, CI runners and
# systemd send): the states measured so far, the profile of them, exit 143
R="$TG_WORK/term"
expect_signalled 143 "the first round of 2 states is done" 0.05 TERM - "$TG_BIN" run --backends cpu \
	--symbols 20 --bars 1500 --warmup 1 --threads 1 --min-time 0.2 --max-time 0.3 \
	--profile both --out "$R"
expect_json "$R/results.json" .complete false
expect_json "$R/results.json" .incomplete_reason "interrupted by SIGTERM"
expect_json "$R/results.json" '.states[0].available' true
expect_json "$R/results.json" '.states[1].available' true
[ "$(samples_of "$R" 0)" -ge 1 ] || fail "the first state's samples were lost"
[ "$(samples_of "$R" 1)" -ge 1 ] || fail "the interrupted state's samples were lost"
expect_json "$R/results.json" .profile.rendered true
"$TG_TRACECHECK" "$R/trace.json" >/dev/null 2>&1 || fail "the interrupted run's trace.json is invalid"
[ -s "$R/cpu.svg" ] || fail "no cpu.svg for the interrupted run"

# 4. SIGTERM after measuring, while rendering: the results were written
# before rendering (complete), rendering finishes, exit 143
PROF=("$TG_BIN" run --backends cpu --symbols 20 --bars 1500 --reps 60 --warmup 1 --threads 1
	--no-accuracy --profile cpu)
R="$TG_WORK/render-term"
expect_signalled 143 "rendering the profile" 0 TERM - "${PROF[@]}" --out "$R"
expect_in "$ERR" "SIGTERM after measuring: the results are complete"
expect_json "$R/results.json" .complete true
expect_json "$R/results.json" .profile.rendered true
[ "$(samples_of "$R" 0)" = 60 ] || fail "the measured samples are not all there"

# 5. SIGKILL while rendering: the measurements are there all the same;
# `report` removes what the killed run left and renders the raw capture
R="$TG_WORK/render-kill"
expect_signalled 137 "rendering the profile" 0 KILL - "${PROF[@]}" --out "$R"
expect_json "$R/results.json" .complete true
[ "$(samples_of "$R" 0)" = 60 ] || fail "the measured samples are not all there"
if [ "$("$TG_JQ" "$R/results.json" .profile.rendered)" = false ]; then
	expect_in "$R/summary.md" "The profile's outputs are not rendered yet"
fi
: >"$R/trace.json.tmp.999999" # a temporary of a process that is gone
expect_exit 0 "$TG_BIN" report "$R"
! ls "$R" | grep -q '\.tmp\.' || fail "report left temporary files: $(ls "$R" | grep '\.tmp\.')"
expect_in "$ERR" "temporary file"
"$TG_TRACECHECK" "$R/trace.json" >/dev/null 2>&1 || fail "report's trace.json is invalid"

# 6. a second signal stops at once: nothing more is written (a repetition
# of 4000 x 1500 takes ~1 s here, where the engine runs 3-4 ns per bar·MA:
# the first signal comes 0.1 s into it, the second 0.3 s)
R="$TG_WORK/twice"
expect_signalled 130 "measuring" 0.1 INT INT "$TG_BIN" run --backends cpu --symbols 4000 --bars 1500 \
	--reps 100000 --warmup 0 --threads 1 --out "$R"
[ ! -e "$R/results.json" ] || fail "a second SIGINT still waited for the results"
# the directory says it is incomplete, and compare says so instead of "cannot open"
expect_in "$R/INCOMPLETE" "trendgpu-bench run, started"
expect_exit 1 "$TG_BIN" compare "$R" "$R"
expect_in "$ERR" "not written: the run was stopped before it wrote them"
# a run that finishes leaves no marker
[ ! -e "$TG_WORK/int/INCOMPLETE" ] || fail "an interrupted run that wrote its results kept INCOMPLETE"

# 7. record: a stop signal goes to the program, whose agent writes what it
# recorded before the signal ends it; record's exit status is the program's
case "${TG_SANITIZED:-OFF}" in ON | 1 | TRUE | true) exit 0 ;; esac
R="$TG_WORK/record-term"
: >"$ERR"
"$TG_BIN" record --profile cpu -o "$R" -- "$TG_NVTX_APP" 0 30 >"$OUT" 2>>"$ERR" &
pid=$!
for _ in $(seq 1 300); do
	[ -e "$R" ] && sleep 0.5 && break
	sleep 0.02
done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 143 ] || fail "record stopped by SIGTERM exited $rc, expected 143"
expect_json "$R/results.json" .complete false
expect_in "$R/results.json" "interrupted by SIGTERM"
expect_json "$R/results.json" .params.exit_status 143
n=$("$TG_JQ" "$R/results.json" .profile.samples)
[ "$n" -gt 50 ] || fail "the program's samples were lost ($n)"
grep -q "main;app_burn_leaf" "$R/cpu.folded" || fail "the program's stacks were lost"
