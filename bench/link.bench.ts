// `npm run bench:link`: the link protocol at 115200 baud in virtual time.
// 1. Throughput: a 3000-line format 4 stream pushed through LinkSender → FaultyPipe → LinkReceiver
//    to a device that consumes at once (the line, not the machine, sets the pace): lines/s, and
//    protocol overhead (wire bytes in both directions beyond the stream's own) per line.
// 2. Whole sessions (hookline run --port sim) on a 300-line plan: bytes per line each way.
// 3. The fault sweep: whole sessions under each fault alone, corrupt/drop 0.01…0.2 (the documented
//    maximum, parseFaults in host/commands/run.ts) on a 100-line plan and 10…1000 power cuts on a
//    300-line plan, 3 seeds each: every run must end with the plan wrapped exactly once and no
//    motion violation, or stop with its one-line message (printed).
import { readFileSync } from 'node:fs';
import { encodeStream } from '../shared/stream/encoder';
import { FR_OK, FrameDecoder, MAX_PAYLOAD } from '../shared/link/frame';
import { LinkReceiver } from '../shared/link/receiver';
import { T_ACK, T_DATA, getUint, putUint } from '../shared/link/protocol';
import { LinkSender } from '../host/link/sender';
import { FaultyPipe, NO_FAULTS, type PipeFaults } from '../host/link/faulty-pipe';
import { seededRandom } from '../host/rng';
import { machineHash } from '../host/stream/machine-hash';
import { runLinkSim } from '../sim/session/link-sim';
import type { MachineProfile } from '../shared/machine';

const machine = JSON.parse(readFileSync('machines/ref-gantry.json', 'utf8')) as MachineProfile;
function path(seed: number, lines: number): number[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const p = [Math.floor(rnd() * 160)];
  for (let i = 0; i < lines; i++) p.push((p[i] + 8 + Math.floor(rnd() * 144)) % 160);
  return p;
}
const streamOf = (lines: number) => Uint8Array.from(encodeStream(path(1, lines), 160, [0], { version: 4, machineHash: machineHash(machine) }));

function throughput(stream: Uint8Array, faults: PipeFaults, seed: number) {
  const baud = 115200;
  const rnd = seededRandom(seed);
  const toDevice = new FaultyPipe(baud, faults, rnd);
  const toHost = new FaultyPipe(baud, faults, rnd);
  let now = 0;
  let got = 0;
  const rx = new LinkReceiver({ hello() {}, credit: () => 256, deliver(_t, _p, len) { got += len - 4; } }, (b) => toHost.write(b, now));
  const tx = new LinkSender({ window: 8, timeoutMs: 60, maxTimeoutMs: 500, initialCredit: 256, byteMs: 10_000 / baud });
  for (let off = 0; off < stream.length; off += MAX_PAYLOAD - 4) {
    const p: number[] = [];
    putUint(p, off, 4);
    for (let i = off; i < Math.min(stream.length, off + MAX_PAYLOAD - 4); i++) p.push(stream[i]);
    tx.send(T_DATA, p);
  }
  const fd = new FrameDecoder();
  while (tx.pending > 0) {
    for (const f of tx.poll(now)) toDevice.write(f, now);
    now = Math.min(toDevice.nextArrival(), toHost.nextArrival(), tx.nextDeadline());
    for (const b of toDevice.receive(now)) rx.push(b);
    for (const b of toHost.receive(now)) if (fd.push(b) === FR_OK && fd.type === T_ACK) tx.acked(fd.ack, getUint(fd.payload, 0, 2), now);
  }
  if (got !== stream.length) throw new Error('not delivered exactly');
  return { seconds: now / 1000, wire: toDevice.counts.bytes + toHost.counts.bytes, retrans: tx.retransmissions };
}

const faulty: PipeFaults = { corrupt: 0.01, drop: 0.01, dup: 0.005, reorder: 0 };
const s3000 = streamOf(3000);
console.log(`stream: 3000 lines, ${s3000.length} bytes (${((s3000.length * 8) / 3000).toFixed(2)} bits/line)`);
for (const [name, f] of [['clean', NO_FAULTS], ['1% corrupt, 1% drop, 0.5% dup', faulty]] as const) {
  const r = throughput(s3000, f, 7);
  console.log(`link ${name}: ${(3000 / r.seconds).toFixed(0)} lines/s at 115200 baud (${r.seconds.toFixed(3)} s line time), overhead ${((r.wire - s3000.length) / 3000).toFixed(2)} bytes/line on the wire (both directions), ${r.retrans} retransmissions`);
}
const s300 = streamOf(300);
for (const [name, f, resets] of [['clean', NO_FAULTS, 0], ['faults + 5 power cuts', faulty, 5]] as const) {
  const r = runLinkSim(s300, machine, { faults: f, resets, seed: 3 });
  console.log(
    `session ${name} (300 lines): exact ${r.firstMismatch === null && r.wrapped.length === r.planHooks.length}, ${(r.machineSeconds / 300).toFixed(2)} s machine time per line, ` +
      `host→device ${(r.link.bytesToDevice / 300).toFixed(0)} B/line, device→host ${(r.link.bytesToHost / 300).toFixed(0)} B/line (STATUS 4/s), ${r.faults.retransmissions} retransmissions, wall ${r.wallSeconds.toFixed(2)} s`,
  );
}

const s100 = streamOf(100);
const sweep: [string, PipeFaults, number, Uint8Array][] = [];
for (const k of ['corrupt', 'drop'] as const) {
  for (const v of [0.01, 0.02, 0.05, 0.1, 0.15, 0.2]) sweep.push([`${k}=${v}`, { ...NO_FAULTS, [k]: v }, 0, s100]);
}
for (const n of [10, 100, 1000]) sweep.push([`resets=${n}`, NO_FAULTS, n, s300]);
sweep.push(['corrupt=0.05,drop=0.05,dup=0.01,resets=100', { corrupt: 0.05, drop: 0.05, dup: 0.01, reorder: 0 }, 100, s300]);
let bad = 0;
for (const [name, f, resets, st] of sweep) {
  const lines = st === s100 ? 100 : 300;
  const out: string[] = [];
  for (const seed of [1, 2, 3]) {
    const r = runLinkSim(st, machine, { faults: f, resets, seed });
    const exact = r.firstMismatch === null && r.wrapped.length === r.planHooks.length;
    const violations = Object.values(r.violationCounts).reduce((a, b) => (a ?? 0) + (b ?? 0), 0) ?? 0;
    if (r.error) out.push(`seed ${seed}: stopped: ${r.error}`);
    else {
      if (!exact || violations > 0) bad++;
      out.push(`seed ${seed}: ${exact ? 'exact' : 'NOT EXACT'}, ${violations} violations, ${(r.machineSeconds / lines).toFixed(2)} s/line, ${r.faults.handshakes} handshakes, ${r.faults.retransmissions} retransmissions, wall ${r.wallSeconds.toFixed(1)} s`);
    }
  }
  console.log(`sweep ${name} (${lines} lines):\n  ${out.join('\n  ')}`);
}
if (bad > 0) {
  console.log(`${bad} sweep runs completed without the exact plan or with violations`);
  process.exitCode = 1;
}
