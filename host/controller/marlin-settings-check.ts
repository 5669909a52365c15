/**
 * Marlin's `M503` read back and compared with the profile: the values `hookline gcode --settings
 * --dialect marlin` prints (host/gcode/firmware-settings.ts): M92 steps/mm, M203 max feedrate (mm/s),
 * M201 max acceleration (mm/s²), M205 J junction deviation (mm). Marlin prints them with two
 * decimals, so values agree within 0.005 (plus a part in 10⁶).
 */
import type { MachineProfile } from '../../shared/machine';
import { firmwareSettings } from '../gcode/firmware-settings';

/** "M92 X" → value, from the lines of an M503 answer (`echo:  M92 X80.00 Y80.00 Z400.00 E500.00`). */
export function parseMarlinSettings(lines: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of lines) {
    const l = raw.replace(/^echo:/, '').replace(/;.*$/, '').trim();
    const m = /^(M92|M203|M201|M205)\s+(.*)$/.exec(l);
    if (!m) continue;
    for (const w of m[2].split(/\s+/)) {
      const v = /^([A-Z])(-?[\d.]+)$/.exec(w);
      if (v) out.set(`${m[1]} ${v[1]}`, Number(v[2]));
    }
  }
  return out;
}

export interface MarlinExpected {
  key: string;
  value: number;
  why: string;
}

/** The profile's Marlin settings: the lines to send (no M500) and each value with its meaning. */
export function expectedMarlinSettings(m: MachineProfile): { lines: string[]; values: MarlinExpected[] } {
  const lines = firmwareSettings(m, 'marlin', 'profile').split('\n').filter((l) => /^M(92|203|201|205)\b/.test(l));
  const values: MarlinExpected[] = [];
  const send: string[] = [];
  for (const line of lines) {
    const [code, comment] = line.split(/\s*;\s*/);
    send.push(code.trim());
    const [word, ...args] = code.trim().split(/\s+/);
    for (const a of args) {
      const v = /^([A-Z])(-?[\d.]+)$/.exec(a);
      if (v) values.push({ key: `${word} ${v[1]}`, value: Number(v[2]), why: `${v[1] === 'J' ? '' : `${v[1].toLowerCase()} `}${comment ?? ''}`.trim() });
    }
  }
  return { lines: send, values };
}

export interface MarlinSettingDiff {
  key: string;
  actual: number | null;
  expected: number;
  why: string;
}

const same = (a: number, b: number) => Math.abs(a - b) <= 0.005 + 1e-6 * Math.abs(b);

/**
 * Differences between an M503 answer and the profile. M205 J missing from the answer is not a
 * difference but `noJunction` (a CLASSIC_JERK build: it has jerk, not junction deviation).
 */
export function compareMarlinSettings(actual: Map<string, number>, m: MachineProfile): { diffs: MarlinSettingDiff[]; noJunction: boolean } {
  const diffs: MarlinSettingDiff[] = [];
  let noJunction = false;
  for (const e of expectedMarlinSettings(m).values) {
    const a = actual.get(e.key);
    if (a === undefined) {
      if (e.key === 'M205 J') noJunction = true;
      else diffs.push({ key: e.key, actual: null, expected: e.value, why: e.why });
    } else if (!same(a, e.value)) diffs.push({ key: e.key, actual: a, expected: e.value, why: e.why });
  }
  return { diffs, noJunction };
}

/** "M92 X80 (profile 20: x steps/mm)" */
export function marlinDiffText(d: MarlinSettingDiff): string {
  return `${d.key}${d.actual === null ? ' (not listed)' : d.actual} (profile ${d.expected}: ${d.why})`;
}
