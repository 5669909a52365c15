// The compact stream (format 5 for the planner's flanked plans, format 4 for plans on hook
// centres: one coding) against the alternatives, on the 3000-line plans of the bench images
// (../shared/bench/images): bytes and bits per line for it (everything included), format 1,
// the raw 16-bit hook array, gzip -9 and brotli -q 11 of that array, and the order-0 entropy of
// the hook deltas; the chunk-size trade-off; host decode throughput against a baseline loop in
// the same process. Plans come from bench/bench-plans.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { StreamDecoder } from '../shared/stream/decoder';
import { encodeStream } from '../shared/stream/encoder';
import { EV_HOOK, EV_NONE, TREE_LEVELS } from '../shared/stream/format';
import { bitLength } from '../shared/bits';
import { realisticPath } from './fuzz-stream';
import { fastDecode } from '../host/stream/fast-decode';
import { benchImagesDir, benchPlanFile } from './bench-plans';
import { planPath, type Plan } from '../host/plan/types';

const names = ['coffee', 'chelsea', 'rocket'];

interface BenchPlan { name: string; hooks: number; path: number[]; lines: number; version: number }

function loadPlan(name: string): BenchPlan {
  const file = benchPlanFile(name);
  if (!file) {
    process.stderr.write(`${join(benchImagesDir, name)}.png not found: using a synthetic bench-like path for ${name}\n`);
    return { name: name + '*', hooks: 160, path: realisticPath(names.indexOf(name) + 1, 3000, 160), lines: 3000, version: 4 };
  }
  const plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  return { name, hooks: plan.nails.length, path: planPath(plan), lines: plan.lines.length, version: plan.flanks === 2 ? 5 : 4 };
}

function entropyBytes(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let bits = 0;
  for (const c of counts.values()) bits -= c * Math.log2(c / values.length);
  return bits / 8;
}

function timeIt(fn: () => number, minMs = 400): number {
  let units = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) units += fn();
  return (units / (performance.now() - t0)) * 1000;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
const plans = names.map(loadPlan);
console.log('bytes (bits/line); target: format 4/5 <= 0.95 x brotli-11 of the raw array (flank indices for flanked plans)');
console.log(`${'plan'.padEnd(9)}${pad('lines', 6)}${pad('format 4/5', 16)}${pad('format 1', 16)}${pad('raw 16-bit', 16)}${pad('gzip -9', 16)}${pad('brotli -q 11', 16)}${pad('H0(deltas)', 16)}${pad('f4/brotli', 10)}`);
const streams: Uint8Array[] = [];
for (const p of plans) {
  const raw = Buffer.alloc(p.path.length * 2);
  p.path.forEach((h, i) => raw.writeUInt16BE(h, i * 2));
  const gz = gzipSync(raw, { level: 9 }).length;
  const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }).length;
  const deltas = p.path.slice(1).map((h, i) => (h - p.path[i] + p.hooks) % p.hooks);
  const f2 = Uint8Array.from(encodeStream(p.path, p.hooks, [0], { version: p.version }));
  const f1 = encodeStream(p.path, p.hooks, [0], { version: 1 }).length;
  streams.push(f2);
  const cell = (b: number) => `${b.toFixed(0)} (${((b * 8) / p.lines).toFixed(2)})`.padStart(16);
  console.log(`${p.name.padEnd(9)}${pad(p.lines, 6)}${cell(f2.length)}${cell(f1)}${cell(raw.length)}${cell(gz)}${cell(br)}${cell(entropyBytes(deltas))}${pad((f2.length / br).toFixed(3), 10)}`);
}

console.log('\nchunk size trade-off (format 4/5 bytes; every chunk decodes on its own)');
const sizes = [100, 250, 500, 1000, 1501, 3001];
console.log(`${'plan'.padEnd(9)}${sizes.map((s) => pad(`${s} hooks`, 12)).join('')}${pad('default', 10)}`);
for (let i = 0; i < plans.length; i++) {
  const p = plans[i];
  const row = sizes.map((c) => pad(encodeStream(p.path, p.hooks, [0], { version: p.version, chunkHooks: c }).length, 12)).join('');
  console.log(`${p.name.padEnd(9)}${row}${pad(streams[i].length, 10)}`);
}

