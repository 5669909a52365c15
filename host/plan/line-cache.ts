import { traceSegment } from './grid';

/**
 * The grid cells (and the length inside each) of every hook-to-hook chord, traced on first use
 * and kept while they fit in `budget` entries (8 bytes each); past that, traced on every call.
 */
export class LineCache {
  private readonly start: Int32Array;
  private readonly count: Int32Array;
  private idxPool: Int32Array;
  private lenPool: Float32Array;
  private used = 0;
  private readonly scratchIdx: Int32Array;
  private readonly scratchLen: Float32Array;

  constructor(
    private readonly xs: Float64Array,
    private readonly ys: Float64Array,
    private readonly width: number,
    private readonly height: number,
    private readonly budget = 12_000_000,
  ) {
    const n = xs.length;
    this.start = new Int32Array(n * n).fill(-1);
    this.count = new Int32Array(n * n);
    const initial = Math.min(budget, 1 << 20);
    this.idxPool = new Int32Array(initial);
    this.lenPool = new Float32Array(initial);
    this.scratchIdx = new Int32Array(width + height + 4);
    this.scratchLen = new Float32Array(width + height + 4);
  }

  /** Cells of chord a–b: arrays plus [offset, offset + count) into them. Valid until the next call. */
  get(a: number, b: number): { idx: Int32Array; len: Float32Array; offset: number; count: number } {
    const n = this.xs.length;
    const key = a < b ? a * n + b : b * n + a;
    const s = this.start[key];
    if (s >= 0) return { idx: this.idxPool, len: this.lenPool, offset: s, count: this.count[key] };
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const c = traceSegment(this.xs[lo], this.ys[lo], this.xs[hi], this.ys[hi], this.width, this.height, this.scratchIdx, this.scratchLen);
    if (this.used + c > this.budget) return { idx: this.scratchIdx, len: this.scratchLen, offset: 0, count: c };
    this.reserve(this.used + c);
    this.idxPool.set(this.scratchIdx.subarray(0, c), this.used);
    this.lenPool.set(this.scratchLen.subarray(0, c), this.used);
    this.start[key] = this.used;
    this.count[key] = c;
    this.used += c;
    return { idx: this.idxPool, len: this.lenPool, offset: this.start[key], count: c };
  }

  private reserve(size: number): void {
    if (size <= this.idxPool.length) return;
    const next = Math.min(this.budget, Math.max(size, this.idxPool.length * 2));
    const idx = new Int32Array(next);
    idx.set(this.idxPool.subarray(0, this.used));
    const len = new Float32Array(next);
    len.set(this.lenPool.subarray(0, this.used));
    this.idxPool = idx;
    this.lenPool = len;
  }
}
