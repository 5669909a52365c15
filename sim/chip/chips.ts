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
}

export const CHIPS: Record<string, ChipDef> = {
  pico: { name: 'pico', label: 'Espruino Pico: STM32F401CD, Cortex-M4 at 84 MHz', mhz: 84, target: 'espruino' },
  esp8266: { name: 'esp8266', label: 'ESP8266: Xtensa L106 at 80 MHz (NodeMCU default)', mhz: 80, target: 'nodemcu' },
  'esp8266-160': { name: 'esp8266-160', label: 'ESP8266: Xtensa L106 at 160 MHz (node.setcpufreq(node.CPU160MHZ))', mhz: 160, target: 'nodemcu' },
  esp32: { name: 'esp32', label: 'ESP32: Xtensa LX6 at 240 MHz', mhz: 240, target: 'nodemcu' },
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
