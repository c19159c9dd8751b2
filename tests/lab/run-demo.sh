#!/usr/bin/env bash
# Anyroom demo (./build.sh run): a local Janus meeting the room joins.
#
#   tests/lab/run-demo.sh BUILD_DIR
#
# Starts a Janus with the lab config (room 1234; HTTP 127.0.0.1:8088, WebSocket
# 127.0.0.1:8188), serves Janus's demo pages on http://127.0.0.1:8000 (with
# settings.js pointing at our WebSocket and no STUN), starts anyroomd with the
# host board and makes it join room 1234 as "Anyroom". Then prints how to meet
# the room and `anyroomctl status` every 10 s. Ctrl-C stops everything.
#
# Environment:
#   AR_DEMO_NETNS=1           run the whole demo in a private network namespace
#                             (tests/lab/in-netns.sh; Janus on 10.97.0.1); a
#                             browser outside cannot reach it, so pair it with:
#   AR_DEMO_HEADLESS_CHECK=1  open the demo page in headless Chromium, join as a
#                             participant, wait for the room's video to decode,
#                             save a screenshot and exit 0/1 (no status loop)
#   AR_DEMO_SCREENSHOT=PATH   where the check saves it
#                             (default BUILD_DIR/meson-logs/lab/demo-run.png)
#   AR_DEMO_DISPLAY=NAME      the room's display name (default Anyroom)
set -euo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$LAB/../.." && pwd)"

