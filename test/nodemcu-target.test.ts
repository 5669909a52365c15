import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { decodeAll, realisticPath } from '../bench/fuzz-stream';
import { simulate } from '../sim/simulate';
import { nodemcuTarget } from '../sim/targets/nodemcu';
import { machineHash } from '../host/stream/machine-hash';
import { LINE_MAX, makeNodemcuUpload, uploadBytes } from '../host/flash/nodemcu';
import { FR_OK, FrameDecoder, encodeFrame } from '../shared/link/frame';
import { PROTOCOL_VERSION, T_HELLO, T_HELLO_REPLY, getUint } from '../shared/link/protocol';
import { ST_UNHOMED } from '../device/runtime';
import { luaString } from '../host/flash/nodemcu';
import { nativeLua } from './helpers/lua';
import { repoRoot, runCli, tempDir, runCliAsync } from './helpers/cli';
import { hasSocat, ptyPair } from './helpers/pty';
import { LUA51_BIT, fakeNodemcu } from './helpers/fake-nodemcu';
import { LUA_GPIO_STUB, luaHeapKb } from '../sim/targets/lua-heap';
import { refGantry } from './helpers/rig';
import { waitUntil } from './helpers/wait';
import { loadMachine } from '../host/machine/load';

const lua51 = nativeLua('5.1');
const lua53 = nativeLua('5.3');
const app = (v: string) => join(repoRoot, 'dist/nodemcu', v, 'hookline.lua');

/** Run Lua source in a native interpreter (5.1 gets NodeMCU's bit module from the shim). */
function runLua(interpreter: string, code: string, cwd?: string): string {
  return execFileSync(interpreter, ['-'], { input: (interpreter.endsWith('5.1') ? LUA51_BIT : '') + code, encoding: 'utf8', maxBuffer: 64 << 20, cwd });
}

/**
 * Boot the uploaded app (init.lua → hookline.lua start()) in a native Lua with a minimal ESP8266
 * API (gpio, tmr, node.task, file for progress, uart capturing its data callback), send it a HELLO
 * frame and then a run of spaces; print what it wrote to the UART (hex), whether the UART went
 * back to the interpreter, and what it printed.
 */
const APP_DRIVER = `${LUA_GPIO_STUB}local T = {}
T.__index = T
function T:alarm(ms, mode, fn) self.fn = fn return true end
function T:stop() self.fn = nil return true end
function T:unregister() self.fn = nil end
local now = 0
tmr = { ALARM_SINGLE = 0, ALARM_AUTO = 2, create = function() return setmetatable({}, T) end,
  now = function() return now end, delay = function(us) now = now + us end }
node = { task = { LOW_PRIORITY = 0, post = function() end } }
local store = {}
local cur
file = {}
function file.open(n, m) if string.sub(m, 1, 1) == "r" and store[n] == nil then return nil end cur = n if string.sub(m, 1, 1) == "w" then store[n] = "" end return true end
function file.read() local s = store[cur] store[cur] = store[cur] return s end
function file.write(s) store[cur] = store[cur] .. s return true end
function file.close() cur = nil end
local sent, cb, prints = {}, nil, {}
uart = {}
function uart.on(ev, n, fn, run) cb = fn end
function uart.write(id, s) sent[#sent + 1] = s end
print = function(...) prints[#prints + 1] = table.concat({...}, " ") end
dofile("init.lua")
cb(HELLO)
local linked = cb ~= nil
cb(string.rep(" ", 100))
local hex = {}
local all = table.concat(sent)
for i = 1, #all do hex[#hex + 1] = string.format("%02x", string.byte(all, i)) end
io.write(table.concat(hex), "\\n", tostring(linked), " ", tostring(cb == nil), "\\n", table.concat(prints, "|"), "\\n")
`;


/**
 * `hookline flash` against a port where nothing answers, started at once (it mostly waits, so it
 * runs beside the tests that simulate): exit code, stderr and wall ms, timed by the shell.
 */
async function silentPortRun(): Promise<{ code: number; stderr: string; ms: number }> {
  const pty = await ptyPair();
  const script = 'S=$(date +%s%N); "$0" "$@"; R=$?; echo "exit=$R ms=$(( ($(date +%s%N) - S) / 1000000 ))" >&2';
  const args = [join(repoRoot, 'bin/hookline.js'), 'flash', '--target', 'nodemcu', '--port', pty.a, '--machine', ESP32_MACHINE];
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', script, process.execPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', () => {
      pty.close();
      const t = /exit=(\d+) ms=(\d+)\n$/.exec(stderr);
      resolve({ code: t ? Number(t[1]) : -1, ms: t ? Number(t[2]) : -1, stderr: stderr.replace(/exit=\d+ ms=\d+\n$/, '') });
    });
  });
}


