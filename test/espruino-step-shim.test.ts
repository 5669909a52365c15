// The simulator's require("timer") (sim/targets/espruino-timer.ts) under the built app's own
// EspruinoStepOutput (dist/espruino/app.js in node:vm over the Espruino shim): steps where the
// routine puts them (the first call at or after each exact step time), the timer queue's limits,
// refusal of native code it has no model for, and late segments as violations.
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { VirtualMcu } from '../sim/mcu';
import { espruinoShim } from '../sim/targets/espruino-shim';
import { TIMER_TASKS, UNITS_PER_S } from '../sim/targets/espruino-timer';
import { PERIOD_UNITS } from '../device/espruino/step-generator';
import { STEP_CODE_BYTES } from '../device/espruino/step-code';
import { repoRoot } from './helpers/cli';
import { join } from 'node:path';

interface Gen {
  setup(axis: number, step: number, dir: number, plus: number, pulseUs: number): void;
  start(atUs: number): void;
  push(axis: number, dir: number, interval: number, count: number, add: number): void;
  position(axis: number): number;
  free(axis: number): number;
  stop(): void;
  tickUs: number;
}

function board() {
  const mcu = new VirtualMcu();
  const problems: string[] = [];
  mcu.onProblem = (kind, message) => problems.push(`${kind}: ${message}`);
  const ctx = vm.createContext(vm.constants?.DONT_CONTEXTIFY ?? {}) as vm.Context;
  const shim = espruinoShim(mcu, 0, { context: ctx });
  Object.assign(ctx, shim.globals);
  vm.runInContext(readFileSync(join(repoRoot, 'dist/espruino/app.js'), 'utf8'), ctx);
  const gen = vm.runInContext('new hooklineApp.EspruinoHal().steps', ctx) as Gen;
  const edges: [number, number, number][] = [];
  mcu.addListener({ edge: (pin, level, t) => edges.push([pin, level, t]) });
  const timer = (shim.globals.require as (n: string) => { add(t: object): number; remove(id: number): boolean; list(): { ptr: number; userdata: number }[] })('timer');
  const run = () => {
    while (mcu.runNext());
  };
  return { mcu, gen, edges, problems, timer, run };
}

const PERIOD_US = (PERIOD_UNITS * 1e6) / UNITS_PER_S;

describe("the shim's require('timer') EXEC model under the app's step generator", () => {
  it('steps at the first call at or after each exact step time; DIR a call before; positions counted', () => {
    const { mcu, gen, edges, run } = board();
    expect(gen).not.toBeNull();
    expect(gen.tickUs).toBeCloseTo(PERIOD_US, 9);
    gen.setup(0, 2, 5, 1, 2);
    gen.setup(1, 3, 6, 0, 2);
    const t0 = mcu.now;
    gen.start(t0 + 1000);
    // axis 0: 50 accelerating steps then 100 at 200 µs; axis 1: 30 steps backwards at 333.3 µs
    gen.push(0, 1, 1500, 50, -20);
    gen.push(0, 1, 200, 100, 0);
    gen.push(1, -1, 400, 30, -2.25);
    run();
    const want = (segs: [number, number, number][]) => {
      const out: number[] = [];
      let t = t0 + 1000;
      for (const [iv, n, add] of segs) for (let i = 0; i < n; i++) out.push((t += iv + i * add));
      return out;
    };
    // the routine's call k is at t0 + k·period; it steps when its clock (units, floored) reaches the step's
    const callFor = (tUs: number) => {
      const due = Math.floor((tUs * UNITS_PER_S) / 1e6);
      let k = Math.max(0, Math.floor((tUs - t0) / PERIOD_US) - 1);
      while (Math.floor(((t0 + k * PERIOD_US) * UNITS_PER_S) / 1e6) < due) k++;
      return t0 + k * PERIOD_US;
    };
    const rises = (pin: number) => edges.filter((e) => e[0] === pin && e[1] === 1).map((e) => e[2]);
    const w0 = want([[1500, 50, -20], [200, 100, 0]]);
    const w1 = want([[400, 30, -2.25]]);
    expect(rises(2).length).toBe(150);
    expect(rises(3).length).toBe(30);
    rises(2).forEach((t, i) => expect(t, `axis 0 step ${i}`).toBeCloseTo(callFor(w0[i]), 6));
    rises(3).forEach((t, i) => expect(t, `axis 1 step ${i}`).toBeCloseTo(callFor(w1[i]), 6));
    // each pulse ends on the next call; DIR (axis 1: −1 with plusLevel 0 → high) before its first step
    const falls = edges.filter((e) => e[0] === 2 && e[1] === 0).map((e) => e[2]);
    falls.forEach((t, i) => expect(t - rises(2)[i]).toBeCloseTo(PERIOD_US, 6));
    const dir1 = edges.find((e) => e[0] === 6)!;
    expect(dir1[1]).toBe(1);
    expect(dir1[2]).toBeLessThan(rises(3)[0]);
    expect([gen.position(0), gen.position(1)]).toEqual([150, -30]);
    expect(gen.free(0)).toBe(15);
  });

  it('a segment written after its first step was due is a late-step violation', () => {
    const { mcu, gen, problems, run } = board();
    gen.setup(0, 2, 5, 1, 2);
    gen.start(mcu.now);
    gen.push(0, 1, 500, 3, 0);
    run();
    expect(problems).toEqual([]);
    mcu.setTimer(1, mcu.now + 5000, () => gen.push(0, 1, 100, 2, 0)); // due 100 µs after the last step, pushed 5 ms after it
    run();
    expect(problems).toEqual([expect.stringMatching(/^late-step: axis 0: step segment written 4\.\d+ ms after its first step was due/)]);
    expect(gen.position(0)).toBe(5);
  });

  it('refuses native code it has no model for, SET and fn tasks; 15 tasks fit, the 16th throws', () => {
    const { mcu, gen, timer } = board();
    // the generator's own task shows where its code and state are (as the firmware's list() does)
    gen.start(mcu.now);
    const [{ ptr, userdata: state }] = timer.list();
    gen.stop();
    expect(timer.list()).toEqual([]);
    const codeAddr = ptr - 1;
    expect(state).toBe(codeAddr + STEP_CODE_BYTES);
    expect(() => timer.add({ type: 'EXEC', ptr: codeAddr + 3, userdata: state, interval: 0.04 })).toThrow(/no model for the native code/);
    expect(() => timer.add({ type: 'EXEC', ptr: 0x20000001, userdata: state, interval: 0.04 })).toThrow(/no model for the native code/);
    expect(() => timer.add({ type: 'EXEC', fn: () => {}, interval: 1 })).toThrow(/not modelled/);
    expect(() => timer.add({ type: 'SET', pin: 3, value: 1, time: 1 })).toThrow(/not modelled/);
    const ids: number[] = [];
    for (let i = 0; i < TIMER_TASKS - 1; i++) ids.push(timer.add({ type: 'EXEC', ptr: codeAddr + 1, userdata: state, time: 0, interval: 0.04 }));
    expect(new Set(ids).size).toBe(15);
    expect(() => timer.add({ type: 'EXEC', ptr: codeAddr + 1, userdata: state, time: 0, interval: 0.04 })).toThrow('Timeout on Utility Timer');
    expect(timer.remove(ids[3])).toBe(true);
    expect(timer.remove(ids[3])).toBe(false);
    expect(timer.add({ type: 'EXEC', ptr: codeAddr + 1, userdata: state, time: 0, interval: 0.04 })).toBe(ids[3]);
  });
});
