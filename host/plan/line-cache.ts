import { traceSegment } from './grid';

/**
 * The grid cells of every hook-to-hook chord and the coverage the chord adds to each (its length
 * inside the cell × `scale`, the thread width in cells), traced on first use and kept while they
 * fit in `budget` entries (8 bytes each); past that, traced again on every use into scratch space.
 * Access by key: `key(a, b)` then idx/amt/offset/count, valid until the next `key` call.
 */
export class LineCache {
  private readonly start: Int32Array;
  private readonly counts: Int32Array;
  private idxPool: Int32Array;
  private amtPool: Float32Array;
  private used = 0;
  private readonly scratchIdx: Int32Array;
  private readonly scratchAmt: Float32Array;
  private scratchCount = 0;

  constructor(
    private readonly xs: Float64Array,
    private readonly ys: Float64Array,
    private readonly width: number,
    private readonly height: number,
    private readonly scale = 1,
    private readonly budget = 12_000_000,
  ) {
    const n = xs.length;
    // One slot per unordered pair a < b: key = b·(b−1)/2 + a.
    const pairs = (n * (n - 1)) / 2;
    this.start = new Int32Array(pairs).fill(-1);
    this.counts = new Int32Array(pairs);
    // The whole budget at once: untouched pages cost no memory (the OS zero-fills them lazily), and
    // growing by copying cost ~0.1 s per plan.
    const initial = budget;
    this.idxPool = new Int32Array(initial);
    this.amtPool = new Float32Array(initial);
    this.scratchIdx = new Int32Array(width + height + 4);
    this.scratchAmt = new Float32Array(width + height + 4);
  }

  /**
   * Key of chord a–b, tracing it if needed; ≥ 0 for a cached chord, −1 for one traced into
   * scratch space (valid until the next call).
   */
  key(a: number, b: number): number {
    const k = a < b ? (b * (b - 1)) / 2 + a : (a * (a - 1)) / 2 + b;
    if (this.start[k] >= 0) return k;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const c = traceSegment(this.xs[lo], this.ys[lo], this.xs[hi], this.ys[hi], this.width, this.height, this.scratchIdx, this.scratchAmt);
    for (let i = 0; i < c; i++) this.scratchAmt[i] *= this.scale;
    if (this.used + c > this.budget) {
      this.scratchCount = c;
      return -1;
    }
    this.reserve(this.used + c);
    this.idxPool.set(this.scratchIdx.subarray(0, c), this.used);
    this.amtPool.set(this.scratchAmt.subarray(0, c), this.used);
    this.start[k] = this.used;
    this.counts[k] = c;
    this.used += c;
    return k;
  }

  idx(key: number): Int32Array {
    return key < 0 ? this.scratchIdx : this.idxPool;
  }

  amt(key: number): Float32Array {
    return key < 0 ? this.scratchAmt : this.amtPool;
  }

  offset(key: number): number {
    return key < 0 ? 0 : this.start[key];
  }

  count(key: number): number {
    return key < 0 ? this.scratchCount : this.counts[key];
  }

  private reserve(size: number): void {
    if (size <= this.idxPool.length) return;
    const next = Math.min(this.budget, Math.max(size, this.idxPool.length * 2));
    const idx = new Int32Array(next);
    idx.set(this.idxPool.subarray(0, this.used));
    const amt = new Float32Array(next);
    amt.set(this.amtPool.subarray(0, this.used));
    this.idxPool = idx;
    this.amtPool = amt;
  }
}
