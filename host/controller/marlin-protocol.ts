/**
 * Marlin 2.x's serial protocol as its source has it (Marlin/src/gcode/queue.cpp, language.h): each
 * line `N<n> <gcode>*<checksum>` (the checksum is the XOR of every byte before `*`), numbering set by
 * `M110 N0`; a line whose number is not last+1 or whose checksum differs is refused with
 * `Error:Line Number is not Last Line Number+1, Last Line: L` / `Error:checksum mismatch, Last Line: L`,
 * then `Resend: L+1`, then an `ok` that answers no line. Pure functions, so that the framing and the
 * reading of Marlin's answers can be checked without a port.
 */

/** Marlin's command queue (BUFSIZE in Configuration_adv.h, 4 by default). */
export const MARLIN_BUFSIZE = 4;

/** XOR of the bytes of `s` (Marlin: `while (count) checksum ^= command[--count]`). */
export function marlinChecksum(s: string): number {
  let c = 0;
  for (let i = 0; i < s.length; i++) c ^= s.charCodeAt(i) & 0xff;
  return c;
}

/** `N<n> <text>*<checksum>` (without the newline). */
export function frameLine(n: number, text: string): string {
  const body = `N${n} ${text}`;
  return `${body}*${marlinChecksum(body)}`;
}

/**
 * What Marlin's get_serial_commands() makes of a received line, given the last good number: the
 * command and its number, or the error it answers. For tests (the fake) and as documentation.
 */
export function checkFramedLine(line: string, lastN: number): { ok: true; n: number | null; command: string } | { ok: false; error: 'line' | 'checksum' | 'no-checksum' } {
  const command = line.replace(/^ +/, '');
  if (!command.startsWith('N')) return { ok: true, n: null, command };
  const isM110 = command.includes('M110');
  let npos = 0;
  if (isM110) {
    const n2 = command.indexOf('N', 4);
    if (n2 >= 0) npos = n2;
  }
  const n = parseInt(command.slice(npos + 1), 10) || 0;
  if (n !== lastN + 1 && !isM110) return { ok: false, error: 'line' };
  const star = command.lastIndexOf('*');
  if (star < 0) return { ok: false, error: 'no-checksum' };
  if ((parseInt(command.slice(star + 1), 10) || 0) !== marlinChecksum(command.slice(0, star))) return { ok: false, error: 'checksum' };
  const text = command.slice(0, star).replace(/^N-?\d+\s*/, '');
  return { ok: true, n, command: text };
}

/** One line from Marlin, classified. */
export type MarlinLine =
  | { kind: 'ok' }
  | { kind: 'resend'; n: number }
  /** A refused line (its Resend follows). */
  | { kind: 'line-error'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'busy'; text: string }
  | { kind: 'start' }
  | { kind: 'firmware'; name: string; version: string; text: string }
  | { kind: 'cap'; name: string; on: boolean }
  | { kind: 'unknown-command'; command: string }
  | { kind: 'position'; count: [number, number, number]; xyz: [number, number, number] | null }
  | { kind: 'echo'; text: string }
  | { kind: 'other'; text: string };

export function parseMarlinLine(raw: string): MarlinLine {
  const line = raw.trim();
  if (/^ok\b/.test(line)) return { kind: 'ok' };
  const rs = /^(?:Resend:|rs)\s*N?(\d+)/i.exec(line);
  if (rs) return { kind: 'resend', n: Number(rs[1]) };
  if (/^Error:\s*(?:Line Number is not Last Line Number\+1|checksum mismatch|No Checksum with line number)/i.test(line)) return { kind: 'line-error', text: line.slice(6).trim() };
  if (/^(?:Error:|!!)/.test(line)) return { kind: 'error', text: line.replace(/^(?:Error:|!!)\s*/, '') };
  const busy = /^(?:echo:)?\s*busy:\s*(.*)$/.exec(line);
  if (busy) return { kind: 'busy', text: busy[1] };
  if (line === 'start') return { kind: 'start' };
  const fw = /FIRMWARE_NAME:\s*(\S+)(?:\s+([^\s(:]+)(?=\s|$))?/.exec(line);
  if (fw) return { kind: 'firmware', name: fw[1], version: fw[2] ?? '', text: line };
  const cap = /^Cap:([A-Z0-9_]+):([01])$/.exec(line);
  if (cap) return { kind: 'cap', name: cap[1], on: cap[2] === '1' };
  const unk = /^echo:\s*Unknown command:\s*"(.*)"?$/.exec(line);
  if (unk) return { kind: 'unknown-command', command: unk[1].replace(/"$/, '') };
  const count = /Count\s+X:\s*(-?\d+)\s+Y:\s*(-?\d+)\s+Z:\s*(-?\d+)/.exec(line);
  if (count) {
    const xyz = /^X:\s*(-?[\d.]+)\s+Y:\s*(-?[\d.]+)\s+Z:\s*(-?[\d.]+)/.exec(line);
    return { kind: 'position', count: [Number(count[1]), Number(count[2]), Number(count[3])], xyz: xyz ? [Number(xyz[1]), Number(xyz[2]), Number(xyz[3])] : null };
  }
  if (line.startsWith('echo:')) return { kind: 'echo', text: line.slice(5).trim() };
  return { kind: 'other', text: line };
}

/** Marlin's errors and kill messages in words (its own text first). */
export function marlinErrorText(text: string): string {
  if (/kill\(\) called/i.test(text)) return `Marlin halted ('${text}'): kill() stops everything; reset or power-cycle the controller (M999 does not clear a kill)`;
  if (/Printer stopped due to errors/i.test(text)) return `Marlin stopped itself after an error ('${text.slice(0, 60)}…'): find the cause in the lines before it, then M999 or a reset`;
  if (/Homing Failed/i.test(text)) return `Marlin's homing failed ('${text}'): an endstop was not reached; check the switches and their wiring`;
  if (/MINTEMP|MAXTEMP|THERMAL RUNAWAY|Heating failed/i.test(text)) return `Marlin raised a temperature error ('${text}'): this build expects a heater or thermistor; a string-art gantry needs a build without them (or TEMP_SENSOR_* 0)`;
  return `Marlin said 'Error:${text}'`;
}

/** Why a Marlin build may not know a command the job sends. */
export function unknownCommandText(command: string): string {
  const word = command.trim().split(/\s+/)[0] ?? command;
  const why: Record<string, string> = {
    G2: 'arcs need ARC_SUPPORT in Configuration_adv.h',
    G3: 'arcs need ARC_SUPPORT in Configuration_adv.h',
    M0: 'M0 needs EMERGENCY_PARSER, an LCD or HOST_PROMPT_SUPPORT',
    M280: 'the servo lift needs NUM_SERVOS ≥ 1 in Configuration.h',
    M410: 'quick stop is always built in; this is not a stock Marlin 2',
  };
  return `Marlin does not know '${command}'${why[word] ? ` (${why[word]})` : ''}`;
}
