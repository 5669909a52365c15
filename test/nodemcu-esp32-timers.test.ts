// The NodeMCU shim's ESP32 firmware timers (sim/targets/nodemcu.ts; NodeMCU dev-esp32 tmr.c): alarms
// are FreeRTOS timers on 10 ms ticks, an alarm under one tick aborts the chip, there is no tmr.delay
// or tmr.now, and all of it holds past 2^31 µs of uptime (the shim's Lua has 32-bit integers: its
// tick arithmetic once wrapped there and every alarm came due at once, 35.8 min into any run).
import { describe, expect, it } from 'vitest';
import { noFaults } from '../device/runtime';
import { VirtualMcu } from '../sim/mcu';
import { nodemcuTarget } from '../sim/targets/nodemcu';
import { loadMachine } from '../host/machine/load';
import type { MachineProfile } from '../shared/machine';
import { repoRoot } from './helpers/cli';

const PROBE = `
local t = tmr.create()
local n = 0
t:alarm(20, tmr.ALARM_AUTO, function() n = n + 1; print("tick " .. n); if n == 3 then t:stop() end end)
local ok, err = pcall(function() tmr.create():alarm(5, tmr.ALARM_SINGLE, function() end) end)
print("short " .. tostring(ok) .. " " .. tostring(err))
print("api " .. tostring(tmr.delay) .. " " .. tostring(tmr.now) .. " " .. type(node.uptime))
`;

/** Boot the shim on an MCU whose clock reads startUs, run the probe's alarms, return the log's lines. */
function probe(startUs: number): { at: number; text: string }[] {
  const mcu = new VirtualMcu();
  mcu.advanceTo(startUs);
  const machine = loadMachine(`${repoRoot}/machines/ref-gantry-esp32-nodemcu.json`) as MachineProfile; // a gantry profile
  const device = nodemcuTarget({ board: 'ESP32', afterCreate: PROBE }).create(mcu, machine, null, noFaults());
  for (let i = 0; i < 20 && mcu.runNext(); i++);
  return device.log.map((l) => {
    const [t, ...rest] = l.split(' ');
    return { at: Math.round(Number(t) * 1e6), text: rest.join(' ') };
  });
}

describe('NodeMCU shim, ESP32 timers', () => {
  it.each([
    ['at boot', 1234],
    ['past 2^31 µs of uptime (35.8 min)', 2 ** 31 - 4321],
  ])('%s: no tmr.delay/tmr.now, a sub-tick alarm aborts, alarms on 10 ms tick boundaries', (_, startUs) => {
    const log = probe(startUs);
    expect(log.find((l) => l.text.startsWith('api'))!.text).toBe('api nil nil function');
    expect(log.find((l) => l.text.startsWith('short'))!.text).toMatch(/^short false .*0 FreeRTOS ticks .*configASSERT aborts the ESP32/);
    const ticks = log.filter((l) => l.text.startsWith('tick'));
    expect(ticks.map((l) => l.text)).toEqual(['tick 1', 'tick 2', 'tick 3']);
    // Two ticks after the tick the call fell in, then every two ticks: never before it was due - 10 ms.
    const first = (Math.floor(startUs / 10000) + 2) * 10000;
    expect(ticks.map((l) => l.at)).toEqual([first, first + 20000, first + 40000]);
    expect(ticks[0].at).toBeGreaterThan(startUs + 10000);
  });
});
