/**
 * The verifier: judges what the machine physically did, from the plant's positions (which are
 * reconstructed from step/dir pin edges) — never from the firmware's state.
 *
 * Checks, on every step:
 * - travel: each axis stays within [travelMinMm, travelMaxMm] (in steps; 0 is the endstop point);
 * - homing: an axis may not step away from its endstop before the endstop has been seen pressed (so nothing
 *   moves to a target before it is homed; the seek towards the switch is the only motion allowed);
 * - speed: no two steps of an axis closer than 1 / (maxSpeedMmS · stepsPerMm) (1 µs rounding and
 *   2 % slack);
 * - motors: no step pulses while the drivers are disabled;
 * - hooks: while the nozzle is low (z below hooks.headHeightMm) it must not come within
 *   (hookDiameterMm + nozzleDiameterMm) / 2 of a hook centre (collision).
 *
 * Wrapped hooks: while low, the nozzle's angle around the nearest hook centre is accumulated step by
 * step; when it rises again (or another hook becomes the nearest) a winding of at least one full
 * turn counts as one wrap of that hook, with direction sign(angle) (+1 = increasing angle in board
 * coordinates, y down). The wrapped sequence must equal the stream's hook sequence, hook for hook
 * and direction for direction (expectedDirections: the thread wraps the way it turns).
 */
import { AXIS_NAMES, type MachineProfile, axisAt, homeSign, hookXMm, hookYMm, maxSteps, minSteps } from '../shared/machine';
import type { PlantObserver } from './plant';


/** The signed turn from angle `from` to angle `to` (radians), taking the short way round: winding
 * around a hook is the sum of these steps. */
export function angleStep(from: number, to: number): number {
  let d = to - from;
  if (d > Math.PI) d -= 2 * Math.PI;
  else if (d <= -Math.PI) d += 2 * Math.PI;
  return d;
}
export type ViolationKind =
  | 'travel'
  | 'step-before-homing'
  | 'overspeed'
  | 'overaccel'
  | 'pile'
  | 'collision'
  | 'disabled-step'
  | 'runtime-alarm'
  | 'incomplete'
  | 'timeout'
  | 'swing'
  /** A step segment reached the step generator after its first step was due (sim/step-generator.ts). */
  | 'late-step';

export interface Violation {
  kind: ViolationKind;
  message: string;
  timeUs: number;
  axis?: string;
  hook?: number;
}

export interface WrapEvent {
  hook: number;
  /** +1 / −1, see wrapDirection in shared/geometry/wrap.ts. */
  dir: number;
  /** Full turns (≥ 1). */
  turns: number;
  timeUs: number;
}

export interface Mismatch {
  index: number;
  expectedHook: number | null;
  expectedDir: number | null;
  wrappedHook: number | null;
  wrappedDir: number | null;
}

/** Most violations kept per kind (all are counted). */
const KEEP_PER_KIND = 10;
/** Velocity samples kept per axis for the acceleration check (lags 1 and ACC_LAG). */
const ACC_BUF = 16;
const ACC_LAG = 12;
const TWO_PI = 2 * Math.PI;
/** With coarse step timing (setStepJitter), speed is also judged over this many steps. */
const OVERSPEED_SPAN = 16;

export class Verifier implements PlantObserver {
  readonly wraps: WrapEvent[] = [];
  readonly violations: Violation[] = [];
  readonly counts: Partial<Record<ViolationKind, number>> = {};
  /** Time of the first step of any axis and of the moment all three endstops had been seen. */
  firstStepUs = -1;
  homedUs = -1;
  readonly steps = new Float64Array(3);

  /** Thread pile the verifier models from the wraps it saw (wraps per hook, highest pile). */
  readonly pileWraps: Int32Array;
  maxPileMm = 0;
  /** Acceleration is checked from this time on (simulate sets it when the job starts: homing seeks start at speed by design). */
  accelFromUs = Infinity;
  /**
   * Steps an axis may run past its own switch while the runtime homes (simulate sets both): a target
   * whose seek is stopped by the host on the switch's report runs on for that round trip
   * (SimTarget.homingOvertravelMs). 0 for the others: their seeks stop at the closing step.
   */
  overtravel = new Float64Array(3);
  homing = false;
  private vmax = new Float64Array(3);

