/**
 * The bytes `hookline flash --target espruino` sends to an Espruino REPL, made with EspruinoTools
 * (the `espruino` npm package, 0.1.67) exactly as its IDE/CLI would upload "direct to flash":
 *   1. CONSOLE_ESCAPE: a run of Ctrl-C bytes. A board running the hookline app holds the port for
 *      its link and gives it back to the REPL on such a run (device/espruino/main.ts); a REPL just
 *      clears its input line. Then "\n", to which a REPL answers with its ">" prompt (the tools'
 *      getEspruinoPrompt sends the same).
 *   2. the tools' CodeWriter.writeToEspruino output: "\x10reset();", "\x10print()", then the code
 *      reformatted for the REPL. The code is the machine profile (canonical JSON) and its hash
 *      written to Storage (Utils.getUploadFileCode), then the app bundle put through the tools'
 *      transformForEspruino processors with SAVE_ON_SEND = 1 (Storage .bootcde, run at every boot)
 *      and LOAD_STORAGE_FILE = 1 (load() at the end: the board restarts into the app).
 * Everything is deterministic (SET_TIME_ON_WRITE off), so a dry run writes the same bytes.
 */
import { createRequire } from 'node:module';
import * as nodeFs from 'node:fs';
import { canonicalJson, machineHash } from '../stream/machine-hash';

export const PROFILE_FILE = 'hookline.json';
export const HASH_FILE = 'hookline.hash';
/** More than device/espruino/main.ts CONSOLE_ESCAPE_RUN (80) non-zero bytes. */
export const CONSOLE_ESCAPE = '\x03'.repeat(96);
export const PROMPT_PROBE = '\n';
/** Sent first; the sender waits for the REPL prompt after it. */
export const PREAMBLE = CONSOLE_ESCAPE + PROMPT_PROBE;
/** The firmware the app's step generator needs (device/espruino/step-generator.ts). */
export const MIN_FIRMWARE = '2v29';
/**
 * Sent after the prompt, before anything is written: the board prints its version, board name and
 * whether it has what the step generator uses (require("timer").add, E.getAddressOf) on one line,
 * echo off (DLE), e.g. "HLFW 2v29.277 PICO function function". The sender refuses a board without
 * them before it sends the body (host/flash/espruino.ts).
 */
export const FIRMWARE_QUERY =
  '\x10print("HLFW",process.version,process.env.BOARD,(function(){try{return typeof require("timer").add}catch(e){return "none"}})(),typeof E.getAddressOf)\n';

/** What the board answered to FIRMWARE_QUERY. */
export interface FirmwareReport {
  version: string;
  board: string;
  timerAdd: string;
  getAddressOf: string;
}

/** The report in the board's output, or null while it has not arrived. */
export function parseFirmwareReport(text: string): FirmwareReport | null {
  const m = /HLFW (\S+) (\S+) (\S+) (\S+)\r?\n/.exec(text);
  return m ? { version: m[1], board: m[2], timerAdd: m[3], getAddressOf: m[4] } : null;
}

/** Major·1000 + minor of an Espruino version ('2v29.277' → 2029), 0 when unreadable. */
export function firmwareNumber(v: string): number {
  const m = /^(\d+)v(\d+)/.exec(v);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
}

/** What the firmware lacks for the app (one phrase), or null when it has everything. */
export function firmwareLacks(r: FirmwareReport): string | null {
  const missing: string[] = [];
  if (firmwareNumber(r.version) < firmwareNumber(MIN_FIRMWARE)) missing.push(`version ${MIN_FIRMWARE}`);
  if (r.timerAdd !== 'function') missing.push('require("timer").add');
  if (r.getAddressOf !== 'function') missing.push('E.getAddressOf');
  return missing.length === 0 ? null : missing.join(', ');
}
/** Espruino firmware the upload is made for: Storage (≥ 1v96) and load() from .bootcde. */
export const FIRMWARE = '2v25';

interface EspruinoTools {
  Config: Record<string, unknown>;
  Core: {
    Env: { getData(): Record<string, unknown>; setFirmwareVersion(v: string): void };
    Utils: { getUploadFileCode(name: string, contents: string): string; getEspruinoPrompt(cb: () => void): void };
    CodeWriter: { writeToEspruino(code: string, cb: () => void): void };
    Serial: { write(data: string, showStatus: boolean, cb?: () => void): void };
    Terminal?: { getTerminalLine(): string };
  };
  callProcessor(name: string, data: string, cb: (out: string) => void): void;
}

let tools: Promise<EspruinoTools> | null = null;

/** Load EspruinoTools once, quietly (it logs every file it loads), with no board attached. */
function loadTools(): Promise<EspruinoTools> {
  if (tools) return tools;
  tools = new Promise((resolve) => {
    // EspruinoTools' local-module loader uses a global `fs` (a bug in 0.1.67).
    const g = globalThis as Record<string, unknown>;
    if (g.fs === undefined) g.fs = nodeFs;
    const quiet = { log: console.log, warn: console.warn, info: console.info };
    console.log = console.warn = console.info = () => {};
    const esp = createRequire(import.meta.url)('espruino') as { init(cb: () => void): void };
    esp.init(() => {
      Object.assign(console, quiet);
      resolve(g.Espruino as EspruinoTools);
    });
  });
  return tools;
}

