import { encodeFrame, FR_OK, FrameDecoder, MAX_PAYLOAD } from './frame';
import { T_ACK, T_DATA, T_CMD, T_HELLO } from './protocol';

/** What the device does with reliably delivered host frames. */
export interface LinkHandler {
  /** A HELLO arrived (the host (re)connected); reply with LinkReceiver.send(T_HELLO_REPLY, …). */
  hello(payload: number[], length: number): void;
  /** Free bytes in the device's receive buffer: frames larger than this are refused. */
  credit(): number;
  /** An in-order DATA or CMD frame, delivered exactly once. */
  deliver(type: number, payload: number[], length: number): void;
}

/**
 * The device end of the link: decodes frames byte by byte, accepts DATA/CMD frames only in
 * sequence order, only once and only when they fit its receive buffer, and answers every one with
 * an ACK carrying the next sequence number it expects and its free buffer space (credit).
 * Out-of-order, duplicate, corrupt and unaffordable frames are dropped; the host resends them.
 */
export class LinkReceiver {
  expected = 0;
  txSeq = 0;
  badFrames = 0;
  dropped = 0;
  private frames = new FrameDecoder(true);
  private out: number[] = [];
  private ackPayload: number[] = [0, 0];
  private reportedCredit = 0;

  constructor(private handler: LinkHandler, private write: (bytes: number[]) => void) {}

  /** Feed one received byte. */
  push(b: number): void {
    const r = this.frames.push(b);
    if (r === FR_OK) this.frame();
    else if (r < 0) {
      this.badFrames++;
      this.sendAck(); // a damaged frame: repeat what we expect, so the host resends without waiting
    }
  }

  /** Send a device frame (the ack field always carries the expected host sequence). `write` must
   * copy or transmit the bytes before returning: the buffer is reused. */
  send(type: number, payload: number[]): void {
    this.out.splice(0, this.out.length);
    encodeFrame(type, this.txSeq, this.expected, payload, this.out);
    this.txSeq = (this.txSeq + 1) % 256;
    this.write(this.out);
  }

  /** Acknowledge: next expected sequence number and current credit. */
  sendAck(): void {
    const c = Math.min(this.handler.credit(), 0xffff);
    this.reportedCredit = c;
    this.ackPayload[0] = Math.floor(c / 256);
    this.ackPayload[1] = c % 256;
    this.send(T_ACK, this.ackPayload);
  }

  /** Call after the device has consumed buffered bytes: if the host was last told there is no room
   * for a full frame and now there is, tell it at once (a window update). */
  poll(): void {
    if (this.reportedCredit < MAX_PAYLOAD && this.handler.credit() >= MAX_PAYLOAD) this.sendAck();
  }

  private frame(): void {
    const f = this.frames;
    if (f.type === T_HELLO) {
      this.expected = 0;
      this.handler.hello(f.payload, f.length);
      return;
    }
    if (f.type !== T_DATA && f.type !== T_CMD) {
      this.dropped++;
      return;
    }
    if (f.seq === this.expected && f.length <= this.handler.credit()) {
      this.expected = (this.expected + 1) % 256;
      this.handler.deliver(f.type, f.payload, f.length);
    } else {
      this.dropped++;
    }
    this.sendAck();
  }
}
