# shellcheck shell=bash
# Anyroom test lab: private network namespaces.
#
# Source this file; it defines:
#   ar_netns_require_root          fail with a clear message unless root
#   ar_netns_create                create a namespace, print its name
#   ar_netns_delete NAME           kill what runs in it (ours), delete it
#
# Each namespace holds lo (up) and a veth pair with both ends inside it:
#   ar0 10.97.0.1/24 <-> ar1 10.97.0.2/24
# WebRTC needs a non-loopback interface to gather candidates (DESIGN.md);
# nothing leaves the namespace. Signalling may stay on 127.0.0.1 inside.

AR_NETNS_ADDR1=10.97.0.1
AR_NETNS_ADDR2=10.97.0.2

ar_netns_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "integration tests need root for network namespaces (run as root, e.g. sudo ./build.sh test)" >&2
    return 1
  fi
  if ! command -v ip >/dev/null 2>&1; then
    echo "integration tests need iproute2 (ip); run ./build.sh deps" >&2
    return 1
  fi
}

ar_netns_create() {
  local name="ar-lab-$$-$RANDOM"
  ip netns add "$name" || { echo "netns: cannot create namespace $name" >&2; return 1; }
  if ! {
    ip -n "$name" link set lo up &&
    ip -n "$name" link add ar0 type veth peer name ar1 &&
    ip -n "$name" addr add "$AR_NETNS_ADDR1/24" dev ar0 &&
    ip -n "$name" addr add "$AR_NETNS_ADDR2/24" dev ar1 &&
    ip -n "$name" link set ar0 up &&
    ip -n "$name" link set ar1 up
  }; then
    echo "netns: cannot set up the veth pair in $name" >&2
    ip netns del "$name" 2>/dev/null
    return 1
  fi
  printf '%s\n' "$name"
}

# Kill every process left in NAME (they are ours: the namespace is ours),
# first with SIGTERM, then SIGKILL after a grace period; then delete it.
ar_netns_delete() {
  local name="$1" pids i
  [ -n "$name" ] || return 0
  ip netns list 2>/dev/null | grep -q "^$name\( \|$\)" || return 0
  pids=$(ip netns pids "$name" 2>/dev/null | xargs)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      pids=$(ip netns pids "$name" 2>/dev/null | xargs)
      [ -z "$pids" ] && break
      sleep 0.25
    done
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null
      sleep 0.2
    fi
  fi
  ip netns del "$name" 2>/dev/null || {
    echo "netns: cannot delete namespace $name" >&2
    return 1
  }
}
