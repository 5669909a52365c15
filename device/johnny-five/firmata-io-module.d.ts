/** firmata-io 2.3 ships no types: its CommonJS export binds a default transport and carries the class. */
declare module 'firmata-io' {
  interface BindTransport {
    (transport: unknown): new (port: unknown, options?: object) => unknown;
    Firmata: new (port: unknown, options?: object) => unknown;
  }
  const bindTransport: BindTransport;
  export default bindTransport;
}

/** johnny-five 2.1 ships no types: the Board is all the target uses (with `io` = a firmata-io Firmata). */
declare module 'johnny-five' {
  import type { EventEmitter } from 'node:events';
  export const Board: new (options: object) => EventEmitter;
}
