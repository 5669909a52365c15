// Motion on the reference gantry, for the 3000-line plans of the bench images
// (../shared/bench/images, planned once with `hookline plan`, see bench/bench-plans.ts): the simulated machine time against the floor and against the same runtime
// with look-ahead off (exact stop at every block; the planner's estimate without stepping, and for
// the first plan also the full simulation), violations, and the simulator's wall time and step rate
// against a baseline loop measured in the same process (issue 7: a 3000-line build in ≤ 20 s).
import { readFileSync } from 'node:fs';
import { loadPlan } from '../host/plan/load';
import { encodePlan } from '../host/stream/plan-stream';
import { machineHash } from '../host/stream/machine-hash';
import type { MachineProfile } from '../shared/machine';
import { simulate } from '../sim/simulate';
import { benchPlanFile } from './bench-plans';

const names = (process.env.HOOKLINE_BENCH_PLANS ?? 'coffee,chelsea,rocket').split(',');
const machine = JSON.parse(readFileSync('machines/ref-gantry.json', 'utf8')) as MachineProfile;

/** A fixed floating-point loop (the verifier's kind of work): the machine's speed today. */
function baseline(): number {
  const t0 = performance.now();
  let acc = 0;
  for (let i = 1; i < 20_000_000; i++) acc += Math.atan2(i & 1023, (i >> 10) & 1023) + Math.sqrt(i);
  if (acc === 42) process.stdout.write('');
  return (performance.now() - t0) / 1000;
}

const base = baseline();
process.stdout.write(`baseline loop: ${base.toFixed(3)} s\n\n`);
process.stdout.write('| plan | lines | machine h | s/line | floor s/line | × floor | exact stop h | look-ahead speed-up | violations | wrapped ok | sim wall s | × baseline | M steps/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
let first = true;
for (const name of names) {
  const file = benchPlanFile(name);
  if (!file) {
    process.stdout.write(`| ${name} | (image not found) |\n`);
    continue;
  }
  const plan = loadPlan(file);
  const bytes = encodePlan(plan, { machineHash: machineHash(machine) });
  const r = simulate(bytes, machine);
  const lines = r.planHooks.length - 1;
  const steps = r.steps.x + r.steps.y + r.steps.z;
  const viol = Object.values(r.violationCounts).reduce((a, b) => a + (b ?? 0), 0);
  process.stdout.write(
    `| ${name} | ${lines} | ${(r.machineSeconds / 3600).toFixed(3)} | ${(r.machineSeconds / lines).toFixed(3)} | ${(r.floorSeconds / lines).toFixed(3)} | ${(r.machineSeconds / r.floorSeconds).toFixed(3)} | ` +
      `${(r.exactStopSeconds / 3600).toFixed(3)} | ${(r.exactStopSeconds / r.machineSeconds).toFixed(2)} | ${viol} | ${r.ok} | ${r.wallSeconds.toFixed(2)} | ${(r.wallSeconds / base).toFixed(1)} | ${(steps / r.wallSeconds / 1e6).toFixed(1)} |\n`,
  );
  if (first && process.env.HOOKLINE_BENCH_EXACT !== '0') {
    first = false;
    const x = simulate(bytes, machine, { faults: { exactStop: true }, skipEstimates: true });
    const xv = Object.values(x.violationCounts).reduce((a, b) => a + (b ?? 0), 0);
    process.stdout.write(
      `|  ${name}, look-ahead off (simulated) | ${lines} | ${(x.machineSeconds / 3600).toFixed(3)} | ${(x.machineSeconds / lines).toFixed(3)} | | ${(x.machineSeconds / r.floorSeconds).toFixed(3)} | | ${(x.machineSeconds / r.machineSeconds).toFixed(2)} | ${xv} | ${x.ok} | ${x.wallSeconds.toFixed(2)} | ${(x.wallSeconds / base).toFixed(1)} | |\n`,
    );
  }
}
