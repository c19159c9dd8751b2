#!/usr/bin/env bash
# System test (suite 'system'): the RELEASE root file system of qemu-x86_64 (not the dev variant the
# qemu test boots) has no way to log in and takes only signed verity bundles for its own board.
# Builds the slot with rootfs/mkimage.sh (cached trees) and reads it with debugfs (no mount, no
# loop device). Prints TAP. Usage: test-release-image.sh BUILD_DIR
set -uo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$(cd "${1:?BUILD_DIR}" && pwd)"
# shellcheck source=tests/tap.sh
. "$TOP/tests/tap.sh"
echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
  echo "1..1"
  echo "not ok 1 needs root (mmdebstrap, chroot)"
  exit 1
fi
log="$BUILD/release-image.log"
if ! AR_BUILD_DIR="$BUILD" AR_IMAGE_VERSION=1.0.0 "$TOP/rootfs/mkimage.sh" slot qemu-x86_64 >"$log" 2>&1; then
  echo "not ok 1 /release/build # see $log"
  tail -n 20 "$log" | sed 's/^/# /'
  echo "1..1"
  exit 1
fi
echo "ok 1 /release/build"
n=1
img="$BUILD/image/qemu-x86_64/rootfs.ext4"
fs() { debugfs -R "$1" "$img" 2>/dev/null; }
exists() { debugfs -R "stat $1" "$img" 2>&1 | grep -q "Inode:"; }
export -f exists
export img
shadow_root=$(fs "cat /etc/shadow" | awk -F: '$1 == "root" {print $2}')
check "/release/root-locked (root password field '${shadow_root:0:1}...')" \
  bash -c '[[ "$1" == "!"* || "$1" == "*"* ]]' _ "$shadow_root"
check "/release/no-empty-password" bash -c '! grep -qE "^[^:]+::" <<<"$1"' _ "$(fs 'cat /etc/shadow')"
not_there() { ! exists "$1"; }
check "/release/no-login-program" not_there /usr/bin/login
check "/release/no-dev-shell" not_there /etc/systemd/system/anyroom-dev-shell.service
check "/release/serial-getty-masked" bash -c '[[ "$1" == *"/dev/null"* ]]' _ \
  "$(fs 'stat /etc/systemd/system/serial-getty@ttyS0.service' | grep -i 'fast link dest' || true)"
conf=$(fs "cat /etc/rauc/system.conf")
check "/release/rauc-compatible" grep -qx "compatible=anyroom-qemu-x86_64" <<<"$conf"
check "/release/rauc-verity-only" grep -qx "bundle-formats=-plain" <<<"$conf"
check "/release/rauc-grub" grep -qx "bootloader=grub" <<<"$conf"
check "/release/keyring" bash -c 'grep -q "BEGIN CERTIFICATE" <<<"$1"' _ "$(fs 'cat /etc/rauc/keyring.pem')"
check "/release/anyroomd-installed" exists /usr/bin/anyroomd
check "/release/anyroomd-unprivileged" grep -qx "User=anyroom" <<<"$(fs 'cat /usr/lib/systemd/system/anyroomd.service')"
# The admin server's connection caps are sized from this (firmware/api/ar-api-listener.h).
check "/release/anyroomd-nofile" grep -qx "LimitNOFILE=8192" <<<"$(fs 'cat /usr/lib/systemd/system/anyroomd.service')"
# The room display (ui-kiosk/kiosk): there, started by udev for a screen, pinned to the image's port.
check "/release/kiosk-chromium-cage" bash -c 'exists /usr/bin/chromium && exists /usr/bin/cage'
check "/release/kiosk-unit" grep -qx "User=anyroom-kiosk" <<<"$(fs 'cat /usr/lib/systemd/system/anyroom-kiosk.service')"
check "/release/kiosk-udev-start" grep -q 'SYSTEMD_WANTS}+="anyroom-kiosk.service"' \
  <<<"$(fs 'cat /usr/lib/udev/rules.d/70-anyroom-kiosk.rules')"
check "/release/kiosk-policy-443-only" bash -c 'grep -q "\"URLAllowlist\": \[\"https://127.0.0.1:443\"\]" <<<"$1"' _ \
  "$(fs 'cat /etc/chromium/policies/managed/anyroom-kiosk.json')"
check "/release/proc-hidepid" grep -qE '^proc +/proc +proc +.*hidepid=invisible' <<<"$(fs 'cat /etc/fstab')"
# The root is read-only: the machine ID is kept across boots by this unit (and GRUB).
check "/release/machine-id-kept" exists /etc/systemd/system/multi-user.target.wants/anyroom-machine-id.service
tap_end
