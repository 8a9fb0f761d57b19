#!/usr/bin/env bash
# Soak benchmark: two paired sites (alpha, beta) as two sipsite daemons on
# 127.0.0.1 (set up as in federation_bench.sh), under a steady load for
# SOAK_SECONDS:
#   - calls alpha -> beta over the federation link: sipload --scenario call
#     at CALL_RATE calls/s (INVITE with digest 407 at alpha -> 100/180/200
#     -> ACK -> BYE, callees registered at beta; no SDP unless SDP=1);
#   - registrations refreshing: sipload --scenario register at REG_RATE
#     REGISTERs/s on each site (own users r1..rN, Expires 60);
#   - console use: every second, on each daemon, GET /healthz and GET
#     /api/v1/peers with a bearer token (made through the API after the
#     first-login password change).
# Every SAMPLE_SECONDS (10): VmRSS and the number of open file descriptors
# (/proc/PID/fd) of each daemon. At the end: the table and a verdict -- RSS
# growth from the first sample after WARMUP_SECONDS (60) to the last within
# RSS_MARGIN_PCT (10 %), fd count at the end within FD_MARGIN (5) of that
# sample, zero failed calls, registrations and console requests, both
# daemons still running. Exit 0 when the verdict is PASS, 1 when FAIL.
#
# Usage: tests/bench/soak.sh [SIPSITE_BINARY [SIPLOAD_BINARY]]
#   defaults: build-soak/server/app/sipsite, build-soak/tests/bench/sipload/sipload
#   (cmake -S . -B build-soak -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build-soak sipsite sipload)
# Environment: SOAK_SECONDS (default 600), CALL_RATE (20), REG_RATE (4 per
#   site), USERS (callers = callees = registering users per site, 50),
#   WARMUP_SECONDS (60), SAMPLE_SECONDS (10), RSS_MARGIN_PCT (10),
#   FD_MARGIN (5), SDP=1 (calls with SDP: media relay too), KEEP=1 (keep the
#   temp dir with the daemons' logs).
# Needs curl and python3. Bounded (timeout SOAK_SECONDS + 300 s); the trap
# stops every daemon and client it started and removes its temp dir.
set -euo pipefail

soak_seconds=${SOAK_SECONDS:-600}
if [[ -z "${SOAK_INNER:-}" ]]; then
  export SOAK_INNER=1
  exec timeout -k 10 $((soak_seconds + 300)) "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipsite=$(realpath "${1:-$root/build-soak/server/app/sipsite}")
sipload=$(realpath "${2:-$root/build-soak/tests/bench/sipload/sipload}")
call_rate=${CALL_RATE:-20}
reg_rate=${REG_RATE:-4}
users=${USERS:-50}
warmup=${WARMUP_SECONDS:-60}
sample_every=${SAMPLE_SECONDS:-10}
rss_margin=${RSS_MARGIN_PCT:-10}
fd_margin=${FD_MARGIN:-5}
sdp_flag=--no-sdp
[[ "${SDP:-0}" == 1 ]] && sdp_flag=

log() { echo "[soak $(date +%T)] $*" >&2; }
[[ -x "$sipsite" ]] || { echo "soak: no sipsite at $sipsite" >&2; exit 2; }
[[ -x "$sipload" ]] || { echo "soak: no sipload at $sipload" >&2; exit 2; }
command -v curl >/dev/null || { echo "soak: curl is missing" >&2; exit 2; }
[[ "$soak_seconds" -gt "$warmup" ]] || { echo "soak: SOAK_SECONDS must exceed WARMUP_SECONDS ($warmup)" >&2; exit 2; }

bench=soak
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# ---- two paired sites ---------------------------------------------------------
declare -A sip_port fed_port admin_port pid admin_pw token
media_base=(46400 46600)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $load_before"
for site in alpha beta; do
  admin_pw[$site]=$("$sipsite" init --domain "$site.example" --state-dir "$work/$site" 2>/dev/null |
    sed -n 's/^admin password: //p')
  sip_port[$site]=$(free_port)
  fed_port[$site]=$(free_port)
  admin_port[$site]=$(free_port)
