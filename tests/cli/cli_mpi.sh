#!/usr/bin/env bash
# mpirun -n R trendgpu-bench run: the batch split across ranks on this
# machine (Open MPI, --oversubscribe). Average_Signal bit for bit the same
# as one process (signals file and digests), the split balanced by bars,
# rank 0's gathered results (per-rank times, imbalance, agreement over
# every symbol), a rank that fails and one that stops answering (a clear
# error, no hang). Skipped without mpirun or in a build without MPI.
. "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null 2>&1 || { echo "skip: no mpirun"; exit 77; }
"$TG_BIN" info | grep -q "^  mpi  *yes" || { echo "skip: built without MPI"; exit 77; }
mpi() { timeout 120 mpirun --oversubscribe --allow-run-as-root "$@"; }
backends=cpu
"$TG_BIN" info | grep -q "^  rust .*available" && backends=cpu,rust
run=(run --backends "$backends" --symbols 7 --bars 400 --reps 4 --warmup 1 --quiet)

# one process: the reference
expect_exit 0 "$TG_BIN" "${run[@]}" --out "$TG_WORK/one" --signals "$TG_WORK/one.csv"
"$TG_JQ" "$TG_WORK/one/results.json" .ranks >/dev/null 2>&1 && fail "one process wrote ranks"
digests() { "$TG_JQ" "$1/results.json" .states | grep -o '"average_digest":"[0-9a-f]*"' | tr '\n' ' '; }
ref=$(digests "$TG_WORK/one")
[ -n "$ref" ] || fail "no average_digest in one process's results"

for n in 2 3; do
	d="$TG_WORK/n$n"
	expect_exit 0 mpi -n $n "$TG_BIN" "${run[@]}" --out "$d" --signals "$d.csv"
	# Average_Signal: every bar of every symbol, bit for bit
	[ "$(digests "$d")" = "$ref" ] || fail "-n $n: Average_Signal digests $(digests "$d"), one process $ref"
	cmp -s "$TG_WORK/one.csv" "$d.csv" || fail "-n $n: the signals differ from one process's"
	expect_json "$d/results.json" .rank.size $n
	expect_json "$d/results.json" .params.ranks $n
	expect_json "$d/results.json" "length(.ranks)" $n
	expect_json "$d/results.json" .params.symbols 7
	# contiguous shares covering every symbol, in rank order
	next=0
	for ((r = 0; r < n; r++)); do
		expect_json "$d/results.json" ".ranks[$r].rank" $r
		expect_json "$d/results.json" ".ranks[$r].first_symbol" $next
		k=$("$TG_JQ" "$d/results.json" ".ranks[$r].symbols")
		[ "$k" -ge 1 ] || fail "-n $n: rank $r has $k symbols"
		next=$((next + k))
		t=$("$TG_JQ" "$d/results.json" ".ranks[$r].own_median_ns[0]")
		awk -v t="$t" 'BEGIN { exit !(t > 0) }' || fail "-n $n: rank $r's own time is $t"
	done
	[ "$next" = 7 ] || fail "-n $n: the ranks hold $next of 7 symbols"
	# the imbalance is the slowest rank's own median over the mean
	imb=$("$TG_JQ" "$d/results.json" .states[0].rank_imbalance)
	awk -v x="$imb" 'BEGIN { exit !(x >= 1 && x < 100) }' || fail "-n $n: rank_imbalance $imb"
	# the agreement covers every symbol (7 x 400 bars)
	if [ "$backends" = cpu,rust ]; then
		expect_json "$d/results.json" .agreement[0].bars 2800
		expect_json "$d/results.json" .agreement[0].max_abs_diff 0
	fi
	expect_in "$d/summary.md" "## Ranks"
	expect_in "$d/summary.md" "| imbalance |"
	# rank 0 alone writes: no second run directory, nothing from the others
	[ "$(ls -d "$TG_PROFILES_DIR"/run-* 2>/dev/null | wc -l)" = 0 ] || fail "-n $n: another rank wrote a run directory"
	# the results read back (compare, report) and the state's samples are the slowest rank's
	expect_exit 0 "$TG_BIN" compare "$TG_WORK/one" "$d"
done

# results.json of a split run is read back strictly: a bad member is named
bad="$TG_WORK/bad"
cp -r "$TG_WORK/n3" "$bad"
python3 - "$bad/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["ranks"][1]["own_median_ns"] = r["ranks"][1]["own_median_ns"][:1]
json.dump(r, open(sys.argv[1], "w"))
PY
expect_exit 1 "$TG_BIN" compare "$TG_WORK/one" "$bad"
expect_in "$ERR" "ranks[1].own_median_ns: 1 values, expected one per state"
python3 - "$bad/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["ranks"][1]["own_median_ns"] = [-1] * len(r["states"])
json.dump(r, open(sys.argv[1], "w"))
PY
expect_exit 1 "$TG_BIN" compare "$TG_WORK/one" "$bad"
expect_in "$ERR" "ranks[1].own_median_ns[0]: expected a duration in ns"
python3 - "$bad/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["ranks"][1]["own_median_ns"] = [1] * len(r["states"])
r["states"][0]["average_digest"] = "12"
json.dump(r, open(sys.argv[1], "w"))
PY
expect_exit 1 "$TG_BIN" compare "$TG_WORK/one" "$bad"
expect_in "$ERR" "states[0].average_digest: expected 16 hexadecimal digits"

