/**
 * The NodeMCU target: the BUILT Lua 5.3 app (dist/nodemcu/5.3/hookline.lua, typescript-to-lua, or
 * the copy uploaded to a board) in fengari (Lua 5.3 in JavaScript, 32-bit integers like NodeMCU's
 * 5.3 firmware), behind a NodeMCU API shim wired to the VirtualMcu:
 *   gpio.mode/write/read (ESP8266) or gpio.config (ESP32) → the MCU's pins;
 *   tmr.create():alarm(ms) and node.task.post → MCU timer slot 0 (the HAL keeps one pending);
 *   tmr.now() (31-bit, wrapping) / node.uptime() → the MCU clock;
 *   tmr.delay(us) → the MCU clock moves on by us (a busy-wait: nothing else runs meanwhile);
 *   file → an in-memory flash (progress storage); uart.write → recorded; print → the log.
 * The HAL inside Lua is device/nodemcu/hal.ts as compiled, not SimHal.
 */
import { SEEK_POLL_US } from '../../device/stepper';
import { ESP32_TICK_MS } from '../../device/nodemcu/hal';
import { RMT_SEND_AHEAD_US } from '../../device/nodemcu/steps-rmt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fengari from 'fengari';
import type { RuntimeStatus } from '../../device/runtime';
import { PIN_INPUT, PIN_INPUT_PULLUP, PIN_OUTPUT } from '../../device/hal';
import { packageRoot } from '../../host/package-root';
import { luaLiteral, machineLuaText } from '../../host/flash/nodemcu';
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';
import type { VirtualMcu } from '../mcu';
import type { DeviceRuntime, FirmwareApp, SimTarget } from './target';
import { LUA_COST_MODELS } from '../chip/lua-cost';
import { GpioPulse, installGpioPulse } from './nodemcu-gpio-pulse';
import { Rmt, installRmt, RMT_STEP_JITTER_US } from './nodemcu-rmt';
import { PULSE_STEP_JITTER_US } from './nodemcu-gpio-pulse';

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

export interface NodemcuTargetOptions {
  /** The app to load (default: dist/nodemcu/5.3/hookline.lua of this package). */
  bundlePath?: string;
  /** Which firmware's API the shim offers (default ESP8266). */
  board?: 'ESP8266' | 'ESP32';
  /**
   * The hardware step primitives in the firmware: 'firmware' (default) the board's (gpio.pulse on
   * ESP8266, rmt on ESP32: sim/targets/nodemcu-gpio-pulse.ts, nodemcu-rmt.ts); 'none' neither (a
   * build without those modules: the app steps from Lua timers).
   */
  primitives?: 'firmware' | 'none';
  /** Tests: the step primitives' simulations once created (statistics). */
  onPrimitives?: (p: { gpioPulse: GpioPulse | null; rmt: Rmt | null }) => void;
  /** Tests: Lua run once the runtime exists (global __hal is the HAL), e.g. to starve the step output. */
  afterCreate?: string;
}

const TMR_WRAP = 2 ** 31;
/** The count hook's period (VM instructions); exact counts come from flushing at every primitive. */
const HOOK_EVERY = 1000;
/** The chip report's breakdown (ChipReport.breakdown). */
const VM = 'Lua VM instructions';
const CCALL = 'NodeMCU C function calls';
const ROM = 'NodeMCU ROM-table look-ups';
const DISPATCH = 'SDK dispatches into Lua (timers, tasks, UART data)';

