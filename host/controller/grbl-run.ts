/**
 * `hookline run PLAN.hls --target grbl --port P --machine M`: the plan's G-code (host/gcode) streamed
 * to a stock Grbl 1.1 controller (docs/targets/grbl.md). Before anything moves: the board must say it
 * is Grbl 1.1 and its `$$` must match the profile. Then `$H`, the program by character counting, a
 * `?` every 50 ms for progress, colour changes (M0) prompted, pause / resume / reset from the
 * keyboard, and a resume point beside the stream so that a reset, an alarm, a disconnect or a power
 * cut can be continued with `--resume` (re-home, restore the pile height, the next hook not
 * certainly wound).
 */
import { UserError } from '../errors';
import { generateJobGcode, type ProgramLine } from '../gcode/generate';
import { grblWorkOffset } from '../gcode/grbl-settings';
import { openSerial } from '../link/serial';
import { LineEta } from '../link/eta';
import { threadChangePrompt } from '../link/thread-change';
import { estimateMotion } from '../../shared/motion/estimate';
import { grblAlarmText, grblErrorText } from './grbl-codes';
import { GrblLink, type GrblEvent, type GrblStatus } from './grbl-link';
import { compareGrblSettings, expectedGrblSettings, parseGrblSettings, settingDiffText } from './grbl-settings-check';
import { ProgramProgress } from './program-progress';
import { OperatorInput } from './operator-input';
import { ControllerStop, ResumeKeeper, homingLimitMs, lineAndColour, recordOutcome, reportOutcome, type ControllerRunOptions, type OperatorKeys } from './controller-run';

export type GrblRunOptions = ControllerRunOptions;

/** How long the board may stay silent before it is not taken for a Grbl (it gets one soft reset half way). */
export const IDENTIFY_MS = 5000;
/** Status report interval while streaming: several reports per wrap (a turn of ref-gantry takes ~0.3 s). */
const POLL_MS = 50;
/** A Grbl that answers nothing for this long while it should be working has hung or lost power. */
const SILENCE_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a not-Grbl port said, for the one-line error. */
function identifyError(port: string, received: string, baud: number): UserError {
  const text = received.replace(/[\r\n]+/g, ' ').trim();
  if (text === '') {
    return new UserError(`run --target grbl: nothing answered on ${port} within ${IDENTIFY_MS / 1000} s (a '?' and a soft reset sent); check --port, the cable, that the controller is powered and runs Grbl 1.1, and --baud (${baud} now; Grbl's is 115200)`);
  }
  if (/Marlin|^start\b|echo:/m.test(received)) {
    return new UserError(`run --target grbl: ${port} is a Marlin board (it said '${text.slice(0, 60)}'), not Grbl; use --target marlin`);
  }
  const shown = text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
  return new UserError(`run --target grbl: ${port} answered, but not as Grbl 1.1 (got '${shown}'${text.length > 40 ? '…' : ''}); check --baud (${baud} now; Grbl's is 115200) and that the board runs Grbl 1.1`);
}

/** Wait for Grbl's banner or a status report; `?` every 500 ms, one soft reset half way. */
export async function identify(g: GrblLink, o: GrblRunOptions): Promise<string> {
  let version: string | null = null;
  let status = false;
  const off = g.on((e) => {
    if (e.kind === 'banner') version = e.version;
    if (e.kind === 'status') status = true;
  });
  const t0 = Date.now();
  let reset = false;
  try {
    while (version === null && !status && Date.now() - t0 < IDENTIFY_MS) {
      if (g.closed) throw new UserError(`run --target grbl: ${o.port} closed while waiting for Grbl: ${g.closed}`);
      if (!reset && Date.now() - t0 >= IDENTIFY_MS / 2) {
        reset = true;
        g.realtime('\x18');
      } else {
        g.realtime('?');
      }
      await sleep(500);
    }
  } finally {
    off();
  }
  if (version === null && !status) throw identifyError(o.port, g.received, o.baud);
  await sleep(200); // the rest of a banner ([MSG:…]) before the first command
  const info = await g.command('$I', 3000).catch(() => null);
  const ver = info?.map((l) => /^\[VER:([^\]:]*)/.exec(l)?.[1]).find((v) => v) ?? version ?? '';
  if (!/^1\.1/.test(ver)) {
    throw new UserError(`run --target grbl: ${o.port} runs Grbl ${ver || '(version not reported)'}; hookline streams to Grbl 1.1 (its status reports and settings); update the firmware`);
  }
  return ver;
}

