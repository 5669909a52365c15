/**
 * The velocity profile of one planned block: accelerate from the entry speed v0 to the peak, cruise,
 * decelerate to the exit speed v1 (a trapezoid whose ends need not be at rest; a triangle when the
 * block is too short to reach the cruise speed). Units: mm along the path, mm/s, mm/s², s.
 *
 * timeAt(s) is the exact time at which the path position s (0 ≤ s ≤ len) is reached; the stepper
 * times every step of every axis with it. Reused object: plan() overwrites every field.
 */
export class Profile {
  len = 0;
  v0 = 0;
  peak = 0;
  v1 = 0;
  accel = 0;
  /** Path length spent accelerating / decelerating. */
  accelDist = 0;
  decelDist = 0;
  accelTime = 0;
  cruiseTime = 0;
  totalTime = 0;

  plan(len: number, v0: number, cruise: number, v1: number, accel: number): void {
    this.len = len;
    this.v0 = v0;
    this.v1 = v1;
    this.accel = accel;
    let vc = cruise;
    if (vc < v0) vc = v0;
    if (vc < v1) vc = v1;
    let da = (vc * vc - v0 * v0) / (2 * accel);
    let dd = (vc * vc - v1 * v1) / (2 * accel);
    if (da + dd > len) {
      // Triangle: the peak where the acceleration and deceleration ramps meet.
      const p2 = (2 * accel * len + v0 * v0 + v1 * v1) / 2;
      vc = Math.sqrt(p2);
      da = (p2 - v0 * v0) / (2 * accel);
      if (da < 0) da = 0;
      if (da > len) da = len;
      dd = len - da;
    }
    this.peak = vc;
    this.accelDist = da;
    this.decelDist = dd;
    this.accelTime = (vc - v0) / accel;
    const cruiseLen = len - da - dd;
    this.cruiseTime = vc > 0 && cruiseLen > 0 ? cruiseLen / vc : 0;
    this.totalTime = this.accelTime + this.cruiseTime + (vc - v1) / accel;
  }

  /** Seconds from the start of the block until path position s is reached. */
  timeAt(s: number): number {
    const a = this.accel;
    if (s <= 0) return 0;
    if (s < this.accelDist) {
      const v0 = this.v0;
      return (2 * s) / (v0 + Math.sqrt(v0 * v0 + 2 * a * s));
    }
    const decelAt = this.len - this.decelDist;
    if (s <= decelAt) return this.accelTime + (s - this.accelDist) / this.peak;
    // Measured back from the end of the block: the remaining distance q is small here, so this is
    // free of the cancellation in sqrt(peak² − 2·a·r) that costs ~1e-8 s near a stop.
    const q = this.len - s;
    if (q <= 0) return this.totalTime;
    const v1 = this.v1;
    const t = this.totalTime - (2 * q) / (v1 + Math.sqrt(v1 * v1 + 2 * a * q));
    const decelStart = this.accelTime + this.cruiseTime;
    return t < decelStart ? decelStart : t;
  }
}
