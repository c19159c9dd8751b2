#!/usr/bin/env bash
# dut-gst.sh [WEBRTCDSP_PROPERTY=VALUE...]: a plain gst-launch device under test for echo-lab.sh
# (a fixture: the lab's own check, not the product). One pipeline, so webrtcechoprobe and
# webrtcdsp share a clock: the microphone (ALSA's pulse device, PULSE_SOURCE) through webrtcdsp
# to AR_ECHO_OUT, and AR_ECHO_FAR through webrtcechoprobe to the speaker (AR_ECHO_SPEAKER).
# No arguments: echo cancellation on, noise suppression and gain control off.
# `echo-cancel=false`: the same pipeline without cancellation (the lab's control run).
set -euo pipefail
caps="audio/x-raw,format=S16LE,rate=48000,channels=1"
rc=0
timeout -s INT "$AR_ECHO_SECONDS" gst-launch-1.0 -e \
  alsasrc device=pulse buffer-time=20000 latency-time=10000 ! audioconvert ! audioresample \
  ! "$caps" ! webrtcdsp probe=p noise-suppression=false gain-control=false "$@" \
  ! audioconvert ! "$caps" ! wavenc ! filesink location="$AR_ECHO_OUT" \
  filesrc location="$AR_ECHO_FAR" ! wavparse ! audioconvert ! audioresample ! "$caps" \
  ! webrtcechoprobe name=p ! audioconvert \
  ! pulsesink device="$AR_ECHO_SPEAKER" buffer-time=20000 latency-time=10000 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] # 124: stopped by the timeout, after EOS
