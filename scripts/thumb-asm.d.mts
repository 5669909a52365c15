export interface ThumbListing {
  pc: number;
  word: number;
  text: string;
}
export function assemble(source: string): { bytes: Uint8Array; labels: Record<string, number>; listing: ThumbListing[] };
export function stepCodeModule(source: string): string;
export const SOURCE: string;
export const OUTPUT: string;
