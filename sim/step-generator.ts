/**
 * A hardware-timed step generator on the virtual microcontroller: the simulator's implementation of
 * the HAL's StepOutput (device/hal.ts), a peripheral that runs beside the interpreter. Segments are
 * executed exactly as specified there: step k of a segment comes interval + k·add µs after the one
 * before, times are exact sums and each edge is rounded to the generator's tick (no drift). Edges
 * are emitted in time order, interleaved with the MCU's timers (VirtualMcu.runNext), so the plant
 * and the verifier see them when they happen, whatever the interpreter was doing.
 *
 * A segment pushed after its first step was due, or onto a full queue, is a fault of the firmware
 * feeding the generator, not of the motion: it is reported through VirtualMcu.problem (a
 * 'late-step' violation); the step is then made at once (a real generator would have stalled).
 */
import type { StepOutput } from '../device/hal';
import type { Peripheral, StepGeneratorStats, VirtualMcu } from './mcu';

/** How a target's generator behaves: queue length, resolution, and the lead the firmware keeps. */
export interface StepGeneratorSpec {
  /** Segments each axis' queue holds. */
  queueLength: number;
  tickUs: number;
  leadUs: number;
  refillUs: number;
  maxErrorUs: number;
  /** Whether it integrates constant acceleration itself (StepOutput.pushPhase), as the Espruino routine does. */
  phases?: boolean;
}

/** The simulator's default: a generator like a Klipper MCU's (µs ticks, deep queues). */
export const NATIVE_GENERATOR: StepGeneratorSpec = { queueLength: 64, tickUs: 1, leadUs: 40000, refillUs: 10000, maxErrorUs: 2 };

const AXES = 3;
const NONE = Infinity;
/** Numbers per queued segment. */
const SEG = 7;

export class SimStepOutput implements StepOutput, Peripheral {
  leadUs: number;
  refillUs: number;
  maxErrorUs: number;
  tickUs: number;
  phases: boolean;
  /** Segments pushed, and the most any axis' queue held. */
  segments = 0;
  peakQueued = 0;
  lateSegments = 0;
  steps = 0;

  private stepPin = [-1, -1, -1];
  private dirPin = [-1, -1, -1];
  private plusLevel = [1, 1, 1];
  private pulseUs = [2, 2, 2];
  private running = false;
  private startUs = 0;
  /**
   * Per axis: queued segments, flattened, with a read index: SEG numbers each, (0, dir, count,
   * interval, add, 0, 0) or (1, dir, count, startUs, p0, v0, a) for a phase.
   */
  private queue: number[][] = [[], [], []];
  private qHead = [0, 0, 0];
  /** The segment being executed: steps left, the next interval, its add, its direction. */
  private left = [0, 0, 0];
  private interval = [0, 0, 0];
  private add = [0, 0, 0];
  private dir = [0, 0, 0];
  /** The phase being executed (kind 1): its start (µs from start), p0, v0, a, and steps made. */
  private phase = [false, false, false];
  private phStart = [0, 0, 0];
  private phP0 = [0, 0, 0];
  private phV0 = [0, 0, 0];
  private phA = [0, 0, 0];
  private phK = [0, 0, 0];
  /** Exact time (µs from start) of the axis' last step, and of its next one (NONE when idle). */
  private last = [0, 0, 0];
  private next = [NONE, NONE, NONE];
  /** A falling STEP edge still to come (MCU time µs, NONE when none). */
  private fall = [NONE, NONE, NONE];
  private pos = [0, 0, 0];
  private dirLevel = [-1, -1, -1];
  /** A DIR change still to come at a phase's start (MCU time µs, NONE when none). */
  private dirAt = [NONE, NONE, NONE];

  constructor(private mcu: VirtualMcu, private spec: StepGeneratorSpec = NATIVE_GENERATOR) {
    this.leadUs = spec.leadUs;
    this.refillUs = spec.refillUs;
    this.maxErrorUs = spec.maxErrorUs;
    this.tickUs = spec.tickUs;
    this.phases = spec.phases === true;
    mcu.addPeripheral(this);
  }

