/**
 * The suite's built-in plan: a short, deterministic hook sequence on the machine's own hooks,
 * encoded as a format 4 stream carrying the machine's hash, and how long it should take.
 */
import { EV_END, EV_HOOK, EV_NONE, StreamDecoder } from '../../shared/stream/decoder';
import { encodeStream } from '../../shared/stream/encoder';
import { estimateMotion } from '../../shared/motion/estimate';
import type { MachineProfile } from '../../shared/machine';
import type { AnyMachine } from '../machine/load';
import { machineHash } from '../stream/machine-hash';
import { seededRandom } from '../rng';

export const HIL_PLAN_LINES = 16;
const HIL_PLAN_SEED = 9;

export interface HilPlan {
  hooks: number[];
  /** Lines = hooks − 1 (what the device reports as lineCount). */
  lines: number;
  stream: Uint8Array;
  machineHash: number;
  /** Motion time at real speed from the homed position (s); NaN when not estimated (ring). */
  estimateS: number;
  /**
   * Bytes of the stream that carry its first half of hooks (HEAD_HOOKS), not the end: the pause and
   * abort cases send these first and the rest only with PAUSE / ABORT, so the device cannot finish
   * the plan before the command arrives however fast it runs or however late the host reacts.
   */
  headBytes: number;
}

/** The bytes from which a stream decoder delivers `hooks` hooks; the whole stream if it has fewer. */
export function bytesForHooks(stream: Uint8Array, hooks: number): number {
  const d = new StreamDecoder();
  let n = 0;
  for (let i = 0; i < stream.length; i++) {
    for (let ev = d.push(stream[i]); ev !== EV_NONE; ev = d.next()) {
      if (ev < 0 || ev === EV_END) return stream.length;
      if (ev === EV_HOOK && ++n >= hooks) return i + 1;
    }
  }
  return stream.length;
}

/** Consecutive hooks at least an eighth of the circle apart, never the same twice in a row. */
export function hilHooks(hookCount: number, lines = HIL_PLAN_LINES, seed = HIL_PLAN_SEED): number[] {
  const rnd = seededRandom(seed);
  const gap = Math.max(1, Math.floor(hookCount / 8));
  const span = Math.max(1, hookCount - 2 * gap);
  const hooks = [Math.floor(rnd() * hookCount)];
  for (let i = 0; i < lines; i++) hooks.push((hooks[i] + gap + Math.floor(rnd() * span)) % hookCount);
  return hooks;
}

export function hilPlan(machine: AnyMachine, lines = HIL_PLAN_LINES): HilPlan {
  const hookCount = machine.hooks.count;
  const hooks = hilHooks(hookCount, lines);
  const hash = machineHash(machine);
  const stream = Uint8Array.from(encodeStream(hooks, hookCount, [0], { version: 4, machineHash: hash }));
  const estimateS = machine.kind === 'gantry' ? estimateMotion(machine as MachineProfile, hooks, false).seconds : NaN;
  const headBytes = Math.min(bytesForHooks(stream, Math.ceil(hooks.length / 2)), stream.length - 1);
  return { hooks, lines, stream, machineHash: hash, estimateS, headBytes };
}
