import { encodeFrame } from '../../shared/link/frame';
import { seqDiff } from '../../shared/link/protocol';

export interface SenderOptions {
  /** Frames in flight at most (< 128 so 8-bit sequence numbers stay unambiguous). */
  window: number;
  /** First retransmit timeout, ms; doubled on every timeout without progress, up to maxTimeoutMs. */
  timeoutMs: number;
  maxTimeoutMs: number;
  /** The device's receive buffer in bytes, until its first ACK reports its credit. */
  initialCredit: number;
  /** Time one byte takes on the line, ms (10 bits at the baud rate). */
  byteMs: number;
}

/** An encoded ACK frame: code, type, seq, ack, length, 2 credit bytes, 2 CRC bytes, delimiter. */
const ACK_BYTES = 10;
/** With frames refused for lack of room, probe this often (a lost window update cannot stall the link for longer). */
const PERSIST_MS = 4000;

interface Pending {
  seq: number;
  size: number;
  bytes: Uint8Array;
  type: number;
  payload: number[];
}

/**
 * The host end of the link, without I/O: queue reliable frames with `send`, hand every device ACK
 * to `acked`, and call `poll(now)` whenever time passes or something arrives; it returns the encoded
 * frames to write now. Go-back-N with credit: new frames go out only while their payload fits the
 * device's last reported free space; on a timeout or a repeated ACK everything in flight is sent
 * again in order (the device accepts frames only in sequence). With no credit and nothing in
 * flight, one frame is sent per timeout as a probe, so a lost window update cannot stall the link.
 */
export class LinkSender {
  private queue: { type: number; payload: number[] }[] = [];
  private inFlight: Pending[] = [];
  private nextSeq = 0;
  private deadline = Infinity;
  private rto: number;
  private resendNow = false;
  private lastAck = -1;
  private credit: number;
  /** After a resend, ACKs for frames that were already on the line still repeat the old number:
   * ignore repeats until the resent first frame can have arrived and been answered. */
  private quietUntil = 0;
  /** When everything written so far has left the host (the line is a FIFO at the baud rate). */
  private lineFreeAt = 0;
  retransmissions = 0;
  timeouts = 0;
  /** Go-back-N rounds (a timeout or a repeated ACK made everything in flight go again). */
  resends = 0;
  /** Frames the device has acknowledged. */
  delivered = 0;
  framesSent = 0;
  bytesSent = 0;

  constructor(private opts: SenderOptions) {
    this.rto = opts.timeoutMs;
    this.credit = opts.initialCredit;
  }

  /** Start over after a HELLO: sequence numbers restart at 0; frames in flight go back to the queue front. */
  reset(credit: number, window: number): void {
    this.inFlight = [];
    this.nextSeq = 0;
    this.deadline = Infinity;
    this.rto = this.opts.timeoutMs;
    this.lastAck = -1;
    this.credit = credit;
    this.opts.window = Math.max(1, Math.min(window, 127));
  }

  /** Drop everything not yet delivered (e.g. before re-sending from a resume point). */
  clear(): void {
    this.queue = [];
    this.inFlight = [];
    this.deadline = Infinity;
  }

  /**
   * The payloads of the frames in flight (oldest first). Queued frames are not included.
   */
  inFlightPayloads(): number[][] {
    const out: number[][] = [];
    for (const p of this.inFlight) out.push(p.payload);
    return out;
  }

  /** The payloads of the frames queued, not yet sent (oldest first). */
  queuedPayloads(): number[][] {
    return this.queue.map((q) => q.payload);
  }

  /**
   * Give the frames in flight new payloads, keeping their sequence numbers, and drop the queue.
   * Only for payloads the device may receive twice or in part (DATA: it takes bytes by stream
   * offset): if an ACK was lost the device already took the old frame of that number, and its ACK
   * acknowledges the replacement, which is a part of the same stream. Keeping the numbers keeps
   * every ACK meaningful.
   */
  replaceInFlight(payloads: number[][]): void {
    for (let i = 0; i < this.inFlight.length; i++) {
      const p = this.inFlight[i];
      const bytes: number[] = [];
      encodeFrame(p.type, p.seq, 0, payloads[i], bytes);
      this.inFlight[i] = { seq: p.seq, size: payloads[i].length, bytes: Uint8Array.from(bytes), type: p.type, payload: payloads[i] };
    }
    this.queue = [];
  }

