#!/usr/bin/env bash
# The GPU kit: everything a short GPU visit runs, built on this machine (one
# architecture, sm_90), carried to the GPU machine with the working tree,
# run there in two steps of a few minutes, each ending with a short table.
#
#   scripts/gpu-kit.sh prepare [KIT] [--from BUILD] [--no-fallback] [--with-emulator]
#       build (CUDA sm_90, static cudart) into build/gpu-kit-build and pack
#       into KIT (default build/gpu-kit): the binary, the record agent, the
#       GPU tests' programs and their list, the probe, the tools, their
#       shared libraries, and for a fallback build there the stripped Rust
#       library (gzip) and the Debian packages (scripts/offline-deps.sh).
#       --from BUILD packs an existing build tree instead (the dry run in
#       CI); --with-emulator (implied by --from) adds the dry run's
#       emulated stand-ins.
#   scripts/gpu-kit.sh [--dry-run] run 1|2 [KIT] [OUT]
#       on the GPU machine, from the repository root (OUT default
#       gpu-kit-out/step-N):
#       step 1: the machine, the latency and bandwidth probe
#         (tg_gpu_probe), every gpu-labelled test (tests/gpu-tests.list),
#         the exact-mode layouts A/B at four sizes;
#       step 2: the probe again, the benchmark matrix (cpu, rust, cuda at
#         20 x 1500, 500 x 10 000, 5000 x 1500) with the CUDA kernels against
#         their floor, the crossover sweep, the CPU backends' thread
#         scaling (1 thread to every CPU, and the default walk against
#         AVX2's: issue 15 on a many-core host), --profile both,
#         the CUPTI overhead, record of the benchmark, the sampler's overhead
#         against the empty-handler floor.
#       When the carried binary does not start there, it builds on that
#       machine (scripts/gpu-check.sh's build step, with the carried
#       packages and Rust library) and goes on with that build.
#       --dry-run: the same steps on a machine without a GPU, the emulated
#       device (trendgpu-bench-emul, tg_gpu_probe_emul, the tests' emulated
#       stand-ins) in the GPU's place and every workload tiny, so that a
#       script error never costs a GPU visit (tests/cli/cli_gpu_kit.sh).
#   scripts/gpu-kit.sh tests BUILD OUT [--emulated]
#       the GPU tests of BUILD/tests/gpu-tests.list alone (part of step 1).
#
# Each part of a step runs under a time limit (TG_KIT_PART_LIMIT seconds,
# default 240), and the step under its own (TG_KIT_STEP_LIMIT, default 450:
# a part gets what is left, the parts past it are skipped and named), so
# that a step ends well inside a device call's 10 minutes with its table
# printed even when a part hangs.
# TG_KIT_PARTS="..." runs only those parts (step 1: machine probe tests
# variants; step 2: probe bench sweep cpuscale profile overhead record sampler), to
# rerun what changed. Exit
# status: 0 when every part passed, 1 otherwise; 2 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

