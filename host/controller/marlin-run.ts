/**
 * `hookline run PLAN.hls --target marlin --port P --machine M`: the plan's G-code (host/gcode,
 * dialect marlin) streamed to a Marlin 2.x controller (docs/targets/marlin.md). Before anything
 * moves: the board must say it is Marlin (its `start` banner or `M115`'s FIRMWARE_NAME) and its
 * `M503` must match the profile. Then numbered, checksummed lines one at a time (each sent when the
 * one before is answered `ok`: ping-pong), `G28`, an `M400` after each hook's turn (its `ok` means
 * the machine has finished every move before it: the hook is certainly wound, and the resume point
 * beside the stream says so), colour changes as `M0` released by `M108` (EMERGENCY_PARSER) after the
 * operator's Enter, pause (no more lines sent), quick stop (`M410`), Ctrl-C (stop after the planned
 * moves), Marlin's errors in words, and `--resume` after a stop, a disconnect or a power cut.
 */
import { UserError } from '../errors';
import { generateJobGcode, type ProgramLine } from '../gcode/generate';
import { openSerial } from '../link/serial';
import { LineEta } from '../link/eta';
import { threadChangePrompt } from '../link/thread-change';
import type { MachineProfile } from '../../shared/machine';
import { estimateMotion } from '../../shared/motion/estimate';
import { ControllerStop, ResumeKeeper, homingLimitMs, lineAndColour, recordOutcome, reportOutcome, type ControllerRunOptions, type OperatorKeys } from './controller-run';
import { MarlinLink, MarlinLinkClosed, type MarlinEvent } from './marlin-link';
import { frameLine, marlinErrorText, unknownCommandText } from './marlin-protocol';
import { compareMarlinSettings, expectedMarlinSettings, marlinDiffText, parseMarlinSettings } from './marlin-settings-check';
import { OperatorInput } from './operator-input';
import { ProgramProgress } from './program-progress';

/** How long a port may take to show it is Marlin. */
export const MARLIN_IDENTIFY_MS = 5000;
/** M114 while streaming, for the report's position trace. */
const POLL_MS = 250;
/**
 * Marlin silent this long with a line unanswered (and no operator prompt) has hung or lost power.
 * HOST_KEEPALIVE_FEATURE (on by default) says `busy: processing` every 2 s while a command blocks.
 */
const SILENCE_MS = 20_000;
/** Ctrl-C waits this long for the moves Marlin has planned to finish (M400). */
const DRAIN_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Identity {
  version: string;
  caps: Map<string, boolean>;
}

function identifyError(port: string, received: string, baud: number): UserError {
  const text = received.replace(/[\r\n]+/g, ' ').trim();
  if (text === '') {
    return new UserError(`run --target marlin: nothing answered on ${port} within ${MARLIN_IDENTIFY_MS / 1000} s (M110 and M115 sent); check --port, the cable, that the controller is powered and runs Marlin 2, and --baud (${baud} now; Marlin builds use BAUDRATE 115200 or 250000)`);
  }
  if (/Grbl \d|^error:\d+|^ALARM:\d+|^<(?:Idle|Alarm|Run)\b/m.test(received)) {
    const said = /Grbl [^\r\n]*/.exec(received)?.[0] ?? text.slice(0, 40);
    return new UserError(`run --target marlin: ${port} is a Grbl board (it said '${said.slice(0, 60)}'), not Marlin; use --target grbl`);
  }
  const fw = /FIRMWARE_NAME:\s*(\S+)/.exec(received);
  if (fw) return new UserError(`run --target marlin: ${port} runs ${fw[1]}, not Marlin (M115 said '${fw[0]}'); hookline streams to Marlin 2`);
  const shown = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  return new UserError(`run --target marlin: ${port} answered, but not as Marlin (got '${shown}'${text.length > 40 ? '…' : ''}); check --baud (${baud} now; Marlin builds use BAUDRATE 115200 or 250000) and that the board runs Marlin 2`);
}

/**
 * Marlin answers M115 with `FIRMWARE_NAME:Marlin <version> …` and its `Cap:` lines; a board that
 * resets when the port opens (an Arduino) says `start` first and loses what was sent before it.
 */
