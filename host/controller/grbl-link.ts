/**
 * A Grbl 1.1 controller on a serial port: its answers split into lines, `$` commands sent one at a
 * time, G-code streamed by character counting against Grbl's 128-byte receive buffer (the flow
 * control Grbl's own docs recommend), real-time bytes (`?` status, `!` feed hold, `~` cycle start,
 * Ctrl-X soft reset) sent at once, outside the buffer.
 */
import type { ByteLink } from '../link/serial';

/** Grbl's serial receive buffer (RX_BUFFER_SIZE on an ATmega328p). */
export const GRBL_RX_BUFFER = 128;

export interface GrblStatus {
  /** Idle, Run, Hold, Jog, Alarm, Door, Check, Home, Sleep. */
  state: string;
  /** Hold:0 (stopped) / Hold:1 (stopping), Door:N. */
  sub: number;
  mpos: [number, number, number];
  /** Pn: the input pins reported pressed (X, Y, Z limits, P probe, …). */
  pins: string;
}

export type GrblEvent =
  | { kind: 'ok' | 'error'; line: string; code: number }
  | { kind: 'alarm'; code: number }
  | { kind: 'banner'; version: string }
  | { kind: 'status'; status: GrblStatus }
  | { kind: 'message'; text: string }
  | { kind: 'closed'; why: string };

export function parseStatus(line: string): GrblStatus | null {
  const m = /^<([A-Za-z]+)(?::(\d+))?\|(.*)>$/.exec(line);
  if (!m) return null;
  const fields = new Map(m[3].split('|').map((f) => [f.slice(0, f.indexOf(':')), f.slice(f.indexOf(':') + 1)] as const));
  const pos = (fields.get('MPos') ?? fields.get('WPos'))?.split(',').map(Number);
  if (!pos || pos.length < 3 || pos.some((v) => !Number.isFinite(v))) return null;
  return { state: m[1], sub: m[2] ? Number(m[2]) : 0, mpos: [pos[0], pos[1], pos[2]], pins: fields.get('Pn') ?? '' };
}

export class GrblLink {
  private text = '';
  /** Lines sent and not yet answered, oldest first, with their byte counts. */
  private inflight: { line: string; bytes: number }[] = [];
  private listeners: ((e: GrblEvent) => void)[] = [];
  /** Everything received, for error messages ("got …"). */
  received = '';
  closed: string | null = null;
  lastStatus: GrblStatus | null = null;

  constructor(private readonly link: ByteLink) {
    link.onData((b) => this.onBytes(b));
    link.onClose((why) => {
      this.closed = why;
      this.emit({ kind: 'closed', why });
    });
  }

  on(fn: (e: GrblEvent) => void): () => void {
    this.listeners.push(fn);
    return () => {
      this.listeners = this.listeners.filter((f) => f !== fn);
    };
  }

  private emit(e: GrblEvent) {
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
    if (this.text.length > 1024) this.text = this.text.slice(-256); // not line-structured: not Grbl
  }

  private onLine(line: string) {
    if (line.startsWith('<')) {
      const st = parseStatus(line);
      if (st) {
        this.lastStatus = st;
        this.emit({ kind: 'status', status: st });
      }
      return;
    }
    if (line === 'ok' || /^error:\d+$/.test(line)) {
      const sent = this.inflight.shift();
      this.emit({ kind: line === 'ok' ? 'ok' : 'error', line: sent ? sent.line : '', code: line === 'ok' ? 0 : Number(line.slice(6)) });
      return;
    }
    const alarm = /^ALARM:(\d+)$/.exec(line);
    if (alarm) return this.emit({ kind: 'alarm', code: Number(alarm[1]) });
    const banner = /^Grbl (\S+)/.exec(line);
    if (banner) {
      // A reset: whatever was in flight is gone.
      this.inflight = [];
      return this.emit({ kind: 'banner', version: banner[1] });
    }
    this.emit({ kind: 'message', text: line });
  }

  /** Bytes of sent lines Grbl has not answered yet (in its receive buffer or being executed). */
  inflightBytes(): number {
    let n = 0;
    for (const p of this.inflight) n += p.bytes;
    return n;
  }

  inflightLines(): number {
    return this.inflight.length;
  }

  /** Whether `line` fits in Grbl's receive buffer now (character counting). */
  fits(line: string): boolean {
    return this.inflightBytes() + line.length + 1 <= GRBL_RX_BUFFER;
  }

  send(line: string): void {
    this.inflight.push({ line, bytes: line.length + 1 });
    this.link.write(Buffer.from(line + '\n', 'latin1'));
  }

  /** A real-time command: `?`, `!`, `~`, 0x18. */
  realtime(c: string): void {
    this.link.write(Buffer.from(c, 'latin1'));
  }

  /** Forget lines in flight (after a soft reset Grbl drops its buffers and answers none of them). */
  dropInflight(): void {
    this.inflight = [];
  }

  /** Wait for an event `pick` accepts (returns non-undefined), at most `ms`; null on timeout or close. */
  wait<T>(ms: number, pick: (e: GrblEvent) => T | undefined): Promise<T | null> {
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

  /**
   * A `$` command or a single line, answered before anything else is sent: resolves with the
   * lines Grbl said before its ok, or throws with its error/alarm. `ms`: a limit for a hang.
   */
  async command(line: string, ms: number): Promise<string[]> {
    const said: string[] = [];
    const off = this.on((e) => {
      if (e.kind === 'message') said.push(e.text);
    });
    this.send(line);
    try {
      const r = await this.wait<GrblEvent>(ms, (e) => (e.kind === 'ok' || e.kind === 'error' || e.kind === 'alarm' || e.kind === 'banner' ? e : undefined));
      if (!r) throw new GrblCommandError(line, this.closed ? `the port closed: ${this.closed}` : `no answer within ${Math.round(ms / 1000)} s`);
      if (r.kind === 'error') throw new GrblCommandError(line, `error:${r.code}`, r.code);
      if (r.kind === 'alarm') throw new GrblCommandError(line, `ALARM:${r.code}`, undefined, r.code);
      if (r.kind === 'banner') throw new GrblCommandError(line, 'Grbl reset');
      return said;
    } finally {
      off();
    }
  }

  close(): Promise<void> {
    return this.link.close();
  }
}

export class GrblCommandError extends Error {
  constructor(readonly line: string, readonly why: string, readonly errorCode?: number, readonly alarmCode?: number) {
    super(`${line}: ${why}`);
  }
}
