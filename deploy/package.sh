#!/usr/bin/env bash
# Builds the Debian package: a Release build of sipsite in build-pkg/, then
# CPack (DEB). Progress goes to stderr; the .deb's path is printed on stdout.
#   deploy/package.sh               build and package
#   deploy/package.sh -- ARGS       extra cmake arguments
# Install it with: apt install ./PATH.deb (see docs/ADMIN.md).
set -euo pipefail
cd "$(dirname "$0")/.."

cmake_args=()
if [ "${1:-}" = "--" ]; then shift; cmake_args=("$@");
elif [ $# -gt 0 ]; then echo "package.sh: unknown argument '$1' (use -- CMAKE_ARGS)" >&2; exit 2; fi

./deploy/install-deps.sh --build-only
build_dir=build-pkg
# Release, like deploy/build.sh --release (GCC 12 -O3 -Wrestrict false positives: no -Werror).
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIPSITE_WERROR=OFF "${cmake_args[@]}" >&2
ninja -C "$build_dir" -j "$(nproc)" sipsite >&2
out="$build_dir/packages"
rm -rf "$out"
cpack --config "$build_dir/CPackConfig.cmake" -B "$out" >&2
deb=$(find "$out" -maxdepth 1 -name 'sipsite_*.deb' -print -quit)
if [ -z "$deb" ]; then echo "package.sh: cpack made no .deb in $out" >&2; exit 1; fi
realpath "$deb"
