#!/usr/bin/env bash
# room.sh DIR [--delay-ms 60] [--attenuation-db 10] [--reverb on|off]: the echo lab's room (issue 14).
# Starts a PRIVATE PipeWire (runtime, config and D-Bus under DIR; no system or user sound server is
# touched): a D-Bus daemon, pipewire, wireplumber (no device monitors), and PipeWire's PulseAudio
# server on DIR/pulse/native. The graph runs on ONE clock with a fixed quantum (480 samples, 10 ms
# at 48 kHz), so the echo path's delay is the same in every run:
#   room_speaker  (a sink) what the room's speaker plays into: the device under test plays there
#   room_air      (a sink) what the room's microphone hears: the microphone is room_air.monitor
#   the echo path, a filter-chain from room_speaker into room_air: the direct echo delayed by
#                 --delay-ms and attenuated by --attenuation-db, with --reverb on two reflections
#                 17 and 41 ms later, at 0.35 and 0.2 of it
# The near-end talker is another stream into room_air (echo-lab.sh plays it); PipeWire mixes them.
# The first lab used PulseAudio's null sinks: the monitor hears what a sink renders, ahead of
# "playing" by a latency that depends on the clients, and the delay moved between runs
# (docs/audio.md). When ready, writes DIR/room.env (PULSE_SERVER=...) and waits; TERM/INT/EXIT
# stop what it started, by PID. Run it in the background and kill it by its PID.
set -euo pipefail
dir=${1:?usage: room.sh DIR [--delay-ms N] [--attenuation-db N] [--reverb on|off]}
shift
delay_ms=60 att_db=10 reverb=on
while [ $# -gt 0 ]; do
  case $1 in
  --delay-ms) delay_ms=$2; shift 2 ;;
  --attenuation-db) att_db=$2; shift 2 ;;
  --reverb) reverb=$2; shift 2 ;;
  *) echo "room.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$delay_ms$att_db" in *[!0-9.]*) echo "room.sh: numbers only" >&2; exit 2 ;; esac
dir=$(realpath -m "$dir")
mkdir -p "$dir/run" "$dir/pulse" "$dir/home" "$dir/config/pipewire/pipewire.conf.d" \
  "$dir/config/wireplumber/main.lua.d" "$dir/config/wireplumber/bluetooth.lua.d" \
  "$dir/config/wireplumber/wireplumber.conf.d"
chmod 700 "$dir/run" "$dir/pulse"
rm -f "$dir/room.env"
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 0' TERM INT HUP

export HOME=$dir/home XDG_RUNTIME_DIR=$dir/run XDG_CONFIG_HOME=$dir/config
export PIPEWIRE_RUNTIME_DIR=$dir/run DBUS_SESSION_BUS_ADDRESS=unix:path=$dir/run/bus
unset PIPEWIRE_REMOTE PULSE_SERVER

num() { awk -v v="$1" "BEGIN { printf \"%.6f\", $2 }"; }
gain=$(num "$att_db" '10 ^ (-v / 20)')
d0=$(num "$delay_ms" 'v / 1000')
d1=$(num "$delay_ms" '(v + 17) / 1000')
d2=$(num "$delay_ms" '(v + 41) / 1000')
if [ "$reverb" = on ]; then
  g1=$(num "$gain" 'v * 0.35') g2=$(num "$gain" 'v * 0.2')
else
  g1=0 g2=0
fi

# shellcheck source=../private-bus.sh
. "$(dirname "$0")/../private-bus.sh"
ar_private_bus_conf "$dir/bus.conf" "$dir/run/bus"
# WirePlumber 0.4 (Debian 12: Lua) and 0.5 (Debian 13: profiles): no device monitors.
printf 'load_module("metadata")\ndefault_access.enable()\n' \
  >"$dir/config/wireplumber/main.lua.d/90-enable-all.lua"
