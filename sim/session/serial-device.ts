/**
 * The simulated machine behind a byte link in real time (`hookline device`): LinkSession + Runtime
 * on the virtual MCU with the gantry plant and the verifier, the MCU clock kept in step with the
 * wall clock (times `speed`). Bytes from the link go to the session; the session's frames go back.
 */
import type { MachineProfile } from '../../shared/machine';
import { Runtime, ST_DONE } from '../../device/runtime';
import { LinkSession } from '../../device/link-session';
import { machineHash } from '../../host/stream/machine-hash';
import type { ByteLink } from '../../host/link/serial';
import { VirtualMcu } from '../mcu';
import { SimHal } from '../hal';
import type { Verifier } from '../verify';
import { watchedGantry } from './watched-gantry';
import { runInRealTime } from './real-time';


export interface SerialDevice {
  verifier: Verifier;
  runtime: Runtime;
  hal: SimHal;
  /** Resolves when the runtime reaches DONE (or stop() is called). */
  finished: Promise<void>;
  stop(): void;
}

export function attachSimDevice(link: ByteLink, machine: MachineProfile, opts: { speed?: number; machineHash?: number } = {}): SerialDevice {
  const speed = opts.speed ?? 1;
  const mcu = new VirtualMcu();
  const verifier = watchedGantry(mcu, machine);
  // Every motion is judged against the acceleration limit, homing included (device/stepper.ts).
  verifier.accelFromUs = 0;
  const hal = new SimHal(mcu, 0);
  const rt = new Runtime(hal, machine);
  const hash = opts.machineHash ?? machineHash(machine);
  rt.setMachineHash(hash);
  rt.boot();
  const dev = new LinkSession(rt, hal, hash, 2, (bytes) => link.write(Uint8Array.from(bytes)));
  let heardAt = performance.now();
  link.onData((b) => {
    heardAt = performance.now();
    for (let i = 0; i < b.length; i++) dev.push(b[i]);
    dev.tick();
  });
  dev.boot();
  const noop = () => {};
  const run = runInRealTime(mcu, speed, {
    step() {
      // STATUS frames go out on time between other events.
      const next = dev.nextStatusUs();
      if (next > mcu.now) mcu.setTimer(1, next, noop);
      mcu.runNext();
      dev.tick();
    },
    done: () => rt.state === ST_DONE,
    heardAt: () => heardAt,
  }, () => verifier.finish(mcu.now));
  return {
    verifier,
    runtime: rt,
    hal,
    finished: run.finished,
    stop: run.stop,
  };
}
