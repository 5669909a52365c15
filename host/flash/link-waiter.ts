import { UserError } from '../errors';
import type { ByteLink } from '../link/serial';

/**
 * Waiting on a board's REPL during `hookline flash`: the flasher's own data handler keeps what
 * arrived and calls poke(); waitUntil(cond, deadline) re-checks cond on every arrival (and every
 * 50 ms) until it holds or the deadline passes. A closed port is a one-line UserError.
 */
export class LinkWaiter {
  closed: string | null = null;
  private wake: (() => void) | null = null;

  constructor(link: ByteLink, private readonly port: string) {
    link.onClose((why) => {
      this.closed = why;
      this.poke();
    });
  }

  /** Something arrived: let a waiting check run. */
  poke(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  /** Wait until cond() holds or Date.now() reaches deadline; false on timeout. */
  async waitUntil(cond: () => boolean, deadline: number): Promise<boolean> {
    while (!cond()) {
      if (this.closed) throw new UserError(`flash: ${this.port}: ${this.closed}; reconnect the board and run hookline flash again`);
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return true;
  }

  /** waitUntil with a duration instead of a deadline. */
  waitFor(cond: () => boolean, ms: number): Promise<boolean> {
    return this.waitUntil(cond, Date.now() + ms);
  }
}
