/**
 * NodeMCU's gpio.pulse (ESP8266) for the simulator's NodeMCU shim, as app/modules/gpio_pulse.c of
 * nodemcu-firmware (release branch, 36cbf9f) does it, driving VirtualMcu pins as a Peripheral:
 * - gpio.pulse.build(t): at most 100 entries ("table is too large"); an entry's numeric keys set
 *   bits in its set/clear masks (pins 0..12), delay/min/max in 0..64 000 000 µs, count, loop;
 *   min/max require min ≤ delay ≤ max.
 * - p:update(n, t) copies entry n and applies t to the copy, so pins are OR-ed into the existing
 *   masks (a pin once set and once cleared ends low); the running entry's delay and goto were
 *   taken when it started.
 * - The interrupt (gpio_pulse_timeout): reads system_get_time once, then per entry writes the set
 *   mask then the clear mask, steps the loop counter (count_left: count + 1 on arrival at 0, then
 *   −1; goto while ≥ 1), computes the delay (min/max: minus the lateness against
 *   desired_end_time, plus next_adjust, clamped; a clamp carries (delay − min|max) + adjust on),
 *   and runs the next entry at once while the delay is < 3 µs; delays over 1.2 s are cut in 1 s
 *   pieces. Past the last entry the timer closes and the callback is posted.
 * - p:start([adjust,] cb) runs the interrupt routine at once (no interrupt latency);
 *   desired_end_time is NOT reset (it keeps the last run's value, 0 after build).
 * - getstate/adjust/cancel return (entry + 1 or nil, steps, offset to the next transition, now).
 * Timing: the FRC1 timer fires `delay` µs after it was armed (µs × 5 ticks of 200 ns); the
 * interrupt's own time is an estimate (LATENCY below), charged on every entry, as on the chip.
 *
 * What the firmware does when Lua is late is what happens here; two of its outcomes are reported
 * as 'late-step' problems (the simulator's judgement, not the firmware's): an update() of the entry
 * that is running (it only affects that entry's next run), and an adjustable delay clamped by more
 * than CLAMP_TOLERANCE_US (the program fell behind its own schedule and the firmware dropped the
 * difference, or a start() was given lateness it could not absorb).
 */
import fengari from 'fengari';
import type { Peripheral, VirtualMcu } from '../mcu';

const { lua, lauxlib, to_luastring, to_jsstring } = fengari;

/** gpio_pulse.c limits. */
export const GPIO_PULSE_MAX_ENTRIES = 100;
export const GPIO_PULSE_DELAY_LIMIT = 64000000;
/** ESP8266 NodeMCU pins 0..12 (GPIO_PIN_NUM). */
export const GPIO_PIN_NUM = 13;
/**
 * Estimated interrupt timing on an 80 MHz ESP8266 (not measured: ~100-400 instructions of the
 * SDK's interrupt entry, hw_timer_isr_cb, gpio_pulse_timeout and platform_hw_timer_arm_us):
 * µs from the timer's expiry to system_get_time(), to the pin writes, to re-arming the timer, and
 * per further entry run in the same interrupt.
 */
export const LATENCY = { nowUs: 1, pinUs: 1.5, armUs: 4, loopUs: 0.4 };
/**
 * The timing error of a step under gpio.pulse with device/nodemcu/steps-pulse.ts (µs): a step
 * that coincides with steps of both other axes waits for their events, each up to a DIR stage
 * (3 µs), the pulse (3 µs) and the gap after a turn (18 µs): 2 × 24. Seen in the simulator: up to
 * 22 µs on ref-gantry, 39.4 µs with three axes starting at once (fast-check).
 */
export const PULSE_STEP_JITTER_US = 48;
/** A clamp of an adjustable delay by more than this is reported. */
export const CLAMP_TOLERANCE_US = 2;

interface Entry {
  set: number;
  clr: number;
  delay: number;
  min: number;
  max: number;
  count: number;
  countLeft: number;
  loop: number;
}

interface Program {
  id: number;
  entries: Entry[];
  steps: number;
  entryPos: number;
  activePos: number;
  stopPos: number;
  expectedEnd: number;
  desiredEnd: number;
  nextAdjust: number;
  pendingDelay: number;
  /** Adjustable stages run since start(): the first finds desired_end_time stale (start() keeps it). */
  adjusted: number;
}

const MASK31 = 0x7fffffff;
const sext31 = (v: number) => ((v & MASK31) << 1) >> 1;

