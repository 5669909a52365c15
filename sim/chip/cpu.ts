/**
 * What the chip's CPU spends running the interpreter, on the virtual clock (issue #15, "a simulator
 * that charges the chip"). The simulator's clock otherwise stands still while the app's code runs,
 * as if the chip were infinitely fast; with a ChipCpu on the VirtualMcu (mcu.cpu) a target's runner
 * charges the interpreter's work as it happens:
 *
 *   cpu.charge(cycles)   the interpreter did this much work now: the clock moves on by cycles / MHz.
 *                        Peripheral (hardware-timed) edges due meanwhile still happen at their own
 *                        time (VirtualMcu.advanceTo runs them); timer callbacks and other entries
 *                        into the app due meanwhile wait (VirtualMcu.runNext runs them late): a CPU
 *                        runs one thing at a time.
 *   cpu.spin(us)         a busy-wait (NodeMCU's tmr.delay): the CPU is just as busy, the clock moves
 *                        on by us; counted apart from work in the load figures.
 *   cpu.busyUntil        the time the CPU is busy until: mcu.now while an entry runs.
 *   cpu.deadline(due, what)  the app's timer that was due at `due` runs now: later than the
 *                        tolerance is a late deadline (simulate() turns it into a 'late-step'
 *                        violation with its time and the stream line).
 *
 * A target with a cost model converts its interpreter's work into cycles and calls these; nothing
 * here knows an interpreter. NodeMCU: sim/targets/nodemcu.ts with sim/chip/lua-cost.ts (Lua VM
 * instructions counted with a hook). Espruino: SimTarget.costModels.pico, see docs/targets.md.
 * Load is recorded per window (100 ms): the fraction of the window the CPU did the app's work.
 */
import type { VirtualMcu } from '../mcu';
import type { ChipDef } from './chips';

/** Where a cost model's figures come from, for the report. */
export interface CostSource {
  /** One line: the published figures / measurements the cycles are derived from. */
  source: string;
  /** One line: how far off it may be. */
  uncertainty: string;
}

export interface LateDeadline {
  /** When the app's timer was due and when it ran (µs). */
  dueUs: number;
  atUs: number;
  what: string;
}

/** The chip figures in report.json (`chip`). */
export interface ChipReport {
  name: string;
  label: string;
  mhz: number;
  costSource: string;
  uncertainty: string;
  windowMs: number;
  /** Interpreter work as a fraction of the time: over the whole run, and the busiest window (the last window is as long as the run went on). */
  /**
   * peak: the fullest window of the run, the app's boot included; peakMoving and its time: the
   * fullest from the first motor step on (what the motion's timing depends on; -1 without steps).
   */
  load: { average: number; peak: number; peakAtSeconds: number; peakMoving: number; peakMovingAtSeconds: number };
  /** Busy-waits (tmr.delay): the CPU is held but does no work. */
  busyWait: { average: number; peak: number };
  /**
   * 1 − the peak load while the motors run (of the whole run when nothing moved): what the busiest
   * window left for anything else (Wi-Fi, the SDK, more axes).
   */
  headroom: number;
  /** Cycles charged, entries into the app, µs of work and of busy-waits (work µs = cycles / MHz). */
  cycles: number;
  entries: number;
  workSeconds: number;
  busyWaitSeconds: number;
  /** App timers that ran later than the tolerance after they were due. */
  late: { count: number; maxMs: number; toleranceUs: number };
  /** Where the cycles went, by the names the cost model charged them under, most first. */
  breakdown: { what: string; count: number; cycles: number }[];
}

/** Window of the load figures, µs. */
export const LOAD_WINDOW_US = 100_000;
/** An app timer that runs more than this after it was due is late (a step that much late is a visible velocity error). */
export const DEFAULT_LATE_TOLERANCE_US = 50;

export class ChipCpu {
  readonly windowUs: number;
  readonly lateToleranceUs: number;
  cycles = 0;
  entries = 0;
  lateCount = 0;
  maxLateUs = 0;
  private workUs = 0;
  private spinUs = 0;
  private work: number[] = [];
  private spins: number[] = [];
  private pendingLate: LateDeadline[] = [];
  private parts = new Map<string, { count: number; cycles: number }>();

  constructor(
    readonly mcu: VirtualMcu,
    readonly chip: ChipDef,
    readonly model: CostSource,
    opts: { windowUs?: number; lateToleranceUs?: number } = {},
  ) {
    this.windowUs = opts.windowUs ?? LOAD_WINDOW_US;
    this.lateToleranceUs = opts.lateToleranceUs ?? DEFAULT_LATE_TOLERANCE_US;
  }

  /** The CPU is busy until this time (the end of the work charged so far). */
  get busyUntil(): number {
    return this.mcu.now;
  }

