#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The host update test against Debian 13 (trixie)'s RAUC 1.13, the RAUC of the device image:
# a minimal trixie root with rauc (mmdebstrap, about 1.5 min, cached in the build folder and
# keyed by its package list) runs the RAUC service; everything else is as in
# test-update-rauc.sh (bookworm's RAUC 1.8 makes the bundles).
#
#   tests/update/test-update-rauc-trixie.sh BUILD_DIR [SOURCE_DIR] [--root-only]
# --root-only: only make the cached root (build.sh's background preparation does, so that the
# test's own time in CI is the test's).
# AR_DEBIAN_MIRROR: the Debian mirror (default http://deb.debian.org/debian).
set -uo pipefail
BUILD="$(cd "${1:?usage: $0 BUILD_DIR [SOURCE_DIR]}" && pwd)"
SRC="$(cd "${2:-$(dirname "$0")/../..}" && pwd)"
PKGS="rauc,rauc-service,dbus-daemon,squashfs-tools"
ROOT="$BUILD/update-rauc-root-trixie"

[ "$(id -u)" = 0 ] || { echo "Bail out! needs root (mmdebstrap, loop devices)"; exit 1; }
"$SRC/tests/lab/debian-root.sh" "$ROOT" trixie "$PKGS" >/dev/null 2>"$BUILD/update-rauc-root-trixie.err" ||
  { echo "Bail out! $(tail -1 "$BUILD/update-rauc-root-trixie.err")"; exit 1; }
[ "${3:-}" != --root-only ] || exit 0
echo "RAUC service: $(chroot "$ROOT" rauc --version)" >&2
AR_UPDATE_TEST_RAUC="$SRC/tests/update/rauc-in-root.sh $ROOT" AR_UPDATE_TEST_CHANNEL=0 \
  exec "$SRC/tests/update/test-update-rauc.sh" "$BUILD" "$SRC"
