/** Constants of the nail-index stream, version 1. The layout is specified in docs/stream-format.md. */
export const MAGIC_0 = 0x48; // 'H'
export const MAGIC_1 = 0x4b; // 'K'
export const MAGIC_2 = 0x4c; // 'L'
export const MAGIC_3 = 0x53; // 'S'
export const FORMAT_VERSION = 1;

/** magic(4) version(1) flags(1) hookCount(2) lineCount(4) colorCount(1) */
export const HEADER_FIXED_BYTES = 13;
export const MAX_COLORS = 16;
export const MAX_HOOKS = 0x7fff;

/** A body byte below OP_HOOK_LIMIT starts a 2-byte hook index (15 bits, big-endian). */
export const OP_HOOK_LIMIT = 0x80;
export const OP_COLOR = 0xc0;
export const OP_END = 0xff;

export const EV_NONE = 0;
export const EV_HEADER = 1;
export const EV_HOOK = 2;
export const EV_COLOR = 3;
export const EV_END = 4;

export const ERR_BAD_MAGIC = -1;
export const ERR_VERSION = -2;
export const ERR_HEADER_CRC = -3;
export const ERR_HOOK_RANGE = -4;
export const ERR_UNKNOWN_OP = -5;
export const ERR_BODY_CRC = -6;
export const ERR_AFTER_END = -7;
export const ERR_BAD_HEADER = -8;
export const ERR_COLOR_RANGE = -9;
export const ERR_LINE_COUNT = -10;

export function streamErrorText(code: number): string {
  if (code === ERR_BAD_MAGIC) return 'bad magic: not a hookline stream';
  if (code === ERR_VERSION) return 'unsupported stream format version';
  if (code === ERR_HEADER_CRC) return 'header CRC mismatch';
  if (code === ERR_HOOK_RANGE) return 'hook index out of range';
  if (code === ERR_UNKNOWN_OP) return 'unknown operation';
  if (code === ERR_BODY_CRC) return 'body CRC mismatch';
  if (code === ERR_AFTER_END) return 'data after end of stream';
  if (code === ERR_BAD_HEADER) return 'invalid header field';
  if (code === ERR_COLOR_RANGE) return 'colour index out of range';
  if (code === ERR_LINE_COUNT) return 'line count does not match the header';
  return 'unknown error ' + code;
}
