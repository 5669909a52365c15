/**
 * Poll `cond` every `everyMs` until it holds; false if it still does not after `limitMs`. The limit
 * is for a hang, not for speed: on a busy machine a child process can take seconds to start, so a
 * test waits for the event it needs (a line reached, a state) and asserts that, not a deadline.
 */
export async function waitUntil(cond: () => boolean, limitMs = 120_000, everyMs = 25): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > limitMs) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}
