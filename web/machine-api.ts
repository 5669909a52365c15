/** The studio server's machine API as the page calls it (host/studio/machine-session.ts). */
import type { MachineState, PortInfo, RunDrawing } from '../host/studio/machine-protocol';
import { errorText } from './api';
import { readNdjson } from './ndjson';

const DOWN = 'the studio server does not answer (stopped?); start it again with hookline studio — this page reconnects by itself';

/**
 * This tab's id: it names the tab that controls the machine. Kept in sessionStorage, so a reload of
 * the tab keeps control and another tab is another client.
 */
export function clientId(): string {
  const key = 'hookline.studio.client';
  let id = sessionStorage.getItem(key);
  if (!id) {
    id = crypto.randomUUID();
    sessionStorage.setItem(key, id);
  }
  return id;
}

/** POST a machine command as this tab; the new state, or its one-line refusal as an Error. */
export async function machineCommand(cmd: string, body: unknown = {}): Promise<MachineState> {
  let res: Response;
  try {
    res = await fetch(`/api/machine/${cmd}`, { method: 'POST', headers: { 'x-hookline': '1', 'x-hookline-client': clientId(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    throw new Error(DOWN);
  }
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as MachineState;
}

export async function getPorts(): Promise<PortInfo[]> {
  let res: Response;
  try {
    res = await fetch('/api/machine/ports');
  } catch {
    throw new Error(DOWN);
  }
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as PortInfo[];
}

export async function getDrawing(): Promise<RunDrawing> {
  const res = await fetch('/api/machine/drawing');
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as RunDrawing;
}

/**
 * Follow the machine's state (GET /api/machine/events, one JSON snapshot a line) for as long as the
 * page lives: when the server goes away, `onDown` is told and the page asks again every second, so
 * a restarted server is picked up by itself. Returns a function that stops it.
 */
export function watchMachine(onState: (s: MachineState) => void, onDown: (message: string | null) => void): () => void {
  let stopped = false;
  let ac: AbortController | null = null;
  const loop = async () => {
    while (!stopped) {
      ac = new AbortController();
      try {
        const res = await fetch('/api/machine/events', { signal: ac.signal });
        if (!res.ok) throw new Error(await errorText(res));
        onDown(null);
        await readNdjson<MachineState>(res.body!, (state) => {
          onState(state);
        });
      } catch {
        // below
      }
      if (stopped) return;
      onDown(DOWN);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void loop();
  return () => {
    stopped = true;
    ac?.abort();
  };
}
