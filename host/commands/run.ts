import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { numberFlag, parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError, fsErrorText } from '../errors';
import { loadMachine } from '../machine/load';
import { machineHash } from '../stream/machine-hash';
import { decodeStreamBytes, streamOnMachine } from '../stream/plan-stream';
import { HostSession } from '../link/session';
import { askThreadChange } from '../link/thread-change';
import { openSerial } from '../link/serial';
import { LineEta } from '../link/eta';
import { estimateMotion } from '../../shared/motion/estimate';
import { RingPath, ringAxes } from '../../shared/geometry/ring';
import type { PipeFaults } from '../link/faulty-pipe';
import { runLinkSim } from '../../sim/session/link-sim';
import type { MachineProfile } from '../../shared/machine';
import type { Command } from './command';
import { streamJob } from '../controller/stream-job';

/** `--faults corrupt=0.01,drop=0.01,dup=0.005,reorder=0,resets=20` */
export function parseFaults(raw: string | undefined): { pipe: PipeFaults; resets: number } {
  const pipe: PipeFaults = { corrupt: 0, drop: 0, dup: 0, reorder: 0 };
  let resets = 0;
  if (!raw) return { pipe, resets };
  for (const part of raw.split(',')) {
    const [k, v] = part.split('=');
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new UserError(`--faults: '${part}' is not NAME=NUMBER; e.g. --faults corrupt=0.01,drop=0.01,dup=0.005,resets=20`);
    if (k === 'resets') resets = Math.floor(n);
    else if (k === 'corrupt' || k === 'drop' || k === 'dup' || k === 'reorder') {
      if (n > 0.2) throw new UserError(`--faults: ${k}=${n} is above 0.2 (a fraction of bytes)`);
      pipe[k] = n;
    } else throw new UserError(`--faults: unknown fault '${k}'; known: corrupt, drop, dup, reorder, resets`);
  }
  return { pipe, resets };
}