  setup(axis: number, stepPin: number, dirPin: number, plusLevel: number, pulseUs: number): void {
    this.stepPin[axis] = stepPin;
    this.dirPin[axis] = dirPin;
    this.plusLevel[axis] = plusLevel;
    this.pulseUs[axis] = pulseUs;
  }

  free(axis: number): number {
    return this.spec.queueLength - this.queued(axis);
  }

  private queued(axis: number): number {
    return (this.queue[axis].length - this.qHead[axis]) / SEG + (this.left[axis] > 0 ? 1 : 0);
  }

  start(atUs: number): void {
    this.stop();
    this.running = true;
    this.startUs = atUs < this.mcu.now ? this.mcu.now : atUs;
    for (let a = 0; a < AXES; a++) {
      this.last[a] = 0;
      this.pos[a] = 0;
    }
  }

  push(axis: number, dir: number, interval: number, count: number, add: number): void {
    if (!this.running) throw new Error('step generator: push before start');
    if (!(count >= 1 && Math.floor(count) === count) || !(interval > 0) || !Number.isFinite(add)) {
      throw new Error(`step generator: bad segment on axis ${axis}: interval ${interval} count ${count} add ${add}`);
    }
    this.enqueue(axis, [0, dir, count, interval, add, 0, 0]);
  }

  pushPhase(axis: number, dir: number, count: number, startUs: number, p0: number, v0: number, a: number): void {
    if (!this.phases) throw new Error('step generator: pushPhase on a generator without phases');
    if (!this.running) throw new Error('step generator: push before start');
    if (!(count >= 1 && Math.floor(count) === count) || !(p0 >= 0 && p0 <= 1) || !(v0 >= 0) || !Number.isFinite(a) || !Number.isFinite(startUs)) {
      throw new Error(`step generator: bad phase on axis ${axis}: count ${count} start ${startUs} p0 ${p0} v0 ${v0} a ${a}`);
    }
    this.enqueue(axis, [1, dir, count, startUs, p0, v0, a]);
  }

  private enqueue(axis: number, seg: number[]): void {
    if (this.free(axis) <= 0) {
      this.lateSegments++;
      this.mcu.problem('late-step', `axis ${axis}: segment pushed onto a full queue (${this.spec.queueLength} segments)`);
    }
    this.segments++;
    for (const x of seg) this.queue[axis].push(x);
    const q = this.queued(axis);
    if (q > this.peakQueued) this.peakQueued = q;
    if (this.next[axis] === NONE && this.left[axis] === 0) this.take(axis);
  }

  position(axis: number): number {
    return this.pos[axis];
  }

  stats(): StepGeneratorStats {
    return { segments: this.segments, steps: this.steps, peakQueued: this.peakQueued, queueLength: this.spec.queueLength, lateSegments: this.lateSegments };
  }

  stop(): void {
    this.running = false;
    for (let a = 0; a < AXES; a++) {
      this.queue[a] = [];
      this.qHead[a] = 0;
      this.left[a] = 0;
      this.next[a] = NONE;
      if (this.fall[a] !== NONE) this.emitFall(a);
      if (this.dirAt[a] !== NONE) {
        // the phase never started: its DIR was never written
        this.dirAt[a] = NONE;
        this.dirLevel[a] = -1;
      }
    }
  }

