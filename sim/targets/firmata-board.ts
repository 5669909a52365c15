/**
 * A fake Arduino Uno running ConfigurableFirmata with AccelStepperFirmata, on the VirtualMcu: it
 * speaks the Firmata protocol on its serial line (version and firmware reports at power-on,
 * capability query (and the analog-mapping query only with `analog`: ConfigurableFirmata without
 * AnalogInputFirmata, the build docs/targets/johnny-five.md asks for, ignores F0 69 F7), pin modes, digital writes, digital input reporting) and
 * runs AccelStepperFirmata's sysex 0x62 (config, zero, step, to, stop, report position,
 * acceleration, speed, multiStepper config/to/stop) with the AccelStepper algorithm itself
 * (accel-stepper.ts), so every step edge lands on the mcu's pins at the time AccelStepper would
 * make it and the plant and verifier judge exactly that.
 *
 * Model of the sketch's loop() on a 16 MHz ATmega328p, fitted to ConfigurableFirmata 3.4 in simavr
 * (../shared/realchips, every step and UART byte timed; docs/targets/johnny-five.md): the loop runs
 * one pass after another; micros() advances in 4 µs steps; a pass handles the input, reports
 * digital inputs that changed, then runs the steppers in order (AccelStepperFirmata::report), and
 * a pass in which a stepper steps costs STEP_CPU_US (AccelStepper's step and computeNewSpeed in
 * software float): two or three axes at their limit alternated every ~252 µs, ~4000 steps/s in
 * all. A step falls POLL_LATE_US after it is due when the loop is idle (one axis at 256, 400 and
 * 1000 µs asked stepped at 270, 416 and 1013 µs) and on the first pass after the CPU is free
 * otherwise; AccelStepper times the next step from that moment, so lateness slows the axis (it
 * never catches up). An AccelStepper message costs MESSAGE_CPU_US once received (a `to`'s first
 * step came ~190 µs after its last byte; a MultiStepper group move is charged the same, an
 * estimate). A MultiStepper group's step (runSpeed alone) costs GROUP_STEP_CPU_US. A switch's change
 * is reported on the pass after the step that made it.
 */
import { PIN_INPUT, PIN_INPUT_PULLUP, PIN_OUTPUT } from '../../device/hal';
import type { EdgeListener, VirtualMcu } from '../mcu';
import { AccelStepperModel, MultiStepperModel } from './accel-stepper';
import type { EventQueue } from './event-queue';

export const FIRMATA_MODE = { INPUT: 0x00, OUTPUT: 0x01, ANALOG: 0x02, PWM: 0x03, SERVO: 0x04, STEPPER: 0x08, PULLUP: 0x0b } as const;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
const ACCELSTEPPER = 0x62;
const MAX_ACCELERATION = 1000000;
const MICROS_RES = 4;
/** AVR time of a loop pass that takes a step (see the top), µs. */
export const STEP_CPU_US = 252;
/** Mean delay from a step falling due to the idle loop's pass that takes it, µs. */
export const POLL_LATE_US = 16;
/** AVR time to handle an AccelStepper message once its last byte is in, µs. */
export const MESSAGE_CPU_US = 190;
/**
 * AVR time of a MultiStepper group's step (runSpeed only, no computeNewSpeed), µs: two steppers of
 * a group due together stepped 64.8 µs apart (ConfigurableFirmata 3.4 in simavr, 2-stepper group at
 * 3000 steps/s each).
 */
export const GROUP_STEP_CPU_US = 65;
/** Slots per group in a pass's cursor (MultiStepper holds at most 10 steppers). */
const GROUP_SLOTS = 11;

export interface FakeBoardOptions {
  /** Include AccelStepperFirmata (STEPPER in the capability report, sysex 0x62 handled); default true. */
  accelStepper?: boolean;
  /** Never answer anything (a board without Firmata, or the wrong port). */
  silent?: boolean;
  /** Firmware name reported (default ConfigurableFirmata.ino). */
  firmwareName?: string;
  /**
   * Include AnalogInputFirmata: ANALOG (and PWM) modes on A0–A5 in the capability report and an
   * answer to the analog-mapping query. Default false, as the real ConfigurableFirmata 3.4 built
   * with Digital + AccelStepper only (../shared/realchips, test/firmata-real.test.ts): it never
   * answers F0 69 F7.
   */
  analog?: boolean;
}

