/**
 * MotionSampler: an extra pin-edge listener (simulate's `onEdge`) that reconstructs the gantry's
 * position from step/dir/enable edges on its own — like the plant, never from the runtime's state —
 * and keeps, in bounded memory, what the report draws:
 * - the nozzle's XY path in board mm, a vertex at every reversal of x or y (at least `turnMm` from
 *   the last vertex), every `chordMm` of straight travel
 *   and every change between low (below the hook heads: winding) and high;
 * - per axis, over machine time, the highest speed and acceleration in each time bucket. Speed is
 *   the net step count over fixed WINDOW_US windows, acceleration the change between consecutive
 *   windows (window-averaged: quantisation ≤ 2 steps / window², the verifier judges the exact
 *   limits). Buckets double in width whenever MAX_BUCKETS would be exceeded.
 * Per step it costs a few arithmetic operations and no allocation.
 */
import { type MachineProfile, axisAt, mmToSteps } from '../../shared/machine';
import { type EdgeListener, MAX_PINS } from '../mcu';

export const WINDOW_US = 20_000;
export const MAX_BUCKETS = 1200;
/** Most vertices kept for motion.svg. */
export const MAX_PATH_POINTS = 40_000;

export { gantryStartMm } from '../plant'; // the simulator's power-on position, re-exported for the CLI

export interface MotionSamples {
  /** Path vertices, board mm, and 1 where the nozzle was low (below the hook heads) on the way to that vertex. */
  xs: Float32Array;
  ys: Float32Array;
  low: Uint8Array;
  /** Vertices recorded before decimation. */
  rawPoints: number;
  /** Bucket width, µs, and per axis (x, y, z) the highest |speed| (mm/s) and |acceleration| (mm/s²) per bucket. */
  bucketUs: number;
  buckets: number;
  speed: Float32Array[];
  accel: Float32Array[];
}

const ROLE_STEP = 1;
const ROLE_DIR = 2;
const ROLE_ENABLE = 3;

export class MotionSampler implements EdgeListener {
  private role = new Uint8Array(MAX_PINS);
  private roleAxis = new Int8Array(MAX_PINS);
  private dirPlusLevel = new Uint8Array(3);
  private dirSign = new Int8Array(3);
  private enableOnLevel: number;
  private enabled = false;
  private pos = new Float64Array(3);
  private spm = new Float64Array(3);
  private lowBelowSteps: number;
  private ox: number;
  private oy: number;
  private chordSteps: number;
  /** A reversal makes a vertex only this far (steps, on either axis) from the last one: tiny jitters do not. */
  private turnSteps: number;
  // path
  private px: number[] = [];
  private py: number[] = [];
  private pl: number[] = [];
  private lastX = 0;
  private lastY = 0;
  private lastStepDir = new Int8Array(3);
  private isLow = false;
  // speed / acceleration
  private win = new Float64Array(3).fill(-1);
  /** End of each axis' open window, µs (a step at or after it closes the window: no division per step). */
  private winEnd = new Float64Array(3).fill(-1);
  private net = new Float64Array(3);
  private vPrev = new Float64Array(3);
  private bucketUs = WINDOW_US;
  private speed: Float32Array[] = [0, 1, 2].map(() => new Float32Array(MAX_BUCKETS));
  private accel: Float32Array[] = [0, 1, 2].map(() => new Float32Array(MAX_BUCKETS));
  private used = 0;

