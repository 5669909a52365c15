import { CRC16_INIT, crc16Update } from '../crc16';
import { bitLength } from '../bits';
import { intTable } from '../number-table';
import {
  EV_CHUNK, EV_COLOR, EV_END, EV_HEADER, EV_HOOK, EV_NONE,
  ERR_AFTER_END, ERR_BAD_HEADER, ERR_BAD_MAGIC, ERR_BODY, ERR_BODY_CRC, ERR_CHUNK_INDEX, ERR_COLOR_RANGE,
  ERR_HEADER_CRC, ERR_HOOK_RANGE, ERR_LINE_COUNT, ERR_MACHINE, ERR_OVERRUN, ERR_RETIRED, ERR_SYNC, ERR_UNKNOWN_OP, ERR_VERSION,
  END_INDEX, ESC_INIT, FORMAT_RETIRED_2, FORMAT_RETIRED_3, FORMAT_VERSION, FORMAT_VERSION_1, FORMAT_VERSION_FLANKS,
  HEADER2_FIXED_BYTES, M_DIR, M_ESC, MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, MAX_COLORS, MAX_SHIFT, MIN_SHIFT, MODEL_SIZE,
  OP_COLOR, OP_END, OP_HOOK_LIMIT, PROB_ONE, RC_INIT, RC_TOP, SYNC_0, SYNC_1, TREE_LEVELS, isChunkError,
} from './format';

export { EV_NONE, EV_HEADER, EV_HOOK, EV_COLOR, EV_END, EV_CHUNK };

// Byte states. The magic and version byte are common; then the version decides.
const S_PREFIX = 0;
const S_FAILED = 1;
const S_DONE = 2;
// version 1
const S1_HEADER = 10;
const S1_COLORS = 11;
const S1_HEADER_CRC = 12;
const S1_OP = 13;
const S1_HOOK_LOW = 14;
const S1_COLOR_INDEX = 15;
const S1_BODY_CRC = 16;
// formats 4 and 5, byte states
const S2_HEADER = 20;
const S2_CHUNK = 21; // sync(2) index(2) firstLine(4) events(1) bodyLength(2)
const S2_INIT = 22; // the range coder's first 4 bytes
const S2_CRC = 23;
const S2_SCAN = 24; // resync: looking for a sync marker
const S2_SKIP = 25; // resync: skipping the rest of a damaged chunk whose end is known
// formats 4 and 5, body states (binary decisions; bytes are shifted in while range < RC_TOP)
const S2_SELECT = 30;
const S2_ESC = 31;
const S2_COLOR = 32;
const S2_FIRST = 33;
const S2_DIST = 34;
const S2_DIR = 35;
/** Internal: bodyStep needs another byte (never returned by push or next). */
const NEED_BYTE = 100;

// The decoder's whole state is one table of 32-bit integers (an Int32Array where the platform has
// typed arrays, one exact-size Lua table otherwise): these are its slots. See "Device cost" in
// docs/stream-format.md for why it is not a set of object fields.
const enum D {
  STATE = 0,
  POS = 1,
  ACC = 2,
  CRC = 3,
  /** The pushed byte not yet consumed, or -1. */
  IN = 4,
  ERROR = 5,
  VERSION = 6,
  MINOR = 7,
  HASH = 8,
  EXPECT = 9,
  HOOK_COUNT = 10,
  /** Hook operations in the path (format 1: the header's line count + 1). */
  HOOK_TOTAL = 11,
  COLOR_COUNT = 12,
  /** The last hook decoded; also the previous hook that the next distance starts from. */
  HOOK = 13,
  COLOR = 14,
  SEEN = 15,
  CHUNK_HOOKS = 16,
  CHUNK_COUNT = 17,
  CHUNK = 18,
  SHIFT = 19,
  PRIOR_LEVELS = 20,
  NEXT_CHUNK = 21,
  RESYNCING = 22,
  EVENTS_LEFT = 23,
  FIRST_IN_CHUNK = 24,
  PREV_DIR = 25,
  /** The bit being decoded of a value (-1: done), and its tree node. */
  BIT = 26,
  NODE = 27,
  RANGE = 28,
  CODE = 29,
  DIST_BITS = 30,
  /** Body bytes still to come in this chunk; after a chunk error, bytes to skip to the next chunk
   * (-1: unknown, scan for a sync marker). */
  BODY_LEFT = 31,
  /** While the header is read (no body yet), the same slot holds the header's length. */
  HEADER_LENGTH = 31,
  /** The model (MODEL_SIZE entries, prior byte above 12 probability bits: q * 4096 + p). */
  MODEL = 32,
}
const STATE_SIZE = D.MODEL + MODEL_SIZE;