/** Hooks from the NodeMCU shim: posting the completion callback, charging a C call (chip model). */
export interface GpioPulseHooks {
  /** Run Lua global fnName(id, ...) as a posted task (the firmware's platform_post_low). */
  post(fnName: string, id: number): void;
  cCall?(): void;
}

export class GpioPulse implements Peripheral {
  /** Statistics for tests and docs. */
  updates = 0;
  entriesRun = 0;
  lateUpdates = 0;
  clamps = 0;
  private programs: Program[] = [];
  private active: Program | null = null;
  /** When the hardware timer expires (MCU µs), Infinity when closed. */
  private fireAt = Infinity;

  constructor(private mcu: VirtualMcu, private hooks: GpioPulseHooks) {
    mcu.addPeripheral(this);
  }

  private sysNow(t: number): number {
    return Math.floor(t) & MASK31;
  }

  nextEventUs(): number {
    return this.fireAt === Infinity ? Infinity : this.fireAt + LATENCY.pinUs;
  }

  runEvent(): void {
    const t = this.fireAt;
    this.fireAt = Infinity;
    this.timeout(t, false);
  }

  /** gpio_pulse_timeout: t is when the timer expired (or the start() call's time, sync). */
  private timeout(t: number, sync: boolean): void {
    const p = this.active;
    if (!p) return;
    const now = this.sysNow(sync ? t : t + LATENCY.nowUs);
    let at = sync ? t : t + LATENCY.pinUs;
    const armBase = sync ? t + LATENCY.armUs - LATENCY.pinUs : t + LATENCY.armUs;
    let delay: number;
    if (p.pendingDelay > 0) {
      delay = p.pendingDelay;
      if (delay > 1200000) delay = 1000000;
      p.pendingDelay -= delay;
      this.fireAt = armBase + delay;
      return;
    }
    let runs = 0;
    do {
      p.activePos = p.entryPos;
      if (p.entryPos >= p.entries.length) {
        p.steps++;
        this.finish(p);
        return;
      }
      p.steps++;
      this.entriesRun++;
      const e = p.entries[p.entryPos];
      if (at > this.mcu.now) this.mcu.now = at;
      for (let pin = 0; pin < GPIO_PIN_NUM; pin++) if (e.set & (1 << pin)) this.mcu.write(pin, 1);
      for (let pin = 0; pin < GPIO_PIN_NUM; pin++) if (e.clr & (1 << pin)) this.mcu.write(pin, 0);
      if (p.stopPos === -2 || p.stopPos === p.entryPos) {
        this.finish(p);
        return;
      }
      if (e.loop) {
        if (e.countLeft === 0) e.countLeft = (e.count + 1) >>> 0;
        e.countLeft = (e.countLeft - 1) >>> 0;
        if (e.countLeft >= 1) p.entryPos = e.loop - 1;
        else p.entryPos++;
      } else p.entryPos++;
      delay = e.delay;
      let delayOffset = 0;
      if (e.min !== -1) {
        p.adjusted++;
        const offset = p.nextAdjust;
        p.nextAdjust = 0;
        delayOffset = sext31(now - p.desiredEnd);
        delay -= delayOffset;
        delay += offset;
        if (delay < e.min) {
          this.clampProblem(p, e.min - delay, 'behind');
          p.nextAdjust = e.delay - e.min + offset;
          delay = e.min;
        } else if (delay > e.max) {
          this.clampProblem(p, delay - e.max, 'ahead of');
          p.nextAdjust = e.delay - e.max + offset;
          delay = e.max;
        }
      }
      p.desiredEnd = (p.desiredEnd + delay + delayOffset) & MASK31;
      p.expectedEnd = (this.sysNow(at) + delay) & MASK31;
      at += LATENCY.loopUs;
      runs++;
    } while (delay < 3);
    if (delay > 1200000) {
      p.pendingDelay = delay - 1000000;
      delay = 1000000;
    }
    this.fireAt = armBase + (runs - 1) * LATENCY.loopUs + delay;
  }

  private clampProblem(p: Program, us: number, how: string): void {
    this.clamps++;
    // The first adjustable stage after start() compares with a stale desired_end_time: its clamp
    // re-anchors the schedule (what a {delay = 0, min = 0, max = 0} stage is for), nothing is lost.
    if (p.adjusted > 1 && us > CLAMP_TOLERANCE_US) {
      this.mcu.problem('late-step', `gpio.pulse: stage ${p.activePos + 1} ran ${us.toFixed(1)} µs ${how} the program's schedule (its delay was clamped to its ${how === 'behind' ? 'min' : 'max'}; the firmware drops the difference)`);
    }
  }

