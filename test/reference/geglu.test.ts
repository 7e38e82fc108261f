// The GeGLU (tanh-approximated GELU) references: the GELU by hand, and the backward against finite differences.
import { describe, expect, test } from 'vitest';
import { geluTanh, gegluBackward, gegluForward } from '../../src/reference/geglu';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('geglu reference', () => {
  test('forward by hand (PyTorch gelu(approximate="tanh") values) and finite tails', () => {
    const out = new Float64Array(3);
    gegluForward(out, Float64Array.from([0, 1, -2]), Float64Array.from([5, 2, 3]));
    expect(out[0]).toBe(0);
    const g = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    expect(out[1]).toBeCloseTo(g(1) * 2, 14);
    expect(out[2]).toBeCloseTo(g(-2) * 3, 14);
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 12); // torch.nn.functional.gelu(1.0, approximate='tanh')
    expect(geluTanh(1000)).toBe(1000);
    expect(geluTanh(-1000)).toBeCloseTo(0, 12); // no NaN from tanh's exp
  });

  test('backward matches finite differences for dgate and dup', () => {
    const rng = new Rng(24);
    const n = 40;
    const gate = Float64Array.from(randn(n, rng, 3));
    const up = Float64Array.from(randn(n, rng));
    const G = Float64Array.from(randn(n, rng));
    const out = new Float64Array(n);
    const loss = () => {
      gegluForward(out, gate, up);
      return dotLoss(out, G);
    };
    const fdGate = centralDiff(loss, gate, 1e-4);
    const fdUp = centralDiff(loss, up, 1e-4);
    const dgate = new Float64Array(n).fill(7); // overwritten, not accumulated
    const dup = new Float64Array(n).fill(7);
    gegluBackward(dgate, dup, G, gate, up);
    expect(mismatches(dgate, fdGate, 1e-7, 1e-6, 'dgate')).toBe('');
    expect(mismatches(dup, fdUp, 1e-7, 1e-6, 'dup')).toBe('');
  });
});
