import { crc16 } from '../crc16';
import {
  FORMAT_VERSION, MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, MAX_COLORS, MAX_HOOKS, OP_COLOR, OP_END,
} from './format';

/** One body operation: a hook index (>= 0) or a colour change to palette index c, written -(c + 1). */
export type StreamOp = number;

/**
 * Encode a thread path as a version 1 stream (docs/stream-format.md).
 * `ops`: hook indices in path order, with colour changes as -(colorIndex + 1) between them.
 * Throws RangeError on inputs that cannot be represented; the host validates before calling.
 */
export function encodeStream(ops: StreamOp[], hookCount: number, colors: number[]): number[] {
  if (hookCount < 2 || hookCount > MAX_HOOKS) throw new RangeError('hookCount out of range: ' + hookCount);
  if (colors.length > MAX_COLORS) throw new RangeError('too many colours: ' + colors.length);
  let hooks = 0;
  for (let i = 0; i < ops.length; i++) if (ops[i] >= 0) hooks++;
  const lineCount = hooks > 0 ? hooks - 1 : 0;

  const out: number[] = [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, FORMAT_VERSION, 0];
  out.push(Math.floor(hookCount / 256), hookCount % 256);
  out.push(Math.floor(lineCount / 16777216) % 256, Math.floor(lineCount / 65536) % 256);
  out.push(Math.floor(lineCount / 256) % 256, lineCount % 256);
  out.push(colors.length);
  for (let i = 0; i < colors.length; i++) {
    const c = colors[i];
    out.push(Math.floor(c / 65536) % 256, Math.floor(c / 256) % 256, c % 256);
  }
  pushCrc(out, 0);

  const bodyStart = out.length;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op >= 0) {
      if (op >= hookCount || Math.floor(op) !== op) throw new RangeError('hook index out of range: ' + op);
      out.push(Math.floor(op / 256), op % 256);
    } else {
      const c = -op - 1;
      if (c >= colors.length) throw new RangeError('colour index out of range: ' + c);
      out.push(OP_COLOR, c);
    }
  }
  out.push(OP_END);
  pushCrc(out, bodyStart);
  return out;
}

function pushCrc(out: number[], start: number): void {
  const c = crc16(out, start, out.length);
  out.push(Math.floor(c / 256), c % 256);
}
