# record -- COMMAND on a CPU-only program: NVTX ranges and host samples of
# every thread, rendered into a run directory; exit status passed through.
. "$(dirname "$0")/lib.sh"
case "${TG_SANITIZED:-OFF}" in ON | 1 | TRUE | true)
	# an instrumented agent cannot be preloaded into uninstrumented programs
	echo "sanitizer build: record is tested in the release build"; exit 77 ;;
esac
R="$TG_WORK/rec"
expect_exit 0 "$TG_BIN" record -o "$R" -- "$TG_NVTX_APP"
expect_in "$OUT" "recorded: $TG_NVTX_APP (exit status 0"
expect_in "$OUT" "profile: $R/trace.json"
for f in trace.json cpu.folded cpu.svg top.txt capture.bin maps maps.buildid results.json summary.md; do
	[ -s "$R/$f" ] || fail "no $f"
done
"$TG_TRACECHECK" "$R/trace.json" >"$TG_WORK/check" 2>&1 || { cat "$TG_WORK/check"; fail "trace.json invalid"; }
# the sampled stacks nest in the viewers as they were sampled (root on top)
"$TG_TRACECHECK" --folded "$R/cpu.folded" "$R/trace.json" >"$TG_WORK/check" 2>&1 ||
	{ cat "$TG_WORK/check"; fail "trace.json: sampled stacks nest unlike cpu.folded"; }
# one root per thread: no thread start plumbing, none of the recorder's frames
for f in tg_record_ __clone3 start_thread __libc_start_call_main; do
	! grep -q "$f" "$R/cpu.folded" || fail "cpu.folded shows $f"
done
# vDSO code named from the image saved with the capture
[ -s "$R/vdso.so" ] || fail "no vdso.so saved beside the capture"
# the program's NVTX ranges, from every thread and domain (a build without
# the NVTX headers has a fixture without them)
if has_nvtx; then
	expect_in "$R/trace.json" '"name":"app: main"'
	# the program's colour and category travel with its range
	expect_in "$R/trace.json" '"name":"app: phase","args":{"domain":"app-domain","category":7,"color":"#336699"}'
	expect_in "$R/trace.json" '"cat":"nvtx_async","name":"app: threads alive"'
	expect_in "$R/trace.json" '"name":"app: threads started"'
	n=$(grep -o '"name":"app: worker"' "$R/trace.json" | wc -l)
	[ "$n" = 2 ] || fail "expected 2 worker ranges, got $n"
	expect_in "$R/trace.json" '"name":"app-worker ('
	expect_in "$R/trace.json" '"nvtx":"NVTX injection via NVTX_INJECTION64_PATH"'
fi
agent_path="$(dirname "$TG_BIN")/libtgrecord.so"
# host samples of the main thread and of the threads it created, symbolized
grep -q "main;app_burn_leaf" "$R/cpu.folded" || fail "main thread not sampled"
grep -q "worker;app_worker_body;app_burn_leaf" "$R/cpu.folded" || fail "worker threads not sampled"
expect_json "$R/results.json" .kind record
expect_json "$R/results.json" .profile.gpu.traced false
expect_in "$R/summary.md" "# trendgpu-bench record"
expect_in "$R/summary.md" "the program did not initialise CUDA"

# a program that only waits: sampled, its ticks idle, and said so (a few
# ticks may land while it starts: those are samples)
expect_exit 0 "$TG_BIN" record --profile cpu -o "$TG_WORK/sleep" -- sleep 0.5
expect_json "$TG_WORK/sleep/results.json" .profile.sampled true
# the agent injected itself for NVTX: it says the program made no call, not
# that the ranges went to another tool
! grep -q "another tool" "$OUT" "$TG_WORK/sleep/summary.md" "$TG_WORK/sleep/results.json" ||
	fail "record calls its own agent another NVTX tool"
# a program of ours under record (its NVTX goes to the agent) says where
if has_nvtx; then
	NVTX_INJECTION64_PATH="$agent_path" "$TG_BIN" info >"$TG_WORK/info" 2>&1 || fail "info failed"
	expect_in "$TG_WORK/info" "the agent of trendgpu-bench record"
fi
idle=$("$TG_JQ" "$TG_WORK/sleep/results.json" .profile.idle_skipped)
[ "$idle" -gt 100 ] || fail "sleep 0.5 at 997 Hz: only $idle idle ticks counted"
expect_json "$TG_WORK/sleep/results.json" .profile.truncated 0
expect_in "$TG_WORK/sleep/summary.md" "### CPU samples"
expect_in "$TG_WORK/sleep/summary.md" "idle skipped $idle,"
if [ "$("$TG_JQ" "$TG_WORK/sleep/results.json" .profile.samples)" = 0 ]; then
	expect_in "$TG_WORK/sleep/summary.md" "every tick found the program's threads waiting"
fi

