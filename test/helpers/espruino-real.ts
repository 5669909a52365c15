// The real Espruino interpreter (../shared/realchips/espruino: Espruino's own firmware built for
// Linux with a Pico's interpreter settings, 5100 JsVars) driven as a board is: its REPL on
// stdin/stdout, the upload body `hookline flash --target espruino` sends, paced as EspruinoTools
// paces it, then the app's link on the same port (the Linux build's console device).
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uploadPieces } from '../../host/flash/espruino-upload';
import { repoRoot, runCli, tempDir } from './cli';

export const REALCHIPS_ESPRUINO = join(repoRoot, '../shared/realchips/espruino');
export const PICOLIKE_BIN = join(REALCHIPS_ESPRUINO, 'bin/espruino_picolike');
/** The 32-bit ARM build: 13-byte JsVars, packed exactly as on a Pico; run under qemu-arm. */
export const PICOLIKE_ARM_BIN = join(REALCHIPS_ESPRUINO, 'bin/espruino_picolike_arm');
/** Debian's armhf runtime (libc6-armhf-cross), qemu-arm's -L. */
export const ARM_SYSROOT = '/usr/arm-linux-gnueabihf';

/** Why the real-interpreter tests cannot run here, or null when they can. */
export function espruinoUnavailable(): string | null {
  if (!existsSync(PICOLIKE_BIN)) return '../shared/realchips/espruino (the Pico-like Espruino build for Linux) is absent: the real-Espruino tests are skipped';
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the Pico-like Espruino build is x86-64 Linux, this is ${process.platform}/${process.arch}: the real-Espruino tests are skipped`;
  return null;
}

/** Why the ARM build cannot run here, or null when it can. */
export function espruinoArmUnavailable(): string | null {
  if (!existsSync(PICOLIKE_ARM_BIN)) return '../shared/realchips/espruino/bin/espruino_picolike_arm is absent: the Pico-packing memory test is skipped';
  if (spawnSync('qemu-arm', ['--version']).status !== 0) return 'qemu-arm is not installed (apt: qemu-user): the Pico-packing memory test is skipped';
  if (!existsSync(join(ARM_SYSROOT, 'lib/ld-linux-armhf.so.3'))) return `${ARM_SYSROOT} has no ARM runtime (apt: libc6-armhf-cross): the Pico-packing memory test is skipped`;
  return null;
}

/** The bytes `hookline flash --target espruino --dry-run` writes (the built CLI, the default machine). */
export function dryRunUpload(machine?: string): Buffer {
  const file = join(tempDir(), 'upload.js');
  const r = runCli(['flash', '--target', 'espruino', '--dry-run', '-o', file, ...(machine ? ['--machine', machine] : [])]);
  if (r.code !== 0) throw new Error(`hookline flash --dry-run failed: ${r.stderr}`);
  return readFileSync(file);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RealEspruino {
  readonly out: number[] = [];
  private dir = mkdtempSync(join(tmpdir(), 'hookline-espruino-'));
  readonly p: ChildProcessWithoutNullStreams;
  exitCode: number | null = null;
  /** The signal it died of, if any (a crash: SIGSEGV under qemu, a general protection fault on x86-64). */
  signal: NodeJS.Signals | null = null;
  exited = false;
  private listeners: ((b: Buffer) => void)[] = [];

  /** arm: the 32-bit ARM build under qemu-arm (Pico packing) instead of the x86-64 one. */
  constructor(env: Record<string, string> = {}, arm = false) {
    // A fresh directory: its fake flash (espruino.flash) starts empty, as a fresh board's Storage.
    const [cmd, args] = arm ? ['qemu-arm', ['-L', ARM_SYSROOT, PICOLIKE_ARM_BIN]] : [PICOLIKE_BIN, []];
    this.p = spawn(cmd, args, { cwd: this.dir, env: { ...process.env, ...env } });
    this.p.stdout.on('data', (b: Buffer) => {
      for (const x of b) this.out.push(x);
      for (const l of this.listeners) l(b);
    });
    this.p.stderr.on('data', (b: Buffer) => {
      for (const x of b) this.out.push(x);
    });
    this.p.on('close', (code, signal) => { // (after stdout and stderr ended: the pin counters are in)
      this.exited = true;
      this.exitCode = code;
      this.signal = signal;
    });
  }

  onData(l: (b: Buffer) => void): void {
    this.listeners.push(l);
  }

  text(from = 0): string {
    return Buffer.from(this.out.slice(from)).toString('latin1');
  }

  /** Write in 256-byte pieces a few ms apart (a serial line, not one burst). */
  async send(data: Buffer | Uint8Array, chunk = 256, pauseMs = 3): Promise<void> {
    for (let i = 0; i < data.length; i += chunk) {
      this.p.stdin.write(Buffer.from(data.subarray(i, i + chunk)));
      await sleep(pauseMs);
    }
  }

  /**
   * The upload body as the flasher sends it: EspruinoTools' pieces (uploadPieces: 250 ms after
   * reset(), load() and each Storage.write), 256-byte chunks at 115200 baud's pace (22 ms each,
   * host/flash/espruino.ts). Faster than the line, the Linux build's input queue can overflow while
   * the REPL parses a long Storage.write on a loaded host (a board's USB would hold the data back).
   */
  async sendLikeTools(body: Buffer): Promise<void> {
    for (const piece of uploadPieces(body.toString('latin1'))) {
      await this.send(Buffer.from(piece.data, 'latin1'), 256, (256 * 10 * 1000) / 115200);
      await sleep(piece.pauseMs);
    }
  }

  /** Write a Storage file from the REPL (then EspruinoTools' 250 ms pause after a Storage.write). */
  async writeStorageFile(name: string, text: string): Promise<void> {
    const mark = this.out.length;
    await this.send(Buffer.from(`\x10require("Storage").write(${JSON.stringify(name)},atob(${JSON.stringify(Buffer.from(text, 'latin1').toString('base64'))}));\n`, 'latin1'));
    await sleep(250);
    const length = await this.probe<number>(`(require("Storage").read(${JSON.stringify(name)})||"").length`);
    if (length !== text.length || /Uncaught|Error/.test(this.text(mark))) throw new Error(`writing ${name} to Storage failed (${length} of ${text.length} bytes): ${this.text(mark).trim().slice(0, 300)}`);
  }

  /** Evaluate `expr` in the REPL and parse its JSON. */
  async probe<T>(expr: string, timeoutMs = 20_000): Promise<T> {
    const mark = this.out.length;
    this.p.stdin.write(`\x10print("HLPROBE<"+JSON.stringify(${expr})+">HLPROBE")\n`);
    const at = await this.waitForText('HLPROBE<', mark, timeoutMs);
    const end = await this.waitForText('>HLPROBE', at, timeoutMs);
    return JSON.parse(this.text(at + 8).slice(0, end - at - 8)) as T;
  }

  async waitFor(pred: (out: number[]) => number, what: string, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const i = pred(this.out);
      if (i >= 0) return i;
      if (this.exited) throw new Error(`the interpreter exited (code ${this.exitCode}, signal ${this.signal}) waiting for ${what}; output tail: ${JSON.stringify(this.text(Math.max(0, this.out.length - 1500)))}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms; output tail: ${JSON.stringify(this.text(Math.max(0, this.out.length - 1500)))}`);
      await sleep(20);
    }
  }

  waitForText(s: string, from: number, timeoutMs: number): Promise<number> {
    return this.waitFor(() => this.text(from).indexOf(s), JSON.stringify(s), timeoutMs).then((i) => i + from);
  }

  async close(): Promise<string> {
    if (!this.exited) {
      // E.reboot(): the Linux build runs jshKill, which prints the pin counters
      // (ESPRUINO_PIN_STATS=1), then exits ("Not implemented"). (quit() is gone after reset(); a
      // Ctrl-D exits without the counters.) Where the app still holds the port: SIGKILL.
      this.p.stdin.write('\x10E.reboot()\n');
      const t0 = Date.now();
      while (!this.exited && Date.now() - t0 < 2000) await sleep(20);
      if (!this.exited) this.p.kill('SIGKILL'); // (it ignores SIGTERM)
      const t1 = Date.now();
      while (!this.exited && Date.now() - t1 < 2000) await sleep(20);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return this.text();
  }
}

/** `file` of the interpreter binary: a sanity line for the test log. */
export function describeBinary(): string {
  const r = spawnSync('file', ['-b', PICOLIKE_BIN], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(',')[0] : PICOLIKE_BIN;
}

/**
 * A fresh interpreter that has taken the upload `body` (paced as the flasher sends it) after
 * `prepare` (REPL work first) and booted the app: it returns once the app holds the port (its first
 * 0x00), with `bootAt` the output offset where the upload began. The Linux builds sometimes die of a
 * signal during this (about 1 run in 5 on the loaded 2-core VM, x86-64 and ARM alike: dmesg shows a
 * general protection fault inside the interpreter; cause not found, and never seen once the app
 * runs): then it starts over once, saying so in one line; a second death fails the test.
 */
export async function bootApp(o: { env?: Record<string, string>; arm?: boolean; body: Buffer; prepare?: (c: RealEspruino) => Promise<void>; timeoutMs: number }): Promise<{ chip: RealEspruino; bootAt: number }> {
  for (let attempt = 1; ; attempt++) {
    const c = new RealEspruino(o.env ?? {}, o.arm ?? false);
    try {
      await c.waitForText('>', 0, 30_000);
      if (o.prepare) await o.prepare(c);
      const bootAt = c.out.length;
      await c.sendLikeTools(o.body);
      await c.waitFor((out) => out.indexOf(0x00, bootAt), 'the app taking the port (a 0x00 frame byte)', o.timeoutMs);
      return { chip: c, bootAt };
    } catch (e) {
      const died = c.exited && c.signal !== null;
      await c.close();
      if (!died || attempt >= 2) throw e;
      console.log(`espruino-real: the interpreter died of ${c.signal} during the upload or boot (attempt ${attempt}); starting over once`);
    }
  }
}
