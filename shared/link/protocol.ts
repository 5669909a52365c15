/** Link protocol constants (docs/protocol.md). */
export const PROTOCOL_VERSION = 1;

// host → device (DATA and CMD are delivered reliably, in order, by sequence number)
export const T_HELLO = 0x01;
export const T_DATA = 0x02;
export const T_CMD = 0x03;

// device → host (every device frame's ack field is the next host sequence number it expects)
export const T_HELLO_REPLY = 0x81;
export const T_ACK = 0x82;
export const T_STATUS = 0x83;
export const T_EVENT = 0x84;
export const T_REJECT = 0x85;

export const CMD_HOME = 1;
export const CMD_START = 2;
export const CMD_PAUSE = 3;
export const CMD_RESUME = 4;
export const CMD_ABORT = 5;
export const CMD_STATUS = 6;
export const CMD_JOG = 7;

export const REJECT_VERSION = 1;
export const REJECT_PROFILE = 2;

/** Sequence numbers are 8 bits; `a - b` modulo 256. */
export function seqDiff(a: number, b: number): number {
  return (a - b + 256) % 256;
}

/** Append a big-endian unsigned integer of `bytes` bytes (≤ 4) to `out`. */
export function putUint(out: number[], value: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(value / Math.pow(256, i)) % 256);
}

/** Read a big-endian unsigned integer of `bytes` bytes from `buf` at `at`. */
export function getUint(buf: number[], at: number, bytes: number): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 256 + buf[at + i];
  return v;
}

// ---- session layer (docs/protocol.md sections 4–7) --------------------------------------------

/** EVENT kinds (payload: kind u8 + arguments). */
export const EVT_COLOR = 1;
export const EVT_DONE = 2;
export const EVT_ALARM = 3;
/** A command the device could not carry out: `command u8, state u8`. */
export const EVT_REFUSED = 4;

/** STATUS flags: bit 0 — a HELLO arrived since the device booted (a host session is open). */
export const STATUS_SESSION = 1;

/** resumeLine when flash holds no progress. */
export const NO_LINE = 0xffffffff;

/** Stream identity (HELLO_REPLY streamCrc): CRC-16 of the stream's first STREAM_ID_BYTES bytes
 * (its header: magic, version, machine hash, hook count, hook total, chunking). */
export const STREAM_ID_BYTES = 32;

/** HELLO_REPLY payload length and STATUS payload length (docs/protocol.md 4 and 6). */
export const HELLO_REPLY_BYTES = 18;
export const STATUS_BYTES = 21;
