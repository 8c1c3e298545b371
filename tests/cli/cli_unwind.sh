# The hybrid unwinder against libunwind, sample by sample: each program of
# the set (a frame-pointer caller of a frameless libm leaf, malloc and the
# string functions, threads waiting in glibc's futex code, a Rust leaf
# through std's libm wrapper) recorded with TG_SAMPLER_COMPARE_UNWIND=1,
# which unwinds every sample both ways; the stacks must agree on at least
# 95% of the samples of each (the libm caller was lost on 95%).
. "$(dirname "$0")/lib.sh"
case "${TG_SANITIZED:-OFF}" in ON | 1 | TRUE | true)
	echo "sanitizer build: record is tested in the release build"; exit 77 ;;
esac
case "${TG_HAVE_LIBUNWIND:-0}" in 1 | ON | TRUE | true) ;; *)
	echo "built without libunwind: nothing to compare the hybrid with"; exit 77 ;;
esac
IFS=: read -r -a apps <<<"$TG_UNWIND_APPS"
[ "${#apps[@]}" -ge 3 ] || fail "expected the unwinding programs in TG_UNWIND_APPS, got '$TG_UNWIND_APPS'"
for app in "${apps[@]}"; do
	name=$(basename "$app")
	extra=()
	[ "$name" = unwind_wait ] && extra=(--include-idle)
	out="$TG_WORK/$name"
	expect_exit 0 env TG_SAMPLER_COMPARE_UNWIND=1 "$TG_BIN" record --unwind auto "${extra[@]}" -o "$out" -- "$app"
	compared=$("$TG_JQ" "$out/results.json" .profile.unwind_compared)
	agreement=$("$TG_JQ" "$out/results.json" .profile.unwind_agreement)
	echo "$name: $compared samples unwound both ways, agreement $agreement"
	[ "$compared" -ge 100 ] || fail "$name: only $compared samples compared"
	awk -v a="$agreement" 'BEGIN { exit !(a >= 0.95) }' ||
		fail "$name: the hybrid's stacks agree with libunwind's on only $agreement of the samples"
done
# the caller of the libm leaf is in the profile, as libunwind sees it
grep -q "middle_a[^;]*;leaf_sin;__sin" "$TG_WORK/unwind_libm/cpu.folded" ||
	fail "unwind_libm: leaf_sin lost above sin"
