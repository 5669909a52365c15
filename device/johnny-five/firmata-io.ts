/**
 * The part of firmata-io 2.3's Firmata (node_modules/firmata-io/lib/firmata.js) the Johnny-Five
 * target uses: pins, digital I/O with reporting, and AccelStepperFirmata (sysex 0x62). Johnny-Five's
 * Board keeps it as `board.io`.
 */
export interface FirmataPin {
  supportedModes: number[];
  mode?: number;
  value: number;
}

export interface FirmataIo {
  isReady: boolean;
  pins: FirmataPin[];
  firmware: { name?: string; version?: { major: number; minor: number } };
  pinMode(pin: number, mode: number): void;
  digitalWrite(pin: number, value: number): void;
  reportDigitalPin(pin: number, value: number): void;
  accelStepperConfig(opts: { deviceNum: number; type: number; stepPin: number; directionPin: number }): void;
  accelStepperZero(deviceNum: number): void;
  accelStepperTo(deviceNum: number, position: number): void;
  accelStepperStop(deviceNum: number): void;
  accelStepperReportPosition(deviceNum: number): void;
  accelStepperAcceleration(deviceNum: number, acceleration: number): void;
  accelStepperSpeed(deviceNum: number, speed: number): void;
  on(event: string, fn: (...args: any[]) => void): unknown;
  once(event: string, fn: (...args: any[]) => void): unknown;
  removeListener(event: string, fn: (...args: any[]) => void): unknown;
}

/** Firmata's (and ConfigurableFirmata's default) serial rate. */
export const FIRMATA_BAUD = 57600;

/** Firmata pin modes used here (firmata-io's MODES). */
export const MODE_INPUT = 0x00;
export const MODE_OUTPUT = 0x01;
export const MODE_STEPPER = 0x08;
export const MODE_PULLUP = 0x0b;
/** accelStepperConfig type: a step/dir driver (firmata-io STEPPER.TYPE.DRIVER). */
export const STEPPER_DRIVER = 1;

/** Whether the board's capability report lists the stepper mode (ConfigurableFirmata with AccelStepperFirmata). */
export function hasAccelStepper(io: FirmataIo): boolean {
  return io.pins.some((p) => p.supportedModes.includes(MODE_STEPPER));
}
