/** A progress bar on stderr for long runs; see createProgress. */
export interface Progress {
  /** Report the fraction done, 0..1. Cheap to call often. */
  update(fraction: number): void;
  /** Finish: a TTY bar is cleared (only if it was shown). */
  done(): void;
}

export interface ProgressOptions {
  /** Shown before the bar, e.g. "plan". */
  label: string;
  /** Show nothing at all. */
  quiet?: boolean;
  /** Stay silent until the run has taken this long (ms), so short runs print nothing. Default 1000. */
  delayMs?: number;
  stream?: NodeJS.WriteStream;
  now?: () => number;
}

/**
 * On a TTY: one line redrawn in place (`label [#####-----]  50%`), at most 10 times a second,
 * cleared at the end. Otherwise: a plain line per 10 % step (`label: 50%`). Silent with `quiet`
 * and for runs shorter than `delayMs`.
 */
export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? (() => performance.now());
  const start = now();
  const delay = o.delayMs ?? 1000;
  const tty = stream.isTTY === true;
  let shown = false;
  let lastDraw = -Infinity;
  let lastStep = -1;
  return {
    update(fraction) {
      if (o.quiet) return;
      const t = now();
      if (t - start < delay) return;
      const f = Math.max(0, Math.min(1, fraction));
      if (tty) {
        if (t - lastDraw < 100) return;
        lastDraw = t;
        const width = 30;
        const full = Math.round(f * width);
        stream.write(`\r${o.label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%`);
        shown = true;
      } else {
        const step = Math.floor(f * 10);
        if (step <= lastStep) return;
        lastStep = step;
        stream.write(`${o.label}: ${step * 10}%\n`);
        shown = true;
      }
    },
    done() {
      if (o.quiet || !shown) return;
      if (tty) stream.write('\r\x1b[K');
    },
  };
}
