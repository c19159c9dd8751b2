// What the provisioning tests share (test-provision.mjs, test-provision-dhcp.mjs): signing a
// file as an administrator does, reading a room's audit log, asking its HTTPS API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildDir, run } from '../lab/lab.mjs';
import { certPins, pinnedRequest } from '../lab/admin-browser.mjs';

const SRC = process.env.AR_SOURCE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const PROVISION_TOOL = path.join(buildDir(), 'firmware', 'provision', 'anyroom-provision');

// @json (an object, or text as it is) signed by rootfs/keys/sign-provisioning.sh with the
// development keys in @keys (gen-dev-keys.sh), into @tmp/@name.cms; with @check, the device's
// own check first (ANYROOM_PROVISION_CHECK). Returns the signed bytes.
export async function signProvisioning({ tmp, name, json, keys, check = true }) {
  const inFile = path.join(tmp, `${name}.json`);
  const outFile = path.join(tmp, `${name}.cms`);
  fs.writeFileSync(inFile, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  const r = await run('bash', [path.join(SRC, 'rootfs', 'keys', 'sign-provisioning.sh'), inFile, outFile], {
    env: {
      ...process.env,
      ANYROOM_SIGNING_KEY: path.join(keys, 'signing.key.pem'),
      ANYROOM_SIGNING_CERT: path.join(keys, 'signing.cert.pem'),
      ANYROOM_KEYRING: path.join(keys, 'keyring.pem'),
      ...(check ? { ANYROOM_PROVISION_CHECK: PROVISION_TOOL } : {}),
    },
  });
  assert.equal(r.code, 0, `sign-provisioning.sh ${name}: ${r.stderr}`);
  return fs.readFileSync(outFile);
}

// The entries of a room's audit log: 'auth' (audit.log) or 'unauth' (audit-unauth.log).
export function auditLines(stateDir, stream) {
  const f = path.join(stateDir, stream === 'unauth' ? 'audit-unauth.log' : 'audit.log');
  if (!fs.existsSync(f)) return [];
  return fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// A request to the room's HTTPS API on 127.0.0.1:@port, its certificate pinned.
export function roomRequest(stateDir, port, opts) {
  const pem = fs.readFileSync(path.join(stateDir, 'admin-cert.pem'), 'utf8');
  return pinnedRequest({ port, fingerprint256: certPins(pem).fingerprint256, ...opts });
}
