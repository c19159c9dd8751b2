#!/usr/bin/env bash
# radicale.sh DIR USER PASSWORD: a real CalDAV server for tests (Debian's radicale 3.1), on
# 127.0.0.1 and a free port, HTTPS with a throwaway test CA made here with the openssl CLI,
# htpasswd authentication (one user, apr1/md5), storage in DIR/collections, owner-only rights.
# Creates the calendar collection /USER/room/ by MKCALENDAR (curl, trusting the test CA).
#
# Prints one line "URL PID" (URL: https://127.0.0.1:PORT/USER/room/) once radicale answers,
# and leaves radicale running in the background: the caller stops it by that PID.
# Files in DIR: ca.pem (the test CA; trust it to reach radicale), server.pem / server.key
# (for 127.0.0.1 and localhost, signed by the CA; a test may reuse them for its own fixtures),
# config, users, radicale.log.
set -euo pipefail
dir=${1:?usage: radicale.sh DIR USER PASSWORD}
user=${2:?user}
password=${3:?password}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The test CA and the server's certificate (1 day).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=Anyroom test CA $$" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  2>"$dir/openssl.log"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=127.0.0.1" 2>>"$dir/openssl.log"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
  >"$dir/server.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>>"$dir/openssl.log"

printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$password")" >"$dir/users"

# A free port: bind 0, read it, close (radicale binds it right after).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$dir/config" <<EOF
[server]
hosts = 127.0.0.1:$port
ssl = True
certificate = $dir/server.pem
key = $dir/server.key
max_connections = 8
timeout = 30

[auth]
type = htpasswd
htpasswd_filename = $dir/users
htpasswd_encryption = md5
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = $dir/collections

[web]
type = none

[logging]
level = info
mask_passwords = True
EOF

radicale --config "$dir/config" >"$dir/radicale.log" 2>&1 &
pid=$!

base="https://127.0.0.1:$port"
ok=0
for _ in $(seq 1 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "radicale.sh: radicale exited; its log:" >&2
    cat "$dir/radicale.log" >&2
    exit 1
  fi
  if curl -s -o /dev/null --cacert "$dir/ca.pem" "$base/"; then
    ok=1
    break
  fi
  sleep 0.1
done
if [ "$ok" != 1 ]; then
  echo "radicale.sh: radicale does not answer on $base" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi

url="$base/$user/room/"
code=$(curl -s -o "$dir/mkcalendar.out" -w '%{http_code}' --cacert "$dir/ca.pem" \
  -u "$user:$password" -X MKCALENDAR -H 'Content-Type: application/xml; charset=utf-8' \
  --data-binary '<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>Room</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>' "$url")
if [ "$code" != 201 ]; then
  echo "radicale.sh: MKCALENDAR $url answered $code" >&2
  kill "$pid" 2>/dev/null || true
  exit 1
fi
echo "$url $pid"
