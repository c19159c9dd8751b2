#!/usr/bin/env bash
# The web-bridge integration test against the device's userland (Debian 13: PipeWire 1.4,
# WirePlumber 0.5, xdg-desktop-portal 1.20, PulseAudio 17, GStreamer 1.26, trixie's Chromium):
# ar-webdev (built here) and Chromium run inside a trixie tree (mmdebstrap, cached), each in a
# private mount namespace; the test itself, the fixture server and Playwright run here.
#   tests/lab/webdev-trixie.sh [BUILD_DIR]      (root; the first run downloads several hundred MB)
# AR_TRIXIE_ROOT: the tree (default BUILD_DIR/webdev-trixie); AR_MIRROR: the Debian mirror.
# Not part of `meson test` (network for the first build, 1.1 GB on disk; it took 3 min here).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
BUILD="$(cd "${1:-${AR_BUILD_DIR:-$SRC/build}}" && pwd)"
ROOT="${AR_TRIXIE_ROOT:-$BUILD/webdev-trixie}"
[ "$(id -u)" = 0 ] || { echo "needs root (chroot, mount namespaces)" >&2; exit 1; }
[ -x "$BUILD/tests/integration/ar-webdev" ] || { echo "build first: ninja -C $BUILD" >&2; exit 1; }

if [ ! -x "$ROOT/usr/bin/chromium" ]; then
  MIRROR="${AR_MIRROR:-$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list \
    /etc/apt/sources.list.d/* 2>/dev/null | head -1 | awk '{print $2}' || true)}"
  PKGS="pipewire pipewire-bin wireplumber xdg-desktop-portal pulseaudio dbus-daemon
    gstreamer1.0-pipewire gstreamer1.0-pulseaudio gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    chromium fonts-dejavu-core"
  echo "building the trixie tree in $ROOT from ${MIRROR:-deb.debian.org}" >&2
  rm -rf "$ROOT.tmp"
  mkdir -p "$ROOT.tmp"
  mmdebstrap --variant=apt --include="$(echo $PKGS | tr ' ' ,)" trixie "$ROOT.tmp" \
    ${MIRROR:+"$MIRROR"} >&2
  rm -rf "$ROOT"
  mv "$ROOT.tmp" "$ROOT"
fi

WORK="$(mktemp -d /tmp/ar-webdev-trixie-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# ar-webdev BIN TMP: in a private mount namespace (/proc, /dev, /sys of the tree), the tree's
# libraries; its PID (the same through the execs) tells the Chromium wrapper where to go.
cat >"$WORK/webdev-wrap.sh" <<EOF
#!/bin/bash
exec unshare -m --propagation private bash -c '
  R="\$0"; mount -t proc proc "\$R/proc" && mount --rbind /dev "\$R/dev" && mount --rbind /sys "\$R/sys" &&
  mkdir -p "\$R\$2" && cp "\$1" "\$R/usr/local/bin/ar-webdev" && echo \$\$ > "$WORK/webdev.pid" &&
  exec chroot "\$R" env -i PATH=/usr/bin:/bin /usr/local/bin/ar-webdev "\$2"' "$ROOT" "\$1" "\$2"
EOF
# The tree's Chromium, in ar-webdev's mount namespace (same paths for the bus and PulseAudio).
cat >"$WORK/chromium-wrap.sh" <<EOF
#!/bin/bash
exec nsenter --mount=/proc/\$(cat "$WORK/webdev.pid")/ns/mnt chroot "$ROOT" /usr/bin/chromium "\$@"
EOF
chmod +x "$WORK/webdev-wrap.sh" "$WORK/chromium-wrap.sh"
AR_WEBDEV_WRAPPER="$WORK/webdev-wrap.sh" AR_CHROMIUM="$WORK/chromium-wrap.sh" AR_BUILD_DIR="$BUILD" \
  "$SRC/tests/integration/run-in-lab.sh" "$SRC/tests/integration/test-web-bridge.mjs"
