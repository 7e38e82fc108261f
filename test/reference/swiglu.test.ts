// The SwiGLU references: silu by hand, and the backward against finite differences.
import { describe, expect, test } from 'vitest';
import { sigmoid, swigluBackward, swigluForward } from '../../src/reference/swiglu';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('swiglu reference', () => {
  test('forward by hand, and a sigmoid that stays finite in both tails', () => {
    const out = new Float64Array(3);
    swigluForward(out, Float64Array.from([0, 1, -2]), Float64Array.from([5, 2, 3]));
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo((1 / (1 + Math.exp(-1))) * 2, 15);
    expect(out[2]).toBeCloseTo((-2 / (1 + Math.exp(2))) * 3, 15);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(-30)).toBeCloseTo(Math.exp(-30), 25);
  });

  test('backward matches finite differences for dgate and dup', () => {
    const rng = new Rng(23);
    const n = 40;
    const gate = Float64Array.from(randn(n, rng, 4));
    const up = Float64Array.from(randn(n, rng));
    const G = Float64Array.from(randn(n, rng));
    const out = new Float64Array(n);
    const loss = () => {
      swigluForward(out, gate, up);
      return dotLoss(out, G);
    };
    const fdGate = centralDiff(loss, gate, 1e-4);
    const fdUp = centralDiff(loss, up, 1e-4);
    const dgate = new Float64Array(n).fill(7); // overwritten, not accumulated
    const dup = new Float64Array(n).fill(7);
    swigluBackward(dgate, dup, G, gate, up);
    expect(mismatches(dgate, fdGate, 1e-7, 1e-6, 'dgate')).toBe('');
    expect(mismatches(dup, fdUp, 1e-7, 1e-6, 'dup')).toBe('');
  });
});
