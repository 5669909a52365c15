import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineProfile } from '../../shared/machine';
import { axisAt, mmToSteps } from '../../shared/machine';
import { Runtime, type RuntimeFaults, noFaults } from '../../device/runtime';
import { VirtualMcu } from '../../sim/mcu';
import { SimHal } from '../../sim/hal';
import { GantryPlant, type PlantFaults } from '../../sim/plant';
import { Verifier } from '../../sim/verify';
import { repoRoot } from './cli';

export function refGantry(): MachineProfile {
  return JSON.parse(readFileSync(join(repoRoot, 'machines/ref-gantry.json'), 'utf8'));
}

/** A path like the planner's: never the same hook twice in a row, at least `gap` hooks apart. */
export function samplePath(seed: number, lines: number, hooks = 160, gap = 8): number[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const path = [Math.floor(rnd() * hooks)];
  for (let i = 0; i < lines; i++) path.push((path[i] + gap + Math.floor(rnd() * (hooks - 2 * gap))) % hooks);
  return path;
}

export interface Edge {
  pin: number;
  level: number;
  t: number;
}

/** The runtime on the virtual MCU with the plant and verifier attached, driven by hand. */
export function rig(m: MachineProfile, opts: { startMm?: number[]; faults?: Partial<RuntimeFaults>; plantFaults?: PlantFaults; recordEdges?: number } = {}) {
  const mcu = new VirtualMcu();
  const edges: Edge[] = [];
  const cap = opts.recordEdges ?? 0;
  if (cap > 0) mcu.addListener({ edge: (pin, level, t) => void (edges.length < cap && edges.push({ pin, level, t })) });
  const startMm = opts.startMm ?? [350, 350, 20];
  const pos = Float64Array.from([0, 1, 2].map((a) => mmToSteps(axisAt(m, a), startMm[a])));
  const verifier = new Verifier(m, pos);
  const plant = new GantryPlant(mcu, m, pos, verifier, opts.plantFaults);
  mcu.addListener(plant);
  const hal = new SimHal(mcu);
  const rt = new Runtime(hal, m, { ...noFaults(), ...opts.faults });
  /** Run timer events until `until()` holds or nothing is pending; returns whether `until()` held. */
  const run = (until: () => boolean = () => false, maxEvents = 50_000_000): boolean => {
    for (let i = 0; i < maxEvents; i++) {
      if (until()) return true;
      if (!mcu.runNext()) return until();
    }
    return until();
  };
  /** Feed bytes with backpressure, running the machine whenever the runtime cannot take more. */
  const feedAll = (bytes: ArrayLike<number>) => {
    let i = 0;
    for (;;) {
      while (i < bytes.length && rt.canAccept()) rt.feed(bytes[i++]);
      if (!mcu.runNext()) break;
    }
    return i;
  };
  return { mcu, plant, verifier, hal, rt, edges, run, feedAll, pos };
}
