export interface ThumbListing {
  pc: number;
  word: number;
  text: string;
}
export function assemble(source: string): { bytes: Uint8Array; labels: Record<string, number>; listing: ThumbListing[] };
export function stepCodeModule(source: string): string;
export const SOURCE: string;
export const OUTPUT: string;
export function pathCycles(listing: ThumbListing[], labels: Record<string, number>, from: number, to: number, taken: number[], P: number): { cycles: number; instructions: number };
export function routinePaths(source: string): Record<string, string | number>[];