// The part of the shim that is plain Lua, over a few primitives the JavaScript side registers
// (__mcu_*). A gpio constant is its HAL pin mode where that is what it means.
const SHIM = `
local mcu_mode, mcu_write, mcu_read, mcu_now, mcu_delay, mcu_set, mcu_cancel, mcu_print =
  __mcu_mode, __mcu_write, __mcu_read, __mcu_now, __mcu_delay, __mcu_set, __mcu_cancel, __mcu_print
local esp32 = __board == "ESP32"
-- With a chip (sim/chip), __app_call is JavaScript that counts the callback's VM instructions.
if __app_call == nil then __app_call = function(f, ...) return f(...) end end
gpio = { HIGH = 1, LOW = 0, OUTPUT = 10, INPUT = 11, PULLUP = 20, FLOAT = 21, OUT = 10, IN = 11, PULL_UP = 20, FLOATING = 21 }
local function pinmode(pin, dir, pull)
  if dir == 10 then mcu_mode(pin, ${PIN_OUTPUT}) elseif pull == 20 then mcu_mode(pin, ${PIN_INPUT_PULLUP}) else mcu_mode(pin, ${PIN_INPUT}) end
end
if esp32 then
  gpio.config = function(c) pinmode(c.gpio, c.dir, c.pull) end
else
  gpio.mode = function(pin, dir, pull) pinmode(pin, dir, pull) end
end
gpio.write = function(pin, level) mcu_write(pin, level) end
gpio.read = function(pin) return mcu_read(pin) end
-- Timers and posted tasks share MCU timer slot 0, armed for the earliest: posted tasks first (in
-- order, at once), then the alarm due first (ties: the one armed first). Re-arming a timer replaces
-- its alarm, as on NodeMCU; ALARM_AUTO repeats.
local armed = {}
local tasks, taskHead, taskTail = {}, 1, 0
local seq = 0
local function rearm()
  if taskHead <= taskTail then mcu_set(0) return end
  local best = nil
  for t in pairs(armed) do
    if best == nil or t.at < best.at or (t.at == best.at and t.seq < best.seq) then best = t end
  end
  if best == nil then mcu_cancel() else mcu_set(best.at - mcu_now(false)) end
end
-- ESP32 (NodeMCU dev-esp32 components/modules/tmr.c): an alarm is a FreeRTOS timer on 10 ms ticks
-- (pdMS_TO_TICKS), due at a tick boundary that many ticks after the current one; fewer than one
-- tick trips configASSERT in xTimerCreate (the chip aborts); its callback is posted at high priority,
-- so a due alarm runs before the app's posted tasks.
local TICK_US = 10000
local function dueAlarm()
  local now, best = mcu_now(false), nil
  for t in pairs(armed) do
    if t.at <= now and (best == nil or t.at < best.at or (t.at == best.at and t.seq < best.seq)) then best = t end
  end
  return best
end
function __fire()
  local alarm = nil
  if esp32 then alarm = dueAlarm() end
  if alarm == nil and taskHead <= taskTail then
    local f = tasks[taskHead]
    tasks[taskHead] = nil
    taskHead = taskHead + 1
    __app_call(f)
  else
    local best = alarm or dueAlarm()
    if best ~= nil then
      if best.mode == 2 then best.at = best.at + best.period else armed[best] = nil end
      __app_call(best.fn, best)
    end
  end
  rearm()
end
local Timer = {}
Timer.__index = Timer
__Timer = Timer
function Timer:alarm(ms, mode, fn)
  seq = seq + 1
  local now, period = mcu_now(false), ms * 1000
  local at = now + period
  if esp32 then
    local ticks = math.floor(ms / 10)
    if ticks < 1 then error("tmr: an alarm of " .. ms .. " ms is 0 FreeRTOS ticks (10 ms each): configASSERT aborts the ESP32") end
    -- (Float arithmetic: the shim's Lua has 32-bit integers, and µs pass 2^31 after 35.8 min; the
    -- firmware counts 10 ms ticks in 32 bits.)
    period = ticks * TICK_US
    at = (now // TICK_US + ticks) * TICK_US * 1.0
  end
  self.at, self.period, self.mode, self.fn, self.seq = at, period, mode, fn, seq
  armed[self] = true
  rearm()
  return true
end
function Timer:stop() armed[self] = nil; rearm(); return true end
function Timer:unregister() self:stop() end
tmr = { ALARM_SINGLE = 0, ALARM_SEMI = 1, ALARM_AUTO = 2 }
function tmr.create() return setmetatable({}, Timer) end
-- The ESP32 firmware has neither tmr.delay nor tmr.now (node.uptime is its clock).
if not esp32 then function tmr.delay(us) mcu_delay(us) end end
node = { task = { LOW_PRIORITY = 0, MEDIUM_PRIORITY = 1, HIGH_PRIORITY = 2 } }
function node.task.post(prio, fn) taskTail = taskTail + 1; tasks[taskTail] = fn; rearm() end
function node.heap() return 40000 end
function node.restart() end
if esp32 then
  function node.uptime() return mcu_now(false) end
else
  function tmr.now() return mcu_now(true) end
end
-- Flash: files as Lua strings; one open file at a time, like NodeMCU's file.open/read/write/close.
__files = {}
local cur, curName, curPos = nil, nil, 1
file = {}
function file.open(name, mode)
  local m = string.sub(mode, 1, 1)
  if m == "r" then
    if __files[name] == nil then return nil end
    cur, curName, curPos = __files[name], name, 1
  elseif m == "w" then
    __files[name] = ""; cur, curName, curPos = "", name, 1
  else
    cur, curName = __files[name] or "", name; curPos = #cur + 1
  end
  return true
end
function file.read(n)
  if cur == nil or curPos > #cur then return nil end
  n = n or 1024
  local s = string.sub(cur, curPos, curPos + n - 1)
  curPos = curPos + #s
  return s
end
__fwrites = 0
function file.write(s) cur = cur .. s; __files[curName] = cur; __fwrites = __fwrites + 1; return true end
function file.close() cur, curName = nil, nil end
function file.remove(name) __files[name] = nil end
function file.exists(name) return __files[name] ~= nil end
-- UART 0: what the firmware writes goes to __uart_write (the link, when one is attached); its
-- 'data' callback is kept for bytes from the link (none: the interpreter has the UART).
uart = { sent = 0 }
function uart.write(id, s) uart.sent = uart.sent + #s; if __uart_write then __uart_write(s) end end
function uart.on(...)
  local a = { ... }
  local cb = nil
  for i = 1, select("#", ...) do if type(a[i]) == "function" then cb = a[i] end end
  __uart_data = cb
end
function uart.setup() return 115200 end
-- dofile reads the board's flash (machine.lua), not the host's file system.
function dofile(name)
  local s = __files[name]
  if s == nil then error("cannot open " .. name) end
  return assert(load(s, "@" .. name))()
end
print = function(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  mcu_print(table.concat(t, "\\t"))
end
`;