usage() {
	sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# ---- the GPU tests of a build (or a kit's build/) ----------------------------
# BUILD/tests/gpu-tests.list: name, environment, command, emulated extra
# environment, emulated command (tab-separated, "-" for none; @B@ @S@ @W@ the
# build tree, the source tree, a work folder)
run_tests() { # BUILD OUT [--emulated]
	local b=$1 o=$2 emulated=${3:-} list="$1/tests/gpu-tests.list"
	if [ ! -f "$list" ]; then
		echo "no $list" >&2
		return 1
	fi
	mkdir -p "$o"
	b=$(cd "$b" && pwd)
	o=$(cd "$o" && pwd)
	local pass=0 fail=0 skip=0 failed="" name env cmd eenv ecmd rc
	: >"$o/tests.txt"
	while IFS=$'\t' read -r name env cmd eenv ecmd; do
		[ -n "$name" ] || continue
		if [ -n "$emulated" ]; then
			if [ "$ecmd" = "-" ]; then
				echo "$name skipped (no emulated stand-in)" | tee -a "$o/tests.txt"
				skip=$((skip + 1))
				continue
			fi
			cmd=$ecmd
			[ "$eenv" != "-" ] && env="$env;$eenv"
		fi
		local vars=()
		local IFS_=$IFS
		IFS=';' read -r -a vars <<<"$env"
		IFS=$IFS_
		local sub=()
		for v in "${vars[@]}" ; do
			v=${v//@B@/$b}
			v=${v//@S@/$root}
			v=${v//@W@/$o/work}
			sub+=("$v")
		done
		cmd=${cmd//@B@/$b}
		cmd=${cmd//@S@/$root}
		mkdir -p "$o/work/$name"
		local t0=$SECONDS
		# shellcheck disable=SC2086 # the command is words
		timeout "${TG_KIT_TEST_LIMIT:-300}" env "${sub[@]}" $cmd >"$o/$name.log" 2>&1
		rc=$?
		case $rc in
		0) pass=$((pass + 1)) r=passed ;;
		77) skip=$((skip + 1)) r=skipped ;;
		*) fail=$((fail + 1)) r="FAILED (exit $rc)" failed="$failed $name" ;;
		esac
		echo "$name $r $((SECONDS - t0)) s" | tee -a "$o/tests.txt"
		[ $rc -ne 0 ] && [ $rc -ne 77 ] && tail -20 "$o/$name.log"
	done <"$list"
	echo "gpu tests: $pass passed, $fail failed, $skip skipped${failed:+ (failed:$failed)}" | tee -a "$o/tests.txt"
	if [ $((pass + fail)) -eq 0 ]; then
		echo "no GPU test ran: no usable device here (or, in a dry run, no emulated stand-ins)"
		return 1
	fi
	[ $fail -eq 0 ]
}

# ---- prepare -----------------------------------------------------------------
kit_programs=(trendgpu-bench libtgrecord.so tests/test_atc_golden tests/test_backend
	tests/test_cupti_gpu tests/tg_gpu_probe tests/tg_jq tests/tg_tracecheck tests/tg_csvcmp
	tests/nvtx_app tests/tg_bench_sigfloor)
# the dry run's stand-ins (not needed on a GPU machine: 20 MB)
emul_programs=(trendgpu-bench-emul tests/test_atc_golden_emul tests/test_backend_emul
	tests/tg_gpu_probe_emul)
kit_targets() { local p; for p in "$@"; do p=${p##*/}; p=${p#lib}; echo "${p%.so}"; done; }

prepare() {
	local kit=build/gpu-kit from="" fallback=1 emul=""
	while [ $# -gt 0 ]; do
		case $1 in
		--from) from=${2:?--from needs a build tree}; emul=1; shift ;;
		--no-fallback) fallback= ;;
		--with-emulator) emul=1 ;;
		-*) usage ;;
		*) kit=$1 ;;
		esac
		shift
	done
	local b programs=("${kit_programs[@]}")
	[ -n "$emul" ] && programs+=("${emul_programs[@]}")
	if [ -n "$from" ]; then
		b=$(cd "$from" && pwd) || return 1
		echo "packing the build tree $b"
	else
		b="$root/build/gpu-kit-build"
		echo "configuring $b: CUDA sm_90 only, Release"
		cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Release -DTG_WITH_CUDA=ON \
			-DCMAKE_CUDA_ARCHITECTURES=90 >"$b.configure.log" 2>&1 ||
			{ tail -30 "$b.configure.log"; echo "configure FAILED"; return 1; }
		grep "trendgpu-bench:" "$b.configure.log"
		local have targets=()
		have=$(cmake --build "$b" --target help 2>/dev/null)
		for t in $(kit_targets "${programs[@]}"); do
			grep -q "\.\.\. $t\$" <<<"$have" && targets+=("$t")
		done
		echo "building ${targets[*]}"
		local t0=$SECONDS
		cmake --build "$b" -j "$(nproc)" --target "${targets[@]}" >"$b.build.log" 2>&1 ||
			{ tail -40 "$b.build.log"; echo "build FAILED"; return 1; }
		echo "built in $((SECONDS - t0)) s"
	fi
	rm -rf "$kit"
	mkdir -p "$kit/build/tests" "$kit/lib"
	kit=$(cd "$kit" && pwd)
	local p copied=()
	for p in "${programs[@]}"; do
		[ -f "$b/$p" ] || continue
		cp "$b/$p" "$kit/build/$p"
		# debug sections off (the symbol tables stay: profiles name functions)
		objcopy --strip-debug "$kit/build/$p" 2>/dev/null || true
		copied+=("$p")
	done
	cp "$b/tests/gpu-tests.list" "$kit/build/tests/"
	if [ ! -x "$kit/build/trendgpu-bench" ]; then
		echo "no trendgpu-bench in $b"
		return 1
	fi
	# the shared libraries they load, but the C library's, the loader's and the
	# driver's (those must be the GPU machine's own)
	local lib
	for p in "${copied[@]}"; do
		ldd "$kit/build/$p" 2>/dev/null | awk '$3 ~ /^\// { print $3 }'
	done | sort -u | while read -r lib; do
		case ${lib##*/} in
		libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux* | libcuda.so* | libnvidia*) ;;
		*) cp -L "$lib" "$kit/lib/" ;;
		esac
	done
	if [ -n "$fallback" ]; then
		local rlib="$b/kernels/cargo/release/libtg_atc_rs.a"
		if [ -f "$rlib" ]; then
			mkdir -p "$kit/rust"
			cp "$rlib" "$kit/rust/"
			strip --strip-debug "$kit/rust/libtg_atc_rs.a" 2>/dev/null || true
			gzip -9 "$kit/rust/libtg_atc_rs.a" # 14 MB -> a few; unpacked by a fallback
		fi
		if scripts/offline-deps.sh fetch "$kit/debs" >/dev/null 2>&1; then
			echo "carried $(ls "$kit/debs" | wc -l) Debian packages for a fallback build"
		else
			echo "could not download the Debian packages (no registry here): a fallback build needs the GPU machine's own"
			rm -rf "$kit/debs"
		fi
	fi
	{
		echo "commit $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (uncommitted changes)')"
		echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), from $b"
		grep -E "^CMAKE_CUDA_ARCHITECTURES:|^CMAKE_BUILD_TYPE:" "$b/CMakeCache.txt" 2>/dev/null
		echo "programs: ${copied[*]}"
		echo "libraries: $(ls "$kit/lib" | tr '\n' ' ')"
	} >"$kit/kit.txt"
	cat "$kit/kit.txt"
	local mib
	mib=$(du -sm "$kit" | cut -f1)
	echo "kit: $kit, $mib MiB"
	if [ "$mib" -gt "${TG_KIT_MAX_MIB:-56}" ]; then
		echo "the kit is over ${TG_KIT_MAX_MIB:-56} MiB: it would not travel with the tree (64 MiB in all)"
		return 1
	fi
}

