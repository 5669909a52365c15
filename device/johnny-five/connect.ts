/**
 * Opening a Firmata board for the Johnny-Five target: the serial port (57600 baud, Firmata's), a
 * firmata-io Firmata on it, and a Johnny-Five Board with that Firmata as its `io` (no REPL, no
 * SIGINT handler of its own: the CLI owns Ctrl-C). Fails with one line when the port cannot be
 * opened, nothing answers the Firmata handshake within the timeout, or the firmware lacks
 * AccelStepperFirmata.
 */
import { SerialPort } from 'serialport';
import firmataIo from 'firmata-io';
import { FIRMATA_BAUD, type FirmataIo } from './firmata-io';

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

export async function openFirmataBoard(path: string, timeoutMs = 10_000): Promise<FirmataBoard> {
  const t0 = Date.now();
  const port = new SerialPort({ path, baudRate: FIRMATA_BAUD, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new BoardError(`cannot open serial port ${path}: ${err.message}; check the --port path and that no other program holds it`)) : resolve()));
  });
  const closePort = () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  try {
    const b = await attachFirmataBoard(port, path, timeoutMs, t0);
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
export async function attachFirmataBoard(transport: unknown, label: string, timeoutMs = 10_000, startedAt = Date.now()): Promise<{ io: FirmataIo; board: unknown }> {
  const path = label;
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
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new BoardError(
        `no Firmata board answered on ${path} within ${timeoutMs / 1000} s; check the port, that the board is powered and flashed with ConfigurableFirmata (57600 baud)`,
      )), Math.max(0, startedAt + timeoutMs - Date.now()));
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
  }
  clearIoTimer();
  return { io, board: board! };
}
