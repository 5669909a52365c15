// Stream decoder fuzzing, shared by test/stream-fuzz.test.ts (>= 100k streams) and `npm run fuzz`
// (>= 1M): mutated real streams and random bytes behind a valid prefix. The decoder must only
// return typed errors (never throw), take a bounded number of steps per byte, and keep its tables
// at their fixed sizes.
import { StreamDecoder } from '../shared/stream/decoder';
import { encodeStream } from '../shared/stream/encoder';
import { fastDecode } from '../host/stream/fast-decode';
import { seededRandom } from '../host/rng';
import { EV_COLOR, EV_END, EV_HOOK, EV_NONE, ERR_AFTER_END, ERR_TRUNCATED } from '../shared/stream/format';

export interface Decoded {
  ops: number[];
  error: number;
  /** Index of the byte that ended the stream (EV_END), or -1. */
  endAt: number;
  ended: boolean;
  /** Largest number of events one byte produced. */
  maxEventsPerByte: number;
}

/** Decode like a device: push each byte, then take events with next() until the decoder needs more. */
export function decodeAll(bytes: ArrayLike<number>, d: StreamDecoder = new StreamDecoder(), stepLimit = 1 << 20): Decoded {
  d.reset();
  const ops: number[] = [];
  let maxEvents = 0;
  for (let i = 0; i < bytes.length; i++) {
    let ev = d.push(bytes[i]);
    let n = 0;
    while (ev !== EV_NONE) {
      if (ev < 0) return { ops, error: ev, endAt: -1, ended: false, maxEventsPerByte: maxEvents };
      if (ev === EV_HOOK) ops.push(d.hook());
      else if (ev === EV_COLOR) ops.push(-(d.color() + 1));
      else if (ev === EV_END) {
        const ended = i === bytes.length - 1;
        return { ops, error: ended ? 0 : ERR_AFTER_END, endAt: i, ended, maxEventsPerByte: Math.max(maxEvents, n + 1) };
      }
      if (++n > stepLimit) throw new Error(`decoder produced more than ${stepLimit} events from byte ${i}`);
      ev = d.next();
    }
    if (n > maxEvents) maxEvents = n;
  }
  return { ops, error: ERR_TRUNCATED, endAt: -1, ended: false, maxEventsPerByte: maxEvents };
}


/**
 * A path shaped like the greedy planner's (bench plans): chords between a minimum gap and the
 * diameter, longer ones more likely (weight grows linearly with the chord's hook distance), both
 * directions equally likely.
 */
export function realisticPath(seed: number, lines: number, hooks: number): number[] {
  const r = seededRandom(seed);
  const half = Math.floor(hooks / 2);
  const minGap = Math.min(Math.max(1, Math.floor(hooks / 16)), half);
  const path = [Math.floor(r() * hooks)];
  for (let i = 0; i < lines; i++) {
    // Linear density on [minGap, half]: inverse CDF of a ramp.
    const u = r();
    const dist = Math.min(half, Math.max(1, Math.round(minGap + (half - minGap) * Math.sqrt(u))));
    const dir = dist * 2 === hooks || r() < 0.5 ? 1 : -1;
    path.push((((path[i] + dir * dist) % hooks) + hooks) % hooks);
  }
  return path;
}

export interface FuzzStats {
  streams: number;
  bytes: number;
  errors: Record<string, number>;
  accepted: number;
  /** Accepted although different from the stream it was mutated from (a CRC-16 collision, ~2^-16 per damaged chunk). */
  undetected: number;
  /** The first undetected case: its number, mutation kind, and the byte positions that differ. */
  firstUndetected: string;
  maxEventsPerByte: number;
}

/** Run `count` fuzz cases from `seed`; throws on the first violation (a throw, a hang, a table that grew). */
export function fuzzStreams(count: number, seed: number): FuzzStats {
  const r = seededRandom(seed);
  const d = new StreamDecoder();
  const stats: FuzzStats = { streams: 0, bytes: 0, errors: {}, accepted: 0, undetected: 0, firstUndetected: '', maxEventsPerByte: 0 };
  const bases: number[][] = [];
  for (let k = 0; k < 8; k++) {
    const hooks = [160, 200, 2, 3, 300, 1000, 17, 160][k];
    let path = realisticPath(seed + k, 20 + Math.floor(r() * 200), hooks);
    // Base 4 is a format 5 stream: 300 flanks of 150 hooks, never two flanks of one hook in a row.
    const flanks = k === 4;
    if (flanks) {
      const kept: number[] = [];
      for (const v of path) if (kept.length === 0 || v >> 1 !== kept[kept.length - 1] >> 1) kept.push(v);
      path = kept;
    }
    const ops: number[] = [];
    for (let i = 0; i < path.length; i++) {
      if (k % 2 === 1 && r() < 0.05) ops.push(-1 - Math.floor(r() * 3));
      ops.push(path[i]);
    }
    bases.push(encodeStream(ops, hooks, [0, 0xff0000, 0x00ff00], {
      version: flanks ? 5 : 4, chunkHooks: 1 + Math.floor(r() * 80), machineHash: k === 7 ? 0x1234567 : 0,
    }));
  }
  const sizes = (dec: StreamDecoder) => {
    const t = dec as unknown as { s: number[] };
    return t.s.length;
  };
  const size0 = sizes(d);
  for (let n = 0; n < count; n++) {
    const base = bases[n % bases.length];
    const bytes = mutate(base, r, n);
    const res = decodeAll(bytes, d, 1 << 17);
    stats.streams++;
    stats.bytes += bytes.length;
    if (res.maxEventsPerByte > stats.maxEventsPerByte) stats.maxEventsPerByte = res.maxEventsPerByte;
    if (res.ended) {
      stats.accepted++;
      if (bytes.length !== base.length || bytes.some((x, i) => x !== base[i])) {
        stats.undetected++;
        if (!stats.firstUndetected) {
          const diff: number[] = [];
          for (let i = 0; i < Math.max(bytes.length, base.length) && diff.length < 8; i++) if (bytes[i] !== base[i]) diff.push(i);
          stats.firstUndetected = `case ${n} (mutation ${n % 8}, ${base.length} -> ${bytes.length} bytes, first differences at ${diff.join(' ')}; same path: ${res.ops.join() === decodeAll(base).ops.join()})`;
        }
      }
    }
    else stats.errors[res.error] = (stats.errors[res.error] || 0) + 1;
    if (sizes(d) !== size0) throw new Error('decoder tables grew on case ' + n);
    // The host's whole-buffer decoder must agree with the streaming decoder (formats 4 and 5).
    if (bytes[4] === 4 || bytes[4] === 5) {
      const f = fastDecode(Uint8Array.from(bytes));
      if ((f.error === 0) !== res.ended || (res.ended && f.ops.join() !== res.ops.join())) {
        throw new Error(`fast decoder disagrees on case ${n}: fast ${f.error}, streaming ${res.error}`);
      }
    }
    // Recovery path too: after a chunk error, resync and keep going to the end of the bytes.
    if (n % 16 === 0 && res.error !== 0 && res.error !== ERR_TRUNCATED) resyncToEnd(bytes, d);
  }
  return stats;
}