  private finish(p: Program): void {
    this.fireAt = Infinity;
    this.active = null;
    this.hooks.post('__gpio_pulse_done', p.id);
  }

  /** getstate's four values. */
  private state(p: Program): [number | null, number, number, number] {
    const now = this.sysNow(this.mcu.now);
    return [p.activePos >= p.entries.length ? null : p.activePos + 1, p.steps, sext31(p.expectedEnd - now), now];
  }

  // ---- the Lua API (registered by install) ----

  build(entries: Entry[]): number {
    if (entries.length > GPIO_PULSE_MAX_ENTRIES) throw new Error(`table is too large: ${entries.length} entries is more than 100`);
    const p: Program = {
      id: this.programs.length, entries, steps: 0, entryPos: 0, activePos: 0, stopPos: -1,
      expectedEnd: 0, desiredEnd: 0, nextAdjust: 0, pendingDelay: 0, adjusted: 0,
    };
    this.programs.push(p);
    return p.id;
  }

  start(id: number, adjust: number): void {
    const p = this.programs[id];
    if (this.active) throw new Error('pulse operation already in progress');
    this.active = p;
    for (const e of p.entries) e.countLeft = 0;
    p.entryPos = 0;
    p.activePos = 0;
    p.steps = 0;
    p.stopPos = -1;
    p.nextAdjust = adjust;
    p.pendingDelay = 0;
    p.adjusted = 0;
    p.expectedEnd = this.sysNow(this.mcu.now);
    this.timeout(this.mcu.now, true);
  }

  update(id: number, n: number, patch: (e: Entry) => void): void {
    const p = this.programs[id];
    if (n < 1 || n > p.entries.length) throw new Error(`entry number must be in range 1 .. ${p.entries.length}`);
    const e = { ...p.entries[n - 1] };
    patch(e);
    this.updates++;
    if (this.active === p && p.activePos === n - 1) {
      this.lateUpdates++;
      this.mcu.problem('late-step', `gpio.pulse: stage ${n} updated while it runs (the firmware took its delay and goto when it started: the update only applies to its next run)`);
    }
    p.entries[n - 1] = e;
  }

  getstate(id: number): [number | null, number, number, number] {
    return this.state(this.programs[id]);
  }

  adjust(id: number, offset: number): [number | null, number, number, number] | null {
    const p = this.programs[id];
    if (this.active !== p) return null;
    p.nextAdjust = offset;
    return this.state(p);
  }

  cancel(id: number): [number | null, number, number, number] | null {
    const p = this.programs[id];
    if (this.active !== p) return null;
    this.fireAt = Infinity;
    const s = this.state(p);
    this.active = null;
    return s;
  }

  stop(id: number, pos: number): boolean {
    const p = this.programs[id];
    if (this.active !== p) return false;
    if (pos !== -2 && (pos < 1 || pos > p.entries.length)) throw new Error(`bad stop position: ${pos} (valid range 1 - ${p.entries.length})`);
    p.stopPos = pos === -2 ? -2 : pos - 1;
    return true;
  }
}

/** fill_entry_from_table, on the Lua table at stack index idx, into e (pins OR-ed in). */
function fillEntry(L: unknown, idx: number, e: Entry): void {
  const l = L as Parameters<typeof lua.lua_next>[0];
  if (lua.lua_type(l, idx) !== lua.LUA_TTABLE) throw new Error('All entries must be tables');
  const limit = (v: number, what: string) => {
    if (v < 0 || v > GPIO_PULSE_DELAY_LIMIT) throw new Error(`${what} of ${v} must be in the range 0 .. ${GPIO_PULSE_DELAY_LIMIT} microseconds`);
    return v;
  };
  const int = (i: number) => {
    if (!lua.lua_isnumber(l, i)) throw new Error('number expected');
    return Math.trunc(lua.lua_tonumber(l, i));
  };
  const abs = lua.lua_absindex(l, idx);
  lua.lua_pushnil(l);
  while (lua.lua_next(l, abs) !== 0) {
    if (lua.lua_type(l, -2) === lua.LUA_TNUMBER) {
      const pin = int(-2);
      const value = int(-1);
      if (pin < 0 || pin >= GPIO_PIN_NUM) throw new Error(`pin number ${pin} must be in range 0 .. ${GPIO_PIN_NUM - 1}`);
      if (value) e.set |= 1 << pin;
      else e.clr |= 1 << pin;
    } else {
      const key = to_jsstring(lua.lua_tostring(l, -2));
      if (key === 'delay') e.delay = limit(int(-1), 'delay');
      else if (key === 'min') e.min = limit(int(-1), 'delay minimum');
      else if (key === 'max') e.max = limit(int(-1), 'delay maximum');
      else if (key === 'count') e.count = int(-1) >>> 0;
      else if (key === 'loop') e.loop = int(-1) & 0xffff;
      else throw new Error(`Unrecognized key found: ${key}`);
    }
    lua.lua_pop(l, 1);
  }
  if (e.min !== -1 || e.max !== -1) {
    if (e.min === -1) e.min = 0;
    if (e.min > e.delay || e.max < e.delay) throw new Error(`Delay of ${e.delay} must be between min and max`);
  }
}

