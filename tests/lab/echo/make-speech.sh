#!/usr/bin/env bash
# make-speech.sh OUTDIR: the echo lab's speech (issue 14). Writes OUTDIR/far.wav (the far end,
# played by the room's speaker), OUTDIR/near.wav (a person in the room) and OUTDIR/timeline.json,
# all on one 30 s timeline, 48 kHz mono S16. espeak-ng + sox, no dither: the same bytes every run.
#   far 0-10 s (the canceller converges) | near 10-15 | double talk 15-23 | far 23-28 | silence 28-30
set -euo pipefail
out=${1:?usage: make-speech.sh OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FAR_VOICE=en-us      # a male American voice
NEAR_VOICE=en+f3     # a female voice: clearly another talker
SOX="sox -D -V1"     # -D: no dither (dither is random)

# speak VOICE SECONDS TEXT OUT: the text, cut or padded to exactly SECONDS at 48 kHz mono S16.
speak() {
  espeak-ng -v "$1" -s 160 -w "$tmp/raw.wav" "$3"
  $SOX "$tmp/raw.wav" -r 48000 -c 1 -b 16 "$4" rate -h norm -6 pad 0 "$2" trim 0 "$2"
}
silence() { $SOX -n -r 48000 -c 1 -b 16 "$2" trim 0 "$1"; }

# segment by segment: kind start end
segs=(far:0:10 near:10:15 double:15:23 far:23:28 silence:28:30)
far_text=(
  "Good morning everyone. Thank you for joining the quarterly planning review. Today we look at the budget, the hiring plan and the launch dates for the new product line."
  "The second topic is the supplier contract. We asked for better delivery terms and a lower price per unit, and they answered yesterday."
  "Let us move on to the last item on the agenda before we close."
)
near_text=(
  "Hello, this is the meeting room in Berlin. We can hear you well."
  "Sorry to interrupt, but could you repeat the numbers for the third quarter please?"
)
fi=0; ni=0; n=0; json=""
for s in "${segs[@]}"; do
  IFS=: read -r kind start end <<<"$s"
  len=$((end - start)); n=$((n + 1))
  if [ "$kind" = far ] || [ "$kind" = double ]; then
    speak "$FAR_VOICE" "$len" "${far_text[$fi]}" "$tmp/far$n.wav"; fi=$((fi + 1))
  else silence "$len" "$tmp/far$n.wav"; fi
  if [ "$kind" = near ] || [ "$kind" = double ]; then
    speak "$NEAR_VOICE" "$len" "${near_text[$ni]}" "$tmp/near$n.wav"; ni=$((ni + 1))
  else silence "$len" "$tmp/near$n.wav"; fi
  json="$json${json:+,}
    {\"kind\": \"$kind\", \"start\": $start, \"end\": $end}"
done
$SOX "$tmp"/far[0-9]*.wav "$out/far.wav"
$SOX "$tmp"/near[0-9]*.wav "$out/near.wav"
printf '{\n  "rate": 48000,\n  "segments": [%s\n  ]\n}\n' "$json" >"$out/timeline.json"