# the agent refuses a setting it does not know instead of guessing
agent="$(dirname "$TG_BIN")/libtgrecord.so"
mkdir -p "$TG_WORK/bad-env"
TG_RECORD_DIR="$TG_WORK/bad-env" TG_RECORD_UNWIND=dwarf LD_PRELOAD="$agent" sleep 0 2>"$ERR" || fail "the program failed"
expect_in "$ERR" "not recording: TG_RECORD_UNWIND='dwarf': expected one of auto, fp, libunwind, hybrid"
[ -z "$(ls "$TG_WORK/bad-env")" ] || fail "the agent wrote a capture with a bad setting"

# an exec chain (a shell that runs helpers, then execs the program, as a
# pyenv shim does): one capture, the final program's; the helpers leave nothing
expect_exit 0 "$TG_BIN" record --profile cpu -o "$TG_WORK/chain" -- sh -c "/bin/true; ls / >/dev/null; exec '$TG_NVTX_APP'"
left=$(ls "$TG_WORK/chain" | grep -E '^(capture|maps|vdso)-' || true)
[ -z "$left" ] || fail "the exec chain left: $left"
grep -q "main;app_burn_leaf" "$TG_WORK/chain/cpu.folded" || fail "the exec'd program was not sampled"

# the program's exit status is record's
expect_exit 5 "$TG_BIN" record --profile cpu -o "$TG_WORK/rec5" -- "$TG_NVTX_APP" 5
expect_in "$OUT" "(exit status 5"
[ -s "$TG_WORK/rec5/trace.json" ] || fail "no trace for a failing program"

# bad input
expect_exit 2 "$TG_BIN" record
expect_in "$ERR" "expected the program to record after '--'"
expect_exit 2 "$TG_BIN" record --profile none -- true
expect_in "$ERR" "--profile none records nothing"
expect_exit 127 "$TG_BIN" record -o "$TG_WORK/missing" -- "$TG_WORK/no-such-program"
expect_in "$ERR" "cannot run"
expect_in "$ERR" "wrote no"
expect_exit 1 "$TG_BIN" record --agent "$TG_WORK/no-agent.so" -- true
expect_in "$ERR" "no-agent.so"

# under a launcher each rank records into the job's folder, DIR/rank<R>
expect_exit 2 env OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_SIZE=2 "$TG_BIN" record --profile cpu -- "$TG_NVTX_APP"
expect_in "$ERR" "launched as rank 1 of 2 (Open MPI): name the job's folder with --out DIR"
expect_exit 0 env SLURM_PROCID=1 SLURM_NTASKS=3 SLURM_LOCALID=0 "$TG_BIN" record --profile cpu -o "$TG_WORK/job" -- "$TG_NVTX_APP"
expect_json "$TG_WORK/job/rank1/results.json" .rank.rank 1
expect_json "$TG_WORK/job/rank1/results.json" .rank.size 3
expect_json "$TG_WORK/job/rank1/results.json" .rank.local_rank 0
expect_json "$TG_WORK/job/rank1/results.json" .rank.launcher Slurm
expect_exit 1 env PMI_RANK=one PMI_SIZE=2 "$TG_BIN" record --profile cpu -o "$TG_WORK/bad" -- "$TG_NVTX_APP"
expect_in "$ERR" "the launcher's PMI_RANK is 'one'; expected a whole number"
# one process: no rank in results.json
"$TG_JQ" "$R/results.json" .rank >/dev/null 2>&1 && fail "a single process's results.json names a rank"
# run under a launcher's variables without the launcher: with MPI in the
# build, MPI starts one process and it runs alone, saying so; without MPI
# it is refused, not run once per rank (mpirun runs: cli_mpi.sh)
if "$TG_BIN" info | grep -q "^  mpi  *yes"; then
	expect_exit 0 env OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=2 "$TG_BIN" run --backends cpu --symbols 2 --bars 300 --reps 1 --quiet
	expect_in "$ERR" "says rank 0 of 2, but MPI started 1 process: running alone"
else
	expect_exit 2 env OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=2 "$TG_BIN" run --backends cpu --symbols 2 --bars 300 --reps 1
	expect_in "$ERR" "launched as rank 0 of 2 (Open MPI), but this binary was built without MPI"
fi
# the real launcher, two ranks on this machine
if command -v mpirun >/dev/null 2>&1; then
	expect_exit 0 mpirun --oversubscribe --allow-run-as-root -n 2 "$TG_BIN" record --profile cpu -o "$TG_WORK/mpi" -- "$TG_NVTX_APP"
	for r in 0 1; do
		expect_json "$TG_WORK/mpi/rank$r/results.json" .rank.rank $r
		expect_json "$TG_WORK/mpi/rank$r/results.json" .rank.launcher "Open MPI"
		expect_json "$TG_WORK/mpi/rank$r/results.json" .complete true
	done
else
	echo "no mpirun here: the launcher's own run skipped"
fi
