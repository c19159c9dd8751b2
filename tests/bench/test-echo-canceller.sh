#!/usr/bin/env bash
# test-echo-canceller.sh BUILD_DIR: the room's echo canceller removes echo and keeps the near end
# (issue 14, part 1), TAP. Two parts, each with a control (the same run without processing) that
# proves the lab put echo into the microphone:
#   - the canceller alone: the capture graph's own processing element
#     (ar_capture_make_processing_element, through echo-dut's one-clock mode) on the echo lab's
#     speech (espeak-ng), the room computed offline (60 ms, 10 dB, two reflections) and played on
#     one clock (tests/lab/echo/one-clock.sh --engine);
#   - the engine in the room: anyroomd's capture graph (echo-dut) on real sound devices, ALSA's
#     pulse plugin on the echo lab's private PipeWire (tests/lab/echo/echo-lab.sh), where the room's
#     60 ms and the devices' buffering reach the canceller as a delay no latency query reports:
#     the engine must measure it (ar-echo-delay.c) and cancel.
# Thresholds are margins, not targets: measured 2026-12-04, one clock 32.8 dB of ERLE (control
# 0.0); in the room 129 dB (the far end fully removed; control 0.0), the delay measured 66-76 ms,
# the near end alone unchanged, in double talk correlation 0.77-0.83 and the near voice within
# 5-6.5 dB (docs/audio.md).
set -uo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
echo_dir="$here/../lab/echo"
echo "TAP version 13"
for t in espeak-ng sox gst-launch-1.0; do
  command -v "$t" >/dev/null || { echo "Bail out! $t is missing (./build.sh deps)"; exit 1; }
