#!/usr/bin/env bash
# Installs the Debian packages trendgpu-bench needs. Idempotent: packages
# already present are skipped, and when everything is there it touches
# nothing (no apt-get update, no network).
#
#   scripts/bootstrap.sh          # to build and run (the README's main job)
#   scripts/bootstrap.sh --test   # and to test as CI does (scripts/test.sh): the
#                                 # headless browser, clang + libFuzzer, cppcheck,
#                                 # the aarch64 cross toolchain, its -dev:arm64
#                                 # libraries and qemu-user to run its tests
#   TG_BOOTSTRAP_DRY_RUN=1 scripts/bootstrap.sh --test   # only print what is missing
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
  libopenmpi-dev openmpi-bin  # ranks: record under mpirun (and the MPI runs to come)
  openssh-client       # Open MPI 4 wants an rsh agent even to start ranks on this host
)
test_packages=(
  chromium                                # report.html and the profiles checked in a headless browser
  clang libclang-rt-14-dev                # libFuzzer (scripts/fuzz.sh)
  cppcheck                                # static analysis
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user  # the aarch64 build and its tests
)
# the aarch64 build's libraries (Debian multiarch)
arm64_packages=(
  libc6-dev:arm64 libstdc++6:arm64 libcmocka-dev:arm64 libhwloc-dev:arm64 libdw-dev:arm64
  libelf-dev:arm64 libiberty-dev:arm64 libunwind-dev:arm64 libsqlite3-dev:arm64
  libjansson-dev:arm64
)

want=("${packages[@]}")
if [ "${1:-}" = "--test" ]; then
  want+=("${test_packages[@]}" "${arm64_packages[@]}")
elif [ -n "${1:-}" ]; then
  echo "bootstrap: unknown option '$1'; expected --test or nothing" >&2
  exit 2
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node.js and npm (speedscope + playwright-core for tests/cli/cli_viewers.sh):
# any node on the PATH counts (a NodeSource nodejs carries its own npm);
# otherwise Debian's.
if [ "${1:-}" = "--test" ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  missing+=(nodejs npm)
fi

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
case " ${missing[*]}" in *:arm64*)
  dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64 ;;
esac
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
