/**
 * Pins a board must not be given (docs/targets.md, Wiring): configuring an ESP32's SPI-flash pins
 * as outputs crashes the chip; on an ESP8266 NodeMCU's indices 9/10 are the UART the link runs on
 * and 11/12 the flash. A real flash refuses such a profile; a dry run warns (it only writes files).
 */
import { UserError } from '../errors';
import type { MachineProfile } from '../../shared/machine';
import type { RingProfile } from '../../shared/geometry/ring';

const RESERVED: Record<string, Record<number, string>> = {
  ESP32: { 6: 'SPI flash', 7: 'SPI flash', 8: 'SPI flash', 9: 'SPI flash', 10: 'SPI flash', 11: 'SPI flash' },
  ESP8266: { 9: 'UART 0 RX (the link)', 10: 'UART 0 TX (the link)', 11: 'SPI flash', 12: 'SPI flash' },
};

/** Every pin the profile uses, with the field that names it. */
export function profilePins(m: MachineProfile | RingProfile): [string, number][] {
  const out: [string, number][] = [];
  const add = (field: string, pin: unknown) => {
    if (typeof pin === 'number') out.push([field, pin]);
  };
  const any = m as unknown as Record<string, Record<string, unknown>>;
  if (m.kind === 'ring') {
    const r = m as RingProfile;
    for (const [k, v] of Object.entries(r.ring.pins)) add(`ring.pins.${k}`, v);
    add('arm.pin', r.arm.pin);
  } else {
    const g = m as MachineProfile;
    for (const a of ['x', 'y', 'z'] as const) for (const [k, v] of Object.entries(g.axes[a].pins)) add(`axes.${a}.pins.${k}`, v);
  }
  add('motors.enablePin', any.motors?.enablePin);
  return out;
}

/** Refuse (or with `warnOnly`, report through `warn`) profile pins the board reserves. */
export function checkBoardPins(m: MachineProfile | RingProfile, machinePath: string, board: string, warnOnly: boolean, warn: (line: string) => void): void {
  const reserved = RESERVED[board.toUpperCase()];
  if (!reserved) return;
  const bad = profilePins(m).filter(([, pin]) => reserved[pin] !== undefined);
  if (bad.length === 0) return;
  const list = bad.map(([field, pin]) => `${field} = ${pin} (${reserved[pin]})`).join(', ');
  const text = `${machinePath} uses pins the ${board.toUpperCase()} reserves: ${list}; give those signals other pins in the profile (docs/targets.md, Wiring)`;
  if (warnOnly) warn(`warning: ${text}`);
  else throw new UserError(`flash: ${text}`);
}
