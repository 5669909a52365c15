/**
 * The acceptance suite's end of the link (docs/hil.md): every device frame decoded and logged with
 * its arrival time, the latest STATUS and HELLO_REPLY parsed, reliable DATA/CMD through the real
 * LinkSender (go-back-N, credit), raw writes for hand-made and malformed frames, and waits on
 * conditions with a deadline. A HostSession can be attached to drive a whole run (the short plan).
 */
import { FR_OK, FrameDecoder, encodeFrame } from '../../shared/link/frame';
import {
  CMD_START, NO_LINE, PROTOCOL_VERSION, T_ACK, T_CMD, T_DATA, T_HELLO, T_HELLO_REPLY, T_REJECT, T_STATUS,
  HELLO_REPLY_BYTES, STATUS_BYTES, getUint, putUint,
} from '../../shared/link/protocol';
import { LinkSender } from '../link/sender';
import type { ByteLink } from '../link/serial';
import { HELLO_EVERY_MS, type DeviceInfo, type DeviceStatus, type HostSession } from '../link/session';
import { parseHelloReply, parseStatus } from '../link/status';

export { parseHelloReply, parseStatus };

export interface DeviceFrame {
  type: number;
  seq: number;
  ack: number;
  payload: number[];
  /** Arrival, ms since the link was opened. */
  at: number;
}

/** A check that did not hold: the case fails with this message. */
export class CaseFailure extends Error {}

export const STATE_NAMES = ['boot', 'unhomed', 'homing', 'idle', 'running', 'paused', 'done', 'alarm'];
export const stateName = (s: number) => STATE_NAMES[s] ?? `state ${s}`;
export const hex32 = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');


export function describeStatus(s: DeviceStatus): string {
  const done = s.hooksDone === NO_LINE ? 'none' : String(s.hooksDone);
  return `${stateName(s.state)}${s.error ? ` error ${s.error}` : ''}, line ${s.line}/${s.lineCount}, hooks done ${done}`;
}

interface Waiter {
  check: () => boolean;
  resolve: () => void;
}

const TICK_MS = 5;

export class DeviceLink {
  readonly frames: DeviceFrame[] = [];
  status: DeviceStatus | null = null;
  /** Statuses received, in order (for "no progress while paused"). */
  statusCount = 0;
  /** Arrival (ms since the link was opened) of the last STATUS that differed in state, line or stored progress from the one before. */
  progressAt = 0;
  info: DeviceInfo | null = null;
  closedWhy: string | null = null;
  private sender: LinkSender | null = null;
  private session: HostSession | null = null;
  private decoder = new FrameDecoder();
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout;
  private t0 = performance.now();

