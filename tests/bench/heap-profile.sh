#!/usr/bin/env bash
# heap-profile.sh BUILD_DIR [OUTDIR]: where anyroomd's heap goes in the media bench's calls
# (issue 14, part 5). Runs the media bench (tests/bench/bench.sh BUILD_DIR media) with anyroomd
# under heaptrack (its LD_PRELOAD library, given to anyroomd alone through AR_DAEMON_ENV) and
# writes one profile per anyroomd the bench starts, in order (OUTDIR/anyroomd-1.gz: own test
# camera, -2: decoding too, -3: the clip), then prints for each its peak heap and the
# allocation sites that held most of it (heaptrack_print). Figures only, never a test: heaptrack
# slows every allocation, so the bench's CPU figures of this run mean nothing.
# Default OUTDIR: BUILD_DIR/meson-logs/heap-profile. Needs heaptrack (./build.sh deps).
set -euo pipefail
build=$(cd "${1:?usage: $0 BUILD_DIR [OUTDIR]}" && pwd)
out=${2:-$build/meson-logs/heap-profile}
here=$(cd "$(dirname "$0")" && pwd)
preload=/usr/lib/heaptrack/libheaptrack_preload.so
interpret=/usr/lib/heaptrack/libexec/heaptrack_interpret
for f in "$preload" "$interpret"; do
  [ -e "$f" ] || { echo "heap-profile: $f is missing (apt-get install heaptrack)" >&2; exit 1; }
done
mkdir -p "$out"
rm -f "$out"/anyroomd-*.gz
fifo=$(mktemp -u /tmp/ar-heap-profile.XXXXXX)
mkfifo -m 600 "$fifo"
# One reader per anyroomd: each opens the pipe anew when it starts, and its end ends the reader.
(
  n=1
  while [ -p "$fifo" ]; do
    "$interpret" <"$fifo" | gzip >"$out/anyroomd-$n.gz" || true
    n=$((n + 1))
  done
) &
reader=$!
cleanup() {
  # The reader waits on the pipe's open: a writer (opened before the pipe is removed, so the
  # loop then finds no pipe) lets that open finish, and closing it ends the reader.
  if [ -p "$fifo" ]; then
    exec 9<>"$fifo"
    rm -f "$fifo"
    exec 9>&-
  fi
  wait "$reader" 2>/dev/null || true
}
trap cleanup EXIT
env_json=$(printf '{"LD_PRELOAD":"%s","DUMP_HEAPTRACK_OUTPUT":"%s"}' "$preload" "$fifo")
# heaptrack slows anyroomd: a later call of the bench can miss its join deadline (seen once:
# the second). The profiles written until then are still printed.
AR_DAEMON_ENV=$env_json "$here/bench.sh" "$build" media ||
  echo "heap-profile: the bench stopped early; printing the profiles it left" >&2
cleanup
trap - EXIT
for f in "$out"/anyroomd-*.gz; do
  [ "$(gzip -dc "$f" | head -c 1 | wc -c)" -gt 0 ] || { rm -f "$f"; continue; }
  echo "== $f"
  heaptrack_print -f "$f" --print-peaks 1 --print-allocators 0 --print-temporary 0 \
    --print-leaks 0 --peak-limit 15 --sub-peak-limit 3 2>/dev/null | sed -n '/PEAK MEMORY/,$p' | head -150
done
