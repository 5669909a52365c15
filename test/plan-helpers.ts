import { expect } from 'vitest';
import type { Plan } from '../host/plan/types';

/** The invariants docs/plan-format.md promises. */
export function checkPlan(plan: Plan) {
  expect(plan.format).toBe('hookline-plan');
  expect(plan.version).toBe(1);
  expect(plan.colors.every((c) => /^#[0-9a-f]{6}$/i.test(c))).toBe(true);
  expect(plan.background).toMatch(/^#[0-9a-f]{6}$/i);
  for (const [x, y] of plan.nails) {
    expect(x).toBeGreaterThanOrEqual(0);
    expect(y).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThanOrEqual(plan.board.widthMm);
    expect(y).toBeLessThanOrEqual(plan.board.heightMm);
  }
  plan.lines.forEach(([c, a, b], i) => {
    expect(c).toBeLessThan(plan.colors.length);
    expect(a).not.toBe(b);
    expect(Math.max(a, b)).toBeLessThan(plan.nails.length);
    expect(Math.min(a, b)).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(plan.lines[i - 1][2]).toBe(a);
  });
}