/** Header and progress values for StreamDecoder.get(): the slots a caller may read. */
export const enum DecoderField {
  /** Major format version (after the version byte). */
  VERSION = D.VERSION,
  MINOR = D.MINOR,
  /** 31-bit hash of the machine profile the stream was made for; 0 = any machine (format 1: 0). */
  MACHINE_HASH = D.HASH,
  /** Indices the stream names: hooks, or (format 5) flanks. */
  HOOK_COUNT = D.HOOK_COUNT,
  HOOK_TOTAL = D.HOOK_TOTAL,
  COLOR_COUNT = D.COLOR_COUNT,
  HOOKS_SEEN = D.SEEN,
  CHUNK_HOOKS = D.CHUNK_HOOKS,
  CHUNK_COUNT = D.CHUNK_COUNT,
  /** The current chunk; its first hook operation is CHUNK_INDEX × CHUNK_HOOKS in the path. */
  CHUNK_INDEX = D.CHUNK,
  SHIFT = D.SHIFT,
  PRIOR_LEVELS = D.PRIOR_LEVELS,
  EXPECT_MACHINE = D.EXPECT,
}

/**
 * Byte-at-a-time decoder for the nail-index stream, formats 1, 4 and 5 (docs/stream-format.md).
 *
 * push(byte) gives it one byte and returns the first event that byte completes. In formats 4 and 5
 * one byte can complete several operations: call next() until it returns EV_NONE (or an error)
 * before pushing the next byte; pushing earlier is ERR_OVERRUN. In format 1 next() always returns
 * EV_NONE. What an event carries is read with the accessors (hook(), color(), get(field), ...).
 *
 * State: 51 integers in one table (32 scalars and the 19-entry model), all within 32 bits; the palette is not kept
 * (streamPalette on the host reads it from the header). Nothing is allocated per byte. After an
 * error every further call returns the same error until reset(), or, for errors confined to one
 * chunk, resync().
 */
export class StreamDecoder {
  private s: number[] = intTable(STATE_SIZE);

  constructor() {
    this.reset();
  }

  /** Forget the stream (the expected machine stays). */
  reset(): void {
    const s = this.s;
    const expect = s[D.EXPECT];
    for (let i = 0; i < STATE_SIZE; i++) s[i] = 0;
    s[D.EXPECT] = expect;
    s[D.STATE] = S_PREFIX;
    s[D.CRC] = CRC16_INIT;
    s[D.IN] = -1;
    s[D.FIRST_IN_CHUNK] = 1;
  }

  // ---- what the events carry ------------------------------------------------------------------

  /** Indices per machine hook: 1 (formats 1, 4: an index is a hook) or 2 (format 5: index v is
   * hook v >> 1 on flank v & 1; hookCount counts flanks). */
  flanks(): number { return this.s[D.VERSION] === FORMAT_VERSION_FLANKS ? 2 : 1; }
  lineCount(): number { return this.s[D.HOOK_TOTAL] > 0 ? this.s[D.HOOK_TOTAL] - 1 : 0; }
  /** EV_HOOK: the hook (format 5: flank) index. */
  hook(): number { return this.s[D.HOOK]; }
  /** EV_COLOR: the palette index of the colour that starts here. */
  color(): number { return this.s[D.COLOR]; }
  /** The error code after an error (< 0), else 0. */
  error(): number { return this.s[D.ERROR]; }
  /** Any other header or progress value (DecoderField); one method instead of ten saves device RAM. */
  get(field: DecoderField): number { return this.s[field]; }
  /** When not 0, a format 4/5 header with a different non-zero machine hash is refused (ERR_MACHINE). */
  setExpectMachine(hash: number): void { this.s[D.EXPECT] = hash; }

  private fail(code: number): number {
    const s = this.s;
    s[D.STATE] = S_FAILED;
    s[D.ERROR] = code;
    s[D.IN] = -1;
    return code;
  }

  /** A chunk error inside a body whose length is known: resync() can skip exactly to the next chunk. */
  private failInBody(code: number): number {
    const s = this.s;
    s[D.BODY_LEFT] = s[D.BODY_LEFT] + 2 - (s[D.IN] >= 0 ? 1 : 0);
    return this.fail(code);
  }

