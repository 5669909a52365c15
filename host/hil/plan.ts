/**
 * The suite's built-in plan: a short, deterministic hook sequence on the machine's own hooks,
 * encoded as a format 4 stream carrying the machine's hash, and how long it should take.
 */
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
  return { hooks, lines, stream, machineHash: hash, estimateS };
}
