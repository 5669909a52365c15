/**
 * The Espruino API over the virtual microcontroller, as the app bundle sees it in node:vm: every
 * call the board's interpreter would serve is served here from sim/mcu.ts, with Espruino's own
 * behaviour where the firmware depends on it (clearTimeout of an id that is not pending throws;
 * timers take fractional ms; getTime() is seconds as a float; Storage read gives undefined for a
 * missing file). Timers: any number of setTimeout/setInterval, the earliest of them armed in one MCU
 * timer slot, so the discrete-event clock jumps from one to the next.
 */
import vm from 'node:vm';
import type { VirtualMcu } from '../mcu';
import { picoMath } from './espruino-math';
import { espruinoTimer } from './espruino-timer';

/** The functions the firmware calls once or more per step: timers, the clock, the pins. */
interface ShimCore {
  setTimeout(fn: () => void, ms: number): number;
  setInterval(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
  clearInterval(id: number): void;
  getTime(): number;
  pinMode(pin: number, mode: string): void;
  digitalWrite(pin: number, value: number): void;
  digitalRead(pin: number): number;
  digitalPulse(pin: number, value: number | boolean, ms: number): void;
}

/**
 * The per-step part of the shim as ES5 source, so that it can be compiled in the firmware's own
 * realm (ShimOptions.context): V8 never inlines a function of another realm, and the host-side
 * version of these calls (one setTimeout, one digitalPulse and one getTime per step, each a
 * cross-realm call boxing its float argument) cost more than the firmware itself.
 * Timer records are pooled: one step is one setTimeout, tens of millions per piece. While a
 * callback runs, the MCU slot is re-armed once after it, however many timers it set or cleared.
 */
const CORE_SOURCE = `(function (mcu, slot) {
  var MODES = { output: 0, input: 1, input_pullup: 2 };
  var timers = [];
  var pool = [];
  var nextId = 1;
  var firing = false;
  function noop() {}
  function toUs(ms) { return Math.max(0, Math.round(Number(ms) * 1000)); }
  function arm() {
    var n = timers.length;
    if (n === 0) { mcu.cancelTimer(slot); return; }
    var best = timers[0];
    for (var i = 1; i < n; i++) if (timers[i].at < best.at) best = timers[i];
    mcu.setTimer(slot, best.at, fire);
  }
  function release(k) {
    var t = timers[k];
    if (k === timers.length - 1) timers.pop();
    else timers.splice(k, 1);
    t.fn = noop;
    pool.push(t);
  }
  function fire() {
    // The earliest due timer (ties: the one created first, as Espruino's ordered timer list).
    var k = -1, now = mcu.now;
    for (var i = 0; i < timers.length; i++) if (timers[i].at <= now && (k < 0 || timers[i].at < timers[k].at)) k = i;
    if (k < 0) { arm(); return; }
    var t = timers[k], fn = t.fn;
    if (t.every > 0) t.at += t.every;
    else release(k);
    firing = true;
    try { fn(); } finally { firing = false; arm(); }
  }
  function add(fn, ms, every) {
    if (typeof fn !== 'function') throw new TypeError('setTimeout/setInterval: expected a function');
    var us = toUs(ms);
    var t = pool.length > 0 ? pool.pop() : { id: 0, at: 0, fn: noop, every: 0 };
    t.id = nextId++;
    t.at = mcu.now + us;
    t.fn = fn;
    t.every = every ? Math.max(1, us) : 0;
    timers.push(t);
    if (!firing) arm();
    return t.id;
  }
  function clear(id) {
    var k = timers.length - 1;
    while (k >= 0 && timers[k].id !== id) k--;
    if (k < 0) throw new Error('Unknown Timeout'); // Espruino throws on an id that is not pending
    release(k);
    if (!firing) arm();
  }
  return {
    setTimeout: function (fn, ms) { return add(fn, ms, false); },
    setInterval: function (fn, ms) { return add(fn, ms, true); },
    clearTimeout: clear,
    clearInterval: clear,
    getTime: function () { return mcu.now / 1e6; },
    pinMode: function (pin, mode) {
      var m = MODES.hasOwnProperty(mode) ? MODES[mode] : undefined;
      if (m === undefined) throw new Error('pinMode: mode ' + JSON.stringify(mode) + ' not modelled');
      mcu.pinMode(pin, m);
    },
    digitalWrite: function (pin, value) { mcu.write(pin, value ? 1 : 0); },
    digitalRead: function (pin) { return mcu.read(pin); },
    digitalPulse: function (pin, value, ms) {
      if (value !== 1 && value !== true) throw new Error('digitalPulse: only high pulses are modelled');
      if (typeof ms !== 'number') throw new Error('digitalPulse: pulse trains (arrays) are not modelled');
      mcu.pulse(pin, toUs(ms));
    }
  };
})`;

let coreScript: vm.Script | null = null;

function shimCore(mcu: VirtualMcu, slot: number, context: vm.Context | undefined): ShimCore {
  coreScript ??= new vm.Script(CORE_SOURCE, { filename: 'espruino-shim-core.js' });
  const make = (context ? coreScript.runInContext(context) : coreScript.runInThisContext()) as (m: VirtualMcu, s: number) => ShimCore;
  return make(mcu, slot);
}

/** Where the serial devices' traffic goes (the fake board in tests); absent: writes are dropped. */
export interface ShimSerialHooks {
  /** Bytes the firmware wrote to a device (USB, Serial1, LoopbackA). */
  write(device: string, bytes: number[]): void;
  /** The firmware moved the console (REPL) to a device. */
  console(device: string): void;
}

export interface EspruinoShim {
  /** Globals for vm.createContext. */
  globals: Record<string, unknown>;
  /** Storage files as the firmware left them, and how often each was written. */
  storage: Map<string, string>;
  storageWrites: Map<string, number>;
  log: string[];
  /** Run E.on(event) handlers, as the firmware does at boot for 'init'. */
  emit(event: string): void;
  /** Deliver received bytes to a device's 'data' handlers; false when it has none. */
  receive(device: string, data: string): boolean;
}

export interface ShimOptions {
  /** Keep at most this many printed lines (default 1000). */
  maxLog?: number;
  serial?: ShimSerialHooks;
  /** The board's Storage, when it outlives this interpreter (a fake board's reset()/load()). */
  storage?: Map<string, string>;
  /**
   * The context the firmware will run in, best made with vm.constants.DONT_CONTEXTIFY (an ordinary
   * global: a contextified one serves every global name through a C++ interceptor). The per-step
   * functions are then compiled in it. Default: they are compiled in the host's realm.
   */
  context?: vm.Context;
}

export function espruinoShim(mcu: VirtualMcu, slot: number, opts: ShimOptions = {}): EspruinoShim {
  const maxLog = opts.maxLog ?? 1000;
  const serial = opts.serial;
  const storage = opts.storage ?? new Map<string, string>();
  const storageWrites = new Map<string, number>();
  const log: string[] = [];
  const handlers: Record<string, (() => void)[]> = {};

  const print = (...args: unknown[]) => {
    log.push(`${(mcu.now / 1e6).toFixed(6)} ${args.map(String).join(' ')}`);
    if (log.length > maxLog) log.shift();
  };
  const Storage = {
    read(name: string) {
      return storage.get(name);
    },
    readJSON(name: string, noExceptions?: boolean) {
      const s = storage.get(name);
      if (s === undefined) return undefined;
      try {
        return JSON.parse(s);
      } catch (e) {
        if (noExceptions) return undefined;
        throw e;
      }
    },
    write(name: string, data: string, offset?: number, size?: number) {
      if (typeof name !== 'string' || name.length === 0 || name.length > 28) throw new Error(`Storage: invalid file name ${JSON.stringify(name)}`);
      const s = String(data);
      if (offset === undefined || offset === 0) storage.set(name, size === undefined ? s : s.padEnd(size, '\xff'));
      else {
        const cur = storage.get(name) ?? '';
        storage.set(name, cur.slice(0, offset) + s + cur.slice(offset + s.length));
      }
      storageWrites.set(name, (storageWrites.get(name) ?? 0) + 1);
      return true;
    },
    erase(name: string) {
      storage.delete(name);
    },
  };
  const dataHandlers: Record<string, ((d: string) => void)[]> = {};
  const device = (name: string) => ({
    setConsole() {
      serial?.console(name);
    },
    on(event: string, fn: (d: string) => void) {
      if (event === 'data') (dataHandlers[name] ??= []).push(fn);
    },
    removeAllListeners(event?: string) {
      if (event === undefined || event === 'data') dataHandlers[name] = [];
    },
    write(data: number[] | string) {
      const bytes = typeof data === 'string' ? Array.from(data, (c) => c.charCodeAt(0) & 255) : Array.from(data, (b) => b & 255);
      serial?.write(name, bytes);
    },
  });
  // require("timer") (2v29: EXEC tasks run the step routine's model), Pin.getInfo, E.getAddressOf
  const native = espruinoTimer(mcu);
  const globals: Record<string, unknown> = {
    USB: device('USB'),
    Serial1: device('Serial1'),
    LoopbackA: device('LoopbackA'),
    ...shimCore(mcu, slot, opts.context),
    // A Pico's sin, cos, atan and atan2 (SAVE_ON_FLASH_MATH Taylor series), not V8's: espruino-math.ts.
    Math: picoMath(),
    // Globals Espruino 2v29 does not have (asked in the Pico-like build): absent here too.
    Map: undefined,
    Set: undefined,
    WeakMap: undefined,
    WeakSet: undefined,
    Symbol: undefined,
    Proxy: undefined,
    Reflect: undefined,
    BigInt: undefined,
    RangeError: undefined,
    print,
    console: { log: print },
    atob: (b64: string) => Buffer.from(String(b64), 'base64').toString('latin1'),
    btoa: (bin: string) => Buffer.from(String(bin), 'latin1').toString('base64'),
    require: (name: string) => {
      if (name === 'Storage') return Storage;
      if (name === 'timer') return native.timer;
      throw new Error(`Module ${name} not found`);
    },
    E: {
      on(event: string, fn: () => void) {
        (handlers[event] ??= []).push(fn);
      },
      getAddressOf: native.getAddressOf,
    },
    Pin: native.Pin,
    process: native.process,
  };
  return {
    globals,
    storage,
    storageWrites,
    log,
    emit(event) {
      for (const fn of handlers[event] ?? []) fn();
    },
    receive(name, data) {
      const hs = dataHandlers[name] ?? [];
      for (const fn of hs) fn(data);
      return hs.length > 0;
    },
  };
}