# split by bars, not by count: four short series and one as long as all four
mkdir -p "$TG_WORK/uneven"
for s in A B C D E; do
	bars=300
	[ $s = E ] && bars=1200
	awk -v n=$bars -v s=$s 'BEGIN { print "timestamp,open,high,low,close,volume";
		p = 100 + length(s); for (i = 0; i < n; i++) { p *= 1 + 0.01 * sin(i * 0.37 + (s == "E")) ;
		printf "%d,%.6f,%.6f,%.6f,%.6f,1\n", 1700000000 + 60 * i, p, p, p, p } }' >"$TG_WORK/uneven/$s.csv"
done
u=(run --backends cpu --data "$TG_WORK/uneven" --reps 2 --warmup 0 --quiet --no-accuracy)
expect_exit 0 "$TG_BIN" "${u[@]}" --out "$TG_WORK/u1" --signals "$TG_WORK/u1.csv"
expect_exit 0 mpi -n 2 "$TG_BIN" "${u[@]}" --out "$TG_WORK/u2" --signals "$TG_WORK/u2.csv"
expect_json "$TG_WORK/u2/results.json" .ranks[0].symbols 4
expect_json "$TG_WORK/u2/results.json" .ranks[1].symbols 1
expect_json "$TG_WORK/u2/results.json" .ranks[0].bar_symbols 1200
expect_json "$TG_WORK/u2/results.json" .ranks[1].bar_symbols 1200
cmp -s "$TG_WORK/u1.csv" "$TG_WORK/u2.csv" || fail "uneven: the signals differ from one process's"
[ "$(digests "$TG_WORK/u2")" = "$(digests "$TG_WORK/u1")" ] || fail "uneven: Average_Signal digests differ"

# more ranks than symbols: refused on every rank, before anything runs
expect_exit 2 mpi -n 3 "$TG_BIN" run --backends cpu --symbols 2 --bars 300 --reps 1 --quiet --out "$TG_WORK/few"
expect_in "$ERR" "2 symbols cannot be split across 3 ranks"
# what cannot be split yet says so
expect_exit 2 mpi -n 2 "$TG_BIN" run --backends cpu --symbols 4,8 --bars 300 --reps 1 --quiet
expect_in "$ERR" "a sweep (--symbols or --bars with a list) cannot be split across ranks yet"

# a rank whose runs fail: every rank stops the state, rank 0 names the rank
expect_exit 1 mpi -n 2 -x TG_INJECT_RANK_FAIL=1 "$TG_BIN" "${run[@]}" --out "$TG_WORK/fail"
expect_in "$ERR" "rank 1: injected failure (TG_INJECT_RANK_FAIL)"
expect_in "$ERR" "trendgpu-bench[rank 0]: error: cpu exact failed on rank 1: cpu exact: rank 1: injected failure"
expect_json "$TG_WORK/fail/results.json" .states[0].available false

# a rank that stops answering: the others give up after TG_RANK_TIMEOUT_S
# and stop the job (not the 120 s of the guard above)
start=$SECONDS
"$TG_BIN" --version >/dev/null
mpi -n 2 -x TG_INJECT_RANK_STALL=1 -x TG_RANK_TIMEOUT_S=2 "$TG_BIN" "${run[@]}" --out "$TG_WORK/stall" >"$OUT" 2>"$ERR"
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || fail "a stalled rank: mpirun exited $rc (124: it hung)"
[ $((SECONDS - start)) -lt 60 ] || fail "a stalled rank took $((SECONDS - start)) s to stop the job"
expect_in "$ERR" "waited"
expect_in "$ERR" "for the other ranks at repetition 1 of"
expect_in "$ERR" "(TG_RANK_TIMEOUT_S)"
[ -e "$TG_WORK/stall/INCOMPLETE" ] || fail "a stopped job's run directory does not say it is incomplete"

# record under the launcher: a capture per rank; report merges the job's
# ranks into one timeline (a process per rank, named host:rank, valid for
# the importers' rules and nested as the merged stacks), flame graphs merged
# and by rank, the ranks' table with the NVTX ranges' imbalance
if [ "${TG_SANITIZED:-OFF}" = OFF ] || [ "${TG_SANITIZED:-OFF}" = 0 ]; then
	for n in 2 3; do
		J="$TG_WORK/job$n"
		expect_exit 0 mpi -n $n "$TG_BIN" record --profile cpu -o "$J" -- "$TG_NVTX_APP"
		expect_exit 0 "$TG_BIN" report "$J"
		expect_in "$OUT" "ranks: $n merged"
		"$TG_TRACECHECK" --folded "$J/cpu.folded" "$J/trace.json" >"$TG_WORK/check" 2>&1 ||
			{ cat "$TG_WORK/check"; fail "-n $n: the merged trace.json breaks the importers' rules"; }
		expect_json "$J/trace.json" "length(.otherData.ranks)" $n
		host=$("$TG_JQ" "$J/trace.json" .otherData.ranks[0].host)
		python3 - "$J/trace.json" $n "$host" <<'PY' || fail "-n $n: the merged trace's processes are not one per rank"