# ---- run ---------------------------------------------------------------------
part_status=0
# NAME FUNCTION ARGS...: one part of a step, timed, under the time limit (the
# script runs itself for it: a function cannot be put in a session)
part() {
	local name=$1 t0=$SECONDS rc
	shift
	if [ -n "${TG_KIT_PARTS:-}" ] && [[ " $TG_KIT_PARTS " != *" $name "* ]]; then
		return 0
	fi
	# the step's budget: a part gets what is left of it, at most its own limit
	local limit=${TG_KIT_PART_LIMIT:-240} left=$((step_deadline - SECONDS))
	if [ $left -lt 5 ]; then
		echo
		echo "==== $name: not run, the step's ${TG_KIT_STEP_LIMIT:-450} s are spent"
		part_status=1
		echo "$name skipped 0" >>"$out/parts.txt"
		return 0
	fi
	[ $left -lt "$limit" ] && limit=$left
	echo
	echo "==== $name"
	# in a session of its own, so that at the limit, and after it ends, every
	# process it started goes too (timeouts nested inside make process
	# groups of their own; the session holds them all)
	setsid "$root/scripts/gpu-kit.sh" __part "$@" &
	local pid=$! end=$((SECONDS + limit)) timed_out=""
	while kill -0 "$pid" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			timed_out=1
			pkill -TERM -s "$pid" 2>/dev/null
			sleep 2
			pkill -KILL -s "$pid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$pid"
	rc=$?
	pkill -KILL -s "$pid" 2>/dev/null
	if [ -n "$timed_out" ]; then
		rc=124
		echo "$name: stopped at the $limit s limit"
	fi
	[ $rc -ne 0 ] && part_status=1
	echo "$name $rc $((SECONDS - t0))" >>"$out/parts.txt"
	return 0
}