  /**
   * Step times on the target are only good to `us` (Johnny-Five: a step waits for another axis'
   * ~252 µs AccelStepper pass on the Uno; SimTarget.stepJitterUs): the timing error allowed in a
   * velocity sample is that, not 1 µs.
   */
  setStepJitter(us: number): void {
    for (let a = 0; a < 3; a++) {
      this.qf[a] = (us * 1e-6) / Math.max(0.01, 1 - this.vmax[a] * us * 1e-6);
      // One interval may come out short by both ends' error; the speed over OVERSPEED_SPAN steps may not.
      this.minIntervalUs[a] = this.fullIntervalUs[a] - 2 * us;
    }
    this.jitterUs = us;
  }
  /** Shortest interval at maxSpeedMmS (µs), the step-time error allowed, and each axis' last OVERSPEED_SPAN step times. */
  private fullIntervalUs = new Float64Array(3);
  private jitterUs = 1;
  private spanBuf = new Float64Array(3 * OVERSPEED_SPAN);
  private spanN = new Int32Array(3);
  private pos: Float64Array;
  private lo = new Float64Array(3);
  private amax = new Float64Array(3);
  private jump = new Float64Array(3);
  /** Timing error of a velocity sample v (steps/s) is ≤ v²·qf: 1 µs/(1 − vmax·1 µs). */
  private qf = new Float64Array(3);
  private lastDir = new Int8Array(3);
  /** Last ACC_LAGS velocity samples per axis (steps/s) and their mid times (µs), ring buffers. */
  private vBuf = new Float64Array(3 * ACC_BUF);
  private mBuf = new Float64Array(3 * ACC_BUF);
  private nBuf = new Int32Array(3);
  private layerMm: number;
  private pileSteps = 0;
  private zoneMm: number;
  private inner2: number;
  private outer2: number;
  private hi = new Float64Array(3);
  private spm = new Float64Array(3);
  private minIntervalUs = new Float64Array(3);
  private lastStepUs = new Float64Array(3).fill(-1e18);
  private homedAxis = [false, false, false];
  /** The direction each axis seeks its endstop: the only way it may move before it is homed. */
  private homeDir = [-1, -1, -1];
  /** Axes the profile homes (all three on a gantry; a ring homes x only). */
  private homes = [true, true, true];
  private hookX: Float64Array;
  private hookY: Float64Array;
  private cx: number;
  private cy: number;
  private ox: number;
  private oy: number;
  private start: number;
  private pitch: number;
  private count: number;
  private lowBelowSteps: number;
  private collideMm: number;
  private low = false;
  private tracked = -1;
  private accum = 0;
  private prevAngle = 0;
  private collided = -1;

