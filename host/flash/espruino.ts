/**
 * `hookline flash --target espruino`: the app bundle (dist/espruino/app.js) into Storage .bootcde,
 * the machine profile and its hash into Storage, then load() — over the board's REPL, with the bytes
 * EspruinoTools makes (espruino-upload.ts). --dry-run writes exactly those bytes to -o FILE.
 *
 * Sending: the preamble (console escape + newline), then wait for the REPL's ">" prompt; then the
 * firmware query (FIRMWARE_QUERY: a board without what the step generator needs, Espruino 2v29's
 * require("timer").add and E.getAddressOf, is refused before anything is written); then the
 * body in chunks paced at the baud rate, pausing while the board has sent XOFF (0x13) until XON
 * (0x11) — Espruino's own flow control when its input buffer fills. Afterwards the board restarts
 * into the app, whose boot announcement (a HELLO_REPLY link frame) carries the machine hash.
 */
import { checkBoardPins } from './board-pins';
import { LinkWaiter } from './link-waiter';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import { builtArtifact } from '../package-root';
import { writeFileAtomic } from '../atomic-write';
import { openSerial, type ByteLink } from '../link/serial';
import { hashText } from '../stream/machine-hash';
import { FR_OK, FrameDecoder } from '../../shared/link/frame';
import { T_HELLO_REPLY, getUint } from '../../shared/link/protocol';
import { BOARD_STORAGE, FIRMWARE_QUERY, MIN_FIRMWARE, PREAMBLE, STORAGE_RESERVE, firmwareLacks, makeEspruinoUpload, parseFirmwareReport, type EspruinoUpload } from './espruino-upload';
import type { FlashOptions, FlashTarget } from './target';

export const ESPRUINO_APP = 'dist/espruino/app.js';
export const DEFAULT_BOARD = 'PICO';
const CHUNK = 256;
const XOFF = 0x13;
const XON = 0x11;
/** How long the board may take after load() to announce the app. */
const BOOT_WAIT_MS = 3000;

export const espruinoFlash: FlashTarget = {
  name: 'espruino',
  async flash(opts: FlashOptions) {
    const board = (opts.board ?? DEFAULT_BOARD).toUpperCase();
    checkBoardPins(opts.machine, opts.machinePath, board, opts.dryRun, opts.log);
    const app = readFileSync(builtArtifact(ESPRUINO_APP), 'utf8');
    const check = (up: EspruinoUpload) => {
      const room = BOARD_STORAGE[board];
      if (room !== undefined && up.storedBytes + STORAGE_RESERVE > room) {
        throw new UserError(`flash: the app and profile need ${up.storedBytes} B of Storage, ${board} has ${room} B (${STORAGE_RESERVE} B kept free for progress); use a board with more flash (--board ESP32)`);
      }
      return `app ${app.length} B (stored pretokenised) + profile ${up.profileJson.length} B, ${up.storedBytes} B of ${room === undefined ? 'the' : room + ' B'} Storage on ${board}, machine hash ${hashText(up.hash)}`;
    };
    if (opts.dryRun) {
      const up = await makeEspruinoUpload(app, opts.machine, board);
      const what = check(up);
      const bytes = Buffer.from(up.bytes, 'latin1');
      writeFileAtomic(opts.out!, bytes);
      opts.log(`wrote ${opts.out}: ${bytes.length} bytes of upload (${what})`);
      return;
    }
    const port = opts.port!;
    const link = await openSerial(port, opts.baud);
    try {
      // The preamble is fixed: send it and wait for the prompt while the tools make the rest.
      await sendUpload(link, makeEspruinoUpload(app, opts.machine, board).then((up) => (check(up), up)), port, opts);
    } finally {
      await link.close();
    }
  },
};

