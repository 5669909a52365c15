/**
 * NodeMCU's `rmt` module (ESP32) for the simulator's NodeMCU shim, as components/modules/rmt.c of
 * nodemcu-firmware (dev-esp32 branch, 7c5bb15) and the ESP-IDF legacy RMT driver it calls do it,
 * driving VirtualMcu pins as a Peripheral:
 * - rmt.txsetup(gpio, bittime_ps[, {idle_level, slots, invert}]): divisor = bittime / 12 500
 *   (integer division; 1..255 else "Bit time out of range"), a tick of divisor / 80 µs; one of the
 *   ESP32's 8 channels per call ("no spare RMT channel"; slots 1..8 memory blocks of 64 items, which
 *   the driver refills from the string while sending, so they do not bound a send's length).
 *   Returns the channel and divisor × 12 500. The pin shows idle_level (default 0) from then on,
 *   and stays routed to the RMT (gpio.write has no effect on it) until gpio.config takes it back.
 * - channel:send(data[, cb]): data a string of 16-bit little-endian items (bit 15 the level, bits
 *   0-14 the duration in ticks; a zero duration ends the train), odd lengths rejected ("Length
 *   must be a multiple of 2"). rmt_write_items takes the channel's TX semaphore first, which the
 *   previous transmission holds until its end interrupt: a send on a busy channel blocks the Lua
 *   task until then; the transmission starts RESTART_US after (semaphore hand-off, filling the
 *   channel memory: an estimate), or START_US after the call on an idle channel. With a callback
 *   the call returns once started; without one it returns when the transmission ends. After the
 *   last item the pin goes to idle_level.
 * - channel:close(): uninstalls the driver; the train stops, the pin holds idle_level.
 * The callback (a FreeRTOS task waiting for the end, then a posted Lua task) is not called here.
 *
 * A TX channel that ran dry (its transmission ended) and is then sent more before close() had a
 * gap in its pulse train: the firmware simply idles, so the simulator reports it as a 'late-step'
 * problem (the NodeMCU step output keeps every channel busy from start to stop; any gap means Lua
 * fell behind).
 */
import fengari from 'fengari';
import type { Peripheral, VirtualMcu } from '../mcu';

const { lua, lauxlib, to_luastring } = fengari;

export const RMT_CHANNELS = 8;
/** The timing error of a step under the RMT output (µs): the stepper's 2 µs fit plus the 1 µs tick. */
export const RMT_STEP_JITTER_US = 3;
/** Estimates (not measured; see the file comment). */
export const START_US = 5;
export const RESTART_US = 12;

interface Channel {
  gpio: number;
  tickUs: number;
  idle: number;
  /** Items of the running train: levels and durations (ticks); index of the next edge. */
  levels: number[];
  ticks: number[];
  next: number;
  /** MCU µs of the next edge (Infinity when idle) and of the train's end. */
  nextAt: number;
  endAt: number;
  busy: boolean;
  /** When the last train ended (−1: no train since setup). */
  dryAt: number;
  open: boolean;
}

export class Rmt implements Peripheral {
  sends = 0;
  items = 0;
  gaps = 0;
  /** Time Lua spent blocked in send (µs). */
  blockedUs = 0;
  private ch: (Channel | null)[] = [];
  private owned = new Map<number, Channel>();

  /** block(us): the Lua task waits that long (the MCU runs its peripherals meanwhile). */
  constructor(private mcu: VirtualMcu, private block: (us: number) => void) {
    for (let i = 0; i < RMT_CHANNELS; i++) this.ch.push(null);
    mcu.addPeripheral(this);
  }

  /** Whether a pin is routed to an RMT channel (gpio.write does not reach it). */
  ownsPin(pin: number): boolean {
    return this.owned.has(pin);
  }

  /** gpio.config on a pin takes it back from the RMT. */
  releasePin(pin: number): void {
    this.owned.delete(pin);
  }

  nextEventUs(): number {
    let t = Infinity;
    for (const c of this.ch) if (c && c.busy && c.nextAt < t) t = c.nextAt;
    return t;
  }

  runEvent(): void {
    let best: Channel | null = null;
    for (const c of this.ch) if (c && c.busy && (!best || c.nextAt < best.nextAt)) best = c;
    if (!best) return;
    this.edge(best);
  }

  private edge(c: Channel): void {
    if (c.next >= c.levels.length) {
      // The end: idle level.
      c.busy = false;
      c.nextAt = Infinity;
      c.dryAt = c.endAt;
      this.out(c, c.idle);
      return;
    }
    this.out(c, c.levels[c.next]);
    c.nextAt += c.ticks[c.next] * c.tickUs;
    c.next++;
  }

  private out(c: Channel, level: number): void {
    if (this.owned.get(c.gpio) === c) this.mcu.write(c.gpio, level);
  }

  txsetup(gpio: number, bittimePs: number, idle: number, slots: number): [number, number] {
    // rmt_config rejects a GPIO that cannot output (ESP32: 0..33).
    if (!(gpio >= 0 && gpio <= 33)) throw new Error('Failed to configure RMT');
    const divisor = Math.trunc(bittimePs / 12500);
    if (!(divisor >= 1 && divisor <= 255)) throw new Error('bad argument #2 (Bit time out of range)');
    // platform_rmt_allocate: `slots` consecutive free channels, from the top.
    let id = -1;
    for (let c = RMT_CHANNELS - 1; c >= slots - 1; c--) {
      let ok = true;
      for (let k = 0; k < slots; k++) if (this.ch[c - k]) ok = false;
      if (ok) {
        id = c - slots + 1;
        break;
      }
    }
    if (id < 0) throw new Error('no spare RMT channel');
    const ch: Channel = { gpio, tickUs: divisor / 80, idle, levels: [], ticks: [], next: 0, nextAt: Infinity, endAt: 0, busy: false, dryAt: -1, open: true };
    for (let k = 0; k < slots; k++) this.ch[id + k] = ch;
    this.owned.set(gpio, ch);
    this.mcu.write(gpio, idle);
    return [id, divisor * 12500];
  }

