import { flankDirection } from '../shared/geometry/wrap';

/*
 * One numbering for people, in everything hookline prints for a person to read (the stringing
 * instructions set it, docs/instructions.md): hooks are numbered 0..N-1 as in plan.json, and where
 * the winding is fixed (plans with flanks) the number is followed by c (wind clockwise) or a
 * (anticlockwise); lines and colours are counted from 1 ("line 12", "colour 2 of 3"). Machine
 * formats (plan.json, stream files, --json output, reports) keep their own indices.
 */

/** A hook and, when known, its winding: 1 → "12c", -1 → "12a", none → "12". */
export function hookLabel(hook: number, dir?: number | null): string {
  return `${hook}${dir === 1 ? 'c' : dir === -1 ? 'a' : ''}`;
}

/** A flank index of a flanked plan or stream (hook v >> 1, flank 0 winds clockwise) as a person reads it. */
export function flankLabel(flank: number): string {
  return hookLabel(flank >> 1, flankDirection(flank));
}

/** "colour 2 of 3" for the 0-based palette index 1 of 3 colours. */
export function colourLabel(index: number, count: number): string {
  return `colour ${index + 1} of ${count}`;
}

/** Where path position i is, for a person: position 0 is the start hook, position i ≥ 1 ends line i. */
export function pathPlace(i: number): string {
  return i === 0 ? 'the start hook' : `line ${i}`;
}
