#!/usr/bin/env bash
# README command 2: installs dependencies, builds, and runs the whole suite.
#   deploy/test.sh              the suite on a normal build (build/)
#   deploy/test.sh --sanitize   the suite under AddressSanitizer + UBSan (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
build_dir=$(./deploy/build.sh "$@" | tail -n 1)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 600
