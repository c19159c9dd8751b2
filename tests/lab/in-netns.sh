#!/usr/bin/env bash
# Run CMD... inside a fresh private network namespace (see netns.sh), then
# delete the namespace and kill whatever CMD left running in it, whatever
# happens (exit, Ctrl-C, SIGTERM). Exit status is CMD's.
#   tests/lab/in-netns.sh CMD [ARGS...]
# Inside, AR_NETNS holds the namespace name and AR_NETNS_ADDR1/2 the veth
# addresses (10.97.0.1, 10.97.0.2).
set -u
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=netns.sh
. "$LAB/netns.sh"

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
ar_netns_require_root || exit 1

NS=""
CHILD=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$CHILD" 2>/dev/null || break
      sleep 0.25
    done
  fi
  ar_netns_delete "$NS"
  exit "$rc"
}
on_signal() {
  echo "in-netns: interrupted ($1), cleaning up namespace $NS" >&2
  exit $((128 + $2))
}
trap cleanup EXIT
trap 'on_signal INT 2' INT
trap 'on_signal TERM 15' TERM
trap 'on_signal HUP 1' HUP

NS=$(ar_netns_create) || exit 1
export AR_NETNS="$NS" AR_NETNS_ADDR1 AR_NETNS_ADDR2

# In the background so our traps run at once on a signal; keep stdin.
ip netns exec "$NS" "$@" <&0 &
CHILD=$!
wait "$CHILD"
rc=$?
CHILD=""
exit "$rc"
