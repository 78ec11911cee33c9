#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian 12 machine:
# installs build and test dependencies (apt, npm ci), builds the normal
# and the ASan+UBSan configurations, and runs every test in both.
# The output ends with ctest's summary line of the normal build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/contrib/install-deps.sh" --test
(cd "$root/tests/node" && npm ci --no-audit --no-fund --loglevel=error)

bash "$root/contrib/build.sh" "$root/build-asan" -DSC_SANITIZE=ON \
  -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug
bash "$root/contrib/build.sh" "$root/build"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
echo "=== ASan+UBSan build ==="
(cd "$root/build-asan" && ctest --output-on-failure --timeout 900) || status=1
echo "=== normal build ==="
(cd "$root/build" && ctest --output-on-failure --timeout 900) || status=1
exit $status
