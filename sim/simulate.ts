/**
 * Run the device runtime on the virtual microcontroller against a simulated gantry and judge the
 * result: simulate(stream, machine) → SimResult (see docs/runtime.md, "Simulator").
 *
 * The host side of the run behaves like `hookline send` will: power on, boot, home, then feed the
 * stream byte by byte whenever the runtime can accept one, and answer thread-change pauses after
 * `threadChangeSeconds`.
 */
import { decodeExpected } from './expected-path';
import { type MachineProfile, axisAt, mmToSteps } from '../shared/machine';
import {
  type RuntimeFaults, type RuntimeStatus, ST_ALARM, ST_DONE, ST_HOMING, ST_IDLE, ST_PAUSED, ST_RUNNING, noFaults,
} from '../device/runtime';
import { runtimeErrorText } from '../device/errors';
import { machineHash } from '../host/stream/machine-hash';
import { estimateMotion, floorSeconds, threadMm } from '../shared/motion/estimate';
import { type EdgeListener, type StepGeneratorStats, VirtualMcu } from './mcu';
import type { SimTarget } from './targets/target';
import type { ChipDef } from './chip/chips';
import { type ChipReport, ChipCpu } from './chip/cpu';
import { nativeTarget } from './targets/native';
import { GantryPlant, type PlantFaults, gantryStartMm } from './plant';
import { RING_START_DEG, RingPlant, RingTracker } from './ring';
import { type RingProfile, RingPath, ringAxes, ringFloorSeconds } from '../shared/geometry/ring';
import { type Mismatch, type Violation, type ViolationKind, type WrapEvent, Verifier, firstMismatch, hooksAndDirections } from './verify';

/** Step timing of firmware charged to a chip, µs (see setStepJitter below). */
const CHIP_STEP_JITTER_US = 2;

export interface SimOptions {
  /** Physical power-on position, machine mm [x, y, z]; default: middle of the X/Y travel, z at 2/3. */
  startMm?: number[];
  /** Test-only: the profile the runtime is given, when it differs from the machine (a misconfigured device). */
  runtimeMachine?: MachineProfile;
  /** Test-only runtime faults. */
  faults?: Partial<RuntimeFaults>;
  /** Test-only physical faults. */
  plantFaults?: PlantFaults;
  /** Operator time for a thread change at a colour pause (default 30 s). */
  threadChangeSeconds?: number;
  /** Give up after this much machine time (default 7 days). */
  maxMachineSeconds?: number;
  /** The profile hash the device is configured with (default: this profile's, host/stream/machine-hash.ts; 0 = accept any stream). */
  machineHash?: number;
  /** Skip the planner-only estimates (exact stop, look-ahead) in the result. */
  skipEstimates?: boolean;
  /** Extra listener for every pin edge (tests record the first edges with it). */
  onEdge?: EdgeListener;
  /** Which build of the runtime runs (sim/targets/); default native (the TypeScript itself). */
  target?: SimTarget;
  /**
   * Charge the interpreter's work to this chip (sim/chip/): the clock moves on while the app's code
   * runs, late timers are 'late-step' violations, and the result carries the CPU load. The target
   * must have a cost model for it (SimTarget.costModels).
   */
  chip?: ChipDef;
  /** With a chip: how late the runtime's timer may run before it is a violation, µs (default sim/chip/cpu.ts DEFAULT_LATE_TOLERANCE_US). */
  lateToleranceUs?: number;
  /** Called now and then with the fraction done, 0..1 (hooks wrapped, then the estimates). */
  onProgress?: (fraction: number) => void;
}

export interface SimResult {
  /** The wrapped sequence equals the stream's, the runtime finished (done) and nothing was violated. */
  ok: boolean;
  /** The runtime's final status report. */
  report: RuntimeStatus;
  /** One line for the runtime's alarm, if any. */
  alarm: string | null;
  /** The stream's hook sequence and the directions the machine owes them. */
  planHooks: number[];
  planDirs: number[];
  /** Stream operations (hooks ≥ 0, colour c as −(c+1)) and palette, for drawing. */
  planOps: number[];
  colors: number[];
  /** What the motion actually wrapped, in order. */
  wrapped: number[];
  wrappedDirs: number[];
  wraps: WrapEvent[];
  firstMismatch: Mismatch | null;
  violations: Violation[];
  violationCounts: Partial<Record<ViolationKind, number>>;
  machineSeconds: number;
  /** Σ over lines of max over axes |Δ hook-centre position| / maxSpeedMmS (shared/motion/estimate.ts). */
  floorSeconds: number;
  /** The same job with look-ahead off (exact stop at every block), from the runtime's planner without stepping. */
  exactStopSeconds: number;
  /** The planner's own estimate of this job's motion time (look-ahead on), for comparison with machineSeconds. */
  estimateSeconds: number;
  threadMeters: number;
  /** Highest thread pile the verifier modelled (wraps it saw × thread width × packing). */
  maxPileMm: number;
  /** Machine time when the last endstop was first reached (homing), −1 if never. */
  homedSeconds: number;
  /** Machine time when the runtime first ran the job (state RUNNING), −1 if never. */
  jobStartSeconds: number;
  steps: { x: number; y: number; z: number };
  pauses: number;
  /** Lines the runtime printed. */
  log: string[];
  /** Progress the runtime stored ("line"). */
  storedLine: number;
  /** Flash writes the firmware made (progress), −1 where the target does not model flash. */
  flashWrites: number;
  timerEvents: number;
  /** The target's hardware step generator: segments and steps it made (null: steps timed one by one). */
  stepGenerator: StepGeneratorStats | null;
  wallSeconds: number;
  /** With SimOptions.chip: what the interpreter cost on it (load per 100 ms window, headroom, late timers). */
  chip: ChipReport | null;
}

