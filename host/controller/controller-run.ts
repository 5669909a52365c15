/**
 * What a G-code controller run does the same whatever the firmware (grbl-run.ts's shape, for
 * marlin-run.ts and any later sender): the options the CLI passes, where to start (the resume point
 * beside the stream), keeping that resume point as hooks are wound, the report, the bar's line and
 * colour from the hooks wound, and how long homing may take.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write';
import type { GcodeJob } from '../gcode/generate';
import type { MachineProfile } from '../../shared/machine';
import { loadResumePoint, resumeFile, saveResumePoint, streamDigest, type ResumePoint } from './resume-point';

export interface ControllerRunOptions {
  port: string;
  baud: number;
  machine: MachineProfile;
  machinePath: string;
  machineHash: number;
  job: GcodeJob;
  streamPath: string;
  bytes: Uint8Array;
  resume: boolean;
  applySettings: boolean;
  yes: boolean;
  out?: string;
  progress: (line: number, lineCount: number, color: number, etaS: number, extra?: string) => void;
  progressDone: () => void;
  say: (text: string) => void;
  /** The operator's keys and prompts; default: the terminal (OperatorInput). The studio passes its page's buttons. */
  input?: OperatorKeys;
  /** Each position report (Grbl's status: its state, sub-state, work mm = machine mm + the work offset; board mm = work − board.originMm). */
  status?: (s: { state: string; sub: number | null; work: [number, number, number] }) => void;
  /** The run's last word, instead of stdout/stderr (the studio shows it in the page). */
  outcome?: (o: { code: number; message: string }) => void;
}

/**
 * What a controller run needs from its operator: single keys (p pause, r resume, x reset), Ctrl-C,
 * and a prompt answered with Enter (a thread change: `colour` is the colour index to thread next).
 * OperatorInput is the terminal's; the studio's page implements the same.
 */
export interface OperatorKeys {
  onKey(fn: (k: string) => void): void;
  onInterrupt(fn: () => void): void;
  ask(prompt: string, colour?: number): Promise<void>;
  close(): void;
}

/** Stops the run with one line on stderr and exit code 1 (a machine-side problem, not bad input). */
export class ControllerStop extends Error {}

/**
 * Keeps `PLAN.hls.resume.json` for one run: where it starts (`--resume`: the hooks already wound),
 * each newly wound hook, and why it stopped.
 */
export class ResumeKeeper {
  readonly file: string;
  /** Path index the run starts at; `null` when --resume finds every hook wound. */
  readonly startAt: number | null;
  private saved: number;
  private readonly digest: string;

  constructor(private readonly o: ControllerRunOptions, private readonly target: string) {
    this.file = resumeFile(o.streamPath);
    this.digest = streamDigest(o.bytes);
    const pathLength = o.job.path.length;
    let startAt: number | null = 0;
    if (o.resume) {
      const p = loadResumePoint(this.file, o.bytes, o.machineHash, target, o.streamPath);
      startAt = p.wound;
      if (startAt >= pathLength) {
        o.say(`${target}: nothing to resume: ${this.file} says all ${pathLength} hooks are wound`);
        startAt = null;
      }
    } else if (existsSync(this.file)) {
      o.say(`${target}: starting ${o.streamPath} from the beginning; ${this.file} holds where an earlier run stopped (--resume continues from there)`);
    }
    this.startAt = startAt;
    this.saved = startAt ?? pathLength;
  }

  private point(wound: number, why: string): ResumePoint {
    return { format: 'hookline-resume', stream: this.digest, machineHash: this.o.machineHash, target: this.target, wound, pathLength: this.o.job.path.length, why, at: new Date().toISOString() };
  }

  /** The run is under way from startAt. */
  started(): void {
    saveResumePoint(this.file, this.point(this.saved, 'running'));
  }

  /** Hooks [0, k) are certainly wound. */
  wound(k: number): void {
    if (k > this.saved) {
      this.saved = k;
      saveResumePoint(this.file, this.point(k, 'running'));
    }
  }

  woundSoFar(): number {
    return this.saved;
  }

  /** The run is over: done (every hook) or stopped with `why` at `wound`. */
  stopped(ok: boolean, wound: number, why: string): void {
    if (ok) saveResumePoint(this.file, this.point(this.o.job.path.length, 'done'));
    else saveResumePoint(this.file, this.point(Math.max(wound, this.saved), why));
  }
}

export interface RunRecord {
  /** report.json's format, e.g. hookline-grbl-run. */
  format: string;
  startAt: number;
  /** Hooks the sender has seen wound (the resume keeper may know more). */
  woundSeen: number;
  homingSeconds: number;
  /** Date.now() when the port was opened. */
  t0: number;
  estimateSeconds: number;
  events: string[];
  samples: unknown[];
  /** Fields only this firmware's report has. */
  extra: Record<string, unknown>;
}

/**
 * The run is over: the resume point says where (done, or stopped and why) and DIR/report.json
 * records it (one line of JSON). `outcome` null: bad input before anything ran (not a controller,
 * settings differ), which is one line and nothing else: no report of a run that did not happen.
 */
export function recordOutcome(o: ControllerRunOptions, keeper: ResumeKeeper, outcome: { code: number; message: string } | null, r: RunRecord): void {
  if (!outcome) return;
  const ok = outcome.code === 0;
  const wound = Math.max(keeper.woundSoFar(), r.woundSeen);
  keeper.stopped(ok, wound, outcome.message);
  if (!o.out) return;
  writeFileAtomic(join(o.out, 'report.json'), JSON.stringify({
    format: r.format, stream: o.streamPath, machine: o.machinePath, port: o.port, ...r.extra,
    ok, error: ok ? null : outcome.message,
    startAt: r.startAt, wound: ok ? o.job.path.length : wound, pathLength: o.job.path.length,
    homingSeconds: r.homingSeconds, wallSeconds: (Date.now() - r.t0) / 1000,
    estimateSeconds: r.estimateSeconds, events: r.events, samples: r.samples,
  }) + '\n');
}

/** The bar's line (counted from 0 as the device reports) and colour when hooks [0, wound) are done. */
export function lineAndColour(job: GcodeJob, wound: number): { line: number; color: number } {
  const line = Math.max(0, wound - 1);
  return { line, color: job.lineColors[Math.min(line, job.lineColors.length - 1)] ?? 0 };
}

/** Homing takes at most: per axis 1.5 × travel at the seek rate plus the locate phases, and a margin. */
export function homingLimitMs(m: MachineProfile): number {
  let s = 10;
  for (const a of [m.axes.x, m.axes.y, m.axes.z]) {
    s += (1.5 * (a.travelMaxMm - a.travelMinMm)) / a.homing.seekSpeedMmS + (10 * a.homing.backoffMm) / a.homing.latchSpeedMmS + 1;
  }
  return s * 1000;
}

/** The run's last word: done on stdout (exit 0), or why it stopped on stderr (its exit code). */
export function reportOutcome(outcome: { code: number; message: string }, o?: ControllerRunOptions): number {
  if (o?.outcome) {
    o.outcome(outcome);
    return outcome.code;
  }
  if (outcome.code !== 0) {
    process.stderr.write(`hookline: ${outcome.message}\n`);
    return outcome.code;
  }
  process.stdout.write(`${outcome.message}\n`);
  return 0;
}
