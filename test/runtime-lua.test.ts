import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { ST_DONE } from '../device/runtime';
import { fengariWithBundle } from './helpers/lua';
import { repoRoot } from './helpers/cli';
import { refGantry, rig } from './helpers/rig';

/**
 * The runtime as built for NodeMCU (dist/nodemcu/hookline.lua, typescript-to-lua, Lua 5.3) must behave exactly like the JavaScript one:
 * same step pulses at the same microseconds. A small HAL, clock and endstop model written in Lua
 * drive it in fengari; the JS side runs the same job on the simulator; both hash every step edge.
 */

const m = refGantry();
const startMm = [12, 9, 3];
const stream = encodeStream([0, 9, 18, 5], 160, [0]);

function luaLiteral(v: unknown): string {
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, x]) => `[${JSON.stringify(k)}] = ${luaLiteral(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

const HASH_MOD = 2147483647;
/** The Lua clock starts 3 s before a signed 32-bit µs counter wraps (fengari's integers are 32-bit, like
 * NodeMCU's Lua 5.3 builds), so the run also proves the runtime only ever uses clock differences. */
const CLOCK0 = 2 ** 31 - 3_000_000;

function jsRun() {
  const r = rig(m, { startMm });
  const stepPins = [m.axes.x.pins.step, m.axes.y.pins.step, m.axes.z.pins.step];
  let hash = 0;
  let pulses = 0;
  r.mcu.addListener({
    edge(pin, level, t) {
      if (level === 1 && stepPins.includes(pin)) {
        const tw = (t + CLOCK0) | 0; // the Lua side's wrapped 32-bit clock reading
        hash = (((hash * 31 + pin * 1000003 + tw) % HASH_MOD) + HASH_MOD) % HASH_MOD;
        pulses++;
      }
    },
  });
  r.rt.boot();
  r.rt.home();
  r.feedAll(stream);
  const st = r.rt.status();
  return { hash, pulses, now: (r.mcu.now + CLOCK0) | 0, state: st.state, line: st.line, x: st.x, y: st.y, z: st.z, px: r.pos[0], py: r.pos[1], pz: r.pos[2] };
}

const LUA_DRIVER = `
local rtmod = hookline
local machine = MACHINE
local now = CLOCK0
local timerAt, timerFn = 0, nil
local levels, store = {}, {}
local hash, pulses = 0, 0
local axes = { machine.axes.x, machine.axes.y, machine.axes.z }
local stepAxis, dirAxis, pos, dirSign, pressed = {}, {}, {}, {}, {}
local enablePin = machine.motors.enablePin
local enabled = false
local function spm(a) return axes[a].stepsPerMm end
local START = START_MM
local function setEndstop(a)
  local p
  if axes[a].homing.toMax then
    p = pos[a] >= math.floor(axes[a].travelMaxMm * spm(a) + 0.5) -- the switch at the top of the travel
  else
    p = pos[a] <= 0
  end
  pressed[a] = p
  local active = axes[a].endstopActiveLow and 0 or 1
  levels[axes[a].pins.endstop] = p and active or (1 - active)
end
for a = 1, 3 do
  stepAxis[axes[a].pins.step] = a
  dirAxis[axes[a].pins.dir] = a
  pos[a] = math.floor(START[a] * spm(a) + 0.5)
  dirSign[a] = axes[a].invertDir and 1 or -1
  setEndstop(a)
end
local function edge(pin, level)
  local a = stepAxis[pin]
  if a and level == 1 then
    hash = (hash * 31.0 + pin * 1000003.0 + now) % ${HASH_MOD}.0 -- floats: fengari's integers are 32-bit
    pulses = pulses + 1
    if enabled then
      pos[a] = pos[a] + dirSign[a]
      setEndstop(a)
    end
    return
  end
  a = dirAxis[pin]
  if a then
    local plus = axes[a].invertDir and 0 or 1
    dirSign[a] = (level == plus) and 1 or -1
  elseif pin == enablePin then
    enabled = (level == (machine.motors.enableActiveLow and 0 or 1))
  end
end
local hal = { tickUs = 1 }
function hal:pinMode(pin, mode) end
function hal:write(pin, level) if levels[pin] ~= level then levels[pin] = level; edge(pin, level) end end
function hal:read(pin) return levels[pin] or 0 end
function hal:pulse(pin, w) edge(pin, 1) end
function hal:micros() return now end
function hal:setTimer(d, fn) timerAt = now + d; timerFn = fn end
function hal:cancelTimer() timerFn = nil end
function hal:storageWrite(k, v) store[k] = v end
function hal:storageRead(k) return store[k] or -1 end
function hal:print(line) end
local rt = setmetatable({}, rtmod.Runtime.prototype)
rt:____constructor(hal, machine)
rt:boot()
rt:home()
local bytes = STREAM
local i = 1
while true do
  while i <= #bytes and rt:canAccept() do rt:feed(bytes[i]); i = i + 1 end
  if timerFn == nil then break end
  now = timerAt
  local f = timerFn
  timerFn = nil
  f()
end
local st = rt:status()
assert(math.type(now) == "integer" and now < 0, "the clock did not wrap: " .. tostring(now))
return string.format("%.0f %d %.0f %d %d %d %d %d %d %d %d", hash, pulses, now, st.state, st.line, st.x, st.y, st.z, pos[1], pos[2], pos[3])
`;

describe('runtime under Lua 5.3 (typescript-to-lua, fengari)', () => {
  const bundle = join(repoRoot, 'dist/nodemcu/hookline.lua');

  it('homes and strings a stream with the same pulses at the same times as in JavaScript, across a 32-bit clock wrap', () => {
    const js = jsRun();
    expect(js.state).toBe(ST_DONE);
    expect(js.pulses).toBeGreaterThan(20000);
    const L = fengariWithBundle(bundle);
    const code = LUA_DRIVER.replace('MACHINE', luaLiteral(m)).replace('START_MM', luaLiteral(startMm)).replace('STREAM', luaLiteral(Array.from(stream))).replace('CLOCK0', String(CLOCK0));
    const out = L.eval(code).split(' ').map(Number);
    expect(out).toEqual([js.hash, js.pulses, js.now, js.state, js.line, js.x, js.y, js.z, js.px, js.py, js.pz]);
  });
});