async function sendUpload(link: ByteLink, making: Promise<EspruinoUpload>, port: string, opts: FlashOptions): Promise<void> {
  let text = '';
  let paused = false;
  let hello: number | null = null;
  let bodySent = false;
  const frames = new FrameDecoder();
  const waiter = new LinkWaiter(link, port);

  link.onData((b) => {
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === XOFF) paused = true;
      else if (c === XON) paused = false;
      else text += String.fromCharCode(c);
      if (bodySent && frames.push(c) === FR_OK && frames.type === T_HELLO_REPLY && frames.length >= 7) hello = getUint(frames.payload, 3, 4);
    }
    waiter.poke();
  });
  const until = (cond: () => boolean, deadline: number) => waiter.waitUntil(cond, deadline);

  const t0 = Date.now();
  link.write(Buffer.from(PREAMBLE, 'latin1'));
  making.catch(() => {}); // awaited below; a failure must not go unhandled while we wait for the prompt
  const prompt = await until(() => text.endsWith('>'), t0 + opts.timeoutMs);
  if (!prompt) {
    throw new UserError(`flash: no Espruino REPL answered on ${port} within ${Math.round(opts.timeoutMs / 1000)} s (no '>' prompt); check --port, --baud (now ${opts.baud}) and that the board runs Espruino firmware`);
  }
  // Before anything is written: does the firmware have what the app's step generator needs?
  const asked = text.length;
  link.write(Buffer.from(FIRMWARE_QUERY, 'latin1'));
  const answered = await until(() => parseFirmwareReport(text.slice(asked)) !== null || /Uncaught[^\r\n]*\r?\n/.test(text.slice(asked)), Date.now() + opts.timeoutMs);
  const fw = parseFirmwareReport(text.slice(asked));
  if (!answered || fw === null) {
    throw new UserError(`flash: the board on ${port} did not report its firmware (${/Uncaught[^\r\n]*/.exec(text.slice(asked))?.[0] ?? 'no answer'}); install Espruino ${MIN_FIRMWARE} or later (https://www.espruino.com/Download) and flash again`);
  }
  const lacks = firmwareLacks(fw);
  if (lacks !== null) {
    throw new UserError(`flash: the board on ${port} runs Espruino ${fw.version} (${fw.board}), which lacks ${lacks} for the step generator; install Espruino ${MIN_FIRMWARE} or later (https://www.espruino.com/Download) and flash again; nothing was written`);
  }
  await until(() => text.slice(asked).includes('>'), Date.now() + opts.timeoutMs);
  const up = await making;
  opts.log(`REPL prompt on ${port}, Espruino ${fw.version} (${fw.board}); sending ${up.body.length} bytes`);
  const chunkMs = (CHUNK * 10 * 1000) / opts.baud;
  // Paced as EspruinoTools paces it: a pause after Ctrl-C, reset(), load() and each Storage.write
  // (without it the real interpreter lost the start of the first Storage.write after reset()).
  for (let p = 0; p < up.pieces.length; p++) {
    const piece = Buffer.from(up.pieces[p].data, 'latin1');
    // The app boots on load() (during the pause after it): its frames count from there on.
    const boots = p === up.pieces.length - 1 || /\bload\(\)/.test(up.pieces[p].data);
    for (let i = 0; i < piece.length; i += CHUNK) {
      if (paused && !(await until(() => !paused, Date.now() + opts.timeoutMs))) {
        throw new UserError(`flash: the board on ${port} paused the upload (XOFF) and did not resume within ${Math.round(opts.timeoutMs / 1000)} s; reset the board and flash again`);
      }
      if (boots && i + CHUNK >= piece.length) bodySent = true; // the app's frames may follow this chunk at once
      link.write(piece.subarray(i, i + CHUNK));
      await new Promise((r) => setTimeout(r, chunkMs));
    }
    if (up.pieces[p].pauseMs > 0) await new Promise((r) => setTimeout(r, up.pieces[p].pauseMs));
  }
  await until(() => hello !== null || /Uncaught[^\r\n]*\r?\n/.test(text), Date.now() + BOOT_WAIT_MS);
  const uncaught = /Uncaught[^\r\n]*/.exec(text);
  if (uncaught) throw new UserError(`flash: the board on ${port} reported '${uncaught[0]}' during the upload; check the firmware version (Espruino ≥ 2v00 with Storage) and flash again`);
  if (hello === null) opts.log(`uploaded; no boot announcement from the app within ${BOOT_WAIT_MS / 1000} s (check with hookline run)`);
  else if (hello !== up.hash) throw new UserError(`flash: the app on ${port} reports machine hash ${hashText(hello)}, expected ${hashText(up.hash)}; flash again`);
  else opts.log(`uploaded; the board restarted into hookline (machine hash ${hashText(hello)})`);
}
