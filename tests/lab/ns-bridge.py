#!/usr/bin/env python3
"""Anyroom test lab: carry TCP connections from one network namespace to another.

    ns-bridge.py --listen 127.0.0.1:8188 --to-netns NAME --connect 127.0.0.1:8188 \
                 [--ready-file F]

Run inside the namespace that should see the listener (ip netns exec A ...).
Every accepted connection is connected to --connect inside namespace NAME
(/run/netns/NAME): the outgoing socket is created after setns(2) into NAME and
the thread switches back, so sockets stay in their own namespaces. No packet
crosses a network interface: this is how the TURN lab gives the room its
signalling to Janus while the media path stays under the test's rules.
"""
import argparse
import ctypes
import os
import selectors
import socket
import sys

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def hostport(s):
    host, _, port = s.rpartition(':')
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', required=True)
    ap.add_argument('--to-netns', required=True)
    ap.add_argument('--connect', required=True)
    ap.add_argument('--ready-file')
    a = ap.parse_args()
    home = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    other = os.open(f'/run/netns/{a.to_netns}', os.O_RDONLY | os.O_CLOEXEC)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(hostport(a.listen))
    lsock.listen(64)
    lsock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ, None)
    peers = {}
    if a.ready_file:
        with open(a.ready_file, 'w') as f:
            f.write('ready\n')

    def close(s):
        o = peers.pop(s, None)
        for x in (s, o):
            if x is None:
                continue
            peers.pop(x, None)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is lsock:
                c, _ = lsock.accept()
                setns(other)
                try:
                    o = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                finally:
                    setns(home)
                try:
                    o.connect(hostport(a.connect))
                except OSError as e:
                    print(f'ns-bridge: connect {a.connect} in {a.to_netns}: {e}', file=sys.stderr)
                    c.close()
                    o.close()
                    continue
                c.setblocking(False)
                o.setblocking(False)
                peers[c] = o
                peers[o] = c
                sel.register(c, selectors.EVENT_READ, None)
                sel.register(o, selectors.EVENT_READ, None)
                continue
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b''
            if not data:
                close(s)
                continue
            o = peers.get(s)
            if o is None:
                close(s)
                continue
            try:
                o.setblocking(True)
                o.sendall(data)
                o.setblocking(False)
            except OSError:
                close(s)


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        pass