/** Uno: 20 pins, 0/1 are the serial port, A0–A5 = 14–19, PWM on 3, 5, 6, 9, 10, 11. */
const PIN_COUNT = 20;
const PWM_PINS = [3, 5, 6, 9, 10, 11];

interface StepperDev {
  model: AccelStepperModel;
  stepPin: number;
  dirPin: number;
  invertDir: boolean;
  running: boolean;
}

export class FakeFirmataBoard implements EdgeListener {
  /** Every sysex/command the board handled, for tests: [command, subcommand] counts by name. */
  readonly received = new Map<string, number>();
  readonly steppers: (StepperDev | null)[] = [];
  private groups: (MultiStepperModel | null)[] = [];
  private groupRunning: boolean[] = [];
  private groupDevs: number[][] = [];
  private groupLeft: boolean[] = [];
  private mode = new Int16Array(PIN_COUNT).fill(-1);
  private reportPort = new Uint8Array(3);
  private buf: number[] = [];
  private inSysex = false;
  private passToken = 0;
  private passAt = Infinity;
  /** The AVR is busy (a step's pass, a message) until this time, µs. */
  private cpuFree = 0;
  /** The stepper the current pass checks next (a step's pass resumes after STEP_CPU_US). */
  private cursor = 0;
  private portDirty = new Uint8Array(3);
  private reportQueued = false;
  private readonly accel: boolean;
  private readonly analog: boolean;
  private readonly silent: boolean;
  private readonly name: string;

  constructor(
    private mcu: VirtualMcu,
    private events: EventQueue,
    private send: (bytes: number[]) => void,
    opts: FakeBoardOptions = {},
  ) {
    this.accel = opts.accelStepper !== false;
    this.analog = opts.analog === true;
    this.silent = opts.silent === true;
    this.name = opts.firmwareName ?? 'ConfigurableFirmata.ino';
    mcu.addListener(this);
  }

  /** Reset: what the sketch prints from setup() (Firmata.begin): protocol version, then firmware name. */
  powerOn(): void {
    if (this.silent) return;
    this.send([0xf9, 2, 6]);
    this.sendFirmware();
  }

  private micros(): number {
    return Math.floor(this.mcu.now / MICROS_RES) * MICROS_RES;
  }

  private count(what: string): void {
    this.received.set(what, (this.received.get(what) ?? 0) + 1);
  }

  // ---- input ---------------------------------------------------------------------------------

  receive(byte: number): void {
    if (this.silent) return;
    const buf = this.buf;
    if (this.inSysex) {
      if (byte === END_SYSEX) {
        this.inSysex = false;
        this.sysex(buf.slice());
        buf.length = 0;
      } else buf.push(byte);
      return;
    }
    if (byte === START_SYSEX) {
      this.inSysex = true;
      buf.length = 0;
      return;
    }
    if (byte >= 0x80) {
      buf.length = 0;
      buf.push(byte);
      if (byte === 0xf9) {
        buf.length = 0;
        this.count('report-version');
        this.send([0xf9, 2, 6]);
      } else if (byte === 0xff) {
        buf.length = 0;
        this.count('reset');
      }
      return;
    }
    if (buf.length === 0) return; // data byte without a command: dropped, as Firmata does
    buf.push(byte);
    const cmd = buf[0] < 0xf0 ? buf[0] & 0xf0 : buf[0];
    const need = cmd === 0xc0 || cmd === 0xd0 ? 2 : 3;
    if (buf.length < need) return;
    const m = buf.slice();
    buf.length = 0;
    this.command(cmd, m);
  }

  private command(cmd: number, m: number[]): void {
    if (cmd === 0xf4) {
      this.count('pin-mode');
      this.setPinMode(m[1], m[2]);
    } else if (cmd === 0xf5) {
      this.count('digital-pin');
      if (this.mode[m[1]] === FIRMATA_MODE.OUTPUT) this.mcu.write(m[1], m[2] ? 1 : 0);
    } else if (cmd === 0x90) {
      this.count('digital-port');
      const port = m[0] & 0x0f;
      const value = m[1] | (m[2] << 7);
      for (let i = 0; i < 8; i++) {
        const pin = port * 8 + i;
        if (pin < PIN_COUNT && this.mode[pin] === FIRMATA_MODE.OUTPUT) this.mcu.write(pin, (value >> i) & 1);
      }
    } else if (cmd === 0xd0) {
      this.count('report-digital');
      const port = m[0] & 0x0f;
      if (port < this.reportPort.length) {
        this.reportPort[port] = m[1] ? 1 : 0;
        if (m[1]) this.sendPort(port);
      }
    } else this.count(`command-${cmd.toString(16)}`);
  }

