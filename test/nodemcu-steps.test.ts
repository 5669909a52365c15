/**
 * NodeMCU's hardware step generation (issue 15): the firmware primitives as the simulator implements
 * them (sim/targets/nodemcu-gpio-pulse.ts after gpio_pulse.c, sim/targets/nodemcu-rmt.ts after
 * rmt.c), the step outputs that map segments onto them (device/nodemcu/steps-pulse.ts,
 * steps-rmt.ts; run here as TypeScript against the same simulations), and the built Lua 5.3 app in
 * fengari stringing ref-gantry on each primitive.
 */
import { SEEK_POLL_US } from '../device/stepper';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualMcu } from '../sim/mcu';
import { GpioPulse, LATENCY, PULSE_STEP_JITTER_US } from '../sim/targets/nodemcu-gpio-pulse';
import { RESTART_US, Rmt, START_US } from '../sim/targets/nodemcu-rmt';
import { PULSE_PAIRS, PulseStepOutput } from '../device/nodemcu/steps-pulse';
import { RMT_RESTART_US, RMT_START_US, RmtStepOutput } from '../device/nodemcu/steps-rmt';
import type { StepOutput } from '../device/hal';
import { encodeStream } from '../shared/stream/encoder';
import { machineHash } from '../host/stream/machine-hash';
import { simulate } from '../sim/simulate';
import { nodemcuTarget } from '../sim/targets/nodemcu';
import { refGantry } from './helpers/rig';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/cli';
import './fast-check-seed';

type Stage = Record<string, number>;
const entry = (t: Stage, base = { set: 0, clr: 0, delay: 0, min: -1, max: -1, count: 0, countLeft: 0, loop: 0 }) => {
  // fill_entry_from_table on a JavaScript object: pins OR-ed into the masks.
  const e = { ...base };
  for (const [k, v] of Object.entries(t)) {
    if (/^\d+$/.test(k)) {
      if (v) e.set |= 1 << Number(k);
      else e.clr |= 1 << Number(k);
    } else (e as Record<string, number>)[k] = v;
  }
  if (e.min !== -1 || e.max !== -1) {
    if (e.min === -1) e.min = 0;
    if (e.min > e.delay || e.max < e.delay) throw new Error(`Delay of ${e.delay} must be between min and max`);
  }
  return e;
};

/**
 * NodeMCU's Lua API in JavaScript over a VirtualMcu and the two primitive simulations, enough for
 * the step outputs: gpio (write, pulse), rmt, tmr alarms, node.task.post, table.concat. `pump`
 * runs alarms and tasks in time order (peripherals run in between); `busy` drops alarms in a span
 * (Lua stuck elsewhere: a starved feeder).
 */
