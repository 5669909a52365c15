/**
 * One axis' queue of step segments (device/hal.ts StepOutput: interval, count, add) and the exact
 * generator time of its next step, as sim/step-generator.ts computes it: step k of a segment comes
 * interval + k·add µs after the one before, times are float sums, never rounded into the sum. The
 * NodeMCU step outputs (steps-pulse.ts, steps-rmt.ts) read the steps out of it one by one and
 * round each to the primitive's resolution. Device-safe; nothing is allocated per step.
 */
export class SegmentQueue {
  /** Exact generator time (µs) of the axis' last step taken, and of its next one (−1: none queued). */
  last = 0;
  next = -1;
  /** Direction (+1/−1) of the next step. */
  nextDir = 0;
  private cap: number;
  private sDir: number[] = [];
  private sInterval: number[] = [];
  private sCount: number[] = [];
  private sAdd: number[] = [];
  private head = 0;
  private n = 0;
  /**
   * The segment being read: steps left after the next one, its current interval, its add. (Public
   * for a reader's inner loop, which keeps them in locals and writes them back: steps-rmt.ts.)
   */
  left = 0;
  iv = 0;
  ad = 0;

  constructor(cap: number) {
    this.cap = cap;
    for (let i = 0; i < cap; i++) {
      this.sDir.push(0);
      this.sInterval.push(0);
      this.sCount.push(0);
      this.sAdd.push(0);
    }
  }

  /** Empty, with the clock at 0. */
  reset(): void {
    this.head = 0;
    this.n = 0;
    this.left = 0;
    this.last = 0;
    this.next = -1;
  }

  /** Segments it can still take (the one being read counts as queued). */
  free(): number {
    return this.cap - this.n - (this.next >= 0 ? 1 : 0);
  }

  push(dir: number, interval: number, count: number, add: number): void {
    const k = (this.head + this.n) % this.cap;
    this.sDir[k] = dir;
    this.sInterval[k] = interval;
    this.sCount[k] = count;
    this.sAdd[k] = add;
    this.n = this.n + 1;
    if (this.next < 0) this.load();
  }

  /** Take the next step (its time and direction were next / nextDir). */
  pop(): void {
    this.last = this.next;
    if (this.left > 0) {
      this.left = this.left - 1;
      this.iv = this.iv + this.ad;
      this.next = this.last + this.iv;
    } else this.load();
  }

  /** Start reading the next queued segment (the one being read is done; `last` is its last step). */
  load(): void {
    if (this.n === 0) {
      this.next = -1;
      return;
    }
    const k = this.head;
    this.head = (k + 1) % this.cap;
    this.n = this.n - 1;
    this.nextDir = this.sDir[k];
    this.iv = this.sInterval[k];
    this.left = this.sCount[k] - 1;
    this.ad = this.sAdd[k];
    this.next = this.last + this.iv;
  }
}
