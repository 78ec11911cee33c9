#!/usr/bin/env bash
# Installs what litecord-voice needs on Debian 12: build tools and the
# libraries it links. With --test, also what the test suite needs (clang
# for the sanitizer build, Node.js and discord.py for the real-client tests).
# Only installs what is missing, so repeated runs are quick.
set -euo pipefail

# libev + lws's libev plugin: the control plane's event loop (src/sc_server.c).
pkgs=(build-essential cmake pkg-config libwebsockets-dev libwebsockets-evlib-ev libev-dev
      libjansson-dev libsodium-dev libssl-dev libopus-dev libsrtp2-dev libinih-dev openssl)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(clang libclang-rt-14-dev clang-format-14 iproute2)
  # a real older voice client (gateway v4, xsalsa20 modes): discord.py 2.2.2
  pkgs+=(python3 python3-discord python3-nacl)
  # the systemd unit (systemd-analyze) and the Debian package build (tests/check_*.sh)
  pkgs+=(systemd debhelper dpkg-dev fakeroot lintian)
  # a real Prometheus text-format parser for /metrics (tests/node/metrics.test.js)
  pkgs+=(python3-prometheus-client)
  # a real browser for the WebRTC and dashboard tests (driven by puppeteer-core)
  pkgs+=(chromium)
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
