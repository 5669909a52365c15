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
  multiStepperConfig(opts: { groupNum: number; devices: number[] }): void;
  multiStepperTo(groupNum: number, positions: number[]): void;
  multiStepperStop(groupNum: number): void;
  on(event: string, fn: (...args: any[]) => void): unknown;
  once(event: string, fn: (...args: any[]) => void): unknown;
  removeListener(event: string, fn: (...args: any[]) => void): unknown;
}

/** Firmata's serial rate (StandardFirmata's; ConfigurableFirmata 3.4's example sketch uses 115200): the default, --baud overrides. */
export const FIRMATA_BAUD = 57600;

/** Firmata pin modes used here (firmata-io's MODES). */
export const MODE_INPUT = 0x00;
export const MODE_OUTPUT = 0x01;
export const MODE_ANALOG = 0x02;
export const MODE_STEPPER = 0x08;
export const MODE_PULLUP = 0x0b;
/** accelStepperConfig type: a step/dir driver (firmata-io STEPPER.TYPE.DRIVER). */
export const STEPPER_DRIVER = 1;

/** Whether the board's capability report lists the stepper mode (ConfigurableFirmata with AccelStepperFirmata). */
export function hasAccelStepper(io: FirmataIo): boolean {
  return io.pins.some((p) => p.supportedModes.includes(MODE_STEPPER));
}

/**
 * ConfigurableFirmata without AnalogInputFirmata (Digital + AccelStepper, the build
 * docs/targets/johnny-five.md asks for) never answers the analog-mapping query (F0 69 F7), and
 * firmata-io 2.3 asks it after the capability report and waits for the answer before "ready". With
 * this, a board whose capability report lists no analog pin is not asked: its mapping is empty
 * (every pin's channel 127) and firmata-io goes on at once. A board with analog pins is asked as
 * before. Call before the handshake (right after constructing the Firmata).
 */
export function skipAnalogMappingWithoutAnalogPins(io: FirmataIo, onSkipped?: () => void): void {
  const f = io as unknown as { pins: { supportedModes: number[]; analogChannel?: number }[]; queryAnalogMapping(cb: () => void): void };
  const original = f.queryAnalogMapping.bind(f);
  f.queryAnalogMapping = (cb: () => void) => {
    if (f.pins.some((p) => p.supportedModes.includes(MODE_ANALOG))) return original(cb);
    for (const p of f.pins) p.analogChannel = 127;
    onSkipped?.();
    cb();
  };
}
