// The real Espruino interpreter (../shared/realchips/espruino: the Pico-like 32-bit ARM build under
// qemu-arm) counting its own instructions: a TCG plugin (insncount-vcpu.c here, built with gcc
// for Debian's qemu-user 7.2, plugin API 1) counts the guest instructions of the interpreter's main
// thread. Two things make the count exact and repeatable (the same to the instruction, run after
// run): stdin is a pipe held open and empty (at EOF the Linux build's input thread sees stdin
// readable all the time and feeds the REPL console events, so the main thread's count grew with
// wall time: 35 M to 5 970 M instructions for one script), and only the main thread is counted
// (the input thread polls every 50 ms of wall time). ESPRUINO_VIRTUAL_TIME=1: the clock stands still while
// JavaScript runs and jumps to the next timer when the interpreter sleeps, so the count is
// interpreter work only, the same on any host; ESPRUINO_NATIVE_CODE=1: the script is a native
// string, as .bootcde in a board's flash.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FIRMWARE } from '../../host/flash/espruino-upload';

export const REALCHIPS = resolve(process.env.HOOKLINE_REALCHIPS ?? '../shared/realchips', 'espruino');
export const ARM_BIN = join(REALCHIPS, 'bin/espruino_picolike_arm');
const SYSROOT = process.env.ARM_SYSROOT ?? '/usr/arm-linux-gnueabihf';
const PLUGIN_DIR = resolve('dist/realchips');
const PLUGIN = join(PLUGIN_DIR, 'libinsncount-vcpu.so');
const PLUGIN_SRC = new URL('./insncount-vcpu.c', import.meta.url).pathname;

export function realAvailable(): string | null {
  if (!existsSync(ARM_BIN)) return `${ARM_BIN} absent`;
  if (spawnSync('sh', ['-c', 'command -v qemu-arm && command -v gcc'], { encoding: 'utf8' }).status !== 0) return 'qemu-arm or gcc not installed (apt: qemu-user gcc)';
  if (!existsSync(SYSROOT)) return `${SYSROOT} absent (apt: libc6-armhf-cross)`;
  return null;
}

function plugin(): string {
  if (!existsSync(PLUGIN)) {
    mkdirSync(PLUGIN_DIR, { recursive: true });
    execFileSync('gcc', ['-shared', '-fPIC', '-O2', existsSync(PLUGIN_SRC) ? PLUGIN_SRC : resolve('bench/espruino-cost/insncount-vcpu.c'), '-o', PLUGIN]);
  }
  return PLUGIN;
}

export interface RealRun {
  insns: number;
  out: string;
}

/** Run a file-mode script in the ARM build under qemu; the main thread's guest instructions. */
export function armCount(script: Buffer | string, timeoutS = 600): Promise<RealRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-armcount-'));
  writeFileSync(join(dir, 'w.js'), script);
  return new Promise((res, rej) => {
    const p = spawn('qemu-arm', ['-L', SYSROOT, '-plugin', plugin(), '-d', 'plugin', ARM_BIN, 'w.js'], {
      cwd: dir,
      env: { ...process.env, ESPRUINO_VIRTUAL_TIME: '1', ESPRUINO_NATIVE_CODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'], // stdin held open, never written: no EOF
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      p.stdin.destroy();
      rmSync(dir, { recursive: true, force: true });
      const m = /(?:^|>)insns (\d+)/m.exec(out);
      if (!m) rej(new Error(`armCount: no instruction count (status ${code}, signal ${signal}): ${out.slice(-500)}`));
      else res({ insns: Number(m[1]), out });
    });
  });
}

type Tools = { Plugins: { Pretokenise: { tokenise(code: string): string } }; Config: Record<string, unknown>; Core: { Env: { setFirmwareVersion(v: string): void } } };
let tools: Promise<Tools> | null = null;

/** EspruinoTools' own pretokeniser, as `hookline flash --target espruino` stores .bootcde (firmware FIRMWARE). */
export async function pretokenise(code: string): Promise<Buffer> {
  tools ??= new Promise((res) => {
    const g = globalThis as Record<string, unknown>;
    if (g.fs === undefined) g.fs = nodeFs; // EspruinoTools 0.1.67's local-module loader needs a global fs
    const quiet = { log: console.log, warn: console.warn, info: console.info };
    console.log = console.warn = console.info = () => {};
    (createRequire(import.meta.url)('espruino') as { init(cb: () => void): void }).init(() => {
      Object.assign(console, quiet);
      res(g.Espruino as Tools);
    });
  });
  const E = await tools;
  E.Config.PRETOKENISE = 1;
  E.Core.Env.setFirmwareVersion(FIRMWARE);
  return Buffer.from(E.Plugins.Pretokenise.tokenise(code), 'latin1');
}

export function readJson<T>(path: string, fallback: T): T {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback;
}
