import { CRC16_INIT, crc16Update } from '../crc16';
import {
  EV_COLOR, EV_END, EV_HEADER, EV_HOOK, EV_NONE,
  ERR_AFTER_END, ERR_BAD_HEADER, ERR_BAD_MAGIC, ERR_BODY_CRC, ERR_COLOR_RANGE, ERR_HEADER_CRC,
  ERR_HOOK_RANGE, ERR_LINE_COUNT, ERR_UNKNOWN_OP, ERR_VERSION,
  FORMAT_VERSION, MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, MAX_COLORS, OP_COLOR, OP_END, OP_HOOK_LIMIT,
} from './format';

export { EV_NONE, EV_HEADER, EV_HOOK, EV_COLOR, EV_END };

const S_HEADER = 0;
const S_COLORS = 1;
const S_HEADER_CRC = 2;
const S_OP = 3;
const S_HOOK_LOW = 4;
const S_COLOR_INDEX = 5;
const S_BODY_CRC = 6;
const S_DONE = 7;
const S_FAILED = 8;

/**
 * Byte-at-a-time decoder for the version 1 nail-index stream (docs/stream-format.md).
 * Fixed state: a few numbers and a 16-entry palette; nothing is allocated per byte.
 * After an error every further byte returns the same error until reset().
 */
export class StreamDecoder {
  hookCount = 0;
  lineCount = 0;
  colorCount = 0;
  colors: number[] = [];
  hook = 0;
  color = 0;
  error = 0;
  /** Hook operations seen so far (the first one is the start hook, so lines = hooks - 1). */
  hooksSeen = 0;

  private state = S_HEADER;
  private pos = 0;
  private acc = 0;
  private crc = CRC16_INIT;

  constructor() {
    for (let i = 0; i < MAX_COLORS; i++) this.colors.push(0);
  }

  reset(): void {
    this.hookCount = 0;
    this.lineCount = 0;
    this.colorCount = 0;
    this.hook = 0;
    this.color = 0;
    this.error = 0;
    this.hooksSeen = 0;
    this.state = S_HEADER;
    this.pos = 0;
    this.acc = 0;
    this.crc = CRC16_INIT;
  }

  private fail(code: number): number {
    this.state = S_FAILED;
    this.error = code;
    return code;
  }

  push(byte: number): number {
    const s = this.state;
    if (s === S_FAILED) return this.error;
    if (s === S_DONE) return this.fail(ERR_AFTER_END);
    if (s !== S_HEADER_CRC && s !== S_BODY_CRC) this.crc = crc16Update(this.crc, byte);

    if (s === S_OP) {
      if (byte < OP_HOOK_LIMIT) {
        this.acc = byte;
        this.state = S_HOOK_LOW;
        return EV_NONE;
      }
      if (byte === OP_COLOR) {
        this.state = S_COLOR_INDEX;
        return EV_NONE;
      }
      if (byte === OP_END) {
        if (this.hooksSeen === 0 ? this.lineCount !== 0 : this.hooksSeen - 1 !== this.lineCount) {
          return this.fail(ERR_LINE_COUNT);
        }
        this.state = S_BODY_CRC;
        this.pos = 0;
        this.acc = 0;
        return EV_NONE;
      }
      return this.fail(ERR_UNKNOWN_OP);
    }
    if (s === S_HOOK_LOW) {
      const h = this.acc * 256 + byte;
      if (h >= this.hookCount) return this.fail(ERR_HOOK_RANGE);
      this.hook = h;
      this.hooksSeen++;
      this.state = S_OP;
      return EV_HOOK;
    }
    if (s === S_COLOR_INDEX) {
      if (byte >= this.colorCount) return this.fail(ERR_COLOR_RANGE);
      this.color = byte;
      this.state = S_OP;
      return EV_COLOR;
    }
    if (s === S_HEADER) return this.headerByte(byte);
    if (s === S_COLORS) {
      const i = Math.floor(this.pos / 3);
      this.colors[i] = this.colors[i] * 256 + byte;
      this.pos++;
      if (this.pos === this.colorCount * 3) this.enterHeaderCrc();
      return EV_NONE;
    }
    // S_HEADER_CRC or S_BODY_CRC: two big-endian bytes compared with the running CRC.
    this.acc = this.acc * 256 + byte;
    this.pos++;
    if (this.pos < 2) return EV_NONE;
    if (this.acc !== this.crc) return this.fail(s === S_HEADER_CRC ? ERR_HEADER_CRC : ERR_BODY_CRC);
    if (s === S_BODY_CRC) {
      this.state = S_DONE;
      return EV_END;
    }
    this.state = S_OP;
    this.crc = CRC16_INIT;
    return EV_HEADER;
  }

  private headerByte(byte: number): number {
    const p = this.pos;
    this.pos = p + 1;
    if (p === 0 && byte !== MAGIC_0) return this.fail(ERR_BAD_MAGIC);
    if (p === 1 && byte !== MAGIC_1) return this.fail(ERR_BAD_MAGIC);
    if (p === 2 && byte !== MAGIC_2) return this.fail(ERR_BAD_MAGIC);
    if (p === 3 && byte !== MAGIC_3) return this.fail(ERR_BAD_MAGIC);
    if (p === 4 && byte !== FORMAT_VERSION) return this.fail(ERR_VERSION);
    if (p === 5 && byte !== 0) return this.fail(ERR_BAD_HEADER); // flags: none defined in version 1
    if (p === 6 || p === 7) this.hookCount = this.hookCount * 256 + byte;
    if (p >= 8 && p <= 11) this.lineCount = this.lineCount * 256 + byte;
    if (p === 12) {
      if (this.hookCount < 2 || byte > MAX_COLORS) return this.fail(ERR_BAD_HEADER);
      this.colorCount = byte;
      for (let i = 0; i < MAX_COLORS; i++) this.colors[i] = 0;
      this.pos = 0;
      if (byte === 0) this.enterHeaderCrc();
      else this.state = S_COLORS;
    }
    return EV_NONE;
  }

  private enterHeaderCrc(): void {
    this.state = S_HEADER_CRC;
    this.pos = 0;
    this.acc = 0;
  }
}