  /**
   * geometry false: only the per-axis checks (travel, homing, speed, acceleration, disabled steps);
   * winding, collisions and pile are judged elsewhere (the ring: sim/ring.ts).
   */
  constructor(m: MachineProfile, plantPos: Float64Array, geometry = true) {
    this.pos = plantPos;
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(m, a);
      this.lo[a] = minSteps(ax);
      this.hi[a] = maxSteps(ax);
      this.spm[a] = ax.stepsPerMm;
      // Steps are timed to the µs (rounded): an interval may come out up to 1 µs short.
      this.fullIntervalUs[a] = (1e6 / (ax.maxSpeedMmS * ax.stepsPerMm)) * (1 - 1e-9);
      this.minIntervalUs[a] = this.fullIntervalUs[a] - 1;
      this.amax[a] = ax.accelMmS2 * ax.stepsPerMm;
      this.jump[a] = ax.jerkMmS * ax.stepsPerMm;
      this.qf[a] = 1e-6 / Math.max(0.01, 1 - ax.maxSpeedMmS * ax.stepsPerMm * 1e-6);
      this.vmax[a] = ax.maxSpeedMmS * ax.stepsPerMm;
    }
    this.pileWraps = new Int32Array(m.hooks.count);
    for (let a = 0; a < 3; a++) this.homes[a] = m.homingOrder.includes(AXIS_NAMES[a]);
    for (let a = 0; a < 3; a++) this.homeDir[a] = homeSign(axisAt(m, a));
    this.layerMm = m.thread.widthMm * m.pile.packing;
    const n = m.hooks.count;
    this.count = n;
    this.hookX = new Float64Array(n);
    this.hookY = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.hookX[i] = hookXMm(m, i);
      this.hookY[i] = hookYMm(m, i);
    }
    this.cx = m.hooks.centerMm[0];
    this.cy = m.hooks.centerMm[1];
    this.ox = m.board.originMm[0];
    this.oy = m.board.originMm[1];
    this.start = (m.hooks.startAngleDeg * Math.PI) / 180;
    this.pitch = TWO_PI / n;
    this.lowBelowSteps = m.hooks.headHeightMm * m.axes.z.stepsPerMm;
    this.collideMm = (m.hooks.hookDiameterMm + m.wrap.nozzleDiameterMm) / 2;
    // A hook's zone: the disc of half the hook spacing around it (zones never overlap).
    const ringR = m.hooks.diameterMm / 2;
    this.zoneMm = (m.hooks.diameterMm * Math.sin(Math.PI / n)) / 2;
    this.inner2 = Math.max(0, ringR - this.zoneMm) ** 2;
    this.outer2 = (ringR + this.zoneMm) ** 2;
    if (!geometry) this.lowBelowSteps = -Infinity;
    if (this.pos[2] < this.lowBelowSteps) this.enterLow();
  }

  violation(kind: ViolationKind, message: string, timeUs: number, extra: { axis?: string; hook?: number } = {}): void {
    const c = (this.counts[kind] ?? 0) + 1;
    this.counts[kind] = c;
    if (c <= KEEP_PER_KIND) this.violations.push({ kind, message, timeUs, ...extra });
  }

  endstop(axis: number, pressed: boolean, timeUs: number): void {
    if (!pressed || this.homedAxis[axis]) return;
    this.homedAxis[axis] = true;
    let all = true;
    for (let a = 0; a < 3; a++) if (this.homes[a] && !this.homedAxis[a]) all = false;
    if (all && this.homedUs < 0) this.homedUs = timeUs;
  }

  private overtravelling(axis: number, p: number): boolean {
    if (!this.homing) return false;
    return this.homeDir[axis] < 0 ? p < this.lo[axis] && p >= this.lo[axis] - this.overtravel[axis] : p > this.hi[axis] && p <= this.hi[axis] + this.overtravel[axis];
  }

  disabledPulse(axis: number, timeUs: number): void {
    this.violation('disabled-step', `${AXIS_NAMES[axis]} step pulse while the motors were disabled`, timeUs, { axis: AXIS_NAMES[axis] });
  }

  step(axis: number, dir: number, timeUs: number): void {
    if (this.firstStepUs < 0) this.firstStepUs = timeUs;
    this.steps[axis]++;
    const p = this.pos[axis];
    if ((p < this.lo[axis] || p > this.hi[axis]) && !this.overtravelling(axis, p)) {
      this.violation('travel', `${AXIS_NAMES[axis]} at ${(p / this.spm[axis]).toFixed(2)} mm, outside its travel`, timeUs, { axis: AXIS_NAMES[axis] });
    }
    if (dir !== this.homeDir[axis] && !this.homedAxis[axis]) {
      this.violation('step-before-homing', `${AXIS_NAMES[axis]} moved away from its endstop before the endstop was ever reached`, timeUs, { axis: AXIS_NAMES[axis] });
    }
    if (timeUs - this.lastStepUs[axis] < this.minIntervalUs[axis]) {
      this.violation('overspeed', `${AXIS_NAMES[axis]} stepped ${(timeUs - this.lastStepUs[axis]).toFixed(0)} µs after its previous step, faster than maxSpeedMmS`, timeUs, { axis: AXIS_NAMES[axis] });
    }
    if (this.jitterUs > 1) {
      const n = this.spanN[axis];
      const k = axis * OVERSPEED_SPAN + (n % OVERSPEED_SPAN);
      if (n >= OVERSPEED_SPAN && timeUs - this.spanBuf[k] < OVERSPEED_SPAN * this.fullIntervalUs[axis] - 2 * this.jitterUs) {
        this.violation('overspeed', `${AXIS_NAMES[axis]} made ${OVERSPEED_SPAN} steps in ${(timeUs - this.spanBuf[k]).toFixed(0)} µs, faster than maxSpeedMmS`, timeUs, { axis: AXIS_NAMES[axis] });
      }
      this.spanBuf[k] = timeUs;
      this.spanN[axis] = n + 1;
    }
    if (timeUs >= this.accelFromUs) this.checkAccel(axis, dir, timeUs);
    else this.lastDir[axis] = dir;
    this.lastStepUs[axis] = timeUs;
    if (axis === 2) {
      if (this.low && dir < 0 && p < this.pileSteps) this.pileViolation(timeUs);
      const lowNow = p < this.lowBelowSteps;
      if (lowNow !== this.low) {
        if (lowNow) this.enterLow();
        else this.exitLow(timeUs);
      }
    } else if (this.low) {
      this.track(timeUs);
    }
  }

  /**
   * Acceleration from step intervals. Between two steps of the same direction the axis' continuous
   * position moved exactly one step (steps are due where it crosses j − ½), so 1/interval is its
   * exact mean velocity over the interval, and 0 across a reversal. Two mean velocities whose
   * intervals' midpoints are Δt apart differ by at most a·Δt, plus one instantaneous change of at
   * most jerkMmS (the planner allows one per junction), plus the timing error: each step time is
   * rounded to 1 µs, so an interval is off by ≤ 1 µs and a velocity v by ≤ v²·1 µs/(1 − v·1 µs).
   * Checked against the previous sample and the one ACC_LAG samples back (several junctions: their
   * velocity changes must add up to no more than a·Δt, apart from the one jump).
   */
  private checkAccel(axis: number, dir: number, timeUs: number): void {
    const last = this.lastStepUs[axis];
    const prevDir = this.lastDir[axis];
    this.lastDir[axis] = dir;
    if (last < 0) return;
    const dt = timeUs - last;
    if (dt <= 0) return;
    const v = dir === prevDir ? (dir * 1e6) / dt : 0;
    const mid = (timeUs + last) / 2;
    const base = axis * ACC_BUF;
    const n = this.nBuf[axis];
    const q = this.qf[axis];
    const qv = v * v * q;
    const slack = this.jump[axis] + qv;
    const a = this.amax[axis] * 1.001e-6;
    if (n >= 1) {
      const j = base + ((n - 1) & (ACC_BUF - 1));
      const v0 = this.vBuf[j];
      const dv = v > v0 ? v - v0 : v0 - v;
      if (dv > a * (mid - this.mBuf[j]) + slack + v0 * v0 * q) this.accelViolation(axis, dv, mid - this.mBuf[j], a * (mid - this.mBuf[j]) + slack + v0 * v0 * q, timeUs);
      else if (n >= ACC_LAG) {
        const k = base + ((n - ACC_LAG) & (ACC_BUF - 1));
        const w0 = this.vBuf[k];
        const dw = v > w0 ? v - w0 : w0 - v;
        const allowed = a * (mid - this.mBuf[k]) + slack + w0 * w0 * q;
        if (dw > allowed) this.accelViolation(axis, dw, mid - this.mBuf[k], allowed, timeUs);
      }
    }
    const k = base + (n & (ACC_BUF - 1));
    this.vBuf[k] = v;
    this.mBuf[k] = mid;
    this.nBuf[axis] = n + 1;
  }

  private accelViolation(axis: number, dv: number, dtUs: number, allowed: number, timeUs: number): void {
    const spm = this.spm[axis];
    this.violation('overaccel', `${AXIS_NAMES[axis]} changed speed by ${(dv / spm).toFixed(1)} mm/s in ${(dtUs / 1000).toFixed(2)} ms (allowed ${(allowed / spm).toFixed(1)}: accelMmS2 plus one jerkMmS step)`, timeUs, { axis: AXIS_NAMES[axis] });
  }

  private pileViolation(timeUs: number): void {
    this.violation('pile', `nozzle at ${(this.pos[2] / this.spm[2]).toFixed(2)} mm, below the top of the thread pile (${this.maxPileMm.toFixed(2)} mm)`, timeUs);
  }

  /** The hook whose winding is being followed now (−1 none): a power cut asks whether it completed. */
  get windingHook(): number {
    return this.tracked;
  }

  /** A power cut interrupted a wrap that the machine will redo after resuming: forget the partial winding. */
  abandonWinding(): void {
    this.tracked = -1;
    this.accum = 0;
  }

  /** Close the books at the end of a run (a nozzle left low still counts its winding). */
  finish(timeUs: number): void {
    if (this.low) this.exitLow(timeUs);
  }

  private enterLow(): void {
    this.low = true;
    this.tracked = -1;
    this.collided = -1;
    this.track(-1);
  }

  private exitLow(timeUs: number): void {
    this.low = false;
    this.closeTrack(timeUs);
  }

  /** Follow the nozzle around the nearest hook while low. */
  private track(timeUs: number): void {
    const x = this.pos[0] / this.spm[0] - this.ox;
    const y = this.pos[1] / this.spm[1] - this.oy;
    const rx = x - this.cx;
    const ry = y - this.cy;
    const r2 = rx * rx + ry * ry;
    if (r2 < this.inner2 || r2 > this.outer2) {
      // In no hook's zone.
      if (this.tracked >= 0) this.closeTrack(timeUs);
      return;
    }
    // On a circle of hooks the nearest hook to a point is the one nearest in angle.
    let k = Math.round((Math.atan2(ry, rx) - this.start) / this.pitch) % this.count;
    k = (k + this.count) % this.count; // also turns −0 into 0
    const dx = x - this.hookX[k];
    const dy = y - this.hookY[k];
    if (dx * dx + dy * dy > this.zoneMm * this.zoneMm) {
      if (this.tracked >= 0) this.closeTrack(timeUs);
      return;
    }
    if (dx * dx + dy * dy < this.collideMm * this.collideMm && this.collided !== k) {
      this.collided = k;
      this.violation('collision', `nozzle within ${this.collideMm} mm of hook ${k} while below the hook heads`, timeUs, { hook: k });
    }
    const ang = Math.atan2(dy, dx);
    if (k !== this.tracked) {
      this.closeTrack(timeUs);
      this.tracked = k;
      this.accum = 0;
      this.prevAngle = ang;
      return;
    }
    this.accum += angleStep(this.prevAngle, ang);
    this.prevAngle = ang;
  }

  private closeTrack(timeUs: number): void {
    if (this.tracked < 0) return;
    const turns = Math.abs(this.accum) / TWO_PI;
    if (turns >= 1 - 1e-6) {
      this.wraps.push({ hook: this.tracked, dir: this.accum > 0 ? 1 : -1, turns: Math.floor(turns + 1e-6), timeUs });
      const w = ++this.pileWraps[this.tracked];
      const h = w * this.layerMm;
      if (h > this.maxPileMm) {
        this.maxPileMm = h;
        this.pileSteps = h * this.spm[2];
        if (this.low && this.pos[2] < this.pileSteps) this.pileViolation(timeUs);
      }
    }
    this.tracked = -1;
    this.accum = 0;
  }
}

