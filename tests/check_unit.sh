#!/usr/bin/env bash
# The systemd unit (contrib/litecord-voice.service): systemd-analyze
# verify finds no problem in it (a warning is a failure: verify itself
# exits 0 on an unknown key or a bad value), its hardening scores at most
# MAX_EXPOSURE in `systemd-analyze security --offline`, and it carries what
# docs/OPERATIONS.md promises. Works without a running systemd. verify
# wants the ExecStart binary to exist, so a copy of the unit names the
# built one. Usage: check_unit.sh SOURCE_DIR BUILD_DIR
set -u
src=$1 build=$2
unit=$src/contrib/litecord-voice.service
MAX_EXPOSURE=2.0
fail=0
sa=$(command -v systemd-analyze || true)
if [[ -z $sa ]]; then
  echo "systemd.unit: systemd-analyze is not installed (package systemd)"
  echo "systemd.unit: 0 passed, 1 failed"; exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#/usr/bin/litecord-voice#$build/litecord-voice#g" "$unit" > "$tmp/litecord-voice.service"

out=$("$sa" verify "$tmp/litecord-voice.service" 2>&1); rc=$?
if (( rc != 0 )) || [[ -n $out ]]; then
  echo "FAIL: systemd-analyze verify (exit $rc):"; echo "$out"; fail=1
else
  echo "ok: systemd-analyze verify: no finding"
fi

sec=$("$sa" security --offline=true --threshold=100 "$tmp/litecord-voice.service" 2>&1)
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$sec")
if [[ -z $level ]] || ! awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'; then
  echo "FAIL: exposure level '${level:-?}' above $MAX_EXPOSURE:"; echo "$sec" | grep -E '^✗' ; fail=1
else
  echo "ok: systemd-analyze security --offline: exposure $level (at most $MAX_EXPOSURE)"
fi

# What the unit must say (issue 16, docs/OPERATIONS.md).
want=('^Type=notify$' '^NotifyAccess=main$' '^WatchdogSec=' '^ExecReload=/bin/kill -HUP \$MAINPID$'
      '^ExecStart=/usr/bin/litecord-voice --config /etc/litecord-voice/litecord-voice.conf '
      '^StateDirectory=litecord-voice$' '^DynamicUser=yes$' '^LimitNOFILE=' '^CapabilityBoundingSet=$'
      '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' '^PrivateTmp=yes$'
      '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$')
for re in "${want[@]}"; do
  grep -qE "$re" "$unit" || { echo "FAIL: the unit lacks a line matching $re"; fail=1; }
done
# Above the drain timeout (the binary's --drain-timeout default), with room
# for the last closes.
drain=$("$build/litecord-voice" --help | sed -n '/--drain-timeout/,/default:/s/.*\[default: \([0-9]*\)\].*/\1/p' | head -1)
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$unit")
if [[ -z $drain || -z $stop ]] || (( stop <= drain )); then
  echo "FAIL: TimeoutStopSec='${stop}' must be above the ${drain:-?} s drain timeout"; fail=1
fi
# LimitNOFILE: room for the default --max-connections (4 x 1000) and the spares.
nofile=$(sed -n 's/^LimitNOFILE=\([0-9:]*\)$/\1/p' "$unit"); nofile=${nofile##*:}
if [[ -z $nofile ]] || (( nofile < 4100 )); then
  echo "FAIL: LimitNOFILE='${nofile}' is below the default --max-connections"; fail=1
fi

if (( fail )); then echo "systemd.unit: 0 passed, 1 failed"; exit 1; fi
echo "systemd.unit: 1 passed, 0 failed"