/** Build the runtime inside Lua and expose one global function per DeviceRuntime call. */
const CREATE = `
local hl, machine, faults, ring = ...
local function new(cls, ...)
  local o = setmetatable({}, cls.prototype)
  o:____constructor(...)
  return o
end
__hal = new(hl.NodeMcuHal)
local path = nil
if ring then path = new(hl.RingPath, ring) end
local rt = new(hl.Runtime, __hal, machine, faults, path)
function __rt_state() return rt.state end
function __rt_hash(h) rt:setMachineHash(h) end
function __rt_boot() rt:boot() end
function __rt_home() return rt:home() end
function __rt_canAccept() return rt:canAccept() end
function __rt_feed(b) return rt:feed(b) end
function __rt_resume() return rt:resume() end
function __rt_pause() return rt:pause() end
function __rt_abort() return rt:abort() end
function __rt_status() return rt:status() end
function __storage(key) return __hal:storageRead(key) end
`;

/**
 * With a chip: the shim's own Lua is NodeMCU's C code on a board, so its VM instructions are not the
 * app's. The hot primitives become JavaScript (no VM instructions; charged as one C call each), the
 * others are bracketed by __shim_in / __shim_out (counting stops inside them), and the NodeMCU
 * modules move out of _G into ROM-table proxies whose look-ups are charged (lua-cost.ts).
 */
