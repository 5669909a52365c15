import { execFileSync } from 'node:child_process';

/**
 * Lua heap (collectgarbage "count", KB) taken by the app's code, the booted runtime, a link session
 * and one more stream decoder, with a minimal ESP8266 API (the figures in docs/targets/nodemcu.md).
 */
/** NodeMCU's gpio module as the app uses it, doing nothing (inputs read high: endstops open). */
export const LUA_GPIO_STUB = `
gpio = { HIGH = 1, LOW = 0, OUTPUT = 1, INPUT = 0, PULLUP = 1, FLOAT = 0 }
function gpio.mode() end
function gpio.write() end
function gpio.read() return 1 end
`;

const MEM_DRIVER = `${LUA_GPIO_STUB}local T = {}
T.__index = T
function T:alarm() return true end
function T:stop() return true end
tmr = { ALARM_SINGLE = 0, create = function() return setmetatable({}, T) end, now = function() return 0 end, delay = function() end }
node = { task = { LOW_PRIORITY = 0, post = function() end } }
file = { open = function() return nil end }
print = function() end
local function kb() collectgarbage("collect") collectgarbage("collect") return collectgarbage("count") end
local function new(cls, ...) local o = setmetatable({}, cls.prototype) o:____constructor(...) return o end
local k0 = kb()
local hl = dofile("hookline.lua")
local k1 = kb()
local mach = dofile("machine.lua")
local k2 = kb()
local hal = new(hl.NodeMcuHal)
local rt = new(hl.Runtime, hal, mach.profile)
rt:boot()
local k3 = kb()
local session = new(hl.LinkSession, rt, hal, mach.hash, 2, function() end)
local k4 = kb()
local decoder = new(hl.StreamDecoder)
local k5 = kb()
io.write(string.format("%.3f %.3f %.3f %.3f", k1 - k0, k3 - k2, k4 - k3, k5 - k4))
`;

export interface LuaHeapKb {
  /** The app's code (dofile of hookline.lua). */
  code: number;
  /** A booted Runtime on NodeMcuHal for machine.lua's profile. */
  runtime: number;
  /** A LinkSession on it. */
  session: number;
  /** One more StreamDecoder: the decoder's state (issue #5 asks ≤ 1 KB). */
  decoder: number;
}

/**
 * Measure the NodeMCU app's Lua heap in a native Lua (lua5.1 / lua5.3), run in `dir` holding
 * hookline.lua and machine.lua as `hookline flash --target nodemcu --dry-run` writes them.
 * `prelude` is Lua run first (e.g. a `bit` module for Debian's lua5.1).
 */
export function luaHeapKb(interpreter: string, dir: string, prelude = ''): LuaHeapKb {
  const out = execFileSync(interpreter, ['-'], { input: prelude + MEM_DRIVER, encoding: 'utf8', cwd: dir });
  const [code, runtime, session, decoder] = out.split(' ').map(Number);
  return { code, runtime, session, decoder };
}