  /**
   * After a chunk error (isChunkError) in a format 4/5 stream: drop the rest of that chunk and go
   * on with the next one: exactly when the damaged chunk's length was read, else by scanning for
   * the next sync marker. Returns false (and changes nothing) for other errors.
   */
  resync(): boolean {
    const s = this.s;
    if (s[D.STATE] !== S_FAILED || !this.chunked() || !isChunkError(s[D.ERROR])) return false;
    s[D.ERROR] = 0;
    s[D.RESYNCING] = 1;
    const skip = s[D.BODY_LEFT];
    this.enterChunk();
    if (skip < 0) s[D.STATE] = S2_SCAN;
    else if (skip > 0) {
      s[D.STATE] = S2_SKIP;
      s[D.POS] = skip;
    }
    return true;
  }

  /** Formats 4 and 5, after EV_HEADER: the next chunk to arrive is chunk `index` (resume a stream there). */
  resumeAt(index: number): boolean {
    const s = this.s;
    if (!this.chunked() || s[D.STATE] !== S2_CHUNK || s[D.POS] !== 0 || index < 0 || index >= s[D.CHUNK_COUNT]) return false;
    s[D.NEXT_CHUNK] = index;
    s[D.SEEN] = index * s[D.CHUNK_HOOKS];
    return true;
  }

  push(byte: number): number {
    const s = this.s;
    const st = s[D.STATE];
    if (st === S_FAILED) return s[D.ERROR];
    if (st === S_DONE) return this.fail(ERR_AFTER_END);
    if (st >= S2_HEADER) {
      if (s[D.IN] >= 0) return this.fail(ERR_OVERRUN);
      s[D.IN] = byte;
      return this.next();
    }
    if (st === S_PREFIX) return this.prefixByte(byte);
    return this.push1(byte);
  }

  /** The next event from bytes already pushed; EV_NONE when the decoder needs another byte. */
  next(): number {
    const s = this.s;
    for (;;) {
      const st = s[D.STATE];
      if (st < S2_HEADER) return st === S_FAILED ? s[D.ERROR] : EV_NONE;
      if (st >= S2_SELECT) {
        const ev = this.bodyStep();
        if (ev === NEED_BYTE) return EV_NONE;
        if (ev !== EV_NONE) return ev;
      } else {
        const byte = s[D.IN];
        if (byte < 0) return EV_NONE;
        s[D.IN] = -1;
        const ev = this.byte2(byte);
        if (ev !== EV_NONE) return ev;
      }
    }
  }

  /** Chunked, range-coded layout (formats 4 and 5). */
  private chunked(): boolean {
    const v = this.s[D.VERSION];
    return v === FORMAT_VERSION || v === FORMAT_VERSION_FLANKS;
  }

  // ---- common prefix: magic and major version -------------------------------------------------

  private prefixByte(byte: number): number {
    const s = this.s;
    const p = s[D.POS];
    s[D.POS] = p + 1;
    s[D.CRC] = crc16Update(s[D.CRC], byte);
    if (p === 0 && byte !== MAGIC_0) return this.fail(ERR_BAD_MAGIC);
    if (p === 1 && byte !== MAGIC_1) return this.fail(ERR_BAD_MAGIC);
    if (p === 2 && byte !== MAGIC_2) return this.fail(ERR_BAD_MAGIC);
    if (p === 3 && byte !== MAGIC_3) return this.fail(ERR_BAD_MAGIC);
    if (p === 4) {
      s[D.VERSION] = byte;
      if (byte === FORMAT_VERSION_1) s[D.STATE] = S1_HEADER;
      else if (byte === FORMAT_VERSION || byte === FORMAT_VERSION_FLANKS) s[D.STATE] = S2_HEADER;
      else if (byte === FORMAT_RETIRED_2 || byte === FORMAT_RETIRED_3) return this.fail(ERR_RETIRED);
      else return this.fail(ERR_VERSION);
    }
    return EV_NONE;
  }

  // ---- version 1 ------------------------------------------------------------------------------

