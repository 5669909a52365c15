/**
 * Grbl 1.1 `$` settings that match a gantry profile (docs/gcode.md "Firmware settings"), and the
 * work offset that puts the profile's coordinates on Grbl's homed machine space.
 *
 * Grbl keeps one homing feed, one seek feed and one pull-off for all axes, its step pulse is at
 * least 3 µs ($0), and its limit/enable polarity is one bit for all limits / one for the enable
 * pin: what the profile says differently per axis is listed in `unmatched`.
 */
import type { MachineProfile, AxisProfile } from '../../shared/machine';

export interface GrblSettings {
  /** `$N=V ; why` lines, in the order to send them (soft limits last: they need homing on). */
  lines: string[];
  /** What the profile asks for that Grbl cannot be set to, one sentence each. */
  unmatched: string[];
  /** $27: the pull-off every axis ends homing at, mm from its switch. */
  pullOffMm: number;
}

/** Grbl's smallest step pulse ($0 below 3 is error:6, settings.c). */
export const GRBL_MIN_PULSE_US = 3;

function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

export function grblSettings(m: MachineProfile): GrblSettings {
  const axes: [string, AxisProfile][] = [['x', m.axes.x], ['y', m.axes.y], ['z', m.axes.z]];
  const unmatched: string[] = [];
  const lines: string[] = [];
  const set = (n: number, v: number | string, why: string) => lines.push(`$${n}=${typeof v === 'number' ? num(v) : v} ; ${why}`);
  const pulse = Math.max(GRBL_MIN_PULSE_US, Math.ceil(m.stepPulseUs));
  if (m.stepPulseUs < GRBL_MIN_PULSE_US) unmatched.push(`stepPulseUs ${m.stepPulseUs}: Grbl's shortest step pulse is ${GRBL_MIN_PULSE_US} µs ($0=${m.stepPulseUs} is error:6); $0=${pulse} is the closest`);
  set(0, pulse, `step pulse, µs (profile stepPulseUs ${m.stepPulseUs})`);
  set(1, 255, 'keep the drivers enabled between moves');
  set(2, 0, 'step pulse not inverted');
  const dirMask = axes.reduce((s, [, a], i) => s | (a.invertDir ? 1 << i : 0), 0);
  set(3, dirMask, 'direction invert mask from axes.*.invertDir (bit 0 X, 1 Y, 2 Z)');
  set(4, m.motors.enableActiveLow ? 0 : 1, `enable pin active ${m.motors.enableActiveLow ? 'low' : 'high'} (motors.enableActiveLow)`);
  const low = axes.filter(([, a]) => a.endstopActiveLow).length;
  if (low !== 0 && low !== 3) unmatched.push('axes.*.endstopActiveLow differ between axes: Grbl has one limit-pin invert bit ($5) for all');
  set(5, m.axes.x.endstopActiveLow ? 0 : 1, `limit switches active ${m.axes.x.endstopActiveLow ? 'low (pull-ups)' : 'high'} (axes.x.endstopActiveLow)`);
  set(6, 0, 'probe pin not inverted (unused)');
  set(10, 1, 'status reports machine position');
  set(11, m.motion.junctionDeviationMm, 'junction deviation, mm (motion.junctionDeviationMm)');
  set(12, 0.002, 'arc tolerance, mm (Grbl default)');
  set(13, 0, 'report in mm');
  axes.forEach(([n, a], i) => set(100 + i, a.stepsPerMm, `${n} steps/mm`));
  axes.forEach(([n, a], i) => set(110 + i, a.maxSpeedMmS * 60, `${n} max rate, mm/min (${a.maxSpeedMmS} mm/s)`));
  axes.forEach(([n, a], i) => set(120 + i, a.accelMmS2, `${n} acceleration, mm/s²`));
  axes.forEach(([n, a], i) => set(130 + i, a.travelMaxMm - a.travelMinMm, `${n} max travel, mm (travelMaxMm − travelMinMm)`));
  set(21, 1, 'hard limits on');
  set(22, 1, 'homing on (Grbl boots alarm-locked until $H)');
  const homeMask = axes.reduce((s, [, a], i) => s | (a.homing.toMax === true ? 0 : 1 << i), 0);
  set(23, homeMask, `homing direction mask: bit set = home towards min (${axes.map(([n, a]) => `${n} ${a.homing.toMax === true ? 'max' : 'min'}`).join(', ')})`);
  const x = m.axes.x;
  for (const [n, a] of axes.slice(1)) {
    if (a.homing.latchSpeedMmS !== x.homing.latchSpeedMmS) unmatched.push(`${n} homing latch ${a.homing.latchSpeedMmS} mm/s: Grbl has one homing feed ($24) for all axes; X's ${x.homing.latchSpeedMmS} mm/s is used`);
    if (a.homing.seekSpeedMmS !== x.homing.seekSpeedMmS) unmatched.push(`${n} homing seek ${a.homing.seekSpeedMmS} mm/s: Grbl has one seek rate ($25) for all axes (each capped at its own max rate); X's ${x.homing.seekSpeedMmS} mm/s is used`);
  }
  set(24, x.homing.latchSpeedMmS * 60, `homing feed (latch), mm/min (axes.x.homing.latchSpeedMmS ${x.homing.latchSpeedMmS} mm/s)`);
  set(25, x.homing.seekSpeedMmS * 60, `homing seek, mm/min (axes.x.homing.seekSpeedMmS ${x.homing.seekSpeedMmS} mm/s)`);
  set(26, 250, 'homing switch debounce, ms (Grbl default)');
  const pullOffMm = Math.max(...axes.map(([, a]) => a.homing.backoffMm));
  for (const [n, a] of axes) {
    if (a.homing.backoffMm !== pullOffMm) unmatched.push(`${n} homing backoff ${a.homing.backoffMm} mm: Grbl has one pull-off ($27) for all axes; ${num(pullOffMm)} mm (the largest) is used`);
  }
  set(27, pullOffMm, 'homing pull-off, mm (the largest axes.*.homing.backoffMm)');
  set(20, 1, 'soft limits on (needs homing; sent last)');
  return { lines, unmatched, pullOffMm };
}

/**
 * The G10 L2 P1 (G54) offset for stock Grbl 1.1 (no HOMING_FORCE_SET_ORIGIN): after `$H` an axis
 * homed towards min is at MPos −$13x + pull-off, one homed towards max at −pull-off, i.e. MPos 0
 * is the max end of the travel either way and the whole travel is [−$13x, 0]. Work = profile
 * coordinates: work = MPos − offset, so the offset is −travelMaxMm on every axis.
 */
export function grblWorkOffset(m: MachineProfile): [number, number, number] {
  return [-m.axes.x.travelMaxMm, -m.axes.y.travelMaxMm, -m.axes.z.travelMaxMm];
}
