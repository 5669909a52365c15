/**
 * The G-code's machine time from the same motion model as `hookline estimate` (shared/motion:
 * the look-ahead planner with junction deviation and per-axis limits, trapezoid profiles): every
 * G1 is a block at its feed, every G2/G3 is cut into chords as Grbl cuts it ($12 arc tolerance
 * 0.002 mm), dwells are added, an M0 stops the machine (its wait is not counted).
 */
import { type MachineProfile, mmToSteps } from '../../shared/machine';
import { Planner } from '../../shared/motion/planner';
import { Profile } from '../../shared/motion/profile';

/** Grbl's default arc tolerance ($12), mm. */
const ARC_TOLERANCE_MM = 0.002;

export class GcodeTimer {
  private pl: Planner;
  private prof = new Profile();
  private us = 0;

  constructor(private m: MachineProfile, x: number, y: number, z: number) {
    this.pl = new Planner(m);
    this.pl.reset(mmToSteps(m.axes.x, x), mmToSteps(m.axes.y, y), mmToSteps(m.axes.z, z));
  }

  private take(): void {
    const pl = this.pl;
    const k = pl.head;
    this.prof.plan(pl.len[k], pl.vEntry[k], pl.vNom[k], pl.headExit(), pl.acc[k]);
    this.us += Math.floor(this.prof.totalTime * 1e6 + 0.5);
    pl.pop();
  }

  /** A straight move to (x, y, z) mm at feed mm/s. */
  line(x: number, y: number, z: number, feedMmS: number): void {
    while (this.pl.full()) this.take();
    this.pl.add(mmToSteps(this.m.axes.x, x), mmToSteps(this.m.axes.y, y), mmToSteps(this.m.axes.z, z), feedMmS, -1, -1);
  }

  /** An arc from (x0, y0) around (cx, cy) by sweep rad (+ = G3), at height z. */
  arc(x0: number, y0: number, cx: number, cy: number, sweep: number, z: number, feedMmS: number): void {
    const r = Math.hypot(x0 - cx, y0 - cy);
    const seg = 2 * Math.sqrt(ARC_TOLERANCE_MM * (2 * r - ARC_TOLERANCE_MM));
    const n = Math.max(1, Math.floor((Math.abs(sweep) * r) / seg));
    const a0 = Math.atan2(y0 - cy, x0 - cx);
    for (let i = 1; i <= n; i++) {
      const a = a0 + (sweep * i) / n;
      this.line(cx + r * Math.cos(a), cy + r * Math.sin(a), z, feedMmS);
    }
  }

  /** The machine stops (M0, a dwell): run out the queue. */
  stop(dwellS = 0): void {
    while (this.pl.count > 0) this.take();
    this.us += dwellS * 1e6;
  }

  seconds(): number {
    this.stop();
    return this.us / 1e6;
  }
}
