#!/usr/bin/env bash
# Run one node integration test (node:test, TAP on stdout) inside a private
# network namespace of the test lab:
#   tests/integration/run-in-lab.sh tests/integration/test-janus-join.mjs
# Missing prerequisites are a failure with the reason ("Bail out!"), not a
# skip: ./build.sh deps installs all of them.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB="$(cd "$HERE/../lab" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 TEST.mjs [ARGS...]" >&2; exit 2; }

bail() { echo "TAP version 13"; echo "Bail out! $*"; exit 1; }
[ "$(id -u)" = 0 ] || bail "integration tests need root for network namespaces"
command -v node >/dev/null || bail "node is missing (./build.sh deps)"
command -v janus >/dev/null || bail "janus is missing (./build.sh deps)"
[ -x "${AR_CHROMIUM:-/usr/bin/chromium}" ] || bail "chromium is missing (./build.sh deps)"
[ -d "$LAB/node_modules/playwright-core" ] || bail "playwright-core is missing in tests/lab/node_modules (./build.sh deps)"

exec "$LAB/in-netns.sh" node --test --test-reporter=tap "$@"
