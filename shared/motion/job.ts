/**
 * The nozzle path of a job, hook by hook, as straight pieces for the planner (docs/runtime.md,
 * "Wrap path"). Every hook is circled on a circle of radius R = wrap.radiusMm around its centre;
 * consecutive circles are joined by their common tangent (tangentPoints), so the path runs
 * arc → line → arc like a belt over pulleys, with no corner to stop at:
 *
 *   entry  where the tangent from the previous hook's circle (or from the hook-circle centre for the
 *          first hook) touches this hook's circle;
 *   arc    from the entry, in the winding direction s, one full turn more than the belt needs
 *          (Θ = φ + 2π, φ ∈ [0, 2π) the belt angle), as a polygon of wrap.segments per turn;
 *   exit   the last vertex: where the tangent to the next hook's circle (or, for the last hook, to
 *          the centre) leaves.
 *
 * The whole job runs at one height (Pile.runHeightMm: above every thread strung so far, below the
 * hook heads), so nothing waits for Z; the ring is crossed at wrap.travelHeightMm only when the job
 * starts (from the homing corner to the centre) and ends. Arc blocks carry a speed cap f·√(a·R) and
 * an acceleration cap (1 − f²)·a (f = ARC_SPEED_FRACTION), so that centripetal plus tangential
 * acceleration never exceed an axis' accelMmS2.
 *
 * Output: pts, PT_STRIDE numbers per point: x, y, z (integer steps, machine coordinates), speed cap
 * (mm/s, 0 = none), acceleration cap (mm/s², 0 = none). Nothing allocated after construction.
 */
import { MachineProfile, hookAngle, hookXMm, hookYMm, mmToSteps } from '../machine';
import { tangentPoints } from '../geometry/wrap';
import { floatTable } from '../number-table';

export const PT_STRIDE = 5;

/**
 * What makes a machine's path, piece by piece, into pts (PT_STRIDE numbers per point): a move to
 * x, y, z steps with a speed and an acceleration cap (0 = none), or, when the fifth number is −1, a
 * dwell: write level pts[1] to pin pts[0], then stand still for pts[3] µs. JobPath (gantry) and
 * RingPath (shared/geometry/ring.ts).
 */
export interface PathMaker {
  readonly pts: number[];
  reset(): void;
  /** From the machine position (board mm; a ring: degrees) to where the first hook is approached. */
  start(xMm: number, yMm: number, travelMm: number, zRunMm: number): number;
  hook(hook: number, dir: number, next: number, nextDir: number, zRunMm: number): number;
  finish(zRunMm: number, travelMm: number): number;
}
export const ARC_SPEED_FRACTION = 0.9;
/** Margin (mm) beyond the collision distance that a straight piece keeps from other hooks while low. */
export const KEEP_MARGIN_MM = 1;

const TWO_PI = 2 * Math.PI;

export class JobPath implements PathMaker {
  readonly pts: number[];
  n = 0;
  /** Previous hook and its winding direction (−1 / 0 before the first hook). */
  prevHook = -1;
  prevDir = 0;
  private m: MachineProfile;
  private r: number;
  private k: number;
  private arcCap: number;
  private arcAccel: number;
  private cx: number;
  private cy: number;
  private t: number[] = [0, 0, 0, 0];
  /** Last point written (board mm), where the next piece starts. */
  lastX = 0;
  lastY = 0;

  constructor(m: MachineProfile) {
    this.m = m;
    this.r = m.wrap.radiusMm;
    this.k = m.wrap.segments;
    let a = m.axes.x.accelMmS2;
    if (m.axes.y.accelMmS2 < a) a = m.axes.y.accelMmS2;
    const f = ARC_SPEED_FRACTION;
    this.arcCap = f * Math.sqrt(a * this.r);
    this.arcAccel = (1 - f * f) * a;
    this.cx = m.hooks.centerMm[0];
    this.cy = m.hooks.centerMm[1];
    const max = (2 * this.k + 8) * PT_STRIDE;
    this.pts = floatTable(max, 0);
  }

  reset(): void {
    this.prevHook = -1;
    this.prevDir = 0;
    this.n = 0;
  }

  private put(x: number, y: number, z: number, vCap: number, aCap: number): void {
    const m = this.m;
    const i = this.n * PT_STRIDE;
    this.pts[i] = mmToSteps(m.axes.x, x + m.board.originMm[0]);
    this.pts[i + 1] = mmToSteps(m.axes.y, y + m.board.originMm[1]);
    this.pts[i + 2] = mmToSteps(m.axes.z, z);
    this.pts[i + 3] = vCap;
    this.pts[i + 4] = aCap;
    this.n = this.n + 1;
    this.lastX = x;
    this.lastY = y;
  }