  private push1(byte: number): number {
    const s = this.s;
    const st = s[D.STATE];
    if (st !== S1_HEADER_CRC && st !== S1_BODY_CRC) s[D.CRC] = crc16Update(s[D.CRC], byte);

    if (st === S1_OP) {
      if (byte < OP_HOOK_LIMIT) {
        s[D.ACC] = byte;
        s[D.STATE] = S1_HOOK_LOW;
        return EV_NONE;
      }
      if (byte === OP_COLOR) {
        s[D.STATE] = S1_COLOR_INDEX;
        return EV_NONE;
      }
      if (byte === OP_END) {
        const lines = this.lineCount();
        if (s[D.SEEN] === 0 ? lines !== 0 : s[D.SEEN] - 1 !== lines) return this.fail(ERR_LINE_COUNT);
        s[D.STATE] = S1_BODY_CRC;
        s[D.POS] = 0;
        s[D.ACC] = 0;
        return EV_NONE;
      }
      return this.fail(ERR_UNKNOWN_OP);
    }
    if (st === S1_HOOK_LOW) {
      const h = s[D.ACC] * 256 + byte;
      if (h >= s[D.HOOK_COUNT]) return this.fail(ERR_HOOK_RANGE);
      s[D.HOOK] = h;
      s[D.SEEN]++;
      s[D.STATE] = S1_OP;
      return EV_HOOK;
    }
    if (st === S1_COLOR_INDEX) {
      if (byte >= s[D.COLOR_COUNT]) return this.fail(ERR_COLOR_RANGE);
      s[D.COLOR] = byte;
      s[D.STATE] = S1_OP;
      return EV_COLOR;
    }
    if (st === S1_HEADER) return this.header1Byte(byte);
    if (st === S1_COLORS) {
      // The palette is covered by the header CRC but not kept (streamPalette reads it).
      s[D.POS]++;
      if (s[D.POS] === s[D.COLOR_COUNT] * 3) this.enterHeaderCrc1();
      return EV_NONE;
    }
    // S1_HEADER_CRC or S1_BODY_CRC: two big-endian bytes compared with the running CRC.
    s[D.ACC] = s[D.ACC] * 256 + byte;
    s[D.POS]++;
    if (s[D.POS] < 2) return EV_NONE;
    if (s[D.ACC] !== s[D.CRC]) return this.fail(st === S1_HEADER_CRC ? ERR_HEADER_CRC : ERR_BODY_CRC);
    if (st === S1_BODY_CRC) {
      s[D.STATE] = S_DONE;
      return EV_END;
    }
    s[D.STATE] = S1_OP;
    s[D.CRC] = CRC16_INIT;
    return EV_HEADER;
  }

  private header1Byte(byte: number): number {
    const s = this.s;
    const p = s[D.POS];
    s[D.POS] = p + 1;
    if (p === 5 && byte !== 0) return this.fail(ERR_BAD_HEADER); // flags: none defined in version 1
    if (p === 6 || p === 7) s[D.HOOK_COUNT] = s[D.HOOK_COUNT] * 256 + byte;
    // The line count, kept as hook operations (+ 1 below); below 2^31 - 1 so the state stays in 32 bits.
    if (p === 8 && byte >= 0x80) return this.fail(ERR_BAD_HEADER);
    if (p >= 8 && p <= 11) s[D.HOOK_TOTAL] = s[D.HOOK_TOTAL] * 256 + byte;
    if (p === 12) {
      if (s[D.HOOK_COUNT] < 2 || byte > MAX_COLORS || s[D.HOOK_TOTAL] === 0x7fffffff) return this.fail(ERR_BAD_HEADER);
      s[D.HOOK_TOTAL]++;
      s[D.COLOR_COUNT] = byte;
      s[D.POS] = 0;
      if (byte === 0) this.enterHeaderCrc1();
      else s[D.STATE] = S1_COLORS;
    }
    return EV_NONE;
  }

  private enterHeaderCrc1(): void {
    const s = this.s;
    s[D.STATE] = S1_HEADER_CRC;
    s[D.POS] = 0;
    s[D.ACC] = 0;
  }

  // ---- formats 4 and 5: bytes outside the range-coded bodies ------------------------------------

