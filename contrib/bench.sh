#!/usr/bin/env bash
# Benchmark of litecord-voice on this machine, over loopback only. Builds a
# Release build, runs the scenario matrix with the load generator
# (tests/bench/lcv_loadgen) against litecord-voice and against the raw
# reflector (lcv_reflector, the baseline), profiles the server with
# callgrind (and perf when it is installed), and writes docs/BENCHMARKS.md.
#
#   bash contrib/bench.sh [--quick] [--no-profile] [--dave] [--webrtc-only] [--doc FILE]
#
# WebRTC rows (browsers in the gateway's webrtc mode: ICE, DTLS, SRTP with
# libsrtp2): SRTP AES-128-GCM and AES-CM-HMAC-SHA1-80 forwarding with one
# worker against the baseline whose generator does the same SRTP work, a
# mixed room (Discord UDP and WebRTC members), 200 concurrent WebRTC joins
# (server CPU per join, p99), RSS per idle WebRTC session, and a callgrind
# profile of the media thread forwarding SRTP. --webrtc-only runs those and
# the Discord-UDP AES rows they are compared with (1 worker), nothing else.
#
# --dave adds DAVE (E2EE) with real djs+davey clients (tests/bench/dave_bench.js:
# server CPU per join, transition latency, churn in a 25-member channel; a few
# minutes; needs tests/node/node_modules) as a section at the end of the doc.
# About 30 minutes (--quick: about 10). Raw results stay in
# $BENCH_BUILD_DIR/bench (default build-release/bench): results.jsonl (one
# JSON line per step and per scenario), the servers' logs, the profiles.
# Run it on an otherwise idle machine: every process shares the same cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD_DIR:-$root/build-release}
out=$build/bench
doc=$root/docs/BENCHMARKS.md
quick=0
profile=1
dave=0
webrtc_only=0
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-profile) profile=0 ;;
    --dave) dave=1 ;;
    --webrtc-only) webrtc_only=1 ;;
    --doc) doc=$2; shift ;;
    *) echo "usage: $0 [--quick] [--no-profile] [--dave] [--webrtc-only] [--doc FILE]" >&2; exit 2 ;;
  esac
  shift
done

bash "$root/contrib/install-deps.sh"
missing=()
for p in valgrind python3; do command -v "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# -g only adds symbols (for the profiles); the code is the Release code.
bash "$root/contrib/build.sh" "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-g

lg=$build/tests/bench/lcv_loadgen
srv=$build/litecord-voice
refl=$build/tests/bench/lcv_reflector
rm -rf "$out"
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # one TCP connection per simulated client

# Room shape: 5 members, 2 speakers at 50 packets/s of 160 bytes (20 ms Opus).
shape=(--members 5 --speakers 2 --rate 50 --payload 160)
# SRTP (libsrtp2) costs several times Discord's AEAD per packet: its ramps
# start lower and set up fewer rooms (every WebRTC client is a DTLS
# handshake and its own UDP socket).
if ((quick)); then
  step=1.5 half=2 start=100 side_rooms=300 base_rooms=800 idle=8
  rtc_start=5 rtc_rooms=300 rtc_idle_rooms=200
else
  step=3 half=5 start=50 side_rooms=900 base_rooms=1500 idle=30
  rtc_start=5 rtc_rooms=600 rtc_idle_rooms=400
fi

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: ${BENCH_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
    git -C "$root" diff --quiet HEAD -- . ':!docs/BENCHMARKS.md' 2>/dev/null || echo ' (with local changes)')}"
  echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "kernel: $(uname -r)"
  echo "openssl: $(openssl version)"
  echo "loadavg before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "quick: $quick"
} >"$out/system.txt"

# scenario LABEL ARGS...: one generator run; its JSON lines go to results.jsonl.
scenario() {
  local label=$1
  shift
  echo "== $label" >&2
  local before
  touch "$out/progress.log"
  before=$(wc -l <"$out/progress.log")
  if ! "$lg" --label "$label" --log-dir "$out" "$@" >>"$out/results.jsonl" 2>>"$out/progress.log"; then
    echo "   $label did not complete (see $out/progress.log and $out/$label.log)" >&2
    echo "{\"kind\":\"error\",\"label\":\"$label\"}" >>"$out/results.jsonl"
  fi
  tail -n "+$((before + 1))" "$out/progress.log" | grep -v '^sending command' | tail -n 4 |
    sed 's/^/   /' >&2
}

