import type { VirtualMcu } from '../mcu';

/**
 * Any number of timed events multiplexed onto one VirtualMcu timer slot (the fake Firmata board
 * and its serial line need many; the mcu has four slots). Events at the same time run in the order
 * they were scheduled.
 */
export class EventQueue {
  private at: number[] = [];
  private seq: number[] = [];
  private fns: (() => void)[] = [];
  private counter = 0;
  private readonly fire: () => void;

  constructor(private mcu: VirtualMcu, private slot: number) {
    this.fire = () => this.runDue();
  }

  get now(): number {
    return this.mcu.now;
  }

  get pending(): number {
    return this.fns.length;
  }

  schedule(atUs: number, fn: () => void): void {
    const t = atUs < this.mcu.now ? this.mcu.now : atUs;
    const s = this.counter++;
    // Sorted by (time, sequence); the queue stays short, so a linear insert is fine.
    let i = this.at.length;
    while (i > 0 && (this.at[i - 1] > t || (this.at[i - 1] === t && this.seq[i - 1] > s))) i--;
    this.at.splice(i, 0, t);
    this.seq.splice(i, 0, s);
    this.fns.splice(i, 0, fn);
    if (i === 0) this.mcu.setTimer(this.slot, t, this.fire);
  }

  private runDue(): void {
    const now = this.mcu.now;
    while (this.at.length > 0 && this.at[0] <= now) {
      this.at.shift();
      this.seq.shift();
      const fn = this.fns.shift()!;
      fn();
    }
    if (this.at.length > 0) this.mcu.setTimer(this.slot, this.at[0], this.fire);
  }
}
