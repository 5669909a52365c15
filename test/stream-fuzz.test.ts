import { describe, expect, it } from 'vitest';
import { fuzzStreams } from '../bench/fuzz-stream';

/** 100k mutated and random streams; `npm run fuzz` runs 1M. */
describe('stream decoder fuzz', () => {
  it('100k mutated/random streams: typed errors only, no hang, fixed tables', () => {
    const s = fuzzStreams(100_000, 20261125);
    expect(s.streams).toBe(100_000);
    // A stream the decoder accepts although it differs from the original needs a CRC-16 collision
    // (odds 2^-16 per damaged chunk, ~1 in 1M fuzz cases); a decoder that ignored some bytes would
    // show many.
    expect(s.undetected).toBeLessThanOrEqual(1);
    for (const code of Object.keys(s.errors)) expect(Number(code)).toBeLessThan(0);
  }); // the suite-wide limit (vitest.config.ts: a hang, not speed)
});
