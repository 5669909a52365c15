/**
 * A Marlin 2.x controller on a serial port: its answers split into lines and classified
 * (marlin-protocol.ts), every command sent as `N<n> <gcode>*<checksum>` and answered by one `ok`,
 * refused lines sent again from Marlin's `Resend: n`. Flow control is the caller's: `send` resolves
 * at the line's `ok`, and marlin-run.ts sends the next line only then (ping-pong, as OctoPrint and
 * Pronterface do; docs/targets/marlin.md says why not a window).
 */
import type { ByteLink } from '../link/serial';
import { LineLink } from './line-link';
import { frameLine, parseMarlinLine, type MarlinLine } from './marlin-protocol';

export type MarlinEvent =
  | MarlinLine
  | { kind: 'protocol'; text: string }
  | { kind: 'closed'; why: string };

interface Pending {
  n: number;
  text: string;
  said: string[];
  resolve: (said: string[]) => void;
  reject: (e: Error) => void;
}

/** Lines kept for resending (Marlin asks for the line after its last good one: a few back at most). */
const HISTORY = 64;
/** A line refused this many times: the serial line is too noisy to go on. */
const MAX_RESENDS_PER_LINE = 10;

export class MarlinLinkClosed extends Error {}

export class MarlinLink extends LineLink<MarlinEvent> {
  private nextN = 1;
  private history = new Map<number, string>();
  private pending: Pending[] = [];
  /** `ok`s that answer a `Resend:` (Marlin 2.1's flush_and_request_resend), not a line. */
  private swallow = 0;
  private resendsOf = new Map<number, number>();
  /** Lines sent again after a `Resend:`. */
  resent = 0;
  /** Date.now() of the last line from Marlin. */
  lastHeard = Date.now();

  constructor(link: ByteLink) {
    super(link, (why) => ({ kind: 'closed', why }));
  }

  protected onClosed(why: string): void {
    const p = this.pending;
    this.pending = [];
    for (const x of p) x.reject(new MarlinLinkClosed(why));
  }

  protected onLine(raw: string): void {
    this.lastHeard = Date.now();
    const l = parseMarlinLine(raw);
    if (l.kind === 'ok') {
      if (this.swallow > 0) {
        this.swallow--;
        return;
      }
      const p = this.pending.shift();
      if (p) p.resolve(p.said);
      this.emit(l);
      return;
    }
    if (l.kind === 'resend') {
      this.swallow++;
      this.resendFrom(l.n);
      this.emit(l);
      return;
    }
    if (this.pending[0] && l.kind !== 'busy') this.pending[0].said.push(raw);
    this.emit(l);
  }

  private resendFrom(n: number) {
    const head = this.pending[0];
    if (head && /^M110\b/.test(head.text)) {
      // A refused M110 (it is exempt from the numbering): Marlin asks for its old last line + 1; send M110 again.
      for (const p of this.pending) this.write(frameLine(p.n, p.text));
      this.resent += this.pending.length;
      return;
    }
    if (n === this.nextN) return; // the next line: nothing of ours was refused
    if (n > this.nextN || !this.history.has(n)) {
      this.emit({ kind: 'protocol', text: `Marlin asked for line ${n} again, but the last line sent was ${this.nextN - 1}${n < this.nextN ? ` and lines before ${this.nextN - HISTORY} are not kept` : ''}` });
      return;
    }
    const times = (this.resendsOf.get(n) ?? 0) + 1;
    this.resendsOf.set(n, times);
    if (times > MAX_RESENDS_PER_LINE) {
      this.emit({ kind: 'protocol', text: `Marlin refused line ${n} ${MAX_RESENDS_PER_LINE} times (checksum or numbering): the serial line is too noisy; check the cable and --baud` });
      return;
    }
    for (let m = n; m < this.nextN; m++) {
      this.resent++;
      this.write(frameLine(m, this.history.get(m)!));
    }
  }

  private write(framed: string) {
    this.link.write(Buffer.from(framed + '\n', 'latin1'));
  }

  /** Bytes as they are, outside the numbering (identification before numbering starts). */
  writeRaw(s: string): void {
    this.link.write(Buffer.from(s, 'latin1'));
  }

  /** Lines sent and not answered yet. */
  inflight(): number {
    return this.pending.length;
  }

  /** The number the next line gets. */
  nextLineNumber(): number {
    return this.nextN;
  }

  /**
   * `M110 N0` as line 0: Marlin's next expected line is N1. Only with nothing in flight (a line
   * answered after it would be taken for its answer).
   */
  resetNumbering(): Promise<string[]> {
    this.nextN = 0;
    this.history.clear();
    this.resendsOf.clear();
    return this.send('M110 N0');
  }

  /** Send `text` numbered; resolves at its `ok` with what Marlin said meanwhile, rejects if the port closes. */
  send(text: string): Promise<string[]> {
    if (this.closed) return Promise.reject(new MarlinLinkClosed(this.closed));
    const n = this.nextN++;
    this.history.set(n, text);
    this.history.delete(n - HISTORY);
    return new Promise((resolve, reject) => {
      this.pending.push({ n, text, said: [], resolve, reject });
      this.write(frameLine(n, text));
    });
  }
}
