/**
 * G-code controllers (Grbl, Marlin) in the studio (docs/studio.md, "Run the machine"): the run is
 * exactly `hookline run --target grbl|marlin` — runGrbl / runMarlin on the CLI's ControllerRunOptions,
 * with the page's buttons as the operator's keys (PageInput: Pause = p, Resume = r, Abort = Ctrl-C,
 * "Thread changed" = Enter) and the resume point the CLI keeps beside the stream (the stream is kept
 * in the studio's state directory, so the resume point is too). Connect and Home open the port for
 * as long as they take, as the run does: identify (and for Home the settings check and $H / G28).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { ControllerStop, homingLimitMs, type ControllerRunOptions, type OperatorKeys } from '../controller/controller-run';
import { grblAlarmText, grblErrorText } from '../controller/grbl-codes';
import { GrblCommandError, GrblLink } from '../controller/grbl-link';
import { MarlinLink } from '../controller/marlin-link';
import { streamJob } from '../controller/stream-job';
import { openSerial } from '../link/serial';
import { machineHash } from '../stream/machine-hash';
import { decodeStreamBytes } from '../stream/plan-stream';
import type { MachineProfile } from '../../shared/machine';

export type ControllerTarget = 'grbl' | 'marlin';
export const CONTROLLER_BAUD = 115200;

/** The page's buttons as a terminal's keys: what runGrbl / runMarlin read through OperatorKeys. */
export class PageInput implements OperatorKeys {
  private keyFns: ((k: string) => void)[] = [];
  private interruptFn: (() => void) | null = null;
  private waiter: (() => void) | null = null;
  closed = false;

  constructor(private readonly asked: (colour: number | undefined, prompt: string) => void) {}

  onKey(fn: (k: string) => void): void {
    this.keyFns.push(fn);
  }
  onInterrupt(fn: () => void): void {
    this.interruptFn = fn;
  }
  ask(prompt: string, colour?: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.asked(colour, prompt.trim());
    });
  }
  close(): void {
    this.closed = true;
  }
  /** A key as the terminal would send it. */
  key(k: string): void {
    for (const f of this.keyFns) f(k);
  }
  /** Ctrl-C; false when the run has not set what it does (nothing happens then). */
  interrupt(): boolean {
    if (!this.interruptFn) return false;
    this.interruptFn();
    return true;
  }
  /** Enter for a waiting prompt; false when none waits. */
  answer(): boolean {
    const w = this.waiter;
    this.waiter = null;
    w?.();
    return w !== null;
  }
}

/** A one-line reason this profile cannot run on a G-code controller (the CLI's words), or null. */
export function controllerRefusal(target: ControllerTarget, kind: string, machinePath: string): string | null {
  return kind === 'ring' ? `run --target ${target}: ${machinePath} is a ring machine; G-code controllers drive XY gantries (kind "gantry")` : null;
}

interface Opened {
  opts: ControllerRunOptions;
}

/** The options the CLI would pass, for Connect and Home (no job). */
function bareOptions(port: string, machine: MachineProfile, machinePath: string, applySettings: boolean): ControllerRunOptions {
  return {
    port, baud: CONTROLLER_BAUD, machine, machinePath, machineHash: machineHash(machine), job: { path: [], dirs: [], lineColors: [], colors: [], flanked: false },
    streamPath: '', bytes: new Uint8Array(0), resume: false, applySettings, yes: true,
    progress: () => {}, progressDone: () => {}, say: () => {},
  };
}

/** Open the port, say what firmware answers (the run's identify), close it. */
export async function identifyController(target: ControllerTarget, port: string, machine: MachineProfile, machinePath: string): Promise<string> {
  const o: Opened = { opts: bareOptions(port, machine, machinePath, false) };
  const link = await openSerial(port, CONTROLLER_BAUD);
  if (target === 'grbl') {
    const g = new GrblLink(link);
    try {
      const { identify } = await import('../controller/grbl-run');
      return `Grbl ${await identify(g, o.opts)}`;
    } finally {
      await g.close();
    }
  }
  const g = new MarlinLink(link);
  try {
    const { identify } = await import('../controller/marlin-run');
    return `Marlin ${(await identify(g, o.opts)).version}`;
  } finally {
    await g.close();
  }
}

