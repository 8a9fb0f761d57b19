# Shared by the benchmark scripts (source it after setting `bench`, the
# script's name for messages): a temporary directory and every background
# process (`pids`) removed and stopped by a trap, free loopback ports,
# bounded waits for a daemon's log line, and /proc readings.
work=$(mktemp -d "/tmp/$bench.XXXXXX")
pids=()  # everything started in the background
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  if [[ -n "${KEEP:-}" ]]; then echo "$bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {  # a port free for both UDP and TCP on 127.0.0.1
  python3 - <<'EOF'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
EOF
}

wait_log() {  # wait_log FILE PATTERN PID: bounded (30 s)
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "$bench: daemon exited:" >&2; tail -20 "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "$bench: '$2' not seen in $1:" >&2
  tail -20 "$1" >&2
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { local f; read -r -a f < <(sed 's/^.*) //' "/proc/$1/stat"); echo $((f[11] + f[12])); }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }  # field NAME "k=v ...": the value of NAME
