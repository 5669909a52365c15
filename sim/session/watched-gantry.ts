import { type MachineProfile, axisAt, mmToSteps } from '../../shared/machine';
import type { VirtualMcu } from '../mcu';
import { GantryPlant, gantryStartMm } from '../plant';
import { Verifier } from '../verify';

/**
 * A simulated gantry on the MCU's pins, powered on at startMm (default: gantryStartMm), with the
 * verifier watching it: what every simulated device behind a link drives.
 */
export function watchedGantry(mcu: VirtualMcu, machine: MachineProfile, startMm = gantryStartMm(machine)): Verifier {
  const pos = Float64Array.from([0, 1, 2].map((a) => mmToSteps(axisAt(machine, a), startMm[a])));
  const verifier = new Verifier(machine, pos, true);
  mcu.addListener(new GantryPlant(mcu, machine, pos, verifier));
  return verifier;
}