export async function identify(g: MarlinLink, o: ControllerRunOptions): Promise<Identity> {
  let version: string | null = null;
  let banner = false;
  let grbl = false;
  let askAt = 0;
  const caps = new Map<string, boolean>();
  const off = g.on((e) => {
    if (e.kind === 'firmware' && e.name === 'Marlin') version = e.version || '(no version)';
    else if (e.kind === 'firmware') grbl = true; // another firmware: said in the error
    if (e.kind === 'cap') caps.set(e.name, e.on);
    if (e.kind === 'start') askAt = Date.now() + 300; // rebooted: what was sent is lost; ask again after the banner
    if (e.kind === 'echo' && /^Marlin\s/.test(e.text)) {
      banner = true;
      version ??= null;
    }
    if (e.kind === 'other' && /^(?:Grbl \d|error:\d+|ALARM:\d+)/.test(e.text)) grbl = true;
  });
  const t0 = Date.now();
  try {
    while (version === null && !grbl && Date.now() - t0 < MARLIN_IDENTIFY_MS) {
      if (g.closed) throw new UserError(`run --target marlin: ${o.port} closed while waiting for Marlin: ${g.closed}`);
      if (Date.now() >= askAt) {
        g.writeRaw(`${frameLine(0, 'M110 N0')}\n${frameLine(1, 'M115')}\n`);
        askAt = Date.now() + 1500;
      }
      await sleep(50);
    }
    if (version !== null) {
      // The Cap: lines and the oks of what was sent: wait until Marlin is quiet.
      const until = Date.now() + 2000;
      while (Date.now() - g.lastHeard < 300 && Date.now() < until) await sleep(50);
    }
  } finally {
    off();
  }
  if (version === null) {
    const said = /echo:\s*Marlin\s+(\S+)/.exec(g.received);
    if (banner && said && !grbl) version = said[1];
    else throw identifyError(o.port, g.received, o.baud);
  }
  const v: string = version;
  if (/^(?:bugfix-)?1\./.test(v)) throw new UserError(`run --target marlin: ${o.port} runs Marlin ${v}; hookline streams to Marlin 2 (its resend and position reports); update the firmware`);
  return { version: v, caps };
}

/**
 * One command, answered before the next is sent: what Marlin said before its ok. Stops the run on
 * an error, an unknown command, a protocol failure, a closed port, or no ok within `ms`.
 */
export async function command(g: MarlinLink, text: string, ms: number, sendIt: () => Promise<string[]> = () => g.send(text)): Promise<string[]> {
  let off = () => {};
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ControllerStop(`Marlin did not answer '${text}' within ${Math.round(ms / 1000)} s`)), ms);
    off = g.on((e) => {
      const why = stopReason(e);
      if (why) reject(new ControllerStop(`${why} (answering '${text}')`));
    });
  });
  try {
    return await Promise.race([sendIt(), stop]);
  } catch (e) {
    if (e instanceof MarlinLinkClosed) throw new ControllerStop(`the controller disconnected: ${e.message}`);
    throw e;
  } finally {
    clearTimeout(timer);
    off();
  }
}

/** Marlin said something that ends the run: in words; null otherwise. */
function stopReason(e: MarlinEvent): string | null {
  if (e.kind === 'error') return marlinErrorText(e.text);
  if (e.kind === 'unknown-command') return unknownCommandText(e.command);
  if (e.kind === 'protocol') return e.text;
  return null;
}

export async function checkSettings(g: MarlinLink, o: ControllerRunOptions): Promise<string> {
  const read = async () => compareMarlinSettings(parseMarlinSettings(await command(g, 'M503', 10_000)), o.machine);
  let { diffs, noJunction } = await read();
  const jerk = noJunction ? ' (M503 lists no M205 J: a CLASSIC_JERK build; junction deviation not compared)' : '';
  if (diffs.length === 0) return `settings match ${o.machinePath}${jerk}`;
  const list = diffs.map(marlinDiffText).join(', ');
  if (!o.applySettings) {
    throw new UserError(`run --target marlin: Marlin's settings differ from ${o.machinePath}: ${list}; nothing was moved; fix the profile, or run again with --apply-settings to send the profile's M92/M203/M201/M205 values`);
  }
  for (const line of expectedMarlinSettings(o.machine).lines) {
    if (noJunction && /^M205\b/.test(line)) continue;
    await command(g, line, 5000);
  }
  ({ diffs } = await read());
  if (diffs.length) throw new UserError(`run --target marlin: Marlin kept settings that differ from ${o.machinePath} after --apply-settings: ${diffs.map(marlinDiffText).join(', ')}`);
  return `sent ${diffs.length === 0 ? list.split(', ').length : 0} settings from ${o.machinePath} (M92/M203/M201/M205, not saved: no M500; they last until Marlin resets)${jerk}`;
}

