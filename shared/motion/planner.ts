/**
 * Look-ahead motion planning, as Grbl's planner.c does it: a bounded ring of straight blocks (integer
 * step targets), each with its nominal speed and acceleration from the per-axis limits, a maximum
 * entry speed from the junction with the block before it (junction deviation, capped so that no axis
 * changes speed by more than its jerkMmS), and planned entry speeds from a reverse pass (every block
 * can still brake to a stop at the end of the queue) and a forward pass (every block can reach its
 * exit speed from its entry speed). The block being executed is out of the ring; the entry speed of
 * the ring's head is then pinned to the exit speed the executing block was started with.
 *
 * Units: steps for positions, mm for lengths, mm/s, mm/s². Device-safe: parallel number arrays of
 * fixed size, nothing allocated after construction.
 */
import { MachineProfile, axisAt } from '../machine';
import { floatTable } from '../number-table';

/** Blocks in the ring. Enough look-ahead to brake from full speed within the queued path. */
export const PLANNER_BLOCKS = 32;

export class Planner {
  readonly size = PLANNER_BLOCKS;
  head = 0;
  count = 0;
  /** Look-ahead on (junction speeds from junction deviation) or off (exact stop at every block). */
  lookAhead = true;
  /** Test-only fault: multiplies every nominal speed (1 = honest). */
  speedFactor = 1;

  /** Target, integer steps. */
  readonly tx: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly ty: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly tz: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** Signed step counts of the block. */
  readonly dx: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly dy: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly dz: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** Length, mm. */
  readonly len: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** Nominal (cruise) speed and acceleration along the path. */
  readonly vNom: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly acc: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** Largest entry speed the junction allows, and the planned one. */
  readonly vMax: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly vEntry: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** The reverse pass's entry speed (before the forward pass), kept to stop the next pass early. */
  private vRev: number[] = floatTable(PLANNER_BLOCKS, 0);
  /** Caller's tag, reported when the block is done (−1 none). */
  readonly tag: number[] = floatTable(PLANNER_BLOCKS, -1);
  /** Dwell blocks (addDwell): standstill for dwell µs after writing outLevel to outPin (0: a move). */
  readonly dwell: number[] = floatTable(PLANNER_BLOCKS, 0);
  readonly outPin: number[] = floatTable(PLANNER_BLOCKS, -1);
  readonly outLevel: number[] = floatTable(PLANNER_BLOCKS, 0);

  /** Where the last queued block ends (steps), and its unit direction. */
  px = 0;
  py = 0;
  pz = 0;
  private ux = 0;
  private uy = 0;
  private uz = 0;
  private lastNom = 0;
  private hasLast = false;
  /** The head's entry speed is fixed (the block before it is executing with that exit speed). */
  private pinned = false;

  private spm: number[] = [0, 0, 0];
  private vmax: number[] = [0, 0, 0];
  private amax: number[] = [0, 0, 0];
  private jerk: number[] = [0, 0, 0];
  private dev: number;

  constructor(m: MachineProfile) {
    for (let i = 0; i < 3; i++) {
      const a = axisAt(m, i);
      this.spm[i] = a.stepsPerMm;
      this.vmax[i] = a.maxSpeedMmS;
      this.amax[i] = a.accelMmS2;
      this.jerk[i] = a.jerkMmS;
    }
    this.dev = m.motion.junctionDeviationMm;
  }

  /** Forget every queued block; the machine is at rest at (x, y, z) steps. */
  reset(x: number, y: number, z: number): void {
    this.head = 0;
    this.count = 0;
    this.px = x;
    this.py = y;
    this.pz = z;
    this.hasLast = false;
    this.pinned = false;
  }

  full(): boolean {
    return this.count >= PLANNER_BLOCKS;
  }

  /**
   * Queue a straight move to (x, y, z) steps with optional caps on its path speed (mm/s) and
   * acceleration (mm/s²), ≤ 0 = none. A zero-length move is dropped unless it carries a tag (it then
   * completes at once).
   */
  add(x: number, y: number, z: number, vCap: number, aCap: number, tag: number): void {
    const dx = x - this.px;
    const dy = y - this.py;
    const dz = z - this.pz;
    if (dx === 0 && dy === 0 && dz === 0 && tag < 0) return;
    const k = (this.head + this.count) % PLANNER_BLOCKS;
    const mx = dx / this.spm[0];
    const my = dy / this.spm[1];
    const mz = dz / this.spm[2];
    const len = Math.sqrt(mx * mx + my * my + mz * mz);
    this.tx[k] = x;
    this.ty[k] = y;
    this.tz[k] = z;
    this.dx[k] = dx;
    this.dy[k] = dy;
    this.dz[k] = dz;
    this.len[k] = len;
    this.tag[k] = tag;
    this.dwell[k] = 0;
    this.px = x;
    this.py = y;
    this.pz = z;
    if (len === 0) {
      // Passes its neighbours' speed through; the junction is between the blocks around it.
      this.vNom[k] = 1e9;
      this.acc[k] = 1;
      this.vMax[k] = this.count > 0 ? 1e9 : 0;
      this.vEntry[k] = 0;
      this.count = this.count + 1;
      this.recalculate();
      return;
    }
    const ux = mx / len;
    const uy = my / len;
    const uz = mz / len;
    let v = vCap > 0 ? vCap : 1e9;
    let a = 1e12;
    for (let i = 0; i < 3; i++) {
      const u = i === 0 ? ux : i === 1 ? uy : uz;
      const au = u < 0 ? -u : u;
      if (au > 1e-12) {
        const vi = this.vmax[i] / au;
        const ai = this.amax[i] / au;
        if (vi < v) v = vi;
        if (ai < a) a = ai;
      }
    }
    if (aCap > 0 && aCap < a) a = aCap;
    v = v * this.speedFactor;
    this.vNom[k] = v;
    this.acc[k] = a;
    let vj = 0;
    if (this.lookAhead && this.hasLast && this.count > 0) vj = this.junctionSpeed(ux, uy, uz, v);
    this.vMax[k] = vj;
    this.vEntry[k] = vj;
    this.ux = ux;
    this.uy = uy;
    this.uz = uz;
    this.lastNom = v;
    this.hasLast = true;
    this.count = this.count + 1;
    this.recalculate();
  }

