/**
 * Bresenham / DDA step distribution for three axes: over n = max(|dx|, |dy|, |dz|) ticks the
 * dominant axis steps on every tick and every other axis steps exactly |d| times, as evenly as
 * integers allow. Integer additions only, so positions are exact on every target. After next(),
 * sx / sy / sz are 1 for the axes that step on this tick (0 otherwise). Nothing is allocated.
 */
export class Dda3 {
  n = 0;
  tick = 0;
  private ax = 0;
  private ay = 0;
  private az = 0;
  private ex = 0;
  private ey = 0;
  private ez = 0;
  sx = 0;
  sy = 0;
  sz = 0;

  /** Start a line of ax, ay, az steps (absolute counts, integers ≥ 0). */
  begin(ax: number, ay: number, az: number): void {
    let n = ax;
    if (ay > n) n = ay;
    if (az > n) n = az;
    this.n = n;
    this.tick = 0;
    this.ax = ax;
    this.ay = ay;
    this.az = az;
    const half = Math.floor(n / 2);
    this.ex = half;
    this.ey = half;
    this.ez = half;
  }

  /** Advance one tick; false (and no steps) once all n ticks have been issued. */
  next(): boolean {
    if (this.tick >= this.n) {
      this.sx = 0;
      this.sy = 0;
      this.sz = 0;
      return false;
    }
    this.tick = this.tick + 1;
    const n = this.n;
    let e = this.ex + this.ax;
    if (e >= n) {
      e = e - n;
      this.sx = 1;
    } else this.sx = 0;
    this.ex = e;
    e = this.ey + this.ay;
    if (e >= n) {
      e = e - n;
      this.sy = 1;
    } else this.sy = 0;
    this.ey = e;
    e = this.ez + this.az;
    if (e >= n) {
      e = e - n;
      this.sz = 1;
    } else this.sz = 0;
    this.ez = e;
    return true;
  }
}