machine() {
	date -u
	uname -a
	nproc
	nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1 ||
		echo "nvidia-smi unavailable"
}

probe() {
	# shellcheck disable=SC2086 # the probe's arguments are words
	"$PROBE" $PROBE_ARGS | tee "$out/probe.txt"
	return "${PIPESTATUS[0]}"
}

gpu_check() { # STEPS...: those steps of scripts/gpu-check.sh on this build
	TG_GPU_CHECK_BUILD="$B" TG_GPU_CHECK_BIN="$BIN" TG_GPU_CHECK_STEPS="$*" \
		TG_SKIP_BOOTSTRAP=1 TG_GPU_CHECK_DRY="$dry" scripts/gpu-check.sh "$out/gpu-check"
}

jq_() { "$B/tests/tg_jq" "$@" 2>/dev/null; }

# a run directory's states, one line each: backend ma wall_ms kernel_ms
# kernel_bytes ("-" where a backend has no device time)
states_of() {
	local j="$1/results.json" n i
	n=$(jq_ "$j" 'length(.states)') || return 0
	for ((i = 0; i < n; i++)); do
		awk -v b="$(jq_ "$j" ".states[$i].backend")" -v m="$(jq_ "$j" ".states[$i].ma")" \
			-v w="$(jq_ "$j" ".states[$i].wall_ns.median")" -v k="$(jq_ "$j" ".states[$i].kernel_ns.median")" \
			-v by="$(jq_ "$j" ".states[$i].kernel_bytes_per_rep")" \
			'BEGIN { printf "%s %s %.3f %s %s\n", b, m, w / 1e6, (k == "" ? "-" : sprintf("%.3f", k / 1e6)), (by == "" ? "-" : by) }'
	done
}

summary1() {
	echo
	echo "======== gpu-kit step 1${dry:+ (dry run: the emulated device, figures meaningless)}"
	grep -E "^device|^clock" "$out/probe.txt" 2>/dev/null | sed 's/^/  /'
	echo "  latency, cycles per dependent link (ns):"
	awk '$1 == "latency" && $2 != "loop" { printf "    %-10s %7s  (%s ns)\n", $2, $3, $4 }' "$out/probe.txt" 2>/dev/null
	echo "  copy bandwidth, GB/s:"
	awk '$1 == "bandwidth" { printf "    %-12s %s\n", $2, $3 }' "$out/probe.txt" 2>/dev/null
	echo "  $(tail -1 "$out/tests/tests.txt" 2>/dev/null || echo "gpu tests: did not run")"
	echo "  exact-mode variants against lanes (< 1: the variant faster):"
	sed -n '/^variant \/ lanes/,/^$/p' "$out/gpu-check/gpu-check.log" 2>/dev/null | grep "rounds)" | sed 's/^ */    /'
}