  private setPinMode(pin: number, mode: number): void {
    if (pin >= PIN_COUNT) return;
    if (mode === FIRMATA_MODE.OUTPUT) this.mcu.pinMode(pin, PIN_OUTPUT);
    else if (mode === FIRMATA_MODE.INPUT) this.mcu.pinMode(pin, PIN_INPUT);
    else if (mode === FIRMATA_MODE.PULLUP) this.mcu.pinMode(pin, PIN_INPUT_PULLUP);
    else if (mode === FIRMATA_MODE.STEPPER && this.accel) this.mcu.pinMode(pin, PIN_OUTPUT);
    else return;
    this.mode[pin] = mode;
  }

  private sysex(d: number[]): void {
    const cmd = d[0];
    if (cmd === 0x79) {
      this.count('query-firmware');
      this.sendFirmware();
    } else if (cmd === 0x6b) {
      this.count('capability-query');
      this.sendCapabilities();
    } else if (cmd === 0x69) {
      this.count('analog-mapping-query');
      if (!this.analog) return; // only AnalogInputFirmata handles it
      const out = [START_SYSEX, 0x6a];
      for (let p = 0; p < PIN_COUNT; p++) out.push(p >= 14 ? p - 14 : 0x7f);
      out.push(END_SYSEX);
      this.send(out);
    } else if (cmd === 0x7a) {
      this.count('sampling-interval');
    } else if (cmd === ACCELSTEPPER && this.accel) {
      this.accelStepper(d);
    } else this.count(`sysex-${cmd.toString(16)}`);
  }

  private sendFirmware(): void {
    const out = [START_SYSEX, 0x79, 2, 10];
    for (const ch of Buffer.from(this.name, 'ascii')) out.push(ch & 0x7f, ch >> 7);
    out.push(END_SYSEX);
    this.send(out);
  }

  private sendCapabilities(): void {
    const out = [START_SYSEX, 0x6c];
    for (let p = 0; p < PIN_COUNT; p++) {
      if (p >= 2) {
        out.push(FIRMATA_MODE.INPUT, 1, FIRMATA_MODE.OUTPUT, 1, FIRMATA_MODE.PULLUP, 1);
        if (p >= 14 && this.analog) out.push(FIRMATA_MODE.ANALOG, 10);
        if (PWM_PINS.includes(p) && this.analog) out.push(FIRMATA_MODE.PWM, 8);
        if (this.accel) out.push(FIRMATA_MODE.STEPPER, 21);
      }
      out.push(0x7f);
    }
    out.push(END_SYSEX);
    this.send(out);
  }

  // ---- AccelStepperFirmata -------------------------------------------------------------------

  private accelStepper(d: number[]): void {
    const sub = d[1];
    const dev = d[2];
    const names: Record<number, string> = {
      0x00: 'config', 0x01: 'zero', 0x02: 'step', 0x03: 'to', 0x04: 'enable', 0x05: 'stop', 0x06: 'report-position',
      0x08: 'acceleration', 0x09: 'speed', 0x20: 'multi-config', 0x21: 'multi-to', 0x23: 'multi-stop',
    };
    this.count(`accelstepper-${names[sub] ?? sub.toString(16)}`);
    if (sub >= 0x20) return this.multiStepper(sub, dev, d);
    if (dev >= 10) return;
    const st = this.steppers[dev] ?? null;
    if (sub === 0x00) {
      const iface = d[3];
      const wires = (iface & 0x70) >> 4;
      if (wires !== 1) return; // only step/dir drivers are modelled
      const stepPin = d[4];
      const dirPin = d[5];
      let idx = 6;
      if (iface & 0x01) idx++;
      const invert = idx < d.length ? d[idx] : 0;
      this.setPinMode(stepPin, FIRMATA_MODE.STEPPER);
      this.setPinMode(dirPin, FIRMATA_MODE.STEPPER);
      const devRec: StepperDev = {
        model: new AccelStepperModel((dir) => this.step(devRec, dir)),
        stepPin, dirPin, invertDir: (invert & 0x01) !== 0, running: false,
      };
      devRec.model.setMaxSpeed(2);
      devRec.model.setMaxSpeed(1);
      devRec.model.setAcceleration(MAX_ACCELERATION);
      this.steppers[dev] = devRec;
      return;
    }
    if (!st) return;
    if (sub === 0x01) st.model.setCurrentPosition(0);
    else if (sub === 0x02) {
      st.model.move(decodeInt32(d, 3));
      st.running = true;
    } else if (sub === 0x03) {
      st.model.moveTo(decodeInt32(d, 3));
      st.running = true;
    } else if (sub === 0x05) {
      st.model.stop();
      st.running = false;
      this.reportPosition(dev, true);
    } else if (sub === 0x06) this.reportPosition(dev, false);
    else if (sub === 0x08) {
      const a = decodeCustomFloat(d, 3);
      st.model.setAcceleration(a === 0 ? MAX_ACCELERATION : a);
    } else if (sub === 0x09) st.model.setMaxSpeed(decodeCustomFloat(d, 3));
    this.cpuFree = Math.max(this.cpuFree, this.mcu.now) + MESSAGE_CPU_US;
    this.schedulePass(this.cpuFree);
  }

