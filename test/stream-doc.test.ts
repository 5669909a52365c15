import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { decodeAll } from '../bench/fuzz-stream';
import { repoRoot } from './helpers/cli';

/** The hex bytes of the first code block after `heading` (text after 3+ spaces on a line is a comment). */
function exampleBytes(doc: string, heading: string): number[] {
  const at = doc.indexOf(heading);
  expect(at).toBeGreaterThanOrEqual(0);
  const example = doc.slice(at);
  const open = example.indexOf('```') + 3;
  const block = example.slice(open, example.indexOf('```', open));
  return block
    .split('\n')
    .map((line) => line.replace(/\s\s\s+\S.*$/, ''))
    .join(' ')
    .split(/\s+/)
    .filter((t) => /^[0-9A-F]{2}$/.test(t))
    .map((t) => parseInt(t, 16));
}

/** The examples in docs/stream-format.md are normative: the encoder must produce exactly those bytes. */
describe('docs/stream-format.md examples', () => {
  const doc = readFileSync(join(repoRoot, 'docs/stream-format.md'), 'utf8');

  it('format 4 matches the encoder byte for byte and decodes to its path', () => {
    const ops = [1, 5, -2, 9, 2];
    const bytes = exampleBytes(doc, '## Example (format 4)');
    expect(bytes).toEqual(encodeStream(ops, 10, [0x000000, 0xff0000], { version: 4, chunkHooks: 2, shift: 5, priorLevels: 1 }));
    expect(decodeAll(bytes).ops).toEqual(ops);
  });

  it('format 1 matches the encoder byte for byte', () => {
    expect(exampleBytes(doc, '## Example (format 1)')).toEqual(encodeStream([1, 2], 10, [0]));
  });
});
