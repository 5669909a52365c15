/**
 * `hookline flash --target nodemcu`: puts three files into a NodeMCU board's file system through
 * its Lua REPL (file.open / file.write / file.close), checks each by reading it back on the board,
 * then restarts it:
 *   hookline.lua  the app (dist/nodemcu/<lua>/hookline.lua, typescript-to-lua, Lua 5.1 or 5.3)
 *   machine.lua   the machine profile and its hash: return { profile = {...}, hash = n }
 *   init.lua      run at boot: dofile("hookline.lua").start(), under pcall (an error leaves the REPL)
 * --dry-run -o DIR writes those files and upload.txt, the exact bytes sent to the board.
 *
 * Protocol, line by line (each line waits for the REPL's "> " prompt before the next is sent):
 * first a run of spaces long enough to make a running hookline app give UART 0 back to the REPL
 * (device/nodemcu/main.ts CONSOLE_ESCAPE_RUN; to the REPL it is a blank line), then a sync line
 * whose answer cannot be its echo; per file: file.open(name, "w+"), file.write("…") lines of at
 * most LINE_MAX bytes (a NodeMCU input line holds 255), file.close(), and hl_ck(name), which reads
 * the file back on the board and prints its size and Adler-32 halves (plain arithmetic: exact in
 * Lua 5.1 doubles and in 32-bit Lua 5.3 integers). init.lua goes last, once the others are checked.
 */
import { checkBoardPins } from './board-pins';
import { LinkWaiter } from './link-waiter';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { builtArtifact } from '../package-root';
import { writeFileAtomic } from '../atomic-write';
import { hashText, machineHash } from '../stream/machine-hash';
import { MAX_FRAME } from '../../shared/link/frame';
import type { ByteLink } from '../link/serial';
import type { FlashOptions, FlashTarget } from './target';

export const BOARDS = ['ESP8266', 'ESP32'];
/** ESP32 by default: an ESP8266's ~40 KB of free heap cannot hold the runtime (docs/targets/nodemcu.md). */
export const DEFAULT_BOARD = 'ESP32';
export const LUA_VERSIONS = ['5.1', '5.3'];
/** NodeMCU's default firmware is Lua 5.1 on both chips; 5.3 is a build option. */
export const DEFAULT_LUA = '5.1';
/** Bytes per REPL line we send (NodeMCU reads up to 255 per line). */
export const LINE_MAX = 240;
/** Same as device/nodemcu/main.ts CONSOLE_ESCAPE_RUN (the app is not importable here). */
export const ESCAPE_RUN = MAX_FRAME + 10;
/** How long one line may take to be answered (hl_ck reads a whole file back). */
const LINE_TIMEOUT_MS = 15000;
const SYNC_LINE = 'print("HL".."SYNC")';
const SYNC_ANSWER = 'HLSYNC';
/**
 * Which step primitive the firmware has (device/nodemcu/hal.ts picks it at boot): the answer is
 * "HLMOD <gpio.pulse?> <rmt?>"; the echo cannot match (the name is split).
 */
const PROBE_LINE = 'print("HL".."MOD",gpio~=nil and gpio.pulse~=nil,rmt~=nil)';
/** What to build into the firmware when its step primitive is missing, per board. */
const MISSING_PRIMITIVE: Record<string, string> = {
  ESP8266:
    'has no gpio.pulse, which hookline steps the motors with; build NodeMCU with the GPIO_PULSE module (uncomment LUA_USE_MODULES_GPIO_PULSE in app/include/user_modules.h), flash that firmware, then run hookline flash again',
  ESP32:
    'has no rmt module, which hookline steps the motors with; build NodeMCU with the RMT module (menuconfig: NodeMCU modules → Remote Control pulse generator/receiver, CONFIG_NODEMCU_CMODULE_RMT), flash that firmware, then run hookline flash again',
};

export interface NodemcuFile {
  name: string;
  data: Buffer;
}

export interface NodemcuUpload {
  files: NodemcuFile[];
  /** The REPL lines sent, in order, each without its line end. */
  lines: string[];
  /** Which line indices are hl_ck(...) checks, with the file they check. */
  checks: Map<number, NodemcuFile>;
  hash: number;
}

/** A Lua expression for a JSON-like value (tables with ["key"] = value; arrays as sequences). */
export function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`luaLiteral: ${v} has no Lua literal`);
    return Number.isInteger(v) ? String(v === 0 ? 0 : v) : String(v);
  }
  if (typeof v === 'string') return luaString(Buffer.from(v, 'utf8'));
  if (Array.isArray(v)) {
    if (v.some((x) => x === null || x === undefined)) throw new Error('luaLiteral: an array with holes has no Lua sequence');
    return `{${v.map(luaLiteral).join(', ')}}`;
  }
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `[${luaString(Buffer.from(k, 'utf8'))}] = ${luaLiteral(x)}`);
    return `{${parts.join(', ')}}`;
  }
  throw new Error(`luaLiteral: cannot write a ${typeof v}`);
}

