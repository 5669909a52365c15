// `npm run bench:sim`: step-exact simulation of the coffee bench plan (3000 lines, ref-gantry) on
// every simulation target (sim/targets/): the wall time, the ratio to real (machine) time and the
// step rate, next to the native target measured in the same process (issue 7: a 3000-line build in
// ≤ 20 s wall, ≥ 200× real time). Targets whose VM is too slow for a whole piece in a bench
// (NodeMCU in fengari, a Lua VM written in JavaScript) run the first PREFIX_LINES lines and the
// whole-piece wall time is extrapolated from their time per step; the table says which.
import { execFileSync, spawnSync } from 'node:child_process';
import { loadPlan } from '../host/plan/load';
import type { Plan } from '../host/plan/types';
import { encodePlan } from '../host/stream/plan-stream';
import { machineHash } from '../host/stream/machine-hash';
import { loadMachine } from '../host/machine/load';
import type { MachineProfile } from '../shared/machine';
import { simulate } from '../sim/simulate';
import { simTargets } from '../sim/targets/index';
import { benchPlanFile } from './bench-plans';

const PREFIX_LINES = 60;
/** Targets simulated on a prefix of the plan only (seconds per step measured, whole piece extrapolated). */
const PREFIX_ONLY = new Set(['nodemcu']);

const machine = loadMachine('machines/ref-gantry.json') as MachineProfile;
const file = benchPlanFile('coffee');
if (!file) {
  console.error('bench:sim: the coffee bench image is missing (../shared/bench/images)');
  process.exit(1);
}
const plan = loadPlan(file);
const prefix: Plan = { ...plan, lines: plan.lines.slice(0, PREFIX_LINES) };
const hash = machineHash(machine);
const whole = encodePlan(plan, { machineHash: hash });
const part = encodePlan(prefix, { machineHash: hash });

console.log(`coffee, ${plan.lines.length} lines on ref-gantry; targets: ≤ 20 s wall, ≥ 200× real time`);
console.log('| target | lines simulated | machine h | steps (M) | wall s | × real time | M steps/s | whole piece wall s | × native | ok |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
let nativeWall = 0;
let nativeStepsWhole = 0;
for (const name of Object.keys(simTargets)) {
  const target = await simTargets[name]();
  const short = PREFIX_ONLY.has(name);
  const r = simulate(short ? part : whole, machine, { target, skipEstimates: true });
  const steps = r.steps.x + r.steps.y + r.steps.z;
  const lines = r.planHooks.length - 1;
  // Extrapolate by steps: the whole piece has the native run's steps (native runs first).
  let wholeWall = r.wallSeconds;
  if (short) wholeWall = nativeStepsWhole > 0 ? (r.wallSeconds / steps) * nativeStepsWhole : NaN;
  if (name === 'native') {
    nativeWall = r.wallSeconds;
    nativeStepsWhole = steps;
  }
  console.log(
    `| ${name} | ${lines}${short ? ' (prefix)' : ''} | ${(r.machineSeconds / 3600).toFixed(3)} | ${(steps / 1e6).toFixed(2)} | ${r.wallSeconds.toFixed(2)} | ` +
      `${(r.machineSeconds / r.wallSeconds).toFixed(0)} | ${(steps / r.wallSeconds / 1e6).toFixed(2)} | ${wholeWall.toFixed(1)}${short ? ' (est.)' : ''} | ` +
      `${nativeWall > 0 ? (wholeWall / nativeWall).toFixed(1) : '-'} | ${r.ok} |`,
  );
}

// What a real (C) Lua would need for the NodeMCU target: its speed on a tight arithmetic loop here
// (≈ 6 VM instructions per iteration), against the ~240 VM instructions per step of the runtime
// (docs/targets/nodemcu.md, counted with debug.sethook).
const lua = spawnSync('sh', ['-c', 'command -v lua5.3'], { encoding: 'utf8' }).stdout.trim();
if (lua) {
  const loop = 'local t=os.clock() local a,b=0,1 for i=1,50000000 do a=a+b*2 if a>1000000 then a=a-1000000 end end io.write(os.clock()-t)';
  const s = Number(execFileSync(lua, ['-e', loop], { encoding: 'utf8' }));
  const instrPerS = (50e6 * 6) / s;
  console.log(`\nC Lua 5.3 here: ${(50 / s).toFixed(0)} M loop iterations/s ≈ ${(instrPerS / 1e6).toFixed(0)} M VM instructions/s; ` +
    `at ~240 per step the 3000-line piece (${(nativeStepsWhole / 1e6).toFixed(1)} M steps) needs ≥ ${((nativeStepsWhole * 240) / instrPerS).toFixed(0)} s in C Lua`);
}
