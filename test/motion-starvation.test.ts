// Whatever the host does (slow, silent, bursty), the machine stays within its profile's limits: when
// the stream runs dry the queued motion decelerates to a stop inside them (the planner always plans
// the last queued block to end at rest, as Grbl's does), and motion starts again from rest when
// bytes come back. A property over random delivery schedules, not only fault seeds (issue #13).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { machineHash } from '../host/stream/machine-hash';
import { ST_DONE, ST_IDLE, ST_PAUSED } from '../device/runtime';
import { expectedDirections } from '../sim/verify';
import { refGantry, rig, samplePath } from './helpers/rig';

const m = refGantry();

/** One delivery: `size` stream bytes arrive, then nothing for `gapMs`. */
const delivery = fc.record({
  size: fc.integer({ min: 1, max: 12 }),
  // Mostly short gaps, some long enough to drain the planner mid-path or mid-wrap (a wrap takes ~1 s).
  gapMs: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 50, max: 1500 }), fc.integer({ min: 1500, max: 20_000 })),
});

/** Run a stream through the runtime on the simulated gantry, the bytes arriving on `schedule`. */
function runWithSchedule(stream: Uint8Array, schedule: { size: number; gapMs: number }[], colourChangeMs = 2000) {
  const r = rig(m);
  // Every step is judged for acceleration, homing included.
  r.verifier.accelFromUs = 0;
  r.rt.setMachineHash(machineHash(m));
  r.rt.boot();
  r.rt.home();
  expect(r.run(() => r.rt.state === ST_IDLE)).toBe(true);
  const inbox: number[] = [];
  let sent = 0;
  let k = 0;
  const deliver = () => {
    const d = schedule[k++ % schedule.length];
    for (let i = 0; i < d.size && sent < stream.length; i++) inbox.push(stream[sent++]);
    if (sent < stream.length) r.mcu.setTimer(1, r.mcu.now + d.gapMs * 1000, deliver);
  };
  deliver();
  let resumeAt = -1;
  for (let events = 0; events < 20_000_000; events++) {
    while (inbox.length && r.rt.canAccept()) r.rt.feed(inbox.shift()!);
    if (r.rt.state === ST_DONE) break;
    if (r.rt.state === ST_PAUSED && resumeAt < 0) {
      resumeAt = r.mcu.now + colourChangeMs * 1000;
      r.mcu.setTimer(2, resumeAt, () => {
        resumeAt = -1;
        r.rt.resume();
      });
    }
    if (!r.mcu.runNext()) break;
  }
  r.verifier.finish(r.mcu.now);
  return r;
}

describe('motion when the stream runs dry (starved planner)', () => {
  it('random delivery schedules, long gaps included: zero violations, every hook wrapped exactly once the planned way', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 4, max: 10 }),
        fc.array(delivery, { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (seed, lines, schedule, colour) => {
          const path = samplePath(seed, lines);
          const cut = 1 + (seed % (lines - 1));
          const ops = colour ? [...path.slice(0, cut), -2, ...path.slice(cut)] : path;
          const stream = Uint8Array.from(encodeStream(ops, 160, colour ? [0, 0xff0000] : [0], { version: 4, machineHash: machineHash(m) }));
          const r = runWithSchedule(stream, schedule);
          expect(r.rt.status().stateName).toBe('done');
          expect(r.verifier.violations).toEqual([]);
          expect(r.verifier.wraps.map((w) => w.hook)).toEqual(path);
          expect(r.verifier.wraps.map((w) => w.dir)).toEqual(expectedDirections(m, path));
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it('one byte every 3 s (slower than the machine): it stops and restarts between hooks within its limits', () => {
    const path = samplePath(7, 6);
    const stream = Uint8Array.from(encodeStream(path, 160, [0], { version: 4, machineHash: machineHash(m) }));
    const r = runWithSchedule(stream, [{ size: 1, gapMs: 3000 }]);
    expect(r.verifier.violations).toEqual([]);
    expect(r.verifier.wraps.map((w) => w.hook)).toEqual(path);
  });
});

describe('homing within the motion limits', () => {
  it('from anywhere in the travel, homing (twice: a host may home again) breaks no speed or acceleration limit', () => {
    fc.assert(
      fc.property(
        fc.tuple(fc.double({ min: 0, max: 700, noNaN: true }), fc.double({ min: 0, max: 700, noNaN: true }), fc.double({ min: 0, max: 30, noNaN: true })),
        (startMm) => {
          const r = rig(m, { startMm });
          r.verifier.accelFromUs = 0; // judged from the first step on
          r.rt.boot();
          r.rt.home();
          expect(r.run(() => r.rt.state === ST_IDLE)).toBe(true);
          r.rt.home();
          expect(r.run(() => r.rt.state === ST_IDLE)).toBe(true);
          r.verifier.finish(r.mcu.now);
          expect(r.verifier.violations).toEqual([]);
        },
      ),
      { numRuns: 15 },
    );
  });
});