/** Every rising step edge as a running hash and a count, plus the first few edges. */
function stepRecorder(m: ReturnType<typeof refGantry>) {
  const stepPins = [m.axes.x.pins.step, m.axes.y.pins.step, m.axes.z.pins.step];
  const rec = { hash: 0, count: 0, first: [] as number[][] };
  return {
    rec,
    listener: {
      edge(pin: number, level: number, t: number) {
        if (level !== 1 || !stepPins.includes(pin)) return;
        rec.hash = (rec.hash * 31 + pin * 1000003 + t) % 2147483647;
        rec.count++;
        if (rec.first.length < 50) rec.first.push([pin, t]);
      },
    },
  };
}

const m = refGantry();
/** ref-gantry wired for an ESP32 (its default pins are the ESP32's flash pins, which flash refuses). */
const ESP32_MACHINE = join(repoRoot, 'machines/ref-gantry-esp32.json');
/** The profile as the CLI reads it (validated), which is what flash stores. */
const loaded = loadMachine(ESP32_MACHINE);
const shortPlan = Uint8Array.from(encodeStream([0, 9, 18, 5], 160, [0], { version: 4, machineHash: machineHash(m) }));
/** Power on near the endstops: homing is short (fengari runs ~20 k steps/s). */
const startMm = [10, 10, 25];

