# Helpers for the command-line scenarios. Each script is run by ctest with
# TG_BIN (the binary), TG_JQ, TG_CSVCMP (test tools), TG_GOLDEN (tests/golden)
# and a fresh TG_WORK directory.
set -u
: "${TG_BIN:?}" "${TG_JQ:?}" "${TG_CSVCMP:?}" "${TG_GOLDEN:?}" "${TG_WORK:?}"
rm -rf "$TG_WORK" && mkdir -p "$TG_WORK"
OUT="$TG_WORK/stdout"
ERR="$TG_WORK/stderr"
export TG_PROFILES_DIR="$TG_WORK/profiles"

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
