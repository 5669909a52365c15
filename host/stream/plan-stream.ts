import { encodeStream, type StreamOp } from '../../shared/stream/encoder';
import { StreamDecoder } from '../../shared/stream/decoder';
import { EV_COLOR, EV_END, EV_HEADER, EV_HOOK, MAX_HOOKS, streamErrorText } from '../../shared/stream/format';
import { UserError } from '../errors';
import type { Plan } from '../plan/types';

/** The plan's thread path as stream operations: the start nail, then each line's end nail, with a
 * colour change before the first line of each run of one colour (colour 0 is implied at the start). */
export function planOps(plan: Plan): StreamOp[] {
  const ops: StreamOp[] = [];
  if (plan.lines.length === 0) return ops;
  let color = 0;
  ops.push(plan.lines[0][1]);
  for (const [c, , to] of plan.lines) {
    if (c !== color) {
      ops.push(-(c + 1));
      color = c;
    }
    ops.push(to);
  }
  return ops;
}

export function colorNumber(hex: string): number {
  return parseInt(hex.slice(1), 16);
}

export function encodePlan(plan: Plan): Uint8Array {
  if (plan.nails.length > MAX_HOOKS) throw new UserError(`plan has ${plan.nails.length} nails; stream format 1 holds at most ${MAX_HOOKS}`);
  return Uint8Array.from(encodeStream(planOps(plan), plan.nails.length, plan.colors.map(colorNumber)));
}

export interface DecodedStream {
  hookCount: number;
  lineCount: number;
  colors: string[];
  ops: StreamOp[];
  /** The hook path alone, colour changes dropped. */
  hooks: number[];
}

/** Decode a whole stream on the host with the same decoder the device runs. */
export function decodeStreamBytes(bytes: Uint8Array, where: string): DecodedStream {
  const d = new StreamDecoder();
  const ops: StreamOp[] = [];
  const hooks: number[] = [];
  let colors: string[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const ev = d.push(bytes[i]);
    if (ev < 0) throw new UserError(`${where}: ${streamErrorText(ev)} at byte ${i}; re-encode it with 'hookline encode'`);
    if (ev === EV_HEADER) colors = d.colors.slice(0, d.colorCount).map((c) => '#' + c.toString(16).padStart(6, '0'));
    else if (ev === EV_HOOK) {
      ops.push(d.hook);
      hooks.push(d.hook);
    } else if (ev === EV_COLOR) ops.push(-(d.color + 1));
    else if (ev === EV_END) {
      if (i !== bytes.length - 1) throw new UserError(`${where}: ${bytes.length - 1 - i} bytes after the end of the stream; re-encode it with 'hookline encode'`);
      return { hookCount: d.hookCount, lineCount: d.lineCount, colors, ops, hooks };
    }
  }
  throw new UserError(`${where}: truncated after ${bytes.length} bytes (no end marker); re-encode it with 'hookline encode'`);
}
