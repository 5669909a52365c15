/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).
 * Bitwise form: no table, so it costs 0 bytes of RAM on the device. Values stay within 16 bits,
 * so the same code is exact in ES5 and in Lua 5.3 integers.
 */
export const CRC16_INIT = 0xffff;

export function crc16Update(crc: number, byte: number): number {
  let c = (crc ^ (byte << 8)) & 0xffff;
  for (let i = 0; i < 8; i++) {
    if ((c & 0x8000) !== 0) c = ((c << 1) ^ 0x1021) & 0xffff;
    else c = (c << 1) & 0xffff;
  }
  return c;
}

export function crc16(bytes: ArrayLike<number>, start: number, end: number): number {
  let c = CRC16_INIT;
  for (let i = start; i < end; i++) c = crc16Update(c, bytes[i]);
  return c;
}
