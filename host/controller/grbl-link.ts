/**
 * A Grbl 1.1 controller on a serial port: its answers split into lines, `$` commands sent one at a
 * time, G-code streamed by character counting against Grbl's 128-byte receive buffer (the flow
 * control Grbl's own docs recommend), real-time bytes (`?` status, `!` feed hold, `~` cycle start,
 * Ctrl-X soft reset) sent at once, outside the buffer.
 */
import type { ByteLink } from '../link/serial';
import { LineLink } from './line-link';

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

export class GrblLink extends LineLink<GrblEvent> {
  /** Lines sent and not yet answered, oldest first, with their byte counts. */
  private inflight: { line: string; bytes: number }[] = [];

  constructor(link: ByteLink) {
    super(link, (why) => ({ kind: 'closed', why }));
  }

  protected onLine(line: string): void {
    if (line.startsWith('<')) {
      const st = parseStatus(line);
      if (st) this.emit({ kind: 'status', status: st });
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

}

export class GrblCommandError extends Error {
  constructor(readonly line: string, readonly why: string, readonly errorCode?: number, readonly alarmCode?: number) {
    super(`${line}: ${why}`);
  }
}
