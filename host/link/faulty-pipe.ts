/**
 * One direction of a serial line, in virtual time (milliseconds), with injected faults: bytes leave at the baud
 * rate (10 bits per byte) and may be corrupted (one random bit flipped), dropped, duplicated or
 * swapped with the next byte. Used by `hookline run --port sim --faults …` and by the link tests.
 */
export interface PipeFaults {
  corrupt: number;
  drop: number;
  dup: number;
  reorder: number;
}

export const NO_FAULTS: PipeFaults = { corrupt: 0, drop: 0, dup: 0, reorder: 0 };

export interface FaultCounts {
  bytes: number;
  corrupted: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

export class FaultyPipe {
  /** Each write arrives as one burst at the time its last byte has crossed the line. */
  private bursts: { at: number; bytes: number[] }[] = [];
  private head = 0;
  private lineFreeAt = 0;
  readonly counts: FaultCounts = { bytes: 0, corrupted: 0, dropped: 0, duplicated: 0, reordered: 0 };

  constructor(
    private baud: number,
    private faults: PipeFaults,
    private random: () => number,
  ) {}

  /** Milliseconds one byte takes on the line (start bit, 8 data bits, stop bit). */
  get byteMs(): number {
    return 10_000 / this.baud;
  }

  /** Queue bytes for sending at virtual time `now` (ms). */
  write(bytes: ArrayLike<number>, now: number): void {
    const f = this.faults;
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      let b = bytes[i];
      this.counts.bytes++;
      if (f.drop && this.random() < f.drop) {
        this.counts.dropped++;
        continue;
      }
      if (f.corrupt && this.random() < f.corrupt) {
        b ^= 1 << Math.floor(this.random() * 8);
        this.counts.corrupted++;
      }
      out.push(b);
      if (f.dup && this.random() < f.dup) {
        out.push(b);
        this.counts.duplicated++;
      }
    }
    if (f.reorder) {
      for (let i = 0; i + 1 < out.length; i++) {
        if (this.random() < f.reorder) {
          const t = out[i];
          out[i] = out[i + 1];
          out[i + 1] = t;
          this.counts.reordered++;
          i++;
        }
      }
    }
    // the line is busy for every byte written, dropped ones included
    this.lineFreeAt = Math.max(now, this.lineFreeAt) + bytes.length * this.byteMs;
    if (out.length) this.bursts.push({ at: this.lineFreeAt, bytes: out });
  }

  /** Time the next burst arrives, or Infinity. */
  nextArrival(): number {
    return this.head < this.bursts.length ? this.bursts[this.head].at : Infinity;
  }

  /** Bytes that have arrived by `now`. */
  receive(now: number): number[] {
    const got: number[] = [];
    while (this.head < this.bursts.length && this.bursts[this.head].at <= now) {
      for (const b of this.bursts[this.head++].bytes) got.push(b);
    }
    if (this.head > 1024) {
      this.bursts = this.bursts.slice(this.head);
      this.head = 0;
    }
    return got;
  }

  /** Lose everything on the line (a disconnect or a device reset). */
  clear(now: number): void {
    this.bursts = [];
    this.head = 0;
    this.lineFreeAt = now;
  }
}
