/**
 * Math as an Espruino Pico computes it. The Pico's firmware is built with SAVE_ON_FLASH_MATH
 * (boards/PICO_R1_3.py), which replaces libm's sin, cos, atan and atan2 by short Taylor series
 * (src/jswrap_math.c at c5ff787b, ported here operation for operation, so the doubles are the same
 * bits): sin sums 10 terms after folding x into [0, π/2] (its factorial is an unsigned 32-bit int
 * that wraps from 13! on: errors ~1e-6), cos(x) is sin(x + π/2), atan sums 20 terms of x or 1/x
 * (errors up to ~0.02 rad near ±1), atan2 is atan(y/x) with quadrant fixes and NaN at (0, 0).
 * The device's wrap geometry (hook positions, arc angles, arc points) goes through these, so a
 * waypoint can round to a step next to the one the host computes; the real interpreter
 * (test/espruino-real.test.ts) steps exactly as this shim does, not as V8 does.
 * Every other Math function is the standard one (Espruino's are libm's).
 */

/** Espruino's PI (src/jsutils.h). */
const PI = 3.141592653589793;

export function espruinoSin(x: number): number {
  if (x < 0) x = PI - x;
  const xi = Math.trunc(x / PI); // (int)(x/PI)
  x -= xi * PI;
  if (x > PI / 2) x = PI - x;
  let r = x;
  const x2 = x * x;
  let xpow = x;
  let factorial = 1; // unsigned int: wraps modulo 2^32
  for (let i = 1; i < 10; i++) {
    xpow = xpow * x2;
    factorial = Math.imul(factorial, i * 2 * (i * 2 + 1)) >>> 0;
    const term = xpow / factorial;
    if (i & 1) r -= term;
    else r += term;
  }
  if (xi & 1) r = -r;
  return r;
}

export function espruinoCos(x: number): number {
  return espruinoSin(x + PI / 2);
}

export function espruinoAtan(x: number): number {
  let negate = false;
  let offset = false;
  if (x < 0) {
    x = -x;
    negate = true;
  }
  if (x > 1) {
    x = 1 / x;
    offset = true;
  }
  let r = x;
  const x2 = x * x;
  let xpow = x;
  for (let i = 1; i < 20; i++) {
    xpow = xpow * x2;
    const term = xpow / (i * 2 + 1);
    if (i & 1) r -= term;
    else r += term;
  }
  if (offset) r = PI / 2 - r;
  if (negate) r = -r;
  return r;
}

export function espruinoAtan2(y: number, x: number): number {
  if (x > 0) return espruinoAtan(y / x);
  if (x < 0) return y >= 0 ? espruinoAtan(y / x) + PI : espruinoAtan(y / x) - PI;
  if (y > 0) return PI / 2;
  if (y < 0) return -PI / 2;
  return NaN;
}

/** Math functions Espruino 2v29 does not have (asked in the Pico-like build; scripts/build-device.mjs rejects them too). */
export const ESPRUINO_MISSING_MATH = ['trunc', 'log2', 'log10', 'hypot', 'cbrt', 'imul', 'clz32', 'fround', 'expm1', 'log1p', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh'];

/** A Math object for the app's realm: the standard one with the Pico's sin, cos, atan and atan2, without what Espruino lacks. */
export function picoMath(): Math {
  const m = Object.create(null) as Record<string, unknown>;
  for (const k of Object.getOwnPropertyNames(Math)) if (!ESPRUINO_MISSING_MATH.includes(k)) m[k] = (Math as unknown as Record<string, unknown>)[k];
  m.sin = espruinoSin;
  m.cos = espruinoCos;
  m.atan = espruinoAtan;
  m.atan2 = espruinoAtan2;
  return m as unknown as Math;
}
