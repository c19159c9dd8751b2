# shellcheck shell=bash
# Anyroom test lab: three private network namespaces in a row, for TURN tests.
#
#   room  r0 10.98.1.2/24 ── m-r 10.98.1.1/24  middle  m-j 10.98.2.1/24 ── j0 10.98.2.2/24  meet
#   (anyroomd)                 (coturn: listens on 10.98.1.1, relays from 10.98.2.1)   (Janus, Chromium)
#
# The middle does not forward (net.ipv4.ip_forward=0): the only way from the
# room to the meeting side is the TURN relay in the middle. `ar_net3_mode`
# switches forwarding and nftables rules in the middle:
#   isolated   no forwarding, no filter (only TURN connects the sides)
#   direct     forwarding on, no filter (a plain routed path)
#   udp-blocked  forwarding on; every UDP packet from the room is dropped
#              (forwarded or to the middle itself): TCP only
#   tcp443-only  no forwarding; from the room only TCP to 10.98.1.1:443 passes
# Nothing leaves the namespaces.
#
# Source this file; it defines:
#   ar_net3_create        create the three namespaces; sets AR_NET3_ROOM,
#                         AR_NET3_MIDDLE, AR_NET3_MEET (names) and prints them
#   ar_net3_mode MODE     apply one of the modes above
#   ar_net3_delete        kill what runs in them (ours) and delete them

# shellcheck source=netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

AR_NET3_ROOM_ADDR=10.98.1.2
AR_NET3_TURN_ADDR=10.98.1.1
AR_NET3_RELAY_ADDR=10.98.2.1
AR_NET3_MEET_ADDR=10.98.2.2
AR_NET3_ROOM="${AR_NET3_ROOM:-}"
AR_NET3_MIDDLE="${AR_NET3_MIDDLE:-}"
AR_NET3_MEET="${AR_NET3_MEET:-}"

ar_net3_create() {
  local tag="$$-$RANDOM"
  AR_NET3_ROOM="ar-room-$tag"
  AR_NET3_MIDDLE="ar-mid-$tag"
  AR_NET3_MEET="ar-meet-$tag"
  ip netns add "$AR_NET3_ROOM" || return 1
  ip netns add "$AR_NET3_MIDDLE" || return 1
  ip netns add "$AR_NET3_MEET" || return 1
  local r="$AR_NET3_ROOM" m="$AR_NET3_MIDDLE" j="$AR_NET3_MEET"
  if ! {
    ip -n "$r" link set lo up && ip -n "$m" link set lo up && ip -n "$j" link set lo up &&
    ip -n "$r" link add r0 type veth peer name m-r netns "$m" &&
    ip -n "$m" link add m-j type veth peer name j0 netns "$j" &&
    ip -n "$r" addr add "$AR_NET3_ROOM_ADDR/24" dev r0 &&
    ip -n "$m" addr add "$AR_NET3_TURN_ADDR/24" dev m-r &&
    ip -n "$m" addr add "$AR_NET3_RELAY_ADDR/24" dev m-j &&
    ip -n "$j" addr add "$AR_NET3_MEET_ADDR/24" dev j0 &&
    ip -n "$r" link set r0 up && ip -n "$m" link set m-r up &&
    ip -n "$m" link set m-j up && ip -n "$j" link set j0 up &&
    ip -n "$r" route add default via "$AR_NET3_TURN_ADDR" &&
    ip -n "$j" route add default via "$AR_NET3_RELAY_ADDR"
  }; then
    echo "net3: cannot set up the namespaces" >&2
    return 1
  fi
  ar_net3_mode isolated || return 1
  printf '%s %s %s\n' "$r" "$m" "$j"
}

ar_net3_mode() {
  local m="$AR_NET3_MIDDLE" fwd=0 rules=""
  case "$1" in
    isolated) ;;
    direct) fwd=1 ;;
    udp-blocked)
      fwd=1
      rules='
  chain forward_filter { type filter hook forward priority 0; policy accept; meta l4proto udp counter drop; }
  chain input_filter { type filter hook input priority 0; policy accept; iifname "m-r" meta l4proto udp counter drop; }'
      ;;
    tcp443-only)
      rules="
  chain forward_filter { type filter hook forward priority 0; policy drop; }
  chain input_filter { type filter hook input priority 0; policy accept;
    iifname \"m-r\" ip daddr $AR_NET3_TURN_ADDR tcp dport 443 accept
    iifname \"m-r\" counter drop; }"
      ;;
    *) echo "net3: unknown mode $1" >&2; return 2 ;;
  esac
  ip netns exec "$m" sysctl -q -w net.ipv4.ip_forward=$fwd || return 1
  ip netns exec "$m" nft delete table inet arlab 2>/dev/null
  if [ -n "$rules" ]; then
    printf 'table inet arlab {%s\n}\n' "$rules" | ip netns exec "$m" nft -f - || {
      echo "net3: nft rules for $1 refused" >&2
      return 1
    }
  fi
}

ar_net3_delete() {
  local rc=0 ns
  for ns in "$AR_NET3_ROOM" "$AR_NET3_MIDDLE" "$AR_NET3_MEET"; do
    [ -n "$ns" ] && { ar_netns_delete "$ns" || rc=1; }
  done
  return $rc
}
