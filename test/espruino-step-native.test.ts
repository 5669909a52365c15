// The Espruino step routine's real bytes on a real ARM CPU: test/native/step-harness.c, compiled
// with arm-linux-gnueabihf-gcc into a temp dir and run under qemu-arm, calls the routine tick by tick
// as Espruino's utility timer calls an EXEC task, with the state written by the same layout code
// the board's JavaScript uses; every STEP/DIR write (with its call) and the final state must equal
// the TypeScript reference model's (sim/targets/espruino-step-model.ts), which the simulator runs.
// The model itself is checked against the segment semantics (exact step times). The encoder's bytes
// are checked against GNU as. Skips the ARM parts with one line when the cross compiler or qemu-arm
// is missing.
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
  A_POS,
  axisWord,
  fixHi,
  fixLo,
  fixValue,
  freeSlots,
  H_CALLS,
  initState,
  int32,
  pushSegment,
  resetAxes,
  setAxisPins,
  stableWord,
  stateWords,
} from '../device/espruino/step-layout';
import { nextWork, stepCall } from '../sim/targets/espruino-step-model';

const SOURCE = readFileSync(new URL('../device/espruino/step-routine.s', import.meta.url), 'utf8');
const HARNESS = new URL('./native/step-harness.c', import.meta.url).pathname;
const GPIO = 0x30000000;
const SLOTS = 8;

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
    expect(rows.map((r) => [r.instructions, r['cycles P=2']])).toEqual([[11, 29], [15, 25], [16, 27], [15, 27], [43, 73], [28, 49], [77, 128], [53, 89]]);
  });
  it('gives the ARM Architecture Reference Manual encodings', () => {
    const words = (s: string) => assemble(s).listing.map((l) => l.word.toString(16));
    expect(words('push {r4, r5, r6, r7, lr}\npop {r4, r5, r6, r7, pc}')).toEqual(['b5f0', 'bdf0']);
    expect(words('ldr r3, [r4, #44]\nstr r6, [r5, #0]\nmovs r4, r2\nmovs r3, #1')).toEqual(['6ae3', '602e', '14', '2301']);
    expect(words('adds r3, r3, #1\nadds r6, r6, r5\nsubs r3, r0, r3\nadcs r1, r3\nands r5, r1\nlsls r6, r6, #3')).toEqual(['3301', '1976', '1ac3', '4159', '400d', '00f6'.replace(/^0+/, '')]);
    expect(words('x:\ncmp r7, #0\nbeq x\nb x\nbmi y\ny:')).toEqual(['2f00', 'd0fd', 'e7fc', 'd4ff']);
    expect(() => assemble('ldr r8, [r4, #0]')).toThrow(/r0-r7/);
    expect(() => assemble('ldr r3, [r4, #2]')).toThrow(/multiple of 4/);
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

describe('the segment encoding (32.32 fixed point)', () => {
  it('round-trips values to 2^-32 and wraps the integer part mod 2^32', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 4e9, noNaN: true }), (x) => {
        const lo = fixLo(x);
        const hi = fixHi(x);
        expect(lo).toBe(lo | 0);
        expect(hi).toBe(hi | 0);
        // hi is the integer part mod 2^32 (signed): the value comes back mod 2^32, to 2^-32
        const wrapped = x - 4294967296 * Math.floor((x + 2147483648) / 4294967296);
        const d = fixValue(lo, hi) - wrapped;
        const err = Math.min(Math.abs(d), Math.abs(Math.abs(d) - 4294967296));
        expect(err).toBeLessThanOrEqual(2 ** -32 + Math.abs(x) * 2 ** -52);
      }),
    );
  });
  it('reads a word the routine writes until two reads agree (Espruino reads typed arrays byte by byte)', () => {
    const reads = [511, 256, 300, 300, 7]; // a torn read, then the word changing once more
    let k = 0;
    const fake = new Proxy([], { get: (_t, p) => (p === '5' ? reads[k++] : undefined) }) as unknown as Int32Array;
    expect(stableWord(fake, 5)).toBe(300);
    expect(k).toBe(4);
  });
  it('int32 is ToInt32 for integers up to 2^53', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 53), max: 2 ** 53 }), (x) => {
        expect(int32(x)).toBe(Number(BigInt.asIntN(32, BigInt(x))));
      }),
    );
  });
  it('a pushed segment reads back as written, the write index last, free slots counted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dir: fc.constantFrom(-1, 1), count: fc.integer({ min: 1, max: 100000 }), iv: fc.double({ min: 0, max: 1e7, noNaN: true }), add: fc.double({ min: -1e4, max: 1e4, noNaN: true }) }), { maxLength: SLOTS - 1 }),
        (segs) => {
          const mem = new Int32Array(stateWords(2, SLOTS));
          initState(mem, 2, SLOTS);
          segs.forEach((s, i) => {
            expect(freeSlots(mem, 1)).toBe(SLOTS - 1 - i); // nothing running yet
            pushSegment(mem, 1, s.dir, s.count, s.iv, s.add);
          });
          expect(freeSlots(mem, 0)).toBe(SLOTS - 1);
          const r = axisWord(mem, 1);
          segs.forEach((s, i) => {
            const w = r + 18 + i * 6;
            expect([mem[w], mem[w + 1]]).toEqual([s.dir, s.count]);
            expect(Math.abs(fixValue(mem[w + 2], mem[w + 3]) - s.iv)).toBeLessThan(1e-6);
            expect(Math.abs(fixValue(mem[w + 4], mem[w + 5]) - s.add)).toBeLessThan(1e-6);
          });
        },
      ),
    );
  });
});

