#!/usr/bin/env bash
# Installs the Debian packages trendgpu-bench needs to build and test.
# Idempotent: packages already present are skipped, and when everything is
# there it touches nothing (no apt-get update, no network).
#
#   scripts/bootstrap.sh            # build + test dependencies
#   TG_BOOTSTRAP_DRY_RUN=1 scripts/bootstrap.sh   # only print what is missing
set -euo pipefail

packages=(
  cmake make gcc g++ pkg-config
  libcmocka-dev        # unit tests
  libhwloc-dev         # topology and affinity
  libdw-dev libelf-dev # symbolization (file:line)
  libiberty-dev        # C++ / Rust demangling
  libunwind-dev        # host stack unwinding
  libsqlite3-dev       # benchmark history
  libjansson-dev       # reading results.json (compare, tests)
  python3              # small checks in the CLI tests
  chromium             # report.html checked in a headless browser (tests)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Rust: rustup's cargo in ~/.cargo/bin counts; otherwise Debian's cargo.
if ! command -v cargo >/dev/null 2>&1 && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  missing+=(cargo)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all dependencies present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
if [ -n "${TG_BOOTSTRAP_DRY_RUN:-}" ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "bootstrap: not root and no sudo: install ${missing[*]} by hand" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