summary2() {
	echo
	echo "======== gpu-kit step 2${dry:+ (dry run: the emulated device, figures meaningless)}"
	echo "  benchmark, median ms end-to-end (kernels):"
	local d
	for d in "$out"/gpu-check/run-*; do
		[ -d "$d" ] || continue
		echo "    ${d##*/run-}: $(states_of "$d" | awk '{ printf "%s%s %s %s%s", (NR > 1 ? ", " : ""), $1, $2, $3, ($4 == "-" ? "" : " (" $4 ")") }')"
	done | sort -t x -k1,1n
	echo "  sweep (symbols cpu_ns cuda_ns cuda_kernel_ns), cuda first faster at:"
	awk 'NR > 1 && $3 != "None" && $3 + 0 < $2 + 0 && !f { f = $1 } END { print "    " (f ? f " symbols" : "none of the sizes") }' \
		"$out/gpu-check/sweep.txt" 2>/dev/null
	echo "  CPU backends, exact, speed-up over 1 thread (cpu rust), and the default walk over AVX2 at 1 thread:"
	awk 'NR > 1 && $3 != "None" { if ($2 == "avx2") { a = $3; ar = $4 } else { if ($1 == 1) { c1 = $3; r1 = $4 } t[++n] = $1; c[n] = $3; r[n] = $4 } }
	END { for (i = 1; i <= n; i++) printf "%s%s %.2f %.2f", (i > 1 ? ", " : "    "), t[i] "t", c1 / c[i], (r[i] != "None" && r1 != "None" ? r1 / r[i] : 0)
		if (n) print ""
		if (a && c1) printf "    default walk %.2fx (cpu), %.2fx (rust) the AVX2 walk\n", a / c1, (ar != "None" && r1 != "None" ? ar / r1 : 0) }' \
		"$out/gpu-check/cpuscale.txt" 2>/dev/null
	echo "  CUPTI overhead (profile gpu / none, median of rounds):"
	awk 'NR > 1 { k = $1; if ($2 == "none") n[k, $3] = $4; else g[k, $3] = $4; w[k] = 1 }
	END { for (k in w) { m = 0; for (r = 1; r <= 9; r++) if ((k, r) in n && n[k, r] > 0) { v[++m] = g[k, r] / n[k, r] }
		for (i = 2; i <= m; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
		if (m) printf "    %-10s %.3f (%d rounds)\n", k, v[int((m + 1) / 2)], m } }' \
		"$out/gpu-check/overhead.txt" 2>/dev/null
	floor_table
	local d2
	for d2 in profile-both record; do
		[ -f "$out/gpu-check/$d2/results.json" ] || continue
		echo "  $d2: GPU traced $(jq_ "$out/gpu-check/$d2/results.json" .profile.gpu.traced || echo "?"), $(jq_ "$out/gpu-check/$d2/results.json" .profile.gpu.kernels || echo "?") kernels"
	done
	echo "  sampler: the tick's floor, then profiled / plain per unwinder:"
	sed -n '/^== host sampler overhead/,$p' "$out/gpu-check/gpu-check.log" 2>/dev/null |
		grep -E "empty SIGPROF handler|^  unwinder|median over rounds and states" | cut -c1-110 | sed 's/^ */    /'
}

# issue 17's goal: the kernels within 3x of max(bytes / measured copy
# bandwidth, chain depth x measured per-step latency). The chain: a bar's
# first-order recurrence (an EMA step: one DMUL, one DADD) per bar, the
# least any walk over the bars waits; bytes: what the kernels move
# (results.json kernel_bytes_per_rep); the bandwidth: the probe's
# device-to-device copy (read + write).
floor_table() {
	local p="$out/probe.txt" bw mul add
	bw=$(awk '$1 == "bandwidth" && $2 == "dtod" { print $3 }' "$p" 2>/dev/null)
	mul=$(awk '$1 == "latency" && $2 == "dmul" { print $4 }' "$p" 2>/dev/null)
	add=$(awk '$1 == "latency" && $2 == "dadd" { print $4 }' "$p" 2>/dev/null)
	if [ -z "$bw" ] || [ -z "$mul" ] || [ -z "$add" ]; then
		echo "  floor: no probe figures (the probe part did not run)"
		return 0
	fi
	echo "  cuda kernels against the floor max(bytes / $bw GB/s, bars x (DMUL + DADD) = $mul + $add ns):"
	local d bars
	for d in "$out"/gpu-check/run-*; do
		bars=$(jq_ "$d/results.json" .params.max_bars) || continue
		states_of "$d" | awk -v w="${d##*/run-}" -v bw="$bw" -v bars="$bars" -v mul="$mul" -v add="$add" \
			'$1 == "cuda" && $4 != "-" { fb = $5 / (bw * 1e9) * 1e3; fc = bars * (mul + add) / 1e6; f = fb > fc ? fb : fc
			printf "    %-10s cuda %-6s kernels %.3f ms; floor %.3f ms (bandwidth %.3f, chain %.3f): %.1fx\n", w, $2, $4, f, fb, fc, (f > 0 ? $4 / f : 0) }'
	done | sort -t x -k1,1n
}