/** A run: pins, then segments pushed at given calls, calls at given times (units). */
interface Scenario {
  axes: number;
  start: number;
  calls: number[];
  /** [call before which it is pushed, axis, dir, count, interval, add] */
  pushes: [number, number, number, number, number, number][];
}

/** The harness script and the model's expected output for a scenario. */
function runModel(sc: Scenario): { script: string[]; out: string[] } {
  const words = stateWords(sc.axes, SLOTS);
  const mem = new Int32Array(words);
  initState(mem, sc.axes, SLOTS);
  for (let a = 0; a < sc.axes; a++) setAxisPins(mem, a, GPIO + 8 * a, a + 2, GPIO + 8 * a + 4, 15 - a, a & 1);
  resetAxes(mem, sc.start);
  const script = [`R ${words}`];
  const seen = new Int32Array(words);
  const flush = () => {
    for (let i = 0; i < words; i++) if (mem[i] !== seen[i]) script.push(`W ${i} ${mem[i]}`), (seen[i] = mem[i]);
  };
  flush();
  const out: string[] = [];
  let p = 0;
  sc.calls.forEach((now, k) => {
    while (p < sc.pushes.length && sc.pushes[p][0] <= k) {
      const [, a, dir, count, iv, add] = sc.pushes[p++];
      if (freeSlots(mem, a) > 0) pushSegment(mem, a, dir, count, iv, add);
    }
    flush();
    script.push(`C ${now >>> 0}`);
    const writes: [number, number][] = [];
    stepCall(mem, now >>> 0, (addr, value) => writes.push([(addr - GPIO) / 4, value]));
    writes.sort((x, y) => x[0] - y[0]);
    for (const [g, v] of writes) out.push(`E ${k} ${g} ${v}`);
    seen.set(mem);
  });
  script.push('D');
  out.push('D ' + Array.from(mem).join(' '));
  return { script, out };
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    axes: fc.integer({ min: 1, max: 3 }),
    start: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 32 - 3000, max: 2 ** 32 - 1 })),
    period: fc.integer({ min: 20, max: 60 }),
    jitter: fc.integer({ min: 0, max: 10 }),
    n: fc.integer({ min: 50, max: 400 }),
    seed: fc.array(fc.integer({ min: 0, max: 2 ** 30 }), { minLength: 400, maxLength: 400 }),
    pushes: fc.array(
      fc.tuple(
        fc.integer({ min: 0, max: 399 }),
        fc.integer({ min: 0, max: 2 }),
        fc.constantFrom(-1, 1),
        fc.integer({ min: 1, max: 20 }),
        fc.oneof(fc.double({ min: 0, max: 400, noNaN: true }), fc.integer({ min: 0, max: 200 })),
        fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constant(0)),
      ),
      { maxLength: 30 },
    ),
  })
  .map(({ axes, start, period, jitter, n, seed, pushes }) => {
    const calls: number[] = [];
    let t = start;
    for (let k = 0; k < n; k++) calls.push((t += period + (seed[k] % (jitter + 1))) % 2 ** 32);
    return {
      axes,
      start,
      calls,
      pushes: pushes.map((p) => [p[0], p[1] % axes, p[2], p[3], p[4], p[5]] as [number, number, number, number, number, number]).sort((a, b) => a[0] - b[0]),
    };
  });

