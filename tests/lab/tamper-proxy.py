#!/usr/bin/env python3
"""Anyroom test lab: an HTTP reverse proxy that tampers with DTLS fingerprints.

Sits in front of Janus's HTTP transport and forwards every request (method,
path, query, body; POST /janus..., GET long polls /janus/<session>?...) to the
upstream, copying the response back, except that in JSON responses every
"a=fingerprint:<hash> XX:..." line inside a string (the jsep.sdp) gets one hex
digit flipped. A client that checks the peer's DTLS certificate against the SDP
fingerprint must then refuse the call; one that does not will connect anyway.

  tamper-proxy.py [--listen 127.0.0.1:0] [--upstream http://127.0.0.1:8088]
                  [--port-file FILE] [--no-tamper] [--dump FILE]
  tamper-proxy.py --self-test

Prints "tamper-proxy: listening on http://127.0.0.1:PORT" when ready (and
writes PORT to --port-file). Logs one line per rewritten fingerprint to stderr.
--dump FILE appends every request and (rewritten) response body to FILE.
Python 3 standard library only.
"""
import argparse
import http.client
import http.server
import json
import os
import re
import threading
import sys
import urllib.parse

FINGERPRINT = re.compile(r"(a=fingerprint:[A-Za-z0-9-]+ )([0-9A-Fa-f])")
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailers", "transfer-encoding", "upgrade", "content-length", "host",
}
MAX_BODY = 4 * 1024 * 1024


def flip_hex(c):
    """Another hex digit, same case."""
    v = int(c, 16) ^ 0x1
    s = format(v, "x")
    return s.upper() if c.isupper() else s


def tamper_string(s):
    """Flip the first hex digit of every a=fingerprint value in s; (new, count)."""
    return FINGERPRINT.subn(lambda m: m.group(1) + flip_hex(m.group(2)), s)


def tamper_json(value):
    """Walk a decoded JSON value; returns (new value, number of rewrites)."""
    if isinstance(value, str):
        return tamper_string(value)
    if isinstance(value, list):
        out, n = [], 0
        for v in value:
            nv, k = tamper_json(v)
            out.append(nv)
            n += k
        return out, n
    if isinstance(value, dict):
        out, n = {}, 0
        for key, v in value.items():
            nv, k = tamper_json(v)
            out[key] = nv
            n += k
        return out, n
    return value, 0


def tamper_body(body):
    """Rewrite a response body if it is JSON; (bytes, count)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body, 0
    new, n = tamper_json(doc)
    if n == 0:
        return body, 0
    return json.dumps(new, separators=(",", ":")).encode(), n


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "anyroom-tamper-proxy"
    upstream = None  # urllib.parse.SplitResult
    tamper = True
    timeout = 120
    dump = None  # (file, lock)

    def log_message(self, fmt, *args):  # quiet: one line per rewrite only
        pass

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Host"] = self.upstream.netloc
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port or 80, timeout=90)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, rheaders = resp.status, resp.reason, resp.getheaders()
        except OSError as e:
            self.send_error(502, "upstream unreachable: %s" % e)
            return
        finally:
            conn.close()
        if self.tamper:
            data, n = tamper_body(data)
            if n:
                sys.stderr.write("tamper-proxy: %s %s: flipped %d fingerprint(s)\n" % (self.command, self.path, n))
                sys.stderr.flush()
        if self.dump:
            f, lock = self.dump
            with lock:
                f.write("> %s %s\n%s\n< %d\n%s\n\n" % (self.command, self.path,
                        (body or b"").decode("utf-8", "replace"), status, data.decode("utf-8", "replace")))
                f.flush()
        self.send_response(status, reason)
        for k, v in rheaders:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_HEAD = do_PATCH = _forward


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients (anyroomd aborting a failed call) may drop keep-alive
        # connections: not worth a traceback. Anything else: one line.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, TimeoutError)):
            return
        sys.stderr.write("tamper-proxy: error serving %s: %r\n" % (client_address, exc))
        sys.stderr.flush()


def self_test():
    """Unit check of the rewrite on a captured-style Janus event."""
    fp = "F7:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9"
    sdp = ("v=0\r\no=- 1 1 IN IP4 10.97.0.1\r\ns=VideoRoom 1234\r\nt=0 0\r\n"
           "a=group:BUNDLE 0 1\r\na=fingerprint:sha-256 " + fp + "\r\n"
           "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=fingerprint:sha-256 " + fp + "\r\n")
    event = {"janus": "event", "session_id": 1, "sender": 2, "transaction": "t",
             "plugindata": {"plugin": "janus.plugin.videoroom", "data": {"videoroom": "attached"}},
             "jsep": {"type": "offer", "sdp": sdp}}
    for doc in (event, [event, {"janus": "keepalive"}]):
        raw = json.dumps(doc, indent=3).encode()
        out, n = tamper_body(raw)
        assert n == 2, n
        new = json.loads(out)
        new_sdp = (new[0] if isinstance(new, list) else new)["jsep"]["sdp"]
        fps = re.findall(r"a=fingerprint:sha-256 (\S+)", new_sdp)
        assert len(fps) == 2 and all(f != fp for f in fps), fps
        for f in fps:
            diff = [i for i, (a, b) in enumerate(zip(f, fp)) if a != b]
            assert len(f) == len(fp) and diff == [0], (f, diff)
        assert new_sdp.replace(fps[0], fp) == sdp
    assert tamper_body(b'{"janus":"ack"}') == (b'{"janus":"ack"}', 0)
    assert tamper_body(b"not json") == (b"not json", 0)
    print("tamper-proxy: self-test ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1:0)")
    ap.add_argument("--upstream", default="http://127.0.0.1:8088", help="Janus HTTP base (default http://127.0.0.1:8088)")
    ap.add_argument("--port-file", help="write the listening port to this file")
    ap.add_argument("--no-tamper", action="store_true", help="forward unchanged (control experiment)")
    ap.add_argument("--dump", help="append request and response bodies to this file")
    ap.add_argument("--self-test", action="store_true", help="check the rewrite and exit")
    a = ap.parse_args()
    if a.self_test:
        self_test()
        return
    host, _, port = a.listen.rpartition(":")
    up = urllib.parse.urlsplit(a.upstream)
    if up.scheme != "http" or not up.hostname:
        ap.error("--upstream must be http://HOST[:PORT]")
    Proxy.upstream = up
    Proxy.tamper = not a.no_tamper
    if a.dump:
        Proxy.dump = (open(a.dump, "a", encoding="utf-8"), threading.Lock())
    srv = Server((host or "127.0.0.1", int(port)), Proxy)
    real_port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % real_port)
        os.replace(a.port_file + ".tmp", a.port_file)
    print("tamper-proxy: listening on http://%s:%d (upstream %s, %s)"
          % (host or "127.0.0.1", real_port, a.upstream, "tampering" if Proxy.tamper else "pass-through"), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
