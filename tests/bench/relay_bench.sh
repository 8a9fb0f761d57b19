#!/usr/bin/env bash
# Media relay benchmark (issues #5, #14): media::MediaRelay (tests/bench/
# relaybench/relaybench: the relay on one io_context thread, as in the
# daemon) in two kinds of call, against the plain UDP forwarder written the
# simplest way (udpfwd: epoll, one recvfrom + one sendto per packet), all
# driven by the same generator (rtpload: RTP, 12-byte header + 160 bytes,
# paced, sendmmsg/recvmmsg, loss per stream from sequence/timestamp) in the
# same run. Targets (TARGETS):
#   relay-srtp   calls with another site (media::Scope::edge), as every
#                call between sites is: the inter-site leg is SRTP. The
#                peer side of rtpload plays the peer site's relay with the
#                keys relaybench put in / took from the SDP (a=sipsite-srtp,
#                passed in the ports file): it seals what it sends and
#                opens what it receives with media::InterSiteCipher. So the
#                relay opens (peer to phone) or seals (phone to peer) every
#                packet; the phone leg is plain.
#   relay-plain  local calls (media::Scope::local, both legs plain RTP):
#                the same relay forwarding without any cipher.
#   fwd          udpfwd, the ceiling.
# On 127.0.0.1; the generator's two sockets are on 127.0.0.2 (the phones)
# and 127.0.0.3 (the peer site, or the other phone). One audio stream per
# call, rtcp-mux on both sides (one port per leg: the relay and the
# forwarder both hold 2 sockets per call).
#   1. packets/s: PPS_CALLS calls, the offered load (packets/s, both
#      directions together) doubled from PPS_START until more than 0.1 % is
#      lost, then bisected BISECT times: the largest load with loss <= 0.1 %,
#      and the most packets/s delivered in any run (the saturated rate);
#   2. calls at 50 packets/s per direction: 50, 100, 200, ... calls doubled
#      until more than 0.1 % is lost (or MAX_CALLS), then bisected: the
#      largest number of calls with loss <= 0.1 %;
#   3. CPU per stream: CPU_CALLS calls at 50 packets/s per direction; the
#      target's utime + stime (/proc/PID/stat) over the window per call per
#      second, per packet, and RSS per call (VmRSS after the calls were set
#      up minus before).
# A run whose generator fell behind its schedule (sent < 99 % of offered) is
# marked "gen" and counts as a failure (the load was not what it claims).
# Each measurement is repeated RUNS times (default 3): best and spread. The
# ratios at the end (relay-srtp against relay-plain and fwd) are of this one
# run: the same machine, load and generator for all three.
#
# The machine is shared: while a run's load is on (warm-up, window, drain:
# a few seconds) the long fuzz campaign's processes (tests/fuzz/*_fuzz) are
# stopped (SIGSTOP, by pid) and continued right after, and by the exit trap
# whatever happens. Pauses stay short on purpose: libFuzzer's -timeout
# alarm counts wall time, and a pause of more than its timeout (25 s in the
# campaign) would be reported as a slow input when the fuzzer resumes.
# PIN=1 (default) runs the target on CPU 1 and the generator on CPU 0.
#
# Usage: tests/bench/relay_bench.sh [BUILD_DIR]
#   default build-relaybench (cmake -S . -B build-relaybench -G Ninja
#   -DCMAKE_BUILD_TYPE=Release && ninja -C build-relaybench relaybench rtpload udpfwd)
# Environment: RUNS (3), WINDOW (s, 4), WARMUP (s, 1), PPS_CALLS (100),
#   PPS_START (20000), CALLS_START (50), MAX_CALLS (5000), BISECT (3),
#   CPU_CALLS (500), PIN (1), NICE (-15), PAUSE_FUZZ (1), TARGETS ("relay-srtp relay-plain fwd"),
#   TESTS ("pps calls cpu"), KEEP=1 (keep the temp dir with every run's output).
# Bounded (BENCH_TIMEOUT, default 1800 s); the trap stops what it started,
# continues the fuzzers and removes its temp dir. Timing is reported, never
# asserted.
set -euo pipefail

if [[ -z "${RELAY_BENCH_INNER:-}" ]]; then
  export RELAY_BENCH_INNER=1
  exec timeout -k 10 "${BENCH_TIMEOUT:-1800}" "$0" "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(realpath "${1:-$root/build-relaybench}")
