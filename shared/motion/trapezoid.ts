/**
 * A trapezoidal velocity profile over n steps of the dominant axis, starting and ending at rest
 * ("exact stop" at the end of every segment; look-ahead blending comes later).
 *
 * Units: steps, steps/s, steps/s². With accelSteps = min(v²/(2a), n/2) the move accelerates over
 * accelSteps, cruises at `rate` (or peaks at √(a·n) for short moves) and decelerates symmetrically.
 * timeAt(s) is the exact time at which the position reaches s (0 ≤ s ≤ n); the stepper issues step k
 * at timeAt(k). Reused object: plan() overwrites every field, nothing is allocated.
 */
export class Trapezoid {
  n = 0;
  /** Cruise (or peak) rate, steps/s. */
  rate = 0;
  accel = 0;
  accelSteps = 0;
  accelTime = 0;
  totalTime = 0;

  plan(n: number, maxRate: number, accel: number): void {
    this.n = n;
    this.accel = accel;
    let sa = (maxRate * maxRate) / (2 * accel);
    let v = maxRate;
    if (2 * sa >= n) {
      sa = n / 2;
      v = Math.sqrt(accel * n);
    }
    this.rate = v;
    this.accelSteps = sa;
    this.accelTime = Math.sqrt((2 * sa) / accel);
    this.totalTime = 2 * this.accelTime + (n - 2 * sa) / v;
  }

  /** Seconds from the start of the move until position s is reached. */
  timeAt(s: number): number {
    if (s <= this.accelSteps) return Math.sqrt((2 * s) / this.accel);
    if (s <= this.n - this.accelSteps) return this.accelTime + (s - this.accelSteps) / this.rate;
    const rest = this.n - s;
    return this.totalTime - Math.sqrt((2 * (rest > 0 ? rest : 0)) / this.accel);
  }
}
