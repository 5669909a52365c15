/**
 * The simavr bridge from ../shared/realchips/avr (gantry_bridge.c: a .hex on a simulated Arduino
 * Uno, UART0 on a pty, STEP/DIR counting, endstops driven from the counted position, a JSON status
 * file), shared by the real-firmware tests (Grbl: simavr-grbl.ts; ConfigurableFirmata:
 * firmata-real.test.ts). Built into a temp folder once per process from the read-only sources.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * One addition to the bridge, made to the temp copy at build time: `-L FILE` writes every step
 * edge as `cycle axis position` (position in steps from the switch-side zero, as the status file's
 * posSteps). A judge from the board's own pins in simulated time, whatever the host's load; the
 * firmware and the simulation are untouched.
 */
function addStepTrace(src: string): string {
  const edits: [string, string][] = [
    ['static avr_t *avr;', 'static avr_t *avr;\nstatic FILE *steptrace;'],
    ['\t\ta->pos += plus ? 1 : -1;\n', '\t\ta->pos += plus ? 1 : -1;\n\t\tif (steptrace) fprintf(steptrace, "%llu %s %ld\\n", (unsigned long long)avr->cycle, a->name, a->pos);\n'],
    ['"f:p:s:r:a:P:e:"', '"f:p:s:r:a:P:e:L:"'],
    ["\t\tcase 'e': eeprom_path = optarg; break;", "\t\tcase 'e': eeprom_path = optarg; break;\n\t\tcase 'L': steptrace = fopen(optarg, \"w\"); break;"],
    ['\twrite_status(1);\n\tif (eeprom_path) {', '\twrite_status(1);\n\tif (steptrace) fclose(steptrace);\n\tif (eeprom_path) {'],
  ];
  for (const [from, to] of edits) {
    if (!src.includes(from)) throw new Error(`gantry_bridge.c changed: cannot add the step trace at '${from.trim()}'`);
    src = src.replace(from, to);
  }
  return src;
}

/** Build gantry_bridge from ../shared (read-only) into a temp folder, once per process. */
export function buildBridge(): string {
  if (bridgeBin) return bridgeBin;
  const dir = tempDir('hookline-simavr-');
  cpSync(join(REALCHIPS_AVR, 'bridge'), dir, { recursive: true });
  const c = join(dir, 'gantry_bridge.c');
  writeFileSync(c, addStepTrace(readFileSync(c, 'utf8')));
  const r = spawnSync('make', ['-s', '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building gantry_bridge failed: ${r.stderr}`);
  bridgeBin = join(dir, 'gantry_bridge');
  return bridgeBin;
}

/** Step positions of a `-L` trace, in mm, sampled every `everyMs` of simulated time: [s, x, y, z]. */
export function readStepTrace(file: string, stepsPerMm: Record<string, number>, startMm: Record<string, number>, everyMs = 2): number[][] {
  const names = Object.keys(stepsPerMm);
  const pos = names.map((n) => startMm[n]);
  const out: number[][] = [];
  const every = (everyMs / 1000) * 16e6;
  let next = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const sp = line.split(' ');
    if (sp.length !== 3) continue;
    const cyc = Number(sp[0]);
    while (cyc >= next) {
      out.push([next / 16e6, ...pos]);
      next += every;
    }
    const i = names.indexOf(sp[1]);
    if (i >= 0) pos[i] = Number(sp[2]) / stepsPerMm[sp[1]];
  }
  out.push([next / 16e6, ...pos]);
  return out;
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
  /** Write every step edge to this file (`-L`, readStepTrace). */
  trace?: string;
}

/** Power on a simulated Uno running `hex` in the bridge; resolves when its pty exists. */
export async function startBridge(o: BridgeOptions): Promise<Bridge> {
  const bin = buildBridge();
  const pty = join(o.work, `${o.name ?? 'uno'}-${Date.now()}.pty`);
  const statusFile = join(o.work, 'status.json');
  rmSync(statusFile, { force: true });
  const args = [...(o.extra ?? []), ...(o.eeprom ? ['-e', o.eeprom] : []), ...(o.trace ? ['-L', o.trace] : []), '-p', pty, '-s', statusFile, ...o.axes.flatMap((a) => ['-a', a]), o.hex];
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

