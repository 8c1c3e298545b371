#!/usr/bin/env bash
# Sets up and runs the whole test suite, as CI does:
#   1. installs missing Debian packages (scripts/bootstrap.sh --test),
#   2. a Release build with every feature found, all ctest labels
#      (GPU tests skip with exit 77 where there is no device),
#   3. a CPU-only build (CMake told not to find the CUDA toolkit, no Rust):
#      unit, golden and cli labels,
#   4. an AddressSanitizer + UndefinedBehaviorSanitizer build of the CPU code,
#      running the unit, golden and cli labels,
#   5. the host code cross-compiled for aarch64, its unit and golden tests
#      run under qemu-aarch64,
#   6. cppcheck (warning, performance) over every file the Release build compiles,
#   7. every fuzz target under libFuzzer for TG_FUZZ_SECONDS (default 15) each.
# BUILD_ROOT (default build/) holds the trees; TG_TEST_STEPS="release asan"
# runs a subset (names: release cpu-only asan aarch64 cppcheck fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
root=${BUILD_ROOT:-build}
jobs=$(nproc 2>/dev/null || echo 2)
steps=${TG_TEST_STEPS:-"release cpu-only asan aarch64 cppcheck fuzz"}
want() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }
started=$SECONDS
step() { echo "== $1 ($((SECONDS - started)) s in)"; }
no_cuda=(-DTG_WITH_CUDA=OFF -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON)
# intercept_tls_get_addr=0: GCC 12's sanitizer runtime takes a dynamic TLS
# block that happens to start 16 bytes past a page for a glibc-2.19 header,
# and LeakSanitizer's tracer then crashes at exit ("Tracer caught signal 11",
# seen with the dlopen'd CUPTI; google/sanitizers#1322)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if want release; then
	step "release build"
	cmake -S . -B "$root/release" -DCMAKE_BUILD_TYPE=Release
	cmake --build "$root/release" -j "$jobs"
	(cd "$root/release" && ctest --output-on-failure -j "$jobs")
fi

if want cpu-only; then
	step "CPU-only build (no CUDA toolkit, no Rust, no MPI: what the README promises)"
	cmake -S . -B "$root/cpu-only" -DCMAKE_BUILD_TYPE=Release -DTG_WITH_RUST=OFF -DTG_WITH_MPI=OFF "${no_cuda[@]}"
	cmake --build "$root/cpu-only" -j "$jobs"
	(cd "$root/cpu-only" && ctest --output-on-failure -j "$jobs" -L "unit|golden|cli")
fi

if want asan; then
	step "sanitizer build (ASan + UBSan)"
	cmake -S . -B "$root/asan" -DCMAKE_BUILD_TYPE=Debug -DTG_SANITIZE=ON -DTG_WITH_CUDA=OFF
	cmake --build "$root/asan" -j "$jobs"
	# hwloc's PCI plugin (libhwloc-plugins, which Open MPI pulls in) leaks
	# 1 KB per topology load inside libpciaccess, from a module unloaded
	# before LeakSanitizer can name it; the sanitizer run does without it
	# Open MPI's own start-up allocations are never freed (some from
	# components it unloads before LeakSanitizer can name them): the MPI
	# runs are checked for memory errors, their leaks are not; our side of
	# a split run is leak-checked by test_run (ranks as threads)
	(cd "$root/asan" && HWLOC_PLUGINS_BLACKLIST=hwloc_pci ctest --output-on-failure -j "$jobs" -L "unit|golden|cli" -E '^cli_mpi$')
	(cd "$root/asan" && HWLOC_PLUGINS_BLACKLIST=hwloc_pci ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
		ctest --output-on-failure -R '^cli_mpi$')
fi

if want aarch64; then
	step "aarch64 cross build, tests under qemu-aarch64"
	cmake -S . -B "$root/aarch64" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
		-DCMAKE_BUILD_TYPE=Release -DTG_WITH_RUST=OFF -DTG_WITH_MPI=OFF "${no_cuda[@]}"
	cmake --build "$root/aarch64" -j "$jobs"
	file "$root/aarch64/trendgpu-bench" | grep -q "ARM aarch64" ||
		{ echo "the aarch64 build did not make an aarch64 binary" >&2; exit 1; }
	(cd "$root/aarch64" && ctest --output-on-failure -j "$jobs" -L "unit|golden")
fi

if want cppcheck; then
	step "cppcheck"
	[ -f "$root/release/compile_commands.json" ] ||
		cmake -S . -B "$root/release" -DCMAKE_BUILD_TYPE=Release >/dev/null
	# passedByValue in the CUDA kernels: a kernel's parameters are copied to
	# the device's constant bank at launch; by value is how kernels take them
	cppcheck --project="$root/release/compile_commands.json" --enable=warning,performance \
		--inline-suppr --quiet --error-exitcode=1 -j "$jobs" \
		--suppress=missingIncludeSystem --suppress=passedByValue:kernels/cuda/cuda_kernels.cu
	echo "cppcheck: clean"
fi

if want fuzz; then
	step "fuzzing (libFuzzer, ASan + UBSan)"
	TG_FUZZ_SECONDS=${TG_FUZZ_SECONDS:-15} BUILD_ROOT="$root" scripts/fuzz.sh
fi
echo "== all tests passed ($((SECONDS - started)) s)"
