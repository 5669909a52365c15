/**
 * The ring machine (machines/ref-ring.json, docs/machines.md "Ring"): the hooks sit on a ring that one
 * stepper turns (through a gear); the thread comes from the tip of a fixed arm that a servo swings in
 * (tip inside the hook circle) or out (outside it). Everything happens in the ring's frame: the tip
 * is at angle φ = arm.angleDeg − ring angle and at radius R − inOffsetMm or R + outOffsetMm.
 *
 * Winding a hook h (angle θ) the way the thread turns (s = +1: angle increasing): the tip goes past
 * h, alternately inside and outside, each pass a half turn around h in the sense s. A pass inside in
 * the direction d (of φ) turns around h in the sense −d, a pass outside in the sense +d; so a pass in
 * the direction −s is made inside (the ring just turns) and a pass in the direction +s outside (swing
 * out before, swing in after; the ring stands while the arm swings). The tip arrives from the
 * previous hook on side −a of h (a = direction of arrival) and leaves towards the next hook on side b:
 * two passes when a ≠ b, three when a = b, so always at least one full turn. Swings happen at
 * φ = θ ± δ, δ = 0.8 × half the hook pitch: between h and its neighbour.
 *
 * The runtime drives the ring as axis x of an ordinary profile (ringAxes: degrees as "mm", a rotary
 * axis whose hall sensor is its endstop, no y/z motion) through the same planner and stepper as the
 * gantry; the arm swings are planner dwells that set the servo pin. Device-safe.
 */
import { AxisProfile, CircleHooks, MachineProfile, MotionProfile, PileProfile } from '../machine';
import { PT_STRIDE, PathMaker } from '../motion/job';
import { floatTable } from '../number-table';

export interface RingProfile {
  format: 'hookline-machine';
  version: 1;
  name: string;
  kind: 'ring';
  description?: string;
  board: { widthMm: number; heightMm: number; originMm: number[] };
  hooks: CircleHooks;
  thread: { widthMm: number };
  pile: PileProfile;
  motion: MotionProfile;
  ring: {
    /** Motor full steps × microsteps per motor turn, and motor turns per ring turn. */
    motorStepsPerRev: number;
    gearRatio: number;
    maxSpeedDegS: number;
    accelDegS2: number;
    jerkDegS: number;
    invertDir: boolean;
    /** Hall sensor: reads "pressed" over hallWidthDeg just below ring angle 0 (the home). */
    hallActiveLow: boolean;
    hallWidthDeg: number;
    pins: { step: number; dir: number; hall: number };
    homing: { seekSpeedDegS: number; latchSpeedDegS: number; backoffDeg: number };
  };
  arm: {
    /** Machine angle of the arm tip (same convention as hooks.startAngleDeg). */
    angleDeg: number;
    /** Servo pin: high = out. */
    pin: number;
    inOffsetMm: number;
    outOffsetMm: number;
    /** Time of one swing, ms. */
    swingMs: number;
    tipDiameterMm: number;
  };
  motors: { enablePin: number; enableActiveLow: boolean };
  stepPulseUs: number;
}

/** Unused pins of the two axes a ring does not have (the runtime configures them, nothing drives them). */
const DUMMY_PINS = [250, 251, 252, 253, 254, 255];

export function ringStepsPerRev(r: RingProfile): number {
  return r.ring.motorStepsPerRev * r.ring.gearRatio;
}

function dummyAxis(p: number): AxisProfile {
  return {
    stepsPerMm: 1, maxSpeedMmS: 1, accelMmS2: 1, jerkMmS: 1, travelMinMm: 0, travelMaxMm: 1, invertDir: false,
    endstopActiveLow: true, pins: { step: DUMMY_PINS[p], dir: DUMMY_PINS[p + 1], endstop: DUMMY_PINS[p + 2] },
    homing: { seekSpeedMmS: 1, latchSpeedMmS: 1, backoffMm: 0.1 },
  };
}

/** The ring as the runtime's axes: x = ring angle in degrees (rotary, hall = endstop), y/z unused. */
export function ringAxes(r: RingProfile): MachineProfile {
  const g = r.ring;
  const x: AxisProfile = {
    stepsPerMm: ringStepsPerRev(r) / 360,
    maxSpeedMmS: g.maxSpeedDegS,
    accelMmS2: g.accelDegS2,
    jerkMmS: g.jerkDegS,
    travelMinMm: -100000,
    travelMaxMm: 100000,
    invertDir: g.invertDir,
    endstopActiveLow: g.hallActiveLow,
    pins: { step: g.pins.step, dir: g.pins.dir, endstop: g.pins.hall },
    homing: { seekSpeedMmS: g.homing.seekSpeedDegS, latchSpeedMmS: g.homing.latchSpeedDegS, backoffMm: g.homing.backoffDeg },
    rotary: true,
  };
  const pitch = r.hooks.diameterMm * Math.sin(Math.PI / r.hooks.count);
  return {
    format: 'hookline-machine', version: 1, name: r.name, kind: 'gantry',
    board: r.board, hooks: r.hooks, thread: r.thread, pile: r.pile, motion: r.motion,
    wrap: {
      radiusMm: pitch * 0.4, segments: 3, travelHeightMm: r.hooks.headHeightMm + 1,
      wrapHeightMm: r.hooks.headHeightMm - 1, nozzleDiameterMm: r.arm.tipDiameterMm,
    },
    axes: { x: x, y: dummyAxis(0), z: dummyAxis(3) },
    motors: r.motors,
    homingOrder: ['x'],
    stepPulseUs: r.stepPulseUs,
  };
}

