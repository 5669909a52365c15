import { describe, expect, it } from 'vitest';
import { FR_OK, FrameDecoder, MAX_PAYLOAD } from '../shared/link/frame';
import { LinkReceiver } from '../shared/link/receiver';
import { getUint, putUint, T_ACK, T_DATA } from '../shared/link/protocol';
import { LinkSender } from '../host/link/sender';
import { openSerial } from '../host/link/serial';
import { hasSocat, ptyPair } from './helpers/pty';

/** The transport over a real pseudo-terminal pair, with the real serialport binding on both ends. */
describe.skipIf(!hasSocat())('link over a real pseudo-terminal (socat + serialport)', () => {
  it('delivers a stream exactly through the OS serial stack', async () => {
    const pty = await ptyPair();
    const host = await openSerial(pty.a, 115200);
    const device = await openSerial(pty.b, 115200);
    try {
      const data = Array.from({ length: 3000 }, (_, i) => (i * 13) % 256);
      const got: number[] = [];
      let buffered = 0;
      const rx = new LinkReceiver(
        {
          hello() {},
          credit: () => 256 - buffered,
          deliver(_t, payload, length) {
            expect(getUint(payload, 0, 4)).toBe(got.length);
            for (let i = 4; i < length; i++) got.push(payload[i]);
            buffered += length;
          },
        },
        (bytes) => device.write(Uint8Array.from(bytes)),
      );
      const drain = setInterval(() => {
        buffered = Math.max(0, buffered - 200);
        rx.poll();
      }, 5);
      device.onData((bytes) => bytes.forEach((b) => rx.push(b)));

      const tx = new LinkSender({ window: 4, timeoutMs: 100, maxTimeoutMs: 500, initialCredit: 256, byteMs: 10_000 / 115200 });
      for (let off = 0; off < data.length; off += MAX_PAYLOAD - 4) {
        const p: number[] = [];
        putUint(p, off, 4);
        p.push(...data.slice(off, off + MAX_PAYLOAD - 4));
        tx.send(T_DATA, p);
      }
      const frames = new FrameDecoder();
      const pump = () => tx.poll(performance.now()).forEach((f) => host.write(f));
      host.onData((bytes) => {
        for (const b of bytes) if (frames.push(b) === FR_OK && frames.type === T_ACK) tx.acked(frames.ack, getUint(frames.payload, 0, 2), performance.now());
        pump();
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          pump();
          if (tx.pending === 0) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
        setTimeout(() => reject(new Error(`timed out with ${got.length} of ${data.length} bytes`)), 240_000); // a hang, not speed
      });
      clearInterval(drain);
      expect(got).toEqual(data);
    } finally {
      await host.close();
      await device.close();
      pty.close();
    }
  });
});
