/**
 * The HAL over NodeMCU's Lua API (device/nodemcu/nodemcu.d.ts), for ESP8266 and ESP32 firmware,
 * Lua 5.1 and 5.3. Compiled by typescript-to-lua only (never part of the ES5 build).
 *
 * Timing. NodeMCU's Lua timers (tmr) fire in whole milliseconds at best, so sub-millisecond step
 * times are reached by busy-waiting: the one runtime timer is a due time in µs; dispatch() waits
 * for it with tmr.delay() when it is at most SPIN_MAX_US away, or arms a millisecond alarm that
 * fires a little early and waits out the rest. Events run back to back in one Lua task for at most
 * SLICE_US (the SDK wants control back within 10–15 ms, or Wi-Fi and the watchdog suffer), then
 * the rest is posted as a new task (node.task.post) so the SDK and the UART get to run.
 *
 * ESP32 firmware (dev-esp32) has no tmr.delay and no tmr.now, and its alarms are FreeRTOS timers on
 * 10 ms ticks (fewer than one tick aborts the chip): nothing is busy-waited there. Every step is
 * made by the RMT (steps-rmt.ts), and the runtime's one timer is an alarm of whole ticks that, when
 * it fires early (ticks start where the tick counter is, not where the call is), is re-armed for the
 * rest: it runs 0–10 ms late, never early. The stepper's timers on a step generator are refills,
 * seek polls and rests, for which that is enough.
 *
 * Clock. ESP8266: tmr.now() is a 31-bit µs counter (wraps after ~35.8 min); micros() accumulates
 * its differences, so it keeps counting (a 32-bit integer on Lua 5.3 builds wraps after ~35.8
 * min too, which the runtime allows: it only uses clock differences). ESP32: node.uptime().
 *
 * Storage: each key is a small file "hl_<key>" holding the number as text.
 */
import { Hal, PIN_INPUT_PULLUP, PIN_OUTPUT, StepOutput } from '../hal';
import { PulseStepOutput } from './steps-pulse';
import { RmtStepOutput } from './steps-rmt';

/** Waits up to this long are busy-waited; longer ones arm a millisecond alarm first. */
export const SPIN_MAX_US = 3000;
/** One Lua task runs timer events for at most this long before yielding to the SDK. */
export const SLICE_US = 10000;
/** Busy-waits while a hardware step generator runs feed it at least this often (µs). */
export const POLL_US = 500;
/** A step pulse made of two gpio.write calls is at least this wide already (Lua call time). */
export const PULSE_FREE_US = 5;
/** ESP32 firmware: one FreeRTOS tick (ESP-IDF's default 100 Hz), the alarms' resolution and minimum. */
export const ESP32_TICK_MS = 10;

export class NodeMcuHal implements Hal {
  tickUs = 1;
  /**
   * The hardware step generator the firmware has (chosen at boot): the RMT module on ESP32 builds,
   * gpio.pulse on ESP8266 builds (docs/targets/nodemcu.md, "Step generation"); null on firmware
   * with neither (hookline flash refuses it), where the runtime times each step through setTimer.
   */
  steps: StepOutput | null = null;
  /** Called after each slice of timer events and before yielding (main.ts: the link session's tick). */
  onSlice: (() => void) | undefined = undefined;
  private timer: NodeMcuTimer;
  private fn: (() => void) | undefined = undefined;
  private dueUs = 0;
  private clock = 0;
  private lastRaw = 0;
  private dispatching = false;
  private esp32: boolean;
  private gen: PulseStepOutput | RmtStepOutput | null = null;
  private dispatcher: (this: void) => void;

  /** tmr.now (ESP8266) and node.uptime (ESP32), read once: each use of tmr.x is two ROM-table look-ups. */
  private nowFn: ((this: void) => number) | undefined;
  private uptimeFn: ((this: void) => number) | undefined;

  constructor() {
    this.nowFn = tmr.now;
    this.uptimeFn = node.uptime;
    this.esp32 = gpio.config !== undefined;
    this.timer = tmr.create();
    if (this.nowFn !== undefined) this.lastRaw = this.nowFn();
    // One closure made once: posting it or arming the alarm allocates nothing per event.
    this.dispatcher = () => this.dispatch();
    const self = this;
    const clock = function (): number {
      return self.micros();
    };
    if (rmt !== undefined) {
      this.gen = new RmtStepOutput(clock, function (pin: number, level: number) {
        self.pinMode(pin, PIN_OUTPUT);
        self.write(pin, level);
      });
    } else if (gpio.pulse !== undefined) this.gen = new PulseStepOutput(clock);
    this.steps = this.gen;
  }

  pinMode(pin: number, mode: number): void {
    const out = mode === PIN_OUTPUT;
    const pull = mode === PIN_INPUT_PULLUP;
    if (gpio.config !== undefined) {
      gpio.config({ gpio: pin, dir: out ? gpio.OUT : gpio.IN, pull: pull ? gpio.PULL_UP : gpio.FLOATING });
    } else if (gpio.mode !== undefined) {
      gpio.mode(pin, out ? gpio.OUTPUT : gpio.INPUT, pull ? gpio.PULLUP : gpio.FLOAT);
    }
  }

