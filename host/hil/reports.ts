/**
 * The suite's reports (schema in docs/hil.md): a JSON document and a JUnit XML file (one
 * testsuite, a testcase per case with <failure> or <skipped>), both written atomically.
 */
import { writeFileAtomic } from '../atomic-write';
import type { DeviceInfo } from '../link/session';
import { hex32 } from './device-link';
import type { CaseResult } from './runner';

export const HIL_SUITE = 'hookline hil';

export interface HilReport {
  format: 'hookline-hil-report';
  version: 1;
  suite: string;
  startedAt: string;
  port: string;
  baud: number;
  machine: { path: string; name: string; hash: string } | null;
  device: (Omit<DeviceInfo, 'machineHash'> & { machineHash: string }) | null;
  cases: CaseResult[];
  summary: { total: number; passed: number; failed: number; skipped: number; ms: number; ok: boolean };
}

export function buildReport(args: {
  startedAt: Date; port: string; baud: number; machine: HilReport['machine']; device: DeviceInfo | null; cases: CaseResult[]; ms: number;
}): HilReport {
  const passed = args.cases.filter((c) => c.ok).length;
  const skipped = args.cases.filter((c) => c.skipped).length;
  const failed = args.cases.length - passed - skipped;
  return {
    format: 'hookline-hil-report',
    version: 1,
    suite: HIL_SUITE,
    startedAt: args.startedAt.toISOString(),
    port: args.port,
    baud: args.baud,
    machine: args.machine,
    device: args.device ? { ...args.device, machineHash: hex32(args.device.machineHash) } : null,
    cases: args.cases,
    summary: { total: args.cases.length, passed, failed, skipped, ms: Math.round(args.ms), ok: failed === 0 && skipped === 0 },
  };
}

export function writeJsonReport(path: string, r: HilReport): void {
  writeFileAtomic(path, JSON.stringify(r, null, 1) + '\n');
}

/** XML text: the five entities escaped, characters XML 1.0 cannot hold dropped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitXml(r: HilReport): string {
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const s = r.summary;
  const props: [string, string][] = [
    ['port', r.port],
    ['baud', String(r.baud)],
    ['machine', r.machine ? `${r.machine.path} (${r.machine.hash})` : 'none'],
  ];
  if (r.device) props.push(['device.firmware', r.device.firmware], ['device.machineHash', r.device.machineHash], ['device.protocolVersion', String(r.device.protocolVersion)]);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(r.suite)}" tests="${s.total}" failures="${s.failed}" errors="0" skipped="${s.skipped}" time="${secs(s.ms)}">`,
    `  <testsuite name="${xmlEscape(r.suite)}" tests="${s.total}" failures="${s.failed}" errors="0" skipped="${s.skipped}" time="${secs(s.ms)}" timestamp="${r.startedAt.replace(/\.\d+Z$/, '')}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`),
    '    </properties>',
  ];
  for (const c of r.cases) {
    const head = `    <testcase classname="hookline.hil" name="${xmlEscape(c.name)}" time="${secs(c.ms)}"`;
    if (c.ok) out.push(`${head}>`, `      <system-out>${xmlEscape(c.detail)}</system-out>`, '    </testcase>');
    else if (c.skipped) out.push(`${head}>`, `      <skipped message="${xmlEscape(c.detail)}"/>`, '    </testcase>');
    else out.push(`${head}>`, `      <failure message="${xmlEscape(c.detail)}" type="failure">${xmlEscape(c.detail)}</failure>`, '    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

export function writeJunitReport(path: string, r: HilReport): void {
  writeFileAtomic(path, junitXml(r));
}
