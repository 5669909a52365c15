import type { Hal, StepOutput } from '../device/hal';
import type { VirtualMcu } from './mcu';

/** The HAL a target would implement, over the virtual microcontroller (timer slot `slot`). */
export class SimHal implements Hal {
  tickUs = 1;
  /** No hardware step generator (yet): the runtime times each step through setTimer. */
  steps: StepOutput | null = null;
  readonly storage = new Map<string, number>();
  /** Flash writes so far (storageWrite calls): the wear a piece costs. */
  writes = 0;
  readonly log: string[] = [];
  /** Keep at most this many printed lines (the oldest are dropped). */
  maxLog = 1000;

  constructor(private mcu: VirtualMcu, private slot = 0) {}

  pinMode(pin: number, mode: number): void {
    this.mcu.pinMode(pin, mode);
  }
  write(pin: number, level: number): void {
    this.mcu.write(pin, level);
  }
  read(pin: number): number {
    return this.mcu.levels[pin];
  }
  pulse(pin: number, widthUs: number): void {
    this.mcu.pulse(pin, widthUs);
  }
  micros(): number {
    return this.mcu.now;
  }
  setTimer(delayUs: number, fn: () => void): void {
    this.mcu.setTimer(this.slot, this.mcu.now + delayUs, fn);
  }
  cancelTimer(): void {
    this.mcu.cancelTimer(this.slot);
  }
  storageWrite(key: string, value: number): void {
    this.storage.set(key, value);
    this.writes++;
  }
  storageRead(key: string): number {
    const v = this.storage.get(key);
    return v === undefined ? -1 : v;
  }
  print(line: string): void {
    this.log.push(`${(this.mcu.now / 1e6).toFixed(6)} ${line}`);
    if (this.log.length > this.maxLog) this.log.shift();
  }
}
