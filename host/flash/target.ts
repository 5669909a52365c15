/**
 * One way of putting the runtime and a machine profile onto a board (`hookline flash --target T`).
 * Each target writes the exact bytes it would send with --dry-run, and sends the same bytes to a
 * board on a serial port otherwise.
 */
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';

export interface FlashOptions {
  /** The profile stored on the board next to the runtime, and the path it was read from. */
  machine: MachineProfile | RingProfile;
  machinePath: string;
  /** Serial port of the board (absent with dryRun). */
  port?: string;
  baud: number;
  /** Board name for the target (e.g. PICO, ESP32); each target documents its default. */
  board?: string;
  /** Lua version of the firmware (nodemcu: 5.1 or 5.3). */
  lua?: string;
  /** Write what would be sent to `out` instead of talking to a board. */
  dryRun: boolean;
  /** Output file or directory for dryRun (the target says which). */
  out?: string;
  /** Give up on a board that does not answer after this long. */
  timeoutMs: number;
  /** One line of progress for the operator (stderr). */
  log(line: string): void;
}

export interface FlashTarget {
  name: string;
  /** Resolves when the board has the runtime (or the dry-run output is written); UserError otherwise. */
  flash(opts: FlashOptions): Promise<void>;
}
