import { createInterface } from 'node:readline';

/** What the operator is asked at a colour change: the colour by number and by value. */
export function threadChangePrompt(index: number, palette: string[]): string {
  const value = palette[index] ?? '(not in the palette)';
  return `\nchange the thread to colour ${index + 1} of ${palette.length}, ${value}, then press Enter to continue `;
}

/** Ask on the terminal for the thread change to colour `index`; resolves when Enter is pressed. */
export function askThreadChange(index: number, palette: string[]): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(threadChangePrompt(index, palette), () => {
      rl.close();
      // A paused stdin must not keep the process alive after the run.
      (process.stdin as { unref?: () => void }).unref?.();
      resolve();
    });
  });
}
