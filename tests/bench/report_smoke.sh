#!/usr/bin/env bash
# Smoke test of the benchmark pipeline (contrib/bench.sh in miniature):
# lcv_loadgen runs a tiny ramp against the reflector and the server and a
# small join burst, then report.py turns the results into the BENCHMARKS
# document. Checks that every scenario completed and that the document has
# its sections and a row per scenario. No thresholds.
#   report_smoke.sh LOADGEN SERVER REFLECTOR OUT_DIR
set -euo pipefail
lg=$1 srv=$2 refl=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[[ -x $py ]] || py=python3
rm -rf "$out"
mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(nproc) x smoke"
  echo "quick: smoke"
} >"$out/system.txt"
shape=(--members 3 --speakers 2 --rate 50 --payload 160 --log-dir "$out")
ramp=(--ramp-start 2 --ramp-factor 2 --step-seconds 1 --half-seconds 1 --rooms 4)
"$lg" --label baseline-1w --raw --target "$refl" "${shape[@]}" "${ramp[@]}" >>"$out/results.jsonl"
"$lg" --label baseline-aes-1w --raw --raw-crypto --mode aes --target "$refl" "${shape[@]}" "${ramp[@]}" \
  >>"$out/results.jsonl"
"$lg" --label aes-1w --target "$srv" --mode aes "${shape[@]}" "${ramp[@]}" >>"$out/results.jsonl"
"$lg" --label baseline-aes-1w-at-half --raw --raw-crypto --mode aes --target "$refl" "${shape[@]}" \
  --rooms 2 --half-at 2 --half-seconds 1 >>"$out/results.jsonl"
# With heartbeats every 400 ms, the idle window sees every client beat.
"$lg" --label join-200-notls --target "$srv" --join-only --no-tls --inflight 12 --rooms 4 \
  --idle-seconds 2 "${shape[@]}" -- --gw-heartbeat-ms 400 >>"$out/results.jsonl"
# WebRTC members (ICE, DTLS, SRTP) and their SRTP crypto baseline, a join
# burst of WebRTC clients, and the Discord-UDP join it is compared with.
"$lg" --label baseline-srtp-gcm-1w --raw --raw-crypto --srtp gcm --target "$refl" "${shape[@]}" \
  "${ramp[@]}" >>"$out/results.jsonl"
"$lg" --label webrtc-gcm-1w --target "$srv" --srtp gcm "${shape[@]}" "${ramp[@]}" \
  >>"$out/results.jsonl"
"$lg" --label join-200-webrtc-notls --target "$srv" --join-only --no-tls --srtp gcm --inflight 12 \
  --rooms 4 "${shape[@]}" >>"$out/results.jsonl"
"$py" "$here/report.py" "$out" >"$out/BENCHMARKS.md"
fail=0
for want in "## Targets" "## Results" "## Join time" "| baseline-1w |" "| aes-1w |" \
  "| join-200-notls |" "p99 at half the maximum rate" "Join p99 with 12 concurrent joins" \
  "| baseline-aes-1w |" "the baseline at the same load with the same generator" \
  "the server's own forwarding delay (kernel receive to sendmmsg) p99 <" \
  "of the baseline's (generator doing the same crypto) loss-free rate" \
  "the highest both passed)" \
  "## Idle sessions" "- join-200-notls: 12 idle sessions (no TLS)" \
  "## WebRTC members" "| webrtc-gcm-1w |" "SRTP AES-128-GCM (WebRTC)" \
  "of the baseline whose generator does the same SRTP work" \
  "12 concurrent WebRTC joins without TLS"; do
  if ! grep -qF -- "$want" "$out/BENCHMARKS.md"; then
    echo "report: missing \"$want\"" >&2
    fail=1
  fi
done
# 12 clients beating every 0.4 s for 2 s: about 60 heartbeats counted.
hb=$(grep '"kind":"scenario","label":"join-200-notls"' "$out/results.jsonl" |
  grep -o '"idle_heartbeats":[0-9]*' | cut -d: -f2)
if [[ -z $hb ]] || ((hb < 24)); then
  echo "report: idle window counted ${hb:-no} heartbeats (expected about 60)" >&2
  fail=1
fi
if grep -q '"setup_ok":false' "$out/results.jsonl"; then
  echo "report: a scenario did not set up" >&2
  fail=1
fi
((fail == 0)) && echo "report: $(wc -l <"$out/BENCHMARKS.md") lines, every section present"
exit $fail