function nodemcuJs(board: 'ESP8266' | 'ESP32') {
  const mcu = new VirtualMcu();
  const problems: string[] = [];
  mcu.onProblem = (_k, m) => void problems.push(m);
  const rises: Record<number, number[]> = {};
  mcu.addListener({ edge: (pin, level, t) => void (level === 1 && (rises[pin] ??= []).push(t)) });
  const gp = board === 'ESP8266' ? new GpioPulse(mcu, { post: () => {} }) : null;
  const rmtSim = board === 'ESP32' ? new Rmt(mcu, (us) => us > 0 && mcu.advanceTo(mcu.now + us)) : null;
  type Job = { at: number; fn: () => void; every: number; seq: number; on: boolean };
  const jobs: Job[] = [];
  let seq = 0;
  let busy: [number, number] = [0, 0];
  const g = globalThis as Record<string, unknown>;
  g.table = { concat: (p: string[]) => p.join('') };
  g.node = { task: { LOW_PRIORITY: 0, post: (_p: number, fn: () => void) => void jobs.push({ at: mcu.now, fn, every: 0, seq: seq++, on: true }) } };
  g.tmr = {
    ALARM_SINGLE: 0,
    ALARM_AUTO: 2,
    create: () => {
      let job: Job | null = null;
      return {
        alarm(ms: number, mode: number, fn: () => void) {
          if (job) job.on = false;
          job = { at: mcu.now + ms * 1000, fn, every: mode === 2 ? ms * 1000 : 0, seq: seq++, on: true };
          jobs.push(job);
          return true;
        },
        stop() {
          if (job) job.on = false;
          return true;
        },
      };
    },
  };
  g.gpio = {
    HIGH: 1,
    LOW: 0,
    write: (pin: number, l: number) => void (rmtSim?.ownsPin(pin) || mcu.write(pin, l)),
    pulse: gp && {
      build(stages: Stage[]) {
        const id = gp.build(stages.map((s) => entry(s)));
        return {
          start: (adjust: number) => gp.start(id, adjust),
          getstate: () => gp.getstate(id)[0] ?? undefined,
          update: (n: number, t: Stage) => gp.update(id, n, (e) => Object.assign(e, entry(t, e))),
          cancel: () => gp.cancel(id)?.[0] ?? undefined,
        };
      },
    },
  };
  g.rmt = rmtSim && {
    txsetup(pin: number, bt: number, o: { idle_level: number }) {
      const [id] = rmtSim.txsetup(pin, bt, o.idle_level, 1);
      return {
        send: (s: string) => rmtSim.send(id, Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff), false),
        close: () => rmtSim.close(id),
      };
    },
  };
  const pump = (untilUs: number) => {
    for (;;) {
      let best: Job | null = null;
      for (const j of jobs) if (j.on && (!best || j.at < best.at || (j.at === best.at && j.seq < best.seq))) best = j;
      if (!best || best.at > untilUs) break;
      mcu.advanceTo(best.at);
      if (best.every) best.at += best.every;
      else best.on = false;
      if (mcu.now >= busy[0] && mcu.now < busy[1]) continue;
      best.fn();
    }
    mcu.advanceTo(untilUs);
  };
  const out: StepOutput =
    board === 'ESP8266' ? new PulseStepOutput(() => Math.floor(mcu.now)) : new RmtStepOutput(() => Math.floor(mcu.now), (pin) => rmtSim!.releasePin(pin));
  for (let a = 0; a < 3; a++) out.setup(a, 2 + a, 5 + a, 1, 3);
  return { mcu, out, rises, problems, pump, gp, rmtSim, setBusy: (from: number, to: number) => void (busy = [from, to]) };
}

/** Exact step times (µs from the generator's start) of segments, as sim/step-generator.ts makes them. */
function stepTimes(segs: { interval: number; count: number; add: number }[]): number[] {
  const t: number[] = [];
  let last = 0;
  for (const s of segs) {
    let iv = s.interval;
    for (let k = 0; k < s.count; k++) {
      last += iv;
      t.push(last);
      iv += s.add;
    }
  }
  return t;
}

const segArb = fc.record({ interval: fc.integer({ min: 150, max: 3000 }), count: fc.integer({ min: 1, max: 25 }), add: fc.integer({ min: -4, max: 6 }) });
const axesArb = fc.array(fc.array(segArb, { minLength: 0, maxLength: 5 }), { minLength: 3, maxLength: 3 }).filter((axes) =>
  // Every interval stays ≥ 150 µs (the ref-gantry peak is 125 µs per axis, but never on all three).
  axes.every((segs) => segs.every((s) => s.interval + (s.count - 1) * s.add >= 150)),
);

/** Feed segments as the stepper does (all of them at once here), pump until done; rising edges per axis. */
function run(board: 'ESP8266' | 'ESP32', axes: { interval: number; count: number; add: number }[][]) {
  const h = nodemcuJs(board);
  const startAt = 10000;
  h.out.start(startAt);
  axes.forEach((segs, a) => segs.forEach((s) => h.out.push(a, 1, s.interval, s.count, s.add)));
  const ends = axes.map((segs) => stepTimes(segs).pop() ?? 0);
  const end = startAt + Math.max(...ends) + 200000;
  // The stepper's refills: position() every refillUs.
  for (let t = 0; t < end; t += h.out.refillUs) {
    h.pump(t);
    for (let a = 0; a < 3; a++) h.out.position(a);
  }
  h.pump(end);
  const positions = [0, 1, 2].map((a) => h.out.position(a));
  h.out.stop();
  return { ...h, startAt, positions };
}

