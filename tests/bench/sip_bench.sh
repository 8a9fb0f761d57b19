#!/usr/bin/env bash
# SIP benchmark: sipsite against Kamailio, same load generator (sipload),
# same scenarios, one run on one machine. For each server and each scenario
# (REGISTER over UDP and TCP, INVITE-200-ACK-BYE call over UDP and TCP):
#   * the maximum rate (sipload --rate max with a bounded number of
#     outstanding operations; re-run at a lower fixed rate if >= 1% failed),
#   * failures, latency percentiles,
#   * the server's CPU time per successful operation: utime+stime from
#     /proc/<pid>/stat before and after (for Kamailio, all its processes),
#   * a run at a fixed, moderate rate (same for both servers) for latency and
#     CPU per operation away from saturation,
# and the memory per registration (PSS growth over 100,000 bindings).
#
# Usage: tests/bench/sip_bench.sh [SIPSITE_BINARY [SIPLOAD_BINARY]]
#   defaults: build-bench/server/app/sipsite, build-bench/tests/bench/sipload/sipload
#   (cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-bench sipsite sipload)
# Environment: DURATION (seconds per run, default 8), SETTLE (seconds to wait
#   after the scenarios before measuring RSS again, default 45), PERF_DIR
#   (perf call-graph profiles of the maximum-rate runs; PERF_FIXED=1: of the
#   fixed-rate runs too), FIXED_REGISTER_RATE
#   (default 2000), FIXED_CALL_RATE (default 500), BINDINGS (default 100000),
#   SKIP_KAMAILIO=1, SKIP_MEMORY=1 (no bindings measurement), ONLY="call udp"
#   (one scenario), MAX_ONLY=1 (no fixed-rate runs), SERVER_ENV="VAR=VALUE ..."
#   (environment of sipsite, e.g. GLIBC_TUNABLES), SETTLED_DIR (sipsite's
#   smaps and malloc_info before the load and when the settled RSS is
#   read). Installs Kamailio with
#   apt-get when absent (root).
# The whole script is bounded (BENCH_TIMEOUT, default 840 s) and cleans up
# every process and directory it made.
set -euo pipefail

if [[ -z "${SIP_BENCH_INNER:-}" ]]; then
  export SIP_BENCH_INNER=1
  exec timeout -k 10 "${BENCH_TIMEOUT:-840}" "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipsite=$(realpath "${1:-$root/build-bench/server/app/sipsite}")
sipload=$(realpath "${2:-$root/build-bench/tests/bench/sipload/sipload}")
duration=${DURATION:-8}
fixed_register_rate=${FIXED_REGISTER_RATE:-2000}
fixed_call_rate=${FIXED_CALL_RATE:-500}
bindings=${BINDINGS:-100000}
domain=bench.example
tick_us=$((1000000 / $(getconf CLK_TCK)))

# User ranges: each scenario its own users, so that bindings left by one
# scenario are never forked to by another. Passwords are "bench-pw-<N>".
reg_udp_first=1; reg_tcp_first=1001; reg_users=1000
call_udp_first=2001; call_tcp_first=2401; call_users=400   # half callers, half callees
mem_first=3001; mem_contacts=10; mem_users=$(( (bindings + mem_contacts - 1) / mem_contacts ))
total_users=$((mem_first + mem_users - 1))