bin=$build/tests/bench/relaybench
runs=${RUNS:-3}
window=${WINDOW:-4}
warmup=${WARMUP:-1}
pps_calls=${PPS_CALLS:-100}
pps_start=${PPS_START:-20000}
calls_start=${CALLS_START:-50}
max_calls=${MAX_CALLS:-5000}
bisect_steps=${BISECT:-3}
cpu_calls=${CPU_CALLS:-500}
pin=${PIN:-1}
nice_level=${NICE:--15}
pause_fuzz=${PAUSE_FUZZ:-1}
targets=${TARGETS:-relay-srtp relay-plain fwd}
tests=${TESTS:-pps calls cpu}

log() { echo "[relay_bench $(date +%T)] $*" >&2; }
for t in $targets; do
  case $t in
    relay-srtp | relay-plain | fwd) ;;
    *) echo "relay_bench: unknown target '$t' in TARGETS (relay-srtp, relay-plain, fwd)" >&2; exit 2 ;;
  esac
done
for b in relaybench rtpload udpfwd; do
  [[ -x "$bin/$b" ]] || { echo "relay_bench: no $b in $bin (build the relaybench, rtpload and udpfwd targets)" >&2; exit 2; }
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

bench=relay_bench
# shellcheck source=bench_lib.sh
source "$here/bench_lib.sh"

# ---- fuzzers: stopped while a load is on, by pid, always continued ---------
# The pids go to a file: runs happen in subshells, the exit trap in the main shell.
fuzz_stop() {
  [[ "$pause_fuzz" == 1 ]] || return 0
  pgrep -f '/tests/fuzz/[a-z_]*fuzz ' >"$work/stopped" || true
  xargs -r kill -STOP <"$work/stopped" 2>/dev/null || true
}
fuzz_cont() {
  [[ -s "$work/stopped" ]] || return 0
  xargs -r kill -CONT <"$work/stopped" 2>/dev/null || true
  : >"$work/stopped"
}
stop_targets() {
  if [[ -s "$work/targets" ]]; then xargs -r kill <"$work/targets" 2>/dev/null || true; fi
}
trap 'fuzz_cont; stop_targets; cleanup' EXIT

# Priority: the kernel schedules per autogroup (one per session) first, so
# a plain `nice` would only weigh against this script's own processes.
# With NICE (default -15; root only) the target and the generator each run
# in a session of their own whose autogroup is niced, so other engineers'
# builds take less from the runs; the same for the relay and the forwarder.
# PIN=1 puts the target on CPU 1 and the generator on CPU 0.
prio_ok=0
# shellcheck disable=SC2016 # expanded by the inner sh
if [[ "$nice_level" != 0 ]] && setsid sh -c 'echo "$1" >/proc/self/autogroup' sh "$nice_level" 2>/dev/null; then prio_ok=1; fi
launch() {  # launch CPU COMMAND...: sets `cmd` to run COMMAND in its own niced autogroup, pinned to CPU (PIN=1)
  local cpu=$1
  shift
  local pre=()
  [[ "$pin" == 1 ]] && pre=(taskset -c "$cpu")
  cmd=("${pre[@]}" "$@")
  # Every step execs the next (setsid too: a background job here is no group
  # leader), so $! of a background "${cmd[@]}" is the program's own pid.
  # shellcheck disable=SC2016 # expanded by the inner sh
  [[ $prio_ok == 1 ]] && cmd=(setsid sh -c 'echo "$1" >/proc/self/autogroup; shift; exec "$@"' sh "$nice_level"
    nice -n "$nice_level" "${cmd[@]}")
  return 0
}
priority_text() { [[ $prio_ok == 1 ]] && echo "own autogroup, nice $nice_level" || echo "not raised"; }
lan_remote=127.0.0.2:$(free_port)
peer_remote=127.0.0.3:$(free_port)