  constructor(m: MachineProfile, startMm: readonly number[], chordMm = 25, turnMm = 0.5) {
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(m, a);
      this.role[ax.pins.step] = ROLE_STEP;
      this.roleAxis[ax.pins.step] = a;
      this.role[ax.pins.dir] = ROLE_DIR;
      this.roleAxis[ax.pins.dir] = a;
      this.dirPlusLevel[a] = ax.invertDir ? 0 : 1;
      this.dirSign[a] = ax.invertDir ? 1 : -1; // dir pins start low
      this.spm[a] = ax.stepsPerMm;
      this.pos[a] = mmToSteps(ax, startMm[a]);
    }
    this.role[m.motors.enablePin] = ROLE_ENABLE;
    this.enableOnLevel = m.motors.enableActiveLow ? 0 : 1;
    this.enabled = this.enableOnLevel === 0; // pins start low
    this.lowBelowSteps = m.hooks.headHeightMm * m.axes.z.stepsPerMm;
    this.ox = m.board.originMm[0];
    this.oy = m.board.originMm[1];
    this.chordSteps = chordMm * Math.min(m.axes.x.stepsPerMm, m.axes.y.stepsPerMm);
    this.turnSteps = Math.max(1, turnMm * Math.min(m.axes.x.stepsPerMm, m.axes.y.stepsPerMm));
    this.isLow = this.pos[2] < this.lowBelowSteps;
    this.lastX = this.pos[0];
    this.lastY = this.pos[1];
    this.point();
  }

  edge(pin: number, level: number, timeUs: number): void {
    const role = this.role[pin];
    if (role === ROLE_STEP) {
      if (level !== 1 || !this.enabled) return;
      const a = this.roleAxis[pin];
      const d = this.dirSign[a];
      this.pos[a] += d;
      if (timeUs >= this.winEnd[a]) this.closeWindows(a, Math.floor(timeUs / WINDOW_US));
      this.net[a] += d;
      if (a === 2) {
        const lowNow = this.pos[2] < this.lowBelowSteps;
        if (lowNow !== this.isLow) {
          this.point();
          this.isLow = lowNow;
        }
      } else {
        const turned = d !== this.lastStepDir[a];
        this.lastStepDir[a] = d;
        // Only the axis that stepped can have crossed the chord (the other is checked when it steps).
        const dv = a === 0 ? this.pos[0] - this.lastX : this.pos[1] - this.lastY;
        const av = dv < 0 ? -dv : dv;
        if (av >= this.chordSteps || (turned && (av >= this.turnSteps || Math.abs(this.pos[1 - a] - (a === 0 ? this.lastY : this.lastX)) >= this.turnSteps))) this.point();
      }
    } else if (role === ROLE_DIR) {
      const a = this.roleAxis[pin];
      this.dirSign[a] = level === this.dirPlusLevel[a] ? 1 : -1;
    } else if (role === ROLE_ENABLE) {
      this.enabled = level === this.enableOnLevel;
    }
  }

  private point(): void {
    this.lastX = this.pos[0];
    this.lastY = this.pos[1];
    this.px.push(this.pos[0] / this.spm[0] - this.ox);
    this.py.push(this.pos[1] / this.spm[1] - this.oy);
    this.pl.push(this.isLow ? 1 : 0);
  }

  /** Close axis a's window (and one empty window after it when there is a gap) before window w starts. */
  private closeWindows(a: number, w: number): void {
    const cur = this.win[a];
    if (cur >= 0) {
      const v = this.net[a] / (WINDOW_US * 1e-6) / this.spm[a];
      this.record(a, cur, v, (v - this.vPrev[a]) / (WINDOW_US * 1e-6));
      this.vPrev[a] = v;
      if (w > cur + 1 && v !== 0) {
        this.record(a, cur + 1, 0, -v / (WINDOW_US * 1e-6));
        this.vPrev[a] = 0;
      }
    }
    if (w > cur + 1) this.vPrev[a] = 0;
    this.net[a] = 0;
    this.win[a] = w;
    this.winEnd[a] = (w + 1) * WINDOW_US;
  }

  private record(a: number, window: number, v: number, acc: number): void {
    let b = Math.floor((window * WINDOW_US) / this.bucketUs);
    while (b >= MAX_BUCKETS) {
      this.halve();
      b = Math.floor((window * WINDOW_US) / this.bucketUs);
    }
    if (b + 1 > this.used) this.used = b + 1;
    const av = v < 0 ? -v : v;
    const aa = acc < 0 ? -acc : acc;
    if (av > this.speed[a][b]) this.speed[a][b] = av;
    if (aa > this.accel[a][b]) this.accel[a][b] = aa;
  }

  private halve(): void {
    for (const arr of [...this.speed, ...this.accel]) {
      for (let i = 0; i < MAX_BUCKETS / 2; i++) arr[i] = Math.max(arr[2 * i], arr[2 * i + 1]);
      arr.fill(0, MAX_BUCKETS / 2);
    }
    this.used = Math.ceil(this.used / 2);
    this.bucketUs *= 2;
  }

  /** Close the open windows and hand back the samples, the path decimated to ≤ maxPoints vertices (changes of low/high kept). */
  finish(timeUs: number, maxPoints = MAX_PATH_POINTS): MotionSamples {
    const endW = Math.floor(timeUs / WINDOW_US) + 2;
    for (let a = 0; a < 3; a++) if (this.win[a] >= 0) this.closeWindows(a, endW);
    this.point();
    return {
      ...decimatePath(this.px, this.py, this.pl, maxPoints),
      bucketUs: this.bucketUs,
      buckets: this.used,
      speed: this.speed.map((s) => s.slice(0, this.used)),
      accel: this.accel.map((s) => s.slice(0, this.used)),
    };
  }
}

/**
 * A recorded path thinned to about maxPoints vertices for drawing: every k-th vertex, the last,
 * and both ends of every change of `low` (so the low/high colouring stays exact); if that is still
 * too many, every k-th of those.
 */
export function decimatePath(px: number[], py: number[], pl: number[], maxPoints: number): Pick<MotionSamples, 'xs' | 'ys' | 'low' | 'rawPoints'> {
  const n = px.length;
  const stride = Math.max(1, Math.ceil(n / maxPoints));
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i % stride === 0 || i === n - 1 || (i > 0 && pl[i] !== pl[i - 1]) || (i + 1 < n && pl[i + 1] !== pl[i])) keep.push(i);
  }
  const take = stride > 1 && keep.length > maxPoints ? keep.filter((_, j) => j % Math.ceil(keep.length / maxPoints) === 0) : keep;
  return {
    xs: Float32Array.from(take, (i) => px[i]),
    ys: Float32Array.from(take, (i) => py[i]),
    low: Uint8Array.from(take, (i) => pl[i]),
    rawPoints: n,
  };
}