  /** Take the axis' next queued segment (the previous one is finished). */
  private take(axis: number): void {
    const q = this.queue[axis];
    const h = this.qHead[axis];
    if (h >= q.length) {
      this.next[axis] = NONE;
      if (h > 0) {
        this.queue[axis] = [];
        this.qHead[axis] = 0;
      }
      return;
    }
    this.phase[axis] = q[h] === 1;
    this.dir[axis] = q[h + 1];
    this.left[axis] = q[h + 2];
    this.qHead[axis] = h + SEG;
    let due: number;
    if (this.phase[axis]) {
      this.phStart[axis] = q[h + 3];
      this.phP0[axis] = q[h + 4];
      this.phV0[axis] = q[h + 5];
      this.phA[axis] = q[h + 6];
      this.phK[axis] = 1;
      due = this.phaseStepTime(axis, 1);
    } else {
      this.interval[axis] = q[h + 3];
      this.add[axis] = q[h + 4];
      due = this.last[axis] + this.interval[axis];
    }
    const level = q[h + 1] > 0 ? this.plusLevel[axis] : 1 - this.plusLevel[axis];
    const nowRel = this.mcu.now - this.startUs;
    if (due < nowRel - this.tickUs) {
      this.lateSegments++;
      this.mcu.problem('late-step', `axis ${axis}: step segment queued ${((nowRel - due) / 1000).toFixed(2)} ms after its first step was due (the generator ran dry)`);
    }
    if (this.dirLevel[axis] !== level) {
      // A phase is taken at its start (as the Espruino routine does): DIR changes then, not before.
      const at = this.phase[axis] ? this.startUs + this.phStart[axis] : this.mcu.now;
      if (at > this.mcu.now) this.dirAt[axis] = at;
      else this.mcu.write(this.dirPin[axis], level);
      this.dirLevel[axis] = level;
    }
    this.next[axis] = due;
  }

  private stepTime(axis: number): number {
    const t = this.tickUs;
    return this.startUs + Math.round(this.next[axis] / t) * t;
  }

  nextEventUs(): number {
    let t = NONE;
    for (let a = 0; a < AXES; a++) {
      if (this.fall[a] < t) t = this.fall[a];
      if (this.dirAt[a] < t) t = this.dirAt[a];
      if (this.next[a] !== NONE) {
        const s = this.stepTime(a);
        if (s < t) t = s;
      }
    }
    return t;
  }

  /** Make the earliest pending edge (its time is nextEventUs(), which the MCU has reached). */
  runEvent(): void {
    let best = -1;
    let bt = NONE;
    let isFall = false;
    for (let a = 0; a < AXES; a++) {
      // (a DIR change first: at a tie it comes before the phase's first step)
      if (this.dirAt[a] <= this.mcu.now) {
        this.dirAt[a] = NONE;
        this.mcu.write(this.dirPin[a], this.dirLevel[a]);
        return;
      }
      if (this.fall[a] < bt) {
        bt = this.fall[a];
        best = a;
        isFall = true;
      }
      if (this.next[a] !== NONE) {
        const s = this.stepTime(a);
        if (s < bt) {
          bt = s;
          best = a;
          isFall = false;
        }
      }
    }
    if (best < 0) return;
    if (isFall) {
      this.emitFall(best);
      return;
    }
    const a = best;
    if (this.fall[a] !== NONE) this.emitFall(a);
    this.mcu.write(this.stepPin[a], 1);
    this.fall[a] = bt + this.pulseUs[a];
    this.pos[a] += this.dir[a] > 0 ? 1 : -1;
    this.steps++;
    this.last[a] = this.next[a];
    this.left[a]--;
    if (this.left[a] > 0) {
      if (this.phase[a]) {
        this.phK[a]++;
        this.next[a] = this.phaseStepTime(a, this.phK[a]);
      } else {
        this.interval[a] += this.add[a];
        this.next[a] = this.last[a] + this.interval[a];
      }
    } else this.take(a);
  }

  /** Exact time (µs from start) of step k of the axis' phase: when p0 + v0·t + a·t²/2 reaches k. */
  private phaseStepTime(axis: number, k: number): number {
    const dp = k - this.phP0[axis];
    const v0 = this.phV0[axis];
    const a = this.phA[axis];
    if (dp <= 0) return this.phStart[axis];
    const disc = v0 * v0 + 2 * a * dp;
    // (2·dp / (v0 + √disc): the root free of cancellation for either sign of a)
    if (disc < 0) throw new Error(`step generator: phase on axis ${axis} stops before its step ${k}`);
    return this.phStart[axis] + (2 * dp) / (v0 + Math.sqrt(disc));
  }

  private emitFall(axis: number): void {
    this.fall[axis] = NONE;
    this.mcu.write(this.stepPin[axis], 0);
  }
}