const CHARGE = `
local shim_in, shim_out = __shim_in, __shim_out
local function pass(...) shim_out() return ... end
local function wrap(f) return function(...) shim_in() return pass(f(...)) end end
gpio.write, gpio.read = __mcu_write, __mcu_read
if tmr.delay ~= nil then tmr.delay = __mcu_delay end
if tmr.now ~= nil then tmr.now = __mcu_tmrnow end
if node.uptime ~= nil then node.uptime = __mcu_uptime end
local direct = { [__mcu_write] = true, [__mcu_read] = true, [__mcu_delay] = true, [__mcu_tmrnow] = true, [__mcu_uptime] = true }
-- Every Lua function of the shim's modules, nested tables too (gpio.pulse, rmt, ...); a Lua shim
-- object's methods live in its metatable, which must be listed here (__Timer).
local seen = {}
local function wrapAll(m)
  if type(m) ~= "table" or seen[m] then return end
  seen[m] = true
  local fs = {}
  for k, v in pairs(m) do
    if type(v) == "function" and not direct[v] and k ~= "__index" then fs[k] = v elseif type(v) == "table" then wrapAll(v) end
  end
  for k, v in pairs(fs) do m[k] = wrap(v) end
end
for _, m in ipairs({ gpio, tmr, node, file, uart, rawget(_G, "rmt") or {}, __Timer }) do wrapAll(m) end
print, dofile = wrap(print), wrap(dofile)
local rom = {}
for _, name in ipairs({ "gpio", "tmr", "node", "file", "uart", "rmt", "math", "string", "table", "bit" }) do
  local real = rawget(_G, name)
  if real ~= nil then
    rom[name] = setmetatable({}, { __index = __rom_index, __newindex = real, __real = real })
    rawset(_G, name, nil)
  end
end
setmetatable(_G, { __index = __rom_index, __real = rom })
`;

/** A fengari state with the shim and the built app loaded; the app module is global __hl. */
interface LuaApp {
  L: unknown;
  log: string[];
  check(status: number, what: string): void;
  /** Call a global Lua function with number / string / byte arguments; its first result (or undefined). */
  callGlobal(name: string, args: (number | string | Uint8Array)[], nres: number): unknown;
  /** Register a JavaScript function as a Lua global. */
  fn(name: string, f: () => number): void;
  /**
   * Run an entry into the app (a command, serial bytes) with its Lua charged to the chip, when
   * there is one (mcu.cpu); else just run it.
   */
  charged<T>(f: () => T): T;
  /** Charge the VM instructions counted so far (before reading the clock from JavaScript). */
  flush(): void;
  /** Whether the app's instructions are being counted now (inside an entry, outside the shim). */
  counting(): boolean;
  /** Whether the firmware has the RMT (ESP32): then every step of the app is the RMT's (device/nodemcu/hal.ts). */
  rmtInUse(): boolean;
}

