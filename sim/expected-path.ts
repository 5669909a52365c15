import { EV_COLOR, EV_END, EV_HEADER, EV_HOOK, StreamDecoder } from '../shared/stream/decoder';
import { streamPalette } from '../shared/stream/palette';

/**
 * What a stream asks of the machine, decoded on the host: `hooks` are the stream's indices in path
 * order (format 5: flanks, see hooksAndDirections in verify.ts), `ops` the same path as machine
 * hooks with colour changes (colour c as −(c+1)), `flanks` 2 for format 5, else 1. Stops quietly
 * at the first error (the runtime reports it).
 */
export function decodeExpected(stream: Uint8Array): { hooks: number[]; ops: number[]; colors: number[]; flanks: number } {
  const d = new StreamDecoder();
  const hooks: number[] = [];
  const ops: number[] = [];
  let colors: number[] = [];
  // A format 4 decoder can complete several operations per byte: next() until EV_NONE (0).
  outer: for (let i = 0; i < stream.length; i++) {
    let ev = d.push(stream[i]);
    for (;;) {
      if (ev < 0 || ev === EV_END) break outer;
      if (ev === EV_HEADER) colors = streamPalette(stream);
      else if (ev === EV_HOOK) {
        hooks.push(d.hook());
        ops.push(d.flanks() === 2 ? d.hook() >> 1 : d.hook());
      } else if (ev === EV_COLOR) ops.push(-(d.color() + 1));
      ev = d.next();
      if (ev === 0) break;
    }
  }
  return { hooks, ops, colors, flanks: d.flanks() };
}
