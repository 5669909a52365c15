/**
 * Errors a user can cause (bad input, missing file, bad flag). The CLI catches these once,
 * prints the message as one line on stderr and exits with code 2. Anything else is a bug.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function fail(message: string): never {
  throw new UserError(message);
}

/** A file-system error in words, for one-line messages. */
export function fsErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'a parent is not a directory';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? String((e as Error)?.message ?? e);
}