function openLuaApp(
  mcu: VirtualMcu,
  bundlePath: string,
  board: string,
  primitives: 'firmware' | 'none' = 'firmware',
  onPrimitives?: NodemcuTargetOptions['onPrimitives'],
): LuaApp {
  let source: Buffer;
  try {
    source = readFileSync(bundlePath);
  } catch {
    throw new Error(`the NodeMCU build ${bundlePath} is missing; run npm run build:device`);
  }
  const log: string[] = [];
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const check = (status: number, what: string) => {
    if (status !== lua.LUA_OK) {
      const msg = to_jsstring(lua.lua_tostring(L, -1));
      lua.lua_settop(L, 0);
      throw new Error(`nodemcu target (${what}): ${msg}`);
    }
  };
  const fn = (name: string, f: () => number) => {
    lua.lua_pushjsfunction(L, f);
    lua.lua_setglobal(L, to_luastring(name));
  };
  // The chip (sim/chip): the app's Lua VM instructions are counted with a count hook (every
  // HOOK_EVERY, and exactly at every primitive and at the end of an entry: flush) while `counting`.
  const cpu = mcu.cpu;
  const model = cpu ? LUA_COST_MODELS[cpu.chip.name] : null;
  if (cpu && !model) throw new Error(`nodemcu target: no Lua cost model for chip ${cpu.chip.name}`);
  const Ls = L as unknown as { hookcount: number; basehookcount: number };
  let counting = false;
  const saved: boolean[] = [];
  const flush = () => {
    if (!cpu) return;
    const n = HOOK_EVERY - Ls.hookcount;
    Ls.hookcount = HOOK_EVERY;
    if (counting && n > 0) cpu.charge(n * model!.cyclesPerInstruction, VM, n);
  };
  /** A NodeMCU C function called from the app: its call and body. */
  const prim = () => {
    if (!counting) return;
    flush();
    cpu!.charge(model!.cCall, CCALL);
  };
  if (cpu) {
    lua.lua_sethook(L, () => {
      if (counting) cpu.charge(HOOK_EVERY * model!.cyclesPerInstruction, VM, HOOK_EVERY);
    }, lua.LUA_MASKCOUNT, HOOK_EVERY);
    fn('__shim_in', () => {
      prim();
      flush();
      saved.push(counting);
      counting = false;
      return 0;
    });
    fn('__shim_out', () => {
      flush();
      counting = saved.pop() ?? false;
      return 0;
    });
    // A callback run by the SDK (timer, task, UART data): the app's code, counted.
    fn('__app_call', () => {
      const n = lua.lua_gettop(L);
      flush();
      saved.push(counting);
      counting = true;
      lua.lua_call(L, n - 1, 0);
      flush();
      counting = saved.pop() ?? false;
      return 0;
    });
    // A field of a NodeMCU ROM table (or a global that is one): a look-up in flash.
    fn('__rom_index', () => {
      if (counting) {
        flush();
        cpu.charge(model!.rotableLookup, ROM);
      }
      lua.lua_getmetatable(L, 1);
      lua.lua_getfield(L, -1, to_luastring('__real'));
      lua.lua_pushvalue(L, 2);
      lua.lua_rawget(L, -2);
      return 1;
    });
  }
  const charged = <T>(f: () => T): T => {
    if (!cpu) return f();
    cpu.entry();
    flush();
    saved.push(counting);
    counting = true;
    try {
      return f();
    } finally {
      flush();
      counting = saved.pop() ?? false;
    }
  };
  const fire = () => {
    if (cpu) {
      // The SDK hands a timer alarm or a posted task to Lua: the shim picks it (not counted),
      // __app_call counts the callback.
      cpu.entry();
      cpu.charge(model!.dispatch, DISPATCH);
    }
    callGlobal('__fire', [], 0);
  };
  // The step primitives (installed below): an RMT channel owns its pin until gpio.config takes it back.
  let rmt: Rmt | null = null;
  fn('__mcu_mode', () => (rmt?.releasePin(lua.lua_tointeger(L, 1)), mcu.pinMode(lua.lua_tointeger(L, 1), lua.lua_tointeger(L, 2)), 0));
  fn('__mcu_write', () => (prim(), rmt?.ownsPin(lua.lua_tointeger(L, 1)) || mcu.write(lua.lua_tointeger(L, 1), lua.lua_tointeger(L, 2)), 0));
  fn('__mcu_read', () => (prim(), lua.lua_pushinteger(L, mcu.levels[lua.lua_tointeger(L, 1)]), 1));
  fn('__mcu_now', () => {
    const t = Math.floor(mcu.now);
    if (lua.lua_toboolean(L, 1)) lua.lua_pushinteger(L, t % TMR_WRAP);
    else lua.lua_pushnumber(L, t);
    return 1;
  });
  fn('__mcu_tmrnow', () => (prim(), lua.lua_pushinteger(L, Math.floor(mcu.now) % TMR_WRAP), 1));
  fn('__mcu_uptime', () => (prim(), lua.lua_pushnumber(L, Math.floor(mcu.now)), 1));
  fn('__mcu_delay', () => {
    prim();
    const us = lua.lua_tonumber(L, 1);
    // A busy-wait: the CPU is held (peripherals still run on time).
    if (us > 0) {
      if (cpu) cpu.spin(us);
      else mcu.advanceTo(mcu.now + us);
    }
    return 0;
  });
  fn('__mcu_set', () => (mcu.setTimer(0, mcu.now + lua.lua_tonumber(L, 1), fire), 0));
  fn('__mcu_cancel', () => (mcu.cancelTimer(0), 0));
  fn('__mcu_print', () => {
    log.push(`${(mcu.now / 1e6).toFixed(6)} ${to_jsstring(lua.lua_tostring(L, 1))}`);
    if (log.length > 1000) log.shift();
    return 0;
  });
  lua.lua_pushstring(L, to_luastring(board));
  lua.lua_setglobal(L, to_luastring('__board'));
  check(lauxlib.luaL_dostring(L, to_luastring(SHIM)), 'shim');
  let gp: GpioPulse | null = null;
  if (primitives === 'firmware' && board === 'ESP8266') {
    // The firmware posts the end-of-program callback as a task (a balanced call: this may run
    // while Lua is inside another call).
    gp = new GpioPulse(mcu, {
      post: (name, id) => {
        lua.lua_getglobal(L, to_luastring('__gpio_pulse_post'));
        lua.lua_getglobal(L, to_luastring(name));
        lua.lua_pushinteger(L, id);
        if (lua.lua_pcall(L, 2, 0, 0) !== lua.LUA_OK) {
          const msg = to_jsstring(lua.lua_tostring(L, -1));
          lua.lua_pop(L, 1);
          throw new Error(`nodemcu target (gpio.pulse callback): ${msg}`);
        }
      },
    });
    installGpioPulse(L, fn, check, gp, prim);
  }
  if (primitives === 'firmware' && board === 'ESP32') {
    rmt = new Rmt(mcu, (us) => {
      if (us <= 0) return;
      if (cpu) cpu.spin(us);
      else mcu.advanceTo(mcu.now + us);
    });
    installRmt(L, fn, check, rmt, prim);
  }
  onPrimitives?.({ gpioPulse: gp, rmt });
  check(lauxlib.luaL_loadbuffer(L, source, null, to_luastring('@hookline.lua')), 'load');
  check(lua.lua_pcall(L, 0, 1, 0), 'run');
  lua.lua_setglobal(L, to_luastring('__hl'));
  if (cpu) check(lauxlib.luaL_dostring(L, to_luastring(CHARGE)), 'chip');
  /** Call a global Lua function with number arguments; return its first result (or undefined). */
  function callGlobal(name: string, args: (number | string | Uint8Array)[], nres: number): unknown {
    lua.lua_getglobal(L, to_luastring(name));
    for (const a of args) {
      if (a instanceof Uint8Array) lua.lua_pushstring(L, a);
      else if (typeof a === 'string') lua.lua_pushstring(L, to_luastring(a));
      else lua.lua_pushinteger(L, a);
    }
    check(lua.lua_pcall(L, args.length, nres, 0), name);
    let out: unknown;
    if (nres > 0) out = toJs(-1);
    lua.lua_settop(L, 0);
    return out;
  }
  function toJs(idx: number): unknown {
    const t = lua.lua_type(L, idx);
    if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, idx);
    if (t === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, idx);
    if (t === lua.LUA_TSTRING) return to_jsstring(lua.lua_tostring(L, idx));
    if (t === lua.LUA_TTABLE) {
      const o: Record<string, unknown> = {};
      const abs = lua.lua_absindex(L, idx);
      lua.lua_pushnil(L);
      while (lua.lua_next(L, abs) !== 0) {
        lua.lua_pushvalue(L, -2);
        const k = to_jsstring(lua.lua_tostring(L, -1));
        lua.lua_pop(L, 1);
        o[k] = toJs(-1);
        lua.lua_pop(L, 1);
      }
      return o;
    }
    return undefined;
  }
  return { L, log, check, callGlobal, fn, charged, flush, counting: () => counting, rmtInUse: () => rmt !== null };
}

