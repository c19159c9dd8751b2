#!/usr/bin/env bash
# Anyroom: the one entry point.
#   ./build.sh deps     install every Debian and npm package the build, tests and run need
#   ./build.sh build    configure (meson) and build (ninja) into ./build
#   ./build.sh test     deps + build + every test suite; ends with "N passed, N failed"
#                       (the qemu system suite only with AR_SYSTEM_TESTS=1, as CI does)
#   ./build.sh run      deps + build + a local Janus meeting the room joins; prints a link to meet it
#   ./build.sh bench    deps + build + benchmarks, printed as a table
#   ./build.sh image BOARD [--dev]   the device disk image (Debian trixie; see rootfs/README.md)
#   ./build.sh bundle BOARD [--dev]  a signed RAUC update bundle (verity, zstd) for BOARD
set -euo pipefail
TOP="$(cd "$(dirname "$0")" && pwd)"
BUILD="${AR_BUILD_DIR:-$TOP/build}"
cd "$TOP"

log() { printf '==> %s\n' "$*" >&2; }

# Debian packages, grouped by what needs them. Keep in sync with README.md.
PKGS_BUILD="meson ninja-build pkg-config gcc clang-format libglib2.0-dev libgstreamer1.0-dev
 libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libsoup-3.0-dev libjson-glib-dev libssl-dev libgnutls28-dev
 libqrencode-dev libical-dev libxml2-dev"
PKGS_RUNTIME="gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
 gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-alsa gstreamer1.0-libav gstreamer1.0-tools
 gstreamer1.0-x gstreamer1.0-gl"
PKGS_LAB="janus janus-demos libjs-janus-gateway chromium iproute2 nftables procps
 python3 ca-certificates coturn openssl radicale nginx-light"
# The web call bridge (issue 11, part 5; firmware/bridge, media/ar-bridge.c): a private
# PipeWire + WirePlumber for the browser's camera, the portal, a private PulseAudio.
PKGS_LAB="$PKGS_LAB pipewire wireplumber xdg-desktop-portal pulseaudio dbus-daemon"
PKGS_RUNTIME="$PKGS_RUNTIME gstreamer1.0-pipewire gstreamer1.0-pulseaudio"
# The echo lab (issue 14, tests/lab/echo): speech, WAV editing, ALSA's pulse device.
PKGS_LAB="$PKGS_LAB espeak-ng sox libasound2-plugins"
# Metrics (issue 15, docs/fleet.md): a real Prometheus scrapes anyroomd; promtool checks.
PKGS_LAB="$PKGS_LAB prometheus"
# Logs off the box (issue 15, part 4, docs/fleet.md): a real rsyslog receives over TLS, and a
# real systemd-journal-remote over HTTPS (journalctl reads what it wrote).
PKGS_LAB="$PKGS_LAB rsyslog rsyslog-gnutls systemd-journal-remote"
# Provisioning from DHCP (issue 15, part 3): Debian's dnsmasq hands out option 224 to a real
# systemd-networkd (in the systemd package on Debian 12); dnsmasq-base: the binary, no service.
PKGS_LAB="$PKGS_LAB dnsmasq-base"
# Updates: RAUC (bundles, a private `rauc service` in the host tests), its D-Bus, squashfs.
PKGS_UPDATE="rauc rauc-service squashfs-tools dbus-daemon curl mmdebstrap"
# Node.js: any node + npm on PATH will do (some machines have a newer one than
# Debian's, and Debian's npm package conflicts with it); else Debian's.
PKGS_NODE="nodejs npm"
# Device images (./build.sh image|bundle) and the qemu system tests.
PKGS_IMAGE="mmdebstrap qemu-system-x86 qemu-utils ovmf grub-efi-amd64-bin grub-common mtools
 dosfstools squashfs-tools rauc fdisk e2fsprogs zstd debian-archive-keyring"

need_pkgs() {
  local missing=()
  for p in $PKGS_BUILD $PKGS_RUNTIME $PKGS_LAB $PKGS_UPDATE $PKGS_IMAGE; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=($PKGS_NODE)
  fi
  printf '%s\n' "${missing[@]}"
}

cmd_deps() {
  local missing
  missing=$(need_pkgs | xargs)
  if [ -n "$missing" ]; then
    log "installing Debian packages: $missing"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
    # Debian's prometheus package enables a server on *:9090; the tests run their own in a
    # namespace, so one it just installed is stopped and disabled (an existing one is left alone).
    if [[ " $missing " == *" prometheus "* ]] && command -v systemctl >/dev/null &&
      systemctl is-enabled -q prometheus.service 2>/dev/null; then
      log "disabling the prometheus service the package enabled (tests start their own)"
      $sudo systemctl disable --now prometheus.service || true
    fi
  else
    log "Debian packages: all present"
  fi
  if [ ! -d tests/lab/node_modules/playwright-core ]; then
    log "installing npm packages for the test lab (tests/lab/package.json): playwright-core"
    (cd tests/lab && npm ci --no-audit --no-fund --loglevel=error)
  else
    log "npm packages: all present"
  fi
}