echo "-- no Bluetooth" >"$dir/config/wireplumber/bluetooth.lua.d/90-enable-all.lua"
cat >"$dir/config/wireplumber/wireplumber.conf.d/90-room.conf" <<'WP'
wireplumber.profiles = { main = { monitor.alsa = disabled monitor.alsa-midi = disabled
  monitor.v4l2 = disabled monitor.libcamera = disabled monitor.bluez = disabled
  monitor.bluez-midi = disabled } }
WP
cat >"$dir/config/pipewire/pipewire.conf.d/90-room.conf" <<PW
context.properties = {
  default.clock.rate = 48000
  default.clock.allowed-rates = [ 48000 ]
  default.clock.quantum = 480
  default.clock.min-quantum = 480
  default.clock.max-quantum = 480
}
context.modules = [
  { name = libpipewire-module-protocol-pulse
    args = { server.address = [ "unix:$dir/pulse/native" ]
      # Every pulse client's buffering in 10 ms steps, the quantum: the server's defaults (up
      # to 2 s fragments for a capture stream that asks for none) put the echo path's timing
      # out of the canceller's reach.
      pulse.min.req = 480/48000 pulse.default.req = 480/48000 pulse.min.quantum = 480/48000
      pulse.min.frag = 480/48000 pulse.default.frag = 480/48000 } }
  { name = libpipewire-module-filter-chain
    args = {
      node.description = "room echo path"
      media.name = "room echo path"
      filter.graph = {
        nodes = [
          { type = builtin name = split label = copy }
          { type = builtin name = d0 label = delay config = { "max-delay" = 1.0 } control = { "Delay (s)" = $d0 } }
          { type = builtin name = d1 label = delay config = { "max-delay" = 1.0 } control = { "Delay (s)" = $d1 } }
          { type = builtin name = d2 label = delay config = { "max-delay" = 1.0 } control = { "Delay (s)" = $d2 } }
          { type = builtin name = mix label = mixer control = { "Gain 1" = $gain "Gain 2" = $g1 "Gain 3" = $g2 } }
        ]
        links = [
          { output = "split:Out" input = "d0:In" }
          { output = "split:Out" input = "d1:In" }
          { output = "split:Out" input = "d2:In" }
          { output = "d0:Out" input = "mix:In 1" }
          { output = "d1:Out" input = "mix:In 2" }
          { output = "d2:Out" input = "mix:In 3" }
        ]
        inputs = [ "split:In" ]
        outputs = [ "mix:Out" ]
      }
      capture.props = { node.name = "room_speaker" media.class = "Audio/Sink"
        audio.rate = 48000 audio.channels = 1 audio.position = [ MONO ] }
      playback.props = { node.name = "room_echo" target.object = "room_air" node.passive = true
        audio.rate = 48000 audio.channels = 1 audio.position = [ MONO ] }
    } }
]
context.objects = [
  { factory = adapter
    args = { factory.name = support.null-audio-sink node.name = "room_air"
      node.description = "room air" media.class = "Audio/Sink" object.linger = true
      audio.rate = 48000 audio.channels = 1 audio.position = [ MONO ] } }
]
PW

dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile 2>"$dir/dbus.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/run/bus" ] && break; sleep 0.1; done
pipewire 2>"$dir/pipewire.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$dir/run/pipewire-0" ] && break; sleep 0.1; done
wireplumber 2>"$dir/wireplumber.log" &
pids+=($!)
export PULSE_SERVER=unix:$dir/pulse/native
# Ready: the pulse server answers and wireplumber linked the echo path into room_air.
ready=""
for _ in $(seq 100); do
  if pactl list short sinks 2>/dev/null | grep -q room_speaker &&
    pw-link -l 2>/dev/null | grep -q "room_echo:output"; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "room.sh: the PipeWire room did not start (see $dir/*.log)" >&2; exit 1; }
echo "PULSE_SERVER=$PULSE_SERVER" >"$dir/room.env"
wait "${pids[@]}"
