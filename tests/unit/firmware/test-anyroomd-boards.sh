#!/usr/bin/env bash
# The real anyroomd with each board under board/ (listed at test time: a new board is covered
# without editing this file): it must start (the "room ..., board ..." line, after the media
# engine, the local API socket) and stop cleanly on SIGTERM. On a device, a board anyroomd
# refuses means a start loop, a reboot by systemd's start limit and a slot never marked good
# (generic-x86_64 and rpi4 said [display] output=kiosk, which anyroomd refused).
# Then a bad display value, in a config and in a board, must stop it at start with the file and
# the key. No admin listener, no updates, its own socket and state folder; the machine's
# devices are not needed ("auto" falls back to the test pattern and tone). Prints TAP.
# Usage: test-anyroomd-boards.sh ANYROOMD SOURCE_DIR
set -uo pipefail
ANYROOMD=$1
SRC=$2
tmp=$(mktemp -d /tmp/ar-boards-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=tests/tap.sh
. "$SRC/tests/tap.sh"
echo "TAP version 13"
unset ANYROOM_BOARD_DIR DISPLAY WAYLAND_DISPLAY

printf '[admin]\nlisten=none\n[update]\nenabled=false\n' >"$tmp/anyroom.conf"

# start BOARD: runs anyroomd with BOARD until it says it runs (at most 60 s), then SIGTERM;
# true if it ran and stopped with 0. Its output is in $tmp/BOARD.log.
start() {
  local board=$1 log="$tmp/$1.log" i rc
  rm -rf "$tmp/state" "$tmp/sock"
  "$ANYROOMD" --config "$tmp/anyroom.conf" --board "$board" --socket "$tmp/sock" \
    --state-dir "$tmp/state" >"$log" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    grep -q "board '$board', config" "$log" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q "board '$board', config" "$log"; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    pid=
    sed 's/^/# /' "$log"
    return 1
  fi
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  pid=
  grep -E "media: |board '" "$log" | sed 's/^/# /'
  [ "$rc" = 0 ]
}

boards=0
for conf in "$SRC"/board/*/board.conf; do
  board=$(basename "$(dirname "$conf")")
  boards=$((boards + 1))
  check "/anyroomd/board/$board/starts" start "$board"
done
# Not vacuous: the boards this was written for are there.
check "/anyroomd/board/all-listed ($boards boards)" \
  bash -c '[ -f "$0/board/generic-x86_64/board.conf" ] && [ -f "$0/board/rpi4/board.conf" ] && [ "$1" -ge 4 ]' \
  "$SRC" "$boards"

# refused WHAT CONFIG BOARD WANT: anyroomd with CONFIG and BOARD exits 1 at once with WANT in
# its message.
refused() {
  local out rc
  out=$(timeout 30 "$ANYROOMD" --config "$2" --board "$3" --socket "$tmp/sock" \
    --state-dir "$tmp/state" 2>&1)
  rc=$?
  echo "# $1: rc $rc: $out"
  [ "$rc" = 1 ] && [[ "$out" == *"$4"* ]]
}

printf '[admin]\nlisten=none\n[update]\nenabled=false\n[device]\ndisplay=kiosky\n' >"$tmp/bad.conf"
check "/anyroomd/config-display-refused" refused "config" "$tmp/bad.conf" host \
  "anyroomd: $tmp/bad.conf: device.display: Invalid video sink 'kiosky' (expected auto, none, kiosk or window)"

mkdir -p "$tmp/boards/bad"
sed 's/^output=.*/output=kiosky/' "$SRC/board/generic-x86_64/board.conf" >"$tmp/boards/bad/board.conf"
sed -i 's/^name=.*/name=bad/' "$tmp/boards/bad/board.conf"
# The same, from a board folder of the test's own (the key is the board's: display.output).
refused_board() { ANYROOM_BOARD_DIR="$tmp/boards" refused "$@"; }
check "/anyroomd/board-display-refused" refused_board "board" "$tmp/anyroom.conf" bad \
  "anyroomd: $tmp/boards/bad/board.conf: display.output: Invalid video sink 'kiosky' (expected auto, none, kiosk or window)"
tap_end
