import { Runtime } from '../../device/runtime';
import { RingPath } from '../../shared/geometry/ring';
import { SimHal } from '../hal';
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
