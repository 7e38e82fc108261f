// The sampling CPU reference: the Philox generator against Random123's published known answers, the
// order-preserving keys, the top-k / top-p kept sets on hand-made rows, the inverse-CDF draw, and the
// frequencies of many draws against the exact truncated softmax.
import { describe, expect, test } from 'vitest';
import { philox4x32, sampleUniform } from '../../src/reference/philox';
import { keyOf, sample, sampleRow, type SampleOptions } from '../../src/reference/sample';

const opts = (o: Partial<SampleOptions>): SampleOptions => ({ temperature: 1, topK: 0, topP: 1, seed: 1, counter: 0, ...o });
const keptOf = (x: number[], o: Partial<SampleOptions>) =>
  [...sampleRow(Float32Array.from(x), opts(o), 0).kept.entries()].filter(([, k]) => k).map(([i]) => i);

describe('philox4x32-10', () => {
  test('matches the Random123 known-answer vectors', () => {
    expect(philox4x32([0, 0, 0, 0], [0, 0])).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    const ones = 0xffffffff;
    expect(philox4x32([ones, ones, ones, ones], [ones, ones])).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    expect(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])).toEqual([
      0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1,
    ]);
  });

  test('sampling uniforms: in [0, 1) on a 2^-24 grid, reproducible, and different per seed, counter and row', () => {
    let sum = 0;
    const n = 20000;
    for (let row = 0; row < n; row++) {
      const u = sampleUniform(42, 7, row);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(Number.isInteger(u * 2 ** 24)).toBe(true);
      sum += u;
    }
    // mean of n uniforms: standard error sqrt(1/12/n) = 0.002
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    expect(sampleUniform(42, 7, 3)).toBe(sampleUniform(42, 7, 3));
    const base = sampleUniform(42, 7, 3);
    for (const other of [sampleUniform(43, 7, 3), sampleUniform(42, 8, 3), sampleUniform(42, 7, 4), sampleUniform(42 + 2 ** 32, 7, 3)]) {
      expect(other).not.toBe(base);
    }
    expect(() => sampleUniform(-1, 0, 0)).toThrow(/seed/);
    expect(() => sampleUniform(0, 1.5, 0)).toThrow(/counter/);
  });
});

