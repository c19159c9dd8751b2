# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Sourced by test-update-rauc.sh (its RAUC service, keys, helpers and anyroomd): a room follows an
# update channel and installs what it offers (docs/fleet.md "Installing the offered release").
# Real parts: Debian's nginx serves the signed channel file (rootfs/keys/sign-manifest.sh) and a
# real RAUC bundle over HTTPS (the harness's test CA); RAUC installs it into the file-backed slot;
# a real call (a WHIP join to a local endpoint that never answers, so it stays "joining") holds the
# install and the restart. The endpoint is a fixture of this test (a socket that accepts and
# waits). The room's time zone is America/New_York (TZ); its window is moved by SIGHUP.
#
#   1. outside the window the offer downloads; nginx is stopped half-way (the first transfer is
#      throttled by nginx's limit_rate so it surely is half-way), the partial file and its record
#      stay; nginx back: the download resumes with "Range: bytes=N-" (nginx's log shows the 206
#      and the bytes), the file is the signed size and SHA-256; nothing installs (window closed);
#   2. a call is joining, the window opens (SIGHUP): still nothing installs; the call ends: RAUC
#      installs the bundle (held by the harness's bootloader backend), a new call starts, the
#      install ends: no restart during the call; the call ends: the restart command runs;
#   3. `anyroomctl update install channel` installs the offered release again, by hand.

ch_t0=$SECONDS
CH_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkimg chan $((2 * 1024 * 1024))
bundle chan "$COMPAT" 1.6.0 chan
CH_SIZE="$(stat -c %s "$T/chan.raucb")"
CH_SHA="$(hash "$T/chan.raucb")"
mkdir -p "$T/www-ch"
cp "$T/chan.raucb" "$T/www-ch/anyroom-1.6.0.raucb"
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
cat >"$T/chan.json" <<EOF
{"format": 1, "channel": "stable", "serial": 1,
 "issued": "$(iso $((now - 60)))", "expires": "$(iso $((now + 86400)))",
 "releases": [{"version": "1.6.0",
   "bundles": {"$COMPAT": {"url": "https://127.0.0.1:$CH_PORT/anyroom-1.6.0.raucb?token=s3cr3t",
                           "size": $CH_SIZE, "sha256": "$CH_SHA"}},
   "rollout": {"start": "$(iso $((now - 86400)))", "percent_start": 100}}]}
EOF
ANYROOM_SIGNING_KEY="$T/keys/signing.key.pem" ANYROOM_SIGNING_CERT="$T/keys/signing.cert.pem" \
  ANYROOM_KEYRING="$T/keys/keyring.pem" "$SRC/rootfs/keys/sign-manifest.sh" "$T/chan.json" \
  "$T/www-ch/stable.manifest" >"$T/sign.log" 2>&1 || bail "sign-manifest.sh: $(cat "$T/sign.log")"

