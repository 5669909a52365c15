/**
 * The G-code job of a `.hls` stream on its machine: the hook path, the winding side of each hook
 * and the colour of each line, as `hookline gcode` makes them from a plan.
 */
import type { GcodeJob } from '../gcode/generate';
import type { MachineProfile } from '../../shared/machine';
import type { DecodedStream } from '../stream/plan-stream';
import { streamOnMachine } from '../stream/plan-stream';
import { hooksAndDirections } from '../../sim/verify';

export function streamJob(d: DecodedStream, m: MachineProfile, where: string, machinePath: string): GcodeJob {
  const { hooks, ops, dirs } = streamOnMachine(d, where, m.hooks.count, machinePath);
  const lineColors: number[] = [];
  let color = 0;
  let seen = 0;
  for (const op of ops) {
    if (op < 0) color = -op - 1;
    else if (seen++ > 0) lineColors.push(color);
  }
  return {
    path: hooks,
    dirs: dirs ?? hooksAndDirections(m, hooks, 1).dirs,
    lineColors,
    colors: d.colors,
    flanked: dirs !== null,
  };
}
