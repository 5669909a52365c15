/**
 * Opening a Firmata board for the Johnny-Five target: the serial port (57600 baud, Firmata's, or
 * --baud), a firmata-io Firmata on it, and a Johnny-Five Board with that Firmata as its `io` (no
 * REPL, no SIGINT handler of its own: the CLI owns Ctrl-C). Fails with one line when the port
 * cannot be opened, the Firmata handshake does not complete within the timeout (the line says how
 * far it got: no bytes, bytes but no version, version but no firmware name, …), or the firmware
 * lacks AccelStepperFirmata.
 *
 * ConfigurableFirmata built without AnalogInputFirmata (Digital + AccelStepper, as
 * docs/targets/johnny-five.md says) never answers the analog-mapping query (F0 69 F7), and
 * firmata-io waits for that answer before "ready": when the capability report lists no analog pin,
 * the query is not sent and the mapping is empty (skipAnalogMappingWithoutAnalogPins).
 */
import { SerialPort } from 'serialport';
import firmataIo from 'firmata-io';
import { FIRMATA_BAUD, skipAnalogMappingWithoutAnalogPins, type FirmataIo } from './firmata-io';

export { FIRMATA_BAUD };

export interface FirmataBoard {
  io: FirmataIo;
  /** The Johnny-Five Board whose `io` this is. */
  board: unknown;
  close(): Promise<void>;
}

/** A problem the user can fix (wrong port, silent board, wrong firmware): one line. */
export class BoardError extends Error {}

const FirmataCtor = firmataIo.Firmata as unknown as new (transport: unknown, opts?: object) => FirmataIo;

export async function openFirmataBoard(path: string, timeoutMs = 10_000, baud = FIRMATA_BAUD): Promise<FirmataBoard> {
  const t0 = Date.now();
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new BoardError(`cannot open serial port ${path}: ${err.message}; check the --port path and that no other program holds it`)) : resolve()));
  });
  const closePort = () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  try {
    const b = await attachFirmataBoard(port, path, timeoutMs, t0, baud);
    return { io: b.io, board: b.board, close: closePort };
  } catch (e) {
    await closePort();
    throw e;
  }
}

/**
 * Firmata and a Johnny-Five Board over an open transport (a SerialPort, or a SerialPortStream on
 * MockBinding in tests); resolves when the board is ready (handshake and capability query done).
 */
export async function attachFirmataBoard(transport: unknown, label: string, timeoutMs = 10_000, startedAt = Date.now(), baud = FIRMATA_BAUD): Promise<{ io: FirmataIo; board: unknown }> {
  const path = label;
  // How far the handshake got, for the error line.
  let bytesIn = 0;
  const seen = { version: false, firmware: false, capabilities: false, mapping: false };
  const countBytes = (d: Buffer) => (bytesIn += d.length);
  const tr = transport as NodeJS.EventEmitter;
  tr.on('data', countBytes);
  // Loaded on demand: Johnny-Five pulls in much (serialport 8 among it) that other commands never need.
  const five = await import('johnny-five');
  const BoardCtor = five.Board ?? (five as unknown as { default: typeof five }).default.Board;
  // An Uno resets when the port opens and reports its version ~2 s later; a board that does not
  // reset is asked after 1 s.
  const io = new FirmataCtor(transport, { reportVersionTimeout: 1000 });
  const clearIoTimer = () => clearTimeout((io as unknown as { reportVersionTimeoutId: ReturnType<typeof setTimeout> }).reportVersionTimeoutId);
  let board: NodeJS.EventEmitter | null = null;
  // Johnny-Five arms its own connect timer (and then emits "error"); ours decides first.
  const clearBoardTimer = () => {
    if (board) clearTimeout((board as unknown as { timer: ReturnType<typeof setTimeout> | null }).timer ?? undefined);
  };
  const ev = io as unknown as NodeJS.EventEmitter;
  ev.once('reportversion', () => (seen.version = true));
  ev.once('queryfirmware', () => (seen.firmware = true));
  ev.once('analog-mapping-query', () => (seen.mapping = true));
  ev.once('capability-query', () => (seen.capabilities = true));
  skipAnalogMappingWithoutAnalogPins(io, () => (seen.mapping = true));
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new BoardError(handshakeFailure(path, timeoutMs, baud, bytesIn, seen))), Math.max(0, startedAt + timeoutMs - Date.now()));
      board = new BoardCtor({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs + 60_000 });
      board.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
      board.on('error', (e: Error) => {
        clearTimeout(t);
        reject(new BoardError(`Firmata board on ${path}: ${e.message}`));
      });
      // Firmata announces "connect" when the port opens; ours is open already, and Johnny-Five
      // waits for "connect" before it passes "ready" on.
      (io as unknown as NodeJS.EventEmitter).emit('connect');
    });
  } catch (e) {
    clearIoTimer();
    clearBoardTimer();
    throw e;
  } finally {
    tr.removeListener('data', countBytes);
  }
  clearIoTimer();
  return { io, board: board! };
}

/** ConfigurableFirmata 3.4's own example sketch (ConfigurableFirmata.ino) runs at this rate. */
export const CONFIGURABLE_FIRMATA_EXAMPLE_BAUD = 115200;

/** The one line for a handshake that did not complete: what did and did not come back. */
export function handshakeFailure(
  path: string,
  timeoutMs: number,
  baud: number,
  bytesIn: number,
  seen: { version: boolean; firmware: boolean; capabilities: boolean; mapping: boolean },
): string {
  const s = `${timeoutMs / 1000} s`;
  const otherBaud = baud === FIRMATA_BAUD ? CONFIGURABLE_FIRMATA_EXAMPLE_BAUD : FIRMATA_BAUD;
  const tryBaud = `the sketch's Firmata.begin() rate must match --baud (now ${baud}; StandardFirmata uses 57600, ConfigurableFirmata 3.4's example sketch 115200): try --baud ${otherBaud}`;
  if (bytesIn === 0) {
    return `no bytes from ${path} at ${baud} baud within ${s} (no Firmata version report, no answer to the version and firmware queries); check the port, that the board is powered and flashed with ConfigurableFirmata, and the baud rate: ${tryBaud}`;
  }
  if (!seen.version) {
    return `${path} sent ${bytesIn} bytes at ${baud} baud within ${s} but no Firmata version report; wrong baud rate or not Firmata firmware: ${tryBaud}`;
  }
  if (!seen.firmware) return `the board on ${path} reported its Firmata version but not its firmware name (query F0 79 F7) within ${s}; is it ConfigurableFirmata?`;
  if (!seen.capabilities) return `the board on ${path} answered version and firmware name but not the capability query (F0 6B F7) within ${s}; is it ConfigurableFirmata?`;
  if (!seen.mapping) {
    return `the board on ${path} answered version, firmware name and capabilities but not the analog-mapping query (F0 69 F7) within ${s}, though its capability report lists analog pins; check the firmware's AnalogInputFirmata`;
  }
  return `the Firmata handshake on ${path} completed but Johnny-Five did not report ready within ${s}`;
}
