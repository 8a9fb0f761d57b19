#!/usr/bin/env bash
# Configures and builds sipsite with CMake + Ninja (+ ccache when present).
#   deploy/build.sh                 -> build/        (RelWithDebInfo)
#   deploy/build.sh --sanitize      -> build-asan/   (ASan + UBSan)
#   deploy/build.sh --tsan          -> build-tsan/   (ThreadSanitizer)
# Extra arguments after -- go to cmake. Progress goes to stderr; the build
# directory is printed on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
cmake_args=(-DSIPSITE_WERROR=ON)
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) build_dir=build-asan; cmake_args+=(-DSIPSITE_SANITIZE=address,undefined) ;;
    --tsan) build_dir=build-tsan; cmake_args+=(-DSIPSITE_SANITIZE=thread) ;;
    --release) cmake_args=(-DCMAKE_BUILD_TYPE=Release) ;;
    --) shift; cmake_args+=("$@"); break ;;
    *) echo "build.sh: unknown argument '$1' (use --sanitize, --tsan, --release, -- CMAKE_ARGS)" >&2; exit 2 ;;
  esac
  shift
done

cmake -S . -B "$build_dir" -G Ninja "${cmake_args[@]}" >&2
ninja -C "$build_dir" -j "$(nproc)" >&2
echo "$build_dir"