  private multiStepper(sub: number, group: number, d: number[]): void {
    if (group >= 5) return;
    if (sub === 0x20) {
      if (!this.groups[group]) {
        this.groups[group] = new MultiStepperModel();
        this.groupDevs[group] = [];
      }
      for (let i = 3; i < d.length; i++) {
        const st = this.steppers[d[i]];
        if (st) {
          this.groups[group]!.addStepper(st.model);
          this.groupDevs[group].push(d[i]);
        }
      }
      this.groupRunning[group] = false;
    } else if (sub === 0x21) {
      const g = this.groups[group];
      if (!g) return;
      this.groupRunning[group] = true;
      const pos: number[] = [];
      for (let i = 0; i < g.steppers.length; i++) pos.push(decodeInt32(d, 3 + i * 5));
      g.moveTo(pos);
      this.cpuFree = Math.max(this.cpuFree, this.mcu.now) + MESSAGE_CPU_US;
      this.schedulePass(this.cpuFree);
    } else if (sub === 0x23) {
      this.groupRunning[group] = false;
      if (this.groups[group]) this.send([START_SYSEX, ACCELSTEPPER, 0x24, group, END_SYSEX]);
    }
  }

  private reportPosition(dev: number, complete: boolean): void {
    const st = this.steppers[dev];
    if (!st) return;
    this.send([START_SYSEX, ACCELSTEPPER, complete ? 0x0a : 0x06, dev, ...encodeInt32(st.model.currentPos), END_SYSEX]);
  }

  /** AccelStepper::step1 for a DRIVER: direction first, then a 1 µs pulse on the step pin. */
  private step(st: StepperDev, direction: number): void {
    this.mcu.write(st.dirPin, direction === 1 ? (st.invertDir ? 0 : 1) : st.invertDir ? 1 : 0);
    this.mcu.pulse(st.stepPin, 1);
  }

  // ---- loop() --------------------------------------------------------------------------------

  private schedulePass(at: number): void {
    if (at < this.cpuFree) at = this.cpuFree;
    if (at >= this.passAt) return;
    this.passAt = at;
    const token = ++this.passToken;
    this.events.schedule(at, () => {
      if (token !== this.passToken) return;
      this.passAt = Infinity;
      this.pass();
    });
  }

