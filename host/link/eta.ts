/**
 * Time left of a run on a real machine, from the lines it reports. With the motion estimate of the
 * stream on its machine (shared/motion/estimate.ts, per line), the estimate of the lines left is
 * scaled by how fast this machine has been against the estimate so far; without one, the lines left
 * at the rate seen so far. Colour-change pauses (the operator's time) are not counted.
 */

/** Estimated machine time the run must have done before its own pace scales the estimate (s). */
const TRUST_ESTIMATE_S = 30;
/** Lines seen before a run without an estimate shows an ETA. */
const TRUST_LINES = 3;

export class LineEta {
  private fromLine = -1;
  private fromMs = 0;
  private heldSinceMs = -1;
  private last = NaN;
  private lastLine = -1;

  /** lineSeconds[i]: estimated motion time until line i (lineSeconds[lineCount] the whole run), or null. */
  constructor(private lineCount: number, private lineSeconds: number[] | null) {}

  /**
   * The machine reports `line` at `nowMs`: seconds left, NaN when nothing can be said yet. While it
   * is paused (a colour change, the operator) its clock stands still.
   */
  update(line: number, nowMs: number, paused = false): number {
    if (paused) {
      if (this.heldSinceMs < 0) this.heldSinceMs = nowMs;
      return this.last;
    }
    if (this.heldSinceMs >= 0) {
      this.fromMs += nowMs - this.heldSinceMs;
      this.heldSinceMs = -1;
    }
    this.last = this.estimate(line, nowMs);
    return this.last;
  }

  private estimate(line: number, nowMs: number): number {
    const n = this.lineCount;
    const l = Math.max(0, Math.min(n, line));
    if (this.fromLine < 0 || l < this.lastLine) {
      // The first report, or a restart further back (a reset resumed earlier): measure from here.
      this.fromLine = l;
      this.fromMs = nowMs;
    }
    this.lastLine = l;
    if (l >= n) return 0;
    const seenS = (nowMs - this.fromMs) / 1000;
    const est = this.lineSeconds;
    if (est && est.length === n + 1) {
      const left = est[n] - est[l];
      const doneEst = est[l] - est[this.fromLine];
      if (doneEst < TRUST_ESTIMATE_S || seenS <= 0) return left;
      return left * (seenS / doneEst);
    }
    const done = l - this.fromLine;
    if (done < TRUST_LINES || seenS <= 0) return NaN;
    return (seenS / done) * (n - l);
  }
}
