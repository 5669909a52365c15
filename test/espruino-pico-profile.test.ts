// machines/ref-gantry-pico.json: the profile an Espruino Pico can drive (docs/targets/espruino.md,
// "What a Pico can drive"). The built app on the chip-charged simulator (--chip pico) strings a
// short plan on it with no violation of any kind, timing included; the full-speed ref-gantry on
// the same chip falls behind (its step routine's queues run dry), which this check must see.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { simulate } from '../sim/simulate';
import { CHIPS } from '../sim/chip/chips';
import { espruinoTarget } from '../sim/targets/espruino';
import type { MachineProfile } from '../shared/machine';
import { repoRoot } from './helpers/cli';
import { samplePath } from './helpers/rig';

const load = (name: string) => JSON.parse(readFileSync(join(repoRoot, 'machines', name), 'utf8')) as MachineProfile;

describe('ref-gantry-pico on the Pico-charged simulator', () => {
  const path = samplePath(11, 12);
  const stream = Uint8Array.from(encodeStream(path, 160, [0]));
  it('strings a plan with no violation, the interpreter well under full load on average', () => {
    const r = simulate(stream, load('ref-gantry-pico.json'), { target: espruinoTarget, chip: CHIPS.pico, skipEstimates: true });
    expect(r.violations).toEqual([]);
    expect(r.wrapped).toEqual(path);
    expect(r.ok).toBe(true);
    expect(r.stepGenerator!.lateSegments).toBe(0);
    expect(r.chip!.load.average).toBeLessThan(0.5);
  });
  it('ref-gantry at full speed on the same chip falls behind: late phases are violations', () => {
    const r = simulate(stream, load('ref-gantry.json'), { target: espruinoTarget, chip: CHIPS.pico, skipEstimates: true, maxMachineSeconds: 120 });
    expect(r.ok).toBe(false);
    expect(r.violationCounts['late-step'] ?? 0).toBeGreaterThan(0);
  });
});
