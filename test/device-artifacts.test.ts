import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { parse } from 'acorn';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeStream } from '../shared/stream/encoder';
import { decodeAll, realisticPath } from '../bench/fuzz-stream';
import { fengariWithBundle, nativeLua, runNativeLua } from './helpers/lua';
import { repoRoot, runCli, tempDir } from './helpers/cli';
import { planPath, type Plan } from '../host/plan/types';

const es5Path = join(repoRoot, 'dist/espruino/hookline.js');
const luaPath = join(repoRoot, 'dist/nodemcu/hookline.lua');

/** A 3000-line path over 160 hooks, as the planner makes them (never the same hook twice in a row). */
function samplePath(seed: number, lines: number, hooks: number): number[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const path = [0];
  for (let i = 0; i < lines; i++) path.push((path[i] + 8 + Math.floor(rnd() * (hooks - 16))) % hooks);
  return path;
}

describe('device artifacts', () => {
  const path = samplePath(7, 3000, 160);
  const bytes = encodeStream(path, 160, [0x000000]);
  // Format 4: bench-like 3000-line plans (160 hooks, and 400 hooks, where the low distance bits are
  // coded without a model), with colour changes, several chunks.
  const plans = [
    { hooks: 160, path: realisticPath(1, 3000, 160), colors: [0], chunkHooks: undefined },
    { hooks: 160, path: realisticPath(2, 3000, 160), colors: [0, 0xff0000, 0x00ff00], chunkHooks: 700 },
    { hooks: 400, path: realisticPath(3, 1500, 400), colors: [0], chunkHooks: 400 },
  ].map((p) => {
    const ops = p.colors.length > 1 ? [...p.path.slice(0, 1000), -2, ...p.path.slice(1000, 2200), -3, ...p.path.slice(2200)] : p.path;
    const b = encodeStream(ops, p.hooks, p.colors, { version: 4, chunkHooks: p.chunkHooks, machineHash: 0x2badcafe });
    const host = decodeAll(b);
    expect(host.ended).toBe(true);
    return { bytes: b, hooks: host.ops.filter((o) => o >= 0) };
  });

  it('the Espruino bundle is ES5 (parses with ecmaVersion 5)', () => {
    const src = readFileSync(es5Path, 'utf8');
    expect(() => parse(src, { ecmaVersion: 5, sourceType: 'script' })).not.toThrow();
  });

  it('the Espruino bundle decodes a real stream in node:vm to the host hook list', () => {
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(es5Path, 'utf8'), ctx);
    ctx.bytes = bytes;
    const hooks = vm.runInContext('hookline.decodeHooks(bytes)', ctx) as number[];
    expect(Array.from(hooks)).toEqual(path);
    ctx.bad = bytes.map((b, i) => (i === 40 ? b ^ 4 : b));
    const bad = vm.runInContext('hookline.decodeHooks(bad)', ctx) as number[];
    expect(bad.length).toBe(1);
    expect(bad[0]).toBeLessThan(0);
  });

  it('the Lua build decodes the same stream in a Lua 5.3 VM (fengari)', () => {
    const L = fengariWithBundle(luaPath);
    const out = L.eval(`return table.concat(hookline.decodeHooks({${bytes.join(',')}}), ",")`);
    expect(out.split(',').map(Number)).toEqual(path);
  });

  it('format 4: the Espruino bundle (node:vm) and the Lua build (fengari, 32-bit integers) decode bench-like plans exactly as the host', () => {
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(es5Path, 'utf8'), ctx);
    const L = fengariWithBundle(luaPath);
    for (const p of plans) {
      ctx.bytes = p.bytes;
      expect(Array.from(vm.runInContext('hookline.decodeHooks(bytes)', ctx) as number[])).toEqual(p.hooks);
      const out = L.eval(`return table.concat(hookline.decodeHooks({${p.bytes.join(',')}}), ",")`);
      expect(out.split(',').map(Number)).toEqual(p.hooks);
    }
  });

  it('format 4: ES5 and Lua agree with the host on mutated streams (errors included)', () => {
    const L = fengariWithBundle(luaPath);
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(es5Path, 'utf8'), ctx);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 499 }), { minLength: 1, maxLength: 80 }), fc.nat(400), fc.integer({ min: 1, max: 40 }), (p, flip, chunkHooks) => {
        const clean = p.filter((h, i) => i === 0 || h !== p[i - 1]);
        const b = encodeStream(clean, 500, [0, 0xffffff], { version: 4, chunkHooks });
        const mutated = flip < b.length ? b.map((x, i) => (i === flip ? x ^ 0x10 : x)) : b;
        const host = decodeAll(mutated);
        const expected = host.ended ? host.ops : [host.error];
        ctx.bytes = mutated;
        expect(Array.from(vm.runInContext('hookline.decodeHooks(bytes)', ctx) as number[])).toEqual(expected);
        const lua = L.eval(`return table.concat(hookline.decodeHooks({${mutated.join(',')}}), ",")`);
        expect(lua.split(',').map(Number)).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  });

  it('the Lua build agrees with the host on random streams (fengari)', () => {
    const L = fengariWithBundle(luaPath);
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(es5Path, 'utf8'), ctx);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 499 }), { minLength: 1, maxLength: 60 }), fc.nat(300), (p, flip) => {
        const b = encodeStream(p, 500, [0, 0xffffff]);
        const mutated = flip < b.length ? b.map((x, i) => (i === flip ? x ^ 0x10 : x)) : b;
        ctx.bytes = mutated;
        const host = Array.from(vm.runInContext('hookline.decodeHooks(bytes)', ctx) as number[]);
        const lua = L.eval(`return table.concat(hookline.decodeHooks({${mutated.join(',')}}), ",")`);
        expect(lua.split(',').map(Number)).toEqual(host);
      }),
      { numRuns: 60 },
    );
  });

  const lua53 = nativeLua('5.3');
  it.skipIf(!lua53)('the Lua build decodes the same stream in Debian lua5.3', () => {
    const out = runNativeLua(lua53!, luaPath, `io.write(table.concat(hookline.decodeHooks({${bytes.join(',')}}), ","))`);
    expect(out.split(',').map(Number)).toEqual(path);
    for (const p of plans) {
      const o = runNativeLua(lua53!, luaPath, `io.write(table.concat(hookline.decodeHooks({${p.bytes.join(',')}}), ","))`);
      expect(o.split(',').map(Number)).toEqual(p.hooks);
    }
  });
});