  write(pin: number, level: number): void {
    gpio.write(pin, level === 0 ? gpio.LOW : gpio.HIGH);
  }

  read(pin: number): number {
    return gpio.read(pin) === gpio.LOW ? 0 : 1;
  }

  pulse(pin: number, widthUs: number): void {
    gpio.write(pin, gpio.HIGH);
    if (widthUs > PULSE_FREE_US && tmr.delay !== undefined) tmr.delay(Math.ceil(widthUs - PULSE_FREE_US));
    gpio.write(pin, gpio.LOW);
  }

  micros(): number {
    const now = this.nowFn;
    if (now !== undefined) {
      const raw = now();
      this.clock = this.clock + ((raw - this.lastRaw) & 0x7fffffff);
      this.lastRaw = raw;
      return this.clock;
    }
    const uptime = this.uptimeFn;
    if (uptime !== undefined) return uptime();
    return 0;
  }

  setTimer(delayUs: number, fn: () => void): void {
    this.fn = fn;
    this.dueUs = this.micros() + delayUs;
    if (!this.dispatching) this.arm();
  }

  cancelTimer(): void {
    this.fn = undefined;
    if (!this.dispatching) this.timer.stop();
  }

  storageWrite(key: string, value: number): void {
    if (file.open('hl_' + key, 'w+')) {
      file.write('' + value);
      file.close();
    }
  }

  storageRead(key: string): number {
    if (!file.open('hl_' + key, 'r')) return -1;
    const s = file.read();
    file.close();
    const v = s === undefined ? undefined : tonumber(s);
    return v === undefined ? -1 : v;
  }

  print(line: string): void {
    print(line);
  }

  /** Whether this firmware is the ESP32 one (gpio.config) rather than the ESP8266 one (gpio.mode). */
  isEsp32(): boolean {
    return this.esp32;
  }

  /** Schedule dispatch(): an alarm when the event is far, else as the next task. */
  private arm(): void {
    this.timer.stop();
    if (this.fn === undefined) return;
    const wait = this.dueUs - this.micros();
    if (this.esp32) {
      if (wait <= 0 && node.task !== undefined) node.task.post(node.task.LOW_PRIORITY, this.dispatcher);
      else {
        const ticks = wait <= 0 ? 1 : Math.ceil(wait / (ESP32_TICK_MS * 1000));
        this.timer.alarm(ticks * ESP32_TICK_MS, tmr.ALARM_SINGLE, this.dispatcher);
      }
      return;
    }
    if (wait > SPIN_MAX_US && this.gen !== null && this.gen.active()) {
      // While the hardware step generator runs, timers are refills and dwell ends: fire 1-2 ms
      // early (not 2-3) and busy-wait the rest; a step never waits for this.
      this.timer.alarm(Math.floor(wait / 1000) - 1, tmr.ALARM_SINGLE, this.dispatcher);
    } else if (wait > SPIN_MAX_US) {
      // Fire 2–3 ms early (alarms are whole ms and never early); dispatch() waits out the rest.
      this.timer.alarm(Math.floor(wait / 1000) - 2, tmr.ALARM_SINGLE, this.dispatcher);
    } else if (node.task !== undefined) {
      node.task.post(node.task.LOW_PRIORITY, this.dispatcher);
    } else {
      this.timer.alarm(1, tmr.ALARM_SINGLE, this.dispatcher);
    }
  }

  /**
   * Busy-wait us µs. While a hardware step generator runs, in pieces of at most POLL_US with the
   * generator fed in between (gpio.pulse holds only ~2 ms of steps ahead).
   */
  private spin(us: number): void {
    const gen = this.gen;
    if (gen === null || !gen.active()) {
      tmr.delay!(Math.ceil(us));
      return;
    }
    const end = this.micros() + us;
    let left = us;
    while (left > 0) {
      tmr.delay!(Math.ceil(left < POLL_US ? left : POLL_US));
      gen.poll();
      left = end - this.micros();
    }
  }

  /** Run due timer events back to back for up to SLICE_US, waiting for each by busy-waiting. */
  private dispatch(): void {
    if (this.esp32) {
      this.dispatchTicks();
      return;
    }
    this.dispatching = true;
    const start = this.micros();
    let fn = this.fn;
    while (fn !== undefined) {
      const now = this.micros();
      const wait = this.dueUs - now;
      if (wait > SPIN_MAX_US || now - start + (wait > 0 ? wait : 0) > SLICE_US) break;
      // Whole µs: tmr.delay takes an integer (a fractional float is an error in Lua 5.3).
      if (wait > 0) this.spin(wait);
      this.fn = undefined;
      fn();
      fn = this.fn;
    }
    this.dispatching = false;
    if (this.onSlice !== undefined) this.onSlice();
    this.arm();
  }

  /** ESP32: run the event if it is due (an early tick re-arms for the rest), then the session's tick. */
  private dispatchTicks(): void {
    const fn = this.fn;
    if (fn !== undefined && this.dueUs - this.micros() <= 0) {
      this.dispatching = true;
      this.fn = undefined;
      fn();
      this.dispatching = false;
      if (this.onSlice !== undefined) this.onSlice();
    }
    this.arm();
  }
}
