// `hookline flash --target espruino` asks the board for its firmware before it writes anything
// (FIRMWARE_QUERY) and refuses one without what the app's step generator needs (Espruino 2v29's
// require("timer").add, E.getAddressOf): the query's answer from the real interpreter (Espruino
// 2v29.277 built for Linux, ../shared/realchips), and the whole CLI against a fake board on a
// pseudo-terminal that reports an older version: one line naming what to install, exit 2, nothing
// written. (The CLI cannot flash the Linux build itself: its REPL exits on the upload's Ctrl-C run.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_QUERY, firmwareLacks, parseFirmwareReport, PREAMBLE } from '../host/flash/espruino-upload';
import { espruinoUnavailable, RealEspruino } from './helpers/espruino-real';
import { fakeEspruino } from './helpers/fake-espruino';
import { hasSocat, ptyPair, type PtyPair } from './helpers/pty';
import { runCliAsync, stderrLines } from './helpers/cli';

describe('the firmware report', () => {
  it('parses and judges the answer line', () => {
    expect(parseFirmwareReport('>\r\nHLFW 2v29.277 PICO function function\r\n>')).toEqual({ version: '2v29.277', board: 'PICO', timerAdd: 'function', getAddressOf: 'function' });
    expect(parseFirmwareReport('HLFW 2v29')).toBeNull(); // not a whole line yet
    const ok = parseFirmwareReport('HLFW 2v29.277 PICO function function\n')!;
    expect(firmwareLacks(ok)).toBeNull();
    expect(firmwareLacks({ ...ok, version: '2v25' })).toBe('version 2v29');
    expect(firmwareLacks({ ...ok, version: '2v28.50', timerAdd: 'none' })).toBe('version 2v29, require("timer").add');
    expect(firmwareLacks({ ...ok, version: '3v01', getAddressOf: 'undefined' })).toBe('E.getAddressOf');
  });
  it('is one echo-off line (DLE) that a REPL runs as one statement', () => {
    expect(FIRMWARE_QUERY.startsWith('\x10')).toBe(true);
    expect(FIRMWARE_QUERY.indexOf('\n')).toBe(FIRMWARE_QUERY.length - 1);
  });
});

const unavailable = espruinoUnavailable();
describe.skipIf(unavailable !== null)('the real interpreter (Espruino 2v29.277 for Linux) answers the query', () => {
  it('as a board with require("timer").add and E.getAddressOf', async () => {
    const chip = new RealEspruino();
    try {
      await chip.waitForText('>', 0, 20_000);
      const from = chip.text().length;
      await chip.send(Buffer.from(FIRMWARE_QUERY, 'latin1'));
      await chip.waitForText('HLFW', from, 20_000);
      await chip.waitForText('\n', chip.text().indexOf('HLFW', from), 20_000);
      const r = parseFirmwareReport(chip.text(from));
      expect(r).toMatchObject({ version: '2v29.277', timerAdd: 'function', getAddressOf: 'function' });
      expect(firmwareLacks(r!)).toBeNull();
    } finally {
      await chip.close();
    }
  }, 60_000);
});

describe.skipIf(!hasSocat())('hookline flash --target espruino refuses old firmware before writing', () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await ptyPair();
  });
  afterAll(() => pty?.close());

  it('2v25 (no require("timer")): one line with what to install, exit 2, only the escape and the query sent', async () => {
    const board = await fakeEspruino(pty.b, { firmware: '2v25' });
    try {
      const r = await runCliAsync(['flash', '--target', 'espruino', '--port', pty.a, '--baud', '1000000']);
      expect(r.code).toBe(2);
      expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/^hookline: flash: the board on .* runs Espruino 2v25 \(PICO\), which lacks version 2v29, require\("timer"\)\.add for the step generator; install Espruino 2v29 or later \(https:\/\/www\.espruino\.com\/Download\)/)]);
      expect(board.received().toString('latin1')).toBe(PREAMBLE + FIRMWARE_QUERY);
      expect(board.storage.size).toBe(0);
    } finally {
      await board.close();
    }
  }, 60_000);
});