work=$(mktemp -d /tmp/sip-bench.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[sip_bench $(date +%T)] $*" >&2; }
[[ -x "$sipsite" ]] || { echo "sip_bench: no sipsite at $sipsite" >&2; exit 2; }
[[ -x "$sipload" ]] || { echo "sip_bench: no sipload at $sipload" >&2; exit 2; }

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

wait_tcp() {  # wait_tcp PORT PID LOG
  for _ in $(seq 100); do
    kill -0 "$2" 2>/dev/null || { echo "sip_bench: server exited:" >&2; tail -20 "$3" >&2; return 1; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "sip_bench: nothing listens on $1" >&2
  return 1
}

# The server's processes: the main one and its children (Kamailio forks its
# workers from the main process; sipsite is one process).
server_pids() { echo "$server_pid"; ps -o pid= --ppid "$server_pid" 2>/dev/null || true; }
cpu_ticks() {
  local total=0 p
  for p in $(server_pids); do
    # Fields after the ")" of comm: utime is the 12th, stime the 13th.
    read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null || echo "")
    [[ ${#f[@]} -gt 12 ]] && total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
pss_kb() {
  local total=0 p v
  for p in $(server_pids); do
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
# thread_ticks: "TID NAME TICKS" for every thread of the server's processes.
thread_ticks() {
  local p t
  for p in $(server_pids); do
    for t in /proc/"$p"/task/*; do
      read -r -a f < <(sed 's/^.*) //' "$t/stat" 2>/dev/null || echo "")
      # The main thread (the SIP event loop) by its role, the others by name.
      local name; name=$([[ ${t##*/} == "$p" ]] && echo main || tr ' ' '_' <"$t/comm" 2>/dev/null)
      [[ ${#f[@]} -gt 12 ]] && echo "${t##*/} $name $((f[11] + f[12]))"
    done
  done
}
rss_kb() {
  local total=0 p v
  for p in $(server_pids); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
# UDP datagrams the kernel dropped for a full receive buffer, all sockets
# (the generator's are 4-8 MiB, so in practice the server's).
udp_drops() { awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

results="$work/results.tsv"
printf "server\tscenario\tmode\trate\tfail_pct\tp50_ms\tp99_ms\tcpu_us_per_op\tgen_cpu_s\tsucceeded\tudp_drops\n" >"$results"

# run_load SERVER LABEL MODE ARGS...: one sipload run, CPU accounted.
run_load() {
  local server=$1 label=$2 mode=$3; shift 3
  local before after out line ok cpu drops
  drops=$(udp_drops)
  thread_ticks >"$work/threads.before"
  # PERF_DIR=DIR: a call-graph profile of the server during each maximum-rate
  # run (and fixed-rate run, with PERF_FIXED=1), DIR/SERVER-SCENARIO-{max,fixed}.perf.data
  # (perf report -i FILE).
  local perf_pid=""
  if [[ -n "${PERF_DIR:-}" && ( $mode == max || -n "${PERF_FIXED:-}" ) ]]; then
    perf record -q -g -p "$(server_pids | tr '\n' ',' | sed 's/,$//')" -o "$PERF_DIR/$server-${label// /-}-${mode%% *}.perf.data" \
      -- sleep "$duration" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  before=$(cpu_ticks)
  out=$(timeout $((duration + 60)) "$sipload" --quiet --duration "$duration" "$@" 2>&1) || true
  [[ -z "$perf_pid" ]] || wait "$perf_pid" 2>/dev/null || true  # a failed profile never ends the benchmark
  after=$(cpu_ticks)
  thread_ticks >"$work/threads.after"
  drops=$(( $(udp_drops) - drops ))
  echo "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT' <<<"$out" || echo "RESULT succeeded=0 fail_pct=100 rate=0 p50_ms=0 p99_ms=0 generator_cpu_s=0")
  ok=$(field succeeded "$line")
  cpu=$([[ ${ok:-0} -gt 0 ]] && echo $(( (after - before) * tick_us / ok )) || echo "-")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$server" "$label" "$mode" "$(field rate "$line")" \
    "$(field fail_pct "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$cpu" \
    "$(field generator_cpu_s "$line")" "$ok" "$drops" >>"$results"
  last_rate=$(field rate "$line"); last_fail=$(field fail_pct "$line")
  # CPU per operation of each thread (the SIP thread, the call-record
  # writer, ...), for the call scenarios.
  if [[ $label == call* && ${ok:-0} -gt 0 ]]; then
    awk -v s="$server" -v l="$label" -v m="$mode" -v ok="$ok" -v us="$tick_us" '
      NR == FNR { b[$1] = $3; next }
      { d = $3 - b[$1]; if (d > 0) { cpu[$2] += d } }
      END { for (n in cpu) printf "%s\t%s\t%s\t%s\t%d\n", s, l, m, n, cpu[n] * us / ok }' \
      "$work/threads.before" "$work/threads.after" >>"$work/threads.tsv"
  fi
}

# scenarios SERVER PORT: the four scenarios, max rate then fixed rate.
scenarios() {
  local server=$1 port=$2 t kind first users label rate fixed
  for kind in register call; do
    for t in udp tcp; do
      if [[ $kind == register ]]; then
        users=$reg_users; fixed=$fixed_register_rate
        first=$([[ $t == udp ]] && echo $reg_udp_first || echo $reg_tcp_first)
      else
        users=$call_users; fixed=$fixed_call_rate
        first=$([[ $t == udp ]] && echo $call_udp_first || echo $call_tcp_first)
      fi
      label="$kind $t"
      [[ -n "${ONLY:-}" && "$label" != "$ONLY" ]] && continue
      local common=(--scenario "$kind" --transport "$t" --port "$port" --domain "$domain"
                    --users "$users" --first-user "$first" --password 'bench-pw-{}' --user 'u{}')
      log "$server: $label, maximum rate"
      run_load "$server" "$label" max "${common[@]}" --rate max --max-outstanding 100
      # Over 1% failed: find a rate that keeps under 1%, stepping down.
      rate=${last_rate%.*}
      for _ in 1 2 3; do
        awk -v f="$last_fail" 'BEGIN { exit !(f >= 1.0) }' || break
        rate=$((rate * 7 / 10))
        log "$server: $label, ${last_fail}% failed; trying $rate/s"
        run_load "$server" "$label" "fixed $rate/s" "${common[@]}" --rate "$rate"
      done
      [[ -n "${MAX_ONLY:-}" ]] && continue
      log "$server: $label, fixed $fixed/s"
      run_load "$server" "$label" "fixed $fixed/s" "${common[@]}" --rate "$fixed"
    done
  done
}

# memory SERVER PORT: PSS growth over $bindings registrations (users of
# $mem_contacts contacts each), on a freshly started server. Over TCP: a
# REGISTER transaction ends with its response there, while over UDP it
# lingers 32 s (Timer J) and the allocator's high-water mark of those
# transactions would be counted as registrations.
memory() {
  local server=$1 port=$2 before after out ok
  sleep 1
  before=$(pss_kb)
  log "$server: $bindings bindings ($mem_users users x $mem_contacts contacts) for memory"
  out=$(timeout 240 "$sipload" --quiet --scenario register --transport tcp --port "$port" --domain "$domain" \
    --users "$mem_users" --first-user "$mem_first" --contacts "$mem_contacts" --count "$bindings" \
    --user 'u{}' --password 'bench-pw-{}' \
    --rate max --max-outstanding 200 --duration 200 --timeout 10 --expires 3600 2>&1) || true
  echo "$out" | sed 's/^/    /' >&2
  sleep 1
  after=$(pss_kb)
  # Anything transient (Kamailio's tm wait timer, 5 s): measure again later.
  log "$server: waiting 10 s"
  sleep 10
  settled=$(pss_kb)
  ok=$(field succeeded "$(grep '^RESULT' <<<"$out" || echo "succeeded=0")")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$server" "$before" "$after" "$settled" "$ok" \
    "$([[ ${ok:-0} -gt 0 ]] && echo $(( (after - before) * 1024 / ok )) || echo -)" \
    "$([[ ${ok:-0} -gt 0 ]] && echo $(( (settled - before) * 1024 / ok )) || echo -)" >>"$work/memory.tsv"
}

# memory_map NAME: with SETTLED_DIR set, what sipsite's RSS is made of now:
# its mappings (NAME.smaps) and glibc's arenas (malloc_info, written on the
# daemon's stderr through gdb; NAME.log holds that log up to now).
memory_map() {
  [[ -n "${SETTLED_DIR:-}" ]] || return 0
  mkdir -p "$SETTLED_DIR"
  cp "/proc/$server_pid/smaps" "$SETTLED_DIR/$1.smaps" 2>/dev/null || true
  if command -v gdb >/dev/null; then
    gdb -p "$server_pid" -batch -ex 'call (int)malloc_info(0, *(void**)&stderr)' >/dev/null 2>&1 || true
    sleep 0.2
    cp "$work/sipsite.log" "$SETTLED_DIR/$1.log"
  fi
}

# after_load SERVER: RSS before the scenarios (rss_start), right after them,
# and SETTLE seconds (default 45) later: does memory come back after load?
after_load() {
  local server=$1 right_after settled
  right_after=$(rss_kb)
  log "$server: waiting ${SETTLE:-45} s after the load"
  sleep "${SETTLE:-45}"
  settled=$(rss_kb)
  printf "%s\t%s\t%s\t%s\n" "$server" "$rss_start" "$right_after" "$settled" >>"$work/rss.tsv"
  if [[ $server == sipsite ]]; then memory_map settled; fi
}

stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# ---- users: the same HA1 values for both servers ----------------------------
log "creating $total_users users"
python3 - "$total_users" "$domain" >"$work/users.tsv" <<'EOF'
import hashlib, sys
n, domain = int(sys.argv[1]), sys.argv[2]
for i in range(1, n + 1):
    u, p = f"u{i}", f"bench-pw-{i}"
    ha1 = hashlib.md5(f"{u}:{domain}:{p}".encode()).hexdigest()
    ha1b = hashlib.sha256(f"{u}:{domain}:{p}".encode()).hexdigest()
    print(u, ha1, ha1b, sep="\t")
EOF

# ---- sipsite -----------------------------------------------------------------
site="$work/site"
"$sipsite" init --domain "$domain" --state-dir "$site" >/dev/null 2>&1
# One user through the CLI (the supported way), the rest straight into the
# encrypted database with the same columns the CLI writes: 50 ms per CLI
# process would make 13,000 users take 11 minutes.
echo bench-pw-1 | "$sipsite" user add --aor "u1@$domain" --password-stdin --state-dir "$site" >/dev/null
if command -v sqlcipher >/dev/null; then
  {
    printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_compatibility = 3;\nPRAGMA cipher_page_size = 4096;\n" \
      "$(tr -d '\n' <"$site/db.key")"
    printf "PRAGMA kdf_iter = 64000;\nPRAGMA cipher_use_hmac = ON;\nBEGIN;\n"
    now=$(date +%s)
    tail -n +2 "$work/users.tsv" | awk -F'\t' -v d="$domain" -v now="$now" \
      '{ printf "INSERT INTO users (username, domain, realm, ha1_md5, ha1_sha256, created_at, updated_at) VALUES (\x27%s\x27, \x27%s\x27, \x27%s\x27, \x27%s\x27, \x27%s\x27, %s, %s);\n", $1, d, d, $2, $3, now, now }'
    echo "COMMIT;"
  } | sqlcipher "$site/sipsite.db" >/dev/null
  # The CLI's row and ours must agree.
  cli_ha1=$(printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_compatibility = 3;\nPRAGMA cipher_page_size = 4096;\nPRAGMA kdf_iter = 64000;\nPRAGMA cipher_use_hmac = ON;\nSELECT ha1_md5 FROM users WHERE username = 'u1';\n" "$(tr -d '\n' <"$site/db.key")" | sqlcipher "$site/sipsite.db" | tail -1)
  [[ "$cli_ha1" == "$(awk -F'\t' 'NR==1 {print $2}' "$work/users.tsv")" ]] || { echo "sip_bench: HA1 mismatch with the CLI" >&2; exit 1; }
else
  echo "sip_bench: sqlcipher CLI absent (apt-get install sqlcipher): adding users one process at a time" >&2
  for i in $(seq 2 "$total_users"); do
    echo "bench-pw-$i" | "$sipsite" user add --aor "u$i@$domain" --password-stdin --state-dir "$site" >/dev/null
  done
fi

start_sipsite() {
  sip_port=$(free_port)
  cat >"$work/sipsite.toml" <<EOF
[sip]
udp = ["127.0.0.1:$sip_port"]
tcp = ["127.0.0.1:$sip_port"]
tls = []
[federation]
listen = "127.0.0.1:$(free_port)"
[admin]
listen = "127.0.0.1:$(free_port)"
[media]
ports = "47000-47099"
[log]
level = "warn"
EOF
  env ${SERVER_ENV:-} "$sipsite" run --state-dir "$site" --config "$work/sipsite.toml" >"$work/sipsite.log" 2>&1 &
  server_pid=$!
  wait_tcp "$sip_port" "$server_pid" "$work/sipsite.log"
  sleep 0.5
}

log "sipsite: $("$sipsite" --version 2>&1 | head -1)"
start_sipsite
rss_start=$(rss_kb)
memory_map before
scenarios sipsite "$sip_port"
after_load sipsite
kill -0 "$server_pid" 2>/dev/null || { echo "sip_bench: sipsite died; log:" >&2; tail -20 "$work/sipsite.log" >&2; }
stop_server
if [[ -z "${SKIP_MEMORY:-}" ]]; then
  start_sipsite
  memory sipsite "$sip_port"
  stop_server
fi
if [[ -s "$work/sipsite.log" ]]; then
  log "sipsite log (warnings and errors, last 10 lines):"
  tail -10 "$work/sipsite.log" | sed 's/^/    /' >&2
fi

# ---- Kamailio ----------------------------------------------------------------
if [[ -z "${SKIP_KAMAILIO:-}" ]]; then
  if ! command -v kamailio >/dev/null || [[ ! -e /usr/lib/x86_64-linux-gnu/kamailio/modules/db_sqlite.so ]]; then
    log "installing kamailio"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio kamailio-sqlite-modules >&2 ||
      { echo "sip_bench: cannot install kamailio; skipping it" >&2; SKIP_KAMAILIO=1; }
  fi
fi
if [[ -z "${SKIP_KAMAILIO:-}" ]]; then
  kdb="$work/kamailio.db"
  python3 - "$kdb" "$work/users.tsv" "$domain" <<'EOF'
import sqlite3, sys
db, users, domain = sys.argv[1:]
c = sqlite3.connect(db)
for f in ("standard-create.sql", "auth_db-create.sql"):
    c.executescript(open("/usr/share/kamailio/db_sqlite/" + f).read())
with open(users) as fh:
    rows = [line.rstrip("\n").split("\t") for line in fh]
c.executemany("INSERT INTO subscriber (username, domain, password, ha1, ha1b) VALUES (?, ?, '', ?, '')",
              [(u, domain, ha1) for u, ha1, _ in rows])
c.commit()
EOF
  start_kamailio() {
    kam_port=$(free_port)
    kamailio -f "$here/kamailio/kamailio.cfg" -DD -E -x tlsf -X tlsf -m 1024 \
      -l "udp:127.0.0.1:$kam_port" -l "tcp:127.0.0.1:$kam_port" -A "DBURL=\"sqlite://$kdb\"" \
      >"$work/kamailio.log" 2>&1 &
    server_pid=$!
    # (db_sqlite opens the path after "sqlite://" minus its leading "/",
    # relative to Kamailio's working directory, "/" by default: keep it.)
    wait_tcp "$kam_port" "$server_pid" "$work/kamailio.log"
    sleep 1
  }
  log "kamailio: $(kamailio -v | head -1)"
  start_kamailio
  rss_start=$(rss_kb)
  scenarios kamailio "$kam_port"
  after_load kamailio
  stop_server
  if [[ -z "${SKIP_MEMORY:-}" ]]; then
    start_kamailio
    memory kamailio "$kam_port"
    stop_server
  fi
fi

# ---- report ------------------------------------------------------------------
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| server | scenario | load | rate [ops/s] | failed [%] | p50 [ms] | p99 [ms] | server CPU [µs/op] | generator CPU [s] | UDP drops |"
echo "|:--|:--|:--|--:|--:|--:|--:|--:|--:|--:|"
tail -n +2 "$results" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $11 }'
echo
if [[ -z "${SKIP_KAMAILIO:-}" ]]; then
  echo "sipsite / Kamailio (maximum-rate runs; CPU: lower is better, rate: higher is better):"
  echo
  echo "| scenario | rate ratio | CPU/op ratio (max rate) | CPU/op ratio (fixed rate) |"
  echo "|:--|--:|--:|--:|"
  awk -F'\t' 'NR > 1 {
      key = $2
      if ($3 == "max") { rate[$1, key] = $4; cpu[$1, key] = $8 }
      if ($3 ~ /^fixed/) { fcpu[$1, key] = $8 }
      if (!(key in order)) { order[key] = ++n; name[n] = key }
    }
    END {
      for (i = 1; i <= n; i++) {
        k = name[i]
        r = (rate["kamailio", k] > 0) ? sprintf("%.2f", rate["sipsite", k] / rate["kamailio", k]) : "-"
        c = (cpu["kamailio", k] > 0) ? sprintf("%.2f", cpu["sipsite", k] / cpu["kamailio", k]) : "-"
        f = (fcpu["kamailio", k] > 0) ? sprintf("%.2f", fcpu["sipsite", k] / fcpu["kamailio", k]) : "-"
        printf "| %s | %s | %s | %s |\n", k, r, c, f
      }
    }' "$results"
  echo
fi
echo "Server CPU per call by thread (threads that used any CPU; tick = $tick_us µs):"
echo
echo "| server | scenario | load | thread | CPU [µs/call] |"
echo "|:--|:--|:--|:--|--:|"
sort -t$'\t' -k1,1 -k2,2 -k3,3 -k5,5nr "$work/threads.tsv" 2>/dev/null |
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
echo
echo "RSS of all server processes before the scenarios above, right after them, and ${SETTLE:-45} s later:"
echo
echo "| server | RSS before [KiB] | RSS after the load [KiB] | RSS ${SETTLE:-45} s later [KiB] |"
echo "|:--|--:|--:|--:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$work/rss.tsv"
echo
echo "Memory (PSS of all server processes, before and after $bindings bindings registered over TCP):"
echo
echo "| server | PSS before [KiB] | PSS 1 s after [KiB] | PSS 11 s after [KiB] | registrations | bytes/registration at 1 s | at 11 s |"
echo "|:--|--:|--:|--:|--:|--:|--:|"
if [[ -s "$work/memory.tsv" ]]; then
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$work/memory.tsv"
fi
