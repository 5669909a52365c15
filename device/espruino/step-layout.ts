/**
 * The memory the step routine (device/espruino/step-routine.s) shares with JavaScript: a header and
 * one record per axis, each with a ring of segments, all 32-bit words (an Int32Array over a flat
 * string on the board). JavaScript writes the header, the pins' BSRR words, segments and the ring's
 * write index; the routine writes the rest. A segment is one constant-acceleration phase: its
 * start in the firmware's system-time units (the `now` the timer passes: 2^20 per second on STM32
 * boards with an RTC, the Pico among them; low 32 bits, compared by signed difference, so the
 * clock's wrap every 68 min on a Pico is harmless) and the DDA's state at that call in 0.32 fixed
 * point (P, V, A: step, steps per call, steps per call²), which the routine integrates exactly.
 * Pure functions over the words, shared by the board (step-generator.ts), the simulator's model of
 * the routine (sim/targets/espruino-step-model.ts) and the tests that run the real bytes on an ARM.
 */

/** Header words. */
export const H_AXES = 0;
export const H_STRIDE = 1;
export const H_MASK = 2;
export const H_NOW = 3;
export const H_CALLS = 4;
export const HEADER_WORDS = 6;

/** Axis record words (from the record's first word). */
export const A_STEP_BSRR = 0;
export const A_STEP_SET = 1;
export const A_STEP_CLR = 2;
export const A_DIR_BSRR = 3;
export const A_DIR_PLUS = 4;
export const A_DIR_MINUS = 5;
export const A_HIGH = 6;
export const A_POS = 7;
export const A_COUNT = 8;
export const A_DIR = 9;
/** P: the fraction of a step made (uint32, 0.32 fixed point). */
export const A_P = 10;
/** V: steps per call (uint32, 0.32). */
export const A_V = 11;
/** A: steps per call² (int32, 0.32, signed). */
export const A_ACC = 12;
/** 1 when a step is due but not made yet (the call could not step: pulse or DIR setup). */
export const A_PENDING = 13;
export const A_RD = 14;
export const A_WR = 15;
export const A_RING = 16;
/** Segment words: dir, count, start (units, low 32 bits), P0, V0, A, pending0, 0. */
export const S_DIR = 0;
export const S_COUNT = 1;
export const S_START = 2;
export const S_P = 3;
export const S_V = 4;
export const S_ACC = 5;
export const S_PENDING = 6;
export const SEG_WORDS = 8;

const TWO32 = 4294967296;

/** Words of state for `axes` axes with rings of `slots` (a power of two, ≤ 32) segments. */
export function stateWords(axes: number, slots: number): number {
  return HEADER_WORDS + axes * (A_RING + slots * SEG_WORDS);
}

/** First word of axis a's record. */
export function axisWord(mem: Int32Array, a: number): number {
  return HEADER_WORDS + a * (mem[H_STRIDE] >> 2);
}

/** A value as a signed 32-bit word (any finite integer-valued double, taken mod 2^32). */
export function int32(x: number): number {
  const m = x - TWO32 * Math.floor(x / TWO32);
  return m >= 2147483648 ? m - TWO32 : m;
}

/** Empty state for `axes` axes, rings of `slots` segments (clears every word). */
export function initState(mem: Int32Array, axes: number, slots: number): void {
  for (let i = 0; i < mem.length; i++) mem[i] = 0;
  mem[H_AXES] = axes;
  mem[H_STRIDE] = (A_RING + slots * SEG_WORDS) * 4;
  mem[H_MASK] = slots - 1;
}

/**
 * Axis a's pins: STEP and DIR as (BSRR address, bit); DIR is at plusLevel for +1 steps. A BSRR
 * word sets bit b with 1 << b and clears it with 1 << (b + 16).
 */
