/**
 * Grbl's `$$` read back and compared with what the machine profile needs (host/gcode/grbl-settings.ts).
 * Settings that do not change where or how fast the machine moves are not compared: $1 (step idle
 * delay), $6 (probe pin), $12 (arc tolerance), $26 (homing debounce). $10 only needs its bit 0
 * (status reports carry the machine position, which the sender tracks).
 */
import type { MachineProfile } from '../../shared/machine';
import { grblSettings } from '../gcode/grbl-settings';

const NOT_COMPARED = new Set([1, 6, 12, 26]);

export interface SettingDiff {
  n: number;
  /** What the board has (null: it did not list the setting). */
  actual: number | null;
  expected: number;
  /** The profile's reason, e.g. "x steps/mm". */
  why: string;
}

/** `$N=V` lines of a `$$` answer (other lines ignored). */
export function parseGrblSettings(lines: readonly string[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of lines) {
    const m = /^\$(\d+)=(-?[\d.]+)/.exec(l.trim());
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** The profile's settings as `$N=V` with their reasons. */
export function expectedGrblSettings(m: MachineProfile): { n: number; value: number; why: string; line: string }[] {
  return grblSettings(m).lines.map((line) => {
    const mm = /^\$(\d+)=(-?[\d.]+)\s*;\s*(.*)$/.exec(line)!;
    return { n: Number(mm[1]), value: Number(mm[2]), why: mm[3], line: `$${mm[1]}=${mm[2]}` };
  });
}

const same = (a: number, b: number) => Math.abs(a - b) <= 0.0005 + 1e-9 * Math.abs(b);

export function compareGrblSettings(actual: Map<number, number>, m: MachineProfile): SettingDiff[] {
  const diffs: SettingDiff[] = [];
  for (const e of expectedGrblSettings(m)) {
    if (NOT_COMPARED.has(e.n)) continue;
    const a = actual.get(e.n);
    if (a === undefined) {
      diffs.push({ n: e.n, actual: null, expected: e.value, why: e.why });
    } else if (e.n === 10 ? (a & 1) !== (e.value & 1) : !same(a, e.value)) {
      diffs.push({ n: e.n, actual: a, expected: e.value, why: e.why });
    }
  }
  return diffs;
}

/** "$100=80 (profile 20: x steps/mm)" */
export function settingDiffText(d: SettingDiff): string {
  return `$${d.n}=${d.actual === null ? '(not listed)' : d.actual} (profile ${d.expected}: ${d.why.split(' (')[0]})`;
}
