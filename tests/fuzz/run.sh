#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, in build-fuzz/) and runs
# each for a bounded time on a copy of its seed corpus (tests/fuzz/corpus/).
# Fails when any target crashes, leaks, trips a sanitizer, times out on one
# input or breaks an invariant; the offending input is kept under
# build-fuzz/fuzz-artifacts/<target>/ (add it to the corpus as a regression
# input once fixed). A summary (executions, coverage) is printed at the end.
#
#   tests/fuzz/run.sh [--seconds N] [--only TARGET]... [--build-dir DIR] [--keep DIR]
#
# --keep DIR keeps each target's grown corpus, artifacts and log under
# DIR/<target>/ (for long campaigns whose new inputs are worth reviewing).
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=30
build=build-fuzz
only=()
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --only) only+=("${2:?--only needs a target}"); shift 2 ;;
    --build-dir) build="${2:?--build-dir needs a directory}"; shift 2 ;;
    --keep) keep="${2:?--keep needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$seconds" in ''|*[!0-9]*) echo "run.sh: --seconds must be a whole number" >&2; exit 2 ;; esac

targets=(sip_message_fuzz core_fuzz digest_fuzz invite_fuzz pem_fuzz config_fuzz api_fuzz sdp_fuzz federation_fuzz media_packet_fuzz)
if [ ${#only[@]} -gt 0 ]; then targets=("${only[@]}"); fi

for tool in clang-14 clang++-14 cmake ninja; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool not found (deploy/install-deps.sh installs it)" >&2; exit 2; }
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DSIPSITE_FUZZ=ON -DSIPSITE_BUILD_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j2 "${targets[@]}"

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/sipsite-fuzz.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi
artifacts="$build/fuzz-artifacts"
summary="$build/fuzz-summary.txt"
: >"$summary"
failed=()

for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp -n tests/fuzz/corpus/"$t"/* "$work/$t/corpus/"
  echo "== $t: ${seconds}s on $(ls "$work/$t/corpus" | wc -l) seed inputs"
  set +e
  # The outer timeout only catches a hung fuzzer; libFuzzer stops itself.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    timeout --signal=KILL $((seconds + 300)) "$build/tests/fuzz/$t" \
      -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
      "$work/$t/corpus" >"$work/$t/log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$work/$t/log" | tail -1 || true)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  line="$t: seconds=$seconds execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?} exit=$rc"
  echo "$line" | tee -a "$summary"
  if [ $rc -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|SUMMARY: (Address|Leak|Undefined)' "$work/$t/log"; then
    failed+=("$t")
    mkdir -p "$artifacts/$t"
    cp "$work/$t/artifacts/"* "$artifacts/$t/" 2>/dev/null || true
    cp "$work/$t/log" "$artifacts/$t/log"
    grep -E -A25 '^==[0-9]+==ERROR|runtime error:|deadly signal|Timeout' "$work/$t/log" | head -60 >&2 || tail -40 "$work/$t/log" >&2
    echo "run.sh: $t failed; inputs and log in $artifacts/$t/" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "run.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "run.sh: all ${#targets[@]} fuzz targets ran ${seconds}s without a finding"
