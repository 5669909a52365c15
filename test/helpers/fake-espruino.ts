/**
 * A fake Espruino board on one end of a real pseudo-terminal pair (test/helpers/pty.ts): a REPL
 * that answers like the firmware where `hookline flash` depends on it, and records every byte it
 * receives.
 *
 * REPL: a statement ends at a bare "\n" ("\x1b\n", Alt-Enter, continues it, as EspruinoTools sends
 * multi-line code); it runs in node:vm over the Espruino API shim (sim/targets/espruino-shim.ts), so
 * require("Storage").write(...) really fills this board's Storage. Echo, as on a board: typed
 * characters are echoed unless the line starts with "\x10" (DLE, echo off), an echoed statement
 * prints "=result"; every statement ends with the ">" prompt; an exception prints
 * "Uncaught <error>". Ctrl-C (0x03) clears the input line. reset() starts a new interpreter
 * (Storage kept); load() restarts the board: banner, run Storage ".bootcde", emit 'init' — the
 * hookline app then takes the port for its link (console → LoopbackA) and its bytes reach the host.
 * Nothing advances the fake's clock: the app boots and answers, but no timer ever fires.
 * Code in Storage may be pretokenised (EspruinoTools' PRETOKENISE: keywords and operators as single
 * bytes, strings and integers as raw tokens): the fake expands it with the tools' own token table.
 * Flow control: with xoffEvery = N it sends XOFF after every N received bytes and XON 20 ms later.
 * With storageFull, Storage.write throws (as Espruino's does when Storage has no room).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { openSerial, type ByteLink } from '../../host/link/serial';
import { VirtualMcu } from '../../sim/mcu';
import { espruinoShim, type EspruinoShim } from '../../sim/targets/espruino-shim';
import { MIN_FIRMWARE, firmwareNumber } from '../../host/flash/espruino-upload';

export const BANNER = '\r\n ____                 _\r\n|  __|___ ___ ___ _ _|_|___ ___\r\n|  __|_ -| . |  _| | | |   | . |\r\n|____|___|  _|_| |___|_|_|_|___|\r\n         |_| espruino.com\r\n 2v25 (c) 2024 G.Williams\r\n\r\n';

let tokenTable: { start: number; tokens: string[] } | null = null;

/** The token table of EspruinoTools' pretokeniser (the firmware's jslex.c order). */
function tokens(): { start: number; tokens: string[] } {
  if (tokenTable) return tokenTable;
  const src = readFileSync(createRequire(import.meta.url).resolve('espruino/plugins/pretokenise.js'), 'utf8');
  const start = Number(/LEX_OPERATOR_START\s*=\s*(\d+)/.exec(src)![1]);
  const list = /var TOKENS\s*=\s*(\[[\s\S]*?\]);/.exec(src)![1].replace(/\/\*[\s\S]*?\*\//g, '');
  return (tokenTable = { start, tokens: new Function(`return ${list}`)() as string[] });
}

/** Pretokenised code back to JavaScript text. */
export function detokenise(code: string): string {
  const { start, tokens: list } = tokens();
  let out = '';
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c === 0xd1 || c === 0xd2) {
      const n = c === 0xd1 ? code.charCodeAt(i + 1) : code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8);
      const at = i + (c === 0xd1 ? 2 : 3);
      out += JSON.stringify(code.slice(at, at + n));
      i = at + n - 1;
    } else if (c === 0xd3) out += ' 0 ';
    else if (c === 0xd4) {
      out += ` (${(code.charCodeAt(i + 1) << 24) >> 24}) `;
      i += 1;
    } else if (c === 0xd5) {
      out += ` (${((code.charCodeAt(i + 1) | (code.charCodeAt(i + 2) << 8)) << 16) >> 16}) `;
      i += 2;
    } else if (c >= start && c - start < list.length) out += ` ${list[c - start]} `;
    else out += code[i];
  }
  return out;
}

export interface FakeEspruino {
  /** Every byte received, in order. */
  received(): Buffer;
  storage: Map<string, string>;
  /** Statements run, and their errors. */
  statements: number;
  errors: string[];
  /** Times the board restarted with load(). */
  boots: number;
  /** Where the console is: 'USB' (REPL) or the device the app moved it to. */
  console: string;
  close(): Promise<void>;
}

export interface FakeOptions {
  /** Send XOFF after every this many received bytes (XON 20 ms later). */
  xoffEvery?: number;
  /** Storage.write throws, as on a board whose Storage is full. */
  storageFull?: boolean;
  /** process.version (default the shim's, 2v29.277); before 2v29 require("timer") is not found. */
  firmware?: string;
}

