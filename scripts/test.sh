#!/usr/bin/env bash
# Sets up and runs the whole test suite, as CI does:
#   1. installs missing Debian packages (scripts/bootstrap.sh),
#   2. a Release build with every feature found, all ctest labels
#      (GPU tests skip with exit 77 where there is no device),
#   3. a CPU-only build (CMake told not to find the CUDA toolkit, no Rust):
#      unit, golden and cli labels,
#   4. an AddressSanitizer + UndefinedBehaviorSanitizer build of the CPU code,
#      running the unit, golden and cli labels.
# BUILD_ROOT (default build/) holds both trees.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
root=${BUILD_ROOT:-build}
jobs=$(nproc 2>/dev/null || echo 2)

echo "== release build"
cmake -S . -B "$root/release" -DCMAKE_BUILD_TYPE=Release
cmake --build "$root/release" -j "$jobs"
(cd "$root/release" && ctest --output-on-failure -j "$jobs")

echo "== CPU-only build (no CUDA toolkit, no Rust: what the README promises)"
cmake -S . -B "$root/cpu-only" -DCMAKE_BUILD_TYPE=Release -DTG_WITH_CUDA=OFF -DTG_WITH_RUST=OFF \
	-DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON
cmake --build "$root/cpu-only" -j "$jobs"
(cd "$root/cpu-only" && ctest --output-on-failure -j "$jobs" -L "unit|golden|cli")

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B "$root/asan" -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON -DTG_WITH_CUDA=OFF
cmake --build "$root/asan" -j "$jobs"
# intercept_tls_get_addr=0: GCC 12's sanitizer runtime takes a dynamic TLS
# block that happens to start 16 bytes past a page for a glibc-2.19 header,
# and LeakSanitizer's tracer then crashes at exit ("Tracer caught signal 11",
# seen with the dlopen'd CUPTI; google/sanitizers#1322)
(cd "$root/asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --output-on-failure -j "$jobs" -L "unit|golden|cli")
echo "== all tests passed"
