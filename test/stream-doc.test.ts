import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { repoRoot } from './helpers/cli';

/** The example in docs/stream-format.md is normative: the encoder must produce exactly those bytes. */
describe('docs/stream-format.md example', () => {
  it('matches the encoder byte for byte', () => {
    const doc = readFileSync(join(repoRoot, 'docs/stream-format.md'), 'utf8');
    const example = doc.slice(doc.indexOf('## Example'));
    const block = example.slice(example.indexOf('```') + 3, example.indexOf('```', example.indexOf('```') + 3));
    const bytes = block
      .split('\n')
      .map((line) => line.replace(/\s\s\s+\S.*$/, ''))
      .join(' ')
      .split(/\s+/)
      .filter((t) => /^[0-9A-F]{2}$/.test(t))
      .map((t) => parseInt(t, 16));
    expect(bytes).toEqual(encodeStream([1, 2], 10, [0]));
  });
});