# half_rooms LABEL: the active rooms of that scenario's half-rate steps.
half_rooms() {
  python3 -c 'import json,sys
d = [json.loads(l) for l in open(sys.argv[1]) if "\"scenario\"" in l and "\"%s\"" % sys.argv[2] in l]
print(d[-1]["half_rooms"] if d and d[-1].get("half_rooms") else 0)' "$out/results.jsonl" "$1"
}

# Per worker count: the plain baseline (reflector; the generator sends plain
# RTP and reads it back), then per mode the baseline whose generator seals
# and opens every packet as in the server runs (the fair comparison: the
# generator shares the cores), the server, and that baseline once more at
# the server's half rate (p99 added at the same load).
ramp=(--ramp-start "$start" --ramp-factor 1.25 --step-seconds "$step" --half-seconds "$half")
workers=(1 2)
((webrtc_only)) && workers=()
for w in "${workers[@]}"; do
  scenario "baseline-${w}w" --raw --target "$refl" --workers "$w" --rooms "$base_rooms" \
    "${shape[@]}" "${ramp[@]}"
  for mode in aes xchacha; do
    scenario "baseline-${mode}-${w}w" --raw --raw-crypto --mode "$mode" --target "$refl" \
      --workers "$w" --rooms "$base_rooms" "${shape[@]}" "${ramp[@]}"
    scenario "${mode}-${w}w" --target "$srv" --mode "$mode" --workers "$w" \
      --rooms "$side_rooms" --inflight 128 "${shape[@]}" "${ramp[@]}"
    at=$(half_rooms "${mode}-${w}w")
    if ((at > 0)); then
      scenario "baseline-${mode}-${w}w-at-half" --raw --raw-crypto --mode "$mode" --target "$refl" \
        --workers "$w" --rooms "$side_rooms" --half-at "$at" --half-seconds "$half" "${shape[@]}"
    fi
  done
done

# WebRTC members (every one a browser: ICE, DTLS, SRTP) against the baseline
# whose generator seals and opens the same SRTP (the reflector forwards it
# unchanged); the generator uses one socket per client in both (the server
# knows a WebRTC member by its address). Then a mixed room (slots 0, 2, 4
# WebRTC, 1 and 3 Discord UDP: a speaker of each kind), and with
# --webrtc-only the Discord-UDP rows they are compared with.
rtc_ramp=(--ramp-start "$rtc_start" --ramp-factor 1.25 --step-seconds "$step" --half-seconds "$half")
for p in gcm cm; do
  scenario "baseline-srtp-$p-1w" --raw --raw-crypto --srtp "$p" --target "$refl" --workers 1 \
    --rooms "$rtc_rooms" "${shape[@]}" "${rtc_ramp[@]}"
  scenario "webrtc-$p-1w" --target "$srv" --srtp "$p" --workers 1 --rooms "$rtc_rooms" \
    --inflight 128 --setup-timeout 300 "${shape[@]}" "${rtc_ramp[@]}"
done
scenario mixed-gcm-1w --target "$srv" --srtp gcm --webrtc-every 2 --mode aes --workers 1 \
  --rooms "$rtc_rooms" --inflight 128 --setup-timeout 300 "${shape[@]}" "${rtc_ramp[@]}"
if ((webrtc_only)); then
  scenario baseline-aes-1w --raw --raw-crypto --mode aes --target "$refl" --workers 1 \
    --rooms "$base_rooms" "${shape[@]}" "${ramp[@]}"
  scenario aes-1w --target "$srv" --mode aes --workers 1 --rooms "$side_rooms" --inflight 128 \
    "${shape[@]}" "${ramp[@]}"
fi

# Join time: VST_REQUEST -> Session Description with 200 joins at once (40
# rooms of 5; one room of 200; without TLS); for WebRTC clients op 1 -> DTLS
# connected and SRTP keyed.
joins=(--target "$srv" --join-only --inflight 200 --setup-timeout 30)
scenario join-200 "${joins[@]}" --rooms 40 "${shape[@]}"
scenario join-200-webrtc "${joins[@]}" --rooms 40 --srtp gcm "${shape[@]}"
if ((!webrtc_only)); then
  scenario join-200-1room "${joins[@]}" --rooms 1 --members 200 --speakers 1
fi
scenario join-200-notls "${joins[@]}" --rooms 40 --no-tls "${shape[@]}"
scenario join-200-webrtc-notls "${joins[@]}" --rooms 40 --no-tls --srtp gcm "${shape[@]}"
# RSS per idle session: Discord UDP and WebRTC, the same number of clients
# on one socket each (with and without TLS on the gateway).
for tls in "" --no-tls; do
  scenario "idle-udp-$((rtc_idle_rooms * 5))${tls:+-notls}" --target "$srv" --join-only \
    --inflight 128 --rooms "$rtc_idle_rooms" --per-client-sockets $tls "${shape[@]}"
  scenario "idle-webrtc-$((rtc_idle_rooms * 5))${tls:+-notls}" --target "$srv" --join-only \
    --inflight 128 --rooms "$rtc_idle_rooms" --srtp gcm --setup-timeout 300 $tls "${shape[@]}"
