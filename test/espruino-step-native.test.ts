// The Espruino step routine's real bytes on a real ARM CPU: test/native/step-harness.c, compiled
// with arm-linux-gnueabihf-gcc into a temp dir and run under qemu-arm, calls the routine tick by tick
// as Espruino's utility timer calls an EXEC task, with the state written by the same layout code
// the board's JavaScript uses; every STEP/DIR store (with its call) and the final state must equal
// the TypeScript reference model's (sim/targets/espruino-step-model.ts), which the simulator runs.
// The model itself is checked against the DDA's exact arithmetic (every step at the first call at
// which P0 + m·V0 + A·m(m+1)/2 reaches it, computed with BigInt), and its closed-form skipping
// against call-by-call. The encoder's bytes are checked against GNU as. Skips the ARM parts with one
// line when the cross compiler or qemu-arm is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './fast-check-seed';
import { assemble, routinePaths } from '../scripts/thumb-asm.mjs';
import { STEP_CODE_B64 } from '../device/espruino/step-code';
import {
  A_COUNT,
  A_HIGH,
  A_PENDING,
  A_POS,
  A_RD,
  A_RING,
  A_V,
  A_WR,
  axisPosition,
  axisWord,
  freeSlots,
  H_CALLS,
  H_NOW,
  initState,
  int32,
  lastCall,
  pushPhase,
  resetAxes,
  SEG_WORDS,
  setAxisPins,
  stableWord,
  stateWords,
} from '../device/espruino/step-layout';
import { nextWork, skipCalls, stepCall } from '../sim/targets/espruino-step-model';

const SOURCE = readFileSync(new URL('../device/espruino/step-routine.s', import.meta.url), 'utf8');
const HARNESS = new URL('./native/step-harness.c', import.meta.url).pathname;
const GPIO = 0x30000000;
const SLOTS = 8;
const TWO32 = 2 ** 32;

function have(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0;
}
const armUnavailable = !have('arm-linux-gnueabihf-gcc', ['--version'])
  ? 'arm-linux-gnueabihf-gcc (apt: gcc-arm-linux-gnueabihf) is missing'
  : !have('qemu-arm', ['--version'])
    ? 'qemu-arm (apt: qemu-user) is missing'
    : null;
if (armUnavailable) console.log(`espruino-step-native: ${armUnavailable}: the runs on an ARM CPU are skipped`);

