#!/usr/bin/env bash
# README command 2: installs dependencies, builds, and runs the whole suite.
#   deploy/test.sh              the suite on a normal build (build/)
#   deploy/test.sh --sanitize   the suite under AddressSanitizer + UBSan (build-asan/)
#   --require-all               fail when a test was skipped (a tool missing, not
#                               root) or the browser tests are not registered:
#                               what CI runs must have run (.ci/run passes it)
set -euo pipefail
cd "$(dirname "$0")/.."

require_all=no
build_args=()
for arg in "$@"; do
  case "$arg" in
    --require-all) require_all=yes ;;
    *) build_args+=("$arg") ;;
  esac
done

./deploy/install-deps.sh
build_dir=$(./deploy/build.sh "${build_args[@]}" | tail -n 1)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
log="$build_dir/ctest.log"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 600 | tee "$log"

if [ "$require_all" = yes ]; then
  if grep -q "(Skipped)" "$log"; then
    echo "test.sh: tests were skipped, and --require-all asks for every one:" >&2
    grep "(Skipped)" "$log" >&2
    exit 1
  fi
  if ctest --test-dir "$build_dir" -N -L browser | grep -q "Total Tests: 0"; then
    echo "test.sh: the browser tests are not registered (node, npm or chromium missing), and --require-all asks for them" >&2
    exit 1
  fi
fi
