/**
 * A controller that answers in text lines on a serial port (Grbl, Marlin): bytes split into lines,
 * events to listeners, a wait for the event one needs, and the first 4 KB received kept for error
 * messages ("got …"). Subclasses classify the lines (onLine) and send in their own protocol.
 */
import type { ByteLink } from '../link/serial';

export abstract class LineLink<E extends { kind: string }> {
  private text = '';
  private listeners: ((e: E) => void)[] = [];
  /** Everything received (the first 4 KB), for error messages ("got …"). */
  received = '';
  closed: string | null = null;

  constructor(protected readonly link: ByteLink, private readonly closedEvent: (why: string) => E) {
    link.onData((b) => this.onBytes(b));
    link.onClose((why) => {
      this.closed = why;
      this.onClosed(why);
      this.emit(this.closedEvent(why));
    });
  }

  /** One line from the controller, trimmed, not empty. */
  protected abstract onLine(line: string): void;

  /** The port closed (before listeners hear of it). */
  protected onClosed(_why: string): void {}

  on(fn: (e: E) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }

  protected emit(e: E): void {
    for (const f of this.listeners.slice()) f(e);
  }

  private onBytes(b: Uint8Array) {
    const s = Buffer.from(b).toString('latin1');
    if (this.received.length < 4096) this.received += s;
    this.text += s;
    let i: number;
    while ((i = this.text.search(/[\r\n]/)) >= 0) {
      const line = this.text.slice(0, i).trim();
      this.text = this.text.slice(i + 1);
      if (line) this.onLine(line);
    }
    if (this.text.length > 1024) this.text = this.text.slice(-256); // not line-structured: not a controller we know
  }

  /** Wait for an event `pick` accepts (returns non-undefined), at most `ms`; null on timeout or close. */
  wait<T>(ms: number, pick: (e: E) => T | undefined): Promise<T | null> {
    return new Promise((resolve) => {
      let off = () => {};
      const t = setTimeout(() => {
        off();
        resolve(null);
      }, ms);
      off = this.on((e) => {
        const v = e.kind === 'closed' ? null : pick(e);
        if (v !== undefined) {
          clearTimeout(t);
          off();
          resolve(v);
        }
      });
    });
  }

  close(): Promise<void> {
    return this.link.close();
  }
}