  private byte2(byte: number): number {
    const s = this.s;
    const st = s[D.STATE];
    if (st === S2_HEADER) return this.header2Byte(byte);
    if (st === S2_CRC) {
      s[D.ACC] = s[D.ACC] * 256 + byte;
      s[D.POS]++;
      if (s[D.POS] < 2) return EV_NONE;
      if (s[D.ACC] !== s[D.CRC]) {
        s[D.BODY_LEFT] = 0; // the next chunk starts at the next byte
        return this.fail(ERR_BODY_CRC);
      }
      s[D.NEXT_CHUNK] = s[D.CHUNK] + 1;
      this.enterChunk();
      return EV_CHUNK;
    }
    if (st === S2_INIT) {
      s[D.CRC] = crc16Update(s[D.CRC], byte);
      s[D.BODY_LEFT]--;
      if (s[D.POS] === 0 && byte >= 0x80) return this.failInBody(ERR_BODY);
      s[D.CODE] = s[D.CODE] * 256 + byte;
      s[D.POS]++;
      if (s[D.POS] < 4) return EV_NONE;
      if (s[D.CODE] >= s[D.RANGE]) return this.failInBody(ERR_BODY);
      s[D.STATE] = S2_SELECT;
      return EV_NONE;
    }
    if (st === S2_SKIP) {
      s[D.POS]--;
      if (s[D.POS] === 0) this.enterChunk();
      return EV_NONE;
    }
    if (st === S2_SCAN) {
      // Resync: the last two bytes seen are kept in acc; a sync marker restarts chunk parsing.
      s[D.ACC] = (s[D.ACC] * 256 + byte) % 65536;
      if (s[D.ACC] === SYNC_0 * 256 + SYNC_1) {
        s[D.STATE] = S2_CHUNK;
        s[D.POS] = 2;
        s[D.ACC] = 0;
        s[D.CRC] = crc16Update(crc16Update(CRC16_INIT, SYNC_0), SYNC_1);
      }
      return EV_NONE;
    }
    return this.chunkHeaderByte(byte);
  }

  private header2Byte(byte: number): number {
    const s = this.s;
    const p = s[D.POS];
    s[D.POS] = p + 1;
    const headerLength = s[D.HEADER_LENGTH];
    const colorEnd = HEADER2_FIXED_BYTES + 3 * s[D.COLOR_COUNT];
    const priorEnd = colorEnd + (1 << s[D.PRIOR_LEVELS]) - 1 + 2;
    if (p < headerLength || p < HEADER2_FIXED_BYTES) s[D.CRC] = crc16Update(s[D.CRC], byte);
    if (p === 5) s[D.MINOR] = byte;
    else if (p === 6 || p === 7) s[D.HEADER_LENGTH] = headerLength * 256 + byte;
    else if (p >= 8 && p <= 11) {
      if (p === 8 && byte >= 0x80) return this.fail(ERR_BAD_HEADER); // the hash has 31 bits
      s[D.HASH] = s[D.HASH] * 256 + byte;
    } else if (p === 12 || p === 13) s[D.HOOK_COUNT] = s[D.HOOK_COUNT] * 256 + byte;
    else if (p >= 14 && p <= 17) {
      if (p === 14 && byte >= 0x80) return this.fail(ERR_BAD_HEADER);
      s[D.HOOK_TOTAL] = s[D.HOOK_TOTAL] * 256 + byte;
    } else if (p === 18 || p === 19) s[D.CHUNK_HOOKS] = s[D.CHUNK_HOOKS] * 256 + byte;
    else if (p === 20) s[D.SHIFT] = byte;
    else if (p === 21) s[D.PRIOR_LEVELS] = byte;
    else if (p === 22) {
      s[D.COLOR_COUNT] = byte;
      if (s[D.HOOK_COUNT] < 2 || s[D.CHUNK_HOOKS] < 1 || byte > MAX_COLORS || s[D.SHIFT] < MIN_SHIFT || s[D.SHIFT] > MAX_SHIFT ||
        s[D.PRIOR_LEVELS] > TREE_LEVELS) return this.fail(ERR_BAD_HEADER);
      for (let i = 0; i < MODEL_SIZE; i++) s[D.MODEL + i] = 0;
      if (headerLength < HEADER2_FIXED_BYTES + 3 * byte + (1 << s[D.PRIOR_LEVELS]) + 1) return this.fail(ERR_BAD_HEADER);
      const expect = s[D.EXPECT];
      if (expect !== 0 && s[D.HASH] !== 0 && s[D.HASH] !== expect) return this.fail(ERR_MACHINE);
    } else if (p < colorEnd) {
      // The palette is covered by the header CRC but not kept (streamPalette reads it).
    } else if (p < priorEnd - 2) s[D.MODEL + p - colorEnd + 1] = byte * PROB_ONE;
    else if (p < priorEnd) s[D.MODEL + M_DIR + p - (priorEnd - 2)] = byte * PROB_ONE;
    else if (p >= headerLength) {
      // Bytes between priorEnd and headerLength are fields of a newer minor version: skipped.
      s[D.ACC] = s[D.ACC] * 256 + byte;
      if (p === headerLength + 1) {
        if (s[D.ACC] !== s[D.CRC]) return this.fail(ERR_HEADER_CRC);
        const total = s[D.HOOK_TOTAL];
        s[D.CHUNK_COUNT] = total === 0 ? 1 : Math.floor((total + s[D.CHUNK_HOOKS] - 1) / s[D.CHUNK_HOOKS]);
        s[D.DIST_BITS] = bitLength(Math.floor(s[D.HOOK_COUNT] / 2) - 1);
        if (s[D.CHUNK_COUNT] >= END_INDEX) return this.fail(ERR_BAD_HEADER);
        s[D.NEXT_CHUNK] = 0;
        this.enterChunk();
        return EV_HEADER;
      }
    }
    return EV_NONE;
  }

