#!/usr/bin/env bash
# Do the regression verdicts hold? Same-commit pairs of nightly benchmark
# runs (nothing changed: every regression reported is a false alarm), then
# nights with a backend made slower on purpose (each must be caught).
#
#   scripts/bench-verdicts.sh BUILD_DIR [OUTDIR]
#
# Environment: PAIRS (default 5), SLOWDOWNS (percent, default "25 50"),
# TG_NIGHTLY_QUICK (default 1: the quick matrix; empty: the full one),
# PLAIN_THRESHOLD (percent, default 5: what the workflow used to set),
# LOAD_B=1: a busy loop on one CPU during the second night of each pair
# (the machine got busier between two runs of the same program: drift).
# For every pair it reports what the nightly concluded (suspected and
# confirmed regressions) and, for contrast, what a plain rule would have
# said: compare at PLAIN_THRESHOLD with no drift allowance and every state
# judged alone (--drift 0 --no-common). Prints a Markdown table.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: bench-verdicts.sh BUILD_DIR [OUTDIR]}" && pwd)
out=${2:-$(mktemp -d /tmp/tg-verdicts.XXXXXX)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tg="$build/trendgpu-bench"
pairs=${PAIRS:-5}
plain_threshold=${PLAIN_THRESHOLD:-5}
export TG_NIGHTLY_BUILD="$build" TG_SKIP_BOOTSTRAP=1 TG_NIGHTLY_STEPS=bench
export TG_NIGHTLY_QUICK=${TG_NIGHTLY_QUICK-1}
# shellcheck source=nightly.conf
. "$root/scripts/nightly.conf"
if [ -n "$TG_NIGHTLY_QUICK" ]; then
	threshold=${TG_NIGHTLY_THRESHOLD:-$TG_NIGHTLY_THRESHOLD_QUICK}
	read -r -a sizes <<<"$TG_NIGHTLY_SIZES_QUICK"
else
	threshold=${TG_NIGHTLY_THRESHOLD:-$TG_NIGHTLY_THRESHOLD_FULL}
	read -r -a sizes <<<"$TG_NIGHTLY_SIZES_FULL"
fi

# night DIR [INJECT]: one nightly benchmark night; its exit status
night() {
	TG_NIGHTLY_INJECT="${2:-}" bash "$root/scripts/nightly.sh" "$1" >"$1.log" 2>&1
}
# confirmed / suspected regressions of a night, from its summary
confirmed() { grep -c '| \*\*regression\*\* (confirmed' "$1/summary.md" 2>/dev/null || true; }
suspected() { grep -cE '\| (\*\*regression\*\* \(confirmed|suspected \()' "$1/summary.md" 2>/dev/null || true; }
# regressions a plain rule reports over every size of two nights
plain() {
	local n=0 size
	for size in "${sizes[@]}"; do
		"$tg" compare "$1/bench-$size/results.json" "$2/bench-$size/results.json" \
			--threshold "$plain_threshold" --drift 0 --no-common --json "$2/plain-$size.json" \
			>/dev/null 2>&1
		n=$((n + $(grep -o '"regressions": [0-9]*' "$2/plain-$size.json" | awk '{print $2}')))
	done
	echo "$n"
}

echo "| pair | sizes | nightly (threshold ${threshold}% + drift): suspected | confirmed | plain rule (${plain_threshold}%, no drift allowance, alone): regressions |"
echo "|---|---|---|---|---|"
total_confirmed=0
total_plain=0
for i in $(seq 1 "$pairs"); do
	export TG_NIGHTLY_HISTORY="$out/aa-$i.db"
	rm -f "$TG_NIGHTLY_HISTORY"
	night "$out/aa-$i-a"
	hog=""
	if [ -n "${LOAD_B:-}" ]; then
		sh -c 'while :; do :; done' &
		hog=$!
	fi
	night "$out/aa-$i-b"
	[ -n "$hog" ] && kill "$hog"
	c=$(confirmed "$out/aa-$i-b")
	s=$(suspected "$out/aa-$i-b")
	p=$(plain "$out/aa-$i-a" "$out/aa-$i-b")
	total_confirmed=$((total_confirmed + c))
	total_plain=$((total_plain + p))
	echo "| $i (same commit${LOAD_B:+, the second under load}) | ${sizes[*]} | $s | $c | $p |"
done
echo
echo "Same-commit pairs: $total_confirmed confirmed regressions (goal 0); the plain rule: $total_plain."
echo
echo "| slowdown injected (C backend, every size) | sizes caught (confirmed) | of |"
echo "|---|---|---|"
for pct in ${SLOWDOWNS-25 50}; do
	export TG_NIGHTLY_HISTORY="$out/slow-$pct.db"
	rm -f "$TG_NIGHTLY_HISTORY"
	inject=""
	for size in "${sizes[@]}"; do
		inject="$inject $size=cpu:$pct"
	done
	night "$out/slow-$pct-a"
	night "$out/slow-$pct-b" "$inject"
	echo "| ${pct}% | $(confirmed "$out/slow-$pct-b") | ${#sizes[@]} |"
done
echo
echo "outputs: $out"