function resyncToEnd(bytes: number[], d: StreamDecoder): void {
  d.reset();
  let steps = 0;
  for (let i = 0; i < bytes.length; i++) {
    let ev = d.push(bytes[i]);
    while (ev !== EV_NONE) {
      if (ev < 0 && !d.resync()) return;
      if (ev < 0 || ev === EV_END) break;
      if (++steps > 1 << 20) throw new Error('resync loop');
      ev = d.next();
    }
  }
}

function mutate(base: number[], r: () => number, n: number): number[] {
  const kind = n % 8;
  const b = base.slice();
  if (kind === 0) {
    // one bit flip
    const i = Math.floor(r() * b.length);
    b[i] ^= 1 << Math.floor(r() * 8);
  } else if (kind === 1) {
    // a few random bytes
    const k = 1 + Math.floor(r() * 4);
    for (let j = 0; j < k; j++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  } else if (kind === 2) {
    // truncation
    return b.slice(0, Math.floor(r() * b.length));
  } else if (kind === 3) {
    // insert or delete a run
    const i = Math.floor(r() * b.length);
    const len = 1 + Math.floor(r() * 6);
    if (r() < 0.5) b.splice(i, len);
    else for (let j = 0; j < len; j++) b.splice(i, 0, Math.floor(r() * 256));
  } else if (kind === 4) {
    // valid header, then random bytes (with a sync marker now and then)
    const cut = 30 + Math.floor(r() * 20);
    const out = b.slice(0, Math.min(cut, b.length));
    const len = Math.floor(r() * 300);
    for (let j = 0; j < len; j++) out.push(r() < 0.02 ? 0xc3 : r() < 0.02 ? 0x5a : Math.floor(r() * 256));
    return out;
  } else if (kind === 5) {
    // completely random bytes behind the magic and a version byte
    const out = [0x48, 0x4b, 0x4c, 0x53, r() < 0.8 ? 4 + Math.floor(r() * 2) : Math.floor(r() * 7)];
    const len = Math.floor(r() * 200);
    for (let j = 0; j < len; j++) out.push(Math.floor(r() * 256));
    return out;
  } else if (kind === 6) {
    // swap two chunks' worth of bytes: duplicate or reorder a region
    const i = Math.floor(r() * b.length);
    const j = Math.floor(r() * b.length);
    const len = Math.floor(r() * 40);
    const piece = b.slice(i, i + len);
    b.splice(j, 0, ...piece);
  } else {
    // header fields: flip a bit in the first 40 bytes, fix nothing (the header CRC must catch it)
    const i = Math.floor(r() * Math.min(40, b.length));
    b[i] ^= 1 << Math.floor(r() * 8);
  }
  return b;
}

// `npm run fuzz [count] [seed]`: bundled and run by bench/fuzz.mjs.
if (typeof process !== 'undefined' && process.argv[1] && /fuzz-stream\.mjs$/.test(process.argv[1])) {
  const count = Number(process.argv[2] || 1_000_000);
  const seed = Number(process.argv[3] || 1);
  const t0 = performance.now();
  const rss0 = process.memoryUsage().rss;
  const s = fuzzStreams(count, seed);
  const ms = performance.now() - t0;
  console.log(`fuzz: ${s.streams} streams (${(s.bytes / 1e6).toFixed(1)} MB) in ${(ms / 1000).toFixed(1)} s, seed ${seed}: ` +
    `no throw, no hang, tables fixed; accepted ${s.accepted} (${s.undetected} of them altered); max events from one byte ${s.maxEventsPerByte}; ` +
    `rss +${((process.memoryUsage().rss - rss0) / 1e6).toFixed(1)} MB`);
  if (s.firstUndetected) console.log('first altered stream accepted: ' + s.firstUndetected);
  console.log('errors: ' + Object.entries(s.errors).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', '));
}
