/**
 * Whole-buffer decoder for format 4 and 5 streams, for the host only (Node): the same arithmetic as
 * shared/stream/decoder.ts, written as one tight loop over an in-memory stream with a table CRC,
 * because the host decodes whole files (hookline decode/sim/inspect) and should do it fast. Tests and
 * the fuzz suite check that it agrees with the streaming decoder, which stays the reference.
 * Returns the operations, or the error code and the byte where the error was found.
 */
import {
  END_INDEX, ERR_AFTER_END, ERR_BAD_HEADER, ERR_BAD_MAGIC, ERR_BODY, ERR_BODY_CRC, ERR_CHUNK_INDEX, ERR_COLOR_RANGE,
  ERR_HEADER_CRC, ERR_MACHINE, ERR_SYNC, ERR_TRUNCATED, ERR_VERSION, ESC_INIT, FORMAT_VERSION, FORMAT_VERSION_FLANKS, HEADER2_FIXED_BYTES,
  M_DIR, M_ESC, MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3, MAX_COLORS, MAX_SHIFT, MIN_SHIFT, MODEL_SIZE, RC_INIT, RC_TOP,
  SYNC_0, SYNC_1, TREE_LEVELS, FORMAT_RETIRED_2, FORMAT_RETIRED_3, ERR_RETIRED,
} from '../../shared/stream/format';

export interface FastDecoded {
  error: number;
  /** Byte index where the error was found (-1 when none). */
  at: number;
  ops: number[];
  hookCount: number;
  machineHash: number;
}

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[n] = c;
  }
  return t;
})();

function crc16(b: Uint8Array, start: number, end: number): number {
  let c = 0xffff;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xffff) ^ CRC_TABLE[((c >>> 8) ^ b[i]) & 0xff];
  return c;
}

function bitLength(n: number): number {
  return n <= 0 ? 0 : 32 - Math.clz32(n);
}

