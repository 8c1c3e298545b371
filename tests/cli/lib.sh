# Helpers for the command-line scenarios. Each script is run by ctest with
# TG_BIN (the binary), TG_JQ, TG_CSVCMP (test tools), TG_GOLDEN (tests/golden)
# and a fresh TG_WORK directory.
set -u
: "${TG_BIN:?}" "${TG_JQ:?}" "${TG_CSVCMP:?}" "${TG_GOLDEN:?}" "${TG_WORK:?}"
rm -rf "$TG_WORK" && mkdir -p "$TG_WORK"
OUT="$TG_WORK/stdout"
ERR="$TG_WORK/stderr"
export TG_PROFILES_DIR="$TG_WORK/profiles"
# the host roof measured once for all the scenarios, not in the user's home
export TG_CACHE_DIR="$TG_WORK/../cache"

fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout" >&2; cat "$OUT" >&2 2>/dev/null
	echo "--- stderr" >&2; cat "$ERR" >&2 2>/dev/null
	exit 1
}

# expect_exit CODE CMD...: runs CMD, stdout/stderr to $OUT/$ERR.
expect_exit() {
	local want=$1
	shift
	"$@" >"$OUT" 2>"$ERR"
	local rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want"
	echo "ok: exit $rc: $*"
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
	grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2"
}

expect_not_in() {
	! grep -qF -- "$2" "$1" || fail "$(basename "$1") should not contain: $2"
}

# expect_json FILE PATH VALUE
expect_json() {
	local got
	got=$("$TG_JQ" "$1" "$2") || fail "$1: no value at $2"
	[ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}

# has_nvtx: the binary was built with the NVTX headers (its ranges are in
# every timeline); a build without the CUDA toolkit has none.
has_nvtx() {
	"$TG_BIN" info | grep -q "^  nvtx .*injection"
}

# expect_stdout_checked CMD...: CMD fails (exit 1, a message) when its
# standard output is a full disk, and when it is a pipe nobody reads.
expect_stdout_checked() {
	"$@" >/dev/full 2>"$ERR"
	local rc=$?
	[ "$rc" = 1 ] || fail "'$*' >/dev/full exited $rc, expected 1"
	expect_in "$ERR" "writing to standard output: No space left on device"
	python3 - "$@" 2>"$ERR" <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
sys.stderr.write(p.stderr.decode())
sys.exit(p.returncode)
PY
	rc=$?
	[ "$rc" = 1 ] || fail "'$*' into a closed pipe exited $rc, expected 1"
	expect_in "$ERR" "writing to standard output: Broken pipe"
	echo "ok: stdout checked: $*"
}