export function nodemcuTarget(opts: NodemcuTargetOptions = {}): SimTarget {
  const bundlePath = opts.bundlePath ?? join(packageRoot(), 'dist', 'nodemcu', '5.3', 'hookline.lua');
  const generator = (opts.primitives ?? 'firmware') === 'firmware';
  // The board create() resolved (ESP32 until then).
  let board: 'ESP8266' | 'ESP32' = opts.board ?? 'ESP32';
  return {
    name: 'nodemcu',
    costModels: LUA_COST_MODELS,
    // A step's timing error: gpio.pulse serialises coincident steps of the axes on its one
    // timeline (device/nodemcu/steps-pulse.ts); the RMT is exact to its 1 µs tick.
    get stepJitterUs() {
      return generator ? (board === 'ESP32' ? RMT_STEP_JITTER_US : PULSE_STEP_JITTER_US) : undefined;
    },
    // Seeks on the step generator read the switch every SEEK_POLL_US (device/stepper.ts), and the Lua
    // timer that reads it can come up to about one more poll late (behind a pty, 7 steps at Y's seek
    // speed were seen): the axis may run on that long. On the ESP32 the poll is an alarm of whole
    // 10 ms ticks re-armed when early (device/nodemcu/hal.ts), up to two ticks after it was due,
    // and it waits for the RMT feeder's send, which blocks Lua until the running batch ends.
    get homingOvertravelMs() {
      if (!generator) return undefined;
      return board === 'ESP32' ? (SEEK_POLL_US + 2 * ESP32_TICK_MS * 1000 + RMT_SEND_AHEAD_US) / 1000 : (2 * SEEK_POLL_US) / 1000;
    },
    create(mcu, machine, ring, faults) {
      // The ESP32 chip runs the ESP32 firmware's API (gpio.config, node.uptime).
      // Without a board or an ESP8266 chip: an ESP32, the board hookline flash defaults to (an
      // ESP32-wired profile's pins do not exist on an ESP8266, whose gpio.pulse refuses them).
      board = opts.board ?? (mcu.cpu?.chip.name.startsWith('esp8266') ? 'ESP8266' : 'ESP32');
      const { L, log, check, callGlobal, charged, flush, rmtInUse } = openLuaApp(mcu, bundlePath, board, opts.primitives, opts.onPrimitives);
      // The CREATE chunk with (module, machine, faults, ring).
      check(lauxlib.luaL_loadstring(L, to_luastring(CREATE)), 'create');
      lua.lua_getglobal(L, to_luastring('__hl'));
      for (const v of [machine, faults, ring]) {
        check(lauxlib.luaL_dostring(L, to_luastring('return ' + luaLiteral(v))), 'profile');
      }
      check(lua.lua_pcall(L, 4, 0, 0), 'create');
      if (opts.afterCreate) check(lauxlib.luaL_dostring(L, to_luastring(opts.afterCreate)), 'afterCreate');
      if (mcu.cpu) watchDeadlines(L, mcu, flush, rmtInUse);
      const bool = (name: string, args: number[] = []) => callGlobal(name, args, 1) === true;
      // Commands and stream bytes are entries into the app (charged with a chip); reading the
      // state for the simulator's host side is not.
      const runtime: DeviceRuntime = {
        get state() {
          return callGlobal('__rt_state', [], 1) as number;
        },
        setMachineHash: (h) => void callGlobal('__rt_hash', [h], 0),
        boot: () => charged(() => void callGlobal('__rt_boot', [], 0)),
        home: () => charged(() => bool('__rt_home')),
        canAccept: () => bool('__rt_canAccept'),
        feed: (b) => charged(() => {
          mcu.cpu?.charge(LUA_COST_MODELS[mcu.cpu.chip.name].dispatch, DISPATCH);
          return bool('__rt_feed', [b]);
        }),
        resume: () => charged(() => bool('__rt_resume')),
        pause: () => charged(() => bool('__rt_pause')),
        abort: () => charged(() => bool('__rt_abort')),
        status: () => callGlobal('__rt_status', [], 1) as RuntimeStatus,
      };
      return {
        runtime, log,
        storageRead: (key) => callGlobal('__storage', [key], 1) as number,
        storageWrites: () => {
          lua.lua_getglobal(L, to_luastring('__fwrites'));
          const n = lua.lua_tonumber(L, -1);
          lua.lua_pop(L, 1);
          return n;
        },
      };
    },
  };
}

