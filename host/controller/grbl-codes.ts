/**
 * What Grbl 1.1's numeric answers mean, in words for the operator (from Grbl's own tables,
 * gnea/grbl doc/csv/error_codes_en_US.csv and alarm_codes_en_US.csv, v1.1h).
 */

const ERRORS: Record<number, string> = {
  1: 'expected command letter (a G-code word without its letter)',
  2: 'bad number format (a word without a valid value)',
  3: "invalid statement (a '$' command Grbl does not know)",
  4: 'value < 0 (a negative value where a positive one is expected)',
  5: 'setting disabled: homing is not enabled ($22)',
  6: 'value < 3 µs: the step pulse ($0) must be at least 3 µs',
  7: 'EEPROM read failed: Grbl restored the affected settings to their defaults',
  8: "not idle: '$' commands only work while Grbl is idle",
  9: 'G-code locked out: Grbl is in alarm or jog state (home with $H first)',
  10: 'soft limits ($20) cannot be enabled without homing ($22)',
  11: 'line too long: the line was not executed',
  12: "a '$' setting would make the step rate exceed 30 kHz",
  13: 'safety door opened',
  14: 'build info or startup line too long for the EEPROM: not stored',
  15: 'jog target exceeds the machine travel: jog ignored',
  16: "invalid jog command (no '=' or a prohibited G-code)",
  17: 'laser mode requires PWM output',
  20: 'unsupported or invalid G-code command in the block',
  21: 'more than one command of the same modal group in the block',
  22: 'feed rate not set',
  23: 'the command needs an integer value',
  24: 'more than one command that needs axis words in the block',
  25: 'a word is repeated in the block',
  26: 'no axis words for a command that needs them',
  27: 'invalid line number',
  28: 'a required value word is missing',
  29: 'G59.x work coordinate systems are not supported',
  30: 'G53 is only allowed with G0 and G1',
  31: 'axis words in a block where no command uses them',
  32: 'G2/G3 arcs need at least one in-plane axis word',
  33: 'invalid motion target (e.g. an arc Grbl cannot compute)',
  34: 'invalid arc radius',
  35: 'G2/G3 arcs need at least one in-plane offset word',
  36: 'unused value words in the block',
  37: 'G43.1 tool length offset is not on the configured axis',
  38: 'tool number above the supported maximum',
};

const ALARMS: Record<number, string> = {
  1: 'hard limit: a limit switch was hit while moving; the position is likely lost',
  2: 'soft limit: a motion target exceeds the machine travel; the position is retained',
  3: 'reset while in motion: the position is likely lost',
  4: 'probe fail: the probe was not in the expected state before probing',
  5: 'probe fail: the probe did not contact within the programmed travel',
  6: 'homing fail: the homing cycle was reset',
  7: 'homing fail: the safety door was opened while homing',
  8: 'homing fail: the pull-off did not clear the limit switch (raise $27 or check the wiring)',
  9: 'homing fail: a limit switch was not found within the search distance (check $130–$132, $27 and the wiring)',
  10: 'homing fail: the second switch of a dual axis did not trigger',
};

/** `error:N` in words, e.g. "error:9 (G-code locked out: …)". */
export function grblErrorText(code: number): string {
  return `error:${code} (${ERRORS[code] ?? 'unknown error code'})`;
}

/** `ALARM:N` in words. */
export function grblAlarmText(code: number): string {
  return `ALARM:${code} (${ALARMS[code] ?? 'unknown alarm code'})`;
}
