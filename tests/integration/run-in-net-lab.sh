#!/usr/bin/env bash
# Run one node integration test (node:test, TAP) in the three-namespace TURN
# lab (tests/lab/net3.sh): the test process runs in the meeting namespace
# (Janus and Chromium start there as in the one-namespace lab); it starts
# anyroomd in the room namespace and coturn in the middle one itself.
#   tests/integration/run-in-net-lab.sh tests/integration/test-net-turn.mjs
#   tests/integration/run-in-net-lab.sh --plain tests/bench/bench-net.mjs   (not node:test)
# Exports AR_NET3_ROOM/MIDDLE/MEET (names), AR_NET3_*_ADDR and AR_NET3_SH
# (source it and call ar_net3_mode MODE to switch the rules). The namespaces
# and everything left in them go away on exit, Ctrl-C or SIGTERM.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB="$(cd "$HERE/../lab" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 TEST.mjs [ARGS...]" >&2; exit 2; }

bail() { echo "TAP version 13"; echo "Bail out! $*"; exit 1; }
[ "$(id -u)" = 0 ] || bail "integration tests need root for network namespaces"
command -v node >/dev/null || bail "node is missing (./build.sh deps)"
command -v janus >/dev/null || bail "janus is missing (./build.sh deps)"
command -v turnserver >/dev/null || bail "coturn (turnserver) is missing (./build.sh deps)"
command -v nft >/dev/null || bail "nftables (nft) is missing (./build.sh deps)"
command -v openssl >/dev/null || bail "openssl is missing (./build.sh deps)"
[ -x "${AR_CHROMIUM:-/usr/bin/chromium}" ] || bail "chromium is missing (./build.sh deps)"
[ -d "$LAB/node_modules/playwright-core" ] || bail "playwright-core is missing in tests/lab/node_modules (./build.sh deps)"

# shellcheck source=../lab/net3.sh
. "$LAB/net3.sh"
CHILD=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.25; done
  fi
  ar_net3_delete
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ar_net3_create >/dev/null || bail "cannot create the lab namespaces"
export AR_NET3_ROOM AR_NET3_MIDDLE AR_NET3_MEET AR_NET3_ROOM_ADDR AR_NET3_TURN_ADDR \
  AR_NET3_RELAY_ADDR AR_NET3_MEET_ADDR
export AR_NET3_SH="$LAB/net3.sh"
# The one-namespace helpers look at these.
export AR_NETNS="$AR_NET3_MEET" AR_NETNS_ADDR1="$AR_NET3_MEET_ADDR"

if [ "$1" = --plain ]; then
  # A plain node script (the network benchmarks), not a node:test file.
  shift
  ip netns exec "$AR_NET3_MEET" node "$@" <&0 &
else
  ip netns exec "$AR_NET3_MEET" node --test --test-reporter=tap "$@" <&0 &
fi
CHILD=$!
wait "$CHILD"
rc=$?
CHILD=""
exit "$rc"