done
# The control plane with every session idle: heartbeats only.
if ((!webrtc_only)); then
  scenario "idle-$((side_rooms * 5))" --target "$srv" --join-only --inflight 128 \
    --rooms "$side_rooms" --idle-seconds "$idle" "${shape[@]}"
fi

if ((profile)); then
  # User-space instructions per forwarded packet: a fixed short run under
  # callgrind, counters zeroed when the step starts and dumped when it ends,
  # one profile per thread (main = control plane, then the media worker).
  scenario callgrind --target "$srv" --mode aes --rooms 5 --step-seconds 5 --setup-timeout 300 \
    --wrapper "valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out/callgrind.out" \
    --step-start-cmd "callgrind_control -z %p >/dev/null 2>&1" \
    --step-end-cmd "callgrind_control -d step %p >/dev/null 2>&1" "${shape[@]}"
  # The same for WebRTC members (SRTP AES-128-GCM): instructions per
  # forwarded packet against the Discord-UDP AEAD above.
  scenario callgrind-webrtc --target "$srv" --srtp gcm --rooms 5 --step-seconds 5 \
    --setup-timeout 300 \
    --wrapper "valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file=$out/callgrind-webrtc.out" \
    --step-start-cmd "callgrind_control -z %p >/dev/null 2>&1" \
    --step-end-cmd "callgrind_control -d step %p >/dev/null 2>&1" "${shape[@]}"
  for f in "$out"/callgrind.out.1-* "$out"/callgrind-webrtc.out.1-*; do
    [[ -s $f ]] || continue
    callgrind_annotate --threshold=100 --inclusive=yes "$f" >"$f.inclusive.txt" 2>&1 || true
    callgrind_annotate --threshold=100 "$f" >"$f.self.txt" 2>&1 || true
  done
  # CPU time with the kernel, by library and symbol, and syscalls per
  # forwarded packet: perf samples and counts the server, then the baseline,
  # for 5 s of a step at about half of what one worker sustains.
  if ((!webrtc_only)) && command -v perf >/dev/null 2>&1 && perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
    half_rooms=$(python3 -c 'import json,sys
best = [json.loads(l) for l in open(sys.argv[1]) if "\"aes-1w\"" in l and "\"scenario\"" in l]
print(max(10, best[0]["max_rooms"] // 2) if best else 100)' "$out/results.jsonl")
    events=syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_epoll_wait
    events+=,syscalls:sys_enter_poll,syscalls:sys_enter_read,syscalls:sys_enter_write
    hooks() {
      echo "perf record -e cpu-clock -g -p %p -o $out/perf-$1.data -- sleep 5 >/dev/null 2>&1 &" \
        "perf stat -x, -e $events -p %p -o $out/syscalls-$1.txt -- sleep 5 >/dev/null 2>&1 &"
    }
    scenario perf --target "$srv" --mode aes --rooms "$half_rooms" --step-seconds 6 \
      --step-start-cmd "$(hooks sidecar)" "${shape[@]}"
    scenario perf-baseline --raw --target "$refl" --rooms "$half_rooms" --step-seconds 6 \
      --step-start-cmd "$(hooks baseline)" "${shape[@]}"
    sleep 1
    for who in sidecar baseline; do
      [[ -s $out/perf-$who.data ]] || continue
      perf report -i "$out/perf-$who.data" --stdio --no-children --sort dso -g none \
        >"$out/perf-dso-$who.txt" 2>/dev/null || true
      perf report -i "$out/perf-$who.data" --stdio --no-children --sort dso,sym -g none \
        >"$out/perf-sym-$who.txt" 2>/dev/null || true
      perf report -i "$out/perf-$who.data" --stdio --children --sort sym -g none \
        >"$out/perf-children-$who.txt" 2>/dev/null || true
    done
  fi
fi

echo "loadavg after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/system.txt"
python3 "$root/tests/bench/report.py" "$out" >"$doc"
if ((dave)); then
  { printf '\n## DAVE (end-to-end encryption)\n\n'
    SC_BUILD_DIR=$build node "$root/tests/bench/dave_bench.js" --markdown 2>"$out/dave_bench.log" |
      tee "$out/dave_bench.txt" | grep -v '^{'; } >>"$doc"
fi
echo "wrote $doc (raw results in $out)"