describe('gpio.pulse as gpio_pulse.c runs it', () => {
  const setup = () => {
    const mcu = new VirtualMcu();
    const problems: string[] = [];
    mcu.onProblem = (_k, m) => void problems.push(m);
    const edges: [number, number, number][] = [];
    mcu.addListener({ edge: (pin, level, t) => void edges.push([pin, level, t]) });
    return { mcu, problems, edges, gp: new GpioPulse(mcu, { post: () => {} }) };
  };

  it('runs stages with µs delays (plus the interrupt latency), loops with count, and chains delays under 3 µs in one interrupt', () => {
    const { mcu, edges, gp } = setup();
    const id = gp.build([entry({ 1: 1, delay: 100 }), entry({ 1: 0, delay: 2 }), entry({ 2: 1, delay: 50, loop: 1, count: 2 }), entry({ 2: 0, delay: 10 })]);
    gp.start(id, 0);
    mcu.advanceTo(2000);
    // 1 high at 0; 1 low at 100 + latency; 2 high at once (2 µs: same interrupt); loop back twice.
    const ones = edges.filter((e) => e[0] === 1);
    expect(ones.length).toBe(6);
    expect(ones[0][2]).toBe(0);
    expect(ones[1][2]).toBeCloseTo(100 + LATENCY.armUs - LATENCY.pinUs + LATENCY.pinUs, 6);
    const twos = edges.filter((e) => e[0] === 2 && e[1] === 1);
    expect(twos[0][2] - ones[1][2]).toBeCloseTo(LATENCY.loopUs, 6);
    expect(gp.getstate(id)[0]).toBe(null);
    expect(gp.entriesRun).toBe(4 * 3 - 2);
  });

  it('update() ORs pins into the stage (a pin set high, then updated low, ends low) and a late update of the running stage is a problem', () => {
    const { mcu, problems, edges, gp } = setup();
    const id = gp.build([entry({ 3: 1, delay: 1000 }), entry({ delay: 1000, loop: 1, count: 5 })]);
    gp.update(id, 1, (e) => Object.assign(e, entry({ 3: 0 }, e)));
    gp.start(id, 0);
    // Stage 1 now sets then clears pin 3: it never goes high for long.
    mcu.advanceTo(500);
    expect(mcu.levels[3]).toBe(0);
    expect(edges.filter((e) => e[0] === 3).map((e) => e[1])).toEqual([1, 0]);
    gp.update(id, 1, (e) => Object.assign(e, entry({ delay: 10 }, e)));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/stage 1 updated while it runs/);
  });

  it('an adjustable stage absorbs lateness; lateness it cannot absorb (a negative start adjust) is a problem', () => {
    const { mcu, problems, edges, gp } = setup();
    const stages = [entry({ delay: 0, min: 0, max: 0 }), entry({ delay: 500, min: 0, max: 64000000 }), entry({ 4: 1, delay: 10 }), entry({ 4: 0, delay: 0 })];
    const id = gp.build(stages);
    gp.start(id, 0);
    mcu.advanceTo(5000);
    expect(problems).toHaveLength(0);
    expect(edges[0][2]).toBeGreaterThanOrEqual(500);
    expect(edges[0][2]).toBeLessThan(500 + 2 * LATENCY.armUs);
    const late = gp.build(stages.map((e) => ({ ...e })));
    gp.start(late, -600);
    mcu.advanceTo(10000);
    expect(problems.join('\n')).toMatch(/ran 100\.0 µs behind the program's schedule/);
  });
});

