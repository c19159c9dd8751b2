#!/usr/bin/env bash
# Anyroom test lab: start a Janus with our own minimal configuration.
#
#   janus-start.sh [--foreground] [--ice-enforce LIST] [--http-port N] [--ws-port N] DIR
#
# Renders tests/lab/janus/*.jcfg.in into DIR (created if missing) and starts
#   janus -F DIR -C DIR/janus.jcfg
# with only the VideoRoom plugin and the HTTP (127.0.0.1:8088, /janus) and
# WebSocket (127.0.0.1:8188, subprotocol janus-protocol) transports, full
# trickle, no STUN, session_timeout 60, log in DIR/janus.log.
# --ice-enforce LIST sets nat.ice_enforce_list (e.g. 10.97.0.1 in a lab
# namespace); without it Janus uses every interface.
#
# Default: start in the background, wait (at most 15 s) until
# http://127.0.0.1:HTTP_PORT/janus/info answers, print Janus's PID on stdout
# (also written to DIR/janus.pid) and exit 0; the caller stops it by PID.
# --foreground: exec janus (its PID is this script's PID); readiness is the
# caller's business.
set -euo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

fg=0 enforce="" http_port=8088 ws_port=8188
while [ $# -gt 0 ]; do
  case "$1" in
    --foreground) fg=1 ;;
    --ice-enforce) enforce="$2"; shift ;;
    --http-port) http_port="$2"; shift ;;
    --ws-port) ws_port="$2"; shift ;;
    -*) echo "janus-start: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 1 ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir="$1"

command -v janus >/dev/null || { echo "janus-start: janus is not installed (./build.sh deps)" >&2; exit 1; }
libdir="${JANUS_LIB_DIR:-}"
if [ -z "$libdir" ]; then
  for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus /opt/janus/lib/janus; do
    [ -e "$d/plugins/libjanus_videoroom.so" ] && { libdir="$d"; break; }
  done
fi
[ -n "$libdir" ] || { echo "janus-start: cannot find Janus's plugins (libjanus_videoroom.so); set JANUS_LIB_DIR" >&2; exit 1; }

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
rm -rf "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
mkdir -p "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
ln -s "$libdir/plugins/libjanus_videoroom.so" "$dir/plugins/"
ln -s "$libdir/transports/libjanus_http.so" "$dir/transports/"
ln -s "$libdir/transports/libjanus_websockets.so" "$dir/transports/"

nat_extra=""
[ -n "$enforce" ] && nat_extra="	ice_enforce_list = \"$enforce\""
for t in "$LAB"/janus/*.jcfg.in; do
  out="$dir/$(basename "$t" .in)"
  DIR="$dir" NAT_EXTRA="$nat_extra" HTTP_PORT="$http_port" WS_PORT="$ws_port" \
    python3 -c '
import os, sys
s = open(sys.argv[1]).read()
for k in ("DIR", "NAT_EXTRA", "HTTP_PORT", "WS_PORT"):
    s = s.replace("@" + k + "@", os.environ[k])
open(sys.argv[2], "w").write(s)' "$t" "$out"
done
: > "$dir/janus.log"

if [ "$fg" = 1 ]; then
  exec janus -F "$dir" -C "$dir/janus.jcfg"
fi

janus -F "$dir" -C "$dir/janus.jcfg" </dev/null >"$dir/janus.stdout" 2>&1 &
pid=$!
echo "$pid" > "$dir/janus.pid"
for _ in $(seq 1 150); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "janus-start: janus exited during startup; last lines of $dir/janus.log:" >&2
    tail -n 30 "$dir/janus.log" "$dir/janus.stdout" >&2 || true
    exit 1
  fi
  if python3 - "$http_port" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/janus/info", timeout=1) as r:
    sys.exit(0 if json.load(r).get("janus") == "server_info" else 1)
PY
  then
    echo "$pid"
    exit 0
  fi
  sleep 0.1
done
echo "janus-start: janus (PID $pid) did not answer /janus/info within 15 s; stopping it" >&2
kill "$pid" 2>/dev/null || true
tail -n 30 "$dir/janus.log" >&2 || true
exit 1
