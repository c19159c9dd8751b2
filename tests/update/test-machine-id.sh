#!/usr/bin/env bash
# The image's machine ID keeper (rootfs/overlay/usr/lib/anyroom/save-machine-id) on the host, with
# the real grub-editenv on real files; the GRUB side (systemd.machine_id= from the saved file)
# is tested in qemu (tests/system/test-qemu.py: the ID and the journal directory stay the same
# across reboots and slots). Prints TAP.
set -uo pipefail
TOP="$(cd "$(dirname "$0")/../.." && pwd)"
SCRIPT="$TOP/rootfs/overlay/usr/lib/anyroom/save-machine-id"
tmp=$(mktemp -d /tmp/ar-machine-id-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
. "$TOP/tests/tap.sh"
echo "TAP version 13"
ID1=0123456789abcdef0123456789abcdef
ID2=fedcba9876543210fedcba9876543210

# invoke CONTENT: /etc/machine-id holds CONTENT; runs the script; $out and $rc.
invoke() {
  printf '%s' "$1" >"$tmp/machine-id"
  out=$(ANYROOM_MACHINE_ID_ENV="$tmp/machine-id.env" ANYROOM_MACHINE_ID_FILE="$tmp/machine-id" \
    timeout 30 sh "$SCRIPT" 2>&1)
  rc=$?
}
saved() { grub-editenv "$tmp/machine-id.env" list 2>/dev/null | grep -qx "ANYROOM_MACHINE_ID=$1"; }
mtime() { stat -c %Y.%i "$tmp/machine-id.env" 2>/dev/null; }

invoke "$ID1"$'\n'
check "first boot: the ID is saved" eval '[ "$rc" = 0 ] && saved "$ID1"'
check "first boot: it says so" eval '[[ "$out" == *"saved the machine ID"* ]]'
check "a grubenv-format file of GRUB's block size" eval '[ "$(stat -c %s "$tmp/machine-id.env")" = 1024 ]'
before=$(mtime)
sleep 1.1
invoke "$ID1"$'\n'
check "same ID: the file is not written again" eval '[ "$rc" = 0 ] && [ "$(mtime)" = "$before" ] && [ -z "$out" ]'
invoke "$ID2"$'\n'
check "another ID (GRUB could not pass it): saved again" eval '[ "$rc" = 0 ] && saved "$ID2" && ! saved "$ID1"'
check "no temporary file left" eval '[ ! -e "$tmp/machine-id.env.new" ]'
printf 'garbage' >"$tmp/machine-id.env"
invoke "$ID1"$'\n'
check "a damaged file is replaced" eval '[ "$rc" = 0 ] && saved "$ID1"'
for bad in "" "uninitialized" "0123456789ABCDEF0123456789ABCDEF" "0123456789abcdef" \
  "0123456789abcdef0123456789abcdef00" "0123456789abcdef 123456789abcdef"; do
  cp "$tmp/machine-id.env" "$tmp/keep.env"
  invoke "$bad"$'\n'
  check "invalid ID '$bad': refused, the saved one kept" \
    eval '[ "$rc" != 0 ] && [[ "$out" == *"not 32 lower-case hex"* ]] && cmp -s "$tmp/machine-id.env" "$tmp/keep.env"'
done
tap_end
