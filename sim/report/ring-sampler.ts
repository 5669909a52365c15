/**
 * RingMotionSampler: the ring machine's counterpart of MotionSampler (an extra `onEdge` listener of
 * simulate). From the pin edges alone — ring step/dir/enable and the arm's servo pin, never the
 * runtime's state — it reconstructs the ring angle and the arm (in/out, the tip moving linearly
 * between the two radii over swingMs as in sim/ring.ts) and keeps what the report draws:
 * - the arm tip's path in the ring's frame, board mm (tip angle φ = arm.angleDeg − ring angle around
 *   the hook centre, so the drawing is the thread path around the hooks as strung): a vertex at every
 *   reversal of the ring (≥ turnMm along the arc from the last vertex), every chordDeg of turning and
 *   at the start and end of every swing. `low` is 1 while the arm is in (tip inside the hook circle,
 *   the servo pin low), 0 while it is out; on a ring both sides wind (inside and outside passes), so
 *   this is the side of the hooks the tip is on, not "winding or not";
 * - the ring's highest speed (deg/s) and acceleration (deg/s²) per time bucket, measured exactly like
 *   MotionSampler's axes: net steps over WINDOW_US windows, acceleration the change between windows.
 */
import { type RingProfile, ringAxes, ringStepsPerRev } from '../../shared/geometry/ring';
import { mmToSteps } from '../../shared/machine';
import type { EdgeListener } from '../mcu';
import type { MotionLabels } from './render';
import { MAX_BUCKETS, MAX_PATH_POINTS, type MotionSamples, WINDOW_US, decimatePath } from './sampler';

import { RING_START_DEG } from '../ring';

/** The power-on angle, for the CLI to hand over as startMm[0]. */
export { RING_START_DEG };

const D2R = Math.PI / 180;

export class RingMotionSampler implements EdgeListener {
  private stepPin: number;
  private dirPin: number;
  private enablePin: number;
  private armPin: number;
  private dirPlusLevel: number;
  private dirSign: number;
  private enableOnLevel: number;
  private enabled: boolean;
  private spd: number;
  /** Ring position, steps. */
  private pos: number;
  private cx: number;
  private cy: number;
  private R: number;
  private inMm: number;
  private outMm: number;
  private armDeg: number;
  private swingUs: number;
  // arm, as sim/ring.ts RingPlant models it
  private armLevel = 0;
  private armEdgeUs = -1e18;
  private armFrom = 0;
  /** A swing whose end vertex is still to be recorded (at the next ring step or at finish). */
  private swingPending = false;
  // path
  private chordSteps: number;
  private turnSteps: number;
  private lastPos: number;
  private lastStepDir = 0;
  private px: number[] = [];
  private py: number[] = [];
  private pl: number[] = [];
  // speed / acceleration of the one axis
  private win = -1;
  private winEnd = -1;
  private net = 0;
  private vPrev = 0;
  private bucketUs = WINDOW_US;
  private speed = new Float32Array(MAX_BUCKETS);
  private accel = new Float32Array(MAX_BUCKETS);
  private used = 0;

  constructor(r: RingProfile, startDeg = RING_START_DEG, chordDeg = 4, turnMm = 0.5) {
    const g = r.ring;
    this.stepPin = g.pins.step;
    this.dirPin = g.pins.dir;
    this.enablePin = r.motors.enablePin;
    this.armPin = r.arm.pin;
    this.dirPlusLevel = g.invertDir ? 0 : 1;
    this.dirSign = g.invertDir ? 1 : -1; // dir pins start low
    this.enableOnLevel = r.motors.enableActiveLow ? 0 : 1;
    this.enabled = this.enableOnLevel === 0; // pins start low
    this.spd = ringStepsPerRev(r) / 360;
    this.pos = mmToSteps(ringAxes(r).axes.x, startDeg);
    this.cx = r.hooks.centerMm[0];
    this.cy = r.hooks.centerMm[1];
    this.R = r.hooks.diameterMm / 2;
    this.inMm = r.arm.inOffsetMm;
    this.outMm = r.arm.outOffsetMm;
    this.armDeg = r.arm.angleDeg;
    this.swingUs = r.arm.swingMs * 1000;
    this.chordSteps = Math.max(1, chordDeg * this.spd);
    this.turnSteps = Math.max(1, (turnMm / this.R / D2R) * this.spd);
    this.lastPos = this.pos;
    this.point(0);
  }