  constructor(private link: ByteLink, private byteMs: number) {
    link.onData((bytes) => {
      const now = this.now();
      if (this.session) this.session.receive(bytes, now);
      for (let i = 0; i < bytes.length; i++) if (this.decoder.push(bytes[i]) === FR_OK) this.frame(now);
      this.pump();
    });
    link.onClose((why) => {
      this.closedWhy = why;
      this.pump();
    });
    this.timer = setInterval(() => this.pump(), TICK_MS);
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** Write bytes as they are (hand-made or deliberately broken frames). */
  writeRaw(bytes: ArrayLike<number>): void {
    this.link.write(Uint8Array.from(bytes as number[]));
  }

  /** Write one well-formed host frame with an explicit sequence number. */
  writeFrame(type: number, seq: number, payload: number[]): void {
    const b: number[] = [];
    encodeFrame(type, seq, 0, payload, b);
    this.writeRaw(b);
  }

  /** Index of the next frame to arrive (a mark for `nextFrame`). */
  mark(): number {
    return this.frames.length;
  }

  /**
   * HELLO (with an optional extra payload) every 250 ms until a HELLO_REPLY or REJECT answers it.
   * A HELLO_REPLY restarts reliable delivery at sequence number 0 with the reported window and
   * credit. Returns null when nothing answers within `timeoutMs`.
   */
  async hello(timeoutMs: number, payload: number[] = [PROTOCOL_VERSION]): Promise<DeviceFrame | null> {
    const from = this.mark();
    const deadline = this.now() + timeoutMs;
    let answer: DeviceFrame | null = null;
    while (!answer && this.now() < deadline && !this.closedWhy) {
      this.writeFrame(T_HELLO, 0, payload);
      const until = Math.min(deadline, this.now() + HELLO_EVERY_MS);
      answer = await this.waitQuiet(until - this.now(), () => this.find(from, (f) => f.type === T_HELLO_REPLY || f.type === T_REJECT));
    }
    if (answer && answer.type === T_HELLO_REPLY && answer.payload.length >= HELLO_REPLY_BYTES) {
      const info = parseHelloReply(answer.payload);
      this.info = info;
      this.sender = new LinkSender({ window: 8, timeoutMs: 60, maxTimeoutMs: 500, initialCredit: info.rxBuffer, byteMs: this.byteMs });
      this.sender.reset(info.rxBuffer, info.window);
    }
    return answer;
  }

  /** Queue a reliable command (needs a HELLO_REPLY first). */
  cmd(command: number, args: number[] = []): void {
    if (!this.sender) throw new CaseFailure('no session: the device never answered HELLO');
    this.sender.send(T_CMD, [command, ...args]);
    this.pump();
  }

  /**
   * HOME is separate; this queues START fromLine and the stream's bytes up to `end` (all of it by
   * default) as DATA frames of `chunk` bytes; `streamFrom` sends the rest later.
   */
  startAndStream(stream: Uint8Array, fromLine = 0, chunk = 60, end = stream.length): void {
    const start = [CMD_START];
    putUint(start, fromLine, 4);
    this.cmd(start[0], start.slice(1));
    this.streamFrom(stream, 0, chunk, end);
  }

  /** Queue the stream's bytes from `from` to `end` as DATA frames of `chunk` bytes (reliable, in order). */
  streamFrom(stream: Uint8Array, from: number, chunk = 60, end = stream.length): void {
    if (!this.sender) throw new CaseFailure('no session: the device never answered HELLO');
    for (let off = from; off < end; off += chunk) {
      const p: number[] = [];
      putUint(p, off, 4);
      for (let i = off; i < Math.min(end, off + chunk); i++) p.push(stream[i]);
      this.sender.send(T_DATA, p);
    }
    this.pump();
  }

  /** Reliable frames not yet acknowledged. */
  get pending(): number {
    return this.sender ? this.sender.pending : 0;
  }

  /** Stop reliable delivery (before hand-made sequence numbers, or when a HostSession takes over). */
  dropSender(): void {
    this.sender = null;
  }

  attachSession(s: HostSession | null): void {
    this.session = s;
    if (s) this.sender = null;
    this.pump();
  }

  /** The first frame from index `from` on that matches. */
  find(from: number, pred: (f: DeviceFrame) => boolean): DeviceFrame | null {
    for (let i = from; i < this.frames.length; i++) if (pred(this.frames[i])) return this.frames[i];
    return null;
  }

  /**
   * Wait until `check` returns a value other than null/undefined/false; fails after `timeoutMs` with
   * "timed out … waiting for WHAT". With `whileProgress` the limit counts from the device's last
   * progress (progressAt) instead: a device that keeps reporting new lines is waited for.
   */
  async waitFor<T>(what: string, timeoutMs: number, check: () => T | null | undefined | false, whileProgress = false): Promise<T> {
    const r = await this.waitQuiet(timeoutMs, check, whileProgress);
    if (r === null) {
      if (this.closedWhy) throw new CaseFailure(`the link closed while waiting for ${what}: ${this.closedWhy}`);
      const st = this.status ? `; last status: ${describeStatus(this.status)}` : '; no STATUS received';
      throw new CaseFailure(`timed out after ${(timeoutMs / 1000).toFixed(1)} s${whileProgress ? ' without progress' : ''} waiting for ${what}${st}`);
    }
    return r;
  }

  /** Like waitFor, but resolves null on a timeout or a closed link. */
  waitQuiet<T>(timeoutMs: number, check: () => T | null | undefined | false, whileProgress = false): Promise<T | null> {
    return new Promise((resolve) => {
      let value: T | null | undefined | false = null;
      const deadline = this.now() + timeoutMs;
      const w: Waiter = {
        check: () => {
          value = check();
          if (value !== null && value !== undefined && value !== false) return true;
          if (this.closedWhy || this.now() >= (whileProgress ? Math.max(deadline, this.progressAt + timeoutMs) : deadline)) {
            value = null;
            return true;
          }
          return false;
        },
        resolve: () => resolve(value as T | null),
      };
      if (w.check()) return resolve(value as T | null);
      this.waiters.push(w);
    });
  }

  /** Wait a while, letting frames arrive and the sender run. */
  sleep(ms: number): Promise<void> {
    return this.waitQuiet(ms, () => false).then(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const w of this.waiters.splice(0)) w.resolve();
    await this.link.close();
  }

  private frame(now: number): void {
    const d = this.decoder;
    const f: DeviceFrame = { type: d.type, seq: d.seq, ack: d.ack, payload: d.payload.slice(0, d.length), at: now };
    this.frames.push(f);
    if (f.type === T_STATUS && f.payload.length >= STATUS_BYTES) {
      const prev = this.status;
      this.status = parseStatus(f.payload);
      this.statusCount++;
      const s = this.status;
      if (!prev || s.state !== prev.state || s.line !== prev.line || s.hooksDone !== prev.hooksDone) this.progressAt = now;
    } else if (f.type === T_ACK && f.payload.length >= 2 && this.sender) {
      this.sender.acked(f.ack, getUint(f.payload, 0, 2), now);
    }
  }

  private pump(): void {
    const now = this.now();
    if (!this.closedWhy) {
      if (this.session) for (const b of this.session.poll(now)) this.link.write(b);
      else if (this.sender) for (const b of this.sender.poll(now)) this.link.write(b);
    }
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    const ready: Waiter[] = [];
    for (const w of this.waiters) (w.check() ? ready : still).push(w);
    this.waiters = still;
    for (const w of ready) w.resolve();
  }
}
