// Run a script (a calibration workload, or the app with the step harness) in node:vm over the
// Espruino shim on a VirtualMcu, instrumented in features mode: the model's features for it.
import vm from 'node:vm';
import { VirtualMcu } from '../../sim/mcu';
import { espruinoShim } from '../../sim/targets/espruino-shim';
import { COUNTER, DISPATCH, NF, instrumentForCost } from '../../sim/targets/espruino-cost';

export interface VmRun {
  features: number[];
  printed: string[];
  events: number;
  /** Pin edges: how many, and a hash of (pin, level, time) in order. */
  edges: number;
  edgeHash: number;
}

/**
 * `code` runs instrumented (features mode; 'cost': one counter; 'plain': as is); the event loop
 * runs until quit() or nothing is pending.
 */
export function vmFeatures(code: string, maxEvents = 50_000_000, mode: 'features' | 'cost' | 'plain' | 'profile' = 'features', functionNames?: string[]): VmRun {
  const mcu = new VirtualMcu();
  // As the realchips Linux build (and a board with nothing attached): input_pullup reads 1.
  const pinMode = mcu.pinMode.bind(mcu);
  mcu.pinMode = (pin: number, mode: number) => {
    pinMode(pin, mode);
    if (mode === 2) mcu.drive(pin, 1);
  };
  let edges = 0, edgeHash = 0;
  mcu.addListener({
    edge(pin, level, t) {
      edges++;
      edgeHash = (Math.imul(edgeHash, 31) + pin * 7 + level + Math.round(t)) | 0;
    },
  });
  const ctx = vm.createContext(vm.constants?.DONT_CONTEXTIFY ?? {}) as vm.Context;
  const shim = espruinoShim(mcu, 0, { context: ctx });
  Object.assign(ctx, shim.globals);
  const names: string[] = functionNames ?? [];
  const instrumented = mode === 'plain' ? code : instrumentForCost(code, { mode, functionNames: names });
  const counter = new Array(Math.max(NF, names.length)).fill(0);
  let quitted = false;
  Object.assign(ctx, {
    [COUNTER]: counter,
    quit: () => {
      quitted = true;
    },
    // as the realchips Pico-like ARM build reports itself, so the app takes the same branches
    process: { memory: () => ({ usage: 0, total: 5100, free: 5100 }), version: '2v29.277', env: { BOARD: 'LINUX_PICOLIKE_ARM', VERSION: '2v29.277' } },
  });
  vm.runInContext(instrumented, ctx);
  let events = 0;
  while (!quitted && events < maxEvents && mcu.runNext()) {
    events++;
    if (mode === 'features') counter[DISPATCH] += 1;
  }
  return { features: counter.slice(), printed: shim.log.map((l) => l.replace(/^\S+ /, '')), events, edges, edgeHash };
}
