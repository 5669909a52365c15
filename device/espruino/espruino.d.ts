/**
 * The Espruino globals the hookline app uses (https://www.espruino.com/Reference), declared for the
 * device build (tsc ES5, lib ES5, no other types). Only names that do not clash with Node's types
 * live here, because the host type-check (tsconfig.json) sees this file too: setTimeout,
 * clearTimeout and require are declared module-locally where they are used (hal.ts, main.ts).
 */

/** A serial device (USB, Serial1, LoopbackA, …). */
interface EspruinoSerial {
  /** Make this device the JavaScript console (REPL); force = keep it there when USB connects. */
  setConsole(force?: boolean): void;
  /** Received bytes arrive as a string of char codes 0..255. */
  on(event: 'data', fn: (data: string) => void): void;
  removeAllListeners(event?: string): void;
  /** Bytes to send (an array of numbers 0..255, or a string). */
  write(data: number[] | string): void;
}

/** require('Storage'): the flash file system (files up to 28-character names). */
interface EspruinoStorage {
  /** The file's contents, or undefined when it does not exist. */
  read(name: string): string | undefined;
  /** Parsed JSON, or undefined (noExceptions) when missing or invalid. */
  readJSON(name: string, noExceptions: boolean): unknown;
  write(name: string, data: string, offset?: number, size?: number): boolean;
  erase(name: string): void;
}

/** 'output', 'input', 'input_pullup', … */
declare function pinMode(pin: number, mode: string): void;
declare function digitalWrite(pin: number, value: number): void;
declare function digitalRead(pin: number): number;
/** value for timeMs milliseconds (a float), then the opposite level; timed by the utility (hardware) timer, returns at once. */
declare function digitalPulse(pin: number, value: number, timeMs: number): void;
/** Seconds since power-on (a float). */
declare function getTime(): number;
/** One line to the console device. */
declare function print(text: string): void;

interface EspruinoE {
  /** 'init' handlers run after the code in Storage .bootcde has been executed at boot. */
  on(event: string, fn: () => void): void;
  /** With flat = true: the address of a flat string's / flat ArrayBuffer's data, 0 when it is not flat. */
  getAddressOf(v: unknown, flat: boolean): number;
}
/** A pin of the board (numbers index the board's pin list). */
declare class Pin {
  constructor(pin: number);
  /** port, num, out_addr (STM32: the bit-band alias of the output bit), …; undefined for an invalid pin. */
  getInfo(): unknown;
}
declare const E: EspruinoE;
/** The Pico's USB CDC port (undefined on boards without native USB, e.g. ESP32). */
declare const USB: EspruinoSerial | undefined;
declare const Serial1: EspruinoSerial;
/** One end of the software loopback: the console moves here while the link holds the real port. */
declare const LoopbackA: EspruinoSerial;
