import { parseArgs } from 'node:util';
import { UserError } from './errors';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

/** The flags each command's parser was last called with: test/cli-help.test.ts checks them against host/help.ts. */
export const parsedFlags = new Map<string, FlagSpec>();

/**
 * Parse a sub-command's argv strictly: unknown flags and missing values become one-line UserErrors.
 */
export function parseCommand<T extends FlagSpec>(command: string, argv: string[], flags: T) {
  parsedFlags.set(command, flags);
  try {
    return parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    const ambiguous = /^Option '(-[^']*)' argument is ambiguous/.exec(first);
    if (ambiguous) {
      const flag = ambiguous[1].replace(/^-(\w)\b.*$/, '$1');
      throw new UserError(
        `${command}: ${flag} is followed by a value starting with '-'; write it as ${flag}=VALUE (e.g. ${flag}=-1)`,
      );
    }
    const msg = first.replace(/\. To specify a positional.*$/, '');
    throw new UserError(`${command}: ${msg}; run 'hookline ${command} --help' for its options`);
  }
}

/** A numeric flag: must parse completely as a finite number within [min, max]; integers when asked. */
export function numberFlag(
  name: string,
  raw: string | undefined,
  fallback: number,
  opts: { min?: number; max?: number; integer?: boolean } = {},
): number {
  if (raw === undefined) return fallback;
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v)) {
    throw new UserError(`--${name}: '${raw}' is not a number; give e.g. --${name} ${fallback}`);
  }
  if (opts.integer && !Number.isInteger(v)) {
    throw new UserError(`--${name}: '${raw}' must be a whole number; give e.g. --${name} ${fallback}`);
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new UserError(`--${name}: ${v} is below the minimum ${opts.min}; give a value from ${opts.min}${opts.max !== undefined ? ` to ${opts.max}` : ' up'}`);
  }
  if (opts.max !== undefined && v > opts.max) {
    throw new UserError(`--${name}: ${v} is above the maximum ${opts.max}; give a value${opts.min !== undefined ? ` from ${opts.min}` : ''} up to ${opts.max}`);
  }
  return v;
}

/** Exactly `count` positional arguments, named for the error message. */
export function positionals(command: string, got: string[], names: string[]): string[] {
  if (got.length !== names.length) {
    const usage = names.map((n) => n.toUpperCase()).join(' ');
    throw new UserError(`${command}: expected ${usage || 'no arguments'}, got ${got.length === 0 ? 'nothing' : got.map((g) => `'${g}'`).join(' ')}; run 'hookline ${command} --help' for its arguments`);
  }
  return got;
}
