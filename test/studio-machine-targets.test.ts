import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/cli';
import { POST, startStudio, type RunningStudio } from './studio-helpers';

// The machine API's refusals for the targets (docs/studio.md, "Run the machine"), before any port
// is opened: a ring profile on a G-code controller or a Firmata board (the CLI's line), the simulated
// machine for anything but the hookline device, an unknown target.
process.env.HOOKLINE_STUDIO_STATE = tempDir('hookline-studio-targets-');
// A listed port (it exists); nothing here opens it.
process.env.HOOKLINE_STUDIO_SERIAL = '/dev/null';

describe('studio: the machine targets refuse what they cannot drive, in one line', () => {
  let studio: RunningStudio;
  const headers = { ...POST, 'x-hookline-client': 'targets-test-1', 'content-type': 'application/json' };
  const connect = async (body: unknown) => {
    const r = await fetch(new URL('api/machine/connect', studio.url), { method: 'POST', headers, body: JSON.stringify(body) });
    return [r.status, ((await r.json()) as { error?: string }).error];
  };
  beforeAll(async () => {
    studio = await startStudio();
  });
  afterAll(async () => {
    await studio?.stop();
  });

  it('lists the extra port; refuses ring profiles, the simulated machine and unknown targets with the reason', async () => {
    const ports = (await (await fetch(new URL('api/machine/ports', studio.url))).json()) as { id: string }[];
    expect(ports.map((p) => p.id)).toContain('/dev/null');
    expect(await connect({ port: '/dev/null', target: 'grbl', machine: 'ref-ring' }))
      .toEqual([400, 'run --target grbl: machines/ref-ring.json is a ring machine; G-code controllers drive XY gantries (kind "gantry")']);
    expect(await connect({ port: '/dev/null', target: 'marlin', machine: 'ref-ring' }))
      .toEqual([400, 'run --target marlin: machines/ref-ring.json is a ring machine; G-code controllers drive XY gantries (kind "gantry")']);
    expect(await connect({ port: '/dev/null', target: 'johnny-five', machine: 'ref-ring' }))
      .toEqual([400, 'run --target johnny-five: ring machines are not supported by the Firmata target yet (gantry only)']);
    expect(await connect({ port: 'sim', target: 'grbl', machine: 'ref-gantry' }))
      .toEqual([400, "the simulated machine is a hookline device, not a Grbl controller; choose the controller's serial port under Port"]);
    expect(await connect({ port: 'sim', target: 'johnny-five', machine: 'ref-gantry' }))
      .toEqual([400, "the simulated machine is a hookline device, not a Firmata board; choose the board's serial port under Port"]);
    expect(await connect({ port: '/dev/null', target: 'linuxcnc', machine: 'ref-gantry' }))
      .toEqual([400, "unknown target 'linuxcnc'; use one of hookline, johnny-five, grbl, marlin"]);
    const state = (await (await fetch(new URL('api/machine/claim', studio.url), { method: 'POST', headers, body: '{}' })).json()) as { connection: string };
    expect(state.connection).toBe('off');
  });
});
