/**
 * `hookline device --target nodemcu|espruino`: a target's *built app* — its own main, HAL, runtime
 * and link session, as `hookline flash` puts them on a board — running on the virtual MCU with the
 * gantry plant and the verifier, its serial port bridged to a real byte link in real time × speed.
 * Unlike the native device (serial-device.ts) nothing here reaches into the runtime: the state is
 * read from the STATUS frames the firmware sends, as a host would.
 */
import { type MachineProfile, axisAt } from '../../shared/machine';
import { FR_OK, FrameDecoder } from '../../shared/link/frame';
import { STATUS_BYTES, T_STATUS } from '../../shared/link/protocol';
import { parseStatus } from '../../host/link/status';
import { ST_DONE, ST_HOMING, stateName } from '../../device/runtime';
import type { ByteLink } from '../../host/link/serial';
import { VirtualMcu } from '../mcu';
import type { Verifier, ViolationKind } from '../verify';
import { watchedGantry } from './watched-gantry';
import { runInRealTime } from './real-time';
import type { FirmwareApp } from '../targets/target';


/** Boots a target's app on the MCU; `send` carries what it writes to its serial port. */
export type FirmwareBoot = (mcu: VirtualMcu, machine: MachineProfile, send: (bytes: Uint8Array) => void) => FirmwareApp;

export interface FirmwareDevice {
  verifier: Verifier;
  /** The last STATUS the firmware sent. */
  status(): { stateName: string; line: number; lineCount: number };
  log: string[];
  /** Resolves when the firmware reports DONE and the host has gone quiet (or stop() is called). */
  finished: Promise<void>;
  stop(): void;
}

/** How the target's board times its steps (its SimTarget's stepJitterUs and homingOvertravelMs). */
export interface FirmwareTiming {
  stepJitterUs?: number;
  homingOvertravelMs?: number;
}

export function attachFirmwareDevice(link: ByteLink, machine: MachineProfile, boot: FirmwareBoot, opts: { speed?: number } & FirmwareTiming = {}): FirmwareDevice {
  const speed = opts.speed ?? 1;
  const mcu = new VirtualMcu();
  const verifier = watchedGantry(mcu, machine);
  // Every motion is judged against the acceleration limit, homing included (device/stepper.ts).
  verifier.accelFromUs = 0;
  if (opts.stepJitterUs) verifier.setStepJitter(opts.stepJitterUs);
  if (opts.homingOvertravelMs) {
    for (let a = 0; a < 3; a++) {
      const ax = axisAt(machine, a);
      verifier.overtravel[a] = Math.ceil((opts.homingOvertravelMs / 1000) * ax.homing.seekSpeedMmS * ax.stepsPerMm) + 1;
    }
  }
  // A step generator fed too late is a violation of the firmware (sim/step-generator.ts).
  mcu.onProblem = (kind, message, timeUs) => verifier.violation(kind as ViolationKind, message, timeUs);
  // Until the firmware's first STATUS says otherwise, it may be homing.
  verifier.homing = true;

  // Watch the firmware's own frames for its state, as a host would.
  const frames = new FrameDecoder();
  let state = -1;
  let line = 0;
  let lineCount = 0;
  const watch = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      if (frames.push(bytes[i]) !== FR_OK || frames.type !== T_STATUS || frames.length < STATUS_BYTES) continue;
      const st = parseStatus(frames.payload);
      state = st.state;
      verifier.homing = state === ST_HOMING;
      line = st.line;
      lineCount = st.lineCount;
    }
  };
  const app = boot(mcu, machine, (bytes) => {
    watch(bytes);
    link.write(bytes);
  });
  let heardAt = performance.now();
  link.onData((b) => {
    heardAt = performance.now();
    app.receive(b);
  });

  const run = runInRealTime(mcu, speed, {
    step: () => void mcu.runNext(),
    done: () => state === ST_DONE,
    heardAt: () => heardAt,
  }, () => verifier.finish(mcu.now));
  return {
    verifier,
    status: () => ({ stateName: state < 0 ? 'unknown' : stateName(state), line, lineCount }),
    log: app.log,
    finished: run.finished,
    stop: run.stop,
  };
}
