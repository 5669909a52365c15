/** The studio server's API as the page calls it (host/studio/server.ts). */
import type { ImageInfo, MachineInfo, PlanEvent, PlanRequest, SimEvent } from '../host/studio/protocol';
import { readNdjson } from './ndjson';

/** POSTs carry this header: the server refuses POSTs without it (another site's page cannot send it). */
const POST_HEADERS = { 'x-hookline': '1' };

/** A refusal from the server: its one-line message and the HTTP status. */
export class ServerError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** A refused request's one-line message (the server's JSON `error`, else the HTTP status). */
export async function errorText(res: Response): Promise<string> {
  try {
    const j = (await res.json()) as { error?: string };
    if (j.error) return j.error;
  } catch {
    // not JSON: fall through
  }
  return `the server answered ${res.status} ${res.statusText}`;
}

export async function getMachines(): Promise<MachineInfo[]> {
  const res = await fetch('/api/machines');
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as MachineInfo[];
}

export async function uploadImage(file: File): Promise<ImageInfo> {
  let res: Response;
  try {
    res = await fetch('/api/image', { method: 'POST', headers: { ...POST_HEADERS, 'content-type': file.type || 'application/octet-stream' }, body: file });
  } catch {
    throw new Error('the studio server does not answer (stopped?); start it again with hookline studio');
  }
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as ImageInfo;
}

/** POST `body` and hand each line of the NDJSON answer to `onEvent`. Resolves when the stream ends; abort with `signal`. */
async function streamNdjson<E>(url: string, body: unknown, signal: AbortSignal, onEvent: (e: E) => void): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { ...POST_HEADERS, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  } catch (e) {
    if (signal.aborted) return;
    throw new Error('the studio server does not answer (stopped?); start it again with hookline studio');
  }
  if (!res.ok) throw new ServerError(await errorText(res), res.status);
  try {
    await readNdjson<E>(res.body!, (e) => {
      onEvent(e);
    });
  } catch (e) {
    if (signal.aborted) return;
    throw new Error('the connection to the studio server broke off (stopped?); start it again with hookline studio');
  }
}

/** Start a plan; `onEvent` gets each event as it arrives. */
export function streamPlan(req: PlanRequest, signal: AbortSignal, onEvent: (e: PlanEvent) => void): Promise<void> {
  return streamNdjson('/api/plan', req, signal, onEvent);
}

/** Run a finished plan on the simulated machine; progress and the verdict arrive as events. */
export function streamSim(job: string, machine: string, signal: AbortSignal, onEvent: (e: SimEvent) => void, maxMachineSeconds?: number): Promise<void> {
  return streamNdjson(`/api/plan/${job}/sim`, { machine, ...(maxMachineSeconds !== undefined ? { maxMachineSeconds } : {}) }, signal, onEvent);
}

/** Pause or resume the running simulation of `job` (the stream then says paused / resumed). */
export async function pauseSim(job: string, pause: boolean): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`/api/plan/${job}/sim/${pause ? 'pause' : 'resume'}`, { method: 'POST', headers: POST_HEADERS });
  } catch {
    throw new Error('the studio server does not answer (stopped?); start it again with hookline studio');
  }
  if (!res.ok) throw new Error(await errorText(res));
}

/** Fetch a download and save it under `name`; a refusal comes back as its one-line message. */
export async function download(url: string, name: string): Promise<void> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(await errorText(res));
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