  /** The types of the frames not yet acknowledged (in flight, then queued). */
  pendingTypes(): number[] {
    const t: number[] = [];
    for (const p of this.inFlight) t.push(p.type);
    for (const q of this.queue) t.push(q.type);
    return t;
  }

  /** The largest payload not yet acknowledged (bytes). */
  pendingPayloadMax(): number {
    let n = 0;
    for (const p of this.inFlight) n = Math.max(n, p.payload.length);
    for (const q of this.queue) n = Math.max(n, q.payload.length);
    return n;
  }

  send(type: number, payload: number[]): void {
    this.queue.push({ type, payload });
  }

  /** Frames queued, not yet sent. */
  get queued(): number {
    return this.queue.length;
  }

  /** Frames queued or in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight.length;
  }

  /** A device ACK: it expects `ack` next (everything before it was delivered) and has `credit` bytes free. */
  acked(ack: number, credit: number, now: number): void {
    this.credit = credit;
    let progress = false;
    while (this.inFlight.length > 0) {
      const d = seqDiff(ack, this.inFlight[0].seq);
      if (d === 0 || d > this.inFlight.length) break;
      this.inFlight.shift();
      this.delivered++;
      progress = true;
    }
    if (progress) {
      this.rto = this.opts.timeoutMs;
      this.deadline = now + this.rto;
    } else if (this.inFlight.length && this.inFlight[0].size > credit) {
      // Not a loss: the device has no room for the frame yet and will send a window update when it
      // has; only probe again after the persist interval, in case that update is lost.
      this.deadline = Math.max(this.deadline, now + PERSIST_MS);
    } else if (this.inFlight.length && ack === this.lastAck && this.inFlight[0].size <= credit && now >= this.quietUntil) {
      this.resendNow = true; // the device has room but asks again for the same frame: it was lost or damaged
    }
    this.lastAck = ack;
  }

  /** Frames to write at time `now` (ms). */
  poll(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.inFlight.length && (this.resendNow || now >= this.deadline)) {
      if (!this.resendNow) {
        this.timeouts++;
        this.rto = Math.min(this.rto * 2, this.opts.maxTimeoutMs);
      }
      this.resendNow = false;
      this.resends++;
      let budget = this.credit;
      for (const p of this.inFlight) {
        if (out.length > 0 && p.size > budget) break;
        budget -= p.size;
        out.push(p.bytes);
      }
      this.retransmissions += out.length;
      const headArrives = Math.max(now, this.lineFreeAt) + out[0].length * this.opts.byteMs;
      this.quietUntil = headArrives + ACK_BYTES * this.opts.byteMs + 1;
      this.deadline = Math.max(now + this.rto, this.quietUntil);
    }
    let inFlightBytes = 0;
    for (const p of this.inFlight) inFlightBytes += p.size;
    const probe = this.inFlight.length === 0 && this.queue.length > 0 && now >= this.deadline;
    while (this.queue.length && this.inFlight.length < this.opts.window) {
      const size = this.queue[0].payload.length;
      if (inFlightBytes + size > this.credit && !(probe && this.inFlight.length === 0)) break;
      const { type, payload } = this.queue.shift()!;
      const bytes: number[] = [];
      encodeFrame(type, this.nextSeq, 0, payload, bytes);
      const p = { seq: this.nextSeq, size, bytes: Uint8Array.from(bytes), type, payload };
      this.nextSeq = (this.nextSeq + 1) % 256;
      this.inFlight.push(p);
      inFlightBytes += size;
      out.push(p.bytes);
      if (this.inFlight.length === 1) this.deadline = now + this.rto;
    }
    if (this.inFlight.length === 0 && this.queue.length > 0 && (this.deadline === Infinity || this.deadline <= now)) {
      this.deadline = now + this.rto; // persist timer: probe the device's credit if no window update comes
    }
    for (const b of out) {
      this.framesSent++;
      this.bytesSent += b.length;
      this.lineFreeAt = Math.max(now, this.lineFreeAt) + b.length * this.opts.byteMs;
    }
    return out;
  }

  /** When poll should next be called even if nothing arrives (ms), or Infinity. */
  nextDeadline(): number {
    return this.inFlight.length || this.queue.length ? this.deadline : Infinity;
  }
}