export function fastDecode(b: Uint8Array, expectMachine = 0): FastDecoded {
  const ops: number[] = [];
  const res = (error: number, at: number, hookCount = 0, machineHash = 0): FastDecoded => ({ error, at, ops, hookCount, machineHash });
  const n = b.length;
  const need = (k: number) => k < n;
  const magic = [MAGIC_0, MAGIC_1, MAGIC_2, MAGIC_3];
  for (let i = 0; i < 4; i++) {
    if (!need(i)) return res(ERR_TRUNCATED, n);
    if (b[i] !== magic[i]) return res(ERR_BAD_MAGIC, i);
  }
  if (!need(4)) return res(ERR_TRUNCATED, n);
  if (b[4] === FORMAT_RETIRED_2 || b[4] === FORMAT_RETIRED_3) return res(ERR_RETIRED, 4);
  if (b[4] !== FORMAT_VERSION && b[4] !== FORMAT_VERSION_FLANKS) return res(ERR_VERSION, 4);
  if (!need(HEADER2_FIXED_BYTES - 1)) return res(ERR_TRUNCATED, n);
  const headerLength = (b[6] << 8) | b[7];
  if (b[8] >= 0x80) return res(ERR_BAD_HEADER, 8);
  const machineHash = b[8] * 16777216 + (b[9] << 16) + (b[10] << 8) + b[11];
  const hookCount = (b[12] << 8) | b[13];
  if (b[14] >= 0x80) return res(ERR_BAD_HEADER, 14);
  const hookTotal = b[14] * 16777216 + (b[15] << 16) + (b[16] << 8) + b[17];
  const chunkHooks = (b[18] << 8) | b[19];
  const shift = b[20];
  const levels = b[21];
  const colorCount = b[22];
  if (hookCount < 2 || chunkHooks < 1 || colorCount > MAX_COLORS || shift < MIN_SHIFT || shift > MAX_SHIFT || levels > TREE_LEVELS ||
    headerLength < HEADER2_FIXED_BYTES + 3 * colorCount + (1 << levels) + 1) return res(ERR_BAD_HEADER, 22);
  if (expectMachine !== 0 && machineHash !== 0 && machineHash !== expectMachine) return res(ERR_MACHINE, 22, hookCount, machineHash);
  if (!need(headerLength + 1)) return res(ERR_TRUNCATED, n);
  if (crc16(b, 0, headerLength) !== ((b[headerLength] << 8) | b[headerLength + 1])) return res(ERR_HEADER_CRC, headerLength + 1);
  const priorAt = HEADER2_FIXED_BYTES + 3 * colorCount;
  const prior = new Int32Array(MODEL_SIZE);
  for (let i = 1; i < 1 << levels; i++) prior[i] = b[priorAt + i - 1] * 16 + 8;
  for (let i = 1 << levels; i < M_DIR; i++) prior[i] = 2048;
  prior[M_DIR] = b[priorAt + (1 << levels) - 1] * 16 + 8;
  prior[M_DIR + 1] = b[priorAt + (1 << levels)] * 16 + 8;
  prior[M_ESC] = ESC_INIT;
  const chunkCount = hookTotal === 0 ? 1 : Math.ceil(hookTotal / chunkHooks);
  if (chunkCount >= END_INDEX) return res(ERR_BAD_HEADER, headerLength + 1);
  const hookBits = bitLength(hookCount - 1);
  const half = hookCount >>> 1;
  const distBits = bitLength(half - 1);
  const colorBits = colorCount > 0 ? bitLength(colorCount - 1) : 0;
  const model = new Int32Array(MODEL_SIZE);
  const ONE = 4096;

  let pos = headerLength + 2;
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const start = pos;
    if (!need(pos + 4)) return res(ERR_TRUNCATED, n);
    if (b[pos] !== SYNC_0) return res(ERR_SYNC, pos);
    if (b[pos + 1] !== SYNC_1) return res(ERR_SYNC, pos + 1);
    if (((b[pos + 2] << 8) | b[pos + 3]) !== chunk) return res(ERR_CHUNK_INDEX, pos + 3);
    const first = chunk * chunkHooks;
    if (!need(pos + 10)) return res(ERR_TRUNCATED, n);
    if (b[pos + 4] * 16777216 + (b[pos + 5] << 16) + (b[pos + 6] << 8) + b[pos + 7] !== first) return res(ERR_CHUNK_INDEX, pos + 7);
    let events = b[pos + 8];
    if (events > 0 && colorCount === 0) return res(ERR_COLOR_RANGE, pos + 8);
    const bodyLength = (b[pos + 9] << 8) | b[pos + 10];
    pos += 11;
    const bodyEnd = pos + bodyLength;
    let hooks = Math.min(chunkHooks, hookTotal - first);
    if (hooks < 0) hooks = 0;
    if (hooks === 0 && events === 0 && bodyLength !== 0) return res(ERR_BODY, pos - 1);
    if (hooks > 0 || events > 0) {
      model.set(prior);
      if (bodyLength < 4) return res(ERR_BODY, pos - 1);
      if (!need(pos + 3)) return res(ERR_TRUNCATED, n);
      if (b[pos] >= 0x80) return res(ERR_BODY, pos);
      let code = b[pos] * 16777216 + (b[pos + 1] << 16) + (b[pos + 2] << 8) + b[pos + 3];
      pos += 4;
      let range = RC_INIT;
      if (code >= range) return res(ERR_BODY, pos - 1);
      let prev = 0;
      let prevDir = 0;
      let firstHook = true;
      // Reading past the end is a truncation; a byte index that would be needed but is missing is
      // reported when the loop finishes (pos > n).
      const value = (bits: number, limit: number, modelled: boolean): number => {
        let acc = 0;
        let node = 1;
        for (let k = bits - 1; k >= 0; k--) {
          if (acc + (1 << k) >= limit) continue;
          while (range < RC_TOP) {
            range *= 256;
            code = code * 256 + (pos < n ? b[pos] : 0);
            pos++;
          }
          let bit = 0;
          if (modelled && node < M_DIR) {
            const p = model[node];
            const bound = (range >>> 12) * p;
            if (code < bound) {
              range = bound;
              model[node] = p + ((ONE - p) >>> shift);
            } else {
              code -= bound;
              range -= bound;
              model[node] = p - (p >>> shift);
              bit = 1;
            }
          } else {
            const bound = range >>> 1;
            if (code < bound) range = bound;
            else {
              code -= bound;
              range -= bound;
              bit = 1;
            }
          }
          acc += bit << k;
          node = node * 2 + bit;
        }
        return acc;
      };
      const decide = (i: number): number => {
        while (range < RC_TOP) {
          range *= 256;
          code = code * 256 + (pos < n ? b[pos] : 0);
          pos++;
        }
        const p = model[i];
        const bound = (range >>> 12) * p;
        if (code < bound) {
          range = bound;
          model[i] = p + ((ONE - p) >>> shift);
          return 0;
        }
        code -= bound;
        range -= bound;
        model[i] = p - (p >>> shift);
        return 1;
      };
      while (hooks > 0 || events > 0) {
        if (events > 0 && (hooks === 0 || decide(M_ESC) === 1)) {
          ops.push(-1 - value(colorBits, colorCount, false));
          events--;
          continue;
        }
        let h: number;
        if (firstHook) {
          h = value(hookBits, hookCount, false);
          firstHook = false;
        } else {
          const dist = value(distBits, half, true) + 1;
          let delta = dist;
          if (dist * 2 < hookCount) {
            const dir = decide(M_DIR + prevDir);
            prevDir = dir;
            if (dir === 1) delta = hookCount - dist;
          }
          h = prev + delta;
          if (h >= hookCount) h -= hookCount;
        }
        prev = h;
        ops.push(h);
        hooks--;
      }
      if (pos > n) return res(ERR_TRUNCATED, n);
      // The body must use exactly its length (the reads above may run past it: damage).
      if (pos !== bodyEnd) return res(ERR_BODY, Math.min(pos, bodyEnd) - 1);
    }
    if (!need(pos + 1)) return res(ERR_TRUNCATED, n);
    if (crc16(b, start, pos) !== ((b[pos] << 8) | b[pos + 1])) return res(ERR_BODY_CRC, pos + 1);
    pos += 2;
  }
  if (!need(pos + 3)) return res(ERR_TRUNCATED, n);
  if (b[pos] !== SYNC_0) return res(ERR_SYNC, pos);
  if (b[pos + 1] !== SYNC_1) return res(ERR_SYNC, pos + 1);
  if (((b[pos + 2] << 8) | b[pos + 3]) !== END_INDEX) return res(ERR_CHUNK_INDEX, pos + 3);
  if (pos + 4 !== n) return res(ERR_AFTER_END, pos + 4, hookCount, machineHash);
  return res(0, -1, hookCount, machineHash);
}
