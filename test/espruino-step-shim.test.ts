// The simulator's require("timer") (sim/targets/espruino-timer.ts) under the built app's own
// EspruinoStepOutput (dist/espruino/app.js in node:vm over the Espruino shim): steps where the
// routine puts them (each phase's exact constant-acceleration step times, to a call or two), the
// timer queue's limits, refusal of native code it has no model for, and late phases as violations.
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
  phases: boolean;
  pushPhase(axis: number, dir: number, count: number, startUs: number, p0: number, v0: number, a: number): void;
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
  it('phases: each step within a call or two of its exact constant-acceleration time, never more than a call early; DIR before; positions counted', () => {
    const { mcu, gen, edges, run } = board();
    expect(gen).not.toBeNull();
    expect(gen.tickUs).toBeCloseTo(PERIOD_US, 9);
    expect(gen.phases).toBe(true);
    gen.setup(0, 2, 5, 1, 2);
    gen.setup(1, 3, 6, 0, 2);
    const t0 = mcu.now;
    const origin = t0 + 1000;
    gen.start(origin);
    // axis 0: from rest, 50 steps accelerating at 1e-6 steps/µs², then 100 at the speed reached (10 kHz,
    // under the routine's 13.1 kHz: a step and its pulse's end take two calls);
    // axis 1: 30 steps backwards at 0.003 steps/µs, slowing at 5e-8 steps/µs²
    const a = 1e-6;
    const tAcc = Math.sqrt((2 * 50) / a); // p reaches 50.5 (from 0.5) at tAcc
    const phases: [number, number, number, number, number, number, number][] = [
      [0, 1, 50, 0, 0.5, 0, a],
      [0, 1, 100, tAcc, 0.5, a * tAcc, 0],
      [1, -1, 30, 2000, 0.5, 0.003, -5e-8],
    ];
    for (const p of phases) gen.pushPhase(...p);
    run();
    const exact = (axis: number) => {
      const out: number[] = [];
      for (const [ax, , n, start, p0, v0, acc] of phases) {
        if (ax !== axis) continue;
        for (let k = 1; k <= n; k++) out.push(origin + start + (2 * (k - p0)) / (v0 + Math.sqrt(v0 * v0 + 2 * acc * (k - p0))));
      }
      return out;
    };
    const rises = (pin: number) => edges.filter((e) => e[0] === pin && e[1] === 1).map((e) => e[2]);
    for (const [pin, axis, n] of [[2, 0, 150], [3, 1, 30]]) {
      const got = rises(pin);
      const want = exact(axis);
      expect(got.length).toBe(n);
      got.forEach((t, i) => {
        expect(t - want[i], `axis ${axis} step ${i}`).toBeGreaterThanOrEqual(-PERIOD_US - 1e-6);
        expect(t - want[i], `axis ${axis} step ${i}`).toBeLessThanOrEqual(2 * PERIOD_US + 1e-6);
      });
    }
    // each pulse ends on the next call; DIR (axis 1: −1 with plusLevel 0 → high) before its first step
    const falls = edges.filter((e) => e[0] === 2 && e[1] === 0).map((e) => e[2]);
    falls.forEach((t, i) => expect(t - rises(2)[i]).toBeCloseTo(PERIOD_US, 6));
    const dir1 = edges.find((e) => e[0] === 6)!;
    expect(dir1[1]).toBe(1);
    expect(dir1[2]).toBeLessThan(rises(3)[0]);
    expect([gen.position(0), gen.position(1)]).toEqual([150, -30]);
    expect(gen.free(0)).toBe(15);
    expect(() => gen.push(0, 1, 100, 2, 0)).toThrow(/phases only/);
  });

  it('a phase written after it was due is a late-step violation', () => {
    const { mcu, gen, problems, run } = board();
    gen.setup(0, 2, 5, 1, 2);
    const origin = mcu.now;
    gen.start(origin);
    gen.pushPhase(0, 1, 3, 0, 0.5, 0.002, 0);
    run();
    expect(problems).toEqual([]);
    // due 1.8 ms after the start, written 5 ms after the last step
    mcu.setTimer(1, mcu.now + 5000, () => gen.pushPhase(0, 1, 2, 1800, 0.5, 0.01, 0));
    run();
    expect(problems).toEqual([expect.stringMatching(/^late-step: axis 0: step segment written [45]\.\d+ ms after it was due/)]);
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
