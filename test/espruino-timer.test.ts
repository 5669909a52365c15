// The simulator's require("timer") EXEC task (sim/targets/espruino-timer.ts) driven directly with the
// layout functions (no app): it makes the step routine's stores at the calls the reference model
// makes them, call by call on the same grid, although it skips the calls that only integrate; a
// phase written after it was due and two steps due within one are late-step problems.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import './fast-check-seed';
import { VirtualMcu } from '../sim/mcu';
import { espruinoTimer, UNITS_PER_S } from '../sim/targets/espruino-timer';
import { STEP_CODE_BYTES, STEP_CODE_B64 } from '../device/espruino/step-code';
import { A_COUNT, A_HIGH, A_RD, A_WR, axisPosition, axisWord, initState, lastCall, pushPhase, resetAxes, setAxisPins, stateWords } from '../device/espruino/step-layout';
import { stepCall } from '../sim/targets/espruino-step-model';

const PERIOD = 40;
const PERIOD_US = (PERIOD * 1e6) / UNITS_PER_S;
const SLOTS = 16;
const AXES = 3;
/** STM32F4 GPIO BSRR of port p (as the shim maps stores to pins: pin n is bit n % 16 of port n / 16). */
const bsrr = (pin: number): [number, number] => [0x40020000 + 0x400 * Math.floor(pin / 16) + 0x18, pin % 16];
const STEP = [2, 3, 4];
const DIR = [5, 6, 7];

/** A board with the routine's code and state in one flat buffer, the task added at t0 (µs). */
function board(t0: number) {
  const mcu = new VirtualMcu();
  const problems: string[] = [];
  mcu.onProblem = (kind, message) => problems.push(`${kind}: ${message}`);
  const api = espruinoTimer(mcu);
  const words = stateWords(AXES, SLOTS);
  const buf = new Uint8Array(STEP_CODE_BYTES + words * 4 + 4);
  const addr = api.getAddressOf(buf, true);
  const off = (4 - (addr & 3)) & 3;
  buf.set(Buffer.from(STEP_CODE_B64, 'base64'), off);
  const mem = new Int32Array(buf.buffer, off + STEP_CODE_BYTES, words);
  initState(mem, AXES, SLOTS);
  for (let a = 0; a < AXES; a++) {
    const s = bsrr(STEP[a]);
    const d = bsrr(DIR[a]);
    setAxisPins(mem, a, s[0], s[1], d[0], d[1], 1);
  }
  resetAxes(mem);
  const edges: [number, number, number][] = [];
  mcu.addListener({ edge: (pin, level, t) => edges.push([pin, level, t]) });
  mcu.now = t0;
  api.timer.add({ type: 'EXEC', ptr: addr + off + 1, userdata: addr + off + STEP_CODE_BYTES, time: 0, interval: (PERIOD * 1000) / UNITS_PER_S });
  const run = () => {
    while (mcu.runNext());
  };
  return { mcu, mem, edges, problems, run };
}

const units = (us: number) => Math.floor((us * UNITS_PER_S) / 1e6);

describe("the simulator's EXEC task for the step routine", () => {
  it('stores at the calls the model makes them, call by call (skipped calls change nothing), and keeps the header a past call', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.array(
          fc.record({
            axis: fc.integer({ min: 0, max: AXES - 1 }),
            dir: fc.constantFrom(-1, 1),
            count: fc.integer({ min: 1, max: 40 }),
            call: fc.integer({ min: 0, max: 3000 }),
            offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 39 })),
            p: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            v: fc.oneof(fc.integer({ min: 2 ** 24, max: 2 ** 31 }), fc.integer({ min: 2 ** 24, max: 2 ** 26 })),
            acc: fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 16), max: 2 ** 16 })),
            pending: fc.constantFrom(0, 1),
          }),
          { maxLength: 12 },
        ),
        (t0, phases) => {
          const b = board(t0);
          const copy = Int32Array.from(b.mem);
          for (const ph of phases) {
            const start = units(t0 + ph.call * PERIOD_US) + ph.offset;
            pushPhase(b.mem, ph.axis, ph.dir, ph.count, start, ph.p, ph.v, ph.acc, ph.pending);
            pushPhase(copy, ph.axis, ph.dir, ph.count, start, ph.p, ph.v, ph.acc, ph.pending);
          }
          b.mcu.onProblem = () => {};
          b.run();
          // the model, every call of the grid, until it has nothing left (+ 2 calls)
          const want: [number, number, number][] = [];
          const level = new Array(64).fill(0);
          const lastStart = Math.max(0, ...phases.map((ph) => ph.call + 1));
          const idle = () => {
            for (let a = 0; a < AXES; a++) {
              const r = axisWord(copy, a);
              if (copy[r + A_HIGH] !== 0 || copy[r + A_COUNT] !== 0 || copy[r + A_RD] !== copy[r + A_WR]) return false;
            }
            return true;
          };
          for (let k = 0; k <= lastStart || !idle(); k++) {
            const tUs = t0 + k * PERIOD_US;
            stepCall(copy, units(tUs) % 2 ** 32, (addr, value) => {
              const port = (addr - 0x40020000 - 0x18) / 0x400;
              for (let bit = 0; bit < 16; bit++) {
                const pin = port * 16 + bit;
                for (const [mask, lv] of [[1 << (bit + 16), 0], [1 << bit, 1]] as const) {
                  if (value & mask && level[pin] !== lv) {
                    level[pin] = lv;
                    want.push([pin, lv, tUs]);
                  }
                }
              }
            });
          }
          expect(b.edges.length).toBe(want.length);
          b.edges.forEach((e, i) => {
            expect([e[0], e[1]]).toEqual([want[i][0], want[i][1]]);
            expect(e[2]).toBeCloseTo(want[i][2], 6);
          });
          for (let a = 0; a < AXES; a++) expect(axisPosition(b.mem, a)).toBe(axisPosition(copy, a));
          // the header is some call's (now, calls) on the grid
          const [now, calls] = lastCall(b.mem);
          if (calls > 0) expect(now >>> 0).toBe(units(t0 + (calls - 1) * PERIOD_US) % 2 ** 32);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a phase written after it was due is a late-step problem; one on time is not', () => {
    const b = board(1000);
    const t = units(1000);
    pushPhase(b.mem, 0, 1, 3, t + 10 * PERIOD, 0, 2 ** 31, 0, 0);
    b.run();
    expect(b.problems).toEqual([]);
    expect(axisPosition(b.mem, 0)).toBe(3);
    // due 100 calls ago (3.8 ms), written now
    b.mcu.setTimer(1, b.mcu.now + 5000, () => pushPhase(b.mem, 0, 1, 2, units(b.mcu.now) - 100 * PERIOD, 0, 2 ** 31, 0, 0));
    b.run();
    expect(b.problems).toEqual([expect.stringMatching(/^late-step: axis 0: step segment written 3\.\d+ ms after it was due/)]);
    expect(axisPosition(b.mem, 0)).toBe(5);
  });

  it('two steps due within one (a phase faster than one step per two calls) is a late-step problem', () => {
    const b = board(0);
    pushPhase(b.mem, 1, -1, 10, 0, 0, Math.round(0.9 * 2 ** 32), 0, 0);
    b.run();
    expect(b.problems).toEqual([expect.stringMatching(/^late-step: axis 1: a step came due while the previous one was still pending/)]);
    expect(axisPosition(b.mem, 1)).toBe(-10);
  });
});
