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

describe('grpo loss reference: cispo, sapo, delta (issue 15)', () => {
  const fd = (f: (lp: number) => number, lp: number) => (f(lp + 1e-6) - f(lp - 1e-6)) / 2e-6;
  test('sapo: loss -sigmoid(tau (rho - 1)) 4 / tau A and its gradient, tau by the sign of A', () => {
    const hp = { epsilon: 0.2, epsilonHigh: 0.2, beta: 0, kind: 'sapo' as const, sapoTemperaturePos: 1, sapoTemperatureNeg: 1.05 };
    for (const [lp, old, a] of [[-1, -1.3, 0.8], [-1, -0.6, -0.5], [-2, -2, 1]]) {
      const tau = a > 0 ? 1 : 1.05;
      const rho = Math.exp(lp - old);
      expect(grpoTokenLoss(lp, old, lp, a, hp).loss).toBeCloseTo((-4 / tau) * a / (1 + Math.exp(-tau * (rho - 1))), 12);
      expect(grpoTokenLoss(lp, old, lp, a, hp).grad).toBeCloseTo(fd((x) => grpoTokenLoss(x, old, x, a, hp).loss, lp), 6);
    }
    // at rho = 1 the gate is sigmoid(0) * 4 / tau = 2 / tau and the gradient is -A, as GRPO's
    expect(grpoTokenLoss(-1, -1, -1, 0.8, hp).grad).toBeCloseTo(-0.8, 12);
  });
  test('cispo: -min(rho, eps_high) A logp with the weight detached', () => {
    const hp = { epsilon: 0.2, epsilonHigh: 1.5, beta: 0, kind: 'cispo' as const };
    expect(grpoTokenLoss(-1, -1.2, -1, 2, hp).loss).toBeCloseTo(-Math.exp(0.2) * 2 * -1, 12);
    expect(grpoTokenLoss(-1, -1.2, -1, 2, hp).grad).toBeCloseTo(-Math.exp(0.2) * 2, 12);
    // rho = e^0.6 > 1.5: capped, with A > 0 flagged high, with A < 0 capped but not flagged (as TRL's cispo_clip_ratio)
    expect(grpoTokenLoss(-1, -1.6, -1, 2, hp).grad).toBeCloseTo(-1.5 * 2, 12);
    expect(grpoTokenLoss(-1, -1.6, -1, 2, hp).flag).toBe(2);
    expect(grpoTokenLoss(-1, -1.6, -1, -2, hp).grad).toBeCloseTo(1.5 * 2, 12);
    expect(grpoTokenLoss(-1, -1.6, -1, -2, hp).flag).toBe(0);
  });
  test('delta caps the unclipped ratio: A < 0 with rho above delta has loss -delta A and no gradient', () => {
    const hp = { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, delta: 1.5 };
    const t = grpoTokenLoss(-1, -1.6, -1, -1, hp); // rho = e^0.6 = 1.82
    expect(t.loss).toBeCloseTo(1.5, 12);
    expect(t.grad).toBe(0);
    const u = grpoTokenLoss(-1, -1.3, -1, -1, hp); // rho = e^0.3 = 1.35 < delta: unclipped
    expect(u.grad).toBeCloseTo(fd((x) => grpoTokenLoss(x, -1.3, x, -1, hp).loss, -1), 6);
    expect(u.grad).not.toBe(0);
  });
  test('entropy mask: a token below the threshold keeps only its KL term', () => {
    const hp = { epsilon: 0.2, epsilonHigh: 0.28, beta: 0.1, entropyThreshold: 1 };
    const masked = grpoTokenLoss(-1, -1.1, -0.8, 1, hp, 0.5);
    const d = -0.8 - -1;
    expect(masked.loss).toBeCloseTo(0.1 * (Math.exp(d) - d - 1), 12);
    expect(masked.flag).toBe(4);
    expect(grpoTokenLoss(-1, -1.1, -0.8, 1, hp, 1).flag).toBe(0);
  });
});
