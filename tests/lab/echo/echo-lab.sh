#!/usr/bin/env bash
# echo-lab.sh OUTDIR [--delay-ms 60] [--attenuation-db 10] [--reverb on|off] [--seconds 31]
#             -- DUT_COMMAND...
# The echo lab (issue 14, docs/audio.md): speech (make-speech.sh, reused if OUTDIR/far.wav is
# there), a private room (room.sh: pulseaudio + the echo path), then at the same moment the device
# under test and the near-end talker (near.wav played into room_air). The DUT gets:
#   PULSE_SERVER      the private pulseaudio (ALSA's `pulse` device uses it too)
#   AR_ECHO_MIC       the microphone: pulse source `room_air.monitor` (for alsasrc device=pulse,
#                     PULSE_SOURCE is set to it as well)
#   AR_ECHO_SPEAKER   the speaker: pulse sink `room_speaker` (PULSE_SINK too)
#   AR_ECHO_FAR       the far end to play on the speaker (OUTDIR/far.wav)
#   AR_ECHO_OUT       the WAV to write: the processed microphone, 48 kHz mono S16 (OUTDIR/out.wav)
#   AR_ECHO_SECONDS   how long to run; the DUT must end by itself (it gets INT 10 s later, KILL
#                     after 5 more)
# and ALSA devices on the room (~/.asoundrc in the room's own HOME, ALSA's pulse plugin):
# `ar_lab_mic` (room_air.monitor) and `ar_lab_room_speaker` (room_speaker), as a board's ALSA
# names would be (echo-dut: AR_ECHO_DUT_MIC=ar_lab_mic AR_ECHO_DUT_SPEAKER=ar_lab_room_speaker).
# The lab records what the speaker played and the raw microphone in one pipeline
# (OUTDIR/speaker.wav, OUTDIR/mic.wav: the same instant at sample 0), then runs echo-metrics
# (AR_BUILD_DIR, default ./build) and writes OUTDIR/metrics.json, and prints it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${1:?usage: echo-lab.sh OUTDIR [options] -- DUT_COMMAND...}
shift
room_opts=() seconds=31
while [ $# -gt 0 ]; do
  case $1 in
  --delay-ms | --attenuation-db | --reverb) room_opts+=("$1" "$2"); shift 2 ;;
  --seconds) seconds=$2; shift 2 ;;
  --) shift; break ;;
  *) echo "echo-lab: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "echo-lab: no DUT command after --" >&2; exit 2; }
metrics=${AR_BUILD_DIR:-$top/build}/tests/bench/echo-metrics
[ -x "$metrics" ] || { echo "echo-lab: $metrics not built (ninja -C build)" >&2; exit 1; }
mkdir -p "$out"
out=$(realpath "$out")
[ -f "$out/far.wav" ] || "$here/make-speech.sh" "$out"
rm -f "$out"/{out,mic,speaker,lab}.wav "$out/metrics.json"

pids=() room=""
stop_all() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "${room:-}" ] || rm -rf "$room"
}
trap stop_all EXIT
trap 'exit 1' INT TERM HUP

room=$(mktemp -d "${TMPDIR:-/tmp}/ar-echo-room.XXXXXX")
"$here/room.sh" "$room" "${room_opts[@]}" 2>"$out/room.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$room/room.env" ] && break; sleep 0.05; done
[ -f "$room/room.env" ] || { echo "echo-lab: the room did not start ($out/room.log)" >&2; exit 1; }
export HOME=$room/home XDG_RUNTIME_DIR=$room/pulse PULSE_RUNTIME_PATH=$room/pulse
export PULSE_SERVER=unix:$room/pulse/native
export AR_ECHO_MIC=room_air.monitor AR_ECHO_SPEAKER=room_speaker PULSE_SOURCE=room_air.monitor
export PULSE_SINK=room_speaker AR_ECHO_FAR=$out/far.wav AR_ECHO_OUT=$out/out.wav
export AR_ECHO_SECONDS=$seconds

# The reference: speaker (channel 1) and raw microphone (channel 2). `interleave` pairs buffers as
# they come (audiointerleave stalled here): the two may be off by some periods (docs/audio.md).
# 200 ms buffers (AR_ECHO_REC_BUFFER_US): with 20 ms each source dropped 30-130 ms at a time on
# its own beside a CI run, moving one channel against the other for the rest of the recording.
# ALSA's pulse plugin, not pulsesrc: a pulsesrc on PipeWire's pulse server sometimes delivers two
# buffers and then nothing, and the recording never ends (docs/audio.md). Two ALSA devices on the
# room's monitors, in the room's own HOME (~/.asoundrc), never the user's.
cat >"$room/home/.asoundrc" <<'ASOUND'
pcm.ar_lab_speaker { type pulse device "room_speaker.monitor" }
pcm.ar_lab_mic { type pulse device "room_air.monitor" }
pcm.ar_lab_room_speaker { type pulse device "room_speaker" }
ASOUND
src="buffer-time=${AR_ECHO_REC_BUFFER_US:-200000} latency-time=10000 ! audio/x-raw,format=S16LE,rate=48000,channels=1"
gst-launch-1.0 -e -q interleave name=i ! audio/x-raw,channels=2 ! wavenc \
  ! filesink location="$out/lab.wav" \
  alsasrc device=ar_lab_speaker $src ! queue ! i.sink_0 \
  alsasrc device=ar_lab_mic $src ! queue ! i.sink_1 \
  2>"$out/rec.log" &
rec=$!
pids+=($rec)
sleep 1
gst-launch-1.0 -q filesrc location="$out/near.wav" ! wavparse \
  ! pulsesink device=room_air client-name=near-talker buffer-time=20000 latency-time=10000 \
  2>"$out/near.log" &
pids+=($!)
set +e
timeout -s INT -k 5 $((seconds + 10)) "$@" >"$out/dut.log" 2>&1
rc=$?
set -e
sleep 0.5
kill -INT "$rec"
# Bounded: a recorder that does not end is a failed run, not a hung bench.
for _ in $(seq 100); do kill -0 "$rec" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$rec" 2>/dev/null; then
  echo "echo-lab: the recorder did not end within 10 s ($out/rec.log)" >&2
  exit 1
fi
wait "$rec" || true
[ "$rc" -eq 0 ] || { echo "echo-lab: the DUT failed ($rc; $out/dut.log)" >&2; exit 1; }
sox -V1 "$out/lab.wav" "$out/speaker.wav" remix 1
sox -V1 "$out/lab.wav" "$out/mic.wav" remix 2
rm -f "$out/lab.wav"
"$metrics" "$out" | tee "$out/metrics.json"
