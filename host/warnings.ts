/**
 * A warning: something the user should know that does not stop the command (a plan that will look
 * poor, a crop that drops most of the image). One stderr line `hookline: warning: …`. Commands with
 * --quiet print none (quiet means no progress, no summary and no warnings: only errors).
 */
export function warn(text: string, quiet = false): void {
  if (!quiet) process.stderr.write(`hookline: warning: ${text}\n`);
}
