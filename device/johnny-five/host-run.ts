/**
 * Running a piece with the Johnny-Five target in real time: the runtime on the host, its pins and
 * motion on the Firmata board. Boot, home, then feed the stream whenever the runtime can take a
 * byte; colour changes wait for the operator (onColourChange); progress after every line.
 */
import { ST_ALARM, ST_DONE, ST_IDLE, ST_PAUSED, RuntimeStatus } from '../runtime';
import { runtimeErrorText } from '../errors';
import { MachineProfile, axisAt } from '../../shared/machine';
import { realClock } from './firmata-hal';
import { FirmataIo } from './firmata-io';
import { BoardError } from './connect';
import { boardProblem, createJohnnyFiveRuntime, watchEndstops } from './setup';

export interface JohnnyFiveRunOptions {
  io: FirmataIo;
  machine: MachineProfile;
  stream: Uint8Array;
  /** Profile hash the stream must name (0 = any). */
  machineHash: number;
  onStatus?: (s: RuntimeStatus) => void;
  /** Every poll's status (position in steps: the studio's live nozzle). */
  onTick?: (s: RuntimeStatus) => void;
  /** A colour change paused the machine: resolve when the new thread is in. */
  onColourChange?: (color: number) => Promise<void>;
  onLog?: (line: string) => void;
  /** Homing is over (the runtime left the homing state), after homingSeconds of host time. */
  onHomed?: (homingSeconds: number) => void;
  /** Poll period of the feeder, ms. */
  pollMs?: number;
  /**
   * The operator's pause / resume / abort (the studio's buttons): pause stops at the next safe point
   * (PAUSED without a thread change: no colour is asked), abort decelerates and ends the run IDLE;
   * halt ends the feeder at once (the board is gone: nothing it could do reaches it).
   */
  control?: (c: { pause(): boolean; resume(): boolean; abort(): boolean; halt(): void }) => void;
  /** Home, then resolve (IDLE) without running the stream. */
  homeOnly?: boolean;
}

export interface JohnnyFiveRunResult {
  status: RuntimeStatus;
  homingSeconds: number;
  jobSeconds: number;
  moves: number;
  bytesSent: number;
}

/** Resolves once every endstop pin has reported its level (digital reporting just switched on). */
function endstopsReported(io: FirmataIo, m: MachineProfile, timeoutMs: number): Promise<void> {
  const pins = [0, 1, 2].map((i) => axisAt(m, i).pins.endstop).filter((p, i, a) => a.indexOf(p) === i);
  return new Promise((resolve, reject) => {
    let left = pins.length;
    const t = setTimeout(() => reject(new BoardError(`the board did not report the endstop pins ${pins.join(', ')} within ${timeoutMs / 1000} s; is digital input reporting working?`)), timeoutMs);
    for (const p of pins) {
      io.once(`digital-read-${p}`, () => {
        if (--left === 0) {
          clearTimeout(t);
          resolve();
        }
      });
    }
  });
}

export async function runJohnnyFive(o: JohnnyFiveRunOptions): Promise<JohnnyFiveRunResult> {
  const problem = boardProblem(o.io, o.machine);
  if (problem) throw new BoardError(problem);
  const log = o.onLog ?? (() => {});
  const dev = createJohnnyFiveRuntime(o.io, o.machine, realClock(), log);
  const reported = endstopsReported(o.io, o.machine, 3000);
  watchEndstops(o.io, o.machine);
  await reported;
  const rt = dev.runtime;
  rt.setMachineHash(o.machineHash);
  rt.boot();
  const t0 = performance.now();
  let homedAt = -1;
  rt.home();
  const bytes = o.stream;
  let fed = 0;
  let lastLine = -1;
  let waiting = false;
  let operatorPaused = false;
  let aborted = false;
  let halted = false;
  o.control?.({
    pause: () => (operatorPaused = rt.pause()),
    resume: () => {
      if (!operatorPaused) return false;
      if (rt.status().state === ST_PAUSED) {
        operatorPaused = false;
        return rt.resume();
      }
      return false;
    },
    abort: () => (aborted = rt.abort()),
    halt: () => {
      halted = true;
    },
  });
  const status = await new Promise<RuntimeStatus>((resolve) => {
    const timer = setInterval(() => {
      if (waiting && !halted) return;
      const s = rt.status();
      o.onTick?.(s);
      if (homedAt < 0 && s.state !== 2 && s.state !== 1) {
        homedAt = performance.now();
        if (o.onHomed) o.onHomed((homedAt - t0) / 1000);
      }
      if (halted || s.state === ST_ALARM || s.state === ST_DONE || (s.state === ST_IDLE && (aborted || o.homeOnly))) {
        clearInterval(timer);
        resolve(s);
        return;
      }
      if (s.state === ST_PAUSED && operatorPaused) {
        if (s.line !== lastLine && o.onStatus) {
          lastLine = s.line;
          o.onStatus(s);
        }
        return;
      }
      if (s.state === ST_PAUSED) {
        waiting = true;
        const go = o.onColourChange ? o.onColourChange(s.color) : Promise.resolve();
        void go.then(() => {
          waiting = false;
          rt.resume();
        });
        return;
      }
      while (fed < bytes.length && rt.canAccept()) rt.feed(bytes[fed++]);
      if (s.line !== lastLine && o.onStatus) {
        lastLine = s.line;
        o.onStatus(s);
      }
    }, o.pollMs ?? 5);
  });
  if (o.onStatus) o.onStatus(status);
  const t1 = performance.now();
  const motion = dev.motion();
  return {
    status,
    homingSeconds: ((homedAt < 0 ? t1 : homedAt) - t0) / 1000,
    jobSeconds: (t1 - (homedAt < 0 ? t1 : homedAt)) / 1000,
    moves: motion ? motion.traffic.moves : 0,
    bytesSent: motion ? motion.traffic.bytes : 0,
  };
}

/** One line for an alarm status. */
export function alarmText(s: RuntimeStatus): string {
  return `alarm ${s.error} ${s.errorName} (detail ${s.detail}): ${runtimeErrorText(s.error)}`;
}
