import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeStream } from '../shared/stream/encoder';
import { DecoderField, StreamDecoder } from '../shared/stream/decoder';
import {
  EV_CHUNK, EV_HEADER, EV_HOOK, EV_NONE, ERR_BAD_MAGIC, ERR_BODY, ERR_BODY_CRC, ERR_MACHINE, ERR_OVERRUN, ERR_RETIRED, ERR_TRUNCATED, ERR_VERSION, TREE_LEVELS,
} from '../shared/stream/format';
import { crc16 } from '../shared/crc16';
import { bitLength } from '../shared/bits';
import { decodeAll, realisticPath } from '../bench/fuzz-stream';
import { decodeChunks } from '../host/stream/plan-stream';
import { fastDecode } from '../host/stream/fast-decode';
import { canonicalJson, crc32, machineHash } from '../host/stream/machine-hash';

/** A stream input: hook count, palette, and a path of hooks with colour changes among them. */
const streamInput = (maxHooks: number, repeats: boolean) =>
  fc
    .record({ hookCount: fc.integer({ min: 2, max: maxHooks }), colorCount: fc.integer({ min: 1, max: 16 }) })
    .chain(({ hookCount, colorCount }) =>
      fc.record({
        hookCount: fc.constant(hookCount),
        colors: fc.array(fc.integer({ min: 0, max: 0xffffff }), { minLength: colorCount, maxLength: colorCount }),
        ops: fc
          .array(
            fc.oneof(
              { weight: 9, arbitrary: fc.integer({ min: 0, max: hookCount - 1 }) },
              { weight: 1, arbitrary: fc.integer({ min: 1, max: colorCount }).map((c) => -c) },
            ),
            { maxLength: 400 },
          )
          .map((ops) => (repeats ? ops : dropRepeats(ops))),
        chunkHooks: fc.integer({ min: 1, max: 300 }),
      }),
    );

/** Format 4 paths never visit the same hook twice in a row (a line joins two different hooks). */
function dropRepeats(ops: number[]): number[] {
  const out: number[] = [];
  let last = -1;
  for (const op of ops) {
    if (op >= 0 && op === last) continue;
    if (op >= 0) last = op;
    out.push(op);
  }
  return out;
}

const v2 = (ops: number[], hookCount: number, colors: number[], extra: Record<string, number> = {}) =>
  encodeStream(ops, hookCount, colors, { version: 4, ...extra });