  private putSteps(xs: number, ys: number, z: number, vCap: number, aCap: number): void {
    const m = this.m;
    const i = this.n * PT_STRIDE;
    this.pts[i] = xs;
    this.pts[i + 1] = ys;
    this.pts[i + 2] = mmToSteps(m.axes.z, z);
    this.pts[i + 3] = vCap;
    this.pts[i + 4] = aCap;
    this.n = this.n + 1;
    this.lastX = xs / m.axes.x.stepsPerMm - m.board.originMm[0];
    this.lastY = ys / m.axes.y.stepsPerMm - m.board.originMm[1];
  }

  /** From the machine position (board mm) up to travel height, over to the centre, down to zRun. */
  start(xMm: number, yMm: number, travelMm: number, zRunMm: number): number {
    this.n = 0;
    this.prevHook = -1;
    this.prevDir = 0;
    this.put(xMm, yMm, travelMm, 0, 0);
    this.put(this.cx, this.cy, travelMm, 0, 0);
    this.put(this.cx, this.cy, zRunMm, 0, 0);
    return this.n;
  }

  /**
   * The path of one hook: entry, arc, exit (see above). next = the following hook (−1: none, leave
   * towards the centre) and nextDir its winding direction.
   */
  hook(hook: number, dir: number, next: number, nextDir: number, zRunMm: number): number {
    const m = this.m;
    const r = this.r;
    const t = this.t;
    this.n = 0;
    const px = hookXMm(m, hook);
    const py = hookYMm(m, hook);
    if (this.prevHook >= 0) {
      tangentPoints(hookXMm(m, this.prevHook), hookYMm(m, this.prevHook), r, this.prevDir, px, py, r, dir, t);
    } else {
      tangentPoints(this.cx, this.cy, 0, 0, px, py, r, dir, t);
    }
    const inX = t[2];
    const inY = t[3];
    if (next >= 0) tangentPoints(px, py, r, dir, hookXMm(m, next), hookYMm(m, next), r, nextDir, t);
    else tangentPoints(px, py, r, dir, this.cx, this.cy, 0, 0, t);
    const outX = t[0];
    const outY = t[1];
    const a0 = Math.atan2(inY - py, inX - px);
    const a1 = Math.atan2(outY - py, outX - px);
    let phi = dir * (a1 - a0);
    while (phi < 0) phi = phi + TWO_PI;
    while (phi >= TWO_PI) phi = phi - TWO_PI;
    const sweep = phi + TWO_PI;
    const segs = Math.ceil((sweep * this.k) / TWO_PI - 1e-9);
    this.approach(inX, inY, hook, zRunMm);
    this.put(inX, inY, zRunMm, 0, 0);
    // Vertices go to whole steps; of a few angles around each ideal one take the vertex whose step
    // position lies closest to the circle (least |d² − r²|), so that rounding does not make some
    // corners sharper than others (a sharper corner must be taken slower). The candidates' cos/sin
    // come from the ideal angle's by the sum formulas: two trig calls per vertex, not ten (on a
    // microcontroller's interpreter this loop was most of a hook's work).
    const cx = px + m.board.originMm[0];
    const cy = py + m.board.originMm[1];
    const sx = m.axes.x.stepsPerMm;
    const sy = m.axes.y.stepsPerMm;
    const nudge = (sweep / segs) / 6;
    const c1 = Math.cos(nudge);
    const s1 = Math.sin(nudge);
    const c2 = Math.cos(2 * nudge);
    const s2 = Math.sin(2 * nudge);
    const r2 = r * r;
    for (let j = 1; j < segs; j++) {
      const a = a0 + (dir * sweep * j) / segs;
      const ca = Math.cos(a);
      const sa = Math.sin(a);
      let bx = 0;
      let by = 0;
      let be = 1e18;
      for (let c = -2; c <= 2; c++) {
        const cc = c === 0 ? 1 : c === 1 || c === -1 ? c1 : c2;
        const sc = c === 0 ? 0 : c === 1 ? s1 : c === -1 ? -s1 : c === 2 ? s2 : -s2;
        const xs = Math.floor((cx + r * (ca * cc - sa * sc)) * sx + 0.5);
        const ys = Math.floor((cy + r * (sa * cc + ca * sc)) * sy + 0.5);
        const ex = xs / sx - cx;
        const ey = ys / sy - cy;
        let e = ex * ex + ey * ey - r2;
        if (e < 0) e = -e;
        if (e < be - 1e-12) {
          be = e;
          bx = xs;
          by = ys;
        }
      }
      this.putSteps(bx, by, zRunMm, this.arcCap, this.arcAccel);
    }
    this.put(outX, outY, zRunMm, this.arcCap, this.arcAccel);
    this.prevHook = hook;
    this.prevDir = dir;
    return this.n;
  }