describe('the Thumb encoder', () => {
  it('encodes the routine as the generated module holds it', () => {
    expect(Buffer.from(assemble(SOURCE).bytes).toString('base64')).toBe(STEP_CODE_B64);
  });
  it('counts the cycles docs/targets/espruino.md quotes (node scripts/thumb-asm.mjs --cycles)', () => {
    const rows = routinePaths(SOURCE);
    expect(rows.map((r) => [r.instructions, r['cycles P=2']])).toEqual([
      [11, 29], [16, 27], [22, 34], [23, 40], [36, 62], [39, 64], [28, 47], [29, 50], [54, 89], [62, 102], [61, 100], [68, 110],
    ]);
  });
  it('gives the ARM Architecture Reference Manual encodings', () => {
    const words = (s: string) => assemble(s).listing.map((l) => l.word.toString(16));
    expect(words('push {r4, r5, r6, r7, lr}\npop {r4, r5, r6, r7, pc}')).toEqual(['b5f0', 'bdf0']);
    expect(words('ldr r3, [r4, #44]\nstr r6, [r5, #0]\nmovs r4, r2\nmovs r3, #1\nmovs r1, #0')).toEqual(['6ae3', '602e', '14', '2301', '2100']);
    expect(words('adds r3, r3, #1\nadds r6, r6, r5\nsubs r3, r0, r3\nadcs r1, r3\nands r5, r1\nlsls r6, r6, #3\nlsls r6, r5, #5')).toEqual(['3301', '1976', '1ac3', '4159', '400d', 'f6', '16e']);
    expect(words('adds r6, #64\ncmp r0, r3\ncmp r1, #0\nsubs r3, r3, #1')).toEqual(['3640', '4298', '2900', '3b01']);
    expect(words('x:\ncmp r7, #0\nbeq x\nb x\nbmi y\ny:')).toEqual(['2f00', 'd0fd', 'e7fc', 'd4ff']);
    // conditional branches on the carry (the DDA's step) and the others the routine uses
    expect(words('x:\nbcs x\nbcc x\nbne x\nbgt x\nbcs y\ny:')).toEqual(['d2fe', 'd3fd', 'd1fc', 'dcfb', 'd2ff']);
    expect(() => assemble('ldr r8, [r4, #0]')).toThrow(/r0-r7/);
    expect(() => assemble('ldr r3, [r4, #2]')).toThrow(/multiple of 4/);
    expect(() => assemble('lsls r3, r3, #32')).toThrow(/out of range/);
  });
  it.skipIf(!!armUnavailable)('gives the same bytes as GNU as (-mcpu=cortex-m0: 16-bit Thumb only)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookline-asm-'));
    try {
      writeFileSync(join(dir, 'r.s'), '.syntax unified\n.thumb\n' + SOURCE);
      const as = spawnSync('arm-linux-gnueabihf-as', ['-mcpu=cortex-m0', '-mthumb', 'r.s', '-o', 'r.o'], { cwd: dir, encoding: 'utf8' });
      expect(as.stderr).toBe('');
      spawnSync('arm-linux-gnueabihf-objcopy', ['-O', 'binary', '-j', '.text', 'r.o', 'r.bin'], { cwd: dir });
      expect(Buffer.from(assemble(SOURCE).bytes).equals(readFileSync(join(dir, 'r.bin')))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shared memory (step-layout.ts)', () => {
  it('reads a word the routine writes until two reads agree (Espruino reads typed arrays byte by byte)', () => {
    const reads = [511, 256, 300, 300, 7]; // a torn read, then the word changing once more
    let k = 0;
    const fake = new Proxy([], { get: (_t, p) => (p === '5' ? reads[k++] : undefined) }) as unknown as Int32Array;
    expect(stableWord(fake, 5)).toBe(300);
    expect(k).toBe(4);
  });
  it('lastCall reads now between two equal reads of calls (an interrupt between reads)', () => {
    // reads in order: calls, now, calls, now, calls: the interrupt came between the first two reads
    const seq: [string, number][] = [[String(H_CALLS), 7], [String(H_NOW), -5], [String(H_CALLS), 8], [String(H_NOW), 35], [String(H_CALLS), 8]];
    let k = 0;
    const fake = new Proxy([], {
      get: (_t, p) => {
        expect(p).toBe(seq[k][0]);
        return seq[k++][1];
      },
    }) as unknown as Int32Array;
    expect(lastCall(fake)).toEqual([35, 8]);
    expect(k).toBe(5);
    const mem = new Int32Array(stateWords(1, SLOTS));
    initState(mem, 1, SLOTS);
    expect(lastCall(mem)).toEqual([0, 0]);
    stepCall(mem, 4294967000, () => {});
    expect(lastCall(mem)).toEqual([int32(4294967000), 1]);
  });
  it('int32 is ToInt32 for integers up to 2^53', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), (x) => {
        expect(int32(x)).toBe(Number(BigInt.asIntN(32, BigInt(x))));
      }),
    );
  });
  it('a pushed phase reads back as written (start mod 2^32, P and V as uint32 bit patterns), the write index last, free slots counted', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            dir: fc.constantFrom(-1, 1),
            count: fc.integer({ min: 1, max: 100000 }),
            start: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.double({ min: 0, max: 2 ** 40, noNaN: true })),
            p: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            v: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
            acc: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            pending: fc.constantFrom(0, 1),
          }),
          { maxLength: SLOTS - 1 },
        ),
        (segs) => {
          const mem = new Int32Array(stateWords(2, SLOTS));
          initState(mem, 2, SLOTS);
          segs.forEach((s, i) => {
            expect(freeSlots(mem, 1)).toBe(SLOTS - 1 - i); // nothing running yet
            pushPhase(mem, 1, s.dir, s.count, s.start, s.p, s.v, s.acc, s.pending);
          });
          expect(freeSlots(mem, 0)).toBe(SLOTS - 1);
          const r = axisWord(mem, 1);
          expect(mem[r + A_WR]).toBe(segs.length);
          segs.forEach((s, i) => {
            const w = r + A_RING + i * SEG_WORDS;
            expect(Array.from(mem.subarray(w, w + SEG_WORDS))).toEqual([s.dir, s.count, int32(Math.floor(s.start)), s.p | 0, s.v | 0, s.acc, s.pending, 0]);
          });
        },
      ),
    );
  });
  it('resetAxes clears every axis state word and keeps pins and the header', () => {
    const mem = new Int32Array(stateWords(2, SLOTS));
    initState(mem, 2, SLOTS);
    setAxisPins(mem, 1, GPIO, 3, GPIO + 4, 4, 1);
    pushPhase(mem, 1, 1, 3, 0, 0, 2 ** 31, 0, 1);
    for (let c = 0; c < 4; c++) stepCall(mem, 40 * c, () => {});
    expect(axisPosition(mem, 1)).toBe(2);
    const before = Int32Array.from(mem);
    resetAxes(mem);
    const r = axisWord(mem, 1);
    for (let i = 0; i < mem.length; i++) {
      if (i >= r + A_HIGH && i < r + A_RING) expect(mem[i]).toBe(0);
      else expect(mem[i]).toBe(before[i]);
    }
    expect(freeSlots(mem, 1)).toBe(SLOTS - 1);
  });
});

