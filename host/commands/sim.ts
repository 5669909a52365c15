import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError, fsErrorText } from '../errors';
import { createProgress } from '../progress';
import { hookLabel, pathPlace } from '../numbering';
import { loadMachine } from '../machine/load';
import { loadPlan } from '../plan/load';
import { planPath } from '../plan/types';
import { checkPlanOnMachine } from '../machine/compat';
import { decodeStreamBytes, streamOnMachine } from '../stream/plan-stream';
import { machineHash } from '../stream/machine-hash';
import { renderStrungPng } from '../../sim/render-strung';
import { simulate } from '../../sim/simulate';
import { MotionSampler, gantryStartMm } from '../../sim/report/sampler';
import { RING_START_DEG, RingMotionSampler, ringMotionLabels } from '../../sim/report/ring-sampler';
import { renderBuildGif, renderMotionSvg, renderReportHtml } from '../../sim/report/render';
import { type RingProfile, ringAxes } from '../../shared/geometry/ring';
import { simTargets } from '../../sim/targets/index';
import { type ChipDef, chipFor } from '../../sim/chip/chips';
import type { ChipReport } from '../../sim/chip/cpu';
import type { Command } from './command';

export const simCommand: Command = {
  name: 'sim',
  usage: 'sim PLAN.hls --machine MACHINE.json -o DIR [--plan PLAN.json] [--target native|...] [--chip esp8266|esp8266-160|esp32|pico] [--max-machine-seconds S] [--width PX]',
  summary: 'run the stream on the simulated machine (device runtime on a virtual MCU); write DIR/report.json, DIR/report.html, DIR/strung.png (what the motion actually wrapped), DIR/motion.svg and DIR/build.gif',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('sim', argv, {
      machine: { type: 'string', short: 'm' },
      out: { type: 'string', short: 'o' },
      width: { type: 'string' },
      plan: { type: 'string' },
      target: { type: 'string', short: 't' },
      chip: { type: 'string' },
      'max-machine-seconds': { type: 'string' },
    });
    const [streamPath] = positionals('sim', pos, ['plan.hls']);
    if (!values.machine) throw new UserError('sim: missing --machine MACHINE.json (e.g. --machine machines/ref-gantry.json)');
    if (!values.out) throw new UserError('sim: missing -o DIR (where to write report.json and strung.png)');
    const width = numberFlag('width', values.width, 1024, { min: 64, max: 8192, integer: true });
    const maxMachineSeconds = numberFlag('max-machine-seconds', values['max-machine-seconds'], 7 * 24 * 3600, { min: 1, max: 365 * 24 * 3600 });
    const targetName = values.target ?? 'native';
    const loadTarget = simTargets[targetName];
    if (!loadTarget) throw new UserError(`sim: unknown --target '${targetName}'; use one of ${Object.keys(simTargets).join(', ')}`);
    // --chip: the interpreter's work is charged to that chip's CPU (sim/chip/). Refused, not run
    // uncharged, when the target has no cost model for it.
    let chip: ChipDef | undefined;
    if (values.chip !== undefined) {
      const c = chipFor(values.chip, targetName);
      if (typeof c === 'string') throw new UserError(`sim: ${c}`);
      chip = c;
    }
    const target = await loadTarget();
    if (chip && !target.costModels?.[chip.name]) {
      throw new UserError(`sim: --target ${targetName} has no cost model for --chip ${chip.name} yet (issue #15), so its interpreter cannot be charged; run without --chip (the clock then stands still while the interpreter runs)`);
    }

    const machine = loadMachine(values.machine);
    // Hook positions and drawing: a ring's hooks are laid out like a gantry's (shared/geometry/ring.ts).
    const geo = machine.kind === 'ring' ? ringAxes(machine) : machine;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(streamPath);
    } catch (e) {
      throw new UserError(`cannot read stream ${streamPath}: ${fsErrorText(e)}; give a .hls file written by 'hookline encode'`);
    }
    // A stream bound to another profile is refused here, by name, before the simulated device says so.
    const decoded = decodeStreamBytes(bytes, streamPath, machineHash(machine));
    streamOnMachine(decoded, streamPath, machine.hooks.count, values.machine);

    let background = '#ffffff';
    if (values.plan) {
      // The stream carries hook indices only: with the plan at hand, check that its nails are this
      // machine's hooks and that the stream is this plan.
      const plan = loadPlan(values.plan);
      checkPlanOnMachine(plan, machine, values.plan, values.machine);
      const path = planPath(plan);
      if (path.length !== decoded.hooks.length || path.some((h, i) => h !== decoded.hooks[i])) {
        throw new UserError(`${streamPath} is not ${values.plan}'s path; encode it again with 'hookline encode ${values.plan} -o ${streamPath}'`);
      }
      background = plan.background;
    }

    // The path and speed/acceleration are sampled from the pin edges (sim/report/sampler.ts, ring-sampler.ts).
    const ring = machine.kind === 'ring' ? (machine as RingProfile) : null;
    const startMm = ring ? [RING_START_DEG, 0, 0] : gantryStartMm(machine as typeof geo);
    const sampler = ring ? new RingMotionSampler(ring, startMm[0]) : new MotionSampler(machine as typeof geo, startMm);
    const labels = ring ? ringMotionLabels(ring) : undefined;
    // The simulation is ~80 % of the wall time, the reports the rest.
    const progress = createProgress({ label: 'sim' });
    const r = simulate(bytes, machine, { startMm, onEdge: sampler, target, chip, maxMachineSeconds, onProgress: (f) => progress.update(0.8 * f) });
    const samples = sampler.finish(r.machineSeconds * 1e6);
    const totalSteps = r.steps.x + r.steps.y + r.steps.z;
    const report = {
      format: 'hookline-sim-report',
      version: 1,
      ok: r.ok,
      stream: streamPath,
      machine: machine.name,
      target: target.name,
      planHooks: r.planHooks.length,
      wrappedHooks: r.wrapped.length,
      lines: Math.max(0, r.wrapped.length - 1),
      machineSeconds: round(r.machineSeconds, 3),
      floorSeconds: round(r.floorSeconds, 3),
      exactStopSeconds: round(r.exactStopSeconds, 3),
      secondsPerLine: round(r.machineSeconds / Math.max(1, r.planHooks.length - 1), 4),
      floorRatio: round(r.machineSeconds / Math.max(1e-9, r.floorSeconds), 4),
      lookAheadSpeedup: round(r.exactStopSeconds / Math.max(1e-9, r.machineSeconds), 4),
      threadMeters: round(r.threadMeters, 2),
      maxPileMm: round(r.maxPileMm, 3),
      homingSeconds: round(r.homedSeconds, 3),
      violations: r.violations,
      violationCounts: r.violationCounts,
      firstMismatch: r.firstMismatch,
      alarm: r.alarm,
      runtime: r.report,
      pauses: r.pauses,
      steps: r.steps,
      sim: { wallSeconds: round(r.wallSeconds, 3), stepsPerSecond: Math.round(totalSteps / Math.max(r.wallSeconds, 1e-9)), timerEvents: r.timerEvents },
      stepGenerator: r.stepGenerator
        ? { ...r.stepGenerator, stepsPerSegment: round(r.stepGenerator.steps / Math.max(1, r.stepGenerator.segments), 2), segmentsPerSecond: round(r.stepGenerator.segments / Math.max(r.machineSeconds, 1e-9), 1) }
        : null,
      flashWrites: r.flashWrites,
      chip: r.chip ? chipJson(r.chip) : undefined,
      log: r.log,
      wrapped: r.wrapped,
      wrappedDirs: r.wrappedDirs,
      plan: r.planHooks,
      planDirs: r.planDirs,
    };
    writeFileAtomic(join(values.out, 'report.json'), JSON.stringify(report, null, 1) + '\n');
    const strung = renderStrungPng(geo, r.wrapped, r.planOps, r.colors, width, background);
    writeFileAtomic(join(values.out, 'strung.png'), strung);
    progress.update(0.85);
    writeFileAtomic(join(values.out, 'motion.svg'), renderMotionSvg(geo, samples, labels));
    progress.update(0.88);
    writeFileAtomic(join(values.out, 'build.gif'), renderBuildGif(geo, r.wrapped, r.planOps, background));
    progress.update(0.95);
    const preview = values.plan ? join(dirname(values.plan), 'preview.png') : '';
    const havePreview = preview !== '' && existsSync(preview);
    const planned = havePreview ? readFileSync(preview) : renderStrungPng(geo, r.planHooks, r.planOps, r.colors, Math.min(width, 512), background);
    writeFileAtomic(join(values.out, 'report.html'), renderReportHtml({
      r, machine: geo, streamPath, plannedPng: planned,
      plannedLabel: havePreview ? `planned (${preview})` : 'planned (drawn from the stream)', samples, labels,
    }));
    progress.done();

    const verdict = r.ok ? 'OK' : 'FAILED';
    const why = r.ok
      ? ''
      : ' — ' +
        [
          r.firstMismatch ? `first mismatch at ${pathPlace(r.firstMismatch.index)} (planned ${fmtHook(r.firstMismatch.expectedHook, r.firstMismatch.expectedDir)}, wrapped ${fmtHook(r.firstMismatch.wrappedHook, r.firstMismatch.wrappedDir)})` : '',
          r.violations.length ? `${r.violations.length} violations, first: ${r.violations[0].message}` : '',
        ].filter(Boolean).join('; ');
    process.stdout.write(
      `sim ${verdict}: wrapped ${r.wrapped.length} of ${r.planHooks.length} hooks, ${(r.machineSeconds / 3600).toFixed(2)} h machine time` +
        ` (${(r.machineSeconds / Math.max(1e-9, r.floorSeconds)).toFixed(2)} × floor, ${(r.exactStopSeconds / Math.max(1e-9, r.machineSeconds)).toFixed(2)} × faster than exact stop), ${r.threadMeters.toFixed(1)} m thread, pile ${r.maxPileMm.toFixed(1)} mm` +
        (r.chip ? `; ${chipLine(r.chip)}` : '') +
        `${why}; wrote ${join(values.out, 'report.json')}, report.html, strung.png, motion.svg, build.gif\n`,
    );
    return r.ok ? 0 : 1;
  },
};

