#!/bin/bash
# Runs a test with the device's managed Chromium policy in place
# (rootfs/overlay/etc/chromium/policies/managed/anyroom.json), inside a
# private mount namespace: a tmpfs over /etc/chromium that only this test
# sees; nothing on the host changes.
#   run-with-policy.sh POLICY.json TEST [ARGS...]
set -eu
policy="$1"
shift
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null || [ ! -d /etc/chromium ]; then
  echo "1..0 # SKIP needs root, a private mount namespace and /etc/chromium"
  exit 0
fi
exec unshare -m bash -c 'mount -t tmpfs tmpfs /etc/chromium &&
  mkdir -p /etc/chromium/policies/managed &&
  cp "$0" /etc/chromium/policies/managed/anyroom.json &&
  exec "$@"' "$policy" "$@"
