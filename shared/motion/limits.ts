/**
 * Kinematic limits of one straight move, expressed for the dominant axis (the one with the most
 * steps) so the stepper can run a single trapezoid: the path speed v and acceleration a are the
 * largest values for which every moving axis stays within its own maxSpeedMmS / accelMmS2
 * (v ≤ vmax_i / |u_i| with u the unit direction in mm), then converted to dominant-axis steps/s.
 */
import { MachineProfile, axisAt } from '../machine';

export class MoveLimits {
  /** Dominant axis 0..2. */
  dominant = 0;
  /** Steps of the dominant axis. */
  n = 0;
  /** Dominant-axis rate limit, steps/s. */
  rate = 0;
  /** Dominant-axis acceleration limit, steps/s². */
  accel = 0;
  /** Path length, mm. */
  lengthMm = 0;

  /** dx, dy, dz in steps (signed). Returns false for a zero-length move. */
  compute(m: MachineProfile, dx: number, dy: number, dz: number): boolean {
    const ax = dx < 0 ? -dx : dx;
    const ay = dy < 0 ? -dy : dy;
    const az = dz < 0 ? -dz : dz;
    let dom = 0;
    let n = ax;
    if (ay > n) {
      n = ay;
      dom = 1;
    }
    if (az > n) {
      n = az;
      dom = 2;
    }
    this.n = n;
    this.dominant = dom;
    if (n === 0) {
      this.rate = 0;
      this.accel = 0;
      this.lengthMm = 0;
      return false;
    }
    const mx = ax / m.axes.x.stepsPerMm;
    const my = ay / m.axes.y.stepsPerMm;
    const mz = az / m.axes.z.stepsPerMm;
    const len = Math.sqrt(mx * mx + my * my + mz * mz);
    this.lengthMm = len;
    let v = -1;
    let a = -1;
    for (let i = 0; i < 3; i++) {
      const d = i === 0 ? mx : i === 1 ? my : mz;
      if (d > 0) {
        const p = axisAt(m, i);
        const vi = (p.maxSpeedMmS * len) / d;
        const ai = (p.accelMmS2 * len) / d;
        if (v < 0 || vi < v) v = vi;
        if (a < 0 || ai < a) a = ai;
      }
    }
    const dmm = dom === 0 ? mx : dom === 1 ? my : mz;
    const spm = axisAt(m, dom).stepsPerMm;
    this.rate = ((v * dmm) / len) * spm;
    this.accel = ((a * dmm) / len) * spm;
    return true;
  }
}
