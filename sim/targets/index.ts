import type { SimTarget } from './target';
import { nativeTarget } from './native';

/** Simulation targets by name (`hookline sim --target NAME`); built artifacts are loaded on demand. */
export const simTargets: Record<string, () => Promise<SimTarget>> = {
  native: async () => nativeTarget,
  'native-segments': async () => (await import('./native')).nativeSegmentsTarget(),
  espruino: async () => (await import('./espruino')).espruinoTarget,
  nodemcu: async () => (await import('./nodemcu')).nodemcuTarget(),
  'johnny-five': async () => (await import('./johnny-five')).johnnyFiveTarget,
};