function fmtEta(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

/**
 * Line, colour (counted from 1, "colour 2 of 3", as the instructions count) and ETA on stderr:
 * redrawn in place on a TTY, a plain line per 10 % otherwise. After done() it draws nothing more
 * (a message printed after it must stay the last thing on the terminal).
 */
function progressBar(quiet: boolean, colours: number) {
  const tty = process.stderr.isTTY === true;
  let lastStep = -1;
  let shown = false;
  let stopped = false;
  return {
    update(line: number, lineCount: number, color: number, etaS: number, extra = '') {
      if (quiet || stopped || lineCount <= 0) return;
      const f = Math.min(1, line / lineCount);
      const text = `line ${line}/${lineCount} colour ${color + 1} of ${Math.max(colours, color + 1)} ETA ${fmtEta(etaS)}${extra}`;
      if (tty) {
        const full = Math.round(f * 30);
        process.stderr.write(`\rrun [${'#'.repeat(full)}${'-'.repeat(30 - full)}] ${text}\x1b[K`);
        shown = true;
      } else {
        const step = Math.floor(f * 10);
        if (step <= lastStep) return;
        lastStep = step;
        process.stderr.write(`run: ${text}\n`);
      }
    },
    done() {
      if (tty && shown && !stopped) process.stderr.write('\r\x1b[K');
      stopped = true;
    },
  };
}

/** How long Ctrl-C waits for the machine to report that it has stopped (it drains its queued moves first). */
export const INTERRUPT_WAIT_MS = 5000;

export const runCommand: Command = {
  name: 'run',
  usage: 'run PLAN.hls --port PORT|sim [--target johnny-five|grbl|marlin] [--apply-settings] [--machine MACHINE.json] [--baud B] [-o DIR] [--faults corrupt=P,drop=P,dup=P,reorder=P,resets=N] [--seed S] [--resume] [--yes] [--quiet]',
  summary: 'stream a plan to the machine, with progress, colour-change prompts and resume after a disconnect or power cut: the hookline device over the link protocol (docs/protocol.md), a Firmata board (--target johnny-five) or a stock Grbl 1.1 controller as G-code (--target grbl, docs/targets/grbl.md); --port sim runs the simulated device in-process in virtual time (with --faults) and writes DIR/report.json',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('run', argv, {
      port: { type: 'string', short: 'p' },
      machine: { type: 'string', short: 'm' },
      baud: { type: 'string' },
      out: { type: 'string', short: 'o' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      resume: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      quiet: { type: 'boolean', short: 'q' },
      'thread-change-s': { type: 'string' },
      target: { type: 'string', short: 't' },
      'apply-settings': { type: 'boolean' },
    });
    const [streamPath] = positionals('run', pos, ['plan.hls']);
    if (!values.port) throw new UserError('run: missing --port (a serial device such as /dev/ttyUSB0, or sim for the simulated machine)');
    const baud = numberFlag('baud', values.baud, 115200, { min: 300, max: 4_000_000, integer: true });
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(streamPath);
    } catch (e) {
      throw new UserError(`cannot read stream ${streamPath}: ${fsErrorText(e)}; give a .hls file written by 'hookline encode'`);
    }
    const decoded = decodeStreamBytes(bytes, streamPath);
    const palette = decoded.colors;
    const bar = progressBar(values.quiet === true, palette.length);

    if (values.target !== undefined && !['johnny-five', 'grbl', 'marlin'].includes(values.target)) {
      throw new UserError(`run: unknown --target '${values.target}'; host-side targets: johnny-five (a Firmata board), grbl (a Grbl 1.1 controller), marlin (a Marlin 2 controller); the hookline device runs the link protocol: leave --target out`);
    }
    if (values['apply-settings'] && values.target !== 'grbl' && values.target !== 'marlin') throw new UserError('run: --apply-settings is for --target grbl or marlin (it writes the profile\'s settings to the controller)');
    if (values.target === 'grbl' || values.target === 'marlin') {
      if (!values.machine) throw new UserError(`run --target ${values.target}: missing --machine MACHINE.json (the machine the controller drives)`);
      if (values.port === 'sim') throw new UserError(`run --target ${values.target}: --port must be the controller's serial port; to check the G-code, use hookline gcode and hookline sim`);
      if (values.faults !== undefined) throw new UserError('run: --faults is for --port sim');
      const machine = loadMachine(values.machine);
      if (machine.kind === 'ring') throw new UserError(`run --target ${values.target}: ${values.machine} is a ring machine; G-code controllers drive XY gantries (kind "gantry")`);
      const hash = machineHash(machine);
      const job = streamJob(decodeStreamBytes(bytes, streamPath, hash), machine, streamPath, values.machine);
      const tty = process.stderr.isTTY === true;
      const runController = values.target === 'marlin' ? (await import('../controller/marlin-run')).runMarlin : (await import('../controller/grbl-run')).runGrbl;
      return runController({
        port: values.port, baud, machine, machinePath: values.machine, machineHash: hash, job, streamPath, bytes,
        resume: values.resume === true, applySettings: values['apply-settings'] === true, yes: values.yes === true, out: values.out,
        progress: (line, lineCount, color, etaS, extra) => bar.update(line, lineCount, color, etaS, extra),
        progressDone: () => bar.done(),
        say: (text) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${text}\n`),
      });
    }
    if (values.target === 'johnny-five') {
      // The runtime runs here and drives a Firmata board (device/johnny-five, docs/targets.md).
      if (!values.machine) throw new UserError('run --target johnny-five: missing --machine MACHINE.json (the machine the board drives)');
      if (values.port === 'sim') throw new UserError('run --target johnny-five: --port must be the board\'s serial port; to simulate use hookline sim PLAN.hls --target johnny-five');
      const { runJohnnyFiveCli } = await import('../../device/johnny-five/cli');
      const { BoardError } = await import('../../device/johnny-five/connect');
      try {
        return await runJohnnyFiveCli({
          port: values.port, machine: loadMachine(values.machine), stream: bytes, yes: values.yes === true,
          // Firmata's own default (57600), not the link's 115200, unless --baud is given.
          baud: values.baud !== undefined ? baud : undefined,
          onProgress: (line, lineCount, color, etaS) => bar.update(line, lineCount, color, etaS),
          done: () => bar.done(),
        });
      } catch (e) {
        bar.done();
        if (e instanceof BoardError) throw new UserError(e.message);
        throw e;
      }
    }

    if (values.port === 'sim') {
      if (!values.machine) throw new UserError('run --port sim: missing --machine MACHINE.json (the simulated machine)');
      const machine = loadMachine(values.machine);
      if (machine.kind === 'ring') throw new UserError('run --port sim: ring machines are not simulated behind the link yet; use hookline sim');
      streamOnMachine(decodeStreamBytes(bytes, streamPath, machineHash(machine)), streamPath, machine.hooks.count, values.machine); // as sim: named, not alarm 6
      const { pipe, resets } = parseFaults(values.faults);
      const seed = numberFlag('seed', values.seed, 1, { integer: true, min: 0 });
      const threadChange = numberFlag('thread-change-s', values['thread-change-s'], 30, { min: 0 });
      const r = runLinkSim(bytes, machine as MachineProfile, {
        faults: pipe, resets, seed, baud, threadChangeSeconds: threadChange,
        onProgress: (p) => {
          const rate = p.line > 0 ? p.machineSeconds / p.line : NaN;
          bar.update(p.line, p.lineCount, p.color, rate * (p.lineCount - p.line), p.resets ? ` resets ${p.resets}` : '');
        },
      });
      bar.done();
      // An error is one line and nothing else: no report of a run that did not happen.
      if (r.error) throw new UserError(r.error);
      const exact = r.firstMismatch === null && r.wrapped.length === r.planHooks.length;
      if (values.out) {
        writeFileAtomic(join(values.out, 'report.json'), JSON.stringify({
          format: 'hookline-run-report',
          stream: streamPath,
          machine: values.machine,
          machineHash: machineHash(machine),
          seed,
          ok: r.ok,
          sequenceExact: exact,
          error: r.error,
          planHooks: r.planHooks.length,
          wrappedHooks: r.wrapped.length,
          firstMismatch: r.firstMismatch,
          violationCounts: r.violationCounts,
          violations: r.violations,
          machineSeconds: r.machineSeconds,
          faults: r.faults,
          link: r.link,
          startedAt: r.startedAt,
          pauses: r.pauses,
          wrapped: r.wrapped,
          wrappedDirs: r.wrappedDirs,
          events: r.events,
          deviceLog: r.deviceLog,
          wallSeconds: r.wallSeconds,
        }, null, 1) + '\n');
      }
      const f = r.faults;
      process.stdout.write(
        `run ${r.ok ? 'OK' : 'FAILED'}: wrapped ${r.wrapped.length} of ${r.planHooks.length} hooks${exact ? ', sequence equals the plan' : `, first mismatch at #${r.firstMismatch?.index}`}` +
          `, ${(r.machineSeconds / 3600).toFixed(2)} h machine time; ${f.resets} power cuts, ${f.corrupted} corrupted, ${f.dropped} dropped, ${f.duplicated} duplicated bytes, ${f.retransmissions} retransmissions, ${f.interruptedWraps} interrupted wraps redone` +
          (r.violations.length ? `; ${Object.values(r.violationCounts).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)} violations (first: ${r.violations[0].message})` : '') +
          (values.out ? `; wrote ${join(values.out, 'report.json')}` : '') + '\n',
      );
      return r.ok ? 0 : 1;
    }

    // A real serial port, real time. The ETA follows the motion estimate when the machine is known.
    let lineSeconds: number[] | null = null;
    if (values.machine) {
      const machine = loadMachine(values.machine);
      const { ops, dirs } = streamOnMachine(decoded, streamPath, machine.hooks.count, values.machine);
      lineSeconds = machine.kind === 'ring'
        ? estimateMotion(ringAxes(machine), ops, false, new RingPath(machine), dirs ?? undefined).lineSeconds
        : estimateMotion(machine, ops, false, undefined, dirs ?? undefined).lineSeconds;
    }
    const link = await openSerial(values.port, baud);
    const t0 = performance.now();
    const now = () => performance.now() - t0;
    let session: HostSession;
    try {
      session = new HostSession(bytes, { byteMs: 10_000 / baud, resume: values.resume === true }, now());
    } catch (e) {
      await link.close();
      throw new UserError(`${streamPath}: ${(e as Error).message}`);
    }
    const s = session;
    const eta = new LineEta(s.lineCount, lineSeconds);
    let closedWhy: string | null = null;
    let prompting = false;
    const result = await new Promise<string | null>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      let over = false;
      /** Ctrl-C: when it came (ms), the line the machine had reported then, the give-up timer. */
      let interruptedAt = -1;
      let lineAtInterrupt = 0;
      let interruptTimer: NodeJS.Timeout | null = null;
      const finish = (why: string | null) => {
        if (over) return;
        over = true;
        // Nothing may run after this: no redraw of the bar after the message, no timer keeping the
        // process alive (a pending step once kept it for the 12 s of a failing handshake).
        if (timer) clearTimeout(timer);
        if (interruptTimer) clearTimeout(interruptTimer);
        process.removeListener('SIGINT', onInterrupt);
        bar.done();
        resolve(why);
      };
      const stoppedMessage = (confirmed: boolean) => {
        const st = s.status;
        const reached = st ? st.line : 0;
        const drained = reached > lineAtInterrupt ? `, after finishing the ${reached - lineAtInterrupt} line${reached - lineAtInterrupt === 1 ? '' : 's'} it had already queued` : '';
        return confirmed
          ? `interrupted at line ${lineAtInterrupt} of ${s.lineCount}: the machine stopped at line ${reached}${drained}; run again with --resume to continue from there`
          : `interrupted at line ${lineAtInterrupt} of ${s.lineCount}: the machine was asked to stop but did not confirm within ${INTERRUPT_WAIT_MS / 1000} s (last reported line ${reached}); check it, then run again with --resume`;
      };
      const step = () => {
        if (over) return;
        if (timer) clearTimeout(timer);
        timer = null;
        if (closedWhy) return finish(`the device disconnected: ${closedWhy}; reconnect and run again with --resume`);
        for (const f of s.poll(now())) link.write(f);
        if (s.phase === 'failed') return finish(s.error);
        if (s.phase === 'done') return finish(null);
        if (interruptedAt >= 0) {
          // Stopped: PAUSED (state 5) after our PAUSE, or an alarm / the end meanwhile.
          const st = s.status;
          if (st && (st.state === 5 || st.state === 7 || st.state === 6)) return finish(stoppedMessage(true));
        } else {
          if (s.status) bar.update(s.status.line, s.lineCount, s.status.color, eta.update(s.status.line, now(), s.status.state === 5));
          if (s.awaitingColour >= 0 && !prompting) {
            prompting = true;
            if (values.yes) {
              s.continueAfterColour();
              prompting = false;
            } else {
              void askThreadChange(s.awaitingColour, palette).then(() => {
                prompting = false;
                if (interruptedAt >= 0) return;
                s.continueAfterColour();
                step();
              });
            }
          }
        }
        const d = s.nextDeadline();
        timer = setTimeout(step, Number.isFinite(d) ? Math.max(1, d - now()) : 100);
      };
      function onInterrupt() {
        if (interruptedAt >= 0) return finish(stoppedMessage(false)); // a second Ctrl-C: leave now
        if (s.device === null) return finish('interrupted before the device answered HELLO: nothing was started');
        // Ctrl-C: stop the machine at the next safe point (it finishes the moves it has queued and
        // pauses), wait for it to say so (at most INTERRUPT_WAIT_MS), then leave with one line.
        interruptedAt = now();
        lineAtInterrupt = s.status ? s.status.line : 0;
        bar.done();
        s.pause();
        step();
        interruptTimer = setTimeout(() => finish(stoppedMessage(false)), INTERRUPT_WAIT_MS);
      }
      link.onData((b) => {
        s.receive(b, now());
        step();
      });
      link.onClose((why) => {
        closedWhy = why;
        step();
      });
      process.on('SIGINT', onInterrupt);
      step();
    });
    bar.done();
    await link.close();
    if (result) throw new UserError(result);
    process.stdout.write(`run OK: ${s.lineCount} lines done\n`);
    return 0;
  },
};
