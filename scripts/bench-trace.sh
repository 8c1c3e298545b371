#!/usr/bin/env bash
# Trace writing speed (goal: >= 2 million trace events per second):
# tg_bench_trace builds a capture of N launches (NVTX range + API call +
# kernel/copy + flow each) and writes trace.json 5 times; the median counts.
# usage: scripts/bench-trace.sh [LAUNCHES] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-250000}
build=${2:-build}
cmake --build "$build" --target tg_bench_trace -j "$(nproc)" >/dev/null
"$build/tests/tg_bench_trace" "$n" "${TMPDIR:-/tmp}/tg_bench_trace.$$.json"
