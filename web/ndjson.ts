/**
 * Read a stream of newline-delimited JSON (the studio server's plan, simulation and machine
 * streams), handing each value to `onValue` as its line arrives. `onValue` returning true stops
 * the reading (the stream is cancelled). Shared by the page and the studio tests.
 */
export async function readNdjson<T>(body: ReadableStream<Uint8Array>, onValue: (value: T) => boolean | void): Promise<void> {
  const reader = body.getReader();
  const text = new TextDecoder();
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buf += text.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim() && onValue(JSON.parse(line) as T) === true) {
        await reader.cancel();
        return;
      }
    }
  }
}
