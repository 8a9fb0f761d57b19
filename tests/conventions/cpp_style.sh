#!/usr/bin/env bash
# The project's C++ conventions, checked (issue 17, item 5):
#   cpp_style.sh format             every C++ file of the tree is as
#                                   clang-format-14 lays it out (.clang-format)
#   cpp_style.sh tidy BUILD_DIR     clang-tidy-14 (.clang-tidy) finds nothing in
#                                   the libraries listed below, with BUILD_DIR's
#                                   compile_commands.json (about 6 minutes of
#                                   both cores of this machine for all of them;
#                                   files found clean before with the same
#                                   inputs are skipped: tidy_cache.py)
# A missing tool prints "cannot run here: ..." (ctest shows the test Skipped).
set -euo pipefail
caller_dir=$PWD
cd "$(dirname "$0")/../.."

# Every library of the product (tests/ and tests/bench/ are not checked).
tidy_dirs=(common/src pki/src server/store/src server/metrics/src server/admin/src server/sip/src
  server/asio server/media/src server/transport/src server/edge/src server/app/src webadmin/src)

cpp_files() {
  find common pki schema server tests webadmin -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) \
    -not -path '*/node_modules/*' | sort
}

case "${1:-}" in
  format)
    tool=$(command -v clang-format-14 || true)
    [ -n "$tool" ] || { echo "cannot run here: clang-format-14 missing (deploy/install-deps.sh installs it)"; exit 0; }
    mapfile -t files < <(cpp_files)
    if ! "$tool" --dry-run --Werror "${files[@]}"; then
      echo "cpp_style.sh: files above differ from .clang-format's layout; run: clang-format-14 -i FILE" >&2
      exit 1
    fi
    echo "${#files[@]} files laid out as .clang-format says"
    ;;
  tidy)
    build="${2:?tidy needs the build directory}"
    case "$build" in /*) ;; *) build="$caller_dir/$build" ;; esac
    tool=$(command -v clang-tidy-14 || true)
    [ -n "$tool" ] || { echo "cannot run here: clang-tidy-14 missing (deploy/install-deps.sh installs it)"; exit 0; }
    [ -f "$build/compile_commands.json" ] || { echo "cpp_style.sh: no $build/compile_commands.json" >&2; exit 2; }
    mapfile -t files < <(find "${tidy_dirs[@]}" -name '*.cpp' | sort)
    # Only the files whose inputs changed since clang-tidy last found them
    # clean (tidy_cache.py; SIPSITE_TIDY_ALL=1 checks every one).
    keys=$(mktemp)
    trap 'rm -f "$keys"' EXIT
    mapfile -t stale < <(tests/conventions/tidy_cache.py stale "$build" "$keys" "${files[@]}")
    [ "${SIPSITE_TIDY_ALL:-0}" = 1 ] && stale=("${files[@]}")
    # A few files per clang-tidy process, as many processes as cores.
    if [ "${#stale[@]}" -gt 0 ]; then
      printf '%s\n' "${stale[@]}" | xargs -P "$(nproc)" -n 4 "$tool" -p "$build" --quiet
      tests/conventions/tidy_cache.py record "$keys"
    fi
    echo "${#files[@]} files of ${tidy_dirs[*]} without a clang-tidy finding (${#stale[@]} checked now, the rest unchanged since they were found clean)"
    ;;
  *)
    echo "usage: cpp_style.sh format | tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