/** Where G28 leaves an axis in the profile's coordinates: the switch end, backed off. */
function homedMm(a: MachineProfile['axes']['x']): number {
  return a.homing.toMax === true ? a.travelMaxMm - a.homing.backoffMm : a.travelMinMm + a.homing.backoffMm;
}

/** M114's `Count X: Y: Z:` (steps) in mm through the profile's steps/mm. */
function countMm(m: MachineProfile, said: readonly string[]): [number, number, number] | null {
  for (const l of said) {
    const c = /Count\s+X:\s*(-?\d+)\s+Y:\s*(-?\d+)\s+Z:\s*(-?\d+)/.exec(l);
    if (c) return [Number(c[1]) / m.axes.x.stepsPerMm, Number(c[2]) / m.axes.y.stepsPerMm, Number(c[3]) / m.axes.z.stepsPerMm];
  }
  return null;
}

const fmtMm = (p: readonly number[]) => p.map((v) => (Math.round(v * 100) / 100).toString()).join(', ');

export async function runMarlin(o: ControllerRunOptions): Promise<number> {
  const { machine: m, job } = o;
  const keeper = new ResumeKeeper(o, 'marlin');
  if (keeper.startAt === null) return 0;
  const startAt = keeper.startAt;
  const lineCount = job.path.length - 1;
  const gc = generateJobGcode(job, m, { dialect: 'marlin', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: o.streamPath, startAt });
  const program = gc.program;
  const homeAt = program.findIndex((l) => l.text === 'G28');
  const progress = new ProgramProgress(program, 0);
  const est = estimateMotion(m, job.path, false, undefined, job.dirs);
  const eta = new LineEta(lineCount, est.lineSeconds);

  const link = await openSerial(o.port, o.baud);
  const g = new MarlinLink(link);
  const samples: [number, string, number, number, number][] = [];
  const events: string[] = [];
  const t0 = Date.now();
  let homingS = 0;
  let firmware = '';
  let outcome: { code: number; message: string } | null = null;
  const input = o.input ?? new OperatorInput();
  try {
    const id = await identify(g, o);
    firmware = id.version;
    await command(g, 'M110 N0', 3000, () => g.resetNumbering());
    const settings = await checkSettings(g, o);
    const ep = id.caps.get('EMERGENCY_PARSER') === true;
    o.say(`marlin: Marlin ${id.version} on ${o.port}; ${settings}; ${ep ? 'EMERGENCY_PARSER on' : 'no EMERGENCY_PARSER: colour changes are prompted here, without M0'}; homing`);
    if (startAt > 0) o.say(`marlin: resuming at line ${startAt} of ${lineCount} (hooks before it are wound; the pile height is restored); the thread on the nozzle must be colour ${job.lineColors[startAt - 1] + 1} of ${job.colors.length}, ${job.colors[job.lineColors[startAt - 1]]}`);
    keeper.started();

    for (let i = 0; i < homeAt; i++) await command(g, program[i].text, 10_000);
    try {
      await command(g, 'G28', homingLimitMs(m));
    } catch (e) {
      if (e instanceof ControllerStop) throw new ControllerStop(`homing (G28) failed: ${e.message}; nothing was strung; check the switches, then run again${startAt ? ' with --resume' : ''}`);
      throw e;
    }
    homingS = (Date.now() - t0) / 1000;
    const at = countMm(m, await command(g, 'M114', 5000));
    const want: [number, number, number] = [homedMm(m.axes.x), homedMm(m.axes.y), homedMm(m.axes.z)];
    if (!at) throw new ControllerStop('M114 after homing gave no Count X: Y: Z: line; nothing was strung');
    const axes = [m.axes.x, m.axes.y, m.axes.z];
    const off = at.findIndex((v, i) => Math.abs(v - want[i]) > axes[i].homing.backoffMm + 1);
    if (off >= 0) {
      throw new ControllerStop(`after G28 Marlin is at ${fmtMm(at)} mm (M114 Count through the profile's steps/mm); ${o.machinePath} homes to about ${fmtMm(want)} mm: ${'XYZ'[off]}_MIN_POS/${'XYZ'[off]}_MAX_POS, ${'XYZ'[off]}_HOME_DIR or the travel differ from the profile (hookline gcode --settings --dialect marlin lists them); nothing was strung`);
    }
    o.say(`marlin: homed in ${homingS.toFixed(1)} s at ${fmtMm(at)} mm; ${lineCount - Math.max(0, startAt - 1)} lines to string${o.yes ? '' : '; keys: p pause, r resume, x quick stop (M410), Ctrl-C stop'}`);

    outcome = await stream(g, o, program, homeAt + 1, progress, { startAt, lineCount, eta, input, samples, events, keeper, emergencyParser: ep });
  } catch (e) {
    if (e instanceof ControllerStop) outcome = { code: 1, message: e.message };
    else throw e;
  } finally {
    input.close();
    o.progressDone();
    recordOutcome(o, keeper, outcome, {
      format: 'hookline-marlin-run', startAt, woundSeen: progress.wound(startAt), homingSeconds: homingS, t0,
      estimateSeconds: gc.seconds, events, samples,
      extra: {
        firmware: firmware ? `Marlin ${firmware}` : null, resent: g.resent,
        positions: 'M114 Count (steps) / steps per mm: the end of the moves Marlin has planned, not where the machine is',
      },
    });
    await g.close();
  }
  return reportOutcome(outcome, o);
}

