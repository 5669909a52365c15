// Stream format 1: size against the raw 16-bit array, and host decode throughput against a
// baseline loop that only reads the same 16-bit values (the least any decoder must do).
import { StreamDecoder } from '../shared/stream/decoder';
import { encodeStream } from '../shared/stream/encoder';
import { EV_HOOK } from '../shared/stream/format';

function path(lines: number, hooks: number): number[] {
  let s = 12345;
  const p = [0];
  for (let i = 0; i < lines; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    p.push((p[i] + 8 + Math.floor((s / 2147483648) * (hooks - 16))) % hooks);
  }
  return p;
}

function timeIt(fn: () => number, minMs = 300): { perSec: number; check: number } {
  let n = 0;
  let units = 0;
  let check = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    const r = fn();
    units += r;
    check ^= r;
    n++;
  }
  return { perSec: (units / (performance.now() - t0)) * 1000, check };
}

const hooks = path(3000, 160);
const bytes = Uint8Array.from(encodeStream(hooks, 160, [0]));
const raw = Uint16Array.from(hooks);

const decoder = new StreamDecoder();
const decode = () => {
  decoder.reset();
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (decoder.push(bytes[i]) === EV_HOOK) n++;
  return n;
};
const baseline = () => {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < raw.length; i++) {
    sum = (sum + raw[i]) & 0xffff;
    n++;
  }
  return n + (sum & 0);
};

for (let i = 0; i < 3; i++) { decode(); baseline(); }
const ours = timeIt(decode);
const base = timeIt(baseline);
console.log(`3000-line plan, 160 hooks: stream ${bytes.length} B (${((bytes.length * 8) / 3000).toFixed(2)} bits/line), raw 16-bit array ${raw.byteLength} B, ratio ${(bytes.length / raw.byteLength).toFixed(3)}`);
console.log(`host decode: ${(ours.perSec / 1e6).toFixed(2)} M hooks/s; baseline read loop ${(base.perSec / 1e6).toFixed(1)} M hooks/s; ratio ${(ours.perSec / base.perSec).toFixed(3)}`);
