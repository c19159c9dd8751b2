#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the `rauc` of another Debian root (e.g. trixie's RAUC 1.13 in a folder made by
#   mmdebstrap --variant=apt --include=rauc,rauc-service,dbus-daemon,squashfs-tools trixie DIR)
# with this host's /dev, /proc, /sys and /tmp, in a private mount namespace (nothing to unmount
# afterwards). The update test uses it for the RAUC service:
#   AR_UPDATE_TEST_RAUC="tests/update/rauc-in-root.sh DIR" tests/update/test-update-rauc.sh build
set -euo pipefail
root="$(cd "${1:?usage: $0 ROOT RAUC-ARGS...}" && pwd)"
shift
exec unshare --mount --propagation private -- sh -c '
  root="$1"; shift
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --bind /tmp "$root/tmp"
  exec chroot "$root" rauc "$@"' sh "$root" "$@"
