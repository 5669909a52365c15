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