done
# Callers u1..uN at alpha, callees u(N+1)..u(2N) at beta (sipload splits
# --users 2N that way), password soak-pw-<n>; registering users r1..rN on
# each site, password reg-pw-<n>.
log "adding $((2 * users)) users to each site"
for i in $(seq 1 "$users"); do
  echo "soak-pw-$i" | "$sipsite" user add --aor "u$i@alpha.example" --password-stdin --state-dir "$work/alpha" >/dev/null 2>&1
  j=$((i + users))
  echo "soak-pw-$j" | "$sipsite" user add --aor "u$j@beta.example" --password-stdin --state-dir "$work/beta" >/dev/null 2>&1
  for site in alpha beta; do
    echo "reg-pw-$i" | "$sipsite" user add --aor "r$i@$site.example" --password-stdin --state-dir "$work/$site" >/dev/null 2>&1
  done
done
"$sipsite" cert --state-dir "$work/alpha" >"$work/alpha.pem"
"$sipsite" cert --state-dir "$work/beta" >"$work/beta.pem"
"$sipsite" peer import --file "$work/beta.pem" --address "127.0.0.1:${fed_port[beta]}" --state-dir "$work/alpha" >/dev/null 2>&1
"$sipsite" peer trust --domain beta.example --state-dir "$work/alpha" >/dev/null 2>&1
"$sipsite" peer import --file "$work/alpha.pem" --address "127.0.0.1:${fed_port[alpha]}" --state-dir "$work/beta" >/dev/null 2>&1
"$sipsite" peer trust --domain alpha.example --state-dir "$work/beta" >/dev/null 2>&1

k=0
for site in alpha beta; do
  media=${media_base[$k]}; k=$((k + 1))
  cat >"$work/$site.toml" <<EOF
[sip]
udp = ["127.0.0.1:${sip_port[$site]}"]
tcp = ["127.0.0.1:${sip_port[$site]}"]
tls = []
[federation]
listen = "127.0.0.1:${fed_port[$site]}"
[admin]
listen = "127.0.0.1:${admin_port[$site]}"
[media]
ports = "$media-$((media + 199))"
[log]
level = "warn,federation=info"
EOF
  "$sipsite" run --state-dir "$work/$site" --config "$work/$site.toml" >"$work/$site.log" 2>&1 &
  pid[$site]=$!
  pids+=("$!")
done
wait_log "$work/alpha.log" "link to beta.example: connected" "${pid[alpha]}"
wait_log "$work/beta.log" "link to alpha.example: connected" "${pid[beta]}"
log "paired: alpha (pid ${pid[alpha]}), beta (pid ${pid[beta]})"