/** Escape one byte for a Lua "..." literal (5.1 and 5.3): printable ASCII as is, the rest \ddd. */
function escapeByte(b: number): string {
  if (b === 0x22 || b === 0x5c || b < 0x20 || b > 0x7e) return '\\' + String(b).padStart(3, '0');
  return String.fromCharCode(b);
}

export function luaString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) s += escapeByte(b);
  return s + '"';
}

/** Adler-32 of the bytes as its two halves (a, b), the way hl_ck computes it on the board. */
export function adlerParts(data: Uint8Array): [number, number] {
  let a = 1;
  let b = 0;
  for (const x of data) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return [a, b];
}

const INIT_LUA = `-- hookline (hookline flash --target nodemcu): start the machine runtime at boot.
-- An error (e.g. not enough memory to load hookline.lua) is printed and leaves the REPL free.
local ok, err = pcall(function() dofile("hookline.lua").start() end)
if not ok then print("hookline: " .. tostring(err)) end
`;

/** The board-side checker, one line: prints "HLCK<tab>size<tab>a<tab>b" (size 0 when there is no such file). */
const CHECKER =
  'function hl_ck(n) local a,b,c=1,0,0 if file.open(n,"r") then while 1 do local s=file.read(256) if not s then break end ' +
  'for i=1,#s do a=(a+s:byte(i))%65521 b=(b+a)%65521 end c=c+#s end file.close() end print("HLCK",c,a,b) end';

/** machine.lua: the profile and its hash as the app's start() reads them. */
export function machineLuaText(machine: object, board: string): string {
  return `-- hookline machine profile for ${board} (hookline flash --target nodemcu)\nreturn { hash = ${machineHash(machine)}, board = ${luaLiteral(board)}, profile = ${luaLiteral(machine)} }\n`;
}

/** The files for a board and the exact lines that upload them. */
export function makeNodemcuUpload(app: Buffer, machine: object, board: string): NodemcuUpload {
  const hash = machineHash(machine);
  const machineLua = machineLuaText(machine, board);
  const files: NodemcuFile[] = [
    { name: 'hookline.lua', data: app },
    { name: 'machine.lua', data: Buffer.from(machineLua, 'utf8') },
    { name: 'init.lua', data: Buffer.from(INIT_LUA, 'utf8') },
  ];
  const lines: string[] = [' '.repeat(ESCAPE_RUN), SYNC_LINE, PROBE_LINE, CHECKER];
  const checks = new Map<number, NodemcuFile>();
  for (const f of files) {
    lines.push(`file.open(${luaLiteral(f.name)},"w+")`);
    let chunk = '';
    for (const b of f.data) {
      const e = escapeByte(b);
      if (chunk.length + e.length > LINE_MAX - 'file.write("")'.length) {
        lines.push(`file.write("${chunk}")`);
        chunk = '';
      }
      chunk += e;
    }
    if (chunk.length > 0) lines.push(`file.write("${chunk}")`);
    lines.push('file.close()');
    checks.set(lines.length, f);
    lines.push(`hl_ck(${luaLiteral(f.name)})`);
  }
  lines.push('hl_ck=nil');
  lines.push('node.restart()');
  return { files, lines, checks, hash };
}

/** The bytes on the wire for the lines (each ended by "\n"). */
export function uploadBytes(lines: string[]): Buffer {
  return Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1');
}

function pick(value: string | undefined, allowed: string[], fallback: string, flag: string): string {
  const v = (value ?? fallback).toUpperCase();
  const hit = allowed.find((a) => a.toUpperCase() === v);
  if (!hit) throw new UserError(`flash: unknown --${flag} '${value}' for --target nodemcu; use one of ${allowed.join(', ')}`);
  return hit;
}

export const nodemcuFlash: FlashTarget = {
  name: 'nodemcu',
  async flash(opts: FlashOptions) {
    const board = pick(opts.board, BOARDS, DEFAULT_BOARD, 'board');
    const luaVersion = pick(opts.lua, LUA_VERSIONS, DEFAULT_LUA, 'lua');
    const app = readFileSync(builtArtifact(`dist/nodemcu/${luaVersion}/hookline.lua`));
    const up = makeNodemcuUpload(app, opts.machine, board);
    const what = `${up.files.map((f) => `${f.name} ${f.data.length} B`).join(', ')} (Lua ${luaVersion}, ${board}, machine hash ${hashText(up.hash)})`;
    checkBoardPins(opts.machine, opts.machinePath, board, opts.dryRun, opts.log);
    if (board === 'ESP8266') opts.log('warning: an ESP8266 has about 40 KB of free Lua heap; the runtime needs about 45 KB after boot plus its code, so it will most likely run out of memory (docs/targets/nodemcu.md, Memory); use an ESP32');
    if (opts.dryRun) {
      const dir = opts.out!;
      for (const f of up.files) writeFileAtomic(join(dir, f.name), f.data);
      const bytes = uploadBytes(up.lines);
      writeFileAtomic(join(dir, 'upload.txt'), bytes);
      opts.log(`wrote ${dir}: ${what}; upload.txt: the ${bytes.length} bytes that would be sent`);
      return;
    }
    const port = opts.port!;
    const { openSerial } = await import('../link/serial');
    const link = await openSerial(port, opts.baud);
    try {
      await sendUpload(link, up, port, opts, board);
    } finally {
      await link.close();
    }
    opts.log(`uploaded and verified ${what} on ${port}; the board restarts into hookline`);
  },
};