/**
 * With a chip: the runtime's timer (Hal.setTimer on the NodeMcuHal instance, the stepper's one
 * timer) is wrapped in JavaScript, so no VM instruction is added: each call notes when its callback
 * is due (the clock at the call + delayUs), and when the HAL runs the callback the chip is told
 * (ChipCpu.deadline), which records it late beyond the tolerance. A runtime already behind its
 * schedule asks for delay 0 (device/stepper.ts scheduleAt clamps), so the lateness seen here is a
 * lower bound on the step's.
 */
function watchDeadlines(L: unknown, mcu: VirtualMcu, flush: () => void, rmtInUse: () => boolean): void {
  const cpu = mcu.cpu!;
  const REG = lua.LUA_REGISTRYINDEX;
  lua.lua_getglobal(L, to_luastring('__hal'));
  lua.lua_getfield(L, -1, to_luastring('setTimer'));
  const original = lauxlib.luaL_ref(L, REG);
  lua.lua_pushjsfunction(L, () => {
    // (self, delayUs, fn) from the app's code: the instructions so far set the clock of the call.
    flush();
    const d = lua.lua_tonumber(L, 2);
    const due = mcu.now + (d > 0 ? d : 0);
    lua.lua_pushvalue(L, 3);
    const ref = lauxlib.luaL_ref(L, REG);
    lua.lua_rawgeti(L, REG, original);
    lua.lua_pushvalue(L, 1);
    lua.lua_pushvalue(L, 2);
    lua.lua_pushjsfunction(L, () => {
      flush();
      // With the RMT making every step, this timer only refills it, polls a switch or ends a rest
      // (on 10 ms ticks): the RMT judges the steps (a channel run dry is late), the plant the motion.
      if (!rmtInUse()) cpu.deadline(due, "the runtime's step timer");
      const n = lua.lua_gettop(L);
      lua.lua_rawgeti(L, REG, ref);
      lauxlib.luaL_unref(L, REG, ref);
      lua.lua_insert(L, 1);
      lua.lua_call(L, n, 0);
      return 0;
    });
    lua.lua_call(L, 3, 0);
    return 0;
  });
  lua.lua_setfield(L, -2, to_luastring('setTimer'));
  lua.lua_settop(L, 0);
}

