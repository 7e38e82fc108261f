// The AdamW CPU reference against steps worked out by hand, and its hyperparameter checks.
import { describe, expect, test } from 'vitest';
import { adamwStep } from '../../src/reference/adamw';

describe('adamw reference', () => {
  test('one step from zero state equals the hand-computed update', () => {
    // step 1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2, so p <- p(1 - lr wd) - lr g / (|g| + eps).
    const param = new Float32Array([1.0, -2.0, 0.5]);
    const grad = new Float32Array([0.5, -0.25, 0]);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    adamwStep(param, grad, m, v, new Float32Array([7, 0.5]), hp);
    // clip scale 0.5: g = [0.25, -0.125, 0]
    const decay = 1 - 0.1 * 0.01;
    const want = [
      1.0 * decay - (0.1 * 0.25) / (0.25 + 1e-8),
      -2.0 * decay - (0.1 * -0.125) / (0.125 + 1e-8),
      0.5 * decay,
    ];
    for (let i = 0; i < 3; i++) expect(param[i]).toBeCloseTo(want[i], 6);
    expect([...m]).toEqual([Math.fround(0.025), Math.fround(-0.0125), 0]);
    expect(v[0]).toBe(Math.fround(0.001 * 0.0625));
    expect(v[1]).toBe(Math.fround(0.001 * 0.015625));
    expect(v[2]).toBe(0);
  });

  test('step 10 applies the bias corrections 1 - beta^10', () => {
    const param = new Float32Array([0.3]);
    const m = new Float32Array([0.02]);
    const v = new Float32Array([4e-4]);
    const grad = new Float32Array([0.1]);
    const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-6, weightDecay: 0, step: 10 };
    adamwStep(param, grad, m, v, null, hp);
    const mi = 0.9 * 0.02 + 0.1 * 0.1; // 0.028
    const vi = 0.99 * 4e-4 + 0.01 * 0.01; // 0.000496
    const mhat = mi / (1 - 0.9 ** 10);
    const vhat = vi / (1 - 0.99 ** 10);
    expect(m[0]).toBeCloseTo(0.028, 7);
    expect(v[0]).toBeCloseTo(0.000496, 9);
    expect(param[0]).toBeCloseTo(0.3 - (1e-3 * mhat) / (Math.sqrt(vhat) + 1e-6), 7);
    // without bias correction the step would be about twice as large (sqrt(bc2) / bc1 = 0.475)
    expect(Math.abs(0.3 - param[0] - (1e-3 * mi) / (Math.sqrt(vi) + 1e-6))).toBeGreaterThan(5e-4);
  });

  test('clipScaleIndex picks the element; bad hyperparameters are refused by name', () => {
    const a = new Float32Array([1]);
    const b = new Float32Array([1]);
    const hp = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    adamwStep(a, new Float32Array([2]), new Float32Array(1), new Float32Array(1), new Float32Array([0.5]), hp, 0);
    adamwStep(b, new Float32Array([1]), new Float32Array(1), new Float32Array(1), null, hp);
    expect(a[0]).toBe(b[0]);
    const z = () => new Float32Array(1);
    expect(() => adamwStep(z(), z(), z(), z(), null, { ...hp, step: 0 })).toThrow(/step/);
    expect(() => adamwStep(z(), z(), z(), z(), null, { ...hp, beta2: 1 })).toThrow(/beta2/);
    expect(() => adamwStep(z(), z(), z(), z(), null, { ...hp, eps: 0 })).toThrow(/eps/);
    expect(() => adamwStep(z(), new Float32Array(2), z(), z(), null, hp)).toThrow(/grad 2/);
  });
});
