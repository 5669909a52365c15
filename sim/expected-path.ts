import { EV_COLOR, EV_END, EV_HOOK, StreamDecoder } from '../shared/stream/decoder';

/**
 * What a stream asks of the machine, decoded on the host: `hooks` are the stream's indices in path
 * order (format 3: flanks, see hooksAndDirections in verify.ts), `ops` the same path as machine
 * hooks with colour changes (colour c as −(c+1)), `flanks` 2 for format 3, else 1. Stops quietly
 * at the first error (the runtime reports it).
 */
export function decodeExpected(stream: Uint8Array): { hooks: number[]; ops: number[]; colors: number[]; flanks: number } {
  const d = new StreamDecoder();
  const hooks: number[] = [];
  const ops: number[] = [];
  let colors: number[] = [];
  // A format 2 decoder can complete several operations per byte: next() until EV_NONE (0).
  outer: for (let i = 0; i < stream.length; i++) {
    let ev = d.push(stream[i]);
    for (;;) {
      if (ev < 0 || ev === EV_END) break outer;
      if (ev === EV_HOOK) {
        hooks.push(d.hook);
        ops.push(d.flanks === 2 ? d.hook >> 1 : d.hook);
      } else if (ev === EV_COLOR) ops.push(-(d.color + 1));
      if (d.colorCount > 0 && colors.length === 0) colors = d.colors.slice(0, d.colorCount);
      ev = d.next();
      if (ev === 0) break;
    }
  }
  return { hooks, ops, colors, flanks: d.flanks };
}
