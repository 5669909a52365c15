/** A device STATUS payload (docs/protocol.md section 6) as the host reads it. */
import { STATUS_SESSION, getUint } from '../../shared/link/protocol';
import type { DeviceStatus } from './session';

export function parseStatus(p: number[]): DeviceStatus {
  return {
    state: p[0],
    error: p[1],
    line: getUint(p, 2, 4),
    lineCount: getUint(p, 6, 4),
    hook: getUint(p, 10, 2),
    color: p[12],
    pileMm: getUint(p, 13, 2) / 100,
    session: (p[15] & STATUS_SESSION) !== 0,
    pauseId: p[16],
    hooksDone: getUint(p, 17, 4),
  };
}
