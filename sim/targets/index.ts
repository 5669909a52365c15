import type { SimTarget } from './target';
import { nativeTarget } from './native';

/** Simulation targets by name (`hookline sim --target NAME`); built artifacts are loaded on demand. */
export const simTargets: Record<string, () => Promise<SimTarget>> = {
  native: async () => nativeTarget,
  'native-segments': async () => (await import('./native')).nativeSegmentsTarget(),
  // the same with a generator that integrates each acceleration phase itself (as the Espruino routine)
  'native-phases': async () => {
    const { nativeSegmentsTarget } = await import('./native');
    const { NATIVE_GENERATOR } = await import('../step-generator');
    return nativeSegmentsTarget({ ...NATIVE_GENERATOR, phases: true }, 'native-phases');
  },
  espruino: async () => (await import('./espruino')).espruinoTarget,
  nodemcu: async () => (await import('./nodemcu')).nodemcuTarget(),
  'johnny-five': async () => (await import('./johnny-five')).johnnyFiveTarget,
};