  send(id: number, data: Uint8Array, wait: boolean): void {
    const c = this.ch[id];
    if (!c || !c.open) throw new Error('channel closed');
    if (data.length === 0) return;
    if (data.length & 1) throw new Error('Length must be a multiple of 2');
    this.sends++;
    let start: number;
    if (c.busy) {
      // rmt_write_items waits for the TX semaphore: the Lua task is blocked until the running train
      // ends (its end edge runs meanwhile), then the new one starts after the hand-off.
      const t = c.endAt - this.mcu.now;
      this.blockedUs += t;
      this.block(t);
      start = c.endAt + RESTART_US;
    } else {
      if (c.dryAt >= 0 && this.mcu.now > c.dryAt) {
        this.gaps++;
        this.mcu.problem('late-step', `rmt channel ${id} (GPIO ${c.gpio}) ran dry ${((this.mcu.now - c.dryAt) / 1000).toFixed(3)} ms before its next send: a gap in its pulse train`);
      }
      start = this.mcu.now + START_US;
    }
    const levels: number[] = [];
    const ticks: number[] = [];
    for (let i = 0; i + 1 < data.length; i += 2) {
      const v = data[i] | (data[i + 1] << 8);
      const d = v & 0x7fff;
      if (d === 0) break;
      levels.push(v >> 15);
      ticks.push(d);
    }
    this.items += levels.length;
    let total = 0;
    for (const d of ticks) total += d;
    c.levels = levels;
    c.ticks = ticks;
    c.next = 0;
    c.nextAt = start;
    c.endAt = start + total * c.tickUs;
    c.busy = true;
    c.dryAt = -1;
    this.block(start - this.mcu.now);
    if (wait) this.block(c.endAt - this.mcu.now);
  }

  /** Whether any channel is set up (the step output runs: from its start() to its stop()). */
  inUse(): boolean {
    return this.ch.some((c) => c !== null && c.open);
  }

  close(id: number): void {
    const c = this.ch[id];
    if (!c || !c.open) return;
    c.busy = false;
    c.nextAt = Infinity;
    c.open = false;
    this.out(c, c.idle);
    for (let k = 0; k < RMT_CHANNELS; k++) if (this.ch[k] === c) this.ch[k] = null;
  }
}

/** Install `rmt` into the shim's Lua state: txsetup returns a table whose methods are these functions. */
export function installRmt(
  L: unknown,
  fn: (name: string, f: () => number) => void,
  check: (status: number, what: string) => void,
  r: Rmt,
  cCall: () => void = () => {},
): void {
  const l = L as Parameters<typeof lua.lua_next>[0];
  const guard = (f: () => number) => () => {
    cCall();
    try {
      return f();
    } catch (e) {
      lauxlib.luaL_error(l, to_luastring((e as Error).message));
      return 0;
    }
  };
  const idOf = () => {
    lua.lua_getfield(l, 1, to_luastring('__ch'));
    const id = lua.lua_tointeger(l, -1);
    lua.lua_pop(l, 1);
    return id;
  };
  fn('__rmt_txsetup', guard(() => {
    const gpio = lua.lua_tointeger(l, 1);
    const bittime = lua.lua_tointeger(l, 2);
    let idle = 0;
    let slots = 1;
    if (lua.lua_type(l, 3) === lua.LUA_TTABLE) {
      lua.lua_getfield(l, 3, to_luastring('idle_level'));
      if (!lua.lua_isnil(l, -1)) idle = lua.lua_tointeger(l, -1) ? 1 : 0;
      lua.lua_pop(l, 1);
      lua.lua_getfield(l, 3, to_luastring('slots'));
      const s = lua.lua_tointeger(l, -1);
      if (s > 0 && s <= 8) slots = s;
      lua.lua_pop(l, 1);
    }
    const [id, bt] = r.txsetup(gpio, bittime, idle, slots);
    lua.lua_pushinteger(l, id);
    lua.lua_pushinteger(l, bt);
    return 2;
  }));
  fn('__rmt_send', guard(() => {
    if (lua.lua_type(l, 2) !== lua.LUA_TSTRING) throw new Error('bad argument #2 (string expected)');
    const data = lua.lua_tolstring(l, 2) as Uint8Array;
    r.send(idOf(), Uint8Array.from(data), lua.lua_type(l, 3) !== lua.LUA_TFUNCTION);
    return 0;
  }));
  fn('__rmt_close', guard(() => {
    r.close(idOf());
    return 0;
  }));
  check(lauxlib.luaL_dostring(l, to_luastring(`
    local C = { send = __rmt_send, close = __rmt_close }
    local meta = { __index = C }
    rmt = { txsetup = function(gpio, bittime, opts)
      local id, bt = __rmt_txsetup(gpio, bittime, opts)
      return setmetatable({ __ch = id }, meta), bt
    end }
  `)), 'rmt');
}