# An API token per site, as a script gets one: first login, the required
# password change, a fresh login, POST /api/v1/tokens.
for site in alpha beta; do
  token[$site]=$(python3 - "${admin_port[$site]}" "${admin_pw[$site]}" <<'EOF'
import http.client, json, ssl, sys
port, initial = int(sys.argv[1]), sys.argv[2]
new = "soak console password, long enough"
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def call(method, path, body, cookie=None, csrf=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=60)
    h = {"Content-Type": "application/json"}
    if cookie: h["Cookie"] = cookie
    if csrf: h["X-CSRF-Token"] = csrf
    c.request(method, path, body=json.dumps(body).encode(), headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r, data
def login(pw):
    r, data = call("POST", "/api/v1/session", {"username": "admin", "password": pw})
    if r.status != 200: sys.exit(f"soak: console login: {r.status} {data[:200]!r}")
    return r.headers["Set-Cookie"].split(";")[0], json.loads(data)["csrf_token"]
cookie, csrf = login(initial)
r, data = call("PUT", "/api/v1/session/password", {"current": initial, "new": new}, cookie, csrf)
if r.status != 200: sys.exit(f"soak: password change: {r.status} {data[:200]!r}")
cookie, csrf = login(new)
r, data = call("POST", "/api/v1/tokens", {"name": "soak"}, cookie, csrf)
if r.status != 201: sys.exit(f"soak: token: {r.status} {data[:200]!r}")
print(json.loads(data)["token"])
EOF
)
  [[ -n "${token[$site]}" ]] || { echo "soak: no API token for $site" >&2; exit 1; }
done
log "API tokens made; starting the load for $soak_seconds s"

# ---- the load -----------------------------------------------------------------
"$sipload" --quiet --scenario call --transport udp --host 127.0.0.1 --port "${sip_port[alpha]}" --domain alpha.example \
  --callee-port "${sip_port[beta]}" --callee-domain beta.example \
  --users $((2 * users)) --first-user 1 --user 'u{}' --password 'soak-pw-{}' $sdp_flag \
  --rate "$call_rate" --max-outstanding 100 --duration "$soak_seconds" >"$work/calls.out" 2>&1 &
calls_pid=$!; pids+=("$calls_pid")
declare -A reg_pid
for site in alpha beta; do
  "$sipload" --quiet --scenario register --transport udp --host 127.0.0.1 --port "${sip_port[$site]}" \
    --domain "$site.example" --users "$users" --first-user 1 --user 'r{}' --password 'reg-pw-{}' --expires 60 \
    --rate "$reg_rate" --max-outstanding 20 --duration "$soak_seconds" >"$work/reg-$site.out" 2>&1 &
  reg_pid[$site]=$!; pids+=("$!")
done
# Console: once a second per daemon, /healthz and /api/v1/peers (bearer);
# a line per request that did not answer 200.
console_loop() {  # console_loop SITE
  local end=$((SECONDS + soak_seconds)) code
  while [[ $SECONDS -lt $end ]]; do
    code=$(curl -sk -o /dev/null -m 10 -w '%{http_code}' "https://127.0.0.1:${admin_port[$1]}/healthz" || true)
    echo "healthz $code"
    code=$(curl -sk -o /dev/null -m 10 -w '%{http_code}' -H "Authorization: Bearer ${token[$1]}" \
      "https://127.0.0.1:${admin_port[$1]}/api/v1/peers" || true)
    echo "peers $code"
    sleep 1
  done >"$work/console-$1.out"
}
for site in alpha beta; do console_loop "$site" & pids+=("$!"); done

# ---- sampling -----------------------------------------------------------------
samples="$work/samples.tsv"
start=$SECONDS
while :; do
  t=$((SECONDS - start))
  printf "%s\t%s\t%s\t%s\t%s\n" "$t" "$(rss_kb "${pid[alpha]}")" "$(fd_count "${pid[alpha]}")" \
    "$(rss_kb "${pid[beta]}")" "$(fd_count "${pid[beta]}")" >>"$samples"
  [[ $t -ge $soak_seconds ]] && break
  kill -0 "${pid[alpha]}" 2>/dev/null && kill -0 "${pid[beta]}" 2>/dev/null || break
  sleep $(( sample_every - (SECONDS - start) % sample_every ))
done
for p in "$calls_pid" "${reg_pid[alpha]}" "${reg_pid[beta]}"; do
  for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
sleep 1
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -------------------------------------------------------------------
alive_a=$(kill -0 "${pid[alpha]}" 2>/dev/null && echo yes || echo NO)
alive_b=$(kill -0 "${pid[beta]}" 2>/dev/null && echo yes || echo NO)
calls_line=$(grep '^RESULT' "$work/calls.out" || echo "RESULT attempted=0 succeeded=0 failed=-1")
reg_a=$(grep '^RESULT' "$work/reg-alpha.out" || echo "RESULT attempted=0 succeeded=0 failed=-1")
reg_b=$(grep '^RESULT' "$work/reg-beta.out" || echo "RESULT attempted=0 succeeded=0 failed=-1")
console_total=$(cat "$work"/console-*.out | wc -l)
console_bad=$(cat "$work"/console-*.out | grep -vc ' 200$' || true)

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
     "load average before $load_before, at the end $load_end"
echo "sipsite: $("$sipsite" --version 2>&1 | head -1)"
echo "Soak: ${soak_seconds} s; calls alpha -> beta at ${call_rate}/s (${sdp_flag:-with SDP}), REGISTER at ${reg_rate}/s" \
     "per site (Expires 60, $users users each), console /healthz + /api/v1/peers (bearer) every second per daemon"
echo
echo "| t [s] | alpha RSS [KiB] | alpha fds | beta RSS [KiB] | beta fds |"
echo "|--:|--:|--:|--:|--:|"
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$samples"
echo
echo "calls:              $calls_line"
echo "registrations alpha: $reg_a"
echo "registrations beta:  $reg_b"
echo "console requests:   $console_total, not 200: $console_bad"
echo "daemons running at the end: alpha $alive_a, beta $alive_b"

verdict=PASS
reasons=()
check() {  # check NAME BASE_RSS LAST_RSS BASE_FD LAST_FD
  local growth
  growth=$(awk -v b="$2" -v l="$3" 'BEGIN { printf "%.1f", (b > 0 ? 100 * (l - b) / b : 999) }')
  echo "$1: RSS ${2} KiB at the first sample after ${warmup} s -> ${3} KiB at the end (${growth} %, margin ${rss_margin} %);" \
       "fds $4 -> $5 (margin $fd_margin)"
  if awk -v g="$growth" -v m="$rss_margin" 'BEGIN { exit !(g > m) }'; then verdict=FAIL; reasons+=("$1 RSS grew ${growth} %"); fi
  if [[ $5 -gt $(($4 + fd_margin)) ]]; then verdict=FAIL; reasons+=("$1 fds $4 -> $5"); fi
}
base=$(awk -F'\t' -v w="$warmup" '$1 >= w { print; exit }' "$samples")
last=$(tail -1 "$samples")
if [[ -z "$base" ]]; then
  verdict=FAIL; reasons+=("no sample after the warm-up")
else
  IFS=$'\t' read -r _ ba_rss ba_fd bb_rss bb_fd <<<"$base"
  IFS=$'\t' read -r _ la_rss la_fd lb_rss lb_fd <<<"$last"
  check alpha "$ba_rss" "$la_rss" "$ba_fd" "$la_fd"
  check beta "$bb_rss" "$lb_rss" "$bb_fd" "$lb_fd"
fi
for what in "calls:$calls_line" "alpha registrations:$reg_a" "beta registrations:$reg_b"; do
  f=$(field failed "${what#*:}")
  [[ "${f:-1}" == 0 ]] || { verdict=FAIL; reasons+=("${what%%:*}: failed=${f:-?}"); }
  s=$(field succeeded "${what#*:}")
  [[ "${s:-0}" -gt 0 ]] || { verdict=FAIL; reasons+=("${what%%:*}: none succeeded"); }
done
[[ "$console_bad" == 0 && "$console_total" -gt 0 ]] || { verdict=FAIL; reasons+=("console: $console_bad of $console_total not 200"); }
[[ $alive_a == yes && $alive_b == yes ]] || { verdict=FAIL; reasons+=("a daemon exited"); }
if grep -qiE "error|fatal|AddressSanitizer" "$work/alpha.log" "$work/beta.log"; then
  echo "Daemon log lines with errors (last 5):"
  grep -hiE "error|fatal|AddressSanitizer" "$work/alpha.log" "$work/beta.log" | tail -5 | sed 's/^/    /'
fi
echo
echo "VERDICT: $verdict${reasons[*]:+ (${reasons[*]})}"
[[ $verdict == PASS ]]
