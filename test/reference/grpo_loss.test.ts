// The GRPO loss reference's gradient against central finite differences, and hand-made cases.
import { describe, expect, test } from 'vitest';
import { grpoTokenLoss } from '../../src/reference/grpo_loss';

describe('grpo loss reference', () => {
  const hp = { epsilon: 0.2, epsilonHigh: 0.28, beta: 0.04 };
  test('gradient matches finite differences away from the clip boundaries', () => {
    for (const [lp, old, ref, a] of [
      [-1.0, -1.1, -0.9, 1.5], // rho = e^0.1 inside the range
      [-1.0, -1.5, -1.2, 0.7], // rho = e^0.5 > 1.28, A > 0: clipped, only KL gradient
      [-1.0, -1.5, -1.2, -0.7], // rho > 1.28, A < 0: unclipped
      [-2.0, -1.5, -2.2, -0.7], // rho = e^-0.5 < 0.8, A < 0: clipped
      [-2.0, -1.5, -2.2, 0.7], // rho < 0.8, A > 0: unclipped
    ]) {
      const h = 1e-6;
      const fd = (grpoTokenLoss(lp + h, old, ref, a, hp).loss - grpoTokenLoss(lp - h, old, ref, a, hp).loss) / (2 * h);
      expect(grpoTokenLoss(lp, old, ref, a, hp).grad).toBeCloseTo(fd, 6);
    }
  });

  test('one iteration: rho = 1, loss = -A, gradient = -A (+ KL)', () => {
    const t = grpoTokenLoss(-0.5, -0.5, -0.5, 2, { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 });
    expect(t.rho).toBe(1);
    expect(t.loss).toBe(-2);
    expect(t.grad).toBe(-2);
    expect(t.kl).toBe(0);
  });

  test('k3 is the unbiased KL estimator exp(r) - r - 1 and is zero when policy equals reference', () => {
    expect(grpoTokenLoss(-1, -1, -1, 0, hp).kl).toBe(0);
    const r = 0.3;
    expect(grpoTokenLoss(-1, -1, -1 + r, 0, hp).kl).toBeCloseTo(Math.exp(r) - r - 1, 12);
  });

  test('clip flags: low when rho < 1 - eps with A < 0, high when rho > 1 + eps_high with A > 0', () => {
    expect(grpoTokenLoss(-2, -1.5, -2, -1, hp).flag).toBe(1);
    expect(grpoTokenLoss(-1, -1.5, -1, 1, hp).flag).toBe(2);
    expect(grpoTokenLoss(-1, -1.5, -1, -1, hp).flag).toBe(0);
  });
});
