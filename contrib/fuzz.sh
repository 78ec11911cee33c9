#!/usr/bin/env bash
# Fuzzes one target (or all of them) with libFuzzer for N minutes.
#
#   bash contrib/fuzz.sh TARGET MINUTES     e.g. contrib/fuzz.sh fuzz_lvsp 10
#   bash contrib/fuzz.sh all MINUTES        every target, MINUTES each, nproc at a time
#   bash contrib/fuzz.sh --list
#
# Builds with clang -fsanitize=fuzzer,address,undefined into build-fuzz/
# (its own directory; override with FUZZ_BUILD_DIR). The committed corpus
# tests/fuzz/corpus/TARGET/ seeds the run and is never written; what the
# run discovers goes to build-fuzz/corpus/TARGET/, a crash input to
# build-fuzz/artifacts/TARGET/, the log to build-fuzz/logs/TARGET.log.
# Exit status: 0 if every target ran clean for the whole time.
#
# After a crash: fix the bug, then copy the artifact into
# tests/fuzz/corpus/TARGET/ as crash-<short name> so ctest replays it in
# every build from then on. To keep new coverage, minimise the findings
# into the committed corpus with:
#   build-fuzz/tests/fuzz/TARGET -merge=1 tests/fuzz/corpus/TARGET build-fuzz/corpus/TARGET
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=8192 -dict=..." bash contrib/fuzz.sh ...
# The fuzzers run under nice 10 (FUZZ_NICE) so a machine stays usable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=(fuzz_rtp fuzz_open_aes fuzz_open_xchacha fuzz_open_xsalsa_lite fuzz_open_xsalsa_suffix
         fuzz_open_xsalsa fuzz_cipher_sealed fuzz_discovery fuzz_udp_datagram fuzz_lvsp
         fuzz_gateway fuzz_media fuzz_mls_keypackage fuzz_mls_commit fuzz_sdp fuzz_sdp_oa
         fuzz_dtls fuzz_stun fuzz_demux fuzz_ion fuzz_vortex fuzz_galene fuzz_rtcp)

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ "${1:-}" == "--list" ]] && { printf '%s\n' "${targets[@]}"; exit 0; }
[[ $# -eq 2 && "$2" =~ ^[0-9]+$ && "$2" -ge 1 ]] || usage
want=("$1")
[[ "$1" == all ]] && want=("${targets[@]}")
for t in "${want[@]}"; do
  [[ " ${targets[*]} " == *" $t "* ]] || { echo "unknown target $t (see --list)"; exit 2; }
done
seconds=$(($2 * 60))

san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSC_FUZZ=ON -DCMAKE_C_FLAGS="$san" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "${want[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target; prints one summary line.
run_one() {
  local t=$1 work="$dir/corpus/$1" art="$dir/artifacts/$1/" log="$dir/logs/$1.log"
  mkdir -p "$work" "$art" "$dir/logs"
  local start=$SECONDS rc=0
  # shellcheck disable=SC2086
  nice -n "${FUZZ_NICE:-10}" "$dir/tests/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$art" \
    -timeout=10 -rss_limit_mb=4096 ${FUZZ_FLAGS:-} "$work" "$root/tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  local line
  if ((rc == 0)); then
    line="$t: ran clean for $(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s, $execs inputs"
  else
    line="$t: FAILED after $((SECONDS - start)) s (exit $rc): $(ls -t "$art" | head -1) -- see $log"
  fi
  echo "$line" | tee "$dir/logs/$t.result"
}

rm -f "$dir"/logs/*.result
for t in "${want[@]}"; do
  while (($(jobs -rp | wc -l) >= $(nproc))); do sleep 1; done
  run_one "$t" &
done
wait
! grep -q FAILED "$dir"/logs/*.result
