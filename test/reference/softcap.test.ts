// The soft-cap reference (Gemma 4's final_logit_softcapping): values by hand, and the backward against finite differences.
import { describe, expect, test } from 'vitest';
import { softcapBackward, softcapForward } from '../../src/reference/softcap';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('softcap reference', () => {
  test('forward by hand: cap * tanh(x / cap), bounded by the cap', () => {
    const out = new Float64Array(4);
    softcapForward(out, Float64Array.from([0, 3, -60, 1e6]), 30);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(30 * Math.tanh(0.1), 14);
    expect(out[2]).toBeCloseTo(30 * Math.tanh(-2), 14);
    expect(out[3]).toBeCloseTo(30, 12);
  });

  test('backward matches finite differences', () => {
    const rng = new Rng(7);
    const n = 40;
    const x = Float64Array.from(randn(n, rng, 4));
    const G = Float64Array.from(randn(n, rng));
    const out = new Float64Array(n);
    const cap = 3;
    const loss = () => {
      softcapForward(out, x, cap);
      return dotLoss(out, G);
    };
    const fd = centralDiff(loss, x, 1e-4);
    const dx = new Float64Array(n).fill(7); // overwritten
    softcapBackward(dx, G, x, cap);
    expect(mismatches(dx, fd, 1e-7, 1e-6, 'dx')).toBe('');
  });
});
