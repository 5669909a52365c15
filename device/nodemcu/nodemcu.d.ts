/**
 * The parts of NodeMCU's Lua API (ESP8266 and ESP32 firmware, Lua 5.1 and 5.3) that the NodeMCU
 * target uses, declared for typescript-to-lua. Only device/nodemcu/ may use them; the host
 * typecheck sees them as plain ambient globals. Where the two chips differ (gpio.mode vs
 * gpio.config, tmr.now vs node.uptime, uart.on's argument order) both forms are declared optional
 * and the HAL picks the one the firmware has.
 */
/** @noSelfInFile */

declare namespace gpio {
  const HIGH: number;
  const LOW: number;
  // ESP8266
  const OUTPUT: number;
  const INPUT: number;
  const PULLUP: number;
  const FLOAT: number;
  /** ESP8266: gpio.mode(pin, gpio.OUTPUT | gpio.INPUT, gpio.PULLUP | gpio.FLOAT). */
  const mode: ((pin: number, mode: number, pull?: number) => void) | undefined;
  // ESP32
  const IN: number;
  const OUT: number;
  const PULL_UP: number;
  const FLOATING: number;
  /** ESP32: gpio.config({ gpio = pin, dir = gpio.OUT | gpio.IN, pull = gpio.PULL_UP | gpio.FLOATING }). */
  const config: ((cfg: { gpio: number; dir: number; pull: number }) => void) | undefined;
  function write(pin: number, level: number): void;
  function read(pin: number): number;
  /**
   * ESP8266 firmware built with the GPIO_PULSE module (app/modules/gpio_pulse.c): programs of up to
   * 100 stages run by the FRC1 timer interrupt. Absent otherwise.
   */
  const pulse: { build: (this: void, stages: PulseStage[]) => NodeMcuPulser } | undefined;
}

/**
 * One gpio.pulse stage: numeric keys are pins (value: level set at the stage's start), delay µs
 * (0 .. 64 000 000) until the next stage, min/max make the delay adjustable, loop/count a goto.
 */
interface PulseStage {
  [pin: number]: number;
  delay?: number;
  min?: number;
  max?: number;
  loop?: number;
  count?: number;
}

/** A gpio.pulse object (methods take self: p:start(...)). */
interface NodeMcuPulser {
  /** start([adjust,] callback): runs stage 1 at once (only one pulser may be active). */
  start(this: NodeMcuPulser, adjust: number, done: (this: void) => void): void;
  /** The active stage (1-based; nil once finished); further results (steps, offset, now) unused. */
  getstate(this: NodeMcuPulser): number | undefined;
  /** Replace fields of stage n (pins are OR-ed into its masks, see steps-pulse.ts). */
  update(this: NodeMcuPulser, n: number, stage: PulseStage): void;
  /** Stop at once. */
  cancel(this: NodeMcuPulser): number | undefined;
}

/** An rmt TX channel (ESP32 firmware with the RMT module, components/modules/rmt.c). */
interface NodeMcuRmtChannel {
  /** Send 16-bit little-endian items (bit 15 level, bits 0-14 ticks); with a callback it returns once started. */
  send(this: NodeMcuRmtChannel, data: string, done: (this: void, rc: number) => void): void;
  close(this: NodeMcuRmtChannel): void;
}

/** ESP32 firmware built with the RMT module; absent otherwise. */
declare const rmt:
  | { txsetup: (this: void, gpio: number, bittimePs: number, options: { idle_level: number }) => NodeMcuRmtChannel }
  | undefined;

declare namespace table {
  function concat(parts: string[], sep?: string): string;
}

/** A tmr.create() timer object (methods take self: t:alarm(...)). */
interface NodeMcuTimer {
  alarm(this: NodeMcuTimer, intervalMs: number, mode: number, fn: (this: void) => void): boolean;
  stop(this: NodeMcuTimer): boolean;
  unregister(this: NodeMcuTimer): void;
}

declare namespace tmr {
  const ALARM_SINGLE: number;
  const ALARM_AUTO: number;
  function create(): NodeMcuTimer;
  /** ESP8266: the system counter in µs, 31 bits (wraps to 0 after ~35.8 min). */
  const now: (() => number) | undefined;
  /** ESP8266: busy-wait for us µs (nothing else runs meanwhile). The ESP32 firmware has none. */
  const delay: ((this: void, us: number) => void) | undefined;
}

declare namespace node {
  /** Free heap, bytes. */
  function heap(): number;
  /** ESP32: µs since boot. */
  const uptime: (() => number) | undefined;
  function restart(): void;
  /** Run fn as its own task once the current one returns (the SDK gets to run in between). */
  const task: { post: (this: void, priority: number, fn: (this: void) => void) => void; LOW_PRIORITY: number } | undefined;
}

declare namespace uart {
  /** uart.setup(id, baud, databits, parity, stopbits, echo). */
  function setup(id: number, baud: number, databits: number, parity: number, stopbits: number, echo: number): number;
  /** uart.write(id, data). */
  function write(id: number, data: string): void;
  /**
   * ESP8266: uart.on("data", n, fn, runInput) (UART 0); ESP32: uart.on(id, "data", n, fn, runInput).
   * runInput 0: the bytes go to fn only, not to the Lua interpreter.
   */
  function on(...args: unknown[]): void;
}

declare namespace file {
  function open(name: string, mode: string): unknown;
  function read(n?: number): string | undefined;
  function write(data: string): boolean;
  function close(): void;
  function remove(name: string): void;
  function exists(name: string): boolean;
}

/** NodeMCU's 5.1 firmware has the bit module; typescript-to-lua's "JIT" target emits bit.band etc. */
declare function dofile(name: string): unknown;
declare function tonumber(s: string): number | undefined;
declare function print(line: string): void;
declare function collectgarbage(opt: 'count'): number;
declare function collectgarbage(opt: 'collect'): number;
