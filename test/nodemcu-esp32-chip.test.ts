/**
 * The ESP32 NodeMCU firmware as the shim runs it (components/modules/tmr.c, task/task.c of
 * dev-esp32): tmr alarms are FreeRTOS timers in 10 ms ticks (an alarm under a tick aborts), there
 * is no tmr.delay / tmr.now; and the app homing ref-gantry-esp32 charged to the ESP32 (--chip esp32)
 * on the RMT without a late timer or a violation (docs/targets/nodemcu.md, "ESP32 under --chip").
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { encodeStream } from '../shared/stream/encoder';
import { machineHash } from '../host/stream/machine-hash';
import { simulate } from '../sim/simulate';
import { nodemcuTarget } from '../sim/targets/nodemcu';
import { CHIPS } from '../sim/chip/chips';
import type { MachineProfile } from '../shared/machine';
import { repoRoot } from './helpers/cli';

const m = JSON.parse(readFileSync(join(repoRoot, 'machines', 'ref-gantry-esp32.json'), 'utf8')) as MachineProfile;
const plan = Uint8Array.from(encodeStream([0, 9, 18, 5], 160, [0], { version: 4, machineHash: machineHash(m) }));

describe('NodeMCU ESP32 firmware: tmr on FreeRTOS ticks', () => {
  it('no tmr.delay or tmr.now; an alarm fires on a 10 ms tick boundary; one under a tick aborts', () => {
    const probe = `
      assert(tmr.delay == nil and tmr.now == nil, "ESP32 tmr has no delay/now")
      local t0 = node.uptime()
      tmr.create():alarm(25, tmr.ALARM_SINGLE, function() print("TICK " .. t0 .. " " .. node.uptime()) end)`;
    const r = simulate(plan, m, { startMm: [10, 10, 25], skipEstimates: true, maxMachineSeconds: 1, target: nodemcuTarget({ board: 'ESP32', afterCreate: probe }) });
    const line = r.log.find((l) => l.includes('TICK '))!;
    const [t0, t1] = line.split('TICK ')[1].split(' ').map(Number);
    // 25 ms = 2 ticks: the second tick boundary after the one it was armed in.
    expect(t1 % 10000).toBe(0);
    expect(t1 - t0).toBeGreaterThan(10000);
    expect(t1 - t0).toBeLessThanOrEqual(20000);
    expect(() => simulate(plan, m, { skipEstimates: true, maxMachineSeconds: 1, target: nodemcuTarget({ board: 'ESP32', afterCreate: 'tmr.create():alarm(5, tmr.ALARM_SINGLE, function() end)' }) }))
      .toThrow(/0 FreeRTOS ticks/);
  });

  it('--chip esp32: homing on the RMT with no late timer and no violation before the job', () => {
    const r = simulate(plan, m, { startMm: [10, 10, 25], skipEstimates: true, maxMachineSeconds: 15, target: nodemcuTarget(), chip: CHIPS.esp32 });
    expect(r.homedSeconds).toBeGreaterThan(0);
    expect(r.jobStartSeconds).toBeGreaterThan(0);
    const before = r.violations.filter((v) => v.kind !== 'timeout' && v.kind !== 'incomplete' && v.timeUs < r.jobStartSeconds * 1e6);
    expect(before).toEqual([]);
  }, 60000);
});
