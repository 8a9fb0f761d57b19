#!/usr/bin/env bash
# Federation at scale (issue 18): one site (alpha) on 127.0.0.1 and the
# fedload harness playing PEERS other sites, LINKS of them connected at once.
# Scenarios, each printed as a row of the final table:
#   1. trust PEERS peers at alpha (bulk `peer import --trust` when the binary
#      has it, else one SQL transaction with sqlcipher: the daemon's figures
#      are the same either way), and the time it took;
#   2. start-up: `sipsite run` to "state loaded" (every peer pinned) with 0 and with PEERS peers, RSS
#      at rest (-> memory per trusted peer);
#   3. LINKS idle mutual-TLS links (keep-alives only): time to bring them
#      up, RSS before and with them up (-> memory per idle link);
#   4. revocation under load: LINKS links, OPTIONS (and MESSAGE) at RATE/s
#      over the first SIP_LINKS of them; `peer revoke` of link 0's peer by
#      the CLI: the time to its link's close, collateral closes, and the p99
#      of the other links' requests before vs around the revocation; then
#      link 1's peer revoked through the console's API, the same way;
#   5. a burst of CHANGES trust changes, one CLI command and one commit each
#      (revoking peers that are not connected), under the same load: p99
#      before vs during, requests lost; then the same commands again as a
#      control (nothing left to change: the CLI processes' cost alone);
#      then CHANGES other revocations through the console's API (one
#      client process: tests/bench/console/console_client.py);
#   6. full mutual-TLS handshakes per second (fedload handshakes, 2 at a
#      time, HS_TIME s) and alpha's CPU per handshake, with 10 pins and with
#      PEERS pins;
#   7. a scan: SCAN_HANDSHAKES handshakes from SCAN_IDS certificates alpha
#      does not know (1,000 source addresses, 2 at a time) against the site
#      with PEERS pins: the pending table's rows, the database's growth,
#      RSS, CPU per handshake, and the console's count of what became of
#      the handshakes (GET /api/v1/peers/pending, since_start);
#   8. dialling: DIAL_PEERS of the peers given addresses (fedload listen
#      plays them, each on its own loopback address), alpha restarted: the
#      time from `run` to every one of them connected, how the first dials
#      spread out (their span, the densest 100 ms), RSS and CPU for it; then
#      all of them down at once for OUTAGE s (every dial refused, counted)
#      and up again: the dials during the outage, the densest 100 ms of
#      them, and the time until every link is back (backoff with jitter).
# Timing is reported, never asserted (docs/BENCHMARKS.md keeps the figures).
#
# Usage: tests/bench/federation_scale.sh [SIPSITE_BINARY [FEDLOAD_BINARY]]
#   defaults: build-release/server/app/sipsite, build-release/tests/bench/fedload/fedload
# Environment: PEERS (10000), LINKS (1000), SIP_LINKS (100), RATE (200
#   requests/s), DURATION (s of load per scenario, 15), CHANGES (100),
#   HS_TIME (5), SCAN_IDS (10000), SCAN_HANDSHAKES (100000; 0: no scan),
#   DIAL_PEERS (LINKS; 0: no dialling scenario), OUTAGE (20 s),
#   DIAL_ONLY=1 (scenarios 1, 2 and 8 only), KEEP=1 (keep the temp dir).
# Needs sqlcipher (the SQL import of a binary without bulk import).
# Bounded (BENCH_TIMEOUT, default 1500 s); the trap stops what it started.
set -euo pipefail

if [[ -z "${FED_SCALE_INNER:-}" ]]; then
  export FED_SCALE_INNER=1
  exec timeout -k 10 "${BENCH_TIMEOUT:-1500}" "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sipsite=$(realpath "${1:-$root/build-release/server/app/sipsite}")
