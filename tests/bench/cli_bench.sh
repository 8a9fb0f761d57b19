#!/usr/bin/env bash
# Benchmark of the command line against a real site: the cost of opening the
# encrypted database (raw key, no KDF) and of init (key generation, Argon2id
# hash of the admin password). Wall-clock figures on a shared machine: read
# them as orders of magnitude. Usage: tests/bench/cli_bench.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
sipsite=$(realpath "$build/server/app/sipsite")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "cli_bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

"$sipsite" init --domain bench.example --state-dir "$work/site" >/dev/null 2>&1
for i in $(seq 1 1000); do
  echo "password-$i" | "$sipsite" user add --aor "user$i@bench.example" --password-stdin --state-dir "$work/site" 2>/dev/null
done

hyperfine -N --warmup 3 --runs 50 --export-markdown "$work/open.md" \
  -n "version (process start, no DB)" "$sipsite --version" \
  -n "fingerprint (open DB, read site)" "$sipsite fingerprint --state-dir $work/site" \
  -n "user list --json (1000 users)" "$sipsite user list --json --state-dir $work/site" \
  >/dev/null
hyperfine --warmup 3 --runs 30 --export-markdown "$work/write.md" \
  -n "user add + user del (two processes, via sh)" "echo password-x | $sipsite user add --aor tmp@bench.example --password-stdin --state-dir $work/site 2>/dev/null && $sipsite user del --aor tmp@bench.example --state-dir $work/site 2>/dev/null" \
  >/dev/null
hyperfine --warmup 1 --runs 10 --export-markdown "$work/init.md" \
  -n "init (P-256 key, certificate, Argon2id, new DB)" \
  --prepare "rm -rf $work/fresh" "$sipsite init --domain fresh.example --state-dir $work/fresh" >/dev/null
cat "$work/open.md" "$work/write.md" "$work/init.md"
echo
echo "database size with 1000 users: $(du -k "$work/site/sipsite.db" | cut -f1) KiB"
