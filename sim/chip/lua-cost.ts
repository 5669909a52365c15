/**
 * What NodeMCU's Lua costs on its chips, in CPU cycles (the cost model of `hookline sim --target
 * nodemcu --chip esp8266|esp8266-160|esp32`; sources and uncertainty in docs/targets.md, "Chip
 * cost"). sim/targets/nodemcu.ts counts the Lua VM instructions the app executes (a count hook in
 * fengari) and the NodeMCU primitives it calls, and charges:
 *
 *   instructions × cyclesPerInstruction     the VM (the app's own instruction mix, see below)
 *   + rotableLookup per field read from a NodeMCU ROM table (gpio, tmr, node, file, uart, math,
 *     string, table, bit, and a global that resolves to one of them): NodeMCU keeps its modules in
 *     flash as ROTables, found through _G's __index, and each look-up is a search, not a hash hit
 *   + cCall per call of a NodeMCU C function (argument checks, the SDK call, the return)
 *   + dispatch per entry into Lua from the SDK (a timer alarm, a posted task, UART data)
 *
 * How the figures were obtained (ESP8266, 80 MHz; the cycle counts are the same at 160 MHz: the
 * 2015 toggle test below ran exactly twice as fast at 160 MHz):
 * - cyclesPerInstruction. Published: a Lua loop toggling a pin with local functions,
 *   `for i = 1, 10 do write(2, 1) write(2, 0) end`, toggles at 51–63 kHz on an 80 MHz ESP8266
 *   (nodemcu-firmware issue #177; #128 measures 8.67 µs high pulses, ≈ 60 kHz, of the same
 *   loop as `while true do`): 1270–1570 cycles per iteration of 9 VM instructions and 2 C calls.
 *   Measured here: the same loop in Debian's lua5.1 (the same Lua 5.1 VM) takes 712 x86-64
 *   instructions per iteration (valgrind callgrind, 100 000 vs 200 000 iterations, a 2-argument C
 *   function), so ≈ 1.8–2.2 ESP8266 cycles per x86-64 instruction of this VM. The app's own mix
 *   (dist/nodemcu/5.1 running its homing steps on NodeMcuHal in lua5.1, NodeMCU's API stubbed,
 *   200 vs 400 timer events: 1.08 M VM instructions, 100.2 M x86-64 instructions) is 92.6 x86-64
 *   instructions per VM instruction (calls, table look-ups: a plain MOVE/ADD is ≈ 35), hence
 *   92.6 × 2.0 ≈ 185 cycles per VM instruction, ±25 % from the published spread alone.
 * - rotableLookup. Published: `tmr.now()` costs 6325 cycles (`tmr.ccount()` 6274) measured with the
 *   CPU cycle counter on an ESP8266, NodeMCU 2020 (nodemcu-firmware PR #2906): GETGLOBAL tmr,
 *   GETTABLE now, CALL and a trivial C body = 3 × 185 + 300 + 2 look-ups → ≈ 2700 cycles per
 *   ROM-table look-up. (2015 firmware: ≈ 1600, from #177's 10 kHz with globals vs 51 kHz local.)
 * - cCall: the C-function call beyond its CALL instruction, from the same lua5.1 measurement
 *   (a C call with 2 checked arguments ≈ 234 x86-64 instructions, of which ≈ 93 are the CALL's
 *   average share) × 2.0 ≈ 300 cycles.
 * - dispatch: no published figure found; ≈ 2000 cycles (an SDK task or os_timer callback,
 *   lua_rawgeti of the callback, lua_call), an estimate good to a factor of 2.
 *
 * ESP32 (LX6, 240 MHz): no published per-instruction figure for NodeMCU's ESP32 Lua was found; the
 * same C code on a core of the same family (Xtensa, windowed registers, flash through a cache),
 * so the ESP8266's cycle counts at 240 MHz, ±50 %.
 */
import type { CostSource } from './cpu';

export interface LuaCostModel extends CostSource {
  cyclesPerInstruction: number;
  rotableLookup: number;
  cCall: number;
  dispatch: number;
}

const ESP8266_SOURCE =
  'Lua 5.1 VM: 92.6 x86-64 instructions per VM instruction for the app (callgrind, lua5.1) × 2.0 ESP8266 cycles per x86-64 instruction (nodemcu-firmware #177/#128: GPIO toggle loop 51–63 kHz at 80 MHz) = 185 cycles/VM instruction; ROM-table look-up 2700 cycles (PR #2906: tmr.now() = 6325 cycles); C call 300; SDK dispatch 2000 (estimate)';

export const LUA_ESP8266: LuaCostModel = {
  source: ESP8266_SOURCE,
  uncertainty: 'VM instruction ±25 % (published spread), ROM look-up ±40 % (1600 in 2015 firmware, 2700 in 2020), dispatch ×/÷ 2; flash-cache misses in a large app not modelled (would add)',
  cyclesPerInstruction: 185,
  rotableLookup: 2700,
  cCall: 300,
  dispatch: 2000,
};

export const LUA_ESP32: LuaCostModel = {
  ...LUA_ESP8266,
  source: 'ESP8266 cycle counts (see esp8266) applied to the LX6 at 240 MHz: no published NodeMCU-ESP32 Lua timing found',
  uncertainty: '±50 % (extrapolated from the ESP8266: same Xtensa family and Lua C code, different pipeline and cache)',
};

/** The NodeMCU target's cost model per --chip. */
export const LUA_COST_MODELS: Record<string, LuaCostModel> = {
  esp8266: LUA_ESP8266,
  'esp8266-160': LUA_ESP8266,
  esp32: LUA_ESP32,
};
