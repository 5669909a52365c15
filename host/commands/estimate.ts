import { readFileSync } from 'node:fs';
import { parseCommand, positionals } from '../args';
import { UserError, fsErrorText } from '../errors';
import { loadMachine } from '../machine/load';
import { decodeStreamBytes, streamOnMachine } from '../stream/plan-stream';
import { machineHash } from '../stream/machine-hash';
import { pileOverflow } from '../machine/compat';
import { createProgress } from '../progress';
import { estimateMotion, floorSeconds, threadMm } from '../../shared/motion/estimate';
import { RingPath, ringAxes, ringFloorSeconds } from '../../shared/geometry/ring';
import type { Command } from './command';

/**
 * `hookline estimate PLAN.hls --machine M.json`: machine time and thread from the runtime's own path
 * and look-ahead planner, without stepping (shared/motion/estimate.ts); homing and thread changes
 * not included.
 */
export const estimateCommand: Command = {
  name: 'estimate',
  usage: 'estimate PLAN.hls --machine MACHINE.json [--json]',
  summary: 'machine time (look-ahead and exact stop), the floor, thread length and pile height of a stream on a machine, without simulating',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('estimate', argv, {
      machine: { type: 'string', short: 'm' },
      json: { type: 'boolean' },
    });
    const [streamPath] = positionals('estimate', pos, ['plan.hls']);
    if (!values.machine) throw new UserError('estimate: missing --machine MACHINE.json (e.g. --machine machines/ref-gantry.json)');
    const machine = loadMachine(values.machine);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(streamPath);
    } catch (e) {
      throw new UserError(`cannot read stream ${streamPath}: ${fsErrorText(e)}; give a .hls file written by 'hookline encode'`);
    }
    const decoded = decodeStreamBytes(bytes, streamPath, machineHash(machine));
    const { ops, hooks, dirs } = streamOnMachine(decoded, streamPath, machine.hooks.count, values.machine);
    // A ring runs as one rotary axis of an ordinary profile, with its own path (shared/geometry/ring.ts).
    const ring = machine.kind === 'ring' ? machine : null;
    const axes = machine.kind === 'ring' ? ringAxes(machine) : machine;
    // The runtime would stop with pile-full (sim alarms, gcode refuses): say so instead of a time.
    const over = pileOverflow(axes, hooks);
    if (over) throw new UserError(`${streamPath} cannot be built on machine ${machine.name} (${values.machine}): ${over.what}; ${over.fix}`);
    // Two passes of about equal cost: look-ahead, then exact stop.
    const progress = createProgress({ label: 'estimate' });
    const look = estimateMotion(axes, ops, false, ring ? new RingPath(ring) : undefined, dirs ?? undefined);
    progress.update(0.5);
    const exact = estimateMotion(axes, ops, true, ring ? new RingPath(ring) : undefined, dirs ?? undefined);
    progress.update(0.95);
    const floor = ring ? ringFloorSeconds(ring, hooks) : floorSeconds(axes, hooks);
    const lines = Math.max(0, hooks.length - 1);
    const thread = threadMm(axes, hooks) / 1000;
    const pauses = countPauses(ops);
    progress.done();
    if (values.json) {
      process.stdout.write(JSON.stringify({
        lines, machineSeconds: r3(look.seconds), secondsPerLine: r3(look.seconds / Math.max(1, lines)), floorSeconds: r3(floor),
        exactStopSeconds: r3(exact.seconds), threadMeters: r3(thread), maxPileMm: r3(look.pileMm), threadChanges: pauses,
      }) + '\n');
      return 0;
    }
    process.stdout.write(
      `${streamPath} on ${machine.name}: ${lines} lines, ${hms(look.seconds)} machine time (${(look.seconds / Math.max(1, lines)).toFixed(2)} s/line, ` +
        `${(look.seconds / Math.max(1e-9, floor)).toFixed(2)} × the floor ${hms(floor)}; exact stop would take ${hms(exact.seconds)}), ` +
        `${thread.toFixed(1)} m of thread, pile up to ${look.pileMm.toFixed(1)} mm${pauses ? `, ${pauses} thread change${pauses > 1 ? 's' : ''} not included` : ''}\n`,
    );
    return 0;
  },
};

function countPauses(ops: number[]): number {
  let n = 0;
  let color = -1;
  let hooks = 0;
  for (const op of ops) {
    if (op >= 0) hooks++;
    else {
      const c = -op - 1;
      if (hooks > 0 && c !== color) n++;
      color = c;
    }
  }
  return n;
}

function r3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function hms(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : m > 0 ? `${m} min ${String(sec).padStart(2, '0')} s` : `${(s).toFixed(1)} s`;
}
