// The grad-norm CPU reference against norms worked out by hand.
import { describe, expect, test } from 'vitest';
import { gradNorm } from '../../src/reference/grad_norm';

describe('grad_norm reference', () => {
  const grads = [new Float32Array([3, 0]), new Float32Array([]), new Float32Array([4]), new Float32Array([12])];
  const out = new Float32Array(2);

  test('norm over several tensors; clipScale = min(1, maxNorm / (norm + 1e-6))', () => {
    gradNorm(out, grads, 6.5); // sqrt(9 + 16 + 144) = 13
    expect(out[0]).toBe(13);
    expect(out[1]).toBeCloseTo(6.5 / (13 + 1e-6), 7);
    gradNorm(out, grads, 100);
    expect([...out]).toEqual([13, 1]);
  });

  test('maxNorm <= 0 or Infinity means no clipping', () => {
    for (const maxNorm of [0, -1, Infinity, NaN]) {
      gradNorm(out, grads, maxNorm);
      expect([...out]).toEqual([13, 1]);
    }
  });

  test('a NaN or Inf element gives a NaN norm; an f32 overflow of the sum gives +Inf', () => {
    gradNorm(out, [new Float32Array([1, NaN])], 1);
    expect(Number.isNaN(out[0]) && Number.isNaN(out[1])).toBe(true);
    gradNorm(out, [new Float32Array([1]), new Float32Array([-Infinity])], 1);
    expect(Number.isNaN(out[0])).toBe(true);
    gradNorm(out, [new Float32Array([2e19, 2e19])], 1);
    expect([...out]).toEqual([Infinity, 0]);
    gradNorm(out, [new Float32Array([2e19, 2e19])], 0);
    expect([...out]).toEqual([Infinity, 1]);
  });
});