done
tmp=$(mktemp -d /tmp/ar-echo-test.XXXXXX)
# The system suite's image build, which ./build.sh test runs in the background while the other
# suites run (BUILD/system-test/prepare.pid, its own process group), is stopped while this test
# runs and continued when it ends, however it ends. Its kernel work (writing a 1.6 GB root
# filesystem: 45 % of both CPUs in the kernel, on this machine's PREEMPT_NONE kernel) stalls every
# process for a while, real-time ones too; the lab's room then misses cycles, the speaker's alsasink
# corrects its clock by 20 ms a time, and the echo moves against the microphone's timestamps:
# 8 of 15 room runs beside it moved, none of 5 with it stopped (2026-12-06, docs/audio.md). Only a
# process group whose leader runs test-qemu.py (the pid file may be stale, its number reused).
prep=""
if [ -r "$build/system-test/prepare.pid" ]; then
  p=$(cat "$build/system-test/prepare.pid" 2>/dev/null)
  if [[ "$p" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'test-qemu.py' &&
    [ "$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')" = "$p" ]; then
    prep=$p
  fi
fi
cleanup() {
  [ -z "$prep" ] || kill -CONT -- "-$prep" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
if [ -n "$prep" ] && kill -STOP -- "-$prep" 2>/dev/null; then
  echo "# the system suite's image build (process group $prep) stopped while the echo lab runs"
fi
"$echo_dir/make-speech.sh" "$tmp/speech" >"$tmp/speech.log" 2>&1 ||
  { echo "Bail out! make-speech.sh failed: $(tail -1 "$tmp/speech.log")"; exit 1; }
for run in aec off; do
  mkdir -p "$tmp/$run"
  cp "$tmp/speech/"{far.wav,near.wav,timeline.json} "$tmp/$run/"
done
# The engine in the room: echo-lab.sh with echo-dut on ALSA devices (each lab starts its own
# PipeWire). $1: the run's name, $2: processing.
room() {
  mkdir -p "$tmp/$1"
  cp "$tmp/speech/"{far.wav,near.wav,timeline.json} "$tmp/$1/"
  AR_BUILD_DIR="$build" AR_ECHO_PROCESSING=$2 AR_ECHO_DUT_MIC=ar_lab_mic \
    AR_ECHO_DUT_SPEAKER=ar_lab_room_speaker G_MESSAGES_DEBUG=armedia \
    "$echo_dir/echo-lab.sh" "$tmp/$1" -- "$build/tests/bench/echo-dut" >"$tmp/$1.log" 2>&1
}
# The one-clock pair and the room's control at once (each in real time, 30 s, on its own
# clock), then the engine with echo cancellation in the room alone.
AR_BUILD_DIR="$build" AR_ECHO_PROCESSING=aec "$echo_dir/one-clock.sh" "$tmp/aec" --engine >"$tmp/aec.log" 2>&1 &
aec=$!
AR_BUILD_DIR="$build" AR_ECHO_PROCESSING=off "$echo_dir/one-clock.sh" "$tmp/off" --engine >"$tmp/off.log" 2>&1 &
off=$!
room room-off off
room_off_rc=$?
wait "$aec"
aec_rc=$?
wait "$off"
off_rc=$?
[ "$aec_rc" -eq 0 ] && [ "$off_rc" -eq 0 ] || {
  echo "Bail out! one-clock.sh failed (aec $aec_rc, off $off_rc): $(tail -2 "$tmp/aec.log" "$tmp/off.log" | tr '\n' ' ')"
  exit 1
}
room room-aec aec
room_aec_rc=$?
for run in room-off room-aec; do
  rc=room_${run#room-}_rc
  [ "${!rc}" -eq 0 ] || {
    echo "Bail out! echo-lab.sh ($run) failed: $(tail -2 "$tmp/$run.log" | tr '\n' ' ')"
    exit 1
  }
done
# Every delay the engine took in the room run. The echo in the lab's room moves by 20-40 ms
# against the microphone's timestamps mid-run, on a quiet machine too (2026-12-05: in all but one
# of 10 runs). Seen with GST_DEBUG=audiobasesink:4: the speaker's alsasink corrects 20 ms of clock
# skew every 1-2.5 s (ALSA's pulse plugin on the lab's PipeWire drifts about 1 % against the
# pipeline's clock), each correction moving what plays against the timestamps; with the engine's
# own shift switched off too, and on pulse: devices as well (one move). The engine follows, but a
# run can end before the canceller has reconverged (ERLE 1.6-28 dB in such runs; 50-130 dB in
# runs that ended settled), or the estimates lose it and the engine keeps its delay (ERLE 1.5 dB).
# So the room's ERLE is judged only in a run whose echo stayed where the engine first measured it
# (below); in another it is printed and the step says why it was not judged (a TAP SKIP, never a
# pass). docs/audio.md. Found 2026-12-06: in CI the moves came from the image build beside this
# test (stopped now while it runs, above); the rule stays for what else may move a room's echo.
delays=$(sed -n 's/.*the echo comes \([0-9-]*\) ms after.*/\1/p' "$tmp/room-aec/dut.log" | paste -sd' ')
# The first delay the engine measured (later changes follow the devices: seen in CI, an echo
# that moved from 73 to 33 ms mid-run on a loaded machine, followed, with ERLE 76 dB).
delay=${delays%% *}
# What the engine measured, for whoever reads a failure: each change of the delay in use, and the
# estimates (ar-echo-delay.c's debug lines) that were not skipped for a silent far end.
sed -n 's/.*\(the echo comes .*\)/# engine: \1/p' "$tmp/room-aec/dut.log"
estimates=$(grep -o 'echo delay estimate: [0-9.]* ms, correlation [0-9.]*' "$tmp/room-aec/dut.log" |
  sed 's/^echo delay estimate: //; s/ ms, correlation /:/' | paste -sd' ')
printf '%s\n' "$estimates" | fold -w 90 | sed 's/^/# estimates (ms:correlation): /'
# The estimates made before the engine took its first delay (the lines before its first "the echo
# comes" line): where the lab's echo was while the engine measured it.
early=$(sed -n '1,/the echo comes/p' "$tmp/room-aec/dut.log" |
  grep -o 'echo delay estimate: [0-9.]* ms, correlation [0-9.]*' |
  sed 's/^echo delay estimate: //; s/ ms, correlation /:/' | paste -sd' ')
python3 - "$tmp/aec/metrics.json" "$tmp/off/metrics.json" "$tmp/room-aec/metrics.json" \
  "$tmp/room-off/metrics.json" "${delay:-none}" "${delays:-}" "${estimates:-}" "${early:-}" <<'PY'
import json, sys
aec, off, room, room_off = (json.load(open(p)) for p in sys.argv[1:5])
delay = sys.argv[5]
moves = sys.argv[6].split()
# The echo stayed where the engine measured it: one delay taken, and the last five estimates (the
# last far-only segment, the one ERLE is measured on) confident (correlation 0.5 or more) and
# within 3 ms of it. A move the engine could not confirm shows there as estimates that lost it.
est = [tuple(map(float, e.split(":"))) for e in sys.argv[7].split() if e.count(":") == 1]
settled = (len(moves) == 1 and len(est) >= 5 and
           all(c >= 0.5 and abs(ms - float(moves[0])) <= 3 for ms, c in est[-5:]))
keys = ("erle_db", "erle_first_db", "residual_dbfs", "near_kept_db", "double_talk_corr",
        "double_talk_near_kept_db")
print("# one clock, processing on:  " + ", ".join(f"{k} {aec[k]}" for k in keys))
print("# one clock, control (off):  " + ", ".join(f"{k} {off[k]}" for k in keys))
print("# in the room, processing on:  " + ", ".join(f"{k} {room[k]}" for k in keys))
print("# in the room, control (off):  " + ", ".join(f"{k} {room_off[k]}" for k in keys))
print(f"# in the room, the echo's delay as the engine first measured it: {delay} ms")
checks = []
# In the room the bar is higher: without the measured delay the engine cancelled 14-21 dB there.
for where, on, ctl, least in (("one clock", aec, off, 15), ("the engine in the room", room, room_off, 30)):
    name = f"{where}: echo reduced by a clear margin: ERLE at least {least} dB, 12 dB over the control"
    judged = on is aec or settled
    checks += [
        (f"{where}: the lab puts echo into the microphone (control: ERLE under 3 dB)",
         ctl["erle_db"] < 3),
        (name if judged else
         f"{name} # SKIP not judged: the lab's echo moved in this run (the engine took "
         f"{' -> '.join(moves) or 'no'} ms; last estimates "
         f"{' '.join(f'{ms:g}:{c:g}' for ms, c in est[-5:])}; ERLE {on['erle_db']} dB), see docs/audio.md",
         on["erle_db"] >= least and on["erle_db"] >= ctl["erle_db"] + 12 if judged else True),
        (f"{where}: the near end alone is kept (within 3 dB)", on["near_kept_db"] >= -3),
        (f"{where}: in double talk the near end survives (correlation 0.6 or more, level within 15 dB)",
         on["double_talk_corr"] >= 0.6 and on["double_talk_near_kept_db"] >= -15),
    ]
# The first measurement: the room's 60 ms and the devices' buffering. Later ones are printed
# above, not asserted: a glitch of the sound devices (an underrun on a loaded machine) moves the
# echo against the timestamps, and following it is right (the ERLE above is what must hold).
# Judged unless the lab's echo moved before that first measurement: a confident estimate (0.5 or
# more) more than 10 ms away from it, and the echo then where the engine measured it (3 of the 5
# estimates after it confident and within 3 ms: a wrong measurement is still a failure). Seen in
# CI, 2026-12-06: estimates at 75 ms, then the echo at 35 ms, the engine took 36 and the next
# estimates stayed at 35.5. The room's 60 ms then no longer holds against the timestamps.
early = [tuple(map(float, e.split(":"))) for e in sys.argv[8].split() if e.count(":") == 1]
name = "the engine measured the echo's delay in the room, first at 60-250 ms (the room's 60 ms " \
       "and the devices' buffering)"
numeric = delay.lstrip("-").isdigit()
first_ok = numeric and 60 <= int(delay) <= 250
away = [f"{ms:g}:{c:g}" for ms, c in early if numeric and c >= 0.5 and abs(ms - int(delay)) > 10]
after = est[len(early):len(early) + 5]
confirmed = numeric and sum(c >= 0.5 and abs(ms - int(delay)) <= 3 for ms, c in after) >= 3
if not first_ok and away and confirmed:
    checks.append((f"{name} # SKIP not judged: the lab's echo moved before the engine's first "
                   f"measurement ({delay} ms, then confirmed; estimates before it: "
                   f"{' '.join(away)}), see docs/audio.md", True))
else:
    checks.append((name, first_ok))
fails = 0
for i, (name, ok) in enumerate(checks, 1):
    print(f"{'ok' if ok else 'not ok'} {i} {name}")
    fails += not ok
print(f"1..{len(checks)}")
sys.exit(1 if fails else 0)
PY