import json, sys
t = json.load(open(sys.argv[1])); n = int(sys.argv[2]); host = sys.argv[3]
names = [e["args"]["name"] for e in t["traceEvents"] if e.get("ph") == "M" and e.get("name") == "process_name"]
assert len(names) == n, names
for r in range(n):
    assert sum(1 for x in names if x.startswith("%s:%d " % (host, r))) == 1, (r, names)
pids = {e["pid"] for e in t["traceEvents"] if "pid" in e}
assert len(pids) == n, pids
# every rank's samples are there, on one time line that starts near 0
for r, k in enumerate(t["otherData"]["ranks"]):
    assert k["rank"] == r and k["clock"] in ("the reference", "same host: CLOCK_MONOTONIC"), k
ts = [e["ts"] for e in t["traceEvents"] if "ts" in e]
assert min(ts) >= 0 and min(ts) < 1e6, min(ts)
PY
		for ((r = 0; r < n; r++)); do
			grep -q "^rank $r ($host);" "$J/cpu-ranks.folded" || fail "-n $n: no rank $r root frame in cpu-ranks.folded"
		done
		[ -s "$J/cpu.svg" ] && [ -s "$J/cpu-ranks.svg" ] || fail "-n $n: the merged flame graphs are missing"
		expect_in "$J/ranks.md" "| app: worker |"
		expect_in "$J/ranks.md" "| imbalance |"
		expect_in "$J/ranks.md" "same host: CLOCK_MONOTONIC"
	done
	# into another folder: the ranks re-rendered there too
	expect_exit 0 "$TG_BIN" report "$TG_WORK/job2" --out "$TG_WORK/job2-again"
	[ -s "$TG_WORK/job2-again/rank1/trace.json" ] && [ -s "$TG_WORK/job2-again/trace.json" ] ||
		fail "report --out of a job did not write its ranks and the merge"
fi

# a profiled split run: every rank's capture in DIR/rank<R> with its clock
# measured against rank 0's by MPI ping-pongs at start and end, merged by
# rank 0 into one timeline; the answers unchanged
P="$TG_WORK/prof"
expect_exit 0 mpi -n 2 "$TG_BIN" run --backends "$backends" --symbols 7 --bars 400 --reps 4 --warmup 1 --quiet --profile cpu --out "$P"
expect_in "$OUT" "profile: every rank's in $P/rank<R>; merged: $P/trace.json"
for r in 0 1; do [ -s "$P/rank$r/capture.bin" ] && [ -s "$P/rank$r/trace.json" ] || fail "profiled split run: rank $r wrote no capture"; done
expect_in "$P/rank1/clock.txt" "trendgpu-bench rank clock: mpi ping-pong"
"$TG_TRACECHECK" --folded "$P/cpu.folded" "$P/trace.json" >"$TG_WORK/check" 2>&1 ||
	{ cat "$TG_WORK/check"; fail "the profiled split run's merged trace breaks the importers' rules"; }
expect_json "$P/trace.json" .otherData.ranks[1].clock "MPI ping-pong, drift corrected"
off=$("$TG_JQ" "$P/trace.json" .otherData.ranks[1].offset_ns)
awk -v o="$off" 'BEGIN { exit !(o > -1e6 && o < 1e6) }' || fail "one host, yet rank 1's clock is $off ns off rank 0's"
expect_in "$P/ranks.md" "| cpu exact |"
expect_json "$P/results.json" .profile.mode cpu
expect_json "$P/results.json" "length(.ranks)" 2
[ "$(digests "$P")" = "$ref" ] || fail "profiled split run: Average_Signal digests differ from one process's"
# report re-merges it, keeping the measured clocks; a clock file that is
# not ours is refused, named, and the anchors used instead
expect_exit 0 "$TG_BIN" report "$P"
expect_json "$P/trace.json" .otherData.ranks[1].clock "MPI ping-pong, drift corrected"
echo "start 1 2 3" >"$P/rank1/clock.txt"
expect_exit 0 "$TG_BIN" report "$P"
expect_in "$ERR" "rank1/clock.txt: expected 'trendgpu-bench rank clock: mpi ping-pong'"
expect_in "$ERR" "the clock file is ignored"
expect_json "$P/trace.json" .otherData.ranks[1].clock "same host: CLOCK_MONOTONIC"

# a bad timeout is refused, naming the variable
expect_exit 1 mpi -n 2 -x TG_RANK_TIMEOUT_S=soon "$TG_BIN" "${run[@]}" --out "$TG_WORK/badt"
expect_in "$ERR" "TG_RANK_TIMEOUT_S is 'soon'"
echo "cli_mpi: ok"
