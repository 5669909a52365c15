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
 * Write the wrap path of `hook` with winding direction `dir` (+1/−1) into `out` as x, y, z triples
 * in board mm (z above the board). Returns the number of points (wrapPointCount). Allocates nothing
 * once `out` has grown to size.
 */
export function wrapPath(m: MachineProfile, hook: number, dir: number, out: number[]): number {
  const px = hookXMm(m, hook);
  const py = hookYMm(m, hook);
  let ux = px - m.hooks.centerMm[0];
  let uy = py - m.hooks.centerMm[1];
  const ul = Math.sqrt(ux * ux + uy * uy);
  ux = ux / ul;
  uy = uy / ul;
  const r = m.wrap.radiusMm;
  const high = m.wrap.travelHeightMm;
  const low = m.wrap.wrapHeightMm;
  const k = m.wrap.segments;
  const ix = px - r * ux;
  const iy = py - r * uy;
  const ox = px + r * ux;
  const oy = py + r * uy;
  const theta = Math.atan2(uy, ux);
  let n = 0;
  n = put(out, n, ix, iy, high);
  n = put(out, n, ox, oy, high);
  n = put(out, n, ox, oy, low);
  for (let j = 1; j < k; j++) {
    const a = theta + (dir * 2 * Math.PI * j) / k;
    n = put(out, n, px + r * Math.cos(a), py + r * Math.sin(a), low);
  }
  n = put(out, n, ox, oy, low);
  n = put(out, n, ox, oy, high);
  n = put(out, n, ix, iy, high);
  return n;
}

function put(out: number[], n: number, x: number, y: number, z: number): number {
  const i = n * 3;
  out[i] = x;
  out[i + 1] = y;
  out[i + 2] = z;
  return n + 1;
}
