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

const { lua, lauxlib, lualib, to_luastring, to_jsstring } = fengari;

export interface NodemcuTargetOptions {
  /** The app to load (default: dist/nodemcu/5.3/hookline.lua of this package). */
  bundlePath?: string;
  /** Which firmware's API the shim offers (default ESP8266). */
  board?: 'ESP8266' | 'ESP32';
}

const TMR_WRAP = 2 ** 31;

// The part of the shim that is plain Lua, over a few primitives the JavaScript side registers
// (__mcu_*). A gpio constant is its HAL pin mode where that is what it means.
const SHIM = `
local mcu_mode, mcu_write, mcu_read, mcu_now, mcu_delay, mcu_set, mcu_cancel, mcu_print =
  __mcu_mode, __mcu_write, __mcu_read, __mcu_now, __mcu_delay, __mcu_set, __mcu_cancel, __mcu_print
local esp32 = __board == "ESP32"
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
function __fire()
  if taskHead <= taskTail then
    local f = tasks[taskHead]
    tasks[taskHead] = nil
    taskHead = taskHead + 1
    f()
  else
    local now, best = mcu_now(false), nil
    for t in pairs(armed) do
      if t.at <= now and (best == nil or t.at < best.at or (t.at == best.at and t.seq < best.seq)) then best = t end
    end
    if best ~= nil then
      if best.mode == 2 then best.at = best.at + best.ms * 1000 else armed[best] = nil end
      best.fn(best)
    end
  end
  rearm()
end
local Timer = {}
Timer.__index = Timer
function Timer:alarm(ms, mode, fn)
  seq = seq + 1
  self.at, self.ms, self.mode, self.fn, self.seq = mcu_now(false) + ms * 1000, ms, mode, fn, seq
  armed[self] = true
  rearm()
  return true
end
function Timer:stop() armed[self] = nil; rearm(); return true end
function Timer:unregister() self:stop() end
tmr = { ALARM_SINGLE = 0, ALARM_SEMI = 1, ALARM_AUTO = 2 }
function tmr.create() return setmetatable({}, Timer) end
function tmr.delay(us) mcu_delay(us) end
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

/** A fengari state with the shim and the built app loaded; the app module is global __hl. */
interface LuaApp {
  L: unknown;
  log: string[];
  check(status: number, what: string): void;
  /** Call a global Lua function with number / string / byte arguments; its first result (or undefined). */
  callGlobal(name: string, args: (number | string | Uint8Array)[], nres: number): unknown;
  /** Register a JavaScript function as a Lua global. */
  fn(name: string, f: () => number): void;
}

function openLuaApp(mcu: VirtualMcu, bundlePath: string, board: string): LuaApp {
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
  const fire = () => callGlobal('__fire', [], 0);
  fn('__mcu_mode', () => (mcu.pinMode(lua.lua_tointeger(L, 1), lua.lua_tointeger(L, 2)), 0));
  fn('__mcu_write', () => (mcu.write(lua.lua_tointeger(L, 1), lua.lua_tointeger(L, 2)), 0));
  fn('__mcu_read', () => (lua.lua_pushinteger(L, mcu.levels[lua.lua_tointeger(L, 1)]), 1));
  fn('__mcu_now', () => {
    const t = Math.floor(mcu.now);
    if (lua.lua_toboolean(L, 1)) lua.lua_pushinteger(L, t % TMR_WRAP);
    else lua.lua_pushnumber(L, t);
    return 1;
  });
  fn('__mcu_delay', () => {
    const us = lua.lua_tonumber(L, 1);
    if (us > 0) mcu.now += us;
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
  check(lauxlib.luaL_loadbuffer(L, source, null, to_luastring('@hookline.lua')), 'load');
  check(lua.lua_pcall(L, 0, 1, 0), 'run');
  lua.lua_setglobal(L, to_luastring('__hl'));
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
  return { L, log, check, callGlobal, fn };
}

export function nodemcuTarget(opts: NodemcuTargetOptions = {}): SimTarget {
  const bundlePath = opts.bundlePath ?? join(packageRoot(), 'dist', 'nodemcu', '5.3', 'hookline.lua');
  const board = opts.board ?? 'ESP8266';
  return {
    name: 'nodemcu',
    create(mcu, machine, ring, faults) {
      const { L, log, check, callGlobal } = openLuaApp(mcu, bundlePath, board);
      // The CREATE chunk with (module, machine, faults, ring).
      check(lauxlib.luaL_loadstring(L, to_luastring(CREATE)), 'create');
      lua.lua_getglobal(L, to_luastring('__hl'));
      for (const v of [machine, faults, ring]) {
        check(lauxlib.luaL_dostring(L, to_luastring('return ' + luaLiteral(v))), 'profile');
      }
      check(lua.lua_pcall(L, 4, 0, 0), 'create');
      const bool = (name: string, args: number[] = []) => callGlobal(name, args, 1) === true;
      const runtime: DeviceRuntime = {
        get state() {
          return callGlobal('__rt_state', [], 1) as number;
        },
        setMachineHash: (h) => void callGlobal('__rt_hash', [h], 0),
        boot: () => void callGlobal('__rt_boot', [], 0),
        home: () => bool('__rt_home'),
        canAccept: () => bool('__rt_canAccept'),
        feed: (b) => bool('__rt_feed', [b]),
        resume: () => bool('__rt_resume'),
        pause: () => bool('__rt_pause'),
        abort: () => bool('__rt_abort'),
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
  app.check(lauxlib.luaL_dostring(L, to_luastring('__hl.start()')), 'start');
  lua.lua_settop(L, 0);
  return {
    receive: (bytes) => void app.callGlobal('__uart_rx', [bytes], 0),
    log: app.log,
  };
}