cmd_build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    local werror=false
    [ -n "${CI:-}" ] && werror=true
    meson setup "$BUILD" -Dwerror=$werror >/dev/null
  fi
  ninja -C "$BUILD" >&2
}

cmd_test() {
  cmd_deps
  cmd_build
  local rc=0
  # Integration tests need root for network namespaces; they say so and fail otherwise.
  # The system suite (the device image in qemu, ~15 min) runs when AR_SYSTEM_TESTS=1 (CI).
  local suites=() prep=""
  if [ "${AR_SYSTEM_TESTS:-0}" = 1 ]; then
    # The system suite's image and bundles (about 8 minutes of downloads, dpkg and squashfs)
    # are built in the background, niced, while the other suites run; the qemu test takes them
    # (tests/system/test-qemu.py --prepare). Only when the whole suite runs.
    if [ $# -eq 0 ]; then
      AR_SYSTEM_PREPARE_TOKEN="$$-$RANDOM-$(date +%s)"
      export AR_SYSTEM_PREPARE_TOKEN
      mkdir -p "$BUILD/system-test"
      # Its own process group (setsid), so that what it started goes with it. First the cached
      # trixie root of update-rauc-trixie (20-30 s of that test's time in CI otherwise).
      setsid nice -n 19 ionice -c 3 bash -c '"$1/tests/update/test-update-rauc-trixie.sh" "$2" "$1" --root-only
        exec python3 "$1/tests/system/test-qemu.py" "$2" --prepare' _ "$TOP" "$BUILD" \
        >"$BUILD/system-test/prepare.log" 2>&1 &
      prep=$!
      echo "$prep" >"$BUILD/system-test/prepare.pid"
      # Interrupted: the preparation (its own session, out of the terminal's reach) goes too.
      trap "kill -- -$prep 2>/dev/null" EXIT
      trap 'exit 130' INT TERM
    fi
  else
    suites=(--no-suite system)
  fi
  meson test -C "$BUILD" --print-errorlogs --num-processes 2 "${suites[@]}" "$@" || rc=$?
  if [ -n "$prep" ] && kill -0 "$prep" 2>/dev/null; then
    kill -- "-$prep" 2>/dev/null || true # the qemu test did not run to take it: stop it
  fi
  [ -z "$prep" ] || wait "$prep" 2>/dev/null || true
  trap - EXIT INT TERM
  python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r.get("result")
    if res in ("OK", "EXPECTEDFAIL"): p += 1
    elif res == "SKIP": s += 1
    else:
        f += 1
        # --print-errorlogs shows stderr only; a TAP test says why a step failed on stdout.
        out = (r.get("stdout") or "").splitlines()
        bad = [i for i, l in enumerate(out) if l.lstrip().startswith("not ok")]
        if bad:
            print(f"--- {r.get('name')}: the failed steps' TAP ---")
            for i in bad:
                # The YAML block below "not ok" says why (failureType, error, stack), up to "...".
                end = next((j for j in range(i + 1, min(len(out), i + 40))
                            if out[j].strip() == "..." or out[j].startswith(("ok ", "not ok ", "1.."))),
                           min(len(out), i + 40))
                print("\n".join(out[i:end + (out[end].strip() == "..." if end < len(out) else 0)]))
print(f"{p} passed, {f} failed" + (f", {s} skipped" if s else ""))
PY
  return $rc
}

cmd_run() {
  cmd_deps
  cmd_build
  exec "$TOP/tests/lab/run-demo.sh" "$BUILD" "$@"
}

cmd_bench() {
  cmd_deps
  cmd_build
  exec "$TOP/tests/bench/bench.sh" "$BUILD" "$@"
}

cmd_image() {
  cmd_deps
  exec "$TOP/rootfs/mkimage.sh" image "$@"
}

cmd_bundle() {
  cmd_deps
  exec "$TOP/rootfs/mkimage.sh" bundle "$@"
}

sub="${1:-}"
shift || true
case "$sub" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  test) cmd_test "$@" ;;
  run) cmd_run "$@" ;;
  bench) cmd_bench "$@" ;;
  image) cmd_image "$@" ;;
  bundle) cmd_bundle "$@" ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