fedload=$(realpath "${2:-$root/build-release/tests/bench/fedload/fedload}")
peers=${PEERS:-10000}
links=${LINKS:-1000}
sip_links=${SIP_LINKS:-100}
rate=${RATE:-200}
duration=${DURATION:-15}
changes=${CHANGES:-100}
hs_time=${HS_TIME:-5}
scan_ids=${SCAN_IDS:-10000}
scan_handshakes=${SCAN_HANDSHAKES:-100000}
dial_peers=${DIAL_PEERS:-$links}
outage=${OUTAGE:-20}
tick_us=$((1000000 / $(getconf CLK_TCK)))

log() { echo "[federation_scale $(date +%T)] $*" >&2; }
[[ -x "$sipsite" ]] || { echo "federation_scale: no sipsite at $sipsite" >&2; exit 2; }
[[ -x "$fedload" ]] || { echo "federation_scale: no fedload at $fedload" >&2; exit 2; }
(( links <= peers )) || { echo "federation_scale: LINKS must not exceed PEERS" >&2; exit 2; }
(( dial_peers <= peers )) || { echo "federation_scale: DIAL_PEERS must not exceed PEERS" >&2; exit 2; }
(( links + 2 * changes <= peers )) || { echo "federation_scale: LINKS + 2 CHANGES must not exceed PEERS" >&2; exit 2; }

