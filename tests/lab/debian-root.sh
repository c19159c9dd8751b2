#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A minimal root of another Debian release with some packages (mmdebstrap --variant=apt), made
# once and cached, keyed by its release and package list; prints its path.
#   tests/lab/debian-root.sh DIR SUITE PKG[,PKG...]
# DIR is made as DIR.tmp and renamed when complete (an interrupted run leaves no half root); its
# log is DIR.log. AR_DEBIAN_MIRROR: the Debian mirror (default http://deb.debian.org/debian).
# Used for what the device image (Debian 13) has and the host does not: RAUC 1.13
# (tests/update/test-update-rauc-trixie.sh), webrtc-audio-processing 1.x (tests/lab/echo).
set -uo pipefail
dir=${1:?usage: debian-root.sh DIR SUITE PKGS}
suite=${2:?usage: debian-root.sh DIR SUITE PKGS}
pkgs=${3:?usage: debian-root.sh DIR SUITE PKGS}
key="$suite $pkgs"
[ "$(id -u)" = 0 ] || { echo "debian-root: needs root (mmdebstrap)" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "debian-root: mmdebstrap is not installed (./build.sh deps)" >&2; exit 1; }
# One maker at a time (CI's background preparation makes the RAUC root while the tests run; the
# test that needs it then waits for that one instead of deleting its half-made root).
exec 9>"$dir.lock"
flock 9
if [ "$(cat "$dir/.ar-packages" 2>/dev/null)" != "$key" ]; then
  rm -rf "$dir" "$dir.tmp"
  echo "debian-root: making a $suite root with $pkgs in $dir (cached)" >&2
  if ! nice -n 10 mmdebstrap --variant=apt --include="$pkgs" "$suite" "$dir.tmp" \
    "${AR_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir.log" 2>&1; then
    rm -rf "$dir.tmp"
    echo "debian-root: mmdebstrap failed: $(tail -3 "$dir.log" | tr '\n' ' ')" >&2
    exit 1
  fi
  echo "$key" >"$dir.tmp/.ar-packages"
  mv "$dir.tmp" "$dir"
fi
echo "$dir"
