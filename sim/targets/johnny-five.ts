/**
 * The Johnny-Five target in the simulator: the runtime runs "on the host" (this process) with
 * FirmataHal and FirmataMotion, talks firmata-io's Firmata over a 57600-baud serial line in virtual
 * time (virtual-serial.ts) to a fake Uno running ConfigurableFirmata + AccelStepperFirmata
 * (firmata-board.ts), whose AccelStepper step edges drive the plant the verifier watches.
 *
 * Timer slots: 0 the host's timer (dwells, deferrals), 1 the simulator's operator, 2 the board and
 * the serial line (event-queue.ts). The Firmata handshake, the capability check and the first
 * endstop reports happen inside create(), in virtual time, before the runtime is handed over.
 */
import firmataIo from 'firmata-io';
import { RingPath } from '../../shared/geometry/ring';
import { UserError } from '../../host/errors';
import { skipAnalogMappingWithoutAnalogPins, type FirmataIo } from '../../device/johnny-five/firmata-io';
import type { HostClock } from '../../device/johnny-five/firmata-hal';
import { boardProblem, createJohnnyFiveRuntime, watchEndstops } from '../../device/johnny-five/setup';
import type { FirmataMotion } from '../../device/johnny-five/firmata-motion';
import type { VirtualMcu } from '../mcu';
import { EventQueue } from './event-queue';
import { FakeFirmataBoard, STEP_CPU_US, type FakeBoardOptions } from './firmata-board';
import { VirtualSerialLine } from './virtual-serial';
import type { SimTarget, TargetDevice } from './target';

export const FIRMATA_BAUD = 57600;

const FirmataCtor = firmataIo.Firmata as unknown as new (transport: unknown, opts?: object) => FirmataIo;

export interface FirmataRig {
  io: FirmataIo;
  board: FakeFirmataBoard;
  line: VirtualSerialLine;
  events: EventQueue;
}

/** A fake board on mcu and firmata-io connected to it; runs the mcu until the handshake is done. */
export function connectFakeBoard(mcu: VirtualMcu, opts: FakeBoardOptions = {}, maxUs = 2e6): FirmataRig {
  const events = new EventQueue(mcu, 2);
  const line = new VirtualSerialLine(events, FIRMATA_BAUD);
  const board = new FakeFirmataBoard(mcu, events, (b) => line.sendToHost(b), opts);
  line.onBoardReceive((b) => board.receive(b));
  const io = new FirmataCtor(line.host, { reportVersionTimeout: 1e9 });
  skipAnalogMappingWithoutAnalogPins(io); // as connect.ts: the board without analog never answers F0 69 F7
  // The real timer firmata-io arms for a missing version report must not outlive the simulation.
  clearTimeout((io as unknown as { reportVersionTimeoutId: ReturnType<typeof setTimeout> }).reportVersionTimeoutId);
  board.powerOn();
  const until = mcu.now + maxUs;
  while (!io.isReady && mcu.now < until && mcu.runNext());
  return { io, board, line, events };
}

/** Let the line and the board settle (everything sent has arrived and been answered). */
function settle(mcu: VirtualMcu, events: EventQueue): void {
  while (events.pending > 0 && mcu.runNext());
}

export interface JohnnyFiveSimDevice extends TargetDevice {
  rig: FirmataRig;
  motion: () => FirmataMotion;
}

export function createJohnnyFiveSim(mcu: VirtualMcu, ...args: Parameters<SimTarget['create']> extends [VirtualMcu, ...infer R] ? R : never): JohnnyFiveSimDevice {
  const [machine, ring, faults] = args;
  if (ring) throw new UserError('sim --target johnny-five: ring machines are not supported by the Firmata target yet (gantry only); use --target native, espruino or nodemcu');
  const rig = connectFakeBoard(mcu);
  if (!rig.io.isReady) throw new Error('johnny-five target: the fake Firmata board did not complete the handshake');
  const problem = boardProblem(rig.io, machine);
  if (problem) throw new Error(`johnny-five target: ${problem}`);
  const log: string[] = [];
  const clock: HostClock = {
    micros: () => mcu.now,
    setTimer: (delayUs, fn) => mcu.setTimer(0, mcu.now + delayUs, fn),
    cancelTimer: () => mcu.cancelTimer(0),
  };
  const dev = createJohnnyFiveRuntime(rig.io, machine, clock, (line) => {
    log.push(`${(mcu.now / 1e6).toFixed(6)} ${line}`);
    if (log.length > 1000) log.shift();
  }, faults, ring ? new RingPath(ring) : undefined);
  watchEndstops(rig.io, machine);
  settle(mcu, rig.events);
  // Progress lives on the host (docs/targets/johnny-five.md): the board has no flash to wear.
  return { runtime: dev.runtime, log, storageRead: (key) => dev.hal.storageRead(key), storageWrites: () => -1, rig, motion: dev.motion };
}

export const johnnyFiveTarget: SimTarget = {
  name: 'johnny-five',
  // Homing seeks ramp on the board (FirmataMotion.seek): judged from the first step like the others.
  // Each seek towards a switch is stopped by the host on the switch's report: the 3-byte report and
  // the 10-byte STOP + ZERO take ~2.3 ms at 57600 baud; 10 ms of seek speed is allowed past the switch.
  homingOvertravelMs: 10,
  // A step due while the Uno runs another axis' step waits for that pass (firmata-board.ts).
  stepJitterUs: STEP_CPU_US + 4,
  create(mcu, machine, ring, faults) {
    return createJohnnyFiveSim(mcu, machine, ring, faults);
  },
};