/**
 * Install gpio.pulse into the shim's Lua state (gpio must exist): build returns a table whose
 * methods are these JavaScript functions (C functions on the chip).
 */
export function installGpioPulse(
  L: unknown,
  fn: (name: string, f: () => number) => void,
  check: (status: number, what: string) => void,
  gp: GpioPulse,
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
    lua.lua_getfield(l, 1, to_luastring('__id'));
    const id = lua.lua_tointeger(l, -1);
    lua.lua_pop(l, 1);
    return id;
  };
  const pushState = (s: [number | null, number, number, number] | null) => {
    if (!s) return 0;
    if (s[0] === null) lua.lua_pushnil(l);
    else lua.lua_pushinteger(l, s[0]);
    lua.lua_pushinteger(l, s[1]);
    lua.lua_pushinteger(l, s[2]);
    lua.lua_pushinteger(l, s[3]);
    return 4;
  };
  fn('__gpio_pulse_build', guard(() => {
    if (lua.lua_type(l, 1) !== lua.LUA_TTABLE) throw new Error('bad argument #1 (table expected)');
    const n = lua.lua_rawlen(l, 1);
    if (n > GPIO_PULSE_MAX_ENTRIES) throw new Error(`table is too large: ${n} entries is more than 100`);
    const entries: Entry[] = [];
    for (let i = 1; i <= n; i++) {
      const e: Entry = { set: 0, clr: 0, delay: 0, min: -1, max: -1, count: 0, countLeft: 0, loop: 0 };
      lua.lua_rawgeti(l, 1, i);
      fillEntry(L, -1, e);
      lua.lua_pop(l, 1);
      entries.push(e);
    }
    lua.lua_pushinteger(l, gp.build(entries));
    return 1;
  }));
  fn('__gpio_pulse_start', guard(() => {
    let adjust = 0;
    let arg = 2;
    if (lua.lua_type(l, 2) === lua.LUA_TNUMBER) {
      adjust = lua.lua_tointeger(l, 2);
      arg = 3;
    }
    if (lua.lua_type(l, arg) !== lua.LUA_TFUNCTION) throw new Error('missing callback');
    lua.lua_pushvalue(l, arg);
    lua.lua_setfield(l, 1, to_luastring('__cb'));
    gp.start(idOf(), adjust);
    return 0;
  }));
  fn('__gpio_pulse_update', guard(() => {
    const n = lua.lua_tointeger(l, 2);
    gp.update(idOf(), n, (e) => fillEntry(L, 3, e));
    return 0;
  }));
  fn('__gpio_pulse_getstate', guard(() => pushState(gp.getstate(idOf()))));
  fn('__gpio_pulse_adjust', guard(() => pushState(gp.adjust(idOf(), lua.lua_tointeger(l, 2)))));
  fn('__gpio_pulse_cancel', guard(() => pushState(gp.cancel(idOf()))));
  fn('__gpio_pulse_stop', guard(() => {
    let pos = -2;
    if (lua.lua_type(l, 2) === lua.LUA_TNUMBER) pos = lua.lua_tointeger(l, 2);
    const ok = gp.stop(idOf(), pos);
    if (!ok) return 0;
    lua.lua_pushboolean(l, true);
    return 1;
  }));
  check(lauxlib.luaL_dostring(l, to_luastring(`
    local P = { start = __gpio_pulse_start, update = __gpio_pulse_update, getstate = __gpio_pulse_getstate,
      adjust = __gpio_pulse_adjust, cancel = __gpio_pulse_cancel, stop = __gpio_pulse_stop }
    local meta = { __index = P }
    local byId = {}
    gpio.pulse = { build = function(t) local id = __gpio_pulse_build(t); local o = setmetatable({ __id = id }, meta); byId[id] = o; return o end }
    function __gpio_pulse_post(f, id) node.task.post(0, function() f(id) end) end
    function __gpio_pulse_done(id)
      local o = byId[id]
      if o and o.__cb then o.__cb(o:getstate()) end
    end
  `)), 'gpio.pulse');
}
