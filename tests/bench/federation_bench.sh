#!/usr/bin/env bash
# Federation benchmark: two sites (alpha, beta) as two sipsite daemons on
# 127.0.0.1, paired through the CLI (peer import --address, peer trust), and
#   1. calls per second from alpha's phones to beta's phones over the one
#      federation connection: sipload's callers authenticate (digest, 407)
#      at alpha, its callees are registered at beta and answer; INVITE ->
#      100/180/200 -> ACK -> BYE -> 200 without SDP (signalling rate). Per
#      run: calls/s, failures, latency, CPU% and RSS of each daemon
#      (utime+stime from /proc/PID/stat before and after; VmRSS after).
#   2. full mutual-TLS handshakes per second (openssl s_time -new, one
#      client) against alpha's federation port with a client certificate
#      pinned (trusted) there, and against `openssl s_server -tls1_3
#      -Verify 1` with alpha's own ECDSA P-256 certificate and key (read
#      from its encrypted database with sqlcipher) verifying the same client
#      certificate (-CAfile: the verification succeeds, as the pin does).
#   1c. with BURST=N: trust changes at alpha while SIP flows. alpha also
#      trusts BURST_PEERS other sites (fedload identities, bulk import);
#      then calls alpha -> beta at CALL_RATE/s and local REGISTERs at alpha
#      at REG_RATE/s for CALL_DURATION s, and in the middle N/2 of those
#      peers revoked and trusted again through the console's API (N changes,
#      one request and one commit each). The p99 of the calls and REGISTERs
#      started during the burst (and 2 s after it) against the same window
#      of a control run without changes; failures in both.
#   3. a handshake flood: FLOOD_CLIENTS concurrent s_time clients for 10 s
#      with an unknown certificate (refused, the pending-request path) and
#      then with the pinned one; afterwards alpha must still be running and
#      answer a SIP OPTIONS.
# Every measurement is the best of RUNS (default 3) short runs: the machine
# is shared and noisy. Timing is reported, never asserted.
#
# Usage: tests/bench/federation_bench.sh [SIPSITE_BINARY [SIPLOAD_BINARY]]
#   defaults: build-bench2/server/app/sipsite, build-bench2/tests/bench/sipload/sipload
#   (cmake -S . -B build-bench2 -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-bench2 sipsite sipload)
# Environment: CALL_DURATION (s, default 20), RUNS (default 3), USERS (callers
#   = callees, default 100), OUTSTANDING (default 100), TRANSPORT (phones'
#   transport, udp|tcp, default udp), PERF_DIR (perf profiles of both sites
#   during the max run, and of alpha during 1c's changes), TLS_TIME (s per s_time run, default 10),
#   BURST (trust changes in 1c; default 0: 1c skipped), BURST_PEERS (10000),
#   REG_RATE (REGISTERs/s at alpha during 1c, default 100),
#   PEER_RATE (federation.peer_request_rate at both sites, default 100000:
#   the benchmark measures the path, not the per-peer limit; the site's
#   default of 2000 requests/s caps one link at ~666 calls/s, 3 requests
#   each, and the excess is refused with 503), FLOOD_CLIENTS (default 6), FLOOD_TIME (default 10), KEEP=1 (keep the temp
#   dir with the daemons' logs).
# Needs openssl and sqlcipher. Bounded (BENCH_TIMEOUT, default 900 s); the
# trap stops every daemon and client it started and removes its temp dir.
set -euo pipefail

if [[ -z "${FED_BENCH_INNER:-}" ]]; then
  export FED_BENCH_INNER=1
  exec timeout -k 10 "${BENCH_TIMEOUT:-900}" "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipsite=$(realpath "${1:-$root/build-bench2/server/app/sipsite}")
