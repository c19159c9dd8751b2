# SPDX-License-Identifier: LGPL-2.1-or-later
"""A qemu x86_64 guest (TCG, OVMF) driven through its serial console.

The dev variant of the image has a root shell on ttyS0 (never the release image); this module
types commands there and reads their exit codes back. Everything the guest prints is kept in a
log file for the test's error report.

A guest reboot is a power cycle: the guest's reset request ends qemu (-action reboot=shutdown)
and this module starts it again at once. qemu 7.2's warm reset under TCG was seen to hang for
good in CI, after "reboot: Restarting system", with no firmware output and no watchdog reset;
about 200 cold starts (the power-cut soaks) never hung."""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# Where a guest started with guest_http reaches the host's port (qemu user network, guestfwd).
GUEST_HTTP_ADDR = "10.0.2.100"


class GuestError(Exception):
    pass


class Vm:
    def __init__(self, disk, workdir, log_path, extra_disks=(), mem_mb=1024, cpus=2, usb_stick=None):
        self.disk = disk
        self.workdir = workdir
        self.log_path = log_path
        self.extra_disks = list(extra_disks)
        self.usb_stick = usb_stick  # a raw image the guest sees as a USB mass storage device
        self.mem_mb = mem_mb
        self.cpus = cpus
        self.proc = None
        self.started_with = None  # (display, guest_http) of the last start()
        self.buf = ""
        self.pos = 0  # what expect() has consumed
        self.lock = threading.Condition()
        self.vars = os.path.join(workdir, "OVMF_VARS.fd")
        if not os.path.exists(self.vars):
            shutil.copy(OVMF_VARS, self.vars)
        self.resets = 0  # guest reboots (each one a new qemu process)
        self.reader = None
        self.stopping = False  # set by kill()/poweroff(): an exit is not a reboot

    def start(self, display=False, guest_http=None):
        """@display: a virtio GPU (1920x1080, a DRM device in the guest: the room display starts)
        and a QMP socket for screendump(). @guest_http (a port on the host's loopback): a network
        card whose only way out (qemu's user network, restrict=on) is GUEST_HTTP_ADDR:80, which
        reaches that port: nothing else of the guest reaches the host or any network."""
        cmd = [
            "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", str(self.mem_mb),
            "-action", "reboot=shutdown",
            "-smp", str(self.cpus), "-nographic", "-nodefaults", "-no-user-config",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={self.vars}",
            # cache=writethrough: what the guest wrote is on the host file before it is
            # acknowledged, so killing qemu is a power cut of a disk without a volatile cache.
            "-drive", f"file={self.disk},format=raw,if=virtio,cache=writethrough,discard=unmap,"
            # A full host disk is an I/O error the guest reports, not a silently paused guest.
            "werror=report,rerror=report",
            "-device", "i6300esb", "-action", "watchdog=reset",
            "-serial", "stdio",
        ]
        if guest_http:
            # A command per connection (qemu's guestfwd), piping it to the host's loopback port.
            pipe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tcp-pipe.mjs")
            cmd += ["-netdev", f"user,id=n0,restrict=on,guestfwd=tcp:{GUEST_HTTP_ADDR}:80-"
                    f"cmd:node {pipe} {int(guest_http)}",
                    # romfile= (none): no PXE option ROM, OVMF does not try to boot from it.
                    "-device", "virtio-net-pci,netdev=n0,romfile="]
        else:
            cmd += ["-nic", "none"]
        for d in self.extra_disks:
            cmd += ["-drive", f"file={d},format=raw,if=virtio,readonly=on"]
        if self.usb_stick:
            # A fixed PCI address after the disks': the boot disk's stays what OVMF saved.
            cmd += ["-device", "qemu-xhci,id=xhci,addr=0x11",
                    "-drive", f"if=none,id=stick,format=raw,readonly=on,file={self.usb_stick}",
                    "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on"]
        self.qmp_path = None
        self.started_with = (display, guest_http)
        if display:
            # A new machine's NVRAM: OVMF rewrites its boot options when the devices change and
            # may then boot its shell; the firmware finds GRUB on the removable-media path.
            shutil.copy(OVMF_VARS, self.vars)
            self.qmp_path = os.path.join(self.workdir, "qmp.sock")
            if os.path.exists(self.qmp_path):
                os.unlink(self.qmp_path)
            # A fixed PCI address: the boot disk keeps its own, so the boot entries OVMF saves
            # now still point at it in later boots without a GPU (power-cut soaks with --reuse).
            cmd += ["-device", "virtio-gpu-pci,xres=1920,yres=1080,addr=0x10",
                    "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        self.cmd = cmd
        self.logf = open(self.log_path, "a", buffering=1, errors="replace")
        self.logf.write(f"\n==== qemu start ({time.strftime('%H:%M:%S')}): {' '.join(cmd)}\n")
        with self.lock:
            self.buf = ""
            self.pos = 0
            self.stopping = False
            self._spawn()

    def _spawn(self):
        """Starts qemu on self.cmd (with self.lock held); the console buffer goes on."""
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self.reader.start()
        self.started = time.monotonic()

    def _read(self, proc):
        while True:
            data = proc.stdout.read1(4096) if hasattr(proc.stdout, "read1") else proc.stdout.read(1)
            if not data:
                break
            if b"\x1b[6n" in data:
                # Answer cursor-position queries as a serial terminal would.
                try:
                    proc.stdin.write(b"\x1b[24;80R" * data.count(b"\x1b[6n"))
                    proc.stdin.flush()
                except OSError:
                    pass
            text = data.decode("utf-8", "replace").replace("\r", "")
            self.logf.write(text)
            with self.lock:
                self.buf += text
                self.lock.notify_all()
        rc = proc.wait()
        with self.lock:
            if rc == 0 and proc is self.proc and not self.stopping:
                # The guest reset itself (a reboot or its watchdog): power it on again.
                self.resets += 1
                self.logf.write(f"\n==== guest reset {self.resets} ({time.strftime('%H:%M:%S')}):"
                                " qemu started again\n")
                self._spawn()
            self.lock.notify_all()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def expect(self, pattern, timeout):
        """Waits (bounded) for @pattern in the output after what was consumed; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    tail = self.buf[-1500:]
                    raise GuestError(f"no /{pattern}/ within {timeout} s"
                                     f"{' (qemu exited)' if self.proc.poll() is not None else ''};"
                                     f" console tail:\n{tail}")
                self.lock.wait(min(left, 1.0))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def login(self, timeout=240):
        """Waits for the dev root shell on the serial console and makes it quiet."""
        deadline = time.monotonic() + timeout
        while True:
            self.send("stty -echo; bind 'set enable-bracketed-paste off' 2>/dev/null; "
                      "export PS1='' XDG_RUNTIME_DIR=/run SYSTEMD_COLORS=0; echo SHELL-$((40+2))\n")
            try:
                self.expect(r"SHELL-42", 10)
                return
            except GuestError:
                if time.monotonic() > deadline or not self.alive():
                    raise

    def run(self, command, timeout=120, check=True):
        """Runs @command in the guest shell; returns (rc, output)."""
        tag = f"{random.randrange(1 << 30):x}"
        self.send(f"{command} 2>&1; echo \"@@{tag}=$?@@\"\n")
        m = self.expect(r"((?:.|\n)*?)@@" + tag + r"=(\d+)@@", timeout)
        # Drop terminal control sequences (bracketed paste, colours) around the output.
        out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", m.group(1)).strip("\n")
        rc = int(m.group(2))
        if check and rc != 0:
            raise GuestError(f"`{command}` exited {rc}: {out[-2000:]}")
        return rc, out

    def wait_healthy(self, timeout=300):
        """Waits for the image's health check verdict; returns (slot, seconds since start)."""
        m = self.expect(r"anyroom-health: slot (\w+) (good|unconfirmed)[^\n]*", timeout)
        if m.group(2) != "good":
            raise GuestError(f"health check: {m.group(0)}")
        return m.group(1), time.monotonic() - self.started

    def kill(self):
        """Power cut: SIGKILL qemu (nothing the guest had not written reaches the disk)."""
        with self.lock:
            self.stopping = True
            proc, reader = self.proc, self.reader
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
        if reader:
            reader.join(10)

    def poweroff(self, timeout):
        """Shuts the guest down; True if qemu ended within @timeout s."""
        with self.lock:
            self.stopping = True
        self.send("systemctl poweroff\n")
        return self.wait_exit(timeout)

    def screendump(self, path, fmt="ppm"):
        """The guest's screen into @path (qemu's QMP screendump; "ppm" or "png")."""
        if not self.qmp_path:
            raise GuestError("the guest was started without a display")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(self.qmp_path)
            f = s.makefile("rwb")

            def reply():
                while True:
                    msg = json.loads(f.readline() or b'{"error": "QMP closed"}')
                    if "return" in msg or "error" in msg:
                        return msg

            json.loads(f.readline())  # greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": "screendump", "arguments": {"filename": path, "format": fmt}}):
                f.write(json.dumps(cmd).encode() + b"\n")
                f.flush()
                msg = reply()
                if "error" in msg:
                    raise GuestError(f"QMP {cmd['execute']}: {msg['error']}")

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def close(self):
        self.kill()
        if getattr(self, "logf", None):
            self.logf.close()
