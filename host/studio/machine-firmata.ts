/**
 * Johnny-Five (Firmata) in the studio (docs/studio.md, "Run the machine"): as `hookline run --target
 * johnny-five`, the device runtime runs here and drives a Firmata board (ConfigurableFirmata with
 * AccelStepperFirmata) over the chosen port — openFirmataBoard and runJohnnyFive, the CLI's own code.
 * Connect, Home and Run each open the board for as long as they take (an Uno resets when its port
 * opens; every run homes first, as the CLI's does).
 */
import { BoardError, openFirmataBoard } from '../../device/johnny-five/connect';
import { runJohnnyFive, alarmText } from '../../device/johnny-five/host-run';
import type { RuntimeStatus } from '../../device/runtime';
import type { MachineProfile } from '../../shared/machine';
import { machineHash } from '../stream/machine-hash';

/** The handshake's limit (the CLI's default, HOOKLINE_FIRMATA_TIMEOUT_S). */
const timeoutMs = () => Number(process.env.HOOKLINE_FIRMATA_TIMEOUT_S ?? 8) * 1000;

/** Open the board, say what firmware answers, close it. */
export async function identifyFirmata(port: string): Promise<string> {
  const b = await openFirmataBoard(port, timeoutMs());
  try {
    const fw = b.io.firmware;
    return `${fw.name ?? 'Firmata'} ${fw.version ? `${fw.version.major}.${fw.version.minor}` : ''}`.trim();
  } finally {
    await b.close();
  }
}

export interface FirmataControl {
  pause(): boolean;
  resume(): boolean;
  abort(): boolean;
  halt(): void;
}

export interface FirmataRunHooks {
  /** Every poll's runtime status (state, line, colour, position in steps). */
  tick(s: RuntimeStatus): void;
  homed(seconds: number): void;
  /** A thread change: resolve when the new thread is in. */
  colour(index: number): Promise<void>;
  control(c: FirmataControl): void;
}

/**
 * Home (homeOnly) or run `stream` on the board: resolves with the outcome's one line (code 0 done or
 * homed, 1 the machine stopped: an alarm or an abort, 2 a board problem the user can fix, 3 the port went away).
 */
export async function runFirmata(port: string, machine: MachineProfile, stream: Uint8Array, hooks: FirmataRunHooks, homeOnly = false): Promise<{ code: number; message: string; status: RuntimeStatus | null }> {
  let b;
  try {
    b = await openFirmataBoard(port, timeoutMs());
  } catch (e) {
    if (e instanceof BoardError) return { code: 2, message: e.message, status: null };
    throw e;
  }
  // A Firmata system reset first: a board that did not reset when its port opened (no DTR reset,
  // or the simulated Uno) keeps the AccelStepper set-up of the last session (Connect, Home), and the
  // new one's moves crawl (measured on ConfigurableFirmata 3.4: ~100 steps/s instead of ~1100).
  (b.io as unknown as { reset(): void }).reset();
  await new Promise((res) => setTimeout(res, 300));
  // The port closing (unplugged, powered off) ends the run: nothing the runtime does reaches the board.
  let control: FirmataControl | null = null;
  let gone: string | null = null;
  (b.io as unknown as NodeJS.EventEmitter).once('close', () => {
    gone = 'the port closed';
    control?.halt();
  });
  try {
    const r = await runJohnnyFive({
      io: b.io, machine, stream: homeOnly ? new Uint8Array(0) : stream, machineHash: machineHash(machine), homeOnly,
      onTick: hooks.tick, onHomed: hooks.homed, onColourChange: hooks.colour,
      control: (c) => {
        control = c;
        hooks.control(c);
      },
    });
    if (gone) return { code: 3, message: `the serial port ${port} went away at line ${r.status.line} (${gone}); plug the board in again, connect and Run again (the Firmata target keeps no resume point)`, status: r.status };
    if (homeOnly && r.status.state === 3) return { code: 0, message: `homed in ${r.homingSeconds.toFixed(1)} s`, status: r.status };
    if (r.status.state === 6) return { code: 0, message: `all ${r.status.line} lines done on the Firmata board; homing ${r.homingSeconds.toFixed(1)} s, job ${r.jobSeconds.toFixed(1)} s`, status: r.status };
    if (r.status.state === 3) return { code: 1, message: `aborted at line ${r.status.line}; the machine stopped and is idle (still homed)`, status: r.status };
    return { code: 1, message: `the machine stopped at line ${r.status.line}: ${alarmText(r.status)}`, status: r.status };
  } catch (e) {
    if (e instanceof BoardError) return { code: 2, message: e.message, status: null };
    return { code: 1, message: `the Firmata board on ${port}: ${(e as Error).message}`, status: null };
  } finally {
    await b.close();
  }
}
