import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBoardPins, profilePins } from '../host/flash/board-pins';
import { loadMachine } from '../host/machine/load';
import { repoRoot, runCli, tempDir } from './helpers/cli';

const gantry = join(repoRoot, 'machines/ref-gantry.json');

describe('flash: pins a board reserves', () => {
  it('lists every pin of a gantry and of a ring profile with its field', () => {
    expect(profilePins(loadMachine(gantry)).map(([f]) => f).sort()).toEqual([
      'axes.x.pins.dir', 'axes.x.pins.endstop', 'axes.x.pins.step', 'axes.y.pins.dir', 'axes.y.pins.endstop', 'axes.y.pins.step',
      'axes.z.pins.dir', 'axes.z.pins.endstop', 'axes.z.pins.step', 'motors.enablePin',
    ]);
    const ring = profilePins(loadMachine(join(repoRoot, 'machines/ref-ring.json')));
    expect(ring).toContainEqual(['arm.pin', 10]);
    expect(ring).toContainEqual(['ring.pins.hall', 9]);
  });

  it('refuses the ESP32 flash pins on a real flash and only warns on a dry run; a Pico or the ESP32 profile passes', () => {
    const warnings: string[] = [];
    const m = loadMachine(gantry);
    expect(() => checkBoardPins(m, 'g.json', 'esp32', false, (l) => warnings.push(l))).toThrow(/g\.json uses pins the ESP32 reserves: .*axes\.y\.pins\.dir = 6 \(SPI flash\)/);
    checkBoardPins(m, 'g.json', 'ESP32', true, (l) => warnings.push(l));
    expect(warnings).toHaveLength(1);
    checkBoardPins(m, 'g.json', 'PICO', false, () => expect.unreachable());
    checkBoardPins(loadMachine(join(repoRoot, 'machines/ref-gantry-esp32.json')), 'e.json', 'ESP32', false, () => expect.unreachable());
  });

  it('the CLI: a real flash with reserved pins is one line, exit 2, before any port is opened', () => {
    const r = runCli(['flash', '--target', 'nodemcu', '--port', join(tempDir(), 'no-such-port')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/uses pins the ESP32 reserves/);
  });
});
