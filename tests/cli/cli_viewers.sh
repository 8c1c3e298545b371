# The profile's outputs opened where users open them: trace.json and
# profile.speedscope.json in the real speedscope app (npm package
# speedscope, served on localhost, headless Debian chromium driven by
# playwright-core), with zero import warnings; trace.json nested as
# catapult's and Perfetto's importers nest it. The npm packages are
# installed here (cached in the build tree); without the registry or the
# browser the test is skipped, saying why.
. "$(dirname "$0")/lib.sh"
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "chromium not installed (scripts/bootstrap.sh --test installs it): skipped"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "node/npm not installed (scripts/bootstrap.sh --test installs them): skipped"; exit 77; }
viewers="$(dirname "$TG_WORK")/../viewers"
mkdir -p "$viewers"
dist="$viewers/node_modules/speedscope/dist/release"
if [ ! -f "$dist/index.html" ] || [ ! -d "$viewers/node_modules/playwright-core" ]; then
	timeout 300 npm install --prefix "$viewers" --no-audit --no-fund --silent \
		speedscope@1.25.0 playwright-core@1.65.2 >"$TG_WORK.npm.log" 2>&1 ||
		{ cat "$TG_WORK.npm.log"; echo "npm install of speedscope and playwright-core failed: skipped"; exit 77; }
fi
check="$(dirname "$0")/../viewers/speedscope_check.mjs"

R="$TG_WORK/prof"
backends=cpu
"$TG_BIN" info | grep -q "^  rust   available" && backends=cpu,rust
expect_exit 0 "$TG_BIN" run --backends "$backends" --profile cpu --symbols 8 --bars 1500 --reps 8 --warmup 1 --out "$R"
"$TG_TRACECHECK" --folded "$R/cpu.folded" "$R/trace.json" >"$TG_WORK/check" 2>&1 ||
	{ cat "$TG_WORK/check"; fail "trace.json nests unlike cpu.folded"; }
files=("$R/trace.json" "$R/profile.speedscope.json")
if [ "${TG_SANITIZED:-OFF}" = OFF ] || [ "${TG_SANITIZED:-OFF}" = 0 ]; then
	expect_exit 0 "$TG_BIN" record -o "$TG_WORK/rec" -- "$TG_NVTX_APP"
	files+=("$TG_WORK/rec/trace.json" "$TG_WORK/rec/profile.speedscope.json")
	# a job's ranks merged into one timeline (record under mpirun, report)
	if command -v mpirun >/dev/null 2>&1; then
		expect_exit 0 timeout 120 mpirun --oversubscribe --allow-run-as-root -n 2 "$TG_BIN" record -o "$TG_WORK/job" -- "$TG_NVTX_APP"
		expect_exit 0 "$TG_BIN" report "$TG_WORK/job"
		files+=("$TG_WORK/job/trace.json")
	fi
fi
timeout 300 node "$check" "$dist" "$chromium" "${files[@]}" >"$TG_WORK/speedscope.log" 2>&1
rc=$?
cat "$TG_WORK/speedscope.log"
[ "$rc" = 0 ] || fail "speedscope reported import warnings or did not load a file (above)"
# one profile per thread and state: cpu exact, cpu approx, ... each its own
n=$(grep -F "$R/profile.speedscope.json" "$TG_WORK/speedscope.log" | sed 's/.*"profiles":\([0-9]*\).*/\1/')
[ "$n" -ge 4 ] || fail "speedscope shows $n profiles of the run: expected one per thread and state"
python3 - "$R/profile.speedscope.json" <<'PY' || fail "profile.speedscope.json: profiles not per thread and state"
import json, sys
d = json.load(open(sys.argv[1]))
names = [p["name"] for p in d["profiles"]]
assert any(n.startswith("cpu exact: ") for n in names), names
# (the approx states are short: their samples may all land on one thread)
assert any(" approx: " in n for n in names), names
for p in d["profiles"]:
    assert len(p["samples"]) == len(p["weights"]), p["name"]
    assert p["endValue"] - p["startValue"] == sum(p["weights"]), p["name"]
PY

# the flame graphs' own script in the browser: the view from the URL
# fragment (an upper-case search with ignore-case on, the icicle layout), a
# click that zooms and is kept in the fragment, no script error
svgcheck="$(dirname "$0")/../viewers/svg_check.mjs"
for svg in "$R/cpu-cpu.svg" "$R/cpu.svg"; do
	timeout 120 node "$svgcheck" "$viewers/node_modules/playwright-core" "$chromium" "$svg" tg_cpu \
		>"$TG_WORK/svg.log" 2>&1 || { cat "$TG_WORK/svg.log"; fail "$(basename "$svg") does not work in the browser"; }
	cat "$TG_WORK/svg.log"
done
if [ -f "$R/diff-cpu-vs-rust.svg" ]; then
	timeout 120 node "$svgcheck" "$viewers/node_modules/playwright-core" "$chromium" "$R/diff-cpu-vs-rust.svg" fused \
		>"$TG_WORK/svg.log" 2>&1 || { cat "$TG_WORK/svg.log"; fail "the diff graph does not work in the browser"; }
fi
