/**
 * `hookline gcode --settings`: the firmware settings that match a gantry profile, as lines to send
 * (Grbl `$N=V`, Marlin `M92`/`M203`/`M201`/`M205`/`M500`), with what cannot be matched stated in
 * comments (docs/gcode.md "Firmware settings").
 */
import type { MachineProfile } from '../../shared/machine';
import type { Dialect } from './generate';
import { grblSettings } from './grbl-settings';

function n(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

export function firmwareSettings(m: MachineProfile, dialect: Dialect, profileFile: string): string {
  const { x, y, z } = m.axes;
  const out: string[] = [];
  if (dialect === 'grbl') {
    const s = grblSettings(m);
    out.push(`; Grbl 1.1 settings for ${profileFile} (${m.name}): send one at a time (wait for ok), then power-cycle or reset`);
    out.push(...s.lines);
    for (const u of s.unmatched) out.push(`; not matched: ${u}`);
  } else {
    out.push(`; Marlin 2 settings for ${profileFile} (${m.name}): runtime values, saved with M500 (needs EEPROM_SETTINGS)`);
    out.push(`M92 X${n(x.stepsPerMm)} Y${n(y.stepsPerMm)} Z${n(z.stepsPerMm)} ; steps/mm`);
    out.push(`M203 X${n(x.maxSpeedMmS)} Y${n(y.maxSpeedMmS)} Z${n(z.maxSpeedMmS)} ; max feedrate, mm/s`);
    out.push(`M201 X${n(x.accelMmS2)} Y${n(y.accelMmS2)} Z${n(z.accelMmS2)} ; max acceleration, mm/s²`);
    out.push(`M205 J${n(m.motion.junctionDeviationMm)} ; junction deviation, mm (without CLASSIC_JERK)`);
    out.push('M500 ; save');
    out.push(`; not matched at run time (Configuration.h, build time): X/Y/Z_MIN_POS..X/Y/Z_MAX_POS = the travel (X ${x.travelMinMm}..${x.travelMaxMm}, Y ${y.travelMinMm}..${y.travelMaxMm}, Z ${z.travelMinMm}..${z.travelMaxMm}), X/Y/Z_HOME_DIR (${[x, y, z].map((a) => (a.homing.toMax === true ? 1 : -1)).join(', ')}), the endstop polarity (*_ENDSTOP_HIT_STATE), INVERT_*_DIR, HOMING_FEEDRATE_MM_M, *_HOME_BUMP_MM and MINIMUM_STEPPER_PULSE (${m.stepPulseUs} µs)`);
  }
  return out.join('\n') + '\n';
}