sipload=$(realpath "${2:-$root/build-bench2/tests/bench/sipload/sipload}")
call_duration=${CALL_DURATION:-20}
runs=${RUNS:-3}
users=${USERS:-100}
outstanding=${OUTSTANDING:-100}
peer_rate=${PEER_RATE:-100000}
transport=${TRANSPORT:-udp}
tls_time=${TLS_TIME:-10}
flood_clients=${FLOOD_CLIENTS:-6}
flood_time=${FLOOD_TIME:-10}
tick_us=$((1000000 / $(getconf CLK_TCK)))

log() { echo "[federation_bench $(date +%T)] $*" >&2; }
[[ -x "$sipsite" ]] || { echo "federation_bench: no sipsite at $sipsite" >&2; exit 2; }
[[ -x "$sipload" ]] || { echo "federation_bench: no sipload at $sipload" >&2; exit 2; }
command -v openssl >/dev/null || { echo "federation_bench: openssl is missing" >&2; exit 2; }
command -v sqlcipher >/dev/null || { echo "federation_bench: sqlcipher is missing (apt-get install sqlcipher)" >&2; exit 2; }

bench=federation_bench
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
now_ns() { date +%s%N; }

sql() {  # sql STATE_DIR QUERY: read the site's encrypted database
  printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\n%s\n" "$(tr -d '\n' <"$1/db.key")" "$2" |
    sqlcipher "$1/sipsite.db"
}

# ---- two sites --------------------------------------------------------------
declare -A sip_port fed_port pid
media_base=(alpha:46000 beta:46200)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $load_before"
declare -A admin_port admin_password
for site in alpha beta; do
  admin_password[$site]=$("$sipsite" init --domain "$site.example" --state-dir "$work/$site" 2>/dev/null |
    sed -n 's/^admin password: //p')
  admin_port[$site]=$(free_port)
  sip_port[$site]=$(free_port)
  fed_port[$site]=$(free_port)
done
# Users: callers u1..uN at alpha, callees u(N+1)..u(2N) at beta (sipload
# splits --users 2N that way); password bench-pw-<N>.
log "adding $users users to each site"
for i in $(seq 1 "$users"); do
  echo "bench-pw-$i" | "$sipsite" user add --aor "u$i@alpha.example" --password-stdin --state-dir "$work/alpha" >/dev/null 2>&1
  j=$((i + users))
  echo "bench-pw-$j" | "$sipsite" user add --aor "u$j@beta.example" --password-stdin --state-dir "$work/beta" >/dev/null 2>&1
done
# Pairing, as an admin does it: each side imports the other's certificate
# with its federation address and trusts it.
"$sipsite" cert --state-dir "$work/alpha" >"$work/alpha.pem"
"$sipsite" cert --state-dir "$work/beta" >"$work/beta.pem"
"$sipsite" peer import --file "$work/beta.pem" --address "127.0.0.1:${fed_port[beta]}" --state-dir "$work/alpha" >/dev/null 2>&1
"$sipsite" peer trust --domain beta.example --state-dir "$work/alpha" >/dev/null 2>&1
"$sipsite" peer import --file "$work/alpha.pem" --address "127.0.0.1:${fed_port[alpha]}" --state-dir "$work/beta" >/dev/null 2>&1
"$sipsite" peer trust --domain alpha.example --state-dir "$work/beta" >/dev/null 2>&1

# A third identity, gamma, for the handshake benchmark: pinned (trusted) at
# alpha, with no address (alpha never dials it) and no daemon. Its
# certificate and key are a real site's, taken from gamma's database.
"$sipsite" init --domain gamma.example --state-dir "$work/gamma" >/dev/null 2>&1
"$sipsite" cert --state-dir "$work/gamma" >"$work/gamma.pem"
"$sipsite" peer import --file "$work/gamma.pem" --state-dir "$work/alpha" >/dev/null 2>&1
"$sipsite" peer trust --domain gamma.example --state-dir "$work/alpha" >/dev/null 2>&1
identity() {  # identity SITE: SITE-cert.pem and SITE-key.pem in $work
  local out
  out=$(sql "$work/$1" "SELECT certificate_pem FROM site; SELECT private_key_pem FROM site;")
  sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' <<<"$out" >"$work/$1-cert.pem"
  (umask 077; sed -n '/-----BEGIN PRIVATE KEY-----/,/-----END PRIVATE KEY-----/p' <<<"$out" >"$work/$1-key.pem")
  [[ -s "$work/$1-cert.pem" && -s "$work/$1-key.pem" ]] || { echo "federation_bench: no identity for $1" >&2; exit 1; }
}
identity alpha
identity gamma
# An unknown client: a fresh P-256 certificate nobody pinned.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=stranger.example" \
  -keyout "$work/stranger-key.pem" -out "$work/stranger-cert.pem" >/dev/null 2>&1

