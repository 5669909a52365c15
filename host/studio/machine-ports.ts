/**
 * The serial ports the studio offers (docs/studio.md, "Run the machine"): serialport's list (USB
 * adapters, boards, built-in UARTs), the ports named in HOOKLINE_STUDIO_SERIAL (a colon-separated
 * list of device paths, e.g. a socat pty bridged to a board elsewhere; set where the server starts,
 * never by the page), and the simulated machine. The page connects by an id from the last list;
 * nothing else can be opened.
 */
import { existsSync } from 'node:fs';
import { SIM_PORT, type PortInfo } from './machine-protocol';

export async function listPorts(): Promise<PortInfo[]> {
  const out: PortInfo[] = [];
  const seen = new Set<string>();
  try {
    const { SerialPort } = await import('serialport');
    for (const p of await SerialPort.list()) {
      if (seen.has(p.path)) continue;
      seen.add(p.path);
      const what = [p.manufacturer, p.serialNumber && `#${p.serialNumber}`, p.vendorId && `${p.vendorId}:${p.productId ?? ''}`].filter(Boolean).join(' ');
      out.push({ id: p.path, label: what ? `${p.path} (${what})` : p.path, sim: false });
    }
  } catch {
    // No binding or no way to enumerate here: the extra ports and the simulated machine remain.
  }
  for (const p of (process.env.HOOKLINE_STUDIO_SERIAL ?? '').split(':').filter(Boolean)) {
    if (seen.has(p) || !existsSync(p)) continue;
    seen.add(p);
    out.push({ id: p, label: `${p} (HOOKLINE_STUDIO_SERIAL)`, sim: false });
  }
  out.push({ id: SIM_PORT, label: 'simulated machine (hookline device on a socat pty)', sim: true });
  return out;
}
