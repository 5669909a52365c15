/**
 * The ring machine behind the virtual microcontroller (machines/ref-ring.json): the ring stepper (one
 * step per rising edge, in the direction of its dir pin, while the drivers are enabled), the hall
 * sensor (reads pressed over hallWidthDeg just below ring angle 0, i.e. every turn), and the arm: its
 * servo pin's level says in or out, and the tip moves linearly between the two radii over swingMs.
 *
 * RingTracker judges the thread in the ring's frame: tip angle φ = arm.angleDeg − ring angle, radius
 * R − inOffsetMm … R + outOffsetMm. While the tip is near the hook circle (within twice the larger
 * offset) its angle around the nearest hook (by angle) is accumulated; when another hook becomes the
 * nearest, or the tip leaves the band, at least one full turn counts as one wrap of that hook with the
 * sign of the angle as direction (as for the gantry). A swing is judged as the radial segment at the
 * angle where it starts: the runtime swings only while the ring stands, and a ring step during a
 * swing is a violation ('swing'). Collisions: the tip within (hook + tip diameter)/2 of a hook centre.
 */
import type { MachineProfile } from '../shared/machine';
import { type RingProfile, ringStepsPerRev } from '../shared/geometry/ring';
import { type EdgeListener, type VirtualMcu } from './mcu';
import type { PlantObserver } from './plant';
import { type Verifier, type WrapEvent, angleStep } from './verify';

const TWO_PI = 2 * Math.PI;

/** The ring angle (degrees) a simulated ring powers on at (any angle: homing finds the hall sensor). */
export const RING_START_DEG = 123.4;

export class RingPlant implements EdgeListener {
  readonly pos: Float64Array;
  enabled = false;
  dirSign = -1;
  armLevel = 0;
  private armEdgeUs = -1e18;
  private armFrom = 0;
  private spr: number;
  private hallW: number;
  private pressed = false;
  private enableOn: number;
  tracker: RingTracker | null = null;

  constructor(private mcu: VirtualMcu, private r: RingProfile, axes: MachineProfile, pos: Float64Array, private observer: PlantObserver) {
    this.pos = pos;
    this.spr = ringStepsPerRev(r);
    this.hallW = Math.max(1, Math.round((r.ring.hallWidthDeg / 360) * this.spr));
    this.dirSign = r.ring.invertDir ? 1 : -1;
    this.enableOn = r.motors.enableActiveLow ? 0 : 1;
    this.enabled = mcu.levels[r.motors.enablePin] === this.enableOn;
    void axes;
    this.updateHall(true);
  }

  /** How far out the arm is at time t: 0 in … 1 out. */
  armFrac(t: number): number {
    const k = (t - this.armEdgeUs) / (this.r.arm.swingMs * 1000);
    if (this.armLevel === 1) return Math.min(1, this.armFrom + k);
    return Math.max(0, this.armFrom - k);
  }

  swinging(t: number): boolean {
    return t - this.armEdgeUs < this.r.arm.swingMs * 1000;
  }

  edge(pin: number, level: number, t: number): void {
    const g = this.r.ring;
    if (pin === g.pins.step) {
      if (level !== 1) return;
      if (!this.enabled) {
        this.observer.disabledPulse(0, t);
        return;
      }
      this.pos[0] += this.dirSign;
      this.updateHall(false);
      this.observer.step(0, this.dirSign, t);
      if (this.tracker) this.tracker.step(t);
    } else if (pin === g.pins.dir) {
      this.dirSign = level === (g.invertDir ? 0 : 1) ? 1 : -1;
    } else if (pin === this.r.motors.enablePin) {
      this.enabled = level === this.enableOn;
    } else if (pin === this.r.arm.pin) {
      const from = this.armFrac(t);
      this.armFrom = from;
      this.armLevel = level;
      this.armEdgeUs = t;
      if (this.tracker) this.tracker.swing(t, from, level === 1 ? 1 : 0);
    }
  }

