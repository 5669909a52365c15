/**
 * The HAL of the Johnny-Five target: the runtime runs on the host and its pins are the Arduino's,
 * over Firmata. Outputs are digital writes, inputs are the last level the board reported (digital
 * reporting is switched on for every input), and the clock and timer are the host's (real time, or
 * the simulator's virtual clock). Step pulses never go through here: FirmataMotion sends whole
 * moves to AccelStepperFirmata instead.
 */
import { Hal, PIN_INPUT, PIN_OUTPUT, StepOutput } from '../hal';
import { FirmataIo, MODE_INPUT, MODE_OUTPUT, MODE_PULLUP } from './firmata-io';

/** The host's µs clock and one-shot timer. */
export interface HostClock {
  micros(): number;
  setTimer(delayUs: number, fn: () => void): void;
  cancelTimer(): void;
}

/** Real time: performance.now() and setTimeout. */
export function realClock(): HostClock {
  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    micros: () => performance.now() * 1000,
    setTimer(delayUs, fn) {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, delayUs / 1000);
    },
    cancelTimer() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

export class FirmataHal implements Hal {
  tickUs = 1;
  /** No hardware step generator (yet): the runtime times each step through setTimer. */
  steps: StepOutput | null = null;
  readonly storage = new Map<string, number>();

  constructor(
    private io: FirmataIo,
    private clock: HostClock,
    private printLine: (line: string) => void,
  ) {}

  pinMode(pin: number, mode: number): void {
    if (mode === PIN_OUTPUT) {
      this.io.pinMode(pin, MODE_OUTPUT);
      return;
    }
    this.io.pinMode(pin, mode === PIN_INPUT ? MODE_INPUT : MODE_PULLUP);
    this.io.reportDigitalPin(pin, 1);
  }
  write(pin: number, level: number): void {
    this.io.digitalWrite(pin, level ? 1 : 0);
  }
  read(pin: number): number {
    const p = this.io.pins[pin];
    return p && p.value ? 1 : 0;
  }
  pulse(pin: number): void {
    throw new Error(`FirmataHal: a single step pulse on pin ${pin} cannot go over Firmata; motion goes through FirmataMotion`);
  }
  micros(): number {
    return this.clock.micros();
  }
  setTimer(delayUs: number, fn: () => void): void {
    this.clock.setTimer(delayUs, fn);
  }
  cancelTimer(): void {
    this.clock.cancelTimer();
  }
  storageWrite(key: string, value: number): void {
    this.storage.set(key, value);
  }
  storageRead(key: string): number {
    const v = this.storage.get(key);
    return v === undefined ? -1 : v;
  }
  print(line: string): void {
    this.printLine(line);
  }
}
