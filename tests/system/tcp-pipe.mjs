// TEST HELPER (not product code): qemu's guestfwd runs this for each connection the guest makes
// to GUEST_HTTP_ADDR:80 (tests/system/vm.py) and talks to it on stdin/stdout; it pipes them to
// 127.0.0.1:PORT on the host (the system test's fixture web app). Usage: node tcp-pipe.mjs PORT
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: node tcp-pipe.mjs PORT\n');
  process.exit(2);
}
const sock = net.connect(port, '127.0.0.1');
process.stdin.pipe(sock);
sock.pipe(process.stdout);
sock.on('error', () => process.exit(1));
sock.on('close', () => process.exit(0));
process.stdin.on('end', () => sock.end());