describe('device artifacts on the bench plans', () => {
  // examples/coffee.png is one of the bench images; a developer checkout next to ../shared has the others.
  const images = [join(repoRoot, 'examples/coffee.png'),
    ...['chelsea', 'rocket'].map((n) => join(repoRoot, '../shared/bench/images', `${n}.png`)).filter((f) => existsSync(f))];
  const lua53 = nativeLua('5.3');

  it(`ES5 (node:vm) and Lua (fengari${lua53 ? ', lua5.3' : ''}) decode the planner's 3000-line plans exactly as the host (${images.length} images)`, () => {
    const ctx = vm.createContext({});
    vm.runInContext(readFileSync(es5Path, 'utf8'), ctx);
    const L = fengariWithBundle(luaPath);
    for (const image of images) {
      const dir = tempDir();
      expect(runCli(['plan', image, '-o', dir, '--lines', '3000', '--quiet']).code).toBe(0);
      expect(runCli(['encode', join(dir, 'plan.json'), '-o', join(dir, 'plan.hls'), '--machine', 'machines/ref-gantry.json']).code).toBe(0);
      const bytes = Array.from(readFileSync(join(dir, 'plan.hls')));
      const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
      const host = decodeAll(bytes);
      expect([host.ended, bytes[4]]).toEqual([true, 5]);
      expect(host.ops).toEqual(planPath(plan));
      ctx.bytes = bytes;
      expect(Array.from(vm.runInContext('hookline.decodeHooks(bytes)', ctx) as number[])).toEqual(host.ops);
      expect(L.eval(`return table.concat(hookline.decodeHooks({${bytes.join(',')}}), ",")`).split(',').map(Number)).toEqual(host.ops);
      if (lua53) {
        const out = runNativeLua(lua53, luaPath, `io.write(table.concat(hookline.decodeHooks({${bytes.join(',')}}), ","))`);
        expect(out.split(',').map(Number)).toEqual(host.ops);
      }
    }
  }); // the suite-wide limit (vitest.config.ts: a hang, not speed)
});