/**
 * The winding direction the machine owes each hook of a path: the thread wraps the way it turns
 * (sign of d_in × d_out in board coordinates; start hook: d_in from the circle centre; last hook:
 * d_out towards the centre; no turn → +1). Written independently of shared/geometry/wrap.ts so the
 * two can check each other.
 */
export function expectedDirections(m: MachineProfile, path: readonly number[]): number[] {
  const cx = m.hooks.centerMm[0];
  const cy = m.hooks.centerMm[1];
  return path.map((h, i) => {
    const px = hookXMm(m, h);
    const py = hookYMm(m, h);
    const inX = i > 0 ? px - hookXMm(m, path[i - 1]) : px - cx;
    const inY = i > 0 ? py - hookYMm(m, path[i - 1]) : py - cy;
    const outX = i < path.length - 1 ? hookXMm(m, path[i + 1]) - px : cx - px;
    const outY = i < path.length - 1 ? hookYMm(m, path[i + 1]) - py : cy - py;
    const li = Math.hypot(inX, inY);
    const lo = Math.hypot(outX, outY);
    if (li === 0 || lo === 0) return 1;
    return (inX * outY - inY * outX) / (li * lo) < -1e-9 ? -1 : 1;
  });
}

/**
 * A path of stream indices as hooks and the winding directions the machine owes them: with
 * flanks = 2 (format 5, flanked plans) index v is hook v >> 1 and flank v & 1 fixes the direction
 * (0: +1, 1: −1, see shared/geometry/wrap.ts); with flanks = 1 the direction is the way the
 * thread turns (expectedDirections).
 */
