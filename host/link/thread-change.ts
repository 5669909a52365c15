/** What the operator is asked at a colour change: the colour by number and by value. */
export function threadChangePrompt(index: number, palette: string[]): string {
  const value = palette[index] ?? '(not in the palette)';
  return `\nchange the thread to colour ${index + 1} of ${palette.length}, ${value}, then press Enter to continue `;
}
