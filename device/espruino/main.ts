/**
 * The Espruino app (dist/espruino/app.js, stored as .bootcde by `hookline flash --target espruino`).
 * At boot ('init', after .bootcde ran) it reads the machine profile and its hash from Storage,
 * boots the Runtime and a LinkSession, and hands the board's host port (USB on a Pico, Serial1
 * elsewhere) to the link: the console moves to LoopbackA. The link gives the port back to the REPL
 * when it sees a run of CONSOLE_ESCAPE_RUN Ctrl-C bytes (0x03), which link traffic never contains
 * (every COBS frame ends in a 0x00 within MAX_FRAME + 2 bytes) and line noise practically never
 * does (a run of any non-zero bytes would let an oversize frame or a floating line detach the
 * link): `hookline flash` starts its upload with 96 Ctrl-C, so a board running the app can be
 * flashed again without touching it.
 *
 * The bundle's global `hooklineApp` also exposes the pieces (the simulator builds the runtime on
 * EspruinoHal inside node:vm from them): EspruinoHal, Runtime, LinkSession, RingPath, makeRuntime.
 */
import { EspruinoHal } from './hal';
import { Runtime } from '../runtime';
import { LinkSession } from '../link-session';
import { MAX_FRAME } from '../../shared/link/frame';
import { MachineProfile } from '../../shared/machine';
import { RingPath, RingProfile, ringAxes } from '../../shared/geometry/ring';

declare function setInterval(fn: () => void, ms: number): number;
declare function require(name: string): EspruinoStorage;
/** The bundle's one global (see the top). */
declare let hooklineApp: unknown;

export const PROFILE_FILE = 'hookline.json';
export const HASH_FILE = 'hookline.hash';
/** Consecutive non-zero bytes after which the link returns the port to the REPL. */
export const CONSOLE_ESCAPE_RUN = MAX_FRAME + 10;
/** The byte whose run gives the port back to the REPL: Ctrl-C. */
export const ESCAPE_BYTE = 3;
/** The main loop: LinkSession.tick() at least this often (STATUS frames, draining the rx ring). */
export const TICK_MS = 20;
/** Capability bits (docs/protocol.md section 4): Z axis; ring machine + servo arm. */
const CAP_Z = 2;
const CAP_RING_ARM = 4 | 8;

/** Build the runtime for a stored profile (gantry or ring). */
export function makeRuntime(hal: EspruinoHal, profile: MachineProfile | RingProfile): Runtime {
  if (profile.kind === 'ring') {
    const ring = profile as RingProfile;
    return new Runtime(hal, ringAxes(ring), undefined, new RingPath(ring));
  }
  return new Runtime(hal, profile as MachineProfile);
}

/** The port the host talks to: the Pico's USB, else Serial1 (ESP32: the USB-UART bridge). */
function hostPort(): EspruinoSerial {
  return typeof USB !== 'undefined' && USB ? USB : Serial1;
}

export function start(): void {
  const hal = new EspruinoHal();
  const storage = require('Storage');
  const profile = storage.readJSON(PROFILE_FILE, true) as MachineProfile | RingProfile | undefined;
  if (!profile) {
    hal.print('hookline: no machine profile in Storage ' + PROFILE_FILE + ': run hookline flash --target espruino');
    return;
  }
  // Fields nothing on the device reads (the runtime holds the profile: ~50 JsVars, the
  // description most of them).
  const unread = profile as { description?: string; format?: string; version?: number; name?: string };
  delete unread.description;
  delete unread.format;
  delete unread.version;
  delete unread.name;
  const hashText = storage.read(HASH_FILE);
  const hash = hashText === undefined ? 0 : parseInt(hashText, 10);
  const rt = makeRuntime(hal, profile);
  rt.setMachineHash(hash === hash ? hash : 0);
  const port = hostPort();
  const session = new LinkSession(rt, hal, hash === hash ? hash : 0, profile.kind === 'ring' ? CAP_RING_ARM : CAP_Z, function (bytes) {
    port.write(bytes);
  });
  LoopbackA.setConsole(true);
  // A frame delimiter first: the host's frame decoder drops the boot banner it may be holding.
  port.write([0]);
  rt.boot();
  session.boot();
  let run = 0;
  let linked = true;
  port.on('data', function (data: string) {
    if (!linked) return;
    for (let i = 0; i < data.length; i++) {
      const b = data.charCodeAt(i) & 255;
      run = b === ESCAPE_BYTE ? run + 1 : 0;
      if (run >= CONSOLE_ESCAPE_RUN) {
        linked = false;
        port.removeAllListeners('data');
        port.setConsole(true);
        return;
      }
      session.push(b);
    }
    session.tick();
  });
  setInterval(function () {
    if (linked) session.tick();
  }, TICK_MS);
}

E.on('init', start);
// A plain object, not ES module exports: esbuild's export object is a getter function per name
// plus a bound copy of each (~200 JsVars at rest on a Pico, measured); this is one var per name.
hooklineApp = { EspruinoHal: EspruinoHal, Runtime: Runtime, LinkSession: LinkSession, RingPath: RingPath, makeRuntime: makeRuntime };
