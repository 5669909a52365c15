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
import { gantryStartMm } from '../../sim/report/sampler';
import { RING_START_DEG } from '../../sim/report/ring-sampler';
import { ringAxes } from '../../shared/geometry/ring';
import type { SimEvent } from './protocol';

/** What the server sends: the plan, and the profile it chose from machines/ (never a path from the page). */
export interface SimJob {
  plan: Plan;
  machineFile: string;
  machineName: string;
}

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
  const r = simulate(bytes, machine, {
    startMm,
    onProgress: (f) => {
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
    violations: r.violations.slice(0, SHOW_VIOLATIONS).map((v) => ({ kind: v.kind, message: v.message, seconds: v.timeUs / 1e6, ...(v.hook !== undefined ? { hook: v.hook } : {}) })),
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
