import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSerial, type ByteLink } from '../../host/link/serial';

/**
 * NodeMCU's `bit` module for Debian's lua5.1, which has none (NodeMCU's 5.1 firmware has it built
 * in; the Lua 5.1 build calls bit.band etc.). LuaBitOp semantics: 32-bit, signed results.
 */
export const LUA51_BIT = `
if bit == nil then
  local P32 = 4294967296
  local function u32(x) return math.floor(x) % P32 end
  local function s32(x) if x >= 2147483648 then return x - P32 end return x end
  local function op(a, b, f)
    a, b = u32(a), u32(b)
    local r, p = 0, 1
    for _ = 1, 32 do
      local x, y = a % 2, b % 2
      if f(x, y) then r = r + p end
      a, b, p = (a - x) / 2, (b - y) / 2, p * 2
    end
    return s32(r)
  end
  bit = {}
  function bit.tobit(x) return s32(u32(x)) end
  function bit.band(a, b) return op(a, b, function(x, y) return x == 1 and y == 1 end) end
  function bit.bor(a, b) return op(a, b, function(x, y) return x == 1 or y == 1 end) end
  function bit.bxor(a, b) return op(a, b, function(x, y) return x ~= y end) end
  function bit.bnot(a) return s32(P32 - 1 - u32(a)) end
  function bit.lshift(a, n) return s32(u32(u32(a) * 2 ^ (n % 32))) end
  function bit.rshift(a, n) return s32(math.floor(u32(a) / 2 ^ (n % 32))) end
  function bit.arshift(a, n) return s32(u32(math.floor(s32(u32(a)) / 2 ^ (n % 32)))) end
end
`;

/**
 * The fake board's REPL, run by a real lua5.1/lua5.3: reads lines, echoes them, executes them
 * (accumulating an incomplete statement with a ">> " prompt, like NodeMCU), prints errors as
 * "stdin:N: ...", and answers "> ". file.* works on the directory given as arg[1]; node.restart()
 * reports on stderr.
 */
const REPL = `
local dir = arg[1]
local out = io.stdout
local function emit(s) out:write(s) end
print = function(...)
  local t = {}
  for i = 1, select("#", ...) do t[#t + 1] = tostring((select(i, ...))) end
  emit(table.concat(t, "\\t") .. "\\n")
end
local cur = nil
file = {}
function file.open(name, mode)
  if cur then cur:close() end
  cur = io.open(dir .. "/" .. name, (string.gsub(mode, "b", "")) .. "b")
  return cur ~= nil
end
function file.read(n) if cur == nil then return nil end return cur:read(n or 1024) end
local writes = 0
function file.write(s)
  if cur == nil then return false end
  writes = writes + 1
  -- Test fault: flash that keeps one byte of the CORRUPT_WRITE-th write wrong.
  if writes == CORRUPT_WRITE then s = string.char((string.byte(s, 1) + 1) % 256) .. string.sub(s, 2) end
  cur:write(s)
  return true
end
function file.close() if cur then cur:close() end cur = nil end
function file.remove(name) os.remove(dir .. "/" .. name) end
function file.exists(name) local f = io.open(dir .. "/" .. name, "rb") if f then f:close() return true end return false end
node = {}
-- The firmware's step primitives (the flasher probes them): gpio.pulse (ESP8266), rmt (ESP32).
if HAS_GPIO_PULSE then gpio = gpio or {}; gpio.pulse = { build = function() end } end
if HAS_RMT then rmt = { txsetup = function() end } end
function node.heap() return 40000 end
function node.restart() io.stderr:write("RESTART\\n") io.stderr:flush() end
uart = {}
function uart.write(id, s) emit(s) end
local load = loadstring or load
local pending = ""
while true do
  local line = io.read("*l")
  if line == nil then break end
  line = string.gsub(line, "\\r$", "")
  emit(line .. "\\n")
  local chunk = pending == "" and line or (pending .. "\\n" .. line)
  local f, err = load(chunk, "=stdin")
  if f == nil and string.find(err, "<eof>", 1, true) then
    pending = chunk
    emit(">> ")
  else
    pending = ""
    if f == nil then
      print(err)
    else
      local ok, e = pcall(f)
      if not ok then print(e) end
    end
    emit("> ")
  end
  out:flush()
end
`;

export interface FakeNodemcu {
  /** The board's file system. */
  dir: string;
  /** Every byte the board received, in order. */
  received(): Buffer;
  restarts(): number;
  close(): Promise<void>;
}

/** A fake NodeMCU board on one end of a pty pair: a real Lua VM executes what arrives. */
export async function fakeNodemcu(
  portPath: string,
  lua: string,
  opts: { corruptWrite?: number; gpioPulse?: boolean; rmt?: boolean } = {},
): Promise<FakeNodemcu> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-fake-nodemcu-fs-'));
  const scriptDir = mkdtempSync(join(tmpdir(), 'hookline-fake-nodemcu-'));
  const script = join(scriptDir, 'repl.lua');
  writeFileSync(script, (lua.endsWith('5.1') ? LUA51_BIT : '') + `local CORRUPT_WRITE = ${opts.corruptWrite ?? -1}\nlocal HAS_GPIO_PULSE, HAS_RMT = ${opts.gpioPulse ?? true}, ${opts.rmt ?? true}\n` + REPL);
  const port: ByteLink = await openSerial(portPath, 115200);
  const child: ChildProcess = spawn(lua, [script, dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  const got: Buffer[] = [];
  let restarts = 0;
  let exited = false;
  child.on('exit', () => (exited = true));
  child.stdin!.on('error', () => {}); // bytes arriving while the test shuts the board down
  port.onData((b) => {
    const copy = Buffer.from(b);
    got.push(copy);
    if (!exited) child.stdin!.write(copy);
  });
  child.stdout!.on('data', (d: Buffer) => port.write(new Uint8Array(d)));
  child.stderr!.on('data', (d: Buffer) => {
    restarts += (d.toString().match(/RESTART/g) ?? []).length;
  });
  return {
    dir,
    received: () => Buffer.concat(got),
    restarts: () => restarts,
    async close() {
      child.kill();
      await port.close();
    },
  };
}