  /**
   * The steppers' part of a loop pass from this.cursor at the current time, in
   * AccelStepperFirmata::report's order: the running groups' steppers (MultiStepper::run: runSpeed
   * only), then the running steppers (AccelStepper::run). The first one that steps ends this event:
   * the pass goes on STEP_CPU_US (GROUP_STEP_CPU_US for a group's) later with the next one. After
   * the last one the pass is over and the next is scheduled when a stepper is next due.
   */
  private pass(): void {
    const now = this.mcu.now;
    if (now < this.cpuFree) {
      this.schedulePass(this.cpuFree);
      return;
    }
    const time = this.micros();
    const groupSlots = this.groups.length * GROUP_SLOTS;
    for (let c = this.cursor; c < groupSlots + this.steppers.length; c++) {
      if (c < groupSlots) {
        const g = Math.floor(c / GROUP_SLOTS);
        const j = c % GROUP_SLOTS;
        const grp = this.groups[g];
        if (!grp || !this.groupRunning[g]) {
          c = (g + 1) * GROUP_SLOTS - 1;
          continue;
        }
        if (j === 0) this.groupLeft[g] = false;
        if (j >= grp.steppers.length) {
          // MultiStepper::run returned false: no stepper of the group had a step left.
          if (!this.groupLeft[g]) {
            this.groupRunning[g] = false;
            this.send([START_SYSEX, ACCELSTEPPER, 0x24, g, END_SYSEX]);
          }
          c = (g + 1) * GROUP_SLOTS - 1;
          continue;
        }
        const s = grp.steppers[j];
        if (s.distanceToGo() === 0) continue;
        this.groupLeft[g] = true;
        if (s.runSpeed(time)) {
          this.cpuFree = now + GROUP_STEP_CPU_US;
          this.cursor = c + 1;
          this.schedulePass(this.cpuFree);
          return;
        }
        continue;
      }
      const i = c - groupSlots;
      const st = this.steppers[i];
      if (!st || !st.running) continue;
      const before = st.model.currentPos;
      const left = st.model.run(time);
      if (!left) {
        st.running = false;
        this.reportPosition(i, true);
      }
      if (st.model.currentPos !== before) {
        this.cpuFree = now + STEP_CPU_US;
        this.cursor = c + 1;
        this.schedulePass(this.cpuFree);
        return;
      }
    }
    this.cursor = 0;
    let next = Infinity;
    for (let g = 0; g < this.groups.length; g++) {
      const grp = this.groups[g];
      if (grp && this.groupRunning[g]) {
        let any = false;
        for (const s of grp.steppers) {
          if (s.distanceToGo() !== 0) {
            any = true;
            next = Math.min(next, s.nextStepAt());
          }
        }
        if (!any) next = Math.min(next, now); // report the group's completion on the next pass
      }
    }
    for (const st of this.steppers) if (st && st.running) next = Math.min(next, st.model.nextStepAt());
    if (next < Infinity) {
      // Due during this pass: taken on the next one at once; due later: the idle loop's lateness.
      const due = Math.ceil(next / MICROS_RES) * MICROS_RES;
      this.schedulePass(due <= now ? now + MICROS_RES : due + POLL_LATE_US);
    }
  }

  // ---- digital inputs ------------------------------------------------------------------------

  edge(pin: number, _level: number, _timeUs: number): void {
    if (this.silent || pin >= PIN_COUNT) return;
    const m = this.mode[pin];
    if (m !== FIRMATA_MODE.INPUT && m !== FIRMATA_MODE.PULLUP) return;
    const port = pin >> 3;
    if (!this.reportPort[port]) return;
    // DigitalInputFirmata reads the ports at the start of the next loop pass.
    this.portDirty[port] = 1;
    if (this.reportQueued) return;
    this.reportQueued = true;
    this.events.schedule(this.mcu.now, () => this.reportPorts());
  }

  private reportPorts(): void {
    if (this.mcu.now < this.cpuFree) {
      this.events.schedule(this.cpuFree, () => this.reportPorts());
      return;
    }
    this.reportQueued = false;
    for (let p = 0; p < this.portDirty.length; p++) {
      if (this.portDirty[p]) {
        this.portDirty[p] = 0;
        this.sendPort(p);
      }
    }
  }

  private sendPort(port: number): void {
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i;
      if (pin < PIN_COUNT && (this.mode[pin] === FIRMATA_MODE.INPUT || this.mode[pin] === FIRMATA_MODE.PULLUP) && this.mcu.levels[pin]) v |= 1 << i;
    }
    this.send([0x90 | port, v & 0x7f, (v >> 7) & 0x7f]);
  }
}

function decodeInt32(d: number[], at: number): number {
  // As AccelStepperFirmata decodes it (its 5th byte carries only the sign: positions are 28-bit).
  const v = (d[at] & 0x7f) | ((d[at + 1] & 0x7f) << 7) | ((d[at + 2] & 0x7f) << 14) | ((d[at + 3] & 0x7f) << 21);
  return d[at + 4] >> 3 === 1 ? -v : v;
}

function encodeInt32(value: number): number[] {
  const neg = value < 0;
  const v = Math.abs(value);
  const out = [v & 0x7f, (v >> 7) & 0x7f, (v >> 14) & 0x7f, (v >> 21) & 0x7f, (v >> 28) & 0x07];
  if (neg) out[4] |= 0x08;
  return out;
}

function decodeCustomFloat(d: number[], at: number): number {
  const b3 = d[at + 3];
  const significand = d[at] | (d[at + 1] << 7) | (d[at + 2] << 14) | ((b3 & 0x03) << 21);
  const exponent = ((b3 >> 2) & 0x0f) - 11;
  const sign = (b3 >> 6) & 0x01;
  return Math.fround((sign ? -significand : significand) * Math.fround(Math.pow(10, exponent)));
}
