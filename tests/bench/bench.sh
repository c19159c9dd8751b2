#!/usr/bin/env bash
# Anyroom benchmarks (./build.sh bench), printed as a table:
#   tests/bench/bench.sh BUILD_DIR
# Inside a private network namespace (tests/lab/in-netns.sh): Janus, anyroomd
# and a Chromium participant. 10 join/leave runs (join time to anyroomd's first
# remote frame and to the participant's first decoded room frame), then one 30 s
# two-way 720p30 call (anyroomd CPU and RSS). See tests/bench/bench.mjs.
# Then the network part (tests/bench/bench-net.mjs, three-namespace lab): join
# via TURN/TCP and TURN/TLS, recovery after a 3 s blackout, freezes and frame
# rate at 5 % and 10 % loss.
# Environment: AR_BENCH_RUNS (10), AR_BENCH_CALL_S (30), AR_BENCH_NET=0 (skip the
# network part), AR_BENCH_NET_RUNS (10), AR_BENCH_NET_BLACKOUTS (5), AR_BENCH_LOSS_S (60).
# AR_BENCH_IMAGE=0 skips the device image figures (tests/bench/image-bench.py),
# AR_BENCH_IMAGE_COLD=0 only its cold build.
# Then the web engine against the native engine (tests/bench/bench-web.mjs, ~4 min):
# link -> in call, CPU and memory of the whole process tree, frames the far end
# decodes. AR_BENCH_WEB=0 skips it; `tests/bench/bench.sh BUILD_DIR web` (or
# `./build.sh bench web`) runs only it. AR_BENCH_WEB_RUNS (10), AR_BENCH_WEB_CALL_S (20),
# AR_BENCH_WEB_CAPTURE (e.g. 1920x1080@30: the capture's [media] size; default 720p30).
# Then WHIP and WHEP (tests/bench/bench-whip.mjs, ~1 min): link -> connected and -> first frame
# both ways against the lab's Chromium endpoint. AR_BENCH_WHIP=0 skips it; `./build.sh bench
# whip` runs only it. AR_BENCH_WHIP_RUNS (10).
# Then room-to-room calls (tests/bench/bench-room-call.mjs, ~1 min, three-namespace lab): call
# link -> connected and -> media both ways. AR_BENCH_ROOM_CALL=0 skips it; `./build.sh bench
# room-call` runs only it. AR_BENCH_ROOM_CALL_RUNS (10).
# The calendar (tests/bench/cal-bench.c, a few seconds, no network): a 5,000-event calendar
# with 200 recurring series parsed and expanded over 30 days, median time and peak memory.
# `./build.sh bench calendar` runs only it. AR_BENCH_CAL_RUNS (7).
# The update channel (tests/bench/channel-bench.c, a few seconds, no network): a signed manifest
# checked (signature, parse, checks) and 10,000 rollout decisions, medians.
# `./build.sh bench channel` runs only it. AR_BENCH_CHANNEL_RUNS (200).
# Media efficiency (tests/bench/bench-media.mjs, ~5 min): the same 720p30 Janus call by anyroomd
# and by a Chromium room, one after the other, each with its own test camera and then both
# reading the same clip: CPU and memory side by side, their ratio, what the far end receives.
# `./build.sh bench media` runs only it. AR_BENCH_MEDIA_S (30), AR_BENCH_MEDIA_CLIP_FRAMES (60),
# AR_BENCH_MEDIA_FILES (8: how many of anyroomd's files with resident pages are listed).
# Glass-to-glass latency (tests/bench/bench-latency.mjs, ~1.5 min): time-stamped pictures both
# ways between anyroomd and Chromium, and Chromium to Chromium as the reference.
# `./build.sh bench latency` runs only it. AR_BENCH_LATENCY_S (20).
# Loss resilience (tests/bench/bench-loss.mjs, ~3 min): anyroomd and a Chromium receiving the same
# sender at the same time at 0, 5 and 10 % random loss: frame rates side by side, freezes.
# `./build.sh bench loss` runs only it. AR_BENCH_LOSS_S (60).
# Bandwidth adaptation (tests/integration/test-bandwidth.mjs, ~2 min, three-namespace lab): a
# token bucket caps the room's uplink at 1 Mbit/s, then 300 kbit/s, then lifts: what the room
# sends, its picture, the far end's freezes, the time back to full quality; a plot of the sent
# bitrate in BUILD/meson-logs/lab/bandwidth. `./build.sh bench bandwidth` runs only it.
# AR_BW_CAP_S (30), AR_BW_LIFT_S (20), AR_BW_LOAD_S (20: a last phase without a cap and a busy
# loop per core beside the call; 0 leaves it out). Then the same lab with Chromium as the room
# (the reference, ~2 min; AR_BW_ROOMS=anyroomd leaves it out).
# /metrics (tests/integration/test-metrics.mjs with AR_BENCH_METRICS_S, ~1.5 min): 10 scrapes a
# second in a real Janus call, latency and anyroomd's CPU with and without them.
# `./build.sh bench metrics` runs only it. AR_BENCH_METRICS_S (30).
# Echo cancellation (tests/bench/bench-echo.mjs, ~6 min, the echo lab: tests/lab/echo; the first
# time also ~2 min for a cached Debian 13 root): the canceller alone on one clock (control and the
# engine's settings; Debian 12's AEC2 and Debian 13's AEC3), then the engine in the lab's
# PipeWire room (control and AR_BENCH_ECHO_RUNS runs, 3): ERLE, residual echo, the near end kept
# in double talk. `./build.sh bench echo` runs only it; outputs in BUILD/bench-echo.
# Exit 0 whenever it ran: timings never fail it; 1 if it could not run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB="$(cd "$HERE/../lab" && pwd)"
[ $# -ge 1 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
BUILD="$(cd "$1" && pwd)"
# The room's calendar (issue 13): parse + expand time and memory (cal-bench.c).
bench_calendar() {
  local cmd="$BUILD/firmware/calendar/cal-bench --runs ${AR_BENCH_CAL_RUNS:-7}"
  [ -x "$BUILD/firmware/calendar/cal-bench" ] || { echo "bench: cal-bench is not built" >&2; return 1; }
  echo "== calendar: $cmd (\"calendar\" runs only it)"
  $cmd
}
if [ "${2:-}" = calendar ]; then
  bench_calendar
  exit $?
fi
# Update channels (issue 15, part 2): manifest check and rollout decision time (channel-bench.c).
bench_channel() {
  local top cmd
  top="$(cd "$HERE/../.." && pwd)"
  cmd="$BUILD/firmware/update/channel-bench --source $top --runs ${AR_BENCH_CHANNEL_RUNS:-200}"
  [ -x "$BUILD/firmware/update/channel-bench" ] || { echo "bench: channel-bench is not built" >&2; return 1; }
  echo "== update channel: $cmd (\"channel\" runs only it)"
  $cmd
}
if [ "${2:-}" = channel ]; then
  bench_channel
  exit $?
fi
for b in anyroomd anyroomctl; do
  [ -x "$BUILD/firmware/$b" ] || { echo "bench: $BUILD/firmware/$b is not built (./build.sh build)" >&2; exit 1; }
done
[ -d "$LAB/node_modules/playwright-core" ] || { echo "bench: playwright-core missing (./build.sh deps)" >&2; exit 1; }
export AR_BUILD_DIR="$BUILD" AR_SOURCE_DIR="$(cd "$HERE/../.." && pwd)"
WEB_CMDLINE="${AR_BENCH_WEB_CAPTURE:+AR_BENCH_WEB_CAPTURE=$AR_BENCH_WEB_CAPTURE }${AR_BENCH_WEB_RUNS:+AR_BENCH_WEB_RUNS=$AR_BENCH_WEB_RUNS }${AR_BENCH_WEB_CALL_S:+AR_BENCH_WEB_CALL_S=$AR_BENCH_WEB_CALL_S }$0 $*"
# The web engine (issue 11): see bench-web.mjs.
bench_web() {
  echo "== web engine: $WEB_CMDLINE (AR_BENCH_WEB=0 skips it; \"web\" runs only it)"
  AR_BENCH_CMDLINE="$WEB_CMDLINE" "$LAB/in-netns.sh" node "$HERE/bench-web.mjs"
}
# WHIP and WHEP (issue 12): link -> connected and -> first frame, both ways (bench-whip.mjs).
WHIP_CMDLINE="${AR_BENCH_WHIP_RUNS:+AR_BENCH_WHIP_RUNS=$AR_BENCH_WHIP_RUNS }$0 $*"
bench_whip() {
  echo "== WHIP and WHEP: $WHIP_CMDLINE (AR_BENCH_WHIP=0 skips it; \"whip\" runs only it)"
  AR_BENCH_CMDLINE="$WHIP_CMDLINE" "$LAB/in-netns.sh" node "$HERE/bench-whip.mjs"
}
# Room-to-room calls (issue 12): see bench-room-call.mjs.
ROOM_CALL_CMDLINE="${AR_BENCH_ROOM_CALL_RUNS:+AR_BENCH_ROOM_CALL_RUNS=$AR_BENCH_ROOM_CALL_RUNS }$0 $*"
bench_room_call() {
  echo "== room-to-room calls: $ROOM_CALL_CMDLINE (AR_BENCH_ROOM_CALL=0 skips it; \"room-call\" runs only it)"
  AR_BENCH_CMDLINE="$ROOM_CALL_CMDLINE" "$HERE/../integration/run-in-net-lab.sh" --plain "$HERE/bench-room-call.mjs"
}
# Media efficiency (issue 14): anyroomd and a Chromium room in the same call (bench-media.mjs).
MEDIA_CMDLINE="${AR_BENCH_MEDIA_S:+AR_BENCH_MEDIA_S=$AR_BENCH_MEDIA_S }$0 $*"
bench_media() {
  echo "== media efficiency: $MEDIA_CMDLINE (AR_BENCH_MEDIA=0 skips it; \"media\" runs only it)"
  AR_BENCH_CMDLINE="$MEDIA_CMDLINE" "$LAB/in-netns.sh" node "$HERE/bench-media.mjs"
}
# Glass-to-glass latency (issue 14): stamped pictures both ways, and Chromium to Chromium.
LATENCY_CMDLINE="${AR_BENCH_LATENCY_S:+AR_BENCH_LATENCY_S=$AR_BENCH_LATENCY_S }$0 $*"
bench_latency() {
  echo "== glass-to-glass latency: $LATENCY_CMDLINE (AR_BENCH_LATENCY=0 skips it; \"latency\" runs only it)"
  AR_BENCH_CMDLINE="$LATENCY_CMDLINE" "$LAB/in-netns.sh" node "$HERE/bench-latency.mjs"
}
# /metrics (issue 15): 10 scrapes a second for AR_BENCH_METRICS_S (30) in a real Janus call
# (the metrics integration test's lab and call, tests/integration/test-metrics.mjs).
METRICS_CMDLINE="AR_BENCH_METRICS_S=${AR_BENCH_METRICS_S:-30} $0 $*"
bench_metrics() {
  echo "== /metrics: $METRICS_CMDLINE (AR_BENCH_METRICS=0 skips it; \"metrics\" runs only it)"
  echo "command: $METRICS_CMDLINE; machine: $(nproc) cores"
  echo
  echo "| scrapes | latency p50 (ms) | p95 (ms) | max (ms) | anyroomd CPU in the call without them (% of a core) | with them | anyroomd CPU per scrape (ms) |"
  echo "|---|---|---|---|---|---|---|"
  AR_BENCH_METRICS_S="${AR_BENCH_METRICS_S:-30}" "$HERE/../integration/run-in-lab.sh" \
    "$HERE/../integration/test-metrics.mjs" | sed -n 's/^# BENCH//p'
}
# Bandwidth adaptation (issue 14): the integration test's lab with longer phases, as a table.
BANDWIDTH_CMDLINE="${AR_BW_ROOMS:+AR_BW_ROOMS='$AR_BW_ROOMS' }AR_BW_CAP_S=${AR_BW_CAP_S:-30} AR_BW_LOAD_S=${AR_BW_LOAD_S:-20} ${AR_BW_LIFT_S:+AR_BW_LIFT_S=$AR_BW_LIFT_S }$0 $*"
# AR_BW_ROOMS ("anyroomd chromium"): anyroomd as the room, then Chromium as the room (the
# reference, without the loaded phase), one after the other.
bench_bandwidth() {
  local rooms=${AR_BW_ROOMS:-anyroomd chromium} r n=0
  echo "== bandwidth adaptation: $BANDWIDTH_CMDLINE (AR_BENCH_BANDWIDTH=0 skips it; \"bandwidth\" runs only it; rooms: $rooms)"
  for r in $rooms; do n=$((n + 1)); done
  for r in $rooms; do
    AR_BW_ROOM=$r AR_BW_CAP_S="${AR_BW_CAP_S:-30}" AR_BW_LOAD_S="$([ "$r" = anyroomd ] && echo "${AR_BW_LOAD_S:-20}" || echo 0)" \
      "$HERE/../integration/run-in-net-lab.sh" "$HERE/../integration/test-bandwidth.mjs"
  done | AR_BENCH_BANDWIDTH_RUNS=$n AR_BENCH_CMDLINE="$BANDWIDTH_CMDLINE" node "$HERE/bench-bandwidth.mjs"
}
# Loss resilience (issue 14): anyroomd and Chromium receiving the same sender (bench-loss.mjs).
LOSS_CMDLINE="${AR_BENCH_LOSS_S:+AR_BENCH_LOSS_S=$AR_BENCH_LOSS_S }$0 $*"
bench_loss() {
  echo "== loss resilience: $LOSS_CMDLINE (AR_BENCH_LOSS=0 skips it; \"loss\" runs only it)"
  AR_BENCH_CMDLINE="$LOSS_CMDLINE" "$LAB/in-netns.sh" node "$HERE/bench-loss.mjs"
}
# Echo cancellation (issue 14, part 1): the canceller alone and the engine in the echo lab.
ECHO_CMDLINE="${AR_BENCH_ECHO_RUNS:+AR_BENCH_ECHO_RUNS=$AR_BENCH_ECHO_RUNS }./build.sh bench echo"
bench_echo() {
  echo "== echo cancellation: $ECHO_CMDLINE (AR_BENCH_ECHO=0 skips it; \"echo\" runs only it)"
  [ -x "$BUILD/tests/bench/echo-dut" ] || { echo "bench: echo-dut is not built" >&2; return 1; }
  AR_BENCH_CMDLINE="$ECHO_CMDLINE" node "$HERE/bench-echo.mjs" "$BUILD" "$BUILD/bench-echo"
}
if [ "${2:-}" = echo ]; then
  bench_echo
  exit $?
fi
if [ "${2:-}" = bandwidth ]; then
  bench_bandwidth
  exit $?
fi
if [ "${2:-}" = metrics ]; then
  bench_metrics
  exit $?
fi
if [ "${2:-}" = loss ]; then
  bench_loss
  exit $?
fi
if [ "${2:-}" = latency ]; then
  bench_latency
  exit $?
fi
if [ "${2:-}" = media ]; then
  bench_media
  exit $?
fi
if [ "${2:-}" = room-call ]; then
  bench_room_call
  exit $?
fi
if [ "${2:-}" = web ]; then
  bench_web
  exit $?
fi
if [ "${2:-}" = whip ]; then
  bench_whip
  exit $?
fi
export AR_BENCH_CMDLINE="${AR_BENCH_CMDLINE:-${AR_BENCH_RUNS:+AR_BENCH_RUNS=$AR_BENCH_RUNS }${AR_BENCH_CALL_S:+AR_BENCH_CALL_S=$AR_BENCH_CALL_S }$0 $*}"
# Meeting links (no network): links parsed and invitations scanned per second.
if [ -x "$BUILD/firmware/links/links-bench" ]; then
  echo "== meeting links: $BUILD/firmware/links/links-bench"
  "$BUILD/firmware/links/links-bench"
  echo
fi
bench_calendar || echo "bench: the calendar benchmark did not complete" >&2
bench_channel || echo "bench: the update channel benchmark did not complete" >&2
echo
# The device image (root only; ~10 min): build cold/cached, bundle, boot and install in qemu.
if [ "${AR_BENCH_IMAGE:-1}" = 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    python3 "$HERE/image-bench.py" "$BUILD" || echo "bench: the image benchmark did not complete" >&2
  else
    echo "== device image: not measured (needs root for mmdebstrap)"
  fi
  echo
fi
echo "== calls: $0 $*"
rc=0
"$LAB/in-netns.sh" node "$HERE/bench.mjs" || rc=1
# The HTTPS admin API (issue 4): status, config reads and validated writes,
# logs, camera preview, device list; one TLS connection per request.
echo
echo "== admin API: tests/lab/in-netns.sh node tests/bench/bench-admin.mjs"
"$LAB/in-netns.sh" node "$HERE/bench-admin.mjs" || rc=1
# Network (issue 5): TURN/TCP and TURN/TLS join times, recovery after a 3 s
# blackout, freezes and frame rate at 5 % and 10 % loss; three-namespace lab.
if [ "${AR_BENCH_NET:-1}" != 0 ]; then
  echo
  echo "== network: $0 $* (AR_BENCH_NET=0 skips it)"
  "$HERE/../integration/run-in-net-lab.sh" --plain "$HERE/bench-net.mjs" || rc=1
fi
if [ "${AR_BENCH_WEB:-1}" != 0 ]; then
  echo
  bench_web || rc=1
fi
if [ "${AR_BENCH_WHIP:-1}" != 0 ]; then
  echo
  bench_whip || rc=1
fi
if [ "${AR_BENCH_LOSS:-1}" != 0 ]; then
  echo
  bench_loss || rc=1
fi
if [ "${AR_BENCH_BANDWIDTH:-1}" != 0 ]; then
  echo
  bench_bandwidth || rc=1
fi
if [ "${AR_BENCH_LATENCY:-1}" != 0 ]; then
  echo
  bench_latency || rc=1
fi
if [ "${AR_BENCH_ECHO:-1}" != 0 ]; then
  echo
  bench_echo || rc=1
fi
if [ "${AR_BENCH_METRICS:-1}" != 0 ]; then
  echo
  bench_metrics || rc=1
fi
if [ "${AR_BENCH_MEDIA:-1}" != 0 ]; then
  echo
  bench_media || rc=1
fi
if [ "${AR_BENCH_ROOM_CALL:-1}" != 0 ]; then
  echo
  bench_room_call || rc=1
fi
exit $rc