export async function checkSettings(g: GrblLink, o: GrblRunOptions): Promise<string> {
  const read = async () => parseGrblSettings(await g.command('$$', 5000));
  let diffs = compareGrblSettings(await read(), o.machine);
  if (diffs.length === 0) return `settings match ${o.machinePath}`;
  const list = diffs.map(settingDiffText).join(', ');
  if (!o.applySettings) {
    throw new UserError(`run --target grbl: Grbl's settings differ from ${o.machinePath}: ${list}; nothing was moved; fix the profile, or run again with --apply-settings to write the profile's values to Grbl`);
  }
  const want = new Map(expectedGrblSettings(o.machine).map((e) => [e.n, e.line]));
  for (const d of diffs) await g.command(want.get(d.n)!, 5000);
  diffs = compareGrblSettings(await read(), o.machine);
  if (diffs.length) throw new UserError(`run --target grbl: Grbl kept settings that differ from ${o.machinePath} after --apply-settings: ${diffs.map(settingDiffText).join(', ')}`);
  return `wrote ${list.split(', ').length} settings from ${o.machinePath}`;
}

export async function runGrbl(o: GrblRunOptions): Promise<number> {
  const { machine: m, job } = o;
  const keeper = new ResumeKeeper(o, 'grbl');
  if (keeper.startAt === null) return 0;
  const startAt = keeper.startAt;
  const lineCount = job.path.length - 1;
  const gc = generateJobGcode(job, m, { dialect: 'grbl', lift: { mode: 'z', servoUp: 0, servoDown: 0 }, planName: o.streamPath, startAt });
  const program = gc.program;
  const homeAt = program.findIndex((l) => l.text === '$H');
  const off = grblWorkOffset(m);
  const tol = Math.max(...[m.axes.x, m.axes.y, m.axes.z].map((a) => 1 / a.stepsPerMm)) + 0.005;
  const progress = new ProgramProgress(program, tol);
  const est = estimateMotion(m, job.path, false, undefined, job.dirs);
  const eta = new LineEta(lineCount, est.lineSeconds);

  const link = await openSerial(o.port, o.baud);
  const g = new GrblLink(link);
  const samples: [number, string, number, number, number][] = [];
  const events: string[] = [];
  const t0 = Date.now();
  let homingS = 0;
  let outcome: { code: number; message: string } | null = null;
  const input = o.input ?? new OperatorInput();
  /** Stopped by the operator before the job (the studio's Abort): the outcome says so. */
  let abortedBeforeJob = false;
  // Ctrl-C before the job: a soft reset stops homing at once; nothing to resume.
  input.onInterrupt(() => {
    g.realtime('\x18');
    if (o.input) {
      abortedBeforeJob = true;
      return;
    }
    setTimeout(() => {
      input.close();
      process.stderr.write('\nhookline: interrupted before the job started (Grbl was reset, which stops homing); nothing was strung\n');
      process.exit(130);
    }, 200);
  });
  try {
    const version = await identify(g, o);
    const settings = await checkSettings(g, o);
    o.say(`grbl: Grbl ${version} on ${o.port}; ${settings}; homing`);
    if (startAt > 0) o.say(`grbl: resuming at line ${startAt} of ${lineCount} (hooks before it are wound; the pile height is restored); the thread on the nozzle must be colour ${job.lineColors[startAt - 1] + 1} of ${job.colors.length}, ${job.colors[job.lineColors[startAt - 1]]}`);
    keeper.started();

    // Homing: the program's first line. Alarm-locked Grbl accepts nothing else.
    const poll = setInterval(() => g.realtime('?'), 250);
    try {
      await g.command(program[homeAt].text, homingLimitMs(m));
    } catch (e) {
      const err = e as { alarmCode?: number; errorCode?: number; why?: string };
      if (err.alarmCode !== undefined) throw new ControllerStop(`homing failed: ${grblAlarmText(err.alarmCode)}; nothing was strung; check the switches, then run again${startAt ? ' with --resume' : ''}`);
      if (err.errorCode !== undefined) throw new ControllerStop(`$H was refused: ${grblErrorText(err.errorCode)}`);
      throw new ControllerStop(`homing did not finish: ${err.why ?? String(e)}`);
    } finally {
      clearInterval(poll);
    }
    homingS = (Date.now() - t0) / 1000;
    o.say(`grbl: homed in ${homingS.toFixed(1)} s; ${lineCount - Math.max(0, startAt - 1)} lines to string${o.yes ? '' : '; keys: p pause, r resume, x reset (stops at once), Ctrl-C stop'}`);

    outcome = await stream(g, o, program, homeAt + 1, progress, {
      startAt, lineCount, eta, input, samples, events, off,
      woundChanged: (k) => keeper.wound(k),
    });
  } catch (e) {
    if (abortedBeforeJob && (e instanceof ControllerStop || e instanceof UserError)) outcome = { code: 1, message: 'aborted before the job started (Grbl was reset, which stops homing); nothing was strung' };
    else if (e instanceof ControllerStop) outcome = { code: 1, message: e.message };
    else throw e;
  } finally {
    input.close();
    o.progressDone();
    recordOutcome(o, keeper, outcome, {
      format: 'hookline-grbl-run', startAt, woundSeen: progress.wound(startAt), homingSeconds: homingS, t0,
      estimateSeconds: gc.seconds, events, samples, extra: { workOffset: off },
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
  off: [number, number, number];
  woundChanged: (k: number) => void;
}

/**
 * Stream program[from…] by character counting until Grbl is idle after M2, or stop: an error or
 * alarm from Grbl, a reset, silence, a disconnect, the operator. Resolves with the outcome.
 */
function stream(g: GrblLink, o: GrblRunOptions, program: ProgramLine[], from: number, progress: ProgramProgress, c: StreamContext): Promise<{ code: number; message: string }> {
  const { job } = o;
  const t0 = Date.now();
  return new Promise((resolve) => {
    let next = from;
    let acked = from;
    let over = false;
    let lastHeard = Date.now();
    let lastAlarm = -1;
    let held: 'colour' | 'operator' | null = null;
    let stopping: string | null = null;
    let colourPrompted = -1;
    const work = (s: GrblStatus): [number, number, number] => [s.mpos[0] - c.off[0], s.mpos[1] - c.off[1], s.mpos[2] - c.off[2]];
    const wound = () => progress.wound(c.startAt);
    const at = () => {
      const k = wound();
      return `line ${Math.max(0, k - 1)} of ${c.lineCount}`;
    };
    const finish = (code: number, message: string) => {
      if (over) return;
      over = true;
      clearInterval(poll);
      clearInterval(watchdog);
      offEvents();
      c.woundChanged(wound());
      resolve({ code, message });
    };
    const resumeHint = () => `; run again with --resume to re-home and continue at ${at()}`;

    /** After Grbl stopped by itself or was reset: its last position places the machine, then stop. */
    const settle = async (message: string, positionKept: boolean) => {
      if (over || stopping === 'settling') return;
      stopping = 'settling';
      if (positionKept) {
        g.realtime('?');
        const st = await g.wait(1000, (e) => (e.kind === 'status' ? e.status : undefined));
        if (st) progress.observe(work(st), next);
      }
      finish(1, `${message}${resumeHint()}`);
    };

    const send = () => {
      if (over || stopping) return;
      while (next < program.length && g.fits(program[next].text)) {
        g.send(program[next].text);
        next++;
      }
    };

    const offEvents = g.on((e: GrblEvent) => {
      if (over) return;
      if (e.kind !== 'closed') lastHeard = Date.now();
      switch (e.kind) {
        case 'ok': {
          acked++;
          const l = program[acked - 1];
          // Grbl answers M0 after the moves before it are done and the hold is over.
          if (l && l.loadColor !== undefined) progress.finishedBefore(acked - 1);
          send();
          return;
        }
        case 'error': {
          // The line was not executed; the ones after it would string the wrong thing: stop now.
          c.events.push(`error:${e.code} on '${e.line}'`);
          g.realtime('!');
          g.realtime('\x18');
          g.dropInflight();
          void settle(`Grbl refused '${e.line}': ${grblErrorText(e.code)}; the job stopped at ${at()}`, true);
          return;
        }
        case 'alarm':
          lastAlarm = e.code;
          c.events.push(`ALARM:${e.code}`);
          g.dropInflight();
          if (stopping === 'operator-reset' || stopping === 'interrupt') return; // our own reset: said below
          void settle(`${grblAlarmText(e.code)} at ${at()}; the job stopped`, true);
          return;
        case 'banner':
          c.events.push(`reset (Grbl ${e.version})`);
          if (stopping === 'operator-reset') return void settle(`reset by the operator at ${at()}${lastAlarm === 3 ? ` (${grblAlarmText(3)})` : ''}`, true);
          if (stopping === 'interrupt') return void settle(`interrupted at ${at()}: the machine was held, then reset`, true);
          if (stopping === 'settling') return;
          // Not ours: after an alarm Grbl keeps its position; a power-up (no alarm before) does not.
          void settle(`Grbl restarted at ${at()} (${lastAlarm >= 0 ? grblAlarmText(lastAlarm) : 'a reset or power cycle of the board'}); the job stopped`, lastAlarm >= 0);
          return;
        case 'status': {
          const s = e.status;
          const p = work(s);
          c.samples.push([Date.now() - t0, s.state, round3(p[0]), round3(p[1]), round3(p[2])]);
          o.status?.({ state: s.state, sub: s.sub ?? null, work: p });
          if (stopping) return;
          progress.observe(p, acked);
          // Idle with every sent line answered: all of them are done (the planner is empty).
          if (s.state === 'Idle' && acked === next) progress.finishedBefore(acked);
          const k = wound();
          c.woundChanged(k);
          if (s.state === 'Idle' && next >= program.length && acked === next) {
            return finish(0, `run OK: ${c.lineCount} lines done on Grbl${c.startAt ? ` (resumed at line ${c.startAt})` : ''}; job ${((Date.now() - t0) / 1000).toFixed(1)} s after homing, ${next - from} G-code lines`);
          }
          // M0: Grbl finishes the moves before it, holds, and answers its ok only after the
          // cycle start (gcode.c: the pause runs inside the line's execution).
          if (s.state === 'Hold' && s.sub === 0 && held === null) {
            const last = program[acked];
            if (last && last.loadColor !== undefined && colourPrompted !== acked) {
              colourPrompted = acked;
              progress.finishedBefore(acked);
              held = 'colour';
              if (o.yes) {
                held = null;
                g.realtime('~');
              } else {
                void c.input.ask(threadChangePrompt(last.loadColor, job.colors), last.loadColor).then(() => {
                  if (over) return;
                  held = null;
                  g.realtime('~');
                });
              }
            }
          }
          const { line, color } = lineAndColour(job, k);
          if (held === null) o.progress(line, c.lineCount, color, c.eta.update(line, Date.now(), s.state === 'Hold'), s.state === 'Hold' ? ' (held)' : '');
          return;
        }
        case 'message':
          if (/^\[MSG:/.test(e.text)) c.events.push(e.text);
          return;
        case 'closed':
          finish(1, `the controller disconnected at ${at()}: ${e.why}${resumeHint()}`);
      }
    });

    c.input.onKey((k) => {
      if (over) return;
      if (k === 'p' && held === null && !stopping) {
        held = 'operator';
        g.realtime('!');
        o.say(`grbl: paused at ${at()} (feed hold); r resumes`);
      } else if (k === 'r' && held === 'operator') {
        held = null;
        g.realtime('~');
        o.say('grbl: resumed');
      } else if (k === 'x' && !stopping) {
        stopping = 'operator-reset';
        g.realtime('\x18');
        g.dropInflight();
      }
    });
    c.input.onInterrupt(async () => {
      if (over) return;
      if (stopping === 'interrupt') return finish(1, `interrupted at ${at()}${resumeHint()}`); // a second Ctrl-C
      // Hold first (a controlled stop, no lost steps), then reset to drop what is queued.
      stopping = 'interrupt';
      g.realtime('!');
      const stoppedAt = Date.now();
      while (!over && Date.now() - stoppedAt < 5000) {
        g.realtime('?');
        const st = await g.wait(300, (e) => (e.kind === 'status' ? e.status : undefined));
        if (st && ((st.state === 'Hold' && st.sub === 0) || st.state === 'Idle' || st.state === 'Alarm')) {
          progress.observe(work(st), next);
          break;
        }
      }
      if (over) return;
      g.realtime('\x18');
      g.dropInflight();
      setTimeout(() => finish(1, `interrupted at ${at()}: the machine was held, then reset${resumeHint()}`), 1500);
    });

    const poll = setInterval(() => {
      if (!over) g.realtime('?');
    }, POLL_MS);
    const watchdog = setInterval(() => {
      if (!over && Date.now() - lastHeard > SILENCE_MS) finish(1, `Grbl stopped answering at ${at()} (nothing for ${SILENCE_MS / 1000} s: power lost or the board hung)${resumeHint()}`);
    }, 1000);
    send();
  });
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
