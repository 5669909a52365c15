/**
 * Which G-code lines a controller has finished, from the positions it reports (Grbl's `?` status
 * MPos, Marlin's M114) and the lines it has acknowledged. Stock Grbl reports no line numbers, and
 * an `ok` only means a line is planned, not moved; so the machine is placed on the path: the first
 * line at or after the last placement (and not beyond the acknowledged ones) whose path contains
 * the reported position. A position shared by two lines (an end point) places the machine on the
 * earlier one, so the count of wound hooks never runs ahead of the machine.
 */
import type { ProgramLine } from '../gcode/generate';

export class ProgramProgress {
  /** Index of the line the machine was last placed on. */
  private cursor = 0;
  /** For each line, the path index of the hook wound when it finishes (woundAfter lines), else -1. */
  private readonly woundAt: Int32Array;

  /**
   * `tolMm`: how far a reported position may be from a line's path and still be on it (one step of
   * the coarsest axis, plus rounding of the report).
   */
  constructor(private readonly program: readonly ProgramLine[], private readonly tolMm: number) {
    this.woundAt = Int32Array.from(program, (l) => (l.woundAfter ? l.hook : -1));
  }

  /** The index of the line the machine is on. */
  line(): number {
    return this.cursor;
  }

  /** Every line before `n` is finished (Grbl idle with nothing queued, an M0 reached, Marlin's ok of a synchronised line). */
  finishedBefore(n: number): void {
    this.cursor = Math.max(this.cursor, Math.min(n, this.program.length));
  }

  /** The machine reports work position `p` (mm) with lines [0, acked) acknowledged. */
  observe(p: readonly number[], acked: number): void {
    const end = Math.min(acked, this.program.length);
    for (let i = this.cursor; i < end; i++) {
      if (this.contains(this.program[i], p)) {
        this.cursor = i;
        return;
      }
    }
  }

  /** How many hooks of the path are certainly wound: hooks [startAt, result) of the path. */
  wound(startAt: number): number {
    let k = startAt;
    for (let i = 0; i < this.cursor; i++) if (this.woundAt[i] >= 0) k = this.woundAt[i] + 1;
    return k;
  }

  private contains(l: ProgramLine, p: readonly number[]): boolean {
    if (!l.from || !l.to) return false;
    const tol = this.tolMm;
    if (l.centre && l.turn) {
      if (Math.abs(p[2] - l.from[2]) > tol) return false;
      const [cx, cy] = l.centre;
      const r = Math.hypot(l.from[0] - cx, l.from[1] - cy);
      if (Math.abs(Math.hypot(p[0] - cx, p[1] - cy) - r) > tol) return false;
      const a0 = Math.atan2(l.from[1] - cy, l.from[0] - cx);
      const a1 = Math.atan2(l.to[1] - cy, l.to[0] - cx);
      const sweep = norm(l.turn * (a1 - a0)) || 2 * Math.PI;
      const at = norm(l.turn * (Math.atan2(p[1] - cy, p[0] - cx) - a0));
      const slack = tol / Math.max(r, 1e-9);
      return at <= sweep + slack || at >= 2 * Math.PI - slack;
    }
    return segmentDistance(l.from, l.to, p) <= tol;
  }
}

/** An angle in [0, 2π). */
function norm(a: number): number {
  const t = 2 * Math.PI;
  return ((a % t) + t) % t;
}

function segmentDistance(a: readonly number[], b: readonly number[], p: readonly number[]): number {
  const d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const len2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1] + (p[2] - a[2]) * d[2]) / len2)) : 0;
  return Math.hypot(p[0] - a[0] - t * d[0], p[1] - a[1] - t * d[1], p[2] - a[2] - t * d[2]);
}