describe('shared helpers', () => {
  it('CRC-16/CCITT-FALSE check value', () => {
    const check = [...'123456789'].map((c) => c.charCodeAt(0));
    expect(crc16(check, 0, check.length)).toBe(0x29b1);
  });
  it('bitLength', () => {
    expect([0, 1, 2, 3, 4, 79, 80, 127, 128, 16383].map(bitLength)).toEqual([0, 1, 2, 2, 3, 7, 7, 7, 8, 14]);
  });
  it('machine hash: CRC-32 check value, canonical JSON, description ignored, 31 bits', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(canonicalJson({ b: [1, { d: 2, c: 3 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":3,"d":2}]}');
    const h = machineHash({ a: 1, b: { c: 2 }, description: 'one' });
    expect(machineHash({ b: { c: 2 }, a: 1, description: 'two' })).toBe(h);
    expect(machineHash({ a: 2, b: { c: 2 } })).not.toBe(h);
    expect(h).toBeGreaterThan(0);
    expect(h).toBeLessThan(2 ** 31);
  });
});

describe('stream codec, format 1', () => {
  it('round-trips every path exactly', () => {
    fc.assert(
      fc.property(streamInput(0x7fff, true), ({ hookCount, colors, ops }) => {
        const d = decodeAll(encodeStream(ops, hookCount, colors));
        expect(d.error).toBe(0);
        expect(d.ended).toBe(true);
        expect(d.ops).toEqual(ops);
      }),
    );
  });

  it('detects every single-bit flip', () => {
    fc.assert(
      fc.property(streamInput(0x7fff, true), fc.nat(), fc.integer({ min: 0, max: 7 }), ({ hookCount, colors, ops }, at, bit) => {
        const bytes = encodeStream(ops, hookCount, colors);
        bytes[at % bytes.length] ^= 1 << bit;
        expect(decodeAll(bytes).ended).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('detects every truncation', () => {
    const bytes = encodeStream([0, 50, 100, -2, 3, 7], 160, [0, 0xd0803c]);
    for (let n = 0; n < bytes.length; n++) expect(decodeAll(bytes.slice(0, n)).ended).toBe(false);
  });

  it('names bad magic and a newer version', () => {
    const bytes = encodeStream([1, 2], 10, [0]);
    expect(decodeAll([0x50, ...bytes.slice(1)]).error).toBe(ERR_BAD_MAGIC);
    const newer = bytes.slice();
    newer[4] = 6;
    expect(decodeAll(newer).error).toBe(ERR_VERSION);
    // Formats 2 and 3 had a 7-level model: refused by name, never misread.
    for (const retired of [2, 3]) {
      const old = bytes.slice();
      old[4] = retired;
      expect(decodeAll(old).error).toBe(ERR_RETIRED);
      expect(fastDecode(Uint8Array.from(old)).error).toBe(ERR_RETIRED);
    }
  });

  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void decodeAll(bytes)), { numRuns: 5000 });
  });
});

/** A bench-like path over 320 flanks (160 hooks), never joining a hook to itself. */
function flankPath(seed: number, lines: number): number[] {
  const out: number[] = [];
  for (const v of realisticPath(seed, lines, 320)) if (out.length === 0 || v >> 1 !== out[out.length - 1] >> 1) out.push(v);
  return out;
}

describe('stream codec, format 5 (hook flanks)', () => {
  /** A path of flanks (index 2h + f) that never joins a hook to itself, with colour changes. */
  const flankInput = fc
    .record({ hooks: fc.integer({ min: 2, max: 2000 }), colors: fc.integer({ min: 1, max: 4 }) })
    .chain(({ hooks, colors }) =>
      fc.record({
        hooks: fc.constant(hooks),
        colors: fc.constant(Array.from({ length: colors }, (_, i) => i * 0x101010)),
        ops: fc
          .array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 * hooks - 1 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: colors }).map((c) => -c) }), { maxLength: 300 })
          .map((ops) => {
            const out: number[] = [];
            let last = -1;
            for (const op of ops) {
              if (op >= 0 && last >= 0 && op >> 1 === last >> 1) continue;
              if (op >= 0) last = op;
              out.push(op);
            }
            return out;
          }),
        chunkHooks: fc.integer({ min: 1, max: 300 }),
      }),
    );

  it('round-trips every flank path exactly; the decoder reports 2 flanks per hook', () => {
    fc.assert(
      fc.property(flankInput, ({ hooks, colors, ops, chunkHooks }) => {
        const bytes = encodeStream(ops, 2 * hooks, colors, { version: 5, chunkHooks });
        expect(bytes[4]).toBe(5);
        const d = new StreamDecoder();
        const r = decodeAll(bytes, d);
        expect([r.error, r.ended]).toEqual([0, true]);
        expect(r.ops).toEqual(ops);
        expect([d.flanks(), d.get(DecoderField.HOOK_COUNT)]).toEqual([2, 2 * hooks]);
        const f = fastDecode(Uint8Array.from(bytes));
        expect([f.error, f.ops]).toEqual([0, ops]);
      }),
      { numRuns: 200 },
    );
  });

  it('is format 4 byte for byte but for the version, and format 4 decoders see one flank per hook', () => {
    const ok = flankPath(3, 500);
    const five = encodeStream(ok, 320, [0], { version: 5 });
    const four = encodeStream(ok, 320, [0], { version: 4 });
    const diff = five.map((b, i) => (b !== four[i] ? i : -1)).filter((i) => i >= 0);
    // The version byte and the header CRC differ, nothing else.
    const hl = four[6] * 256 + four[7];
    expect(diff.every((i) => i === 4 || i === hl || i === hl + 1)).toBe(true);
    const d = new StreamDecoder();
    decodeAll(four, d);
    expect(d.flanks()).toBe(1);
  });

  it('refuses a line between the two flanks of one hook, and an odd flank count', () => {
    expect(() => encodeStream([4, 5], 20, [0], { version: 5 })).toThrow(/both hook 2/);
    expect(() => encodeStream([4, 7], 21, [0], { version: 5 })).toThrow(/even/);
  });

  it('detects every single-bit flip and truncation of a real stream', () => {
    const path = flankPath(8, 120);
    const bytes = encodeStream(path, 320, [0], { version: 5, chunkHooks: 50 });
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = bytes.slice();
        b[i] ^= 1 << bit;
        if (decodeAll(b).ended) throw new Error(`flip of bit ${bit} in byte ${i} not detected`);
      }
    }
    for (let n = 0; n < bytes.length; n++) expect(decodeAll(bytes.slice(0, n)).ended).toBe(false);
  });
});

