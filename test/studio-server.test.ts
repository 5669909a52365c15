import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMachine } from '../host/machine/load';
import { validatePlan } from '../host/plan/load';
import { planPath } from '../host/plan/types';
import { machineHash } from '../host/stream/machine-hash';
import { decodeStreamBytes } from '../host/stream/plan-stream';
import type { ImageInfo } from '../host/studio/protocol';
import { repoRoot, runCli, tempDir } from './helpers/cli';
import { POST, planEvents, startStudio, type RunningStudio } from './studio-helpers';

/** A PNG whose header says width×height (no pixel data follows): the size check must come from the header. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const t = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(t));
    return Buffer.concat([len, t, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}

const coffee = readFileSync(join(repoRoot, 'examples/coffee.png'));

async function upload(base: string, body: Buffer, type = 'image/png') {
  const res = await fetch(new URL('api/image', base), { method: 'POST', headers: { ...POST, 'content-type': type }, body });
  return { status: res.status, json: (await res.json()) as ImageInfo & { error?: string } };
}

describe('hookline studio server', () => {
  let studio: RunningStudio;
  let base: string;
  beforeAll(async () => {
    studio = await startStudio();
    base = studio.url;
  });
  afterAll(async () => {
    expect(await studio.stop()).toBe(0);
  });

  it('binds 127.0.0.1, serves the page and its bundle, lists the machines', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const app = await fetch(new URL('app.js', base));
    expect(app.headers.get('content-type')).toMatch(/javascript/);
    expect((await app.text()).length).toBeGreaterThan(5000);
    const machines = (await (await fetch(new URL('api/machines', base))).json()) as { name: string; hooks: number }[];
    expect(machines.map((m) => m.name)).toContain('ref-gantry');
    expect(machines.find((m) => m.name === 'ref-ring')!.hooks).toBe(200);
  });

  it('bad uploads get a 4xx and a one-line message, and the server keeps serving', async () => {
    const text = await upload(base, Buffer.from('this is a text file renamed photo.jpg\n'), 'image/jpeg');
    expect(text.status).toBe(415);
    expect(text.json.error).toMatch(/not a picture/);
    const empty = await upload(base, Buffer.alloc(0), 'image/jpeg');
    expect(empty.status).toBe(400);
    expect(empty.json.error).toMatch(/empty \(0 bytes\)/);
    const huge = await upload(base, pngHeaderOnly(12000, 9000));
    expect(huge.status).toBe(413);
    expect(huge.json.error).toMatch(/12000×9000 px \(108 megapixels\), over the studio's 50-megapixel limit/);
    const truncated = await upload(base, coffee.subarray(0, 2000));
    expect(truncated.status).toBe(415);
    expect(truncated.json.error).toMatch(/damaged or truncated/);
    for (const r of [text, empty, huge, truncated]) expect(r.json.error).not.toMatch(/\n/);
    // Still serving: a good photo goes in.
    const good = await upload(base, coffee);
    expect(good.status).toBe(200);
    expect([good.json.width, good.json.height]).toEqual([512, 512]);
  });

  it('a phone photo is turned upright by its EXIF orientation and stored small', async () => {
    const sharp = (await import('sharp')).default;
    // 3200×2400 as stored, EXIF orientation 6: the camera was held upright, the picture is 2400×3200.
    const phone = await sharp(coffee).resize(3200, 2400, { fit: 'fill' }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const r = await upload(base, phone, 'image/jpeg');
    expect(r.status).toBe(200);
    expect([r.json.width, r.json.height]).toEqual([768, 1024]);
    const webp = await upload(base, await sharp(coffee).webp().toBuffer(), 'image/webp');
    expect([webp.status, webp.json.width]).toEqual([200, 512]);
    const gif = await upload(base, await sharp(coffee).gif().toBuffer(), 'image/gif');
    expect(gif.status).toBe(415);
    expect(gif.json.error).toBe('this file is a GIF image; choose a JPEG, PNG or WebP photo');
  });

  it('refuses what the page would never send: POST without its header, another Host, unknown options, a path', async () => {
    const noHeader = await fetch(new URL('api/image', base), { method: 'POST', body: coffee });
    expect(noHeader.status).toBe(403);
    const { json: img } = await upload(base, coffee);
    const unknown = await planEvents(base, { image: img.id, flags: { layout: '/etc/passwd' } });
    expect(unknown.status).toBe(400);
    expect(unknown.error).toBe("unknown planner option 'layout'");
    const bad = await planEvents(base, { image: img.id, flags: { lines: '0' } });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatch(/^--lines: 0 is below the minimum 1/);
    const path = await planEvents(base, { image: '../../etc/passwd', flags: {} });
    expect(path.status).toBe(404);
    const machine = await planEvents(base, { image: img.id, machine: '../machines/ref-gantry', flags: {} });
    expect(machine.status).toBe(400);
    expect(machine.error).toMatch(/^no machine '\.\.\/machines\/ref-gantry'; choose one of/);
    // DNS rebinding: a request naming another host is refused (Node's fetch cannot set Host; use http).
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(base);
      request({ host: u.hostname, port: u.port, path: '/api/machines', headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).on('error', reject).end();
    });
    expect(status).toBe(403);
  });

  it('streams the lines as the planner chooses them; the plan is the CLI\'s plan of the same photo; downloads check with the CLI\'s code', async () => {
    const { json: img } = await upload(base, coffee);
    const r = await planEvents(base, { image: img.id, flags: { lines: '1500' } });
    expect(r.status).toBe(200);
    const types = r.events.map((e) => e.type);
    expect(types[0]).toBe('job');
    const setup = r.events.find((e) => e.type === 'setup')!;
    const batches = r.events.filter((e) => e.type === 'lines');
    const done = r.events.find((e) => e.type === 'done')!;
    expect(setup && done).toBeTruthy();
    // Several batches, all before the plan is complete, each continuing the last.
    expect(batches.length).toBeGreaterThan(3);
    expect(types.indexOf('done')).toBeGreaterThan(types.lastIndexOf('lines'));
    let count = 0;
    const streamed: [number, number, number][] = [];
    for (const b of batches) {
      if (b.type !== 'lines') continue;
      expect(b.from).toBe(count);
      count += b.lines.length;
      streamed.push(...b.lines);
    }
    if (done.type !== 'done' || setup.type !== 'setup') throw new Error('unreachable');
    expect(done.lines.length).toBe(1500);
    expect(streamed.length).toBeGreaterThan(1000);
    expect(streamed).toEqual(done.lines.slice(0, streamed.length));
    // The planner's view: a PNG of the working raster, before the plan is complete.
    const view = r.events.find((e) => e.type === 'view');
    if (!view || view.type !== 'view') throw new Error('no view event');
    expect(types.indexOf('view')).toBeLessThan(types.indexOf('done'));
    const png = Buffer.from(view.view, 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    expect(setup.nails.length).toBe(320);
    const score = r.events.find((e) => e.type === 'score');
    if (!score || score.type !== 'score') throw new Error('no score event');

    const job = r.events[0].type === 'job' ? r.events[0].job : '';
    const get = async (what: string) => {
      const res = await fetch(new URL(`api/plan/${job}/${what}`, base));
      return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
    };
    const pj = await get('plan.json');
    expect(pj.status).toBe(200);
    const plan = validatePlan(JSON.parse(pj.body.toString('utf8')), 'plan.json');
    expect(plan.lines).toEqual(done.lines);

    // The CLI plans the same photo (the server's copy of it, fetched back) into the same lines.
    const dir = tempDir();
    const photo = await fetch(new URL(`api/image/${img.id}`, base));
    writeFileSync(join(dir, 'photo.jpg'), Buffer.from(await photo.arrayBuffer()));
    const cli = runCli(['plan', join(dir, 'photo.jpg'), '-o', join(dir, 'out'), '--lines', '1500', '--quiet']);
    expect(cli.stderr).toBe('');
    const cliPlan = JSON.parse(readFileSync(join(dir, 'out/plan.json'), 'utf8'));
    expect(plan.lines).toEqual(cliPlan.lines);
    expect(readFileSync(join(dir, 'out/preview.png')).equals((await get('preview.png')).body)).toBe(true);
    // The score is hookline score's for that plan and photo.
    const scored = JSON.parse(runCli(['score', join(dir, 'out/plan.json'), join(dir, 'photo.jpg')]).stdout);
    const r5 = (v: number | undefined) => Math.round((v ?? NaN) * 1e5) / 1e5; // as hookline score prints
    expect({ rmse: r5(score.rmse), ssim: r5(score.ssim), rmse_view: r5(score.rmseView), ssim_view: r5(score.ssimView), lines: 1500 }).toEqual(scored);

    const gantry = loadMachine(join(repoRoot, 'machines/ref-gantry.json'));
    const hls = await get('plan.hls?machine=ref-gantry');
    expect(hls.status).toBe(200);
    const decoded = decodeStreamBytes(hls.body, 'plan.hls', machineHash(gantry));
    expect(decoded.lineCount).toBe(1500);
    expect(decoded.hooks).toEqual(planPath(plan));

    const gcode = await get('plan.gcode?machine=ref-gantry&dialect=marlin');
    expect(gcode.status).toBe(200);
    const text = gcode.body.toString('utf8');
    expect(text.startsWith('; hookline gcode (marlin) for machine ref-gantry\n')).toBe(true);
    expect(text.split('\n').filter((l) => /^G[23] /.test(l)).length).toBeGreaterThan(1500);
    // The CLI writes the same G-code from the downloaded plan (the header names the plan file).
    writeFileSync(join(dir, 'plan.json'), pj.body);
    const viaCli = runCli(['gcode', join(dir, 'plan.json'), '--machine', 'machines/ref-gantry.json', '--dialect', 'marlin']);
    expect(viaCli.stdout.split('\n').slice(2).join('\n')).toBe(text.split('\n').slice(2).join('\n'));

    // Printable instructions, as hookline instructions writes them for the downloaded plan.
    const pdf = await get('instructions.pdf');
    expect([pdf.status, pdf.type, pdf.body.subarray(0, 5).toString()]).toEqual([200, 'application/pdf', '%PDF-']);
    const html = await get('instructions.html');
    runCli(['instructions', join(dir, 'plan.json'), '-o', join(dir, 'instr')]);
    expect(html.body.toString('utf8')).toBe(readFileSync(join(dir, 'instr/instructions.html'), 'utf8'));

    const ring = await get('plan.gcode?machine=ref-ring');
    expect(ring.status).toBe(400);
    expect(JSON.parse(ring.body.toString()).error).toMatch(/ring machine/);
    const mismatch = await get('plan.hls?machine=ref-ring');
    expect(mismatch.status).toBe(400);
    expect(JSON.parse(mismatch.body.toString()).error).toMatch(/the plan has 160 hooks but the machine has 200/);
  });

  it('a machine profile sets the hooks; a newer plan ends the running one; aborting a plan stops it', async () => {
    const { json: img } = await upload(base, coffee);
    const ring = await planEvents(base, { image: img.id, machine: 'ref-ring', flags: { lines: '300' } }, undefined, true);
    const done = ring.events.find((e) => e.type === 'done');
    expect(done && done.type === 'done' && done.nails.length).toBe(400);
    expect(done && done.type === 'done' && done.board.widthMm).toBe(500);
    // Three long plans at once: the server runs at most two, so the first is stopped with a message.
    const long = { image: img.id, flags: { lines: '20000' } };
    const first = planEvents(base, long);
    await new Promise((r) => setTimeout(r, 300));
    const ac = new AbortController();
    const second = planEvents(base, long, ac.signal).catch((e: Error) => e);
    const third = planEvents(base, long, ac.signal).catch((e: Error) => e);
    const stopped = await first;
    expect(stopped.events.at(-1)).toMatchObject({ type: 'error', message: 'stopped: a newer plan started' });
    expect(stopped.events.some((e) => e.type === 'done')).toBe(false);
    ac.abort();
    await Promise.all([second, third]);
    // The aborted plans' threads are gone: a short plan completes promptly.
    const t0 = performance.now();
    const short = await planEvents(base, { image: img.id, flags: { lines: '200' } }, undefined, true);
    expect(short.events.some((e) => e.type === 'done')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('simulates a plan on a machine as hookline sim does, with progress; a plan for another machine is refused', async () => {
    const { json: img } = await upload(base, coffee);
    const r = await planEvents(base, { image: img.id, flags: { lines: '300' } }, undefined, true);
    const job = r.events[0].type === 'job' ? r.events[0].job : '';
    const t0 = performance.now();
    const res = await fetch(new URL(`api/plan/${job}/sim`, base), { method: 'POST', headers: { ...POST, 'content-type': 'application/json' }, body: JSON.stringify({ machine: 'ref-gantry' }) });
    expect(res.status).toBe(200);
    const events = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(5);
    expect(progress.map((e) => e.fraction)).toEqual([...progress.map((e) => e.fraction)].sort((a, b) => a - b));
    const result = events.at(-1);
    expect(result).toMatchObject({ type: 'result', ok: true, machine: 'ref-gantry', plannedHooks: 301, wrappedHooks: 301, violationCount: 0, firstMismatch: null });
    expect(Buffer.from(result.strung, 'base64').subarray(1, 4).toString()).toBe('PNG');
    console.log(`studio sim: 300 lines on ref-gantry in ${((performance.now() - t0) / 1000).toFixed(1)} s wall`);
    // hookline sim on the downloaded stream: the same machine time, thread and pile.
    const dir = tempDir();
    writeFileSync(join(dir, 'plan.hls'), Buffer.from(await (await fetch(new URL(`api/plan/${job}/plan.hls?machine=ref-gantry`, base))).arrayBuffer()));
    const cli = runCli(['sim', join(dir, 'plan.hls'), '--machine', 'machines/ref-gantry.json', '-o', join(dir, 'sim')]);
    expect(cli.stderr.split('\n').filter((l) => !/^sim: \d+%/.test(l)).join('')).toBe('');
    expect(cli.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'sim/report.json'), 'utf8'));
    const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d; // as report.json rounds
    expect({ ok: report.ok, wrapped: report.wrappedHooks, machineSeconds: report.machineSeconds, threadMeters: report.threadMeters, maxPileMm: report.maxPileMm })
      .toEqual({ ok: result.ok, wrapped: result.wrappedHooks, machineSeconds: round(result.machineSeconds, 3), threadMeters: round(result.threadMeters, 2), maxPileMm: round(result.maxPileMm, 3) });

    const ring = await fetch(new URL(`api/plan/${job}/sim`, base), { method: 'POST', headers: POST, body: JSON.stringify({ machine: 'ref-ring' }) });
    expect(ring.status).toBe(400);
    expect(((await ring.json()) as { error: string }).error).toMatch(/^the plan cannot be built on machine ref-ring .*: the plan has 160 hooks but the machine has 200/);
  });

  it('an importance mask (an uploaded picture, by id) weights the plan; a colour plan or an unknown mask is refused', async () => {
    const sharp = (await import('sharp')).default;
    const { json: img } = await upload(base, coffee);
    // White over the top half (detail matters), black below.
    const maskPng = await sharp({ create: { width: 512, height: 512, channels: 3, background: '#000000' } })
      .composite([{ input: { create: { width: 512, height: 256, channels: 3, background: '#ffffff' } }, top: 0, left: 0 }]).png().toBuffer();
    const { json: mask } = await upload(base, maskPng);
    const plain = await planEvents(base, { image: img.id, flags: { lines: '300' } }, undefined, true);
    const weighted = await planEvents(base, { image: img.id, importance: mask.id, flags: { lines: '300' } }, undefined, true);
    const lines = (r: typeof plain) => { const d = r.events.find((e) => e.type === 'done'); return d && d.type === 'done' ? d.lines : []; };
    expect(lines(weighted).length).toBe(300);
    expect(lines(weighted)).not.toEqual(lines(plain));
    // More of the thread in the top half than without the mask (line midpoints above the centre).
    const nails = (weighted.events.find((e) => e.type === 'setup') as { nails: [number, number][] }).nails;
    const top = (ls: [number, number, number][]) => ls.filter(([, a, b]) => nails[a][1] + nails[b][1] < 600).length;
    expect(top(lines(weighted))).toBeGreaterThan(top(lines(plain)));
    const colour = await planEvents(base, { image: img.id, importance: mask.id, flags: { colors: '2' } });
    expect([colour.status, colour.error]).toEqual([400, 'contrast, gamma, passes and the importance brush are for one-colour plans; clear them for a colour plan']);
    const gone = await planEvents(base, { image: img.id, importance: '/etc/passwd', flags: {} });
    expect(gone.status).toBe(404);
  });

  it('colour plans: the palette from the photo, lines coloured, a plan.json the CLI reads', async () => {
    const { json: img } = await upload(base, coffee);
    const r = await planEvents(base, { image: img.id, flags: { colors: '3', lines: '900' } }, undefined, true);
    const done = r.events.find((e) => e.type === 'done');
    if (!done || done.type !== 'done') throw new Error(`no plan: ${JSON.stringify(r.events.at(-1))}`);
    expect(done.colors.length).toBe(3);
    expect(new Set(done.lines.map((l) => l[0])).size).toBe(3);
    // Streamed while it forms, in the order the planner finds them: the plan places them reversed
    // (the first found on top), so the streamed lines are the plan's last ones, back to front.
    const setup = r.events.find((e) => e.type === 'setup');
    expect(setup && setup.type === 'setup' && setup.colors).toEqual(done.colors);
    expect(r.events.some((e) => e.type === 'view')).toBe(true);
    const found = r.events.flatMap((e) => (e.type === 'lines' ? e.lines : []));
    expect(found.length).toBeGreaterThan(400);
    expect(found.map(([c, a, b]) => [c, b, a]).reverse()).toEqual(done.lines.slice(done.lines.length - found.length));
    const job = r.events[0].type === 'job' ? r.events[0].job : '';
    const dir = tempDir();
    writeFileSync(join(dir, 'plan.json'), Buffer.from(await (await fetch(new URL(`api/plan/${job}/plan.json`, base))).arrayBuffer()));
    const inspect = runCli(['instructions', join(dir, 'plan.json'), '-o', join(dir, 'instr')]);
    expect(inspect.stderr).toBe('');
    expect(inspect.stdout).toMatch(/^wrote .*instructions\.html .* 900 lines/);
    // Lines per colour instead of a total; a mono plan by the chord-set method.
    const budgets = await planEvents(base, { image: img.id, flags: { colors: '2', 'lines-per-color': '300,100' } }, undefined, true);
    const byColour = budgets.events.find((e) => e.type === 'done');
    if (!byColour || byColour.type !== 'done') throw new Error(`no plan: ${JSON.stringify(budgets.events.at(-1))}`);
    expect([0, 1].map((c) => byColour.lines.filter((l) => l[0] === c).length)).toEqual([300, 100]);
    const set = await planEvents(base, { image: img.id, flags: { lines: '400', method: 'set' } }, undefined, true);
    const bySet = set.events.find((e) => e.type === 'done');
    if (!bySet || bySet.type !== 'done') throw new Error(`no plan: ${JSON.stringify(set.events.at(-1))}`);
    expect(bySet.lines.length).toBe(400);
    expect(set.events.some((e) => e.type === 'lines')).toBe(true);
    const badMethod = await planEvents(base, { image: img.id, flags: { method: 'tree' } });
    expect(badMethod.status).toBe(400);
    expect(badMethod.error).toMatch(/^--method: 'tree' is not a planning method/);
  });
});

describe('hookline studio flags', () => {
  it('--host other than loopback needs --allow-remote; then every request needs the printed token', async () => {
    const refused = runCli(['studio', '--host', '0.0.0.0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^hookline: --host 0\.0\.0\.0 lets other machines reach the studio; add --allow-remote/);
    expect(refused.stderr.split('\n').length).toBe(2);
    const badPort = runCli(['studio', '--port', '70000']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toBe('hookline: --port: 70000 is above the maximum 65535; give a value from 0 up to 65535\n');

    const remote = await startStudio(['--host', '0.0.0.0', '--allow-remote']);
    try {
      const m = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([\w-]{20,})$/.exec(remote.url);
      expect(m).not.toBeNull();
      const local = `http://127.0.0.1:${m![1]}/`;
      expect((await fetch(new URL('api/machines', local))).status).toBe(403);
      expect((await fetch(new URL(`api/machines?token=${m![2]}x`, local))).status).toBe(403);
      expect((await fetch(new URL(`api/machines?token=${m![2]}`, local))).status).toBe(200);
      expect((await fetch(new URL('api/machines', local), { headers: { cookie: `hookline_token=${m![2]}` } })).status).toBe(200);
      // Opening the printed address keeps the token in a cookie and takes it out of the address bar.
      const open = await fetch(new URL(`/?token=${m![2]}`, local), { redirect: 'manual' });
      expect(open.status).toBe(303);
      expect(open.headers.get('set-cookie')).toContain(`hookline_token=${m![2]}; HttpOnly; SameSite=Strict`);
    } finally {
      expect(await remote.stop()).toBe(0);
    }
  });
});
