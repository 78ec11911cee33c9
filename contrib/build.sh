#!/usr/bin/env bash
# Builds litecord-voice into build/ (or the directory given as $1).
# Extra arguments are passed to cmake, e.g. -DSC_SANITIZE=ON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/build}
shift || true
cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
