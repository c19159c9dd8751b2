// What the tests in the three-namespace lab (tests/lab/net3.sh: room |
// middle | meeting) share: the namespaces, the middle's path mode, the room's
// signalling to Janus, and one anyroomd in the room's namespace per case.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startJanus } from '../lab/janus.mjs';
import { LAB, startAnyroomd, startProcess, tail } from '../lab/lab.mjs';
import { launchParticipant, waitFor } from '../lab/participant.mjs';

export const NS = { room: process.env.AR_NET3_ROOM, middle: process.env.AR_NET3_MIDDLE, meet: process.env.AR_NET3_MEET };

// The middle namespace's forwarding mode (ar_net3_mode in tests/lab/net3.sh).
export function net3Mode(m) {
  const r = spawnSync('bash', ['-c', `. "$AR_NET3_SH" && ar_net3_mode ${m}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `ar_net3_mode ${m}: ${r.stderr}`);
}

// {group: {key: value}} as a config file.
export function ini(groups) {
  return Object.entries(groups).map(([g, kv]) =>
    `[${g}]\n${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join('\n')}\n`).join('\n');
}

// anyroomd in the room's namespace with a config of @groups (room name and a
// 15 s join timeout unless @groups says otherwise), its files under tmp/name,
// @env added to its environment.
export async function startNet3Room(tmp, name, groups = {}, env = {}) {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'anyroom.conf');
  const { room = {}, call = {}, ...rest } = groups;
  fs.writeFileSync(conf, ini({ room: { name: `Room-${name}`, ...room }, call: { 'join-timeout': 15, ...call }, ...rest }), { mode: 0o600 });
  return startAnyroomd({ tmp: dir, netns: NS.room, extraArgs: ['--config', conf], env });
}

// Leaves, stops @d and keeps its log in @out.
export async function stopNet3Room(d, out) {
  await d.ctl('leave').catch(() => {});
  await d.stop(10000);
  try { fs.copyFileSync(d.log, path.join(out, `anyroomd-${path.basename(path.dirname(d.log))}.log`)); } catch { /* none */ }
}

// The room's signalling to Janus: tests/lab/ns-bridge.py carries the room's 127.0.0.1:8188 to
// the meeting namespace's (no network path). Log in tmp/bridge.log; resolves once it listens.
export async function startSignallingBridge(tmp) {
  const ready = path.join(tmp, 'bridge.ready');
  const log = path.join(tmp, 'bridge.log');
  const bridge = startProcess('ip', ['netns', 'exec', NS.room, 'python3', path.join(LAB, 'ns-bridge.py'),
    '--listen', '127.0.0.1:8188', '--to-netns', NS.meet, '--connect', '127.0.0.1:8188', '--ready-file', ready],
  { logFile: log });
  try {
    await waitFor('the signalling bridge', async () => fs.existsSync(ready) || (bridge.exited && Promise.reject(new Error(tail(log)))), { timeoutMs: 5000 });
  } catch (e) {
    await bridge.stop();
    throw e;
  }
  return bridge;
}

// The meeting side of a direct path: Janus in the meeting namespace, the room's signalling bridge,
// a Chromium participant "alice" in the lab room, the middle routing. Its files under @tmp, the
// participant's log in @out. -> {janus, bridge, alice}; stopNet3Meeting() ends what started.
export async function startNet3Meeting(tmp, out) {
  const m = {};
  if (!NS.room || !NS.middle || !NS.meet) throw new Error('run me with tests/integration/run-in-net-lab.sh');
  fs.mkdirSync(out, { recursive: true });
  try {
    m.janus = await startJanus({ dir: path.join(tmp, 'janus'), iceEnforce: process.env.AR_NET3_MEET_ADDR || '10.98.2.2' });
    m.bridge = await startSignallingBridge(tmp);
    m.alice = await launchParticipant({ display: 'alice', logDir: out });
    await m.alice.waitJoined();
    net3Mode('direct');
  } catch (e) {
    await stopNet3Meeting(m); // what started, stopped: the caller gets nothing to stop
    throw e;
  }
  return m;
}

export async function stopNet3Meeting(m) {
  if (!m) return;
  if (m.alice) await m.alice.close().catch(() => {});
  if (m.bridge) await m.bridge.stop();
  if (m.janus) await m.janus.stop();
}