describe('the reference model (what the simulator runs for the EXEC task)', () => {
  it('steps at the first call at or after each exact step time, a pulse lasting one call, DIR a call ahead', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 20, max: 50 }),
        // every interval >= 3 calls (240 - 29 * 3 > 3 * 50), so no step waits for the previous pulse
        fc.array(fc.record({ dir: fc.constantFrom(-1, 1), count: fc.integer({ min: 1, max: 30 }), iv: fc.double({ min: 240, max: 2000, noNaN: true }), add: fc.double({ min: -3, max: 3, noNaN: true }) }), { minLength: 1, maxLength: 7 }),
        (period, segs) => {
          const mem = new Int32Array(stateWords(1, SLOTS));
          initState(mem, 1, SLOTS);
          setAxisPins(mem, 0, GPIO, 3, GPIO + 4, 4, 1);
          const start = 1000;
          resetAxes(mem, start);
          for (const s of segs) pushSegment(mem, 0, s.dir, s.count, s.iv, s.add);
          // exact step times and directions
          const want: [number, number][] = [];
          let t = start;
          for (const s of segs) for (let i = 0; i < s.count; i++) want.push([(t += s.iv + i * s.add), s.dir]);
          const got: [number, number][] = [];
          let dir = 0;
          let k = 0;
          for (let now = start + period; got.length < want.length && k < 1e6; now += period, k++) {
            stepCall(mem, now, (addr, v) => {
              if (addr === GPIO + 4) dir = v === 1 << 4 ? 1 : -1;
              else if (v === 1 << 3) got.push([now, dir]);
            });
          }
          expect(got.length).toBe(want.length);
          // each step at the first call with now >= floor(exact time), or the call after a DIR change
          let dirChangeAt = -Infinity;
          got.forEach(([now, d], i) => {
            const [exact, wd] = want[i];
            expect(d).toBe(wd);
            if (i > 0 && want[i - 1][1] !== wd) dirChangeAt = i;
            // the first call at or after floor(exact time) (the fixed point may round across an integer)
            const first = (x: number) => start + period * Math.max(1, Math.ceil((Math.floor(x) - start) / period));
            if (dirChangeAt === i || i === 0) expect(now).toBeGreaterThanOrEqual(first(exact - 1e-6));
            else {
              expect(now).toBeGreaterThanOrEqual(first(exact - 1e-6));
              expect(now).toBeLessThanOrEqual(first(exact + 1e-6));
            }
            expect(now - exact).toBeLessThan(2 * period + 1e-6);
          });
          expect(mem[axisWord(mem, 0) + A_POS]).toBe(want.reduce((p, w) => p + w[1], 0));
        },
      ),
    );
  });
  it('nextWork says when a call first has work (a skipping simulator calls then and agrees)', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        const words = stateWords(sc.axes, SLOTS);
        const a = new Int32Array(words);
        initState(a, sc.axes, SLOTS);
        for (let x = 0; x < sc.axes; x++) setAxisPins(a, x, GPIO + 8 * x, x, GPIO + 8 * x + 4, x + 8, 1);
        resetAxes(a, sc.start);
        for (const [, ax, dir, count, iv, add] of sc.pushes) if (freeSlots(a, ax) > 0) pushSegment(a, ax, dir, count, iv, add);
        const b = Int32Array.from(a);
        const ea: string[] = [];
        const eb: string[] = [];
        sc.calls.forEach((now, k) => {
          stepCall(a, now, (addr, v) => ea.push(`${k} ${addr} ${v}`));
          const w = nextWork(b);
          const due = w === 'call' || (w !== null && ((now - w.at) | 0) >= 0);
          if (due) stepCall(b, now, (addr, v) => eb.push(`${k} ${addr} ${v}`));
        });
        expect(eb).toEqual(ea);
        for (let x = 0; x < sc.axes; x++) expect(b[axisWord(b, x) + A_POS]).toBe(a[axisWord(a, x) + A_POS]);
        expect(b[H_CALLS]).toBeLessThanOrEqual(a[H_CALLS]);
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

  const run = (scenarios: Scenario[]) => {
    const script = [`L ${join(dir, 'step.bin')}`];
    const want: string[][] = [];
    for (const sc of scenarios) {
      const m = runModel(sc);
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

  it('a gantry-like run: three axes, accelerating and decelerating segments, direction changes, the clock wrapping', () => {
    const calls: number[] = [];
    const start = 2 ** 32 - 40000; // the 32-bit clock wraps 40 000 units in
    for (let t = start + 42, k = 0; k < 6000; k++, t += 42 + (k % 3)) calls.push(t % 2 ** 32);
    const pushes: Scenario['pushes'] = [];
    for (let a = 0; a < 3; a++) {
      pushes.push([0, a, 1, 40, 900 - a * 100, -18.5]);
      pushes.push([0, a, 1, 200, 180, 0]);
      pushes.push([0, a, 1, 40, 180, 17.25 + a]);
      pushes.push([100, a, -1, 1, 3000, 0]);
      pushes.push([100, a, -1, 300, 126.0001, 0]);
      pushes.push([4000, a, 1, 500, 0.3333333, 0.0001]);
    }
    pushes.sort((x, y) => x[0] - y[0]);
    const { got, want } = run([{ axes: 3, start, calls, pushes }]);
    expect(got[0]).toEqual(want[0]);
    console.log(`espruino-step-native: gantry-like run, ${want[0].length - 1} STEP/DIR stores in ${calls.length} calls on qemu-arm, all as the model`);
    // it really stepped: edges on every axis, final positions as queued
    const mem = want[0][want[0].length - 1].split(' ').slice(1).map(Number);
    const m = Int32Array.from(mem);
    expect([0, 1, 2].map((a) => m[axisWord(m, a) + A_POS])).toEqual([479, 479, 479]);
    expect([0, 1, 2].map((a) => m[axisWord(m, a) + A_COUNT])).toEqual([0, 0, 0]);
  });

  it('random segments, push times, call jitter and clock wraps: every edge, call and word agrees', () => {
    const scenarios = fc.sample(scenario, 150);
    const { got, want } = run(scenarios);
    expect(got.length).toBe(scenarios.length);
    for (let i = 0; i < scenarios.length; i++) expect(got[i], `scenario ${i}: ${JSON.stringify(scenarios[i]).slice(0, 300)}`).toEqual(want[i]);
    const edges = want.reduce((n, w) => n + w.length - 1, 0);
    console.log(`espruino-step-native: ${scenarios.length} random runs, ${edges} STEP/DIR stores, ${scenarios.reduce((n, s) => n + s.calls.length, 0)} calls on qemu-arm, all as the model`);
    expect(edges).toBeGreaterThan(1000);
  }, 60_000);
});