  private enterChunk(): void {
    const s = this.s;
    s[D.STATE] = S2_CHUNK;
    s[D.POS] = 0;
    s[D.ACC] = 0;
    s[D.CRC] = CRC16_INIT;
    s[D.BODY_LEFT] = -1;
  }

  /** Chunk header: sync(2) index(2) firstLine(4) colourChanges(1) bodyLength(2); or the end record: sync(2) FF FF. */
  private chunkHeaderByte(byte: number): number {
    const s = this.s;
    const p = s[D.POS];
    s[D.POS] = p + 1;
    s[D.CRC] = crc16Update(s[D.CRC], byte);
    const resyncing = s[D.RESYNCING] === 1;
    if ((p === 0 && byte !== SYNC_0) || (p === 1 && byte !== SYNC_1)) {
      if (resyncing) {
        s[D.STATE] = S2_SCAN;
        s[D.ACC] = byte;
        return EV_NONE;
      }
      return this.fail(ERR_SYNC);
    }
    if (p === 2 || p === 3) s[D.ACC] = s[D.ACC] * 256 + byte;
    if (p === 3) {
      const index = s[D.ACC];
      if (index === END_INDEX && (s[D.NEXT_CHUNK] === s[D.CHUNK_COUNT] || resyncing)) {
        s[D.STATE] = S_DONE;
        return EV_END;
      }
      const ok = resyncing ? index >= s[D.NEXT_CHUNK] && index < s[D.CHUNK_COUNT] : index === s[D.NEXT_CHUNK];
      if (!ok) {
        if (resyncing) {
          s[D.STATE] = S2_SCAN;
          s[D.ACC] = index % 65536;
          return EV_NONE;
        }
        return this.fail(ERR_CHUNK_INDEX);
      }
      s[D.CHUNK] = index;
      s[D.SEEN] = index * s[D.CHUNK_HOOKS];
      s[D.ACC] = 0;
    }
    if (p >= 4 && p <= 7) {
      // The first line, which must be index × chunkHooks: a check on the index, and on a sync
      // marker found by a resync scan.
      const bad = p === 4 && byte >= 0x80;
      if (!bad) s[D.ACC] = s[D.ACC] * 256 + byte;
      if (bad || (p === 7 && s[D.ACC] !== s[D.SEEN])) {
        if (resyncing) {
          s[D.STATE] = S2_SCAN;
          s[D.ACC] = byte;
          return EV_NONE;
        }
        return this.fail(ERR_CHUNK_INDEX);
      }
      if (p === 7) s[D.ACC] = 0;
    }
    if (p === 8) {
      s[D.EVENTS_LEFT] = byte;
      if (byte > 0 && s[D.COLOR_COUNT] === 0) return this.fail(ERR_COLOR_RANGE);
      s[D.ACC] = 0;
    }
    if (p === 9) s[D.ACC] = byte;
    if (p === 10) {
      s[D.RESYNCING] = 0;
      const length = s[D.ACC] * 256 + byte;
      s[D.BODY_LEFT] = length;
      s[D.FIRST_IN_CHUNK] = 1;
      s[D.PREV_DIR] = 0;
      if (this.hooksLeft() === 0 && s[D.EVENTS_LEFT] === 0) {
        if (length !== 0) return this.failInBody(ERR_BODY);
        s[D.STATE] = S2_CRC;
        s[D.POS] = 0;
        s[D.ACC] = 0;
        return EV_NONE;
      }
      if (length < 4) return this.failInBody(ERR_BODY);
      const levels = 1 << s[D.PRIOR_LEVELS];
      // Each probability starts from its prior byte q as q * 16 + 8 (2048 beyond the prior levels).
      for (let i = 1; i < M_ESC; i++) {
        const q = Math.floor(s[D.MODEL + i] / PROB_ONE);
        s[D.MODEL + i] = q * PROB_ONE + (i < levels || i >= M_DIR ? q * 16 + 8 : PROB_ONE / 2);
      }
      s[D.MODEL + M_ESC] = ESC_INIT;
      s[D.RANGE] = RC_INIT;
      s[D.CODE] = 0;
      s[D.STATE] = S2_INIT;
      s[D.POS] = 0;
    }
    return EV_NONE;
  }

