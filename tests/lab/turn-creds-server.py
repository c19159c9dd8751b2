#!/usr/bin/env python3
"""Anyroom test lab: a TURN REST credentials service (the usual
use-auth-secret scheme of coturn), for network.turn-credentials-url.

    turn-creds-server.py --secret-file F --uris 'turn:...,turns:...' [--ttl 600]
                         [--listen 127.0.0.1:0] --port-file P

GET /turn answers {"username": "<expiry>:anyroom", "password":
base64(HMAC-SHA1(secret, username)), "ttl": TTL, "uris": [...]} and logs one
line per request (never the password).
"""
import argparse
import base64
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--secret-file', required=True)
    ap.add_argument('--uris', required=True)
    ap.add_argument('--ttl', type=int, default=600)
    ap.add_argument('--listen', default='127.0.0.1:0')
    ap.add_argument('--port-file', required=True)
    a = ap.parse_args()
    secret = open(a.secret_file).read().strip().encode()
    uris = [u for u in a.uris.split(',') if u]

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split('?')[0] != '/turn':
                self.send_error(404)
                return
            user = f'{int(time.time()) + a.ttl}:anyroom'
            pw = base64.b64encode(hmac.new(secret, user.encode(), hashlib.sha1).digest()).decode()
            body = json.dumps({'username': user, 'password': pw, 'ttl': a.ttl, 'uris': uris}).encode()
            self.send_response(200)
            self.send_header('content-type', 'application/json')
            self.send_header('content-length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(f'credentials for {user} ({len(uris)} uris)', flush=True)

        def log_message(self, *args):
            pass

    host, _, port = a.listen.rpartition(':')
    srv = ThreadingHTTPServer((host, int(port)), H)
    with open(a.port_file, 'w') as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == '__main__':
    main()
