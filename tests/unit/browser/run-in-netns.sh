#!/bin/bash
# Runs a test in a network namespace of its own (a loopback only, up), which
# the test may change (add interfaces and addresses): AR_TEST_OWN_NETNS=1.
# The namespace goes with the run, whatever its end.
set -euo pipefail
ns="arbrowser-$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns exec "$ns" ip link set lo up
AR_TEST_OWN_NETNS=1 ip netns exec "$ns" "$@"
