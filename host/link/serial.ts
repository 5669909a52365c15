import { UserError } from '../errors';

/** A byte pipe to a device: a real serial port here; the simulated device implements the same shape. */
export interface ByteLink {
  write(bytes: Uint8Array): void;
  onData(fn: (bytes: Uint8Array) => void): void;
  onClose(fn: (why: string) => void): void;
  close(): Promise<void>;
}

/** Open a serial port (a USB adapter, a board, or one end of a socat pseudo-terminal pair). */
export async function openSerial(path: string, baudRate: number): Promise<ByteLink> {
  // Loaded here, not at start-up: most commands never open a port.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err ? reject(new UserError(`cannot open serial port ${path}: ${err.message.replace(/^Error: /, '')}; check the --port path and that no other program holds it`)) : resolve()));
  });
  let closed = false;
  const closeHandlers: ((why: string) => void)[] = [];
  const fireClose = (why: string) => {
    if (closed) return;
    closed = true;
    for (const h of closeHandlers) h(why);
  };
  port.on('close', () => fireClose('the port closed (device disconnected?)'));
  port.on('error', (e: Error) => fireClose(`serial error: ${e.message}`));
  return {
    write(bytes) {
      if (!closed) port.write(Buffer.from(bytes));
    },
    onData(fn) {
      port.on('data', (d: Buffer) => fn(new Uint8Array(d.buffer, d.byteOffset, d.length)));
    },
    onClose(fn) {
      closeHandlers.push(fn);
    },
    close() {
      closed = true;
      return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
    },
  };
}
