import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeStream } from '../shared/stream/encoder';
import { StreamDecoder } from '../shared/stream/decoder';
import { EV_COLOR, EV_END, EV_HOOK, ERR_BAD_MAGIC, ERR_VERSION } from '../shared/stream/format';
import { crc16 } from '../shared/crc16';

interface Decoded { ops: number[]; error: number; ended: boolean }

function decodeAll(bytes: ArrayLike<number>): Decoded {
  const d = new StreamDecoder();
  const ops: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const ev = d.push(bytes[i]);
    if (ev < 0) return { ops, error: ev, ended: false };
    if (ev === EV_HOOK) ops.push(d.hook);
    if (ev === EV_COLOR) ops.push(-(d.color + 1));
    if (ev === EV_END) return { ops, error: 0, ended: i === bytes.length - 1 };
  }
  return { ops, error: 0, ended: false };
}

/** A stream input: hook count, palette, and a path of hooks with colour changes among them. */
const streamInput = fc
  .record({ hookCount: fc.integer({ min: 2, max: 0x7fff }), colorCount: fc.integer({ min: 1, max: 16 }) })
  .chain(({ hookCount, colorCount }) =>
    fc.record({
      hookCount: fc.constant(hookCount),
      colors: fc.array(fc.integer({ min: 0, max: 0xffffff }), { minLength: colorCount, maxLength: colorCount }),
      ops: fc.array(
        fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 0, max: hookCount - 1 }) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: colorCount }).map((c) => -c) },
        ),
        { maxLength: 400 },
      ),
    }),
  );

describe('stream codec, format 1', () => {
  it('CRC-16/CCITT-FALSE check value', () => {
    const check = [...'123456789'].map((c) => c.charCodeAt(0));
    expect(crc16(check, 0, check.length)).toBe(0x29b1);
  });

  it('round-trips every path exactly', () => {
    fc.assert(
      fc.property(streamInput, ({ hookCount, colors, ops }) => {
        const bytes = encodeStream(ops, hookCount, colors);
        const d = decodeAll(bytes);
        expect(d.error).toBe(0);
        expect(d.ended).toBe(true);
        expect(d.ops).toEqual(ops);
      }),
    );
  });

  it('detects every single-bit flip', () => {
    fc.assert(
      fc.property(streamInput, fc.nat(), fc.integer({ min: 0, max: 7 }), ({ hookCount, colors, ops }, at, bit) => {
        const bytes = encodeStream(ops, hookCount, colors);
        const i = at % bytes.length;
        bytes[i] ^= 1 << bit;
        const d = decodeAll(bytes);
        expect(d.error < 0 || !d.ended).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('detects every truncation', () => {
    const bytes = encodeStream([0, 50, 100, -2, 3, 7], 160, [0, 0xd0803c]);
    for (let n = 0; n < bytes.length; n++) {
      const d = decodeAll(bytes.slice(0, n));
      expect(d.ended).toBe(false);
    }
  });

  it('names bad magic and a newer version', () => {
    const bytes = encodeStream([1, 2], 10, [0]);
    expect(decodeAll([0x50, ...bytes.slice(1)]).error).toBe(ERR_BAD_MAGIC);
    const newer = bytes.slice();
    newer[4] = 2;
    expect(decodeAll(newer).error).toBe(ERR_VERSION);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeAll(bytes);
      }),
      { numRuns: 5000 },
    );
  });
});