bench=federation_scale
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
sql() {  # sql STATE_DIR: run stdin against the site's encrypted database
  { printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\n" "$(tr -d '\n' <"$1/db.key")"; cat; } |
    sqlcipher "$1/sipsite.db" >/dev/null
}
sql_value() {  # sql_value STATE_DIR QUERY: the query's last output line
  printf '%s\n' "$2" | { printf "PRAGMA key = \"x'%s'\";\nPRAGMA cipher_page_size = 4096;\n" "$(tr -d '\n' <"$1/db.key")"; cat; } |
    sqlcipher "$1/sipsite.db" | tail -1
}
table=()
row() { table+=("$(printf '%-58s %s' "$1" "$2")"); log "$1: $2"; }

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
site="$work/alpha"
admin_password=$("$sipsite" init --domain alpha.example --state-dir "$site" 2>/dev/null | sed -n 's/^admin password: //p')
fed_port=$(free_port)
cat >"$work/alpha.toml" <<EOF
[sip]
udp = ["127.0.0.1:$(free_port)"]
tcp = []
tls = []
[federation]
listen = "127.0.0.1:$fed_port"
[admin]
listen = "127.0.0.1:$(free_port)"
[media]
ports = "47000-47099"
[log]
level = "warn,app=info,store=info,federation=info"
EOF

admin_port=$(sed -n '/^\[admin\]/,/^\[/s/^listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$work/alpha.toml")
daemon_pid=
start_site() {  # start_site LABEL: starts alpha, waits for "state loaded"; sets startup_ms
  local t0
  t0=$(now_ms)
  "$sipsite" run --state-dir "$site" --config "$work/alpha.toml" >"$work/alpha-$1.log" 2>&1 &
  daemon_pid=$!
  pids+=("$daemon_pid")
  for _ in $(seq 1200); do
    grep -q "state loaded" "$work/alpha-$1.log" 2>/dev/null && break
    kill -0 "$daemon_pid" 2>/dev/null || { tail -5 "$work/alpha-$1.log" >&2; exit 1; }
    sleep 0.05
  done
  startup_ms=$(( $(now_ms) - t0 ))
}
stop_site() {
  kill "$daemon_pid" 2>/dev/null || true
  wait "$daemon_pid" 2>/dev/null || true
}

# ---- identities and the empty site -------------------------------------------
log "making $peers identities"
mkdir -p "$work/ids" "$work/ids10"
"$fedload" make --count "$peers" --out "$work/ids" >/dev/null
"$fedload" make --count 10 --out "$work/ids10" --domain-suffix small.test >/dev/null

start_site empty
sleep 1
rss_empty=$(rss_kb "$daemon_pid")
row "start-up, 0 peers (run -> state loaded)" "${startup_ms} ms, RSS ${rss_empty} KiB"
stop_site

# ---- 1. trust PEERS peers -------------------------------------------------------
bulk_import() {  # bulk_import DIR: every certificate of DIR/bundle.pem, trusted
  if "$sipsite" peer import --help 2>&1 | grep -q -- '--bundle'; then
    "$sipsite" peer import --bundle "$1/bundle.pem" --trust --state-dir "$site" >/dev/null 2>"$work/import.err"
    import_method="sipsite peer import --bundle --trust"
  else
    sql "$site" <"$1/peers.sql"
    import_method="one SQL transaction (this binary has no bulk import)"
  fi
}
t0=$(now_ms)
bulk_import "$work/ids10"
bulk_import "$work/ids"
row "trust $((peers + 10)) peers: $import_method" "$(( $(now_ms) - t0 )) ms"

# ---- 2. start-up with PEERS peers -------------------------------------------------
start_site full
sleep 2
rss_full=$(rss_kb "$daemon_pid")
row "start-up, $((peers + 10)) peers (run -> state loaded)" "${startup_ms} ms, RSS ${rss_full} KiB"
row "memory per trusted peer at rest" \
  "$(awk -v a="$rss_full" -v b="$rss_empty" -v n=$((peers + 10)) 'BEGIN { printf "%.2f KiB", (a - b) / n }')"

if [[ -z "${DIAL_ONLY:-}" ]]; then
# ---- 3. idle links ------------------------------------------------------------------
rss0=$(rss_kb "$daemon_pid")
"$fedload" links --dir "$work/ids" --target "127.0.0.1:$fed_port" --site-domain alpha.example --links "$links" \
  --rate 0 --duration 6 --keepalive 5 >"$work/idle.out" 2>"$work/idle.err" &
fl=$!
pids+=("$fl")
for _ in $(seq 1200); do grep -q "link(s) up" "$work/idle.err" && break; sleep 0.05; done
sleep 3
rss1=$(rss_kb "$daemon_pid")
wait "$fl" || true
line=$(grep '^RESULT' "$work/idle.out" || echo "RESULT")
row "$links idle links: up / time to bring up" "$(field links_up "$line")/$links in $(field connect_ms "$line") ms"
row "memory per idle link" \
  "$(awk -v a="$rss1" -v b="$rss0" -v n="$links" 'BEGIN { printf "%.1f KiB (RSS %d -> %d KiB)", (a - b) / n, b, a }')"
sleep 2

# ---- 4. revocation under load -----------------------------------------------------------
fp0=$(sed -n '1,/END CERTIFICATE/p' "$work/ids/bundle.pem" | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
c0=$(cpu_ticks "$daemon_pid")
"$fedload" links --dir "$work/ids" --target "127.0.0.1:$fed_port" --site-domain alpha.example --links "$links" \
  --sip-links "$sip_links" --rate "$rate" --message-every 10 --duration "$duration" --keepalive 5 --settle 1 \
  --event-at $((duration / 3)) --expect-closed 0 \
  --event-cmd "'$sipsite' peer revoke --fingerprint $fp0 --state-dir '$site' 2>/dev/null" \
  >"$work/revoke.out" 2>"$work/revoke.err" || true
line=$(grep '^RESULT' "$work/revoke.out" || echo "RESULT")
sed 's/^/    /' "$work/revoke.out" >&2
row "revocation (CLI) with $links links up: link closed after" \
  "$(field revoke_ms "$line") ms (CLI ran $(field event_ms "$line") ms; collateral closes $(field collateral "$line"))"
row "OPTIONS/MESSAGE p99 on $sip_links other links: before / around" \
  "$(field before_p99_ms "$line") / $(field event_p99_ms "$line") ms (max $(field event_max_ms "$line") ms)"
row "requests sent / answered / lost" "$(field sent "$line") / $(field answered "$line") / $(field lost "$line")"
sleep 2
# The same through the console's API: link 1's peer, one request (answered
# once the change is in force).
fp1=$(awk '/BEGIN CERTIFICATE/ { i++ } i == 2' "$work/ids/bundle.pem" | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)
echo "$fp1" >"$work/api-one.fps"
"$fedload" links --dir "$work/ids" --first 1 --target "127.0.0.1:$fed_port" --site-domain alpha.example \
  --links $((links - 1)) --sip-links "$sip_links" --rate "$rate" --message-every 10 --duration "$duration" \
  --keepalive 5 --settle 1 --event-at $((duration / 3)) --expect-closed 1 \
  --event-cmd "python3 '$here/console/console_client.py' $admin_port '$admin_password' revoke '$work/api-one.fps'" \
  >"$work/revoke-api.out" 2>"$work/revoke-api.err" || true
line=$(grep '^RESULT' "$work/revoke-api.out" || echo "RESULT")
first_request=$(sed -n 's/.*first_request_ms=\([0-9]*\).*/\1/p' "$work/revoke-api.out")
row "revocation (API) with $((links - 1)) links up: link closed after" \
  "$(( $(field revoke_ms "$line") - ${first_request:-0} )) ms from the request (the client logged in first: $(
    field revoke_ms "$line") ms from its start; collateral closes $(field collateral "$line"))"
sleep 2

# ---- 5. a burst of trust changes under load ---------------------------------------------
# Revokes the peers after the linked ones, one CLI command (one commit) each.
fingerprints() {  # fingerprints FIRST N OUT: of the peers after the FIRST of the bundle
  mkdir -p "$work/pems-$1"
  sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$work/ids/bundle.pem" |
    awk -v first="$1" -v n="$2" -v dir="$work/pems-$1" '
      /BEGIN CERTIFICATE/ { i++; buf = "" }
      { buf = buf $0 "\n" }
      /END CERTIFICATE/ { if (i > first && i <= first + n) printf "%s", buf > (dir "/" i ".pem") }'
  : >"$3"
  for f in "$work/pems-$1"/*.pem; do openssl x509 -noout -fingerprint -sha256 -in "$f" | cut -d= -f2 >>"$3"; done
}
fingerprints "$links" "$changes" "$work/burst.fps"
cat >"$work/burst.sh" <<EOF
#!/bin/sh
while read -r fp; do '$sipsite' peer revoke --fingerprint "\$fp" --state-dir '$site' 2>/dev/null; done <'$work/burst.fps'
EOF
chmod +x "$work/burst.sh"
"$fedload" links --dir "$work/ids" --first 1 --target "127.0.0.1:$fed_port" --site-domain alpha.example \
  --links $((links - 1)) --sip-links "$sip_links" --rate "$rate" --message-every 10 --duration "$duration" \
  --keepalive 5 --settle 1 --event-at $((duration / 3)) --event-cmd "$work/burst.sh" \
  >"$work/burst.out" 2>"$work/burst.err" || true
line=$(grep '^RESULT' "$work/burst.out" || echo "RESULT")
sed 's/^/    /' "$work/burst.out" >&2
row "$changes CLI revocations in a burst ($(field event_ms "$line") ms): p99 before / during" \
  "$(field before_p99_ms "$line") / $(field event_p99_ms "$line") ms (max $(field event_max_ms "$line") ms)"
row "  requests sent / answered / lost; links closed" \
  "$(field sent "$line") / $(field answered "$line") / $(field lost "$line"); $(field closed_unexpected "$line")"
row "  daemon log: full loads (start-up included) / incremental applies" \
  "$(grep -c 'state loaded' "$work/alpha-full.log" || true) / $(grep -c 'applied incrementally' "$work/alpha-full.log" || true)"
# The control: the same commands again, now changing nothing (their peers
# are revoked already, so nothing is written): what the CLI processes alone
# cost the other links on this machine's two cores.
"$fedload" links --dir "$work/ids" --first 1 --target "127.0.0.1:$fed_port" --site-domain alpha.example \
  --links $((links - 1)) --sip-links "$sip_links" --rate "$rate" --message-every 10 --duration "$duration" \
  --keepalive 5 --settle 1 --event-at $((duration / 3)) --event-cmd "$work/burst.sh" \
  >"$work/control.out" 2>"$work/control.err" || true
line=$(grep '^RESULT' "$work/control.out" || echo "RESULT")
row "  control: the same $changes commands changing nothing ($(field event_ms "$line") ms): p99 before / during" \
  "$(field before_p99_ms "$line") / $(field event_p99_ms "$line") ms (max $(field event_max_ms "$line") ms)"
# The same number of revocations through the console's API: one client
# process, one request and one commit each (each answered once in force).
fingerprints $((links + changes)) "$changes" "$work/api-burst.fps"
"$fedload" links --dir "$work/ids" --first 1 --target "127.0.0.1:$fed_port" --site-domain alpha.example \
  --links $((links - 1)) --sip-links "$sip_links" --rate "$rate" --message-every 10 --duration "$duration" \
  --keepalive 5 --settle 1 --event-at $((duration / 3)) \
  --event-cmd "python3 '$here/console/console_client.py' $admin_port '$admin_password' revoke '$work/api-burst.fps'" \
  >"$work/api-burst.out" 2>"$work/api-burst.err" || true
line=$(grep '^RESULT' "$work/api-burst.out" || echo "RESULT")
row "$changes API revocations in a burst ($(field event_ms "$line") ms): p99 before / during" \
  "$(field before_p99_ms "$line") / $(field event_p99_ms "$line") ms (max $(field event_max_ms "$line") ms)"
row "  requests sent / answered / lost; links closed" \
  "$(field sent "$line") / $(field answered "$line") / $(field lost "$line"); $(field closed_unexpected "$line")"
c1=$(cpu_ticks "$daemon_pid")

# ---- 6. handshakes with 10 and with PEERS pins --------------------------------------------
hs() {  # hs DIR LABEL
  local c0 c1 out n
  c0=$(cpu_ticks "$daemon_pid")
  out=$("$fedload" handshakes --dir "$1" --index 1 --target "127.0.0.1:$fed_port" --seconds "$hs_time" --concurrency 2 2>/dev/null || true)
  c1=$(cpu_ticks "$daemon_pid")
  n=$(field handshakes "$(grep '^RESULT' <<<"$out" || echo RESULT)")
  row "handshakes/s, $2" "$(field rate "$(grep '^RESULT' <<<"$out" || echo RESULT)") ($(field failed "$out") failed), site CPU $(
    awk -v t=$(( (c1 - c0) * tick_us )) -v n="${n:-0}" 'BEGIN { if (n > 0) printf "%.0f", t / n; else printf "-" }') us each"
}
stop_site
# 10 pins: a site that trusts only ids10.
rm -rf "$site"
admin_password=$("$sipsite" init --domain alpha.example --state-dir "$site" 2>/dev/null | sed -n 's/^admin password: //p')
bulk_import "$work/ids10"
start_site small
sleep 1
hs "$work/ids10" "10 pins"
stop_site
bulk_import "$work/ids"
start_site big
sleep 2
hs "$work/ids10" "$((peers + 10)) pins"

# ---- 7. a scan by unknown certificates ------------------------------------------------
since_start() { python3 "$here/console/console_client.py" "$admin_port" "$admin_password" since_start; }
if (( scan_handshakes > 0 )); then
  log "making $scan_ids identities alpha does not know"
  mkdir -p "$work/scan"
  "$fedload" make --count "$scan_ids" --out "$work/scan" --domain-suffix scan.test >/dev/null
  db_bytes() { cat "$site"/sipsite.db* 2>/dev/null | wc -c; }
  db0=$(db_bytes); rss0=$(rss_kb "$daemon_pid"); c0=$(cpu_ticks "$daemon_pid"); t0=$(now_ms)
  out=$("$fedload" handshakes --dir "$work/scan" --target "127.0.0.1:$fed_port" --identities "$scan_ids" \
    --count "$scan_handshakes" --sources 1000 --concurrency 2 --seconds 3600 2>/dev/null || true)
  c1=$(cpu_ticks "$daemon_pid"); t1=$(now_ms); sleep 1
  line=$(grep '^RESULT' <<<"$out" || echo RESULT)
  n=$(( $(field handshakes "$line") + $(field failed "$line") ))
  row "scan: $n handshakes from $scan_ids unknown certificates" "$(( t1 - t0 )) ms, $(awk -v t=$(( (c1 - c0) * tick_us )) -v n="$n" \
    'BEGIN { printf "%.0f", t / n }') us of site CPU each"
  row "  pending requests in the table after it" "$(sql_value "$site" "SELECT count(*) FROM peer_requests;")"
  row "  database (with its WAL) before / after" "$db0 / $(db_bytes) bytes"
  row "  RSS before / after" "$rss0 / $(rss_kb "$daemon_pid") KiB"
  row "  the console's count (since_start)" "$(since_start)"
fi
fi  # DIAL_ONLY
stop_site

# ---- 8. dialling DIAL_PEERS peers with addresses ------------------------------------------
if (( dial_peers > 0 )); then
  dial_port=$(free_port)
  # fedload's listen_address(i): 127.3.(i / 250).(i % 250 + 1)
  awk -v n="$dial_peers" -v port="$dial_port" 'BEGIN {
    print "BEGIN;"
    for (i = 0; i < n; i++)
      printf "UPDATE peers SET address = '\''127.3.%d.%d:%d'\'' WHERE domain = '\''p%05d.fed.test'\'';\n", int(i / 250), i % 250 + 1, port, i
    print "COMMIT;"
  }' | sql "$site"
  "$fedload" listen --dir "$work/ids" --links "$dial_peers" --port "$dial_port" --connect-timeout 120 --settle 5 \
    --outage "$outage" --reconnect-timeout 180 >"$work/dial.out" 2>"$work/dial.err" &
  fl=$!
  pids+=("$fl")
  for _ in $(seq 1200); do grep -q "^listening" "$work/dial.out" && break; sleep 0.05; done
  t_run=$(now_ms)
  start_site dial
  c0=$(cpu_ticks "$daemon_pid")
  for _ in $(seq 2400); do grep -q "sites connected" "$work/dial.err" && break; sleep 0.05; done
  c1=$(cpu_ticks "$daemon_pid")
  sleep 2
  rss_dial=$(rss_kb "$daemon_pid")
  wait "$fl" || true
  line=$(grep '^RESULT' "$work/dial.out" || echo "RESULT")
  sed 's/^/    /' "$work/dial.err" >&2
  first=$(field first_dial_epoch_ms "$line"); all=$(field all_connected_epoch_ms "$line")
  row "dialling $dial_peers peers at start-up: connected / first dial / all connected" \
    "$(field connected "$line")/$dial_peers; $(( first - t_run )) ms / $( ((all > 0)) && echo $(( all - t_run )) || echo -) ms after run"
  row "  first dials: span / densest 100 ms / handshakes failed" \
    "$(field dial_span_ms "$line") ms / $(field max_dials_100ms "$line") dials / $(field failed_handshakes "$line")"
  row "  alpha's CPU from state loaded to all connected; RSS then" \
    "$(awk -v t=$(( (c1 - c0) * tick_us )) -v n="$dial_peers" 'BEGIN { printf "%.0f ms (%.0f us per link)", t / 1000, t / n }'); ${rss_dial} KiB"
  if (( outage > 0 )); then
    row "outage of all $dial_peers for $outage s: dials refused / most by one peer / densest 100 ms" \
      "$(field outage_dials "$line") / $(field outage_dials_per_site_max "$line") / $(field outage_max_dials_100ms "$line")"
    row "  after it: reconnected / all back after / densest 100 ms of redials" \
      "$(field reconnected "$line")/$dial_peers / $(field reconnect_ms "$line") ms / $(field reconnect_max_dials_100ms "$line")"
  fi
  stop_site
fi

echo
echo "federation_scale: PEERS=$peers LINKS=$links SIP_LINKS=$sip_links RATE=$rate/s DURATION=$duration s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%s\n' "${table[@]}"