# run_once TARGET CALLS RATE: one run; prints rtpload's RESULT line plus
# rss_kb (after the run), rss_setup_kb and rss_before_kb (READY line).
run_once() {
  local target=$1 calls=$2 rate=$3 prog tpid ready result dir extra=()
  dir=$(mktemp -d "$work/run.XXXXXX")
  case $target in
    relay-srtp) prog=$bin/relaybench; extra=(--scope edge) ;;
    relay-plain) prog=$bin/relaybench; extra=(--scope local) ;;
    fwd) prog=$bin/udpfwd ;;
    *) echo "relay_bench: unknown target '$target' (relay-srtp, relay-plain, fwd)" >&2; exit 2 ;;
  esac
  launch 1 "$prog" --calls "$calls" --lan-remote "$lan_remote" --peer-remote "$peer_remote" \
    --ports-file "$dir/ports" --max-seconds 120 "${extra[@]}"
  "${cmd[@]}" >"$dir/target.out" 2>&1 &
  tpid=$!
  echo "$tpid" >>"$work/targets"  # runs are in subshells: the exit trap reads this
  for _ in $(seq 600); do
    [[ -f "$dir/ports" ]] && break
    kill -0 "$tpid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -f "$dir/ports" ]]; then
    log "$target with $calls calls did not start:"; tail -3 "$dir/target.out" >&2
    kill "$tpid" 2>/dev/null || true
    echo "RESULT failed=1"
    return 0
  fi
  ready=$(grep -m1 '^READY' "$dir/target.out" || true)
  if [[ "$(cat "/proc/$tpid/comm" 2>/dev/null)" != "$(basename "$prog")" ]]; then
    echo "relay_bench: pid $tpid is not $prog (launch did not exec in place)" >&2
    kill "$tpid" 2>/dev/null || true
    exit 1
  fi
  fuzz_stop
  launch 0 "$bin/rtpload" --ports-file "$dir/ports" --lan-remote "$lan_remote" --peer-remote "$peer_remote" \
    --rate "$rate" --warmup "$warmup" --duration "$window" --target-pid "$tpid"
  "${cmd[@]}" >"$dir/gen.out" 2>&1 || true
  fuzz_cont
  local rss
  rss=$(rss_kb "$tpid")
  kill "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  result=$(grep -m1 '^RESULT' "$dir/gen.out" || echo "RESULT failed=1")
  # The relay's own count of peer packets that did not open (forged, or a
  # key mix-up: never expected here).
  local relay_line
  relay_line=$(grep -m1 '^RELAY' "$dir/target.out" || true)
  echo "$result rss_kb=$rss rss_setup_kb=$(field rss_kb "$ready") rss_before_kb=$(field rss_before_kb "$ready") relay_auth_failed=$(field auth_failed "$relay_line") load1=$(cut -d' ' -f1 /proc/loadavg)"
}

# verdict RESULT: ok (loss <= 0.1 %), loss, gen (the generator fell behind
# its schedule, sent < 99 % of offered, or its own sockets dropped more than
# 0.1 %: the load was not what it claims, or the loss is the generator's),
# failed (no result).
verdict() {
  awk -v l="$(field loss "$1")" -v s="$(field sent_pps "$1")" -v o="$(field offered_pps "$1")" \
    -v g="$(field gen_drops "$1")" -v n="$(field sent "$1")" 'BEGIN {
      if (l == "") print "failed"
      else if (s < 0.99 * o || g > 0.001 * n) print "gen"
      else if (l <= 0.001) print "ok"
      else print "loss" }'
}
note() {  # note TEST TARGET X RESULT: one line of the run log (stderr and runs.tsv)
  local r=$4
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(field offered_pps "$r")" \
    "$(field delivered_pps "$r")" "$(field loss "$r")" "$(field target_cpu_s "$r")/$(field target_run_s "$r")" "$(field gen_cpu_s "$r")" \
    "$(field max_lag_us "$r")" "$(field open_failed "$r")/$(field relay_auth_failed "$r")" "$(field load1 "$r")" "$(verdict "$r")" >>"$work/runs.tsv"
  log "$1 $2 x=$3: offered=$(field offered_pps "$r") delivered=$(field delivered_pps "$r") loss=$(field loss "$r") cpu=$(field target_cpu_s "$r")s run=$(field target_run_s "$r")s gen_cpu=$(field gen_cpu_s "$r")s lag=$(field max_lag_us "$r")us kdrops=$(field udp_rcvbuf_errors "$r") backlog_drops=$(field backlog_drops "$r") gen_drops=$(field gen_drops "$r") open_failed=$(field open_failed "$r") relay_auth_failed=$(field relay_auth_failed "$r") load1=$(field load1 "$r") -> $(verdict "$r")"
}

