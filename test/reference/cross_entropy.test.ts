// The cross-entropy reference: its logits gradient against central finite differences (float64), ignored
// rows included, and its loss against -log softmax written out directly.
import { describe, expect, test } from 'vitest';
import { crossEntropyBackward, crossEntropyForward } from '../../src/reference/cross_entropy';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

const IGNORE = 0xffffffff;

function forward(logits: Float64Array, targets: Uint32Array, n: number, v: number) {
  const loss = new Float64Array(n);
  const lse = new Float64Array(n);
  crossEntropyForward(loss, lse, logits, targets, n, v);
  return { loss, lse };
}

describe('cross_entropy reference', () => {
  for (const [n, v] of [
    [1, 7],
    [4, 13],
    [3, 1],
  ] as const) {
    test(`dlogits matches finite differences of sum dloss * loss, ignored rows included (N=${n} V=${v})`, () => {
      const rng = new Rng(300 + n * v);
      const logits = Float64Array.from({ length: n * v }, () => 2 * rng.normal());
      const targets = Uint32Array.from({ length: n }, () => rng.int(v));
      if (n > 2) targets[1] = IGNORE;
      const dloss = Float64Array.from({ length: n }, () => rng.normal());
      const loss = () => dotLoss(forward(logits, targets, n, v).loss, dloss);
      const { lse } = forward(logits, targets, n, v);
      const dlogits = new Float64Array(n * v).fill(123); // overwritten
      crossEntropyBackward(dlogits, dloss, logits, targets, lse, n, v);
      expect(mismatches(dlogits, centralDiff(loss, logits, 1e-4), 1e-7, 1e-6, 'dlogits')).toBe('');
      if (n > 2) expect([...dlogits.subarray(v, 2 * v)].every((g) => g === 0)).toBe(true);
      if (v > 1) expect(dlogits.some((g) => Math.abs(g) > 1e-2)).toBe(true);
    });
  }

  test('loss = -log softmax(target) written out; ignored rows give 0 but still an lse', () => {
    const rng = new Rng(5);
    const [n, v] = [3, 9];
    const logits = Float64Array.from({ length: n * v }, () => 3 * rng.normal());
    const targets = Uint32Array.from([8, IGNORE, 0]);
    const { loss, lse } = forward(logits, targets, n, v);
    for (let row = 0; row < n; row++) {
      let s = 0;
      for (let j = 0; j < v; j++) s += Math.exp(logits[row * v + j]);
      expect(lse[row]).toBeCloseTo(Math.log(s), 12);
      if (targets[row] === IGNORE) expect(loss[row]).toBe(0);
      else expect(loss[row]).toBeCloseTo(-Math.log(Math.exp(logits[row * v + targets[row]]) / s), 12);
    }
  });

  test('uniform logits give log V; logits of magnitude 80 stay finite in float32', () => {
    const { loss } = forward(new Float64Array(5).fill(2.5), Uint32Array.from([3]), 1, 5);
    expect(loss[0]).toBeCloseTo(Math.log(5), 12);
    const v = 4;
    const logits = new Float32Array([80, 81, -80, 79.5, -80, -81, -79, -90]);
    const targets = Uint32Array.from([2, 3]);
    const l = new Float32Array(2);
    const lse = new Float32Array(2);
    crossEntropyForward(l, lse, logits, targets, 2, v);
    const dlogits = new Float32Array(2 * v);
    crossEntropyBackward(dlogits, new Float32Array([1, 1]), logits, targets, lse, 2, v);
    for (const x of [...l, ...lse, ...dlogits]) expect(Number.isFinite(x)).toBe(true);
    expect(l[0]).toBeGreaterThan(160); // the target sits 161 below the max
    expect(dlogits[2]).toBeCloseTo(-1, 6);
  });
});