run_step() {
	local n=${1:-} kit=${2:-build/gpu-kit}
	[ "$n" = 1 ] || [ "$n" = 2 ] || usage
	out=${3:-gpu-kit-out/step-$n}
	# a step starts afresh: a previous step's outputs there are replaced,
	# anything else is left alone
	if [ -f "$out/kit.log" ]; then
		rm -rf "$out"
	elif [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
		echo "$out holds something other than a kit step's outputs: name a new folder"
		return 2
	fi
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	: >"$out/parts.txt"
	step_deadline=$((SECONDS + ${TG_KIT_STEP_LIMIT:-450}))
	exec > >(tee -a "$out/kit.log") 2>&1
	if [ ! -d "$kit/build" ]; then
		echo "no kit in $kit: scripts/gpu-kit.sh prepare first"
		return 1
	fi
	kit=$(cd "$kit" && pwd)
	local own_ld=${LD_LIBRARY_PATH:-}
	export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	B="$kit/build" BIN=trendgpu-bench PROBE="$kit/build/tests/tg_gpu_probe" PROBE_ARGS=""
	head -3 "$kit/kit.txt" 2>/dev/null
	if [ -n "$dry" ]; then
		BIN=trendgpu-bench-emul PROBE="$B/tests/tg_gpu_probe_emul" PROBE_ARGS="256 8"
		[ -x "$B/$BIN" ] || { echo "the kit has no $BIN: prepare it with --with-emulator (or --from)"; return 1; }
	elif ! "$B/$BIN" info >"$out/info.txt" 2>&1; then
		echo "the carried binary does not start here:"
		tail -3 "$out/info.txt"
		echo "fallback: building on this machine"
		# with the machine's own libraries: the kit's would be handed to its
		# compilers and CMake too, and to the programs built against its own
		if [ -n "$own_ld" ]; then export LD_LIBRARY_PATH=$own_ld; else unset LD_LIBRARY_PATH; fi
		local fb="$root/build/gpu-check" rlib=""
		if [ -f "$kit/rust/libtg_atc_rs.a.gz" ]; then
			rlib=/tmp/tg-gpu-kit-rust/libtg_atc_rs.a
			mkdir -p "${rlib%/*}" && gzip -dc "$kit/rust/libtg_atc_rs.a.gz" >"$rlib"
		fi
		TG_GPU_CHECK_STEPS=build TG_SKIP_BOOTSTRAP=1 TG_CUDA_ARCHS="${TG_KIT_FALLBACK_ARCHS:-native}" \
			TG_DEPS_DEBS=$([ -d "$kit/debs" ] && echo "$kit/debs") \
			TG_RUST_LIB="$rlib" \
			scripts/gpu-check.sh "$out/fallback-build" || { echo "fallback build FAILED"; return 1; }
		B=$fb PROBE="$fb/tests/tg_gpu_probe"
	fi
	export B BIN PROBE PROBE_ARGS out dry
	"$B/$BIN" info | sed -n '/^backends:/,/^profiling:/p' | grep -A2 "^  cuda"
	if [ "$n" = 1 ]; then
		part machine machine
		part probe probe
		part tests run_tests "$B" "$out/tests" ${dry:+--emulated}
		part variants gpu_check variants
		summary1
	else
		local s
		# the probe again (seconds): the floor's bandwidth and latencies
		part probe probe
		for s in bench sweep cpuscale profile overhead record sampler; do
			part "$s" gpu_check "$s"
		done
		summary2
	fi
	echo "  parts (exit status, seconds): $(awk '{ printf "%s%s %s %ss", (NR > 1 ? ", " : ""), $1, $2, $3 }' "$out/parts.txt")"
	echo "  outputs: $out"
	return $part_status
}

# (a part, run by part(), inherits dry from the step's environment)
[ "${1:-}" = __part ] || dry=
[ "${1:-}" = --dry-run ] && { dry=1; shift; }
case ${1:-} in
prepare) shift; prepare "$@" ;;
run) shift; run_step "$@" ;;
tests) shift; [ $# -ge 2 ] || usage; run_tests "$@" ;;
__part) shift; "$@" ;; # part(): one function, run under timeout
*) usage ;;
esac