interface StreamContext {
  startAt: number;
  lineCount: number;
  eta: LineEta;
  input: OperatorKeys;
  samples: [number, string, number, number, number][];
  events: string[];
  keeper: ResumeKeeper;
  emergencyParser: boolean;
}

/**
 * Stream program[from…] one line per ok (ping-pong) until the last line's moves are done (M400), or
 * stop: an error from Marlin, silence, a disconnect, the operator. Resolves with the outcome.
 */
async function stream(g: MarlinLink, o: ControllerRunOptions, program: ProgramLine[], from: number, progress: ProgramProgress, c: StreamContext): Promise<{ code: number; message: string }> {
  const { job, machine: m } = o;
  const t0 = Date.now();
  let failure: string | null = null;
  let failed: (why: string) => void = () => {};
  const failedP = new Promise<never>((_, reject) => {
    failed = (why) => {
      failure ??= why;
      reject(new ControllerStop(failure));
    };
  });
  failedP.catch(() => {});
  let paused = false;
  let prompting = false;
  let stopping: 'quick' | 'interrupt' | null = null;
  let wake: () => void = () => {};
  const woken = () => new Promise<void>((r) => (wake = r));
  const wound = () => progress.wound(c.startAt);
  const at = () => `line ${Math.max(0, wound() - 1)} of ${c.lineCount}`;
  const resumeHint = () => `; run again with --resume to re-home and continue at ${at()}`;
  const show = (extra = '') => {
    const { line, color } = lineAndColour(job, wound());
    o.progress(line, c.lineCount, color, c.eta.update(line, Date.now(), paused || prompting), extra);
  };
  const doneBefore = (n: number) => {
    progress.finishedBefore(n);
    c.keeper.wound(wound());
    show();
  };
  const send = (text: string) => Promise.race([g.send(text), failedP]).catch((e) => {
    if (e instanceof MarlinLinkClosed) failed(`the controller disconnected at ${at()}: ${e.message}${resumeHint()}`);
    throw failure !== null ? new ControllerStop(failure) : e;
  });

  const offEvents = g.on((e) => {
    if (e.kind === 'closed') return failed(`the controller disconnected at ${at()}: ${e.why}${resumeHint()}`);
    if (e.kind === 'resend') c.events.push(`Resend: ${e.n}`);
    if (e.kind === 'line-error') c.events.push(`Error:${e.text}`);
    if (e.kind === 'echo' && !/^busy/.test(e.text)) c.events.push(`echo:${e.text}`);
    const why = stopReason(e);
    if (why) {
      c.events.push(e.kind === 'error' ? `Error:${e.text}` : why);
      failed(`${why}; the job stopped at ${at()}${e.kind === 'error' && /kill\(\)/.test(e.text) ? '; after the reset, run again with --resume to re-home and continue' : resumeHint()}`);
    }
  });
  const watchdog = setInterval(() => {
    if (!prompting && g.inflight() > 0 && Date.now() - g.lastHeard > SILENCE_MS) {
      failed(`Marlin stopped answering at ${at()} (nothing for ${SILENCE_MS / 1000} s with a line unanswered: power lost or the board hung)${resumeHint()}`);
    }
  }, 1000);

  c.input.onKey((k) => {
    if (stopping || failure) return;
    if (k === 'p' && !paused && !prompting) {
      paused = true;
      o.say(`marlin: paused at ${at()}: no more lines are sent; the moves Marlin has planned (at most its planner's blocks) finish, then it stands still; r resumes`);
      show(' (paused)');
    } else if (k === 'r' && paused) {
      paused = false;
      o.say('marlin: resumed');
      wake();
    } else if (k === 'x') {
      // Quick stop: Marlin empties its planner at once (with EMERGENCY_PARSER as the bytes arrive)
      // and drops moves for a second; steps may be lost, so --resume re-homes.
      stopping = 'quick';
      c.events.push('M410 (operator)');
      void g.send('M410').catch(() => {});
      wake();
    }
  });
  let interrupts = 0;
  c.input.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1 && !stopping) {
      stopping = 'interrupt';
      o.say(`marlin: stopping at ${at()}: no more lines are sent; waiting for the moves Marlin has planned (Ctrl-C again: quick stop M410 and leave)`);
      wake();
    } else {
      c.events.push('M410 (second Ctrl-C)');
      void g.send('M410').catch(() => {});
      failed(`interrupted at ${at()}: quick stop (M410), the position may be lost${resumeHint()}`);
    }
  });

  let lastPoll = 0;
  const poll = async () => {
    lastPoll = Date.now();
    const said = await send('M114');
    const p = countMm(m, said);
    if (p) c.samples.push([Date.now() - t0, 'planned', round3(p[0]), round3(p[1]), round3(p[2])]);
  };
  let next = from;
  try {
    while (next < program.length) {
      if (stopping) break;
      if (paused) {
        await Promise.race([woken(), failedP]);
        continue;
      }
      if (Date.now() - lastPoll >= POLL_MS) await poll();
      const l = program[next];
      if (l.loadColor !== undefined) {
        // The moves before it done (M400), then the operator; Marlin shows M0's text on its LCD.
        await send('M400');
        doneBefore(next);
        if (stopping) break;
        prompting = true;
        show(' (colour change)');
        const m0 = c.emergencyParser ? send(l.text) : null;
        if (!o.yes) {
          // Enter, or the operator stopping (x, Ctrl-C) meanwhile; the M108 below releases M0 either way.
          let watch: NodeJS.Timeout | undefined;
          const stopped = new Promise<void>((r) => (watch = setInterval(() => stopping && r(), 100)));
          try {
            await Promise.race([c.input.ask(threadChangePrompt(l.loadColor, job.colors), l.loadColor), failedP, stopped]);
          } finally {
            clearInterval(watch);
          }
        }
        if (m0) {
          await sleep(50);
          await Promise.all([m0, send('M108')]); // M108 ends M0's wait (EMERGENCY_PARSER reads it as it arrives)
        }
        prompting = false;
        next++;
        continue;
      }
      if (l.text === 'M400' && l.hook === -1) {
        // The program's end (Marlin has no M2): its ok comes when the last move is done.
        await send('M400');
        doneBefore(program.length);
        next++;
        continue;
      }
      await send(l.text);
      next++;
      if (l.woundAfter) {
        await send('M400');
        doneBefore(next);
      } else {
        show();
      }
    }
    if (stopping === 'quick') {
      await Promise.race([sleep(1500), failedP]);
      return { code: 1, message: `quick stop (M410) by the operator at ${at()}: Marlin dropped its planned moves and the position may be lost${resumeHint()}` };
    }
    if (stopping === 'interrupt') {
      // The limit's timer is cleared after: a pending 60 s timer kept the process (the studio stopping) alive that long.
      let limit: NodeJS.Timeout | undefined;
      const drained = await Promise.race([send('M400').then(() => true), new Promise<boolean>((r) => (limit = setTimeout(() => r(false), DRAIN_MS))), failedP])
        .finally(() => clearTimeout(limit));
      if (drained) progress.finishedBefore(next);
      c.keeper.wound(wound());
      return { code: 1, message: `interrupted at ${at()}: ${drained ? 'Marlin finished the moves it had planned and stopped' : `Marlin did not finish its planned moves within ${DRAIN_MS / 1000} s`}${resumeHint()}` };
    }
    return { code: 0, message: `run OK: ${c.lineCount} lines done on Marlin${c.startAt ? ` (resumed at line ${c.startAt})` : ''}; job ${((Date.now() - t0) / 1000).toFixed(1)} s after homing, ${program.length - from} G-code lines, ${g.resent} resent` };
  } catch (e) {
    if (e instanceof ControllerStop) return { code: 1, message: e.message };
    throw e;
  } finally {
    clearInterval(watchdog);
    offEvents();
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
