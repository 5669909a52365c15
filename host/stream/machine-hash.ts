/**
 * The machine-profile hash a version 2 stream carries (docs/stream-format.md, "Machine hash"):
 * CRC-32 (IEEE, as zlib/PNG) of the profile's canonical JSON — keys sorted at every level, no
 * whitespace, the free-text `description` left out — with the top bit cleared so that it fits the
 * device's 31-bit integers. 0 means "any machine", so a CRC that comes out 0 is written as 1.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson((value as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

let table: Uint32Array | null = null;

export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function machineHash(profile: object): number {
  const { description: _ignored, ...rest } = profile as Record<string, unknown>;
  const h = crc32(new TextEncoder().encode(canonicalJson(rest))) & 0x7fffffff;
  return h === 0 ? 1 : h;
}

export function hashText(hash: number): string {
  return hash === 0 ? 'any machine (0)' : '0x' + hash.toString(16).padStart(8, '0');
}