/** Hook i's angle, degrees, in the ring's frame. */
export function ringHookDeg(r: RingProfile, i: number): number {
  return r.hooks.startAngleDeg + (360 * i) / r.hooks.count;
}

/** Wrap an angle difference into (−180, 180]. */
export function wrap180(d: number): number {
  let x = d;
  while (x > 180) x = x - 360;
  while (x <= -180) x = x + 360;
  return x;
}

/** The ring path: hook by hook, ring moves and arm swings (PathMaker for the runtime). */
export class RingPath implements PathMaker {
  readonly pts: number[] = floatTable(12 * PT_STRIDE, 0);
  n = 0;
  /** Ring angle (degrees, unwrapped) at the end of the last piece. */
  private cur = 0;
  private r: RingProfile;
  private spd: number;
  private delta: number;
  private swingUs: number;
  /** The last hook's angle and the direction the tip left it in (for finish). */
  private lastTh = 0;
  private lastB = 0;

  constructor(r: RingProfile) {
    this.r = r;
    this.spd = ringStepsPerRev(r) / 360;
    this.delta = (0.8 * 180) / r.hooks.count;
    this.swingUs = Math.floor(r.arm.swingMs * 1000 + 0.5);
  }

  reset(): void {
    this.n = 0;
  }

  /** Tip angle φ in the ring frame for the current ring angle. */
  private tip(): number {
    return this.r.arm.angleDeg - this.cur;
  }

  /** Turn the ring the shorter way so that the tip is at φ. */
  private moveTo(phi: number): void {
    const d = wrap180(phi - this.tip());
    this.cur = this.cur - d;
    const i = this.n * PT_STRIDE;
    this.pts[i] = Math.floor(this.cur * this.spd + 0.5);
    this.pts[i + 1] = 0;
    this.pts[i + 2] = 0;
    this.pts[i + 3] = 0;
    this.pts[i + 4] = 0;
    this.n = this.n + 1;
  }

  private swing(out: boolean): void {
    const i = this.n * PT_STRIDE;
    this.pts[i] = this.r.arm.pin;
    this.pts[i + 1] = out ? 1 : 0;
    this.pts[i + 2] = 0;
    this.pts[i + 3] = this.swingUs;
    this.pts[i + 4] = -1;
    this.n = this.n + 1;
  }

  start(xMm: number, yMm: number, travelMm: number, zRunMm: number): number {
    this.cur = xMm;
    this.n = 0;
    return 0;
  }

  hook(hook: number, dir: number, next: number, nextDir: number, zRunMm: number): number {
    this.n = 0;
    const th = ringHookDeg(this.r, hook);
    const arrive = wrap180(th - this.tip());
    const a = arrive >= 0 ? 1 : -1;
    let b = -a;
    if (next >= 0) b = wrap180(ringHookDeg(this.r, next) - th) >= 0 ? 1 : -1;
    let side = -a;
    const passes = a === b ? 3 : 2;
    this.moveTo(th + side * this.delta);
    for (let k = 0; k < passes; k++) {
      const d = -side;
      if (d === dir) {
        this.swing(true);
        this.moveTo(th - side * this.delta);
        this.swing(false);
      } else this.moveTo(th - side * this.delta);
      side = -side;
    }
    this.lastTh = th;
    this.lastB = b;
    return this.n;
  }

  /** After the last hook: carry on past it by one hook pitch (the thread ends inside, between hooks). */
  finish(zRunMm: number, travelMm: number): number {
    this.n = 0;
    if (this.lastB !== 0) this.moveTo(this.lastTh + (this.lastB * 360) / this.r.hooks.count);
    return this.n;
  }
}

/** The floor on a ring: Σ over the lines of |the ring turn between the two hooks| / maxSpeedDegS. */
export function ringFloorSeconds(r: RingProfile, hooks: number[]): number {
  let t = 0;
  for (let i = 1; i < hooks.length; i++) {
    const d = wrap180(ringHookDeg(r, hooks[i]) - ringHookDeg(r, hooks[i - 1]));
    t = t + (d < 0 ? -d : d) / r.ring.maxSpeedDegS;
  }
  return t;
}
