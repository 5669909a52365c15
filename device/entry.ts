/**
 * The device artifact's public surface. Bundled to dist/espruino/hookline.js (global `hookline`)
 * and to dist/nodemcu/hookline.lua (the value the chunk returns).
 */
import { StreamDecoder } from '../shared/stream/decoder';
import { EV_END, EV_HOOK, EV_NONE, ERR_TRUNCATED, ERR_AFTER_END } from '../shared/stream/format';

export { StreamDecoder };
export { Runtime, stateName, ST_BOOT, ST_UNHOMED, ST_HOMING, ST_IDLE, ST_RUNNING, ST_PAUSED, ST_DONE, ST_ALARM } from './runtime';

/**
 * Decode a whole stream held in memory and return its hook path, or [errorCode] (negative) on error.
 * Used by tests and by the targets' self-check; the runtime itself feeds the decoder byte by byte.
 */
export function decodeHooks(bytes: number[]): number[] {
  const d = new StreamDecoder();
  const hooks: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    // One byte can complete several operations (format 4): take events until the decoder needs more.
    let ev = d.push(bytes[i]);
    while (ev !== EV_NONE) {
      if (ev < 0) return [ev];
      if (ev === EV_HOOK) hooks.push(d.hook());
      if (ev === EV_END) return i === bytes.length - 1 ? hooks : [ERR_AFTER_END];
      ev = d.next();
    }
  }
  return [ERR_TRUNCATED];
}
