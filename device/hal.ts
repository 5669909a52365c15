/**
 * The hardware abstraction layer: the only thing a target (sim, Espruino, NodeMCU, ...) implements.
 * Everything the runtime does to the world goes through these calls, so the simulator can watch
 * every pin edge with its time. Contract details in docs/runtime.md ("HAL").
 */

export const PIN_OUTPUT = 0;
export const PIN_INPUT = 1;
export const PIN_INPUT_PULLUP = 2;

export interface Hal {
  /** Timer resolution in µs: step times are rounded to multiples of it. */
  tickUs: number;
  /** Configure a pin (PIN_OUTPUT, PIN_INPUT, PIN_INPUT_PULLUP). */
  pinMode(pin: number, mode: number): void;
  /** Drive an output: 0 = low, 1 = high. */
  write(pin: number, level: number): void;
  /** Read an input: 0 = low, 1 = high. */
  read(pin: number): number;
  /** One step pulse: rising edge now, falling edge widthUs later (the target decides how). */
  pulse(pin: number, widthUs: number): void;
  /** Free-running clock in µs (monotonic; may be a float on targets without a µs timer). */
  micros(): number;
  /**
   * Call fn once, delayUs µs from now (delayUs ≥ 0). One timer per runtime: a new call replaces a
   * pending one. fn runs outside any other runtime call (interrupt or event-loop context).
   */
  setTimer(delayUs: number, fn: () => void): void;
  cancelTimer(): void;
  /** Persistent storage for progress: a few small integers by name. read returns -1 when unset. */
  storageWrite(key: string, value: number): void;
  storageRead(key: string): number;
  /** One line of text to the operator / host (status changes, alarms). */
  print(line: string): void;
}