  /**
   * The interpreter did `cycles` of work now: the clock moves on by cycles / MHz. `what` and
   * `count` name the work for the report's breakdown (e.g. 'Lua VM instructions', 1000).
   */
  charge(cycles: number, what = 'work', count = 1): void {
    if (!(cycles > 0)) return;
    this.cycles += cycles;
    let part = this.parts.get(what);
    if (!part) this.parts.set(what, (part = { count: 0, cycles: 0 }));
    part.count += count;
    part.cycles += cycles;
    const us = cycles / this.chip.mhz;
    const t0 = this.mcu.now;
    this.workUs += us;
    addSpan(this.work, this.windowUs, t0, t0 + us);
    this.mcu.advanceTo(t0 + us);
  }

  /** A busy-wait of `us`: the clock moves on, the CPU is held. */
  spin(us: number): void {
    if (!(us > 0)) return;
    const t0 = this.mcu.now;
    this.spinUs += us;
    addSpan(this.spins, this.windowUs, t0, t0 + us);
    this.mcu.advanceTo(t0 + us);
  }

  /** One entry into the app (a timer callback, serial bytes, a command); its dispatch cost is charged by the caller. */
  entry(): void {
    this.entries++;
  }

  /** The app's timer due at dueUs runs now; slackUs: how much later it may run without harm (the app says). */
  deadline(dueUs: number, what: string, slackUs = 0): void {
    const late = this.mcu.now - dueUs;
    if (late <= this.lateToleranceUs + slackUs) return;
    this.lateCount++;
    if (late > this.maxLateUs) this.maxLateUs = late;
    // For simulate() to report (with the stream line): it drains them after every event.
    this.pendingLate.push({ dueUs, atUs: this.mcu.now, what });
  }

  /** Late deadlines since the last call (simulate() drains them after every event). */
  drainLate(): LateDeadline[] {
    if (this.pendingLate.length === 0) return NONE;
    const out = this.pendingLate;
    this.pendingLate = [];
    return out;
  }

  /** Work per window, µs (index i covers [i·windowUs, (i+1)·windowUs)). */
  workWindows(): readonly number[] {
    return this.work;
  }

  report(endUs: number, firstStepUs = -1): ChipReport {
    const w = this.windowUs;
    const end = Math.max(endUs, 1e-9);
    // A window's load is its work over its length. The last one is cut by the run's end: it is taken
    // as the whole window that ends there, the previous window's work spread evenly over it (its last
    // 3 ms alone, taken over 3 ms, once read as an 88 % peak); a run shorter than a window is one.
    const load = (i: number, work: number[]): number => {
      const cut = end - i * w;
      if (i < work.length - 1 || cut >= w) return work[i] / w;
      if (i === 0) return work[0] / end;
      return (work[i] + work[i - 1] * (1 - cut / w)) / w;
    };
    let peak = 0;
    let peakAt = 0;
    let moving = firstStepUs < 0 ? -1 : 0;
    let movingAt = -1;
    const from = firstStepUs < 0 ? Infinity : Math.floor(firstStepUs / w);
    for (let i = 0; i < this.work.length; i++) {
      const v = Math.min(1, load(i, this.work));
      if (v > peak) {
        peak = v;
        peakAt = i;
      }
      if (i >= from && v > moving) {
        moving = v;
        movingAt = i;
      }
    }
    let spinPeak = 0;
    for (let i = 0; i < this.spins.length; i++) spinPeak = Math.max(spinPeak, Math.min(1, load(i, this.spins)));
    return {
      name: this.chip.name,
      label: this.chip.label,
      mhz: this.chip.mhz,
      costSource: this.model.source,
      uncertainty: this.model.uncertainty,
      windowMs: w / 1000,
      load: { average: this.workUs / end, peak, peakAtSeconds: (peakAt * w) / 1e6, peakMoving: moving, peakMovingAtSeconds: movingAt < 0 ? -1 : (movingAt * w) / 1e6 },
      busyWait: { average: this.spinUs / end, peak: spinPeak },
      headroom: 1 - (moving >= 0 ? moving : peak),
      cycles: this.cycles,
      entries: this.entries,
      workSeconds: this.workUs / 1e6,
      busyWaitSeconds: this.spinUs / 1e6,
      late: { count: this.lateCount, maxMs: this.maxLateUs / 1000, toleranceUs: this.lateToleranceUs },
      breakdown: [...this.parts].map(([what, p]) => ({ what, count: p.count, cycles: p.cycles })).sort((a, b) => b.cycles - a.cycles),
    };
  }
}

const NONE: LateDeadline[] = [];

/** Add the span [t0, t1) µs to per-window totals. */
function addSpan(windows: number[], w: number, t0: number, t1: number): void {
  let i = Math.floor(t0 / w);
  let t = t0;
  while (t < t1) {
    const end = Math.min(t1, (i + 1) * w);
    while (windows.length <= i) windows.push(0);
    windows[i] += end - t;
    t = end;
    i++;
  }
}
