/**
 * The virtual MCU kept in step with the wall clock × speed, for a simulated device behind a real
 * port (`hookline device`): every few ms the MCU runs up to "now" (a sentinel timer marks it), for
 * at most SLICE_MS of wall time at once, so a device in a slow VM falls behind the requested speed
 * instead of starving the serial port, as a slow board would. The device is finished when it
 * reports DONE and the host has been quiet for QUIET_MS (the host sees the final STATUS before the
 * port closes, and a host that goes on with another job, like hookline hil, can), or on stop().
 */
import type { VirtualMcu } from '../mcu';

const SLOT_WALL = 3;
/** Longest run of the virtual MCU between serial I/O, ms of wall time. */
const SLICE_MS = 20;
const QUIET_MS = 1000;

export interface RealTimeDevice {
  /** One MCU event: run the next timer (the device may add its own work around it). */
  step(): void;
  /** The device's job is done (it would stop if the host went quiet). */
  done(): boolean;
  /** Wall time (performance.now()) the host was last heard. */
  heardAt(): number;
}

export interface RealTimeRun {
  finished: Promise<void>;
  stop(): void;
}

export function runInRealTime(mcu: VirtualMcu, speed: number, dev: RealTimeDevice, onFinish: () => void): RealTimeRun {
  const t0 = performance.now();
  let lagMs = 0;
  let stopped = false;
  let doneAt = -1;
  let resolve: () => void = () => {};
  const finished = new Promise<void>((r) => (resolve = r));
  const timer = setInterval(() => {
    const target = (performance.now() - t0 - lagMs) * 1000 * speed;
    let reached = false;
    mcu.setTimer(SLOT_WALL, target, () => (reached = true));
    const until = performance.now() + SLICE_MS;
    while (!reached && performance.now() < until) for (let k = 0; k < 64 && !reached; k++) dev.step();
    if (!reached) {
      mcu.cancelTimer(SLOT_WALL);
      lagMs = performance.now() - t0 - mcu.now / 1000 / speed;
    }
    if (!dev.done()) doneAt = -1;
    else if (doneAt < 0) doneAt = performance.now();
    if ((doneAt >= 0 && performance.now() - Math.max(doneAt, dev.heardAt()) > QUIET_MS) || stopped) {
      clearInterval(timer);
      onFinish();
      resolve();
    }
  }, 5);
  return {
    finished,
    stop() {
      stopped = true;
    },
  };
}