  // ---- formats 4 and 5: the range-coded body ----------------------------------------------------

  /**
   * Shift in bytes until range >= RC_TOP, as the encoder did before the same decision.
   * 1 when ready, 0 when the decoder must wait for the next byte, -1 when the body has no more.
   */
  private ensure(): number {
    const s = this.s;
    while (s[D.RANGE] < RC_TOP) {
      const byte = s[D.IN];
      if (byte < 0) return 0;
      if (s[D.BODY_LEFT] === 0) return -1;
      s[D.IN] = -1;
      s[D.BODY_LEFT]--;
      s[D.CRC] = crc16Update(s[D.CRC], byte);
      s[D.RANGE] = s[D.RANGE] * 256;
      s[D.CODE] = s[D.CODE] * 256 + byte;
    }
    return 1;
  }

  /** One binary decision with the adaptive probability (of a 0, 12 bits) in the low bits of model entry i. */
  private decide(i: number): number {
    const s = this.s;
    const at = D.MODEL + i;
    const v = s[at];
    const p = v % PROB_ONE;
    // range < 2^31 and p < 2^12, so bound < 2^31: exact in ES5 and in 32-bit Lua integers.
    // Divisions by powers of two with Math.floor instead of >>>, which Lua 5.3 builds cannot take.
    const bound = Math.floor(s[D.RANGE] / PROB_ONE) * p;
    const rate = 1 << s[D.SHIFT];
    if (s[D.CODE] < bound) {
      s[D.RANGE] = bound;
      s[at] = v + Math.floor((PROB_ONE - p) / rate);
      return 0;
    }
    s[D.CODE] -= bound;
    s[D.RANGE] -= bound;
    s[at] = v - Math.floor(p / rate);
    return 1;
  }

  /** The bound (exclusive) of the value a body state decodes. */
  private limit(state: number): number {
    const s = this.s;
    if (state === S2_COLOR) return s[D.COLOR_COUNT];
    if (state === S2_FIRST) return s[D.HOOK_COUNT];
    return Math.floor(s[D.HOOK_COUNT] / 2);
  }

  private startBits(state: number, bits: number): void {
    const s = this.s;
    s[D.STATE] = state;
    s[D.ACC] = 0;
    s[D.NODE] = 1;
    // Skip bits that must be 0 because a 1 would make the value reach the limit (no decision).
    const limit = this.limit(state);
    let bit = bits - 1;
    while (bit >= 0 && (1 << bit) >= limit) bit--;
    s[D.BIT] = bit;
  }

  /** Hook operations still to come in this chunk (derived, so it needs no slot). */
  private hooksLeft(): number {
    const s = this.s;
    const inChunk = s[D.CHUNK_HOOKS] - (s[D.SEEN] - s[D.CHUNK] * s[D.CHUNK_HOOKS]);
    const inPath = s[D.HOOK_TOTAL] - s[D.SEEN];
    const left = inChunk < inPath ? inChunk : inPath;
    return left < 0 ? 0 : left;
  }

  /** What comes next in the body: an escape decision, a colour, a hook, or the chunk CRC. */
  private select(): number {
    const s = this.s;
    const hooks = this.hooksLeft();
    if (s[D.EVENTS_LEFT] > 0 && hooks > 0) s[D.STATE] = S2_ESC;
    else if (s[D.EVENTS_LEFT] > 0) this.startBits(S2_COLOR, bitLength(s[D.COLOR_COUNT] - 1));
    else if (hooks > 0) this.startHook();
    else {
      // The body must end exactly at its length; what it did not use means damage.
      if (s[D.BODY_LEFT] !== 0) return this.failInBody(ERR_BODY);
      s[D.STATE] = S2_CRC;
      s[D.POS] = 0;
      s[D.ACC] = 0;
    }
    return EV_NONE;
  }

  private startHook(): void {
    const s = this.s;
    if (s[D.FIRST_IN_CHUNK] === 1) this.startBits(S2_FIRST, bitLength(s[D.HOOK_COUNT] - 1));
    else this.startBits(S2_DIST, s[D.DIST_BITS]);
  }

