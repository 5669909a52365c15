/**
 * The hardware abstraction layer: the only thing a target (sim, Espruino, NodeMCU, ...) implements.
 * Everything the runtime does to the world goes through these calls, so the simulator can watch
 * every pin edge with its time. Contract details in docs/runtime.md ("HAL").
 */

export const PIN_OUTPUT = 0;
export const PIN_INPUT = 1;
export const PIN_INPUT_PULLUP = 2;

export interface Hal {
  /** Timer resolution in µs: step times are rounded to multiples of it. */
  tickUs: number;
  /** Configure a pin (PIN_OUTPUT, PIN_INPUT, PIN_INPUT_PULLUP). */
  pinMode(pin: number, mode: number): void;
  /** Drive an output: 0 = low, 1 = high. */
  write(pin: number, level: number): void;
  /** Read an input: 0 = low, 1 = high. */
  read(pin: number): number;
  /** One step pulse: rising edge now, falling edge widthUs later (the target decides how). */
  pulse(pin: number, widthUs: number): void;
  /** Free-running clock in µs (monotonic; may be a float on targets without a µs timer). */
  micros(): number;
  /**
   * Call fn once, delayUs µs from now (delayUs ≥ 0). One timer per runtime: a new call replaces a
   * pending one. fn runs outside any other runtime call (interrupt or event-loop context).
   */
  setTimer(delayUs: number, fn: () => void): void;
  cancelTimer(): void;
  /** Persistent storage for progress: a few small integers by name. read returns -1 when unset. */
  storageWrite(key: string, value: number): void;
  storageRead(key: string): number;
  /** One line of text to the operator / host (status changes, alarms). */
  print(line: string): void;
  /**
   * The target's hardware-timed step generator, or null where the runtime times every step itself
   * through setTimer (one interpreted callback per step: only for targets fast enough for that).
   */
  steps: StepOutput | null;
}

/**
 * A hardware-timed step generator fed with step segments (Klipper's queue_step model): per axis a
 * queue of segments; a segment makes `count` steps, the first `interval` µs after the axis' previous
 * step (after start() for its first), each following one `add` µs longer than the one before (add may
 * be negative or fractional). Times are exact sums of the segments' numbers; the generator rounds
 * each step to its own timer resolution without accumulating the rounding (docs/runtime.md,
 * "Step segments"). The stepper keeps `leadUs` of motion queued ahead of the generator's clock and
 * refills every `refillUs`; a segment pushed after its first step was due is late (the simulator
 * counts that as a violation, a board as a stall).
 */
export interface StepOutput {
  /** Motion the stepper keeps queued ahead of the generator (µs), and how often it refills (µs). */
  leadUs: number;
  refillUs: number;
  /**
   * How far ahead of now a motion starts the generator's clock (µs; default refillUs): the
   * interpreter plans and queues the first segments meanwhile, and the first refill queues up to
   * leadUs minus this of motion.
   */
  startDelayUs?: number;
  /**
   * How late the interpreter's timer may write a dwell's output (an arm's swing) after the dwell
   * starts, µs (default 0): such a dwell is lengthened by it, so the next motion waits for the
   * output's whole time. NodeMCU on an ESP32 times with 10 ms ticks.
   */
  outputLateUs?: number;
  /**
   * How far the generator's clock has fallen behind the time start() was given, µs (default 0): a
   * generator that ran dry makes every later step that much later (NodeMCU's RMT, to keep its
   * channels aligned), and the stepper's clock follows it.
   */
  lateUs?: number;
  /** Largest error (µs) the stepper may introduce in a step's time by compressing steps into segments. */
  maxErrorUs: number;
  /** The generator's timer resolution, µs (each step time is rounded to it). */
  tickUs: number;
  /** Axis i steps on stepPin with pulses pulseUs wide; DIR is dirPin, at plusLevel for +1 steps. */
  setup(axis: number, stepPin: number, dirPin: number, plusLevel: number, pulseUs: number): void;
  /** Segments axis can still take. */
  free(axis: number): number;
  /** Start the generator's clock at HAL time atUs (µs, ≥ now), with every queue empty. */
  start(atUs: number): void;
  /** Queue count ≥ 1 steps in direction dir (+1/−1) on axis (see above for interval and add). */
  push(axis: number, dir: number, interval: number, count: number, add: number): void;
  /**
   * True when the generator integrates constant acceleration itself (pushPhase): one segment then
   * covers a whole acceleration, cruise or deceleration phase of a block, exactly.
   */
  phases?: boolean;
  /**
   * Queue count ≥ 1 steps in direction dir on axis as one phase of constant acceleration: at
   * generator time startUs (µs since start()) the axis is p0 of a step on from its last step
   * position (0 ≤ p0 ≤ 1: the next step comes when this reaches 1), moving at v0 ≥ 0 steps/µs and
   * accelerating at a steps/µs² (negative: slowing). Step k comes when p0 + v0·t + a·t²/2 = k.
   * The axis' previous segment has made all its steps by startUs. Only when `phases` is true.
   */
  pushPhase?(axis: number, dir: number, count: number, startUs: number, p0: number, v0: number, a: number): void;
  /** Signed steps axis has made since start(). */
  position(axis: number): number;
  /** Stop at once: no further steps, every queue emptied. */
  stop(): void;
}