export async function fakeEspruino(path: string, opts: FakeOptions = {}): Promise<FakeEspruino> {
  const link: ByteLink = await openSerial(path, 115200);
  const chunks: Buffer[] = [];
  const storage = new Map<string, string>();
  let line = '';
  let echo = true;
  let atLineStart = true;
  let escPending = false;
  let sinceXoff = 0;
  const out = (s: string) => link.write(Buffer.from(s, 'latin1'));
  const state: FakeEspruino = {
    received: () => Buffer.concat(chunks),
    storage,
    statements: 0,
    errors: [],
    boots: 0,
    console: 'USB',
    close: () => link.close(),
  };
  let shim: EspruinoShim;
  let ctx: vm.Context;
  const boot = () => {
    // The board's Storage survives reset() and load().
    shim = espruinoShim(new VirtualMcu(), 0, {
      storage,
      serial: {
        write: (dev, bytes) => {
          if (dev === 'USB') link.write(Uint8Array.from(bytes));
        },
        console: (dev) => {
          state.console = dev;
        },
      },
    });
    const globals = { ...shim.globals };
    if (opts.firmware !== undefined) {
      const fw = opts.firmware;
      const req = globals.require as (n: string) => object;
      globals.process = { version: fw, env: { BOARD: 'PICO' } };
      globals.require = (n: string) => {
        if (n === 'timer' && firmwareNumber(fw) < firmwareNumber(MIN_FIRMWARE)) throw new Error('Module timer not found');
        return req(n);
      };
    }
    if (opts.storageFull) {
      const req = globals.require as (n: string) => object;
      const full = { ...req('Storage'), write: () => { throw new Error('Unable to find or create file'); } };
      globals.require = (n: string) => (n === 'Storage' ? full : req(n));
    }
    ctx = vm.createContext({
      ...globals,
      print: (...a: unknown[]) => {
        if (state.console === 'USB') out(a.map(String).join(' ') + '\r\n');
      },
      reset: () => {
        boot();
      },
      load: () => {
        // After this statement: the board restarts.
        setImmediate(restart);
      },
    });
  };
  const restart = () => {
    state.boots++;
    state.console = 'USB';
    boot();
    out(BANNER);
    const code = storage.get('.bootcde');
    if (code !== undefined) run(detokenise(code.replace(/\xff+$/, '')), false);
    shim.emit('init');
    if (state.console === 'USB') out('>');
  };
  const run = (src: string, showResult: boolean) => {
    state.statements++;
    try {
      const r = vm.runInContext(src, ctx);
      if (showResult) out('=' + String(r) + '\r\n');
    } catch (e) {
      state.errors.push(String(e));
      if (state.console === 'USB') out('Uncaught ' + String(e) + '\r\n');
    }
  };
  const replByte = (c: number) => {
    if (c === 0x10 && atLineStart) {
      echo = false;
      return;
    }
    if (c === 0x03) {
      line = '';
      atLineStart = true;
      echo = true;
      return;
    }
    if (c === 0x1b) {
      escPending = true;
      return;
    }
    if (c === 0x0a && escPending) {
      escPending = false;
      line += '\n';
      if (echo) out('\r\n:');
      return;
    }
    escPending = false;
    if (c === 0x0d) return;
    if (c === 0x0a) {
      const src = line;
      const shown = echo;
      line = '';
      atLineStart = true;
      echo = true;
      if (shown) out('\r\n');
      if (src.trim().length > 0) run(src, shown);
      if (state.console === 'USB') out('>');
      return;
    }
    atLineStart = false;
    line += String.fromCharCode(c);
    if (echo) out(String.fromCharCode(c));
  };
  boot();
  link.onData((b) => {
    chunks.push(Buffer.from(b));
    for (let i = 0; i < b.length; i++) {
      if (state.console === 'USB') replByte(b[i]);
      // The app holds the port: its link handler gets the bytes (and gives the port back on the escape).
      else shim.receive('USB', String.fromCharCode(b[i]));
    }
    if (opts.xoffEvery) {
      sinceXoff += b.length;
      if (sinceXoff >= opts.xoffEvery) {
        sinceXoff = 0;
        link.write(Uint8Array.of(0x13));
        setTimeout(() => link.write(Uint8Array.of(0x11)), 20);
      }
    }
  });
  return state;
}