for site in alpha beta; do
  media=${media_base[$([[ $site == alpha ]] && echo 0 || echo 1)]#*:}
  cat >"$work/$site.toml" <<EOF
[sip]
udp = ["127.0.0.1:${sip_port[$site]}"]
tcp = ["127.0.0.1:${sip_port[$site]}"]
tls = []
[federation]
listen = "127.0.0.1:${fed_port[$site]}"
peer_request_rate = ${peer_rate}
[admin]
listen = "127.0.0.1:${admin_port[$site]}"
[media]
ports = "$media-$((media + 99))"
[log]
level = "warn,federation=info,store=info"
EOF
  "$sipsite" run --state-dir "$work/$site" --config "$work/$site.toml" >"$work/$site.log" 2>&1 &
  pid[$site]=$!
  pids+=("$!")
done
wait_log "$work/alpha.log" "link to beta.example: connected" "${pid[alpha]}"
wait_log "$work/beta.log" "link to alpha.example: connected" "${pid[beta]}"
log "paired: alpha (pid ${pid[alpha]}, sip ${sip_port[alpha]}, federation ${fed_port[alpha]})," \
    "beta (pid ${pid[beta]}, sip ${sip_port[beta]}, federation ${fed_port[beta]})"
sleep 1

# ---- 1. calls across the federation link ------------------------------------
# Both sites admit peer_request_rate requests per second from one peer
# site (PEER_RATE, default 100000 here; the site's default is 2000, bursts
# twice that), and a call sends three (INVITE, ACK, BYE): at the site's
# default, beyond ~666 calls/s the excess INVITEs get 503, which alpha
# passes to the phone as 500 (RFC 3261 16.7). RUNS runs at a fixed rate
# (CALL_RATE, default 160/s) give the CPU per call away from saturation,
# one run at --rate max the limit. PERF_DIR=DIR: a profile of each site
# during the max run, DIR/{alpha,beta}-max.perf.data (perf report -i FILE).
calls="$work/calls.tsv"
call_run() {  # call_run LABEL RATE
  local a0 b0 t0 t1 a1 b1 out line wall_us ok
  local perf_pids=()
  if [[ -n "${PERF_DIR:-}" && $2 == max ]]; then
    for site in alpha beta; do
      perf record -q -F 999 -g -p "${pid[$site]}" -o "$PERF_DIR/$site-max.perf.data" -- sleep "$call_duration" \
        >/dev/null 2>&1 &
      perf_pids+=("$!")
    done
  fi
  a0=$(cpu_ticks "${pid[alpha]}"); b0=$(cpu_ticks "${pid[beta]}"); t0=$(now_ns)
  out=$(timeout $((call_duration + 60)) "$sipload" --quiet --scenario call --transport "$transport" \
    --host 127.0.0.1 --port "${sip_port[alpha]}" --domain alpha.example \
    --callee-port "${sip_port[beta]}" --callee-domain beta.example \
    --users $((2 * users)) --first-user 1 --user 'u{}' --password 'bench-pw-{}' --no-sdp \
    --rate "$2" --max-outstanding "$outstanding" --duration "$call_duration" 2>&1) || true
  t1=$(now_ns); a1=$(cpu_ticks "${pid[alpha]}"); b1=$(cpu_ticks "${pid[beta]}")
  [[ ${#perf_pids[@]} -eq 0 ]] || wait "${perf_pids[@]}" || true
  echo "$out" | sed 's/^/    /' >&2
  line=$(grep '^RESULT' <<<"$out" || echo "RESULT succeeded=0 fail_pct=100 rate=0 p50_ms=0 p99_ms=0 generator_cpu_s=0")
  wall_us=$(( (t1 - t0) / 1000 ))
  ok=$(field succeeded "$line")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$(field rate "$line")" "$(field fail_pct "$line")" \
    "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
    "$(awk -v t=$(( (a1 - a0) * tick_us )) -v w="$wall_us" 'BEGIN { printf "%.0f", 100 * t / w }')" \
    "$(awk -v t=$(( (b1 - b0) * tick_us )) -v w="$wall_us" 'BEGIN { printf "%.0f", 100 * t / w }')" \
    "$([[ ${ok:-0} -gt 0 ]] && echo $(( (a1 - a0) * tick_us / ok )) || echo -)" \
    "$([[ ${ok:-0} -gt 0 ]] && echo $(( (b1 - b0) * tick_us / ok )) || echo -)" \
    "$(rss_kb "${pid[alpha]}")" "$(rss_kb "${pid[beta]}")" "$(field generator_cpu_s "$line")" "${ok:-0}" >>"$calls"
  log "calls, $1: $(field rate "$line") calls/s, $(field fail_pct "$line")% failed"
  sleep 2
}
for r in $(seq 1 "$runs"); do call_run "fixed ${CALL_RATE:-160}/s, run $r" "${CALL_RATE:-160}"; done
call_run "max" max
load_calls=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 1c. trust changes while SIP flows ----------------------------------------
burst=${BURST:-0}
burst_rows="$work/burst.tsv"
: >"$burst_rows"
# burst_run LABEL CHANGES: calls and REGISTERs for CALL_DURATION s; from a
# third of it, CHANGES trust changes through the API (or, with 0, a pause as
# long as the last burst took), marked (sipload --mark-file) until 2 s after.
burst_run() {
  local mark="$work/mark" t0 t1 a0 a1 calls_out reg_out cl rl cp rp event
  rm -f "$mark"
  local perf_pid=
  if [[ -n "${PERF_DIR:-}" && $2 -gt 0 ]]; then  # alpha during the changes' run
    perf record -q -F 999 -g -p "${pid[alpha]}" -o "$PERF_DIR/alpha-burst.perf.data" -- sleep "$call_duration" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  a0=$(cpu_ticks "${pid[alpha]}")
  "$sipload" --quiet --scenario call --transport "$transport" --host 127.0.0.1 --port "${sip_port[alpha]}" \
    --domain alpha.example --callee-port "${sip_port[beta]}" --callee-domain beta.example \
    --users $((2 * users)) --first-user 1 --user 'u{}' --password 'bench-pw-{}' --no-sdp \
    --rate "${CALL_RATE:-160}" --max-outstanding "$outstanding" --duration "$call_duration" --mark-file "$mark" \
    >"$work/burst-calls.out" 2>&1 &
  cp=$!
  "$sipload" --quiet --scenario register --transport "$transport" --host 127.0.0.1 --port "${sip_port[alpha]}" \
    --domain alpha.example --users "$users" --first-user 1 --user 'u{}' --password 'bench-pw-{}' \
    --rate "${REG_RATE:-100}" --duration "$call_duration" --mark-file "$mark" >"$work/burst-reg.out" 2>&1 &
  rp=$!
  pids+=("$cp" "$rp")
  sleep $((call_duration / 3))
  touch "$mark"
  t0=$(now_ns)
  if (( $2 > 0 )); then
    event=$(timeout 300 python3 "$here/console/console_client.py" "${admin_port[alpha]}" "${admin_password[alpha]}" \
      churn "$work/burst.fps" 2>&1 || true)
    burst_ns=$(( $(now_ns) - t0 ))
  else
    event="no change"
    sleep "$(awk -v n="$burst_ns" 'BEGIN { printf "%.3f", n / 1e9 }')"
  fi
  t1=$(now_ns)
  sleep 2
  rm -f "$mark"
  wait "$cp" "$rp" || true
  [[ -z "$perf_pid" ]] || wait "$perf_pid" || true
  a1=$(cpu_ticks "${pid[alpha]}")
  cl=$(grep '^RESULT' "$work/burst-calls.out" || echo RESULT)
  rl=$(grep '^RESULT' "$work/burst-reg.out" || echo RESULT)
  sed 's/^/    /' "$work/burst-calls.out" "$work/burst-reg.out" >&2
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$event" "$(( (t1 - t0) / 1000000 ))" \
    "$(field unmarked_p99_ms "$cl")" "$(field mark_p99_ms "$cl")" "$(field mark_n "$cl")/$(field failed "$cl")" \
    "$(field unmarked_p99_ms "$rl")" "$(field mark_p99_ms "$rl")" "$(field mark_n "$rl")/$(field failed "$rl")" \
    "$(awk -v t=$(( (a1 - a0) * tick_us )) 'BEGIN { printf "%.1f", t / 1e6 }')" \
    "$(grep -c 'applied incrementally' "$work/alpha.log" || true)" >>"$burst_rows"
  log "1c, $1: $event"
  sleep 2
}
if (( burst > 0 )); then
  fedload=$(realpath "$(dirname "$sipload")/../fedload/fedload")
  log "alpha trusts ${BURST_PEERS:-10000} more sites (bulk import)"
  "$fedload" make --count "${BURST_PEERS:-10000}" --out "$work" --domain-suffix burst.test >/dev/null
  "$sipsite" peer import --bundle "$work/bundle.pem" --trust --state-dir "$work/alpha" >/dev/null 2>&1
  # The fingerprints of the first BURST/2 of them: each revoked, then trusted again.
  sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$work/bundle.pem" |
    awk -v n=$((burst / 2)) -v dir="$work" '/BEGIN CERTIFICATE/ { i++ } i <= n { print > (dir "/burst-" i ".pem") }'
  for f in "$work"/burst-*.pem; do openssl x509 -noout -fingerprint -sha256 -in "$f" | cut -d= -f2; done >"$work/burst.fps"
  sleep 3
  burst_run "with $burst trust changes" "$burst"
  burst_run "control, no change" 0
fi

# ---- 2. mutual-TLS handshakes -----------------------------------------------
# s_time_rate PORT CERT KEY: handshakes per wall-clock second of one client.
s_time_rate() {
  local t0 t1 out n
  t0=$(now_ns)
  out=$(timeout $((tls_time + 30)) openssl s_time -connect "127.0.0.1:$1" -new -time "$tls_time" -cert "$2" -key "$3" 2>&1 || true)
  t1=$(now_ns)
  n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' <<<"$out" | head -1)
  awk -v n="${n:-0}" -v d=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (d / 1e9) }'
}
s_server_port=$(free_port)
openssl s_server -tls1_3 -accept "127.0.0.1:$s_server_port" -cert "$work/alpha-cert.pem" -key "$work/alpha-key.pem" \
  -Verify 1 -CAfile "$work/gamma-cert.pem" -quiet -naccept 1000000000 >/dev/null 2>&1 </dev/null &
s_server_pid=$!
pids+=("$s_server_pid")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$s_server_port") 2>/dev/null && break; sleep 0.1; done
tls="$work/tls.tsv"
for r in $(seq 1 "$runs"); do
  a0=$(cpu_ticks "${pid[alpha]}")
  sipsite_rate=$(s_time_rate "${fed_port[alpha]}" "$work/gamma-cert.pem" "$work/gamma-key.pem")
  a1=$(cpu_ticks "${pid[alpha]}"); s0=$(cpu_ticks "$s_server_pid")
  server_rate=$(s_time_rate "$s_server_port" "$work/gamma-cert.pem" "$work/gamma-key.pem")
  s1=$(cpu_ticks "$s_server_pid")
  printf "%s\t%s\t%s\t%s\t%s\n" "$r" "$sipsite_rate" "$server_rate" \
    "$(( (a1 - a0) * tick_us / (sipsite_rate * tls_time + 1) ))" "$(( (s1 - s0) * tick_us / (server_rate * tls_time + 1) ))" >>"$tls"
  log "handshakes run $r: sipsite $sipsite_rate/s, s_server $server_rate/s"
done
# The pinned handshakes really were accepted (not refused after the client's
# Finished, which s_time would count too): a pinned client reads the
# daemon's first bytes without an alert; an unknown one is refused.
pin_check=$(timeout 10 openssl s_client -connect "127.0.0.1:${fed_port[alpha]}" -cert "$work/gamma-cert.pem" \
  -key "$work/gamma-key.pem" -quiet </dev/null 2>&1 | grep -c "alert" || true)
load_tls=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 3. handshake flood -------------------------------------------------------
flood() {  # flood CERT KEY: total handshakes of $flood_clients clients over $flood_time s
  local k total=0 n fpids=()
  for k in $(seq 1 "$flood_clients"); do
    timeout $((flood_time + 30)) openssl s_time -connect "127.0.0.1:${fed_port[alpha]}" -new -time "$flood_time" \
      -cert "$1" -key "$2" >"$work/flood.$k" 2>&1 &
    fpids+=("$!"); pids+=("$!")
  done
  for k in "${fpids[@]}"; do wait "$k" || true; done
  for k in $(seq 1 "$flood_clients"); do
    n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]*s;.*/\1/p' "$work/flood.$k" | head -1)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}
options_ok() {  # a SIP OPTIONS to alpha over UDP: the status line, or "no answer"
  python3 - "${sip_port[alpha]}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
p = s.getsockname()[1]
msg = (f"OPTIONS sip:alpha.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKfedbench{p};rport\r\n"
       f"Max-Forwards: 70\r\nFrom: <sip:probe@alpha.example>;tag=probe\r\nTo: <sip:alpha.example>\r\n"
       f"Call-ID: fedbench-{p}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
for _ in range(3):
    s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(65536).decode(errors="replace").split("\r\n")[0]); break
    except socket.timeout:
        pass
else:
    print("no answer")
EOF
}
a0=$(cpu_ticks "${pid[alpha]}")
unknown_total=$(flood "$work/stranger-cert.pem" "$work/stranger-key.pem")
a1=$(cpu_ticks "${pid[alpha]}")
unknown_alive=$(kill -0 "${pid[alpha]}" 2>/dev/null && echo yes || echo NO)
unknown_options=$(options_ok)
unknown_rss=$(rss_kb "${pid[alpha]}" 2>/dev/null || echo -)
pending=$("$sipsite" peer pending --json --state-dir "$work/alpha" 2>/dev/null | python3 -c '
import json, sys
rows = json.load(sys.stdin)
print(len(rows), "request(s), attempts recorded:", sum(r.get("attempts", 0) for r in rows))' 2>/dev/null || echo "unreadable")
pinned_total=$(flood "$work/gamma-cert.pem" "$work/gamma-key.pem")
a2=$(cpu_ticks "${pid[alpha]}")
pinned_alive=$(kill -0 "${pid[alpha]}" 2>/dev/null && echo yes || echo NO)
pinned_options=$(options_ok)
pinned_rss=$(rss_kb "${pid[alpha]}" 2>/dev/null || echo -)
link_after=$(grep -c "link to beta.example: connected" "$work/alpha.log" || true)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
     "load average before $load_before, after calls $load_calls, after handshakes $load_tls, at the end $load_end"
echo "sipsite: $("$sipsite" --version 2>&1 | head -1); $(openssl version)"
echo
echo "1. Calls alpha -> beta over one federation connection ($transport phones, no SDP, $outstanding outstanding," \
     "${call_duration} s per run, $users callers, $users callees, peer_request_rate $peer_rate):"
echo
echo "| run | calls/s | failed [%] | p50 [ms] | p99 [ms] | alpha CPU [%] | beta CPU [%] | alpha CPU [µs/call] | beta CPU [µs/call] | alpha RSS [KiB] | beta RSS [KiB] | sipload CPU [s] |"
echo "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$calls"
echo
# The best fixed-rate run: under 1 % failed, least CPU per call (both
# daemons); and what that CPU per call would allow if the busier daemon had
# a core to itself (an extrapolation, not a measurement).
awk -F'\t' '$1 ~ /^fixed/ && $3 < 1 && $8 != "-" {
    c = $8 + $9
    if (!n++ || c < best) { best = c; a = $8; b = $9; r = $2; l = $1 }
  }
  END {
    if (n) printf "Best fixed-rate run (%s): %s calls/s with 0-1 %% failed, alpha %s µs/call, beta %s µs/call; " \
                  "one core for the busier daemon would allow ~%d calls/s (extrapolated, the per-peer limit aside)\n",
                  l, r, a, b, 1e6 / (a > b ? a : b)
    else print "No fixed-rate run kept under 1 % failed."
  }' "$calls"
echo
if (( burst > 0 )); then
  echo "1c. Trust changes at alpha (${BURST_PEERS:-10000} extra peers trusted) while calls alpha -> beta run at" \
       "${CALL_RATE:-160}/s and REGISTERs at alpha at ${REG_RATE:-100}/s; p99 of what started during the changes" \
       "(and 2 s after) against the rest of the run; marked n/failed counts all failures of the run:"
  echo
  echo "| run | changes | window [ms] | calls p99 outside [ms] | calls p99 in window [ms] | calls in window / failed | REGISTER p99 outside [ms] | REGISTER p99 in window [ms] | REGISTERs in window / failed | alpha CPU [s] | incremental applies so far |"
  echo "|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' "$burst_rows"
  echo
fi
echo "2. Full mutual-TLS 1.3 handshakes, one openssl s_time -new client, ${tls_time} s per run, client certificate pinned / verified:"
echo
echo "| run | sipsite [/s] | openssl s_server [/s] | ratio | sipsite CPU [µs/handshake] | s_server CPU [µs/handshake] |"
echo "|--:|--:|--:|--:|--:|--:|"
awk -F'\t' '{ printf "| %s | %s | %s | %.2f | %s | %s |\n", $1, $2, $3, ($3 > 0 ? $2 / $3 : 0), $4, $5 }' "$tls"
best_s=$(sort -g -r <(cut -f2 "$tls") | head -1); best_o=$(sort -g -r <(cut -f3 "$tls") | head -1)
echo
echo "Best: sipsite $best_s/s, s_server $best_o/s, ratio $(awk -v a="$best_s" -v b="$best_o" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
     "(alerts seen by a pinned s_client: $pin_check)"
echo
echo "3. Handshake flood against alpha's federation port: $flood_clients concurrent s_time -new clients, ${flood_time} s:"
echo
echo "| client certificate | handshakes | per second | alpha CPU [s] | alpha up after | SIP OPTIONS after | alpha RSS after [KiB] |"
echo "|:--|--:|--:|--:|:--|:--|--:|"
echo "| unknown (pending-request path; pending afterwards: $pending) | $unknown_total | $((unknown_total / flood_time)) | $(awk -v t=$(( (a1 - a0) * tick_us )) 'BEGIN { printf "%.1f", t / 1e6 }') | $unknown_alive | $unknown_options | $unknown_rss |"
echo "| pinned | $pinned_total | $((pinned_total / flood_time)) | $(awk -v t=$(( (a2 - a1) * tick_us )) 'BEGIN { printf "%.1f", t / 1e6 }') | $pinned_alive | $pinned_options | $pinned_rss |"
echo
echo "alpha's federation link to beta: 'connected' logged $link_after time(s) over the whole run (1 = never dropped)."
if grep -qiE "error|fatal" "$work/alpha.log" "$work/beta.log"; then
  echo "Daemon log lines with errors (last 5):"
  grep -hiE "error|fatal" "$work/alpha.log" "$work/beta.log" | tail -5 | sed 's/^/    /'
fi
