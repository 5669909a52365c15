import { CRC16_INIT, crc16Update } from '../crc16';
import { byteTable } from '../number-table';

/**
 * Link frames (docs/protocol.md): [type][seq][ack][length][payload…][crc16 hi][crc16 lo],
 * COBS-encoded, each frame ended by one 0x00 byte. The length byte makes a frame cut short by a
 * damaged COBS code (which can turn into an early delimiter) fail deterministically, instead of
 * passing whenever the CRC's last byte happens to be 0. Device-safe: fixed buffers, nothing
 * allocated per byte.
 */
export const FRAME_HEADER_BYTES = 4;
export const MAX_PAYLOAD = 64;
export const MAX_FRAME = FRAME_HEADER_BYTES + MAX_PAYLOAD + 2;

export const FR_NONE = 0;
export const FR_OK = 1;
/** A delimiter ended bytes that are not a valid frame (bad COBS, too short/long, CRC mismatch). */
export const FR_BAD = -1;

/** COBS-encode one frame and append it, delimiter included, to `out`. */
export function encodeFrame(type: number, seq: number, ack: number, payload: number[], out: number[]): void {
  // (Error, not RangeError: Espruino has no RangeError; `new RangeError` is a ReferenceError there.)
  if (payload.length > MAX_PAYLOAD) throw new Error('payload too long: ' + payload.length);
  let crc = CRC16_INIT;
  crc = crc16Update(crc, type);
  crc = crc16Update(crc, seq);
  crc = crc16Update(crc, ack);
  crc = crc16Update(crc, payload.length);
  for (let i = 0; i < payload.length; i++) crc = crc16Update(crc, payload[i]);
  let codeAt = out.length;
  out.push(0);
  let code = 1;
  const n = payload.length + FRAME_HEADER_BYTES + 2;
  for (let i = 0; i < n; i++) {
    let b: number;
    if (i === 0) b = type;
    else if (i === 1) b = seq;
    else if (i === 2) b = ack;
    else if (i === 3) b = payload.length;
    else if (i < n - 2) b = payload[i - FRAME_HEADER_BYTES];
    else if (i === n - 2) b = Math.floor(crc / 256);
    else b = crc % 256;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = out.length;
      out.push(0);
      code = 1;
    } else {
      out.push(b);
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = out.length;
        out.push(0);
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  out.push(0);
}

/** Streaming COBS frame decoder: push bytes; on FR_OK the frame is in type/seq/ack/payload[0..length). */
export class FrameDecoder {
  type = 0;
  seq = 0;
  ack = 0;
  length = 0;
  payload: number[];
  /** The frame being decoded: a byte table (Espruino: one flat block, not a JsVar per byte). */
  private buf: number[] = byteTable(MAX_FRAME);
  private n = 0;
  private left = 0;
  private code = 0;
  private broken = false;

  /**
   * compact: payload is a byte table too (the device's decoder: on Espruino 64 bytes in a few
   * JsVars instead of 64); otherwise a plain array, which the host's code slices and compares.
   */
  constructor(compact?: boolean) {
    if (compact === true) this.payload = byteTable(MAX_PAYLOAD);
    else {
      this.payload = [];
      for (let i = 0; i < MAX_PAYLOAD; i++) this.payload.push(0);
    }
  }

  push(b: number): number {
    if (b === 0) return this.finish();
    if (this.broken) return FR_NONE;
    if (this.left === 0) {
      if (this.code !== 0 && this.code !== 0xff && !this.append(0)) return FR_NONE;
      this.code = b;
      this.left = b - 1;
      return FR_NONE;
    }
    this.left--;
    this.append(b);
    return FR_NONE;
  }

  private append(b: number): boolean {
    if (this.n >= MAX_FRAME) {
      this.broken = true;
      return false;
    }
    this.buf[this.n] = b;
    this.n++;
    return true;
  }

  private finish(): number {
    const n = this.n;
    const ok = !this.broken && this.left === 0 && this.code !== 0 && n >= FRAME_HEADER_BYTES + 2;
    this.n = 0;
    this.left = 0;
    this.code = 0;
    this.broken = false;
    if (!ok) return n === 0 ? FR_NONE : FR_BAD;
    let crc = CRC16_INIT;
    for (let i = 0; i < n - 2; i++) crc = crc16Update(crc, this.buf[i]);
    if (crc !== this.buf[n - 2] * 256 + this.buf[n - 1]) return FR_BAD;
    if (this.buf[3] !== n - FRAME_HEADER_BYTES - 2) return FR_BAD;
    this.type = this.buf[0];
    this.seq = this.buf[1];
    this.ack = this.buf[2];
    this.length = this.buf[3];
    for (let i = 0; i < this.length; i++) this.payload[i] = this.buf[FRAME_HEADER_BYTES + i];
    return FR_OK;
  }
}