# search TEST TARGET START LIMIT STEP: doubles x from START until a run fails
# (or LIMIT), then bisects between the last pass and the first failure
# (rounded to STEP); prints "best_x max_delivered_pps". TEST pps: x is the
# offered packets/s on pps_calls calls; calls: x is the number of calls at 50/s.
search() {
  local test=$1 target=$2 x=$3 limit=$4 step=$5 good=0 bad=0 r maxd=0 d i last bound=""
  gen_bound() { if [[ $last == gen ]]; then echo +; fi; }
  measure() {
    if [[ $test == pps ]]; then
      r=$(run_once "$target" "$pps_calls" "$(awk -v x="$1" -v c="$pps_calls" 'BEGIN { printf "%.3f", x / (2 * c) }')")
    else
      r=$(run_once "$target" "$1" 50)
    fi
    note "$test" "$target" "$1" "$r"
    d=$(field delivered_pps "$r"); d=${d:-0}
    ((d > maxd)) && maxd=$d
    last=$(verdict "$r")
    [[ $last == ok ]]
  }
  while ((x <= limit)); do
    if measure "$x"; then good=$x; x=$((x * 2)); else bad=$x; bound=$(gen_bound); break; fi
  done
  if ((bad == 0 && good < limit)); then  # the doubling jumped past the limit
    if measure "$limit"; then good=$limit; else bad=$limit; bound=$(gen_bound); fi
  fi
  for ((i = 0; i < bisect_steps && bad > 0; i++)); do
    x=$(((good + bad) / 2 / step * step))
    ((x <= good || x >= bad)) && break
    if measure "$x"; then good=$x; else bad=$x; bound=$(gen_bound); fi
  done
  ((bad == 0)) && bound="+"  # never failed: the limit was the search's
  echo "$good$bound $maxd"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
log "load average before: $load_before; pinning: $([[ $pin == 1 ]] && echo 'target CPU 1, generator CPU 0' || echo none); priority: $(priority_text)"
declare -A pps_all maxd_all calls_all cpu_line
for ((rep = 1; rep <= runs; rep++)); do
  for target in $targets; do
    if [[ " $tests " == *" pps "* ]]; then
      read -r g m < <(search pps "$target" "$pps_start" 2000000 1000)
      pps_all[$target]+="${pps_all[$target]:+ }$g"; maxd_all[$target]+="${maxd_all[$target]:+ }$m"
      log "rep $rep $target: lossless packets/s $g, most delivered $m"
    fi
    if [[ " $tests " == *" calls "* ]]; then
      read -r g _ < <(search calls "$target" "$calls_start" "$max_calls" 10)
      calls_all[$target]+="${calls_all[$target]:+ }$g"
      log "rep $rep $target: calls at 50/s per direction $g"
    fi
    if [[ " $tests " == *" cpu "* ]]; then
      r=$(run_once "$target" "$cpu_calls" 50)
      note cpu "$target" "$cpu_calls" "$r"
      cpu_line[$target]+="$r"$'\n'
    fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

stats() {  # stats "a b c+": best (max) and spread "min–max"; "+": a lower bound (see the notes)
  tr ' ' '\n' <<<"$1" | sort -n | awk '{ v[NR] = $1 } END { printf "%s (%s–%s)", v[NR], v[1], v[NR] }'
}
echo
echo "relay_bench: $(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
echo "  load average $load_before before, $load_after after; $(( $(date +%s) - started )) s; RUNS=$runs WINDOW=${window}s WARMUP=${warmup}s;"
echo "  pinning: $([[ $pin == 1 ]] && echo 'target on CPU 1, generator on CPU 0' || echo none); priority: $(priority_text); fuzzers paused during loads: $pause_fuzz"
echo
if [[ " $tests " == *" pps "* || " $tests " == *" calls "* ]]; then
  echo "| target | packets/s, loss <= 0.1 % ($pps_calls calls) | most packets/s delivered | calls at 50 packets/s per direction, loss <= 0.1 % |"
  echo "|:--|--:|--:|--:|"
  for target in $targets; do
    echo "| $target | $( [[ -n "${pps_all[$target]:-}" ]] && stats "${pps_all[$target]}" || echo –) | $( [[ -n "${maxd_all[$target]:-}" ]] && stats "${maxd_all[$target]}" || echo –) | $( [[ -n "${calls_all[$target]:-}" ]] && stats "${calls_all[$target]}" || echo –) |"
  done
  echo "(best of $runs, and the spread over the $runs in parentheses; \"+\": the search ended on the generator's"
  echo " limit (a run marked gen) or on its own bound, so the target's limit is at least that)"
  echo
fi
if [[ " $tests " == *" cpu "* ]]; then
  echo "| target | calls | packets/s | loss | CPU [% of a core] | CPU per stream [µs/s] | CPU per packet [µs] | run time (schedstat) [% of a core] | RSS per call [KiB] | generator CPU [%] |"
  echo "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  for target in $targets; do
    while IFS= read -r r; do
      [[ -z "$r" || -z "$(field loss "$r")" ]] && continue
      awk -v t="$target" -v n="$cpu_calls" -v c="$(field target_cpu_s "$r")" -v w="$(field window_s "$r")" \
        -v s="$(field sent "$r")" -v d="$(field delivered_pps "$r")" -v l="$(field loss "$r")" \
        -v rs="$(field rss_setup_kb "$r")" -v rb="$(field rss_before_kb "$r")" -v g="$(field gen_cpu_s "$r")" \
        -v rt="$(field target_run_s "$r")" \
        'BEGIN { printf "| %s | %d | %.0f | %.4f %% | %.1f | %.1f | %.2f | %.1f | %.2f | %.1f |\n", t, n, d, l * 100,
                 100 * c / w, 1e6 * c / w / n, 1e6 * c / s, 100 * rt / w, (rs - rb) / n, 100 * g / w }'
    done <<<"${cpu_line[$target]}"
  done
  echo "(one line per run; CPU: utime + stime over the window, clock ticks of 10 ms; run time: the scheduler's"
  echo " ns count of the same process from /proc/PID/schedstat, as a check; a stream = one call's audio, both directions)"
  echo
