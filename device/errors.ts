/**
 * Runtime alarm codes. Every alarm stops motion at once and requires homing again
 * (docs/runtime.md, "Alarms"). The numbers are stable: hosts and docs refer to them.
 */
export const ERR_NONE = 0;
export const ERR_HOMING_FAILED = 1;
export const ERR_ENDSTOP_STUCK = 2;
export const ERR_SOFT_LIMIT = 3;
export const ERR_NOT_HOMED = 4;
export const ERR_STREAM = 5;
export const ERR_HOOK_COUNT = 6;
export const ERR_INPUT_OVERFLOW = 7;
export const ERR_ENDSTOP_HIT = 8;
export const ERR_BAD_PROFILE = 9;
export const ERR_MACHINE_MISMATCH = 10;
export const ERR_PILE_FULL = 11;

export function runtimeErrorName(code: number): string {
  if (code === ERR_NONE) return 'none';
  if (code === ERR_HOMING_FAILED) return 'homing-failed';
  if (code === ERR_ENDSTOP_STUCK) return 'endstop-stuck';
  if (code === ERR_SOFT_LIMIT) return 'soft-limit';
  if (code === ERR_NOT_HOMED) return 'not-homed';
  if (code === ERR_STREAM) return 'stream-error';
  if (code === ERR_HOOK_COUNT) return 'hook-count-mismatch';
  if (code === ERR_INPUT_OVERFLOW) return 'input-overflow';
  if (code === ERR_ENDSTOP_HIT) return 'endstop-hit';
  if (code === ERR_BAD_PROFILE) return 'bad-profile';
  if (code === ERR_MACHINE_MISMATCH) return 'machine-mismatch';
  if (code === ERR_PILE_FULL) return 'pile-full';
  return 'unknown';
}

export function runtimeErrorText(code: number): string {
  if (code === ERR_NONE) return 'no error';
  if (code === ERR_HOMING_FAILED) return 'homing failed: the endstop did not trigger within the axis travel';
  if (code === ERR_ENDSTOP_STUCK) return 'endstop still pressed after backing off';
  if (code === ERR_SOFT_LIMIT) return 'target outside the axis travel (soft limit); nothing was moved';
  if (code === ERR_NOT_HOMED) return 'stream or motion before homing';
  if (code === ERR_STREAM) return 'stream decoder error (detail = decoder code)';
  if (code === ERR_HOOK_COUNT) return 'stream hook count differs from the machine profile';
  if (code === ERR_INPUT_OVERFLOW) return 'byte fed while the runtime could not accept input';
  if (code === ERR_ENDSTOP_HIT) return 'endstop triggered during a move (lost steps or crash)';
  if (code === ERR_BAD_PROFILE) return 'machine profile failed the device check';
  if (code === ERR_MACHINE_MISMATCH) return 'the stream was made for another machine profile (header hash differs)';
  if (code === ERR_PILE_FULL) return 'the thread pile would reach the hook heads: the hooks are full';
  return 'unknown error ' + code;
}
