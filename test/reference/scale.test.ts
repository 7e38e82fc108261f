// The scale reference (Gemma 4's layer_scalar): values by hand, and the backward against finite differences.
import { describe, expect, test } from 'vitest';
import { scaleBackward, scaleForward } from '../../src/reference/scale';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('scale reference', () => {
  test('forward by hand', () => {
    const out = new Float64Array(3);
    scaleForward(out, Float64Array.from([1, -2, 0.5]), 3);
    expect([...out]).toEqual([3, -6, 1.5]);
    scaleForward(out, Float64Array.from([1, 1, 1]), 2, true);
    expect([...out]).toEqual([5, -4, 3.5]);
  });

  test('backward matches finite differences, overwriting and accumulating', () => {
    const rng = new Rng(5);
    const n = 30;
    const x = Float64Array.from(randn(n, rng));
    const G = Float64Array.from(randn(n, rng));
    const out = new Float64Array(n);
    const alpha = -1.3;
    const fd = centralDiff(() => {
      scaleForward(out, x, alpha);
      return dotLoss(out, G);
    }, x, 1e-4);
    const dx = new Float64Array(n).fill(7);
    scaleBackward(dx, G, alpha, false);
    expect(mismatches(dx, fd, 1e-8, 1e-7, 'dx')).toBe('');
    const acc = new Float64Array(n).fill(1);
    scaleBackward(acc, G, alpha, true);
    expect(mismatches(acc, fd.map((v) => v + 1), 1e-8, 1e-7, 'dx accumulated')).toBe('');
  });
});