/** Run fn with the tools' console chatter silenced (their processors log progress). */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, warn: console.warn, info: console.info };
  console.log = console.warn = console.info = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

/** Storage (saved-code area) per board, bytes: Espruino's boards/*.py 'saved_code' pages × page size. */
export const BOARD_STORAGE: Record<string, number> = { PICO: 3 * 16384, ESPRUINOWIFI: 3 * 16384, ESP32: 64 * 4096 };
/** Left free in Storage for the progress files and their rewrites (Storage appends, then compacts). */
export const STORAGE_RESERVE = 4096;

export interface EspruinoUpload {
  /** Everything sent, in order: escape + probe, the firmware query, then body. */
  bytes: string;
  /** Sent first; the sender waits for the REPL prompt after it. */
  preamble: string;
  body: string;
  hash: number;
  profileJson: string;
  /** Bytes stored: .bootcde (the pretokenised app), the profile and the hash. */
  storedBytes: number;
  /** The body as EspruinoTools' Serial.write sends it: each piece, then a pause (uploadPieces). */
  pieces: UploadPiece[];
}

/** A piece of the upload body and the pause the sender keeps after it. */
export interface UploadPiece {
  data: string;
  pauseMs: number;
}

/** EspruinoTools' pause after a Ctrl-C, reset(), load(), Modules.addCached or Storage.write line. */
export const UPLOAD_PAUSE_MS = 250;
const SPLIT_AFTER = [/\x03/, /reset\(\);?\n/, /load\(\);?\n/, /Modules\.addCached\("[^\n]*"\);?\n/, /require\("Storage"\)\.write\([^\n]*\);?\n/];

/**
 * Split an upload body where EspruinoTools' own Serial.write (core/serial.js, findSplitIdx) splits
 * it and pauses 250 ms: after each Ctrl-C, reset(), load(), Modules.addCached(...) and
 * require("Storage").write(...) line. Sent without the pause after reset(), the REPL has already
 * taken the start of the next line into its input line when the reset runs and loses it (the real
 * interpreter: `Uncaught ReferenceError: "iOjMs…" is not defined`, then `Unable to find or create
 * file`). The pieces joined are the body.
 */
export function uploadPieces(body: string): UploadPiece[] {
  const out: UploadPiece[] = [];
  let rest = body;
  for (;;) {
    let end = -1;
    for (const re of SPLIT_AFTER) {
      const m = re.exec(rest);
      if (m && (end < 0 || m.index + m[0].length < end)) end = m.index + m[0].length;
    }
    if (end < 0) break;
    out.push({ data: rest.slice(0, end), pauseMs: UPLOAD_PAUSE_MS });
    rest = rest.slice(end);
  }
  if (rest.length > 0) out.push({ data: rest, pauseMs: 0 });
  return out;
}

export async function makeEspruinoUpload(app: string, profile: object, board: string): Promise<EspruinoUpload> {
  const E = await loadTools();
  return quietly(async () => {
    const C = E.Config;
    C.SAVE_ON_SEND = 1;
    C.LOAD_STORAGE_FILE = 1;
    C.RESET_BEFORE_SEND = true;
    C.SET_TIME_ON_WRITE = false;
    C.MINIFICATION_LEVEL = ''; // the bundle is minified by esbuild already
    C.PRETOKENISE = 1; // keywords and strings as byte tokens (firmware ≥ 2v20.48): the app then fits a Pico's Storage
    C.COMPILATION = false;
    C.ENV_ON_CONNECT = false;
    const env = E.Core.Env.getData();
    env.BOARD = board;
    E.Core.Env.setFirmwareVersion(FIRMWARE);
    env.info = { builtin_modules: ['Storage', 'timer'] };

    const profileJson = canonicalJson(profile);
    const hash = machineHash(profile);
    const app2 = await new Promise<string>((resolve) => E.callProcessor('transformForEspruino', app, resolve));
    const code =
      E.Core.Utils.getUploadFileCode(PROFILE_FILE, profileJson) + '\n' +
      E.Core.Utils.getUploadFileCode(HASH_FILE, String(hash)) + '\n' +
      app2;
    // writeToEspruino, with the serial write captured and the prompt handshake done by our sender.
    let body = '';
    const core = E.Core;
    const saved = { write: core.Serial.write, prompt: core.Utils.getEspruinoPrompt, terminal: core.Terminal };
    core.Serial.write = (data, _status, cb) => {
      body += data;
      if (cb) cb();
    };
    core.Utils.getEspruinoPrompt = (cb) => cb();
    core.Terminal = { getTerminalLine: () => '>' };
    try {
      await new Promise<void>((resolve) => core.CodeWriter.writeToEspruino(code, resolve));
    } finally {
      core.Serial.write = saved.write;
      core.Utils.getEspruinoPrompt = saved.prompt;
      core.Terminal = saved.terminal;
    }
    const preamble = PREAMBLE;
    const bootLen = Number(/,0,(\d+)\);?$/.exec(app2.split('\n')[0])?.[1] ?? app2.length);
    const storedBytes = bootLen + profileJson.length + String(hash).length;
    return { bytes: preamble + FIRMWARE_QUERY + body, preamble, body, hash, profileJson, storedBytes, pieces: uploadPieces(body) };
  });
}
