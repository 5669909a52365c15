/**
 * `hookline run PLAN.hls --target johnny-five --port P --machine M.json`: open the board, run the
 * piece (homing, the plan, progress), print the outcome. User-fixable problems are BoardErrors
 * (the CLI prints them as one line, exit 2).
 */
import type { MachineProfile } from '../../shared/machine';
import { machineHash } from '../../host/stream/machine-hash';
import { askThreadChange } from '../../host/link/thread-change';
import { colorHex } from '../../host/stream/plan-stream';
import { streamPalette } from '../../shared/stream/palette';
import { BoardError, FIRMATA_BAUD, openFirmataBoard } from './connect';
import { alarmText, runJohnnyFive } from './host-run';

export interface JohnnyFiveCliOptions {
  port: string;
  machine: MachineProfile | { kind: string };
  stream: Uint8Array;
  yes: boolean;
  onProgress: (line: number, lineCount: number, color: number, etaS: number) => void;
  done: () => void;
  /** Seconds to wait for the Firmata handshake (default 8, so the CLI fails within 10 s; env HOOKLINE_FIRMATA_TIMEOUT_S). */
  timeoutS?: number;
  /** Serial rate (--baud); default FIRMATA_BAUD (57600). Must match the sketch's Firmata.begin(). */
  baud?: number;
}

export async function runJohnnyFiveCli(o: JohnnyFiveCliOptions): Promise<number> {
  if (o.machine.kind === 'ring') throw new BoardError('run --target johnny-five: ring machines are not supported by the Firmata target yet (gantry only)');
  const machine = o.machine as MachineProfile;
  const palette = streamPalette(o.stream).map(colorHex);
  const timeoutS = o.timeoutS ?? Number(process.env.HOOKLINE_FIRMATA_TIMEOUT_S ?? 8);
  const b = await openFirmataBoard(o.port, timeoutS * 1000, o.baud ?? FIRMATA_BAUD);
  const fw = b.io.firmware;
  process.stderr.write(`johnny-five: ${fw.name ?? 'Firmata'} ${fw.version ? fw.version.major + '.' + fw.version.minor : ''} on ${o.port}; homing\n`);
  let t0 = performance.now();
  try {
    const r = await runJohnnyFive({
      io: b.io,
      machine,
      stream: o.stream,
      machineHash: machineHash(machine),
      onLog: (line) => process.stderr.write(`device: ${line}\n`),
      // A line the moment homing is over (tests read the board's simulated clock on it).
      onHomed: (sec) => process.stderr.write(`johnny-five: homed in ${sec.toFixed(1)} s\n`),
      onStatus: (s) => {
        if (s.state === 4 && s.line === 0) t0 = performance.now();
        const rate = s.line > 0 ? (performance.now() - t0) / 1000 / s.line : NaN;
        o.onProgress(s.line, s.lineCount, s.color, rate * (s.lineCount - s.line));
      },
      onColourChange: (color) => {
        return o.yes ? Promise.resolve() : askThreadChange(color, palette);
      },
    });
    o.done();
    if (r.status.state !== 6) throw new BoardError(`the machine stopped at line ${r.status.line}: ${alarmText(r.status)}`);
    process.stdout.write(
      `run OK: ${r.status.line} lines done on the Firmata board; homing ${r.homingSeconds.toFixed(1)} s, job ${r.jobSeconds.toFixed(1)} s, ` +
        `${r.moves} stepper moves, ${r.bytesSent} bytes of stepper commands\n`,
    );
    return 0;
  } finally {
    await b.close();
  }
}