export function simulate(stream: Uint8Array, profile: MachineProfile | RingProfile, opts: SimOptions = {}): SimResult {
  const wall0 = performance.now();
  // A ring runs as one rotary axis of an ordinary profile (shared/geometry/ring.ts).
  const ring = profile.kind === 'ring' ? (profile as RingProfile) : null;
  const machine = ring ? ringAxes(ring) : (profile as MachineProfile);
  const mcu = new VirtualMcu();
  if (opts.onEdge) mcu.addListener(opts.onEdge);
  const startMm = opts.startMm ?? (ring ? [RING_START_DEG, 0, 0] : null) ?? gantryStartMm(machine);
  const startSteps = [0, 1, 2].map((a) => mmToSteps(axisAt(machine, a), startMm[a]));
  // Physical positions: the plant moves them from pin edges, the verifier reads them.
  const pos = Float64Array.from(startSteps);
  const verifier = new Verifier(machine, pos, !ring);
  mcu.onProblem = (kind, message, timeUs) => verifier.violation(kind as ViolationKind, message, timeUs);
  // Every motion is judged against the acceleration limit from the first step, homing included
  // (device/stepper.ts ramps its seeks), as the simulated devices behind a link are; a target whose
  // board runs the seeks at constant speed is judged from the start of the job.
  const target = opts.target ?? nativeTarget;
  verifier.accelFromUs = target.homingAtSpeed ? Infinity : 0;
  // Charged to a chip, the clock runs on while the interpreter works, so an edge comes at a
  // fraction of a µs after the whole-µs clock reading that timed it, at both ends of an interval:
  // steps are good to 2 µs, not 1 (the firmware's timing on a real chip, too).
  let tracker: RingTracker | null = null;
  if (ring) {
    const rp = new RingPlant(mcu, ring, machine, pos, verifier);
    tracker = new RingTracker(ring, rp, verifier);
    rp.tracker = tracker;
    mcu.addListener(rp);
  } else mcu.addListener(new GantryPlant(mcu, machine, pos, verifier, opts.plantFaults));

  let cpu: ChipCpu | null = null;
  if (opts.chip) {
    const model = target.costModels?.[opts.chip.name];
    if (!model) throw new Error(`target ${target.name} has no cost model for chip ${opts.chip.name}`);
    cpu = new ChipCpu(mcu, opts.chip, model, { lateToleranceUs: opts.lateToleranceUs });
    mcu.cpu = cpu;
  }
  const faults: RuntimeFaults = { ...noFaults(), ...opts.faults };
  const device = target.create(mcu, opts.runtimeMachine ?? machine, ring, faults);
  // (Read after create(): a target may only know its board then. Nothing has moved yet.)
  const jitterUs = Math.max(target.stepJitterUs ?? 0, opts.chip ? CHIP_STEP_JITTER_US : 0);
  if (jitterUs) verifier.setStepJitter(jitterUs);
  if (target.homingOvertravelMs) {
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(machine, a);
      verifier.overtravel[a] = Math.ceil((target.homingOvertravelMs / 1000) * ax.homing.seekSpeedMmS * ax.stepsPerMm) + 1;
    }
  }
  const rt = device.runtime;
  rt.setMachineHash(opts.machineHash ?? machineHash(profile));
  rt.boot();
  rt.home();

  const expected = decodeExpected(stream);
  const threadChangeUs = (opts.threadChangeSeconds ?? 30) * 1e6;
  const limitUs = (opts.maxMachineSeconds ?? 7 * 24 * 3600) * 1e6;
  let fed = 0;
  let pauses = 0;
  let resumePending = false;
  const resume = () => {
    resumePending = false;
    rt.resume();
  };
  const n = stream.length;
  const onProgress = opts.onProgress;
  const hookTotal = Math.max(1, expected.hooks.length);
  let tick = 0;
  let jobStartUs = -1;
  for (;;) {
    if (onProgress && (++tick & 4095) === 0) onProgress(0.9 * Math.min(1, (tracker ? tracker.wraps : verifier.wraps).length / hookTotal));
    const s = rt.state;
    if (s === ST_RUNNING && verifier.accelFromUs === Infinity) verifier.accelFromUs = mcu.now;
    if (s === ST_RUNNING && jobStartUs < 0) jobStartUs = mcu.now;
    verifier.homing = s === ST_HOMING;
    if (s === ST_IDLE || s === ST_RUNNING || s === ST_PAUSED) {
      while (fed < n && rt.canAccept()) rt.feed(stream[fed++]);
      if (rt.state === ST_PAUSED && !resumePending) {
        resumePending = true;
        pauses++;
        mcu.setTimer(1, mcu.now + threadChangeUs, resume);
      }
    }
    if (!mcu.runNext()) break;
    if (cpu) {
      // The runtime's timer ran late (the CPU was busy): a violation with its time and stream line.
      const late = cpu.drainLate();
      for (let i = 0; i < late.length; i++) {
        const e = late[i];
        const kept = (verifier.counts['late-step'] ?? 0) < 10;
        const line = kept ? ` (line ${rt.status().line})` : '';
        verifier.violation('late-step', `${e.what} due at ${(e.dueUs / 1e6).toFixed(6)} s ran ${((e.atUs - e.dueUs) / 1000).toFixed(3)} ms late on ${opts.chip!.name}: the CPU was busy${line}`, e.atUs);
      }
    }
    if (mcu.now > limitUs) {
      verifier.violation('timeout', `still running after ${opts.maxMachineSeconds ?? 7 * 24 * 3600} s of machine time`, mcu.now);
      break;
    }
  }
  verifier.finish(mcu.now);
  if (tracker) tracker.close(mcu.now);
  const wraps = tracker ? tracker.wraps : verifier.wraps;

  const report = rt.status();
  let alarm: string | null = null;
  if (report.state === ST_ALARM) {
    alarm = `alarm ${report.error} ${report.errorName} (detail ${report.detail}): ${runtimeErrorText(report.error)}`;
    verifier.violation('runtime-alarm', alarm, mcu.now);
  } else if (report.state !== ST_DONE) {
    verifier.violation('incomplete', `runtime ended in state ${report.stateName} after ${fed} of ${n} stream bytes`, mcu.now);
  }
  const { hooks: planHooks, dirs: planDirs } = hooksAndDirections(machine, expected.hooks, expected.flanks);
  const mismatch = firstMismatch(planHooks, planDirs, wraps);
  const ok = mismatch === null && verifier.violations.length === 0;
  onProgress?.(0.9);
  const est = opts.skipEstimates ? null : estimateMotion(machine, expected.ops, false, ring ? new RingPath(ring) : undefined, planDirs);
  onProgress?.(0.95);
  const exact = opts.skipEstimates ? null : estimateMotion(machine, expected.ops, true, ring ? new RingPath(ring) : undefined, planDirs);
  return {
    ok,
    report,
    alarm,
    planHooks: planHooks,
    planDirs,
    planOps: expected.ops,
    colors: expected.colors,
    wrapped: wraps.map((w) => w.hook),
    wrappedDirs: wraps.map((w) => w.dir),
    wraps,
    firstMismatch: mismatch,
    violations: verifier.violations,
    violationCounts: verifier.counts,
    machineSeconds: mcu.now / 1e6,
    floorSeconds: ring ? ringFloorSeconds(ring, planHooks) : floorSeconds(machine, planHooks),
    exactStopSeconds: exact ? exact.seconds : -1,
    estimateSeconds: est ? est.seconds : -1,
    threadMeters: threadMm(machine, planHooks) / 1000,
    maxPileMm: tracker ? tracker.maxPileMm : verifier.maxPileMm,
    homedSeconds: verifier.homedUs < 0 ? -1 : verifier.homedUs / 1e6,
    jobStartSeconds: jobStartUs < 0 ? -1 : jobStartUs / 1e6,
    steps: { x: verifier.steps[0], y: verifier.steps[1], z: verifier.steps[2] },
    pauses,
    log: device.log,
    storedLine: device.storageRead('line'),
    flashWrites: device.storageWrites(),
    timerEvents: mcu.events,
    stepGenerator: mcu.stepGeneratorStats(),
    wallSeconds: (performance.now() - wall0) / 1000,
    chip: cpu ? cpu.report(mcu.now, verifier.firstStepUs) : null,
  };
}
