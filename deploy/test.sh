#!/usr/bin/env bash
# README command 2: installs dependencies, builds, and runs the whole suite.
#   deploy/test.sh              the suite on a normal build (build/)
#   deploy/test.sh --sanitize   the suite under AddressSanitizer + UBSan (build-asan/)
#   deploy/test.sh --tsan       the unit and integration tests under
#                               ThreadSanitizer (build-tsan/): the daemon's
#                               threads (SIP strand, console, call records,
#                               live-state watcher, retention) and their handoffs
#   --require-all               fail when a test was skipped (a tool missing, not
#                               root) or the browser tests are not registered:
#                               what CI runs must have run (.ci/run passes it)
set -euo pipefail
cd "$(dirname "$0")/.."

require_all=no
build_args=()
labels=()
for arg in "$@"; do
  case "$arg" in
    --require-all) require_all=yes ;;
    --tsan) build_args+=("$arg"); labels=(-L "^(unit|integration)$") ;;
    *) build_args+=("$arg") ;;
  esac
done

./deploy/install-deps.sh
build_dir=$(./deploy/build.sh "${build_args[@]}" | tail -n 1)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# A race stops the process that has it (a daemon under test too, so the
# test that started it fails); second_deadlock_stack for lock-order reports.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
log="$build_dir/ctest.log"
ctest --test-dir "$build_dir" "${labels[@]}" --output-on-failure -j "$(nproc)" --timeout 600 | tee "$log"

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
