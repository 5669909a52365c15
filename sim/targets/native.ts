import { Runtime } from '../../device/runtime';
import { SEEK_POLL_US } from '../../device/stepper';
import { RingPath } from '../../shared/geometry/ring';
import { SimHal } from '../hal';
import { NATIVE_GENERATOR, SimStepOutput, StepGeneratorSpec } from '../step-generator';
import type { SimTarget } from './target';

/** The TypeScript runtime itself, over SimHal (no build step): the reference the others must match. */
export const nativeTarget: SimTarget = {
  name: 'native',
  create(mcu, machine, ring, faults) {
    const hal = new SimHal(mcu, 0);
    const runtime = new Runtime(hal, machine, faults, ring ? new RingPath(ring) : undefined);
    return { runtime, log: hal.log, storageRead: (key) => hal.storageRead(key), storageWrites: () => hal.writes };
  },
};

/**
 * The TypeScript runtime over SimHal with a hardware step generator (sim/step-generator.ts): the
 * runtime queues step segments ahead of time instead of timing each step (device/stepper.ts).
 */
export function nativeSegmentsTarget(spec: StepGeneratorSpec = NATIVE_GENERATOR, name = 'native-segments'): SimTarget {
  return {
    name,
    stepJitterUs: spec.maxErrorUs + spec.tickUs,
    // Seeks on the generator read the switch every SEEK_POLL_US: the axis may run on that long.
    homingOvertravelMs: SEEK_POLL_US / 1000,
    create(mcu, machine, ring, faults) {
      const hal = new SimHal(mcu, 0);
      hal.steps = new SimStepOutput(mcu, spec);
      const runtime = new Runtime(hal, machine, faults, ring ? new RingPath(ring) : undefined);
      return { runtime, log: hal.log, storageRead: (key) => hal.storageRead(key), storageWrites: () => hal.writes };
    },
  };
}