describe('sample reference', () => {
  test('keys preserve the order of floats and treat -0 as +0', () => {
    const xs = [-3.0e38, -1e10, -2.5, -1, -1e-30, 0, 1e-30, 1, 2.5, 1e10, 3.0e38].map(Math.fround);
    for (let i = 1; i < xs.length; i++) expect(keyOf(xs[i])).toBeGreaterThan(keyOf(xs[i - 1]));
    expect(keyOf(-0)).toBe(keyOf(0));
  });

  test('greedy takes the lowest index among tied maxima', () => {
    const ids = new Uint32Array(2);
    sample(ids, Float32Array.from([1, 5, 2, 5, 5, -1, -1, -1, -1, -1]), opts({ temperature: 0 }), 2, 5);
    expect([...ids]).toEqual([1, 0]);
  });

  test('top-k keeps every logit >= the k-th largest (ties at the threshold stay)', () => {
    const x = [1, 3, 2, 3, 0];
    expect(keptOf(x, { topK: 2 })).toEqual([1, 3]);
    expect(keptOf(x, { topK: 1 })).toEqual([1, 3]);
    expect(keptOf(x, { topK: 3 })).toEqual([1, 2, 3]);
    expect(keptOf(x, { topK: 0 })).toEqual([0, 1, 2, 3, 4]);
    expect(keptOf(x, { topK: 9 })).toEqual([0, 1, 2, 3, 4]);
  });

  test('top-p keeps the smallest most likely set reaching topP, of the mass top-k kept', () => {
    const x = [0.5, 0.2, 0.15, 0.1, 0.05].map(Math.log); // probabilities 0.5 0.2 0.15 0.1 0.05
    expect(keptOf(x, { topP: 0.45 })).toEqual([0]);
    expect(keptOf(x, { topP: 0.6 })).toEqual([0, 1]);
    expect(keptOf(x, { topP: 0.71 })).toEqual([0, 1, 2]);
    expect(keptOf(x, { topP: 0.999 })).toEqual([0, 1, 2, 3, 4]);
    // after top-k 2 the shares are 0.5/0.7 = 0.714 and 0.286
    expect(keptOf(x, { topK: 2, topP: 0.7 })).toEqual([0]);
    expect(keptOf(x, { topK: 2, topP: 0.75 })).toEqual([0, 1]);
    // tied values are kept or dropped together
    expect(keptOf([2, 1, 2, 0], { topP: 0.3 })).toEqual([0, 2]);
    // temperature reshapes the distribution before top-p: at T=0.5 the shares are 0.735 0.118 0.066 ...
    expect(keptOf(x, { temperature: 0.5, topP: 0.7 })).toEqual([0]);
  });

  test('the draw is the first kept index whose cumulative share exceeds u', () => {
    const x = Float32Array.from([0.3, -1, 2, 0.1, 1.2, -0.4, 0.9]);
    for (let row = 0; row < 200; row++) {
      const t = sampleRow(x, opts({ temperature: 0.8, topK: 5, seed: 3, counter: 9 }), row);
      expect(t.u).toBe(sampleUniform(3, 9, row));
      expect(t.kept[t.id]).toBe(1);
      expect(t.cdf[t.id]).toBeGreaterThan(t.u);
      if (t.id > 0) expect(t.cdf[t.id - 1]).toBeLessThanOrEqual(t.u);
    }
  });

  test('frequencies of 20000 draws match the exact truncated, renormalised softmax', () => {
    const x = [1.0, 0.5, 2.0, -1.0, 0.0, 1.5, -0.5, 0.8];
    const cases: [Partial<SampleOptions>, number[]][] = [
      [{ temperature: 1 }, softmax(x, 1, [0, 1, 2, 3, 4, 5, 6, 7])],
      [{ temperature: 0.7, topK: 3 }, softmax(x, 0.7, [2, 5, 0])],
      // shares at T=1: 0.362 (x=2), 0.219, 0.133, 0.109, 0.081, 0.049 ...: cumulative 0.903 after five
      [{ temperature: 1, topP: 0.9 }, softmax(x, 1, [2, 5, 0, 7, 1])],
    ];
    const B = 20000;
    const logits = new Float32Array(B * x.length);
    for (let b = 0; b < B; b++) logits.set(x, b * x.length);
    const ids = new Uint32Array(B);
    for (const [o, p] of cases) {
      sample(ids, logits, opts({ ...o, seed: 99, counter: 1 }), B, x.length);
      const counts = new Array<number>(x.length).fill(0);
      for (const id of ids) counts[id]++;
      for (let v = 0; v < x.length; v++) {
        if (p[v] === 0) expect(counts[v], `token ${v} is outside the kept set`).toBe(0);
        else expect(Math.abs(counts[v] - B * p[v]), `token ${v}`).toBeLessThan(4.5 * Math.sqrt(B * p[v] * (1 - p[v])));
      }
    }
  });

  test('bad options are refused by name', () => {
    const row = Float32Array.from([1, 2]);
    expect(() => sampleRow(row, opts({ temperature: -1 }), 0)).toThrow(/temperature/);
    expect(() => sampleRow(row, opts({ topP: 0 }), 0)).toThrow(/topP/);
    expect(() => sampleRow(row, opts({ topK: 1.5 }), 0)).toThrow(/topK/);
    expect(() => sampleRow(row, opts({ seed: 2 ** 53 }), 0)).toThrow(/seed/);
  });
});

function softmax(x: number[], temperature: number, keep: number[]): number[] {
  const w = x.map((xi, i) => (keep.includes(i) ? Math.exp(xi / temperature) : 0));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / s);
}
