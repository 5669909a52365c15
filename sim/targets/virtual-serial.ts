import { EventEmitter } from 'node:events';
import type { EventQueue } from './event-queue';

/**
 * A serial line in virtual time: each byte takes 10 bit times (8N1) at the baud rate, bytes of one
 * direction queue behind each other, and each is delivered when its stop bit ends. The host end is a
 * transport as firmata-io expects one (EventEmitter with write(); 'data' events); the board end is a
 * pair of callbacks. Delivery is synchronous inside the simulator's event loop, so a whole run is
 * deterministic.
 */
export class VirtualSerialLine {
  readonly byteUs: number;
  /** The host's end: give it to `new Firmata(transport)`. */
  readonly host: VirtualSerialTransport;
  /** Bytes carried host → board and board → host. */
  bytesToBoard = 0;
  bytesToHost = 0;
  private toBoardFree = 0;
  private toHostFree = 0;
  private boardReceive: (byte: number) => void = () => {};

  constructor(private events: EventQueue, baud: number) {
    this.byteUs = 10_000_000 / baud;
    this.host = new VirtualSerialTransport((bytes) => this.sendToBoard(bytes));
  }

  /** The board's receive handler (one byte at a time, as its UART delivers them). */
  onBoardReceive(fn: (byte: number) => void): void {
    this.boardReceive = fn;
  }

  private sendToBoard(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const t = Math.max(this.events.now, this.toBoardFree) + this.byteUs;
      this.toBoardFree = t;
      this.bytesToBoard++;
      this.events.schedule(t, () => this.boardReceive(b));
    }
  }

  /** The board transmits (queued behind what it sent before). */
  sendToHost(bytes: number[]): void {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const t = Math.max(this.events.now, this.toHostFree) + this.byteUs;
      this.toHostFree = t;
      this.bytesToHost++;
      this.events.schedule(t, () => this.host.deliver(b));
    }
  }
}

/** The host end of a VirtualSerialLine: what firmata-io needs from a serial port. */
export class VirtualSerialTransport extends EventEmitter {
  isOpen = true;

  constructor(private send: (bytes: Uint8Array) => void) {
    super();
  }

  write(data: Uint8Array | number[], callback?: (err?: Error | null) => void): boolean {
    this.send(data instanceof Uint8Array ? data : Uint8Array.from(data));
    if (callback) callback(null);
    return true;
  }

  deliver(byte: number): void {
    this.emit('data', Buffer.from([byte]));
  }

  close(callback?: () => void): void {
    this.isOpen = false;
    this.emit('close');
    if (callback) callback();
  }
}