  /**
   * Advance the body: one value, or one escape / direction decision. Returns an event, EV_NONE
   * (progress, no event), NEED_BYTE or an error. Before every decision the range is normalised
   * exactly where the encoder normalised it.
   */
  private bodyStep(): number {
    const s = this.s;
    const st = s[D.STATE];
    if (st === S2_SELECT) return this.select();
    if (st === S2_ESC || st === S2_DIR) {
      const ready = this.ensure();
      if (ready === 0) return NEED_BYTE;
      if (ready < 0) return this.failInBody(ERR_BODY);
      if (st === S2_DIR) return this.direction();
      if (this.decide(M_ESC) === 1) this.startBits(S2_COLOR, bitLength(s[D.COLOR_COUNT] - 1));
      else this.startHook();
      return EV_NONE;
    }
    // S2_COLOR, S2_FIRST, S2_DIST: the bits of a value below its limit, most significant first.
    // The hot loop of the decoder, so it works on locals and writes them back when it stops.
    const limit = this.limit(st);
    const rate = 1 << s[D.SHIFT];
    const modelled = st === S2_DIST;
    let bit = s[D.BIT];
    let acc = s[D.ACC];
    let node = s[D.NODE];
    let range = s[D.RANGE];
    let code = s[D.CODE];
    while (bit >= 0) {
      if (range < RC_TOP) {
        const byte = s[D.IN];
        if (byte < 0 || s[D.BODY_LEFT] === 0) {
          s[D.BIT] = bit;
          s[D.ACC] = acc;
          s[D.NODE] = node;
          s[D.RANGE] = range;
          s[D.CODE] = code;
          return byte < 0 ? NEED_BYTE : this.failInBody(ERR_BODY);
        }
        s[D.IN] = -1;
        s[D.BODY_LEFT]--;
        s[D.CRC] = crc16Update(s[D.CRC], byte);
        range = range * 256;
        code = code * 256 + byte;
      } else {
        let b = 0;
        if (modelled && node < M_DIR) {
          const at = D.MODEL + node;
          const v = s[at];
          const p = v % PROB_ONE;
          const bound = Math.floor(range / PROB_ONE) * p;
          if (code < bound) {
            range = bound;
            s[at] = v + Math.floor((PROB_ONE - p) / rate);
          } else {
            code -= bound;
            range -= bound;
            s[at] = v - Math.floor(p / rate);
            b = 1;
          }
        } else {
          const bound = Math.floor(range / 2);
          if (code < bound) range = bound;
          else {
            code -= bound;
            range -= bound;
            b = 1;
          }
        }
        if (b === 1) acc += 1 << bit;
        node = node * 2 + b;
        bit--;
        while (bit >= 0 && acc + (1 << bit) >= limit) bit--;
      }
    }
    s[D.BIT] = -1;
    s[D.ACC] = acc;
    s[D.RANGE] = range;
    s[D.CODE] = code;
    if (st === S2_COLOR) {
      s[D.COLOR] = acc;
      s[D.EVENTS_LEFT]--;
      const ev = this.select();
      return ev < 0 ? ev : EV_COLOR;
    }
    if (st === S2_FIRST) return this.emitHook(acc);
    // A distance (acc + 1) shorter than half the circle needs its direction.
    if ((acc + 1) * 2 >= s[D.HOOK_COUNT]) return this.emitHook(acc + 1);
    s[D.STATE] = S2_DIR;
    const ready = this.ensure();
    if (ready === 0) return NEED_BYTE;
    if (ready < 0) return this.failInBody(ERR_BODY);
    return this.direction();
  }

  /** The direction decision after a distance (in acc - 1), then the hook. */
  private direction(): number {
    const s = this.s;
    const dir = this.decide(M_DIR + s[D.PREV_DIR]);
    s[D.PREV_DIR] = dir;
    const dist = s[D.ACC] + 1;
    return this.emitHook(dir === 1 ? s[D.HOOK_COUNT] - dist : dist);
  }

  private emitHook(delta: number): number {
    const s = this.s;
    let h = delta;
    if (s[D.FIRST_IN_CHUNK] === 0) {
      h = s[D.HOOK] + delta;
      if (h >= s[D.HOOK_COUNT]) h -= s[D.HOOK_COUNT];
    }
    s[D.FIRST_IN_CHUNK] = 0;
    s[D.HOOK] = h;
    s[D.SEEN]++;
    const ev = this.select();
    return ev < 0 ? ev : EV_HOOK;
  }
}