/** A phase as JavaScript pushes it: [call before which it is pushed, axis, dir, count, start, P0, V0, A, pending0]. */
type Push = [number, number, number, number, number, number, number, number, number];

/** A run: pins, then phases pushed before given calls, calls at given times (units). */
interface Scenario {
  axes: number;
  calls: number[];
  pushes: Push[];
}

/** What a model run did, to show the random runs cover the routine's paths. */
interface Coverage {
  atStart: number;
  between: number;
  dirStores: number;
  held: number;
  merged: number;
  steps: number;
}

function freshState(axes: number): Int32Array {
  const mem = new Int32Array(stateWords(axes, SLOTS));
  initState(mem, axes, SLOTS);
  for (let a = 0; a < axes; a++) setAxisPins(mem, a, GPIO + 8 * a, a + 2, GPIO + 8 * a + 4, 15 - a, a & 1);
  resetAxes(mem);
  return mem;
}

/** The harness script and the model's expected output for a scenario. */
function runModel(sc: Scenario, cov?: Coverage): { script: string[]; out: string[] } {
  const mem = freshState(sc.axes);
  const words = mem.length;
  const script = [`R ${words}`];
  const seen = new Int32Array(words);
  const flush = () => {
    for (let i = 0; i < words; i++) if (mem[i] !== seen[i]) script.push(`W ${i} ${mem[i]}`), (seen[i] = mem[i]);
  };
  flush();
  const out: string[] = [];
  let q = 0;
  sc.calls.forEach((now, k) => {
    while (q < sc.pushes.length && sc.pushes[q][0] <= k) {
      const [, a, dir, count, start, p, v, acc, pending] = sc.pushes[q++];
      if (freeSlots(mem, a) > 0) pushPhase(mem, a, dir, count, start, p, v, acc, pending);
    }
    flush();
    script.push(`C ${now >>> 0}`);
    const writes: [number, number][] = [];
    const before = cov ? Int32Array.from(mem) : mem;
    stepCall(mem, now >>> 0, (addr, value) => writes.push([(addr - GPIO) / 4, value]), () => cov && cov.merged++);
    if (cov) {
      for (let a = 0; a < sc.axes; a++) {
        const r = axisWord(mem, a);
        if (mem[r + A_RD] !== before[r + A_RD]) {
          const start = before[r + A_RING + before[r + A_RD] * SEG_WORDS + 2];
          if (start === (now | 0)) cov.atStart++;
          else cov.between++;
        }
        if (mem[r + A_PENDING] === 1 && before[r + A_PENDING] === 0) cov.held++;
      }
      for (const [g, v] of writes) if (g % 2 === 1 && v !== 0) cov.dirStores++;
      cov.steps += writes.filter(([g, v]) => g % 2 === 0 && v < 65536).length;
    }
    writes.sort((x, y) => x[0] - y[0]);
    for (const [g, v] of writes) out.push(`E ${k} ${g} ${v}`);
    seen.set(mem);
  });
  script.push('D');
  out.push('D ' + Array.from(mem).join(' '));
  return { script, out };
}