  /**
   * Queue a standstill: the machine stops, `level` is written to `pin` (−1: none) and nothing moves
   * for `us` µs (a servo swinging, say). The blocks around it start and end at rest.
   */
  addDwell(us: number, pin: number, level: number, tag: number): void {
    const k = (this.head + this.count) % PLANNER_BLOCKS;
    this.tx[k] = this.px;
    this.ty[k] = this.py;
    this.tz[k] = this.pz;
    this.dx[k] = 0;
    this.dy[k] = 0;
    this.dz[k] = 0;
    this.len[k] = 0;
    this.tag[k] = tag;
    this.dwell[k] = us;
    this.outPin[k] = pin;
    this.outLevel[k] = level;
    this.vNom[k] = 0;
    this.acc[k] = 1;
    this.vMax[k] = 0;
    this.vEntry[k] = 0;
    this.hasLast = false;
    this.count = this.count + 1;
    this.recalculate();
  }

  /** Largest speed through the junction from the last block's direction to (ux, uy, uz). */
  private junctionSpeed(ux: number, uy: number, uz: number, vNom: number): number {
    let v = vNom < this.lastNom ? vNom : this.lastNom;
    const cosTheta = -(this.ux * ux + this.uy * uy + this.uz * uz);
    if (cosTheta > 0.999999) return 0; // a reversal
    const jx = ux - this.ux;
    const jy = uy - this.uy;
    const jz = uz - this.uz;
    if (cosTheta > -0.999999) {
      // Grbl: the speed of a circular arc of deviation δ tangent to both blocks, with the
      // acceleration allowed along the junction vector.
      const jl = Math.sqrt(jx * jx + jy * jy + jz * jz);
      let a = 1e12;
      for (let i = 0; i < 3; i++) {
        const j = (i === 0 ? jx : i === 1 ? jy : jz) / jl;
        const aj = j < 0 ? -j : j;
        if (aj > 1e-12 && this.amax[i] / aj < a) a = this.amax[i] / aj;
      }
      const sinHalf = Math.sqrt(0.5 * (1 - cosTheta));
      const vd = Math.sqrt((a * this.dev * sinHalf) / (1 - sinHalf));
      if (vd < v) v = vd;
    }
    // No axis may change speed by more than its jerk.
    for (let i = 0; i < 3; i++) {
      const j = i === 0 ? jx : i === 1 ? jy : jz;
      const aj = j < 0 ? -j : j;
      if (aj > 1e-12 && this.jerk[i] / aj < v) v = this.jerk[i] / aj;
    }
    return v;
  }

  /**
   * Reverse pass (brake to a stop at the end of the queue), then forward pass (reachable speeds).
   * A new block only raises the speeds the reverse pass gives the blocks before it; once a block's
   * reverse speed comes out as it was, every earlier block's is unchanged too (it is a function of
   * the later ones), and so is the forward pass up to there: both passes start at the first block
   * that changed (Grbl's planner does the same with its "planned" pointer). Same speeds as the full
   * passes; on a microcontroller this is most of the planner's work per block.
   */
  private recalculate(): void {
    const n = this.count;
    if (n === 0) return;
    const size = PLANNER_BLOCKS;
    let next = 0;
    const first = this.pinned ? 1 : 0;
    let changed = n;
    for (let i = n - 1; i >= first; i--) {
      const k = (this.head + i) % size;
      let v = Math.sqrt(next * next + 2 * this.acc[k] * this.len[k]);
      if (v > this.vMax[k]) v = this.vMax[k];
      if (i < n - 1 && v === this.vRev[k]) break;
      this.vRev[k] = v;
      this.vEntry[k] = v;
      changed = i;
      next = v;
    }
    let i = changed > 0 ? changed - 1 : 0;
    for (; i + 1 < n; i++) {
      const k = (this.head + i) % size;
      const k1 = (k + 1) % size;
      const e = this.vEntry[k];
      const v = Math.sqrt(e * e + 2 * this.acc[k] * this.len[k]);
      if (v < this.vEntry[k1]) this.vEntry[k1] = v;
    }
  }

  /** Planned exit speed of the head block (the next block's entry, 0 at the end of the queue). */
  headExit(): number {
    if (this.count < 2) return 0;
    return this.vEntry[(this.head + 1) % PLANNER_BLOCKS];
  }

  /** Take the head block for execution (read its fields first); the next one's entry is pinned. */
  pop(): void {
    this.head = (this.head + 1) % PLANNER_BLOCKS;
    this.count = this.count - 1;
    this.pinned = this.count > 0;
    if (this.count === 0) this.hasLast = false;
  }
}
