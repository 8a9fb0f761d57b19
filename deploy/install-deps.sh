#!/usr/bin/env bash
# Installs every Debian 12 package sipsite needs to build, run and test.
# Idempotent: packages already present are left alone; apt-get update runs
# only when something is missing.
set -euo pipefail

build_pkgs=(
  build-essential g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev libsqlcipher-dev sqlcipher
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libargon2-dev
  libsystemd-dev libspdlog-dev libgtest-dev libgmock-dev libqrencode-dev
  libsrtp2-dev
  # The man page is written at build time from sipsite --help (packaging/man).
  python3
)
test_pkgs=(
  openssl sqlite3 clang-14 libclang-rt-14-dev iproute2 nftables procps python3 baresip-core
  chromium nodejs sipvicious testssl.sh
  # The package test (tests/package): cpack's dpkg-shlibdeps, the maintainer
  # scripts' adduser, systemd-analyze, setpriv.
  dpkg-dev adduser systemd util-linux
  # tests/conventions: promtool and prometheus (Debian's prometheus package).
  prometheus
  # tests/package: lintian on the .deb.
  lintian
  # tests/conventions: the C++ layout and static checks (cpp_style.sh).
  clang-format-14 clang-tidy-14
)

want=("${build_pkgs[@]}")
if [ "${1:-}" != "--build-only" ]; then
  want+=("${test_pkgs[@]}")
  # Browser tests: npm ships with NodeSource's nodejs; Debian's is separate.
  if ! command -v npm >/dev/null 2>&1; then want+=(npm); fi
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