describe('NodeMCU target', () => {
  // Runs alongside the other tests (it mostly waits); checked by the last one.
  const silent = hasSocat() ? silentPortRun() : null;
  const plans = [
    { hooks: 160, path: realisticPath(11, 3000, 160), colors: [0], chunkHooks: undefined },
    { hooks: 400, path: realisticPath(12, 1500, 400), colors: [0, 0xff0000], chunkHooks: 300 },
  ].map((p) => {
    const ops = p.colors.length > 1 ? [...p.path.slice(0, 700), -2, ...p.path.slice(700)] : p.path;
    const b = Uint8Array.from(encodeStream(ops, p.hooks, p.colors, { version: 4, chunkHooks: p.chunkHooks, machineHash: 0x2badcafe }));
    return { bytes: b, hooks: decodeAll(b).ops.filter((o) => o >= 0) };
  });
  const decodeCode = (bundle: string, bytes: Uint8Array) =>
    `local hl = dofile(${JSON.stringify(bundle)})\nio.write(table.concat(hl.decodeHooks({${Array.from(bytes).join(',')}}), ","))`;

  it.skipIf(!lua51)('the Lua 5.1 app build decodes bench-like streams exactly like the host in Debian lua5.1', () => {
    for (const p of plans) expect(runLua(lua51!, decodeCode(app('5.1'), p.bytes)).split(',').map(Number)).toEqual(p.hooks);
    const bad = plans[0].bytes.map((b, i) => (i === 60 ? b ^ 8 : b));
    const out = runLua(lua51!, decodeCode(app('5.1'), bad)).split(',').map(Number);
    expect(out).toEqual([decodeAll(bad).error]);
  });

  it.skipIf(!lua53)('the Lua 5.3 app build decodes them the same in Debian lua5.3', () => {
    for (const p of plans) expect(runLua(lua53!, decodeCode(app('5.3'), p.bytes)).split(',').map(Number)).toEqual(p.hooks);
  });

  it('runs a short plan in the simulator from the built Lua (fengari): same wrapped hooks and the same step edges as native', () => {
    const native = stepRecorder(m);
    const lua = stepRecorder(m);
    const a = simulate(shortPlan, m, { startMm, skipEstimates: true, onEdge: native.listener });
    const b = simulate(shortPlan, m, { startMm, skipEstimates: true, onEdge: lua.listener, target: nodemcuTarget({ board: 'ESP8266', primitives: 'none' }) });
    expect(a.ok).toBe(true);
    expect(b.ok).toBe(true);
    expect(b.wrapped).toEqual([0, 9, 18, 5]);
    expect(b.wrappedDirs).toEqual(a.wrappedDirs);
    expect(b.report.stateName).toBe('done');
    expect(b.storedLine).toBe(a.storedLine);
    expect(b.flashWrites).toBeGreaterThan(0);
    expect(b.flashWrites).toBeLessThanOrEqual(a.flashWrites);
    // Busy-waited events land on the µs: every step edge of the run at the native time.
    expect(lua.rec.first).toEqual(native.rec.first);
    expect(lua.rec.count).toBe(native.rec.count);
    expect(lua.rec.hash).toBe(native.rec.hash);
    expect(b.machineSeconds).toBe(a.machineSeconds);
    // The HAL batches events into slices: far fewer Lua timer callbacks than step events.
    expect(b.timerEvents).toBeLessThan(a.timerEvents / 5);
  });

  it('strings a ref-ring plan from the built Lua (RingPath inside Lua) exactly like native, with the ESP8266 and the ESP32 API', () => {
    const ring = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8'));
    const plan = Uint8Array.from(encodeStream([0, 7, 15, 3], 200, [0], { version: 4, machineHash: machineHash(ring) }));
    const a = simulate(plan, ring, { skipEstimates: true });
    const b = simulate(plan, ring, { skipEstimates: true, target: nodemcuTarget({ board: 'ESP8266', primitives: 'none' }) });
    expect(b.ok).toBe(true);
    expect(b.wrapped).toEqual(a.wrapped);
    expect(b.wrappedDirs).toEqual(a.wrappedDirs);
    expect(b.machineSeconds).toBe(a.machineSeconds);
    // The ESP32 firmware's API (gpio.config, node.uptime, 10 ms alarms, no tmr.delay: every step
    // by the RMT): the same hooks, the same sides.
    const c = simulate(plan, ring, { skipEstimates: true, target: nodemcuTarget({ board: 'ESP32' }) });
    expect(c.ok).toBe(true);
    expect(c.wrapped).toEqual(a.wrapped);
    expect(c.wrappedDirs).toEqual(a.wrappedDirs);
  });

  it('flash --dry-run writes the files and the exact upload; lines fit NodeMCU\'s input buffer; machine.lua is the profile', () => {
    const dir = tempDir();
    const r = runCli(['flash', '--target', 'nodemcu', '--dry-run', '-o', dir, '--lua', '5.3', '--board', 'esp32', '--machine', ESP32_MACHINE]);
    expect(r.stderr).toContain('ESP32');
    expect(r.stderr).not.toContain('warning');
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['hookline.lua', 'init.lua', 'machine.lua', 'upload.txt']);
    expect(readFileSync(join(dir, 'hookline.lua'))).toEqual(readFileSync(app('5.3')));
    const up = makeNodemcuUpload(readFileSync(app('5.3')), loaded, 'ESP32');
    expect(readFileSync(join(dir, 'upload.txt'))).toEqual(uploadBytes(up.lines));
    expect(Math.max(...up.lines.map((l) => l.length))).toBeLessThanOrEqual(LINE_MAX);
    if (lua51) {
      // Every leaf of machine.lua's profile equals the JSON profile's (numbers exactly).
      const leaves = runLua(lua51, `
        local t = dofile(${JSON.stringify(join(dir, 'machine.lua'))})
        local function walk(p, v)
          if type(v) == "table" then
            local keys = {}
            for k in pairs(v) do keys[#keys + 1] = k end
            table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
            for _, k in ipairs(keys) do walk(p .. "/" .. (type(k) == "number" and (k - 1) or k), v[k]) end
          else io.write(p, "=", type(v) == "number" and string.format("%.17g", v) or tostring(v), "\\n") end
        end
        walk("", t.profile)
        io.write("hash=", t.hash, "\\n")`);
      const want: string[] = [];
      const walk = (p: string, v: unknown) => {
        if (v !== null && typeof v === 'object') Object.entries(v).forEach(([k, x]) => walk(`${p}/${k}`, x));
        else want.push(`${p}=${String(v)}`);
      };
      walk('', loaded);
      const gotLines = leaves.trim().split('\n');
      expect(gotLines.pop()).toBe(`hash=${machineHash(loaded)}`);
      const norm = (l: string) => {
        const [k, v] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
        return `${k}=${v !== '' && !Number.isNaN(Number(v)) ? Number(v) : v}`;
      };
      expect(gotLines.map(norm).sort()).toEqual(want.map(norm).sort());
    }
  });

  it.skipIf(!hasSocat() || !lua53)(
    'flash over a pty to a fake NodeMCU that runs the upload in lua5.3: files equal the dry run, the bytes equal upload.txt, and the uploaded runtime strings a plan in the simulator',
    async () => {
      const dry = tempDir();
      expect(runCli(['flash', '--target', 'nodemcu', '--dry-run', '-o', dry, '--lua', '5.3', '--machine', ESP32_MACHINE]).code).toBe(0);
      const pty = await ptyPair();
      const board = await fakeNodemcu(pty.b, lua53!);
      try {
        const r = await runCliAsync(['flash', '--target', 'nodemcu', '--port', pty.a, '--lua', '5.3', '--machine', ESP32_MACHINE]);
        expect(r.stderr).toContain('read back');
        expect(r.code).toBe(0);
        for (const f of ['hookline.lua', 'machine.lua', 'init.lua']) expect(readFileSync(join(board.dir, f))).toEqual(readFileSync(join(dry, f)));
        expect(board.received()).toEqual(readFileSync(join(dry, 'upload.txt')));
        // The restart request is the upload's last line: the fake board's Lua reports it a moment later.
        expect(await waitUntil(() => board.restarts() > 0)).toBe(true);
        expect(board.restarts()).toBe(1);
      } finally {
        await board.close();
        pty.close();
      }
      const rec = stepRecorder(m);
      const native = stepRecorder(m);
      const small = Uint8Array.from(encodeStream([3, 12, 20], 160, [0], { version: 4, machineHash: machineHash(m) }));
      const a = simulate(small, m, { startMm, skipEstimates: true, onEdge: native.listener });
      const b = simulate(small, m, { startMm, skipEstimates: true, onEdge: rec.listener, target: nodemcuTarget({ bundlePath: join(board.dir, 'hookline.lua'), board: 'ESP8266', primitives: 'none' }) });
      expect(b.ok).toBe(true);
      expect(a.ok).toBe(true);
      expect(b.wrapped).toEqual([3, 12, 20]);
      expect(rec.rec.hash).toBe(native.rec.hash);
    },
  );

  it.skipIf(!hasSocat() || !lua51)('flash --lua 5.1 to a fake NodeMCU in lua5.1: the files equal the dry run; init.lua boots the app, which answers HELLO with the machine hash', async () => {
    const dry = tempDir();
    expect(runCli(['flash', '--target', 'nodemcu', '--dry-run', '-o', dry, '--machine', ESP32_MACHINE]).code).toBe(0);
    const pty = await ptyPair();
    const board = await fakeNodemcu(pty.b, lua51!);
    try {
      const r = await runCliAsync(['flash', '--target', 'nodemcu', '--port', pty.a, '--machine', ESP32_MACHINE]);
      expect(r.code).toBe(0);
      for (const f of ['hookline.lua', 'machine.lua', 'init.lua']) expect(readFileSync(join(board.dir, f))).toEqual(readFileSync(join(dry, f)));
    } finally {
      await board.close();
      pty.close();
    }
    const out = runLua(lua51!, `local hl = dofile(${JSON.stringify(join(board.dir, 'hookline.lua'))})
      local mach = dofile(${JSON.stringify(join(board.dir, 'machine.lua'))})
      io.write(type(hl.start), " ", mach.hash, " ", mach.profile.hooks.count)`);
    expect(out).toBe(`function ${machineHash(loaded)} 160`);
    // init.lua boots the app on the UART: a boot HELLO_REPLY, another for our HELLO, both with the
    // machine hash from machine.lua; a run of spaces gives the UART back to the interpreter.
    const hello: number[] = [];
    encodeFrame(T_HELLO, 0, 0, [PROTOCOL_VERSION], hello);
    const [hex, flags, prints] = runLua(lua51!, APP_DRIVER.replace('cb(HELLO)', `cb(${luaString(Uint8Array.from(hello))})`), board.dir).split('\n');
    const frames = new FrameDecoder();
    const replies: number[][] = [];
    for (const b of Buffer.from(hex, 'hex')) if (frames.push(b) === FR_OK && frames.type === T_HELLO_REPLY) replies.push(frames.payload.slice(0, frames.length));
    expect(replies).toHaveLength(2);
    for (const r of replies) {
      expect(getUint(r, 3, 4)).toBe(machineHash(loaded));
      expect(r[11]).toBe(ST_UNHOMED);
    }
    expect(flags).toBe('true true');
    expect(prints).toContain('state unhomed');
    expect(prints).toContain('hookline: console');
  });

  it.skipIf(!hasSocat() || !lua53)('firmware without the board\'s step primitive (rmt on ESP32, gpio.pulse on ESP8266) is refused before anything is written (exit 2, one line naming the module)', async () => {
    for (const [board, opts, module] of [
      ['esp32', { rmt: false }, /has no rmt module, .*CONFIG_NODEMCU_CMODULE_RMT/],
      ['esp8266', { gpioPulse: false }, /has no gpio\.pulse, .*LUA_USE_MODULES_GPIO_PULSE/],
    ] as const) {
      const pty = await ptyPair();
      const fake = await fakeNodemcu(pty.b, lua53!, opts);
      try {
        // (ref-gantry needs more pins than an ESP8266 has free: a ring moved off the UART pins.)
        const ring = JSON.parse(readFileSync(join(repoRoot, 'machines/ref-ring.json'), 'utf8'));
        ring.ring.pins.hall = 1;
        ring.arm.pin = 0;
        const ringPath = join(tempDir(), 'ring8266.json');
        writeFileSync(ringPath, JSON.stringify(ring));
        const machine = board === 'esp32' ? ESP32_MACHINE : ringPath;
        const r = await runCliAsync(['flash', '--target', 'nodemcu', '--board', board, '--port', pty.a, '--lua', '5.3', '--machine', machine]);
        expect(r.code).toBe(2);
        const errors = r.stderr.split('\n').filter((l) => l.startsWith('hookline:'));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(module);
        expect(fake.received().toString('latin1')).not.toContain('file.open');
        expect(readdirSync(fake.dir)).toEqual([]);
      } finally {
        await fake.close();
        pty.close();
      }
    }
  });

  it.skipIf(!hasSocat() || !lua53)('a file that reads back wrong on the board fails the flash (exit 2, names the file)', async () => {
    const pty = await ptyPair();
    const board = await fakeNodemcu(pty.b, lua53!, { corruptWrite: 200 });
    try {
      const r = await runCliAsync(['flash', '--target', 'nodemcu', '--port', pty.a, '--lua', '5.3', '--machine', ESP32_MACHINE]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/hookline\.lua on the NodeMCU at .* reads back as \d+ B, adler/);
      expect(board.restarts()).toBe(0);
    } finally {
      await board.close();
      pty.close();
    }
  });

  it.skipIf(!lua51 || !lua53)('Lua heap: runtime ≈ 40 KB after boot, stream decoder state < 1 KB (51 integers in one exact-size table)', () => {
    for (const [v, interp] of [['5.1', lua51!], ['5.3', lua53!]]) {
      const dir = tempDir();
      expect(runCli(['flash', '--target', 'nodemcu', '--dry-run', '-o', dir, '--lua', v, '--machine', ESP32_MACHINE]).code).toBe(0);
      const { code, runtime, session, decoder } = luaHeapKb(interp, dir, interp.endsWith('5.1') ? LUA51_BIT : '');
      expect(code).toBeGreaterThan(150);
      // (The step outputs for gpio.pulse and rmt added ~25 KB: docs/targets/nodemcu.md, Step generation.)
      expect(code).toBeLessThan(340);
      expect(runtime).toBeGreaterThan(20);
      expect(runtime).toBeLessThan(64);
      expect(session).toBeLessThan(16);
      console.log(`lua${v}: code ${code.toFixed(1)} KB, runtime ${runtime.toFixed(1)} KB, session ${session.toFixed(1)} KB, decoder ${(decoder * 1024).toFixed(0)} B`);
      expect(decoder).toBeGreaterThan(0.5);
      expect(decoder).toBeLessThanOrEqual(1);
    }
  });

  it('hookline sim --target nodemcu strings a plan with an ok verdict', () => {
    const dir = tempDir();
    const plan = join(dir, 'plan.hls');
    writeFileSync(plan, Uint8Array.from(encodeStream([7, 16], 160, [0], { version: 4, machineHash: machineHash(loaded) })));
    const r = runCli(['sim', plan, '--machine', ESP32_MACHINE, '-o', dir, '--target', 'nodemcu', '--width', '128']);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.target).toBe('nodemcu');
    expect(report.ok).toBe(true);
    expect(report.wrapped).toEqual([7, 16]);
  });

  it.skipIf(!hasSocat())('flash to a port where nothing answers fails after its 8 s wait with one clear line, exit 2', async () => {
    const s = await silent!;
    expect(s.code).toBe(2);
    // It ends (not a hang) after waiting the 8 s the message names; the wall time (s.ms) also holds
    // node's start-up, seconds on a busy machine, so only its lower bound is a real condition.
    expect(s.ms).toBeGreaterThanOrEqual(8000);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
    expect(s.stderr).toMatch(/no answer from a NodeMCU REPL on .* within 8 s/);
  });
});