  /**
   * The straight piece from the last point to a hook's entry (x1, y1). Where it would pass another hook
   * too closely while low (closer than the collision distance plus KEEP_MARGIN_MM), it bends around
   * that hook on the inside (a waypoint at that distance inside the ring, up to two of them); where
   * that does not clear either, it rises to travel height over the hooks and comes down at the entry.
   */
  private approach(x1: number, y1: number, target: number, zRunMm: number): void {
    const x0 = this.lastX;
    const y0 = this.lastY;
    const k = this.offender(x0, y0, x1, y1, target);
    if (k < 0) return;
    const w = this.t;
    this.detour(k, w);
    const ax = w[0];
    const ay = w[1];
    if (this.offender(x0, y0, ax, ay, target) < 0) {
      const k2 = this.offender(ax, ay, x1, y1, target);
      if (k2 < 0) {
        this.put(ax, ay, zRunMm, 0, 0);
        return;
      }
      this.detour(k2, w);
      if (this.offender(ax, ay, w[0], w[1], target) < 0 && this.offender(w[0], w[1], x1, y1, target) < 0) {
        this.put(ax, ay, zRunMm, 0, 0);
        this.put(w[0], w[1], zRunMm, 0, 0);
        return;
      }
    }
    const high = this.m.wrap.travelHeightMm;
    this.put(x0, y0, high, 0, 0);
    this.put(x1, y1, high, 0, 0);
  }

  /** Waypoint inside the ring that passes hook k at the keep-out distance plus ½ mm, into w[0], w[1]. */
  private detour(k: number, w: number[]): void {
    const m = this.m;
    const hx = hookXMm(m, k);
    const hy = hookYMm(m, k);
    const ux = hx - this.cx;
    const uy = hy - this.cy;
    const ul = Math.sqrt(ux * ux + uy * uy);
    const d = (m.hooks.hookDiameterMm + m.wrap.nozzleDiameterMm) / 2 + KEEP_MARGIN_MM + 0.5;
    w[0] = hx - (d * ux) / ul;
    w[1] = hy - (d * uy) / ul;
  }

  /** The first hook the segment passes too closely (segmentOffender), −1 when clear. */
  private offender(x0: number, y0: number, x1: number, y1: number, target: number): number {
    return segmentOffender(this.m, x0, y0, x1, y1, target, this.prevHook, false);
  }

  /** After the last hook: to the centre at zRun, then up to travel height. */
  finish(zRunMm: number, travelMm: number): number {
    this.n = 0;
    this.put(this.cx, this.cy, zRunMm, 0, 0);
    this.put(this.cx, this.cy, travelMm, 0, 0);
    return this.n;
  }
}

/**
 * The first hook (along the segment) that the segment (x0, y0)–(x1, y1) passes too closely: closer
 * than (hook + nozzle diameter)/2 + KEEP_MARGIN_MM, or, for the previous and the target hook (whose
 * circles the path runs on), closer than (hook + nozzle diameter)/2 + ¼ mm; on a tie the lower
 * index. −1 when clear.
 *
 * A hook on the ring within keep of the segment needs a point of it beyond rin = ring − keep, and
 * only the segment's end pieces can lie out there (|P(t)|² is convex in t): only the hooks within
 * those pieces' angular spans, widened by what keep subtends at rin and a hook either side, are
 * tested, a few instead of all (on a Pico each costs hundreds of µs of interpreter time). `all`
 * tests every hook (the reference the tests compare with).
 */
export function segmentOffender(m: MachineProfile, x0: number, y0: number, x1: number, y1: number, target: number, prevHook: number, all: boolean): number {
  const collide = (m.hooks.hookDiameterMm + m.wrap.nozzleDiameterMm) / 2;
  const n = m.hooks.count;
  if (all) return offenderIn(m, x0, y0, x1, y1, target, prevHook, collide, 0, n, -1);
  // A hook is on the ring, so one within keep of the segment has a point of the segment beyond
  // rin = ring − keep (triangle inequality): only the segment's pieces out there, at its ends
  // (|P(t)|² is convex in t), need their hooks tested; a segment wholly inside rin passes none.
  const ccx = m.hooks.centerMm[0];
  const ccy = m.hooks.centerMm[1];
  const ring = m.hooks.diameterMm / 2;
  const keep = collide + KEEP_MARGIN_MM;
  const rin = ring - keep;
  const px = x0 - ccx;
  const py = y0 - ccy;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const c0 = px * px + py * py - rin * rin;
  const c1 = (x1 - ccx) * (x1 - ccx) + (y1 - ccy) * (y1 - ccy) - rin * rin;
  if (rin > 0 && c0 < 0 && c1 < 0) return -1;
  let tA = 1;
  let tB = 1;
  const qa = dx * dx + dy * dy;
  if (rin > 0 && qa > 0) {
    const qb = 2 * (px * dx + py * dy);
    const disc = qb * qb - 4 * qa * c0;
    if (disc > 0) {
      const sq = Math.sqrt(disc);
      const r1 = (-qb - sq) / (2 * qa);
      const r2 = (-qb + sq) / (2 * qa);
      // Beyond rin: t < r1 or t > r2 (inside between them).
      if (c0 >= 0 && c1 >= 0 && r1 > 0 && r2 < 1) {
        tA = r1;
        tB = r2;
      } else if (c0 >= 0 && c1 < 0) tA = r1;
      else if (c0 < 0 && c1 >= 0) {
        tA = -1;
        tB = r2;
      }
    }
  }
  let best = -1;
  if (tA > 0) best = windowOffender(m, x0, y0, x1, y1, 0, tA, target, prevHook, collide, keep, rin, -1);
  if (tB < 1) best = windowOffender(m, x0, y0, x1, y1, tB, 1, target, prevHook, collide, keep, rin, best);
  return best;
}

