#!/usr/bin/env bash
# Anyroom test lab: Janus's own demo pages (Debian's janus-demos) for the lab's Janus.
#
#   janus-demos.sh [--render-only | --foreground] [--port N] [--ws-port N] [--log FILE] DIR
#
# Renders DIR (created if missing): a symlink to every entry of the demo pages
# ($AR_JANUS_DEMOS, default /usr/share/janus/demos) but settings.js, and a
# settings.js of ours (a fixture: Debian's lacks the variables the pages read)
# pointing at the lab's Janus WebSocket ws://HOST:WS_PORT (default 8188), no
# STUN/TURN, no token or API secret. Then serves DIR on http://127.0.0.1:PORT
# (default 8000) with python3's http.server:
#
# Default: start it in the background (output into --log FILE, default
# /dev/null), wait (at most 10 s) until settings.js answers, print the
# server's PID on stdout and exit 0; the caller stops it by PID.
# --foreground: exec the server (its PID is this script's PID); readiness is
# the caller's business.
# --render-only: render DIR and exit (the caller serves it).
set -euo pipefail

mode=background port=8000 ws_port=8188 log=/dev/null
while [ $# -gt 0 ]; do
  case "$1" in
    --render-only) mode=render ;;
    --foreground) mode=foreground ;;
    --port) port="$2"; shift ;;
    --ws-port) ws_port="$2"; shift ;;
    --log) log="$2"; shift ;;
    -*) echo "janus-demos: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir="$1"
demos="${AR_JANUS_DEMOS:-/usr/share/janus/demos}"
[ -d "$demos" ] || { echo "janus-demos: the demo pages are missing in $demos (./build.sh deps installs janus-demos)" >&2; exit 1; }

mkdir -p "$dir"
for e in "$demos"/* "$demos"/.[!.]*; do
  [ -e "$e" ] || continue
  [ "$(basename "$e")" = settings.js ] && continue
  ln -s "$e" "$dir/"
done
cat > "$dir/settings.js" <<EOF
// Anyroom test lab: talk to the local Janus over WebSocket, no STUN/TURN.
var server = "ws://" + window.location.hostname + ":$ws_port";
var iceServers = [];
// Debian's demo pages read these too; no API secret or token here.
var token = null;
var apisecret = null;
EOF

case "$mode" in
  render) exit 0 ;;
  foreground) exec python3 -m http.server -b 127.0.0.1 -d "$dir" "$port" ;;
esac

python3 -m http.server -b 127.0.0.1 -d "$dir" "$port" >"$log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "janus-demos: the demo web server exited during startup" >&2
    [ "$log" = /dev/null ] || tail -n 5 "$log" >&2 || true
    exit 1
  fi
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/settings.js', timeout=1)" 2>/dev/null; then
    echo "$pid"
    exit 0
  fi
  sleep 0.1
done
echo "janus-demos: the demo web server (PID $pid) did not answer within 10 s; stopping it" >&2
kill "$pid" 2>/dev/null || true
[ "$log" = /dev/null ] || tail -n 5 "$log" >&2 || true
exit 1
