import type { Plan } from './types';

/**
 * plan.json text: pretty-printed, but each nail and each line on one row so large plans stay
 * readable and diff well. Ends with a newline.
 */
export function planToJson(plan: Plan): string {
  const rows = (items: readonly unknown[]) =>
    items.length === 0 ? '[]' : `[\n${items.map((x) => `    ${JSON.stringify(x)}`).join(',\n')}\n  ]`;
  const parts: string[] = [];
  for (const [key, value] of Object.entries(plan)) {
    if (value === undefined) continue;
    const text = key === 'nails' || key === 'lines' ? rows(value as unknown[]) : JSON.stringify(value);
    parts.push(`  ${JSON.stringify(key)}: ${text}`);
  }
  return `{\n${parts.join(',\n')}\n}\n`;
}
