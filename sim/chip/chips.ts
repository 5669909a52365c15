/**
 * The chips `hookline sim --chip NAME` can charge: clock and core, and which target's firmware runs
 * on it. A chip is only the clock the interpreter's cycles are divided by; what the interpreter
 * costs in cycles is the target's cost model (sim/chip/lua-cost.ts for NodeMCU; Espruino's plugs
 * in through SimTarget.costModels, see sim/chip/cpu.ts).
 */

export interface ChipDef {
  /** The --chip name. */
  name: string;
  /** The board / SoC and its core, for the report. */
  label: string;
  /** CPU clock, MHz: cycles / mhz = µs. */
  mhz: number;
  /** The sim target whose firmware runs on this chip (--target). */
  target: string;
  /** Heap free for the app after the firmware booted (published; NodeMCU: node.heap()), bytes, with its source. */
  freeHeap?: { bytes: number; source: string };
}

/** NodeMCU on an ESP8266: node.heap() after boot on a dev build (nodemcu-firmware PR #2301, 2018, before LFS was flashed). */
const ESP8266_HEAP = { bytes: 43864, source: 'node.heap() = 43864 after boot, NodeMCU dev build 2018 (nodemcu-firmware PR #2301)' };

export const CHIPS: Record<string, ChipDef> = {
  pico: { name: 'pico', label: 'Espruino Pico: STM32F401CD, Cortex-M4 at 84 MHz', mhz: 84, target: 'espruino' },
  esp8266: { name: 'esp8266', label: 'ESP8266: Xtensa L106 at 80 MHz (NodeMCU default)', mhz: 80, target: 'nodemcu', freeHeap: ESP8266_HEAP },
  'esp8266-160': { name: 'esp8266-160', label: 'ESP8266: Xtensa L106 at 160 MHz (node.setcpufreq(node.CPU160MHZ))', mhz: 160, target: 'nodemcu', freeHeap: ESP8266_HEAP },
  esp32: {
    name: 'esp32', label: 'ESP32: Xtensa LX6 at 240 MHz', mhz: 240, target: 'nodemcu',
    // An upper bound: the heap before Wi-Fi and the Lua VM take their share.
    freeHeap: { bytes: (61 + 98 + 14 + 111) * 1024, source: 'ESP-IDF heap_init at boot of NodeMCU dev-esp32: 61 + 98 + 14 + 111 KiB of DRAM for dynamic allocation (nodemcu-firmware PR #2801 boot log), before Wi-Fi and Lua: an upper bound' },
  },
};

/** A chip by name, or one line saying why not (unknown, or another target's chip). */
export function chipFor(name: string, target: string): ChipDef | string {
  const chip = CHIPS[name];
  if (!chip) return `unknown --chip '${name}'; use one of ${Object.keys(CHIPS).join(', ')}`;
  if (chip.target !== target) {
    const fits = Object.values(CHIPS).filter((c) => c.target === target).map((c) => c.name);
    return `--chip ${name} runs --target ${chip.target}, not ${target}` + (fits.length ? `; for ${target} use ${fits.join(', ')}` : `; ${target} has no chip to charge`);
  }
  return chip;
}