  private updateHall(force: boolean): void {
    const m = ((this.pos[0] % this.spr) + this.spr) % this.spr;
    const p = m === 0 || m > this.spr - this.hallW;
    if (p === this.pressed && !force) return;
    this.pressed = p;
    const active = this.r.ring.hallActiveLow ? 0 : 1;
    this.mcu.drive(this.r.ring.pins.hall, p ? active : 1 - active);
    this.observer.endstop(0, p, this.mcu.now);
  }
}

export class RingTracker {
  readonly wraps: WrapEvent[] = [];
  readonly pileWraps: Int32Array;
  maxPileMm = 0;
  private R: number;
  private cx: number;
  private cy: number;
  private spd: number;
  private band: number;
  private collide: number;
  private pitch: number;
  private start: number;
  private tracked = -1;
  private accum = 0;
  private prevAngle = 0;
  private collided = -1;

  constructor(private r: RingProfile, private plant: RingPlant, private verifier: Verifier) {
    this.R = r.hooks.diameterMm / 2;
    this.cx = r.hooks.centerMm[0];
    this.cy = r.hooks.centerMm[1];
    this.spd = ringStepsPerRev(r) / 360;
    this.band = 2 * Math.max(r.arm.inOffsetMm, r.arm.outOffsetMm);
    this.collide = (r.hooks.hookDiameterMm + r.arm.tipDiameterMm) / 2;
    this.pitch = TWO_PI / r.hooks.count;
    this.start = (r.hooks.startAngleDeg * Math.PI) / 180;
    this.pileWraps = new Int32Array(r.hooks.count);
  }

  private radius(frac: number): number {
    return this.R - this.r.arm.inOffsetMm + (this.r.arm.inOffsetMm + this.r.arm.outOffsetMm) * frac;
  }

  private phi(): number {
    return ((this.r.arm.angleDeg - this.plant.pos[0] / this.spd) * Math.PI) / 180;
  }

  step(t: number): void {
    if (this.plant.swinging(t)) this.verifier.violation('swing', 'the ring turned while the arm was swinging', t);
    this.at(this.phi(), this.radius(this.plant.armFrac(t)), t);
  }

  /** A swing from radius fraction `from` to `to` at the current angle: sampled along the radial segment. */
  swing(t: number, from: number, to: number): void {
    const phi = this.phi();
    for (let i = 1; i <= 16; i++) this.at(phi, this.radius(from + ((to - from) * i) / 16), t);
  }

  private at(phi: number, rad: number, t: number): void {
    if (Math.abs(rad - this.R) > this.band) {
      if (this.tracked >= 0) this.close(t);
      return;
    }
    const x = this.cx + rad * Math.cos(phi);
    const y = this.cy + rad * Math.sin(phi);
    const n = this.r.hooks.count;
    let k = Math.round((phi - this.start) / this.pitch) % n;
    k = (k + n) % n; // also turns −0 into 0
    const ha = this.start + k * this.pitch;
    const dx = x - (this.cx + this.R * Math.cos(ha));
    const dy = y - (this.cy + this.R * Math.sin(ha));
    if (dx * dx + dy * dy < this.collide * this.collide && this.collided !== k) {
      this.collided = k;
      this.verifier.violation('collision', `arm tip within ${this.collide} mm of hook ${k}`, t, { hook: k });
    }
    const ang = Math.atan2(dy, dx);
    if (k !== this.tracked) {
      if (this.tracked >= 0) this.close(t);
      this.tracked = k;
      this.accum = 0;
      this.prevAngle = ang;
      this.collided = -1;
      return;
    }
    this.accum += angleStep(this.prevAngle, ang);
    this.prevAngle = ang;
  }

  close(t: number): void {
    if (this.tracked < 0) return;
    const turns = Math.abs(this.accum) / TWO_PI;
    if (turns >= 1 - 1e-6) {
      this.wraps.push({ hook: this.tracked, dir: this.accum > 0 ? 1 : -1, turns: Math.floor(turns + 1e-6), timeUs: t });
      const w = ++this.pileWraps[this.tracked];
      this.maxPileMm = Math.max(this.maxPileMm, w * this.r.thread.widthMm * this.r.pile.packing);
    }
    this.tracked = -1;
    this.accum = 0;
  }
}