/**
 * The offender among the hooks within the angular span of the segment's piece t0..t1 (widened by
 * what keep subtends at rin, and a hook either side), tested against the whole segment; `best`:
 * one already found (the smaller t, then the smaller index, wins).
 */
function windowOffender(m: MachineProfile, x0: number, y0: number, x1: number, y1: number, t0: number, t1: number, target: number, prevHook: number, collide: number, keep: number, rin: number, best: number): number {
  const n = m.hooks.count;
  const ccx = m.hooks.centerMm[0];
  const ccy = m.hooks.centerMm[1];
  const dx = x1 - x0;
  const dy = y1 - y0;
  const a0 = Math.atan2(y0 + t0 * dy - ccy, x0 + t0 * dx - ccx);
  let d = Math.atan2(y0 + t1 * dy - ccy, x0 + t1 * dx - ccx) - a0;
  while (d > Math.PI) d = d - TWO_PI;
  while (d < -Math.PI) d = d + TWO_PI;
  let s = rin > keep ? keep / rin : 1;
  if (s > 1) s = 1;
  const widen = Math.asin(s);
  const lo = (d < 0 ? a0 + d : a0) - widen - (m.hooks.startAngleDeg * Math.PI) / 180;
  const span = (d < 0 ? -d : d) + 2 * widen;
  let first = Math.floor((lo * n) / TWO_PI) - 1;
  let count = Math.ceil((span * n) / TWO_PI) + 3;
  if (count > n) {
    first = 0;
    count = n;
  }
  return offenderIn(m, x0, y0, x1, y1, target, prevHook, collide, first, count, best);
}

/** The first of hooks first..first+count−1 (mod n) the segment passes too closely, or `best` when it comes first. */
function offenderIn(m: MachineProfile, x0: number, y0: number, x1: number, y1: number, target: number, prevHook: number, collide: number, first: number, count: number, best: number): number {
  const n = m.hooks.count;
  const ccx = m.hooks.centerMm[0];
  const ccy = m.hooks.centerMm[1];
  const ring = m.hooks.diameterMm / 2;
  const dx = x1 - x0;
  const dy = y1 - y0;
  const l2 = dx * dx + dy * dy;
  let bestT = 2;
  if (best >= 0) {
    const bx = hookXMm(m, best);
    const by = hookYMm(m, best);
    bestT = l2 > 0 ? ((bx - x0) * dx + (by - y0) * dy) / l2 : 0;
    if (bestT < 0) bestT = 0;
    if (bestT > 1) bestT = 1;
  }
  // Hook centres by rotating the first one's unit vector hook by hook (4 products each, not two
  // trig calls and the profile look-ups: on a microcontroller's interpreter this loop was most of
  // a hook's path).
  let i = first % n;
  if (i < 0) i = i + n;
  const turn = TWO_PI / n;
  const a = hookAngle(m, i);
  let ux = Math.cos(a);
  let uy = Math.sin(a);
  const rc = Math.cos(turn);
  const rs = Math.sin(turn);
  for (let c = 0; c < count; c++) {
    if (c > 0) {
      i = i + 1;
      if (i === n) i = 0;
      const nx = ux * rc - uy * rs;
      uy = uy * rc + ux * rs;
      ux = nx;
    }
    const hx = ccx + ring * ux;
    const hy = ccy + ring * uy;
    let t = l2 > 0 ? ((hx - x0) * dx + (hy - y0) * dy) / l2 : 0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    const ex = x0 + t * dx - hx;
    const ey = y0 + t * dy - hy;
    const keep = i === target || i === prevHook ? collide + 0.25 : collide + KEEP_MARGIN_MM;
    if (ex * ex + ey * ey < keep * keep && (t < bestT || (t === bestT && i < best))) {
      best = i;
      bestT = t;
    }
  }
  return best;
}