[ $# -ge 1 ] || { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BUILD="$(cd "$1" && pwd)" || { echo "run-demo: no build directory $1" >&2; exit 2; }
shift
ANYROOMD="$BUILD/firmware/anyroomd"
ANYROOMCTL="$BUILD/firmware/anyroomctl"
DISPLAY_NAME="${AR_DEMO_DISPLAY:-Anyroom}"
DEMOS="${AR_JANUS_DEMOS:-/usr/share/janus/demos}"
HEADLESS="${AR_DEMO_HEADLESS_CHECK:-0}"
SHOT="${AR_DEMO_SCREENSHOT:-$BUILD/meson-logs/lab/demo-run.png}"

say() { printf 'run-demo: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for f in "$ANYROOMD" "$ANYROOMCTL"; do
  [ -x "$f" ] || die "$f is not built (./build.sh build)"
done
[ -d "$DEMOS" ] || die "Janus demo pages are missing in $DEMOS (./build.sh deps installs janus-demos)"

# Re-run ourselves inside a private namespace if asked.
if [ "${AR_DEMO_NETNS:-0}" = 1 ] && [ -z "${AR_NETNS:-}" ]; then
  exec "$LAB/in-netns.sh" "$0" "$BUILD" "$@"
fi
ENFORCE=""
if [ -n "${AR_NETNS:-}" ]; then
  ENFORCE="${AR_NETNS_ADDR1:-10.97.0.1}"
elif [ "$HEADLESS" = 1 ]; then
  say "note: AR_DEMO_HEADLESS_CHECK=1 without AR_DEMO_NETNS=1 uses this machine's interfaces"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/ar-demo.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$? pid alive
  trap - EXIT INT TERM HUP
  if [ ${#PIDS[@]} -gt 0 ]; then
    say "stopping (PIDs ${PIDS[*]})"
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
      alive=0
      for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" = 0 ] && break
      sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  if [ "$rc" != 0 ] && [ "$rc" != 130 ] && [ "$rc" != 143 ]; then
    [ -f "$TMP/anyroomd.log" ] && { say "anyroomd log (last 60 lines):"; tail -n 60 "$TMP/anyroomd.log" >&2; }
    [ -f "$TMP/janus/janus.log" ] && { say "Janus log (last 30 lines):"; tail -n 30 "$TMP/janus/janus.log" >&2; }
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Private copies of the binaries: the build tree may be relinked meanwhile.
mkdir -p "$TMP/bin"
cp "$ANYROOMD" "$ANYROOMCTL" "$TMP/bin/"
ANYROOMD="$TMP/bin/anyroomd"
ANYROOMCTL="$TMP/bin/anyroomctl"

port_busy() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}
for p in 8000 8088 8188; do
  port_busy "$p" && die "port 127.0.0.1:$p is in use; stop what uses it (or use AR_DEMO_NETNS=1)"
done

# 1. Janus
say "starting Janus (config in $TMP/janus${ENFORCE:+, ICE on $ENFORCE})"
JANUS_PID=$("$LAB/janus-start.sh" ${ENFORCE:+--ice-enforce "$ENFORCE"} "$TMP/janus") || die "Janus did not start"
PIDS+=("$JANUS_PID")

# 2. the demo pages, with our settings.js
DEMO_PID=$("$LAB/janus-demos.sh" --log "$TMP/http.log" "$TMP/demos") || die "the demo web server did not start"
PIDS+=("$DEMO_PID")

# 3. anyroomd, host board, private runtime/state dirs
mkdir -p -m 0700 "$TMP/run" "$TMP/state"
export XDG_RUNTIME_DIR="$TMP/run" XDG_STATE_HOME="$TMP/state"
if [ -n "${AR_NETNS:-}" ]; then
  mkdir -p -m 0700 "$TMP/config"
  export XDG_CONFIG_HOME="$TMP/config"
fi
[ -d "$SRC/board" ] && export ANYROOM_BOARD_DIR="${ANYROOM_BOARD_DIR:-$SRC/board}"
SOCK="$TMP/anyroomd.sock"
G_MESSAGES_DEBUG="${G_MESSAGES_DEBUG:-all}" "$ANYROOMD" --board host --socket "$SOCK" >"$TMP/anyroomd.log" 2>&1 </dev/null &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
for i in $(seq 1 150); do
  kill -0 "$DAEMON_PID" 2>/dev/null || die "anyroomd exited during startup"
  [ -S "$SOCK" ] && "$ANYROOMCTL" --socket "$SOCK" status >/dev/null 2>&1 && break
  [ "$i" = 150 ] && die "anyroomd did not answer on $SOCK within 15 s"
  sleep 0.1
done
say "anyroomd running (PID $DAEMON_PID, log $TMP/anyroomd.log)"

# 4. join
LINK="janus+ws://127.0.0.1:8188/?room=1234&display=$DISPLAY_NAME"
say "anyroomctl join '$LINK'"
"$ANYROOMCTL" --socket "$SOCK" join "$LINK" --timeout 30 || die "the room could not join its own demo meeting"

line() { printf '%*s\n' 78 '' | tr ' ' "$1"; }
{
  line '='
  echo "  Meet the room: open http://127.0.0.1:8000/videoroomtest.html in a browser on this"
  echo "  machine, press Start, enter a name: you will see the room's camera (a moving"
  echo "  test pattern if there is no camera)."
  [ -n "${AR_NETNS:-}" ] && echo "  (This demo runs in the private namespace $AR_NETNS: only a browser inside it can join.)"
  echo "  Ctrl-C stops the demo."
  line '='
} >&2

if [ "$HEADLESS" = 1 ]; then
  say "headless check: joining the demo page in Chromium"
  rc=0
  node "$LAB/demo-check.mjs" "http://127.0.0.1:8000/videoroomtest.html" "$SHOT" --expect "$DISPLAY_NAME" --timeout 60 || rc=$?
  "$ANYROOMCTL" --socket "$SOCK" status || rc=1
  if [ "$rc" = 0 ]; then say "headless check passed"; else say "headless check FAILED"; fi
  exit "$rc"
fi

while :; do
  sleep 10 &
  wait $! || true
  kill -0 "$DAEMON_PID" 2>/dev/null || die "anyroomd exited"
  echo "--- $(date +%T) anyroomctl status" >&2
  "$ANYROOMCTL" --socket "$SOCK" status || true
done