/**
 * The NodeMCU app as on a board (init.lua's `start()`): machine.lua in its flash (as `hookline
 * flash --target nodemcu` writes it), UART 0 bridged to `send`, its timers and pins on `mcu`.
 */
export function nodemcuApp(
  mcu: VirtualMcu,
  o: { machine: MachineProfile | RingProfile; send(bytes: Uint8Array): void; board?: 'ESP8266' | 'ESP32'; bundlePath?: string },
): FirmwareApp {
  const app = openLuaApp(mcu, o.bundlePath ?? join(packageRoot(), 'dist', 'nodemcu', '5.3', 'hookline.lua'), o.board ?? 'ESP32');
  const L = app.L as Parameters<typeof lua.lua_tostring>[0];
  app.fn('__uart_write', () => {
    o.send(Uint8Array.from(lua.lua_tostring(L, 1) as Uint8Array));
    return 0;
  });
  app.check(lauxlib.luaL_dostring(L, to_luastring(`
    function __setfile(name, s) __files[name] = s end
    function __uart_rx(s) if __uart_data then __uart_data(s) end end`)), 'uart');
  // device/nodemcu/main.ts PROFILE_FILE (not imported: the app module is Lua-side code).
  app.callGlobal('__setfile', ['machine.lua', machineLuaText(o.machine, o.board ?? 'ESP32')], 0);
  app.charged(() => app.check(lauxlib.luaL_dostring(L, to_luastring('__hl.start()')), 'start'));
  lua.lua_settop(L, 0);
  return {
    receive: (bytes) => app.charged(() => {
      mcu.cpu?.charge(LUA_COST_MODELS[mcu.cpu.chip.name].dispatch, DISPATCH);
      app.callGlobal('__uart_rx', [bytes], 0);
    }),
    log: app.log,
  };
}

