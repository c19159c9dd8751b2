#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The host update test against Debian 13 (trixie)'s RAUC 1.13, the RAUC of the device image:
# a minimal trixie root with rauc (mmdebstrap, about 1.5 min, cached in the build folder and
# keyed by its package list) runs the RAUC service; everything else is as in
# test-update-rauc.sh (bookworm's RAUC 1.8 makes the bundles).
#
#   tests/update/test-update-rauc-trixie.sh BUILD_DIR [SOURCE_DIR]
# AR_DEBIAN_MIRROR: the Debian mirror (default http://deb.debian.org/debian).
set -uo pipefail
BUILD="$(cd "${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}" && pwd)"
SRC="$(cd "${2:-$(dirname "$0")/../..}" && pwd)"
PKGS="rauc,rauc-service,dbus-daemon,squashfs-tools"
ROOT="$BUILD/update-rauc-root-trixie"

[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (mmdebstrap, loop devices)"; exit 1; }
command -v mmdebstrap >/dev/null || { echo "Bail out! mmdebstrap is not installed (./build.sh deps)"; exit 1; }
if [ "$(cat "$ROOT/.ar-packages" 2>/dev/null)" != "$PKGS" ]; then
  rm -rf "$ROOT" "$ROOT.tmp"
  echo "making a trixie root with $PKGS in $ROOT (cached)" >&2
  if ! nice -n 10 mmdebstrap --variant=apt --include="$PKGS" trixie "$ROOT.tmp" \
    "${AR_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$BUILD/update-rauc-root-trixie.log" 2>&1; then
    rm -rf "$ROOT.tmp"
    echo "Bail out! mmdebstrap failed: $(tail -3 "$BUILD/update-rauc-root-trixie.log" | tr '\n' ' ')"
    exit 1
  fi
  echo "$PKGS" >"$ROOT.tmp/.ar-packages"
  mv "$ROOT.tmp" "$ROOT"
fi
echo "RAUC service: $(chroot "$ROOT" rauc --version)" >&2
AR_UPDATE_TEST_RAUC="$SRC/tests/update/rauc-in-root.sh $ROOT" AR_UPDATE_TEST_CHANNEL=0 \
  exec "$SRC/tests/update/test-update-rauc.sh" "$BUILD" "$SRC"
