#!/usr/bin/env bash
# The image's boot health check (rootfs/overlay/usr/lib/anyroom/health-check) on the host, with
# the real grub-editenv on a real grubenv file. systemctl is a stand-in that records its
# arguments: rebooting the machine the tests run on is not an option. (The qemu system test runs
# the script for real inside the guest.) Prints TAP.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
SCRIPT="$TOP/rootfs/overlay/usr/lib/anyroom/health-check"
tmp=$(mktemp -d /tmp/ar-health-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
cat >"$tmp/bin/systemctl" <<'EOF'
#!/bin/sh
echo "$*" >>"$AR_SYSTEMCTL_LOG"
EOF
chmod +x "$tmp/bin/systemctl"
# shellcheck source=tests/tap.sh
. "$TOP/tests/tap.sh"
echo "TAP version 13"

# setup SLOT VAR=VALUE...: a fresh grubenv with those values, booted into SLOT.
setup() {
  local slot=$1
  shift
  rm -f "$tmp/grubenv" "$tmp/systemctl.log"
  grub-editenv "$tmp/grubenv" create
  grub-editenv "$tmp/grubenv" set ORDER="A B" "$@"
  echo "BOOT_IMAGE=/boot/vmlinuz root=PARTLABEL=rootfs-x ro rauc.slot=$slot quiet" >"$tmp/cmdline"
}
# invoke TIMEOUT: runs the script; its output, exit code and systemctl calls end up in $out,
# $rc and $calls.
invoke() {
  out=$(PATH="$tmp/bin:$PATH" AR_SYSTEMCTL_LOG="$tmp/systemctl.log" ANYROOM_HEALTH_TIMEOUT=$1 \
    ANYROOM_GRUBENV="$tmp/grubenv" ANYROOM_CMDLINE="$tmp/cmdline" timeout 30 sh "$SCRIPT" 2>&1)
  rc=$?
  calls=$(cat "$tmp/systemctl.log" 2>/dev/null)
}
# run SLOT TIMEOUT VAR=VALUE...: setup, then invoke.
run() {
  local slot=$1 timeout=$2
  shift 2
  setup "$slot" "$@"
  invoke "$timeout"
}

run A 5 A_OK=1 A_TRY=0 B_OK=1 B_TRY=0
check "/health/confirmed-slot-is-good ($out)" \
  bash -c '[ "$0" = 0 ] && [[ "$1" == "anyroom-health: slot A good (confirmed after 0s)" ]] && [ -z "$2" ]' \
  "$rc" "$out" "$calls"

# Confirmed while the check waits: anyroomd's mark (RAUC's grub backend writes x_OK=1 x_TRY=0).
setup B ORDER="B A" A_OK=1 A_TRY=0 B_OK=1 B_TRY=1
(sleep 1.5 && grub-editenv "$tmp/grubenv" set B_OK=1 B_TRY=0) &
marker=$!
invoke 20
wait "$marker"
check "/health/marked-while-waiting ($out)" \
  bash -c '[ "$0" = 0 ] && [[ "$1" =~ ^"anyroom-health: slot B good (confirmed after "[1-4]"s)"$ ]]' "$rc" "$out"

# A new slot never confirmed: at the deadline the machine reboots (GRUB counts the boot).
run A 2 A_OK=1 A_TRY=1 B_OK=1 B_TRY=0
check "/health/unconfirmed-reboots ($out; systemctl $calls)" \
  bash -c '[ "$0" = 1 ] && [[ "$1" == *"slot A unconfirmed after 2s (try 1 of 3); rebooting" ]] && [ "$2" = "--no-block reboot" ]' \
  "$rc" "$out" "$calls"

# Its third try: still rebooted, so GRUB boots the other slot.
run A 1 A_OK=1 A_TRY=3 B_OK=1 B_TRY=0
check "/health/last-try-reboots-to-other-slot ($out)" \
  bash -c '[ "$0" = 1 ] && [[ "$1" == *"(try 3 of 3); rebooting" ]] && [ "$2" = "--no-block reboot" ]' \
  "$rc" "$out" "$calls"

# GRUB's last resort (no slot has tries left): stay up, a reboot would only loop.
run A 1 A_OK=1 A_TRY=3 B_OK=1 B_TRY=3
check "/health/no-tries-left-stays-up ($out)" \
  bash -c '[ "$0" = 1 ] && [[ "$1" == *"no slot has tries left, staying up" ]] && [ -z "$2" ]' \
  "$rc" "$out" "$calls"

# The other slot is not bootable (x_OK=0, as after an interrupted install): only this one's
# tries count.
run B 1 A_OK=0 A_TRY=0 B_OK=1 B_TRY=3
check "/health/other-slot-not-ok-stays-up ($out)" \
  bash -c '[ "$0" = 1 ] && [[ "$1" == *"staying up" ]] && [ -z "$2" ]' "$rc" "$out" "$calls"

# A grubenv that cannot be read (garbage): never confirmed, never a crash; it says so.
setup A A_OK=1 A_TRY=1 B_OK=1 B_TRY=0
head -c 1024 /dev/urandom >"$tmp/grubenv"
invoke 1
check "/health/unreadable-grubenv ($out)" \
  bash -c '[ "$0" = 1 ] && [[ "$1" == *"unconfirmed after 1s"* ]]' "$rc" "$out"

tap_end
