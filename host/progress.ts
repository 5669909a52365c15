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
  /**
   * Stay silent until the run has taken this long (ms), so short runs print nothing. Default: the
   * environment's HOOKLINE_PROGRESS_DELAY_MS (tests set it: 0 to see every bar, large to see none),
   * else 1000.
   */
  delayMs?: number;
  stream?: NodeJS.WriteStream;
  /** Wall clock in ms (tests give a fake one). */
  now?: () => number;
  /**
   * CPU time this process has used, in ms: the work done so far. The bar appears once the work,
   * not just the wait, has passed the delay (so a short run on a busy machine stays silent too), or
   * once the wait has passed three delays. Default: process.cpuUsage() when `now` is not given,
   * else the `now` clock.
   */
  cpuNow?: () => number;
}

/** Time left as m:ss, or h:mm:ss from an hour on. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/**
 * On a TTY: one line redrawn in place (`label [#####-----]  50% ETA 0:07`), at most 10 times a
 * second, cleared at the end. Otherwise: a plain line per 10 % step (`label: 50% ETA 0:07`). The ETA
 * is the time so far scaled by the fraction left (shown once both are above 0, not at 100 %).
 * Silent with `quiet`, for runs shorter than `delayMs` (in wall time, and in CPU time until the wall
 * time reaches three delays: `cpuNow`),
 * and while the ETA says the run ends within another `delayMs` (a bar that would vanish at once is
 * noise).
 */
export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? (() => performance.now());
  const start = now();
  const cpuNow = o.cpuNow ?? (o.now ? now : () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; });
  const cpuStart = cpuNow();
  const delay = o.delayMs ?? envDelayMs() ?? 1000;
  const tty = stream.isTTY === true;
  let shown = false;
  let lastDraw = -Infinity;
  let lastStep = -1;
  let lastLength = 0;
  return {
    update(fraction) {
      if (o.quiet) return;
      const t = now();
      const elapsed = t - start;
      if (elapsed < delay) return;
      const f = Math.max(0, Math.min(1, fraction));
      const etaMs = f > 0 && f < 1 && elapsed > 0 ? (elapsed * (1 - f)) / f : NaN;
      // Not yet shown: wait until the work (CPU time) passes the delay too, or the wait alone passes
      // three delays (a busy machine's user still gets a bar for a long wait).
      if (!shown && (f >= 1 || etaMs < delay || (cpuNow() - cpuStart < delay && elapsed < 3 * delay))) return;
      const eta = Number.isFinite(etaMs) ? ` ETA ${formatEta(etaMs)}` : '';
      if (tty) {
        if (t - lastDraw < 100) return;
        lastDraw = t;
        const width = 30;
        const full = Math.round(f * width);
        const line = `${o.label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(Math.round(f * 100)).padStart(3)}%${eta}`;
        stream.write(`\r${line.padEnd(lastLength)}`);
        lastLength = line.length;
        shown = true;
      } else {
        const step = Math.floor(f * 10);
        if (step <= lastStep) return;
        lastStep = step;
        stream.write(`${o.label}: ${step * 10}%${eta}\n`);
        shown = true;
      }
    },
    done() {
      if (o.quiet || !shown) return;
      if (tty) stream.write('\r\x1b[K');
    },
  };
}

function envDelayMs(): number | undefined {
  const raw = process.env.HOOKLINE_PROGRESS_DELAY_MS;
  const v = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}
