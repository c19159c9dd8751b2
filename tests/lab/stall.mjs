import { mkTemp, startAnyroomd, anyroomctl, sleep } from './lab.mjs';
import { startJanus } from './janus.mjs';
import { launchParticipant } from './participant.mjs';
const tmp = mkTemp('stall');
const janus = await startJanus({ dir: tmp + '/janus', iceEnforce: '10.97.0.1' });
const d = await startAnyroomd({ tmp });
const alice = await launchParticipant({ display: 'alice' });
await sleep(2000);
console.log(await anyroomctl(d.socket, ['join', 'janus+ws://127.0.0.1:8188/?room=1234&display=Room']));
for (let i = 0; i < 40; i++) {
  await sleep(1000);
  const r = await anyroomctl(d.socket, ['status', '--json']);
  const s = JSON.parse(r.stdout);
  console.log(i, s.tracks.filter(t => t.direction === 'recv').map(t => `${t.kind} ${t.width}x${t.height} f=${t.frames} p=${t.packets} lost=${t.packets_lost} nack=${t.nack_count}`).join(' | '));
}
process.exit(0);
