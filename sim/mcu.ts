/**
 * A virtual microcontroller: a discrete-event clock in µs, digital pins, one-shot timer slots.
 * Every pin edge (outputs written by the firmware, inputs driven by the plant) is streamed to
 * listeners with its time as it happens; nothing is stored, so a run of tens of millions of steps
 * costs no memory. The clock only moves when the next timer fires (no busy ticking).
 */

export interface EdgeListener {
  /** A pin changed level at timeUs (step pulses arrive as a rising and a falling edge). */
  edge(pin: number, level: number, timeUs: number): void;
}

/**
 * Hardware beside the CPU that makes edges on its own schedule (a step generator): the MCU runs its
 * events in time order with the timers' callbacks.
 */
export interface Peripheral {
  /** Time (µs) of the next edge it will make, Infinity when none. */
  nextEventUs(): number;
  /** Make that edge (the clock has been set to its time). */
  runEvent(): void;
  /** What it did, for the report (a step generator: segments, steps). */
  stats?(): StepGeneratorStats;
}

export interface StepGeneratorStats {
  segments: number;
  steps: number;
  /** Most segments any axis' queue held, and its capacity. */
  peakQueued: number;
  queueLength: number;
  lateSegments: number;
}

import type { ChipCpu } from './chip/cpu';

export const MAX_PINS = 256;
const MAX_TIMERS = 4;

export class VirtualMcu {
  /** Current time, µs since power-on. */
  now = 0;
  readonly levels = new Uint8Array(MAX_PINS);
  /** -1 unconfigured, else the HAL pin mode. */
  readonly modes = new Int8Array(MAX_PINS).fill(-1);
  private listeners: EdgeListener[] = [];
  private peripherals: Peripheral[] = [];
  /**
   * Where peripherals report faults of the firmware driving them (a step segment that came too
   * late): simulate() turns them into violations. Unset, they throw.
   */
  onProblem: ((kind: string, message: string, timeUs: number) => void) | null = null;
  private timerAt = new Float64Array(MAX_TIMERS);
  private timerOn = new Uint8Array(MAX_TIMERS);
  private timerFn: (() => void)[] = [];
  /**
   * The chip's CPU when the simulation charges the interpreter's work (hookline sim --chip,
   * sim/chip/cpu.ts); null: the clock stands still while firmware code runs.
   */
  cpu: ChipCpu | null = null;
  /** Timer callbacks run so far. */
  events = 0;

  addListener(l: EdgeListener): void {
    this.listeners.push(l);
  }

  addPeripheral(p: Peripheral): void {
    this.peripherals.push(p);
  }

  /** The first peripheral's report (a step generator), or null. */
  stepGeneratorStats(): StepGeneratorStats | null {
    for (const p of this.peripherals) if (p.stats) return p.stats();
    return null;
  }

  problem(kind: string, message: string): void {
    if (!this.onProblem) throw new Error(`${kind}: ${message}`);
    this.onProblem(kind, message, this.now);
  }

  private emit(pin: number, level: number, t: number): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i].edge(pin, level, t);
  }

  pinMode(pin: number, mode: number): void {
    this.checkPin(pin);
    this.modes[pin] = mode;
  }

  /** Firmware drives an output. */
  write(pin: number, level: number): void {
    this.checkPin(pin);
    const v = level ? 1 : 0;
    if (this.levels[pin] === v) return;
    this.levels[pin] = v;
    this.emit(pin, v, this.now);
  }

  /** Firmware pulses an output high for widthUs (the falling edge is reported with its own time). */
  pulse(pin: number, widthUs: number): void {
    this.emit(pin, 1, this.now);
    this.emit(pin, 0, this.now + widthUs);
  }

  read(pin: number): number {
    return this.levels[pin];
  }

  /** The outside world (the plant) drives an input. */
  drive(pin: number, level: number): void {
    this.checkPin(pin);
    const v = level ? 1 : 0;
    if (this.levels[pin] === v) return;
    this.levels[pin] = v;
    this.emit(pin, v, this.now);
  }

  setTimer(slot: number, atUs: number, fn: () => void): void {
    this.timerAt[slot] = atUs < this.now ? this.now : atUs;
    this.timerOn[slot] = 1;
    this.timerFn[slot] = fn;
  }

  cancelTimer(slot: number): void {
    this.timerOn[slot] = 0;
  }

  /**
   * Advance the clock to the earliest pending timer and run it, after every peripheral edge due
   * before it (a peripheral edge at the timer's time comes first). False when nothing is pending.
   */
  runNext(): boolean {
    let best = -1;
    let bt = Infinity;
    for (let i = 0; i < MAX_TIMERS; i++) {
      if (this.timerOn[i] === 1 && this.timerAt[i] < bt) {
        bt = this.timerAt[i];
        best = i;
      }
    }
    this.runPeripheralsUntil(bt);
    if (best < 0) return false;
    this.timerOn[best] = 0;
    // A timer due while the CPU was busy (work charged past it) runs when the CPU is free: late.
    if (bt > this.now) this.now = bt;
    this.events++;
    this.timerFn[best]();
    return true;
  }

  /** Every peripheral edge due at or before t, in time order (the clock moves to each). */
  private runPeripheralsUntil(t: number): void {
    const ps = this.peripherals;
    if (ps.length === 0) return;
    for (;;) {
      let p = -1;
      let pt = Infinity;
      for (let i = 0; i < ps.length; i++) {
        const e = ps[i].nextEventUs();
        if (e < pt) {
          pt = e;
          p = i;
        }
      }
      if (p < 0 || pt > t) return;
      if (pt > this.now) this.now = pt;
      ps[p].runEvent();
    }
  }

  /**
   * Move the clock on to atUs while the CPU is busy (work charged by sim/chip/cpu.ts, a busy-wait):
   * peripheral edges due meanwhile happen at their own time; timers wait for runNext.
   */
  advanceTo(atUs: number): void {
    this.runPeripheralsUntil(atUs);
    if (atUs > this.now) this.now = atUs;
  }

  private checkPin(pin: number): void {
    if (!(pin >= 0 && pin < MAX_PINS && Math.floor(pin) === pin)) throw new RangeError(`pin ${pin} does not exist (0..${MAX_PINS - 1})`);
  }
}
