/**
 * What a reload (or a restarted server) must not lose (docs/studio.md): the photo's bytes in
 * IndexedDB (a phone photo is megabytes; localStorage holds ~5 MB of text), and the settings —
 * the server's id for the photo, its framing, the planner's options, the importance mask — in
 * localStorage. A server that no longer has the id answers 404 and the page uploads the bytes again.
 */
import type { Crop, ImageInfo, PlanFlags } from '../host/studio/protocol';

const DB = 'hookline-studio';
const STORE = 'photo';
const KEY = 'current';
const SETTINGS = 'hookline.studio.settings';

export interface Settings {
  /** The server's answer for the photo in IndexedDB. */
  image: ImageInfo | null;
  flags: PlanFlags;
  colour: boolean;
  machine: string;
  crop: Crop;
  dialect: string;
  /** The G-code's lift (absent in settings kept before it existed). */
  lift?: { mode: 'z' | 'servo'; up: string; down: string };
  /** The importance mask as a PNG data URL (null: none painted). */
  mask: string | null;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result as T);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** Keep the photo's bytes (and name) for the next visit. Failures (private mode, full disk) only cost the reload. */
export async function savePhoto(file: File): Promise<void> {
  try {
    const bytes = await file.arrayBuffer();
    await withStore('readwrite', (s) => s.put({ name: file.name, type: file.type, bytes }, KEY));
  } catch {
    // not kept: a reload asks for the photo again
  }
}

/** The kept photo, or null. */
export async function loadPhoto(): Promise<File | null> {
  try {
    const v = await withStore<{ name: string; type: string; bytes: ArrayBuffer } | undefined>('readonly', (s) => s.get(KEY));
    return v ? new File([v.bytes], v.name, { type: v.type }) : null;
  } catch {
    return null;
  }
}

export function loadSettings(): Settings | null {
  try {
    const s = JSON.parse(localStorage.getItem(SETTINGS) ?? 'null') as Settings | null;
    return s && typeof s === 'object' && s.flags && s.crop ? s : null;
  } catch {
    return null;
  }
}

export function saveSettings(s: Settings) {
  try {
    localStorage.setItem(SETTINGS, JSON.stringify(s));
  } catch {
    // full: the next visit starts from the defaults
  }
}

/** A data URL's picture drawn on a new canvas of its size. */
export function canvasFromDataUrl(url: string): Promise<HTMLCanvasElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      c.getContext('2d')!.drawImage(img, 0, 0);
      resolve(c);
    };
    img.onerror = () => reject(new Error('the kept importance mask does not decode'));
    img.src = url;
  });
}