// Why the model has 4 tree levels (TREE_LEVELS): the ideal code length of the distances and
// directions (−log2 of the adaptive probability of each decision, the coder's own update rule, shift
// 5, probabilities starting at 1/2, chunks of the default size) when the first L levels of the
// distance tree are modelled and deeper bits are plain (1 bit each). An estimate of the body, not
// a stream: the real encoder also starts from header priors and picks the shift.
function treeCostBytes(path: number[], n: number, levels: number, chunkHooks: number): number {
  const half = Math.floor(n / 2);
  let bits = 0;
  let p: number[] = [];
  let prevDir = 0;
  const decide = (i: number, b: number) => {
    const q = p[i] / 4096;
    bits -= Math.log2(b === 0 ? q : 1 - q);
    p[i] = b === 0 ? p[i] + Math.floor((4096 - p[i]) / 32) : p[i] - Math.floor(p[i] / 32);
  };
  for (let j = 1; j < path.length; j++) {
    if ((j - 1) % chunkHooks === 0) {
      p = new Array(1 << 8).fill(2048);
      prevDir = 0;
    }
    const d = (path[j] - path[j - 1] + n) % n;
    const dist = Math.min(d, n - d);
    let acc = 0;
    let node = 1;
    for (let k = bitLength(half - 1) - 1; k >= 0; k--) {
      if (acc + (1 << k) >= half) continue;
      const b = ((dist - 1) >> k) & 1;
      if (node < 1 << levels) decide(node, b);
      else bits += 1;
      acc += b << k;
      node = node * 2 + b;
    }
    if (2 * dist < n) {
      const dir = d === dist ? 0 : 1;
      decide(254 + prevDir, dir);
      prevDir = dir;
    }
  }
  return bits / 8;
}
const depths = [7, 6, 5, 4, 3, 2, 1];
console.log(`\nmodel depth: ideal body bytes of distances + directions by modelled tree levels (the format uses ${TREE_LEVELS})`);
console.log(`${'plan'.padEnd(9)}${depths.map((l) => pad(`L=${l}`, 9)).join('')}`);
for (const p of plans) {
  const chunk = Math.ceil(p.path.length / Math.max(1, Math.ceil(p.path.length / 2048)));
  console.log(`${p.name.padEnd(9)}${depths.map((l) => pad(treeCostBytes(p.path, p.hooks, l, chunk).toFixed(0), 9)).join('')}`);
}

// Host decode throughput: the format 4 decoder as the device drives it (push, then next until
// EV_NONE), the format 1 decoder, and a baseline loop that only reads the 16-bit hook values.
const bytes2 = streams[0];
const bytes1 = Uint8Array.from(encodeStream(plans[0].path, plans[0].hooks, [0], { version: 1 }));
const raw = Uint16Array.from(plans[0].path);
// One decoder per format, as a device has (a single instance switching formats defeats the JIT).
const decoders: Record<number, StreamDecoder> = { 1: new StreamDecoder(), 4: new StreamDecoder(), 5: new StreamDecoder() };
const decode = (bytes: Uint8Array) => () => {
  const decoder = decoders[bytes[4]];
  decoder.reset();
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    let ev = decoder.push(bytes[i]);
    while (ev !== EV_NONE) {
      if (ev === EV_HOOK) n++;
      ev = decoder.next();
    }
  }
  return n;
};
let sink = 0;
const baseline = () => {
  let sum = 0;
  for (let i = 0; i < raw.length; i++) sum = (sum + raw[i]) & 0xffff;
  sink ^= sum;
  return raw.length;
};
for (let i = 0; i < 20; i++) { decode(bytes2)(); decode(bytes1)(); baseline(); }
const v2 = timeIt(decode(bytes2));
const v1 = timeIt(decode(bytes1));
const base = timeIt(baseline);
console.log(`\nhost decode (${plans[0].name}, ${plans[0].path.length} hooks): format ${bytes2[4]} ${(v2 / 1e6).toFixed(2)} M hooks/s (target >= 5); ` +
  `format 1 ${(v1 / 1e6).toFixed(2)} M hooks/s; baseline 16-bit read loop ${(base / 1e6).toFixed(0)} M hooks/s${sink === -1 ? '' : ''}`);

// The host's whole-buffer decoder (host/stream/fast-decode.ts), what `hookline decode` uses.
let fastHooks = 0;
const fast = () => {
  const r = fastDecode(bytes2);
  fastHooks = r.ops.length;
  return r.ops.length;
};
for (let i = 0; i < 20; i++) fast();
const vf = timeIt(fast);
console.log(`host whole-buffer decoder (host/stream/fast-decode.ts): ${(vf / 1e6).toFixed(2)} M hooks/s (${fastHooks} hooks per run)`);