# ---- nginx (Debian's), our own config; the first transfer throttled ----
cat >"$T/nginx.conf" <<EOF
daemon off;
user root;
pid $T/nginx.pid;
error_log $T/nginx-error.log info;
events { worker_connections 64; }
http {
  log_format ranges '\$status \$body_bytes_sent "\$http_range" \$uri';
  access_log $T/nginx-access.log ranges;
  client_body_temp_path $T/nginx-body;
  proxy_temp_path $T/nginx-proxy;
  fastcgi_temp_path $T/nginx-fastcgi;
  uwsgi_temp_path $T/nginx-uwsgi;
  scgi_temp_path $T/nginx-scgi;
  server {
    listen 127.0.0.1:$CH_PORT ssl;
    ssl_certificate $T/tls/server.pem;
    ssl_certificate_key $T/tls/server.key;
    root $T/www-ch;
    include $T/nginx-extra.conf;
  }
}
EOF
NGINX_PID=
start_nginx() {
  nginx -c "$T/nginx.conf" -e "$T/nginx-error.log" >>"$T/nginx.log" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  for _ in $(seq 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/tls/ca.pem" \
      "https://127.0.0.1:$CH_PORT/stable.manifest")" = 200 ] && return 0
    sleep 0.1
  done
  bail "nginx did not start: $(tail -5 "$T/nginx-error.log")"
}
stop_nginx() {
  kill -TERM "$NGINX_PID"
  for _ in $(seq 100); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
}
echo 'limit_rate 256k;' >"$T/nginx-extra.conf"
start_nginx

# ---- anyroomd follows the channel; its window opens in two hours (New York time) ----
window() { # window FROM_MIN TO_MIN: HH:MM-HH:MM from now, in the room's time zone
  python3 - "$1" "$2" <<'PY'
import datetime, sys, zoneinfo
now = datetime.datetime.now(zoneinfo.ZoneInfo("America/New_York"))
a, b = (now + datetime.timedelta(minutes=int(m)) for m in sys.argv[1:3])
print(f"{a:%H:%M}-{b:%H:%M}")
PY
}
channel_conf() { # channel_conf WINDOW
  cat >"$T/channel.conf" <<EOF
[room]
name=Update test
[admin]
listen=127.0.0.1:$ADMIN_PORT
[device]
camera=test
microphone=test
speaker=none
display=none
[media]
width=320
height=240
framerate=10
[call]
join-timeout=120
[system]
reboot-command=$T/restart.sh
[update]
bus=$BUS
version-file=$T/version
max-bundle-size=16
download-ca=$T/tls/ca.pem
health-settle=1
channel-url=https://127.0.0.1:$CH_PORT/stable.manifest
channel=stable
channel-ca=$T/tls/ca.pem
keyring=$T/keys/keyring.pem
window=$1
EOF
}
printf '#!/bin/sh\necho restart >>%s/restarted\n' "$T" >"$T/restart.sh"
chmod +x "$T/restart.sh"
echo 0123456789abcdef0123456789abcdef >"$T/machine-id"
channel_conf "$(window 120 240)"
kill -TERM "$DAEMON_PID"
for _ in $(seq 300); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
start_daemon "$T/channel.conf" TZ=America/New_York ANYROOM_TEST_CHANNEL_POLL_SECONDS=1 \
  ANYROOM_TEST_MACHINE_ID_FILE="$T/machine-id"
ctl events >"$T/events.log" 2>&1 &
PIDS+=($!)

inst() { # inst KEY: the channel install's KEY from the update status
  ctl update status --json 2>/dev/null | python3 -c '
import json, sys
c = (json.load(sys.stdin).get("channel") or {}).get("install") or {}
print(c.get(sys.argv[1]))' "$1"
}
call_state() { ctl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
wait_for() { # wait_for 'SHELL CONDITION': evaluated again every 0.1 s, up to 60 s
  for _ in $(seq 600); do eval "$1" && return 0; sleep 0.1; done
  return 1
}
part_size() { stat -c %s "$T/state/update/channel.raucb" 2>/dev/null || echo 0; }
SLOT_B0="$(hash "$T/slotB.img")"
# What the bootloader backend was told about slot B (anyroomd's restart marks A good again).
b_writes() { grep -cE '^set-(primary B|state B )' "$T/boot.log"; }
B_WRITES=$(b_writes)

echo "# $((SECONDS - ch_t0)) s into the channel part"
# ---- 1. downloaded outside the window, cut half-way, resumed with Range ----
wait_for '[ "$(part_size)" -ge 262144 ]'
check "the offered release downloads outside the window (state $(inst state), $(part_size) bytes)" \
  [ "$(part_size)" -ge 262144 ]
stop_nginx
wait_for '[ "$(inst failures)" -ge 1 ] 2>/dev/null'
CUT="$(part_size)"
v=0
[ "$CUT" -gt 0 ] && [ "$CUT" -lt "$CH_SIZE" ] && grep -qx "sha256=$CH_SHA" "$T/state/update/channel.raucb.info" &&
  grep -qx "size=$CH_SIZE" "$T/state/update/channel.raucb.info" && v=1
check "nginx stopped half-way: the download failed ($(inst error)), $CUT of $CH_SIZE bytes kept with their record" \
  [ "$v" = 1 ]
: >"$T/nginx-extra.conf"
start_nginx
wait_for '[ "$(inst state)" = ready-waiting-window ]'
check "nginx back: the download completes, the room waits for its window ($(inst state))" \
  [ "$(inst state)" = ready-waiting-window ]
check "nginx answered the resume with 206 and the missing $((CH_SIZE - CUT)) bytes for \"Range: bytes=$CUT-\"" \
  grep -qx "206 $((CH_SIZE - CUT)) \"bytes=$CUT-\" /anyroom-1.6.0.raucb" "$T/nginx-access.log"
st="$(ctl update status)"
check "anyroomctl update status: the channel's offer and the install step ($(grep -E '^(channel|install):' <<<"$st" | tr '\n' '|'))" \
  grep -qE '^install: +ready-waiting-window, window [0-9:-]+ \(closed\)' <<<"$st"
check "the resumed file is the signed bundle (SHA-256 and size)" cmp -s "$T/state/update/channel.raucb" "$T/chan.raucb"
check "status: resumed_from $CUT, downloaded_bytes $CH_SIZE, the failures over" \
  [ "$(inst resumed_from) $(inst downloaded_bytes) $(inst failures) $(inst error)" = "$CUT $CH_SIZE 0 None" ]
v=0
[ "$(hash "$T/slotB.img")" = "$SLOT_B0" ] && [ "$(b_writes)" = "$B_WRITES" ] && v=1
check "outside the window nothing installs: slot B and the bootloader untouched" [ "$v" = 1 ]
check "the bundle URL's token is in no log line" bash -c "! grep -q s3cr3t '$T/anyroomd.log'"

echo "# $((SECONDS - ch_t0)) s into the channel part"
# ---- 2. a call holds the install and the restart ----
# A WHIP endpoint (test fixture) that keeps a join "joining" for as long as the room lets it: it
# answers the first two POSTs of each call with 429 and Retry-After: 10 (the room waits them
# out, AR_WHIP_BUSY_RETRIES) and holds the third unanswered (the room's 10 s I/O timeout): some
# 30 s of "joining". Whatever the machine's pace, what is checked below holds: the event stream
# must never show an install or a restart starting while a call is under way.
python3 - "$T/silent.port" >"$T/silent.log" 2>&1 <<'PY' &
import os, socket, sys, threading
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
posts = [0]
held = []
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            return
        data += chunk
    if data.startswith(b"POST"):
        posts[0] += 1
        if posts[0] % 3 != 0:
            c.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
            c.close()
            return
    held.append(c)  # never answered
while True:
    conn = s.accept()[0]
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PY
PIDS+=($!)
wait_for '[ -s "$T/silent.port" ]'
join() {
  ctl join "whip+http://127.0.0.1:$(cat "$T/silent.port")/whip/room#token=lab-token" >>"$T/join.log" 2>&1 &
  PIDS+=($!)
  wait_for '[ "$(call_state)" = joining ]'
}
join
check "a call is joining (state $(call_state))" [ "$(call_state)" = joining ]
channel_conf "$(window -60 120)"
kill -HUP "$DAEMON_PID"
wait_for '[ "$(inst window_open)" = True ]'
wait_for '[ "$(inst state)" = ready-waiting-call ]'
check "SIGHUP: the window is open now, the room waits for the call ($(inst state))" \
  grep -q 'ready-waiting-call' "$T/events.log"
# The backend holds the install at "set-state B bad" while boot.hold exists.
touch "$T/boot.hold"
held_before=$(grep -c "set-state B bad" "$T/boot.log")
ctl leave >/dev/null 2>&1
wait_for '[ "$(call_state)" != joining ]'
wait_for '[ "$(grep -c "set-state B bad" "$T/boot.log")" -gt "$held_before" ]'
check "the call ended: RAUC installs the channel's bundle ($(inst state))" [ "$(inst state)" = installing ]
join
rm -f "$T/boot.hold"
wait_for '[ "$(inst state)" = installed-waiting-call ] || [ "$(inst state)" = restarting ]'
check "slot B holds the channel's image" [ "$(hash "$T/slotB.img")" = "$(hash "$T/chan.img")" ]
check "the installed bundle and its record were deleted" \
  bash -c "[ ! -e '$T/state/update/channel.raucb' ] && [ ! -e '$T/state/update/channel.raucb.info' ]"
ctl leave >/dev/null 2>&1
wait_for '[ -e "$T/restarted" ]'
check "the call ended, inside the window: the restart command ran ($(inst state))" [ -e "$T/restarted" ]
check "events: nothing installed or restarted while a call was under way; the install waited for a call, the restart for another; the steps in order" \
  python3 - "$T/events.log" <<'PY'
import json, sys
in_call = False
seen = []
bad = []
for line in open(sys.argv[1]):
    if not line.startswith("{"):
        continue
    e = json.loads(line)
    if e.get("event") == "state":
        in_call = e["state"] not in ("idle", "failed")
    elif e.get("event") == "update-channel-install":
        s = e["install"]["state"]
        if seen and seen[-1] == s:
            continue
        seen.append(s)
        if s in ("installing", "restarting") and in_call:
            bad.append(s)
        seen[-1] = s + ("(call)" if in_call else "")
print("# states:", " ".join(seen))
want = ["downloading", "failed-retrying", "ready-waiting-window", "ready-waiting-call(call)",
        "installing", "installed-waiting-call(call)", "restarting"]
it = iter(seen)
sys.exit(0 if not bad and all(w in it for w in want) else 1)
PY

echo "# $((SECONDS - ch_t0)) s into the channel part"
# ---- 3. by hand: the administrator installs the offered release now ----
SLOT_B1="$(hash "$T/slotB.img")"
head -c "$IMG_SIZE" /dev/zero >"$T/slotB.img" # other bytes, to see each install write it again
if [ -x /usr/bin/chromium ] && [ -d "$SRC/tests/lab/node_modules/playwright-core" ]; then
  shot="$BUILD/meson-logs/update-admin-channel.png"
  out="$(timeout 200 node "$SRC/tests/update/admin-channel.mjs" "$A" "$T/state/admin-cert.pem" \
    "correct horse battery staple" 1.6.0 "$shot" 2>&1)"
  rc=$?
  echo "$out" | grep '^#'
  check "admin page: the channel's 1.6.0 offered, 'Install the offered release now' installs it (screenshot $shot)" \
    [ "$rc" = 0 ]
  check "slot B holds the channel's image after the admin page's install" [ "$(hash "$T/slotB.img")" = "$SLOT_B1" ]
  head -c "$IMG_SIZE" /dev/zero >"$T/slotB.img"
else
  not_ok "admin page channel test needs Debian's chromium and tests/lab/node_modules (./build.sh deps)"
fi
out="$(ctl update install channel 2>&1)"
rc=$?
echo "$out" | tail -2 | sed 's/^/# /'
check "anyroomctl update install channel: the offered release installs now, no window or call check (exit $rc)" \
  [ "$rc" = 0 ]
check "slot B holds the channel's image again" [ "$(hash "$T/slotB.img")" = "$SLOT_B1" ]
check "a manual install does not restart (the restart command ran once)" [ "$(wc -l <"$T/restarted")" = 1 ]
stop_nginx
echo "# the channel part took $((SECONDS - ch_t0)) s"
