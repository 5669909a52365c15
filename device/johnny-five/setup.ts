/**
 * Bringing the Johnny-Five target up on a Firmata board that has answered the handshake: check it
 * runs AccelStepperFirmata, switch the endstops to inputs with reporting, and build the runtime with
 * FirmataHal and FirmataMotion. Shared by `hookline run --target johnny-five` (a real port, real
 * time) and the simulator's johnny-five target (a virtual serial line, virtual time).
 */
import { Runtime, RuntimeFaults } from '../runtime';
import { MachineProfile, axisAt } from '../../shared/machine';
import { PathMaker } from '../../shared/motion/job';
import { FirmataHal, HostClock } from './firmata-hal';
import { FirmataIo, MODE_INPUT, MODE_PULLUP, hasAccelStepper } from './firmata-io';
import { FirmataMotion, PHANTOM_DIR_PIN, PHANTOM_STEP_PIN, capProfile } from './firmata-motion';

/** Why a board cannot run the target (null: it can). */
export function boardProblem(io: FirmataIo, m: MachineProfile): string | null {
  const fw = io.firmware && io.firmware.name ? `${io.firmware.name} ${io.firmware.version ? io.firmware.version.major + '.' + io.firmware.version.minor : ''}`.trim() : 'unknown firmware';
  if (!hasAccelStepper(io)) {
    return `the board runs ${fw} without AccelStepperFirmata (no pin offers the stepper mode); flash ConfigurableFirmata with AccelStepperFirmata enabled (docs/targets.md, Johnny-Five)`;
  }
  const used: number[] = m.motors ? [m.motors.enablePin] : [];
  for (let i = 0; i < 3; i++) {
    const a = axisAt(m, i);
    used.push(a.pins.step, a.pins.dir, a.pins.endstop);
  }
  for (const pin of [PHANTOM_STEP_PIN, PHANTOM_DIR_PIN]) {
    if (used.includes(pin)) {
      return `the machine profile uses pin ${pin}, which this target keeps for the phantom stepper that times group moves (pins ${PHANTOM_STEP_PIN} and ${PHANTOM_DIR_PIN}, docs/targets/johnny-five.md); move it to another pin`;
    }
  }
  for (let i = 0; i < 3; i++) {
    const a = axisAt(m, i);
    for (const pin of [a.pins.step, a.pins.dir, a.pins.endstop]) {
      if (pin >= io.pins.length || io.pins[pin].supportedModes.length === 0) {
        return `the machine profile uses pin ${pin}, which the board (${fw}, ${io.pins.length} pins) does not offer as a digital pin; fix the pins in the profile`;
      }
    }
  }
  return null;
}

/**
 * Endstops as inputs (pull-up when active low) with digital reporting on: the board reports every
 * change. All modes first, then reporting once per port: a port report lists only the pins that are
 * inputs on the board at that moment, and the host would read a pin whose mode has not arrived yet
 * as low ("pressed" for an active-low switch).
 */
export function watchEndstops(io: FirmataIo, m: MachineProfile): void {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = axisAt(m, i);
    io.pinMode(a.pins.endstop, a.endstopActiveLow ? MODE_PULLUP : MODE_INPUT);
    if (ports.indexOf(a.pins.endstop >> 3) < 0) ports.push(a.pins.endstop >> 3);
  }
  for (let i = 0; i < ports.length; i++) {
    for (let k = 0; k < 3; k++) {
      const pin = axisAt(m, k).pins.endstop;
      if (pin >> 3 === ports[i]) {
        io.reportDigitalPin(pin, 1);
        break;
      }
    }
  }
}

export interface JohnnyFiveDevice {
  runtime: Runtime;
  hal: FirmataHal;
  motion: () => FirmataMotion;
}

export function createJohnnyFiveRuntime(
  io: FirmataIo, m: MachineProfile, clock: HostClock, print: (line: string) => void,
  faults?: RuntimeFaults, path?: PathMaker,
): JohnnyFiveDevice {
  const hal = new FirmataHal(io, clock, print);
  let motion: FirmataMotion | null = null;
  // Planned within what AccelStepper on an Uno can step (UNO_ACCELSTEPPER), not the profile's top speeds.
  const runtime = new Runtime(hal, capProfile(m), faults, path, (h, mm, planner, listener) => {
    motion = new FirmataMotion(h, mm, planner, listener, io);
    return motion;
  });
  return { runtime, hal, motion: () => motion! };
}
