#!/usr/bin/env bash
# The web call's media environment by hand (issue 11, part 5): runs the test program ar-webdev
# (the product's ArWebMedia + ArBridge with test sources) in a temp folder, prints the browser's
# environment, then reads commands from this terminal (see tests/integration/ar-webdev.c):
#   tests/lab/webdev.sh [BUILD_DIR]
#   > start                 # the "Anyroom camera" node and the audio paths
#   > call on               # the Access backend grants the camera
# In another shell, a real Chromium against it (no fake devices), with the printed variables:
#   env DBUS_SESSION_BUS_ADDRESS=... PULSE_SERVER=... chromium --enable-features=WebRtcPipeWireCamera ...
# Every process it starts dies with it; the folder (with each process's log) is removed on exit.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${1:-${AR_BUILD_DIR:-$HERE/../../build}}"
BIN="$BUILD/tests/integration/ar-webdev"
[ -x "$BIN" ] || { echo "$BIN is missing: ninja -C $BUILD" >&2; exit 1; }
TMP="$(mktemp -d /tmp/ar-webdev-XXXXXX)"
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM HUP
# ar-webdev reads the commands from this terminal and prints its replies.
exec 3<&0
"$BIN" "$TMP" <&3 &
PID=$!
wait "$PID" || true
