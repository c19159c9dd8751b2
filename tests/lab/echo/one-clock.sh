#!/usr/bin/env bash
# one-clock.sh OUTDIR [--delay-ms 60] [--attenuation-db 10] [-- WEBRTCDSP_PROPERTY=VALUE...]
# The echo canceller alone, with no device timing in the way (issue 14, docs/audio.md): the room
# is computed offline (sox: the far end delayed and attenuated; audioecho: the same two reflections
# as room.sh; mixed with the near end), then ONE gst-launch plays both files on the pipeline's
# clock, far.wav through webrtcechoprobe into a fakesink and the microphone through webrtcdsp into
# OUTDIR/out.wav. The reference and the microphone share a clock and their timestamps are exact:
# what is left is the canceller's own limit with those properties. A fixture, not the product:
# the engine's figures come from echo-lab.sh with build/tests/bench/echo-dut.
# --engine: the engine's own processing element instead of gst-launch's webrtcdsp (echo-dut in
# its one-clock mode, AR_ECHO_PROCESSING as echo-dut reads it, default "aec"; no PROPS).
# --root DIR: the canceller's gst-launch runs in that Debian root (tests/lab/debian-root.sh; OUTDIR
# bind-mounted at /echo in a mount namespace of its own): another release's webrtcdsp, e.g. Debian
# 13's on webrtc-audio-processing 1.x (AEC3), the device image's.
# Prints echo-metrics' JSON (OUTDIR/metrics.json). Runs in real time (30 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${1:?usage: one-clock.sh OUTDIR [--delay-ms N] [--attenuation-db N] [-- PROPS...]}
shift
delay_ms=60 att_db=10 engine=0 root=""
while [ $# -gt 0 ]; do
  case $1 in
  --engine) engine=1; shift ;;
  --root) root=$(realpath "$2"); shift 2 ;;
  --delay-ms) delay_ms=$2; shift 2 ;;
  --attenuation-db) att_db=$2; shift 2 ;;
  --) shift; break ;;
  *) echo "one-clock: unknown option $1" >&2; exit 2 ;;
  esac
done
metrics=${AR_BUILD_DIR:-$top/build}/tests/bench/echo-metrics
[ -x "$metrics" ] || { echo "one-clock: $metrics not built (ninja -C build)" >&2; exit 1; }
mkdir -p "$out"
out=$(realpath "$out")
[ -f "$out/far.wav" ] || "$here/make-speech.sh" "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SOX="sox -D -V1"
pad=$(awk -v d="$delay_ms" 'BEGIN { printf "%.3f", d / 1000 }')
$SOX "$out/far.wav" "$tmp/delayed.wav" pad "$pad" 0 vol "-${att_db}dB" trim 0 30
gst-launch-1.0 -q filesrc location="$tmp/delayed.wav" ! wavparse ! audioconvert \
  ! audio/x-raw,format=F32LE ! audioecho delay=17000000 intensity=0.35 feedback=0.3 \
  ! audioecho delay=41000000 intensity=0.2 feedback=0 max-delay=100000000 ! audioconvert \
  ! audio/x-raw,format=S16LE ! wavenc ! filesink location="$tmp/echo.wav"
$SOX -m -v 1 "$out/near.wav" -v 1 "$tmp/echo.wav" "$out/mic.wav"
cp "$out/far.wav" "$out/speaker.wav"
caps="audio/x-raw,format=S16LE,rate=48000,channels=1"
if [ "$engine" = 1 ]; then
  dut=${AR_BUILD_DIR:-$top/build}/tests/bench/echo-dut
  AR_ECHO_MIC_WAV="$out/mic.wav" AR_ECHO_FAR="$out/far.wav" AR_ECHO_OUT="$out/out.wav" \
    AR_ECHO_PROCESSING="${AR_ECHO_PROCESSING:-aec}" "$dut" >"$out/dut.log" 2>&1 ||
    { echo "one-clock: echo-dut failed ($out/dut.log)" >&2; exit 1; }
else
  # The canceller's pipeline as a script, the files under OUTDIR (/echo in a --root).
  if [ -n "$root" ]; then
    d=/echo
  else
    d=$out
  fi
  {
    printf 'gst-launch-1.0 -q filesrc location=%q ! wavparse ! audioconvert ! %q' "$d/mic.wav" "$caps"
    printf ' ! webrtcdsp probe=p noise-suppression=false gain-control=false'
    [ $# -eq 0 ] || printf ' %q' "$@"
    printf ' ! audioconvert ! %q ! wavenc ! filesink location=%q sync=true' "$caps" "$d/out.wav"
    printf ' filesrc location=%q ! wavparse ! audioconvert ! %q' "$d/far.wav" "$caps"
    printf ' ! webrtcechoprobe name=p ! fakesink sync=true\n'
  } >"$out/canceller.sh"
  if [ -n "$root" ]; then
    mkdir -p "$root/echo"
    # OUTDIR at /echo in the root; the mount goes with the mount namespace.
    unshare -m sh -c 'mount --bind "$1" "$2/echo" && exec chroot "$2" bash /echo/canceller.sh' \
      sh "$out" "$root"
  else
    bash "$out/canceller.sh"
  fi
fi
"$metrics" "$out" | tee "$out/metrics.json"
