import { describe, expect, it } from 'vitest';
import { passAtK, passAtKTable } from '../../src/experiments/pass_at_k';

// C(a, b) by the definition, for small hand-checkable cases
function choose(a: number, b: number): number {
  if (b < 0 || b > a) return 0;
  let r = 1;
  for (let i = 1; i <= b; i++) r = (r * (a - b + i)) / i;
  return r;
}

describe('passAtK (Chen et al. 2021)', () => {
  it('matches hand-computed values', () => {
    // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    // n=4, c=1, k=1: c/n = 0.25
    expect(passAtK(4, 1, 1)).toBeCloseTo(0.25, 12);
    // n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252 = 11/12
    expect(passAtK(10, 3, 5)).toBeCloseTo(11 / 12, 12);
    // n=3, c=0: never passes; c=n: always
    expect(passAtK(3, 0, 3)).toBe(0);
    expect(passAtK(3, 3, 1)).toBe(1);
    // n - c < k: every draw of k holds a pass
    expect(passAtK(5, 4, 2)).toBe(1);
  });

  it('k = 1 is c / n, and agrees with the binomial form for every n <= 12', () => {
    for (let n = 1; n <= 12; n++) {
      for (let c = 0; c <= n; c++) {
        expect(passAtK(n, c, 1)).toBeCloseTo(c / n, 12);
        for (let k = 1; k <= n; k++) expect(passAtK(n, c, k)).toBeCloseTo(1 - choose(n - c, k) / choose(n, k), 12);
      }
    }
  });

  it('stays exact where the binomials overflow doubles', () => {
    // C(2000, 1000) is about 2e600: the product form needs none of it. n=2000, c=1, k=1000: 1 - (1999 choose 1000)/(2000 choose 1000) = 1000/2000
    expect(passAtK(2000, 1, 1000)).toBeCloseTo(0.5, 12);
    expect(passAtK(2000, 2, 1000)).toBeCloseTo(1 - (1000 * 999) / (2000 * 1999), 12);
  });

  it('refuses impossible arguments with a message', () => {
    expect(() => passAtK(3, 4, 1)).toThrow(/0 <= c <= n/);
    expect(() => passAtK(3, 1, 4)).toThrow(/1 <= k <= n/);
  });
});

describe('passAtKTable', () => {
  it('averages over prompts, with mean@k over each prompt\'s first k samples', () => {
    const t = passAtKTable([
      [true, false, false], // c=1
      [false, false, false], // c=0
      [true, true, false], // c=2
    ]);
    // pass@1 = (1/3 + 0 + 2/3) / 3 = 1/3
    expect(t['pass@1']).toBeCloseTo(1 / 3, 12);
    // pass@2: c=1 -> 1 - C(2,2)/C(3,2) = 2/3; c=0 -> 0; c=2 -> 1; mean 5/9
    expect(t['pass@2']).toBeCloseTo(5 / 9, 12);
    // pass@3: 1, 0, 1 -> 2/3
    expect(t['pass@3']).toBeCloseTo(2 / 3, 12);
    // mean@1: first samples 1, 0, 1 -> 2/3; mean@2: 1/2, 0, 1 -> 1/2; mean@3 = pass@1
    expect(t['mean@1']).toBeCloseTo(2 / 3, 12);
    expect(t['mean@2']).toBeCloseTo(1 / 2, 12);
    expect(t['mean@3']).toBeCloseTo(1 / 3, 12);
  });

  it('needs the same number of samples per prompt', () => {
    expect(() => passAtKTable([[true], [true, false]])).toThrow(/same number/);
    expect(passAtKTable([])).toEqual({});
  });
});