/** Home as the run does before its job: identify, the settings check (or write), then $H / G28. */
export async function homeController(target: ControllerTarget, port: string, machine: MachineProfile, machinePath: string, applySettings: boolean): Promise<string> {
  const opts = bareOptions(port, machine, machinePath, applySettings);
  const link = await openSerial(port, CONTROLLER_BAUD);
  if (target === 'grbl') {
    const g = new GrblLink(link);
    const { identify, checkSettings } = await import('../controller/grbl-run');
    try {
      await identify(g, opts);
      const settings = await checkSettings(g, opts);
      const poll = setInterval(() => g.realtime('?'), 250);
      try {
        await g.command('$H', homingLimitMs(machine));
      } catch (e) {
        if (e instanceof GrblCommandError) {
          if (e.alarmCode !== undefined) throw new ControllerStop(`homing failed: ${grblAlarmText(e.alarmCode)}; check the switches, then Home again`);
          if (e.errorCode !== undefined) throw new ControllerStop(`$H was refused: ${grblErrorText(e.errorCode)}`);
          throw new ControllerStop(`homing did not finish: ${e.why}`);
        }
        throw e;
      } finally {
        clearInterval(poll);
      }
      return settings;
    } finally {
      await g.close();
    }
  }
  const g = new MarlinLink(link);
  const { identify, checkSettings, command } = await import('../controller/marlin-run');
  try {
    await identify(g, opts);
    await command(g, 'M110 N0', 3000, () => g.resetNumbering());
    const settings = await checkSettings(g, opts);
    await command(g, 'G28', homingLimitMs(machine));
    return settings;
  } finally {
    await g.close();
  }
}

export interface ControllerRunHooks {
  progress: ControllerRunOptions['progress'];
  status: NonNullable<ControllerRunOptions['status']>;
  say: (text: string) => void;
}

/**
 * Start runGrbl / runMarlin on `bytes` (written to STATE/controller-run.hls: the resume point is
 * kept beside it, as the CLI keeps it beside the user's stream). Resolves with the outcome; bad
 * input (not a controller, settings that differ) is an outcome with code 2, as the CLI's exit code.
 */
export async function runController(target: ControllerTarget, o: {
  stateDir: string; port: string; machine: MachineProfile; machinePath: string; bytes: Uint8Array; resume: boolean; applySettings: boolean; input: PageInput; hooks: ControllerRunHooks;
}): Promise<{ code: number; message: string }> {
  const streamPath = join(o.stateDir, 'controller-run.hls');
  writeFileSync(streamPath, o.bytes);
  let outcome: { code: number; message: string } | null = null;
  try {
    const hash = machineHash(o.machine);
    const job = streamJob(decodeStreamBytes(o.bytes, 'the plan', hash), o.machine, 'the plan', o.machinePath);
    const run = target === 'marlin' ? (await import('../controller/marlin-run')).runMarlin : (await import('../controller/grbl-run')).runGrbl;
    const code = await run({
      port: o.port, baud: CONTROLLER_BAUD, machine: o.machine, machinePath: o.machinePath, machineHash: hash, job, streamPath, bytes: o.bytes,
      resume: o.resume, applySettings: o.applySettings, yes: false, input: o.input,
      progress: o.hooks.progress, progressDone: () => {}, say: o.hooks.say, status: o.hooks.status,
      outcome: (x) => (outcome = x),
    });
    return outcome ?? { code, message: code === 0 ? 'run OK' : 'the run stopped' };
  } catch (e) {
    if (e instanceof UserError || e instanceof ControllerStop) return { code: 2, message: e.message };
    return { code: 1, message: `the run failed: ${(e as Error).message}` };
  }
}
