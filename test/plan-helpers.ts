import { expect } from 'vitest';
import type { Plan } from '../host/plan/types';

/** The invariants docs/plan-format.md promises. */
export function checkPlan(plan: Plan) {
  expect(plan.format).toBe('hookline-plan');
  expect(plan.version).toBe(plan.flanks === 2 ? 2 : 1);
  if (plan.flanks === 2) {
    expect(plan.nails.length % 2).toBe(0);
    expect(plan.hookDiameterMm).toBeGreaterThan(0);
  }
  // Flanks sit on the hooks' sides: up to the hook radius plus half the thread off the board edge.
  const slack = plan.flanks === 2 ? plan.hookDiameterMm! / 2 + plan.threadWidthMm / 2 + 1e-3 : 0;
  expect(plan.colors.every((c) => /^#[0-9a-f]{6}$/i.test(c))).toBe(true);
  expect(plan.background).toMatch(/^#[0-9a-f]{6}$/i);
  for (const [x, y] of plan.nails) {
    expect(x).toBeGreaterThanOrEqual(-slack);
    expect(y).toBeGreaterThanOrEqual(-slack);
    expect(x).toBeLessThanOrEqual(plan.board.widthMm + slack);
    expect(y).toBeLessThanOrEqual(plan.board.heightMm + slack);
  }
  plan.lines.forEach(([c, a, b], i) => {
    expect(c).toBeLessThan(plan.colors.length);
    expect(a).not.toBe(b);
    expect(Math.max(a, b)).toBeLessThan(plan.nails.length);
    expect(Math.min(a, b)).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(plan.flanks === 2 ? plan.lines[i - 1][2] ^ 1 : plan.lines[i - 1][2]).toBe(a);
    if (plan.flanks === 2) expect(a >> 1).not.toBe(b >> 1);
  });
}