const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    axes: fc.integer({ min: 1, max: 3 }),
    start: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 - 1 })),
    period: fc.integer({ min: 20, max: 60 }),
    jitter: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10 })),
    n: fc.integer({ min: 50, max: 400 }),
    seed: fc.array(fc.integer({ min: 0, max: 2 ** 30 }), { minLength: 400, maxLength: 400 }),
    pushes: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 399 }),
        axis: fc.integer({ min: 0, max: 2 }),
        dir: fc.constantFrom(-1, 1),
        count: fc.integer({ min: 1, max: 20 }),
        // the call its start is at or after (relative to the push), and the offset (0: exactly on it)
        ref: fc.integer({ min: -30, max: 60 }),
        offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 70 })),
        p: fc.oneof(u32, fc.constant(0), fc.constant(2 ** 32 - 1)),
        // any V; sane speeds (≤ half a step per call); slow ones
        v: fc.oneof(u32, fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 26 })),
        // any A; small; none; decelerating V to about 0 within `calls` calls
        acc: fc.oneof(
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((a) => () => a),
          fc.integer({ min: -(2 ** 24), max: 2 ** 24 }).map((a) => () => a),
          fc.constant(() => 0),
          fc.integer({ min: 1, max: 300 }).map((calls) => (v: number) => -Math.floor(v / calls)),
        ),
        pending: fc.constantFrom(0, 0, 1),
      }),
      { maxLength: 30 },
    ),
  })
  .map(({ axes, start, period, jitter, n, seed, pushes }) => {
    const calls: number[] = [];
    let t = start;
    for (let k = 0; k < n; k++) calls.push((t += period + (seed[k] % (jitter + 1))) % TWO32);
    return {
      axes,
      calls,
      pushes: pushes
        .map((p): Push => {
          const c = calls[Math.min(n - 1, Math.max(0, Math.min(p.at, n - 1) + p.ref))];
          return [p.at, p.axis % axes, p.dir, p.count, (c + p.offset) % TWO32, p.p, p.v, p.acc(p.v), p.pending];
        })
        .sort((a, b) => a[0] - b[0]),
    };
  });

/**
 * The calls (m, from the phase's m = 0) at which P0 + m·V0 + A·m(m+1)/2 + pending0·2^32 reaches
 * 1, 2, … count times 2^32, from m = `from` (exact, BigInt): the DDA's carries.
 */
function carryCalls(p0: number, v0: number, acc: number, pending: number, count: number, from: number): number[] {
  const S = (m: number) => BigInt(p0) + BigInt(m) * BigInt(v0) + (BigInt(acc) * BigInt(m) * BigInt(m + 1)) / 2n + BigInt(pending) * 2n ** 32n;
  const out: number[] = [];
  let m = from;
  for (let k = 1; k <= count; k++) {
    const goal = BigInt(k) * 2n ** 32n;
    while (S(m) < goal) m++;
    out.push(m);
  }
  return out;
}