describe('rmt as rmt.c and the IDF driver run it', () => {
  it('1 µs ticks from a 1 000 000 ps bit time; a send on a busy channel blocks until it ends; a channel that ran dry and is sent more is a problem', () => {
    const mcu = new VirtualMcu();
    const problems: string[] = [];
    mcu.onProblem = (_k, m) => void problems.push(m);
    const edges: [number, number, number][] = [];
    mcu.addListener({ edge: (pin, level, t) => void edges.push([pin, level, t]) });
    const r = new Rmt(mcu, (us) => us > 0 && mcu.advanceTo(mcu.now + us));
    expect(() => r.txsetup(4, 3000000000, 0, 1)).toThrow(/Bit time out of range/);
    const [id, bt] = r.txsetup(4, 1000000, 0, 1);
    expect(bt).toBe(1000000);
    const item = (level: number, d: number) => [d & 0xff, (level << 7) | (d >> 8)];
    r.send(id, Uint8Array.from([...item(0, 100), ...item(1, 3), ...item(0, 900)]), false);
    expect(mcu.now).toBe(START_US);
    r.send(id, Uint8Array.from([...item(1, 3), ...item(0, 10)]), false);
    // Blocked until the first train's end (5 + 1003 µs), started RESTART_US later.
    expect(mcu.now).toBe(START_US + 1003 + RESTART_US);
    mcu.advanceTo(5000);
    expect(edges.filter((e) => e[1] === 1).map((e) => e[2])).toEqual([START_US + 100, START_US + 1003 + RESTART_US]);
    expect(problems).toHaveLength(0);
    r.send(id, Uint8Array.from(item(1, 3)), false);
    expect(problems[0]).toMatch(/ran dry .* a gap in its pulse train/);
    expect(() => r.send(id, Uint8Array.from([1, 2, 3]), false)).toThrow(/multiple of 2/);
    for (let i = 0; i < 7; i++) r.txsetup(10 + i, 1000000, 0, 1);
    expect(() => r.txsetup(20, 1000000, 0, 1)).toThrow(/no spare RMT channel/);
  });

  it('the step output predicts the firmware timing the shim models (same constants)', () => {
    expect(RMT_START_US).toBe(START_US);
    expect(RMT_RESTART_US).toBe(RESTART_US);
  });
});

