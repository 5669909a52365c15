/**
 * Constants of the nail-index stream, format versions 1, 4 and 5. The layouts are specified in
 * docs/stream-format.md; this file only names the numbers.
 */
export const MAGIC_0 = 0x48; // 'H'
export const MAGIC_1 = 0x4b; // 'K'
export const MAGIC_2 = 0x4c; // 'L'
export const MAGIC_3 = 0x53; // 'S'
/**
 * Format 4, the chunked range-coded layout over hook indices (it also reads version 1). Formats 2
 * and 3 were the same layout with a 7-level model (127 tree nodes); the model now has 4 levels,
 * which codes the bench plans as small and keeps the decoder's state under 1 KB, and a decoder
 * must refuse the old ones rather than misread them.
 */
export const FORMAT_VERSION = 4;
export const FORMAT_VERSION_1 = 1;
/**
 * Format 5: format 4's layout and coding, byte for byte, with one change of meaning: the coded
 * indices are hook *flanks* (hookCount = 2 × the machine's hooks; index v is hook v >> 1 touched on
 * flank v & 1, which fixes its winding direction). A format 4 decoder must not read it as hooks.
 */
export const FORMAT_VERSION_FLANKS = 5;
/** Formats 2 and 3: retired (7-level model); refused with ERR_RETIRED so the user re-encodes. */
export const FORMAT_RETIRED_2 = 2;
export const FORMAT_RETIRED_3 = 3;
/** Minor version written by this encoder. Decoders accept every minor version of a major they know. */
export const FORMAT_MINOR = 0;

/** Version 1: magic(4) version(1) flags(1) hookCount(2) lineCount(4) colorCount(1) */
export const HEADER_FIXED_BYTES = 13;
/** Formats 4 and 5: magic(4) major(1) minor(1) headerLength(2) machineHash(4) hookCount(2) hookTotal(4)
 * chunkHooks(2) shift(1) priorLevels(1) colorCount(1) */
export const HEADER2_FIXED_BYTES = 23;
export const MAX_COLORS = 16;
export const MAX_HOOKS = 0x7fff;

/** Version 1 body: a byte below OP_HOOK_LIMIT starts a 2-byte hook index (15 bits, big-endian). */
export const OP_HOOK_LIMIT = 0x80;
export const OP_COLOR = 0xc0;
export const OP_END = 0xff;

/** Chunked formats (4, 5): chunk sync marker (2 bytes) and the index that marks the end record. */
export const SYNC_0 = 0xc3;
export const SYNC_1 = 0x5a;
export const END_INDEX = 0xffff;
/** Chunked formats' model: 12-bit probabilities, dist tree of TREE_LEVELS modelled levels. */
export const PROB_BITS = 12;
export const PROB_ONE = 4096;
export const TREE_LEVELS = 4;
/** Model table layout: [1..15] dist tree nodes, then the two direction contexts, then escape. */
export const M_DIR = 16;
export const M_ESC = 18;
export const MODEL_SIZE = 19;
/** Initial probability of "no colour change here" in a chunk that has colour changes. */
export const ESC_INIT = 4000;
export const MIN_SHIFT = 1;
export const MAX_SHIFT = 7;
/** Range coder: normalise (shift in a byte) whenever range < RC_TOP; range starts at RC_INIT. */
export const RC_TOP = 0x800000;
export const RC_INIT = 0x7fffffff;

export const EV_NONE = 0;
export const EV_HEADER = 1;
export const EV_HOOK = 2;
export const EV_COLOR = 3;
export const EV_END = 4;
/** Chunked formats: a chunk's CRC verified; `chunkIndex` names it. Every hook before it is now verified. */
export const EV_CHUNK = 5;

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
/** Only reported by whole-buffer helpers: the bytes ended before the end of the stream. */
export const ERR_TRUNCATED = -11;
export const ERR_CHUNK_INDEX = -12;
export const ERR_MACHINE = -13;
export const ERR_OVERRUN = -14;
export const ERR_SYNC = -15;
export const ERR_BODY = -16;
/** A retired major version (2 or 3): written by an older hookline, re-encode the plan. */
export const ERR_RETIRED = -17;

/** Errors confined to one chunk of a chunked (format 4 or 5) stream: resync() can skip to the next chunk. */
export function isChunkError(code: number): boolean {
  return code === ERR_BODY_CRC || code === ERR_CHUNK_INDEX || code === ERR_SYNC || code === ERR_BODY || code === ERR_COLOR_RANGE;
}

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
  if (code === ERR_TRUNCATED) return 'truncated (no end of stream)';
  if (code === ERR_CHUNK_INDEX) return 'unexpected chunk index';
  if (code === ERR_MACHINE) return 'stream is for another machine profile';
  if (code === ERR_OVERRUN) return 'byte pushed before the previous byte\'s events were taken with next()';
  if (code === ERR_SYNC) return 'chunk sync marker missing';
  if (code === ERR_BODY) return 'corrupt chunk body';
  if (code === ERR_RETIRED) return 'retired stream format version (2 or 3, written by an older hookline)';
  return 'unknown error ' + code;
}
