/**
 * The Espruino API over the virtual microcontroller, as the app bundle sees it in node:vm: every
 * call the board's interpreter would serve is served here from sim/mcu.ts, with Espruino's own
 * behaviour where the firmware depends on it (clearTimeout of an id that is not pending throws;
 * timers take fractional ms; getTime() is seconds as a float; Storage read gives undefined for a
 * missing file). Timers: any number of setTimeout/setInterval, the earliest of them armed in one MCU
 * timer slot, so the discrete-event clock jumps from one to the next.
 */
import type { VirtualMcu } from '../mcu';

interface ShimTimer {
  id: number;
  at: number;
  fn: () => void;
  /** Interval period in µs, 0 for a timeout. */
  every: number;
}

const MODES: Record<string, number> = { output: 0, input: 1, input_pullup: 2 };

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
}

export function espruinoShim(mcu: VirtualMcu, slot: number, opts: ShimOptions = {}): EspruinoShim {
  const maxLog = opts.maxLog ?? 1000;
  const serial = opts.serial;
  const timers: ShimTimer[] = [];
  let nextId = 1;
  const storage = opts.storage ?? new Map<string, string>();
  const storageWrites = new Map<string, number>();
  const log: string[] = [];
  const handlers: Record<string, (() => void)[]> = {};

  const toUs = (ms: number) => Math.max(0, Math.round(Number(ms) * 1000));
  const arm = () => {
    let best: ShimTimer | null = null;
    for (const t of timers) if (!best || t.at < best.at) best = t;
    if (best) mcu.setTimer(slot, best.at, fire);
    else mcu.cancelTimer(slot);
  };
  const fire = () => {
    // The earliest due timer (ties: the one created first, as Espruino's ordered timer list).
    let k = -1;
    for (let i = 0; i < timers.length; i++) if (timers[i].at <= mcu.now && (k < 0 || timers[i].at < timers[k].at)) k = i;
    if (k >= 0) {
      const t = timers[k];
      if (t.every > 0) t.at += t.every;
      else timers.splice(k, 1);
      t.fn();
    }
    arm();
  };
  const add = (fn: () => void, ms: number, every: boolean) => {
    if (typeof fn !== 'function') throw new TypeError('setTimeout/setInterval: expected a function');
    const us = toUs(ms);
    const id = nextId++;
    timers.push({ id, at: mcu.now + us, fn, every: every ? Math.max(1, us) : 0 });
    arm();
    return id;
  };
  const clear = (id: number) => {
    const k = timers.findIndex((t) => t.id === id);
    if (k < 0) throw new Error('Unknown Timeout'); // Espruino throws on an id that is not pending
    timers.splice(k, 1);
    arm();
  };
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
  const globals: Record<string, unknown> = {
    USB: device('USB'),
    Serial1: device('Serial1'),
    LoopbackA: device('LoopbackA'),
    setTimeout: (fn: () => void, ms: number) => add(fn, ms, false),
    setInterval: (fn: () => void, ms: number) => add(fn, ms, true),
    clearTimeout: clear,
    clearInterval: clear,
    getTime: () => mcu.now / 1e6,
    pinMode: (pin: number, mode: string) => {
      const m = MODES[mode];
      if (m === undefined) throw new Error(`pinMode: mode ${JSON.stringify(mode)} not modelled`);
      mcu.pinMode(pin, m);
    },
    digitalWrite: (pin: number, value: number) => mcu.write(pin, value ? 1 : 0),
    digitalRead: (pin: number) => mcu.read(pin),
    digitalPulse: (pin: number, value: number | boolean, ms: number) => {
      if (value !== 1 && value !== true) throw new Error('digitalPulse: only high pulses are modelled');
      if (typeof ms !== 'number') throw new Error('digitalPulse: pulse trains (arrays) are not modelled');
      mcu.pulse(pin, toUs(ms));
    },
    print,
    console: { log: print },
    atob: (b64: string) => Buffer.from(String(b64), 'base64').toString('latin1'),
    btoa: (bin: string) => Buffer.from(String(bin), 'latin1').toString('base64'),
    require: (name: string) => {
      if (name === 'Storage') return Storage;
      throw new Error(`Module ${name} not found`);
    },
    E: {
      on(event: string, fn: () => void) {
        (handlers[event] ??= []).push(fn);
      },
    },
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