export function hooksAndDirections(m: MachineProfile, indices: readonly number[], flanks: number): { hooks: number[]; dirs: number[] } {
  if (flanks !== 2) return { hooks: indices.slice(), dirs: expectedDirections(m, indices) };
  // Deliberately not flankDirection() from shared/geometry/wrap.ts: the verifier judges the runtime
  // with its own reading of the rule, as expectedDirections does.
  return { hooks: indices.map((v) => v >> 1), dirs: indices.map((v) => (v % 2 === 0 ? 1 : -1)) };
}

/** First index where the wrapped sequence differs from the expected one (hook or direction), or null. */
export function firstMismatch(
  expected: readonly number[], expectedDirs: readonly number[], wraps: readonly WrapEvent[],
): Mismatch | null {
  const n = Math.max(expected.length, wraps.length);
  for (let i = 0; i < n; i++) {
    const e = i < expected.length ? expected[i] : null;
    const w = i < wraps.length ? wraps[i] : null;
    if (e === null || w === null || e !== w.hook || expectedDirs[i] !== w.dir) {
      return {
        index: i,
        expectedHook: e,
        expectedDir: e === null ? null : expectedDirs[i],
        wrappedHook: w ? w.hook : null,
        wrappedDir: w ? w.dir : null,
      };
    }
  }
  return null;
}