describe('segments → primitives (fast-check)', () => {
  it('gpio.pulse: every step of random segments on three axes, in order, within the serialisation bound of its exact time', () => {
    fc.assert(
      fc.property(axesArb, (axes) => {
        const r = run('ESP8266', axes);
        expect(r.problems).toEqual([]);
        axes.forEach((segs, a) => {
          const want = stepTimes(segs).map((t) => r.startAt + Math.round(t));
          const got = r.rises[2 + a] ?? [];
          expect(got.length).toBe(want.length);
          expect(r.positions[a]).toBe(want.length);
          got.forEach((t, i) => {
            expect(t - want[i]).toBeGreaterThanOrEqual(-3);
            expect(t - want[i]).toBeLessThanOrEqual(PULSE_STEP_JITTER_US + LATENCY.armUs + LATENCY.pinUs);
          });
        });
      }),
      { numRuns: 40 },
    );
  });

  it('rmt: every step of random segments at its exact time to the 1 µs tick, across batches', () => {
    fc.assert(
      fc.property(axesArb, (axes) => {
        const r = run('ESP32', axes);
        expect(r.problems).toEqual([]);
        axes.forEach((segs, a) => {
          const want = stepTimes(segs).map((t) => r.startAt + t);
          const got = r.rises[2 + a] ?? [];
          expect(got.length).toBe(want.length);
          expect(r.positions[a]).toBe(want.length);
          got.forEach((t, i) => expect(Math.abs(t - want[i])).toBeLessThanOrEqual(1));
        });
      }),
      { numRuns: 40 },
    );
  });

  it('a starved program is a violation: gpio.pulse restarted after its step was due, rmt channels left to run dry', () => {
    const p = nodemcuJs('ESP8266');
    p.out.start(10000);
    p.pump(40000);
    // The first step was due at 10 000 + 1 000 µs; it is pushed 29 ms later.
    p.out.push(0, 1, 1000, 3, 0);
    p.pump(80000);
    expect(p.problems.join('\n')).toMatch(/gpio\.pulse: stage 2 ran \d+\.\d µs behind the program's schedule/);
    const r = nodemcuJs('ESP32');
    r.out.start(10000);
    r.out.push(0, 1, 1000, 200, 0);
    // Lua busy elsewhere for 150 ms: no feeder runs, the channels' batches end.
    r.setBusy(20000, 170000);
    for (let t = 0; t < 300000; t += 10000) {
      r.pump(t);
      r.out.position(0);
    }
    expect(r.problems.join('\n')).toMatch(/rmt channel \d \(GPIO \d\) ran dry/);
    expect(PULSE_PAIRS * 2 * 3 + 4 + 6).toBeLessThanOrEqual(100 + 6);
  });
});

describe('the Lua 5.3 app in fengari on each primitive', () => {
  const m = refGantry();
  const plan = Uint8Array.from(encodeStream([0, 9, 18, 5], 160, [0], { version: 4, machineHash: machineHash(m) }));
  const startMm = [10, 10, 25];
  const native = simulate(plan, m, { startMm, skipEstimates: true });

  it.each(['ESP8266', 'ESP32'] as const)('%s: ref-gantry short plan, 0 violations, stepped by the primitive', (board) => {
    let gp: GpioPulse | null = null;
    let rmt: Rmt | null = null;
    const r = simulate(plan, m, {
      startMm,
      skipEstimates: true,
      target: nodemcuTarget({ board, onPrimitives: (p) => ((gp = p.gpioPulse), (rmt = p.rmt)) }),
    });
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.wrapped).toEqual(native.wrapped);
    // The job's steps are native's; a seek towards a switch may run a few steps further on the
    // generator (it reads the switch every SEEK_POLL_US), there and back: at most that much seek motion each way.
    for (const a of ['x', 'y', 'z'] as const) {
      const ax = m.axes[a];
      const slack = 2 * Math.ceil((ax.homing.seekSpeedMmS * ax.stepsPerMm * SEEK_POLL_US) / 1e6) * 2;
      expect(Math.abs(r.steps[a] - native.steps[a])).toBeLessThanOrEqual(slack);
    }
    const steps = r.steps.x + r.steps.y + r.steps.z;
    if (board === 'ESP8266') {
      // Two stages per step (A high, B low), DIR stages and SYNC/LEAD on top.
      expect(gp!.entriesRun).toBeGreaterThan(2 * steps * 0.9);
      expect(gp!.lateUpdates).toBe(0);
    } else {
      expect(rmt!.items).toBeGreaterThan(2 * steps * 0.9);
      expect(rmt!.gaps).toBe(0);
    }
  }, 120000);

  it.each(['ESP8266', 'ESP32'] as const)('%s: ref-ring (one axis; the two absent axes\' dummy pins get no stages or channels)', (board) => {
    const ring = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8'));
    const rp = Uint8Array.from(encodeStream([0, 7, 15, 3], 200, [0], { version: 4, machineHash: machineHash(ring) }));
    const a = simulate(rp, ring, { skipEstimates: true });
    const r = simulate(rp, ring, { skipEstimates: true, target: nodemcuTarget({ board }) });
    expect(r.violations).toEqual([]);
    expect(r.wrapped).toEqual(a.wrapped);
  }, 120000);

  it.each(['ESP8266', 'ESP32'] as const)('%s: a program starved of segments (refilled every 150 ms) is a late-step violation', (board) => {
    const r = simulate(plan, m, { startMm, skipEstimates: true, target: nodemcuTarget({ board, afterCreate: '__hal.steps.refillUs = 150000' }) });
    expect(r.ok).toBe(false);
    expect(r.violationCounts['late-step'] ?? 0).toBeGreaterThan(0);
  }, 120000);
});
