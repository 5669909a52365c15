import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsedFlags } from '../host/args';
import { loadCommands } from '../host/cli';
import { UserError } from '../host/errors';
import { COMMAND_DOCS, docFlags } from '../host/help';
import { parsePlanArgs } from '../host/commands/plan';
import { repoRoot, runCli } from './helpers/cli';

const commands = await loadCommands();
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;

describe('hookline help, --help and --version', () => {
  it('hookline help lists every command and points to hookline COMMAND --help', () => {
    const r = runCli(['help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} +\\S`, 'm'));
    expect(r.stdout).toContain("'hookline COMMAND --help'");
    expect(r.stdout).toContain(`hookline ${version}`);
  });

  it('no command: the overview on stderr, exit 2; help for an unknown command: one line, exit 2', () => {
    const none = runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe(runCli(['help']).stdout);
    const unknown = runCli(['help', 'nosuch']);
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([2, '', "hookline: unknown command 'nosuch'; run 'hookline help' for the list\n"]);
  });

  it('--version prints package.json\'s version', () => {
    const r = runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('every command: --help and -h exit 0 with every option on stdout, even among other (bad) arguments', () => {
    for (const c of commands) {
      const r = runCli([c.name, '--help']);
      expect(r.code, c.name).toBe(0);
      expect(r.stderr, c.name).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^usage: hookline ${c.name}\\b`));
      for (const o of COMMAND_DOCS[c.name].options) {
        expect(r.stdout, `${c.name} --${o.name}`).toContain(`${o.short ? `-${o.short}, ` : ''}--${o.name}`);
        if (o.default && o.default !== 'required') expect(r.stdout.replace(/\s+/g, ' '), `${c.name} --${o.name}`).toContain(`Default: ${o.default}.`);
      }
      expect(r.stdout.split('\n').every((l) => l.length <= 100), c.name).toBe(true);
    }
    const short = runCli(['plan', 'missing.png', '--hooks', 'x', '-h']);
    expect(short.code).toBe(0);
    expect(short.stdout).toContain('--hooks N');
    expect(runCli(['help', 'sim']).stdout).toBe(runCli(['sim', '--help']).stdout);
  });

  it('an unknown option points to the command\'s --help', () => {
    const r = runCli(['plan', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hookline: plan: Unknown option '--bogus'; run 'hookline plan --help' for its options\n");
  });

  it('missing or extra arguments point to the command\'s --help', () => {
    expect(runCli(['sim']).stderr).toBe("hookline: sim: expected PLAN.HLS, got nothing; run 'hookline sim --help' for its arguments\n");
    expect(runCli(['hil', 'x']).stderr).toBe("hookline: hil: expected no arguments, got 'x'; run 'hookline hil --help' for its arguments\n");
  });

  it('the help shows meaning, unit, default and range of the numeric options', () => {
    const r = runCli(['plan', '--help']);
    expect(r.stdout).toMatch(/--board-mm D\n\s+board width and height; .*Unit: mm\. Default: 600\. Range: 50 to\s+5000\./);
  });
});

describe('the help documents exactly the flags each parser accepts', () => {
  it('every command', async () => {
    for (const c of commands) {
      parsedFlags.delete(c.name);
      await expect(c.run(['--hookline-no-such-flag']), c.name).rejects.toThrow(UserError);
      const accepted = parsedFlags.get(c.name);
      expect(accepted, `${c.name} parses its flags with parseCommand('${c.name}', …)`).toBeDefined();
      const norm = (f: Record<string, { type: string; short?: string }>) =>
        Object.fromEntries(Object.entries(f).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, `${v.type}${v.short ? ` -${v.short}` : ''}`]));
      expect(norm(COMMAND_DOCS[c.name]?.options ? docFlags(c.name) : {}), `${c.name}: host/help.ts against the parser`).toEqual(norm(accepted!));
    }
  });

  it('plan: each documented number range is the one the parser enforces, at both ends', () => {
    let checked = 0;
    for (const o of COMMAND_DOCS.plan.options) {
      const m = /^(above )?(-?[\d.]+)(?:,)? (?:up )?to (-?[\d.]+)/.exec(o.range ?? '');
      if (!m || !/^[A-Z]/.test(o.value ?? '')) continue; // numbers only, not --palette's colours
      const [lo, hi] = [Number(m[2]), Number(m[3])];
      const step = /whole number/.test(o.range!) ? 1 : Math.max(1e-3, hi * 1e-3);
      const context = o.name === 'groups' ? ['--colors', '3'] : [];
      const parse = (v: number) => () => parsePlanArgs(['x.png', '-o', 'out', ...context, `--${o.name}=${v}`]);
      expect(parse(hi), `--${o.name} ${hi}`).not.toThrow();
      expect(parse(hi + step), `--${o.name} ${hi + step}`).toThrow(new RegExp(`^--${o.name}: `));
      if (m[1]) {
        expect(parse(lo), `--${o.name} ${lo}`).toThrow(new RegExp(`^--${o.name}: `));
        expect(parse(lo + step), `--${o.name} ${lo + step}`).not.toThrow();
      } else {
        expect(parse(lo), `--${o.name} ${lo}`).not.toThrow();
        expect(parse(lo - step), `--${o.name} ${lo - step}`).toThrow(new RegExp(`^--${o.name}: `));
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('every documented option has a meaning; valued options a placeholder and a default', () => {
    expect(Object.keys(COMMAND_DOCS).sort()).toEqual(commands.map((c) => c.name).sort());
    for (const [name, doc] of Object.entries(COMMAND_DOCS)) {
      for (const o of doc.options) {
        expect(o.meaning.length, `${name} --${o.name}`).toBeGreaterThan(10);
        if (o.type === 'string') {
          expect(o.value, `${name} --${o.name}`).toBeTruthy();
          expect(o.default, `${name} --${o.name}`).toBeTruthy();
        }
        // A number with a unit has a range.
        if (o.unit) expect(o.range, `${name} --${o.name}`).toBeTruthy();
      }
    }
  });
});
