/** Device payloads the host reads: HELLO_REPLY and STATUS (docs/protocol.md sections 4 and 6). */
import { STATUS_SESSION, getUint } from '../../shared/link/protocol';
import type { DeviceInfo, DeviceStatus } from './session';

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

export function parseHelloReply(p: number[]): DeviceInfo {
  return {
    protocolVersion: p[0],
    firmware: `${p[1]}.${p[2]}`,
    machineHash: getUint(p, 3, 4),
    capabilities: p[7],
    window: p[8],
    rxBuffer: getUint(p, 9, 2),
    state: p[11],
    resumeLine: getUint(p, 12, 4),
    streamCrc: getUint(p, 16, 2),
  };
}