  edge(pin: number, level: number, timeUs: number): void {
    if (pin === this.stepPin) {
      if (level !== 1 || !this.enabled) return;
      if (this.swingPending && timeUs - this.armEdgeUs >= this.swingUs) this.endSwing();
      const d = this.dirSign;
      this.pos += d;
      if (timeUs >= this.winEnd) this.closeWindows(Math.floor(timeUs / WINDOW_US));
      this.net += d;
      const turned = d !== this.lastStepDir;
      this.lastStepDir = d;
      const dv = this.pos - this.lastPos;
      const av = dv < 0 ? -dv : dv;
      if (av >= this.chordSteps || (turned && av >= this.turnSteps)) this.point(timeUs);
    } else if (pin === this.dirPin) {
      this.dirSign = level === this.dirPlusLevel ? 1 : -1;
    } else if (pin === this.enablePin) {
      this.enabled = level === this.enableOnLevel;
    } else if (pin === this.armPin) {
      if (this.swingPending && timeUs - this.armEdgeUs >= this.swingUs) this.endSwing();
      this.point(timeUs); // where the swing starts, on the side the tip was
      this.armFrom = this.armFrac(timeUs);
      this.armLevel = level === 1 ? 1 : 0;
      this.armEdgeUs = timeUs;
      this.swingPending = true;
    }
  }

  /** How far out the arm is at time t: 0 in … 1 out (sim/ring.ts RingPlant.armFrac). */
  private armFrac(t: number): number {
    const k = (t - this.armEdgeUs) / this.swingUs;
    if (this.armLevel === 1) return Math.min(1, this.armFrom + k);
    return Math.max(0, this.armFrom - k);
  }

  private endSwing(): void {
    this.swingPending = false;
    this.point(this.armEdgeUs + this.swingUs);
  }

  /** A vertex at the tip's position at time t, coloured by the arm's commanded side. */
  private point(t: number): void {
    this.lastPos = this.pos;
    const rad = this.R - this.inMm + (this.inMm + this.outMm) * this.armFrac(t);
    const phi = (this.armDeg - this.pos / this.spd) * D2R;
    this.px.push(this.cx + rad * Math.cos(phi));
    this.py.push(this.cy + rad * Math.sin(phi));
    this.pl.push(this.armLevel === 1 ? 0 : 1);
  }

  /** Close the open window (and one empty window after it when there is a gap) before window w starts. */
  private closeWindows(w: number): void {
    const cur = this.win;
    if (cur >= 0) {
      const v = this.net / (WINDOW_US * 1e-6) / this.spd;
      this.record(cur, v, (v - this.vPrev) / (WINDOW_US * 1e-6));
      this.vPrev = v;
      if (w > cur + 1 && v !== 0) {
        this.record(cur + 1, 0, -v / (WINDOW_US * 1e-6));
        this.vPrev = 0;
      }
    }
    if (w > cur + 1) this.vPrev = 0;
    this.net = 0;
    this.win = w;
    this.winEnd = (w + 1) * WINDOW_US;
  }

  private record(window: number, v: number, acc: number): void {
    let b = Math.floor((window * WINDOW_US) / this.bucketUs);
    while (b >= MAX_BUCKETS) {
      for (const arr of [this.speed, this.accel]) {
        for (let i = 0; i < MAX_BUCKETS / 2; i++) arr[i] = Math.max(arr[2 * i], arr[2 * i + 1]);
        arr.fill(0, MAX_BUCKETS / 2);
      }
      this.used = Math.ceil(this.used / 2);
      this.bucketUs *= 2;
      b = Math.floor((window * WINDOW_US) / this.bucketUs);
    }
    if (b + 1 > this.used) this.used = b + 1;
    const av = v < 0 ? -v : v;
    const aa = acc < 0 ? -acc : acc;
    if (av > this.speed[b]) this.speed[b] = av;
    if (aa > this.accel[b]) this.accel[b] = aa;
  }

  /** Close the open window and hand back the samples (speed/accel: one axis, the ring), the path decimated to ≤ maxPoints vertices (arm changes kept). */
  finish(timeUs: number, maxPoints = MAX_PATH_POINTS): MotionSamples {
    if (this.win >= 0) this.closeWindows(Math.floor(timeUs / WINDOW_US) + 2);
    if (this.swingPending) this.endSwing();
    this.point(timeUs);
    return {
      ...decimatePath(this.px, this.py, this.pl, maxPoints),
      bucketUs: this.bucketUs,
      buckets: this.used,
      speed: [this.speed.slice(0, this.used)],
      accel: [this.accel.slice(0, this.used)],
    };
  }
}

/** What report.html and motion.svg call a ring's samples. */
export function ringMotionLabels(r: RingProfile): MotionLabels {
  return {
    pathTitle: 'arm tip path in the ring frame reconstructed from step and servo edges',
    pathCaption: 'arm tip path in the ring frame (the thread around the hooks) from step and servo edges',
    lowLabel: 'arm in (inside the hook circle)',
    highLabel: 'arm out (outside it)',
    axes: [{ name: 'ring', speedUnit: 'deg/s', accelUnit: 'deg/s²', maxSpeed: r.ring.maxSpeedDegS, maxAccel: r.ring.accelDegS2, color: '#1f77b4' }],
  };
}
