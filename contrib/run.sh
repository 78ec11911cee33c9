#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install what is needed, build,
# and start litecord-voice on its defaults. Arguments go to litecord-voice.
#   bash contrib/run.sh [--public-host 203.0.113.7 ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/contrib/install-deps.sh"
bash "$root/contrib/build.sh" "$root/build"
exec "$root/build/litecord-voice" "$@"
