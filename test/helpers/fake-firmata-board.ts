/**
 * The fake Firmata board (sim/targets/firmata-board.ts: ConfigurableFirmata + AccelStepperFirmata
 * on the VirtualMcu, with the gantry plant and the verifier on its pins) behind a real byte stream,
 * in real time: on one end of a socat pseudo-terminal (the CLI's `--port` is the other end) or on
 * @serialport/binding-mock's MockBinding (in-process). The mcu's virtual clock follows the wall
 * clock `speedup` times faster, so homing and the plan take seconds; AccelStepper's step times
 * inside the board stay exact in virtual time (what the verifier judges), only the gaps while the
 * host thinks are stretched.
 */
import { SerialPort, SerialPortMock } from 'serialport';
import { SerialPortStream } from '@serialport/stream';
import { type MachineProfile, axisAt } from '../../shared/machine';
import { johnnyFiveTarget } from '../../sim/targets/johnny-five';
import { VirtualMcu } from '../../sim/mcu';
import { watchedGantry } from '../../sim/session/watched-gantry';
import { type Verifier, expectedDirections, firstMismatch, type Mismatch, type Violation } from '../../sim/verify';
import { EventQueue } from '../../sim/targets/event-queue';
import { FakeFirmataBoard, type FakeBoardOptions } from '../../sim/targets/firmata-board';

export interface RealTimeBoardOptions extends FakeBoardOptions {
  /** Physical power-on position, machine mm (default near the home corner: short homing). */
  startMm?: number[];
  /** Virtual µs per wall µs (default 20). */
  speedup?: number;
}

export interface BoardVerdict {
  wrapped: number[];
  wrappedDirs: number[];
  firstMismatch: Mismatch | null;
  violations: Violation[];
  machineSeconds: number;
  steps: number[];
}

/** The board, its plant and verifier, on a virtual clock driven from the wall clock. */
export class RealTimeFirmataBoard {
  readonly mcu = new VirtualMcu();
  readonly board: FakeFirmataBoard;
  readonly verifier: Verifier;
  private events: EventQueue;
  private timer: ReturnType<typeof setInterval>;
  private t0 = performance.now();
  private speedup: number;

  constructor(private m: MachineProfile, private write: (bytes: number[]) => void, opts: RealTimeBoardOptions = {}) {
    this.speedup = opts.speedup ?? 20;
    const startMm = opts.startMm ?? [15, 15, m.axes.z.travelMaxMm - 2];
    this.verifier = watchedGantry(this.mcu, m, startMm);
    // As the simulator's johnny-five target (sim/targets/johnny-five.ts): seeks ramp, so acceleration
    // is judged from the first step; step times are good to one AccelStepper pass; a seek runs past
    // its switch for the report's round trip (here for the whole run: this rig does not see the
    // runtime's state).
    this.verifier.accelFromUs = 0;
    this.verifier.setStepJitter(johnnyFiveTarget.stepJitterUs!);
    this.verifier.homing = true;
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(m, a);
      this.verifier.overtravel[a] = Math.ceil((johnnyFiveTarget.homingOvertravelMs! / 1000) * this.speedup * ax.homing.seekSpeedMmS * ax.stepsPerMm) + 1;
    }
    this.events = new EventQueue(this.mcu, 2);
    this.board = new FakeFirmataBoard(this.mcu, this.events, (b) => this.write(b), opts);
    this.timer = setInterval(() => this.advance(), 1);
  }

  /** Run the virtual clock up to the wall clock's virtual time. */
  advance(): void {
    const target = (performance.now() - this.t0) * 1000 * this.speedup;
    if (target <= this.mcu.now) return;
    let reached = false;
    this.mcu.setTimer(3, target, () => (reached = true));
    while (!reached && this.mcu.runNext());
  }

  powerOn(): void {
    this.board.powerOn();
  }

  receive(bytes: Uint8Array): void {
    this.advance();
    for (const b of bytes) this.board.receive(b);
  }

  verdict(plan: number[]): BoardVerdict {
    this.advance();
    this.verifier.finish(this.mcu.now);
    const wraps = this.verifier.wraps;
    return {
      wrapped: wraps.map((w) => w.hook),
      wrappedDirs: wraps.map((w) => w.dir),
      firstMismatch: firstMismatch(plan, expectedDirections(this.m, plan), wraps),
      violations: this.verifier.violations,
      machineSeconds: this.mcu.now / 1e6,
      steps: Array.from(this.verifier.steps),
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The fake board on a serial device (one end of a socat pty pair), through the real binding. */
export async function fakeFirmataOnPort(path: string, m: MachineProfile, opts: RealTimeBoardOptions = {}): Promise<{ rt: RealTimeFirmataBoard; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate: 57600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  const rt = new RealTimeFirmataBoard(m, (b) => void port.write(Buffer.from(b)), opts);
  port.on('data', (d: Buffer) => {
    // A board that does not reset on open (a pty) answers the host's version query instead.
    rt.receive(new Uint8Array(d.buffer, d.byteOffset, d.length));
  });
  return {
    rt,
    close: async () => {
      rt.stop();
      await new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    },
  };
}

/**
 * The fake board behind MockBinding: returns the host's end (a SerialPortStream to give firmata-io)
 * and the board. What the host writes reaches the board through the mock port's write; what the
 * board sends comes out of the host's end as data. The board "resets" when the host opens the port,
 * like an Uno, and reports its version and firmware.
 */
export async function fakeFirmataOnMock(m: MachineProfile, opts: RealTimeBoardOptions = {}): Promise<{ host: SerialPortStream; rt: RealTimeFirmataBoard; close(): Promise<void> }> {
  const MockBinding = SerialPortMock.binding; // @serialport/binding-mock's MockBinding
  type MockPortBinding = Awaited<ReturnType<typeof MockBinding.open>>;
  const path = `/dev/fake-firmata-${Math.random().toString(36).slice(2)}`;
  MockBinding.createPort(path, { echo: false, record: false });
  let mockPort: MockPortBinding | null = null;
  let rt: RealTimeFirmataBoard | null = null;
  const binding = {
    ...MockBinding,
    async open(o: Parameters<typeof MockBinding.open>[0]) {
      const p = await MockBinding.open(o);
      mockPort = p;
      const write = p.write.bind(p);
      p.write = async (buffer: Buffer) => {
        await write(buffer);
        rt!.receive(new Uint8Array(buffer));
      };
      setTimeout(() => rt!.powerOn(), 5);
      return p;
    },
  };
  rt = new RealTimeFirmataBoard(m, (b) => mockPort?.emitData(Buffer.from(b)), opts);
  const host = new SerialPortStream({ binding, path, baudRate: 57600 });
  await new Promise<void>((resolve, reject) => host.once('open', resolve).once('error', reject));
  return {
    host,
    rt,
    close: async () => {
      rt!.stop();
      await new Promise<void>((resolve) => (host.isOpen ? host.close(() => resolve()) : resolve()));
    },
  };
}