fi
# Ratios of this run: relay-srtp against relay-plain (the issue's target:
# >= 70 % of the plain relay's throughput without loss) and against fwd.
best() { tr ' ' '\n' <<<"$1" | sed 's/+$//' | sort -n | tail -1; }
bound() { if [[ "$1" == *+* ]]; then echo "+"; fi; }  # any run a lower bound
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "–"; else printf "%.0f %%", 100 * a / b }'; }
cpu_pp() {  # the mean CPU per packet [µs] over a target's CPU runs
  while IFS= read -r r; do
    [[ -z "$r" || -z "$(field loss "$r")" ]] && continue
    echo "$(field target_cpu_s "$r") $(field sent "$r")"
  done <<<"${cpu_line[$1]:-}" | awk '{ if ($2 > 0) { s += 1e6 * $1 / $2; n++ } } END { if (n) printf "%.3f", s / n }'
}
if [[ " $targets " == *" relay-srtp "* ]]; then
  echo "Ratios of relay-srtp (inter-site leg SRTP) in this run (best against best; \"+\": a side of the ratio is a lower bound):"
  echo
  echo "| measure | relay-srtp / relay-plain | relay-srtp / fwd | relay-plain / fwd |"
  echo "|:--|--:|--:|--:|"
  for m in pps maxd calls; do
    case $m in
      pps) label="packets/s, loss <= 0.1 %"; declare -n src=pps_all ;;
      maxd) label="most packets/s delivered"; declare -n src=maxd_all ;;
      calls) label="calls at 50 packets/s per direction"; declare -n src=calls_all ;;
    esac
    [[ -n "${src[relay-srtp]:-}" ]] || { unset -n src; continue; }
    s_=${src[relay-srtp]:-}; p_=${src[relay-plain]:-}; f_=${src[fwd]:-}
    echo "| $label | $(pct "$(best "$s_")" "$(best "$p_")")$(bound "$s_$p_") | $(pct "$(best "$s_")" "$(best "$f_")")$(bound "$s_$f_") | $(pct "$(best "$p_")" "$(best "$f_")")$(bound "$p_$f_") |"
    unset -n src
  done
  if [[ " $tests " == *" cpu "* ]]; then
    cs=$(cpu_pp relay-srtp); cp=$(cpu_pp relay-plain); cf=$(cpu_pp fwd)
    echo "| CPU per packet at $cpu_calls calls (mean of the runs) [µs] | ${cs:-–} / ${cp:-–} = $(pct "$cs" "$cp") | ${cs:-–} / ${cf:-–} = $(pct "$cs" "$cf") | ${cp:-–} / ${cf:-–} = $(pct "$cp" "$cf") |"
  fi
  echo
fi
echo "every run: test target x offered_pps delivered_pps loss target_cpu_s/target_run_s gen_cpu_s max_lag_us open_failed/relay_auth_failed load1 verdict"
sed 's/^/  /' "$work/runs.tsv"
