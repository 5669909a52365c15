/**
 * The studio's simulator thread: one plan on one machine profile, run as `hookline sim` runs it
 * (encode bound to the profile, sim/simulate.ts with the native runtime, the strung picture drawn
 * from what the motion actually wrapped), with progress posted as it goes.
 */
import { parentPort } from 'node:worker_threads';
import { UserError } from '../errors';
import { checkPlanOnMachine } from '../machine/compat';
import { loadMachine } from '../machine/load';
import type { Plan } from '../plan/types';
import { machineHash } from '../stream/machine-hash';
import { encodePlan } from '../stream/plan-stream';
import { renderStrungPng } from '../../sim/render-strung';
import { simulate } from '../../sim/simulate';
import { MotionSampler, gantryStartMm } from '../../sim/report/sampler';
import { RING_START_DEG, RingMotionSampler } from '../../sim/report/ring-sampler';
import { lineAt } from '../../sim/report/render';
import { ringAxes } from '../../shared/geometry/ring';
import { hookXMm, hookYMm } from '../../shared/machine';
import type { SimEvent } from './protocol';

/** What the server sends: the plan, and the profile it chose from machines/ (never a path from the page). */
export interface SimJob {
  plan: Plan;
  machineFile: string;
  machineName: string;
  /** Int32 [0]: 1 = pause (the thread waits until it is 0 again), set by the server (POST …/sim/pause, …/resume). */
  control: SharedArrayBuffer;
  /** Give up after this much machine time (a timeout violation), as `hookline sim --max-machine-seconds`. */
  maxMachineSeconds?: number;
}

/** Vertices of the nozzle path sent to the page. */
const PATH_POINTS = 4000;

/** Violations sent to the page (all are counted). */
const SHOW_VIOLATIONS = 20;

function post(e: SimEvent) {
  parentPort!.postMessage(e);
}

function run(job: SimJob) {
  const machine = loadMachine(job.machineFile);
  checkPlanOnMachine(job.plan, machine, 'the plan', `machines/${job.machineName}.json`);
  const bytes = encodePlan(job.plan, { machineHash: machineHash(machine) });
  const geo = machine.kind === 'ring' ? ringAxes(machine) : machine;
  const startMm = machine.kind === 'ring' ? [RING_START_DEG, 0, 0] : gantryStartMm(geo);
  let last = -1;
  const control = new Int32Array(job.control);
  const sampler = machine.kind === 'ring' ? new RingMotionSampler(machine, startMm[0]) : new MotionSampler(geo, startMm);
  const r = simulate(bytes, machine, {
    startMm,
    onEdge: sampler,
    ...(job.maxMachineSeconds !== undefined ? { maxMachineSeconds: job.maxMachineSeconds } : {}),
    onProgress: (f) => {
      // Paused: this thread waits (machine time stands still with it) until the server clears the flag.
      if (Atomics.load(control, 0) === 1) {
        post({ type: 'paused', fraction: f });
        while (Atomics.load(control, 0) === 1) Atomics.wait(control, 0, 1, 1000);
        post({ type: 'resumed' });
      }
      // At most a hundred progress events.
      const pct = Math.floor(f * 100);
      if (pct !== last) {
        last = pct;
        post({ type: 'progress', fraction: f });
      }
    },
  });
  const strung = renderStrungPng(geo, r.wrapped, r.planOps, r.colors, 512, job.plan.background);
  const m = r.firstMismatch;
  const samples = sampler.finish(r.machineSeconds * 1e6, PATH_POINTS);
  const round = (v: number) => Math.round(v * 100) / 100;
  const hooks = Array.from({ length: geo.hooks.count }, (_, i): [number, number] => [round(hookXMm(geo, i)), round(hookYMm(geo, i))]);
  /** A violation's place: its hook, else the hook wrapped last before it (else the first hook). */
  const placeOf = (v: { hook?: number; timeUs: number }): [number, number] => {
    if (v.hook !== undefined && hooks[v.hook]) return hooks[v.hook];
    let k = -1;
    for (let i = 0; i < r.wraps.length && r.wraps[i].timeUs <= v.timeUs; i++) k = i;
    return hooks[k >= 0 ? r.wraps[k].hook : 0];
  };
  const wrapSeconds = Array.from({ length: 101 }, (_, i) => {
    if (r.wraps.length === 0) return 0;
    const k = Math.min(r.wraps.length - 1, Math.round((i / 100) * (r.wraps.length - 1)));
    return round(r.wraps[k].timeUs / 1e6);
  });
  post({
    type: 'result',
    ok: r.ok,
    machine: job.machineName,
    plannedHooks: r.planHooks.length,
    wrappedHooks: r.wrapped.length,
    machineSeconds: r.machineSeconds,
    floorSeconds: r.floorSeconds,
    threadMeters: r.threadMeters,
    maxPileMm: r.maxPileMm,
    violationCount: Object.values(r.violationCounts).reduce((a: number, b) => a + (b ?? 0), 0),
    violations: r.violations.slice(0, SHOW_VIOLATIONS).map((v) => {
      const [x, y] = placeOf(v);
      return { kind: v.kind, message: v.message, seconds: v.timeUs / 1e6, ...(v.hook !== undefined ? { hook: v.hook } : {}), x, y, line: lineAt(r.wraps, v.timeUs) };
    }),
    board: { widthMm: geo.board.widthMm, heightMm: geo.board.heightMm },
    hooks,
    path: { xs: Array.from(samples.xs, round), ys: Array.from(samples.ys, round), low: Array.from(samples.low) },
    wrapSeconds,
    colourStarts: (job.plan.colorChanges ?? []).filter((c) => c.line < r.wraps.length).map((c) => ({
      seconds: round(r.wraps[c.line].timeUs / 1e6), colour: job.plan.colors[c.color] ?? '#000000', line: c.line,
    })),
    firstMismatch: m ? { index: m.index, expectedHook: m.expectedHook, wrappedHook: m.wrappedHook } : null,
    strung: strung.toString('base64'),
    wallSeconds: r.wallSeconds,
  });
}

parentPort!.once('message', (job: SimJob) => {
  try {
    run(job);
  } catch (e) {
    post({ type: 'error', message: e instanceof UserError ? e.message : `the simulator failed: ${(e as Error)?.message ?? e}` });
  }
  parentPort!.close();
});
