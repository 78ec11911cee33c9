#!/usr/bin/env bash
# The Debian package (debian/): dpkg-buildpackage -b -us -uc in a copy of
# the tree (it writes obj-*/ and debian/ build files in the tree and the
# .deb next to it, so never in SOURCE_DIR), lintian with no error (its
# warnings are printed), and the .deb holds the binary (which runs), the
# unit (which systemd-analyze verify accepts), the conffile and the docs.
# Usage: check_deb.sh SOURCE_DIR
set -u
src=$1
fail=0
say() { echo "$@"; }
bad() { echo "FAIL: $*"; fail=1; }
for t in dpkg-buildpackage dh lintian fakeroot dpkg-deb systemd-analyze; do
  if ! command -v "$t" >/dev/null; then
    say "package.deb: $t is missing (bash contrib/install-deps.sh --test)"
    say "package.deb: 0 passed, 1 failed"; exit 1
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/litecord-voice"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude=./tests/node/node_modules \
  --exclude='./obj-*' --exclude=./litecord-voice-state --exclude=./fuzz-out -cf - . \
  | tar -C "$tmp/litecord-voice" -xf -

if ! (cd "$tmp/litecord-voice" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
      dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1); then
  tail -40 "$tmp/build.log"; bad "dpkg-buildpackage -b -us -uc"
  say "package.deb: 0 passed, 1 failed"; exit 1
fi
deb=$(ls "$tmp"/litecord-voice_*_*.deb 2>/dev/null | head -1)
[[ -n $deb ]] || { bad "no litecord-voice_*.deb built"; say "package.deb: 0 passed, 1 failed"; exit 1; }
say "ok: built $(basename "$deb")"

lint=$(lintian --fail-on error "$deb" 2>&1); rc=$?
[[ -n $lint ]] && echo "$lint"
if (( rc != 0 )) || grep -q '^E:' <<<"$lint"; then bad "lintian reports errors"; else
  say "ok: lintian: no error ($(grep -c '^W:' <<<"$lint") warning(s))"; fi

contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/litecord-voice ./lib/systemd/system/litecord-voice.service \
         ./etc/litecord-voice/litecord-voice.conf ./usr/share/doc/litecord-voice/README.md \
         ./usr/share/doc/litecord-voice/OPERATIONS.md ./usr/share/doc/litecord-voice/copyright \
         ./usr/share/man/man1/litecord-voice.1.gz; do
  grep -qxF "$f" <<<"$contents" && say "ok: the .deb holds $f" || bad "the .deb lacks $f"
done
dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qx /etc/litecord-voice/litecord-voice.conf \
  && say "ok: /etc/litecord-voice/litecord-voice.conf is a conffile" || bad "the configuration is not a conffile"
dpkg-deb -I "$deb" postinst 2>/dev/null | grep -q "deb-systemd-helper .*litecord-voice.service" \
  && say "ok: postinst registers the unit (dh_installsystemd)" || bad "postinst does not register the unit"

dpkg-deb -x "$deb" "$tmp/root"
ver=$("$tmp/root/usr/bin/litecord-voice" --version 2>&1)
grep -q "$(sed -n '1s/.*(\(.*\)).*/\1/p' "$src/debian/changelog")" <<<"$ver" \
  && say "ok: the packaged binary runs: $ver" || bad "the packaged binary: '$ver'"
sed "s#/usr/bin/litecord-voice#$tmp/root/usr/bin/litecord-voice#g" \
  "$tmp/root/lib/systemd/system/litecord-voice.service" >"$tmp/litecord-voice.service"
out=$(systemd-analyze verify "$tmp/litecord-voice.service" 2>&1)
[[ -z $out ]] && say "ok: the packaged unit passes systemd-analyze verify" || { echo "$out"; bad "verify"; }

# Nothing was written into the source tree.
left=$(cd "$src" && ls -d obj-* debian/.debhelper debian/litecord-voice debian/files \
       debian/debhelper-build-stamp 2>/dev/null)
[[ -z $left ]] && say "ok: the source tree is untouched" || bad "build files in the source tree: $left"

if (( fail )); then say "package.deb: 0 passed, 1 failed"; exit 1; fi
say "package.deb: 1 passed, 0 failed"
