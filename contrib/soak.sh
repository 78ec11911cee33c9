#!/usr/bin/env bash
# Soak test: many simulated sessions against one server for a long time,
# with churn, sampling the server's RSS (tests/node/soak.js explains the
# clients, the churn and the drift figure).
#
#   bash contrib/soak.sh                 500 sessions, 30 minutes, 30 %/min churn, drift < 1 %
#   bash contrib/soak.sh --short         100 sessions, 1 minute (what CI runs)
#   bash contrib/soak.sh --sessions 1000 --minutes 60 ...   (options of soak.js)
#
# Builds the normal configuration into build/ (SOAK_BUILD_DIR to change;
# an ASan build directory works too, then LeakSanitizer checks the exit).
# Writes the full result, with every RSS sample, to soak-result.json
# (SOAK_JSON) and prints a summary. Exit status 0 = pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SOAK_BUILD_DIR:-$root/build}
json=${SOAK_JSON:-$PWD/soak-result.json}
# 30 %/min churn: ~4500 leave/join cycles; the warm-up covers the filling
# of the bounded caches (LVSP replay ring: 1024 INFO frames, one per join).
args=(--sessions 500 --minutes 30 --churn-per-min 0.3 --warmup-s 300 --max-drift 0.01)
if [[ "${1:-}" == "--short" ]]; then
  args=(--sessions 100 --minutes 1 --churn-per-min 0.3 --sample-s 2)
  shift
fi
[[ -x "$build/litecord-voice" ]] || bash "$root/contrib/build.sh" "$build"
[[ -d "$root/tests/node/node_modules" ]] ||
  (cd "$root/tests/node" && npm ci --no-audit --no-fund --loglevel=error)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
ulimit -n 65536 2>/dev/null || true
SC_BUILD_DIR=$build SC_SOURCE_DIR=$root exec node "$root/tests/node/soak.js" "${args[@]}" "$@" --json "$json"
