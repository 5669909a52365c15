import { FORMAT_VERSION_1, HEADER2_FIXED_BYTES, HEADER_FIXED_BYTES } from './format';

/**
 * The palette (0xRRGGBB per colour) from the header of a stream whose header the decoder has
 * accepted (EV_HEADER). The decoder does not keep it: the machine only needs colour indices, and
 * 16 colours would be a third of the decoder's state. Format 1: count at byte 12, colours from 13;
 * formats 4 and 5: count at byte 22, colours from 23 (docs/stream-format.md).
 */
export function streamPalette(bytes: ArrayLike<number>): number[] {
  const v1 = bytes[4] === FORMAT_VERSION_1;
  const countAt = v1 ? HEADER_FIXED_BYTES - 1 : HEADER2_FIXED_BYTES - 1;
  const colors: number[] = [];
  for (let i = 0; i < bytes[countAt]; i++) {
    const at = countAt + 1 + 3 * i;
    colors.push(bytes[at] * 65536 + bytes[at + 1] * 256 + bytes[at + 2]);
  }
  return colors;
}