describe('stream codec, format 4', () => {
  const real = realisticPath(11, 3000, 160);
  const realBytes = v2(real, 160, [0]);
  const small = realisticPath(5, 300, 160);
  const smallOps = [...small.slice(0, 100), -2, ...small.slice(100, 220), -1, ...small.slice(220)];
  const smallBytes = v2(smallOps, 160, [0, 0xff0000], { chunkHooks: 64 });

  it('round-trips every path exactly (any hook count, palette, chunk size)', () => {
    fc.assert(
      fc.property(streamInput(0x7fff, false), ({ hookCount, colors, ops, chunkHooks }) => {
        const bytes = v2(ops, hookCount, colors, { chunkHooks });
        const d = decodeAll(bytes);
        expect(d.error).toBe(0);
        expect(d.ended).toBe(true);
        expect(d.ops).toEqual(ops);
        const f = fastDecode(Uint8Array.from(bytes));
        expect(f.error).toBe(0);
        expect(f.ops).toEqual(ops);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(streamInput(400, false), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: TREE_LEVELS }), (input, shift, priorLevels) => {
        const d = decodeAll(v2(input.ops, input.hookCount, input.colors, { chunkHooks: input.chunkHooks, shift, priorLevels }));
        expect(d.ops).toEqual(input.ops);
        expect(d.ended).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips a 3000-line bench-like plan in about 6.8 bits per line', () => {
    const d = decodeAll(realBytes);
    expect(d.ended).toBe(true);
    expect(d.ops).toEqual(real);
    expect((realBytes.length * 8) / 3000).toBeLessThan(7.2);
  });

  it('refuses a line from a hook to itself', () => {
    expect(() => v2([3, 3], 10, [0])).toThrow(RangeError);
  });

  it('detects every single-bit flip of a real stream', () => {
    for (let i = 0; i < smallBytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bytes = smallBytes.slice();
        bytes[i] ^= 1 << bit;
        const d = decodeAll(bytes);
        if (d.ended) throw new Error(`flip of bit ${bit} in byte ${i} not detected`);
      }
    }
    fc.assert(
      fc.property(fc.nat(realBytes.length - 1), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const bytes = realBytes.slice();
        bytes[at] ^= 1 << bit;
        expect(decodeAll(bytes).ended).toBe(false);
      }),
      { numRuns: 1500 },
    );
  });

  it('detects every truncation of a real stream', () => {
    for (let n = 0; n < smallBytes.length; n++) {
      const d = decodeAll(smallBytes.slice(0, n));
      expect(d.ended).toBe(false);
      expect(d.error).toBe(ERR_TRUNCATED);
    }
  });

  it('every chunk carries index and first line; chunks verify as they end', () => {
    const d = new StreamDecoder();
    const chunks: number[][] = [];
    for (const b of smallBytes) {
      for (let ev = d.push(b); ev !== EV_NONE; ev = d.next()) {
        expect(ev).toBeGreaterThan(0);
        if (ev === EV_CHUNK) chunks.push([d.get(DecoderField.CHUNK_INDEX), d.get(DecoderField.CHUNK_INDEX) * d.get(DecoderField.CHUNK_HOOKS), d.get(DecoderField.HOOKS_SEEN)]);
      }
    }
    expect(d.get(DecoderField.CHUNK_HOOKS)).toBe(64);
    expect(chunks).toEqual([0, 1, 2, 3, 4].map((i) => [i, i * 64, Math.min(301, (i + 1) * 64)]));
  });

  it('a damaged chunk is rejected and the chunks after it still decode (resync)', () => {
    const r0 = decodeChunks(Uint8Array.from(smallBytes));
    // Any damage after chunk 2's length field: the length says exactly where chunk 3 starts, even
    // when the damaged body asks for more bytes than it has.
    for (let at = r0.chunks[2].start + 11; at < r0.chunks[3].start; at++) {
      for (const flip of [0x01, 0x40]) {
        const bad = smallBytes.slice();
        bad[at] ^= flip;
        const r = decodeChunks(Uint8Array.from(bad));
        expect(r.ended).toBe(true);
        expect(r.chunks.map((c) => [c.index, c.error === 0])).toEqual([[0, true], [1, true], [2, false], [3, true], [4, true]]);
        expect([ERR_BODY, ERR_BODY_CRC]).toContain(r.chunks[2].error);
        for (const i of [0, 1, 3, 4]) expect(r.chunks[i].ops).toEqual(r0.chunks[i].ops);
        // Every chunk keeps its place in the bytes (hookline inspect's offsets), the damaged one too.
        expect(r.chunks.map((c) => [c.start, c.end])).toEqual(r0.chunks.map((c) => [c.start, c.end]));
      }
    }
    // A damaged sync marker or index: the scan finds the next chunk all the same.
    const bad2 = smallBytes.slice();
    bad2[r0.chunks[1].start] ^= 0x01;
    const r2 = decodeChunks(Uint8Array.from(bad2));
    expect(r2.ended).toBe(true);
    expect(r2.chunks.filter((c) => c.error === 0).map((c) => c.index)).toEqual([0, 2, 3, 4]);
  });

  it('resumes at any chunk after the header', () => {
    const r0 = decodeChunks(Uint8Array.from(smallBytes));
    for (let k = 0; k < r0.chunks.length; k++) {
      const d = new StreamDecoder();
      const ops: number[] = [];
      const feed = (bytes: number[]) => {
        for (const b of bytes) for (let ev = d.push(b); ev !== EV_NONE; ev = d.next()) {
          expect(ev).toBeGreaterThan(0);
          if (ev === EV_HEADER) expect(d.resumeAt(k)).toBe(true);
          if (ev === EV_HOOK) ops.push(d.hook());
          if (ev === 3) ops.push(-(d.color() + 1));
        }
      };
      feed(smallBytes.slice(0, r0.headerBytes));
      feed(smallBytes.slice(r0.chunks[k].start));
      expect(ops).toEqual(r0.chunks.slice(k).flatMap((c) => c.ops));
    }
  });

  it('refuses a stream for another machine, accepts hash 0 and its own', () => {
    const bytes = v2([1, 5, 9], 10, [0], { machineHash: 0x1234567 });
    const d = new StreamDecoder();
    d.setExpectMachine(0x7654321);
    expect(decodeAll(bytes, d).error).toBe(ERR_MACHINE);
    d.setExpectMachine(0x1234567);
    expect(decodeAll(bytes, d).ended).toBe(true);
    expect(d.get(DecoderField.MACHINE_HASH)).toBe(0x1234567);
    d.setExpectMachine(0x7654321);
    expect(decodeAll(v2([1, 5, 9], 10, [0]), d).ended).toBe(true);
  });

  it('refuses a newer major version; accepts a newer minor version with extra header fields', () => {
    const bytes = v2([1, 5, 9], 10, [0]);
    const newer = bytes.slice();
    newer[4] = 6;
    expect(decodeAll(newer).error).toBe(ERR_VERSION);
    const ext = encodeStream([1, 5, 9], 10, [0], { version: 4, headerExtension: [1, 2, 3] });
    ext[5] = 7; // minor 7
    const hl = ext[6] * 256 + ext[7];
    const c = crc16(ext, 0, hl);
    ext[hl] = c >> 8;
    ext[hl + 1] = c & 0xff;
    const d = new StreamDecoder();
    const r = decodeAll(ext, d);
    expect(r.ended).toBe(true);
    expect(r.ops).toEqual([1, 5, 9]);
    expect(d.get(DecoderField.MINOR)).toBe(7);
  });

  it('a receiver with a small queue can stop taking events when full and carry on later (backpressure)', () => {
    const d = new StreamDecoder();
    const queue: number[] = [];
    const done: number[] = [];
    let pending = false; // the decoder may hold more events: call next() before pushing again
    let i = 0;
    let steps = 0;
    const take = (first: number) => {
      let ev = first;
      for (;;) {
        if (ev === EV_NONE) {
          pending = false;
          return;
        }
        expect(ev).toBeGreaterThan(0);
        if (ev === EV_HOOK) queue.push(d.hook());
        if (queue.length >= 4) {
          pending = true;
          return;
        }
        ev = d.next();
      }
    };
    while (done.length < real.length && steps++ < 1e6) {
      if (queue.length > 0 && (steps % 3 === 0 || queue.length >= 4)) done.push(queue.shift()!); // the motion consumes
      else if (pending) take(d.next());
      else if (queue.length < 4 && i < realBytes.length) take(d.push(realBytes[i++]));
      else if (queue.length > 0) done.push(queue.shift()!);
    }
    expect(done).toEqual(real);
  });

  it('pushing a byte before taking all events is an overrun, not a silent loss', () => {
    const d = new StreamDecoder();
    let err = 0;
    for (const b of realBytes) {
      const ev = d.push(b);
      if (ev < 0) {
        err = ev;
        break;
      }
    }
    expect(err).toBe(ERR_OVERRUN);
  });

  it('never throws on random bytes behind a valid header', () => {
    const header = v2([], 160, [0]).slice(0, 32);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void decodeAll([...header, ...bytes])), { numRuns: 5000 });
  });
});
