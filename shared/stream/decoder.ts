import { CRC16_INIT, crc16Update } from '../crc16';
import { bitLength } from '../bits';
import { numberTable } from '../number-table';
import {
  EV_CHUNK, EV_COLOR, EV_END, EV_HEADER, EV_HOOK, EV_NONE,
  ERR_AFTER_END, ERR_BAD_HEADER, ERR_BAD_MAGIC, ERR_BODY, ERR_BODY_CRC, ERR_CHUNK_INDEX, ERR_COLOR_RANGE,
  ERR_HEADER_CRC, ERR_HOOK_RANGE, ERR_LINE_COUNT, ERR_MACHINE, ERR_OVERRUN, ERR_SYNC, ERR_UNKNOWN_OP, ERR_VERSION,
  END_INDEX, ESC_INIT, FORMAT_VERSION, FORMAT_VERSION_1, FORMAT_VERSION_FLANKS, HEADER2_FIXED_BYTES, M_DIR, MAGIC_0, MAGIC_1, MAGIC_2,
  MAGIC_3, MAX_COLORS, MAX_SHIFT, MIN_SHIFT, OP_COLOR, OP_END, OP_HOOK_LIMIT, PROB_ONE, RC_INIT, RC_TOP,
  SYNC_0, SYNC_1, TREE_LEVELS, isChunkError,
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
// version 2, byte states
const S2_HEADER = 20;
const S2_CHUNK = 21; // sync(2) index(2) events(1)
const S2_INIT = 22; // the range coder's first 4 bytes
const S2_CRC = 23;
const S2_SCAN = 24; // resync: looking for a sync marker
// version 2, body states (binary decisions; bytes are shifted in while range < RC_TOP)
const S2_SELECT = 30;
const S2_ESC = 31;
const S2_COLOR = 32;
const S2_FIRST = 33;
const S2_DIST = 34;
const S2_DIR = 35;
/** Internal: bodyStep needs another byte (never returned by push or next). */
const NEED_BYTE = 100;

/**
 * Byte-at-a-time decoder for the nail-index stream, versions 1 and 2 (docs/stream-format.md).
 *
 * push(byte) gives it one byte and returns the first event that byte completes. In version 2 one
 * byte can complete several operations: call next() until it returns EV_NONE (or an error) before
 * pushing the next byte; pushing earlier is ERR_OVERRUN. In version 1 next() always returns EV_NONE.
 *
 * Fixed state: about 50 numbers, a 16-entry palette, a 128-entry model (tree probabilities with
 * their prior bytes packed above them) and 3 more probabilities;
 * nothing is allocated per byte. After an error every further call returns the same error until
 * reset(), or, for errors confined to one chunk, resync().
 */
export class StreamDecoder {
  /** Major and minor format version (after the version byte / the header). */
  version = 0;
  minor = 0;
  /** 31-bit hash of the machine profile the stream was made for; 0 = any machine (version 1: 0). */
  machineHash = 0;
  /** When not 0, a version 2 header with a different non-zero machineHash is refused (ERR_MACHINE). */
  expectMachine = 0;
  /**
   * Indices per machine hook: 1 (formats 1, 2: an index is a hook) or 2 (format 3: an index v is
   * hook v >> 1 on flank v & 1; hookCount counts flanks).
   */
  flanks = 1;
  hookCount = 0;
  lineCount = 0;
  /** Hook operations in the path (lineCount + 1, or 0 for an empty path). */
  hookTotal = 0;
  colorCount = 0;
  colors: number[] = [];
  hook = 0;
  color = 0;
  error = 0;
  /** Hook operations seen so far (the first one is the start hook, so lines = hooks - 1). */
  hooksSeen = 0;
  /** Version 2: hook operations per chunk, number of chunks, the current chunk and its first hook
   * operation's index in the path (= its first line number, counting the start hook as line 0). */
  chunkHooks = 0;
  chunkCount = 0;
  chunkIndex = 0;
  firstLine = 0;
  /** Version 2 codec parameters: adaptation shift and number of tree levels with a prior. */
  shift = 0;
  priorLevels = 0;

  private state = S_PREFIX;
  private pos = 0;
  private acc = 0;
  private crc = CRC16_INIT;
  // version 2
  private hasByte = false;
  private inByte = 0;
  private headerLength = 0;
  private nextChunk = 0;
  private resyncing = false;
  private hooksLeft = 0;
  private eventsLeft = 0;
  private firstInChunk = true;
  private prev = 0;
  private prevDir = 0;
  private dist = 0;
  private bit = 0;
  private limit = 0;
  private node = 0;
  private range = 0;
  /** 2^shift: probabilities move by 1/rate of the distance to 0 or 1 after each decision. */
  private rate = 0;
  private code = 0;
  private hookBits = 0;
  private distBits = 0;
  private colorBits = 0;
  private model: number[] = numberTable(M_DIR);
  /** Direction contexts 0 and 1, then the escape ("colour change here?") probability. */
  private side: number[] = [];

  constructor() {
    for (let i = 0; i < MAX_COLORS; i++) this.colors.push(0);
    for (let i = 0; i < 3; i++) this.side.push(0);
  }

  reset(): void {
    this.version = 0;
    this.minor = 0;
    this.machineHash = 0;
    this.hookCount = 0;
    this.flanks = 1;
    this.lineCount = 0;
    this.hookTotal = 0;
    this.colorCount = 0;
    this.hook = 0;
    this.color = 0;
    this.error = 0;
    this.hooksSeen = 0;
    this.chunkHooks = 0;
    this.chunkCount = 0;
    this.chunkIndex = 0;
    this.firstLine = 0;
    this.shift = 0;
    this.priorLevels = 0;
    this.state = S_PREFIX;
    this.pos = 0;
    this.acc = 0;
    this.crc = CRC16_INIT;
    this.hasByte = false;
    this.inByte = 0;
    this.headerLength = 0;
    this.nextChunk = 0;
    this.resyncing = false;
    this.hooksLeft = 0;
    this.eventsLeft = 0;
    this.firstInChunk = true;
    this.prev = 0;
    this.prevDir = 0;
    this.dist = 0;
    this.bit = 0;
    this.limit = 0;
    this.node = 0;
    this.range = 0;
    this.rate = 0;
    this.code = 0;
    this.hookBits = 0;
    this.distBits = 0;
    this.colorBits = 0;
  }

  private fail(code: number): number {
    this.state = S_FAILED;
    this.error = code;
    this.hasByte = false;
    return code;
  }

  /**
   * After a chunk error (isChunkError) in a version 2 stream: drop the rest of that chunk and scan
   * for the next chunk's sync marker. Returns false (and changes nothing) for other errors.
   */
  resync(): boolean {
    if (this.state !== S_FAILED || !this.chunked() || !isChunkError(this.error)) return false;
    this.error = 0;
    this.resyncing = true;
    this.enterChunk();
    this.state = S2_SCAN;
    return true;
  }

  /** Version 2, after EV_HEADER: the next chunk to arrive is chunk `index` (resume a stream there). */
  resumeAt(index: number): boolean {
    if (!this.chunked() || this.state !== S2_CHUNK || this.pos !== 0 || index < 0 || index >= this.chunkCount) return false;
    this.nextChunk = index;
    this.hooksSeen = index * this.chunkHooks;
    return true;
  }

  push(byte: number): number {
    const s = this.state;
    if (s === S_FAILED) return this.error;
    if (s === S_DONE) return this.fail(ERR_AFTER_END);
    if (s >= S2_HEADER) {
      if (this.hasByte) return this.fail(ERR_OVERRUN);
      this.hasByte = true;
      this.inByte = byte;
      return this.next();
    }
    if (s === S_PREFIX) return this.prefixByte(byte);
    return this.push1(byte);
  }

  /** The next event from bytes already pushed; EV_NONE when the decoder needs another byte. */
  next(): number {
    for (;;) {
      const s = this.state;
      if (s < S2_HEADER) return s === S_FAILED ? this.error : EV_NONE;
      if (s >= S2_SELECT) {
        const ev = this.bodyStep();
        if (ev === NEED_BYTE) return EV_NONE;
        if (ev !== EV_NONE) return ev;
      } else {
        if (!this.hasByte) return EV_NONE;
        this.hasByte = false;
        const ev = this.byte2(this.inByte);
        if (ev !== EV_NONE) return ev;
      }
    }
  }

  /** Chunked, range-coded layout (formats 2 and 3). */
  private chunked(): boolean {
    return this.version === FORMAT_VERSION || this.version === FORMAT_VERSION_FLANKS;
  }

  // ---- common prefix: magic and major version -------------------------------------------------

  private prefixByte(byte: number): number {
    const p = this.pos;
    this.pos = p + 1;
    this.crc = crc16Update(this.crc, byte);
    if (p === 0 && byte !== MAGIC_0) return this.fail(ERR_BAD_MAGIC);
    if (p === 1 && byte !== MAGIC_1) return this.fail(ERR_BAD_MAGIC);
    if (p === 2 && byte !== MAGIC_2) return this.fail(ERR_BAD_MAGIC);
    if (p === 3 && byte !== MAGIC_3) return this.fail(ERR_BAD_MAGIC);
    if (p === 4) {
      this.version = byte;
      if (byte === FORMAT_VERSION_1) this.state = S1_HEADER;
      else if (byte === FORMAT_VERSION || byte === FORMAT_VERSION_FLANKS) {
        this.state = S2_HEADER;
        this.flanks = byte === FORMAT_VERSION_FLANKS ? 2 : 1;
      }
      else return this.fail(ERR_VERSION);
    }
    return EV_NONE;
  }

  // ---- version 1 ------------------------------------------------------------------------------

  private push1(byte: number): number {
    const s = this.state;
    if (s !== S1_HEADER_CRC && s !== S1_BODY_CRC) this.crc = crc16Update(this.crc, byte);

    if (s === S1_OP) {
      if (byte < OP_HOOK_LIMIT) {
        this.acc = byte;
        this.state = S1_HOOK_LOW;
        return EV_NONE;
      }
      if (byte === OP_COLOR) {
        this.state = S1_COLOR_INDEX;
        return EV_NONE;
      }
      if (byte === OP_END) {
        if (this.hooksSeen === 0 ? this.lineCount !== 0 : this.hooksSeen - 1 !== this.lineCount) {
          return this.fail(ERR_LINE_COUNT);
        }
        this.state = S1_BODY_CRC;
        this.pos = 0;
        this.acc = 0;
        return EV_NONE;
      }
      return this.fail(ERR_UNKNOWN_OP);
    }
    if (s === S1_HOOK_LOW) {
      const h = this.acc * 256 + byte;
      if (h >= this.hookCount) return this.fail(ERR_HOOK_RANGE);
      this.hook = h;
      this.hooksSeen++;
      this.state = S1_OP;
      return EV_HOOK;
    }
    if (s === S1_COLOR_INDEX) {
      if (byte >= this.colorCount) return this.fail(ERR_COLOR_RANGE);
      this.color = byte;
      this.state = S1_OP;
      return EV_COLOR;
    }
    if (s === S1_HEADER) return this.header1Byte(byte);
    if (s === S1_COLORS) {
      const i = Math.floor(this.pos / 3);
      this.colors[i] = this.colors[i] * 256 + byte;
      this.pos++;
      if (this.pos === this.colorCount * 3) this.enterHeaderCrc1();
      return EV_NONE;
    }
    // S1_HEADER_CRC or S1_BODY_CRC: two big-endian bytes compared with the running CRC.
    this.acc = this.acc * 256 + byte;
    this.pos++;
    if (this.pos < 2) return EV_NONE;
    if (this.acc !== this.crc) return this.fail(s === S1_HEADER_CRC ? ERR_HEADER_CRC : ERR_BODY_CRC);
    if (s === S1_BODY_CRC) {
      this.state = S_DONE;
      return EV_END;
    }
    this.state = S1_OP;
    this.crc = CRC16_INIT;
    return EV_HEADER;
  }

  private header1Byte(byte: number): number {
    const p = this.pos;
    this.pos = p + 1;
    if (p === 5 && byte !== 0) return this.fail(ERR_BAD_HEADER); // flags: none defined in version 1
    if (p === 6 || p === 7) this.hookCount = this.hookCount * 256 + byte;
    if (p >= 8 && p <= 11) this.lineCount = this.lineCount * 256 + byte;
    if (p === 12) {
      if (this.hookCount < 2 || byte > MAX_COLORS) return this.fail(ERR_BAD_HEADER);
      this.colorCount = byte;
      for (let i = 0; i < MAX_COLORS; i++) this.colors[i] = 0;
      this.pos = 0;
      if (byte === 0) this.enterHeaderCrc1();
      else this.state = S1_COLORS;
    }
    return EV_NONE;
  }

  private enterHeaderCrc1(): void {
    this.state = S1_HEADER_CRC;
    this.pos = 0;
    this.acc = 0;
  }

  // ---- version 2: bytes outside the range-coded bodies ------------------------------------------

  private byte2(byte: number): number {
    const s = this.state;
    if (s === S2_HEADER) return this.header2Byte(byte);
    if (s === S2_CRC) {
      this.acc = this.acc * 256 + byte;
      this.pos++;
      if (this.pos < 2) return EV_NONE;
      if (this.acc !== this.crc) return this.fail(ERR_BODY_CRC);
      this.nextChunk = this.chunkIndex + 1;
      this.enterChunk();
      return EV_CHUNK;
    }
    if (s === S2_INIT) {
      this.crc = crc16Update(this.crc, byte);
      if (this.pos === 0 && byte >= 0x80) return this.fail(ERR_BODY);
      this.code = this.code * 256 + byte;
      this.pos++;
      if (this.pos < 4) return EV_NONE;
      if (this.code >= this.range) return this.fail(ERR_BODY);
      this.state = S2_SELECT;
      return EV_NONE;
    }
    if (s === S2_SCAN) {
      // Resync: the last two bytes seen are kept in acc; a sync marker restarts chunk parsing.
      this.acc = (this.acc * 256 + byte) & 0xffff;
      if (this.acc === SYNC_0 * 256 + SYNC_1) {
        this.state = S2_CHUNK;
        this.pos = 2;
        this.acc = 0;
        this.crc = crc16Update(crc16Update(CRC16_INIT, SYNC_0), SYNC_1);
      }
      return EV_NONE;
    }
    return this.chunkHeaderByte(byte);
  }

  private header2Byte(byte: number): number {
    const p = this.pos;
    this.pos = p + 1;
    const colorEnd = HEADER2_FIXED_BYTES + 3 * this.colorCount;
    const priorEnd = colorEnd + (1 << this.priorLevels) - 1 + 2;
    if (p < this.headerLength || p < HEADER2_FIXED_BYTES) this.crc = crc16Update(this.crc, byte);
    if (p === 5) this.minor = byte;
    else if (p === 6 || p === 7) this.headerLength = this.headerLength * 256 + byte;
    else if (p >= 8 && p <= 11) {
      if (p === 8 && byte >= 0x80) return this.fail(ERR_BAD_HEADER); // the hash has 31 bits
      this.machineHash = this.machineHash * 256 + byte;
    } else if (p === 12 || p === 13) this.hookCount = this.hookCount * 256 + byte;
    else if (p >= 14 && p <= 17) {
      if (p === 14 && byte >= 0x80) return this.fail(ERR_BAD_HEADER);
      this.hookTotal = this.hookTotal * 256 + byte;
    } else if (p === 18 || p === 19) this.chunkHooks = this.chunkHooks * 256 + byte;
    else if (p === 20) {
      this.shift = byte;
      this.rate = 1 << (byte & 7);
    }
    else if (p === 21) this.priorLevels = byte;
    else if (p === 22) {
      this.colorCount = byte;
      if (this.hookCount < 2 || this.chunkHooks < 1 || byte > MAX_COLORS || this.shift < MIN_SHIFT || this.shift > MAX_SHIFT ||
        this.priorLevels > TREE_LEVELS) return this.fail(ERR_BAD_HEADER);
      for (let i = 0; i < MAX_COLORS; i++) this.colors[i] = 0;
      for (let i = 0; i < M_DIR; i++) this.model[i] = 0;
      this.side[0] = 0;
      this.side[1] = 0;
      if (this.headerLength < HEADER2_FIXED_BYTES + 3 * byte + (1 << this.priorLevels) + 1) return this.fail(ERR_BAD_HEADER);
      if (this.expectMachine !== 0 && this.machineHash !== 0 && this.machineHash !== this.expectMachine) {
        return this.fail(ERR_MACHINE);
      }
    } else if (p < colorEnd) {
      const i = Math.floor((p - HEADER2_FIXED_BYTES) / 3);
      this.colors[i] = this.colors[i] * 256 + byte;
    } else if (p < priorEnd - 2) this.model[p - colorEnd + 1] = byte * PROB_ONE;
    else if (p < priorEnd) this.side[p - (priorEnd - 2)] = byte * PROB_ONE;
    else if (p >= this.headerLength) {
      // Bytes between priorEnd and headerLength are fields of a newer minor version: skipped.
      this.acc = this.acc * 256 + byte;
      if (p === this.headerLength + 1) {
        if (this.acc !== this.crc) return this.fail(ERR_HEADER_CRC);
        this.lineCount = this.hookTotal > 0 ? this.hookTotal - 1 : 0;
        this.chunkCount = this.hookTotal === 0 ? 1 : Math.floor((this.hookTotal + this.chunkHooks - 1) / this.chunkHooks);
        this.hookBits = bitLength(this.hookCount - 1);
        this.distBits = bitLength(Math.floor(this.hookCount / 2) - 1);
        this.colorBits = this.colorCount > 0 ? bitLength(this.colorCount - 1) : 0;
        if (this.chunkCount >= END_INDEX) return this.fail(ERR_BAD_HEADER);
        this.nextChunk = 0;
        this.enterChunk();
        return EV_HEADER;
      }
    }
    return EV_NONE;
  }

  private enterChunk(): void {
    this.state = S2_CHUNK;
    this.pos = 0;
    this.acc = 0;
    this.crc = CRC16_INIT;
  }

  /** Chunk header: sync(2) index(2) colourChanges(1); or the end record: sync(2) FF FF. */
  private chunkHeaderByte(byte: number): number {
    const p = this.pos;
    this.pos = p + 1;
    this.crc = crc16Update(this.crc, byte);
    if ((p === 0 && byte !== SYNC_0) || (p === 1 && byte !== SYNC_1)) {
      if (this.resyncing) {
        this.state = S2_SCAN;
        this.acc = byte;
        return EV_NONE;
      }
      return this.fail(ERR_SYNC);
    }
    if (p === 2 || p === 3) this.acc = this.acc * 256 + byte;
    if (p === 3) {
      const index = this.acc;
      if (index === END_INDEX && (this.nextChunk === this.chunkCount || this.resyncing)) {
        this.state = S_DONE;
        return EV_END;
      }
      const ok = this.resyncing ? index >= this.nextChunk && index < this.chunkCount : index === this.nextChunk;
      if (!ok) {
        if (this.resyncing) {
          this.state = S2_SCAN;
          this.acc = this.acc & 0xffff;
          return EV_NONE;
        }
        return this.fail(ERR_CHUNK_INDEX);
      }
      this.chunkIndex = index;
      this.firstLine = index * this.chunkHooks;
      this.hooksSeen = this.firstLine;
    }
    if (p === 4) {
      this.resyncing = false;
      this.eventsLeft = byte;
      if (byte > 0 && this.colorCount === 0) return this.fail(ERR_COLOR_RANGE);
      const rest = this.hookTotal - this.firstLine;
      this.hooksLeft = rest < this.chunkHooks ? rest : this.chunkHooks;
      if (this.hooksLeft < 0) this.hooksLeft = 0;
      this.firstInChunk = true;
      this.prevDir = 0;
      if (this.hooksLeft === 0 && byte === 0) {
        this.state = S2_CRC;
        this.pos = 0;
        this.acc = 0;
        return EV_NONE;
      }
      const m = this.model;
      const levels = 1 << this.priorLevels;
      // Each entry keeps its prior byte above the 12 probability bits (q * 4096 + p), so the model
      // needs no second table; the probability starts at q * 16 + 8 (2048 beyond the prior levels).
      for (let i = 1; i < M_DIR; i++) {
        const q = Math.floor(m[i] / PROB_ONE);
        m[i] = q * PROB_ONE + (i < levels ? q * 16 + 8 : PROB_ONE / 2);
      }
      const side = this.side;
      for (let i = 0; i < 2; i++) {
        const q = Math.floor(side[i] / PROB_ONE);
        side[i] = q * PROB_ONE + q * 16 + 8;
      }
      side[2] = ESC_INIT;
      this.range = RC_INIT;
      this.code = 0;
      this.state = S2_INIT;
      this.pos = 0;
    }
    return EV_NONE;
  }

  // ---- version 2: the range-coded body ----------------------------------------------------------

  /**
   * Shift in bytes until range >= RC_TOP, as the encoder did before the same decision.
   * False when the decoder must wait for the next byte.
   */
  private ensure(): boolean {
    while (this.range < RC_TOP) {
      if (!this.hasByte) return false;
      this.hasByte = false;
      this.crc = crc16Update(this.crc, this.inByte);
      this.range = this.range * 256;
      this.code = this.code * 256 + this.inByte;
    }
    return true;
  }

  /** One binary decision with the adaptive probability (of a 0, 12 bits) in the low bits of a[i]. */
  private decide(a: number[], i: number): number {
    const v = a[i];
    const p = v % PROB_ONE;
    // range < 2^31 and p < 2^12, so bound < 2^31: exact in ES5 and in 32-bit Lua integers.
    // Divisions by powers of two with Math.floor instead of >>>, which Lua 5.3 builds cannot take.
    const bound = Math.floor(this.range / PROB_ONE) * p;
    if (this.code < bound) {
      this.range = bound;
      a[i] = v + Math.floor((PROB_ONE - p) / this.rate);
      return 0;
    }
    this.code -= bound;
    this.range -= bound;
    a[i] = v - Math.floor(p / this.rate);
    return 1;
  }

  private startBits(state: number, bits: number, limit: number): void {
    this.state = state;
    this.limit = limit;
    this.acc = 0;
    this.node = 1;
    // Skip bits that must be 0 because a 1 would make the value reach `limit` (no decision).
    let bit = bits - 1;
    while (bit >= 0 && (1 << bit) >= limit) bit--;
    this.bit = bit;
  }

  /** What comes next in the body: an escape decision, a colour, a hook, or the chunk CRC. */
  private select(): void {
    if (this.eventsLeft > 0 && this.hooksLeft > 0) this.state = S2_ESC;
    else if (this.eventsLeft > 0) this.startBits(S2_COLOR, this.colorBits, this.colorCount);
    else if (this.hooksLeft > 0) this.startHook();
    else {
      this.state = S2_CRC;
      this.pos = 0;
      this.acc = 0;
    }
  }

  private startHook(): void {
    if (this.firstInChunk) this.startBits(S2_FIRST, this.hookBits, this.hookCount);
    else this.startBits(S2_DIST, this.distBits, Math.floor(this.hookCount / 2));
  }

  /**
   * Advance the body: one value, or one escape / direction decision. Returns an event, EV_NONE
   * (progress, no event) or NEED_BYTE. Before every decision the range is normalised exactly where
   * the encoder normalised it.
   */
  private bodyStep(): number {
    const s = this.state;
    if (s === S2_SELECT) {
      this.select();
      return EV_NONE;
    }
    if (s === S2_ESC) {
      if (!this.ensure()) return NEED_BYTE;
      if (this.decide(this.side, 2) === 1) this.startBits(S2_COLOR, this.colorBits, this.colorCount);
      else this.startHook();
      return EV_NONE;
    }
    if (s === S2_DIR) {
      if (!this.ensure()) return NEED_BYTE;
      const dir = this.decide(this.side, this.prevDir);
      this.prevDir = dir;
      return this.emitHook(dir === 1 ? this.hookCount - this.dist : this.dist);
    }
    // S2_COLOR, S2_FIRST, S2_DIST: the bits of a value below `limit`, most significant first.
    // The hot loop of the decoder, so it works on locals and writes them back when it stops.
    const model = this.model;
    const rate = this.rate;
    const limit = this.limit;
    const modelled = s === S2_DIST;
    let bit = this.bit;
    let acc = this.acc;
    let node = this.node;
    let range = this.range;
    let code = this.code;
    while (bit >= 0) {
      if (range < RC_TOP) {
        if (!this.hasByte) {
          this.bit = bit;
          this.acc = acc;
          this.node = node;
          this.range = range;
          this.code = code;
          return NEED_BYTE;
        }
        this.hasByte = false;
        this.crc = crc16Update(this.crc, this.inByte);
        range = range * 256;
        code = code * 256 + this.inByte;
      } else {
        let b = 0;
        if (modelled && node < M_DIR) {
          const v = model[node];
          const p = v % PROB_ONE;
          const bound = Math.floor(range / PROB_ONE) * p;
          if (code < bound) {
            range = bound;
            model[node] = v + Math.floor((PROB_ONE - p) / rate);
          } else {
            code -= bound;
            range -= bound;
            model[node] = v - Math.floor(p / rate);
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
    this.bit = -1;
    this.range = range;
    this.code = code;
    if (s === S2_COLOR) {
      this.color = acc;
      this.eventsLeft--;
      this.select();
      return EV_COLOR;
    }
    if (s === S2_FIRST) return this.emitHook(acc);
    this.dist = acc + 1;
    if (this.dist * 2 >= this.hookCount) return this.emitHook(this.dist);
    this.state = S2_DIR;
    if (!this.ensure()) return NEED_BYTE;
    const dir = this.decide(this.side, this.prevDir);
    this.prevDir = dir;
    return this.emitHook(dir === 1 ? this.hookCount - this.dist : this.dist);
  }

  private emitHook(delta: number): number {
    const h = this.firstInChunk ? delta : (this.prev + delta) % this.hookCount;
    this.firstInChunk = false;
    this.prev = h;
    this.hook = h;
    this.hooksSeen++;
    this.hooksLeft--;
    this.select();
    return EV_HOOK;
  }
}