describe('the reference model (what the simulator runs for the EXEC task)', () => {
  // A phase from physical terms: V0 (steps per call, 0.32) to V1 over `calls` calls, as many whole
  // steps as that makes; V stays in [0, 2^31] (at most one step per two calls: no step waits).
  const phase = fc
    .record({
      v0: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 5000 })),
      v1: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 5000 })),
      calls: fc.integer({ min: 1, max: 3000 }),
      p0: u32,
      pending: fc.constantFrom(0, 1),
      dir: fc.constantFrom(-1, 1),
    })
    .map(({ v0, v1, calls, p0, pending, dir }) => {
      const acc = Math.trunc((v1 - v0) / calls);
      const S = BigInt(p0) + BigInt(calls) * BigInt(v0) + (BigInt(acc) * BigInt(calls) * BigInt(calls + 1)) / 2n;
      const count = Number(S / 2n ** 32n) + pending;
      return { v0, acc, calls, p0, pending, dir, count };
    })
    .filter((p) => p.count >= 1 && p.v0 + p.calls * p.acc >= 0 && p.v0 + p.calls * p.acc <= 2 ** 31);

  it('makes each phase exactly: its count of steps, each at the first call at which P0 + m·V0 + A·m(m+1)/2 reaches it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ph: phase, gap: fc.integer({ min: 0, max: 5 }), offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 39 })) }), { minLength: 1, maxLength: SLOTS - 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (list, origin) => {
          const period = 40;
          const mem = freshState(1);
          // the phases one after another, each starting `gap` calls after the previous one's last step
          // (offset > 0: between two calls, so the routine takes it at the next call and integrates there
          // as if it had started one call earlier; a pending first step waits for a call with none)
          const want: [number, number][] = []; // [call index, dir]
          let last = 0; // call index of the previous phase's last step (0: the origin call, no step)
          let prevStep = -10;
          let dir = 0;
          for (const { ph, gap, offset } of list) {
            const startCall = last + 1 + gap; // never before the previous phase has ended
            const between = offset > 0;
            const pending = between ? 0 : ph.pending;
            const count = ph.count - ph.pending + pending;
            if (count < 1) continue;
            const startUnits = origin + startCall * period - (between ? period - offset : 0);
            pushPhase(mem, 0, ph.dir, count, startUnits, ph.p0, ph.v0, ph.acc, pending);
            // taken at startCall; its m = 0 is that call when on it, the call before when between
            const base = between ? startCall - 1 : startCall;
            const dirChange = ph.dir !== dir;
            dir = ph.dir;
            // a step due on a call that may not step (the pulse of the step before, DIR setup) comes
            // on the next call; two carries that close together would merge: not this property's case
            const carries = carryCalls(ph.p0, ph.v0, ph.acc, pending, count, between ? 1 : 0).map((m) => base + m);
            let prev = prevStep;
            carries.forEach((c, k) => {
              const blocked = c === prev + 1 || (dirChange && c === startCall);
              const made = blocked ? c + 1 : c;
              fc.pre(!blocked || k + 1 >= carries.length || carries[k + 1] > made);
              want.push([made, ph.dir]);
              prev = made;
            });
            last = want[want.length - 1][0];
            prevStep = last;
          }
          fc.pre(want.length > 0);
          const got: [number, number][] = [];
          let dirLevel = 0;
          for (let c = 0; c <= last + 2; c++) {
            const now = (origin + c * period) % TWO32;
            stepCall(mem, now, (addr, v) => {
              if (addr === GPIO + 8 * 0 + 4) dirLevel = v === 1 << 15 ? -1 : 1; // plusLevel 0: DIR high is -1
              else if (v === 1 << 2) got.push([c, dirLevel]);
            }, () => {
              throw new Error('merged steps');
            });
          }
          expect(got).toEqual(want);
          expect(axisPosition(mem, 0)).toBe(want.reduce((p, w) => p + w[1], 0));
          expect(mem[axisWord(mem, 0) + A_COUNT]).toBe(0);
        },
      ),
    );
  });

  it('a phase pushed after its start is taken at the next call, which integrates (as if it had started a call before)', () => {
    const mem = freshState(1);
    stepCall(mem, 1000, () => {});
    // V = 0.5 step per call, P0 = 0.25: due at m = 2 (0.25 + 0.5·2 ≥ 1), then m = 4
    pushPhase(mem, 0, 1, 2, 900, 2 ** 30, 2 ** 31, 0, 0);
    const steps: number[] = [];
    for (let c = 1; c <= 8; c++) stepCall(mem, 1000 + 40 * c, (addr, v) => v === 1 << 2 && steps.push(c));
    // taken at call 1 (it integrates there: m = 1), DIR written, so its m = 2 is call 2 and m = 4 call 4
    expect(steps).toEqual([2, 4]);
  });

  it('nextWork and skipCalls: a simulator that skips the quiet calls makes the same stores and ends in the same state', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const a = freshState(sc.axes);
        const b = freshState(sc.axes);
        const ea: string[] = [];
        const eb: string[] = [];
        let qa = 0;
        let skipped = 0; // calls b has not made yet
        let skippedNow = 0;
        let budget = -1; // quiet calls left since b's last real call (-1: look)
        sc.calls.forEach((now, k) => {
          while (qa < sc.pushes.length && sc.pushes[qa][0] <= k) {
            const [, ax, dir, count, start, p, v, acc, pending] = sc.pushes[qa++];
            if (freeSlots(a, ax) > 0) pushPhase(a, ax, dir, count, start, p, v, acc, pending);
            if (freeSlots(b, ax) > 0) pushPhase(b, ax, dir, count, start, p, v, acc, pending);
          }
          stepCall(a, now, (addr, v) => ea.push(`${k} ${addr} ${v}`));
          // b's quiet count from its last real call (a push changes only rings, which an axis with
          // steps in hand does not read); a segment waiting for an idle axis is due at its start
          if (budget < 0) budget = nextWork(b).quiet;
          const w = nextWork(b);
          const waiting = w.at !== null && ((now - w.at) | 0) >= 0;
          if (budget > 0 && !waiting) {
            skipped++;
            skippedNow = now;
            budget--;
            return;
          }
          skipCalls(b, skipped, skippedNow);
          skipped = 0;
          stepCall(b, now, (addr, v) => eb.push(`${k} ${addr} ${v}`));
          budget = -1;
        });
        skipCalls(b, skipped, skippedNow);
        expect(eb).toEqual(ea);
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
    );
  });

  it('skipCalls equals call by call over long quiet stretches (decelerating to almost nothing, V near 2^32)', () => {
    fc.assert(
      fc.property(u32, u32, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 5000 }), (p, v, acc, cap) => {
        const a = freshState(1);
        pushPhase(a, 0, 1, 1000, 0, p, v, acc, 0);
        stepCall(a, 0, () => {}); // taken at its start: P0, V0
        const b = Int32Array.from(a);
        const q = Math.min(nextWork(b).quiet, cap);
        for (let c = 1; c <= q; c++) stepCall(a, 40 * c, () => expect.unreachable('a quiet call stored'));
        skipCalls(b, q, 40 * q);
        expect(Array.from(b)).toEqual(Array.from(a));
        if (q < cap) {
          // the call after the quiet ones does something (a step), or wraps V
          const r = axisWord(a, 0);
          const vBefore = a[r + A_V] >>> 0;
          let stored = false;
          stepCall(a, 40 * (q + 1), () => (stored = true));
          const vAfter = a[r + A_V] >>> 0;
          const wrapped = acc > 0 ? vAfter < vBefore : acc < 0 ? vAfter > vBefore : false;
          expect(stored || wrapped || q === 524288 || q === Math.floor(Math.sqrt(2 ** 51 / Math.abs(acc)))).toBe(true);
        }
      }),
    );
  });
});

