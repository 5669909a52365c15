/**
 * The HAL over the Espruino API (docs/targets/espruino.md). Step pulses are digitalPulse: the
 * rising edge is written at once and the falling edge is timed by Espruino's utility timer (a
 * hardware timer), so the pulse width is exact whatever the interpreter is doing. The time between
 * steps comes from setTimeout, whose delay is a float in ms: Espruino schedules it on its system
 * clock with sub-millisecond resolution, but the callback runs from the event loop, so a step can be
 * late by the interpreter's work since the last one (see the step-rate ceiling in the docs).
 * Storage keeps each progress integer in its own small file; unchanged values are not rewritten.
 */
import { Hal, PIN_INPUT, PIN_INPUT_PULLUP, StepOutput } from '../hal';
import { EspruinoStepOutput } from './step-generator';

// Declared here rather than in espruino.d.ts: these names clash with Node's global types, and a
// module-local declaration shadows them.
declare function setTimeout(fn: () => void, ms: number): number;
declare function clearTimeout(id: number): void;
declare function require(name: string): EspruinoStorage;

/** Storage file of a progress key (Storage names are at most 28 characters). */
export function storageFile(key: string): string {
  return 'hl.' + key;
}

export class EspruinoHal implements Hal {
  /** Step times are computed in whole µs; Espruino's timers take fractional milliseconds. */
  tickUs = 1;
  /**
   * The native step routine run by require("timer") (step-generator.ts) where the firmware has it
   * (2v29+, an STM32 board with the RTC clock); else null: the runtime times each step through
   * setTimer (~50 steps/s on a Pico: docs/targets/espruino.md).
   */
  steps: StepOutput | null = EspruinoStepOutput.create();
  private timerId = -1;
  private timerFn: () => void = noop;
  private fire: () => void;
  private cache: { [key: string]: number } = {};

  constructor() {
    const self = this;
    this.fire = function () {
      // The timer has fired: Espruino's clearTimeout throws on an id that is no longer pending.
      self.timerId = -1;
      const fn = self.timerFn;
      self.timerFn = noop;
      fn();
    };
  }

  pinMode(pin: number, mode: number): void {
    pinMode(pin, mode === PIN_INPUT_PULLUP ? 'input_pullup' : mode === PIN_INPUT ? 'input' : 'output');
  }

  write(pin: number, level: number): void {
    digitalWrite(pin, level ? 1 : 0);
  }

  read(pin: number): number {
    return digitalRead(pin) ? 1 : 0;
  }

  pulse(pin: number, widthUs: number): void {
    digitalPulse(pin, 1, widthUs / 1000);
  }

  micros(): number {
    return Math.floor(getTime() * 1000000 + 0.5);
  }

  setTimer(delayUs: number, fn: () => void): void {
    if (this.timerId >= 0) clearTimeout(this.timerId);
    this.timerFn = fn;
    this.timerId = setTimeout(this.fire, delayUs / 1000);
  }

  cancelTimer(): void {
    if (this.timerId >= 0) clearTimeout(this.timerId);
    this.timerId = -1;
    this.timerFn = noop;
  }

  storageWrite(key: string, value: number): void {
    if (this.cache[key] === value) return;
    this.cache[key] = value;
    require('Storage').write(storageFile(key), '' + value);
  }

  storageRead(key: string): number {
    const s = require('Storage').read(storageFile(key));
    const v = s === undefined ? -1 : parseInt(s, 10);
    const r = v === v ? v : -1; // NaN (a damaged file) reads as unset
    this.cache[key] = r;
    return r;
  }

  print(line: string): void {
    print(line);
  }
}

function noop(): void {}