/** report.json's `chip`: the chip, where its cost figures come from, load per window and headroom. */
function chipJson(c: ChipReport) {
  return {
    name: c.name,
    label: c.label,
    mhz: c.mhz,
    costSource: c.costSource,
    uncertainty: c.uncertainty,
    windowMs: c.windowMs,
    load: {
      average: round(c.load.average, 4),
      peak: round(c.load.peak, 4),
      peakAtSeconds: round(c.load.peakAtSeconds, 3),
      peakMoving: round(c.load.peakMoving, 4),
      peakMovingAtSeconds: round(c.load.peakMovingAtSeconds, 3),
    },
    busyWait: { average: round(c.busyWait.average, 4), peak: round(c.busyWait.peak, 4) },
    headroom: round(c.headroom, 4),
    cycles: Math.round(c.cycles),
    entries: c.entries,
    workSeconds: round(c.workSeconds, 3),
    busyWaitSeconds: round(c.busyWaitSeconds, 3),
    late: { count: c.late.count, maxMs: round(c.late.maxMs, 3), toleranceUs: c.late.toleranceUs },
    breakdown: c.breakdown.map((b) => ({ what: b.what, count: b.count, cycles: Math.round(b.cycles), share: round(b.cycles / Math.max(1, c.cycles), 4) })),
  };
}

function chipLine(c: ChipReport): string {
  const pct = (v: number) => `${Math.round(v * 100)} %`;
  const moving = c.load.peakMoving >= 0 ? `${pct(c.load.peakMoving)} peak per ${c.windowMs} ms while the motors run (${pct(c.load.peak)} with the boot)` : `${pct(c.load.peak)} peak per ${c.windowMs} ms`;
  return `chip ${c.name} (${c.mhz} MHz): interpreter load ${pct(c.load.average)} average, ${moving} (headroom ${pct(c.headroom)}), busy-waits ${pct(c.busyWait.average)}, ${c.late.count} late timers (worst ${c.late.maxMs.toFixed(2)} ms)`;
}

function round(v: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

function fmtHook(h: number | null, d: number | null): string {
  if (h === null) return 'nothing';
  return `hook ${hookLabel(h, d)}`;
}