export function setAxisPins(mem: Int32Array, a: number, stepBsrr: number, stepBit: number, dirBsrr: number, dirBit: number, plusLevel: number): void {
  // (Int32Array stores wrap addresses and bit 31 to int32)
  const r = axisWord(mem, a);
  mem[r + A_STEP_BSRR] = stepBsrr;
  mem[r + A_STEP_SET] = 1 << stepBit;
  mem[r + A_STEP_CLR] = (1 << stepBit) * 65536;
  mem[r + A_DIR_BSRR] = dirBsrr;
  const on = 1 << dirBit;
  const off = on * 65536;
  mem[r + A_DIR_PLUS] = plusLevel ? on : off;
  mem[r + A_DIR_MINUS] = plusLevel ? off : on;
}

/** Restart every axis: no segments queued, no step pending, positions 0, DIR unknown. */
export function resetAxes(mem: Int32Array): void {
  for (let a = 0; a < mem[H_AXES]; a++) {
    const r = axisWord(mem, a);
    for (let k = A_HIGH; k < A_RING; k++) mem[r + k] = 0;
  }
}

/**
 * A word the routine may be writing, read until two reads agree: Espruino reads a typed array's
 * element byte by byte (src/jsvariterator.c), so a read across the interrupt's store could mix old
 * and new bytes (a count going 256 → 255 read as 0, a position 255 → 256 as 511). The routine
 * stores each word at most once per call, tens of µs apart.
 */
export function stableWord(mem: Int32Array, i: number): number {
  let v = mem[i];
  for (let w = mem[i]; w !== v; w = mem[i]) v = w;
  return v;
}

/**
 * Segments axis a can still take: the ring's mask + 1 slots less one (read == write means empty),
 * less those queued, less the one being made (so at most mask segments are ever held, as a queue
 * of mask segments that holds the running one too: sim/step-generator.ts's queueLength).
 */
export function freeSlots(mem: Int32Array, a: number): number {
  const r = axisWord(mem, a);
  const mask = mem[H_MASK];
  // (the read index stays < 256: one byte, never torn)
  return mask - ((mem[r + A_WR] - mem[r + A_RD]) & mask) - (stableWord(mem, r + A_COUNT) !== 0 ? 1 : 0);
}

/**
 * Queue one constant-acceleration phase on axis a: count steps in direction dir, taken by the routine
 * at its first call at or after `start` (units; only the low 32 bits are kept, so any unwrapped
 * time will do) and treated as if that call were `start`; at that call the axis' state is
 * P = p, V = v, pending = pending (0/1), and every later call adds acc to V, then V to P, a carry
 * out of P being a step due. p and v are uint32 values (0 ≤ x < 2^32), acc an int32: 0.32 fixed
 * point (steps, steps per call, steps per call²), already rounded by the caller. The write index
 * moves last, so the routine never sees a half-written segment (indices stay < 256: one byte
 * changes).
 */
export function pushPhase(mem: Int32Array, a: number, dir: number, count: number, start: number, p: number, v: number, acc: number, pending: number): void {
  const r = axisWord(mem, a);
  const w = mem[r + A_WR];
  const s = r + A_RING + w * SEG_WORDS;
  mem[s + S_DIR] = dir < 0 ? -1 : 1;
  mem[s + S_COUNT] = count;
  mem[s + S_START] = int32(Math.floor(start));
  // (an Int32Array store wraps a uint32 to its int32 bit pattern, in V8 and in Espruino)
  mem[s + S_P] = p;
  mem[s + S_V] = v;
  mem[s + S_ACC] = acc;
  mem[s + S_PENDING] = pending ? 1 : 0;
  mem[s + 7] = 0;
  mem[r + A_WR] = (w + 1) & mem[H_MASK];
}

/**
 * The routine's last call as [now (its low 32 bits, as int32), calls made since the state was
 * initialised]; [0, 0] before the first. The interrupt may store between reads (and Espruino reads
 * a word byte by byte), so calls is read before and after now until it has not changed.
 */
export function lastCall(mem: Int32Array): number[] {
  let calls = mem[H_CALLS];
  for (;;) {
    const now = mem[H_NOW];
    const again = mem[H_CALLS];
    if (again === calls) return [now, calls];
    calls = again;
  }
}

/** Signed steps axis a has made since resetAxes. */
export function axisPosition(mem: Int32Array, a: number): number {
  return stableWord(mem, axisWord(mem, a) + A_POS);
}
