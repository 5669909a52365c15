import { spawn } from 'node:child_process';
import { numberFlag, parseCommand, positionals } from '../args';
import { UserError } from '../errors';
import type { Command } from './command';

export const studioCommand: Command = {
  name: 'studio',
  usage: 'studio [--port N] [--host H [--allow-remote]] [--open]',
  summary: 'the maker\'s web app (docs/studio.md): a local server for a page where a photo becomes a thread picture live, with downloads (plan.json, stream, G-code, preview) and a manual stringing mode',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('studio', argv, {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'allow-remote': { type: 'boolean' },
      open: { type: 'boolean' },
    });
    positionals('studio', pos, []);
    const port = numberFlag('port', values.port, 5178, { min: 0, max: 65535, integer: true });
    const host = values.host ?? '127.0.0.1';
    // Imported here: the server pulls in the planner, G-code and stream code the other commands load lazily too.
    const { isLoopback, newToken, startStudio } = await import('../studio/server');
    if (!/^[0-9A-Za-z.:-]+$/.test(host)) throw new UserError(`--host: '${host}' is not an address; give e.g. 127.0.0.1 or 0.0.0.0`);
    const remote = !isLoopback(host);
    if (remote && !values['allow-remote']) {
      throw new UserError(`--host ${host} lets other machines reach the studio; add --allow-remote to mean it (every request then needs the access token printed at start)`);
    }
    const studio = await startStudio({ host, port, token: remote ? newToken() : undefined });
    process.stdout.write(`hookline studio: ${studio.url}${remote ? ' (the token in the address is needed by every request)' : ''} — Ctrl-C stops it\n`);
    if (values.open) openBrowser(studio.url.replace('//0.0.0.0:', '//127.0.0.1:'));
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void studio.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};

/** Open the page in the desktop's browser when there is one; otherwise say so (the URL is printed anyway). */
function openBrowser(url: string) {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write(`hookline studio: no browser to open (${cmd} not found); open ${url} yourself\n`));
  child.unref();
}
