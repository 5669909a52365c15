/**
 * The NodeMCU app: dist/nodemcu/<lua>/hookline.lua, uploaded by `hookline flash --target nodemcu`
 * next to init.lua and machine.lua. Loading the file returns this module; init.lua calls start().
 *
 * start() reads the machine profile and its hash from machine.lua (a Lua table written by the
 * host: { profile = {...}, hash = n }), boots the Runtime and a LinkSession, and takes UART 0 for
 * the link (the Lua interpreter stops reading it). The link gives the UART back to the REPL when it
 * sees a run of CONSOLE_ESCAPE_RUN spaces, which link traffic never contains (every COBS frame ends
 * in a 0x00 within MAX_FRAME + 2 bytes) and line noise practically never does (a run of any non-zero
 * bytes would let an oversize frame or a floating line detach the link): `hookline flash` starts
 * its upload with such a run (a blank line to the REPL), so a board running the app can be flashed
 * again without touching it.
 *
 * The module also exposes the pieces (the simulator builds the runtime on NodeMcuHal from them).
 */
import { NodeMcuHal } from './hal';
import { Runtime } from '../runtime';
import { LinkSession } from '../link-session';
import { decodeHooks, StreamDecoder } from '../entry';
import { MAX_FRAME } from '../../shared/link/frame';
import { MachineProfile } from '../../shared/machine';
import { RingPath, RingProfile, ringAxes } from '../../shared/geometry/ring';

export { NodeMcuHal, Runtime, LinkSession, RingPath, ringAxes, decodeHooks, StreamDecoder };

export const PROFILE_FILE = 'machine.lua';
/** Consecutive non-zero bytes after which the link returns UART 0 to the Lua interpreter. */
export const CONSOLE_ESCAPE_RUN = MAX_FRAME + 10;
/** The byte whose run gives UART 0 back to the Lua interpreter: a space. */
export const ESCAPE_BYTE = 32;
/** The link session's tick() at least this often (STATUS frames, draining the receive ring). */
export const TICK_MS = 50;
/** Capability bits (docs/protocol.md section 4): Z axis; ring machine + servo arm. */
const CAP_Z = 2;
const CAP_RING_ARM = 12; // bits 2 and 3

/** What machine.lua returns. */
export interface StoredMachine {
  profile: MachineProfile | RingProfile;
  hash: number;
}

/** Build the runtime for a stored profile (gantry or ring). */
export function makeRuntime(hal: NodeMcuHal, profile: MachineProfile | RingProfile): Runtime {
  if (profile.kind === 'ring') {
    const ring = profile as RingProfile;
    return new Runtime(hal, ringAxes(ring), undefined, new RingPath(ring));
  }
  return new Runtime(hal, profile as MachineProfile);
}

/** Bytes of a frame as one string for uart.write. */
function bytesToString(bytes: number[]): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s = s + String.fromCharCode(bytes[i]);
  return s;
}

/** Start the machine: profile from machine.lua, runtime + link session on UART 0. */
export function start(): void {
  const hal = new NodeMcuHal();
  const stored = dofile(PROFILE_FILE) as StoredMachine | undefined;
  if (stored === undefined || stored.profile === undefined) {
    hal.print('hookline: no machine profile in ' + PROFILE_FILE + ': run hookline flash --target nodemcu');
    return;
  }
  const profile = stored.profile;
  const hash = stored.hash;
  const rt = makeRuntime(hal, profile);
  rt.setMachineHash(hash);
  const esp32 = hal.isEsp32();
  const session = new LinkSession(rt, hal, hash, profile.kind === 'ring' ? CAP_RING_ARM : CAP_Z, function (bytes) {
    uart.write(0, bytesToString(bytes));
  });
  hal.onSlice = function () {
    session.tick();
  };
  rt.boot();
  session.boot();
  let run = 0;
  const ticker = tmr.create();
  const onData = function (data: string) {
    for (let i = 0; i < data.length; i++) {
      const b = data.charCodeAt(i);
      run = b === ESCAPE_BYTE ? run + 1 : 0;
      if (run >= CONSOLE_ESCAPE_RUN) {
        ticker.unregister();
        // No callback: the interpreter reads the UART again.
        if (esp32) uart.on(0, 'data');
        else uart.on('data');
        print('hookline: console');
        return;
      }
      session.push(b);
    }
    session.tick();
  };
  // Deliver bytes as they come (0 = no length or end character), not to the interpreter (0).
  if (esp32) uart.on(0, 'data', 0, onData, 0);
  else uart.on('data', 0, onData, 0);
  ticker.alarm(TICK_MS, tmr.ALARM_AUTO, function () {
    session.tick();
  });
}
