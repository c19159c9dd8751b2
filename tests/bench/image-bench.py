#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Device image benchmarks (part of ./build.sh bench; root only):
  image build, cold   rootfs/mkimage.sh image qemu-x86_64 with an empty cache (both mmdebstraps)
  image build, cached the same again (trees cached by package list)
  bundle              build time and size of a signed verity bundle (zstd squashfs)
  boot to healthy     qemu (TCG, OVMF, GRUB) start to anyroomd's slot confirmed good
  install             `rauc install` of the bundle inside the guest (verity, to the other slot)
Figures only: nothing here fails on speed. AR_BENCH_IMAGE_COLD=0 skips the cold build.
Usage: image-bench.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "system"))
from vm import Vm  # noqa: E402

BOARD = "qemu-x86_64"


def timed(cmd, env):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    build = os.path.abspath(sys.argv[1])
    mk = os.path.join(TOP, "rootfs", "mkimage.sh")
    rows = []
    env = dict(os.environ, AR_BUILD_DIR=build, AR_IMAGE_VERSION="1.0.0")
    if os.environ.get("AR_BENCH_IMAGE_COLD", "1") == "1":
        cold_cache = os.path.join(build, "bench-image-cache")
        shutil.rmtree(cold_cache, ignore_errors=True)
        secs = timed([mk, "image", BOARD, "--dev"], dict(env, AR_IMAGE_CACHE=cold_cache))
        rows.append(("image build, cold (empty cache)", f"{secs:.0f} s"))
        shutil.rmtree(cold_cache, ignore_errors=True)
    secs = timed([mk, "image", BOARD, "--dev"], env)
    rows.append(("image build, cached trees", f"{secs:.0f} s"))
    out = os.path.join(build, "image", f"{BOARD}-dev")
    work = os.path.join(build, "bench-image")
    os.makedirs(work, exist_ok=True)
    disk = os.path.join(work, "disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(out, "disk.img"), disk], check=True)
    secs = timed([mk, "bundle", BOARD, "--dev"], dict(env, AR_IMAGE_VERSION="2.0.0"))
    bundle = os.path.join(out, f"anyroom-{BOARD}-2.0.0.raucb")
    rows.append(("bundle build (slot + verity + zstd + sign)", f"{secs:.0f} s"))
    rows.append(("bundle size", f"{os.path.getsize(bundle) / 2**20:.0f} MiB "
                 f"(root file system {os.path.getsize(os.path.join(out, 'rootfs.ext4')) / 2**20:.0f} MiB)"))
    vfat = os.path.join(work, "bundles.vfat")
    if os.path.exists(vfat):
        os.unlink(vfat)
    subprocess.run(["mkfs.vfat", "-C", vfat, str(os.path.getsize(bundle) // 1024 + 16384)],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["mcopy", "-i", vfat, bundle, "::/v2.raucb"], check=True,
                   env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    for f in ("OVMF_VARS.fd",):
        if os.path.exists(os.path.join(work, f)):
            os.unlink(os.path.join(work, f))
    vm = Vm(disk, work, os.path.join(work, "console.log"), extra_disks=[vfat])
    try:
        vm.start()
        _, secs = vm.wait_healthy(600)
        rows.append(("boot to healthy anyroomd (qemu TCG, OVMF, GRUB)", f"{secs:.1f} s"))
        vm.login()
        vm.run("mount -o ro /dev/vdb /mnt")
        t0 = time.monotonic()
        vm.run("rauc install /mnt/v2.raucb", timeout=1200)
        rows.append(("bundle install in the guest (verity, TCG)", f"{time.monotonic() - t0:.1f} s"))
        vm.send("systemctl reboot\n")
        t0 = time.monotonic()
        slot, _ = vm.wait_healthy(600)
        rows.append((f"reboot into the new slot ({slot}) to healthy", f"{time.monotonic() - t0:.1f} s"))
    finally:
        vm.close()
    print(f"== device image ({BOARD}, {os.cpu_count()} cores): {' '.join(sys.argv)}")
    w = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{w}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
