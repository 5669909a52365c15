/**
 * The nozzle path that winds the thread once around one hook (docs/runtime.md, "Wrap path").
 *
 * For hook h with centre P on the hook circle (centre C), let u = (P − C)/|P − C| point outwards
 * and R = wrap.radiusMm. In board mm, z = nozzle height above the board:
 *
 *   0        I = P − R·u   at travel height   come in inside the circle (from wherever we were)
 *   1        O = P + R·u   at travel height   cross over the hook ring, above the hook heads
 *   2        O             at wrap height     drop outside the hook, below its head
 *   3..K+2   P + R·(cos(θo + s·2πk/K), sin(θo + s·2πk/K)), k = 1..K, at wrap height
 *                                             one full turn around the hook; point K+2 is O itself
 *   K+3      O             at travel height   rise
 *   K+4      I             at travel height   leave towards the inside of the circle
 *
 * θo is the angle of u, K = wrap.segments, s = the winding direction (+1: the angle around the
 * hook increases in board coordinates, i.e. clockwise as seen on screen with y down; −1: the other
 * way). While the nozzle is low it only describes that circle, so its winding number around P is
 * exactly s.
 *
 * Winding direction (wrapDirection): the thread wraps the way it turns at the hook.
 * d_in = unit(P − P_prev) (for the start hook: u, as if coming from the centre), d_out =
 * unit(P_next − P) (for the last hook: −u, leaving towards the centre); s = sign(d_in × d_out)
 * with × the 2-D cross product x1·y2 − y1·x2 in board coordinates; |d_in × d_out| < 1e-9
 * (going straight back to the previous hook) gives s = +1.
 */
import { MachineProfile, hookXMm, hookYMm } from '../machine';

/** Number of waypoints wrapPath writes for this machine. */
export function wrapPointCount(m: MachineProfile): number {
  return m.wrap.segments + 5;
}

/**
 * The winding direction a flank index fixes (plan version 2, stream format 3): the thread arrives on
 * flank 0 (the hook's counter-clockwise side) winding +1, on flank 1 winding −1.
 */
export function flankDirection(flankIndex: number): number {
  return flankIndex % 2 === 0 ? 1 : -1;
}

/** Winding direction +1 / −1 for hook `hook` reached from `prev` and left towards `next` (−1 = none). */
export function wrapDirection(m: MachineProfile, prev: number, hook: number, next: number): number {
  const px = hookXMm(m, hook);
  const py = hookYMm(m, hook);
  let ux = px - m.hooks.centerMm[0];
  let uy = py - m.hooks.centerMm[1];
  const ul = Math.sqrt(ux * ux + uy * uy);
  ux = ux / ul;
  uy = uy / ul;
  let ix = ux;
  let iy = uy;
  if (prev >= 0) {
    ix = px - hookXMm(m, prev);
    iy = py - hookYMm(m, prev);
  }
  let ox = -ux;
  let oy = -uy;
  if (next >= 0) {
    ox = hookXMm(m, next) - px;
    oy = hookYMm(m, next) - py;
  }
  const il = Math.sqrt(ix * ix + iy * iy);
  const ol = Math.sqrt(ox * ox + oy * oy);
  if (il === 0 || ol === 0) return 1;
  const cross = (ix * oy - iy * ox) / (il * ol);
  if (cross < -1e-9) return -1;
  return 1;
}

/**
 * Common tangent of two circles of radius r1, r2 (each R or 0 for a point) around which the path turns
 * in directions s1, s2 (+1: angle increasing in board coordinates): the path leaves circle 1 at
 * (out[0], out[1]) and touches circle 2 at (out[2], out[3]), board mm, so that it runs
 * arc → straight line → arc without a kink (a belt around two pulleys).
 */
export function tangentPoints(
  x1: number, y1: number, r1: number, s1: number, x2: number, y2: number, r2: number, s2: number, out: number[],
): void {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const d = Math.sqrt(dx * dx + dy * dy);
  const ex = d > 0 ? dx / d : 1;
  const ey = d > 0 ? dy / d : 0;
  // perp(e) = (−ey, ex): the velocity of a +1 turn at radial direction e.
  const nx = -ey;
  const ny = ex;
  let ax = 0; // radial unit vector at the leaving point (circle 1)
  let ay = 0;
  let bx = 0; // radial unit vector at the touching point (circle 2)
  let by = 0;
  if (r1 > 0 && r2 > 0 && s1 === s2) {
    ax = -s1 * nx;
    ay = -s1 * ny;
    bx = ax;
    by = ay;
  } else if (r1 > 0 && r2 > 0) {
    let c = (r1 + r2) / d;
    if (!(c < 1)) c = 1;
    const q = Math.sqrt(1 - c * c);
    ax = c * ex - s1 * q * nx;
    ay = c * ey - s1 * q * ny;
    bx = -ax;
    by = -ay;
  } else if (r2 > 0) {
    // From a point: (Q2 − P1)·b = 0 with Q2 = P2 + r2·b, so e·b = −r2/d; the side makes the
    // path's direction at Q2 (s2·perp(b)) point away from P1.
    let c = r2 / d;
    if (!(c < 1)) c = 1;
    const q = Math.sqrt(1 - c * c);
    bx = -c * ex + q * nx;
    by = -c * ey + q * ny;
    if (s2 * (-by * dx + bx * dy) < 0) {
      bx = -c * ex - q * nx;
      by = -c * ey - q * ny;
    }
  } else if (r1 > 0) {
    // To a point: e·a = r1/d; the path's direction at Q1 (s1·perp(a)) points towards P2.
    let c = r1 / d;
    if (!(c < 1)) c = 1;
    const q = Math.sqrt(1 - c * c);
    ax = c * ex + q * nx;
    ay = c * ey + q * ny;
    if (s1 * (-ay * dx + ax * dy) < 0) {
      ax = c * ex - q * nx;
      ay = c * ey - q * ny;
    }
  }
  out[0] = x1 + r1 * ax;
  out[1] = y1 + r1 * ay;
  out[2] = x2 + r2 * bx;
  out[3] = y2 + r2 * by;
}
