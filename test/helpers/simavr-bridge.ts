/**
 * The simavr bridge from ../shared/realchips/avr (gantry_bridge.c: a .hex on a simulated Arduino
 * Uno, UART0 on a pty, STEP/DIR counting, endstops driven from the counted position, a JSON status
 * file), shared by the real-firmware tests (Grbl: simavr-grbl.ts; ConfigurableFirmata:
 * firmata-real.test.ts). Built into a temp folder once per process from the read-only sources.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './cli';

export const REALCHIPS_AVR = join(repoRoot, '../shared/realchips/avr');

/** Why a real-firmware test cannot run here (one line, naming `what` and `hex`), or null when it can. */
export function bridgeUnavailable(what: string, hex: string): string | null {
  if (!existsSync(join(REALCHIPS_AVR, 'bridge/gantry_bridge.c')) || !existsSync(hex)) {
    return `../shared/realchips/avr (the ${what} hex and the simavr bridge) is absent: the real-${what} tests are skipped`;
  }
  const pc = spawnSync('pkg-config', ['--exists', 'simavr', 'simavrparts']);
  if (pc.status !== 0) return `simavr headers/libraries missing (Debian: simavr libsimavr-dev libsimavrparts1 pkg-config libelf-dev build-essential; .ci/run installs them): the real-${what} tests are skipped`;
  if (spawnSync('sh', ['-c', 'command -v cc && command -v make']).status !== 0) return `no C compiler/make (build-essential): the real-${what} tests are skipped`;
  return null;
}

let bridgeBin: string | null = null;

/** Build gantry_bridge from ../shared (read-only) into a temp folder, once per process. */
export function buildBridge(): string {
  if (bridgeBin) return bridgeBin;
  const dir = tempDir('hookline-simavr-');
  cpSync(join(REALCHIPS_AVR, 'bridge'), dir, { recursive: true });
  const r = spawnSync('make', ['-s', '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building gantry_bridge failed: ${r.stderr}`);
  bridgeBin = join(dir, 'gantry_bridge');
  return bridgeBin;
}

export interface BridgeStatus {
  simSeconds: number;
  axes: Record<string, { posMm: number; posSteps: number; steps: number; endstop: boolean; presses: number }>;
}

export interface Bridge {
  pty: string;
  statusFile: string;
  status(): BridgeStatus | null;
  /** Stop the simulated board (SIGTERM: the bridge saves the EEPROM image, as at power-off). */
  stop(): Promise<void>;
  log(): string;
}

export interface BridgeOptions {
  hex: string;
  /** Folder for the pty link and the status file. */
  work: string;
  /** `-a name,step,dir,endstop,steps/mm,min|max,start mm,dir level for +,travel` per axis. */
  axes: string[];
  /** EEPROM image kept across runs (`-e`). */
  eeprom?: string;
  /** Extra bridge arguments (e.g. `-P 0x88=0xff`). */
  extra?: string[];
  /** pty file name prefix. */
  name?: string;
}

/** Power on a simulated Uno running `hex` in the bridge; resolves when its pty exists. */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const bin = buildBridge();
  const pty = join(o.work, `${o.name ?? 'uno'}-${Date.now()}.pty`);
  const statusFile = join(o.work, 'status.json');
  rmSync(statusFile, { force: true });
  const args = [...(o.extra ?? []), ...(o.eeprom ? ['-e', o.eeprom] : []), '-p', pty, '-s', statusFile, ...o.axes.flatMap((a) => ['-a', a]), o.hex];
  const proc: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.on('exit', () => { exited = true; resolve(); }));
  const t0 = Date.now();
  while (!existsSync(pty)) {
    if (exited || Date.now() - t0 > 60_000) {
      proc.kill();
      throw new Error(`gantry_bridge did not create its pty: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pty,
    statusFile,
    status() {
      try {
        return JSON.parse(readFileSync(statusFile, 'utf8')) as BridgeStatus;
      } catch {
        return null;
      }
    },
    async stop() {
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
    log: () => stderr,
  };
}