async function sendUpload(link: ByteLink, up: NodemcuUpload, port: string, opts: FlashOptions, board: string): Promise<void> {
  let text = '';
  const waiter = new LinkWaiter(link, port);

  link.onData((b) => {
    text += Buffer.from(b).toString('latin1');
    waiter.poke();
  });
  const waitFor = (cond: () => boolean, ms: number) => waiter.waitFor(cond, ms);
  /** The REPL answered a line: its output ends with the prompt on a line of its own (after the echo). */
  const prompted = () => text === '> ' || text.endsWith('\n> ');
  const send = (line: string) => {
    text = '';
    link.write(uploadBytes([line]));
  };
  const noAnswer = () =>
    new UserError(
      `flash: no answer from a NodeMCU REPL on ${port} within ${opts.timeoutMs / 1000} s; check --port, --baud (NodeMCU boots at 115200) and that the board runs NodeMCU firmware`,
    );

  // Escape run, then sync: the first answer that is not the echo proves a live REPL.
  send(up.lines[0]);
  const deadline = Date.now() + opts.timeoutMs;
  await waitFor(prompted, Math.min(1000, opts.timeoutMs));
  send(up.lines[1]);
  if (!(await waitFor(() => text.includes(SYNC_ANSWER + '\n') || text.includes(SYNC_ANSWER + '\r'), Math.max(0, deadline - Date.now())))) throw noAnswer();
  await waitFor(prompted, 2000);
  opts.log(`NodeMCU REPL on ${port}; uploading ${up.files.length} files in ${up.lines.length} lines`);

  for (let i = 2; i < up.lines.length; i++) {
    const line = up.lines[i];
    send(line);
    if (i === up.lines.length - 1) {
      // node.restart(): no prompt follows; its echo shows the line went out before the port closes.
      await waitFor(() => text.includes(line), 2000);
      break;
    }
    if (!(await waitFor(prompted, LINE_TIMEOUT_MS))) {
      throw new UserError(`flash: the NodeMCU on ${port} stopped answering at upload line ${i + 1} of ${up.lines.length}; reset the board and run hookline flash again`);
    }
    // Lua errors at the REPL start a line (an echoed line starts with our own code).
    const error = /(^|\n)(stdin:\d+:[^\n]*|not enough memory[^\n]*)/.exec(text);
    if (error) {
      throw new UserError(`flash: the NodeMCU on ${port} reported '${error[2].trim()}' at upload line ${i + 1}; check free flash (file.fsinfo()) and run hookline flash again`);
    }
    if (line === PROBE_LINE) {
      // Before anything is written: the firmware must have the board's step primitive.
      const m = /HLMOD\s+(true|false)\s+(true|false)/.exec(text);
      if (!m) throw new UserError(`flash: the NodeMCU on ${port} did not say which modules its firmware has (expected an HLMOD line); reset the board and run hookline flash again`);
      const has = board === 'ESP8266' ? m[1] === 'true' : m[2] === 'true';
      if (!has) throw new UserError(`flash: the ${board} NodeMCU firmware on ${port} ${MISSING_PRIMITIVE[board]}`);
      opts.log(`firmware has ${board === 'ESP8266' ? 'gpio.pulse' : 'rmt'} (the step generator)`);
      continue;
    }
    const f = up.checks.get(i);
    if (f) {
      const m = /HLCK\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text);
      const [a, b] = adlerParts(f.data);
      const got = m ? `${m[1]} B, adler ${m[2]}/${m[3]}` : 'no checksum line';
      if (!m || Number(m[1]) !== f.data.length || Number(m[2]) !== a || Number(m[3]) !== b) {
        throw new UserError(`flash: ${f.name} on the NodeMCU at ${port} reads back as ${got}, expected ${f.data.length} B, adler ${a}/${b}; try a lower --baud and run hookline flash again`);
      }
      opts.log(`${f.name}: ${f.data.length} B written and read back`);
    }
  }
}