describe.skipIf(!!armUnavailable)('the routine on an ARM CPU (qemu-arm) against the model', () => {
  let dir = '';
  let harness = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-step-native-'));
    harness = join(dir, 'step-harness');
    const cc = spawnSync('arm-linux-gnueabihf-gcc', ['-O1', '-o', harness, HARNESS], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`arm-linux-gnueabihf-gcc failed: ${cc.stderr}`);
    writeFileSync(join(dir, 'step.bin'), Buffer.from(STEP_CODE_B64, 'base64'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (scenarios: Scenario[], cov?: Coverage) => {
    const script = [`L ${join(dir, 'step.bin')}`];
    const want: string[][] = [];
    for (const sc of scenarios) {
      const m = runModel(sc, cov);
      script.push(...m.script);
      want.push(m.out);
    }
    const r = spawnSync('qemu-arm', ['-L', '/usr/arm-linux-gnueabihf', harness], { input: script.join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // split the output at each scenario's final D line
    const got: string[][] = [[]];
    for (const line of r.stdout.trim().split('\n')) {
      got[got.length - 1].push(line);
      if (line.startsWith('D')) got.push([]);
    }
    got.pop();
    return { got, want };
  };

  it('a gantry-like run: three axes, acceleration, cruise and deceleration phases, direction changes, the clock wrapping', () => {
    const calls: number[] = [];
    const origin = 2 ** 32 - 40000; // the 32-bit clock wraps 1 000 calls in
    for (let k = 0; k < 8000; k++) calls.push((origin + 40 * k) % TWO32);
    const pushes: Push[] = [];
    const steps = (p0: number, v0: number, acc: number, n: number) => Number((BigInt(p0) + BigInt(n) * BigInt(v0) + (BigInt(acc) * BigInt(n) * BigInt(n + 1)) / 2n) / 2n ** 32n);
    const want = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const vmax = 2 ** 31 - a * 2 ** 28; // 0.5, 0.4375, 0.375 steps per call
      const n = 600 + 100 * a; // calls to accelerate
      const acc = Math.floor(vmax / n);
      const v = acc * n;
      // forward: accelerate from rest, cruise, decelerate to almost nothing (one step per ~ 1000 calls)
      const up = steps(0, 0, acc, n);
      const cruise = steps(0, v, 0, 800);
      const down = steps(0, v, -acc, n - 1);
      pushes.push([0, a, 1, up, origin + 40, 0, 0, acc, 0]);
      pushes.push([0, a, 1, cruise, origin, 0, v, 0, 0]);
      pushes.push([0, a, 1, down, origin, 0, v, -acc, 0]);
      // backwards from a call in the future, exactly on it, with a step due at once
      const back = 4000 + 17 * a;
      pushes.push([200, a, -1, 1 + steps(0, v >>> 1, 0, 1500), (origin + 40 * back) % TWO32, 0, v >>> 1, 0, 1]);
      // and forwards again from between two calls, slowly, a segment pushed late
      pushes.push([6000, a, 1, 5, (origin + 40 * 5900 + 13) % TWO32, 2 ** 31, 2 ** 24, 2 ** 12, 0]);
      want[a] = up + cruise + down - (1 + steps(0, v >>> 1, 0, 1500)) + 5;
    }
    pushes.sort((x, y) => x[0] - y[0]);
    const { got, want: out } = run([{ axes: 3, calls, pushes }]);
    expect(got[0]).toEqual(out[0]);
    console.log(`espruino-step-native: gantry-like run, ${out[0].length - 1} STEP/DIR stores in ${calls.length} calls on qemu-arm, all as the model`);
    // it really stepped: final positions as queued, nothing left
    const m = Int32Array.from(out[0][out[0].length - 1].split(' ').slice(1).map(Number));
    expect([0, 1, 2].map((a) => m[axisWord(m, a) + A_POS])).toEqual(want);
    expect([0, 1, 2].map((a) => m[axisWord(m, a) + A_COUNT])).toEqual([0, 0, 0]);
  });

  it('random phases, push times, starts on and between calls, call jitter and clock wraps: every store, call and word agrees', () => {
    const scenarios = fc.sample(scenario, 200);
    const cov: Coverage = { atStart: 0, between: 0, dirStores: 0, held: 0, merged: 0, steps: 0 };
    const { got, want } = run(scenarios, cov);
    expect(got.length).toBe(scenarios.length);
    for (let i = 0; i < scenarios.length; i++) expect(got[i], `scenario ${i}: ${JSON.stringify(scenarios[i]).slice(0, 300)}`).toEqual(want[i]);
    const stores = want.reduce((n, w) => n + w.length - 1, 0);
    console.log(
      `espruino-step-native: ${scenarios.length} random runs, ${stores} STEP/DIR stores, ${scenarios.reduce((n, s) => n + s.calls.length, 0)} calls on qemu-arm, all as the model; ` +
        `segments taken at their start ${cov.atStart}, after it ${cov.between}, DIR stores ${cov.dirStores}, steps held ${cov.held}, merged ${cov.merged}, steps ${cov.steps}`,
    );
    expect(stores).toBeGreaterThan(1000);
    for (const [k, v] of Object.entries(cov)) expect(v, k).toBeGreaterThan(10);
  }, 60_000);
});
